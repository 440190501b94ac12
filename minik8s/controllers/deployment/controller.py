"""The Deployment controller: one ReplicaSet per pod template, rolled between them.

As pkg/controller/deployment/deployment_controller.go. A Deployment owns (by
controller ownerReference) one ReplicaSet per distinct pod template it has had,
named `<deployment>-<pod-template-hash>`; the one whose template equals the
Deployment's is the new ReplicaSet, the others are old. A sync claims the
ReplicaSets (adopting matching orphans, releasing ones that no longer match),
then does one of: record the status of a Deployment being deleted; resize on a
scaling event or while paused (proportionally, never rolling); or take one
step of the strategy — RollingUpdate within maxSurge/maxUnavailable, or
Recreate. The controller manages ReplicaSets only; their pods are the
ReplicaSet controller's, and availability (minReadySeconds) is what it reports
in ReplicaSet status.
"""
from __future__ import annotations

import copy
import logging
import time
from typing import Any, Callable

from minik8s.api import errors
from minik8s.api import owners
from minik8s.api import resources
from minik8s.client import informer as informer_mod
from minik8s.client import rest
from minik8s.controllers import base
from minik8s.controllers.deployment import control as deployment_control
from minik8s.controllers.deployment import recreate
from minik8s.controllers.deployment import rolling
from minik8s.controllers.deployment import sync as sync_mod
from minik8s.controllers.deployment import util

log = logging.getLogger(__name__)

Obj = dict[str, Any]

DEPLOYMENTS = deployment_control.DEPLOYMENTS
REPLICASETS = deployment_control.REPLICASETS
PODS = resources.must("", "v1", "pods")
KIND = "Deployment"


class DeploymentController(base.Controller):
    name = "deployment"
    workers = 5  # kube-controller-manager's --concurrent-deployment-syncs default

    def __init__(self, client: rest.Client | None, factory: informer_mod.InformerFactory,
                 recorder: deployment_control.Recorder, *, control: deployment_control.Control | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        super().__init__()
        self.deployments = factory.informer(DEPLOYMENTS)
        self.replica_sets = factory.informer(REPLICASETS)
        self.pods = factory.informer(PODS)
        if control is None:
            assert client is not None
            control = deployment_control.RealControl(client)
        self.control = control
        self.recorder = recorder
        self.ctx = sync_mod.SyncContext(
            rs_control=control, d_control=control, recorder=recorder,
            cached_rs=lambda ns, n: self.replica_sets.get_by(ns, n), clock=clock,
            enqueue_after=self.enqueue_after)
        self.deployments.add_handlers(on_add=self._enqueue_deployment,
                                      on_update=lambda _old, d: self._enqueue_deployment(d),
                                      on_delete=self._enqueue_deployment)
        self.replica_sets.add_handlers(on_add=self._add_replica_set, on_update=self._update_replica_set,
                                       on_delete=self._delete_replica_set)
        self.pods.add_handlers(on_delete=self._delete_pod)

    # -- event handlers: work out which Deployment is affected, nothing more --------

    def _enqueue_deployment(self, d: Obj) -> None:
        self.enqueue(informer_mod.key_of(d))

    def resolve_controller_ref(self, namespace: str, ref: Obj | None) -> Obj | None:
        """The Deployment a controller reference points to, if it still is that Deployment."""
        return owners.resolve_controller_ref(ref, KIND, lambda name: self.deployments.get_by(namespace, name))

    def deployments_for_replica_set(self, rs: Obj) -> list[Obj]:
        """Deployments whose selector matches an orphan ReplicaSet (any of them may adopt it)."""
        labels = rs["metadata"].get("labels") or {}
        if not labels:
            return []
        out = []
        for d in self.deployments.list(rs["metadata"].get("namespace")):
            try:
                sel = util.selector_of(d)
            except errors.StatusError:
                continue
            # A nil or empty selector must match nothing here, not everything.
            if sel.empty() or sel.match_nothing or not sel.matches(labels):
                continue
            out.append(d)
        return out

    def _add_replica_set(self, rs: Obj) -> None:
        if rs["metadata"].get("deletionTimestamp"):
            # A restarted controller can first see a ReplicaSet already being deleted.
            self._delete_replica_set(rs)
            return
        ref = owners.controller_ref(rs)
        if ref is not None:
            d = self.resolve_controller_ref(rs["metadata"].get("namespace", ""), ref)
            if d is not None:
                self._enqueue_deployment(d)
            return
        for d in self.deployments_for_replica_set(rs):
            self._enqueue_deployment(d)

    def _update_replica_set(self, old: Obj, cur: Obj) -> None:
        if old["metadata"].get("resourceVersion") == cur["metadata"].get("resourceVersion"):
            return  # a resync, not a change
        cur_ref, old_ref = owners.controller_ref(cur), owners.controller_ref(old)
        ref_changed = cur_ref != old_ref
        namespace = cur["metadata"].get("namespace", "")
        if ref_changed and old_ref is not None:
            d = self.resolve_controller_ref(namespace, old_ref)
            if d is not None:
                self._enqueue_deployment(d)
        if cur_ref is not None:
            d = self.resolve_controller_ref(namespace, cur_ref)
            if d is not None:
                self._enqueue_deployment(d)
            return
        if ref_changed or (old["metadata"].get("labels") or {}) != (cur["metadata"].get("labels") or {}):
            for d in self.deployments_for_replica_set(cur):
                self._enqueue_deployment(d)

    def _delete_replica_set(self, rs: Obj) -> None:
        d = self.resolve_controller_ref(rs["metadata"].get("namespace", ""), owners.controller_ref(rs))
        if d is not None:
            self._enqueue_deployment(d)

    def _delete_pod(self, pod: Obj) -> None:
        # Recreate waits for old pods to be gone; their deletion is the signal.
        d = self.deployment_for_pod(pod)
        if d is not None and util.strategy_type(d) == util.RECREATE:
            self._enqueue_deployment(d)

    def deployment_for_pod(self, pod: Obj) -> Obj | None:
        namespace = pod["metadata"].get("namespace", "")
        rs = owners.resolve_controller_ref(owners.controller_ref(pod), "ReplicaSet",
                                           lambda name: self.replica_sets.get_by(namespace, name))
        return None if rs is None else self.resolve_controller_ref(namespace, owners.controller_ref(rs))

    # -- claiming ReplicaSets (ControllerRefManager) --------------------------------

    async def get_replica_sets_for_deployment(self, d: Obj) -> list[Obj]:
        """The ReplicaSets this Deployment manages, adopting and releasing as the selector says.

        Returns per-sync copies, so later steps may update them in place.
        """
        namespace = d["metadata"]["namespace"]
        d_uid = d["metadata"].get("uid")
        sel = util.selector_of(d)
        deleting = bool(d["metadata"].get("deletionTimestamp"))
        claimed: list[Obj] = []
        problems: list[str] = []
        adoption_checked = False
        for rs in self.replica_sets.list(namespace):
            labels = rs["metadata"].get("labels") or {}
            ref = owners.controller_ref(rs)
            if ref is not None:
                if ref.get("uid") != d_uid:
                    continue  # someone else's
                if sel.matches(labels):
                    claimed.append(copy.deepcopy(rs))
                    continue
                if deleting:
                    continue
                try:
                    await self.release(d, rs)
                except errors.NotFound:
                    pass
                except errors.StatusError as e:
                    problems.append(f"releasing {util.name(rs)}: {e.message}")
                continue
            if deleting or not sel.matches(labels) or rs["metadata"].get("deletionTimestamp"):
                continue
            try:
                if not adoption_checked:
                    # The cache may not show a deletion yet; never adopt for a
                    # Deployment that is going away (kubernetes#42639).
                    await self.recheck_can_adopt(d)
                    adoption_checked = True
                claimed.append(copy.deepcopy(await self.adopt(d, rs)))
            except errors.NotFound:
                continue
            except errors.StatusError as e:
                problems.append(f"adopting {util.name(rs)}: {e.message}")
        if problems:
            raise errors.StatusError(409, "Conflict", f"deployment {namespace}/{util.name(d)}: "
                                     + "; ".join(problems))
        return claimed

    async def recheck_can_adopt(self, d: Obj) -> None:
        m = d["metadata"]
        fresh = await self.control.get_deployment(m["namespace"], m["name"])
        if fresh is None or fresh["metadata"].get("uid") != m.get("uid"):
            raise errors.Conflict("deployments", m["name"], "original Deployment is gone")
        if fresh["metadata"].get("deletionTimestamp"):
            raise errors.Conflict("deployments", m["name"], "Deployment is being deleted; cannot adopt")

    async def adopt(self, d: Obj, rs: Obj) -> Obj:
        log.info("deployment %s: adopting replica set %s", sync_mod.key_of(d), util.name(rs))
        # The uid makes the patch fail rather than adopt a same-named successor.
        patch = owners.adopt_patch(sync_mod.controller_ref(d), rs["metadata"].get("uid", ""))
        result: Obj = await self.control.patch_replica_set(rs["metadata"]["namespace"], util.name(rs), patch)
        return result

    async def release(self, d: Obj, rs: Obj) -> None:
        log.info("deployment %s: releasing replica set %s (no longer selected)", sync_mod.key_of(d), util.name(rs))
        patch = owners.release_patch(rs["metadata"].get("uid", ""), [d["metadata"].get("uid", "")])
        await self.control.patch_replica_set(rs["metadata"]["namespace"], util.name(rs), patch)

    def get_pod_map(self, d: Obj, rs_list: list[Obj]) -> dict[str, list[Obj]]:
        """Pods of this Deployment by the uid of the ReplicaSet controlling them (inactive ones too:
        Recreate must see them)."""
        pod_map: dict[str, list[Obj]] = {util.uid(rs): [] for rs in rs_list}
        for pod in self.pods.list(d["metadata"]["namespace"], util.selector_of(d)):
            ref = owners.controller_ref(pod)
            if ref is not None and ref.get("uid") in pod_map:
                pod_map[ref["uid"]].append(pod)
        return pod_map

    # -- sync -------------------------------------------------------------------------

    async def sync(self, key: str) -> None:
        cached = self.deployments.get(key)
        if cached is None:
            log.debug("deployment %s has been deleted", key)
            return
        d = copy.deepcopy(cached)
        ctx = self.ctx

        if util.selects_everything(d):
            self.recorder.event(d, "Warning", "SelectingAll",
                                "This deployment is selecting all pods. A non-empty selector is required.")
            status = d.setdefault("status", {})
            if int(status.get("observedGeneration") or 0) < int(d["metadata"].get("generation") or 0):
                status["observedGeneration"] = d["metadata"].get("generation")
                await sync_mod.update_status(ctx, d)
            return

        rs_list = await self.get_replica_sets_for_deployment(d)
        pod_map = self.get_pod_map(d, rs_list)

        if d["metadata"].get("deletionTimestamp"):
            await sync_mod.sync_status_only(ctx, d, rs_list)
            return
        # Pausing and resuming are recorded first, so a long pause never reads as no progress.
        await sync_mod.check_paused_conditions(ctx, d)
        if (d.get("spec") or {}).get("paused"):
            await sync_mod.sync(ctx, d, rs_list)
            return
        if await sync_mod.is_scaling_event(ctx, d, rs_list):
            await sync_mod.sync(ctx, d, rs_list)
            return
        kind = util.strategy_type(d)
        if kind == util.RECREATE:
            await recreate.rollout_recreate(ctx, d, rs_list, pod_map)
        elif kind == util.ROLLING_UPDATE:
            await rolling.rollout_rolling(ctx, d, rs_list)
        else:
            raise errors.BadRequest(f"unexpected deployment strategy type: {kind}")
