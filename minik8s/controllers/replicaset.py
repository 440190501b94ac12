"""ReplicaSet and ReplicationController: keep exactly `spec.replicas` pods.

One implementation serves both kinds, as upstream's ReplicationManager is a thin
wrapper over the ReplicaSetController: the only differences are the resource
and how the selector is read (`Kind`). An RC selects with an equality map, an
RS with a set-based LabelSelector; both compile to a `selectors.LabelSelector`.

`sync(key)` (upstream syncReplicaSet):
1. read the owner from the cache; gone → forget its expectations;
2. claim the active pods of its namespace (adopt matching orphans, release
   owned pods that stopped matching: podcontrol.ControllerRefManager);
3. only if the expectations are satisfied and the owner is not being
   deleted, create or delete the difference (manage_replicas);
4. compute the status and write it through /status when it changed;
5. when a Ready pod becomes available later (minReadySeconds), requeue then.

Handlers only lower expectations and enqueue owner keys. Creates go out in
slow-start batches (1, 2, 4, ...), so a quota or validation error costs one
request, not `replicas` of them; at most `burst_replicas` (500) are created or
deleted per sync. Scale-down deletes the least valuable pods first
(`deletion_order`, upstream's ActivePods ordering).
"""
from __future__ import annotations

import asyncio
import copy
import dataclasses
import functools
import logging
import time
from typing import Any, Awaitable, Callable, Protocol

from minik8s.api import errors
from minik8s.api import owners
from minik8s.api import pods as podutil
from minik8s.api import resources
from minik8s.api import rfc3339
from minik8s.api import selectors
from minik8s.client import events
from minik8s.client import informer as informer_mod
from minik8s.client import rest
from minik8s.controllers import base
from minik8s.controllers import expectations as expectations_mod
from minik8s.controllers import podcontrol

log = logging.getLogger(__name__)

Obj = dict[str, Any]

PODS = resources.must("", "v1", "pods")
REPLICASETS = resources.must("apps", "v1", "replicasets")
REPLICATIONCONTROLLERS = resources.must("", "v1", "replicationcontrollers")

BURST_REPLICAS = 500  # upstream's BurstReplicas: most creates/deletes per sync
SLOW_START_INITIAL_BATCH = 1
REPLICA_FAILURE = "ReplicaFailure"
# Requeue a little after a pod's minReadySeconds run out: timestamps have
# one-second resolution and "available" needs strictly more than the minimum.
AVAILABLE_MARGIN = 0.1


def _rs_selector(obj: Obj) -> selectors.LabelSelector:
    sel = (obj.get("spec") or {}).get("selector")
    if not sel:
        # Validation forbids an empty selector; should one get through, owning
        # every pod in the namespace would be the worst possible reading.
        return selectors.NOTHING
    return selectors.from_label_selector(sel)


def _rc_selector(obj: Obj) -> selectors.LabelSelector:
    sel = (obj.get("spec") or {}).get("selector")
    if not sel:
        return selectors.NOTHING
    return selectors.from_equality_map(sel)


@dataclasses.dataclass(frozen=True)
class Kind:
    """What differs between the kinds this controller serves."""

    name: str  # the controller's name in the manager's registry
    resource: resources.Resource
    selector: Callable[[Obj], selectors.LabelSelector]


REPLICA_SET = Kind("replicaset", REPLICASETS, _rs_selector)
REPLICATION_CONTROLLER = Kind("replicationcontroller", REPLICATIONCONTROLLERS, _rc_selector)


# -- pod predicates (upstream pkg/api/v1/pod and controller_utils) ------------------


def desired_replicas(owner: Obj) -> int:
    """spec.replicas; the API server defaults it to 1, as Go's *int32 nil does."""
    replicas = (owner.get("spec") or {}).get("replicas")
    return 1 if replicas is None else int(replicas)


def pod_key(pod: Obj) -> str:
    return f"{pod['metadata'].get('namespace')}/{pod['metadata']['name']}"


def is_pod_active(pod: Obj) -> bool:
    """Not finished and not being deleted (upstream IsPodActive)."""
    phase = (pod.get("status") or {}).get("phase")
    return phase not in ("Succeeded", "Failed") and not pod["metadata"].get("deletionTimestamp")


def is_pod_available(pod: Obj, min_ready_seconds: int, now: float) -> bool:
    """Ready for more than minReadySeconds (upstream IsPodAvailable)."""
    if not podutil.is_ready(pod):
        return False
    if min_ready_seconds <= 0:
        return True
    since = podutil.ready_since(pod)
    return since is not None and since + min_ready_seconds < now


def _max_restarts(pod: Obj) -> int:
    return max([int(c.get("restartCount") or 0) for c in (pod.get("status") or {}).get("containerStatuses") or []],
               default=0)


_PHASE_RANK = {"Pending": 0, "Unknown": 1, "Running": 2}


def _after_or_zero(t1: float | None, t2: float | None) -> bool:
    """Upstream afterOrZero: a missing time sorts first, otherwise the later one does."""
    if t1 is None or t2 is None:
        return t1 is None
    return t1 > t2


def _delete_first(p1: Obj, p2: Obj) -> bool:
    """Whether p1 is less valuable than p2 (upstream controller.ActivePods.Less)."""
    n1, n2 = (p1.get("spec") or {}).get("nodeName") or "", (p2.get("spec") or {}).get("nodeName") or ""
    # 1. Unassigned < assigned: an unscheduled pod has cost nothing yet.
    if n1 != n2 and (not n1 or not n2):
        return not n1
    # 2. Pending < Unknown < Running.
    r1 = _PHASE_RANK.get((p1.get("status") or {}).get("phase") or "", 0)
    r2 = _PHASE_RANK.get((p2.get("status") or {}).get("phase") or "", 0)
    if r1 != r2:
        return r1 < r2
    # 3. Not ready < ready.
    ready1, ready2 = podutil.is_ready(p1), podutil.is_ready(p2)
    if ready1 != ready2:
        return not ready1
    # 4. Ready for less time < ready for longer.
    if ready1 and ready2:
        t1, t2 = podutil.ready_since(p1), podutil.ready_since(p2)
        if t1 != t2:
            return _after_or_zero(t1, t2)
    # 5. More restarts < fewer restarts.
    c1, c2 = _max_restarts(p1), _max_restarts(p2)
    if c1 != c2:
        return c1 > c2
    # 6. Newer < older.
    t1 = rfc3339.parse_epoch(p1["metadata"].get("creationTimestamp"))
    t2 = rfc3339.parse_epoch(p2["metadata"].get("creationTimestamp"))
    if t1 != t2:
        return _after_or_zero(t1, t2)
    return False


def _compare(p1: Obj, p2: Obj) -> int:
    if _delete_first(p1, p2):
        return -1
    if _delete_first(p2, p1):
        return 1
    # Not upstream: a stable tie-break so repeated syncs pick the same victims.
    n1: str = p1["metadata"]["name"]
    n2: str = p2["metadata"]["name"]
    return (n1 > n2) - (n1 < n2)


def deletion_order(pods: list[Obj]) -> list[Obj]:
    """`pods`, least valuable first: the order scale-down deletes them in."""
    return sorted(pods, key=functools.cmp_to_key(_compare))


def pods_to_delete(pods: list[Obj], count: int) -> list[Obj]:
    return deletion_order(pods)[:count]


# -- status ---------------------------------------------------------------------------


def calculate_status(owner: Obj, pods: list[Obj], manage_error: errors.StatusError | None, now: float
                     ) -> tuple[Obj, float | None]:
    """The status the owner should have, and how long until a Ready pod turns available (if any).

    `pods` are the owner's active pods as the cache shows them.
    """
    spec = owner.get("spec") or {}
    min_ready = int(spec.get("minReadySeconds") or 0)
    template_labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
    template_selector = selectors.from_equality_map(template_labels)
    fully_labeled = sum(1 for p in pods if template_selector.matches(p["metadata"].get("labels")))
    ready = [p for p in pods if podutil.is_ready(p)]
    available = [p for p in ready if is_pod_available(p, min_ready, now)]
    wait: float | None = None
    if min_ready > 0:
        available_ids = {id(p) for p in available}
        for pod in ready:
            since = podutil.ready_since(pod)
            if since is None or id(pod) in available_ids:
                continue
            remaining = max(since + min_ready - now, 0.0) + AVAILABLE_MARGIN
            wait = remaining if wait is None else min(wait, remaining)

    old = owner.get("status") or {}
    conditions = [dict(c) for c in old.get("conditions") or []]
    failure = next((c for c in conditions if c.get("type") == REPLICA_FAILURE), None)
    if manage_error is not None and failure is None:
        diff = len(pods) - desired_replicas(owner)
        conditions.append({"type": REPLICA_FAILURE, "status": "True",
                           "reason": "FailedCreate" if diff < 0 else "FailedDelete",
                           "message": manage_error.message, "lastTransitionTime": rfc3339.format(now)})
    elif manage_error is None and failure is not None:
        conditions = [c for c in conditions if c.get("type") != REPLICA_FAILURE]

    status: Obj = {"replicas": len(pods)}
    # Go's omitempty: zero counts are left out, as the real controller writes them.
    for field, value in (("fullyLabeledReplicas", fully_labeled), ("readyReplicas", len(ready)),
                         ("availableReplicas", len(available))):
        if value:
            status[field] = value
    if old.get("observedGeneration"):
        status["observedGeneration"] = old["observedGeneration"]
    if conditions:
        status["conditions"] = conditions
    return status, wait


def _status_equal(a: Obj, b: Obj) -> bool:
    fields = ("replicas", "fullyLabeledReplicas", "readyReplicas", "availableReplicas", "observedGeneration")
    return (all(int(a.get(f) or 0) == int(b.get(f) or 0) for f in fields)
            and (a.get("conditions") or []) == (b.get("conditions") or []))


async def slow_start_batch(count: int, initial_batch_size: int,
                           fn: Callable[[], Awaitable[Any]]) -> tuple[int, errors.StatusError | None]:
    """Call `fn` `count` times in batches of 1, 2, 4, ... (upstream slowStartBatch).

    Each batch runs concurrently; the first batch with a failure ends the run,
    so a systematic error (quota, admission) costs a handful of calls, not
    `count`. Returns the number of successful calls and the first error.
    """
    remaining, successes = count, 0
    batch = min(remaining, initial_batch_size)
    while batch > 0:
        results = await asyncio.gather(*(fn() for _ in range(batch)), return_exceptions=True)
        failures = [r for r in results if isinstance(r, BaseException)]
        successes += batch - len(failures)
        for failure in failures:
            if not isinstance(failure, errors.StatusError):
                raise failure
        if failures:
            first = failures[0]
            assert isinstance(first, errors.StatusError)
            return successes, first
        remaining -= batch
        batch = min(2 * batch, remaining)
    return successes, None


def _namespace_terminating(err: errors.StatusError) -> bool:
    # The API server refuses new content in a terminating namespace; creating
    # more pods there can never succeed and is not the controller's failure.
    causes = (err.details or {}).get("causes") or []
    return err.code == 403 and any(c.get("reason") == "NamespaceTerminating" for c in causes)


# -- the controller ---------------------------------------------------------------------


class StatusClient(Protocol):
    """The part of rest.Client the controller uses directly (a seam for unit tests)."""

    async def get_or_none(self, res: resources.Resource, name: str, namespace: str | None = None
                          ) -> Obj | None: ...

    async def get(self, res: resources.Resource, name: str, namespace: str | None = None) -> Obj: ...

    async def update_status(self, res: resources.Resource, obj: Obj) -> Obj: ...


class ReplicaSetController(base.Controller):
    """Keeps `spec.replicas` pods for every object of `kind` (ReplicaSet or ReplicationController)."""

    workers = 5

    def __init__(self, kind: Kind, client: rest.Client | StatusClient, owners: informer_mod.Informer,
                 pods: informer_mod.Informer, pod_control: podcontrol.PodControl,
                 recorder: events.EventRecorder | None = None, *,
                 expectations: expectations_mod.Expectations | None = None,
                 burst_replicas: int = BURST_REPLICAS, clock: Callable[[], float] = time.time) -> None:
        super().__init__()
        self.name = kind.name
        self.kind = kind
        self.client = client
        self.owners = owners
        self.pods = pods
        self.pod_control = pod_control
        self.recorder = recorder
        self.expectations = expectations or expectations_mod.Expectations()
        self.burst_replicas = burst_replicas
        self.clock = clock
        owners.add_handlers(on_add=self.on_owner_add, on_update=self.on_owner_update, on_delete=self.on_owner_delete)
        pods.add_handlers(on_add=self.on_pod_add, on_update=self.on_pod_update, on_delete=self.on_pod_delete)

    @property
    def res(self) -> resources.Resource:
        return self.kind.resource

    # -- handlers: bookkeeping and enqueueing only (public so tests can deliver events) --

    def on_owner_add(self, owner: Obj) -> None:
        self.enqueue(informer_mod.key_of(owner))

    def on_owner_update(self, old: Obj, cur: Obj) -> None:
        if old["metadata"].get("uid") != cur["metadata"].get("uid"):
            # Deleted and recreated under the same name between two events.
            self.on_owner_delete(old)
        self.enqueue(informer_mod.key_of(cur))

    def on_owner_delete(self, owner: Obj) -> None:
        key = informer_mod.key_of(owner)
        self.expectations.delete_expectations(key)
        self.enqueue(key)

    def _resolve(self, namespace: str, ref: Obj) -> Obj | None:
        """The owner a controllerRef names, if it is ours and the uid matches."""
        return owners.resolve_controller_ref(ref, self.res.kind, lambda name: self.owners.get_by(namespace, name))

    def _owners_selecting(self, pod: Obj) -> list[Obj]:
        labels = pod["metadata"].get("labels")
        out = []
        for owner in self.owners.list(pod["metadata"].get("namespace")):
            try:
                if self.kind.selector(owner).matches(labels):
                    out.append(owner)
            except errors.StatusError:
                continue
        return out

    def on_pod_add(self, pod: Obj) -> None:
        if pod["metadata"].get("deletionTimestamp"):
            # A restarted manager can list a pod that is already terminating.
            self.on_pod_delete(pod)
            return
        ref = owners.controller_ref(pod)
        if ref is not None:
            owner = self._resolve(pod["metadata"]["namespace"], ref)
            if owner is None:
                return
            key = informer_mod.key_of(owner)
            self.expectations.creation_observed(key)
            self.enqueue(key)
            return
        # An orphan: every owner that selects it may want to adopt it.
        for owner in self._owners_selecting(pod):
            self.enqueue(informer_mod.key_of(owner))

    def on_pod_update(self, old: Obj, cur: Obj) -> None:
        if old["metadata"].get("resourceVersion") == cur["metadata"].get("resourceVersion"):
            return
        labels_changed = old["metadata"].get("labels") != cur["metadata"].get("labels")
        if cur["metadata"].get("deletionTimestamp"):
            # Graceful deletion: the pod is as good as gone for counting, so the
            # delete expectation is met now, not when the kubelet finishes.
            self.on_pod_delete(cur)
            if labels_changed:
                self.on_pod_delete(old)
            return
        cur_ref, old_ref = owners.controller_ref(cur), owners.controller_ref(old)
        ref_changed = cur_ref != old_ref
        if ref_changed and old_ref is not None:
            owner = self._resolve(old["metadata"]["namespace"], old_ref)
            if owner is not None:
                self.enqueue(informer_mod.key_of(owner))
        if cur_ref is not None:
            owner = self._resolve(cur["metadata"]["namespace"], cur_ref)
            if owner is not None:
                self.enqueue(informer_mod.key_of(owner))
            return
        if labels_changed or ref_changed:
            for owner in self._owners_selecting(cur):
                self.enqueue(informer_mod.key_of(owner))

    def on_pod_delete(self, pod: Obj) -> None:
        ref = owners.controller_ref(pod)
        if ref is None:
            return
        owner = self._resolve(pod["metadata"]["namespace"], ref)
        if owner is None:
            return
        key = informer_mod.key_of(owner)
        self.expectations.deletion_observed(key, pod_key(pod))
        self.enqueue(key)

    # -- sync ----------------------------------------------------------------------------

    async def sync(self, key: str) -> None:
        cached = self.owners.get(key)
        if cached is None:
            self.expectations.delete_expectations(key)
            return
        owner = podcontrol.with_type(cached, self.res)
        namespace, name = owner["metadata"]["namespace"], owner["metadata"]["name"]
        needs_sync = self.expectations.satisfied(key)
        try:
            selector = self.kind.selector(owner)
        except errors.StatusError as e:
            # Retrying cannot fix a bad selector; the next update of the object will.
            log.warning("%s %s: invalid selector: %s", self.res.kind, key, e.message)
            return
        ref = owners.new_controller_ref(owner, self.res.api_version, self.res.kind)
        manager = podcontrol.ControllerRefManager(
            owner, ref, selector, patch=self.pod_control.patch_pod,
            recheck=lambda: self.client.get_or_none(self.res, name, namespace),
            record=lambda type_, reason, message: self._event(owner, type_, reason, message))
        pods = await manager.claim([p for p in self.pods.list(namespace) if is_pod_active(p)])

        manage_error: errors.StatusError | None = None
        if needs_sync and not owner["metadata"].get("deletionTimestamp"):
            try:
                await self.manage_replicas(key, owner, pods)
            except errors.StatusError as e:
                manage_error = e
        status, wait = calculate_status(owner, pods, manage_error, self.clock())
        await self.update_status(owner, status)
        if manage_error is not None:
            raise manage_error
        if wait is not None:
            self.enqueue_after(key, wait)

    async def manage_replicas(self, key: str, owner: Obj, pods: list[Obj]) -> None:
        """Create or delete pods so that `pods` (the owner's active pods) becomes spec.replicas."""
        spec = owner.get("spec") or {}
        namespace = owner["metadata"]["namespace"]
        diff = len(pods) - desired_replicas(owner)
        if diff < 0:
            count = min(-diff, self.burst_replicas)
            # Set before the first request: the watch may deliver the new pods
            # before the create calls return.
            self.expectations.expect_creations(key, count)
            log.info("%s %s: too few replicas (have %d, need %d), creating %d", self.res.kind, key, len(pods),
                     len(pods) - diff, count)
            template = spec.get("template") or {}
            ref = owners.new_controller_ref(owner, self.res.api_version, self.res.kind)

            async def create() -> None:
                await self.pod_control.create_pods(namespace, template, owner, ref)

            successes, error = await slow_start_batch(count, SLOW_START_INITIAL_BATCH, create)
            # Pods never asked for (or refused) will never be observed: stop waiting for them.
            for _ in range(count - successes):
                self.expectations.creation_observed(key)
            if error is not None and _namespace_terminating(error):
                # Upstream counts these as successes and keeps sending the rest of
                # the batch; stopping at the first one costs one request, not `count`.
                log.info("%s %s: namespace is terminating; not creating pods", self.res.kind, key)
                return
            if error is not None:
                raise error
        elif diff > 0:
            count = min(diff, self.burst_replicas)
            victims = pods_to_delete(pods, count)
            log.info("%s %s: too many replicas (have %d, need %d), deleting %d", self.res.kind, key, len(pods),
                     len(pods) - diff, count)
            self.expectations.expect_deletions(key, [pod_key(p) for p in victims])
            results = await asyncio.gather(*(self._delete(key, owner, p) for p in victims), return_exceptions=True)
            for result in results:
                if isinstance(result, BaseException):
                    raise result

    async def _delete(self, key: str, owner: Obj, pod: Obj) -> None:
        try:
            await self.pod_control.delete_pod(pod["metadata"]["namespace"], pod["metadata"]["name"], owner)
        except errors.StatusError as e:
            # This delete will not be observed (failed) or already was (NotFound).
            self.expectations.deletion_observed(key, pod_key(pod))
            if not isinstance(e, errors.NotFound):
                raise

    async def update_status(self, owner: Obj, status: Obj) -> Obj:
        """Write `status` through /status unless nothing changed; retry once on a stale cache."""
        generation = owner["metadata"].get("generation")
        old = owner.get("status") or {}
        status = dict(status)
        if generation:
            status["observedGeneration"] = generation
        if _status_equal(old, status):
            return owner
        obj = copy.deepcopy(owner)
        obj["status"] = status
        try:
            return await self.client.update_status(self.res, obj)
        except errors.Conflict:
            fresh = await self.client.get(self.res, owner["metadata"]["name"], owner["metadata"]["namespace"])
            if fresh["metadata"].get("uid") != owner["metadata"].get("uid"):
                return fresh
            fresh["status"] = status
            return await self.client.update_status(self.res, fresh)

    def _event(self, owner: Obj, type_: str, reason: str, message: str) -> None:
        if self.recorder is not None:
            self.recorder.event(owner, type_, reason, message)


# -- wiring --------------------------------------------------------------------------------


def new_controller(kind: Kind, client: rest.Client, factory: informer_mod.InformerFactory,
                   recorder: events.EventRecorder, options: dict[str, Any] | None = None) -> ReplicaSetController:
    """The controller as the manager runs it: shared informers, the real PodControl.

    `options["expectations_timeout"]` (seconds, default 300) bounds how long a
    lost watch event can hold a sync back.
    """
    options = options or {}
    timeout = float(options.get("expectations_timeout", expectations_mod.DEFAULT_TIMEOUT))
    return ReplicaSetController(
        kind, client, factory.informer(kind.resource), factory.informer(PODS),
        podcontrol.RealPodControl(client, recorder), recorder,
        expectations=expectations_mod.Expectations(timeout=timeout),
        burst_replicas=int(options.get("burst_replicas", BURST_REPLICAS)))
