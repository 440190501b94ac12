"""Each scheduler plugin against hand-built NodeInfos, table-driven."""
from __future__ import annotations

import random
from typing import Any

import pytest

from minik8s.scheduler import framework
from minik8s.scheduler import nodeaffinity
from minik8s.scheduler import nodeinfo
from minik8s.scheduler import nodeports
from minik8s.scheduler import noderesources
from minik8s.scheduler import nodeunschedulable
from minik8s.scheduler import plugins
from minik8s.scheduler import selectorspread
from minik8s.scheduler import tainttoleration
from minik8s.scheduler import volumerestrictions

Obj = dict[str, Any]
GI = 1024 ** 3
MI = 1024 ** 2

_counter = iter(range(10 ** 9))


def make_pod(name: str | None = None, *, cpu: str | None = None, memory: str | None = None,
             namespace: str = "default", node: str | None = None, **spec: Any) -> Obj:
    name = name or f"pod-{next(_counter)}"
    requests = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v is not None}
    container: Obj = {"name": "c", "image": "busybox"}
    if requests:
        container["resources"] = {"requests": requests}
    owner = spec.pop("owner", None)
    labels = spec.pop("labels", None)
    priority = spec.pop("priority", None)
    ports = spec.pop("ports", None)
    if ports:
        container["ports"] = ports
    pod: Obj = {"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": name, "namespace": namespace, "uid": f"uid-{name}",
                             "creationTimestamp": "2024-01-01T00:00:00Z"},
                "spec": {"containers": [container], "schedulerName": "default-scheduler", **spec},
                "status": {"phase": "Pending"}}
    if owner:
        pod["metadata"]["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": owner,
                                               "uid": f"rs-{owner}", "controller": True}]
    if labels:
        pod["metadata"]["labels"] = labels
    if priority is not None:
        pod["spec"]["priority"] = priority
    if node:
        pod["spec"]["nodeName"] = node
    return pod


def make_info(name: str = "n1", *, pods: list[Obj] | None = None, **kw: Any) -> nodeinfo.NodeInfo:
    """A NodeInfo (4 CPU, 16Gi, 110 pods unless told) holding `pods`; max_pods= sets the pod capacity."""
    if "max_pods" in kw:
        kw["pods"] = kw.pop("max_pods")
    info = nodeinfo.NodeInfo(name, nodeinfo.make_node(name, **kw))
    for p in pods or []:
        info.add_pod(nodeinfo.PodInfo(p))
    return info


def pi(pod: Obj) -> nodeinfo.PodInfo:
    return nodeinfo.PodInfo(pod)


# -- requests -------------------------------------------------------------------------


@pytest.mark.parametrize("spec,expect", [
    ({"containers": [{"name": "a", "resources": {"requests": {"cpu": "250m", "memory": "64Mi"}}},
                     {"name": "b", "resources": {"requests": {"cpu": "0.5", "memory": "1Gi"}}}]},
     (750, 64 * MI + GI, 750, 64 * MI + GI)),
    # No requests: 0 for fit, kube-scheduler's defaults for scoring.
    ({"containers": [{"name": "a"}]}, (0, 0, 100, 200 * MI)),
    # An init container bigger than the containers sets the request.
    ({"containers": [{"name": "a", "resources": {"requests": {"cpu": "100m", "memory": "10Mi"}}}],
      "initContainers": [{"name": "i", "resources": {"requests": {"cpu": "2", "memory": "1Mi"}}}]},
     (2000, 10 * MI, 2000, 10 * MI)),
    # Overhead is added on top.
    ({"containers": [{"name": "a", "resources": {"requests": {"cpu": "1"}}}],
      "overhead": {"cpu": "250m", "memory": "120Mi"}},
     (1250, 120 * MI, 1250, 320 * MI)),
    # A sidecar (restartPolicy Always) runs alongside the containers.
    ({"containers": [{"name": "a", "resources": {"requests": {"cpu": "1"}}}],
      "initContainers": [{"name": "s", "restartPolicy": "Always", "resources": {"requests": {"cpu": "500m"}}},
                         {"name": "i", "resources": {"requests": {"cpu": "1200m"}}}]},
     (1700, 0, 1700, 400 * MI)),
])
def test_pod_requests(spec: Obj, expect: tuple[int, int, int, int]) -> None:
    assert nodeinfo.pod_requests({"spec": spec}) == expect


# -- filters --------------------------------------------------------------------------


@pytest.mark.parametrize("node_kw,pod_spec,ok", [
    ({}, {}, True),
    ({"unschedulable": True}, {}, False),
    ({"unschedulable": True}, {"tolerations": [{"key": "node.kubernetes.io/unschedulable", "operator": "Exists",
                                                "effect": "NoSchedule"}]}, True),
])
def test_node_unschedulable(node_kw: Obj, pod_spec: Obj, ok: bool) -> None:
    st = nodeunschedulable.NodeUnschedulable().filter(pi(make_pod(**pod_spec)), make_info(**node_kw))
    assert st.ok is ok
    if not ok:
        assert st.reasons == ("node(s) were unschedulable",)


def test_node_ready() -> None:
    plugin = nodeunschedulable.NodeReady()
    assert plugin.filter(pi(make_pod()), make_info(ready=True)).ok
    assert plugin.filter(pi(make_pod()), make_info(ready=False)).reasons == ("node(s) were not ready",)


TAINT = {"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}


@pytest.mark.parametrize("taints,tolerations,ok", [
    ([], [], True),
    ([TAINT], [], False),
    ([TAINT], [{"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"}], True),
    ([TAINT], [{"key": "dedicated", "value": "gpu"}], True),  # operator Equal by default, any effect
    ([TAINT], [{"key": "dedicated", "operator": "Equal", "value": "cpu"}], False),
    ([TAINT], [{"key": "dedicated", "operator": "Exists"}], True),
    ([TAINT], [{"operator": "Exists"}], True),  # tolerates everything
    ([TAINT], [{"key": "dedicated", "operator": "Exists", "effect": "NoExecute"}], False),
    ([{**TAINT, "effect": "NoExecute"}], [], False),
    ([{**TAINT, "effect": "PreferNoSchedule"}], [], True),  # only a score
])
def test_taint_toleration_filter(taints: list[Obj], tolerations: list[Obj], ok: bool) -> None:
    st = tainttoleration.TaintToleration().filter(pi(make_pod(tolerations=tolerations)), make_info(taints=taints))
    assert st.ok is ok
    if not ok:
        assert st.reasons == ("node(s) had untolerated taint {dedicated: gpu}",)


def _fit(pod: Obj, info: nodeinfo.NodeInfo) -> tuple[str, ...]:
    return noderesources.NodeResourcesFit().filter(pi(pod), info).reasons


@pytest.mark.parametrize("existing,pod,node_kw,reasons", [
    ([], make_pod(cpu="4", memory="16Gi"), {}, ()),  # exactly full fits
    ([make_pod(cpu="3")], make_pod(cpu="1"), {}, ()),
    ([make_pod(cpu="3")], make_pod(cpu="1001m"), {}, ("Insufficient cpu",)),
    ([make_pod(memory="15Gi")], make_pod(memory="2Gi"), {}, ("Insufficient memory",)),
    ([make_pod(cpu="4", memory="16Gi")], make_pod(cpu="1", memory="1"), {},
     ("Insufficient cpu", "Insufficient memory")),
    # A pod without requests fits on a full node, unless the pod count is reached.
    ([make_pod(cpu="4", memory="16Gi")], make_pod(), {}, ()),
    ([make_pod(), make_pod()], make_pod(), {"max_pods": 2}, ("Too many pods",)),
    ([], make_pod(cpu="100m"), {"cpu": "0"}, ("Insufficient cpu",)),
])
def test_node_resources_fit(existing: list[Obj], pod: Obj, node_kw: Obj, reasons: tuple[str, ...]) -> None:
    assert _fit(pod, make_info(pods=existing, **node_kw)) == reasons


def _expr(key: str, op: str, *values: str) -> Obj:
    e: Obj = {"key": key, "operator": op}
    if values:
        e["values"] = list(values)
    return e


def _required(*terms: list[Obj]) -> Obj:
    return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchExpressions": t} for t in terms]}}}


LABELS = {"disk": "ssd", "zone": "a", "cores": "8"}


@pytest.mark.parametrize("spec,ok", [
    ({}, True),
    ({"nodeSelector": {"disk": "ssd"}}, True),
    ({"nodeSelector": {"disk": "ssd", "zone": "b"}}, False),
    ({"affinity": _required([_expr("disk", "In", "ssd", "nvme")])}, True),
    ({"affinity": _required([_expr("disk", "In", "hdd")])}, False),
    ({"affinity": _required([_expr("disk", "NotIn", "hdd")])}, True),
    ({"affinity": _required([_expr("gpu", "NotIn", "x")])}, True),  # absent label is "not in"
    ({"affinity": _required([_expr("disk", "Exists")])}, True),
    ({"affinity": _required([_expr("gpu", "Exists")])}, False),
    ({"affinity": _required([_expr("gpu", "DoesNotExist")])}, True),
    ({"affinity": _required([_expr("disk", "DoesNotExist")])}, False),
    ({"affinity": _required([_expr("cores", "Gt", "4")])}, True),
    ({"affinity": _required([_expr("cores", "Gt", "8")])}, False),
    ({"affinity": _required([_expr("cores", "Lt", "16")])}, True),
    ({"affinity": _required([_expr("cores", "Lt", "8")])}, False),
    ({"affinity": _required([_expr("disk", "Gt", "4")])}, False),  # not an integer
    ({"affinity": _required([_expr("gpu", "Lt", "4")])}, False),  # absent
    # Expressions of a term are ANDed, terms are ORed.
    ({"affinity": _required([_expr("disk", "In", "ssd"), _expr("zone", "In", "b")])}, False),
    ({"affinity": _required([_expr("zone", "In", "b")], [_expr("disk", "In", "ssd")])}, True),
    # nodeSelector and affinity must both hold.
    ({"nodeSelector": {"zone": "b"}, "affinity": _required([_expr("disk", "In", "ssd")])}, False),
    # An empty term matches nothing.
    ({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{}]}}}}, False),
    ({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchFields": [_expr("metadata.name", "In", "n1")]}]}}}}, True),
    ({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchFields": [_expr("metadata.name", "NotIn", "n1")]}]}}}}, False),
])
def test_node_affinity_filter(spec: Obj, ok: bool) -> None:
    plugin = nodeaffinity.NodeAffinity()
    pod = pi(make_pod(**spec))
    st = plugin.filter(pod, make_info("n1", labels=LABELS))
    assert st.ok is ok
    if not ok:
        assert plugin.pre_filter(pod)
        assert st.reasons == ("node(s) didn't match Pod's node affinity/selector",)


def _port(port: int, ip: str = "", protocol: str = "TCP") -> Obj:
    p: Obj = {"containerPort": 80, "hostPort": port, "protocol": protocol}
    if ip:
        p["hostIP"] = ip
    return p


@pytest.mark.parametrize("used,want,ok", [
    ([], [_port(80)], True),
    ([_port(80)], [_port(80)], False),
    ([_port(80)], [_port(81)], True),
    ([_port(80)], [_port(80, protocol="UDP")], True),
    ([_port(80, "10.0.0.1")], [_port(80, "10.0.0.2")], True),
    ([_port(80, "10.0.0.1")], [_port(80, "10.0.0.1")], False),
    ([_port(80, "10.0.0.1")], [_port(80)], False),  # 0.0.0.0 takes every address
    ([_port(80)], [_port(80, "10.0.0.1")], False),
])
def test_node_ports(used: list[Obj], want: list[Obj], ok: bool) -> None:
    plugin = nodeports.NodePorts()
    info = make_info(pods=[make_pod(ports=used)] if used else [])
    pod = pi(make_pod(ports=want))
    assert plugin.pre_filter(pod)
    st = plugin.filter(pod, info)
    assert st.ok is ok
    if not ok:
        assert st.reasons == ("node(s) didn't have free ports for the requested pod ports",)


def test_node_ports_freed_when_pod_leaves() -> None:
    holder = make_pod(ports=[_port(80)])
    info = make_info(pods=[holder])
    info.remove_pod(pi(holder))
    assert nodeports.NodePorts().filter(pi(make_pod(ports=[_port(80)])), info).ok


def _gce(name: str, ro: bool = False) -> Obj:
    return {"name": "d", "gcePersistentDisk": {"pdName": name, "readOnly": ro}}


def _ebs(vid: str, ro: bool = False) -> Obj:
    return {"name": "d", "awsElasticBlockStore": {"volumeID": vid, "readOnly": ro}}


def _iscsi(iqn: str, ro: bool = False) -> Obj:
    return {"name": "d", "iscsi": {"targetPortal": "10.0.0.1:3260", "iqn": iqn, "lun": 0, "readOnly": ro}}


def _rbd(monitors: list[str], image: str, pool: str | None = None, ro: bool = False) -> Obj:
    src: Obj = {"monitors": monitors, "image": image, "readOnly": ro}
    if pool:
        src["pool"] = pool
    return {"name": "d", "rbd": src}


@pytest.mark.parametrize("existing,new,conflict", [
    (_gce("a"), _gce("a"), True),
    (_gce("a"), _gce("b"), False),
    (_gce("a", ro=True), _gce("a", ro=True), False),  # both read-only may share
    (_gce("a", ro=True), _gce("a"), True),
    (_ebs("vol-1"), _ebs("vol-1"), True),
    (_ebs("vol-1", ro=True), _ebs("vol-1", ro=True), True),  # EBS attaches to one host at a time
    (_ebs("vol-1"), _ebs("vol-2"), False),
    (_iscsi("iqn.a"), _iscsi("iqn.a"), True),
    (_iscsi("iqn.a", ro=True), _iscsi("iqn.a", ro=True), False),
    (_iscsi("iqn.a"), _iscsi("iqn.b"), False),
    (_rbd(["m1", "m2"], "img"), _rbd(["m2", "m3"], "img"), True),
    (_rbd(["m1"], "img"), _rbd(["m2"], "img"), False),  # different Ceph clusters
    (_rbd(["m1"], "img"), _rbd(["m1"], "img", pool="other"), False),
    (_rbd(["m1"], "img"), _rbd(["m1"], "img", pool="rbd"), True),  # "rbd" is the default pool
    (_rbd(["m1"], "img", ro=True), _rbd(["m1"], "img", ro=True), False),
    # Shareable or per-pod volumes never conflict.
    ({"name": "h", "hostPath": {"path": "/data"}}, {"name": "h", "hostPath": {"path": "/data"}}, False),
    ({"name": "e", "emptyDir": {}}, {"name": "e", "emptyDir": {}}, False),
    ({"name": "n", "nfs": {"server": "s", "path": "/x"}}, {"name": "n", "nfs": {"server": "s", "path": "/x"}}, False),
])
def test_volume_restrictions(existing: Obj, new: Obj, conflict: bool) -> None:
    assert volumerestrictions.volumes_conflict(new, existing) is conflict
    plugin = volumerestrictions.VolumeRestrictions()
    info = make_info(pods=[make_pod(volumes=[existing])])
    st = plugin.filter(pi(make_pod(volumes=[new])), info)
    assert st.ok is not conflict
    if conflict:
        assert st.reasons == ("node(s) had no available disk",)


def test_volume_restrictions_skip_pods_without_disks() -> None:
    plugin = volumerestrictions.VolumeRestrictions()
    assert not plugin.pre_filter(pi(make_pod(volumes=[{"name": "e", "emptyDir": {}}])))
    assert plugin.pre_filter(pi(make_pod(volumes=[_gce("a")])))


# -- scores ---------------------------------------------------------------------------


@pytest.mark.parametrize("existing,pod,expect", [
    # Empty 4 CPU / 16Gi node, pod 1 CPU / 4Gi: each fraction 1/4 → 100·(1 − (¼+¼)/2) = 75.
    ([], make_pod(cpu="1", memory="4Gi"), 75),
    # Existing 2 CPU / 8Gi plus the pod: fractions 3/4 → 25.
    ([make_pod(cpu="2", memory="8Gi")], make_pod(cpu="1", memory="4Gi"), 25),
    # CPU ½, memory ¼: (50 + 75) // 2 = 62.
    ([], make_pod(cpu="2", memory="4Gi"), 62),
    # Over capacity counts as 0 for that resource: cpu 0, memory 75 → 37.
    ([make_pod(cpu="4", memory="0")], make_pod(cpu="1", memory="4Gi"), 37),
    # A pod without a memory request still counts 200Mi for scoring: (16Gi − 4Gi − 200Mi)/16Gi → 73.
    ([make_pod(cpu="4")], make_pod(cpu="1", memory="4Gi"), 36),
    # No requests: the non-zero defaults (100m of 4000m, 200Mi of 16Gi) → (97 + 98) // 2.
    ([], make_pod(), 97),
])
def test_least_requested(existing: list[Obj], pod: Obj, expect: int) -> None:
    assert noderesources.LeastRequested().score(pi(pod), make_info(pods=existing)) == expect


@pytest.mark.parametrize("existing,pod,expect", [
    ([], make_pod(cpu="1", memory="4Gi"), 100),  # ¼ and ¼: perfectly balanced
    ([], make_pod(cpu="2", memory="4Gi"), 75),  # ½ and ¼: 100·(1 − ¼)
    ([make_pod(cpu="3", memory="0")], make_pod(cpu="500m", memory="1Gi"), 18),  # ⅞, 1/16 → 100·(1 − 13/16)
    ([make_pod(cpu="3500m", memory="0")], make_pod(cpu="500m", memory="1Gi"), 0),  # CPU full
])
def test_balanced_allocation(existing: list[Obj], pod: Obj, expect: int) -> None:
    assert noderesources.BalancedAllocation().score(pi(pod), make_info(pods=existing)) == expect


def test_least_requested_prefers_the_emptier_node() -> None:
    """The seed's −(TotalCPU/NodeCPU + TotalMemory/NodeMemory): higher (less used) wins."""
    busy = make_info("busy", pods=[make_pod(cpu="2", memory="2Gi")])
    idle = make_info("idle")
    fwk = framework.Framework([], [(noderesources.LeastRequested(), 1)], rng=random.Random(0))
    result = fwk.schedule(pi(make_pod(cpu="1", memory="1Gi")), [busy, idle])
    assert result.node == "idle"


def test_balanced_allocation_prefers_the_balanced_node() -> None:
    """The seed's −|TotalCPU/NodeCPU − TotalMemory/NodeMemory|: the node left balanced wins."""
    cpu_heavy = make_info("cpu-heavy", pods=[make_pod(cpu="2")])
    mem_heavy = make_info("mem-heavy", pods=[make_pod(memory="8Gi", cpu="0")])
    fwk = framework.Framework([], [(noderesources.BalancedAllocation(), 1)], rng=random.Random(0))
    # A CPU-light, memory-heavy pod balances the CPU-heavy node.
    assert fwk.schedule(pi(make_pod(cpu="100m", memory="8Gi")), [cpu_heavy, mem_heavy]).node == "cpu-heavy"


def _preferred(*prefs: tuple[int, list[Obj]]) -> Obj:
    return {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": w, "preference": {"matchExpressions": exprs}} for w, exprs in prefs]}}


def test_node_affinity_score_normalised() -> None:
    plugin = nodeaffinity.NodeAffinity()
    pod = pi(make_pod(affinity=_preferred((80, [_expr("disk", "In", "ssd")]), (20, [_expr("zone", "In", "a")]))))
    nodes = [make_info("both", labels={"disk": "ssd", "zone": "a"}), make_info("ssd", labels={"disk": "ssd"}),
             make_info("zone", labels={"zone": "a"}), make_info("none")]
    raw = [plugin.score(pod, n) for n in nodes]
    assert raw == [100, 80, 20, 0]
    assert plugin.normalize(pod, raw) == [100, 80, 20, 0]
    assert plugin.normalize(pod, [10, 5, 0]) == [100, 50, 0]
    assert not plugin.pre_score(pi(make_pod()))


def test_selector_spread_score() -> None:
    plugin = selectorspread.SelectorSpread()
    pod = pi(make_pod(owner="web"))
    nodes = [make_info("a", pods=[make_pod(owner="web"), make_pod(owner="web")]),
             make_info("b", pods=[make_pod(owner="web"), make_pod(owner="other")]),
             make_info("c", pods=[make_pod(owner="other")])]
    raw = [plugin.score(pod, n) for n in nodes]
    assert raw == [2, 1, 0]
    assert plugin.normalize(pod, raw) == [0, 50, 100]
    assert plugin.normalize(pod, [0, 0]) == [100, 100]
    assert not plugin.pre_score(pi(make_pod()))


def test_selector_spread_ignores_terminating_pods() -> None:
    leaving = make_pod(owner="web")
    leaving["metadata"]["deletionTimestamp"] = "2024-01-01T00:00:00Z"
    assert selectorspread.SelectorSpread().score(pi(make_pod(owner="web")), make_info(pods=[leaving])) == 0


def test_taint_toleration_score() -> None:
    plugin = tainttoleration.TaintToleration()
    soft = {"key": "k", "value": "v", "effect": "PreferNoSchedule"}
    pod = pi(make_pod())
    nodes = [make_info("two", taints=[soft, {**soft, "key": "k2"}]), make_info("one", taints=[soft]),
             make_info("none")]
    raw = [plugin.score(pod, n) for n in nodes]
    assert raw == [2, 1, 0]
    assert plugin.normalize(pod, raw) == [0, 50, 100]
    tolerant = pi(make_pod(tolerations=[{"key": "k", "operator": "Exists", "effect": "PreferNoSchedule"}]))
    assert plugin.score(tolerant, nodes[1]) == 0


# -- the framework ----------------------------------------------------------------------


class Fixed(framework.Plugin):
    NAME = "Fixed"

    def __init__(self, scores: dict[str, int]) -> None:
        self.scores = scores

    def score(self, pod: nodeinfo.PodInfo, node: nodeinfo.NodeInfo) -> int:
        return self.scores[node.name]


def test_weighted_sum_picks_the_best_total() -> None:
    nodes = [make_info("a"), make_info("b"), make_info("c")]
    fwk = framework.Framework([], [(Fixed({"a": 100, "b": 0, "c": 60}), 1), (Fixed({"a": 0, "b": 100, "c": 60}), 2)])
    result = fwk.schedule(pi(make_pod()), nodes)
    assert result.scores == {"a": 100, "b": 200, "c": 180}
    assert result.node == "b"


def test_ties_are_broken_at_random() -> None:
    nodes = [make_info(n) for n in "abcd"]
    fwk = framework.Framework([], [(Fixed({"a": 50, "b": 90, "c": 90, "d": 90}), 1)], rng=random.Random(1))
    picks = {fwk.schedule(pi(make_pod()), nodes).node for _ in range(200)}
    assert picks == {"b", "c", "d"}


def test_filters_stop_at_first_failure_and_message_counts_reasons() -> None:
    fwk = plugins.default_framework()
    nodes = [make_info("small-1", cpu="1"), make_info("small-2", cpu="1"),
             make_info("other", labels={"disk": "hdd"}, cpu="1")]
    result = fwk.schedule(pi(make_pod(cpu="2", nodeSelector={"disk": "ssd"})), nodes)
    assert result.node is None
    # The affinity filter comes first, so "other" reports only the selector.
    assert result.message == "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector"
    result = fwk.schedule(pi(make_pod(cpu="2", affinity=_required([_expr("disk", "NotIn", "hdd")]))), nodes)
    assert result.message == ("0/3 nodes are available: 2 Insufficient cpu, "
                              "1 node(s) didn't match Pod's node affinity/selector")


def test_fit_error_message_orders_by_count_then_name() -> None:
    statuses = {
        "a": framework.Status(("Insufficient cpu", "Insufficient memory")),
        "b": framework.Status(("Insufficient memory",)),
        "c": framework.Status(("node(s) were unschedulable",)),
        "d": framework.Status(("node(s) had untolerated taint {k: v}",)),
    }
    assert framework.fit_error_message(4, statuses) == (
        "0/4 nodes are available: 2 Insufficient memory, 1 Insufficient cpu, "
        "1 node(s) had untolerated taint {k: v}, 1 node(s) were unschedulable")
    assert framework.fit_error_message(0, {}) == "no nodes available to schedule pods"


@pytest.mark.parametrize("n,pct,expect", [(10, 0, 10), (99, 0, 99), (100, 0, 100), (1000, 0, 420),
                                          (5000, 0, 500), (100_000, 0, 5000), (1000, 10, 100), (1000, 100, 1000)])
def test_num_feasible_nodes_to_find(n: int, pct: int, expect: int) -> None:
    assert framework.num_feasible_nodes_to_find(n, pct) == expect


def test_round_robin_start_in_big_clusters() -> None:
    nodes = [make_info(f"n{i}") for i in range(200)]
    fwk = framework.Framework([nodeunschedulable.NodeReady()], [], percentage_of_nodes_to_score=50)
    first, _ = fwk.find_nodes_that_fit(pi(make_pod()), nodes)
    second, _ = fwk.find_nodes_that_fit(pi(make_pod()), nodes)
    assert len(first) == len(second) == 100
    assert {n.name for n in first}.isdisjoint({n.name for n in second})


def test_parse_weights_and_build() -> None:
    assert framework.parse_weights("LeastRequested=1, NodeAffinity=2,") == {"LeastRequested": 1, "NodeAffinity": 2}
    for bad in ("LeastRequested", "LeastRequested=x", "LeastRequested=-1"):
        with pytest.raises(ValueError):
            framework.parse_weights(bad)
    fwk = plugins.default_framework({"SelectorSpread": 5, "TaintToleration": 0})
    weights = {p.NAME: w for p, w in fwk.scores}
    assert weights == {"LeastRequested": 1, "BalancedAllocation": 1, "NodeAffinity": 2, "SelectorSpread": 5}
    with pytest.raises(ValueError, match="not a score plugin"):
        framework.build([], {"NodePorts": 1})
    with pytest.raises(ValueError, match="unknown"):
        framework.build(["Nope"], {})
