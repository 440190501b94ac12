"""autoscaling/v1: HorizontalPodAutoscaler (CPU only) and Scale, the scale subresource's type.

Field numbers are those of k8s.io/api/autoscaling/v1/generated.proto; descriptions are
minik8s's own.
"""
from __future__ import annotations

from minik8s.api.schema import dsl
from minik8s.api.schema import meta_v1

SCALE_SPEC = dsl.Message(
    "io.k8s.api.autoscaling.v1.ScaleSpec",
    "The desired size of a scalable resource.",
    (
        dsl.Field("replicas", 1, dsl.INT32, "The desired number of replicas."),
    ),
)


SCALE_STATUS = dsl.Message(
    "io.k8s.api.autoscaling.v1.ScaleStatus",
    "The observed size of a scalable resource.",
    (
        dsl.Field("replicas", 1, dsl.INT32, "The number of replicas observed.", required=True),
        dsl.Field("selector", 2, dsl.STRING, "The label selector of the resource's pods, as a string (app=web,tier "
                  "in (fe))."),
    ),
)


SCALE = dsl.kind(
    "io.k8s.api.autoscaling.v1.Scale",
    "The scale subresource: the replica count of a scalable resource, as read and written by kubectl scale and "
    "autoscalers.",
    dsl.GVK("autoscaling", "v1", "Scale"),
    (
        dsl.Field("metadata", 1, meta_v1.OBJECT_META, "Standard object metadata of the scaled object."),
        dsl.Field("spec", 2, SCALE_SPEC, "The desired replica count."),
        dsl.Field("status", 3, SCALE_STATUS, "The observed replica count and pod selector. Read-only."),
    ),
)


CROSS_VERSION_OBJECT_REFERENCE = dsl.Message(
    "io.k8s.api.autoscaling.v1.CrossVersionObjectReference",
    "Identifies an object by kind, name and API version (in the autoscaler's namespace).",
    (
        dsl.Field("kind", 1, dsl.STRING, "The kind of the object, such as Deployment.", required=True),
        dsl.Field("name", 2, dsl.STRING, "The name of the object.", required=True),
        dsl.Field("apiVersion", 3, dsl.STRING, "The API version of the object, such as apps/v1."),
    ),
    map_type="atomic",
)


HORIZONTAL_POD_AUTOSCALER_SPEC = dsl.Message(
    "io.k8s.api.autoscaling.v1.HorizontalPodAutoscalerSpec",
    "The desired behaviour of a CPU-based horizontal pod autoscaler.",
    (
        dsl.Field("scaleTargetRef", 1, CROSS_VERSION_OBJECT_REFERENCE, "The object whose scale subresource the "
                  "autoscaler drives.", required=True),
        dsl.Field("minReplicas", 2, dsl.INT32, "The fewest replicas to scale down to. Defaults to 1.", pointer=True),
        dsl.Field("maxReplicas", 3, dsl.INT32, "The most replicas to scale up to; at least minReplicas.",
                  required=True),
        dsl.Field("targetCPUUtilizationPercentage", 4, dsl.INT32, "The average CPU usage to aim for, as a percentage "
                  "of the pods' CPU requests. Defaults to a policy chosen by the controller (80%).", pointer=True),
    ),
)


HORIZONTAL_POD_AUTOSCALER_STATUS = dsl.Message(
    "io.k8s.api.autoscaling.v1.HorizontalPodAutoscalerStatus",
    "The observed state of a CPU-based horizontal pod autoscaler.",
    (
        dsl.Field("observedGeneration", 1, dsl.INT64, "The metadata.generation the autoscaler last acted on.",
                  pointer=True),
        dsl.Field("lastScaleTime", 2, dsl.TIME, "When the autoscaler last changed the replica count.", pointer=True),
        dsl.Field("currentReplicas", 3, dsl.INT32, "The replica count the autoscaler last saw.", required=True),
        dsl.Field("desiredReplicas", 4, dsl.INT32, "The replica count the autoscaler last computed.", required=True),
        dsl.Field("currentCPUUtilizationPercentage", 5, dsl.INT32, "The average CPU usage of the pods, as a "
                  "percentage of their requests.", pointer=True),
    ),
)


HORIZONTAL_POD_AUTOSCALER = dsl.kind(
    "io.k8s.api.autoscaling.v1.HorizontalPodAutoscaler",
    "Scales a workload between minReplicas and maxReplicas to keep its average CPU usage near a target (v1: CPU "
    "only; see autoscaling/v2 for other metrics).",
    dsl.GVK("autoscaling", "v1", "HorizontalPodAutoscaler"),
    (
        dsl.Field("metadata", 1, meta_v1.OBJECT_META, "Standard object metadata."),
        dsl.Field("spec", 2, HORIZONTAL_POD_AUTOSCALER_SPEC, "The desired behaviour: target, bounds and CPU target."),
        dsl.Field("status", 3, HORIZONTAL_POD_AUTOSCALER_STATUS, "The observed state, written by the autoscaler. "
                  "Read-only."),
    ),
)


HORIZONTAL_POD_AUTOSCALER_LIST = meta_v1.list_of(HORIZONTAL_POD_AUTOSCALER)
