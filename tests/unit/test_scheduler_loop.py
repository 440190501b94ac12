"""The scheduling loop with a recording fake PodControl and event recorder (no API server)."""
from __future__ import annotations

import asyncio
import random
from typing import Any

from minik8s.api import errors
from minik8s.scheduler import framework
from minik8s.scheduler import nodeinfo
from minik8s.scheduler import plugins
from minik8s.scheduler import queue as queue_mod
from minik8s.scheduler import scheduler as scheduler_mod
from minik8s.scheduler import selectorspread
from tests.unit.test_scheduler_plugins import make_pod

Obj = dict[str, Any]


class FakeControl:
    """Records bindings; `gate` holds every binding in flight until set, `fail` makes one raise."""

    def __init__(self) -> None:
        self.bindings: list[tuple[str, str]] = []
        self.conditions: list[tuple[str, Obj]] = []
        self.gate: asyncio.Event | None = None
        self.fail: dict[str, Exception] = {}

    async def bind(self, pod: Obj, node: str) -> None:
        if self.gate is not None:
            await self.gate.wait()
        key = queue_mod.pod_key(pod)
        if key in self.fail:
            raise self.fail.pop(key)
        self.bindings.append((key, node))

    async def set_condition(self, pod: Obj, condition: Obj) -> None:
        self.conditions.append((queue_mod.pod_key(pod), condition))


class FakeRecorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, str, str, str]] = []

    def event(self, obj: Obj, type_: str, reason: str, message: str, *, field_path: str = "") -> None:
        self.events.append((queue_mod.pod_key(obj), type_, reason, message))

    def reasons(self, reason: str) -> list[tuple[str, str]]:
        return [(k, m) for k, _, r, m in self.events if r == reason]


def make_scheduler(fwk: framework.Framework | None = None) -> tuple[scheduler_mod.Scheduler, FakeControl, FakeRecorder]:
    control, recorder = FakeControl(), FakeRecorder()
    sched = scheduler_mod.Scheduler(fwk or plugins.default_framework(rng=random.Random(7)), control, recorder,
                                    queue=queue_mod.SchedulingQueue(initial_backoff=0.01, max_backoff=0.05))
    return sched, control, recorder


def drain(sched: scheduler_mod.Scheduler) -> int:
    """Run every pod that is ready now through one decision; the number decided."""
    n = 0
    while (qp := sched.queue.pop_nowait()) is not None:
        sched.schedule_one(qp)
        n += 1
    return n


def bound_pod(pod: Obj, node: str) -> Obj:
    return {**pod, "spec": {**pod["spec"], "nodeName": node}}


async def test_burst_never_overcommits_while_bindings_are_in_flight() -> None:
    sched, control, recorder = make_scheduler()
    for name in ("small-a", "small-b"):
        sched.on_node_add(nodeinfo.make_node(name, cpu="2", memory="4Gi"))
    control.gate = asyncio.Event()  # no binding completes, no informer confirmation arrives
    for i in range(20):
        sched.on_pod_add(make_pod(f"p{i}", cpu="500m", memory="256Mi"))
    assert drain(sched) == 20
    per_node = {n.name: len(n.pods) for n in sched.cache.node_list()}
    assert per_node == {"small-a": 4, "small-b": 4}
    assert all(n.requested_milli_cpu <= n.alloc_milli_cpu for n in sched.cache.node_list())
    control.gate.set()
    await sched.wait_for_bindings()
    assert len(control.bindings) == 8 and len({k for k, _ in control.bindings}) == 8
    failed = recorder.reasons("FailedScheduling")
    assert len(failed) == 12
    assert {m for _, m in failed} == {"0/2 nodes are available: 2 Insufficient cpu"}
    scheduled = recorder.reasons("Scheduled")
    assert sorted(m for _, m in scheduled) == sorted(
        f"Successfully assigned {k} to {n}" for k, n in control.bindings)


async def test_failed_scheduling_message_and_condition_for_mixed_reasons() -> None:
    sched, control, recorder = make_scheduler()
    sched.on_node_add(nodeinfo.make_node("a", cpu="1", labels={"disk": "ssd"}))
    sched.on_node_add(nodeinfo.make_node("b", cpu="1", labels={"disk": "ssd"}))
    sched.on_node_add(nodeinfo.make_node("c", cpu="8", labels={"disk": "hdd"}))
    sched.on_pod_add(make_pod("big", cpu="2", nodeSelector={"disk": "ssd"}))
    drain(sched)
    await sched.wait_for_bindings()
    expected = "0/3 nodes are available: 2 Insufficient cpu, 1 node(s) didn't match Pod's node affinity/selector"
    assert recorder.reasons("FailedScheduling") == [("default/big", expected)]
    assert control.bindings == []
    assert len(control.conditions) == 1
    key, cond = control.conditions[0]
    assert key == "default/big"
    assert {k: cond[k] for k in ("type", "status", "reason", "message")} == {
        "type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": expected}


async def test_more_reasons_in_one_message() -> None:
    sched, _, recorder = make_scheduler()
    sched.on_node_add(nodeinfo.make_node("tainted", taints=[{"key": "k", "value": "v", "effect": "NoSchedule"}]))
    sched.on_node_add(nodeinfo.make_node("cordoned", unschedulable=True))
    sched.on_node_add(nodeinfo.make_node("down", ready=False))
    sched.on_node_add(nodeinfo.make_node("full", cpu="1", memory="1Gi"))
    sched.on_node_add(nodeinfo.make_node("full2", cpu="1", memory="1Gi"))
    sched.on_pod_add(make_pod("p", cpu="2", memory="2Gi"))
    drain(sched)
    assert recorder.reasons("FailedScheduling") == [("default/p", (
        "0/5 nodes are available: 2 Insufficient cpu, 2 Insufficient memory, "
        "1 node(s) had untolerated taint {k: v}, 1 node(s) were not ready, 1 node(s) were unschedulable"))]


async def test_unschedulable_condition_written_once_for_repeated_failures() -> None:
    sched, control, recorder = make_scheduler()
    sched.on_node_add(nodeinfo.make_node("a", cpu="1"))
    sched.on_pod_add(make_pod("big", cpu="2"))
    drain(sched)
    await sched.wait_for_bindings()
    sched.queue.move_all_to_active_or_backoff("test")
    await asyncio.sleep(0.02)  # its 10ms back-off
    assert drain(sched) == 1
    await sched.wait_for_bindings()
    assert len(recorder.reasons("FailedScheduling")) == 2  # the recorder aggregates these
    assert len(control.conditions) == 1


async def test_volume_conflict_keeps_two_writers_of_one_disk_apart() -> None:
    sched, control, recorder = make_scheduler()
    sched.on_node_add(nodeinfo.make_node("n1"))
    sched.on_node_add(nodeinfo.make_node("n2"))
    disk = [{"name": "data", "gcePersistentDisk": {"pdName": "shared"}}]
    for i in range(3):
        sched.on_pod_add(make_pod(f"w{i}", volumes=disk))
    drain(sched)
    await sched.wait_for_bindings()
    nodes = [n for _, n in control.bindings]
    assert sorted(nodes) == ["n1", "n2"]
    assert recorder.reasons("FailedScheduling") == [
        (k, "0/2 nodes are available: 2 node(s) had no available disk")
        for k in ["default/w0", "default/w1", "default/w2"] if k not in {b for b, _ in control.bindings}]
    # Read-only users of the disk may share a node with each other, not with a writer.
    sched2, control2, _ = make_scheduler()
    sched2.on_node_add(nodeinfo.make_node("only"))
    ro = [{"name": "data", "gcePersistentDisk": {"pdName": "shared", "readOnly": True}}]
    for i in range(3):
        sched2.on_pod_add(make_pod(f"r{i}", volumes=ro))
    sched2.on_pod_add(make_pod("writer", volumes=disk))
    drain(sched2)
    await sched2.wait_for_bindings()
    assert sorted(k for k, _ in control2.bindings) == ["default/r0", "default/r1", "default/r2"]


async def test_pending_pod_scheduled_when_a_node_appears() -> None:
    sched, control, _ = make_scheduler()
    sched.on_pod_add(make_pod("p", cpu="1"))
    drain(sched)
    assert sched.queue.counts()[queue_mod.UNSCHEDULABLE] == 1
    sched.on_node_add(nodeinfo.make_node("late"))
    await asyncio.sleep(0.02)
    drain(sched)
    await sched.wait_for_bindings()
    assert control.bindings == [("default/p", "late")]


async def test_heartbeat_node_update_does_not_requeue_but_relabel_does() -> None:
    sched, _, _ = make_scheduler()
    node = nodeinfo.make_node("n", labels={"disk": "hdd"})
    sched.on_node_add(node)
    sched.on_pod_add(make_pod("p", nodeSelector={"disk": "ssd"}))
    drain(sched)
    await asyncio.sleep(0.02)
    beat = {**node, "status": {**node["status"], "conditions": [
        {"type": "Ready", "status": "True", "lastHeartbeatTime": "2024-01-01T00:00:10Z"}]}}
    sched.on_node_update(node, beat)
    assert sched.queue.counts()[queue_mod.UNSCHEDULABLE] == 1
    relabelled = {**beat, "metadata": {**beat["metadata"], "labels": {"disk": "ssd"}}}
    sched.on_node_update(beat, relabelled)
    assert sched.queue.counts()[queue_mod.UNSCHEDULABLE] == 0


async def test_deleting_an_assigned_pod_frees_room_for_a_pending_one() -> None:
    sched, control, _ = make_scheduler()
    sched.on_node_add(nodeinfo.make_node("n", cpu="1"))
    holder = make_pod("holder", cpu="1", node="n")
    sched.on_pod_add(holder)
    sched.on_pod_add(make_pod("p", cpu="1"))
    drain(sched)
    assert control.bindings == []
    sched.on_pod_delete(holder)
    await asyncio.sleep(0.02)
    drain(sched)
    await sched.wait_for_bindings()
    assert control.bindings == [("default/p", "n")]


async def test_bind_failure_forgets_and_retries() -> None:
    sched, control, recorder = make_scheduler()
    sched.on_node_add(nodeinfo.make_node("n", cpu="1"))
    pod = make_pod("p", cpu="1")
    sched.on_pod_add(pod)
    control.fail["default/p"] = errors.ServiceUnavailable("the API server is restarting")
    drain(sched)
    await sched.wait_for_bindings()
    assert sched.cache.nodes["n"].requested_milli_cpu == 0  # forgotten
    assert recorder.reasons("FailedScheduling") == [
        ("default/p", "Binding rejected: the API server is restarting")]
    await asyncio.wait_for(_until_bound(sched, control), 5)
    assert control.bindings == [("default/p", "n")]


async def _until_bound(sched: scheduler_mod.Scheduler, control: FakeControl) -> None:
    while not control.bindings:
        qp = await sched.queue.pop()
        sched.schedule_one(qp)
        await sched.wait_for_bindings()


async def test_already_bound_conflict_is_not_retried() -> None:
    sched, control, _ = make_scheduler()
    sched.on_node_add(nodeinfo.make_node("n"))
    pod = make_pod("p", cpu="1")
    sched.on_pod_add(pod)
    control.fail["default/p"] = errors.Conflict("pods", "p", 'pod p is already assigned to node "other"')
    drain(sched)
    await sched.wait_for_bindings()
    assert len(sched.queue) == 0 and sched.cache.pod_count() == 0
    # The informer then shows where it really is.
    sched.on_pod_update(pod, bound_pod(pod, "n"))
    assert sched.cache.nodes["n"].requested_milli_cpu == 1000


async def test_restart_resumes_from_api_state_without_rebinding() -> None:
    """A new scheduler fed the informer's list binds only the pods still without a node."""
    sched, control, _ = make_scheduler()
    sched.on_node_add(nodeinfo.make_node("n1", cpu="2"))
    sched.on_node_add(nodeinfo.make_node("n2", cpu="2"))
    for i in range(3):
        sched.on_pod_add(bound_pod(make_pod(f"done{i}", cpu="1"), "n1" if i < 2 else "n2"))
    for i in range(2):
        sched.on_pod_add(make_pod(f"todo{i}", cpu="1"))
    sched.on_pod_add(make_pod("toomuch", cpu="1"))
    drain(sched)
    await sched.wait_for_bindings()
    # n1 is full with done0 and done1; n2 has room for one more, taken by the oldest pending pod.
    assert control.bindings == [("default/todo0", "n2")]
    assert sum(n.requested_milli_cpu for n in sched.cache.node_list()) == 4000


async def test_update_of_assumed_pod_does_not_schedule_it_twice() -> None:
    sched, control, _ = make_scheduler()
    sched.on_node_add(nodeinfo.make_node("n"))
    pod = make_pod("p", cpu="1")
    sched.on_pod_add(pod)
    control.gate = asyncio.Event()
    drain(sched)
    # Some writer touches the pod while its binding is in flight.
    sched.on_pod_update(pod, {**pod, "metadata": {**pod["metadata"], "labels": {"x": "y"}}})
    drain(sched)
    control.gate.set()
    await sched.wait_for_bindings()
    assert control.bindings == [("default/p", "n")]


async def test_other_schedulers_pods_are_left_alone() -> None:
    sched, control, _ = make_scheduler()
    sched.on_node_add(nodeinfo.make_node("n"))
    sched.on_pod_add(make_pod("mine"))
    sched.on_pod_add(make_pod("theirs", schedulerName="other-scheduler"))
    drain(sched)
    await sched.wait_for_bindings()
    assert control.bindings == [("default/mine", "n")]


async def test_spreading_one_owners_pods() -> None:
    fwk = framework.Framework([], [(selectorspread.SelectorSpread(), 1)], rng=random.Random(3))
    sched, control, _ = make_scheduler(fwk)
    for n in ("a", "b", "c"):
        sched.on_node_add(nodeinfo.make_node(n))
    for i in range(6):
        sched.on_pod_add(make_pod(f"web-{i}", owner="web"))
    drain(sched)
    await sched.wait_for_bindings()
    counts: dict[str, int] = {}
    for _, node in control.bindings:
        counts[node] = counts.get(node, 0) + 1
    assert counts == {"a": 2, "b": 2, "c": 2}


async def test_no_nodes_message() -> None:
    sched, _, recorder = make_scheduler()
    sched.on_pod_add(make_pod("p"))
    drain(sched)
    assert recorder.reasons("FailedScheduling") == [("default/p", "no nodes available to schedule pods")]


async def test_run_loop_schedules_and_survives_a_bad_pod() -> None:
    sched, control, _ = make_scheduler()
    sched.on_node_add(nodeinfo.make_node("n"))
    bad = make_pod("bad", cpu="lots")  # not a quantity: the decision raises
    sched.on_pod_add(bad)
    sched.on_pod_add(make_pod("good"))
    task = asyncio.ensure_future(sched.run())
    try:
        async def until() -> None:
            while ("default/good", "n") not in control.bindings:
                await asyncio.sleep(0.01)
        await asyncio.wait_for(until(), 5)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert sched.queue.get("default/bad") is not None  # kept for a retry


class SlowRecorder:
    """An EventRecorder stand-in whose writes take a while; counts the most in flight at once."""

    def __init__(self) -> None:
        self.tasks: set[asyncio.Task[None]] = set()
        self.written: list[str] = []
        self.in_flight = 0
        self.peak = 0

    def event(self, obj: Obj, type_: str, reason: str, message: str, *, field_path: str = "") -> None:
        async def write() -> None:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
            await asyncio.sleep(0.001)
            self.written.append(message)
            self.in_flight -= 1
        task = asyncio.ensure_future(write())
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def flush(self) -> None:
        while self.tasks:
            await asyncio.gather(*list(self.tasks))


async def test_queued_recorder_bounds_writes_in_flight_and_drops_when_full() -> None:
    from minik8s.scheduler import recording

    inner = SlowRecorder()
    rec = recording.QueuedRecorder(inner, workers=2, max_queued=50)  # type: ignore[arg-type]
    for i in range(60):
        rec.event(make_pod(f"p{i}"), "Normal", "Scheduled", f"m{i}")
    assert rec.dropped == 10
    runner = asyncio.ensure_future(rec.run())
    try:
        await rec.flush()
    finally:
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)
    assert sorted(inner.written, key=lambda m: int(m[1:])) == [f"m{i}" for i in range(50)]
    assert inner.peak <= 2
