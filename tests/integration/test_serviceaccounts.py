"""ServiceAccounts end to end against a real API server and etcd, with the controller
manager's ServiceAccount controllers (the session fixture runs them), the official python
client and kubectl: the `default` ServiceAccount and `kube-root-ca.crt` in every namespace,
ServiceAccount admission of pods, TokenRequest, tokens that authenticate and are
authorized by RBAC like any user, and end when their ServiceAccount or pod goes.
"""
from __future__ import annotations

import re
import uuid
from typing import Any

import kubernetes
import pytest
from kubernetes.client import exceptions as k8s_errors

from minik8s.api import identities
from minik8s.util import procs
from tests import conftest
from tests.conftest import ApiServerProcess, http

MOUNT = "/var/run/secrets/kubernetes.io/serviceaccount"


def admin_api(server: ApiServerProcess) -> kubernetes.client.ApiClient:
    return kubernetes.config.new_client_from_config(config_file=server.kubeconfig)


def token_api(server: ApiServerProcess, token: str) -> kubernetes.client.ApiClient:
    """The official client as a pod would use it: the server, the cluster CA and a bearer token."""
    cfg = kubernetes.client.Configuration()
    cfg.host = server.url
    cfg.ssl_ca_cert = conftest.test_pki().ca_file
    cfg.api_key = {"authorization": token}
    cfg.api_key_prefix = {"authorization": "Bearer"}
    return kubernetes.client.ApiClient(cfg)


def pod(name: str, **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"containers": [{"name": "c", "image": "minik8s/busybox:1"}], **spec}}


def create(server: ApiServerProcess, path: str, body: dict[str, Any], **kw: Any) -> tuple[int, Any]:
    return http(server, "POST", path, body, check=False, **kw)


def token_request(server: ApiServerProcess, namespace: str, account: str, spec: dict[str, Any],
                  **kw: Any) -> tuple[int, Any]:
    return create(server, f"/api/v1/namespaces/{namespace}/serviceaccounts/{account}/token",
                  {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": spec}, **kw)


def whoami(server: ApiServerProcess, token: str) -> int:
    return http(server, "GET", "/api", check=False, user=None, headers={"Authorization": f"Bearer {token}"})[0]


def test_every_namespace_has_default_service_account_and_root_ca(apiserver: ApiServerProcess,
                                                                  namespace: str) -> None:
    ca = conftest.test_pki().ca.cert_pem.decode()
    for ns in ("default", "kube-system", "kube-public", namespace):
        conftest.wait_for_service_account(apiserver, ns)
        procs.wait_for(lambda ns=ns: http(apiserver, "GET", f"/api/v1/namespaces/{ns}/configmaps/kube-root-ca.crt",
                                          check=False)[0] == 200, 30, what=f"{ns}/kube-root-ca.crt")
        _, cm = http(apiserver, "GET", f"/api/v1/namespaces/{ns}/configmaps/kube-root-ca.crt")
        assert cm["data"] == {"ca.crt": ca}
    # Level-triggered: what is deleted or edited is put back.
    _, first = http(apiserver, "GET", f"/api/v1/namespaces/{namespace}/serviceaccounts/default")
    http(apiserver, "DELETE", f"/api/v1/namespaces/{namespace}/serviceaccounts/default")
    procs.wait_for(lambda: (http(apiserver, "GET", f"/api/v1/namespaces/{namespace}/serviceaccounts/default",
                                 check=False)[1].get("metadata") or {}).get("uid") not in (None, first["metadata"]["uid"]),
                   30, what="default ServiceAccount re-made")
    http(apiserver, "PATCH", f"/api/v1/namespaces/{namespace}/configmaps/kube-root-ca.crt",
         {"data": {"ca.crt": "forged"}}, content_type="application/merge-patch+json")
    procs.wait_for(lambda: http(apiserver, "GET", f"/api/v1/namespaces/{namespace}/configmaps/kube-root-ca.crt")[1]
                   ["data"] == {"ca.crt": ca}, 30, what="kube-root-ca.crt restored")


def test_admission_mounts_the_token_volume(apiserver: ApiServerProcess, namespace: str) -> None:
    base = f"/api/v1/namespaces/{namespace}/pods"
    code, created = create(apiserver, base, pod("p", initContainers=[{"name": "i", "image": "minik8s/busybox:1"}]))
    assert code == 201, created
    spec = created["spec"]
    assert spec["serviceAccountName"] == spec["serviceAccount"] == "default"
    volume = spec["volumes"][-1]
    assert re.fullmatch(r"kube-api-access-[bcdfghjklmnpqrstvwxz2456789]{5}", volume["name"])
    assert volume["projected"] == {"defaultMode": 420, "sources": [
        {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
        {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
        {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"apiVersion": "v1",
                                                                      "fieldPath": "metadata.namespace"}}]}}]}
    for c in spec["containers"] + spec["initContainers"]:
        assert {"name": volume["name"], "readOnly": True, "mountPath": MOUNT} in c["volumeMounts"]

    # automountServiceAccountToken: the pod's word wins, then the ServiceAccount's.
    code, created = create(apiserver, base, pod("off", automountServiceAccountToken=False))
    assert code == 201 and not created["spec"].get("volumes"), created
    assert create(apiserver, f"/api/v1/namespaces/{namespace}/serviceaccounts", {
        "metadata": {"name": "quiet"}, "automountServiceAccountToken": False,
        "imagePullSecrets": [{"name": "regcred"}]})[0] == 201
    code, created = create(apiserver, base, pod("quiet", serviceAccountName="quiet"))
    assert code == 201 and not created["spec"].get("volumes"), created
    assert created["spec"]["imagePullSecrets"] == [{"name": "regcred"}]
    code, created = create(apiserver, base, pod("loud", serviceAccountName="quiet", automountServiceAccountToken=True))
    assert code == 201 and created["spec"]["volumes"][0]["name"].startswith("kube-api-access-"), created

    # A container that mounts something at the path keeps it.
    own = pod("own", volumes=[{"name": "mine", "emptyDir": {}}])
    own["spec"]["containers"].append({"name": "d", "image": "minik8s/busybox:1",
                                      "volumeMounts": [{"name": "mine", "mountPath": MOUNT}]})
    code, created = create(apiserver, base, own)
    assert code == 201, created
    mounts = {c["name"]: c.get("volumeMounts") for c in created["spec"]["containers"]}
    assert mounts["d"] == [{"name": "mine", "mountPath": MOUNT}]
    assert mounts["c"][0]["name"].startswith("kube-api-access-")

    # A ServiceAccount that does not exist: refused, nothing stored.
    code, status = create(apiserver, base, pod("ghost", serviceAccountName="ghost"))
    assert code == 403, status
    assert status["message"] == (f'pods "ghost" is forbidden: error looking up service account '
                                 f'{namespace}/ghost: serviceaccount "ghost" not found')
    assert http(apiserver, "GET", f"{base}/ghost", check=False)[0] == 404


def test_token_request_validation(apiserver: ApiServerProcess, namespace: str) -> None:
    code, status = token_request(apiserver, namespace, "nobody", {"audiences": []})
    assert code == 404 and status["reason"] == "NotFound", status
    code, status = token_request(apiserver, namespace, "default", {"audiences": [], "expirationSeconds": 60})
    assert code == 422, status
    assert status["details"]["causes"][0]["field"] == "spec.expirationSeconds"
    code, status = token_request(apiserver, namespace, "default", {
        "boundObjectRef": {"kind": "Secret", "apiVersion": "v1", "name": "x"}})
    assert code == 400, status
    assert create(apiserver, f"/api/v1/namespaces/{namespace}/serviceaccounts", {"metadata": {"name": "other"}})[0] == 201
    assert create(apiserver, f"/api/v1/namespaces/{namespace}/pods", pod("p", serviceAccountName="other"))[0] == 201
    code, status = token_request(apiserver, namespace, "default", {
        "boundObjectRef": {"kind": "Pod", "apiVersion": "v1", "name": "p"}})
    assert code == 400 and "different serviceaccount" in status["message"], status
    code, status = token_request(apiserver, namespace, "other", {
        "boundObjectRef": {"kind": "Pod", "apiVersion": "v1", "name": "p", "uid": str(uuid.uuid4())}})
    assert code == 409, status
    # Nothing is stored: a TokenRequest is answered only.
    assert http(apiserver, "GET", f"/api/v1/namespaces/{namespace}/serviceaccounts")[1]["items"].__len__() == 2


def test_tokens_with_the_official_client_and_rbac(apiserver: ApiServerProcess, namespace: str) -> None:
    admin = kubernetes.client.CoreV1Api(admin_api(apiserver))
    admin.create_namespaced_service_account(namespace, {"metadata": {"name": "robot"}})
    answer = admin.create_namespaced_service_account_token("robot", namespace, {"spec": {
        "audiences": [], "expirationSeconds": 3600}})
    token = answer.status.token
    assert answer.status.expiration_timestamp is not None

    api = kubernetes.client.CoreV1Api(token_api(apiserver, token))
    review = kubernetes.client.AuthenticationV1Api(token_api(apiserver, token)).create_self_subject_review({})
    user = review.status.user_info
    assert user.username == f"system:serviceaccount:{namespace}:robot"
    assert set(user.groups) == {"system:serviceaccounts", f"system:serviceaccounts:{namespace}",
                                "system:authenticated"}
    # A ServiceAccount gets nothing but discovery by default.
    with pytest.raises(k8s_errors.ApiException) as denied:
        api.list_namespaced_pod(namespace)
    assert denied.value.status == 403

    rbac = kubernetes.client.RbacAuthorizationV1Api(admin_api(apiserver))
    rbac.create_namespaced_role(namespace, {"metadata": {"name": "pod-reader"}, "rules": [
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}]})
    rbac.create_namespaced_role_binding(namespace, {
        "metadata": {"name": "robot-reads-pods"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "pod-reader"},
        "subjects": [{"kind": "ServiceAccount", "name": "robot", "namespace": namespace}]})

    def allowed() -> bool:
        try:
            api.list_namespaced_pod(namespace)
            return True
        except k8s_errors.ApiException as e:
            assert e.status == 403
            return False
    procs.wait_for(allowed, 30, what="the RoleBinding takes effect")
    with pytest.raises(k8s_errors.ApiException) as denied:
        api.list_namespaced_pod("default")  # bound in its namespace only
    assert denied.value.status == 403
    with pytest.raises(k8s_errors.ApiException) as denied:
        api.create_namespaced_config_map(namespace, {"metadata": {"name": "x"}})
    assert denied.value.status == 403

    # The token ends with its ServiceAccount (a re-made one has another uid).
    admin.delete_namespaced_service_account("robot", namespace)
    procs.wait_for(lambda: whoami(apiserver, token) == 401, 30, what="the token refused")
    admin.create_namespaced_service_account(namespace, {"metadata": {"name": "robot"}})
    assert whoami(apiserver, token) == 401


def test_kubectl_create_token(apiserver: ApiServerProcess, namespace: str) -> None:
    out = conftest.kubectl(apiserver, "create", "token", "default", "-n", namespace, "--duration", "20m").stdout
    assert whoami(apiserver, out.strip()) == 200


def test_bound_token_ends_with_its_pod(apiserver: ApiServerProcess, namespace: str) -> None:
    code, created = create(apiserver, f"/api/v1/namespaces/{namespace}/pods", pod("p"))
    assert code == 201, created
    code, answer = token_request(apiserver, namespace, "default", {
        "audiences": [], "boundObjectRef": {"kind": "Pod", "apiVersion": "v1", "name": "p"}})
    assert code == 201, answer
    assert answer["spec"]["boundObjectRef"]["uid"] == created["metadata"]["uid"]
    token = answer["status"]["token"]
    assert whoami(apiserver, token) == 200
    http(apiserver, "DELETE", f"/api/v1/namespaces/{namespace}/pods/p?gracePeriodSeconds=0")
    procs.wait_for(lambda: whoami(apiserver, token) == 401, 30, what="the bound token refused")


def test_kubelet_gets_tokens_only_for_its_own_pods(apiserver: ApiServerProcess, namespace: str) -> None:
    base = f"/api/v1/namespaces/{namespace}/pods"
    mine = create(apiserver, base, pod("mine", nodeName="n1"))[1]
    assert create(apiserver, base, pod("theirs", nodeName="n2"))[0] == 201
    node = {"user": identities.node_user("n1"), "groups": (identities.NODES,)}

    def ask(name: str, uid: str | None) -> tuple[int, Any]:
        ref = {"kind": "Pod", "apiVersion": "v1", "name": name, **({"uid": uid} if uid else {})}
        return procs.wait_for(lambda: (lambda r: r if r[0] != 403 or "no relationship" not in r[1]["message"]
                                       else None)(token_request(apiserver, namespace, "default",
                                                                {"audiences": [], "boundObjectRef": ref}, **node)),
                              30, what="the node graph")

    code, answer = ask("mine", mine["metadata"]["uid"])
    assert code == 201, answer
    assert whoami(apiserver, answer["status"]["token"]) == 200
    _, theirs = http(apiserver, "GET", f"{base}/theirs")
    code, status = ask("theirs", theirs["metadata"]["uid"])
    assert code == 403, status
    assert "scheduled on a different node" in status["message"], status
    code, status = token_request(apiserver, namespace, "default", {"audiences": []}, **node)
    assert code == 403, status
