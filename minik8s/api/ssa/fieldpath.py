"""Field paths and sets of them, in the FieldsV1 form managedFields stores.

A path is a tuple of path elements; each element is kept in its serialized form, which
is also its identity (structured-merge-diff's fieldpath package):

- `f:<name>`: a member of an object (`f:spec`);
- `k:<json object>`: the element of an associative list with these key fields, sorted
  by name (`k:{"containerPort":80,"protocol":"TCP"}`);
- `v:<json value>`: the element of a set (`v:"example.com/finalizer"`);
- `i:<n>`: a list index (never produced for typed objects, accepted when read).

A Set is a tree: `members` are the elements that are themselves in the set, `children`
the subsets below an element. `to_fields`/`from_fields` convert it to and from FieldsV1,
where a member is `{}`, a member that also has children carries `".": {}`, and keys are
sorted as structured-merge-diff sorts path elements (fields, then keys, then values,
then indices).
"""
from __future__ import annotations

import functools
import json
import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

PathElement = str
Path = tuple[PathElement, ...]

FIELD = "f:"
KEY = "k:"
VALUE = "v:"
INDEX = "i:"


class FieldsError(ValueError):
    """A FieldsV1 document or path element that cannot be read."""


# --------------------------------------------------------------------------- elements


def encode_value(value: Any) -> str:
    """A JSON value as Go's encoding/json writes it (compact, HTML-escaped, keys sorted)."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True, allow_nan=False)
    if any(c in text for c in "<>&\u2028\u2029"):
        text = (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
                .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))
    return text


def field(name: str) -> PathElement:
    return FIELD + name


def key(fields: Mapping[str, Any]) -> PathElement:
    """The element of an associative list item with these key field values."""
    items = tuple(sorted(fields.items()))
    try:
        return _key_of(items)
    except TypeError:  # an unhashable key value (a list or map): not worth caching
        return KEY + encode_value(dict(items))


@functools.lru_cache(maxsize=8192)
def _key_of(items: tuple[tuple[str, Any], ...]) -> PathElement:
    return KEY + encode_value(dict(items))


def value(v: Any) -> PathElement:
    if isinstance(v, str):
        return _string_value(v)
    return VALUE + encode_value(v)


@functools.lru_cache(maxsize=8192)
def _string_value(v: str) -> PathElement:
    return VALUE + encode_value(v)


def index(i: int) -> PathElement:
    return INDEX + str(i)


def canonical(text: str) -> PathElement | None:
    """A serialized element in its canonical form; None for an unknown element type
    (skipped, as structured-merge-diff skips them); FieldsError if it is malformed."""
    if text.startswith(FIELD):
        return text
    known = _CANONICAL.get(text)
    if known is not None:
        return known
    pe = _canonical(text)
    if pe is not None and len(_CANONICAL) < 100_000:
        _CANONICAL[text] = pe
    return pe


_CANONICAL: dict[str, str] = {}


def _canonical(text: str) -> PathElement | None:
    if len(text) < 2 or text[1] != ":":
        raise FieldsError(f"key must be 2 characters long and end in a colon: {text!r}")
    kind, body = text[:2], text[2:]
    if kind == FIELD:
        return text
    if kind == INDEX:
        try:
            return index(int(body))
        except ValueError:
            raise FieldsError(f"invalid index element: {text!r}") from None
    if kind not in (KEY, VALUE):
        return None
    try:
        parsed = json.loads(body)
    except ValueError as e:
        raise FieldsError(f"invalid {text[0]} element {text!r}: {e}") from None
    if kind == KEY:
        if not isinstance(parsed, dict):
            raise FieldsError(f"a key element must be a JSON object: {text!r}")
        return key(parsed)
    return value(parsed)


def _go_string(v: Any) -> str:
    """value.ToString: how a key or set value appears in a printed path."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, float):
        return repr(int(v)) if v.is_integer() and abs(v) < 1e21 else repr(v)
    if isinstance(v, list):
        return "[" + ",".join(_go_string(x) for x in v) + "]"
    if isinstance(v, dict):
        return "".join(f"{k}={_go_string(x)}" for k, x in v.items())
    return str(v)


def element_string(pe: PathElement) -> str:
    """An element as structured-merge-diff prints it: `.spec`, `[name="web"]`, `[="a"]`, `[0]`."""
    kind, body = pe[:2], pe[2:]
    if kind == FIELD:
        return "." + body
    if kind == KEY:
        fields = json.loads(body)
        return "[" + ",".join(f"{k}={_go_string(v)}" for k, v in fields.items()) + "]"
    if kind == VALUE:
        return "[=" + _go_string(json.loads(body)) + "]"
    return "[" + body + "]"


def path_string(path: Sequence[PathElement]) -> str:
    """A path as conflicts name it: `.spec.template.spec.containers[name="web"].image`."""
    return "".join(element_string(pe) for pe in path)


def _value_order(v: Any) -> tuple[Any, ...]:
    """value.Compare as a sort key: numbers, strings, bools, lists, maps, null."""
    if isinstance(v, bool):
        return (2, v)
    if isinstance(v, (int, float)):
        return (0, v if not (isinstance(v, float) and math.isnan(v)) else 0)
    if isinstance(v, str):
        return (1, v.encode())
    if isinstance(v, list):
        return (3, tuple(_value_order(x) for x in v))
    if isinstance(v, dict):
        return (4, tuple((k.encode(), _value_order(x)) for k, x in sorted(v.items())))
    return (5,)


_RANK = {FIELD: 0, KEY: 1, VALUE: 2, INDEX: 3}
_ORDER_CACHE: dict[str, tuple[Any, ...]] = {}


def order(pe: PathElement) -> tuple[Any, ...]:
    """The sort key of an element (PathElement.Compare)."""
    cached = _ORDER_CACHE.get(pe)
    if cached is not None:
        return cached
    kind, body = pe[:2], pe[2:]
    if kind == FIELD:
        result: tuple[Any, ...] = (0, body.encode())
    elif kind == KEY:
        result = (1, tuple((k.encode(), _value_order(v)) for k, v in json.loads(body).items()))
    elif kind == VALUE:
        result = (2, _value_order(json.loads(body)))
    else:
        result = (3, int(body))
    if len(_ORDER_CACHE) < 100_000:
        _ORDER_CACHE[pe] = result
    return result


# --------------------------------------------------------------------------- sets


class Set:
    """A set of paths, as a tree (fieldpath.Set). Operations return new sets."""

    __slots__ = ("members", "children")

    def __init__(self, members: set[PathElement] | None = None,
                 children: dict[PathElement, Set] | None = None) -> None:
        self.members: set[PathElement] = members if members is not None else set()
        self.children: dict[PathElement, Set] = children if children is not None else {}

    @classmethod
    def of(cls, *paths: Sequence[PathElement]) -> Set:
        s = cls()
        for p in paths:
            s.insert(p)
        return s

    def copy(self) -> Set:
        return Set(set(self.members), {pe: c.copy() for pe, c in self.children.items()})

    def insert(self, path: Sequence[PathElement]) -> None:
        if not path:
            return
        node = self
        for pe in path[:-1]:
            child = node.children.get(pe)
            if child is None:
                child = node.children[pe] = Set()
            node = child
        node.members.add(path[-1])

    def has(self, path: Sequence[PathElement]) -> bool:
        if not path:
            return False
        node: Set | None = self
        for pe in path[:-1]:
            assert node is not None
            node = node.children.get(pe)
            if node is None:
                return False
        assert node is not None
        return path[-1] in node.members

    def empty(self) -> bool:
        # Invariant: no child set is empty (every operation drops empty children).
        return not self.members and not self.children

    def __bool__(self) -> bool:
        return not self.empty()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Set):
            return NotImplemented
        return self.members == other.members and self.children == other.children

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return f"Set({[path_string(p) for p in self.paths()]})"

    def with_prefix(self, pe: PathElement) -> Set:
        child = self.children.get(pe)
        return child if child is not None else Set()

    def union(self, other: Set) -> Set:
        children = dict(self.children)
        for pe, c in other.children.items():
            mine = children.get(pe)
            children[pe] = c if mine is None else mine.union(c)
        return Set(self.members | other.members, children)

    def intersection(self, other: Set) -> Set:
        children = {}
        for pe, c in self.children.items():
            theirs = other.children.get(pe)
            if theirs is not None:
                both = c.intersection(theirs)
                if not both.empty():
                    children[pe] = both
        return Set(self.members & other.members, children)

    def difference(self, other: Set) -> Set:
        """Paths of self not in other (a member removes only itself, not what is below it)."""
        children = {}
        for pe, c in self.children.items():
            theirs = other.children.get(pe)
            if theirs is None:
                children[pe] = c
            else:
                diff = c.difference(theirs)
                if not diff.empty():
                    children[pe] = diff
        return Set(self.members - other.members, children)

    def recursive_difference(self, other: Set) -> Set:
        """Paths of self not in other and not below a member of other."""
        children = {}
        for pe, c in self.children.items():
            if pe in other.members:
                continue
            theirs = other.children.get(pe)
            if theirs is None:
                children[pe] = c
            else:
                diff = c.recursive_difference(theirs)
                if not diff.empty():
                    children[pe] = diff
        return Set(self.members - other.members, children)

    def leaves(self) -> Set:
        """The members that have no children in the set."""
        children = {}
        for pe, c in self.children.items():
            sub = c.leaves()
            if not sub.empty():
                children[pe] = sub
        return Set({m for m in self.members if m not in self.children}, children)

    def paths(self, prefix: Path = ()) -> Iterator[Path]:
        """Every path, in structured-merge-diff's order (members, then children, each sorted)."""
        for pe in sorted(self.members, key=order):
            yield (*prefix, pe)
        for pe in sorted(self.children, key=order):
            yield from self.children[pe].paths((*prefix, pe))

    def size(self) -> int:
        return len(self.members) + sum(c.size() for c in self.children.values())

    # -- FieldsV1 -----------------------------------------------------------------

    def to_fields(self) -> dict[str, Any]:
        """The FieldsV1 document of this set."""
        out: dict[str, Any] = {}
        for pe in sorted(self.members | self.children.keys(), key=order):
            child = self.children.get(pe)
            if child is not None and not child.empty():
                inner = child.to_fields()
                out[pe] = {".": {}, **inner} if pe in self.members else inner
            elif pe in self.members:
                out[pe] = {}
        return out

    @classmethod
    def from_fields(cls, doc: Any) -> Set:
        """A set from a FieldsV1 document; FieldsError if it is not one."""
        if not isinstance(doc, dict):
            raise FieldsError("a FieldsV1 document must be a JSON object")
        s, _ = _read(doc)
        return s or cls()


def _read(doc: dict[str, Any]) -> tuple[Set | None, bool]:
    """readIterV1: (the children of this node, whether the node itself is a member)."""
    children: Set | None = None
    is_member = False
    for text, sub in doc.items():
        if text == ".":
            is_member = True
            continue
        pe = canonical(text)
        if pe is None:
            continue
        if not isinstance(sub, dict):
            raise FieldsError(f"the value of {text!r} must be a JSON object")
        grandchildren, child_is_member = _read(sub)
        if children is None:
            children = Set()
        if child_is_member:
            children.members.add(pe)
        if grandchildren is not None and not grandchildren.empty():
            children.children[pe] = grandchildren
    if children is None:
        is_member = True
    return children, is_member
