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


def _subject_keys(b: Binding) -> set[tuple[str, str]]:
    """The (kind, name) keys under which a user finds this binding: its user name or a group."""
    keys = set()
    for s in b.subjects:
        if s.kind == USER_KIND:
            keys.add((USER_KIND, s.name))
        elif s.kind == GROUP_KIND:
            keys.add((GROUP_KIND, s.name))
        elif s.kind == SERVICE_ACCOUNT_KIND and (s.namespace or b.namespace):
            keys.add((USER_KIND, user_mod.service_account_username(s.namespace or b.namespace, s.name)))
    return keys


class BindingIndex:
    """Bindings by name, and indexed by subject, so a request looks only at its user's bindings."""

    def __init__(self) -> None:
        self.by_name: dict[str, Binding] = {}
        self.by_subject: dict[tuple[str, str], set[str]] = {}

    def set(self, b: Binding) -> None:
        self.remove(b.name)
        self.by_name[b.name] = b
        for key in _subject_keys(b):
            self.by_subject.setdefault(key, set()).add(b.name)

    def remove(self, name: str) -> None:
        old = self.by_name.pop(name, None)
        if old is None:
            return
        for key in _subject_keys(old):
            names = self.by_subject.get(key)
            if names is not None:
                names.discard(name)
                if not names:
                    del self.by_subject[key]

    def for_user(self, user: user_mod.UserInfo) -> list[Binding]:
        names: set[str] = set(self.by_subject.get((USER_KIND, user.name), ()))
        for g in user.groups:
            names.update(self.by_subject.get((GROUP_KIND, g), ()))
        return [self.by_name[n] for n in sorted(names)]

    def values(self) -> list[Binding]:
        return list(self.by_name.values())

    def clear(self) -> None:
        self.by_name.clear()
        self.by_subject.clear()

    def __len__(self) -> int:
        return len(self.by_name)


class Policy:
    """The RBAC objects as last seen, keyed for the resolver's lookups."""

    def __init__(self) -> None:
        self.roles: dict[tuple[str, str], tuple[rules_mod.PolicyRule, ...]] = {}
        self.cluster_roles: dict[str, tuple[rules_mod.PolicyRule, ...]] = {}
        self.role_bindings: dict[str, BindingIndex] = {}
        self.cluster_role_bindings = BindingIndex()

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
        self.role_bindings.setdefault(b.namespace, BindingIndex()).set(b)

    def delete_role_binding(self, namespace: str, name: str) -> None:
        in_ns = self.role_bindings.get(namespace)
        if in_ns is not None:
            in_ns.remove(name)
            if not in_ns:
                del self.role_bindings[namespace]

    def set_cluster_role_binding(self, obj: dict[str, Any]) -> None:
        self.cluster_role_bindings.set(binding_from_object(obj))

    def delete_cluster_role_binding(self, name: str) -> None:
        self.cluster_role_bindings.remove(name)

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
    """One applicable binding of VisitRulesFor: its rules, or why they could not be resolved."""
    binding: Binding
    subject: Subject
    rules: tuple[rules_mod.PolicyRule, ...] = ()
    error: str = ""

    @property
    def source(self) -> str:
        b, ref = self.binding, self.binding.role_ref
        if b.namespace:
            return (f'RoleBinding "{b.name}/{b.namespace}" of {ref.kind} "{ref.name}" '
                    f"to {self.subject.describe(b.namespace)}")
        return f'ClusterRoleBinding "{b.name}" of {ref.kind} "{ref.name}" to {self.subject.describe("")}'


def visit_rules_for(policy: Policy, user: user_mod.UserInfo, namespace: str) -> Iterator[Visit]:
    """Every binding that applies to `user` in `namespace` (cluster-wide ones first), lazily."""
    bindings = policy.cluster_role_bindings.for_user(user)
    if namespace:
        in_namespace = policy.role_bindings.get(namespace)
        if in_namespace is not None:
            bindings += in_namespace.for_user(user)
    for b in bindings:
        subject = next((s for s in b.subjects if applies_to(user, s, b.namespace)), None)
        if subject is None:
            continue
        try:
            yield Visit(b, subject, policy.role_ref_rules(b.role_ref, b.namespace))
        except LookupError as e:
            yield Visit(b, subject, error=str(e))


def rules_for(policy: Policy, user: user_mod.UserInfo, namespace: str) -> tuple[list[rules_mod.PolicyRule], list[str]]:
    """(rules, resolution errors): the rules are complete but for the roles the errors name."""
    found: list[rules_mod.PolicyRule] = []
    errs: list[str] = []
    for v in visit_rules_for(policy, user, namespace):
        found.extend(v.rules)
        if v.error:
            errs.append(v.error)
    return found, errs


class RBACAuthorizer:
    def __init__(self, policy: Policy) -> None:
        self.policy = policy

    def authorize(self, attrs: authorizer.Attributes) -> tuple[authorizer.Decision, str]:
        errs = []
        for v in visit_rules_for(self.policy, attrs.user, attrs.namespace):
            if v.error:
                errs.append(v.error)
            elif rules_mod.rules_allow(attrs, v.rules):
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
