"""exec and attach: the client's protocol in, the kubelet's websocket channel protocol out.

Towards the kubelet it is always v5.channel.k8s.io: binary messages whose first
byte is the channel (0 stdin, 1 stdout, 2 stderr, 3 the final Status, 4 resize,
255 close; `255 0` = stdin is over).

From the client, either
- a websocket (v5/v4.channel.k8s.io, kubectl 1.30+ and the python client): the
  same channel protocol, so messages are relayed as they are; or
- SPDY/3.1 (kubectl up to 1.29, and newer ones when websockets fail), as the
  kubelet's remotecommand server speaks it: the client opens one stream per
  streamType (error, stdin, stdout, stderr, resize) and we answer each; stdin's
  FIN is the end of input; the resize stream carries JSON {"Width","Height"}
  objects back to back; the error stream gets the final Status as JSON (v4) or,
  for v3/v2/v1, the failure message only (success is an empty error stream).
  Then stdout, stderr and error are FINished and the session goes away.
"""
from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
from collections.abc import Mapping
from typing import Any

import aiohttp
from aiohttp import web

from minik8s.api import errors
from minik8s.util import spdy

log = logging.getLogger(__name__)

V5 = "v5.channel.k8s.io"
V4 = "v4.channel.k8s.io"
V3 = "v3.channel.k8s.io"
V2 = "v2.channel.k8s.io"
V1 = "channel.k8s.io"
WEBSOCKET_PROTOCOLS = (V5, V4)
# SPDY: v5 adds nothing over SPDY (its close signal is stdin's FIN), so the
# kubelet's list is the one to negotiate from, newest first.
SPDY_PROTOCOLS = (V4, V3, V2, V1)

STDIN, STDOUT, STDERR, ERROR, RESIZE, CLOSE = 0, 1, 2, 3, 4, 255
STREAM_CREATION_TIMEOUT = 30.0


@dataclasses.dataclass(frozen=True)
class Options:
    stdin: bool
    stdout: bool
    stderr: bool
    tty: bool


def _truthy(value: str | None) -> bool:
    return value is not None and value.lower() in ("true", "1")


def options(query: Mapping[str, str]) -> Options:
    """The streams a request asks for (remotecommand.NewOptions): a tty has no separate stderr."""
    tty = _truthy(query.get("tty"))
    stdin = _truthy(query.get("stdin"))
    stdout = _truthy(query.get("stdout"))
    stderr = _truthy(query.get("stderr")) and not tty
    if not (stdin or stdout or stderr):
        raise errors.BadRequest("you must specify at least 1 of stdin, stdout, stderr")
    return Options(stdin, stdout, stderr, tty)


def expected_streams(opts: Options, protocol: str) -> set[str]:
    wanted = {"error"}
    if opts.stdin:
        wanted.add("stdin")
    if opts.stdout:
        wanted.add("stdout")
    if opts.stderr:
        wanted.add("stderr")
    if opts.tty and protocol in (V4, V3):
        wanted.add("resize")
    return wanted


def internal_error(message: str) -> dict[str, Any]:
    return {"metadata": {}, "status": "Failure", "message": message, "reason": "InternalError",
            "details": {"causes": [{"message": message}]}, "code": 500}


def error_stream_bytes(status: dict[str, Any], protocol: str) -> bytes:
    """What the error stream carries for this Status under `protocol`."""
    if protocol == V4:
        return json.dumps(status).encode()
    if status.get("status") == "Success":
        return b""
    return str(status.get("message") or "error executing command").encode()


async def wait_for_streams(session: spdy.Session, wanted: set[str],
                           timeout: float = STREAM_CREATION_TIMEOUT) -> dict[str, spdy.Stream]:
    """Accept the client's streams until each wanted streamType is there."""
    got: dict[str, spdy.Stream] = {}
    async with asyncio.timeout(timeout):
        while set(got) != wanted:
            stream = await session.accept()
            if stream is None:
                raise ConnectionResetError("client went away while creating streams")
            kind = stream.header("streamtype")
            await stream.reply()
            if kind in wanted and kind not in got:
                got[kind] = stream
            else:
                log.info("remotecommand: unexpected stream type %r", kind)
                await stream.reset(spdy.REFUSED_STREAM)
    return got


class JsonObjects:
    """Splits a byte stream of back-to-back JSON objects (the resize stream)."""

    def __init__(self) -> None:
        self.buf = ""
        self.decoder = json.JSONDecoder()

    def feed(self, data: bytes) -> list[Any]:
        self.buf += data.decode(errors="replace")
        out: list[Any] = []
        while True:
            text = self.buf.lstrip()
            if not text:
                self.buf = ""
                return out
            try:
                obj, end = self.decoder.raw_decode(text)
            except json.JSONDecodeError:
                self.buf = text
                return out
            out.append(obj)
            self.buf = text[end:]


async def relay_spdy(session: spdy.Session, upstream: aiohttp.ClientWebSocketResponse, protocol: str,
                     opts: Options) -> None:
    """Serve one exec/attach over `session` against the kubelet's websocket `upstream`."""
    try:
        streams = await wait_for_streams(session, expected_streams(opts, protocol))
    except (TimeoutError, ConnectionResetError) as e:
        log.info("remotecommand: client streams not created: %r", e)
        return

    async def stdin_to_kubelet() -> None:
        stream = streams.get("stdin")
        if stream is None:
            return
        with contextlib.suppress(spdy.StreamReset):
            while data := await stream.read():
                await upstream.send_bytes(bytes([STDIN]) + data)
        await upstream.send_bytes(bytes([CLOSE, STDIN]))

    async def resize_to_kubelet() -> None:
        stream = streams.get("resize")
        if stream is None:
            return
        splitter = JsonObjects()
        with contextlib.suppress(spdy.StreamReset):
            while data := await stream.read():
                for size in splitter.feed(data):
                    await upstream.send_bytes(bytes([RESIZE]) + json.dumps(size).encode())

    status: dict[str, Any] | None = None

    async def from_kubelet() -> None:
        nonlocal status
        async for msg in upstream:
            if msg.type != aiohttp.WSMsgType.BINARY or not msg.data:
                continue
            channel, data = msg.data[0], bytes(msg.data[1:])
            target = streams.get("stdout") if channel == STDOUT else streams.get("stderr") \
                if channel == STDERR else None
            if target is not None and data:
                await target.write(data)
            elif channel == ERROR:
                try:
                    status = json.loads(data)
                except ValueError:
                    status = internal_error(data.decode(errors="replace"))

    pumps = [asyncio.create_task(stdin_to_kubelet()), asyncio.create_task(resize_to_kubelet())]
    output = asyncio.create_task(from_kubelet())
    client_gone = asyncio.create_task(session.wait_closed())
    try:
        await asyncio.wait({output, client_gone}, return_when=asyncio.FIRST_COMPLETED)
        if output.done():
            output.result()
        else:
            # Gone is gone: the kubelet keeps an attached container's stdin open after the
            # client's end of stdin (not stdinOnce), so it learns of the end from this close.
            output.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await output
            with contextlib.suppress(Exception):
                await upstream.close()
            return
    except (ConnectionError, spdy.StreamReset, aiohttp.ClientError) as e:
        log.info("remotecommand: session ended early: %r", e)
    finally:
        for task in [*pumps, output, client_gone]:
            task.cancel()
        await asyncio.gather(*pumps, output, client_gone, return_exceptions=True)
    if status is None:
        status = internal_error("the kubelet ended the stream without a status")
    with contextlib.suppress(ConnectionError, spdy.StreamReset):
        for kind in ("stdout", "stderr"):
            if kind in streams:
                await streams[kind].close()
        payload = error_stream_bytes(status, protocol)
        if payload:
            await streams["error"].write(payload)
        await streams["error"].close()
        if "stdin" in streams:
            await streams["stdin"].close()


async def relay_websocket(client: web.WebSocketResponse, upstream: aiohttp.ClientWebSocketResponse) -> None:
    """Copy frames both ways until the kubelet ends the session (it sends the Status first)
    or the client goes away (then the kubelet's connection is closed: an attached container
    that is not stdinOnce keeps its stdin open, so the kubelet learns of the end from it)."""

    async def to_kubelet() -> None:
        async for msg in client:
            if msg.type == aiohttp.WSMsgType.BINARY:
                await upstream.send_bytes(msg.data)
            elif msg.type == aiohttp.WSMsgType.TEXT:
                # The python client sends str stdin as text messages ("\x00" + data),
                # which Kubernetes' wsstream reads like binary ones.
                await upstream.send_bytes(msg.data.encode())
        # The client went away: stdin is over for the kubelet.
        with contextlib.suppress(Exception):
            await upstream.send_bytes(bytes([CLOSE, STDIN]))

    async def to_client() -> None:
        async for msg in upstream:
            if msg.type == aiohttp.WSMsgType.BINARY:
                await client.send_bytes(msg.data)
            elif msg.type == aiohttp.WSMsgType.TEXT:
                await client.send_str(msg.data)
            elif msg.type == aiohttp.WSMsgType.ERROR:
                break

    forward = asyncio.get_running_loop().create_task(to_kubelet())
    backward = asyncio.get_running_loop().create_task(to_client())
    try:
        await asyncio.wait({forward, backward}, return_when=asyncio.FIRST_COMPLETED)
        if not backward.done():
            backward.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await backward
            with contextlib.suppress(Exception):
                await upstream.close()
    finally:
        for task in (forward, backward):
            task.cancel()
        for task in (forward, backward):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        with contextlib.suppress(Exception):
            await client.close()
