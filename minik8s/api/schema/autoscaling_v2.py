"""autoscaling/v2: HorizontalPodAutoscaler with metrics and behavior (the stored version).

Field numbers are those of k8s.io/api/autoscaling/v2/generated.proto; descriptions are
minik8s's own.
"""
from __future__ import annotations

from minik8s.api.schema import dsl
from minik8s.api.schema import meta_v1

CROSS_VERSION_OBJECT_REFERENCE = dsl.Message(
    "io.k8s.api.autoscaling.v2.CrossVersionObjectReference",
    "Identifies an object by kind, name and API version (in the autoscaler's namespace).",
    (
        dsl.Field("kind", 1, dsl.STRING, "The kind of the object, such as Deployment.", required=True),
        dsl.Field("name", 2, dsl.STRING, "The name of the object.", required=True),
        dsl.Field("apiVersion", 3, dsl.STRING, "The API version of the object, such as apps/v1."),
    ),
)


METRIC_TARGET = dsl.Message(
    "io.k8s.api.autoscaling.v2.MetricTarget",
    "The value a metric should have: an absolute value, an average per pod, or an average utilization.",
    (
        dsl.Field("type", 1, dsl.STRING, "Utilization, Value or AverageValue: which of the other fields is the "
                  "target.", required=True),
        dsl.Field("value", 2, dsl.QUANTITY, "The target value of the metric.", pointer=True),
        dsl.Field("averageValue", 3, dsl.QUANTITY, "The target value of the metric averaged over the relevant pods.",
                  pointer=True),
        dsl.Field("averageUtilization", 4, dsl.INT32, "The target average of a resource metric, as a percentage of "
                  "the pods' requests (Resource and ContainerResource metrics only).", pointer=True),
    ),
)


METRIC_IDENTIFIER = dsl.Message(
    "io.k8s.api.autoscaling.v2.MetricIdentifier",
    "Names a metric, optionally narrowed by a label selector.",
    (
        dsl.Field("name", 1, dsl.STRING, "The metric's name.", required=True),
        dsl.Field("selector", 2, meta_v1.LABEL_SELECTOR, "Labels passed to the metrics server to narrow the metric; "
                  "unset selects by name only.", pointer=True),
    ),
)


OBJECT_METRIC_SOURCE = dsl.Message(
    "io.k8s.api.autoscaling.v2.ObjectMetricSource",
    "Scales on a metric of one other object (such as requests per second on an Ingress).",
    (
        dsl.Field("describedObject", 1, CROSS_VERSION_OBJECT_REFERENCE, "The object the metric describes.",
                  required=True),
        dsl.Field("target", 2, METRIC_TARGET, "The value to aim for.", required=True),
        dsl.Field("metric", 3, METRIC_IDENTIFIER, "The metric.", required=True),
    ),
)


PODS_METRIC_SOURCE = dsl.Message(
    "io.k8s.api.autoscaling.v2.PodsMetricSource",
    "Scales on a metric of each pod of the target, averaged over the pods (such as transactions per second).",
    (
        dsl.Field("metric", 1, METRIC_IDENTIFIER, "The metric.", required=True),
        dsl.Field("target", 2, METRIC_TARGET, "The value to aim for; only AverageValue is supported.", required=True),
    ),
)


RESOURCE_METRIC_SOURCE = dsl.Message(
    "io.k8s.api.autoscaling.v2.ResourceMetricSource",
    "Scales on a resource (cpu or memory) of the target's pods, as their requests and limits count it.",
    (
        dsl.Field("name", 1, dsl.STRING, "The resource, such as cpu or memory.", required=True),
        dsl.Field("target", 2, METRIC_TARGET, "The value to aim for.", required=True),
    ),
)


CONTAINER_RESOURCE_METRIC_SOURCE = dsl.Message(
    "io.k8s.api.autoscaling.v2.ContainerResourceMetricSource",
    "Scales on a resource (cpu or memory) of one container of each of the target's pods.",
    (
        dsl.Field("name", 1, dsl.STRING, "The resource, such as cpu or memory.", required=True),
        dsl.Field("target", 2, METRIC_TARGET, "The value to aim for.", required=True),
        dsl.Field("container", 3, dsl.STRING, "The name of the container in the target's pods.", required=True),
    ),
)


EXTERNAL_METRIC_SOURCE = dsl.Message(
    "io.k8s.api.autoscaling.v2.ExternalMetricSource",
    "Scales on a metric from outside the cluster (such as a queue's length).",
    (
        dsl.Field("metric", 1, METRIC_IDENTIFIER, "The metric.", required=True),
        dsl.Field("target", 2, METRIC_TARGET, "The value to aim for.", required=True),
    ),
)


METRIC_SPEC = dsl.Message(
    "io.k8s.api.autoscaling.v2.MetricSpec",
    "One metric to scale on; set type and the one field it names.",
    (
        dsl.Field("type", 1, dsl.STRING, "Object, Pods, Resource, ContainerResource or External.", required=True),
        dsl.Field("object", 2, OBJECT_METRIC_SOURCE, "A metric of another object.", pointer=True),
        dsl.Field("pods", 3, PODS_METRIC_SOURCE, "A metric of each pod of the target, averaged.", pointer=True),
        dsl.Field("resource", 4, RESOURCE_METRIC_SOURCE, "A resource metric (cpu, memory) of the target's pods.",
                  pointer=True),
        dsl.Field("containerResource", 7, CONTAINER_RESOURCE_METRIC_SOURCE, "A resource metric of one container of "
                  "the target's pods.", pointer=True),
        dsl.Field("external", 5, EXTERNAL_METRIC_SOURCE, "A metric from outside the cluster.", pointer=True),
    ),
)


HPA_SCALING_POLICY = dsl.Message(
    "io.k8s.api.autoscaling.v2.HPAScalingPolicy",
    "One limit on how fast the autoscaler may change the replica count.",
    (
        dsl.Field("type", 1, dsl.STRING, "Pods (a number of pods) or Percent (a share of the current replicas).",
                  required=True),
        dsl.Field("value", 2, dsl.INT32, "How many pods, or what percentage, may be added or removed per period; "
                  "more than 0.", required=True),
        dsl.Field("periodSeconds", 3, dsl.INT32, "The length of the period the policy is measured over, 1 to 1800 "
                  "seconds.", required=True),
    ),
)


HPA_SCALING_RULES = dsl.Message(
    "io.k8s.api.autoscaling.v2.HPAScalingRules",
    "How the autoscaler scales in one direction: policies, how to pick among them, and a stabilization window.",
    (
        dsl.Field("stabilizationWindowSeconds", 3, dsl.INT32, "Seconds of past recommendations to consider, which "
                  "smooths flapping (0 to 3600). Defaults to 0 for scaling up and 300 for scaling down.",
                  pointer=True),
        dsl.Field("selectPolicy", 1, dsl.STRING, "Which policy wins: Max (the default), Min, or Disabled to turn "
                  "scaling in this direction off.", pointer=True),
        dsl.Field("policies", 2, HPA_SCALING_POLICY, "The limits that apply; with several, selectPolicy chooses.",
                  repeated=True, list_type="atomic"),
        dsl.Field("tolerance", 4, dsl.QUANTITY, "The relative gap between current and desired metric value under "
                  "which nothing changes, such as 0.05 for 5%. Defaults to the cluster's setting (10%).",
                  pointer=True),
    ),
)


HORIZONTAL_POD_AUTOSCALER_BEHAVIOR = dsl.Message(
    "io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerBehavior",
    "How the autoscaler scales up and down.",
    (
        dsl.Field("scaleUp", 1, HPA_SCALING_RULES, "Rules for scaling up. Defaults to the larger of 4 pods or 100% "
                  "per 15 seconds, with no stabilization.", pointer=True),
        dsl.Field("scaleDown", 2, HPA_SCALING_RULES, "Rules for scaling down. Defaults to any change per 15 seconds "
                  "after a 300 second stabilization window.", pointer=True),
    ),
)


HORIZONTAL_POD_AUTOSCALER_SPEC = dsl.Message(
    "io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerSpec",
    "The desired behaviour of a horizontal pod autoscaler.",
    (
        dsl.Field("scaleTargetRef", 1, CROSS_VERSION_OBJECT_REFERENCE, "The object whose scale subresource the "
                  "autoscaler drives and whose pods give the metrics.", required=True),
        dsl.Field("minReplicas", 2, dsl.INT32, "The fewest replicas to scale down to. Defaults to 1; 0 is allowed "
                  "only with object or external metrics.", pointer=True),
        dsl.Field("maxReplicas", 3, dsl.INT32, "The most replicas to scale up to; at least minReplicas.",
                  required=True),
        dsl.Field("metrics", 4, METRIC_SPEC, "The metrics to scale on; the largest replica count any of them asks "
                  "for wins. Defaults to 80% average CPU utilization.", repeated=True, list_type="atomic"),
        dsl.Field("behavior", 5, HORIZONTAL_POD_AUTOSCALER_BEHAVIOR, "How fast to scale up and down. Defaults apply "
                  "when unset.", pointer=True),
    ),
)


METRIC_VALUE_STATUS = dsl.Message(
    "io.k8s.api.autoscaling.v2.MetricValueStatus",
    "The current value of a metric.",
    (
        dsl.Field("value", 1, dsl.QUANTITY, "The current value of the metric.", pointer=True),
        dsl.Field("averageValue", 2, dsl.QUANTITY, "The current value of the metric averaged over the relevant pods.",
                  pointer=True),
        dsl.Field("averageUtilization", 3, dsl.INT32, "The current average of a resource metric, as a percentage of "
                  "the pods' requests.", pointer=True),
    ),
)


OBJECT_METRIC_STATUS = dsl.Message(
    "io.k8s.api.autoscaling.v2.ObjectMetricStatus",
    "The current value of a metric of another object.",
    (
        dsl.Field("metric", 1, METRIC_IDENTIFIER, "The metric.", required=True),
        dsl.Field("current", 2, METRIC_VALUE_STATUS, "Its current value.", required=True),
        dsl.Field("describedObject", 3, CROSS_VERSION_OBJECT_REFERENCE, "The object the metric describes.",
                  required=True),
    ),
)


PODS_METRIC_STATUS = dsl.Message(
    "io.k8s.api.autoscaling.v2.PodsMetricStatus",
    "The current value of a per-pod metric, averaged over the target's pods.",
    (
        dsl.Field("metric", 1, METRIC_IDENTIFIER, "The metric.", required=True),
        dsl.Field("current", 2, METRIC_VALUE_STATUS, "Its current value.", required=True),
    ),
)


RESOURCE_METRIC_STATUS = dsl.Message(
    "io.k8s.api.autoscaling.v2.ResourceMetricStatus",
    "The current value of a resource metric of the target's pods.",
    (
        dsl.Field("name", 1, dsl.STRING, "The resource, such as cpu or memory.", required=True),
        dsl.Field("current", 2, METRIC_VALUE_STATUS, "Its current value.", required=True),
    ),
)


CONTAINER_RESOURCE_METRIC_STATUS = dsl.Message(
    "io.k8s.api.autoscaling.v2.ContainerResourceMetricStatus",
    "The current value of a resource metric of one container of the target's pods.",
    (
        dsl.Field("name", 1, dsl.STRING, "The resource, such as cpu or memory.", required=True),
        dsl.Field("current", 2, METRIC_VALUE_STATUS, "Its current value.", required=True),
        dsl.Field("container", 3, dsl.STRING, "The name of the container.", required=True),
    ),
)


EXTERNAL_METRIC_STATUS = dsl.Message(
    "io.k8s.api.autoscaling.v2.ExternalMetricStatus",
    "The current value of a metric from outside the cluster.",
    (
        dsl.Field("metric", 1, METRIC_IDENTIFIER, "The metric.", required=True),
        dsl.Field("current", 2, METRIC_VALUE_STATUS, "Its current value.", required=True),
    ),
)


METRIC_STATUS = dsl.Message(
    "io.k8s.api.autoscaling.v2.MetricStatus",
    "The last reading of one metric; type says which field is set.",
    (
        dsl.Field("type", 1, dsl.STRING, "Object, Pods, Resource, ContainerResource or External.", required=True),
        dsl.Field("object", 2, OBJECT_METRIC_STATUS, "The reading of another object's metric.", pointer=True),
        dsl.Field("pods", 3, PODS_METRIC_STATUS, "The reading of a per-pod metric.", pointer=True),
        dsl.Field("resource", 4, RESOURCE_METRIC_STATUS, "The reading of a resource metric.", pointer=True),
        dsl.Field("containerResource", 7, CONTAINER_RESOURCE_METRIC_STATUS, "The reading of a container's resource "
                  "metric.", pointer=True),
        dsl.Field("external", 5, EXTERNAL_METRIC_STATUS, "The reading of an external metric.", pointer=True),
    ),
)


HORIZONTAL_POD_AUTOSCALER_CONDITION = dsl.Message(
    "io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerCondition",
    "The state of one aspect of a horizontal pod autoscaler.",
    (
        dsl.Field("type", 1, dsl.STRING, "AbleToScale, ScalingActive or ScalingLimited.", required=True),
        dsl.Field("status", 2, dsl.STRING, "True, False or Unknown.", required=True),
        dsl.Field("lastTransitionTime", 3, dsl.TIME, "When status last changed."),
        dsl.Field("reason", 4, dsl.STRING, "A machine-readable reason for the last transition."),
        dsl.Field("message", 5, dsl.STRING, "A human-readable explanation of the last transition."),
        dsl.Field("observedGeneration", 6, dsl.INT64, "The metadata.generation the condition was computed for.",
                  pointer=True),
    ),
)


HORIZONTAL_POD_AUTOSCALER_STATUS = dsl.Message(
    "io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerStatus",
    "The observed state of a horizontal pod autoscaler.",
    (
        dsl.Field("observedGeneration", 1, dsl.INT64, "The metadata.generation the autoscaler last acted on.",
                  pointer=True),
        dsl.Field("lastScaleTime", 2, dsl.TIME, "When the autoscaler last changed the replica count.", pointer=True),
        dsl.Field("currentReplicas", 3, dsl.INT32, "The replica count the autoscaler last saw."),
        dsl.Field("desiredReplicas", 4, dsl.INT32, "The replica count the autoscaler last computed.", required=True),
        dsl.Field("currentMetrics", 5, METRIC_STATUS, "The last readings of the metrics scaled on.", repeated=True,
                  list_type="atomic"),
        dsl.Field("conditions", 6, HORIZONTAL_POD_AUTOSCALER_CONDITION, "Whether the autoscaler can scale, and "
                  "whether it is limited.", repeated=True, patch_strategy="merge", merge_key="type", list_type="map",
                  list_map_keys=("type",)),
    ),
)


HORIZONTAL_POD_AUTOSCALER = dsl.kind(
    "io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler",
    "Scales a workload between minReplicas and maxReplicas to keep its metrics near their targets.",
    dsl.GVK("autoscaling", "v2", "HorizontalPodAutoscaler"),
    (
        dsl.Field("metadata", 1, meta_v1.OBJECT_META, "Standard object metadata."),
        dsl.Field("spec", 2, HORIZONTAL_POD_AUTOSCALER_SPEC, "The desired behaviour: target, bounds, metrics and "
                  "scaling rules."),
        dsl.Field("status", 3, HORIZONTAL_POD_AUTOSCALER_STATUS, "The observed state, written by the autoscaler. "
                  "Read-only."),
    ),
)


HORIZONTAL_POD_AUTOSCALER_LIST = meta_v1.list_of(HORIZONTAL_POD_AUTOSCALER)
