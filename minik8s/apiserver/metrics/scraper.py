"""Collects every node's metrics every `resolution` seconds: kubelet and proxy.

Per node, concurrently (at most `concurrency` nodes at once, each request bounded by
`timeout` and MAX_BODY), the kubelet's `/metrics/resource` and `/metrics/pods` at
`status.addresses[InternalIP]:daemonEndpoints.kubeletEndpoint.Port` and the proxy's
`/metrics` at the same address, port `proxy_port` (10249). A node that does not
answer keeps no fresh data: its series age out (custom_store's stale_after) or are
replaced at its next good scrape. Nodes that are gone are dropped from the stores.

Credentials: the kubelet is asked over HTTPS with the API server's kubelet client
certificate, its serving certificate checked, as the logs/exec proxy asks
(minik8s.apiserver.kubeletclient); the proxy's counts are open.
"""
from __future__ import annotations

import asyncio
import logging
import ssl
import time
from typing import Any, Awaitable, Callable

import aiohttp

from minik8s.apiserver import kubeletclient
from minik8s.apiserver import nodeproxy
from minik8s.apiserver.metrics import custom_store
from minik8s.apiserver.metrics import resource_store

log = logging.getLogger(__name__)

Obj = dict[str, Any]
MAX_BODY = 8 * 1024 * 1024

# (url, headers, timeout) -> body text; raises OSError, aiohttp.ClientError or asyncio.TimeoutError.
Fetch = Callable[[str, dict[str, str], float], Awaitable[str]]


class HttpFetch:
    """The real Fetch: one aiohttp session, bodies capped at MAX_BODY."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.tls = tls  # for https URLs: the kubelets'
        self._session: aiohttp.ClientSession | None = None

    async def __call__(self, url: str, headers: dict[str, str], timeout: float) -> str:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=64, ssl=self.tls or True))
        async with self._session.get(url, headers=headers, timeout=aiohttp.ClientTimeout(total=timeout)) as resp:
            if resp.status != 200:
                raise OSError(f"{url}: HTTP {resp.status}")
            body = await resp.content.read(MAX_BODY + 1)
            if len(body) > MAX_BODY:
                raise OSError(f"{url}: more than {MAX_BODY} bytes")
            return body.decode(errors="replace")

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


class Scraper:
    def __init__(self, list_nodes: Callable[[], Awaitable[list[Obj]]], resources: resource_store.ResourceStore,
                 custom: custom_store.CustomStore, *, kubelet_tls: ssl.SSLContext | None = None,
                 resolution: float = 15.0,
                 proxy_port: int = 10249, timeout: float = 5.0, concurrency: int = 16, fetch: Fetch | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.list_nodes = list_nodes
        self.resources = resources
        self.custom = custom
        self.resolution = resolution
        self.proxy_port = proxy_port
        self.timeout = timeout
        self.fetch: Fetch = fetch or HttpFetch(kubelet_tls)
        self.clock = clock
        self._limit = asyncio.Semaphore(concurrency)
        self.rounds = 0
        self.failures: dict[str, str] = {}  # node -> what failed in the last round

    async def _get(self, url: str, headers: dict[str, str]) -> str:
        async with self._limit:
            return await self.fetch(url, headers, self.timeout)

    async def scrape_node(self, node: Obj) -> None:
        name = node["metadata"]["name"]
        try:
            host, port = nodeproxy.kubelet_address(node)
        except Exception as e:  # noqa: BLE001 - a node without an address is just skipped
            self.failures[name] = str(e)
            return
        kubelet = kubeletclient.base_url(host, port)
        host = f"[{host}]" if ":" in host else host
        problems: list[str] = []

        async def kubelet_resource() -> None:
            text = await self._get(f"{kubelet}/metrics/resource", {})
            self.resources.update(name, resource_store.parse_resource_metrics(text))

        async def kubelet_pods() -> None:
            text = await self._get(f"{kubelet}/metrics/pods", {})
            self.custom.update_pods(name, custom_store.parse_pod_metrics(text, self.clock()))

        async def proxy() -> None:
            text = await self._get(f"http://{host}:{self.proxy_port}/metrics", {})
            self.custom.update_proxy(name, custom_store.parse_proxy_counters(text), self.clock())

        parts: list[tuple[str, Callable[[], Awaitable[None]]]] = [("kubelet", kubelet_resource),
                                                                   ("kubelet pods", kubelet_pods)]
        if self.proxy_port:
            parts.append(("proxy", proxy))
        results = await asyncio.gather(*(fn() for _, fn in parts), return_exceptions=True)
        for (what, _), result in zip(parts, results):
            if isinstance(result, BaseException):
                if isinstance(result, asyncio.CancelledError):
                    raise result
                problems.append(f"{what}: {result!r}")
        if problems:
            self.failures[name] = "; ".join(problems)
            log.debug("metrics: node %s: %s", name, self.failures[name])
        else:
            self.failures.pop(name, None)

    async def scrape_once(self) -> None:
        nodes = await self.list_nodes()
        names = [n["metadata"]["name"] for n in nodes]
        self.resources.retain(names)
        self.custom.retain(names)
        for gone in [n for n in self.failures if n not in names]:
            del self.failures[gone]
        await asyncio.gather(*(self.scrape_node(n) for n in nodes))
        self.rounds += 1

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            try:
                await self.scrape_once()
            except asyncio.CancelledError:
                raise
            except Exception as e:  # noqa: BLE001 - an etcd hiccup must not end the scraping
                log.warning("metrics: scrape round failed: %r", e)
            await asyncio.sleep(max(self.resolution - (loop.time() - started), 0.5))

    async def close(self) -> None:
        if isinstance(self.fetch, HttpFetch):
            await self.fetch.close()
