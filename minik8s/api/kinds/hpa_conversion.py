"""HorizontalPodAutoscaler conversion between autoscaling/v1 and autoscaling/v2.

minik8s stores one form, v2, and serves both: `kubectl autoscale` writes v1 while
`kubectl get hpa` reads v2 (the preferred version). v1 can only say
"targetCPUUtilizationPercentage", so, as upstream does in
pkg/apis/autoscaling/v1/conversion.go, everything else v2 holds travels in
`autoscaling.alpha.kubernetes.io/*` annotations on the v1 object: other metrics,
current metric values, conditions and the scaling behavior. A client that reads v1
and writes it back therefore loses nothing, and the annotations never reach storage.

Objects are plain JSON dicts; inputs are not modified.
"""
from __future__ import annotations

import copy
import json
from typing import Any, Final

from minik8s.api import errors

METRIC_SPECS_ANNOTATION: Final = "autoscaling.alpha.kubernetes.io/metrics"
METRIC_STATUSES_ANNOTATION: Final = "autoscaling.alpha.kubernetes.io/current-metrics"
CONDITIONS_ANNOTATION: Final = "autoscaling.alpha.kubernetes.io/conditions"
BEHAVIOR_ANNOTATION: Final = "autoscaling.alpha.kubernetes.io/behavior"
ROUND_TRIP_ANNOTATIONS: Final = (
    METRIC_SPECS_ANNOTATION, BEHAVIOR_ANNOTATION, METRIC_STATUSES_ANNOTATION, CONDITIONS_ANNOTATION,
)
# autoscaling/v1 once applied this in the controller; conversion now makes it explicit.
DEFAULT_CPU_UTILIZATION: Final = 80

Obj = dict[str, Any]


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def _pick(src: Obj, *pairs: tuple[str, str]) -> Obj:
    """{out_key: src[in_key]} for the keys src has (Go's omitempty pointers)."""
    return {out: src[key] for out, key in pairs if src.get(key) is not None}


def _without_round_trip(meta: Obj) -> Obj:
    meta = dict(meta)
    annotations = {k: v for k, v in (meta.get("annotations") or {}).items()
                   if k not in ROUND_TRIP_ANNOTATIONS}
    if annotations:
        meta["annotations"] = annotations
    else:
        meta.pop("annotations", None)
    return meta


def _is_cpu(metric: Obj) -> bool:
    return metric.get("type") == "Resource" and (metric.get("resource") or {}).get("name") == "cpu"


def _cpu_utilization(metric: Obj, side: str) -> int | None:
    """The averageUtilization of a CPU Resource metric (side: target or current)."""
    if not _is_cpu(metric):
        return None
    value = ((metric["resource"].get(side) or {}).get("averageUtilization"))
    return value if isinstance(value, int) else None


# --- metric specs and statuses: v2 <-> the v1 (v2beta1-like) shape kept in annotations ---

def _metric_spec_to_v1(m: Obj) -> Obj:
    out: Obj = {"type": m.get("type", "")}
    if (src := m.get("object")) is not None:
        target, metric = src.get("target") or {}, src.get("metric") or {}
        out["object"] = {
            "target": dict(src.get("describedObject") or {}),
            "metricName": metric.get("name", ""),
            "targetValue": target.get("value") or "0",
            **_pick(metric, ("selector", "selector")),
            **_pick(target, ("averageValue", "averageValue")),
        }
    if (src := m.get("pods")) is not None:
        target, metric = src.get("target") or {}, src.get("metric") or {}
        out["pods"] = {
            "metricName": metric.get("name", ""),
            "targetAverageValue": target.get("averageValue") or "0",
            **_pick(metric, ("selector", "selector")),
        }
    for key in ("resource", "containerResource"):
        if (src := m.get(key)) is not None:
            target = src.get("target") or {}
            out[key] = {
                "name": src.get("name", ""),
                **_pick(target, ("targetAverageUtilization", "averageUtilization"),
                        ("targetAverageValue", "averageValue")),
                **({"container": src.get("container", "")} if key == "containerResource" else {}),
            }
    if (src := m.get("external")) is not None:
        target, metric = src.get("target") or {}, src.get("metric") or {}
        out["external"] = {
            "metricName": metric.get("name", ""),
            **_pick(metric, ("metricSelector", "selector")),
            **_pick(target, ("targetValue", "value"), ("targetAverageValue", "averageValue")),
        }
    return out


def _metric_spec_to_v2(m: Obj) -> Obj:
    out: Obj = {"type": m.get("type", "")}
    if (src := m.get("object")) is not None:
        out["object"] = {
            "describedObject": dict(src.get("target") or {}),
            "target": {
                "type": "Value" if src.get("averageValue") is None else "AverageValue",
                "value": src.get("targetValue") or "0",
                **_pick(src, ("averageValue", "averageValue")),
            },
            "metric": {"name": src.get("metricName", ""), **_pick(src, ("selector", "selector"))},
        }
    if (src := m.get("pods")) is not None:
        out["pods"] = {
            "metric": {"name": src.get("metricName", ""), **_pick(src, ("selector", "selector"))},
            "target": {"type": "AverageValue", "averageValue": src.get("targetAverageValue") or "0"},
        }
    for key in ("resource", "containerResource"):
        if (src := m.get(key)) is not None:
            utilization = src.get("targetAverageUtilization")
            out[key] = {
                "name": src.get("name", ""),
                "target": {
                    "type": "AverageValue" if utilization is None else "Utilization",
                    **_pick(src, ("averageValue", "targetAverageValue"),
                            ("averageUtilization", "targetAverageUtilization")),
                },
                **({"container": src.get("container", "")} if key == "containerResource" else {}),
            }
    if (src := m.get("external")) is not None:
        out["external"] = {
            "metric": {"name": src.get("metricName", ""),
                       **_pick(src, ("selector", "metricSelector"))},
            "target": {
                "type": "AverageValue" if src.get("targetValue") is None else "Value",
                **_pick(src, ("value", "targetValue"), ("averageValue", "targetAverageValue")),
            },
        }
    return out


def _metric_status_to_v1(m: Obj) -> Obj:
    out: Obj = {"type": m.get("type", "")}
    if (src := m.get("object")) is not None:
        current, metric = src.get("current") or {}, src.get("metric") or {}
        out["object"] = {
            "target": dict(src.get("describedObject") or {}),
            "metricName": metric.get("name", ""),
            "currentValue": current.get("value") or "0",
            **_pick(metric, ("selector", "selector")),
            **_pick(current, ("averageValue", "averageValue")),
        }
    if (src := m.get("pods")) is not None:
        current, metric = src.get("current") or {}, src.get("metric") or {}
        out["pods"] = {
            "metricName": metric.get("name", ""),
            "currentAverageValue": current.get("averageValue") or "0",
            **_pick(metric, ("selector", "selector")),
        }
    for key in ("resource", "containerResource"):
        if (src := m.get(key)) is not None:
            current = src.get("current") or {}
            out[key] = {
                "name": src.get("name", ""),
                **_pick(current, ("currentAverageUtilization", "averageUtilization")),
                "currentAverageValue": current.get("averageValue") or "0",
                **({"container": src.get("container", "")} if key == "containerResource" else {}),
            }
    if (src := m.get("external")) is not None:
        current, metric = src.get("current") or {}, src.get("metric") or {}
        out["external"] = {
            "metricName": metric.get("name", ""),
            **_pick(metric, ("metricSelector", "selector")),
            "currentValue": current.get("value") or "0",
            **_pick(current, ("currentAverageValue", "averageValue")),
        }
    return out


def _metric_status_to_v2(m: Obj) -> Obj:
    out: Obj = {"type": m.get("type", "")}
    if (src := m.get("object")) is not None:
        out["object"] = {
            "metric": {"name": src.get("metricName", ""), **_pick(src, ("selector", "selector"))},
            "current": {"value": src.get("currentValue") or "0",
                        **_pick(src, ("averageValue", "averageValue"))},
            "describedObject": dict(src.get("target") or {}),
        }
    if (src := m.get("pods")) is not None:
        out["pods"] = {
            "metric": {"name": src.get("metricName", ""), **_pick(src, ("selector", "selector"))},
            "current": {"averageValue": src.get("currentAverageValue") or "0"},
        }
    for key in ("resource", "containerResource"):
        if (src := m.get(key)) is not None:
            out[key] = {
                "name": src.get("name", ""),
                "current": {"averageValue": src.get("currentAverageValue") or "0",
                            **_pick(src, ("averageUtilization", "currentAverageUtilization"))},
                **({"container": src.get("container", "")} if key == "containerResource" else {}),
            }
    if (src := m.get("external")) is not None:
        out["external"] = {
            "metric": {"name": src.get("metricName", ""),
                       **_pick(src, ("selector", "metricSelector"))},
            "current": {"value": src.get("currentValue") or "0",
                        **_pick(src, ("averageValue", "currentAverageValue"))},
        }
    return out


# --- behavior: upstream marshals its internal Go type, which has no json tags ---------

def _behavior_to_annotation(behavior: Obj) -> str:
    def rules(r: Obj | None) -> Obj | None:
        if r is None:
            return None
        policies = r.get("policies")
        out: Obj = {
            "StabilizationWindowSeconds": r.get("stabilizationWindowSeconds"),
            "SelectPolicy": r.get("selectPolicy"),
            "Policies": None if policies is None else [
                {"Type": p.get("type", ""), "Value": p.get("value", 0),
                 "PeriodSeconds": p.get("periodSeconds", 0)} for p in policies],
        }
        if r.get("tolerance") is not None:
            out["Tolerance"] = r["tolerance"]
        return out
    return _dumps({"ScaleUp": rules(behavior.get("scaleUp")),
                   "ScaleDown": rules(behavior.get("scaleDown"))})


def _get_ci(obj: Obj, name: str) -> Any:
    # encoding/json matches object keys case-insensitively; so do we, to read what Go wrote.
    if name in obj:
        return obj[name]
    for key, value in obj.items():
        if key.lower() == name.lower():
            return value
    return None


def _behavior_from_annotation(raw: str) -> Obj | None:
    """The v2 behavior, or None when the annotation is malformed or empty (upstream
    moves only well-formed data into the field)."""
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None

    def rules(r: Any) -> Obj | None:
        if not isinstance(r, dict):
            return None
        out: Obj = {}
        for go, key in (("StabilizationWindowSeconds", "stabilizationWindowSeconds"),
                        ("SelectPolicy", "selectPolicy"), ("Tolerance", "tolerance")):
            if (value := _get_ci(r, go)) is not None:
                out[key] = value
        policies = _get_ci(r, "Policies")
        if isinstance(policies, list):
            out["policies"] = [
                {"type": _get_ci(p, "Type") or "", "value": _get_ci(p, "Value") or 0,
                 "periodSeconds": _get_ci(p, "PeriodSeconds") or 0}
                for p in policies if isinstance(p, dict)]
        return out

    behavior = {key: value for key, value in (("scaleUp", rules(_get_ci(data, "ScaleUp"))),
                                              ("scaleDown", rules(_get_ci(data, "ScaleDown"))))
                if value is not None}
    return behavior or None


def _annotation_list(annotations: dict[str, str], key: str) -> list[Obj] | None:
    if key not in annotations:
        return None
    try:
        value = json.loads(annotations[key])
    except ValueError as e:
        raise errors.BadRequest(f"annotation {key} is not valid JSON: {e}") from e
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise errors.BadRequest(f"annotation {key} must be a JSON list of objects")
    return value


# --- the conversions -----------------------------------------------------------------------

def hpa_v2_to_v1(obj: Obj) -> Obj:
    """The autoscaling/v1 form of an autoscaling/v2 HorizontalPodAutoscaler."""
    obj = copy.deepcopy(obj)
    spec, status = obj.pop("spec", None) or {}, obj.pop("status", None) or {}
    out: Obj = {**obj, "apiVersion": "autoscaling/v1"}
    meta = _without_round_trip(obj.get("metadata") or {})
    metrics: list[Obj] = spec.get("metrics") or []

    out_spec: Obj = {"scaleTargetRef": dict(spec.get("scaleTargetRef") or {}),
                     **_pick(spec, ("minReplicas", "minReplicas")),
                     "maxReplicas": spec.get("maxReplicas", 0)}
    for metric in metrics:
        # The first CPU Resource metric decides, whether or not it is a utilization.
        if _is_cpu(metric):
            if (utilization := _cpu_utilization(metric, "target")) is not None:
                out_spec["targetCPUUtilizationPercentage"] = utilization
            break

    current_metrics: list[Obj] = status.get("currentMetrics") or []
    out_status: Obj = {**_pick(status, ("observedGeneration", "observedGeneration"),
                               ("lastScaleTime", "lastScaleTime")),
                       "currentReplicas": status.get("currentReplicas", 0),
                       "desiredReplicas": status.get("desiredReplicas", 0)}
    for metric in current_metrics:
        if (utilization := _cpu_utilization(metric, "current")) is not None:
            out_status["currentCPUUtilizationPercentage"] = utilization  # the last one wins

    annotations: dict[str, str] = dict(meta.get("annotations") or {})
    # CPU utilization metrics are what targetCPUUtilizationPercentage says; all else must ride along.
    others = [_metric_spec_to_v1(m) for m in metrics if _cpu_utilization(m, "target") is None]
    if others:
        annotations[METRIC_SPECS_ANNOTATION] = _dumps(others)
    if current_metrics:
        # All of them, CPU too: the v1 field keeps the percentage but not the raw value.
        annotations[METRIC_STATUSES_ANNOTATION] = _dumps(
            [_metric_status_to_v1(m) for m in current_metrics])
    if spec.get("behavior") is not None:
        annotations[BEHAVIOR_ANNOTATION] = _behavior_to_annotation(spec["behavior"])
    if status.get("conditions"):
        annotations[CONDITIONS_ANNOTATION] = _dumps(status["conditions"])
    if annotations:
        meta["annotations"] = annotations
    if "metadata" in obj or annotations:
        out["metadata"] = meta
    out["spec"] = out_spec
    out["status"] = out_status
    return out


def hpa_v1_to_v2(obj: Obj) -> Obj:
    """The autoscaling/v2 form of an autoscaling/v1 HorizontalPodAutoscaler.

    Raises errors.BadRequest when a metrics, current-metrics or conditions annotation
    is not the JSON list it must be (upstream fails the conversion too); a malformed
    behavior annotation is ignored, as upstream does.
    """
    _check_v1_shape(obj)
    obj = copy.deepcopy(obj)
    spec, status = obj.pop("spec", None) or {}, obj.pop("status", None) or {}
    out: Obj = {**obj, "apiVersion": "autoscaling/v2"}
    annotations: dict[str, str] = dict((obj.get("metadata") or {}).get("annotations") or {})

    metrics: list[Obj] = []
    if spec.get("targetCPUUtilizationPercentage") is not None:
        metrics.append(_cpu_metric(spec["targetCPUUtilizationPercentage"]))
    others = _annotation_list(annotations, METRIC_SPECS_ANNOTATION)
    if others is not None:
        # The annotated metrics come first, the one from the v1 field last.
        metrics = [_metric_spec_to_v2(m) for m in others] + metrics
    if not metrics:
        metrics = [_cpu_metric(DEFAULT_CPU_UTILIZATION)]
    out_spec: Obj = {"scaleTargetRef": dict(spec.get("scaleTargetRef") or {}),
                     **_pick(spec, ("minReplicas", "minReplicas")),
                     "maxReplicas": spec.get("maxReplicas", 0),
                     "metrics": metrics}
    if BEHAVIOR_ANNOTATION in annotations:
        behavior = _behavior_from_annotation(annotations[BEHAVIOR_ANNOTATION])
        if behavior is not None:
            out_spec["behavior"] = behavior

    out_status: Obj = _pick(status, ("observedGeneration", "observedGeneration"),
                            ("lastScaleTime", "lastScaleTime"))
    if status.get("currentReplicas"):
        out_status["currentReplicas"] = status["currentReplicas"]
    out_status["desiredReplicas"] = status.get("desiredReplicas", 0)
    current = _annotation_list(annotations, METRIC_STATUSES_ANNOTATION)
    if current is not None:
        # The annotation has the raw values too, so it beats the v1 percentage.
        if current:
            out_status["currentMetrics"] = [_metric_status_to_v2(m) for m in current]
    elif status.get("currentCPUUtilizationPercentage") is not None:
        out_status["currentMetrics"] = [{"type": "Resource", "resource": {
            "name": "cpu", "current": {"averageUtilization": status["currentCPUUtilizationPercentage"]}}}]
    conditions = _annotation_list(annotations, CONDITIONS_ANNOTATION)
    if conditions:
        out_status["conditions"] = conditions

    if "metadata" in obj:
        out["metadata"] = _without_round_trip(obj["metadata"] or {})
    out["spec"] = out_spec
    out["status"] = out_status
    return out


_V1_SHAPE: dict[str, tuple[type, ...]] = {
    "spec": (dict,), "status": (dict,), "metadata": (dict,), "spec.scaleTargetRef": (dict,),
    "spec.minReplicas": (int,), "spec.maxReplicas": (int,), "spec.targetCPUUtilizationPercentage": (int,),
    "status.currentReplicas": (int,), "status.desiredReplicas": (int,), "status.observedGeneration": (int,),
    "status.currentCPUUtilizationPercentage": (int,), "status.lastScaleTime": (str,),
    "metadata.annotations": (dict,),
}


def _check_v1_shape(obj: Obj) -> None:
    """The members the conversion reads must have their types, or the body does not
    decode (400, as Go's decoder says it) rather than converting into nonsense."""
    for path, types in _V1_SHAPE.items():
        parent: Any = obj
        *head, last = path.split(".")
        for step in head:
            parent = parent.get(step) if isinstance(parent, dict) else None
        value = parent.get(last) if isinstance(parent, dict) else None
        if value is None or (isinstance(value, types) and not isinstance(value, bool)):
            continue
        got = "string" if isinstance(value, str) else "number" if isinstance(value, (int, float)) else \
            "array" if isinstance(value, list) else "bool" if isinstance(value, bool) else "object"
        raise errors.BadRequest(f"json: cannot unmarshal {got} into Go struct field "
                                f"HorizontalPodAutoscaler.{path} of autoscaling/v1")


def _cpu_metric(utilization: int) -> Obj:
    return {"type": "Resource", "resource": {
        "name": "cpu", "target": {"type": "Utilization", "averageUtilization": utilization}}}
