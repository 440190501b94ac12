"""Probes: the three handlers against loopback servers, thresholds and per-instance results."""
from __future__ import annotations

import asyncio
import socket
from typing import Any, AsyncIterator

import pytest
from aiohttp import web

from minik8s.kubelet import fakeruntime
from minik8s.kubelet import prober
from minik8s.kubelet import runtime
from minik8s.util import procs


@pytest.fixture
async def http_server() -> AsyncIterator[tuple[int, dict[str, int]]]:
    codes = {"code": 200}

    async def handle(request: web.Request) -> web.Response:
        return web.Response(status=codes["code"], text="x")

    app = web.Application()
    app.router.add_get("/{tail:.*}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    port = procs.free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield port, codes
    await runner.cleanup()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def manager(rt: Any = None, changes: list[str] | None = None, events: list[str] | None = None) -> prober.ProberManager:
    return prober.ProberManager(rt or fakeruntime.FakeRuntime(),
                                lambda uid: (changes if changes is not None else []).append(uid),
                                lambda pod, t, reason, msg, fp: (events if events is not None else []).append(msg))


@pytest.mark.parametrize("code, ok", [(200, True), (302, True), (399, True), (400, False), (500, False)])
async def test_http_probe_status_codes(http_server: Any, code: int, ok: bool) -> None:
    port, codes = http_server
    codes["code"] = code
    m = manager()
    result, message = await m.run_probe({"httpGet": {"path": "/healthz", "port": port}, "timeoutSeconds": 2},
                                        {}, "127.0.0.1", "cid")
    assert result is ok
    if not ok:
        assert message == f"HTTP probe failed with statuscode: {code}"
    await m.stop()


async def test_http_probe_named_port(http_server: Any) -> None:
    port, _ = http_server
    m = manager()
    result, _ = await m.run_probe({"httpGet": {"port": "web"}}, {"ports": [{"name": "web", "containerPort": port}]},
                                  "127.0.0.1", "cid")
    assert result
    await m.stop()


async def test_tcp_probe(http_server: Any) -> None:
    port, _ = http_server
    m = manager()
    assert (await m.run_probe({"tcpSocket": {"port": port}}, {}, "127.0.0.1", "cid"))[0]
    ok, message = await m.run_probe({"tcpSocket": {"port": closed_port()}}, {}, "127.0.0.1", "cid")
    assert not ok and "connection refused" in message
    await m.stop()


async def test_exec_probe() -> None:
    rt = fakeruntime.FakeRuntime()
    rt.exec_results[("check",)] = runtime.ExecResult(1, b"not yet")
    m = manager(rt)
    assert (await m.run_probe({"exec": {"command": ["true"]}}, {}, "", "cid"))[0]
    assert await m.run_probe({"exec": {"command": ["check"]}}, {}, "", "cid") == (False, "not yet")
    assert ("exec_sync", "cid", ("check",)) in rt.calls
    await m.stop()


def pod_with(probe_kind: str, probe: dict[str, Any]) -> dict[str, Any]:
    return {"metadata": {"name": "p", "namespace": "ns", "uid": "u1"},
            "spec": {"containers": [{"name": "app", "image": "x", f"{probe_kind}Probe": probe}]}}


def rs_with(cid: str, state: str = runtime.RUNNING, started: float = 0.0) -> runtime.PodRuntimeStatus:
    sandbox = runtime.ContainerStatus("sb", "POD", "u1", "p", "ns", True, runtime.RUNNING, 0, ip="127.0.0.1")
    app = runtime.ContainerStatus(cid, "app", "u1", "p", "ns", False, state, 0, started_at=started)
    return runtime.PodRuntimeStatus("u1", sandboxes=(sandbox,), containers=(app,))


async def test_readiness_follows_the_failure_and_success_thresholds(http_server: Any) -> None:
    port, codes = http_server
    changes: list[str] = []
    events: list[str] = []
    m = manager(changes=changes, events=events)
    m.started_at -= 1000  # not a freshly restarted kubelet: no initial jitter
    pod = pod_with("readiness", {"httpGet": {"port": port}, "periodSeconds": 0.05, "failureThreshold": 2,
                                 "successThreshold": 2, "timeoutSeconds": 1})
    m.update_pod(pod, rs_with("c1"))
    assert not m.ready("u1", "app", "c1")  # readiness starts out failed
    await procs.wait_for_async(lambda: m.ready("u1", "app", "c1"), 5, what="ready")
    assert changes == ["u1"]
    codes["code"] = 500
    await procs.wait_for_async(lambda: not m.ready("u1", "app", "c1"), 5, what="unready")
    assert "Readiness probe failed: HTTP probe failed with statuscode: 500" in events
    # A new instance of the container starts unready again.
    codes["code"] = 200
    m.update_pod(pod, rs_with("c2"))
    assert not m.ready("u1", "app", "c2")
    await procs.wait_for_async(lambda: m.ready("u1", "app", "c2"), 5)
    await m.stop()


async def test_liveness_failure_is_reported_once_per_instance() -> None:
    changes: list[str] = []
    m = manager(changes=changes)
    m.started_at -= 1000
    pod = pod_with("liveness", {"tcpSocket": {"port": closed_port()}, "periodSeconds": 0.02, "failureThreshold": 3})
    m.update_pod(pod, rs_with("c1"))
    assert m.failed("u1", "app", "c1") is None  # alive until proven otherwise
    await procs.wait_for_async(lambda: m.failed("u1", "app", "c1") == "liveness", 5)
    assert changes == ["u1"]
    m.remove_pod("u1")
    assert m.failed("u1", "app", "c1") is None
    await m.stop()


async def test_initial_delay_and_startup_probe_gate_the_others(http_server: Any) -> None:
    port, _ = http_server
    m = manager()
    m.started_at -= 1000
    m.clock = lambda: 100.0
    pod = pod_with("startup", {"httpGet": {"port": port}, "periodSeconds": 0.02})
    pod["spec"]["containers"][0]["readinessProbe"] = {"httpGet": {"port": port}, "periodSeconds": 0.02,
                                                      "initialDelaySeconds": 50}
    m.update_pod(pod, rs_with("c1", started=90.0))
    assert not m.started("u1", "app", "c1")
    await procs.wait_for_async(lambda: m.started("u1", "app", "c1"), 5, what="started")
    # Readiness waits for its initial delay (started at 90, delay 50, clock at 100).
    for _ in range(10):
        await asyncio.sleep(0.02)
        assert not m.ready("u1", "app", "c1")
    m.clock = lambda: 141.0
    await procs.wait_for_async(lambda: m.ready("u1", "app", "c1"), 5, what="ready after the delay")
    await m.stop()


async def test_grpc_probe_against_a_health_server() -> None:
    import grpc

    from minik8s.kubelet import prober as prober_mod

    statuses = {"": 1, "db": 2}
    seen: list[bytes] = []

    async def check(request: bytes, context: object) -> bytes:
        seen.append(request)
        service = request[2:].decode() if request else ""
        return bytes([0x08, statuses.get(service, 3)])

    handler = grpc.method_handlers_generic_handler("grpc.health.v1.Health", {
        "Check": grpc.unary_unary_rpc_method_handler(check, request_deserializer=lambda b: b,
                                                     response_serializer=lambda b: b)})
    server = grpc.aio.server()
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        assert await prober_mod.grpc_probe({"port": port}, "127.0.0.1", 2) == (True, "")
        ok, why = await prober_mod.grpc_probe({"port": port, "service": "db"}, "127.0.0.1", 2)
        assert not ok and why == 'service unhealthy (responded with "NOT_SERVING")'
        assert seen[1] == b"\x0a\x02db"
    finally:
        await server.stop(None)
    ok, why = await prober_mod.grpc_probe({"port": port}, "127.0.0.1", 1)
    assert not ok and "failed to connect" in why
