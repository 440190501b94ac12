"""The Docker implementation of the kubelet's Runtime.

docker-py builds every request body (container and host configs, so the
engine API's field names and version rules live in one place) and makes the
infrequent calls (stop, remove, pull, networks, exec set-up) on a dedicated
thread pool, so a slow engine never blocks the event loop or starves the
default executor. Three kinds of calls speak HTTP to the engine directly with
asyncio instead (aiohttp on the same socket):
 - the calls on a pod's start-up path (list, inspect, image inspect, create,
   start): a docker-py call costs ~0.85 ms of CPU plus a thread hop, an aiohttp
   one ~0.35 ms, and on a loaded node the kubelet's CPU is start-up latency;
 - streams that stay open (log follow), which would pin a pool thread;
 - exec and attach: docker-py's hijacked socket can lose the first bytes of
   output that http.client buffered while reading the response headers.

Port-forward connects from inside the pod sandbox's network namespace (found
through the pause process, /proc/<pid>/ns/net; see minik8s.kubelet.nsdial), or on
the node's loopback for a pod on the host's network.

Inspect results are cached per (container id, summary state): a container that
is still in the state the listing says it was in when we last inspected it has
not changed, so a pod sync costs one list call, not one inspect per container.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import json
import logging
import struct
import threading
import urllib.parse
from typing import Any, AsyncIterator, Callable, TypeVar

import aiohttp
import docker
import docker.errors
import docker.types
import docker.utils

from minik8s.api import rfc3339
from minik8s.kubelet import cni
from minik8s.kubelet import nsdial
from minik8s.kubelet import runtime

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_HOST = "unix:///var/run/docker.sock"
IMAGE_CACHE_SECONDS = 10.0
LOG_CONFIG = {"type": "json-file", "config": {"max-size": "10m", "max-file": "5"}}


def parse_time(text: str | None) -> float:
    """Docker's RFC 3339 nano timestamps to epoch seconds; Go's zero time to 0."""
    if not text or text.startswith("0001-01-01"):
        return 0.0
    return rfc3339.parse_epoch(text) or 0.0


def _state_of(docker_state: str) -> str:
    if docker_state in ("running", "paused", "restarting"):
        return runtime.RUNNING
    if docker_state == "created":
        return runtime.CREATED
    if docker_state in ("exited", "dead"):
        return runtime.EXITED
    return runtime.UNKNOWN


def status_from_inspect(info: dict[str, Any], ip: str = "") -> runtime.ContainerStatus:
    """The engine's inspect as a ContainerStatus; `ip` is a sandbox's pod IP (CNI's, not Docker's)."""
    labels = (info.get("Config") or {}).get("Labels") or {}
    st = info.get("State") or {}
    state = _state_of(st.get("Status", ""))
    is_sandbox = labels.get(runtime.CONTAINER_TYPE) == runtime.TYPE_SANDBOX
    exit_code = int(st.get("ExitCode") or 0)
    reason = ""
    if state == runtime.EXITED:
        reason = "OOMKilled" if st.get("OOMKilled") else "Completed" if exit_code == 0 else "Error"
    attempt_label = runtime.ATTEMPT if is_sandbox else runtime.RESTART_COUNT
    try:
        attempt = int(labels.get(attempt_label, "0"))
    except ValueError:
        attempt = 0
    return runtime.ContainerStatus(
        id=info["Id"], name=labels.get(runtime.CONTAINER_NAME, ""), pod_uid=labels.get(runtime.POD_UID, ""),
        pod_name=labels.get(runtime.POD_NAME, ""), pod_namespace=labels.get(runtime.POD_NAMESPACE, ""),
        is_sandbox=is_sandbox, state=state, attempt=attempt, hash=labels.get(runtime.CONTAINER_HASH, ""),
        image=(info.get("Config") or {}).get("Image", ""), image_id=info.get("Image", ""),
        created_at=parse_time(info.get("Created")), started_at=parse_time(st.get("StartedAt")),
        finished_at=parse_time(st.get("FinishedAt")) if state == runtime.EXITED else 0.0,
        exit_code=exit_code, reason=reason, message=st.get("Error") or "", ip=ip, labels=dict(labels))


def status_from_summary(item: dict[str, Any]) -> runtime.ContainerStatus:
    labels = item.get("Labels") or {}
    is_sandbox = labels.get(runtime.CONTAINER_TYPE) == runtime.TYPE_SANDBOX
    try:
        attempt = int(labels.get(runtime.ATTEMPT if is_sandbox else runtime.RESTART_COUNT, "0"))
    except ValueError:
        attempt = 0
    return runtime.ContainerStatus(
        id=item["Id"], name=labels.get(runtime.CONTAINER_NAME, ""), pod_uid=labels.get(runtime.POD_UID, ""),
        pod_name=labels.get(runtime.POD_NAME, ""), pod_namespace=labels.get(runtime.POD_NAMESPACE, ""),
        is_sandbox=is_sandbox, state=_state_of(item.get("State", "")), attempt=attempt,
        hash=labels.get(runtime.CONTAINER_HASH, ""), image=item.get("Image", ""),
        image_id=item.get("ImageID", ""), created_at=float(item.get("Created") or 0), labels=dict(labels))


HOSTS_HEADER = """# Kubernetes-managed hosts file.
127.0.0.1\tlocalhost
::1\tlocalhost ip6-localhost ip6-loopback
fe00::0\tip6-localnet
fe00::0\tip6-mcastprefix
fe00::1\tip6-allnodes
fe00::2\tip6-allrouters
"""


def hosts_file(config: runtime.SandboxConfig, ip: str) -> str:
    """The kubelet's managed /etc/hosts (managedHostsFileContent): localhost, the pod's
    own address and name, then its hostAliases."""
    text = HOSTS_HEADER + f"{ip}\t{config.hostname}\n"
    if config.extra_hosts:
        text += "\n# Entries added by HostAliases.\n"
        for hostname, alias_ip in config.extra_hosts:
            text += f"{alias_ip}\t{hostname}\n"
    return text


def resolv_conf(config: runtime.SandboxConfig) -> str:
    lines = [f"nameserver {server}" for server in config.dns]
    if config.dns_search:
        lines.insert(0, "search " + " ".join(config.dns_search))
    if config.dns_options:
        lines.append("options " + " ".join(config.dns_options))
    return "\n".join(lines) + "\n"


def _write_etc_files(info: dict[str, Any], config: runtime.SandboxConfig, ip: str) -> None:
    """The sandbox's /etc/hosts and resolv.conf, which the pod's containers share.

    With network `none` Docker's hosts file knows no pod address; and pods are
    promised a resolv.conf naming the cluster DNS exactly, as dockershim wrote it.
    """
    hosts = info.get("HostsPath")
    if hosts:
        with open(hosts, "w", encoding="utf-8") as f:
            f.write(hosts_file(config, ip))
    resolv = info.get("ResolvConfPath")
    if resolv and config.dns:
        with open(resolv, "w", encoding="ascii") as f:
            f.write(resolv_conf(config))


def _sort_newest_first(items: list[runtime.ContainerStatus]) -> list[runtime.ContainerStatus]:
    return sorted(items, key=lambda c: (c.attempt, c.created_at), reverse=True)


def _api_error(e: docker.errors.APIError) -> str:
    explanation = e.explanation
    if isinstance(explanation, bytes):
        explanation = explanation.decode(errors="replace")
    return str(explanation or e)


class DockerRuntime:
    """runtime.Runtime on a Docker engine (docker-py in a thread pool, streams on asyncio)."""

    def __init__(self, node: str, *, host: str = DEFAULT_HOST, pause_image: str = "minik8s/pause:3.9",
                 pool_size: int = 32, timeout: float = 120.0, network: cni.PodNetwork | None = None) -> None:
        self.node = node
        # Pods' networks: CNI plugins run on each sandbox's namespace (None: host-network pods only).
        self.network = network
        self.pause_image = pause_image
        self.host = host
        self.timeout = timeout
        self._executor = concurrent.futures.ThreadPoolExecutor(max_workers=pool_size,
                                                               thread_name_prefix="docker")
        self.client = docker.DockerClient(base_url=host, version="auto", timeout=int(timeout),
                                          max_pool_size=pool_size)
        self.api: docker.APIClient = self.client.api
        self._inspect_cache: dict[str, tuple[str, runtime.ContainerStatus]] = {}
        self._tty: dict[str, bool] = {}
        self._events_seen: dict[str, int] = {}  # container id -> engine events seen (cache invalidation)
        self._listed_all = False
        self._pods_with_containers: set[str] = set()
        self._image_cache: dict[str, tuple[float, runtime.ImageInfo]] = {}
        self._image_inflight: dict[str, asyncio.Task[runtime.ImageInfo | None]] = {}
        self._http: aiohttp.ClientSession | None = None

    # -- plumbing --------------------------------------------------------------------------

    async def _call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(fn, *args, **kwargs))

    @property
    def _prefix(self) -> str:
        return f"/v{self.api.api_version}"

    def _session(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            if self.host.startswith("unix://"):
                connector: aiohttp.BaseConnector = aiohttp.UnixConnector(path=self.host[len("unix://"):])
            else:
                connector = aiohttp.TCPConnector()
            self._http = aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=None))
        return self._http

    def _base_url(self) -> str:
        if self.host.startswith("unix://"):
            return "http://docker"
        return "http://" + self.host.split("://", 1)[-1]

    async def _open_raw(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self.host.startswith("unix://"):
            return await asyncio.open_unix_connection(self.host[len("unix://"):])
        hostport = self.host.split("://", 1)[-1]
        host, _, port = hostport.rpartition(":")
        return await asyncio.open_connection(host, int(port))

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
        await asyncio.to_thread(self.client.close)
        self._executor.shutdown(wait=False, cancel_futures=True)

    # -- engine ------------------------------------------------------------------------------

    async def version(self) -> runtime.RuntimeVersion:
        v = await self._call(self.api.version)
        return runtime.RuntimeVersion("docker", v.get("Version", ""), v.get("ApiVersion", ""))

    async def ping(self) -> bool:
        try:
            return bool(await self._call(self.api.ping))
        except Exception:  # noqa: BLE001 - any failure means "not answering"
            return False

    # -- pod network (CNI) ----------------------------------------------------------------------

    async def network_status(self) -> str:
        """"" when pods can be networked, else why not (the node is NotReady meanwhile)."""
        if self.network is None:
            return "no pod network configured"
        return await asyncio.to_thread(self.network.status)

    async def _pid(self, cid: str) -> int:
        code, info = await self._engine("GET", f"/containers/{urllib.parse.quote(cid)}/json")
        if code != 200:
            return 0
        return int((info.get("State") or {}).get("Pid") or 0)

    @staticmethod
    def _netns(pid: int) -> str:
        return f"/proc/{pid}/ns/net" if pid else ""

    async def gc_network(self, check: bool = False) -> list[str]:
        """Release the network of every sandbox that is no longer running (a crash, a
        kubelet killed before its DEL, a power-off); with `check`, CHECK the running
        ones first (a failed CHECK makes the sandbox's IP read "", so it is recreated).
        The cache entries are read before the engine is listed, so a sandbox being
        created meanwhile is never mistaken for a gone one. Returns the released ids."""
        if self.network is None:
            return []
        candidates = await asyncio.to_thread(self.network.attached)
        if not candidates:
            return []
        items = await self._list(f"{runtime.CONTAINER_TYPE}={runtime.TYPE_SANDBOX}")
        running = {i["Id"] for i in items if i.get("State") == "running"}
        if check:
            for cid in sorted(candidates & running):
                if not await self.network.check(cid, self._netns(await self._pid(cid))):
                    self._inspect_cache.pop(cid, None)
        released = await self.network.gc(candidates, running)
        for cid in released:
            self._inspect_cache.pop(cid, None)
            log.info("released the pod network of sandbox %s (gone)", cid[:12])
        return released

    # -- listing and status --------------------------------------------------------------------

    async def _engine(self, method: str, path: str, *, params: dict[str, str] | None = None,
                      body: Any = None) -> tuple[int, Any]:
        """One request to the engine API on the event loop: (status, decoded JSON or None)."""
        data = None
        headers = {}
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        url = f"{self._base_url()}{self._prefix}{path}"
        try:
            async with self._session().request(method, url, params=params, data=data, headers=headers,
                                               timeout=aiohttp.ClientTimeout(total=self.timeout)) as resp:
                raw = await resp.read()
                status = resp.status
        except (aiohttp.ClientError, asyncio.TimeoutError) as e:
            raise runtime.RuntimeFailure("RuntimeUnavailable", f"{method} {path}: {e!r}") from e
        try:
            payload = json.loads(raw) if raw else None
        except ValueError:
            payload = raw.decode(errors="replace")
        return status, payload

    @staticmethod
    def _message(payload: Any) -> str:
        if isinstance(payload, dict):
            return str(payload.get("message") or payload)
        return str(payload)

    async def _list(self, *labels: str) -> list[dict[str, Any]]:
        filters = json.dumps({"label": [f"{runtime.NODE}={self.node}", *labels]})
        status, payload = await self._engine("GET", "/containers/json", params={"all": "1", "filters": filters})
        if status != 200:
            raise runtime.RuntimeFailure("RuntimeUnavailable", f"listing containers: {self._message(payload)}")
        return list(payload or [])

    async def list_containers(self) -> list[runtime.ContainerStatus]:
        items = await self._list()
        self._pods_with_containers.update(
            (i.get("Labels") or {}).get(runtime.POD_UID, "") for i in items)
        self._listed_all = True
        live = {i["Id"] for i in items}
        for cid in list(self._inspect_cache):
            if cid not in live:
                self._inspect_cache.pop(cid, None)
                self._tty.pop(cid, None)
                self._events_seen.pop(cid, None)
        return [status_from_summary(i) for i in items]

    async def _inspect(self, cid: str, summary_state: str) -> runtime.ContainerStatus | None:
        cached = self._inspect_cache.get(cid)
        if cached is not None and cached[0] == summary_state:
            return cached[1]
        generation = self._events_seen.get(cid, 0)
        code, info = await self._engine("GET", f"/containers/{urllib.parse.quote(cid)}/json")
        if code == 404:
            return None
        if code != 200:
            raise runtime.RuntimeFailure("RuntimeUnavailable", f"inspecting {cid[:12]}: {self._message(info)}")
        status = status_from_inspect(info, self._sandbox_ip(info))
        self._tty[cid] = bool((info.get("Config") or {}).get("Tty"))
        # Key on the inspected state: a listing taken before a transition must not
        # pin an inspect taken after it. An engine event during the inspect makes
        # its answer suspect, so it is not kept.
        if self._events_seen.get(cid, 0) == generation:
            self._inspect_cache[cid] = ((info.get("State") or {}).get("Status", ""), status)
        return status

    def _sandbox_ip(self, info: dict[str, Any]) -> str:
        labels = (info.get("Config") or {}).get("Labels") or {}
        if labels.get(runtime.CONTAINER_TYPE) != runtime.TYPE_SANDBOX or self.network is None:
            return ""
        if (info.get("HostConfig") or {}).get("NetworkMode") == "host":
            return ""
        return self.network.ip(info["Id"])

    async def pod_status(self, uid: str) -> runtime.PodRuntimeStatus:
        # Only this kubelet creates containers with its node label: once everything was
        # listed, a pod never seen there (nor created since) has none, and its first
        # sync need not ask the engine.
        if self._listed_all and uid not in self._pods_with_containers:
            return runtime.PodRuntimeStatus(uid)
        items = await self._list(f"{runtime.POD_UID}={uid}")
        if items:
            self._pods_with_containers.add(uid)
        found = await asyncio.gather(*(self._inspect(i["Id"], i.get("State", "")) for i in items))
        statuses = [s for s in found if s is not None]
        sandboxes = _sort_newest_first([s for s in statuses if s.is_sandbox])
        containers = _sort_newest_first([s for s in statuses if not s.is_sandbox])
        first = statuses[0] if statuses else None
        return runtime.PodRuntimeStatus(uid, first.pod_name if first else "", first.pod_namespace if first else "",
                                        tuple(sandboxes), tuple(containers))

    # -- sandboxes and containers ----------------------------------------------------------------

    async def run_sandbox(self, config: runtime.SandboxConfig) -> runtime.ContainerStatus:
        """The pause container, then its network: with Docker's network `none` it has
        a namespace of its own with only loopback in it, which the CNI plugins then
        connect (veth into the node's bridge, an address from host-local, hostPorts
        through portmap). The sandbox's /etc/hosts and resolv.conf, which every
        container of the pod shares, are written as the kubelet manages them."""
        name = runtime.container_name(runtime.SANDBOX_CONTAINER_NAME, config.pod_name, config.pod_namespace,
                                      config.pod_uid, config.attempt)
        host_network = config.network == "host"
        if not host_network:
            if self.network is None:
                raise runtime.RuntimeFailure("NetworkNotReady", "no pod network configured")
            try:
                self.network.network()
            except cni.CNIError as e:
                raise runtime.RuntimeFailure("NetworkNotReady", f"network is not ready: {e}") from e
        host_config = self.api.create_host_config(
            network_mode="host" if host_network else "none", ipc_mode="shareable",
            extra_hosts=(dict(config.extra_hosts) or None) if host_network else None,
            dns=list(config.dns) or None, dns_search=list(config.dns_search) or None,
            dns_opt=list(config.dns_options) or None, sysctls=config.sysctls or None,
            log_config=LOG_CONFIG, cpu_shares=2)
        cid = await self._create(name, dict(
            image=self.pause_image, name=name, hostname=None if host_network else config.hostname,
            labels=config.labels, host_config=host_config, detach=True, use_config_proxy=False))
        generation = self._events_seen.get(cid, 0)
        await self.start_container(cid)
        code, info = await self._engine("GET", f"/containers/{urllib.parse.quote(cid)}/json")
        if code != 200:
            raise runtime.RuntimeFailure("CreatePodSandboxError", f"sandbox {name} vanished after start")
        ip = ""
        if not host_network:
            assert self.network is not None
            netns = self._netns(int((info.get("State") or {}).get("Pid") or 0))
            pod = cni.PodRef(config.pod_namespace, config.pod_name, config.pod_uid)
            ports = [cni.PortMapping(p.host_port, p.container_port, p.protocol.lower(), p.host_ip)
                     for p in config.ports]
            try:
                if not netns:
                    raise cni.CNIError(f"sandbox {cid[:12]} is not running")
                ip = await self.network.setup(cid, netns, pod, ports)
                await asyncio.to_thread(_write_etc_files, info, config, ip)
            except (cni.CNIError, OSError) as e:
                await self._undo_sandbox(cid, netns)
                raise runtime.RuntimeFailure("CreatePodSandboxError",
                                             f"setting up the network of sandbox {name}: {e}") from e
        status = status_from_inspect(info, ip)
        self._tty[cid] = False
        if self._events_seen.get(cid, 0) == generation:
            self._inspect_cache[cid] = ((info.get("State") or {}).get("Status", ""), status)
        return status

    async def _undo_sandbox(self, cid: str, netns: str) -> None:
        """A sandbox whose network failed: release what the plugins did, remove it."""
        assert self.network is not None
        try:
            await self.network.teardown(cid, netns)
        except cni.CNIError as e:
            log.warning("sandbox %s: releasing its network after a failed set-up: %s", cid[:12], e)
        with contextlib.suppress(runtime.RuntimeFailure):
            await self.remove_container(cid)

    async def stop_sandbox(self, sandbox_id: str, grace: int) -> None:
        """Tear the network down while the namespace still exists (as StopPodSandbox),
        then stop the pause container. A failed DEL keeps its cache entry, so the
        next garbage collection releases the address."""
        if self.network is not None and await asyncio.to_thread(self.network.is_attached, sandbox_id):
            try:
                await self.network.teardown(sandbox_id, self._netns(await self._pid(sandbox_id)))
            except cni.CNIError as e:
                log.warning("sandbox %s: tearing down its network: %s (released later)", sandbox_id[:12], e)
            self._inspect_cache.pop(sandbox_id, None)
        await self.stop_container(sandbox_id, grace)

    async def remove_sandbox(self, sandbox_id: str) -> None:
        if self.network is not None and await asyncio.to_thread(self.network.is_attached, sandbox_id):
            try:
                await self.network.teardown(sandbox_id, self._netns(await self._pid(sandbox_id)))
            except cni.CNIError as e:
                log.warning("sandbox %s: tearing down its network: %s (released later)", sandbox_id[:12], e)
        await self.remove_container(sandbox_id)

    async def _create(self, name: str, kwargs: dict[str, Any]) -> str:
        """Create a container; a leftover of the same name (an earlier attempt that
        failed half-way) is removed first if it is not running."""
        self._pods_with_containers.add((kwargs.get("labels") or {}).get(runtime.POD_UID, ""))
        stdin_once = bool(kwargs.get("stdin_once"))
        kwargs = {k: v for k, v in kwargs.items() if k not in ("name", "use_config_proxy", "stdin_once")}
        kwargs.setdefault("command", None)
        config = self.api.create_container_config(**kwargs)
        body = {k: v for k, v in config.items() if v is not None}  # as docker-py's _post_json
        if stdin_once:
            body["StdinOnce"] = True
        for attempt in range(2):
            code, payload = await self._engine("POST", "/containers/create", params={"name": name}, body=body)
            if code == 201:
                return str(payload["Id"])
            if code == 404:
                self._image_cache.pop(kwargs["image"], None)
                raise runtime.ImageNotFound(kwargs["image"])
            if code == 409 and attempt == 0:
                code, info = await self._engine("GET", f"/containers/{urllib.parse.quote(name)}/json")
                if code == 404:
                    continue
                if (info.get("State") or {}).get("Running"):
                    raise runtime.NameConflict(f"container {name} already exists and is running")
                await self.remove_container(info["Id"])
                continue
            raise runtime.RuntimeFailure("CreateContainerError", self._message(payload))
        raise runtime.NameConflict(f"container name {name} stays in use")

    async def create_container(self, config: runtime.ContainerConfig) -> str:
        sandbox = f"container:{config.sandbox_id}"
        binds = [f"{m.host_path}:{m.container_path}:{'ro' if m.read_only else 'rw'}" for m in config.mounts]
        host_config = self.api.create_host_config(
            network_mode=sandbox, ipc_mode=sandbox,
            pid_mode=f"container:{config.pid_target}" if config.pid_target else sandbox if config.share_pid else None,
            binds=binds or None, cpu_shares=config.cpu_shares or None, cpu_quota=config.cpu_quota or None,
            cpu_period=config.cpu_period or None, mem_limit=config.memory_limit or None,
            privileged=config.privileged, cap_add=list(config.cap_add) or None,
            cap_drop=list(config.cap_drop) or None, read_only=config.read_only_rootfs or None,
            oom_score_adj=config.oom_score_adj, log_config=LOG_CONFIG)
        kwargs: dict[str, Any] = dict(
            image=config.image, name=config.name, labels=config.labels, host_config=host_config,
            environment=[f"{k}={v}" for k, v in config.env], working_dir=config.working_dir or None,
            user=config.user or None, stdin_open=config.stdin, tty=config.tty, detach=True,
            use_config_proxy=False)
        if config.command is not None:
            kwargs["entrypoint"] = list(config.command)
            kwargs["command"] = list(config.args or [])
        elif config.args is not None:
            kwargs["command"] = list(config.args)
        if config.stdin_once:
            kwargs["stdin_open"] = True
            # docker-py has no keyword for it: the engine closes the container's stdin
            # when the first attached client closes its own (`kubectl run -i --rm`).
            kwargs["stdin_once"] = True
        return await self._create(config.name, kwargs)

    async def start_container(self, container_id: str) -> None:
        code, payload = await self._engine("POST", f"/containers/{urllib.parse.quote(container_id)}/start")
        if code not in (204, 304):  # 304: already started
            raise runtime.RuntimeFailure("RunContainerError", self._message(payload))

    async def stop_container(self, container_id: str, grace: int) -> None:
        try:
            await self._call(self.api.stop, container_id, timeout=max(int(grace), 0))
        except docker.errors.NotFound:
            return
        except docker.errors.APIError as e:
            raise runtime.RuntimeFailure("KillContainerError", _api_error(e)) from e

    async def remove_container(self, container_id: str) -> None:
        try:
            await self._call(self.api.remove_container, container_id, force=True)
        except docker.errors.NotFound:
            pass
        except docker.errors.APIError as e:
            if e.status_code != 409:  # removal already in progress
                raise runtime.RuntimeFailure("RemoveContainerError", _api_error(e)) from e
        self._inspect_cache.pop(container_id, None)
        self._tty.pop(container_id, None)
        self._events_seen.pop(container_id, None)

    # -- images ----------------------------------------------------------------------------

    async def inspect_image(self, image: str) -> runtime.ImageInfo | None:
        """The image, or None if absent. Concurrent asks for one image share a call, and a
        present image is believed present for IMAGE_CACHE_SECONDS: a burst of pods of one
        image costs one inspect, not one each. (An image removed meanwhile makes the
        create fail, and the next sync asks again.)"""
        loop = asyncio.get_running_loop()
        cached = self._image_cache.get(image)
        if cached is not None and loop.time() - cached[0] < IMAGE_CACHE_SECONDS:
            return cached[1]
        pending = self._image_inflight.get(image)
        if pending is None:
            pending = self._image_inflight[image] = loop.create_task(self._inspect_image(image))
            pending.add_done_callback(lambda _: self._image_inflight.pop(image, None))
        info = await asyncio.shield(pending)
        if info is not None:
            self._image_cache[image] = (loop.time(), info)
        return info

    async def _inspect_image(self, image: str) -> runtime.ImageInfo | None:
        code, info = await self._engine("GET", f"/images/{urllib.parse.quote(image, safe='/:@')}/json")
        if code == 404:
            return None
        if code != 200:
            raise runtime.RuntimeFailure("ErrImageInspect", self._message(info))
        return runtime.ImageInfo(info["Id"], tuple(info.get("RepoDigests") or ()), int(info.get("Size") or 0))

    async def pull_image(self, image: str) -> runtime.ImageInfo:
        repo, tag = docker.utils.parse_repository_tag(image)

        def pull() -> None:
            for item in self.api.pull(repo, tag=tag or "latest", stream=True, decode=True):
                if isinstance(item, dict) and item.get("error"):
                    raise runtime.RuntimeFailure("ErrImagePull", str(item["error"]))
        try:
            await self._call(pull)
        except docker.errors.APIError as e:
            raise runtime.RuntimeFailure("ErrImagePull", _api_error(e)) from e
        except docker.errors.DockerException as e:
            raise runtime.RuntimeFailure("ErrImagePull", str(e)) from e
        info = await self.inspect_image(image)
        if info is None:
            raise runtime.RuntimeFailure("ErrImagePull", f"image {image} is missing after a successful pull")
        return info

    async def list_images(self) -> list[dict[str, Any]]:
        return await self._call(self.api.images)

    # -- exec ------------------------------------------------------------------------------------

    async def _hijack(self, path: str, body: bytes) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """POST `path` asking the engine to upgrade the connection to a raw stream."""
        reader, writer = await self._open_raw()
        request = (f"POST {self._prefix}{path} HTTP/1.1\r\nHost: docker\r\n"
                   f"Content-Type: application/json\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n"
                   f"Content-Length: {len(body)}\r\n\r\n").encode() + body
        writer.write(request)
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        status_line = head.split(b"\r\n", 1)[0].decode(errors="replace")
        code = int(status_line.split(" ")[1]) if " " in status_line else 0
        if code not in (101, 200):
            rest = await reader.read(65536)
            writer.close()
            raise runtime.RuntimeFailure("ExecError", f"{path.split('?')[0]}: {status_line}: "
                                         f"{rest.decode(errors='replace').strip()}")
        return reader, writer

    async def exec_stream(self, container_id: str, command: list[str], *, stdin: bool, tty: bool,
                          stdout: bool = True, stderr: bool = True) -> "DockerExecSession":
        try:
            created = await self._call(self.api.exec_create, container_id, command, stdout=stdout,
                                       stderr=stderr and not tty, stdin=stdin, tty=tty)
        except docker.errors.APIError as e:
            raise runtime.RuntimeFailure("ExecError", _api_error(e)) from e
        exec_id = created["Id"]
        reader, writer = await self._hijack(f"/exec/{exec_id}/start", json.dumps({"Detach": False, "Tty": tty}).encode())
        return DockerExecSession(self, exec_id, reader, writer, tty)

    async def attach(self, container_id: str, *, stdin: bool, stdout: bool, stderr: bool,
                     tty: bool) -> "DockerAttachSession":
        if container_id not in self._tty:
            await self._inspect(container_id, "")
        engine_tty = self._tty.get(container_id, False)  # the output is framed unless the container has a tty
        query = urllib.parse.urlencode({"stream": "1", "stdin": int(stdin), "stdout": int(stdout),
                                        "stderr": int(stderr and not engine_tty)})
        reader, writer = await self._hijack(f"/containers/{urllib.parse.quote(container_id)}/attach?{query}", b"")
        return DockerAttachSession(self, container_id, reader, writer, engine_tty)

    async def container_resize(self, container_id: str, width: int, height: int) -> None:
        with contextlib.suppress(docker.errors.APIError):
            await self._call(self.api.resize, container_id, height=height, width=width)

    async def port_forward(self, pod_uid: str, port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        status = await self.pod_status(pod_uid)
        sandbox = status.running_sandbox()
        if sandbox is None:
            raise runtime.RuntimeFailure("PortForwardError", f"pod sandbox of pod {pod_uid} is not running")
        code, info = await self._engine("GET", f"/containers/{urllib.parse.quote(sandbox.id)}/json")
        if code != 200:
            raise runtime.RuntimeFailure("PortForwardError", f"inspecting sandbox {sandbox.id[:12]}: "
                                                             f"{self._message(info)}")
        pid = int((info.get("State") or {}).get("Pid") or 0)
        host_network = (info.get("HostConfig") or {}).get("NetworkMode") == "host"
        try:
            if host_network:
                return await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 5.0)
            if pid <= 0:
                raise runtime.RuntimeFailure("PortForwardError", f"sandbox {sandbox.id[:12]} has no process")
            sock = await nsdial.dial(f"/proc/{pid}/ns/net", "127.0.0.1", port)
        except (OSError, asyncio.TimeoutError) as e:
            where = "on the node" if host_network else f"inside the network namespace of sandbox {sandbox.id[:12]}"
            reason = e.strerror if isinstance(e, OSError) and e.strerror else repr(e)
            raise runtime.RuntimeFailure("PortForwardError", f"failed to connect to localhost:{port} {where}: "
                                                             f"{reason}") from e
        return await asyncio.open_connection(sock=sock)

    async def exec_sync(self, container_id: str, command: list[str], timeout: float) -> runtime.ExecResult:
        session = await self.exec_stream(container_id, command, stdin=False, tty=False)
        out = bytearray()
        try:
            async with asyncio.timeout(timeout):
                while (item := await session.read()) is not None:
                    if len(out) < 10 * 1024:
                        out += item[1]
                code = await session.exit_code()
        finally:
            await session.close()
        return runtime.ExecResult(code, bytes(out))

    async def exec_resize(self, exec_id: str, width: int, height: int) -> None:
        with contextlib.suppress(docker.errors.APIError):
            await self._call(self.api.exec_resize, exec_id, height=height, width=width)

    async def exec_inspect(self, exec_id: str) -> dict[str, Any]:
        return await self._call(self.api.exec_inspect, exec_id)

    # -- logs ------------------------------------------------------------------------------------

    async def logs(self, container_id: str, *, follow: bool, tail: int | None, timestamps: bool,
                   since: float | None) -> AsyncIterator[bytes]:
        """The container's stdout and stderr interleaved, as the engine recorded them."""
        if container_id not in self._tty:
            await self._inspect(container_id, "")
        tty = self._tty.get(container_id, False)
        params = {"stdout": "1", "stderr": "1", "follow": "1" if follow else "0",
                  "timestamps": "1" if timestamps else "0", "tail": "all" if tail is None else str(max(tail, 0))}
        if since:
            params["since"] = f"{since:.9f}"
        url = f"{self._base_url()}{self._prefix}/containers/{urllib.parse.quote(container_id)}/logs"
        async with self._session().get(url, params=params) as resp:
            if resp.status >= 400:
                text = (await resp.read()).decode(errors="replace")
                raise runtime.RuntimeFailure("LogsError", f"docker logs: HTTP {resp.status}: {text.strip()}")
            if tty:
                async for chunk in resp.content.iter_any():
                    yield chunk
                return
            while True:
                try:
                    header = await resp.content.readexactly(8)
                except asyncio.IncompleteReadError:
                    return
                size = struct.unpack(">I", header[4:8])[0]
                try:
                    yield await resp.content.readexactly(size)
                except asyncio.IncompleteReadError as e:
                    if e.partial:
                        yield e.partial
                    return

    # -- events ------------------------------------------------------------------------------------

    async def watch_events(self, on_event: Callable[[str, dict[str, str]], None]) -> None:
        """Feed container die/oom events of this node to on_event until cancelled.

        The engine's events API blocks, so it runs on a thread of its own (not the
        pool) and hands each event to the loop; cancelling closes the stream.
        """
        loop = asyncio.get_running_loop()
        done = asyncio.Event()
        holder: dict[str, Any] = {}
        failure: list[BaseException] = []

        def pump() -> None:
            try:
                stream = self.api.events(decode=True, filters={
                    "type": "container", "label": [f"{runtime.NODE}={self.node}"],
                    "event": ["die", "oom"]})
                holder["stream"] = stream
                for ev in stream:
                    actor = ev.get("Actor") or {}
                    loop.call_soon_threadsafe(self._engine_event, on_event, ev.get("Action", ev.get("status", "")),
                                              actor.get("ID", ""), actor.get("Attributes") or {})
            except Exception as e:  # noqa: BLE001 - reported to the awaiting coroutine
                failure.append(e)
            finally:
                loop.call_soon_threadsafe(done.set)

        thread = threading.Thread(target=pump, name="docker-events", daemon=True)
        thread.start()
        try:
            await done.wait()
        finally:
            # Cancelled or ended: closing the stream lets the thread finish.
            stream = holder.get("stream")
            if stream is not None:
                with contextlib.suppress(Exception):
                    stream.close()
        cause = repr(failure[0]) if failure else "closed by the engine"
        raise runtime.RuntimeFailure("EventsError", f"docker events stream ended: {cause}")


    def _engine_event(self, on_event: Callable[[str, dict[str, str]], None], action: str, cid: str,
                      attrs: dict[str, str]) -> None:
        # The engine's listing can still say "running" when the die event arrives; the
        # next status read must inspect the container again instead of trusting the cache.
        self._inspect_cache.pop(cid, None)
        self._events_seen[cid] = self._events_seen.get(cid, 0) + 1
        on_event(action, attrs)


class _RawStdio:
    """Stdio on a connection the engine upgraded (exec start, attach): stdin in,
    output out, framed as stdout/stderr unless a tty merges them."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, tty: bool) -> None:
        self.reader = reader
        self.writer = writer
        self.tty = tty
        self._stdin_closed = False

    async def write_stdin(self, data: bytes) -> None:
        if self._stdin_closed:
            return
        self.writer.write(data)
        await self.writer.drain()

    async def close_stdin(self) -> None:
        if not self._stdin_closed:
            self._stdin_closed = True
            if self.writer.can_write_eof():
                with contextlib.suppress(OSError):
                    self.writer.write_eof()

    async def read(self) -> tuple[int, bytes] | None:
        if self.tty:
            data = await self.reader.read(32768)
            return (1, data) if data else None
        try:
            header = await self.reader.readexactly(8)
        except (asyncio.IncompleteReadError, ConnectionError):
            return None
        stream, size = header[0], struct.unpack(">I", header[4:8])[0]
        try:
            data = await self.reader.readexactly(size)
        except asyncio.IncompleteReadError as e:
            data = e.partial
        return (2 if stream == 2 else 1), data

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(Exception):
            await self.writer.wait_closed()


class DockerAttachSession(_RawStdio):
    """`docker attach` to a container's main process."""

    def __init__(self, rt: DockerRuntime, container_id: str, reader: asyncio.StreamReader,
                 writer: asyncio.StreamWriter, tty: bool) -> None:
        super().__init__(reader, writer, tty)
        self.rt = rt
        self.container_id = container_id

    async def resize(self, width: int, height: int) -> None:
        await self.rt.container_resize(self.container_id, width, height)


class DockerExecSession(_RawStdio):
    """One `docker exec` on a raw connection: stdin in, demultiplexed output out."""

    def __init__(self, rt: DockerRuntime, exec_id: str, reader: asyncio.StreamReader,
                 writer: asyncio.StreamWriter, tty: bool) -> None:
        super().__init__(reader, writer, tty)
        self.rt = rt
        self.exec_id = exec_id

    async def resize(self, width: int, height: int) -> None:
        await self.rt.exec_resize(self.exec_id, width, height)

    async def exit_code(self) -> int:
        # The output stream can end a moment before the engine records the exit.
        for _ in range(100):
            info = await self.rt.exec_inspect(self.exec_id)
            if not info.get("Running"):
                return int(info.get("ExitCode") or 0)
            await asyncio.sleep(0.02)
        return int(info.get("ExitCode") or 0)
