"""Filters on the node's own state: cordoned (spec.unschedulable) and not Ready.

Kubernetes expresses "not ready" as a node.kubernetes.io/not-ready taint that
the node lifecycle controller adds; minik8s reads the Ready condition directly,
so a node that stopped reporting is avoided even before any controller reacts.
"""
from __future__ import annotations

from minik8s.scheduler import framework
from minik8s.scheduler import nodeinfo
from minik8s.scheduler import tainttoleration

UNSCHEDULABLE_TAINT = {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}


@framework.register
class NodeUnschedulable(framework.Plugin):
    """A cordoned node takes no new pods, unless the pod tolerates the unschedulable taint."""

    NAME = "NodeUnschedulable"
    REASON = "node(s) were unschedulable"

    def filter(self, pod: nodeinfo.PodInfo, node: nodeinfo.NodeInfo) -> framework.Status:
        if not node.unschedulable:
            return framework.SUCCESS
        if tainttoleration.tolerated(UNSCHEDULABLE_TAINT, pod.spec.get("tolerations") or ()):
            return framework.SUCCESS
        return framework.unschedulable(self.NAME, self.REASON)


@framework.register
class NodeReady(framework.Plugin):
    """Only nodes whose Ready condition is True."""

    NAME = "NodeReady"
    REASON = "node(s) were not ready"

    def filter(self, pod: nodeinfo.PodInfo, node: nodeinfo.NodeInfo) -> framework.Status:
        return framework.SUCCESS if node.ready else framework.unschedulable(self.NAME, self.REASON)
