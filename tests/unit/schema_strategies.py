"""Hypothesis strategies that build objects from the API schema, for property tests.

`objects(msg)` draws well-typed JSON objects of a Message, with every member
optional; values are the forms the protobuf codec round-trips exactly (a
metav1.Time with whole seconds, a MicroTime with microseconds, a Go-formatted
duration). Recursion stops at a depth limit, so deep types such as PodSpec stay
small enough for many examples.
"""
from __future__ import annotations

import base64
import datetime
from typing import Any

from hypothesis import strategies as st

from minik8s.api.schema import dsl

_TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=8)
_KEYS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz-./", min_size=1, max_size=6)
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
_MOMENTS = st.integers(min_value=-62135596800, max_value=253402300799)  # years 1 to 9999


def _time(seconds: int, micros: int | None = None) -> str:
    moment = _EPOCH + datetime.timedelta(seconds=seconds)
    text = (f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"
            f"T{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}")
    return text + (f".{micros:06d}Z" if micros is not None else "Z")


def _duration(ns: int) -> str:
    from minik8s.api import protobuf  # the codec's own formatter is Go's format, tested separately
    return protobuf._format_duration(ns)


SCALARS: dict[str, st.SearchStrategy[Any]] = {
    dsl.STRING: _TEXT,
    dsl.INT32: st.integers(min_value=-(1 << 31), max_value=(1 << 31) - 1).filter(bool),
    dsl.INT64: st.integers(min_value=-(1 << 63), max_value=(1 << 63) - 1).filter(bool),
    dsl.BOOL: st.just(True),
    dsl.DOUBLE: st.floats(allow_nan=False, allow_infinity=False).filter(bool),
    dsl.BYTES: st.binary(min_size=1, max_size=8).map(lambda b: base64.b64encode(b).decode()),
    dsl.TIME: _MOMENTS.map(_time),
    dsl.MICRO_TIME: st.tuples(_MOMENTS, st.integers(0, 999_999)).map(lambda p: _time(*p)),
    dsl.DURATION: st.integers(min_value=-(10 ** 15), max_value=10 ** 15).map(_duration),
    dsl.INT_OR_STRING: st.one_of(st.integers(min_value=1, max_value=65535), _TEXT),
    dsl.QUANTITY: st.sampled_from(["1", "100m", "1.5Gi", "128Mi", "2k", "1e3", "0"]),
    dsl.RAW_EXTENSION: st.dictionaries(_KEYS, st.one_of(st.integers(-5, 5), _TEXT), min_size=1, max_size=2),
    dsl.FIELDS_V1: st.dictionaries(_KEYS, st.just({}), min_size=1, max_size=2),
}


def _value(f: dsl.Field, depth: int) -> st.SearchStrategy[Any]:
    sub = f.message
    if sub is not None:
        return objects(sub, depth - 1)
    return SCALARS[f.scalar]


def _member(f: dsl.Field, depth: int) -> st.SearchStrategy[Any]:
    item = _value(f, depth)
    if f.repeated:
        return st.lists(item, min_size=1, max_size=2)
    if f.map:
        return st.dictionaries(_KEYS, item, min_size=1, max_size=2)
    return item


def objects(msg: dsl.Message, depth: int = 3) -> st.SearchStrategy[dict[str, Any]]:
    """Objects of `msg`: each member present or not, nested messages down to `depth`."""
    fields = {name: f for name, f in msg.json_fields.items() if f.number}
    if depth <= 0:
        fields = {name: f for name, f in fields.items() if f.message is None}
    return st.fixed_dictionaries({}, optional={name: _member(f, depth) for name, f in fields.items()})
