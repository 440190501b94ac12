"""Typed walks over objects: field sets, comparisons, merges and removals.

structured-merge-diff sees a schema as atoms: scalars, lists (atomic, or associative:
a set of scalars, or a map keyed by some fields of its elements) and maps (atomic or
granular; structs are maps with named fields). `Type` holds that view, built from the
API schema (minik8s.api.schema) by `for_message` with kube-openapi's rules: a list's
`x-kubernetes-list-type` decides, else a patch strategy "merge" with a merge key makes
it associative on that key, else it is atomic; `x-kubernetes-map-type: atomic` makes a
map or struct one leaf; RawExtension is an untyped atomic value.

The walks follow typed/{tofieldset,compare,merge,remove}.go. Values are plain JSON
values; `MISSING` stands for an absent member, which differs from an explicit null.
"""
from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, Final

from minik8s.api.schema import dsl
from minik8s.api.ssa import fieldpath

Path = fieldpath.Path


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final[Any] = _Missing()

SCALAR_KIND, LIST_KIND, MAP_KIND, UNTYPED_KIND = "scalar", "list", "map", "untyped"


class TypedError(ValueError):
    """A value that does not fit its type (structured-merge-diff's ValidationError)."""

    def __init__(self, path: Path, message: str) -> None:
        self.path = path
        self.detail = message
        where = fieldpath.path_string(path)
        super().__init__(f"{where}: {message}" if where else message)


class Type:
    """One atom of the schema.

    lists: `elem`, `atomic`, `keys` (empty for a set) and `key_defaults`; maps: `elem`
    (the type of members without a named field) and `atomic`; structs are maps whose
    `fields` are given by a builder, resolved on first use so that types may refer to
    themselves. `zero` lists, for structs, the members Go always writes: non-pointer
    struct fields ({}) and non-omitempty lists and maps (null).
    """

    __slots__ = ("kind", "atomic", "keys", "key_defaults", "_elem", "_fields", "_builder", "_zero", "_zero_map",
                 "name")

    def __init__(self, kind: str, *, atomic: bool = False, elem: Type | Callable[[], Type] | None = None,
                 keys: tuple[str, ...] = (), key_defaults: Mapping[str, Any] | None = None,
                 fields: Callable[[], tuple[dict[str, Type], tuple[tuple[str, Any], ...]]] | None = None,
                 name: str = "") -> None:
        self.kind = kind
        self.atomic = atomic
        self.keys = keys
        self.key_defaults = dict(key_defaults or {})
        self._elem = elem
        self._builder = fields
        self._fields: dict[str, Type] | None = None
        self._zero: tuple[tuple[str, Any], ...] = ()
        self._zero_map: dict[str, Any] = {}
        self.name = name

    def __repr__(self) -> str:
        return f"Type({self.kind}{' atomic' if self.atomic else ''} {self.name})"

    @property
    def elem(self) -> Type:
        e = self._elem
        if e is None:
            return DEDUCED
        if not isinstance(e, Type):
            e = self._elem = e()
        return e

    @property
    def fields(self) -> dict[str, Type] | None:
        """The named members of a struct (None for plain maps)."""
        if self._fields is None and self._builder is not None:
            self._fields, self._zero = self._builder()
            self._zero_map = dict(self._zero)
            self._builder = None
        return self._fields

    @property
    def zero(self) -> tuple[tuple[str, Any], ...]:
        _ = self.fields
        return self._zero

    @property
    def zero_map(self) -> dict[str, Any]:
        """zero as a dict: what an absent member is taken to be when comparing (see
        zero_object); shared, never modified."""
        _ = self.fields
        return self._zero_map

    def member(self, name: str) -> Type:
        fields = self.fields
        if fields is not None:
            t = fields.get(name)
            if t is not None:
                return t
        return self.elem

    @property
    def associative(self) -> bool:
        return self.kind == LIST_KIND and not self.atomic


SCALAR: Final = Type(SCALAR_KIND, name="scalar")
UNTYPED_ATOMIC: Final = Type(UNTYPED_KIND, atomic=True, name="__untyped_atomic_")
DEDUCED: Final = Type(UNTYPED_KIND, name="__untyped_deduced_")
_DEDUCED_MAP: Final = Type(MAP_KIND, elem=DEDUCED, name="__untyped_deduced_")
_UNTYPED_LIST: Final = Type(LIST_KIND, atomic=True, elem=UNTYPED_ATOMIC, name="__untyped_atomic_")


def struct(fields: Mapping[str, Type], *, atomic: bool = False, name: str = "",
           zero: tuple[tuple[str, Any], ...] = ()) -> Type:
    """A struct type with these named members (for tests and hand-made schemas)."""
    built = (dict(fields), zero)
    return Type(MAP_KIND, atomic=atomic, fields=lambda: built, name=name)


def map_of(elem: Type, *, atomic: bool = False) -> Type:
    return Type(MAP_KIND, elem=elem, atomic=atomic)


def list_of(elem: Type, *, atomic: bool = False, keys: tuple[str, ...] = (),
            key_defaults: Mapping[str, Any] | None = None) -> Type:
    return Type(LIST_KIND, elem=elem, atomic=atomic, keys=keys, key_defaults=key_defaults)


# --------------------------------------------------------------------------- from the API schema


def _scalar_type(name: str) -> Type:
    if name in (dsl.RAW_EXTENSION, dsl.FIELDS_V1):
        return UNTYPED_ATOMIC
    return SCALAR


def _element_type(f: dsl.Field) -> Type:
    msg = f.message
    if msg is not None:
        return for_message(msg)
    return _scalar_type(f.scalar)


def _list_shape(f: dsl.Field) -> tuple[bool, tuple[str, ...]]:
    """(atomic, keys) of a repeated field (schemaconv's getListElementRelationship)."""
    if f.list_type == "atomic":
        return True, ()
    if f.list_type == "set":
        return False, ()
    if f.list_type == "map":
        return False, f.list_map_keys
    strategies = f.patch_strategy.split(",") if f.patch_strategy else []
    if "merge" in strategies:
        return False, (f.merge_key,) if f.merge_key else ()
    return True, ()


def for_field(f: dsl.Field) -> Type:
    """The type of one member of a Message."""
    if f.repeated:
        atomic, keys = _list_shape(f)
        elem_msg = f.message
        defaults: dict[str, Any] = {}
        if keys and elem_msg is not None:
            for k in keys:
                kf = elem_msg.json_fields.get(k)
                if kf is not None and kf.default is not None:
                    defaults[k] = kf.default
        return Type(LIST_KIND, elem=functools.partial(_element_type, f), atomic=atomic, keys=keys,
                    key_defaults=defaults)
    if f.map:
        return Type(MAP_KIND, elem=functools.partial(_element_type, f), atomic=f.map_type == "atomic")
    msg = f.message
    if msg is None:
        return _scalar_type(f.scalar)
    if f.map_type == "atomic":
        return for_message(msg, atomic=True)
    return for_message(msg)


def _build_fields(msg: dsl.Message) -> tuple[dict[str, Type], tuple[tuple[str, Any], ...]]:
    fields: dict[str, Type] = {}
    zero: list[tuple[str, Any]] = []
    for name, f in msg.json_fields.items():
        t = for_field(f)
        fields[name] = t
        if f.repeated or f.map:
            if f.required:
                zero.append((name, None))
        elif f.message is not None and not f.pointer:
            zero.append((name, {}))
    return fields, tuple(zero)


@functools.cache
def for_message(msg: dsl.Message, atomic: bool = False) -> Type:
    """The struct type of a Message (cached: one Type per Message and atomicity)."""
    return Type(MAP_KIND, atomic=atomic or msg.map_type == "atomic",
                fields=functools.partial(_build_fields, msg), name=msg.name)


# --------------------------------------------------------------------------- helpers


def _deduce(t: Type, v: Any) -> Type:
    """The atom that applies to `v` (deduceAtom): untyped values by their JSON type; a
    value of the wrong shape is treated as a scalar, compared as a whole."""
    if t.kind == UNTYPED_KIND:
        if t.atomic:
            return SCALAR
        if isinstance(v, dict):
            return _DEDUCED_MAP
        if isinstance(v, list):
            return _UNTYPED_LIST
        return SCALAR
    if v is MISSING or v is None:
        return t
    if t.kind == MAP_KIND and not isinstance(v, dict):
        return SCALAR
    if t.kind == LIST_KIND and not isinstance(v, list):
        return SCALAR
    return t


def _empty(v: Any) -> bool:
    return v is MISSING or v is None or (isinstance(v, (dict, list)) and not v)


def _leaf(t: Type, lhs: Any, rhs: Any) -> bool:
    """Scalars, atomic lists and maps, and lists/maps empty on both sides (emptyPromoteToLeaf)."""
    if t.kind == SCALAR_KIND or t.atomic:
        return True
    return _empty(lhs) and _empty(rhs)


def item_element(t: Type, item: Any, path: Path) -> fieldpath.PathElement:
    """The path element of one element of an associative list (listItemToPathElement)."""
    if t.keys:
        if item is None:
            raise TypedError(path, "associative list with keys may not have a null element")
        if not isinstance(item, dict):
            raise TypedError(path, "associative list with keys may not have non-map elements")
        found: dict[str, Any] = {}
        for k in t.keys:
            if k in item:
                found[k] = item[k]
            elif k in t.key_defaults:
                found[k] = t.key_defaults[k]
        if not found:
            keys = "[" + " ".join(f'"{k}"' for k in t.keys) + "]"
            raise TypedError(path, f"associative list with keys has an element that omits all key fields {keys} "
                                   "(and doesn't have default values for any key fields)")
        return fieldpath.key(found)
    if isinstance(item, dict):
        raise TypedError(path, "associative list without keys has an element that's a map type")
    if isinstance(item, list):
        raise TypedError(path, "not supported: associative list with lists as elements")
    if item is None:
        raise TypedError(path, "associative list without keys has an element that's an explicit null")
    return fieldpath.value(item)


# --------------------------------------------------------------------------- validation


def validate(v: Any, t: Type, *, allow_duplicates: bool = False, path: Path = ()) -> None:
    """The checks structured-merge-diff makes of an applied configuration: associative
    list elements must carry their keys and, unless allowed, be unique."""
    t = _deduce(t, v)
    if t.kind == LIST_KIND:
        if t.atomic or not isinstance(v, list):
            return
        seen: set[str] = set()
        for item in v:
            pe = item_element(t, item, path)
            if pe in seen and not allow_duplicates:
                raise TypedError(path, f"duplicate entries for key {fieldpath.element_string(pe)}")
            seen.add(pe)
            validate(item, t.elem, allow_duplicates=allow_duplicates, path=(*path, pe))
    elif t.kind == MAP_KIND and not t.atomic and isinstance(v, dict):
        for k, item in v.items():
            validate(item, t.member(k), allow_duplicates=allow_duplicates, path=(*path, fieldpath.field(k)))


# --------------------------------------------------------------------------- field sets


def to_field_set(v: Any, t: Type) -> fieldpath.Set:
    """Every field of `v` (TypedValue.ToFieldSet)."""
    out = fieldpath.Set()
    _to_set(v, t, (), out)
    return out


def _to_set(v: Any, t: Type, path: Path, out: fieldpath.Set) -> None:
    t = _deduce(t, v)
    if t.kind == SCALAR_KIND:
        out.insert(path)
        return
    if t.atomic:
        out.insert(path)
        return
    if t.kind == LIST_KIND:
        if not isinstance(v, list):
            return
        pes = [item_element(t, item, path) for item in v]
        seen: set[str] = set()
        dups: set[str] = set()
        for pe in pes:
            if pe in seen:
                if pe not in dups:
                    out.insert((*path, pe))
                    dups.add(pe)
            else:
                seen.add(pe)
        for pe, item in zip(pes, v):
            if pe in dups:
                continue
            child = (*path, pe)
            _to_set(item, t.elem, child, out)
            out.insert(child)
        return
    if not isinstance(v, dict):
        return
    fields = t.fields
    for k, item in v.items():
        child = (*path, fieldpath.field(k))
        _to_set(item, t.member(k), child, out)
        if item is None or (isinstance(item, dict) and not item) or fields is None or k not in fields:
            out.insert(child)


def ensure_named_fields_are_members(s: fieldpath.Set, t: Type) -> fieldpath.Set:
    """The set with every struct field that has children also a member of it."""
    members = set(s.members)
    children: dict[str, fieldpath.Set] = {}
    fields = t.fields if t.kind == MAP_KIND else None
    for pe, child in s.children.items():
        sub = DEDUCED
        if pe.startswith(fieldpath.FIELD) and t.kind in (MAP_KIND, UNTYPED_KIND):
            name = pe[2:]
            if fields is not None and name in fields:
                members.add(pe)
            sub = t.member(name) if t.kind == MAP_KIND else DEDUCED
        elif pe.startswith(fieldpath.KEY) and t.kind == LIST_KIND:
            sub = t.elem
        children[pe] = ensure_named_fields_are_members(child, sub)
    return fieldpath.Set(members, children)


# --------------------------------------------------------------------------- comparison


class Comparison:
    """Fields removed, modified and added from lhs to rhs (typed.Comparison)."""

    __slots__ = ("removed", "modified", "added")

    def __init__(self) -> None:
        self.removed = fieldpath.Set()
        self.modified = fieldpath.Set()
        self.added = fieldpath.Set()

    def is_same(self) -> bool:
        return self.removed.empty() and self.modified.empty() and self.added.empty()

    def exclude(self, fields: fieldpath.Set | None) -> Comparison:
        if fields is None or fields.empty():
            return self
        out = Comparison()
        out.removed = self.removed.recursive_difference(fields)
        out.modified = self.modified.recursive_difference(fields)
        out.added = self.added.recursive_difference(fields)
        return out


def compare(lhs: Any, rhs: Any, t: Type) -> Comparison:
    out = Comparison()
    _compare(lhs, rhs, t, (), out)
    return out


def _compare(lhs: Any, rhs: Any, t: Type, path: Path, out: Comparison) -> None:
    if lhs is not MISSING and rhs is not MISSING and type(lhs) is type(rhs) and lhs == rhs:
        return  # equal subtrees add nothing anywhere below
    t = _deduce(t, rhs if rhs is not MISSING and rhs is not None else lhs)
    if _leaf(t, lhs, rhs) or _deduce(t, lhs) is not t:
        if lhs is MISSING:
            out.added.insert(path)
        elif rhs is MISSING:
            out.removed.insert(path)
        elif not (type(lhs) is type(rhs) and lhs == rhs):
            out.modified.insert(path)
        return
    if t.kind == LIST_KIND:
        _compare_lists(lhs if isinstance(lhs, list) else [], rhs if isinstance(rhs, list) else [], t, path, out)
    else:
        lm = lhs if isinstance(lhs, dict) else {}
        rm = rhs if isinstance(rhs, dict) else {}
        # A member Go always writes (an empty struct, a null list) is there even when
        # the JSON lacks it: comparing against it keeps "added" for what really is.
        zero = t.zero_map if t.fields is not None else {}
        for k in {**lm, **rm}:
            lv, rv = lm.get(k, MISSING), rm.get(k, MISSING)
            if lv is MISSING and lhs is lm:
                lv = zero.get(k, MISSING)
            elif rv is MISSING and rhs is rm:
                rv = zero.get(k, MISSING)
            _compare(lv, rv, t.member(k), (*path, fieldpath.field(k)), out)
    if lhs is MISSING:
        out.added.insert(path)
    elif rhs is MISSING:
        out.removed.insert(path)


def _compare_lists(lhs: list[Any], rhs: list[Any], t: Type, path: Path, out: Comparison) -> None:
    order: list[str] = []
    lvals: dict[str, list[Any]] = {}
    rvals: dict[str, list[Any]] = {}
    for item in lhs:
        pe = item_element(t, item, path)
        if pe not in lvals:
            lvals[pe] = []
            order.append(pe)
        lvals[pe].append(item)
    for item in rhs:
        pe = item_element(t, item, path)
        if pe not in rvals:
            rvals[pe] = []
            if pe not in lvals:
                order.append(pe)
        rvals[pe].append(item)
    for pe in order:
        ls, rs = lvals.get(pe, []), rvals.get(pe, [])
        child = (*path, pe)
        if len(ls) <= 1 and len(rs) <= 1:
            _compare(ls[0] if ls else MISSING, rs[0] if rs else MISSING, t.elem, child, out)
        elif len(ls) >= 2 and len(rs) >= 2:
            if ls != rs:
                out.modified.insert(child)
        elif len(ls) >= 2:
            if rs:
                _compare(MISSING, rs[0], t.elem, child, out)
            out.removed.insert(child)
        else:
            if ls:
                _compare(ls[0], MISSING, t.elem, child, out)
            out.added.insert(child)


# --------------------------------------------------------------------------- merge


def merge(lhs: Any, rhs: Any, t: Type) -> Any:
    """rhs merged onto lhs (TypedValue.Merge with ruleKeepRHS): rhs wins at every leaf,
    granular maps and associative lists are merged member by member."""
    return _merge(lhs, rhs, t, ())


def _merge(lhs: Any, rhs: Any, t: Type, path: Path) -> Any:
    if rhs is MISSING:
        return lhs
    if lhs is MISSING:
        return rhs
    t = _deduce(t, rhs if rhs is not None else lhs)
    if _leaf(t, lhs, rhs) or _deduce(t, lhs) is not t:
        return rhs
    if t.kind == LIST_KIND:
        return _merge_lists(lhs if isinstance(lhs, list) else [], rhs if isinstance(rhs, list) else [], t, path)
    lm = lhs if isinstance(lhs, dict) else {}
    rm = rhs if isinstance(rhs, dict) else {}
    out: dict[str, Any] = {}
    for k in {**lm, **rm}:
        merged = _merge(lm.get(k, MISSING), rm.get(k, MISSING), t.member(k), (*path, fieldpath.field(k)))
        if merged is not MISSING:
            out[k] = merged
    return out


def _index(t: Type, items: list[Any], path: Path, allow_duplicates: bool) -> tuple[list[str], dict[str, Any]]:
    pes: list[str] = []
    observed: dict[str, Any] = {}
    for item in items:
        pe = item_element(t, item, path)
        if pe in observed:
            if not allow_duplicates:
                raise TypedError(path, f"duplicate entries for key {fieldpath.element_string(pe)}")
            observed[pe] = MISSING  # duplicated items are not merged with the new value
        else:
            observed[pe] = item
        pes.append(pe)
    return pes, observed


def _merge_lists(lhs: list[Any], rhs: list[Any], t: Type, path: Path) -> list[Any]:
    """visitListItems of the merging walker: rhs order wins for the elements both have,
    lhs-only elements keep their place relative to them."""
    rhs_pes, observed_rhs = _index(t, rhs, path, False)
    lhs_pes, observed_lhs = _index(t, lhs, path, True)
    shared = [pe for pe in rhs_pes if pe in observed_lhs]
    shared.reverse()
    next_shared = shared.pop() if shared else None
    merged_rhs: set[str] = set()
    out: list[Any] = []
    li = ri = 0
    l_len, r_len = len(lhs_pes), len(rhs_pes)
    while li < l_len or ri < r_len:
        if li < l_len and ri < r_len:
            pe = lhs_pes[li]
            if pe == rhs_pes[ri]:
                merged_rhs.add(pe)
                out.append(_merge(observed_lhs.get(pe, MISSING), observed_rhs[pe], t.elem, (*path, pe)))
                li += 1
                ri += 1
                next_shared = shared.pop() if shared else None
                continue
            if pe in observed_rhs and next_shared is not None and next_shared != pe:
                li += 1  # a shared element, but not the one this round wants
                continue
        if li < l_len:
            pe = lhs_pes[li]
            if pe not in observed_rhs:
                out.append(_merge(lhs[li], MISSING, t.elem, (*path, pe)))
                li += 1
                continue
            if pe in merged_rhs:
                li += 1
        if ri < r_len:
            pe = rhs_pes[ri]
            merged_rhs.add(pe)
            out.append(_merge(observed_lhs.get(pe, MISSING), observed_rhs[pe], t.elem, (*path, pe)))
            ri += 1
            if next_shared is not None and next_shared == pe:
                next_shared = shared.pop() if shared else None
    return out


# --------------------------------------------------------------------------- removal


def remove_items(v: Any, items: fieldpath.Set, t: Type) -> Any:
    """`v` without the paths in `items` (TypedValue.RemoveItems); an emptied list or
    map becomes null, as upstream's walker leaves it."""
    return _remove(v, items, t)


def _remove(v: Any, items: fieldpath.Set, t: Type) -> Any:
    t = _deduce(t, v)
    if t.kind == SCALAR_KIND:
        return v
    if t.kind == LIST_KIND:
        if not isinstance(v, list) or not v or t.atomic:
            return None
        new_items = []
        for item in v:
            pe = item_element(t, item, ())
            if pe in items.members:
                continue
            sub = items.children.get(pe)
            if sub is not None and not sub.empty():
                item = _remove(item, sub, t.elem)
            new_items.append(item)
        return new_items or None
    if not isinstance(v, dict) or not v or t.atomic:
        return None
    out: dict[str, Any] = {}
    for k, item in v.items():
        pe = fieldpath.field(k)
        if pe in items.members:
            continue
        sub = items.children.get(pe)
        if sub is not None and not sub.empty():
            item = _remove(item, sub, t.member(k))
        out[k] = item
    return out or None


# --------------------------------------------------------------------------- Go's shape


def zero_object(t: Type) -> dict[str, Any]:
    """What an empty object of a struct type looks like when Go writes it: its
    non-pointer struct members as {} (recursively) and its non-omitempty lists and
    maps as null. Field ownership depends on it: a member present on both sides is
    modified, not added (the comparison assumes these members in any struct it
    walks, see Type.zero_map)."""
    out: dict[str, Any] = {}
    for name, zero in t.zero:
        out[name] = zero_object(t.member(name)) if zero == {} else None
    return out


def prune_nulls(v: Any) -> Any:
    """`v` without null members (Go decodes them into zero values, which are omitted)."""
    if isinstance(v, dict):
        return {k: prune_nulls(x) for k, x in v.items() if x is not None}
    if isinstance(v, list):
        return [prune_nulls(x) for x in v]
    return v
