"""core/v1: references and selectors shared by pods, volumes, nodes and events.

Field numbers are those of k8s.io/api/core/v1/generated.proto; descriptions are
minik8s's own.
"""
from __future__ import annotations

from minik8s.api.schema import dsl

TOLERATION = dsl.Message(
    "io.k8s.api.core.v1.Toleration",
    "TODO",
    (
        dsl.Field("key", 1, dsl.STRING, "TODO"),
        dsl.Field("operator", 2, dsl.STRING, "TODO", enum=("Exists", "Equal", "Lt", "Gt")),
        dsl.Field("value", 3, dsl.STRING, "TODO"),
        dsl.Field("effect", 4, dsl.STRING, "TODO", enum=("NoSchedule", "PreferNoSchedule", "NoExecute")),
        dsl.Field("tolerationSeconds", 5, dsl.INT64, "TODO", pointer=True),
    ),
)


NODE_SELECTOR_REQUIREMENT = dsl.Message(
    "io.k8s.api.core.v1.NodeSelectorRequirement",
    "TODO",
    (
        dsl.Field("key", 1, dsl.STRING, "TODO", required=True),
        dsl.Field("operator", 2, dsl.STRING, "TODO", required=True,
                  enum=("In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt")),
        dsl.Field("values", 3, dsl.STRING, "TODO", repeated=True, list_type="atomic"),
    ),
)


NODE_SELECTOR_TERM = dsl.Message(
    "io.k8s.api.core.v1.NodeSelectorTerm",
    "TODO",
    (
        dsl.Field("matchExpressions", 1, NODE_SELECTOR_REQUIREMENT, "TODO", repeated=True, list_type="atomic"),
        dsl.Field("matchFields", 2, NODE_SELECTOR_REQUIREMENT, "TODO", repeated=True, list_type="atomic"),
    ),
    map_type="atomic",
)


NODE_SELECTOR = dsl.Message(
    "io.k8s.api.core.v1.NodeSelector",
    "TODO",
    (
        dsl.Field("nodeSelectorTerms", 1, NODE_SELECTOR_TERM, "TODO", repeated=True, required=True,
                  list_type="atomic"),
    ),
    map_type="atomic",
)


LOCAL_OBJECT_REFERENCE = dsl.Message(
    "io.k8s.api.core.v1.LocalObjectReference",
    "TODO",
    (
        dsl.Field("name", 1, dsl.STRING, "TODO"),
    ),
    map_type="atomic",
)


FILE_KEY_SELECTOR = dsl.Message(
    "io.k8s.api.core.v1.FileKeySelector",
    "TODO",
    (
        dsl.Field("volumeName", 1, dsl.STRING, "TODO", required=True),
        dsl.Field("path", 2, dsl.STRING, "TODO", required=True),
        dsl.Field("key", 3, dsl.STRING, "TODO", required=True),
        dsl.Field("optional", 4, dsl.BOOL, "TODO", pointer=True),
    ),
    map_type="atomic",
)


SECRET_KEY_SELECTOR = dsl.Message(
    "io.k8s.api.core.v1.SecretKeySelector",
    "TODO",
    (
        dsl.Field("", 1, LOCAL_OBJECT_REFERENCE, "", inline=True),
        dsl.Field("key", 2, dsl.STRING, "TODO", required=True),
        dsl.Field("optional", 3, dsl.BOOL, "TODO", pointer=True),
    ),
    map_type="atomic",
)


CONFIG_MAP_KEY_SELECTOR = dsl.Message(
    "io.k8s.api.core.v1.ConfigMapKeySelector",
    "TODO",
    (
        dsl.Field("", 1, LOCAL_OBJECT_REFERENCE, "", inline=True),
        dsl.Field("key", 2, dsl.STRING, "TODO", required=True),
        dsl.Field("optional", 3, dsl.BOOL, "TODO", pointer=True),
    ),
    map_type="atomic",
)


RESOURCE_FIELD_SELECTOR = dsl.Message(
    "io.k8s.api.core.v1.ResourceFieldSelector",
    "TODO",
    (
        dsl.Field("containerName", 1, dsl.STRING, "TODO"),
        dsl.Field("resource", 2, dsl.STRING, "TODO", required=True),
        dsl.Field("divisor", 3, dsl.QUANTITY, "TODO"),
    ),
    map_type="atomic",
)


OBJECT_FIELD_SELECTOR = dsl.Message(
    "io.k8s.api.core.v1.ObjectFieldSelector",
    "TODO",
    (
        dsl.Field("apiVersion", 1, dsl.STRING, "TODO"),
        dsl.Field("fieldPath", 2, dsl.STRING, "TODO", required=True),
    ),
    map_type="atomic",
)


TYPED_OBJECT_REFERENCE = dsl.Message(
    "io.k8s.api.core.v1.TypedObjectReference",
    "TODO",
    (
        dsl.Field("apiGroup", 1, dsl.STRING, "TODO", pointer=True),
        dsl.Field("kind", 2, dsl.STRING, "TODO", required=True),
        dsl.Field("name", 3, dsl.STRING, "TODO", required=True),
        dsl.Field("namespace", 4, dsl.STRING, "TODO", pointer=True),
    ),
)


TYPED_LOCAL_OBJECT_REFERENCE = dsl.Message(
    "io.k8s.api.core.v1.TypedLocalObjectReference",
    "TODO",
    (
        dsl.Field("apiGroup", 1, dsl.STRING, "TODO", pointer=True),
        dsl.Field("kind", 2, dsl.STRING, "TODO", required=True),
        dsl.Field("name", 3, dsl.STRING, "TODO", required=True),
    ),
    map_type="atomic",
)


KEY_TO_PATH = dsl.Message(
    "io.k8s.api.core.v1.KeyToPath",
    "TODO",
    (
        dsl.Field("key", 1, dsl.STRING, "TODO", required=True),
        dsl.Field("path", 2, dsl.STRING, "TODO", required=True),
        dsl.Field("mode", 3, dsl.INT32, "TODO", pointer=True),
        dsl.Field("user", 4, dsl.INT64, "TODO", pointer=True),
    ),
)


OBJECT_REFERENCE = dsl.Message(
    "io.k8s.api.core.v1.ObjectReference",
    "TODO",
    (
        dsl.Field("kind", 1, dsl.STRING, "TODO"),
        dsl.Field("namespace", 2, dsl.STRING, "TODO"),
        dsl.Field("name", 3, dsl.STRING, "TODO"),
        dsl.Field("uid", 4, dsl.STRING, "TODO"),
        dsl.Field("apiVersion", 5, dsl.STRING, "TODO"),
        dsl.Field("resourceVersion", 6, dsl.STRING, "TODO"),
        dsl.Field("fieldPath", 7, dsl.STRING, "TODO"),
    ),
    map_type="atomic",
)


TAINT = dsl.Message(
    "io.k8s.api.core.v1.Taint",
    "TODO",
    (
        dsl.Field("key", 1, dsl.STRING, "TODO", required=True),
        dsl.Field("value", 2, dsl.STRING, "TODO"),
        dsl.Field("effect", 3, dsl.STRING, "TODO", required=True,
                  enum=("NoSchedule", "PreferNoSchedule", "NoExecute")),
        dsl.Field("timeAdded", 4, dsl.TIME, "TODO", pointer=True),
    ),
)
