"""autoscaling/v1: HorizontalPodAutoscaler (CPU only) and Scale, the scale subresource's type.

Field numbers are those of k8s.io/api/autoscaling/v1/generated.proto; descriptions are
minik8s's own.
"""
from __future__ import annotations

from minik8s.api.schema import dsl
from minik8s.api.schema import meta_v1

SCALE_SPEC = dsl.Message(
    "io.k8s.api.autoscaling.v1.ScaleSpec",
    "TODO",
    (
        dsl.Field("replicas", 1, dsl.INT32, "TODO"),
    ),
)


SCALE_STATUS = dsl.Message(
    "io.k8s.api.autoscaling.v1.ScaleStatus",
    "TODO",
    (
        dsl.Field("replicas", 1, dsl.INT32, "TODO", required=True),
        dsl.Field("selector", 2, dsl.STRING, "TODO"),
    ),
)


SCALE = dsl.kind(
    "io.k8s.api.autoscaling.v1.Scale",
    "TODO",
    dsl.GVK("autoscaling", "v1", "Scale"),
    (
        dsl.Field("metadata", 1, meta_v1.OBJECT_META, "TODO"),
        dsl.Field("spec", 2, SCALE_SPEC, "TODO"),
        dsl.Field("status", 3, SCALE_STATUS, "TODO"),
    ),
)


CROSS_VERSION_OBJECT_REFERENCE = dsl.Message(
    "io.k8s.api.autoscaling.v1.CrossVersionObjectReference",
    "TODO",
    (
        dsl.Field("kind", 1, dsl.STRING, "TODO", required=True),
        dsl.Field("name", 2, dsl.STRING, "TODO", required=True),
        dsl.Field("apiVersion", 3, dsl.STRING, "TODO"),
    ),
    map_type="atomic",
)


HORIZONTAL_POD_AUTOSCALER_SPEC = dsl.Message(
    "io.k8s.api.autoscaling.v1.HorizontalPodAutoscalerSpec",
    "TODO",
    (
        dsl.Field("scaleTargetRef", 1, CROSS_VERSION_OBJECT_REFERENCE, "TODO", required=True),
        dsl.Field("minReplicas", 2, dsl.INT32, "TODO", pointer=True),
        dsl.Field("maxReplicas", 3, dsl.INT32, "TODO", required=True),
        dsl.Field("targetCPUUtilizationPercentage", 4, dsl.INT32, "TODO", pointer=True),
    ),
)


HORIZONTAL_POD_AUTOSCALER_STATUS = dsl.Message(
    "io.k8s.api.autoscaling.v1.HorizontalPodAutoscalerStatus",
    "TODO",
    (
        dsl.Field("observedGeneration", 1, dsl.INT64, "TODO", pointer=True),
        dsl.Field("lastScaleTime", 2, dsl.TIME, "TODO", pointer=True),
        dsl.Field("currentReplicas", 3, dsl.INT32, "TODO", required=True),
        dsl.Field("desiredReplicas", 4, dsl.INT32, "TODO", required=True),
        dsl.Field("currentCPUUtilizationPercentage", 5, dsl.INT32, "TODO", pointer=True),
    ),
)


HORIZONTAL_POD_AUTOSCALER = dsl.kind(
    "io.k8s.api.autoscaling.v1.HorizontalPodAutoscaler",
    "TODO",
    dsl.GVK("autoscaling", "v1", "HorizontalPodAutoscaler"),
    (
        dsl.Field("metadata", 1, meta_v1.OBJECT_META, "TODO"),
        dsl.Field("spec", 2, HORIZONTAL_POD_AUTOSCALER_SPEC, "TODO"),
        dsl.Field("status", 3, HORIZONTAL_POD_AUTOSCALER_STATUS, "TODO"),
    ),
)


HORIZONTAL_POD_AUTOSCALER_LIST = meta_v1.list_of(HORIZONTAL_POD_AUTOSCALER)
