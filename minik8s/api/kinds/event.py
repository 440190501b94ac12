"""Events: validation, the printer, and the events.k8s.io/v1 view.

The core/v1 Event strategy (pkg/registry/core/event: a PUT may create, no
generation), legacyValidateEvent and printEvent; events.k8s.io/v1 Events are the
same stored objects with renamed members (regarding, note, deprecated*), as
Kubernetes serves both groups from one storage.
"""
from __future__ import annotations

import datetime
from typing import Any, Mapping

from minik8s.api import errors
from minik8s.api import printing
from minik8s.api import resources
from minik8s.api import rfc3339
from minik8s.api import strategy
from minik8s.api import validation as vc

Obj = dict[str, Any]
View = Mapping[str, Any]
Cells = printing.Cells
Errors = vc.Errors


# ---------------------------------------------------------------------------
# validation


def _event_series_fields(errs: Errors, obj: Obj) -> None:
    controller = vc.as_str(obj.get("reportingComponent"))
    if not controller:
        errs.required("reportingController")
    errs.invalid_each("reportingController", controller, vc.qualified_name(controller))
    for key, limit in (("reportingInstance", 128), ("action", 128), ("reason", 128)):
        value = vc.as_str(obj.get(key))
        if not value:
            errs.required(key)
        if len(value) > limit:
            errs.invalid(key, "", f"can have at most {limit} characters")
    if len(vc.as_str(obj.get("message"))) > 1024:
        errs.invalid("message", "", "can have at most 1024 characters")


# ---------------------------------------------------------------------------
# printer


COLUMNS = (
    printing.column("Last Seen", desc="The time at which the most recent occurrence of this event was recorded."),
    printing.column("Type", desc="Type of this event (Normal, Warning), new types could be added in the future"),
    printing.column("Reason", desc="This should be a short, machine understandable string that gives the reason "
                                   "for the transition into the object's current status."),
    printing.column("Object", desc="The object that this event is about."),
    printing.column("Subobject", desc="If referring to a piece of an object instead of an entire object, this "
                                      "string should contain a valid JSON/Go field access statement.", priority=1),
    printing.column("Source", desc="The component reporting this event. Should be a short machine understandable "
                                   "string.", priority=1),
    printing.column("Message", desc="A human-readable description of the status of this operation."),
    printing.column("First Seen", desc="The time at which the event was first recorded. (Time of server receipt "
                                       "is in TypeMeta.)", priority=1),
    printing.column("Count", desc="The number of times this event has occurred.", priority=1),
    printing.name_column(priority=1),
)


def _event_cells(ev: View, now: datetime.datetime) -> Cells:
    first = rfc3339.parse(ev.get("firstTimestamp"))
    if first is None:
        first = rfc3339.parse(ev.get("eventTime"))
    first_text = printing.since(first, now)
    last = rfc3339.parse(ev.get("lastTimestamp"))
    last_text = printing.since(last, now) if last is not None else first_text
    count = int(ev.get("count") or 0)
    series = ev.get("series")
    if series:
        last_text = printing.since(rfc3339.parse(series.get("lastObservedTime")), now)
        count = int(series.get("count") or 0)
    elif count == 0:
        count = 1  # singleton events carry no count in the events.k8s.io API
    involved = ev.get("involvedObject") or {}
    kind = (involved.get("kind") or "").lower()
    target = f"{kind}/{involved['name']}" if involved.get("name") else kind
    source = ev.get("source") or {}
    component = source.get("component") or ev.get("reportingComponent") or ""
    host = source.get("host") or ev.get("reportingInstance") or ""
    return [
        last_text, ev.get("type", ""), ev.get("reason", ""), target, involved.get("fieldPath", ""),
        f"{component}, {host}" if host else component, (ev.get("message") or "").strip(),
        first_text, count, printing.name(ev),
    ]


class EventStrategy(strategy.Strategy):
    group, kind = "", "Event"
    allow_create_on_update = True
    printer = printing.Printer(COLUMNS, _event_cells)

    def check(self, errs: Errors, res: resources.Resource, obj: Obj, old: Obj | None) -> None:
        """legacyValidateEvent (core/v1 events), plus a required involvedObject."""
        for key in ("reason", "message", "type", "reportingComponent", "reportingInstance", "action",
                    "firstTimestamp", "lastTimestamp", "eventTime"):
            vc.typed_str(errs, obj.get(key), key)
        vc.typed_int(errs, obj.get("count"), "count")
        for key in ("involvedObject", "related"):
            ref = vc.typed_dict(errs, obj.get(key), key)
            for field in ("kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath"):
                vc.typed_str(errs, ref.get(field), f"{key}.{field}")
        source = vc.typed_dict(errs, obj.get("source"), "source")
        for field in ("component", "host"):
            vc.typed_str(errs, source.get(field), f"source.{field}")
        series = vc.typed_dict(errs, obj.get("series"), "series")
        vc.typed_int(errs, series.get("count"), "series.count")
        vc.typed_str(errs, series.get("lastObservedTime"), "series.lastObservedTime")
        involved = obj.get("involvedObject")
        if not isinstance(involved, dict) or not involved:
            errs.required("involvedObject")
        involved_ns = vc.as_str(vc.as_dict(involved).get("namespace"))
        namespace = vc.as_str(vc.as_dict(obj.get("metadata")).get("namespace"))
        if not obj.get("eventTime"):
            mismatch = namespace not in ("", "default") if not involved_ns else namespace != involved_ns
        else:
            mismatch = not involved_ns and namespace not in ("default", "kube-system")
            _event_series_fields(errs, obj)
        if mismatch:
            errs.invalid("involvedObject.namespace", involved_ns, "does not match event.namespace")
        errs.invalid_each("namespace", namespace, vc.dns1123_subdomain(namespace))


# ---------------------------------------------------------------------------
# events.k8s.io/v1: the same objects, renamed (pkg/apis/events/v1/conversion.go)

# events.k8s.io/v1 name → core/v1 name, for the members that differ.
_RENAMED = (("regarding", "involvedObject"), ("note", "message"), ("deprecatedSource", "source"),
            ("deprecatedFirstTimestamp", "firstTimestamp"), ("deprecatedLastTimestamp", "lastTimestamp"),
            ("deprecatedCount", "count"), ("reportingController", "reportingComponent"))
_SHARED = ("metadata", "eventTime", "series", "reportingInstance", "action", "reason", "related", "type")


def to_events_v1(core: Obj) -> Obj:
    """A stored core/v1 Event as events.k8s.io/v1 shows it."""
    out: Obj = {"apiVersion": "events.k8s.io/v1", "kind": "Event"}
    for new, old in _RENAMED:
        if old in core:
            out[new] = core[old]
    for key in _SHARED:
        if key in core:
            out[key] = core[key]
    return out


def from_events_v1(ev: Obj) -> Obj:
    """An events.k8s.io/v1 Event in the stored core/v1 shape."""
    out: Obj = {"apiVersion": "v1", "kind": "Event"}
    for new, old in _RENAMED:
        if new in ev:
            out[old] = ev[new]
    for key in _SHARED:
        if key in ev:
            out[key] = ev[key]
    return out


def _events_v1_cells(ev: View, now: datetime.datetime) -> Cells:
    return _event_cells(from_events_v1(dict(ev)), now)


class EventsV1Strategy(EventStrategy):
    """events.k8s.io/v1 Event: stored as core/v1 Events (whose strategy validates
    them), served converted."""

    group, kind = "events.k8s.io", "Event"
    printer = printing.Printer(COLUMNS, _events_v1_cells)

    def to_version(self, res: resources.Resource, obj: Obj) -> Obj:
        return to_events_v1(obj) if res.group == "events.k8s.io" else obj

    def from_version(self, res: resources.Resource, obj: Any) -> Any:
        if res.group != "events.k8s.io" or not isinstance(obj, dict):
            return obj
        if obj.get("apiVersion") not in (None, "", res.api_version):
            raise errors.BadRequest(f"the API version in the data ({obj.get('apiVersion')}) does not match "
                                    f"the expected API version ({res.api_version})")
        if obj.get("kind") not in (None, "", res.kind):
            raise errors.BadRequest(f"the kind in the data ({obj.get('kind')}) does not match the expected kind "
                                    f"({res.kind})")
        return from_events_v1(obj)
