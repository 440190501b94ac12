"""The API servers' load balancer (`minik8s lb`, issue 14) with real sockets on loopback:
plain TCP backends for the splice and the failover (one dead: traffic goes to the other; a
backend dying mid-connection closes the client's connection; a server healthy again takes
connections again), and TLS ones for what must pass through untouched (the client's
certificate reaches the server, the server's certificate verifies as 127.0.0.1) and for
the /readyz health check."""
from __future__ import annotations

import asyncio
import contextlib
import pathlib
import ssl
from collections.abc import AsyncIterator

import pytest

from minik8s.api import identities
from minik8s.client import kubeconfig
from minik8s.lb import balancer
from minik8s.lb import server as lb_server
from minik8s.util import procs
from tests.conftest import test_pki

TIMEOUT = 5.0
LIMIT = 1 << 20  # lines longer than the balancer's buffer


class Backend:
    """A TCP server on loopback that answers each line with `<name>:<line>`, optionally over TLS."""

    def __init__(self, name: str, port: int | None = None, tls: ssl.SSLContext | None = None) -> None:
        self.name = name
        self.port = port or procs.free_port()
        self.tls = tls
        self.server: asyncio.Server | None = None
        self.writers: list[asyncio.StreamWriter] = []

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    async def start(self) -> Backend:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.writers.append(writer)
            with contextlib.suppress(OSError, ssl.SSLError):
                while line := await reader.readline():
                    if line.startswith(b"GET /readyz"):
                        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                        await writer.drain()
                        break
                    cert = writer.get_extra_info("peercert")
                    who = dict(x[0] for x in cert["subject"])["commonName"] if cert else "-"
                    writer.write(f"{self.name}:{who}:".encode() + line)
                    await writer.drain()
            writer.close()

        self.server = await asyncio.start_server(handle, "127.0.0.1", self.port, ssl=self.tls, limit=LIMIT)
        return self

    async def stop(self) -> None:
        """The server gone, and every connection it had with it (a master powered off)."""
        assert self.server is not None
        self.server.close()
        for w in self.writers:
            w.transport.abort()
        await self.server.wait_closed()
        self.server = None


@contextlib.asynccontextmanager
async def running(lb: balancer.Balancer) -> AsyncIterator[int]:
    port = procs.free_port()
    server = await asyncio.start_server(lb.handle, "127.0.0.1", port)
    try:
        yield port
    finally:
        server.close()
        await lb.close_connections()
        await server.wait_closed()


async def ask(port: int, line: bytes = b"hello\n", tls: ssl.SSLContext | None = None) -> bytes:
    reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port, ssl=tls, limit=LIMIT),
                                            TIMEOUT)
    try:
        writer.write(line)
        await writer.drain()
        return await asyncio.wait_for(reader.readline(), TIMEOUT)
    finally:
        writer.close()


def dead_url() -> str:
    return f"https://127.0.0.1:{procs.free_port()}"  # nobody listens: connection refused


@pytest.mark.parametrize("text, want", [
    ("https://10.0.0.1:6443", ("10.0.0.1", 6443)), ("https://10.0.0.1", ("10.0.0.1", 6443)),
    ("10.0.0.1:7443", ("10.0.0.1", 7443)), ("master1", ("master1", 6443)), ("[fd00::1]:6443", ("fd00::1", 6443)),
    ("https://[fd00::1]:8443/", ("fd00::1", 8443)),
])
def test_parse_server(text: str, want: tuple[str, int]) -> None:
    assert balancer.parse_server(text) == want


@pytest.mark.parametrize("text", ["https://:6443", "10.0.0.1:http", ""])
def test_parse_server_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        balancer.parse_server(text)


async def test_splices_both_ways() -> None:
    b = await Backend("b1").start()
    lb = balancer.Balancer([b.url])
    try:
        async with running(lb) as port:
            assert await ask(port) == b"b1:-:hello\n"
            assert await ask(port, b"x" * 200_000 + b"\n") == b"b1:-:" + b"x" * 200_000 + b"\n"
            assert lb.current is lb.backends[0]
    finally:
        await b.stop()


async def test_a_dead_server_is_skipped_and_marked_down() -> None:
    alive = await Backend("alive").start()
    dead = dead_url()
    lb = balancer.Balancer([dead, alive.url], down_for=60)
    try:
        async with running(lb) as port:
            assert await ask(port) == b"alive:-:hello\n", "the client's connection is dialled onwards at once"
            down, up = lb.backends
            assert down.down_until > lb.clock() and not down.usable(lb.clock())
            assert lb.current is up
            assert lb.order() == [up, down], "the dead one is tried last while it is marked down"
            assert await ask(port) == b"alive:-:hello\n"
    finally:
        await alive.stop()


async def test_every_server_dead_closes_the_client() -> None:
    lb = balancer.Balancer([dead_url(), dead_url()])
    async with running(lb) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        assert await asyncio.wait_for(reader.read(), TIMEOUT) == b""
        writer.close()


async def test_a_server_dying_mid_connection_closes_the_clients_connection() -> None:
    first = await Backend("first").start()
    second = await Backend("second").start()
    lb = balancer.Balancer([first.url, second.url])
    try:
        async with running(lb) as port:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"one\n")
            assert await asyncio.wait_for(reader.readline(), TIMEOUT) == b"first:-:one\n"
            await first.stop()
            assert await asyncio.wait_for(reader.read(), TIMEOUT) == b"", "the client sees its connection end"
            writer.close()
            assert lb.backends[0].active == 0
            # The client's retry (kubectl's) lands on the live server.
            assert await ask(port) == b"second:-:hello\n"
    finally:
        await second.stop()


async def test_a_server_healthy_again_takes_connections_again() -> None:
    port_a = procs.free_port()
    b = await Backend("b").start()
    lb = balancer.Balancer([f"127.0.0.1:{port_a}", b.url], down_for=3600)
    try:
        async with running(lb) as port:
            assert await ask(port) == b"b:-:hello\n"
            a_backend = lb.backends[0]
            assert not a_backend.usable(lb.clock())
            a = await Backend("a", port_a).start()
            try:
                await lb.check_health()
                assert a_backend.usable(lb.clock()), "healthy: back in rotation long before down_for ends"
                await b.stop()
                await lb.check_health()
                assert not lb.backends[1].usable(lb.clock())
                assert await ask(port) == b"a:-:hello\n"
            finally:
                await a.stop()
    finally:
        if b.server is not None:
            await b.stop()


async def test_an_unhealthy_server_that_accepts_connections_is_passed_over() -> None:
    """An API server that lost etcd still accepts TCP; its failed /readyz keeps it out."""
    sick = await Backend("sick").start()
    well = await Backend("well").start()
    verdicts = {sick.port: False, well.port: True}

    async def check(b: balancer.Backend) -> bool:
        return verdicts[b.port]

    lb = balancer.Balancer([sick.url, well.url], health_check=check)
    try:
        async with running(lb) as port:
            assert await ask(port) == b"sick:-:hello\n", "no verdict yet: assumed healthy"
            await lb.check_health()
            assert lb.current is None, "the current one failed its check"
            assert await ask(port) == b"well:-:hello\n"
            verdicts[well.port] = False
            await lb.check_health()
            assert await ask(port) == b"sick:-:hello\n", "everything looks down: dialled anyway"
    finally:
        await sick.stop()
        await well.stop()


def test_set_servers_keeps_what_is_known() -> None:
    lb = balancer.Balancer(["https://10.0.0.1:6443", "https://10.0.0.2:6443"])
    first = lb.backends[0]
    lb.mark_down(first, "refused")
    lb.set_servers(["10.0.0.1:6443", "https://10.0.0.3:6443", "https://10.0.0.1:6443"])
    assert [b.address for b in lb.backends] == ["10.0.0.1:6443", "10.0.0.3:6443"]
    assert lb.backends[0] is first and first.down_until > 0
    with pytest.raises(ValueError):
        lb.set_servers([])


async def test_tls_passes_through_untouched() -> None:
    """The server's certificate verifies as 127.0.0.1 through the balancer, and the client's
    certificate reaches the server (its CN is what the backend saw)."""
    pki = test_pki()
    cert, key = pki.serving("127.0.0.1")
    serving = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=pki.ca_file)
    serving.load_cert_chain(cert, key)
    serving.verify_mode = ssl.CERT_REQUIRED
    b = await Backend("tls", tls=serving).start()
    lb = balancer.Balancer([dead_url(), b.url])
    try:
        async with running(lb) as port:
            client = pki.ssl_context(identities.ADMIN)
            assert client.check_hostname and client.verify_mode == ssl.CERT_REQUIRED
            assert await ask(port, tls=client) == f"tls:{identities.ADMIN}:hello\n".encode()
    finally:
        await b.stop()


async def test_readyz_check() -> None:
    pki = test_pki()
    cert, key = pki.serving("127.0.0.1")
    serving = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    serving.load_cert_chain(cert, key)
    b = await Backend("tls", tls=serving).start()
    ours = ssl.create_default_context(cafile=pki.ca_file)
    other_ca = ssl.create_default_context()  # the system's CAs: not the cluster's
    try:
        target = balancer.Backend("127.0.0.1", b.port)
        assert await balancer.readyz_check(ours)(target)
        assert not await balancer.readyz_check(other_ca)(target), "a certificate the CA did not sign"
        assert not await balancer.readyz_check(ours)(balancer.Backend("127.0.0.1", procs.free_port()))
        plain = await Backend("plain").start()  # accepts, but no TLS and no 200
        try:
            assert not await balancer.readyz_check(ours, timeout=1)(balancer.Backend("127.0.0.1", plain.port))
        finally:
            await plain.stop()
    finally:
        await b.stop()


def test_server_config(tmp_path: pathlib.Path) -> None:
    """--servers wins; else the kubeconfig's masters; never the balancer's own address; the
    kubeconfig's CA makes the health check /readyz over TLS."""
    pki = test_pki()
    path = tmp_path / "admin.conf"
    ca = pathlib.Path(pki.ca_file).read_bytes()
    kubeconfig.write_context(path, "c", "https://127.0.0.1:6444", ca=ca, token="t",
                             servers=["https://10.0.0.1:6443", "https://10.0.0.2:6443"])
    access = kubeconfig.load(path)
    cfg = lb_server.Config(kubeconfig=str(path))
    assert lb_server.configured_servers(cfg, access) == ["https://10.0.0.1:6443", "https://10.0.0.2:6443"]
    assert lb_server.health_check(cfg, access) is not balancer.tcp_check
    only_itself = lb_server.Config(servers=["https://127.0.0.1:6444"])
    with pytest.raises(ValueError):
        lb_server.configured_servers(only_itself, None)
    bare = lb_server.Config(servers=["10.0.0.9:6443"])
    assert lb_server.configured_servers(bare, None) == ["10.0.0.9:6443"]
    assert lb_server.health_check(bare, None) is balancer.tcp_check
