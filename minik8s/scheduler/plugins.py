"""The default plugin set: importing this module registers every plugin.

Filter order matters only for the FailedScheduling message: each node reports
the first filter it fails, in kube-scheduler's order (node state and taints
before affinity, ports, resources and volumes).
"""
from __future__ import annotations

import random

from minik8s.scheduler import framework
from minik8s.scheduler import nodeaffinity  # noqa: F401 - registers its plugin
from minik8s.scheduler import nodeports  # noqa: F401
from minik8s.scheduler import noderesources  # noqa: F401
from minik8s.scheduler import nodeunschedulable  # noqa: F401
from minik8s.scheduler import selectorspread  # noqa: F401
from minik8s.scheduler import tainttoleration  # noqa: F401
from minik8s.scheduler import volumerestrictions  # noqa: F401

DEFAULT_FILTERS: tuple[str, ...] = (
    "NodeUnschedulable", "NodeReady", "TaintToleration", "NodeAffinity", "NodePorts", "NodeResourcesFit",
    "VolumeRestrictions",
)

# kube-scheduler's default weights where it has the plugin (NodeAffinity 2,
# TaintToleration 3, spreading 2 as PodTopologySpread), 1 for the resource scores.
DEFAULT_WEIGHTS: dict[str, int] = {
    "LeastRequested": 1, "BalancedAllocation": 1, "NodeAffinity": 2, "SelectorSpread": 2, "TaintToleration": 3,
}


def default_framework(weights: dict[str, int] | None = None, *, rng: random.Random | None = None,
                      percentage_of_nodes_to_score: int = 0) -> framework.Framework:
    """The default filters, and the default weights overridden by `weights`."""
    merged = dict(DEFAULT_WEIGHTS)
    merged.update(weights or {})
    return framework.build(DEFAULT_FILTERS, merged, rng=rng, percentage_of_nodes_to_score=percentage_of_nodes_to_score)
