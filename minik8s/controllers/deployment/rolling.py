"""The RollingUpdate strategy: grow the new ReplicaSet, shrink the old ones, within bounds.

As pkg/controller/deployment/rolling.go. Each sync takes at most one step:
scale the new ReplicaSet up as far as replicas+maxSurge allows, or else scale
old ones down as far as replicas-maxUnavailable available pods allow. Pods of
the new ReplicaSet that are not yet available are counted against the
scale-down budget, so a rollout of a broken template stalls instead of eating
into the old, working pods.
"""
from __future__ import annotations

import logging
from typing import Any, Sequence

from minik8s.controllers.deployment import progress
from minik8s.controllers.deployment import sync as sync_mod
from minik8s.controllers.deployment import util

log = logging.getLogger(__name__)

Obj = dict[str, Any]


async def rollout_rolling(ctx: sync_mod.SyncContext, d: Obj, rs_list: list[Obj]) -> None:
    new_rs, old_rss = await sync_mod.get_all_replica_sets_and_sync_revision(ctx, d, rs_list, True)
    assert new_rs is not None
    all_rss = [*old_rss, new_rs]

    if await reconcile_new_replica_set(ctx, all_rss, new_rs, d):
        await progress.sync_rollout_status(ctx, all_rss, new_rs, d)
        return
    if await reconcile_old_replica_sets(ctx, all_rss, util.filter_active(old_rss), new_rs, d):
        await progress.sync_rollout_status(ctx, all_rss, new_rs, d)
        return
    if util.deployment_complete(d, d.get("status") or {}):
        await sync_mod.cleanup_deployment(ctx, old_rss, d)
    await progress.sync_rollout_status(ctx, all_rss, new_rs, d)


async def reconcile_new_replica_set(ctx: sync_mod.SyncContext, all_rss: Sequence[Obj], new_rs: Obj,
                                    d: Obj) -> bool:
    if util.replicas(new_rs) == util.replicas(d):
        return False
    if util.replicas(new_rs) > util.replicas(d):
        return await sync_mod.scale_replica_set_and_record_event(ctx, new_rs, util.replicas(d), d)
    count = util.new_rs_new_replicas(d, all_rss, new_rs)
    return await sync_mod.scale_replica_set_and_record_event(ctx, new_rs, count, d)


async def reconcile_old_replica_sets(ctx: sync_mod.SyncContext, all_rss: Sequence[Obj], old_rss: list[Obj],
                                     new_rs: Obj, d: Obj) -> bool:
    """Scale old ReplicaSets down as far as availability allows.

    maxScaledDown = allPods - minAvailable - newRSUnavailable. With 10
    replicas, maxUnavailable 2, maxSurge 3 and a crash-looping new template at
    5 pods: 13 - 8 - 5 = 0, so nothing old goes even if a node then loses an old
    pod. Roll back to the good template and its RS has ~no unavailable pods, so
    13 - 8 - 1 = 4 of the broken pods can go at once.
    """
    old_pods = util.replica_count(old_rss)
    if old_pods == 0:
        return False
    all_pods = util.replica_count(all_rss)
    min_available = util.replicas(d) - util.max_unavailable(d)
    new_unavailable = util.replicas(new_rs) - util.available_bound([new_rs])
    max_scaled_down = all_pods - min_available - new_unavailable
    if max_scaled_down <= 0:
        return False

    # Unhealthy old replicas first: removing them costs no availability, and
    # left alone they would block the rollout until it times out.
    old_rss, cleaned = await cleanup_unhealthy_replicas(ctx, old_rss, d, max_scaled_down)
    scaled = await scale_down_old_replica_sets_for_rolling_update(ctx, [*old_rss, new_rs], old_rss, d)
    log.debug("deployment %s: cleaned %d unhealthy, scaled down %d old replicas", sync_mod.key_of(d), cleaned,
              scaled)
    return cleaned + scaled > 0


async def cleanup_unhealthy_replicas(ctx: sync_mod.SyncContext, old_rss: list[Obj], d: Obj,
                                     max_cleanup: int) -> tuple[list[Obj], int]:
    """Scale old ReplicaSets down by their unavailable pods (the ReplicaSet controller
    deletes not-ready pods first), oldest ReplicaSet first."""
    old_rss = util.by_creation_timestamp(old_rss)
    total = 0
    for rs in old_rss:
        if total >= max_cleanup:
            break
        if util.replicas(rs) == 0:
            continue
        unhealthy = util.replicas(rs) - util.available_bound([rs])
        if unhealthy <= 0:
            continue
        count = min(max_cleanup - total, unhealthy)
        await sync_mod.scale_replica_set_and_record_event(ctx, rs, util.replicas(rs) - count, d)
        total += count
    return old_rss, total


async def scale_down_old_replica_sets_for_rolling_update(ctx: sync_mod.SyncContext, all_rss: Sequence[Obj],
                                                         old_rss: list[Obj], d: Obj) -> int:
    """Scale old ReplicaSets down by the available pods beyond replicas-maxUnavailable."""
    min_available = util.replicas(d) - util.max_unavailable(d)
    available = util.available_bound(all_rss)
    if available <= min_available:
        return 0
    total = 0
    budget = available - min_available
    for rs in util.by_creation_timestamp(old_rss):
        if total >= budget:
            break
        if util.replicas(rs) == 0:
            continue
        count = min(util.replicas(rs), budget - total)
        await sync_mod.scale_replica_set_and_record_event(ctx, rs, util.replicas(rs) - count, d)
        total += count
    return total
