"""What the scheduler knows about one node: the Node and the pods counted against it.

A `PodInfo` is a pod with everything the plugins ask about it worked out once
(requests, host ports, disk volumes, owner), because the scheduler evaluates
one pod against every node and a node's pods on every decision.

Requests follow Kubernetes' rules (resource.PodRequests): the sum over the
containers, raised to the largest init container where that is bigger (init
containers run one at a time before the others), plus `spec.overhead`. A
container that requests nothing counts as nothing for fit, but as 100m CPU and
200Mi memory for scoring (GetNonzeroRequests), so a node full of best-effort
pods does not look empty to the least-requested score.
"""
from __future__ import annotations

import dataclasses
import functools
from typing import Any

from minik8s.api import conditions
from minik8s.api import owners
from minik8s.api import quantity

Obj = dict[str, Any]

DEFAULT_MILLI_CPU_REQUEST = 100
DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024
DEFAULT_MAX_PODS = 110
# Network block devices that one writer at a time may attach (see volumerestrictions).
DISK_VOLUME_TYPES = ("gcePersistentDisk", "awsElasticBlockStore", "iscsi", "rbd")


# Pods repeat the same few spellings ("100m", "128Mi"); parsing exactly is not free.
@functools.lru_cache(maxsize=4096)
def _millis_of(text: str) -> int:
    return quantity.cpu_millis(text)


@functools.lru_cache(maxsize=4096)
def _bytes_of(text: str) -> int:
    return quantity.to_bytes(text)


def _millis(value: Any) -> int:
    return _millis_of(str(value))


def _bytes(value: Any) -> int:
    return _bytes_of(str(value))


def _container_requests(c: Obj) -> tuple[int, int, int, int]:
    """(cpu, memory, non-zero cpu, non-zero memory) of one container."""
    req = (c.get("resources") or {}).get("requests") or {}
    cpu = _millis(req["cpu"]) if "cpu" in req else None
    mem = _bytes(req["memory"]) if "memory" in req else None
    return (cpu or 0, mem or 0,
            DEFAULT_MILLI_CPU_REQUEST if cpu is None else cpu,
            DEFAULT_MEMORY_REQUEST if mem is None else mem)


def pod_requests(pod: Obj) -> tuple[int, int, int, int]:
    """(milli CPU, memory bytes, non-zero milli CPU, non-zero memory bytes) the pod asks for.

    As resource.PodRequests: sidecars (init containers with restartPolicy Always)
    keep running, so they add to the containers and to every later init container.
    """
    spec = pod.get("spec") or {}
    total = [0, 0, 0, 0]
    for c in spec.get("containers") or []:
        total = [a + b for a, b in zip(total, _container_requests(c))]
    sidecars = [0, 0, 0, 0]
    init_peak = [0, 0, 0, 0]
    for c in spec.get("initContainers") or []:
        req = list(_container_requests(c))
        if c.get("restartPolicy") == "Always":
            total = [a + b for a, b in zip(total, req)]
            sidecars = [a + b for a, b in zip(sidecars, req)]
            req = sidecars
        else:
            req = [a + b for a, b in zip(req, sidecars)]
        init_peak = [max(a, b) for a, b in zip(init_peak, req)]
    cpu, mem, nz_cpu, nz_mem = (max(a, b) for a, b in zip(total, init_peak))
    overhead = spec.get("overhead") or {}
    if "cpu" in overhead:
        extra = _millis(overhead["cpu"])
        cpu, nz_cpu = cpu + extra, nz_cpu + extra
    if "memory" in overhead:
        extra = _bytes(overhead["memory"])
        mem, nz_mem = mem + extra, nz_mem + extra
    return cpu, mem, nz_cpu, nz_mem


@dataclasses.dataclass(frozen=True)
class HostPort:
    ip: str  # "0.0.0.0" stands for every address
    protocol: str
    port: int

    def conflicts(self, other: "HostPort") -> bool:
        """As Kubernetes' HostPortInfo: same protocol and port, and an address in common."""
        if self.port != other.port or self.protocol != other.protocol:
            return False
        return self.ip == other.ip or self.ip == "0.0.0.0" or other.ip == "0.0.0.0"


def host_ports(pod: Obj) -> tuple[HostPort, ...]:
    out = []
    spec = pod.get("spec") or {}
    for c in list(spec.get("initContainers") or []) + list(spec.get("containers") or []):
        for p in c.get("ports") or []:
            hp = int(p.get("hostPort") or 0)
            if hp > 0:
                out.append(HostPort(p.get("hostIP") or "0.0.0.0", p.get("protocol") or "TCP", hp))
    return tuple(out)


class PodInfo:
    """A pod plus the facts the plugins need, computed once."""

    def __init__(self, pod: Obj) -> None:
        meta = pod["metadata"]
        self.pod = pod
        self.namespace: str = meta.get("namespace") or ""
        self.name: str = meta["name"]
        self.key = f"{self.namespace}/{self.name}"
        self.uid: str = meta.get("uid") or self.key
        self.node_name: str = (pod.get("spec") or {}).get("nodeName") or ""
        self.milli_cpu, self.memory, self.nz_milli_cpu, self.nz_memory = pod_requests(pod)
        self.ports = host_ports(pod)
        ref = owners.controller_ref(pod)
        self.owner_uid = "" if ref is None else ref.get("uid") or f"{ref.get('kind')}/{ref.get('name')}"
        self.terminating = bool(meta.get("deletionTimestamp"))

    @property
    def spec(self) -> Obj:
        return self.pod.get("spec") or {}

    @functools.cached_property
    def disks(self) -> tuple[Obj, ...]:
        """The volumes that are single-writer disks (what the volume-conflict filter compares)."""
        return tuple(v for v in self.spec.get("volumes") or () if any(k in v for k in DISK_VOLUME_TYPES))

    @functools.cached_property
    def priority(self) -> int:
        return int(self.spec.get("priority") or 0)

    def __repr__(self) -> str:
        return f"PodInfo({self.key})"


def _node_allocatable(node: Obj) -> tuple[int, int, int]:
    status = node.get("status") or {}
    alloc = status.get("allocatable") or status.get("capacity") or {}
    cpu = _millis(alloc["cpu"]) if "cpu" in alloc else 0
    mem = _bytes(alloc["memory"]) if "memory" in alloc else 0
    pods = int(quantity.to_bytes(str(alloc["pods"]))) if "pods" in alloc else DEFAULT_MAX_PODS
    return cpu, mem, pods


class NodeInfo:
    """A Node and the pods (bound or assumed) counted against it, with running totals.

    `node` is None while pods name a node the cache has not seen (yet); such an
    entry only keeps the totals and is never offered to the plugins.
    """

    def __init__(self, name: str, node: Obj | None = None) -> None:
        self.name = name
        self.node: Obj | None = None
        self.labels: dict[str, str] = {}
        self.taints: list[Obj] = []
        self.unschedulable = False
        self.ready = False
        self.alloc_milli_cpu = self.alloc_memory = self.alloc_pods = 0
        self.pods: dict[str, PodInfo] = {}
        self.requested_milli_cpu = self.requested_memory = 0
        self.nz_requested_milli_cpu = self.nz_requested_memory = 0
        self.used_ports: list[HostPort] = []
        self.owner_counts: dict[str, int] = {}
        # Pods that carry a volume the volume-conflict filter cares about.
        self.pods_with_disks: dict[str, PodInfo] = {}
        if node is not None:
            self.set_node(node)

    def set_node(self, node: Obj) -> None:
        self.node = node
        meta, spec = node["metadata"], node.get("spec") or {}
        self.labels = dict(meta.get("labels") or {})
        self.taints = list(spec.get("taints") or [])
        self.unschedulable = bool(spec.get("unschedulable"))
        self.ready = conditions.is_true(node, "Ready")
        self.alloc_milli_cpu, self.alloc_memory, self.alloc_pods = _node_allocatable(node)

    def add_pod(self, pi: PodInfo) -> None:
        if pi.uid in self.pods:
            self.remove_pod(self.pods[pi.uid])
        self.pods[pi.uid] = pi
        self.requested_milli_cpu += pi.milli_cpu
        self.requested_memory += pi.memory
        self.nz_requested_milli_cpu += pi.nz_milli_cpu
        self.nz_requested_memory += pi.nz_memory
        self.used_ports.extend(pi.ports)
        if pi.owner_uid and not pi.terminating:
            self.owner_counts[pi.owner_uid] = self.owner_counts.get(pi.owner_uid, 0) + 1
        if pi.disks:
            self.pods_with_disks[pi.uid] = pi

    def remove_pod(self, pi: PodInfo) -> None:
        old = self.pods.pop(pi.uid, None)
        if old is None:
            return
        self.requested_milli_cpu -= old.milli_cpu
        self.requested_memory -= old.memory
        self.nz_requested_milli_cpu -= old.nz_milli_cpu
        self.nz_requested_memory -= old.nz_memory
        for p in old.ports:
            self.used_ports.remove(p)
        if old.owner_uid and not old.terminating:
            n = self.owner_counts.get(old.owner_uid, 0) - 1
            if n > 0:
                self.owner_counts[old.owner_uid] = n
            else:
                self.owner_counts.pop(old.owner_uid, None)
        self.pods_with_disks.pop(old.uid, None)

    def __repr__(self) -> str:
        return (f"NodeInfo({self.name}, pods={len(self.pods)}, cpu={self.requested_milli_cpu}/"
                f"{self.alloc_milli_cpu}m, mem={self.requested_memory}/{self.alloc_memory})")


def make_node(name: str, *, cpu: str = "4", memory: str = "16Gi", pods: int = DEFAULT_MAX_PODS,
              labels: dict[str, str] | None = None, taints: list[Obj] | None = None,
              ready: bool = True, unschedulable: bool = False) -> Obj:
    """A minimal Node object (tests and hollow nodes build theirs on this shape)."""
    node: Obj = {
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, **(labels or {})}},
        "spec": {},
        "status": {"capacity": {"cpu": cpu, "memory": memory, "pods": str(pods)},
                   "allocatable": {"cpu": cpu, "memory": memory, "pods": str(pods)},
                   "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]},
    }
    if taints:
        node["spec"]["taints"] = taints
    if unschedulable:
        node["spec"]["unschedulable"] = True
    return node
