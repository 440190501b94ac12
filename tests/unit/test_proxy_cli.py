"""`minik8s proxy` option parsing: what reaches the proxy's Config, and what is refused."""
from __future__ import annotations

from typing import Any

import pytest
from click.testing import CliRunner

from minik8s.cli import cmd_proxy  # noqa: F401 - registers the command
from minik8s.cli.main import cli
from minik8s.proxy import server as proxy_server


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[proxy_server.Config]:
    seen: list[proxy_server.Config] = []

    async def fake_serve(config: proxy_server.Config) -> None:
        seen.append(config)

    monkeypatch.setattr(proxy_server, "serve", fake_serve)
    return seen


def invoke(*args: str, **kw: Any) -> Any:
    return CliRunner().invoke(cli, ["proxy", *args], **kw)


def test_options_reach_the_config(served: list[proxy_server.Config]) -> None:
    result = invoke("--server", "http://172.31.0.1:6443", "--mode", "userspace", "--node-name", "node1",
                    "--node-ip", "172.31.0.11", "--cluster-cidr", "10.244.0.0/16", "--nodeport-addresses",
                    "172.31.0.11,10.0.0.0/8", "--sync-period", "20", "--min-sync-period", "0.5",
                    "--udp-timeout", "3")
    assert result.exit_code == 0, result.output
    (config,) = served
    assert (config.server, config.mode, config.node_name, config.node_ip) == \
        ("http://172.31.0.1:6443", "userspace", "node1", "172.31.0.11")
    assert config.nodeport_addresses == ("172.31.0.11/32", "10.0.0.0/8")
    assert (config.sync_period, config.min_sync_period, config.udp_timeout) == (20.0, 0.5, 3.0)


def test_defaults_are_the_iptables_mode(served: list[proxy_server.Config]) -> None:
    assert invoke().exit_code == 0
    (config,) = served
    assert (config.mode, config.cluster_cidr, config.nodeport_addresses) == ("iptables", "10.244.0.0/16", ())
    assert (config.sync_period, config.min_sync_period) == (30.0, 0.1)


@pytest.mark.parametrize("args", [
    ["--mode", "ipvs"],
    ["--cluster-cidr", "10.244.0.0/33"],
    ["--node-ip", "not-an-ip"],
    ["--nodeport-addresses", "1.2.3.4,nope"],
    ["--sync-period", "1", "--min-sync-period", "5"],
])
def test_bad_options_are_refused(served: list[proxy_server.Config], args: list[str]) -> None:
    result = invoke(*args)
    assert result.exit_code == 2, result.output
    assert served == []
