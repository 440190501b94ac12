"""The leader election flags of `minik8s controller-manager` and `minik8s scheduler`:
Kubernetes' names and Go durations, the old spellings, client-go's sanity rules."""
from __future__ import annotations

from typing import Any

import pytest
from click.testing import CliRunner

from minik8s.cli import main as cli_main
from minik8s.cli.main import cli

cli_main._register()  # the subcommands, as `minik8s` itself registers them


@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    from minik8s.controllers import manager
    from minik8s.scheduler import server

    got: list[Any] = []

    async def serve(config: Any) -> None:
        got.append(config)
    monkeypatch.setattr(manager, "serve", serve)
    monkeypatch.setattr(server, "serve", serve)
    return got


@pytest.mark.parametrize("command,lease", [("controller-manager", "kube-controller-manager"),
                                           ("scheduler", "kube-scheduler")])
def test_defaults_are_kubernetes(captured: list[Any], command: str, lease: str) -> None:
    result = CliRunner().invoke(cli, [command])
    assert result.exit_code == 0, result.output
    config = captured[0]
    assert (config.lease_duration, config.renew_deadline, config.retry_period) == (15.0, 10.0, 2.0)
    assert (config.lease_name, config.lease_namespace, config.leader_elect) == (lease, "kube-system", True)


@pytest.mark.parametrize("command", ["controller-manager", "scheduler"])
def test_kubernetes_flag_names_and_durations(captured: list[Any], command: str) -> None:
    result = CliRunner().invoke(cli, [command, "--leader-elect-lease-duration", "1m", "--leader-elect-renew-deadline",
                                      "40s", "--leader-elect-retry-period", "500ms",
                                      "--leader-elect-resource-name", "x", "--leader-elect-resource-namespace", "ha"])
    assert result.exit_code == 0, result.output
    config = captured[0]
    assert (config.lease_duration, config.renew_deadline, config.retry_period) == (60.0, 40.0, 0.5)
    assert (config.lease_name, config.lease_namespace) == ("x", "ha")


def test_old_spellings_still_work(captured: list[Any]) -> None:
    result = CliRunner().invoke(cli, ["scheduler", "--lease-duration", "3", "--renew-deadline", "2",
                                      "--retry-period", "0.5", "--lease-name", "s"])
    assert result.exit_code == 0, result.output
    assert (captured[0].lease_duration, captured[0].lease_name) == (3.0, "s")


@pytest.mark.parametrize("args,message", [
    (["--leader-elect-lease-duration", "5s"], "leaseDuration must be greater than renewDeadline"),
    (["--leader-elect-renew-deadline", "2s"], "renewDeadline must be greater than retryPeriod"),
    (["--leader-elect-retry-period", "soon"], "is not a duration"),
    (["--leader-elect-retry-period", "0s"], "must be positive"),
])
def test_bad_timings_are_usage_errors(captured: list[Any], args: list[str], message: str) -> None:
    result = CliRunner().invoke(cli, ["controller-manager", *args])
    assert result.exit_code == 2 and message in result.output, result.output
    assert captured == []


def test_config_file_keys_keep_their_names(captured: list[Any], tmp_path: Any) -> None:
    """`--set controller-manager.lease-duration=4` (the cluster configs) and --config files."""
    cfg = tmp_path / "c.yaml"
    cfg.write_text("controller-manager:\n  lease-duration: 4\n  renew-deadline: 3s\n  retry-period: 1\n"
                   "  lease-name: cm\n")
    result = CliRunner().invoke(cli, ["--config", str(cfg), "controller-manager"])
    assert result.exit_code == 0, result.output
    assert (captured[0].lease_duration, captured[0].renew_deadline, captured[0].retry_period) == (4.0, 3.0, 1.0)
    assert captured[0].lease_name == "cm"
