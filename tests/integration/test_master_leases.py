"""The `kubernetes` Endpoints lists the live API servers (issue 14): each renews a master
lease in etcd; one that stops cleanly leaves at once, one killed with SIGKILL drops out when
its lease expires. Pods dialling the `kubernetes` Service then never get a dead master."""
from __future__ import annotations

import pathlib
import uuid
from typing import Iterator

import pytest

from minik8s.util import procs
from tests import conftest
from tests.conftest import ApiServerProcess

pytestmark = pytest.mark.integration

# Documentation addresses (RFC 5737): the servers only advertise them, nothing dials them.
FIRST, SECOND, THIRD = "192.0.2.11", "192.0.2.12", "192.0.2.13"


@pytest.fixture
def prefix() -> str:
    return f"/masterleases-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def started() -> Iterator[list[ApiServerProcess]]:
    servers: list[ApiServerProcess] = []
    yield servers
    for s in servers:
        if s.proc.poll() is None:
            s.stop()


def start(tmp_path: pathlib.Path, etcd: procs.EtcdProcess, prefix: str, address: str, ttl: int) -> ApiServerProcess:
    return conftest.start_apiserver(tmp_path, etcd, prefix=prefix, service_accounts=False, extra=[
        "--advertise-address", address, "--endpoint-reconciler-ttl", str(ttl),
        "--endpoint-reconciler-interval", "0.5"])


def addresses(server: ApiServerProcess) -> list[str] | None:
    status, ep = conftest.http(server, "GET", "/api/v1/namespaces/default/endpoints/kubernetes", check=False)
    if status != 200:
        return None
    return [a["ip"] for s in ep.get("subsets") or [] for a in s.get("addresses") or []]


def wait_addresses(server: ApiServerProcess, want: list[str], timeout: float, what: str) -> None:
    procs.wait_for(lambda: addresses(server) == want, timeout,
                   what=f"{what} (kubernetes Endpoints {addresses(server)}, want {want})")


def test_the_kubernetes_endpoints_follow_the_live_api_servers(
        tmp_path: pathlib.Path, etcd: procs.EtcdProcess, prefix: str, started: list[ApiServerProcess]) -> None:
    # The second's lease lasts a minute: it can only leave within the test's wait by
    # removing itself when it stops; the third's lasts 3 s, so its death shows by expiry.
    started.append(start(tmp_path, etcd, prefix, FIRST, ttl=3))
    started.append(start(tmp_path, etcd, prefix, SECOND, ttl=60))
    started.append(start(tmp_path, etcd, prefix, THIRD, ttl=3))
    first, second, third = started
    wait_addresses(first, [FIRST, SECOND, THIRD], 20, "all three servers listed")
    status, ep = conftest.http(first, "GET", "/api/v1/namespaces/default/endpoints/kubernetes")
    # (In a cluster every master serves one port; here each has its own, and the last
    # writer's is listed.)
    [port] = ep["subsets"][0]["ports"]
    assert port["name"] == "https" and port["port"] in {s.port for s in started}

    second.stop()
    wait_addresses(first, [FIRST, THIRD], 20, "a cleanly stopped server removed at once")

    third.proc.kill()
    third.proc.wait(timeout=10)
    wait_addresses(first, [FIRST], 30, "a killed server dropped when its lease expired")

    # It comes back when restarted (the Service's address set is level-triggered).
    started.append(start(tmp_path, etcd, prefix, THIRD, ttl=3))
    wait_addresses(first, [FIRST, THIRD], 20, "a restarted server listed again")
