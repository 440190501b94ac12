"""The kubelet's logs/exec server and the API server's node proxy, on loopback with a fake engine."""
from __future__ import annotations

import json
from typing import Any, AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from minik8s.api import errors
from minik8s.api import resources
from minik8s.apiserver import handlers
from minik8s.apiserver import nodeproxy
from minik8s.kubelet import fakeruntime
from minik8s.kubelet import runtime
from minik8s.kubelet import server as server_mod
from minik8s.util import procs

PODS = resources.must("", "v1", "pods")
TOKEN = "s3cret"


def make_pod() -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "ns", "uid": "u1"},
            "spec": {"nodeName": "n1", "containers": [{"name": "app", "image": "x"}, {"name": "side", "image": "y"}]},
            "status": {"containerStatuses": [
                {"name": "app", "containerID": "docker://cur", "state": {"running": {}},
                 "lastState": {"terminated": {"containerID": "docker://old", "exitCode": 1}}},
                {"name": "side", "state": {"waiting": {"reason": "ImagePullBackOff"}}, "lastState": {}}]}}


class Kubelet:
    def __init__(self, token: str) -> None:
        self.rt = fakeruntime.FakeRuntime()
        self.pod = make_pod()
        for cid, text in (("cur", b"one\ntwo\nthree\n"), ("old", b"before the crash\n")):
            self.rt.containers[cid] = fakeruntime.FakeContainer(cid, cid, {}, "x", runtime.RUNNING, logs=text)
        self.server = server_mod.KubeletServer(
            self.rt, find_pod=lambda ns, name: self.pod if (ns, name) == ("ns", "p") else None,
            pod_status=lambda pod: pod["status"], list_pods=lambda: [self.pod], token=token, bind="127.0.0.1",
            port=procs.free_port())
        self.url = f"http://127.0.0.1:{self.server.port}"


@pytest.fixture
async def kubelet() -> AsyncIterator[Kubelet]:
    k = Kubelet(TOKEN)
    await k.server.start()
    yield k
    await k.server.stop()


AUTH = {"Authorization": f"Bearer {TOKEN}"}


async def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    async with aiohttp.ClientSession() as s, s.get(url, headers=headers) as resp:
        return resp.status, await resp.text()


async def test_token_is_required(kubelet: Kubelet) -> None:
    assert (await get(kubelet.url + "/healthz"))[0] == 200
    status, body = await get(kubelet.url + "/pods")
    assert status == 401 and json.loads(body)["reason"] == "Unauthorized"
    status, _ = await get(kubelet.url + "/pods", {"Authorization": "Bearer wrong"})
    assert status == 401
    status, body = await get(kubelet.url + "/pods", AUTH)
    assert status == 200 and json.loads(body)["items"][0]["metadata"]["name"] == "p"


async def test_without_a_token_only_loopback_is_served() -> None:
    k = Kubelet("")
    await k.server.start()
    try:
        assert (await get(k.url + "/pods"))[0] == 200  # we are on loopback
    finally:
        await k.server.stop()
    assert server_mod._is_loopback("127.0.0.1") and server_mod._is_loopback("::1")
    assert not server_mod._is_loopback("10.0.0.5") and not server_mod._is_loopback(None)


async def test_logs(kubelet: Kubelet) -> None:
    base = kubelet.url + "/containerLogs/ns/p/app"
    assert await get(base, AUTH) == (200, "one\ntwo\nthree\n")
    assert await get(base + "?tailLines=1", AUTH) == (200, "three\n")
    assert await get(base + "?previous=true", AUTH) == (200, "before the crash\n")
    assert await get(base + "?limitBytes=5", AUTH) == (200, "one\nt")
    status, body = await get(kubelet.url + "/containerLogs/ns/p/side", AUTH)
    assert status == 400
    assert json.loads(body)["message"] == 'container "side" in pod "p" is waiting to start: trying and failing to pull image'
    status, body = await get(kubelet.url + "/containerLogs/ns/p/nope", AUTH)
    assert status == 400 and json.loads(body)["message"] == "container nope is not valid for pod p"
    status, _ = await get(kubelet.url + "/containerLogs/ns/other/app", AUTH)
    assert status == 404


async def exec_ws(url: str, headers: dict[str, str], stdin: bytes = b"") -> tuple[bytes, dict[str, Any]]:
    out = b""
    status: dict[str, Any] = {}
    async with aiohttp.ClientSession() as s:
        async with s.ws_connect(url, protocols=("v5.channel.k8s.io",), headers=headers) as ws:
            assert ws.protocol == "v5.channel.k8s.io"
            if stdin:
                await ws.send_bytes(b"\x00" + stdin)
                await ws.send_bytes(b"\xff\x00")
            async for msg in ws:
                if msg.type != aiohttp.WSMsgType.BINARY:
                    continue
                if msg.data[0] in (1, 2):
                    out += msg.data[1:]
                elif msg.data[0] == 3:
                    status = json.loads(msg.data[1:])
    return out, status


async def test_exec_speaks_the_channel_protocol(kubelet: Kubelet) -> None:
    kubelet.rt.exec_results[("sh", "-c", "exit 3")] = runtime.ExecResult(3, b"bye\n")
    out, status = await exec_ws(kubelet.url + "/exec/ns/p/app?command=sh&command=-c&command=exit+3&stdout=true",
                                AUTH)
    assert out == b"bye\n"
    assert status["status"] == "Failure" and status["reason"] == "NonZeroExitCode"
    assert status["details"]["causes"] == [{"reason": "ExitCode", "message": "3"}]
    assert ("exec_stream", "cur", ("sh", "-c", "exit 3")) in kubelet.rt.calls
    out, status = await exec_ws(kubelet.url + "/exec/ns/p/app?command=cat&stdin=true&stdout=true", AUTH, b"hi")
    assert status == {"metadata": {}, "status": "Success"}


async def test_exec_into_a_container_that_does_not_run(kubelet: Kubelet) -> None:
    with pytest.raises(aiohttp.WSServerHandshakeError) as e:
        await exec_ws(kubelet.url + "/exec/ns/p/side?command=ls", AUTH)
    assert e.value.status == 400


# -- the API server side -----------------------------------------------------------------------


class Store:
    def __init__(self, pod: dict[str, Any], node: dict[str, Any] | None) -> None:
        self.pod, self.node = pod, node

    async def get(self, res: Any, namespace: str | None, name: str) -> dict[str, Any]:
        if name != self.pod["metadata"]["name"]:
            raise errors.NotFound("pods", name)
        return self.pod

    async def get_or_none(self, res: Any, namespace: str | None, name: str) -> dict[str, Any] | None:
        return self.node


def node(port: int) -> dict[str, Any]:
    return {"metadata": {"name": "n1"}, "status": {"addresses": [{"type": "InternalIP", "address": "127.0.0.1"}],
                                                  "daemonEndpoints": {"kubeletEndpoint": {"Port": port}}}}


@pytest.fixture
async def api(kubelet: Kubelet) -> AsyncIterator[str]:
    proxy = nodeproxy.make_node_proxy(Store(kubelet.pod, node(kubelet.server.port)), TOKEN)  # type: ignore[arg-type]

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
    yield f"http://127.0.0.1:{port}/api/v1/namespaces/ns/pods"
    await proxy.close()  # type: ignore[attr-defined]
    await runner.cleanup()


async def test_proxy_forwards_logs_and_errors(api: str) -> None:
    assert await get(api + "/p/log?container=app&tailLines=2") == (200, "two\nthree\n")
    status, body = await get(api + "/p/log")
    assert status == 400
    assert json.loads(body)["message"] == "a container name must be specified for pod p, choose one of: [app side]"
    status, body = await get(api + "/p/log?container=side")
    assert status == 400 and "trying and failing to pull image" in json.loads(body)["message"]


async def test_proxy_relays_exec(api: str, kubelet: Kubelet) -> None:
    kubelet.rt.exec_results[("echo", "hi")] = runtime.ExecResult(0, b"hi\n")
    out, status = await exec_ws(api + "/p/exec?container=app&command=echo&command=hi&stdout=true", {})
    assert out == b"hi\n" and status == {"metadata": {}, "status": "Success"}


def test_kubelet_address_and_container_choice() -> None:
    assert nodeproxy.kubelet_address(node(10255)) == ("127.0.0.1", 10255)
    assert nodeproxy.kubelet_address({"metadata": {"name": "n"}, "status": {
        "addresses": [{"type": "InternalIP", "address": "10.0.0.2"}]}}) == ("10.0.0.2", 10250)
    pod = make_pod()
    assert nodeproxy.pick_container(pod, "side") == "side"
    with pytest.raises(errors.BadRequest):
        nodeproxy.pick_container(pod, "")
    with pytest.raises(errors.BadRequest):
        nodeproxy.pick_container(pod, "nope")
    pod["spec"]["containers"] = pod["spec"]["containers"][:1]
    assert nodeproxy.pick_container(pod, "") == "app"
    pod["spec"]["initContainers"] = [{"name": "setup", "image": "x"}]
    pod["spec"]["ephemeralContainers"] = [{"name": "dbg", "image": "x"}]
    assert nodeproxy.pick_container(pod, "setup") == "setup"
    assert nodeproxy.pick_container(pod, "dbg") == "dbg"


async def test_logs_and_exec_of_init_and_ephemeral_containers(kubelet: Kubelet) -> None:
    kubelet.pod["spec"]["initContainers"] = [{"name": "setup", "image": "x"}]
    kubelet.pod["spec"]["ephemeralContainers"] = [{"name": "dbg", "image": "x"}]
    kubelet.pod["status"]["initContainerStatuses"] = [
        {"name": "setup", "containerID": "docker://init1", "state": {"terminated": {"containerID": "docker://init1"}}}]
    kubelet.pod["status"]["ephemeralContainerStatuses"] = [
        {"name": "dbg", "containerID": "docker://dbg1", "state": {"running": {}}}]
    kubelet.rt.containers["init1"] = fakeruntime.FakeContainer("init1", "init1", {}, "x", runtime.EXITED,
                                                               logs=b"set up\n")
    kubelet.rt.containers["dbg1"] = fakeruntime.FakeContainer("dbg1", "dbg1", {}, "x", runtime.RUNNING)
    assert await get(kubelet.url + "/containerLogs/ns/p/setup", AUTH) == (200, "set up\n")
    kubelet.rt.exec_results[("ps",)] = runtime.ExecResult(0, b"PID\n")
    out, status = await exec_ws(kubelet.url + "/exec/ns/p/dbg?command=ps&stdout=true", AUTH)
    assert out == b"PID\n" and status == {"metadata": {}, "status": "Success"}
    assert ("exec_stream", "dbg1", ("ps",)) in kubelet.rt.calls
    with pytest.raises(aiohttp.WSServerHandshakeError) as e:  # an init container that has ended runs nothing
        await exec_ws(kubelet.url + "/exec/ns/p/setup?command=ps", AUTH)
    assert e.value.status == 400
