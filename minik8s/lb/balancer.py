"""A TCP load balancer in front of the API servers, as k3s's agent load balancer (127.0.0.1:6444).

kubectl reads one `server` from its kubeconfig; with several masters that one may be the
dead one. This listens on a local address and splices each accepted connection to an
API server, byte for byte: TLS passes through untouched, so kubectl checks the API
server's certificate (which names 127.0.0.1 and localhost) and the API server sees the
client's certificate, as if there were no balancer.

Which server: as k3s, one is current and takes every new connection, so a client's
connections meet one server's watch cache. A server that refuses the connect or does
not answer it within `connect_timeout` is marked down for `down_for` seconds and the
next one is dialled at once, for the same client connection; the client notices
nothing. A health check per server (a TCP connect, or GET /readyz over TLS when the
cluster's CA is known: an API server that accepts connections but has lost etcd is not
ready) runs every `health_interval`; a server found healthy again is usable at once.
When every server looks down they are all dialled anyway: a stale verdict must not
refuse a client while a server may be back.

Connections already spliced to a server that dies simply break (both ends closed when
either ends, as tcpproxy does); kubectl retries, and its retry lands on a live server.
"""
from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import ssl
import time
import urllib.parse
from collections.abc import Callable, Sequence
from typing import Awaitable

log = logging.getLogger(__name__)

DEFAULT_PORT = 6444  # k3s's agent load balancer's
DEFAULT_API_PORT = 6443
BUFFER = 64 * 1024

HealthCheck = Callable[["Backend"], Awaitable[bool]]


class NoBackend(Exception):
    """No API server took the connection."""


def parse_server(text: str) -> tuple[str, int]:
    """(host, port) of an API server given as a URL (`https://10.0.0.1:6443`, a kubeconfig's
    `server`) or as `host:port` / `[v6]:port` / `host` (port 6443)."""
    text = text.strip()
    parts = urllib.parse.urlsplit(text if "//" in text else f"//{text}")
    try:
        port = parts.port
    except ValueError as e:
        raise ValueError(f"{text!r}: {e}") from None
    if not parts.hostname:
        raise ValueError(f"{text!r} names no host")
    return parts.hostname, port or DEFAULT_API_PORT


@dataclasses.dataclass(eq=False)
class Backend:
    """One API server and what the balancer knows of it."""

    host: str
    port: int
    healthy: bool = True  # the last health check's verdict (none yet: assumed healthy)
    down_until: float = 0.0  # a failed dial keeps it out of rotation until then
    active: int = 0  # client connections spliced to it now

    @property
    def address(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    def usable(self, now: float) -> bool:
        return self.healthy and now >= self.down_until


async def tcp_check(backend: Backend, timeout: float = 2.0) -> bool:
    """Healthy if it accepts a TCP connection (without the cluster's CA nothing more is honest)."""
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(backend.host, backend.port), timeout)
    except (OSError, asyncio.TimeoutError):
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


def readyz_check(context: ssl.SSLContext, server_name: str | None = None, timeout: float = 2.0) -> HealthCheck:
    """Healthy if GET /readyz over TLS (the certificate checked against the cluster's CA)
    answers 200: the server is up and can reach etcd. /readyz needs no credentials."""
    async def check(backend: Backend) -> bool:
        name = server_name or backend.host
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(backend.host, backend.port, ssl=context, server_hostname=name), timeout)
        except (OSError, ssl.SSLError, asyncio.TimeoutError):
            return False
        try:
            writer.write(f"GET /readyz HTTP/1.1\r\nHost: {backend.address}\r\nConnection: close\r\n"
                         "User-Agent: minik8s-lb\r\n\r\n".encode())
            status = await asyncio.wait_for(reader.readline(), timeout)
        except (OSError, ssl.SSLError, asyncio.TimeoutError):
            return False
        finally:
            writer.close()
            with contextlib.suppress(OSError, ssl.SSLError):
                await writer.wait_closed()
        parts = status.split()
        return len(parts) >= 2 and parts[0].startswith(b"HTTP/") and parts[1] == b"200"
    return check


class Balancer:
    """The servers, which one is current, and the splicing of client connections to them."""

    def __init__(self, servers: Sequence[str], *, connect_timeout: float = 3.0, down_for: float = 15.0,
                 health_interval: float = 5.0, health_check: HealthCheck = tcp_check,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.connect_timeout = connect_timeout
        self.down_for = down_for
        self.health_interval = health_interval
        self.health_check = health_check
        self.clock = clock
        self.backends: list[Backend] = []
        self._current: Backend | None = None
        self._conns: set[asyncio.Task[None]] = set()
        self.set_servers(servers)

    # -- which server ---------------------------------------------------------------------

    def set_servers(self, servers: Sequence[str]) -> None:
        """The servers to balance over, in order of preference; what is known of a server
        already listed (its health, a down mark) is kept."""
        known = {(b.host, b.port): b for b in self.backends}
        backends: list[Backend] = []
        for s in servers:
            host, port = parse_server(s)
            if (host, port) not in {(b.host, b.port) for b in backends}:
                backends.append(known.get((host, port)) or Backend(host, port))
        if not backends:
            raise ValueError("no API server given")
        added = [b.address for b in backends if (b.host, b.port) not in known]
        gone = [b.address for b in self.backends if b not in backends]
        if self.backends and (added or gone):
            log.info("API servers now %s (added %s, removed %s)", ", ".join(b.address for b in backends),
                     ", ".join(added) or "none", ", ".join(gone) or "none")
        self.backends = backends
        if self._current not in backends:
            self._current = None

    @property
    def current(self) -> Backend | None:
        return self._current

    def order(self) -> list[Backend]:
        """The servers to dial for a new connection: the usable ones from the current one on,
        then the rest (a stale verdict must not refuse everyone)."""
        start = self.backends.index(self._current) if self._current is not None else 0
        ring = self.backends[start:] + self.backends[:start]
        now = self.clock()
        return [b for b in ring if b.usable(now)] + [b for b in ring if not b.usable(now)]

    def mark_down(self, backend: Backend, error: BaseException | str) -> None:
        backend.down_until = self.clock() + self.down_for
        if self._current is backend:
            self._current = None
        log.warning("API server %s unreachable (%s): out of rotation for %gs", backend.address, error or "timeout",
                    self.down_for)

    async def dial(self) -> tuple[Backend, asyncio.StreamReader, asyncio.StreamWriter]:
        """A connection to the first server of `order` that takes one; it becomes current."""
        errors = []
        for b in self.order():
            try:
                reader, writer = await asyncio.wait_for(asyncio.open_connection(b.host, b.port),
                                                        self.connect_timeout)
            except (OSError, asyncio.TimeoutError) as e:
                self.mark_down(b, e)
                errors.append(f"{b.address}: {e or 'timeout'}")
                continue
            if self._current is not b:
                log.info("API server %s is current", b.address)
                self._current = b
            return b, reader, writer
        raise NoBackend("; ".join(errors))

    # -- health ---------------------------------------------------------------------------

    async def check_health(self) -> None:
        """Ask every server once (together); a server found healthy is usable again at once."""
        backends = list(self.backends)
        verdicts = await asyncio.gather(*(self.health_check(b) for b in backends))
        for b, ok in zip(backends, verdicts):
            if ok and (not b.healthy or b.down_until):
                log.info("API server %s healthy again", b.address)
                b.down_until = 0.0
            elif not ok and b.healthy:
                log.warning("API server %s failed its health check", b.address)
                if self._current is b:
                    self._current = None
            b.healthy = ok

    async def health_loop(self) -> None:
        while True:
            await self.check_health()
            await asyncio.sleep(self.health_interval)

    # -- splicing ---------------------------------------------------------------------------

    async def handle(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        """asyncio.start_server's callback: one client connection, spliced to a server."""
        task = asyncio.current_task()
        if task is not None:
            self._conns.add(task)
        peer = client_writer.get_extra_info("peername")
        try:
            try:
                backend, reader, writer = await self.dial()
            except NoBackend as e:
                log.warning("no API server for the connection from %s: %s", peer, e)
                return
            backend.active += 1
            try:
                await splice(client_reader, client_writer, reader, writer)
            finally:
                backend.active -= 1
                await _close(writer)
        finally:
            await _close(client_writer)
            if task is not None:
                self._conns.discard(task)

    async def close_connections(self) -> None:
        """End every spliced connection (on shutdown)."""
        for task in list(self._conns):
            task.cancel()
        await asyncio.gather(*self._conns, return_exceptions=True)


async def splice(a_reader: asyncio.StreamReader, a_writer: asyncio.StreamWriter,
                 b_reader: asyncio.StreamReader, b_writer: asyncio.StreamWriter) -> None:
    """Copy both ways until either side ends or fails; the caller closes both, so a server
    that dies mid-connection closes its client's connection too."""
    async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError):
            while data := await src.read(BUFFER):
                dst.write(data)
                await dst.drain()

    tasks = [asyncio.ensure_future(pipe(a_reader, b_writer)), asyncio.ensure_future(pipe(b_reader, a_writer))]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def _close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(OSError, asyncio.CancelledError):
        await writer.wait_closed()
