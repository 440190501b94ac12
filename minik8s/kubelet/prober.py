"""Liveness, readiness and startup probes (Kubernetes' prober manager and workers).

Handlers: httpGet (2xx/3xx, headers, scheme), tcpSocket (a connect), exec (exit 0)
and grpc (the gRPC health protocol answers SERVING).

One worker task per (pod, container, probe kind) probes every periodSeconds
once the container runs and initialDelaySeconds have passed since it started.
A result only counts after successThreshold / failureThreshold equal results
in a row. Results are kept per container *instance* (its id), so a restarted
container starts over: not ready, alive, not started. A changed result calls
`on_change(pod uid)`, which makes the pod worker sync: readiness flows into
the pod's Ready condition, a failed liveness or startup probe gets the
container killed and restarted by sync_pod.
"""
from __future__ import annotations

import asyncio
import dataclasses
import logging
import random
import time
from typing import Any, Callable

import aiohttp

from minik8s.kubelet import runtime

log = logging.getLogger(__name__)

Obj = dict[str, Any]

LIVENESS = "liveness"
READINESS = "readiness"
STARTUP = "startup"
KINDS = (LIVENESS, READINESS, STARTUP)

RecordFn = Callable[[Obj, str, str, str, str], None]  # pod, type, reason, message, fieldPath


@dataclasses.dataclass(frozen=True)
class ContainerRef:
    id: str
    running: bool
    started_at: float


def _title(kind: str) -> str:
    return kind.capitalize()


def resolve_port(port: Any, container: Obj) -> int:
    """A probe's port: a number, or the name of one of the container's ports."""
    if isinstance(port, int):
        return port
    text = str(port)
    if text.isdigit():
        return int(text)
    for p in container.get("ports") or []:
        if p.get("name") == text:
            return int(p["containerPort"])
    raise ValueError(f"port {text!r} not found in the container's ports")


class ProberManager:
    def __init__(self, rt: runtime.Runtime, on_change: Callable[[str], None], record: RecordFn,
                 *, clock: Callable[[], float] = time.time) -> None:
        self.runtime = rt
        self.on_change = on_change
        self.record = record
        self.clock = clock
        self._workers: dict[tuple[str, str, str], _Worker] = {}
        self._containers: dict[tuple[str, str], ContainerRef] = {}
        self._pod_ip: dict[str, str] = {}
        self._pods: dict[str, Obj] = {}
        # (kind, container id) -> result; absent means the initial value.
        self._results: dict[tuple[str, str], bool] = {}
        self._session: aiohttp.ClientSession | None = None
        self.started_at = clock()

    # -- what sync_pod and status ask -----------------------------------------------------------

    def _has(self, uid: str, name: str, kind: str) -> bool:
        return (uid, name, kind) in self._workers

    def ready(self, uid: str, name: str, cid: str) -> bool:
        if not self._has(uid, name, READINESS):
            return True
        return self._results.get((READINESS, cid), False)

    def started(self, uid: str, name: str, cid: str) -> bool:
        if not self._has(uid, name, STARTUP):
            return True
        return self._results.get((STARTUP, cid), False)

    def failed(self, uid: str, name: str, cid: str) -> str | None:
        """"liveness" or "startup" when that probe failed for this container instance."""
        if self._results.get((LIVENESS, cid)) is False:
            return LIVENESS
        # Absent is "not started yet"; an explicit False is a failure past the threshold.
        if self._has(uid, name, STARTUP) and self._results.get((STARTUP, cid)) is False:
            return STARTUP
        return None

    # -- bookkeeping --------------------------------------------------------------------------

    def update_pod(self, pod: Obj, rs: runtime.PodRuntimeStatus) -> None:
        """Tell the prober what runs now; start workers for new probes, wake the ones whose
        container changed."""
        uid = pod["metadata"]["uid"]
        self._pods[uid] = pod
        sandbox = rs.running_sandbox()
        self._pod_ip[uid] = sandbox.ip if sandbox is not None else ""
        spec = pod.get("spec") or {}
        # Sidecars (restartable init containers) are probed like app containers.
        sidecars = [c for c in spec.get("initContainers") or [] if c.get("restartPolicy") == "Always"]
        for c in [*(spec.get("containers") or []), *sidecars]:
            name = c["name"]
            latest = rs.latest(name)
            ref = ContainerRef(latest.id, latest.state == runtime.RUNNING, latest.started_at) \
                if latest is not None else ContainerRef("", False, 0.0)
            old = self._containers.get((uid, name))
            self._containers[(uid, name)] = ref
            for kind in KINDS:
                probe = c.get(f"{kind}Probe")
                if not probe:
                    continue
                key = (uid, name, kind)
                worker = self._workers.get(key)
                if worker is None:
                    worker = self._workers[key] = _Worker(self, uid, name, kind, probe, c)
                    worker.start()
                elif ref.running and (old is None or old.id != ref.id or not old.running):
                    worker.trigger.set()

    def remove_pod(self, uid: str) -> None:
        for key in [k for k in self._workers if k[0] == uid]:
            self._workers.pop(key).stop()
        for container in [k for k in self._containers if k[0] == uid]:
            ref = self._containers.pop(container)
            for kind in KINDS:
                self._results.pop((kind, ref.id), None)
        self._pod_ip.pop(uid, None)
        self._pods.pop(uid, None)

    def container(self, uid: str, name: str) -> ContainerRef | None:
        return self._containers.get((uid, name))

    def pod(self, uid: str) -> Obj | None:
        return self._pods.get(uid)

    def pod_ip(self, uid: str) -> str:
        return self._pod_ip.get(uid, "")

    def set_result(self, kind: str, cid: str, ok: bool) -> bool:
        """Store a result; True if it differs from what was there."""
        key = (kind, cid)
        before = self._results.get(key)
        self._results[key] = ok
        return before != ok

    def reset(self, kind: str, cid: str) -> None:
        self._results.pop((kind, cid), None)

    def http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True))
        return self._session

    async def stop(self) -> None:
        for worker in self._workers.values():
            worker.stop()
        tasks = [w.task for w in self._workers.values() if w.task is not None]
        await asyncio.gather(*tasks, return_exceptions=True)
        self._workers.clear()
        if self._session is not None:
            await self._session.close()

    # -- probing ----------------------------------------------------------------------------------

    async def run_probe(self, probe: Obj, container: Obj, pod_ip: str, cid: str) -> tuple[bool, str]:
        timeout = float(probe.get("timeoutSeconds") or 1)
        try:
            if probe.get("exec"):
                command = [str(c) for c in (probe["exec"].get("command") or [])]
                try:
                    result = await asyncio.wait_for(self.runtime.exec_sync(cid, command, timeout), timeout + 1)
                except asyncio.TimeoutError:
                    return False, f"command {command} timed out"
                output = result.output.decode(errors="replace").strip()
                if result.exit_code == 0:
                    return True, output
                return False, output or f"command {command} exited with {result.exit_code}"
            if probe.get("httpGet"):
                return await self._http_probe(probe["httpGet"], container, pod_ip, timeout)
            if probe.get("tcpSocket"):
                spec = probe["tcpSocket"]
                host = spec.get("host") or pod_ip
                port = resolve_port(spec.get("port"), container)
                try:
                    _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
                except (OSError, asyncio.TimeoutError) as e:
                    return False, f"dial tcp {host}:{port}: {_reason(e)}"
                writer.close()
                return True, ""
            if probe.get("grpc"):
                return await grpc_probe(probe["grpc"], pod_ip, timeout)
            return False, "probe has no handler"
        except ValueError as e:
            return False, str(e)
        except runtime.RuntimeFailure as e:
            return False, e.message

    async def _http_probe(self, spec: Obj, container: Obj, pod_ip: str, timeout: float) -> tuple[bool, str]:
        host = spec.get("host") or pod_ip
        port = resolve_port(spec.get("port"), container)
        scheme = (spec.get("scheme") or "HTTP").lower()
        path = spec.get("path") or "/"
        if not path.startswith("/"):
            path = "/" + path
        url = f"{scheme}://{host}:{port}{path}"
        headers = {"User-Agent": "kube-probe/1.32"}
        for h in spec.get("httpHeaders") or []:
            headers[h.get("name", "")] = h.get("value", "")
        try:
            async with self.http().get(url, headers=headers, ssl=False,
                                       timeout=aiohttp.ClientTimeout(total=timeout)) as resp:
                await resp.read()
                if 200 <= resp.status < 400:
                    return True, ""
                return False, f"HTTP probe failed with statuscode: {resp.status}"
        except asyncio.TimeoutError:
            return False, f'Get "{url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)'
        except aiohttp.ClientError as e:
            return False, f'Get "{url}": {_reason(e)}'


_SERVING_STATUS = {0: "UNKNOWN", 1: "SERVING", 2: "NOT_SERVING", 3: "SERVICE_UNKNOWN"}


def _health_request(service: str) -> bytes:
    """grpc.health.v1.HealthCheckRequest{service}: field 1, length-delimited."""
    data = service.encode()
    length = len(data)
    prefix = bytearray()
    while True:
        byte = length & 0x7F
        length >>= 7
        prefix.append(byte | (0x80 if length else 0))
        if not length:
            break
    return (b"\x0a" + bytes(prefix) + data) if data else b""


def _health_status(body: bytes) -> int:
    """HealthCheckResponse.status (field 1, a varint); absent is UNKNOWN (0)."""
    i, status = 0, 0
    while i < len(body):
        key = body[i]
        i += 1
        if key == 0x08:
            shift = status = 0
            while i < len(body):
                byte = body[i]
                i += 1
                status |= (byte & 0x7F) << shift
                shift += 7
                if not byte & 0x80:
                    break
        else:
            break
    return status


async def grpc_probe(spec: Obj, pod_ip: str, timeout: float) -> tuple[bool, str]:
    """The gRPC health checking protocol (grpc.health.v1.Health/Check), as the kubelet's
    grpc prober: success only for SERVING."""
    import grpc

    port = int(spec.get("port") or 0)
    service = str(spec.get("service") or "")
    target = f"{pod_ip}:{port}"
    async with grpc.aio.insecure_channel(target) as channel:
        check = channel.unary_unary("/grpc.health.v1.Health/Check", request_serializer=lambda b: b,
                                    response_deserializer=lambda b: b)
        try:
            body = await check(_health_request(service), timeout=timeout)
        except grpc.aio.AioRpcError as e:
            if e.code() == grpc.StatusCode.DEADLINE_EXCEEDED:
                return False, f'timeout: health rpc did not complete within {timeout:g}s'
            if e.code() == grpc.StatusCode.UNAVAILABLE:
                return False, f'timeout: failed to connect service "{target}" within {timeout:g}s'
            return False, f"error: health rpc probe failed: {e.details()}"
    status = _health_status(body)
    if status != 1:
        return False, f'service unhealthy (responded with "{_SERVING_STATUS.get(status, str(status))}")'
    return True, ""


def _reason(e: BaseException) -> str:
    if isinstance(e, asyncio.TimeoutError):
        return "i/o timeout"
    if isinstance(e, ConnectionRefusedError) or "refused" in str(e).lower():
        return "connect: connection refused"
    return str(e) or type(e).__name__


class _Worker:
    def __init__(self, mgr: ProberManager, uid: str, name: str, kind: str, probe: Obj, container: Obj) -> None:
        self.mgr = mgr
        self.uid = uid
        self.name = name
        self.kind = kind
        self.probe = probe
        self.container = container
        self.trigger = asyncio.Event()
        self.task: asyncio.Task[None] | None = None
        self.container_id = ""
        self.last_result: bool | None = None
        self.result_run = 0
        self.on_hold = False

    def start(self) -> None:
        self.task = asyncio.get_running_loop().create_task(self.run(), name=f"probe-{self.kind}-{self.name}")

    def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()

    async def run(self) -> None:
        period = float(self.probe.get("periodSeconds") or 10)
        # Probes of many pods adopted at once by a restarted kubelet are spread over a period.
        if self.mgr.clock() - self.mgr.started_at < period:
            try:
                await asyncio.wait_for(self.trigger.wait(), random.random() * period)
            except asyncio.TimeoutError:
                pass
        while True:
            self.trigger.clear()
            try:
                await self.do_probe()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("%s probe of %s in pod %s failed unexpectedly", self.kind, self.name, self.uid)
            try:
                await asyncio.wait_for(self.trigger.wait(), period)
            except asyncio.TimeoutError:
                pass

    async def do_probe(self) -> None:
        mgr = self.mgr
        ref = mgr.container(self.uid, self.name)
        if ref is None or not ref.running:
            if self.container_id:
                mgr.reset(self.kind, self.container_id)
            self.container_id = ""
            return
        if ref.id != self.container_id:
            if self.container_id:
                mgr.reset(self.kind, self.container_id)
            self.container_id = ref.id
            self.last_result, self.result_run, self.on_hold = None, 0, False
            mgr.reset(self.kind, ref.id)
        if self.on_hold:
            return
        if self.kind != STARTUP and not mgr.started(self.uid, self.name, ref.id):
            return
        if self.kind == STARTUP and mgr.started(self.uid, self.name, ref.id):
            return
        if mgr.clock() - ref.started_at < float(self.probe.get("initialDelaySeconds") or 0):
            return
        ok, message = await mgr.run_probe(self.probe, self.container, mgr.pod_ip(self.uid), ref.id)
        pod = mgr.pod(self.uid)
        if not ok and pod is not None:
            mgr.record(pod, "Warning", "Unhealthy", f"{_title(self.kind)} probe failed: {message}",
                       f"spec.containers{{{self.name}}}")
        if ok == self.last_result:
            self.result_run += 1
        else:
            self.last_result, self.result_run = ok, 1
        threshold = int(self.probe.get("successThreshold") or 1) if ok else \
            int(self.probe.get("failureThreshold") or 3)
        if self.result_run < threshold:
            return
        changed = mgr.set_result(self.kind, ref.id, ok)
        if not ok and self.kind in (LIVENESS, STARTUP):
            # Kubernetes stops probing a container it is about to restart.
            self.on_hold = True
            self.result_run = 0
        if changed:
            mgr.on_change(self.uid)
