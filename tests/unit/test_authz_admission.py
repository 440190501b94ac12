"""The registry's write hook: NodeRestriction (after Kubernetes' noderestriction
admission_test.go) and RBAC escalation prevention (after pkg/registry/rbac)."""
from __future__ import annotations

import copy
from typing import Any

import pytest

from minik8s.api import errors
from minik8s.api import resources
from minik8s.apiserver.authz import admission
from minik8s.apiserver.authz import authorizer
from minik8s.apiserver.authz import context
from minik8s.apiserver.authz import escalation
from minik8s.apiserver.authz import noderestriction as nr
from minik8s.apiserver.authz import rbac
from minik8s.apiserver.authz import user as u
from tests.unit.test_authz_policy import default_authorizer

PODS = resources.must("", "v1", "pods")
NODES = resources.must("", "v1", "nodes")
LEASES = resources.must("coordination.k8s.io", "v1", "leases")
SECRETS = resources.must("", "v1", "secrets")
ROLES = resources.must(rbac.GROUP, "v1", "roles")
CLUSTER_ROLES = resources.must(rbac.GROUP, "v1", "clusterroles")
ROLE_BINDINGS = resources.must(rbac.GROUP, "v1", "rolebindings")
CLUSTER_ROLE_BINDINGS = resources.must(rbac.GROUP, "v1", "clusterrolebindings")

NODE1 = u.UserInfo("system:node:n1", groups=(u.NODES_GROUP, u.ALL_AUTHENTICATED))


def pod(name: str = "p", node: str = "n1", labels: dict[str, str] | None = None, **meta: Any) -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": "ns", "labels": labels or {}, **meta},
            "spec": {"nodeName": node, "containers": [{"name": "c", "image": "i"}]}}


def node_obj(name: str = "n1", labels: dict[str, str] | None = None, taints: list[Any] | None = None) -> dict[str, Any]:
    obj: dict[str, Any] = {"metadata": {"name": name, "labels": labels or {}}, "spec": {}}
    if taints is not None:
        obj["spec"]["taints"] = taints
    return obj


def mirror_pod(**changes: Any) -> dict[str, Any]:
    p = pod(annotations={nr.MIRROR_POD_ANNOTATION: "x"},
            ownerReferences=[{"apiVersion": "v1", "kind": "Node", "name": "n1", "uid": "1", "controller": True}])
    for path, value in changes.items():
        target = p
        *head, last = path.split("__")
        for key in head:
            target = target[key]
        target[last] = value
    return p


def forbids(user: u.UserInfo, verb: str, res: resources.Resource, sub: str | None, old: Any, new: Any) -> str | None:
    err = nr.admit(user, verb, res, sub, old, new)
    if err is None:
        return None
    assert err.code == 403 and err.reason == "Forbidden"
    return err.message


OTHER = "node-restriction.kubernetes.io/trusted"


@pytest.mark.parametrize("verb,res,sub,old,new,why", [
    # pods: status of its own only, and not their labels
    ("update", PODS, "status", pod(), pod(), None),
    ("update", PODS, "status", pod(node="n2"), pod(node="n2"), "can only update pod status for pods with "
                                                              "spec.nodeName set to itself"),
    ("update", PODS, "status", pod(), pod(labels={"a": "b"}), "cannot update labels through pod status"),
    ("update", PODS, "status", pod(labels={"a": "b"}), {"metadata": {"name": "p", "namespace": "ns"},
                                                        "status": {"phase": "Running"}}, None),
    ("update", PODS, "status", pod(node=""), pod(node=""), "can only update pod status"),
    # pods: delete (and evict) its own only
    ("delete", PODS, None, pod(), None, None),
    ("delete", PODS, None, pod(node="n2"), None, "can only delete pods with spec.nodeName set to itself"),
    ("delete", PODS, None, pod(node=""), None, "can only delete pods"),
    ("update", PODS, "eviction", pod(node="n2"), pod(node="n2"), "can only evict pods"),
    # pods: no spec updates, no unknown subresources
    ("update", PODS, None, pod(), pod(labels={"a": "b"}), 'unexpected operation "update"'),
    ("update", PODS, "binding", pod(), pod(), "unexpected pod subresource"),
    # pods: mirror pods only, bound to itself, owned by its Node, referencing nothing
    ("create", PODS, None, None, mirror_pod(), None),
    ("create", PODS, None, None, pod(), 'does not have "kubernetes.io/config.mirror" annotation'),
    ("create", PODS, None, None, mirror_pod(spec__nodeName="n2"), "can only create pods with spec.nodeName set "
                                                                  "to itself"),
    ("create", PODS, None, None, mirror_pod(metadata__ownerReferences=[]), "single owner reference"),
    ("create", PODS, None, None, mirror_pod(metadata__ownerReferences=[
        {"apiVersion": "v1", "kind": "Node", "name": "n2", "uid": "1", "controller": True}]),
     "owner reference set to itself"),
    ("create", PODS, None, None, mirror_pod(metadata__ownerReferences=[
        {"apiVersion": "v1", "kind": "Node", "name": "n1", "uid": "1"}]), "controller owner reference"),
    ("create", PODS, None, None, mirror_pod(metadata__ownerReferences=[
        {"apiVersion": "v1", "kind": "Node", "name": "n1", "uid": "1", "controller": True,
         "blockOwnerDeletion": True}]), "must not set blockOwnerDeletion"),
    ("create", PODS, None, None, mirror_pod(spec__serviceAccountName="default"), "reference a service account"),
    ("create", PODS, None, None, mirror_pod(spec__volumes=[{"name": "v", "secret": {"secretName": "s"}}]),
     "reference secrets"),
    ("create", PODS, None, None, mirror_pod(spec__volumes=[{"name": "v", "configMap": {"name": "c"}}]),
     "reference configmaps"),
    ("create", PODS, None, None, mirror_pod(spec__volumes=[{"name": "v", "persistentVolumeClaim": {
        "claimName": "c"}}]), "reference persistentvolumeclaims"),
    # nodes: its own, no node-restriction labels, no taint changes
    ("create", NODES, None, None, node_obj(labels={"kubernetes.io/hostname": "n1"}), None),
    ("create", NODES, None, None, node_obj("n2"), 'is not allowed to modify node "n2"'),
    ("create", NODES, None, None, node_obj(labels={OTHER: "yes"}), "not allowed to set the following labels: "
                                                                   + OTHER),
    ("create", NODES, None, None, node_obj(labels={"sub.node-restriction.kubernetes.io/x": "y"}),
     "not allowed to set the following labels"),
    ("create", NODES, None, None, node_obj(taints=[{"key": "k", "effect": "NoSchedule"}]), None),
    ("update", NODES, None, node_obj(), node_obj(labels={"role": "web"}), None),
    ("update", NODES, None, node_obj(), node_obj(labels={OTHER: "yes"}), "is not allowed to modify labels: " + OTHER),
    ("update", NODES, None, node_obj(labels={OTHER: "yes"}), node_obj(), "is not allowed to modify labels"),
    ("update", NODES, None, node_obj(labels={OTHER: "a"}), node_obj(labels={OTHER: "b"}),
     "not allowed to modify labels"),
    ("update", NODES, None, node_obj(labels={OTHER: "a"}), node_obj(labels={OTHER: "a", "x": "y"}), None),
    ("update", NODES, None, node_obj(), node_obj(taints=[{"key": "k", "effect": "NoSchedule"}]),
     "is not allowed to modify taints"),
    ("update", NODES, None, node_obj("n2"), node_obj("n2"), 'is not allowed to modify node "n2"'),
    # /status: only status changes there, whatever (possibly older) labels the body carries
    ("update", NODES, "status", node_obj(labels={OTHER: "a"}), node_obj(), None),
    ("update", NODES, "status", node_obj("n2"), node_obj("n2"), 'is not allowed to modify node "n2"'),
    ("delete", NODES, None, node_obj("n2"), None, 'is not allowed to modify node "n2"'),
    # leases: its own, in kube-node-lease
    ("create", LEASES, None, None, {"metadata": {"name": "n1", "namespace": "kube-node-lease"}}, None),
    ("update", LEASES, None, {"metadata": {"name": "n1", "namespace": "kube-node-lease"}},
     {"metadata": {"name": "n1", "namespace": "kube-node-lease"}}, None),
    ("create", LEASES, None, None, {"metadata": {"name": "n2", "namespace": "kube-node-lease"}},
     "can only access node lease with the same name"),
    ("create", LEASES, None, None, {"metadata": {"name": "n1", "namespace": "kube-system"}},
     "can only access node lease"),
    # other resources are not NodeRestriction's
    ("create", SECRETS, None, None, {"metadata": {"name": "s", "namespace": "ns"}}, None),
])
def test_node_restriction(verb: str, res: resources.Resource, sub: str | None, old: Any, new: Any,
                          why: str | None) -> None:
    got = forbids(NODE1, verb, res, sub, old, new)
    if why is None:
        assert got is None
    else:
        assert got is not None and why in got, got


def test_node_restriction_message_shape() -> None:
    err = nr.admit(NODE1, "delete", PODS, None, pod(node="n2"), None)
    assert err is not None
    assert err.message == 'pods "p" is forbidden: node "n1" can only delete pods with spec.nodeName set to itself'
    assert err.details == {"name": "p", "group": "", "kind": "pods"}


def test_node_restriction_ignores_non_nodes_and_refuses_nameless_nodes() -> None:
    bob = u.UserInfo("bob", groups=(u.ALL_AUTHENTICATED,))
    assert nr.admit(bob, "delete", PODS, None, pod(node="n2"), None) is None
    # Named like a node but not in system:nodes: not a node.
    assert nr.admit(u.UserInfo("system:node:n1"), "delete", PODS, None, pod(node="n2"), None) is None
    err = nr.admit(u.UserInfo("system:node:", groups=(u.NODES_GROUP,)), "delete", PODS, None, pod(), None)
    assert err is not None and "could not determine node" in err.message


# -- escalation ---------------------------------------------------------------------------------


def role(rules: list[dict[str, Any]], kind: str = "Role", namespace: str = "team") -> dict[str, Any]:
    meta = {"name": "r", **({"namespace": namespace} if kind == "Role" else {})}
    return {"kind": kind, "metadata": meta, "rules": rules}


def binding(role_kind: str, role_name: str, subjects: list[dict[str, str]] | None = None,
            kind: str = "RoleBinding", namespace: str = "team") -> dict[str, Any]:
    meta = {"name": "b", **({"namespace": namespace} if kind == "RoleBinding" else {})}
    return {"kind": kind, "metadata": meta, "roleRef": {"apiGroup": rbac.GROUP, "kind": role_kind, "name": role_name},
            "subjects": subjects if subjects is not None else [{"kind": "User", "apiGroup": rbac.GROUP,
                                                                  "name": "someone"}]}


def grant(kind: str, role_name: str, user: str, namespace: str = "team") -> dict[str, Any]:
    return {**binding("ClusterRole", role_name, [{"kind": "User", "apiGroup": rbac.GROUP, "name": user}], kind,
                      namespace), "metadata": {"name": f"{role_name}-{user}",
                                               **({"namespace": namespace} if kind == "RoleBinding" else {})}}


BOSS = u.UserInfo("boss", groups=(u.ALL_AUTHENTICATED,))
PODS_READ = [{"verbs": ["get", "list"], "apiGroups": [""], "resources": ["pods"]}]
SECRETS_READ = [{"verbs": ["get"], "apiGroups": [""], "resources": ["secrets"]}]
NODES_READ = [{"verbs": ["list"], "apiGroups": [""], "resources": ["nodes"]}]


def check(user: u.UserInfo, verb: str, res: resources.Resource, old: Any, new: Any,
          *extra: dict[str, Any]) -> str | None:
    az, policy = default_authorizer(*extra)
    err = escalation.check(az, policy, user, verb, res, old, new)
    return None if err is None else err.message


VIEW_BOSS = grant("RoleBinding", "view", "boss")
ADMIN_BOSS = grant("RoleBinding", "admin", "boss")


def test_role_within_held_permissions() -> None:
    assert check(BOSS, "create", ROLES, None, role(PODS_READ), VIEW_BOSS) is None


def test_role_beyond_held_permissions() -> None:
    msg = check(BOSS, "create", ROLES, None, role(SECRETS_READ + PODS_READ), VIEW_BOSS)
    assert msg == ('roles.rbac.authorization.k8s.io "r" is forbidden: user "boss" (groups=["system:authenticated"]) '
                   'is attempting to grant RBAC permissions not currently held:\n'
                   '{APIGroups:[""], Resources:["secrets"], Verbs:["get"]}')


def test_permissions_held_elsewhere_do_not_count() -> None:
    # view in another namespace does not cover a Role in this one.
    assert check(BOSS, "create", ROLES, None, role(PODS_READ, namespace="other"), VIEW_BOSS) is not None
    # A namespace's view does not cover a ClusterRole.
    assert check(BOSS, "create", CLUSTER_ROLES, None, role(PODS_READ, "ClusterRole"), VIEW_BOSS) is not None


def test_escalate_verb_allows_any_role() -> None:
    az, policy = default_authorizer()
    policy.set_cluster_role({"metadata": {"name": "escalator"}, "rules": [
        {"verbs": ["escalate"], "apiGroups": [rbac.GROUP], "resources": ["roles"]}]})
    policy.set_role_binding(grant("RoleBinding", "escalator", "boss"))
    assert escalation.check(az, policy, BOSS, "create", ROLES, None, role(SECRETS_READ)) is None
    # ... in that namespace only.
    assert escalation.check(az, policy, BOSS, "create", ROLES, None, role(SECRETS_READ, namespace="x")) is not None


def test_masters_skip_checks() -> None:
    root = u.UserInfo("root", groups=(u.SYSTEM_PRIVILEGED_GROUP,))
    assert check(root, "create", CLUSTER_ROLES, None, role([{"verbs": ["*"], "apiGroups": ["*"],
                                                             "resources": ["*"]}], "ClusterRole")) is None


def test_unchanged_rules_need_no_check() -> None:
    old = role(SECRETS_READ)
    new = copy.deepcopy(old)
    new["metadata"]["labels"] = {"x": "y"}
    assert check(BOSS, "update", ROLES, old, new, VIEW_BOSS) is None
    new["rules"] = SECRETS_READ + PODS_READ
    assert check(BOSS, "update", ROLES, old, new, VIEW_BOSS) is not None


def test_binding_needs_the_roles_permissions() -> None:
    # admin in a namespace may hand out edit and view there (it holds them) ...
    assert check(BOSS, "create", ROLE_BINDINGS, None, binding("ClusterRole", "edit"), ADMIN_BOSS) is None
    assert check(BOSS, "create", ROLE_BINDINGS, None, binding("ClusterRole", "view"), ADMIN_BOSS) is None
    # ... not cluster-admin, and not in another namespace.
    msg = check(BOSS, "create", ROLE_BINDINGS, None, binding("ClusterRole", "cluster-admin"), ADMIN_BOSS)
    assert msg is not None and "is attempting to grant RBAC permissions not currently held" in msg
    assert check(BOSS, "create", ROLE_BINDINGS, None, binding("ClusterRole", "view", namespace="other"),
                 ADMIN_BOSS) is not None
    # A ClusterRoleBinding needs the permissions cluster-wide.
    assert check(BOSS, "create", CLUSTER_ROLE_BINDINGS, None,
                 binding("ClusterRole", "view", kind="ClusterRoleBinding"), ADMIN_BOSS) is not None


def test_binding_to_missing_role_is_forbidden() -> None:
    msg = check(BOSS, "create", ROLE_BINDINGS, None, binding("Role", "nope"), ADMIN_BOSS)
    assert msg == 'rolebindings.rbac.authorization.k8s.io "b" is forbidden: ' \
                  'role.rbac.authorization.k8s.io "nope" not found'


def test_bind_verb_allows_binding_named_roles() -> None:
    az, policy = default_authorizer()
    policy.set_cluster_role({"metadata": {"name": "binder"}, "rules": [
        {"verbs": ["bind"], "apiGroups": [rbac.GROUP], "resources": ["clusterroles"], "resourceNames": ["edit"]}]})
    policy.set_cluster_role_binding(grant("ClusterRoleBinding", "binder", "boss"))
    assert escalation.check(az, policy, BOSS, "create", ROLE_BINDINGS, None, binding("ClusterRole", "edit")) is None
    assert escalation.check(az, policy, BOSS, "create", ROLE_BINDINGS, None,
                            binding("ClusterRole", "admin")) is not None


def test_binding_update_that_only_removes_subjects_needs_no_check() -> None:
    old = binding("ClusterRole", "cluster-admin", [{"kind": "User", "apiGroup": rbac.GROUP, "name": "a"},
                                                   {"kind": "User", "apiGroup": rbac.GROUP, "name": "b"}])
    fewer = copy.deepcopy(old)
    fewer["subjects"] = [{"kind": "User", "name": "a"}]  # apiGroup left to defaulting
    assert check(BOSS, "update", ROLE_BINDINGS, old, fewer, VIEW_BOSS) is None
    more = copy.deepcopy(old)
    more["subjects"].append({"kind": "User", "apiGroup": rbac.GROUP, "name": "boss"})
    assert check(BOSS, "update", ROLE_BINDINGS, old, more, VIEW_BOSS) is not None


def test_deletes_and_other_groups_are_not_checked() -> None:
    assert check(BOSS, "delete", CLUSTER_ROLE_BINDINGS, binding("ClusterRole", "cluster-admin"), None) is None
    assert check(BOSS, "create", SECRETS, None, {"metadata": {"name": "s"}}) is None


# -- the hook as the registry calls it ----------------------------------------------------------


def test_write_admission_reads_the_request_user() -> None:
    az, policy = default_authorizer(VIEW_BOSS)
    hook = admission.WriteAdmission(az, policy)
    hook("create", ROLES, None, None, role(SECRETS_READ))  # no request user: the API server itself
    token = context.current_user.set(BOSS)
    try:
        with pytest.raises(errors.StatusError) as e:
            hook("create", ROLES, None, None, role(SECRETS_READ))
        assert e.value.code == 403
        token2 = context.current_user.set(NODE1)
        try:
            with pytest.raises(errors.StatusError):
                hook("delete", PODS, None, pod(node="n2"), None)
            hook("delete", PODS, None, pod(), None)
        finally:
            context.current_user.reset(token2)
    finally:
        context.current_user.reset(token)
    assert isinstance(az, authorizer.Union)
