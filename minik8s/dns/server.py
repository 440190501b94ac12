"""`minik8s dns`: the cluster DNS server, on UDP and TCP, answering from informers.

Where it runs: one process on each master (in the local cluster, on the master's
address every node netns reaches; on VMs, a systemd unit on the master).
It keeps the `kube-dns` Service (fixed ClusterIP) and its Endpoints pointing at
the live DNS servers (minik8s/dns/kubedns.py), so pods reach one through each
node's proxy at the ClusterIP.

The wire format is dnspython's (parsing, compression, EDNS, truncation); this
module only frames messages: one datagram per message on UDP, answers cut to
512 bytes (or the client's EDNS size) with TC set so the client retries on TCP;
a 2-byte length before every message on TCP (RFC 1035 4.2.2), several per
connection.
"""
from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import ipaddress
import logging
import signal
import struct
import time
from typing import Any, Callable

import dns.exception
import dns.flags
import dns.message
import dns.rcode

from minik8s.api import errors
from minik8s.client import informer as informer_mod
from minik8s.client import leaderelection
from minik8s.client import rest
from minik8s.client import workqueue
from minik8s.dns import kubedns
from minik8s.dns import resolver as resolver_mod

log = logging.getLogger(__name__)

UDP_DEFAULT_SIZE = 512
TCP_IDLE_TIMEOUT = 10.0
# How long a stopping server tries to take itself out of the kube-dns Endpoints.
WITHDRAW_TIMEOUT = 5.0


@dataclasses.dataclass(frozen=True)
class Config:
    server: str = "https://127.0.0.1:6443"
    token: str | None = None
    kubeconfig: str = ""
    bind_address: str = "0.0.0.0"
    port: int = 53
    advertise_address: str = ""  # "" = bind_address; what the kube-dns Endpoints list
    cluster_domain: str = "cluster.local"
    service_ip: str = "10.96.0.10"
    ttl: int = 5
    manage_service: bool = True
    resync_period: float = 30.0
    # This server's Lease (kube-system/kube-dns-<address>): how long it counts as alive
    # after its last renewal.
    lease_duration: int = 15


# -- wire level (pure) -----------------------------------------------------------------------------


def _formerr(data: bytes) -> bytes | None:
    """A FORMERR reply to bytes that are not a DNS message, if they at least carry an ID."""
    if len(data) < 12:
        return None
    (msg_id, flags) = struct.unpack("!HH", data[:4])
    if flags & dns.flags.QR:
        return None  # never answer a response
    reply = dns.message.Message(id=msg_id)
    reply.flags = dns.flags.QR
    reply.set_rcode(dns.rcode.FORMERR)
    return reply.to_wire()


def handle(resolver: resolver_mod.Resolver, data: bytes, *, udp: bool) -> bytes | None:
    """One request's bytes in, the reply's bytes out (None: send nothing)."""
    try:
        query = dns.message.from_wire(data)
    except dns.exception.DNSException:
        return _formerr(data)
    if query.flags & dns.flags.QR:
        return None
    response = resolver.respond(query)
    if not udp:
        return response.to_wire(max_size=65535)
    limit = max(UDP_DEFAULT_SIZE, query.payload) if query.edns >= 0 else UDP_DEFAULT_SIZE
    # Cut at the limit and set TC: the client asks again over TCP.
    return response.to_wire(max_size=limit, prefer_truncation=True)


def frame(message: bytes) -> bytes:
    return struct.pack("!H", len(message)) + message


async def read_framed(reader: asyncio.StreamReader) -> bytes | None:
    """The next length-prefixed message, or None at a clean end of stream."""
    try:
        header = await reader.readexactly(2)
    except asyncio.IncompleteReadError as e:
        if e.partial:
            raise
        return None
    (length,) = struct.unpack("!H", header)
    return await reader.readexactly(length)


# -- transports ------------------------------------------------------------------------------------


class UdpProtocol(asyncio.DatagramProtocol):
    def __init__(self, resolver: resolver_mod.Resolver) -> None:
        self.resolver = resolver
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: Any) -> None:
        try:
            reply = handle(self.resolver, data, udp=True)
        except Exception:
            log.exception("dns: query from %s failed", addr)
            reply = _servfail(data)
        if reply is not None and self.transport is not None:
            self.transport.sendto(reply, addr)


def _servfail(data: bytes) -> bytes | None:
    try:
        query = dns.message.from_wire(data)
    except dns.exception.DNSException:
        return None
    response = dns.message.make_response(query)
    response.set_rcode(dns.rcode.SERVFAIL)
    return response.to_wire()


class DnsServer:
    def __init__(self, resolver: resolver_mod.Resolver, bind_address: str, port: int) -> None:
        self.resolver = resolver
        self.bind_address = bind_address
        self.port = port
        self._udp: asyncio.DatagramTransport | None = None
        self._tcp: asyncio.AbstractServer | None = None

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._udp, _ = await loop.create_datagram_endpoint(
            lambda: UdpProtocol(self.resolver), local_addr=(self.bind_address, self.port))
        self._tcp = await asyncio.start_server(self._serve_tcp, self.bind_address, self.port)
        log.info("dns: serving %s on %s:%d (UDP, TCP)", self.resolver.domain, self.bind_address, self.port)

    async def stop(self) -> None:
        if self._udp is not None:
            self._udp.close()
        if self._tcp is not None:
            self._tcp.close()
            with contextlib.suppress(Exception):
                await self._tcp.wait_closed()

    async def _serve_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        try:
            while True:
                data = await asyncio.wait_for(read_framed(reader), TCP_IDLE_TIMEOUT)
                if data is None:
                    break
                try:
                    reply = handle(self.resolver, data, udp=False)
                except Exception:
                    log.exception("dns: TCP query from %s failed", peer)
                    reply = _servfail(data)
                if reply is not None:
                    writer.write(frame(reply))
                    await writer.drain()
        except (asyncio.TimeoutError, asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()


# -- the process -----------------------------------------------------------------------------------


def make_client(cfg: Config) -> rest.Client:
    if cfg.kubeconfig:
        return rest.from_kubeconfig(cfg.kubeconfig, user_agent="minik8s-dns")
    return rest.Client(cfg.server, token=cfg.token, user_agent="minik8s-dns")


class KubeDnsKeeper:
    """Keeps kube-system/kube-dns pointing at the live DNS servers: renews this server's
    Lease and syncs the Service and Endpoints on their changes and every `renew_period`."""

    def __init__(self, client: rest.Client, services: informer_mod.Informer, endpoints: informer_mod.Informer,
                 target: kubedns.Target, resync_period: float, *, lease_duration: int = 15,
                 clock: Callable[[], float] = time.time) -> None:
        self.client = client
        self.services = services
        self.endpoints = endpoints
        self.target = target
        self.lease_duration = lease_duration
        # Renewed three times per duration (a Lease survives two missed renewals).
        self.resync_period = min(resync_period, lease_duration / 3)
        self.clock = clock
        self.identity = leaderelection.default_identity()
        self.queue = workqueue.RateLimitingQueue(base_delay=0.2, max_delay=30.0)
        for inf in (services, endpoints):
            inf.add_handlers(on_add=self._event, on_update=lambda _o, n: self._event(n), on_delete=self._event)

    def _event(self, obj: dict[str, Any]) -> None:
        meta = obj["metadata"]
        if meta.get("namespace") == kubedns.NAMESPACE and meta.get("name") == kubedns.NAME:
            self.queue.add(kubedns.NAME)

    async def renew(self) -> None:
        lease = kubedns.desired_lease(self.target.address, self.identity, self.lease_duration, self.clock())
        name = lease["metadata"]["name"]
        current = await self.client.get_or_none(kubedns.LEASES, name, kubedns.NAMESPACE)
        if current is None:
            await self.client.create(kubedns.LEASES, lease, kubedns.NAMESPACE)
        else:
            current["metadata"].update(labels=lease["metadata"]["labels"],
                                       annotations=lease["metadata"]["annotations"])
            await self.client.update(kubedns.LEASES, dict(current, spec=lease["spec"]))

    async def live(self) -> list[str]:
        body = await self.client.list(kubedns.LEASES, kubedns.NAMESPACE, label_selector=kubedns.LEASE_SELECTOR)
        return kubedns.live_addresses(body.get("items") or [], self.clock())

    async def sync(self) -> None:
        addresses = None
        if kubedns.serves_pods(self.target.address):
            await self.renew()
            addresses = sorted(set(await self.live()) | {self.target.address}, key=ipaddress.ip_address)
        await kubedns.sync(self.client, self.services.get_by(kubedns.NAMESPACE, kubedns.NAME),
                           self.endpoints.get_by(kubedns.NAMESPACE, kubedns.NAME), self.target, addresses)

    async def withdraw(self) -> None:
        """At a clean stop: delete this server's Lease and take its address out now."""
        if not kubedns.serves_pods(self.target.address):
            return
        name = kubedns.lease_name(self.target.address)
        with contextlib.suppress(errors.NotFound):
            await self.client.delete(kubedns.LEASES, name, kubedns.NAMESPACE)
        others = [a for a in await self.live() if a != self.target.address]
        endpoints = await self.client.get_or_none(kubedns.ENDPOINTS, kubedns.NAME, kubedns.NAMESPACE)
        if endpoints is not None:
            await kubedns.sync(self.client, self.services.get_by(kubedns.NAMESPACE, kubedns.NAME), endpoints,
                               self.target, others)

    async def run(self) -> None:
        self.queue.add(kubedns.NAME)
        loop = asyncio.get_running_loop()
        next_resync = loop.time() + self.resync_period
        while True:
            try:
                key = await asyncio.wait_for(self.queue.get(), max(0.0, next_resync - loop.time()))
            except asyncio.TimeoutError:
                next_resync = loop.time() + self.resync_period
                self.queue.add(kubedns.NAME)
                continue
            try:
                await self.sync()
                self.queue.forget(key)
            except Exception as e:  # noqa: BLE001 - keep trying; DNS answers meanwhile
                delay = self.queue.add_rate_limited(key)
                log.warning("dns: keeping %s/%s failed (%s); retry in %.1fs", kubedns.NAMESPACE, kubedns.NAME,
                            e, delay)
            finally:
                self.queue.done(key)


async def serve(cfg: Config, *, stop: asyncio.Event | None = None,
                started: asyncio.Event | None = None) -> None:
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    client = make_client(cfg)
    factory = informer_mod.InformerFactory(client)
    services = factory.informer(kubedns.SERVICES)
    endpoints = factory.informer(kubedns.ENDPOINTS)
    resolver = resolver_mod.Resolver(services, endpoints, domain=cfg.cluster_domain, ttl=cfg.ttl,
                                     serial=int(time.time()), ns_address=cfg.service_ip)
    target = kubedns.Target(cfg.service_ip, cfg.advertise_address or cfg.bind_address, cfg.port)
    keeper = (KubeDnsKeeper(client, services, endpoints, target, cfg.resync_period, lease_duration=cfg.lease_duration)
              if cfg.manage_service else None)
    server = DnsServer(resolver, cfg.bind_address, cfg.port)
    tasks: list[asyncio.Task[Any]] = []
    try:
        # Listen at once (a bad address fails now, not after the API server answers), but
        # answer SERVFAIL until the caches are complete: before, every name would be NXDOMAIN.
        resolver.ready = False
        await server.start()
        factory.start()
        waiting = loop.create_task(factory.wait_synced())
        stopper = loop.create_task(stop.wait())
        await asyncio.wait({waiting, stopper}, return_when=asyncio.FIRST_COMPLETED)
        waiting.cancel()
        stopper.cancel()
        if stop.is_set():
            return
        resolver.ready = True
        log.info("dns: caches synced (%d services); answering", len(services.store))
        if keeper is not None:
            tasks.append(loop.create_task(keeper.run(), name="kube-dns-keeper"))
        if started is not None:
            started.set()
        await stop.wait()
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if keeper is not None and resolver.ready:
            try:
                await asyncio.wait_for(keeper.withdraw(), WITHDRAW_TIMEOUT)
            except Exception as e:  # noqa: BLE001 - the Lease then runs out by itself
                log.warning("dns: could not withdraw from %s/%s: %s", kubedns.NAMESPACE, kubedns.NAME, e)
        await server.stop()
        await factory.stop()
        await client.close()
