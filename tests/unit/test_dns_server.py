"""The DNS server's wire handling: UDP size limits and truncation, TCP framing, bad input."""
from __future__ import annotations

import asyncio
import struct

import dns.flags
import dns.message
import dns.rcode
import pytest

from minik8s.dns import resolver as resolver_mod
from minik8s.dns import server
from tests.unit.test_dns_resolver import ENDPOINTS, SERVICES, endpoints, service, store


def big_resolver(n: int = 60) -> resolver_mod.Resolver:
    """A headless Service with `n` ready endpoints: its A answer is far over 512 bytes."""
    svc = service("default", "many", "None")
    eps = endpoints("default", "many", [{"addresses": [{"ip": f"10.244.{i // 250}.{i % 250 + 1}"}
                                                      for i in range(n)]}])
    return resolver_mod.Resolver(store(SERVICES, svc), store(ENDPOINTS, eps))


NAME = "many.default.svc.cluster.local."


def test_udp_answer_over_512_bytes_is_truncated_with_tc() -> None:
    wire = server.handle(big_resolver(), dns.message.make_query(NAME, "A").to_wire(), udp=True)
    assert wire is not None and len(wire) <= 512
    reply = dns.message.from_wire(wire, ignore_trailing=True)
    assert reply.flags & dns.flags.TC


def test_udp_answer_fits_the_clients_edns_size() -> None:
    query = dns.message.make_query(NAME, "A", use_edns=0, payload=4096)
    wire = server.handle(big_resolver(), query.to_wire(), udp=True)
    assert wire is not None and 512 < len(wire) <= 4096
    reply = dns.message.from_wire(wire)
    assert not reply.flags & dns.flags.TC
    assert sum(len(rrset) for rrset in reply.answer) == 60


def test_tcp_answer_is_never_truncated() -> None:
    wire = server.handle(big_resolver(), dns.message.make_query(NAME, "A").to_wire(), udp=False)
    assert wire is not None
    reply = dns.message.from_wire(wire)
    assert not reply.flags & dns.flags.TC and sum(len(rrset) for rrset in reply.answer) == 60


def test_garbage_gets_formerr_with_its_id_and_short_or_response_packets_get_nothing() -> None:
    wire = server.handle(big_resolver(), struct.pack("!HH", 0x1234, 0) + b"\x00\x01" + b"\xff" * 20, udp=True)
    assert wire is not None
    reply = dns.message.from_wire(wire)
    assert reply.id == 0x1234 and reply.rcode() == dns.rcode.FORMERR
    assert server.handle(big_resolver(), b"\x00\x01", udp=True) is None
    response = dns.message.make_response(dns.message.make_query(NAME, "A"))
    assert server.handle(big_resolver(), response.to_wire(), udp=True) is None


async def test_tcp_framing_several_messages_then_clean_end() -> None:
    queries = [dns.message.make_query(NAME, "A"), dns.message.make_query("x.default.svc.cluster.local.", "A")]
    reader = asyncio.StreamReader()
    reader.feed_data(b"".join(server.frame(q.to_wire()) for q in queries))
    reader.feed_eof()
    got = [await server.read_framed(reader), await server.read_framed(reader)]
    assert [dns.message.from_wire(g).id for g in got if g] == [q.id for q in queries]
    assert await server.read_framed(reader) is None


async def test_tcp_framing_cut_off_mid_message_is_an_error() -> None:
    reader = asyncio.StreamReader()
    reader.feed_data(server.frame(b"x" * 40)[:20])
    reader.feed_eof()
    with pytest.raises(asyncio.IncompleteReadError):
        await server.read_framed(reader)


def test_frame_prefixes_the_length() -> None:
    assert server.frame(b"abc") == b"\x00\x03abc"
