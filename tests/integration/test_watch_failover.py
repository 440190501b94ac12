"""A master that hangs, or whose host is cut off, refuses nothing (issue 14): its TCP
connections stay open and a watch on it hears nothing. Two API servers on one etcd, each
sending a BOOKMARK after every quiet second (`--watch-bookmark-interval`); an informer
whose client lists both follows a namespace through the first. The first is SIGSTOPped
(its sockets stay open, as a cut-off host's): changes made through the second still reach
the informer, once each and in order, through a watch resumed on the second from the
informer's resourceVersion, without a relist."""
from __future__ import annotations

import asyncio
import os
import pathlib
import signal
import uuid
from typing import Any, Iterator

import pytest

from minik8s.api import resources
from minik8s.client import informer as informer_mod
from minik8s.client import rest
from minik8s.util import procs
from tests import conftest
from tests.conftest import ApiServerProcess

pytestmark = pytest.mark.integration

CONFIGMAPS = resources.must("", "v1", "configmaps")
NAMESPACES = resources.must("", "v1", "namespaces")
BOOKMARK_INTERVAL = 1.0
# The client's bound: a few of the servers' heartbeat intervals.
IDLE_TIMEOUT = 4 * BOOKMARK_INTERVAL


@pytest.fixture
def masters(tmp_path: pathlib.Path, etcd: procs.EtcdProcess) -> Iterator[list[ApiServerProcess]]:
    started: list[ApiServerProcess] = []
    extra = ["--watch-bookmark-interval", str(BOOKMARK_INTERVAL)]
    try:
        # ConfigMaps need no ServiceAccounts: no controller process beside the one we freeze.
        for _ in range(2):
            started.append(conftest.start_apiserver(tmp_path, etcd, extra=extra, service_accounts=False))
        yield started
    finally:
        for s in started:
            if s.proc.poll() is None:
                os.kill(s.proc.pid, signal.SIGCONT)  # a stopped process cannot act on SIGTERM
                s.stop()


async def wait_until(what: str, condition: Any, timeout: float) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not within {timeout:g}s: {what}")
        await asyncio.sleep(0.1)


async def test_a_watch_on_a_hung_master_moves_to_the_other_within_the_idle_bound(
        masters: list[ApiServerProcess]) -> None:
    first, second = masters
    ns = "wf-" + uuid.uuid4().hex[:6]
    writes = second.client()
    watches = rest.Client([first.url, second.url], tls=first.tls, timeout=10, watch_idle_timeout=IDLE_TIMEOUT)
    inf = informer_mod.Informer(watches, CONFIGMAPS, namespace=ns, watch_timeout=300)
    seen: list[tuple[str, str, str]] = []
    inf.add_handlers(on_add=lambda o: seen.append(("ADDED", o["metadata"]["name"], o["data"]["v"])),
                     on_update=lambda _, o: seen.append(("MODIFIED", o["metadata"]["name"], o["data"]["v"])),
                     on_delete=lambda o: seen.append(("DELETED", o["metadata"]["name"], o["data"]["v"])))

    def cm(name: str, v: str) -> dict[str, Any]:
        return {"metadata": {"name": name, "namespace": ns}, "data": {"v": v}}

    stopped = False
    await writes.create(NAMESPACES, {"metadata": {"name": ns}})
    try:
        await writes.create(CONFIGMAPS, cm("before", "1"))
        inf.start()
        await inf.wait_synced(30)
        assert watches.server == first.url
        await writes.create(CONFIGMAPS, cm("live", "1"))
        await wait_until("the live watch on the first master delivers", lambda: inf.get(f"{ns}/live"), 30)

        os.kill(first.proc.pid, signal.SIGSTOP)
        stopped = True
        await writes.create(CONFIGMAPS, cm("after", "1"))
        obj = await writes.get(CONFIGMAPS, "live", ns)
        obj["data"] = {"v": "2"}
        await writes.update(CONFIGMAPS, obj)
        await writes.delete(CONFIGMAPS, "before", ns)
        await writes.create(CONFIGMAPS, cm("last", "1"))
        # The functional bound: the idle bound, the informer's retry, the second's answer.
        await wait_until("the changes made through the second master reach the informer",
                         lambda: inf.get(f"{ns}/last") is not None, 6 * IDLE_TIMEOUT)

        assert watches.server == second.url and watches.failovers == 1
        assert inf.relists == 0, "the informer relisted instead of resuming from its resourceVersion"
        assert seen == [("ADDED", "before", "1"), ("ADDED", "live", "1"), ("ADDED", "after", "1"),
                        ("MODIFIED", "live", "2"), ("DELETED", "before", "1"), ("ADDED", "last", "1")]
    finally:
        if stopped:
            os.kill(first.proc.pid, signal.SIGCONT)
        await inf.stop()
        await watches.close()
        await writes.delete(NAMESPACES, ns)
        await writes.close()


async def test_bookmarks_beat_on_a_quiet_watch_only_for_clients_that_ask(masters: list[ApiServerProcess]) -> None:
    """Every quiet interval, whether or not any revision moved (the heartbeat); a client that
    did not ask (kubectl, the official python client) never gets one."""
    ns = "wq-" + uuid.uuid4().hex[:6]  # nothing is ever in it: the watches stay quiet
    async with masters[1].client() as client:
        async def frames(bookmarks: bool) -> list[str]:
            params = {"timeoutSeconds": "4", "allowWatchBookmarks": "true" if bookmarks else None}
            return [ev["type"] async for ev in client.watch_path(CONFIGMAPS.path(ns), params)]

        asked, not_asked = await asyncio.gather(frames(True), frames(False))
    # About four; at least three whatever the scheduling (revision moves alone would give ~0).
    assert len(asked) >= 3 and set(asked) == {"BOOKMARK"}, asked
    assert not_asked == []
