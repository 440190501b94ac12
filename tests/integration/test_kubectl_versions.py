"""Real kubectl 1.27, 1.29, 1.32 and the newest installed against the API server's schema-driven
OpenAPI, validation and protobuf: apply (Deployment, Service, a v1 List), re-apply (a strategic
merge patch computed from our OpenAPI), explain, strict validation, and protobuf bodies."""
from __future__ import annotations

import os
import pathlib
import subprocess
from collections.abc import Iterator

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
  replicas: {replicas}
  selector:
    matchLabels: {{app: web}}
  template:
    metadata:
      labels: {{app: web}}
    spec:
      containers:
      - name: web
        image: minik8s/busybox:1
        ports:
        - containerPort: {port}
        resources:
          limits: {{cpu: 100m, memory: 32Mi}}
{extra}"""

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

LIST = """
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: listed}
  data: {a: "1"}
- apiVersion: v1
  kind: Service
  metadata: {name: listed}
  spec:
    ports: [{port: 81}]
"""


@pytest.fixture(params=VERSIONS)
def kubectl(request: pytest.FixtureRequest, apiserver: ApiServerProcess, namespace: str,
            tmp_path: pathlib.Path) -> Iterator[Kubectl]:
    if not VERSIONS:
        pytest.skip("no versioned kubectl under the google-cloud-sdk")
    yield Kubectl(SDK_BIN / f"kubectl.{request.param}", apiserver, namespace, tmp_path)


class Kubectl:
    def __init__(self, binary: pathlib.Path, server: ApiServerProcess, namespace: str, tmp: pathlib.Path) -> None:
        self.binary, self.server, self.namespace, self.tmp = binary, server, namespace, tmp
        self.cache = tmp / "cache"  # a fresh discovery and OpenAPI cache per test

    def __call__(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        env = dict(os.environ, KUBECONFIG=self.server.kubeconfig, KUBECACHEDIR=str(self.cache), HOME=str(self.tmp))
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


def test_apply_deployment_service_and_list_at_default_validation(kubectl: Kubectl) -> None:
    dep = kubectl.file("d.yaml", DEPLOYMENT.format(replicas=2, port=80, extra=""))
    assert kubectl("apply", "-f", dep).stdout.strip() == "deployment.apps/web created"
    assert kubectl("apply", "-f", kubectl.file("s.yaml", SERVICE)).stdout.strip() == "service/web created"
    out = kubectl("apply", "-f", kubectl.file("l.yaml", LIST)).stdout
    assert "configmap/listed created" in out and "service/listed created" in out
    # Re-applying a change sends a strategic merge patch kubectl computes from our OpenAPI.
    changed = kubectl.file("d2.yaml", DEPLOYMENT.format(replicas=3, port=8080, extra=""))
    assert kubectl("apply", "-f", changed).stdout.strip() == "deployment.apps/web configured"
    _, stored = http(kubectl.server, "GET", f"/apis/apps/v1/namespaces/{kubectl.namespace}/deployments/web")
    assert stored["spec"]["replicas"] == 3
    assert stored["spec"]["template"]["spec"]["containers"][0]["ports"] == [
        {"containerPort": 8080, "protocol": "TCP"}]
    assert kubectl("apply", "-f", changed).stdout.strip() == "deployment.apps/web unchanged"


def test_strict_validation_refuses_an_unknown_field(kubectl: Kubectl) -> None:
    bad = kubectl.file("bad.yaml", DEPLOYMENT.format(replicas=1, port=80, extra="  bogus: 1\n"))
    for flags in (["--validate=strict"], []):
        result = kubectl("apply", *flags, "-f", bad, check=False)
        assert result.returncode != 0
        assert 'unknown field "spec.bogus"' in result.stderr, result.stderr
    _, deployments = http(kubectl.server, "GET", f"/apis/apps/v1/namespaces/{kubectl.namespace}/deployments")
    assert deployments["items"] == []
    # Warn: stored without the field, with kubectl printing the server's warning.
    result = kubectl("apply", "--validate=warn", "-f", bad)
    assert 'unknown field "spec.bogus"' in result.stderr
    _, stored = http(kubectl.server, "GET", f"/apis/apps/v1/namespaces/{kubectl.namespace}/deployments/web")
    assert "bogus" not in stored["spec"]


def test_explain_shows_nested_fields_and_our_descriptions(kubectl: Kubectl) -> None:
    out = kubectl("explain", "deployment.spec.template.spec.containers").stdout
    assert "KIND:" in out and "Deployment" in out
    assert "A container of a pod: the image to run and how." in out
    for field in ("image", "imagePullPolicy", "livenessProbe", "resources", "volumeMounts"):
        assert f"\n  {field}\t" in out, field
    recursive = kubectl("explain", "deployment.spec", "--recursive").stdout
    for nested in ("template\t", "containers\t", "httpGet\t", "matchExpressions\t"):
        assert nested in recursive, nested
    assert "The desired state of a Service." in kubectl("explain", "service.spec").stdout


def test_protobuf_bodies_from_typed_commands(kubectl: Kubectl) -> None:
    # kubectl 1.31+ sends these as protobuf; older versions as JSON: both must work.
    assert "configmap/pbcm created" in kubectl("create", "configmap", "pbcm", "--from-literal=a=1").stdout
    assert "secret/pbs created" in kubectl("create", "secret", "generic", "pbs", "--from-literal=pw=x").stdout
    assert "deployment.apps/pbd created" in kubectl("create", "deployment", "pbd", "--image=minik8s/busybox:1").stdout
    out = kubectl("describe", "deployment", "pbd").stdout
    assert "Image:" in out and "minik8s/busybox:1" in out
    _, secret = http(kubectl.server, "GET", f"/api/v1/namespaces/{kubectl.namespace}/secrets/pbs")
    assert secret["data"] == {"pw": "eA=="}
    # A typed read of a missing object: the 404 Status comes back in protobuf to 1.31+.
    missing = kubectl("describe", "deployment", "nope", check=False)
    assert missing.returncode != 0
    assert 'Error from server (NotFound): deployments.apps "nope" not found' in missing.stderr
