"""port-forward: portforward.k8s.io over SPDY, each forwarded connection a kubelet websocket.

The client (kubectl) opens, per local connection, two streams carrying the same
`port` and `requestID` headers: an error stream (which it half-closes at once)
and a data stream. Once both are there we ask the pod's kubelet for a connection
to that port (`/portForward/{ns}/{pod}?port=N`, a websocket in the channel
protocol: 0 bytes to the pod, 1 bytes from it, 3 an error message, `255 0` the
client stopped sending, `255 1` the pod stopped sending) and copy both ways.
Whatever goes wrong for one connection is written as text to its error stream,
which kubectl prints; then both streams are FINished.
"""
from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Awaitable, Callable

import aiohttp

from minik8s.api import errors
from minik8s.util import spdy

log = logging.getLogger(__name__)

PROTOCOL = "portforward.k8s.io"
SPDY_PROTOCOLS = (PROTOCOL,)
STREAM_CREATION_TIMEOUT = 30.0
DATA, FROM_POD, ERROR, CLOSE = 0, 1, 3, 255

# Opens the kubelet's websocket for one connection to `port` of the pod.
Dial = Callable[[int], Awaitable[aiohttp.ClientWebSocketResponse]]


@dataclasses.dataclass
class Pair:
    request_id: str
    port: int
    data: spdy.Stream | None = None
    error: spdy.Stream | None = None

    @property
    def complete(self) -> bool:
        return self.data is not None and self.error is not None


def parse_port(stream: spdy.Stream) -> int:
    """The port header, checked as httpStreamReceived does."""
    text = stream.header("port")
    if not text:
        raise ValueError('"port" header is required')
    try:
        port = int(text)
    except ValueError:
        raise ValueError(f"unable to parse {text!r} as a port") from None
    if not 0 < port < 65536:
        raise ValueError(f'port "{text}" must be > 0 and < 65536')
    return port


def request_id(stream: spdy.Stream) -> str:
    """The requestID header; old clients without one pair error and data by stream id."""
    rid = stream.header("requestid")
    if rid:
        return rid
    return str(stream.id if stream.header("streamtype") == "error" else stream.id - 2)


async def serve(session: spdy.Session, dial: Dial, pod: str) -> None:
    """Forward every connection the client opens on `session` until it goes away."""
    pairs: dict[str, Pair] = {}
    tasks: set[asyncio.Task[None]] = set()

    def spawn(coro: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coro)
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    async def expire(pair: Pair) -> None:
        await asyncio.sleep(STREAM_CREATION_TIMEOUT)
        if pairs.get(pair.request_id) is pair:
            del pairs[pair.request_id]
            await _fail(pair, f"timed out waiting for streams of request {pair.request_id}")

    try:
        while (stream := await session.accept()) is not None:
            kind = stream.header("streamtype")
            try:
                port = parse_port(stream)
                if kind not in ("data", "error"):
                    raise ValueError(f"invalid stream type {kind!r}")
            except ValueError as e:
                log.info("port-forward to %s: stream refused: %s", pod, e)
                await stream.reset(spdy.REFUSED_STREAM)
                continue
            await stream.reply()
            rid = request_id(stream)
            pair = pairs.get(rid)
            if pair is None:
                pair = pairs[rid] = Pair(rid, port)
                spawn(expire(pair))
            if getattr(pair, kind) is not None:
                await _write_error(pair.error or stream, f"error processing stream for request {rid}: "
                                                         f"{kind} stream already assigned")
                continue
            setattr(pair, kind, stream)
            if pair.complete:
                del pairs[rid]
                spawn(forward(pair, dial, pod))
    finally:
        for task in list(tasks):
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def _write_error(stream: spdy.Stream, message: str) -> None:
    with contextlib.suppress(ConnectionError, spdy.StreamReset):
        await stream.write(message.encode())


async def _fail(pair: Pair, message: str) -> None:
    if pair.error is not None:
        await _write_error(pair.error, message)
    for stream in (pair.data, pair.error):
        if stream is not None:
            with contextlib.suppress(ConnectionError, spdy.StreamReset):
                await stream.close()


async def forward(pair: Pair, dial: Dial, pod: str) -> None:
    """Copy one connection between the client's data stream and the kubelet."""
    assert pair.data is not None and pair.error is not None
    data, error = pair.data, pair.error
    prefix = f"error forwarding port {pair.port} to pod {pod}"
    try:
        upstream = await dial(pair.port)
    except errors.StatusError as e:
        await _fail(pair, f"{prefix}: {e.message}")
        return
    except (aiohttp.ClientError, OSError) as e:
        await _fail(pair, f"{prefix}: cannot reach the kubelet: {e}")
        return

    async def client_to_pod() -> None:
        with contextlib.suppress(spdy.StreamReset):
            while chunk := await data.read():
                await upstream.send_bytes(bytes([DATA]) + chunk)
        await upstream.send_bytes(bytes([CLOSE, DATA]))

    sending = asyncio.create_task(client_to_pod())
    problem = ""
    try:
        async for msg in upstream:
            if msg.type != aiohttp.WSMsgType.BINARY or not msg.data:
                continue
            channel, payload = msg.data[0], bytes(msg.data[1:])
            if channel == FROM_POD and payload:
                await data.write(payload)
            elif channel == ERROR:
                problem = payload.decode(errors="replace")
            elif channel == CLOSE and payload[:1] == bytes([FROM_POD]):
                await data.close()  # the pod stopped sending; the client may still send
    except (ConnectionError, spdy.StreamReset, aiohttp.ClientError) as e:
        log.info("port-forward %s:%d request %s ended early: %r", pod, pair.port, pair.request_id, e)
    finally:
        sending.cancel()
        await asyncio.gather(sending, return_exceptions=True)
        await upstream.close()
    if problem:
        await _write_error(error, f"{prefix}: {problem}")
    for stream in (data, error):
        with contextlib.suppress(ConnectionError, spdy.StreamReset):
            await stream.close()
