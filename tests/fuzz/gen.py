"""Hypothesis strategies derived from the API schema (minik8s/api/schema).

Every kind's declaration gives the set of its JSON paths and each path's type;
from those come, per kind:
- `typed(field)`: well-typed values, biased to the edges that validation code
  must handle (0, -1, the type's limits, empty and very long strings, unicode,
  control characters, quantities at the limits of what parses);
- `wrong(field)`: values Go's decoder refuses for that type (another JSON type,
  an out-of-range integer, a malformed quantity, time, duration or base64);
- `mutations(res, obj)`: one to three changes to a valid object: a typed or
  wrong-typed value at any schema path (creating the path's parents), a member
  removed (required ones too), an unknown member, a null, bad names, labels,
  annotations, selectors and quantities, deeply nested and very large values.
The mutated object is what the requests send, as JSON, YAML or protobuf.
"""
from __future__ import annotations

import copy
import dataclasses
import functools
import json
from typing import Any, Union

import jsonpatch
import orjson
from hypothesis import strategies as st

from minik8s.api import resources
from minik8s.api import schema
from minik8s.api.schema import dsl

Obj = dict[str, Any]
Step = Union[str, int]
Path = tuple[Step, ...]

MAP_KEY = "fz.io/key"  # the key a path uses to step into a map member

# Strings validation code must survive: empty, blanks, path tricks, control
# characters, non-ASCII, look-alikes of numbers and quantities, over-long names.
EDGE_STRINGS = [
    "", " ", "a", "A", "-", ".", "..", "/", "a/b", "../../etc", "%2e%2e", "a b", "\x00", "\n", "\t", "é", "名前",
    "💥", "\u202e", "\ufeff", "null", "true", "0", "-1", "1.5", "1e400", "NaN", "Infinity", "Mi", "100m",
    "*", "a" * 63, "a" * 64, "a" * 253, "a" * 254, "x" * 5000, "a.b.c", "A_B", "k=v", "a,b", "(a)", "!a",
    "http://x", "::1", "10.0.0.1", "256.1.1.1", "10.0.0.0/8", "10.0.0.1/33", "fe80::1%eth0",
]
EDGE_INT32 = [0, 1, -1, 2, 65535, 65536, (1 << 31) - 1, -(1 << 31), 100, 3600, 30000, 32767, 32768]
EDGE_INT64 = EDGE_INT32 + [(1 << 63) - 1, -(1 << 63), 1 << 40]
# Quantities that parse (structurally valid) but sit at the limits of what code computes with.
EDGE_QUANTITIES = ["0", "1", "-1", "100m", "1m", "0.001", "1n", "1u", "1Ei", "8Ei", "1E", "9223372036854775807",
                   "9223372036854775808", "1e18", "1e19", "1e-9", "1.5Gi", "+1", "0.0000000001", "123456789012345Pi",
                   "1e308", "999999999999999999999999999999", "1e-300"]
BAD_QUANTITIES = ["Mi", "", "1.2.3", "1MiB", "--1", "1 Mi", "0x10", "1e", "e3", ".", "∞", "1Q", "Gi1",
                  "1e400000000", "1.1.1Gi", "+", "-", "m"]
BAD_TIMES = ["", "yesterday", "2024-13-01T00:00:00Z", "2024-02-30T00:00:00Z", "2024-01-01", "2024-01-01T25:00:00Z",
             "0000-00-00T00:00:00Z", "2024-01-01T00:00:00", "10000-01-01T00:00:00Z"]
BAD_DURATIONS = ["", "1", "1x", "h", "1h2", "--1s", "1.2.3s", "99999999999999999999h"]
BAD_BASE64 = ["!", "abc", "a===", "YQ", "Zm9v\x00", "%%%%"]
LABEL_KEYS = ["app", "a.b/c", "k8s.io/x", "", "-a", "a-", "a" * 64, "a/b/c", "/a", "a/", "é", "A_b.C-d", "x" * 254 + "/a",
              "example.com/" + "a" * 63, "example.com/" + "a" * 64, "EXAMPLE.COM/a", "a b"]
LABEL_VALUES = ["", "web", "a" * 63, "a" * 64, "-a", "a-", "a b", "é", "a/b", "A.b_c-9", "\n"]


def _text(max_size: int = 20) -> st.SearchStrategy[str]:
    return st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=max_size)


def _dns_label() -> st.SearchStrategy[str]:
    return st.from_regex(r"[a-z]([a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)


STRINGS = st.one_of(st.sampled_from(EDGE_STRINGS), _dns_label(), _text())


def _json_scalars() -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), st.booleans(), st.integers(-(1 << 70), 1 << 70),
                     st.floats(allow_nan=False, allow_infinity=False), _text(8))


ANY_JSON = st.recursive(_json_scalars(), lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(_text(6), inner, max_size=3)), max_leaves=8)

_SCALAR_TYPED: dict[str, st.SearchStrategy[Any]] = {
    dsl.STRING: STRINGS,
    dsl.INT32: st.one_of(st.sampled_from(EDGE_INT32), st.integers(-(1 << 31), (1 << 31) - 1)),
    dsl.INT64: st.one_of(st.sampled_from(EDGE_INT64), st.integers(-(1 << 63), (1 << 63) - 1)),
    dsl.BOOL: st.booleans(),
    dsl.DOUBLE: st.one_of(st.sampled_from([0.0, -1.0, 1e308, -1e308, 5e-324, 0.5]),
                          st.floats(allow_nan=False, allow_infinity=False)),
    dsl.BYTES: st.sampled_from(["", "AAE=", "cGFzcw==", "/w==", "A" * 400]),
    dsl.TIME: st.sampled_from(["2024-05-01T12:00:00Z", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z",
                               "2024-05-01T12:00:00+14:00", "1970-01-01T00:00:00Z", "2024-02-29T00:00:00.5Z"]),
    dsl.MICRO_TIME: st.sampled_from(["2024-05-01T12:00:00.000000Z", "0001-01-01T00:00:00.000000Z",
                                     "9999-12-31T23:59:59.999999Z"]),
    dsl.DURATION: st.sampled_from(["0s", "1s", "-1s", "1h2m3s", "1.5ms", "2562047h", "0"]),
    dsl.INT_OR_STRING: st.one_of(st.sampled_from([0, 1, -1, 65535, 65536, (1 << 31) - 1, "25%", "0%", "100%",
                                                  "101%", "-1%", "%", "abc%", "1.5%", "http", "HTTP", "", "a" * 16,
                                                  "99999999999999999999%"]), STRINGS),
    dsl.QUANTITY: st.one_of(st.sampled_from(EDGE_QUANTITIES), st.integers(-(1 << 64), 1 << 64),
                            st.floats(allow_nan=False, allow_infinity=False)),
    dsl.RAW_EXTENSION: ANY_JSON,
    dsl.FIELDS_V1: st.dictionaries(_text(6), st.just({}), max_size=2),
}

_SCALAR_WRONG: dict[str, st.SearchStrategy[Any]] = {
    dsl.STRING: st.sampled_from([0, 1.5, True, [], {}, ["a"], {"a": "b"}, -1]),
    dsl.INT32: st.sampled_from(["1", "many", 1.5, True, [], {}, 1 << 31, -(1 << 31) - 1, 1 << 64, [1], 1e3, "", None]),
    dsl.INT64: st.sampled_from(["1", "x", 0.5, False, [], {}, 1 << 63, -(1 << 63) - 1, 1 << 80, 1e20]),
    dsl.BOOL: st.sampled_from(["true", "yes", 1, 0, [], {}, "", 0.0]),
    dsl.DOUBLE: st.sampled_from(["1.5", True, [], {}, "NaN"]),
    dsl.BYTES: st.one_of(st.sampled_from(BAD_BASE64), st.sampled_from([1, True, [], {}])),
    dsl.TIME: st.one_of(st.sampled_from(BAD_TIMES), st.sampled_from([0, 1.5, True, [], {}])),
    dsl.MICRO_TIME: st.one_of(st.sampled_from(BAD_TIMES), st.sampled_from([0, True, []])),
    dsl.DURATION: st.one_of(st.sampled_from(BAD_DURATIONS), st.sampled_from([1, True, []])),
    dsl.INT_OR_STRING: st.sampled_from([1.5, True, [], {}, 1 << 31, -(1 << 31) - 1, ["80"], {"a": 1}]),
    dsl.QUANTITY: st.one_of(st.sampled_from(BAD_QUANTITIES), st.sampled_from([True, [], {}, ["1"]])),
    dsl.RAW_EXTENSION: st.nothing(),  # any JSON is well-typed
    dsl.FIELDS_V1: st.sampled_from(["x", 1, True, []]),
}


@dataclasses.dataclass(frozen=True)
class SchemaPath:
    path: Path  # JSON steps from the object's root: names, 0 for "a list element", MAP_KEY for "a map entry"
    field: dsl.Field  # the member at the path's last name
    element: bool  # the path ends inside the member (its list element or map entry), not at the member


def message_of(res: resources.Resource) -> dsl.Message:
    return schema.for_kind(res.group, res.version, res.kind)


@functools.cache
def schema_paths(msg: dsl.Message, depth: int = 9) -> tuple[SchemaPath, ...]:
    """Every JSON path of `msg` down to `depth` members (a Message does not repeat along a path)."""
    out: list[SchemaPath] = []

    def walk(m: dsl.Message, prefix: Path, left: int, seen: frozenset[str]) -> None:
        for name, f in m.json_fields.items():
            here = (*prefix, name)
            out.append(SchemaPath(here, f, False))
            inner: Path = here
            if f.repeated:
                inner = (*here, 0)
            elif f.map:
                inner = (*here, MAP_KEY)
            if inner != here:
                out.append(SchemaPath(inner, f, True))
            sub = f.message
            if sub is not None and left > 1 and sub.name not in seen:
                walk(sub, inner, left - 1, seen | {sub.name})

    walk(msg, (), depth, frozenset({msg.name}))
    return tuple(out)


def present_paths(obj: Any, prefix: Path = ()) -> list[Path]:
    """Every path present in a JSON value (list elements by their index)."""
    out: list[Path] = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            out.append((*prefix, k))
            out.extend(present_paths(v, (*prefix, k)))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out.append((*prefix, i))
            out.extend(present_paths(v, (*prefix, i)))
    return out


def objects(msg: dsl.Message, depth: int) -> st.SearchStrategy[Obj]:
    """Well-typed objects of `msg` (each member present or not), nested down to `depth`."""
    fields = dict(msg.json_fields)
    if depth <= 0:
        return st.just({})
    return st.fixed_dictionaries({}, optional={name: member(f, depth - 1) for name, f in fields.items()})


def item(f: dsl.Field, depth: int = 2) -> st.SearchStrategy[Any]:
    """One well-typed element of `f` (the member itself when it is neither a list nor a map)."""
    sub = f.message
    if sub is not None:
        return objects(sub, depth)
    if f.enum:
        return st.one_of(st.sampled_from(f.enum), _SCALAR_TYPED[f.scalar])
    return _SCALAR_TYPED[f.scalar]


def member(f: dsl.Field, depth: int = 2) -> st.SearchStrategy[Any]:
    """A well-typed value of the whole member `f`."""
    one = item(f, depth)
    if f.repeated:
        return st.lists(one, max_size=3)
    if f.map:
        return st.dictionaries(st.one_of(st.sampled_from(LABEL_KEYS), _text(10)), one, max_size=3)
    return one


def wrong_item(f: dsl.Field) -> st.SearchStrategy[Any]:
    """A value Go's decoder refuses as one element of `f`."""
    if f.message is not None:
        return st.sampled_from(["x", 1, 1.5, True, ["a"], []])
    return _SCALAR_WRONG[f.scalar]


def wrong_member(f: dsl.Field) -> st.SearchStrategy[Any]:
    """A value Go's decoder refuses for the whole member `f`."""
    if f.repeated:
        return st.one_of(st.sampled_from(["notalist", 1, {"a": 1}, True]), wrong_item(f).map(lambda v: [v]))
    if f.map:
        return st.one_of(st.sampled_from(["notamap", 1, ["a"], True]),
                         wrong_item(f).map(lambda v: {MAP_KEY: v}))
    return wrong_item(f)


def dumps(value: Any) -> bytes:
    """JSON as a client would send it: orjson, or the standard library for what orjson
    refuses to write (integers beyond 64 bits, nesting deeper than 255)."""
    try:
        return orjson.dumps(value)
    except TypeError:
        return json.dumps(value).encode()


def nested(depth: int) -> Any:
    """A value nested `depth` levels deep (lists and objects alternating)."""
    value: Any = "x"
    for i in range(depth):
        value = [value] if i % 2 else {"n": value}
    return value


# --------------------------------------------------------------------------- editing


def get_at(obj: Any, path: Path) -> Any:
    for step in path:
        if isinstance(step, int):
            if not isinstance(obj, list) or len(obj) <= step:
                return None
            obj = obj[step]
        else:
            if not isinstance(obj, dict):
                return None
            obj = obj.get(step)
    return obj


def set_at(obj: Obj, path: Path, value: Any) -> None:
    """Set `path` in `obj` to `value`, creating (or replacing ill-shaped) parents."""
    target: Any = obj
    for step, nxt in zip(path, path[1:]):
        fresh: Any = [] if isinstance(nxt, int) else {}
        if isinstance(step, int):
            if not target:
                target.append(fresh)
            if not isinstance(target[0], type(fresh)):
                target[0] = fresh
            target = target[0]
        else:
            if not isinstance(target.get(step), type(fresh)):
                target[step] = fresh
            target = target[step]
    last = path[-1]
    if isinstance(last, int):
        if not target:
            target.append(value)
        else:
            target[min(last, len(target) - 1)] = value
    else:
        target[last] = value


def delete_at(obj: Obj, path: Path) -> None:
    parent = get_at(obj, path[:-1])
    last = path[-1]
    if isinstance(parent, dict) and isinstance(last, str):
        parent.pop(last, None)
    elif isinstance(parent, list) and isinstance(last, int) and last < len(parent):
        del parent[last]


class Mutated:
    """A mutated object and what was done to it (which is all a failing example prints)."""

    def __init__(self, obj: Obj, changes: list[str]) -> None:
        self.obj = obj
        self.changes = changes

    def __repr__(self) -> str:
        return f"Mutated(changes={self.changes})"

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:  # what Hypothesis prints for a failing example
        p.text(repr(self))


def _label(path: Path) -> str:
    out = ""
    for step in path:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else step)
    return out


@st.composite
def mutation(draw: st.DrawFn, msg: dsl.Message, obj: Obj, focus: str | None = None) -> str:
    """Apply one change to `obj` in place; return what it was."""
    how = draw(st.sampled_from(["typed", "typed", "typed", "wrong", "wrong", "delete", "unknown", "null", "meta",
                                "huge"]))
    if how in ("typed", "wrong"):
        paths = schema_paths(msg)
        if focus is not None and draw(st.integers(0, 3)):
            paths = tuple(p for p in paths if p.path[0] == focus) or paths
        present = set(present_paths(obj))
        # Half the time a path next to the object's own values (deep code paths), else any schema path.
        near = [p for p in paths if p.path in present or p.path[:-1] in present]
        sp = draw(st.sampled_from(near if near and draw(st.booleans()) else paths))
        if how == "typed":
            value = draw(item(sp.field) if sp.element else member(sp.field))
        else:
            if sp.field.scalar == dsl.RAW_EXTENSION:
                value = draw(st.sampled_from(["x", 1]))
                how = "typed"
            else:
                value = draw(wrong_item(sp.field) if sp.element else wrong_member(sp.field))
        set_at(obj, sp.path, value)
        return f"{how} {_label(sp.path)}={_short(value)}"
    if how == "delete":
        present = [p for p in present_paths(obj) if p[:1] != ("apiVersion",)]
        if not present:
            return "delete nothing"
        path = draw(st.sampled_from(present))
        delete_at(obj, path)
        return f"delete {_label(path)}"
    if how == "unknown":
        dicts = [()] + [p for p in present_paths(obj) if isinstance(get_at(obj, p), dict)]
        path = draw(st.sampled_from(dicts))
        key = draw(st.sampled_from(["fuzzUnknown", "", "$patch", "x" * 300, "🙂", "metadata", "spec"]))
        value = draw(st.one_of(ANY_JSON, st.just(nested(40))))
        parent = get_at(obj, path) if path else obj
        if not path and key in msg.json_fields:
            key = "fuzzUnknown"
        parent[key] = value
        return f"unknown {_label((*path, key))}={_short(value)}"
    if how == "null":
        present = [p for p in present_paths(obj) if p != ("metadata",)]
        path = draw(st.sampled_from(present)) if present else ("spec",)
        set_at(obj, path, None)
        return f"null {_label(path)}"
    if how == "meta":
        return draw(_meta_mutation(obj))
    # huge: a very long list or string, or deep nesting, at a schema path.
    sp = draw(st.sampled_from(schema_paths(msg)))
    size = draw(st.sampled_from([1000, 20000]))
    if sp.field.repeated and not sp.element:
        one = draw(item(sp.field, 1))
        # Copies, not `[one] * size`: a later mutation of one element (a huge string in
        # managedFields[3], say) would otherwise land in all of them at once, and the body
        # became gigabytes (the whole suite died of memory once objects carried managedFields).
        value = [copy.deepcopy(one) for _ in range(size)]
    elif sp.field.scalar == dsl.STRING:
        value = "y" * size * 10
    else:
        value = nested(draw(st.sampled_from([100, 600])))
    set_at(obj, sp.path, value)
    return f"huge {_label(sp.path)} ({size})"


@st.composite
def _meta_mutation(draw: st.DrawFn, obj: Obj) -> str:
    if not isinstance(obj.get("metadata"), dict):
        obj["metadata"] = {}
    meta = obj["metadata"]
    what = draw(st.sampled_from(["name", "generateName", "labels", "annotations", "finalizers", "ownerReferences",
                                 "namespace", "resourceVersion", "uid", "selector", "deletionTimestamp"]))
    if what in ("name", "generateName", "namespace", "uid"):
        meta[what] = draw(STRINGS)
        if what == "generateName":
            meta.pop("name", None)
        return f"metadata.{what}={_short(meta[what])}"
    if what == "labels":
        meta["labels"] = draw(st.dictionaries(st.sampled_from(LABEL_KEYS), st.sampled_from(LABEL_VALUES),
                                              min_size=1, max_size=3))
        return f"metadata.labels={_short(meta['labels'])}"
    if what == "annotations":
        meta["annotations"] = draw(st.dictionaries(st.sampled_from(LABEL_KEYS), st.one_of(
            st.sampled_from(LABEL_VALUES), st.just("v" * 300000)), min_size=1, max_size=2))
        return f"metadata.annotations={_short(meta['annotations'])}"
    if what == "finalizers":
        meta["finalizers"] = draw(st.lists(st.sampled_from(["kubernetes", "fz.io/hold", "orphan", "foregroundDeletion",
                                                            "", "bad name", "a/b/c"]), max_size=3))
        return f"metadata.finalizers={meta['finalizers']}"
    if what == "ownerReferences":
        ref = draw(st.fixed_dictionaries({}, optional={
            "apiVersion": st.sampled_from(["v1", "apps/v1", "", "x/y/z"]),
            "kind": st.sampled_from(["ReplicaSet", "", "a b"]), "name": STRINGS,
            "uid": st.sampled_from(["u-1", ""]), "controller": st.booleans(),
            "blockOwnerDeletion": st.booleans()}))
        meta["ownerReferences"] = draw(st.sampled_from([[ref], [ref, ref]]))
        return f"metadata.ownerReferences={_short(meta['ownerReferences'])}"
    if what == "resourceVersion":
        meta["resourceVersion"] = draw(st.sampled_from(["", "0", "1", "abc", "-1", "99999999999999999999"]))
        return f"metadata.resourceVersion={meta['resourceVersion']}"
    if what == "deletionTimestamp":
        meta["deletionTimestamp"] = "2024-05-01T12:00:00Z"
        return "metadata.deletionTimestamp set"
    # selector: a label selector with odd operators and values wherever the kind has one
    spec = obj.get("spec")
    if isinstance(spec, dict) and isinstance(spec.get("selector"), dict) and "matchLabels" in spec["selector"]:
        spec["selector"]["matchExpressions"] = [draw(st.fixed_dictionaries({
            "key": st.sampled_from(LABEL_KEYS), "operator": st.sampled_from(
                ["In", "NotIn", "Exists", "DoesNotExist", "Gt", "in", ""]),
        }, optional={"values": st.lists(st.sampled_from(LABEL_VALUES), max_size=2)}))]
        return f"spec.selector.matchExpressions={_short(spec['selector']['matchExpressions'])}"
    meta["labels"] = {draw(st.sampled_from(LABEL_KEYS)): draw(st.sampled_from(LABEL_VALUES))}
    return f"metadata.labels={_short(meta['labels'])}"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


@st.composite
def mutated(draw: st.DrawFn, msg: dsl.Message | resources.Resource, obj: Obj, max_changes: int = 3,
            focus: str | None = None) -> Mutated:
    """`obj` (a valid object of `msg`, or of a resource's kind) with one to `max_changes`
    mutations; `focus` (a top-level member, e.g. "status") takes most of them."""
    if isinstance(msg, resources.Resource):
        msg = message_of(msg)
    out = copy.deepcopy(obj)
    n = draw(st.integers(1, max_changes))
    changes = [draw(mutation(msg, out, focus)) for _ in range(n)]
    return Mutated(out, changes)


# --------------------------------------------------------------------------- patches


def merge_diff(old: Any, new: Any) -> Any:
    """The JSON merge patch (RFC 7386) that turns `old` into `new`."""
    if not isinstance(old, dict) or not isinstance(new, dict):
        return new
    out: Obj = {}
    for k in old.keys() - new.keys():
        out[k] = None
    for k, v in new.items():
        if k not in old:
            out[k] = v
        elif old[k] != v:
            out[k] = merge_diff(old[k], v) if isinstance(v, dict) and isinstance(old[k], dict) else v
    return out


def json_patch_ops(old: Obj, new: Obj) -> list[Obj]:
    """RFC 6902 operations that turn `old` into `new` (the maintained jsonpatch library's diff)."""
    ops: list[Obj] = jsonpatch.make_patch(old, new).patch
    return ops


# Patch documents that are wrong as documents, not just as values.
MALFORMED_MERGE = [b"", b"{", b"[]", b"null", b"1", b'"x"', b"{\"a\":}", b"\xff\xfe", b"{\"metadata\": []}",
                   b"{\"metadata\": {\"labels\": [1]}}", b"{\"spec\": 1}", b"{}" * 3]
MALFORMED_JSON_PATCH: list[Any] = [
    {}, [1], ["x"], [{}], [{"op": "bogus", "path": "/a"}], [{"op": "add"}], [{"op": "add", "path": "a", "value": 1}],
    [{"op": "remove", "path": "/nonexistent/deep"}], [{"op": "replace", "path": "/metadata/name"}],
    [{"op": "move", "from": "/nope", "path": "/a"}], [{"op": "copy", "from": "/metadata", "path": "/metadata/x"}],
    [{"op": "test", "path": "/kind", "value": "Nope"}], [{"op": "add", "path": "/spec/x/-", "value": 1}],
    [{"op": "add", "path": "/metadata/labels/a~2b", "value": "x"}], [{"op": "remove", "path": ""}],
    [{"op": "replace", "path": "", "value": []}], [{"op": "replace", "path": "", "value": 5}],
    [{"op": "add", "path": "/metadata/finalizers/99", "value": "x"}], [{"op": "add", "path": "/-", "value": 1}],
    [{"op": "add", "path": 5, "value": 1}], [{"op": None}], [{"op": "add", "path": "/a", "value": 1}] * 10001,
    [{"op": "remove", "path": "/metadata"}], [{"op": "remove", "path": "/apiVersion"}],
    [{"op": "replace", "path": "/metadata/resourceVersion", "value": "1"}],
    [{"op": "replace", "path": "/metadata/uid", "value": "other"}],
]
MALFORMED_STRATEGIC: list[Any] = [
    {"$patch": "bogus"}, {"$patch": "delete"}, {"$patch": "replace"}, {"$patch": 5},
    {"spec": {"$patch": "replace"}}, {"spec": {"$retainKeys": "x"}}, {"spec": {"$retainKeys": [1]}},
    {"spec": {"$retainKeys": ["nope"]}}, {"metadata": {"$deleteFromPrimitiveList/finalizers": "x"}},
    {"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}}, {"$setElementOrder/spec": [1]},
    {"spec": {"$setElementOrder/containers": [{"name": "nope"}]}}, {"spec": {"$setElementOrder/containers": "x"}},
    {"spec": {"containers": [{"$patch": "delete"}]}}, {"spec": {"containers": [{"$patch": "delete", "name": "web"}]}},
    {"spec": {"containers": [{"name": "web", "$patch": "replace"}]}}, {"spec": {"containers": "x"}},
    {"spec": {"containers": [1, 2]}}, {"spec": {"containers": [{"noName": 1}]}}, {"spec": {"template": {"$patch": "x"}}},
    {"subjects": [{"$patch": "delete"}]}, {"spec": {"ports": [{"port": "x"}]}}, {"spec": {"ports": [{"$patch": "merge"}]}},
    {"metadata": {"ownerReferences": [{"uid": 5}]}}, {"metadata": {"$patch": "delete"}},
    {"spec": {"template": {"spec": {"volumes": [{"$retainKeys": ["name"], "name": "data", "hostPath": {"path": "/"}}]}}}},
]


@st.composite
def patch_body(draw: st.DrawFn, kind: str, old: Obj, new: Obj) -> tuple[bytes, str]:
    """A PATCH body of type `kind` (merge, strategic, json) turning `old` into `new`, or, some of the
    time, a malformed document of that type."""
    malformed = draw(st.integers(0, 4)) == 0
    if kind == "json":
        body: Any = draw(st.sampled_from(MALFORMED_JSON_PATCH)) if malformed else json_patch_ops(old, new)
        return dumps(body), "json-patch"
    if malformed:
        if kind == "strategic" and draw(st.booleans()):
            return dumps(draw(st.sampled_from(MALFORMED_STRATEGIC))), "malformed"
        return draw(st.sampled_from(MALFORMED_MERGE)), "malformed"
    return dumps(merge_diff(old, new)), "diff"
