"""The DaemonSet controller against the in-memory API, with a fake scheduler and kubelet.

Covers what pkg/controller/daemon's tests cover: which nodes get a daemon pod
(nodeSelector, affinity, taints and the default tolerations), pods pinned to
their node through node affinity, failed pods replaced, history as
ControllerRevisions (revisions, rollback, cleanup), rolling updates within
maxUnavailable / maxSurge, OnDelete, and the status counts."""
from __future__ import annotations

import copy
from typing import Any

import pytest

from minik8s.api import kinds
from minik8s.api import resources
from minik8s.api import rfc3339
from minik8s.api import strategy
from minik8s.controllers.daemon import controller as daemon_mod
from minik8s.controllers.daemon import util
from tests.unit import controller_fakes

Obj = dict[str, Any]
DS = resources.must("apps", "v1", "daemonsets")
REVS = resources.must("apps", "v1", "controllerrevisions")
PODS = resources.must("", "v1", "pods")
NODES = resources.must("", "v1", "nodes")
T0 = 1_700_000_000.0


def make_ds(**spec: Any) -> Obj:
    body: Obj = {"metadata": {"name": "agent", "namespace": "default", "uid": "uid-agent", "generation": 1},
                 "spec": {"selector": {"matchLabels": {"app": "agent"}},
                          "template": {"metadata": {"labels": {"app": "agent"}}, "spec": {
                              "containers": [{"name": "c", "image": "minik8s/busybox:1"}]}}, **spec}}
    s = kinds.for_resource(DS)
    s.defaults(DS, body, None, strategy.DEFAULT_SETTINGS)
    s.prepare_for_create(DS, body)
    kinds.validate(DS, body)
    return body


def node(name: str, labels: Obj | None = None, taints: list[Obj] | None = None) -> Obj:
    return {"metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, **(labels or {})}},
            "spec": {"taints": taints} if taints else {}, "status": {}}


class Harness:
    def __init__(self, ds: Obj, nodes: list[Obj]) -> None:
        self.now = T0
        self.api = controller_fakes.FakeApi(lambda: self.now)
        self.events = controller_fakes.Events()
        self.ctrl = daemon_mod.DaemonSetsController(
            self.api, self.api.informer(DS), self.api.informer(REVS), self.api.informer(PODS),
            self.api.informer(NODES), controller_fakes.FakePodControl(self.api), self.events,  # type: ignore[arg-type]
            clock=lambda: self.now)
        self.ctrl.enqueue_after = lambda key, delay: None  # type: ignore[method-assign]
        for n in nodes:
            self.api.add(NODES, n)
        self.api.add(DS, ds)

    async def sync(self) -> Obj:
        await self.ctrl.sync("default/agent")
        found = self.api.get_obj(DS, "agent")
        assert found is not None
        return found

    def pods(self, *, live: bool = True) -> list[Obj]:
        pods = sorted(self.api.objects(PODS), key=lambda p: p["metadata"]["name"])
        return [p for p in pods if not live or not p["metadata"].get("deletionTimestamp")]

    def by_node(self) -> dict[str, list[Obj]]:
        out: dict[str, list[Obj]] = {}
        for pod in self.pods():
            out.setdefault(util.target_node(pod) or "", []).append(pod)
        return out

    async def schedule_and_run(self, *, ready: bool = True) -> None:
        """The scheduler binds each pod to the node its affinity names; the kubelet runs it."""
        for pod in self.pods():
            if (pod.get("status") or {}).get("phase") == "Running":
                continue
            bound = copy.deepcopy(pod)
            bound["spec"]["nodeName"] = util.target_node(pod)
            await self.api.update(PODS, bound)
            current = self.api.get_obj(PODS, pod["metadata"]["name"])
            assert current is not None
            status = {"phase": "Running", "conditions": [
                {"type": "Ready", "status": "True" if ready else "False",
                 "lastTransitionTime": rfc3339.format(self.now)}]}
            await self.api.update_status(PODS, {**copy.deepcopy(current), "status": status})

    async def kubelet_finishes_deletions(self) -> None:
        for pod in self.api.objects(PODS):
            if pod["metadata"].get("deletionTimestamp"):
                await self.api.final_delete(PODS, pod["metadata"]["name"])

    async def update_template(self, image: str) -> None:
        ds = copy.deepcopy(self.api.get_obj(DS, "agent"))
        assert ds is not None
        old = copy.deepcopy(ds)
        ds["spec"]["template"]["spec"]["containers"][0]["image"] = image
        kinds.for_resource(DS).prepare_for_update(DS, ds, old)
        ds["metadata"]["generation"] = int(ds["metadata"]["generation"]) + 1
        await self.api.update(DS, ds)


async def test_one_pod_per_node_pinned_by_affinity() -> None:
    h = Harness(make_ds(), [node("n1"), node("n2"), node("n3")])
    ds = await h.sync()
    pods = h.pods()
    assert sorted(util.target_node(p) or "" for p in pods) == ["n1", "n2", "n3"]
    pod = pods[0]
    assert "nodeName" not in pod["spec"]  # the scheduler places it
    required = pod["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert required["nodeSelectorTerms"][0]["matchFields"][0]["key"] == "metadata.name"
    keys = {(t["key"], t["effect"]) for t in pod["spec"]["tolerations"]}
    assert keys == {("node.kubernetes.io/not-ready", "NoExecute"), ("node.kubernetes.io/unreachable", "NoExecute"),
                    ("node.kubernetes.io/disk-pressure", "NoSchedule"),
                    ("node.kubernetes.io/memory-pressure", "NoSchedule"),
                    ("node.kubernetes.io/pid-pressure", "NoSchedule"),
                    ("node.kubernetes.io/unschedulable", "NoSchedule")}
    [rev] = h.api.objects(REVS)
    assert rev["revision"] == 1 and rev["metadata"]["ownerReferences"][0]["kind"] == "DaemonSet"
    assert rev["data"]["spec"]["template"]["$patch"] == "replace"
    assert pod["metadata"]["labels"][util.HASH_LABEL] == rev["metadata"]["labels"][util.HASH_LABEL]
    assert pod["metadata"]["labels"][util.GENERATION_LABEL] == "1"
    assert rev["metadata"]["labels"]["app"] == "agent"  # kubectl rollout history selects revisions by it
    assert ds["status"]["desiredNumberScheduled"] == 3 and ds["status"]["currentNumberScheduled"] == 3
    await h.schedule_and_run()
    ds = await h.sync()
    assert (ds["status"]["numberReady"], ds["status"]["numberAvailable"], ds["status"]["updatedNumberScheduled"]) \
        == (3, 3, 3)
    assert ds["status"]["observedGeneration"] == 1 and "numberUnavailable" not in ds["status"]
    assert len(h.pods()) == 3  # converged: nothing more


@pytest.mark.parametrize("nodes,template_spec,expected", [
    ([node("a", {"disk": "ssd"}), node("b")], {"nodeSelector": {"disk": "ssd"}}, ["a"]),
    ([node("a", taints=[{"key": "gpu", "effect": "NoSchedule"}]), node("b")], {}, ["b"]),
    ([node("a", taints=[{"key": "gpu", "effect": "NoSchedule"}]), node("b")],
     {"tolerations": [{"key": "gpu", "operator": "Exists"}]}, ["a", "b"]),
    # Cordoned and not-ready nodes still run daemons: the default tolerations.
    ([node("a", taints=[{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"},
                        {"key": "node.kubernetes.io/not-ready", "effect": "NoExecute"}])], {}, ["a"]),
    ([node("a", {"zone": "x"}), node("b", {"zone": "y"})], {"affinity": {"nodeAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
            {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["y"]}]}]}}}}, ["b"]),
])
async def test_eligible_nodes(nodes: list[Obj], template_spec: Obj, expected: list[str]) -> None:
    ds = make_ds()
    ds["spec"]["template"]["spec"].update(template_spec)
    h = Harness(ds, nodes)
    await h.sync()
    assert sorted(h.by_node()) == expected


async def test_nodes_coming_and_going_and_no_execute_taints() -> None:
    h = Harness(make_ds(), [node("n1")])
    await h.sync()
    await h.schedule_and_run()
    h.api.add(NODES, node("n2"))
    assert len(h.ctrl.queue) == 1  # the node handler asked for a sync
    await h.sync()
    assert sorted(h.by_node()) == ["n1", "n2"]
    # A NoExecute taint the daemon does not tolerate evicts it.
    tainted = copy.deepcopy(h.api.get_obj(NODES, "n1", None))
    assert tainted is not None
    tainted["spec"]["taints"] = [{"key": "maintenance", "effect": "NoExecute"}]
    await h.api.update(NODES, tainted)
    await h.sync()
    assert sorted(h.by_node()) == ["n2"]
    # A pod pinned to a node that disappeared before it was scheduled goes.
    h.api._remove(NODES, h.api.get_obj(NODES, "n2", None))  # type: ignore[arg-type]
    await h.sync()
    assert h.by_node() == {}


async def test_failed_pod_is_replaced_with_a_backoff() -> None:
    h = Harness(make_ds(), [node("n1")])
    await h.sync()
    await h.schedule_and_run()
    pod = h.pods()[0]
    failed = copy.deepcopy(h.api.get_obj(PODS, pod["metadata"]["name"]))
    assert failed is not None
    failed["status"] = {"phase": "Failed"}
    await h.api.update_status(PODS, failed)
    await h.sync()
    assert "FailedDaemonPod" in h.events.reasons()
    await h.kubelet_finishes_deletions()
    await h.sync()
    [replacement] = h.pods()
    assert replacement["metadata"]["name"] != pod["metadata"]["name"]


async def test_rolling_update_keeps_within_max_unavailable() -> None:
    h = Harness(make_ds(), [node("n1"), node("n2"), node("n3")])
    await h.sync()
    await h.schedule_and_run()
    await h.sync()
    await h.update_template("minik8s/busybox:2")
    ds = await h.sync()
    revs = sorted(h.api.objects(REVS), key=lambda r: r["revision"])
    assert [r["revision"] for r in revs] == [1, 2]
    new_hash = revs[1]["metadata"]["labels"][util.HASH_LABEL]
    for step in range(10):
        live = h.pods()
        old = [p for p in live if p["metadata"]["labels"][util.HASH_LABEL] != new_hash]
        if not old and len(live) == 3:
            break
        # maxUnavailable 1: at most one node without an available daemon at any point.
        available = [p for p in live if (p.get("status") or {}).get("phase") == "Running"]
        assert len(available) >= 2, step
        await h.kubelet_finishes_deletions()
        await h.sync()
        await h.schedule_and_run()
        ds = await h.sync()
    assert all(p["metadata"]["labels"][util.HASH_LABEL] == new_hash for p in h.pods())
    assert all(p["spec"]["containers"][0]["image"] == "minik8s/busybox:2" for p in h.pods())
    assert ds["status"]["updatedNumberScheduled"] == 3 and ds["status"]["numberAvailable"] == 3
    assert h.pods()[0]["metadata"]["labels"][util.GENERATION_LABEL] == "2"


async def test_rolling_update_with_surge() -> None:
    ds = make_ds(updateStrategy={"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}})
    h = Harness(ds, [node("n1"), node("n2")])
    await h.sync()
    await h.schedule_and_run()
    await h.sync()
    await h.update_template("minik8s/busybox:2")
    await h.sync()
    per_node = h.by_node()
    assert sum(len(v) for v in per_node.values()) == 3  # one extra pod, next to an old one
    await h.schedule_and_run()
    await h.sync()  # the new one is available: its old neighbour goes
    await h.kubelet_finishes_deletions()
    for _ in range(4):
        await h.sync()
        await h.schedule_and_run()
        await h.kubelet_finishes_deletions()
    assert len(h.pods()) == 2
    assert all(p["spec"]["containers"][0]["image"] == "minik8s/busybox:2" for p in h.pods())


async def test_on_delete_and_rollback_to_an_old_revision() -> None:
    h = Harness(make_ds(updateStrategy={"type": "OnDelete"}), [node("n1")])
    await h.sync()
    await h.schedule_and_run()
    first = h.pods()[0]
    await h.update_template("minik8s/busybox:2")
    ds = await h.sync()
    assert [p["metadata"]["name"] for p in h.pods()] == [first["metadata"]["name"]]  # OnDelete: kept
    assert not ds["status"].get("updatedNumberScheduled")
    # `kubectl rollout undo` applies revision 1's data: the old template is current again.
    rev1 = min(h.api.objects(REVS), key=lambda r: r["revision"])
    await h.api.patch(DS, "agent", copy.deepcopy(rev1["data"]), "default")
    await h.sync()
    by_name = {r["metadata"]["name"]: r for r in h.api.objects(REVS)}
    assert by_name[rev1["metadata"]["name"]]["revision"] == 3
    ds = await h.sync()
    assert ds["status"]["updatedNumberScheduled"] == 1  # the running pod has that hash again


async def test_history_cleanup_keeps_revisions_of_live_pods() -> None:
    h = Harness(make_ds(revisionHistoryLimit=1, updateStrategy={"type": "OnDelete"}), [node("n1")])
    await h.sync()
    await h.schedule_and_run()
    for image in ("minik8s/busybox:2", "minik8s/busybox:3", "minik8s/busybox:4"):
        await h.update_template(image)
        await h.sync()
    revisions = sorted(r["revision"] for r in h.api.objects(REVS))
    # Current (4), the one the running pod uses (1), within the limit of one old revision.
    assert revisions == [1, 4]


def test_should_run_and_tolerations() -> None:
    ds = make_ds()
    ds["spec"]["template"]["spec"]["hostNetwork"] = True
    pod = util.new_pod(ds, "n1")
    assert {"key": "node.kubernetes.io/network-unavailable", "operator": "Exists", "effect": "NoSchedule"} in \
        pod["spec"]["tolerations"]
    tainted = node("n1", taints=[{"key": "x", "effect": "NoSchedule"}])
    assert util.node_should_run(tainted, ds) == util.ShouldRun(False, True)  # stays if already there
    evicting = node("n1", taints=[{"key": "x", "effect": "NoExecute"}])
    assert util.node_should_run(evicting, ds) == util.ShouldRun(False, False)
    assert util.pin_to_node({"podAffinity": {}}, "n2")["podAffinity"] == {}
