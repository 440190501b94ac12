"""One etcd watch per resource, fanned out to every HTTP watcher.

Each resource has a `WatchCache`: a single etcd watch on its key prefix feeding
a bounded window of recent events. An HTTP watch from resourceVersion N replays
the window's events after N and then follows live ones; N older than the window
answers 410 Expired, so the client relists (as kube-apiserver's watch cache).

The window is bounded by count (`--watch-window`) and by age (`window_age`,
five minutes: as kube-apiserver's cacher keeps about its last 75 seconds; a
client resumes within seconds, or relists), and only its newest events keep
their decoded forms: older ones keep their stored bytes and are decoded again
if a late watcher replays them. So its memory is bounded however busy the
resource.

Watchers get their own bounded queue. A watcher that cannot keep up is closed
(its client re-watches from its last resourceVersion) rather than allowed to
slow the others or the writers: the dispatcher never awaits a watcher.
"""
from __future__ import annotations

import asyncio
import collections
import logging
from typing import Any, Callable

import aetcd.rpc
import aetcd.utils
import orjson

from minik8s.api import resources
from minik8s.apiserver import storage as storage_mod

log = logging.getLogger(__name__)


class Event:
    """One change of one object. Decoded lazily: with nobody watching, nothing is parsed,
    and the previous state is only parsed for watchers whose filter needs it."""

    __slots__ = ("type", "rv", "_raw", "_raw_rv", "_prev_raw", "_prev_rv", "_obj", "_prev", "_line", "born")

    def __init__(self, type: str, rv: int, raw: bytes | None = None, prev_raw: bytes | None = None,
                 prev_rv: int = 0, obj: dict[str, Any] | None = None, raw_rv: int | None = None) -> None:
        self.type = type  # ADDED, MODIFIED, DELETED
        self.rv = rv
        self._raw = raw
        self._raw_rv = rv if raw_rv is None else raw_rv
        self._prev_raw = prev_raw
        self._prev_rv = prev_rv
        self._obj = obj
        self._prev: dict[str, Any] | None = None
        self._line: bytes | None = None
        self.born = 0.0  # when the window took it (monotonic seconds)

    def shed(self) -> None:
        """Forget the decoded forms (they are rebuilt from the stored bytes when asked for)."""
        if self._raw is not None:
            self._obj = self._prev = None
            self._line = None

    @property
    def obj(self) -> dict[str, Any]:
        if self._obj is None:
            assert self._raw is not None
            self._obj = storage_mod.decode(self._raw, self._raw_rv)
        return self._obj

    @property
    def prev(self) -> dict[str, Any] | None:
        if self._prev is None and self._prev_raw is not None:
            self._prev = storage_mod.decode(self._prev_raw, self._prev_rv)
        return self._prev

    def json_line(self) -> bytes:
        """The JSON watch frame of this event, encoded once for all plain watchers."""
        if self._line is None:
            self._line = orjson.dumps({"type": self.type, "object": self.obj}) + b"\n"
        return self._line


class _Compacted(Exception):
    def __init__(self, revision: int) -> None:
        super().__init__(f"compacted at {revision}")
        self.revision = revision  # the oldest revision etcd still has


class Expired(Exception):
    """The requested resourceVersion is older than the window."""


class Closed(Exception):
    """The watcher was dropped (too slow, or the cache restarted)."""


# Kubernetes' filter: given (event, prev matched?, now matched?), what a watcher sees.
Filter = Callable[[dict[str, Any]], bool]


class Watcher:
    def __init__(self, cache: "WatchCache", matches: Filter, maxsize: int, match_all: bool = False,
                 from_rv: int = 0) -> None:
        self.cache = cache
        self.matches = matches
        # Events at or before this revision are already known to the client (its
        # list was read from etcd, possibly ahead of this cache): never sent again.
        self.from_rv = from_rv
        # Watchers without selectors never need the previous state decoded.
        self.match_all = match_all
        self.queue: asyncio.Queue[Event | None] = asyncio.Queue(maxsize=maxsize)
        self.closed = False

    def offer(self, ev: Event) -> None:
        """Translate a store event into what this watcher sees (or nothing)."""
        if ev.rv <= self.from_rv:
            return
        if ev.type == "DELETED":
            now, before = False, self.matches(ev.obj)
        else:
            now = self.matches(ev.obj)
            if ev.type == "ADDED":
                before = False
            elif self.match_all:
                before = now  # only the namespace is checked, and it never changes
            else:
                before = ev.prev is not None and self.matches(ev.prev)
        if ev.type == "DELETED":
            out = ev if before else None
        elif now and before:
            out = ev if ev.type == "MODIFIED" else Event("MODIFIED", ev.rv, obj=ev.obj)
        elif now:
            out = ev if ev.type == "ADDED" else Event("ADDED", ev.rv, obj=ev.obj)
        elif before:
            # Left the selection: to this watcher the object is gone.
            out = Event("DELETED", ev.rv, obj=ev.obj)
        else:
            out = None
        if out is None:
            return
        try:
            self.queue.put_nowait(out)
        except asyncio.QueueFull:
            log.warning("watch on %s fell %d events behind; closing it", self.cache.res.plural,
                        self.queue.qsize())
            self.close()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.cache.watchers.discard(self)
        # Make room for the end marker so the consumer wakes up.
        while True:
            try:
                self.queue.put_nowait(None)
                return
            except asyncio.QueueFull:
                try:
                    self.queue.get_nowait()
                except asyncio.QueueEmpty:
                    pass

    async def next(self, timeout: float | None) -> Event | None:
        """The next event; None on timeout. Raises Closed when dropped."""
        if self.queue.empty():
            try:
                ev = await asyncio.wait_for(self.queue.get(), timeout)
            except asyncio.TimeoutError:
                return None
        else:
            ev = self.queue.get_nowait()
        if ev is None:
            raise Closed()
        return ev

    def take_ready(self, limit: int) -> list[Event]:
        """Events already queued (up to `limit`), without waiting; stops before the end marker."""
        out: list[Event] = []
        while len(out) < limit and not self.queue.empty():
            ev = self.queue.get_nowait()
            if ev is None:
                self.queue.put_nowait(None)  # keep the end marker for next()
                break
            out.append(ev)
        return out


class WatchCache:
    def __init__(self, store: storage_mod.Storage, res: resources.Resource, *,
                 window: int = 5000, watcher_queue: int = 5000, progress_interval: float = 5.0,
                 history: int | None = None, window_age: float = 300.0, decoded: int = 256) -> None:
        self.store = store
        self.res = res
        self.window: collections.deque[Event] = collections.deque()
        self.window_size = window
        self.window_age = window_age
        # How many of the newest events keep their decoded object and watch frame.
        self.decoded = decoded
        # How many store revisions back a new cache replays from etcd, so that
        # clients of an API server that restarted resume by resourceVersion
        # instead of all relisting (limited by what etcd has not compacted).
        self.history = window if history is None else history
        self.watcher_queue = watcher_queue
        self.progress_interval = progress_interval
        # Every event with rv > window_start is in `window`.
        self.window_start = 0
        # The newest revision known to contain no unseen events for this resource.
        self.revision = 0
        self.watchers: set[Watcher] = set()
        # The newest stored bytes of every object (key → (value, mod_revision)): a
        # possibly slightly stale copy for optimistic read-modify-write.
        self.latest: dict[bytes, tuple[bytes, int]] = {}
        self.ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name=f"watchcache-{self.res.plural}")
        await self.ready.wait()

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):  # noqa: BLE001 - stopping: how it ended no longer matters
                pass
            self._task = None
        for w in list(self.watchers):
            w.close()

    def subscribe(self, from_rv: int, matches: Filter, *, match_all: bool = False) -> Watcher:
        """A watcher seeing events after `from_rv` (replayed from the window, then live).

        `match_all` says the filter only checks the namespace, which never changes."""
        if from_rv < self.window_start:
            raise Expired(f"too old resource version: {from_rv} ({self.window_start})")
        w = Watcher(self, matches, self.watcher_queue, match_all, from_rv)
        # No await between replay and registration: nothing can slip in between.
        for ev in self.window:
            w.offer(ev)
        if not w.closed:
            self.watchers.add(w)
        return w

    # -- the etcd side --------------------------------------------------------

    async def _run(self) -> None:
        start = -1
        backoff = 0.2
        while True:
            try:
                if start < 0:
                    latest = await self._load_latest()
                    start = self._restart_window(max(0, latest - self.history))
                start = await self._stream(start)
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if task is None or task.cancelling():
                    raise
                # Not this task being stopped: its gRPC call was, because the store moved
                # to another etcd endpoint and closed the old channel (Storage._rotate).
                # Watch again, through the store's new client.
                log.warning("watch on %s: its etcd channel was closed (the store moved to another endpoint); "
                            "retrying from %d", self.res.plural, start)
                await asyncio.sleep(0.05)
                continue
            except _Compacted as e:
                # Events between `start` and what etcd still has are lost: every
                # watcher may have missed some, so all go (their clients get 410 on
                # resuming from before the new window, and relist).
                log.warning("watch on %s: revision %d compacted (etcd keeps %d on); restarting the window",
                            self.res.plural, start + 1, e.revision)
                try:
                    await self._load_latest()
                except Exception:  # noqa: BLE001 - etcd trouble: the next round retries
                    start = -1
                    continue
                start = self._restart_window(e.revision - 1)
            except Exception as e:  # noqa: BLE001 - etcd down, network: retry forever
                log.warning("watch on %s failed (%s); retrying from %d", self.res.plural, e, start)
                self.ready.set()  # serve what we have; watches still work from the window
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            backoff = 0.2

    def _restart_window(self, start: int) -> int:
        """An empty window whose events will be those after `start`."""
        self.window.clear()
        self.window_start = start
        self.revision = start
        self._drop_watchers()
        return start

    async def _load_latest(self) -> int:
        prefix = self.store.resource_prefix(self.res)
        resp = await self.store._call("list", lambda: self.store.client.get_prefix(prefix))  # noqa: SLF001
        self.latest = {kv.key: (kv.value, int(kv.mod_revision)) for kv in resp.kvs}
        return int(resp.header.revision)

    def peek(self, key: bytes) -> dict[str, Any] | None:
        """The object at `key` as this cache last saw it (may be behind etcd)."""
        found = self.latest.get(key)
        return storage_mod.decode(found[0], found[1]) if found else None

    async def _stream(self, start: int) -> int:
        """One etcd watch stream from `start`+1 until it breaks; returns the last revision seen.

        We use the raw Watch RPC (aetcd's helper hides response headers and
        progress notifications, which the bookmarks and resumption need).
        """
        client = self.store.client
        await client.connect()
        prefix = self.store.resource_prefix(self.res)
        create = aetcd.rpc.WatchRequest(create_request=aetcd.rpc.WatchCreateRequest(
            key=prefix, range_end=aetcd.utils.prefix_range_end(prefix), start_revision=start + 1,
            prev_kv=True, progress_notify=True))
        progress = aetcd.rpc.WatchRequest(progress_request=aetcd.rpc.WatchProgressRequest())

        async def requests() -> Any:
            yield create
            # Ask for progress now and then: it tells us the store revision with
            # no events pending for this prefix (used for bookmarks).
            while True:
                await asyncio.sleep(self.progress_interval)
                yield progress

        call = aetcd.rpc.WatchStub(client.channel).Watch(requests(), metadata=client.metadata)
        try:
            async for resp in call:
                if resp.compact_revision:
                    raise _Compacted(resp.compact_revision)
                if resp.created:
                    self.ready.set()
                if resp.canceled:
                    raise RuntimeError(f"etcd canceled the watch: {resp.cancel_reason}")
                start = self._apply(resp, start)
        finally:
            call.cancel()
        raise RuntimeError("etcd closed the watch stream")

    def _apply(self, resp: Any, start: int) -> int:
        """Feed one etcd watch response into the window and the watchers."""
        header_rev = int(resp.header.revision) if getattr(resp, "header", None) else 0
        for raw in resp.events:
            kv = raw.kv
            rv = int(kv.mod_revision)
            if raw.type == 1:  # DELETE: the object as it was, at the deletion revision
                self.latest.pop(kv.key, None)
                if not raw.prev_kv or not raw.prev_kv.value:
                    continue
                ev = Event("DELETED", rv, raw=raw.prev_kv.value)
            elif raw.prev_kv and raw.prev_kv.value:
                self.latest[kv.key] = (kv.value, rv)
                ev = Event("MODIFIED", rv, raw=kv.value, prev_raw=raw.prev_kv.value,
                           prev_rv=int(raw.prev_kv.mod_revision))
            else:
                self.latest[kv.key] = (kv.value, rv)
                ev = Event("ADDED", rv, raw=kv.value)
            self._push(ev)
            start = max(start, rv)
        if header_rev and not resp.events:
            # A progress notification: nothing up to header_rev is missing for
            # this prefix, so bookmarks and a resumed watch may start there.
            self.revision = max(self.revision, header_rev)
            start = max(start, header_rev)
        return start

    def _push(self, ev: Event) -> None:
        now = asyncio.get_running_loop().time()
        ev.born = now
        self.window.append(ev)
        while self.window and (len(self.window) > self.window_size or now - self.window[0].born > self.window_age):
            dropped = self.window.popleft()
            self.window_start = dropped.rv
        self.revision = max(self.revision, ev.rv)
        for w in list(self.watchers):
            w.offer(ev)
        if len(self.window) > self.decoded:
            self.window[-self.decoded - 1].shed()

    def _drop_watchers(self) -> None:
        for w in list(self.watchers):
            w.close()


class WatchCaches:
    """The caches of every stored resource, created lazily on first watch."""

    def __init__(self, store: storage_mod.Storage, **kw: Any) -> None:
        self.store = store
        self.kw = kw
        self.caches: dict[str, WatchCache] = {}

    async def get(self, res: resources.Resource) -> WatchCache:
        res = resources.storage_resource(res)
        cache = self.caches.get(res.plural)
        if cache is None:
            cache = self.caches[res.plural] = WatchCache(self.store, res, **self.kw)
        await cache.start()
        return cache

    async def start_all(self) -> None:
        # Create-only resources (the authorization reviews) are never stored, so never watched.
        await asyncio.gather(*(self.get(r) for r in resources.RESOURCES
                               if not r.storage_version and "watch" in r.verbs))

    async def stop(self) -> None:
        for cache in self.caches.values():
            await cache.stop()


def dumps(obj: Any) -> bytes:
    return orjson.dumps(obj)
