"""meta.k8s.io/v1: the metadata, list, status and option types every group shares.

Field numbers are those of k8s.io/apimachinery's generated.proto; descriptions are
minik8s's own. `list_of` makes the <Kind>List type of a kind.
"""
from __future__ import annotations

from minik8s.api.schema import dsl

SHARD_INFO = dsl.Message(
    "io.k8s.apimachinery.pkg.apis.meta.v1.ShardInfo",
    "The shard selector a list response was filtered by; present only on partial lists.",
    (
        dsl.Field("selector", 1, dsl.STRING, "The shard selector from the request, echoed so that clients can merge "
                  "the shards they read.", required=True),
    ),
)


LIST_META = dsl.Message(
    "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta",
    "Metadata of a list or other synthetic response: its version and paging state.",
    (
        dsl.Field("selfLink", 1, dsl.STRING, "Deprecated and never set."),
        dsl.Field("resourceVersion", 2, dsl.STRING, "The version of the collection this list was read at; list or "
                  "watch from it to see later changes. Opaque to clients."),
        dsl.Field("continue", 3, dsl.STRING, "Set when more items exist past a limit; pass it as the continue "
                  "parameter to get the next page. Expires with compaction."),
        dsl.Field("remainingItemCount", 4, dsl.INT64, "How many items the following pages hold, when the server can "
                  "tell (only for unfiltered lists).", pointer=True),
        dsl.Field("shardInfo", 5, SHARD_INFO, "Set when the list is a shard of the collection: the selector that "
                  "chose it.", pointer=True),
    ),
)


WATCH_EVENT = dsl.Message(
    "io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent",
    "One change seen by a watch: its type and the object.",
    (
        dsl.Field("type", 1, dsl.STRING, "ADDED, MODIFIED, DELETED, BOOKMARK or ERROR.", required=True),
        dsl.Field("object", 2, dsl.RAW_EXTENSION, "The object after the change (before it, for DELETED); a Status "
                  "for ERROR; only the resourceVersion for BOOKMARK.", required=True),
    ),
)


PRECONDITIONS = dsl.Message(
    "io.k8s.apimachinery.pkg.apis.meta.v1.Preconditions",
    "Conditions the object must meet for an update or delete to go ahead.",
    (
        dsl.Field("uid", 1, dsl.STRING, "The UID the object must have.", pointer=True),
        dsl.Field("resourceVersion", 2, dsl.STRING, "The resourceVersion the object must have.", pointer=True),
    ),
)


DELETE_OPTIONS = dsl.Message(
    "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions",
    "Options of a delete request.",
    (
        *dsl.type_meta(),
        dsl.Field("gracePeriodSeconds", 1, dsl.INT64, "Seconds the object has to shut down before it is removed; 0 "
                  "removes it at once. Unset uses the kind's default.", pointer=True),
        dsl.Field("preconditions", 2, PRECONDITIONS, "Conditions to check first; a mismatch makes the delete fail "
                  "with 409 Conflict.", pointer=True),
        dsl.Field("orphanDependents", 3, dsl.BOOL, "Deprecated: use propagationPolicy. True orphans dependents, "
                  "false deletes them in the background.", pointer=True),
        dsl.Field("propagationPolicy", 4, dsl.STRING, "What happens to the object's dependents: Orphan leaves them, "
                  "Background deletes them after the owner, Foreground before it.", pointer=True),
        dsl.Field("dryRun", 5, dsl.STRING, "With All, the request is checked but nothing is deleted.", repeated=True,
                  list_type="atomic"),
        dsl.Field("ignoreStoreReadErrorWithClusterBreakingPotential", 6, dsl.BOOL, "Unsafe: delete an object that "
                  "cannot be read back from storage, skipping finalizers and admission. Needs extra permission.",
                  pointer=True),
    ),
)


STATUS_CAUSE = dsl.Message(
    "io.k8s.apimachinery.pkg.apis.meta.v1.StatusCause",
    "One detail of a failure, often tied to a field.",
    (
        dsl.Field("reason", 1, dsl.STRING, "A machine-readable cause, such as FieldValueInvalid or "
                  "FieldValueRequired."),
        dsl.Field("message", 2, dsl.STRING, "A human-readable description of this cause."),
        dsl.Field("field", 3, dsl.STRING, "The field the cause is about, as a JSON path (spec.containers[0].image), "
                  "when there is one."),
    ),
)


STATUS_DETAILS = dsl.Message(
    "io.k8s.apimachinery.pkg.apis.meta.v1.StatusDetails",
    "Structured details of a failure, depending on its reason.",
    (
        dsl.Field("name", 1, dsl.STRING, "The name of the object the failure concerns, when there is a single one."),
        dsl.Field("group", 2, dsl.STRING, "The API group of the object the failure concerns."),
        dsl.Field("kind", 3, dsl.STRING, "The kind (or resource) of the object the failure concerns."),
        dsl.Field("uid", 6, dsl.STRING, "The UID of the object the failure concerns, when known."),
        dsl.Field("causes", 4, STATUS_CAUSE, "The individual causes, for failures such as Invalid that have several.",
                  repeated=True, list_type="atomic"),
        dsl.Field("retryAfterSeconds", 5, dsl.INT32, "For retriable failures, how long to wait before retrying."),
    ),
)


STATUS = dsl.kind(
    "io.k8s.apimachinery.pkg.apis.meta.v1.Status",
    "The result of a call that does not return an object, or of a failed call.",
    dsl.GVK("", "v1", "Status"),
    (
        dsl.Field("metadata", 1, LIST_META, "Standard list metadata (usually empty)."),
        dsl.Field("status", 2, dsl.STRING, "Success or Failure."),
        dsl.Field("message", 3, dsl.STRING, "A human-readable description of the result."),
        dsl.Field("reason", 4, dsl.STRING, "A machine-readable reason for a failure, such as NotFound, "
                  "AlreadyExists, Conflict or Invalid."),
        dsl.Field("details", 5, STATUS_DETAILS, "Extra data for the reason, such as the object's name or the failing "
                  "fields.", pointer=True),
        dsl.Field("code", 6, dsl.INT32, "The HTTP status code of the response, 0 if not set."),
    ),
)


OWNER_REFERENCE = dsl.Message(
    "io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference",
    "A reference to an object that owns this one; the garbage collector deletes an object whose owners are all "
    "gone. The owner must be in the same namespace, or cluster-scoped.",
    (
        dsl.Field("apiVersion", 5, dsl.STRING, "The owner's API version.", required=True),
        dsl.Field("kind", 1, dsl.STRING, "The owner's kind.", required=True),
        dsl.Field("name", 3, dsl.STRING, "The owner's name.", required=True),
        dsl.Field("uid", 4, dsl.STRING, "The owner's UID, which must match, so a re-created owner of the same name "
                  "does not adopt this object.", required=True),
        dsl.Field("controller", 6, dsl.BOOL, "True if the owner is the controller managing this object; at most one "
                  "owner may be.", pointer=True),
        dsl.Field("blockOwnerDeletion", 7, dsl.BOOL, "With foreground deletion of the owner, the owner is not "
                  "removed until this object is gone.", pointer=True),
    ),
    map_type="atomic",
)


MANAGED_FIELDS_ENTRY = dsl.Message(
    "io.k8s.apimachinery.pkg.apis.meta.v1.ManagedFieldsEntry",
    "The fields one manager (a client or a controller) last set on an object, for server-side apply.",
    (
        dsl.Field("manager", 1, dsl.STRING, "The name of the manager."),
        dsl.Field("operation", 2, dsl.STRING, "Apply or Update: how the manager last changed these fields."),
        dsl.Field("apiVersion", 3, dsl.STRING, "The API version the field set is expressed in."),
        dsl.Field("time", 4, dsl.TIME, "When this entry last changed.", pointer=True),
        dsl.Field("fieldsType", 6, dsl.STRING, "The format of the field set; always FieldsV1."),
        dsl.Field("fieldsV1", 7, dsl.FIELDS_V1, "The set of fields the manager owns.", pointer=True),
        dsl.Field("subresource", 8, dsl.STRING, "The subresource the change was made through (such as status), empty "
                  "for the main resource."),
    ),
)


OBJECT_META = dsl.Message(
    "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
    "Metadata every persisted object has: its identity, labels and annotations, ownership and lifecycle.",
    (
        dsl.Field("name", 1, dsl.STRING, "The object's name, unique among objects of its kind in its namespace. "
                  "Required on create unless generateName is set. Cannot be changed."),
        dsl.Field("generateName", 2, dsl.STRING, "A prefix from which the server makes a unique name when name is "
                  "empty, by appending random characters."),
        dsl.Field("namespace", 3, dsl.STRING, "The namespace the object lives in; empty for cluster-scoped kinds. "
                  "Cannot be changed."),
        dsl.Field("selfLink", 4, dsl.STRING, "Deprecated and never set."),
        dsl.Field("uid", 5, dsl.STRING, "A unique ID the server assigns at creation, distinct for every object ever "
                  "created. Read-only."),
        dsl.Field("resourceVersion", 6, dsl.STRING, "An opaque version that changes with every write; send it back "
                  "on update for optimistic concurrency, or list and watch from it. Read-only."),
        dsl.Field("generation", 7, dsl.INT64, "A number the server increments each time the desired state (spec) "
                  "changes. Read-only."),
        dsl.Field("creationTimestamp", 8, dsl.TIME, "When the server created the object (RFC 3339, UTC). Read-only."),
        dsl.Field("deletionTimestamp", 9, dsl.TIME, "Set by the server when deletion was requested: the time after "
                  "which the object will be removed, once its finalizers are gone. Read-only.", pointer=True),
        dsl.Field("deletionGracePeriodSeconds", 10, dsl.INT64, "The grace period given when deletion was requested. "
                  "Read-only.", pointer=True),
        dsl.Field("labels", 11, dsl.STRING, "Key/value pairs used to organise and select objects; selectors of "
                  "controllers and services match them.", map=True),
        dsl.Field("annotations", 12, dsl.STRING, "Key/value pairs for arbitrary non-identifying data that tools and "
                  "controllers store on the object; not used for selection.", map=True),
        dsl.Field("ownerReferences", 13, OWNER_REFERENCE, "The objects that own this one; when they are all deleted, "
                  "this object is garbage collected.", repeated=True, patch_strategy="merge", merge_key="uid",
                  list_type="map", list_map_keys=("uid",)),
        dsl.Field("finalizers", 14, dsl.STRING, "Names of components that must finish clean-up before the object is "
                  "removed; each removes its entry when done.", repeated=True, patch_strategy="merge",
                  list_type="set"),
        dsl.Field("managedFields", 17, MANAGED_FIELDS_ENTRY, "Which manager set which fields, for server-side apply; "
                  "maintained by the server.", repeated=True, list_type="atomic"),
    ),
)


LABEL_SELECTOR_REQUIREMENT = dsl.Message(
    "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelectorRequirement",
    "One requirement of a label selector: a key, an operator and values.",
    (
        dsl.Field("key", 1, dsl.STRING, "The label key the requirement applies to.", required=True),
        dsl.Field("operator", 2, dsl.STRING, "In, NotIn, Exists or DoesNotExist.", required=True),
        dsl.Field("values", 3, dsl.STRING, "The values for In and NotIn (at least one); must be empty for Exists and "
                  "DoesNotExist.", repeated=True, list_type="atomic"),
    ),
)


LABEL_SELECTOR = dsl.Message(
    "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector",
    "A query over labels; matchLabels and matchExpressions must all hold. An empty selector matches everything, a "
    "null one nothing.",
    (
        dsl.Field("matchLabels", 1, dsl.STRING, "Labels that must be present with exactly these values.", map=True),
        dsl.Field("matchExpressions", 2, LABEL_SELECTOR_REQUIREMENT, "Requirements that must all hold.",
                  repeated=True, list_type="atomic"),
    ),
    map_type="atomic",
)


CONDITION = dsl.Message(
    "io.k8s.apimachinery.pkg.apis.meta.v1.Condition",
    "The state of one aspect of an object, as reported in status.conditions.",
    (
        dsl.Field("type", 1, dsl.STRING, "The condition's type, in CamelCase (or domain/CamelCase), unique in the "
                  "list.", required=True),
        dsl.Field("status", 2, dsl.STRING, "True, False or Unknown.", required=True),
        dsl.Field("observedGeneration", 3, dsl.INT64, "The metadata.generation the condition was computed for."),
        dsl.Field("lastTransitionTime", 4, dsl.TIME, "When status last changed.", required=True),
        dsl.Field("reason", 5, dsl.STRING, "A CamelCase, machine-readable reason for the last transition.",
                  required=True),
        dsl.Field("message", 6, dsl.STRING, "A human-readable explanation of the last transition; may be empty.",
                  required=True),
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
