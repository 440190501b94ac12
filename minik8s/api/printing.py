"""What the printers of every kind share: Table columns, ages, label and selector text.

kubectl asks for `application/json;as=Table;v=v1;g=meta.k8s.io` and prints the
server's columns verbatim; a plain list gets only NAME and AGE. Each kind's
columns and cells live with its strategy (minik8s/api/kinds/, as Kubernetes'
pkg/printers/internalversion/printers.go registers one handler a kind); this
module holds the pieces they have in common, and `render` turns a kind's
Printer and some objects into the Table. The CLI uses the same helpers, so
`kubectl describe` and `kubectl get` agree with the server on ages and labels.

Like the real API server, every column is always rendered (the server's
printer runs with Wide=true); kubectl hides `priority: 1` columns unless
`-o wide`. Ages are `duration.HumanDuration` from k8s.io/apimachinery.
"""
from __future__ import annotations

import dataclasses
import datetime
from typing import Any, Callable, Iterable, Mapping

from minik8s.api import errors
from minik8s.api import rfc3339
from minik8s.api import selectors

Obj = Mapping[str, Any]
Cells = list[Any]
Column = dict[str, Any]

INCLUDE_OBJECT_VALUES = ("None", "Metadata", "Object")

# ---------------------------------------------------------------------------
# Time
# ---------------------------------------------------------------------------

_NS_PER_SECOND = 1_000_000_000
_NS_PER_MINUTE = 60 * _NS_PER_SECOND
_NS_PER_HOUR = 60 * _NS_PER_MINUTE


def human_duration(seconds: float) -> str:
    """k8s.io/apimachinery/pkg/util/duration.HumanDuration, ~2-3 significant figures."""
    return _human_duration_ns(int(seconds * _NS_PER_SECOND))


def _human_duration_ns(d: int) -> str:
    # Go's int(d.Seconds()) truncates toward zero; a clock skew of up to
    # (but excluding) 2s still reads as "0s" rather than "<invalid>".
    seconds = int(d / _NS_PER_SECOND)
    if seconds < -1:
        return "<invalid>"
    if seconds < 0:
        return "0s"
    if seconds < 60 * 2:
        return f"{seconds}s"
    minutes = d // _NS_PER_MINUTE
    if minutes < 10:
        s = (d // _NS_PER_SECOND) % 60
        return f"{minutes}m" if s == 0 else f"{minutes}m{s}s"
    if minutes < 60 * 3:
        return f"{minutes}m"
    hours = d // _NS_PER_HOUR
    if hours < 8:
        m = (d // _NS_PER_MINUTE) % 60
        return f"{hours}h" if m == 0 else f"{hours}h{m}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        h = hours % 24
        return f"{hours // 24}d" if h == 0 else f"{hours // 24}d{h}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        dy = (hours // 24) % 365
        return f"{hours // 24 // 365}y" if dy == 0 else f"{hours // 24 // 365}y{dy}d"
    return f"{hours // 24 // 365}y"


def now_or(now: datetime.datetime | None) -> datetime.datetime:
    return now if now is not None else datetime.datetime.now(datetime.timezone.utc)


def since(then: datetime.datetime | None, now: datetime.datetime) -> str:
    """translateTimestampSince for a parsed time: "<unknown>" when unset."""
    if then is None:
        return "<unknown>"
    delta = now - then
    ns = (delta.days * 86_400 + delta.seconds) * _NS_PER_SECOND + delta.microseconds * 1_000
    return _human_duration_ns(ns)


def human_age(timestamp: Any, now: datetime.datetime | None = None) -> str:
    """translateTimestampSince: "5m", "2d9h"; "<unknown>" for an unset timestamp."""
    return since(rfc3339.parse(timestamp), now_or(now))


def age(obj: Obj, now: datetime.datetime) -> str:
    """The AGE cell: time since metadata.creationTimestamp."""
    return since(rfc3339.parse((obj.get("metadata") or {}).get("creationTimestamp")), now)


# ---------------------------------------------------------------------------
# Small formatting helpers shared by several printers
# ---------------------------------------------------------------------------


def name(obj: Obj) -> str:
    return str((obj.get("metadata") or {}).get("name", ""))


def format_labels(labels: Mapping[str, Any] | None) -> str:
    """labels.FormatLabels: sorted `k=v` joined by commas, "<none>" when empty."""
    if not labels:
        return "<none>"
    return ",".join(f"{k}={labels[k]}" for k in sorted(labels))


def label_selector_string(selector: Mapping[str, Any] | None) -> str:
    """metav1.LabelSelectorAsSelector(sel).String(): requirements sorted by key.

    Raises BadRequest for an invalid operator, as the Go conversion errors."""
    parsed = selectors.from_label_selector(selector)
    reqs = sorted(parsed.requirements, key=lambda r: r.key)
    return ",".join(str(r) for r in reqs)


def format_label_selector(selector: Mapping[str, Any] | None) -> str:
    """metav1.FormatLabelSelector: like the above but "<none>" when empty, "<error>" when bad."""
    try:
        text = label_selector_string(selector)
    except errors.StatusError:
        return "<error>"
    return text or "<none>"


def layout_containers(containers: Iterable[Obj] | None) -> tuple[str, str]:
    """The CONTAINERS and IMAGES cells: names and images joined by commas."""
    items = list(containers or [])
    return (",".join(c.get("name", "") for c in items), ",".join(c.get("image", "") for c in items))


def template_containers(obj: Obj) -> list[Obj]:
    template = (obj.get("spec") or {}).get("template") or {}
    return list((template.get("spec") or {}).get("containers") or [])


def join_host_port(host: str, port: Any) -> str:
    """net.JoinHostPort: brackets around IPv6 literals."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def quantity_text(value: Any) -> str:
    # Quantities arrive as their canonical strings; a bare number is what a
    # hand-written object may carry.
    if value is None:
        return "<nil>"
    return str(value)


# ---------------------------------------------------------------------------
# Column definitions
# ---------------------------------------------------------------------------

_NAME_DOC = ("Name must be unique within a namespace. Is required when creating resources, although "
             "some resources may allow a client to request the generation of an appropriate name "
             "automatically. Name is primarily intended for creation idempotence and configuration "
             "definition. Cannot be updated. More info: "
             "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names")
_AGE_DOC = ("CreationTimestamp is a timestamp representing the server time when this object was "
            "created. It is not guaranteed to be set in happens-before order across separate "
            "operations. Clients may not set this value. It is represented in RFC3339 form and is in "
            "UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: "
            "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata")
CONTAINERS_DOC = "Names of each container in the template."
IMAGES_DOC = "Images referenced by each container in the template."


def column(name_: str, type_: str = "string", desc: str = "", *, priority: int = 0, fmt: str = "") -> Column:
    """A metav1.TableColumnDefinition."""
    return {"name": name_, "type": type_, "format": fmt, "description": desc, "priority": priority}


def name_column(priority: int = 0) -> Column:
    return column("Name", "string", _NAME_DOC, priority=priority, fmt="name")


def age_column() -> Column:
    return column("Age", "string", _AGE_DOC)


# ---------------------------------------------------------------------------
# Printers and tables
# ---------------------------------------------------------------------------


def _no_conditions(obj: Obj) -> list[dict[str, str]] | None:
    return None


@dataclasses.dataclass(frozen=True)
class Printer:
    """A kind's TableConvertor: its columns, the cells of one object, and row conditions."""
    columns: tuple[Column, ...]
    cells: Callable[[Obj, datetime.datetime], Cells]
    conditions: Callable[[Obj], list[dict[str, str]] | None] = _no_conditions


def _default_cells(obj: Obj, now: datetime.datetime) -> Cells:
    return [name(obj), age(obj, now)]


# What kinds without a printer of their own show (the default table convertor).
DEFAULT_PRINTER = Printer((name_column(), age_column()), _default_cells)


def _row_object(obj: Obj, include_object: str) -> Any:
    if include_object == "Object":
        return obj
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
            "metadata": dict(obj.get("metadata") or {})}


def render(
    printer: Printer,
    objects: list[dict[str, Any]],
    *,
    list_meta: dict[str, Any] | None = None,
    include_object: str = "Metadata",
    now: datetime.datetime | None = None,
    with_definitions: bool = True,
) -> dict[str, Any]:
    """A `meta.k8s.io/v1` Table of `objects` printed by `printer`.

    `list_meta` is the list's metadata (resourceVersion, continue); for a single
    object without it the object's resourceVersion is used, as the real server
    does. `with_definitions=False` leaves columnDefinitions empty, which is what
    watch events after the first carry. Raises BadRequest for an unknown
    `include_object` (the `?includeObject=` query parameter)."""
    if include_object not in INCLUDE_OBJECT_VALUES:
        raise errors.BadRequest(f'unrecognized includeObject value: "{include_object}"')
    now = now_or(now)
    rows = []
    for obj in objects:
        row: dict[str, Any] = {"cells": printer.cells(obj, now)}
        conditions = printer.conditions(obj)
        if conditions:
            row["conditions"] = conditions
        if include_object != "None":
            row["object"] = _row_object(obj, include_object)
        rows.append(row)
    metadata: dict[str, Any] = {}
    if list_meta is not None:
        for key in ("resourceVersion", "continue", "remainingItemCount"):
            if list_meta.get(key) not in (None, ""):
                metadata[key] = list_meta[key]
    elif len(objects) == 1:
        rv = (objects[0].get("metadata") or {}).get("resourceVersion")
        if rv:
            metadata["resourceVersion"] = rv
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": metadata,
        "columnDefinitions": [dict(c) for c in printer.columns] if with_definitions else [],
        "rows": rows,
    }
