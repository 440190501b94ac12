"""The Job controller's pure rules (pkg/controller/job: indexed_job_utils.go,
pod_failure_policy.go, backoff_utils.go and the helpers of job_controller.go).

Nothing here does I/O: which pods count as failed, which completion indexes are
done or still pending, which active pods go first, what the pod failure policy
says about a failed pod, how long the next pod creation must wait after
failures, and the conditions a Job gets.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Iterable

from minik8s.api import conditions
from minik8s.api import pods as podutil
from minik8s.api import rfc3339
from minik8s.api.kinds import batch
from minik8s.controllers import replicaset

Obj = dict[str, Any]

UNKNOWN_INDEX = -1
JOB_COMPLETION_INDEX_ENV = "JOB_COMPLETION_INDEX"
# DefaultJobPodFailureBackOff / MaxJobPodFailureBackOff.
DEFAULT_BACKOFF = 10.0
MAX_BACKOFF = 360.0
MAX_UNCOUNTED_PODS = 500
MAX_POD_CREATE_DELETE_PER_SYNC = 500


# -- the Job ----------------------------------------------------------------------------


def is_indexed(job: Obj) -> bool:
    return (job.get("spec") or {}).get("completionMode") == batch.INDEXED


def suspended(job: Obj) -> bool:
    return bool((job.get("spec") or {}).get("suspend"))


def only_replace_failed_pods(job: Obj) -> bool:
    """podReplacementPolicy Failed (the default with a podFailurePolicy): a terminating
    pod is waited for before its replacement is created."""
    spec = job.get("spec") or {}
    return spec.get("podReplacementPolicy") == "Failed" or spec.get("podFailurePolicy") is not None


def has_tracking_finalizer(pod: Obj) -> bool:
    return batch.JOB_TRACKING_FINALIZER in ((pod.get("metadata") or {}).get("finalizers") or [])


def remove_finalizer_patch() -> Obj:
    """removeTrackingFinalizerPatch (strategic merge)."""
    return {"metadata": {"$deleteFromPrimitiveList/finalizers": [batch.JOB_TRACKING_FINALIZER]}}


def new_condition(type_: str, status: str, reason: str, message: str, now: float) -> Obj:
    stamp = rfc3339.format(now)
    cond: Obj = {"type": type_, "status": status, "lastProbeTime": stamp, "lastTransitionTime": stamp}
    if reason:
        cond["reason"] = reason
    if message:
        cond["message"] = message
    return cond


def ensure_condition(conds: list[Obj], type_: str, status: str, reason: str, message: str, now: float
                     ) -> tuple[list[Obj], bool]:
    """ensureJobConditionStatus: update the condition of `type_`, or append it unless it
    would be a new False one (going from nothing to False means nothing)."""
    out = [dict(c) for c in conds]
    for i, cond in enumerate(out):
        if cond.get("type") == type_:
            if cond.get("status") != status or cond.get("reason", "") != reason or \
                    cond.get("message", "") != message:
                out[i] = new_condition(type_, status, reason, message, now)
                return out, True
            return out, False
    if status == "True":
        return [*out, new_condition(type_, status, reason, message, now)], True
    return out, False


def finished_condition(job: Obj) -> Obj | None:
    for type_ in (batch.COMPLETE, batch.FAILED):
        cond = conditions.get(job, type_)
        if cond is not None and cond.get("status") == "True":
            return dict(cond)
    return None


# -- pods ---------------------------------------------------------------------------------


def phase(pod: Obj) -> str:
    return str((pod.get("status") or {}).get("phase") or "")


def is_terminating(pod: Obj) -> bool:
    """controller.IsPodTerminating: being deleted and not yet in a terminal phase."""
    return bool(pod["metadata"].get("deletionTimestamp")) and phase(pod) not in ("Succeeded", "Failed")


def is_pod_failed(pod: Obj, job: Obj) -> bool:
    """isPodFailed: phase Failed; without a pod failure policy and unless only failed
    pods are replaced, a pod being deleted before it succeeded counts as failed too."""
    if (job.get("spec") or {}).get("podFailurePolicy") is not None:
        return phase(pod) == "Failed"
    if phase(pod) == "Failed":
        return True
    if only_replace_failed_pods(job):
        return False
    return bool(pod["metadata"].get("deletionTimestamp")) and phase(pod) != "Succeeded"


def finished_time(pod: Obj, now: float) -> float:
    """getFinishedTime: the latest container finish, else the deletion time, else now."""
    latest: float | None = None
    for status in (pod.get("status") or {}).get("containerStatuses") or []:
        finished = rfc3339.parse_epoch(((status.get("state") or {}).get("terminated") or {}).get("finishedAt"))
        if finished is not None and (latest is None or finished > latest):
            latest = finished
    if latest is not None:
        return latest
    deleted = rfc3339.parse_epoch(pod["metadata"].get("deletionTimestamp"))
    return deleted if deleted is not None else now


def completion_index(pod: Obj) -> int:
    value = ((pod.get("metadata") or {}).get("annotations") or {}).get(batch.COMPLETION_INDEX_ANNOTATION)
    try:
        index = int(str(value))
    except (TypeError, ValueError):
        return UNKNOWN_INDEX
    return index if index >= 0 else UNKNOWN_INDEX


def valid_index(pod: Obj, completions: int) -> bool:
    index = completion_index(pod)
    return index != UNKNOWN_INDEX and index < completions


def count_ready(pods: Iterable[Obj]) -> int:
    return sum(1 for p in pods if podutil.is_ready(p))


def deletion_order(pods: list[Obj]) -> list[Obj]:
    """Least valuable first: the controllers' one ActivePods ordering."""
    return replicaset.deletion_order(pods)


def active_pods_for_removal(job: Obj, active: list[Obj], at_least: int) -> list[Obj]:
    """activePodsForRemoval: for an Indexed Job, first the pods with a bad or repeated
    index (the less valuable of a pair goes), then the least valuable of the rest."""
    rm: list[Obj] = []
    left = active
    if is_indexed(job):
        completions = int((job.get("spec") or {}).get("completions") or 0)
        left = []
        by_index: dict[int, list[Obj]] = {}
        for pod in active:
            if not valid_index(pod, completions):
                rm.append(pod)
            else:
                by_index.setdefault(completion_index(pod), []).append(pod)
        for index in sorted(by_index):
            ordered = deletion_order(by_index[index])
            rm.extend(ordered[:-1])
            left.append(ordered[-1])
    if len(rm) < at_least:
        rm.extend(deletion_order(left)[:at_least - len(rm)])
    return rm


# -- completion indexes ----------------------------------------------------------------------


def parse_indexes(text: str, completions: int) -> list[tuple[int, int]]:
    """parseIndexesFromString: "1,3-5" → [(1, 1), (3, 5)], cut at `completions`."""
    out: list[tuple[int, int]] = []
    for part in (text or "").split(","):
        if not part:
            continue
        first, _, last = part.partition("-")
        try:
            lo, hi = int(first), int(last) if last else int(first)
        except ValueError:
            continue
        if lo >= completions:
            continue
        out.append((lo, min(hi, completions - 1)))
    return merge_intervals(out)


def merge_intervals(intervals: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted(intervals):
        if merged and lo <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


def intervals_of(indexes: Iterable[int]) -> list[tuple[int, int]]:
    return merge_intervals((i, i) for i in indexes)


def format_indexes(intervals: list[tuple[int, int]]) -> str:
    return ",".join(str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in intervals)


def total(intervals: list[tuple[int, int]]) -> int:
    return sum(hi - lo + 1 for lo, hi in intervals)


def has_index(intervals: list[tuple[int, int]], index: int) -> bool:
    return any(lo <= index <= hi for lo, hi in intervals)


def succeeded_indexes(job: Obj, pods: list[Obj]) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """calculateSucceededIndexes: (indexes already in status, those plus newly succeeded pods')."""
    completions = int((job.get("spec") or {}).get("completions") or 0)
    previous = parse_indexes((job.get("status") or {}).get("completedIndexes") or "", completions)
    new = [completion_index(p) for p in pods
           if phase(p) == "Succeeded" and has_tracking_finalizer(p) and valid_index(p, completions)]
    return previous, merge_intervals([*previous, *((i, i) for i in new)])


def first_pending_indexes(job: Obj, active: list[Obj], succeeded: list[tuple[int, int]], count: int) -> list[int]:
    """firstPendingIndexes: the lowest indexes neither succeeded nor running."""
    completions = int((job.get("spec") or {}).get("completions") or 0)
    running = {completion_index(p) for p in active}
    out: list[int] = []
    for index in range(completions):
        if len(out) >= count:
            break
        if index not in running and not has_index(succeeded, index):
            out.append(index)
    return out


def add_completion_index_env(template: Obj) -> None:
    """addCompletionIndexEnvVariables: JOB_COMPLETION_INDEX from the pod's annotation."""
    spec = template.setdefault("spec", {})
    for key in ("initContainers", "containers"):
        for container in spec.get(key) or []:
            env = container.setdefault("env", [])
            if any(e.get("name") == JOB_COMPLETION_INDEX_ENV for e in env):
                continue
            env.append({"name": JOB_COMPLETION_INDEX_ENV, "valueFrom": {"fieldRef": {
                "apiVersion": "v1",
                "fieldPath": f"metadata.annotations['{batch.COMPLETION_INDEX_ANNOTATION}']"}}})


def with_index(template: Obj, job_name: str, index: int) -> tuple[Obj, str]:
    """The pod template of one completion index and its generateName."""
    meta = template.setdefault("metadata", {})
    meta.setdefault("annotations", {})[batch.COMPLETION_INDEX_ANNOTATION] = str(index)
    meta.setdefault("labels", {})[batch.COMPLETION_INDEX_ANNOTATION] = str(index)
    template.setdefault("spec", {})["hostname"] = f"{job_name}-{index}"
    prefix = f"{job_name}-{index}-"
    if len(prefix) > 58:  # leave room for the 5 random characters (podGenerateNameWithIndex)
        prefix = f"{job_name[:58 - len(f'-{index}-')]}-{index}-"
    return template, prefix


# -- pod failure policy -------------------------------------------------------------------------


def _exit_code_matches(status: Obj, req: Obj) -> Obj | None:
    values = {int(v) for v in req.get("values") or []}
    for key in ("containerStatuses", "initContainerStatuses"):
        for container in status.get(key) or []:
            terminated = (container.get("state") or {}).get("terminated")
            if terminated is None:
                continue
            if req.get("containerName") not in (None, container.get("name")):
                continue
            code = int(terminated.get("exitCode") or 0)
            if code == 0:
                continue
            if (req.get("operator") == "In") == (code in values):
                return dict(container)
    return None


def _condition_matches(status: Obj, patterns: list[Obj]) -> Obj | None:
    for cond in status.get("conditions") or []:
        for pattern in patterns:
            if cond.get("type") == pattern.get("type") and cond.get("status") == pattern.get("status", "True"):
                return dict(cond)
    return None


@dataclasses.dataclass(frozen=True)
class PolicyMatch:
    fail_job_message: str | None  # set for a FailJob rule
    count_failed: bool  # False for an Ignore rule
    action: str | None


def match_pod_failure_policy(policy: Obj | None, pod: Obj) -> PolicyMatch:
    """matchPodFailurePolicy: the first rule that matches the failed pod decides."""
    if policy is None:
        return PolicyMatch(None, True, None)
    meta, status = pod["metadata"], pod.get("status") or {}
    for i, rule in enumerate(policy.get("rules") or []):
        action = rule.get("action")
        if rule.get("onExitCodes") is not None:
            container = _exit_code_matches(status, rule["onExitCodes"])
            if container is None:
                continue
            code = container["state"]["terminated"].get("exitCode")
            message = (f"Container {container.get('name')} for pod {meta.get('namespace')}/{meta['name']} failed "
                       f"with exit code {code} matching {action} rule at index {i}")
        elif rule.get("onPodConditions"):
            cond = _condition_matches(status, rule["onPodConditions"])
            if cond is None:
                continue
            message = (f"Pod {meta.get('namespace')}/{meta['name']} has condition {cond.get('type')} matching "
                       f"{action} rule at index {i}")
        else:
            continue
        if action == "Ignore":
            return PolicyMatch(None, False, action)
        if action == "FailJob":
            return PolicyMatch(message, True, action)
        return PolicyMatch(None, True, action)
    return PolicyMatch(None, True, None)


# -- back-off between pod failures --------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class BackoffRecord:
    """backoffRecord: failures since the last success, and when the last one happened."""

    failures_after_last_success: int = 0
    last_failure_time: float | None = None

    def next(self, succeeded: list[Obj], failed: list[Obj], now: float) -> "BackoffRecord":
        """newBackoffRecord: fold in the pods newly seen finished."""
        s_times = sorted(finished_time(p, now) for p in succeeded)
        f_times = sorted(finished_time(p, now) for p in failed)
        if not s_times:
            if not f_times:
                return self
            return BackoffRecord(self.failures_after_last_success + len(f_times), f_times[-1])
        last_success = s_times[-1]
        later = [t for t in f_times if t > last_success]
        return BackoffRecord(len(later), later[-1] if later else None)

    def remaining(self, now: float, base: float = DEFAULT_BACKOFF, cap: float = MAX_BACKOFF) -> float:
        """getRemainingTime: 10s after the first failure, doubling, at most 6 minutes."""
        if self.failures_after_last_success == 0 or self.last_failure_time is None:
            return 0.0
        delay = base
        for _ in range(1, self.failures_after_last_success):
            delay *= 2
            if delay >= cap:
                delay = cap
                break
        elapsed = now - self.last_failure_time
        return 0.0 if delay < elapsed else delay - elapsed


def past_backoff_limit_on_failure(job: Obj, pods: list[Obj]) -> bool:
    """pastBackoffLimitOnFailure: under OnFailure, container restarts count as failures."""
    spec = job.get("spec") or {}
    if ((spec.get("template") or {}).get("spec") or {}).get("restartPolicy") != "OnFailure":
        return False
    restarts = 0
    for pod in pods:
        if phase(pod) in ("Running", "Pending"):
            status = pod.get("status") or {}
            for key in ("initContainerStatuses", "containerStatuses"):
                restarts += sum(int(c.get("restartCount") or 0) for c in status.get(key) or [])
    limit = int(spec.get("backoffLimit") or 0)
    return restarts > 0 if limit == 0 else restarts >= limit
