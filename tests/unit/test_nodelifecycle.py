"""Node lifecycle controller decisions with filled caches, a fake clock and a recording client."""
from __future__ import annotations

from typing import Any

import pytest

from minik8s.api import rfc3339
from minik8s.client import informer as informer_mod
from minik8s.controllers import nodelifecycle as nl

T0 = 1_800_000_000.0


class FakeClient:
    def __init__(self) -> None:
        self.patches: list[tuple[str, str, Any, str | None]] = []
        self.deleted: list[tuple[str, str]] = []

    async def patch(self, res: Any, name: str, body: Any, namespace: str | None = None, **kw: Any) -> dict[str, Any]:
        self.patches.append((res.plural, name, body, kw.get("subresource")))
        return {"metadata": {"name": name}, "spec": body.get("spec") or {}}

    async def delete(self, res: Any, name: str, namespace: str | None = None, **kw: Any) -> dict[str, Any]:
        self.deleted.append((namespace or "", name))
        return {}


class FakeRecorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []

    def event(self, obj: Any, type_: str, reason: str, message: str, **kw: Any) -> None:
        self.events.append((reason, message))


def node(name: str, ready: str = "True", heartbeat: float = T0, taints: list[dict[str, Any]] | None = None
         ) -> dict[str, Any]:
    return {"metadata": {"name": name, "creationTimestamp": rfc3339.format(T0 - 1000)},
            "spec": {"taints": taints or []},
            "status": {"conditions": [{"type": "Ready", "status": ready,
                                       "lastHeartbeatTime": rfc3339.format(heartbeat)}]}}


def pod(name: str, node_name: str, tolerations: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": "ns", "uid": f"uid-{name}"},
            "spec": {"nodeName": node_name, "tolerations": tolerations or []},
            "status": {"conditions": [{"type": "Ready", "status": "True"}]}}


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def make(now: float, nodes: list[dict[str, Any]], pods: list[dict[str, Any]], leases: dict[str, float] | None = None,
         *, seen_at: float | None = T0) -> tuple[nl.NodeLifecycleController, FakeClient, FakeRecorder]:
    """A controller whose clock says `now`, which first saw the nodes at `seen_at`."""
    client = FakeClient()
    factory = informer_mod.InformerFactory(client)  # type: ignore[arg-type]
    recorder = FakeRecorder()
    clock = Clock(now)
    c = nl.NodeLifecycleController(client, factory, recorder, grace_period=40, monitor_period=5,  # type: ignore[arg-type]
                                   clock=clock)
    for n in nodes:
        c.nodes.store[n["metadata"]["name"]] = n
    for p in pods:
        c.pods._add(informer_mod.key_of(p), p)
    for name, renewed in (leases or {}).items():
        c.leases.store[f"kube-node-lease/{name}"] = {"metadata": {"name": name, "namespace": "kube-node-lease"},
                                                     "spec": {"renewTime": rfc3339.format(renewed)}}
    if seen_at is not None:
        for n in nodes:
            c.probe_time(n, seen_at)
    return c, client, recorder


async def test_healthy_node_is_left_alone() -> None:
    c, client, _ = make(T0 + 10, [node("n1")], [pod("p", "n1")], {"n1": T0 + 5})
    await c.sync("n1")
    assert client.patches == [] and client.deleted == []


async def test_lease_renewal_counts_as_heartbeat_even_if_status_is_old() -> None:
    c, client, _ = make(T0 + 30, [node("n1", heartbeat=T0)], [], {"n1": T0})
    c.leases.store["kube-node-lease/n1"]["spec"]["renewTime"] = rfc3339.format(T0 + 25)
    c.clock.now = T0 + 60  # type: ignore[attr-defined]
    await c.sync("n1")  # renewed at our T0+60: a fresh grace period starts
    c.clock.now = T0 + 95  # type: ignore[attr-defined]
    await c.sync("n1")
    assert client.patches == []


async def test_restarted_controller_gives_every_node_a_full_grace_period() -> None:
    # Heartbeats are an hour old (the control plane was down), but this
    # controller has only just started: nothing happens before the grace period.
    c, client, _ = make(T0 + 3600, [node("n1")], [pod("p", "n1")], {"n1": T0}, seen_at=None)
    await c.sync("n1")
    assert client.patches == [] and client.deleted == []
    c.clock.now = T0 + 3600 + 41  # type: ignore[attr-defined]
    await c.sync("n1")
    assert client.deleted == [("ns", "p")]


async def test_lost_node_becomes_unknown_tainted_and_pods_not_ready() -> None:
    c, client, recorder = make(T0 + 41, [node("n1")], [pod("p", "n1")], {"n1": T0})
    await c.sync("n1")
    status_patch = next(p for p in client.patches if p[3] == "status" and p[0] == "nodes")
    assert status_patch[2]["status"]["conditions"][0]["status"] == "Unknown"
    assert status_patch[2]["status"]["conditions"][0]["reason"] == "NodeStatusUnknown"
    taint_patch = next(p for p in client.patches if p[0] == "nodes" and p[3] is None)
    taints = taint_patch[2]["spec"]["taints"]
    assert {(t["key"], t["effect"]) for t in taints} == {(nl.UNREACHABLE, "NoExecute"), (nl.UNREACHABLE, "NoSchedule")}
    pod_patch = next(p for p in client.patches if p[0] == "pods")
    assert pod_patch[2]["status"]["conditions"][0]["status"] == "False"
    assert ("NodeNotReady", "Node n1 status is now: NodeNotReady") in recorder.events
    # Untolerated NoExecute taint: evicted at once.
    assert client.deleted == [("ns", "p")]


async def test_toleration_seconds_delay_eviction() -> None:
    taint = {"key": nl.UNREACHABLE, "effect": "NoExecute", "timeAdded": rfc3339.format(T0 + 45)}
    tol = [{"key": nl.UNREACHABLE, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}]
    forever = [{"key": nl.UNREACHABLE, "operator": "Exists", "effect": "NoExecute"}]
    n = node("n1", ready="Unknown", taints=[taint, {"key": nl.UNREACHABLE, "effect": "NoSchedule"}])
    c, client, _ = make(T0 + 200, [n], [pod("waits", "n1", tol), pod("stays", "n1", forever)], {"n1": T0})
    await c.sync("n1")
    assert client.deleted == []
    c, client, _ = make(T0 + 346, [n], [pod("waits", "n1", tol), pod("stays", "n1", forever)], {"n1": T0})
    await c.sync("n1")
    assert client.deleted == [("ns", "waits")]


async def test_recovered_node_loses_taints() -> None:
    taints = [{"key": nl.UNREACHABLE, "effect": "NoExecute", "timeAdded": rfc3339.format(T0)},
              {"key": nl.UNREACHABLE, "effect": "NoSchedule"}, {"key": "user", "effect": "NoSchedule"}]
    c, client, _ = make(T0 + 500, [node("n1", heartbeat=T0 + 499, taints=taints)], [], {"n1": T0 + 499},
                        seen_at=T0 + 499)
    await c.sync("n1")
    taint_patch = next(p for p in client.patches if p[0] == "nodes")
    assert taint_patch[2]["spec"]["taints"] == [{"key": "user", "effect": "NoSchedule"}]


async def test_not_ready_node_gets_not_ready_taint() -> None:
    c, client, _ = make(T0 + 1, [node("n1", ready="False")], [], {"n1": T0})
    await c.sync("n1")
    taints = next(p for p in client.patches if p[0] == "nodes")[2]["spec"]["taints"]
    assert {t["key"] for t in taints} == {nl.NOT_READY}


@pytest.mark.parametrize("toleration,taint,expected", [
    ({"operator": "Exists"}, {"key": "a", "effect": "NoExecute"}, True),
    ({"key": "a", "operator": "Exists"}, {"key": "b", "effect": "NoExecute"}, False),
    ({"key": "a", "value": "x"}, {"key": "a", "value": "x", "effect": "NoSchedule"}, True),
    ({"key": "a", "value": "x"}, {"key": "a", "value": "y", "effect": "NoSchedule"}, False),
    ({"key": "a", "operator": "Exists", "effect": "NoSchedule"}, {"key": "a", "effect": "NoExecute"}, False),
])
def test_tolerates(toleration: dict[str, Any], taint: dict[str, Any], expected: bool) -> None:
    assert nl.tolerates(toleration, taint) is expected
