"""The agent's iptables rules: let pod traffic through Docker's FORWARD, masquerade what leaves.

Docker's FORWARD chain drops what it does not know (policy DROP): traffic that
arrives from another node for a local pod goes out the pod bridge but came in on
eth0 or flannel.1, and Docker only accepts replies and same-bridge traffic for
it. Docker leaves the `DOCKER-USER` chain (jumped to first from FORWARD) to the
user, so that is where the agent accepts everything from or to the cluster CIDR
(flannel's "flanneld forward" rules).

Masquerading lives in the agent's own nat chain, MINIK8S-POSTRTG, jumped to as
the first rule of POSTROUTING:
  1. packets kube-proxy marked for masquerading (0x4000) return to POSTROUTING,
     so its own chain can masquerade them (hairpin, NodePort);
  2. pod → pod anywhere in the cluster is ACCEPTed, which in the nat table means
     "no NAT": pods see each other's real IPs, as the Kubernetes network model
     requires, whatever masquerade rule (Docker's own for its bridge) follows;
  3. traffic from this node's pods to anywhere outside the cluster CIDR (the
     master, the node IPs, ...) is masqueraded to the node's address, because
     nothing outside the cluster has a route back to pod subnets.
Docker inserts its own `-s <bridge subnet> ! -o <bridge> -j MASQUERADE` at the
top of POSTROUTING when a network is created, so each sync re-checks that our
jump is still first and moves it back if not (the kubelet should also create its
network with masquerading off; see docs/network.md).

Every rule carries `-m comment --comment minik8s-network`, which is how
`cleanup` finds them. Rules are compared with `iptables -S` output, whose
canonical forms the rule texts below are written in.
"""
from __future__ import annotations

import dataclasses
import ipaddress
import logging
import shlex

from minik8s.network import runner as runner_mod

log = logging.getLogger(__name__)

COMMENT = "minik8s-network"
TAG = f"-m comment --comment {COMMENT}"
USER_CHAIN = "DOCKER-USER"
NAT_CHAIN = "MINIK8S-POSTRTG"
# kube-proxy's masquerade mark (--iptables-masquerade-bit 14).
MASQ_MARK = "0x4000/0x4000"
IPT = ("iptables", "-w", "5")


@dataclasses.dataclass(frozen=True)
class Command:
    argv: tuple[str, ...]
    input: str | None = None


def forward_rules(cluster_cidr: ipaddress.IPv4Network) -> list[str]:
    return [f"-A {USER_CHAIN} -s {cluster_cidr} {TAG} -j ACCEPT",
            f"-A {USER_CHAIN} -d {cluster_cidr} {TAG} -j ACCEPT"]


def nat_rules(cluster_cidr: ipaddress.IPv4Network, own_subnet: ipaddress.IPv4Network | None,
              masquerade: bool) -> list[str]:
    rules = [f"-A {NAT_CHAIN} -m mark --mark {MASQ_MARK} {TAG} -j RETURN",
             f"-A {NAT_CHAIN} -s {cluster_cidr} -d {cluster_cidr} {TAG} -j ACCEPT"]
    if masquerade and own_subnet is not None:
        rules.append(f"-A {NAT_CHAIN} -s {own_subnet} ! -d {cluster_cidr} {TAG} -j MASQUERADE")
    return rules


FORWARD_JUMP = f"-A FORWARD {TAG} -j {USER_CHAIN}"
NAT_JUMP = f"-A POSTROUTING {TAG} -j {NAT_CHAIN}"


def _lines(save: str) -> list[str]:
    return [line.strip() for line in save.splitlines() if line.strip()]


def _chain_rules(lines: list[str], chain: str) -> list[str]:
    return [line for line in lines if line.startswith(f"-A {chain} ")]


def _argv(table: str, rule: str, verb: str, position: int | None = None) -> tuple[str, ...]:
    """`-A CHAIN spec` as an iptables command with another verb (-I CHAIN 1 spec, -D CHAIN spec)."""
    words = shlex.split(rule)
    chain, spec = words[1], words[2:]
    pos = (str(position),) if position is not None else ()
    return (*IPT, "-t", table, verb, chain, *pos, *spec)


def plan(filter_save: str, nat_save: str, cluster_cidr: ipaddress.IPv4Network,
         own_subnet: ipaddress.IPv4Network | None, masquerade: bool) -> list[Command]:
    """Commands that bring the rules (from `iptables -S` of filter and nat) to the desired set."""
    out: list[Command] = []
    flt = _lines(filter_save)
    if f"-N {USER_CHAIN}" not in flt:
        # No Docker (yet): make the chain ourselves and jump to it, as Docker would.
        out.append(Command((*IPT, "-t", "filter", "-N", USER_CHAIN)))
    if not any(line.startswith("-A FORWARD") and line.endswith(f"-j {USER_CHAIN}") for line in flt):
        out.append(Command(_argv("filter", FORWARD_JUMP, "-I", 1)))
    present = set(_chain_rules(flt, USER_CHAIN))
    # Inserted at the top, ahead of Docker's final RETURN; reversed so they end up in order.
    for rule in reversed(forward_rules(cluster_cidr)):
        if rule not in present:
            out.append(Command(_argv("filter", rule, "-I", 1)))

    nat = _lines(nat_save)
    want = nat_rules(cluster_cidr, own_subnet, masquerade)
    if f"-N {NAT_CHAIN}" not in nat or _chain_rules(nat, NAT_CHAIN) != want:
        # Declaring the chain in --noflush mode flushes it: the new contents replace the old atomically.
        text = "\n".join(["*nat", f":{NAT_CHAIN} - [0:0]", *want, "COMMIT", ""])
        out.append(Command(("iptables-restore", "-w", "5", "--noflush"), text))
    post = _chain_rules(nat, "POSTROUTING")
    if not post or post[0] != NAT_JUMP:
        out += [Command(_argv("nat", NAT_JUMP, "-D")) for rule in post if rule == NAT_JUMP]
        out.append(Command(_argv("nat", NAT_JUMP, "-I", 1)))
    return out


def cleanup_plan(filter_save: str, nat_save: str) -> list[Command]:
    """Commands that remove every rule we tagged, our nat chain, and DOCKER-USER if we left it empty."""
    out: list[Command] = []
    flt = _lines(filter_save)
    tagged = [line for line in flt if line.startswith("-A ") and TAG in line]
    out += [Command(_argv("filter", rule, "-D")) for rule in tagged]
    remaining = [line for line in flt if line.startswith("-A ") and line not in tagged]
    if f"-N {USER_CHAIN}" in flt and not _chain_rules(remaining, USER_CHAIN) and not any(
            line.endswith(f"-j {USER_CHAIN}") for line in remaining):
        out.append(Command((*IPT, "-t", "filter", "-X", USER_CHAIN)))
    nat = _lines(nat_save)
    out += [Command(_argv("nat", rule, "-D")) for rule in nat
            if rule.startswith("-A ") and TAG in rule and not rule.startswith(f"-A {NAT_CHAIN} ")]
    if f"-N {NAT_CHAIN}" in nat:
        out.append(Command((*IPT, "-t", "nat", "-F", NAT_CHAIN)))
        out.append(Command((*IPT, "-t", "nat", "-X", NAT_CHAIN)))
    return out


async def observe(run: runner_mod.Runner) -> tuple[str, str]:
    flt = await run.run((*IPT, "-t", "filter", "-S"))
    nat = await run.run((*IPT, "-t", "nat", "-S"))
    return flt.stdout, nat.stdout


async def sync(run: runner_mod.Runner, cluster_cidr: ipaddress.IPv4Network,
               own_subnet: ipaddress.IPv4Network | None, masquerade: bool) -> None:
    flt, nat = await observe(run)
    for cmd in plan(flt, nat, cluster_cidr, own_subnet, masquerade):
        await run.run(cmd.argv, input=cmd.input)
        log.info("iptables: %s", " ".join(cmd.argv) if cmd.input is None else f"restore {NAT_CHAIN}")


async def cleanup(run: runner_mod.Runner) -> None:
    flt, nat = await observe(run)
    for cmd in cleanup_plan(flt, nat):
        await run.run(cmd.argv, input=cmd.input, check=False)
        log.info("iptables: %s", " ".join(cmd.argv))
