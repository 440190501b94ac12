"""The CronJob controller: create a Job at each start time (pkg/controller/cronjob, ControllerV2).

`sync(namespace/name)` as upstream's sync + syncCronJob:

1. the CronJob's Jobs are those whose controller reference is the CronJob;
2. history: beyond `successfulJobsHistoryLimit` / `failedJobsHistoryLimit`
   finished Jobs, the ones that started first are deleted (background);
3. `status.active` is reconciled with the Jobs: a finished one leaves it
   (`SawCompletedJob`), a missing one too after a live GET confirms it is gone
   (`MissingJob`); `lastSuccessfulTime` follows the newest completed Job;
4. unless suspended or being deleted: the most recent unmet start time is
   computed (croniter, in `spec.timeZone` or the controller's zone); too late
   for `startingDeadlineSeconds` → `MissSchedule`; already run → nothing;
   `Forbid` with a Job active → `JobAlreadyActive`; `Replace` deletes the
   active Jobs first; then the Job `<cronjob>-<unix minutes>` is created
   (`SuccessfulCreate`), an AlreadyExists of our own Job being the proof that a
   previous attempt got there;
5. status is written once if anything changed, and the key is requeued for
   the next start time (plus 100 ms), which is what makes the schedule run:
   no timer besides the work queue's.

The clock is injected (`now`), so unit tests move time instead of waiting.
"""
from __future__ import annotations

import copy
import datetime
import logging
import time
from typing import Any, Callable, Protocol

from minik8s.api import cron
from minik8s.api import errors
from minik8s.api import owners
from minik8s.api import resources
from minik8s.api import rfc3339
from minik8s.client import events
from minik8s.client import informer as informer_mod
from minik8s.client import rest
from minik8s.controllers import base
from minik8s.controllers import podcontrol
from minik8s.controllers.cronjob import util

log = logging.getLogger(__name__)

Obj = dict[str, Any]

CRONJOBS = resources.must("batch", "v1", "cronjobs")
JOBS = resources.must("batch", "v1", "jobs")


class CronJobClient(Protocol):
    async def get_or_none(self, res: resources.Resource, name: str, namespace: str | None = None
                          ) -> Obj | None: ...

    async def create(self, res: resources.Resource, obj: Obj, namespace: str | None = None) -> Obj: ...

    async def delete(self, res: resources.Resource, name: str, namespace: str | None = None, *,
                     propagation: str | None = None) -> Obj: ...

    async def update_status(self, res: resources.Resource, obj: Obj) -> Obj: ...


def _local_zone() -> datetime.tzinfo:
    return datetime.datetime.now().astimezone().tzinfo or datetime.timezone.utc


class CronJobController(base.Controller):
    name = "cronjob"
    workers = 5

    def __init__(self, client: CronJobClient, cronjobs: informer_mod.Informer, jobs: informer_mod.Informer,
                 recorder: events.EventRecorder | None = None, *, clock: Callable[[], float] = time.time,
                 zone: datetime.tzinfo | None = None) -> None:
        super().__init__()
        self.client = client
        self.cronjobs = cronjobs
        self.jobs = jobs
        self.recorder = recorder
        self.clock = clock
        # Where a schedule without spec.timeZone runs: the controller manager's zone, as upstream.
        self.zone = zone or _local_zone()
        cronjobs.add_handlers(on_add=self.on_cronjob_add, on_update=self.on_cronjob_update,
                              on_delete=self.on_cronjob_add)
        jobs.add_handlers(on_add=self.on_job_add, on_update=self.on_job_update, on_delete=self.on_job_delete)

    def now(self) -> datetime.datetime:
        return datetime.datetime.fromtimestamp(self.clock(), tz=self.zone)

    # -- handlers --------------------------------------------------------------------------------

    def on_cronjob_add(self, cj: Obj) -> None:
        self.enqueue(informer_mod.key_of(cj))

    def on_cronjob_update(self, old: Obj, cur: Obj) -> None:
        old_spec, cur_spec = old.get("spec") or {}, cur.get("spec") or {}
        if old_spec.get("schedule") != cur_spec.get("schedule") or old_spec.get("timeZone") != cur_spec.get("timeZone"):
            try:
                sched = util.schedule_of(cur)
            except cron.ScheduleError:
                self._event(cur, "Warning", "UnParseableCronJobSchedule",
                            f"unparseable schedule for cronjob: {cur_spec.get('schedule')}")
                return
            self.enqueue_after(informer_mod.key_of(cur), util.next_schedule_delay(cur, self.now(), sched))
            return
        self.enqueue(informer_mod.key_of(cur))

    def _owner(self, job: Obj) -> Obj | None:
        ref = owners.controller_ref(job)
        if ref is None or ref.get("kind") != CRONJOBS.kind:
            return None
        cj = self.cronjobs.get_by(job["metadata"].get("namespace"), ref.get("name", ""))
        if cj is None or cj["metadata"].get("uid") != ref.get("uid"):
            return None
        return cj

    def on_job_add(self, job: Obj) -> None:
        cj = self._owner(job)
        if cj is not None:
            self.enqueue(informer_mod.key_of(cj))

    def on_job_update(self, old: Obj, cur: Obj) -> None:
        if old["metadata"].get("resourceVersion") == cur["metadata"].get("resourceVersion"):
            return
        for obj in (old, cur) if owners.controller_ref(old) != owners.controller_ref(cur) else (cur,):
            self.on_job_add(obj)

    def on_job_delete(self, job: Obj) -> None:
        self.on_job_add(job)

    # -- sync ------------------------------------------------------------------------------------

    async def sync(self, key: str) -> None:
        cached = self.cronjobs.get(key)
        if cached is None:
            return
        cj = podcontrol.with_type(copy.deepcopy(cached), CRONJOBS)
        cj.setdefault("status", {})
        uid = cj["metadata"]["uid"]
        jobs = [j for j in self.jobs.list(cj["metadata"]["namespace"])
                if (owners.controller_ref(j) or {}).get("uid") == uid]
        update_after_cleanup = await self.cleanup_finished_jobs(cj, jobs)
        requeue, update_after_sync, sync_error = await self.sync_cronjob(cj, jobs)
        if update_after_cleanup or update_after_sync:
            await self.client.update_status(CRONJOBS, _status_body(cj))
        if requeue is not None:
            self.enqueue_after(key, requeue)
        if sync_error is not None:
            raise sync_error

    async def sync_cronjob(self, cj: Obj, jobs: list[Obj]) -> tuple[float | None, bool, errors.StatusError | None]:
        """syncCronJob: (requeue after, status changed, error)."""
        now = self.now()
        status = cj["status"]
        update = False
        children = set()
        for job in jobs:
            job_uid = job["metadata"]["uid"]
            children.add(job_uid)
            found = util.in_active_list(cj, job_uid)
            finished = util.finished_type(job)
            if not found and finished is None:
                fresh = await self.client.get_or_none(CRONJOBS, cj["metadata"]["name"], cj["metadata"]["namespace"])
                if fresh is not None and util.in_active_list(fresh, job_uid):
                    cj["status"] = status = fresh.get("status") or {}
                    continue
                self._event(cj, "Warning", "UnexpectedJob",
                            f"Saw a job that the controller did not create or forgot: {job['metadata']['name']}")
            elif found and finished is not None:
                util.delete_from_active_list(cj, job_uid)
                self._event(cj, "Normal", "SawCompletedJob",
                            f"Saw completed job: {job['metadata']['name']}, condition: {finished}")
                update = True
            elif finished == "Complete":
                completed = (job.get("status") or {}).get("completionTime")
                last = rfc3339.parse_epoch(status.get("lastSuccessfulTime"))
                done = rfc3339.parse_epoch(completed)
                if completed and (last is None or (done is not None and done > last)):
                    status["lastSuccessfulTime"] = completed
                    update = True
        for ref in list(status.get("active") or []):
            if ref.get("uid") in children:
                continue
            # The cache may lag: only a live GET tells a Job is really gone.
            if await self.client.get_or_none(JOBS, ref.get("name", ""), ref.get("namespace")) is None:
                self._event(cj, "Normal", "MissingJob", f"Active job went missing: {ref.get('name')}")
                util.delete_from_active_list(cj, ref.get("uid", ""))
                update = True
        status = cj.setdefault("status", {})

        spec = cj.get("spec") or {}
        if cj["metadata"].get("deletionTimestamp"):
            return None, update, None
        if spec.get("timeZone") is not None:
            try:
                cron.load_zone(spec["timeZone"])
            except cron.ScheduleError as e:
                self._event(cj, "Warning", "UnknownTimeZone", f'invalid timeZone: "{spec["timeZone"]}": {e}')
                return None, update, None
        if spec.get("suspend"):
            return None, update, None
        try:
            sched = util.schedule_of(cj)
        except cron.ScheduleError as e:
            self._event(cj, "Warning", "UnparseableSchedule", f'unparseable schedule: "{spec.get("schedule")}" : {e}')
            return None, update, None
        try:
            times = util.most_recent_schedule_time(cj, now, sched, True)
        except ValueError as e:
            self._event(cj, "Warning", "InvalidSchedule", f"invalid schedule: {spec.get('schedule')} : {e}")
            return None, update, None
        if times.missed == util.MANY_MISSED:
            self._event(cj, "Warning", "TooManyMissedTimes", "too many missed start times. Set or decrease "
                                                             ".spec.startingDeadlineSeconds or check clock skew")
        scheduled = times.most_recent
        if scheduled is None:
            return util.next_schedule_delay(cj, now, sched), update, None
        deadline = spec.get("startingDeadlineSeconds")
        if deadline is not None and scheduled + datetime.timedelta(seconds=int(deadline)) < now:
            self._event(cj, "Warning", "MissSchedule", "Missed scheduled time to start a job: "
                        + scheduled.astimezone(datetime.timezone.utc).strftime("%a, %d %b %Y %H:%M:%S +0000"))
            return util.next_schedule_delay(cj, now, sched), update, None
        last = rfc3339.parse_epoch(status.get("lastScheduleTime"))
        if util.in_active_list_by_name(cj, util.job_name(cj, scheduled)) or \
                (last is not None and int(last) == int(scheduled.timestamp())):
            return util.next_schedule_delay(cj, now, sched), update, None
        if spec.get("concurrencyPolicy") == "Forbid" and status.get("active"):
            self._event(cj, "Normal", "JobAlreadyActive",
                        "Not starting job because prior execution is running and concurrency policy is Forbid")
            return util.next_schedule_delay(cj, now, sched), update, None
        if spec.get("concurrencyPolicy") == "Replace":
            for ref in list(status.get("active") or []):
                running = await self.client.get_or_none(JOBS, ref.get("name", ""), ref.get("namespace"))
                if running is None:
                    util.delete_from_active_list(cj, ref.get("uid", ""))
                    update = True
                    continue
                if not await self._delete_job(cj, running):
                    return None, update, errors.Conflict("jobs", running["metadata"]["name"],
                                                         f"could not replace job {ref.get('namespace')}/"
                                                         f"{running['metadata']['name']}")
                update = True

        zone = cron.load_zone(spec["timeZone"]) if spec.get("timeZone") is not None else self.zone
        request = util.job_from_template(cj, scheduled, zone)
        namespace = cj["metadata"]["namespace"]
        try:
            created = await self.client.create(JOBS, request, namespace)
            self._event(cj, "Normal", "SuccessfulCreate", f"Created job {created['metadata']['name']}")
        except errors.AlreadyExists:
            existing = await self.client.get_or_none(JOBS, request["metadata"]["name"], namespace)
            if existing is None:
                return None, update, errors.Conflict("jobs", request["metadata"]["name"], "job vanished")
            owner = owners.controller_ref(existing)
            if owner is None or owner.get("uid") != cj["metadata"]["uid"] or \
                    util.in_active_list(cj, existing["metadata"]["uid"]):
                # Another actor's Job, or ours and already recorded.
                return None, update, None
            created = existing
        except errors.StatusError as e:
            if e.code != 403 or "terminat" not in e.message:
                self._event(cj, "Warning", "FailedCreate", f"Error creating job: {e.message}")
            return None, update, e
        log.info("cronjob %s/%s: created job %s for %s", namespace, cj["metadata"]["name"],
                 created["metadata"]["name"], scheduled.isoformat())
        status.setdefault("active", []).append(util.job_ref(created))
        status["lastScheduleTime"] = rfc3339.format(scheduled.timestamp())
        return util.next_schedule_delay(cj, now, sched), True, None

    async def cleanup_finished_jobs(self, cj: Obj, jobs: list[Obj]) -> bool:
        spec = cj.get("spec") or {}
        if spec.get("failedJobsHistoryLimit") is None and spec.get("successfulJobsHistoryLimit") is None:
            return False
        update = False
        for kind, limit in (("Complete", spec.get("successfulJobsHistoryLimit")),
                            ("Failed", spec.get("failedJobsHistoryLimit"))):
            if limit is None:
                continue
            finished = sorted((j for j in jobs if util.finished_type(j) == kind), key=util.by_start_time)
            for job in finished[:max(len(finished) - int(limit), 0)]:
                if await self._delete_job(cj, job):
                    update = True
        return update

    async def _delete_job(self, cj: Obj, job: Obj) -> bool:
        try:
            await self.client.delete(JOBS, job["metadata"]["name"], job["metadata"]["namespace"],
                                     propagation="Background")
        except errors.NotFound:
            pass
        except errors.StatusError as e:
            self._event(cj, "Warning", "FailedDelete", f"Deleted job: {e.message}")
            return False
        util.delete_from_active_list(cj, job["metadata"]["uid"])
        self._event(cj, "Normal", "SuccessfulDelete", f"Deleted job {job['metadata']['name']}")
        return True

    def _event(self, cj: Obj, type_: str, reason: str, message: str) -> None:
        if self.recorder is not None:
            self.recorder.event(podcontrol.with_type(cj, CRONJOBS), type_, reason, message)


def _status_body(cj: Obj) -> Obj:
    body = copy.deepcopy(cj)
    body["status"] = {k: v for k, v in (cj.get("status") or {}).items() if v not in (None, [], "")}
    return body


def new_controller(client: rest.Client, factory: informer_mod.InformerFactory,
                   recorder: events.EventRecorder) -> CronJobController:
    return CronJobController(client, factory.informer(CRONJOBS), factory.informer(JOBS), recorder)
