"""Pod and condition helpers: the one reading of readiness every component shares."""
from __future__ import annotations

from typing import Any

from minik8s.api import conditions
from minik8s.api import pods


def pod(*conds: dict[str, Any], gates: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"metadata": {"name": "p"},
            "spec": {"readinessGates": [{"conditionType": g} for g in gates]},
            "status": {"conditions": list(conds)}}


def test_first_condition_of_a_type_decides() -> None:
    p = pod({"type": "Ready", "status": "False"}, {"type": "Ready", "status": "True"})
    assert conditions.get(p, "Ready") == {"type": "Ready", "status": "False"}
    assert conditions.status(p, "Ready") == "False"
    assert not conditions.is_true(p, "Ready")
    assert not pods.is_ready(p)


def test_missing_conditions() -> None:
    for p in ({}, {"status": None}, {"status": {"conditions": None}}, pod()):
        assert conditions.get(p, "Ready") is None
        assert conditions.status(p, "Ready") is None
        assert not pods.is_ready(p)
        assert pods.ready_condition(p) is None
        assert pods.ready_since(p) is None
    assert conditions.find(None, "Ready") is None
    assert conditions.find([None, "junk", {"type": "Ready"}], "Ready") == {"type": "Ready"}


def test_ready_and_ready_since() -> None:
    p = pod({"type": "Ready", "status": "True", "lastTransitionTime": "2024-05-01T12:00:00Z"})
    assert pods.is_ready(p)
    assert pods.ready_since(p) == 1714564800.0
    unready = pod({"type": "Ready", "status": "False", "lastTransitionTime": "2024-05-01T12:00:00Z"})
    assert pods.ready_since(unready) is None


def test_readiness_gates() -> None:
    p = pod({"type": "example.com/a", "status": "True"}, gates=("example.com/a", "example.com/b"))
    assert pods.readiness_gates(p) == [("example.com/a", {"type": "example.com/a", "status": "True"}),
                                       ("example.com/b", None)]
    assert pods.readiness_gates({}) == []


def test_replace_keeps_the_others_and_appends() -> None:
    status: dict[str, Any] = {"conditions": [{"type": "A"}, {"type": "B", "status": "False"}, {"type": "C"}]}
    conditions.replace(status, {"type": "B", "status": "True"})
    assert status["conditions"] == [{"type": "A"}, {"type": "C"}, {"type": "B", "status": "True"}]
    empty: dict[str, Any] = {}
    conditions.replace(empty, {"type": "X"})
    assert empty == {"conditions": [{"type": "X"}]}
