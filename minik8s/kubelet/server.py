"""The kubelet's HTTP server: container logs and exec, for the API server to forward to.

Paths are the real kubelet's (`/containerLogs/{ns}/{pod}/{container}`,
`/exec/{ns}/{pod}/{container}`, `/pods`, `/healthz`). Exec speaks the same
websocket channel protocol kubectl speaks to the API server (v5.channel.k8s.io:
binary frames whose first byte is the channel), so the API server only relays
frames.

Access: with a token configured, every request but /healthz must carry
`Authorization: Bearer <token>`; without one, only loopback peers are served
(a kubelet without a shared secret must not hand a shell to its whole network).
"""
from __future__ import annotations

import asyncio
import contextlib
import datetime
import hmac
import ipaddress
import json
import logging
import time
from typing import Any, Callable

from aiohttp import web

from minik8s.api import errors
from minik8s.kubelet import runtime
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


def _is_loopback(peer: str | None) -> bool:
    if not peer:
        return False
    try:
        return ipaddress.ip_address(peer).is_loopback
    except ValueError:
        return peer.startswith("/")  # a unix socket peer is local


def container_id_for_logs(pod: Obj, status: Obj, container: str, previous: bool) -> str:
    """Which engine container serves `kubectl logs` (validateContainerLogStatus)."""
    name = pod["metadata"]["name"]
    cs = next((c for c in status.get("containerStatuses") or [] if c.get("name") == container), None)
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
        try:
            return datetime.datetime.fromisoformat(query["sinceTime"].replace("Z", "+00:00")).timestamp()
        except ValueError:
            raise errors.BadRequest("sinceTime must be an RFC 3339 time") from None
    return None


class KubeletServer:
    def __init__(self, rt: runtime.Runtime, *, find_pod: Callable[[str, str], Obj | None],
                 pod_status: Callable[[Obj], Obj], list_pods: Callable[[], list[Obj]], token: str = "",
                 bind: str = "0.0.0.0", port: int = 10250, stats: stats_mod.StatsProvider | None = None) -> None:
        self.runtime = rt
        self.find_pod = find_pod
        self.pod_status = pod_status
        self.list_pods = list_pods
        self.token = token
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
        if self.stats is not None:
            stats_mod.add_routes(app, self.stats)
        return app

    @web.middleware
    async def _auth(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if request.path == "/healthz":
            return await handler(request)
        if self.token:
            header = request.headers.get("Authorization", "")
            if not hmac.compare_digest(header.encode(), f"Bearer {self.token}".encode()):
                return status_response(errors.Unauthorized())
        elif not _is_loopback(request.remote):
            return status_response(errors.Forbidden(
                "this kubelet has no token configured and serves loopback clients only"))
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
        site = web.TCPSite(self.runner, self.bind, self.port, reuse_address=True)
        await site.start()
        log.info("kubelet server listening on %s:%d (%s)", self.bind, self.port,
                 "token required" if self.token else "loopback only, no token")

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
        names = [c["name"] for c in (pod.get("spec") or {}).get("containers") or []]
        if container not in names:
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

    async def exec(self, request: web.Request) -> web.StreamResponse:
        pod, container = self._pod_and_container(request)
        q = request.query
        command = q.getall("command", [])
        if not command:
            raise errors.BadRequest("you must specify at least 1 command")
        status = self.pod_status(pod)
        cs = next((c for c in status.get("containerStatuses") or [] if c.get("name") == container), None)
        if cs is None or "running" not in (cs.get("state") or {}):
            raise errors.BadRequest(f'unable to upgrade connection: container not found ("{container}")')
        cid = _strip_scheme(cs.get("containerID", ""))
        ws = web.WebSocketResponse(protocols=PROTOCOLS, max_msg_size=0)
        if not ws.can_prepare(request).ok:
            raise errors.BadRequest("Upgrade request required")
        await ws.prepare(request)
        await relay_exec(ws, self.runtime, cid, command, stdin=_truthy(q.get("stdin")),
                         stdout=_truthy(q.get("stdout")) if "stdout" in q else True,
                         stderr=_truthy(q.get("stderr")), tty=_truthy(q.get("tty")))
        return ws


async def relay_exec(ws: web.WebSocketResponse, rt: runtime.Runtime, cid: str, command: list[str], *,
                     stdin: bool, stdout: bool, stderr: bool, tty: bool) -> None:
    """Run `command` in the container and speak the channel protocol on `ws` until it ends."""
    try:
        session = await rt.exec_stream(cid, command, stdin=stdin, tty=tty, stdout=stdout, stderr=stderr)
    except runtime.RuntimeFailure as e:
        await _finish(ws, failure_status(e.message))
        return

    async def pump_in() -> None:
        async for msg in ws:
            if msg.type.name != "BINARY" or not msg.data:
                continue
            channel, data = msg.data[0], msg.data[1:]
            if channel == STDIN and stdin:
                await session.write_stdin(data)
            elif channel == CLOSE and data[:1] == bytes([STDIN]):
                await session.close_stdin()
            elif channel == RESIZE:
                with contextlib.suppress(ValueError, KeyError, TypeError):
                    size = json.loads(data)
                    await session.resize(int(size["Width"]), int(size["Height"]))
        # The client went away: nothing more will come on stdin.
        await session.close_stdin()

    reader = asyncio.get_running_loop().create_task(pump_in())
    try:
        while (item := await session.read()) is not None:
            stream, data = item
            if data and not ws.closed:
                await ws.send_bytes(bytes([STDOUT if stream == 1 else STDERR]) + data)
        code = await session.exit_code()
        await _finish(ws, exit_status(code, command))
    except (ConnectionResetError, runtime.RuntimeFailure) as e:
        log.info("exec in %s ended early: %r", cid[:12], e)
        await _finish(ws, failure_status(str(e)))
    finally:
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await reader
        await session.close()


async def _finish(ws: web.WebSocketResponse, status: Obj) -> None:
    if ws.closed:
        return
    with contextlib.suppress(ConnectionResetError, RuntimeError):
        await ws.send_bytes(bytes([ERROR]) + json.dumps(status).encode())
        await ws.close()
