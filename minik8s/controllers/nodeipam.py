"""Pod CIDR allocation: every node gets its own slice of the cluster CIDR.

As Kubernetes' node IPAM (range allocator): a node without `spec.podCIDR` gets
the first free /24 (configurable) of the cluster CIDR (default 10.244.0.0/16);
a node that registers with one (its kubelet's --pod-cidr) keeps it and the
range counts as used. A deleted node's range is free again because "used" is
always recomputed from the nodes that exist, plus the ranges this process has
just handed out and not yet seen come back through the watch.
"""
from __future__ import annotations

import ipaddress
import logging
from typing import Any

from minik8s.api import errors
from minik8s.api import resources
from minik8s.client import informer as informer_mod
from minik8s.client import rest
from minik8s.controllers import base

log = logging.getLogger(__name__)

NODES = resources.must("", "v1", "nodes")


class NodeIpamController(base.Controller):
    name = "nodeipam"
    workers = 1  # one worker: allocation decisions must not race each other

    def __init__(self, client: rest.Client, factory: informer_mod.InformerFactory, *,
                 cluster_cidr: str = "10.244.0.0/16", node_mask: int = 24) -> None:
        super().__init__()
        self.client = client
        self.network = ipaddress.ip_network(cluster_cidr)
        if node_mask < self.network.prefixlen:
            raise ValueError(f"node CIDR mask /{node_mask} is larger than the cluster CIDR {cluster_cidr}")
        self.node_mask = node_mask
        self.nodes = factory.informer(NODES)
        self.assigned: dict[str, str] = {}  # node → CIDR handed out, until seen through the watch
        self.nodes.add_handlers(on_add=self._changed, on_update=lambda _o, n: self._changed(n),
                                on_delete=self._deleted)

    def _deleted(self, node: dict[str, Any]) -> None:
        self.assigned.pop(node["metadata"]["name"], None)

    def _changed(self, node: dict[str, Any]) -> None:
        if not (node.get("spec") or {}).get("podCIDR"):
            self.enqueue(node["metadata"]["name"])
        else:
            self.assigned.pop(node["metadata"]["name"], None)

    def used(self) -> set[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        out = set()
        for node in self.nodes.store.values():
            cidr = (node.get("spec") or {}).get("podCIDR")
            if cidr:
                out.add(ipaddress.ip_network(cidr, strict=False))
        out |= {ipaddress.ip_network(c) for c in self.assigned.values()}
        return out

    def next_free(self) -> str:
        used = self.used()
        for subnet in self.network.subnets(new_prefix=self.node_mask):
            if not any(subnet.overlaps(u) for u in used):
                return str(subnet)
        raise errors.StatusError(500, "InternalError", f"no pod CIDR left in {self.network}")

    async def sync(self, key: str) -> None:
        node = self.nodes.get(key)
        if node is None or (node.get("spec") or {}).get("podCIDR"):
            return
        cidr = self.assigned.get(key) or self.next_free()
        self.assigned[key] = cidr
        await self.client.patch(NODES, key, {"spec": {"podCIDR": cidr, "podCIDRs": [cidr]}})
        log.info("node %s: pod CIDR %s", key, cidr)
