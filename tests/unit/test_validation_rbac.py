"""Validation and defaulting of the RBAC kinds (pkg/apis/rbac/validation/validation_test.go),
and the protobuf bodies kubectl 1.32 sends for them and for `kubectl auth can-i`."""
from __future__ import annotations

import copy
import pathlib
from typing import Any

import pytest

from minik8s.api import kinds
from minik8s.api import errors
from minik8s.api import protobuf
from minik8s.api import resources

GROUP = "rbac.authorization.k8s.io"
ROLES = resources.must(GROUP, "v1", "roles")
CLUSTER_ROLES = resources.must(GROUP, "v1", "clusterroles")
ROLE_BINDINGS = resources.must(GROUP, "v1", "rolebindings")
CLUSTER_ROLE_BINDINGS = resources.must(GROUP, "v1", "clusterrolebindings")
CAPTURES = pathlib.Path(__file__).resolve().parent.parent / "data" / "kubectl-captures"


def prepared(res: resources.Resource, obj: dict[str, Any], old: dict[str, Any] | None = None) -> dict[str, Any]:
    obj = copy.deepcopy(obj)
    obj.setdefault("kind", res.kind)
    kinds.apply_defaults(res, obj, old)
    return obj


def causes(res: resources.Resource, obj: dict[str, Any], old: dict[str, Any] | None = None) -> list[tuple[str, str]]:
    try:
        kinds.validate(res, prepared(res, obj, old), old)
    except errors.Invalid as e:
        return [(c["field"], c["message"]) for c in e.causes]
    return []


def role(rules: list[dict[str, Any]], name: str = "r", namespace: str = "ns") -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    return {"metadata": meta, "rules": rules}


def binding(ref: dict[str, str], subjects: list[dict[str, str]], namespace: str = "ns",
            name: str = "b") -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    return {"metadata": meta, "roleRef": ref, "subjects": subjects}


REF = {"apiGroup": GROUP, "kind": "ClusterRole", "name": "view"}


def test_valid_objects() -> None:
    assert causes(ROLES, role([{"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]}])) == []
    assert causes(CLUSTER_ROLES, role([{"verbs": ["get"], "nonResourceURLs": ["/healthz", "/api/*"]}],
                                      name="system:x", namespace="")) == []
    assert causes(ROLE_BINDINGS, binding(REF, [{"kind": "User", "name": "system:node:n1"},
                                               {"kind": "ServiceAccount", "name": "default"}])) == []
    assert causes(CLUSTER_ROLE_BINDINGS, binding(REF, [{"kind": "Group", "name": "g"},
                                                       {"kind": "ServiceAccount", "name": "sa", "namespace": "x"}],
                                                 namespace="")) == []


def test_names_are_path_segments() -> None:
    assert causes(CLUSTER_ROLES, role([], name="system:node:a.b_C", namespace="")) == []
    assert causes(CLUSTER_ROLES, role([], name="a/b", namespace="")) == [
        ("metadata.name", 'Invalid value: "a/b": may not contain \'/\'')]
    assert causes(CLUSTER_ROLES, role([], name="..", namespace="")) == [
        ("metadata.name", 'Invalid value: "..": may not be \'..\'')]


@pytest.mark.parametrize("rule,namespaced,expected", [
    ({"apiGroups": [""], "resources": ["pods"]}, True, [("rules[0].verbs", "Required value: verbs must contain at "
                                                                            "least one value")]),
    ({"verbs": ["get"], "resources": ["pods"]}, True, [("rules[0].apiGroups", "Required value: resource rules must "
                                                                              "supply at least one api group")]),
    ({"verbs": ["get"], "apiGroups": [""]}, True, [("rules[0].resources", "Required value: resource rules must "
                                                                          "supply at least one resource")]),
    ({"verbs": ["get"], "nonResourceURLs": ["/x"]}, True,
     [("rules[0].nonResourceURLs", 'Invalid value: []string{"/x"}: namespaced rules cannot apply to non-resource '
                                   "URLs")]),
    ({"verbs": ["get"], "nonResourceURLs": ["/x"], "resources": ["pods"]}, False,
     [("rules[0].nonResourceURLs", 'Invalid value: []string{"/x"}: rules cannot apply to both regular resources '
                                   "and non-resource URLs")]),
])
def test_rule_errors(rule: dict[str, Any], namespaced: bool, expected: list[tuple[str, str]]) -> None:
    res = ROLES if namespaced else CLUSTER_ROLES
    assert causes(res, role([rule], namespace="ns" if namespaced else "")) == expected


@pytest.mark.parametrize("ref,expected_field", [
    ({"apiGroup": "other.io", "kind": "ClusterRole", "name": "x"}, "roleRef.apiGroup"),
    ({"apiGroup": GROUP, "kind": "Pod", "name": "x"}, "roleRef.kind"),
    ({"apiGroup": GROUP, "kind": "ClusterRole", "name": ""}, "roleRef.name"),
    ({"apiGroup": GROUP, "kind": "ClusterRole", "name": "a/b"}, "roleRef.name"),
])
def test_role_ref_errors(ref: dict[str, str], expected_field: str) -> None:
    assert [f for f, _ in causes(ROLE_BINDINGS, binding(ref, []))] == [expected_field]


def test_cluster_role_binding_refs_only_cluster_roles() -> None:
    got = causes(CLUSTER_ROLE_BINDINGS, binding({"apiGroup": GROUP, "kind": "Role", "name": "x"}, [], namespace=""))
    assert got == [("roleRef.kind", 'Unsupported value: "Role": supported values: "ClusterRole"')]


@pytest.mark.parametrize("subject,cluster,expected", [
    ({"kind": "User", "name": ""}, False, [("subjects[0].name", "Required value")]),
    ({"kind": "Robot", "name": "x"}, False,
     [("subjects[0].kind", 'Unsupported value: "Robot": supported values: "ServiceAccount", "User", "Group"')]),
    ({"kind": "User", "name": "x", "apiGroup": "wrong"}, False,
     [("subjects[0].apiGroup", 'Unsupported value: "wrong": supported values: "rbac.authorization.k8s.io"')]),
    ({"kind": "ServiceAccount", "name": "x", "apiGroup": "wrong"}, False,
     [("subjects[0].apiGroup", 'Unsupported value: "wrong": supported values: ""')]),
    ({"kind": "ServiceAccount", "name": "Bad_Name"}, False, None),
    ({"kind": "ServiceAccount", "name": "sa"}, True, [("subjects[0].namespace", "Required value")]),
])
def test_subject_errors(subject: dict[str, str], cluster: bool, expected: list[tuple[str, str]] | None) -> None:
    res = CLUSTER_ROLE_BINDINGS if cluster else ROLE_BINDINGS
    got = causes(res, binding(REF, [subject], namespace="" if cluster else "ns"))
    if expected is None:
        assert [f for f, _ in got] == ["subjects[0].name"]
    else:
        assert got == expected


def test_defaults_fill_api_groups() -> None:
    obj = prepared(ROLE_BINDINGS, binding({"kind": "ClusterRole", "name": "view"},
                                          [{"kind": "User", "name": "u"}, {"kind": "Group", "name": "g"},
                                           {"kind": "ServiceAccount", "name": "s"}]))
    assert obj["roleRef"]["apiGroup"] == GROUP
    assert [s.get("apiGroup") for s in obj["subjects"]] == [GROUP, GROUP, None]


def test_role_ref_is_immutable() -> None:
    old = prepared(ROLE_BINDINGS, binding(REF, []))
    new = binding({**REF, "name": "edit"}, [{"kind": "User", "name": "x"}])
    assert causes(ROLE_BINDINGS, new, old) == [
        ("roleRef", 'Invalid value: rbac.RoleRef{APIGroup:"rbac.authorization.k8s.io", Kind:"ClusterRole", '
                    'Name:"edit"}: cannot change roleRef')]
    assert causes(ROLE_BINDINGS, binding(REF, [{"kind": "User", "name": "x"}]), old) == []


@pytest.mark.parametrize("res,obj", [
    (ROLES, role([{"verbs": "get", "apiGroups": [""], "resources": ["pods"]}])),
    (ROLES, role("nope")),  # type: ignore[arg-type]
    (ROLE_BINDINGS, binding(REF, [{"kind": "User", "name": 3}])),  # type: ignore[dict-item]
    (ROLE_BINDINGS, {**binding(REF, []), "roleRef": "view"}),
])
def test_wrong_types_are_bad_requests(res: resources.Resource, obj: dict[str, Any]) -> None:
    with pytest.raises(errors.StatusError) as e:
        prepared(res, obj)
    assert e.value.code == 400


def test_aggregation_rule_shape() -> None:
    agg = {"metadata": {"name": "agg"}, "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"a": "b"}}]}}
    assert causes(CLUSTER_ROLES, agg) == []
    assert [f for f, _ in causes(CLUSTER_ROLES, {**agg, "aggregationRule": {}})] == [
        "aggregationRule.clusterRoleSelectors"]


# -- protobuf bodies from kubectl 1.32 -------------------------------------------------------------


@pytest.mark.parametrize("capture,expected", [
    ("auth-can-i-create-pods.pb", {
        "kind": "SelfSubjectAccessReview", "apiVersion": "authorization.k8s.io/v1",
        "metadata": {"creationTimestamp": None},
        "spec": {"resourceAttributes": {"namespace": "team", "verb": "create", "resource": "pods"}},
        "status": {"allowed": False}}),  # required, so written even when false, as Go's JSON
    ("auth-can-i-get-healthz.pb", {
        "kind": "SelfSubjectAccessReview", "apiVersion": "authorization.k8s.io/v1",
        "metadata": {"creationTimestamp": None},
        "spec": {"nonResourceAttributes": {"path": "/healthz", "verb": "get"}}, "status": {"allowed": False}}),
    ("auth-can-i-list.pb", {
        "kind": "SelfSubjectRulesReview", "apiVersion": "authorization.k8s.io/v1",
        "metadata": {"creationTimestamp": None}, "spec": {"namespace": "team"}, "status": {"incomplete": False}}),
    ("create-role.pb", {
        "kind": "Role", "apiVersion": "rbac.authorization.k8s.io/v1",
        "metadata": {"name": "cap-role", "namespace": "default", "creationTimestamp": None},
        "rules": [{"verbs": ["get", "list"], "apiGroups": [""], "resources": ["pods"], "resourceNames": ["x"]},
                  {"verbs": ["get", "list"], "apiGroups": ["apps"], "resources": ["deployments"],
                   "resourceNames": ["x"]}]}),
    ("create-clusterrole.pb", {
        "kind": "ClusterRole", "apiVersion": "rbac.authorization.k8s.io/v1",
        "metadata": {"name": "cap-cr", "creationTimestamp": None},
        "rules": [{"verbs": ["get"], "nonResourceURLs": ["/logs/*"]}]}),
    ("create-rolebinding.pb", {
        "kind": "RoleBinding", "apiVersion": "rbac.authorization.k8s.io/v1",
        "metadata": {"name": "cap-rb", "namespace": "default", "creationTimestamp": None},
        "subjects": [{"kind": "User", "apiGroup": GROUP, "name": "bob"},
                     {"kind": "Group", "apiGroup": GROUP, "name": "devs"},
                     {"kind": "ServiceAccount", "name": "robot", "namespace": "default"}],
        "roleRef": {"apiGroup": GROUP, "kind": "ClusterRole", "name": "view"}}),
    ("create-clusterrolebinding.pb", {
        "kind": "ClusterRoleBinding", "apiVersion": "rbac.authorization.k8s.io/v1",
        "metadata": {"name": "cap-crb", "creationTimestamp": None},
        "subjects": [{"kind": "Group", "apiGroup": GROUP, "name": "devs"}],
        "roleRef": {"apiGroup": GROUP, "kind": "ClusterRole", "name": "view"}}),
])
def test_kubectl_protobuf_bodies(capture: str, expected: dict[str, Any]) -> None:
    assert protobuf.decode((CAPTURES / capture).read_bytes()) == expected
