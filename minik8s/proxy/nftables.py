"""The nftables mode's ruleset, built as `nft -f` text (pure functions, as rules.py).

The shape is kube-proxy's nftables proxier (pkg/proxy/nftables) turned into data:
one table of our own, `ip minik8s-proxy`, so nothing of anybody else's is ever
touched, dispatch through verdict maps, and a Service port (without session
affinity) is map elements only, no chain or rule of its own:

  nat-prerouting, nat-output (hook dstnat) -> services:
      ip daddr . meta l4proto . th dport vmap @service-ips        (cluster IPs)
      fib daddr type local meta l4proto . th dport vmap @service-nodeports
      -> goto spread-<n> / nodeport-spread-<n>, n = the port's number of endpoints
  spread-<n> (one per endpoint count in use, shared by every Service port with n):
      marks traffic from outside the cluster CIDR for masquerade, then
      meta l4proto tcp dnat ip to ip daddr . th dport . numgen random mod n
          map @cluster-ip-endpoints-tcp                          (the same for udp)
      the map: (cluster IP . port . slot 0..n-1) -> endpoint address . port, each
      element with a counter (the connections sent to that endpoint, for /metrics)
  nodeport-spread-<n>: marks for masquerade, dnat by (nodePort . slot) through
      @nodeport-endpoints-tcp/udp
  nat-postrouting (hook srcnat) -> masquerading: marks hairpin traffic (an endpoint
      DNATed to itself: ip saddr . ip daddr in @hairpin), masquerades what carries the mark
  filter-input/forward/output (priority -110, before DNAT) -> *-endpoints-check:
      reject new connections to Service ports without ready endpoints, looked up
      in the no-endpoint-services / no-endpoint-nodeports verdict maps

Service ports with ClientIP affinity keep kube-proxy's chains: service-<hash>-...
(affinity sets, then endpoint i of n by numgen), endpoint-<hash>-... (hairpin mark,
a named counter, DNAT), external-<hash>-... for a nodePort.

Why data: nft 1.0.6 spends ~30 us evaluating each rule of a transaction, and any
transaction that adds a rule first reads every chain, set and counter of the table.
Elements cost a fraction of a rule, and moving an endpoint is a transaction of a
few element commands that reads nothing (docs/benchmarks.md, "Proxy").

A lookup is a hash-map probe whatever the number of Services, and each sync is one
`nft -f` transaction (atomic). A full sync writes every chain and map element; an
incremental one (`build_update`) only what changed: map elements, and the chains
of changed affinity Service ports.
"""
from __future__ import annotations

import base64
import dataclasses
import functools
import hashlib
from typing import Iterable, Mapping, Sequence

from minik8s.proxy import rules
from minik8s.proxy import servicemap

FAMILY = "ip"
TABLE = "minik8s-proxy"
# Up to this many endpoints a Service chain picks one with a rule each (a short walk for
# a new connection's first packet); more get one anonymous verdict map.
MAX_RULE_SPREAD = 16

# Regular chains of the table, written whole on a full sync.
SERVICES = "services"
MASQUERADING = "masquerading"
MARK_FOR_MASQUERADE = "mark-for-masquerade"
SERVICE_ENDPOINTS_CHECK = "service-endpoints-check"
NODEPORT_ENDPOINTS_CHECK = "nodeport-endpoints-check"
REJECT_CHAIN = "reject-chain"

SERVICE_IPS = "service-ips"
SERVICE_NODEPORTS = "service-nodeports"
NO_ENDPOINT_SERVICES = "no-endpoint-services"
NO_ENDPOINT_NODEPORTS = "no-endpoint-nodeports"
HAIRPIN = "hairpin"
PROTOCOLS = tuple(p.lower() for p in servicemap.SUPPORTED_PROTOCOLS)


def cluster_ip_endpoints(proto: str) -> str:
    return f"cluster-ip-endpoints-{proto}"


def nodeport_endpoints(proto: str) -> str:
    return f"nodeport-endpoints-{proto}"


# The slot (endpoint i of n) is `numgen random mod n`: typeof needs an expression of its
# type (32-bit integer), the modulus written here is only what `nft list` prints. A map
# per protocol, because nft 1.0.6 cannot read back a map whose typeof value is
# `ip daddr . th dport` ("conflicting protocols", so no rule could be added next to it
# later); with `tcp dport` a rule looking it up matches TCP only (nft adds the check).
_SLOT = "numgen random mod 2"
# Element holders: name -> what goes inside `add map/set ... { }`.
MAPS = {
    SERVICE_IPS: "type ipv4_addr . inet_proto . inet_service : verdict",
    SERVICE_NODEPORTS: "type inet_proto . inet_service : verdict",
    NO_ENDPOINT_SERVICES: "type ipv4_addr . inet_proto . inet_service : verdict",
    NO_ENDPOINT_NODEPORTS: "type inet_proto . inet_service : verdict",
    # (cluster IP . port . slot) -> endpoint address . port, each element with a
    # counter: the connections DNATed to it. The same by nodePort.
    **{cluster_ip_endpoints(p): f"typeof ip daddr . th dport . {_SLOT} : ip daddr . {p} dport ; counter"
       for p in PROTOCOLS},
    **{nodeport_endpoints(p): f"typeof th dport . {_SLOT} : ip daddr . {p} dport ; counter" for p in PROTOCOLS},
    # (endpoint address . the same): traffic from an endpoint DNATed back to itself.
    HAIRPIN: "type ipv4_addr . ipv4_addr",
}
SETS = frozenset({HAIRPIN})
COUNTED_MAPS = tuple(f(p) for f in (cluster_ip_endpoints, nodeport_endpoints) for p in PROTOCOLS)
# Elements never deleted by an incremental sync (several Services may share one; an
# element too many only masquerades a pod's connection to itself through a DNAT, which
# needs it anyway); a full sync drops the unused ones.
ADD_ONLY = frozenset({HAIRPIN})

# Base chains: (name, type, hook, priority, rules). Filter chains run before DNAT
# (-110 < dstnat -100), so they still see the cluster IP.
BASE_CHAINS: tuple[tuple[str, str, str, str, tuple[str, ...]], ...] = (
    ("nat-prerouting", "nat", "prerouting", "-100", (f"jump {SERVICES}",)),
    ("nat-output", "nat", "output", "-100", (f"jump {SERVICES}",)),
    ("nat-postrouting", "nat", "postrouting", "100", (f"jump {MASQUERADING}",)),
    ("filter-input", "filter", "input", "-110", (f"ct state new jump {NODEPORT_ENDPOINTS_CHECK}",
                                                 f"ct state new jump {SERVICE_ENDPOINTS_CHECK}")),
    ("filter-forward", "filter", "forward", "-110", (f"ct state new jump {SERVICE_ENDPOINTS_CHECK}",)),
    ("filter-output", "filter", "output", "-110", (f"ct state new jump {SERVICE_ENDPOINTS_CHECK}",)),
)

SPREAD_PREFIX = "spread-"
NODEPORT_SPREAD_PREFIX = "nodeport-spread-"
SERVICE_PREFIX = "service-"
EXTERNAL_PREFIX = "external-"
ENDPOINT_PREFIX = "endpoint-"
AFFINITY_PREFIX = "affinity-"


@functools.lru_cache(maxsize=1 << 16)
def _hash8(text: str) -> str:
    return base64.b32encode(hashlib.sha256(text.encode()).digest()).decode()[:8]


def _base(spn: servicemap.ServicePortName) -> str:
    # kube-proxy's servicePortChainNameBase: a hash for uniqueness, the name for people.
    text = f"{spn.namespace}/{spn.name}/{spn.protocol.lower()}/{spn.port}"
    return f"{_hash8(text)}-{text}"


def service_chain(spn: servicemap.ServicePortName) -> str:
    return SERVICE_PREFIX + _base(spn)


def external_chain(spn: servicemap.ServicePortName) -> str:
    return EXTERNAL_PREFIX + _base(spn)


def endpoint_chain(spn: servicemap.ServicePortName, ep: servicemap.Endpoint) -> str:
    text = f"{spn.namespace}/{spn.name}/{spn.protocol.lower()}/{spn.port}__{ep.ip}/{ep.port}"
    return f"{ENDPOINT_PREFIX}{_hash8(text)}-{text}"


def affinity_set(spn: servicemap.ServicePortName, ep: servicemap.Endpoint) -> str:
    return AFFINITY_PREFIX + endpoint_chain(spn, ep)[len(ENDPOINT_PREFIX):]


def spread_chain(n: int) -> str:
    return f"{SPREAD_PREFIX}{n}"


def nodeport_spread_chain(n: int) -> str:
    return f"{NODEPORT_SPREAD_PREFIX}{n}"


def spread_chains(n: int, config: rules.Config) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The two chains every Service port with n endpoints (and no affinity) goes to: mark
    for masquerade as the Service chain would, then DNAT to the endpoint in slot
    `numgen random mod n` of the port's elements. Shared: a Service is data only."""
    masq: tuple[str, ...] = ()
    if config.masquerade_all:
        masq = (f"jump {MARK_FOR_MASQUERADE}",)
    elif config.cluster_cidr:
        masq = (f"ip saddr != {config.cluster_cidr} jump {MARK_FOR_MASQUERADE}",)
    return (
        (spread_chain(n), masq + tuple(
            f"meta l4proto {p} dnat ip to ip daddr . th dport . numgen random mod {n} map @{cluster_ip_endpoints(p)}"
            for p in PROTOCOLS)),
        (nodeport_spread_chain(n), (f"jump {MARK_FOR_MASQUERADE}",) + tuple(
            f"meta l4proto {p} dnat ip to th dport . numgen random mod {n} map @{nodeport_endpoints(p)}" for p in PROTOCOLS)),
    )


def build_spreads(ns: Iterable[int], config: rules.Config, *, flush: bool = False) -> list[str]:
    """Declare (and fill) the spread chains for these endpoint counts."""
    t = f"{FAMILY} {TABLE}"
    out: list[str] = []
    for n in sorted(ns):
        for name, chain_rules in spread_chains(n, config):
            out.append(f"add chain {t} {name}")
            if flush:
                out.append(f"flush chain {t} {name}")
            out += [f"add rule {t} {name} {r}" for r in chain_rules]
    return out


@dataclasses.dataclass(frozen=True)
class Ruleset:
    """Everything the table holds besides its fixed skeleton, in comparable form."""

    # per-Service chain -> its rules (service-, external-, endpoint- chains)
    chains: Mapping[str, tuple[str, ...]]
    # map name -> element key -> verdict
    elements: Mapping[str, Mapping[str, str]]
    # named counters (one per endpoint chain, same name)
    counters: frozenset[str]
    # affinity set -> timeout seconds
    affinity_sets: Mapping[str, int]
    # which Service (namespace, name, port, protocol, endpoint) each counter counts, for /metrics
    counter_owner: Mapping[str, tuple[servicemap.ServicePortName, servicemap.Endpoint]] = dataclasses.field(
        default_factory=dict, compare=False)
    # endpoint counts whose spread chains the Service ports use
    spreads: frozenset[int] = frozenset()


def _quote(name: str) -> str:
    # Our names are nft identifiers as they stand (a letter, then letters, digits, / - _ .).
    return name


@dataclasses.dataclass(frozen=True)
class Fragment:
    """What one Service port contributes to the table (a pure function of it, its
    endpoints and the config: cached, so a sync recomputes only changed ones)."""

    chains: tuple[tuple[str, tuple[str, ...]], ...] = ()
    elements: tuple[tuple[str, str, str], ...] = ()  # (map, key, verdict or value; "" in a set)
    counters: tuple[tuple[str, servicemap.ServicePortName, servicemap.Endpoint], ...] = ()  # (name, port, endpoint)
    affinity_sets: tuple[tuple[str, int], ...] = ()
    spreads: tuple[int, ...] = ()  # the spread chains its elements jump to
    # (the (map, key) elements counting its connections, port, endpoint)
    tallies: tuple[tuple[tuple[tuple[str, str], ...], servicemap.ServicePortName, servicemap.Endpoint], ...] = ()

    # The fragment's lines, rendered once (the fragment is cached): a full sync at
    # 10,000 Services is then mostly joining strings.
    @functools.cached_property
    def declare_text(self) -> str:
        return "".join(f"add chain {FAMILY} {TABLE} {c}\n" for c, _r in self.chains)

    @functools.cached_property
    def fill_text(self) -> str:
        return "".join(f"add rule {FAMILY} {TABLE} {c} {r}\n" for c, rs in self.chains for r in rs)

    @functools.cached_property
    def flush_fill_text(self) -> str:
        return "".join(f"flush chain {FAMILY} {TABLE} {c}\n" for c, _r in self.chains) + self.fill_text

    @functools.cached_property
    def element_items(self) -> dict[str, tuple[str, ...]]:
        """map -> its elements as `add element` writes them ("key : value", or "key")."""
        out: dict[str, list[str]] = {}
        for name, key, value in self.elements:
            out.setdefault(name, []).append(f"{key} : {value}" if value else key)
        return {name: tuple(items) for name, items in out.items()}

    @functools.cached_property
    def element_text(self) -> dict[str, str]:
        return {name: ", ".join(items) for name, items in self.element_items.items()}

    @functools.cached_property
    def slot_order(self) -> tuple[servicemap.Endpoint, ...]:
        """The endpoints in slot order (a Service port without affinity)."""
        return tuple(ep for _counted, _spn, ep in self.tallies)

    @functools.cached_property
    def chain_names(self) -> frozenset[str]:
        return frozenset(c for c, _r in self.chains)

    @functools.cached_property
    def counter_names(self) -> frozenset[str]:
        return frozenset(c for c, _spn, _ep in self.counters)


@functools.lru_cache(maxsize=1 << 16)
def fragment(sp: servicemap.ServicePort, eps: tuple[servicemap.Endpoint, ...], config: rules.Config) -> Fragment:
    proto = sp.protocol.lower()
    ip_key = f"{sp.cluster_ip} . {proto} . {sp.port}"
    np_key = f"{proto} . {sp.node_port}" if sp.node_port else ""
    if not eps:
        elements = [(NO_ENDPOINT_SERVICES, ip_key, f"goto {REJECT_CHAIN}")]
        if np_key:
            elements.append((NO_ENDPOINT_NODEPORTS, np_key, f"goto {REJECT_CHAIN}"))
        return Fragment(elements=tuple(elements))
    if not sp.affinity_timeout:
        return _data_fragment(sp, eps, ip_key, np_key, config)
    svc = service_chain(sp.name)
    chains: list[tuple[str, tuple[str, ...]]] = []
    elements = [(SERVICE_IPS, ip_key, f"goto {_quote(svc)}")]
    counters: list[tuple[str, servicemap.ServicePortName, servicemap.Endpoint]] = []
    affinity: list[tuple[str, int]] = []
    svc_rules: list[str] = []
    if config.masquerade_all:
        svc_rules.append(f"ip daddr {sp.cluster_ip} {proto} dport {sp.port} jump {MARK_FOR_MASQUERADE}")
    elif config.cluster_cidr:
        svc_rules.append(f"ip daddr {sp.cluster_ip} {proto} dport {sp.port} ip saddr != {config.cluster_cidr} "
                         f"jump {MARK_FOR_MASQUERADE}")
    seps = [(endpoint_chain(sp.name, ep), ep) for ep in eps]
    if sp.affinity_timeout:
        # A client seen recently goes back to the endpoint it used (sessionAffinity: ClientIP).
        for sep, ep in seps:
            aset = affinity_set(sp.name, ep)
            affinity.append((aset, sp.affinity_timeout))
            svc_rules.append(f"ip saddr @{_quote(aset)} goto {_quote(sep)}")
    if len(seps) == 1:
        svc_rules.append(f"goto {_quote(seps[0][0])}")
    elif len(seps) <= MAX_RULE_SPREAD:
        # Endpoint i of n is taken with probability 1/(n-i) when none before it was: 1/n
        # each. Rules, not an anonymous verdict map: nft 1.0.6 spends time quadratic in
        # the number of anonymous sets in a transaction (4,000 Services: 4.3 s of CPU
        # with a map each, 0.75 s with these rules; docs/benchmarks.md).
        n = len(seps)
        svc_rules += [f"numgen random mod {n - i} 0 goto {_quote(sep)}" for i, (sep, _ep) in enumerate(seps[:-1])]
        svc_rules.append(f"goto {_quote(seps[-1][0])}")
    else:
        vmap = ", ".join(f"{i} : goto {_quote(sep)}" for i, (sep, _ep) in enumerate(seps))
        svc_rules.append(f"numgen random mod {len(seps)} vmap {{ {vmap} }}")
    chains.append((svc, tuple(svc_rules)))
    if np_key:
        ext = external_chain(sp.name)
        chains.append((ext, (f"jump {MARK_FOR_MASQUERADE}", f"goto {_quote(svc)}")))
        elements.append((SERVICE_NODEPORTS, np_key, f"goto {_quote(ext)}"))
    for sep, ep in seps:
        ep_rules = [f"ip saddr {ep.ip} jump {MARK_FOR_MASQUERADE}"]
        if sp.affinity_timeout:
            ep_rules.append(f"update @{_quote(affinity_set(sp.name, ep))} {{ ip saddr }}")
        # One rule counts and translates: a rule less per endpoint to write on a full sync.
        ep_rules.append(f"meta l4proto {proto} counter name {_quote(sep)} dnat to {ep.ip}:{ep.port}")
        chains.append((sep, tuple(ep_rules)))
        counters.append((sep, sp.name, ep))
    return Fragment(tuple(chains), tuple(elements), tuple(counters), tuple(affinity))


def _data_fragment(sp: servicemap.ServicePort, eps: tuple[servicemap.Endpoint, ...], ip_key: str,
                   np_key: str, config: rules.Config) -> Fragment:
    """A Service port without session affinity is map elements only: its cluster IP
    (and nodePort) go to the shared spread chains for its number of endpoints, which
    DNAT to the endpoint in slot `numgen random mod n` of its elements here. Only an
    endpoint that may run on this node gets a hairpin element (rules.Config.may_hairpin)."""
    n = len(eps)
    proto = sp.protocol.lower()
    elements = [(SERVICE_IPS, ip_key, f"goto {spread_chain(n)}")]
    if np_key:
        elements.append((SERVICE_NODEPORTS, np_key, f"goto {nodeport_spread_chain(n)}"))
    tallies = []
    for i, ep in enumerate(eps):
        target = f"{ep.ip} . {ep.port}"
        counted = [(cluster_ip_endpoints(proto), f"{sp.cluster_ip} . {sp.port} . {i}")]
        if np_key:
            counted.append((nodeport_endpoints(proto), f"{sp.node_port} . {i}"))
        elements += [(name, key, target) for name, key in counted]
        if config.may_hairpin(ep):
            elements.append((HAIRPIN, f"{ep.ip} . {ep.ip}", ""))
        tallies.append((tuple(counted), sp.name, ep))
    return Fragment(elements=tuple(elements), spreads=(n,), tallies=tuple(tallies))


def ruleset(fragments: Iterable[Fragment]) -> Ruleset:
    chains: dict[str, tuple[str, ...]] = {}
    elements: dict[str, dict[str, str]] = {m: {} for m in MAPS}
    counters: set[str] = set()
    owners: dict[str, tuple[servicemap.ServicePortName, servicemap.Endpoint]] = {}
    affinity: dict[str, int] = {}
    spreads: set[int] = set()
    for f in fragments:
        spreads.update(f.spreads)
        chains.update(f.chains)
        for name, key, verdict in f.elements:
            elements[name][key] = verdict
        for counter, spn, ep in f.counters:
            counters.add(counter)
            owners[counter] = (spn, ep)
        affinity.update(f.affinity_sets)
    return Ruleset(chains, elements, frozenset(counters), affinity, owners, frozenset(spreads))


def desired(services: Iterable[servicemap.ServicePort], endpoints: servicemap.EndpointsMap,
            config: rules.Config) -> Ruleset:
    """The per-Service part of the ruleset for this state (pure)."""
    return ruleset(fragment(sp, tuple(endpoints.get(sp.name, ())), config)
                   for sp in sorted(services, key=lambda s: s.name))


def _skeleton(config: rules.Config, nodeport_addresses: Sequence[str]) -> list[str]:
    """The table, its base and shared chains and its maps: `add` is idempotent."""
    t = f"{FAMILY} {TABLE}"
    out = [f"add table {t} {{ comment \"minik8s proxy: Service rules\" ; }}"]
    for name, type_, hook, prio, _rules in BASE_CHAINS:
        out.append(f"add chain {t} {name} {{ type {type_} hook {hook} priority {prio} ; policy accept ; }}")
    for name in (SERVICES, MASQUERADING, MARK_FOR_MASQUERADE, SERVICE_ENDPOINTS_CHECK, NODEPORT_ENDPOINTS_CHECK,
                 REJECT_CHAIN):
        out.append(f"add chain {t} {name}")
    for name, spec in MAPS.items():
        out.append(f"add {'set' if name in SETS else 'map'} {t} {name} {{ {spec} ; }}")
    return out


def _shared_rules(config: rules.Config, nodeport_addresses: Sequence[str]) -> list[str]:
    """Flush and refill the fixed chains (a full sync repairs anything changed by hand)."""
    t = f"{FAMILY} {TABLE}"
    mark = config.mark
    local = "fib daddr type local"
    if nodeport_addresses:
        local = f"ip daddr {{ {', '.join(nodeport_addresses)} }} {local}"
    fixed: dict[str, tuple[str, ...]] = {name: r for name, _t, _h, _p, r in BASE_CHAINS}
    fixed.update({
        SERVICES: (f"ip daddr . meta l4proto . th dport vmap @{SERVICE_IPS}",
                   f"{local} meta l4proto . th dport vmap @{SERVICE_NODEPORTS}"),
        MASQUERADING: (f"ct status dnat ip saddr . ip daddr @{HAIRPIN} jump {MARK_FOR_MASQUERADE}",  # hairpin
                       f"meta mark & {mark} == 0 return",
                       # Clear it so a packet re-routed (e.g. into a tunnel) is not masqueraded twice.
                       f"meta mark set meta mark ^ {mark}",
                       "masquerade fully-random"),
        MARK_FOR_MASQUERADE: (f"meta mark set meta mark | {mark}",),
        SERVICE_ENDPOINTS_CHECK: (f"ip daddr . meta l4proto . th dport vmap @{NO_ENDPOINT_SERVICES}",),
        NODEPORT_ENDPOINTS_CHECK: (f"{local} meta l4proto . th dport vmap @{NO_ENDPOINT_NODEPORTS}",),
        REJECT_CHAIN: ("reject",),
    })
    out = []
    for name, chain_rules in fixed.items():
        out.append(f"flush chain {t} {name}")
        out += [f"add rule {t} {name} {r}" for r in chain_rules]
    return out


def _elements(name: str, items: Mapping[str, str], verb: str = "add") -> list[str]:
    if not items:
        return []
    t = f"{FAMILY} {TABLE}"
    if verb == "delete":
        return [f"delete element {t} {name} {{ {', '.join(items)} }}"]
    body = ", ".join(f"{k} : {v}" if v else k for k, v in items.items())
    return [f"add element {t} {name} {{ {body} }}"]


def _flush(name: str) -> str:
    return f"flush {'set' if name in SETS else 'map'} {FAMILY} {TABLE} {name}"


def _write_chains(chains: Mapping[str, tuple[str, ...]], names: Iterable[str], *, flush: bool) -> list[str]:
    t = f"{FAMILY} {TABLE}"
    out = []
    for name in names:
        if flush:
            out.append(f"flush chain {t} {_quote(name)}")
        out += [f"add rule {t} {_quote(name)} {r}" for r in chains[name]]
    return out


def _declare(ruleset: Ruleset, chains: Iterable[str], counters: Iterable[str], sets: Iterable[str]) -> list[str]:
    t = f"{FAMILY} {TABLE}"
    out = [f"add chain {t} {_quote(c)}" for c in chains]
    out += [f"add counter {t} {_quote(c)}" for c in counters]
    out += [f"add set {t} {_quote(s)} {{ type ipv4_addr ; flags dynamic,timeout ; timeout {ruleset.affinity_sets[s]}s ; }}"
            for s in sets]
    return out


def _remove(old: Ruleset, chains: Sequence[str], counters: Iterable[str], sets: Iterable[str]) -> list[str]:
    """Delete what is no longer wanted: chains flushed first (one may jump to another), then
    deleted; counters and sets after the rules naming them are gone."""
    t = f"{FAMILY} {TABLE}"
    out = [f"flush chain {t} {_quote(c)}" for c in chains]
    out += [f"delete chain {t} {_quote(c)}" for c in chains]
    out += [f"delete counter {t} {_quote(c)}" for c in counters]
    out += [f"delete set {t} {_quote(s)}" for s in sets]
    return out


def build_full(new: Ruleset, config: rules.Config, nodeport_addresses: Sequence[str] = (),
               old: Ruleset | None = None, *, recreate: bool = False,
               spreads_present: Iterable[int] | None = None) -> str:
    """Everything, in one transaction. `recreate` (the first sync of a process) deletes
    whatever table a previous run left and builds it anew, atomically: traffic keeps
    flowing through the old rules until the new ones are in. Otherwise `old` (what the
    last sync wrote) says what to delete; named counters of kept endpoints keep counting.
    `spreads_present`: the spread chains in the table (default: those `old` uses)."""
    t = f"{FAMILY} {TABLE}"
    out: list[str] = []
    if recreate:
        out += [f"add table {t}", f"delete table {t}"]
        old = None
    out += _skeleton(config, nodeport_addresses)
    keep_counters = old.counters if old is not None else frozenset()
    keep_sets = set(old.affinity_sets) if old is not None else set()
    names = sorted(new.chains)
    out += _declare(new, names, sorted(new.counters - keep_counters),
                    sorted(s for s in new.affinity_sets if s not in keep_sets or
                           (old is not None and old.affinity_sets.get(s) != new.affinity_sets[s])))
    out += build_spreads(new.spreads, config, flush=old is not None)
    out += _shared_rules(config, nodeport_addresses)
    out += _write_chains(new.chains, names, flush=old is not None)
    for name in MAPS:
        out.append(_flush(name))
        out += _elements(name, new.elements.get(name, {}))
    if old is not None:
        present = set(old.spreads if spreads_present is None else spreads_present)
        out += _remove(old, sorted(set(old.chains) - set(new.chains)), sorted(old.counters - new.counters),
                       sorted(set(old.affinity_sets) - set(new.affinity_sets)))
        out += _remove_spreads(present - new.spreads)
    return "\n".join(out) + "\n"


def _remove_spreads(ns: Iterable[int]) -> list[str]:
    t = f"{FAMILY} {TABLE}"
    return [f"delete chain {t} {name}" for n in sorted(ns) for name in (spread_chain(n), nodeport_spread_chain(n))]


def build_full_fragments(new: Mapping[servicemap.ServicePortName, Fragment], config: rules.Config,
                         nodeport_addresses: Sequence[str] = (),
                         old: Mapping[servicemap.ServicePortName, Fragment] | None = None, *,
                         recreate: bool = False, spreads_present: Iterable[int] | None = None) -> str:
    """`build_full` from the Service ports' cached fragments: the same transaction, built
    by joining their pre-rendered lines (the proxier's full sync)."""
    t = f"{FAMILY} {TABLE}"
    out: list[str] = []
    if recreate:
        out += [f"add table {t}", f"delete table {t}"]
        old = None
    out += _skeleton(config, nodeport_addresses)
    head = "\n".join(out) + "\n"
    parts = [head]
    names = sorted(new)
    frags = [new[spn] for spn in names]  # (ServicePortName hashes are not cached: look up once)
    for f in frags:
        parts.append(f.declare_text)
    spreads = {n for f in frags for n in f.spreads}
    declares: list[str] = build_spreads(spreads, config, flush=old is not None)
    for spn, f in zip(names, frags):
        before = old.get(spn) if old is not None else None
        if before is f:
            continue
        kept_counters = before.counter_names if before is not None else frozenset()
        kept_sets = dict(before.affinity_sets) if before is not None else {}
        declares += [f"add counter {t} {c}" for c, _spn, _ep in f.counters if c not in kept_counters]
        declares += [f"add set {t} {aset} {{ type ipv4_addr ; flags dynamic,timeout ; timeout {timeout}s ; }}"
                     for aset, timeout in f.affinity_sets if kept_sets.get(aset) != timeout]
    declares += _shared_rules(config, nodeport_addresses)
    parts.append("\n".join(declares) + "\n")
    for f in frags:
        if f.chains:
            parts.append(f.flush_fill_text if old is not None else f.fill_text)
    tail: list[str] = []
    for name in MAPS:
        tail.append(_flush(name))
        if name in SETS:
            # Several Services may share one (an endpoint address).
            text = ", ".join(dict.fromkeys(item for f in frags for item in f.element_items.get(name, ())))
        else:
            text = ", ".join(f.element_text[name] for f in frags if name in f.element_text)
        if text:
            tail.append(f"add element {t} {name} {{ {text} }}")
    if old is not None:
        gone_chains: set[str] = set()
        gone_counters: set[str] = set()
        gone_sets: set[str] = set()
        for spn, was in old.items():
            now = new.get(spn)
            if now is was:
                continue
            gone_chains |= was.chain_names - (now.chain_names if now is not None else frozenset())
            gone_counters |= was.counter_names - (now.counter_names if now is not None else frozenset())
            gone_sets |= {a for a, _t in was.affinity_sets} - {a for a, _t in (now.affinity_sets if now else ())}
        tail += _remove(Ruleset({}, {}, frozenset(), {}), sorted(gone_chains), sorted(gone_counters),
                        sorted(gone_sets))
        present = set(spreads_present) if spreads_present is not None else \
            {n for f in old.values() for n in f.spreads}
        tail += _remove_spreads(present - spreads)
    parts.append("\n".join(tail) + "\n")
    return "".join(parts)


def build_update(old: Ruleset, new: Ruleset, config: rules.Config | None = None,
                 spreads_present: Iterable[int] | None = None) -> str:
    """Only what changed since `old` was written: new chains, rewritten chains, map
    elements added, changed or removed, leftovers deleted. "" when nothing did.
    Spread chains missing from `spreads_present` (default: those `old` uses) are added;
    unused ones are left for the next full sync."""
    present = set(old.spreads if spreads_present is None else spreads_present)
    added = sorted(set(new.chains) - set(old.chains))
    changed = sorted(c for c in set(new.chains) & set(old.chains) if new.chains[c] != old.chains[c])
    removed = sorted(set(old.chains) - set(new.chains))
    new_sets = sorted(s for s in new.affinity_sets if s not in old.affinity_sets)
    out = _declare(new, added, sorted(new.counters - old.counters), new_sets)
    missing = new.spreads - present
    if missing and config is None:
        raise ValueError("build_update: new spread chains need the config")
    out += build_spreads(missing, config) if config is not None else []
    out += _write_chains(new.chains, added, flush=False)
    out += _write_chains(new.chains, changed, flush=True)
    for name in MAPS:
        before, after = old.elements.get(name, {}), new.elements.get(name, {})
        gone = {} if name in ADD_ONLY else {k: v for k, v in before.items() if after.get(k) != v}
        fresh = {k: v for k, v in after.items() if before.get(k) != v}
        out += _elements(name, gone, "delete")
        out += _elements(name, fresh)
    out += _remove(old, removed, sorted(old.counters - new.counters),
                   sorted(set(old.affinity_sets) - set(new.affinity_sets)))
    return "\n".join(out) + "\n" if out else ""


def build_cleanup() -> str:
    t = f"{FAMILY} {TABLE}"
    return f"add table {t}\ndelete table {t}\n"
