"""SPDY/3.1: the framing and a small asyncio session, server side first.

kubectl up to 1.29 speaks SPDY/3.1 for exec, attach and cp (and up to 1.30 for
port-forward); newer ones still fall back to it, and tunnel it inside a websocket
for port-forward. No maintained Python SPDY library exists (python-spdylay and
spdy-py are abandoned single releases), so this module implements what the Go
library kubectl uses (moby/spdystream over the framer once in golang.org/x/net)
puts on the wire, from the SPDY/3.1 draft:

- control frames SYN_STREAM, SYN_REPLY, RST_STREAM, SETTINGS, PING, GOAWAY,
  HEADERS, WINDOW_UPDATE and data frames, each an 8-byte header and a payload;
- header blocks compressed with one zlib context per direction for the whole
  session, primed with the SPDY/3 dictionary and flushed with Z_SYNC_FLUSH;
- SPDY/3.1 flow control: per-stream and per-session windows of 64 KiB.
  Receiving, we grant window (WINDOW_UPDATE) only as the application consumes
  data, so a peer that honours windows is held back by a slow consumer.
  Sending, spdystream neither sends WINDOW_UPDATE nor reads it, so a sender
  that waited for window from it would stall after 64 KiB; windows are
  enforced on what we send only when the session is told the peer honours them
  (`peer_flow_control=True`, used between two sessions of this module).

A `Session` runs over any `Channel` (a byte pipe): the raw socket of an upgraded
HTTP/1.1 connection or the binary messages of a websocket.
"""
from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import struct
import zlib
from collections import deque
from collections.abc import Iterable, Mapping
from typing import Protocol

log = logging.getLogger(__name__)

VERSION = 3

SYN_STREAM = 1
SYN_REPLY = 2
RST_STREAM = 3
SETTINGS = 4
PING = 6
GOAWAY = 7
HEADERS = 8
WINDOW_UPDATE = 9

FLAG_FIN = 0x01
FLAG_UNIDIRECTIONAL = 0x02

# RST_STREAM status codes.
PROTOCOL_ERROR = 1
INVALID_STREAM = 2
REFUSED_STREAM = 3
UNSUPPORTED_VERSION = 4
CANCEL = 5
INTERNAL_ERROR = 6
FLOW_CONTROL_ERROR = 7
STREAM_IN_USE = 8
STREAM_ALREADY_CLOSED = 9
FRAME_TOO_LARGE = 11

# GOAWAY status codes.
GOAWAY_OK = 0
GOAWAY_PROTOCOL_ERROR = 1
GOAWAY_INTERNAL_ERROR = 2

SETTINGS_MAX_CONCURRENT_STREAMS = 4
SETTINGS_INITIAL_WINDOW_SIZE = 7

DEFAULT_WINDOW = 64 * 1024
MAX_WINDOW = 2**31 - 1
MAX_LENGTH = 2**24 - 1
# Data frames we send carry at most this much (spdystream reads any size; small
# frames keep one stream from hogging a shared connection).
MAX_DATA_CHUNK = 32 * 1024
# Most a stream buffers for its reader before the session stops reading the
# connection (a peer that ignores windows is held back by TCP instead).
BUFFER_HIGH_WATER = 1024 * 1024

_WORDS = (
    "options head post put delete trace accept accept-charset accept-encoding accept-language accept-ranges age "
    "allow authorization cache-control connection content-base content-encoding content-language content-length "
    "content-location content-md5 content-range content-type date etag expect expires from host if-match "
    "if-modified-since if-none-match if-range if-unmodified-since last-modified location max-forwards pragma "
    "proxy-authenticate proxy-authorization range referer retry-after server te trailer transfer-encoding upgrade "
    "user-agent vary via warning www-authenticate method get status").split() + [
    "200 OK", "version", "HTTP/1.1", "url", "public", "set-cookie", "keep-alive", "origin"]
_TAIL = (
    "100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505"
    "203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 Unauthorized"
    "403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented503 Service Unavailable"
    "Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT"
    "chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,"
    "text/javascript,publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.")
# The zlib dictionary of SPDY/3 header compression (draft-mbelshe-httpbis-spdy-00,
# 2.6.10.1): each word with a 4-byte length, then the tail as is.
DICTIONARY = b"".join(struct.pack(">I", len(w)) + w.encode() for w in _WORDS) + _TAIL.encode()
DICTIONARY_ADLER32 = 0xE3C6A7C2  # the DICTID every SPDY/3 header block's zlib stream names

Headers = dict[str, list[str]]


class ProtocolError(Exception):
    """The peer sent something SPDY/3.1 does not allow; the session cannot go on."""


class StreamReset(Exception):
    """The stream was reset (RST_STREAM) or its session ended before it finished."""


# -- frames ------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class DataFrame:
    stream_id: int
    data: bytes
    flags: int = 0


@dataclasses.dataclass(frozen=True)
class SynStream:
    stream_id: int
    headers: Headers
    flags: int = 0
    associated_id: int = 0
    priority: int = 0
    slot: int = 0


@dataclasses.dataclass(frozen=True)
class SynReply:
    stream_id: int
    headers: Headers
    flags: int = 0


@dataclasses.dataclass(frozen=True)
class RstStream:
    stream_id: int
    status: int


@dataclasses.dataclass(frozen=True)
class Settings:
    entries: tuple[tuple[int, int, int], ...]  # (flags, id, value)
    flags: int = 0


@dataclasses.dataclass(frozen=True)
class Ping:
    id: int


@dataclasses.dataclass(frozen=True)
class GoAway:
    last_good_stream_id: int
    status: int = GOAWAY_OK


@dataclasses.dataclass(frozen=True)
class HeadersFrame:
    stream_id: int
    headers: Headers
    flags: int = 0


@dataclasses.dataclass(frozen=True)
class WindowUpdate:
    stream_id: int  # 0: the session's window
    delta: int


@dataclasses.dataclass(frozen=True)
class UnknownControl:
    type: int
    flags: int
    payload: bytes


Frame = (DataFrame | SynStream | SynReply | RstStream | Settings | Ping | GoAway | HeadersFrame | WindowUpdate
         | UnknownControl)


def _headers(headers: Mapping[str, Iterable[str]]) -> Headers:
    return {k.lower(): list(v) for k, v in headers.items()}


def encode_header_block(headers: Mapping[str, Iterable[str]]) -> bytes:
    """The uncompressed name/value block: names lower-cased, several values joined by NUL."""
    out = [struct.pack(">I", len(headers))]
    for name, values in headers.items():
        n = name.lower().encode()
        v = b"\0".join(str(x).encode() for x in values)
        out.append(struct.pack(">I", len(n)) + n + struct.pack(">I", len(v)) + v)
    return b"".join(out)


def decode_header_block(block: bytes) -> Headers:
    try:
        (count,), pos = struct.unpack_from(">I", block, 0), 4
        headers: Headers = {}
        for _ in range(count):
            (n,) = struct.unpack_from(">I", block, pos)
            name = block[pos + 4:pos + 4 + n]
            pos += 4 + n
            (v,) = struct.unpack_from(">I", block, pos)
            value = block[pos + 4:pos + 4 + v]
            pos += 4 + v
            if len(name) != n or len(value) != v or not name:
                raise ProtocolError("truncated header block")
            headers.setdefault(name.decode("latin-1").lower(), []).extend(value.decode("latin-1").split("\0"))
        return headers
    except struct.error as e:
        raise ProtocolError(f"malformed header block: {e}") from e


class Framer:
    """Encodes frames and parses a byte stream into frames, with the session's two zlib contexts."""

    def __init__(self) -> None:
        self._deflate = zlib.compressobj(zlib.Z_BEST_COMPRESSION, zlib.DEFLATED, 15, 8, zlib.Z_DEFAULT_STRATEGY,
                                         DICTIONARY)
        self._inflate = zlib.decompressobj(zdict=DICTIONARY)
        self._buf = bytearray()

    # -- writing --

    def _compress(self, headers: Mapping[str, Iterable[str]]) -> bytes:
        block = encode_header_block(headers)
        return self._deflate.compress(block) + self._deflate.flush(zlib.Z_SYNC_FLUSH)

    @staticmethod
    def _control(type_: int, flags: int, payload: bytes) -> bytes:
        if len(payload) > MAX_LENGTH:
            raise ValueError("frame too large")
        return struct.pack(">HHI", 0x8000 | VERSION, type_, (flags << 24) | len(payload)) + payload

    def encode(self, frame: Frame) -> bytes:
        if isinstance(frame, DataFrame):
            if len(frame.data) > MAX_LENGTH:
                raise ValueError("frame too large")
            return struct.pack(">II", frame.stream_id & 0x7FFFFFFF, (frame.flags << 24) | len(frame.data)) + frame.data
        if isinstance(frame, SynStream):
            payload = struct.pack(">IIBB", frame.stream_id & 0x7FFFFFFF, frame.associated_id & 0x7FFFFFFF,
                                  (frame.priority & 7) << 5, frame.slot) + self._compress(frame.headers)
            return self._control(SYN_STREAM, frame.flags, payload)
        if isinstance(frame, SynReply):
            return self._control(SYN_REPLY, frame.flags,
                                 struct.pack(">I", frame.stream_id & 0x7FFFFFFF) + self._compress(frame.headers))
        if isinstance(frame, HeadersFrame):
            return self._control(HEADERS, frame.flags,
                                 struct.pack(">I", frame.stream_id & 0x7FFFFFFF) + self._compress(frame.headers))
        if isinstance(frame, RstStream):
            return self._control(RST_STREAM, 0, struct.pack(">II", frame.stream_id & 0x7FFFFFFF, frame.status))
        if isinstance(frame, Settings):
            body = struct.pack(">I", len(frame.entries)) + b"".join(
                struct.pack(">II", (f << 24) | (i & 0xFFFFFF), v) for f, i, v in frame.entries)
            return self._control(SETTINGS, frame.flags, body)
        if isinstance(frame, Ping):
            return self._control(PING, 0, struct.pack(">I", frame.id))
        if isinstance(frame, GoAway):
            return self._control(GOAWAY, 0, struct.pack(">II", frame.last_good_stream_id & 0x7FFFFFFF, frame.status))
        if isinstance(frame, WindowUpdate):
            return self._control(WINDOW_UPDATE, 0, struct.pack(">II", frame.stream_id & 0x7FFFFFFF,
                                                                frame.delta & 0x7FFFFFFF))
        return self._control(frame.type, frame.flags, frame.payload)

    # -- reading --

    def _decompress(self, data: bytes) -> Headers:
        try:
            block = self._inflate.decompress(data)
        except zlib.error as e:
            raise ProtocolError(f"header block does not decompress: {e}") from e
        return decode_header_block(block)

    def feed(self, data: bytes) -> list[Frame]:
        """Frames completed by `data` (a partial frame waits for the next call)."""
        self._buf += data
        frames: list[Frame] = []
        while len(self._buf) >= 8:
            word, flags_len = struct.unpack_from(">II", self._buf, 0)
            length = flags_len & 0xFFFFFF
            if len(self._buf) < 8 + length:
                break
            payload = bytes(self._buf[8:8 + length])
            del self._buf[:8 + length]
            flags = flags_len >> 24
            if not word & 0x80000000:
                frames.append(DataFrame(word & 0x7FFFFFFF, payload, flags))
                continue
            version, type_ = (word >> 16) & 0x7FFF, word & 0xFFFF
            if version != VERSION:
                raise ProtocolError(f"unsupported SPDY version {version}")
            frames.append(self._control_frame(type_, flags, payload))
        return frames

    def _control_frame(self, type_: int, flags: int, p: bytes) -> Frame:
        try:
            if type_ == SYN_STREAM:
                sid, assoc, pri, slot = struct.unpack_from(">IIBB", p, 0)
                return SynStream(sid & 0x7FFFFFFF, self._decompress(p[10:]), flags, assoc & 0x7FFFFFFF, pri >> 5, slot)
            if type_ == SYN_REPLY:
                (sid,) = struct.unpack_from(">I", p, 0)
                return SynReply(sid & 0x7FFFFFFF, self._decompress(p[4:]), flags)
            if type_ == HEADERS:
                (sid,) = struct.unpack_from(">I", p, 0)
                return HeadersFrame(sid & 0x7FFFFFFF, self._decompress(p[4:]), flags)
            if type_ == RST_STREAM:
                sid, status = struct.unpack_from(">II", p, 0)
                return RstStream(sid & 0x7FFFFFFF, status)
            if type_ == SETTINGS:
                (count,) = struct.unpack_from(">I", p, 0)
                entries = []
                for k in range(count):
                    fid, value = struct.unpack_from(">II", p, 4 + 8 * k)
                    entries.append((fid >> 24, fid & 0xFFFFFF, value))
                return Settings(tuple(entries), flags)
            if type_ == PING:
                return Ping(struct.unpack_from(">I", p, 0)[0])
            if type_ == GOAWAY:
                last, *rest = struct.unpack_from(">II", p, 0) if len(p) >= 8 else (struct.unpack_from(">I", p, 0)[0],)
                return GoAway(last & 0x7FFFFFFF, rest[0] if rest else GOAWAY_OK)
            if type_ == WINDOW_UPDATE:
                sid, delta = struct.unpack_from(">II", p, 0)
                return WindowUpdate(sid & 0x7FFFFFFF, delta & 0x7FFFFFFF)
        except struct.error as e:
            raise ProtocolError(f"control frame {type_} too short") from e
        return UnknownControl(type_, flags, p)


# -- channels ----------------------------------------------------------------------------


class Channel(Protocol):
    """A bidirectional byte pipe a session runs over."""

    async def recv(self) -> bytes:
        """The next bytes; b"" once the peer will send no more."""
        ...

    async def send(self, data: bytes) -> None: ...

    async def close(self) -> None:
        """End our side and release the pipe."""
        ...


class StreamChannel:
    """A Channel on asyncio streams (a hijacked HTTP/1.1 connection, a socket pair in tests)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    async def recv(self) -> bytes:
        try:
            return await self.reader.read(65536)
        except (ConnectionError, OSError):
            return b""

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(Exception):
            await self.writer.wait_closed()


# -- session -----------------------------------------------------------------------------


class Stream:
    """One SPDY stream: read what the peer sends, write back, half-close, reset."""

    def __init__(self, session: Session, stream_id: int, headers: Headers, *, remote_fin: bool) -> None:
        self.session = session
        self.id = stream_id
        self.headers = headers
        self._chunks: deque[bytes] = deque()
        self._buffered = 0
        self._readable = asyncio.Event()
        self._drained = asyncio.Event()
        self._drained.set()
        self._window_open = asyncio.Event()
        self._window_open.set()
        self.send_window = session.initial_send_window
        self.remote_closed = remote_fin  # FIN received: reads end after the buffer
        self.local_closed = False  # FIN sent
        self.reset_status: int | None = None
        self.replied = False
        self._reply_received = asyncio.Event()  # streams we opened: the peer's SYN_REPLY or RST came
        self._unacked = 0
        if remote_fin:
            self._readable.set()

    def header(self, name: str) -> str:
        values = self.headers.get(name.lower()) or [""]
        return values[0]

    @property
    def finished(self) -> bool:
        return self.reset_status is not None or (self.remote_closed and self.local_closed)

    async def reply(self, headers: Mapping[str, Iterable[str]] | None = None, *, fin: bool = False) -> None:
        """Accept a stream the peer opened (SYN_REPLY)."""
        if self.replied:
            return
        self.replied = True
        if fin:
            self.local_closed = True
        await self.session._send(SynReply(self.id, _headers(headers or {}), FLAG_FIN if fin else 0))
        self.session._maybe_forget(self)

    async def read(self) -> bytes:
        """The next data the peer sent; b"" at its FIN. Raises StreamReset after a reset."""
        while not self._chunks:
            if self.reset_status is not None:
                raise StreamReset(f"stream {self.id} reset ({self.reset_status})")
            if self.remote_closed:
                return b""
            self._readable.clear()
            await self._readable.wait()
        data = self._chunks.popleft()
        self._buffered -= len(data)
        if self._buffered < BUFFER_HIGH_WATER:
            self._drained.set()
        await self.session._consumed(self, len(data))
        return data

    async def read_all(self) -> bytes:
        out = bytearray()
        while chunk := await self.read():
            out += chunk
        return bytes(out)

    async def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            if self.reset_status is not None:
                raise StreamReset(f"stream {self.id} reset ({self.reset_status})")
            if self.local_closed:
                raise StreamReset(f"write on stream {self.id} after its FIN")
            size = min(len(view), MAX_DATA_CHUNK)
            if self.session.peer_flow_control:
                size = await self.session._reserve(self, size)
            chunk = bytes(view[:size])
            view = view[size:]
            await self.session._send(DataFrame(self.id, chunk))

    async def close(self) -> None:
        """Half-close: send FIN; the peer may still send."""
        if self.local_closed or self.reset_status is not None:
            return
        self.local_closed = True
        with contextlib.suppress(ConnectionError, OSError, RuntimeError):
            await self.session._send(DataFrame(self.id, b"", FLAG_FIN))
        self.session._maybe_forget(self)

    async def reset(self, status: int = CANCEL) -> None:
        if self.finished:
            return
        self._on_reset(status)
        with contextlib.suppress(ConnectionError, OSError, RuntimeError):
            await self.session._send(RstStream(self.id, status))

    # -- called by the session --

    def _on_data(self, data: bytes, fin: bool) -> None:
        if data:
            self._chunks.append(data)
            self._buffered += len(data)
            if self._buffered >= BUFFER_HIGH_WATER:
                self._drained.clear()
        if fin:
            self.remote_closed = True
        self._readable.set()

    def _on_reset(self, status: int) -> None:
        self.reset_status = status
        self._chunks.clear()
        self._buffered = 0
        self._wake()
        self.session._forget(self)

    def _on_session_end(self) -> None:
        # As spdystream does when its connection closes: reads see EOF after what
        # was buffered; writes fail on the closed session.
        self.remote_closed = True
        self._wake()

    def _wake(self) -> None:
        self._readable.set()
        self._drained.set()
        self._window_open.set()
        self._reply_received.set()


class Session:
    """A SPDY/3.1 session over a Channel: accept the peer's streams, open our own."""

    def __init__(self, channel: Channel, *, server: bool, peer_flow_control: bool = False,
                 initial_window: int = DEFAULT_WINDOW) -> None:
        self.channel = channel
        self.server = server
        self.peer_flow_control = peer_flow_control
        self.framer = Framer()
        self.streams: dict[int, Stream] = {}
        self.initial_send_window = DEFAULT_WINDOW
        self.session_send_window = DEFAULT_WINDOW
        self._session_window_open = asyncio.Event()
        self._session_window_open.set()
        self.recv_window = initial_window
        self._session_unacked = 0
        self._next_id = 2 if server else 1
        self._last_peer_id = 0
        self._next_ping = 2 if server else 1
        self._pings: dict[int, asyncio.Future[None]] = {}
        self._incoming: asyncio.Queue[Stream | None] = asyncio.Queue()
        self._write_lock = asyncio.Lock()
        self.going_away = False  # we sent or received GOAWAY: no new streams
        self.closed = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._reader is None:
            self._reader = asyncio.get_running_loop().create_task(self._read_loop(), name="spdy-reader")

    async def __aenter__(self) -> Session:
        self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- public --

    async def accept(self) -> Stream | None:
        """The next stream the peer opened; None once the session ended."""
        if self.closed.is_set() and self._incoming.empty():
            return None
        return await self._incoming.get()

    async def open_stream(self, headers: Mapping[str, Iterable[str]], *, fin: bool = False,
                          timeout: float = 30.0) -> Stream:
        """Open a stream and wait for the peer's SYN_REPLY."""
        if self.going_away or self.closed.is_set():
            raise StreamReset("session is going away")
        sid = self._next_id
        self._next_id += 2
        stream = Stream(self, sid, _headers(headers), remote_fin=False)
        stream.local_closed = fin
        self.streams[sid] = stream
        await self._send(SynStream(sid, stream.headers, FLAG_FIN if fin else 0))
        async with asyncio.timeout(timeout):
            await stream._reply_received.wait()
        if stream.reset_status is not None or not stream.replied:
            raise StreamReset(f"stream {sid} refused ({stream.reset_status})")
        return stream

    async def ping(self, timeout: float = 10.0) -> None:
        pid = self._next_ping
        self._next_ping += 2
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pings[pid] = fut
        try:
            await self._send(Ping(pid))
            async with asyncio.timeout(timeout):
                await fut
        finally:
            self._pings.pop(pid, None)

    async def close(self, status: int = GOAWAY_OK, *, linger: float = 2.0) -> None:
        """GOAWAY, then end our side of the channel; wait up to `linger` for the peer to
        close its side, so that nothing it still sends turns our close into a reset that
        could destroy data not yet read on its end."""
        if not self.going_away:
            self.going_away = True
            with contextlib.suppress(ConnectionError, OSError, RuntimeError):
                await self._send(GoAway(self._last_peer_id, status))
        if self._reader is not None and not self._reader.done():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(self.closed.wait()), linger)
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
        self._end()
        await self.channel.close()

    async def wait_closed(self) -> None:
        await self.closed.wait()

    # -- internals --

    async def _send(self, frame: Frame) -> None:
        async with self._write_lock:
            if self.closed.is_set() and not isinstance(frame, GoAway):
                raise ConnectionResetError("spdy session is closed")
            await self.channel.send(self.framer.encode(frame))

    async def _reserve(self, stream: Stream, size: int) -> int:
        """Wait for window on the stream and the session; take up to `size` of it."""
        while True:
            if stream.reset_status is not None:
                raise StreamReset(f"stream {stream.id} reset ({stream.reset_status})")
            if self.closed.is_set():
                raise ConnectionResetError("spdy session is closed")
            if stream.send_window <= 0:
                stream._window_open.clear()
                await stream._window_open.wait()
                continue
            if self.session_send_window <= 0:
                self._session_window_open.clear()
                await self._session_window_open.wait()
                continue
            take = min(size, stream.send_window, self.session_send_window)
            stream.send_window -= take
            self.session_send_window -= take
            return take

    async def _consumed(self, stream: Stream, size: int) -> None:
        """The application read `size` bytes: give the peer that much window back,
        in batches of half a window so as not to answer every frame."""
        if self.closed.is_set():
            return
        stream._unacked += size
        self._session_unacked += size
        updates = []
        if stream._unacked >= self.recv_window // 2 and not stream.remote_closed:
            updates.append(WindowUpdate(stream.id, stream._unacked))
            stream._unacked = 0
        if self._session_unacked >= DEFAULT_WINDOW // 2:
            updates.append(WindowUpdate(0, self._session_unacked))
            self._session_unacked = 0
        for update in updates:
            with contextlib.suppress(ConnectionError, OSError, RuntimeError):
                await self._send(update)

    def _forget(self, stream: Stream) -> None:
        if self.streams.get(stream.id) is stream:
            del self.streams[stream.id]

    def _maybe_forget(self, stream: Stream) -> None:
        if stream.finished:
            self._forget(stream)

    def _peer_initiated(self, sid: int) -> bool:
        return sid % 2 == (1 if self.server else 0)

    async def _read_loop(self) -> None:
        try:
            if self.recv_window != DEFAULT_WINDOW:
                await self._send(Settings(((0, SETTINGS_INITIAL_WINDOW_SIZE, self.recv_window),)))
            while True:
                data = await self.channel.recv()
                if not data:
                    return
                for frame in self.framer.feed(data):
                    await self._handle(frame)
        except ProtocolError as e:
            log.info("spdy session: protocol error from peer: %s", e)
            with contextlib.suppress(Exception):
                await self._send(GoAway(self._last_peer_id, GOAWAY_PROTOCOL_ERROR))
        except (ConnectionError, OSError) as e:
            log.debug("spdy session: channel failed: %r", e)
        finally:
            self._end()

    def _end(self) -> None:
        if self.closed.is_set():
            return
        self.closed.set()
        for stream in list(self.streams.values()):
            stream._on_session_end()
        self.streams.clear()
        self._session_window_open.set()
        for fut in self._pings.values():
            if not fut.done():
                fut.set_exception(ConnectionResetError("spdy session closed"))
        self._incoming.put_nowait(None)

    async def _handle(self, frame: Frame) -> None:
        if isinstance(frame, DataFrame):
            await self._on_data(frame)
        elif isinstance(frame, SynStream):
            await self._on_syn_stream(frame)
        elif isinstance(frame, SynReply):
            stream = self.streams.get(frame.stream_id)
            if stream is not None:
                stream.replied = True
                stream.headers.update(frame.headers)
                if frame.flags & FLAG_FIN:
                    stream._on_data(b"", True)
                stream._reply_received.set()
                self._maybe_forget(stream)
        elif isinstance(frame, HeadersFrame):
            stream = self.streams.get(frame.stream_id)
            if stream is not None:
                stream.headers.update(frame.headers)
                if frame.flags & FLAG_FIN:
                    stream._on_data(b"", True)
                    self._maybe_forget(stream)
        elif isinstance(frame, RstStream):
            stream = self.streams.get(frame.stream_id)
            if stream is not None:
                stream._on_reset(frame.status)
        elif isinstance(frame, Settings):
            for _flags, sid, value in frame.entries:
                if sid == SETTINGS_INITIAL_WINDOW_SIZE and 0 < value <= MAX_WINDOW:
                    delta = value - self.initial_send_window
                    self.initial_send_window = value
                    for stream in self.streams.values():
                        stream.send_window += delta
                        if stream.send_window > 0:
                            stream._window_open.set()
        elif isinstance(frame, Ping):
            if self._peer_initiated(frame.id):
                await self._send(frame)
            else:
                fut = self._pings.get(frame.id)
                if fut is not None and not fut.done():
                    fut.set_result(None)
        elif isinstance(frame, GoAway):
            self.going_away = True
        elif isinstance(frame, WindowUpdate):
            if frame.stream_id == 0:
                self.session_send_window = min(self.session_send_window + frame.delta, MAX_WINDOW)
                self._session_window_open.set()
            else:
                stream = self.streams.get(frame.stream_id)
                if stream is not None:
                    stream.send_window = min(stream.send_window + frame.delta, MAX_WINDOW)
                    stream._window_open.set()
        # UnknownControl: SPDY says to ignore control frames of unknown types.

    async def _on_syn_stream(self, frame: SynStream) -> None:
        sid = frame.stream_id
        if not self._peer_initiated(sid) or sid <= self._last_peer_id:
            # Stream ids only grow and each side uses its own parity.
            await self._send(RstStream(sid, PROTOCOL_ERROR))
            return
        self._last_peer_id = sid
        if self.going_away:
            await self._send(RstStream(sid, REFUSED_STREAM))
            return
        stream = Stream(self, sid, frame.headers, remote_fin=bool(frame.flags & FLAG_FIN))
        if frame.flags & FLAG_UNIDIRECTIONAL:
            stream.local_closed = True
        self.streams[sid] = stream
        await self._incoming.put(stream)

    async def _on_data(self, frame: DataFrame) -> None:
        stream = self.streams.get(frame.stream_id)
        if stream is None or stream.remote_closed:
            # Data racing our reset (or the stream's end) is dropped; data for a
            # stream that never existed is answered with INVALID_STREAM.
            known = frame.stream_id <= (self._last_peer_id if self._peer_initiated(frame.stream_id)
                                        else self._next_id - 2)
            if stream is None and not known:
                with contextlib.suppress(ConnectionError, OSError, RuntimeError):
                    await self._send(RstStream(frame.stream_id, INVALID_STREAM))
            return
        if self.peer_flow_control and stream._buffered + len(frame.data) > self.recv_window:
            await stream.reset(FLOW_CONTROL_ERROR)
            return
        stream._on_data(frame.data, bool(frame.flags & FLAG_FIN))
        if frame.flags & FLAG_FIN:
            self._maybe_forget(stream)
        # A peer that ignores windows is slowed by TCP: stop reading the connection
        # while this stream's reader is far behind.
        if not stream._drained.is_set():
            await stream._drained.wait()
