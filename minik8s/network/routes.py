"""Kernel forwarding state as records, read from iproute2's JSON and diffed into commands.

A backend says what the kernel should hold (`State`: routes, and for vxlan the
FDB and neighbour entries); `observe_*` read what it holds; `plan` turns the
difference into the iproute2 commands that close it. Both the desired and the
observed side cover only what the agent owns, so `plan` may delete whatever is
observed and not desired: that is how a deleted node's entries go away, even
if it was deleted while the agent was down.

What the agent owns: routes in the main table to subnets inside the cluster CIDR
that go through a gateway (a node's own pod bridge route is a kernel-made link
route and never matches), and permanent FDB/neighbour entries on the VXLAN
device, which nothing else writes to.
"""
from __future__ import annotations

import dataclasses
import ipaddress
import json
import logging
from collections.abc import Iterable, Sequence
from typing import Any

from minik8s.network import runner as runner_mod

log = logging.getLogger(__name__)

Argv = tuple[str, ...]


@dataclasses.dataclass(frozen=True, order=True)
class Route:
    dst: str  # CIDR
    gateway: str
    dev: str
    onlink: bool = False

    def replace_argv(self) -> Argv:
        return ("ip", "route", "replace", self.dst, "via", self.gateway, "dev", self.dev) + (
            ("onlink",) if self.onlink else ())

    def delete_argv(self) -> Argv:
        return ("ip", "route", "del", self.dst, "via", self.gateway, "dev", self.dev)


@dataclasses.dataclass(frozen=True, order=True)
class Fdb:
    """A VXLAN forwarding entry: frames for `mac` go in a UDP packet to `dst`."""

    mac: str
    dst: str
    dev: str

    def replace_argv(self) -> Argv:
        return ("bridge", "fdb", "replace", self.mac, "dev", self.dev, "dst", self.dst, "self", "permanent")

    def delete_argv(self) -> Argv:
        return ("bridge", "fdb", "del", self.mac, "dev", self.dev, "dst", self.dst, "self")


@dataclasses.dataclass(frozen=True, order=True)
class Neigh:
    """A permanent ARP entry: the remote VTEP address resolves to its MAC without asking."""

    ip: str
    mac: str
    dev: str

    def replace_argv(self) -> Argv:
        return ("ip", "neigh", "replace", self.ip, "lladdr", self.mac, "dev", self.dev, "nud", "permanent")

    def delete_argv(self) -> Argv:
        return ("ip", "neigh", "del", self.ip, "dev", self.dev)


@dataclasses.dataclass(frozen=True)
class State:
    routes: frozenset[Route] = frozenset()
    fdb: frozenset[Fdb] = frozenset()
    neigh: frozenset[Neigh] = frozenset()


# -- reading the kernel -----------------------------------------------------------------------


def _json(text: str) -> list[dict[str, Any]]:
    text = text.strip()
    if not text:
        return []
    data = json.loads(text)
    return data if isinstance(data, list) else []


def parse_routes(text: str, cluster_cidr: ipaddress.IPv4Network) -> set[Route]:
    """Owned routes from `ip -j route show table main`."""
    out = set()
    for r in _json(text):
        dst, gateway = r.get("dst"), r.get("gateway")
        if not dst or dst == "default" or not gateway or r.get("protocol") == "kernel":
            continue
        try:
            net = ipaddress.ip_network(dst, strict=False)
        except ValueError:
            continue
        if not isinstance(net, ipaddress.IPv4Network) or not net.subnet_of(cluster_cidr):
            continue
        out.add(Route(str(net), gateway, r.get("dev", ""), "onlink" in (r.get("flags") or [])))
    return out


def parse_fdb(text: str, dev: str) -> set[Fdb]:
    """Owned entries from `bridge -j fdb show dev DEV`: the permanent unicast ones with a remote."""
    out = set()
    for e in _json(text):
        mac, dst = e.get("mac"), e.get("dst")
        if not mac or not dst or e.get("state") != "permanent" or mac == "00:00:00:00:00:00":
            continue
        out.add(Fdb(mac.lower(), dst, dev))
    return out


def parse_neigh(text: str, dev: str) -> set[Neigh]:
    """Owned entries from `ip -j neigh show dev DEV`: the permanent ones."""
    out = set()
    for n in _json(text):
        if "PERMANENT" not in (n.get("state") or []) or not n.get("dst") or not n.get("lladdr"):
            continue
        out.add(Neigh(n["dst"], n["lladdr"].lower(), dev))
    return out


async def observe_routes(run: runner_mod.Runner, cluster_cidr: ipaddress.IPv4Network) -> set[Route]:
    result = await run.run(("ip", "-j", "route", "show", "table", "main"))
    return parse_routes(result.stdout, cluster_cidr)


async def observe_vxlan_entries(run: runner_mod.Runner, dev: str) -> tuple[set[Fdb], set[Neigh]]:
    fdb = await run.run(("bridge", "-j", "fdb", "show", "dev", dev), check=False)
    neigh = await run.run(("ip", "-j", "neigh", "show", "dev", dev), check=False)
    # A missing device has no entries (the commands fail): nothing of ours is there.
    return (parse_fdb(fdb.stdout, dev) if fdb.ok else set(),
            parse_neigh(neigh.stdout, dev) if neigh.ok else set())


# -- the difference as commands ----------------------------------------------------------------


def plan(observed: State, desired: State) -> list[Argv]:
    """Commands that turn `observed` into `desired`: deletions first, then replacements.

    Entries are keyed the way the kernel keys them (a route by destination, a
    neighbour by address, an FDB entry by MAC), so a changed entry is one
    `replace`, and only entries whose key is no longer wanted are deleted.
    Additions run FDB → neighbour → route, deletions the reverse, so a route
    never points at a next hop that cannot be resolved (flannel's order).
    """
    deletes: list[Argv] = []
    replaces: list[Argv] = []
    for kind in ("routes", "neigh", "fdb"):
        want: frozenset[Any] = getattr(desired, kind)
        have: frozenset[Any] = getattr(observed, kind)
        wanted_keys = {_key(e) for e in want}
        deletes += [e.delete_argv() for e in sorted(have) if _key(e) not in wanted_keys]
    for kind in ("fdb", "neigh", "routes"):
        want = getattr(desired, kind)
        have = getattr(observed, kind)
        replaces += [e.replace_argv() for e in sorted(want) if e not in have]
    return deletes + replaces


def _key(entry: Route | Fdb | Neigh) -> tuple[str, ...]:
    if isinstance(entry, Route):
        return ("route", entry.dst)
    if isinstance(entry, Neigh):
        return ("neigh", entry.ip, entry.dev)
    return ("fdb", entry.mac, entry.dst, entry.dev)


async def apply(run: runner_mod.Runner, commands: Iterable[Sequence[str]]) -> list[runner_mod.CommandError]:
    """Run every command; a failing one is logged and returned, and the rest still run.

    One unreachable peer (say, a host-gw gateway not on our link) must not keep
    the routes to every other node from being programmed.
    """
    failed = []
    for argv in commands:
        try:
            await run.run(argv)
            log.info("%s", " ".join(argv))
        except runner_mod.CommandError as e:
            log.warning("%s", e)
            failed.append(e)
    return failed
