"""Delete finished Jobs `ttlSecondsAfterFinished` after they finished (pkg/controller/ttlafterfinished).

A Job with the field set and a Complete or Failed condition expires at that
condition's lastTransitionTime plus the TTL. `sync` requeues the key for the
moment of expiry; once it is due, the Job is read fresh from the API server
(the TTL may have been changed meanwhile) and deleted with Foreground
propagation and a uid precondition, so its pods go first and a same-named
successor is never touched.
"""
from __future__ import annotations

import logging
import time
from typing import Any, Callable, Protocol

from minik8s.api import errors
from minik8s.api import resources
from minik8s.api import rfc3339
from minik8s.api.kinds import batch
from minik8s.client import informer as informer_mod
from minik8s.client import rest
from minik8s.controllers import base

log = logging.getLogger(__name__)

Obj = dict[str, Any]
JOBS = resources.must("batch", "v1", "jobs")


class TTLClient(Protocol):
    async def get_or_none(self, res: resources.Resource, name: str, namespace: str | None = None
                          ) -> Obj | None: ...

    async def delete(self, res: resources.Resource, name: str, namespace: str | None = None, *,
                     propagation: str | None = None, preconditions: dict[str, str] | None = None) -> Obj: ...


def needs_cleanup(job: Obj) -> bool:
    return (job.get("spec") or {}).get("ttlSecondsAfterFinished") is not None and batch.is_job_finished(job)


def finish_time(job: Obj) -> float | None:
    """jobFinishTime: when the Complete or Failed condition became True."""
    for cond in (job.get("status") or {}).get("conditions") or []:
        if cond.get("type") in (batch.COMPLETE, batch.FAILED) and cond.get("status") == "True":
            return rfc3339.parse_epoch(cond.get("lastTransitionTime"))
    return None


def time_left(job: Obj, now: float) -> float | None:
    """Seconds until the Job expires (<= 0: expired); None when it is not to be cleaned up."""
    if job["metadata"].get("deletionTimestamp") or not needs_cleanup(job):
        return None
    finished = finish_time(job)
    if finished is None:
        log.warning("job %s/%s: finished, but no time for it", job["metadata"].get("namespace"),
                    job["metadata"]["name"])
        return None
    return finished + int(job["spec"]["ttlSecondsAfterFinished"]) - now


class TTLAfterFinishedController(base.Controller):
    name = "ttlafterfinished"
    workers = 2

    def __init__(self, client: TTLClient, jobs: informer_mod.Informer, *,
                 clock: Callable[[], float] = time.time) -> None:
        super().__init__()
        self.client = client
        self.jobs = jobs
        self.clock = clock
        jobs.add_handlers(on_add=self._maybe_enqueue, on_update=lambda old, cur: self._maybe_enqueue(cur))

    def _maybe_enqueue(self, job: Obj) -> None:
        if not job["metadata"].get("deletionTimestamp") and needs_cleanup(job):
            self.enqueue(informer_mod.key_of(job))

    async def sync(self, key: str) -> None:
        cached = self.jobs.get(key)
        if cached is None or not self._expired(key, cached):
            return
        namespace, name = informer_mod.split_key(key)
        fresh = await self.client.get_or_none(JOBS, name, namespace)
        if fresh is None or not self._expired(key, fresh):
            return
        log.info("job %s: TTL after finished expired; deleting it and its pods", key)
        try:
            await self.client.delete(JOBS, name, namespace, propagation="Foreground",
                                     preconditions={"uid": fresh["metadata"]["uid"]})
        except (errors.NotFound, errors.Conflict):
            pass

    def _expired(self, key: str, job: Obj) -> bool:
        left = time_left(job, self.clock())
        if left is None:
            return False
        if left > 0:
            self.enqueue_after(key, left)
            return False
        return True


def new_controller(client: rest.Client, factory: informer_mod.InformerFactory) -> TTLAfterFinishedController:
    return TTLAfterFinishedController(client, factory.informer(JOBS))
