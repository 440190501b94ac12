"""The pod garbage collector: orphans after quarantine (confirmed by a fresh node read),
unscheduled terminating pods, terminated pods beyond the threshold; all force-deleted
with a uid precondition."""
from __future__ import annotations

from typing import Any

from minik8s.api import errors
from minik8s.api import resources
from minik8s.client import informer as informer_mod
from minik8s.controllers.podgc import controller as podgc

Obj = dict[str, Any]
PODS = resources.must("", "v1", "pods")
NODES = resources.must("", "v1", "nodes")


class Recording:
    """The controller's client: node reads answer from `nodes`; deletes are recorded."""

    def __init__(self) -> None:
        self.nodes: dict[str, Obj] = {}
        self.deletes: list[tuple[str, int | None, dict[str, str] | None]] = []
        self.node_reads: list[str] = []
        self.gone: set[str] = set()

    async def get_or_none(self, res: resources.Resource, name: str, namespace: str | None = None) -> Obj | None:
        assert res is NODES
        self.node_reads.append(name)
        return self.nodes.get(name)

    async def delete(self, res: resources.Resource, name: str, namespace: str | None = None, *,
                     grace_period: int | None = None, preconditions: dict[str, str] | None = None) -> Obj:
        assert res is PODS
        if name in self.gone:
            raise errors.NotFound(res.qualified, name)
        self.deletes.append((name, grace_period, preconditions))
        return {}


def pod(name: str, node: str = "", phase: str = "Running", deleting: bool = False, created: str = "") -> Obj:
    meta: Obj = {"name": name, "namespace": "default", "uid": f"uid-{name}",
                 "creationTimestamp": created or "2026-01-01T00:00:00Z"}
    if deleting:
        meta["deletionTimestamp"] = "2026-01-01T00:01:00Z"
    return {"metadata": meta, "spec": {"nodeName": node} if node else {}, "status": {"phase": phase}}


def node(name: str) -> Obj:
    return {"metadata": {"name": name}}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def setup(pods: list[Obj], nodes: list[Obj], **kw: Any) -> tuple[podgc.PodGCController, Recording, Clock]:
    client = Recording()
    clock = Clock()
    pod_inf = informer_mod.Informer(None, PODS)  # type: ignore[arg-type]
    node_inf = informer_mod.Informer(None, NODES)  # type: ignore[arg-type]
    for p in pods:
        pod_inf.store[informer_mod.key_of(p)] = p
    for n in nodes:
        node_inf.store[informer_mod.key_of(n)] = n
        client.nodes[n["metadata"]["name"]] = n
    return podgc.PodGCController(client, pod_inf, node_inf, clock=clock, **kw), client, clock


async def test_orphans_go_after_the_quarantine_only() -> None:
    ctrl, client, clock = setup([pod("a", "gone"), pod("b", "gone", deleting=True), pod("c", "here")],
                                [node("here")])
    await ctrl.sync(podgc.KEY)
    assert client.deletes == []  # just noticed: quarantined
    clock.now += podgc.QUARANTINE - 1
    await ctrl.sync(podgc.KEY)
    assert client.deletes == [] and client.node_reads == []
    clock.now += 2
    await ctrl.sync(podgc.KEY)
    assert sorted(client.deletes) == [("a", 0, {"uid": "uid-a"}), ("b", 0, {"uid": "uid-b"})]
    assert client.node_reads == ["gone"]


async def test_a_node_the_cache_has_not_seen_yet_saves_its_pods() -> None:
    ctrl, client, clock = setup([pod("a", "new")], [])
    await ctrl.sync(podgc.KEY)
    client.nodes["new"] = node("new")  # registered; the informer is behind
    clock.now += podgc.QUARANTINE + 1
    await ctrl.sync(podgc.KEY)
    assert client.deletes == [] and client.node_reads == ["new"]
    # ... and the quarantine starts over if it vanishes again.
    del client.nodes["new"]
    clock.now += 1
    await ctrl.sync(podgc.KEY)
    assert client.deletes == []


async def test_a_node_that_returns_ends_the_quarantine() -> None:
    ctrl, client, clock = setup([pod("a", "flaky")], [])
    await ctrl.sync(podgc.KEY)
    ctrl.nodes.store["flaky"] = node("flaky")
    clock.now += 10
    await ctrl.sync(podgc.KEY)
    assert "flaky" not in ctrl.missing_since
    del ctrl.nodes.store["flaky"]
    clock.now += podgc.QUARANTINE - 5
    await ctrl.sync(podgc.KEY)
    assert client.deletes == []


async def test_unscheduled_terminating_pods_go_at_once() -> None:
    ctrl, client, _ = setup([pod("pending", deleting=True), pod("waiting"), pod("bound", "n1", deleting=True)],
                            [node("n1")])
    await ctrl.sync(podgc.KEY)
    assert client.deletes == [("pending", 0, {"uid": "uid-pending"})]


async def test_terminated_pods_beyond_the_threshold_oldest_first() -> None:
    pods = [pod(f"done-{i}", "n1", phase="Succeeded" if i % 2 else "Failed", created=f"2026-01-01T00:00:0{i}Z")
            for i in range(5)]
    pods.append(pod("running", "n1", created="2025-01-01T00:00:00Z"))
    pods.append(pod("leaving", "n1", phase="Failed", deleting=True, created="2025-01-01T00:00:00Z"))
    ctrl, client, _ = setup(pods, [node("n1")], terminated_threshold=3)
    await ctrl.sync(podgc.KEY)
    assert [d[0] for d in client.deletes] == ["done-0", "done-1"]


async def test_no_threshold_keeps_every_terminated_pod() -> None:
    ctrl, client, _ = setup([pod(f"d{i}", "n1", phase="Succeeded") for i in range(3)], [node("n1")],
                            terminated_threshold=0)
    await ctrl.sync(podgc.KEY)
    assert client.deletes == []


async def test_a_pod_gone_meanwhile_is_not_an_error() -> None:
    ctrl, client, _ = setup([pod("pending", deleting=True)], [])
    client.gone.add("pending")
    await ctrl.sync(podgc.KEY)
    assert client.deletes == []
