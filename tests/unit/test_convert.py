"""autoscaling/v1 <-> v2 HorizontalPodAutoscaler conversion, as upstream does it."""
from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from minik8s.api import errors
from minik8s.api.kinds import hpa_conversion


REF = {"kind": "Deployment", "name": "web", "apiVersion": "apps/v1"}


def cpu(n: int) -> dict[str, Any]:
    return {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization",
                                                                      "averageUtilization": n}}}


def v1_hpa(**spec: Any) -> dict[str, Any]:
    return {"kind": "HorizontalPodAutoscaler", "apiVersion": "autoscaling/v1",
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {"scaleTargetRef": dict(REF), **spec}}


def test_kubectl_autoscale_body_becomes_a_cpu_metric() -> None:
    v1 = v1_hpa(minReplicas=1, maxReplicas=5, targetCPUUtilizationPercentage=50)
    assert hpa_conversion.hpa_v1_to_v2(v1) == {
        "kind": "HorizontalPodAutoscaler", "apiVersion": "autoscaling/v2",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"scaleTargetRef": REF, "minReplicas": 1, "maxReplicas": 5, "metrics": [cpu(50)]},
        "status": {"desiredReplicas": 0},
    }


def test_no_cpu_target_gets_the_explicit_80_percent_default() -> None:
    v2 = hpa_conversion.hpa_v1_to_v2(v1_hpa(maxReplicas=3))
    assert v2["spec"]["metrics"] == [cpu(80)]
    assert "minReplicas" not in v2["spec"]  # defaulting is not conversion's job


def test_v2_cpu_only_to_v1_needs_no_annotations() -> None:
    v2 = {"kind": "HorizontalPodAutoscaler", "apiVersion": "autoscaling/v2",
          "metadata": {"name": "web"},
          "spec": {"scaleTargetRef": REF, "minReplicas": 2, "maxReplicas": 4, "metrics": [cpu(60)]},
          "status": {"currentReplicas": 2, "desiredReplicas": 3, "currentMetrics": [
              {"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 42}}}]}}
    v1 = hpa_conversion.hpa_v2_to_v1(v2)
    assert v1["apiVersion"] == "autoscaling/v1"
    assert v1["spec"] == {"scaleTargetRef": REF, "minReplicas": 2, "maxReplicas": 4,
                          "targetCPUUtilizationPercentage": 60}
    assert v1["status"] == {"currentReplicas": 2, "desiredReplicas": 3,
                            "currentCPUUtilizationPercentage": 42}
    # The current metrics always ride along: v1's percentage loses the raw value.
    assert set(v1["metadata"]["annotations"]) == {hpa_conversion.METRIC_STATUSES_ANNOTATION}
    assert v2["apiVersion"] == "autoscaling/v2"  # the input is untouched


def test_fresh_v2_object_reads_as_v1_with_zero_replica_counts() -> None:
    v2 = {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
          "metadata": {"name": "web"}, "spec": {"scaleTargetRef": REF, "maxReplicas": 5,
                                                "metrics": [cpu(50)]}}
    assert hpa_conversion.hpa_v2_to_v1(v2) == {
        "apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "web"},
        "spec": {"scaleTargetRef": REF, "maxReplicas": 5, "targetCPUUtilizationPercentage": 50},
        "status": {"currentReplicas": 0, "desiredReplicas": 0},
    }


FULL_V2: dict[str, Any] = {
    "kind": "HorizontalPodAutoscaler", "apiVersion": "autoscaling/v2",
    "metadata": {"name": "web", "namespace": "default", "annotations": {"team": "a"}},
    "spec": {
        "scaleTargetRef": REF, "minReplicas": 1, "maxReplicas": 10,
        "metrics": [
            {"type": "Resource", "resource": {"name": "memory", "target": {
                "type": "AverageValue", "averageValue": "500Mi"}}},
            cpu(70),
            {"type": "Pods", "pods": {"metric": {"name": "rps"}, "target": {
                "type": "AverageValue", "averageValue": "100"}}},
            {"type": "Object", "object": {
                "describedObject": {"kind": "Ingress", "name": "main", "apiVersion": "networking.k8s.io/v1"},
                "metric": {"name": "hits", "selector": {"matchLabels": {"a": "b"}}},
                "target": {"type": "Value", "value": "10k"}}},
            {"type": "External", "external": {"metric": {"name": "queue"}, "target": {
                "type": "AverageValue", "averageValue": "30"}}},
            {"type": "ContainerResource", "containerResource": {
                "name": "cpu", "container": "app", "target": {"type": "Utilization", "averageUtilization": 90}}},
        ],
        "behavior": {
            "scaleDown": {"stabilizationWindowSeconds": 300, "selectPolicy": "Max",
                          "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}]},
            "scaleUp": {"policies": [{"type": "Pods", "value": 4, "periodSeconds": 60}]},
        },
    },
    "status": {
        "observedGeneration": 3, "lastScaleTime": "2024-01-01T00:00:00Z",
        "currentReplicas": 2, "desiredReplicas": 2,
        "currentMetrics": [
            {"type": "Resource", "resource": {"name": "cpu", "current": {
                "averageValue": "120m", "averageUtilization": 40}}},
            {"type": "Pods", "pods": {"metric": {"name": "rps"}, "current": {"averageValue": "80"}}},
            # v1's ExternalMetricStatus.currentValue is not a pointer, so "0" comes back anyway.
            {"type": "External", "external": {"metric": {"name": "queue"}, "current": {
                "value": "0", "averageValue": "12"}}},
        ],
        "conditions": [{"type": "AbleToScale", "status": "True",
                        "lastTransitionTime": "2024-01-01T00:00:00Z", "reason": "ReadyForNewScale",
                        "message": "recommended size matches current size"}],
    },
}


def test_v2_round_trips_through_v1_losing_nothing() -> None:
    v1 = hpa_conversion.hpa_v2_to_v1(FULL_V2)
    assert v1["spec"]["targetCPUUtilizationPercentage"] == 70
    assert v1["status"]["currentCPUUtilizationPercentage"] == 40
    annotations = v1["metadata"]["annotations"]
    assert annotations["team"] == "a"
    assert set(annotations) == {"team", *hpa_conversion.ROUND_TRIP_ANNOTATIONS}

    back = hpa_conversion.hpa_v1_to_v2(v1)
    # The CPU metric that became targetCPUUtilizationPercentage comes back last.
    metrics = FULL_V2["spec"]["metrics"]
    expected = copy.deepcopy(FULL_V2)
    expected["spec"]["metrics"] = [m for m in metrics if m != cpu(70)] + [cpu(70)]
    # Everything else, status included, is back as it was; the round-trip annotations are gone.
    assert back == expected


def test_v1_annotations_use_the_v1_metric_shapes() -> None:
    v1 = hpa_conversion.hpa_v2_to_v1(FULL_V2)
    others = json.loads(v1["metadata"]["annotations"][hpa_conversion.METRIC_SPECS_ANNOTATION])
    assert others == [
        {"type": "Resource", "resource": {"name": "memory", "targetAverageValue": "500Mi"}},
        {"type": "Pods", "pods": {"metricName": "rps", "targetAverageValue": "100"}},
        {"type": "Object", "object": {
            "target": {"kind": "Ingress", "name": "main", "apiVersion": "networking.k8s.io/v1"},
            "metricName": "hits", "targetValue": "10k", "selector": {"matchLabels": {"a": "b"}}}},
        {"type": "External", "external": {"metricName": "queue", "targetAverageValue": "30"}},
        {"type": "ContainerResource", "containerResource": {
            "name": "cpu", "targetAverageUtilization": 90, "container": "app"}},
    ]
    current = json.loads(v1["metadata"]["annotations"][hpa_conversion.METRIC_STATUSES_ANNOTATION])
    assert current[0] == {"type": "Resource", "resource": {
        "name": "cpu", "currentAverageUtilization": 40, "currentAverageValue": "120m"}}
    behavior = json.loads(v1["metadata"]["annotations"][hpa_conversion.BEHAVIOR_ANNOTATION])
    # Upstream marshals its internal Go type: Go field names, nil as null.
    assert behavior == {
        "ScaleUp": {"StabilizationWindowSeconds": None, "SelectPolicy": None,
                    "Policies": [{"Type": "Pods", "Value": 4, "PeriodSeconds": 60}]},
        "ScaleDown": {"StabilizationWindowSeconds": 300, "SelectPolicy": "Max",
                      "Policies": [{"Type": "Percent", "Value": 100, "PeriodSeconds": 15}]},
    }


def test_v1_with_annotations_from_a_real_apiserver() -> None:
    v1 = v1_hpa(maxReplicas=5, targetCPUUtilizationPercentage=50)
    v1["metadata"]["annotations"] = {
        hpa_conversion.METRIC_SPECS_ANNOTATION:
            '[{"type":"Resource","resource":{"name":"memory","targetAverageUtilization":60}}]',
        hpa_conversion.BEHAVIOR_ANNOTATION:
            '{"ScaleUp":null,"ScaleDown":{"StabilizationWindowSeconds":60,"SelectPolicy":null,'
            '"Policies":null}}',
        hpa_conversion.CONDITIONS_ANNOTATION: "[]",
        "keep": "me",
    }
    v1["status"] = {"currentReplicas": 1, "desiredReplicas": 1, "currentCPUUtilizationPercentage": 30}
    v2 = hpa_conversion.hpa_v1_to_v2(v1)
    assert v2["metadata"]["annotations"] == {"keep": "me"}
    assert v2["spec"]["metrics"] == [
        {"type": "Resource", "resource": {"name": "memory", "target": {
            "type": "Utilization", "averageUtilization": 60}}},
        cpu(50),
    ]
    assert v2["spec"]["behavior"] == {"scaleDown": {"stabilizationWindowSeconds": 60}}
    assert v2["status"] == {"currentReplicas": 1, "desiredReplicas": 1, "currentMetrics": [
        {"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 30}}}]}


def test_stale_round_trip_annotations_never_reach_v2_or_leak_into_v1() -> None:
    v2 = copy.deepcopy(FULL_V2)
    v2["spec"]["metrics"] = [cpu(50)]
    del v2["spec"]["behavior"]
    v2["status"] = {"desiredReplicas": 1}
    v2["metadata"]["annotations"][hpa_conversion.METRIC_SPECS_ANNOTATION] = "stale"
    v1 = hpa_conversion.hpa_v2_to_v1(v2)
    assert v1["metadata"]["annotations"] == {"team": "a"}


def test_malformed_behavior_is_ignored_but_malformed_metrics_are_an_error() -> None:
    v1 = v1_hpa(maxReplicas=2)
    v1["metadata"]["annotations"] = {hpa_conversion.BEHAVIOR_ANNOTATION: "{not json"}
    assert "behavior" not in hpa_conversion.hpa_v1_to_v2(v1)["spec"]
    v1["metadata"]["annotations"] = {hpa_conversion.METRIC_SPECS_ANNOTATION: '{"type":"Pods"}'}
    with pytest.raises(errors.BadRequest):
        hpa_conversion.hpa_v1_to_v2(v1)
    v1["metadata"]["annotations"] = {hpa_conversion.CONDITIONS_ANNOTATION: "nope"}
    with pytest.raises(errors.BadRequest):
        hpa_conversion.hpa_v1_to_v2(v1)


def test_first_cpu_metric_decides_even_without_utilization() -> None:
    v2 = {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
          "spec": {"scaleTargetRef": REF, "maxReplicas": 3, "metrics": [
              {"type": "Resource", "resource": {"name": "cpu", "target": {
                  "type": "AverageValue", "averageValue": "200m"}}},
              cpu(50)]}}
    v1 = hpa_conversion.hpa_v2_to_v1(v2)
    assert "targetCPUUtilizationPercentage" not in v1["spec"]
    assert json.loads(v1["metadata"]["annotations"][hpa_conversion.METRIC_SPECS_ANNOTATION]) == [
        {"type": "Resource", "resource": {"name": "cpu", "targetAverageValue": "200m"}}]
