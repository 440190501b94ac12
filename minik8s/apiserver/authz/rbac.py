"""The RBAC authorizer: Roles and ClusterRoles granted through bindings.

As Kubernetes' plugin/pkg/auth/authorizer/rbac and pkg/registry/rbac/validation:
a user's rules in a namespace are the rules of every ClusterRoleBinding whose
subjects include the user, then of every RoleBinding in that namespace that
does. A RoleBinding may grant a ClusterRole's rules, but only in its own
namespace. Rules only ever allow; a binding to a role that does not exist
grants nothing (and is reported as an evaluation error).

`Policy` holds the four kinds as parsed records; it is fed from the API
server's own watch cache (authz/mirror.py) and read on every request, so the
reads do no I/O.
"""
from __future__ import annotations

import dataclasses
import logging
from typing import Any, Iterator

from minik8s.apiserver.authz import authorizer
from minik8s.apiserver.authz import rules as rules_mod
from minik8s.apiserver.authz import user as user_mod

log = logging.getLogger(__name__)

GROUP = "rbac.authorization.k8s.io"
USER_KIND, GROUP_KIND, SERVICE_ACCOUNT_KIND = "User", "Group", "ServiceAccount"


@dataclasses.dataclass(frozen=True)
class Subject:
    kind: str
    name: str
    namespace: str = ""
    api_group: str = ""

    def to_dict(self) -> dict[str, str]:
        out = {"kind": self.kind, "name": self.name}
        if self.kind != SERVICE_ACCOUNT_KIND:
            out["apiGroup"] = GROUP
        if self.namespace:
            out["namespace"] = self.namespace
        return out

    def describe(self, binding_namespace: str) -> str:
        if self.kind == SERVICE_ACCOUNT_KIND:
            return f'{self.kind} "{self.name}/{self.namespace or binding_namespace}"'
        return f'{self.kind} "{self.name}"'


@dataclasses.dataclass(frozen=True)
class RoleRef:
    kind: str
    name: str
    api_group: str = GROUP


@dataclasses.dataclass(frozen=True)
class Binding:
    name: str
    namespace: str  # "" for a ClusterRoleBinding
    role_ref: RoleRef
    subjects: tuple[Subject, ...]


def subject_from_dict(obj: Any) -> Subject:
    obj = obj if isinstance(obj, dict) else {}
    return Subject(str(obj.get("kind") or ""), str(obj.get("name") or ""), str(obj.get("namespace") or ""),
                   str(obj.get("apiGroup") or ""))


def role_ref_from_dict(obj: Any) -> RoleRef:
    obj = obj if isinstance(obj, dict) else {}
    return RoleRef(str(obj.get("kind") or ""), str(obj.get("name") or ""), str(obj.get("apiGroup") or ""))


def binding_from_object(obj: dict[str, Any]) -> Binding:
    meta = obj.get("metadata") or {}
    subjects = obj.get("subjects")
    if not isinstance(subjects, list):
        subjects = []
    return Binding(str(meta.get("name") or ""), str(meta.get("namespace") or ""),
                   role_ref_from_dict(obj.get("roleRef")), tuple(subject_from_dict(s) for s in subjects))


def applies_to(user: user_mod.UserInfo, subject: Subject, namespace: str) -> bool:
    """appliesToUser: a ServiceAccount subject without a namespace means the binding's own."""
    if subject.kind == USER_KIND:
        return user.name == subject.name
    if subject.kind == GROUP_KIND:
        return subject.name in user.groups
    if subject.kind == SERVICE_ACCOUNT_KIND:
        sa_namespace = subject.namespace or namespace
        if not sa_namespace:
            return False
        return user.name == user_mod.service_account_username(sa_namespace, subject.name)
    return False


class Policy:
    """The RBAC objects as last seen, keyed for the resolver's lookups."""

    def __init__(self) -> None:
        self.roles: dict[tuple[str, str], tuple[rules_mod.PolicyRule, ...]] = {}
        self.cluster_roles: dict[str, tuple[rules_mod.PolicyRule, ...]] = {}
        self.role_bindings: dict[str, dict[str, Binding]] = {}
        self.cluster_role_bindings: dict[str, Binding] = {}

    # -- feeding (from the mirrors, or from tests) ------------------------------

    def set_role(self, obj: dict[str, Any]) -> None:
        meta = obj["metadata"]
        self.roles[(meta.get("namespace") or "", meta["name"])] = rules_mod.from_list(obj.get("rules"))

    def delete_role(self, namespace: str, name: str) -> None:
        self.roles.pop((namespace, name), None)

    def set_cluster_role(self, obj: dict[str, Any]) -> None:
        self.cluster_roles[obj["metadata"]["name"]] = rules_mod.from_list(obj.get("rules"))

    def delete_cluster_role(self, name: str) -> None:
        self.cluster_roles.pop(name, None)

    def set_role_binding(self, obj: dict[str, Any]) -> None:
        b = binding_from_object(obj)
        self.role_bindings.setdefault(b.namespace, {})[b.name] = b

    def delete_role_binding(self, namespace: str, name: str) -> None:
        in_ns = self.role_bindings.get(namespace)
        if in_ns is not None:
            in_ns.pop(name, None)
            if not in_ns:
                del self.role_bindings[namespace]

    def set_cluster_role_binding(self, obj: dict[str, Any]) -> None:
        b = binding_from_object(obj)
        self.cluster_role_bindings[b.name] = b

    def delete_cluster_role_binding(self, name: str) -> None:
        self.cluster_role_bindings.pop(name, None)

    # -- reading -------------------------------------------------------------------

    def role_ref_rules(self, ref: RoleRef, binding_namespace: str) -> tuple[rules_mod.PolicyRule, ...]:
        """GetRoleReferenceRules; raises LookupError when the role does not exist."""
        if ref.kind == "Role":
            found = self.roles.get((binding_namespace, ref.name))
            if found is None:
                raise LookupError(f'role.rbac.authorization.k8s.io "{ref.name}" not found')
            return found
        if ref.kind == "ClusterRole":
            found = self.cluster_roles.get(ref.name)
            if found is None:
                raise LookupError(f'clusterrole.rbac.authorization.k8s.io "{ref.name}" not found')
            return found
        raise LookupError(f'unsupported role reference kind: "{ref.kind}"')


@dataclasses.dataclass(frozen=True)
class Visit:
    """One step of VisitRulesFor: a rule and where it comes from, or a resolution error."""
    source: str
    rule: rules_mod.PolicyRule | None = None
    error: str = ""


def visit_rules_for(policy: Policy, user: user_mod.UserInfo, namespace: str) -> Iterator[Visit]:
    """Every rule that applies to `user` in `namespace` (cluster-wide ones first), lazily."""
    for b in policy.cluster_role_bindings.values():
        subject = next((s for s in b.subjects if applies_to(user, s, "")), None)
        if subject is None:
            continue
        try:
            found = policy.role_ref_rules(b.role_ref, "")
        except LookupError as e:
            yield Visit("", error=str(e))
            continue
        source = (f'ClusterRoleBinding "{b.name}" of {b.role_ref.kind} "{b.role_ref.name}" '
                  f'to {subject.describe("")}')
        for r in found:
            yield Visit(source, r)
    if not namespace:
        return
    for b in list((policy.role_bindings.get(namespace) or {}).values()):
        subject = next((s for s in b.subjects if applies_to(user, s, namespace)), None)
        if subject is None:
            continue
        try:
            found = policy.role_ref_rules(b.role_ref, namespace)
        except LookupError as e:
            yield Visit("", error=str(e))
            continue
        source = (f'RoleBinding "{b.name}/{b.namespace}" of {b.role_ref.kind} "{b.role_ref.name}" '
                  f"to {subject.describe(namespace)}")
        for r in found:
            yield Visit(source, r)


def rules_for(policy: Policy, user: user_mod.UserInfo, namespace: str) -> tuple[list[rules_mod.PolicyRule], list[str]]:
    """(rules, resolution errors): the rules are complete but for the roles the errors name."""
    found: list[rules_mod.PolicyRule] = []
    errs: list[str] = []
    for v in visit_rules_for(policy, user, namespace):
        if v.rule is None:
            errs.append(v.error)
        else:
            found.append(v.rule)
    return found, errs


class RBACAuthorizer:
    def __init__(self, policy: Policy) -> None:
        self.policy = policy

    def authorize(self, attrs: authorizer.Attributes) -> tuple[authorizer.Decision, str]:
        errs = []
        for v in visit_rules_for(self.policy, attrs.user, attrs.namespace):
            if v.rule is None:
                errs.append(v.error)
            elif rules_mod.rule_allows(attrs, v.rule):
                return authorizer.Decision.ALLOW, f"RBAC: allowed by {v.source}"
        # RBAC never denies: another authorizer may still allow.
        return authorizer.Decision.NO_OPINION, f"RBAC: {'; '.join(errs)}" if errs else ""

    def rules_for(self, user: user_mod.UserInfo, namespace: str) -> authorizer.Rules:
        found, errs = rules_for(self.policy, user, namespace)
        resource = tuple(authorizer.ResourceRule(r.verbs, r.api_groups, r.resources, r.resource_names)
                         for r in found if r.resources)
        non_resource = tuple(authorizer.NonResourceRule(r.verbs, r.non_resource_urls)
                             for r in found if r.non_resource_urls)
        return authorizer.Rules(resource, non_resource, False, "; ".join(errs))
