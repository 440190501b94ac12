"""The CronJob controller (v2) with a test clock: schedules, concurrency policies,
deadlines, history limits and time zones, against the in-memory API."""
from __future__ import annotations

import copy
import datetime
from typing import Any

import pytest

from minik8s.api import cron
from minik8s.api import kinds
from minik8s.api import resources
from minik8s.api import rfc3339
from minik8s.api import strategy
from minik8s.controllers.cronjob import controller as cronjob_mod
from minik8s.controllers.cronjob import util
from tests.unit import controller_fakes

Obj = dict[str, Any]
CRONJOBS = resources.must("batch", "v1", "cronjobs")
JOBS = resources.must("batch", "v1", "jobs")
UTC = datetime.timezone.utc
# Created 30 s into a minute: the first "*/1" start time is 30 s later.
CREATED = datetime.datetime(2024, 5, 1, 12, 0, 30, tzinfo=UTC).timestamp()


def make_cronjob(name: str = "tick", **spec: Any) -> Obj:
    body: Obj = {"metadata": {"name": name, "namespace": "default", "uid": f"uid-{name}",
                              "creationTimestamp": rfc3339.format(CREATED)},
                 "spec": {"schedule": "*/1 * * * *", "jobTemplate": {
                     "metadata": {"labels": {"run": name}},
                     "spec": {"template": {"spec": {"restartPolicy": "OnFailure", "containers": [
                         {"name": "c", "image": "minik8s/busybox:1"}]}}}}, **spec}}
    s = kinds.for_resource(CRONJOBS)
    s.defaults(CRONJOBS, body, None, strategy.DEFAULT_SETTINGS)
    s.prepare_for_create(CRONJOBS, body)
    kinds.validate(CRONJOBS, body)
    return body


class Harness:
    def __init__(self, cj: Obj) -> None:
        self.now = CREATED
        self.api = controller_fakes.FakeApi(lambda: self.now)
        self.events = controller_fakes.Events()
        self.ctrl = cronjob_mod.CronJobController(
            self.api, self.api.informer(CRONJOBS), self.api.informer(JOBS), self.events,  # type: ignore[arg-type]
            clock=lambda: self.now, zone=UTC)
        self.requeued: list[float] = []
        self.ctrl.enqueue_after = lambda key, delay: self.requeued.append(delay)  # type: ignore[method-assign]
        self.api.add(CRONJOBS, cj)
        self.name = cj["metadata"]["name"]

    async def sync(self) -> Obj:
        await self.ctrl.sync(f"default/{self.name}")
        return self.cj

    @property
    def cj(self) -> Obj:
        found = self.api.get_obj(CRONJOBS, self.name)
        assert found is not None
        return found

    def jobs(self) -> list[Obj]:
        return sorted(self.api.objects(JOBS), key=lambda j: j["metadata"]["name"])

    async def finish(self, job: Obj, type_: str = "Complete", *, started: float | None = None) -> None:
        current = copy.deepcopy(self.api.get_obj(JOBS, job["metadata"]["name"]))
        assert current is not None
        current["status"] = {"startTime": rfc3339.format(started or self.now),
                             "conditions": [{"type": type_, "status": "True"}]}
        if type_ == "Complete":
            current["status"]["completionTime"] = rfc3339.format(self.now)
        await self.api.update_status(JOBS, current)


def minute(n: int) -> float:
    """Epoch of 12:0n:00 on the test day."""
    return datetime.datetime(2024, 5, 1, 12, n, 0, tzinfo=UTC).timestamp()


async def test_nothing_before_the_first_start_time_then_requeue_for_it() -> None:
    h = Harness(make_cronjob())
    await h.sync()
    assert h.jobs() == [] and h.requeued[-1] == pytest.approx(30.1)


async def test_a_job_per_start_time() -> None:
    h = Harness(make_cronjob())
    h.now = minute(1) + 2
    cj = await h.sync()
    [job] = h.jobs()
    assert job["metadata"]["name"] == f"tick-{int(minute(1)) // 60}"
    assert job["metadata"]["labels"] == {"run": "tick"}
    assert job["metadata"]["annotations"]["batch.kubernetes.io/cronjob-scheduled-timestamp"] == \
        "2024-05-01T12:01:00Z"
    assert job["metadata"]["ownerReferences"][0]["kind"] == "CronJob"
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "OnFailure"
    assert cj["status"]["lastScheduleTime"] == "2024-05-01T12:01:00Z"
    assert [a["name"] for a in cj["status"]["active"]] == [job["metadata"]["name"]]
    assert h.requeued[-1] == pytest.approx(58.1)
    assert ("CronJob/tick", "Normal", "SuccessfulCreate", f"Created job {job['metadata']['name']}") in \
        h.events.events
    await h.sync()  # the same start time again: nothing new
    assert len(h.jobs()) == 1
    h.now = minute(2) + 1
    await h.sync()
    assert len(h.jobs()) == 2  # Allow: runs overlap


async def test_finished_job_leaves_active_and_sets_last_successful_time() -> None:
    h = Harness(make_cronjob())
    h.now = minute(1) + 1
    await h.sync()
    h.now += 10
    await h.finish(h.jobs()[0])
    cj = await h.sync()
    assert "active" not in cj["status"]
    assert "SawCompletedJob" in h.events.reasons()
    # As upstream, the next sync (the status write wakes it) records the success time.
    cj = await h.sync()
    assert cj["status"]["lastSuccessfulTime"] == rfc3339.format(h.now)


@pytest.mark.parametrize("policy,expected_jobs,reason", [
    ("Forbid", 1, "JobAlreadyActive"),
    ("Replace", 1, "SuccessfulDelete"),
    ("Allow", 2, "SuccessfulCreate"),
])
async def test_concurrency_policy(policy: str, expected_jobs: int, reason: str) -> None:
    h = Harness(make_cronjob(concurrencyPolicy=policy))
    h.now = minute(1) + 1
    await h.sync()
    first = h.jobs()[0]["metadata"]["name"]
    h.now = minute(2) + 1
    cj = await h.sync()
    names = [j["metadata"]["name"] for j in h.jobs()]
    assert len(names) == expected_jobs and reason in h.events.reasons()
    if policy == "Replace":
        assert first not in names and [a["name"] for a in cj["status"]["active"]] == names
    if policy == "Forbid":
        assert names == [first]


async def test_suspend_and_starting_deadline() -> None:
    h = Harness(make_cronjob(suspend=True))
    h.now = minute(5)
    await h.sync()
    assert h.jobs() == []
    h = Harness(make_cronjob(startingDeadlineSeconds=10))
    h.now = minute(1) + 30  # 30 s late for 12:01, with 10 s allowed: skipped
    await h.sync()
    assert h.jobs() == [] and h.requeued[-1] == pytest.approx(30.1)
    h.now = minute(2) + 5
    await h.sync()
    assert len(h.jobs()) == 1


async def test_too_many_missed_start_times_run_only_the_latest() -> None:
    h = Harness(make_cronjob())
    h.now = minute(0) + 200 * 60 + 5  # 200 minutes of missed start times
    cj = await h.sync()
    assert len(h.jobs()) == 1 and "TooManyMissedTimes" in h.events.reasons()
    assert rfc3339.parse_epoch(cj["status"]["lastScheduleTime"]) == minute(0) + 200 * 60


async def test_history_limits_delete_the_oldest() -> None:
    h = Harness(make_cronjob(successfulJobsHistoryLimit=1, failedJobsHistoryLimit=1))
    for n in (1, 2, 3):
        h.now = minute(n) + 1
        await h.sync()
        await h.finish(h.jobs()[-1], "Complete" if n != 2 else "Failed", started=h.now)
    h.now = minute(3) + 30
    await h.sync()
    remaining = [j["metadata"]["name"] for j in h.jobs()]
    assert remaining == [f"tick-{int(minute(2)) // 60}", f"tick-{int(minute(3)) // 60}"]


async def test_missing_active_job_is_dropped_and_already_existing_job_is_adopted_into_status() -> None:
    h = Harness(make_cronjob())
    h.now = minute(1) + 1
    await h.sync()
    h.api._remove(JOBS, h.jobs()[0])
    cj = await h.sync()
    assert "MissingJob" in h.events.reasons() and "active" not in cj["status"]
    # A previous attempt created the Job but died before writing status: no duplicate.
    h2 = Harness(make_cronjob())
    h2.now = minute(1) + 1
    cj2 = h2.cj
    await h2.api.create(JOBS, util.job_from_template(cj2, datetime.datetime.fromtimestamp(minute(1), UTC), UTC),
                        "default")
    h2.api.informer(JOBS).store.clear()  # the cache has not seen it yet
    cj2 = await h2.sync()
    assert [a["name"] for a in cj2["status"]["active"]] == [f"tick-{int(minute(1)) // 60}"]


async def test_time_zone() -> None:
    h = Harness(make_cronjob(schedule="0 9 * * *", timeZone="Europe/Paris"))
    h.now = datetime.datetime(2024, 5, 1, 7, 0, 5, tzinfo=UTC).timestamp() + 86400  # 09:00:05 in Paris, next day
    await h.sync()
    [job] = h.jobs()
    assert job["metadata"]["annotations"]["batch.kubernetes.io/cronjob-scheduled-timestamp"] == \
        "2024-05-02T09:00:00+02:00"


def test_most_recent_schedule_time_table() -> None:
    sched = cron.parse_standard("*/10 * * * *")
    cj = make_cronjob()
    cj["metadata"]["creationTimestamp"] = "2024-05-01T12:00:00Z"
    at = lambda h, m, s=0: datetime.datetime(2024, 5, 1, h, m, s, tzinfo=UTC)  # noqa: E731
    assert util.most_recent_schedule_time(cj, at(12, 5), sched, False).most_recent is None
    assert util.most_recent_schedule_time(cj, at(12, 15), sched, False).most_recent == at(12, 10)
    times = util.most_recent_schedule_time(cj, at(13, 5), sched, False)
    assert times.most_recent == at(13, 0) and times.missed == util.FEW_MISSED
    cj["status"] = {"lastScheduleTime": "2024-05-01T13:00:00Z"}
    assert util.most_recent_schedule_time(cj, at(13, 5), sched, False).most_recent is None
    cj["spec"]["startingDeadlineSeconds"] = 60
    cj["status"] = {}
    assert util.most_recent_schedule_time(cj, at(13, 5), sched, True).most_recent is None
    assert util.next_schedule_delay(cj, at(13, 5), sched) == pytest.approx(300.1)
