"""The scheduling queue and the scheduler cache, with a fake clock."""
from __future__ import annotations

import asyncio

import pytest

from minik8s.scheduler import cache as cache_mod
from minik8s.scheduler import nodeinfo
from minik8s.scheduler import queue as queue_mod
from tests.unit.test_scheduler_plugins import make_pod


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make_queue(**kw: float) -> tuple[queue_mod.SchedulingQueue, Clock]:
    clock = Clock()
    return queue_mod.SchedulingQueue(clock=clock, **kw), clock


def popped(q: queue_mod.SchedulingQueue) -> list[str]:
    out = []
    while (qp := q.pop_nowait()) is not None:
        out.append(qp.key.split("/")[1])
    return out


# -- queue ------------------------------------------------------------------------------


async def test_active_order_priority_then_creation_then_arrival() -> None:
    q, _ = make_queue()
    late = make_pod("late")
    late["metadata"]["creationTimestamp"] = "2024-01-02T00:00:00Z"
    q.add(late)
    q.add(make_pod("first"))
    q.add(make_pod("second"))
    q.add(make_pod("urgent", priority=1000))
    q.add(make_pod("low", priority=-5))
    assert popped(q) == ["urgent", "first", "second", "late", "low"]


def test_backoff_doubles_up_to_the_cap() -> None:
    q, _ = make_queue(initial_backoff=1, max_backoff=10)
    assert [q.backoff_duration(n) for n in range(1, 7)] == [1, 2, 4, 8, 10, 10]


async def test_failed_pod_waits_out_its_backoff() -> None:
    q, clock = make_queue(initial_backoff=1, max_backoff=10)
    q.add(make_pod("p"))
    qp = q.pop_nowait()
    assert qp is not None and qp.attempts == 1
    q.add_backoff(qp)
    assert q.pop_nowait() is None
    clock.now += 0.99
    assert q.pop_nowait() is None
    clock.now += 0.02
    qp = q.pop_nowait()
    assert qp is not None and qp.attempts == 2
    q.add_backoff(qp)
    clock.now += 1.5
    assert q.pop_nowait() is None  # second failure: 2s
    clock.now += 0.6
    assert q.pop_nowait() is not None


async def test_unschedulable_pod_moves_on_cluster_event() -> None:
    q, clock = make_queue(initial_backoff=1, unschedulable_timeout=60)
    q.add(make_pod("p"))
    qp = q.pop_nowait()
    assert qp is not None
    q.add_unschedulable(qp)
    assert q.counts()[queue_mod.UNSCHEDULABLE] == 1
    clock.now += 5  # well past its back-off, but nothing changed
    assert q.pop_nowait() is None
    q.move_all_to_active_or_backoff("NodeAdd")
    assert popped(q) == ["p"]


async def test_moved_pod_still_in_backoff_goes_to_backoff() -> None:
    q, clock = make_queue(initial_backoff=1)
    q.add(make_pod("p"))
    qp = q.pop_nowait()
    assert qp is not None
    q.add_unschedulable(qp)
    clock.now += 0.5
    q.move_all_to_active_or_backoff("NodeAdd")
    assert q.counts()[queue_mod.BACKOFF] == 1
    assert q.pop_nowait() is None
    clock.now += 0.6
    assert popped(q) == ["p"]


async def test_event_during_flight_sends_pod_to_backoff_not_unschedulable() -> None:
    q, clock = make_queue(initial_backoff=1)
    q.add(make_pod("p"))
    qp = q.pop_nowait()
    assert qp is not None
    q.move_all_to_active_or_backoff("NodeAdd")  # arrives while "p" is being scheduled
    q.add_unschedulable(qp)
    assert q.counts()[queue_mod.BACKOFF] == 1
    clock.now += 1.01
    assert popped(q) == ["p"]


async def test_unschedulable_timeout_retries_anyway() -> None:
    q, clock = make_queue(initial_backoff=1, unschedulable_timeout=30)
    q.add(make_pod("p"))
    qp = q.pop_nowait()
    assert qp is not None
    q.add_unschedulable(qp)
    clock.now += 29
    assert q.pop_nowait() is None
    clock.now += 1
    assert popped(q) == ["p"]


async def test_spec_update_requeues_unschedulable_pod_but_status_update_does_not() -> None:
    q, clock = make_queue()
    pod = make_pod("p")
    q.add(pod)
    qp = q.pop_nowait()
    assert qp is not None
    q.add_unschedulable(qp)
    status_only = {**pod, "status": {"phase": "Pending", "conditions": [{"type": "PodScheduled"}]},
                   "metadata": {**pod["metadata"], "resourceVersion": "9"}}
    q.update(status_only)
    assert q.counts()[queue_mod.UNSCHEDULABLE] == 1
    assert q.get("default/p").pod is status_only  # type: ignore[union-attr]
    clock.now += 2  # past its back-off
    relabelled = {**status_only, "metadata": {**status_only["metadata"], "labels": {"a": "b"}}}
    q.update(relabelled)
    assert popped(q) == ["p"]


async def test_delete_removes_pod_everywhere() -> None:
    q, _ = make_queue()
    q.add(make_pod("a"))
    q.add(make_pod("b"))
    q.delete("default/a")
    assert popped(q) == ["b"]
    qp = q.get("default/b")
    assert qp is not None
    q.delete("default/b")
    q.add_unschedulable(qp)  # a pod deleted while in flight is not taken back
    assert len(q) == 0


async def test_pop_waits_for_a_pod() -> None:
    q = queue_mod.SchedulingQueue(initial_backoff=0.01)
    waiter = asyncio.ensure_future(q.pop())
    await asyncio.sleep(0)
    assert not waiter.done()
    q.add(make_pod("p"))
    qp = await asyncio.wait_for(waiter, 5)
    q.add_backoff(qp)  # back-off of 10ms: pop must wake up by itself
    again = await asyncio.wait_for(q.pop(), 5)
    assert again.key == "default/p" and again.attempts == 2


# -- cache ------------------------------------------------------------------------------


def _cache(*nodes: str, cpu: str = "2") -> cache_mod.Cache:
    c = cache_mod.Cache()
    for n in nodes:
        c.add_node(nodeinfo.make_node(n, cpu=cpu))
    return c


def test_assumed_pod_counts_at_once_and_is_confirmed_by_the_informer() -> None:
    c = _cache("n1")
    pod = make_pod("p", cpu="1")
    c.assume(pod, "n1")
    assert c.nodes["n1"].requested_milli_cpu == 1000 and c.is_assumed("uid-p")
    bound = {**pod, "spec": {**pod["spec"], "nodeName": "n1"}}
    c.add_pod(bound)
    assert not c.is_assumed("uid-p") and c.knows("uid-p")
    assert c.nodes["n1"].requested_milli_cpu == 1000 and len(c.nodes["n1"].pods) == 1


def test_forget_releases_an_assumed_pod_only() -> None:
    c = _cache("n1")
    c.assume(make_pod("p", cpu="1"), "n1")
    c.forget("uid-p")
    assert c.nodes["n1"].requested_milli_cpu == 0 and not c.knows("uid-p")
    c.add_pod(make_pod("q", cpu="1", node="n1"))
    c.forget("uid-q")  # confirmed pods are not forgotten
    assert c.nodes["n1"].requested_milli_cpu == 1000


def test_confirmation_on_another_node_moves_the_pod() -> None:
    c = _cache("n1", "n2")
    c.assume(make_pod("p", cpu="1"), "n1")
    c.add_pod(make_pod("p", cpu="1", node="n2"))
    assert c.nodes["n1"].requested_milli_cpu == 0 and c.nodes["n2"].requested_milli_cpu == 1000


def test_terminal_pods_do_not_count() -> None:
    c = _cache("n1")
    pod = make_pod("p", cpu="1", node="n1")
    c.add_pod(pod)
    done = {**pod, "status": {"phase": "Succeeded"}}
    c.update_pod(pod, done)
    assert c.nodes["n1"].requested_milli_cpu == 0
    c.add_pod(make_pod("q", cpu="1", node="n1") | {"status": {"phase": "Failed"}})
    assert c.nodes["n1"].requested_milli_cpu == 0


def test_status_update_keeps_the_counted_pod() -> None:
    c = _cache("n1")
    pod = make_pod("p", cpu="1", node="n1")
    c.add_pod(pod)
    running = {**pod, "status": {"phase": "Running", "podIP": "10.0.0.5"}}
    c.update_pod(pod, running)
    assert c.nodes["n1"].requested_milli_cpu == 1000 and c.nodes["n1"].pods["uid-p"].pod is running


def test_node_removed_while_pods_remain() -> None:
    c = _cache("n1", "n2")
    pod = make_pod("p", cpu="1", node="n1")
    c.add_pod(pod)
    c.remove_node(nodeinfo.make_node("n1"))
    assert [n.name for n in c.node_list()] == ["n2"]
    assert c.nodes["n1"].requested_milli_cpu == 1000  # kept until the pod goes
    c.remove_pod(pod)
    assert "n1" not in c.nodes
    # A pod may name a node before the node is seen.
    c.add_pod(make_pod("early", cpu="1", node="n3"))
    assert [n.name for n in c.node_list()] == ["n2"]
    c.add_node(nodeinfo.make_node("n3", cpu="2"))
    assert c.nodes["n3"].requested_milli_cpu == 1000 and len(c.node_list()) == 2


@pytest.mark.parametrize("deleting", [False, True])
def test_owner_counts_follow_termination(deleting: bool) -> None:
    c = _cache("n1")
    pod = make_pod("p", node="n1", owner="web")
    c.add_pod(pod)
    assert c.nodes["n1"].owner_counts == {"rs-web": 1}
    if deleting:
        leaving = {**pod, "metadata": {**pod["metadata"], "deletionTimestamp": "2024-01-01T00:00:00Z"}}
        c.update_pod(pod, leaving)
    else:
        c.remove_pod(pod)
    assert c.nodes["n1"].owner_counts == {}
