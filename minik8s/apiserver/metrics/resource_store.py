"""CPU and memory of nodes and containers from kubelet scrapes, as metrics-server keeps them.

A kubelet's `/metrics/resource` gives cumulative CPU seconds and the memory working
set, each stamped with the time the kubelet read them. Per node and per container the
store keeps the newest two distinct readings: the CPU rate is their difference over
their time difference (that difference is the reported `window`), memory is the newest
reading. A reading with the same timestamp as the newest is a repeat and changes
nothing; a container whose start time changed (restarted) or whose counter went down
starts over; a pod is reported only when every container it had in the node's last
scrape has a rate (metrics-server's rule: partial pods would understate usage).

Everything a node reported is replaced by its next successful scrape, and a node's
entries disappear when the node does, so memory follows what runs.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Iterable

from prometheus_client import parser as prom_parser


@dataclasses.dataclass(frozen=True, slots=True)
class Point:
    time: float  # epoch seconds (the kubelet's clock)
    cpu_seconds: float  # cumulative
    memory_bytes: int
    start_time: float = 0.0


@dataclasses.dataclass(frozen=True, slots=True)
class Usage:
    time: float
    window: float
    cpu_nano_cores: int
    memory_bytes: int


@dataclasses.dataclass(frozen=True)
class NodeReport:
    """One kubelet scrape, parsed."""

    node: Point | None
    containers: dict[tuple[str, str, str], Point]  # (namespace, pod, container) -> reading


def parse_resource_metrics(text: str) -> NodeReport:
    """A kubelet's /metrics/resource text to readings (samples without a timestamp are ignored)."""
    cpu: dict[tuple[str, str, str], tuple[float, float]] = {}
    mem: dict[tuple[str, str, str], tuple[float, float]] = {}
    start: dict[tuple[str, str, str], float] = {}
    node_cpu: tuple[float, float] | None = None
    node_mem: tuple[float, float] | None = None
    for family in prom_parser.text_string_to_metric_families(text):
        for s in family.samples:
            if s.timestamp is None and s.name != "container_start_time_seconds":
                continue
            ts = float(s.timestamp) if s.timestamp is not None else 0.0
            key = (s.labels.get("namespace", ""), s.labels.get("pod", ""), s.labels.get("container", ""))
            if s.name == "container_cpu_usage_seconds_total":
                cpu[key] = (ts, float(s.value))
            elif s.name == "container_memory_working_set_bytes":
                mem[key] = (ts, float(s.value))
            elif s.name == "container_start_time_seconds":
                start[key] = float(s.value)
            elif s.name == "node_cpu_usage_seconds_total":
                node_cpu = (ts, float(s.value))
            elif s.name == "node_memory_working_set_bytes":
                node_mem = (ts, float(s.value))
    containers = {}
    for key, (ts, seconds) in cpu.items():
        if key in mem and all(key):
            containers[key] = Point(ts, seconds, int(mem[key][1]), start.get(key, 0.0))
    node = None
    if node_cpu is not None and node_mem is not None:
        node = Point(node_cpu[0], node_cpu[1], int(node_mem[1]))
    return NodeReport(node, containers)


def _advance(pair: tuple[Point | None, Point] | None, new: Point) -> tuple[Point | None, Point]:
    """The (previous, newest) readings after `new` arrives."""
    if pair is None:
        return None, new
    prev, last = pair
    if new.time == last.time:
        return pair  # the kubelet has not read its cgroups since: nothing new
    if new.time < last.time or new.start_time != last.start_time or new.cpu_seconds < last.cpu_seconds:
        return None, new  # restarted (or the clock went back): start over
    return last, new


def _usage(pair: tuple[Point | None, Point]) -> Usage | None:
    prev, last = pair
    if prev is None or last.time <= prev.time:
        return None
    window = last.time - prev.time
    rate = (last.cpu_seconds - prev.cpu_seconds) / window
    if rate < 0 or math.isnan(rate):
        return None
    return Usage(last.time, window, int(rate * 1e9), last.memory_bytes)


@dataclasses.dataclass
class _NodeEntry:
    node: tuple[Point | None, Point] | None = None
    containers: dict[tuple[str, str, str], tuple[Point | None, Point]] = dataclasses.field(default_factory=dict)


class ResourceStore:
    def __init__(self) -> None:
        self._nodes: dict[str, _NodeEntry] = {}

    def update(self, node_name: str, report: NodeReport) -> None:
        entry = self._nodes.setdefault(node_name, _NodeEntry())
        if report.node is not None:
            entry.node = _advance(entry.node, report.node)
        containers = {}
        for key, point in report.containers.items():
            containers[key] = _advance(entry.containers.get(key), point)
        entry.containers = containers  # what the node no longer reports is gone

    def retain(self, node_names: Iterable[str]) -> None:
        keep = set(node_names)
        for name in [n for n in self._nodes if n not in keep]:
            del self._nodes[name]

    def node_usage(self) -> dict[str, Usage]:
        out = {}
        for name, entry in self._nodes.items():
            if entry.node is not None and (u := _usage(entry.node)) is not None:
                out[name] = u
        return out

    def pod_usage(self, namespace: str | None = None) -> dict[tuple[str, str], tuple[Usage, dict[str, Usage]]]:
        """(namespace, pod) -> (pod-level time/window, container -> usage), complete pods only."""
        grouped: dict[tuple[str, str], dict[str, Usage | None]] = {}
        for entry in self._nodes.values():
            for (ns, pod, container), pair in entry.containers.items():
                if namespace is not None and ns != namespace:
                    continue
                grouped.setdefault((ns, pod), {})[container] = _usage(pair)
        out = {}
        for key, containers in grouped.items():
            complete = {c: u for c, u in containers.items() if u is not None}
            if not complete or len(complete) != len(containers):
                continue
            newest = max(complete.values(), key=lambda u: u.time)
            window = max(u.window for u in complete.values())
            out[key] = (Usage(newest.time, window, 0, 0), complete)
        return out

    def series(self) -> int:
        """Readings held (for the benchmark's memory figures)."""
        return sum(len(e.containers) + (1 if e.node else 0) for e in self._nodes.values())
