"""What a hollow node writes: its Node, its Lease, its pods' status, and their fake IPs.

Pure functions (no I/O) so that they are tested without an API server. The
shapes are the kubelet's: a Node with capacity = allocatable, the four node
conditions and an InternalIP; a Lease in kube-node-lease owned by the Node;
and for a pod the status a kubelet reports once every container started and
passed readiness: phase Running, Initialized/Ready/ContainersReady True, a
pod IP, and a running containerStatus per container.
"""
from __future__ import annotations

import dataclasses
import ipaddress
from typing import Any

from minik8s.api import conditions
from minik8s.api import owners
from minik8s.api import pods as podutil
from minik8s.api import rfc3339

Obj = dict[str, Any]

KUBELET_VERSION = "v1.32.0-hollow"
LEASE_NAMESPACE = "kube-node-lease"
LEASE_DURATION = 40
HOLLOW_LABEL = "minik8s.io/hollow-node"


@dataclasses.dataclass(frozen=True)
class NodeSpec:
    """How every hollow node of one process looks."""

    cpu: str = "4"
    memory: str = "16Gi"
    pods: int = 110
    labels: tuple[tuple[str, str], ...] = ()
    pod_cidr: str = "10.128.0.0/9"
    node_cidr: str = "10.127.0.0/16"


def pod_subnet(spec: NodeSpec, index: int) -> ipaddress.IPv4Network:
    """The index-th block of the pod CIDR, big enough for `spec.pods` pods (at least a /24)."""
    net = ipaddress.IPv4Network(spec.pod_cidr)
    size = 256
    while size - 3 < spec.pods:
        size *= 2
    prefix = 32 - (size.bit_length() - 1)
    if prefix < net.prefixlen:
        raise ValueError(f"pod CIDR {spec.pod_cidr} is too small for {spec.pods} pods per node")
    blocks = 2 ** (prefix - net.prefixlen)
    if index >= blocks:
        raise ValueError(f"pod CIDR {spec.pod_cidr} has room for {blocks} nodes, not {index + 1}")
    return ipaddress.IPv4Network((int(net.network_address) + index * size, prefix))


def node_ip(spec: NodeSpec, index: int) -> str:
    net = ipaddress.IPv4Network(spec.node_cidr)
    if index + 2 >= net.num_addresses:
        raise ValueError(f"node CIDR {spec.node_cidr} has no address for node {index}")
    return str(net.network_address + index + 1)


def _conditions(now: str, since: str) -> list[Obj]:
    def cond(ctype: str, status: str, reason: str, message: str) -> Obj:
        return {"type": ctype, "status": status, "reason": reason, "message": message,
                "lastHeartbeatTime": now, "lastTransitionTime": since}
    return [
        cond("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
        cond("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
        cond("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
        cond("Ready", "True", "KubeletReady", "kubelet is posting ready status (hollow node)"),
    ]


def node_status(spec: NodeSpec, index: int, *, now: str, since: str) -> Obj:
    resources = {"cpu": spec.cpu, "memory": spec.memory, "pods": str(spec.pods), "ephemeral-storage": "100Gi"}
    return {
        "capacity": dict(resources),
        "allocatable": dict(resources),
        "conditions": _conditions(now, since),
        "addresses": [{"type": "InternalIP", "address": node_ip(spec, index)},
                      {"type": "Hostname", "address": ""}],
        "daemonEndpoints": {"kubeletEndpoint": {"Port": 0}},
        "nodeInfo": {"machineID": "", "systemUUID": "", "bootID": "", "kernelVersion": "hollow",
                     "osImage": "minik8s hollow node", "containerRuntimeVersion": "hollow://0",
                     "kubeletVersion": KUBELET_VERSION, "kubeProxyVersion": "", "operatingSystem": "linux",
                     "architecture": "amd64"},
    }


def node_object(spec: NodeSpec, name: str, index: int, *, now: str | None = None) -> Obj:
    now = now or rfc3339.now()
    labels = {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
              "beta.kubernetes.io/os": "linux", "beta.kubernetes.io/arch": "amd64", HOLLOW_LABEL: "true",
              **dict(spec.labels)}
    status = node_status(spec, index, now=now, since=now)
    status["addresses"][1]["address"] = name
    subnet = str(pod_subnet(spec, index))
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": labels},
            "spec": {"podCIDR": subnet, "podCIDRs": [subnet]}, "status": status}


def lease_object(name: str, node_uid: str | None, *, now: str | None = None) -> Obj:
    meta: Obj = {"name": name, "namespace": LEASE_NAMESPACE}
    if node_uid:
        meta["ownerReferences"] = [owners.owner_ref("v1", "Node", name, node_uid)]
    now = now or rfc3339.now_micro()
    return {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": meta,
            "spec": {"holderIdentity": name, "leaseDurationSeconds": LEASE_DURATION, "renewTime": now}}


def needs_running_status(pod: Obj) -> bool:
    """Whether the pod still lacks the status a hollow node reports (Running, Ready, an IP)."""
    status = pod.get("status") or {}
    if status.get("phase") in ("Succeeded", "Failed"):
        return False
    if status.get("phase") != "Running" or not status.get("podIP"):
        return True
    return not podutil.is_ready(pod)


def running_status(pod: Obj, *, pod_ip: str, host_ip: str, now: str | None = None) -> Obj:
    now = now or rfc3339.now()
    spec, old = pod.get("spec") or {}, pod.get("status") or {}
    uid = pod["metadata"].get("uid", "")
    scheduled = conditions.get(pod, "PodScheduled")

    def cond(ctype: str) -> Obj:
        return {"type": ctype, "status": "True", "lastProbeTime": None, "lastTransitionTime": now}

    conds = [cond("PodReadyToStartContainers"), cond("Initialized"), cond("Ready"), cond("ContainersReady"),
             scheduled or cond("PodScheduled")]

    def running(c: Obj) -> Obj:
        return {"name": c["name"], "ready": True, "started": True, "restartCount": 0, "image": c.get("image", ""),
                "imageID": f"hollow://{c.get('image', '')}", "containerID": f"hollow://{uid}/{c['name']}",
                "state": {"running": {"startedAt": now}}, "lastState": {}}

    def completed(c: Obj) -> Obj:
        return {"name": c["name"], "ready": True, "restartCount": 0, "image": c.get("image", ""),
                "imageID": f"hollow://{c.get('image', '')}", "containerID": f"hollow://{uid}/{c['name']}",
                "state": {"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": now,
                                         "finishedAt": now}}, "lastState": {}}

    status: Obj = {
        "phase": "Running", "conditions": conds, "hostIP": host_ip, "hostIPs": [{"ip": host_ip}],
        "podIP": pod_ip, "podIPs": [{"ip": pod_ip}], "startTime": old.get("startTime") or now,
        "containerStatuses": [running(c) for c in spec.get("containers") or []],
    }
    if spec.get("initContainers"):
        status["initContainerStatuses"] = [running(c) if c.get("restartPolicy") == "Always" else completed(c)
                                           for c in spec["initContainers"]]
    return status


class IPAllocator:
    """Pod IPs of one node's subnet, by pod uid; .0, .1 (the node's bridge) and broadcast stay free."""

    def __init__(self, subnet: ipaddress.IPv4Network) -> None:
        self.subnet = subnet
        self.by_uid: dict[str, str] = {}
        self._used: set[int] = set()
        self._next = 2

    def allocate(self, uid: str) -> str:
        if uid in self.by_uid:
            return self.by_uid[uid]
        size = self.subnet.num_addresses
        for _ in range(size):
            offset = self._next
            self._next = self._next + 1 if self._next + 1 < size - 1 else 2
            if offset not in self._used:
                self._used.add(offset)
                ip = str(self.subnet.network_address + offset)
                self.by_uid[uid] = ip
                return ip
        raise RuntimeError(f"no free pod IP left in {self.subnet}")

    def claim(self, uid: str, ip: str) -> None:
        """Record an IP a pod already has (a restarted hollow node adopting its pods)."""
        try:
            addr = ipaddress.IPv4Address(ip)
        except ValueError:
            return
        if addr in self.subnet:
            self._used.add(int(addr) - int(self.subnet.network_address))
            self.by_uid[uid] = ip

    def release(self, uid: str) -> None:
        ip = self.by_uid.pop(uid, None)
        if ip is not None:
            self._used.discard(int(ipaddress.IPv4Address(ip)) - int(self.subnet.network_address))
