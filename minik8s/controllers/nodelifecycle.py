"""Node lifecycle: notice lost nodes, taint them, evict their pods; undo it when they return.

As Kubernetes' node lifecycle controller and its NoExecute taint manager:
- A node whose kubelet has not renewed its Lease (or posted status) within the
  grace period gets Ready=Unknown. The grace period is timed on this
  controller's own clock, from when it last saw the heartbeat *change* (as
  Kubernetes' nodeHealthMap): a controller restarted after an outage gives
  every node a full grace period instead of judging old timestamps, and
  clock skew between nodes and master does not matter. It then gets (reason NodeStatusUnknown) and the
  `node.kubernetes.io/unreachable` taint, NoSchedule and NoExecute. A node that
  reports Ready=False gets `node.kubernetes.io/not-ready` instead.
- Pods on a node with a NoExecute taint are evicted (deleted) once they stop
  tolerating it: at once without a matching toleration, else after its
  tolerationSeconds counted from the taint's timeAdded. Their Ready condition
  is set False right away so Services stop sending them traffic.
- When heartbeats resume and the node is Ready, the taints go; the kubelet
  removes the evicted pods' containers itself.
"""
from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Callable

from minik8s.api import conditions
from minik8s.api import errors
from minik8s.api import resources
from minik8s.api import rfc3339
from minik8s.client import events
from minik8s.client import informer as informer_mod
from minik8s.client import rest
from minik8s.controllers import base

log = logging.getLogger(__name__)

NODES = resources.must("", "v1", "nodes")
PODS = resources.must("", "v1", "pods")
LEASES = resources.must("coordination.k8s.io", "v1", "leases")
assert NODES and PODS and LEASES

UNREACHABLE = "node.kubernetes.io/unreachable"
NOT_READY = "node.kubernetes.io/not-ready"
OUR_TAINTS = (UNREACHABLE, NOT_READY)


def tolerates(toleration: dict[str, Any], taint: dict[str, Any]) -> bool:
    """v1.Toleration.ToleratesTaint."""
    if toleration.get("effect") and toleration["effect"] != taint.get("effect"):
        return False
    if toleration.get("key") and toleration["key"] != taint.get("key"):
        return False
    if toleration.get("operator", "Equal") == "Exists":
        return True
    return (toleration.get("value") or "") == (taint.get("value") or "")


def eviction_time(pod: dict[str, Any], taints: list[dict[str, Any]]) -> float | None:
    """When the pod must go because of the node's NoExecute taints (None: it tolerates them forever)."""
    due: float | None = None
    for taint in taints:
        if taint.get("effect") != "NoExecute":
            continue
        added = rfc3339.parse_epoch(taint.get("timeAdded")) or 0.0
        matching = [t for t in (pod.get("spec") or {}).get("tolerations") or [] if tolerates(t, taint)]
        if not matching:
            return added  # not tolerated at all: evict now
        seconds = [t["tolerationSeconds"] for t in matching if t.get("tolerationSeconds") is not None]
        if not seconds:
            continue  # tolerated forever
        when = added + max(0, min(int(s) for s in seconds))
        due = when if due is None else min(due, when)
    return due


class NodeLifecycleController(base.Controller):
    name = "nodelifecycle"
    workers = 2

    def __init__(self, client: rest.Client, factory: informer_mod.InformerFactory, recorder: events.EventRecorder,
                 *, grace_period: float = 40.0, monitor_period: float = 5.0,
                 clock: Callable[[], float] = time.time) -> None:
        super().__init__()
        self.client = client
        self.recorder = recorder
        self.grace_period = grace_period
        self.monitor_period = monitor_period
        self.clock = clock
        # node → (last heartbeat value seen, our clock when it was first seen)
        self.observed: dict[str, tuple[float | None, float]] = {}
        self.nodes = factory.informer(NODES)
        self.leases = factory.informer(LEASES, namespace="kube-node-lease")
        self.pods = factory.informer(PODS)
        if "node" not in self.pods.indexes:
            self.pods.add_index("node", lambda p: [(p.get("spec") or {}).get("nodeName") or ""])
        self.nodes.add_handlers(on_add=self._node_changed, on_update=lambda _o, n: self._node_changed(n))
        self.pods.add_handlers(on_add=self._pod_changed, on_update=lambda _o, p: self._pod_changed(p))

    def _node_changed(self, node: dict[str, Any]) -> None:
        self.enqueue(node["metadata"]["name"])

    def _pod_changed(self, pod: dict[str, Any]) -> None:
        # A pod landing on a tainted node must be looked at too.
        node = (pod.get("spec") or {}).get("nodeName")
        if node and any(t.get("key") in OUR_TAINTS for t in
                        ((self.nodes.get(node) or {}).get("spec") or {}).get("taints") or []):
            self.enqueue(node)

    async def run(self) -> None:
        ticker = asyncio.get_running_loop().create_task(self._monitor())
        try:
            await super().run()
        finally:
            ticker.cancel()

    async def _monitor(self) -> None:
        """Heartbeats are judged by time passing, not by events: look at every node each period."""
        while True:
            for key in list(self.nodes.store):
                self.enqueue(key)
            await asyncio.sleep(self.monitor_period)

    # -- sync ---------------------------------------------------------------------

    def last_heartbeat(self, node: dict[str, Any]) -> float | None:
        name = node["metadata"]["name"]
        lease = self.leases.get_by("kube-node-lease", name)
        times = [rfc3339.parse_epoch((lease or {}).get("spec", {}).get("renewTime"))]
        cond = conditions.get(node, "Ready")
        if cond:
            times.append(rfc3339.parse_epoch(cond.get("lastHeartbeatTime")))
        known = [t for t in times if t is not None]
        if not known:
            return rfc3339.parse_epoch(node["metadata"].get("creationTimestamp"))
        return max(known)

    def probe_time(self, node: dict[str, Any], now: float) -> float:
        """Our clock's time of the node's last heartbeat change."""
        name = node["metadata"]["name"]
        heartbeat = self.last_heartbeat(node)
        seen = self.observed.get(name)
        if seen is None or seen[0] != heartbeat:
            seen = (heartbeat, now)
            self.observed[name] = seen
        return seen[1]

    async def sync(self, key: str) -> None:
        node = self.nodes.get(key)
        if node is None:
            self.observed.pop(key, None)
            return
        now = self.clock()
        cond = conditions.get(node, "Ready")
        lost = now - self.probe_time(node, now) > self.grace_period
        if lost:
            wanted = UNREACHABLE
            if cond is None or cond.get("status") != "Unknown":
                await self._mark_unknown(node, now)
        elif cond is not None and cond.get("status") == "True":
            wanted = None
        elif cond is not None and cond.get("status") == "False":
            wanted = NOT_READY
        else:
            wanted = None if cond is None else UNREACHABLE
        node = await self._set_taints(node, wanted, now)
        taints = [t for t in (node.get("spec") or {}).get("taints") or [] if t.get("effect") == "NoExecute"]
        if lost:
            await self._mark_pods_not_ready(key)
        if taints:
            await self._evict(key, taints, now)
        if lost or wanted:
            # Keep looking: tolerations expire with time.
            self.enqueue_after(key, self.monitor_period)

    async def _mark_unknown(self, node: dict[str, Any], now: float) -> None:
        name = node["metadata"]["name"]
        stamp = rfc3339.format(now)
        conds: list[dict[str, Any]] = []
        for c in (node.get("status") or {}).get("conditions") or []:
            c = dict(c)
            if c.get("status") != "Unknown":
                c["lastTransitionTime"] = stamp
            c.update({"status": "Unknown", "reason": "NodeStatusUnknown",
                      "message": "Kubelet stopped posting node status."})
            conds.append(c)
        if not conds:
            conds = [{"type": "Ready", "status": "Unknown", "reason": "NodeStatusNeverUpdated",
                      "message": "Kubelet never posted node status.", "lastTransitionTime": stamp,
                      "lastHeartbeatTime": node["metadata"].get("creationTimestamp")}]
        await self.client.patch(NODES, name, {"status": {"conditions": conds}}, subresource="status",
                                patch_type=rest.MERGE_PATCH)
        log.info("node %s: no heartbeat for more than %.0fs; marked Unknown", name, self.grace_period)
        self.recorder.event(node, "Normal", "NodeNotReady", f"Node {name} status is now: NodeNotReady")

    async def _set_taints(self, node: dict[str, Any], wanted: str | None, now: float) -> dict[str, Any]:
        taints = list((node.get("spec") or {}).get("taints") or [])
        keep = [t for t in taints if t.get("key") not in OUR_TAINTS or t.get("key") == wanted]
        if wanted and not any(t.get("key") == wanted and t.get("effect") == "NoExecute" for t in keep):
            keep.append({"key": wanted, "effect": "NoExecute", "timeAdded": rfc3339.format(now)})
        if wanted and not any(t.get("key") == wanted and t.get("effect") == "NoSchedule" for t in keep):
            keep.append({"key": wanted, "effect": "NoSchedule"})
        if keep == taints:
            return node
        name = node["metadata"]["name"]
        # A merge patch of the whole list: no resourceVersion, so the kubelet's
        # frequent status writes never make this conflict.
        updated = await self.client.patch(NODES, name, {"spec": {"taints": keep or None}})
        log.info("node %s: taints now %s", name, [f"{t['key']}:{t['effect']}" for t in keep] or "none")
        return updated

    async def _mark_pods_not_ready(self, node_name: str) -> None:
        for pod in self.pods.by_index("node", node_name):
            conds = conditions.of(pod)
            ready = conditions.find(conds, "Ready")
            if ready is None or ready.get("status") == "False":
                continue
            new_conds = [dict(c, status="False", lastTransitionTime=rfc3339.format(self.clock()))
                         if c.get("type") == "Ready" else c for c in conds]
            try:
                await self.client.patch(PODS, pod["metadata"]["name"], {"status": {"conditions": new_conds}},
                                        pod["metadata"]["namespace"], subresource="status")
            except errors.NotFound:
                continue

    async def _evict(self, node_name: str, taints: list[dict[str, Any]], now: float) -> None:
        for pod in self.pods.by_index("node", node_name):
            if pod["metadata"].get("deletionTimestamp"):
                continue
            due = eviction_time(pod, taints)
            if due is None:
                continue
            if due > now:
                self.enqueue_after(node_name, due - now + 0.05)
                continue
            ns, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
            try:
                await self.client.delete(PODS, name, ns, preconditions={"uid": pod["metadata"]["uid"]})
            except (errors.NotFound, errors.Conflict):
                continue
            log.info("node %s: evicted pod %s/%s", node_name, ns, name)
            self.recorder.event(pod, "Normal", "TaintManagerEviction", "Marking for deletion Pod " f"{ns}/{name}")
