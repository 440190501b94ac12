"""A recording in-memory Runtime for unit tests (as kubecontainer/testing's FakeRuntime).

It keeps containers as the engine would (state, labels, times, the sandbox's
IP) and appends every mutating call to `calls`, so a test drives sync_pod and
asserts on what the engine was asked to do. Tests change the world with
`exit()` (a container died) and inject failures with `pull_errors` and
`fail_next`. Port-forward connects to a loopback port the test names in
`forwarded_ports` ((pod uid, pod port) -> local port); attach replays
`attach_output` and records what was written to stdin.
"""
from __future__ import annotations

import asyncio
import dataclasses
import itertools
from typing import Any, AsyncIterator, Callable

from minik8s.kubelet import runtime


@dataclasses.dataclass
class FakeContainer:
    id: str
    name: str  # engine name
    labels: dict[str, str]
    image: str
    state: str = runtime.CREATED
    created_at: float = 0.0
    started_at: float = 0.0
    finished_at: float = 0.0
    exit_code: int = 0
    reason: str = ""
    ip: str = ""
    config: Any = None
    logs: bytes = b""


class FakeRuntime:
    def __init__(self, node: str = "fake-node", *, images: tuple[str, ...] = (
            "minik8s/pause:3.9", "minik8s/busybox:1", "minik8s/web:1"),
                 clock: Callable[[], float] = lambda: 1000.0) -> None:
        self.node = node
        self.clock = clock
        self.containers: dict[str, FakeContainer] = {}
        self.images: dict[str, runtime.ImageInfo] = {i: runtime.ImageInfo(f"sha256:{abs(hash(i)):x}") for i in images}
        self.pull_errors: dict[str, str] = {}
        self.pullable: set[str] = set()
        self.fail_next: dict[str, runtime.RuntimeFailure] = {}
        self.calls: list[tuple[Any, ...]] = []
        self.network_error = ""  # what network_status() says ("" = ready)
        self.exec_results: dict[tuple[str, ...], runtime.ExecResult] = {}
        self.forwarded_ports: dict[tuple[str, int], int] = {}
        self.attach_output: dict[str, bytes] = {}
        self.attached: list[FakeExecSession] = []
        self.alive = True
        self._ids = itertools.count(1)
        self._ips = itertools.count(2)

    # -- test helpers --------------------------------------------------------------------------

    def exit(self, cid: str, code: int, *, at: float | None = None, reason: str = "") -> None:
        c = self.containers[cid]
        c.state = runtime.EXITED
        c.exit_code = code
        c.finished_at = self.clock() if at is None else at
        c.reason = reason or ("Completed" if code == 0 else "Error")

    def find(self, uid: str, name: str, state: str | None = None) -> list[FakeContainer]:
        """Containers of a pod by spec name ("POD" for sandboxes), newest first."""
        found = [c for c in self.containers.values()
                 if c.labels.get(runtime.POD_UID) == uid and c.labels.get(runtime.CONTAINER_NAME) == name
                 and (state is None or c.state == state)]
        return sorted(found, key=lambda c: c.created_at, reverse=True)

    def calls_of(self, method: str) -> list[tuple[Any, ...]]:
        return [c for c in self.calls if c[0] == method]

    def _maybe_fail(self, method: str) -> None:
        err = self.fail_next.pop(method, None)
        if err is not None:
            raise err

    def _status(self, c: FakeContainer) -> runtime.ContainerStatus:
        is_sandbox = c.labels.get(runtime.CONTAINER_TYPE) == runtime.TYPE_SANDBOX
        attempt = int(c.labels.get(runtime.ATTEMPT if is_sandbox else runtime.RESTART_COUNT, "0"))
        image = self.images.get(c.image)
        return runtime.ContainerStatus(
            id=c.id, name=c.labels.get(runtime.CONTAINER_NAME, ""), pod_uid=c.labels.get(runtime.POD_UID, ""),
            pod_name=c.labels.get(runtime.POD_NAME, ""), pod_namespace=c.labels.get(runtime.POD_NAMESPACE, ""),
            is_sandbox=is_sandbox, state=c.state, attempt=attempt, hash=c.labels.get(runtime.CONTAINER_HASH, ""),
            image=c.image, image_id=image.id if image else "", created_at=c.created_at, started_at=c.started_at,
            finished_at=c.finished_at, exit_code=c.exit_code, reason=c.reason, ip=c.ip, labels=dict(c.labels))

    # -- Runtime ---------------------------------------------------------------------------------

    async def version(self) -> runtime.RuntimeVersion:
        return runtime.RuntimeVersion("docker", "20.10.24-fake", "1.41")

    async def ping(self) -> bool:
        return self.alive

    async def network_status(self) -> str:
        return self.network_error

    async def gc_network(self, check: bool = False) -> list[str]:
        self.calls.append(("gc_network", check))
        return []

    async def list_containers(self) -> list[runtime.ContainerStatus]:
        return [self._status(c) for c in self.containers.values() if c.labels.get(runtime.NODE) == self.node]

    async def pod_status(self, uid: str) -> runtime.PodRuntimeStatus:
        mine = [self._status(c) for c in self.containers.values()
                if c.labels.get(runtime.POD_UID) == uid and c.labels.get(runtime.NODE) == self.node]
        key = lambda s: (s.attempt, s.created_at)  # noqa: E731
        sandboxes = sorted((s for s in mine if s.is_sandbox), key=key, reverse=True)
        containers = sorted((s for s in mine if not s.is_sandbox), key=key, reverse=True)
        first = mine[0] if mine else None
        return runtime.PodRuntimeStatus(uid, first.pod_name if first else "", first.pod_namespace if first else "",
                                        tuple(sandboxes), tuple(containers))

    def _new_id(self) -> str:
        return f"c{next(self._ids):04d}"

    def _tick(self) -> float:
        # Creation order must be visible even under a frozen clock.
        return self.clock() + next(self._ids) * 1e-6

    async def run_sandbox(self, config: runtime.SandboxConfig) -> runtime.ContainerStatus:
        if self.network_error and config.network != "host":
            raise runtime.RuntimeFailure("NetworkNotReady", f"network is not ready: {self.network_error}")
        self._maybe_fail("run_sandbox")
        self.calls.append(("run_sandbox", config.pod_name, config.attempt))
        cid = self._new_id()
        c = FakeContainer(cid, runtime.container_name("POD", config.pod_name, config.pod_namespace, config.pod_uid,
                                                      config.attempt),
                          dict(config.labels), "minik8s/pause:3.9", runtime.RUNNING, created_at=self._tick(),
                          started_at=self.clock(), ip="" if config.network == "host" else f"10.244.0.{next(self._ips)}",
                          config=config)
        self.containers[cid] = c
        return self._status(c)

    async def create_container(self, config: runtime.ContainerConfig) -> str:
        self._maybe_fail("create_container")
        if config.image not in self.images:
            raise runtime.ImageNotFound(config.image)
        name = config.labels.get(runtime.CONTAINER_NAME, "")
        self.calls.append(("create_container", name, int(config.labels.get(runtime.RESTART_COUNT, "0"))))
        cid = self._new_id()
        self.containers[cid] = FakeContainer(cid, config.name, dict(config.labels), config.image,
                                             created_at=self._tick(), config=config)
        return cid

    async def start_container(self, container_id: str) -> None:
        self._maybe_fail("start_container")
        self.calls.append(("start_container", container_id))
        c = self.containers[container_id]
        c.state = runtime.RUNNING
        c.started_at = self.clock()

    async def stop_container(self, container_id: str, grace: int) -> None:
        self.calls.append(("stop_container", container_id, grace))
        c = self.containers.get(container_id)
        if c is not None and c.state != runtime.EXITED:
            self.exit(container_id, 137 if c.labels.get(runtime.CONTAINER_TYPE) != runtime.TYPE_SANDBOX else 0)

    async def stop_sandbox(self, sandbox_id: str, grace: int) -> None:
        self.calls.append(("stop_sandbox", sandbox_id, grace))
        c = self.containers.get(sandbox_id)
        if c is not None:
            c.ip = ""  # the network is torn down first
            if c.state != runtime.EXITED:
                self.exit(sandbox_id, 0)

    async def remove_sandbox(self, sandbox_id: str) -> None:
        self.calls.append(("remove_sandbox", sandbox_id))
        self.containers.pop(sandbox_id, None)

    async def remove_container(self, container_id: str) -> None:
        self.calls.append(("remove_container", container_id))
        self.containers.pop(container_id, None)

    async def inspect_image(self, image: str) -> runtime.ImageInfo | None:
        return self.images.get(image)

    async def pull_image(self, image: str) -> runtime.ImageInfo:
        self.calls.append(("pull_image", image))
        if image in self.pull_errors:
            raise runtime.RuntimeFailure("ErrImagePull", self.pull_errors[image])
        if image not in self.pullable and image not in self.images:
            raise runtime.RuntimeFailure("ErrImagePull", f"pull access denied for {image}")
        info = self.images[image] = runtime.ImageInfo(f"sha256:{abs(hash(image)):x}")
        return info

    async def list_images(self) -> list[dict[str, Any]]:
        return [{"RepoTags": [name], "RepoDigests": [], "Size": 1000} for name in self.images]

    async def exec_sync(self, container_id: str, command: list[str], timeout: float) -> runtime.ExecResult:
        self.calls.append(("exec_sync", container_id, tuple(command)))
        return self.exec_results.get(tuple(command), runtime.ExecResult(0, b""))

    async def exec_stream(self, container_id: str, command: list[str], *, stdin: bool, tty: bool,
                          stdout: bool = True, stderr: bool = True) -> "FakeExecSession":
        self.calls.append(("exec_stream", container_id, tuple(command)))
        result = self.exec_results.get(tuple(command), runtime.ExecResult(0, b""))
        return FakeExecSession(result, stdin=stdin)

    async def attach(self, container_id: str, *, stdin: bool, stdout: bool, stderr: bool,
                     tty: bool) -> "FakeExecSession":
        self.calls.append(("attach", container_id, stdin, stdout, stderr, tty))
        if container_id not in self.containers or self.containers[container_id].state != runtime.RUNNING:
            raise runtime.RuntimeFailure("AttachError", f"container {container_id} is not running")
        session = FakeExecSession(runtime.ExecResult(0, self.attach_output.get(container_id, b"")), stdin=stdin)
        self.attached.append(session)
        return session

    async def port_forward(self, pod_uid: str, port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        self.calls.append(("port_forward", pod_uid, port))
        target = self.forwarded_ports.get((pod_uid, port))
        if target is None:
            raise runtime.RuntimeFailure("PortForwardError", f"failed to connect to localhost:{port} inside "
                                                             f"the pod's network namespace: Connection refused")
        return await asyncio.open_connection("127.0.0.1", target)

    async def logs(self, container_id: str, *, follow: bool, tail: int | None, timestamps: bool,
                   since: float | None) -> AsyncIterator[bytes]:
        c = self.containers.get(container_id)
        data = c.logs if c is not None else b""
        lines = data.splitlines(keepends=True)
        if tail is not None:
            lines = lines[-tail:] if tail else []
        for line in lines:
            yield line

    async def watch_events(self, on_event: Callable[[str, dict[str, str]], None]) -> None:
        await asyncio.Event().wait()

    async def close(self) -> None:
        return None


class FakeExecSession:
    """Prints the result's output; with stdin, then echoes stdin back (like `cat`) until it closes."""

    def __init__(self, result: runtime.ExecResult, *, stdin: bool = False) -> None:
        self.result = result
        self.stdin = bytearray()
        self.stdin_closed = False
        self.resizes: list[tuple[int, int]] = []
        self._echo = stdin
        self._pending: asyncio.Queue[bytes | None] = asyncio.Queue()
        self._sent = False
        self.closed = False

    async def write_stdin(self, data: bytes) -> None:
        self.stdin += data
        await self._pending.put(data)

    async def close_stdin(self) -> None:
        if not self.stdin_closed:
            self.stdin_closed = True
            await self._pending.put(None)

    async def read(self) -> tuple[int, bytes] | None:
        if not self._sent:
            self._sent = True
            if self.result.output:
                return 1, self.result.output
        if not self._echo:
            return None
        data = await self._pending.get()
        return None if data is None else (1, data)

    async def resize(self, width: int, height: int) -> None:
        self.resizes.append((width, height))

    async def exit_code(self) -> int:
        return self.result.exit_code

    async def close(self) -> None:
        self.closed = True
