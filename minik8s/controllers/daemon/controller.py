"""The DaemonSet controller: one daemon pod on every eligible node (pkg/controller/daemon).

`sync(namespace/name)` as upstream's syncDaemonSet:

1. a selector that selects everything is refused (`SelectingAll`); a
   DaemonSet being deleted is left to the garbage collector;
2. history: the ControllerRevisions it controls are split into the current
   one (whose data, a patch replacing spec.template, matches the DaemonSet)
   and old ones; a missing current one is created as `<name>-<hash>` with
   revision max(old)+1, and a current one that came back (`rollout undo`)
   gets that revision number;
3. unless the expectations are outstanding (then status only): `manage`
   creates a pod for each node that should run one and has none, and deletes
   pods on nodes that should not run one, failed pods (with a per-node
   back-off) and duplicates; pods are pinned to their node with required node
   affinity on `metadata.name` and placed by the scheduler (Kubernetes ≥ 1.12),
   carry the default DaemonSet tolerations and the `controller-revision-hash`
   and `pod-template-generation` labels;
4. `rolling_update` (RollingUpdate strategy): without surge, delete old pods
   while at most maxUnavailable daemon pods are unavailable (manage creates
   the new ones); with maxSurge, create a new pod next to an old one and delete
   the old one once the new one is available. OnDelete leaves old pods alone;
5. old revisions beyond revisionHistoryLimit whose hash no pod carries go;
6. status (desired/current/ready/available/updated/misscheduled/unavailable,
   observedGeneration) is written when it changed.
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
from minik8s.api import selectors
from minik8s.client import events
from minik8s.client import informer as informer_mod
from minik8s.client import rest
from minik8s.controllers import base
from minik8s.controllers import expectations as expectations_mod
from minik8s.controllers import podcontrol
from minik8s.controllers import replicaset
from minik8s.controllers.daemon import util

log = logging.getLogger(__name__)

Obj = dict[str, Any]

DAEMONSETS = resources.must("apps", "v1", "daemonsets")
REVISIONS = resources.must("apps", "v1", "controllerrevisions")
PODS = resources.must("", "v1", "pods")
NODES = resources.must("", "v1", "nodes")
BURST_REPLICAS = 250


class DaemonClient(Protocol):
    async def get_or_none(self, res: resources.Resource, name: str, namespace: str | None = None
                          ) -> Obj | None: ...

    async def get(self, res: resources.Resource, name: str, namespace: str | None = None) -> Obj: ...

    async def create(self, res: resources.Resource, obj: Obj, namespace: str | None = None) -> Obj: ...

    async def update(self, res: resources.Resource, obj: Obj) -> Obj: ...

    async def update_status(self, res: resources.Resource, obj: Obj) -> Obj: ...

    async def delete(self, res: resources.Resource, name: str, namespace: str | None = None) -> Obj: ...

    async def patch(self, res: resources.Resource, name: str, patch: Any, namespace: str | None = None, *,
                    patch_type: str = ...) -> Obj: ...


def _selector(ds: Obj) -> selectors.LabelSelector:
    sel = (ds.get("spec") or {}).get("selector")
    if not sel:
        return selectors.NOTHING
    return selectors.from_label_selector(sel)


class DaemonSetsController(base.Controller):
    name = "daemonset"
    workers = 2

    def __init__(self, client: DaemonClient, daemonsets: informer_mod.Informer, revisions: informer_mod.Informer,
                 pods: informer_mod.Informer, nodes: informer_mod.Informer, pod_control: podcontrol.PodControl,
                 recorder: events.EventRecorder | None = None, *,
                 expectations: expectations_mod.Expectations | None = None, clock: Callable[[], float] = time.time,
                 burst_replicas: int = BURST_REPLICAS) -> None:
        super().__init__()
        self.client = client
        self.daemonsets = daemonsets
        self.revisions = revisions
        self.pods = pods
        self.nodes = nodes
        self.pod_control = pod_control
        self.recorder = recorder
        self.expectations = expectations or expectations_mod.Expectations()
        self.clock = clock
        self.burst_replicas = burst_replicas
        self.failed_pods_backoff = util.Backoff()
        daemonsets.add_handlers(on_add=self._enqueue, on_update=lambda old, cur: self._enqueue(cur),
                                on_delete=self.on_ds_delete)
        revisions.add_handlers(on_add=self.on_revision, on_update=lambda old, cur: self.on_revision(cur),
                               on_delete=self.on_revision)
        pods.add_handlers(on_add=self.on_pod_add, on_update=self.on_pod_update, on_delete=self.on_pod_delete)
        nodes.add_handlers(on_add=self.on_node_add, on_update=self.on_node_update, on_delete=self.on_node_delete)

    # -- handlers ----------------------------------------------------------------------------------

    def _enqueue(self, ds: Obj) -> None:
        self.enqueue(informer_mod.key_of(ds))

    def on_ds_delete(self, ds: Obj) -> None:
        key = informer_mod.key_of(ds)
        self.expectations.delete_expectations(key)
        self.enqueue(key)

    def _owner(self, obj: Obj) -> Obj | None:
        ref = owners.controller_ref(obj)
        if ref is None or ref.get("kind") != DAEMONSETS.kind:
            return None
        ds = self.daemonsets.get_by(obj["metadata"].get("namespace"), ref.get("name", ""))
        if ds is None or ds["metadata"].get("uid") != ref.get("uid"):
            return None
        return ds

    def _selecting(self, obj: Obj) -> list[Obj]:
        out = []
        for ds in self.daemonsets.list(obj["metadata"].get("namespace")):
            try:
                if _selector(ds).matches(obj["metadata"].get("labels")):
                    out.append(ds)
            except errors.StatusError:
                continue
        return out

    def on_revision(self, rev: Obj) -> None:
        ds = self._owner(rev)
        if ds is not None:
            self._enqueue(ds)
        elif owners.controller_ref(rev) is None:
            for candidate in self._selecting(rev):
                self._enqueue(candidate)

    def on_pod_add(self, pod: Obj) -> None:
        if pod["metadata"].get("deletionTimestamp"):
            self.on_pod_delete(pod)
            return
        ds = self._owner(pod)
        if ds is not None:
            key = informer_mod.key_of(ds)
            self.expectations.creation_observed(key)
            self.enqueue(key)
            return
        if owners.controller_ref(pod) is None:
            for candidate in self._selecting(pod):
                self._enqueue(candidate)

    def on_pod_update(self, old: Obj, cur: Obj) -> None:
        if old["metadata"].get("resourceVersion") == cur["metadata"].get("resourceVersion"):
            return
        if cur["metadata"].get("deletionTimestamp"):
            self.on_pod_delete(cur)
        old_ds, cur_ds = self._owner(old), self._owner(cur)
        if old_ds is not None and (cur_ds is None or old_ds["metadata"]["uid"] != cur_ds["metadata"]["uid"]):
            self._enqueue(old_ds)
        if cur_ds is not None:
            self._enqueue(cur_ds)
        elif owners.controller_ref(cur) is None and (
                old["metadata"].get("labels") != cur["metadata"].get("labels")
                or owners.controller_ref(old) is not None):
            for candidate in self._selecting(cur):
                self._enqueue(candidate)

    def on_pod_delete(self, pod: Obj) -> None:
        ds = self._owner(pod)
        if ds is None:
            return
        key = informer_mod.key_of(ds)
        self.expectations.deletion_observed(key, replicaset.pod_key(pod))
        self.enqueue(key)

    def on_node_add(self, node: Obj) -> None:
        for ds in self.daemonsets.list():
            if util.node_should_run(node, ds).run:
                self._enqueue(ds)

    def on_node_delete(self, node: Obj) -> None:
        # Upstream leaves this to the pod GC, whose deletions wake the DaemonSets;
        # minik8s has none, so a node that goes wakes those that ran on it.
        for ds in self.daemonsets.list():
            if util.node_should_run(node, ds).keep:
                self._enqueue(ds)

    def on_node_update(self, old: Obj, cur: Obj) -> None:
        # shouldIgnoreNodeUpdate: only labels and taints change where daemons belong.
        if old["metadata"].get("labels") == cur["metadata"].get("labels") and \
                (old.get("spec") or {}).get("taints") == (cur.get("spec") or {}).get("taints"):
            return
        for ds in self.daemonsets.list():
            if util.node_should_run(old, ds) != util.node_should_run(cur, ds):
                self._enqueue(ds)

    # -- sync --------------------------------------------------------------------------------------

    async def sync(self, key: str) -> None:
        cached = self.daemonsets.get(key)
        if cached is None:
            self.expectations.delete_expectations(key)
            return
        ds = podcontrol.with_type(copy.deepcopy(cached), DAEMONSETS)
        sel = (ds.get("spec") or {}).get("selector") or {}
        if not sel.get("matchLabels") and not sel.get("matchExpressions"):
            self._event(ds, "Warning", "SelectingAll",
                        "This daemon set is selecting all pods. A non-empty selector is required.")
            return
        if ds["metadata"].get("deletionTimestamp"):
            return
        nodes = self.nodes.list()
        current, old = await self.construct_history(ds)
        hash_ = current["metadata"].get("labels", {}).get(util.HASH_LABEL, "")
        if not self.expectations.satisfied(key):
            await self.update_status(ds, nodes, hash_, update_observed_generation=False)
            return
        error: errors.StatusError | None = None
        try:
            await self.manage(key, ds, nodes, hash_)
            if self.expectations.satisfied(key) and \
                    ((ds.get("spec") or {}).get("updateStrategy") or {}).get("type") == "RollingUpdate":
                await self.rolling_update(key, ds, nodes, hash_)
            await self.cleanup_history(ds, old)
        except errors.StatusError as e:
            error = e
        await self.update_status(ds, nodes, hash_, update_observed_generation=True)
        if error is not None:
            raise error

    async def _daemon_pods(self, ds: Obj) -> list[Obj]:
        meta = ds["metadata"]
        manager = podcontrol.ControllerRefManager(
            ds, owners.new_controller_ref(ds, DAEMONSETS.api_version, DAEMONSETS.kind), _selector(ds), patch=self.pod_control.patch_pod,
            recheck=lambda: self.client.get_or_none(DAEMONSETS, meta["name"], meta["namespace"]),
            record=lambda type_, reason, message: self._event(ds, type_, reason, message))
        return await manager.claim(self.pods.list(meta["namespace"]))

    async def nodes_to_daemon_pods(self, ds: Obj, include_deleted_terminal: bool = False) -> dict[str, list[Obj]]:
        """getNodesToDaemonPods: the DaemonSet's pods by the node they run on or are pinned to."""
        out: dict[str, list[Obj]] = {}
        for pod in await self._daemon_pods(ds):
            terminal = (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")
            if not include_deleted_terminal and terminal and pod["metadata"].get("deletionTimestamp"):
                continue
            node = util.target_node(pod)
            if node is not None:
                out.setdefault(node, []).append(pod)
        return out

    async def manage(self, key: str, ds: Obj, nodes: list[Obj], hash_: str) -> None:
        node_pods = await self.nodes_to_daemon_pods(ds)
        needing: list[str] = []
        to_delete: list[str] = []
        for node in nodes:
            add, remove = self._pods_should_be_on_node(node, node_pods, ds, hash_)
            needing += add
            to_delete += remove
        # Pods pinned to nodes that no longer exist would never be scheduled.
        names = {n["metadata"]["name"] for n in nodes}
        for node_name, pods in node_pods.items():
            if node_name not in names:
                to_delete += [p["metadata"]["name"] for p in pods if not (p.get("spec") or {}).get("nodeName")]
        await self.sync_nodes(key, ds, to_delete, needing, hash_)

    def _pods_should_be_on_node(self, node: Obj, node_pods: dict[str, list[Obj]], ds: Obj, hash_: str
                                ) -> tuple[list[str], list[str]]:
        """podsShouldBeOnNode: (nodes needing a pod, pods to delete)."""
        name = node["metadata"]["name"]
        should = util.node_should_run(node, ds)
        pods = node_pods.get(name)
        needing: list[str] = []
        to_delete: list[str] = []
        if should.run and not pods:
            return [name], []
        if should.keep:
            running: list[Obj] = []
            for pod in pods or []:
                if pod["metadata"].get("deletionTimestamp"):
                    continue
                phase = (pod.get("status") or {}).get("phase")
                if phase == "Failed":
                    # The kubelet may keep refusing it: delete failed pods with a back-off.
                    backoff_key = f"{ds['metadata'].get('namespace')}/{ds['metadata']['name']}/" \
                                  f"{ds['metadata'].get('generation')}/{name}"
                    now = self.clock()
                    if self.failed_pods_backoff.in_backoff(backoff_key, now):
                        self.enqueue_after(informer_mod.key_of(ds), self.failed_pods_backoff.get(backoff_key))
                        continue
                    self.failed_pods_backoff.next(backoff_key, now)
                    self._event(ds, "Warning", util.FAILED_DAEMON_POD,
                                f"Found failed daemon pod {pod['metadata'].get('namespace')}/{pod['metadata']['name']}"
                                f" on node {name}, will try to kill it")
                    to_delete.append(pod["metadata"]["name"])
                elif phase == "Succeeded":
                    self._event(ds, "Normal", util.SUCCEEDED_DAEMON_POD,
                                f"Found succeeded daemon pod {pod['metadata'].get('namespace')}/"
                                f"{pod['metadata']['name']} on node {name}, will try to delete it")
                    to_delete.append(pod["metadata"]["name"])
                else:
                    running.append(pod)
            running = util.oldest_first(running)
            if not util.allows_surge(ds):
                to_delete += [p["metadata"]["name"] for p in running[1:]]
                return needing, to_delete
            if len(running) <= 1:
                if not running and should.run:
                    needing.append(name)
                return needing, to_delete
            # Surging: keep the oldest new pod and, while it is not available, the oldest ready old one.
            oldest_new = oldest_old = None
            for pod in running:
                if (pod["metadata"].get("labels") or {}).get(util.HASH_LABEL) == hash_:
                    if oldest_new is None:
                        oldest_new = pod
                        continue
                elif oldest_old is None:
                    oldest_old = pod
                    continue
                to_delete.append(pod["metadata"]["name"])
            if oldest_new is not None and oldest_old is not None:
                min_ready = int((ds.get("spec") or {}).get("minReadySeconds") or 0)
                if not util.is_available(oldest_old, 0, self.clock()) or \
                        util.is_available(oldest_new, min_ready, self.clock()):
                    to_delete.append(oldest_old["metadata"]["name"])
            return needing, to_delete
        if pods:
            to_delete += [p["metadata"]["name"] for p in pods if not p["metadata"].get("deletionTimestamp")]
        return needing, to_delete

    async def sync_nodes(self, key: str, ds: Obj, to_delete: list[str], nodes_needing: list[str], hash_: str) -> None:
        """syncNodes: create pinned pods in slow-start batches, delete the others."""
        creates = nodes_needing[:self.burst_replicas]
        deletes = to_delete[:self.burst_replicas]
        if not creates and not deletes:
            return
        namespace = ds["metadata"]["namespace"]
        self.expectations.expect(key, len(creates), [f"{namespace}/{n}" for n in deletes])
        template = util.pod_template(ds, hash_)
        ref = owners.new_controller_ref(ds, DAEMONSETS.api_version, DAEMONSETS.kind)
        pending = list(creates)

        async def create() -> None:
            node_name = pending.pop(0)
            pod_template = copy.deepcopy(template)
            spec = pod_template.setdefault("spec", {})
            spec["affinity"] = util.pin_to_node(spec.get("affinity"), node_name)
            await self.pod_control.create_pods(namespace, pod_template, ds, ref)

        if creates:
            log.info("daemonset %s: creating %d pods (nodes %s)", key, len(creates), ", ".join(creates))
        successes, error = await replicaset.slow_start_batch(len(creates), replicaset.SLOW_START_INITIAL_BATCH,
                                                             create)
        for _ in range(len(creates) - successes):
            self.expectations.creation_observed(key)

        async def delete(name: str) -> None:
            try:
                await self.pod_control.delete_pod(namespace, name, ds)
            except errors.StatusError as e:
                self.expectations.deletion_observed(key, f"{namespace}/{name}")
                if not isinstance(e, errors.NotFound):
                    raise

        results = await asyncio.gather(*(delete(n) for n in deletes), return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result
        if error is not None and not replicaset._namespace_terminating(error):  # noqa: SLF001
            # (A terminating namespace takes no new pods; that is not this controller's failure.)
            raise error

    async def rolling_update(self, key: str, ds: Obj, nodes: list[Obj], hash_: str) -> None:
        node_pods = await self.nodes_to_daemon_pods(ds)
        desired = 0
        for node in nodes:
            if util.node_should_run(node, ds).run:
                desired += 1
                node_pods.setdefault(node["metadata"]["name"], [])
        max_surge = util.surge_count(ds, desired)
        max_unavailable = util.unavailable_count(ds, desired)
        if desired > 0 and max_unavailable == 0 and max_surge == 0:
            max_unavailable = 1
        now = self.clock()
        min_ready = int((ds.get("spec") or {}).get("minReadySeconds") or 0)
        generation = util.template_generation(ds)
        by_name = {n["metadata"]["name"]: n for n in nodes}

        def split(pods: list[Obj]) -> tuple[Obj | None, Obj | None, bool]:
            new = old = None
            for pod in pods:
                if pod["metadata"].get("deletionTimestamp"):
                    continue
                if util.is_pod_updated(pod, hash_, generation):
                    if new is not None:
                        return None, None, False
                    new = pod
                else:
                    if old is not None:
                        return None, None, False
                    old = pod
            return new, old, True

        if max_surge == 0:
            unavailable = 0
            replacements: list[str] = []
            candidates: list[str] = []
            for node_name in sorted(node_pods):
                new, old, ok = split(node_pods[node_name])
                if not ok or (old is None and new is None) or (old is not None and new is not None):
                    unavailable += 1
                elif new is not None:
                    if not util.is_available(new, min_ready, now):
                        unavailable += 1
                elif old is not None:
                    if not util.is_available(old, min_ready, now):
                        replacements.append(old["metadata"]["name"])
                        unavailable += 1
                    elif unavailable < max_unavailable:
                        candidates.append(old["metadata"]["name"])
            remaining = min(max(max_unavailable - unavailable, 0), len(candidates))
            await self.sync_nodes(key, ds, replacements + candidates[:remaining], [], hash_)
            return

        to_delete: list[str] = []
        should_not_run: list[str] = []
        candidate_nodes: list[str] = []
        allowed_nodes: list[str] = []
        surge = available = 0
        for node_name in sorted(node_pods):
            new, old, ok = split(node_pods[node_name])
            if not ok:
                surge += 1
                continue
            if old is not None:
                available += util.is_available(old, min_ready, now)
            elif new is not None:
                available += util.is_available(new, min_ready, now)
            if old is None:
                continue
            target = by_name.get(node_name)
            runs = target is not None and util.node_should_run(target, ds).run
            if new is None:
                if not util.is_available(old, min_ready, now):
                    if not runs:
                        to_delete.append(old["metadata"]["name"])
                        continue
                    allowed_nodes.append(node_name)
                else:
                    if not runs:
                        should_not_run.append(old["metadata"]["name"])
                        continue
                    if surge >= max_surge:
                        continue
                    candidate_nodes.append(node_name)
            else:
                if not util.is_available(new, min_ready, now):
                    surge += 1
                    continue
                to_delete.append(old["metadata"]["name"])
        deletable = available - desired
        if deletable > 0:
            to_delete += should_not_run[:deletable]
        remaining = min(max(max_surge - surge, 0), len(candidate_nodes))
        await self.sync_nodes(key, ds, to_delete, allowed_nodes + candidate_nodes[:remaining], hash_)

    # -- history -----------------------------------------------------------------------------------

    async def construct_history(self, ds: Obj) -> tuple[Obj, list[Obj]]:
        """constructHistory: (the current revision, the old ones)."""
        meta = ds["metadata"]
        manager = podcontrol.ControllerRefManager(
            ds, owners.new_controller_ref(ds, DAEMONSETS.api_version, DAEMONSETS.kind), _selector(ds), patch=self._patch_revision,
            recheck=lambda: self.client.get_or_none(DAEMONSETS, meta["name"], meta["namespace"]),
            kind_name="controllerrevision")
        histories = await manager.claim(self.revisions.list(meta["namespace"]))
        current: list[Obj] = []
        old: list[Obj] = []
        for history in histories:
            labels = history["metadata"].get("labels") or {}
            if util.HASH_LABEL not in labels:
                history = copy.deepcopy(history)
                history["metadata"].setdefault("labels", {})[util.HASH_LABEL] = history["metadata"]["name"]
                history = await self.client.update(REVISIONS, history)
            (current if util.match_revision(ds, history) else old).append(history)
        revision = max((int(h.get("revision") or 0) for h in old), default=0) + 1
        if not current:
            return await self.snapshot(ds, revision), old
        cur = sorted(current, key=lambda h: (-int(h.get("revision") or 0), h["metadata"]["name"]))[0]
        for duplicate in current:
            if duplicate is not cur:
                # dedupCurHistories: pods of a duplicate move to the kept revision's hash.
                await self._relabel_pods(ds, duplicate, cur)
                try:
                    await self.client.delete(REVISIONS, duplicate["metadata"]["name"], meta["namespace"])
                except errors.NotFound:
                    pass
        if int(cur.get("revision") or 0) < revision:
            cur = copy.deepcopy(cur)
            cur["revision"] = revision
            cur = await self.client.update(REVISIONS, cur)
        return cur, old

    async def _relabel_pods(self, ds: Obj, duplicate: Obj, keep: Obj) -> None:
        old_hash = (duplicate["metadata"].get("labels") or {}).get(util.HASH_LABEL)
        new_hash = (keep["metadata"].get("labels") or {}).get(util.HASH_LABEL)
        for pod in await self._daemon_pods(ds):
            if (pod["metadata"].get("labels") or {}).get(util.HASH_LABEL) == old_hash:
                await self.pod_control.patch_pod(pod["metadata"]["namespace"], pod["metadata"]["name"],
                                                 {"metadata": {"labels": {util.HASH_LABEL: new_hash}}})

    async def _patch_revision(self, namespace: str, name: str, body: Obj) -> Obj:
        return await self.client.patch(REVISIONS, name, body, namespace, patch_type=rest.STRATEGIC_PATCH)

    async def snapshot(self, ds: Obj, revision: int) -> Obj:
        meta = ds["metadata"]
        hash_ = util.revision_hash(ds)
        template = (ds.get("spec") or {}).get("template") or {}
        labels = dict((template.get("metadata") or {}).get("labels") or {})
        labels[util.HASH_LABEL] = hash_
        history: Obj = {"apiVersion": "apps/v1", "kind": "ControllerRevision",
                        "metadata": {"name": f"{meta['name']}-{hash_}", "namespace": meta["namespace"],
                                     "labels": labels,
                                     "ownerReferences": [owners.new_controller_ref(ds, DAEMONSETS.api_version, DAEMONSETS.kind)]},
                        "data": util.revision_patch(ds), "revision": revision}
        if meta.get("annotations"):
            history["metadata"]["annotations"] = dict(meta["annotations"])
        try:
            return await self.client.create(REVISIONS, history, meta["namespace"])
        except errors.AlreadyExists:
            existing = await self.client.get(REVISIONS, history["metadata"]["name"], meta["namespace"])
            if util.match_revision(ds, existing):
                return existing
            # A hash collision: bump collisionCount (from fresh data) so the next hash differs.
            fresh = await self.client.get(DAEMONSETS, meta["name"], meta["namespace"])
            status = fresh.setdefault("status", {})
            if status.get("collisionCount") != (ds.get("status") or {}).get("collisionCount"):
                raise errors.Conflict("daemonsets", meta["name"], "stale collision count; will retry") from None
            status["collisionCount"] = int(status.get("collisionCount") or 0) + 1
            await self.client.update_status(DAEMONSETS, fresh)
            raise

    async def cleanup_history(self, ds: Obj, old: list[Obj]) -> None:
        limit = int((ds.get("spec") or {}).get("revisionHistoryLimit") or 0)
        to_kill = len(old) - limit
        if to_kill <= 0:
            return
        live = {(p["metadata"].get("labels") or {}).get(util.HASH_LABEL)
                for pods in (await self.nodes_to_daemon_pods(ds, include_deleted_terminal=True)).values()
                for p in pods}
        for history in sorted(old, key=lambda h: int(h.get("revision") or 0)):
            if to_kill <= 0:
                break
            if (history["metadata"].get("labels") or {}).get(util.HASH_LABEL) in live:
                continue
            try:
                await self.client.delete(REVISIONS, history["metadata"]["name"], ds["metadata"]["namespace"])
            except errors.NotFound:
                pass
            to_kill -= 1

    # -- status ------------------------------------------------------------------------------------

    async def update_status(self, ds: Obj, nodes: list[Obj], hash_: str, *, update_observed_generation: bool) -> None:
        node_pods = await self.nodes_to_daemon_pods(ds)
        desired = current = misscheduled = ready = updated = available = 0
        now = self.clock()
        min_ready = int((ds.get("spec") or {}).get("minReadySeconds") or 0)
        generation = util.template_generation(ds)
        for node in nodes:
            should = util.node_should_run(node, ds)
            pods = node_pods.get(node["metadata"]["name"]) or []
            if should.run:
                desired += 1
                if not pods:
                    continue
                current += 1
                pod = util.oldest_first(pods)[0]
                if util.is_available(pod, 0, now):
                    ready += 1
                    if util.is_available(pod, min_ready, now):
                        available += 1
                if util.is_pod_updated(pod, hash_, generation):
                    updated += 1
            elif pods:
                misscheduled += 1
        new: Obj = {"currentNumberScheduled": current, "numberMisscheduled": misscheduled,
                    "desiredNumberScheduled": desired, "numberReady": ready}
        for field, value in (("updatedNumberScheduled", updated), ("numberAvailable", available),
                             ("numberUnavailable", desired - available)):
            if value:
                new[field] = value
        old = ds.get("status") or {}
        generation_now = ds["metadata"].get("generation")
        observed = generation_now if update_observed_generation else old.get("observedGeneration")
        if observed:
            new["observedGeneration"] = observed
        for field in ("collisionCount", "conditions"):
            if old.get(field) is not None:
                new[field] = old[field]
        if new != old:
            body = copy.deepcopy(ds)
            body["status"] = new
            try:
                await self.client.update_status(DAEMONSETS, body)
            except errors.Conflict:
                fresh = await self.client.get(DAEMONSETS, ds["metadata"]["name"], ds["metadata"]["namespace"])
                for field in ("collisionCount", "conditions"):
                    if (fresh.get("status") or {}).get(field) is not None:
                        new[field] = fresh["status"][field]
                fresh["status"] = new
                await self.client.update_status(DAEMONSETS, fresh)
        if min_ready > 0 and ready != available:
            self.enqueue_after(informer_mod.key_of(ds), float(min_ready))

    def _event(self, ds: Obj, type_: str, reason: str, message: str) -> None:
        if self.recorder is not None:
            self.recorder.event(ds, type_, reason, message)


def new_controller(client: rest.Client, factory: informer_mod.InformerFactory, recorder: events.EventRecorder,
                   options: dict[str, Any] | None = None) -> DaemonSetsController:
    options = options or {}
    return DaemonSetsController(
        client, factory.informer(DAEMONSETS), factory.informer(REVISIONS), factory.informer(PODS),
        factory.informer(NODES), podcontrol.RealPodControl(client, recorder), recorder,
        expectations=expectations_mod.Expectations(
            timeout=float(options.get("expectations_timeout", expectations_mod.DEFAULT_TIMEOUT))))
