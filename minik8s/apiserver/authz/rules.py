"""RBAC policy rules: matching a request, and whether some rules cover others.

`rule_allows` is Kubernetes' RuleAllows (pkg/apis/rbac/v1/evaluation_helpers.go):
a resource request matches when its verb, API group, resource (`pods`,
`pods/log`, `*`, or `*/scale` for any resource's scale subresource) and name
(if the rule lists resourceNames) all match; a non-resource request matches on
verb and path (`/apis/*` covers everything under /apis/, not /apis itself).

`covers` is the escalation check's comparator (component-helpers
auth/rbac/validation): the servant rules are broken down into one
(group, resource, verb, name) tuple each, and every tuple must be covered by
one owner rule. `*` in the servant is only covered by `*` in the owner.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Iterable, Sequence

from minik8s.apiserver.authz import authorizer

VERB_ALL = "*"
API_GROUP_ALL = "*"
RESOURCE_ALL = "*"
NON_RESOURCE_ALL = "*"


@dataclasses.dataclass(frozen=True)
class PolicyRule:
    verbs: tuple[str, ...] = ()
    api_groups: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    resource_names: tuple[str, ...] = ()
    non_resource_urls: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The rule as RBAC objects serialise it (empty lists left out, as Go's omitempty)."""
        out: dict[str, Any] = {"verbs": list(self.verbs)}
        if self.api_groups:
            out["apiGroups"] = list(self.api_groups)
        if self.resources:
            out["resources"] = list(self.resources)
        if self.resource_names:
            out["resourceNames"] = list(self.resource_names)
        if self.non_resource_urls:
            out["nonResourceURLs"] = list(self.non_resource_urls)
        return out

    def compact(self) -> str:
        """CompactString: how an escalation error lists a missing permission."""
        def q(xs: tuple[str, ...]) -> str:
            return "[" + " ".join(f'"{x}"' for x in xs) + "]"
        parts = []
        if self.api_groups:
            parts.append(f"APIGroups:{q(self.api_groups)}")
        if self.resources:
            parts.append(f"Resources:{q(self.resources)}")
        if self.non_resource_urls:
            parts.append(f"NonResourceURLs:{q(self.non_resource_urls)}")
        if self.resource_names:
            parts.append(f"ResourceNames:{q(self.resource_names)}")
        if self.verbs:
            parts.append(f"Verbs:{q(self.verbs)}")
        return "{" + ", ".join(parts) + "}"


def rule(verbs: Sequence[str], groups: Sequence[str] = (), resources: Sequence[str] = (),
         names: Sequence[str] = (), urls: Sequence[str] = ()) -> PolicyRule:
    """A rule in the bootstrap policy's terse form (rbacv1helpers.NewRule(...).Groups(...)...)."""
    return PolicyRule(tuple(verbs), tuple(groups), tuple(resources), tuple(names), tuple(urls))


def _strings(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(v for v in value if isinstance(v, str))


def from_dict(obj: Any) -> PolicyRule:
    """A PolicyRule from an object's JSON (already validated; anything odd reads as empty)."""
    if not isinstance(obj, dict):
        return PolicyRule()
    return PolicyRule(_strings(obj.get("verbs")), _strings(obj.get("apiGroups")), _strings(obj.get("resources")),
                      _strings(obj.get("resourceNames")), _strings(obj.get("nonResourceURLs")))


def from_list(value: Any) -> tuple[PolicyRule, ...]:
    return tuple(from_dict(r) for r in value) if isinstance(value, list) else ()


# -- matching ----------------------------------------------------------------------


def verb_matches(r: PolicyRule, verb: str) -> bool:
    return VERB_ALL in r.verbs or verb in r.verbs


def api_group_matches(r: PolicyRule, group: str) -> bool:
    return API_GROUP_ALL in r.api_groups or group in r.api_groups


def resource_matches(r: PolicyRule, combined: str, subresource: str) -> bool:
    for res in r.resources:
        if res == RESOURCE_ALL or res == combined:
            return True
        # `*/scale` matches the scale subresource of any resource.
        if subresource and len(res) == len(subresource) + 2 and res.startswith("*/") and res.endswith(subresource):
            return True
    return False


def resource_name_matches(r: PolicyRule, name: str) -> bool:
    return not r.resource_names or name in r.resource_names


def non_resource_url_matches(r: PolicyRule, path: str) -> bool:
    for url in r.non_resource_urls:
        if url == NON_RESOURCE_ALL or url == path:
            return True
        if url.endswith("*") and path.startswith(url.rstrip("*")):
            return True
    return False


def rule_allows(attrs: authorizer.Attributes, r: PolicyRule) -> bool:
    if attrs.resource_request:
        combined = f"{attrs.resource}/{attrs.subresource}" if attrs.subresource else attrs.resource
        return (verb_matches(r, attrs.verb) and api_group_matches(r, attrs.api_group)
                and resource_matches(r, combined, attrs.subresource) and resource_name_matches(r, attrs.name))
    return verb_matches(r, attrs.verb) and non_resource_url_matches(r, attrs.path)


def rules_allow(attrs: authorizer.Attributes, rules: Iterable[PolicyRule]) -> bool:
    """RulesAllow: any rule allows (the hot path of every RBAC decision, so without per-rule setup)."""
    verb = attrs.verb
    if not attrs.resource_request:
        return any(verb_matches(r, verb) and non_resource_url_matches(r, attrs.path) for r in rules)
    sub, group, name = attrs.subresource, attrs.api_group, attrs.name
    combined = f"{attrs.resource}/{sub}" if sub else attrs.resource
    return any(verb_matches(r, verb) and api_group_matches(r, group) and resource_matches(r, combined, sub)
               and resource_name_matches(r, name) for r in rules)


# -- covering (escalation checks) --------------------------------------------------------


def breakdown(r: PolicyRule) -> list[PolicyRule]:
    """The rule as rules of one verb, one group, one resource and at most one name each."""
    out: list[PolicyRule] = []
    for group in r.api_groups:
        for resource in r.resources:
            for verb in r.verbs:
                if r.resource_names:
                    out.extend(PolicyRule((verb,), (group,), (resource,), (name,)) for name in r.resource_names)
                else:
                    out.append(PolicyRule((verb,), (group,), (resource,)))
    # Non-resource URLs only combine with verbs.
    for url in r.non_resource_urls:
        out.extend(PolicyRule((verb,), non_resource_urls=(url,)) for verb in r.verbs)
    return out


def _has_all(owned: tuple[str, ...], wanted: tuple[str, ...]) -> bool:
    return set(wanted) <= set(owned)


def _resources_cover(owned: tuple[str, ...], wanted: tuple[str, ...]) -> bool:
    if RESOURCE_ALL in owned or _has_all(owned, wanted):
        return True
    for path in wanted:
        if path in owned:
            continue
        if "/" not in path:
            return False
        if "*/" + path.split("/", 1)[1] not in owned:
            return False
    return True


def non_resource_url_covers(owner: str, sub: str) -> bool:
    if owner == sub:
        return True
    return owner.endswith("*") and sub.startswith(owner.rstrip("*"))


def _urls_cover(owned: tuple[str, ...], wanted: tuple[str, ...]) -> bool:
    return all(any(non_resource_url_covers(o, w) for o in owned) for w in wanted)


def rule_covers(owner: PolicyRule, sub: PolicyRule) -> bool:
    """Whether `owner` covers `sub` (a broken-down rule)."""
    verbs = VERB_ALL in owner.verbs or _has_all(owner.verbs, sub.verbs)
    groups = API_GROUP_ALL in owner.api_groups or _has_all(owner.api_groups, sub.api_groups)
    resources = _resources_cover(owner.resources, sub.resources)
    urls = _urls_cover(owner.non_resource_urls, sub.non_resource_urls)
    if not sub.resource_names:
        names = not owner.resource_names
    else:
        names = not owner.resource_names or _has_all(owner.resource_names, sub.resource_names)
    return verbs and groups and resources and names and urls


def covers(owner: Sequence[PolicyRule], servant: Sequence[PolicyRule]) -> tuple[bool, list[PolicyRule]]:
    """(covered, the broken-down servant rules no owner rule covers)."""
    uncovered = [sub for r in servant for sub in breakdown(r) if not any(rule_covers(o, sub) for o in owner)]
    return not uncovered, uncovered


def compact(uncovered: Sequence[PolicyRule]) -> list[PolicyRule]:
    """Merge broken-down rules that differ only in verb (CompactRules), for a readable error."""
    merged: dict[tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[str, ...]], list[str]] = {}
    order = []
    for r in uncovered:
        key = (r.api_groups, r.resources, r.resource_names, r.non_resource_urls)
        if key not in merged:
            merged[key] = []
            order.append(key)
        for v in r.verbs:
            if v not in merged[key]:
                merged[key].append(v)
    return [PolicyRule(tuple(merged[k]), k[0], k[1], k[2], k[3]) for k in order]
