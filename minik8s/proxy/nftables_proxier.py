"""The nftables mode (kube-proxy's `--proxy-mode nftables`): one table, verdict maps.

Each sync computes the per-Service part of the ruleset from the in-memory state
(`nftables.desired`, pure) and writes it in one `nft -f` transaction:

 - the first sync of a process replaces whatever table a previous run left, in
   one transaction (traffic keeps flowing through the old rules meanwhile);
 - a periodic sync (`--sync-period`) or the one after a failure rewrites every
   chain and map element, repairing anything changed by hand;
 - every other sync writes only the difference from what the last one wrote:
   the chains of Service ports that changed and the map elements whose verdict
   changed. A change to one Service touches nothing of the others.

Connections are counted per endpoint by named counters in the kernel (one per
endpoint chain, so they survive the other Services' updates); `endpoint_counts`
reads them for the proxy's /metrics.
"""
from __future__ import annotations

import logging
import time
from typing import Callable, Sequence

from minik8s.proxy import iptables
from minik8s.proxy import nft as nft_mod
from minik8s.proxy import nftables
from minik8s.proxy import proxier
from minik8s.proxy import rules
from minik8s.proxy import servicemap

log = logging.getLogger(__name__)


class NftablesProxier(proxier.Proxier):
    mode = "nftables"
    jumps: tuple[rules.Jump, ...] = ()

    def __init__(self, ipt: iptables.Iptables, nft: nft_mod.Nft, conntrack: iptables.Conntrack,
                 config: rules.Config, *, nodeport_addresses: Sequence[str] = (), min_sync_period: float = 0.1,
                 sync_period: float = 30.0, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(ipt, min_sync_period=min_sync_period, sync_period=sync_period, clock=clock)
        self.nft = nft
        self.config = config
        self.nodeport_addresses = tuple(nodeport_addresses)
        self._applied: nftables.Ruleset | None = None  # what the kernel holds, after the last transaction
        self._need_full = True
        self._udp = proxier.StaleUdp(conntrack)
        self.partial_syncs = 0
        self.last_text = ""  # the last transaction, for debugging and benchmarks

    def owns(self, chain: str) -> bool:
        return False  # no iptables chains: start() removes both other modes' leftovers

    async def sync_proxy_rules(self, periodic: bool = False) -> None:
        start = self.clock()
        ports = self.state.ports()
        endpoints = self.state.endpoints()
        new = nftables.desired(ports, endpoints, self.config)
        full = periodic or self._need_full or self._applied is None
        if full:
            text = nftables.build_full(new, self.config, self.nodeport_addresses, self._applied,
                                       recreate=self._applied is None)
        else:
            assert self._applied is not None
            text = nftables.build_update(self._applied, new)
            if not text:
                return
        assert self.nft is not None
        try:
            await self.nft.apply(text)
        except Exception:
            # We no longer know what the kernel holds: the next sync rebuilds the table.
            self._need_full = True
            self._applied = None
            raise
        self._applied = new
        self.last_text = text
        if full:
            self._need_full = False
        else:
            self.partial_syncs += 1
        await self._udp.clear(ports, endpoints)
        self.last_sync_seconds = self.clock() - start
        self.syncs += 1
        log.debug("nftables proxier: %s sync of %d service ports in %.1f ms", "full" if full else "partial",
                  len(ports), self.last_sync_seconds * 1000)

    async def endpoint_counts(self) -> list[tuple[servicemap.ServicePortName, str, int, int]]:
        """(Service port, endpoint ip:port, connections, bytes of their first packets) for
        every endpoint in the rules, from the kernel's counters."""
        if self._applied is None or self.nft is None:
            return []
        values = await self.nft.counters()
        out = []
        for name, (spn, endpoint) in sorted(self._applied.counter_owner.items(), key=lambda kv: kv[1]):
            packets, nbytes = values.get(name, (0, 0))
            out.append((spn, endpoint, packets, nbytes))
        return out
