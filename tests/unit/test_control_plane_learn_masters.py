"""The masters' controller manager and scheduler learn the live masters (issue 14), as the
node agents do: their clients read the `kubernetes` Endpoints, so a master that joined after
them is a server to fail over to. With a kubeconfig (how the masters run them) and with
--server."""
from __future__ import annotations

import pathlib
from typing import Callable

import pytest

from minik8s.client import kubeconfig
from minik8s.client import rest
from minik8s.controllers import manager
from minik8s.scheduler import server as scheduler_server

CONNECTS: dict[str, Callable[[str, str], rest.Client]] = {
    "controller-manager": lambda server, kc: manager.connect(manager.Config(server=server, kubeconfig=kc)),
    "scheduler": lambda server, kc: scheduler_server.connect(scheduler_server.Config(server=server, kubeconfig=kc)),
}


@pytest.mark.parametrize("component", sorted(CONNECTS))
async def test_client_learns_masters_with_server_flag(component: str) -> None:
    client = CONNECTS[component]("https://192.0.2.1:6443", "")
    try:
        assert client.learn_masters == rest.LEARN_MASTERS > 0
    finally:
        await client.close()


@pytest.mark.parametrize("component", sorted(CONNECTS))
async def test_client_learns_masters_with_kubeconfig(component: str, tmp_path: pathlib.Path) -> None:
    path = tmp_path / "component.conf"
    kubeconfig.write_context(path, "c", "https://192.0.2.1:6443", token="t",
                             servers=["https://192.0.2.1:6443", "https://192.0.2.2:6443"])
    client = CONNECTS[component]("https://127.0.0.1:6443", str(path))
    try:
        assert client.learn_masters == rest.LEARN_MASTERS > 0
        assert client.servers == ["https://192.0.2.1:6443", "https://192.0.2.2:6443"]
    finally:
        await client.close()
