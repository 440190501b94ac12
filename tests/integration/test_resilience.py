"""The API server when etcd is slow or gone, when watchers are slow, and when history is gone."""
from __future__ import annotations

import asyncio
import pathlib
import socket
import time
from typing import Iterator

import pytest

from minik8s.api import errors
from minik8s.api import identities
from minik8s.api import resources
from minik8s.client import rest
from minik8s.util import procs
from tests.conftest import ApiServerProcess, http, start_apiserver
from tests.integration.test_api import collect, pod

PODS = resources.must("", "v1", "pods")


@pytest.fixture
def private_server(tmp_path: pathlib.Path) -> Iterator[ApiServerProcess]:
    """An etcd and API server of this test's own, which it may break."""
    etcd = procs.EtcdProcess(str(tmp_path / "etcd"))
    etcd.start()
    server = start_apiserver(tmp_path, etcd, extra=["--watch-window", "20"])
    try:
        yield server
    finally:
        server.stop()
        etcd.resume()
        etcd.stop()


def test_etcd_down_answers_503_quickly_and_recovers(private_server: ApiServerProcess) -> None:
    http(private_server, "POST", "/api/v1/namespaces/default/pods", pod("before"))
    private_server.etcd.stop()
    started = time.monotonic()
    status, body = http(private_server, "GET", "/api/v1/namespaces/default/pods/before", check=False)
    elapsed = time.monotonic() - started
    assert status in (503, 504), body
    assert body["kind"] == "Status" and body["status"] == "Failure"
    # Bounded: the server's etcd timeout is 2s here; allow generous slack on a noisy machine.
    assert elapsed < 30
    status, body = http(private_server, "POST", "/api/v1/namespaces/default/pods", pod("during"), check=False)
    assert status in (503, 504)
    private_server.etcd.start()

    def recovered() -> bool:
        status, _ = http(private_server, "GET", "/api/v1/namespaces/default/pods/before", check=False)
        return status == 200
    procs.wait_for(recovered, 60, interval=0.2, what="API server to recover after etcd came back")
    _, listing = http(private_server, "GET", "/api/v1/namespaces/default/pods")
    assert [p["metadata"]["name"] for p in listing["items"]] == ["before"], "nothing half-written"


def test_slow_etcd_answers_504_not_a_hang(private_server: ApiServerProcess) -> None:
    private_server.etcd.pause()
    try:
        started = time.monotonic()
        status, body = http(private_server, "GET", "/api/v1/namespaces/default/pods", check=False)
        assert status == 504 and body["reason"] == "Timeout"
        assert time.monotonic() - started < 30
    finally:
        private_server.etcd.resume()
    procs.wait_for(lambda: http(private_server, "GET", "/api/v1/namespaces/default/pods", check=False)[0] == 200,
                   60, interval=0.2, what="recovery after SIGCONT")


async def test_old_resource_version_is_410_expired(private_server: ApiServerProcess) -> None:
    async with private_server.client() as client:
        first = await client.create(PODS, pod("old"), "default")
        # The server keeps 20 events per resource here; push the first out of the window.
        for i in range(30):
            await client.patch(PODS, "old", {"metadata": {"labels": {"n": str(i)}}}, "default")
        events = await collect(client, PODS, "default", 1,
                               resource_version=first["metadata"]["resourceVersion"])
        assert events[0]["type"] == "ERROR"
        assert events[0]["object"]["code"] == 410 and events[0]["object"]["reason"] == "Expired"


async def test_slow_watcher_does_not_block_writes_or_other_watchers(apiserver: ApiServerProcess,
                                                                   client: rest.Client, namespace: str) -> None:
    rv = (await client.list(PODS, namespace))["metadata"]["resourceVersion"]
    # A watcher that never reads: a raw socket with a tiny receive buffer.
    stalled = socket.create_connection(("127.0.0.1", apiserver.port))
    stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stalled.sendall(f"GET /api/v1/namespaces/{namespace}/pods?watch=true&resourceVersion={rv} HTTP/1.1\r\n"
                    f"Host: x\r\n\r\n".encode())
    try:
        n = 150
        reader = asyncio.create_task(collect(client, PODS, namespace, n, resource_version=rv))
        big = {"k": "v" * 4000}
        started = time.monotonic()
        for i in range(n):
            obj = pod(f"s{i}")
            obj["metadata"]["annotations"] = big
            await client.create(PODS, obj, namespace)
        write_time = time.monotonic() - started
        events = await asyncio.wait_for(reader, 60)
        assert len(events) == n
        assert [e["object"]["metadata"]["name"] for e in events] == [f"s{i}" for i in range(n)]
        # Not a timing assertion on the happy path: only guards against writes
        # waiting on the stalled watcher (which would block until a timeout).
        assert write_time < 120
    finally:
        stalled.close()


async def test_namespace_deletion_deletes_its_content(apiserver: ApiServerProcess, client: rest.Client,
                                                      tmp_path: pathlib.Path) -> None:
    import subprocess
    import sys

    ns = "doomed-" + str(int(time.time() * 1000) % 100000)
    await client.create(resources.must("", "v1", "namespaces"), {"metadata": {"name": ns}})
    await client.create(PODS, pod("p1"), ns)
    await client.create(resources.must("apps", "v1", "deployments"), {
        "metadata": {"name": "d"}, "spec": {"selector": {"matchLabels": {"a": "b"}}, "template": {
            "metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c", "image": "i:1"}]}}}}, ns)
    log = open(tmp_path / "cm.log", "wb")
    cm = subprocess.Popen([sys.executable, "-m", "minik8s", "controller-manager", "--kubeconfig",
                           apiserver.kubeconfig_for(identities.CONTROLLER_MANAGER),
                           "--controllers", "namespace", "--no-leader-elect"], stdout=log, stderr=subprocess.STDOUT)
    try:
        await client.delete(resources.must("", "v1", "namespaces"), ns)
        terminating = await client.get(resources.must("", "v1", "namespaces"), ns)
        assert terminating["status"]["phase"] == "Terminating"
        with pytest.raises(errors.Forbidden):
            await client.create(PODS, pod("late"), ns)

        async def gone() -> bool:
            return await client.get_or_none(resources.must("", "v1", "namespaces"), ns) is None
        await procs.wait_for_async(gone, 30, what="namespace to be removed")
        assert (await client.list(PODS, ns))["items"] == []
    finally:
        procs.stop_pid(cm.pid)
        cm.wait()
        log.close()


def test_default_namespaces_cannot_be_deleted(apiserver: ApiServerProcess) -> None:
    status, body = http(apiserver, "DELETE", "/api/v1/namespaces/default", check=False)
    assert status == 403 and body["reason"] == "Forbidden"
