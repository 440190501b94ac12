"""The scheduling queue: which pending pod to try next, and when to try a failed one again.

As kube-scheduler's PriorityQueue, a pending pod is in exactly one of

  active         ready now; popped highest spec.priority first, then oldest
                 (creationTimestamp), then in arrival order;
  backoff        failed recently; becomes active when its back-off ends
                 (initial × 2^(attempts−1), capped at max: 1s, 2s, 4s, 8s, 10s);
  unschedulable  fitted no node; waits for the cluster to change (a node
                 added or updated, an assigned pod deleted), then goes to
                 backoff or active. After `unschedulable_timeout` it is retried
                 anyway, in case an event was missed;
  in flight      popped, being scheduled or bound.

A cluster event that arrives while a pod is in flight is remembered (the move
request cycle): if that pod then turns out unschedulable, it goes to backoff,
not to unschedulable, since the event may have been the one it needed.
"""
from __future__ import annotations

import asyncio
import dataclasses
import heapq
import itertools
import logging
import time
from typing import Any, Callable

log = logging.getLogger(__name__)

Obj = dict[str, Any]

ACTIVE, BACKOFF, UNSCHEDULABLE, IN_FLIGHT = "active", "backoff", "unschedulable", "in-flight"


def pod_key(pod: Obj) -> str:
    meta = pod["metadata"]
    return f"{meta.get('namespace', '')}/{meta['name']}"


def _spec_changed(old: Obj, new: Obj) -> bool:
    """Whether an update may change where the pod fits (kube-scheduler's isPodUpdated:
    status, resourceVersion, generation and managedFields changes do not)."""
    if old.get("spec") != new.get("spec"):
        return True
    om, nm = old.get("metadata") or {}, new.get("metadata") or {}
    return om.get("labels") != nm.get("labels") or om.get("annotations") != nm.get("annotations")


@dataclasses.dataclass
class QueuedPod:
    pod: Obj
    key: str
    attempts: int = 0
    backoff_until: float = 0.0
    where: str = ACTIVE
    seq: int = 0
    cycle: int = 0  # the scheduling cycle in which it was last popped
    since: float = 0.0  # when it entered its current sub-queue
    first_added: float = 0.0

    @property
    def priority(self) -> int:
        return int((self.pod.get("spec") or {}).get("priority") or 0)


class SchedulingQueue:
    def __init__(self, *, initial_backoff: float = 1.0, max_backoff: float = 10.0,
                 unschedulable_timeout: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.initial_backoff = initial_backoff
        self.max_backoff = max_backoff
        self.unschedulable_timeout = unschedulable_timeout
        self.clock = clock
        self._pods: dict[str, QueuedPod] = {}
        self._active: list[tuple[int, str, int, str]] = []
        self._backoff: list[tuple[float, int, str]] = []
        self._unschedulable: dict[str, QueuedPod] = {}
        self._seq = itertools.count()
        self._wakeup = asyncio.Event()
        self.scheduling_cycle = 0
        self.move_request_cycle = -1

    # -- sizes (logs, tests) ------------------------------------------------------

    def counts(self) -> dict[str, int]:
        out = {ACTIVE: 0, BACKOFF: 0, UNSCHEDULABLE: 0, IN_FLIGHT: 0}
        for qp in self._pods.values():
            out[qp.where] += 1
        return out

    def __len__(self) -> int:
        return len(self._pods)

    def get(self, key: str) -> QueuedPod | None:
        return self._pods.get(key)

    # -- placing -------------------------------------------------------------------

    def _to_active(self, qp: QueuedPod) -> None:
        qp.where, qp.seq, qp.since = ACTIVE, next(self._seq), self.clock()
        self._unschedulable.pop(qp.key, None)
        created = (qp.pod.get("metadata") or {}).get("creationTimestamp") or ""
        heapq.heappush(self._active, (-qp.priority, created, qp.seq, qp.key))
        self._wakeup.set()

    def _to_backoff(self, qp: QueuedPod) -> None:
        qp.where, qp.seq, qp.since = BACKOFF, next(self._seq), self.clock()
        self._unschedulable.pop(qp.key, None)
        heapq.heappush(self._backoff, (qp.backoff_until, qp.seq, qp.key))
        self._wakeup.set()

    def _to_active_or_backoff(self, qp: QueuedPod) -> None:
        if qp.backoff_until > self.clock():
            self._to_backoff(qp)
        else:
            self._to_active(qp)

    def backoff_duration(self, attempts: int) -> float:
        if attempts <= 0:
            return 0.0
        return float(min(self.initial_backoff * 2.0 ** (attempts - 1), self.max_backoff))

    # -- informer events --------------------------------------------------------------

    def add(self, pod: Obj) -> None:
        """A pending pod appeared or changed."""
        key = pod_key(pod)
        qp = self._pods.get(key)
        if qp is None:
            now = self.clock()
            qp = self._pods[key] = QueuedPod(pod, key, first_added=now)
            self._to_active(qp)
            return
        old, qp.pod = qp.pod, pod
        if qp.where == UNSCHEDULABLE and _spec_changed(old, pod):
            self._to_active_or_backoff(qp)
        elif qp.where == ACTIVE and qp.priority != int((old.get("spec") or {}).get("priority") or 0):
            self._to_active(qp)  # re-sort; the old heap entry becomes stale

    update = add

    def delete(self, key: str) -> None:
        qp = self._pods.pop(key, None)
        if qp is not None:
            self._unschedulable.pop(key, None)
            qp.where = ""  # heap entries for it are now stale

    def move_all_to_active_or_backoff(self, why: str) -> None:
        """The cluster changed in a way that may let unschedulable pods fit."""
        self.move_request_cycle = self.scheduling_cycle
        if not self._unschedulable:
            return
        log.debug("moving %d unschedulable pods: %s", len(self._unschedulable), why)
        for qp in list(self._unschedulable.values()):
            self._to_active_or_backoff(qp)

    # -- the scheduler's side ------------------------------------------------------------

    def _flush(self) -> None:
        now = self.clock()
        while self._backoff and self._backoff[0][0] <= now:
            _, seq, key = heapq.heappop(self._backoff)
            qp = self._pods.get(key)
            if qp is not None and qp.where == BACKOFF and qp.seq == seq:
                self._to_active(qp)
        if self._unschedulable and self.unschedulable_timeout > 0:
            for qp in list(self._unschedulable.values()):
                if now - qp.since >= self.unschedulable_timeout:
                    self._to_active_or_backoff(qp)

    def _next_deadline(self) -> float | None:
        deadlines = []
        if self._backoff:
            deadlines.append(self._backoff[0][0])
        if self._unschedulable and self.unschedulable_timeout > 0:
            deadlines.append(min(qp.since for qp in self._unschedulable.values()) + self.unschedulable_timeout)
        return min(deadlines) if deadlines else None

    def pop_nowait(self) -> QueuedPod | None:
        self._flush()
        while self._active:
            _, _, seq, key = heapq.heappop(self._active)
            qp = self._pods.get(key)
            if qp is None or qp.where != ACTIVE or qp.seq != seq:
                continue
            self.scheduling_cycle += 1
            qp.where, qp.cycle, qp.since = IN_FLIGHT, self.scheduling_cycle, self.clock()
            qp.attempts += 1
            return qp
        return None

    async def pop(self) -> QueuedPod:
        """The next pod to schedule; waits while there is none."""
        while True:
            qp = self.pop_nowait()
            if qp is not None:
                return qp
            self._wakeup.clear()
            deadline = self._next_deadline()
            timeout = None if deadline is None else max(deadline - self.clock(), 0.001)
            try:
                await asyncio.wait_for(self._wakeup.wait(), timeout)
            except asyncio.TimeoutError:
                pass

    def done(self, key: str) -> None:
        """Scheduled (assumed): the queue lets go of the pod."""
        qp = self._pods.get(key)
        if qp is not None and qp.where == IN_FLIGHT:
            del self._pods[key]

    def add_unschedulable(self, qp: QueuedPod) -> None:
        """The pod fitted no node: wait for a cluster change (or back off if one came meanwhile)."""
        if self._pods.get(qp.key) is not qp:
            return  # deleted while in flight
        qp.backoff_until = self.clock() + self.backoff_duration(qp.attempts)
        if self.move_request_cycle >= qp.cycle:
            self._to_backoff(qp)
            return
        qp.where, qp.seq, qp.since = UNSCHEDULABLE, next(self._seq), self.clock()
        self._unschedulable[qp.key] = qp

    def add_backoff(self, qp: QueuedPod, pod: Obj | None = None) -> None:
        """Scheduling or binding failed for another reason: try again after the back-off."""
        current = self._pods.get(qp.key)
        if current is None:
            # Done already (the binding failed after the queue let go): take it back.
            if pod is None:
                return
            qp.pod = pod
            self._pods[qp.key] = qp
        elif current is not qp:
            return
        elif pod is not None:
            qp.pod = pod
        qp.backoff_until = self.clock() + self.backoff_duration(qp.attempts)
        self._to_backoff(qp)
