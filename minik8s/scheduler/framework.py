"""The scheduling framework: filter plugins (预选), score plugins (优选), and how they combine.

As kube-scheduler's framework, each plugin is one small class with a NAME,
registered in a plain name → factory map (`REGISTRY`, filled by the plugin
modules). For one pod:

  filter   every node through every filter; a node passes only if all pass.
           Per node the filters stop at the first failure, whose reasons make
           the FailedScheduling message ("0/3 nodes are available: ...").
  score    every feasible node by every score plugin, each giving 0..100
           (after the plugin's own normalisation over the feasible nodes),
           summed with the configured weights.
  select   the highest total; ties are broken uniformly at random, so equal
           nodes share the load instead of the first one taking everything.

Plugins may say in `pre_filter`/`pre_score` that a pod does not concern them
(no host ports, no preferred affinity...), which keeps the per-node loop short:
it runs for every node on every decision.
"""
from __future__ import annotations

import dataclasses
import random
from typing import Callable, Iterable, Sequence

from minik8s.scheduler import nodeinfo

MAX_NODE_SCORE = 100
NO_NODES_AVAILABLE = "no nodes available to schedule pods"
# kube-scheduler scores every node of a cluster this small; above it, only a
# share of the nodes (adaptive, see `num_feasible_nodes_to_find`).
MIN_FEASIBLE_NODES_TO_FIND = 100
MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND = 5


@dataclasses.dataclass(frozen=True)
class Status:
    """A filter's answer: no reasons means the node passes."""

    reasons: tuple[str, ...] = ()
    plugin: str = ""

    @property
    def ok(self) -> bool:
        return not self.reasons


SUCCESS = Status()


def unschedulable(plugin: str, *reasons: str) -> Status:
    return Status(tuple(reasons), plugin)


class Plugin:
    """Base of every plugin; a plugin implements `filter`, `score`, or both."""

    NAME = ""

    def pre_filter(self, pod: nodeinfo.PodInfo) -> bool:
        """Whether `filter` must run for this pod (False: it passes on every node)."""
        return True

    def filter(self, pod: nodeinfo.PodInfo, node: nodeinfo.NodeInfo) -> Status:
        raise NotImplementedError

    def pre_score(self, pod: nodeinfo.PodInfo) -> bool:
        """Whether `score` must run for this pod (False: it scores 0 on every node)."""
        return True

    def score(self, pod: nodeinfo.PodInfo, node: nodeinfo.NodeInfo) -> int:
        raise NotImplementedError

    def normalize(self, pod: nodeinfo.PodInfo, scores: list[int]) -> list[int]:
        """Map raw scores over the feasible nodes to 0..100 (default: they already are)."""
        return scores

    @classmethod
    def is_filter(cls) -> bool:
        return cls.filter is not Plugin.filter

    @classmethod
    def is_scorer(cls) -> bool:
        return cls.score is not Plugin.score


PluginFactory = Callable[[], Plugin]
REGISTRY: dict[str, PluginFactory] = {}


def register(cls: type[Plugin]) -> type[Plugin]:
    """Class decorator: make the plugin available under its NAME."""
    REGISTRY[cls.NAME] = cls
    return cls


def default_normalize(scores: list[int], reverse: bool = False) -> list[int]:
    """kube-scheduler's DefaultNormalizeScore: scale so the largest is 100 (reversed: smallest)."""
    top = max(scores, default=0)
    if top == 0:
        return [MAX_NODE_SCORE if reverse else 0 for _ in scores]
    out = [s * MAX_NODE_SCORE // top for s in scores]
    return [MAX_NODE_SCORE - s for s in out] if reverse else out


def fit_error_message(num_nodes: int, statuses: dict[str, Status]) -> str:
    """'0/3 nodes are available: 2 Insufficient cpu, 1 node(s) didn't match ...'.

    Each reason counted over the nodes that gave it; the most frequent first,
    equal counts in alphabetical order. (kube-scheduler sorts the "N reason"
    strings as text and adds a final period; the order here reads better and
    is what the issue specifies.)
    """
    if num_nodes == 0:
        return NO_NODES_AVAILABLE
    counts: dict[str, int] = {}
    for st in statuses.values():
        for reason in st.reasons:
            counts[reason] = counts.get(reason, 0) + 1
    parts = [f"{n} {reason}" for reason, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
    return f"0/{num_nodes} nodes are available: " + ", ".join(parts)


def num_feasible_nodes_to_find(num_all: int, percentage: int = 0) -> int:
    """How many feasible nodes to look for before scoring (kube-scheduler's adaptive rule).

    Small clusters are searched completely; in big ones the percentage falls
    from 50% by 1% per 125 nodes, never below 5%, and never below 100 nodes.
    """
    if num_all < MIN_FEASIBLE_NODES_TO_FIND:
        return num_all
    pct = percentage
    if pct <= 0:
        pct = max(50 - num_all // 125, MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND)
    if pct >= 100:
        return num_all
    return max(num_all * pct // 100, MIN_FEASIBLE_NODES_TO_FIND)


@dataclasses.dataclass
class ScheduleResult:
    node: str | None
    feasible: int
    evaluated: int
    statuses: dict[str, Status]  # the failing nodes' statuses
    scores: dict[str, int] = dataclasses.field(default_factory=dict)

    @property
    def message(self) -> str:
        return fit_error_message(self.evaluated, self.statuses)


class Framework:
    """An ordered list of filters and a weighted list of scores."""

    def __init__(self, filters: Sequence[Plugin], scores: Sequence[tuple[Plugin, int]], *,
                 rng: random.Random | None = None, percentage_of_nodes_to_score: int = 0) -> None:
        self.filters = list(filters)
        self.scores = [(p, w) for p, w in scores if w > 0]
        self.rng = rng or random.Random()
        self.percentage_of_nodes_to_score = percentage_of_nodes_to_score
        self._next_start = 0

    def run_filters(self, pod: nodeinfo.PodInfo, node: nodeinfo.NodeInfo,
                    filters: Iterable[Plugin] | None = None) -> Status:
        for plugin in self.filters if filters is None else filters:
            st = plugin.filter(pod, node)
            if st.reasons:
                return st
        return SUCCESS

    def find_nodes_that_fit(self, pod: nodeinfo.PodInfo, nodes: Sequence[nodeinfo.NodeInfo]
                            ) -> tuple[list[nodeinfo.NodeInfo], dict[str, Status]]:
        """Feasible nodes and the failing nodes' statuses.

        Starts where the previous search stopped (round robin, as kube-scheduler)
        so that, in a cluster big enough to stop early, every node gets its turn.
        """
        active = [p for p in self.filters if p.pre_filter(pod)]
        want = num_feasible_nodes_to_find(len(nodes), self.percentage_of_nodes_to_score)
        feasible: list[nodeinfo.NodeInfo] = []
        failed: dict[str, Status] = {}
        n = len(nodes)
        start = self._next_start % n if n else 0
        checked = 0
        for i in range(n):
            node = nodes[(start + i) % n]
            checked += 1
            st = self.run_filters(pod, node, active)
            if not st.reasons:
                feasible.append(node)
                if len(feasible) >= want:
                    break
            else:
                failed[node.name] = st
        self._next_start = (start + checked) % n if n else 0
        return feasible, failed

    def prioritize(self, pod: nodeinfo.PodInfo, nodes: Sequence[nodeinfo.NodeInfo]) -> list[int]:
        """Σ weight × normalised score, per node, in the order given."""
        totals = [0] * len(nodes)
        for plugin, weight in self.scores:
            if not plugin.pre_score(pod):
                continue
            raw = [plugin.score(pod, node) for node in nodes]
            for i, s in enumerate(plugin.normalize(pod, raw)):
                totals[i] += weight * s
        return totals

    def select_host(self, nodes: Sequence[nodeinfo.NodeInfo], totals: Sequence[int]) -> nodeinfo.NodeInfo:
        """The best node; among equals each is equally likely."""
        best = max(totals)
        ties = [i for i, t in enumerate(totals) if t == best]
        return nodes[ties[0] if len(ties) == 1 else self.rng.choice(ties)]

    def schedule(self, pod: nodeinfo.PodInfo, nodes: Sequence[nodeinfo.NodeInfo]) -> ScheduleResult:
        """One scheduling decision: filter, score, select (nothing is written anywhere)."""
        if not nodes:
            return ScheduleResult(None, 0, 0, {})
        feasible, failed = self.find_nodes_that_fit(pod, nodes)
        evaluated = len(nodes)
        if not feasible:
            return ScheduleResult(None, 0, evaluated, failed)
        if len(feasible) == 1:
            return ScheduleResult(feasible[0].name, 1, evaluated, failed)
        totals = self.prioritize(pod, feasible)
        chosen = self.select_host(feasible, totals)
        return ScheduleResult(chosen.name, len(feasible), evaluated, failed,
                              {n.name: t for n, t in zip(feasible, totals)})


def parse_weights(text: str) -> dict[str, int]:
    """'LeastRequested=1,NodeAffinity=2' → {'LeastRequested': 1, 'NodeAffinity': 2}."""
    out: dict[str, int] = {}
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        name, sep, value = part.partition("=")
        if not sep:
            raise ValueError(f"{part!r} is not NAME=WEIGHT")
        try:
            weight = int(value)
        except ValueError:
            raise ValueError(f"weight of {name.strip()} must be an integer, not {value!r}") from None
        if weight < 0:
            raise ValueError(f"weight of {name.strip()} must not be negative")
        out[name.strip()] = weight
    return out


def build(filter_names: Sequence[str], weights: dict[str, int], *, rng: random.Random | None = None,
          percentage_of_nodes_to_score: int = 0) -> Framework:
    """A framework from plugin names; one instance per name serves as filter and scorer."""
    instances: dict[str, Plugin] = {}

    def get(name: str, kind: str) -> Plugin:
        factory = REGISTRY.get(name)
        if factory is None:
            raise ValueError(f"unknown {kind} plugin {name!r}; known: {', '.join(sorted(REGISTRY))}")
        if name not in instances:
            instances[name] = factory()
        return instances[name]

    filters = []
    for name in filter_names:
        p = get(name, "filter")
        if not p.is_filter():
            raise ValueError(f"plugin {name} is not a filter")
        filters.append(p)
    scores = []
    for name, weight in weights.items():
        p = get(name, "score")
        if not p.is_scorer():
            raise ValueError(f"plugin {name} is not a score plugin")
        scores.append((p, weight))
    return Framework(filters, scores, rng=rng, percentage_of_nodes_to_score=percentage_of_nodes_to_score)

