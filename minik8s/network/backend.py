"""What every backend provides, and finding the interface that carries node traffic.

A backend turns the other nodes' leases into the kernel state that reaches
their pod subnets. `setup` prepares this node (the VXLAN device) and returns the
data other nodes need about it (flannel's backend-data); `desired` is a pure
function of the leases; `observe` reads what the kernel holds of ours.
"""
from __future__ import annotations

import dataclasses
import ipaddress
import json
from collections.abc import Sequence
from typing import Any, Protocol

from minik8s.network import routes
from minik8s.network import runner as runner_mod
from minik8s.network import subnet as subnet_mod


@dataclasses.dataclass(frozen=True)
class Interface:
    """The link node-to-node traffic uses (flannel's --iface) and this node's address on it."""

    name: str
    ip: str
    mtu: int


class Backend(Protocol):
    type: str

    async def setup(self, own_subnet: ipaddress.IPv4Network) -> dict[str, Any] | None: ...

    def desired(self, leases: Sequence[subnet_mod.Lease]) -> routes.State: ...

    async def observe(self) -> routes.State: ...


def pick_interface(addrs_json: str, default_routes_json: str, *, iface: str, node_ip: str) -> Interface:
    """Choose the interface from `ip -j -4 addr show` and `ip -j route show default`.

    --iface wins; else the interface holding --node-ip; else the default route's.
    The address is --node-ip if given (it must be on that interface), else the
    interface's first IPv4 address.
    """
    links: list[dict[str, Any]] = json.loads(addrs_json or "[]")

    def v4(link: dict[str, Any]) -> list[str]:
        return [a["local"] for a in link.get("addr_info") or [] if a.get("family") == "inet" and a.get("local")]

    chosen: dict[str, Any] | None = None
    if iface:
        chosen = next((link for link in links if link.get("ifname") == iface), None)
        if chosen is None:
            raise ValueError(f"no interface {iface!r} with an IPv4 address")
    elif node_ip:
        chosen = next((link for link in links if node_ip in v4(link)), None)
        if chosen is None:
            raise ValueError(f"no interface holds the node IP {node_ip}")
    else:
        default = json.loads(default_routes_json or "[]")
        dev = next((r.get("dev") for r in default if r.get("dev")), None)
        chosen = next((link for link in links if link.get("ifname") == dev), None)
        if chosen is None:
            raise ValueError("no --iface or --node-ip given and no default route to pick an interface from")
    addresses = v4(chosen)
    if node_ip and node_ip not in addresses:
        raise ValueError(f"node IP {node_ip} is not an address of {chosen['ifname']} ({', '.join(addresses)})")
    ip = node_ip or (addresses[0] if addresses else "")
    if not ip:
        raise ValueError(f"interface {chosen['ifname']} has no IPv4 address")
    return Interface(chosen["ifname"], ip, int(chosen.get("mtu") or 1500))


async def discover_interface(run: runner_mod.Runner, *, iface: str, node_ip: str) -> Interface:
    addrs = await run.run(("ip", "-j", "-4", "addr", "show"))
    default = await run.run(("ip", "-j", "route", "show", "default"), check=False)
    return pick_interface(addrs.stdout, default.stdout if default.ok else "", iface=iface, node_ip=node_ip)
