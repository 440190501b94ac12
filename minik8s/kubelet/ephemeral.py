"""Ephemeral containers: the debugging containers `kubectl debug` adds to a running pod.

They join the pod's sandbox (its network and IPC namespaces) like any container, and,
with a targetContainerName, that container's process namespace, so the debugger sees
its processes. They are started once and never restarted, they count for neither
the pod's readiness nor its phase, and a pod is never killed for them
(computePodActions' EphemeralContainersToStart).
"""
from __future__ import annotations

from typing import Any

from minik8s.kubelet import runtime

Obj = dict[str, Any]


def containers(pod: Obj) -> list[Obj]:
    return [c for c in (pod.get("spec") or {}).get("ephemeralContainers") or [] if isinstance(c, dict)]


def names(pod: Obj) -> set[str]:
    return {c["name"] for c in containers(pod) if c.get("name")}


def to_start(pod: Obj, rs: runtime.PodRuntimeStatus) -> list[str]:
    """The ephemeral containers that never ran: each runs once."""
    if (pod.get("metadata") or {}).get("deletionTimestamp"):
        return []
    return [c["name"] for c in containers(pod) if c.get("name") and rs.latest(c["name"]) is None]


def pid_target(container: Obj, rs: runtime.PodRuntimeStatus) -> str:
    """The running container whose process namespace an ephemeral container joins, or ""."""
    target = container.get("targetContainerName")
    if not target:
        return ""
    status = rs.latest(target)
    return status.id if status is not None and status.state == runtime.RUNNING else ""
