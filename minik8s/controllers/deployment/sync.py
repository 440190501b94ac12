"""Finding and creating the new ReplicaSet, scaling, history cleanup, status.

As pkg/controller/deployment/sync.go: the steps every kind of sync shares. The
functions work on per-sync copies of the Deployment and its ReplicaSets; a
successful write is copied back into the object it wrote, so later steps of
the same sync see what the API server now holds instead of failing on a stale
resourceVersion.
"""
from __future__ import annotations

import copy
import dataclasses
import logging
from typing import Any, Callable, Sequence

from minik8s.api import errors
from minik8s.api import owners
from minik8s.controllers.deployment import control as deployment_control
from minik8s.controllers.deployment import util

log = logging.getLogger(__name__)

Obj = dict[str, Any]

SCALING_REPLICA_SET = "ScalingReplicaSet"


@dataclasses.dataclass
class SyncContext:
    """What the sync steps need from the controller: seams, caches, clock, queue."""

    rs_control: deployment_control.RSControl
    d_control: deployment_control.DeploymentControl
    recorder: deployment_control.Recorder
    cached_rs: Callable[[str, str], Obj | None]
    clock: Callable[[], float]
    enqueue_after: Callable[[str, float], None]


def key_of(d: Obj) -> str:
    m = d["metadata"]
    return f"{m.get('namespace')}/{m['name']}"


def assign(target: Obj, fresh: Obj) -> Obj:
    """Make `target` (a per-sync copy) the object the API server returned."""
    target.clear()
    target.update(fresh)
    return target


async def update_status(ctx: SyncContext, d: Obj) -> None:
    updated = await ctx.d_control.update_deployment_status(d)
    d["metadata"]["resourceVersion"] = updated["metadata"].get("resourceVersion")


def controller_ref(d: Obj) -> Obj:
    return owners.new_controller_ref(d, "apps/v1", "Deployment")


def _namespace_terminating(e: errors.StatusError) -> bool:
    return any(c.get("type") == "NamespaceTerminating" for c in (e.details or {}).get("causes") or [])


async def get_all_replica_sets_and_sync_revision(ctx: SyncContext, d: Obj, rs_list: list[Obj],
                                                 create: bool) -> tuple[Obj | None, list[Obj]]:
    """The new ReplicaSet (created if asked and missing) and all old ones, revisions synced.

    The new ReplicaSet's revision becomes max(old revisions)+1 if it is not
    already higher, and the Deployment's revision annotation follows it.
    """
    _, all_old = util.find_old_replica_sets(d, rs_list)
    new_rs = await get_new_replica_set(ctx, d, rs_list, all_old, create)
    return new_rs, all_old


async def get_new_replica_set(ctx: SyncContext, d: Obj, rs_list: list[Obj], old_rss: Sequence[Obj],
                              create: bool) -> Obj | None:
    existing = util.find_new_replica_set(d, rs_list)
    new_revision = util.max_revision(old_rss) + 1
    spec = d.get("spec") or {}

    if existing is not None:
        rs_copy = copy.deepcopy(existing)
        annotations_updated = util.set_new_replica_set_annotations(d, rs_copy, new_revision, True)
        min_ready_differs = util.min_ready_seconds(rs_copy) != util.min_ready_seconds(d)
        if annotations_updated or min_ready_differs:
            rs_copy["spec"]["minReadySeconds"] = util.min_ready_seconds(d)
            # As upstream, the Deployment's own revision follows on the next sync
            # (the ReplicaSet's update wakes it up).
            return assign(existing, await ctx.rs_control.update_replica_set(rs_copy))
        needs_update = util.set_deployment_revision(d, util.annotations_of(rs_copy).get(util.REVISION, ""))
        # A Deployment that never had a Progressing condition starts being
        # measured from the moment its new ReplicaSet is first noticed.
        if util.has_progress_deadline(d) and util.get_condition(d.get("status"), util.PROGRESSING) is None:
            util.set_condition(d.setdefault("status", {}), util.new_condition(
                util.PROGRESSING, "True", util.FOUND_NEW_RS, f'Found new replica set "{util.name(rs_copy)}"',
                ctx.clock()))
            needs_update = True
        if needs_update:
            await update_status(ctx, d)
        return existing

    if not create:
        return None

    namespace = d["metadata"]["namespace"]
    template = copy.deepcopy(spec.get("template") or {})
    status = d.get("status") or {}
    pod_template_hash = util.compute_hash(template, status.get("collisionCount"))
    labels = dict((template.get("metadata") or {}).get("labels") or {})
    labels[util.POD_TEMPLATE_HASH] = pod_template_hash
    template.setdefault("metadata", {})["labels"] = labels
    selector = copy.deepcopy(spec.get("selector") or {})
    selector["matchLabels"] = {**(selector.get("matchLabels") or {}), util.POD_TEMPLATE_HASH: pod_template_hash}
    rs_name = f"{d['metadata']['name']}-{pod_template_hash}"
    new_rs: Obj = {
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        # The name is a function of the template, so a retried or restarted
        # controller can never create a second ReplicaSet for the same template.
        "metadata": {"name": rs_name, "namespace": namespace, "labels": dict(labels),
                     "ownerReferences": [controller_ref(d)]},
        "spec": {"replicas": 0, "minReadySeconds": util.min_ready_seconds(d), "selector": selector,
                 "template": template},
    }
    count = util.new_rs_new_replicas(d, [*old_rss, new_rs], new_rs)
    new_rs["spec"]["replicas"] = count
    util.set_new_replica_set_annotations(d, new_rs, new_revision, False)

    already_exists = False
    try:
        created = await ctx.rs_control.create_replica_set(namespace, new_rs)
    except errors.AlreadyExists:
        # A slow cache, or a hash collision with a ReplicaSet of another template.
        found = ctx.cached_rs(namespace, rs_name) or await ctx.rs_control.get_replica_set(namespace, rs_name)
        if found is None:
            raise
        ref = owners.controller_ref(found)
        if (ref is not None and ref.get("uid") == d["metadata"].get("uid")
                and util.equal_ignore_hash(spec.get("template"), (found.get("spec") or {}).get("template"))):
            created = copy.deepcopy(found)
            already_exists = True
        else:
            before = status.get("collisionCount")
            d.setdefault("status", {})["collisionCount"] = int(before or 0) + 1
            try:
                await update_status(ctx, d)
                log.info("deployment %s: hash collision on %s; collisionCount %s -> %s", key_of(d), rs_name,
                         before, d["status"]["collisionCount"])
            except errors.StatusError as e:
                log.info("deployment %s: could not bump collisionCount: %s", key_of(d), e.message)
            raise
    except errors.StatusError as e:
        if _namespace_terminating(e):
            raise
        msg = f'Failed to create new replica set "{rs_name}": {e.message}'
        if util.has_progress_deadline(d):
            util.set_condition(d.setdefault("status", {}), util.new_condition(
                util.PROGRESSING, "False", util.FAILED_RS_CREATE, msg, ctx.clock()))
            try:
                await update_status(ctx, d)
            except errors.StatusError:
                pass  # the create error is the one to report
        ctx.recorder.event(d, "Warning", util.FAILED_RS_CREATE, msg)
        raise

    rs_list.append(created)
    if not already_exists and count > 0:
        ctx.recorder.event(d, "Normal", SCALING_REPLICA_SET,
                           f"Scaled up replica set {util.name(created)} from 0 to {count}")
    needs_update = util.set_deployment_revision(d, str(new_revision))
    if not already_exists and util.has_progress_deadline(d):
        util.set_condition(d.setdefault("status", {}), util.new_condition(
            util.PROGRESSING, "True", util.NEW_REPLICA_SET_CREATED,
            f'Created new replica set "{util.name(created)}"', ctx.clock()))
        needs_update = True
    if needs_update:
        await update_status(ctx, d)
    return created


# ---------------------------------------------------------------------------
# scaling

async def scale_replica_set(ctx: SyncContext, rs: Obj, new_scale: int, d: Obj, operation: str) -> bool:
    """One write: spec.replicas and the desired/max-replicas annotations together."""
    size_changes = util.replicas(rs) != new_scale
    want_desired, want_max = util.replicas(d), util.replicas(d) + util.max_surge(d)
    if not size_changes and not util.replicas_annotations_need_update(rs, want_desired, want_max):
        return False
    old_scale = util.replicas(rs)
    rs_copy = copy.deepcopy(rs)
    rs_copy.setdefault("spec", {})["replicas"] = new_scale
    util.set_replicas_annotations(rs_copy, want_desired, want_max)
    assign(rs, await ctx.rs_control.update_replica_set(rs_copy))
    if size_changes:
        ctx.recorder.event(d, "Normal", SCALING_REPLICA_SET,
                           f"Scaled {operation} replica set {util.name(rs)} from {old_scale} to {new_scale}")
        log.info("deployment %s: scaled %s replica set %s from %d to %d", key_of(d), operation, util.name(rs),
                 old_scale, new_scale)
    return size_changes


async def scale_replica_set_and_record_event(ctx: SyncContext, rs: Obj, new_scale: int, d: Obj) -> bool:
    if util.replicas(rs) == new_scale:
        return False
    operation = "up" if util.replicas(rs) < new_scale else "down"
    return await scale_replica_set(ctx, rs, new_scale, d, operation)


async def scale(ctx: SyncContext, d: Obj, new_rs: Obj | None, old_rss: list[Obj]) -> None:
    """Resize on a scaling event (or while paused), proportionally across active ReplicaSets.

    Scaling up only the new ReplicaSet, or down only the old ones, would speed
    the rollout up, exposing more of an untested template than maxSurge and
    maxUnavailable allow; so every active ReplicaSet gets its share instead.
    """
    active_or_latest = util.find_active_or_latest(new_rs, old_rss)
    if active_or_latest is not None:
        if util.replicas(active_or_latest) != util.replicas(d):
            await scale_replica_set_and_record_event(ctx, active_or_latest, util.replicas(d), d)
        return

    # A saturated new ReplicaSet (e.g. after adopting one) leaves nothing for old ones.
    if util.is_saturated(d, new_rs):
        for old in util.filter_active(old_rss):
            await scale_replica_set_and_record_event(ctx, old, 0, d)
        return

    if not util.is_rolling_update(d):
        return
    all_rss = util.filter_active([*old_rss, new_rs])
    all_replicas = util.replica_count(all_rss)
    allowed = util.replicas(d) + util.max_surge(d) if util.replicas(d) > 0 else 0
    to_add = allowed - all_replicas
    # Among equals, newer ReplicaSets grow first and older ones shrink first.
    operation = ""
    if to_add > 0:
        all_rss = util.by_size_newer(all_rss)
        operation = "up"
    elif to_add < 0:
        all_rss = util.by_size_older(all_rss)
        operation = "down"
    added = 0
    sizes: list[int] = []
    for rs in all_rss:
        if to_add != 0:
            proportion = util.get_proportion(rs, d, to_add, added)
            sizes.append(util.replicas(rs) + proportion)
            added += proportion
        else:
            sizes.append(util.replicas(rs))
    for i, rs in enumerate(all_rss):
        size = sizes[i]
        if i == 0 and to_add != 0:
            # Rounding leftovers go to the largest ReplicaSet.
            size = max(size + to_add - added, 0)
        await scale_replica_set(ctx, rs, size, d, operation)


# ---------------------------------------------------------------------------
# history, status, paused

async def cleanup_deployment(ctx: SyncContext, old_rss: Sequence[Obj], d: Obj) -> None:
    """Delete the oldest empty ReplicaSets beyond revisionHistoryLimit."""
    if not util.has_revision_history_limit(d):
        return
    cleanable = [rs for rs in old_rss if not rs["metadata"].get("deletionTimestamp")]
    limit = int(d["spec"]["revisionHistoryLimit"])
    diff = len(cleanable) - limit
    if diff <= 0:
        return
    for rs in util.by_revision(cleanable)[:diff]:
        # Never delete one that still has (or may still get) pods: its
        # controller must have seen its latest spec and reported none.
        if (util.status_int(rs, "replicas") != 0 or util.replicas(rs) != 0
                or int(rs["metadata"].get("generation") or 0) > util.status_int(rs, "observedGeneration")):
            continue
        log.info("deployment %s: deleting old replica set %s (revision %s, history limit %d)", key_of(d),
                 util.name(rs), util.annotations_of(rs).get(util.REVISION), limit)
        await ctx.rs_control.delete_replica_set(rs["metadata"]["namespace"], util.name(rs),
                                                rs["metadata"].get("uid", ""))


async def sync_deployment_status(ctx: SyncContext, all_rss: Sequence[Obj | None], new_rs: Obj | None,
                                 d: Obj) -> None:
    new_status = util.calculate_status(all_rss, new_rs, d, ctx.clock())
    if util.status_equal(d.get("status"), new_status):
        return
    d["status"] = new_status
    await update_status(ctx, d)


async def check_paused_conditions(ctx: SyncContext, d: Obj) -> None:
    """Record pausing and resuming in Progressing, so a long pause is not taken for a stuck rollout."""
    if not util.has_progress_deadline(d):
        return
    cond = util.get_condition(d.get("status"), util.PROGRESSING)
    if cond is not None and cond.get("reason") == util.TIMED_OUT:
        return
    paused_recorded = cond is not None and cond.get("reason") == util.PAUSED
    paused = bool((d.get("spec") or {}).get("paused"))
    if paused and not paused_recorded:
        new = util.new_condition(util.PROGRESSING, "Unknown", util.PAUSED, "Deployment is paused", ctx.clock())
    elif not paused and paused_recorded:
        new = util.new_condition(util.PROGRESSING, "Unknown", util.RESUMED, "Deployment is resumed", ctx.clock())
    else:
        return
    util.set_condition(d.setdefault("status", {}), new)
    await update_status(ctx, d)


async def is_scaling_event(ctx: SyncContext, d: Obj, rs_list: list[Obj]) -> bool:
    """spec.replicas differs from what an active ReplicaSet was last sized for."""
    new_rs, old_rss = await get_all_replica_sets_and_sync_revision(ctx, d, rs_list, False)
    for rs in util.filter_active([*old_rss, new_rs]):
        desired = util.desired_replicas_annotation(rs)
        if desired is not None and desired != util.replicas(d):
            return True
    return False


async def sync(ctx: SyncContext, d: Obj, rs_list: list[Obj]) -> None:
    """Reconcile a scaling event or a paused Deployment: resize, never roll."""
    new_rs, old_rss = await get_all_replica_sets_and_sync_revision(ctx, d, rs_list, False)
    await scale(ctx, d, new_rs, old_rss)
    if (d.get("spec") or {}).get("paused"):
        await cleanup_deployment(ctx, old_rss, d)
    await sync_deployment_status(ctx, [*old_rss, new_rs], new_rs, d)


async def sync_status_only(ctx: SyncContext, d: Obj, rs_list: list[Obj]) -> None:
    new_rs, old_rss = await get_all_replica_sets_and_sync_revision(ctx, d, rs_list, False)
    await sync_deployment_status(ctx, [*old_rss, new_rs], new_rs, d)
