"""The agent's iptables rules, planned from `iptables -S` text (the forms iptables 1.8 prints)."""
from __future__ import annotations

import ipaddress

from minik8s.network import iptables

CLUSTER = ipaddress.IPv4Network("10.244.0.0/16")
OWN = ipaddress.IPv4Network("10.244.1.0/24")

EMPTY_FILTER = "-P INPUT ACCEPT\n-P FORWARD ACCEPT\n-P OUTPUT ACCEPT\n"
EMPTY_NAT = "-P PREROUTING ACCEPT\n-P INPUT ACCEPT\n-P OUTPUT ACCEPT\n-P POSTROUTING ACCEPT\n"

DOCKER_FILTER = """-P INPUT ACCEPT
-P FORWARD DROP
-P OUTPUT ACCEPT
-N DOCKER
-N DOCKER-USER
-A FORWARD -j DOCKER-USER
-A FORWARD -o br-1 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -o br-1 -j DOCKER
-A DOCKER-USER -j RETURN
"""
DOCKER_NAT = """-P PREROUTING ACCEPT
-P INPUT ACCEPT
-P OUTPUT ACCEPT
-P POSTROUTING ACCEPT
-N DOCKER
-A POSTROUTING -s 10.244.1.0/24 ! -o br-1 -j MASQUERADE
"""

RESTORE = ("*nat\n:MINIK8S-POSTRTG - [0:0]\n"
           "-A MINIK8S-POSTRTG -m mark --mark 0x4000/0x4000 -m comment --comment minik8s-network -j RETURN\n"
           "-A MINIK8S-POSTRTG -s 10.244.0.0/16 -d 10.244.0.0/16 -m comment --comment minik8s-network -j ACCEPT\n"
           "-A MINIK8S-POSTRTG -s 10.244.1.0/24 ! -d 10.244.0.0/16 -m comment --comment minik8s-network "
           "-j MASQUERADE\nCOMMIT\n")


def _cmds(cmds: list[iptables.Command]) -> list[str]:
    return [" ".join(c.argv) for c in cmds]


def test_fresh_namespace_without_docker_gets_the_chain_the_jump_and_the_rules() -> None:
    cmds = iptables.plan(EMPTY_FILTER, EMPTY_NAT, CLUSTER, OWN, True)
    assert _cmds(cmds) == [
        "iptables -w 5 -t filter -N DOCKER-USER",
        "iptables -w 5 -t filter -I FORWARD 1 -m comment --comment minik8s-network -j DOCKER-USER",
        "iptables -w 5 -t filter -I DOCKER-USER 1 -d 10.244.0.0/16 -m comment --comment minik8s-network -j ACCEPT",
        "iptables -w 5 -t filter -I DOCKER-USER 1 -s 10.244.0.0/16 -m comment --comment minik8s-network -j ACCEPT",
        "iptables-restore -w 5 --noflush",
        "iptables -w 5 -t nat -I POSTROUTING 1 -m comment --comment minik8s-network -j MINIK8S-POSTRTG",
    ]
    assert cmds[4].input == RESTORE


def test_with_docker_the_rules_go_above_its_return_and_the_jump_above_its_masquerade() -> None:
    cmds = _cmds(iptables.plan(DOCKER_FILTER, DOCKER_NAT, CLUSTER, OWN, True))
    assert "iptables -w 5 -t filter -N DOCKER-USER" not in cmds
    assert not any("-I FORWARD" in c for c in cmds)  # Docker's jump is enough
    assert cmds[-1] == "iptables -w 5 -t nat -I POSTROUTING 1 -m comment --comment minik8s-network -j MINIK8S-POSTRTG"


def _converged_nat(extra_first: str = "") -> str:
    return DOCKER_NAT.replace("-A POSTROUTING", extra_first + iptables.NAT_JUMP + "\n-A POSTROUTING", 1) + \
        "-N MINIK8S-POSTRTG\n" + "\n".join(iptables.nat_rules(CLUSTER, OWN, True)) + "\n"


CONVERGED_FILTER = DOCKER_FILTER.replace(
    "-A DOCKER-USER -j RETURN",
    "-A DOCKER-USER -s 10.244.0.0/16 -m comment --comment minik8s-network -j ACCEPT\n"
    "-A DOCKER-USER -d 10.244.0.0/16 -m comment --comment minik8s-network -j ACCEPT\n-A DOCKER-USER -j RETURN")


def test_converged_rules_need_nothing() -> None:
    assert iptables.plan(CONVERGED_FILTER, _converged_nat(), CLUSTER, OWN, True) == []


def test_a_masquerade_rule_inserted_above_our_jump_moves_the_jump_back_to_the_top() -> None:
    nat = _converged_nat(extra_first="-A POSTROUTING -s 10.244.1.0/24 ! -o br-2 -j MASQUERADE\n")
    assert _cmds(iptables.plan(CONVERGED_FILTER, nat, CLUSTER, OWN, True)) == [
        "iptables -w 5 -t nat -D POSTROUTING -m comment --comment minik8s-network -j MINIK8S-POSTRTG",
        "iptables -w 5 -t nat -I POSTROUTING 1 -m comment --comment minik8s-network -j MINIK8S-POSTRTG",
    ]


def test_a_new_pod_cidr_rewrites_our_chain_atomically() -> None:
    cmds = iptables.plan(CONVERGED_FILTER, _converged_nat(), CLUSTER, ipaddress.IPv4Network("10.244.7.0/24"), True)
    assert _cmds(cmds) == ["iptables-restore -w 5 --noflush"]
    assert "-s 10.244.7.0/24 ! -d 10.244.0.0/16" in (cmds[0].input or "")


def test_without_masquerading_no_masquerade_rule() -> None:
    rules = iptables.nat_rules(CLUSTER, OWN, False)
    assert not any("MASQUERADE" in r for r in rules)
    assert any("-j ACCEPT" in r for r in rules)


def test_cleanup_removes_only_tagged_rules_and_keeps_dockers_chain() -> None:
    cmds = _cmds(iptables.cleanup_plan(CONVERGED_FILTER, _converged_nat()))
    assert cmds == [
        "iptables -w 5 -t filter -D DOCKER-USER -s 10.244.0.0/16 -m comment --comment minik8s-network -j ACCEPT",
        "iptables -w 5 -t filter -D DOCKER-USER -d 10.244.0.0/16 -m comment --comment minik8s-network -j ACCEPT",
        "iptables -w 5 -t nat -D POSTROUTING -m comment --comment minik8s-network -j MINIK8S-POSTRTG",
        "iptables -w 5 -t nat -F MINIK8S-POSTRTG",
        "iptables -w 5 -t nat -X MINIK8S-POSTRTG",
    ]


def test_cleanup_deletes_a_docker_user_chain_it_made_itself() -> None:
    flt = (EMPTY_FILTER + "-N DOCKER-USER\n" + iptables.FORWARD_JUMP + "\n"
           + "\n".join(iptables.forward_rules(CLUSTER)) + "\n")
    cmds = _cmds(iptables.cleanup_plan(flt, EMPTY_NAT))
    assert cmds[-1] == "iptables -w 5 -t filter -X DOCKER-USER"
    assert len(cmds) == 4
