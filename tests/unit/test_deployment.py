"""The Deployment controller's sync, driven by hand-filled informer caches.

`FakeCluster` is the recording fake of both write seams: it records every
ReplicaSet write and applies it to the informer stores the way the API server
would (resourceVersion conflicts included), so several syncs can be chained.
`settle()` plays the ReplicaSet controller: pods appear and disappear with
spec.replicas, and become available at a chosen pace.
"""
from __future__ import annotations

import copy
from typing import Any

import pytest

from minik8s.api import errors
from minik8s.api import rfc3339
from minik8s.client import informer as informer_mod
from minik8s.controllers.deployment import controller as deployment
from minik8s.controllers.deployment import util

Obj = dict[str, Any]
NS = "ns"
T0 = 1_700_000_000.0


def template(image: str) -> Obj:
    return {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "web", "image": image}]}}


def new_deployment(name: str = "web", replicas: int = 3, surge: Any = "25%", unavailable: Any = "25%",
                   kind: str = "RollingUpdate", image: str = "nginx:1", **spec: Any) -> Obj:
    strategy: Obj = {"type": kind}
    if kind == "RollingUpdate":
        strategy["rollingUpdate"] = {"maxSurge": surge, "maxUnavailable": unavailable}
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": NS},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}}, "strategy": strategy,
                     "template": template(image), "revisionHistoryLimit": 10, "progressDeadlineSeconds": 600,
                     **spec}}


class FakeRecorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, str, str]] = []

    def event(self, obj: Obj, type_: str, reason: str, message: str, *, field_path: str = "") -> None:
        self.events.append((type_, reason, message))


class FakeCluster:
    """Informer stores + the recording fake of RSControl and DeploymentControl."""

    def __init__(self) -> None:
        self.now = T0
        self.rv = 100
        self.serial = 0
        self.factory = informer_mod.InformerFactory(None)  # type: ignore[arg-type]  # never started
        self.recorder = FakeRecorder()
        self.actions: list[tuple[Any, ...]] = []
        self.requeues: list[tuple[str, float]] = []
        self.ctrl = deployment.DeploymentController(None, self.factory, self.recorder, control=self,
                                                    clock=lambda: self.now)
        self.ctrl.ctx.enqueue_after = lambda key, delay: self.requeues.append((key, delay))
        self.available_rate: int | None = None  # None: all pods available at once

    # -- stores --------------------------------------------------------------------------

    @property
    def rs_store(self) -> dict[str, Obj]:
        return self.ctrl.replica_sets.store

    @property
    def d_store(self) -> dict[str, Obj]:
        return self.ctrl.deployments.store

    def _next_rv(self) -> str:
        self.rv += 1
        return str(self.rv)

    def _uid(self, prefix: str) -> str:
        self.serial += 1
        return f"{prefix}-{self.serial}"

    def add_deployment(self, d: Obj) -> Obj:
        d = copy.deepcopy(d)
        m = d["metadata"]
        m.setdefault("uid", self._uid("d"))
        m.setdefault("generation", 1)
        m["resourceVersion"] = self._next_rv()
        m.setdefault("creationTimestamp", rfc3339.format(self.now))
        self.d_store[f"{NS}/{m['name']}"] = d
        return d

    def deployment(self, name: str = "web") -> Obj:
        return self.d_store[f"{NS}/{name}"]

    def edit_spec(self, name: str = "web", **changes: Any) -> None:
        self.now += 1  # so that ReplicaSets created after this sort after older ones
        d = copy.deepcopy(self.deployment(name))
        d["spec"].update(changes)
        d["metadata"]["generation"] += 1
        d["metadata"]["resourceVersion"] = self._next_rv()
        self.d_store[f"{NS}/{name}"] = d

    def add_rs(self, rs: Obj) -> Obj:
        rs = copy.deepcopy(rs)
        m = rs["metadata"]
        m.setdefault("namespace", NS)
        m.setdefault("uid", self._uid("rs"))
        m.setdefault("generation", 1)
        m.setdefault("creationTimestamp", rfc3339.format(self.now))
        m["resourceVersion"] = self._next_rv()
        rs.setdefault("status", {})
        self.rs_store[f"{NS}/{m['name']}"] = rs
        return rs

    def replica_sets(self) -> list[Obj]:
        return util.by_creation_timestamp(self.rs_store.values())

    def sizes(self) -> dict[str, int]:
        return {util.name(rs): util.replicas(rs) for rs in self.replica_sets()}

    # -- RSControl -------------------------------------------------------------------------

    async def create_replica_set(self, namespace: str, rs: Obj) -> Obj:
        name = rs["metadata"]["name"]
        if f"{namespace}/{name}" in self.rs_store:
            raise errors.AlreadyExists("replicasets.apps", name)
        self.actions.append(("create", name, util.replicas(rs)))
        return copy.deepcopy(self.add_rs(rs))

    async def update_replica_set(self, rs: Obj) -> Obj:
        key = f"{rs['metadata']['namespace']}/{rs['metadata']['name']}"
        stored = self.rs_store.get(key)
        if stored is None:
            raise errors.NotFound("replicasets.apps", rs["metadata"]["name"])
        if stored["metadata"]["resourceVersion"] != rs["metadata"].get("resourceVersion"):
            raise errors.Conflict("replicasets.apps", rs["metadata"]["name"])
        new = copy.deepcopy(rs)
        new["status"] = stored.get("status", {})
        if new["spec"] != stored["spec"]:
            new["metadata"]["generation"] = stored["metadata"]["generation"] + 1
        new["metadata"]["resourceVersion"] = self._next_rv()
        self.rs_store[key] = new
        self.actions.append(("update", util.name(new), util.replicas(new)))
        return copy.deepcopy(new)

    async def patch_replica_set(self, namespace: str, name: str, patch: Obj) -> Obj:
        stored = copy.deepcopy(self.rs_store[f"{namespace}/{name}"])
        assert patch["metadata"]["uid"] == stored["metadata"]["uid"]
        refs = list(stored["metadata"].get("ownerReferences") or [])
        for ref in patch["metadata"]["ownerReferences"]:
            refs = [r for r in refs if r.get("uid") != ref["uid"]]
            if ref.get("$patch") != "delete":
                refs.append(ref)
        stored["metadata"]["ownerReferences"] = refs
        stored["metadata"]["resourceVersion"] = self._next_rv()
        self.rs_store[f"{namespace}/{name}"] = stored
        self.actions.append(("patch", name, [r.get("$patch", "add") for r in patch["metadata"]["ownerReferences"]]))
        return copy.deepcopy(stored)

    async def delete_replica_set(self, namespace: str, name: str, uid: str) -> None:
        self.actions.append(("delete", name))
        self.rs_store.pop(f"{namespace}/{name}", None)

    async def get_replica_set(self, namespace: str, name: str) -> Obj | None:
        return copy.deepcopy(self.rs_store.get(f"{namespace}/{name}"))

    # -- DeploymentControl ---------------------------------------------------------------------

    async def get_deployment(self, namespace: str, name: str) -> Obj | None:
        return copy.deepcopy(self.d_store.get(f"{namespace}/{name}"))

    async def update_deployment_status(self, d: Obj) -> Obj:
        key = f"{d['metadata']['namespace']}/{d['metadata']['name']}"
        stored = self.d_store[key]
        if stored["metadata"]["resourceVersion"] != d["metadata"].get("resourceVersion"):
            raise errors.Conflict("deployments.apps", d["metadata"]["name"])
        new = copy.deepcopy(stored)
        new["status"] = copy.deepcopy(d.get("status") or {})
        # Upstream's status strategy keeps the request's metadata: the revision annotation rides along.
        new["metadata"]["annotations"] = copy.deepcopy(d["metadata"].get("annotations") or {})
        new["metadata"]["resourceVersion"] = self._next_rv()
        self.d_store[key] = new
        self.actions.append(("status", d["metadata"]["name"]))
        return copy.deepcopy(new)

    # -- driving ---------------------------------------------------------------------------------

    async def sync(self, name: str = "web") -> None:
        await self.ctrl.sync(f"{NS}/{name}")

    def settle(self) -> None:
        """The ReplicaSet controller's step: pods follow spec.replicas; new pods become available
        at `available_rate` per ReplicaSet per step (all at once if None); scale-down removes
        unavailable pods first."""
        for key, rs in list(self.rs_store.items()):
            rs = copy.deepcopy(rs)
            want = util.replicas(rs)
            st = rs.setdefault("status", {})
            available = min(int(st.get("availableReplicas") or 0), want)
            if self.available_rate is None:
                available = want
            else:
                available = min(want, available + self.available_rate)
            rs["status"] = {"replicas": want, "readyReplicas": available, "availableReplicas": available,
                            "observedGeneration": rs["metadata"]["generation"]}
            rs["metadata"]["resourceVersion"] = self._next_rv()
            self.rs_store[key] = rs

    def new_rs(self, name: str = "web") -> Obj | None:
        return util.find_new_replica_set(self.deployment(name), list(self.rs_store.values()))

    async def converge(self, name: str = "web", steps: int = 60) -> None:
        for _ in range(steps):
            await self.sync(name)
            self.settle()
            await self.sync(name)
            d = self.deployment(name)
            if util.deployment_complete(d, d.get("status") or {}) and len(util.filter_active(
                    self.rs_store.values())) == 1:
                return
        raise AssertionError(f"no convergence: {self.sizes()} {self.deployment(name).get('status')}")


# -- creation ------------------------------------------------------------------------------------

async def test_create_makes_one_replica_set_with_hash_labels_owner_and_revision() -> None:
    c = FakeCluster()
    c.add_deployment(new_deployment(replicas=1))
    await c.sync()
    [rs] = c.replica_sets()
    d = c.deployment()
    h = util.compute_hash(d["spec"]["template"], None)
    assert util.name(rs) == f"web-{h}"
    assert rs["metadata"]["labels"] == {"app": "web", "pod-template-hash": h}
    assert rs["spec"]["selector"] == {"matchLabels": {"app": "web", "pod-template-hash": h}}
    assert rs["spec"]["template"]["metadata"]["labels"] == {"app": "web", "pod-template-hash": h}
    assert rs["metadata"]["ownerReferences"] == [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web",
                                                  "uid": d["metadata"]["uid"], "controller": True,
                                                  "blockOwnerDeletion": True}]
    assert rs["metadata"]["annotations"] == {util.REVISION: "1", util.DESIRED_REPLICAS: "1",
                                             util.MAX_REPLICAS: "2"}
    assert util.replicas(rs) == 1
    assert d["metadata"]["annotations"][util.REVISION] == "1"
    cond = util.get_condition(d["status"], "Progressing")
    assert (cond["status"], cond["reason"], cond["message"]) == (
        "True", "NewReplicaSetCreated", f'Created new replica set "web-{h}"')
    assert ("Normal", "ScalingReplicaSet", f"Scaled up replica set web-{h} from 0 to 1") in c.recorder.events


async def test_status_after_pods_become_available() -> None:
    c = FakeCluster()
    c.add_deployment(new_deployment(replicas=2))
    await c.converge()
    st = c.deployment()["status"]
    assert {k: st.get(k) for k in ("observedGeneration", "replicas", "updatedReplicas", "readyReplicas",
                                   "availableReplicas", "unavailableReplicas")} == {
        "observedGeneration": 1, "replicas": 2, "updatedReplicas": 2, "readyReplicas": 2,
        "availableReplicas": 2, "unavailableReplicas": None}
    assert util.get_condition(st, "Available")["reason"] == "MinimumReplicasAvailable"
    assert util.get_condition(st, "Progressing")["reason"] == "NewReplicaSetAvailable"


async def test_a_restarted_controller_finds_its_replica_set_instead_of_creating_another() -> None:
    c = FakeCluster()
    c.add_deployment(new_deployment(replicas=2))
    await c.sync()
    assert [a[0] for a in c.actions].count("create") == 1
    # A new controller over the same caches (a restart) must reuse it.
    restarted = deployment.DeploymentController(None, c.factory, c.recorder, control=c, clock=lambda: c.now)
    restarted.ctx.enqueue_after = lambda key, delay: None
    c.settle()
    await restarted.sync(f"{NS}/web")
    await restarted.sync(f"{NS}/web")
    assert [a[0] for a in c.actions].count("create") == 1
    assert len(c.rs_store) == 1


async def test_create_races_a_stale_cache_then_reuses_the_existing_replica_set() -> None:
    c = FakeCluster()
    d = c.add_deployment(new_deployment(replicas=1))
    await c.sync()
    [rs] = c.replica_sets()
    # The cache loses the ReplicaSet (it is still on the server).
    hidden = c.rs_store.pop(f"{NS}/{util.name(rs)}")
    original_get = c.get_replica_set

    async def create_exists(namespace: str, obj: Obj) -> Obj:
        raise errors.AlreadyExists("replicasets.apps", obj["metadata"]["name"])

    async def get_hidden(namespace: str, name: str) -> Obj | None:
        return copy.deepcopy(hidden) if name == util.name(hidden) else await original_get(namespace, name)
    c.create_replica_set = create_exists  # type: ignore[method-assign]
    c.get_replica_set = get_hidden  # type: ignore[method-assign]
    await c.sync()
    assert c.deployment()["status"].get("collisionCount") is None
    assert d["metadata"]["uid"] == c.deployment()["metadata"]["uid"]


async def test_hash_collision_bumps_collision_count_and_uses_a_new_name() -> None:
    c = FakeCluster()
    d = new_deployment(replicas=1)
    h = util.compute_hash(d["spec"]["template"], None)
    # Someone else's ReplicaSet already has our name, with another template.
    c.add_rs({"metadata": {"name": f"web-{h}", "labels": {"app": "other"}},
              "spec": {"replicas": 0, "selector": {"matchLabels": {"app": "other"}}, "template": template("x")}})
    c.add_deployment(d)
    with pytest.raises(errors.AlreadyExists):
        await c.sync()
    assert c.deployment()["status"]["collisionCount"] == 1
    await c.sync()
    h1 = util.compute_hash(d["spec"]["template"], 1)
    assert h1 != h and f"{NS}/web-{h1}" in c.rs_store


# -- rolling updates --------------------------------------------------------------------------------

ROLLING_CASES = [
    # replicas, maxSurge, maxUnavailable, pods becoming available per step (None: at once)
    (10, "25%", "25%", None), (10, "25%", "25%", 1), (3, 1, 0, 1), (3, 0, 1, 1), (1, "25%", "25%", 1),
    (1, "50%", "50%", 1), (5, "100%", 0, 2), (4, 0, "50%", 1), (7, "30%", "10%", 2), (2, "0%", "1%", 1),
]


@pytest.mark.parametrize("replicas,surge,unavailable,rate", ROLLING_CASES)
async def test_rolling_update_stays_within_bounds_at_every_step(replicas: int, surge: Any, unavailable: Any,
                                                                rate: int | None) -> None:
    c = FakeCluster()
    c.add_deployment(new_deployment(replicas=replicas, surge=surge, unavailable=unavailable))
    await c.converge()
    d = c.deployment()
    max_total = replicas + util.max_surge(d)
    min_avail = replicas - util.max_unavailable(d)
    c.available_rate = rate
    c.edit_spec(template=template("nginx:2"))
    for step in range(200):
        await c.sync()
        total_wanted = util.replica_count(c.rs_store.values())
        assert total_wanted <= max_total, f"step {step}: {c.sizes()} exceeds {max_total}"
        c.settle()
        pods = util.actual_replica_count(c.rs_store.values())
        available = util.available_replica_count(c.rs_store.values())
        assert pods <= max_total, f"step {step}: {pods} pods > {max_total}"
        assert available >= min_avail, f"step {step}: {available} available < {min_avail}"
        d = c.deployment()
        if util.deployment_complete(d, d["status"]) and len(util.filter_active(c.rs_store.values())) == 1:
            break
    else:
        raise AssertionError(f"rollout did not finish: {c.sizes()}")
    new = c.new_rs()
    assert new is not None and util.replicas(new) == replicas
    assert util.annotations_of(new)[util.REVISION] == "2" == c.deployment()["metadata"]["annotations"][util.REVISION]
    assert all(util.replicas(rs) == 0 for rs in c.rs_store.values() if rs is not new)


async def test_first_rolling_step_for_ten_replicas_at_25_percent() -> None:
    c = FakeCluster()
    c.add_deployment(new_deployment(replicas=10))
    await c.converge()
    c.available_rate = 0  # new pods never become available
    c.edit_spec(template=template("nginx:2"))
    await c.sync()
    c.settle()
    await c.sync()
    c.settle()
    await c.sync()
    sizes = list(c.sizes().values())
    # Surge 3 new, then 2 old go (10 - 2 available is the floor); the broken new pods stall it there.
    assert sorted(sizes) == [5, 8]
    assert util.replica_count(c.rs_store.values()) == 13
    msgs = [m for _, r, m in c.recorder.events if r == "ScalingReplicaSet"]
    assert any("Scaled up replica set" in m and "from 0 to 3" in m for m in msgs)
    assert any("Scaled down replica set" in m and "from 10 to 8" in m for m in msgs)


async def test_unhealthy_old_replicas_are_cleaned_up_first() -> None:
    c = FakeCluster()
    c.add_deployment(new_deployment(replicas=4, surge=0, unavailable=1))
    await c.converge()
    [old] = c.replica_sets()
    old["status"]["availableReplicas"] = 2  # two old pods broke
    c.available_rate = 0
    c.edit_spec(template=template("nginx:2"))
    await c.sync()
    # maxScaledDown = 4 pods - 3 to keep available - 0 unavailable new = 1, spent on a broken pod.
    assert util.replicas(c.rs_store[f"{NS}/{util.name(old)}"]) == 3


# -- Recreate ---------------------------------------------------------------------------------------------

async def test_recreate_scales_old_to_zero_before_creating_new() -> None:
    c = FakeCluster()
    c.add_deployment(new_deployment(replicas=3, kind="Recreate"))
    await c.converge()
    [old] = c.replica_sets()
    c.edit_spec(template=template("nginx:2"))
    c.actions.clear()
    await c.sync()
    assert c.actions[0] == ("update", util.name(old), 0)
    assert not [a for a in c.actions if a[0] == "create"]
    # An old pod still running holds the new ReplicaSet back, even with the old RS at zero.
    c.settle()
    c.ctrl.pods.store[f"{NS}/p1"] = {
        "metadata": {"name": "p1", "namespace": NS, "labels": {"app": "web"},
                     "ownerReferences": [{"kind": "ReplicaSet", "name": util.name(old), "uid": old["metadata"]["uid"],
                                          "controller": True}]},
        "status": {"phase": "Running"}}
    await c.sync()
    assert not [a for a in c.actions if a[0] == "create"]
    c.ctrl.pods.store[f"{NS}/p1"]["status"]["phase"] = "Succeeded"
    await c.sync()
    creates = [a for a in c.actions if a[0] == "create"]
    assert len(creates) == 1 and creates[0][2] == 3
    await c.converge()
    assert sorted(c.sizes().values()) == [0, 3]


# -- scaling ------------------------------------------------------------------------------------------------

async def test_scaling_mid_rollout_is_proportional() -> None:
    c = FakeCluster()
    c.add_deployment(new_deployment(replicas=10))
    await c.converge()
    c.available_rate = 0
    c.edit_spec(template=template("nginx:2"))
    for _ in range(3):
        await c.sync()
        c.settle()
    old, new = c.replica_sets()
    assert (util.replicas(old), util.replicas(new)) == (8, 5)
    c.edit_spec(replicas=20)
    c.actions.clear()
    await c.sync()
    old, new = c.replica_sets()
    # 25 allowed (20 + 5 surge), 12 more to hand out: 8*25/13 -> 15, 5*25/13 -> 10.
    assert (util.replicas(old), util.replicas(new)) == (15, 10)
    assert util.annotations_of(old)[util.DESIRED_REPLICAS] == "20" == util.annotations_of(new)[util.DESIRED_REPLICAS]
    assert util.annotations_of(new)[util.MAX_REPLICAS] == "25"
    assert not [a for a in c.actions if a[0] == "create"]


async def test_scale_without_rollout_resizes_the_only_replica_set() -> None:
    c = FakeCluster()
    c.add_deployment(new_deployment(replicas=2))
    await c.converge()
    c.edit_spec(replicas=5)
    await c.sync()
    [rs] = c.replica_sets()
    assert util.replicas(rs) == 5
    assert ("Normal", "ScalingReplicaSet", f"Scaled up replica set {util.name(rs)} from 2 to 5") in c.recorder.events


# -- revisions, rollback, history ---------------------------------------------------------------------

async def test_rollback_to_an_old_template_bumps_that_replica_sets_revision() -> None:
    c = FakeCluster()
    c.add_deployment(new_deployment(replicas=1))
    await c.converge()
    c.edit_spec(template=template("nginx:2"))
    await c.converge()
    first = util.find_new_replica_set({"spec": {"template": template("nginx:1")}}, list(c.rs_store.values()))
    assert first is not None and util.annotations_of(first)[util.REVISION] == "1"
    assert c.deployment()["metadata"]["annotations"][util.REVISION] == "2"
    # `kubectl rollout undo` puts the old template back.
    c.edit_spec(template=template("nginx:1"))
    await c.converge()
    back = c.rs_store[f"{NS}/{util.name(first)}"]
    assert util.annotations_of(back)[util.REVISION] == "3"
    assert util.annotations_of(back)[util.REVISION_HISTORY] == "1"
    assert c.deployment()["metadata"]["annotations"][util.REVISION] == "3"
    assert len(c.rs_store) == 2


async def test_change_cause_is_copied_to_the_new_replica_set() -> None:
    c = FakeCluster()
    d = new_deployment(replicas=1)
    d["metadata"]["annotations"] = {util.CHANGE_CAUSE: "kubectl create --record", util.LAST_APPLIED: "{}"}
    c.add_deployment(d)
    await c.sync()
    [rs] = c.replica_sets()
    assert util.annotations_of(rs)[util.CHANGE_CAUSE] == "kubectl create --record"
    assert util.LAST_APPLIED not in util.annotations_of(rs)


async def test_history_beyond_the_limit_is_deleted_oldest_first() -> None:
    c = FakeCluster()
    c.add_deployment(new_deployment(replicas=1, revisionHistoryLimit=2))
    for i in range(1, 6):
        c.edit_spec(template=template(f"nginx:{i}"))
        await c.converge()
    await c.sync()
    revisions = sorted(int(util.annotations_of(rs)[util.REVISION]) for rs in c.rs_store.values())
    assert revisions == [3, 4, 5]  # the current one plus two old ones
    assert [a for a in c.actions if a[0] == "delete"]


async def test_history_cleanup_keeps_replica_sets_with_pods_or_unobserved_specs() -> None:
    c = FakeCluster()
    c.add_deployment(new_deployment(replicas=1, revisionHistoryLimit=0))
    await c.converge()
    old = c.add_rs({"metadata": {"name": "web-old", "labels": {"app": "web", "pod-template-hash": "old"},
                                 "annotations": {util.REVISION: "0"}, "generation": 2,
                                 "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web",
                                                      "uid": c.deployment()["metadata"]["uid"],
                                                      "controller": True}]},
                    "spec": {"replicas": 0, "template": template("nginx:0")},
                    "status": {"replicas": 0, "observedGeneration": 1}})
    await c.sync()
    assert f"{NS}/web-old" in c.rs_store  # its controller has not seen replicas: 0 yet
    old["status"]["observedGeneration"] = 2
    await c.sync()
    assert f"{NS}/web-old" not in c.rs_store


# -- progress ---------------------------------------------------------------------------------------------

async def test_progress_deadline_exceeded_when_pods_never_become_available() -> None:
    c = FakeCluster()
    c.add_deployment(new_deployment(replicas=2, progressDeadlineSeconds=10))
    c.available_rate = 0
    await c.sync()
    c.settle()
    await c.sync()  # pods exist now: progress, recorded
    await c.sync()  # (the status write's own watch event) nothing new
    cond = util.get_condition(c.deployment()["status"], "Progressing")
    assert cond["status"] == "True"
    # Nothing changes, so the controller must have asked to come back after the deadline.
    assert c.requeues and c.requeues[-1][0] == f"{NS}/web" and 10 <= c.requeues[-1][1] <= 12
    c.now += 5
    await c.sync()
    assert util.get_condition(c.deployment()["status"], "Progressing")["reason"] != "ProgressDeadlineExceeded"
    c.now += 6
    await c.sync()
    cond = util.get_condition(c.deployment()["status"], "Progressing")
    assert (cond["status"], cond["reason"]) == ("False", "ProgressDeadlineExceeded")
    assert cond["message"].endswith("has timed out progressing.")
    avail = util.get_condition(c.deployment()["status"], "Available")
    assert (avail["status"], avail["reason"]) == ("False", "MinimumReplicasUnavailable")


async def test_progress_refreshes_the_deadline() -> None:
    c = FakeCluster()
    c.add_deployment(new_deployment(replicas=3, surge=0, unavailable=1, progressDeadlineSeconds=10))
    await c.converge()
    c.available_rate = 1
    c.edit_spec(template=template("nginx:2"))
    for _ in range(12):
        c.now += 8  # each step is within the deadline of the previous progress
        await c.sync()
        c.settle()
    cond = util.get_condition(c.deployment()["status"], "Progressing")
    assert cond["reason"] == "NewReplicaSetAvailable", cond


# -- paused ---------------------------------------------------------------------------------------------

async def test_paused_deployment_does_not_roll_but_scales() -> None:
    c = FakeCluster()
    c.add_deployment(new_deployment(replicas=2))
    await c.converge()
    c.edit_spec(paused=True, template=template("nginx:2"))
    c.actions.clear()
    await c.sync()
    assert not [a for a in c.actions if a[0] == "create"]
    cond = util.get_condition(c.deployment()["status"], "Progressing")
    assert (cond["status"], cond["reason"]) == ("Unknown", "DeploymentPaused")
    c.edit_spec(replicas=4)
    await c.sync()
    [rs] = c.replica_sets()
    assert util.replicas(rs) == 4
    c.edit_spec(paused=False)
    await c.sync()
    cond = util.get_condition(c.deployment()["status"], "Progressing")
    assert cond["reason"] in ("DeploymentResumed", "NewReplicaSetCreated")
    assert len(c.rs_store) == 2


# -- adoption -----------------------------------------------------------------------------------------

async def test_adopts_a_matching_orphan_and_releases_a_no_longer_matching_one() -> None:
    c = FakeCluster()
    d = c.add_deployment(new_deployment(replicas=1))
    h = util.compute_hash(d["spec"]["template"], None)
    orphan_template = template("nginx:1")
    orphan_template["metadata"]["labels"]["pod-template-hash"] = h
    c.add_rs({"metadata": {"name": f"web-{h}", "labels": {"app": "web", "pod-template-hash": h}},
              "spec": {"replicas": 1, "template": orphan_template,
                       "selector": {"matchLabels": {"app": "web", "pod-template-hash": h}}},
              "status": {"replicas": 1, "availableReplicas": 1, "observedGeneration": 1}})
    stray = c.add_rs({"metadata": {"name": "stray", "labels": {"app": "other"},
                                   "ownerReferences": [{"kind": "Deployment", "name": "web",
                                                        "uid": d["metadata"]["uid"], "controller": True}]},
                      "spec": {"replicas": 0, "template": template("x")}})
    await c.sync()
    assert ("patch", f"web-{h}", ["add"]) in c.actions
    assert ("patch", "stray", ["delete"]) in c.actions
    assert not [a for a in c.actions if a[0] == "create"]
    assert c.rs_store[f"{NS}/stray"]["metadata"]["ownerReferences"] == []
    assert stray["metadata"]["uid"] == c.rs_store[f"{NS}/stray"]["metadata"]["uid"]


async def test_replica_sets_of_other_owners_are_left_alone() -> None:
    c = FakeCluster()
    c.add_deployment(new_deployment(replicas=1))
    theirs = [{"kind": "Deployment", "name": "x", "uid": "other", "controller": True}]
    c.add_rs({"metadata": {"name": "theirs", "labels": {"app": "web"}, "ownerReferences": theirs},
              "spec": {"replicas": 1, "template": template("nginx:1")}})
    await c.sync()
    assert not [a for a in c.actions if a[0] in ("patch", "update", "delete") and a[1] == "theirs"]
    assert [a for a in c.actions if a[0] == "create"]


async def test_empty_selector_is_refused_with_a_warning() -> None:
    c = FakeCluster()
    d = new_deployment()
    d["spec"]["selector"] = {}
    c.add_deployment(d)
    await c.sync()
    assert not c.rs_store
    assert ("Warning", "SelectingAll",
            "This deployment is selecting all pods. A non-empty selector is required.") in c.recorder.events


# -- event handlers ---------------------------------------------------------------------------------------

async def test_replica_set_events_enqueue_the_owning_deployment() -> None:
    c = FakeCluster()
    d = c.add_deployment(new_deployment())
    owned = {"metadata": {"name": "a", "namespace": NS, "resourceVersion": "1", "labels": {"app": "web"},
                          "ownerReferences": [{"kind": "Deployment", "name": "web", "uid": d["metadata"]["uid"],
                                               "controller": True}]}}
    c.ctrl._add_replica_set(owned)
    assert len(c.ctrl.queue) == 1
    await c.ctrl.queue.get()
    c.ctrl.queue.done(f"{NS}/web")
    foreign = copy.deepcopy(owned)
    foreign["metadata"]["ownerReferences"][0]["uid"] = "someone-else"
    c.ctrl._add_replica_set(foreign)
    assert len(c.ctrl.queue) == 0
    orphan = {"metadata": {"name": "b", "namespace": NS, "resourceVersion": "1", "labels": {"app": "web"}}}
    c.ctrl._add_replica_set(orphan)
    assert len(c.ctrl.queue) == 1


async def test_stale_available_count_of_a_shrinking_replica_set_is_not_trusted() -> None:
    c = FakeCluster()
    c.add_deployment(new_deployment(replicas=10))
    await c.converge()
    c.edit_spec(template=template("nginx:2"))
    await c.sync()  # new RS at 3
    [old, new] = c.replica_sets()
    c.rs_store[f"{NS}/{util.name(new)}"]["status"] = {"replicas": 3, "availableReplicas": 3, "observedGeneration": 1}
    old = c.rs_store[f"{NS}/{util.name(old)}"]
    old["spec"]["replicas"] = 8  # scaled down; its status still reports the 10 pods
    await c.sync()
    # Only 8 old + 3 new can remain available: 3 more may go (floor 8), not 5.
    assert util.replicas(c.rs_store[f"{NS}/{util.name(old)}"]) == 5


async def test_failed_create_is_reported_in_condition_and_event() -> None:
    c = FakeCluster()
    c.add_deployment(new_deployment(replicas=1))

    async def refuse(namespace: str, rs: Obj) -> Obj:
        raise errors.Forbidden('replicasets.apps is forbidden: exceeded quota')
    c.create_replica_set = refuse  # type: ignore[method-assign]
    with pytest.raises(errors.Forbidden):
        await c.sync()
    cond = util.get_condition(c.deployment()["status"], "Progressing")
    assert (cond["status"], cond["reason"]) == ("False", "ReplicaSetCreateError")
    assert cond["message"].startswith('Failed to create new replica set "web-')
    assert [e for e in c.recorder.events if e[:2] == ("Warning", "ReplicaSetCreateError")]
