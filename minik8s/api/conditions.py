"""Status conditions: the `status.conditions` lists of pods, nodes, workloads.

Every kind keys its conditions by `type`, and Kubernetes reads them the same
way everywhere (podutil.GetPodConditionFromList, GetNodeCondition,
GetDeploymentCondition): the first condition of a type is *the* condition of
that type. These helpers are that one reading, so a controller, the kubelet,
the scheduler, the printers and the CLI all agree on what "Ready" means.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping

Obj = Mapping[str, Any]


def of(obj: Obj | None) -> list[Any]:
    """`obj.status.conditions`, or an empty list."""
    return list(((obj or {}).get("status") or {}).get("conditions") or [])


def find(conditions: Iterable[Any] | None, type_: str) -> Any:
    """The first condition of `type_` in a list of conditions, or None."""
    for c in conditions or []:
        if isinstance(c, Mapping) and c.get("type") == type_:
            return c
    return None


def get(obj: Obj | None, type_: str) -> Any:
    """The `type_` condition of an object (a pod, a node, ...), or None."""
    return find(of(obj), type_)


def status(obj: Obj | None, type_: str) -> str | None:
    """"True", "False", "Unknown", or None when the object has no such condition."""
    cond = get(obj, type_)
    return None if cond is None else cond.get("status")


def is_true(obj: Obj | None, type_: str) -> bool:
    return status(obj, type_) == "True"


def replace(status_: dict[str, Any], cond: dict[str, Any]) -> None:
    """Put `cond` in place of any condition of its type, last in the list."""
    status_["conditions"] = [*(c for c in status_.get("conditions") or [] if c.get("type") != cond["type"]), cond]
