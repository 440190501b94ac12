"""meta.k8s.io/v1: the metadata, list, status and option types every group shares.

Field numbers are those of k8s.io/apimachinery's generated.proto; descriptions are
minik8s's own. `list_of` makes the <Kind>List type of a kind.
"""
from __future__ import annotations

from minik8s.api.schema import dsl

SHARD_INFO = dsl.Message(
    "io.k8s.apimachinery.pkg.apis.meta.v1.ShardInfo",
    "TODO",
    (
        dsl.Field("selector", 1, dsl.STRING, "TODO", required=True),
    ),
)


LIST_META = dsl.Message(
    "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta",
    "TODO",
    (
        dsl.Field("selfLink", 1, dsl.STRING, "TODO"),
        dsl.Field("resourceVersion", 2, dsl.STRING, "TODO"),
        dsl.Field("continue", 3, dsl.STRING, "TODO"),
        dsl.Field("remainingItemCount", 4, dsl.INT64, "TODO", pointer=True),
        dsl.Field("shardInfo", 5, SHARD_INFO, "TODO", pointer=True),
    ),
)


WATCH_EVENT = dsl.Message(
    "io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent",
    "TODO",
    (
        dsl.Field("type", 1, dsl.STRING, "TODO", required=True),
        dsl.Field("object", 2, dsl.RAW_EXTENSION, "TODO", required=True),
    ),
)


PRECONDITIONS = dsl.Message(
    "io.k8s.apimachinery.pkg.apis.meta.v1.Preconditions",
    "TODO",
    (
        dsl.Field("uid", 1, dsl.STRING, "TODO", pointer=True),
        dsl.Field("resourceVersion", 2, dsl.STRING, "TODO", pointer=True),
    ),
)


DELETE_OPTIONS = dsl.Message(
    "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions",
    "TODO",
    (
        dsl.Field("gracePeriodSeconds", 1, dsl.INT64, "TODO", pointer=True),
        dsl.Field("preconditions", 2, PRECONDITIONS, "TODO", pointer=True),
        dsl.Field("orphanDependents", 3, dsl.BOOL, "TODO", pointer=True),
        dsl.Field("propagationPolicy", 4, dsl.STRING, "TODO", pointer=True),
        dsl.Field("dryRun", 5, dsl.STRING, "TODO", repeated=True, list_type="atomic"),
        dsl.Field("ignoreStoreReadErrorWithClusterBreakingPotential", 6, dsl.BOOL, "TODO", pointer=True),
    ),
)


STATUS_CAUSE = dsl.Message(
    "io.k8s.apimachinery.pkg.apis.meta.v1.StatusCause",
    "TODO",
    (
        dsl.Field("reason", 1, dsl.STRING, "TODO"),
        dsl.Field("message", 2, dsl.STRING, "TODO"),
        dsl.Field("field", 3, dsl.STRING, "TODO"),
    ),
)


STATUS_DETAILS = dsl.Message(
    "io.k8s.apimachinery.pkg.apis.meta.v1.StatusDetails",
    "TODO",
    (
        dsl.Field("name", 1, dsl.STRING, "TODO"),
        dsl.Field("group", 2, dsl.STRING, "TODO"),
        dsl.Field("kind", 3, dsl.STRING, "TODO"),
        dsl.Field("uid", 6, dsl.STRING, "TODO"),
        dsl.Field("causes", 4, STATUS_CAUSE, "TODO", repeated=True, list_type="atomic"),
        dsl.Field("retryAfterSeconds", 5, dsl.INT32, "TODO"),
    ),
)


STATUS = dsl.kind(
    "io.k8s.apimachinery.pkg.apis.meta.v1.Status",
    "TODO",
    dsl.GVK("", "v1", "Status"),
    (
        dsl.Field("metadata", 1, LIST_META, "TODO"),
        dsl.Field("status", 2, dsl.STRING, "TODO"),
        dsl.Field("message", 3, dsl.STRING, "TODO"),
        dsl.Field("reason", 4, dsl.STRING, "TODO"),
        dsl.Field("details", 5, STATUS_DETAILS, "TODO", pointer=True),
        dsl.Field("code", 6, dsl.INT32, "TODO"),
    ),
)


OWNER_REFERENCE = dsl.Message(
    "io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference",
    "TODO",
    (
        dsl.Field("apiVersion", 5, dsl.STRING, "TODO", required=True),
        dsl.Field("kind", 1, dsl.STRING, "TODO", required=True),
        dsl.Field("name", 3, dsl.STRING, "TODO", required=True),
        dsl.Field("uid", 4, dsl.STRING, "TODO", required=True),
        dsl.Field("controller", 6, dsl.BOOL, "TODO", pointer=True),
        dsl.Field("blockOwnerDeletion", 7, dsl.BOOL, "TODO", pointer=True),
    ),
    map_type="atomic",
)


MANAGED_FIELDS_ENTRY = dsl.Message(
    "io.k8s.apimachinery.pkg.apis.meta.v1.ManagedFieldsEntry",
    "TODO",
    (
        dsl.Field("manager", 1, dsl.STRING, "TODO"),
        dsl.Field("operation", 2, dsl.STRING, "TODO"),
        dsl.Field("apiVersion", 3, dsl.STRING, "TODO"),
        dsl.Field("time", 4, dsl.TIME, "TODO", pointer=True),
        dsl.Field("fieldsType", 6, dsl.STRING, "TODO"),
        dsl.Field("fieldsV1", 7, dsl.FIELDS_V1, "TODO", pointer=True),
        dsl.Field("subresource", 8, dsl.STRING, "TODO"),
    ),
)


OBJECT_META = dsl.Message(
    "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
    "TODO",
    (
        dsl.Field("name", 1, dsl.STRING, "TODO"),
        dsl.Field("generateName", 2, dsl.STRING, "TODO"),
        dsl.Field("namespace", 3, dsl.STRING, "TODO"),
        dsl.Field("selfLink", 4, dsl.STRING, "TODO"),
        dsl.Field("uid", 5, dsl.STRING, "TODO"),
        dsl.Field("resourceVersion", 6, dsl.STRING, "TODO"),
        dsl.Field("generation", 7, dsl.INT64, "TODO"),
        dsl.Field("creationTimestamp", 8, dsl.TIME, "TODO"),
        dsl.Field("deletionTimestamp", 9, dsl.TIME, "TODO", pointer=True),
        dsl.Field("deletionGracePeriodSeconds", 10, dsl.INT64, "TODO", pointer=True),
        dsl.Field("labels", 11, dsl.STRING, "TODO", map=True),
        dsl.Field("annotations", 12, dsl.STRING, "TODO", map=True),
        dsl.Field("ownerReferences", 13, OWNER_REFERENCE, "TODO", repeated=True, patch_strategy="merge",
                  merge_key="uid", list_type="map", list_map_keys=("uid",)),
        dsl.Field("finalizers", 14, dsl.STRING, "TODO", repeated=True, patch_strategy="merge", list_type="set"),
        dsl.Field("managedFields", 17, MANAGED_FIELDS_ENTRY, "TODO", repeated=True, list_type="atomic"),
    ),
)


LABEL_SELECTOR_REQUIREMENT = dsl.Message(
    "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelectorRequirement",
    "TODO",
    (
        dsl.Field("key", 1, dsl.STRING, "TODO", required=True),
        dsl.Field("operator", 2, dsl.STRING, "TODO", required=True),
        dsl.Field("values", 3, dsl.STRING, "TODO", repeated=True, list_type="atomic"),
    ),
)


LABEL_SELECTOR = dsl.Message(
    "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector",
    "TODO",
    (
        dsl.Field("matchLabels", 1, dsl.STRING, "TODO", map=True),
        dsl.Field("matchExpressions", 2, LABEL_SELECTOR_REQUIREMENT, "TODO", repeated=True, list_type="atomic"),
    ),
    map_type="atomic",
)


CONDITION = dsl.Message(
    "io.k8s.apimachinery.pkg.apis.meta.v1.Condition",
    "TODO",
    (
        dsl.Field("type", 1, dsl.STRING, "TODO", required=True),
        dsl.Field("status", 2, dsl.STRING, "TODO", required=True),
        dsl.Field("observedGeneration", 3, dsl.INT64, "TODO"),
        dsl.Field("lastTransitionTime", 4, dsl.TIME, "TODO", required=True),
        dsl.Field("reason", 5, dsl.STRING, "TODO", required=True),
        dsl.Field("message", 6, dsl.STRING, "TODO", required=True),
    ),
)


def list_of(item: dsl.Message, description: str = "") -> dsl.Message:
    """The <Kind>List type of a top-level kind: list metadata, then the items."""
    assert item.kinds, f"{item.name} is not a top-level kind"
    gvk = item.kinds[0]
    return dsl.kind(
        item.name + "List",
        description or f"A list of {gvk.kind} objects.",
        dsl.GVK(gvk.group, gvk.version, gvk.kind + "List"),
        (dsl.Field("metadata", 1, LIST_META, "Standard list metadata: the resourceVersion and continue token."),
         dsl.Field("items", 2, item, f"The {gvk.kind} objects.", repeated=True, required=True)),
    )
