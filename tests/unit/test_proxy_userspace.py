"""The userspace proxier: round robin, failover, TCP and UDP relays (on loopback sockets in this process)."""
from __future__ import annotations

import asyncio
import socket
from typing import Any

from minik8s.proxy import iptables
from minik8s.proxy import rules
from minik8s.proxy import servicemap as sm
from minik8s.proxy import userspace

EP1, EP2, EP3 = sm.Endpoint("10.0.0.1", 80), sm.Endpoint("10.0.0.2", 80), sm.Endpoint("10.0.0.3", 80)


def test_round_robin_order_and_updates() -> None:
    lb = userspace.RoundRobin()
    assert lb.next() is None
    lb.update((EP1, EP2, EP3))
    assert [lb.next() for _ in range(5)] == [EP1, EP2, EP3, EP1, EP2]
    lb.update((EP1, EP2))  # the cursor stays in range
    assert [lb.next() for _ in range(3)] == [EP1, EP2, EP1]


def test_round_robin_client_ip_affinity() -> None:
    now = [0.0]
    lb = userspace.RoundRobin(clock=lambda: now[0])
    lb.update((EP1, EP2), affinity_timeout=60)
    assert [lb.next("192.0.2.1") for _ in range(3)] == [EP1] * 3
    assert lb.next("192.0.2.2") == EP2
    assert lb.next("192.0.2.3") == EP1
    # A failed endpoint loses its sticky clients: .1 moves on with the rotation.
    lb.failed(EP1, "192.0.2.1")
    assert lb.next("192.0.2.1") == EP2
    # Stickiness lapses after the timeout: .2 follows the rotation again.
    now[0] += 61
    assert lb.next("192.0.2.2") == EP1
    assert lb.next("192.0.2.2") == EP1


async def _echo_server(tag: bytes) -> tuple[asyncio.Server, int]:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        data = await reader.read()  # until the client's half-close
        writer.write(tag + b":" + data)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _ask(port: int, payload: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(payload)
    writer.write_eof()
    data = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    return data


SP = sm.ServicePort(sm.ServicePortName("default", "web", "http", "TCP"), "10.96.0.5", 80)


async def test_tcp_portal_round_robin_half_close_and_failover() -> None:
    a, port_a = await _echo_server(b"a")
    b, port_b = await _echo_server(b"b")
    lb = userspace.RoundRobin()
    dead = sm.Endpoint("127.0.0.1", _closed_port())
    lb.update((sm.Endpoint("127.0.0.1", port_a), dead, sm.Endpoint("127.0.0.1", port_b)))
    portal = userspace.TcpPortal(SP, lb)
    await portal.open("127.0.0.1")
    try:
        replies = [await _ask(portal.port, b"hello") for _ in range(4)]
        # The refused endpoint is skipped: its turn goes to the next one.
        assert replies == [b"a:hello", b"b:hello", b"a:hello", b"b:hello"]
        big = bytes(range(256)) * 8192  # 2 MiB through the relay, both directions
        assert await _ask(portal.port, big) in (b"a:" + big, b"b:" + big)
        lb.update(())
        reader, writer = await asyncio.open_connection("127.0.0.1", portal.port)
        assert await asyncio.wait_for(reader.read(), 10) == b""  # no endpoints: closed at once
        writer.close()
    finally:
        await portal.close()
        a.close()
        b.close()


class _UdpEcho(asyncio.DatagramProtocol):
    def __init__(self, tag: bytes) -> None:
        self.tag = tag
        self.transport: Any = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.transport.sendto(self.tag + b":" + data, addr)


async def test_udp_portal_sessions_and_idle_timeout() -> None:
    loop = asyncio.get_running_loop()
    servers = []
    lb = userspace.RoundRobin()
    eps = []
    for tag in (b"a", b"b"):
        transport, _ = await loop.create_datagram_endpoint(lambda t=tag: _UdpEcho(t), local_addr=("127.0.0.1", 0))
        servers.append(transport)
        eps.append(sm.Endpoint("127.0.0.1", transport.get_extra_info("sockname")[1]))
    lb.update(tuple(eps))
    dns = sm.ServicePort(sm.ServicePortName("kube-system", "kube-dns", "dns", "UDP"), "10.96.0.10", 53)
    portal = userspace.UdpPortal(dns, lb, udp_timeout=0.2)
    await portal.open("127.0.0.1")
    clients = []
    try:
        answers = []
        for _ in range(2):
            c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            c.settimeout(10)
            clients.append(c)
            for q in (b"q1", b"q2"):
                c.sendto(q, ("127.0.0.1", portal.port))
                answers.append(await loop.run_in_executor(None, c.recv, 100))
        # One session per client address: a client's datagrams stick to one endpoint.
        assert answers in ([b"a:q1", b"a:q2", b"b:q1", b"b:q2"], [b"b:q1", b"b:q2", b"a:q1", b"a:q2"])
        assert len(portal.sessions) == 2

        async def idle_closed() -> None:
            while portal.sessions:
                await asyncio.sleep(0.05)
        await asyncio.wait_for(idle_closed(), 10)
    finally:
        for c in clients:
            c.close()
        await portal.close()
        for t in servers:
            t.close()


async def test_userspace_proxier_opens_portals_and_writes_rules() -> None:
    ipt = iptables.Fake()
    p = userspace.UserspaceProxier(ipt, node_ip="172.31.0.11", bind_address="127.0.0.1")
    web = {"metadata": {"namespace": "default", "name": "web"},
           "spec": {"type": "NodePort", "clusterIP": "10.96.0.5",
                    "ports": [{"name": "http", "port": 80, "nodePort": 30001, "protocol": "TCP"}]}}
    p.on_service(web)
    p.on_endpoints({"metadata": {"namespace": "default", "name": "web"},
                    "subsets": [{"addresses": [{"ip": "10.244.1.5"}], "ports": [{"name": "http", "port": 80}]}]})
    try:
        await p.runner.run_once()
        portal = p.portals[SP.name]
        assert portal.lb.endpoints == (sm.Endpoint("10.244.1.5", 80),)
        assert ipt.restores == [rules.build_userspace_rules(
            [(sm.ServicePort(SP.name, "10.96.0.5", 80, 30001), portal.port)], "172.31.0.11")]
        assert ipt.jumps == set(rules.USERSPACE_JUMPS)
        # An endpoint change only reaches the balancer; the rules are unchanged and not reapplied.
        p.on_endpoints({"metadata": {"namespace": "default", "name": "web"}, "subsets": []})
        await p.runner.run_once()
        assert portal.lb.endpoints == ()
        assert len(ipt.restores) == 1
        p.on_service_delete(web)
        await p.runner.run_once()
        assert p.portals == {}
        assert "KUBE-PORTALS-CONTAINER -m" not in ipt.restores[-1]
    finally:
        await p.close()
