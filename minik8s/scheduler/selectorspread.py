"""Spreading: pods of one owner (ReplicaSet, ReplicationController, StatefulSet...) on different nodes.

So that losing a node loses few replicas of any one workload. kube-scheduler's
SelectorSpread counted the pods matched by the selectors of the pod's
Services and controllers; minik8s counts pods with the same controller owner
(ownerReferences[controller=true]), which is what those selectors select in
practice and needs no selector evaluation per node. Terminating pods do not
count. (Zone spreading, SelectorSpread's second half, is not done.)
"""
from __future__ import annotations

from minik8s.scheduler import framework
from minik8s.scheduler import nodeinfo


@framework.register
class SelectorSpread(framework.Plugin):
    NAME = "SelectorSpread"

    def pre_score(self, pod: nodeinfo.PodInfo) -> bool:
        return bool(pod.owner_uid)

    def score(self, pod: nodeinfo.PodInfo, node: nodeinfo.NodeInfo) -> int:
        """raw = pods of the same owner already on the node."""
        return node.owner_counts.get(pod.owner_uid, 0)

    def normalize(self, pod: nodeinfo.PodInfo, scores: list[int]) -> list[int]:
        """score = 100 · (max − raw) / max: nodes without the owner's pods get 100 (all 100 if none has any)."""
        return framework.default_normalize(scores, reverse=True)
