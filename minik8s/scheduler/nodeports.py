"""Host ports: two pods cannot bind the same protocol/port on one node.

A hostIP of 0.0.0.0 (the default) takes the port on every address of the node,
so it conflicts with any hostIP; two specific addresses only with each other.
"""
from __future__ import annotations

from minik8s.scheduler import framework
from minik8s.scheduler import nodeinfo

REASON = "node(s) didn't have free ports for the requested pod ports"


@framework.register
class NodePorts(framework.Plugin):
    NAME = "NodePorts"

    def pre_filter(self, pod: nodeinfo.PodInfo) -> bool:
        return bool(pod.ports)

    def filter(self, pod: nodeinfo.PodInfo, node: nodeinfo.NodeInfo) -> framework.Status:
        for want in pod.ports:
            for used in node.used_ports:
                if want.conflicts(used):
                    return framework.unschedulable(self.NAME, REASON)
        return framework.SUCCESS
