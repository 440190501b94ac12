"""The userspace mode (the seed's first mode): the proxy itself carries the bytes.

For every Service port the proxy listens on a random local port (a "portal"),
and iptables REDIRECTs clusterIP:port and the nodePort to it
(`rules.build_userspace_rules`). A TCP connection accepted there is relayed to
the next endpoint in round-robin order; an endpoint that refuses or times out is
skipped and the next one tried, so a dead pod costs a client one retry, not a
failure. UDP datagrams are relayed through one socket per client address
("session") to one endpoint, replies go back through the portal socket (so
conntrack turns their source back into the cluster IP), and sessions idle for
`udp_timeout` are closed. As in Kubernetes' old pkg/proxy/userspace.

The relay uses asyncio protocols rather than streams: each chunk read from one
socket is written to the other from the read callback, with back-pressure from
the writer pausing the reader, so no coroutine runs per chunk.
"""
from __future__ import annotations

import asyncio
import logging
import time
import typing
from typing import Any, Callable

from minik8s.proxy import counters as counters_mod
from minik8s.proxy import iptables
from minik8s.proxy import proxier
from minik8s.proxy import rules
from minik8s.proxy import servicemap

log = logging.getLogger(__name__)

# Connect timeouts of successive attempts (kube-proxy's userspace EndpointDialTimeouts).
DIAL_TIMEOUTS = (0.25, 0.5, 1.0, 2.0)


class RoundRobin:
    """The endpoints of one Service port, handed out in turn (ClientIP affinity optional)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.endpoints: tuple[servicemap.Endpoint, ...] = ()
        self.affinity_timeout = 0
        self.clock = clock
        self._next = 0
        self._affinity: dict[str, tuple[servicemap.Endpoint, float]] = {}

    def update(self, endpoints: tuple[servicemap.Endpoint, ...], affinity_timeout: int = 0) -> None:
        self.affinity_timeout = affinity_timeout
        if endpoints == self.endpoints:
            return
        self.endpoints = endpoints
        self._next = self._next % len(endpoints) if endpoints else 0
        keep = set(endpoints)
        self._affinity = {ip: v for ip, v in self._affinity.items() if v[0] in keep}

    def next(self, client_ip: str | None = None) -> servicemap.Endpoint | None:
        if not self.endpoints:
            return None
        now = self.clock()
        if self.affinity_timeout and client_ip is not None:
            sticky = self._affinity.get(client_ip)
            if sticky is not None and now - sticky[1] < self.affinity_timeout:
                self._affinity[client_ip] = (sticky[0], now)
                return sticky[0]
        ep = self.endpoints[self._next % len(self.endpoints)]
        self._next = (self._next + 1) % len(self.endpoints)
        if self.affinity_timeout and client_ip is not None:
            self._affinity[client_ip] = (ep, now)
        return ep

    def failed(self, ep: servicemap.Endpoint, client_ip: str | None = None) -> None:
        """A connection to `ep` failed: a sticky client must not be sent back to it."""
        if client_ip is not None and self._affinity.get(client_ip, (None, 0))[0] == ep:
            del self._affinity[client_ip]


# -- TCP ------------------------------------------------------------------------------------------

class _Pipe(asyncio.Protocol):
    """One side of a relayed connection: what it reads, its peer writes."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.peer: _Pipe | None = None
        self.eof = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        # Nothing is read until the other side exists to take it (a server may speak first).
        if self.peer is None:
            transport.pause_reading()

    def data_received(self, data: bytes) -> None:
        assert self.peer is not None and self.peer.transport is not None
        self.peer.transport.write(data)

    def eof_received(self) -> bool:
        # Pass the half-close on; close both once both directions are done.
        self.eof = True
        peer = self.peer
        if peer is None or peer.transport is None or peer.transport.is_closing():
            return False
        if peer.eof:
            peer.transport.close()
            return False
        if peer.transport.can_write_eof():
            peer.transport.write_eof()
        return True

    def connection_lost(self, exc: Exception | None) -> None:
        # close() still flushes what is buffered for the peer.
        if self.peer is not None and self.peer.transport is not None:
            self.peer.transport.close()

    def pause_writing(self) -> None:
        if self.peer is not None and self.peer.transport is not None:
            self.peer.transport.pause_reading()

    def resume_writing(self) -> None:
        if self.peer is not None and self.peer.transport is not None:
            self.peer.transport.resume_reading()


def _link(a: _Pipe, b: _Pipe) -> None:
    a.peer, b.peer = b, a
    for pipe in (a, b):
        assert pipe.transport is not None
        pipe.transport.resume_reading()


class _ClientPipe(_Pipe):
    def __init__(self, portal: "TcpPortal") -> None:
        super().__init__()
        self.portal = portal

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self.portal.dial(self)


class TcpPortal:
    def __init__(self, service: servicemap.ServicePort, lb: RoundRobin) -> None:
        self.service = service
        self.lb = lb
        self.server: asyncio.Server | None = None
        self.port = 0
        self.connections = 0
        # Told of every relayed connection (counters.Tally.count), for the per-endpoint counts.
        self.on_connection: Callable[[servicemap.ServicePortName, servicemap.Endpoint], None] | None = None
        self._dials: set[asyncio.Task[None]] = set()

    async def open(self, host: str) -> None:
        loop = asyncio.get_running_loop()
        self.server = await loop.create_server(lambda: _ClientPipe(self), host, 0, backlog=1024)
        self.port = self.server.sockets[0].getsockname()[1]

    def dial(self, client: _ClientPipe) -> None:
        task = asyncio.get_running_loop().create_task(self._dial(client))
        self._dials.add(task)
        task.add_done_callback(self._dials.discard)

    async def _dial(self, client: _ClientPipe) -> None:
        assert client.transport is not None
        peer = client.transport.get_extra_info("peername")
        client_ip = peer[0] if peer else None
        loop = asyncio.get_running_loop()
        attempts = max(1, len(self.lb.endpoints))
        for i in range(attempts):
            ep = self.lb.next(client_ip)
            if ep is None:
                break
            timeout = DIAL_TIMEOUTS[min(i, len(DIAL_TIMEOUTS) - 1)]
            try:
                _t, backend = await asyncio.wait_for(loop.create_connection(_Pipe, ep.ip, ep.port), timeout)
            except (OSError, asyncio.TimeoutError) as e:
                self.lb.failed(ep, client_ip)
                log.info("userspace proxier: %s: endpoint %s failed (%s); trying the next",
                         self.service.name, ep, e.__class__.__name__ if not str(e) else e)
                continue
            if client.transport.is_closing():
                assert backend.transport is not None
                backend.transport.close()
                return
            _link(client, backend)
            self.connections += 1
            if self.on_connection is not None:
                self.on_connection(self.service.name, ep)
            return
        log.info("userspace proxier: %s: no endpoint accepted the connection", self.service.name)
        client.transport.close()

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None
        for task in list(self._dials):
            task.cancel()


# -- UDP ------------------------------------------------------------------------------------------

class _UdpSession(asyncio.DatagramProtocol):
    """One client address's flow to one endpoint."""

    def __init__(self, portal: "UdpPortal", client: tuple[str, int], endpoint: servicemap.Endpoint) -> None:
        self.portal = portal
        self.client = client
        self.endpoint = endpoint
        self.transport: asyncio.DatagramTransport | None = None
        self.pending: list[bytes] = []
        self.last_active = portal.clock()
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # asyncio's selector datagram transport is not a DatagramTransport subclass.
        self.transport = typing.cast(asyncio.DatagramTransport, transport)
        for data in self.pending:
            self.transport.sendto(data)
        self.pending.clear()

    def send(self, data: bytes) -> None:
        self.last_active = self.portal.clock()
        if self.transport is None:
            self.pending.append(data)
        else:
            self.transport.sendto(data)

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.last_active = self.portal.clock()
        if self.portal.transport is not None:
            self.portal.transport.sendto(data, self.client)

    def error_received(self, exc: Exception) -> None:
        # ICMP unreachable from the endpoint: the client's next datagram picks another one.
        self.portal.lb.failed(self.endpoint, self.client[0])
        self.close()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            if self.transport is not None:
                self.transport.close()
            if self.portal.sessions.get(self.client) is self:
                del self.portal.sessions[self.client]


class UdpPortal(asyncio.DatagramProtocol):
    def __init__(self, service: servicemap.ServicePort, lb: RoundRobin, udp_timeout: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.service = service
        self.lb = lb
        self.udp_timeout = udp_timeout
        self.clock = clock
        self.transport: asyncio.DatagramTransport | None = None
        self.sessions: dict[tuple[str, int], _UdpSession] = {}
        self.port = 0
        self._sweeper: asyncio.Task[None] | None = None

    async def open(self, host: str) -> None:
        loop = asyncio.get_running_loop()
        await loop.create_datagram_endpoint(lambda: self, local_addr=(host, 0))
        self._sweeper = loop.create_task(self._sweep())

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = typing.cast(asyncio.DatagramTransport, transport)
        self.port = transport.get_extra_info("sockname")[1]

    def datagram_received(self, data: bytes, addr: Any) -> None:
        session = self.sessions.get(addr)
        if session is None or session.endpoint not in self.lb.endpoints:
            if session is not None:
                session.close()
            ep = self.lb.next(addr[0])
            if ep is None:
                return
            session = self.sessions[addr] = _UdpSession(self, addr, ep)
            asyncio.get_running_loop().create_task(self._connect(session))
        session.send(data)

    async def _connect(self, session: _UdpSession) -> None:
        try:
            await asyncio.get_running_loop().create_datagram_endpoint(
                lambda: session, remote_addr=(session.endpoint.ip, session.endpoint.port))
        except OSError as e:
            log.info("userspace proxier: %s: endpoint %s failed (%s)", self.service.name, session.endpoint, e)
            self.lb.failed(session.endpoint, session.client[0])
            session.close()

    async def _sweep(self) -> None:
        while True:
            await asyncio.sleep(max(0.05, self.udp_timeout / 2))
            cutoff = self.clock() - self.udp_timeout
            for session in [s for s in self.sessions.values() if s.last_active < cutoff]:
                session.close()

    async def close(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
        for session in list(self.sessions.values()):
            session.close()
        if self.transport is not None:
            self.transport.close()
            self.transport = None


Portal = TcpPortal | UdpPortal


# -- the proxier -----------------------------------------------------------------------------------

class UserspaceProxier(proxier.Proxier):
    mode = "userspace"
    jumps = rules.USERSPACE_JUMPS

    def __init__(self, ipt: iptables.Iptables, *, conntrack: iptables.Conntrack | None = None,
                 node_ip: str | None = None, bind_address: str = "0.0.0.0",
                 udp_timeout: float = 10.0, min_sync_period: float = 0.1, sync_period: float = 30.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(ipt, min_sync_period=min_sync_period, sync_period=sync_period, clock=clock)
        self.conntrack = conntrack
        self.node_ip = node_ip
        self.bind_address = bind_address
        self.udp_timeout = udp_timeout
        self.portals: dict[servicemap.ServicePortName, Portal] = {}
        self._last_text: str | None = None
        self._need_full = True
        self.tally = counters_mod.Tally()

    def owns(self, chain: str) -> bool:
        return rules.owned_by_userspace_mode(chain)

    async def _open(self, sp: servicemap.ServicePort) -> Portal:
        lb = RoundRobin(self.clock)
        portal: Portal = TcpPortal(sp, lb) if sp.protocol == "TCP" else UdpPortal(sp, lb, self.udp_timeout,
                                                                                     self.clock)
        await portal.open(self.bind_address)
        if isinstance(portal, TcpPortal):
            portal.on_connection = self.tally.count
        log.info("userspace proxier: %s (%s:%d/%s) on local port %d", sp.name, sp.cluster_ip, sp.port,
                 sp.protocol, portal.port)
        return portal

    async def sync_proxy_rules(self, periodic: bool = False) -> None:
        start = self.clock()
        ports = {sp.name: sp for sp in self.state.ports()}
        endpoints = self.state.endpoints()
        for name in [n for n in self.portals if n not in ports]:
            log.info("userspace proxier: closing %s", name)
            await self.portals.pop(name).close()
        opened_udp: list[servicemap.ServicePort] = []
        for name, sp in ports.items():
            portal = self.portals.get(name)
            if portal is None:
                portal = self.portals[name] = await self._open(sp)
                if sp.protocol == "UDP":
                    opened_udp.append(sp)
            portal.service = sp
            portal.lb.update(endpoints.get(name, ()), sp.affinity_timeout)
        self.tally.retain(endpoints)
        text = rules.build_userspace_rules([(p.service, p.port) for p in self.portals.values()], self.node_ip)
        full = periodic or self._need_full
        if text != self._last_text or full:
            try:
                await self.apply_rules(text, full)
            except Exception:
                self._need_full = True
                self._last_text = None
                raise
            self._last_text = text
        if full:
            self._need_full = False
        if self.conntrack is not None:
            # A UDP client that talked to this Service before its portal existed
            # (another proxy mode, a restart) keeps its conntrack entry and so
            # bypasses the new REDIRECT: clear those flows, as kube-proxy does.
            for sp in opened_udp:
                await self.conntrack.clear_udp(orig_dst=sp.cluster_ip)
                if sp.node_port:
                    await self.conntrack.clear_udp(orig_port_dst=sp.node_port)
        self.last_sync_seconds = self.clock() - start
        self.syncs += 1
        log.debug("userspace proxier: synced %d service ports in %.1f ms", len(ports),
                  self.last_sync_seconds * 1000)

    async def close(self) -> None:
        for portal in self.portals.values():
            await portal.close()
        self.portals.clear()
