"""The garbage collector's decisions, against a fake API client.

The graph is fed through the collector's informer handlers (on_add / on_update
/ on_delete) exactly as the informers would; the fake client holds the "live"
objects, applies patches with the real patch code, and records every call.
"""
from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from minik8s.api import errors
from minik8s.api import patch as patch_mod
from minik8s.api import resources
from minik8s.controllers import garbagecollector as gc_mod

Obj = dict[str, Any]
NS = "default"
PODS = resources.must("", "v1", "pods")
RS = resources.must("apps", "v1", "replicasets")
DEPLOY = resources.must("apps", "v1", "deployments")


def ref(owner: Obj, *, controller: bool = True, block: bool = True) -> Obj:
    return {"apiVersion": owner["apiVersion"], "kind": owner["kind"], "name": owner["metadata"]["name"],
            "uid": owner["metadata"]["uid"], "controller": controller, "blockOwnerDeletion": block}


def obj(kind: str, name: str, *owners: Obj, finalizers: list[str] | None = None, deleting: bool = False,
        refs: list[Obj] | None = None) -> Obj:
    api_version = "v1" if kind == "Pod" else "apps/v1"
    meta: Obj = {"name": name, "namespace": NS, "uid": f"uid-{name}", "resourceVersion": "1"}
    all_refs = [ref(o) for o in owners] + list(refs or [])
    if all_refs:
        meta["ownerReferences"] = all_refs
    if finalizers:
        meta["finalizers"] = list(finalizers)
    if deleting:
        meta["deletionTimestamp"] = "2024-01-01T00:00:00Z"
    return {"apiVersion": api_version, "kind": kind, "metadata": meta}


def res_of(o: Obj) -> resources.Resource:
    return {"Pod": PODS, "ReplicaSet": RS, "Deployment": DEPLOY}[o["kind"]]  # type: ignore[return-value]


class FakeClient:
    """Live objects by (plural, name); get/patch/delete as the API server answers them."""

    def __init__(self) -> None:
        self.live: dict[tuple[str, str], Obj] = {}
        self.gets: list[str] = []
        self.deletes: list[tuple[str, str, str | None]] = []
        self.patches: list[tuple[str, str, Obj]] = []

    def put(self, *objs: Obj) -> None:
        for o in objs:
            self.live[(res_of(o).plural, o["metadata"]["name"])] = copy.deepcopy(o)

    async def get(self, res: resources.Resource, name: str, namespace: str | None = None) -> Obj:
        self.gets.append(f"{res.plural}/{name}")
        o = self.live.get((res.plural, name))
        if o is None:
            raise errors.NotFound(res.qualified, name)
        return copy.deepcopy(o)

    async def patch(self, res: resources.Resource, name: str, patch: Any, namespace: str | None = None, *,
                    patch_type: str = "", subresource: str | None = None) -> Obj:
        o = self.live.get((res.plural, name))
        if o is None:
            raise errors.NotFound(res.qualified, name)
        uid = patch.get("metadata", {}).get("uid")
        if uid and uid != o["metadata"]["uid"]:
            raise errors.Conflict(res.qualified, name, "Precondition failed")
        self.patches.append((res.plural, name, patch))
        body = copy.deepcopy(patch)
        body["metadata"].pop("resourceVersion", None)
        new = patch_mod.apply_patch(o, json.dumps(body).encode(), patch_type, res.kind)
        if new["metadata"].get("deletionTimestamp") and not new["metadata"].get("finalizers"):
            del self.live[(res.plural, name)]
        else:
            self.live[(res.plural, name)] = new
        return new

    async def delete(self, res: resources.Resource, name: str, namespace: str | None = None, *,
                     grace_period: int | None = None, propagation: str | None = None,
                     preconditions: dict[str, str] | None = None) -> Obj:
        o = self.live.get((res.plural, name))
        if o is None:
            raise errors.NotFound(res.qualified, name)
        if preconditions and preconditions.get("uid") != o["metadata"]["uid"]:
            raise errors.Conflict(res.qualified, name, "Precondition failed")
        self.deletes.append((res.plural, name, propagation))
        return o


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, str, str]] = []

    def event(self, o: Obj, type_: str, reason: str, message: str, *, field_path: str = "") -> None:
        self.events.append((o["metadata"]["name"], reason, message))


def collector(*observed: Obj) -> tuple[gc_mod.GarbageCollector, FakeClient, Recorder]:
    client, recorder = FakeClient(), Recorder()
    gc = gc_mod.GarbageCollector(client, recorder)  # type: ignore[arg-type]
    for o in observed:
        gc.on_add(res_of(o), o)
        client.put(o)
    return gc, client, recorder


def deleted(client: FakeClient) -> list[tuple[str, str | None]]:
    return sorted((name, policy) for _, name, policy in client.deletes)


# -- background -----------------------------------------------------------------------------------


async def test_owner_deleted_dependents_go_in_the_background() -> None:
    rs = obj("ReplicaSet", "web")
    pods = [obj("Pod", f"web-{i}", rs) for i in range(3)]
    gc, client, recorder = collector(rs, *pods)
    await gc.drain()
    assert client.deletes == [], "owner present: nothing is garbage"
    del client.live[("replicasets", "web")]
    gc.on_delete(RS, rs)
    await gc.drain()
    assert deleted(client) == [("web-0", "Background"), ("web-1", "Background"), ("web-2", "Background")]
    assert "replicasets/web" not in client.gets, "an owner seen deleted needs no live lookup"
    assert ("web-0", "GarbageCollected", "Deleted by the garbage collector: owner ReplicaSet web is gone") \
        in recorder.events


@pytest.mark.parametrize("live_owner, want_deleted", [
    (None, True),                                      # gone: delete
    (obj("ReplicaSet", "web"), False),                 # exists, the cache just has not seen it: keep
    ({**obj("ReplicaSet", "web"), "metadata": {**obj("ReplicaSet", "web")["metadata"], "uid": "new"}}, True),
], ids=["gone", "not-yet-cached", "recreated"])
async def test_owner_missing_from_the_cache_is_checked_live(live_owner: Obj | None, want_deleted: bool) -> None:
    rs = obj("ReplicaSet", "web")
    pod = obj("Pod", "web-0", rs)
    gc, client, _ = collector(pod)  # the owner never reached the graph
    if live_owner is not None:
        client.put(live_owner)
    await gc.drain()
    assert "replicasets/web" in client.gets
    assert deleted(client) == ([("web-0", "Background")] if want_deleted else [])


async def test_a_remaining_owner_keeps_the_object_and_loses_the_dangling_ref() -> None:
    gone, kept = obj("ReplicaSet", "gone"), obj("ReplicaSet", "kept")
    pod = obj("Pod", "p", refs=[ref(gone, controller=False), ref(kept, controller=False)])
    gc, client, _ = collector(kept, pod)
    await gc.drain()
    assert client.deletes == []
    assert [r["uid"] for r in client.live[("pods", "p")]["metadata"]["ownerReferences"]] == ["uid-kept"]


async def test_unknown_owner_kinds_are_kept() -> None:
    pod = obj("Pod", "p", refs=[{"apiVersion": "example.com/v1", "kind": "Widget", "name": "w", "uid": "uid-w"}])
    gc, client, _ = collector(pod)
    await gc.drain()
    assert client.deletes == []


async def test_objects_already_being_deleted_are_left_alone() -> None:
    rs = obj("ReplicaSet", "web")
    pod = obj("Pod", "p", rs, deleting=True)
    gc, client, _ = collector(pod)
    gc.enqueue("uid-p")
    await gc.drain()
    assert client.deletes == [] and client.gets == []


async def test_deployment_deletion_cascades_through_replica_sets() -> None:
    deploy = obj("Deployment", "app")
    rs = obj("ReplicaSet", "app-1", deploy)
    pod = obj("Pod", "app-1-x", rs)
    gc, client, _ = collector(deploy, rs, pod)
    del client.live[("deployments", "app")]
    gc.on_delete(DEPLOY, deploy)
    await gc.drain()
    assert deleted(client) == [("app-1", "Background")]
    del client.live[("replicasets", "app-1")]
    gc.on_delete(RS, rs)
    await gc.drain()
    assert deleted(client) == [("app-1", "Background"), ("app-1-x", "Background")]


# -- foreground ------------------------------------------------------------------------------------


def start_deleting(gc: gc_mod.GarbageCollector, client: FakeClient, o: Obj, finalizer: str) -> Obj:
    new = copy.deepcopy(o)
    new["metadata"]["deletionTimestamp"] = "2024-01-01T00:00:00Z"
    new["metadata"]["finalizers"] = [finalizer]
    new["metadata"]["resourceVersion"] = "2"
    client.put(new)
    gc.on_update(res_of(o), o, new)
    return new


async def test_foreground_deletes_dependents_first_then_the_owner() -> None:
    rs = obj("ReplicaSet", "web")
    pods = [obj("Pod", f"web-{i}", rs) for i in range(2)]
    gc, client, recorder = collector(rs, *pods)
    start_deleting(gc, client, rs, gc_mod.FOREGROUND)
    await gc.drain()
    assert deleted(client) == [("web-0", "Background"), ("web-1", "Background")]
    assert client.live[("replicasets", "web")]["metadata"]["finalizers"] == ["foregroundDeletion"], \
        "the owner waits while blocking dependents exist"
    gc.on_delete(PODS, pods[0])
    await gc.drain()
    assert ("replicasets", "web") in client.live
    gc.on_delete(PODS, pods[1])
    await gc.drain()
    assert ("replicasets", "web") not in client.live, "last dependent gone: finalizer removed, owner removed"
    assert any(reason == "DependentsDeleted" for _, reason, _ in recorder.events)


async def test_foreground_does_not_wait_for_non_blocking_dependents() -> None:
    rs = obj("ReplicaSet", "web")
    pod = obj("Pod", "loose", refs=[ref(rs, block=False)])
    gc, client, _ = collector(rs, pod)
    start_deleting(gc, client, rs, gc_mod.FOREGROUND)
    await gc.drain()
    assert deleted(client) == [("loose", "Background")]
    assert ("replicasets", "web") not in client.live


async def test_foreground_recurses_into_dependents_with_dependents() -> None:
    deploy = obj("Deployment", "app")
    rs = obj("ReplicaSet", "app-1", deploy)
    pod = obj("Pod", "app-1-x", rs)
    gc, client, _ = collector(deploy, rs, pod)
    start_deleting(gc, client, deploy, gc_mod.FOREGROUND)
    await gc.drain()
    assert deleted(client) == [("app-1", "Foreground")]
    assert ("deployments", "app") in client.live
    # The API server marks the ReplicaSet; the collector then deletes its pod.
    start_deleting(gc, client, rs, gc_mod.FOREGROUND)
    await gc.drain()
    assert deleted(client) == [("app-1", "Foreground"), ("app-1-x", "Background")]
    gc.on_delete(PODS, pod)
    await gc.drain()
    assert ("replicasets", "app-1") not in client.live
    gc.on_delete(RS, rs)
    await gc.drain()
    assert ("deployments", "app") not in client.live


async def test_a_dependent_with_another_owner_is_released_not_deleted_in_the_foreground() -> None:
    rs, other = obj("ReplicaSet", "web"), obj("ReplicaSet", "other")
    pod = obj("Pod", "shared", refs=[ref(rs), ref(other, controller=False)])
    gc, client, _ = collector(rs, other, pod)
    start_deleting(gc, client, rs, gc_mod.FOREGROUND)
    await gc.drain()
    assert client.deletes == []
    assert [r["uid"] for r in client.live[("pods", "shared")]["metadata"]["ownerReferences"]] == ["uid-other"]
    gc.on_update(PODS, pod, client.live[("pods", "shared")])
    await gc.drain()
    assert ("replicasets", "web") not in client.live


# -- orphan -----------------------------------------------------------------------------------------


async def test_orphan_releases_dependents_then_the_owner() -> None:
    rs = obj("ReplicaSet", "web")
    pods = [obj("Pod", f"web-{i}", rs) for i in range(2)]
    gc, client, recorder = collector(rs, *pods)
    start_deleting(gc, client, rs, gc_mod.ORPHAN)
    await gc.drain()
    assert client.deletes == []
    for i in range(2):
        assert not client.live[("pods", f"web-{i}")]["metadata"].get("ownerReferences")
    assert ("replicasets", "web") not in client.live
    assert [r for _, r, _ in recorder.events].count("Orphaned") == 2


# -- graph bookkeeping ---------------------------------------------------------------------------------


def test_graph_tracks_dependents_across_updates() -> None:
    graph = gc_mod.Graph()
    a, b = obj("ReplicaSet", "a"), obj("ReplicaSet", "b")
    pod = obj("Pod", "p", a)
    graph.upsert(RS, a)
    graph.upsert(PODS, pod)
    assert [n.name for n in graph.dependents("uid-a")] == ["p"]
    moved = obj("Pod", "p", b)
    graph.upsert(PODS, moved)
    assert graph.dependents("uid-a") == [] and [n.name for n in graph.dependents("uid-b")] == ["p"]
    graph.remove("uid-p")
    assert graph.dependents("uid-b") == []


async def test_handlers_enqueue_only_what_needs_a_look() -> None:
    rs = obj("ReplicaSet", "web")
    gc, _, _ = collector(rs)
    gc.on_add(PODS, obj("Pod", "known-owner", rs))
    assert len(gc.queue) == 0
    gc.on_add(PODS, obj("Pod", "unknown-owner", obj("ReplicaSet", "nowhere")))
    assert len(gc.queue) == 1 and await gc.queue.get() == "uid-unknown-owner"
