"""Resources: does the pod fit (预选 "CPU内存要满足要求"), and how full will the node be (优选).

Fractions below are of the node's allocatable; "requested" is the sum over the
pods already counted on the node (bound and assumed) plus the pod being
scheduled. Fit uses the pods' real requests; the scores use the non-zero
requests (a container asking for nothing counts as 100m / 200Mi), as
kube-scheduler does.
"""
from __future__ import annotations

from minik8s.scheduler import framework
from minik8s.scheduler import nodeinfo


@framework.register
class NodeResourcesFit(framework.Plugin):
    """requested cpu, memory and pod count, with this pod, must stay within allocatable."""

    NAME = "NodeResourcesFit"

    def filter(self, pod: nodeinfo.PodInfo, node: nodeinfo.NodeInfo) -> framework.Status:
        reasons = []
        if len(node.pods) + 1 > node.alloc_pods:
            reasons.append("Too many pods")
        if pod.milli_cpu and node.alloc_milli_cpu - node.requested_milli_cpu < pod.milli_cpu:
            reasons.append("Insufficient cpu")
        if pod.memory and node.alloc_memory - node.requested_memory < pod.memory:
            reasons.append("Insufficient memory")
        return framework.unschedulable(self.NAME, *reasons) if reasons else framework.SUCCESS


def _least_requested(requested: int, capacity: int) -> int:
    """100 · (capacity − requested) / capacity, 0 when over capacity (integer, as kube-scheduler)."""
    if capacity == 0 or requested > capacity:
        return 0
    return (capacity - requested) * framework.MAX_NODE_SCORE // capacity


def _fraction(requested: int, capacity: int) -> float:
    return requested / capacity if capacity else 1.0


@framework.register
class LeastRequested(framework.Plugin):
    """The seed's 资源利用率最低的Node得分高.

    seed:  −(TotalCPU/NodeCPU + TotalMemory/NodeMemory)        ∈ [−2, 0]
    score: 100 · (1 − (TotalCPU/NodeCPU + TotalMemory/NodeMemory) / 2)
         = 100 + 50 · seed                                       ∈ [0, 100]
    computed per resource in integers (each fraction capped at 1), as
    kube-scheduler's leastRequestedScore with equal cpu/memory weights.
    """

    NAME = "LeastRequested"

    def score(self, pod: nodeinfo.PodInfo, node: nodeinfo.NodeInfo) -> int:
        cpu = _least_requested(node.nz_requested_milli_cpu + pod.nz_milli_cpu, node.alloc_milli_cpu)
        mem = _least_requested(node.nz_requested_memory + pod.nz_memory, node.alloc_memory)
        return (cpu + mem) // 2


@framework.register
class BalancedAllocation(framework.Plugin):
    """The seed's 资源利用率最均衡的Node得分高.

    seed:  −|TotalCPU/NodeCPU − TotalMemory/NodeMemory|          ∈ [−1, 0]
    score: 100 · (1 − |TotalCPU/NodeCPU − TotalMemory/NodeMemory|)
         = 100 + 100 · seed                                      ∈ [0, 100]
    and 0 when either fraction reaches 1 (a full node is not "balanced"), as
    kube-scheduler's balanced_resource_allocation before it switched to the
    standard deviation (which, for two resources, is this difference halved).
    """

    NAME = "BalancedAllocation"

    def score(self, pod: nodeinfo.PodInfo, node: nodeinfo.NodeInfo) -> int:
        cpu = _fraction(node.nz_requested_milli_cpu + pod.nz_milli_cpu, node.alloc_milli_cpu)
        mem = _fraction(node.nz_requested_memory + pod.nz_memory, node.alloc_memory)
        if cpu >= 1 or mem >= 1:
            return 0
        return int((1 - abs(cpu - mem)) * framework.MAX_NODE_SCORE)
