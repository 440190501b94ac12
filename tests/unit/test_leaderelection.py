"""Leader election (client-go's rules) and its fencing, on a fake clock and an in-memory Lease store."""
from __future__ import annotations

import asyncio
import copy
import random
import re
import socket
from typing import Any

import pytest

from minik8s.api import errors
from minik8s.client import leaderelection as le
from minik8s.client import rest

T = le.Timing()  # Kubernetes' defaults: 15 s / 10 s / 2 s


class Leases:
    """One Lease table with resourceVersion compare-and-swap, as the API server's."""

    def __init__(self) -> None:
        self.objs: dict[tuple[str, str], dict[str, Any]] = {}
        self.rv = 0
        self.writes: list[tuple[str, str]] = []  # (holder written, verb)

    def view(self) -> "View":
        return View(self)


class View:
    """One candidate's connection to the table; `down` makes every call fail (a partition)."""

    def __init__(self, table: Leases) -> None:
        self.table = table
        self.down = False

    def _check(self) -> None:
        if self.down:
            raise errors.ServiceUnavailable("cannot reach the API server")

    async def get(self, namespace: str, name: str) -> dict[str, Any] | None:
        self._check()
        obj = self.table.objs.get((namespace, name))
        return copy.deepcopy(obj)

    async def create(self, lease: dict[str, Any]) -> dict[str, Any]:
        self._check()
        key = (lease["metadata"]["namespace"], lease["metadata"]["name"])
        if key in self.table.objs:
            raise errors.AlreadyExists("leases", key[1])
        self.table.rv += 1
        obj = copy.deepcopy(lease)
        obj["metadata"]["resourceVersion"] = str(self.table.rv)
        self.table.objs[key] = obj
        self.table.writes.append((obj["spec"]["holderIdentity"], "create"))
        return copy.deepcopy(obj)

    async def update(self, lease: dict[str, Any]) -> dict[str, Any]:
        self._check()
        key = (lease["metadata"]["namespace"], lease["metadata"]["name"])
        cur = self.table.objs.get(key)
        if cur is None:
            raise errors.NotFound("leases", key[1])
        if cur["metadata"]["resourceVersion"] != lease["metadata"].get("resourceVersion"):
            raise errors.Conflict("leases", key[1])
        self.table.rv += 1
        obj = copy.deepcopy(lease)
        obj["metadata"]["resourceVersion"] = str(self.table.rv)
        self.table.objs[key] = obj
        self.table.writes.append((obj["spec"]["holderIdentity"], "update"))
        return copy.deepcopy(obj)


async def settle() -> None:
    for _ in range(30):
        await asyncio.sleep(0)


async def run_for(clock: le.FakeClock, seconds: float, step: float = 0.1) -> None:
    for _ in range(int(round(seconds / step))):
        clock.advance(step)
        await settle()


def elector(view: View, clock: le.FakeClock, identity: str, timing: le.Timing = T) -> le.LeaderElector:
    return le.LeaderElector(view, "kube-controller-manager", identity=identity, timing=timing, clock=clock)


def holder(table: Leases) -> str:
    return str(table.objs[("kube-system", "kube-controller-manager")]["spec"]["holderIdentity"])


def test_defaults_are_kubernetes() -> None:
    assert (T.lease_duration, T.renew_deadline, T.retry_period) == (15.0, 10.0, 2.0)


@pytest.mark.parametrize("timing", [le.Timing(10, 10, 2), le.Timing(15, 2.4, 2), le.Timing(15, 10, 0),
                                    le.Timing(5, 10, 2)])
def test_timing_rules_of_client_go(timing: le.Timing) -> None:
    with pytest.raises(ValueError):
        timing.validate()


@pytest.mark.parametrize("text,seconds", [("15s", 15.0), ("1m30s", 90.0), ("500ms", 0.5), ("2", 2.0),
                                          ("0.5", 0.5), ("1h", 3600.0)])
def test_parse_duration(text: str, seconds: float) -> None:
    assert le.parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "s", "15x", "1m 30s", "abc"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        le.parse_duration(text)


def test_identity_is_hostname_underscore_uuid() -> None:
    ident = le.default_identity()
    host, _, uid = ident.rpartition("_")
    assert host == socket.gethostname()
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", uid)
    assert le.default_identity() != ident


async def test_first_candidate_acquires_and_the_record_is_kubernetes_shaped() -> None:
    table, clock = Leases(), le.FakeClock()
    a = elector(table.view(), clock, "a")
    assert await a.try_acquire_or_renew()
    spec = table.objs[("kube-system", "kube-controller-manager")]["spec"]
    assert spec["holderIdentity"] == "a" and spec["leaseDurationSeconds"] == 15
    assert spec["leaseTransitions"] == 0 and spec["acquireTime"] == spec["renewTime"]
    assert a.is_leader()
    clock.advance(2)
    assert await a.try_acquire_or_renew()
    renewed = table.objs[("kube-system", "kube-controller-manager")]["spec"]
    assert renewed["acquireTime"] == spec["acquireTime"] and renewed["renewTime"] != spec["renewTime"]
    assert renewed["leaseTransitions"] == 0


async def test_standby_waits_a_lease_duration_after_the_last_change_it_saw() -> None:
    table, clock = Leases(), le.FakeClock()
    a, b = elector(table.view(), clock, "a"), elector(table.view(), clock, "b")
    assert await a.try_acquire_or_renew()
    assert not await b.try_acquire_or_renew()  # b sees the record now: its clock starts here
    clock.advance(14.9)
    assert not await b.try_acquire_or_renew()
    clock.advance(0.2)
    assert await b.try_acquire_or_renew()
    spec = table.objs[("kube-system", "kube-controller-manager")]["spec"]
    assert spec["holderIdentity"] == "b" and spec["leaseTransitions"] == 1


async def test_expiry_is_judged_by_the_observers_clock_not_renew_time() -> None:
    """A record whose renewTime is long past (a skewed writer) is still honoured for a full
    lease duration from when this candidate first saw it."""
    table, clock = Leases(), le.FakeClock()
    await table.view().create({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                               "metadata": {"name": "kube-controller-manager", "namespace": "kube-system"},
                               "spec": {"holderIdentity": "old", "leaseDurationSeconds": 15,
                                        "renewTime": "2001-01-01T00:00:00.000000Z"}})
    b = elector(table.view(), clock, "b")
    assert not await b.try_acquire_or_renew()
    clock.advance(14)
    assert not await b.try_acquire_or_renew()
    clock.advance(2)
    assert await b.try_acquire_or_renew()


async def test_renewals_keep_the_standby_out() -> None:
    table, clock = Leases(), le.FakeClock()
    a, b = elector(table.view(), clock, "a"), elector(table.view(), clock, "b")
    led = asyncio.Event()

    async def lead() -> None:
        led.set()
        await asyncio.Event().wait()

    ta = asyncio.create_task(a.run(lead))
    await settle()
    assert led.is_set()
    tb = asyncio.create_task(b.run(lead))
    await run_for(clock, 60, step=0.5)
    assert holder(table) == "a" and a.is_leader() and not tb.done()
    for t in (ta, tb):
        t.cancel()
    await asyncio.gather(ta, tb, return_exceptions=True)


async def test_partitioned_leader_stops_before_the_standby_can_take_over() -> None:
    """Fencing: the leader's work ends renew_deadline after its last renewal was sent, which is
    before any standby may acquire (lease_duration after it saw that renewal)."""
    table, clock = Leases(), le.FakeClock()
    va, vb = table.view(), table.view()
    a, b = elector(va, clock, "a"), elector(vb, clock, "b")
    timeline: list[tuple[str, float]] = []

    def lead(name: str) -> Any:
        async def run() -> None:
            timeline.append((f"{name} starts", clock.now()))
            try:
                await asyncio.Event().wait()
            finally:
                timeline.append((f"{name} stops", clock.now()))
        return run

    ta = asyncio.create_task(a.run(lead("a")))
    await settle()
    tb = asyncio.create_task(b.run(lead("b")))
    await run_for(clock, 10, step=0.5)
    last_renewal = a.renewed_at
    assert last_renewal is not None
    va.down = True
    await run_for(clock, 30, step=0.25)
    assert ta.done() and ta.exception() is None  # returned: leadership lost
    assert not a.is_leader() and a.fenced
    names = [name for name, _ in timeline]
    assert names == ["a starts", "a stops", "b starts"], timeline
    stopped = dict(timeline)["a stops"]
    took_over = dict(timeline)["b starts"]
    assert stopped <= last_renewal + T.renew_deadline + 0.25
    assert stopped < took_over
    assert took_over >= last_renewal + T.lease_duration
    assert holder(table) == "b"
    # Healed, the deposed leader does not come back: it has stopped for good.
    va.down = False
    assert not await a.try_acquire_or_renew()
    assert holder(table) == "b"
    tb.cancel()
    await asyncio.gather(tb, return_exceptions=True)


async def test_frozen_leader_refuses_writes_when_it_wakes() -> None:
    """A leader stopped (SIGSTOP) past its renew deadline must not send what it had queued: the
    write guard refuses it before any renewal loop has had a chance to run."""
    table, clock = Leases(), le.FakeClock()
    a = elector(table.view(), clock, "a")
    assert await a.try_acquire_or_renew()
    client = rest.Client("http://127.0.0.1:1")
    le.fence(client, a)
    assert client.write_guard is not None
    # Leading: writes pass, marked with the lease for the API server's own check.
    assert client.write_guard("POST", "/api/v1/namespaces/default/pods") == {
        "X-Minik8s-Leader-Lease": "kube-system/kube-controller-manager/a"}
    clock.t += T.renew_deadline + 0.001  # frozen: no task ran, the clock moved on
    assert client.write_guard("GET", "/api/v1/pods") == {}  # reads are harmless
    # The election's own Lease calls pass unmarked (they are how leadership is won or found lost).
    assert client.write_guard(
        "PUT", "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-controller-manager") == {}
    with pytest.raises(le.NotLeader):
        client.write_guard("POST", "/api/v1/namespaces/default/pods/p/binding")
    assert a.fenced
    with pytest.raises(errors.StatusError):
        await client.create(le.LEASES, {"metadata": {"name": "x"}}, "default")
    await client.close()


async def test_renewal_answered_after_the_deadline_does_not_revive_leadership() -> None:
    table, clock = Leases(), le.FakeClock()
    view = table.view()
    a = elector(view, clock, "a")
    assert await a.try_acquire_or_renew()
    slow_update = view.update

    async def late(lease: dict[str, Any]) -> dict[str, Any]:
        clock.t += T.renew_deadline + 1  # the answer arrives after the deadline
        return await slow_update(lease)

    view.update = late  # type: ignore[method-assign]
    clock.advance(2)
    assert not await a.try_acquire_or_renew()
    assert not a.is_leader() and a.fenced


async def test_graceful_stop_releases_so_the_standby_need_not_wait() -> None:
    table, clock = Leases(), le.FakeClock()
    a, b = elector(table.view(), clock, "a"), elector(table.view(), clock, "b")
    done = asyncio.Event()

    async def lead_briefly() -> None:
        await done.wait()

    async def lead_forever() -> None:
        await asyncio.Event().wait()

    ta = asyncio.create_task(a.run(lead_briefly))
    await settle()
    tb = asyncio.create_task(b.run(lead_forever))
    await run_for(clock, 4, step=0.5)
    done.set()
    await settle()
    assert ta.done()
    spec = table.objs[("kube-system", "kube-controller-manager")]["spec"]
    assert spec["holderIdentity"] == "" and spec["leaseDurationSeconds"] == 1
    start = clock.now()
    while holder(table) != "b":
        await run_for(clock, 0.5)
        assert clock.now() - start < T.lease_duration, "the standby waited out the whole lease"
    tb.cancel()
    await asyncio.gather(tb, return_exceptions=True)


async def test_lead_failure_propagates() -> None:
    table, clock = Leases(), le.FakeClock()
    a = elector(table.view(), clock, "a")

    async def broken() -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await a.run(broken)


class NoJitter(random.Random):
    def random(self) -> float:
        return 0.0


async def test_standby_takes_over_when_the_lease_expires_not_a_retry_period_later() -> None:
    """The standby's last wait is cut to the lease's end (by its observed time): the takeover
    comes at observed time + lease duration, never before it and not up to a retry period
    (with jitter, 2.4 s) after it."""
    table, clock = Leases(), le.FakeClock()
    va = table.view()
    a = elector(va, clock, "a")
    # Retries that never land on the lease's end by themselves: 2.3 s apart, no jitter.
    timing = le.Timing(lease_duration=15.0, renew_deadline=10.0, retry_period=2.3)
    b = le.LeaderElector(table.view(), "kube-controller-manager", identity="b", timing=timing, clock=clock,
                         rng=NoJitter())
    assert await a.try_acquire_or_renew()
    va.down = True  # a dies right after renewing
    tb = asyncio.create_task(b.acquire())
    await settle()
    seen = b.observed_time
    step = 0.05
    while not tb.done():
        clock.advance(step)
        await settle()
        assert clock.now() < seen + 15.0 + 1.0, "the standby waited a retry period past the lease's end"
    assert holder(table) == "b"
    took_over = clock.now()
    assert seen + 15.0 <= took_over <= seen + 15.0 + 2 * step
