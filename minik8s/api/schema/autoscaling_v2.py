"""autoscaling/v2: HorizontalPodAutoscaler with metrics and behavior (the stored version).

Field numbers are those of k8s.io/api/autoscaling/v2/generated.proto; descriptions are
minik8s's own.
"""
from __future__ import annotations

from minik8s.api.schema import dsl
from minik8s.api.schema import meta_v1

CROSS_VERSION_OBJECT_REFERENCE = dsl.Message(
    "io.k8s.api.autoscaling.v2.CrossVersionObjectReference",
    "TODO",
    (
        dsl.Field("kind", 1, dsl.STRING, "TODO", required=True),
        dsl.Field("name", 2, dsl.STRING, "TODO", required=True),
        dsl.Field("apiVersion", 3, dsl.STRING, "TODO"),
    ),
)


METRIC_TARGET = dsl.Message(
    "io.k8s.api.autoscaling.v2.MetricTarget",
    "TODO",
    (
        dsl.Field("type", 1, dsl.STRING, "TODO", required=True),
        dsl.Field("value", 2, dsl.QUANTITY, "TODO", pointer=True),
        dsl.Field("averageValue", 3, dsl.QUANTITY, "TODO", pointer=True),
        dsl.Field("averageUtilization", 4, dsl.INT32, "TODO", pointer=True),
    ),
)


METRIC_IDENTIFIER = dsl.Message(
    "io.k8s.api.autoscaling.v2.MetricIdentifier",
    "TODO",
    (
        dsl.Field("name", 1, dsl.STRING, "TODO", required=True),
        dsl.Field("selector", 2, meta_v1.LABEL_SELECTOR, "TODO", pointer=True),
    ),
)


OBJECT_METRIC_SOURCE = dsl.Message(
    "io.k8s.api.autoscaling.v2.ObjectMetricSource",
    "TODO",
    (
        dsl.Field("describedObject", 1, CROSS_VERSION_OBJECT_REFERENCE, "TODO", required=True),
        dsl.Field("target", 2, METRIC_TARGET, "TODO", required=True),
        dsl.Field("metric", 3, METRIC_IDENTIFIER, "TODO", required=True),
    ),
)


PODS_METRIC_SOURCE = dsl.Message(
    "io.k8s.api.autoscaling.v2.PodsMetricSource",
    "TODO",
    (
        dsl.Field("metric", 1, METRIC_IDENTIFIER, "TODO", required=True),
        dsl.Field("target", 2, METRIC_TARGET, "TODO", required=True),
    ),
)


RESOURCE_METRIC_SOURCE = dsl.Message(
    "io.k8s.api.autoscaling.v2.ResourceMetricSource",
    "TODO",
    (
        dsl.Field("name", 1, dsl.STRING, "TODO", required=True),
        dsl.Field("target", 2, METRIC_TARGET, "TODO", required=True),
    ),
)


CONTAINER_RESOURCE_METRIC_SOURCE = dsl.Message(
    "io.k8s.api.autoscaling.v2.ContainerResourceMetricSource",
    "TODO",
    (
        dsl.Field("name", 1, dsl.STRING, "TODO", required=True),
        dsl.Field("target", 2, METRIC_TARGET, "TODO", required=True),
        dsl.Field("container", 3, dsl.STRING, "TODO", required=True),
    ),
)


EXTERNAL_METRIC_SOURCE = dsl.Message(
    "io.k8s.api.autoscaling.v2.ExternalMetricSource",
    "TODO",
    (
        dsl.Field("metric", 1, METRIC_IDENTIFIER, "TODO", required=True),
        dsl.Field("target", 2, METRIC_TARGET, "TODO", required=True),
    ),
)


METRIC_SPEC = dsl.Message(
    "io.k8s.api.autoscaling.v2.MetricSpec",
    "TODO",
    (
        dsl.Field("type", 1, dsl.STRING, "TODO", required=True),
        dsl.Field("object", 2, OBJECT_METRIC_SOURCE, "TODO", pointer=True),
        dsl.Field("pods", 3, PODS_METRIC_SOURCE, "TODO", pointer=True),
        dsl.Field("resource", 4, RESOURCE_METRIC_SOURCE, "TODO", pointer=True),
        dsl.Field("containerResource", 7, CONTAINER_RESOURCE_METRIC_SOURCE, "TODO", pointer=True),
        dsl.Field("external", 5, EXTERNAL_METRIC_SOURCE, "TODO", pointer=True),
    ),
)


HPA_SCALING_POLICY = dsl.Message(
    "io.k8s.api.autoscaling.v2.HPAScalingPolicy",
    "TODO",
    (
        dsl.Field("type", 1, dsl.STRING, "TODO", required=True),
        dsl.Field("value", 2, dsl.INT32, "TODO", required=True),
        dsl.Field("periodSeconds", 3, dsl.INT32, "TODO", required=True),
    ),
)


HPA_SCALING_RULES = dsl.Message(
    "io.k8s.api.autoscaling.v2.HPAScalingRules",
    "TODO",
    (
        dsl.Field("stabilizationWindowSeconds", 3, dsl.INT32, "TODO", pointer=True),
        dsl.Field("selectPolicy", 1, dsl.STRING, "TODO", pointer=True),
        dsl.Field("policies", 2, HPA_SCALING_POLICY, "TODO", repeated=True, list_type="atomic"),
        dsl.Field("tolerance", 4, dsl.QUANTITY, "TODO", pointer=True),
    ),
)


HORIZONTAL_POD_AUTOSCALER_BEHAVIOR = dsl.Message(
    "io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerBehavior",
    "TODO",
    (
        dsl.Field("scaleUp", 1, HPA_SCALING_RULES, "TODO", pointer=True),
        dsl.Field("scaleDown", 2, HPA_SCALING_RULES, "TODO", pointer=True),
    ),
)


HORIZONTAL_POD_AUTOSCALER_SPEC = dsl.Message(
    "io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerSpec",
    "TODO",
    (
        dsl.Field("scaleTargetRef", 1, CROSS_VERSION_OBJECT_REFERENCE, "TODO", required=True),
        dsl.Field("minReplicas", 2, dsl.INT32, "TODO", pointer=True),
        dsl.Field("maxReplicas", 3, dsl.INT32, "TODO", required=True),
        dsl.Field("metrics", 4, METRIC_SPEC, "TODO", repeated=True, list_type="atomic"),
        dsl.Field("behavior", 5, HORIZONTAL_POD_AUTOSCALER_BEHAVIOR, "TODO", pointer=True),
    ),
)


METRIC_VALUE_STATUS = dsl.Message(
    "io.k8s.api.autoscaling.v2.MetricValueStatus",
    "TODO",
    (
        dsl.Field("value", 1, dsl.QUANTITY, "TODO", pointer=True),
        dsl.Field("averageValue", 2, dsl.QUANTITY, "TODO", pointer=True),
        dsl.Field("averageUtilization", 3, dsl.INT32, "TODO", pointer=True),
    ),
)


OBJECT_METRIC_STATUS = dsl.Message(
    "io.k8s.api.autoscaling.v2.ObjectMetricStatus",
    "TODO",
    (
        dsl.Field("metric", 1, METRIC_IDENTIFIER, "TODO", required=True),
        dsl.Field("current", 2, METRIC_VALUE_STATUS, "TODO", required=True),
        dsl.Field("describedObject", 3, CROSS_VERSION_OBJECT_REFERENCE, "TODO", required=True),
    ),
)


PODS_METRIC_STATUS = dsl.Message(
    "io.k8s.api.autoscaling.v2.PodsMetricStatus",
    "TODO",
    (
        dsl.Field("metric", 1, METRIC_IDENTIFIER, "TODO", required=True),
        dsl.Field("current", 2, METRIC_VALUE_STATUS, "TODO", required=True),
    ),
)


RESOURCE_METRIC_STATUS = dsl.Message(
    "io.k8s.api.autoscaling.v2.ResourceMetricStatus",
    "TODO",
    (
        dsl.Field("name", 1, dsl.STRING, "TODO", required=True),
        dsl.Field("current", 2, METRIC_VALUE_STATUS, "TODO", required=True),
    ),
)


CONTAINER_RESOURCE_METRIC_STATUS = dsl.Message(
    "io.k8s.api.autoscaling.v2.ContainerResourceMetricStatus",
    "TODO",
    (
        dsl.Field("name", 1, dsl.STRING, "TODO", required=True),
        dsl.Field("current", 2, METRIC_VALUE_STATUS, "TODO", required=True),
        dsl.Field("container", 3, dsl.STRING, "TODO", required=True),
    ),
)


EXTERNAL_METRIC_STATUS = dsl.Message(
    "io.k8s.api.autoscaling.v2.ExternalMetricStatus",
    "TODO",
    (
        dsl.Field("metric", 1, METRIC_IDENTIFIER, "TODO", required=True),
        dsl.Field("current", 2, METRIC_VALUE_STATUS, "TODO", required=True),
    ),
)


METRIC_STATUS = dsl.Message(
    "io.k8s.api.autoscaling.v2.MetricStatus",
    "TODO",
    (
        dsl.Field("type", 1, dsl.STRING, "TODO", required=True),
        dsl.Field("object", 2, OBJECT_METRIC_STATUS, "TODO", pointer=True),
        dsl.Field("pods", 3, PODS_METRIC_STATUS, "TODO", pointer=True),
        dsl.Field("resource", 4, RESOURCE_METRIC_STATUS, "TODO", pointer=True),
        dsl.Field("containerResource", 7, CONTAINER_RESOURCE_METRIC_STATUS, "TODO", pointer=True),
        dsl.Field("external", 5, EXTERNAL_METRIC_STATUS, "TODO", pointer=True),
    ),
)


HORIZONTAL_POD_AUTOSCALER_CONDITION = dsl.Message(
    "io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerCondition",
    "TODO",
    (
        dsl.Field("type", 1, dsl.STRING, "TODO", required=True),
        dsl.Field("status", 2, dsl.STRING, "TODO", required=True),
        dsl.Field("lastTransitionTime", 3, dsl.TIME, "TODO"),
        dsl.Field("reason", 4, dsl.STRING, "TODO"),
        dsl.Field("message", 5, dsl.STRING, "TODO"),
        dsl.Field("observedGeneration", 6, dsl.INT64, "TODO", pointer=True),
    ),
)


HORIZONTAL_POD_AUTOSCALER_STATUS = dsl.Message(
    "io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerStatus",
    "TODO",
    (
        dsl.Field("observedGeneration", 1, dsl.INT64, "TODO", pointer=True),
        dsl.Field("lastScaleTime", 2, dsl.TIME, "TODO", pointer=True),
        dsl.Field("currentReplicas", 3, dsl.INT32, "TODO"),
        dsl.Field("desiredReplicas", 4, dsl.INT32, "TODO", required=True),
        dsl.Field("currentMetrics", 5, METRIC_STATUS, "TODO", repeated=True, list_type="atomic"),
        dsl.Field("conditions", 6, HORIZONTAL_POD_AUTOSCALER_CONDITION, "TODO", repeated=True,
                  patch_strategy="merge", merge_key="type", list_type="map", list_map_keys=("type",)),
    ),
)


HORIZONTAL_POD_AUTOSCALER = dsl.kind(
    "io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler",
    "TODO",
    dsl.GVK("autoscaling", "v2", "HorizontalPodAutoscaler"),
    (
        dsl.Field("metadata", 1, meta_v1.OBJECT_META, "TODO"),
        dsl.Field("spec", 2, HORIZONTAL_POD_AUTOSCALER_SPEC, "TODO"),
        dsl.Field("status", 3, HORIZONTAL_POD_AUTOSCALER_STATUS, "TODO"),
    ),
)


HORIZONTAL_POD_AUTOSCALER_LIST = meta_v1.list_of(HORIZONTAL_POD_AUTOSCALER)
