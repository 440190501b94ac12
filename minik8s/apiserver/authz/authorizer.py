"""The authorization seam: what a request wants to do, and who decides.

As Kubernetes' k8s.io/apiserver/pkg/authorization/authorizer: an `Attributes`
record (user, verb, resource or non-resource path) goes to an `Authorizer`,
which answers allow, deny or no opinion with a reason. Authorizers are chained
in a `Union`: the first one with an opinion decides, and no opinion from any of
them is a denial. Authorizers that can list what a user may do also implement
`RuleResolver` (SelfSubjectRulesReview, `kubectl auth can-i --list`).
"""
from __future__ import annotations

import dataclasses
import enum
from typing import Protocol, Sequence, runtime_checkable

from minik8s.api import errors
from minik8s.apiserver.authz import user as user_mod

READ_ONLY_VERBS = frozenset({"get", "list", "watch"})


class Decision(enum.Enum):
    DENY = "deny"
    ALLOW = "allow"
    NO_OPINION = "no-opinion"


@dataclasses.dataclass(frozen=True)
class FieldRequirement:
    """One term of a request's field selector (`spec.nodeName=n1`): op is "=" or "!="."""
    field: str
    op: str
    value: str


@dataclasses.dataclass(frozen=True)
class Attributes:
    """authorizer.Attributes: everything an authorizer may look at.

    For a resource request, `resource`/`subresource`/`name`/`namespace`/`api_group`
    say what is touched; for a non-resource request (`/healthz`, `/apis`), `path`.
    `verb` is the Kubernetes verb (get, list, watch, create, update, patch, delete,
    deletecollection, or impersonate/escalate/bind/...), not the HTTP method.
    """
    user: user_mod.UserInfo
    verb: str
    resource_request: bool
    namespace: str = ""
    api_group: str = ""
    api_version: str = ""
    resource: str = ""
    subresource: str = ""
    name: str = ""
    path: str = ""
    # The request's field selector, parsed (list/watch/deletecollection only);
    # the Node authorizer lets a kubelet list the pods of `spec.nodeName=<itself>`.
    field_selector: tuple[FieldRequirement, ...] = ()
    label_selector: str = ""

    @property
    def read_only(self) -> bool:
        return self.verb in READ_ONLY_VERBS

    def field_equals(self, field: str) -> str | None:
        """The value a field selector pins `field` to, if it does."""
        for req in self.field_selector:
            if req.field == field and req.op == "=":
                return req.value
        return None


class Authorizer(Protocol):
    def authorize(self, attrs: Attributes) -> tuple[Decision, str]:
        """(decision, reason): the reason explains a denial to the user (it goes into the 403)."""
        ...


@dataclasses.dataclass(frozen=True)
class ResourceRule:
    verbs: tuple[str, ...]
    api_groups: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    resource_names: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class NonResourceRule:
    verbs: tuple[str, ...]
    non_resource_urls: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class Rules:
    """What RulesFor answers: the rules a user has in a namespace.

    `incomplete` says the authorizer cannot list everything it would allow
    (the Node authorizer decides per object); `error` says why.
    """
    resource: tuple[ResourceRule, ...] = ()
    non_resource: tuple[NonResourceRule, ...] = ()
    incomplete: bool = False
    error: str = ""


@runtime_checkable
class RuleResolver(Protocol):
    def rules_for(self, user: user_mod.UserInfo, namespace: str) -> Rules:
        ...


class Union:
    """authorizerunion: ask each authorizer in turn; the first allow or deny wins."""

    def __init__(self, authorizers: Sequence[Authorizer]) -> None:
        self.authorizers = tuple(authorizers)

    def authorize(self, attrs: Attributes) -> tuple[Decision, str]:
        reasons = []
        for a in self.authorizers:
            decision, reason = a.authorize(attrs)
            if decision is not Decision.NO_OPINION:
                return decision, reason
            if reason:
                reasons.append(reason)
        return Decision.NO_OPINION, ", ".join(reasons)

    def rules_for(self, user: user_mod.UserInfo, namespace: str) -> Rules:
        resource: list[ResourceRule] = []
        non_resource: list[NonResourceRule] = []
        incomplete = False
        errs = []
        for a in self.authorizers:
            if not isinstance(a, RuleResolver):
                continue
            rules = a.rules_for(user, namespace)
            resource.extend(rules.resource)
            non_resource.extend(rules.non_resource)
            incomplete = incomplete or rules.incomplete
            if rules.error:
                errs.append(rules.error)
        return Rules(tuple(resource), tuple(non_resource), incomplete, ", ".join(errs))


class PrivilegedGroups:
    """Members of these groups may do anything, whatever RBAC says (system:masters).

    Kubernetes puts this authorizer first so that the cluster's administrators
    cannot lock themselves out by editing RBAC. Like Kubernetes' it lists no
    rules (the cluster-admin binding of system:masters does).
    """

    def __init__(self, *groups: str) -> None:
        self.groups = frozenset(groups)

    def authorize(self, attrs: Attributes) -> tuple[Decision, str]:
        if self.groups.intersection(attrs.user.groups):
            return Decision.ALLOW, ""
        return Decision.NO_OPINION, ""


def forbidden_message(attrs: Attributes, reason: str = "") -> str:
    """The text of a 403, worded as kube-apiserver words it (kubectl shows it as is)."""
    name = attrs.user.name
    if not attrs.resource_request:
        msg = f'User "{name}" cannot {attrs.verb} path "{attrs.path}"'
    else:
        resource = attrs.resource + (f"/{attrs.subresource}" if attrs.subresource else "")
        if attrs.namespace:
            msg = (f'User "{name}" cannot {attrs.verb} resource "{resource}" in API group "{attrs.api_group}" '
                   f'in the namespace "{attrs.namespace}"')
        else:
            msg = (f'User "{name}" cannot {attrs.verb} resource "{resource}" in API group "{attrs.api_group}" '
                   "at the cluster scope")
    return f"{msg}: {reason}" if reason else msg


def forbidden_error(attrs: Attributes, reason: str = "") -> errors.StatusError:
    """The 403 Status kube-apiserver answers a denied request with (NewForbidden)."""
    msg = forbidden_message(attrs, reason)
    if not attrs.resource_request or not attrs.resource:
        return errors.Forbidden(f"forbidden: {msg}")
    qualified = f"{attrs.resource}.{attrs.api_group}" if attrs.api_group else attrs.resource
    head = f'{qualified} "{attrs.name}"' if attrs.name else qualified
    err = errors.Forbidden(f"{head} is forbidden: {msg}")
    err.details = {"group": attrs.api_group, "kind": attrs.resource}
    if attrs.name:
        err.details["name"] = attrs.name
    return err
