"""pods/ephemeralcontainers: additions only, each a valid ephemeral container."""
from __future__ import annotations

import copy
from typing import Any

from minik8s.api import kinds
from minik8s.api import resources

PODS = resources.must("", "v1", "pods")
SUB = kinds.for_resource(PODS).subresources["ephemeralcontainers"]


def pod() -> dict[str, Any]:
    p: dict[str, Any] = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "ns"},
                         "spec": {"containers": [{"name": "app", "image": "minik8s/busybox:1"}]}}
    kinds.apply_defaults(PODS, p)
    return p


def update(old: dict[str, Any], *ecs: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    new = copy.deepcopy(old)
    new["spec"]["ephemeralContainers"] = [dict(e) for e in ecs]
    new["spec"]["containers"][0]["image"] = "ignored"  # only ephemeral containers come from the request
    result = SUB.prepare_for_update(PODS, new, old)
    return result, [f"{c['field']}: {c['message']}" for c in SUB.validate_update(PODS, result, old).causes]


def test_an_added_container_is_defaulted_and_nothing_else_changes() -> None:
    old = pod()
    result, errs = update(old, {"name": "dbg", "image": "minik8s/busybox:1", "targetContainerName": "app"})
    assert errs == []
    [ec] = result["spec"]["ephemeralContainers"]
    assert ec["imagePullPolicy"] == "IfNotPresent" and ec["terminationMessagePolicy"] == "File"
    assert result["spec"]["containers"] == old["spec"]["containers"]


def test_what_an_ephemeral_container_may_not_be() -> None:
    _, errs = update(pod(), {"name": "app", "image": "x", "ports": [{"containerPort": 80}],
                             "readinessProbe": {"exec": {"command": ["true"]}}, "targetContainerName": "nope"})
    assert 'spec.ephemeralContainers[0].name: Duplicate value: "app"' in errs
    assert "spec.ephemeralContainers[0].ports: Forbidden: cannot be set for an Ephemeral Container" in errs
    assert "spec.ephemeralContainers[0].readinessProbe: Forbidden: cannot be set for an Ephemeral Container" in errs
    assert 'spec.ephemeralContainers[0].targetContainerName: Not found: "nope"' in errs
    _, errs = update(pod(), {"name": "dbg"})
    assert "spec.ephemeralContainers[0].image: Required value" in errs


def test_existing_ones_may_be_neither_changed_nor_removed() -> None:
    first, _ = update(pod(), {"name": "dbg", "image": "minik8s/busybox:1"})
    _, errs = update(first)
    assert errs == ['spec.ephemeralContainers[0]: Forbidden: existing ephemeral containers "dbg" may not be removed']
    _, errs = update(first, {"name": "dbg", "image": "minik8s/web:1"})
    assert errs == ['spec.ephemeralContainers[0]: Forbidden: existing ephemeral containers "dbg" may not be changed']
