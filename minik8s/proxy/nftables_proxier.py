"""The nftables mode (kube-proxy's `--proxy-mode nftables`): one table, verdict maps.

Each sync computes the per-Service part of the ruleset from the in-memory state
(`nftables.desired`, pure) and writes it in one `nft -f` transaction:

 - the first sync of a process replaces whatever table a previous run left, in
   one transaction (traffic keeps flowing through the old rules meanwhile);
 - the sync after a failure, and a periodic sync once `full_sync_period` (an hour,
   kube-proxy's FullSyncPeriod) has passed since the last full one, rewrite every
   chain and map element, repairing anything changed by hand;
 - every other sync looks only at the Services and Endpoints whose objects
   changed since the last one (the state's change tracking) and writes the
   difference for them: their map elements (and chains, for affinity Services),
   plus the spread chains of an endpoint count no Service had before. A change
   to one Service costs the same at 10 or 10,000 Services. The other periodic
   syncs (`--sync-period`) check only that the table is still there (someone's
   `nft flush ruleset`).

Each Service port's part of the table is a cached pure function of the port,
its endpoints in slot order and the config (`nftables.fragment`); endpoints keep
their slots from one sync to the next (`stable_slots`).

Connections are counted per endpoint in the kernel: by the counters of the
endpoint's map elements (cluster IP and nodePort, summed), or for affinity
Services by a named counter in its endpoint chain; `endpoint_counts` reads them
for counters.NftablesCounters, which the proxy's /metrics serves. An element's
counter starts again from zero when the element is rewritten (its endpoint moved
to another slot, a full sync, a restart); NftablesCounters keeps the served
count from going down.
"""
from __future__ import annotations

import logging
import time
from typing import Callable, Iterable, Sequence

from minik8s.proxy import iptables
from minik8s.proxy import nft as nft_mod
from minik8s.proxy import nftables
from minik8s.proxy import proxier
from minik8s.proxy import rules
from minik8s.proxy import servicemap

log = logging.getLogger(__name__)

# kube-proxy's proxyutil.FullSyncPeriod: at most this long between full rewrites.
FULL_SYNC_PERIOD = 3600.0


def stable_slots(before: Sequence[servicemap.Endpoint], now: Sequence[servicemap.Endpoint]
                 ) -> tuple[servicemap.Endpoint, ...]:
    """The endpoints `now` in slots (0..n-1) that move as few as possible from `before`:
    an endpoint keeps its slot, a new one takes a free slot, and the last ones fill the
    holes when there are fewer. Moving one endpoint is then one element per map, and
    the other endpoints' element counters keep counting."""
    present = set(now)
    slots: list[servicemap.Endpoint | None] = [ep if ep in present else None for ep in before]
    seen = set(before)
    fresh = [ep for ep in now if ep not in seen]
    for i, ep in enumerate(slots):
        if ep is None and fresh:
            slots[i] = fresh.pop(0)
    slots += fresh
    while None in slots:
        last = slots.pop()
        if last is not None:
            slots[slots.index(None)] = last
    return tuple(ep for ep in slots if ep is not None)


class NftablesProxier(proxier.Proxier):
    mode = "nftables"
    jumps: tuple[rules.Jump, ...] = ()

    def __init__(self, ipt: iptables.Iptables, nft: nft_mod.Nft, conntrack: iptables.Conntrack,
                 config: rules.Config, *, nodeport_addresses: Sequence[str] = (), min_sync_period: float = 0.1,
                 sync_period: float = 30.0, full_sync_period: float = FULL_SYNC_PERIOD,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(ipt, min_sync_period=min_sync_period, sync_period=sync_period, clock=clock)
        self.full_sync_period = full_sync_period
        self._last_full: float | None = None
        self.nft = nft
        self.config = config
        self.nodeport_addresses = tuple(nodeport_addresses)
        # What the kernel holds, per Service port, after the last transaction (None: unknown).
        self._applied: dict[servicemap.ServicePortName, nftables.Fragment] | None = None
        self._by_key: dict[tuple[str, str], set[servicemap.ServicePortName]] = {}  # (ns, name) -> its ports
        self._spreads: set[int] = set()  # the spread chains in the table (endpoint counts)
        # The port and endpoints (as the state gives them) each applied fragment was made from.
        self._sources: dict[servicemap.ServicePortName, tuple[servicemap.ServicePort,
                                                              tuple[servicemap.Endpoint, ...]]] = {}
        self._need_full = True
        self._udp = proxier.StaleUdp(conntrack)
        self.partial_syncs = 0
        self.last_text = ""  # the last transaction, for debugging and benchmarks

    def owns(self, chain: str) -> bool:
        return False  # no iptables chains: start() removes both other modes' leftovers

    def _fragments(self, ports: Iterable[servicemap.ServicePort], endpoints: servicemap.EndpointsMap
                   ) -> dict[servicemap.ServicePortName, nftables.Fragment]:
        applied = self._applied or {}
        out = {}
        for sp in ports:
            eps = tuple(endpoints.get(sp.name, ()))
            before = applied.get(sp.name)
            source = self._sources.get(sp.name)
            if before is not None and source is not None and source[0] == sp and source[1] == eps:
                out[sp.name] = before  # unchanged: a full sync at 10,000 Services is mostly this
                continue
            self._sources[sp.name] = (sp, eps)
            if before is not None and before.tallies:
                eps = stable_slots(before.slot_order, eps)
            out[sp.name] = nftables.fragment(sp, eps, self.config)
        return out

    async def sync_proxy_rules(self, periodic: bool = False) -> None:
        start = self.clock()
        # Taken first: whatever changes while this sync awaits is the next one's work.
        changed = self.state.take_changed()
        due = self._last_full is None or start - self._last_full >= self.full_sync_period
        if periodic and not due and not self._need_full and self._applied is not None and self.nft is not None \
                and not await self.nft.table_exists():
            log.warning("nftables proxier: table %s %s is gone; rebuilding it", nftables.FAMILY, nftables.TABLE)
            self._need_full = True
            self._applied = None  # nothing of it is left: built from scratch, not flushed
        full = (periodic and due) or self._need_full or self._applied is None
        if full:
            ports = self.state.ports()
            endpoints: servicemap.EndpointsMap = self.state.endpoints()
            new = self._fragments(ports, endpoints)
            text = nftables.build_full_fragments(new, self.config, self.nodeport_addresses, self._applied,
                                                 recreate=self._applied is None, spreads_present=self._spreads)
        else:
            # Only the Services whose objects changed: their old and new fragments.
            assert self._applied is not None
            if not changed:
                return
            ports = [sp for key in sorted(changed) for sp in self.state.ports_of(key)]
            endpoints = {spn: eps for key in changed for spn, eps in self.state.endpoints_of(key).items()}
            new = self._fragments(ports, endpoints)
            before = {spn: self._applied[spn] for key in changed for spn in self._by_key.get(key, ())}
            text = nftables.build_update(nftables.ruleset(before.values()), nftables.ruleset(new.values()),
                                         self.config, self._spreads)
        assert self.nft is not None
        if text:
            try:
                await self.nft.apply(text)
            except Exception:
                # We no longer know what the kernel holds: the next sync rebuilds the table.
                self._need_full = True
                self._applied = None
                raise
            self.last_text = text
        used = {n for f in new.values() for n in f.spreads}
        if full:
            self._spreads = used
            self._applied = new
            self._sources = {spn: src for spn, src in self._sources.items() if spn in new}
            self._by_key = {}
            for spn in new:
                self._by_key.setdefault((spn.namespace, spn.name), set()).add(spn)
            self._need_full = False
            self._last_full = start
            await self._udp.clear(ports, endpoints)
        else:
            assert self._applied is not None
            self._spreads |= used  # unused ones stay until the next full sync removes them
            for spn in before:
                self._applied.pop(spn, None)
                if spn not in new:
                    self._sources.pop(spn, None)
                self._by_key.get((spn.namespace, spn.name), set()).discard(spn)
            self._applied.update(new)
            for spn in new:
                self._by_key.setdefault((spn.namespace, spn.name), set()).add(spn)
            self.partial_syncs += 1
            await self._udp.clear(ports, endpoints, only=changed)
        self.last_sync_seconds = self.clock() - start
        self.syncs += 1
        log.debug("nftables proxier: %s sync (%d service ports) in %.1f ms", "full" if full else "partial",
                  len(new), self.last_sync_seconds * 1000)

    async def endpoint_counts(self) -> list[tuple[servicemap.ServicePortName, servicemap.Endpoint, int, int]]:
        """(Service port, endpoint, connections, bytes of their first packets) for every
        endpoint in the rules, from the kernel's counters (counters.NftablesCounters)."""
        if self._applied is None or self.nft is None:
            return []
        fragments = list(self._applied.values())
        values = await self.nft.counters(named=any(f.counters for f in fragments))
        out = []
        for fragment in fragments:
            for name, spn, endpoint in fragment.counters:
                packets, nbytes = values.get(name, (0, 0))
                out.append((spn, endpoint, packets, nbytes))
            for elements, spn, endpoint in fragment.tallies:
                # Its elements' counters: connections to the cluster IP and to the nodePort.
                counted = [values.get(element, (0, 0)) for element in elements]
                out.append((spn, endpoint, sum(c[0] for c in counted), sum(c[1] for c in counted)))
        return sorted(out, key=lambda item: (item[0], item[1].sort_key()))
