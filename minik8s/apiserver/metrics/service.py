"""The metrics APIs wired into one API server: stores, scraper, handlers, discovery.

`ApiServer` makes one `MetricsService`, adds its routes before its own catch-all
/apis route, and starts and stops it with itself. `resolution` 0 (a bare API server's
default) serves the APIs with no data: nothing is scraped, so a server holding simulated
nodes never connects to their made-up addresses.
"""
from __future__ import annotations

import asyncio
import contextlib
import ssl
from typing import Any

from aiohttp import web

from minik8s.api import resources
from minik8s.apiserver import discovery
from minik8s.apiserver import storage as storage_mod
from minik8s.apiserver.metrics import api
from minik8s.apiserver.metrics import custom_store
from minik8s.apiserver.metrics import resource_store
from minik8s.apiserver.metrics import scraper as scraper_mod

NODES = resources.must("", "v1", "nodes")


class MetricsService:
    def __init__(self, store: storage_mod.Storage, *, kubelet_tls: ssl.SSLContext | None = None,
                 resolution: float = 15.0,
                 proxy_port: int = 10249) -> None:
        self.store = store
        self.resolution = resolution
        self.resources = resource_store.ResourceStore()
        # Three missed rounds and a series says nothing any more.
        self.custom = custom_store.CustomStore(stale_after=max(3 * resolution, 30.0))
        self.api = api.MetricsApi(self.resources, self.custom, self._list)
        self.scraper = scraper_mod.Scraper(self._list_nodes, self.resources, self.custom,
                                           kubelet_tls=kubelet_tls, resolution=resolution or 15.0,
                                           proxy_port=proxy_port)
        self._task: asyncio.Task[None] | None = None
        for item in api.aggregated_groups():
            discovery.register_group(item)

    async def _list(self, res: resources.Resource, namespace: str | None) -> list[dict[str, Any]]:
        items, _rv = await self.store.list(res, namespace)
        return items

    async def _list_nodes(self) -> list[dict[str, Any]]:
        return await self._list(NODES, None)

    def add_routes(self, router: web.UrlDispatcher) -> None:
        self.api.add_routes(router)

    def start(self) -> None:
        if self.resolution > 0 and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self.scraper.run(), name="metrics-scraper")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None
        await self.scraper.close()
