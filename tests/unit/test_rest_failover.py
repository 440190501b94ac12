"""Client-side failover between API servers (issue 14): real HTTP servers on loopback,
one of them gone. A request that could not connect goes to the next server; one that may
have reached a server is never sent twice; a watch on a dead server fails at once and the
retry lands on the next; the kubeconfig extension lists the masters."""
from __future__ import annotations

import asyncio
import json
import pathlib
import socket
from typing import AsyncIterator

import pytest
from aiohttp import web

from minik8s.api import errors
from minik8s.api import resources
from minik8s.apiserver import handlers
from minik8s.client import kubeconfig
from minik8s.client import rest
from minik8s.util import procs

CONFIGMAPS = resources.must("", "v1", "configmaps")


class Master:
    """A loopback HTTP server answering like an API server, counting what reached it."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.hits: list[str] = []
        self.port = procs.free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.runner: web.AppRunner | None = None
        self.hang_up = False  # close the connection without an answer, after reading the request
        # Answer 503 with this Status instead (an API server whose etcd member is gone).
        self.unavailable: errors.StatusError | None = None
        # After a watch's first event, hang with the connection open (a SIGSTOPped or cut-off
        # master); with `heartbeat`, send a BOOKMARK that often meanwhile (a quiet live one).
        self.hang_watches = False
        self.heartbeat = 0.0
        self.watch_queries: list[dict[str, str]] = []
        self.released = asyncio.Event()  # stop(): hanging watches end

    async def start(self) -> None:
        async def handle(request: web.Request) -> web.StreamResponse:
            self.hits.append(f"{request.method} {request.path}")
            if self.hang_up:
                assert request.transport is not None
                request.transport.close()
                await asyncio.sleep(1)
            if self.unavailable is not None:
                return handlers.status_response(self.unavailable)
            if request.query.get("watch") == "true":
                resp = web.StreamResponse(headers={"Content-Type": "application/json"})
                await resp.prepare(request)
                obj = {"metadata": {"name": self.name, "namespace": "ns", "resourceVersion": "5"}}
                await resp.write(json.dumps({"type": "ADDED", "object": obj}).encode() + b"\n")
                self.watch_queries.append(dict(request.query))
                while self.hang_watches and not self.released.is_set():
                    try:
                        await asyncio.wait_for(self.released.wait(), self.heartbeat or None)
                        break
                    except TimeoutError:
                        pass
                    bookmark = {"metadata": {"resourceVersion": "5"}}
                    await resp.write(json.dumps({"type": "BOOKMARK", "object": bookmark}).encode() + b"\n")
                return resp
            return web.json_response({"kind": "ConfigMap", "metadata": {"name": self.name}})

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", handle)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        self.released.set()
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None


@pytest.fixture
async def masters() -> AsyncIterator[list[Master]]:
    ms = [Master("m1"), Master("m2"), Master("m3")]
    for m in ms:
        await m.start()
    yield ms
    for m in ms:
        await m.stop()


def dead_url() -> str:
    """A loopback port nothing listens on (connections are refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


async def test_one_dead_master_costs_nothing_but_a_connect(masters: list[Master]) -> None:
    await masters[0].stop()
    async with rest.Client(",".join(m.url for m in masters)) as client:
        got = await client.get(CONFIGMAPS, "x", "ns")
        assert got["metadata"]["name"] == "m2"
        assert client.server == masters[1].url and client.failovers == 1
        # Later requests go straight to the live one.
        await client.get(CONFIGMAPS, "y", "ns")
        assert len(masters[1].hits) == 2 and client.failovers == 1


async def test_when_the_current_master_dies_reads_move_on_and_writes_at_most_once(masters: list[Master]) -> None:
    async with rest.Client([m.url for m in masters]) as client:
        await client.get(CONFIGMAPS, "x", "ns")
        assert client.server == masters[0].url
        await masters[0].stop()
        got = await client.get(CONFIGMAPS, "x", "ns")
        assert got["metadata"]["name"] == "m2"
        await client.get(CONFIGMAPS, "x", "ns")  # a pooled connection to m2 now
        await masters[1].stop()
        # The pooled connection's master died: the write may fail once (it cannot tell
        # whether m2 had it), then goes to m3.
        try:
            got = await client.create(CONFIGMAPS, {"metadata": {"name": "c"}}, "ns")
        except errors.ServiceUnavailable:
            got = await client.create(CONFIGMAPS, {"metadata": {"name": "c"}}, "ns")
        assert got["metadata"]["name"] == "m3"
        assert masters[2].hits == ["POST /api/v1/namespaces/ns/configmaps"]


async def test_a_request_that_may_have_arrived_is_not_sent_again(masters: list[Master]) -> None:
    masters[0].hang_up = True
    async with rest.Client([m.url for m in masters]) as client:
        with pytest.raises(errors.ServiceUnavailable):
            await client.create(CONFIGMAPS, {"metadata": {"name": "c"}}, "ns")
        assert masters[0].hits == ["POST /api/v1/namespaces/ns/configmaps"]
        assert masters[1].hits == [] and masters[2].hits == []
        # ... but the next request goes elsewhere.
        assert client.server == masters[1].url


async def test_a_master_without_etcd_sends_reads_and_unsent_writes_to_the_next(masters: list[Master]) -> None:
    # What storage answers when the call never reached etcd: not carried out, retry.
    masters[0].unavailable = errors.ServiceUnavailable("etcd is unavailable (create, not sent)", retry_after=1)
    async with rest.Client([m.url for m in masters]) as client:
        got = await client.create(CONFIGMAPS, {"metadata": {"name": "c"}}, "ns")
        assert got["metadata"]["name"] == "m2"
        assert masters[0].hits == masters[1].hits == ["POST /api/v1/namespaces/ns/configmaps"]
        assert client.server == masters[1].url and client.failovers == 1


async def test_a_503_that_may_have_been_applied_is_not_sent_again(masters: list[Master]) -> None:
    masters[0].unavailable = errors.ServiceUnavailable("etcd is unavailable (create; may or may not have been "
                                                       "applied)")
    async with rest.Client([m.url for m in masters]) as client:
        with pytest.raises(errors.ServiceUnavailable, match="may or may not"):
            await client.create(CONFIGMAPS, {"metadata": {"name": "c"}}, "ns")
        assert masters[1].hits == [] and masters[2].hits == []
        # A read is always safe to ask again elsewhere.
        got = await client.get(CONFIGMAPS, "x", "ns")
        assert got["metadata"]["name"] == "m2"


async def test_other_errors_and_a_single_server_do_not_fail_over(masters: list[Master]) -> None:
    masters[0].unavailable = errors.StatusError(500, "InternalError", "boom")
    async with rest.Client([m.url for m in masters]) as client:
        with pytest.raises(errors.StatusError, match="boom"):
            await client.get(CONFIGMAPS, "x", "ns")
        assert client.failovers == 0
    masters[0].unavailable = errors.ServiceUnavailable("etcd is unavailable", retry_after=1)
    async with rest.Client(masters[0].url) as client:
        with pytest.raises(errors.ServiceUnavailable) as info:
            await client.create(CONFIGMAPS, {"metadata": {"name": "c"}}, "ns")
        assert info.value.details == {"retryAfterSeconds": 1}


async def test_every_master_dead_is_one_clear_error() -> None:
    urls = [dead_url(), dead_url()]
    async with rest.Client(urls) as client:
        with pytest.raises(errors.ServiceUnavailable, match="cannot reach the API server"):
            await client.get(CONFIGMAPS, "x", "ns")


async def test_a_watch_on_a_dead_master_fails_fast_and_the_retry_moves_on(masters: list[Master]) -> None:
    await masters[0].stop()
    async with rest.Client([m.url for m in masters]) as client:
        with pytest.raises(errors.ServiceUnavailable):
            async for _ in client.watch(CONFIGMAPS, "ns"):
                pass
        async for ev in client.watch(CONFIGMAPS, "ns", timeout_seconds=1):
            assert ev["object"]["metadata"]["name"] == "m2"
            break


async def test_a_silent_watch_that_asked_for_bookmarks_gives_up_its_master(masters: list[Master]) -> None:
    """A master that hangs with its connections open (no RST): the watch hears its first
    event, then nothing, not even a bookmark; after the idle bound it fails over, and the
    retry (the informer's, from its resourceVersion) is answered by the next master."""
    masters[0].hang_watches = True
    async with rest.Client([m.url for m in masters], watch_idle_timeout=0.3) as client:
        seen = []
        with pytest.raises(errors.ServiceUnavailable, match="heard nothing, not even a bookmark"):
            async with asyncio.timeout(10):  # the functional bound: 0.3 s is what it should take
                async for ev in client.watch(CONFIGMAPS, "ns", resource_version="4"):
                    seen.append(ev["object"]["metadata"]["name"])
        assert seen == ["m1"]
        assert masters[0].watch_queries[0]["allowWatchBookmarks"] == "true"
        assert client.server == masters[1].url and client.failovers == 1
        async for ev in client.watch(CONFIGMAPS, "ns", resource_version="5", timeout_seconds=1):
            assert ev["object"]["metadata"]["name"] == "m2"
            break
        assert masters[1].watch_queries[0]["resourceVersion"] == "5"


async def test_heartbeats_keep_a_quiet_watch_and_watches_without_bookmarks_have_no_bound(
        masters: list[Master]) -> None:
    masters[0].hang_watches = True
    masters[0].heartbeat = 0.05
    async with rest.Client([m.url for m in masters], watch_idle_timeout=0.3) as client:
        bookmarks = 0
        async for ev in client.watch(CONFIGMAPS, "ns"):
            bookmarks += ev["type"] == "BOOKMARK"
            if bookmarks == 20:  # a second of heartbeats: over three idle bounds
                break
        masters[0].heartbeat = 0.0
        # Nobody asked this server for heartbeats: its silence says nothing.
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(1.0):
                async for _ in client.watch(CONFIGMAPS, "ns", bookmarks=False):
                    pass
        assert "allowWatchBookmarks" not in masters[0].watch_queries[-1]
        assert client.failovers == 0 and client.server == masters[0].url


async def test_one_server_behaves_as_before() -> None:
    async with rest.Client(dead_url()) as client:
        with pytest.raises(errors.ServiceUnavailable):
            await client.get(CONFIGMAPS, "x", "ns")
        assert client.failovers == 0


def test_server_lists() -> None:
    assert rest.split_servers("https://a:6443/, https://b:6443") == ["https://a:6443", "https://b:6443"]
    with pytest.raises(ValueError):
        rest.split_servers(" , ")


def test_kubeconfig_lists_the_masters_for_us_and_one_server_for_kubectl(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "kc"
    urls = ["https://10.0.0.2:6443", "https://10.0.0.1:6443", "https://10.0.0.3:6443"]
    kubeconfig.write_context(path, "c", "https://10.0.0.1:6443", token="t", servers=urls)
    access = kubeconfig.load(path)
    assert access.server == "https://10.0.0.1:6443"
    assert access.servers == ("https://10.0.0.1:6443", "https://10.0.0.2:6443", "https://10.0.0.3:6443")
    client = rest.from_kubeconfig(str(path))
    assert client.servers == list(access.servers)
    kubeconfig.write_context(tmp_path / "one", "c", "https://10.0.0.1:6443", token="t")
    assert kubeconfig.load(tmp_path / "one").servers == ()


async def test_a_client_learns_the_live_masters_from_the_kubernetes_endpoints() -> None:
    """k3s agents' way: the `kubernetes` Endpoints (the live API servers) join the failover
    list after the current server and before the configured ones; nobody listed: no change."""
    listed: dict[str, object] = {}

    async def endpoints(request: web.Request) -> web.StreamResponse:
        return web.json_response(listed)

    app = web.Application()
    app.router.add_get("/api/v1/namespaces/default/endpoints/kubernetes", endpoints)
    runner = web.AppRunner(app)
    await runner.setup()
    port = procs.free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    first, gone = f"http://127.0.0.1:{port}", "https://192.0.2.9:6443"
    try:
        async with rest.Client([first, gone], timeout=5) as client:
            listed.update({"kind": "Endpoints", "subsets": []})
            assert await client.learn_servers() == [first, gone], "nobody listed: nothing changes"
            listed["subsets"] = [{"addresses": [{"ip": "192.0.2.2"}, {"ip": "192.0.2.3"}],
                                  "ports": [{"name": "https", "port": 6443, "protocol": "TCP"}]}]
            assert await client.learn_servers() == [first, "https://192.0.2.2:6443", "https://192.0.2.3:6443", gone]
            assert client.server == first, "the current server stays current"
            listed["subsets"] = [{"addresses": [{"ip": "192.0.2.3"}], "ports": [{"name": "https", "port": 6443}]}]
            assert await client.learn_servers() == [first, "https://192.0.2.3:6443", gone], \
                "a master gone from the Endpoints is forgotten unless configured"
    finally:
        await runner.cleanup()


async def test_learning_runs_in_the_background_at_most_once_per_interval() -> None:
    nowhere = f"https://127.0.0.1:{procs.free_port()}"
    async with rest.Client(nowhere, timeout=2, connect_timeout=1, learn_masters=30.0) as client:
        client._maybe_learn()
        first = client._learning
        assert first is not None
        await first  # an unreachable API server: logged, not raised
        client._maybe_learn()
        assert client._learning is first, "not again within the interval"
    async with rest.Client(nowhere, timeout=2) as client:
        client._maybe_learn()
        assert client._learning is None, "off unless asked for"
