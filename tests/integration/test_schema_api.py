"""The schema at work in the real API server: protobuf in and out for every served kind, typed
checks and fieldValidation on every write path, OpenAPI endpoints, and the official Python client."""
from __future__ import annotations

import asyncio
import base64
import json
import urllib.error
import urllib.request
from typing import Any

import aiohttp
import orjson
import pytest

from minik8s.api import protobuf, resources
from minik8s.api import identities
from minik8s.client import tls as tls_mod
from minik8s.util import pki
from tests import conftest
from tests.conftest import ApiServerProcess, http

pytestmark = pytest.mark.integration

PROTOBUF = "application/vnd.kubernetes.protobuf"
KUBECTL_ACCEPT = "application/vnd.kubernetes.protobuf,application/json"


def raw_http(server: ApiServerProcess, method: str, path: str, body: bytes | None = None,
             headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    req = urllib.request.Request(server.url + path, data=body, method=method, headers=headers or {})
    try:
        with conftest.opener().open(req, timeout=30) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def warnings_of(server: ApiServerProcess, method: str, path: str, body: Any,
                content_type: str = "application/json") -> tuple[int, list[str], Any]:
    req = urllib.request.Request(server.url + path, data=orjson.dumps(body) if not isinstance(body, bytes) else body,
                                 method=method, headers={"Content-Type": content_type})
    try:
        with conftest.opener().open(req, timeout=30) as resp:
            return resp.status, resp.headers.get_all("Warning") or [], json.loads(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get_all("Warning") or [], json.loads(e.read())


def sample(res: resources.Resource, name: str, namespace: str) -> dict[str, Any]:
    """A small valid object of every served kind."""
    template = {"metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "c", "image": "minik8s/busybox:1",
                                         "resources": {"limits": {"cpu": "100m", "memory": "32Mi"}}}]}}
    selector = {"matchLabels": {"app": name}}
    specs: dict[str, dict[str, Any]] = {
        "Pod": {"spec": template["spec"]},
        "Service": {"spec": {"selector": {"app": name}, "ports": [{"port": 80, "targetPort": "http"}]}},
        "ReplicationController": {"spec": {"replicas": 0, "selector": {"app": name}, "template": template}},
        "Namespace": {},
        "Node": {"spec": {"unschedulable": True}, "status": {"capacity": {"cpu": "2", "memory": "1Gi"}}},
        "Endpoints": {"subsets": [{"addresses": [{"ip": "10.1.2.3"}], "ports": [{"port": 80}]}]},
        "Event": {"involvedObject": {"kind": "Pod", "name": "x", "namespace": namespace}, "reason": "Test",
                  "message": "hello", "type": "Normal", "count": 1, "firstTimestamp": "2024-01-01T00:00:00Z"},
        "ConfigMap": {"data": {"a": "1"}, "binaryData": {"b": "AAEC"}},
        "Secret": {"data": {"pw": "c2VjcmV0"}, "type": "Opaque"},
        "ServiceAccount": {"secrets": [{"name": "s"}], "imagePullSecrets": [{"name": "regcred"}],
                           "automountServiceAccountToken": False},
        "Deployment": {"spec": {"replicas": 0, "selector": selector, "template": template}},
        "ReplicaSet": {"spec": {"replicas": 0, "selector": selector, "template": template}},
        "HorizontalPodAutoscaler": {"spec": {
            "scaleTargetRef": {"kind": "Deployment", "name": name, "apiVersion": "apps/v1"}, "maxReplicas": 3,
            **({"targetCPUUtilizationPercentage": 60} if res.version == "v1" else {"metrics": [
                {"type": "Resource", "resource": {"name": "cpu", "target": {
                    "type": "Utilization", "averageUtilization": 60}}}]})}},
        "CertificateSigningRequest": {"spec": {
            "request": base64.b64encode(pki.make_csr(pki.new_key(), name)).decode(), "signerName": "example.com/x",
            "usages": ["client auth"]}},
        "Lease": {"spec": {"holderIdentity": "me", "leaseDurationSeconds": 15,
                           "renewTime": "2024-01-01T00:00:00.123456Z"}},
        "Role": {"rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}]},
        "ClusterRole": {"rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]},
                                  {"nonResourceURLs": ["/healthz"], "verbs": ["get"]}]},
        "RoleBinding": {"roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "r"},
                        "subjects": [{"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "jane"}]},
        "ClusterRoleBinding": {"roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                           "name": "view"},
                               "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": namespace}]},
        "SelfSubjectAccessReview": {"spec": {"resourceAttributes": {
            "namespace": namespace, "verb": "get", "resource": "pods"}}},
        "SelfSubjectRulesReview": {"spec": {"namespace": namespace}},
        "SubjectAccessReview": {"spec": {"user": "jane", "groups": ["system:authenticated"],
                                         "resourceAttributes": {"namespace": namespace, "verb": "list",
                                                                "resource": "pods"}}},
        "LocalSubjectAccessReview": {"spec": {"user": "jane", "resourceAttributes": {
            "namespace": namespace, "verb": "list", "resource": "pods"}}},
        "Job": {"spec": {"suspend": True, "completions": 2, "parallelism": 1, "backoffLimit": 0,
                         "podFailurePolicy": {"rules": [{"action": "Ignore", "onExitCodes": {
                             "operator": "In", "values": [3, 4]}}]},
                         "template": {**template, "spec": {**template["spec"], "restartPolicy": "Never"}}}},
        "CronJob": {"spec": {"schedule": "0 3 * * *", "timeZone": "Europe/Paris", "suspend": True,
                             "startingDeadlineSeconds": 0, "jobTemplate": {"spec": {"template": {
                                 **template, "spec": {**template["spec"], "restartPolicy": "OnFailure"}}}}}},
        "DaemonSet": {"spec": {"selector": selector, "template": template, "updateStrategy": {
            "type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": "25%"}}}},
        "ControllerRevision": {"revision": 7, "data": {"spec": {"template": {"$patch": "replace", **template}}}},
    }
    if res.group == "events.k8s.io":  # the same kind name as core/v1's Event, in its own shape
        specs["Event"] = {"regarding": {"kind": "Pod", "name": "x", "namespace": namespace}, "reason": "Test",
                          "note": "hello", "type": "Normal", "action": "Testing",
                          "eventTime": "2024-01-01T00:00:00.000000Z", "reportingController": "minik8s.io/test",
                          "reportingInstance": "test-1"}
    if "get" not in res.verbs:  # the reviews: metadata must be empty (but for a local review's namespace)
        return {"apiVersion": res.api_version, "kind": res.kind,
                "metadata": {"namespace": namespace} if res.namespaced else {}, **specs[res.kind]}
    return {"apiVersion": res.api_version, "kind": res.kind, "metadata": {"name": name, "labels": {"t": "pb"}},
            **specs[res.kind]}


def contains(big: Any, small: Any) -> bool:
    if isinstance(small, dict):
        return isinstance(big, dict) and all(k in big and contains(big[k], v) for k, v in small.items())
    if isinstance(small, list):
        return isinstance(big, list) and len(big) == len(small) and all(map(contains, big, small))
    return big == small


@pytest.mark.parametrize("res", resources.RESOURCES, ids=lambda r: f"{r.group or 'core'}-{r.version}-{r.plural}")
def test_protobuf_in_and_out_for_every_served_kind(apiserver: ApiServerProcess, namespace: str,
                                                   res: resources.Resource) -> None:
    name = f"pb-{res.plural[:10]}-{res.version}"
    obj = sample(res, name, namespace)
    collection = res.path(namespace if res.namespaced else None)
    status, headers, body = raw_http(apiserver, "POST", collection, protobuf.encode(obj),
                                     {"Content-Type": PROTOBUF, "Accept": KUBECTL_ACCEPT})
    assert status == 201, body
    assert headers["Content-Type"] == PROTOBUF
    created = protobuf.decode(body)
    if "get" not in res.verbs:  # the reviews: answered, never stored
        assert contains(created, {"kind": res.kind, "spec": obj["spec"]}) and "status" in created, created
        return
    assert contains(created, {k: v for k, v in obj.items() if k != "status"}), created
    try:
        item = res.path(namespace if res.namespaced else None, name)
        _, _, as_json = raw_http(apiserver, "GET", item, headers={"Accept": "application/json"})
        status, headers, as_pb = raw_http(apiserver, "GET", item, headers={"Accept": KUBECTL_ACCEPT})
        assert status == 200 and headers["Content-Type"] == PROTOBUF
        assert protobuf.decode(as_pb) == json.loads(as_json)
        status, _, listed = raw_http(apiserver, "GET", collection + "?labelSelector=t%3Dpb",
                                     headers={"Accept": KUBECTL_ACCEPT})
        lst = protobuf.decode(listed)
        assert status == 200 and lst["kind"] == res.list_kind and lst["metadata"]["resourceVersion"]
        assert [i["metadata"]["name"] for i in lst["items"]] == [name]
    finally:
        status, _, deleted = raw_http(apiserver, "DELETE", res.path(namespace if res.namespaced else None, name),
                                      headers={"Accept": KUBECTL_ACCEPT})
        assert status == 200, deleted


def test_errors_are_protobuf_statuses_when_asked(apiserver: ApiServerProcess, namespace: str) -> None:
    status, headers, body = raw_http(apiserver, "GET", f"/api/v1/namespaces/{namespace}/pods/missing",
                                     headers={"Accept": KUBECTL_ACCEPT})
    assert status == 404 and headers["Content-Type"] == PROTOBUF
    err = protobuf.decode(body)
    assert err["kind"] == "Status" and err["reason"] == "NotFound" and err["code"] == 404
    assert err["details"] == {"name": "missing", "kind": "pods"}


async def test_protobuf_watch_frames(apiserver: ApiServerProcess, namespace: str) -> None:
    cms = resources.must("", "v1", "configmaps")
    # Only this test's ConfigMap: the namespace also holds kube-root-ca.crt.
    url = apiserver.url + cms.path(namespace) + "?watch=true&timeoutSeconds=5&labelSelector=test%3Dw"
    ssl_ctx = tls_mod.client_context(conftest.test_pki().tls())
    async with aiohttp.ClientSession() as session, session.get(url, headers={"Accept": KUBECTL_ACCEPT},
                                                               ssl=ssl_ctx) as resp:
        assert resp.headers["Content-Type"] == "application/vnd.kubernetes.protobuf;stream=watch"
        http(apiserver, "POST", cms.path(namespace), {"metadata": {"name": "w1", "labels": {"test": "w"}},
                                                      "data": {"k": "v"}})
        http(apiserver, "DELETE", cms.path(namespace, "w1"))
        data = b""
        events: list[tuple[str, dict[str, Any]]] = []
        while len(events) < 2:
            chunk = await asyncio.wait_for(resp.content.readany(), 10)
            assert chunk, "the watch ended before the events came"
            data += chunk
            events = protobuf.decode_watch_frames(data)
    assert [(t, o["metadata"]["name"], o["data"]) for t, o in events] == [
        ("ADDED", "w1", {"k": "v"}), ("DELETED", "w1", {"k": "v"})]


# --------------------------------------------------------------------------- typed writes


DEPLOYMENT = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "typed"},
              "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "typed"}},
                       "template": {"metadata": {"labels": {"app": "typed"}},
                                    "spec": {"containers": [{"name": "c", "image": "minik8s/busybox:1"}]}}}}


@pytest.mark.parametrize("path_suffix, content_type, body", [
    ("", "application/merge-patch+json", {"spec": {"replicas": "many"}}),
    ("", "application/strategic-merge-patch+json", {"spec": {"replicas": "many"}}),
    ("", "application/json-patch+json", [{"op": "replace", "path": "/spec/replicas", "value": "many"}]),
    ("/scale", "application/merge-patch+json", {"spec": {"replicas": "many"}}),
    ("/status", "application/merge-patch+json", {"status": {"replicas": "many"}}),
    ("", "application/merge-patch+json", {"spec": {"template": {"spec": {"containers": "notalist"}}}}),
])
def test_ill_typed_patch_results_are_422_and_nothing_changes(apiserver: ApiServerProcess, namespace: str,
                                                            path_suffix: str, content_type: str, body: Any) -> None:
    base = f"/apis/apps/v1/namespaces/{namespace}/deployments"
    _, created = http(apiserver, "POST", base, DEPLOYMENT)
    status, reply = http(apiserver, "PATCH", f"{base}/typed{path_suffix}", body, content_type=content_type,
                         check=False)
    assert status == 422 and reply["reason"] == "Invalid", reply
    assert "json: cannot unmarshal" in reply["message"]
    _, after = http(apiserver, "GET", f"{base}/typed")
    assert after["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]
    assert after["spec"]["replicas"] == 1


@pytest.mark.parametrize("plural, body, message", [
    ("pods", {"metadata": {"name": "p"}, "spec": {"containers": "notalist"}},
     ('Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal string into Go struct field '
      "PodSpec.spec.containers of type []v1.Container")),
    ("services", {"metadata": {"name": "s"}, "spec": {"type": "NodePort", "ports": [{"port": 80, "nodePort": "x"}]}},
     ('Service in version "v1" cannot be handled as a Service: json: cannot unmarshal string into Go struct field '
      "ServicePort.spec.ports.nodePort of type int32")),
    ("pods", {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "i",
                                                                  "resources": {"limits": {"memory": "Mi"}}}]}},
     ('Pod in version "v1" cannot be handled as a Pod: quantities must match the regular expression '
      "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")),
])
def test_ill_typed_creates_are_400_with_gos_message(apiserver: ApiServerProcess, namespace: str, plural: str,
                                                    body: Any, message: str) -> None:
    status, reply = http(apiserver, "POST", f"/api/v1/namespaces/{namespace}/{plural}", body, check=False)
    assert (status, reply["reason"], reply["message"]) == (400, "BadRequest", message)
    _, listed = http(apiserver, "GET", f"/api/v1/namespaces/{namespace}/{plural}")
    assert [i["metadata"]["name"] for i in listed["items"] if i["metadata"]["name"] != "kubernetes"] == []


def test_put_and_status_put_are_typed(apiserver: ApiServerProcess, namespace: str) -> None:
    base = f"/apis/apps/v1/namespaces/{namespace}/deployments"
    _, created = http(apiserver, "POST", base, DEPLOYMENT)
    bad = json.loads(json.dumps(created))
    bad["spec"]["paused"] = "yes"
    status, reply = http(apiserver, "PUT", f"{base}/typed", bad, check=False)
    assert status == 400 and "DeploymentSpec.spec.paused of type bool" in reply["message"]
    bad = json.loads(json.dumps(created))
    bad["status"] = {"replicas": "three"}
    status, reply = http(apiserver, "PUT", f"{base}/typed/status", bad, check=False)
    assert status == 400 and "DeploymentStatus.status.replicas of type int32" in reply["message"]
    status, reply = http(apiserver, "PUT", f"{base}/typed/scale",
                         {"metadata": {"name": "typed"}, "spec": {"replicas": "2"}}, check=False)
    assert status == 400 and reply["message"].startswith('Scale in version "v1" cannot be handled as a Scale')


def test_field_validation_on_create_update_and_patch(apiserver: ApiServerProcess, namespace: str) -> None:
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    cm = {"metadata": {"name": "fv", "labelz": {"a": "b"}}, "data": {"k": "v"}, "extra": 1}
    status, reply = http(apiserver, "POST", base + "?fieldValidation=Strict", cm, check=False)
    assert (status, reply["message"]) == (
        400, 'strict decoding error: unknown field "metadata.labelz", unknown field "extra"')
    status, warnings, created = warnings_of(apiserver, "POST", base, cm)  # default: Warn
    assert status == 201
    assert warnings == ['299 - "unknown field \\"metadata.labelz\\""', '299 - "unknown field \\"extra\\""']
    assert "labelz" not in created["metadata"] and "extra" not in created
    created["extra"] = 2
    status, warnings, updated = warnings_of(apiserver, "PUT", f"{base}/fv?fieldValidation=Ignore", created)
    assert (status, warnings) == (200, []) and "extra" not in updated
    status, warnings, patched = warnings_of(apiserver, "PATCH", f"{base}/fv",
                                            {"data": {"k": "w"}, "extra": 3}, "application/merge-patch+json")
    assert status == 200 and warnings == ['299 - "unknown field \\"extra\\""'] and "extra" not in patched
    status, reply = http(apiserver, "PATCH", f"{base}/fv?fieldValidation=Strict", {"extra": 4},
                         content_type="application/merge-patch+json", check=False)
    assert status == 422 and reply["message"].endswith('strict decoding error: unknown field "extra"')
    status, reply = http(apiserver, "PATCH", f"{base}/fv?fieldValidation=Strict",
                         b'{"data": {"k": "x"}, "data": {"k": "y"}}',
                         content_type="application/merge-patch+json", check=False)
    assert status == 422 and reply["message"].endswith('strict decoding error: duplicate field "data"')
    status, reply = http(apiserver, "POST", base + "?fieldValidation=strict", {"metadata": {"name": "x"}},
                         check=False)
    assert status == 400 and reply["message"].startswith('fieldValidation: Unsupported value: "strict"')
    _, stored = http(apiserver, "GET", f"{base}/fv")
    assert stored["data"] == {"k": "w"} and "extra" not in stored


# --------------------------------------------------------------------------- OpenAPI


def test_openapi_v2_in_json_and_protobuf_with_etags(apiserver: ApiServerProcess) -> None:
    status, headers, body = raw_http(apiserver, "GET", "/openapi/v2")
    assert status == 200 and headers["Content-Type"] == "application/json"
    doc = json.loads(body)
    assert "io.k8s.api.apps.v1.Deployment" in doc["definitions"]
    etag = headers["ETag"]
    status, _, _ = raw_http(apiserver, "GET", "/openapi/v2", headers={"If-None-Match": etag})
    assert status == 304
    status, headers, pb = raw_http(apiserver, "GET", "/openapi/v2", headers={
        "Accept": "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"})
    assert status == 200 and headers["Content-Type"] == "application/octet-stream"
    assert pb[:2] == b"\x0a\x03" and pb[2:5] == b"2.0"  # Document.swagger = "2.0"


def test_openapi_v3_root_and_hashed_documents(apiserver: ApiServerProcess) -> None:
    _, root = http(apiserver, "GET", "/openapi/v3")
    url = root["paths"]["apis/apps/v1"]["serverRelativeURL"]
    assert url.startswith("/openapi/v3/apis/apps/v1?hash=")
    status, headers, body = raw_http(apiserver, "GET", url)
    assert status == 200 and headers["Cache-Control"] == "public, immutable"
    assert headers["ETag"] == f'"{url.rpartition("=")[2]}"'
    doc = json.loads(body)
    assert "/apis/apps/v1/namespaces/{namespace}/deployments/{name}" in doc["paths"]
    status, headers, _ = raw_http(apiserver, "GET", "/openapi/v3/apis/apps/v1?hash=STALE")
    assert status == 200  # urllib followed the 301 to the current hash
    status, _, _ = raw_http(apiserver, "GET", "/openapi/v3/apis/nope/v1")
    assert status == 404


# --------------------------------------------------------------------------- the official Python client


def python_client(server: ApiServerProcess) -> Any:
    kubernetes = pytest.importorskip("kubernetes")
    config = kubernetes.client.Configuration()
    kubernetes.config.load_kube_config(config_file=server.kubeconfig_for(identities.ADMIN, (identities.MASTERS,)),
                                       client_configuration=config)
    return kubernetes.client.ApiClient(config)


def test_official_python_client_crud_patch_and_watch(apiserver: ApiServerProcess, namespace: str) -> None:
    kubernetes = pytest.importorskip("kubernetes")
    api_client = python_client(apiserver)
    apps = kubernetes.client.AppsV1Api(api_client)
    core = kubernetes.client.CoreV1Api(api_client)
    body = kubernetes.client.V1Deployment(
        metadata=kubernetes.client.V1ObjectMeta(name="py", labels={"app": "py"}),
        spec=kubernetes.client.V1DeploymentSpec(
            replicas=2, selector=kubernetes.client.V1LabelSelector(match_labels={"app": "py"}),
            template=kubernetes.client.V1PodTemplateSpec(
                metadata=kubernetes.client.V1ObjectMeta(labels={"app": "py"}),
                spec=kubernetes.client.V1PodSpec(containers=[kubernetes.client.V1Container(
                    name="c", image="minik8s/busybox:1",
                    ports=[kubernetes.client.V1ContainerPort(container_port=80)])]))))
    created = apps.create_namespaced_deployment(namespace, body)
    assert created.spec.template.spec.containers[0].ports[0].container_port == 80
    rv = apps.list_namespaced_deployment(namespace).metadata.resource_version
    patched = apps.patch_namespaced_deployment("py", namespace, {"spec": {"replicas": 3}})
    assert patched.spec.replicas == 3
    # A strategic merge patch (the client's default for a dict) merges containers by name.
    apps.patch_namespaced_deployment("py", namespace, {"spec": {"template": {"spec": {"containers": [
        {"name": "side", "image": "minik8s/busybox:1"}]}}}})
    read = apps.read_namespaced_deployment("py", namespace)
    assert [c.name for c in read.spec.template.spec.containers] == ["side", "c"]
    with pytest.raises(kubernetes.client.ApiException) as info:
        apps.patch_namespaced_deployment("py", namespace, {"spec": {"replicas": "many"}})
    assert info.value.status == 422
    watch = kubernetes.watch.Watch()
    seen = [(e["type"], e["object"].spec.replicas) for e in watch.stream(
        apps.list_namespaced_deployment, namespace, resource_version=rv, timeout_seconds=3)]
    assert seen[:2] == [("MODIFIED", 3), ("MODIFIED", 3)]
    core.create_namespaced_config_map(namespace, kubernetes.client.V1ConfigMap(
        metadata=kubernetes.client.V1ObjectMeta(name="cm"), data={"a": "1"}))
    assert core.read_namespaced_config_map("cm", namespace).data == {"a": "1"}
    apps.delete_namespaced_deployment("py", namespace)
    core.delete_namespaced_config_map("cm", namespace)
    assert [d.metadata.name for d in apps.list_namespaced_deployment(namespace).items] == []
