"""rbac.authorization.k8s.io/v1: Role, ClusterRole, RoleBinding, ClusterRoleBinding.

Field numbers are those of k8s.io/api/rbac/v1/generated.proto; descriptions are
minik8s's own. Every list is atomic, and Subject and RoleRef are atomic structs,
as Kubernetes marks them: a strategic merge patch replaces them whole.
"""
from __future__ import annotations

from minik8s.api.schema import dsl
from minik8s.api.schema import meta_v1

_GROUP = "rbac.authorization.k8s.io"


def _strings(name: str, number: int, description: str) -> dsl.Field:
    return dsl.Field(name, number, dsl.STRING, description, repeated=True, list_type="atomic")


POLICY_RULE = dsl.Message(
    "io.k8s.api.rbac.v1.PolicyRule",
    "What a rule allows: verbs on resources of API groups (optionally only some names), or "
    "verbs on non-resource URLs.",
    (
        dsl.Field("verbs", 1, dsl.STRING, "The verbs allowed (get, list, watch, create, update, patch, delete, "
                  "deletecollection, ...); * means all.", repeated=True, list_type="atomic", required=True),
        _strings("apiGroups", 2, "The API groups of the resources; \"\" is the core group, * means all."),
        _strings("resources", 3, "The resources the rule applies to, with subresources as pods/log; * means all."),
        _strings("resourceNames", 4, "If not empty, only objects of these names."),
        _strings("nonResourceURLs", 5, "URL paths that are not resources (/healthz, /api/*); only in "
                                       "ClusterRoles, and then without resources."),
    ),
)

SUBJECT = dsl.Message(
    "io.k8s.api.rbac.v1.Subject",
    "Who a binding grants its role to: a user, a group or a service account.",
    (
        dsl.Field("kind", 1, dsl.STRING, "User, Group or ServiceAccount.", required=True),
        dsl.Field("apiGroup", 2, dsl.STRING, "rbac.authorization.k8s.io for users and groups, \"\" for "
                                             "service accounts."),
        dsl.Field("name", 3, dsl.STRING, "The name of the user, group or service account.", required=True),
        dsl.Field("namespace", 4, dsl.STRING, "The service account's namespace; empty for users and groups."),
    ),
    map_type="atomic",
)

ROLE_REF = dsl.Message(
    "io.k8s.api.rbac.v1.RoleRef",
    "The role a binding grants. It cannot change once the binding exists.",
    (
        dsl.Field("apiGroup", 1, dsl.STRING, "The group of the role: rbac.authorization.k8s.io.", required=True),
        dsl.Field("kind", 2, dsl.STRING, "Role or ClusterRole.", required=True),
        dsl.Field("name", 3, dsl.STRING, "The name of the role.", required=True),
    ),
    map_type="atomic",
)

AGGREGATION_RULE = dsl.Message(
    "io.k8s.api.rbac.v1.AggregationRule",
    "Which ClusterRoles' rules a ClusterRole gathers into its own.",
    (
        dsl.Field("clusterRoleSelectors", 1, meta_v1.LABEL_SELECTOR, "ClusterRoles matching any of these "
                  "selectors lend their rules.", repeated=True, list_type="atomic"),
    ),
)

_RULES = dsl.Field("rules", 2, POLICY_RULE, "The permissions the role grants.", repeated=True,
                   list_type="atomic")

ROLE = dsl.kind(
    "io.k8s.api.rbac.v1.Role",
    "Permissions within one namespace, granted to subjects by RoleBindings.",
    dsl.GVK(_GROUP, "v1", "Role"),
    (dsl.Field("metadata", 1, meta_v1.OBJECT_META, "Standard object metadata."), _RULES),
)

CLUSTER_ROLE = dsl.kind(
    "io.k8s.api.rbac.v1.ClusterRole",
    "Permissions cluster-wide or in any namespace, granted by ClusterRoleBindings or RoleBindings.",
    dsl.GVK(_GROUP, "v1", "ClusterRole"),
    (
        dsl.Field("metadata", 1, meta_v1.OBJECT_META, "Standard object metadata."),
        _RULES,
        dsl.Field("aggregationRule", 3, AGGREGATION_RULE, "If set, the controller fills rules from the "
                  "selected ClusterRoles."),
    ),
)

_SUBJECTS = dsl.Field("subjects", 2, SUBJECT, "Who is granted the role.", repeated=True, list_type="atomic")
_ROLE_REF_FIELD = dsl.Field("roleRef", 3, ROLE_REF, "The role granted; it cannot change.", required=True)

ROLE_BINDING = dsl.kind(
    "io.k8s.api.rbac.v1.RoleBinding",
    "Grants a Role, or a ClusterRole's permissions, to subjects within the binding's namespace.",
    dsl.GVK(_GROUP, "v1", "RoleBinding"),
    (dsl.Field("metadata", 1, meta_v1.OBJECT_META, "Standard object metadata."), _SUBJECTS, _ROLE_REF_FIELD),
)

CLUSTER_ROLE_BINDING = dsl.kind(
    "io.k8s.api.rbac.v1.ClusterRoleBinding",
    "Grants a ClusterRole to subjects across the whole cluster.",
    dsl.GVK(_GROUP, "v1", "ClusterRoleBinding"),
    (dsl.Field("metadata", 1, meta_v1.OBJECT_META, "Standard object metadata."), _SUBJECTS, _ROLE_REF_FIELD),
)

ROLE_LIST = meta_v1.list_of(ROLE)
CLUSTER_ROLE_LIST = meta_v1.list_of(CLUSTER_ROLE)
ROLE_BINDING_LIST = meta_v1.list_of(ROLE_BINDING)
CLUSTER_ROLE_BINDING_LIST = meta_v1.list_of(CLUSTER_ROLE_BINDING)
