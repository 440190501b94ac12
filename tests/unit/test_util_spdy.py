"""SPDY/3.1 framing and sessions (minik8s.util.spdy), two sessions of ours over a socket pair.

Interoperability with the Go implementation kubectl uses is what the integration
tests check (tests/integration/test_streams_up.py); these pin the wire format and
the session's rules.
"""
from __future__ import annotations

import asyncio
import socket
import struct
import zlib
from collections.abc import AsyncIterator

import pytest

from minik8s.util import spdy


def test_dictionary_is_the_spdy3_one() -> None:
    # Every SPDY/3 header block's zlib stream names this dictionary id (FDICT).
    assert len(spdy.DICTIONARY) == 1423
    assert zlib.adler32(spdy.DICTIONARY) == spdy.DICTIONARY_ADLER32


def test_header_block_round_trip_lowercases_and_splits_nul_values() -> None:
    block = spdy.encode_header_block({"StreamType": ["stdin"], "X-Multi": ["a", "b"]})
    assert spdy.decode_header_block(block) == {"streamtype": ["stdin"], "x-multi": ["a", "b"]}


def test_truncated_header_block_is_a_protocol_error() -> None:
    block = spdy.encode_header_block({"port": ["80"]})
    with pytest.raises(spdy.ProtocolError):
        spdy.decode_header_block(block[:-1])


def test_frames_round_trip_through_one_compression_context_each_way() -> None:
    writer, reader = spdy.Framer(), spdy.Framer()
    frames: list[spdy.Frame] = [
        spdy.SynStream(1, {"streamtype": ["error"], "port": ["8080"]}, spdy.FLAG_FIN, priority=3),
        spdy.SynStream(3, {"streamtype": ["data"], "port": ["8080"]}),  # second block reuses the context
        spdy.SynReply(1, {}),
        spdy.DataFrame(3, b"hello", spdy.FLAG_FIN),
        spdy.RstStream(5, spdy.CANCEL),
        spdy.Settings(((0, spdy.SETTINGS_INITIAL_WINDOW_SIZE, 1024),)),
        spdy.Ping(7),
        spdy.GoAway(3, spdy.GOAWAY_OK),
        spdy.HeadersFrame(3, {"a": ["b"]}),
        spdy.WindowUpdate(0, 4096),
    ]
    wire = b"".join(writer.encode(f) for f in frames)
    # Fed a byte at a time, the parser still yields each frame exactly once.
    got: list[spdy.Frame] = []
    for i in range(len(wire)):
        got += reader.feed(wire[i:i + 1])
    assert got == frames


def test_frame_header_layout() -> None:
    f = spdy.Framer()
    assert f.encode(spdy.DataFrame(5, b"xy", spdy.FLAG_FIN)) == struct.pack(">II", 5, 0x01000002) + b"xy"
    assert f.encode(spdy.Ping(1)) == struct.pack(">HHII", 0x8003, spdy.PING, 4, 1)


def test_unknown_control_frames_are_kept_not_fatal_and_other_versions_are() -> None:
    f = spdy.Framer()
    unknown = struct.pack(">HHI", 0x8003, 42, 2) + b"zz"
    assert f.feed(unknown) == [spdy.UnknownControl(42, 0, b"zz")]
    with pytest.raises(spdy.ProtocolError):
        spdy.Framer().feed(struct.pack(">HHI", 0x8002, spdy.PING, 4) + b"\0\0\0\1")


@pytest.fixture
async def pair() -> AsyncIterator[tuple[spdy.Session, spdy.Session]]:
    a, b = socket.socketpair()
    ra, wa = await asyncio.open_connection(sock=a)
    rb, wb = await asyncio.open_connection(sock=b)
    server = spdy.Session(spdy.StreamChannel(ra, wa), server=True)
    client = spdy.Session(spdy.StreamChannel(rb, wb), server=False)
    server.start()
    client.start()
    yield server, client
    await client.close(linger=0.1)
    await server.close(linger=0.1)


async def test_streams_carry_data_both_ways_with_half_close(pair: tuple[spdy.Session, spdy.Session]) -> None:
    server, client = pair

    async def serve() -> None:
        stream = await server.accept()
        assert stream is not None and stream.header("streamtype") == "stdin"
        await stream.reply()
        data = await stream.read_all()  # until the client's FIN
        await stream.write(data.upper())
        await stream.close()

    task = asyncio.create_task(serve())
    s = await client.open_stream({"streamType": ["stdin"]})
    await s.write(b"hello ")
    await s.write(b"world")
    await s.close()
    assert await s.read_all() == b"HELLO WORLD"
    await task
    assert s.finished and s.id not in client.streams


async def test_reset_stream_fails_reads_on_the_other_side(pair: tuple[spdy.Session, spdy.Session]) -> None:
    server, client = pair
    opened = asyncio.create_task(client.open_stream({"x": ["1"]}))
    stream = await server.accept()
    assert stream is not None
    await stream.reply()
    s = await opened
    await stream.reset(spdy.INTERNAL_ERROR)
    with pytest.raises(spdy.StreamReset):
        while True:
            await asyncio.wait_for(s.read(), 5)


async def test_refused_stream_raises_for_the_opener(pair: tuple[spdy.Session, spdy.Session]) -> None:
    server, client = pair
    opened = asyncio.create_task(client.open_stream({"x": ["1"]}))
    stream = await server.accept()
    assert stream is not None
    await stream.reset(spdy.REFUSED_STREAM)
    with pytest.raises(spdy.StreamReset):
        await opened


async def test_ping_is_answered(pair: tuple[spdy.Session, spdy.Session]) -> None:
    server, client = pair
    await asyncio.wait_for(client.ping(), 5)
    await asyncio.wait_for(server.ping(), 5)


async def test_goaway_refuses_new_streams_and_session_end_is_eof(pair: tuple[spdy.Session, spdy.Session]) -> None:
    server, client = pair
    opened = asyncio.create_task(client.open_stream({"x": ["1"]}))
    stream = await server.accept()
    assert stream is not None
    await stream.reply()
    s = await opened
    await server.close(linger=0.1)
    assert await asyncio.wait_for(s.read(), 5) == b""
    await asyncio.wait_for(client.closed.wait(), 5)
    assert await client.accept() is None
    with pytest.raises(spdy.StreamReset):
        await client.open_stream({"x": ["2"]})


async def test_stream_ids_must_grow_and_keep_parity() -> None:
    a, b = socket.socketpair()
    ra, wa = await asyncio.open_connection(sock=a)
    rb, wb = await asyncio.open_connection(sock=b)
    server = spdy.Session(spdy.StreamChannel(ra, wa), server=True)
    server.start()
    raw = spdy.Framer()
    wb.write(raw.encode(spdy.SynStream(2, {"a": ["b"]})))  # even: the server's own parity
    await wb.drain()
    reader = spdy.Framer()
    frames: list[spdy.Frame] = []
    while not frames:
        frames += reader.feed(await asyncio.wait_for(rb.read(1024), 5))
    assert frames == [spdy.RstStream(2, spdy.PROTOCOL_ERROR)]
    wb.close()
    await server.close(linger=0.1)


async def test_flow_control_holds_a_sender_to_the_window_the_reader_grants() -> None:
    a, b = socket.socketpair()
    ra, wa = await asyncio.open_connection(sock=a)
    rb, wb = await asyncio.open_connection(sock=b)
    # Both sides honour windows; the server grants only 1 KiB per stream.
    server = spdy.Session(spdy.StreamChannel(ra, wa), server=True, peer_flow_control=True, initial_window=1024)
    client = spdy.Session(spdy.StreamChannel(rb, wb), server=False, peer_flow_control=True)
    server.start()
    client.start()
    try:
        await asyncio.wait_for(client.ping(), 5)  # the SETTINGS frame went before the ping's answer
        opened = asyncio.create_task(client.open_stream({"x": ["1"]}))
        stream = await server.accept()
        assert stream is not None
        await stream.reply()
        s = await opened
        assert s.send_window == 1024
        writing = asyncio.create_task(s.write(b"x" * 5000))
        # The writer stops at the window until the server's reader consumes data.
        while s.send_window > 0:
            await asyncio.sleep(0.01)
        assert not writing.done()
        got = bytearray()
        while len(got) < 5000:
            got += await asyncio.wait_for(stream.read(), 5)
        await asyncio.wait_for(writing, 5)
        assert bytes(got) == b"x" * 5000
    finally:
        await client.close(linger=0.1)
        await server.close(linger=0.1)


async def test_without_peer_flow_control_writes_ignore_the_window(pair: tuple[spdy.Session, spdy.Session]) -> None:
    # spdystream (kubectl) never sends WINDOW_UPDATE: a sender waiting for one would stall.
    server, client = pair
    opened = asyncio.create_task(client.open_stream({"x": ["1"]}))
    stream = await server.accept()
    assert stream is not None
    await stream.reply()
    s = await opened
    size = 3 * spdy.DEFAULT_WINDOW
    reading = asyncio.create_task(s.read_all())
    await asyncio.wait_for(stream.write(b"y" * size), 10)
    await stream.close()
    assert len(await asyncio.wait_for(reading, 10)) == size
