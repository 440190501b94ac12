"""The DaemonSet controller's pure rules (pkg/controller/daemon/util, daemon_controller.go helpers).

Which nodes a DaemonSet wants (`node_should_run`: the pod's nodeName,
nodeSelector and required node affinity, and the node's NoSchedule/NoExecute
taints against the pod's tolerations plus the DaemonSet defaults), the pod
template a DaemonSet creates (default tolerations, the controller-revision-hash
and pod-template-generation labels, node affinity pinning it to one node), the
ControllerRevision data (a strategic merge patch that replaces spec.template,
what `kubectl rollout undo` applies), the rolling update numbers and pod
ordering. No I/O.
"""
from __future__ import annotations

import copy
import dataclasses
import functools
from typing import Any, Iterable

from minik8s.api import pods as podutil
from minik8s.api import rfc3339
from minik8s.controllers import nodelifecycle
from minik8s.controllers.deployment import util as deployment_util

Obj = dict[str, Any]

HASH_LABEL = "controller-revision-hash"  # DefaultDaemonSetUniqueLabelKey
GENERATION_LABEL = "pod-template-generation"  # DaemonSetTemplateGenerationKey
TEMPLATE_GENERATION_ANNOTATION = "deprecated.daemonset.template.generation"
FAILED_DAEMON_POD = "FailedDaemonPod"
SUCCEEDED_DAEMON_POD = "SucceededDaemonPod"

NOT_READY = "node.kubernetes.io/not-ready"
UNREACHABLE = "node.kubernetes.io/unreachable"
DISK_PRESSURE = "node.kubernetes.io/disk-pressure"
MEMORY_PRESSURE = "node.kubernetes.io/memory-pressure"
PID_PRESSURE = "node.kubernetes.io/pid-pressure"
UNSCHEDULABLE = "node.kubernetes.io/unschedulable"
NETWORK_UNAVAILABLE = "node.kubernetes.io/network-unavailable"


# -- tolerations and the pod a DaemonSet would run on a node ---------------------------------


def _add_or_update_toleration(spec: Obj, toleration: Obj) -> None:
    """v1helper.AddOrUpdateTolerationInPodSpec: replace one with the same key/operator/value/effect."""
    tolerations = spec.setdefault("tolerations", [])
    for i, t in enumerate(tolerations):
        if t.get("key") == toleration["key"] and t.get("effect") == toleration["effect"] and \
                t.get("operator", "Equal") == toleration["operator"] and not t.get("value"):
            tolerations[i] = dict(toleration)
            return
    tolerations.append(dict(toleration))


def add_daemon_tolerations(spec: Obj) -> None:
    """AddOrUpdateDaemonPodTolerations: a daemon outlives node problems and cordoning."""
    for key in (NOT_READY, UNREACHABLE):
        _add_or_update_toleration(spec, {"key": key, "operator": "Exists", "effect": "NoExecute"})
    for key in (DISK_PRESSURE, MEMORY_PRESSURE, PID_PRESSURE, UNSCHEDULABLE):
        _add_or_update_toleration(spec, {"key": key, "operator": "Exists", "effect": "NoSchedule"})
    if spec.get("hostNetwork"):
        _add_or_update_toleration(spec, {"key": NETWORK_UNAVAILABLE, "operator": "Exists", "effect": "NoSchedule"})


def new_pod(ds: Obj, node_name: str) -> Obj:
    """NewPod: the template on a node, with the default tolerations."""
    template = (ds.get("spec") or {}).get("template") or {}
    spec = copy.deepcopy(template.get("spec") or {})
    spec["nodeName"] = node_name
    add_daemon_tolerations(spec)
    return {"metadata": copy.deepcopy(template.get("metadata") or {}), "spec": spec}


def _requirement_matches(req: Obj, value: str | None) -> bool:
    op, values = req.get("operator"), [str(v) for v in req.get("values") or []]
    if op == "In":
        return value is not None and value in values
    if op == "NotIn":
        return value is None or value not in values
    if op == "Exists":
        return value is not None
    if op == "DoesNotExist":
        return value is None
    if op in ("Gt", "Lt"):
        try:
            lhs, rhs = int(str(value)), int(values[0])
        except (ValueError, IndexError):
            return False
        return lhs > rhs if op == "Gt" else lhs < rhs
    return False


def _term_matches(term: Obj, node: Obj) -> bool:
    exprs, fields = term.get("matchExpressions") or [], term.get("matchFields") or []
    if not exprs and not fields:
        return False
    labels = (node.get("metadata") or {}).get("labels") or {}
    if not all(_requirement_matches(r, labels.get(r.get("key", ""))) for r in exprs):
        return False
    name = node["metadata"]["name"]
    return all(_requirement_matches(r, name if r.get("key") == "metadata.name" else None) for r in fields)


def required_affinity_matches(pod: Obj, node: Obj) -> bool:
    """nodeaffinity.GetRequiredNodeAffinity(pod).Match(node): nodeSelector and required terms."""
    spec = pod.get("spec") or {}
    labels = (node.get("metadata") or {}).get("labels") or {}
    for key, value in (spec.get("nodeSelector") or {}).items():
        if labels.get(key) != value:
            return False
    required = (((spec.get("affinity") or {}).get("nodeAffinity") or {})
                .get("requiredDuringSchedulingIgnoredDuringExecution"))
    if required is None:
        return True
    return any(_term_matches(t, node) for t in required.get("nodeSelectorTerms") or [])


def _untolerated(taints: Iterable[Obj], tolerations: list[Obj], effects: tuple[str, ...]) -> bool:
    for taint in taints:
        if taint.get("effect") not in effects:
            continue
        if not any(nodelifecycle.tolerates(t, taint) for t in tolerations):
            return True
    return False


@dataclasses.dataclass(frozen=True)
class ShouldRun:
    run: bool  # a daemon pod should be created on the node
    keep: bool  # a daemon pod already there may stay


def node_should_run(node: Obj, ds: Obj) -> ShouldRun:
    """NodeShouldRunDaemonPod."""
    name = node["metadata"]["name"]
    template_node = (((ds.get("spec") or {}).get("template") or {}).get("spec") or {}).get("nodeName") or ""
    if template_node and template_node != name:
        return ShouldRun(False, False)
    pod = new_pod(ds, name)
    if not required_affinity_matches(pod, node):
        return ShouldRun(False, False)
    taints = (node.get("spec") or {}).get("taints") or []
    tolerations = pod["spec"].get("tolerations") or []
    if _untolerated(taints, tolerations, ("NoSchedule", "NoExecute")):
        # A running daemon stays unless a NoExecute taint would evict it.
        return ShouldRun(False, not _untolerated(taints, tolerations, ("NoExecute",)))
    return ShouldRun(True, True)


def pin_to_node(affinity: Obj | None, node_name: str) -> Obj:
    """ReplaceDaemonSetPodNodeNameNodeAffinity: the scheduler binds the pod to this node."""
    term = {"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node_name]}]}
    out = copy.deepcopy(affinity) if affinity else {}
    node_affinity = out.setdefault("nodeAffinity", {})
    required = node_affinity.setdefault("requiredDuringSchedulingIgnoredDuringExecution", {})
    required["nodeSelectorTerms"] = [term]
    return out


def target_node(pod: Obj) -> str | None:
    """GetTargetNodeName: spec.nodeName, else the node the affinity pins it to."""
    spec = pod.get("spec") or {}
    if spec.get("nodeName"):
        return str(spec["nodeName"])
    required = (((spec.get("affinity") or {}).get("nodeAffinity") or {})
                .get("requiredDuringSchedulingIgnoredDuringExecution") or {})
    for term in required.get("nodeSelectorTerms") or []:
        for req in term.get("matchFields") or []:
            values = req.get("values") or []
            if req.get("key") == "metadata.name" and req.get("operator") == "In" and len(values) == 1:
                return str(values[0])
    return None


def template_generation(ds: Obj) -> str | None:
    value = ((ds.get("metadata") or {}).get("annotations") or {}).get(TEMPLATE_GENERATION_ANNOTATION)
    return str(value) if value is not None else None


def pod_template(ds: Obj, hash_: str) -> Obj:
    """CreatePodTemplate: tolerations, generation and hash labels."""
    template = copy.deepcopy((ds.get("spec") or {}).get("template") or {})
    add_daemon_tolerations(template.setdefault("spec", {}))
    labels = template.setdefault("metadata", {}).setdefault("labels", {})
    generation = template_generation(ds)
    if generation is not None:
        labels[GENERATION_LABEL] = generation
    if hash_:
        labels[HASH_LABEL] = hash_
    return template


def is_pod_updated(pod: Obj, hash_: str, generation: str | None) -> bool:
    labels = (pod.get("metadata") or {}).get("labels") or {}
    return (bool(hash_) and labels.get(HASH_LABEL) == hash_) or \
        (generation is not None and labels.get(GENERATION_LABEL) == generation)


# -- history ----------------------------------------------------------------------------------


def revision_patch(ds: Obj) -> Obj:
    """getPatch: the ControllerRevision data, a patch restoring spec.template."""
    template = copy.deepcopy((ds.get("spec") or {}).get("template") or {})
    template["$patch"] = "replace"
    return {"spec": {"template": template}}


def revision_hash(ds: Obj) -> str:
    """controller.ComputeHash of the template and the collision count (the deployment
    controller's hash: FNV-32a over canonical JSON, safe-encoded)."""
    count = (ds.get("status") or {}).get("collisionCount")
    return deployment_util.compute_hash((ds.get("spec") or {}).get("template"), count)


def match_revision(ds: Obj, revision: Obj) -> bool:
    return bool(_canonical(revision.get("data")) == _canonical(revision_patch(ds)))


def _canonical(value: Any) -> Any:
    """JSON equality the way bytes.Equal on the marshalled patch sees it, minus key order
    and the nulls and empty maps/lists Go's omitempty would drop."""
    if isinstance(value, dict):
        out = {k: _canonical(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v is not None and v != {} and v != []}
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    return value


# -- rolling update numbers and ordering ---------------------------------------------------------


def _rolling(ds: Obj) -> Obj:
    return (((ds.get("spec") or {}).get("updateStrategy") or {}).get("rollingUpdate") or {})


def surge_count(ds: Obj, desired: int) -> int:
    if (((ds.get("spec") or {}).get("updateStrategy") or {}).get("type")) != "RollingUpdate":
        return 0
    return deployment_util.scaled_value(_rolling(ds).get("maxSurge", 0), desired, True)


def unavailable_count(ds: Obj, desired: int) -> int:
    if (((ds.get("spec") or {}).get("updateStrategy") or {}).get("type")) != "RollingUpdate":
        return 0
    return deployment_util.scaled_value(_rolling(ds).get("maxUnavailable", 1), desired, True)


def allows_surge(ds: Obj) -> bool:
    """util.AllowsSurge: a RollingUpdate with a non-zero maxSurge."""
    return surge_count(ds, 1) != 0


def is_available(pod: Obj, min_ready: int, now: float) -> bool:
    if not podutil.is_ready(pod):
        return False
    if min_ready <= 0:
        return True
    since = podutil.ready_since(pod)
    return since is not None and since + min_ready <= now


def _by_creation(p1: Obj, p2: Obj) -> int:
    """podByCreationTimestampAndPhase: scheduled first, then oldest, then by name."""
    n1, n2 = bool((p1.get("spec") or {}).get("nodeName")), bool((p2.get("spec") or {}).get("nodeName"))
    if n1 != n2:
        return -1 if n1 else 1
    t1 = rfc3339.parse_epoch(p1["metadata"].get("creationTimestamp")) or 0.0
    t2 = rfc3339.parse_epoch(p2["metadata"].get("creationTimestamp")) or 0.0
    if t1 != t2:
        return -1 if t1 < t2 else 1
    a, b = str(p1["metadata"]["name"]), str(p2["metadata"]["name"])
    return (a > b) - (a < b)


def oldest_first(pods: Iterable[Obj]) -> list[Obj]:
    return sorted(pods, key=functools.cmp_to_key(_by_creation))


@dataclasses.dataclass
class Backoff:
    """client-go flowcontrol.Backoff for failed daemon pods: 1 s doubling to 15 minutes per key."""

    base: float = 1.0
    cap: float = 900.0
    entries: dict[str, tuple[float, float]] = dataclasses.field(default_factory=dict)  # key -> (delay, last)

    def in_backoff(self, key: str, now: float) -> bool:
        entry = self.entries.get(key)
        return entry is not None and now - entry[1] < entry[0]

    def get(self, key: str) -> float:
        entry = self.entries.get(key)
        return entry[0] if entry else 0.0

    def next(self, key: str, now: float) -> None:
        entry = self.entries.get(key)
        if entry is None or now - entry[1] > 2 * self.cap:
            self.entries[key] = (self.base, now)
        else:
            self.entries[key] = (min(entry[0] * 2, self.cap), now)
