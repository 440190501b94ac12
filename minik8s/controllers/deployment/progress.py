"""The Progressing condition during a rollout, and the progress-deadline check.

As pkg/controller/deployment/progress.go: a rollout that makes progress
(pods updated, ready, available, or old ones gone) refreshes the condition's
lastUpdateTime; one that makes none for progressDeadlineSeconds gets
Progressing=False, reason ProgressDeadlineExceeded, which `kubectl rollout
status` reports as a failure. Nothing changes when nothing happens, so the
controller requeues itself for the moment the deadline would pass.
"""
from __future__ import annotations

import logging
from typing import Any, Sequence

from minik8s.api import rfc3339
from minik8s.controllers.deployment import sync as sync_mod
from minik8s.controllers.deployment import util

log = logging.getLogger(__name__)

Obj = dict[str, Any]


async def sync_rollout_status(ctx: sync_mod.SyncContext, all_rss: Sequence[Obj | None], new_rs: Obj | None,
                              d: Obj) -> None:
    now = ctx.clock()
    new_status = util.calculate_status(all_rss, new_rs, d, now)
    if not util.has_progress_deadline(d):
        util.remove_condition(new_status, util.PROGRESSING)

    current = util.get_condition(d.get("status"), util.PROGRESSING)
    # One active ReplicaSet and a finished rollout: a resync, nothing to estimate.
    is_complete = (int(new_status.get("replicas") or 0) == int(new_status.get("updatedReplicas") or 0)
                   and current is not None and current.get("reason") == util.NEW_RS_AVAILABLE)
    if util.has_progress_deadline(d) and not is_complete:
        what = f'ReplicaSet "{util.name(new_rs)}"' if new_rs is not None else f'Deployment "{util.name(d)}"'
        if util.deployment_complete(d, new_status):
            util.set_condition(new_status, util.new_condition(
                util.PROGRESSING, "True", util.NEW_RS_AVAILABLE, f"{what} has successfully progressed.", now))
        elif util.deployment_progressing(d, new_status):
            cond = util.new_condition(util.PROGRESSING, "True", util.REPLICA_SET_UPDATED,
                                      f"{what} is progressing.", now)
            # Same reason as before still refreshes lastUpdateTime (which the
            # deadline is measured from); only the transition time is kept.
            if current is not None:
                if current.get("status") == "True":
                    cond["lastTransitionTime"] = current.get("lastTransitionTime")
                util.remove_condition(new_status, util.PROGRESSING)
            util.set_condition(new_status, cond)
        elif util.deployment_timed_out(d, new_status, now):
            util.set_condition(new_status, util.new_condition(
                util.PROGRESSING, "False", util.TIMED_OUT, f"{what} has timed out progressing.", now))
            log.info("deployment %s: %s has timed out progressing", sync_mod.key_of(d), what)

    failures = replica_failures(all_rss, new_rs)
    if failures:
        util.set_condition(new_status, failures[0])
    else:
        util.remove_condition(new_status, util.REPLICA_FAILURE)

    if util.status_equal(d.get("status"), new_status):
        requeue_stuck_deployment(ctx, d, new_status)
        return
    d["status"] = new_status
    await sync_mod.update_status(ctx, d)


def replica_failures(all_rss: Sequence[Obj | None], new_rs: Obj | None) -> list[Obj]:
    """ReplicaFailure conditions of the ReplicaSets, the new one's first."""
    def of(rs: Obj | None) -> list[Obj]:
        return [util.replica_set_to_deployment_condition(c) for c in ((rs or {}).get("status") or {}).get(
            "conditions") or [] if c.get("type") == util.REPLICA_FAILURE]
    found = of(new_rs)
    if found:
        return found
    return [c for rs in all_rss for c in of(rs)]


def requeue_stuck_deployment(ctx: sync_mod.SyncContext, d: Obj, new_status: Obj) -> float:
    """Come back when the progress deadline would pass; -1 if there is nothing to wait for.

    Without this a stuck rollout changes nothing, so no watch event would ever
    wake the controller to notice it has timed out.
    """
    current = util.get_condition(d.get("status"), util.PROGRESSING)
    if not util.has_progress_deadline(d) or current is None:
        return -1
    if util.deployment_complete(d, new_status) or current.get("reason") == util.TIMED_OUT:
        return -1
    since = rfc3339.parse_epoch(current.get("lastUpdateTime"))
    if since is None:
        return -1
    after = since + util.progress_deadline(d) - ctx.clock()
    if after < 1:
        ctx.enqueue_after(sync_mod.key_of(d), 1.0)
        return 0
    # A second more, so the check lands after the deadline rather than just before.
    ctx.enqueue_after(sync_mod.key_of(d), after + 1)
    return after
