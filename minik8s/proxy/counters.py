"""Per-endpoint counters: how many new connections the proxy sent to each Service endpoint.

This is where a Service's traffic is measured for autoscaling on requests per second:
every connection to a cluster IP or a NodePort passes a proxy, which picks the endpoint.
Each proxy mode fills the same small interface, `EndpointCounters`; the proxy's metrics
server (minik8s/proxy/metrics.py) serves it, and the API server's metrics pipeline adds
up the nodes' counts and turns them into rates (docs/autoscaling.md).

- **userspace**: the proxy makes the connections itself, so `Tally` counts them as they
  are made (TCP connections; UDP is not counted).
- **iptables**: the kernel picks the endpoint. Rules in the nat table see only the first
  packet of a connection, so the packet counter of an endpoint's DNAT rule *is* the
  number of new connections to that endpoint (`iptables-save -c -t nat`): the rule in
  its KUBE-SEP chain, or, for an endpoint on another node, its rule in the KUBE-SVC
  chain. A restore that rewrites a chain starts its counters from zero, so the proxier
  wraps every restore in `IptablesCounters.around_restore`: the counts of the rules
  about to be rewritten are read just before and banked, and a failed restore unbanks
  them. A drop nobody announced (someone flushed the chains) is treated as Prometheus
  treats a counter reset.
- **nftables**: the counters of the endpoint's elements in the endpoints maps (cluster IP
  and nodePort, summed; a named counter in the endpoint chain for ClientIP-affinity
  Services), which incremental syncs leave alone for endpoints that keep their slot.
  `NftablesCounters` reads them (`list table`, JSON); an element written again (its
  endpoint moved to another slot, the hourly full sync, a proxy restart, the rebuild
  after a failed transaction) starts from zero, which it treats as a counter reset,
  keeping what was counted.

Counts are cumulative for the life of the proxy process and never go down while it
runs; a restarted proxy starts from zero, which a rate computation sees as a counter
reset. A connection is a request for HTTP/1.0 and `Connection: close` clients; keep-alive
clients make many requests per connection (then a pod's own request counter, declared
with prometheus.io annotations, is the better measure).
"""
from __future__ import annotations

import asyncio
import logging
import re
from typing import Awaitable, Callable, Mapping, Protocol, Sequence

from minik8s.proxy import rules
from minik8s.proxy import servicemap

log = logging.getLogger(__name__)

EndpointKey = tuple[servicemap.ServicePortName, servicemap.Endpoint]

# `[packets:bytes] -A KUBE-SEP-... ... -j DNAT --to-destination ip:port` (iptables-save -c).
_DNAT_RULE = re.compile(r"^\[(\d+):\d+\] -A (\S+) .*-j DNAT --to-destination (\S+)")


class EndpointCounters(Protocol):
    async def snapshot(self) -> dict[EndpointKey, int]:
        """New connections sent to each current endpoint since this proxy started."""


class Tally:
    """Counts kept by the proxy itself (userspace mode)."""

    def __init__(self) -> None:
        self.counts: dict[EndpointKey, int] = {}

    def count(self, spn: servicemap.ServicePortName, ep: servicemap.Endpoint) -> None:
        key = (spn, ep)
        self.counts[key] = self.counts.get(key, 0) + 1

    def retain(self, endpoints: servicemap.EndpointsMap) -> None:
        """Forget endpoints that are gone (bounded memory; a returning one starts over, a reset)."""
        live = {(spn, ep) for spn, eps in endpoints.items() for ep in eps}
        for key in [k for k in self.counts if k not in live]:
            del self.counts[key]

    async def snapshot(self) -> dict[EndpointKey, int]:
        return dict(self.counts)


async def iptables_save_counters(command_prefix: Sequence[str] = ()) -> str:
    """`iptables-save -c -t nat`: the nat table with each rule's packet and byte counters."""
    proc = await asyncio.create_subprocess_exec(
        *command_prefix, "iptables-save", "-c", "-t", "nat", stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await proc.communicate()
    if proc.returncode != 0:
        raise OSError(f"iptables-save -c -t nat failed ({proc.returncode}): {err.decode(errors='replace').strip()}")
    return out.decode(errors="replace")


def counter_keys(spn: servicemap.ServicePortName, ep: servicemap.Endpoint) -> tuple[str, str]:
    """Where an endpoint's DNAT rule may be: its KUBE-SEP chain, or its rule in the KUBE-SVC chain."""
    return rules.endpoint_chain(spn, ep), f"{rules.service_chain(spn)} {ep}"


def parse_dnat_counters(saved: str) -> dict[str, int]:
    """Packet counts of the endpoints' DNAT rules in `iptables-save -c` output, by
    `counter_keys`: a KUBE-SEP chain's name, or "KUBE-SVC-... ip:port"."""
    out: dict[str, int] = {}
    for line in saved.splitlines():
        m = _DNAT_RULE.match(line)
        if not m:
            continue
        chain = m.group(2)
        if chain.startswith(rules.SEP_PREFIX):
            key = chain
        elif chain.startswith(rules.SVC_PREFIX):
            key = f"{chain} {m.group(3)}"
        else:
            continue
        out[key] = out.get(key, 0) + int(m.group(1))
    return out


class IptablesCounters:
    """EndpointCounters from the iptables mode's DNAT rule counters.

    `save` returns `iptables-save -c -t nat` text; `endpoints` is the proxier's current
    Service endpoints, which name the rules (`counter_keys`).
    """

    def __init__(self, save: Callable[[], Awaitable[str]],
                 endpoints: Callable[[], servicemap.EndpointsMap]) -> None:
        self.save = save
        self.endpoints = endpoints
        self._last: dict[str, int] = {}  # counter key -> packets at the last reading
        self._banked: dict[str, int] = {}  # counter key -> packets counted before its rule was last rewritten
        self._lock = asyncio.Lock()

    async def _read(self) -> dict[str, int]:
        raw = parse_dnat_counters(await self.save())
        for chain, packets in raw.items():
            last = self._last.get(chain, 0)
            if packets < last:
                # Rewritten without notice (flushed by someone else): what it had counted is kept.
                self._banked[chain] = self._banked.get(chain, 0) + last
            self._last[chain] = packets
        for chain in [c for c in self._last if c not in raw]:
            # Chain gone (its endpoint or Service removed): forget it, memory stays bounded.
            self._last.pop(chain, None)
            self._banked.pop(chain, None)
        return raw

    async def around_restore(self, rewritten: frozenset[str] | None, restore: Awaitable[None]) -> None:
        """Run `restore`, which replaces the chains `rewritten` (None: every chain), keeping their counts."""
        async with self._lock:
            try:
                before = await self._read()
            except OSError as e:
                log.warning("proxy counters: reading before a restore failed: %s", e)
                await restore
                return
            chains = set(before) if rewritten is None else set(before) & rewritten
            for chain in chains:
                self._banked[chain] = self._banked.get(chain, 0) + before[chain]
                self._last[chain] = 0
            try:
                await restore
            except BaseException:
                # Nothing was replaced: the chains still hold their counts.
                for chain in chains:
                    self._banked[chain] -= before[chain]
                    self._last[chain] = before[chain]
                raise

    async def snapshot(self) -> dict[EndpointKey, int]:
        async with self._lock:
            await self._read()
        out: dict[EndpointKey, int] = {}
        for spn, eps in self.endpoints().items():
            for ep in eps:
                for key in counter_keys(spn, ep):
                    if key in self._last:
                        out[(spn, ep)] = self._banked.get(key, 0) + self._last[key]
                        break
        return out


def rewritten_counters(current: Mapping[servicemap.ServicePortName, tuple[servicemap.ServicePort,
                                                                           tuple[servicemap.Endpoint, ...]]],
                       unchanged: frozenset[servicemap.ServicePortName]) -> frozenset[str]:
    """The counters (`counter_keys`) a partial sync rewrites: those of the Service ports that changed."""
    return frozenset(key for spn, (_sp, eps) in current.items() if spn not in unchanged
                     for ep in eps for key in counter_keys(spn, ep))


class NftablesCounters:
    """EndpointCounters from the nftables mode's named counters.

    `read` returns (Service port, endpoint, packets, ...) for every endpoint in the rules
    (NftablesProxier.endpoint_counts). A counter that went down was recreated (the table
    was rebuilt): what it had counted is banked, so the served count never goes down.
    """

    def __init__(self, read: Callable[[], Awaitable[Sequence[tuple[servicemap.ServicePortName,
                                                                     servicemap.Endpoint, int, int]]]]) -> None:
        self.read = read
        self._last: dict[EndpointKey, int] = {}
        self._banked: dict[EndpointKey, int] = {}
        self._lock = asyncio.Lock()

    async def snapshot(self) -> dict[EndpointKey, int]:
        async with self._lock:
            raw: dict[EndpointKey, int] = {}
            for spn, ep, packets, *_ in await self.read():
                raw[(spn, ep)] = packets
            for key, packets in raw.items():
                last = self._last.get(key, 0)
                if packets < last:
                    self._banked[key] = self._banked.get(key, 0) + last
                self._last[key] = packets
            for key in [k for k in self._last if k not in raw]:
                # Endpoint gone: forget it (a returning one starts over, a reset).
                self._last.pop(key, None)
                self._banked.pop(key, None)
            return {key: self._banked.get(key, 0) + packets for key, packets in raw.items()}
