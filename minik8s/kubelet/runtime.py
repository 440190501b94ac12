"""The seam between the kubelet and a container engine: records and a Protocol.

The kubelet's logic (sync_pod, status, probes) sees containers only through
`Runtime`; the Docker implementation lives in dockerruntime.py and a recording
fake for unit tests in fakeruntime.py. Everything the kubelet must remember
across its own restarts is written onto the containers as labels (pod uid,
container name, a hash of the container's spec, its restart count), as
dockershim did, so a new kubelet process reconstructs its state by listing.
"""
from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import re
from typing import Any, AsyncIterator, Awaitable, Callable, Protocol

import orjson

# Labels (dockershim's names where it had one).
POD_NAME = "io.kubernetes.pod.name"
POD_NAMESPACE = "io.kubernetes.pod.namespace"
POD_UID = "io.kubernetes.pod.uid"
CONTAINER_NAME = "io.kubernetes.container.name"
CONTAINER_TYPE = "io.kubernetes.docker.type"
CONTAINER_HASH = "io.kubernetes.container.hash"
RESTART_COUNT = "io.kubernetes.container.restartCount"
SANDBOX_ID = "io.kubernetes.sandbox.id"
GRACE_PERIOD = "io.kubernetes.pod.terminationGracePeriod"
# minik8s's own: which kubelet owns the container (several kubelets may share
# one engine in tests), and the sandbox's attempt number.
NODE = "io.minik8s.node"
ATTEMPT = "io.minik8s.attempt"

TYPE_SANDBOX = "podsandbox"
TYPE_CONTAINER = "container"
SANDBOX_CONTAINER_NAME = "POD"

# Container states, as kubecontainer.State.
CREATED = "created"
RUNNING = "running"
EXITED = "exited"
UNKNOWN = "unknown"


class RuntimeFailure(Exception):
    """A runtime call failed; `reason` is the Kubernetes waiting reason it maps to."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


class ImageNotFound(RuntimeFailure):
    def __init__(self, image: str) -> None:
        super().__init__("ErrImageNeverPull", f'Container image "{image}" is not present')


class NameConflict(RuntimeFailure):
    def __init__(self, message: str) -> None:
        super().__init__("CreateContainerError", message)


@dataclasses.dataclass(frozen=True)
class ContainerStatus:
    """The engine's view of one container instance (a sandbox or an app container)."""

    id: str
    name: str  # container name in the pod spec, or "POD" for the sandbox
    pod_uid: str
    pod_name: str
    pod_namespace: str
    is_sandbox: bool
    state: str  # CREATED, RUNNING, EXITED, UNKNOWN
    attempt: int  # restart count (app containers) or sandbox attempt
    hash: str = ""
    image: str = ""  # the image as the spec named it
    image_id: str = ""
    created_at: float = 0.0
    started_at: float = 0.0  # epoch seconds; 0 when never started
    finished_at: float = 0.0
    exit_code: int = 0
    reason: str = ""  # Completed, Error, OOMKilled for exited containers
    message: str = ""
    ip: str = ""  # sandboxes only: the pod IP
    labels: dict[str, str] = dataclasses.field(default_factory=dict, compare=False)


@dataclasses.dataclass(frozen=True)
class PodRuntimeStatus:
    """Everything the engine holds for one pod, newest instance first in each list."""

    uid: str
    name: str = ""
    namespace: str = ""
    sandboxes: tuple[ContainerStatus, ...] = ()
    containers: tuple[ContainerStatus, ...] = ()

    def latest(self, name: str) -> ContainerStatus | None:
        """The newest instance of the container `name` (kubecontainer's FindContainerStatusByName)."""
        for c in self.containers:
            if c.name == name:
                return c
        return None

    def instances(self, name: str) -> list[ContainerStatus]:
        return [c for c in self.containers if c.name == name]

    def running_sandbox(self) -> ContainerStatus | None:
        for s in self.sandboxes:
            if s.state == RUNNING:
                return s
        return None


@dataclasses.dataclass(frozen=True)
class PortBinding:
    container_port: int
    protocol: str  # TCP, UDP, SCTP
    host_port: int
    host_ip: str = ""


@dataclasses.dataclass(frozen=True)
class SandboxConfig:
    pod_uid: str
    pod_name: str
    pod_namespace: str
    attempt: int
    hostname: str
    network: str  # "host" for hostNetwork pods; anything else means the CNI pod network
    labels: dict[str, str]
    ports: tuple[PortBinding, ...] = ()
    extra_hosts: tuple[tuple[str, str], ...] = ()
    dns: tuple[str, ...] = ()
    dns_search: tuple[str, ...] = ()
    dns_options: tuple[str, ...] = ()
    sysctls: dict[str, str] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Mount:
    host_path: str
    container_path: str
    read_only: bool = False


@dataclasses.dataclass(frozen=True)
class ContainerConfig:
    """What to create for one app container: the pod spec translated for the engine."""

    name: str  # the engine's container name (k8s_<c>_<pod>_<ns>_<uid>_<attempt>)
    image: str
    labels: dict[str, str]
    sandbox_id: str
    command: tuple[str, ...] | None = None  # entrypoint; None keeps the image's
    args: tuple[str, ...] | None = None  # cmd; None keeps the image's (when command is None too)
    working_dir: str = ""
    env: tuple[tuple[str, str], ...] = ()
    mounts: tuple[Mount, ...] = ()
    cpu_shares: int = 0
    cpu_quota: int = 0
    cpu_period: int = 0
    memory_limit: int = 0
    stdin: bool = False
    stdin_once: bool = False
    tty: bool = False
    privileged: bool = False
    user: str = ""
    cap_add: tuple[str, ...] = ()
    cap_drop: tuple[str, ...] = ()
    read_only_rootfs: bool = False
    share_pid: bool = False
    # Another container's process namespace to join (an ephemeral container's target).
    pid_target: str = ""
    oom_score_adj: int | None = None


@dataclasses.dataclass(frozen=True)
class ImageInfo:
    id: str
    repo_digests: tuple[str, ...] = ()
    size: int = 0


@dataclasses.dataclass(frozen=True)
class ExecResult:
    exit_code: int
    output: bytes


@dataclasses.dataclass(frozen=True)
class RuntimeVersion:
    name: str  # "docker"
    version: str
    api_version: str


# A stream into a container's stdio (docker attach): the caller writes stdin,
# reads (stream, data) pairs until None and resizes the terminal.
class StdioSession(Protocol):
    async def write_stdin(self, data: bytes) -> None: ...
    async def close_stdin(self) -> None: ...
    async def read(self) -> tuple[int, bytes] | None: ...  # (1 stdout | 2 stderr, data); None at EOF
    async def resize(self, width: int, height: int) -> None: ...
    async def close(self) -> None: ...


# An interactive exec session: stdio as above, and the exit code at the end.
class ExecSession(StdioSession, Protocol):
    async def exit_code(self) -> int: ...


class Runtime(Protocol):
    """What the kubelet needs from a container engine. Every method is async and
    never blocks the event loop."""

    async def version(self) -> RuntimeVersion: ...

    async def ping(self) -> bool: ...

    async def network_status(self) -> str:
        """"" when sandboxes can be networked (a CNI configuration is there), else why not."""
        ...

    async def gc_network(self, check: bool = False) -> list[str]:
        """Release the networks of sandboxes that are gone (with `check`, CNI CHECK the live ones)."""
        ...

    async def list_containers(self) -> list[ContainerStatus]:
        """Every sandbox and container this node owns (summary: no exit codes or times needed)."""
        ...

    async def pod_status(self, uid: str) -> PodRuntimeStatus: ...

    async def run_sandbox(self, config: SandboxConfig) -> ContainerStatus: ...

    async def stop_sandbox(self, sandbox_id: str, grace: int) -> None:
        """Tear down the sandbox's network, then stop it (StopPodSandbox)."""
        ...

    async def remove_sandbox(self, sandbox_id: str) -> None: ...

    async def create_container(self, config: ContainerConfig) -> str: ...

    async def start_container(self, container_id: str) -> None: ...

    async def stop_container(self, container_id: str, grace: int) -> None: ...

    async def remove_container(self, container_id: str) -> None: ...

    async def inspect_image(self, image: str) -> ImageInfo | None: ...

    async def pull_image(self, image: str) -> ImageInfo: ...

    async def list_images(self) -> list[dict[str, Any]]:
        """The engine's images as Docker lists them (RepoTags, RepoDigests, Size)."""
        ...

    async def exec_sync(self, container_id: str, command: list[str], timeout: float) -> ExecResult: ...

    async def exec_stream(self, container_id: str, command: list[str], *, stdin: bool, tty: bool,
                          stdout: bool = True, stderr: bool = True) -> ExecSession: ...

    async def attach(self, container_id: str, *, stdin: bool, stdout: bool, stderr: bool,
                     tty: bool) -> StdioSession:
        """Connect to the stdio of the container's main process (`kubectl attach`)."""
        ...

    async def port_forward(self, pod_uid: str, port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """A TCP connection to `port` on the pod's own loopback: made inside the pod
        sandbox's network namespace, or on the node's loopback for a hostNetwork pod.
        Raises RuntimeFailure when the sandbox is not running or nothing listens."""
        ...

    def logs(self, container_id: str, *, follow: bool, tail: int | None, timestamps: bool,
             since: float | None) -> AsyncIterator[bytes]: ...

    def watch_events(self, on_event: Callable[[str, dict[str, str]], None]) -> Awaitable[None]:
        """Call on_event(action, labels) for container die/oom events until cancelled."""
        ...

    async def close(self) -> None: ...


# -- names, labels and hashes -------------------------------------------------------------

_NAME_UNSAFE = re.compile(r"[^a-zA-Z0-9_.-]")


def container_name(container: str, pod_name: str, namespace: str, uid: str, attempt: int) -> str:
    """dockershim's `k8s_<container>_<pod>_<namespace>_<uid>_<attempt>`."""
    parts = [container, pod_name, namespace, uid, str(attempt)]
    return "k8s_" + "_".join(_NAME_UNSAFE.sub("-", p) for p in parts)


def pod_labels(pod: dict[str, Any], node: str) -> dict[str, str]:
    meta = pod["metadata"]
    grace = (pod.get("spec") or {}).get("terminationGracePeriodSeconds")
    labels = {POD_NAME: meta["name"], POD_NAMESPACE: meta.get("namespace", "default"),
              POD_UID: meta["uid"], NODE: node}
    if grace is not None:
        labels[GRACE_PERIOD] = str(grace)
    return labels


def hash_container(container: dict[str, Any]) -> str:
    """A stable hash of a container's spec: a different hash means "recreate it".

    JSON with sorted keys, so dict order and re-serialisation by the API server
    do not change it; `resources` are part of it because Docker applies them at
    creation only.
    """
    return hashlib.sha256(orjson.dumps(container, option=orjson.OPT_SORT_KEYS)).hexdigest()[:16]
