"""The iptables-restore text of both proxy modes, compared line for line with what is expected."""
from __future__ import annotations

from collections.abc import Sequence, Set as AbstractSet
from typing import Any

import pytest

from minik8s.proxy import rules
from minik8s.proxy import servicemap as sm

CONFIG = rules.Config()

FILTER_HEAD = """\
*filter
:KUBE-SERVICES - [0:0]
:KUBE-EXTERNAL-SERVICES - [0:0]
:KUBE-FORWARD - [0:0]
"""
FILTER_TAIL = """\
-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP
-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT
-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
COMMIT
*nat
:KUBE-SERVICES - [0:0]
:KUBE-NODEPORTS - [0:0]
:KUBE-POSTROUTING - [0:0]
:KUBE-MARK-MASQ - [0:0]
"""
NAT_FIXED = """\
-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN
-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000
-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully
-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000
"""
NODEPORTS_JUMP = ('-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last '
                  'rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS\n')


def service(name: str, *ports: dict[str, Any], ns: str = "default", type_: str = "ClusterIP",
            cluster_ip: str = "10.96.0.5", **spec: Any) -> dict[str, Any]:
    return {"metadata": {"namespace": ns, "name": name},
            "spec": {"type": type_, "clusterIP": cluster_ip, "ports": list(ports), **spec}}


def endpoints(name: str, *subsets: dict[str, Any], ns: str = "default") -> dict[str, Any]:
    return {"metadata": {"namespace": ns, "name": name}, "subsets": list(subsets)}


def subset(ips: list[str], ports: list[tuple[str, int, str]], not_ready: Sequence[str] = ()) -> dict[str, Any]:
    s: dict[str, Any] = {"addresses": [{"ip": ip} for ip in ips],
                         "ports": [{"name": n, "port": p, "protocol": proto} for n, p, proto in ports]}
    if not_ready:
        s["notReadyAddresses"] = [{"ip": ip} for ip in not_ready]
    return s


def build(services: list[dict[str, Any]], eps: list[dict[str, Any]], node_ips: Sequence[str] = (),
          config: rules.Config = CONFIG, existing: AbstractSet[str] = frozenset()) -> str:
    state = sm.State()
    for s in services:
        state.set_service(s)
    for e in eps:
        state.set_endpoints(e)
    return rules.build_rules(state.ports(), state.endpoints(), list(node_ips), config, existing)


def test_chain_names_are_kube_proxys() -> None:
    # The names every Kubernetes cluster shows for these Services.
    assert rules.service_chain(sm.ServicePortName("kube-system", "kube-dns", "dns", "UDP")) == \
        "KUBE-SVC-TCOU7JCQXEZGVUNU"
    assert rules.service_chain(sm.ServicePortName("kube-system", "kube-dns", "dns-tcp", "TCP")) == \
        "KUBE-SVC-ERIFXISQEP7F7OF4"
    assert rules.service_chain(sm.ServicePortName("default", "kubernetes", "https", "TCP")) == \
        "KUBE-SVC-NPX46M4PTMTKRN6Y"


def test_probability_formatting() -> None:
    assert [rules.probability(n) for n in (3, 2, 4, 7)] == \
        ["0.3333333333", "0.5000000000", "0.2500000000", "0.1428571429"]


WEB = service("web", {"name": "http", "port": 80, "targetPort": 80, "protocol": "TCP"})

CASES: dict[str, tuple[list[dict[str, Any]], list[dict[str, Any]], str]] = {
    "no endpoints: REJECT in filter, nothing in nat": (
        [WEB], [],
        FILTER_HEAD
        + '-A KUBE-SERVICES -m comment --comment "default/web:http has no endpoints" -m tcp -p tcp '
          '-d 10.96.0.5/32 --dport 80 -j REJECT\n'
        + FILTER_TAIL + NAT_FIXED + NODEPORTS_JUMP + "COMMIT\n"),
    "only not-ready endpoints count as none": (
        [WEB], [endpoints("web", subset([], [("http", 8080, "TCP")], not_ready=["10.244.1.5"]))],
        FILTER_HEAD
        + '-A KUBE-SERVICES -m comment --comment "default/web:http has no endpoints" -m tcp -p tcp '
          '-d 10.96.0.5/32 --dport 80 -j REJECT\n'
        + FILTER_TAIL + NAT_FIXED + NODEPORTS_JUMP + "COMMIT\n"),
    "one endpoint": (
        [WEB], [endpoints("web", subset(["10.244.1.5"], [("http", 8080, "TCP")]))],
        FILTER_HEAD + FILTER_TAIL
        + ":KUBE-SVC-CDGGSHYLG3RE2FKL - [0:0]\n"
          ":KUBE-SEP-AFGSLHOD2HFNCBX4 - [0:0]\n"
        + NAT_FIXED
        + '-A KUBE-SERVICES -m comment --comment "default/web:http cluster IP" -m tcp -p tcp -d 10.96.0.5/32 '
          '--dport 80 -j KUBE-SVC-CDGGSHYLG3RE2FKL\n'
        + NODEPORTS_JUMP
        + '-A KUBE-SVC-CDGGSHYLG3RE2FKL ! -s 10.244.0.0/16 -j MARK --or-mark 0x4000\n'
          '-A KUBE-SVC-CDGGSHYLG3RE2FKL -m comment --comment "default/web:http -> 10.244.1.5:8080" '
          '-j KUBE-SEP-AFGSLHOD2HFNCBX4\n'
          '-A KUBE-SEP-AFGSLHOD2HFNCBX4 -m comment --comment default/web:http -s 10.244.1.5/32 '
          '-j MARK --or-mark 0x4000\n'
          '-A KUBE-SEP-AFGSLHOD2HFNCBX4 -m comment --comment default/web:http -m tcp -p tcp '
          '-j DNAT --to-destination 10.244.1.5:8080\n'
          "COMMIT\n"),
    "three endpoints: 1/3, 1/2, rest; sorted numerically": (
        [WEB], [endpoints("web", subset(["10.244.2.5", "10.244.1.10", "10.244.1.5"], [("http", 80, "TCP")]))],
        FILTER_HEAD + FILTER_TAIL
        + ":KUBE-SVC-CDGGSHYLG3RE2FKL - [0:0]\n"
          ":KUBE-SEP-USKAY64JPFHIPHIG - [0:0]\n"
          ":KUBE-SEP-THCUGE4PYEGQIHCR - [0:0]\n"
          ":KUBE-SEP-K4XZQQV4EBL7BX6P - [0:0]\n"
        + NAT_FIXED
        + '-A KUBE-SERVICES -m comment --comment "default/web:http cluster IP" -m tcp -p tcp -d 10.96.0.5/32 '
          '--dport 80 -j KUBE-SVC-CDGGSHYLG3RE2FKL\n'
        + NODEPORTS_JUMP
        + '-A KUBE-SVC-CDGGSHYLG3RE2FKL ! -s 10.244.0.0/16 -j MARK --or-mark 0x4000\n'
          '-A KUBE-SVC-CDGGSHYLG3RE2FKL -m comment --comment "default/web:http -> 10.244.1.5:80" '
          '-m statistic --mode random --probability 0.3333333333 -j KUBE-SEP-THCUGE4PYEGQIHCR\n'
          '-A KUBE-SVC-CDGGSHYLG3RE2FKL -m comment --comment "default/web:http -> 10.244.1.10:80" '
          '-m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-USKAY64JPFHIPHIG\n'
          '-A KUBE-SVC-CDGGSHYLG3RE2FKL -m comment --comment "default/web:http -> 10.244.2.5:80" '
          '-j KUBE-SEP-K4XZQQV4EBL7BX6P\n'
          '-A KUBE-SEP-THCUGE4PYEGQIHCR -m comment --comment default/web:http -s 10.244.1.5/32 '
          '-j MARK --or-mark 0x4000\n'
          '-A KUBE-SEP-THCUGE4PYEGQIHCR -m comment --comment default/web:http -m tcp -p tcp '
          '-j DNAT --to-destination 10.244.1.5:80\n'
          '-A KUBE-SEP-USKAY64JPFHIPHIG -m comment --comment default/web:http -s 10.244.1.10/32 '
          '-j MARK --or-mark 0x4000\n'
          '-A KUBE-SEP-USKAY64JPFHIPHIG -m comment --comment default/web:http -m tcp -p tcp '
          '-j DNAT --to-destination 10.244.1.10:80\n'
          '-A KUBE-SEP-K4XZQQV4EBL7BX6P -m comment --comment default/web:http -s 10.244.2.5/32 '
          '-j MARK --or-mark 0x4000\n'
          '-A KUBE-SEP-K4XZQQV4EBL7BX6P -m comment --comment default/web:http -m tcp -p tcp '
          '-j DNAT --to-destination 10.244.2.5:80\n'
          "COMMIT\n"),
    "the seed's NodePort Service: marked for masquerade, then the Service chain": (
        [service("vdata-imp-service", {"port": 80, "targetPort": 80, "nodePort": 30001, "protocol": "TCP"},
                 type_="NodePort", cluster_ip="10.96.0.20")],
        [endpoints("vdata-imp-service", subset(["10.244.1.5"], [("", 80, "TCP")]))],
        FILTER_HEAD + FILTER_TAIL
        + ":KUBE-SVC-PM4QROGO4AYUXIS5 - [0:0]\n"
          ":KUBE-SEP-BP4ZVBFJKOOTDF2N - [0:0]\n"
        + NAT_FIXED
        + '-A KUBE-SERVICES -m comment --comment "default/vdata-imp-service cluster IP" -m tcp -p tcp '
          '-d 10.96.0.20/32 --dport 80 -j KUBE-SVC-PM4QROGO4AYUXIS5\n'
        + NODEPORTS_JUMP
        + "-A KUBE-NODEPORTS -m comment --comment default/vdata-imp-service -m tcp -p tcp --dport 30001 "
          "-j MARK --or-mark 0x4000\n"
          "-A KUBE-NODEPORTS -m comment --comment default/vdata-imp-service -m tcp -p tcp --dport 30001 "
          "-j KUBE-SVC-PM4QROGO4AYUXIS5\n"
          '-A KUBE-SVC-PM4QROGO4AYUXIS5 ! -s 10.244.0.0/16 -j MARK --or-mark 0x4000\n'
          '-A KUBE-SVC-PM4QROGO4AYUXIS5 -m comment --comment "default/vdata-imp-service -> 10.244.1.5:80" '
          "-j KUBE-SEP-BP4ZVBFJKOOTDF2N\n"
          "-A KUBE-SEP-BP4ZVBFJKOOTDF2N -m comment --comment default/vdata-imp-service -s 10.244.1.5/32 "
          "-j MARK --or-mark 0x4000\n"
          "-A KUBE-SEP-BP4ZVBFJKOOTDF2N -m comment --comment default/vdata-imp-service -m tcp -p tcp "
          "-j DNAT --to-destination 10.244.1.5:80\n"
          "COMMIT\n"),
    "NodePort without endpoints: REJECT for the cluster IP and the node port": (
        [service("np", {"name": "http", "port": 80, "nodePort": 30001, "protocol": "TCP"}, type_="NodePort")], [],
        FILTER_HEAD
        + '-A KUBE-SERVICES -m comment --comment "default/np:http has no endpoints" -m tcp -p tcp '
          "-d 10.96.0.5/32 --dport 80 -j REJECT\n"
          '-A KUBE-EXTERNAL-SERVICES -m comment --comment "default/np:http has no endpoints" '
          "-m addrtype --dst-type LOCAL -m tcp -p tcp --dport 30001 -j REJECT\n"
        + FILTER_TAIL + NAT_FIXED + NODEPORTS_JUMP + "COMMIT\n"),
    "multi-port with named target ports: each port its own chains, endpoints matched by port name": (
        [service("multi", {"name": "http", "port": 80, "targetPort": "web", "protocol": "TCP"},
                 {"name": "https", "port": 443, "targetPort": "websecure", "protocol": "TCP"}, ns="ns")],
        [endpoints("multi", subset(["10.244.1.7"], [("http", 8080, "TCP"), ("https", 8443, "TCP")]), ns="ns")],
        FILTER_HEAD + FILTER_TAIL
        + ":KUBE-SVC-FIBPYLQS75M7G4IH - [0:0]\n"
          ":KUBE-SVC-7R4IP3M4PBSXJ2BW - [0:0]\n"
          ":KUBE-SEP-ZT3LKECIEJHKAVEB - [0:0]\n"
          ":KUBE-SEP-MXOFYQYTCKQ2V7NW - [0:0]\n"
        + NAT_FIXED
        + '-A KUBE-SERVICES -m comment --comment "ns/multi:http cluster IP" -m tcp -p tcp -d 10.96.0.5/32 '
          "--dport 80 -j KUBE-SVC-7R4IP3M4PBSXJ2BW\n"
          '-A KUBE-SERVICES -m comment --comment "ns/multi:https cluster IP" -m tcp -p tcp -d 10.96.0.5/32 '
          "--dport 443 -j KUBE-SVC-FIBPYLQS75M7G4IH\n"
        + NODEPORTS_JUMP
        + '-A KUBE-SVC-7R4IP3M4PBSXJ2BW ! -s 10.244.0.0/16 -j MARK --or-mark 0x4000\n'
          '-A KUBE-SVC-7R4IP3M4PBSXJ2BW -m comment --comment "ns/multi:http -> 10.244.1.7:8080" '
          "-j KUBE-SEP-ZT3LKECIEJHKAVEB\n"
          "-A KUBE-SEP-ZT3LKECIEJHKAVEB -m comment --comment ns/multi:http -s 10.244.1.7/32 "
          "-j MARK --or-mark 0x4000\n"
          "-A KUBE-SEP-ZT3LKECIEJHKAVEB -m comment --comment ns/multi:http -m tcp -p tcp "
          "-j DNAT --to-destination 10.244.1.7:8080\n"
          '-A KUBE-SVC-FIBPYLQS75M7G4IH ! -s 10.244.0.0/16 -j MARK --or-mark 0x4000\n'
          '-A KUBE-SVC-FIBPYLQS75M7G4IH -m comment --comment "ns/multi:https -> 10.244.1.7:8443" '
          "-j KUBE-SEP-MXOFYQYTCKQ2V7NW\n"
          "-A KUBE-SEP-MXOFYQYTCKQ2V7NW -m comment --comment ns/multi:https -s 10.244.1.7/32 "
          "-j MARK --or-mark 0x4000\n"
          "-A KUBE-SEP-MXOFYQYTCKQ2V7NW -m comment --comment ns/multi:https -m tcp -p tcp "
          "-j DNAT --to-destination 10.244.1.7:8443\n"
          "COMMIT\n"),
    "UDP and TCP on one port number (cluster DNS): UDP has endpoints, TCP none": (
        [service("kube-dns", {"name": "dns", "port": 53, "protocol": "UDP"},
                 {"name": "dns-tcp", "port": 53, "protocol": "TCP"}, ns="kube-system", cluster_ip="10.96.0.10")],
        [endpoints("kube-dns", subset(["10.244.0.2"], [("dns", 53, "UDP")]), ns="kube-system")],
        FILTER_HEAD
        + '-A KUBE-SERVICES -m comment --comment "kube-system/kube-dns:dns-tcp has no endpoints" -m tcp -p tcp '
          "-d 10.96.0.10/32 --dport 53 -j REJECT\n"
        + FILTER_TAIL
        + ":KUBE-SVC-TCOU7JCQXEZGVUNU - [0:0]\n"
          ":KUBE-SEP-YIL6JZP7A3QYXJU2 - [0:0]\n"
        + NAT_FIXED
        + '-A KUBE-SERVICES -m comment --comment "kube-system/kube-dns:dns cluster IP" -m udp -p udp '
          "-d 10.96.0.10/32 --dport 53 -j KUBE-SVC-TCOU7JCQXEZGVUNU\n"
        + NODEPORTS_JUMP
        + '-A KUBE-SVC-TCOU7JCQXEZGVUNU ! -s 10.244.0.0/16 -j MARK --or-mark 0x4000\n'
          '-A KUBE-SVC-TCOU7JCQXEZGVUNU -m comment --comment "kube-system/kube-dns:dns -> 10.244.0.2:53" '
          "-j KUBE-SEP-YIL6JZP7A3QYXJU2\n"
          "-A KUBE-SEP-YIL6JZP7A3QYXJU2 -m comment --comment kube-system/kube-dns:dns -s 10.244.0.2/32 "
          "-j MARK --or-mark 0x4000\n"
          "-A KUBE-SEP-YIL6JZP7A3QYXJU2 -m comment --comment kube-system/kube-dns:dns -m udp -p udp "
          "-j DNAT --to-destination 10.244.0.2:53\n"
          "COMMIT\n"),
    "headless and ExternalName Services get no rules": (
        [service("headless", {"name": "http", "port": 80}, cluster_ip="None"),
         service("ext", {"name": "http", "port": 80}, type_="ExternalName", cluster_ip="", externalName="x.y")],
        [endpoints("headless", subset(["10.244.1.5"], [("http", 80, "TCP")]))],
        FILTER_HEAD + FILTER_TAIL + NAT_FIXED + NODEPORTS_JUMP + "COMMIT\n"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_build_rules(name: str) -> None:
    services, eps, expected = CASES[name]
    assert build(services, eps) == expected


def test_service_deleted_removes_its_chains_in_the_same_restore() -> None:
    before = build([WEB], [endpoints("web", subset(["10.244.1.5"], [("http", 8080, "TCP")]))])
    existing = rules.declared_chains(before)
    assert {"KUBE-SVC-CDGGSHYLG3RE2FKL", "KUBE-SEP-AFGSLHOD2HFNCBX4"} <= existing
    after = build([], [], existing=existing)
    assert after == (FILTER_HEAD + FILTER_TAIL
        + ":KUBE-SVC-CDGGSHYLG3RE2FKL - [0:0]\n"
          ":KUBE-SEP-AFGSLHOD2HFNCBX4 - [0:0]\n"
                     + NAT_FIXED + NODEPORTS_JUMP
                     + "-X KUBE-SEP-AFGSLHOD2HFNCBX4\n"
                       "-X KUBE-SVC-CDGGSHYLG3RE2FKL\n"
                       "COMMIT\n")
    assert rules.declared_chains(after) == {"KUBE-SERVICES", "KUBE-NODEPORTS", "KUBE-POSTROUTING",
                                            "KUBE-MARK-MASQ"}


def test_endpoint_removed_drops_only_its_chain() -> None:
    three = build([WEB], [endpoints("web", subset(["10.244.1.5", "10.244.1.10", "10.244.2.5"],
                                                  [("http", 80, "TCP")]))])
    two = build([WEB], [endpoints("web", subset(["10.244.1.5", "10.244.2.5"], [("http", 80, "TCP")]))],
                existing=rules.declared_chains(three))
    assert "-X KUBE-SEP-USKAY64JPFHIPHIG\n" in two
    assert [line for line in two.splitlines() if line.startswith("-X")] == ["-X KUBE-SEP-USKAY64JPFHIPHIG"]
    assert "--probability 0.5000000000 -j KUBE-SEP-THCUGE4PYEGQIHCR" in two
    # Chains of other owners and our fixed chains are never deleted.
    other = build([WEB], [], existing={"KUBE-SERVICES", "DOCKER", "KUBE-MARK-DROP"})
    assert "-X" not in other


def test_chain_names_are_stable_and_distinct() -> None:
    eps = [endpoints("web", subset(["10.244.1.5"], [("http", 80, "TCP")]))]
    assert build([WEB], eps) == build([WEB], eps)
    a = rules.service_chain(sm.ServicePortName("a", "b", "c", "TCP"))
    assert a != rules.service_chain(sm.ServicePortName("a", "b", "c", "UDP"))
    assert a != rules.service_chain(sm.ServicePortName("a", "b", "d", "TCP"))
    assert len(a) == len("KUBE-SVC-") + 16 <= 28  # iptables' chain name limit


def test_masquerade_options_and_nodeport_addresses() -> None:
    np_svc = service("np", {"name": "http", "port": 80, "nodePort": 30001}, type_="NodePort")
    eps = [endpoints("np", subset(["10.244.1.5"], [("http", 80, "TCP")]))]
    text = build([np_svc], eps, config=rules.Config(masquerade_all=True))
    assert '-A KUBE-SVC-QUMPV5Z3SF2IMFUJ -j MARK --or-mark 0x4000' in text
    text = build([np_svc], eps, config=rules.Config(cluster_cidr=""))
    assert "-A KUBE-SVC-QUMPV5Z3SF2IMFUJ ! -s" not in text and "-A KUBE-SVC-QUMPV5Z3SF2IMFUJ -j MARK" not in text
    assert not any(line.startswith("-A KUBE-SVC-") and "MARK" in line for line in text.splitlines())
    text = build([np_svc], eps, node_ips=["172.31.0.11", "10.0.0.0/8"])
    assert ('-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last '
            'rule in this chain" -d 172.31.0.11/32 -j KUBE-NODEPORTS') in text
    assert "-d 10.0.0.0/8 -j KUBE-NODEPORTS" in text
    assert "addrtype" not in text
    text = build([np_svc], eps, config=rules.Config(masquerade_bit=5))
    assert "-m mark ! --mark 0x20/0x20 -j RETURN" in text


def chain_rules(text: str, chain: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(f"-A {chain} ")]


def test_client_ip_affinity_uses_recent() -> None:
    svc = service("web", {"name": "http", "port": 80}, sessionAffinity="ClientIP",
                  sessionAffinityConfig={"clientIP": {"timeoutSeconds": 600}})
    text = build([svc], [endpoints("web", subset(["10.244.1.5", "10.244.2.5"], [("http", 80, "TCP")]))])
    sep1, sep2 = "KUBE-SEP-THCUGE4PYEGQIHCR", "KUBE-SEP-K4XZQQV4EBL7BX6P"
    assert chain_rules(text, "KUBE-SVC-CDGGSHYLG3RE2FKL")[1:] == [
        '-A KUBE-SVC-CDGGSHYLG3RE2FKL -m comment --comment "default/web:http -> 10.244.1.5:80" -m recent '
        f"--name {sep1} --mask 255.255.255.255 --rsource --rcheck --seconds 600 --reap -j {sep1}",
        '-A KUBE-SVC-CDGGSHYLG3RE2FKL -m comment --comment "default/web:http -> 10.244.2.5:80" -m recent '
        f"--name {sep2} --mask 255.255.255.255 --rsource --rcheck --seconds 600 --reap -j {sep2}",
        '-A KUBE-SVC-CDGGSHYLG3RE2FKL -m comment --comment "default/web:http -> 10.244.1.5:80" '
        f"-m statistic --mode random --probability 0.5000000000 -j {sep1}",
        f'-A KUBE-SVC-CDGGSHYLG3RE2FKL -m comment --comment "default/web:http -> 10.244.2.5:80" -j {sep2}',
    ]
    assert (f"-A {sep1} -m comment --comment default/web:http -m recent --name {sep1} --mask 255.255.255.255 "
            "--rsource --set -m tcp -p tcp -j DNAT --to-destination 10.244.1.5:80") in text


def test_an_endpoint_on_another_node_is_dnated_by_the_service_chain() -> None:
    # Only an endpoint on this node can reach itself through its Service here (hairpin),
    # so only it (and one whose node is not known) gets a KUBE-SEP chain; a remote one is
    # one DNAT rule in the KUBE-SVC chain: a chain less per endpoint for iptables-restore.
    eps = endpoints("web", {"addresses": [{"ip": "10.244.1.5", "nodeName": "n1"},
                                          {"ip": "10.244.1.10"},
                                          {"ip": "10.244.2.5", "nodeName": "n2"}],
                            "ports": [{"name": "http", "port": 80, "protocol": "TCP"}]})
    config = rules.Config(node_name="n1")
    text = build([WEB], [eps], config=config)
    local, unknown = "KUBE-SEP-THCUGE4PYEGQIHCR", "KUBE-SEP-USKAY64JPFHIPHIG"
    assert chain_rules(text, "KUBE-SVC-CDGGSHYLG3RE2FKL")[1:] == [
        '-A KUBE-SVC-CDGGSHYLG3RE2FKL -m comment --comment "default/web:http -> 10.244.1.5:80" '
        f"-m statistic --mode random --probability 0.3333333333 -j {local}",
        '-A KUBE-SVC-CDGGSHYLG3RE2FKL -m comment --comment "default/web:http -> 10.244.1.10:80" '
        f"-m statistic --mode random --probability 0.5000000000 -j {unknown}",
        '-A KUBE-SVC-CDGGSHYLG3RE2FKL -m comment --comment "default/web:http -> 10.244.2.5:80" '
        "-m tcp -p tcp -j DNAT --to-destination 10.244.2.5:80",
    ]
    assert rules.declared_chains(text) - rules.IPTABLES_CHAINS == {"KUBE-SVC-CDGGSHYLG3RE2FKL", local, unknown}
    assert f"-A {local} -m comment --comment default/web:http -s 10.244.1.5/32 -j MARK --or-mark 0x4000" in text
    assert "-s 10.244.2.5/32" not in text
    # What the proxier remembers as being in the kernel is what the text declared.
    state = sm.State()
    state.set_service(WEB)
    state.set_endpoints(eps)
    assert rules.per_service_chains(state.ports(), state.endpoints(), config) == \
        rules.declared_chains(text) - rules.IPTABLES_CHAINS
    # The chain of an endpoint that moved to another node is deleted in the same restore.
    moved = build([WEB], [eps], config=rules.Config(node_name="n3"), existing={local, unknown})
    assert moved.endswith(f"-X {local}\nCOMMIT\n")
    # Without a node name every endpoint may be local: a chain each, as kube-proxy.
    assert rules.declared_chains(build([WEB], [eps])) - rules.IPTABLES_CHAINS == {
        "KUBE-SVC-CDGGSHYLG3RE2FKL", local, unknown, "KUBE-SEP-K4XZQQV4EBL7BX6P"}


def test_client_ip_affinity_keeps_a_chain_for_a_remote_endpoint() -> None:
    # The chain records the client in its `recent` list: it has two things to do.
    svc = service("web", {"name": "http", "port": 80}, sessionAffinity="ClientIP",
                  sessionAffinityConfig={"clientIP": {"timeoutSeconds": 600}})
    eps = endpoints("web", {"addresses": [{"ip": "10.244.2.5", "nodeName": "n2"}],
                            "ports": [{"name": "http", "port": 80, "protocol": "TCP"}]})
    text = build([svc], [eps], config=rules.Config(node_name="n1"))
    assert "KUBE-SEP-K4XZQQV4EBL7BX6P" in rules.declared_chains(text)
    assert "--rsource --set -m tcp -p tcp -j DNAT --to-destination 10.244.2.5:80" in text


# -- userspace mode ------------------------------------------------------------------------------

USERSPACE_HEAD = """\
*nat
:KUBE-PORTALS-CONTAINER - [0:0]
:KUBE-PORTALS-HOST - [0:0]
:KUBE-NODEPORT-CONTAINER - [0:0]
:KUBE-NODEPORT-HOST - [0:0]
"""


def test_userspace_rules_redirect_to_the_listener() -> None:
    web = sm.ServicePort(sm.ServicePortName("default", "web", "http", "TCP"), "10.96.0.5", 80, 30001)
    dns = sm.ServicePort(sm.ServicePortName("kube-system", "kube-dns", "dns", "UDP"), "10.96.0.10", 53)
    assert rules.build_userspace_rules([(web, 40001), (dns, 40002)], "172.31.0.11") == USERSPACE_HEAD + (
        "-A KUBE-PORTALS-CONTAINER -m comment --comment default/web:http -m tcp -p tcp -d 10.96.0.5/32 --dport 80 "
        "-j REDIRECT --to-ports 40001\n"
        "-A KUBE-PORTALS-CONTAINER -m comment --comment kube-system/kube-dns:dns -m udp -p udp -d 10.96.0.10/32 "
        "--dport 53 -j REDIRECT --to-ports 40002\n"
        "-A KUBE-PORTALS-HOST -m comment --comment default/web:http -m tcp -p tcp -d 10.96.0.5/32 --dport 80 "
        "-j DNAT --to-destination 172.31.0.11:40001\n"
        "-A KUBE-PORTALS-HOST -m comment --comment kube-system/kube-dns:dns -m udp -p udp -d 10.96.0.10/32 "
        "--dport 53 -j DNAT --to-destination 172.31.0.11:40002\n"
        "-A KUBE-NODEPORT-CONTAINER -m comment --comment default/web:http -m tcp -p tcp --dport 30001 "
        "-j REDIRECT --to-ports 40001\n"
        "-A KUBE-NODEPORT-HOST -m comment --comment default/web:http -m tcp -p tcp --dport 30001 "
        "-j DNAT --to-destination 172.31.0.11:40001\n"
        "COMMIT\n")
    # Without a node IP the node's own traffic is redirected to loopback.
    text = rules.build_userspace_rules([(web, 40001)], None)
    assert "-A KUBE-PORTALS-HOST -m comment --comment default/web:http -m tcp -p tcp -d 10.96.0.5/32 --dport 80 " \
           "-j REDIRECT --to-ports 40001\n" in text
    assert rules.build_userspace_rules([], None) == USERSPACE_HEAD + "COMMIT\n"


# -- cleanup -------------------------------------------------------------------------------------

SAVED_NAT = """\
# Generated by iptables-save v1.8.9 (nf_tables)
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:DOCKER - [0:0]
:KUBE-SERVICES - [0:0]
:KUBE-SVC-CDGGSHYLG3RE2FKL - [0:0]
:KUBE-PORTALS-HOST - [0:0]
-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
-A OUTPUT -m comment --comment "handle ClusterIPs; NOTE: this must be before the NodePort rules" -j KUBE-PORTALS-HOST
-A KUBE-SERVICES -d 10.96.0.5/32 -p tcp -m comment --comment "default/web:http cluster IP" -m tcp --dport 80 -j KUBE-SVC-CDGGSHYLG3RE2FKL
COMMIT
"""


def test_cleanup_removes_jumps_and_chains_of_the_selected_mode() -> None:
    assert rules.build_cleanup({"nat": SAVED_NAT}, rules.owned_by_any_mode) == (
        "*nat\n"
        ":KUBE-SERVICES - [0:0]\n"
        ":KUBE-SVC-CDGGSHYLG3RE2FKL - [0:0]\n"
        ":KUBE-PORTALS-HOST - [0:0]\n"
        '-D PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES\n'
        '-D OUTPUT -m comment --comment "handle ClusterIPs; NOTE: this must be before the NodePort rules" '
        "-j KUBE-PORTALS-HOST\n"
        "-X KUBE-SERVICES\n"
        "-X KUBE-SVC-CDGGSHYLG3RE2FKL\n"
        "-X KUBE-PORTALS-HOST\n"
        "COMMIT\n")
    # Switching to the iptables mode removes only the userspace mode's leftovers.
    assert rules.build_cleanup({"nat": SAVED_NAT}, rules.owned_by_userspace_mode) == (
        "*nat\n"
        ":KUBE-PORTALS-HOST - [0:0]\n"
        '-D OUTPUT -m comment --comment "handle ClusterIPs; NOTE: this must be before the NodePort rules" '
        "-j KUBE-PORTALS-HOST\n"
        "-X KUBE-PORTALS-HOST\n"
        "COMMIT\n")
    assert rules.build_cleanup({"nat": "*nat\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n", "filter": ""},
                               rules.owned_by_any_mode) == ""


def test_jumps() -> None:
    targets = {(j.table, j.chain, j.target) for j in rules.IPTABLES_JUMPS}
    assert targets == {
        ("filter", "INPUT", "KUBE-EXTERNAL-SERVICES"), ("filter", "FORWARD", "KUBE-EXTERNAL-SERVICES"),
        ("filter", "FORWARD", "KUBE-SERVICES"), ("filter", "OUTPUT", "KUBE-SERVICES"),
        ("filter", "FORWARD", "KUBE-FORWARD"), ("nat", "PREROUTING", "KUBE-SERVICES"),
        ("nat", "OUTPUT", "KUBE-SERVICES"), ("nat", "POSTROUTING", "KUBE-POSTROUTING")}
    nodeport_jumps = [j for j in rules.USERSPACE_JUMPS if j.target.startswith("KUBE-NODEPORT-")]
    assert nodeport_jumps and all(not j.prepend and "addrtype" in j.args for j in nodeport_jumps)


@pytest.mark.parametrize("count, commented", [(rules.LARGE_CLUSTER_ENDPOINTS, True),
                                              (rules.LARGE_CLUSTER_ENDPOINTS + 1, False)])
def test_large_cluster_mode_drops_the_per_endpoint_comments(count: int, commented: bool) -> None:
    # As kube-proxy past 1,000 endpoints: KUBE-SEP rules and the jumps to them lose their
    # comments (cheaper restores); the rules on the shared chains keep theirs.
    ips = [f"10.244.{i // 250}.{i % 250 + 2}" for i in range(count)]
    text = build([WEB], [endpoints("web", subset(ips, [("http", 80, "TCP")]))])
    per_endpoint = [line for line in text.splitlines() if line.startswith("-A KUBE-SEP-")
                    or line.startswith("-A KUBE-SVC-") and "-j KUBE-SEP-" in line]
    assert len(per_endpoint) == 3 * count
    assert all(("-m comment" in line) == commented for line in per_endpoint)
    assert sum("DNAT --to-destination" in line for line in per_endpoint) == count
    shared = [line for line in text.splitlines() if line.startswith("-A KUBE-SERVICES")]
    assert shared and all("-m comment" in line for line in shared)
