"""Stream upgrades: negotiating a protocol, taking over the connection, byte pipes.

SPDY over HTTP/1.1 (kubectl's `Upgrade: SPDY/3.1`): aiohttp serves websockets but
no other upgrade, so `accept_spdy` takes the connection over from it. It swaps the
asyncio protocol of the request's transport for one of ours *before* the 101 goes
out (kubectl sends its first frame the moment it reads the 101, and aiohttp's
HTTP parser must never see it), lets aiohttp write the 101 itself, and hands the
transport on as a spdy.Channel. Swapping the protocol rather than duplicating the
socket keeps this working on a TLS transport too. When the channel closes, the
transport's end is passed on to aiohttp's protocol so its bookkeeping is released.

SPDY in a websocket (kubectl 1.30+ port-forward: subprotocol
`SPDY/3.1+portforward.k8s.io`): the websocket's binary messages carry the SPDY
byte stream, in pieces that need not align with frames.
"""
from __future__ import annotations

import asyncio
import contextlib

import aiohttp
from aiohttp import web

SPDY_31 = "SPDY/3.1"
PROTOCOL_HEADER = "X-Stream-Protocol-Version"
ACCEPTED_HEADER = "X-Accepted-Stream-Protocol-Versions"
TUNNEL_PREFIX = "SPDY/3.1+"
# Incoming bytes buffered before the connection stops being read.
READ_HIGH_WATER = 1024 * 1024


def is_websocket(request: web.Request) -> bool:
    return request.headers.get("Upgrade", "").strip().lower() == "websocket"


def is_spdy(request: web.Request) -> bool:
    return request.headers.get("Upgrade", "").strip().lower() == SPDY_31.lower()


def websocket_protocols(request: web.Request) -> list[str]:
    return [p.strip() for p in request.headers.get("Sec-WebSocket-Protocol", "").split(",") if p.strip()]


def offered_protocols(request: web.Request) -> list[str]:
    """X-Stream-Protocol-Version, in the client's order (repeated headers or commas)."""
    return [p.strip() for value in request.headers.getall(PROTOCOL_HEADER, []) for p in value.split(",")
            if p.strip()]


def negotiate(offered: list[str], supported: tuple[str, ...]) -> str | None:
    """The first protocol the client offers that we serve (httpstream.Handshake's rule)."""
    return next((p for p in offered if p in supported), None)


def refuse(offered: list[str], supported: tuple[str, ...]) -> web.Response:
    """403 with the versions we accept, as httpstream.Handshake answers."""
    resp = web.Response(status=403, text=f"unable to upgrade: unable to negotiate protocol: client supports "
                                         f"{offered}, server accepts {list(supported)}\n")
    for p in supported:
        resp.headers.add(ACCEPTED_HEADER, p)
    return resp


class _TakenOver(asyncio.Protocol):
    """The transport's protocol once the connection is ours: buffers what arrives,
    tracks write flow control, and tells aiohttp's protocol when the connection ends."""

    def __init__(self, transport: asyncio.Transport, previous: asyncio.BaseProtocol) -> None:
        self.transport = transport
        self.previous = previous
        self.buffer = bytearray()
        self.eof = False
        self.lost = False
        self.readable = asyncio.Event()
        self.writable = asyncio.Event()
        self.writable.set()
        self.reading_paused = False

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        self.readable.set()
        if len(self.buffer) > READ_HIGH_WATER and not self.reading_paused:
            self.reading_paused = True
            self.transport.pause_reading()

    def eof_received(self) -> bool:
        self.eof = True
        self.readable.set()
        return True  # keep our sending side open: the peer only half-closed

    def pause_writing(self) -> None:
        self.writable.clear()

    def resume_writing(self) -> None:
        self.writable.set()

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = self.eof = True
        self.readable.set()
        self.writable.set()
        self.previous.connection_lost(exc)


class TransportChannel:
    """spdy.Channel on a transport taken over from aiohttp."""

    def __init__(self, proto: _TakenOver) -> None:
        self.proto = proto

    async def recv(self) -> bytes:
        p = self.proto
        while not p.buffer:
            if p.eof:
                return b""
            p.readable.clear()
            await p.readable.wait()
        data = bytes(p.buffer)
        p.buffer.clear()
        if p.reading_paused and not p.lost:
            p.reading_paused = False
            p.transport.resume_reading()
        return data

    async def send(self, data: bytes) -> None:
        p = self.proto
        if p.lost or p.transport.is_closing():
            raise ConnectionResetError("connection closed")
        p.transport.write(data)
        await p.writable.wait()

    async def close(self) -> None:
        t = self.proto.transport
        if not t.is_closing():
            t.close()


async def accept_spdy(request: web.Request, protocol: str) -> tuple[web.StreamResponse, TransportChannel]:
    """Answer 101 (Upgrade: SPDY/3.1) and take the connection over from aiohttp.

    The returned response is what the handler returns to aiohttp once the session
    is over; the channel is the connection's byte stream."""
    transport = request.transport
    if transport is None or transport.is_closing():
        raise ConnectionResetError("client went away before the upgrade")
    assert isinstance(transport, asyncio.Transport)
    taken = _TakenOver(transport, transport.get_protocol())
    transport.set_protocol(taken)
    headers = {"Connection": "Upgrade", "Upgrade": SPDY_31}
    if protocol:
        headers[PROTOCOL_HEADER] = protocol
    resp = web.StreamResponse(status=101, headers=headers)
    await resp.prepare(request)
    await resp.write_eof()  # headers out now, before any frame of ours
    return resp, TransportChannel(taken)


class WebSocketChannel:
    """spdy.Channel on a websocket's binary messages (the port-forward tunnel)."""

    def __init__(self, ws: web.WebSocketResponse | aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws

    async def recv(self) -> bytes:
        while True:
            msg = await self.ws.receive()
            if msg.type == aiohttp.WSMsgType.BINARY:
                if msg.data:
                    return bytes(msg.data)
                continue
            if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSING, aiohttp.WSMsgType.CLOSED,
                            aiohttp.WSMsgType.ERROR):
                return b""
            # Text and pings carry nothing for the tunnel.

    async def send(self, data: bytes) -> None:
        if self.ws.closed:
            raise ConnectionResetError("websocket closed")
        await self.ws.send_bytes(data)

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.ws.close()


def tunnel_protocols(request: web.Request) -> list[str]:
    """The SPDY protocols a tunnelling client offers (`SPDY/3.1+<protocol>` websocket subprotocols)."""
    return [p[len(TUNNEL_PREFIX):] for p in websocket_protocols(request) if p.startswith(TUNNEL_PREFIX)]


async def accept_tunnel(request: web.Request, protocol: str) -> tuple[web.WebSocketResponse, WebSocketChannel]:
    ws = web.WebSocketResponse(protocols=(TUNNEL_PREFIX + protocol,), max_msg_size=0, autoping=True)
    await ws.prepare(request)
    return ws, WebSocketChannel(ws)
