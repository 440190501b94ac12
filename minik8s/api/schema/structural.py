"""The typed structural check of a write: what Go's JSON decoder does to a body.

kube-apiserver decodes every body into Go structs, so a value of the wrong JSON
type is refused ("json: cannot unmarshal string into Go struct field
DeploymentSpec.spec.replicas of type int32"), a malformed quantity, time or
base64 string is refused, and members the struct lacks never reach etcd. minik8s
keeps objects as JSON dicts, so this module does the same to the dict: it checks
every member against the kind's schema, removes the unknown ones and reports
their paths (fieldValidation decides what becomes of them), and raises
StructuralError on the first ill-typed value, with Go's wording.

Speed matters, as every write passes through here: each Message is compiled once
into a plan (JSON name → node), and the walk is one loop per object with the
scalar checks inlined. Paths are built only for nested objects and for errors.

Duplicate keys do not survive a JSON parse into a dict, so they are found in the
raw body instead (`duplicate_paths`), and only when fieldValidation asks.
"""
from __future__ import annotations

import base64
import binascii
import datetime
import functools
import json
import re
from typing import Any

import yaml

from minik8s.api import quantity
from minik8s.api.schema import dsl

# Node codes: one per way a JSON value is checked.
_STRING, _INT32, _INT64, _BOOL, _DOUBLE, _BYTES = range(6)
_TIME, _DURATION, _INT_OR_STRING, _QUANTITY, _ANY, _MESSAGE = range(6, 12)

_CODES = {
    dsl.STRING: _STRING, dsl.INT32: _INT32, dsl.INT64: _INT64, dsl.BOOL: _BOOL, dsl.DOUBLE: _DOUBLE,
    dsl.BYTES: _BYTES, dsl.TIME: _TIME, dsl.MICRO_TIME: _TIME, dsl.DURATION: _DURATION,
    dsl.INT_OR_STRING: _INT_OR_STRING, dsl.QUANTITY: _QUANTITY, dsl.RAW_EXTENSION: _ANY,
    dsl.FIELDS_V1: _ANY,
}
_GO_SCALARS = {
    dsl.STRING: "string", dsl.INT32: "int32", dsl.INT64: "int64", dsl.BOOL: "bool", dsl.DOUBLE: "float64",
    dsl.BYTES: "[]uint8", dsl.TIME: "string", dsl.MICRO_TIME: "string", dsl.DURATION: "string",
    dsl.INT_OR_STRING: "int32", dsl.QUANTITY: "resource.Quantity", dsl.RAW_EXTENSION: "runtime.RawExtension",
    dsl.FIELDS_V1: "v1.FieldsV1",
}
_INT32_MIN, _INT32_MAX = -(1 << 31), (1 << 31) - 1
_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1

_RFC3339 = "2006-01-02T15:04:05Z07:00"
_TIME_RE = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})\Z")
_DURATION_RE = re.compile(r"[-+]?(0|((\d+(\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h))+)\Z")
_QUANTITY_RE = re.compile(r"[+-]?[0-9.]+[eEinumkKMGTP]*[-+]?[0-9]*\Z")
_INDEX_RE = re.compile(r"\[[^\]]*\]")


class StructuralError(Exception):
    """A value Go's decoder would refuse; the message is Go's (without the kind prefix).
    `path` locates the value (`spec.containers[0].resources.limits[memory]`) for
    callers that report it as a field error rather than as a decoding error."""

    def __init__(self, message: str, path: str = "") -> None:
        super().__init__(message)
        self.path = path


class _Node:
    """How one member is checked: its code, element shape and, for messages, the plan."""

    __slots__ = ("code", "field", "map", "owner", "plan", "repeated")

    def __init__(self, code: int, field: dsl.Field, owner: dsl.Message, plan: dict[str, _Node] | None) -> None:
        self.code = code
        self.repeated = field.repeated
        self.map = field.map
        self.plan = plan
        self.field = field
        self.owner = owner


_PLANS: dict[int, dict[str, _Node]] = {}


def plan_of(msg: dsl.Message) -> dict[str, _Node]:
    """The compiled plan of a Message (JSON name → node), built once."""
    plan = _PLANS.get(id(msg))
    if plan is None:
        plan = {}
        _PLANS[id(msg)] = plan  # before the fields: recursive types find it
        _KEEP.append(msg)  # id() keys stay valid only while the Message lives
        for name, f in msg.json_fields.items():
            sub = f.message
            if sub is not None:
                plan[name] = _Node(_MESSAGE, f, msg, plan_of(sub))
            else:
                plan[name] = _Node(_CODES[f.scalar], f, msg, None)
    return plan


_KEEP: list[dsl.Message] = []


def check(msg: dsl.Message, obj: dict[str, Any]) -> list[str]:
    """Check `obj` against `msg` in place: unknown members are removed and their
    paths returned (`spec.template.spec.containers[0].foo`); the first ill-typed
    value raises StructuralError. Nulls are accepted anywhere, as Go reads them as
    zero values."""
    unknown: list[str] = []
    _walk(obj, plan_of(msg), "", unknown)
    return unknown


def _walk(obj: dict[str, Any], plan: dict[str, _Node], path: str, unknown: list[str]) -> None:
    drop: list[str] | None = None
    for key, value in obj.items():
        node = plan.get(key)
        if node is None:
            if drop is None:
                drop = []
            drop.append(key)
            continue
        if value is None:
            continue
        if node.repeated:
            if type(value) is not list:
                raise _type_error(node, value, path, key)
            here = f"{path}.{key}" if path else key
            for i, item in enumerate(value):
                if item is not None:
                    _value(node, item, path, key, f"{here}[{i}]", unknown)
        elif node.map:
            if type(value) is not dict:
                raise _type_error(node, value, path, key)
            here = f"{path}.{key}" if path else key
            for k, item in value.items():
                if item is not None:
                    _value(node, item, path, key, f"{here}[{k}]", unknown)
        else:
            code = node.code
            if code == _STRING:
                if type(value) is not str:
                    raise _type_error(node, value, path, key)
            elif code == _MESSAGE:
                if type(value) is not dict:
                    raise _type_error(node, value, path, key)
                assert node.plan is not None
                _walk(value, node.plan, f"{path}.{key}" if path else key, unknown)
            else:
                _value(node, value, path, key, "", unknown)
    if drop is not None:
        for key in drop:
            del obj[key]
            unknown.append(f"{path}.{key}" if path else key)


def _value(node: _Node, value: Any, path: str, key: str, here: str, unknown: list[str]) -> None:
    """Check one value (a scalar member, or one element of a list or map member).

    `path`/`key` locate the member for Go's error text; `here` is the element's own
    path (with its index), under which unknown members of an element are reported.
    """
    code = node.code
    t = type(value)
    at = here or (f"{path}.{key}" if path else key)
    if code == _STRING:
        ok = t is str
    elif code == _MESSAGE:
        if t is not dict:
            raise _type_error(node, value, path, key, element=True)
        assert node.plan is not None
        _walk(value, node.plan, here or (f"{path}.{key}" if path else key), unknown)
        return
    elif code == _INT32 or code == _INT_OR_STRING:
        if code == _INT_OR_STRING and t is str:
            return
        ok = t is int and _INT32_MIN <= value <= _INT32_MAX
    elif code == _INT64:
        ok = t is int and _INT64_MIN <= value <= _INT64_MAX
    elif code == _BOOL:
        ok = t is bool
    elif code == _DOUBLE:
        ok = t is float or t is int
    elif code == _ANY:
        return
    elif code == _QUANTITY:
        if (t is str or t is int or t is float) and _valid_quantity(str(value) if t is not str else value):
            return
        raise StructuralError(quantity.FORMAT_ERROR, at)
    elif code == _TIME:
        if t is not str:
            raise _type_error(node, value, path, key, element=True)
        if not _valid_time(value):
            raise StructuralError(f'parsing time "{value}" as "{_RFC3339}": cannot parse "{value}" as "2006"', at)
        return
    elif code == _DURATION:
        if t is not str:
            raise _type_error(node, value, path, key, element=True)
        if not _DURATION_RE.match(value):
            raise StructuralError(f'time: invalid duration "{value}"', at)
        return
    elif code == _BYTES:
        if t is not str:
            raise _type_error(node, value, path, key, element=True)
        _check_base64(value, at)
        return
    else:  # pragma: no cover - every code is handled above
        raise AssertionError(code)
    if not ok:
        raise _type_error(node, value, path, key, element=True)


@functools.lru_cache(maxsize=4096)
def _valid_quantity(text: str) -> bool:
    if not _QUANTITY_RE.match(text):
        return False
    try:
        quantity.parse(text)
    except ValueError:
        return False
    return True


@functools.lru_cache(maxsize=1024)
def _valid_time(text: str) -> bool:
    if not _TIME_RE.match(text):
        return False
    try:
        datetime.datetime.fromisoformat(text[:19])
    except ValueError:
        return False
    return True


def _check_base64(text: str, at: str = "") -> None:
    # Go's base64.StdEncoding: padding required, line breaks ignored.
    data = text.replace("\r", "").replace("\n", "")
    try:
        base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        position = next((i for i, ch in enumerate(data) if not (ch.isalnum() and ch.isascii()) and ch not in "+/="),
                        len(data) - len(data) % 4 if len(data) % 4 else max(len(data) - 1, 0))
        raise StructuralError(f"illegal base64 data at input byte {position}", at) from None


def _type_error(node: _Node, value: Any, path: str, key: str, *, element: bool = False) -> StructuralError:
    """Go's UnmarshalTypeError text: the struct holding the member, the member's
    path from the root without list indexes, the Go type it needed."""
    field_path = _INDEX_RE.sub("", f"{path}.{key}" if path else key)
    go_type = _go_type(node, element)
    return StructuralError(f"json: cannot unmarshal {_json_kind(value, node, element)} into Go struct field "
                           f"{node.owner.short_name}.{field_path} of type {go_type}",
                           f"{path}.{key}" if path else key)


def _json_kind(value: Any, node: _Node, element: bool) -> str:
    t = type(value)
    if t is bool:
        return "bool"
    if t is int or t is float:
        # A number Go could not fit is named with its literal ("number 1.5").
        integral = node.code in (_INT32, _INT64, _INT_OR_STRING) and (element or not (node.repeated or node.map))
        return f"number {json.dumps(value)}" if integral else "number"
    if t is str:
        return "string"
    if t is list:
        return "array"
    return "object"


def _go_type(node: _Node, element: bool) -> str:
    f = node.field
    sub = f.message
    base = f"{sub.go_package}.{sub.short_name}" if sub is not None else _GO_SCALARS[f.scalar]
    if element:
        return base
    if f.repeated:
        return f"[]{base}"
    if f.map:
        return f"map[string]{base}"
    return base


# --------------------------------------------------------------------------- duplicate keys


class _Dups(dict[str, Any]):
    """A JSON object that remembers the duplicate member paths found inside it."""

    __slots__ = ("dups",)
    dups: list[str]


def _pairs_hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = _Dups()
    dups: list[str] = []
    for key, value in pairs:
        if key in out:
            dups.append(key)
        out[key] = value
        dups.extend(_nested(key, value))
    out.dups = dups
    return out


def _nested(prefix: str, value: Any) -> list[str]:
    if isinstance(value, _Dups):
        return [f"{prefix}.{d}" if not d.startswith("[") else f"{prefix}{d}" for d in value.dups]
    if isinstance(value, list):
        found: list[str] = []
        for i, item in enumerate(value):
            found.extend(_nested(f"{prefix}[{i}]", item) if isinstance(item, (list, _Dups)) else ())
        return found
    return []


def duplicate_json_paths(raw: bytes) -> list[str]:
    """Paths of the members repeated within one JSON object of `raw`, in document order
    of their second occurrence (`metadata.name`, `spec.containers[0].image`)."""
    try:
        doc = json.loads(raw, object_pairs_hook=_pairs_hook)
    except ValueError:
        return []  # the caller's own parse reports malformed JSON
    except RecursionError:
        return []  # deeper than Python's parser goes (orjson's limit is higher): nothing to report
    if isinstance(doc, _Dups):
        return list(doc.dups)
    return _nested("", doc) if isinstance(doc, list) else []


def duplicate_yaml_paths(raw: bytes) -> list[str]:
    """`duplicate_json_paths` for a YAML body (PyYAML keeps the last value silently)."""
    try:
        root = yaml.compose(raw, Loader=yaml.SafeLoader)
    except (yaml.YAMLError, RecursionError):
        return []
    found: list[str] = []

    def walk(node: yaml.Node | None, path: str) -> None:
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for key_node, value_node in node.value:
                key = str(key_node.value)
                here = f"{path}.{key}" if path else key
                if key in seen:
                    found.append(here)
                seen.add(key)
                walk(value_node, here)
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                walk(item, f"{path}[{i}]")

    walk(root, "")
    return found
