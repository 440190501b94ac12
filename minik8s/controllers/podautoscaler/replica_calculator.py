"""Desired replicas from metrics: Kubernetes' replica_calculator.go, function by function.

The rule is `ceil(current × currentMetric / target)`, with a tolerance (10 %) inside
which nothing changes, and with pods treated as Kubernetes treats them (`group_pods`):

- being deleted, or Failed: ignored;
- Pending: unready;
- no metric: missing. On a scale-up they count as using nothing, on a scale-down as
  using exactly the target (100 % of their request, or the target utilization when it is
  above 100 %), so they can only dampen the change, never cause it;
- CPU only: unready if not Ready, or if the sample may include the start-up burst —
  within `cpu_initialization_period` (5 min) of the pod's start, a sample taken less
  than one metric window after the pod turned Ready is not trusted; after that, a pod
  that never became Ready within `delay_of_initial_readiness_status` (30 s) of its start
  is unready. Unready pods count as using nothing on a scale-up, and are left out on a
  scale-down.

After the missing and unready pods are given those values, the ratio is computed again;
if that changes the direction of the change, or falls within the tolerance, the
current count stands. That is what keeps a roll-out's not-yet-ready pods (and their
start-up CPU) from scaling a Deployment: they can hold a scale-up back, never cause one.

Values are thousandths (Quantity.MilliValue) as upstream; integer division truncates
toward zero as Go's does.
"""
from __future__ import annotations

import dataclasses
import datetime
import math
import time
from typing import Any, Callable

from minik8s.api import quantity
from minik8s.api import selectors
from minik8s.controllers.podautoscaler import metrics_client as mc

Obj = dict[str, Any]
PodLister = Callable[[str, selectors.LabelSelector], list[Obj]]

DEFAULT_TOLERANCE = 0.1
DEFAULT_CPU_INITIALIZATION_PERIOD = 300.0
DEFAULT_DELAY_OF_INITIAL_READINESS_STATUS = 30.0
INT32_MAX = 2**31 - 1
# Go's zero time.Time (year 1), which an unset lastTransitionTime compares as.
GO_ZERO_TIME = -62135596800.0


class CalculationError(Exception):
    pass


@dataclasses.dataclass(frozen=True)
class Tolerances:
    scale_down: float = DEFAULT_TOLERANCE
    scale_up: float = DEFAULT_TOLERANCE

    def is_within(self, usage_ratio: float) -> bool:
        return (1.0 - self.scale_down) <= usage_ratio <= (1.0 + self.scale_up)


def _parse_time(text: str | None) -> float | None:
    if not text:
        return None
    try:
        return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _div(a: int, b: int) -> int:
    """Go's int64 division (truncates toward zero)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def _ceil_int32(value: float) -> int:
    return INT32_MAX if value > INT32_MAX else int(math.ceil(value))


def _ready_condition(pod: Obj) -> Obj | None:
    for c in (pod.get("status") or {}).get("conditions") or []:
        if c.get("type") == "Ready":
            found: Obj = c
            return found
    return None


def is_pod_ready(pod: Obj) -> bool:
    cond = _ready_condition(pod)
    return cond is not None and cond.get("status") == "True"


def group_pods(pods: list[Obj], metrics: mc.PodMetricsInfo, resource: str, cpu_initialization_period: float,
               delay_of_initial_readiness_status: float, now: float
               ) -> tuple[int, set[str], set[str], set[str]]:
    """(ready pod count, unready pods, missing pods, ignored pods) — groupPods."""
    ready = 0
    unready: set[str] = set()
    missing: set[str] = set()
    ignored: set[str] = set()
    for pod in pods:
        name = pod["metadata"]["name"]
        phase = (pod.get("status") or {}).get("phase")
        if pod["metadata"].get("deletionTimestamp") or phase == "Failed":
            ignored.add(name)
            continue
        if phase == "Pending":
            unready.add(name)
            continue
        metric = metrics.get(name)
        if metric is None:
            missing.add(name)
            continue
        if resource == "cpu":
            cond = _ready_condition(pod)
            start = _parse_time((pod.get("status") or {}).get("startTime"))
            if cond is None or start is None:
                is_unready = True
            else:
                transition = _parse_time(cond.get("lastTransitionTime"))
                if transition is None:
                    transition = GO_ZERO_TIME
                if start + cpu_initialization_period > now:
                    # Within the initialization period: unready, or a sample that may
                    # still include the time before the pod became ready.
                    is_unready = cond.get("status") == "False" or metric.timestamp < transition + metric.window
                else:
                    # Unready and never ready since it started.
                    is_unready = cond.get("status") == "False" and start + delay_of_initial_readiness_status > transition
            if is_unready:
                unready.add(name)
                continue
        ready += 1
    return ready, unready, missing, ignored


def _container_requests(pod: Obj, container: str, resource: str) -> int:
    spec = pod.get("spec") or {}
    containers = list(spec.get("containers") or [])
    containers += [c for c in spec.get("initContainers") or [] if c.get("restartPolicy") == "Always"]
    total = 0
    for c in containers:
        if not container or c.get("name") == container:
            request = ((c.get("resources") or {}).get("requests") or {}).get(resource)
            if request is None:
                raise CalculationError(f"missing request for {resource} in container {c.get('name')} of Pod "
                                       f"{pod['metadata']['name']}")
            total += quantity.cpu_millis(str(request))
        if container and c.get("name") == container:
            return total
    if container:
        raise CalculationError(f"container {container} not found in Pod {pod['metadata']['name']}")
    return total


def calculate_requests(pods: list[Obj], container: str, resource: str) -> dict[str, int]:
    """Per pod, the request of `resource` in thousandths (one container's if `container`)."""
    return {p["metadata"]["name"]: _container_requests(p, container, resource) for p in pods}


def resource_utilization_ratio(metrics: mc.PodMetricsInfo, requests: dict[str, int],
                               target_utilization: int) -> tuple[float, int, int]:
    """(usage ratio, utilization %, average raw value) — GetResourceUtilizationRatio."""
    metrics_total = requests_total = entries = 0
    for name, metric in metrics.items():
        request = requests.get(name)
        if request is None:
            continue  # metrics of pods we do not know
        metrics_total += metric.value
        requests_total += request
        entries += 1
    if requests_total == 0:
        raise CalculationError("no metrics returned matched known pods")
    utilization = _div(metrics_total * 100, requests_total)
    return utilization / target_utilization, utilization, _div(metrics_total, entries)


def metric_usage_ratio(metrics: mc.PodMetricsInfo, target_usage: int) -> tuple[float, int]:
    """(usage ratio, average usage) — GetMetricUsageRatio."""
    total = sum(m.value for m in metrics.values())
    usage = _div(total, len(metrics))
    return usage / target_usage, usage


class ReplicaCalculator:
    def __init__(self, metrics: mc.MetricsClient, pods: PodLister, *,
                 cpu_initialization_period: float = DEFAULT_CPU_INITIALIZATION_PERIOD,
                 delay_of_initial_readiness_status: float = DEFAULT_DELAY_OF_INITIAL_READINESS_STATUS,
                 clock: Callable[[], float] = time.time) -> None:
        self.metrics = metrics
        self.pods = pods
        self.cpu_initialization_period = cpu_initialization_period
        self.delay_of_initial_readiness_status = delay_of_initial_readiness_status
        self.clock = clock

    def _group(self, pods: list[Obj], metrics: mc.PodMetricsInfo, resource: str
               ) -> tuple[int, set[str], set[str], set[str]]:
        return group_pods(pods, metrics, resource, self.cpu_initialization_period,
                          self.delay_of_initial_readiness_status, self.clock())

    def _list(self, namespace: str, selector: selectors.LabelSelector) -> list[Obj]:
        pods = self.pods(namespace, selector)
        if not pods:
            raise CalculationError("no pods returned by selector while calculating replica count")
        return pods

    async def get_resource_replicas(self, current: int, target_utilization: int, resource: str,
                                    tolerances: Tolerances, namespace: str, selector: selectors.LabelSelector,
                                    container: str = "") -> tuple[int, int, int, float]:
        """(replicas, utilization %, raw average, timestamp) for a utilization target."""
        try:
            metrics, timestamp = await self.metrics.get_resource_metric(resource, namespace, str(selector), container)
        except mc.MetricsError as e:
            raise CalculationError(f"unable to get metrics for resource {resource}: {e}") from e
        metrics = dict(metrics)
        pods = self._list(namespace, selector)
        ready, unready, missing, ignored = self._group(pods, metrics, resource)
        for name in ignored | unready:
            metrics.pop(name, None)
        if not metrics:
            raise CalculationError("did not receive metrics for targeted pods (pods might be unready)")
        requests = calculate_requests(pods, container, resource)
        usage_ratio, utilization, raw = resource_utilization_ratio(metrics, requests, target_utilization)

        scale_up_with_unready = bool(unready) and usage_ratio > 1.0
        if not scale_up_with_unready and not missing:
            if tolerances.is_within(usage_ratio):
                return current, utilization, raw, timestamp
            return _ceil_int32(usage_ratio * ready), utilization, raw, timestamp

        if missing:
            if usage_ratio < 1.0:
                # On a scale-down a missing pod uses all of its request (or the target, above 100 %).
                fallback = max(100, target_utilization)
                for name in missing:
                    metrics[name] = mc.PodMetric(_div(requests[name] * fallback, 100))
            elif usage_ratio > 1.0:
                for name in missing:
                    metrics[name] = mc.PodMetric(0)
        if scale_up_with_unready:
            for name in unready:
                metrics[name] = mc.PodMetric(0)

        new_ratio, _, _ = resource_utilization_ratio(metrics, requests, target_utilization)
        if tolerances.is_within(new_ratio) or (usage_ratio < 1.0 < new_ratio) or (usage_ratio > 1.0 > new_ratio):
            return current, utilization, raw, timestamp
        new_replicas = _ceil_int32(new_ratio * len(metrics))
        if (new_ratio < 1.0 and new_replicas > current) or (new_ratio > 1.0 and new_replicas < current):
            return current, utilization, raw, timestamp
        return new_replicas, utilization, raw, timestamp

    async def get_raw_resource_replicas(self, current: int, target_usage: int, resource: str,
                                        tolerances: Tolerances, namespace: str, selector: selectors.LabelSelector,
                                        container: str = "") -> tuple[int, int, float]:
        """(replicas, average usage, timestamp) for an averageValue target of a resource."""
        try:
            metrics, timestamp = await self.metrics.get_resource_metric(resource, namespace, str(selector), container)
        except mc.MetricsError as e:
            raise CalculationError(f"unable to get metrics for resource {resource}: {e}") from e
        replicas, usage = self._plain(dict(metrics), current, target_usage, tolerances, namespace, selector, resource)
        return replicas, usage, timestamp

    async def get_metric_replicas(self, current: int, target_usage: int, metric: str, tolerances: Tolerances,
                                  namespace: str, selector: selectors.LabelSelector,
                                  metric_selector: str = "") -> tuple[int, int, float]:
        """(replicas, average usage, timestamp) for a Pods metric."""
        try:
            metrics, timestamp = await self.metrics.get_raw_metric(metric, namespace, str(selector), metric_selector)
        except mc.MetricsError as e:
            raise CalculationError(f"unable to get metric {metric}: {e}") from e
        replicas, usage = self._plain(dict(metrics), current, target_usage, tolerances, namespace, selector, "")
        return replicas, usage, timestamp

    def _plain(self, metrics: mc.PodMetricsInfo, current: int, target_usage: int, tolerances: Tolerances,
               namespace: str, selector: selectors.LabelSelector, resource: str) -> tuple[int, int]:
        """calcPlainMetricReplicas."""
        pods = self._list(namespace, selector)
        ready, unready, missing, ignored = self._group(pods, metrics, resource)
        for name in ignored | unready:
            metrics.pop(name, None)
        if not metrics:
            raise CalculationError("did not receive metrics for targeted pods (pods might be unready)")
        usage_ratio, usage = metric_usage_ratio(metrics, target_usage)
        scale_up_with_unready = bool(unready) and usage_ratio > 1.0
        if not scale_up_with_unready and not missing:
            if tolerances.is_within(usage_ratio):
                return current, usage
            return _ceil_int32(usage_ratio * ready), usage
        if missing:
            if usage_ratio < 1.0:
                for name in missing:
                    metrics[name] = mc.PodMetric(target_usage)
            elif usage_ratio > 1.0:
                for name in missing:
                    metrics[name] = mc.PodMetric(0)
        if scale_up_with_unready:
            for name in unready:
                metrics[name] = mc.PodMetric(0)
        new_ratio, _ = metric_usage_ratio(metrics, target_usage)
        if tolerances.is_within(new_ratio) or (usage_ratio < 1.0 < new_ratio) or (usage_ratio > 1.0 > new_ratio):
            return current, usage
        new_replicas = _ceil_int32(new_ratio * len(metrics))
        if (new_ratio < 1.0 and new_replicas > current) or (new_ratio > 1.0 and new_replicas < current):
            return current, usage
        return new_replicas, usage

    async def get_object_metric_replicas(self, current: int, target_usage: int, metric: str,
                                         tolerances: Tolerances, namespace: str, ref: Obj,
                                         selector: selectors.LabelSelector,
                                         metric_selector: str = "") -> tuple[int, int, float]:
        """(replicas, usage, timestamp) for an Object metric with a Value target."""
        try:
            usage, _ts = await self.metrics.get_object_metric(metric, namespace, ref, metric_selector)
        except mc.MetricsError as e:
            raise CalculationError(f"unable to get metric {metric}: {e} on {ref.get('kind')} "
                                   f"{namespace}/{ref.get('name')}") from e
        replicas = self._usage_ratio_replicas(current, usage / target_usage, tolerances, namespace, selector)
        # Upstream returns a zero timestamp here.
        return replicas, usage, 0.0

    def _usage_ratio_replicas(self, current: int, usage_ratio: float, tolerances: Tolerances, namespace: str,
                              selector: selectors.LabelSelector) -> int:
        """getUsageRatioReplicaCount: from zero replicas, ceil(ratio) (scale from zero)."""
        if current != 0:
            if tolerances.is_within(usage_ratio):
                return current
            pods = self._list(namespace, selector)
            ready = sum(1 for p in pods if (p.get("status") or {}).get("phase") == "Running" and is_pod_ready(p))
            return _ceil_int32(usage_ratio * ready)
        return int(math.ceil(usage_ratio))

    async def get_object_per_pod_metric_replicas(self, status_replicas: int, target_average: int, metric: str,
                                                 tolerances: Tolerances, namespace: str, ref: Obj,
                                                 metric_selector: str = "") -> tuple[int, int, float]:
        """(replicas, per-pod usage, timestamp) for an Object metric with an AverageValue target."""
        try:
            usage, timestamp = await self.metrics.get_object_metric(metric, namespace, ref, metric_selector)
        except mc.MetricsError as e:
            raise CalculationError(f"unable to get metric {metric}: {e} on {ref.get('kind')} "
                                   f"{namespace}/{ref.get('name')}") from e
        replicas = status_replicas
        usage_ratio = usage / (target_average * replicas) if replicas else math.inf
        if not tolerances.is_within(usage_ratio):
            replicas = int(math.ceil(usage / target_average))
        per_pod = int(math.ceil(usage / status_replicas)) if status_replicas else usage
        return replicas, per_pod, timestamp

    async def get_external_metric_replicas(self, current: int, target_usage: int, metric: str,
                                           tolerances: Tolerances, namespace: str, metric_selector: str,
                                           selector: selectors.LabelSelector) -> tuple[int, int, float]:
        try:
            values, _ts = await self.metrics.get_external_metric(metric, namespace, metric_selector)
        except mc.MetricsError as e:
            raise CalculationError(f"unable to get external metric {namespace}/{metric}: {e}") from e
        usage = sum(values)
        replicas = self._usage_ratio_replicas(current, usage / target_usage, tolerances, namespace, selector)
        return replicas, usage, 0.0

    async def get_external_per_pod_metric_replicas(self, status_replicas: int, target_per_pod: int, metric: str,
                                                   tolerances: Tolerances, namespace: str,
                                                   metric_selector: str) -> tuple[int, int, float]:
        try:
            values, timestamp = await self.metrics.get_external_metric(metric, namespace, metric_selector)
        except mc.MetricsError as e:
            raise CalculationError(f"unable to get external metric {namespace}/{metric}: {e}") from e
        usage = sum(values)
        replicas = status_replicas
        usage_ratio = usage / (target_per_pod * replicas) if replicas else math.inf
        if not tolerances.is_within(usage_ratio):
            replicas = _ceil_int32(usage / target_per_pod)
        per_pod = int(math.ceil(usage / status_replicas)) if status_replicas else usage
        return replicas, per_pod, timestamp
