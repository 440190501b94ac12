"""The host-gw backend: a plain route to each other node's pod subnet via that node's IP.

No encapsulation, so no MTU cost and nothing to decapsulate, but it only works
when the nodes share a link (layer 2): the kernel refuses a gateway that is not
directly reachable, and the agent logs that node's route as failed.
"""
from __future__ import annotations

import ipaddress
import logging
from collections.abc import Sequence
from typing import Any

from minik8s.network import backend as backend_mod
from minik8s.network import routes
from minik8s.network import runner as runner_mod
from minik8s.network import subnet as subnet_mod

log = logging.getLogger(__name__)


class HostGwBackend:
    type = subnet_mod.HOST_GW

    def __init__(self, run: runner_mod.Runner, iface: backend_mod.Interface,
                 cluster_cidr: ipaddress.IPv4Network) -> None:
        self.run = run
        self.iface = iface
        self.cluster_cidr = cluster_cidr

    async def setup(self, own_subnet: ipaddress.IPv4Network) -> dict[str, Any] | None:
        return None

    def desired(self, leases: Sequence[subnet_mod.Lease]) -> routes.State:
        return routes.State(frozenset(
            routes.Route(str(lease.subnet), lease.public_ip, self.iface.name) for lease in leases))

    async def observe(self) -> routes.State:
        return routes.State(frozenset(await routes.observe_routes(self.run, self.cluster_cidr)))
