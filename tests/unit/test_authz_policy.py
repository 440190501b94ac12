"""The default policy: each identity may do what its component calls, and no more.

The allowed rows are the calls read off each component's code (its informers,
its writes, its leader election); the denied rows are nearby things it must not
reach (Secrets, other components' Leases, other namespaces, RBAC).
"""
from __future__ import annotations

from typing import Any

import pytest

from minik8s.api import resources
from minik8s.api import kinds as api_kinds
from minik8s.apiserver.authz import authorizer
from minik8s.apiserver.authz import bootstrap
from minik8s.apiserver.authz import graph as graph_mod
from minik8s.apiserver.authz import node
from minik8s.apiserver.authz import rbac
from minik8s.apiserver.authz import user as u

ALLOW = authorizer.Decision.ALLOW


def default_authorizer(*extra: dict[str, Any]) -> tuple[authorizer.Union, rbac.Policy]:
    policy = rbac.Policy()
    for r in bootstrap.cluster_roles() + bootstrap.roles():
        obj = bootstrap.role_object(r)
        (policy.set_role if r.namespace else policy.set_cluster_role)(obj)
    for b in bootstrap.cluster_role_bindings() + bootstrap.role_bindings():
        obj = bootstrap.binding_object(b)
        (policy.set_role_binding if b.namespace else policy.set_cluster_role_binding)(obj)
    for obj in extra:
        {"RoleBinding": policy.set_role_binding, "ClusterRoleBinding": policy.set_cluster_role_binding}[
            obj["kind"]](obj)
    az = authorizer.Union([authorizer.PrivilegedGroups(u.SYSTEM_PRIVILEGED_GROUP),
                           node.NodeAuthorizer(graph_mod.Graph()), rbac.RBACAuthorizer(policy)])
    return az, policy


def who(name: str, *groups: str) -> u.UserInfo:
    return u.UserInfo(name, groups=(*groups, u.ALL_AUTHENTICATED))


CM, SCHED, PROXY, DNS, NET = (who(u.KUBE_CONTROLLER_MANAGER), who(u.KUBE_SCHEDULER), who(u.KUBE_PROXY),
                              who(u.KUBE_DNS), who(u.NETWORK_AGENT))
DNS_SA = who("system:serviceaccount:kube-system:kube-dns", "system:serviceaccounts")
ANON = u.anonymous()
BOB = who("bob")
BOOTSTRAP = who("system:bootstrap:abcdef", u.BOOTSTRAPPERS_GROUP)
NODE = who("system:node:n1", u.NODES_GROUP)


def r(user: u.UserInfo, verb: str, resource: str, namespace: str = "", name: str = "", group: str = "",
      sub: str = "") -> authorizer.Attributes:
    return authorizer.Attributes(user, verb, True, namespace=namespace, api_group=group, resource=resource,
                                 subresource=sub, name=name)


def url(user: u.UserInfo, path: str, verb: str = "get") -> authorizer.Attributes:
    return authorizer.Attributes(user, verb, False, path=path)


LEASES = "coordination.k8s.io"
ALLOWED = [
    # controller manager: informers, the namespace controller, pod/rs/deployment/endpoints/node controllers
    r(CM, "list", "pods"), r(CM, "watch", "replicasets", group="apps"), r(CM, "list", "leases", group=LEASES,
                                                                       namespace="kube-node-lease"),
    r(CM, "list", "secrets", "ns"), r(CM, "delete", "secrets", "ns", "s"), r(CM, "delete", "roles", "ns", "x",
                                                                           "rbac.authorization.k8s.io"),
    r(CM, "create", "pods", "ns"), r(CM, "patch", "pods", "ns", "p"), r(CM, "delete", "pods", "ns", "p"),
    r(CM, "patch", "pods", "ns", "p", sub="status"), r(CM, "patch", "nodes", name="n1"),
    r(CM, "patch", "nodes", name="n1", sub="status"), r(CM, "update", "namespaces", "ns", "ns", sub="finalize"),
    r(CM, "create", "endpoints", "ns"), r(CM, "update", "endpoints", "ns", "svc"),
    r(CM, "create", "replicasets", "ns", group="apps"), r(CM, "update", "replicasets", "ns", "rs", "apps", "status"),
    r(CM, "update", "deployments", "ns", "d", "apps", "status"), r(CM, "patch", "deployments", "ns", "d", "apps"),
    r(CM, "update", "replicationcontrollers", "ns", "rc", sub="status"), r(CM, "create", "events", "ns"),
    r(CM, "patch", "events", "ns", "e"), r(CM, "get", "deployments", "ns", "d", "apps"),
    r(CM, "create", "leases", "kube-system", group=LEASES),
    r(CM, "update", "leases", "kube-system", "kube-controller-manager", LEASES),
    r(CM, "create", "serviceaccounts", "ns"),
    # scheduler
    r(SCHED, "list", "pods"), r(SCHED, "watch", "nodes"), r(SCHED, "create", "pods", "ns", "p", sub="binding"),
    r(SCHED, "patch", "pods", "ns", "p", sub="status"), r(SCHED, "create", "events", "ns"),
    r(SCHED, "get", "leases", "kube-system", "kube-scheduler", LEASES),
    r(SCHED, "update", "leases", "kube-system", "kube-scheduler", LEASES),
    r(SCHED, "create", "leases", "kube-system", group=LEASES),
    # proxy, DNS, network agent
    r(PROXY, "list", "services"), r(PROXY, "watch", "endpoints"),
    r(DNS, "watch", "services"), r(DNS, "list", "endpoints"), r(DNS, "create", "services", "kube-system"),
    r(DNS, "patch", "services", "kube-system", "kube-dns"), r(DNS, "update", "endpoints", "kube-system", "kube-dns"),
    r(DNS, "create", "endpoints", "kube-system"), r(DNS_SA, "list", "services"),
    r(NET, "list", "nodes"), r(NET, "watch", "nodes"), r(NET, "patch", "nodes", name="n2"),
    # node agents learn the live masters (rest.Client.learn_servers)
    r(PROXY, "get", "endpoints", "default", "kubernetes"), r(NET, "get", "endpoints", "default", "kubernetes"),
    r(NODE, "get", "endpoints", "default", "kubernetes"),
    # ... and so do the masters' scheduler and controller manager
    r(SCHED, "get", "endpoints", "default", "kubernetes"), r(CM, "get", "endpoints", "default", "kubernetes"),
    # everyone
    url(ANON, "/healthz"), url(ANON, "/livez"), url(ANON, "/readyz"), url(ANON, "/version"),
    url(BOB, "/api"), url(BOB, "/apis/apps/v1"), url(BOB, "/openapi/v3"), url(BOB, "/version"),
    r(BOB, "create", "selfsubjectaccessreviews", group="authorization.k8s.io"),
    r(BOB, "create", "selfsubjectrulesreviews", group="authorization.k8s.io"),
    r(BOB, "create", "selfsubjectreviews", group="authentication.k8s.io"),
    # joining: a bootstrap token asks for a node certificate
    r(BOOTSTRAP, "create", "certificatesigningrequests", group="certificates.k8s.io"),
    r(BOOTSTRAP, "create", "certificatesigningrequests", group="certificates.k8s.io", sub="nodeclient"),
    r(NODE, "create", "certificatesigningrequests", group="certificates.k8s.io", sub="selfnodeclient"),
    # joining a master: the encrypted control-plane certificates (minik8s.cluster.copycerts)
    r(BOOTSTRAP, "get", "secrets", "kube-system", "minik8s-certs"),
    # the API server's client certificate towards kubelets
    r(who(u.APISERVER_KUBELET_CLIENT), "get", "nodes", name="n1", sub="proxy"),
]

DENIED = [
    r(CM, "create", "secrets", "ns"), r(CM, "update", "secrets", "ns", "s"), r(CM, "create", "rolebindings", "ns",
                                                                             group="rbac.authorization.k8s.io"),
    r(CM, "update", "leases", "kube-system", "kube-scheduler", LEASES), r(CM, "create", "leases", "default",
                                                                         group=LEASES),
    r(CM, "create", "pods", "ns", "p", sub="exec"), r(CM, "create", "nodes"), r(CM, "update", "pods", "ns", "p"),
    r(SCHED, "get", "secrets", "ns", "s"), r(SCHED, "create", "pods", "ns"), r(SCHED, "delete", "pods", "ns", "p"),
    r(SCHED, "update", "leases", "kube-system", "kube-controller-manager", LEASES),
    r(SCHED, "create", "leases", "default", group=LEASES), r(SCHED, "patch", "nodes", name="n1"),
    r(PROXY, "get", "secrets", "ns", "s"), r(PROXY, "create", "services", "ns"), r(PROXY, "list", "pods"),
    r(DNS, "create", "services", "default"), r(DNS, "patch", "services", "kube-system", "other"),
    r(DNS, "update", "endpoints", "default", "kube-dns"), r(DNS, "list", "secrets"),
    r(NET, "list", "pods"), r(NET, "delete", "nodes", name="n1"), r(NET, "get", "secrets", "ns", "s"),
    r(NET, "get", "endpoints", "default", "other"), r(PROXY, "update", "endpoints", "default", "kubernetes"),
    r(SCHED, "get", "endpoints", "default", "other"),
    url(ANON, "/api"), url(ANON, "/metrics"), r(ANON, "create", "selfsubjectaccessreviews",
                                                group="authorization.k8s.io"),
    url(BOB, "/metrics"), r(BOB, "list", "pods", "default"), r(BOB, "create", "subjectaccessreviews",
                                                                group="authorization.k8s.io"),
    r(BOOTSTRAP, "list", "nodes"), r(BOOTSTRAP, "list", "secrets", "kube-system"),
    r(BOOTSTRAP, "get", "secrets", "kube-system", "bootstrap-token-abcdef"),
    r(BOOTSTRAP, "get", "secrets", "default", "minik8s-certs"),
    r(BOOTSTRAP, "update", "secrets", "kube-system", "minik8s-certs"),
    r(BOOTSTRAP, "delete", "secrets", "kube-system", "minik8s-certs"),
    r(NODE, "get", "secrets", "kube-system", "minik8s-certs"),
    r(BOOTSTRAP, "update", "certificatesigningrequests", name="c", group="certificates.k8s.io", sub="approval"),
    # The system:node ClusterRole is bound to nobody: a node gets only the Node authorizer's part.
    r(NODE, "get", "secrets", "ns", "anything"),
    r(NODE, "create", "certificatesigningrequests", group="certificates.k8s.io", sub="nodeclient"),
]


def _id(a: authorizer.Attributes) -> str:
    return f"{a.user.name} {a.verb} {a.resource or a.path}/{a.subresource}"


@pytest.mark.parametrize("attrs", ALLOWED, ids=_id)
def test_allowed(attrs: authorizer.Attributes) -> None:
    az, _ = default_authorizer()
    decision, reason = az.authorize(attrs)
    assert decision is ALLOW, reason


@pytest.mark.parametrize("attrs", DENIED, ids=_id)
def test_denied(attrs: authorizer.Attributes) -> None:
    az, _ = default_authorizer()
    assert az.authorize(attrs)[0] is not ALLOW


def _bind(kind: str, role: str, user: str, namespace: str = "") -> dict[str, Any]:
    meta = {"name": f"{role}-{user}", **({"namespace": namespace} if namespace else {})}
    return {"kind": kind, "metadata": meta, "roleRef": {"apiGroup": rbac.GROUP, "kind": "ClusterRole", "name": role},
            "subjects": [{"kind": "User", "apiGroup": rbac.GROUP, "name": user}]}


def test_user_facing_roles() -> None:
    az, _ = default_authorizer(_bind("RoleBinding", "view", "viewer", "team"),
                               _bind("RoleBinding", "edit", "editor", "team"),
                               _bind("RoleBinding", "admin", "boss", "team"),
                               _bind("ClusterRoleBinding", "cluster-admin", "root"))
    viewer, editor, boss, root = who("viewer"), who("editor"), who("boss"), who("root")
    ok = lambda a: az.authorize(a)[0] is ALLOW  # noqa: E731
    assert ok(r(viewer, "list", "pods", "team")) and ok(r(viewer, "get", "pods", "team", "p", sub="log"))
    assert not ok(r(viewer, "get", "secrets", "team", "s")) and not ok(r(viewer, "create", "pods", "team"))
    assert not ok(r(viewer, "list", "pods", "other"))
    assert ok(r(editor, "get", "secrets", "team", "s")) and ok(r(editor, "create", "pods", "team", "p", sub="exec"))
    assert ok(r(editor, "patch", "deployments", "team", "d", "apps", "scale"))
    assert not ok(r(editor, "create", "rolebindings", "team", group=rbac.GROUP))
    assert ok(r(boss, "create", "rolebindings", "team", group=rbac.GROUP))
    assert ok(r(boss, "create", "localsubjectaccessreviews", "team", group="authorization.k8s.io"))
    assert not ok(r(boss, "create", "clusterrolebindings", group=rbac.GROUP))
    assert not ok(r(boss, "list", "nodes"))
    assert ok(r(root, "impersonate", "users", name="anyone")) and ok(url(root, "/metrics"))
    assert ok(r(who("x", u.SYSTEM_PRIVILEGED_GROUP), "delete", "clusterroles", name="cluster-admin",
                group=rbac.GROUP))


def test_default_objects_are_valid() -> None:
    """Every default role and binding passes the API server's own validation."""
    kinds = {"ClusterRole": "clusterroles", "Role": "roles", "ClusterRoleBinding": "clusterrolebindings",
             "RoleBinding": "rolebindings"}
    objs = [bootstrap.role_object(x) for x in bootstrap.cluster_roles() + bootstrap.roles()] + \
        [bootstrap.binding_object(x) for x in bootstrap.cluster_role_bindings() + bootstrap.role_bindings()]
    for obj in objs:
        api_kinds.validate(resources.must(rbac.GROUP, "v1", kinds[obj["kind"]]), obj)
    names = [o["metadata"]["name"] for o in objs if o["kind"] == "ClusterRole"]
    assert len(names) == len(set(names))
    for b in bootstrap.cluster_role_bindings() + bootstrap.role_bindings():
        pool = bootstrap.cluster_roles() if b.role_kind == "ClusterRole" else bootstrap.roles()
        assert any(x.name == b.role and x.namespace == ("" if b.role_kind == "ClusterRole" else b.namespace)
                   for x in pool), b


def test_reconcile_role_adds_missing_rules_and_keeps_extra() -> None:
    wanted = bootstrap.role_object(next(x for x in bootstrap.cluster_roles() if x.name == "view"))
    existing = {**wanted, "rules": [{"verbs": ["get"], "apiGroups": ["x.io"], "resources": ["things"]}],
                "metadata": {"name": "view", "labels": {"team": "a"}}}
    out = bootstrap.reconcile_role(existing, wanted)
    assert out is not None
    assert out["rules"][0] == {"verbs": ["get"], "apiGroups": ["x.io"], "resources": ["things"]}
    assert out["rules"][1:] == wanted["rules"]
    assert out["metadata"]["labels"] == {"team": "a", **bootstrap.BOOTSTRAP_LABELS}
    assert bootstrap.reconcile_role(out, wanted) is None
    frozen = {**existing, "metadata": {"name": "view", "annotations": {bootstrap.AUTOUPDATE: "false"}}}
    assert bootstrap.reconcile_role(frozen, wanted) is None


def test_reconcile_binding() -> None:
    wanted = bootstrap.binding_object(bootstrap.cluster_role_bindings()[0])
    assert bootstrap.reconcile_binding(wanted, wanted) == ("ok", None)
    extra = {**wanted, "subjects": [{"kind": "User", "apiGroup": rbac.GROUP, "name": "root"}]}
    action, out = bootstrap.reconcile_binding(extra, wanted)
    assert action == "update" and out is not None
    assert [s["name"] for s in out["subjects"]] == ["root", "system:masters"]
    other_ref = {**wanted, "roleRef": {"apiGroup": rbac.GROUP, "kind": "ClusterRole", "name": "view"}}
    assert bootstrap.reconcile_binding(other_ref, wanted)[0] == "replace"
