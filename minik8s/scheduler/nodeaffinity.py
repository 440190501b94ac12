"""Node selection by labels: nodeSelector and node affinity.

Filter (预选 "标签选择器要满足"): the node must carry every nodeSelector label
and match one of the required nodeSelectorTerms. Score (优选 "手动指定的某些Node
得分高"): the sum of the weights of the preferred terms the node matches,
scaled so the best node gets 100.

A term is the AND of its matchExpressions (on labels) and matchFields (on
metadata.name); a term with neither matches nothing, and the terms of a
required affinity are ORed, all as in Kubernetes' nodeaffinity helpers.
"""
from __future__ import annotations

from typing import Any, Iterable

from minik8s.scheduler import framework
from minik8s.scheduler import nodeinfo

Obj = dict[str, Any]
REASON = "node(s) didn't match Pod's node affinity/selector"


def _int(text: Any) -> int | None:
    try:
        return int(str(text))
    except ValueError:
        return None


def requirement_matches(req: Obj, value: str | None) -> bool:
    """One NodeSelectorRequirement against a label value (None: the label is absent)."""
    op = req.get("operator")
    values = req.get("values") or []
    if op == "In":
        return value is not None and value in values
    if op == "NotIn":
        return value is None or value not in values
    if op == "Exists":
        return value is not None
    if op == "DoesNotExist":
        return value is None
    if op in ("Gt", "Lt"):
        if value is None or len(values) != 1:
            return False
        lhs, rhs = _int(value), _int(values[0])
        if lhs is None or rhs is None:
            return False
        return lhs > rhs if op == "Gt" else lhs < rhs
    return False


def term_matches(term: Obj, node: nodeinfo.NodeInfo) -> bool:
    exprs = term.get("matchExpressions") or []
    fields = term.get("matchFields") or []
    if not exprs and not fields:
        return False
    for req in exprs:
        if not requirement_matches(req, node.labels.get(req.get("key", ""))):
            return False
    for req in fields:
        # metadata.name is the only field Kubernetes allows here.
        value = node.name if req.get("key") == "metadata.name" else None
        if not requirement_matches(req, value):
            return False
    return True


def terms_match(terms: Iterable[Obj], node: nodeinfo.NodeInfo) -> bool:
    return any(term_matches(t, node) for t in terms)


def _node_affinity(pod: nodeinfo.PodInfo) -> Obj:
    return (pod.spec.get("affinity") or {}).get("nodeAffinity") or {}


def _required_terms(pod: nodeinfo.PodInfo) -> list[Obj] | None:
    required = _node_affinity(pod).get("requiredDuringSchedulingIgnoredDuringExecution")
    if required is None:
        return None
    return list(required.get("nodeSelectorTerms") or [])


def pod_matches_node(pod: nodeinfo.PodInfo, node: nodeinfo.NodeInfo) -> bool:
    """nodeSelector and required node affinity, both."""
    for key, value in (pod.spec.get("nodeSelector") or {}).items():
        if node.labels.get(key) != value:
            return False
    terms = _required_terms(pod)
    return terms is None or terms_match(terms, node)


@framework.register
class NodeAffinity(framework.Plugin):
    NAME = "NodeAffinity"

    def pre_filter(self, pod: nodeinfo.PodInfo) -> bool:
        return bool(pod.spec.get("nodeSelector")) or _required_terms(pod) is not None

    def filter(self, pod: nodeinfo.PodInfo, node: nodeinfo.NodeInfo) -> framework.Status:
        return framework.SUCCESS if pod_matches_node(pod, node) else framework.unschedulable(self.NAME, REASON)

    def pre_score(self, pod: nodeinfo.PodInfo) -> bool:
        return bool(_node_affinity(pod).get("preferredDuringSchedulingIgnoredDuringExecution"))

    def score(self, pod: nodeinfo.PodInfo, node: nodeinfo.NodeInfo) -> int:
        """raw = Σ weight of the preferred terms the node matches."""
        total = 0
        for pref in _node_affinity(pod).get("preferredDuringSchedulingIgnoredDuringExecution") or []:
            weight = int(pref.get("weight") or 0)
            if weight and term_matches(pref.get("preference") or {}, node):
                total += weight
        return total

    def normalize(self, pod: nodeinfo.PodInfo, scores: list[int]) -> list[int]:
        """score = 100 · raw / max(raw) (all 0 when no node matches any preference)."""
        return framework.default_normalize(scores)
