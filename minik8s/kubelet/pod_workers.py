"""One worker task per pod; updates to a busy pod coalesce into the latest.

As Kubernetes' podWorkers: `update_pod` never waits. It stores the newest
version of the pod (or "gone") for its uid and wakes that pod's worker. A
worker runs one sync at a time; whatever arrived meanwhile is folded into a
single next sync with the newest object. The sync function answers how soon
it wants to run again (a back-off expiring) and whether the pod is finished,
which ends the worker.
"""
from __future__ import annotations

import asyncio
import dataclasses
import logging
from typing import Any, Awaitable, Callable

log = logging.getLogger(__name__)

Obj = dict[str, Any]


@dataclasses.dataclass
class SyncOutcome:
    done: bool = False  # the pod is gone from the node: stop the worker
    requeue_after: float | None = None


SyncFn = Callable[[str, Obj | None], Awaitable[SyncOutcome]]


class _Worker:
    def __init__(self, uid: str, pod: Obj | None) -> None:
        self.uid = uid
        self.pod = pod
        self.wake = asyncio.Event()
        self.timer: asyncio.TimerHandle | None = None
        self.task: asyncio.Task[None] | None = None
        self.syncs = 0


class PodWorkers:
    def __init__(self, sync: SyncFn, *, error_backoff: float = 1.0, max_error_backoff: float = 30.0) -> None:
        self.sync = sync
        self.error_backoff = error_backoff
        self.max_error_backoff = max_error_backoff
        self._workers: dict[str, _Worker] = {}

    def __contains__(self, uid: str) -> bool:
        return uid in self._workers

    def uids(self) -> list[str]:
        return list(self._workers)

    def latest(self, uid: str) -> Obj | None:
        w = self._workers.get(uid)
        return w.pod if w else None

    def update_pod(self, uid: str, pod: Obj | None, *, wake: bool = True) -> None:
        """Record the newest state of the pod (None: it is gone from the API) and wake its worker.

        `wake=False` only refreshes the object a running worker will use next.
        """
        w = self._workers.get(uid)
        if w is None:
            w = self._workers[uid] = _Worker(uid, pod)
            w.task = asyncio.get_running_loop().create_task(self._run(w), name=f"pod-worker-{uid}")
        else:
            # A deletion is final: a late event carrying the old object must not revive the pod.
            if w.pod is not None or pod is None:
                w.pod = pod
            if not wake:
                return
        w.wake.set()

    def wake(self, uid: str) -> None:
        """Sync the pod again with the object the worker already has (probe results, engine events)."""
        w = self._workers.get(uid)
        if w is not None:
            w.wake.set()

    def _schedule(self, w: _Worker, delay: float) -> None:
        if w.timer is not None:
            if w.timer.when() <= asyncio.get_running_loop().time() + delay:
                return
            w.timer.cancel()
        w.timer = asyncio.get_running_loop().call_later(delay, w.wake.set)

    async def _run(self, w: _Worker) -> None:
        failures = 0
        try:
            while True:
                await w.wake.wait()
                w.wake.clear()
                if w.timer is not None:
                    w.timer.cancel()
                    w.timer = None
                try:
                    outcome = await self.sync(w.uid, w.pod)
                    failures = 0
                except asyncio.CancelledError:
                    raise
                except Exception:
                    failures += 1
                    delay = min(self.error_backoff * 2 ** (failures - 1), self.max_error_backoff)
                    log.exception("sync of pod %s failed; retrying in %.1fs", w.uid, delay)
                    self._schedule(w, delay)
                    continue
                finally:
                    w.syncs += 1
                if outcome.done and not w.wake.is_set():
                    return
                if outcome.requeue_after is not None:
                    self._schedule(w, outcome.requeue_after)
        finally:
            if self._workers.get(w.uid) is w:
                del self._workers[w.uid]
            if w.timer is not None:
                w.timer.cancel()

    async def stop(self) -> None:
        tasks = [w.task for w in self._workers.values() if w.task is not None]
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._workers.clear()
