"""The watch cache's window and watchers, without etcd: bounds, decoded forms, no resending."""
from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest

from minik8s.api import resources
from minik8s.apiserver import watchcache

PODS = resources.must("", "v1", "pods")


def raw(name: str) -> bytes:
    return orjson.dumps({"metadata": {"name": name, "namespace": "ns"}})


def cache(**kw: Any) -> watchcache.WatchCache:
    return watchcache.WatchCache(None, PODS, **kw)  # type: ignore[arg-type]


async def test_the_window_is_bounded_by_count() -> None:
    c = cache(window=3)
    for rv in range(1, 6):
        c._push(watchcache.Event("ADDED", rv, raw=raw(f"p{rv}")))
    assert [e.rv for e in c.window] == [3, 4, 5] and c.window_start == 2
    with pytest.raises(watchcache.Expired):
        c.subscribe(1, lambda o: True)
    c.subscribe(2, lambda o: True)


async def test_the_window_is_bounded_by_age() -> None:
    c = cache(window_age=0.05)
    c._push(watchcache.Event("ADDED", 1, raw=raw("old")))
    await asyncio.sleep(0.1)
    c._push(watchcache.Event("ADDED", 2, raw=raw("new")))
    assert [e.rv for e in c.window] == [2] and c.window_start == 1


async def test_only_the_newest_events_stay_decoded() -> None:
    c = cache(decoded=2)
    w = c.subscribe(0, lambda o: True)  # decodes every event it is offered
    for rv in range(1, 6):
        c._push(watchcache.Event("ADDED", rv, raw=raw(f"p{rv}")))
    decoded = [e._obj is not None for e in c.window]
    assert decoded == [False, False, False, True, True]
    # A shed event decodes again when asked for, to the same object.
    assert c.window[0].obj["metadata"]["name"] == "p1"
    assert [(await w.next(0)).obj["metadata"]["name"] for _ in range(5)] == ["p1", "p2", "p3", "p4", "p5"]


async def test_a_watcher_is_not_sent_what_its_list_already_had() -> None:
    """A list read from etcd at revision 4 while the cache had only seen 2."""
    c = cache()
    c._push(watchcache.Event("ADDED", 1, raw=raw("a")))
    c._push(watchcache.Event("ADDED", 2, raw=raw("b")))
    w = c.subscribe(4, lambda o: True)
    for rv in (3, 4, 5):
        c._push(watchcache.Event("ADDED", rv, raw=raw(f"p{rv}")))
    got = await w.next(0)
    assert got is not None and got.rv == 5
    assert await w.next(0.01) is None
