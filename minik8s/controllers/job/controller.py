"""The Job controller: run a Job's pods to completion (pkg/controller/job).

`sync(namespace/name)` follows upstream's syncJob step by step:

1. read the Job from the cache; gone → forget its expectations; finished
   (Complete or Failed) → nothing more to do;
2. claim its pods (adopting matching orphans with the tracking finalizer,
   releasing those that stopped matching);
3. count: active pods, pods newly seen Succeeded/Failed that still carry the
   `batch.kubernetes.io/job-tracking` finalizer, plus those already listed in
   `status.uncountedTerminatedPods`;
4. decide whether the Job is finished: a pod failure policy FailJob rule, the
   backoff limit, the active deadline (FailureTarget, then Failed), or enough
   completions (SuccessCriteriaMet, then Complete). A finishing Job deletes its
   active pods;
5. otherwise, if the expectations are met, `manage_job`: delete surplus pods
   (all of them when suspended) or create missing ones in slow-start batches,
   after the back-off that follows pod failures, with completion indexes for
   Indexed Jobs;
6. `track_status`: record newly finished pods' uids in uncountedTerminatedPods
   (one status write), remove their tracking finalizers (so the pods can go
   away without being miscounted), then move the uids into the succeeded /
   failed counters (another write), and only then set the terminal condition
   and completionTime, once no pod is uncounted or still terminating.

A pod keeps its finalizer until the Job has counted it, so a pod deleted by
someone (or by the garbage collector) between two syncs can never be lost or
counted twice. Orphans (a pod whose Job is gone or finished) get their
finalizer removed through keys `orphan:<namespace>/<name>` on the same queue.
"""
from __future__ import annotations

import asyncio
import copy
import logging
import time
from typing import Any, Callable, Protocol

from minik8s.api import errors
from minik8s.api import owners
from minik8s.api import resources
from minik8s.api import rfc3339
from minik8s.api import selectors
from minik8s.api.kinds import batch
from minik8s.client import events
from minik8s.client import informer as informer_mod
from minik8s.client import rest
from minik8s.controllers import base
from minik8s.controllers import expectations as expectations_mod
from minik8s.controllers import podcontrol
from minik8s.controllers import replicaset
from minik8s.controllers.job import util

log = logging.getLogger(__name__)

Obj = dict[str, Any]

JOBS = resources.must("batch", "v1", "jobs")
PODS = resources.must("", "v1", "pods")
ORPHAN = "orphan:"
# syncJobBatchPeriod: pod events within this window share one sync.
BATCH_PERIOD = 1.0


class JobClient(Protocol):
    """What the controller asks the API server directly (a seam for unit tests)."""

    async def get_or_none(self, res: resources.Resource, name: str, namespace: str | None = None
                          ) -> Obj | None: ...

    async def update_status(self, res: resources.Resource, obj: Obj) -> Obj: ...


class JobController(base.Controller):
    name = "job"
    workers = 5

    def __init__(self, client: JobClient, jobs: informer_mod.Informer, pods: informer_mod.Informer,
                 pod_control: podcontrol.PodControl, recorder: events.EventRecorder | None = None, *,
                 expectations: expectations_mod.Expectations | None = None, clock: Callable[[], float] = time.time,
                 batch_period: float = BATCH_PERIOD, backoff_base: float = util.DEFAULT_BACKOFF,
                 backoff_max: float = util.MAX_BACKOFF) -> None:
        super().__init__()
        self.client = client
        self.jobs = jobs
        self.pods = pods
        self.pod_control = pod_control
        self.recorder = recorder
        self.expectations = expectations or expectations_mod.Expectations()
        self.clock = clock
        self.batch_period = batch_period
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        # job key -> uids whose finalizer removal was asked for and not yet seen.
        self.finalizer_expectations: dict[str, set[str]] = {}
        self.backoff: dict[str, util.BackoffRecord] = {}
        jobs.add_handlers(on_add=self.on_job_add, on_update=self.on_job_update, on_delete=self.on_job_delete)
        pods.add_handlers(on_add=self.on_pod_add, on_update=self.on_pod_update, on_delete=self.on_pod_delete)

    # -- handlers: bookkeeping and enqueueing only ------------------------------------------------

    def _enqueue_batched(self, job: Obj) -> None:
        key = informer_mod.key_of(job)
        if self.batch_period > 0:
            self.enqueue_after(key, self.batch_period)
        else:
            self.enqueue(key)

    def _enqueue_orphan(self, pod: Obj) -> None:
        self.enqueue(ORPHAN + informer_mod.key_of(pod))

    def on_job_add(self, job: Obj) -> None:
        self.enqueue(informer_mod.key_of(job))

    def on_job_update(self, old: Obj, cur: Obj) -> None:
        key = informer_mod.key_of(cur)
        if old["metadata"].get("generation") == cur["metadata"].get("generation"):
            self._enqueue_batched(cur)
        else:
            self.enqueue(key)
        if batch.is_job_finished(cur):
            # A backup: a finished Job's pods must not keep its finalizer.
            self._cleanup_pod_finalizers(cur)
        start = rfc3339.parse_epoch((cur.get("status") or {}).get("startTime"))
        deadline = (cur.get("spec") or {}).get("activeDeadlineSeconds")
        if start is not None and deadline is not None and \
                (old.get("spec") or {}).get("activeDeadlineSeconds") != deadline:
            self.enqueue_after(key, max(start + int(deadline) - self.clock(), 0.0))

    def on_job_delete(self, job: Obj) -> None:
        self.enqueue(informer_mod.key_of(job))
        self._cleanup_pod_finalizers(job)

    def _cleanup_pod_finalizers(self, job: Obj) -> None:
        for pod in self.pods.list(job["metadata"].get("namespace")):
            ref = owners.controller_ref(pod)
            if ref is not None and ref.get("uid") == job["metadata"].get("uid") and util.has_tracking_finalizer(pod):
                self._enqueue_orphan(pod)

    def _resolve(self, namespace: str, ref: Obj) -> Obj | None:
        if ref.get("kind") != JOBS.kind or ref.get("apiVersion") != JOBS.api_version:
            return None
        job = self.jobs.get_by(namespace, ref.get("name", ""))
        if job is None or job["metadata"].get("uid") != ref.get("uid"):
            return None
        return job

    def _jobs_selecting(self, pod: Obj) -> list[Obj]:
        out = []
        for job in self.jobs.list(pod["metadata"].get("namespace")):
            try:
                if _selector(job).matches(pod["metadata"].get("labels")):
                    out.append(job)
            except errors.StatusError:
                continue
        return out

    def _observe_finalizer_removed(self, key: str, uid: str) -> None:
        pending = self.finalizer_expectations.get(key)
        if pending is not None:
            pending.discard(uid)

    def on_pod_add(self, pod: Obj) -> None:
        if pod["metadata"].get("deletionTimestamp"):
            # A restarted manager may list a pod already being deleted: not a creation.
            self.on_pod_delete(pod, final=False)
            return
        ref = owners.controller_ref(pod)
        if ref is not None:
            job = self._resolve(pod["metadata"]["namespace"], ref)
            if job is None:
                if util.has_tracking_finalizer(pod):
                    self._enqueue_orphan(pod)
                return
            self.expectations.creation_observed(informer_mod.key_of(job))
            self._enqueue_batched(job)
            return
        if util.has_tracking_finalizer(pod):
            self._enqueue_orphan(pod)
        for job in self._jobs_selecting(pod):
            self._enqueue_batched(job)

    def on_pod_update(self, old: Obj, cur: Obj) -> None:
        if old["metadata"].get("resourceVersion") == cur["metadata"].get("resourceVersion"):
            return
        if cur["metadata"].get("deletionTimestamp"):
            # Graceful deletion: a replacement may be made now, not when the kubelet is done.
            self.on_pod_delete(cur, final=False)
            return
        finalizer_removed = not util.has_tracking_finalizer(cur)
        cur_ref, old_ref = owners.controller_ref(cur), owners.controller_ref(old)
        ref_changed = cur_ref != old_ref
        if ref_changed and old_ref is not None:
            job = self._resolve(old["metadata"]["namespace"], old_ref)
            if job is not None:
                if finalizer_removed:
                    self._observe_finalizer_removed(informer_mod.key_of(job), cur["metadata"]["uid"])
                self._enqueue_batched(job)
        if cur_ref is not None:
            job = self._resolve(cur["metadata"]["namespace"], cur_ref)
            if job is None:
                if util.has_tracking_finalizer(cur):
                    self._enqueue_orphan(cur)
                return
            if finalizer_removed:
                self._observe_finalizer_removed(informer_mod.key_of(job), cur["metadata"]["uid"])
            self._enqueue_batched(job)
            return
        if util.has_tracking_finalizer(cur):
            self._enqueue_orphan(cur)
        if ref_changed or old["metadata"].get("labels") != cur["metadata"].get("labels"):
            for job in self._jobs_selecting(cur):
                self._enqueue_batched(job)

    def on_pod_delete(self, pod: Obj, final: bool = True) -> None:
        ref = owners.controller_ref(pod)
        has_finalizer = util.has_tracking_finalizer(pod)
        if ref is None:
            if has_finalizer:
                self._enqueue_orphan(pod)
            return
        job = self._resolve(pod["metadata"]["namespace"], ref)
        if job is None or batch.is_job_finished(job):
            if has_finalizer:
                self._enqueue_orphan(pod)
            return
        key = informer_mod.key_of(job)
        self.expectations.deletion_observed(key, replicaset.pod_key(pod))
        if final or not has_finalizer:
            self._observe_finalizer_removed(key, pod["metadata"]["uid"])
        self._enqueue_batched(job)

    # -- sync --------------------------------------------------------------------------------------

    async def sync(self, key: str) -> None:
        if key.startswith(ORPHAN):
            await self.sync_orphan_pod(key[len(ORPHAN):])
            return
        cached = self.jobs.get(key)
        if cached is None:
            self.expectations.delete_expectations(key)
            self.finalizer_expectations.pop(key, None)
            self.backoff.pop(key, None)
            return
        if batch.is_job_finished(cached):
            self.backoff.pop(key, None)
            return
        job = podcontrol.with_type(copy.deepcopy(cached), JOBS)
        spec = job.get("spec") or {}
        if spec.get("completionMode") not in (None, batch.NON_INDEXED, batch.INDEXED):
            self._event(job, "Warning", "UnknownCompletionMode", "Skipped Job sync because completion mode is unknown")
            return
        status = job.setdefault("status", {})
        uncounted = status.setdefault("uncountedTerminatedPods", {})
        now = self.clock()

        satisfied = self.expectations.satisfied(key)
        pods = await self._pods_for_job(job)
        active = [p for p in pods if replicaset.is_pod_active(p)]
        ctx = _Ctx(job=job, pods=pods, active=active, ready=util.count_ready(active),
                   uncounted_succeeded=set(uncounted.get("succeeded") or []),
                   uncounted_failed=set(uncounted.get("failed") or []),
                   expected_rm=set(self.finalizer_expectations.get(key, set())),
                   terminating=sum(1 for p in pods if util.is_terminating(p)))
        n_active = len(active)
        new_succeeded, new_failed = self._new_finished(ctx)
        ctx.succeeded = int(status.get("succeeded") or 0) + len(new_succeeded) + len(ctx.uncounted_succeeded)
        policy = spec.get("podFailurePolicy")
        not_ignored = [p for p in new_failed if util.match_pod_failure_policy(policy, p).count_failed]
        ctx.failed = int(status.get("failed") or 0) + len(not_ignored) + len(ctx.uncounted_failed)
        if not status.get("startTime") and not util.suspended(job):
            status["startTime"] = rfc3339.format(now)
        ctx.new_backoff = self.backoff.get(key, util.BackoffRecord()).next(new_succeeded, new_failed, now)

        manage_error: errors.StatusError | None = None
        finished = ctx.finished_condition = self._success_criteria_met(job)
        if finished is None:
            target = _true_condition(job, batch.FAILURE_TARGET)
            if target is not None:
                finished = util.new_condition(batch.FAILED, "True", target.get("reason", ""),
                                              target.get("message", ""), now)
            else:
                message = self._fail_job_message(job, pods)
                if message is not None:
                    finished = util.new_condition(batch.FAILURE_TARGET, "True", "PodFailurePolicy", message, now)
        if finished is None:
            if ctx.failed > int(spec.get("backoffLimit") or 0) or util.past_backoff_limit_on_failure(job, pods):
                finished = util.new_condition(batch.FAILURE_TARGET, "True", "BackoffLimitExceeded",
                                              "Job has reached the specified backoff limit", now)
            elif self._past_active_deadline(job, now):
                finished = util.new_condition(batch.FAILURE_TARGET, "True", "DeadlineExceeded",
                                              "Job was active longer than specified deadline", now)
            elif spec.get("activeDeadlineSeconds") is not None and not util.suspended(job):
                start = rfc3339.parse_epoch(status.get("startTime")) or now
                self.enqueue_after(key, max(start + int(spec["activeDeadlineSeconds"]) - now, 0.0))
        if util.is_indexed(job):
            ctx.prev_succeeded_indexes, ctx.succeeded_indexes = util.succeeded_indexes(job, pods)
            ctx.succeeded = util.total(ctx.succeeded_indexes)
        ctx.finished_condition = finished

        suspend_changed = False
        if finished is not None:
            deleted_ready, deleted, manage_error = await self._delete_active_pods(job, active)
            if deleted != n_active or not satisfied:
                # Pods to wait for, or pods the cache may not show yet: not finished yet.
                ctx.finished_condition = None
            n_active -= deleted
            ctx.terminating += deleted
            ctx.ready -= deleted_ready
        else:
            manage_called = False
            if satisfied and not job["metadata"].get("deletionTimestamp"):
                try:
                    n_active = await self.manage_job(key, job, ctx)
                except errors.StatusError as e:
                    manage_error = e
                    n_active = ctx.active_after_manage
                manage_called = True
            completions = spec.get("completions")
            if completions is None:
                complete = ctx.succeeded > 0 and n_active == 0
            else:
                complete = ctx.succeeded >= int(completions) and n_active == 0
            if complete:
                ctx.finished_condition = util.new_condition(batch.SUCCESS_CRITERIA_MET, "True", "CompletionsReached",
                                                            "Reached expected number of succeeded pods", now)
            elif manage_called:
                if util.suspended(job):
                    status["conditions"], changed = util.ensure_condition(
                        status.get("conditions") or [], batch.SUSPENDED, "True", "JobSuspended", "Job suspended", now)
                    if changed:
                        suspend_changed = True
                        self._event(job, "Normal", "Suspended", "Job suspended")
                else:
                    status["conditions"], changed = util.ensure_condition(
                        status.get("conditions") or [], batch.SUSPENDED, "False", "JobResumed", "Job resumed", now)
                    if changed:
                        suspend_changed = True
                        self._event(job, "Normal", "Resumed", "Job resumed")
                        # activeDeadlineSeconds counts continuous activity.
                        status["startTime"] = rfc3339.format(now)
                if not status.get("conditions"):
                    status.pop("conditions", None)

        needs_update = suspend_changed or n_active != int(status.get("active") or 0) or \
            ctx.ready != status.get("ready") or ctx.terminating != status.get("terminating")
        status["active"] = n_active
        status["ready"] = ctx.ready
        status["terminating"] = ctx.terminating
        await self.track_status(key, ctx, needs_update)
        if manage_error is not None:
            raise manage_error

    # -- the steps ---------------------------------------------------------------------------------

    async def _pods_for_job(self, job: Obj) -> list[Obj]:
        """getPodsForJob: claim the namespace's pods for this Job."""
        meta = job["metadata"]
        try:
            selector = _selector(job)
        except errors.StatusError:
            return []
        ref = owners.new_controller_ref(job, JOBS.api_version, JOBS.kind)

        async def patch(namespace: str, name: str, body: Obj) -> Obj:
            # Adopting a pod adds the tracking finalizer; releasing one removes it.
            refs = (body.get("metadata") or {}).get("ownerReferences") or []
            if any(r.get("$patch") == "delete" for r in refs):
                body["metadata"]["$deleteFromPrimitiveList/finalizers"] = [batch.JOB_TRACKING_FINALIZER]
            else:
                body["metadata"]["finalizers"] = [batch.JOB_TRACKING_FINALIZER]
            return await self.pod_control.patch_pod(namespace, name, body)

        manager = podcontrol.ControllerRefManager(
            job, ref, selector, patch=patch,
            recheck=lambda: self.client.get_or_none(JOBS, meta["name"], meta["namespace"]),
            record=lambda type_, reason, message: self._event(job, type_, reason, message))
        return await manager.claim(self.pods.list(meta["namespace"]))

    def _new_finished(self, ctx: "_Ctx") -> tuple[list[Obj], list[Obj]]:
        """getNewFinishedPods: finished pods with the finalizer, not yet counted."""
        job = ctx.job
        completions = int((job.get("spec") or {}).get("completions") or 0)
        succeeded, failed = [], []
        for pod in ctx.pods:
            uid = pod["metadata"]["uid"]
            if not util.has_tracking_finalizer(pod) or uid in ctx.expected_rm:
                continue
            if util.is_indexed(job) and not util.valid_index(pod, completions):
                continue
            if util.phase(pod) == "Succeeded" and uid not in ctx.uncounted_succeeded:
                succeeded.append(pod)
            elif util.is_pod_failed(pod, job) and uid not in ctx.uncounted_failed:
                failed.append(pod)
        return succeeded, failed

    @staticmethod
    def _success_criteria_met(job: Obj) -> Obj | None:
        cond = _true_condition(job, batch.SUCCESS_CRITERIA_MET)
        return dict(cond) if cond is not None else None

    @staticmethod
    def _fail_job_message(job: Obj, pods: list[Obj]) -> str | None:
        policy = (job.get("spec") or {}).get("podFailurePolicy")
        if policy is None:
            return None
        for pod in pods:
            if util.is_pod_failed(pod, job):
                match = util.match_pod_failure_policy(policy, pod)
                if match.fail_job_message is not None:
                    return match.fail_job_message
        return None

    @staticmethod
    def _past_active_deadline(job: Obj, now: float) -> bool:
        deadline = (job.get("spec") or {}).get("activeDeadlineSeconds")
        start = rfc3339.parse_epoch((job.get("status") or {}).get("startTime"))
        if deadline is None or start is None or util.suspended(job):
            return False
        return now - start >= int(deadline)

    async def _delete_active_pods(self, job: Obj, pods: list[Obj]) -> tuple[int, int, errors.StatusError | None]:
        """deleteActivePods: DELETE keeps the finalizer; track_status removes it later."""
        results = await asyncio.gather(*(self._delete(job, p) for p in pods), return_exceptions=True)
        deleted = deleted_ready = 0
        first: errors.StatusError | None = None
        for pod, result in zip(pods, results):
            if isinstance(result, errors.StatusError) and not isinstance(result, errors.NotFound):
                first = first or result
                continue
            if isinstance(result, BaseException) and not isinstance(result, errors.NotFound):
                raise result
            deleted += 1
            if util.count_ready([pod]):
                deleted_ready += 1
        return deleted_ready, deleted, first

    async def _delete(self, job: Obj, pod: Obj) -> None:
        await self.pod_control.delete_pod(job["metadata"]["namespace"], pod["metadata"]["name"], job)

    async def manage_job(self, key: str, job: Obj, ctx: "_Ctx") -> int:
        """Create or delete pods towards the wanted number of active pods; the new active count."""
        spec = job.get("spec") or {}
        active = len(ctx.active)
        ctx.active_after_manage = active
        parallelism = int(spec.get("parallelism") or 0)
        if util.suspended(job):
            victims = util.active_pods_for_removal(job, ctx.active, active)
            return await self._delete_job_pods(key, job, ctx, victims, active)
        completions = spec.get("completions")
        if completions is None:
            want = active if ctx.succeeded > 0 else parallelism
        else:
            want = max(min(int(completions) - ctx.succeeded, parallelism), 0)
        at_least = max(active - want, 0)
        victims = util.active_pods_for_removal(job, ctx.active, at_least)[:util.MAX_POD_CREATE_DELETE_PER_SYNC]
        if victims:
            # Creations and deletions never share a sync; deletions go first.
            return await self._delete_job_pods(key, job, ctx, victims, active)
        terminating = ctx.terminating if util.only_replace_failed_pods(job) else 0
        diff = want - terminating - active
        if diff <= 0:
            return active
        remaining = ctx.new_backoff.remaining(self.clock(), self.backoff_base, self.backoff_max)
        if remaining > 0:
            self.enqueue_after(key, remaining)
            return active
        diff = min(diff, util.MAX_POD_CREATE_DELETE_PER_SYNC)
        indexes: list[int] = []
        if util.is_indexed(job):
            indexes = util.first_pending_indexes(job, ctx.active, ctx.succeeded_indexes, diff)
            diff = len(indexes)
            if diff == 0:
                return active
        self.expectations.expect_creations(key, diff)
        log.info("job %s: too few pods running (need %d, have %d): creating %d", key, want, active, diff)
        template = copy.deepcopy(spec.get("template") or {})
        if util.is_indexed(job):
            util.add_completion_index_env(template)
        finalizers = template.setdefault("metadata", {}).setdefault("finalizers", [])
        if batch.JOB_TRACKING_FINALIZER not in finalizers:
            finalizers.append(batch.JOB_TRACKING_FINALIZER)
        ref = owners.new_controller_ref(job, JOBS.api_version, JOBS.kind)
        pending = list(indexes)
        name = job["metadata"]["name"]

        async def create() -> None:
            pod_template, generate_name = template, ""
            if pending:
                pod_template, generate_name = util.with_index(copy.deepcopy(template), name, pending.pop(0))
            await self.pod_control.create_pods(job["metadata"]["namespace"], pod_template, job, ref,
                                               generate_name=generate_name)

        successes, error = await replicaset.slow_start_batch(diff, replicaset.SLOW_START_INITIAL_BATCH, create)
        for _ in range(diff - successes):
            self.expectations.creation_observed(key)
        ctx.active_after_manage = active + successes
        if error is not None and not replicaset._namespace_terminating(error):  # noqa: SLF001
            raise error
        return active + successes

    async def _delete_job_pods(self, key: str, job: Obj, ctx: "_Ctx", victims: list[Obj], active: int) -> int:
        """deleteJobPods: remove the tracking finalizer, then delete (these pods are not counted)."""
        self.expectations.expect_deletions(key, [replicaset.pod_key(p) for p in victims])

        async def one(pod: Obj) -> None:
            try:
                if util.has_tracking_finalizer(pod):
                    await self.pod_control.patch_pod(pod["metadata"]["namespace"], pod["metadata"]["name"],
                                                     util.remove_finalizer_patch())
                await self._delete(job, pod)
            except errors.StatusError:
                self.expectations.deletion_observed(key, replicaset.pod_key(pod))
                raise

        results = await asyncio.gather(*(one(p) for p in victims), return_exceptions=True)
        removed = removed_ready = 0
        first: errors.StatusError | None = None
        for pod, result in zip(victims, results):
            if isinstance(result, errors.NotFound):
                result = None
            if isinstance(result, errors.StatusError):
                first = first or result
                continue
            if isinstance(result, BaseException):
                raise result
            removed += 1
            removed_ready += util.count_ready([pod])
        ctx.terminating += removed
        ctx.ready -= removed_ready
        ctx.active_after_manage = active - removed
        if first is not None:
            raise first
        return active - removed

    # -- status and finalizers -------------------------------------------------------------------

    async def track_status(self, key: str, ctx: "_Ctx", needs_flush: bool) -> None:
        """trackJobStatusAndRemoveFinalizers (see the module docstring, step 6)."""
        job = ctx.job
        status = job["status"]
        uncounted = status["uncountedTerminatedPods"]
        indexed = util.is_indexed(job)
        completions = int((job.get("spec") or {}).get("completions") or 0)
        pods = sorted(ctx.pods, key=util.completion_index) if indexed else ctx.pods
        with_finalizer = {p["metadata"]["uid"] for p in pods
                          if util.has_tracking_finalizer(p) and p["metadata"]["uid"] not in ctx.expected_rm}
        old_counters = _counters(status)
        if _clean_uncounted(status, with_finalizer):
            needs_flush = True
        to_remove: list[Obj] = []
        new_indexes: list[int] = []
        policy = (job.get("spec") or {}).get("podFailurePolicy")
        finishing_failed = ctx.finished_condition is not None and \
            ctx.finished_condition.get("type") != batch.SUCCESS_CRITERIA_MET
        for pod in pods:
            uid = pod["metadata"]["uid"]
            if not util.has_tracking_finalizer(pod) or uid in ctx.expected_rm:
                continue
            failed = util.is_pod_failed(pod, job)
            if not (job["metadata"].get("deletionTimestamp") or ctx.finished_condition is not None
                    or util.phase(pod) == "Succeeded" or failed):
                continue
            to_remove.append(pod)
            if util.phase(pod) == "Succeeded" and uid not in ctx.uncounted_failed:
                if indexed:
                    index = util.completion_index(pod)
                    if index != util.UNKNOWN_INDEX and index < completions and \
                            not util.has_index(ctx.prev_succeeded_indexes, index):
                        new_indexes.append(index)
                        needs_flush = True
                elif uid not in ctx.uncounted_succeeded:
                    needs_flush = True
                    uncounted.setdefault("succeeded", []).append(uid)
            elif failed or finishing_failed:
                # A finishing (failed) Job counts every pod it stops as failed.
                if uid not in ctx.uncounted_failed and (not indexed or util.valid_index(pod, completions)):
                    if util.match_pod_failure_policy(policy, pod).count_failed:
                        needs_flush = True
                        uncounted.setdefault("failed", []).append(uid)
            if len(new_indexes) + len(uncounted.get("succeeded") or []) + len(uncounted.get("failed") or []) \
                    >= util.MAX_UNCOUNTED_PODS:
                break
        if indexed:
            ctx.succeeded_indexes = util.merge_intervals([*ctx.succeeded_indexes, *((i, i) for i in new_indexes)])
            text = util.format_indexes(ctx.succeeded_indexes)
            if text != (status.get("completedIndexes") or ""):
                needs_flush = True
            status["succeeded"] = util.total(ctx.succeeded_indexes)
            status["completedIndexes"] = text
        now = self.clock()
        finished = ctx.finished_condition
        if finished is not None and finished.get("type") == batch.FAILURE_TARGET:
            status["conditions"] = [*(status.get("conditions") or []), finished]
            needs_flush = True
            finished = util.new_condition(batch.FAILED, "True", finished.get("reason", ""),
                                          finished.get("message", ""), now)
        elif finished is not None and finished.get("type") == batch.SUCCESS_CRITERIA_MET:
            if _true_condition(job, batch.SUCCESS_CRITERIA_MET) is None:
                status["conditions"] = [*(status.get("conditions") or []), finished]
                needs_flush = True
            finished = util.new_condition(batch.COMPLETE, "True", finished.get("reason", ""),
                                          finished.get("message", ""), now)
        ctx.finished_condition = finished

        # Flush the uncounted uids (and the interim condition) before touching finalizers.
        if needs_flush:
            job = ctx.job = await self._write_status(job)
            status, uncounted = job["status"], job["status"].setdefault("uncountedTerminatedPods", {})
            self.backoff[key] = ctx.new_backoff
            needs_flush = False
        remove_error: errors.StatusError | None = None
        if to_remove:
            removed, remove_error = await self._remove_finalizers(key, to_remove)
            with_finalizer -= removed
        if _clean_uncounted(status, with_finalizer):
            needs_flush = True
        if remove_error is not None:
            if needs_flush:
                await self._write_status(job)
            raise remove_error
        job_finished = finished is not None and not (uncounted.get("succeeded") or uncounted.get("failed")) \
            and ctx.terminating == 0
        if job_finished:
            assert finished is not None
            status["conditions"], _ = util.ensure_condition(status.get("conditions") or [], finished["type"],
                                                            "True", finished.get("reason", ""),
                                                            finished.get("message", ""), now)
            if finished["type"] == batch.COMPLETE:
                status["completionTime"] = rfc3339.format(now)
            needs_flush = True
        if _counters(status) != old_counters:
            needs_flush = True
        if needs_flush:
            job = ctx.job = await self._write_status(job)
            if job_finished:
                assert finished is not None
                self._record_finished(job, finished)

    async def _remove_finalizers(self, key: str, pods: list[Obj]) -> tuple[set[str], errors.StatusError | None]:
        """removeTrackingFinalizerFromPods: the uids whose finalizer is gone, and the first error."""
        uids = [p["metadata"]["uid"] for p in pods]
        self.finalizer_expectations.setdefault(key, set()).update(uids)

        async def one(pod: Obj) -> None:
            try:
                await self.pod_control.patch_pod(pod["metadata"]["namespace"], pod["metadata"]["name"],
                                                 util.remove_finalizer_patch())
            except errors.StatusError:
                self._observe_finalizer_removed(key, pod["metadata"]["uid"])
                raise

        results = await asyncio.gather(*(one(p) for p in pods), return_exceptions=True)
        done: set[str] = set()
        first: errors.StatusError | None = None
        for uid, result in zip(uids, results):
            if result is None or isinstance(result, errors.NotFound):
                done.add(uid)
            elif isinstance(result, errors.StatusError):
                first = first or result
            else:
                raise result
        return done, first

    async def _write_status(self, job: Obj) -> Obj:
        body = copy.deepcopy(job)
        status = body["status"]
        uncounted = status.get("uncountedTerminatedPods") or {}
        status["uncountedTerminatedPods"] = {k: v for k, v in uncounted.items() if v}
        for field in ("succeeded", "failed"):
            if not status.get(field):
                status.pop(field, None)
        written = await self.client.update_status(JOBS, body)
        written.setdefault("status", {}).setdefault("uncountedTerminatedPods", {})
        for field in ("succeeded", "failed"):
            written["status"].setdefault(field, 0)
        return podcontrol.with_type(written, JOBS)

    def _record_finished(self, job: Obj, cond: Obj) -> None:
        if cond["type"] == batch.COMPLETE:
            completions = (job.get("spec") or {}).get("completions")
            if completions is not None and int(job["status"].get("succeeded") or 0) > int(completions):
                self._event(job, "Warning", "TooManySucceededPods",
                            "Too many succeeded pods running after completion count reached")
            self._event(job, "Normal", "Completed", "Job completed")
        else:
            self._event(job, "Warning", cond.get("reason", ""), cond.get("message", ""))

    async def sync_orphan_pod(self, pod_key: str) -> None:
        """syncOrphanPod: drop the tracking finalizer of a pod no unfinished Job owns."""
        pod = self.pods.get(pod_key)
        if pod is None or not util.has_tracking_finalizer(pod):
            return
        ref = owners.controller_ref(pod)
        if ref is not None:
            if ref.get("kind") != JOBS.kind or ref.get("apiVersion") != JOBS.api_version:
                return
            job = self._resolve(pod["metadata"]["namespace"], ref)
            if job is not None and not batch.is_job_finished(job):
                return
        try:
            await self.pod_control.patch_pod(pod["metadata"]["namespace"], pod["metadata"]["name"],
                                             util.remove_finalizer_patch())
        except errors.NotFound:
            pass

    def _event(self, job: Obj, type_: str, reason: str, message: str) -> None:
        if self.recorder is not None:
            self.recorder.event(job, type_, reason, message)


class _Ctx:
    """syncJobCtx: what one sync has learnt about the Job and its pods."""

    def __init__(self, *, job: Obj, pods: list[Obj], active: list[Obj], ready: int, uncounted_succeeded: set[str],
                 uncounted_failed: set[str], expected_rm: set[str], terminating: int) -> None:
        self.job = job
        self.pods = pods
        self.active = active
        self.ready = ready
        self.uncounted_succeeded = uncounted_succeeded
        self.uncounted_failed = uncounted_failed
        self.expected_rm = expected_rm
        self.terminating = terminating
        self.succeeded = 0
        self.failed = 0
        self.finished_condition: Obj | None = None
        self.new_backoff = util.BackoffRecord()
        self.prev_succeeded_indexes: list[tuple[int, int]] = []
        self.succeeded_indexes: list[tuple[int, int]] = []
        self.active_after_manage = len(active)


def _selector(job: Obj) -> selectors.LabelSelector:
    sel = (job.get("spec") or {}).get("selector")
    if not sel:
        return selectors.NOTHING
    return selectors.from_label_selector(sel)


def _true_condition(job: Obj, type_: str) -> Obj | None:
    for cond in (job.get("status") or {}).get("conditions") or []:
        if cond.get("type") == type_ and cond.get("status") == "True":
            return dict(cond)
    return None


def _counters(status: Obj) -> tuple[int, int]:
    return int(status.get("succeeded") or 0), int(status.get("failed") or 0)


def _clean_uncounted(status: Obj, with_finalizer: set[str]) -> bool:
    """cleanUncountedPodsWithoutFinalizers: uids whose finalizer is gone move to the counters."""
    uncounted = status.setdefault("uncountedTerminatedPods", {})
    updated = False
    for field in ("succeeded", "failed"):
        uids = uncounted.get(field) or []
        keep = [u for u in uids if u in with_finalizer]
        if len(keep) != len(uids):
            updated = True
            status[field] = int(status.get(field) or 0) + len(uids) - len(keep)
            uncounted[field] = keep
    return updated


# -- wiring ------------------------------------------------------------------------------------


def new_controller(client: rest.Client, factory: informer_mod.InformerFactory, recorder: events.EventRecorder,
                   options: dict[str, Any] | None = None) -> JobController:
    options = options or {}
    return JobController(
        client, factory.informer(JOBS), factory.informer(PODS), podcontrol.RealPodControl(client, recorder),
        recorder, expectations=expectations_mod.Expectations(
            timeout=float(options.get("expectations_timeout", expectations_mod.DEFAULT_TIMEOUT))),
        backoff_base=float(options.get("job_backoff_base", util.DEFAULT_BACKOFF)))
