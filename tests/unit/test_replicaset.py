"""ReplicaSet / ReplicationController sync against hand-filled informer caches.

No API server: the caches are filled directly, side effects go to the
recording PodControl, and status writes to a small fake client. Each test calls
`sync(key)` and asserts on what the controller asked for.
"""
from __future__ import annotations

import copy
from typing import Any

import pytest

from minik8s.api import errors
from minik8s.api import owners
from minik8s.api import resources
from minik8s.api import rfc3339
from minik8s.client import informer as informer_mod
from minik8s.controllers import expectations as expectations_mod
from minik8s.controllers import podcontrol
from minik8s.controllers import replicaset

Obj = dict[str, Any]
NS = "default"
NOW = 1_700_000_000.0
PODS = resources.must("", "v1", "pods")


def ts(epoch: float) -> str:
    return rfc3339.format(epoch)


def make_rs(name: str = "web", replicas: int = 3, *, selector: Obj | None = None, labels: Obj | None = None,
            min_ready: int = 0, uid: str | None = None, generation: int = 1, status: Obj | None = None,
            deleting: bool = False) -> Obj:
    labels = labels if labels is not None else {"app": name}
    spec: Obj = {"replicas": replicas, "selector": selector if selector is not None else {"matchLabels": labels},
                 "template": {"metadata": {"labels": labels},
                              "spec": {"containers": [{"name": "c", "image": "web"}]}}}
    if min_ready:
        spec["minReadySeconds"] = min_ready
    meta: Obj = {"name": name, "namespace": NS, "uid": uid or f"uid-rs-{name}", "generation": generation,
                 "resourceVersion": "10"}
    if deleting:
        meta["deletionTimestamp"] = ts(NOW)
        meta["finalizers"] = ["foregroundDeletion"]
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": meta, "spec": spec,
            "status": status if status is not None else {"replicas": 0}}


def make_rc(name: str = "rc", replicas: int = 2, selector: Obj | None = None, labels: Obj | None = None) -> Obj:
    labels = labels if labels is not None else {"app": name}
    return {"apiVersion": "v1", "kind": "ReplicationController",
            "metadata": {"name": name, "namespace": NS, "uid": f"uid-rc-{name}", "generation": 1,
                         "resourceVersion": "10"},
            "spec": {"replicas": replicas, "selector": selector if selector is not None else dict(labels),
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": "c", "image": "web"}]}}},
            "status": {"replicas": 0}}


def owned_by(owner: Obj) -> Obj:
    kind = owner["kind"]
    res = replicaset.REPLICATION_CONTROLLER.resource if kind == "ReplicationController" else \
        replicaset.REPLICA_SET.resource
    return owners.new_controller_ref(owner, res.api_version, res.kind)


def make_pod(name: str, labels: Obj | None = None, *, owner: Obj | None = None, ref: Obj | None = None,
             phase: str = "Pending", node: str = "", ready_since: float | None = None, restarts: int = 0,
             created: float = NOW - 1000, deleting: bool = False, rv: str = "1") -> Obj:
    meta: Obj = {"name": name, "namespace": NS, "uid": f"uid-{name}", "labels": labels or {"app": "web"},
                 "creationTimestamp": ts(created), "resourceVersion": rv}
    if owner is not None:
        meta["ownerReferences"] = [owned_by(owner)]
    elif ref is not None:
        meta["ownerReferences"] = [ref]
    if deleting:
        meta["deletionTimestamp"] = ts(NOW)
    status: Obj = {"phase": phase}
    if ready_since is not None:
        status["conditions"] = [{"type": "Ready", "status": "True", "lastTransitionTime": ts(ready_since)}]
    if restarts:
        status["containerStatuses"] = [{"name": "c", "restartCount": restarts}]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": {"nodeName": node} if node else {},
            "status": status}


class FakeClient:
    """get/update_status as the controller uses them; update_status is recorded."""

    def __init__(self, *owners: Obj) -> None:
        self.objects = {o["metadata"]["name"]: copy.deepcopy(o) for o in owners}
        self.status_updates: list[Obj] = []
        self.conflict_once = False

    async def get_or_none(self, res: resources.Resource, name: str, namespace: str | None = None) -> Obj | None:
        obj = self.objects.get(name)
        return copy.deepcopy(obj) if obj is not None else None

    async def get(self, res: resources.Resource, name: str, namespace: str | None = None) -> Obj:
        obj = await self.get_or_none(res, name, namespace)
        if obj is None:
            raise errors.NotFound(res.qualified, name)
        return obj

    async def update_status(self, res: resources.Resource, obj: Obj) -> Obj:
        if self.conflict_once:
            self.conflict_once = False
            raise errors.Conflict(res.qualified, obj["metadata"]["name"])
        self.status_updates.append(copy.deepcopy(obj["status"]))
        stored = self.objects.setdefault(obj["metadata"]["name"], copy.deepcopy(obj))
        stored["status"] = copy.deepcopy(obj["status"])
        return copy.deepcopy(stored)


class Harness:
    def __init__(self, owners: list[Obj], pods: list[Obj], *, kind: replicaset.Kind = replicaset.REPLICA_SET,
                 burst: int = replicaset.BURST_REPLICAS) -> None:
        self.now = NOW
        self.mono = 0.0
        self.owners = informer_mod.Informer(None, kind.resource)  # type: ignore[arg-type]
        self.pods = informer_mod.Informer(None, PODS)  # type: ignore[arg-type]
        for o in owners:
            self.owners.store[informer_mod.key_of(o)] = o
        for p in pods:
            self.pods.store[informer_mod.key_of(p)] = p
        self.client = FakeClient(*owners)
        self.pc = podcontrol.RecordingPodControl()
        self.expectations = expectations_mod.Expectations(clock=lambda: self.mono)
        self.ctrl = replicaset.ReplicaSetController(
            kind, self.client, self.owners, self.pods, self.pc, expectations=self.expectations,
            burst_replicas=burst, clock=lambda: self.now)
        self.requeued: list[tuple[str, float]] = []
        self.ctrl.enqueue_after = lambda key, delay: self.requeued.append((key, delay))  # type: ignore[method-assign]

    def add_pod(self, pod: Obj) -> None:
        self.pods.store[informer_mod.key_of(pod)] = pod
        self.ctrl.on_pod_add(pod)

    def remove_pod(self, pod: Obj) -> None:
        self.pods.store.pop(informer_mod.key_of(pod), None)
        self.ctrl.on_pod_delete(pod)

    async def sync(self, key: str = f"{NS}/web") -> None:
        await self.ctrl.sync(key)

    @property
    def status(self) -> Obj:
        return self.client.status_updates[-1]


# -- creating -----------------------------------------------------------------------------


@pytest.mark.parametrize("replicas, existing, want_creates", [
    (3, 0, 3),
    (3, 2, 1),
    (3, 3, 0),
    (0, 0, 0),
    (1, 0, 1),
])
async def test_creates_the_missing_pods(replicas: int, existing: int, want_creates: int) -> None:
    rs = make_rs(replicas=replicas)
    h = Harness([rs], [make_pod(f"web-{i}", owner=rs) for i in range(existing)])
    await h.sync()
    assert len(h.pc.creates) == want_creates
    assert h.pc.deletes == []


async def test_created_pod_comes_from_the_template_with_a_controller_ref() -> None:
    rs = make_rs(labels={"app": "web", "tier": "front"})
    rs["spec"]["template"]["metadata"]["annotations"] = {"a": "b"}
    h = Harness([rs], [])
    await h.sync()
    pod = h.pc.creates[0].pod
    assert pod["metadata"]["name"].startswith("web-")
    assert pod["metadata"]["labels"] == {"app": "web", "tier": "front"}
    assert pod["metadata"]["annotations"] == {"a": "b"}
    assert pod["spec"] == rs["spec"]["template"]["spec"]
    assert pod["metadata"]["ownerReferences"] == [{
        "apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web", "uid": "uid-rs-web",
        "controller": True, "blockOwnerDeletion": True}]
    assert podcontrol.pod_from_template(rs["spec"]["template"], rs, None)["metadata"]["generateName"] == "web-"


async def test_inactive_pods_are_replaced() -> None:
    rs = make_rs(replicas=3)
    pods = [make_pod("ok", owner=rs), make_pod("failed", owner=rs, phase="Failed"),
            make_pod("done", owner=rs, phase="Succeeded"), make_pod("going", owner=rs, deleting=True)]
    h = Harness([rs], pods)
    await h.sync()
    assert len(h.pc.creates) == 2
    assert h.status["replicas"] == 1


async def test_burst_caps_one_sync() -> None:
    h = Harness([make_rs(replicas=12)], [], burst=5)
    await h.sync()
    assert len(h.pc.creates) == 5


# -- expectations -----------------------------------------------------------------------------


async def test_expectations_stop_a_second_sync_from_over_creating() -> None:
    h = Harness([make_rs(replicas=3)], [])
    await h.sync()
    assert len(h.pc.creates) == 3
    # The watch has not delivered the pods yet: a sync now must not create again.
    await h.sync()
    assert len(h.pc.creates) == 3
    for call in h.pc.creates[:2]:
        h.add_pod(call.pod)
    assert not h.expectations.satisfied(f"{NS}/web")
    await h.sync()
    assert len(h.pc.creates) == 3
    h.add_pod(h.pc.creates[2].pod)
    assert h.expectations.satisfied(f"{NS}/web")
    await h.sync()
    assert len(h.pc.creates) == 3


async def test_expectations_expire_after_the_timeout() -> None:
    h = Harness([make_rs(replicas=2)], [])
    await h.sync()
    assert len(h.pc.creates) == 2
    h.mono += expectations_mod.DEFAULT_TIMEOUT - 1
    await h.sync()
    assert len(h.pc.creates) == 2
    h.mono += 2  # the adds were lost: after 5 minutes the controller acts on its cache again
    await h.sync()
    assert len(h.pc.creates) == 4


async def test_delete_expectations_track_the_chosen_pods() -> None:
    rs = make_rs(replicas=1)
    pods = [make_pod(f"web-{i}", owner=rs) for i in range(3)]
    h = Harness([rs], pods)
    await h.sync()
    assert len(h.pc.deletes) == 2
    await h.sync()
    assert len(h.pc.deletes) == 2, "no second round before the deletes are observed"
    deleted = {name for _, name in h.pc.deletes}
    survivor = next(p for p in pods if p["metadata"]["name"] not in deleted)
    # Another pod vanishing (not one we deleted) does not count.
    h.ctrl.on_pod_delete(make_pod("stranger", owner=rs))
    assert not h.expectations.satisfied(f"{NS}/web")
    for pod in pods:
        if pod is not survivor:
            h.remove_pod(pod)
    assert h.expectations.satisfied(f"{NS}/web")
    await h.sync()
    assert len(h.pc.deletes) == 2


async def test_graceful_deletion_counts_as_observed() -> None:
    rs = make_rs(replicas=0)
    pod = make_pod("web-0", owner=rs, node="n1", phase="Running")
    h = Harness([rs], [pod])
    await h.sync()
    assert h.pc.deletes == [(NS, "web-0")]
    terminating = copy.deepcopy(pod)
    terminating["metadata"]["deletionTimestamp"] = ts(NOW)
    terminating["metadata"]["resourceVersion"] = "2"
    h.pods.store[informer_mod.key_of(pod)] = terminating
    h.ctrl.on_pod_update(pod, terminating)
    assert h.expectations.satisfied(f"{NS}/web")


async def test_failed_create_lowers_expectations_and_sets_replica_failure() -> None:
    h = Harness([make_rs(replicas=4)], [])
    h.pc.create_error = errors.Forbidden('pods "web-" is forbidden: exceeded quota')
    with pytest.raises(errors.Forbidden):
        await h.sync()
    assert h.pc.create_attempts == 1, "slow start: a failing create is tried once, not 4 times"
    assert h.expectations.satisfied(f"{NS}/web")
    cond = h.status["conditions"][0]
    assert (cond["type"], cond["status"], cond["reason"]) == ("ReplicaFailure", "True", "FailedCreate")
    assert "exceeded quota" in cond["message"]
    # The error clears: pods get created and the condition goes.
    h.owners.store[f"{NS}/web"]["status"] = h.status
    h.pc.create_error = None
    await h.sync()
    assert len(h.pc.creates) == 4
    assert "conditions" not in h.status


async def test_namespace_terminating_is_not_an_error() -> None:
    h = Harness([make_rs(replicas=2)], [])
    err = errors.Forbidden('pods "web-" is forbidden: unable to create new content in namespace '
                           'default because it is being terminated')
    err.details = {"causes": [{"reason": "NamespaceTerminating", "field": "metadata.namespace"}]}
    h.pc.create_error = err
    await h.sync()
    assert "conditions" not in h.status
    assert h.pc.create_attempts == 1, "no point sending the rest"
    assert h.expectations.satisfied(f"{NS}/web")


@pytest.mark.parametrize("count, successes, want_attempts, want_ok", [
    (10, None, 10, 10),   # batches 1, 2, 4, 3
    (10, 0, 1, 0),        # the first call fails: stop
    (10, 1, 3, 1),        # 1 ok, then a batch of 2 fails
    (10, 3, 7, 3),        # 1 + 2 ok, then a batch of 4 fails
    (0, None, 0, 0),
])
async def test_slow_start_batch(count: int, successes: int | None, want_attempts: int, want_ok: int) -> None:
    calls = 0

    async def fn() -> None:
        nonlocal calls
        calls += 1
        if successes is not None and calls > successes:
            raise errors.InternalError("boom")

    ok, err = await replicaset.slow_start_batch(count, 1, fn)
    assert (calls, ok) == (want_attempts, want_ok)
    assert (err is None) == (successes is None)


async def test_partial_slow_start_keeps_expecting_only_the_created() -> None:
    h = Harness([make_rs(replicas=10)], [])
    h.pc.create_error = errors.InternalError("boom")
    h.pc.create_successes = 3
    with pytest.raises(errors.InternalError):
        await h.sync()
    exp = h.expectations.get(f"{NS}/web")
    assert exp is not None and exp.add == 3


# -- scale-down ordering -------------------------------------------------------------------------


@pytest.mark.parametrize("first, second", [
    # (deleted first, kept)
    (dict(node=""), dict(node="n1")),
    (dict(node="n1", phase="Pending"), dict(node="n1", phase="Running")),
    (dict(node="n1", phase="Unknown"), dict(node="n1", phase="Running")),
    (dict(node="n1", phase="Running"), dict(node="n1", phase="Running", ready_since=NOW - 100)),
    (dict(node="n1", phase="Running", ready_since=NOW - 10), dict(node="n1", phase="Running", ready_since=NOW - 100)),
    (dict(node="n1", phase="Running", restarts=5), dict(node="n1", phase="Running", restarts=1)),
    (dict(node="n1", phase="Running", created=NOW - 10), dict(node="n1", phase="Running", created=NOW - 100)),
], ids=["unscheduled", "pending", "unknown", "not-ready", "ready-shorter", "more-restarts", "newer"])
def test_deletion_order(first: Obj, second: Obj) -> None:
    a, b = make_pod("a-first", **first), make_pod("b-second", **second)
    assert replicaset.deletion_order([b, a]) == [a, b]
    assert replicaset.deletion_order([a, b]) == [a, b]


async def test_scale_down_deletes_the_least_valuable() -> None:
    rs = make_rs(replicas=2)
    pods = [make_pod("ready-old", owner=rs, node="n1", phase="Running", ready_since=NOW - 500),
            make_pod("unscheduled", owner=rs),
            make_pod("running-not-ready", owner=rs, node="n1", phase="Running"),
            make_pod("ready-new", owner=rs, node="n1", phase="Running", ready_since=NOW - 5)]
    h = Harness([rs], pods)
    await h.sync()
    assert sorted(name for _, name in h.pc.deletes) == ["running-not-ready", "unscheduled"]


async def test_scale_down_to_zero_and_not_found_is_fine() -> None:
    rs = make_rs(replicas=0)
    h = Harness([rs], [make_pod("web-0", owner=rs)])
    h.pc.delete_error = errors.NotFound("pods", "web-0")
    await h.sync()
    assert h.expectations.satisfied(f"{NS}/web")


# -- adoption and release ----------------------------------------------------------------------------


async def test_adopts_matching_orphans_and_counts_them() -> None:
    rs = make_rs(replicas=3)
    orphans = [make_pod("orphan-0"), make_pod("orphan-1")]
    h = Harness([rs], orphans + [make_pod("other", labels={"app": "db"})])
    await h.sync()
    assert [(name, patch) for _, name, patch in h.pc.patches] == [
        ("orphan-0", owners.adopt_patch(owned_by(rs), "uid-orphan-0")),
        ("orphan-1", owners.adopt_patch(owned_by(rs), "uid-orphan-1"))]
    assert len(h.pc.creates) == 1


async def test_does_not_adopt_when_the_live_owner_differs() -> None:
    rs = make_rs(replicas=1)
    h = Harness([rs], [make_pod("orphan")])
    h.client.objects["web"]["metadata"]["uid"] = "someone-else"  # deleted and recreated since our cache
    with pytest.raises(errors.Conflict):
        await h.sync()
    assert h.pc.patches == [] and h.pc.creates == []


async def test_does_not_adopt_for_an_owner_being_deleted_live() -> None:
    rs = make_rs(replicas=1)
    h = Harness([rs], [make_pod("orphan")])
    h.client.objects["web"]["metadata"]["deletionTimestamp"] = ts(NOW)
    with pytest.raises(errors.Conflict):
        await h.sync()
    assert h.pc.patches == []


async def test_releases_owned_pods_that_stop_matching() -> None:
    rs = make_rs(replicas=1)
    relabeled = make_pod("web-0", labels={"app": "debug"}, owner=rs)
    h = Harness([rs], [relabeled])
    await h.sync()
    assert h.pc.patches == [(NS, "web-0", owners.release_patch("uid-web-0", ["uid-rs-web"]))]
    assert len(h.pc.creates) == 1, "the released pod no longer counts"


async def test_ignores_pods_of_other_controllers() -> None:
    rs = make_rs(replicas=1)
    other = make_rs("other", uid="uid-other")
    h = Harness([rs, other], [make_pod("theirs", owner=other)])
    await h.sync()
    assert h.pc.patches == []
    assert len(h.pc.creates) == 1


async def test_an_owner_being_deleted_neither_creates_nor_adopts_nor_releases() -> None:
    rs = make_rs(replicas=3, deleting=True)
    h = Harness([rs], [make_pod("orphan"), make_pod("web-0", labels={"app": "x"}, owner=rs)])
    await h.sync()
    assert h.pc.creates == [] and h.pc.patches == [] and h.pc.deletes == []


@pytest.mark.parametrize("selector, adopted", [
    ({"matchLabels": {"app": "web"}}, ["a", "b", "c"]),
    ({"matchLabels": {"app": "web"}, "matchExpressions": [{"key": "tier", "operator": "In", "values": ["front"]}]},
     ["a"]),
    ({"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["front"]},
                           {"key": "app", "operator": "Exists"}]}, ["b", "c", "d"]),
    ({"matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}]}, ["c"]),
    ({}, []),  # invalid (empty) selector: owns nothing rather than everything
])
async def test_set_based_selector(selector: Obj, adopted: list[str]) -> None:
    rs = make_rs(replicas=0, selector=selector)
    pods = [make_pod("a", {"app": "web", "tier": "front"}), make_pod("b", {"app": "web", "tier": "back"}),
            make_pod("c", {"app": "web"}), make_pod("d", {"app": "db", "tier": "back"})]
    h = Harness([rs], pods)
    await h.sync()
    assert sorted(name for _, name, _ in h.pc.patches) == adopted


async def test_replication_controller_uses_an_equality_selector() -> None:
    rc = make_rc("rc", replicas=2, selector={"app": "rc", "env": "prod"}, labels={"app": "rc", "env": "prod"})
    pods = [make_pod("match", {"app": "rc", "env": "prod", "extra": "1"}), make_pod("partial", {"app": "rc"})]
    h = Harness([rc], pods, kind=replicaset.REPLICATION_CONTROLLER)
    await h.sync(f"{NS}/rc")
    assert [name for _, name, _ in h.pc.patches] == ["match"]
    assert h.pc.patches[0][2]["metadata"]["ownerReferences"][0]["kind"] == "ReplicationController"
    assert h.pc.patches[0][2]["metadata"]["ownerReferences"][0]["apiVersion"] == "v1"
    assert len(h.pc.creates) == 1
    assert h.pc.creates[0].pod["metadata"]["generateName"] == "rc-"


# -- status --------------------------------------------------------------------------------------------


async def test_status_counts() -> None:
    rs = make_rs(replicas=4, labels={"app": "web", "tier": "front"}, generation=7,
                 selector={"matchLabels": {"app": "web"}})
    full = {"app": "web", "tier": "front"}
    pods = [make_pod("ready-1", full, owner=rs, node="n", phase="Running", ready_since=NOW - 60),
            make_pod("ready-2", {"app": "web"}, owner=rs, node="n", phase="Running", ready_since=NOW - 60),
            make_pod("running", full, owner=rs, node="n", phase="Running"),
            make_pod("pending", full, owner=rs)]
    h = Harness([rs], pods)
    await h.sync()
    assert h.status == {"replicas": 4, "fullyLabeledReplicas": 3, "readyReplicas": 2, "availableReplicas": 2,
                        "observedGeneration": 7}


async def test_status_written_only_when_changed() -> None:
    rs = make_rs(replicas=1)
    h = Harness([rs], [make_pod("web-0", owner=rs)])
    await h.sync()
    assert len(h.client.status_updates) == 1
    h.owners.store[f"{NS}/web"] = h.client.objects["web"]
    await h.sync()
    assert len(h.client.status_updates) == 1


async def test_status_write_retries_on_a_stale_cache() -> None:
    rs = make_rs(replicas=1)
    h = Harness([rs], [make_pod("web-0", owner=rs)])
    h.client.conflict_once = True
    await h.sync()
    assert h.status["replicas"] == 1


async def test_min_ready_seconds_requeues_for_the_remaining_time() -> None:
    rs = make_rs(replicas=2, min_ready=10)
    pods = [make_pod("old", owner=rs, node="n", phase="Running", ready_since=NOW - 30),
            make_pod("new", owner=rs, node="n", phase="Running", ready_since=NOW - 3)]
    h = Harness([rs], pods)
    await h.sync()
    assert h.status["readyReplicas"] == 2 and h.status["availableReplicas"] == 1
    assert len(h.requeued) == 1
    key, delay = h.requeued[0]
    assert key == f"{NS}/web" and 7 <= delay <= 7 + 2 * replicaset.AVAILABLE_MARGIN
    h.owners.store[f"{NS}/web"] = h.client.objects["web"]
    h.now += delay
    await h.sync()
    assert h.status["availableReplicas"] == 2
    assert len(h.requeued) == 1, "nothing left to wait for"


# -- handlers ----------------------------------------------------------------------------------------------


async def test_handlers_enqueue_the_right_owner() -> None:
    web, db = make_rs("web"), make_rs("db", labels={"app": "db"})
    h = Harness([web, db], [])
    h.ctrl.on_pod_add(make_pod("orphan", {"app": "db"}))
    assert len(h.ctrl.queue) == 1 and await h.ctrl.queue.get() == f"{NS}/db"
    h.ctrl.queue.done(f"{NS}/db")
    h.ctrl.on_pod_add(make_pod("owned", {"app": "db"}, owner=web))
    assert await h.ctrl.queue.get() == f"{NS}/web"
    h.ctrl.queue.done(f"{NS}/web")
    # A controller ref to an object that is not (or no longer) ours: nothing to do.
    stale = dict(owned_by(web), uid="uid-old-web")
    h.ctrl.on_pod_add(make_pod("stale", ref=stale))
    assert len(h.ctrl.queue) == 0


async def test_owner_deletion_forgets_expectations() -> None:
    rs = make_rs(replicas=2)
    h = Harness([rs], [])
    await h.sync()
    assert not h.expectations.satisfied(f"{NS}/web")
    del h.owners.store[f"{NS}/web"]
    h.ctrl.on_owner_delete(rs)
    assert h.expectations.get(f"{NS}/web") is None
    await h.sync()
    assert len(h.pc.creates) == 2


# -- the real PodControl ------------------------------------------------------------------------------------


class RecordingRecorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, str, str]] = []

    def event(self, obj: Obj, type_: str, reason: str, message: str, *, field_path: str = "") -> None:
        self.events.append((type_, reason, message))


class PodsClient:
    def __init__(self, fail: errors.StatusError | None = None) -> None:
        self.fail = fail
        self.created: list[Obj] = []

    async def create(self, res: resources.Resource, obj: Obj, namespace: str | None = None) -> Obj:
        if self.fail:
            raise self.fail
        self.created.append(obj)
        return {**obj, "metadata": {**obj["metadata"], "name": obj["metadata"]["generateName"] + "abcde"}}

    async def delete(self, res: resources.Resource, name: str, namespace: str | None = None, **kw: Any) -> Obj:
        if self.fail:
            raise self.fail
        return {}


@pytest.mark.parametrize("fail, want", [
    (None, [("Normal", "SuccessfulCreate", "Created pod: web-abcde"),
            ("Normal", "SuccessfulDelete", "Deleted pod: web-abcde")]),
    (errors.Forbidden("nope"), [("Warning", "FailedCreate", "Error creating: nope"),
                                ("Warning", "FailedDelete", "Error deleting: nope")]),
    (errors.NotFound("pods", "web-abcde"), [("Warning", "FailedCreate",
                                             'Error creating: pods "web-abcde" not found')]),
])
async def test_real_pod_control_events(fail: errors.StatusError | None, want: list[tuple[str, str, str]]) -> None:
    recorder = RecordingRecorder()
    pc = podcontrol.RealPodControl(PodsClient(fail), recorder)  # type: ignore[arg-type]
    rs = make_rs()
    try:
        await pc.create_pods(NS, rs["spec"]["template"], rs, owned_by(rs))
    except errors.StatusError:
        pass
    try:
        await pc.delete_pod(NS, "web-abcde", rs)
    except errors.StatusError:
        pass
    assert recorder.events == want


async def test_real_pod_control_refuses_a_template_without_labels() -> None:
    recorder = RecordingRecorder()
    client = PodsClient()
    pc = podcontrol.RealPodControl(client, recorder)  # type: ignore[arg-type]
    rs = make_rs()
    rs["spec"]["template"]["metadata"] = {}
    with pytest.raises(errors.BadRequest):
        await pc.create_pods(NS, rs["spec"]["template"], rs, owned_by(rs))
    assert client.created == [] and recorder.events[0][1] == "FailedCreate"
