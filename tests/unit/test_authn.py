"""The API server's authentication pieces on their own: users, request attributes, authenticators."""
from __future__ import annotations

import dataclasses
import datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

from minik8s.api import bootstraptoken
from minik8s.api import errors
from minik8s.api import identities
from minik8s.apiserver.authn import authorizer
from minik8s.apiserver.authn import bootstrap as bootstrap_authn
from minik8s.apiserver.authn import middleware
from minik8s.apiserver.authn import requestinfo
from minik8s.apiserver.authn import serviceaccount
from minik8s.apiserver.authn import user as user_mod
from minik8s.apiserver.authn import x509 as x509_authn
from minik8s.cluster import bootstrap
from minik8s.util import pki

DAY = datetime.timedelta(days=1)
U = user_mod.UserInfo("u")


def test_user_info_is_frozen_and_hashable() -> None:
    u = user_mod.UserInfo("a", "1", ["g"], {"k": ["v"]})  # type: ignore[arg-type]
    assert u.groups == ("g",) and u.extra["k"] == ("v",)
    with pytest.raises(dataclasses.FrozenInstanceError):
        u.name = "b"  # type: ignore[misc]
    with pytest.raises(TypeError):
        u.extra["k"] = ("w",)  # type: ignore[index]
    assert hash(u) == hash(user_mod.UserInfo("a", "1", ("g",), {"k": ("v",)}))
    assert u.with_authenticated().groups == ("g", identities.AUTHENTICATED)
    assert u.with_authenticated().with_authenticated().groups == ("g", identities.AUTHENTICATED)
    assert user_mod.ANONYMOUS.anonymous and user_mod.ANONYMOUS.groups == (identities.UNAUTHENTICATED,)
    assert u.to_api() == {"username": "a", "uid": "1", "groups": ["g"], "extra": {"k": ["v"]}}


@pytest.mark.parametrize("method,path,query,want", [
    ("GET", "/api/v1/namespaces/ns/pods", {}, ("list", "", "v1", "ns", "pods", "", "")),
    ("GET", "/api/v1/namespaces/ns/pods", {"watch": "true"}, ("watch", "", "v1", "ns", "pods", "", "")),
    ("GET", "/api/v1/pods", {"fieldSelector": "metadata.name=x"}, ("list", "", "v1", "", "pods", "", "x")),
    ("GET", "/api/v1/namespaces/ns/pods/p/log", {}, ("get", "", "v1", "ns", "pods", "log", "p")),
    ("PUT", "/api/v1/namespaces/ns/pods/p/status", {}, ("update", "", "v1", "ns", "pods", "status", "p")),
    ("POST", "/apis/apps/v1/namespaces/ns/deployments", {}, ("create", "apps", "v1", "ns", "deployments", "", "")),
    ("PATCH", "/apis/apps/v1/namespaces/ns/deployments/d/scale", {},
     ("patch", "apps", "v1", "ns", "deployments", "scale", "d")),
    ("DELETE", "/api/v1/namespaces/ns/pods", {}, ("deletecollection", "", "v1", "ns", "pods", "", "")),
    ("DELETE", "/api/v1/namespaces/ns", {}, ("delete", "", "v1", "ns", "namespaces", "", "ns")),
    ("PUT", "/api/v1/namespaces/ns/finalize", {}, ("update", "", "v1", "ns", "namespaces", "finalize", "ns")),
    ("GET", "/api/v1/nodes/n1", {}, ("get", "", "v1", "", "nodes", "", "n1")),
    ("GET", "/api/v1/watch/namespaces/ns/pods", {}, ("watch", "", "v1", "ns", "pods", "", "")),
    ("PUT", "/apis/certificates.k8s.io/v1/certificatesigningrequests/c/approval", {},
     ("update", "certificates.k8s.io", "v1", "", "certificatesigningrequests", "approval", "c")),
])
def test_resource_attributes(method: str, path: str, query: dict[str, str], want: tuple[str, ...]) -> None:
    a = requestinfo.attributes(method, path, query, U)
    assert a.resource_request and a.user is U and a.path == path
    assert (a.verb, a.api_group, a.api_version, a.namespace, a.resource, a.subresource, a.name) == want


@pytest.mark.parametrize("method,path", [("GET", "/healthz"), ("GET", "/api"), ("GET", "/apis"),
                                         ("GET", "/apis/apps"), ("GET", "/apis/apps/v1"), ("GET", "/api/v1"),
                                         ("POST", "/version"), ("GET", "/openapi/v3/apis/apps/v1")])
def test_non_resource_attributes(method: str, path: str) -> None:
    a = requestinfo.attributes(method, path, {}, U)
    assert not a.resource_request and a.verb == method.lower() and a.path == path


def test_forbidden_message_reads_as_kubernetes() -> None:
    a = requestinfo.attributes("GET", "/api/v1/namespaces/ns/secrets/s", {}, U)
    assert authorizer.forbidden_message(a) == ('secrets "s" is forbidden: User "u" cannot get resource "secrets" '
                                               'in API group "" in the namespace "ns"')
    b = requestinfo.attributes("GET", "/apis/apps/v1/deployments", {}, U)
    assert authorizer.forbidden_message(b, "no") == ('deployments.apps is forbidden: User "u" cannot list resource '
                                                     '"deployments" in API group "apps" at the cluster scope: no')
    assert authorizer.forbidden_message(requestinfo.attributes("GET", "/metrics", {}, U)) == \
        'forbidden: User "u" cannot get path "/metrics"'


async def test_union_authorizer() -> None:
    class Fixed:
        def __init__(self, d: authorizer.Decision) -> None:
            self.d = d

        async def authorize(self, attributes: authorizer.Attributes) -> authorizer.Decision:
            return self.d

    a = requestinfo.attributes("GET", "/api/v1/pods", {}, U)
    deny = authorizer.Decision(authorizer.Verdict.DENY, "no")
    assert (await authorizer.Union(Fixed(authorizer.NO_OPINION), Fixed(deny)).authorize(a)) == deny
    assert not (await authorizer.Union(Fixed(authorizer.NO_OPINION)).authorize(a)).allowed
    assert (await authorizer.AlwaysAllow().authorize(a)).allowed


@pytest.mark.parametrize("method,path,allowed", [
    ("GET", "/healthz", True), ("GET", "/livez/", True), ("GET", "/readyz", True), ("HEAD", "/version", True),
    ("GET", "/healthz/etcd", True), ("POST", "/healthz", False), ("GET", "/healthzz", False),
    ("GET", "/api/v1/namespaces/kube-public/configmaps/cluster-info", True),
    ("PUT", "/api/v1/namespaces/kube-public/configmaps/cluster-info", False),
    ("GET", "/api/v1/namespaces/kube-public/configmaps", False), ("GET", "/api", False), ("GET", "/", False)])
def test_what_anonymous_may_reach(method: str, path: str, allowed: bool) -> None:
    assert middleware.anonymous_allowed(method, path) is allowed


class Clock:
    def __init__(self, now: datetime.datetime) -> None:
        self.now = now

    def __call__(self) -> datetime.datetime:
        return self.now


def _der(cert: Any) -> bytes:
    return bytes(cert.public_bytes(serialization.Encoding.DER))


def test_certificate_authenticator() -> None:
    ca_key, ca = pki.make_ca()
    now = pki.utcnow()
    clock = Clock(now)
    auth = x509_authn.CertificateAuthenticator([ca], clock)
    cert = pki.issue(ca_key, ca, pki.new_key().public_key(), pki.CertSpec("bob", ("a", "b"), days=10), now)
    user = auth.authenticate(_der(cert))
    assert user == user_mod.UserInfo("bob", groups=("a", "b", identities.AUTHENTICATED))
    clock.now = now + 11 * DAY  # the same (cached) certificate, now expired
    with pytest.raises(errors.Unauthorized, match="expired"):
        auth.authenticate(_der(cert))
    clock.now = now - DAY
    with pytest.raises(errors.Unauthorized, match="not valid yet"):
        auth.authenticate(_der(cert))
    clock.now = now
    other_key, other = pki.make_ca("other")
    foreign = pki.issue(other_key, other, pki.new_key().public_key(), pki.CertSpec("bob"), now)
    with pytest.raises(errors.Unauthorized, match="not signed by the cluster CA"):
        auth.authenticate(_der(foreign))
    server = pki.issue(ca_key, ca, pki.new_key().public_key(), pki.CertSpec("s", client=False, server=True), now)
    with pytest.raises(errors.Unauthorized, match="client authentication"):
        auth.authenticate(_der(server))
    nobody = pki.issue(ca_key, ca, pki.new_key().public_key(), pki.CertSpec("", ("g",)), now)
    with pytest.raises(errors.Unauthorized, match="empty CN"):
        auth.authenticate(_der(nobody))
    with pytest.raises(errors.Unauthorized):
        auth.authenticate(b"\x30\x03garbage")


async def test_bootstrap_token_authenticator() -> None:
    token = "abcdef.0123456789abcdef"
    now = pki.utcnow()
    secrets = {"bootstrap-token-abcdef": bootstrap.token_secret(token, 3600, "t", now)}

    async def get(name: str) -> dict[str, Any] | None:
        return secrets.get(name)

    clock = Clock(now)
    auth = bootstrap_authn.BootstrapTokenAuthenticator(get, clock)
    assert await auth.authenticate("not-a-bootstrap-token") is None
    user = await auth.authenticate(token)
    assert user == user_mod.UserInfo("system:bootstrap:abcdef",
                                     groups=(identities.BOOTSTRAPPERS, identities.AUTHENTICATED))
    for bad in ("abcdef.0123456789abcdee", "zzzzzz.0123456789abcdef"):
        with pytest.raises(errors.Unauthorized):
            await auth.authenticate(bad)
    clock.now = now + 2 * datetime.timedelta(hours=1)
    with pytest.raises(errors.Unauthorized):
        await auth.authenticate(token)


async def test_service_account_authenticator() -> None:
    key = pki.new_rsa_key()
    pods = {("ns", "p"): {"metadata": {"uid": "pod-uid"}}}

    async def get_pod(ns: str, name: str) -> dict[str, Any] | None:
        return pods.get((ns, name))

    auth = serviceaccount.ServiceAccountAuthenticator([key.public_key()], get_pod=get_pod)
    assert await auth.authenticate("abcdef.0123456789abcdef") is None  # not a JWT: another authenticator's
    token = serviceaccount.issue(key, namespace="ns", name="sa", uid="sa-uid", audiences=[serviceaccount.DEFAULT_ISSUER],
                                 pod=("p", "pod-uid"))
    user = await auth.authenticate(token)
    assert user is not None and user.name == "system:serviceaccount:ns:sa" and user.uid == "sa-uid"
    assert user.groups == ("system:serviceaccounts", "system:serviceaccounts:ns", identities.AUTHENTICATED)
    assert user.extra[serviceaccount.EXTRA_POD_NAME] == ("p",)
    del pods[("ns", "p")]
    with pytest.raises(errors.Unauthorized):
        await auth.authenticate(token)
    expired = serviceaccount.issue(key, namespace="ns", name="sa", uid="u", audiences=[serviceaccount.DEFAULT_ISSUER],
                                   now=pki.utcnow() - DAY)
    with pytest.raises(errors.Unauthorized):
        await auth.authenticate(expired)
    stranger = serviceaccount.issue(pki.new_rsa_key(), namespace="ns", name="sa", uid="u",
                                    audiences=[serviceaccount.DEFAULT_ISSUER])
    with pytest.raises(errors.Unauthorized):
        await auth.authenticate(stranger)


def test_bootstrap_groups_and_expiry_of_unreadable_dates() -> None:
    s = bootstrap.token_secret("abcdef.0123456789abcdef", 0, "t", pki.utcnow())
    s["data"]["expiration"] = "bm90IGEgZGF0ZQ=="  # "not a date"
    assert bootstraptoken.is_expired(s, pki.utcnow())
