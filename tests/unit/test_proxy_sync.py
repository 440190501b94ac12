"""The iptables proxier with a recording fake: batching, what a sync applies, UDP conntrack, recovery."""
from __future__ import annotations

import asyncio
from typing import Any, Sequence

import pytest

from minik8s.proxy import iptables
from minik8s.proxy import iptables_proxier
from minik8s.proxy import proxier as proxier_mod
from minik8s.proxy import rules
from minik8s.proxy import runner
from minik8s.proxy import servicemap as sm


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def svc(name: str, port: int = 80, *, protocol: str = "TCP", cluster_ip: str = "10.96.0.5", node_port: int = 0,
        rv: str = "1") -> dict[str, Any]:
    p: dict[str, Any] = {"name": "p", "port": port, "protocol": protocol}
    if node_port:
        p["nodePort"] = node_port
    return {"metadata": {"namespace": "default", "name": name, "resourceVersion": rv},
            "spec": {"type": "NodePort" if node_port else "ClusterIP", "clusterIP": cluster_ip, "ports": [p]}}


def eps(name: str, *ips: str, port: int = 8080, protocol: str = "TCP", not_ready: tuple[str, ...] = ()
        ) -> dict[str, Any]:
    subset: dict[str, Any] = {"addresses": [{"ip": ip} for ip in ips],
                              "ports": [{"name": "p", "port": port, "protocol": protocol}]}
    if not_ready:
        subset["notReadyAddresses"] = [{"ip": ip} for ip in not_ready]
    return {"metadata": {"namespace": "default", "name": name}, "subsets": [subset]}


# -- the runner ----------------------------------------------------------------------------------

async def test_runner_batches_requests_within_the_min_interval() -> None:
    clock = FakeClock()
    calls: list[bool] = []

    async def sync(periodic: bool) -> None:
        calls.append(periodic)

    r = runner.BoundedFrequencyRunner("t", sync, min_interval=1.0, max_interval=30.0, clock=clock)
    r.run()
    assert r.due_in(clock()) <= 0  # the first request after a quiet period runs at once
    await r.run_once()
    for _ in range(100):
        r.run()
    assert r.due_in(clock()) == pytest.approx(1.0)
    clock.now += 0.4
    assert r.due_in(clock()) == pytest.approx(0.6)
    clock.now += 0.6
    assert r.due_in(clock()) <= 0
    await r.run_once()
    assert len(calls) == 2  # 101 requests, two syncs
    # Nothing asked: the next sync is the periodic one, max_interval after the last.
    assert r.due_in(clock()) == pytest.approx(30.0)
    clock.now += 30.0
    await r.run_once()
    assert calls == [True, False, True]  # the very first counts as periodic (never synced before)


async def test_runner_retries_a_failed_sync_with_backoff() -> None:
    clock = FakeClock()
    outcomes = [RuntimeError("boom"), RuntimeError("boom"), None]

    async def sync(_periodic: bool) -> None:
        outcome = outcomes.pop(0)
        if outcome:
            raise outcome

    r = runner.BoundedFrequencyRunner("t", sync, min_interval=0.1, max_interval=30.0, retry_interval=1.0,
                                      clock=clock)
    r.run()
    assert not await r.run_once()
    assert r.due_in(clock()) == pytest.approx(1.0)
    clock.now += 1.0
    assert not await r.run_once()
    assert r.due_in(clock()) == pytest.approx(2.0)
    clock.now += 2.0
    assert await r.run_once()
    assert r.due_in(clock()) == pytest.approx(30.0)
    assert r.failures == 2


async def test_runner_loop_coalesces_bursts() -> None:
    calls: list[bool] = []
    synced = asyncio.Event()

    async def sync(periodic: bool) -> None:
        calls.append(periodic)
        synced.set()

    r = runner.BoundedFrequencyRunner("t", sync, min_interval=0.05, max_interval=60.0)
    task = asyncio.get_running_loop().create_task(r.loop())
    try:
        for burst in (1, 2):
            synced.clear()
            for _ in range(500):
                r.run()
            await asyncio.wait_for(synced.wait(), 10)
            assert len(calls) == burst
        # Nothing is pending after the second: 1,000 requests cost two syncs.
        assert r.due_in(r.clock()) > r.min_interval
    finally:
        task.cancel()


def test_runner_rejects_inverted_intervals() -> None:
    with pytest.raises(ValueError):
        runner.BoundedFrequencyRunner("t", lambda _p: asyncio.sleep(0), min_interval=5, max_interval=1)


# -- the state ------------------------------------------------------------------------------------

def test_state_reports_only_real_changes() -> None:
    state = sm.State()
    assert state.set_service(svc("web"))
    assert not state.set_service(svc("web", rv="2"))  # a status-only update changes nothing
    assert state.set_service(svc("web", port=81))
    assert state.set_endpoints(eps("web", "10.244.1.5"))
    assert not state.set_endpoints(eps("web", "10.244.1.5", not_ready=("10.244.1.6",)))
    assert state.set_endpoints(eps("web", "10.244.1.6", "10.244.1.5"))
    assert state.endpoints()[sm.ServicePortName("default", "web", "p", "TCP")] == (
        sm.Endpoint("10.244.1.5", 8080), sm.Endpoint("10.244.1.6", 8080))
    # The address's nodeName (the endpoints controller sets it) is part of the endpoint:
    # whether it needs a hairpin rule depends on it.
    moved = eps("web", "10.244.1.6", "10.244.1.5")
    moved["subsets"][0]["addresses"][0]["nodeName"] = "n1"
    assert state.set_endpoints(moved)
    assert state.endpoints()[sm.ServicePortName("default", "web", "p", "TCP")] == (
        sm.Endpoint("10.244.1.5", 8080), sm.Endpoint("10.244.1.6", 8080, "n1"))
    assert state.delete_service(svc("web"))
    assert not state.delete_service(svc("web"))
    assert state.ports() == []


# -- the iptables proxier --------------------------------------------------------------------------

def make(clock: FakeClock | None = None) -> tuple[iptables_proxier.IptablesProxier, iptables.Fake,
                                                   iptables.FakeConntrack]:
    ipt, ct = iptables.Fake(), iptables.FakeConntrack()
    p = iptables_proxier.IptablesProxier(ipt, ct, rules.Config(), min_sync_period=1.0, sync_period=30.0,
                                         clock=clock or FakeClock())
    return p, ipt, ct


async def test_events_only_mark_dirty_and_one_sync_applies_everything() -> None:
    clock = FakeClock()
    p, ipt, _ = make(clock)
    for i in range(50):
        p.on_service(svc(f"s{i}", cluster_ip=f"10.96.1.{i + 1}"))
        p.on_endpoints(eps(f"s{i}", f"10.244.1.{i + 1}"))
    assert ipt.restores == []  # handlers never touch iptables
    await p.runner.run_once()
    assert len(ipt.restores) == 1
    text = ipt.restores[0]
    assert text == rules.build_rules(p.state.ports(), p.state.endpoints(), (), rules.Config())
    assert text.count("-j DNAT") == 50
    # The first sync is full: it also ensures the jumps from the built-in chains.
    assert ipt.jumps == set(rules.IPTABLES_JUMPS)


async def test_unchanged_ruleset_is_not_reapplied_except_periodically() -> None:
    clock = FakeClock()
    p, ipt, _ = make(clock)
    p.on_service(svc("web"))
    p.on_endpoints(eps("web", "10.244.1.5"))
    await p.runner.run_once()
    ipt.jumps.clear()  # someone flushed our jumps
    p.on_endpoints(eps("web", "10.244.1.5", not_ready=("10.244.1.9",)))  # no change for the proxy
    p.runner.run()
    clock.now += 1
    await p.runner.run_once()
    assert len(ipt.restores) == 1
    clock.now += 30
    await p.runner.run_once()  # periodic: re-applied, jumps repaired
    assert len(ipt.restores) == 2
    assert ipt.jumps == set(rules.IPTABLES_JUMPS)


async def test_a_full_sync_checks_the_jumps_in_its_restore_while_they_are_in_place() -> None:
    clock = FakeClock()
    p, ipt, _ = make(clock)
    p.on_service(svc("web"))
    p.on_endpoints(eps("web", "10.244.1.5"))
    await p.runner.run_once()  # the first: checked and added one by one
    plain = rules.build_rules(p.state.ports(), p.state.endpoints(), (), rules.Config(), p._chains or ())
    checked_calls: list[object] = []
    real_missing = ipt.missing_jumps

    async def missing(jumps: Sequence[rules.Jump]) -> list[rules.Jump]:
        checked_calls.append(jumps)
        return await real_missing(jumps)
    ipt.missing_jumps = missing  # type: ignore[method-assign]

    clock.now += 30
    await p.runner.run_once()  # periodic: one restore that also checks every jump
    assert ipt.restores[-1] == rules.with_jump_checks(plain, rules.IPTABLES_JUMPS) != plain
    assert '-C PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES' in ipt.restores[-1]
    assert checked_calls == []

    # Someone deletes a jump: that restore fails as a whole; the plain one and the checks follow.
    gone = rules.IPTABLES_JUMPS[6]
    ipt.jumps.discard(gone)
    clock.now += 30
    await p.runner.run_once()
    assert ipt.restores[-1] == plain and checked_calls == [rules.IPTABLES_JUMPS]
    assert ipt.jumps == set(rules.IPTABLES_JUMPS)
    clock.now += 30
    await p.runner.run_once()  # in place again: checked in the restore
    assert ipt.restores[-1] != plain and len(checked_calls) == 1


def test_jump_checks_go_to_the_top_of_their_tables_block() -> None:
    text = "*filter\n:KUBE-FORWARD - [0:0]\nCOMMIT\n"
    jumps = [rules.Jump("filter", "FORWARD", ("-j", "KUBE-FORWARD")),
             rules.Jump("nat", "OUTPUT", ("-m", "comment", "--comment", "a b", "-j", "KUBE-SERVICES"))]
    assert rules.with_jump_checks(text, jumps) == (
        '*filter\n-C FORWARD -j KUBE-FORWARD\n:KUBE-FORWARD - [0:0]\nCOMMIT\n'
        '*nat\n-C OUTPUT -m comment --comment "a b" -j KUBE-SERVICES\nCOMMIT\n')


async def test_deleted_service_chains_are_removed_and_then_forgotten() -> None:
    clock = FakeClock()
    p, ipt, _ = make(clock)
    p.on_service(svc("web"))
    p.on_endpoints(eps("web", "10.244.1.5"))
    await p.runner.run_once()
    chain = rules.service_chain(sm.ServicePortName("default", "web", "p", "TCP"))
    p.on_service_delete(svc("web"))
    p.on_endpoints_delete(eps("web"))
    clock.now += 1
    await p.runner.run_once()
    assert f"-X {chain}\n" in ipt.restores[-1]
    p.on_service(svc("other", cluster_ip="10.96.0.9"))
    clock.now += 1
    await p.runner.run_once()
    assert "-X" not in ipt.restores[-1]


async def test_chains_left_by_a_previous_run_are_removed() -> None:
    p, ipt, _ = make()
    ipt.saved["nat"] = "*nat\n:PREROUTING ACCEPT [0:0]\n:KUBE-SVC-AAAAAAAAAAAAAAAA - [0:0]\n" \
                       ":KUBE-SEP-BBBBBBBBBBBBBBBB - [0:0]\n:DOCKER - [0:0]\nCOMMIT\n"
    await p.runner.run_once()
    assert ipt.restores[0].endswith("-X KUBE-SEP-BBBBBBBBBBBBBBBB\n-X KUBE-SVC-AAAAAAAAAAAAAAAA\nCOMMIT\n")


async def test_failed_restore_is_retried_in_full() -> None:
    clock = FakeClock()
    p, ipt, _ = make(clock)
    p.on_service(svc("web"))
    await p.runner.run_once()
    ipt.jumps.clear()
    ipt.fail_restores = 1
    p.on_endpoints(eps("web", "10.244.1.5"))
    clock.now += 1
    assert not await p.runner.run_once()
    clock.now += 1
    assert await p.runner.run_once()
    assert ipt.jumps == set(rules.IPTABLES_JUMPS)
    assert "-j DNAT --to-destination 10.244.1.5:8080" in ipt.restores[-1]


async def test_udp_conntrack_entries_are_cleared_when_endpoints_appear_and_go() -> None:
    clock = FakeClock()
    p, _ipt, ct = make(clock)
    p.on_service(svc("dns", 53, protocol="UDP", cluster_ip="10.96.0.10", node_port=30053))
    await p.runner.run_once()
    assert ct.cleared == []
    p.on_endpoints(eps("dns", "10.244.0.2", "10.244.0.3", port=53, protocol="UDP"))
    clock.now += 1
    await p.runner.run_once()
    assert ct.cleared == [{"orig_dst": "10.96.0.10"}, {"orig_port_dst": 30053}]
    ct.cleared.clear()
    p.on_endpoints(eps("dns", "10.244.0.3", port=53, protocol="UDP"))
    clock.now += 1
    await p.runner.run_once()
    assert ct.cleared == [{"orig_dst": "10.96.0.10", "dst_nat": "10.244.0.2"},
                          {"orig_port_dst": 30053, "dst_nat": "10.244.0.2"}]
    ct.cleared.clear()
    p.on_service_delete(svc("dns"))
    clock.now += 1
    await p.runner.run_once()
    assert ct.cleared == [{"orig_dst": "10.96.0.10", "dst_nat": "10.244.0.3"},
                          {"orig_port_dst": 30053, "dst_nat": "10.244.0.3"}]
    # TCP needs none of this: a new connection is NATed afresh.
    ct.cleared.clear()
    p.on_service(svc("web"))
    p.on_endpoints(eps("web", "10.244.1.5"))
    clock.now += 1
    await p.runner.run_once()
    assert ct.cleared == []


async def test_start_removes_the_other_modes_leftovers() -> None:
    p, ipt, _ = make()
    ipt.saved["nat"] = ("*nat\n:OUTPUT ACCEPT [0:0]\n:KUBE-PORTALS-HOST - [0:0]\n"
                        "-A OUTPUT -m comment --comment x -j KUBE-PORTALS-HOST\nCOMMIT\n")
    await p.start()
    assert ipt.restores == ["*nat\n:KUBE-PORTALS-HOST - [0:0]\n-D OUTPUT -m comment --comment x "
                            "-j KUBE-PORTALS-HOST\n-X KUBE-PORTALS-HOST\nCOMMIT\n"]


async def test_cleanup_removes_both_modes() -> None:
    ipt = iptables.Fake()
    ipt.saved["nat"] = ("*nat\n:OUTPUT ACCEPT [0:0]\n:KUBE-PORTALS-HOST - [0:0]\n:KUBE-SERVICES - [0:0]\n"
                        "-A OUTPUT -j KUBE-SERVICES\nCOMMIT\n")
    ipt.saved["filter"] = "*filter\n:FORWARD DROP [0:0]\n:KUBE-FORWARD - [0:0]\n-A FORWARD -j KUBE-FORWARD\nCOMMIT\n"
    assert await proxier_mod.cleanup(ipt)
    assert ipt.restores == [
        "*filter\n:KUBE-FORWARD - [0:0]\n-D FORWARD -j KUBE-FORWARD\n-X KUBE-FORWARD\nCOMMIT\n"
        "*nat\n:KUBE-PORTALS-HOST - [0:0]\n:KUBE-SERVICES - [0:0]\n-D OUTPUT -j KUBE-SERVICES\n"
        "-X KUBE-PORTALS-HOST\n-X KUBE-SERVICES\nCOMMIT\n"]
    assert not await proxier_mod.cleanup(iptables.Fake())


async def test_between_periodic_syncs_only_changed_services_are_rewritten() -> None:
    clock = FakeClock()
    p, ipt, _ = make(clock)
    p.on_service(svc("a", cluster_ip="10.96.0.7"))
    p.on_service(svc("b", cluster_ip="10.96.0.8"))
    p.on_endpoints(eps("a", "10.244.1.5"))
    p.on_endpoints(eps("b", "10.244.1.6"))
    await p.runner.run_once()
    a = sm.ServicePortName("default", "a", "p", "TCP")
    b = sm.ServicePortName("default", "b", "p", "TCP")
    chain_a, chain_b = rules.service_chain(a), rules.service_chain(b)
    old_sep_b = rules.endpoint_chain(b, sm.Endpoint("10.244.1.6", 8080))
    assert f":{chain_a} - [0:0]" in ipt.restores[0] and f":{chain_b} - [0:0]" in ipt.restores[0]

    p.on_endpoints(eps("b", "10.244.1.9"))
    clock.now += 1
    await p.runner.run_once()
    text = ipt.restores[-1]
    assert text == rules.build_rules(p.state.ports(), p.state.endpoints(), (), rules.Config(),
                                     {chain_a, chain_b, old_sep_b, rules.endpoint_chain(a, sm.Endpoint("10.244.1.5",
                                                                                                       8080))},
                                     unchanged={a}, shared=False)
    # a's chains are kept as they are (not declared, so not flushed); b's endpoint moved, so
    # only b's chains change: the shared chains, which jump to both, are left as they are.
    assert f":{chain_a} " not in text and f"-A {chain_a} " not in text
    assert "*filter" not in text and ":KUBE-SERVICES" not in text and "-A KUBE-SERVICES" not in text
    assert f":{chain_b} - [0:0]" in text and f"-X {old_sep_b}\n" in text
    assert p.partial_syncs == 1

    # b loses its last endpoint: KUBE-SERVICES loses its jump to b (REJECT in filter instead).
    p.on_endpoints(eps("b"))
    clock.now += 1
    await p.runner.run_once()
    text = ipt.restores[-1]
    assert text.startswith("*filter") and f"-j {chain_a}\n" in text and f"-j {chain_b}\n" not in text
    assert "-j REJECT" in text and f"-X {chain_b}\n" in text and f":{chain_a} " not in text
    assert p.partial_syncs == 2

    clock.now += 30
    await p.runner.run_once()  # periodic: everything again
    assert f":{chain_a} - [0:0]" in ipt.restores[-1]
    assert p.partial_syncs == 2
