"""The Recreate strategy: every old pod gone before the first new one is created.

As pkg/controller/deployment/recreate.go. Old ReplicaSets are scaled to zero;
then the controller waits until none of their pods exists in a non-terminal
phase (a ReplicaSet at zero may still have terminating pods); only then is the
new ReplicaSet created, at full size.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

from minik8s.controllers.deployment import progress
from minik8s.controllers.deployment import sync as sync_mod
from minik8s.controllers.deployment import util

Obj = dict[str, Any]


async def rollout_recreate(ctx: sync_mod.SyncContext, d: Obj, rs_list: list[Obj],
                           pod_map: Mapping[str, Sequence[Obj]]) -> None:
    # Not created yet, so that nothing scales up before everything old is down.
    new_rs, old_rss = await sync_mod.get_all_replica_sets_and_sync_revision(ctx, d, rs_list, False)
    all_rss: list[Obj | None] = [*old_rss, new_rs]

    if await scale_down_old_replica_sets_for_recreate(ctx, util.filter_active(old_rss), d):
        await progress.sync_rollout_status(ctx, all_rss, new_rs, d)
        return
    if old_pods_running(new_rs, old_rss, pod_map):
        await progress.sync_rollout_status(ctx, all_rss, new_rs, d)
        return
    if new_rs is None:
        new_rs, old_rss = await sync_mod.get_all_replica_sets_and_sync_revision(ctx, d, rs_list, True)
        assert new_rs is not None
        all_rss = [*old_rss, new_rs]
    await sync_mod.scale_replica_set_and_record_event(ctx, new_rs, util.replicas(d), d)
    if util.deployment_complete(d, d.get("status") or {}):
        await sync_mod.cleanup_deployment(ctx, old_rss, d)
    await progress.sync_rollout_status(ctx, all_rss, new_rs, d)


async def scale_down_old_replica_sets_for_recreate(ctx: sync_mod.SyncContext, old_rss: Sequence[Obj],
                                                   d: Obj) -> bool:
    scaled = False
    for rs in old_rss:
        if util.replicas(rs) == 0:
            continue
        if await sync_mod.scale_replica_set_and_record_event(ctx, rs, 0, d):
            scaled = True
    return scaled


def old_pods_running(new_rs: Obj | None, old_rss: Sequence[Obj], pod_map: Mapping[str, Sequence[Obj]]) -> bool:
    """Any old ReplicaSet still reports pods, or any of their pods is not Failed/Succeeded."""
    if util.actual_replica_count(old_rss) > 0:
        return True
    new_uid = util.uid(new_rs) if new_rs is not None else None
    for rs_uid, pods in pod_map.items():
        if rs_uid == new_uid:
            continue
        for pod in pods:
            if (pod.get("status") or {}).get("phase") not in ("Failed", "Succeeded"):
                return True
    return False
