"""Facts about a pod read from its spec and status, shared by every component.

QoS class, readiness and readiness gates are read the same way by the API
server, the kubelet, the controllers, the printers and the CLI, as Kubernetes'
pkg/api/v1/pod helpers are.
"""
from __future__ import annotations

from typing import Any, Mapping

from minik8s.api import conditions
from minik8s.api import rfc3339


def qos_class(pod: dict[str, Any]) -> str:
    """BestEffort / Guaranteed / Burstable, as Kubernetes' GetPodQOS."""
    def dict_of(value: Any) -> dict[str, Any]:
        return value if isinstance(value, dict) else {}

    def list_of(value: Any) -> list[Any]:
        return value if isinstance(value, list) else []

    # Read before validation on create: any member may have the wrong type.
    spec = dict_of(pod.get("spec"))
    containers = [c for c in list_of(spec.get("containers")) + list_of(spec.get("initContainers"))
                  if isinstance(c, dict)]
    any_set, guaranteed = False, True
    for c in containers:
        res = dict_of(c.get("resources"))
        req, lim = dict_of(res.get("requests")), dict_of(res.get("limits"))
        if req or lim:
            any_set = True
        for name in ("cpu", "memory"):
            if name not in lim or str(req.get(name, lim.get(name))) != str(lim[name]):
                guaranteed = False
    if not any_set:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"


def ready_condition(pod: dict[str, Any]) -> dict[str, Any] | None:
    """The pod's Ready condition (podutil.GetPodReadyCondition)."""
    cond: dict[str, Any] | None = conditions.get(pod, "Ready")
    return cond


def is_ready(pod: dict[str, Any]) -> bool:
    """podutil.IsPodReady: the Ready condition is True."""
    return conditions.is_true(pod, "Ready")


def ready_since(pod: dict[str, Any]) -> float | None:
    """When a Ready pod last became Ready (epoch seconds); None if it is not Ready."""
    cond = ready_condition(pod)
    if cond is None or cond.get("status") != "True":
        return None
    return rfc3339.parse_epoch(cond.get("lastTransitionTime"))


def readiness_gates(pod: Mapping[str, Any]) -> list[tuple[str, dict[str, Any] | None]]:
    """(conditionType, its condition or None) for each of spec.readinessGates."""
    found = conditions.of(pod)
    return [(gate.get("conditionType", ""), conditions.find(found, gate.get("conditionType", "")))
            for gate in (pod.get("spec") or {}).get("readinessGates") or []]
