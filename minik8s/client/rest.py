"""An async REST client for the Kubernetes API that minik8s serves.

Every component talks to the cluster only through this (DEVELOPERS.md). Errors
come back as minik8s.api.errors.StatusError subclasses, with the HTTP library's
exception chained as the cause, so callers never see aiohttp types.
"""
from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, AsyncIterator, Callable, Sequence

import aiohttp
import orjson

from minik8s.api import errors
from minik8s.api import resources
from minik8s.client import tls as tls_mod

log = logging.getLogger(__name__)

MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_PATCH = "application/strategic-merge-patch+json"
JSON_PATCH = "application/json-patch+json"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# How often the components (node agents, controller managers, schedulers, the API servers'
# load balancer) read the `kubernetes` Endpoints for masters added since they started
# (learn_masters).
LEARN_MASTERS = 30.0


def split_servers(server: str | Sequence[str]) -> list[str]:
    """API server URLs from a list or a comma-separated string (`--server a,b,c`)."""
    parts = server.split(",") if isinstance(server, str) else list(server)
    servers = [s.strip().rstrip("/") for s in parts if s and s.strip()]
    if not servers:
        raise ValueError("no API server URL given")
    return servers


class Client:
    """One connection pool to the API servers of a cluster. Use as an async context manager or
    call close().

    Several servers (the masters of an HA cluster) are tried in turn, as k3s agents do:
    requests go to the current one; when a connection to it cannot be made (refused,
    unreachable, no answer to the connect within `connect_timeout`, a TLS handshake that
    fails) the next becomes current and the request is sent there. A write is retried
    only when it was never sent: once it may have reached a server it is not sent twice,
    and its error is the caller's (the next request goes to the next server); a read is
    asked again of the next server whatever broke. A 503 answer (an API server whose
    etcd is unavailable) moves on too: a read at once, a write when the answer says it
    was not carried out (retryAfterSeconds). A watch whose
    server is gone raises ServiceUnavailable at once and its informer's retry goes to the
    next server, so a dead master costs a client one retry.

    A master that hangs, or whose host is cut off, refuses nothing: its TCP connections stay
    open and a watch on it would hear nothing until its timeout. So a watch that asks for
    bookmarks (the API server then sends one after every quiet `--watch-bookmark-interval`,
    10 s by default, as a heartbeat) and hears nothing at all for `watch_idle_timeout`
    seconds takes its server for dead: it drops the connection, fails over and raises
    ServiceUnavailable, and its informer resumes from its resourceVersion on the next
    server. Watches without bookmarks (a server that sends no heartbeat) have no bound."""

    def __init__(self, server: str | Sequence[str], *, token: str | None = None, timeout: float = 30.0,
                 user_agent: str = "minik8s", limit: int = 100, tls: tls_mod.TLSConfig | None = None,
                 connect_timeout: float = 5.0, learn_masters: float = 0.0,
                 watch_idle_timeout: float = 30.0) -> None:
        self.servers = split_servers(server)
        self._configured = list(self.servers)
        # Seconds between readings of the `kubernetes` Endpoints for masters this client was
        # not told of (0: never); see learn_servers.
        self.learn_masters = learn_masters
        self._learned_at: float | None = None
        self._learning: asyncio.Task[None] | None = None
        self._current = 0
        self.failovers = 0
        self.connect_timeout = min(connect_timeout, timeout)
        # Three of the API server's default bookmark intervals (0: no bound).
        self.watch_idle_timeout = watch_idle_timeout
        self.token = token
        self.timeout = timeout
        self.user_agent = user_agent
        self.limit = limit
        self.tls = tls
        # Built now, not at the first request: a CA or key that cannot be loaded is
        # an error of the caller's configuration, reported where it is made.
        self._ssl = tls_mod.client_context(tls) if any(u.startswith("https://") for u in self.servers) else None
        self._session: aiohttp.ClientSession | None = None
        # Called with (method, path) before every request and again once it has its
        # connection; may raise to refuse it, returns headers to add (leader election's
        # fencing: minik8s.client.leaderelection.fence).
        self.write_guard: Callable[[str, str], dict[str, str]] | None = None

    @property
    def server(self) -> str:
        """The API server requests go to now."""
        return self.servers[self._current]

    def _fail_over(self, server: str, error: BaseException) -> None:
        """`server` could not be reached: make the next one current (unless another request
        already moved on)."""
        if len(self.servers) > 1 and self.server == server:
            self._current = (self._current + 1) % len(self.servers)
            self.failovers += 1
            log.warning("API server %s unreachable (%s); using %s", server, error, self.server)

    async def learn_servers(self) -> list[str]:
        """Add the masters the `kubernetes` Endpoints list (the live API servers:
        minik8s/apiserver/masterleases.py) to this client's failover list, as k3s agents
        learn theirs: the current server stays current, the live masters come next, the
        configured ones last. A node joined to one master thus fails over to masters that
        joined after it. Endpoints listing nobody (one master on loopback) change nothing."""
        ep = await self.request("GET", "/api/v1/namespaces/default/endpoints/kubernetes")
        learned: list[str] = []
        for subset in (ep or {}).get("subsets") or []:
            ports = subset.get("ports") or []
            port = next((p.get("port") for p in ports if p.get("name") == "https"), None) or (
                ports[0].get("port") if ports else None)
            for address in subset.get("addresses") or []:
                ip = str(address.get("ip") or "")
                if ip and port:
                    learned.append(f"https://{'[' + ip + ']' if ':' in ip else ip}:{port}")
        if learned:
            current = self.server
            order = [current, *learned, *self._configured]
            self.servers = list(dict.fromkeys(order))
            self._current = 0
        return self.servers

    def _maybe_learn(self) -> None:
        """Start learn_servers in the background when it is due (https clients only)."""
        if not self.learn_masters or not self.server.startswith("https://"):
            return
        now = asyncio.get_running_loop().time()
        if self._learning is not None and not self._learning.done():
            return
        if self._learned_at is not None and now - self._learned_at < self.learn_masters:
            return
        self._learned_at = now

        async def learn() -> None:
            try:
                await self.learn_servers()
            except errors.StatusError as e:
                log.debug("could not read the kubernetes Endpoints for the masters: %s", e.message)
        self._learning = asyncio.get_running_loop().create_task(learn())

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            headers = {"User-Agent": self.user_agent, "Accept": "application/json"}
            if self.token:
                headers["Authorization"] = f"Bearer {self.token}"
            self._session = aiohttp.ClientSession(
                headers=headers,
                connector=aiohttp.TCPConnector(limit=self.limit, ssl=self._ssl if self._ssl is not None else True),
                json_serialize=lambda o: orjson.dumps(o).decode(), trace_configs=[self._guard_trace()])
        return self._session

    @property
    def _tls_kw(self) -> dict[str, Any]:
        # kubeconfig's tls-server-name: check the certificate against this name, not the URL's host.
        if self.tls is not None and self.tls.server_name:
            return {"server_hostname": self.tls.server_name}
        return {}

    def _guard_trace(self) -> aiohttp.TraceConfig:
        """Run `write_guard` again once the request has its connection, just before its bytes
        are written: a request may wait long for a pool slot or a TCP connect (or the process
        may be frozen meanwhile), and the guard's answer must hold when it is sent."""
        trace = aiohttp.TraceConfig()

        async def check(_session: aiohttp.ClientSession, ctx: Any, _params: Any) -> None:
            what = ctx.trace_request_ctx
            if self.write_guard is not None and isinstance(what, tuple):
                self.write_guard(*what)
        trace.on_connection_create_end.append(check)
        trace.on_connection_reuseconn.append(check)
        return trace

    async def close(self) -> None:
        if self._learning is not None and not self._learning.done():
            self._learning.cancel()
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> "Client":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    # -- raw ----------------------------------------------------------------------

    async def request(self, method: str, path: str, *, body: Any = None, params: dict[str, Any] | None = None,
                      content_type: str = "application/json", headers: dict[str, str] | None = None,
                      raw_body: bytes | None = None, timeout: float | None = None) -> Any:
        hdrs = dict(headers or {})
        if self.write_guard is not None:
            hdrs.update(self.write_guard(method, path))
        data: bytes | None = raw_body
        if body is not None:
            data = orjson.dumps(body)
        if data is not None:
            hdrs["Content-Type"] = content_type
        self._maybe_learn()
        for attempt in range(len(self.servers)):
            server = self.server
            try:
                return await self._send(server, method, path, data, params, hdrs, timeout)
            except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as e:
                # Not connected, so not sent: the next server may have it.
                self._fail_over(server, e)
                if attempt + 1 < len(self.servers):
                    continue
                if isinstance(e, aiohttp.ClientSSLError):
                    raise errors.ServiceUnavailable(f"TLS with the API server at {server} failed "
                                                    f"(is the kubeconfig's CA the cluster's?): {e}") from e
                raise errors.ServiceUnavailable(f"cannot reach the API server at {server}: {e}") from e
            except aiohttp.ClientError as e:
                self._fail_over(server, e)
                # A read may be asked again anywhere (a pooled connection to a master that
                # died shows up only now); a write may have been done: the caller decides.
                if method in SAFE_METHODS and attempt + 1 < len(self.servers):
                    continue
                raise errors.ServiceUnavailable(f"cannot reach the API server at {server}: {e}") from e
            except errors.StatusError as e:
                # 503 from a server that cannot serve now (its etcd is gone): a read may be
                # asked of the next server; a write only when the server says it did not
                # carry it out (retryAfterSeconds, as client-go retries on Retry-After).
                if e.code != 503 or attempt + 1 >= len(self.servers) or \
                        (method not in SAFE_METHODS and not e.details.get("retryAfterSeconds")):
                    raise
                self._fail_over(server, e)
            except asyncio.TimeoutError as e:
                raise errors.Timeout(f"the API server at {server} did not answer {method} {path} "
                                     f"within {timeout or self.timeout:g}s") from e
        raise AssertionError("unreachable")  # the loop returns or raises

    async def _send(self, server: str, method: str, path: str, data: bytes | None, params: dict[str, Any] | None,
                    hdrs: dict[str, str], timeout: float | None) -> Any:
        async with self.session.request(
                method, server + path, data=data, params=_params(params), headers=hdrs,
                timeout=aiohttp.ClientTimeout(total=timeout or self.timeout, sock_connect=self.connect_timeout),
                trace_request_ctx=(method, path), **self._tls_kw) as resp:
            payload = await resp.read()
            ctype = resp.headers.get("Content-Type", "")
            if resp.status >= 400:
                raise _error(resp.status, payload, method, path)
            if "json" in ctype:
                return orjson.loads(payload) if payload else None
            return payload.decode(errors="replace")

    async def _object(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """`request` for the verbs whose answer is one JSON object."""
        obj: dict[str, Any] = await self.request(method, path, **kwargs)
        return obj

    # -- typed verbs -----------------------------------------------------------------

    async def get(self, res: resources.Resource, name: str, namespace: str | None = None) -> dict[str, Any]:
        return await self._object("GET", res.path(namespace, name))

    async def get_or_none(self, res: resources.Resource, name: str,
                          namespace: str | None = None) -> dict[str, Any] | None:
        try:
            return await self.get(res, name, namespace)
        except errors.NotFound:
            return None

    async def list(self, res: resources.Resource, namespace: str | None = None, *,
                   label_selector: str | None = None, field_selector: str | None = None,
                   limit: int | None = None, continue_: str | None = None) -> dict[str, Any]:
        params = {"labelSelector": label_selector, "fieldSelector": field_selector, "limit": limit,
                  "continue": continue_}
        return await self._object("GET", res.path(namespace), params=params)

    async def list_all(self, res: resources.Resource, namespace: str | None = None, *,
                       label_selector: str | None = None, field_selector: str | None = None,
                       page_size: int = 500) -> dict[str, Any]:
        """Every object, fetched `page_size` at a time (one consistent snapshot, as the pages
        are read at the first page's revision); starts over if that revision expires."""
        while True:
            body = await self.list(res, namespace, label_selector=label_selector, field_selector=field_selector,
                                   limit=page_size)
            items = list(body.get("items") or [])
            try:
                while body["metadata"].get("continue"):
                    body = await self.list(res, namespace, label_selector=label_selector,
                                           field_selector=field_selector, limit=page_size,
                                           continue_=body["metadata"]["continue"])
                    items += body.get("items") or []
            except errors.StatusError as e:
                if e.code == 410:
                    continue  # the snapshot is gone: a whole new list, not a mix of two
                raise
            body["items"] = items
            body["metadata"].pop("continue", None)
            body["metadata"].pop("remainingItemCount", None)
            return body

    async def create(self, res: resources.Resource, obj: dict[str, Any], namespace: str | None = None,
                     *, params: dict[str, Any] | None = None) -> dict[str, Any]:
        ns = namespace or (obj.get("metadata") or {}).get("namespace")
        return await self._object("POST", res.path(ns if res.namespaced else None), body=obj, params=params)

    async def update(self, res: resources.Resource, obj: dict[str, Any], *, subresource: str | None = None,
                     timeout: float | None = None) -> dict[str, Any]:
        meta = obj["metadata"]
        return await self._object("PUT", res.path(meta.get("namespace"), meta["name"], subresource), body=obj,
                                  timeout=timeout)

    async def update_status(self, res: resources.Resource, obj: dict[str, Any]) -> dict[str, Any]:
        return await self.update(res, obj, subresource="status")

    async def patch(self, res: resources.Resource, name: str, patch: Any, namespace: str | None = None, *,
                    patch_type: str = MERGE_PATCH, subresource: str | None = None) -> dict[str, Any]:
        return await self._object("PATCH", res.path(namespace, name, subresource), body=patch,
                                  content_type=patch_type)

    async def delete(self, res: resources.Resource, name: str, namespace: str | None = None, *,
                     grace_period: int | None = None, propagation: str | None = None,
                     preconditions: dict[str, str] | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"kind": "DeleteOptions", "apiVersion": "v1"}
        if grace_period is not None:
            body["gracePeriodSeconds"] = grace_period
        if propagation:
            body["propagationPolicy"] = propagation
        if preconditions:
            body["preconditions"] = preconditions
        return await self._object("DELETE", res.path(namespace, name), body=body)

    async def bind(self, pod: dict[str, Any], node: str) -> None:
        meta = pod["metadata"]
        pods = resources.must("", "v1", "pods")
        await self.request("POST", pods.path(meta["namespace"], meta["name"], "binding"), body={
            "apiVersion": "v1", "kind": "Binding",
            "metadata": {"name": meta["name"], "namespace": meta["namespace"], "uid": meta.get("uid")},
            "target": {"apiVersion": "v1", "kind": "Node", "name": node}})

    async def watch(self, res: resources.Resource, namespace: str | None = None, *,
                    resource_version: str | None = None, label_selector: str | None = None,
                    field_selector: str | None = None, timeout_seconds: int | None = None,
                    bookmarks: bool = True) -> AsyncIterator[dict[str, Any]]:
        """Yield watch events ({type, object}) until the server ends the stream."""
        params = {"watch": "true", "resourceVersion": resource_version, "labelSelector": label_selector,
                  "fieldSelector": field_selector, "timeoutSeconds": timeout_seconds,
                  "allowWatchBookmarks": "true" if bookmarks else None}
        async for event in self.watch_path(res.path(namespace), params):
            yield event

    async def watch_path(self, path: str, params: dict[str, Any] | None = None, *,
                         headers: dict[str, str] | None = None) -> AsyncIterator[dict[str, Any]]:
        """The JSON lines of a watch on `path` (params as given, `watch=true` added) until the
        server ends the stream; `headers` may ask for another shape (kubectl's Tables). A
        watch that asks for bookmarks is given up after `watch_idle_timeout` seconds without
        a byte (see the class docstring)."""
        query = _params({**(params or {}), "watch": "true"})
        server = self.server
        # Only a server asked for bookmarks sends heartbeats; without them a quiet watch
        # is silent, rightly.
        idle = self.watch_idle_timeout if (query or {}).get("allowWatchBookmarks") == "true" else 0.0
        try:
            # sock_read is aiohttp's idle timer: restarted by every chunk that arrives.
            async with self.session.get(server + path, params=query, headers=headers or {},
                                        timeout=aiohttp.ClientTimeout(total=None, sock_connect=self.connect_timeout,
                                                                      sock_read=idle or None),
                                        **self._tls_kw) as resp:
                if resp.status >= 400:
                    raise _error(resp.status, await resp.read(), "WATCH", path)
                buf = b""
                async for chunk in resp.content.iter_any():
                    buf += chunk
                    while b"\n" in buf:
                        line, buf = buf.split(b"\n", 1)
                        if line.strip():
                            yield orjson.loads(line)
        except aiohttp.SocketTimeoutError as e:  # the idle bound, not a connect timeout
            self._fail_over(server, e)
            raise errors.ServiceUnavailable(f"the watch on {path} at {server} heard nothing, not even a bookmark, "
                                            f"for {idle:g}s: taking the server for hung or cut off") from e
        except aiohttp.ClientError as e:
            self._fail_over(server, e)
            raise errors.ServiceUnavailable(f"the watch on {path} at {server} broke: {e}") from e


def _params(params: dict[str, Any] | None) -> dict[str, str] | None:
    if not params:
        return None
    return {k: str(v) for k, v in params.items() if v is not None}


def _error(status: int, payload: bytes, method: str, path: str) -> errors.StatusError:
    try:
        body = json.loads(payload)
    except ValueError:
        body = None
    if isinstance(body, dict) and body.get("kind") == "Status":
        return errors.StatusError.from_status(body, status)
    text = payload.decode(errors="replace").strip()[:200]
    return errors.StatusError(status, "Unknown", f"{method} {path}: HTTP {status}: {text}")


def from_kubeconfig(path: str | None = None, context: str | None = None, **kw: Any) -> Client:
    from minik8s.client import kubeconfig

    access = kubeconfig.load(path, context)
    return Client(access.servers or access.server, token=access.token, tls=access.tls(), **kw)


def connect(server: str, kubeconfig: str | None = None, token: str | None = None, **kw: Any) -> Client:
    """The client a component builds from its flags: the kubeconfig when one is given
    (its credentials and CA; `server` is then ignored), else `server` with `token`."""
    if kubeconfig:
        return from_kubeconfig(kubeconfig, **kw)
    return Client(server, token=token, **kw)
