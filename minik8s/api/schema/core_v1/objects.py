"""core/v1: Namespace, Event, ConfigMap, Secret and ReplicationController.

Field numbers are those of k8s.io/api/core/v1/generated.proto; descriptions are
minik8s's own.
"""
from __future__ import annotations

from minik8s.api.schema import dsl
from minik8s.api.schema import meta_v1
from minik8s.api.schema.core_v1 import common
from minik8s.api.schema.core_v1 import pod

SECRET = dsl.kind(
    "io.k8s.api.core.v1.Secret",
    "TODO",
    dsl.GVK("", "v1", "Secret"),
    (
        dsl.Field("metadata", 1, meta_v1.OBJECT_META, "TODO"),
        dsl.Field("immutable", 5, dsl.BOOL, "TODO", pointer=True),
        dsl.Field("data", 2, dsl.BYTES, "TODO", map=True),
        dsl.Field("stringData", 4, dsl.STRING, "TODO", map=True),
        dsl.Field("type", 3, dsl.STRING, "TODO"),
    ),
)


SECRET_LIST = meta_v1.list_of(SECRET)


CONFIG_MAP = dsl.kind(
    "io.k8s.api.core.v1.ConfigMap",
    "TODO",
    dsl.GVK("", "v1", "ConfigMap"),
    (
        dsl.Field("metadata", 1, meta_v1.OBJECT_META, "TODO"),
        dsl.Field("immutable", 4, dsl.BOOL, "TODO", pointer=True),
        dsl.Field("data", 2, dsl.STRING, "TODO", map=True),
        dsl.Field("binaryData", 3, dsl.BYTES, "TODO", map=True),
    ),
)


CONFIG_MAP_LIST = meta_v1.list_of(CONFIG_MAP)


EVENT_SOURCE = dsl.Message(
    "io.k8s.api.core.v1.EventSource",
    "TODO",
    (
        dsl.Field("component", 1, dsl.STRING, "TODO"),
        dsl.Field("host", 2, dsl.STRING, "TODO"),
    ),
)


EVENT_SERIES = dsl.Message(
    "io.k8s.api.core.v1.EventSeries",
    "TODO",
    (
        dsl.Field("count", 1, dsl.INT32, "TODO"),
        dsl.Field("lastObservedTime", 2, dsl.MICRO_TIME, "TODO"),
    ),
)


EVENT = dsl.kind(
    "io.k8s.api.core.v1.Event",
    "TODO",
    dsl.GVK("", "v1", "Event"),
    (
        dsl.Field("metadata", 1, meta_v1.OBJECT_META, "TODO", required=True),
        dsl.Field("involvedObject", 2, common.OBJECT_REFERENCE, "TODO", required=True),
        dsl.Field("reason", 3, dsl.STRING, "TODO"),
        dsl.Field("message", 4, dsl.STRING, "TODO"),
        dsl.Field("source", 5, EVENT_SOURCE, "TODO"),
        dsl.Field("firstTimestamp", 6, dsl.TIME, "TODO"),
        dsl.Field("lastTimestamp", 7, dsl.TIME, "TODO"),
        dsl.Field("count", 8, dsl.INT32, "TODO"),
        dsl.Field("type", 9, dsl.STRING, "TODO"),
        dsl.Field("eventTime", 10, dsl.MICRO_TIME, "TODO"),
        dsl.Field("series", 11, EVENT_SERIES, "TODO", pointer=True),
        dsl.Field("action", 12, dsl.STRING, "TODO"),
        dsl.Field("related", 13, common.OBJECT_REFERENCE, "TODO", pointer=True),
        dsl.Field("reportingComponent", 14, dsl.STRING, "TODO"),
        dsl.Field("reportingInstance", 15, dsl.STRING, "TODO"),
    ),
)


EVENT_LIST = meta_v1.list_of(EVENT)


NAMESPACE_SPEC = dsl.Message(
    "io.k8s.api.core.v1.NamespaceSpec",
    "TODO",
    (
        dsl.Field("finalizers", 1, dsl.STRING, "TODO", repeated=True, list_type="atomic"),
    ),
)


NAMESPACE_CONDITION = dsl.Message(
    "io.k8s.api.core.v1.NamespaceCondition",
    "TODO",
    (
        dsl.Field("type", 1, dsl.STRING, "TODO", required=True),
        dsl.Field("status", 2, dsl.STRING, "TODO", required=True),
        dsl.Field("lastTransitionTime", 4, dsl.TIME, "TODO"),
        dsl.Field("reason", 5, dsl.STRING, "TODO"),
        dsl.Field("message", 6, dsl.STRING, "TODO"),
    ),
)


NAMESPACE_STATUS = dsl.Message(
    "io.k8s.api.core.v1.NamespaceStatus",
    "TODO",
    (
        dsl.Field("phase", 1, dsl.STRING, "TODO", enum=("Active", "Terminating")),
        dsl.Field("conditions", 2, NAMESPACE_CONDITION, "TODO", repeated=True, patch_strategy="merge",
                  merge_key="type", list_type="map", list_map_keys=("type",)),
    ),
)


NAMESPACE = dsl.kind(
    "io.k8s.api.core.v1.Namespace",
    "TODO",
    dsl.GVK("", "v1", "Namespace"),
    (
        dsl.Field("metadata", 1, meta_v1.OBJECT_META, "TODO"),
        dsl.Field("spec", 2, NAMESPACE_SPEC, "TODO"),
        dsl.Field("status", 3, NAMESPACE_STATUS, "TODO"),
    ),
)


NAMESPACE_LIST = meta_v1.list_of(NAMESPACE)


REPLICATION_CONTROLLER_SPEC = dsl.Message(
    "io.k8s.api.core.v1.ReplicationControllerSpec",
    "TODO",
    (
        dsl.Field("replicas", 1, dsl.INT32, "TODO", pointer=True),
        dsl.Field("minReadySeconds", 4, dsl.INT32, "TODO"),
        dsl.Field("selector", 2, dsl.STRING, "TODO", map=True, map_type="atomic"),
        dsl.Field("template", 3, pod.POD_TEMPLATE_SPEC, "TODO", pointer=True),
    ),
)


REPLICATION_CONTROLLER_CONDITION = dsl.Message(
    "io.k8s.api.core.v1.ReplicationControllerCondition",
    "TODO",
    (
        dsl.Field("type", 1, dsl.STRING, "TODO", required=True),
        dsl.Field("status", 2, dsl.STRING, "TODO", required=True),
        dsl.Field("lastTransitionTime", 3, dsl.TIME, "TODO"),
        dsl.Field("reason", 4, dsl.STRING, "TODO"),
        dsl.Field("message", 5, dsl.STRING, "TODO"),
    ),
)


REPLICATION_CONTROLLER_STATUS = dsl.Message(
    "io.k8s.api.core.v1.ReplicationControllerStatus",
    "TODO",
    (
        dsl.Field("replicas", 1, dsl.INT32, "TODO", required=True),
        dsl.Field("fullyLabeledReplicas", 2, dsl.INT32, "TODO"),
        dsl.Field("readyReplicas", 4, dsl.INT32, "TODO"),
        dsl.Field("availableReplicas", 5, dsl.INT32, "TODO"),
        dsl.Field("observedGeneration", 3, dsl.INT64, "TODO"),
        dsl.Field("conditions", 6, REPLICATION_CONTROLLER_CONDITION, "TODO", repeated=True, patch_strategy="merge",
                  merge_key="type", list_type="map", list_map_keys=("type",)),
    ),
)


REPLICATION_CONTROLLER = dsl.kind(
    "io.k8s.api.core.v1.ReplicationController",
    "TODO",
    dsl.GVK("", "v1", "ReplicationController"),
    (
        dsl.Field("metadata", 1, meta_v1.OBJECT_META, "TODO"),
        dsl.Field("spec", 2, REPLICATION_CONTROLLER_SPEC, "TODO"),
        dsl.Field("status", 3, REPLICATION_CONTROLLER_STATUS, "TODO"),
    ),
)


REPLICATION_CONTROLLER_LIST = meta_v1.list_of(REPLICATION_CONTROLLER)
