"""core/v1: references and selectors shared by pods, volumes, nodes and events.

Field numbers are those of k8s.io/api/core/v1/generated.proto; descriptions are
minik8s's own.
"""
from __future__ import annotations

from minik8s.api.schema import dsl

TOLERATION = dsl.Message(
    "io.k8s.api.core.v1.Toleration",
    "Lets a pod be scheduled onto, or keep running on, nodes with a matching taint.",
    (
        dsl.Field("key", 1, dsl.STRING, "The taint key to match; empty (with operator Exists) matches every taint."),
        dsl.Field("operator", 2, dsl.STRING, "Equal (the default) matches key and value; Exists matches any value of "
                  "the key; Lt and Gt compare the value as an integer.", enum=("Exists", "Equal", "Lt", "Gt")),
        dsl.Field("value", 3, dsl.STRING, "The taint value to match; empty with Exists."),
        dsl.Field("effect", 4, dsl.STRING, "The taint effect to match: NoSchedule, PreferNoSchedule or NoExecute; "
                  "empty matches all.", enum=("NoSchedule", "PreferNoSchedule", "NoExecute")),
        dsl.Field("tolerationSeconds", 5, dsl.INT64, "For NoExecute: how long the pod stays bound after the taint "
                  "appears before it is evicted. Unset tolerates forever; 0 or less evicts at once.", pointer=True),
    ),
)


NODE_SELECTOR_REQUIREMENT = dsl.Message(
    "io.k8s.api.core.v1.NodeSelectorRequirement",
    "One requirement on a node's labels or fields: a key, an operator and values.",
    (
        dsl.Field("key", 1, dsl.STRING, "The label (or field) name.", required=True),
        dsl.Field("operator", 2, dsl.STRING, "In, NotIn, Exists, DoesNotExist, Gt or Lt.", required=True,
                  enum=("In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt")),
        dsl.Field("values", 3, dsl.STRING, "The values for In and NotIn (at least one), one integer for Gt and Lt, "
                  "none for Exists and DoesNotExist.", repeated=True, list_type="atomic"),
    ),
)


NODE_SELECTOR_TERM = dsl.Message(
    "io.k8s.api.core.v1.NodeSelectorTerm",
    "Requirements on a node that must all hold; an empty term matches no node.",
    (
        dsl.Field("matchExpressions", 1, NODE_SELECTOR_REQUIREMENT, "Requirements on the node's labels.",
                  repeated=True, list_type="atomic"),
        dsl.Field("matchFields", 2, NODE_SELECTOR_REQUIREMENT, "Requirements on the node's fields (metadata.name "
                  "only).", repeated=True, list_type="atomic"),
    ),
    map_type="atomic",
)


NODE_SELECTOR = dsl.Message(
    "io.k8s.api.core.v1.NodeSelector",
    "A choice of nodes: a node matches if any of the terms matches it.",
    (
        dsl.Field("nodeSelectorTerms", 1, NODE_SELECTOR_TERM, "The terms, ORed together.", repeated=True,
                  required=True, list_type="atomic"),
    ),
    map_type="atomic",
)


LOCAL_OBJECT_REFERENCE = dsl.Message(
    "io.k8s.api.core.v1.LocalObjectReference",
    "Names an object in the same namespace.",
    (
        dsl.Field("name", 1, dsl.STRING, "The object's name; required in practice."),
    ),
    map_type="atomic",
)


FILE_KEY_SELECTOR = dsl.Message(
    "io.k8s.api.core.v1.FileKeySelector",
    "Selects a variable from an env file in one of the pod's volumes.",
    (
        dsl.Field("volumeName", 1, dsl.STRING, "The name of the volume that holds the file.", required=True),
        dsl.Field("path", 2, dsl.STRING, "The file's path inside the volume; relative, without '..'.", required=True),
        dsl.Field("key", 3, dsl.STRING, "The variable to read from the file.", required=True),
        dsl.Field("optional", 4, dsl.BOOL, "When true, a missing file or key leaves the variable unset instead of "
                  "failing the container.", pointer=True),
    ),
    map_type="atomic",
)


SECRET_KEY_SELECTOR = dsl.Message(
    "io.k8s.api.core.v1.SecretKeySelector",
    "Selects one key of a Secret in the pod's namespace.",
    (
        dsl.Field("", 1, LOCAL_OBJECT_REFERENCE, "", inline=True),
        dsl.Field("key", 2, dsl.STRING, "The key to read.", required=True),
        dsl.Field("optional", 3, dsl.BOOL, "When true, a missing Secret or key is not an error.", pointer=True),
    ),
    map_type="atomic",
)


CONFIG_MAP_KEY_SELECTOR = dsl.Message(
    "io.k8s.api.core.v1.ConfigMapKeySelector",
    "Selects one key of a ConfigMap in the pod's namespace.",
    (
        dsl.Field("", 1, LOCAL_OBJECT_REFERENCE, "", inline=True),
        dsl.Field("key", 2, dsl.STRING, "The key to read from the ConfigMap's data.", required=True),
        dsl.Field("optional", 3, dsl.BOOL, "When true, a missing ConfigMap or key is not an error.", pointer=True),
    ),
    map_type="atomic",
)


RESOURCE_FIELD_SELECTOR = dsl.Message(
    "io.k8s.api.core.v1.ResourceFieldSelector",
    "Selects a container's resource request or limit (cpu, memory, ephemeral-storage), in a given unit.",
    (
        dsl.Field("containerName", 1, dsl.STRING, "The container whose resources to read; required in volumes, "
                  "defaults to the current container in env."),
        dsl.Field("resource", 2, dsl.STRING, "The resource to read, such as limits.cpu or requests.memory.",
                  required=True),
        dsl.Field("divisor", 3, dsl.QUANTITY, "The unit to express the value in, such as 1m or 1Mi. Defaults to 1."),
    ),
    map_type="atomic",
)


OBJECT_FIELD_SELECTOR = dsl.Message(
    "io.k8s.api.core.v1.ObjectFieldSelector",
    "Selects a field of the pod, such as metadata.name or status.podIP.",
    (
        dsl.Field("apiVersion", 1, dsl.STRING, "The API version the field path is written for. Defaults to v1."),
        dsl.Field("fieldPath", 2, dsl.STRING, "The path of the field to read.", required=True),
    ),
    map_type="atomic",
)


TYPED_OBJECT_REFERENCE = dsl.Message(
    "io.k8s.api.core.v1.TypedObjectReference",
    "Names an object of a given kind and API group, possibly in another namespace.",
    (
        dsl.Field("apiGroup", 1, dsl.STRING, "The object's API group; empty for the core group.", pointer=True),
        dsl.Field("kind", 2, dsl.STRING, "The object's kind.", required=True),
        dsl.Field("name", 3, dsl.STRING, "The object's name.", required=True),
        dsl.Field("namespace", 4, dsl.STRING, "The object's namespace, if different; needs a ReferenceGrant there.",
                  pointer=True),
    ),
)


TYPED_LOCAL_OBJECT_REFERENCE = dsl.Message(
    "io.k8s.api.core.v1.TypedLocalObjectReference",
    "Names an object of a given kind and API group in the same namespace.",
    (
        dsl.Field("apiGroup", 1, dsl.STRING, "The object's API group; empty for the core group.", pointer=True),
        dsl.Field("kind", 2, dsl.STRING, "The object's kind.", required=True),
        dsl.Field("name", 3, dsl.STRING, "The object's name.", required=True),
    ),
    map_type="atomic",
)


KEY_TO_PATH = dsl.Message(
    "io.k8s.api.core.v1.KeyToPath",
    "Places one key of a ConfigMap or Secret at a path in a volume.",
    (
        dsl.Field("key", 1, dsl.STRING, "The key to place.", required=True),
        dsl.Field("path", 2, dsl.STRING, "The relative file path for it; may not contain '..'.", required=True),
        dsl.Field("mode", 3, dsl.INT32, "The file's permission bits (0 to 0777). Defaults to the volume's "
                  "defaultMode.", pointer=True),
        dsl.Field("user", 4, dsl.INT64, "The UID that owns the file, overriding the volume's defaultUser (alpha).",
                  pointer=True),
    ),
)


OBJECT_REFERENCE = dsl.Message(
    "io.k8s.api.core.v1.ObjectReference",
    "Identifies an object, or a field of one, by kind, namespace, name and UID.",
    (
        dsl.Field("kind", 1, dsl.STRING, "The object's kind."),
        dsl.Field("namespace", 2, dsl.STRING, "The object's namespace."),
        dsl.Field("name", 3, dsl.STRING, "The object's name."),
        dsl.Field("uid", 4, dsl.STRING, "The object's UID."),
        dsl.Field("apiVersion", 5, dsl.STRING, "The object's API version."),
        dsl.Field("resourceVersion", 6, dsl.STRING, "The resourceVersion of the object referred to, if a specific "
                  "one."),
        dsl.Field("fieldPath", 7, dsl.STRING, "A field inside the object, when the reference is to part of it, such "
                  "as spec.containers{web}."),
    ),
    map_type="atomic",
)


TAINT = dsl.Message(
    "io.k8s.api.core.v1.Taint",
    "Marks a node so that pods that do not tolerate the taint are kept off it (or evicted).",
    (
        dsl.Field("key", 1, dsl.STRING, "The taint's key.", required=True),
        dsl.Field("value", 2, dsl.STRING, "The taint's value."),
        dsl.Field("effect", 3, dsl.STRING, "NoSchedule (no new pods), PreferNoSchedule (avoid if possible) or "
                  "NoExecute (also evict running pods).", required=True,
                  enum=("NoSchedule", "PreferNoSchedule", "NoExecute")),
        dsl.Field("timeAdded", 4, dsl.TIME, "When the taint was added (NoExecute only).", pointer=True),
    ),
)
