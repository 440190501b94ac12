"""The HPA controller against Kubernetes' own cases (pkg/controller/podautoscaler/horizontal_test.go).

Controller cases keep upstream's names and numbers: an HPA on a ReplicationController
(or a Deployment / ReplicaSet) whose scale and pods are fakes built as upstream's
reactors build them, metrics through the real REST metrics client over a fake API, and
the checks upstream makes: whether the scale was written and with what, the status's
desired replicas and CPU utilization, and the conditions (type, status, reason).
Normalization cases (behavior, stabilization, scale events) are upstream's tables.
"""
from __future__ import annotations

import dataclasses
import math
import time
from typing import Any

import pytest

from minik8s.api import errors
from minik8s.api import selectors
from minik8s.controllers.podautoscaler import horizontal as h
from minik8s.controllers.podautoscaler import metrics_client as mc

NS, NAME, PREFIX = "test-namespace", "test-hpa", "test-pod"
KEY = f"{NS}/{NAME}"
NOW = 1_800_000_000.0
ZERO = "0001-01-01T00:00:00Z"


def ts(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


HOT, COOL = ts(NOW), ts(NOW - 180)


def cpu_target(utilization: int) -> dict[str, Any]:
    return {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization",
                                                                       "averageUtilization": utilization}}}


def pods_metric(average: str, name: str = "qps") -> dict[str, Any]:
    return {"type": "Pods", "pods": {"metric": {"name": name}, "target": {"type": "AverageValue",
                                                                         "averageValue": average}}}


def object_metric(value: str | None = None, average: str | None = None) -> dict[str, Any]:
    target: dict[str, Any] = {"type": "Value", "value": value} if value else {"type": "AverageValue",
                                                                               "averageValue": average}
    return {"type": "Object", "object": {"describedObject": {"apiVersion": "apps/v1", "kind": "Deployment",
                                                             "name": "some-deployment"},
                                         "metric": {"name": "qps"}, "target": target}}


def external_metric(value: str | None = None, average: str | None = None) -> dict[str, Any]:
    target: dict[str, Any] = {"type": "Value", "value": value} if value else {"type": "AverageValue",
                                                                               "averageValue": average}
    return {"type": "External", "external": {"metric": {"name": "qps", "selector": {}}, "target": target}}


def scaling_rules(pods: int, pods_period: int, percent: int, percent_period: int, window: int) -> dict[str, Any]:
    """generateScalingRules."""
    policies = []
    if pods:
        policies.append({"type": "Pods", "value": pods, "periodSeconds": pods_period})
    if percent:
        policies.append({"type": "Percent", "value": percent, "periodSeconds": percent_period})
    rules: dict[str, Any] = {"stabilizationWindowSeconds": window, "selectPolicy": "Max"}
    if policies:
        rules["policies"] = policies
    return rules


Cond = tuple[str, str, str]
STATUS_OK: list[Cond] = [("AbleToScale", "True", "SucceededRescale"), ("ScalingActive", "True", "ValidMetricFound"),
                         ("ScalingLimited", "False", "DesiredWithinRange")]


def ok(*overrides: Cond) -> list[Cond]:
    """statusOkWithOverrides."""
    out = list(STATUS_OK)
    for o in overrides:
        out = [o if c[0] == o[0] else c for c in out]
    return out


@dataclasses.dataclass
class TC:
    min_replicas: int
    max_replicas: int
    spec_replicas: int
    status_replicas: int
    expected: int
    cpu_target: int = 0
    cpu_current: int = 0
    verify_cpu_current: bool = False
    levels: list[int] = dataclasses.field(default_factory=list)
    requests: list[str] | None = None
    readiness: list[str] | None = None
    start: list[str] | None = None
    phase: list[str] | None = None
    deleting: list[bool] | None = None
    metrics: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    conditions: list[Cond] | None = None
    kind: tuple[str, str, str] = ("v1", "ReplicationController", "test-rc")
    last_scale_time: str | None = None
    recommendations: list[h.Recommendation] | None = None
    scale_up: dict[str, Any] | None = None
    scale_down: dict[str, Any] | None = None
    verify_events: bool = False
    # Fault injection, as upstream's prepended reactors.
    fail_resource: bool = False
    fail_custom: bool = False
    fail_get_scale: bool = False
    fail_update_scale: bool = False
    scale_selector: str | None = f"name={PREFIX}"


class Store:
    """What the controller reads from an informer."""

    def __init__(self, objects: list[dict[str, Any]]) -> None:
        self.objects = objects

    def get(self, key: str) -> dict[str, Any] | None:
        return next((o for o in self.objects if f"{o['metadata'].get('namespace')}/{o['metadata']['name']}" == key),
                    None)

    def list(self, namespace: str | None = None, selector: selectors.LabelSelector | None = None
             ) -> list[dict[str, Any]]:
        return [o for o in self.objects if (namespace is None or o["metadata"].get("namespace") == namespace)
                and (selector is None or selector.matches(o["metadata"].get("labels")))]

    def add_handlers(self, **_kw: Any) -> None:
        pass


class FakeApi:
    def __init__(self, tc: TC) -> None:
        self.tc = tc

    async def request(self, method: str, path: str, *, params: dict[str, Any] | None = None, **kw: Any) -> Any:
        tc = self.tc
        if path.startswith("/apis/metrics.k8s.io/"):
            if tc.fail_resource:
                raise errors.InternalError("something went wrong")
            return {"items": [{"metadata": {"name": f"{PREFIX}-{i}"}, "timestamp": ts(NOW), "window": "1m0s",
                               "containers": [{"name": f"container{j}", "usage": {"cpu": f"{cpu // 2}m",
                                                                                  "memory": "512Ki"}}
                                              for j in (1, 2)]}
                              for i, cpu in enumerate(tc.levels)]}
        if tc.fail_custom:
            raise errors.InternalError("something went wrong")
        if "/pods/*/" in path:
            return {"items": [{"describedObject": {"kind": "Pod", "name": f"{PREFIX}-{i}"}, "timestamp": ts(NOW),
                               "metric": {"name": "qps"}, "value": f"{level}m"} for i, level in enumerate(tc.levels)]}
        return {"items": [{"describedObject": {"kind": "Deployment", "name": "some-deployment"}, "timestamp": ts(NOW),
                           "metric": {"name": "qps"}, "value": f"{tc.levels[0]}m"}]}


class Metrics(mc.RestMetricsClient):
    def __init__(self, tc: TC) -> None:
        super().__init__(FakeApi(tc))  # type: ignore[arg-type]
        self.tc = tc

    async def get_external_metric(self, metric: str, namespace: str, selector: str) -> tuple[list[int], float]:
        if self.tc.fail_custom:
            raise mc.MetricsError("something went wrong")
        assert metric == "qps"
        return list(self.tc.levels), NOW


class Scales:
    def __init__(self, tc: TC) -> None:
        self.tc = tc
        self.updates: list[int] = []

    async def get_scale(self, namespace: str, ref: dict[str, Any]) -> dict[str, Any]:
        assert (ref["apiVersion"], ref["kind"], ref["name"]) == self.tc.kind
        if self.tc.fail_get_scale:
            raise errors.InternalError("something went wrong")
        status: dict[str, Any] = {"replicas": self.tc.status_replicas}
        if self.tc.scale_selector is not None:
            status["selector"] = self.tc.scale_selector
        return {"kind": "Scale", "metadata": {"name": ref["name"], "namespace": namespace, "resourceVersion": "7"},
                "spec": {"replicas": self.tc.spec_replicas}, "status": status}

    async def update_scale(self, namespace: str, ref: dict[str, Any], scale: dict[str, Any]) -> dict[str, Any]:
        if self.tc.fail_update_scale:
            raise errors.InternalError("something went wrong")
        assert scale["metadata"]["resourceVersion"] == "7"  # the PUT carries what was read
        self.updates.append(scale["spec"]["replicas"])
        return scale


class StatusWriter:
    def __init__(self) -> None:
        self.written: list[dict[str, Any]] = []

    async def update_status(self, hpa: dict[str, Any]) -> dict[str, Any]:
        self.written.append(hpa)
        return hpa


def make_hpa(tc: TC) -> dict[str, Any]:
    metrics = ([cpu_target(tc.cpu_target)] if tc.cpu_target > 0 else []) + tc.metrics
    if not metrics:
        metrics = [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization"}}}]
    spec: dict[str, Any] = {"scaleTargetRef": dict(zip(("apiVersion", "kind", "name"), tc.kind)),
                            "minReplicas": tc.min_replicas, "maxReplicas": tc.max_replicas, "metrics": metrics}
    if tc.scale_up is not None or tc.scale_down is not None:
        spec["behavior"] = {"scaleUp": h.default_scale_up_rules(tc.scale_up),
                            "scaleDown": h.default_scale_down_rules(tc.scale_down)}
    status: dict[str, Any] = {"currentReplicas": tc.spec_replicas, "desiredReplicas": tc.spec_replicas}
    if tc.last_scale_time:
        status["lastScaleTime"] = tc.last_scale_time
    return {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": NAME, "namespace": NS, "uid": "hpa-uid"}, "spec": spec, "status": status}


def make_pods(tc: TC) -> list[dict[str, Any]]:
    count = len(tc.requests) if tc.requests is not None else tc.status_replicas
    pods = []
    for i in range(count):
        start = tc.start[i] if tc.start else ZERO
        request = tc.requests[i] if tc.requests is not None else "1.0"
        half = f"{h.milli(request) // 2}m"
        pod: dict[str, Any] = {
            "metadata": {"name": f"{PREFIX}-{i}", "namespace": NS, "labels": {"name": PREFIX}},
            "spec": {"containers": [{"name": f"container{j}", "resources": {"requests": {"cpu": half}}}
                                    for j in (1, 2)]},
            "status": {"phase": tc.phase[i] if tc.phase else "Running", "startTime": start,
                       "conditions": [{"type": "Ready", "status": tc.readiness[i] if tc.readiness else "True",
                                       "lastTransitionTime": start}]}}
        if tc.deleting and tc.deleting[i]:
            pod["metadata"]["deletionTimestamp"] = ts(NOW)
        pods.append(pod)
    return pods


def cpu_current(tc: TC) -> int:
    """computeCPUCurrent."""
    if tc.cpu_current or tc.requests is None or len(tc.levels) != len(tc.requests) or not tc.levels:
        return tc.cpu_current
    return int(100 * sum(tc.levels) / sum(h.milli(r) for r in tc.requests))


async def run(tc: TC) -> tuple[h.HorizontalController, Scales, StatusWriter, list[tuple[str, str, str]]]:
    hpa = make_hpa(tc)
    scales, writer = Scales(tc), StatusWriter()
    events: list[tuple[str, str, str]] = []
    controller = h.HorizontalController(
        Store([hpa]), Store(make_pods(tc)), writer, scales, Metrics(tc), None,  # type: ignore[arg-type]
        cpu_initialization_period=120, delay_of_initial_readiness_status=10, clock=lambda: NOW,
        record=lambda obj, type_, reason, message: events.append((type_, reason, message)))
    if tc.recommendations is not None:
        controller.recommendations[KEY] = list(tc.recommendations)
    try:
        await controller.sync(KEY)
    finally:
        await controller.queue.shutdown()
    assert scales.updates == ([] if tc.spec_replicas == tc.expected else [tc.expected]), \
        "the scale is written only if the replica count changes"
    assert writer.written, "the status must have been written"
    status = writer.written[-1]["status"]
    assert status["desiredReplicas"] == tc.expected
    if tc.verify_cpu_current:
        assert status["currentMetrics"][0]["resource"]["current"]["averageUtilization"] == cpu_current(tc)
    got = [(c["type"], c["status"], c["reason"]) for c in status.get("conditions") or []]
    assert got == (tc.conditions if tc.conditions is not None else STATUS_OK)
    rescales = [e for e in events if e[1] == "SuccessfulRescale"]
    assert len(rescales) == (0 if tc.spec_replicas == tc.expected else 1)
    return controller, scales, writer, events


ONES3 = ["1.0"] * 3
ONES5 = ["1.0"] * 5

CASES: dict[str, TC] = {
    "ScaleUp": TC(2, 6, 3, 3, 5, cpu_target=30, verify_cpu_current=True, levels=[300, 500, 700], requests=ONES3),
    "ScaleUpContainer": TC(2, 6, 3, 3, 5, metrics=[{"type": "ContainerResource", "containerResource": {
        "name": "cpu", "container": "container1", "target": {"type": "Utilization", "averageUtilization": 30}}}],
        levels=[300, 500, 700], requests=ONES3),
    "ScaleUpUnreadyLessScale": TC(2, 6, 3, 3, 4, cpu_target=30, cpu_current=60, verify_cpu_current=True,
                                  levels=[300, 500, 700], requests=ONES3, readiness=["False", "True", "True"]),
    "ScaleUpHotCpuLessScale": TC(2, 6, 3, 3, 4, cpu_target=30, cpu_current=60, verify_cpu_current=True,
                                 levels=[300, 500, 700], requests=ONES3, start=[HOT, COOL, COOL]),
    "ScaleUpUnreadyNoScale": TC(2, 6, 3, 3, 3, cpu_target=30, cpu_current=40, verify_cpu_current=True,
                                levels=[400, 500, 700], requests=ONES3, readiness=["True", "False", "False"],
                                conditions=ok(("AbleToScale", "True", "ReadyForNewScale"))),
    "ScaleUpHotCpuNoScale": TC(2, 6, 3, 3, 3, cpu_target=30, cpu_current=40, verify_cpu_current=True,
                               levels=[400, 500, 700], requests=ONES3, readiness=["True", "False", "False"],
                               start=[COOL, HOT, HOT], conditions=ok(("AbleToScale", "True", "ReadyForNewScale"))),
    "ScaleUpIgnoresFailedPods": TC(2, 6, 2, 2, 4, cpu_target=30, cpu_current=60, verify_cpu_current=True,
                                   levels=[500, 700], requests=["1.0"] * 4, readiness=["True", "True", "False", "False"],
                                   phase=["Running", "Running", "Failed", "Failed"]),
    "ScaleUpIgnoresDeletionPods": TC(2, 6, 2, 2, 4, cpu_target=30, cpu_current=60, verify_cpu_current=True,
                                     levels=[500, 700], requests=["1.0"] * 4,
                                     readiness=["True", "True", "False", "False"], phase=["Running"] * 4,
                                     deleting=[False, False, True, True]),
    "ScaleUpDeployment": TC(2, 6, 3, 3, 5, cpu_target=30, verify_cpu_current=True, levels=[300, 500, 700],
                            requests=ONES3, kind=("apps/v1", "Deployment", "test-dep")),
    "ScaleUpReplicaSet": TC(2, 6, 3, 3, 5, cpu_target=30, verify_cpu_current=True, levels=[300, 500, 700],
                            requests=ONES3, kind=("apps/v1", "ReplicaSet", "test-replicaset")),
    "ScaleUpCM": TC(2, 6, 3, 3, 4, metrics=[pods_metric("15.0")], levels=[20000, 10000, 30000], requests=ONES3),
    "ScaleUpCMUnreadyAndHotCpuNoLessScale": TC(2, 6, 3, 3, 6, metrics=[pods_metric("15.0")],
                                               levels=[50000, 10000, 30000], readiness=["True", "True", "False"],
                                               start=[COOL, COOL, HOT], requests=ONES3),
    "ScaleUpCMUnreadyandCpuHot": TC(2, 6, 3, 3, 6, metrics=[pods_metric("15.0")], levels=[50000, 15000, 30000],
                                    readiness=["False", "True", "False"], start=[HOT, COOL, HOT], requests=ONES3,
                                    conditions=ok(("ScalingLimited", "True", "TooManyReplicas"))),
    "ScaleUpHotCpuNoScaleWouldScaleDown": TC(2, 6, 3, 3, 6, metrics=[pods_metric("15.0")],
                                             levels=[50000, 15000, 30000], requests=ONES3, start=[HOT, COOL, HOT],
                                             conditions=ok(("ScalingLimited", "True", "TooManyReplicas"))),
    "ScaleUpCMObject": TC(2, 6, 3, 3, 4, metrics=[object_metric(value="15.0")], levels=[20000]),
    "ScaleUpFromZeroCMObject": TC(0, 6, 0, 0, 2, metrics=[object_metric(value="15.0")], levels=[20000]),
    "ScaleUpFromZeroIgnoresToleranceCMObject": TC(0, 6, 0, 0, 1, metrics=[object_metric(value="1.0")], levels=[1000]),
    "ScaleUpPerPodCMObject": TC(2, 6, 3, 3, 4, metrics=[object_metric(average="10.0")], levels=[40000]),
    "ScaleUpCMExternal": TC(2, 6, 3, 3, 4, metrics=[external_metric(value="6666m")], levels=[8600]),
    "ScaleUpPerPodCMExternal": TC(2, 6, 3, 3, 4, metrics=[external_metric(average="2222m")], levels=[8600]),
    "ScaleDown": TC(2, 6, 5, 5, 3, cpu_target=50, verify_cpu_current=True, levels=[100, 300, 500, 250, 250],
                    requests=ONES5, recommendations=[]),
    "ScaleDownContainerResource": TC(2, 6, 5, 5, 3, levels=[100, 300, 500, 250, 250], requests=ONES5, metrics=[{
        "type": "ContainerResource", "containerResource": {"name": "cpu", "container": "container2", "target": {
            "type": "Utilization", "averageUtilization": 50}}}], recommendations=[]),
    "ScaleDownWithScalingRules": TC(2, 6, 5, 5, 3, scale_up=scaling_rules(0, 0, 100, 15, 30), cpu_target=50,
                                    verify_cpu_current=True, levels=[100, 300, 500, 250, 250], requests=ONES5,
                                    recommendations=[]),
    "ScaleUpOneMetricInvalid": TC(2, 6, 3, 3, 4, cpu_target=30, verify_cpu_current=True,
                                  metrics=[{"type": "CheddarCheese"}], levels=[300, 400, 500], requests=ONES3),
    "ScaleUpFromZeroOneMetricInvalid": TC(0, 6, 0, 0, 4, cpu_target=30, verify_cpu_current=True,
                                          metrics=[{"type": "CheddarCheese"}], levels=[300, 400, 500], requests=ONES3,
                                          recommendations=[]),
    "ScaleUpBothMetricsEmpty": TC(2, 6, 3, 3, 3, metrics=[{"type": "CheddarCheese"}], levels=[], requests=ONES3,
                                  conditions=[("AbleToScale", "True", "SucceededGetScale"),
                                              ("ScalingActive", "False", "InvalidMetricSourceType")]),
    "ScaleDownStabilizeInitialSize": TC(2, 6, 5, 5, 5, cpu_target=50, verify_cpu_current=True,
                                        levels=[100, 300, 500, 250, 250], requests=ONES5, recommendations=None,
                                        conditions=ok(("AbleToScale", "True", "ScaleDownStabilized"))),
    "ScaleDownCM": TC(2, 6, 5, 5, 3, metrics=[pods_metric("20.0")], levels=[12000] * 5, requests=ONES5,
                      recommendations=[]),
    "ScaleDownCMObject": TC(2, 6, 5, 5, 3, metrics=[object_metric(value="20.0")], levels=[12000], requests=ONES5,
                            recommendations=[]),
    "ScaleDownToZeroCMObject": TC(0, 6, 5, 5, 0, metrics=[object_metric(value="20.0")], levels=[0], requests=ONES5,
                                  recommendations=[]),
    "ScaleDownPerPodCMObject": TC(2, 6, 5, 5, 3, metrics=[object_metric(average="20.0")], levels=[60000],
                                  requests=ONES5, recommendations=[]),
    "ScaleDownCMExternal": TC(2, 6, 5, 5, 3, metrics=[external_metric(value="14400m")], levels=[8600],
                              recommendations=[]),
    "ScaleDownToZeroCMExternal": TC(0, 6, 5, 5, 0, metrics=[external_metric(value="14400m")], levels=[0],
                                    recommendations=[]),
    "ScaleDownPerPodCMExternal": TC(2, 6, 5, 5, 3, metrics=[external_metric(average="3000m")], levels=[8600],
                                    recommendations=[]),
    "ScaleDownIncludeUnreadyPods": TC(2, 6, 5, 5, 2, cpu_target=50, cpu_current=30, verify_cpu_current=True,
                                      levels=[100, 300, 500, 250, 250], requests=ONES5,
                                      readiness=["True", "True", "True", "False", "False"], recommendations=[]),
    # Since Kubernetes 1.23 an invalid metric blocks a scale-down (older versions expected 3 here):
    # the metric that failed might have asked for more replicas.
    "ScaleDownOneMetricInvalid": TC(2, 6, 5, 5, 5, cpu_target=50, metrics=[{"type": "CheddarCheese"}],
                                    levels=[100, 300, 500, 250, 250], requests=ONES5, recommendations=[],
                                    conditions=[("AbleToScale", "True", "SucceededGetScale"),
                                                ("ScalingActive", "False", "InvalidMetricSourceType")]),
    "ScaleDownIgnoreHotCpuPods": TC(2, 6, 5, 5, 2, cpu_target=50, cpu_current=30, verify_cpu_current=True,
                                    levels=[100, 300, 500, 250, 250], requests=ONES5,
                                    start=[COOL, COOL, COOL, HOT, HOT], recommendations=[]),
    "ScaleDownIgnoresFailedPods": TC(2, 6, 5, 5, 3, cpu_target=50, cpu_current=28, verify_cpu_current=True,
                                     levels=[100, 300, 500, 250, 250], requests=["1.0"] * 7,
                                     readiness=["True"] * 5 + ["False"] * 2, phase=["Running"] * 5 + ["Failed"] * 2,
                                     recommendations=[]),
    "ScaleDownIgnoresDeletionPods": TC(2, 6, 5, 5, 3, cpu_target=50, cpu_current=28, verify_cpu_current=True,
                                       levels=[100, 300, 500, 250, 250], requests=["1.0"] * 7,
                                       readiness=["True"] * 5 + ["False"] * 2, phase=["Running"] * 7,
                                       deleting=[False] * 5 + [True] * 2, recommendations=[]),
    "Tolerance": TC(1, 5, 3, 3, 3, cpu_target=100, levels=[1010, 1030, 1020], requests=["0.9", "1.0", "1.1"],
                    conditions=ok(("AbleToScale", "True", "ReadyForNewScale"))),
    "ToleranceCM": TC(1, 5, 3, 3, 3, metrics=[pods_metric("20.0")], levels=[20000, 20001, 21000],
                      requests=["0.9", "1.0", "1.1"], conditions=ok(("AbleToScale", "True", "ReadyForNewScale"))),
    "ToleranceCMObject": TC(1, 5, 3, 3, 3, metrics=[object_metric(value="20.0")], levels=[20050],
                            requests=["0.9", "1.0", "1.1"], conditions=ok(("AbleToScale", "True", "ReadyForNewScale"))),
    "ToleranceCMExternal": TC(2, 6, 4, 4, 4, metrics=[external_metric(value="8666m")], levels=[8600],
                              conditions=ok(("AbleToScale", "True", "ReadyForNewScale"))),
    "TolerancePerPodCMObject": TC(2, 6, 4, 4, 4, metrics=[object_metric(average="2200m")], levels=[8600],
                                  conditions=ok(("AbleToScale", "True", "ReadyForNewScale"))),
    "TolerancePerPodCMExternal": TC(2, 6, 4, 4, 4, metrics=[external_metric(average="2200m")], levels=[8600],
                                    conditions=ok(("AbleToScale", "True", "ReadyForNewScale"))),
    "MinReplicas": TC(2, 5, 3, 3, 2, cpu_target=90, levels=[10, 95, 10], requests=["0.9", "1.0", "1.1"],
                      conditions=ok(("ScalingLimited", "True", "TooFewReplicas")), recommendations=[]),
    "ZeroMinReplicasDesiredZero": TC(0, 5, 3, 3, 0, cpu_target=90, levels=[0, 0, 0], requests=["0.9", "1.0", "1.1"],
                                     conditions=ok(("ScalingLimited", "False", "DesiredWithinRange")),
                                     recommendations=[]),
    "MinReplicasDesiredZero": TC(2, 5, 3, 3, 2, cpu_target=90, levels=[0, 0, 0], requests=["0.9", "1.0", "1.1"],
                                 conditions=ok(("ScalingLimited", "True", "TooFewReplicas")), recommendations=[]),
    "ZeroReplicas": TC(3, 5, 0, 0, 0, cpu_target=90, levels=[], requests=[],
                       conditions=[("AbleToScale", "True", "SucceededGetScale"),
                                   ("ScalingActive", "False", "ScalingDisabled")]),
    "TooFewReplicas": TC(3, 5, 2, 2, 3, cpu_target=90, levels=[], requests=[],
                         conditions=[("AbleToScale", "True", "SucceededRescale")]),
    "TooManyReplicas": TC(3, 5, 10, 10, 5, cpu_target=90, levels=[], requests=[],
                          conditions=[("AbleToScale", "True", "SucceededRescale")]),
    "MaxReplicas": TC(2, 5, 3, 3, 5, cpu_target=90, levels=[8000, 9500, 1000], requests=["0.9", "1.0", "1.1"],
                      conditions=ok(("ScalingLimited", "True", "TooManyReplicas"))),
    "SuperfluousMetrics": TC(2, 6, 4, 4, 6, cpu_target=100, levels=[4000, 9500, 3000, 7000, 3200, 2000],
                             requests=["1.0"] * 4, conditions=ok(("ScalingLimited", "True", "TooManyReplicas"))),
    "MissingMetrics": TC(2, 6, 4, 4, 3, cpu_target=100, levels=[400, 95], requests=["1.0"] * 4, recommendations=[]),
    "EmptyMetrics": TC(2, 6, 4, 4, 4, cpu_target=100, levels=[], requests=["1.0"] * 4,
                       conditions=[("AbleToScale", "True", "SucceededGetScale"),
                                   ("ScalingActive", "False", "FailedGetResourceMetric")]),
    "EmptyCPURequest": TC(1, 5, 1, 1, 1, cpu_target=100, levels=[200], requests=[],
                          conditions=[("AbleToScale", "True", "SucceededGetScale"),
                                      ("ScalingActive", "False", "FailedGetResourceMetric")]),
    "EventNotCreated": TC(1, 5, 2, 2, 2, cpu_target=50, levels=[200, 200], requests=["0.4", "0.4"],
                          conditions=ok(("AbleToScale", "True", "ReadyForNewScale"))),
    "MissingReports": TC(1, 5, 4, 4, 2, cpu_target=50, levels=[200], requests=["0.2"], recommendations=[]),
    "UpscaleCap": TC(1, 100, 3, 3, 24, scale_up=scaling_rules(0, 0, 700, 60, 0), cpu_target=10,
                     levels=[100, 200, 300], requests=["0.1"] * 3,
                     conditions=ok(("ScalingLimited", "True", "ScaleUpLimit"))),
    "UpscaleCapGreaterThanMaxReplicas": TC(1, 20, 3, 3, 20, scale_up=scaling_rules(0, 0, 700, 60, 0), cpu_target=10,
                                           levels=[100, 200, 300], requests=["0.1"] * 3,
                                           conditions=ok(("ScalingLimited", "True", "TooManyReplicas"))),
    # A Deployment mid roll-out (25 % surge): status 5 pods for spec 4, on target: no scaling.
    "MoreReplicasThanSpecNoScale": TC(1, 8, 4, 5, 4, cpu_target=50, levels=[500] * 5, requests=["1"] * 5,
                                      conditions=ok(("AbleToScale", "True", "ReadyForNewScale"))),
    "ConditionInvalidSelectorMissing": TC(1, 100, 3, 3, 3, cpu_target=10, levels=[100, 200, 300],
                                          requests=["0.1"] * 3, scale_selector=None,
                                          conditions=[("AbleToScale", "True", "SucceededGetScale"),
                                                      ("ScalingActive", "False", "InvalidSelector")]),
    "ConditionInvalidSelectorUnparsable": TC(1, 100, 3, 3, 3, cpu_target=10, levels=[100, 200, 300],
                                             requests=["0.1"] * 3, scale_selector="cheddar cheese",
                                             conditions=[("AbleToScale", "True", "SucceededGetScale"),
                                                         ("ScalingActive", "False", "InvalidSelector")]),
    "ConditionInvalidSourceType": TC(2, 6, 3, 3, 3, metrics=[{"type": "CheddarCheese"}], levels=[20000],
                                     conditions=[("AbleToScale", "True", "SucceededGetScale"),
                                                 ("ScalingActive", "False", "InvalidMetricSourceType")]),
    "ConditionFailedGetScale": TC(1, 100, 3, 3, 3, cpu_target=10, levels=[100, 200, 300], requests=["0.1"] * 3,
                                  fail_get_scale=True, conditions=[("AbleToScale", "False", "FailedGetScale")]),
    "ConditionFailedUpdateScale": TC(1, 5, 3, 3, 3, cpu_target=100, levels=[150, 150, 150], requests=["0.1"] * 3,
                                     fail_update_scale=True,
                                     conditions=ok(("AbleToScale", "False", "FailedUpdateScale"))),
    "NoBackoffUpscaleCM": TC(1, 5, 3, 3, 4, metrics=[pods_metric("15.0")], levels=[20000, 10000, 30000],
                             requests=ONES3, last_scale_time=ts(NOW)),
    "NoBackoffUpscaleCMNoBackoffCpu": TC(1, 5, 3, 3, 5, cpu_target=10, metrics=[pods_metric("15.0")],
                                         levels=[20000, 10000, 30000], requests=ONES3, last_scale_time=ts(NOW),
                                         conditions=ok(("ScalingLimited", "True", "TooManyReplicas"))),
    "StabilizeDownscale": TC(1, 5, 4, 4, 4, cpu_target=100, levels=[50, 50, 50], requests=["0.1"] * 3,
                             recommendations=[h.Recommendation(10, NOW - 600), h.Recommendation(4, NOW - 60)],
                             conditions=ok(("AbleToScale", "True", "ScaleDownStabilized"))),
    "ScaleUpRCImmediately": TC(2, 6, 1, 1, 2, levels=[0, 0, 0, 0], requests=["1.0"] * 4, last_scale_time=ts(NOW),
                               conditions=[("AbleToScale", "True", "SucceededRescale")]),
    "ScaleDownRCImmediately": TC(2, 5, 6, 6, 5, cpu_target=50, levels=[8000, 9500, 1000],
                                 requests=["0.9", "1.0", "1.1"], last_scale_time=ts(NOW),
                                 conditions=[("AbleToScale", "True", "SucceededRescale")]),
}


@pytest.mark.parametrize("name", list(CASES))
async def test_horizontal_controller(name: str) -> None:
    await run(CASES[name])


@pytest.mark.parametrize("reason,metric", [
    ("FailedGetResourceMetric", None), ("FailedGetPodsMetric", pods_metric("15.0")),
    ("FailedGetObjectMetric", object_metric(value="15.0")), ("FailedGetExternalMetric", external_metric(value="300m"))])
async def test_condition_failed_get_metrics(reason: str, metric: dict[str, Any] | None) -> None:
    """TestConditionFailedGetMetrics."""
    tc = TC(1, 100, 3, 3, 3, cpu_target=0 if metric else 10, metrics=[metric] if metric else [],
            levels=[100, 200, 300], requests=["0.1"] * 3, fail_resource=True, fail_custom=True,
            conditions=[("AbleToScale", "True", "SucceededGetScale"), ("ScalingActive", "False", reason)])
    _c, _s, writer, events = await run(tc)
    assert reason in [e[1] for e in events]
    assert writer.written[-1]["status"]["currentMetrics"] == [{"type": ""}]


async def test_event_created() -> None:
    """TestEventCreated: SuccessfulRescale with the metric that decided."""
    _c, _s, writer, events = await run(TC(1, 5, 1, 1, 2, cpu_target=50, levels=[200], requests=["0.2"]))
    assert ("Normal", "SuccessfulRescale",
            "New size: 2; reason: cpu resource utilization (percentage of request) above target") in events
    status = writer.written[-1]["status"]
    assert status["lastScaleTime"] == ts(NOW) and status["currentReplicas"] == 1
    assert status["currentMetrics"] == [{"type": "Resource", "resource": {
        "name": "cpu", "current": {"averageUtilization": 100, "averageValue": "200m"}}}]


async def test_computed_tolerance_alg_implementation() -> None:
    start_pods = 10
    used = start_pods * 150
    requested = 2 * used
    requested_to_used = float(requested // used)
    per_pod = requested // start_pods
    requests = [f"{per_pod + d}m" for d in (100, -100, 10, -10, 2, -2, 1, -1, 0, 0)]
    target = abs(1 / (requested_to_used * (1 - 0.1))) + 0.01
    final = math.ceil(used / (requested * target) * start_pods)
    await run(TC(0, 1000, start_pods, start_pods, final, cpu_target=int(target * 100), levels=[used // 10] * 10,
                 requests=requests, recommendations=[]))
    target = abs(1 / (requested_to_used * (1 - 0.1))) + 0.004
    await run(TC(0, 1000, start_pods, start_pods, start_pods, cpu_target=int(target * 100), levels=[used // 10] * 10,
                 requests=requests, recommendations=[], conditions=ok(("AbleToScale", "True", "ReadyForNewScale"))))


async def test_avoid_unnecessary_updates() -> None:
    """TestAvoidUnnecessaryUpdates: a sync that changes nothing writes nothing."""
    tc = TC(2, 6, 2, 2, 2, cpu_target=30, levels=[400, 500, 700], requests=ONES3, start=[COOL, HOT, HOT],
            recommendations=[], conditions=ok(("AbleToScale", "True", "ReadyForNewScale")))
    controller, _s, writer, _e = await run(tc)
    hpa = writer.written[-1]
    controller.hpas = Store([hpa])  # type: ignore[assignment]
    before = len(writer.written)
    await controller.sync(KEY)
    await controller.queue.shutdown()
    assert len(writer.written) == before


async def test_per_hpa_tolerance_from_behavior() -> None:
    """behavior.scaleUp.tolerance (HPAConfigurableTolerance): 5 % over target scales up with a 0 tolerance."""
    await run(TC(1, 10, 4, 4, 4, cpu_target=100, levels=[1050] * 4, requests=["1.0"] * 4,
                 conditions=ok(("AbleToScale", "True", "ReadyForNewScale"))))
    await run(TC(1, 10, 4, 4, 5, cpu_target=100, levels=[1050] * 4, requests=["1.0"] * 4,
                 scale_up={"tolerance": "0"}))


async def test_ambiguous_selector() -> None:
    tc = TC(2, 6, 3, 3, 3, cpu_target=30, levels=[300, 500, 700], requests=ONES3,
            conditions=[("AbleToScale", "True", "SucceededGetScale"), ("ScalingActive", "False", "AmbiguousSelector")])
    other = make_hpa(tc)
    other["metadata"]["name"] = "other-hpa"
    hpa = make_hpa(tc)
    scales, writer = Scales(tc), StatusWriter()
    controller = h.HorizontalController(Store([hpa, other]), Store(make_pods(tc)), writer, scales, Metrics(tc),
                                        clock=lambda: NOW)
    controller.selectors[f"{NS}/other-hpa"] = selectors.parse_label_selector(f"name={PREFIX}")
    await controller.sync(KEY)
    await controller.queue.shutdown()
    got = [(c["type"], c["status"], c["reason"]) for c in writer.written[-1]["status"]["conditions"]]
    assert got == tc.conditions and scales.updates == []


# -- normalization tables ------------------------------------------------------------------------------


def controller(**state: Any) -> h.HorizontalController:
    c = h.HorizontalController(Store([]), Store([]), StatusWriter(), None, None, clock=lambda: NOW,  # type: ignore[arg-type]
                               downscale_stabilization=300)
    for name, value in state.items():
        setattr(c, name, value)
    return c


@pytest.mark.parametrize("current,desired,lo,hi,expected,condition", [
    (5, 7, 3, 8, 7, "DesiredWithinRange"), (3, 1, 2, 8, 2, "TooFewReplicas"), (1, 0, 0, 10, 0, "DesiredWithinRange"),
    (20, 1000, 1, 10, 10, "TooManyReplicas"), (3, 1000, 1, 2000, h.calculate_scale_up_limit(3), "ScaleUpLimit")])
def test_convert_desired_replicas_with_rules(current: int, desired: int, lo: int, hi: int, expected: int,
                                             condition: str) -> None:
    assert h.convert_desired_replicas_with_rules(current, desired, lo, hi)[:2] == (expected, condition)


def test_calculate_scale_limits_with_min_policy() -> None:
    rules = {"stabilizationWindowSeconds": 300, "selectPolicy": "Min", "policies": [
        {"type": "Pods", "value": 2, "periodSeconds": 60}, {"type": "Percent", "value": 50, "periodSeconds": 60}]}
    assert h.scale_up_limit_with_rules(1, [], [], rules, NOW) == 2
    assert h.scale_down_limit_with_rules(5, [], [], rules, NOW) == 3
    assert h.scale_up_limit_with_rules(5, [], [], {**rules, "selectPolicy": "Disabled"}, NOW) == 5


R = h.Recommendation


@pytest.mark.parametrize("recs,prenormalized,expected,log_length", [
    ([], 5, 5, 1),
    ([R(4, NOW - 120), R(5, NOW - 60)], 3, 5, 3),
    ([R(1, NOW - 120), R(2, NOW - 60)], 3, 3, 3),
    ([R(10, NOW - 600), R(9, NOW - 540)], 3, 3, 2),
    ([R(10, NOW - 600), R(4, NOW - 60), R(5, NOW - 120), R(9, NOW - 540)], 3, 5, 4),
], ids=["empty log", "stabilize", "no stabilize", "no stabilize - old recommendations",
        "stabilize - old recommendations"])
def test_normalize_desired_replicas(recs: list[h.Recommendation], prenormalized: int, expected: int,
                                    log_length: int) -> None:
    c = controller(recommendations={"": list(recs)})
    assert c.stabilize_recommendation("", prenormalized) == expected
    assert len(c.recommendations[""]) == log_length


def events(raw: list[int], period: int) -> list[h.ScaleEvent]:
    """generateEventsUniformDistribution."""
    segment = period / len(raw)
    return [h.ScaleEvent(v, NOW - int(period - segment * (i + 1) + segment / 2)) for i, v in enumerate(raw)]


G = scaling_rules
# (name, up events, down events, min, max, up rules, down rules, current, prenormalized, expected, condition)
RULE_CASES: list[tuple[Any, ...]] = [
    ("prenormalized desired replicas within range", [], [], 3, 8, None, None, 5, 7, 7, "DesiredWithinRange"),
    ("prenormalized desired replicas < minReplicas", [], [], 2, 8, None, None, 3, 1, 2, "TooFewReplicas"),
    ("prenormalized desired replicas within range when minReplicas is 0", [], [], 0, 10, None, None, 1, 0, 0,
     "DesiredWithinRange"),
    ("maxReplicas is the limit because maxReplicas < scaleUpLimit", [], [], 1, 10, None, None, 20, 1000, 10,
     "TooManyReplicas"),
    ("desired replica count is more than the maximum replica count", [], [], 100, 150, None, None, 100, 1000, 150,
     "TooManyReplicas"),
    ("scaleUpLimit is the limit because scaleUpLimit < maxReplicas with user policies", [], [], 1, 2000,
     G(0, 0, 1, 60, 0), None, 3, 1000, 4, "ScaleUpLimit"),
    ("scaleUp with default behavior", [], [], 1, 1000, None, None, 10, 50, 20, "ScaleUpLimit"),
    ("scaleUp with pods policy larger than percent policy", [], [], 1, 1000, G(100, 60, 100, 60, 0), None, 10, 500,
     110, "ScaleUpLimit"),
    ("scaleUp with percent policy larger than pods policy", [], [], 1, 1000, G(2, 60, 100, 60, 0), None, 10, 500, 20,
     "ScaleUpLimit"),
    ("scaleUp with spec MaxReplicas limitation with large pod policy", [], [], 1, 1000, G(100, 60, 0, 0, 0), None, 10,
     50, 50, "DesiredWithinRange"),
    ("scaleUp with spec MaxReplicas limitation with large percent policy", [], [], 1, 1000, G(10000, 60, 0, 0, 0),
     None, 10, 50, 50, "DesiredWithinRange"),
    ("scaleUp with pod policy limitation", [], [], 1, 1000, G(30, 60, 0, 0, 0), None, 10, 50, 40, "ScaleUpLimit"),
    ("scaleUp with percent policy limitation", [], [], 1, 1000, G(0, 0, 200, 60, 0), None, 10, 50, 30,
     "ScaleUpLimit"),
    ("scaleDown with percent policy larger than pod policy", [], [], 1, 1000, None, G(20, 60, 1, 60, 300), 100, 2,
     80, "ScaleDownLimit"),
    ("scaleDown with pod policy larger than percent policy", [], [], 1, 1000, None, G(2, 60, 1, 60, 300), 100, 2,
     98, "ScaleDownLimit"),
    ("scaleDown with spec MinReplicas=nil limitation with large pod policy", [], [], 1, 1000, None,
     G(100, 60, 0, 0, 300), 10, 0, 1, "TooFewReplicas"),
    ("scaleDown with spec MinReplicas limitation with large percent policy", [], [], 5, 1000, None,
     G(0, 0, 100, 60, 300), 10, 2, 5, "TooFewReplicas"),
    ("scaleDown with pod policy limitation", [], [], 1, 1000, None, G(5, 60, 0, 0, 300), 10, 2, 5, "ScaleDownLimit"),
    ("scaleDown with percent policy limitation", [], [], 1, 1000, None, G(0, 0, 50, 60, 300), 10, 5, 5,
     "DesiredWithinRange"),
    ("scaleUp with spec MaxReplicas limitation with large pod policy and events", events([1, 5, 9], 120), [], 1, 200,
     G(300, 60, 0, 0, 0), None, 100, 500, 200, "TooManyReplicas"),
    ("scaleUp with spec MaxReplicas limitation with large percent policy and events", events([1, 5, 9], 120), [], 1,
     200, G(0, 0, 10000, 60, 0), None, 100, 500, 200, "TooManyReplicas"),
    ("scaleUp with currentReplicas limitation with rate.PeriodSeconds with a lot of recent scale up events",
     events([1, 5, 9], 120), [], 1, 1000, G(5, 120, 0, 0, 0), None, 100, 500, 100, "ScaleUpLimit"),
    ("scaleUp with pod policy and previous scale up events", events([1, 5, 9], 120), [], 1, 1000,
     G(150, 120, 0, 0, 0), None, 100, 500, 235, "ScaleUpLimit"),
    ("scaleUp with percent policy and previous scale up events", events([1, 5, 9], 120), [], 1, 1000,
     G(0, 0, 200, 120, 0), None, 100, 500, 255, "ScaleUpLimit"),
    ("scaleDown with default policy and previous events", [], events([1, 5, 9], 120), 1, 1000, None, None, 10, 5, 5,
     "DesiredWithinRange"),
    ("scaleDown with spec MinReplicas=nil limitation with large pod policy and previous events", [],
     events([1, 5, 9], 120), 1, 1000, None, G(115, 120, 0, 0, 300), 100, 0, 1, "TooFewReplicas"),
    ("scaleDown with spec MinReplicas limitation with large pod policy and previous events", [],
     events([1, 5, 9], 120), 5, 1000, None, G(130, 120, 0, 0, 300), 100, 0, 5, "TooFewReplicas"),
    ("scaleDown with spec MinReplicas limitation with large percent policy and previous events", [],
     events([1, 5, 9], 120), 5, 1000, None, G(0, 0, 100, 120, 300), 100, 2, 5, "TooFewReplicas"),
    ("scaleDown with pod policy limitation and previous events", [], events([1, 5, 9], 120), 1, 1000, None,
     G(5, 120, 0, 0, 300), 100, 2, 100, "ScaleDownLimit"),
    ("scaleDown with percent policy limitation and previous events", [], events([2, 4, 6], 120), 1, 1000, None,
     G(0, 0, 50, 120, 300), 100, 0, 56, "ScaleDownLimit"),
    ("scaleDown with previous events preventing further scale down", [], events([10, 10, 10], 120), 1, 1000, None,
     G(0, 0, 10, 120, 300), 100, 0, 100, "ScaleDownLimit"),
    ("scaleDown with with previous events still allowing more scale down", [], events([10, 10, 10], 120), 1, 1000,
     None, G(0, 0, 1000, 120, 300), 10, 5, 5, "DesiredWithinRange"),
    ("check 'outdated' flag for events for one behavior for up", events([8, 12, 9, 11], 120), [], 1, 1000,
     G(1000, 60, 0, 0, 0), None, 100, 200, 200, "DesiredWithinRange"),
    ("check that events were not marked 'outdated' for two different policies in the behavior for up",
     events([8, 12, 9, 11], 120), [], 1, 1000, G(1000, 120, 100, 60, 0), None, 100, 200, 200, "DesiredWithinRange"),
    ("check that events were marked 'outdated' for two different policies in the behavior for up",
     events([8, 12, 9, 11], 120), [], 1, 1000, G(1000, 30, 100, 60, 0), None, 100, 200, 200, "DesiredWithinRange"),
    ("check 'outdated' flag for events for one behavior for down", [], events([8, 12, 9, 11], 120), 1, 1000, None,
     G(1000, 60, 0, 0, 300), 100, 5, 5, "DesiredWithinRange"),
    ("check that events were not marked 'outdated' for two different policies in the behavior for down", [],
     events([8, 12, 9, 11], 120), 1, 1000, None, G(1000, 120, 100, 60, 300), 100, 5, 5, "DesiredWithinRange"),
    ("check that events were marked 'outdated' for two different policies in the behavior for down", [],
     events([8, 12, 9, 11], 120), 1, 1000, None, G(1000, 30, 100, 60, 300), 100, 5, 5, "DesiredWithinRange"),
]


@pytest.mark.parametrize("case", RULE_CASES, ids=[c[0] for c in RULE_CASES])
def test_scaling_with_rules(case: tuple[Any, ...]) -> None:
    """TestScalingWithRules (convertDesiredReplicasWithBehaviorRate)."""
    _name, up_events, down_events, lo, hi, up, down, current, desired, expected, condition = case
    c = controller(scale_up_events={"": list(up_events)}, scale_down_events={"": list(down_events)})
    arg = h.NormalizationArg("", h.default_scale_up_rules(up), h.default_scale_down_rules(down), lo, hi, current,
                             desired)
    assert c.convert_desired_replicas_with_behavior_rate(arg)[:2] == (expected, condition)


E = h.ScaleEvent
STORE_CASES: list[tuple[Any, ...]] = [
    # (name, change, previous events, expected events (change, outdated), rules, expected change in the last 60 s)
    ("empty entries with default behavior", 5, [], [], None, 0),
    ("empty entries with two-policy-behavior", 5, [], [(5, False)], G(10, 60, 100, 60, 0), 0),
    ("one outdated entry to be kept untouched without behavior", 5, [E(7, NOW - 61)], [(7, False)], None, 0),
    ("one outdated entry to be replaced with behavior", 5, [E(7, NOW - 61)], [(5, False)], G(10, 60, 100, 60, 0), 0),
    ("one actual entry to be not touched with behavior", 5, [E(7, NOW - 58)], [(7, False), (5, False)],
     G(10, 60, 100, 60, 0), 7),
    ("two entries, one of them to be replaced", 5, [E(7, NOW - 61), E(6, NOW - 59)], [(5, False), (6, False)],
     G(10, 60, 0, 0, 0), 6),
    ("replace one entry, use policies with different periods", 5,
     [E(8, NOW - 29), E(6, NOW - 59), E(7, NOW - 61), E(9, NOW - 61)],
     [(8, False), (6, False), (7, True), (5, False)], G(10, 60, 100, 30, 0), 14),
    ("two entries, both actual", 5, [E(7, NOW - 58), E(6, NOW - 59)], [(7, False), (6, False), (5, False)],
     G(10, 120, 100, 30, 0), 13),
]


@pytest.mark.parametrize("case", STORE_CASES, ids=[c[0] for c in STORE_CASES])
def test_store_scale_events(case: tuple[Any, ...]) -> None:
    """TestStoreScaleEvents: outdated events are reused, kept ones count for the periods."""
    _name, change, previous, expected, rules, expected_change = case
    for direction in ("up", "down"):
        stored = [dataclasses.replace(e) for e in previous]
        attr = f"scale_{direction}_events"
        c = controller(**{attr: {"": stored}})
        assert h.replicas_change_per_period(60, stored, NOW) == expected_change
        behavior = None if rules is None else {("scaleUp" if direction == "up" else "scaleDown"): rules}
        c.store_scale_event(behavior, "", 10, 10 + change if direction == "up" else 10 - change)
        assert [(e.change, e.outdated) for e in getattr(c, attr)[""]] == expected, direction


NB_CASES: list[tuple[Any, ...]] = [
    # (name, recommendations, current, prenormalized, expected, expected stored, up window, down window)
    ("empty recommendations for scaling down", [], 100, 5, 5, [5], 0, 0),
    ("simple scale down stabilization", [R(4, NOW - 120), R(5, NOW - 60)], 100, 3, 5, [4, 5, 3], 0, 180),
    ("simple scale up stabilization", [R(4, NOW - 120), R(5, NOW - 60)], 1, 7, 4, [4, 5, 7], 300, 0),
    ("no scale down stabilization", [R(1, NOW - 120), R(2, NOW - 60)], 100, 3, 3, [1, 2, 3], 300, 0),
    ("no scale up stabilization", [R(4, NOW - 120), R(5, NOW - 60)], 1, 3, 3, [4, 5, 3], 0, 300),
    ("no scale down stabilization, reuse recommendation element", [R(10, NOW - 600), R(9, NOW - 540)], 100, 3, 3,
     [10, 3], 0, 0),
    ("no scale up stabilization, reuse recommendation element", [R(10, NOW - 600), R(9, NOW - 540)], 1, 100, 100,
     [10, 100], 0, 0),
    ("scale down stabilization, reuse one of obsolete recommendation element",
     [R(10, NOW - 600), R(4, NOW - 60), R(5, NOW - 120), R(9, NOW - 540)], 100, 3, 5, [10, 4, 5, 3], 0, 180),
    ("scale up stabilization, reuse one of obsolete recommendation element",
     [R(10, NOW - 6000), R(6, NOW - 60), R(5, NOW - 120), R(9, NOW - 180)], 1, 100, 5, [100, 6, 5, 9], 300, 0),
]


@pytest.mark.parametrize("case", NB_CASES, ids=[c[0] for c in NB_CASES])
def test_normalize_desired_replicas_with_behavior(case: tuple[Any, ...]) -> None:
    _name, recs, current, prenormalized, expected, stored, up_window, down_window = case
    c = controller(recommendations={"": [dataclasses.replace(r) for r in recs]})
    arg = h.NormalizationArg("", {"stabilizationWindowSeconds": up_window},
                             {"stabilizationWindowSeconds": down_window}, 0, 0, current, prenormalized)
    assert c.stabilize_recommendation_with_behaviors(arg)[0] == expected
    assert [r.replicas for r in c.recommendations[""]] == stored


def test_conditions_keep_their_transition_time_until_the_status_changes() -> None:
    first = h.set_condition([], "AbleToScale", "True", "SucceededGetScale", "m1", 100.0)
    again = h.set_condition(first, "AbleToScale", "True", "SucceededRescale", "m2", 200.0)
    assert again[0]["lastTransitionTime"] == first[0]["lastTransitionTime"] == ts(100.0)
    assert again[0]["reason"] == "SucceededRescale"
    flipped = h.set_condition(again, "AbleToScale", "False", "FailedGetScale", "m3", 300.0)
    assert flipped[0]["lastTransitionTime"] == ts(300.0)
