"""The API server's authentication pieces on their own: users, what anonymous may reach, authenticators."""
from __future__ import annotations

import datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

from minik8s.api import bootstraptoken
from minik8s.api import errors
from minik8s.api import identities
from minik8s.apiserver.authn import bootstrap as bootstrap_authn
from minik8s.apiserver.authn import middleware
from minik8s.apiserver.authn import serviceaccount
from minik8s.apiserver.authn import user as user_mod
from minik8s.apiserver.authn import x509 as x509_authn
from minik8s.cluster import bootstrap
from minik8s.util import pki

DAY = datetime.timedelta(days=1)


def test_authenticated_users_are_in_system_authenticated_and_answer_as_userinfo() -> None:
    u = user_mod.authenticated("a", uid="1", groups=["g"], extra={"k": ["v"]})
    assert u.groups == ("g", identities.AUTHENTICATED) and u.extra["k"] == ("v",)
    assert user_mod.authenticated("a", groups=("g", identities.AUTHENTICATED)).groups == ("g", identities.AUTHENTICATED)
    assert user_mod.to_api(u) == {"username": "a", "uid": "1", "groups": ["g", identities.AUTHENTICATED],
                                  "extra": {"k": ["v"]}}
    anonymous = user_mod.anonymous()
    assert anonymous.name == identities.ANONYMOUS and anonymous.groups == (identities.UNAUTHENTICATED,)


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
