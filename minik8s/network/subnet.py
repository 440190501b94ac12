"""What a node tells the others about its pod network: flannel's annotations on the Node.

flannel with `--kube-subnet-mgr` keeps no store of its own: a node's subnet is its
`spec.podCIDR` (handed out by the controller manager's node IPAM), and each agent
publishes how to reach it as annotations on its own Node. Every other agent reads
them back into a `Lease` and programs a path to that subnet. We use flannel's
annotation names so that the data looks familiar to anyone who has run flannel.
"""
from __future__ import annotations

import dataclasses
import ipaddress
import json
import logging
from collections.abc import Iterable
from typing import Any

log = logging.getLogger(__name__)

PREFIX = "flannel.alpha.coreos.com/"
BACKEND_TYPE = PREFIX + "backend-type"
BACKEND_DATA = PREFIX + "backend-data"
PUBLIC_IP = PREFIX + "public-ip"
SUBNET_MANAGER = PREFIX + "kube-subnet-manager"

VXLAN = "vxlan"
HOST_GW = "host-gw"
BACKENDS = (VXLAN, HOST_GW)

Network = ipaddress.IPv4Network


@dataclasses.dataclass(frozen=True, order=True)
class Lease:
    """One other node's pod subnet and how to reach it."""

    node: str
    subnet: Network
    public_ip: str
    backend_type: str
    vtep_mac: str = ""  # vxlan only
    vni: int = 0  # vxlan only


def pod_cidr(node: dict[str, Any]) -> Network | None:
    """The node's IPv4 pod CIDR, or None while it has none (or an unusable one)."""
    text = (node.get("spec") or {}).get("podCIDR")
    if not text:
        return None
    try:
        net = ipaddress.ip_network(text, strict=False)
    except ValueError:
        log.warning("node %s: podCIDR %r is not a CIDR", node["metadata"]["name"], text)
        return None
    return net if isinstance(net, ipaddress.IPv4Network) else None


def encode_backend_data(data: dict[str, Any] | None) -> str:
    # flannel writes Go's json.Marshal output: compact, and "null" for host-gw.
    return json.dumps(data, separators=(",", ":"))


def node_annotations(backend_type: str, public_ip: str, data: dict[str, Any] | None) -> dict[str, str]:
    """The annotations a node publishes about itself."""
    return {
        BACKEND_TYPE: backend_type,
        BACKEND_DATA: encode_backend_data(data),
        PUBLIC_IP: public_ip,
        SUBNET_MANAGER: "true",
    }


def lease_of(node: dict[str, Any]) -> Lease | None:
    """A Lease from a Node's podCIDR and annotations; None while they are incomplete."""
    name = node["metadata"]["name"]
    subnet = pod_cidr(node)
    notes = node["metadata"].get("annotations") or {}
    backend_type = notes.get(BACKEND_TYPE)
    public_ip = notes.get(PUBLIC_IP)
    if subnet is None or not backend_type or not public_ip:
        return None
    try:
        ipaddress.IPv4Address(public_ip)
    except ValueError:
        log.warning("node %s: %s %r is not an IPv4 address", name, PUBLIC_IP, public_ip)
        return None
    if backend_type != VXLAN:
        return Lease(name, subnet, public_ip, backend_type)
    try:
        data = json.loads(notes.get(BACKEND_DATA) or "null") or {}
        mac = str(data["VtepMAC"]).lower()
        vni = int(data.get("VNI", 1))
    except (ValueError, KeyError, TypeError):
        log.warning("node %s: unusable %s %r", name, BACKEND_DATA, notes.get(BACKEND_DATA))
        return None
    return Lease(name, subnet, public_ip, backend_type, vtep_mac=mac, vni=vni)


def leases(nodes: Iterable[dict[str, Any]], *, own_node: str, backend_type: str,
           cluster_cidr: Network) -> list[Lease]:
    """The other nodes this agent programs a path to, sorted by node name.

    As flannel, only nodes on the same backend count: a vxlan node cannot
    decapsulate what a host-gw route would send it, nor the other way round.
    Subnets outside the cluster CIDR are ignored rather than routed, so a stray
    podCIDR cannot steal traffic for addresses the cluster does not own.
    """
    out = []
    for node in nodes:
        name = node["metadata"]["name"]
        if name == own_node:
            continue
        lease = lease_of(node)
        if lease is None:
            continue
        if lease.backend_type != backend_type:
            log.info("node %s runs backend %s, not %s: no route to %s", name, lease.backend_type,
                     backend_type, lease.subnet)
            continue
        if not lease.subnet.subnet_of(cluster_cidr):
            log.warning("node %s: pod CIDR %s is outside the cluster CIDR %s", name, lease.subnet, cluster_cidr)
            continue
        out.append(lease)
    return sorted(out)


def relevant(node: dict[str, Any]) -> tuple[Any, ...]:
    """The parts of a Node the agent acts on; a change elsewhere needs no sync."""
    notes = node["metadata"].get("annotations") or {}
    return ((node.get("spec") or {}).get("podCIDR"),
            tuple(sorted((k, v) for k, v in notes.items() if k.startswith(PREFIX))))
