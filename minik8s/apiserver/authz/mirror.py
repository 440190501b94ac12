"""In-process mirrors of the objects authorization reads, fed by the API server's own watch cache.

Kubernetes' authorizers read informer caches; inside the API server the source
is its own watch cache (no HTTP, no second etcd watch). Each mirror lists the
resource from etcd, then attaches a watcher to the resource's `WatchCache` whose
`offer` applies each event *synchronously*, inside the cache's dispatch, before
any HTTP watcher is even handed the event. So once a client has seen an object
change (a pod bound to a node, a new RoleBinding), the authorizer has seen it
too: a kubelet that learns of its pod and then reads the pod's Secret is judged
on a graph that already has the edge.

If the cache drops its watchers (it restarted after a compaction), the mirror
lists again and starts over; handlers get the full set through `reset`.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Protocol

from minik8s.api import errors
from minik8s.api import resources
from minik8s.apiserver import watchcache

log = logging.getLogger(__name__)

Obj = dict[str, Any]


class Handler(Protocol):
    def reset(self, items: list[Obj]) -> None:
        """Replace everything with `items` (after a list)."""

    def upsert(self, obj: Obj) -> None: ...

    def remove(self, obj: Obj) -> None: ...


class _ApplyingWatcher(watchcache.Watcher):
    """A watcher that applies events as they are offered instead of queueing them.

    The queue then only ever carries the end marker that `close()` puts there,
    which is how the mirror learns it must list again.
    """

    def __init__(self, cache: watchcache.WatchCache, handler: Handler) -> None:
        super().__init__(cache, lambda _obj: True, 1, match_all=True)
        self.handler = handler

    def offer(self, ev: watchcache.Event) -> None:
        try:
            if ev.type == "DELETED":
                self.handler.remove(ev.obj)
            else:
                self.handler.upsert(ev.obj)
        except Exception:
            log.exception("authorization mirror of %s: applying a %s event failed", self.cache.res.plural, ev.type)


class Mirror:
    def __init__(self, caches: watchcache.WatchCaches, res: resources.Resource, handler: Handler) -> None:
        self.caches = caches
        self.res = res
        self.handler = handler
        self.synced = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name=f"authz-mirror-{self.res.plural}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None

    async def _attach(self) -> _ApplyingWatcher:
        items, rv = await self.caches.store.list(self.res)
        cache = await self.caches.get(self.res)
        if rv < cache.window_start:
            raise watchcache.Expired(f"list at {rv} is older than the watch window ({cache.window_start})")
        self.handler.reset(items)
        watcher = _ApplyingWatcher(cache, self.handler)
        # As WatchCache.subscribe, with no await between the replay and the
        # registration, so no event is missed or applied twice.
        for ev in cache.window:
            if ev.rv > rv:
                watcher.offer(ev)
        cache.watchers.add(watcher)
        return watcher

    async def _run(self) -> None:
        delay = 0.1
        while True:
            try:
                watcher = await self._attach()
            except (errors.StatusError, watchcache.Expired) as e:
                log.warning("authorization mirror of %s: %s; listing again", self.res.plural, e)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
                continue
            delay = 0.1
            self.synced.set()
            try:
                while True:
                    await watcher.next(None)
            except watchcache.Closed:
                log.info("authorization mirror of %s: watch cache restarted; listing again", self.res.plural)
            finally:
                watcher.close()
