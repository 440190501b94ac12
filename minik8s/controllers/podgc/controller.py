"""Pod garbage collection: pods nobody else will ever finish (pkg/controller/podgc).

Three kinds of pods have no component left to remove them:
- **orphaned**: bound to a node that no longer exists. No kubelet will confirm
  their deletion, so a namespace holding one never goes away. A pod is
  orphaned once its node has been missing for the quarantine time (40 s, as
  Kubernetes: a node object briefly absent while being re-registered is not
  gone) and a fresh read confirms the node is still absent;
- **unscheduled and terminating**: deleted before any node took them, so no
  kubelet will either;
- **terminated, above the threshold**: Succeeded/Failed pods beyond
  `terminated_threshold` (kube-controller-manager's --terminated-pod-gc-threshold,
  12,500), oldest first.
All three are force-deleted (grace period 0) with a uid precondition so a
same-named successor is never touched. The work is one pass over the pod and
node caches every `period` seconds (Kubernetes' gcCheckPeriod, 20 s): a single
key, so the pass runs on the controller's worker like any sync, and a failed
pass is retried with backoff.
"""
from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Callable, Protocol

from minik8s.api import errors
from minik8s.api import resources
from minik8s.client import informer as informer_mod
from minik8s.controllers import base

log = logging.getLogger(__name__)

Obj = dict[str, Any]
PODS = resources.must("", "v1", "pods")
NODES = resources.must("", "v1", "nodes")
KEY = "pods"
QUARANTINE = 40.0
PERIOD = 20.0
TERMINATED_THRESHOLD = 12500


class PodGCClient(Protocol):
    async def get_or_none(self, res: resources.Resource, name: str, namespace: str | None = None
                          ) -> Obj | None: ...

    async def delete(self, res: resources.Resource, name: str, namespace: str | None = None, *,
                     grace_period: int | None = None, preconditions: dict[str, str] | None = None) -> Obj: ...


def is_terminated(pod: Obj) -> bool:
    return (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")


class PodGCController(base.Controller):
    name = "podgc"
    workers = 1  # one pass at a time: the pass is the whole job

    def __init__(self, client: PodGCClient, pods: informer_mod.Informer, nodes: informer_mod.Informer, *,
                 period: float = PERIOD, quarantine: float = QUARANTINE,
                 terminated_threshold: int = TERMINATED_THRESHOLD,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.client = client
        self.pods = pods
        self.nodes = nodes
        self.period = period
        self.quarantine = quarantine
        self.terminated_threshold = terminated_threshold
        self.clock = clock
        # Node name -> when this controller first saw pods bound to it while it was absent.
        # Memory only: a restarted controller simply quarantines again.
        self.missing_since: dict[str, float] = {}

    async def run(self) -> None:
        ticker = asyncio.get_running_loop().create_task(self._tick())
        try:
            await super().run()
        finally:
            ticker.cancel()

    async def _tick(self) -> None:
        while True:
            self.enqueue(KEY)
            await asyncio.sleep(self.period)

    async def sync(self, key: str) -> None:
        pods = self.pods.list()
        await self.gc_terminated(pods)
        await self.gc_orphaned(pods)
        await self.gc_unscheduled_terminating(pods)

    async def _force_delete(self, pod: Obj, why: str) -> None:
        meta = pod["metadata"]
        log.info("podgc: force-deleting pod %s/%s: %s", meta.get("namespace"), meta["name"], why)
        try:
            await self.client.delete(PODS, meta["name"], meta.get("namespace"), grace_period=0,
                                     preconditions={"uid": meta["uid"]})
        except (errors.NotFound, errors.Conflict):
            pass  # gone already, or a successor holds the name

    async def gc_terminated(self, pods: list[Obj]) -> None:
        if self.terminated_threshold <= 0:
            return
        terminated = [p for p in pods if is_terminated(p) and not p["metadata"].get("deletionTimestamp")]
        excess = len(terminated) - self.terminated_threshold
        if excess <= 0:
            return
        terminated.sort(key=lambda p: (p["metadata"].get("creationTimestamp") or "", p["metadata"]["name"]))
        for pod in terminated[:excess]:
            await self._force_delete(pod, f"more than {self.terminated_threshold} terminated pods")

    async def gc_orphaned(self, pods: list[Obj]) -> None:
        now = self.clock()
        bound: dict[str, list[Obj]] = {}
        for pod in pods:
            node = (pod.get("spec") or {}).get("nodeName")
            if node:
                bound.setdefault(node, []).append(pod)
        for node in list(self.missing_since):
            if node not in bound or self.nodes.get(node) is not None:
                del self.missing_since[node]
        for node, on_node in bound.items():
            if self.nodes.get(node) is not None:
                continue
            since = self.missing_since.setdefault(node, now)
            if now - since < self.quarantine:
                continue
            # The cache may be behind a node that just registered: ask the API server.
            if await self.client.get_or_none(NODES, node) is not None:
                del self.missing_since[node]
                continue
            for pod in on_node:
                await self._force_delete(pod, f"node {node} does not exist")
            del self.missing_since[node]

    async def gc_unscheduled_terminating(self, pods: list[Obj]) -> None:
        for pod in pods:
            if pod["metadata"].get("deletionTimestamp") and not (pod.get("spec") or {}).get("nodeName"):
                await self._force_delete(pod, "terminating and never scheduled")


def new_controller(client: Any, factory: informer_mod.InformerFactory, options: dict[str, Any]) -> PodGCController:
    return PodGCController(client, factory.informer(PODS), factory.informer(NODES),
                           period=float(options.get("pod_gc_period", PERIOD)),
                           quarantine=float(options.get("pod_gc_quarantine", QUARANTINE)),
                           terminated_threshold=int(options.get("terminated_pod_gc_threshold",
                                                                TERMINATED_THRESHOLD)))
