"""Bootstrap tokens: format, expiry, and the checks `minik8s join` makes."""
from __future__ import annotations

import datetime

import pytest

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
    bootstrap.check_token(s, TOKEN, NOW + datetime.timedelta(minutes=59))
    with pytest.raises(bootstrap.BootstrapError, match="expired"):
        bootstrap.check_token(s, TOKEN, NOW + datetime.timedelta(hours=1))
    with pytest.raises(bootstrap.BootstrapError, match="wrong token secret"):
        bootstrap.check_token(s, "abcdef.0123456789abcdeX".lower().replace("x", "0"), NOW)
    with pytest.raises(bootstrap.BootstrapError, match="not a bootstrap token"):
        bootstrap.check_token({**s, "type": "Opaque"}, TOKEN, NOW)


def test_cluster_info_round_trip() -> None:
    info = bootstrap.ClusterInfo("http://10.0.0.1:6443", "kt", "10.244.0.0/16")
    data = bootstrap.cluster_info_secret(info)["data"]
    assert bootstrap._unb64(data, "server") == "http://10.0.0.1:6443"
    assert bootstrap.join_command(info.server, TOKEN) == f"minik8s join http://10.0.0.1:6443 --token {TOKEN}"
