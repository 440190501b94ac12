"""The Job controller against an in-memory API (tests/unit/controller_fakes.py).

Each test builds a Job as the API server would store it, calls `sync` (and
plays the kubelet by moving pods to Succeeded or Failed), and checks what
Kubernetes' job controller does in the same situation: pods created up to
parallelism, the tracking finalizer, counting through uncountedTerminatedPods,
the interim SuccessCriteriaMet/FailureTarget conditions before Complete/Failed,
backoffLimit, activeDeadlineSeconds, suspend, Indexed Jobs and the pod failure
policy. Tables follow upstream's TestControllerSyncJob where they fit.
"""
from __future__ import annotations

import copy
from typing import Any

import pytest

from minik8s.api import conditions
from minik8s.api import kinds
from minik8s.api import resources
from minik8s.api import rfc3339
from minik8s.api import strategy
from minik8s.api.kinds import batch
from minik8s.controllers.job import controller as job_mod
from minik8s.controllers.job import util
from tests.unit import controller_fakes

Obj = dict[str, Any]
JOBS = resources.must("batch", "v1", "jobs")
PODS = resources.must("", "v1", "pods")
T0 = 1_700_000_000.0


def make_job(name: str = "pi", **spec: Any) -> Obj:
    body: Obj = {"metadata": {"name": name, "namespace": "default", "uid": f"uid-{name}", "generation": 1},
                 "spec": {"template": {"spec": {"restartPolicy": "Never",
                                                "containers": [{"name": "c", "image": "minik8s/busybox:1"}]}},
                          **spec}}
    s = kinds.for_resource(JOBS)
    s.defaults(JOBS, body, None, strategy.DEFAULT_SETTINGS)
    s.prepare_for_create(JOBS, body)
    kinds.validate(JOBS, body)
    return body


class Harness:
    def __init__(self, job: Obj, *, batch_period: float = 0.0) -> None:
        self.now = T0
        self.api = controller_fakes.FakeApi(lambda: self.now)
        self.pc = controller_fakes.FakePodControl(self.api)
        self.ctrl = job_mod.JobController(self.api, self.api.informer(JOBS), self.api.informer(PODS), self.pc,
                                          clock=lambda: self.now, batch_period=batch_period)
        self.requeued: list[tuple[str, float]] = []
        self.ctrl.enqueue_after = lambda key, delay: self.requeued.append((key, delay))  # type: ignore[method-assign]
        self.api.add(JOBS, job)
        self.key = f"default/{job['metadata']['name']}"

    async def sync(self) -> Obj:
        await self.ctrl.sync(self.key)
        # Keys queued by handlers (status writes coming back, finalizer clean-up) run too;
        # a controller that keeps writing would never leave this loop.
        for _ in range(20):
            if not len(self.ctrl.queue):
                break
            key = await self.ctrl.queue.get()
            self.ctrl.queue.done(key)
            await self.ctrl.sync(key)
        else:
            raise AssertionError("the controller does not settle: every sync writes again")
        return self.job

    @property
    def job(self) -> Obj:
        found = self.api.get_obj(JOBS, self.key.split("/")[1])
        assert found is not None
        return found

    def pods(self, *, active: bool | None = None) -> list[Obj]:
        out = sorted(self.api.objects(PODS), key=lambda p: p["metadata"]["name"])
        if active is None:
            return out
        return [p for p in out if (util.phase(p) not in ("Succeeded", "Failed")
                                   and not p["metadata"].get("deletionTimestamp")) == active]

    async def finish(self, pod: Obj, phase: str, exit_code: int | None = None) -> None:
        """The kubelet reports the pod finished."""
        code = exit_code if exit_code is not None else (0 if phase == "Succeeded" else 1)
        status = {"phase": phase, "containerStatuses": [{"name": "c", "state": {"terminated": {
            "exitCode": code, "finishedAt": rfc3339.format(self.now)}}}]}
        current = self.api.get_obj(PODS, pod["metadata"]["name"])
        assert current is not None
        await self.api.update_status(PODS, {**copy.deepcopy(current), "status": status})

    async def run(self, pod: Obj, ready: bool = True) -> None:
        current = self.api.get_obj(PODS, pod["metadata"]["name"])
        assert current is not None
        status = {"phase": "Running", "conditions": [{"type": "Ready", "status": "True" if ready else "False",
                                                        "lastTransitionTime": rfc3339.format(self.now)}]}
        await self.api.update_status(PODS, {**copy.deepcopy(current), "status": status})

    async def kubelet_removes_deleted(self) -> None:
        """Pods being deleted end (Failed, as our kubelet reports them), then the final delete."""
        for pod in self.pods():
            if pod["metadata"].get("deletionTimestamp"):
                if util.phase(pod) not in ("Succeeded", "Failed"):
                    await self.finish(pod, "Failed", 137)
                await self.api.final_delete(PODS, pod["metadata"]["name"])


def cond(job: Obj, type_: str) -> Obj | None:
    found: Obj | None = conditions.get(job, type_)
    return found


# -- creating ----------------------------------------------------------------------------------


@pytest.mark.parametrize("spec,expected", [
    ({}, 1),
    ({"parallelism": 2, "completions": 4}, 2),
    ({"parallelism": 5, "completions": 3}, 3),
    ({"parallelism": 3}, 3),  # no completions: a work queue of `parallelism` workers
    ({"parallelism": 0, "completions": 4}, 0),
    ({"parallelism": 2, "completions": 4, "suspend": True}, 0),
])
async def test_creates_up_to_parallelism(spec: Obj, expected: int) -> None:
    h = Harness(make_job(**spec))
    job = await h.sync()
    pods = h.pods()
    assert len(pods) == expected
    assert job["status"]["active"] == expected
    for pod in pods:
        assert pod["metadata"]["finalizers"] == [batch.JOB_TRACKING_FINALIZER]
        assert pod["metadata"]["generateName"] == "pi-"
        assert pod["metadata"]["labels"]["batch.kubernetes.io/job-name"] == "pi"
        assert pod["metadata"]["ownerReferences"][0]["kind"] == "Job"
    if not spec.get("suspend"):
        assert job["status"]["startTime"] == rfc3339.format(T0)
    else:
        assert "startTime" not in job["status"]
        assert cond(job, "Suspended")["reason"] == "JobSuspended"  # type: ignore[index]


async def test_expectations_hold_back_a_second_create() -> None:
    h = Harness(make_job(parallelism=2, completions=4))
    await h.sync()
    # The cache lost sight of the pods (a slow watch): the expectations still cover them.
    h.ctrl.expectations.expect_creations(h.key, 2)
    h.api.informer(PODS).store.clear()
    await h.ctrl.sync(h.key)
    assert len(h.pc.created) == 2


async def test_parallelism_2_completions_4_runs_to_complete() -> None:
    h = Harness(make_job(parallelism=2, completions=4))
    await h.sync()
    for _round in range(2):
        for pod in h.pods(active=True):
            await h.run(pod)
        job = await h.sync()
        assert job["status"]["ready"] == 2
        for pod in h.pods(active=True):
            await h.finish(pod, "Succeeded")
        h.now += 5
        job = await h.sync()
    assert len(h.pc.created) == 4
    assert job["status"]["succeeded"] == 4 and job["status"]["active"] == 0
    assert job["status"]["uncountedTerminatedPods"] == {}
    assert cond(job, "SuccessCriteriaMet")["status"] == "True"  # type: ignore[index]
    assert cond(job, "Complete")["status"] == "True"  # type: ignore[index]
    assert job["status"]["completionTime"] == rfc3339.format(h.now)
    assert batch.job_status_word(job) == "Complete"
    # Every pod lost its finalizer once counted; nothing is counted twice on a resync.
    assert all(not p["metadata"].get("finalizers") for p in h.pods())
    assert (await h.sync())["status"]["succeeded"] == 4


async def test_counting_goes_through_uncounted_terminated_pods() -> None:
    h = Harness(make_job(completions=1))
    await h.sync()
    pod = h.pods()[0]
    await h.finish(pod, "Succeeded")
    writes: list[Obj] = []
    real = h.api.update_status

    async def record(res: Any, obj: Obj) -> Obj:
        if res.plural == "jobs":
            writes.append(copy.deepcopy(obj["status"]))
        return await real(res, obj)

    h.api.update_status = record  # type: ignore[method-assign]
    await h.sync()
    # First the uid is recorded as uncounted, then (finalizer removed) counted.
    assert writes[0]["uncountedTerminatedPods"] == {"succeeded": [pod["metadata"]["uid"]]}
    assert "succeeded" not in writes[0]
    assert writes[-1]["succeeded"] == 1 and writes[-1]["uncountedTerminatedPods"] == {}
    patches = [c for c in h.api.calls if c[0] == "patch"]
    assert patches == [("patch", "pods", pod["metadata"]["name"])]


async def test_a_failed_finalizer_removal_keeps_the_uid_uncounted() -> None:
    h = Harness(make_job(completions=1))
    await h.sync()
    pod = h.pods()[0]
    await h.finish(pod, "Succeeded")
    h.api.fail[("patch", "pods")] = job_mod.errors.ServiceUnavailable("etcd is slow")
    with pytest.raises(job_mod.errors.ServiceUnavailable):
        await h.sync()
    job = h.job
    assert job["status"]["uncountedTerminatedPods"] == {"succeeded": [pod["metadata"]["uid"]]}
    assert not job["status"].get("succeeded")
    job = await h.sync()
    assert job["status"]["succeeded"] == 1 and cond(job, "Complete") is not None


async def test_backoff_limit_fails_the_job_after_its_pods_are_gone() -> None:
    h = Harness(make_job(backoffLimit=1, parallelism=2, completions=4))
    await h.sync()
    first, second = h.pods()
    await h.finish(first, "Failed")
    job = await h.sync()
    assert job["status"]["failed"] == 1 and cond(job, "FailureTarget") is None
    # The replacement waits for the pod failure back-off (10 s after the failure).
    assert len(h.pods(active=True)) == 1
    assert any(delay == pytest.approx(10.0) for _, delay in h.requeued)
    h.now += 11
    await h.sync()
    assert len(h.pods(active=True)) == 2
    await h.finish(second, "Failed")
    job = await h.sync()
    target = cond(job, "FailureTarget")
    assert target is not None and target["reason"] == "BackoffLimitExceeded"
    assert target["message"] == "Job has reached the specified backoff limit"
    assert cond(job, "Failed") is None  # a pod is still terminating
    assert all(p["metadata"].get("deletionTimestamp") for p in h.pods(active=False) if util.phase(p) == "Running")
    await h.kubelet_removes_deleted()
    job = await h.sync()
    failed = cond(job, "Failed")
    assert failed is not None and failed["reason"] == "BackoffLimitExceeded"
    assert job["status"]["failed"] == 3 and job["status"]["active"] == 0
    assert "completionTime" not in job["status"]
    assert not h.pods(active=True) and all(not p["metadata"].get("finalizers") for p in h.pods())


async def test_active_deadline() -> None:
    h = Harness(make_job(activeDeadlineSeconds=30, parallelism=2, completions=2))
    await h.sync()
    assert (h.key, pytest.approx(30.0)) in h.requeued
    h.now += 31
    job = await h.sync()
    assert cond(job, "FailureTarget")["reason"] == "DeadlineExceeded"  # type: ignore[index]
    await h.kubelet_removes_deleted()
    job = await h.sync()
    failed = cond(job, "Failed")
    assert failed is not None and failed["message"] == "Job was active longer than specified deadline"
    assert batch.job_status_word(job) == "Failed"


async def test_suspend_deletes_pods_uncounted_and_resume_resets_start_time() -> None:
    h = Harness(make_job(parallelism=2, completions=4))
    await h.sync()
    job = copy.deepcopy(h.job)
    job["spec"]["suspend"] = True
    await h.api.update(JOBS, job)
    job = await h.sync()
    assert cond(job, "Suspended")["status"] == "True"  # type: ignore[index]
    assert not h.pods(active=True)
    # Deleted for suspension: finalizers removed first, so they are not failures.
    await h.kubelet_removes_deleted()
    job = await h.sync()
    assert not job["status"].get("failed")
    h.now += 100
    job = copy.deepcopy(h.job)
    job["spec"]["suspend"] = False
    await h.api.update(JOBS, job)
    job = await h.sync()
    resumed = cond(job, "Suspended")
    assert resumed is not None and resumed["status"] == "False" and resumed["reason"] == "JobResumed"
    assert job["status"]["startTime"] == rfc3339.format(h.now)
    assert len(h.pods(active=True)) == 2


async def test_indexed_job() -> None:
    h = Harness(make_job(completionMode="Indexed", completions=3, parallelism=2))
    await h.sync()
    pods = h.pods()
    assert sorted(util.completion_index(p) for p in pods) == [0, 1]
    pod0 = next(p for p in pods if util.completion_index(p) == 0)
    assert pod0["metadata"]["generateName"] == "pi-0-"
    assert pod0["spec"]["hostname"] == "pi-0"
    assert pod0["metadata"]["labels"][batch.COMPLETION_INDEX_ANNOTATION] == "0"
    env = pod0["spec"]["containers"][0]["env"]
    assert env == [{"name": "JOB_COMPLETION_INDEX", "valueFrom": {"fieldRef": {
        "apiVersion": "v1", "fieldPath": "metadata.annotations['batch.kubernetes.io/job-completion-index']"}}}]
    await h.finish(pod0, "Succeeded")
    job = await h.sync()
    assert job["status"]["completedIndexes"] == "0" and job["status"]["succeeded"] == 1
    assert sorted(util.completion_index(p) for p in h.pods(active=True)) == [1, 2]
    for pod in h.pods(active=True):
        await h.finish(pod, "Succeeded")
    job = await h.sync()
    assert job["status"]["completedIndexes"] == "0-2" and cond(job, "Complete") is not None


async def test_pod_failure_policy() -> None:
    policy = {"rules": [{"action": "Ignore", "onExitCodes": {"operator": "In", "values": [3]}},
                        {"action": "FailJob", "onExitCodes": {"operator": "In", "values": [42]}}]}
    h = Harness(make_job(podFailurePolicy=policy, backoffLimit=0))
    await h.sync()
    await h.finish(h.pods()[0], "Failed", 3)
    job = await h.sync()
    assert not job["status"].get("failed") and cond(job, "FailureTarget") is None  # ignored
    # Replaced after the usual back-off (upstream counts every failed pod there).
    assert not h.pods(active=True)
    h.now += 11
    await h.sync()
    assert len(h.pods(active=True)) == 1
    pod = h.pods(active=True)[0]
    await h.finish(pod, "Failed", 42)
    job = await h.sync()
    failed = cond(job, "Failed")
    assert failed is not None and failed["reason"] == "PodFailurePolicy"
    assert failed["message"] == (f"Container c for pod default/{pod['metadata']['name']} failed with exit code 42 "
                                 "matching FailJob rule at index 1")


async def test_work_queue_job_completes_when_one_pod_succeeded_and_none_run() -> None:
    h = Harness(make_job(parallelism=2))
    await h.sync()
    first, second = h.pods()
    await h.finish(first, "Succeeded")
    job = await h.sync()
    assert cond(job, "Complete") is None and len(h.pods(active=True)) == 1  # the other keeps running
    await h.finish(second, "Succeeded")
    job = await h.sync()
    assert cond(job, "Complete") is not None and job["status"]["succeeded"] == 2


async def test_orphan_pod_loses_its_finalizer() -> None:
    h = Harness(make_job())
    await h.sync()
    pod = h.pods()[0]
    # The Job goes (cascading delete will follow): its pod must not keep the finalizer.
    h.api._remove(JOBS, h.job)
    keys = []
    while len(h.ctrl.queue):
        keys.append(await h.ctrl.queue.get())
        h.ctrl.queue.done(keys[-1])
    assert keys == ["default/pi", f"orphan:default/{pod['metadata']['name']}"]
    for key in keys:
        await h.ctrl.sync(key)
    assert not h.api.get_obj(PODS, pod["metadata"]["name"])["metadata"].get("finalizers")  # type: ignore[index]


async def test_excess_pods_are_removed_without_counting() -> None:
    h = Harness(make_job(parallelism=3, completions=6))
    await h.sync()
    job = copy.deepcopy(h.job)
    job["spec"]["parallelism"] = 1
    await h.api.update(JOBS, job)
    job = await h.sync()
    assert len(h.pods(active=True)) == 1 and job["status"]["active"] == 1
    await h.kubelet_removes_deleted()
    job = await h.sync()
    assert not job["status"].get("failed")


def test_backoff_record() -> None:
    record = util.BackoffRecord()
    failed = [{"metadata": {"name": "a"}, "status": {"containerStatuses": [
        {"state": {"terminated": {"finishedAt": rfc3339.format(T0)}}}]}}]
    record = record.next([], failed, T0)
    assert record.remaining(T0 + 4) == pytest.approx(6.0)
    record = record.next([], failed, T0)
    assert record.remaining(T0) == pytest.approx(20.0)
    assert util.BackoffRecord(10, T0).remaining(T0) == pytest.approx(360.0)
    assert record.next(failed, [], T0).remaining(T0) == 0.0


@pytest.mark.parametrize("text,completions,expected", [
    ("", 5, []), ("1,3-5", 10, [(1, 1), (3, 5)]), ("0-9", 4, [(0, 3)]), ("2,1,3", 5, [(1, 3)]),
])
def test_index_intervals(text: str, completions: int, expected: list[tuple[int, int]]) -> None:
    parsed = util.parse_indexes(text, completions)
    assert parsed == expected
    assert util.parse_indexes(util.format_indexes(parsed), completions) == expected
