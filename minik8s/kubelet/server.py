"""The kubelet's HTTP server: logs, exec, attach and port-forward, for the API server to forward to.

Paths are the real kubelet's (`/containerLogs/{ns}/{pod}/{container}`,
`/exec/{ns}/{pod}/{container}`, `/attach/{ns}/{pod}/{container}`,
`/portForward/{ns}/{pod}`, `/pods`, `/healthz`). Whatever the client speaks to
the API server (websockets or SPDY), the API server speaks one protocol here:
the websocket channel protocol (v5.channel.k8s.io: binary messages whose first
byte is the channel):
 - exec and attach: 0 stdin, 1 stdout, 2 stderr, 3 the final Status, 4 resize,
   `255 0` end of stdin;
 - port-forward, one websocket per forwarded connection to `?port=N` on the
   pod's loopback: 0 bytes to the pod, 1 bytes from it, 3 an error message,
   `255 0` the client stopped sending (the pod's socket is shut for writing),
   `255 1` the pod stopped sending. The websocket closes when both directions
   ended or on an error.

Access: HTTPS only; every request but /healthz must come with a client
certificate from the client CA naming the API server's kubelet client identity or
a member of system:masters (minik8s/kubelet/servertls.py): 401 without one, 403 for
another identity. A shell on every pod of the node is not for anyone who can reach it.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import ssl
import time
from typing import Any, Callable

from aiohttp import web

from minik8s.api import errors
from minik8s.api import rfc3339
from minik8s.kubelet import runtime
from minik8s.kubelet import servertls
from minik8s.kubelet import stats as stats_mod

log = logging.getLogger(__name__)

Obj = dict[str, Any]

V5 = "v5.channel.k8s.io"
V4 = "v4.channel.k8s.io"
PROTOCOLS = (V5, V4)
STDIN, STDOUT, STDERR, ERROR, RESIZE, CLOSE = 0, 1, 2, 3, 4, 255


def status_response(err: errors.StatusError) -> web.Response:
    return web.json_response(err.status(), status=err.code)


def exit_status(code: int, command: list[str]) -> Obj:
    """The channel-3 Status that ends an exec (what kubectl turns into its exit code)."""
    if code == 0:
        return {"metadata": {}, "status": "Success"}
    return {"metadata": {}, "status": "Failure",
            "message": f"command terminated with non-zero exit code: error executing command "
                       f"[{' '.join(command)}], exit code {code}",
            "reason": "NonZeroExitCode",
            "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]}}


def failure_status(message: str) -> Obj:
    return {"metadata": {}, "status": "Failure", "message": message, "reason": "InternalError",
            "details": {"causes": [{"message": message}]}, "code": 500}


def _truthy(value: str | None) -> bool:
    return value is not None and value.lower() in ("true", "1", "")


# Init and ephemeral containers have logs and can be exec'd into and attached to
# (`kubectl debug -i` attaches to its ephemeral container) like the pod's containers.
_KINDS = (("containers", "containerStatuses"), ("initContainers", "initContainerStatuses"),
          ("ephemeralContainers", "ephemeralContainerStatuses"))


def _spec_of(pod: Obj, container: str) -> Obj | None:
    spec = pod.get("spec") or {}
    return next((c for key, _ in _KINDS for c in spec.get(key) or [] if c.get("name") == container), None)


def _status_of(status: Obj, container: str) -> Obj | None:
    return next((c for _, key in _KINDS for c in status.get(key) or [] if c.get("name") == container), None)


def container_id_for_logs(pod: Obj, status: Obj, container: str, previous: bool) -> str:
    """Which engine container serves `kubectl logs` (validateContainerLogStatus)."""
    name = pod["metadata"]["name"]
    cs = _status_of(status, container)
    if cs is None:
        raise errors.BadRequest(f'container "{container}" in pod "{name}" is waiting to start: ContainerCreating')
    state, last = cs.get("state") or {}, cs.get("lastState") or {}
    last_term = last.get("terminated") or {}
    if previous:
        if not last_term.get("containerID"):
            raise errors.BadRequest(f'previous terminated container "{container}" in pod "{name}" not found')
        return last_term["containerID"]
    if "running" in state:
        return cs.get("containerID", "")
    if "terminated" in state:
        cid = state["terminated"].get("containerID") or last_term.get("containerID")
        if not cid:
            raise errors.BadRequest(f'container "{container}" in pod "{name}" is terminated')
        return cid
    if last_term.get("containerID"):
        return last_term["containerID"]
    reason = (state.get("waiting") or {}).get("reason", "")
    if reason == "ErrImagePull":
        raise errors.BadRequest(f'container "{container}" in pod "{name}" is waiting to start: image can\'t be pulled')
    if reason == "ImagePullBackOff":
        raise errors.BadRequest(f'container "{container}" in pod "{name}" is waiting to start: '
                                "trying and failing to pull image")
    if reason:
        raise errors.BadRequest(f'container "{container}" in pod "{name}" is waiting to start: {reason}')
    raise errors.BadRequest(f'container "{container}" in pod "{name}" is waiting to start - no logs yet')


def _strip_scheme(cid: str) -> str:
    return cid.split("://", 1)[-1]


def _since(query: Any) -> float | None:
    if query.get("sinceSeconds"):
        try:
            return time.time() - float(query["sinceSeconds"])
        except ValueError:
            raise errors.BadRequest("sinceSeconds must be a number") from None
    if query.get("sinceTime"):
        since = rfc3339.parse_epoch(query["sinceTime"])
        if since is None:
            raise errors.BadRequest("sinceTime must be an RFC 3339 time")
        return since
    return None


class KubeletServer:
    def __init__(self, rt: runtime.Runtime, *, find_pod: Callable[[str, str], Obj | None],
                 pod_status: Callable[[Obj], Obj], list_pods: Callable[[], list[Obj]], tls: ssl.SSLContext,
                 bind: str = "0.0.0.0", port: int = 10250, stats: stats_mod.StatsProvider | None = None) -> None:
        self.runtime = rt
        self.find_pod = find_pod
        self.pod_status = pod_status
        self.list_pods = list_pods
        self.tls = tls
        self.bind = bind
        self.port = port
        self.stats = stats
        self.runner: web.AppRunner | None = None

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._auth])
        app.router.add_get("/healthz", self.healthz)
        app.router.add_get("/pods", self.pods)
        app.router.add_get("/containerLogs/{namespace}/{pod}/{container}", self.container_logs)
        app.router.add_route("*", "/exec/{namespace}/{pod}/{container}", self.exec)
        app.router.add_route("*", "/attach/{namespace}/{pod}/{container}", self.attach)
        app.router.add_route("*", "/portForward/{namespace}/{pod}", self.port_forward)
        if self.stats is not None:
            stats_mod.add_routes(app, self.stats)
        return app

    @web.middleware
    async def _auth(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if request.path == "/healthz":
            return await handler(request)
        transport = request.transport
        who = servertls.caller(transport.get_extra_info("peercert") if transport is not None else None)
        if who is None:
            return status_response(errors.Unauthorized())
        if not who.allowed:
            return status_response(errors.Forbidden(
                f'user "{who.user}" may not use the kubelet API (only the API server\'s kubelet client '
                f"certificate and system:masters may)"))
        try:
            return await handler(request)
        except errors.StatusError as e:
            return status_response(e)

    async def start(self) -> None:
        # handler_cancellation: a client that goes away cancels its handler, which closes
        # the engine stream behind an idle `logs -f`.
        self.runner = web.AppRunner(self.app(), access_log=None, handle_signals=False, shutdown_timeout=1.0,
                                    handler_cancellation=True)
        await self.runner.setup()
        site = web.TCPSite(self.runner, self.bind, self.port, reuse_address=True, ssl_context=self.tls)
        await site.start()
        log.info("kubelet server listening on https://%s:%d", self.bind, self.port)

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None

    async def healthz(self, request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def pods(self, request: web.Request) -> web.Response:
        return web.json_response({"kind": "PodList", "apiVersion": "v1", "metadata": {},
                                  "items": self.list_pods()})

    def _pod_and_container(self, request: web.Request) -> tuple[Obj, str]:
        ns, name, container = (request.match_info[k] for k in ("namespace", "pod", "container"))
        pod = self.find_pod(ns, name)
        if pod is None:
            raise errors.NotFound("pods", name)
        if _spec_of(pod, container) is None:
            raise errors.BadRequest(f"container {container} is not valid for pod {name}")
        return pod, container

    async def container_logs(self, request: web.Request) -> web.StreamResponse:
        pod, container = self._pod_and_container(request)
        q = request.query
        cid = _strip_scheme(container_id_for_logs(pod, self.pod_status(pod), container, _truthy(q.get("previous"))))
        tail: int | None = None
        if q.get("tailLines"):
            try:
                tail = int(q["tailLines"])
            except ValueError:
                raise errors.BadRequest("tailLines must be an integer") from None
        limit = 0
        if q.get("limitBytes"):
            try:
                limit = int(q["limitBytes"])
            except ValueError:
                raise errors.BadRequest("limitBytes must be an integer") from None
        stream = self.runtime.logs(cid, follow=_truthy(q.get("follow")), tail=tail,
                                   timestamps=_truthy(q.get("timestamps")), since=_since(q))
        resp = web.StreamResponse(status=200, headers={"Content-Type": "text/plain"})
        resp.enable_chunked_encoding()
        sent = 0
        try:
            async for chunk in stream:
                if not resp.prepared:
                    await resp.prepare(request)
                if limit:
                    chunk = chunk[:max(limit - sent, 0)]
                if chunk:
                    await resp.write(chunk)
                    sent += len(chunk)
                if limit and sent >= limit:
                    break
        except runtime.RuntimeFailure as e:
            if not resp.prepared:
                raise errors.InternalError(e.message) from e
            log.info("log stream of %s ended: %s", cid[:12], e.message)
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            with contextlib.suppress(Exception):
                await stream.aclose()  # type: ignore[attr-defined]
        if not resp.prepared:
            await resp.prepare(request)
        with contextlib.suppress(ConnectionResetError):
            await resp.write_eof()
        return resp

    def _running_container(self, pod: Obj, container: str) -> str:
        status = self.pod_status(pod)
        cs = _status_of(status, container)
        if cs is None or "running" not in (cs.get("state") or {}):
            raise errors.BadRequest(f'unable to upgrade connection: container not found ("{container}")')
        return _strip_scheme(cs.get("containerID", ""))

    @staticmethod
    async def _upgrade(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(protocols=PROTOCOLS, max_msg_size=0)
        if not ws.can_prepare(request).ok:
            raise errors.BadRequest("Upgrade request required")
        await ws.prepare(request)
        return ws

    async def exec(self, request: web.Request) -> web.StreamResponse:
        pod, container = self._pod_and_container(request)
        q = request.query
        command = q.getall("command", [])
        if not command:
            raise errors.BadRequest("you must specify at least 1 command")
        cid = self._running_container(pod, container)
        ws = await self._upgrade(request)
        await relay_exec(ws, self.runtime, cid, command, stdin=_truthy(q.get("stdin")),
                         stdout=_truthy(q.get("stdout")) if "stdout" in q else True,
                         stderr=_truthy(q.get("stderr")), tty=_truthy(q.get("tty")))
        return ws

    async def attach(self, request: web.Request) -> web.StreamResponse:
        pod, container = self._pod_and_container(request)
        q = request.query
        spec = _spec_of(pod, container) or {}
        # A container without `stdin: true` has no stdin to attach to; what the
        # client sends is dropped, as the engine would.
        stdin = _truthy(q.get("stdin")) and bool(spec.get("stdin"))
        cid = self._running_container(pod, container)
        ws = await self._upgrade(request)
        try:
            session = await self.runtime.attach(cid, stdin=stdin, stdout=_truthy(q.get("stdout")),
                                                stderr=_truthy(q.get("stderr")), tty=_truthy(q.get("tty")))
        except runtime.RuntimeFailure as e:
            await _finish(ws, failure_status(f"error attaching to container: {e.message}"))
            return ws
        try:
            await relay_stdio(ws, session, cid, stdin=stdin, forward_stdin_close=bool(spec.get("stdinOnce")))
        finally:
            # Also when the handler is cancelled because the client's connection went.
            await asyncio.shield(session.close())
        await _finish(ws, {"metadata": {}, "status": "Success"})
        return ws

    async def port_forward(self, request: web.Request) -> web.StreamResponse:
        ns, name = request.match_info["namespace"], request.match_info["pod"]
        pod = self.find_pod(ns, name)
        if pod is None:
            raise errors.NotFound("pods", name)
        try:
            port = int(request.query.get("port", ""))
        except ValueError:
            raise errors.BadRequest("port must be a number") from None
        if not 0 < port < 65536:
            raise errors.BadRequest(f"port {port} must be > 0 and < 65536")
        ws = await self._upgrade(request)
        uid = pod["metadata"].get("uid", "")
        try:
            reader, writer = await self.runtime.port_forward(uid, port)
        except runtime.RuntimeFailure as e:
            with contextlib.suppress(ConnectionResetError, RuntimeError):
                await ws.send_bytes(bytes([ERROR]) + f"{e.message}".encode())
                await ws.close()
            return ws
        try:
            await relay_port(ws, reader, writer)
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
            with contextlib.suppress(Exception):
                await ws.close()
        return ws


async def relay_port(ws: web.WebSocketResponse, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copy between the websocket and the pod's socket.

    The client's end of sending is passed on as a half-close, and the pod's answer
    is still relayed after it. The pod's end of sending ends the connection, as
    with the real kubelet's runtimes: kubectl closes the local connection only once
    the whole forwarded connection is over (its error stream ends), and a client
    such as curl waits for that close after reading the response."""

    async def to_pod() -> None:
        async for msg in ws:
            if msg.type.name != "BINARY" or not msg.data:
                continue
            channel, data = msg.data[0], msg.data[1:]
            if channel == STDIN and data:
                writer.write(data)
                await writer.drain()
            elif channel == CLOSE and data[:1] == bytes([STDIN]):
                if writer.can_write_eof():
                    writer.write_eof()
                await asyncio.Event().wait()  # the pod's side decides when it is over
        raise ConnectionResetError("the API server went away")

    async def from_pod() -> None:
        while data := await reader.read(65536):
            await ws.send_bytes(bytes([STDOUT]) + data)
        await ws.send_bytes(bytes([CLOSE, STDOUT]))

    tasks = [asyncio.create_task(to_pod()), asyncio.create_task(from_pod())]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            if task.exception() is not None:
                log.info("port-forward connection ended: %r", task.exception())
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def relay_stdio(ws: web.WebSocketResponse, session: runtime.StdioSession, cid: str, *, stdin: bool,
                      forward_stdin_close: bool = True) -> None:
    """Speak the channel protocol on `ws` for `session` until its output ends.

    With `forward_stdin_close` (exec; attach to a `stdinOnce` container) the client's end
    of stdin is passed on to the engine, and the output is relayed until it ends. Without
    it (attach to any other container) the engine's stdin stays open, as containerd and
    the CRI do: Docker would otherwise end the attach's output at once (kubectl 1.33's
    `debug -i` sends the end of its stdin first), and the relay ends when the client goes
    away instead.
    """

    async def pump_in() -> None:
        async for msg in ws:
            if msg.type.name not in ("BINARY", "TEXT") or not msg.data:
                continue
            raw = msg.data.encode() if isinstance(msg.data, str) else msg.data
            channel, data = raw[0], raw[1:]
            if channel == STDIN and stdin:
                await session.write_stdin(data)
            elif channel == CLOSE and data[:1] == bytes([STDIN]):
                if forward_stdin_close:
                    await session.close_stdin()
            elif channel == RESIZE:
                with contextlib.suppress(ValueError, KeyError, TypeError):
                    size = json.loads(data)
                    await session.resize(int(size["Width"]), int(size["Height"]))
        # The client went away: nothing more will come on stdin.
        if forward_stdin_close:
            await session.close_stdin()

    async def pump_out() -> None:
        while (item := await session.read()) is not None:
            stream, data = item
            if data and not ws.closed:
                await ws.send_bytes(bytes([STDOUT if stream == 1 else STDERR]) + data)

    reader = asyncio.get_running_loop().create_task(pump_in())
    writer = asyncio.get_running_loop().create_task(pump_out())
    try:
        if forward_stdin_close:
            await writer
        else:
            await asyncio.wait({reader, writer}, return_when=asyncio.FIRST_COMPLETED)
            if writer.done():
                writer.result()
    finally:
        for task in (reader, writer):
            task.cancel()
        for task in (reader, writer):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


async def relay_exec(ws: web.WebSocketResponse, rt: runtime.Runtime, cid: str, command: list[str], *,
                     stdin: bool, stdout: bool, stderr: bool, tty: bool) -> None:
    """Run `command` in the container and speak the channel protocol on `ws` until it ends."""
    try:
        session = await rt.exec_stream(cid, command, stdin=stdin, tty=tty, stdout=stdout, stderr=stderr)
    except runtime.RuntimeFailure as e:
        await _finish(ws, failure_status(e.message))
        return
    try:
        await relay_stdio(ws, session, cid, stdin=stdin)
        code = await session.exit_code()
        await _finish(ws, exit_status(code, command))
    except (ConnectionResetError, runtime.RuntimeFailure) as e:
        log.info("exec in %s ended early: %r", cid[:12], e)
        await _finish(ws, failure_status(str(e)))
    finally:
        await session.close()


async def _finish(ws: web.WebSocketResponse, status: Obj) -> None:
    if ws.closed:
        return
    with contextlib.suppress(ConnectionResetError, RuntimeError):
        await ws.send_bytes(bytes([ERROR]) + json.dumps(status).encode())
        await ws.close()
