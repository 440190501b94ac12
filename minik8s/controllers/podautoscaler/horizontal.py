"""The HorizontalPodAutoscaler controller: Kubernetes' horizontal.go, ported.

Every HPA is synced every `sync_period` (15 s, `--horizontal-pod-autoscaler-sync-period`)
and whenever its spec changes. One sync (`reconcile_autoscaler`):

1. Read the target's scale subresource (`AbleToScale`: SucceededGetScale / FailedGetScale).
2. Replicas outside [minReplicas, maxReplicas] are brought inside at once; a target
   scaled to 0 by hand is left alone (`ScalingActive` False, ScalingDisabled).
3. Otherwise each metric proposes a replica count (replica_calculator.py); the largest
   wins. Metrics that fail are skipped unless all fail, or unless the others would scale
   down (`ScalingActive` False with the first failure's reason, else ValidMetricFound).
4. The proposal is normalized:
   - without `behavior`: the highest recommendation of the last
     `downscale_stabilization` seconds (300 s) wins (ScaleDownStabilized), and one step
     grows at most to max(2 × current, 4);
   - with `behavior` (defaulted by the API server): the stabilization windows of both
     directions (scale-up 0 s, scale-down 300 s unless set), then the policies — per
     period, at most `Pods` more/fewer or `Percent` of the count at the period's start,
     the largest (`selectPolicy: Max`) or smallest (`Min`) change, or none (`Disabled`).
   `ScalingLimited` tells whether min/max or a rate limit cut the proposal.
5. A new size is written to the scale subresource, with a `SuccessfulRescale` event
   ("New size: 4; reason: cpu resource utilization (percentage of request) above target").
6. The status (currentReplicas, desiredReplicas, lastScaleTime, currentMetrics,
   conditions) is written through /status when it changed.

Recommendations and scale events live in this process only, as upstream's do: a
restarted controller starts its stabilization windows afresh from the target's current
size (recordInitialRecommendation), which can only delay a scale-down.
"""
from __future__ import annotations

import copy
import dataclasses
import logging
import math
import time
from typing import Any, Callable, Protocol

from minik8s.api import errors
from minik8s.api import quantity
from minik8s.api import resources
from minik8s.api import selectors
from minik8s.client import events as events_mod
from minik8s.client import informer as informer_mod
from minik8s.controllers import base
from minik8s.controllers.podautoscaler import metrics_client as mc
from minik8s.controllers.podautoscaler import replica_calculator as rc
from minik8s.controllers.podautoscaler import scale_client as sc

log = logging.getLogger(__name__)

Obj = dict[str, Any]

HPAS = resources.must("autoscaling", "v2", "horizontalpodautoscalers")
PODS = resources.must("", "v1", "pods")

SCALE_UP_LIMIT_FACTOR = 2.0
SCALE_UP_LIMIT_MINIMUM = 4.0
DEFAULT_SYNC_PERIOD = 15.0
DEFAULT_DOWNSCALE_STABILIZATION = 300.0

ABLE_TO_SCALE, SCALING_ACTIVE, SCALING_LIMITED = "AbleToScale", "ScalingActive", "ScalingLimited"


def _now_text(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def milli(q: Any) -> int:
    return quantity.cpu_millis(str(q))


def milli_quantity(m: int) -> str:
    """resource.NewMilliQuantity(m, DecimalSI).String()."""
    return quantity.format_cpu_millis(m)


# -- conditions ---------------------------------------------------------------------------------------------


def set_condition(conditions: list[Obj], type_: str, status: str, reason: str, message: str, now: float) -> list[Obj]:
    """setConditionInList: set one condition, its transition time moving only when its status does."""
    out = [dict(c) for c in conditions]
    existing = next((c for c in out if c.get("type") == type_), None)
    if existing is None:
        existing = {"type": type_}
        out.append(existing)
    if existing.get("status") != status:
        existing["lastTransitionTime"] = _now_text(now)
    existing["status"] = status
    existing["reason"] = reason
    existing["message"] = message
    return out


# -- normalization (pure, table-tested against upstream's cases) ------------------------------------------


@dataclasses.dataclass
class Recommendation:
    replicas: int
    time: float


@dataclasses.dataclass
class ScaleEvent:
    change: int  # absolute, non-negative
    time: float
    outdated: bool = False


def calculate_scale_up_limit(current: int) -> int:
    return int(max(SCALE_UP_LIMIT_FACTOR * current, SCALE_UP_LIMIT_MINIMUM))


def convert_desired_replicas_with_rules(current: int, desired: int, min_replicas: int,
                                       max_replicas: int) -> tuple[int, str, str]:
    """convertDesiredReplicasWithRules: min/max and the default scale-up limit (no behavior)."""
    scale_up_limit = calculate_scale_up_limit(current)
    if max_replicas > scale_up_limit:
        maximum, reason, message = (scale_up_limit, "ScaleUpLimit",
                                    "the desired replica count is increasing faster than the maximum scale rate")
    else:
        maximum, reason, message = (max_replicas, "TooManyReplicas",
                                    "the desired replica count is more than the maximum replica count")
    if desired < min_replicas:
        return min_replicas, "TooFewReplicas", "the desired replica count is less than the minimum replica count"
    if desired > maximum:
        return maximum, reason, message
    return desired, "DesiredWithinRange", "the desired count is within the acceptable range"


def replicas_change_per_period(period: int, events: list[ScaleEvent], now: float) -> int:
    cutoff = now - period
    return sum(e.change for e in events if e.time > cutoff)


def longest_policy_period(rules: Obj) -> int:
    return max([int(p.get("periodSeconds") or 0) for p in rules.get("policies") or []], default=0)


def scale_up_limit_with_rules(current: int, up_events: list[ScaleEvent], down_events: list[ScaleEvent],
                              rules: Obj, now: float) -> int:
    """calculateScaleUpLimitWithScalingRules: the most replicas the policies allow now."""
    select = rules.get("selectPolicy") or "Max"
    if select == "Disabled":
        return current
    pick = min if select == "Min" else max
    result: int | None = None
    for policy in rules.get("policies") or []:
        period = int(policy.get("periodSeconds") or 0)
        start = current - replicas_change_per_period(period, up_events, now) + \
            replicas_change_per_period(period, down_events, now)
        value = int(policy.get("value") or 0)
        if policy.get("type") == "Pods":
            proposed = start + value
        else:
            # Rounded up: a small percentage of a few pods must still be able to add one.
            proposed = int(math.ceil(start * (1 + value / 100)))
        result = proposed if result is None else pick(result, proposed)
    return -(2**31) if result is None else result


def scale_down_limit_with_rules(current: int, up_events: list[ScaleEvent], down_events: list[ScaleEvent],
                                rules: Obj, now: float) -> int:
    """calculateScaleDownLimitWithBehaviors: the fewest replicas the policies allow now."""
    select = rules.get("selectPolicy") or "Max"
    if select == "Disabled":
        return current
    pick = max if select == "Min" else min
    result: int | None = None
    for policy in rules.get("policies") or []:
        period = int(policy.get("periodSeconds") or 0)
        start = current - replicas_change_per_period(period, up_events, now) + \
            replicas_change_per_period(period, down_events, now)
        value = int(policy.get("value") or 0)
        if policy.get("type") == "Pods":
            proposed = start - value
        else:
            proposed = int(start * (1 - value / 100))
        result = proposed if result is None else pick(result, proposed)
    return 2**31 - 1 if result is None else result


@dataclasses.dataclass
class NormalizationArg:
    key: str
    scale_up: Obj
    scale_down: Obj
    min_replicas: int
    max_replicas: int
    current: int
    desired: int


def default_scale_up_rules(given: Obj | None = None) -> Obj:
    """GenerateHPAScaleUpRules."""
    out: Obj = {"stabilizationWindowSeconds": 0, "selectPolicy": "Max", "policies": [
        {"type": "Pods", "value": 4, "periodSeconds": 15}, {"type": "Percent", "value": 100, "periodSeconds": 15}]}
    for key in ("stabilizationWindowSeconds", "selectPolicy", "policies", "tolerance"):
        if given and given.get(key) is not None:
            out[key] = given[key]
    return out


def default_scale_down_rules(given: Obj | None = None) -> Obj:
    """GenerateHPAScaleDownRules (the window stays unset: the controller's own default fills it)."""
    out: Obj = {"selectPolicy": "Max", "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}]}
    for key in ("stabilizationWindowSeconds", "selectPolicy", "policies", "tolerance"):
        if given and given.get(key) is not None:
            out[key] = given[key]
    return out


# -- seams ------------------------------------------------------------------------------------------------


class StatusWriter(Protocol):
    async def update_status(self, hpa: Obj) -> Obj:
        """PUT the HPA's status. Raises errors.StatusError."""


class RestStatusWriter:
    def __init__(self, client: Any) -> None:
        self.client = client

    async def update_status(self, hpa: Obj) -> Obj:
        result: Obj = await self.client.update_status(HPAS, hpa)
        return result


Record = Callable[[Obj, str, str, str], None]


class HorizontalController(base.Controller):
    name = "horizontalpodautoscaling"
    workers = 5

    def __init__(self, hpas: informer_mod.Informer, pods: informer_mod.Informer, status: StatusWriter,
                 scales: sc.ScaleClient, metrics: mc.MetricsClient, recorder: events_mod.EventRecorder | None = None,
                 *, sync_period: float = DEFAULT_SYNC_PERIOD,
                 downscale_stabilization: float = DEFAULT_DOWNSCALE_STABILIZATION,
                 tolerance: float = rc.DEFAULT_TOLERANCE,
                 cpu_initialization_period: float = rc.DEFAULT_CPU_INITIALIZATION_PERIOD,
                 delay_of_initial_readiness_status: float = rc.DEFAULT_DELAY_OF_INITIAL_READINESS_STATUS,
                 clock: Callable[[], float] = time.time, record: Record | None = None) -> None:
        super().__init__()
        self.hpas = hpas
        self.pods = pods
        self.status = status
        self.scales = scales
        self.recorder = recorder
        self.sync_period = sync_period
        self.downscale_stabilization = downscale_stabilization
        self.tolerance = tolerance
        self.clock = clock
        self._record = record
        self.calc = rc.ReplicaCalculator(metrics, self._list_pods, cpu_initialization_period=cpu_initialization_period,
                                         delay_of_initial_readiness_status=delay_of_initial_readiness_status,
                                         clock=clock)
        self.recommendations: dict[str, list[Recommendation]] = {}
        self.scale_up_events: dict[str, list[ScaleEvent]] = {}
        self.scale_down_events: dict[str, list[ScaleEvent]] = {}
        self.selectors: dict[str, selectors.LabelSelector] = {}
        hpas.add_handlers(on_add=self.on_add, on_update=self.on_update, on_delete=self.on_delete)

    # -- handlers ---------------------------------------------------------------------------------------

    def on_add(self, hpa: Obj) -> None:
        self.enqueue(informer_mod.key_of(hpa))

    def on_update(self, old: Obj, cur: Obj) -> None:
        # Our own status writes come back as updates; only a new spec is worth an early sync.
        if old.get("spec") != cur.get("spec") or old["metadata"].get("uid") != cur["metadata"].get("uid"):
            self.enqueue(informer_mod.key_of(cur))

    def on_delete(self, hpa: Obj) -> None:
        self.enqueue(informer_mod.key_of(hpa))

    def _list_pods(self, namespace: str, selector: selectors.LabelSelector) -> list[Obj]:
        return self.pods.list(namespace, selector)

    def event(self, hpa: Obj, type_: str, reason: str, message: str) -> None:
        if self._record is not None:
            self._record(hpa, type_, reason, message)
        if self.recorder is not None:
            self.recorder.event({**hpa, "apiVersion": HPAS.api_version, "kind": HPAS.kind}, type_, reason, message)

    # -- sync --------------------------------------------------------------------------------------------

    async def sync(self, key: str) -> None:
        hpa = self.hpas.get(key)
        if hpa is None:
            self.recommendations.pop(key, None)
            self.scale_up_events.pop(key, None)
            self.scale_down_events.pop(key, None)
            self.selectors.pop(key, None)
            return
        # Every HPA is looked at again after the sync period, whatever happens now; a failure
        # waits for that too (upstream's fixed-interval rate limiter), it is not retried early.
        self.enqueue_after(key, self.sync_period)
        try:
            await self.reconcile_autoscaler(hpa, key)
        except errors.StatusError as e:
            log.info("hpa %s: %s", key, e.message)

    def _tolerances(self, hpa: Obj) -> rc.Tolerances:
        behavior = (hpa.get("spec") or {}).get("behavior") or {}

        def one(direction: str) -> float:
            value = (behavior.get(direction) or {}).get("tolerance")
            if value is None:
                return self.tolerance
            try:
                return float(quantity.parse_quantity(str(value)))
            except ValueError:
                return self.tolerance
        return rc.Tolerances(scale_down=one("scaleDown"), scale_up=one("scaleUp"))

    async def reconcile_autoscaler(self, shared: Obj, key: str) -> None:
        hpa = copy.deepcopy(shared)
        original_status = copy.deepcopy(hpa.get("status") or {})
        hpa.setdefault("status", {})
        spec = hpa.get("spec") or {}
        namespace = hpa["metadata"]["namespace"]
        ref = spec.get("scaleTargetRef") or {}
        reference = f"{ref.get('kind')}/{namespace}/{ref.get('name')}"
        now = self.clock()

        def condition(type_: str, cstatus: str, reason: str, message: str) -> None:
            st = hpa.setdefault("status", {})
            st["conditions"] = set_condition(st.get("conditions") or [], type_, cstatus, reason, message,
                                             self.clock())

        try:
            scale = await self.scales.get_scale(namespace, ref)
        except errors.StatusError as e:
            self.event(hpa, "Warning", "FailedGetScale", e.message)
            condition(ABLE_TO_SCALE, "False", "FailedGetScale",
                      f"the HPA controller was unable to get the target's current scale: {e.message}")
            await self.update_status_if_needed(original_status, hpa)
            raise errors.StatusError(e.code, e.reason, f"failed to query scale subresource for {reference}: "
                                                       f"{e.message}") from e
        condition(ABLE_TO_SCALE, "True", "SucceededGetScale",
                  "the HPA controller was able to get the target's current scale")
        current = int((scale.get("spec") or {}).get("replicas") or 0)
        self.recommendations.setdefault(key, [Recommendation(current, now)])  # recordInitialRecommendation

        min_replicas = int(spec["minReplicas"]) if spec.get("minReplicas") is not None else 1
        max_replicas = int(spec.get("maxReplicas") or 0)
        metric_statuses: list[Obj] | None = None
        desired = 0
        rescale_reason = ""
        rescale = True
        failure: str | None = None

        if current == 0 and min_replicas != 0:
            desired = 0
            rescale = False
            condition(SCALING_ACTIVE, "False", "ScalingDisabled",
                      "scaling is disabled since the replica count of the target is zero")
        elif current > max_replicas:
            rescale_reason = "Current number of replicas above Spec.MaxReplicas"
            desired = max_replicas
        elif current < min_replicas:
            rescale_reason = "Current number of replicas below Spec.MinReplicas"
            desired = min_replicas
        else:
            proposal, metric_name, metric_statuses, failure = await self.compute_replicas_for_metrics(
                hpa, scale, spec.get("metrics") or [], condition)
            if proposal == -1:
                self._set_status(hpa, current, int(original_status.get("desiredReplicas") or 0), metric_statuses,
                                 False)
                await self.update_status_if_needed(original_status, hpa)
                self.event(hpa, "Warning", "FailedComputeMetricsReplicas", failure or "")
                raise errors.StatusError(500, "InternalError", "failed to compute desired number of replicas "
                                                                f"based on listed metrics for {reference}: {failure}")
            rescale_metric = ""
            if proposal > desired:
                desired = proposal
                rescale_metric = metric_name
            if desired > current:
                rescale_reason = f"{rescale_metric} above target"
            if desired < current:
                rescale_reason = "All metrics below target"
            if spec.get("behavior") is None:
                desired = self.normalize_desired_replicas(hpa, key, current, desired, min_replicas, condition)
            else:
                desired = self.normalize_desired_replicas_with_behaviors(hpa, key, current, desired, min_replicas,
                                                                         condition)
            rescale = desired != current

        if rescale:
            new_scale = copy.deepcopy(scale)
            new_scale.setdefault("spec", {})["replicas"] = desired
            try:
                await self.scales.update_scale(namespace, ref, new_scale)
            except errors.StatusError as e:
                self.event(hpa, "Warning", "FailedRescale",
                           f"New size: {desired}; reason: {rescale_reason}; error: {e.message}")
                condition(ABLE_TO_SCALE, "False", "FailedUpdateScale",
                          f"the HPA controller was unable to update the target scale: {e.message}")
                self._set_status(hpa, current, int(original_status.get("desiredReplicas") or 0), metric_statuses,
                                 False)
                await self.update_status_if_needed(original_status, hpa)
                raise errors.StatusError(e.code, e.reason, f"failed to rescale {reference}: {e.message}") from e
            condition(ABLE_TO_SCALE, "True", "SucceededRescale",
                      f"the HPA controller was able to update the target scale to {desired}")
            self.event(hpa, "Normal", "SuccessfulRescale", f"New size: {desired}; reason: {rescale_reason}")
            self.store_scale_event(spec.get("behavior"), key, current, desired)
            log.info("hpa %s: rescaled %s from %d to %d: %s", key, reference, current, desired, rescale_reason)
        else:
            desired = current

        self._set_status(hpa, current, desired, metric_statuses, rescale)
        await self.update_status_if_needed(original_status, hpa)
        if failure is not None:
            # Some metrics failed but the others still decided: report it after acting.
            raise errors.StatusError(500, "InternalError", failure)

    # -- metrics -----------------------------------------------------------------------------------------

    def _validate_selector(self, hpa: Obj, scale: Obj, condition: Callable[[str, str, str, str], None]
                           ) -> selectors.LabelSelector | None:
        text = (scale.get("status") or {}).get("selector") or ""
        if not text:
            self.event(hpa, "Warning", "SelectorRequired", "selector is required")
            condition(SCALING_ACTIVE, "False", "InvalidSelector", "the HPA target's scale is missing a selector")
            return None
        try:
            parsed = selectors.parse_label_selector(text)
        except errors.StatusError as e:
            message = f"couldn't convert selector into a corresponding internal selector object: {e.message}"
            self.event(hpa, "Warning", "InvalidSelector", message)
            condition(SCALING_ACTIVE, "False", "InvalidSelector", message)
            return None
        key = informer_mod.key_of(hpa)
        namespace = hpa["metadata"]["namespace"]
        self.selectors[key] = parsed
        pods = self.pods.list(namespace, parsed)
        controlling = sorted(
            other for other, sel in self.selectors.items()
            if other.split("/", 1)[0] == namespace and self.hpas.get(other) is not None
            and any(sel.matches(p["metadata"].get("labels")) for p in pods))
        if len(controlling) > 1:
            message = f"pods by selector {text} are controlled by multiple HPAs: {controlling}"
            self.event(hpa, "Warning", "AmbiguousSelector", message)
            condition(SCALING_ACTIVE, "False", "AmbiguousSelector", message)
            return None
        return parsed

    async def compute_replicas_for_metrics(self, hpa: Obj, scale: Obj, specs: list[Obj],
                                           condition: Callable[[str, str, str, str], None]
                                           ) -> tuple[int, str, list[Obj] | None, str | None]:
        """(replicas or -1, the deciding metric's description, statuses, error) — computeReplicasForMetrics."""
        selector = self._validate_selector(hpa, scale, condition)
        if selector is None:
            return -1, "", None, "invalid selector"
        spec_replicas = int((scale.get("spec") or {}).get("replicas") or 0)
        status_replicas = int((scale.get("status") or {}).get("replicas") or 0)
        statuses: list[Obj] = [{"type": ""} for _ in specs]
        replicas, metric = 0, ""
        invalid = 0
        first_error: str | None = None
        first_condition: tuple[str, str, str, str] | None = None
        for i, spec in enumerate(specs):
            try:
                proposal, name, status = await self.compute_replicas_for_metric(hpa, spec, spec_replicas,
                                                                                status_replicas, selector)
            except _MetricFailure as f:
                if invalid == 0:
                    first_error, first_condition = f.message, f.condition
                invalid += 1
                continue
            statuses[i] = status
            if replicas == 0 or proposal > replicas:
                replicas, metric = proposal, name
        error = None
        if first_error is not None:
            error = f"invalid metrics ({invalid} invalid out of {len(specs)}), first error is: {first_error}"
        if invalid >= len(specs) or (invalid > 0 and replicas < spec_replicas):
            assert first_condition is not None
            condition(*first_condition)
            return -1, "", statuses, error
        condition(SCALING_ACTIVE, "True", "ValidMetricFound",
                  f"the HPA was able to successfully calculate a replica count from {metric}")
        return replicas, metric, statuses, error

    def _fail(self, hpa: Obj, reason: str, message: str, prefix: str) -> "_MetricFailure":
        self.event(hpa, "Warning", reason, message)
        return _MetricFailure(f"{prefix}: {message}" if prefix else message,
                              (SCALING_ACTIVE, "False", reason, f"the HPA was unable to compute the replica count: "
                                                                f"{message}"))

    async def compute_replicas_for_metric(self, hpa: Obj, spec: Obj, spec_replicas: int, status_replicas: int,
                                          selector: selectors.LabelSelector) -> tuple[int, str, Obj]:
        """(replicas, description, MetricStatus) for one metric; raises _MetricFailure."""
        namespace = hpa["metadata"]["namespace"]
        tolerances = self._tolerances(hpa)
        kind = spec.get("type")
        try:
            if kind == "Object":
                src = spec.get("object") or {}
                metric = src.get("metric") or {}
                metric_selector = self._metric_selector(metric)
                target = src.get("target") or {}
                ref = src.get("describedObject") or {}
                if target.get("type") == "Value" and target.get("value") is not None:
                    replicas, usage, _ts = await self.calc.get_object_metric_replicas(
                        spec_replicas, milli(target["value"]), metric.get("name", ""), tolerances, namespace, ref,
                        selector, metric_selector)
                    current: Obj = {"value": milli_quantity(usage)}
                elif target.get("type") == "AverageValue" and target.get("averageValue") is not None:
                    replicas, usage, _ts = await self.calc.get_object_per_pod_metric_replicas(
                        status_replicas, milli(target["averageValue"]), metric.get("name", ""), tolerances,
                        namespace, ref, metric_selector)
                    current = {"averageValue": milli_quantity(usage)}
                else:
                    raise rc.CalculationError("invalid object metric source: neither a value target nor an "
                                              "average value target was set")
                return replicas, f"{ref.get('kind')} metric {metric.get('name')}", {
                    "type": "Object", "object": {"describedObject": ref, "metric": _identifier(metric),
                                                 "current": current}}
            if kind == "Pods":
                src = spec.get("pods") or {}
                metric = src.get("metric") or {}
                target = src.get("target") or {}
                replicas, usage, _ts = await self.calc.get_metric_replicas(
                    spec_replicas, milli(target.get("averageValue") or "0"), metric.get("name", ""), tolerances,
                    namespace, selector, self._metric_selector(metric))
                return replicas, f"pods metric {metric.get('name')}", {
                    "type": "Pods", "pods": {"metric": _identifier(metric),
                                             "current": {"averageValue": milli_quantity(usage)}}}
            if kind in ("Resource", "ContainerResource"):
                field = "resource" if kind == "Resource" else "containerResource"
                src = spec.get(field) or {}
                name = src.get("name", "")
                container = src.get("container", "") if kind == "ContainerResource" else ""
                target = src.get("target") or {}
                if target.get("averageValue") is not None:
                    replicas, usage, _ts = await self.calc.get_raw_resource_replicas(
                        spec_replicas, milli(target["averageValue"]), name, tolerances, namespace, selector,
                        container)
                    current = {"averageValue": milli_quantity(usage)}
                    description = f"{name} resource"
                elif target.get("averageUtilization") is not None:
                    replicas, utilization, raw, _ts = await self.calc.get_resource_replicas(
                        spec_replicas, int(target["averageUtilization"]), name, tolerances, namespace, selector,
                        container)
                    current = {"averageUtilization": utilization, "averageValue": milli_quantity(raw)}
                    description = (f"{name} container resource utilization (percentage of request)" if container
                                   else f"{name} resource utilization (percentage of request)")
                else:
                    raise rc.CalculationError("invalid resource metric source: neither an average utilization "
                                              "target nor an average value (usage) target was set")
                status: Obj = {"name": name, "current": current}
                if container:
                    status["container"] = container
                return replicas, description, {"type": kind, field: status}
            if kind == "External":
                src = spec.get("external") or {}
                metric = src.get("metric") or {}
                target = src.get("target") or {}
                metric_selector = self._metric_selector(metric)
                if target.get("averageValue") is not None:
                    replicas, usage, _ts = await self.calc.get_external_per_pod_metric_replicas(
                        status_replicas, milli(target["averageValue"]), metric.get("name", ""), tolerances, namespace,
                        metric_selector)
                    current = {"averageValue": milli_quantity(usage)}
                elif target.get("value") is not None:
                    replicas, usage, _ts = await self.calc.get_external_metric_replicas(
                        spec_replicas, milli(target["value"]), metric.get("name", ""), tolerances, namespace,
                        metric_selector, selector)
                    current = {"value": milli_quantity(usage)}
                else:
                    raise rc.CalculationError("invalid external metric source: neither a value target nor an "
                                              "average value target was set")
                return replicas, f"external metric {metric.get('name')}", {
                    "type": "External", "external": {"metric": _identifier(metric), "current": current}}
        except (rc.CalculationError, errors.StatusError) as e:
            message = e.message if isinstance(e, errors.StatusError) else str(e)
            reason, prefix = _FAILURE.get(str(kind), ("FailedGetResourceMetric", ""))
            if kind in ("Resource", "ContainerResource"):
                src = spec.get("resource" if kind == "Resource" else "containerResource") or {}
                what = src.get("container") if kind == "ContainerResource" else src.get("name")
                prefix = f"failed to get {what} {'container' if kind == 'ContainerResource' else 'resource'} " \
                         "metric value"
            raise self._fail(hpa, reason, message, prefix) from e
        raise self._fail(hpa, "InvalidMetricSourceType", f'unknown metric source type "{kind}"', "")

    @staticmethod
    def _metric_selector(metric: Obj) -> str:
        sel = metric.get("selector")
        if not sel:
            return ""
        selectors.from_label_selector(sel)  # raises StatusError on a malformed selector
        return selectors.selector_string(sel)

    # -- normalization -----------------------------------------------------------------------------------

    def stabilize_recommendation(self, key: str, prenormalized: int) -> int:
        """Without behavior: the highest recommendation of the last downscale window (stabilizeRecommendation)."""
        now = self.clock()
        cutoff = now - self.downscale_stabilization
        recs = self.recommendations.setdefault(key, [])
        highest = prenormalized
        old_index: int | None = None
        for i, rec in enumerate(recs):
            if rec.time < cutoff:
                old_index = i
            elif rec.replicas > highest:
                highest = rec.replicas
        new = Recommendation(prenormalized, now)
        if old_index is not None:
            recs[old_index] = new
        else:
            recs.append(new)
        return highest

    def normalize_desired_replicas(self, hpa: Obj, key: str, current: int, prenormalized: int, min_replicas: int,
                                   condition: Callable[[str, str, str, str], None]) -> int:
        stabilized = self.stabilize_recommendation(key, prenormalized)
        if stabilized != prenormalized:
            condition(ABLE_TO_SCALE, "True", "ScaleDownStabilized",
                      "recent recommendations were higher than current one, applying the highest recent "
                      "recommendation")
        else:
            condition(ABLE_TO_SCALE, "True", "ReadyForNewScale", "recommended size matches current size")
        desired, reason, message = convert_desired_replicas_with_rules(current, stabilized, min_replicas,
                                                                       int((hpa.get("spec") or {})["maxReplicas"]))
        condition(SCALING_LIMITED, "False" if desired == stabilized else "True", reason, message)
        return desired

    def stabilize_recommendation_with_behaviors(self, args: NormalizationArg) -> tuple[int, str, str]:
        now = self.clock()
        up_cutoff = now - int(args.scale_up.get("stabilizationWindowSeconds") or 0)
        down_window = args.scale_down.get("stabilizationWindowSeconds")
        down_cutoff = now - (int(down_window) if down_window is not None else self.downscale_stabilization)
        up_rec = down_rec = args.desired
        recs = self.recommendations.setdefault(args.key, [])
        old_index: int | None = None
        for i, rec in enumerate(recs):
            if rec.time > up_cutoff:
                up_rec = min(rec.replicas, up_rec)
            if rec.time > down_cutoff:
                down_rec = max(rec.replicas, down_rec)
            if rec.time < up_cutoff and rec.time < down_cutoff:
                old_index = i
        recommendation = max(args.current, up_rec)
        recommendation = min(recommendation, down_rec)
        new = Recommendation(args.desired, now)
        if old_index is not None:
            recs[old_index] = new
        else:
            recs.append(new)
        if args.desired >= args.current:
            return recommendation, "ScaleUpStabilized", ("recent recommendations were lower than current one, "
                                                         "applying the lowest recent recommendation")
        return recommendation, "ScaleDownStabilized", ("recent recommendations were higher than current one, "
                                                       "applying the highest recent recommendation")

    def convert_desired_replicas_with_behavior_rate(self, args: NormalizationArg) -> tuple[int, str, str]:
        now = self.clock()
        up_events = self.scale_up_events.get(args.key, [])
        down_events = self.scale_down_events.get(args.key, [])
        if args.desired > args.current:
            limit = max(scale_up_limit_with_rules(args.current, up_events, down_events, args.scale_up, now),
                        args.current)
            if args.max_replicas > limit:
                maximum, reason, message = (limit, "ScaleUpLimit",
                                            "the desired replica count is increasing faster than the maximum scale "
                                            "rate")
            else:
                maximum, reason, message = (args.max_replicas, "TooManyReplicas",
                                            "the desired replica count is more than the maximum replica count")
            if args.desired > maximum:
                return maximum, reason, message
        elif args.desired < args.current:
            limit = min(scale_down_limit_with_rules(args.current, up_events, down_events, args.scale_down, now),
                        args.current)
            if args.min_replicas < limit:
                minimum, reason, message = (limit, "ScaleDownLimit",
                                            "the desired replica count is decreasing faster than the maximum scale "
                                            "rate")
            else:
                minimum, reason, message = (args.min_replicas, "TooFewReplicas",
                                            "the desired replica count is less than the minimum replica count")
            if args.desired < minimum:
                return minimum, reason, message
        return args.desired, "DesiredWithinRange", "the desired count is within the acceptable range"

    def normalize_desired_replicas_with_behaviors(self, hpa: Obj, key: str, current: int, prenormalized: int,
                                                  min_replicas: int,
                                                  condition: Callable[[str, str, str, str], None]) -> int:
        behavior = (hpa.get("spec") or {}).get("behavior") or {}
        args = NormalizationArg(key, default_scale_up_rules(behavior.get("scaleUp")),
                                default_scale_down_rules(behavior.get("scaleDown")), min_replicas,
                                int((hpa.get("spec") or {})["maxReplicas"]), current, prenormalized)
        stabilized, reason, message = self.stabilize_recommendation_with_behaviors(args)
        args.desired = stabilized
        if stabilized != prenormalized:
            condition(ABLE_TO_SCALE, "True", reason, message)
        else:
            condition(ABLE_TO_SCALE, "True", "ReadyForNewScale", "recommended size matches current size")
        desired, reason, message = self.convert_desired_replicas_with_behavior_rate(args)
        condition(SCALING_LIMITED, "False" if desired == stabilized else "True", reason, message)
        return desired

    def store_scale_event(self, behavior: Obj | None, key: str, prev: int, new: int) -> None:
        """Remember a scale event for the rate policies (only with behavior), reusing outdated slots."""
        if behavior is None:
            return
        now = self.clock()
        if new > prev:
            rules, events, change = default_scale_up_rules(behavior.get("scaleUp")), self.scale_up_events, new - prev
        else:
            rules, events, change = default_scale_down_rules(behavior.get("scaleDown")), self.scale_down_events, \
                prev - new
        stored = events.setdefault(key, [])
        cutoff = now - longest_policy_period(rules)
        old_index: int | None = None
        for i, e in enumerate(stored):
            if e.time < cutoff:
                e.outdated = True
            if e.outdated:
                old_index = i
        event = ScaleEvent(change, now)
        if old_index is not None:
            stored[old_index] = event
        else:
            stored.append(event)

    # -- status ----------------------------------------------------------------------------------------

    def _set_status(self, hpa: Obj, current: int, desired: int, metric_statuses: list[Obj] | None,
                    rescale: bool) -> None:
        old = hpa.get("status") or {}
        status: Obj = {}
        if current:
            status["currentReplicas"] = current
        status["desiredReplicas"] = desired
        last = old.get("lastScaleTime")
        if rescale:
            last = _now_text(self.clock())
        if last:
            status["lastScaleTime"] = last
        if metric_statuses:
            status["currentMetrics"] = metric_statuses
        if old.get("conditions"):
            status["conditions"] = old["conditions"]
        hpa["status"] = status

    async def update_status_if_needed(self, old: Obj, hpa: Obj) -> None:
        if (hpa.get("status") or {}) == old:
            return
        try:
            await self.status.update_status(hpa)
        except errors.StatusError as e:
            self.event(hpa, "Warning", "FailedUpdateStatus", e.message)
            raise


class _MetricFailure(Exception):
    def __init__(self, message: str, condition: tuple[str, str, str, str]) -> None:
        super().__init__(message)
        self.message = message
        self.condition = condition


_FAILURE = {
    "Object": ("FailedGetObjectMetric", "failed to get object metric value"),
    "Pods": ("FailedGetPodsMetric", "failed to get pods metric value"),
    "External": ("FailedGetExternalMetric", "failed to get external metric value"),
}


def _identifier(metric: Obj) -> Obj:
    out: Obj = {"name": metric.get("name", "")}
    if metric.get("selector") is not None:
        out["selector"] = metric["selector"]
    return out


def new_controller(client: Any, factory: informer_mod.InformerFactory, recorder: events_mod.EventRecorder,
                   options: dict[str, Any] | None = None) -> HorizontalController:
    """The controller as the manager runs it (options from `minik8s controller-manager` flags)."""
    options = options or {}
    return HorizontalController(
        factory.informer(HPAS), factory.informer(PODS), RestStatusWriter(client), sc.RestScaleClient(client),
        mc.RestMetricsClient(client), recorder,
        sync_period=float(options.get("horizontal_pod_autoscaler_sync_period", DEFAULT_SYNC_PERIOD)),
        downscale_stabilization=float(options.get("horizontal_pod_autoscaler_downscale_stabilization",
                                                  DEFAULT_DOWNSCALE_STABILIZATION)),
        tolerance=float(options.get("horizontal_pod_autoscaler_tolerance", rc.DEFAULT_TOLERANCE)),
        cpu_initialization_period=float(options.get("horizontal_pod_autoscaler_cpu_initialization_period",
                                                    rc.DEFAULT_CPU_INITIALIZATION_PERIOD)),
        delay_of_initial_readiness_status=float(options.get("horizontal_pod_autoscaler_initial_readiness_delay",
                                                            rc.DEFAULT_DELAY_OF_INITIAL_READINESS_STATUS)))
