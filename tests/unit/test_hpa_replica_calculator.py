"""The replica calculator against Kubernetes' own cases (pkg/controller/podautoscaler/replica_calculator_test.go).

Each case keeps upstream's name and numbers. Pods and metrics are built as upstream's
fixtures build them (two containers per pod, `name=test-pod` labels, Running and Ready
unless the case says otherwise, start and transition times at Go's zero time unless
"hot" = now or "cool" = 3 minutes ago), and the metrics go through the real REST metrics
client over a fake API that answers PodMetricsList / MetricValueList documents.
"""
from __future__ import annotations

import dataclasses
import math
import time
from typing import Any

import pytest

from minik8s.api import selectors
from minik8s.controllers.podautoscaler import metrics_client as mc
from minik8s.controllers.podautoscaler import replica_calculator as rc

NAMESPACE = "test-namespace"
PREFIX = "test-pod"
CONTAINERS = 2
ZERO = "0001-01-01T00:00:00Z"
NOW = time.time()


def ts(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


HOT = ts(NOW)  # hotCPUCreationTime
COOL = ts(NOW - 180)  # coolCPUCreationTime


@dataclasses.dataclass
class Resource:
    requests: list[str]
    levels: list[list[int]]
    target: int
    expected_utilization: int = 0
    expected_value: int = 0
    pod_names: list[str] = dataclasses.field(default_factory=list)
    name: str = "cpu"


@dataclasses.dataclass
class Metric:
    name: str
    levels: list[int]
    kind: str  # pods, object, object_per_pod, external, external_per_pod
    target: int = 0
    per_pod_target: int = 0
    expected: int = 0
    object_ref: dict[str, Any] | None = None


@dataclasses.dataclass
class Case:
    current: int
    expected: int = 0
    error: str = ""
    resource: Resource | None = None
    metric: Metric | None = None
    container: str = ""
    readiness: list[str] | None = None
    start: list[str] | None = None
    phase: list[str] | None = None
    deleting: list[bool] | None = None


def levels(*per_pod: int) -> list[list[int]]:
    """makePodMetricLevels: the same level for each of a pod's containers."""
    return [[v] * CONTAINERS for v in per_pod]


DEPLOYMENT = {"kind": "Deployment", "apiVersion": "apps/v1", "name": "some-deployment"}


def make_pods(case: Case) -> list[dict[str, Any]]:
    count = max(case.current, len(case.phase or []))
    pods = []
    for i in range(count):
        ready = (case.readiness or [])[i] if case.readiness and i < len(case.readiness) else "True"
        pod: dict[str, Any] = {
            "metadata": {"name": f"{PREFIX}-{i}", "namespace": NAMESPACE, "labels": {"name": PREFIX}},
            "spec": {"containers": [{"name": "container1"}, {"name": "container2"}]},
            "status": {"phase": case.phase[i] if case.phase else "Running",
                       "startTime": case.start[i] if case.start else ZERO,
                       "conditions": [{"type": "Ready", "status": ready}]}}
        if case.deleting and case.deleting[i]:
            pod["metadata"]["deletionTimestamp"] = ts(NOW)
        if case.resource is not None and i < len(case.resource.requests):
            for c in pod["spec"]["containers"]:
                c["resources"] = {"requests": {case.resource.name: case.resource.requests[i]}}
        pods.append(pod)
    return pods


class FakeApi:
    """Answers the REST metrics client's GETs as the metrics APIs would for the case."""

    def __init__(self, case: Case) -> None:
        self.case = case

    async def request(self, method: str, path: str, *, params: dict[str, Any] | None = None, **kw: Any) -> Any:
        case = self.case
        if path.startswith("/apis/metrics.k8s.io/"):
            assert case.resource is not None
            items = []
            for i, per_container in enumerate(case.resource.levels):
                name = case.resource.pod_names[i] if i < len(case.resource.pod_names) else f"{PREFIX}-{i}"
                items.append({"metadata": {"name": name, "namespace": NAMESPACE, "labels": {"name": PREFIX}},
                              "timestamp": ZERO, "window": "1m0s",
                              "containers": [{"name": f"container{j + 1}", "usage": {case.resource.name: f"{m}m"}}
                                             for j, m in enumerate(per_container)]})
            return {"kind": "PodMetricsList", "items": items}
        assert case.metric is not None and path.endswith("/" + case.metric.name)
        if "/pods/*/" in path:
            return {"kind": "MetricValueList", "items": [
                {"describedObject": {"kind": "Pod", "name": f"{PREFIX}-{i}", "namespace": NAMESPACE},
                 "timestamp": ZERO, "metric": {"name": case.metric.name}, "value": f"{level}m"}
                for i, level in enumerate(case.metric.levels)]}
        assert case.metric.object_ref is not None and f"/{case.metric.object_ref['name']}/" in path
        return {"kind": "MetricValueList", "items": [{"describedObject": case.metric.object_ref, "timestamp": ZERO,
                                                      "metric": {"name": case.metric.name},
                                                      "value": f"{case.metric.levels[0]}m"}]}


class MetricsWithExternal(mc.RestMetricsClient):
    def __init__(self, case: Case) -> None:
        super().__init__(FakeApi(case))  # type: ignore[arg-type]
        self.case = case

    async def get_external_metric(self, metric: str, namespace: str, selector: str) -> tuple[list[int], float]:
        assert self.case.metric is not None and metric == self.case.metric.name and selector == "label=value"
        return list(self.case.metric.levels), 0.0


async def run(case: Case) -> None:
    pods = make_pods(case)

    def lister(namespace: str, selector: selectors.LabelSelector) -> list[dict[str, Any]]:
        return [p for p in pods if p["metadata"]["namespace"] == namespace and selector.matches(p["metadata"]["labels"])]

    # The fixtures' times are relative to NOW (taken at import): the calculator's clock is
    # pinned to it, or a run that reaches this test minutes after collection (the whole
    # suite) sees "hot" pods as cool.
    calc = rc.ReplicaCalculator(MetricsWithExternal(case), lister, cpu_initialization_period=120,
                                delay_of_initial_readiness_status=10, clock=lambda: NOW)
    selector = selectors.parse_label_selector(f"name={PREFIX}")
    tol = rc.Tolerances(0.1, 0.1)
    if case.resource is not None:
        r = case.resource
        if case.error:
            with pytest.raises(rc.CalculationError, match=case.error):
                await calc.get_resource_replicas(case.current, r.target, r.name, tol, NAMESPACE, selector,
                                                 case.container)
            return
        replicas, utilization, raw, _ = await calc.get_resource_replicas(case.current, r.target, r.name, tol,
                                                                         NAMESPACE, selector, case.container)
        assert (replicas, utilization, raw) == (case.expected, r.expected_utilization, r.expected_value)
        return
    m = case.metric
    assert m is not None
    if m.kind == "pods":
        replicas, usage, _ = await calc.get_metric_replicas(case.current, m.target, m.name, tol, NAMESPACE, selector)
    elif m.kind == "object":
        replicas, usage, _ = await calc.get_object_metric_replicas(case.current, m.target, m.name, tol, NAMESPACE,
                                                                   DEPLOYMENT, selector)
    elif m.kind == "object_per_pod":
        replicas, usage, _ = await calc.get_object_per_pod_metric_replicas(case.current, m.per_pod_target, m.name,
                                                                           tol, NAMESPACE, DEPLOYMENT)
    elif m.kind == "external":
        replicas, usage, _ = await calc.get_external_metric_replicas(case.current, m.target, m.name, tol, NAMESPACE,
                                                                     "label=value", selector)
    else:
        replicas, usage, _ = await calc.get_external_per_pod_metric_replicas(case.current, m.per_pod_target, m.name,
                                                                             tol, NAMESPACE, "label=value")
    assert (replicas, usage) == (case.expected, m.expected)


R = Resource
ONES = ["1.0"] * 10

CASES: dict[str, Case] = {
    "DisjointResourcesMetrics": Case(1, error="no metrics returned matched known pods", resource=R(
        ["1.0"], levels(100), 100, pod_names=["an-older-pod-name"])),
    "ScaleUp": Case(3, 5, resource=R(ONES[:3], levels(300, 500, 700), 30, 50, CONTAINERS * 500)),
    "ContainerScaleUp": Case(3, 5, container="container2", resource=R(
        ONES[:3], [[1000, 300], [1000, 500], [1000, 700]], 30, 50, 500)),
    "ScaleUpUnreadyLessScale": Case(3, 4, readiness=["False", "True", "True"], resource=R(
        ONES[:3], levels(300, 500, 700), 30, 60, CONTAINERS * 600)),
    "ScaleUpContainerHotCpuLessScale": Case(3, 4, container="container2", start=[HOT, COOL, COOL], resource=R(
        ONES[:3], [[0, 300], [0, 500], [0, 700]], 30, 60, 600)),
    "ScaleUpHotCpuLessScale": Case(3, 4, start=[HOT, COOL, COOL], resource=R(
        ONES[:3], levels(300, 500, 700), 30, 60, CONTAINERS * 600)),
    "ScaleUpUnreadyNoScale": Case(3, 3, readiness=["True", "False", "False"], resource=R(
        ONES[:3], levels(400, 500, 700), 30, 40, CONTAINERS * 400)),
    "ScaleHotCpuNoScale": Case(3, 3, readiness=["True", "False", "False"], start=[COOL, HOT, HOT], resource=R(
        ONES[:3], levels(400, 500, 700), 30, 40, CONTAINERS * 400)),
    "ScaleUpIgnoresFailedPods": Case(2, 4, readiness=["True", "True", "False", "False"],
                                     phase=["Running", "Running", "Failed", "Failed"],
                                     resource=R(ONES[:4], levels(500, 700), 30, 60, CONTAINERS * 600)),
    "MissingContainerMetricScaleUpIgnoresFailedPods": Case(
        2, 4, container="container2", readiness=["True", "True", "False", "False"],
        phase=["Running", "Running", "Failed", "Failed"],
        resource=R(ONES[:4], [[1000, 500], [9000, 700], [1000], [9000]], 30, 60, 600)),
    "ScaleUpContainerIgnoresFailedPods": Case(
        2, 4, container="container2", readiness=["True", "True", "False", "False"],
        phase=["Running", "Running", "Failed", "Failed"], resource=R(ONES[:4], [[1000, 500], [9000, 700]], 30, 60, 600)),
    "ScaleUpIgnoresDeletionPods": Case(2, 4, readiness=["True", "True", "False", "False"], phase=["Running"] * 4,
                                       deleting=[False, False, True, True],
                                       resource=R(ONES[:4], levels(500, 700), 30, 60, CONTAINERS * 600)),
    "ScaleUpContainerIgnoresDeletionPods": Case(2, 4, container="container1", readiness=["True", "True", "False",
                                                                                            "False"],
                                                phase=["Running"] * 4, deleting=[False, False, True, True],
                                                resource=R(ONES[:4], levels(500, 700), 30, 60, 600)),
    "ScaleDown": Case(5, 3, resource=R(ONES[:5], levels(100, 300, 500, 250, 250), 50, 28, CONTAINERS * 280)),
    "ContainerScaleDown": Case(5, 3, container="container2", resource=R(
        ONES[:5], [[1000, 100], [1000, 300], [1000, 500], [1000, 250], [1000, 250]], 50, 28, 280)),
    "ScaleDownExcludeUnreadyPods": Case(5, 2, readiness=["True", "True", "True", "False", "False"], resource=R(
        ONES[:5], levels(100, 300, 500, 250, 250), 50, 30, CONTAINERS * 300)),
    "ScaleDownContainerExcludeUnreadyPods": Case(
        5, 2, container="container2", readiness=["True", "True", "True", "False", "False"],
        resource=R(ONES[:5], [[1000, 100], [1000, 300], [1000, 500], [1000, 250], [1000, 250]], 50, 30, 300)),
    "ScaleDownExcludeUnscheduledPods": Case(5, 1, readiness=["True", "False", "False", "False", "False"],
                                            phase=["Running", "Pending", "Pending", "Pending", "Pending"],
                                            resource=R(ONES[:5], levels(100), 50, 10, CONTAINERS * 100)),
    "ScaleDownContainerExcludeUnscheduledPods": Case(
        5, 1, container="container2", readiness=["True", "False", "False", "False", "False"],
        phase=["Running", "Pending", "Pending", "Pending", "Pending"],
        resource=R(ONES[:5], [[1000, 100], [1000, 300], [1000, 500], [1000, 250], [1000, 250]], 50, 10, 100)),
    "ScaleDownIgnoreHotCpuPods": Case(5, 2, start=[COOL, COOL, COOL, HOT, HOT], resource=R(
        ONES[:5], levels(100, 300, 500, 250, 250), 50, 30, CONTAINERS * 300)),
    "ScaleDownContainerIgnoreHotCpuPods": Case(
        5, 2, container="container2", start=[COOL, COOL, COOL, HOT, HOT],
        resource=R(ONES[:5], [[1000, 100], [1000, 300], [1000, 500], [1000, 1000], [1000, 1000]], 50, 30, 300)),
    "ScaleDownIgnoresFailedPods": Case(5, 3, readiness=["True"] * 5 + ["False"] * 2,
                                       phase=["Running"] * 5 + ["Failed"] * 2,
                                       resource=R(ONES[:7], levels(100, 300, 500, 250, 250), 50, 28, CONTAINERS * 280)),
    "ScaleDownIgnoresDeletionPods": Case(5, 3, readiness=["True"] * 5 + ["False"] * 2, phase=["Running"] * 7,
                                         deleting=[False] * 5 + [True] * 2,
                                         resource=R(ONES[:7], levels(100, 300, 500, 250, 250), 50, 28,
                                                    CONTAINERS * 280)),
    "ScaleDownIgnoresDeletionPods_StillRunning": Case(
        5, 3, container="container2", readiness=["True"] * 5 + ["False"] * 2, phase=["Running"] * 7,
        deleting=[False] * 5 + [True] * 2,
        resource=R(ONES[:7], [[1000, 100], [1000, 300], [1000, 500], [1000, 250], [1000, 250]], 50, 28, 280)),
    "Tolerance": Case(3, 3, resource=R(["0.9", "1.0", "1.1"], levels(1010, 1030, 1020), 100, 102, CONTAINERS * 1020)),
    "SuperfluousMetrics": Case(4, 24, resource=R(ONES[:4], levels(4000, 9500, 3000, 7000, 3200, 2000), 100, 587,
                                                 CONTAINERS * 5875)),
    "MissingMetrics": Case(4, 3, resource=R(ONES[:4], levels(400, 95), 100, 24, 495)),
    "EmptyMetrics": Case(4, error="unable to get metrics for resource cpu: no metrics returned from resource "
                                  "metrics API", resource=R(ONES[:3], [], 100)),
    "EmptyCPURequest": Case(1, error="missing request for", resource=R([], levels(200), 100)),
    "MissingMetricsNoChangeEq": Case(2, 2, resource=R(ONES[:2], levels(1000), 100, 100, CONTAINERS * 1000)),
    "MissingMetricsNoChangeGt": Case(2, 2, resource=R(ONES[:2], levels(1900), 100, 190, CONTAINERS * 1900)),
    "MissingMetricsNoChangeLt": Case(2, 2, resource=R(ONES[:2], levels(600), 100, 60, CONTAINERS * 600)),
    "MissingMetricsUnreadyChange": Case(3, 3, readiness=["False", "True", "True"], resource=R(
        ONES[:3], levels(100, 450), 50, 45, CONTAINERS * 450)),
    "MissingMetricsHotCpuNoChange": Case(3, 3, start=[HOT, COOL, COOL], resource=R(
        ONES[:3], levels(100, 450), 50, 45, CONTAINERS * 450)),
    "MissingMetricsUnreadyScaleUp": Case(3, 4, readiness=["False", "True", "True"], resource=R(
        ONES[:3], levels(100, 2000), 50, 200, CONTAINERS * 2000)),
    "MissingMetricsHotCpuScaleUp": Case(3, 4, readiness=["False", "True", "True"], start=[HOT, COOL, COOL],
                                        resource=R(ONES[:3], levels(100, 2000), 50, 200, CONTAINERS * 2000)),
    "MissingMetricsUnreadyScaleDown": Case(4, 3, readiness=["False", "True", "True", "True"], resource=R(
        ONES[:4], levels(100, 100, 100), 50, 10, CONTAINERS * 100)),
    "MissingMetricsScaleDownTargetOver100": Case(4, 2, readiness=["False", "True", "True", "True"], resource=R(
        ["1.0", "1.0", "2.0", "2.0"], levels(200, 100, 100), 300, 6, CONTAINERS * 100)),
    "DuringRollingUpdateWithMaxSurge": Case(2, 2, phase=["Running"] * 3, resource=R(
        ONES[:3], levels(100, 100), 50, 10, CONTAINERS * 100)),
    # Custom metrics (milli-values).
    "ScaleUpCM": Case(3, 4, metric=Metric("qps", [20000, 10000, 30000], "pods", 15000, expected=20000)),
    "ScaleUpCMUnreadyHotCpuNoLessScale": Case(3, 6, readiness=["True", "True", "False"], start=[COOL, COOL, HOT],
                                              metric=Metric("qps", [50000, 10000, 30000], "pods", 15000,
                                                            expected=30000)),
    "ScaleUpCMUnreadyHotCpuScaleWouldScaleDown": Case(3, 7, readiness=["False", "True", "False"],
                                                      start=[HOT, COOL, HOT],
                                                      metric=Metric("qps", [50000, 15000, 30000], "pods", 15000,
                                                                    expected=31666)),
    "ScaleUpCMObject": Case(3, 4, metric=Metric("qps", [20000], "object", 15000, expected=20000,
                                                object_ref=DEPLOYMENT)),
    "ScaleUpCMPerPodObject": Case(3, 4, metric=Metric("qps", [20000], "object_per_pod", per_pod_target=5000,
                                                      expected=6667, object_ref=DEPLOYMENT)),
    "ScaleUpCMObjectIgnoresUnreadyPods": Case(3, 5, readiness=["False", "True", "False"], metric=Metric(
        "qps", [50000], "object", 10000, expected=50000, object_ref=DEPLOYMENT)),
    "ScaleUpCMExternal": Case(1, 2, metric=Metric("qps", [8600], "pods", 4400, expected=8600)),
    "ScaleUpCMExternalIgnoresUnreadyPods": Case(3, 2, readiness=["False", "True", "False"], metric=Metric(
        "qps", [8600], "external", 4400, expected=8600)),
    "ScaleUpPerPodCMExternal": Case(3, 4, metric=Metric("qps", [8600], "external_per_pod", per_pod_target=2150,
                                                        expected=2867)),
    "ScaleDownCM": Case(5, 3, metric=Metric("qps", [12000] * 5, "pods", 20000, expected=12000)),
    "ScaleDownPerPodCMObject": Case(5, 3, metric=Metric("qps", [6000], "object_per_pod", per_pod_target=2000,
                                                        expected=1200, object_ref=DEPLOYMENT)),
    "ScaleDownCMObject": Case(5, 3, metric=Metric("qps", [12000], "object", 20000, expected=12000,
                                                  object_ref=DEPLOYMENT)),
    "ScaleDownCMExternal": Case(5, 3, metric=Metric("qps", [8600], "external", 14334, expected=8600)),
    "ScaleDownPerPodCMExternal": Case(5, 3, metric=Metric("qps", [8600], "external_per_pod", per_pod_target=2867,
                                                          expected=1720)),
    "ToleranceCM": Case(3, 3, metric=Metric("qps", [20000, 21000, 21000], "pods", 20000, expected=20666)),
    "ToleranceCMObject": Case(3, 3, metric=Metric("qps", [20666], "object", 20000, expected=20666,
                                                  object_ref=DEPLOYMENT)),
    "TolerancePerPodCMObject": Case(4, 4, metric=Metric("qps", [20166], "object_per_pod", per_pod_target=5000,
                                                        expected=5042, object_ref=DEPLOYMENT)),
    "ToleranceCMExternal": Case(3, 3, metric=Metric("qps", [8600], "external", 8888, expected=8600)),
    "TolerancePerPodCMExternal": Case(3, 3, metric=Metric("qps", [8600], "external_per_pod", per_pod_target=2900,
                                                          expected=2867)),
    "PlainMetricMissingMetricsNoChangeEq": Case(5, 5, metric=Metric("qps", [20000, 19000, 21000], "pods", 20000,
                                                                    expected=20000)),
    "DuringRollingUpdateWithMaxSurgeCM": Case(2, 2, phase=["Running"] * 3, metric=Metric(
        "qps", [10000, 10000], "pods", 17000, expected=10000)),
}


@pytest.mark.parametrize("name", list(CASES))
async def test_replica_calculator(name: str) -> None:
    await run(CASES[name])


async def test_computed_tolerance_alg_implementation() -> None:
    """TestReplicaCalcComputedToleranceAlgImplementation: just past the tolerance scales, just within does not."""
    start_pods = 10
    used_total = start_pods * 150
    requested_total = 2 * used_total
    requested_to_used = float(requested_total // used_total)
    per_pod = requested_total // start_pods
    requests = [f"{per_pod + d}m" for d in (100, -100, 10, -10, 2, -2, 1, -1, 0, 0)]
    target = abs(1 / (requested_to_used * (1 - 0.1))) + 0.01
    final_pods = math.ceil(used_total / (requested_total * target) * start_pods)
    case = Case(start_pods, final_pods, resource=R(requests, levels(*[used_total // 10] * 10), int(target * 100),
                                                   used_total * 100 // requested_total, CONTAINERS * used_total // 10))
    await run(case)
    target = abs(1 / (requested_to_used * (1 - 0.1))) + 0.004
    assert case.resource is not None
    case.resource.target = int(target * 100)
    case.expected = start_pods
    await run(case)


def pod(name: str, phase: str = "Succeeded", start: float | None = None, ready: str | None = None,
        transition: float | None = None, deleting: bool = False) -> dict[str, Any]:
    p: dict[str, Any] = {"metadata": {"name": name}, "status": {"phase": phase}}
    if start is not None:
        p["status"]["startTime"] = ts(start)
    if ready is not None:
        p["status"]["conditions"] = [{"type": "Ready", "status": ready,
                                      **({"lastTransitionTime": ts(transition)} if transition is not None else {})}]
    if deleting:
        p["metadata"]["deletionTimestamp"] = ts(1)
    return p


PM = mc.PodMetric

GROUP_CASES = [
    # (name, pods, metrics, resource, ready count, unready, missing, ignored) — TestGroupPods
    ("void", [], {}, "cpu", 0, set(), set(), set()),
    ("count in a ready pod - memory", [pod("bentham")], {"bentham": PM(1, NOW, 60)}, "memory", 1, set(), set(), set()),
    ("unready a pod without ready condition - CPU", [pod("lucretius", start=NOW)], {"lucretius": PM(1)}, "cpu", 0,
     {"lucretius"}, set(), set()),
    ("count in a ready pod with fresh metrics during initialization period - CPU",
     [pod("bentham", start=NOW - 60, ready="True", transition=NOW - 30)], {"bentham": PM(1, NOW, 30)}, "cpu", 1,
     set(), set(), set()),
    ("unready a ready pod without fresh metrics during initialization period - CPU",
     [pod("bentham", start=NOW - 60, ready="True", transition=NOW - 30)], {"bentham": PM(1, NOW, 60)}, "cpu", 0,
     {"bentham"}, set(), set()),
    ("unready an unready pod during initialization period - CPU",
     [pod("lucretius", start=NOW - 600, ready="False", transition=NOW - 594)], {"lucretius": PM(1)}, "cpu", 0,
     {"lucretius"}, set(), set()),
    ("count in a ready pod without fresh metrics after initialization period - CPU",
     [pod("bentham", start=NOW - 180, ready="True", transition=NOW - 180)], {"bentham": PM(1, NOW - 120, 60)}, "cpu",
     1, set(), set(), set()),
    ("count in an unready pod that was ready after initialization period - CPU",
     [pod("lucretius", start=NOW - 600, ready="False", transition=NOW - 540)], {"lucretius": PM(1)}, "cpu", 1,
     set(), set(), set()),
    ("unready pod that has never been ready after initialization period - CPU",
     [pod("lucretius", start=NOW - 600, ready="False", transition=NOW - 590)], {"lucretius": PM(1)}, "cpu", 1,
     set(), set(), set()),
    ("a missing pod", [pod("epicurus", start=NOW - 180)], {}, "cpu", 0, set(), {"epicurus"}, set()),
    ("several pods", [pod("lucretius", start=NOW), pod("niccolo", start=NOW - 180, ready="True",
                                                        transition=NOW - 180),
                      pod("epicurus", start=NOW - 180)],
     {"lucretius": PM(1), "niccolo": PM(1)}, "cpu", 1, {"lucretius"}, {"epicurus"}, set()),
    ("pending pods are unreadied", [pod("unscheduled", phase="Pending")], {}, "cpu", 0, {"unscheduled"}, set(),
     set()),
    ("ignore pods with deletion timestamps", [pod("deleted", phase="Pending", deleting=True)], {"deleted": PM(1)},
     "cpu", 0, set(), set(), {"deleted"}),
    ("ignore pods in a failed state", [pod("failed", phase="Failed")], {"failed": PM(1)}, "cpu", 0, set(), set(),
     {"failed"}),
]


@pytest.mark.parametrize("case", GROUP_CASES, ids=[c[0] for c in GROUP_CASES])
def test_group_pods(case: tuple[Any, ...]) -> None:
    _name, pods, metrics, resource, ready, unready, missing, ignored = case
    assert rc.group_pods(pods, metrics, resource, 120, 10, NOW) == (ready, unready, missing, ignored)


def test_calculate_pod_requests() -> None:
    def p(*containers: dict[str, Any], init: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        return {"metadata": {"name": "test-pod"}, "spec": {"containers": list(containers),
                                                           **({"initContainers": init} if init else {})}}

    def c(name: str, cpu: str | None, **extra: Any) -> dict[str, Any]:
        return {"name": name, **({"resources": {"requests": {"cpu": cpu}}} if cpu else {}), **extra}

    assert rc.calculate_requests([], "", "cpu") == {}
    assert rc.calculate_requests([p(c("container1", "100m"), c("container2", "50m"))], "", "cpu") == {"test-pod": 150}
    assert rc.calculate_requests([p(c("container1", "100m"), c("container2", "50m"))], "container1", "cpu") == \
        {"test-pod": 100}
    with pytest.raises(rc.CalculationError, match="missing request for cpu in container container1 of Pod test-pod"):
        rc.calculate_requests([p(c("container1", None))], "", "cpu")
    # Restartable init containers (sidecars) count; ordinary init containers do not.
    assert rc.calculate_requests([p(c("container1", "100m"), init=[c("init-container1", "20m"),
                                                                   c("restartable", "50m", restartPolicy="Always")])],
                                 "", "cpu") == {"test-pod": 150}
    with pytest.raises(rc.CalculationError, match="container nope not found"):
        rc.calculate_requests([p(c("container1", "100m"))], "nope", "cpu")


def test_per_hpa_tolerances() -> None:
    assert rc.Tolerances(0.1, 0.1).is_within(1.1) and not rc.Tolerances(0.1, 0.1).is_within(1.11)
    assert rc.Tolerances(scale_down=0.2, scale_up=0.0).is_within(0.8)
    assert not rc.Tolerances(scale_down=0.2, scale_up=0.0).is_within(1.01)
