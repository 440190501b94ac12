"""Bootstrap tokens: format, expiry, the API server's checks and the cluster-info signature."""
from __future__ import annotations

import base64
import datetime
import json

import pytest

from minik8s.api import bootstraptoken
from minik8s.cluster import bootstrap

NOW = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
TOKEN = "abcdef.0123456789abcdef"


def test_generated_tokens_have_kubeadms_form() -> None:
    tokens = {bootstrap.generate_token() for _ in range(20)}
    assert len(tokens) == 20
    for t in tokens:
        bootstrap.parse_token(t)


@pytest.mark.parametrize("bad", ["abcdef", "ABCDEF.0123456789abcdef", "abcde.0123456789abcdef", "abcdef.012345"])
def test_parse_token_rejects(bad: str) -> None:
    with pytest.raises(bootstrap.BootstrapError):
        bootstrap.parse_token(bad)


def test_parse_ttl() -> None:
    assert bootstrap.parse_ttl("24h") == 86400
    assert bootstrap.parse_ttl("1h30m") == 5400
    assert bootstrap.parse_ttl("90s") == 90
    assert bootstrap.parse_ttl("0") == 0
    with pytest.raises(ValueError):
        bootstrap.parse_ttl("1d")


def test_token_secret_is_kubeadms_shape() -> None:
    s = bootstrap.token_secret(TOKEN, 3600, "test", NOW)
    assert s["metadata"] == {"name": "bootstrap-token-abcdef", "namespace": "kube-system"}
    assert s["type"] == "bootstrap.kubernetes.io/token"
    assert set(s["data"]) >= {"token-id", "token-secret", "expiration", "usage-bootstrap-authentication"}
    assert "expiration" not in bootstrap.token_secret(TOKEN, 0, "test", NOW)["data"]


def test_check_token() -> None:
    s = bootstrap.token_secret(TOKEN, 3600, "test", NOW)
    assert bootstraptoken.check(s, TOKEN, NOW + datetime.timedelta(minutes=59)) == ("system:bootstrappers",)
    with pytest.raises(bootstraptoken.TokenError, match="expired"):
        bootstraptoken.check(s, TOKEN, NOW + datetime.timedelta(hours=1))
    with pytest.raises(bootstraptoken.TokenError, match="wrong secret"):
        bootstraptoken.check(s, "abcdef.0123456789abcde0", NOW)
    with pytest.raises(bootstraptoken.TokenError, match="not of type"):
        bootstraptoken.check({**s, "type": "Opaque"}, TOKEN, NOW)
    with pytest.raises(bootstraptoken.TokenError, match="being deleted"):
        bootstraptoken.check({**s, "metadata": {**s["metadata"], "deletionTimestamp": "x"}}, TOKEN, NOW)
    not_for_auth = {**s, "data": {**s["data"], "usage-bootstrap-authentication": ""}}
    with pytest.raises(bootstraptoken.TokenError, match="not for authentication"):
        bootstraptoken.check(not_for_auth, TOKEN, NOW)
    with pytest.raises(bootstraptoken.TokenError, match="no bootstrap token"):
        bootstraptoken.check(None, TOKEN, NOW)


def test_extra_groups_must_be_bootstrappers_subgroups() -> None:
    s = bootstrap.token_secret(TOKEN, 0, "test", NOW)
    s["data"]["auth-extra-groups"] = base64.b64encode(b"system:bootstrappers:workers").decode()
    assert bootstraptoken.check(s, TOKEN, NOW) == ("system:bootstrappers", "system:bootstrappers:workers")
    s["data"]["auth-extra-groups"] = base64.b64encode(b"system:masters").decode()
    with pytest.raises(bootstraptoken.TokenError, match="auth-extra-groups"):
        bootstraptoken.check(s, TOKEN, NOW)


def test_cluster_info_round_trip_and_join_command() -> None:
    info = bootstrap.ClusterInfo("https://10.0.0.1:6443", "10.244.0.0/16")
    secret = bootstrap.cluster_info_secret(info)
    assert bootstraptoken.field(secret, "server") == "https://10.0.0.1:6443"
    assert bootstrap.join_command(info.server, TOKEN, "sha256:ab") == \
        f"minik8s join https://10.0.0.1:6443 --token {TOKEN} --discovery-token-ca-cert-hash sha256:ab"


def test_detached_signature_is_kubeadms_and_needs_the_token() -> None:
    content = bootstrap.public_kubeconfig("https://10.0.0.1:6443", b"-----BEGIN CERTIFICATE-----\n")
    sig = bootstraptoken.detached_signature(content, "abcdef", "0123456789abcdef")
    header, empty, _ = sig.split(".")
    assert empty == ""
    assert json.loads(base64.urlsafe_b64decode(header + "==")) == {"alg": "HS256", "kid": "abcdef"}
    assert bootstraptoken.verify_detached_signature(content, sig, "abcdef", "0123456789abcdef")
    assert not bootstraptoken.verify_detached_signature(content + " ", sig, "abcdef", "0123456789abcdef")
    assert not bootstraptoken.verify_detached_signature(content, sig, "abcdef", "0123456789abcde0")
    assert not bootstraptoken.verify_detached_signature(content, sig, "zzzzzz", "0123456789abcdef")
    assert not bootstraptoken.verify_detached_signature(content, "garbage", "abcdef", "0123456789abcdef")
