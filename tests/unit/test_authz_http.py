"""Impersonation, the authorization filter and the review resources, without a server.

Impersonation cases after Kubernetes' filters/impersonation_test.go.
"""
from __future__ import annotations

from typing import Any

import pytest

from minik8s.api import errors
from minik8s.apiserver.authz import authorizer
from minik8s.apiserver.authz import impersonation
from minik8s.apiserver.authz import rbac
from minik8s.apiserver.authz import reviews
from minik8s.apiserver.authz import user as u
from tests.unit.test_authz_policy import default_authorizer


def _policy_with(*rules_for_users: tuple[str, list[dict[str, Any]]]) -> authorizer.Union:
    az, policy = default_authorizer()
    for i, (user, rules) in enumerate(rules_for_users):
        policy.set_cluster_role({"metadata": {"name": f"r{i}"}, "rules": rules})
        policy.set_cluster_role_binding({"metadata": {"name": f"b{i}"},
                                         "roleRef": {"apiGroup": rbac.GROUP, "kind": "ClusterRole",
                                                     "name": f"r{i}"},
                                         "subjects": [{"kind": "User", "apiGroup": rbac.GROUP, "name": user}]})
    return az


AZ = _policy_with(
    ("user-impersonater", [{"verbs": ["impersonate"], "apiGroups": [""], "resources": ["users"]}]),
    ("group-impersonater", [{"verbs": ["impersonate"], "apiGroups": [""], "resources": ["groups"]}]),
    ("tester", [{"verbs": ["impersonate"], "apiGroups": [""], "resources": ["users"], "resourceNames": ["tester"]}]),
    ("sa-impersonater", [{"verbs": ["impersonate"], "apiGroups": [""], "resources": ["serviceaccounts"]}]),
    ("extra-setter", [{"verbs": ["impersonate"], "apiGroups": [""], "resources": ["users"]},
                      {"verbs": ["impersonate"], "apiGroups": ["authentication.k8s.io"],
                       "resources": ["userextras/scopes"], "resourceNames": ["scope-a"]}]),
    ("uid-setter", [{"verbs": ["impersonate"], "apiGroups": [""], "resources": ["users"]},
                    {"verbs": ["impersonate"], "apiGroups": ["authentication.k8s.io"], "resources": ["uids"]}]),
)


def me(name: str) -> u.UserInfo:
    return u.UserInfo(name, groups=(u.ALL_AUTHENTICATED,))


def test_no_headers_no_change() -> None:
    user = me("dev")
    assert impersonation.impersonate(AZ, user, [("Authorization", "x")]) is user


@pytest.mark.parametrize("requestor,headers,expect", [
    # may impersonate users: gets the user, authenticated
    ("user-impersonater", [("Impersonate-User", "anyone")], u.UserInfo("anyone", groups=(u.ALL_AUTHENTICATED,))),
    # only the named user
    ("tester", [("Impersonate-User", "tester")], u.UserInfo("tester", groups=(u.ALL_AUTHENTICATED,))),
    ("tester", [("Impersonate-User", "other")], 403),
    # groups need their own permission
    ("user-impersonater", [("Impersonate-User", "anyone"), ("Impersonate-Group", "g")], 403),
    ("group-impersonater", [("Impersonate-User", "anyone")], 403),
    # a service account name means the account, with its groups
    ("sa-impersonater", [("Impersonate-User", "system:serviceaccount:ns:sa")],
     u.UserInfo("system:serviceaccount:ns:sa",
                groups=("system:serviceaccounts", "system:serviceaccounts:ns", u.ALL_AUTHENTICATED))),
    ("user-impersonater", [("Impersonate-User", "system:serviceaccount:ns:sa")], 403),
    # extras and uid each need permission
    ("extra-setter", [("Impersonate-User", "x"), ("Impersonate-Extra-Scopes", "scope-a")],
     u.UserInfo("x", groups=(u.ALL_AUTHENTICATED,), extra={"scopes": ["scope-a"]})),
    ("extra-setter", [("Impersonate-User", "x"), ("Impersonate-Extra-Scopes", "scope-b")], 403),
    ("uid-setter", [("Impersonate-User", "x"), ("Impersonate-Uid", "1234")],
     u.UserInfo("x", uid="1234", groups=(u.ALL_AUTHENTICATED,))),
    ("user-impersonater", [("Impersonate-User", "x"), ("Impersonate-Uid", "1234")], 403),
    # groups without a user: malformed
    ("group-impersonater", [("Impersonate-Group", "g")], 400),
    # nobody without the verb
    ("dev", [("Impersonate-User", "anyone")], 403),
    ("dev", [("impersonate-user", "anyone")], 403),
])
def test_impersonation(requestor: str, headers: list[tuple[str, str]], expect: u.UserInfo | int) -> None:
    if isinstance(expect, int):
        with pytest.raises(errors.StatusError) as e:
            impersonation.impersonate(AZ, me(requestor), headers)
        assert e.value.code == expect
    else:
        got = impersonation.impersonate(AZ, me(requestor), headers)
        assert (got.name, got.uid, got.groups, dict(got.extra)) == \
            (expect.name, expect.uid, expect.groups, dict(expect.extra))


def test_impersonated_groups_are_the_authority() -> None:
    root = u.UserInfo("root", groups=(u.SYSTEM_PRIVILEGED_GROUP,))
    got = impersonation.impersonate(AZ, root, [("Impersonate-User", "bob"), ("Impersonate-Group", "devs"),
                                               ("Impersonate-Group", "ops")])
    assert got.groups == ("devs", "ops", u.ALL_AUTHENTICATED)
    anon = impersonation.impersonate(AZ, root, [("Impersonate-User", u.ANONYMOUS)])
    assert anon.groups == (u.ALL_UNAUTHENTICATED,)
    unauth = impersonation.impersonate(AZ, root, [("Impersonate-User", "bob"),
                                                  ("Impersonate-Group", u.ALL_UNAUTHENTICATED)])
    assert unauth.groups == (u.ALL_UNAUTHENTICATED,)
    # The requestor's own groups do not carry over.
    assert u.SYSTEM_PRIVILEGED_GROUP not in impersonation.impersonate(AZ, root, [("Impersonate-User", "x")]).groups


def test_impersonation_forbidden_message() -> None:
    with pytest.raises(errors.StatusError) as e:
        impersonation.impersonate(AZ, me("dev"), [("Impersonate-User", "bob")])
    assert e.value.message == ('users "bob" is forbidden: User "dev" cannot impersonate resource "users" in API '
                               'group "" at the cluster scope')
    assert e.value.details == {"name": "bob", "group": "", "kind": "users"}


def test_forbidden_messages() -> None:
    bob = me("bob")
    a = authorizer.Attributes(bob, "list", True, namespace="default", resource="pods", api_version="v1")
    assert authorizer.forbidden_error(a).message == (
        'pods is forbidden: User "bob" cannot list resource "pods" in API group "" in the namespace "default"')
    a = authorizer.Attributes(bob, "get", True, api_group="apps", resource="deployments", subresource="scale",
                              name="web", namespace="x")
    assert authorizer.forbidden_error(a, "why").message == (
        'deployments.apps "web" is forbidden: User "bob" cannot get resource "deployments/scale" in API group '
        '"apps" in the namespace "x": why')
    a = authorizer.Attributes(bob, "list", True, resource="nodes")
    assert authorizer.forbidden_error(a).message.endswith('"nodes" in API group "" at the cluster scope')
    a = authorizer.Attributes(u.anonymous(), "get", False, path="/api")
    err = authorizer.forbidden_error(a)
    assert (err.code, err.message) == (403, 'forbidden: User "system:anonymous" cannot get path "/api"')


# -- reviews ----------------------------------------------------------------------------------------


def ssar(spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview", "spec": spec}


def test_self_subject_access_review() -> None:
    r = reviews.Reviews(AZ)
    out = r.answer("SelfSubjectAccessReview", ssar({"resourceAttributes": {
        "verb": "impersonate", "resource": "users", "name": "tester"}}), me("tester"))
    assert out["status"]["allowed"] is True and "tester" in out["status"]["reason"]
    out = r.answer("SelfSubjectAccessReview", ssar({"resourceAttributes": {
        "verb": "list", "resource": "pods", "namespace": "default"}}), me("tester"))
    assert out["status"] == {"allowed": False}
    out = r.answer("SelfSubjectAccessReview", ssar({"nonResourceAttributes": {"verb": "get", "path": "/api"}}),
                   me("tester"))
    assert out["status"]["allowed"] is True
    assert out["metadata"] == {"creationTimestamp": None}


@pytest.mark.parametrize("kind,body,field", [
    ("SelfSubjectAccessReview", {"spec": {}}, "spec.resourceAttributes"),
    ("SelfSubjectAccessReview", {"spec": {"resourceAttributes": {}, "nonResourceAttributes": {}}},
     "spec.nonResourceAttributes"),
    ("SubjectAccessReview", {"spec": {"resourceAttributes": {"verb": "get"}}}, "spec.user"),
    ("SubjectAccessReview", {"metadata": {"name": "x"}, "spec": {"user": "a", "resourceAttributes": {}}},
     "metadata"),
    ("LocalSubjectAccessReview", {"spec": {"user": "a", "resourceAttributes": {"namespace": "other"}}},
     "spec.resourceAttributes.namespace"),
    ("LocalSubjectAccessReview", {"spec": {"user": "a", "nonResourceAttributes": {"path": "/"}}},
     "spec.nonResourceAttributes"),
])
def test_review_validation(kind: str, body: dict[str, Any], field: str) -> None:
    with pytest.raises(errors.StatusError) as e:
        reviews.Reviews(AZ).answer(kind, {"kind": kind, **body}, me("x"), "ns")
    assert e.value.code == 422
    assert field in [c["field"] for c in e.value.details["causes"]]


def test_review_wrong_types_are_bad_requests() -> None:
    with pytest.raises(errors.StatusError) as e:
        reviews.Reviews(AZ).answer("SubjectAccessReview", {"spec": {"user": 3, "resourceAttributes": {}}}, me("x"))
    assert e.value.code == 400


def test_subject_access_review_asks_about_the_subject_as_given() -> None:
    r = reviews.Reviews(AZ)
    body = {"spec": {"user": "tester", "resourceAttributes": {"verb": "impersonate", "resource": "users",
                                                              "name": "tester"}}}
    assert r.answer("SubjectAccessReview", body, me("anyone"))["status"]["allowed"] is True
    # Groups are exactly those given: system:authenticated is not added, so discovery is not allowed...
    body = {"spec": {"user": "x", "nonResourceAttributes": {"verb": "get", "path": "/api"}}}
    assert r.answer("SubjectAccessReview", body, me("anyone"))["status"]["allowed"] is False
    body["spec"]["groups"] = [u.ALL_AUTHENTICATED]
    assert r.answer("SubjectAccessReview", body, me("anyone"))["status"]["allowed"] is True


def test_local_subject_access_review_takes_the_url_namespace() -> None:
    body = {"spec": {"user": "x", "resourceAttributes": {"namespace": "ns", "verb": "get", "resource": "pods"}}}
    out = reviews.Reviews(AZ).answer("LocalSubjectAccessReview", body, me("anyone"), "ns")
    assert out["metadata"]["namespace"] == "ns" and out["status"]["allowed"] is False
    with pytest.raises(errors.StatusError) as e:
        reviews.Reviews(AZ).answer("LocalSubjectAccessReview", {**body, "metadata": {"namespace": "a"}},
                                   me("anyone"), "ns")
    assert e.value.code == 400


def test_node_field_selector_in_a_review() -> None:
    node = u.UserInfo("system:node:n1", groups=(u.NODES_GROUP, u.ALL_AUTHENTICATED))
    r = reviews.Reviews(AZ)
    raw = ssar({"resourceAttributes": {"verb": "list", "resource": "pods",
                                       "fieldSelector": {"rawSelector": "spec.nodeName=n1"}}})
    assert r.answer("SelfSubjectAccessReview", raw, node)["status"]["allowed"] is True
    reqs = ssar({"resourceAttributes": {"verb": "list", "resource": "pods", "fieldSelector": {
        "requirements": [{"key": "spec.nodeName", "operator": "In", "values": ["n1"]}]}}})
    assert r.answer("SelfSubjectAccessReview", reqs, node)["status"]["allowed"] is True
    none = ssar({"resourceAttributes": {"verb": "list", "resource": "pods"}})
    status = r.answer("SelfSubjectAccessReview", none, node)["status"]
    assert status["allowed"] is False and "spec.nodeName" in status["reason"]


def test_self_subject_rules_review() -> None:
    r = reviews.Reviews(AZ)
    out = r.answer("SelfSubjectRulesReview", {"spec": {"namespace": "default"}}, me("tester"))
    status = out["status"]
    assert {"verbs": ["impersonate"], "apiGroups": [""], "resources": ["users"], "resourceNames": ["tester"]} in \
        status["resourceRules"]
    assert {"verbs": ["get"], "nonResourceURLs": ["/healthz", "/livez", "/readyz", "/version", "/version/"]} in \
        status["nonResourceRules"]
    assert status["incomplete"] is False
    node = u.UserInfo("system:node:n1", groups=(u.NODES_GROUP, u.ALL_AUTHENTICATED))
    assert r.answer("SelfSubjectRulesReview", {"spec": {}}, node)["status"]["incomplete"] is True
