"""Facts about a pod derived from its spec alone, shared by the API server and the kubelet."""
from __future__ import annotations

from typing import Any


def qos_class(pod: dict[str, Any]) -> str:
    """BestEffort / Guaranteed / Burstable, as Kubernetes' GetPodQOS."""
    spec = pod.get("spec") or {}
    containers = list(spec.get("containers") or []) + list(spec.get("initContainers") or [])
    any_set, guaranteed = False, True
    for c in containers:
        res = c.get("resources") or {}
        req, lim = res.get("requests") or {}, res.get("limits") or {}
        if req or lim:
            any_set = True
        for name in ("cpu", "memory"):
            if name not in lim or str(req.get(name, lim.get(name))) != str(lim[name]):
                guaranteed = False
    if not any_set:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"
