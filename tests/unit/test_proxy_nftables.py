"""The nftables mode: the ruleset text (pure builders) and the proxier's sync decisions."""
from __future__ import annotations

import asyncio
import dataclasses
import json

import pytest

from minik8s.proxy import iptables
from minik8s.proxy import metrics
from minik8s.proxy import nft as nft_mod
from minik8s.proxy import nftables
from minik8s.proxy import nftables_proxier
from minik8s.proxy import rules
from minik8s.proxy import servicemap

CONFIG = rules.Config(cluster_cidr="10.244.0.0/16")
T = "ip minik8s-proxy"
SEED = servicemap.ServicePortName("default", "vdata-imp-service", "", "TCP")
EP1, EP2 = servicemap.Endpoint("10.244.1.5", 80), servicemap.Endpoint("10.244.2.5", 80)


def svc(name: str = "vdata-imp-service", ip: str = "10.96.0.20", node_port: int = 30001,
        protocol: str = "TCP") -> servicemap.ServicePort:
    return servicemap.ServicePort(servicemap.ServicePortName("default", name, "", protocol), ip, 80, node_port)


def test_chain_names_hash_and_name_the_service_port() -> None:
    assert nftables.service_chain(SEED).startswith("service-")
    assert nftables.service_chain(SEED).endswith("-default/vdata-imp-service/tcp/")
    ep = nftables.endpoint_chain(SEED, EP1)
    assert ep.startswith("endpoint-") and ep.endswith("-default/vdata-imp-service/tcp/__10.244.1.5/80")
    # Stable (a restarted proxy finds its own chains) and distinct per endpoint.
    assert ep == nftables.endpoint_chain(SEED, EP1) != nftables.endpoint_chain(SEED, EP2)
    assert nftables.external_chain(SEED)[len("external-"):] == nftables.service_chain(SEED)[len("service-"):]


def test_the_seeds_nodeport_service_with_two_endpoints_is_map_elements_only() -> None:
    rs = nftables.desired([svc()], {SEED: (EP1, EP2)}, CONFIG)
    assert rs.chains == {} and rs.counters == frozenset() and rs.spreads == {2}
    assert rs.elements[nftables.SERVICE_IPS] == {"10.96.0.20 . tcp . 80": "goto spread-2"}
    assert rs.elements[nftables.SERVICE_NODEPORTS] == {"tcp . 30001": "goto nodeport-spread-2"}
    # Slot i of the Service's endpoints, by cluster IP and port or by nodePort.
    assert rs.elements["cluster-ip-endpoints-tcp"] == {"10.96.0.20 . 80 . 0": "10.244.1.5 . 80",
                                                       "10.96.0.20 . 80 . 1": "10.244.2.5 . 80"}
    assert rs.elements["nodeport-endpoints-tcp"] == {"30001 . 0": "10.244.1.5 . 80", "30001 . 1": "10.244.2.5 . 80"}
    assert rs.elements[nftables.HAIRPIN] == {"10.244.1.5 . 10.244.1.5": "", "10.244.2.5 . 10.244.2.5": ""}
    assert rs.elements[nftables.NO_ENDPOINT_SERVICES] == {} and rs.elements[nftables.NO_ENDPOINT_NODEPORTS] == {}
    # What /metrics reads for each endpoint: its elements' counters.
    [frag] = [nftables.fragment(svc(), (EP1, EP2), CONFIG)]
    assert frag.tallies == (((("cluster-ip-endpoints-tcp", "10.96.0.20 . 80 . 0"), ("nodeport-endpoints-tcp", "30001 . 0")),
                             SEED, EP1),
                            ((("cluster-ip-endpoints-tcp", "10.96.0.20 . 80 . 1"), ("nodeport-endpoints-tcp", "30001 . 1")),
                             SEED, EP2))


def test_only_an_endpoint_that_may_be_on_this_node_gets_a_hairpin_element() -> None:
    # Service traffic is translated on the node it comes from: an endpoint on another node
    # is never its own client here. One whose node is not known may be local.
    local, remote = dataclasses.replace(EP1, node="n1"), dataclasses.replace(EP2, node="n2")
    unknown = servicemap.Endpoint("10.244.3.5", 80)
    rs = nftables.desired([svc()], {SEED: (local, remote, unknown)}, dataclasses.replace(CONFIG, node_name="n1"))
    assert rs.elements[nftables.HAIRPIN] == {"10.244.1.5 . 10.244.1.5": "", "10.244.3.5 . 10.244.3.5": ""}
    assert rs.elements["cluster-ip-endpoints-tcp"]["10.96.0.20 . 80 . 1"] == "10.244.2.5 . 80"
    # A proxy that does not know its node name keeps them all.
    rs = nftables.desired([svc()], {SEED: (local, remote, unknown)}, CONFIG)
    assert len(rs.elements[nftables.HAIRPIN]) == 3


def test_the_shared_spread_chains_mark_and_dnat_to_slot_numgen_mod_n() -> None:
    assert dict(nftables.spread_chains(3, CONFIG)) == {
        "spread-3": (
            "ip saddr != 10.244.0.0/16 jump mark-for-masquerade",
            "meta l4proto tcp dnat ip to ip daddr . th dport . numgen random mod 3 map @cluster-ip-endpoints-tcp",
            "meta l4proto udp dnat ip to ip daddr . th dport . numgen random mod 3 map @cluster-ip-endpoints-udp"),
        "nodeport-spread-3": (
            "jump mark-for-masquerade",
            "meta l4proto tcp dnat ip to th dport . numgen random mod 3 map @nodeport-endpoints-tcp",
            "meta l4proto udp dnat ip to th dport . numgen random mod 3 map @nodeport-endpoints-udp"),
    }
    everything = rules.Config(cluster_cidr="10.244.0.0/16", masquerade_all=True)
    assert nftables.spread_chains(1, everything)[0][1][0] == "jump mark-for-masquerade"
    assert nftables.spread_chains(1, rules.Config(cluster_cidr=""))[0][1][0].startswith("meta l4proto tcp dnat")
    # Any number of endpoints: slots 0..n-1.
    eps = tuple(servicemap.Endpoint(f"10.244.1.{i + 1}", 80) for i in range(40))
    rs = nftables.desired([svc()], {SEED: eps}, CONFIG)
    assert rs.spreads == {40} and sorted(rs.elements["cluster-ip-endpoints-tcp"]) == sorted(
        f"10.96.0.20 . 80 . {i}" for i in range(40))


def test_endpoints_of_an_affinity_service_are_spread_evenly_by_rules_and_by_a_map_beyond_the_rule_limit() -> None:
    """Services with ClientIP affinity keep a chain each (kube-proxy's shape): endpoint i of
    n by `numgen random mod n-i 0` (1/n each, as iptables' statistic probabilities); past
    MAX_RULE_SPREAD one anonymous verdict map."""
    def endpoint(i: int) -> servicemap.Endpoint:
        return servicemap.Endpoint(f"10.244.1.{i + 1}", 80)

    def chain_for(n: int) -> tuple[str, ...]:
        eps = tuple(endpoint(i) for i in range(n))
        sp = servicemap.ServicePort(SEED, "10.96.0.20", 80, 0, affinity_timeout=60)
        return nftables.desired([sp], {SEED: eps}, CONFIG).chains[nftables.service_chain(SEED)][1 + n:]

    e = [nftables.endpoint_chain(SEED, endpoint(i)) for i in range(3)]
    assert chain_for(3) == (f"numgen random mod 3 0 goto {e[0]}", f"numgen random mod 2 0 goto {e[1]}",
                            f"goto {e[2]}")
    # The chance of each: (1/3), (2/3)(1/2), (2/3)(1/2): even.
    limit = nftables.MAX_RULE_SPREAD
    assert len(chain_for(limit)) == limit and "vmap" not in "".join(chain_for(limit))
    [vmap] = chain_for(limit + 1)
    assert vmap.startswith(f"numgen random mod {limit + 1} vmap {{ 0 : goto endpoint-")


def test_a_service_without_endpoints_is_rejected_and_one_endpoint_needs_no_numgen() -> None:
    other = servicemap.ServicePortName("default", "one", "", "UDP")
    rs = nftables.desired([svc(), servicemap.ServicePort(other, "10.96.0.53", 53)],
                          {other: (servicemap.Endpoint("10.244.3.3", 5353),)}, CONFIG)
    assert rs.elements[nftables.NO_ENDPOINT_SERVICES] == {"10.96.0.20 . tcp . 80": "goto reject-chain"}
    assert rs.elements[nftables.NO_ENDPOINT_NODEPORTS] == {"tcp . 30001": "goto reject-chain"}
    assert "10.96.0.20 . tcp . 80" not in rs.elements[nftables.SERVICE_IPS]
    assert rs.elements[nftables.SERVICE_IPS] == {"10.96.0.53 . udp . 53": "goto spread-1"}
    assert rs.elements["cluster-ip-endpoints-udp"] == {"10.96.0.53 . 53 . 0": "10.244.3.3 . 5353"}
    assert rs.chains == {} and rs.spreads == {1}


def test_masquerade_all_and_client_ip_affinity() -> None:
    sp = servicemap.ServicePort(SEED, "10.96.0.20", 80, 0, affinity_timeout=600)
    rs = nftables.desired([sp], {SEED: (EP1,)}, rules.Config(cluster_cidr="10.244.0.0/16", masquerade_all=True))
    e1 = nftables.endpoint_chain(SEED, EP1)
    aff = nftables.affinity_set(SEED, EP1)
    assert rs.chains[nftables.service_chain(SEED)] == (
        "ip daddr 10.96.0.20 tcp dport 80 jump mark-for-masquerade", f"ip saddr @{aff} goto {e1}", f"goto {e1}")
    assert f"update @{aff} {{ ip saddr }}" in rs.chains[e1]
    assert rs.affinity_sets == {aff: 600}
    text = nftables.build_full(rs, CONFIG, recreate=True)
    assert f"add set {T} {aff} {{ type ipv4_addr ; flags dynamic,timeout ; timeout 600s ; }}" in text


def test_the_first_full_sync_replaces_the_table_in_one_transaction() -> None:
    sticky = servicemap.ServicePortName("default", "sticky", "", "TCP")
    rs = nftables.desired([svc(), servicemap.ServicePort(sticky, "10.96.0.30", 80, 0, affinity_timeout=60)],
                          {SEED: (EP1, EP2), sticky: (EP1,)}, CONFIG)
    text = nftables.build_full(rs, CONFIG, recreate=True).splitlines()
    assert text[:3] == [f"add table {T}", f"delete table {T}",
                        f'add table {T} {{ comment "minik8s proxy: Service rules" ; }}']
    assert f"add chain {T} nat-prerouting {{ type nat hook prerouting priority -100 ; policy accept ; }}" in text
    assert f"add chain {T} filter-forward {{ type filter hook forward priority -110 ; policy accept ; }}" in text
    assert f"add map {T} service-ips {{ type ipv4_addr . inet_proto . inet_service : verdict ; }}" in text
    assert f"add rule {T} services ip daddr . meta l4proto . th dport vmap @service-ips" in text
    assert f"add rule {T} services fib daddr type local meta l4proto . th dport vmap @service-nodeports" in text
    assert f"add rule {T} masquerading ct status dnat ip saddr . ip daddr @hairpin jump mark-for-masquerade" in text
    assert f"add rule {T} masquerading meta mark & 0x4000 == 0 return" in text
    assert f"add rule {T} masquerading masquerade fully-random" in text
    assert (f"add map {T} cluster-ip-endpoints-tcp {{ typeof ip daddr . th dport . numgen random mod 2 : "
            "ip daddr . tcp dport ; counter ; }") in text
    assert f"add set {T} hairpin {{ type ipv4_addr . ipv4_addr ; }}" in text
    # The affinity Service's chains: a chain and its counter exist before any rule or map
    # element names them.
    e1 = nftables.endpoint_chain(sticky, EP1)
    counted = next(i for i, line in enumerate(text) if line.startswith(f"add rule {T} {e1} meta l4proto tcp counter"))
    assert text.index(f"add counter {T} {e1}") < counted
    assert text.index(f"add chain {T} {nftables.service_chain(sticky)}") < \
        text.index(next(line for line in text if line.startswith(f"add element {T} service-ips ")))
    # The seed's: the spread chain exists before the element sending it there.
    elements = next(line for line in text if line.startswith(f"add element {T} service-ips "))
    assert "10.96.0.20 . tcp . 80 : goto spread-2" in elements
    assert text.index(f"add chain {T} spread-2") < text.index(elements)
    assert f"flush map {T} service-ips" in text and f"flush set {T} hairpin" in text


def test_nodeport_addresses_restrict_the_local_match() -> None:
    text = nftables.build_full(nftables.desired([], {}, CONFIG), CONFIG, ["172.31.0.0/24", "127.0.0.0/8"],
                               recreate=True)
    assert (f"add rule {T} services ip daddr {{ 172.31.0.0/24, 127.0.0.0/8 }} fib daddr type local "
            "meta l4proto . th dport vmap @service-nodeports") in text


def many(n: int, moved: int | None = None) -> tuple[list[servicemap.ServicePort], dict]:
    ports, eps = [], {}
    for i in range(n):
        sp = servicemap.ServicePort(servicemap.ServicePortName("bench", f"s{i}", "", "TCP"),
                                    f"10.96.{i // 250}.{i % 250 + 1}", 80, 30000 + i if i % 10 == 0 else 0)
        ports.append(sp)
        first = servicemap.Endpoint(f"10.244.{i // 250}.{i % 250 + 1}", 80)
        second = servicemap.Endpoint("10.244.200.1" if i == moved else "10.244.100.1", 80)
        eps[sp.name] = tuple(sorted((first, second), key=servicemap.Endpoint.sort_key))
    return ports, eps


def test_an_endpoint_change_updates_only_that_service() -> None:
    old = nftables.desired(*many(1000), CONFIG)
    new = nftables.desired(*many(1000, moved=500), CONFIG)
    text = nftables.build_update(old, new)
    # s500 (10.96.2.1, nodePort 30500): its second endpoint moved. Elements only, no rule:
    # nft need not read the table's chains first.
    assert text.splitlines() == [
        f"delete element {T} cluster-ip-endpoints-tcp {{ 10.96.2.1 . 80 . 1 }}",
        f"add element {T} cluster-ip-endpoints-tcp {{ 10.96.2.1 . 80 . 1 : 10.244.200.1 . 80 }}",
        f"delete element {T} nodeport-endpoints-tcp {{ 30500 . 1 }}",
        f"add element {T} nodeport-endpoints-tcp {{ 30500 . 1 : 10.244.200.1 . 80 }}",
        f"add element {T} hairpin {{ 10.244.200.1 . 10.244.200.1 }}",
    ]
    assert nftables.build_update(new, new) == ""


def test_a_new_number_of_endpoints_adds_its_spread_chains_once() -> None:
    ports, eps = many(2)
    old = nftables.desired(ports, eps, CONFIG)
    three = dict(eps)
    three[ports[1].name] = eps[ports[1].name] + (servicemap.Endpoint("10.244.9.9", 80),)
    new = nftables.desired(ports, three, CONFIG)
    with pytest.raises(ValueError):
        nftables.build_update(old, new)
    lines = nftables.build_update(old, new, CONFIG, spreads_present={2}).splitlines()
    assert lines.index(f"add chain {T} spread-3") < \
        lines.index(f"add element {T} service-ips {{ 10.96.0.2 . tcp . 80 : goto spread-3 }}")
    assert f"add rule {T} spread-3 ip saddr != 10.244.0.0/16 jump mark-for-masquerade" in lines
    assert f"add chain {T} spread-" + "2" not in "\n".join(lines)
    again = nftables.build_update(old, new, CONFIG, spreads_present={2, 3})
    assert "add chain" not in again


def test_a_deleted_service_leaves_nothing_behind() -> None:
    ports, eps = many(3)
    old = nftables.desired(ports, eps, CONFIG)
    new = nftables.desired(ports[1:], eps, CONFIG)
    text = nftables.build_update(old, new)
    gone = ports[0]
    assert text.splitlines() == [
        f"delete element {T} service-ips {{ {gone.cluster_ip} . tcp . 80 }}",
        f"delete element {T} service-nodeports {{ tcp . {gone.node_port} }}",
        f"delete element {T} cluster-ip-endpoints-tcp {{ {gone.cluster_ip} . 80 . 0, {gone.cluster_ip} . 80 . 1 }}",
        f"delete element {T} nodeport-endpoints-tcp {{ {gone.node_port} . 0, {gone.node_port} . 1 }}",
    ], "hairpin elements are left to the next full sync (another Service may share one)"


def test_a_deleted_affinity_service_leaves_nothing_behind() -> None:
    ports, eps = many(3)
    ports = [dataclasses.replace(p, affinity_timeout=60) for p in ports]
    old = nftables.desired(ports, eps, CONFIG)
    new = nftables.desired(ports[1:], eps, CONFIG)
    text = nftables.build_update(old, new)
    gone = ports[0]
    svc_chain = nftables.service_chain(gone.name)
    assert f"delete element {T} service-ips {{ {gone.cluster_ip} . tcp . 80 }}" in text
    assert f"delete element {T} service-nodeports {{ tcp . {gone.node_port} }}" in text
    lines = text.splitlines()
    # Flushed before deleted: the service chain jumps to its endpoint chains.
    assert lines.index(f"flush chain {T} {svc_chain}") < lines.index(f"delete chain {T} {svc_chain}")
    deletes = [line for line in lines if line.startswith(f"delete chain {T} ")]
    flushes = [line for line in lines if line.startswith(f"flush chain {T} ")]
    assert max(lines.index(f) for f in flushes) < min(lines.index(d) for d in deletes)
    assert lines.index(f"delete element {T} service-ips {{ {gone.cluster_ip} . tcp . 80 }}") < \
        lines.index(f"delete chain {T} {svc_chain}"), "map elements pointing at a chain go first"
    assert all(nftables.service_chain(p.name) not in text for p in ports[1:])
    counters = [nftables.endpoint_chain(gone.name, ep) for ep in eps[gone.name]]
    assert all(f"delete counter {T} {c}" in lines for c in counters)


def test_endpoints_keep_their_slots() -> None:
    a, b, c, d = (servicemap.Endpoint(f"10.244.1.{i}", 80) for i in range(1, 5))
    assert nftables_proxier.stable_slots((a, b, c), (a, c, d)) == (a, d, c), "d takes b's slot"
    assert nftables_proxier.stable_slots((a, b, c), (b, c)) == (c, b), "the last fills the hole"
    assert nftables_proxier.stable_slots((a, b), (a, b, c, d)) == (a, b, c, d)
    assert nftables_proxier.stable_slots((a, b, c), (a,)) == (a,)
    assert nftables_proxier.stable_slots((), (b, a)) == (b, a)


def test_a_service_losing_its_endpoints_moves_to_the_reject_map() -> None:
    ports, eps = many(1)
    old = nftables.desired(ports, eps, CONFIG)
    new = nftables.desired(ports, {}, CONFIG)
    text = nftables.build_update(old, new)
    assert f"delete element {T} service-ips {{ 10.96.0.1 . tcp . 80 }}" in text
    assert f"add element {T} no-endpoint-services {{ 10.96.0.1 . tcp . 80 : goto reject-chain }}" in text
    assert f"add element {T} no-endpoint-nodeports {{ tcp . 30000 : goto reject-chain }}" in text


class FakeConntrack:
    def __init__(self) -> None:
        self.calls: list[dict] = []

    async def clear_udp(self, **kw: object) -> None:
        self.calls.append(kw)


class FakeIptables:
    def __init__(self) -> None:
        self.restored: list[str] = []

    async def restore(self, text: str) -> None:
        self.restored.append(text)

    async def save(self, table: str) -> str:
        if table == "nat":
            return "*nat\n:KUBE-SERVICES - [0:0]\n:KUBE-SVC-ABC - [0:0]\n:PREROUTING ACCEPT [0:0]\n" \
                   "-A PREROUTING -m comment --comment x -j KUBE-SERVICES\nCOMMIT\n"
        return "*filter\nCOMMIT\n"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make_proxier(clock: Clock | None = None) -> tuple[nftables_proxier.NftablesProxier, nft_mod.Fake, FakeConntrack,
                                                     FakeIptables]:
    nft, ct, ipt = nft_mod.Fake(), FakeConntrack(), FakeIptables()
    p = nftables_proxier.NftablesProxier(ipt, nft, ct, CONFIG, clock=clock or Clock())  # type: ignore[arg-type]
    return p, nft, ct, ipt


def full_sync_due(p: nftables_proxier.NftablesProxier) -> None:
    clock = p.clock
    assert isinstance(clock, Clock)
    clock.now += nftables_proxier.FULL_SYNC_PERIOD


def service(name: str, ip: str, proto: str = "TCP", node_port: int = 0) -> dict:
    spec = {"clusterIP": ip, "type": "NodePort" if node_port else "ClusterIP",
            "ports": [{"port": 80, "protocol": proto, **({"nodePort": node_port} if node_port else {})}]}
    return {"metadata": {"namespace": "default", "name": name}, "spec": spec}


def endpoints(name: str, *ips: str, proto: str = "TCP") -> dict:
    return {"metadata": {"namespace": "default", "name": name},
            "subsets": [{"addresses": [{"ip": ip} for ip in ips], "ports": [{"port": 80, "protocol": proto}]}]}


async def test_proxier_first_sync_recreates_then_updates_then_periodic_full() -> None:
    p, nft, _ct, _ipt = make_proxier()
    p.on_service(service("a", "10.96.0.1", node_port=30001))
    p.on_endpoints(endpoints("a", "10.244.1.1"))
    p.on_service(service("b", "10.96.0.2"))
    p.on_endpoints(endpoints("b", "10.244.1.2"))
    await p.sync_proxy_rules()
    assert nft.applied[0].startswith(f"add table {T}\ndelete table {T}\n")
    await p.sync_proxy_rules()
    assert len(nft.applied) == 1, "nothing changed, nothing written"

    p.on_endpoints(endpoints("a", "10.244.1.1", "10.244.2.1"))
    await p.sync_proxy_rules()
    update = nft.applied[-1]
    assert p.partial_syncs == 1 and "delete table" not in update
    assert "10.96.0.2 " not in update, "the other Service is not touched"
    assert f"add chain {T} spread-2" in update, "the first Service with 2 endpoints"
    p.on_endpoints(endpoints("b", "10.244.1.2", "10.244.2.2"))
    await p.sync_proxy_rules()
    assert "add chain" not in nft.applied[-1], "spread-2 is there already"

    full_sync_due(p)
    await p.sync_proxy_rules(periodic=True)
    full = nft.applied[-1]
    assert "delete table" not in full and f"flush map {T} service-ips" in full and "10.96.0.2 " in full
    assert f"delete chain {T} spread-1" in full and f"delete chain {T} nodeport-spread-1" in full, \
        "no Service has one endpoint now"


async def test_periodic_syncs_rewrite_everything_only_once_per_full_sync_period() -> None:
    """kube-proxy's FullSyncPeriod: a full rewrite costs nft ~0.4 s of CPU per 1,000 Services,
    so the periodic syncs in between only check that the table is still there."""
    p, nft, _ct, _ipt = make_proxier()
    p.on_service(service("a", "10.96.0.1"))
    p.on_endpoints(endpoints("a", "10.244.1.1"))
    await p.sync_proxy_rules()
    assert len(nft.applied) == 1
    await p.sync_proxy_rules(periodic=True)
    assert len(nft.applied) == 1 and nft.table_checks == 1, "not due: the table checked, nothing written"

    nft.table = False  # someone ran `nft flush ruleset`
    await p.sync_proxy_rules(periodic=True)
    assert len(nft.applied) == 2 and nft.applied[-1].startswith(f"add table {T}\ndelete table {T}\n"), \
        "a vanished table is rebuilt from scratch at the next tick"

    full_sync_due(p)
    await p.sync_proxy_rules(periodic=True)
    assert len(nft.applied) == 3 and f"flush map {T} service-ips" in nft.applied[-1], "due: rewritten in full"
    checks = nft.table_checks
    await p.sync_proxy_rules(periodic=True)
    assert len(nft.applied) == 3 and nft.table_checks == checks + 1, "the period starts again from that full sync"


async def test_a_failed_transaction_makes_the_next_sync_rebuild_the_table() -> None:
    p, nft, _ct, _ipt = make_proxier()
    p.on_service(service("a", "10.96.0.1"))
    p.on_endpoints(endpoints("a", "10.244.1.1"))
    await p.sync_proxy_rules()
    p.on_endpoints(endpoints("a", "10.244.1.9"))
    nft.fail_next = nft_mod.NftError("boom")
    with pytest.raises(nft_mod.NftError):
        await p.sync_proxy_rules()
    await p.sync_proxy_rules()
    assert nft.applied[-1].startswith(f"add table {T}\ndelete table {T}\n")


async def test_udp_flows_of_a_removed_endpoint_are_forgotten() -> None:
    p, _nft, ct, _ipt = make_proxier()
    p.on_service(service("dns", "10.96.0.10", proto="UDP"))
    p.on_endpoints(endpoints("dns", "10.244.1.1", "10.244.2.2", proto="UDP"))
    await p.sync_proxy_rules()
    ct.calls.clear()
    p.on_endpoints(endpoints("dns", "10.244.2.2", proto="UDP"))
    await p.sync_proxy_rules()
    assert ct.calls == [{"orig_dst": "10.96.0.10", "dst_nat": "10.244.1.1"}]


async def test_start_removes_the_iptables_modes_leftovers() -> None:
    p, _nft, _ct, ipt = make_proxier()
    await p.start()
    assert ipt.restored and "-X KUBE-SVC-ABC" in ipt.restored[0] and "-X KUBE-SERVICES" in ipt.restored[0]


async def test_other_modes_remove_the_nftables_table_when_they_start() -> None:
    from minik8s.proxy import iptables_proxier
    nft, ipt = nft_mod.Fake(), FakeIptables()
    p = iptables_proxier.IptablesProxier(ipt, FakeConntrack(), CONFIG)  # type: ignore[arg-type]
    p.nft = nft
    await p.start()
    assert nft.applied == [nftables.build_cleanup()]


async def test_metrics_show_connections_per_endpoint() -> None:
    from minik8s.proxy import counters
    from minik8s.proxy import server
    p, nft, _ct, _ipt = make_proxier()
    p.on_service(service("a", "10.96.0.1"))
    p.on_endpoints(endpoints("a", "10.244.1.1", "10.244.2.1"))
    await p.sync_proxy_rules()
    spn = servicemap.ServicePortName("default", "a", "", "TCP")
    e1, e2 = servicemap.Endpoint("10.244.1.1", 80), servicemap.Endpoint("10.244.2.1", 80)
    nft.counter_values = {("cluster-ip-endpoints-tcp", "10.96.0.1 . 80 . 0"): (17, 1020)}
    tally = server.endpoint_counters(p)
    assert isinstance(tally, counters.NftablesCounters)
    assert await tally.snapshot() == {(spn, e1): 17, (spn, e2): 0}
    text = metrics.render(await tally.snapshot(), p).decode()
    assert ('minik8s_proxy_endpoint_connections_total{endpoint="10.244.1.1:80",namespace="default",port="",'
            'protocol="TCP",service="a"} 17.0') in text
    assert 'minik8s_proxy_sync_proxy_rules_total{mode="nftables"} 1.0' in text
    # The table rebuilt (counters recreated at zero): what was counted is kept, never goes down.
    nft.counter_values = {("cluster-ip-endpoints-tcp", "10.96.0.1 . 80 . 0"): (2, 120)}
    assert (await tally.snapshot())[(spn, e1)] == 19
    # An endpoint gone is forgotten; e2 moves to slot 0, whose element is new (counting from 0).
    p.on_endpoints(endpoints("a", "10.244.2.1"))
    await p.sync_proxy_rules()
    nft.counter_values = {}
    assert await tally.snapshot() == {(spn, e2): 0}
    # A Service with ClientIP affinity counts by the named counter of its endpoint chain;
    # a nodePort's connections add to the cluster IP's.
    p.on_service({"metadata": {"namespace": "default", "name": "s"}, "spec": {
        "clusterIP": "10.96.0.9", "type": "NodePort", "sessionAffinity": "ClientIP",
        "ports": [{"port": 80, "protocol": "TCP", "nodePort": 30009}]}})
    p.on_endpoints(endpoints("s", "10.244.1.1"))
    p.on_service(service("n", "10.96.0.8", node_port=30008))
    p.on_endpoints(endpoints("n", "10.244.1.1"))
    await p.sync_proxy_rules()
    sticky, n = (servicemap.ServicePortName("default", x, "", "TCP") for x in ("s", "n"))
    nft.counter_values = {nftables.endpoint_chain(sticky, e1): (5, 300),
                          ("cluster-ip-endpoints-tcp", "10.96.0.8 . 80 . 0"): (3, 180),
                          ("nodeport-endpoints-tcp", "30008 . 0"): (4, 240)}
    snapshot = await tally.snapshot()
    assert snapshot[(sticky, e1)] == 5 and snapshot[(n, e1)] == 7


def test_the_server_selects_the_nftables_mode() -> None:
    from minik8s.proxy import server
    p = server.make_proxier(server.Config(mode="nftables"), FakeIptables(), FakeConntrack(),  # type: ignore[arg-type]
                            nft_mod.Fake())
    assert isinstance(p, nftables_proxier.NftablesProxier)
    with pytest.raises(ValueError, match="nft"):
        server.make_proxier(server.Config(mode="nftables"), FakeIptables(), FakeConntrack())  # type: ignore[arg-type]
    assert asyncio.iscoroutinefunction(iptables.Real.restore)


async def test_an_incremental_sync_looks_only_at_changed_objects() -> None:
    p, nft, ct, _ipt = make_proxier()
    for i in range(50):
        p.on_service(service(f"s{i}", f"10.96.1.{i + 1}", proto="UDP" if i == 7 else "TCP"))
        p.on_endpoints(endpoints(f"s{i}", f"10.244.1.{i + 1}", proto="UDP" if i == 7 else "TCP"))
    await p.sync_proxy_rules()
    ct.calls.clear()
    p.on_service_delete(service("s3", "10.96.1.4"))
    p.on_endpoints(endpoints("s7", "10.244.2.8", proto="UDP"))
    await p.sync_proxy_rules()
    update = nft.applied[-1]
    assert f"delete element {T} service-ips {{ 10.96.1.4 . tcp . 80 }}" in update
    assert f"add element {T} cluster-ip-endpoints-udp {{ 10.96.1.8 . 80 . 0 : 10.244.2.8 . 80 }}" in update
    assert "chain" not in update, "elements only"
    keys = {word for line in update.splitlines() for word in line.split() if word.startswith("10.96.")}
    assert keys == {"10.96.1.4", "10.96.1.8"}, "only s3's and s7's elements"
    # UDP flows of s7's old endpoint only; the other Services' state is kept.
    assert ct.calls == [{"orig_dst": "10.96.1.8", "dst_nat": "10.244.1.8"}]
    # A full periodic sync afterwards agrees with what the increments built: nothing stale to delete.
    full_sync_due(p)
    await p.sync_proxy_rules(periodic=True)
    assert "delete chain" not in nft.applied[-1] and "/s3/" not in nft.applied[-1]


def test_the_full_sync_from_fragments_is_the_full_sync() -> None:
    """The proxier's fast path (pre-rendered fragments) writes what build_full writes."""
    old_ports, old_eps = many(30)
    new_ports, new_eps = many(30, moved=4)
    new_ports = new_ports[2:]
    frag = lambda ports, eps: {sp.name: nftables.fragment(sp, tuple(eps.get(sp.name, ())), CONFIG)  # noqa: E731
                               for sp in ports}
    old_f, new_f = frag(old_ports, old_eps), frag(new_ports, new_eps)
    for old_r, old_frags, recreate in ((None, None, True), (nftables.ruleset(old_f.values()), old_f, False)):
        slow = nftables.build_full(nftables.ruleset(new_f[n] for n in sorted(new_f)), CONFIG, (), old_r,
                                   recreate=recreate)
        fast = nftables.build_full_fragments(new_f, CONFIG, (), old_frags, recreate=recreate)
        assert sorted(slow.splitlines()) == sorted(fast.splitlines())


def test_counters_are_read_from_named_counters_and_map_elements() -> None:
    out = json.dumps({"nftables": [
        {"metainfo": {"version": "1.0.6"}},
        {"counter": {"family": "ip", "name": "endpoint-X", "table": "minik8s-proxy", "packets": 5, "bytes": 300}},
        {"map": {"family": "ip", "name": "cluster-ip-endpoints-tcp", "table": "minik8s-proxy", "elem": [
            [{"elem": {"val": {"concat": ["10.96.0.1", 80, 0]}, "counter": {"packets": 3, "bytes": 180}}},
             {"concat": ["10.244.1.1", 8080]}]]}},
        {"map": {"family": "ip", "name": "nodeport-endpoints-udp", "table": "minik8s-proxy", "elem": [
            [{"elem": {"val": {"concat": [30053, 1]}, "counter": {"packets": 4, "bytes": 240}}},
             {"concat": ["10.244.1.2", 53]}]]}},
        {"map": {"family": "ip", "name": "service-ips", "table": "minik8s-proxy", "elem": []}},
    ]})
    assert nft_mod.parse_counters(out) == {"endpoint-X": (5, 300),
                                           ("cluster-ip-endpoints-tcp", "10.96.0.1 . 80 . 0"): (3, 180),
                                           ("nodeport-endpoints-udp", "30053 . 1"): (4, 240)}
