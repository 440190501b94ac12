"""A watcher that lives through API server restarts and etcd compaction sees every change once, in order.

One informer (minik8s.client.informer, what every component uses) watches the
ConfigMaps of a namespace through API server A; 1,000 writes go through API
server B on the same etcd, in four phases:

1. A is up: creates, updates and deletes; an idle spell long enough for a
   bookmark (writes elsewhere move the resourceVersion on).
2. A is killed with SIGKILL; writes go on; A starts again. The informer resumes
   from its last resourceVersion: A's new watch cache replays etcd's history,
   so there is nothing to relist.
3. etcd is compacted to its newest revision while the informer follows; writes.
4. A is stopped; each of a set of objects changes once (created, updated or
   deleted); etcd is compacted past all of it; A starts again. The informer's
   resourceVersion is gone: 410, one relist, which reports each of those
   changes, once.

Every object's changes as the handlers saw them must be exactly the changes
written to it, in order, with no repeat; the events of a watch (not a relist)
come in strictly increasing resourceVersion order; the informer's cache ends
equal to the server's list.
"""
from __future__ import annotations

import asyncio
import pathlib
import signal
from typing import Any

import aetcd

from minik8s.api import resources
from minik8s.apiserver import storage as storage_mod
from minik8s.client import informer as informer_mod
from minik8s.client import rest
from minik8s.util import procs
from tests.conftest import ApiServerProcess, start_apiserver

CONFIGMAPS = resources.must("", "v1", "configmaps")
NAMESPACES = resources.must("", "v1", "namespaces")


class Recorder:
    """What the informer's handlers were told, per object, and the watch order."""

    def __init__(self, inf: informer_mod.Informer) -> None:
        self.per_object: dict[str, list[tuple[str, int]]] = {}
        self.stream: list[tuple[int, int]] = []  # (relist count, resourceVersion) of each watch event
        self.bookmarks = 0
        self.inf = inf
        inf.add_handlers(self.added, self.updated, self.deleted)
        original = inf._on_event

        def on_event(ev: dict[str, Any]) -> bool:
            if ev.get("type") == "BOOKMARK":
                self.bookmarks += 1
            return original(ev)
        inf._on_event = on_event  # type: ignore[method-assign]

    def _note(self, kind: str, obj: dict[str, Any]) -> None:
        name = obj["metadata"]["name"]
        if name == "kube-root-ca.crt":  # in every namespace (root-ca-cert-publisher), not written here
            return
        self.per_object.setdefault(name, []).append((kind, int((obj.get("data") or {}).get("n", "-1"))))
        if self.inf.synced.is_set():  # not the first list's events, which come in key order
            self.stream.append((self.inf.relists, int(obj["metadata"]["resourceVersion"])))

    def added(self, obj: dict[str, Any]) -> None:
        self._note("ADDED", obj)

    def updated(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        self._note("MODIFIED", new)

    def deleted(self, obj: dict[str, Any]) -> None:
        self._note("DELETED", obj)


class Writer:
    """Writes through API server B and remembers what each object went through."""

    def __init__(self, client: rest.Client, namespace: str) -> None:
        self.client = client
        self.namespace = namespace
        self.n = 0
        self.expected: dict[str, list[tuple[str, int]]] = {}
        self.live: dict[str, int] = {}

    async def create(self, name: str) -> None:
        self.n += 1
        await self.client.create(CONFIGMAPS, {"metadata": {"name": name}, "data": {"n": str(self.n)}}, self.namespace)
        self.expected.setdefault(name, []).append(("ADDED", self.n))
        self.live[name] = self.n

    async def update(self, name: str) -> None:
        self.n += 1
        await self.client.patch(CONFIGMAPS, name, {"data": {"n": str(self.n)}}, self.namespace)
        self.expected[name].append(("MODIFIED", self.n))
        self.live[name] = self.n

    async def delete(self, name: str) -> None:
        self.n += 1
        await self.client.delete(CONFIGMAPS, name, self.namespace)
        self.expected[name].append(("DELETED", self.live.pop(name)))

    async def churn(self, count: int, prefix: str) -> None:
        """`count` writes: new objects, updates of live ones, a few deletes."""
        for i in range(count):
            names = sorted(self.live)
            if i % 10 == 0 or len(names) < 5:
                await self.create(f"{prefix}-{i}")
            elif i % 10 == 9:
                await self.delete(names[i % len(names)])
            else:
                await self.update(names[(i * 7) % len(names)])

    async def once_each(self, count: int, prefix: str) -> None:
        """`count` writes, no object touched twice (what a relist can report exactly)."""
        touched: set[str] = set()
        candidates = sorted(self.live)
        for i in range(count):
            if i % 3 == 0 or not candidates:
                name = f"{prefix}-{i}"
                await self.create(name)
                touched.add(name)
                continue
            name = candidates.pop()
            if name in touched:
                continue
            touched.add(name)
            await (self.delete(name) if i % 3 == 2 else self.update(name))


async def compact(endpoint: str) -> int:
    host, port = storage_mod._host_port(endpoint)
    async with aetcd.Client(host=host, port=port) as etcd:
        resp = await etcd.get_prefix(b"/compaction-probe/", keys_only=True)
        revision = int(resp.header.revision)
        await etcd.compact(revision)
        return revision


async def wait_caught_up(inf: informer_mod.Informer, client: rest.Client, namespace: str, timeout: float = 60) -> None:
    """Until the informer's cache equals the server's list (names and resourceVersions)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        listed = await client.list(CONFIGMAPS, namespace)
        want = {o["metadata"]["name"]: o["metadata"]["resourceVersion"] for o in listed["items"]}
        have = {o["metadata"]["name"]: o["metadata"]["resourceVersion"] for o in inf.list()}
        if want == have:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"informer behind: missing {set(want) - set(have)}, extra {set(have) - set(want)}")
        await asyncio.sleep(0.1)


async def test_a_watcher_sees_every_change_once_across_restarts_and_compaction(
        session_tmp: pathlib.Path, etcd: procs.EtcdProcess, apiserver: ApiServerProcess, namespace: str) -> None:
    port = procs.free_port()
    a = start_apiserver(session_tmp, etcd, port=port)
    writes = apiserver.client()
    watches = a.client(timeout=10)
    inf = informer_mod.Informer(watches, CONFIGMAPS, namespace=namespace, watch_timeout=60, page_size=7)
    rec = Recorder(inf)
    writer = Writer(writes, namespace)
    other = f"{namespace}-noise"
    await writes.create(NAMESPACES, {"metadata": {"name": other}})
    try:
        await writer.churn(20, "seed")
        # The first list shows the seeds as they are now.
        writer.expected = {name: [("ADDED", n)] for name, n in writer.live.items()}
        inf.start()
        await inf.wait_synced(30)

        # 1. Followed live; an idle spell with writes elsewhere brings a bookmark.
        await writer.churn(230, "p1")
        await wait_caught_up(inf, writes, namespace)
        for i in range(12):
            await writes.create(CONFIGMAPS, {"metadata": {"name": f"noise-{i}"}}, other)
            await asyncio.sleep(1)
        assert rec.bookmarks >= 1, "no bookmark reached the informer"

        # 2. A killed and restarted while writes go on: resumed, not relisted.
        a.proc.send_signal(signal.SIGKILL)
        a.proc.wait(timeout=10)
        if a.accounts is not None:  # its ServiceAccount controllers: the restarted server starts its own
            a.accounts.stop()
        await writer.churn(250, "p2")
        a = start_apiserver(session_tmp, etcd, port=port)
        await wait_caught_up(inf, writes, namespace)
        assert inf.relists == 0, "the informer relisted after an API server restart"

        # 3. etcd compacted under a live watch.
        await compact(etcd.endpoint)
        await writer.churn(250, "p3")
        await wait_caught_up(inf, writes, namespace)
        assert inf.relists == 0

        # 4. The watcher's revision is compacted away while A is down: one relist.
        a.stop()
        await writer.once_each(250, "p4")
        await compact(etcd.endpoint)
        a = start_apiserver(session_tmp, etcd, port=port)
        await wait_caught_up(inf, writes, namespace)
        assert inf.relists == 1

        assert writer.n >= 1000
        for name, changes in writer.expected.items():
            assert rec.per_object.get(name) == changes, f"{name}: saw {rec.per_object.get(name)}, wrote {changes}"
        assert set(rec.per_object) == set(writer.expected)
        # Until the relist everything came from watches: strictly increasing resourceVersions.
        revisions = [rv for r, rv in rec.stream if r == 0]
        assert revisions == sorted(set(revisions)), "watch events out of order or repeated"
    finally:
        await inf.stop()
        await watches.close()
        await writes.delete(NAMESPACES, other)
        await writes.close()
        a.stop()
