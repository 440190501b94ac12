"""The vxlan backend: the seed's overlay tunnel between nodes, as flannel builds it.

Each node has one VXLAN device, `flannel.<VNI>`, whose address is the first (.0)
address of its pod CIDR as a /32. A pod packet for another node's subnet is
routed `via <remote .0> dev flannel.1 onlink`; a permanent neighbour entry
resolves that .0 to the remote device's MAC without ARP, and an FDB entry on the
device sends frames for that MAC inside UDP to the remote node's IP (port 8472,
Linux's and flannel's default). `nolearning` because the agent, not flooding,
fills the FDB.

The device's MAC is whatever the kernel gave it; other nodes learn it from this
node's backend-data annotation (`{"VNI":1,"VtepMAC":"..."}`).
"""
from __future__ import annotations

import ipaddress
import json
import logging
from collections.abc import Sequence
from typing import Any

from minik8s.network import backend as backend_mod
from minik8s.network import routes
from minik8s.network import runner as runner_mod
from minik8s.network import subnet as subnet_mod

log = logging.getLogger(__name__)

# The VXLAN header and outer IPv4/UDP/Ethernet headers take 50 bytes of the link's MTU.
OVERHEAD = 50


def device_name(vni: int) -> str:
    return f"flannel.{vni}"


def vtep_address(subnet: ipaddress.IPv4Network) -> str:
    return f"{subnet.network_address}/32"


class VxlanBackend:
    type = subnet_mod.VXLAN

    def __init__(self, run: runner_mod.Runner, iface: backend_mod.Interface, cluster_cidr: ipaddress.IPv4Network,
                 *, vni: int = 1, port: int = 8472, mtu: int = 0) -> None:
        self.run = run
        self.iface = iface
        self.cluster_cidr = cluster_cidr
        self.vni = vni
        self.port = port
        self.mtu = mtu or iface.mtu - OVERHEAD
        self.dev = device_name(vni)

    # -- this node's device -------------------------------------------------------------------

    async def _link(self) -> dict[str, Any] | None:
        result = await self.run.run(("ip", "-j", "-d", "addr", "show", "dev", self.dev), check=False)
        if not result.ok:
            return None
        links = json.loads(result.stdout or "[]")
        return links[0] if links else None

    def compatible(self, link: dict[str, Any]) -> bool:
        """Whether an existing device is the one we would create (else it is recreated)."""
        info = (link.get("linkinfo") or {})
        data = info.get("info_data") or {}
        return (info.get("info_kind") == "vxlan" and data.get("id") == self.vni
                and data.get("local") == self.iface.ip and data.get("port") == self.port
                and not data.get("learning", False))

    def create_argv(self) -> tuple[str, ...]:
        return ("ip", "link", "add", self.dev, "type", "vxlan", "id", str(self.vni), "local", self.iface.ip,
                "dev", self.iface.name, "dstport", str(self.port), "nolearning")

    async def setup(self, own_subnet: ipaddress.IPv4Network) -> dict[str, Any]:
        """Make sure flannel.<VNI> exists as configured, carries the VTEP address and is up."""
        link = await self._link()
        if link is not None and not self.compatible(link):
            log.info("%s exists with other settings (%s); recreating it", self.dev,
                     (link.get("linkinfo") or {}).get("info_data"))
            await self.run.run(("ip", "link", "del", self.dev))
            link = None
        if link is None:
            await self.run.run(self.create_argv())
            log.info("created %s (VNI %d, local %s, port %d)", self.dev, self.vni, self.iface.ip, self.port)
            link = await self._link()
            if link is None:
                raise runner_mod.CommandError(("ip", "link", "show", self.dev), runner_mod.Result(1, "", "vanished"))
        if link.get("mtu") != self.mtu:
            await self.run.run(("ip", "link", "set", "dev", self.dev, "mtu", str(self.mtu)))
        want = vtep_address(own_subnet)
        have = {f"{a['local']}/{a['prefixlen']}" for a in link.get("addr_info") or [] if a.get("family") == "inet"}
        for stale in sorted(have - {want}):
            await self.run.run(("ip", "addr", "del", stale, "dev", self.dev))
        if want not in have:
            await self.run.run(("ip", "addr", "add", want, "dev", self.dev))
        if "UP" not in (link.get("flags") or []):
            await self.run.run(("ip", "link", "set", "dev", self.dev, "up"))
        return {"VNI": self.vni, "VtepMAC": str(link["address"]).lower()}

    # -- the paths to other nodes -------------------------------------------------------------

    def desired(self, leases: Sequence[subnet_mod.Lease]) -> routes.State:
        route_set, fdb, neigh = set(), set(), set()
        for lease in leases:
            if lease.vni != self.vni:
                log.warning("node %s uses VNI %d, this node %d: no route to %s", lease.node, lease.vni,
                            self.vni, lease.subnet)
                continue
            vtep = str(lease.subnet.network_address)
            fdb.add(routes.Fdb(lease.vtep_mac, lease.public_ip, self.dev))
            neigh.add(routes.Neigh(vtep, lease.vtep_mac, self.dev))
            route_set.add(routes.Route(str(lease.subnet), vtep, self.dev, onlink=True))
        return routes.State(frozenset(route_set), frozenset(fdb), frozenset(neigh))

    async def observe(self) -> routes.State:
        route_set = await routes.observe_routes(self.run, self.cluster_cidr)
        fdb, neigh = await routes.observe_vxlan_entries(self.run, self.dev)
        return routes.State(frozenset(route_set), frozenset(fdb), frozenset(neigh))
