"""The CronJob controller's pure rules (pkg/controller/cronjob/utils.go).

When the next Job is due (`most_recent_schedule_time`, including how many
start times were missed), how long until the one after, the Job a schedule
creates (`job_from_template`: a deterministic name per start time, so a
restarted controller can never create the same run twice) and the bookkeeping
of `status.active`. Times are timezone-aware datetimes; no I/O.
"""
from __future__ import annotations

import copy
import dataclasses
import datetime
from typing import Any

from minik8s.api import cron
from minik8s.api import rfc3339
from minik8s.api.kinds import batch

Obj = dict[str, Any]

# nextScheduleDelta: requeue a little after the start time so it is surely due.
NEXT_SCHEDULE_DELTA = 0.1
NONE_MISSED, FEW_MISSED, MANY_MISSED = 0, 1, 2


def schedule_of(cj: Obj) -> cron.Schedule:
    """formatSchedule + cron.ParseStandard: spec.timeZone becomes a TZ= prefix."""
    spec = cj.get("spec") or {}
    text = spec.get("schedule", "")
    zone = spec.get("timeZone")
    if zone is not None and "TZ" not in text:
        text = f"TZ={zone} {text}"
    return cron.parse_standard(text)


def _time(value: Any, zone: datetime.tzinfo) -> datetime.datetime | None:
    parsed = rfc3339.parse(value)
    return parsed.astimezone(zone) if parsed is not None else None


@dataclasses.dataclass(frozen=True)
class ScheduleTimes:
    earliest: datetime.datetime
    most_recent: datetime.datetime | None  # the latest start time not after now, if any is unmet
    missed: int  # NONE_MISSED, FEW_MISSED, MANY_MISSED


def most_recent_schedule_time(cj: Obj, now: datetime.datetime, sched: cron.Schedule,
                              include_starting_deadline: bool) -> ScheduleTimes:
    """mostRecentScheduleTime: the newest start time between the last one scheduled
    (or the CronJob's creation) and now; raises ValueError for a schedule that fires
    less than a second apart (an invalid one, such as 31 February)."""
    zone = now.tzinfo or datetime.timezone.utc
    earliest = _time((cj.get("metadata") or {}).get("creationTimestamp"), zone) or now
    last = _time((cj.get("status") or {}).get("lastScheduleTime"), zone)
    if last is not None:
        earliest = last
    deadline = (cj.get("spec") or {}).get("startingDeadlineSeconds")
    if include_starting_deadline and deadline is not None:
        scheduling_deadline = now - datetime.timedelta(seconds=int(deadline))
        if scheduling_deadline > earliest:
            earliest = scheduling_deadline
    t1 = sched.next(earliest)
    t2 = sched.next(t1)
    if now < t1:
        return ScheduleTimes(earliest, None, NONE_MISSED)
    if now < t2:
        return ScheduleTimes(earliest, t1, FEW_MISSED)
    between = round((t2 - t1).total_seconds())
    if between < 1:
        raise ValueError("time difference between two schedules is less than 1 second")
    elapsed = int((now - t1).total_seconds())
    missed_count = elapsed // between + 1
    t = datetime.datetime.fromtimestamp(t1.timestamp() + (missed_count - 2) * between, tz=t1.tzinfo)
    most_recent = t
    while t <= now:
        most_recent = t
        t = sched.next(t)
    return ScheduleTimes(earliest, most_recent, MANY_MISSED if missed_count > 100 else FEW_MISSED)


def next_schedule_delay(cj: Obj, now: datetime.datetime, sched: cron.Schedule) -> float:
    """nextScheduleTimeDuration: seconds until the start time after the most recent one."""
    try:
        times = most_recent_schedule_time(cj, now, sched, False)
    except ValueError:
        return 60.0
    base = times.most_recent if times.most_recent is not None else times.earliest
    due = sched.next(base)
    return max((due - now).total_seconds(), 0.0) + NEXT_SCHEDULE_DELTA


def job_name(cj: Obj, scheduled: datetime.datetime) -> str:
    """getJobName: `<cronjob>-<start time in unix minutes>`."""
    return f"{cj['metadata']['name']}-{int(scheduled.timestamp()) // 60}"


def job_from_template(cj: Obj, scheduled: datetime.datetime, zone: datetime.tzinfo) -> Obj:
    """getJobFromTemplate2."""
    template = (cj.get("spec") or {}).get("jobTemplate") or {}
    tmeta = template.get("metadata") or {}
    annotations = dict(tmeta.get("annotations") or {})
    annotations[batch.CRONJOB_SCHEDULED_TIMESTAMP] = scheduled.astimezone(zone).isoformat(timespec="seconds") \
        .replace("+00:00", "Z")
    meta: Obj = {"name": job_name(cj, scheduled), "annotations": annotations,
                 "ownerReferences": [{"apiVersion": "batch/v1", "kind": "CronJob", "name": cj["metadata"]["name"],
                                      "uid": cj["metadata"]["uid"], "controller": True,
                                      "blockOwnerDeletion": True}]}
    if tmeta.get("labels"):
        meta["labels"] = dict(tmeta["labels"])
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": meta,
            "spec": copy.deepcopy(template.get("spec") or {})}


def job_ref(job: Obj) -> Obj:
    """The ObjectReference kept in status.active."""
    meta = job["metadata"]
    return {"kind": "Job", "namespace": meta.get("namespace"), "name": meta["name"], "uid": meta["uid"],
            "apiVersion": "batch/v1", "resourceVersion": meta.get("resourceVersion", "")}


def in_active_list(cj: Obj, uid: str) -> bool:
    return any(ref.get("uid") == uid for ref in (cj.get("status") or {}).get("active") or [])


def in_active_list_by_name(cj: Obj, name: str) -> bool:
    return any(ref.get("name") == name for ref in (cj.get("status") or {}).get("active") or [])


def delete_from_active_list(cj: Obj, uid: str) -> None:
    status = cj.setdefault("status", {})
    status["active"] = [ref for ref in status.get("active") or [] if ref.get("uid") != uid]
    if not status["active"]:
        del status["active"]


def finished_type(job: Obj) -> str | None:
    """FinishedCondition: "Complete" or "Failed" when the Job has that condition True."""
    for cond in (job.get("status") or {}).get("conditions") or []:
        if cond.get("type") in (batch.COMPLETE, batch.FAILED) and cond.get("status") == "True":
            return str(cond["type"])
    return None


def by_start_time(job: Obj) -> tuple[int, float, str]:
    """byJobStartTime: Jobs without a start time last, then by start time, then by name."""
    start = rfc3339.parse_epoch((job.get("status") or {}).get("startTime"))
    return (1 if start is None else 0, start or 0.0, job["metadata"]["name"])
