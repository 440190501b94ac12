"""Helpers for server-side defaulting, which every kind's strategy uses.

kube-apiserver defaults an object (pkg/apis/<group>/v1/defaults.go and the
generated SetObjectDefaults_* walks) before it validates it. Each kind's rules
live with its strategy (minik8s/api/kinds/); what they share is here: Go's
zero values, which cannot tell an omitted scalar from 0 or "", and the
canonical spelling of resource quantities. Objects are the JSON dicts of the
API; defaulting mutates them in place and only fills what is absent (or zero
where Go cannot tell zero from absent).
"""
from __future__ import annotations

from typing import Any

from minik8s.api import quantity

Obj = dict[str, Any]


def ensure_dict(parent: Obj, key: str) -> Obj:
    """parent[key] as a dict, creating it (Go's zero struct) when absent.

    A member of another type is left in place for validation to report (a
    detached dict takes the defaults), rather than quietly replaced."""
    value = parent.get(key)
    if value is None:
        value = parent[key] = {}
    elif not isinstance(value, dict):
        return {}
    return value


def dicts(value: Any) -> list[Obj]:
    """The dict items of a list (what a Go slice of structs would decode)."""
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def child(parent: Any, key: str) -> Obj | None:
    """parent[key] when both are dicts (a Go pointer to a struct), else None."""
    value = parent.get(key) if isinstance(parent, dict) else None
    return value if isinstance(value, dict) else None


def is_zero(value: Any) -> bool:
    """Go cannot tell an omitted scalar from its zero value."""
    return value is None or value == 0 or value == ""


def set_if_zero(obj: Obj, key: str, value: Any) -> None:
    if is_zero(obj.get(key)):
        obj[key] = value


def resource_list(resources_: Any) -> None:
    """SetDefaults_ResourceList: round up to 1m and store the canonical spelling."""
    if not isinstance(resources_, dict):
        return
    for name, value in list(resources_.items()):
        try:
            resources_[name] = quantity.canonicalize(value, round_to_milli=True)
        except ValueError:
            pass  # left for validation to report


def canonical_quantity(obj: Obj, key: str) -> None:
    """obj[key] in its canonical spelling, when it parses as a quantity."""
    try:
        obj[key] = quantity.canonicalize(obj[key])
    except ValueError:
        pass
