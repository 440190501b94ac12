"""exec, attach and port-forward through the API server's node proxy, over SPDY and websockets,
to a kubelet server on a fake engine (all on loopback).

The client side is minik8s.util.spdy's session in client mode speaking what kubectl
speaks (request, headers and streams as client-go's remotecommand and portforward
packages make them); the real kubectl runs in tests/integration/test_streams_up.py.
"""
from __future__ import annotations

import asyncio
import json
import urllib.parse
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from minik8s.api import errors
from minik8s.apiserver import handlers
from minik8s.apiserver import nodeproxy
from minik8s.apiserver.streams import remotecommand
from minik8s.apiserver.streams import upgrade
from minik8s.kubelet import fakeruntime
from minik8s.kubelet import runtime
from minik8s.util import procs
from minik8s.util import spdy
from tests.unit.test_kubelet_server import ANONYMOUS
from tests.unit.test_kubelet_server import APISERVER
from tests.unit.test_kubelet_server import PODS
from tests.unit.test_kubelet_server import Kubelet
from tests.unit.test_kubelet_server import Store
from tests.unit.test_kubelet_server import node


@pytest.fixture
async def kubelet() -> AsyncIterator[Kubelet]:
    k = Kubelet()
    await k.server.start()
    yield k
    await k.server.stop()


@pytest.fixture
async def api(kubelet: Kubelet) -> AsyncIterator[tuple[str, int]]:
    proxy = nodeproxy.make_node_proxy(Store(kubelet.pod, node(kubelet.server.port)), APISERVER)  # type: ignore[arg-type]

    async def route(request: web.Request) -> web.StreamResponse:
        try:
            return await proxy(request, handlers.Target(PODS, "ns", request.match_info["name"],
                                                        request.match_info["sub"]))
        except errors.StatusError as e:
            return handlers.status_response(e)

    app = web.Application()
    app.router.add_route("*", "/api/v1/namespaces/ns/pods/{name}/{sub}", route)
    runner = web.AppRunner(app)
    await runner.setup()
    port = procs.free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield "/api/v1/namespaces/ns/pods", port
    await proxy.close()  # type: ignore[attr-defined]
    await runner.cleanup()


@pytest.fixture
async def echo() -> AsyncIterator[int]:
    """A TCP server that echoes until the client's EOF, then closes."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()


async def spdy_upgrade(port: int, path: str, protocols: list[str]) -> tuple[int, dict[str, str], spdy.Session | None]:
    """POST `path` with Upgrade: SPDY/3.1 as client-go's SPDY round tripper does."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    lines = [f"POST {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: Upgrade", "Upgrade: SPDY/3.1",
             "Content-Length: 0"] + [f"X-Stream-Protocol-Version: {p}" for p in protocols]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
    await writer.drain()
    head = (await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)).decode()
    status = int(head.split(" ", 2)[1])
    headers: dict[str, str] = {}
    for line in head.split("\r\n")[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers.setdefault(k.strip().lower(), v.strip())
    if status != 101:
        writer.close()
        return status, headers, None
    session = spdy.Session(spdy.StreamChannel(reader, writer), server=False)
    session.start()
    return status, headers, session


def query(**params: Any) -> str:
    items: list[tuple[str, str]] = []
    for k, v in params.items():
        for x in v if isinstance(v, list) else [v]:
            items.append((k, str(x)))
    return urllib.parse.urlencode(items)


async def run_remote(session: spdy.Session, *, stdin: bytes | None, kinds: tuple[str, ...] = ("stdout",),
                     resize: dict[str, int] | None = None) -> tuple[bytes, bytes]:
    """Open the streams kubectl opens, feed stdin, return (stdout, error stream)."""
    error = await session.open_stream({"streamtype": ["error"]})
    await error.close()  # kubectl never writes to it
    streams = {}
    if stdin is not None:
        streams["stdin"] = await session.open_stream({"streamtype": ["stdin"]})
    for kind in kinds:
        streams[kind] = await session.open_stream({"streamtype": [kind]})
    if resize is not None:
        streams["resize"] = await session.open_stream({"streamtype": ["resize"]})
        await streams["resize"].write(json.dumps(resize).encode())
    if stdin is not None:
        await streams["stdin"].write(stdin)
        await streams["stdin"].close()
    out = await asyncio.wait_for(streams[kinds[0]].read_all(), 10)
    return out, await asyncio.wait_for(error.read_all(), 10)


async def test_spdy_exec_v4_keeps_stdin_stdout_and_exit_code(api: tuple[str, int], kubelet: Kubelet) -> None:
    base, port = api
    status, headers, session = await spdy_upgrade(
        port, f"{base}/p/exec?" + query(container="app", command="cat", stdin="true", stdout="true"),
        ["v5.channel.k8s.io", "v4.channel.k8s.io", "v3.channel.k8s.io", "v2.channel.k8s.io", "channel.k8s.io"])
    assert status == 101 and headers["x-stream-protocol-version"] == "v4.channel.k8s.io"
    assert session is not None
    out, err = await run_remote(session, stdin=b"through spdy\n")
    assert out == b"through spdy\n"
    assert json.loads(err) == {"metadata": {}, "status": "Success"}
    await session.close(linger=0.1)

    kubelet.rt.exec_results[("sh", "-c", "exit 3")] = runtime.ExecResult(3, b"bye\n")
    _, _, session = await spdy_upgrade(
        port, f"{base}/p/exec?" + query(container="app", command=["sh", "-c", "exit 3"], stdout="true",
                                          stderr="true"), ["v4.channel.k8s.io"])
    assert session is not None
    out, err = await run_remote(session, stdin=None, kinds=("stdout", "stderr"))
    status_doc = json.loads(err)
    assert out == b"bye\n" and status_doc["reason"] == "NonZeroExitCode"
    assert status_doc["details"]["causes"] == [{"reason": "ExitCode", "message": "3"}]
    await session.close(linger=0.1)


async def test_spdy_exec_v3_writes_only_failures_as_text(api: tuple[str, int], kubelet: Kubelet) -> None:
    base, port = api
    kubelet.rt.exec_results[("false",)] = runtime.ExecResult(1, b"")
    for command, expected in (("true", b""), ("false", b"command terminated with non-zero exit code")):
        _, headers, session = await spdy_upgrade(
            port, f"{base}/p/exec?" + query(container="app", command=command, stdout="true"),
            ["v3.channel.k8s.io", "v2.channel.k8s.io"])
        assert headers["x-stream-protocol-version"] == "v3.channel.k8s.io" and session is not None
        _, err = await run_remote(session, stdin=None)
        assert err.startswith(expected) and (expected or err == b"")
        await session.close(linger=0.1)


async def test_spdy_exec_tty_resizes_reach_the_engine(api: tuple[str, int], kubelet: Kubelet) -> None:
    base, port = api
    _, _, session = await spdy_upgrade(
        port, f"{base}/p/exec?" + query(container="app", command="cat", stdin="true", stdout="true", tty="true",
                                          stderr="true"), ["v4.channel.k8s.io"])
    assert session is not None
    out, err = await run_remote(session, stdin=b"x", resize={"Width": 100, "Height": 40})
    assert out == b"x" and json.loads(err)["status"] == "Success"
    await session.close(linger=0.1)


async def test_spdy_protocol_negotiation_failure_is_403(api: tuple[str, int]) -> None:
    base, port = api
    status, headers, session = await spdy_upgrade(
        port, f"{base}/p/exec?" + query(container="app", command="ls", stdout="true"), ["v9.channel.k8s.io"])
    assert status == 403 and session is None
    assert headers["x-accepted-stream-protocol-versions"] == "v4.channel.k8s.io"


async def test_exec_without_an_upgrade_is_a_400_status(api: tuple[str, int]) -> None:
    base, port = api
    async with aiohttp.ClientSession() as s:
        async with s.post(f"http://127.0.0.1:{port}{base}/p/exec?container=app&command=ls&stdout=true") as resp:
            assert resp.status == 400
            assert "Upgrade request required" in (await resp.json())["message"]


async def test_spdy_attach_relays_the_containers_stdio(api: tuple[str, int], kubelet: Kubelet) -> None:
    base, port = api
    kubelet.pod["spec"]["containers"][0].update(stdin=True, stdinOnce=True)
    kubelet.rt.attach_output["cur"] = b"hello from pid 1\n"
    _, _, session = await spdy_upgrade(
        port, f"{base}/p/attach?" + query(container="app", stdin="true", stdout="true"), ["v4.channel.k8s.io"])
    assert session is not None
    out, err = await run_remote(session, stdin=b"typed\n")
    assert out == b"hello from pid 1\ntyped\n" and json.loads(err)["status"] == "Success"
    attached = kubelet.rt.attached[-1]
    assert attached.stdin == b"typed\n" and attached.stdin_closed
    await session.close(linger=0.1)


async def test_attach_keeps_the_stdin_of_a_container_that_is_not_stdin_once(
        api: tuple[str, int], kubelet: Kubelet) -> None:
    """The client's end of stdin is not the container's (kubectl debug -i on 1.33 sends it
    first): the output goes on, and the session ends when the client goes away."""
    base, port = api
    kubelet.pod["spec"]["containers"][0]["stdin"] = True
    kubelet.rt.attach_output["cur"] = b"first\n"
    async with aiohttp.ClientSession() as s:
        async with s.ws_connect(f"http://127.0.0.1:{port}{base}/p/attach?container=app&stdin=true&stdout=true",
                                protocols=("v5.channel.k8s.io",)) as ws:
            await ws.send_bytes(b"\xff\x00")  # the end of stdin
            await ws.send_bytes(b"\x00after\n")
            assert (await ws.receive_bytes(timeout=10)) == b"\x01first\n"
    attached = kubelet.rt.attached[-1]
    assert not attached.stdin_closed
    for _ in range(400):  # the handler notices the client's close
        if attached.closed:
            break
        await asyncio.sleep(0.025)
    assert attached.closed and not attached.stdin_closed


async def test_websocket_attach(api: tuple[str, int], kubelet: Kubelet) -> None:
    base, port = api
    kubelet.rt.attach_output["cur"] = b"out\n"
    async with aiohttp.ClientSession() as s:
        async with s.ws_connect(f"http://127.0.0.1:{port}{base}/p/attach?container=app&stdout=true",
                                protocols=("v5.channel.k8s.io",)) as ws:
            got = [bytes(m.data) async for m in ws if m.type == aiohttp.WSMsgType.BINARY]
    assert got[0] == b"\x01out\n" and json.loads(got[-1][1:])["status"] == "Success"
    assert ("attach", "cur", False, True, False, False) in kubelet.rt.calls


async def forward_once(session: spdy.Session, port: int, request_id: str, payload: bytes) -> tuple[bytes, bytes]:
    headers = {"streamtype": ["error"], "port": [str(port)], "requestid": [request_id]}
    error = await session.open_stream(headers)
    await error.close()
    data = await session.open_stream(dict(headers, streamtype=["data"]))
    await data.write(payload)
    await data.close()
    return await asyncio.wait_for(data.read_all(), 10), await asyncio.wait_for(error.read_all(), 10)


async def test_spdy_port_forward_reaches_the_pods_port(api: tuple[str, int], kubelet: Kubelet, echo: int) -> None:
    base, port = api
    kubelet.rt.forwarded_ports[("u1", 8080)] = echo
    status, headers, session = await spdy_upgrade(port, f"{base}/p/portforward", ["portforward.k8s.io"])
    assert status == 101 and headers["x-stream-protocol-version"] == "portforward.k8s.io"
    assert session is not None
    # Two connections at once on one session, told apart by requestID.
    results = await asyncio.gather(forward_once(session, 8080, "0", b"first" * 10000),
                                   forward_once(session, 8080, "1", b"second"))
    assert results == [(b"first" * 10000, b""), (b"second", b"")]
    # Nothing listens on 9999: the error stream says so and the session goes on.
    out, err = await forward_once(session, 9999, "2", b"x")
    assert out == b"" and err.startswith(b"error forwarding port 9999 to pod p: failed to connect to localhost:9999")
    assert await forward_once(session, 8080, "3", b"again") == (b"again", b"")
    assert [c for c in kubelet.rt.calls if c[0] == "port_forward"] == [
        ("port_forward", "u1", 8080), ("port_forward", "u1", 8080), ("port_forward", "u1", 9999),
        ("port_forward", "u1", 8080)]
    await session.close(linger=0.1)


async def test_port_forward_tunnelled_in_a_websocket(api: tuple[str, int], kubelet: Kubelet, echo: int) -> None:
    """kubectl 1.30+: SPDY frames inside websocket binary messages."""
    base, port = api
    kubelet.rt.forwarded_ports[("u1", 80)] = echo
    async with aiohttp.ClientSession() as s:
        async with s.ws_connect(f"http://127.0.0.1:{port}{base}/p/portforward?ports=80",
                                protocols=("SPDY/3.1+portforward.k8s.io",)) as ws:
            assert ws.protocol == "SPDY/3.1+portforward.k8s.io"
            session = spdy.Session(upgrade.WebSocketChannel(ws), server=False)
            session.start()
            assert await forward_once(session, 80, "0", b"tunnelled") == (b"tunnelled", b"")
            await session.close(linger=0.1)


async def test_port_forward_without_a_known_protocol_is_refused(api: tuple[str, int]) -> None:
    base, port = api
    status, headers, _ = await spdy_upgrade(port, f"{base}/p/portforward", ["portforward.k8s.io.v2"])
    assert status == 403 and headers["x-accepted-stream-protocol-versions"] == "portforward.k8s.io"


async def test_kubelet_port_forward_needs_the_api_servers_certificate_and_a_valid_port(kubelet: Kubelet) -> None:
    for url, ctx, code in ((f"{kubelet.url}/portForward/ns/p?port=80", ANONYMOUS, 401),
                           (f"{kubelet.url}/portForward/ns/p?port=0", APISERVER, 400),
                           (f"{kubelet.url}/portForward/ns/other?port=80", APISERVER, 404)):
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=ctx)) as s:
            with pytest.raises(aiohttp.WSServerHandshakeError) as e:
                await s.ws_connect(url, protocols=("v5.channel.k8s.io",))
            assert e.value.status == code


def test_remotecommand_options_follow_the_kubelet() -> None:
    assert remotecommand.options({"stdout": "true", "stderr": "true", "tty": "true"}) == \
        remotecommand.Options(stdin=False, stdout=True, stderr=False, tty=True)
    with pytest.raises(errors.BadRequest):
        remotecommand.options({"command": "ls"})
    assert remotecommand.expected_streams(remotecommand.Options(True, True, False, True), "v4.channel.k8s.io") == \
        {"error", "stdin", "stdout", "resize"}
    assert remotecommand.expected_streams(remotecommand.Options(True, True, False, True), "v2.channel.k8s.io") == \
        {"error", "stdin", "stdout"}


def test_resize_stream_splits_back_to_back_json() -> None:
    splitter = remotecommand.JsonObjects()
    assert splitter.feed(b'{"Width":80,"Height":24}{"Width"') == [{"Width": 80, "Height": 24}]
    assert splitter.feed(b':100,"Height":50}') == [{"Width": 100, "Height": 50}]


async def test_port_forward_ends_when_the_pod_closes_first(api: tuple[str, int], kubelet: Kubelet) -> None:
    """An HTTP server answers and closes while the client (curl) still has its side
    open: the forwarded connection must end (data and error streams FINished), or
    kubectl never closes the local connection and curl waits for ever."""

    async def answer_and_close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.0 200 OK\r\n\r\nhi\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer_and_close, "127.0.0.1", 0)
    kubelet.rt.forwarded_ports[("u1", 80)] = server.sockets[0].getsockname()[1]
    base, port = api
    _, _, session = await spdy_upgrade(port, f"{base}/p/portforward", ["portforward.k8s.io"])
    assert session is not None
    try:
        headers = {"streamtype": ["error"], "port": ["80"], "requestid": ["0"]}
        error = await session.open_stream(headers)
        await error.close()
        data = await session.open_stream(dict(headers, streamtype=["data"]))
        await data.write(b"GET / HTTP/1.0\r\n\r\n")  # and no FIN: the client waits for the close
        assert await asyncio.wait_for(data.read_all(), 10) == b"HTTP/1.0 200 OK\r\n\r\nhi\n"
        assert await asyncio.wait_for(error.read_all(), 10) == b""
    finally:
        await session.close(linger=0.1)
        server.close()
        await server.wait_closed()


async def test_python_client_exec_with_text_stdin(api: tuple[str, int], kubelet: Kubelet) -> None:
    """The official client sends str stdin as websocket *text* messages ("\\x00" + data)."""
    from kubernetes import client as kclient
    from kubernetes import stream

    _, port = api
    core = kclient.CoreV1Api(kclient.ApiClient(kclient.Configuration(host=f"http://127.0.0.1:{port}")))
    kubelet.rt.exec_results[("echo", "hi")] = runtime.ExecResult(0, b"hi\n")

    def preloaded() -> str:
        return str(stream.stream(core.connect_get_namespaced_pod_exec, "p", "ns", container="app",
                                 command=["echo", "hi"], stderr=True, stdin=False, stdout=True, tty=False))

    def interactive() -> str:
        resp = stream.stream(core.connect_get_namespaced_pod_exec, "p", "ns", container="app", command=["cat"],
                             stderr=True, stdin=True, stdout=True, tty=False, _preload_content=False)
        resp.write_stdin("to cat\n")
        got = ""
        for _ in range(10):
            resp.update(timeout=1)
            got += resp.read_stdout()
            if got:
                break
        resp.close()
        return got

    assert await asyncio.wait_for(asyncio.to_thread(preloaded), 30) == "hi\n"
    assert await asyncio.wait_for(asyncio.to_thread(interactive), 30) == "to cat\n"


async def test_attach_and_logs_of_an_ephemeral_container(api: tuple[str, int], kubelet: Kubelet) -> None:
    """`kubectl debug -i` attaches to the ephemeral container it added (and falls back to its logs)."""
    base, port = api
    kubelet.pod["spec"]["ephemeralContainers"] = [{"name": "dbg", "image": "x", "stdin": True, "stdinOnce": True}]
    kubelet.pod["status"]["ephemeralContainerStatuses"] = [
        {"name": "dbg", "containerID": "docker://dbg1", "state": {"running": {}}}]
    kubelet.rt.containers["dbg1"] = fakeruntime.FakeContainer("dbg1", "dbg1", {}, "x", runtime.RUNNING,
                                                              logs=b"debugging\n")
    kubelet.rt.attach_output["dbg1"] = b"ps output\n"
    async with aiohttp.ClientSession() as s:
        async with s.ws_connect(f"http://127.0.0.1:{port}{base}/p/attach?container=dbg&stdin=true&stdout=true",
                                protocols=("v5.channel.k8s.io",)) as ws:
            await ws.send_bytes(b"\x00ps\n")
            await ws.send_bytes(b"\xff\x00")
            got = [bytes(m.data) async for m in ws if m.type == aiohttp.WSMsgType.BINARY]
    assert got[0] == b"\x01ps output\n" and json.loads(got[-1][1:])["status"] == "Success"
    assert ("attach", "dbg1", True, True, False, False) in kubelet.rt.calls
    assert kubelet.rt.attached[-1].stdin == b"ps\n"
    async with aiohttp.ClientSession() as s, s.get(f"http://127.0.0.1:{port}{base}/p/log?container=dbg") as resp:
        assert resp.status == 200 and await resp.text() == "debugging\n"
