"""The kubelet's logs/exec server and the API server's node proxy, on loopback with a fake engine.

Over HTTPS as in a cluster: a throwaway CA issues the kubelet's serving certificate and the
client certificates, and the proxy calls the kubelet with the API server's."""
from __future__ import annotations

import json
import ssl
from typing import Any, AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from minik8s.api import errors
from minik8s.api import identities
from minik8s.api import resources
from minik8s.apiserver import handlers
from minik8s.apiserver import nodeproxy
from minik8s.client import tls as tls_mod
from minik8s.kubelet import fakeruntime
from minik8s.kubelet import runtime
from minik8s.kubelet import server as server_mod
from minik8s.kubelet import servertls
from minik8s.util import pki
from minik8s.util import procs

PODS = resources.must("", "v1", "pods")
CA_KEY, CA_CERT = pki.make_ca()
CA_PEM = pki.cert_pem(CA_CERT)


def issue(spec: pki.CertSpec, ca: tuple[Any, Any] = (CA_KEY, CA_CERT)) -> tuple[bytes, bytes]:
    key = pki.new_key()
    return pki.cert_pem(pki.issue(ca[0], ca[1], key.public_key(), spec)), pki.key_pem(key)


def client(user: str, groups: tuple[str, ...] = (), ca: tuple[Any, Any] = (CA_KEY, CA_CERT)) -> ssl.SSLContext:
    cert, key = issue(pki.CertSpec(user, groups), ca)
    return tls_mod.client_context(tls_mod.TLSConfig(ca=CA_PEM, cert=cert, key=key))


APISERVER = client(identities.APISERVER_KUBELET_CLIENT)
ANONYMOUS = tls_mod.client_context(tls_mod.TLSConfig(ca=CA_PEM))


def server_tls() -> ssl.SSLContext:
    cert, key = issue(servertls.serving_spec("n1", ["127.0.0.1"]))
    return servertls.server_context(cert=cert, key=key, client_ca=CA_PEM)


def make_pod() -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "ns", "uid": "u1"},
            "spec": {"nodeName": "n1", "containers": [{"name": "app", "image": "x"}, {"name": "side", "image": "y"}]},
            "status": {"containerStatuses": [
                {"name": "app", "containerID": "docker://cur", "state": {"running": {}},
                 "lastState": {"terminated": {"containerID": "docker://old", "exitCode": 1}}},
                {"name": "side", "state": {"waiting": {"reason": "ImagePullBackOff"}}, "lastState": {}}]}}


class Kubelet:
    def __init__(self) -> None:
        self.rt = fakeruntime.FakeRuntime()
        self.pod = make_pod()
        for cid, text in (("cur", b"one\ntwo\nthree\n"), ("old", b"before the crash\n")):
            self.rt.containers[cid] = fakeruntime.FakeContainer(cid, cid, {}, "x", runtime.RUNNING, logs=text)
        self.server = server_mod.KubeletServer(
            self.rt, find_pod=lambda ns, name: self.pod if (ns, name) == ("ns", "p") else None,
            pod_status=lambda pod: pod["status"], list_pods=lambda: [self.pod], tls=server_tls(), bind="127.0.0.1",
            port=procs.free_port())
        self.url = f"https://127.0.0.1:{self.server.port}"


@pytest.fixture
async def kubelet() -> AsyncIterator[Kubelet]:
    k = Kubelet()
    await k.server.start()
    yield k
    await k.server.stop()


async def get(url: str, ctx: ssl.SSLContext = APISERVER) -> tuple[int, str]:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=ctx)) as s, s.get(url) as resp:
        return resp.status, await resp.text()


async def test_only_the_api_servers_certificate_and_masters_are_served(kubelet: Kubelet) -> None:
    assert (await get(kubelet.url + "/healthz", ANONYMOUS))[0] == 200
    status, body = await get(kubelet.url + "/pods", ANONYMOUS)
    assert status == 401 and json.loads(body)["reason"] == "Unauthorized"
    # A node's own certificate, a user's: authenticated, not authorized.
    for who in (client("system:node:n1", (identities.NODES,)), client("jane", ("developers",))):
        status, body = await get(kubelet.url + "/pods", who)
        assert status == 403 and json.loads(body)["reason"] == "Forbidden"
    status, body = await get(kubelet.url + "/pods", client(identities.ADMIN, (identities.MASTERS,)))
    assert status == 200
    status, body = await get(kubelet.url + "/pods")
    assert status == 200 and json.loads(body)["items"][0]["metadata"]["name"] == "p"
    # The same name from another CA does not get past the handshake.
    other = pki.make_ca("other-ca")
    with pytest.raises(aiohttp.ClientError):
        await get(kubelet.url + "/pods", client(identities.APISERVER_KUBELET_CLIENT, ca=other))
    # Nor does plain HTTP.
    async with aiohttp.ClientSession() as s:
        with pytest.raises(aiohttp.ClientError):
            async with s.get(kubelet.url.replace("https://", "http://") + "/pods") as resp:
                await resp.read()


async def test_a_kubelet_without_a_certificate_serves_a_self_signed_one_nobody_trusts() -> None:
    ctx = servertls.load(cert_file="", key_file="", client_ca_file="", kubeconfig_ca=CA_PEM, node_name="n1",
                         node_ip="127.0.0.1")
    rt = fakeruntime.FakeRuntime()
    server = server_mod.KubeletServer(rt, find_pod=lambda ns, name: None, pod_status=lambda pod: {},
                                      list_pods=list, tls=ctx, bind="127.0.0.1", port=procs.free_port())
    await server.start()
    try:
        with pytest.raises(aiohttp.ClientConnectorCertificateError):
            await get(f"https://127.0.0.1:{server.port}/pods")
    finally:
        await server.stop()


async def test_logs(kubelet: Kubelet) -> None:
    base = kubelet.url + "/containerLogs/ns/p/app"
    assert await get(base) == (200, "one\ntwo\nthree\n")
    assert await get(base + "?tailLines=1") == (200, "three\n")
    assert await get(base + "?previous=true") == (200, "before the crash\n")
    assert await get(base + "?limitBytes=5") == (200, "one\nt")
    status, body = await get(kubelet.url + "/containerLogs/ns/p/side")
    assert status == 400
    assert json.loads(body)["message"] == 'container "side" in pod "p" is waiting to start: trying and failing to pull image'
    status, body = await get(kubelet.url + "/containerLogs/ns/p/nope")
    assert status == 400 and json.loads(body)["message"] == "container nope is not valid for pod p"
    status, _ = await get(kubelet.url + "/containerLogs/ns/other/app")
    assert status == 404


async def exec_ws(url: str, ctx: ssl.SSLContext = APISERVER, stdin: bytes = b"") -> tuple[bytes, dict[str, Any]]:
    out = b""
    status: dict[str, Any] = {}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=ctx)) as s:
        async with s.ws_connect(url, protocols=("v5.channel.k8s.io",)) as ws:
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
    out, status = await exec_ws(kubelet.url + "/exec/ns/p/app?command=sh&command=-c&command=exit+3&stdout=true")
    assert out == b"bye\n"
    assert status["status"] == "Failure" and status["reason"] == "NonZeroExitCode"
    assert status["details"]["causes"] == [{"reason": "ExitCode", "message": "3"}]
    assert ("exec_stream", "cur", ("sh", "-c", "exit 3")) in kubelet.rt.calls
    out, status = await exec_ws(kubelet.url + "/exec/ns/p/app?command=cat&stdin=true&stdout=true", stdin=b"hi")
    assert status == {"metadata": {}, "status": "Success"}


async def test_exec_into_a_container_that_does_not_run(kubelet: Kubelet) -> None:
    with pytest.raises(aiohttp.WSServerHandshakeError) as e:
        await exec_ws(kubelet.url + "/exec/ns/p/side?command=ls")
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
    out, status = await exec_ws(api + "/p/exec?container=app&command=echo&command=hi&stdout=true")
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
    assert await get(kubelet.url + "/containerLogs/ns/p/setup") == (200, "set up\n")
    kubelet.rt.exec_results[("ps",)] = runtime.ExecResult(0, b"PID\n")
    out, status = await exec_ws(kubelet.url + "/exec/ns/p/dbg?command=ps&stdout=true")
    assert out == b"PID\n" and status == {"metadata": {}, "status": "Success"}
    assert ("exec_stream", "dbg1", ("ps",)) in kubelet.rt.calls
    with pytest.raises(aiohttp.WSServerHandshakeError) as e:  # an init container that has ended runs nothing
        await exec_ws(kubelet.url + "/exec/ns/p/setup?command=ps")
    assert e.value.status == 400
