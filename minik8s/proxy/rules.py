"""The iptables rules of both proxy modes, built as iptables-restore text.

Pure functions only (docs/style.md, kube-proxy): the proxier hands in what it knows
and gets back the text for one `iptables-restore --noflush` call, which tests
compare against expected text. The shape follows kube-proxy's iptables proxier
(pkg/proxy/iptables/proxier.go):

nat table
  PREROUTING, OUTPUT -> KUBE-SERVICES: one rule per Service port with endpoints,
      matching clusterIP:port and jumping to KUBE-SVC-<hash>; its last rule sends
      traffic to a local address on to KUBE-NODEPORTS.
  KUBE-NODEPORTS: marks traffic to a nodePort for masquerade (the reply must
      come back through this node) and jumps to its KUBE-SVC-<hash>.
  KUBE-SVC-<hash>: marks traffic from outside the cluster CIDR for masquerade,
      then picks an endpoint: rule i of n matches with probability 1/(n-i), so
      each of the n endpoints gets 1/n of the new connections. An endpoint on
      another node is DNATed by that rule itself.
  KUBE-SEP-<hash>: for an endpoint that may be on this node (or with ClientIP
      affinity): marks hairpin traffic (an endpoint reaching itself through its
      Service) for masquerade and DNATs to the endpoint. kube-proxy writes one for
      every endpoint; an endpoint on another node cannot be its own client here,
      and iptables-restore on nf_tables costs more with every chain (a 1,000-Service
      full sync took 2-3 times the CPU with a chain per endpoint; docs/proxy.md).
  POSTROUTING -> KUBE-POSTROUTING: masquerades what carries the mark.
filter table
  KUBE-SERVICES / KUBE-EXTERNAL-SERVICES: REJECT for Service ports without
      ready endpoints, so a client is refused at once instead of timing out.
  KUBE-FORWARD: accepts marked (NodePort) traffic, which a default-DROP FORWARD
      policy (Docker sets one) would otherwise drop.

Chain names hash the ServicePortName and protocol (and the endpoint) exactly as
kube-proxy does, so they are stable across syncs and restarts. Only the KUBE-*
chains are written by the restore; the jumps from the built-in chains (`*_JUMPS`)
are ensured separately with `iptables -C`/`-I`, because a --noflush restore
cannot express "add this rule unless it is there".

The userspace mode (the seed's first mode) has its own chains,
KUBE-PORTALS-CONTAINER/HOST and KUBE-NODEPORT-CONTAINER/HOST, that send
clusterIP:port and nodePorts to the proxy's local listener.
"""
from __future__ import annotations

import base64
import dataclasses
import functools
import hashlib
import shlex
from typing import Callable, Collection, Iterable, Mapping, Sequence

from minik8s.proxy import servicemap

# Chains of the iptables mode.
SERVICES = "KUBE-SERVICES"
EXTERNAL_SERVICES = "KUBE-EXTERNAL-SERVICES"
FORWARD = "KUBE-FORWARD"
NODEPORTS = "KUBE-NODEPORTS"
POSTROUTING = "KUBE-POSTROUTING"
MARK_MASQ = "KUBE-MARK-MASQ"
SVC_PREFIX = "KUBE-SVC-"
# Not written any more, but removed if found (a kube-proxy-style ruleset).
EXT_PREFIX = "KUBE-EXT-"
SEP_PREFIX = "KUBE-SEP-"
PER_SERVICE_PREFIXES = (SVC_PREFIX, EXT_PREFIX, SEP_PREFIX)
IPTABLES_CHAINS = frozenset({SERVICES, EXTERNAL_SERVICES, FORWARD, NODEPORTS, POSTROUTING, MARK_MASQ})

# Chains of the userspace mode.
PORTALS_CONTAINER = "KUBE-PORTALS-CONTAINER"
PORTALS_HOST = "KUBE-PORTALS-HOST"
NODEPORT_CONTAINER = "KUBE-NODEPORT-CONTAINER"
NODEPORT_HOST = "KUBE-NODEPORT-HOST"
USERSPACE_CHAINS = frozenset({PORTALS_CONTAINER, PORTALS_HOST, NODEPORT_CONTAINER, NODEPORT_HOST})

NODEPORTS_COMMENT = "kubernetes service nodeports; NOTE: this must be the last rule in this chain"


@dataclasses.dataclass(frozen=True)
class Config:
    # Traffic to a cluster IP from outside this CIDR is masqueraded, so replies from
    # the endpoint come back through this node (kube-proxy's --cluster-cidr).
    cluster_cidr: str = "10.244.0.0/16"
    # Masquerade all Service traffic (kube-proxy's --masquerade-all).
    masquerade_all: bool = False
    # The fwmark bit that asks KUBE-POSTROUTING to masquerade (kube-proxy's default 14).
    masquerade_bit: int = 14
    # This node's name, as the kubelet's (Endpoints addresses carry it as nodeName). ""
    # means unknown: every endpoint is then treated as possibly on this node.
    node_name: str = ""

    @property
    def mark(self) -> str:
        return hex(1 << self.masquerade_bit)

    def may_hairpin(self, ep: servicemap.Endpoint) -> bool:
        """Whether `ep` could reach itself through its Service on this node.

        Service traffic is translated on the node it comes from, so an endpoint can be
        its own client through this node's rules only if it runs on this node: a pod
        on another node is translated by that node's proxy. An endpoint whose node is
        not known (an Endpoints object written by hand) may be local.
        """
        return not ep.node or not self.node_name or ep.node == self.node_name


@dataclasses.dataclass(frozen=True)
class Jump:
    """A rule in a built-in chain that leads into one of ours."""
    table: str
    chain: str
    args: tuple[str, ...]
    # Prepended rules run before anything else in the chain; appended ones after.
    prepend: bool = True

    @property
    def target(self) -> str:
        return self.args[self.args.index("-j") + 1]


def _restore_words(words: Sequence[str]) -> str:
    return " ".join(f'"{w}"' if " " in w else w for w in words)


def with_jump_checks(text: str, jumps: Sequence[Jump]) -> str:
    """`text` with an `-C` line per jump at the top of its table's block (a block of its own
    for a table `text` does not write).

    iptables-restore runs `-C` as iptables does: a rule that is not there fails its line, and
    with it the block, before anything of that table is committed. So one restore both
    writes the rules and checks the jumps from the built-in chains, instead of a process per
    jump (each fetches the table's chains: 8 ms of CPU each in a 1,000-Service nat table).
    """
    checks: dict[str, list[str]] = {}
    for j in jumps:
        checks.setdefault(j.table, []).append(f"-C {j.chain} {_restore_words(j.args)}")
    out: list[str] = []
    for line in text.splitlines():
        out.append(line)
        if line.startswith("*"):
            out += checks.pop(line[1:], [])
    for table, lines in checks.items():
        out += [f"*{table}", *lines, "COMMIT"]
    return "\n".join(out) + "\n"


def _jump(table: str, chain: str, comment: str, target: str, *match: str, prepend: bool = True) -> Jump:
    return Jump(table, chain, (*match, "-m", "comment", "--comment", comment, "-j", target), prepend)


_NEW = ("-m", "conntrack", "--ctstate", "NEW")
_LOCAL = ("-m", "addrtype", "--dst-type", "LOCAL")

IPTABLES_JUMPS: tuple[Jump, ...] = (
    _jump("filter", "INPUT", "kubernetes externally-visible service portals", EXTERNAL_SERVICES, *_NEW),
    _jump("filter", "FORWARD", "kubernetes externally-visible service portals", EXTERNAL_SERVICES, *_NEW),
    _jump("filter", "FORWARD", "kubernetes service portals", SERVICES, *_NEW),
    _jump("filter", "OUTPUT", "kubernetes service portals", SERVICES, *_NEW),
    _jump("filter", "FORWARD", "kubernetes forwarding rules", FORWARD),
    _jump("nat", "PREROUTING", "kubernetes service portals", SERVICES),
    _jump("nat", "OUTPUT", "kubernetes service portals", SERVICES),
    _jump("nat", "POSTROUTING", "kubernetes postrouting rules", POSTROUTING),
)

USERSPACE_JUMPS: tuple[Jump, ...] = (
    _jump("nat", "PREROUTING", "handle ClusterIPs; NOTE: this must be before the NodePort rules",
          PORTALS_CONTAINER),
    _jump("nat", "OUTPUT", "handle ClusterIPs; NOTE: this must be before the NodePort rules", PORTALS_HOST),
    # Appended: a nodePort only applies once nothing else (a cluster IP, Docker's
    # published ports) claimed the packet.
    _jump("nat", "PREROUTING", "handle service NodePorts; NOTE: this must be the last rule in the chain",
          NODEPORT_CONTAINER, *_LOCAL, prepend=False),
    _jump("nat", "OUTPUT", "handle service NodePorts; NOTE: this must be the last rule in the chain",
          NODEPORT_HOST, *_LOCAL, prepend=False),
)


# -- chain names -----------------------------------------------------------------------

@functools.lru_cache(maxsize=1 << 16)
def _hash16(text: str) -> str:
    # The first 16 base32 characters of the SHA-256 (kube-proxy's portProtoHash), which
    # encode exactly its first 10 bytes; cached because every sync asks again.
    return base64.b32encode(hashlib.sha256(text.encode()).digest()[:10]).decode()


def service_chain(spn: servicemap.ServicePortName) -> str:
    return SVC_PREFIX + _hash16(str(spn) + spn.protocol.lower())


def endpoint_chain(spn: servicemap.ServicePortName, ep: servicemap.Endpoint) -> str:
    return SEP_PREFIX + _hash16(str(spn) + spn.protocol.lower() + str(ep))


def is_per_service_chain(chain: str) -> bool:
    return chain.startswith(PER_SERVICE_PREFIXES)


def owned_by_iptables_mode(chain: str) -> bool:
    return chain in IPTABLES_CHAINS or is_per_service_chain(chain)


def owned_by_userspace_mode(chain: str) -> bool:
    return chain in USERSPACE_CHAINS


def owned_by_any_mode(chain: str) -> bool:
    return owned_by_iptables_mode(chain) or owned_by_userspace_mode(chain)


# -- the iptables mode ---------------------------------------------------------------------

LARGE_CLUSTER_ENDPOINTS = 1000  # kube-proxy's largeClusterEndpointsThreshold


def _comment(text: str) -> str:
    return f'-m comment --comment "{text}"' if " " in text else f"-m comment --comment {text}"


def probability(n: int) -> str:
    """The statistic match for the first of n remaining endpoints, formatted as kube-proxy."""
    return f"{1.0 / n:0.10f}"


def _local_destinations(node_ips: Sequence[str]) -> list[str]:
    """How NodePort rules match "addressed to this node": every local address unless restricted."""
    if not node_ips:
        return ["-m addrtype --dst-type LOCAL"]
    return [f"-d {ip}" if "/" in ip else f"-d {ip}/32" for ip in node_ips]


def build_rules(services: Iterable[servicemap.ServicePort], endpoints: servicemap.EndpointsMap,
                node_ips: Sequence[str], config: Config, existing_chains: Iterable[str] = (),
                unchanged: Collection[servicemap.ServicePortName] = frozenset(), *, shared: bool = True) -> str:
    """The whole ruleset of the iptables mode as iptables-restore --noflush input.

    `node_ips` restricts the addresses NodePorts answer on (kube-proxy's
    --nodeport-addresses); empty means every local address. `existing_chains` are the
    per-Service chains in the kernel now: those no longer wanted are flushed and
    deleted in the same restore, after the rules that referenced them are gone.
    `unchanged` names Service ports whose KUBE-SVC/KUBE-SEP chains the kernel already
    holds exactly as they would be written: they are left out (a --noflush restore
    keeps undeclared chains), as kube-proxy's partial syncs do. `shared=False` leaves
    out the shared chains too (KUBE-SERVICES, KUBE-NODEPORTS, KUBE-POSTROUTING and the
    filter table), for a partial sync that would write them as the kernel holds them:
    when only endpoints moved, that is all but the changed Services' own chains, and a
    1,000-Service KUBE-SERVICES is most of such a restore.
    """
    mark = config.mark
    # Set the mark inline instead of jumping to KUBE-MARK-MASQ as kube-proxy does. With
    # iptables on nf_tables a --noflush restore costs about (rules x chains): each rule's
    # chain and jump target are looked up in a list. With the KUBE-EXT chains below this
    # saves about a quarter of a 1,000-Service restore. KUBE-MARK-MASQ stays, with the
    # same effect, for other components to use.
    masq = f"-j MARK --or-mark {mark}"
    filter_rules: list[str] = []
    per_service: list[str] = []  # the KUBE-SVC/KUBE-SEP chains written in this restore
    service_rules: list[str] = []
    nodeport_rules: list[str] = []
    chain_rules: list[str] = []
    local = _local_destinations(node_ips)
    # kube-proxy's large cluster mode: past 1,000 endpoints in all, the rules written per
    # endpoint (the KUBE-SEP chains and the jumps to them) carry no comment, a tenth off the
    # restore at 2,000 endpoints.
    large = sum(len(eps) for eps in endpoints.values()) > LARGE_CLUSTER_ENDPOINTS

    def ep_comment(text: str) -> str:
        return "" if large else " " + _comment(text)

    wanted: set[str] = set()
    for sp in sorted(services, key=lambda s: s.name):
        spn, proto = str(sp.name), sp.protocol.lower()
        match = f"-m {proto} -p {proto}"
        eps = endpoints.get(sp.name, ())
        if not eps:
            filter_rules.append(f"-A {SERVICES} {_comment(spn + ' has no endpoints')} {match} "
                                f"-d {sp.cluster_ip}/32 --dport {sp.port} -j REJECT")
            if sp.node_port:
                for dst in local:
                    filter_rules.append(f"-A {EXTERNAL_SERVICES} {_comment(spn + ' has no endpoints')} {dst} "
                                        f"{match} --dport {sp.node_port} -j REJECT")
            continue

        svc = service_chain(sp.name)
        # (chain, endpoint); the chain is "" for an endpoint DNATed by the KUBE-SVC rule itself.
        seps = [(endpoint_chain(sp.name, ep) if _needs_chain(sp, ep, config) else "", ep) for ep in eps]
        cluster_ip = f"{_comment(spn + ' cluster IP')} {match} -d {sp.cluster_ip}/32 --dport {sp.port}"
        service_rules.append(f"-A {SERVICES} {cluster_ip} -j {svc}")
        if sp.node_port:
            # Two rules rather than kube-proxy's KUBE-EXT chain: a chain per NodePort
            # made the restore slower (see above) and bought nothing without
            # externalTrafficPolicy.
            nodeport = f"{_comment(spn)} {match} --dport {sp.node_port}"
            nodeport_rules.append(f"-A {NODEPORTS} {nodeport} {masq}")
            nodeport_rules.append(f"-A {NODEPORTS} {nodeport} -j {svc}")
        wanted.add(svc)
        wanted.update(sep for sep, _ep in seps if sep)
        if sp.name in unchanged:
            continue
        per_service.append(svc)
        # The chain is entered only for this cluster IP and port (KUBE-SERVICES) or this
        # nodePort (KUBE-NODEPORTS, marked already), so unlike kube-proxy's (whose KUBE-SVC
        # chains are also entered for external and load-balancer IPs) the mark rule needs
        # no match on them: every match is expressions for the kernel to look up, about
        # 15 % of a 1,000-Service restore's CPU here.
        if config.masquerade_all:
            chain_rules.append(f"-A {svc} {masq}")
        elif config.cluster_cidr:
            chain_rules.append(f"-A {svc} ! -s {config.cluster_cidr} {masq}")
        if sp.affinity_timeout:
            # A client seen recently goes back to the endpoint it used (sessionAffinity: ClientIP).
            for sep, ep in seps:
                chain_rules.append(f"-A {svc}{ep_comment(f'{spn} -> {ep}')} -m recent --name {sep} "
                                   f"--mask 255.255.255.255 --rsource --rcheck --seconds {sp.affinity_timeout} "
                                   f"--reap -j {sep}")
        n = len(seps)
        for i, (sep, ep) in enumerate(seps):
            stat = f" -m statistic --mode random --probability {probability(n - i)}" if i < n - 1 else ""
            target = f"-j {sep}" if sep else f"{match} -j DNAT --to-destination {ep}"
            chain_rules.append(f"-A {svc}{ep_comment(f'{spn} -> {ep}')}{stat} {target}")
        for sep, ep in seps:
            if not sep:
                continue
            per_service.append(sep)
            chain_rules.append(f"-A {sep}{ep_comment(spn)} -s {ep.ip}/32 {masq}")
            recent = f" -m recent --name {sep} --mask 255.255.255.255 --rsource --set" if sp.affinity_timeout else ""
            chain_rules.append(f"-A {sep}{ep_comment(spn)}{recent} {match} -j DNAT --to-destination {ep}")

    stale = sorted(c for c in set(existing_chains) if is_per_service_chain(c) and c not in wanted)

    lines: list[str] = []
    if shared:
        lines += ["*filter", f":{SERVICES} - [0:0]", f":{EXTERNAL_SERVICES} - [0:0]", f":{FORWARD} - [0:0]"]
        lines += filter_rules
        lines += [
            f"-A {FORWARD} -m conntrack --ctstate INVALID -j DROP",
            f"-A {FORWARD} {_comment('kubernetes forwarding rules')} -m mark --mark {mark}/{mark} -j ACCEPT",
            f"-A {FORWARD} {_comment('kubernetes forwarding conntrack rule')} "
            f"-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
            "COMMIT",
        ]
    lines.append("*nat")
    # The per-Service chains are declared in reverse name order: iptables-restore on nf_tables
    # (1.8.9) then takes about 40% less CPU for a 1,000-Service full sync than with them in
    # Service order (reverse order 10% less than name order; bench/proxy.py).
    per_service.extend(stale)
    per_service.sort(reverse=True)
    lines += [f":{c} - [0:0]" for c in ((SERVICES, NODEPORTS, POSTROUTING, MARK_MASQ) if shared else ())]
    lines += [f":{c} - [0:0]" for c in per_service]
    if shared:
        lines += [
            f"-A {POSTROUTING} -m mark ! --mark {mark}/{mark} -j RETURN",
            # Clear the mark so a packet that is re-routed (e.g. through a tunnel) is not masqueraded twice.
            f"-A {POSTROUTING} -j MARK --xor-mark {mark}",
            f"-A {POSTROUTING} {_comment('kubernetes service traffic requiring SNAT')} -j MASQUERADE --random-fully",
            f"-A {MARK_MASQ} -j MARK --or-mark {mark}",
        ]
        lines += service_rules
        lines += [f"-A {SERVICES} {_comment(NODEPORTS_COMMENT)} {dst} -j {NODEPORTS}" for dst in local]
        lines += nodeport_rules
    lines += chain_rules
    lines += [f"-X {c}" for c in stale]
    lines.append("COMMIT")
    return "\n".join(lines) + "\n"


def _needs_chain(sp: servicemap.ServicePort, ep: servicemap.Endpoint, config: Config) -> bool:
    """Whether `ep` gets a KUBE-SEP chain: it has two things to do (hairpin mark or
    affinity record, then DNAT), where a remote endpoint only has the DNAT."""
    return bool(sp.affinity_timeout) or config.may_hairpin(ep)


def per_service_chains(services: Iterable[servicemap.ServicePort], endpoints: servicemap.EndpointsMap,
                       config: Config) -> set[str]:
    """The KUBE-SVC/KUBE-SEP chains `build_rules` keeps for these Services."""
    out: set[str] = set()
    for sp in services:
        eps = endpoints.get(sp.name, ())
        if eps:
            out.add(service_chain(sp.name))
            out.update(endpoint_chain(sp.name, ep) for ep in eps if _needs_chain(sp, ep, config))
    return out


def declared_chains(text: str, table: str = "nat") -> set[str]:
    """Chains a restore text leaves in place in `table`: declared and not deleted."""
    declared: set[str] = set()
    deleted: set[str] = set()
    current = None
    for line in text.splitlines():
        if line.startswith("*"):
            current = line[1:]
        elif current == table and line.startswith(":"):
            declared.add(line[1:].split()[0])
        elif current == table and line.startswith("-X "):
            deleted.add(line.split()[1])
    return declared - deleted


# -- the userspace mode -------------------------------------------------------------------

def build_userspace_rules(portals: Iterable[tuple[servicemap.ServicePort, int]], node_ip: str | None) -> str:
    """Rules sending each Service port to the proxy's listener on `proxy_port`.

    Traffic arriving from pods or other machines (PREROUTING) is REDIRECTed to the
    listener on the receiving interface's address. Traffic from this node itself
    (OUTPUT) is DNATed to node_ip:proxy_port as kube-proxy's userspace mode did, or
    REDIRECTed to loopback when no node IP is known.
    """
    container: list[str] = []
    host: list[str] = []
    nodeport_container: list[str] = []
    nodeport_host: list[str] = []
    for sp, proxy_port in sorted(portals, key=lambda p: p[0].name):
        proto = sp.protocol.lower()
        head = f"{_comment(str(sp.name))} -m {proto} -p {proto}"
        redirect = f"-j REDIRECT --to-ports {proxy_port}"
        local = f"-j DNAT --to-destination {node_ip}:{proxy_port}" if node_ip else redirect
        container.append(f"-A {PORTALS_CONTAINER} {head} -d {sp.cluster_ip}/32 --dport {sp.port} {redirect}")
        host.append(f"-A {PORTALS_HOST} {head} -d {sp.cluster_ip}/32 --dport {sp.port} {local}")
        if sp.node_port:
            nodeport_container.append(f"-A {NODEPORT_CONTAINER} {head} --dport {sp.node_port} {redirect}")
            nodeport_host.append(f"-A {NODEPORT_HOST} {head} --dport {sp.node_port} {local}")
    lines = ["*nat"] + [f":{c} - [0:0]" for c in (PORTALS_CONTAINER, PORTALS_HOST, NODEPORT_CONTAINER,
                                                    NODEPORT_HOST)]
    lines += container + host + nodeport_container + nodeport_host
    lines.append("COMMIT")
    return "\n".join(lines) + "\n"


# -- cleanup --------------------------------------------------------------------------------

def _target(rule: str) -> str | None:
    try:
        words = shlex.split(rule)
    except ValueError:
        return None
    for i, word in enumerate(words[:-1]):
        if word in ("-j", "--jump", "-g", "--goto"):
            return words[i + 1]
    return None


def build_cleanup(saved: Mapping[str, str], owned: Callable[[str], bool]) -> str:
    """Restore text removing every chain `owned` accepts and every rule jumping into one.

    `saved` maps a table name to its `iptables-save -t TABLE` output. Rules of other
    chains that lead into ours are deleted with -D (copied from the saved text, so
    they match exactly); our chains are flushed by declaring them, then deleted.
    Returns "" when there is nothing to remove.
    """
    out: list[str] = []
    for table, text in saved.items():
        chains: list[str] = []
        deletes: list[str] = []
        for line in text.splitlines():
            if line.startswith(":"):
                name = line[1:].split()[0]
                if owned(name):
                    chains.append(name)
            elif line.startswith("-A "):
                chain = line.split()[1]
                target = _target(line)
                if not owned(chain) and target is not None and owned(target):
                    deletes.append("-D " + line[3:])
        if not chains and not deletes:
            continue
        out.append(f"*{table}")
        out += [f":{c} - [0:0]" for c in chains]
        out += deletes
        out += [f"-X {c}" for c in chains]
        out.append("COMMIT")
    return "\n".join(out) + "\n" if out else ""
