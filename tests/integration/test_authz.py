"""Authorization on the real API server, etcd and kubectl (1.27, 1.29, 1.32).

Each user has a client certificate of the test PKI (authz_harness), so requests
pass the real authentication chain; every denial is checked twice: the 403 Status the client gets, and that nothing was
written.
"""
from __future__ import annotations

import asyncio
import json
import pathlib
import uuid
from typing import Any, Iterator

import pytest

from minik8s.api import errors
from minik8s.api import resources
from minik8s.client import rest
from minik8s.util import procs
from tests.integration import authz_harness as harness
from tests.integration.authz_harness import InProcessApiServer

pytestmark = pytest.mark.integration

Obj = dict[str, Any]
PODS = resources.must("", "v1", "pods")
NODES = resources.must("", "v1", "nodes")
SECRETS = resources.must("", "v1", "secrets")
CONFIGMAPS = resources.must("", "v1", "configmaps")
NAMESPACES = resources.must("", "v1", "namespaces")
LEASES = resources.must("coordination.k8s.io", "v1", "leases")
RBAC = "rbac.authorization.k8s.io"
ROLES = resources.must(RBAC, "v1", "roles")
ROLE_BINDINGS = resources.must(RBAC, "v1", "rolebindings")
CLUSTER_ROLES = resources.must(RBAC, "v1", "clusterroles")
CLUSTER_ROLE_BINDINGS = resources.must(RBAC, "v1", "clusterrolebindings")
TIMEOUT = 20.0


@pytest.fixture(scope="module")
def server(etcd: procs.EtcdProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessApiServer]:
    s = InProcessApiServer(etcd, tmp_path_factory.mktemp("authz"))
    try:
        yield s
    finally:
        s.stop()


@pytest.fixture
async def admin(server: InProcessApiServer) -> Any:
    c = server.client("admin")
    yield c
    await c.close()


@pytest.fixture
async def ns(server: InProcessApiServer, admin: rest.Client) -> Any:
    name = "authz-" + uuid.uuid4().hex[:6]
    await admin.create(NAMESPACES, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    await asyncio.to_thread(server.wait_for_service_account, name)
    yield name
    await admin.delete(NAMESPACES, name)


def binding(name: str, role_kind: str, role: str, *subjects: tuple[str, str], namespace: str = "") -> Obj:
    meta: Obj = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    return {"apiVersion": f"{RBAC}/v1", "kind": "RoleBinding" if namespace else "ClusterRoleBinding",
            "metadata": meta, "roleRef": {"apiGroup": RBAC, "kind": role_kind, "name": role},
            "subjects": [{"kind": k, "name": n, **({"apiGroup": RBAC} if k != "ServiceAccount" else {})}
                         for k, n in subjects]}


async def eventually_allowed(call: Any, timeout: float = TIMEOUT) -> Any:
    """Grants reach the authorizer through the watch cache: a moment after the write returns."""
    async def attempt() -> Any:
        try:
            return ("ok", await call())
        except errors.StatusError as e:
            if e.code != 403:
                raise
            return None
    return (await procs.wait_for_async(attempt, timeout, what="the grant to take effect"))[1]


async def forbidden(call: Any) -> errors.StatusError:
    with pytest.raises(errors.StatusError) as e:
        await call()
    assert e.value.code == 403, e.value
    assert e.value.reason == "Forbidden"
    return e.value


def raw(server: InProcessApiServer, method: str, path: str, token: str | None = None, body: Any = None,
        headers: dict[str, str] | None = None) -> tuple[int, Any]:
    import urllib.error
    import urllib.request
    hdrs = {"Content-Type": "application/json", **(headers or {})}
    if token and token not in harness.TOKENS:
        hdrs["Authorization"] = f"Bearer {token}"  # not a test user: the authenticator refuses it
    req = urllib.request.Request(server.url + path, method=method, headers=hdrs,
                                 data=json.dumps(body).encode() if body is not None else None)
    try:
        with harness.opener(token).open(req, timeout=10) as resp:
            status, data = resp.status, resp.read()
    except urllib.error.HTTPError as e:
        status, data = e.code, e.read()
    try:
        return status, json.loads(data)
    except ValueError:
        return status, data.decode()


# -- anonymous and unknown users ---------------------------------------------------------------------


def test_anonymous_reads_only_public_info(server: InProcessApiServer) -> None:
    for path in ("/healthz", "/livez", "/readyz", "/version"):
        assert raw(server, "GET", path)[0] == 200, path
    # Issue 13: without credentials, anything else is a 401 (before authorization is asked).
    for path in ("/api", "/api/v1/namespaces/default/secrets", "/apis/rbac.authorization.k8s.io/v1/clusterroles"):
        status, body = raw(server, "GET", path)
        assert status == 401, path
        assert body["kind"] == "Status" and body["reason"] == "Unauthorized"
    # The one object anonymous may read, through kubeadm's Role in kube-public (a joining node
    # reads it before it trusts the server): absent here, so 404, not 401 or 403.
    status, body = raw(server, "GET", "/api/v1/namespaces/kube-public/configmaps/cluster-info")
    assert status == 404 and body["reason"] == "NotFound"
    # An authenticated user with no role gets the authorizer's 403 with Kubernetes' wording.
    status, body = raw(server, "GET", "/api/v1/namespaces/default/secrets", "bob")
    assert status == 403 and body["details"] == {"group": "", "kind": "secrets"}
    assert body["message"] == ('secrets is forbidden: User "bob" cannot list resource "secrets" in API '
                               'group "" in the namespace "default"')


async def test_anonymous_writes_change_nothing(server: InProcessApiServer, admin: rest.Client, ns: str) -> None:
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "root"},
           "spec": {"hostNetwork": True, "containers": [{"name": "c", "image": "minik8s/busybox:1",
                                                          "securityContext": {"privileged": True}}]}}
    status, body = raw(server, "POST", f"/api/v1/namespaces/{ns}/pods", body=pod)
    assert status == 401 and body["reason"] == "Unauthorized"
    assert await admin.get_or_none(PODS, "root", ns) is None
    # A token nobody issued is not anonymous: 401.
    status, body = raw(server, "POST", f"/api/v1/namespaces/{ns}/pods", token="forged", body=pod)
    assert status == 401 and body["reason"] == "Unauthorized"
    assert await admin.get_or_none(PODS, "root", ns) is None


# -- RBAC with kubectl --------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["1.27", "1.29", "1.32"])
async def test_kubectl_rbac_and_can_i(server: InProcessApiServer, admin: rest.Client, ns: str, version: str) -> None:
    def k(token: str | None, *args: str, check: bool = True) -> Any:
        return asyncio.to_thread(server.kubectl, token, *args, version=version, check=check)

    assert (await k("bob", "auth", "can-i", "list", "pods", "-n", ns, check=False)).stdout.strip() == "no"
    denied = await k("bob", "get", "pods", "-n", ns, check=False)
    assert denied.returncode != 0
    assert (f'pods is forbidden: User "bob" cannot list resource "pods" in API group "" in the namespace "{ns}"'
            in denied.stderr)
    await k("admin", "create", "role", "pod-reader", "--verb=get,list,watch", "--resource=pods", "-n", ns)
    await k("admin", "create", "rolebinding", "bob-reads", "--role=pod-reader", "--user=bob", "-n", ns)

    async def can(token: str, *args: str) -> bool:
        out = await k(token, "auth", "can-i", *args, check=False)
        assert out.stdout.strip() in ("yes", "no"), out
        return out.stdout.strip() == "yes" and out.returncode == 0
    await procs.wait_for_async(lambda: can("bob", "list", "pods", "-n", ns), TIMEOUT, what="bob's grant")
    assert (await k("bob", "get", "pods", "-n", ns)).returncode == 0
    # Exactly what the role says: not secrets, not another namespace, not writes.
    assert not await can("bob", "get", "secrets", "-n", ns)
    assert not await can("bob", "list", "pods", "-n", "default")
    assert not await can("bob", "create", "pods", "-n", ns)
    listing = (await k("bob", "auth", "can-i", "--list", "-n", ns)).stdout
    assert any(line.split()[:1] == ["pods"] and "[get list watch]" in line for line in listing.splitlines()), listing
    # An administrator may ask as bob (impersonation); bob may not ask as anyone.
    assert await can("admin", "list", "pods", "-n", ns, "--as", "bob")
    assert not await can("admin", "get", "secrets", "-n", ns, "--as", "bob")
    assert await can("admin", "get", "secrets", "-n", ns)
    as_other = await k("bob", "auth", "can-i", "list", "pods", "-n", ns, "--as", "carol", check=False)
    assert as_other.returncode != 0
    assert 'users "carol" is forbidden: User "bob" cannot impersonate resource "users"' in as_other.stderr
    # Taking the binding away takes the permission away.
    await k("admin", "delete", "rolebinding", "bob-reads", "-n", ns)

    async def cannot() -> bool:
        return not await can("bob", "list", "pods", "-n", ns)
    await procs.wait_for_async(cannot, TIMEOUT, what="the grant to go")


async def test_kubectl_groups_and_service_accounts(server: InProcessApiServer, ns: str) -> None:
    k = lambda *a, check=True: asyncio.to_thread(server.kubectl, *a, check=check)  # noqa: E731
    await k("admin", "create", "clusterrolebinding", f"devs-view-{ns}", "--clusterrole=view", "--group=devs")
    await k("admin", "create", "rolebinding", "robot-edit", "--clusterrole=edit", f"--serviceaccount={ns}:robot",
            "-n", ns)
    try:
        async def yes(*args: str) -> bool:
            return (await k(*args, check=False)).stdout.strip() == "yes"
        await procs.wait_for_async(lambda: yes("alice", "auth", "can-i", "list", "deployments.apps", "-A"),
                                   TIMEOUT, what="the group grant")
        assert not await yes("alice", "auth", "can-i", "get", "secrets", "-n", ns)
        sa = f"system:serviceaccount:{ns}:robot"
        await procs.wait_for_async(lambda: yes("admin", "auth", "can-i", "create", "secrets", "-n", ns, "--as", sa),
                                   TIMEOUT, what="the service account grant")
        assert not await yes("admin", "auth", "can-i", "create", "secrets", "-n", "default", "--as", sa)
        # Impersonating a group grants what the group has.
        assert await yes("admin", "auth", "can-i", "list", "pods", "-n", "default", "--as", "x", "--as-group",
                         "devs")
    finally:
        await k("admin", "delete", "clusterrolebinding", f"devs-view-{ns}", check=False)


def test_kubectl_get_rbac_tables(server: InProcessApiServer) -> None:
    out = server.kubectl("admin", "get", "clusterrolebindings", "-o", "wide").stdout
    header = out.splitlines()[0].split()
    assert header == ["NAME", "ROLE", "AGE", "USERS", "GROUPS", "SERVICEACCOUNTS"]
    row = next(line for line in out.splitlines() if line.startswith("cluster-admin "))
    assert "ClusterRole/cluster-admin" in row and "system:masters" in row
    roles = server.kubectl("admin", "get", "clusterroles").stdout
    assert roles.splitlines()[0].split() == ["NAME", "CREATED", "AT"]
    for name in ("admin", "edit", "view", "cluster-admin", "system:node", "system:kube-scheduler",
                 "system:kube-controller-manager", "system:node-proxier", "system:kube-dns", "system:basic-user",
                 "system:discovery", "system:public-info-viewer", "system:node-bootstrapper"):
        assert any(line.split()[0] == name for line in roles.splitlines()[1:]), name
    resources_out = server.kubectl("admin", "api-resources", "--api-group", RBAC).stdout
    assert {"clusterrolebindings", "clusterroles", "rolebindings", "roles"} <= \
        {line.split()[0] for line in resources_out.splitlines()[1:]}


def test_kubectl_apply_rbac_manifests(server: InProcessApiServer, ns: str) -> None:
    manifest = f"""
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {{name: cm-editor, namespace: {ns}}}
rules:
- apiGroups: [""]
  resources: [configmaps]
  verbs: [get, list]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {{name: carol-cm, namespace: {ns}}}
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: Role, name: cm-editor}}
subjects:
- {{kind: User, name: carol}}
"""
    out = server.kubectl("admin", "apply", "-f", "-", input=manifest).stdout
    assert "role.rbac.authorization.k8s.io/cm-editor created" in out
    procs.wait_for(lambda: server.kubectl("carol", "auth", "can-i", "list", "configmaps", "-n", ns,
                                          check=False).stdout.strip() == "yes", TIMEOUT, what="carol's grant")
    assert server.kubectl("carol", "auth", "can-i", "create", "configmaps", "-n", ns,
                          check=False).stdout.strip() == "no"
    # Re-applied with one more verb: a patch of the rules (by an administrator, who holds them).
    out = server.kubectl("admin", "apply", "-f", "-", input=manifest.replace("[get, list]",
                                                                            "[get, list, create]")).stdout
    assert "role.rbac.authorization.k8s.io/cm-editor configured" in out
    procs.wait_for(lambda: server.kubectl("carol", "auth", "can-i", "create", "configmaps", "-n", ns,
                                          check=False).stdout.strip() == "yes", TIMEOUT, what="the new verb")
    # Changing the roleRef through apply is refused (it cannot change).
    bad = server.kubectl("admin", "apply", "-f", "-", check=False,
                         input=manifest.replace("kind: Role, name: cm-editor", "kind: ClusterRole, name: view"))
    assert bad.returncode != 0 and "cannot change roleRef" in bad.stderr


# -- escalation -------------------------------------------------------------------------------------------


async def test_escalation_prevention(server: InProcessApiServer, admin: rest.Client, ns: str) -> None:
    bob = server.client("bob")
    try:
        await admin.create(ROLE_BINDINGS, binding("bob-admin", "ClusterRole", "admin", ("User", "bob"), namespace=ns))
        # admin of the namespace may hand out edit there: it holds every permission of edit.
        await eventually_allowed(lambda: bob.create(ROLE_BINDINGS, binding(
            "carol-edit", "ClusterRole", "edit", ("User", "carol"), namespace=ns)))
        # ... but not cluster-admin, nor a role granting what it lacks.
        err = await forbidden(lambda: bob.create(ROLE_BINDINGS, binding(
            "carol-root", "ClusterRole", "cluster-admin", ("User", "carol"), namespace=ns)))
        assert "is attempting to grant RBAC permissions not currently held" in err.message
        assert await admin.get_or_none(ROLE_BINDINGS, "carol-root", ns) is None
        nodes_role = {"apiVersion": f"{RBAC}/v1", "kind": "Role", "metadata": {"name": "sneaky", "namespace": ns},
                      "rules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}]}
        await forbidden(lambda: bob.create(ROLES, nodes_role))
        assert await admin.get_or_none(ROLES, "sneaky", ns) is None
        # No cluster-wide grants at all from a namespace admin.
        await forbidden(lambda: bob.create(CLUSTER_ROLE_BINDINGS, binding("x", "ClusterRole", "view",
                                                                          ("User", "carol"))))
        # Adding a subject to an existing binding is a new grant: checked again.
        root = await admin.create(ROLE_BINDINGS, binding("root-here", "ClusterRole", "cluster-admin",
                                                         ("User", "admin"), namespace=ns))
        root["subjects"].append({"kind": "User", "apiGroup": RBAC, "name": "bob"})
        await forbidden(lambda: bob.update(ROLE_BINDINGS, root))
        stored = await admin.get(ROLE_BINDINGS, "root-here", ns)
        assert [s["name"] for s in stored["subjects"]] == ["admin"]
        # The `bind` verb on a named ClusterRole lets bob bind it without holding it.
        await admin.create(CLUSTER_ROLES, {"apiVersion": f"{RBAC}/v1", "kind": "ClusterRole",
                                           "metadata": {"name": f"bind-root-{ns}"},
                                           "rules": [{"verbs": ["bind"], "apiGroups": [RBAC],
                                                      "resources": ["clusterroles"],
                                                      "resourceNames": ["cluster-admin"]}]})
        await admin.create(ROLE_BINDINGS, binding("bob-binds", "ClusterRole", f"bind-root-{ns}", ("User", "bob"),
                                                  namespace=ns))
        await eventually_allowed(lambda: bob.create(ROLE_BINDINGS, binding(
            "carol-root", "ClusterRole", "cluster-admin", ("User", "carol"), namespace=ns)))
    finally:
        await bob.close()
        await admin.delete(CLUSTER_ROLES, f"bind-root-{ns}")


async def test_role_ref_cannot_change(admin: rest.Client, ns: str) -> None:
    rb = await admin.create(ROLE_BINDINGS, binding("fixed", "ClusterRole", "view", ("User", "bob"), namespace=ns))
    rb["roleRef"]["name"] = "edit"
    with pytest.raises(errors.StatusError) as e:
        await admin.update(ROLE_BINDINGS, rb)
    assert e.value.code == 422
    assert e.value.details["causes"][0]["field"] == "roleRef"
    assert (await admin.get(ROLE_BINDINGS, "fixed", ns))["roleRef"]["name"] == "view"
    # The defaulted apiGroups came back on the stored object.
    assert rb["subjects"][0]["apiGroup"] == RBAC


# -- the review resources --------------------------------------------------------------------------------


async def test_access_reviews(server: InProcessApiServer, admin: rest.Client, ns: str) -> None:
    sar = {"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
           "spec": {"user": "bob", "groups": ["system:authenticated"],
                    "resourceAttributes": {"namespace": ns, "verb": "list", "resource": "pods"}}}
    out = await admin.request("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", body=sar)
    assert out["status"] == {"allowed": False}
    await admin.create(ROLE_BINDINGS, binding("bob-admin", "ClusterRole", "admin", ("User", "bob"), namespace=ns))

    async def allowed() -> bool:
        out = await admin.request("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", body=sar)
        return bool(out["status"]["allowed"])
    await procs.wait_for_async(allowed, TIMEOUT, what="the review to see the grant")
    bob = server.client("bob")
    try:
        # Cluster-wide SubjectAccessReviews are for administrators...
        await forbidden(lambda: bob.request("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", body=sar))
        # ... a namespace admin asks in its namespace.
        lsar = {"apiVersion": "authorization.k8s.io/v1", "kind": "LocalSubjectAccessReview",
                "metadata": {"namespace": ns}, "spec": {"user": "carol", "resourceAttributes": {
                    "namespace": ns, "verb": "get", "resource": "pods"}}}
        path = f"/apis/authorization.k8s.io/v1/namespaces/{ns}/localsubjectaccessreviews"
        out = await eventually_allowed(lambda: bob.request("POST", path, body=lsar))
        assert out["kind"] == "LocalSubjectAccessReview" and out["status"]["allowed"] is False
        await forbidden(lambda: bob.request("POST", "/apis/authorization.k8s.io/v1/namespaces/default/"
                                                    "localsubjectaccessreviews",
                                            body={**lsar, "metadata": {"namespace": "default"}}))
        ssrr = await bob.request("POST", "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews",
                                 body={"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectRulesReview",
                                       "spec": {"namespace": ns}})
        assert any("rolebindings" in r.get("resources", []) for r in ssrr["status"]["resourceRules"])
        # Nothing is stored: a review cannot be read back, listed or deleted.
        for method in ("GET", "DELETE", "PUT"):
            status, _ = raw(server, method, "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", "admin",
                            body={} if method == "PUT" else None)
            assert status == 405, method
        status, body = raw(server, "POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", "bob",
                           body={"spec": {}})
        assert status == 422 and body["reason"] == "Invalid"
    finally:
        await bob.close()


# -- nodes: the Node authorizer and NodeRestriction --------------------------------------------------------


def pod_body(name: str, node: str = "", **spec: Any) -> Obj:
    body: Obj = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
                 "spec": {"containers": [{"name": "c", "image": "minik8s/busybox:1"}], **spec}}
    if node:
        body["spec"]["nodeName"] = node
    return body


def node_body(name: str, labels: dict[str, str] | None = None) -> Obj:
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": labels or {}}, "spec": {}}


async def test_kubelets_reach_only_their_own(server: InProcessApiServer, admin: rest.Client, ns: str) -> None:
    n1, n2 = server.client("n1"), server.client("n2")
    try:
        # Their own Node only, without restricted labels.
        await n1.create(NODES, node_body("authz-n1"))
        await forbidden(lambda: n1.create(NODES, node_body("authz-n2")))
        assert await admin.get_or_none(NODES, "authz-n2") is None
        await forbidden(lambda: n2.create(NODES, node_body("authz-n2", {"node-restriction.kubernetes.io/x": "1"})))
        assert await admin.get_or_none(NODES, "authz-n2") is None
        await n2.create(NODES, node_body("authz-n2"))
        await forbidden(lambda: n1.patch(NODES, "authz-n1", {"metadata": {"labels": {
            "node-restriction.kubernetes.io/trusted": "yes"}}}))
        await n1.patch(NODES, "authz-n1", {"metadata": {"labels": {"disk": "ssd"}}})
        await forbidden(lambda: n1.patch(NODES, "authz-n2", {"metadata": {"labels": {"disk": "ssd"}}}))
        await forbidden(lambda: n1.list(NODES))
        assert (await n1.get(NODES, "authz-n1"))["metadata"]["labels"] == {"disk": "ssd"}
        # Their own Lease only.
        lease = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                 "metadata": {"name": "authz-n1", "namespace": "kube-node-lease"},
                 "spec": {"holderIdentity": "authz-n1", "leaseDurationSeconds": 40}}
        await n1.update(LEASES, lease)  # PUT creates a Lease
        other = json.loads(json.dumps(lease).replace("authz-n1", "authz-n2"))
        await forbidden(lambda: n1.update(LEASES, other))
        await forbidden(lambda: n1.create(LEASES, other, "kube-node-lease"))
        assert await admin.get_or_none(LEASES, "authz-n2", "kube-node-lease") is None
        await forbidden(lambda: n1.create(LEASES, {**lease, "metadata": {"name": "authz-n1"}}, ns))

        # Secrets and ConfigMaps: only those of pods bound to the node, only one by one.
        for name in ("s1", "s2"):
            await admin.create(SECRETS, {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name},
                                         "stringData": {"k": "v"}}, ns)
        await admin.create(CONFIGMAPS, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c1"},
                                        "data": {"k": "v"}}, ns)
        await admin.create(PODS, pod_body("p1", volumes=[{"name": "s", "secret": {"secretName": "s1"}}],
                                          containers=[{"name": "c", "image": "minik8s/busybox:1", "env": [
                                              {"name": "X", "valueFrom": {"configMapKeyRef": {"name": "c1",
                                                                                              "key": "k"}}}]}]), ns)
        await forbidden(lambda: n1.get(SECRETS, "s1", ns))  # not bound yet
        await admin.bind(await admin.get(PODS, "p1", ns), "authz-n1")
        await eventually_allowed(lambda: n1.get(SECRETS, "s1", ns))
        assert (await n1.get(CONFIGMAPS, "c1", ns))["data"] == {"k": "v"}
        err = await forbidden(lambda: n2.get(SECRETS, "s1", ns))
        assert "no relationship found between node 'authz-n2' and this object" in err.message
        await forbidden(lambda: n1.get(SECRETS, "s2", ns))
        await forbidden(lambda: n1.list(SECRETS, ns))
        await forbidden(lambda: n1.list(SECRETS))
        one = await n1.list(SECRETS, ns, field_selector="metadata.name=s1")
        assert [s["metadata"]["name"] for s in one["items"]] == ["s1"]
        s1 = await admin.get(SECRETS, "s1", ns)
        await forbidden(lambda: n1.update(SECRETS, {**s1, "data": {}}))

        # Pods: its own through spec.nodeName, its own status, its own deletions.
        mine = await n1.list(PODS, field_selector="spec.nodeName=authz-n1")
        assert [p["metadata"]["name"] for p in mine["items"]] == ["p1"]
        await forbidden(lambda: n1.list(PODS, ns))
        await forbidden(lambda: n1.list(PODS, field_selector="spec.nodeName=authz-n2"))
        p1 = await n1.get(PODS, "p1", ns)
        p1["status"] = {**p1["status"], "phase": "Running"}
        await n1.update_status(PODS, p1)
        p1 = await admin.get(PODS, "p1", ns)
        p1["status"]["phase"] = "Failed"
        await forbidden(lambda: n2.update_status(PODS, p1))
        assert (await admin.get(PODS, "p1", ns))["status"]["phase"] == "Running"
        await admin.create(PODS, pod_body("p2", node="authz-n2"), ns)
        await forbidden(lambda: n1.delete(PODS, "p2", ns, grace_period=0))
        assert await admin.get_or_none(PODS, "p2", ns) is not None
        await forbidden(lambda: n1.create(PODS, pod_body("p3", node="authz-n1"), ns))  # not a mirror pod
        await forbidden(lambda: n1.create(PODS, pod_body("p4", node="authz-n1"), ns, params={"dryRun": "All"}))
        await n2.delete(PODS, "p2", ns, grace_period=0)
        await n1.delete(PODS, "p1", ns, grace_period=0)

        # With its pod gone, the node's access to the pod's secret goes too.
        async def secret_gone() -> bool:
            try:
                await n1.get(SECRETS, "s1", ns)
                return False
            except errors.StatusError as e:
                return e.code == 403
        await procs.wait_for_async(secret_gone, TIMEOUT, what="the edge to go with the pod")
        # A node may not grant itself anything.
        await forbidden(lambda: n1.create(CLUSTER_ROLE_BINDINGS, binding("n1-root", "ClusterRole", "cluster-admin",
                                                                         ("User", "system:node:authz-n1"))))
    finally:
        await n1.close()
        await n2.close()
        for name in ("authz-n1", "authz-n2"):
            await admin.delete(NODES, name) if await admin.get_or_none(NODES, name) else None
        if await admin.get_or_none(LEASES, "authz-n1", "kube-node-lease"):
            await admin.delete(LEASES, "authz-n1", "kube-node-lease")


async def test_impersonation_headers_on_any_request(server: InProcessApiServer, ns: str) -> None:
    # cluster-admin acting as bob gets bob's 403...
    status, body = raw(server, "GET", f"/api/v1/namespaces/{ns}/secrets", "admin",
                       headers={"Impersonate-User": "bob"})
    assert status == 403 and 'User "bob" cannot list resource "secrets"' in body["message"]
    # ... and as a node, the node's view.
    status, body = raw(server, "GET", "/api/v1/nodes", "admin",
                       headers={"Impersonate-User": "system:node:authz-n1", "Impersonate-Group": "system:nodes"})
    assert status == 403 and "only its own Node object" in body["message"]
    # Groups without a user are malformed; bob may not impersonate at all.
    status, body = raw(server, "GET", "/api", "admin", headers={"Impersonate-Group": "system:masters"})
    assert status == 400
    status, body = raw(server, "GET", "/api", "bob", headers={"Impersonate-User": "admin",
                                                              "Impersonate-Group": "system:masters"})
    assert status == 403 and 'cannot impersonate resource "users"' in body["message"]


async def test_exec_by_websocket_needs_create(server: InProcessApiServer, admin: rest.Client, ns: str) -> None:
    """GET on pods/exec (the websocket kubectl opens) is as strong as creating it: both verbs are needed."""
    await admin.create(ROLES, {"apiVersion": f"{RBAC}/v1", "kind": "Role", "metadata": {"name": "peek"},
                               "rules": [{"verbs": ["get"], "apiGroups": [""], "resources": ["pods", "pods/exec"]}]},
                       ns)
    await admin.create(ROLE_BINDINGS, binding("bob-peek", "Role", "peek", ("User", "bob"), namespace=ns))
    bob = server.client("bob")
    try:
        await admin.create(PODS, pod_body("target", node="nowhere"), ns)
        await eventually_allowed(lambda: bob.get(PODS, "target", ns))
        err = await forbidden(lambda: bob.request("GET", f"/api/v1/namespaces/{ns}/pods/target/exec",
                                                  params={"command": "sh"}))
        assert 'cannot create resource "pods/exec"' in err.message
    finally:
        await bob.close()


def test_default_policy_is_reconciled(server: InProcessApiServer) -> None:
    """Edits to a default role are repaired (missing rules back) at the next start; extra rules stay."""
    s, view = raw(server, "GET", "/apis/rbac.authorization.k8s.io/v1/clusterroles/view", "admin")
    assert s == 200 and view["metadata"]["labels"] == {"kubernetes.io/bootstrapping": "rbac-defaults"}
    assert view["metadata"]["annotations"]["rbac.authorization.kubernetes.io/autoupdate"] == "true"
    view["rules"] = view["rules"][1:] + [{"verbs": ["get"], "apiGroups": ["example.io"], "resources": ["things"]}]
    s, _ = raw(server, "PUT", "/apis/rbac.authorization.k8s.io/v1/clusterroles/view", "admin", body=view)
    assert s == 200
    s, _ = raw(server, "DELETE", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/system:basic-user",
               "admin")
    assert s == 200
    from minik8s.apiserver.authz import bootstrap
    asyncio.run_coroutine_threadsafe(bootstrap.reconcile(server.api.registry), server.loop).result(30)
    s, view2 = raw(server, "GET", "/apis/rbac.authorization.k8s.io/v1/clusterroles/view", "admin")
    wanted = bootstrap.role_object(next(r for r in bootstrap.cluster_roles() if r.name == "view"))["rules"]
    assert all(r in view2["rules"] for r in wanted)
    assert {"verbs": ["get"], "apiGroups": ["example.io"], "resources": ["things"]} in view2["rules"]
    s, _ = raw(server, "GET", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/system:basic-user", "admin")
    assert s == 200


async def test_mirror_follows_a_restarted_watch_cache(server: InProcessApiServer, admin: rest.Client) -> None:
    """A watch cache that restarts (etcd compacted past it) drops its watchers: the authorizer's
    mirror lists again and keeps following, so grants made afterwards still take effect."""
    cache = server.api.caches.caches["clusterrolebindings"]
    before = len(cache.watchers)
    server.loop.call_soon_threadsafe(cache._drop_watchers)
    name = "carol-view-" + uuid.uuid4().hex[:6]
    await admin.create(CLUSTER_ROLE_BINDINGS, binding(name, "ClusterRole", "view", ("User", "carol")))
    carol = server.client("carol")
    try:
        await eventually_allowed(lambda: carol.list(PODS, "default"))
        assert len(cache.watchers) >= 1 and before >= 1
    finally:
        await carol.close()
        await admin.delete(CLUSTER_ROLE_BINDINGS, name)


def test_namespace_deletion_skips_create_only_kinds(server: InProcessApiServer) -> None:
    """LocalSubjectAccessReview is namespaced but holds nothing: the namespace controller must not list it."""
    from minik8s.controllers import namespace as namespace_ctrl
    plurals = [r.plural for r in namespace_ctrl.namespaced_resources()]
    assert "localsubjectaccessreviews" not in plurals and "roles" in plurals and "rolebindings" in plurals
    assert pathlib.Path(server.kubeconfig("admin")).exists()
