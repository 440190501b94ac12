"""HPA behavior validation (validateScalingRules): what the controller's policy arithmetic relies on."""
from __future__ import annotations

from typing import Any

import pytest

from minik8s.api import kinds
from minik8s.api import errors
from minik8s.api import resources

HPA2 = resources.must("autoscaling", "v2", "horizontalpodautoscalers")


def hpa(behavior: dict[str, Any]) -> dict[str, Any]:
    obj = {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
           "metadata": {"name": "h", "namespace": "default"},
           "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                    "maxReplicas": 5, "behavior": behavior}}
    kinds.apply_defaults(HPA2, obj)
    return obj


def causes(obj: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(errors.StatusError) as info:
        kinds.validate(HPA2, obj)
    assert info.value.code == 422
    return [(c["field"], c["message"]) for c in info.value.details["causes"]]


def test_defaulted_behavior_is_valid_and_keeps_the_tolerance() -> None:
    obj = hpa({"scaleUp": {"tolerance": "0.05"}, "scaleDown": {"stabilizationWindowSeconds": 60}})
    kinds.validate(HPA2, obj)
    assert obj["spec"]["behavior"]["scaleUp"]["tolerance"] == "0.05"
    assert obj["spec"]["behavior"]["scaleUp"]["policies"][0] == {"type": "Pods", "value": 4, "periodSeconds": 15}


@pytest.mark.parametrize("behavior,field,message", [
    ({"scaleUp": {"selectPolicy": "Most"}}, "spec.behavior.scaleUp.selectPolicy", "Unsupported value"),
    ({"scaleDown": {"stabilizationWindowSeconds": 3601}}, "spec.behavior.scaleDown.stabilizationWindowSeconds",
     "must be less than or equal to 3600"),
    ({"scaleDown": {"stabilizationWindowSeconds": -1}}, "spec.behavior.scaleDown.stabilizationWindowSeconds",
     "must be greater than or equal to zero"),
    ({"scaleUp": {"policies": []}}, "spec.behavior.scaleUp.policies", "must specify at least one Policy"),
    ({"scaleUp": {"policies": [{"type": "Nodes", "value": 1, "periodSeconds": 15}]}},
     "spec.behavior.scaleUp.policies[0].type", "Unsupported value"),
    ({"scaleUp": {"policies": [{"type": "Pods", "value": 0, "periodSeconds": 15}]}},
     "spec.behavior.scaleUp.policies[0].value", "must be greater than zero"),
    ({"scaleDown": {"policies": [{"type": "Percent", "value": 10, "periodSeconds": 1801}]}},
     "spec.behavior.scaleDown.policies[0].periodSeconds", "must be less than or equal to 1800"),
    ({"scaleDown": {"policies": [{"type": "Percent", "value": 10, "periodSeconds": "soon"}]}},
     "spec.behavior.scaleDown.policies[0].periodSeconds", "must be greater than zero"),
    ({"scaleUp": {"tolerance": "-0.1"}}, "spec.behavior.scaleUp.tolerance", "must be greater than or equal to 0"),
])
def test_invalid_behavior_is_refused(behavior: dict[str, Any], field: str, message: str) -> None:
    found = causes(hpa(behavior))
    assert any(f == field and message in m for f, m in found), found
