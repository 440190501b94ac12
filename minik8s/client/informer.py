"""List-then-watch informers with a local cache, as client-go's shared informers.

An informer lists a resource (in pages, as client-go's reflector), then
watches from the list's resourceVersion, keeping the newest version it has seen
(bookmarks move it too). A watch that ends or breaks (a timeout, an API server
restart) is resumed from that version, so no change is seen twice or missed;
only 410 Expired (the version is gone from the server's window or from etcd)
makes it relist and replay the difference as add/update/delete events, so
handlers see a consistent history and the cache converges with the API server.
Handlers must be cheap (controllers only enqueue keys there).
"""
from __future__ import annotations

import asyncio
import logging
import random
from typing import Any, Callable, Iterable

from minik8s.api import errors
from minik8s.api import resources
from minik8s.api import selectors
from minik8s.client import rest

log = logging.getLogger(__name__)

Obj = dict[str, Any]
AddFn = Callable[[Obj], None]
UpdateFn = Callable[[Obj, Obj], None]
DeleteFn = Callable[[Obj], None]


def key_of(obj: Obj) -> str:
    """`namespace/name`, or `name` for cluster-scoped objects (client-go's MetaNamespaceKeyFunc)."""
    meta = obj["metadata"]
    ns = meta.get("namespace")
    return f"{ns}/{meta['name']}" if ns else meta["name"]


def split_key(key: str) -> tuple[str | None, str]:
    if "/" in key:
        ns, name = key.split("/", 1)
        return ns, name
    return None, key


class Informer:
    def __init__(self, client: rest.Client, res: resources.Resource, *, namespace: str | None = None,
                 label_selector: str | None = None, field_selector: str | None = None,
                 resync_period: float = 0.0, watch_timeout: int = 300, page_size: int = 500) -> None:
        self.client = client
        self.res = res
        self.namespace = namespace
        self.label_selector = label_selector
        self.field_selector = field_selector
        self.resync_period = resync_period
        self.watch_timeout = watch_timeout
        self.page_size = page_size
        # How often the informer had to relist after its first list (410 Expired).
        self.relists = 0
        self.store: dict[str, Obj] = {}
        self.indexes: dict[str, Callable[[Obj], Iterable[str]]] = {}
        self._index_data: dict[str, dict[str, set[str]]] = {}
        self._on_add: list[AddFn] = []
        self._on_update: list[UpdateFn] = []
        self._on_delete: list[DeleteFn] = []
        self.synced = asyncio.Event()
        self.resource_version = ""
        self._task: asyncio.Task[None] | None = None

    # -- registration ----------------------------------------------------------------

    def add_handlers(self, on_add: AddFn | None = None, on_update: UpdateFn | None = None,
                     on_delete: DeleteFn | None = None) -> None:
        if on_add:
            self._on_add.append(on_add)
        if on_update:
            self._on_update.append(on_update)
        if on_delete:
            self._on_delete.append(on_delete)
        # Late registrants see the current state as adds, as in client-go.
        if on_add and self.synced.is_set():
            for obj in list(self.store.values()):
                on_add(obj)

    def add_index(self, name: str, fn: Callable[[Obj], Iterable[str]]) -> None:
        self.indexes[name] = fn
        data: dict[str, set[str]] = {}
        for key, obj in self.store.items():
            for v in fn(obj):
                data.setdefault(v, set()).add(key)
        self._index_data[name] = data

    def by_index(self, name: str, value: str) -> list[Obj]:
        return [self.store[k] for k in self._index_data.get(name, {}).get(value, ()) if k in self.store]

    # -- reads -----------------------------------------------------------------------

    def get(self, key: str) -> Obj | None:
        return self.store.get(key)

    def get_by(self, namespace: str | None, name: str) -> Obj | None:
        return self.store.get(f"{namespace}/{name}" if namespace else name)

    def list(self, namespace: str | None = None, selector: selectors.LabelSelector | None = None) -> list[Obj]:
        out = []
        for obj in self.store.values():
            meta = obj["metadata"]
            if namespace is not None and meta.get("namespace") != namespace:
                continue
            if selector is not None and not selector.matches(meta.get("labels")):
                continue
            out.append(obj)
        return out

    # -- lifecycle -------------------------------------------------------------------

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name=f"informer-{self.res.plural}")

    async def wait_synced(self, timeout: float | None = None) -> None:
        await asyncio.wait_for(self.synced.wait(), timeout)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):  # noqa: BLE001
                pass
            self._task = None

    async def _run(self) -> None:
        backoff = 0.1
        need_list = True
        last_resync = asyncio.get_running_loop().time()
        while True:
            try:
                if need_list:
                    await self._list()
                    need_list = False
                    backoff = 0.1
                timeout = self.watch_timeout + random.randint(0, max(1, self.watch_timeout // 5))
                async for ev in self.client.watch(self.res, self.namespace, resource_version=self.resource_version,
                                                  label_selector=self.label_selector,
                                                  field_selector=self.field_selector, timeout_seconds=timeout):
                    if not self._on_event(ev):
                        need_list = True
                        break
                    backoff = 0.1
                    if self.resync_period and asyncio.get_running_loop().time() - last_resync > self.resync_period:
                        last_resync = asyncio.get_running_loop().time()
                        self._resync()
                if self.resync_period and asyncio.get_running_loop().time() - last_resync > self.resync_period:
                    last_resync = asyncio.get_running_loop().time()
                    self._resync()
            except asyncio.CancelledError:
                raise
            except errors.StatusError as e:
                if e.code == 410:
                    need_list = True
                    continue
                # The API server is away or overloaded: the watch resumes from the
                # last resourceVersion once it answers again (a failed list is retried).
                log.info("informer %s: %s; retrying in %.1fs", self.res.plural, e.message, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
            except Exception as e:  # noqa: BLE001 - the loop must survive anything
                log.warning("informer %s failed: %r; relisting in %.1fs", self.res.plural, e, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                need_list = True

    async def _list(self) -> None:
        body = await self.client.list_all(self.res, self.namespace, label_selector=self.label_selector,
                                          field_selector=self.field_selector, page_size=self.page_size)
        if self.synced.is_set():
            self.relists += 1
        self.resource_version = body["metadata"].get("resourceVersion", "")
        fresh = {key_of(o): o for o in body.get("items") or []}
        for key, old in list(self.store.items()):
            if key not in fresh:
                self._delete(key, old)
        for key, obj in fresh.items():
            cached = self.store.get(key)
            if cached is None:
                self._add(key, obj)
            elif cached["metadata"].get("resourceVersion") != obj["metadata"].get("resourceVersion"):
                self._update(key, cached, obj)
        self.synced.set()

    def _resync(self) -> None:
        """Periodic resync: every cached object is delivered again as an update."""
        for obj in list(self.store.values()):
            for fn in self._on_update:
                _safe(fn, obj, obj)

    def _on_event(self, ev: dict[str, Any]) -> bool:
        """Apply one watch event; False means "relist" (an ERROR event)."""
        kind, obj = ev.get("type"), ev.get("object") or {}
        if kind == "ERROR":
            code = obj.get("code")
            log.info("informer %s: watch error %s: %s", self.res.plural, code, obj.get("message"))
            return False
        rv = (obj.get("metadata") or {}).get("resourceVersion")
        if kind == "BOOKMARK":
            if rv:
                self.resource_version = rv
            return True
        key = key_of(obj)
        if kind in ("ADDED", "MODIFIED"):
            old = self.store.get(key)
            if old is None:
                self._add(key, obj)
            else:
                self._update(key, old, obj)
        elif kind == "DELETED":
            old = self.store.get(key)
            if old is not None:
                self._delete(key, obj)
        if rv:
            self.resource_version = rv
        return True

    def _index_add(self, key: str, obj: Obj) -> None:
        for name, fn in self.indexes.items():
            for v in fn(obj):
                self._index_data[name].setdefault(v, set()).add(key)

    def _index_remove(self, key: str, obj: Obj) -> None:
        for name, fn in self.indexes.items():
            for v in fn(obj):
                keys = self._index_data[name].get(v)
                if keys:
                    keys.discard(key)
                    if not keys:
                        del self._index_data[name][v]

    def _add(self, key: str, obj: Obj) -> None:
        self.store[key] = obj
        self._index_add(key, obj)
        for fn in self._on_add:
            _safe(fn, obj)

    def _update(self, key: str, old: Obj, new: Obj) -> None:
        self._index_remove(key, old)
        self.store[key] = new
        self._index_add(key, new)
        for fn in self._on_update:
            _safe(fn, old, new)

    def _delete(self, key: str, obj: Obj) -> None:
        old = self.store.pop(key, None)
        if old is not None:
            self._index_remove(key, old)
        for fn in self._on_delete:
            _safe(fn, obj)


def _safe(fn: Callable[..., None], *args: Any) -> None:
    try:
        fn(*args)
    except Exception:
        log.exception("informer handler %r failed", fn)


class InformerFactory:
    """Shares one informer per (resource, namespace, selectors) among a process's controllers."""

    def __init__(self, client: rest.Client, *, resync_period: float = 0.0) -> None:
        self.client = client
        self.resync_period = resync_period
        self.informers: dict[tuple[str, str | None, str | None, str | None], Informer] = {}

    def informer(self, res: resources.Resource, *, namespace: str | None = None,
                 label_selector: str | None = None, field_selector: str | None = None) -> Informer:
        key = (res.qualified + "/" + res.version, namespace, label_selector, field_selector)
        inf = self.informers.get(key)
        if inf is None:
            inf = self.informers[key] = Informer(self.client, res, namespace=namespace,
                                                 label_selector=label_selector, field_selector=field_selector,
                                                 resync_period=self.resync_period)
        return inf

    def start(self) -> None:
        for inf in self.informers.values():
            inf.start()

    async def wait_synced(self, timeout: float | None = None) -> None:
        await asyncio.gather(*(inf.wait_synced(timeout) for inf in self.informers.values()))

    async def stop(self) -> None:
        for inf in self.informers.values():
            await inf.stop()
