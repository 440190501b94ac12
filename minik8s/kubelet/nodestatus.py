"""The Node object: registration, status reports and the node Lease.

As the kubelet's kubelet_node_status.go and nodelease: the node registers
itself once (labels, taints, capacity, addresses, nodeInfo), then
 - renews its Lease in kube-node-lease every `lease_interval` seconds, the
   cheap heartbeat the node lifecycle controller watches;
 - recomputes its status every `status_update_interval` seconds and writes it
   when something other than heartbeat times changed, or when
   `status_report_interval` passed since the last write.
Machine facts come from psutil and /proc; the building of objects is pure so
it is unit-tested without a machine.
"""
from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import platform
import shutil
import socket
import time
from typing import Any, Awaitable, Callable

import psutil

from minik8s.api import errors
from minik8s.api import owners
from minik8s.api import resources
from minik8s.api import rfc3339
from minik8s.client import rest
from minik8s.kubelet import runtime
from minik8s.kubelet import status as status_mod

log = logging.getLogger(__name__)

NODES = resources.must("", "v1", "nodes")
LEASES = resources.must("coordination.k8s.io", "v1", "leases")

Obj = dict[str, Any]

KUBELET_VERSION = "v1.32.0-minik8s"
LEASE_NAMESPACE = "kube-node-lease"
LEASE_DURATION = 40
# Eviction thresholds (Kubernetes' hard eviction defaults), also held back from allocatable.
MEMORY_EVICTION = 100 * 1024 * 1024
DISK_EVICTION_FRACTION = 0.10
PID_EVICTION_FRACTION = 0.05
MAX_IMAGES = 50

_ARCH = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "ppc64le": "ppc64le", "s390x": "s390x"}


@dataclasses.dataclass(frozen=True)
class MachineInfo:
    hostname: str
    cpus: int
    memory: int  # bytes
    disk: int  # bytes of the filesystem holding the kubelet's root dir
    kernel: str
    os_image: str
    arch: str
    machine_id: str
    boot_id: str


@dataclasses.dataclass(frozen=True)
class Pressure:
    memory: bool = False
    disk: bool = False
    pid: bool = False


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read().strip()
    except OSError:
        return ""


def os_image() -> str:
    for line in _read("/etc/os-release").splitlines():
        if line.startswith("PRETTY_NAME="):
            return line.split("=", 1)[1].strip().strip('"')
    return platform.platform()


def machine_info(root_dir: str) -> MachineInfo:
    path = root_dir if os.path.exists(root_dir) else "/"
    return MachineInfo(
        hostname=socket.gethostname(), cpus=psutil.cpu_count() or 1, memory=psutil.virtual_memory().total,
        disk=shutil.disk_usage(path).total, kernel=platform.release(), os_image=os_image(),
        arch=_ARCH.get(platform.machine(), platform.machine()), machine_id=_read("/etc/machine-id"),
        boot_id=_read("/proc/sys/kernel/random/boot_id"))


def measure_pressure(root_dir: str) -> Pressure:
    """The eviction signals memory.available, nodefs.available and pid.available against their thresholds."""
    memory = psutil.virtual_memory().available < MEMORY_EVICTION
    path = root_dir if os.path.exists(root_dir) else "/"
    usage = shutil.disk_usage(path)
    disk = usage.free < usage.total * DISK_EVICTION_FRACTION
    pid_max = int(_read("/proc/sys/kernel/pid_max") or 0) or 32768
    pid = len(psutil.pids()) > pid_max * (1 - PID_EVICTION_FRACTION)
    return Pressure(memory, disk, pid)


def default_node_ip() -> str:
    """The IPv4 address of the interface that holds the default route, or 127.0.0.1."""
    iface = ""
    for line in _read("/proc/net/route").splitlines()[1:]:
        fields = line.split()
        if len(fields) > 2 and fields[1] == "00000000":
            iface = fields[0]
            break
    if iface:
        for addr in psutil.net_if_addrs().get(iface, []):
            if addr.family == socket.AF_INET:
                return addr.address
    return "127.0.0.1"


def parse_labels(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in (text or "").split(","):
        item = item.strip()
        if item:
            key, _, value = item.partition("=")
            out[key.strip()] = value.strip()
    return out


def parse_taints(text: str) -> list[Obj]:
    """`key=value:Effect,key:Effect` as --register-with-taints."""
    taints = []
    for item in (text or "").split(","):
        item = item.strip()
        if not item:
            continue
        kv, sep, effect = item.rpartition(":")
        if not sep:
            raise ValueError(f"taint {item!r} has no effect (key=value:Effect)")
        key, _, value = kv.partition("=")
        taint: Obj = {"key": key, "effect": effect}
        if value:
            taint["value"] = value
        taints.append(taint)
    return taints


def node_labels(node_name: str, info: MachineInfo, extra: dict[str, str], master: bool) -> dict[str, str]:
    labels = {"kubernetes.io/hostname": node_name, "kubernetes.io/os": "linux", "kubernetes.io/arch": info.arch,
              "beta.kubernetes.io/os": "linux", "beta.kubernetes.io/arch": info.arch}
    if master:
        labels["node-role.kubernetes.io/control-plane"] = ""
    labels.update(extra)
    return labels


def capacity(info: MachineInfo, max_pods: int) -> tuple[dict[str, str], dict[str, str]]:
    cap = {"cpu": str(info.cpus), "memory": f"{info.memory // 1024}Ki", "pods": str(max_pods),
           "ephemeral-storage": f"{info.disk // 1024}Ki"}
    alloc = {"cpu": str(info.cpus), "memory": f"{max(info.memory - MEMORY_EVICTION, 0) // 1024}Ki",
             "pods": str(max_pods), "ephemeral-storage": str(int(info.disk * (1 - DISK_EVICTION_FRACTION)))}
    return cap, alloc


def _cond(ctype: str, ok_value: str, bad: bool, ok_reason: str, ok_msg: str, bad_reason: str, bad_msg: str) -> Obj:
    value = ("True" if ok_value == "False" else "False") if bad else ok_value
    return {"type": ctype, "status": value, "reason": bad_reason if bad else ok_reason,
            "message": bad_msg if bad else ok_msg}


def node_conditions(pressure: Pressure, not_ready: str, old: list[Obj], now: float) -> list[Obj]:
    """MemoryPressure, DiskPressure, PIDPressure and Ready, heartbeat now, transitions kept."""
    conds = [
        _cond("MemoryPressure", "False", pressure.memory, "KubeletHasSufficientMemory",
              "kubelet has sufficient memory available", "KubeletHasInsufficientMemory",
              "kubelet has insufficient memory available"),
        _cond("DiskPressure", "False", pressure.disk, "KubeletHasNoDiskPressure", "kubelet has no disk pressure",
              "KubeletHasDiskPressure", "kubelet has disk pressure"),
        _cond("PIDPressure", "False", pressure.pid, "KubeletHasSufficientPID", "kubelet has sufficient PID available",
              "KubeletHasInsufficientPID", "kubelet has insufficient PID available"),
        _cond("Ready", "True", bool(not_ready), "KubeletReady", "kubelet is posting ready status",
              "KubeletNotReady", not_ready),
    ]
    stamp = rfc3339.format(now)
    by_type = {c.get("type"): c for c in old}
    for c in conds:
        prev = by_type.get(c["type"])
        c["lastHeartbeatTime"] = stamp
        c["lastTransitionTime"] = prev["lastTransitionTime"] if prev and prev.get("status") == c["status"] \
            and prev.get("lastTransitionTime") else stamp
    return conds


def build_status(*, info: MachineInfo, node_ip: str, port: int, max_pods: int, runtime_version: str,
                 pressure: Pressure, not_ready: str, old: Obj | None, images: list[Obj], now: float) -> Obj:
    cap, alloc = capacity(info, max_pods)
    return {
        "capacity": cap, "allocatable": alloc,
        "conditions": node_conditions(pressure, not_ready, (old or {}).get("conditions") or [], now),
        "addresses": [{"type": "InternalIP", "address": node_ip}, {"type": "Hostname", "address": info.hostname}],
        "daemonEndpoints": {"kubeletEndpoint": {"Port": port}},
        "nodeInfo": {
            "machineID": info.machine_id, "systemUUID": info.machine_id, "bootID": info.boot_id,
            "kernelVersion": info.kernel, "osImage": info.os_image,
            "containerRuntimeVersion": runtime_version, "kubeletVersion": KUBELET_VERSION,
            "kubeProxyVersion": "", "operatingSystem": "linux", "architecture": info.arch,
        },
        "images": images,
    }


def status_changed(old: Obj | None, new: Obj) -> bool:
    """Whether anything besides heartbeat times differs."""
    def strip(s: Obj | None) -> Obj:
        s = dict(s or {})
        s["conditions"] = [{k: v for k, v in c.items() if k != "lastHeartbeatTime"} for c in s.get("conditions") or []]
        return s
    return not status_mod.same(strip(old), strip(new))


def build_lease(node: Obj, duration: int, now: float) -> Obj:
    name = node["metadata"]["name"]
    lease: Obj = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                  "metadata": {"name": name, "namespace": LEASE_NAMESPACE},
                  "spec": {"holderIdentity": name, "leaseDurationSeconds": duration,
                           "renewTime": rfc3339.format_micro(now)}}
    if node["metadata"].get("uid"):
        lease["metadata"]["ownerReferences"] = [owners.owner_ref("v1", "Node", name, node["metadata"]["uid"])]
    return lease


@dataclasses.dataclass
class NodeSettings:
    name: str
    node_ip: str
    port: int
    root_dir: str
    pod_cidr: str = ""
    labels: dict[str, str] = dataclasses.field(default_factory=dict)
    taints: list[Obj] = dataclasses.field(default_factory=list)
    master: bool = False
    max_pods: int = 110
    lease_interval: float = 10.0
    status_update_interval: float = 10.0
    status_report_interval: float = 60.0


class NodeStatusManager:
    """Registers the node and keeps its status and Lease fresh."""

    def __init__(self, client: rest.Client, rt: runtime.Runtime, settings: NodeSettings,
                 not_ready: Callable[[], Awaitable[str]], *, clock: Callable[[], float] = time.time) -> None:
        self.client = client
        self.runtime = rt
        self.settings = settings
        self.not_ready = not_ready
        self.clock = clock
        self.info = machine_info(settings.root_dir)
        self.runtime_version = ""
        self.node: Obj | None = None
        self._last_status: Obj | None = None
        self._last_report = 0.0
        self.registered = asyncio.Event()

    async def _runtime_version(self) -> str:
        if not self.runtime_version:
            try:
                v = await self.runtime.version()
                self.runtime_version = f"{v.name}://{v.version}"
            except Exception as e:  # noqa: BLE001 - an engine that does not answer shows as not ready
                log.warning("cannot read the container runtime version: %r", e)
                return "docker://unknown"
        return self.runtime_version

    async def _images(self) -> list[Obj]:
        try:
            images = await self.runtime.list_images()
        except Exception:  # noqa: BLE001
            return []
        out = []
        for img in sorted(images, key=lambda i: -int(i.get("Size") or 0))[:MAX_IMAGES]:
            names = [t for t in (img.get("RepoTags") or []) if t != "<none>:<none>"] + list(img.get("RepoDigests") or [])
            if names:
                out.append({"names": names, "sizeBytes": int(img.get("Size") or 0)})
        return out

    async def compute_status(self) -> Obj:
        pressure = await asyncio.to_thread(measure_pressure, self.settings.root_dir)
        s = self.settings
        return build_status(info=self.info, node_ip=s.node_ip, port=s.port, max_pods=s.max_pods,
                            runtime_version=await self._runtime_version(), pressure=pressure,
                            not_ready=await self.not_ready(), old=self._last_status or (self.node or {}).get("status"),
                            images=await self._images(), now=self.clock())

    def initial_node(self, status: Obj) -> Obj:
        s = self.settings
        node: Obj = {"apiVersion": "v1", "kind": "Node",
                     "metadata": {"name": s.name, "labels": node_labels(s.name, self.info, s.labels, s.master)},
                     "spec": {}, "status": status}
        if s.taints:
            node["spec"]["taints"] = s.taints
        if s.pod_cidr:
            node["spec"]["podCIDR"] = s.pod_cidr
            node["spec"]["podCIDRs"] = [s.pod_cidr]
        return node

    async def register(self) -> Obj:
        """Create the Node, or adopt an existing one (its labels brought up to date); retried until it works."""
        delay = 0.2
        while True:
            try:
                status = await self.compute_status()
                try:
                    node = await self.client.create(NODES, self.initial_node(status))
                    log.info("registered node %s", self.settings.name)
                except errors.AlreadyExists:
                    node = await self._reconcile_existing(status)
                self.node = node
                self._last_status = node.get("status")
                self._last_report = self.clock()
                self.registered.set()
                return node
            except errors.StatusError as e:
                log.warning("registering node %s failed: %s; retrying in %.1fs", self.settings.name, e.message, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 7.0)

    async def _reconcile_existing(self, status: Obj) -> Obj:
        s = self.settings
        node = await self.client.get(NODES, s.name)
        labels = node_labels(s.name, self.info, s.labels, s.master)
        patch: Obj = {}
        current = node["metadata"].get("labels") or {}
        if any(current.get(k) != v for k, v in labels.items()):
            patch["metadata"] = {"labels": labels}
        if s.pod_cidr and not (node.get("spec") or {}).get("podCIDR"):
            patch["spec"] = {"podCIDR": s.pod_cidr, "podCIDRs": [s.pod_cidr]}
        if patch:
            node = await self.client.patch(NODES, s.name, patch)
        node["status"] = status
        node = await self.client.update_status(NODES, node)
        log.info("node %s already registered; adopted it", s.name)
        return node

    async def update_status(self, force: bool = False) -> bool:
        """Write the node's status if it changed or is due; True if written."""
        status = await self.compute_status()
        due = self.clock() - self._last_report >= self.settings.status_report_interval
        if not (force or due or status_changed(self._last_status, status)):
            return False
        try:
            node = await self.client.get(NODES, self.settings.name)
        except errors.NotFound:
            log.warning("node %s was deleted; registering it again", self.settings.name)
            await self.register()
            return True
        node["status"] = status
        self.node = await self.client.update_status(NODES, node)
        self._last_status = status
        self._last_report = self.clock()
        return True

    async def renew_lease(self) -> None:
        assert self.node is not None
        lease = build_lease(self.node, LEASE_DURATION, self.clock())
        # A renewal that hangs (an API server starting up) must not hold up the
        # next one: give up after about one interval.
        await self.client.update(LEASES, lease, timeout=max(1.0, self.settings.lease_interval))

    async def run_status_loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.status_update_interval)
            try:
                await self.update_status()
            except asyncio.CancelledError:
                raise
            except Exception as e:  # noqa: BLE001 - the loop must survive an API outage
                log.warning("updating node status failed: %r", e)

    async def run_lease_loop(self) -> None:
        while True:
            try:
                await self.renew_lease()
            except asyncio.CancelledError:
                raise
            except Exception as e:  # noqa: BLE001
                log.warning("renewing the node lease failed: %r", e)
            await asyncio.sleep(self.settings.lease_interval)
