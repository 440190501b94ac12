"""The real kubectl 1.32 against the real API server (no controllers running here)."""
from __future__ import annotations

import json
import pathlib
import subprocess
import time

import yaml

from tests.conftest import KUBECTL, ApiServerProcess, http, kubectl

POD_YAML = """
apiVersion: v1
kind: Pod
metadata:
  name: {name}
  labels: {{app: {app}}}
spec:
  containers:
  - name: main
    image: minik8s/busybox:1
    command: ["sleep", "3600"]
"""

DEPLOYMENT_YAML = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {{app: web}}
spec:
  replicas: 2
  selector:
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


def write(tmp_path: pathlib.Path, name: str, text: str) -> str:
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def test_get_namespaces(apiserver: ApiServerProcess) -> None:
    out = kubectl(apiserver, "get", "ns").stdout
    for ns in ("default", "kube-system", "kube-public", "kube-node-lease"):
        assert ns in out
    assert out.splitlines()[0].split() == ["NAME", "STATUS", "AGE"]


def test_create_get_wide_and_yaml(apiserver: ApiServerProcess, namespace: str, tmp_path: pathlib.Path) -> None:
    f = write(tmp_path, "pod.yaml", POD_YAML.format(name="x", app="a"))
    assert "pod/x created" in kubectl(apiserver, "-n", namespace, "create", "-f", f).stdout
    wide = kubectl(apiserver, "-n", namespace, "get", "pods", "-o", "wide").stdout.splitlines()
    assert wide[0].split()[:6] == ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP"]
    assert wide[1].split()[:3] == ["x", "0/1", "Pending"]
    doc = yaml.safe_load(kubectl(apiserver, "-n", namespace, "get", "pod", "x", "-o", "yaml").stdout)
    assert doc["metadata"]["name"] == "x" and doc["spec"]["containers"][0]["command"] == ["sleep", "3600"]
    assert doc["metadata"]["uid"]


def test_apply_twice_updates_image_with_strategic_merge(apiserver: ApiServerProcess, namespace: str,
                                                       tmp_path: pathlib.Path) -> None:
    f = write(tmp_path, "d.yaml", DEPLOYMENT_YAML.format(image="minik8s/web:1"))
    assert "deployment.apps/web created" in kubectl(apiserver, "-n", namespace, "apply", "-f", f).stdout
    f = write(tmp_path, "d.yaml", DEPLOYMENT_YAML.format(image="minik8s/web:2"))
    out = kubectl(apiserver, "-n", namespace, "apply", "-f", f).stdout
    assert "deployment.apps/web configured" in out
    d = json.loads(kubectl(apiserver, "-n", namespace, "get", "deploy", "web", "-o", "json").stdout)
    assert d["spec"]["template"]["spec"]["containers"][0]["image"] == "minik8s/web:2"
    assert "kubectl.kubernetes.io/last-applied-configuration" in d["metadata"]["annotations"]
    assert d["metadata"]["generation"] == 2
    # Nothing changed: apply is a no-op.
    assert "unchanged" in kubectl(apiserver, "-n", namespace, "apply", "-f", f).stdout


def test_get_several_kinds_and_all(apiserver: ApiServerProcess, namespace: str, tmp_path: pathlib.Path) -> None:
    kubectl(apiserver, "-n", namespace, "apply", "-f", write(tmp_path, "d.yaml",
                                                             DEPLOYMENT_YAML.format(image="minik8s/web:1")))
    out = kubectl(apiserver, "-n", namespace, "get", "deploy,rs,po,svc").stdout
    assert "deployment.apps/web" in out
    lines = [line for line in out.splitlines() if line.startswith("NAME")]
    assert lines[0].split() == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    out = kubectl(apiserver, "get", "all", "-n", "default").stdout
    assert "service/kubernetes" in out and "ClusterIP" in out and "10.96.0.1" in out and "443/TCP" in out


def test_create_deployment_sends_protobuf(apiserver: ApiServerProcess, namespace: str) -> None:
    out = kubectl(apiserver, "-n", namespace, "create", "deployment", "nginx", "--image=nginx:1.14").stdout
    assert "deployment.apps/nginx created" in out
    d = json.loads(kubectl(apiserver, "-n", namespace, "get", "deploy", "nginx", "-o", "json").stdout)
    assert d["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.14"
    assert d["spec"]["selector"] == {"matchLabels": {"app": "nginx"}}


def test_label_and_set_based_selector(apiserver: ApiServerProcess, namespace: str, tmp_path: pathlib.Path) -> None:
    for name, app in (("pa", "a"), ("pb", "b"), ("pc", "c")):
        kubectl(apiserver, "-n", namespace, "create", "-f", write(tmp_path, f"{name}.yaml",
                                                                  POD_YAML.format(name=name, app=app)))
    assert "pod/pc labeled" in kubectl(apiserver, "-n", namespace, "label", "pod", "pc", "env=prod").stdout
    out = kubectl(apiserver, "-n", namespace, "get", "pods", "-l", "app in (a,b)", "-o", "name").stdout.split()
    assert sorted(out) == ["pod/pa", "pod/pb"]
    out = kubectl(apiserver, "-n", namespace, "get", "pods", "-l", "env=prod", "-o", "name").stdout.split()
    assert out == ["pod/pc"]
    kubectl(apiserver, "-n", namespace, "label", "pod", "pc", "env-")
    assert kubectl(apiserver, "-n", namespace, "get", "pods", "-l", "env", "-o", "name").stdout.strip() == ""


def test_get_watch_prints_a_change(apiserver: ApiServerProcess, namespace: str, tmp_path: pathlib.Path) -> None:
    import os
    env = dict(os.environ, KUBECONFIG=apiserver.kubeconfig, KUBECACHEDIR=apiserver.cache_dir,
               HOME=apiserver.cache_dir)
    proc = subprocess.Popen([KUBECTL, "-n", namespace, "get", "pods", "-w"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    try:
        # Wait until kubectl is watching: its initial (empty) list is printed to stderr.
        deadline = time.monotonic() + 20
        kubectl(apiserver, "-n", namespace, "create", "-f", write(tmp_path, "w.yaml",
                                                                  POD_YAML.format(name="watched", app="w")))
        assert proc.stdout is not None
        seen = ""
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            seen += line
            if "watched" in line:
                break
        assert "watched" in seen
        assert "Pending" in seen
    finally:
        proc.kill()
        proc.communicate()


def test_delete_f(apiserver: ApiServerProcess, namespace: str, tmp_path: pathlib.Path) -> None:
    f = write(tmp_path, "p.yaml", POD_YAML.format(name="gone", app="g"))
    kubectl(apiserver, "-n", namespace, "create", "-f", f)
    assert 'pod "gone" deleted' in kubectl(apiserver, "-n", namespace, "delete", "-f", f).stdout
    status, _ = http(apiserver, "GET", f"/api/v1/namespaces/{namespace}/pods/gone", check=False)
    assert status == 404


def test_bad_input_is_rejected_and_nothing_stored(apiserver: ApiServerProcess, namespace: str,
                                                 tmp_path: pathlib.Path) -> None:
    bad_name = write(tmp_path, "bad.yaml", POD_YAML.format(name="Bad_Name", app="x"))
    r = kubectl(apiserver, "-n", namespace, "create", "-f", bad_name, check=False)
    assert r.returncode != 0
    # kubectl renders a 422 Invalid Status with causes as real Kubernetes' does.
    assert 'The Pod "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name"' in r.stderr
    bad_qty = POD_YAML.format(name="badqty", app="x") + "    resources: {limits: {memory: 12XYZ}}\n"
    r = kubectl(apiserver, "-n", namespace, "apply", "-f", write(tmp_path, "q.yaml", bad_qty), check=False)
    assert r.returncode != 0
    # As kube-apiserver: the quantity fails decoding, a 400 before validation.
    assert "Error from server (BadRequest)" in r.stderr
    assert 'Pod in version "v1" cannot be handled as a Pod: quantities must match the regular expression' in r.stderr
    r = kubectl(apiserver, "-n", namespace, "apply", "-f", write(tmp_path, "m.yaml", "kind: Pod\n  bad: [\n"),
                check=False)
    assert r.returncode != 0 and "error" in r.stderr.lower()
    _, pods = http(apiserver, "GET", f"/api/v1/namespaces/{namespace}/pods")
    assert pods["items"] == []
