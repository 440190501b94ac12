"""events.k8s.io/v1 Events: the core/v1 Events seen through the newer API's names."""
from __future__ import annotations

import datetime

from minik8s.api import kinds
from minik8s.api import resources
from minik8s.api.kinds import event

EVENTS_V1 = resources.must("events.k8s.io", "v1", "events")
CORE = resources.must("", "v1", "events")

STORED = {
    "apiVersion": "v1", "kind": "Event", "metadata": {"name": "e", "namespace": "default"},
    "involvedObject": {"kind": "Pod", "name": "p", "namespace": "default", "fieldPath": "spec.containers{c}"},
    "reason": "Pulled", "message": "pulled the image", "source": {"component": "kubelet", "host": "n1"},
    "firstTimestamp": "2024-01-01T00:00:00Z", "lastTimestamp": "2024-01-01T00:01:00Z", "count": 3,
    "type": "Normal", "eventTime": None, "reportingComponent": "kubelet", "reportingInstance": "n1",
}


def test_shares_core_storage() -> None:
    assert resources.storage_resource(EVENTS_V1) is CORE
    assert resources.resolve("events") is CORE  # the core group comes first, as kubectl sees it


def test_conversion_renames_and_round_trips() -> None:
    v1 = kinds.to_version(EVENTS_V1, dict(STORED))
    assert v1["apiVersion"] == "events.k8s.io/v1"
    assert v1["regarding"] == STORED["involvedObject"] and v1["note"] == "pulled the image"
    assert v1["deprecatedSource"] == {"component": "kubelet", "host": "n1"} and v1["deprecatedCount"] == 3
    assert v1["deprecatedFirstTimestamp"] == "2024-01-01T00:00:00Z"
    assert v1["reportingController"] == "kubelet" and "involvedObject" not in v1
    assert kinds.from_version(EVENTS_V1, v1) == STORED
    assert kinds.to_version(CORE, dict(STORED)) == STORED


def test_printer_shows_the_same_columns() -> None:
    now = datetime.datetime(2024, 1, 1, 0, 2, tzinfo=datetime.timezone.utc)
    v1 = kinds.to_version(EVENTS_V1, dict(STORED))
    assert event.EventsV1Strategy.printer.cells(v1, now) == event.EventStrategy.printer.cells(STORED, now)
