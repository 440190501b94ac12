"""pods/log and pods/exec: the API server forwards them to the pod's kubelet.

As kube-apiserver does: look the pod up, pick and check the container, find the
node's address (status.addresses InternalIP) and kubelet port
(status.daemonEndpoints.kubeletEndpoint.Port), then
 - log: GET the kubelet's /containerLogs and stream its body back as it
   comes (text/plain, chunked, each chunk flushed), so `kubectl logs -f` follows;
 - exec: accept kubectl's websocket (the subprotocol it offers, v5.channel.k8s.io,
   echoed), open the same kind of websocket to the kubelet's /exec and relay
   binary frames both ways; the kubelet writes the final channel-3 Status.
Requests to the kubelet carry `Authorization: Bearer <token>` when a token is
configured (--kubelet-token); a kubelet without one serves only loopback.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import urllib.parse
from typing import Any, Awaitable, Callable

import aiohttp
from aiohttp import web

from minik8s.api import errors
from minik8s.api import resources
from minik8s.apiserver import handlers
from minik8s.apiserver import storage as storage_mod

log = logging.getLogger(__name__)

PODS = resources.must("", "v1", "pods")
NODES = resources.must("", "v1", "nodes")

PROTOCOLS = ("v5.channel.k8s.io", "v4.channel.k8s.io")
DEFAULT_KUBELET_PORT = 10250
# Query parameters each subresource passes on to the kubelet.
LOG_PARAMS = ("follow", "tailLines", "timestamps", "previous", "sinceSeconds", "sinceTime", "limitBytes")
EXEC_PARAMS = ("command", "stdin", "stdout", "stderr", "tty")

NodeProxy = Callable[[web.Request, handlers.Target], Awaitable[web.StreamResponse]]


def pick_container(pod: dict[str, Any], requested: str) -> str:
    """The container a request names, or the pod's only one (validateContainer in the pod REST)."""
    name = pod["metadata"]["name"]
    containers = [c["name"] for c in (pod.get("spec") or {}).get("containers") or []]
    if not requested:
        if len(containers) == 1:
            return containers[0]
        raise errors.BadRequest(f"a container name must be specified for pod {name}, choose one of: "
                                f"[{' '.join(containers)}]")
    if requested not in containers:
        init = [c["name"] for c in (pod.get("spec") or {}).get("initContainers") or []]
        if requested in init:
            return requested
        raise errors.BadRequest(f"container {requested} is not valid for pod {name}")
    return requested


def kubelet_address(node: dict[str, Any]) -> tuple[str, int]:
    status = node.get("status") or {}
    addresses = status.get("addresses") or []
    host = next((a.get("address") for a in addresses if a.get("type") == "InternalIP"), None) or \
        next((a.get("address") for a in addresses if a.get("type") == "Hostname"), None)
    if not host:
        raise errors.ServiceUnavailable(f'node "{node["metadata"]["name"]}" has no address')
    port = ((status.get("daemonEndpoints") or {}).get("kubeletEndpoint") or {}).get("Port") or DEFAULT_KUBELET_PORT
    return host, int(port)


def _host_for_url(host: str) -> str:
    return f"[{host}]" if ":" in host else host


class _Proxy:
    def __init__(self, store: storage_mod.Storage, token: str) -> None:
        self.store = store
        self.token = token
        self._session: aiohttp.ClientSession | None = None

    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
            self._session = aiohttp.ClientSession(headers=headers, timeout=aiohttp.ClientTimeout(
                total=None, sock_connect=10))
        return self._session

    async def __call__(self, request: web.Request, t: handlers.Target) -> web.StreamResponse:
        if t.res.plural != "pods" or not t.name or t.sub not in ("log", "exec"):
            raise errors.BadRequest(f"{t.res.plural}/{t.sub} is not supported by minik8s")
        pod = await self.store.get(PODS, t.namespace, t.name)
        node_name = (pod.get("spec") or {}).get("nodeName")
        if not node_name:
            raise errors.BadRequest(f"pod {t.name} does not have a host assigned")
        container = pick_container(pod, request.query.get("container", ""))
        node = await self.store.get_or_none(NODES, None, node_name)
        if node is None:
            raise errors.ServiceUnavailable(f'node "{node_name}" of pod {t.name} is not registered')
        host, port = kubelet_address(node)
        kind = "containerLogs" if t.sub == "log" else "exec"
        path = "/".join(urllib.parse.quote(p, safe="") for p in (pod["metadata"]["namespace"], t.name, container))
        allowed = LOG_PARAMS if t.sub == "log" else EXEC_PARAMS
        query = [(k, v) for k, v in request.query.items() if k in allowed]
        url = f"http://{_host_for_url(host)}:{port}/{kind}/{path}"
        if t.sub == "log":
            if request.method != "GET":
                raise errors.MethodNotAllowed(f"{request.method} is not supported on pods/log")
            return await self.logs(request, url, query)
        return await self.exec(request, url, query)

    async def logs(self, request: web.Request, url: str, query: list[tuple[str, str]]) -> web.StreamResponse:
        try:
            upstream = await self.session().get(url, params=query)
        except aiohttp.ClientError as e:
            raise errors.ServiceUnavailable(f"cannot reach the kubelet at {url.split('/containerLogs')[0]}: {e}") from e
        try:
            if upstream.status >= 400:
                raise _upstream_error(upstream.status, await upstream.read())
            resp = web.StreamResponse(status=200, headers={"Content-Type": "text/plain", "Cache-Control": "no-cache"})
            resp.enable_chunked_encoding()
            await resp.prepare(request)

            async def copy() -> None:
                async for chunk in upstream.content.iter_any():
                    await resp.write(chunk)

            copying = asyncio.get_running_loop().create_task(copy())
            watching = asyncio.get_running_loop().create_task(_client_gone(request))
            try:
                await asyncio.wait({copying, watching}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in (copying, watching):
                    task.cancel()
                results = await asyncio.gather(copying, watching, return_exceptions=True)
            error = results[0]
            if isinstance(error, (aiohttp.ClientError, asyncio.IncompleteReadError)):
                log.info("log stream from %s broke: %r", url, error)
            if watching.done() and not watching.cancelled() or isinstance(error, ConnectionResetError):
                return resp  # kubectl went away
            with contextlib.suppress(ConnectionResetError):
                await resp.write_eof()
            return resp
        finally:
            upstream.release()
            upstream.close()

    async def exec(self, request: web.Request, url: str, query: list[tuple[str, str]]) -> web.StreamResponse:
        ws = web.WebSocketResponse(protocols=PROTOCOLS, max_msg_size=0)
        if not ws.can_prepare(request).ok:
            raise errors.BadRequest("Upgrade request required: exec is served over websockets "
                                    "(v5.channel.k8s.io)")
        offered = [p.strip() for p in request.headers.get("Sec-WebSocket-Protocol", "").split(",") if p.strip()]
        protocol = next((p for p in offered if p in PROTOCOLS), PROTOCOLS[0])
        try:
            upstream = await self.session().ws_connect(url.replace("http://", "ws://", 1), params=query,
                                                       protocols=(protocol,), max_msg_size=0, autoping=True)
        except aiohttp.WSServerHandshakeError as e:
            raise errors.StatusError(e.status if e.status >= 400 else 502, "BadRequest" if e.status == 400 else
                                     "InternalError", f"the kubelet refused exec: {e.message}") from e
        except aiohttp.ClientError as e:
            raise errors.ServiceUnavailable(f"cannot reach the kubelet for exec: {e}") from e
        try:
            await ws.prepare(request)
            await _relay(ws, upstream)
        finally:
            await upstream.close()
        return ws

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


async def _client_gone(request: web.Request, interval: float = 2.0) -> None:
    """Return once the client's connection is closed: an idle `logs -f` whose reader
    left must not keep its stream to the kubelet open."""
    while True:
        await asyncio.sleep(interval)
        transport = request.transport
        if transport is None or transport.is_closing():
            return


def _upstream_error(status: int, body: bytes) -> errors.StatusError:
    try:
        doc = json.loads(body)
    except ValueError:
        doc = None
    if isinstance(doc, dict) and doc.get("kind") == "Status":
        return errors.StatusError.from_status(doc, status)
    return errors.StatusError(status, "InternalError", body.decode(errors="replace").strip() or f"kubelet: HTTP {status}")


async def _relay(client: web.WebSocketResponse, upstream: aiohttp.ClientWebSocketResponse) -> None:
    """Copy frames both ways until the kubelet ends the session (it sends the exit status first)."""

    async def to_kubelet() -> None:
        async for msg in client:
            if msg.type == aiohttp.WSMsgType.BINARY:
                await upstream.send_bytes(msg.data)
            elif msg.type == aiohttp.WSMsgType.TEXT:
                await upstream.send_str(msg.data)
        # kubectl closed its side: tell the kubelet stdin is over.
        with contextlib.suppress(Exception):
            await upstream.send_bytes(b"\xff\x00")

    forward = asyncio.get_running_loop().create_task(to_kubelet())
    try:
        async for msg in upstream:
            if msg.type == aiohttp.WSMsgType.BINARY:
                await client.send_bytes(msg.data)
            elif msg.type == aiohttp.WSMsgType.TEXT:
                await client.send_str(msg.data)
            elif msg.type == aiohttp.WSMsgType.ERROR:
                break
    except (ConnectionResetError, RuntimeError):
        pass
    finally:
        forward.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await forward
        with contextlib.suppress(Exception):
            await client.close()


def make_node_proxy(store: storage_mod.Storage, token: str) -> NodeProxy:
    """The `node_proxy` for ResourceHandlers: forwards pods/log and pods/exec to kubelets."""
    return _Proxy(store, token)
