"""The RBAC kinds' strategies, and validation of the authorization reviews.

As Kubernetes' pkg/apis/rbac/validation, pkg/apis/rbac/v1/defaults.go and
pkg/apis/authorization/validation: RBAC names are any valid path segment (so
`system:node:n1` is a name); a rule needs verbs, and either non-resource URLs
(only in ClusterRoles, and then nothing else) or API groups and resources;
a binding's roleRef is a Role or ClusterRole of rbac.authorization.k8s.io
(only a ClusterRole for a ClusterRoleBinding) and cannot change once created;
subjects are Users, Groups (apiGroup rbac.authorization.k8s.io) or
ServiceAccounts (apiGroup "", and a namespace in a ClusterRoleBinding).
Values of the wrong JSON type are a 400, as Kubernetes' decoder makes them.
"""
from __future__ import annotations

import datetime
from typing import Any, Mapping

from minik8s.api import errors
from minik8s.api import printing
from minik8s.api import resources
from minik8s.api import rfc3339
from minik8s.api import strategy
from minik8s.api import validation as vc

Obj = dict[str, Any]
Errors = vc.Errors

GROUP = "rbac.authorization.k8s.io"
ROLE_REF_KINDS = ("Role", "ClusterRole")
SUBJECT_KINDS = ("ServiceAccount", "User", "Group")
_RULE_LISTS = ("verbs", "apiGroups", "resources", "resourceNames", "nonResourceURLs")


def name_errors(name: str) -> list[str]:
    """ValidateRBACName: path.IsValidPathSegmentName."""
    return vc.path_segment_name(name)


# -- shapes ------------------------------------------------------------------------------


def _type_error(path: str, value: Any, want: str) -> errors.StatusError:
    got = {str: "string", bool: "bool", int: "number", float: "number", list: "array", dict: "object"}.get(
        type(value), "null")
    return errors.BadRequest(f"json: cannot unmarshal {got} into Go struct field {path} of type {want}")


def _strings(value: Any, path: str) -> None:
    if value is None:
        return
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _type_error(path, value, "[]string")


def _object(value: Any, path: str) -> Obj:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _type_error(path, value, "object")
    return value


def _string(value: Any, path: str) -> None:
    if value is not None and not isinstance(value, str):
        raise _type_error(path, value, "string")


def _objects(value: Any, path: str) -> list[Obj]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise _type_error(path, value, "[]object")
    return [_object(v, f"{path}[{i}]") for i, v in enumerate(value)]


def check_shapes(kind: str, obj: Obj) -> None:
    """Raise BadRequest for a field of the wrong JSON type (before defaulting reads it)."""
    if kind in ("Role", "ClusterRole"):
        for i, r in enumerate(_objects(obj.get("rules"), "rules")):
            for key in _RULE_LISTS:
                _strings(r.get(key), f"rules[{i}].{key}")
        _object(obj.get("aggregationRule"), "aggregationRule")
    elif kind in ("RoleBinding", "ClusterRoleBinding"):
        ref = _object(obj.get("roleRef"), "roleRef")
        for key in ("apiGroup", "kind", "name"):
            _string(ref.get(key), f"roleRef.{key}")
        for i, s in enumerate(_objects(obj.get("subjects"), "subjects")):
            for key in ("kind", "apiGroup", "name", "namespace"):
                _string(s.get(key), f"subjects[{i}].{key}")


# -- defaults ------------------------------------------------------------------------------


def apply_defaults(obj: Obj, old: Obj | None) -> None:
    """SetDefaults_ClusterRoleBinding/RoleBinding/Subject: the groups clients may leave out."""
    check_shapes(str(obj.get("kind") or ""), obj)
    if obj.get("kind") not in ("RoleBinding", "ClusterRoleBinding"):
        return
    ref = obj.get("roleRef")
    if isinstance(ref, dict) and not ref.get("apiGroup"):
        ref["apiGroup"] = GROUP
    for s in obj.get("subjects") or []:
        if isinstance(s, dict) and not s.get("apiGroup"):
            if s.get("kind") in ("User", "Group"):
                s["apiGroup"] = GROUP
            elif s.get("kind") == "ServiceAccount":
                s.pop("apiGroup", None)


# -- validation ----------------------------------------------------------------------------


def _policy_rule(errs: Errors, rule: Obj, namespaced: bool, path: str) -> None:
    if not rule.get("verbs"):
        errs.required(f"{path}.verbs", "verbs must contain at least one value")
    urls = rule.get("nonResourceURLs") or []
    if urls:
        if namespaced:
            errs.invalid(f"{path}.nonResourceURLs", urls, "namespaced rules cannot apply to non-resource URLs")
        if rule.get("apiGroups") or rule.get("resources") or rule.get("resourceNames"):
            errs.invalid(f"{path}.nonResourceURLs", urls,
                         "rules cannot apply to both regular resources and non-resource URLs")
        return
    if not rule.get("apiGroups"):
        errs.required(f"{path}.apiGroups", "resource rules must supply at least one api group")
    if not rule.get("resources"):
        errs.required(f"{path}.resources", "resource rules must supply at least one resource")


def _role(errs: Errors, res: resources.Resource, obj: Obj, old: Obj | None) -> None:
    namespaced = res.kind == "Role"
    for i, rule in enumerate(vc.as_list(obj.get("rules"))):
        _policy_rule(errs, vc.as_dict(rule), namespaced, f"rules[{i}]")
    if not namespaced and obj.get("aggregationRule") is not None:
        agg = vc.as_dict(obj.get("aggregationRule"))
        selectors = vc.as_list(agg.get("clusterRoleSelectors"))
        if not selectors:
            errs.required("aggregationRule.clusterRoleSelectors", "at least one clusterRoleSelector required if "
                                                                  "aggregationRule is non-nil")
        for i, sel in enumerate(selectors):
            vc.validate_label_selector(errs, sel, f"aggregationRule.clusterRoleSelectors[{i}]")
        if vc.as_list(obj.get("rules")):
            errs.invalid("rules", vc.GoRepr("[]rbac.PolicyRule{...}"),
                         "rules must be empty when aggregationRule is set")


def _subject(errs: Errors, subject: Obj, namespaced: bool, path: str) -> None:
    name, kind, group = (vc.as_str(subject.get(k)) for k in ("name", "kind", "apiGroup"))
    if not name:
        errs.required(f"{path}.name")
    if kind == "ServiceAccount":
        if name:
            errs.invalid_each(f"{path}.name", name, vc.dns1123_subdomain(name))
        if group:
            errs.not_supported(f"{path}.apiGroup", group, [""])
        if not namespaced and not subject.get("namespace"):
            errs.required(f"{path}.namespace")
    elif kind in ("User", "Group"):
        if group != GROUP:
            errs.not_supported(f"{path}.apiGroup", group, [GROUP])
    else:
        errs.not_supported(f"{path}.kind", kind, list(SUBJECT_KINDS))


def _binding(errs: Errors, res: resources.Resource, obj: Obj, old: Obj | None) -> None:
    namespaced = res.kind == "RoleBinding"
    ref = vc.as_dict(obj.get("roleRef"))
    group, kind, name = (vc.as_str(ref.get(k)) for k in ("apiGroup", "kind", "name"))
    if group != GROUP:
        errs.not_supported("roleRef.apiGroup", group, [GROUP])
    allowed_kinds = ROLE_REF_KINDS if namespaced else ("ClusterRole",)
    if kind not in allowed_kinds:
        errs.not_supported("roleRef.kind", kind, list(allowed_kinds))
    if not name:
        errs.required("roleRef.name")
    else:
        errs.invalid_each("roleRef.name", name, name_errors(name))
    for i, subject in enumerate(vc.as_list(obj.get("subjects"))):
        _subject(errs, vc.as_dict(subject), namespaced, f"subjects[{i}]")
    if old is not None:
        old_ref = vc.as_dict(old.get("roleRef"))
        if any(vc.as_str(ref.get(k)) != vc.as_str(old_ref.get(k)) for k in ("apiGroup", "kind", "name")):
            shown = vc.GoRepr(f"rbac.RoleRef{{APIGroup:{vc.go_quote(group)}, Kind:{vc.go_quote(kind)}, "
                              f"Name:{vc.go_quote(name)}}}")
            errs.invalid("roleRef", shown, "cannot change roleRef")




# -- authorization.k8s.io reviews ----------------------------------------------------------------

AUTHORIZATION_GROUP = "authorization.k8s.io"


def check_review_shapes(obj: Obj) -> None:
    spec = _object(obj.get("spec"), "spec")
    for key in ("user", "uid", "namespace"):
        _string(spec.get(key), f"spec.{key}")
    _strings(spec.get("groups"), "spec.groups")
    extra = _object(spec.get("extra"), "spec.extra")
    for key, values in extra.items():
        _strings(values, f"spec.extra[{key}]")
    attrs = _object(spec.get("resourceAttributes"), "spec.resourceAttributes")
    for key in ("namespace", "verb", "group", "version", "resource", "subresource", "name"):
        _string(attrs.get(key), f"spec.resourceAttributes.{key}")
    non = _object(spec.get("nonResourceAttributes"), "spec.nonResourceAttributes")
    for key in ("path", "verb"):
        _string(non.get(key), f"spec.nonResourceAttributes.{key}")


def _access_review_spec(errs: Errors, spec: Obj, self_review: bool) -> None:
    has_resource = spec.get("resourceAttributes") is not None
    has_non_resource = spec.get("nonResourceAttributes") is not None
    if has_resource and has_non_resource:
        errs.invalid("spec.nonResourceAttributes", vc.GoRepr("&authorization.NonResourceAttributes{...}"),
                     "cannot be specified in combination with resourceAttributes")
    if not has_resource and not has_non_resource:
        errs.invalid("spec.resourceAttributes", vc.GoRepr("nil"),
                     "exactly one of nonResourceAttributes or resourceAttributes must be specified")
    if not self_review and not spec.get("user") and not spec.get("groups"):
        errs.invalid("spec.user", vc.as_str(spec.get("user")), "at least one of user or group must be specified")


def _meta_empty(meta: Obj, allow_namespace: bool) -> bool:
    ignored = {"managedFields", "creationTimestamp"} | ({"namespace"} if allow_namespace else set())
    return not any(v not in (None, "", {}, []) for k, v in meta.items() if k not in ignored)


def validate_review(kind: str, obj: Obj) -> None:
    """Raise Invalid (422) for a review that cannot be answered."""
    errs = Errors()
    spec = vc.as_dict(obj.get("spec"))
    meta = vc.as_dict(obj.get("metadata"))
    if kind == "SelfSubjectRulesReview":
        pass  # spec.namespace: empty means cluster-wide rules only
    elif kind == "SelfSubjectAccessReview":
        _access_review_spec(errs, spec, self_review=True)
    else:
        _access_review_spec(errs, spec, self_review=False)
        local = kind == "LocalSubjectAccessReview"
        if not _meta_empty(meta, allow_namespace=local):
            errs.invalid("metadata", vc.GoRepr("v1.ObjectMeta{...}"),
                         "must be empty except for namespace" if local else "must be empty")
        if local:
            attrs = spec.get("resourceAttributes")
            if isinstance(attrs, dict) and vc.as_str(attrs.get("namespace")) != vc.as_str(meta.get("namespace")):
                errs.invalid("spec.resourceAttributes.namespace", vc.as_str(attrs.get("namespace")),
                             "must match metadata.namespace")
            if spec.get("nonResourceAttributes") is not None:
                errs.invalid("spec.nonResourceAttributes", vc.GoRepr("&authorization.NonResourceAttributes{...}"),
                             "disallowed on this kind of request")
    errs.raise_invalid(kind, "", AUTHORIZATION_GROUP)


# -- strategies ------------------------------------------------------------------------------
# pkg/registry/rbac/*/strategy.go: no status, no generation, and printRole /
# printRoleBinding for the tables.

_ROLE_COLUMNS = (
    printing.name_column(),
    printing.column("Created At", "date", "CreationTimestamp is a timestamp representing the server time when "
                                          "this object was created."),
)


def _role_cells(obj: Mapping[str, Any], now: datetime.datetime) -> printing.Cells:
    created = rfc3339.parse((obj.get("metadata") or {}).get("creationTimestamp"))
    return [printing.name(obj), rfc3339.format(created) if created else ""]


_BINDING_COLUMNS = (
    printing.name_column(),
    printing.column("Role", desc="RoleRef is the Role to bind to."),
    printing.age_column(),
    printing.column("Users", desc="Users in the binding", priority=1),
    printing.column("Groups", desc="Groups in the binding", priority=1),
    printing.column("ServiceAccounts", desc="ServiceAccounts in the binding", priority=1),
)


def _binding_cells(obj: Mapping[str, Any], now: datetime.datetime) -> printing.Cells:
    ref = obj.get("roleRef") or {}
    by_kind: dict[str, list[str]] = {"User": [], "Group": [], "ServiceAccount": []}
    for s in obj.get("subjects") or []:
        if s.get("kind") == "ServiceAccount":
            by_kind["ServiceAccount"].append(f"{s.get('namespace') or ''}/{s.get('name') or ''}")
        elif s.get("kind") in by_kind:
            by_kind[s["kind"]].append(s.get("name") or "")
    return [printing.name(obj), f"{ref.get('kind') or ''}/{ref.get('name') or ''}", printing.age(obj, now),
            ", ".join(by_kind["User"]), ", ".join(by_kind["Group"]), ", ".join(by_kind["ServiceAccount"])]


class _RBACStrategy(strategy.Strategy):
    group = GROUP

    def name_errors(self, name: str) -> list[str]:
        return name_errors(name)

    def defaults(self, res: resources.Resource, obj: Obj, old: Obj | None, settings: strategy.Settings) -> None:
        apply_defaults(obj, old)


class RoleStrategy(_RBACStrategy):
    kind = "Role"
    printer = printing.Printer(_ROLE_COLUMNS, _role_cells)

    def check(self, errs: Errors, res: resources.Resource, obj: Obj, old: Obj | None) -> None:
        _role(errs, res, obj, old)


class ClusterRoleStrategy(RoleStrategy):
    kind = "ClusterRole"


class RoleBindingStrategy(_RBACStrategy):
    kind = "RoleBinding"
    printer = printing.Printer(_BINDING_COLUMNS, _binding_cells)

    def check(self, errs: Errors, res: resources.Resource, obj: Obj, old: Obj | None) -> None:
        _binding(errs, res, obj, old)


class ClusterRoleBindingStrategy(RoleBindingStrategy):
    kind = "ClusterRoleBinding"


class _ReviewStrategy(strategy.Strategy):
    """The access reviews are create-only questions the authorizer answers
    (minik8s/apiserver/authz/reviews.py validates them with validate_review);
    they are never stored, so nothing here runs on a write."""

    group = AUTHORIZATION_GROUP


class SelfSubjectAccessReviewStrategy(_ReviewStrategy):
    kind = "SelfSubjectAccessReview"


class SelfSubjectRulesReviewStrategy(_ReviewStrategy):
    kind = "SelfSubjectRulesReview"


class SubjectAccessReviewStrategy(_ReviewStrategy):
    kind = "SubjectAccessReview"


class LocalSubjectAccessReviewStrategy(_ReviewStrategy):
    kind = "LocalSubjectAccessReview"


STRATEGIES: tuple[strategy.Strategy, ...] = (
    RoleStrategy(), ClusterRoleStrategy(), RoleBindingStrategy(), ClusterRoleBindingStrategy(),
    SelfSubjectAccessReviewStrategy(), SelfSubjectRulesReviewStrategy(), SubjectAccessReviewStrategy(),
    LocalSubjectAccessReviewStrategy(),
)
