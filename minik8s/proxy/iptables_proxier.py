"""The iptables mode: the kernel forwards, the proxy only writes rules.

Each sync builds the ruleset (`rules.build_rules`) and applies it in one
`iptables-restore --noflush`, which replaces our KUBE-* chains atomically and
leaves everybody else's rules alone. The periodic sync writes everything and
re-checks the jumps from the built-in chains in case someone flushed them; the
syncs in between write only the chains of Service ports that changed (and the
shared chains only if a Service port was added, removed, changed or gained or
lost its last endpoint), and none at all when nothing did.

UDP has no connection to end: a client that sent to a cluster IP before it had
endpoints (or to an endpoint since removed) keeps its conntrack entry, and so
its old translation, for as long as it keeps sending. After a sync the proxy
deletes those entries with conntrack(8), as kube-proxy does, so that DNS
queries reach the new endpoints at once.
"""
from __future__ import annotations

import logging
import time
from typing import Callable, Mapping, Sequence

from minik8s.proxy import counters as counters_mod
from minik8s.proxy import iptables
from minik8s.proxy import proxier
from minik8s.proxy import rules
from minik8s.proxy import servicemap

log = logging.getLogger(__name__)


Applied = Mapping[servicemap.ServicePortName, tuple[servicemap.ServicePort, tuple[servicemap.Endpoint, ...]]]


def _shared_chains_change(old: Applied, new: Applied) -> bool:
    """Whether the shared chains (KUBE-SERVICES, KUBE-NODEPORTS, filter) written for `new`
    differ from those written for `old`: they hold a rule per Service port, which depends
    on its record and on whether it has endpoints at all, not on which they are."""
    if old.keys() != new.keys():
        return True
    return any(sp != old[name][0] or bool(eps) != bool(old[name][1]) for name, (sp, eps) in new.items())


class IptablesProxier(proxier.Proxier):
    mode = "iptables"
    jumps = rules.IPTABLES_JUMPS

    def __init__(self, ipt: iptables.Iptables, conntrack: iptables.Conntrack, config: rules.Config, *,
                 nodeport_addresses: Sequence[str] = (), min_sync_period: float = 0.1,
                 sync_period: float = 30.0, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(ipt, min_sync_period=min_sync_period, sync_period=sync_period, clock=clock)
        self.conntrack = conntrack
        self.config = config
        self.nodeport_addresses = tuple(nodeport_addresses)
        # Per-Service chains in the kernel; learned from iptables-save once, then from our own restores.
        self._chains: set[str] | None = None
        # What the kernel holds per Service port (its record and endpoints), after the last restore.
        self._applied: dict[servicemap.ServicePortName, tuple[servicemap.ServicePort,
                                                              tuple[servicemap.Endpoint, ...]]] | None = None
        self._need_full = True
        self._udp = proxier.StaleUdp(conntrack)
        self.partial_syncs = 0
        # Per-endpoint connection counts (counters.py); they live in the chains a restore rewrites.
        self.counters: counters_mod.IptablesCounters | None = None

    def owns(self, chain: str) -> bool:
        return rules.owned_by_iptables_mode(chain)

    async def _learn_chains(self) -> set[str]:
        saved = await self.ipt.save("nat")
        return {line[1:].split()[0] for line in saved.splitlines()
                if line.startswith(":") and rules.is_per_service_chain(line[1:].split()[0])}

    async def sync_proxy_rules(self, periodic: bool = False) -> None:
        """Write the rules for the current state, in one iptables-restore.

        A periodic (or first, or post-failure) sync writes every chain. Otherwise only
        the chains of Service ports that changed since the last restore are written,
        as kube-proxy's partial syncs, with the shared chains only when what they hold
        changed: following an endpoint that moved costs about the same at 10 or 1,000
        Services. Nothing changed: nothing to do.
        """
        start = self.clock()
        if self._chains is None:
            # Chains a previous run made for Services deleted while we were down.
            self._chains = await self._learn_chains()
        ports = self.state.ports()
        endpoints = self.state.endpoints()
        current = {sp.name: (sp, endpoints.get(sp.name, ())) for sp in ports}
        full = periodic or self._need_full or self._applied is None
        if not full and current == self._applied:
            return
        unchanged: frozenset[servicemap.ServicePortName] = frozenset()
        shared = True
        if not full:
            assert self._applied is not None
            unchanged = frozenset(name for name, value in current.items()
                                  if value[1] and self._applied.get(name) == value)
            shared = _shared_chains_change(self._applied, current)
        text = rules.build_rules(ports, endpoints, self.nodeport_addresses, self.config, self._chains, unchanged,
                                 shared=shared)
        try:
            restore = self.apply_rules(text, full)
            if self.counters is not None:
                await self.counters.around_restore(
                    None if full else counters_mod.rewritten_counters(current, unchanged), restore)
            else:
                await restore
        except Exception:
            # We no longer know what the kernel holds: relearn and rewrite everything next time.
            self._need_full = True
            self._applied = None
            self._chains = None
            raise
        self._chains = rules.per_service_chains(ports, endpoints, self.config)
        self._applied = current
        if full:
            self._need_full = False
        else:
            self.partial_syncs += 1
        await self._udp.clear(ports, endpoints)
        self.last_sync_seconds = self.clock() - start
        self.syncs += 1
        log.debug("iptables proxier: synced %d service ports (%s) in %.1f ms", len(ports),
                  "full" if full else f"{len(current) - len(unchanged)} rewritten", self.last_sync_seconds * 1000)
