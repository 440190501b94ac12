"""Taints and tolerations: a node repels pods that do not tolerate its taints.

Filter: every NoSchedule and NoExecute taint of the node must be tolerated
(a NoExecute taint would evict the pod right after it started).
Score: fewer untolerated PreferNoSchedule taints is better.
"""
from __future__ import annotations

from typing import Any, Iterable

from minik8s.scheduler import framework
from minik8s.scheduler import nodeinfo

Obj = dict[str, Any]


def tolerates(toleration: Obj, taint: Obj) -> bool:
    """corev1 Toleration.ToleratesTaint."""
    effect = toleration.get("effect") or ""
    if effect and effect != taint.get("effect"):
        return False
    key = toleration.get("key") or ""
    if key and key != taint.get("key"):
        return False
    op = toleration.get("operator") or "Equal"
    if op == "Exists":
        return True
    if op == "Equal":
        # An empty key with Equal is invalid; it must still not match every taint.
        return key == taint.get("key") and (toleration.get("value") or "") == (taint.get("value") or "")
    return False


def tolerated(taint: Obj, tolerations: Iterable[Obj]) -> bool:
    return any(tolerates(t, taint) for t in tolerations)


@framework.register
class TaintToleration(framework.Plugin):
    NAME = "TaintToleration"

    def filter(self, pod: nodeinfo.PodInfo, node: nodeinfo.NodeInfo) -> framework.Status:
        if not node.taints:
            return framework.SUCCESS
        tolerations = pod.spec.get("tolerations") or ()
        for taint in node.taints:
            if taint.get("effect") not in ("NoSchedule", "NoExecute"):
                continue
            if not tolerated(taint, tolerations):
                return framework.unschedulable(
                    self.NAME, f"node(s) had untolerated taint {{{taint.get('key', '')}: {taint.get('value', '')}}}")
        return framework.SUCCESS

    def score(self, pod: nodeinfo.PodInfo, node: nodeinfo.NodeInfo) -> int:
        """raw = number of PreferNoSchedule taints the pod does not tolerate."""
        if not node.taints:
            return 0
        tolerations = [t for t in pod.spec.get("tolerations") or ()
                       if (t.get("effect") or "PreferNoSchedule") == "PreferNoSchedule"]
        return sum(1 for taint in node.taints
                   if taint.get("effect") == "PreferNoSchedule" and not tolerated(taint, tolerations))

    def normalize(self, pod: nodeinfo.PodInfo, scores: list[int]) -> list[int]:
        """score = 100 − 100 · raw / max(raw): the node with the most untolerated taints gets 0."""
        return framework.default_normalize(scores, reverse=True)
