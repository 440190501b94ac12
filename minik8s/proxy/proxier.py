"""What both proxy modes share: informer handlers, the sync runner, leftovers.

Service and Endpoints events only update the in-memory `servicemap.State` and,
when something the proxy does changed, ask the runner for a sync (docs/style.md,
kube-proxy). Each mode's `sync_proxy_rules` then rebuilds everything from that
state. No sync runs before both informers have listed (an empty cache would
wipe every rule of a restarted proxy); `run()` is called once they have.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any, Callable

from minik8s.client import informer as informer_mod
from minik8s.proxy import iptables
from minik8s.proxy import nft as nft_mod
from minik8s.proxy import nftables
from minik8s.proxy import rules
from minik8s.proxy import runner
from minik8s.proxy import servicemap

log = logging.getLogger(__name__)

TABLES = ("filter", "nat")


class Proxier:
    mode = ""
    jumps: tuple[rules.Jump, ...] = ()
    # Set by the server when nft(8) is there: the iptables-based modes remove the
    # nftables mode's table when they start (and the nftables mode keeps its own here).
    nft: nft_mod.Nft | None = None

    def __init__(self, ipt: iptables.Iptables, *, min_sync_period: float = 0.1, sync_period: float = 30.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.ipt = ipt
        self.clock = clock
        self.state = servicemap.State()
        self.runner = runner.BoundedFrequencyRunner(f"{self.mode} proxier", self.sync_proxy_rules,
                                                    min_interval=min_sync_period, max_interval=sync_period,
                                                    clock=clock)
        self.last_sync_seconds = 0.0
        # Set after each successful sync: tests and benchmarks wait on it.
        self.syncs = 0
        # The last full sync found (or put) every jump from the built-in chains in place.
        self._jumps_in_place = False

    # -- informer handlers: bookkeeping only ------------------------------------------------

    def on_service(self, obj: dict[str, Any]) -> None:
        if self.state.set_service(obj):
            self.runner.run()

    def on_service_delete(self, obj: dict[str, Any]) -> None:
        if self.state.delete_service(obj):
            self.runner.run()

    def on_endpoints(self, obj: dict[str, Any]) -> None:
        if self.state.set_endpoints(obj):
            self.runner.run()

    def on_endpoints_delete(self, obj: dict[str, Any]) -> None:
        if self.state.delete_endpoints(obj):
            self.runner.run()

    def register(self, services: informer_mod.Informer, endpoints: informer_mod.Informer) -> None:
        services.add_handlers(on_add=self.on_service, on_update=lambda _old, new: self.on_service(new),
                              on_delete=self.on_service_delete)
        endpoints.add_handlers(on_add=self.on_endpoints, on_update=lambda _old, new: self.on_endpoints(new),
                               on_delete=self.on_endpoints_delete)

    # -- lifecycle ------------------------------------------------------------------------------

    def owns(self, chain: str) -> bool:
        raise NotImplementedError

    async def sync_proxy_rules(self, periodic: bool = False) -> None:
        raise NotImplementedError

    async def start(self) -> None:
        """Remove what the other mode left behind: its rules would catch traffic before ours."""
        removed = await remove_chains(self.ipt, lambda c: rules.owned_by_any_mode(c) and not self.owns(c))
        if removed:
            log.info("%s proxier: removed the other mode's leftover chains", self.mode)
        if self.mode != "nftables" and self.nft is not None:
            with contextlib.suppress(nft_mod.NftError, OSError):
                await self.nft.apply(nftables.build_cleanup())

    async def run(self) -> None:
        """Sync now and whenever asked, until cancelled. Call once the informers have synced."""
        await self.start()
        self.runner.run()
        await self.runner.loop()

    async def close(self) -> None:
        """Stop serving. Rules stay in place, so traffic keeps flowing while the proxy restarts."""

    async def apply_rules(self, text: str, full: bool) -> None:
        """Apply `text`; a full sync also adds whichever of our jumps is missing from the
        built-in chains.

        While the last full sync found every jump in place, a full sync checks them in the
        restore itself (`rules.with_jump_checks`): one process. If that restore fails (a
        jump is gone, or the rules are refused), each jump is checked on its own while the
        plain restore runs (the checks only read the built-in chains), and the missing
        ones are added after it, once the chains they lead to exist.
        """
        if not full:
            await self.ipt.restore(text)
            return
        if self._jumps_in_place:
            try:
                await self.ipt.restore(rules.with_jump_checks(text, self.jumps))
                return
            except iptables.IptablesError as e:
                log.info("%s proxier: restore with the jump checks failed, checking each jump: %s", self.mode,
                         str(e).splitlines()[0])
                self._jumps_in_place = False
        restored, missing = await asyncio.gather(self.ipt.restore(text), self.ipt.missing_jumps(self.jumps),
                                                 return_exceptions=True)
        for outcome in (restored, missing):
            if isinstance(outcome, BaseException):
                raise outcome
        assert isinstance(missing, list)
        await self.ipt.add_jumps(missing)
        for jump in missing:
            log.info("%s proxier: added jump %s/%s -> %s", self.mode, jump.table, jump.chain, jump.target)
        self._jumps_in_place = True


class StaleUdp:
    """UDP has no connection to end: a client that sent to a cluster IP before it had
    endpoints (or to an endpoint since removed) keeps its conntrack entry, and so its
    old translation, for as long as it keeps sending. After a sync the kernel-NAT modes
    delete those entries with conntrack(8), as kube-proxy does, so that DNS queries
    reach the new endpoints at once."""

    def __init__(self, conntrack: iptables.Conntrack) -> None:
        self.conntrack = conntrack
        self._udp: dict[servicemap.ServicePortName, tuple[servicemap.ServicePort, frozenset[str]]] = {}

    async def clear(self, ports: list[servicemap.ServicePort], endpoints: servicemap.EndpointsMap,
                    only: set[tuple[str, str]] | None = None) -> None:
        """`ports`/`endpoints` are everything, or (with `only`) the Services of those
        (namespace, name) keys alone: an incremental sync looks at what changed."""
        now: dict[servicemap.ServicePortName, tuple[servicemap.ServicePort, frozenset[str]]] = {}
        for sp in ports:
            if sp.protocol == "UDP":
                now[sp.name] = (sp, frozenset(ep.ip for ep in endpoints.get(sp.name, ())))
        before = self._udp if only is None else {
            n: v for n, v in self._udp.items() if (n.namespace, n.name) in only}
        for name, (sp, ips) in now.items():
            old = before.get(name)
            old_ips = old[1] if old is not None else frozenset()
            if ips and not old_ips:
                # Flows created while the Service had no endpoints were never translated.
                await self.conntrack.clear_udp(orig_dst=sp.cluster_ip)
                if sp.node_port:
                    await self.conntrack.clear_udp(orig_port_dst=sp.node_port)
            for ip in sorted(old_ips - ips):
                await self._clear_endpoint(sp, ip)
        for name, (sp, old_ips) in before.items():
            if name not in now:
                for ip in sorted(old_ips):
                    await self._clear_endpoint(sp, ip)
        if only is None:
            self._udp = now
        else:
            kept = {n: v for n, v in self._udp.items() if (n.namespace, n.name) not in only}
            self._udp = {**kept, **now}

    async def _clear_endpoint(self, sp: servicemap.ServicePort, ip: str) -> None:
        await self.conntrack.clear_udp(orig_dst=sp.cluster_ip, dst_nat=ip)
        if sp.node_port:
            await self.conntrack.clear_udp(orig_port_dst=sp.node_port, dst_nat=ip)


async def remove_chains(ipt: iptables.Iptables, owned: Callable[[str], bool]) -> bool:
    """Delete the chains `owned` accepts and every rule leading into them, in one restore."""
    saved = {table: await ipt.save(table) for table in TABLES}
    text = rules.build_cleanup(saved, owned)
    if not text:
        return False
    await ipt.restore(text)
    return True


async def cleanup(ipt: iptables.Iptables, nft: nft_mod.Nft | None = None) -> bool:
    """`minik8s proxy --cleanup`: remove every chain and jump any mode made (and the nftables
    mode's table); True if there were iptables chains."""
    if nft is not None:
        with contextlib.suppress(nft_mod.NftError, OSError):
            await nft.apply(nftables.build_cleanup())
    return await remove_chains(ipt, rules.owned_by_any_mode)
