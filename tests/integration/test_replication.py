"""ReplicaSets, ReplicationControllers and the garbage collector against a real API server.

A real controller manager runs as a subprocess (as in production: `minik8s
controller-manager`). There is no scheduler or kubelet here: pods stay Pending
unless a test marks them Running and Ready through pods/status, as a kubelet
would.
"""
from __future__ import annotations

import asyncio
import pathlib
import time
from typing import Any, Iterator

import pytest

from minik8s.api import resources
from minik8s.client import rest
from minik8s.util import procs
from tests.conftest import ApiServerProcess, ComponentProcess, controller_manager

pytestmark = pytest.mark.integration

Obj = dict[str, Any]
PODS = resources.must("", "v1", "pods")
RS = resources.must("apps", "v1", "replicasets")
RC = resources.must("", "v1", "replicationcontrollers")
DEPLOY = resources.must("apps", "v1", "deployments")
EVENTS = resources.must("", "v1", "events")

CONTROLLERS = "replicaset,replicationcontroller,garbagecollector"
TIMEOUT = 30.0


ControllerManager = ComponentProcess


@pytest.fixture
def manager(apiserver: ApiServerProcess, tmp_path: pathlib.Path) -> Iterator[ControllerManager]:
    cm = controller_manager(apiserver, tmp_path / "controller-manager.log", CONTROLLERS).start()
    try:
        yield cm
    finally:
        cm.stop()


def replica_set(name: str, replicas: int, labels: Obj | None = None, *, selector: Obj | None = None,
                min_ready: int = 0, owner: Obj | None = None) -> Obj:
    labels = labels or {"app": name}
    body: Obj = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": name},
                 "spec": {"replicas": replicas, "selector": selector or {"matchLabels": labels},
                          "template": {"metadata": {"labels": labels},
                                       "spec": {"containers": [{"name": "web", "image": "minik8s/web:1"}]}}}}
    if min_ready:
        body["spec"]["minReadySeconds"] = min_ready
    if owner is not None:
        body["metadata"]["ownerReferences"] = [owner]
    return body


def bare_pod(name: str, labels: Obj) -> Obj:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": labels},
            "spec": {"containers": [{"name": "web", "image": "minik8s/web:1"}]}}


async def active_pods(client: rest.Client, namespace: str) -> list[Obj]:
    items = (await client.list(PODS, namespace))["items"]
    return [p for p in items if not p["metadata"].get("deletionTimestamp")]


async def wait_pods(client: rest.Client, namespace: str, count: int, what: str = "") -> list[Obj]:
    async def check() -> tuple[list[Obj]] | None:
        pods = await active_pods(client, namespace)
        return (pods,) if len(pods) == count else None  # a tuple: truthy even for no pods
    found = await procs.wait_for_async(check, TIMEOUT, interval=0.1, what=what or f"{count} pods in {namespace}")
    return found[0]


async def wait_status(client: rest.Client, res: resources.Resource, namespace: str, name: str,
                      **want: int) -> Obj:
    async def check() -> Obj | None:
        obj = await client.get(res, name, namespace)
        status = obj.get("status") or {}
        return obj if all(int(status.get(k) or 0) == v for k, v in want.items()) else None
    return await procs.wait_for_async(check, TIMEOUT, interval=0.1, what=f"{name} status {want}")


async def wait_gone(client: rest.Client, res: resources.Resource, namespace: str, name: str) -> None:
    async def gone() -> bool:
        return await client.get_or_none(res, name, namespace) is None
    await procs.wait_for_async(gone, TIMEOUT, interval=0.1, what=f"{res.plural}/{name} to be deleted")


def controller_refs(pod: Obj) -> list[Obj]:
    return [r for r in pod["metadata"].get("ownerReferences") or [] if r.get("controller")]


async def mark_ready(client: rest.Client, pod: Obj) -> None:
    """What a kubelet reports for a started, ready pod."""
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    fresh = await client.get(PODS, pod["metadata"]["name"], pod["metadata"]["namespace"])
    fresh["status"] = {"phase": "Running", "conditions": [
        {"type": "Ready", "status": "True", "lastTransitionTime": now},
        {"type": "ContainersReady", "status": "True", "lastTransitionTime": now}]}
    await client.update_status(PODS, fresh)


async def event_messages(client: rest.Client, namespace: str, name: str) -> list[tuple[str, str]]:
    items = (await client.list(EVENTS, namespace, field_selector=f"involvedObject.name={name}"))["items"]
    return [(e["reason"], e["message"]) for e in items]


# -- ReplicaSets -----------------------------------------------------------------------------------


async def test_replica_set_scales_up_and_down(manager: ControllerManager, client: rest.Client,
                                              namespace: str) -> None:
    rs = await client.create(RS, replica_set("web", 3), namespace)
    pods = await wait_pods(client, namespace, 3)
    for pod in pods:
        assert pod["metadata"]["name"].startswith("web-")
        assert pod["metadata"]["labels"] == {"app": "web"}
        assert controller_refs(pod) == [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web",
                                         "uid": rs["metadata"]["uid"], "controller": True,
                                         "blockOwnerDeletion": True}]
    obj = await wait_status(client, RS, namespace, "web", replicas=3, fullyLabeledReplicas=3)
    assert obj["status"]["observedGeneration"] == obj["metadata"]["generation"]

    # The scale subresource is spec.replicas.
    await client.patch(RS, "web", {"spec": {"replicas": 5}}, namespace, subresource="scale")
    await wait_pods(client, namespace, 5)
    await wait_status(client, RS, namespace, "web", replicas=5)
    await client.patch(RS, "web", {"spec": {"replicas": 1}}, namespace)
    await wait_pods(client, namespace, 1)
    obj = await wait_status(client, RS, namespace, "web", replicas=1)
    assert obj["status"]["observedGeneration"] == obj["metadata"]["generation"]

    async def events_recorded() -> list[tuple[str, str]] | None:
        msgs = await event_messages(client, namespace, "web")
        reasons = {r for r, _ in msgs}
        return msgs if {"SuccessfulCreate", "SuccessfulDelete"} <= reasons else None
    msgs = await procs.wait_for_async(events_recorded, TIMEOUT, what="SuccessfulCreate/SuccessfulDelete events")
    assert all(m.startswith("Created pod: web-") for r, m in msgs if r == "SuccessfulCreate")
    assert all(m.startswith("Deleted pod: web-") for r, m in msgs if r == "SuccessfulDelete")
    assert len({m for r, m in msgs if r == "SuccessfulCreate"}) == 5
    assert sum(1 for r, _ in msgs if r == "SuccessfulDelete") == 4


async def test_orphans_are_adopted_and_relabelled_pods_released(manager: ControllerManager, client: rest.Client,
                                                                namespace: str) -> None:
    for name in ("orphan-a", "orphan-b"):
        await client.create(PODS, bare_pod(name, {"app": "web", "tier": "front"}), namespace)
    await client.create(PODS, bare_pod("bystander", {"app": "other"}), namespace)
    selector = {"matchLabels": {"app": "web"},
                "matchExpressions": [{"key": "tier", "operator": "In", "values": ["front", "back"]}]}
    rs = await client.create(RS, replica_set("web", 3, {"app": "web", "tier": "front"}, selector=selector),
                             namespace)

    async def owned() -> list[Obj] | None:
        pods = [p for p in await active_pods(client, namespace)
                if any(r["uid"] == rs["metadata"]["uid"] for r in controller_refs(p))]
        return pods if len(pods) == 3 else None
    pods = await procs.wait_for_async(owned, TIMEOUT, what="3 pods owned by web")
    names = {p["metadata"]["name"] for p in pods}
    assert {"orphan-a", "orphan-b"} <= names, "matching orphans are adopted instead of creating new pods"
    bystander = await client.get(PODS, "bystander", namespace)
    assert not bystander["metadata"].get("ownerReferences")

    # Relabel an owned pod out of the selector: released, and replaced.
    await client.patch(PODS, "orphan-a", {"metadata": {"labels": {"tier": "debug"}}}, namespace)

    async def released() -> bool:
        pod = await client.get(PODS, "orphan-a", namespace)
        return not controller_refs(pod)
    await procs.wait_for_async(released, TIMEOUT, what="orphan-a to be released")
    await procs.wait_for_async(owned, TIMEOUT, what="a replacement for the released pod")
    assert len(await active_pods(client, namespace)) == 5  # 3 owned + released + bystander


async def test_ready_and_available_replicas(manager: ControllerManager, client: rest.Client,
                                            namespace: str) -> None:
    await client.create(RS, replica_set("web", 2, min_ready=2), namespace)
    pods = await wait_pods(client, namespace, 2)
    await wait_status(client, RS, namespace, "web", replicas=2, readyReplicas=0)
    for pod in pods:
        await mark_ready(client, pod)
    await wait_status(client, RS, namespace, "web", replicas=2, readyReplicas=2)
    # Nothing changes after the pods turn Ready: only the controller's own
    # requeue after minReadySeconds can make them count as available.
    await wait_status(client, RS, namespace, "web", replicas=2, readyReplicas=2, availableReplicas=2)


async def test_failed_creates_set_replica_failure(manager: ControllerManager, client: rest.Client,
                                                  namespace: str) -> None:
    body = replica_set("bad", 2)
    # Template metadata other than labels and annotations is not validated on
    # the ReplicaSet, but pods copy the template's finalizers and this one is
    # not a valid finalizer name: every create fails.
    body["spec"]["template"]["metadata"]["finalizers"] = ["not-qualified"]
    await client.create(RS, body, namespace)

    async def failure() -> Obj | None:
        obj = await client.get(RS, "bad", namespace)
        conds = [c for c in (obj.get("status") or {}).get("conditions") or [] if c["type"] == "ReplicaFailure"]
        return conds[0] if conds else None
    cond = await procs.wait_for_async(failure, TIMEOUT, what="ReplicaFailure condition")
    assert cond["status"] == "True" and cond["reason"] == "FailedCreate"

    async def failed_event() -> bool:
        return any(r == "FailedCreate" and m.startswith("Error creating: ")
                   for r, m in await event_messages(client, namespace, "bad"))
    await procs.wait_for_async(failed_event, TIMEOUT, what="a FailedCreate event")


# -- ReplicationControllers ------------------------------------------------------------------------------


async def test_replication_controller_equality_selector(manager: ControllerManager, client: rest.Client,
                                                        namespace: str) -> None:
    await client.create(PODS, bare_pod("match", {"app": "rc", "env": "prod", "extra": "x"}), namespace)
    await client.create(PODS, bare_pod("partial", {"app": "rc"}), namespace)
    rc = await client.create(RC, {
        "apiVersion": "v1", "kind": "ReplicationController", "metadata": {"name": "rc"},
        "spec": {"replicas": 3, "selector": {"app": "rc", "env": "prod"},
                 "template": {"metadata": {"labels": {"app": "rc", "env": "prod"}},
                              "spec": {"containers": [{"name": "web", "image": "minik8s/web:1"}]}}}}, namespace)
    await wait_status(client, RC, namespace, "rc", replicas=3)
    pods = {p["metadata"]["name"]: p for p in await wait_pods(client, namespace, 4)}
    assert not controller_refs(pods["partial"]), "an equality selector needs every pair"
    assert controller_refs(pods["match"])[0]["uid"] == rc["metadata"]["uid"]
    assert controller_refs(pods["match"])[0]["kind"] == "ReplicationController"
    created = [p for n, p in pods.items() if n not in ("match", "partial")]
    assert len(created) == 2 and all(p["metadata"]["name"].startswith("rc-") for p in created)

    await client.patch(RC, "rc", {"spec": {"replicas": 1}}, namespace, subresource="scale")
    await wait_status(client, RC, namespace, "rc", replicas=1)
    await wait_pods(client, namespace, 2)  # the one left + "partial"


# -- garbage collection --------------------------------------------------------------------------------------


async def watch_deletions(client: rest.Client, namespace: str, res: resources.Resource, rv: str,
                          out: list[str]) -> None:
    async for ev in client.watch(res, namespace, resource_version=rv, timeout_seconds=60):
        if ev["type"] == "DELETED":
            out.append(f"{res.plural}/{ev['object']['metadata']['name']}")


async def test_background_deletion_removes_the_pods(manager: ControllerManager, client: rest.Client,
                                                    namespace: str) -> None:
    await client.create(RS, replica_set("web", 3), namespace)
    await wait_pods(client, namespace, 3)
    await client.delete(RS, "web", namespace, propagation="Background")
    assert await client.get_or_none(RS, "web", namespace) is None, "Background: the owner goes at once"
    await wait_pods(client, namespace, 0, "the garbage collector to delete the pods")


async def test_foreground_deletion_deletes_the_pods_before_the_owner(manager: ControllerManager,
                                                                     client: rest.Client, namespace: str) -> None:
    await client.create(RS, replica_set("web", 3), namespace)
    await wait_pods(client, namespace, 3)
    rv = (await client.list(PODS, namespace))["metadata"]["resourceVersion"]
    order: list[str] = []
    watchers = [asyncio.get_running_loop().create_task(watch_deletions(client, namespace, res, rv, order))
                for res in (PODS, RS)]
    try:
        deleting = await client.delete(RS, "web", namespace, propagation="Foreground")
        assert "foregroundDeletion" in deleting["metadata"]["finalizers"]
        await wait_gone(client, RS, namespace, "web")
        await wait_pods(client, namespace, 0)
        await procs.wait_for_async(lambda: "replicasets/web" in order and len(order) == 4, TIMEOUT,
                                   what="all deletions watched")
    finally:
        for w in watchers:
            w.cancel()
        await asyncio.gather(*watchers, return_exceptions=True)
    assert order[-1] == "replicasets/web", f"the owner must go last: {order}"


async def test_orphan_deletion_keeps_the_pods(manager: ControllerManager, client: rest.Client,
                                              namespace: str) -> None:
    await client.create(RS, replica_set("web", 2), namespace)
    await wait_pods(client, namespace, 2)
    await client.delete(RS, "web", namespace, propagation="Orphan")
    await wait_gone(client, RS, namespace, "web")
    pods = await active_pods(client, namespace)
    assert len(pods) == 2
    assert all(not p["metadata"].get("ownerReferences") for p in pods)


async def deployment_with_replica_set(client: rest.Client, namespace: str) -> None:
    """Deployment `app` owning ReplicaSet `app-1` with 2 pods running: what the Deployment
    controller would create (it is not running here)."""
    deploy = await client.create(DEPLOY, {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "app"},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "app"}},
                 "template": {"metadata": {"labels": {"app": "app"}},
                              "spec": {"containers": [{"name": "web", "image": "minik8s/web:1"}]}}}}, namespace)
    ref = {"apiVersion": "apps/v1", "kind": "Deployment", "name": "app", "uid": deploy["metadata"]["uid"],
           "controller": True, "blockOwnerDeletion": True}
    await client.create(RS, replica_set("app-1", 2, {"app": "app", "pod-template-hash": "1"}, owner=ref),
                        namespace)
    await wait_pods(client, namespace, 2)


async def test_deleting_a_deployment_removes_its_replica_sets_and_pods(
        manager: ControllerManager, client: rest.Client, namespace: str) -> None:
    await deployment_with_replica_set(client, namespace)
    await client.delete(DEPLOY, "app", namespace)
    await wait_gone(client, RS, namespace, "app-1")
    await wait_pods(client, namespace, 0, "the Deployment's pods to be collected")


async def test_foreground_deployment_deletion_goes_bottom_up(manager: ControllerManager, client: rest.Client,
                                                             namespace: str) -> None:
    await deployment_with_replica_set(client, namespace)
    rv = (await client.list(PODS, namespace))["metadata"]["resourceVersion"]
    order: list[str] = []
    watchers = [asyncio.get_running_loop().create_task(watch_deletions(client, namespace, res, rv, order))
                for res in (PODS, RS, DEPLOY)]
    try:
        await client.delete(DEPLOY, "app", namespace, propagation="Foreground")
        await wait_gone(client, DEPLOY, namespace, "app")
        await procs.wait_for_async(lambda: len(order) == 4, TIMEOUT, what="all deletions watched")
    finally:
        for w in watchers:
            w.cancel()
        await asyncio.gather(*watchers, return_exceptions=True)
    assert order[2:] == ["replicasets/app-1", "deployments/app"], f"pods, then the ReplicaSet, then the owner: {order}"
    assert await active_pods(client, namespace) == []


async def test_dependents_of_an_owner_deleted_while_the_manager_was_down(
        manager: ControllerManager, client: rest.Client, namespace: str) -> None:
    await client.create(RS, replica_set("web", 2), namespace)
    await wait_pods(client, namespace, 2)
    manager.kill9()
    await client.delete(RS, "web", namespace, propagation="Background")
    manager.start()
    await wait_pods(client, namespace, 0, "pods of an owner deleted during the outage to be collected")


# -- restarts ------------------------------------------------------------------------------------------------


async def test_manager_killed_mid_scale_up_resumes_without_duplicates(
        manager: ControllerManager, client: rest.Client, namespace: str) -> None:
    replicas = 40
    await client.create(RS, replica_set("web", replicas), namespace)

    async def some() -> bool:
        return len(await active_pods(client, namespace)) > 0
    await procs.wait_for_async(some, TIMEOUT, interval=0.01, what="the first pods")
    manager.kill9()
    before = len(await active_pods(client, namespace))
    assert 0 < before <= replicas, manager.log()
    manager.start()
    await wait_status(client, RS, namespace, "web", replicas=replicas)
    pods = (await client.list(PODS, namespace))["items"]
    assert len(pods) == replicas, f"{len(pods)} pods for {replicas} replicas (had {before} at the kill)"
    # And it stays there: another full sync (triggered by a no-op scale) changes nothing.
    await client.patch(RS, "web", {"metadata": {"labels": {"touched": "yes"}}}, namespace)
    await wait_status(client, RS, namespace, "web", replicas=replicas)
    assert len((await client.list(PODS, namespace))["items"]) == replicas
