"""The garbage collector: ownerReferences drive cascading deletion.

Informers over every kind that owns or is owned here (pods, ReplicaSets,
ReplicationControllers, Deployments) feed a small graph: uid → object, and
owner uid → dependents. Handlers only update the graph and enqueue object
uids; `sync(uid)` decides, like upstream's attemptToDeleteItem /
attemptToOrphan workers:

- Background (the default): once every owner of an object is gone, delete
  it. An owner absent from the graph is checked with a live GET (by
  apiVersion/kind/name, comparing uid) before anything is deleted, because
  the cache may simply not have seen it yet; confirmed-absent uids are
  remembered (uids are never reused).
- Foreground (`foregroundDeletion` finalizer on the owner): its dependents
  are deleted (those that have dependents of their own in the foreground as
  well); when no dependent with blockOwnerDeletion is left, the finalizer is
  removed and the API server removes the owner last.
- Orphan (`orphan` finalizer): the owner's reference is removed from every
  dependent, then the finalizer, so the dependents outlive their owner.

An object with another owner that still exists is never deleted; its
references to gone or foreground-deleting owners are removed instead.
"""
from __future__ import annotations

import collections
import dataclasses
import logging
from typing import Any, Iterable, Protocol

from minik8s.api import errors
from minik8s.api import owners
from minik8s.api import resources
from minik8s.client import events
from minik8s.client import informer as informer_mod
from minik8s.client import rest
from minik8s.controllers import base
from minik8s.controllers import podcontrol

log = logging.getLogger(__name__)

Obj = dict[str, Any]

FOREGROUND = "foregroundDeletion"
ORPHAN = "orphan"

# The kinds whose objects the collector watches: everything here that can
# own or be owned. Others (an owner of a kind we do not watch) are reached by
# live GETs only.
WATCHED: tuple[tuple[str, str, str], ...] = (
    ("", "v1", "pods"),
    ("apps", "v1", "replicasets"),
    ("", "v1", "replicationcontrollers"),
    ("apps", "v1", "deployments"),
    ("apps", "v1", "daemonsets"),
    ("apps", "v1", "controllerrevisions"),
    ("batch", "v1", "jobs"),
    ("batch", "v1", "cronjobs"),
)

ABSENT_CACHE_SIZE = 1024


@dataclasses.dataclass
class Node:
    """One object in the graph: its resource and the latest version the informer delivered."""

    res: resources.Resource
    obj: Obj

    @property
    def meta(self) -> Obj:
        meta: Obj = self.obj["metadata"]
        return meta

    @property
    def uid(self) -> str:
        return str(self.meta["uid"])

    @property
    def namespace(self) -> str | None:
        return self.meta.get("namespace")

    @property
    def name(self) -> str:
        return str(self.meta["name"])

    @property
    def owners(self) -> list[Obj]:
        return owners.refs({"metadata": self.meta})

    @property
    def finalizers(self) -> list[str]:
        return list(self.meta.get("finalizers") or [])

    @property
    def being_deleted(self) -> bool:
        return bool(self.meta.get("deletionTimestamp"))

    @property
    def deleting_dependents(self) -> bool:
        return self.being_deleted and FOREGROUND in self.finalizers

    @property
    def orphaning(self) -> bool:
        return self.being_deleted and ORPHAN in self.finalizers

    def ref_to(self, owner_uid: str) -> Obj | None:
        for ref in self.owners:
            if ref.get("uid") == owner_uid:
                return ref
        return None

    def describe(self) -> str:
        return f"{self.res.kind} {self.namespace + '/' if self.namespace else ''}{self.name}"


class Graph:
    """uid → Node, and owner uid → dependent uids (owners need not be in the graph)."""

    def __init__(self) -> None:
        self.nodes: dict[str, Node] = {}
        self._dependents: dict[str, set[str]] = {}

    def get(self, uid: str) -> Node | None:
        return self.nodes.get(uid)

    def upsert(self, res: resources.Resource, obj: Obj) -> tuple[Node | None, Node]:
        """Store the latest version of `obj`; return (previous node, new node)."""
        node = Node(res, obj)
        old = self.nodes.get(node.uid)
        if old is not None:
            self._unlink(old)
        self.nodes[node.uid] = node
        for ref in node.owners:
            self._dependents.setdefault(str(ref.get("uid")), set()).add(node.uid)
        return old, node

    def remove(self, uid: str) -> Node | None:
        node = self.nodes.pop(uid, None)
        if node is not None:
            self._unlink(node)
        return node

    def dependents(self, owner_uid: str) -> list[Node]:
        return [self.nodes[u] for u in sorted(self._dependents.get(owner_uid, ())) if u in self.nodes]

    def _unlink(self, node: Node) -> None:
        for ref in node.owners:
            deps = self._dependents.get(str(ref.get("uid")))
            if deps is not None:
                deps.discard(node.uid)
                if not deps:
                    del self._dependents[str(ref.get("uid"))]


class GCClient(Protocol):
    """The part of rest.Client the collector uses (a seam for unit tests)."""

    async def get(self, res: resources.Resource, name: str, namespace: str | None = None) -> Obj: ...

    async def patch(self, res: resources.Resource, name: str, patch: Any, namespace: str | None = None, *,
                    patch_type: str = ..., subresource: str | None = None) -> Obj: ...

    async def delete(self, res: resources.Resource, name: str, namespace: str | None = None, *,
                     grace_period: int | None = None, propagation: str | None = None,
                     preconditions: dict[str, str] | None = None) -> Obj: ...


@dataclasses.dataclass(frozen=True)
class OwnerStates:
    """An object's owner references sorted by what their owners are doing (upstream classifyReferences)."""

    solid: list[Obj]
    dangling: list[Obj]
    waiting: list[Obj]  # owners being deleted in the foreground


class GarbageCollector(base.Controller):
    name = "garbagecollector"
    workers = 4

    def __init__(self, client: rest.Client | GCClient, recorder: events.EventRecorder | None = None, *,
                 informers: Iterable[informer_mod.Informer] = (), absent_cache_size: int = ABSENT_CACHE_SIZE) -> None:
        super().__init__()
        self.client = client
        self.recorder = recorder
        self.graph = Graph()
        self._absent: collections.OrderedDict[str, None] = collections.OrderedDict()
        self._absent_size = absent_cache_size
        for inf in informers:
            self.watch(inf)

    def watch(self, inf: informer_mod.Informer) -> None:
        """Feed the graph from one informer."""
        res = inf.res
        inf.add_handlers(on_add=lambda obj: self.on_add(res, obj),
                         on_update=lambda old, new: self.on_update(res, old, new),
                         on_delete=lambda obj: self.on_delete(res, obj))

    # -- handlers: graph bookkeeping and enqueueing only -------------------------------

    def on_add(self, res: resources.Resource, obj: Obj) -> None:
        self.on_update(res, None, obj)

    def on_update(self, res: resources.Resource, _old: Obj | None, obj: Obj) -> None:
        if not (obj.get("metadata") or {}).get("uid"):
            return
        before, node = self.graph.upsert(res, obj)
        old_owners = {str(r.get("uid")) for r in before.owners} if before else set()
        new_owners = {str(r.get("uid")) for r in node.owners}
        # An owner we have never seen may be gone already: verify (live) in sync.
        if any(uid not in self.graph.nodes for uid in new_owners - old_owners):
            self.enqueue(node.uid)
        # A foreground-deleting owner that lost a dependent may be finished.
        for uid in old_owners - new_owners:
            owner = self.graph.get(uid)
            if owner is not None and owner.deleting_dependents:
                self.enqueue(uid)
        if node.deleting_dependents and not (before and before.deleting_dependents):
            self.enqueue(node.uid)
            for dep in self.graph.dependents(node.uid):
                self.enqueue(dep.uid)
        if node.orphaning and not (before and before.orphaning):
            self.enqueue(node.uid)

    def on_delete(self, res: resources.Resource, obj: Obj) -> None:
        uid = (obj.get("metadata") or {}).get("uid")
        if not uid:
            return
        node = self.graph.remove(str(uid))
        self._remember_absent(str(uid))
        # Their owner is gone: each may now be garbage.
        for dep in self.graph.dependents(str(uid)):
            self.enqueue(dep.uid)
        # An owner waiting for this dependent may be able to finish.
        for ref in (node.owners if node else []):
            owner = self.graph.get(str(ref.get("uid")))
            if owner is not None and owner.deleting_dependents:
                self.enqueue(owner.uid)

    # -- sync ---------------------------------------------------------------------------

    async def sync(self, key: str) -> None:
        node = self.graph.get(key)
        if node is None:
            return
        if node.orphaning:
            await self.orphan_dependents(node)
            return
        if node.deleting_dependents:
            await self.process_deleting_dependents(node)
            return
        if node.being_deleted or not node.owners:
            return
        await self.attempt_to_delete(node)

    async def process_deleting_dependents(self, node: Node) -> None:
        """An owner in foreground deletion: finish once no blocking dependent is left."""
        blocking = [dep for dep in self.graph.dependents(node.uid)
                    if (dep.ref_to(node.uid) or {}).get("blockOwnerDeletion")]
        if not blocking:
            if await self.remove_finalizer(node, FOREGROUND):
                self._event(node, "Normal", "DependentsDeleted",
                            f"All dependents of {node.describe()} are deleted; removing it")
            return
        for dep in blocking:
            if not dep.deleting_dependents:
                self.enqueue(dep.uid)
        log.info("gc: %s waits for %d dependents", node.describe(), len(blocking))

    async def attempt_to_delete(self, node: Node) -> None:
        """A dependent: delete it if no owner still holds it."""
        latest = await self._get_live(node.res, node.name, node.namespace)
        if latest is None or latest["metadata"].get("uid") != node.uid:
            return  # already gone; the informer will say so
        if latest["metadata"].get("deletionTimestamp"):
            return  # being deleted already; an update event brings it back if it needs us
        refs = latest["metadata"].get("ownerReferences") or []
        if not refs:
            return
        states = await self.classify(node, refs)
        if states.solid:
            if not states.dangling and not states.waiting:
                return
            # Keep the object for its remaining owners; drop the references
            # that could only block (waiting) or mislead (dangling).
            gone = [str(r.get("uid")) for r in states.dangling + states.waiting]
            log.info("gc: %s keeps %d owners; removing references to %s", node.describe(),
                     len(states.solid), ", ".join(gone))
            await self._patch_remove_refs(node, gone)
            return
        if states.waiting and self.graph.dependents(node.uid):
            # Our owner waits for us, and we have dependents of our own: delete
            # in the foreground too, so ours go first. A dependent already
            # deleting its own dependents may wait on us: unblock to avoid a cycle.
            if any(dep.deleting_dependents for dep in self.graph.dependents(node.uid)):
                await self._unblock_owner_refs(node, latest)
            await self._delete(node, "Foreground", states)
            return
        finalizers = latest["metadata"].get("finalizers") or []
        policy = "Orphan" if ORPHAN in finalizers else "Foreground" if FOREGROUND in finalizers else "Background"
        await self._delete(node, policy, states)

    async def classify(self, node: Node, refs: list[Obj]) -> OwnerStates:
        solid: list[Obj] = []
        dangling: list[Obj] = []
        waiting: list[Obj] = []
        for ref in refs:
            uid = str(ref.get("uid"))
            owner = self.graph.get(uid)
            if owner is not None:
                (waiting if owner.deleting_dependents else solid).append(ref)
                continue
            if uid in self._absent:
                dangling.append(ref)
                continue
            res = resources.by_kind(str(ref.get("kind")), ref.get("apiVersion"))
            if res is None:
                # An owner we cannot look up is one we cannot prove gone.
                log.info("gc: %s: owner kind %s/%s unknown; keeping it", node.describe(), ref.get("apiVersion"),
                         ref.get("kind"))
                solid.append(ref)
                continue
            live = await self._get_live(res, str(ref.get("name")), node.namespace if res.namespaced else None)
            if live is None or live["metadata"].get("uid") != uid:
                self._remember_absent(uid)
                dangling.append(ref)
            elif live["metadata"].get("deletionTimestamp") and FOREGROUND in (live["metadata"].get("finalizers") or []):
                waiting.append(ref)
            else:
                solid.append(ref)
        return OwnerStates(solid, dangling, waiting)

    async def orphan_dependents(self, node: Node) -> None:
        """Owner deleted with propagationPolicy=Orphan: release every dependent, then let it go."""
        for dep in self.graph.dependents(node.uid):
            if await self._patch_remove_refs(dep, [node.uid]):
                self._event(dep, "Normal", "Orphaned",
                            f"Released from {node.describe()}, which was deleted with propagationPolicy=Orphan")
        if await self.remove_finalizer(node, ORPHAN):
            self._event(node, "Normal", "DependentsOrphaned",
                        f"Dependents of {node.describe()} are orphaned; removing it")

    async def remove_finalizer(self, node: Node, finalizer: str) -> bool:
        """Remove `finalizer` from the live object; True if this call removed it."""
        for _ in range(5):
            latest = await self._get_live(node.res, node.name, node.namespace)
            if latest is None or latest["metadata"].get("uid") != node.uid:
                return False
            finalizers = latest["metadata"].get("finalizers") or []
            if finalizer not in finalizers:
                return False
            remaining = [f for f in finalizers if f != finalizer]
            # A merge patch replaces the list; resourceVersion and uid make it a
            # compare-and-swap, so a finalizer someone else just added survives.
            patch = {"metadata": {"finalizers": remaining or None,
                                  "resourceVersion": latest["metadata"].get("resourceVersion"), "uid": node.uid}}
            try:
                await self.client.patch(node.res, node.name, patch, node.namespace, patch_type=rest.MERGE_PATCH)
            except errors.NotFound:
                return False
            except errors.Conflict:
                continue
            log.info("gc: %s: removed finalizer %s", node.describe(), finalizer)
            return True
        raise errors.Conflict(node.res.qualified, node.name, f"could not remove finalizer {finalizer}")

    # -- helpers ---------------------------------------------------------------------------

    async def _get_live(self, res: resources.Resource, name: str, namespace: str | None) -> Obj | None:
        try:
            return await self.client.get(res, name, namespace)
        except errors.NotFound:
            return None

    async def _delete(self, node: Node, policy: str, states: OwnerStates) -> None:
        try:
            await self.client.delete(node.res, node.name, node.namespace, propagation=policy,
                                     preconditions={"uid": node.uid})
        except (errors.NotFound, errors.Conflict):
            return  # gone already, or replaced by a same-named object (uid precondition)
        blocking = states.waiting or states.dangling
        owner = ", ".join(f"{r.get('kind')} {r.get('name')}" for r in blocking)
        why = "is being deleted in the foreground" if states.waiting else "is gone"
        log.info("gc: deleted %s (propagationPolicy=%s): owner %s %s", node.describe(), policy, owner, why)
        self._event(node, "Normal", "GarbageCollected", f"Deleted by the garbage collector: owner {owner} {why}")

    async def _patch_remove_refs(self, node: Node, owner_uids: list[str]) -> bool:
        patch = owners.release_patch(node.uid, owner_uids)
        try:
            await self.client.patch(node.res, node.name, patch, node.namespace, patch_type=rest.STRATEGIC_PATCH)
        except (errors.NotFound, errors.Conflict):
            return False
        return True

    async def _unblock_owner_refs(self, node: Node, latest: Obj) -> None:
        refs = [{"uid": r["uid"], "blockOwnerDeletion": False}
                for r in latest["metadata"].get("ownerReferences") or [] if r.get("blockOwnerDeletion")]
        if not refs:
            return
        patch = {"metadata": {"ownerReferences": refs, "uid": node.uid}}
        try:
            await self.client.patch(node.res, node.name, patch, node.namespace, patch_type=rest.STRATEGIC_PATCH)
        except (errors.NotFound, errors.Conflict):
            return

    def _remember_absent(self, uid: str) -> None:
        self._absent[uid] = None
        self._absent.move_to_end(uid)
        while len(self._absent) > self._absent_size:
            self._absent.popitem(last=False)

    def _event(self, node: Node, type_: str, reason: str, message: str) -> None:
        if self.recorder is not None:
            self.recorder.event(podcontrol.with_type(node.obj, node.res), type_, reason, message)


def new_controller(client: rest.Client, factory: informer_mod.InformerFactory,
                   recorder: events.EventRecorder) -> GarbageCollector:
    """The collector as the manager runs it, on the shared informers of WATCHED."""
    informers = [factory.informer(resources.must(*gvp)) for gvp in WATCHED]
    return GarbageCollector(client, recorder, informers=informers)
