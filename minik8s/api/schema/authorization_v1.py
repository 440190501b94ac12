"""authorization.k8s.io/v1: the access reviews `kubectl auth can-i` asks.

SubjectAccessReview, LocalSubjectAccessReview, SelfSubjectAccessReview and
SelfSubjectRulesReview are questions put to the authorizer and answered in the
response's status; they are never stored. Field numbers are those of
k8s.io/api/authorization/v1/generated.proto; descriptions are minik8s's own.
"""
from __future__ import annotations

from minik8s.api.schema import dsl
from minik8s.api.schema import meta_v1

_GROUP = "authorization.k8s.io"
_PKG = "io.k8s.api.authorization.v1"


def _strings(name: str, number: int, description: str) -> dsl.Field:
    return dsl.Field(name, number, dsl.STRING, description, repeated=True, list_type="atomic")


FIELD_SELECTOR_REQUIREMENT = dsl.Message(
    "io.k8s.apimachinery.pkg.apis.meta.v1.FieldSelectorRequirement",
    "One condition of a field selector: a field, an operator and values.",
    (
        dsl.Field("key", 1, dsl.STRING, "The field the condition is about.", required=True),
        dsl.Field("operator", 2, dsl.STRING, "In, NotIn, Exists or DoesNotExist.", required=True),
        _strings("values", 3, "The values for In and NotIn; empty for Exists and DoesNotExist."),
    ),
)

FIELD_SELECTOR_ATTRIBUTES = dsl.Message(
    f"{_PKG}.FieldSelectorAttributes",
    "A field selector the request is limited by, as text or as parsed requirements.",
    (
        dsl.Field("rawSelector", 1, dsl.STRING, "The selector as a query parameter would carry it."),
        dsl.Field("requirements", 2, FIELD_SELECTOR_REQUIREMENT, "The selector as parsed requirements.",
                  repeated=True, list_type="atomic"),
    ),
)

LABEL_SELECTOR_ATTRIBUTES = dsl.Message(
    f"{_PKG}.LabelSelectorAttributes",
    "A label selector the request is limited by, as text or as parsed requirements.",
    (
        dsl.Field("rawSelector", 1, dsl.STRING, "The selector as a query parameter would carry it."),
        dsl.Field("requirements", 2, meta_v1.LABEL_SELECTOR_REQUIREMENT, "The selector as parsed requirements.",
                  repeated=True, list_type="atomic"),
    ),
)

RESOURCE_ATTRIBUTES = dsl.Message(
    f"{_PKG}.ResourceAttributes",
    "A request on a resource, as the authorizer sees it.",
    (
        dsl.Field("namespace", 1, dsl.STRING, "The namespace of the request; empty for cluster-scoped "
                                              "resources or all namespaces."),
        dsl.Field("verb", 2, dsl.STRING, "The verb: get, list, watch, create, update, patch, delete, ... or *."),
        dsl.Field("group", 3, dsl.STRING, "The API group of the resource; * means all."),
        dsl.Field("version", 4, dsl.STRING, "The API version of the resource; * means all."),
        dsl.Field("resource", 5, dsl.STRING, "The resource (plural), e.g. pods; * means all."),
        dsl.Field("subresource", 6, dsl.STRING, "The subresource, e.g. log or status."),
        dsl.Field("name", 7, dsl.STRING, "The object's name; empty for lists and creates."),
        dsl.Field("fieldSelector", 8, FIELD_SELECTOR_ATTRIBUTES, "The field selector of a list or watch."),
        dsl.Field("labelSelector", 9, LABEL_SELECTOR_ATTRIBUTES, "The label selector of a list or watch."),
    ),
)

NON_RESOURCE_ATTRIBUTES = dsl.Message(
    f"{_PKG}.NonResourceAttributes",
    "A request on a path that is not a resource (/healthz, /api).",
    (
        dsl.Field("path", 1, dsl.STRING, "The URL path."),
        dsl.Field("verb", 2, dsl.STRING, "The HTTP verb in lower case: get, post, ..."),
    ),
)

SUBJECT_ACCESS_REVIEW_SPEC = dsl.Message(
    f"{_PKG}.SubjectAccessReviewSpec",
    "The request to judge and who makes it. Exactly one of resourceAttributes and "
    "nonResourceAttributes is set.",
    (
        dsl.Field("resourceAttributes", 1, RESOURCE_ATTRIBUTES, "The request, if it is on a resource."),
        dsl.Field("nonResourceAttributes", 2, NON_RESOURCE_ATTRIBUTES, "The request, if it is on another path."),
        dsl.Field("user", 3, dsl.STRING, "The user asking."),
        _strings("groups", 4, "The groups of the user."),
        # map<string, ExtraValue> on the wire (ExtraValue: repeated string); minik8s takes it
        # as free JSON, which is what it is in JSON (a map of string lists).
        dsl.Field("extra", 5, dsl.RAW_EXTENSION, "Further attributes of the user from the authenticator, "
                                                 "each a list of strings."),
        dsl.Field("uid", 6, dsl.STRING, "The uid of the user."),
    ),
)

SELF_SUBJECT_ACCESS_REVIEW_SPEC = dsl.Message(
    f"{_PKG}.SelfSubjectAccessReviewSpec",
    "The request to judge, for the user asking. Exactly one of the two attributes is set.",
    (
        dsl.Field("resourceAttributes", 1, RESOURCE_ATTRIBUTES, "The request, if it is on a resource."),
        dsl.Field("nonResourceAttributes", 2, NON_RESOURCE_ATTRIBUTES, "The request, if it is on another path."),
    ),
)

SUBJECT_ACCESS_REVIEW_STATUS = dsl.Message(
    f"{_PKG}.SubjectAccessReviewStatus",
    "The authorizer's answer.",
    (
        dsl.Field("allowed", 1, dsl.BOOL, "Whether the request would be allowed.", required=True),
        dsl.Field("denied", 4, dsl.BOOL, "Whether the request is explicitly denied (no later authorizer "
                                         "could allow it)."),
        dsl.Field("reason", 2, dsl.STRING, "Why, for a person to read."),
        dsl.Field("evaluationError", 3, dsl.STRING, "An error met while judging; the answer may then be "
                                                    "incomplete."),
    ),
)

_METADATA = dsl.Field("metadata", 1, meta_v1.OBJECT_META, "Standard object metadata.")
_STATUS = dsl.Field("status", 3, SUBJECT_ACCESS_REVIEW_STATUS, "The answer, filled in by the server.")

SUBJECT_ACCESS_REVIEW = dsl.kind(
    f"{_PKG}.SubjectAccessReview",
    "Asks whether a given user may make a given request.",
    dsl.GVK(_GROUP, "v1", "SubjectAccessReview"),
    (_METADATA, dsl.Field("spec", 2, SUBJECT_ACCESS_REVIEW_SPEC, "The question.", required=True), _STATUS),
)

LOCAL_SUBJECT_ACCESS_REVIEW = dsl.kind(
    f"{_PKG}.LocalSubjectAccessReview",
    "Asks whether a given user may make a given request in this namespace.",
    dsl.GVK(_GROUP, "v1", "LocalSubjectAccessReview"),
    (_METADATA, dsl.Field("spec", 2, SUBJECT_ACCESS_REVIEW_SPEC, "The question; its namespace must be "
                                                                  "this one.", required=True), _STATUS),
)

SELF_SUBJECT_ACCESS_REVIEW = dsl.kind(
    f"{_PKG}.SelfSubjectAccessReview",
    "Asks whether the user asking may make a given request (kubectl auth can-i).",
    dsl.GVK(_GROUP, "v1", "SelfSubjectAccessReview"),
    (_METADATA, dsl.Field("spec", 2, SELF_SUBJECT_ACCESS_REVIEW_SPEC, "The question.", required=True), _STATUS),
)

RESOURCE_RULE = dsl.Message(
    f"{_PKG}.ResourceRule",
    "What the user may do on resources, as in a PolicyRule.",
    (
        _strings("verbs", 1, "The verbs allowed; * means all."),
        _strings("apiGroups", 2, "The API groups; * means all."),
        _strings("resources", 3, "The resources; * means all."),
        _strings("resourceNames", 4, "If not empty, only objects of these names."),
    ),
)

NON_RESOURCE_RULE = dsl.Message(
    f"{_PKG}.NonResourceRule",
    "What the user may do on non-resource URLs.",
    (
        _strings("verbs", 1, "The verbs allowed; * means all."),
        _strings("nonResourceURLs", 2, "The URL paths; a trailing * matches any suffix."),
    ),
)

SUBJECT_RULES_REVIEW_STATUS = dsl.Message(
    f"{_PKG}.SubjectRulesReviewStatus",
    "Everything the user may do in a namespace, as far as the authorizer can list it.",
    (
        dsl.Field("resourceRules", 1, RESOURCE_RULE, "Rules on resources.", repeated=True, list_type="atomic",
                  required=True),
        dsl.Field("nonResourceRules", 2, NON_RESOURCE_RULE, "Rules on other paths.", repeated=True,
                  list_type="atomic", required=True),
        dsl.Field("incomplete", 3, dsl.BOOL, "Whether some authorizer could not list its rules.", required=True),
        dsl.Field("evaluationError", 4, dsl.STRING, "An error met while listing the rules."),
    ),
)

SELF_SUBJECT_RULES_REVIEW = dsl.kind(
    f"{_PKG}.SelfSubjectRulesReview",
    "Asks for everything the user asking may do in a namespace (kubectl auth can-i --list).",
    dsl.GVK(_GROUP, "v1", "SelfSubjectRulesReview"),
    (
        _METADATA,
        dsl.Field("spec", 2, dsl.Message(f"{_PKG}.SelfSubjectRulesReviewSpec", "The namespace to list rules in.",
                                         (dsl.Field("namespace", 1, dsl.STRING, "The namespace."),)),
                  "The question.", required=True),
        dsl.Field("status", 3, SUBJECT_RULES_REVIEW_STATUS, "The answer, filled in by the server."),
    ),
)
