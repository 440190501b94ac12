"""A small harness for server-side apply tables, after structured-merge-diff's internal/fixture.

A case is a list of operations (Apply, ForceApply, Update) run against one live object
with an Updater, then the live object and the managers are compared with what the
case expects. Schemas are written in structured-merge-diff's own schema language
(`types: [{name, map|list|scalar}]`), which `parse_schema` turns into ssa Types, so
the ported tables keep their schemas as upstream wrote them.
"""
from __future__ import annotations

import dataclasses
import textwrap
from collections.abc import Callable
from typing import Any

import yaml

from minik8s.api.ssa import fieldpath
from minik8s.api.ssa import merge
from minik8s.api.ssa import typed


def parse_schema(doc: str) -> dict[str, typed.Type]:
    """Named Types from a structured-merge-diff schema document."""
    defs = {d["name"]: d for d in yaml.safe_load(doc)["types"]}
    out: dict[str, typed.Type] = {}

    def ref(r: dict[str, Any]) -> typed.Type:
        if "namedType" in r:
            name = r["namedType"]
            if name == "__untyped_atomic_":
                return typed.UNTYPED_ATOMIC
            if name == "__untyped_deduced_":
                return typed.DEDUCED
            if r.get("elementRelationship") == "atomic":
                return atom(defs[name], force_atomic=True)
            return named(name)
        return atom(r)

    def atom(d: dict[str, Any], force_atomic: bool = False) -> typed.Type:
        if "scalar" in d:
            return typed.UNTYPED_ATOMIC if d["scalar"] == "untyped" else typed.SCALAR
        if "list" in d:
            spec = d["list"]
            elem = spec.get("elementType") or {"namedType": "__untyped_atomic_"}
            return typed.list_of(ref(elem), atomic=force_atomic or spec.get("elementRelationship") != "associative",
                                 keys=tuple(spec.get("keys") or ()))
        spec = d["map"]
        atomic = force_atomic or spec.get("elementRelationship") == "atomic"
        if "fields" in spec:
            fields = spec["fields"]
            built: dict[str, Any] = {}

            def build() -> tuple[dict[str, typed.Type], tuple[tuple[str, Any], ...]]:
                if not built:
                    built["f"] = {f["name"]: ref(f["type"]) for f in fields}
                return built["f"], ()
            elem = spec.get("elementType")
            return typed.Type(typed.MAP_KIND, atomic=atomic, fields=build,
                              elem=(lambda: ref(elem)) if elem else None)
        return typed.Type(typed.MAP_KIND, atomic=atomic,
                          elem=lambda: ref(spec.get("elementType") or {"namedType": "__untyped_deduced_"}))

    def named(name: str) -> typed.Type:
        if name not in out:
            out[name] = atom(defs[name])
        return out[name]

    for name in defs:
        named(name)
    return out


def P(*parts: Any) -> fieldpath.Path:
    """A path: strings are fields; KBF(...) and V(...) make keys and set values."""
    return tuple(p if isinstance(p, _Element) else fieldpath.field(p) for p in parts)


class _Element(str):
    pass


def KBF(*name_values: Any) -> _Element:
    return _Element(fieldpath.key(dict(zip(name_values[::2], name_values[1::2]))))


def V(v: Any) -> _Element:
    return _Element(fieldpath.value(v))


def NS(*paths: fieldpath.Path) -> fieldpath.Set:
    return fieldpath.Set.of(*paths)


def obj(text: str) -> Any:
    return yaml.safe_load(textwrap.dedent(text))


@dataclasses.dataclass
class Apply:
    manager: str
    version: str
    object: str
    conflicts: list[tuple[str, fieldpath.Path]] | None = None
    force: bool = False


def ForceApply(manager: str, version: str, object: str) -> Apply:
    return Apply(manager, version, object, force=True)


@dataclasses.dataclass
class Update:
    manager: str
    version: str
    object: str


@dataclasses.dataclass
class State:
    updater: merge.Updater
    live: Any = None
    managers: merge.ManagedFields = dataclasses.field(default_factory=dict)
    version: str = ""

    def run(self, op: Apply | Update) -> None:
        if self.version:
            self.live = self.updater.converter(self.live, self.version, op.version)
        self.version = op.version
        value = obj(op.object)
        if isinstance(op, Update):
            typed.validate(value, self.updater.type_for(op.version), allow_duplicates=True)
            self.live, self.managers = self.updater.update(self.live, value, op.version, self.managers, op.manager)
            return
        typed.validate(value, self.updater.type_for(op.version))
        try:
            new, managers = self.updater.apply(self.live, value, op.version, self.managers, op.manager, op.force)
        except merge.Conflicts as e:
            if op.conflicts is None:
                raise
            got = {(c.manager, c.path) for c in e.conflicts}
            assert got == set(op.conflicts), (got, op.conflicts)
            return
        assert not op.conflicts, f"expected conflicts {op.conflicts}"
        self.managers = managers
        self.live = new


def run_case(type_for: Callable[[str], typed.Type], ops: list[Apply | Update], *, object: str | None,
             version: str, managed: dict[str, tuple[fieldpath.Set, str]] | None,
             converter: merge.Converter = merge.same_version,
             ignored: dict[str, fieldpath.Set] | None = None) -> State:
    state = State(merge.Updater(type_for, converter, ignored))
    for op in ops:
        state.run(op)
    if object is not None:
        live = state.updater.converter(state.live, state.version, version) if state.version else state.live
        assert live == obj(object), f"live:\n{yaml.safe_dump(live)}\nexpected:\n{textwrap.dedent(object)}"
    if managed is not None:
        got = {m: (vs.set, vs.api_version) for m, vs in state.managers.items()}
        assert got == managed, f"managers:\n{_show(got)}\nexpected:\n{_show(managed)}"
    for manager, vs in state.managers.items():
        assert not vs.set.empty(), f"{manager} has an empty set"
    return state


def _show(m: dict[str, tuple[fieldpath.Set, str]]) -> str:
    return "\n".join(f"{k} ({v}): {[fieldpath.path_string(p) for p in s.paths()]}" for k, (s, v) in sorted(m.items()))
