"""Server-side apply with the real kubectl (1.27, 1.29, 1.32 and the newest) and the python client.

`kubectl apply --server-side` of a Deployment, a Service and a ConfigMap; a second
manager's conflicting apply refused with the fields named, then forced; a field
dropped from the configuration removed; `kubectl diff --server-side` (a dry-run
apply); the move from client-side apply (`kubectl apply`) to server-side apply
without conflicts, with kubectl's managed-fields migration; and the python client's
apply patch and dynamic client `server_side_apply`.
"""
from __future__ import annotations

import json
import os
import pathlib
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import ApiServerProcess, http

pytestmark = pytest.mark.integration

SDK_BIN = pathlib.Path("/usr/lib/google-cloud-sdk/bin")
INSTALLED = sorted((p.name.split(".", 1)[1] for p in SDK_BIN.glob("kubectl.1.*")),
                   key=lambda v: tuple(int(x) for x in v.split(".")))
VERSIONS = sorted({v for v in ("1.27", "1.29", "1.32") if v in INSTALLED} | set(INSTALLED[-1:]),
                  key=lambda v: tuple(int(x) for x in v.split(".")))

DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {{app: web}}
spec:
{replicas}  selector:
    matchLabels: {{app: web}}
  template:
    metadata:
      labels: {{app: web}}
    spec:
      containers:
      - name: web
        image: {image}
        ports:
        - containerPort: 80
"""

SERVICE = """
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports:
  - port: 80
    targetPort: 8080
"""

CONFIGMAP = """
apiVersion: v1
kind: ConfigMap
metadata: {{name: settings}}
data:
{data}"""


class Kubectl:
    def __init__(self, binary: pathlib.Path, server: ApiServerProcess, namespace: str, tmp: pathlib.Path) -> None:
        self.binary, self.server, self.namespace, self.tmp = binary, server, namespace, tmp

    def __call__(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        env = dict(os.environ, KUBECONFIG=self.server.kubeconfig, KUBECACHEDIR=str(self.tmp / "cache"),
                   HOME=str(self.tmp))
        proc = subprocess.run([str(self.binary), "-n", self.namespace, *args], capture_output=True, text=True,
                              env=env, timeout=60, check=False)
        if check and proc.returncode != 0:
            raise AssertionError(f"{self.binary.name} {' '.join(args)} failed ({proc.returncode}):\n"
                                 f"stdout: {proc.stdout}\nstderr: {proc.stderr}")
        return proc

    def file(self, name: str, text: str) -> str:
        path = self.tmp / name
        path.write_text(text)
        return str(path)

    def get(self, path: str) -> Any:
        return http(self.server, "GET", f"{path}")[1]


@pytest.fixture(params=VERSIONS)
def kubectl(request: pytest.FixtureRequest, apiserver: ApiServerProcess, namespace: str,
            tmp_path: pathlib.Path) -> Iterator[Kubectl]:
    if not VERSIONS:
        pytest.skip("no versioned kubectl under the google-cloud-sdk")
    yield Kubectl(SDK_BIN / f"kubectl.{request.param}", apiserver, namespace, tmp_path)


def managers(obj: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f"{e['manager']}/{e['operation']}": e for e in obj["metadata"].get("managedFields") or []}


def deployment(kubectl: Kubectl) -> Any:
    return kubectl.get(f"/apis/apps/v1/namespaces/{kubectl.namespace}/deployments/web")


def test_apply_server_side_records_the_manager_and_removes_what_is_dropped(kubectl: Kubectl) -> None:
    dep = kubectl.file("d.yaml", DEPLOYMENT.format(replicas="  replicas: 2\n", image="minik8s/busybox:1"))
    assert kubectl("apply", "--server-side", "-f", dep).stdout.strip() == "deployment.apps/web serverside-applied"
    svc = kubectl("apply", "--server-side", "-f", kubectl.file("s.yaml", SERVICE)).stdout
    assert svc.strip() == "service/web serverside-applied"
    cm = kubectl.file("c.yaml", CONFIGMAP.format(data='  a: "1"\n  b: "2"\n'))
    assert kubectl("apply", "--server-side", "-f", cm).stdout.strip() == "configmap/settings serverside-applied"

    stored = deployment(kubectl)
    applied = managers(stored)["kubectl/Apply"]  # kubectl's default --field-manager
    assert applied["apiVersion"] == "apps/v1" and applied["fieldsType"] == "FieldsV1"
    container = applied["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:containers"]['k:{"name":"web"}']
    assert container == {".": {}, "f:image": {}, "f:name": {},
                         "f:ports": {'k:{"containerPort":80,"protocol":"TCP"}': {
                             ".": {}, "f:containerPort": {}}}}
    # --show-managed-fields shows them; plain -o yaml hides them (kubectl's own doing).
    assert "managedFields" in kubectl("get", "deploy", "web", "-o", "yaml", "--show-managed-fields").stdout
    assert "managedFields" not in kubectl("get", "deploy", "web", "-o", "yaml").stdout

    # Dropping replicas and a ConfigMap key from the configuration removes them:
    # nobody else owns them.
    kubectl("apply", "--server-side", "-f", kubectl.file("d2.yaml", DEPLOYMENT.format(
        replicas="", image="minik8s/busybox:1")))
    assert deployment(kubectl)["spec"]["replicas"] == 1  # removed, then defaulted again
    kubectl("apply", "--server-side", "-f", kubectl.file("c2.yaml", CONFIGMAP.format(data='  a: "1"\n')))
    assert kubectl.get(f"/api/v1/namespaces/{kubectl.namespace}/configmaps/settings")["data"] == {"a": "1"}


def test_conflicts_between_two_managers_then_forced(kubectl: Kubectl) -> None:
    kubectl("apply", "--server-side", "-f", kubectl.file("d.yaml", DEPLOYMENT.format(
        replicas="  replicas: 2\n", image="minik8s/busybox:1")))
    other = kubectl.file("o.yaml", DEPLOYMENT.format(replicas="  replicas: 3\n", image="minik8s/web:1"))
    refused = kubectl("apply", "--server-side", "--field-manager=other", "-f", other, check=False)
    assert refused.returncode != 0
    assert 'Apply failed with 2 conflicts: conflicts with "kubectl":' in refused.stderr, refused.stderr
    assert "- .spec.replicas" in refused.stderr
    assert '- .spec.template.spec.containers[name="web"].image' in refused.stderr
    assert "--force-conflicts" in refused.stderr  # kubectl's advice, printed for a 409 with causes
    assert deployment(kubectl)["spec"]["replicas"] == 2

    # The same value co-owns without a conflict.
    same = kubectl.file("s.yaml", DEPLOYMENT.format(replicas="  replicas: 2\n", image="minik8s/busybox:1"))
    kubectl("apply", "--server-side", "--field-manager=third", "-f", same)

    assert "serverside-applied" in kubectl("apply", "--server-side", "--field-manager=other", "--force-conflicts",
                                           "-f", other).stdout
    stored = deployment(kubectl)
    assert stored["spec"]["replicas"] == 3
    assert stored["spec"]["template"]["spec"]["containers"][0]["image"] == "minik8s/web:1"
    owners = managers(stored)
    assert "f:replicas" in owners["other/Apply"]["fieldsV1"]["f:spec"]
    assert "f:replicas" not in owners["kubectl/Apply"]["fieldsV1"]["f:spec"]
    assert "f:replicas" not in owners["third/Apply"]["fieldsV1"]["f:spec"]


def test_diff_server_side_is_a_dry_run_apply(kubectl: Kubectl) -> None:
    kubectl("apply", "--server-side", "-f", kubectl.file("d.yaml", DEPLOYMENT.format(
        replicas="  replicas: 2\n", image="minik8s/busybox:1")))
    before = deployment(kubectl)
    changed = kubectl.file("d2.yaml", DEPLOYMENT.format(replicas="  replicas: 5\n", image="minik8s/busybox:1"))
    diff = kubectl("diff", "--server-side", "-f", changed, check=False)
    assert diff.returncode == 1, diff  # 1: differences found
    assert "-  replicas: 2" in diff.stdout and "+  replicas: 5" in diff.stdout
    assert deployment(kubectl)["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]
    same = kubectl("diff", "--server-side", "-f", kubectl.file("d.yaml", DEPLOYMENT.format(
        replicas="  replicas: 2\n", image="minik8s/busybox:1")), check=False)
    assert same.returncode == 0 and same.stdout == ""


def test_from_client_side_to_server_side_apply(kubectl: Kubectl) -> None:
    kubectl("apply", "-f", kubectl.file("d.yaml", DEPLOYMENT.format(replicas="  replicas: 2\n",
                                                                    image="minik8s/busybox:1")))
    assert "kubectl-client-side-apply/Update" in managers(deployment(kubectl))
    # Values the client-side apply set may be changed by `kubectl apply --server-side`
    # without conflicts; kubectl then moves the ownership to its own manager.
    result = kubectl("apply", "--server-side", "-f", kubectl.file("d2.yaml", DEPLOYMENT.format(
        replicas="  replicas: 4\n", image="minik8s/busybox:1")))
    assert "serverside-applied" in result.stdout and "rejected" not in result.stderr, result.stderr
    stored = deployment(kubectl)
    assert stored["spec"]["replicas"] == 4
    assert "kubectl-client-side-apply/Update" not in managers(stored)
    assert "f:replicas" in managers(stored)["kubectl/Apply"]["fieldsV1"]["f:spec"]


def test_apply_requires_a_field_manager_and_force_only_applies(apiserver: ApiServerProcess, namespace: str) -> None:
    path = f"/api/v1/namespaces/{namespace}/configmaps/x"
    body = json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "data": {"a": "1"}}).encode()
    status, err = http(apiserver, "PATCH", path, body, content_type="application/apply-patch+yaml", check=False)
    assert status == 422 and err["message"] == (
        'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch')
    status, err = http(apiserver, "PATCH", path + "?fieldManager=m&force=true", b"{}",
                       content_type="application/merge-patch+json", check=False)
    assert status == 422 and "force: Forbidden: may not be specified for non-apply patch" in err["message"]
    status, created = http(apiserver, "PATCH", path + "?fieldManager=m", body,
                           content_type="application/apply-patch+yaml")
    assert status == 201 and created["metadata"]["managedFields"][0]["manager"] == "m"
    status, err = http(apiserver, "PATCH", path + "?fieldManager=m", json.dumps(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "y"}}).encode(),
        content_type="application/apply-patch+yaml", check=False)
    assert status == 400 and "does not match the name on the URL" in err["message"]
    # Every write records its manager: here the User-Agent's first part.
    status, updated = http(apiserver, "PATCH", path, b'{"data":{"k":"v"}}', content_type="application/merge-patch+json",
                           headers={"User-Agent": "my-tool/1.0 (linux)"})
    assert {e["manager"] for e in updated["metadata"]["managedFields"]} == {"m", "my-tool"}


def test_python_client_server_side_apply(apiserver: ApiServerProcess, namespace: str) -> None:
    from kubernetes import client, config, dynamic  # the official client

    api = config.new_client_from_config(config_file=apiserver.kubeconfig)
    apps = client.AppsV1Api(api)
    body = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "py"},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "py"}},
                     "template": {"metadata": {"labels": {"app": "py"}},
                                  "spec": {"containers": [{"name": "c", "image": "minik8s/busybox:1"}]}}}}
    created = apps.patch_namespaced_deployment("py", namespace, body, field_manager="py-typed",
                                               _content_type="application/apply-patch+yaml")
    assert created.spec.replicas == 1
    assert [(m.manager, m.operation) for m in created.metadata.managed_fields] == [("py-typed", "Apply")]

    resource = dynamic.DynamicClient(api).resources.get(api_version="apps/v1", kind="Deployment")
    body["spec"]["replicas"] = 2
    with pytest.raises(dynamic.exceptions.ConflictError) as e:
        resource.server_side_apply(body=body, namespace=namespace, field_manager="py-dynamic")
    assert json.loads(e.value.body)["details"]["causes"][0]["field"] == ".spec.replicas"
    forced = resource.server_side_apply(body=body, namespace=namespace, field_manager="py-dynamic",
                                        force_conflicts=True)
    assert forced.spec.replicas == 2
    api.close()
