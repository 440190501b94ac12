"""HorizontalPodAutoscalers: defaults, validation, the printer and v1↔v2 conversion.

The HPA strategy (pkg/registry/autoscaling/horizontalpodautoscaler), the
defaults of autoscaling/v1 and v2 (pkg/apis/autoscaling/v{1,2}/defaults.go),
ValidateHorizontalPodAutoscaler, printHorizontalPodAutoscaler, and the hooks
that serve autoscaling/v1 from the autoscaling/v2 objects in storage (the
conversion itself is in hpa_conversion.py).
"""
from __future__ import annotations

import datetime
from typing import Any, Mapping

from minik8s.api import defaults
from minik8s.api import errors
from minik8s.api import printing
from minik8s.api import quantity
from minik8s.api import resources
from minik8s.api import strategy
from minik8s.api import validation as vc
from minik8s.api.kinds import hpa_conversion

Obj = dict[str, Any]
View = Mapping[str, Any]
Cells = printing.Cells
Errors = vc.Errors


# ---------------------------------------------------------------------------
# defaults


def _scale_up_rules() -> Obj:
    return {"stabilizationWindowSeconds": 0, "selectPolicy": "Max", "policies": [
        {"type": "Pods", "value": 4, "periodSeconds": 15},
        {"type": "Percent", "value": 100, "periodSeconds": 15}]}


def _scale_down_rules() -> Obj:
    return {"selectPolicy": "Max", "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}]}


def _fill_rules(given: Any, base: Obj) -> Obj:
    if isinstance(given, dict):
        # tolerance: the HPAConfigurableTolerance field (1.33+), kept as GenerateHPAScale*Rules keep it.
        for key in ("selectPolicy", "stabilizationWindowSeconds", "policies", "tolerance"):
            if given.get(key) is not None:
                base[key] = given[key]
    return base


def _v2_defaults(obj: Obj) -> None:
    spec = defaults.ensure_dict(obj, "spec")
    if spec.get("minReplicas") is None:
        spec["minReplicas"] = 1
    if not spec.get("metrics"):
        spec["metrics"] = [{"type": "Resource", "resource": {
            "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}]
    behavior = defaults.child(spec, "behavior")
    if behavior is not None:
        behavior["scaleUp"] = _fill_rules(behavior.get("scaleUp"), _scale_up_rules())
        behavior["scaleDown"] = _fill_rules(behavior.get("scaleDown"), _scale_down_rules())
    for metric in defaults.dicts(spec.get("metrics")):
        for source in metric.values():
            target = defaults.child(source, "target")
            if target is not None:
                for key in ("value", "averageValue"):
                    if target.get(key) is not None:
                        defaults.canonical_quantity(target, key)


def _v1_defaults(obj: Obj) -> None:
    spec = defaults.ensure_dict(obj, "spec")
    if spec.get("minReplicas") is None:
        spec["minReplicas"] = 1


# ---------------------------------------------------------------------------
# validation


def _cross_version_ref(errs: Errors, ref: Any, path: str) -> None:
    ref = vc.typed_dict(errs, ref, path)
    vc.typed_str(errs, ref.get("apiVersion"), f"{path}.apiVersion")
    for key in ("kind", "name"):
        value = vc.typed_str(errs, ref.get(key), f"{path}.{key}") or ""
        if not value:
            errs.required(f"{path}.{key}")
        else:
            errs.invalid_each(f"{path}.{key}", value, vc.path_segment_name(value))


def _replica_bounds(errs: Errors, spec: Obj) -> None:
    min_replicas = vc.typed_int(errs, spec.get("minReplicas"), "spec.minReplicas")
    max_replicas = vc.typed_int(errs, spec.get("maxReplicas"), "spec.maxReplicas") or 0
    if min_replicas is not None and min_replicas < 1:
        errs.invalid("spec.minReplicas", min_replicas, "must be greater than or equal to 1")
    if max_replicas < 1:
        errs.invalid("spec.maxReplicas", max_replicas, "must be greater than 0")
    if min_replicas is not None and max_replicas < min_replicas:
        errs.invalid("spec.maxReplicas", max_replicas, "must be greater than or equal to `minReplicas`")
    _cross_version_ref(errs, spec.get("scaleTargetRef"), "spec.scaleTargetRef")


def _positive_quantity(errs: Errors, target: Obj, key: str, path: str) -> None:
    if target.get(key) is None:
        return
    try:
        q = quantity.parse(target[key])
    except ValueError as e:
        errs.invalid(f"{path}.{key}", vc.as_str(target[key]), str(e))
        return
    if q.value <= 0:
        errs.invalid(f"{path}.{key}", q.text, "must be positive")


def _metric_target(errs: Errors, target: Obj, path: str) -> None:
    kind = vc.typed_str(errs, target.get("type"), f"{path}.type") or ""
    if not kind:
        errs.required(f"{path}.type", "must specify a metric target type")
    if kind not in ("Utilization", "Value", "AverageValue"):
        errs.invalid(f"{path}.type", kind, "must be either Utilization, Value, or AverageValue")
    _positive_quantity(errs, target, "value", path)
    _positive_quantity(errs, target, "averageValue", path)
    utilization = vc.typed_int(errs, target.get("averageUtilization"), f"{path}.averageUtilization")
    if utilization is not None and utilization < 1:
        errs.invalid(f"{path}.averageUtilization", utilization, "must be greater than 0")


def _metric_source(errs: Errors, kind: str, src: Obj, path: str) -> None:
    target = vc.typed_dict(errs, src.get("target"), f"{path}.target")
    for key in ("name", "container"):
        vc.typed_str(errs, src.get(key), f"{path}.{key}")
    metric = vc.typed_dict(errs, src.get("metric"), f"{path}.metric")
    vc.typed_str(errs, metric.get("name"), f"{path}.metric.name")
    vc.validate_label_selector(errs, metric.get("selector"), f"{path}.metric.selector")
    _metric_target(errs, target, f"{path}.target")
    if kind in ("resource", "containerResource"):
        if not src.get("name"):
            errs.required(f"{path}.name", "must specify a resource name")
        if kind == "containerResource" and not src.get("container"):
            errs.required(f"{path}.container", "must specify a container")
        if target.get("averageUtilization") is None and target.get("averageValue") is None:
            errs.required(f"{path}.target.averageUtilization",
                          "must set either a target raw value or a target utilization")
        if target.get("averageUtilization") is not None and target.get("averageValue") is not None:
            errs.forbidden(f"{path}.target.averageValue",
                           "may not set both a target raw value and a target utilization")
        return
    if not vc.as_dict(src.get("metric")).get("name"):
        errs.required(f"{path}.metric.name", "must specify a metric name")
    if kind == "object":
        _cross_version_ref(errs, src.get("describedObject"), f"{path}.describedObject")
    if kind == "pods" and target.get("averageValue") is None:
        errs.required(f"{path}.target.averageValue", "must specify a positive target averageValue")
    if kind in ("object", "external") and target.get("value") is None and target.get("averageValue") is None:
        errs.required(f"{path}.target.averageValue", "must set either a target value or averageValue")


def _behavior(errs: Errors, behavior: Any) -> None:
    behavior = vc.typed_dict(errs, behavior, "spec.behavior")
    for direction in ("scaleUp", "scaleDown"):
        p = f"spec.behavior.{direction}"
        rules = vc.typed_dict(errs, behavior.get(direction), p)
        vc.typed_str(errs, rules.get("selectPolicy"), f"{p}.selectPolicy")
        vc.typed_int(errs, rules.get("stabilizationWindowSeconds"), f"{p}.stabilizationWindowSeconds")
        for i, policy in vc.typed_dicts(errs, rules.get("policies"), f"{p}.policies"):
            vc.typed_str(errs, policy.get("type"), f"{p}.policies[{i}].type")
            for key in ("value", "periodSeconds"):
                vc.typed_int(errs, policy.get(key), f"{p}.policies[{i}].{key}")


_METRIC_SOURCES = {"Object": "object", "Pods": "pods", "Resource": "resource", "External": "external",
                   "ContainerResource": "containerResource"}


def _scaling_rules(errs: Errors, rules: Any, path: str) -> None:
    """validateScalingRules: what the HPA controller's policy arithmetic relies on."""
    if rules is None:
        return
    rules = vc.as_dict(rules)
    select = rules.get("selectPolicy")
    if select is not None and select not in ("Max", "Min", "Disabled"):
        errs.not_supported(f"{path}.selectPolicy", select, ["Disabled", "Max", "Min"])
    window = rules.get("stabilizationWindowSeconds")
    if window is not None:
        value = vc.as_int(window)
        if value is None or value < 0:
            errs.invalid(f"{path}.stabilizationWindowSeconds", window, "must be greater than or equal to zero")
        elif value > 3600:
            errs.invalid(f"{path}.stabilizationWindowSeconds", window, "must be less than or equal to 3600")
    policies = rules.get("policies")
    if policies is not None and not vc.as_list(policies):
        errs.required(f"{path}.policies", "must specify at least one Policy")
    for i, policy in enumerate(vc.as_list(policies)):
        policy, p = vc.as_dict(policy), f"{path}.policies[{i}]"
        if policy.get("type") not in ("Pods", "Percent"):
            errs.not_supported(f"{p}.type", policy.get("type"), ["Percent", "Pods"])
        period = vc.as_int(policy.get("periodSeconds"))
        if period is None or period <= 0:
            errs.invalid(f"{p}.periodSeconds", policy.get("periodSeconds"), "must be greater than zero")
        elif period > 1800:
            errs.invalid(f"{p}.periodSeconds", period, "must be less than or equal to 1800")
        value = vc.as_int(policy.get("value"))
        if value is None or value <= 0:
            errs.invalid(f"{p}.value", policy.get("value"), "must be greater than zero")
    if rules.get("tolerance") is not None:
        try:
            if quantity.parse_quantity(rules["tolerance"]) < 0:
                errs.invalid(f"{path}.tolerance", rules["tolerance"], "must be greater than or equal to 0")
        except ValueError as e:
            errs.invalid(f"{path}.tolerance", vc.as_str(rules["tolerance"]), str(e))


def _metrics(errs: Errors, metrics: Any, path: str) -> None:
    for i, metric in vc.typed_dicts(errs, metrics, path):
        p = f"{path}[{i}]"
        kind = vc.typed_str(errs, metric.get("type"), f"{p}.type") or ""
        if not kind:
            errs.required(f"{p}.type", "must specify a metric source type")
        present = [key for key in _METRIC_SOURCES.values() if metric.get(key) is not None]
        if present:
            _metric_source(errs, present[0], vc.typed_dict(errs, metric[present[0]], f"{p}.{present[0]}"),
                           f"{p}.{present[0]}")
        expected = _METRIC_SOURCES.get(kind)
        if expected is None:
            errs.not_supported(f"{p}.type", kind, sorted(_METRIC_SOURCES))
            continue
        if expected not in present:
            errs.required(f"{p}.{expected}", "must populate information for the given metric source")
        for other in present:
            if other != expected:
                errs.forbidden(f"{p}.{other}", "must populate the given metric source only")


# ---------------------------------------------------------------------------
# printer


COLUMNS = (
    printing.name_column(),
    printing.column("Reference", desc="scaleTargetRef points to the target resource to scale, and is used to the "
                                      "pods for which metrics should be collected, as well as to actually change "
                                      "the replica count."),
    printing.column("Targets", desc="metrics contains the specifications for which to use to calculate the desired "
                                    "replica count."),
    printing.column("MinPods", desc="minReplicas is the lower limit for the number of replicas to which the "
                                    "autoscaler can scale down."),
    printing.column("MaxPods", desc="maxReplicas is the upper limit for the number of replicas to which the "
                                    "autoscaler can scale up."),
    printing.column("Replicas", desc="currentReplicas is current number of replicas of pods managed by this "
                                     "autoscaler, as last seen by the autoscaler."),
    printing.age_column(),
)


def _hpa_v2_shape(hpa: View) -> tuple[list[View], list[View]]:
    """(spec.metrics, status.currentMetrics), converting an autoscaling/v1 object if given one."""
    spec = hpa.get("spec") or {}
    status = hpa.get("status") or {}
    metrics = spec.get("metrics")
    current = status.get("currentMetrics")
    if metrics is None and spec.get("targetCPUUtilizationPercentage") is not None:
        metrics = [{"type": "Resource", "resource": {"name": "cpu", "target": {
            "type": "Utilization", "averageUtilization": spec["targetCPUUtilizationPercentage"]}}}]
    if current is None and status.get("currentCPUUtilizationPercentage") is not None:
        current = [{"type": "Resource", "resource": {"name": "cpu", "current": {
            "averageUtilization": status["currentCPUUtilizationPercentage"]}}}]
    return list(metrics or []), list(current or [])


def format_hpa_metrics(specs: list[View], statuses: list[View]) -> str:
    """formatHPAMetrics: "cpu: 30%/50%", at most two, then "+ N more..."."""
    if not specs:
        return "<none>"
    listed: list[str] = []
    for i, spec in enumerate(specs):
        status = (statuses[i] if i < len(statuses) else None) or {}
        kind = spec.get("type")
        if kind == "External":
            source = spec.get("external") or {}
            listed.append(_value_or_average(source.get("target") or {}, status.get("external")))
        elif kind == "Pods":
            target = (spec.get("pods") or {}).get("target") or {}
            current = "<unknown>"
            if status.get("pods") is not None:
                current = printing.quantity_text((status["pods"].get("current") or {}).get("averageValue"))
            listed.append(f"{current}/{printing.quantity_text(target.get('averageValue'))}")
        elif kind == "Object":
            source = spec.get("object") or {}
            listed.append(_value_or_average(source.get("target") or {}, status.get("object")))
        elif kind in ("Resource", "ContainerResource"):
            field = "resource" if kind == "Resource" else "containerResource"
            source = spec.get(field) or {}
            target_text = _resource_target(source.get("target") or {}, status.get(field))
            listed.append(f"{source.get('name', '')}: {target_text}")
        else:
            listed.append("<unknown type>")
    limit = 2
    if len(listed) > limit:
        return f"{', '.join(listed[:limit])} + {len(listed) - limit} more..."
    return ", ".join(listed)


def _value_or_average(target: View, status: View | None) -> str:
    """External and Object metrics: "current/target", "(avg)" for per-pod averages."""
    current = "<unknown>"
    if target.get("averageValue") is not None:
        if status is not None and (status.get("current") or {}).get("averageValue") is not None:
            current = printing.quantity_text(status["current"]["averageValue"])
        return f"{current}/{printing.quantity_text(target['averageValue'])} (avg)"
    if status is not None:
        current = printing.quantity_text((status.get("current") or {}).get("value"))
    return f"{current}/{printing.quantity_text(target.get('value'))}"


def _resource_target(target: View, status: View | None) -> str:
    current = "<unknown>"
    if target.get("averageValue") is not None:
        if status is not None:
            current = printing.quantity_text((status.get("current") or {}).get("averageValue"))
        return f"{current}/{printing.quantity_text(target['averageValue'])}"
    if status is not None and (status.get("current") or {}).get("averageUtilization") is not None:
        current = f"{status['current']['averageUtilization']}%"
    wanted = "<auto>"
    if target.get("averageUtilization") is not None:
        wanted = f"{target['averageUtilization']}%"
    return f"{current}/{wanted}"


def _hpa_cells(hpa: View, now: datetime.datetime) -> Cells:
    spec = hpa.get("spec") or {}
    ref = spec.get("scaleTargetRef") or {}
    metrics, current = _hpa_v2_shape(hpa)
    min_pods = "<unset>" if spec.get("minReplicas") is None else str(spec["minReplicas"])
    return [
        printing.name(hpa), f"{ref.get('kind', '')}/{ref.get('name', '')}", format_hpa_metrics(metrics, current),
        min_pods, int(spec.get("maxReplicas") or 0), int((hpa.get("status") or {}).get("currentReplicas") or 0),
        printing.age(hpa, now),
    ]


# ---------------------------------------------------------------------------
# the strategy


class HorizontalPodAutoscalerStrategy(strategy.Strategy):
    group, kind = "autoscaling", "HorizontalPodAutoscaler"
    track_generation = True
    subresources = {"status": strategy.STATUS}
    printer = printing.Printer(COLUMNS, _hpa_cells)

    def defaults(self, res: resources.Resource, obj: Obj, old: Obj | None, settings: strategy.Settings) -> None:
        if res.version == "v1":
            _v1_defaults(obj)
        else:
            _v2_defaults(obj)

    def prepare_for_create(self, res: resources.Resource, obj: Obj) -> None:
        obj["status"] = {}

    def validate_status(self, res: resources.Resource, obj: Obj) -> Errors:
        errs = Errors()
        if "status" in obj:
            status = vc.validate_status_shape(errs, obj["status"], ints=(
                "currentReplicas", "desiredReplicas", "currentCPUUtilizationPercentage"), strs=("lastScaleTime",))
            vc.typed_dicts(errs, status.get("currentMetrics"), "status.currentMetrics")
        return errs

    def check(self, errs: Errors, res: resources.Resource, obj: Obj, old: Obj | None) -> None:
        spec = vc.typed_dict(errs, obj.get("spec"), "spec")
        _behavior(errs, spec.get("behavior"))
        _replica_bounds(errs, spec)
        behavior = spec.get("behavior")
        if behavior is not None:
            _scaling_rules(errs, vc.as_dict(behavior).get("scaleUp"), "spec.behavior.scaleUp")
            _scaling_rules(errs, vc.as_dict(behavior).get("scaleDown"), "spec.behavior.scaleDown")
        if res.version == "v1":
            # v1 is converted to the internal (v2) shape before validation.
            target = vc.typed_int(errs, spec.get("targetCPUUtilizationPercentage"),
                                  "spec.targetCPUUtilizationPercentage")
            if target is not None and target < 1:
                errs.invalid("spec.metrics[0].resource.target.averageUtilization", vc.as_int(target) or 0,
                             "must be greater than 0")
            return
        _metrics(errs, spec.get("metrics"), "spec.metrics")

    def to_version(self, res: resources.Resource, obj: Obj) -> Obj:
        # Storage holds autoscaling/v2; autoscaling/v1 is served converted.
        if res.storage_version:
            return hpa_conversion.hpa_v2_to_v1(obj)
        return obj

    def from_version(self, res: resources.Resource, obj: Any) -> Any:
        if not res.storage_version or not isinstance(obj, dict):
            return obj
        if obj.get("apiVersion") not in (None, "", res.api_version):
            raise errors.BadRequest(f"the API version in the data ({obj.get('apiVersion')}) does not match "
                                    f"the expected API version ({res.api_version})")
        obj = dict(obj)
        obj.setdefault("apiVersion", res.api_version)
        obj.setdefault("kind", res.kind)
        return hpa_conversion.hpa_v1_to_v2(obj)
