"""The downward API: a pod's own fields and resources, as env values and volume files.

Both `env[].valueFrom.fieldRef/resourceFieldRef` and downwardAPI volume items
(also inside projected volumes) read the same fields (pkg/fieldpath and
pkg/api/v1/resource): metadata.name/namespace/uid, single labels and
annotations (`metadata.labels['app']`), spec.nodeName,
spec.serviceAccountName, status.hostIP(s), status.podIP(s); volumes also take
all labels or all annotations (`key="value"` lines, sorted). Resources are
limits/requests of cpu, memory and ephemeral-storage divided by the divisor
and rounded up, an unset limit reading as the node's allocatable. Pure.
"""
from __future__ import annotations

import dataclasses
import math
from fractions import Fraction
from typing import Any, Mapping

from minik8s.api import quantity
from minik8s.api import validation

Obj = dict[str, Any]


class DownwardError(ValueError):
    """A field or resource the downward API does not offer, or a container that does not exist."""


@dataclasses.dataclass(frozen=True)
class PodFacts:
    """What the downward API knows about a pod besides its object."""

    node_name: str
    host_ip: str
    pod_ip: str
    node_allocatable: Mapping[str, str] = dataclasses.field(default_factory=dict)


def _subscript(path: str, prefix: str) -> str | None:
    """`metadata.labels['app']` -> `app`."""
    if path.startswith(prefix + "['") and path.endswith("']"):
        return path[len(prefix) + 2:-2]
    return None


def format_map(values: Mapping[str, Any] | None) -> str:
    """fieldpath.FormatMap: `key="value"` lines (Go-quoted values), sorted by key."""
    return "\n".join(f"{k}={validation.go_quote(str(v))}" for k, v in sorted((values or {}).items()))


def field_value(pod: Obj, path: str, facts: PodFacts, *, whole_maps: bool = False) -> str:
    """fieldpath.ExtractFieldPathAsString plus the status fields the kubelet fills in."""
    meta, spec = pod.get("metadata") or {}, pod.get("spec") or {}
    simple = {
        "metadata.name": meta.get("name", ""),
        "metadata.namespace": meta.get("namespace", ""),
        "metadata.uid": meta.get("uid", ""),
        "spec.nodeName": spec.get("nodeName") or facts.node_name,
        "spec.serviceAccountName": spec.get("serviceAccountName", ""),
        "status.hostIP": facts.host_ip,
        "status.hostIPs": facts.host_ip,
        "status.podIP": facts.pod_ip,
        "status.podIPs": facts.pod_ip,
    }
    if path in simple:
        return str(simple[path] or "")
    if whole_maps and path == "metadata.labels":
        return format_map(meta.get("labels"))
    if whole_maps and path == "metadata.annotations":
        return format_map(meta.get("annotations"))
    key = _subscript(path, "metadata.labels")
    if key is not None:
        return str((meta.get("labels") or {}).get(key, ""))
    key = _subscript(path, "metadata.annotations")
    if key is not None:
        return str((meta.get("annotations") or {}).get(key, ""))
    raise DownwardError(f"unsupported fieldPath: {path}")


def resource_value(container: Obj, ref: Obj, facts: PodFacts) -> str:
    """ExtractContainerResourceValue: limits/requests of cpu, memory, ephemeral-storage
    divided by the divisor, rounded up; an unset limit is the node's allocatable."""
    resource = str(ref.get("resource") or "")
    kind, _, name = resource.partition(".")
    if kind not in ("limits", "requests") or name not in ("cpu", "memory", "ephemeral-storage"):
        raise DownwardError(f"unsupported container resource : {resource!r}")
    res = container.get("resources") or {}
    value = (res.get(kind) or {}).get(name)
    if value is None and kind == "limits":
        value = facts.node_allocatable.get(name)
    if value is None:
        value = "0"
    divisor = quantity.parse_quantity(str(ref.get("divisor") or "1")) or Fraction(1)
    if divisor == 0:
        divisor = Fraction(1)
    amount = quantity.parse_quantity(str(value))
    if name == "cpu":
        # convertResourceCPUToString: MilliValue() of both, then the ceiling of the quotient.
        return str(math.ceil(Fraction(quantity.cpu_millis(amount), max(quantity.cpu_millis(divisor), 1))))
    # convertResourceMemoryToString / EphemeralStorage: Value() of both.
    return str(math.ceil(Fraction(quantity.to_bytes(amount), max(quantity.to_bytes(divisor), 1))))


def container_named(pod: Obj, name: str) -> Obj:
    spec = pod.get("spec") or {}
    for key in ("containers", "initContainers"):
        for c in spec.get(key) or []:
            if c.get("name") == name:
                return dict(c)
    raise DownwardError(f"container {name} not found")
