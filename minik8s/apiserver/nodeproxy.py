"""pods/log, exec, attach and portforward: the API server forwards them to the pod's kubelet.

As kube-apiserver does: look the pod up, pick and check the container, find the
node's address (status.addresses InternalIP) and kubelet port
(status.daemonEndpoints.kubeletEndpoint.Port), then
 - log: GET the kubelet's /containerLogs and stream its body back as it
   comes (text/plain, chunked, each chunk flushed), so `kubectl logs -f` follows;
 - exec, attach: take the client's stream protocol (a v5/v4.channel.k8s.io
   websocket, or SPDY/3.1) and speak the websocket channel protocol to the
   kubelet's /exec or /attach (minik8s.apiserver.streams.remotecommand);
 - portforward: SPDY/3.1 (direct, or tunnelled in a websocket by kubectl 1.30+),
   one kubelet /portForward websocket per forwarded connection
   (minik8s.apiserver.streams.portforward).
The kubelet is called over HTTPS with the API server's kubelet client certificate,
its own certificate checked against the cluster CA (minik8s.apiserver.kubeletclient).
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import ssl
import urllib.parse
from typing import Any, Awaitable, Callable

import aiohttp
from aiohttp import web

from minik8s.api import errors
from minik8s.api import resources
from minik8s.apiserver import handlers
from minik8s.apiserver import kubeletclient
from minik8s.apiserver import storage as storage_mod
from minik8s.apiserver.streams import portforward
from minik8s.apiserver.streams import remotecommand
from minik8s.apiserver.streams import upgrade
from minik8s.util import spdy

log = logging.getLogger(__name__)

PODS = resources.must("", "v1", "pods")
NODES = resources.must("", "v1", "nodes")

PROTOCOLS = remotecommand.WEBSOCKET_PROTOCOLS
DEFAULT_KUBELET_PORT = 10250
# Query parameters each subresource passes on to the kubelet.
LOG_PARAMS = ("follow", "tailLines", "timestamps", "previous", "sinceSeconds", "sinceTime", "limitBytes")
EXEC_PARAMS = ("command", "stdin", "stdout", "stderr", "tty")
ATTACH_PARAMS = ("stdin", "stdout", "stderr", "tty")
KUBELET_PATHS = {"log": "containerLogs", "exec": "exec", "attach": "attach"}

NodeProxy = Callable[[web.Request, handlers.Target], Awaitable[web.StreamResponse]]


def pick_container(pod: dict[str, Any], requested: str) -> str:
    """The container a request names, or the pod's only one (validateContainer in the pod REST)."""
    name = pod["metadata"]["name"]
    containers = [c["name"] for c in (pod.get("spec") or {}).get("containers") or []]
    if not requested:
        if len(containers) == 1:
            return str(containers[0])
        raise errors.BadRequest(f"a container name must be specified for pod {name}, choose one of: "
                                f"[{' '.join(containers)}]")
    if requested not in containers:
        spec = pod.get("spec") or {}
        others = [c.get("name") for key in ("initContainers", "ephemeralContainers") for c in spec.get(key) or []]
        if requested in others:
            return str(requested)
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


def _pod_path(url: str) -> str:
    """ns/pod out of a kubelet URL, for logs."""
    parts = urllib.parse.urlsplit(url).path.split("/")
    return "/".join(urllib.parse.unquote(p) for p in parts[2:4])


class _Proxy:
    def __init__(self, store: storage_mod.Storage, tls: ssl.SSLContext) -> None:
        self.store = store
        self.tls = tls
        self._session: aiohttp.ClientSession | None = None

    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=self.tls),
                                                  timeout=aiohttp.ClientTimeout(total=None, sock_connect=10))
        return self._session

    async def __call__(self, request: web.Request, t: handlers.Target) -> web.StreamResponse:
        if t.res.plural != "pods" or not t.name or t.sub not in ("log", "exec", "attach", "portforward"):
            raise errors.BadRequest(f"{t.res.plural}/{t.sub} is not supported by minik8s")
        pod = await self.store.get(PODS, t.namespace, t.name)
        node_name = (pod.get("spec") or {}).get("nodeName")
        if not node_name:
            raise errors.BadRequest(f"pod {t.name} does not have a host assigned")
        node = await self.store.get_or_none(NODES, None, node_name)
        if node is None:
            raise errors.ServiceUnavailable(f'node "{node_name}" of pod {t.name} is not registered')
        host, port = kubelet_address(node)
        base = kubeletclient.base_url(host, port)
        ns = pod["metadata"]["namespace"]
        if t.sub == "portforward":
            path = "/".join(urllib.parse.quote(p, safe="") for p in (ns, t.name))
            return await self.port_forward(request, f"{base}/portForward/{path}", t.name)
        container = pick_container(pod, request.query.get("container", ""))
        path = "/".join(urllib.parse.quote(p, safe="") for p in (ns, t.name, container))
        url = f"{base}/{KUBELET_PATHS[t.sub]}/{path}"
        if t.sub == "log":
            if request.method != "GET":
                raise errors.MethodNotAllowed(f"{request.method} is not supported on pods/log")
            return await self.logs(request, url, [(k, v) for k, v in request.query.items() if k in LOG_PARAMS])
        allowed = EXEC_PARAMS if t.sub == "exec" else ATTACH_PARAMS
        return await self.remote_command(request, url, [(k, v) for k, v in request.query.items() if k in allowed],
                                         t.sub)

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

    async def _kubelet_ws(self, url: str, query: list[tuple[str, str]], protocol: str,
                          what: str) -> aiohttp.ClientWebSocketResponse:
        try:
            return await self.session().ws_connect(url.replace("https://", "wss://", 1), params=query,
                                                   protocols=(protocol,), max_msg_size=0, autoping=True)
        except aiohttp.WSServerHandshakeError as e:
            raise errors.StatusError(e.status if e.status >= 400 else 502, "BadRequest" if e.status == 400 else
                                     "InternalError", f"the kubelet refused {what}: {e.message}") from e
        except aiohttp.ClientError as e:
            raise errors.ServiceUnavailable(f"cannot reach the kubelet for {what}: {e}") from e

    async def remote_command(self, request: web.Request, url: str, query: list[tuple[str, str]],
                             what: str) -> web.StreamResponse:
        if what == "exec" and not request.query.getall("command", []):
            raise errors.BadRequest("you must specify at least 1 command")
        opts = remotecommand.options(request.query)
        if upgrade.is_websocket(request):
            ws = web.WebSocketResponse(protocols=PROTOCOLS, max_msg_size=0)
            if not ws.can_prepare(request).ok:
                raise errors.BadRequest(f"unable to upgrade: {what} needs one of the websocket subprotocols "
                                        f"{', '.join(PROTOCOLS)}")
            protocol = upgrade.negotiate(upgrade.websocket_protocols(request), PROTOCOLS) or PROTOCOLS[0]
            upstream = await self._kubelet_ws(url, query, protocol, what)
            log.info("%s %s: websocket %s", what, _pod_path(url), protocol)
            try:
                await ws.prepare(request)
                await remotecommand.relay_websocket(ws, upstream)
            finally:
                await upstream.close()
            return ws
        if not upgrade.is_spdy(request):
            raise errors.BadRequest(f"Upgrade request required: {what} is served over websockets "
                                    f"({PROTOCOLS[0]}) or SPDY/3.1")
        offered = upgrade.offered_protocols(request)
        # No X-Stream-Protocol-Version at all: the oldest clients, protocol v1.
        chosen = upgrade.negotiate(offered, remotecommand.SPDY_PROTOCOLS) if offered else remotecommand.V1
        if chosen is None:
            return upgrade.refuse(offered, remotecommand.SPDY_PROTOCOLS)
        upstream = await self._kubelet_ws(url, query, remotecommand.V5, what)
        log.info("%s %s: SPDY/3.1 %s", what, _pod_path(url), chosen)
        try:
            resp, channel = await upgrade.accept_spdy(request, chosen if offered else "")
            session = spdy.Session(channel, server=True)
            session.start()
            try:
                await remotecommand.relay_spdy(session, upstream, chosen, opts)
            finally:
                await session.close()
        finally:
            await upstream.close()
        return resp

    async def port_forward(self, request: web.Request, url: str, pod: str) -> web.StreamResponse:
        async def dial(port: int) -> aiohttp.ClientWebSocketResponse:
            return await self._kubelet_ws(url, [("port", str(port))], remotecommand.V5, "port-forward")

        if upgrade.is_websocket(request):
            offered = upgrade.tunnel_protocols(request)
            if upgrade.negotiate(offered, portforward.SPDY_PROTOCOLS) is None:
                raise errors.BadRequest("unable to upgrade: port-forward over websockets needs the subprotocol "
                                        f"{upgrade.TUNNEL_PREFIX}{portforward.PROTOCOL}")
            ws, channel = await upgrade.accept_tunnel(request, portforward.PROTOCOL)
            log.info("port-forward %s: SPDY/3.1 tunnelled in a websocket", _pod_path(url))
            session = spdy.Session(channel, server=True)
            session.start()
            try:
                await portforward.serve(session, dial, pod)
            finally:
                await session.close()
            return ws
        if not upgrade.is_spdy(request):
            raise errors.BadRequest("Upgrade request required: port-forward is served over SPDY/3.1")
        offered = upgrade.offered_protocols(request)
        if upgrade.negotiate(offered, portforward.SPDY_PROTOCOLS) is None:
            return upgrade.refuse(offered, portforward.SPDY_PROTOCOLS)
        resp, raw = await upgrade.accept_spdy(request, portforward.PROTOCOL)
        log.info("port-forward %s: SPDY/3.1", _pod_path(url))
        session = spdy.Session(raw, server=True)
        session.start()
        try:
            await portforward.serve(session, dial, pod)
        finally:
            await session.close()
        return resp

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


def make_node_proxy(store: storage_mod.Storage, tls: ssl.SSLContext) -> NodeProxy:
    """The `node_proxy` for ResourceHandlers: forwards pods/log, exec, attach and portforward to kubelets."""
    return _Proxy(store, tls)
