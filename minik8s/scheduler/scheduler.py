"""The scheduling loop: pop a pod, decide (filter → score → select), assume, bind in the background.

One pod is decided at a time, so every decision sees the previous ones: the
decision is assumed in the cache before the next pod is popped. Binding is
the slow part (a write through the API server), so, as kube-scheduler's
binding cycle, it runs in a background task while the loop goes on with the
next pod. A failed binding forgets the assumed pod and requeues it.

The API server refuses to bind a pod twice (409: already assigned), which is
what makes a scheduler killed with -9 and restarted safe: it rebuilds its view
from a fresh list, and at worst retries a binding that its previous life had
already made, and is told so.

Side effects go through two small seams, `PodControl` (bind, pod condition)
and an event recorder, so tests drive the loop with fakes.
"""
from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from typing import Any, Protocol

from minik8s.api import conditions
from minik8s.api import errors
from minik8s.api import resources
from minik8s.api import rfc3339
from minik8s.client import rest
from minik8s.scheduler import cache as cache_mod
from minik8s.scheduler import framework
from minik8s.scheduler import nodeinfo
from minik8s.scheduler import queue as queue_mod

log = logging.getLogger(__name__)

Obj = dict[str, Any]


PODS = resources.must("", "v1", "pods")
NODES = resources.must("", "v1", "nodes")

DEFAULT_SCHEDULER_NAME = "default-scheduler"


class PodControl(Protocol):
    async def bind(self, pod: Obj, node: str) -> None: ...

    async def set_condition(self, pod: Obj, condition: Obj) -> None: ...


class Recorder(Protocol):
    def event(self, obj: Obj, type_: str, reason: str, message: str, *, field_path: str = "") -> None: ...


class APIPodControl:
    """PodControl through the API server: pods/binding and a pods/status patch."""

    def __init__(self, client: rest.Client) -> None:
        self.client = client

    async def bind(self, pod: Obj, node: str) -> None:
        await self.client.bind(pod, node)

    async def set_condition(self, pod: Obj, condition: Obj) -> None:
        meta = pod["metadata"]
        # Strategic merge: conditions merge by type, so the others are left alone.
        await self.client.patch(PODS, meta["name"], {"status": {"conditions": [condition]}}, meta["namespace"],
                                patch_type=rest.STRATEGIC_PATCH, subresource="status")


def _node_relevant(node: Obj) -> tuple[Any, ...]:
    """The parts of a Node a decision depends on (heartbeats change none of them)."""
    meta, spec, status = node["metadata"], node.get("spec") or {}, node.get("status") or {}
    ready = conditions.status(node, "Ready")
    return (meta.get("labels"), spec.get("taints"), spec.get("unschedulable"), status.get("allocatable"), ready)


@dataclasses.dataclass
class Stats:
    """What the loop did since the last report (kube-scheduler exports these as metrics)."""

    attempts: int = 0
    bound: int = 0
    unschedulable: int = 0
    errors: int = 0
    algorithm: list[float] = dataclasses.field(default_factory=list)  # seconds per decision
    binding: list[float] = dataclasses.field(default_factory=list)  # seconds per bind call

    def line(self, period: float, in_flight: int, queue: dict[str, int]) -> str:
        def ms(values: list[float], q: float) -> str:
            if not values:
                return "-"
            ordered = sorted(values)
            return f"{ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000:.1f}"
        return (f"last {period:.0f}s: {self.attempts} attempts, {self.bound} bound "
                f"({self.bound / period:.0f}/s), {self.unschedulable} unschedulable, {self.errors} binding errors; "
                f"algorithm p50 {ms(self.algorithm, .5)} ms p99 {ms(self.algorithm, .99)} ms; "
                f"binding p50 {ms(self.binding, .5)} ms p99 {ms(self.binding, .99)} ms; "
                f"{in_flight} bindings in flight; queue {queue}")


class Scheduler:
    def __init__(self, fwk: framework.Framework, control: PodControl, recorder: Recorder, *,
                 scheduler_name: str = DEFAULT_SCHEDULER_NAME, cache: cache_mod.Cache | None = None,
                 queue: queue_mod.SchedulingQueue | None = None, max_concurrent_bindings: int = 32) -> None:
        self.framework = fwk
        self.control = control
        self.recorder = recorder
        self.scheduler_name = scheduler_name
        self.cache = cache if cache is not None else cache_mod.Cache()
        self.queue = queue if queue is not None else queue_mod.SchedulingQueue()
        self._binding: set[asyncio.Task[None]] = set()
        self._status_tasks: set[asyncio.Task[None]] = set()
        # uid → message of the Unschedulable condition last written, so retries do not rewrite it.
        self._written: dict[str, str] = {}
        self.stats = Stats()
        # Bindings in flight beyond a few dozen only queue up inside the API server and
        # slow down everything else it serves (kube-scheduler is held back by its client's QPS limit).
        self._binding_slots = asyncio.Semaphore(max_concurrent_bindings)

    # -- informer handlers: bookkeeping only ---------------------------------------------

    def responsible_for(self, pod: Obj) -> bool:
        return bool((pod.get("spec") or {}).get("schedulerName", DEFAULT_SCHEDULER_NAME) == self.scheduler_name)

    @staticmethod
    def _assigned(pod: Obj) -> bool:
        return bool((pod.get("spec") or {}).get("nodeName"))

    def on_pod_add(self, pod: Obj) -> None:
        if self._assigned(pod):
            self.cache.add_pod(pod)
        elif self.responsible_for(pod) and not pod["metadata"].get("deletionTimestamp"):
            self.queue.add(pod)

    def on_pod_update(self, old: Obj, new: Obj) -> None:
        if self._assigned(new):
            if not self._assigned(old):
                self.queue.delete(queue_mod.pod_key(new))
                self._written.pop(new["metadata"].get("uid", ""), None)
            was_counted = self.cache.knows(new["metadata"].get("uid", ""))
            self.cache.update_pod(old, new)
            if was_counted and cache_mod.is_terminal(new) and not cache_mod.is_terminal(old):
                self.queue.move_all_to_active_or_backoff("AssignedPodTerminated")
            return
        if not self.responsible_for(new):
            return
        if new["metadata"].get("deletionTimestamp"):
            self.queue.delete(queue_mod.pod_key(new))
        elif not self.cache.is_assumed(new["metadata"].get("uid", "")):
            self.queue.update(new)

    def on_pod_delete(self, pod: Obj) -> None:
        self.cache.remove_pod(pod)
        self._written.pop(pod["metadata"].get("uid", ""), None)
        if self._assigned(pod):
            self.queue.move_all_to_active_or_backoff("AssignedPodDelete")
        else:
            self.queue.delete(queue_mod.pod_key(pod))

    def on_node_add(self, node: Obj) -> None:
        self.cache.add_node(node)
        self.queue.move_all_to_active_or_backoff("NodeAdd")

    def on_node_update(self, old: Obj, new: Obj) -> None:
        self.cache.update_node(new)
        if _node_relevant(old) != _node_relevant(new):
            self.queue.move_all_to_active_or_backoff("NodeUpdate")

    def on_node_delete(self, node: Obj) -> None:
        self.cache.remove_node(node)

    # -- the loop --------------------------------------------------------------------

    async def report(self, period: float = 10.0) -> None:
        """Log what happened every `period` seconds in which something did."""
        while True:
            await asyncio.sleep(period)
            stats, self.stats = self.stats, Stats()
            if stats.attempts or stats.bound or stats.errors:
                log.info("%s", stats.line(period, len(self._binding), self.queue.counts()))

    async def run(self) -> None:
        while True:
            qp = await self.queue.pop()
            try:
                self.schedule_one(qp)
            except Exception:
                log.exception("scheduling %s failed", qp.key)
                self.queue.add_backoff(qp)
            # Let watch events and bindings in flight make progress between decisions.
            await asyncio.sleep(0)

    def schedule_one(self, qp: queue_mod.QueuedPod) -> str | None:
        """Decide for one popped pod; returns the chosen node (binding continues in the background)."""
        pod = qp.pod
        meta = pod["metadata"]
        if meta.get("deletionTimestamp") or self.cache.knows(meta.get("uid", "")) or self._assigned(pod):
            self.queue.done(qp.key)
            return None
        self.stats.attempts += 1
        started = time.perf_counter()
        pi = nodeinfo.PodInfo(pod)
        result = self.framework.schedule(pi, self.cache.node_list())
        self.stats.algorithm.append(time.perf_counter() - started)
        if result.node is None:
            self._unschedulable(qp, result.message)
            return None
        self.cache.assume(pod, result.node)
        self.queue.done(qp.key)
        task = asyncio.get_running_loop().create_task(self._bind(qp, result.node), name=f"bind-{qp.key}")
        self._binding.add(task)
        task.add_done_callback(self._binding.discard)
        return result.node

    async def _bind(self, qp: queue_mod.QueuedPod, node: str) -> None:
        pod = qp.pod
        meta = pod["metadata"]
        uid = meta.get("uid", "")
        started = 0.0
        try:
            async with self._binding_slots:
                started = time.perf_counter()
                await self.control.bind(pod, node)
        except errors.NotFound:
            self.cache.forget(uid)
            log.info("pod %s was deleted before it could be bound to %s", qp.key, node)
            return
        except errors.Conflict as e:
            # Already bound (by an earlier life of this scheduler, or another one), being
            # deleted, or replaced by a pod of the same name: nothing to retry. The
            # informer brings the truth.
            self.cache.forget(uid)
            log.info("binding %s to %s refused: %s", qp.key, node, e.message)
            return
        except asyncio.CancelledError:
            raise
        except Exception as e:  # noqa: BLE001 - an API hiccup: retry the whole decision later
            self.cache.forget(uid)
            self.stats.errors += 1
            message = e.message if isinstance(e, errors.StatusError) else repr(e)
            log.warning("binding %s to %s failed: %s", qp.key, node, message)
            self.recorder.event(pod, "Warning", "FailedScheduling", f"Binding rejected: {message}")
            self.queue.add_backoff(qp, pod)
            return
        self.stats.bound += 1
        self.stats.binding.append(time.perf_counter() - started)
        log.debug("bound %s to %s", qp.key, node)
        self.recorder.event(pod, "Normal", "Scheduled",
                            f"Successfully assigned {meta.get('namespace')}/{meta['name']} to {node}")

    def _unschedulable(self, qp: queue_mod.QueuedPod, message: str) -> None:
        pod = qp.pod
        uid = pod["metadata"].get("uid", "")
        self.stats.unschedulable += 1
        log.info("pod %s is unschedulable: %s", qp.key, message)
        self.queue.add_unschedulable(qp)
        self.recorder.event(pod, "Warning", "FailedScheduling", message)
        current = conditions.get(pod, "PodScheduled")
        if self._written.get(uid) == message or (
                current and current.get("status") == "False" and current.get("reason") == "Unschedulable"
                and current.get("message") == message):
            return
        self._written[uid] = message
        since = current.get("lastTransitionTime") if current and current.get("status") == "False" else None
        condition = {"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": message,
                     "lastProbeTime": None, "lastTransitionTime": since or rfc3339.now()}
        task = asyncio.get_running_loop().create_task(self._write_condition(pod, condition))
        self._status_tasks.add(task)
        task.add_done_callback(self._status_tasks.discard)

    async def _write_condition(self, pod: Obj, condition: Obj) -> None:
        try:
            await self.control.set_condition(pod, condition)
        except errors.StatusError as e:
            self._written.pop(pod["metadata"].get("uid", ""), None)
            log.info("could not record why %s is unschedulable: %s", queue_mod.pod_key(pod), e.message)

    async def wait_for_bindings(self) -> None:
        """Until every binding and status write started so far has finished (tests, shutdown)."""
        while self._binding or self._status_tasks:
            await asyncio.gather(*list(self._binding), *list(self._status_tasks), return_exceptions=True)
