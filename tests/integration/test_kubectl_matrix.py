"""The kubectl matrix, API part: everyday commands of every installed kubectl (1.27 … newest)
against the API server and controller manager, no pods running.

Each version runs the whole sequence in its own namespace: discovery and client-side
commands, create of each kind, get in every output format, label/annotate, patch, apply
(client- and server-side), diff, replace of each kind, scale, expose, set image,
autoscale, rollout history/undo/pause/resume/restart, describe with events, events,
wait, edit through $EDITOR, run, debug (ephemeral container, --copy-to, node), cordon,
apply -k, delete. The commands that need running pods are in
test_kubectl_matrix_up.py. Results go to build/kubectl-matrix/ (kubectl_matrix.py
renders them into docs/kubectl.md).
"""
from __future__ import annotations

import json
import pathlib
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from tests import conftest
from tests.conftest import ApiServerProcess, http
from tests.integration import kubectl_matrix as km

pytestmark = pytest.mark.integration

VERSIONS = km.installed_versions()
NODE = "matrix-node"

# Steps that fail for reasons outside this branch's reach (kinds other branches serve).
PENDING: dict[str, str] = {}

DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
  labels: {app: app}
spec:
  replicas: REPLICAS
  selector:
    matchLabels: {app: app}
  template:
    metadata:
      labels: {app: app}
    spec:
      containers:
      - name: app
        image: IMAGE
        command: ["sleep", "3600"]
"""

SERVICE = """apiVersion: v1
kind: Service
metadata: {name: app}
spec:
  selector: {app: app}
  ports:
  - port: 80
    targetPort: TARGET
"""

CONFIGMAP = """apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {mode: MODE}
"""

SECRET = """apiVersion: v1
kind: Secret
metadata: {name: creds}
data: {password: PASSWORD}
"""

POD = """apiVersion: v1
kind: Pod
metadata: {name: solo, labels: {role: solo}}
spec:
  containers:
  - name: c
    image: minik8s/busybox:1
"""

KUSTOMIZATION = """configMapGenerator:
- name: generated
  literals: [greeting=hello]
generatorOptions: {disableNameSuffixHash: true}
"""

EDITOR = """#!/bin/sh
# kubectl edit's $EDITOR: change the ConfigMap's value in place.
sed -i 's/^  a: "1"$/  a: "edited"/' "$1"
"""


def _start_controller_manager(apiserver: ApiServerProcess, log: pathlib.Path) -> conftest.ComponentProcess:
    return conftest.controller_manager(apiserver, log, "*").start()


@pytest.fixture(scope="module")
def cluster(apiserver: ApiServerProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServerProcess]:
    """The session's API server with a controller manager and a Node object (no kubelet)."""
    log = tmp_path_factory.mktemp("matrix") / "controller-manager.log"
    cm = _start_controller_manager(apiserver, log)
    http(apiserver, "POST", "/api/v1/nodes", {"apiVersion": "v1", "kind": "Node", "metadata": {
        "name": NODE, "labels": {"kubernetes.io/hostname": NODE}}}, check=False)
    try:
        yield apiserver
    finally:
        cm.stop()
        http(apiserver, "DELETE", f"/api/v1/nodes/{NODE}", check=False)


def revision_wait(deployment: str, revision: int) -> km.Step:
    """Wait until the deployment controller has given `deployment` this revision."""
    return km.Step(f"wait (revision {revision})" + ("" if deployment == "web" else f" ({deployment})"),
                   ["wait", f"--for=jsonpath={{.metadata.annotations.deployment\\.kubernetes\\.io/revision}}={revision}",
                    f"deployment/{deployment}", "--timeout=120s"], km.ok("condition met"), timeout=130)


def _manifests(r: km.Runner) -> None:
    def write(name: str, text: str, **subs: str) -> None:
        for key, value in subs.items():
            text = text.replace(key, value)
        r.file(name, text)
    write("deploy.yaml", DEPLOYMENT, REPLICAS="2", IMAGE="minik8s/busybox:1")
    write("deploy2.yaml", DEPLOYMENT, REPLICAS="3", IMAGE="minik8s/web:1")
    write("svc.yaml", SERVICE, TARGET="8080")
    write("svc2.yaml", SERVICE, TARGET="9090")
    write("cm.yaml", CONFIGMAP, MODE="one")
    write("cm2.yaml", CONFIGMAP, MODE="two")
    write("secret.yaml", SECRET, PASSWORD="b25l")  # base64 of one, two
    write("secret2.yaml", SECRET, PASSWORD="dHdv")
    write("pod.yaml", POD)
    write("kustomize/kustomization.yaml", KUSTOMIZATION)
    editor = r.tmp / "editor.sh"
    editor.write_text(EDITOR)
    editor.chmod(0o755)


def api_steps(r: km.Runner, server: ApiServerProcess) -> list[km.Step]:
    ns = r.namespace

    def get(path: str) -> Any:
        return http(server, "GET", path, check=False)[1]

    def deploy(name: str = "app") -> Any:
        return get(f"/apis/apps/v1/namespaces/{ns}/deployments/{name}")

    def state(check: Any, why: str) -> Any:
        def after() -> str | None:
            try:
                return None if check() else why
            except (KeyError, TypeError, IndexError) as e:
                return f"{why} ({type(e).__name__}: {e})"
        return after

    def yaml_kind(kind: str) -> km.Check:
        return lambda res: None if res.returncode == 0 and yaml.safe_load(res.stdout).get("kind") == kind else \
            f"not a {kind}: {res.stdout[:200]!r} {res.stderr[:200]!r}"

    def json_kind(kind: str) -> km.Check:
        return lambda res: None if res.returncode == 0 and json.loads(res.stdout).get("kind") == kind else \
            f"not a {kind}: {res.stdout[:200]!r} {res.stderr[:200]!r}"

    S = km.Step
    steps = [
        # -- the client, discovery, authorization
        S("version", "version -o json", km.ok('"gitVersion": "v' + r.version, '"gitVersion": "v1.32.0-minik8s"'),
          group="basics"),
        S("cluster-info", "cluster-info", km.matches(r"Kubernetes control plane(\x1b\[0m)? is running at")),
        S("config view", "config view --minify -o jsonpath={.clusters[0].cluster.server}", km.ok(server.url)),
        S("api-versions", "api-versions", km.ok("apps/v1", "events.k8s.io/v1", "autoscaling/v2")),
        S("api-resources", "api-resources", km.matches(r"^deployments\s+deploy\s+apps/v1\s+true\s+Deployment")),
        S("explain", "explain deployment.spec.strategy", km.ok("rollingUpdate", "type")),
        S("auth can-i", "auth can-i create deployments", km.ok("yes")),
        S("auth can-i --list", "auth can-i --list", km.ok("Resources")),
        S("auth whoami", "auth whoami", km.ok("Username")),
        # -- create, one of each kind
        S("create namespace", "create namespace {ns}-extra", km.ok("namespace/{ns}-extra created".replace("{ns}", ns)),
          group="create"),
        S("create configmap", "create configmap cm --from-literal=a=1", km.ok("configmap/cm created")),
        S("create secret", "create secret generic sec --from-literal=p=x", km.ok("secret/sec created")),
        S("create deployment", "create deployment web --image=minik8s/busybox:1 --replicas=2",
          km.ok("deployment.apps/web created")),
        S("create service", "create service clusterip web --tcp=80:8080", km.ok("service/web created")),
        S("create role", "create role reader --verb=get,list --resource=pods", km.ok("role.rbac.authorization.k8s.io/reader created")),
        S("create rolebinding", "create rolebinding reader --role=reader --user=alice",
          km.ok("rolebinding.rbac.authorization.k8s.io/reader created")),
        S("create clusterrole", "create clusterrole {ns}-viewer --verb=get --resource=nodes",
          km.ok("clusterrole.rbac.authorization.k8s.io/{ns}-viewer created".replace("{ns}", ns))),
        S("create job", "create job once --image=minik8s/busybox:1 -- true", km.ok("job.batch/once created")),
        S("create cronjob", "create cronjob tick --image=minik8s/busybox:1 '--schedule=*/5 * * * *' -- true",
          km.ok("cronjob.batch/tick created")),
        S("create -f", "create -f {tmp}/pod.yaml", km.ok("pod/solo created")),
        S("create --dry-run=server", "create deployment ghost --image=minik8s/busybox:1 --dry-run=server",
          km.then(km.ok("deployment.apps/ghost created (server dry run)"),
               state(lambda: get(f"/apis/apps/v1/namespaces/{ns}/deployments/ghost").get("code") == 404,
                     "a dry run stored the object"))),
        # -- get, every output format
        S("get", "get deployments", km.matches(r"^web\s+\d/2\s"), group="get"),
        S("get -o wide", "get deployments -o wide", km.ok("CONTAINERS", "IMAGES", "SELECTOR", "minik8s/busybox:1")),
        S("get -o yaml", "get configmap cm -o yaml", yaml_kind("ConfigMap")),
        S("get -o json", "get configmap cm -o json", json_kind("ConfigMap")),
        S("get -o name", "get configmap cm -o name", km.ok("configmap/cm")),
        S("get -o jsonpath", "get configmap cm -o jsonpath={.data.a}", km.ok("1")),
        S("get -o custom-columns", "get configmap cm -o custom-columns=NAME:.metadata.name,A:.data.a",
          km.matches(r"^NAME\s+A\n^cm\s+1$")),
        S("get -o go-template", "get configmap cm -o go-template={{.data.a}}", km.ok("1")),
        S("get all", "get all", km.ok("deployment.apps/web", "service/web")),
        S("get -l", "get pods -l role=solo", km.ok("solo")),
        S("get --show-labels", "get pod solo --show-labels", km.ok("role=solo")),
        S("get -A", "get configmaps -A", km.ok("NAMESPACE", ns)),
        S("get events.events.k8s.io", "get events.events.k8s.io", km.exits(0)),
        # -- labels, annotations, patches
        S("label", "label deployment web tier=front", km.ok("deployment.apps/web labeled"), group="change"),
        S("label --overwrite", "label deployment web tier=back --overwrite", km.ok("labeled")),
        S("label (remove)", "label deployment web tier-", km.then(km.ok("unlabeled"), state(
            lambda: "tier" not in (deploy("web")["metadata"].get("labels") or {}), "label still there"))),
        S("annotate", "annotate deployment web note=hello", km.ok("deployment.apps/web annotate")),  # 1.27: no -d
        S("patch (strategic)", ["patch", "deployment", "web", "-p", '{"spec":{"replicas":3}}'],
          km.then(km.ok("deployment.apps/web patched"), state(lambda: deploy("web")["spec"]["replicas"] == 3,
                                                          "replicas not 3"))),
        S("patch --type=merge", ["patch", "configmap", "cm", "--type=merge", "-p", '{"data":{"b":"2"}}'],
          km.ok("configmap/cm patched")),
        S("patch --type=json", ["patch", "service", "web", "--type=json", "-p",
                                '[{"op":"replace","path":"/spec/ports/0/port","value":81}]'],
          km.ok("service/web patched")),
        S("scale", "scale deployment web --replicas=1", km.then(km.ok("deployment.apps/web scaled"), state(
            lambda: deploy("web")["spec"]["replicas"] == 1, "replicas not 1"))),
        # Revision 2 exists only if the controller saw the first template before set image
        # changed it (as in Kubernetes): on a busy controller manager it may not have yet.
        revision_wait("web", 1),
        S("set image", "set image deployment/web busybox=minik8s/web:1", km.ok("image updated")),
        revision_wait("web", 2),
        S("rollout history --revision", "rollout history deployment/web --revision=2",
          km.ok("Pod Template", "minik8s/web:1")),
        S("expose", "expose deployment web --name=web-exposed --port=80 --target-port=8080",
          km.ok("service/web-exposed exposed")),
        S("autoscale", "autoscale deployment web --min=1 --max=3 --cpu-percent=50",
          km.ok("horizontalpodautoscaler.autoscaling/web autoscaled")),
    ]
    # -- apply, diff, replace of each kind (client-side and server-side)
    for kind, first, second, name, res in (("deployment", "deploy.yaml", "deploy2.yaml", "app", "deployment.apps"),
                                             ("service", "svc.yaml", "svc2.yaml", "app", "service"),
                                             ("configmap", "cm.yaml", "cm2.yaml", "settings", "configmap"),
                                             ("secret", "secret.yaml", "secret2.yaml", "creds", "secret")):
        g = f"apply, diff, replace: {kind}"
        steps += [
            S(f"apply -f ({kind})", f"apply -f {{tmp}}/{first}", km.ok(f"{res}/{name} created"), group=g),
            # rollout undo needs two revisions: the controller must see each template before the next.
            *([revision_wait("app", 1)] if kind == "deployment" else []),
            S(f"apply -f again ({kind})", f"apply -f {{tmp}}/{first}", km.ok(f"{res}/{name} unchanged")),
            S(f"diff ({kind})", f"diff -f {{tmp}}/{second}", km.exits(1, "diff -u -N")),
            S(f"apply -f changed ({kind})", f"apply -f {{tmp}}/{second}", km.ok(f"{res}/{name} configured")),
            *([revision_wait("app", 2)] if kind == "deployment" else []),
            S(f"diff, no change ({kind})", f"diff -f {{tmp}}/{second}", km.exits(0)),
            S(f"replace -f ({kind})", f"replace -f {{tmp}}/{first}", km.ok(f"{res}/{name} replaced")),
            S(f"apply --server-side ({kind})", f"apply --server-side --force-conflicts -f {{tmp}}/{second}",
              km.ok(f"{res}/{name} serverside-applied")),
            S(f"diff --server-side ({kind})", f"diff --server-side --force-conflicts -f {{tmp}}/{first}",
              km.exits(1, "diff -u -N")),
        ]
    steps += [
        S("apply -k", "apply -k {tmp}/kustomize", km.ok("configmap/generated created"), group="apply, diff, replace"),
        # -- rollouts (the deployment controller's ReplicaSets and revisions)
        S("rollout history", "rollout history deployment/app", km.ok("REVISION"), group="rollout"),
        S("rollout undo", "rollout undo deployment/app", km.ok("deployment.apps/app rolled back")),
        S("rollout pause", "rollout pause deployment/app", km.ok("deployment.apps/app paused")),
        S("rollout resume", "rollout resume deployment/app", km.ok("deployment.apps/app resumed")),
        S("rollout restart", "rollout restart deployment/app", km.then(km.ok("deployment.apps/app restarted"), state(
            lambda: "kubectl.kubernetes.io/restartedAt" in deploy()["spec"]["template"]["metadata"]["annotations"],
            "no restartedAt annotation"))),

        # -- describe, events, wait
        S("describe deployment", "describe deployment app", km.ok("Name:", "app", "Events:", "ScalingReplicaSet"),
          group="describe, events, wait"),
        S("describe service", "describe service app", km.ok("Selector:", "app=app")),
        S("describe configmap", "describe configmap settings", km.ok("Data", "mode")),
        S("events", "events", km.ok("ScalingReplicaSet")),
        S("events --for", "events --for deployment/app", km.ok("ScalingReplicaSet", "Deployment/app")),
        S("events --types=Warning", "events --types=Warning", km.exits(0)),
        S("wait --for=jsonpath", "wait --for=jsonpath={.spec.replicas}=1 deployment/web --timeout=120s",
          km.ok("condition met"), timeout=130),
        S("wait --for=condition", "wait --for=condition=Progressing deployment/app --timeout=120s",
          km.ok("condition met"), timeout=130),
        S("delete --wait=false", "delete configmap settings --wait=false", km.ok('configmap "settings" deleted')),
        S("wait --for=delete", "wait --for=delete configmap/settings --timeout=120s", km.exits(0), timeout=130),
        # -- edit through $EDITOR
        S("edit", "edit configmap cm", km.then(km.ok("configmap/cm edited"), state(
            lambda: get(f"/api/v1/namespaces/{ns}/configmaps/cm")["data"]["a"] == "edited", "not edited")),
          env={"EDITOR": "{tmp}/editor.sh"}, group="edit, run, debug"),
        S("edit (no change)", "edit configmap cm", km.exits(0, "Edit cancelled, no changes made.", stream="stderr"),
          env={"EDITOR": "{tmp}/editor.sh"}),
        # -- run, debug
        S("run", "run runner --image=minik8s/busybox:1 --restart=Never --env=A=1 --labels=who=runner --port=80 "
                 "--command -- sleep 3600",
          km.then(km.ok("pod/runner created"), state(lambda: (
              (p := get(f"/api/v1/namespaces/{ns}/pods/runner"))["spec"]["restartPolicy"] == "Never"
              and p["spec"]["containers"][0]["command"] == ["sleep", "3600"]
              and p["spec"]["containers"][0]["env"] == [{"name": "A", "value": "1"}]
              and p["spec"]["containers"][0]["ports"][0]["containerPort"] == 80
              and p["metadata"]["labels"] == {"who": "runner"}), "pod not as asked"))),
        S("run --expose", "run exposed --image=minik8s/web:1 --port=80 --expose",
          km.ok("service/exposed created", "pod/exposed created")),
        S("run --dry-run=client -o yaml", "run dry --image=minik8s/busybox:1 --dry-run=client -o yaml",
          yaml_kind("Pod")),
        S("debug (ephemeral container)", "debug runner --image=minik8s/busybox:1 -c debugger --attach=false",
          km.then(km.exits(0), state(lambda: get(f"/api/v1/namespaces/{ns}/pods/runner")["spec"][
              "ephemeralContainers"][0]["name"] == "debugger", "no ephemeral container"))),
        S("debug --copy-to", "debug runner --copy-to=runner-copy --image=minik8s/busybox:1 -c copy --attach=false",
          km.then(km.exits(0), state(lambda: [c["name"] for c in get(
              f"/api/v1/namespaces/{ns}/pods/runner-copy")["spec"]["containers"]] == ["runner", "copy"],
              "no copy with the debug container"))),
        S("debug node", f"debug node/{NODE} --image=minik8s/busybox:1 --attach=false",
          km.then(km.exits(0), state(lambda: any(
              p["spec"].get("nodeName") == NODE and p["spec"].get("hostPID")
              for p in get(f"/api/v1/namespaces/{ns}/pods")["items"]), "no node debugging pod"))),
        # -- nodes
        S("cordon", f"cordon {NODE}", km.ok(f"node/{NODE} cordoned"), group="nodes"),
        S("uncordon", f"uncordon {NODE}", km.ok(f"node/{NODE} uncordoned")),
        # -- delete
        S("delete", "delete deployment web", km.ok('deployment.apps "web" deleted'), group="delete"),
        S("delete -f", "delete -f {tmp}/pod.yaml --grace-period=0", km.ok('pod "solo" deleted')),
        S("delete -l", "delete configmaps -l app.kubernetes.io/none!=x --field-selector=metadata.name=cm",
          km.ok('configmap "cm" deleted')),
        S("delete clusterrole", "delete clusterrole {ns}-viewer", km.ok("deleted")),
        S("delete namespace", "delete namespace {ns}-extra --wait=false", km.ok('namespace "{ns}-extra" deleted'.replace(
            "{ns}", ns))),
    ]
    return steps


@pytest.mark.parametrize("version", VERSIONS)
def test_kubectl_matrix_api(cluster: ApiServerProcess, tmp_path: pathlib.Path, version: str) -> None:
    namespace = f"m{version.replace('.', '')}-{uuid.uuid4().hex[:5]}"
    http(cluster, "POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                                  "metadata": {"name": namespace}})
    try:
        runner = km.Runner(version, cluster.kubeconfig, namespace, tmp_path, {"node": NODE})
        _manifests(runner)
        outcomes = km.run_steps(runner, api_steps(runner, cluster), PENDING)
        km.record("api", version, outcomes)
    finally:
        http(cluster, "DELETE", f"/api/v1/namespaces/{namespace}", check=False)
        http(cluster, "DELETE", f"/api/v1/namespaces/{namespace}-extra", check=False)
        http(cluster, "DELETE", f"/apis/rbac.authorization.k8s.io/v1/clusterroles/{namespace}-viewer", check=False)
    assert len(outcomes) >= 50
    assert not km.failures(outcomes), "\n".join(km.failures(outcomes))
