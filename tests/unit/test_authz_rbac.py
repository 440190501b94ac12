"""RBAC rule evaluation and the resolver, with the test tables of Kubernetes'
plugin/pkg/auth/authorizer/rbac/rbac_test.go and component-helpers' policy_comparator_test.go."""
from __future__ import annotations

from typing import Any

import pytest

from minik8s.apiserver.authz import authorizer
from minik8s.apiserver.authz import rbac
from minik8s.apiserver.authz import rules
from minik8s.apiserver.authz import user as user_mod

Decision = authorizer.Decision


def new_rule(verbs: str, groups: str, resources: str, urls: str) -> dict[str, Any]:
    # Like rbac_test.go's newRule: comma lists, where "" is a one-element list [""].
    return {"verbs": verbs.split(","), "apiGroups": groups.split(","), "resources": resources.split(","),
            "nonResourceURLs": urls.split(",")}


def cluster_role(name: str, *rs: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "ClusterRole", "metadata": {"name": name}, "rules": list(rs)}


def role(name: str, namespace: str, *rs: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "Role", "metadata": {"name": name, "namespace": namespace}, "rules": list(rs)}


def _subjects(subjects: tuple[str, ...]) -> list[dict[str, str]]:
    out = []
    for s in subjects:
        kind, name = s.split(":", 1)
        entry = {"kind": kind, "name": name}
        if kind == "ServiceAccount":
            namespace, name = name.split(":", 1) if ":" in name else ("", name)
            entry = {"kind": kind, "name": name, "namespace": namespace}
        else:
            entry["apiGroup"] = rbac.GROUP
        out.append(entry)
    return out


def cluster_role_binding(role_name: str, *subjects: str, name: str = "") -> dict[str, Any]:
    return {"kind": "ClusterRoleBinding", "metadata": {"name": name or f"crb-{role_name}"},
            "roleRef": {"apiGroup": rbac.GROUP, "kind": "ClusterRole", "name": role_name},
            "subjects": _subjects(subjects)}


def role_binding(namespace: str, role_name: str, ref_kind: str, *subjects: str, name: str = "") -> dict[str, Any]:
    return {"kind": "RoleBinding", "metadata": {"name": name or f"rb-{role_name}", "namespace": namespace},
            "roleRef": {"apiGroup": rbac.GROUP, "kind": ref_kind, "name": role_name},
            "subjects": _subjects(subjects)}


def policy_of(*objs: dict[str, Any]) -> rbac.Policy:
    p = rbac.Policy()
    for o in objs:
        {"Role": p.set_role, "ClusterRole": p.set_cluster_role, "RoleBinding": p.set_role_binding,
         "ClusterRoleBinding": p.set_cluster_role_binding}[o["kind"]](o)
    return p


def res_attrs(user: str, groups: str, verb: str, resource: str, subresource: str, namespace: str,
              group: str = "", name: str = "") -> authorizer.Attributes:
    return authorizer.Attributes(
        user_mod.UserInfo(user, groups=tuple(g for g in groups.split(",") if g) if groups else ()),
        verb, True, namespace=namespace, api_group=group, resource=resource, subresource=subresource, name=name)


def url_attrs(user: str, groups: tuple[str, ...], verb: str, path: str) -> authorizer.Attributes:
    return authorizer.Attributes(user_mod.UserInfo(user, groups=groups), verb, False, path=path)


# -- TestAuthorizer -----------------------------------------------------------------------

AUTHORIZER_CASES = [
    (
        [cluster_role("admin", new_rule("*", "*", "*", "*")),
         role_binding("ns1", "admin", "ClusterRole", "User:admin", "Group:admins")],
        [res_attrs("admin", "", "get", "Pods", "", "ns1"),
         res_attrs("admin", "", "watch", "Pods", "", "ns1"),
         res_attrs("admin", "group1", "watch", "Foobar", "", "ns1"),
         res_attrs("joe", "admins", "watch", "Foobar", "", "ns1"),
         res_attrs("joe", "group1,admins", "watch", "Foobar", "", "ns1")],
        [res_attrs("admin", "", "GET", "Pods", "", "ns2"),
         res_attrs("admin", "", "GET", "Nodes", "", ""),
         res_attrs("admin", "admins", "GET", "Pods", "", "ns2"),
         res_attrs("admin", "admins", "GET", "Nodes", "", "")],
    ),
    (
        # Non-resource URLs.
        [cluster_role("non-resource-url-getter", new_rule("get", "", "", "/apis")),
         cluster_role("non-resource-url", new_rule("*", "", "", "/apis")),
         cluster_role("non-resource-url-prefix", new_rule("get", "", "", "/apis/*")),
         cluster_role_binding("non-resource-url-getter", "User:foo", "Group:bar"),
         cluster_role_binding("non-resource-url", "User:admin", "Group:admin"),
         cluster_role_binding("non-resource-url-prefix", "User:prefixed", "Group:prefixed")],
        [url_attrs("foo", (), "get", "/apis"), url_attrs("", ("bar",), "get", "/apis"),
         url_attrs("admin", (), "get", "/apis"), url_attrs("", ("admin",), "get", "/apis"),
         url_attrs("admin", (), "watch", "/apis"), url_attrs("", ("admin",), "watch", "/apis"),
         url_attrs("prefixed", (), "get", "/apis/v1"), url_attrs("", ("prefixed",), "get", "/apis/v1"),
         url_attrs("prefixed", (), "get", "/apis/v1/foobar"), url_attrs("", ("prefixed",), "get", "/apis/v1/foorbar")],
        [url_attrs("foo", (), "watch", "/apis"), url_attrs("", ("bar",), "watch", "/apis"),
         url_attrs("foo", (), "get", "/api/v1"), url_attrs("", ("bar",), "get", "/api/v1"),
         url_attrs("admin", (), "get", "/api/v1"), url_attrs("", ("admin",), "get", "/api/v1"),
         url_attrs("prefixed", (), "get", "/api/v1"), url_attrs("", ("prefixed",), "get", "/api/v1")],
    ),
    (
        # A rule for a resource does not cover its subresources...
        [cluster_role("admin", new_rule("*", "*", "pods", "*")),
         role_binding("ns1", "admin", "ClusterRole", "User:admin", "Group:admins")],
        [res_attrs("admin", "", "get", "pods", "", "ns1")],
        [res_attrs("admin", "", "get", "pods", "status", "ns1")],
    ),
    (
        # ... and a rule for a subresource not the resource.
        [cluster_role("admin", new_rule("*", "*", "pods/status", "*")),
         role_binding("ns1", "admin", "ClusterRole", "User:admin", "Group:admins")],
        [res_attrs("admin", "", "get", "pods", "status", "ns1")],
        [res_attrs("admin", "", "get", "pods", "", "ns1")],
    ),
]


@pytest.mark.parametrize("objects,should_pass,should_fail", AUTHORIZER_CASES)
def test_authorizer_table(objects: list[dict[str, Any]], should_pass: list[authorizer.Attributes],
                          should_fail: list[authorizer.Attributes]) -> None:
    a = rbac.RBACAuthorizer(policy_of(*objects))
    for attrs in should_pass:
        assert a.authorize(attrs)[0] is Decision.ALLOW, attrs
    for attrs in should_fail:
        assert a.authorize(attrs)[0] is Decision.NO_OPINION, attrs


# -- TestRuleMatches ------------------------------------------------------------------------


def rr(verb: str, group: str, resource: str, sub: str = "", name: str = "") -> authorizer.Attributes:
    return authorizer.Attributes(user_mod.UserInfo("u"), verb, True, api_group=group, resource=resource,
                                 subresource=sub, name=name)


def nr(verb: str, url: str) -> authorizer.Attributes:
    return authorizer.Attributes(user_mod.UserInfo("u"), verb, False, path=url)


RULE_CASES = [
    ("star verb, exact match other", rules.rule(["*"], ["group1"], ["resource1"]), [
        (rr("verb1", "group1", "resource1"), True), (rr("verb1", "group2", "resource1"), False),
        (rr("verb1", "group1", "resource2"), False), (rr("verb1", "group2", "resource2"), False),
        (rr("verb2", "group1", "resource1"), True), (rr("verb2", "group2", "resource1"), False),
        (rr("verb2", "group1", "resource2"), False), (rr("verb2", "group2", "resource2"), False)]),
    ("star group, exact match other", rules.rule(["verb1"], ["*"], ["resource1"]), [
        (rr("verb1", "group1", "resource1"), True), (rr("verb1", "group2", "resource1"), True),
        (rr("verb1", "group1", "resource2"), False), (rr("verb1", "group2", "resource2"), False),
        (rr("verb2", "group1", "resource1"), False), (rr("verb2", "group2", "resource1"), False)]),
    ("star resource, exact match other", rules.rule(["verb1"], ["group1"], ["*"]), [
        (rr("verb1", "group1", "resource1"), True), (rr("verb1", "group2", "resource1"), False),
        (rr("verb1", "group1", "resource2"), True), (rr("verb1", "group2", "resource2"), False),
        (rr("verb2", "group1", "resource1"), False), (rr("verb2", "group1", "resource2"), False)]),
    ("tuple expansion", rules.rule(["verb1", "verb2"], ["group1", "group2"], ["resource1", "resource2"]), [
        (rr(v, g, r), True) for v in ("verb1", "verb2") for g in ("group1", "group2")
        for r in ("resource1", "resource2")]),
    ("subresource expansion", rules.rule(["*"], ["*"], ["resource1/subresource1"]), [
        (rr("verb1", "group1", "resource1", "subresource1"), True),
        (rr("verb1", "group2", "resource1", "subresource2"), False),
        (rr("verb1", "group1", "resource2", "subresource1"), False),
        (rr("verb2", "group1", "resource1", "subresource1"), True),
        (rr("verb2", "group2", "resource1", "subresource2"), False)]),
    ("star subresource", rules.rule(["get"], [""], ["*/scale"]), [
        (rr("get", "", "deployments", "scale"), True), (rr("get", "", "replicasets", "scale"), True),
        (rr("get", "", "deployments"), False), (rr("get", "", "deployments", "status"), False),
        (rr("get", "", "deployments", "xscale"), False)]),
    ("pods/log", rules.rule(["get"], [""], ["pods/log"]), [
        (rr("get", "", "pods", "log"), True), (rr("get", "", "pods"), False), (rr("get", "", "pods", "exec"), False)]),
    ("resource names", rules.rule(["get"], [""], ["secrets"], names=["a", "b"]), [
        (rr("get", "", "secrets", name="a"), True), (rr("get", "", "secrets", name="b"), True),
        (rr("get", "", "secrets", name="c"), False), (rr("get", "", "secrets"), False)]),
    ("star nonresource, exact match other", rules.rule(["verb1"], urls=["*"]), [
        (nr("verb1", "/foo"), True), (nr("verb1", "/foo/bar"), True), (nr("verb1", "/foo/baz"), True),
        (nr("verb1", "/foo/bar/one"), True), (nr("verb1", "/foo/baz/one"), True),
        (nr("verb2", "/foo"), False), (nr("verb2", "/foo/bar"), False), (nr("verb2", "/foo/bar/one"), False)]),
    ("star nonresource subpath", rules.rule(["verb1"], urls=["/foo/*"]), [
        (nr("verb1", "/foo"), False), (nr("verb1", "/foo/bar"), True), (nr("verb1", "/foo/baz"), True),
        (nr("verb1", "/foo/bar/one"), True), (nr("verb1", "/foo/baz/one"), True), (nr("verb1", "/notfoo"), False),
        (nr("verb1", "/notfoo/bar"), False), (nr("verb1", "/notfoo/baz"), False),
        (nr("verb1", "/notfoo/bar/one"), False), (nr("verb1", "/notfoo/baz/one"), False)]),
    ("star verb, exact nonresource", rules.rule(["*"], urls=["/foo", "/foo/bar/one"]), [
        (nr("verb1", "/foo"), True), (nr("verb1", "/foo/bar"), False), (nr("verb1", "/foo/baz"), False),
        (nr("verb1", "/foo/bar/one"), True), (nr("verb1", "/foo/baz/one"), False), (nr("verb2", "/foo"), True),
        (nr("verb2", "/foo/bar"), False), (nr("verb2", "/foo/bar/one"), True)]),
    ("a resource rule never matches a non-resource request", rules.rule(["*"], ["*"], ["*"]), [
        (nr("get", "/healthz"), False), (rr("get", "", "pods"), True)]),
]


@pytest.mark.parametrize("name,rule,cases", RULE_CASES, ids=[c[0] for c in RULE_CASES])
def test_rule_matches(name: str, rule: rules.PolicyRule, cases: list[tuple[authorizer.Attributes, bool]]) -> None:
    for attrs, expected in cases:
        assert rules.rule_allows(attrs, rule) is expected, (name, attrs)


# -- the resolver ---------------------------------------------------------------------------


def test_rolebinding_to_clusterrole_grants_only_in_its_namespace() -> None:
    p = policy_of(cluster_role("reader", new_rule("get", "", "pods", "")),
                  role_binding("ns1", "reader", "ClusterRole", "User:alice"))
    a = rbac.RBACAuthorizer(p)
    assert a.authorize(res_attrs("alice", "", "get", "pods", "", "ns1"))[0] is Decision.ALLOW
    assert a.authorize(res_attrs("alice", "", "get", "pods", "", "ns2"))[0] is Decision.NO_OPINION
    # Cluster-wide (all namespaces) is not "in ns1".
    assert a.authorize(res_attrs("alice", "", "get", "pods", "", ""))[0] is Decision.NO_OPINION


def test_role_is_looked_up_in_the_bindings_namespace() -> None:
    p = policy_of(role("r", "ns1", new_rule("get", "", "pods", "")),
                  role_binding("ns2", "r", "Role", "User:alice"))
    decision, reason = rbac.RBACAuthorizer(p).authorize(res_attrs("alice", "", "get", "pods", "", "ns2"))
    assert decision is Decision.NO_OPINION
    assert 'role.rbac.authorization.k8s.io "r" not found' in reason


def test_service_account_subjects() -> None:
    sa = "system:serviceaccount:ns1:robot"
    p = policy_of(cluster_role("reader", new_rule("get", "", "pods", "")),
                  # No namespace: the binding's own.
                  role_binding("ns1", "reader", "ClusterRole", "ServiceAccount:robot", name="local"),
                  cluster_role_binding("reader", "ServiceAccount:ns2:robot"))
    a = rbac.RBACAuthorizer(p)
    assert a.authorize(res_attrs(sa, "", "get", "pods", "", "ns1"))[0] is Decision.ALLOW
    assert a.authorize(res_attrs(sa, "", "get", "pods", "", "ns3"))[0] is Decision.NO_OPINION
    assert a.authorize(res_attrs("system:serviceaccount:ns2:robot", "", "get", "pods", "", "ns3"))[0] \
        is Decision.ALLOW
    # A user merely named like the account's name is not the account.
    assert a.authorize(res_attrs("robot", "", "get", "pods", "", "ns1"))[0] is Decision.NO_OPINION


def test_allow_reason_names_the_binding() -> None:
    p = policy_of(cluster_role("view", new_rule("get", "", "pods", "")),
                  cluster_role_binding("view", "Group:devs", name="devs-view"))
    decision, reason = rbac.RBACAuthorizer(p).authorize(res_attrs("bob", "devs", "get", "pods", "", "x"))
    assert decision is Decision.ALLOW
    assert reason == 'RBAC: allowed by ClusterRoleBinding "devs-view" of ClusterRole "view" to Group "devs"'


def test_policy_follows_deletes() -> None:
    p = policy_of(cluster_role("view", new_rule("get", "", "pods", "")),
                  role_binding("ns1", "view", "ClusterRole", "User:bob", name="b"))
    a = rbac.RBACAuthorizer(p)
    assert a.authorize(res_attrs("bob", "", "get", "pods", "", "ns1"))[0] is Decision.ALLOW
    p.delete_role_binding("ns1", "b")
    assert a.authorize(res_attrs("bob", "", "get", "pods", "", "ns1"))[0] is Decision.NO_OPINION
    assert p.role_bindings == {}


def test_rules_for_lists_cluster_then_namespace_rules() -> None:
    p = policy_of(cluster_role("a", {"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]}),
                  cluster_role("b", {"verbs": ["get"], "nonResourceURLs": ["/healthz"]}),
                  role("c", "ns1", {"verbs": ["list"], "apiGroups": ["apps"], "resources": ["deployments"]}),
                  cluster_role_binding("a", "User:bob"), cluster_role_binding("b", "Group:g"),
                  role_binding("ns1", "c", "Role", "User:bob"))
    r = rbac.RBACAuthorizer(p).rules_for(user_mod.UserInfo("bob", groups=("g",)), "ns1")
    assert [x.resources for x in r.resource] == [("pods",), ("deployments",)]
    assert [x.non_resource_urls for x in r.non_resource] == [("/healthz",)]
    assert not r.incomplete and not r.error


# -- Covers (policy_comparator_test.go) ----------------------------------------------------------

R = rules.PolicyRule
COVERS_CASES = [
    ("exact match", [R(("get",), ("v1",), ("builds",))], [R(("get",), ("v1",), ("builds",))], True, []),
    ("subresource wildcard", [R(("get",), ("v1",), ("*/scale",))], [R(("get",), ("v1",), ("foo/scale",))], True, []),
    ("multiple rules covering a single rule",
     [R(("delete",), ("v1",), ("deployments",)), R(("delete",), ("v1",), ("builds",)),
      R(("update",), ("v1",), ("builds", "deployments"))],
     [R(("delete", "update"), ("v1",), ("builds", "deployments"))], True, []),
    ("multiple API groups covering a single rule",
     [R(("delete",), ("group1",), ("deployments",)), R(("delete",), ("group1",), ("builds",)),
      R(("update",), ("group1",), ("builds", "deployments")), R(("delete",), ("group2",), ("deployments",)),
      R(("delete",), ("group2",), ("builds",)), R(("update",), ("group2",), ("builds", "deployments"))],
     [R(("delete", "update"), ("group1", "group2"), ("builds", "deployments"))], True, []),
    ("single API group covering multiple",
     [R(("delete", "update"), ("group1", "group2"), ("builds", "deployments"))],
     [R(("delete",), ("group1",), ("deployments",)), R(("update",), ("group2",), ("builds", "deployments"))],
     True, []),
    ("missing a single verb/resource combination",
     [R(("delete", "update"), ("v1",), ("builds", "deployments")), R(("delete",), ("v1",), ("pods",))],
     [R(("delete", "update"), ("v1",), ("builds", "deployments", "pods"))], False,
     [R(("update",), ("v1",), ("pods",))]),
    ("API group star covering multiple", [R(("get",), ("*",), ("roles",))],
     [R(("get",), ("group1", "group2"), ("roles",))], True, []),
    ("enumeration not covering API group star", [R(("get",), ("dummy-group",), ("roles",))],
     [R(("get",), ("*",), ("roles",))], False, [R(("get",), ("*",), ("roles",))]),
    ("API group star covering star", [R(("get",), ("*",), ("roles",))], [R(("get",), ("*",), ("roles",))], True, []),
    ("verb star covering multiple", [R(("*",), ("v1",), ("roles",))], [R(("watch", "list"), ("v1",), ("roles",))],
     True, []),
    ("enumeration not covering verb star",
     [R(("get", "list", "watch", "create", "update", "delete", "exec"), ("v1",), ("roles",))],
     [R(("*",), ("v1",), ("roles",))], False, [R(("*",), ("v1",), ("roles",))]),
    ("verb star covering star", [R(("*",), ("v1",), ("roles",))], [R(("*",), ("v1",), ("roles",))], True, []),
    ("resource star covering multiple", [R(("get",), ("v1",), ("*",))],
     [R(("get",), ("v1",), ("resourcegroup:deployments",))], True, []),
    ("enumeration not covering resource star", [R(("get",), ("v1",), ("roles", "resourcegroup:deployments"))],
     [R(("get",), ("v1",), ("*",))], False, [R(("get",), ("v1",), ("*",))]),
    ("resource star covering star", [R(("get",), ("v1",), ("*",))], [R(("get",), ("v1",), ("*",))], True, []),
    ("resource name empty covering multiple", [R(("get",), ("v1",), ("pods",))],
     [R(("get",), ("v1",), ("pods",), ("foo", "bar"))], True, []),
    ("enumeration not covering resource name empty", [R(("get",), ("v1",), ("pods",), ("foo", "bar"))],
     [R(("get",), ("v1",), ("pods",))], False, [R(("get",), ("v1",), ("pods",))]),
    ("non-resource URLs", [R(("*",), non_resource_urls=("/apis",))], [R(("*",), non_resource_urls=("/apis",))],
     True, []),
    ("non-resource URLs star", [R(("*",), non_resource_urls=("*",))],
     [R(("*",), non_resource_urls=("/apis", "/apis/v1", "/"))], True, []),
    ("non-resource URLs star after prefix doesn't cover", [R(("*",), non_resource_urls=("/apis/*",))],
     [R(("get",), non_resource_urls=("/apis", "/apis/v1"))], False, [R(("get",), non_resource_urls=("/apis",))]),
    ("non-resource URLs star after prefix", [R(("*",), non_resource_urls=("/apis/*",))],
     [R(("get",), non_resource_urls=("/apis/v1/foo", "/apis/v1"))], True, []),
    ("non-resource URLs with other fields",
     [R(("get",), ("v1",), ("builds",), non_resource_urls=("/apis",))],
     [R(("get",), ("v1",), ("builds",), non_resource_urls=("/apis",))], True, []),
    ("non-resource URLs with other fields failure", [R(("get",), ("v1",), ("builds",))],
     [R(("get",), ("v1",), ("builds",), non_resource_urls=("/apis",))], False,
     [R(("get",), non_resource_urls=("/apis",))]),
]


@pytest.mark.parametrize("name,owner,servant,covered,uncovered", COVERS_CASES, ids=[c[0] for c in COVERS_CASES])
def test_covers(name: str, owner: list[rules.PolicyRule], servant: list[rules.PolicyRule], covered: bool,
                uncovered: list[rules.PolicyRule]) -> None:
    got_covered, got_uncovered = rules.covers(owner, servant)
    assert got_covered is covered
    assert sorted(got_uncovered, key=repr) == sorted(uncovered, key=repr)


@pytest.mark.parametrize("owner,requested,want", [
    ("*", "", True), ("*", "/", True), ("*", "/api", True), ("/*", "", False), ("/*", "/", True),
    ("/*", "/foo", True), ("/api", "/api", True), ("/apis", "/api", False), ("/api/v1", "/api", False),
    ("/api/v1", "/api/v1", True), ("/api/*", "/api/v1", True), ("/api/*", "/api", False),
    ("/api/*/*", "/api/v1", False), ("/*/v1/*", "/api/v1", False),
])
def test_non_resource_url_covers(owner: str, requested: str, want: bool) -> None:
    assert rules.non_resource_url_covers(owner, requested) is want


def test_compact_string_and_merge() -> None:
    merged = rules.compact([R(("get",), ("",), ("pods",)), R(("list",), ("",), ("pods",))])
    assert [r.compact() for r in merged] == ['{APIGroups:[""], Resources:["pods"], Verbs:["get" "list"]}']


def test_from_dict_tolerates_wrong_types() -> None:
    assert rules.from_dict({"verbs": "get", "resources": ["pods", 3]}) == R((), (), ("pods",))
    assert rules.from_list("nope") == ()
