"""The server-side apply updater against structured-merge-diff's own tables (merge/*_test.go).

Each case keeps upstream's name, schema, operations and expectations: leaf fields, sets,
associative lists, nested lists and maps, several appliers (with the removal of what an
applier stops applying), atomic maps, ignored (reset) fields and field renames across
versions.
"""
from __future__ import annotations

import itertools
from typing import Any

import pytest

from minik8s.api.ssa import merge
from tests.unit.ssa_fixture import KBF, NS, Apply, ForceApply, P, Update, V, parse_schema, run_case

LEAF = parse_schema("""
types:
- name: leafFields
  map:
    fields:
    - {name: numeric, type: {scalar: numeric}}
    - {name: string, type: {scalar: string}}
    - {name: bool, type: {scalar: boolean}}
""")["leafFields"]

SETS = parse_schema("""
types:
- name: sets
  map:
    fields:
    - name: list
      type: {list: {elementType: {scalar: string}, elementRelationship: associative}}
""")["sets"]

ASSOCIATIVE = parse_schema("""
types:
- name: type
  map:
    fields:
    - {name: list, type: {namedType: associativeList}}
- name: associativeList
  list:
    elementType: {namedType: myElement}
    elementRelationship: associative
    keys: [name]
- name: myElement
  map:
    fields:
    - {name: name, type: {scalar: string}}
    - {name: value, type: {scalar: numeric}}
""")["type"]

NESTED = parse_schema("""
types:
- name: type
  map:
    fields:
    - {name: listOfLists, type: {namedType: listOfLists}}
    - {name: listOfMaps, type: {namedType: listOfMaps}}
    - {name: mapOfLists, type: {namedType: mapOfLists}}
    - {name: mapOfMaps, type: {namedType: mapOfMaps}}
    - {name: mapOfMapsRecursive, type: {namedType: mapOfMapsRecursive}}
    - {name: struct, type: {namedType: struct}}
- name: struct
  map:
    fields:
    - {name: name, type: {scalar: string}}
    - {name: value, type: {scalar: numeric}}
- name: listOfLists
  list:
    elementType:
      map:
        fields:
        - {name: name, type: {scalar: string}}
        - {name: value, type: {namedType: list}}
    elementRelationship: associative
    keys: [name]
- name: list
  list: {elementType: {scalar: string}, elementRelationship: associative}
- name: listOfMaps
  list:
    elementType:
      map:
        fields:
        - {name: name, type: {scalar: string}}
        - {name: value, type: {namedType: map}}
    elementRelationship: associative
    keys: [name]
- name: map
  map: {elementType: {scalar: string}, elementRelationship: associative}
- name: mapOfLists
  map: {elementType: {namedType: list}, elementRelationship: associative}
- name: mapOfMaps
  map: {elementType: {namedType: map}, elementRelationship: associative}
- name: mapOfMapsRecursive
  map: {elementType: {namedType: mapOfMapsRecursive}, elementRelationship: associative}
""")["type"]

ATOMIC_MAP = parse_schema("""
types:
- name: v1
  map:
    fields:
    - {name: atomicMap, type: {namedType: atomicMap}}
- name: atomicMap
  map:
    fields:
    - {name: field1, type: {scalar: string}}
    - {name: field2, type: {scalar: string}}
    elementRelationship: atomic
""")["v1"]


def same(t: Any) -> Any:
    return lambda _version: t


# --------------------------------------------------------------------------- leaf_test.go

LEAF_CASES: dict[str, dict[str, Any]] = {
    "apply_twice": dict(
        ops=[Apply("default", "v1", "numeric: 1\nstring: string\n"),
             Apply("default", "v1", "numeric: 2\nstring: string\nbool: false\n")],
        object="numeric: 2\nstring: string\nbool: false\n", version="v1",
        managed={"default": (NS(P("numeric"), P("string"), P("bool")), "v1")}),
    "apply_twice_different_versions": dict(
        ops=[Apply("default", "v1", "numeric: 1\nstring: string\n"),
             Apply("default", "v2", "numeric: 2\nstring: string\nbool: false\n")],
        object="numeric: 2\nstring: string\nbool: false\n", version="v1",
        managed={"default": (NS(P("numeric"), P("string"), P("bool")), "v2")}),
    "apply_update_apply_no_conflict": dict(
        ops=[Apply("default", "v1", "numeric: 1\nstring: string\n"),
             Update("controller", "v1", "numeric: 1\nstring: string\nbool: true\n"),
             Apply("default", "v1", "numeric: 2\nstring: string\n")],
        object="numeric: 2\nstring: string\nbool: true\n", version="v1",
        managed={"default": (NS(P("numeric"), P("string")), "v1"), "controller": (NS(P("bool")), "v1")}),
    "apply_update_apply_with_conflict": dict(
        ops=[Apply("default", "v1", "numeric: 1\nstring: string\n"),
             Update("controller", "v1", "numeric: 1\nstring: controller string\nbool: true\n"),
             Apply("default", "v1", "numeric: 2\nstring: user string\n", conflicts=[("controller", P("string"))]),
             ForceApply("default", "v1", "numeric: 2\nstring: user string\n")],
        object="numeric: 2\nstring: user string\nbool: true\n", version="v1",
        managed={"default": (NS(P("numeric"), P("string")), "v1"), "controller": (NS(P("bool")), "v1")}),
    "apply_update_apply_with_conflict_across_version": dict(
        ops=[Apply("default", "v1", "numeric: 1\nstring: string\n"),
             Update("controller", "v2", "numeric: 1\nstring: controller string\nbool: true\n"),
             Apply("default", "v1", "numeric: 2\nstring: user string\n", conflicts=[("controller", P("string"))]),
             ForceApply("default", "v1", "numeric: 2\nstring: user string\n")],
        object="numeric: 2\nstring: user string\nbool: true\n", version="v1",
        managed={"default": (NS(P("numeric"), P("string")), "v1"), "controller": (NS(P("bool")), "v2")}),
    "apply_twice_remove": dict(
        ops=[Apply("default", "v1", "numeric: 1\nstring: string\nbool: false\n"),
             Apply("default", "v1", "string: new string\n")],
        object="string: new string\n", version="v1", managed={"default": (NS(P("string")), "v1")}),
    "update_apply_omits": dict(
        ops=[Apply("default", "v1", "numeric: 2\n"), Update("controller", "v1", "numeric: 1\n"),
             Apply("default", "v1", "")],
        object="numeric: 1\n", version="v1", managed={"controller": (NS(P("numeric")), "v1")}),
    "apply_twice_remove_different_version": dict(
        ops=[Apply("default", "v1", "numeric: 1\nstring: string\nbool: false\n"),
             Apply("default", "v2", "string: new string\n")],
        object="string: new string\n", version="v1", managed={"default": (NS(P("string")), "v2")}),
    "update_remove_empty_set": dict(
        ops=[Apply("default", "v1", "string: string\n"), Update("controller", "v1", "string: new string\n")],
        object="string: new string\n", version="v1", managed={"controller": (NS(P("string")), "v1")}),
    "apply_remove_empty_set": dict(
        ops=[Apply("default", "v1", "string: string\n"), Apply("default", "v1", "")],
        object="", version="v1", managed={}),
}


@pytest.mark.parametrize("name", sorted(LEAF_CASES))
def test_leaf(name: str) -> None:
    run_case(same(LEAF), **LEAF_CASES[name])


# --------------------------------------------------------------------------- set_test.go

SET_CASES: dict[str, dict[str, Any]] = {
    "apply_twice": dict(
        ops=[Apply("default", "v1", "list: [a, c]"), Apply("default", "v1", "list: [a, b, c, d]")],
        object="list: [a, b, c, d]", version="v1",
        managed={"default": (NS(*(P("list", V(x)) for x in "abcd")), "v1")}),
    "apply_update_apply_no_overlap": dict(
        ops=[Apply("default", "v1", "list: [a, c]"), Update("controller", "v1", "list: [a, b, c, d]"),
             Apply("default", "v1", "list: [a, aprime, c, cprime]")],
        object="list: [a, b, aprime, c, d, cprime]", version="v1",
        managed={"default": (NS(*(P("list", V(x)) for x in ("a", "aprime", "c", "cprime"))), "v1"),
                 "controller": (NS(P("list", V("b")), P("list", V("d"))), "v1")}),
    "apply_update_apply_with_overlap": dict(
        ops=[Apply("default", "v1", "list: [a, c]"), Update("controller", "v1", "list: [a, b, c, d]"),
             Apply("default", "v1", "list: [a, b, c]")],
        object="list: [a, b, c, d]", version="v1",
        managed={"default": (NS(*(P("list", V(x)) for x in "abc")), "v1"),
                 "controller": (NS(P("list", V("b")), P("list", V("d"))), "v1")}),
    "apply_twice_reorder": dict(
        ops=[Apply("default", "v1", "list: [a, b, c, d]"), Apply("default", "v1", "list: [a, d, c, b]")],
        object="list: [a, d, c, b]", version="v1",
        managed={"default": (NS(*(P("list", V(x)) for x in "abcd")), "v1")}),
    "apply_update_apply_reorder": dict(
        ops=[Apply("default", "v1", "list: [a, b, c, d]"), Update("controller", "v1", "list: [a, d, c, b]"),
             Apply("default", "v1", "list: [a, b, c, d]")],
        object="list: [a, b, c, d]", version="v1",
        managed={"default": (NS(*(P("list", V(x)) for x in "abcd")), "v1")}),
}


@pytest.mark.parametrize("name", sorted(SET_CASES))
def test_set(name: str) -> None:
    run_case(same(SETS), **SET_CASES[name])


# --------------------------------------------------------------------------- key_test.go, multiple_appliers_test.go


def test_removing_obsolete_applied_structs() -> None:
    run_case(same(ASSOCIATIVE), [Apply("default", "v1", "list: [{name: a, value: 1}]"),
                                 Apply("default", "v1", "list: [{name: b, value: 2}]")],
             object="list: [{name: b, value: 2}]", version="v1",
             managed={"default": (NS(P("list", KBF("name", "b")), P("list", KBF("name", "b"), "name"),
                                     P("list", KBF("name", "b"), "value")), "v1")})


def _names(*names: str) -> Any:
    out = []
    for n in names:
        out += [P("list", KBF("name", n)), P("list", KBF("name", n), "name")]
    return NS(*out)


MULTIPLE_APPLIERS_SET: dict[str, dict[str, Any]] = {
    "remove_one": dict(
        ops=[Apply("apply-one", "v1", "list: [{name: a}, {name: b}]"),
             Apply("apply-two", "v2", "list: [{name: c}]"),
             Apply("apply-one", "v3", "list: [{name: a}]")],
        object="list: [{name: a}, {name: c}]", version="v1",
        managed={"apply-one": (_names("a"), "v3"), "apply-two": (_names("c"), "v2")}),
    "same_value_no_conflict": dict(
        ops=[Apply("apply-one", "v1", "list: [{name: a, value: 0}]"),
             Apply("apply-two", "v2", "list: [{name: a, value: 0}]")],
        object="list: [{name: a, value: 0}]", version="v1",
        managed={"apply-one": (_names("a").union(NS(P("list", KBF("name", "a"), "value"))), "v1"),
                 "apply-two": (_names("a").union(NS(P("list", KBF("name", "a"), "value"))), "v2")}),
    "change_value_yes_conflict": dict(
        ops=[Apply("apply-one", "v1", "list: [{name: a, value: 0}]"),
             Apply("apply-two", "v2", "list: [{name: a, value: 1}]",
                   conflicts=[("apply-one", P("list", KBF("name", "a"), "value"))])],
        object="list: [{name: a, value: 0}]", version="v1",
        managed={"apply-one": (_names("a").union(NS(P("list", KBF("name", "a"), "value"))), "v1")}),
    "remove_one_keep_one": dict(
        ops=[Apply("apply-one", "v1", "list: [{name: a}, {name: b}, {name: c}]"),
             Apply("apply-two", "v2", "list: [{name: c}, {name: d}]"),
             Apply("apply-one", "v3", "list: [{name: a}]")],
        object="list: [{name: a}, {name: c}, {name: d}]", version="v1",
        managed={"apply-one": (_names("a"), "v3"), "apply-two": (_names("c", "d"), "v2")}),
}


@pytest.mark.parametrize("name", sorted(MULTIPLE_APPLIERS_SET))
def test_multiple_appliers_set(name: str) -> None:
    run_case(same(ASSOCIATIVE), **MULTIPLE_APPLIERS_SET[name])


def _lol(name: str, *values: str) -> list[Any]:
    paths = [P("listOfLists", KBF("name", name)), P("listOfLists", KBF("name", name), "name")]
    return paths + [P("listOfLists", KBF("name", name), "value", V(v)) for v in values]


NESTED_CASES: dict[str, dict[str, Any]] = {
    "remove_one_keep_one_with_two_sub_items": dict(
        ops=[Apply("apply-one", "v1", "listOfLists: [{name: a}, {name: b, value: [c]}]"),
             Apply("apply-two", "v2", "listOfLists: [{name: b, value: [d]}]"),
             Apply("apply-one", "v3", "listOfLists: [{name: a}]")],
        object="listOfLists: [{name: a}, {name: b, value: [d]}]", version="v1",
        managed={"apply-one": (NS(*_lol("a")), "v3"), "apply-two": (NS(*_lol("b", "d")), "v2")}),
    "remove_one_keep_one_with_dangling_subitem": dict(
        ops=[Apply("apply-one", "v1", "listOfLists: [{name: a}, {name: b, value: [c]}]"),
             Apply("apply-two", "v2", "listOfLists: [{name: b, value: [d]}]"),
             Update("controller", "v2", "listOfLists: [{name: a}, {name: b, value: [c, d, e]}]"),
             Apply("apply-one", "v3", "listOfLists: [{name: a}]")],
        object="listOfLists: [{name: a}, {name: b, value: [d, e]}]", version="v1",
        managed={"apply-one": (NS(*_lol("a")), "v3"), "apply-two": (NS(*_lol("b", "d")), "v2"),
                 "controller": (NS(P("listOfLists", KBF("name", "b"), "value", V("e"))), "v2")}),
    "remove_one_with_dangling_subitem_keep_one": dict(
        ops=[Apply("apply-one", "v1", "listOfLists: [{name: a}, {name: b, value: [c]}]"),
             Apply("apply-two", "v2", "listOfLists: [{name: a, value: [b]}]"),
             Update("controller", "v2", "listOfLists: [{name: a, value: [b]}, {name: b, value: [c, d]}]"),
             Apply("apply-one", "v3", "listOfLists: [{name: a}]")],
        object="listOfLists: [{name: a, value: [b]}]", version="v1",
        managed={"apply-one": (NS(*_lol("a")), "v3"), "apply-two": (NS(*_lol("a", "b")), "v2")}),
    "remove_one_keep_one_with_sub_item": dict(
        ops=[Apply("apply-one", "v1", "listOfLists: [{name: a}, {name: b, value: [c]}]"),
             Apply("apply-two", "v2", "listOfLists: [{name: b, value: [d]}]"),
             Apply("apply-one", "v3", "listOfLists: [{name: a}]")],
        object="listOfLists: [{name: a}, {name: b, value: [d]}]", version="v1",
        managed={"apply-one": (NS(*_lol("a")), "v3"), "apply-two": (NS(*_lol("b", "d")), "v2")}),
    "multiple_appliers_recursive_map": dict(
        ops=[Apply("apply-one", "v1", "mapOfMapsRecursive: {a: {b: null}, c: {d: null}}"),
             Apply("apply-two", "v2", "mapOfMapsRecursive: {a: null, c: {d: null}}"),
             Update("controller-one", "v3", "mapOfMapsRecursive: {a: {b: {c: null}}, c: {d: {e: null}}}"),
             Update("controller-two", "v2",
                    "mapOfMapsRecursive: {a: {b: {c: {d: null}}}, c: {d: {e: {f: null}}}}"),
             Update("controller-one", "v3",
                    "mapOfMapsRecursive: {a: {b: {c: {d: {e: null}}}}, c: {d: {e: {f: {g: null}}}}}"),
             Apply("apply-one", "v4", "mapOfMapsRecursive: null")],
        object="mapOfMapsRecursive: {a: null, c: {d: {e: {f: {g: null}}}}}", version="v1",
        managed={"apply-one": (NS(P("mapOfMapsRecursive")), "v4"),
                 "apply-two": (NS(P("mapOfMapsRecursive", "a"), P("mapOfMapsRecursive", "c"),
                                  P("mapOfMapsRecursive", "c", "d")), "v2"),
                 "controller-one": (NS(P("mapOfMapsRecursive", "c", "d", "e"),
                                       P("mapOfMapsRecursive", "c", "d", "e", "f", "g")), "v3"),
                 "controller-two": (NS(P("mapOfMapsRecursive", "c", "d", "e", "f")), "v2")}),
    "mapOfMapsRecursive_change_middle_key": dict(
        ops=[Apply("default", "v1", "mapOfMapsRecursive: {a: {b: {c: null}}}"),
             Apply("default", "v1", "mapOfMapsRecursive: {a: {d: {c: null}}}")],
        object="mapOfMapsRecursive: {a: {d: {c: null}}}", version="v1",
        managed={"default": (NS(P("mapOfMapsRecursive", "a"), P("mapOfMapsRecursive", "a", "d"),
                                P("mapOfMapsRecursive", "a", "d", "c")), "v1")}),
    "listOfLists_change_value": dict(
        ops=[Apply("default", "v1", "listOfLists: [{name: a, value: [b, c]}]"),
             Apply("default", "v1", "listOfLists: [{name: a, value: [a, c]}]")],
        object="listOfLists: [{name: a, value: [a, c]}]", version="v1",
        managed={"default": (NS(*_lol("a", "a", "c")), "v1")}),
    "struct_apply_remove_all": dict(
        ops=[Apply("default", "v1", "struct: {name: a, value: 1}"), Apply("default", "v1", "")],
        object="", version="v1", managed={}),
    "struct_apply_remove_dangling": dict(
        ops=[Apply("default", "v1", "struct: {name: a}"), Apply("default", "v1", "struct: null")],
        object="struct: null", version="v1", managed={"default": (NS(P("struct")), "v1")}),
    "struct_apply_update_remove_all": dict(
        ops=[Apply("default", "v1", "struct: {name: a}"), Update("controller", "v1", "struct: {name: a, value: 1}"),
             Apply("default", "v1", "")],
        object="struct: {value: 1}", version="v1", managed=None),
    "struct_apply_update_dict_dangling": dict(
        ops=[Apply("default", "v1", "struct: {name: a}"), Update("controller", "v1", "struct: {name: a, value: 1}"),
             Apply("default", "v1", "struct: {}")],
        object="struct: {value: 1}", version="v1", managed=None),
    "struct_apply_update_dict_null": dict(
        ops=[Apply("default", "v1", "struct: {name: a}"), Update("controller", "v1", "struct: {name: a, value: 1}"),
             Apply("default", "v1", "struct: null")],
        object="struct: {value: 1}", version="v1", managed=None),
    "struct_apply_update_took_over": dict(
        ops=[Apply("default", "v1", "struct: {name: a}"), Update("controller", "v1", "struct: {name: b, value: 1}"),
             Apply("default", "v1", "struct: null")],
        object="struct: {name: b, value: 1}", version="v1", managed=None),
}


@pytest.mark.parametrize("name", sorted(NESTED_CASES))
def test_nested(name: str) -> None:
    run_case(same(NESTED), **NESTED_CASES[name])


def test_atomic_map_force() -> None:
    run_case(same(ATOMIC_MAP), [
        Apply("apply-one", "v1", "atomicMap: {field1: a}"),
        Apply("apply-two", "v1", "atomicMap: {field2: b}", conflicts=[("apply-one", P("atomicMap"))]),
        ForceApply("apply-two", "v1", "atomicMap: {field2: b}"),
    ], object="atomicMap: {field2: b}", version="v1", managed={"apply-two": (NS(P("atomicMap")), "v1")})


# --------------------------------------------------------------------------- ignore_test.go


@pytest.mark.parametrize("op", [Update, Apply])
def test_ignored_fields_are_not_owned(op: Any) -> None:
    from minik8s.api.ssa import typed
    run_case(same(typed.DEDUCED), [op("default", "v1", "numeric: 1\nstring: some string\n")],
             object="numeric: 1\nstring: some string\n", version="v1",
             managed={"default": (NS(P("numeric")), "v1")}, ignored={"v1": NS(P("string"))})
    run_case(same(typed.DEDUCED), [op("default", "v1", '{"numeric": 1, "obj": {"string": "foo", "numeric": 2}}')],
             object='{"numeric": 1, "obj": {"string": "foo", "numeric": 2}}', version="v1",
             managed={"default": (NS(P("numeric")), "v1")}, ignored={"v1": NS(P("obj"))})


# --------------------------------------------------------------------------- field renames across versions

STRUCT_MULTIVERSION = parse_schema("""
types:
- name: v1
  map:
    fields:
    - {name: struct, type: {namedType: struct}}
    - {name: version, type: {scalar: string}}
- name: struct
  map:
    fields:
    - {name: name, type: {scalar: string}}
    - {name: scalarField_v1, type: {scalar: string}}
    - {name: complexField_v1, type: {namedType: complex}}
- name: complex
  map:
    fields:
    - {name: name, type: {scalar: string}}
- name: v2
  map:
    fields:
    - {name: struct, type: {namedType: struct_v2}}
    - {name: version, type: {scalar: string}}
- name: struct_v2
  map:
    fields:
    - {name: name, type: {scalar: string}}
    - {name: scalarField_v2, type: {scalar: string}}
    - {name: complexField_v2, type: {namedType: complex}}
- name: v3
  map:
    fields:
    - {name: struct, type: {namedType: struct_v3}}
    - {name: version, type: {scalar: string}}
- name: struct_v3
  map:
    fields:
    - {name: name, type: {scalar: string}}
    - {name: scalarField_v3, type: {scalar: string}}
    - {name: complexField_v3, type: {namedType: complex}}
""")


def _rename(v: Any, old: str, new: str) -> Any:
    if isinstance(v, dict):
        return {(k[: -len(old)] + new if k.endswith(old) else k): _rename(x, old, new) for k, x in v.items()}
    if isinstance(v, list):
        return [_rename(x, old, new) for x in v]
    return v


def renaming(obj: Any, from_version: str, to_version: str) -> Any:
    return _rename(obj, from_version, to_version)


def _unsetting_cases(v1: str, v2: str, v3: str) -> dict[str, dict[str, Any]]:
    return {
        "unset_scalar_sole_owner": dict(
            ops=[Apply("apply-one", v1, f"struct: {{name: a, scalarField_{v1}: a}}"),
                 Apply("apply-one", v2, "struct: {name: a}")],
            object="struct: {name: a}", version=v3, managed={"apply-one": (NS(P("struct", "name")), v2)}),
        "unset_scalar_shared_with_applier": dict(
            ops=[Apply("apply-one", v1, f"struct: {{name: a, scalarField_{v1}: a}}"),
                 Apply("apply-two", v2, f"struct: {{scalarField_{v2}: a}}"),
                 Apply("apply-one", v3, "struct: {name: a}")],
            object=f"struct: {{name: a, scalarField_{v3}: a}}", version=v3,
            managed={"apply-one": (NS(P("struct", "name")), v3),
                     "apply-two": (NS(P("struct", f"scalarField_{v2}")), v2)}),
        "unset_scalar_shared_with_updater": dict(
            ops=[Update("updater", v1, f"struct: {{name: a, scalarField_{v1}: a}}"),
                 Apply("applier", v2, f"struct: {{name: a, scalarField_{v2}: a}}"),
                 Apply("applier", v3, "struct: {name: a}")],
            object=f"struct: {{name: a, scalarField_{v3}: a}}", version=v3,
            managed={"updater": (NS(P("struct"), P("struct", "name"), P("struct", f"scalarField_{v1}")), v1),
                     "applier": (NS(P("struct", "name")), v3)}),
        "updater_claims_field": dict(
            ops=[Apply("applier", v1, f"struct: {{name: a, scalarField_{v1}: a}}"),
                 Update("updater", v2, f"struct: {{name: a, scalarField_{v2}: b}}")],
            object=f"struct: {{name: a, scalarField_{v3}: b}}", version=v3,
            managed={"updater": (NS(P("struct", f"scalarField_{v2}")), v2),
                     "applier": (NS(P("struct", "name")), v1)}),
        "unset_complex_sole_owner": dict(
            ops=[Apply("apply-one", v1, f"struct: {{name: a, complexField_{v1}: {{name: b}}}}"),
                 Apply("apply-one", v2, "struct: {name: a}")],
            object="struct: {name: a}", version=v3, managed={"apply-one": (NS(P("struct", "name")), v2)}),
        "unset_complex_shared_with_applier": dict(
            ops=[Apply("apply-one", v1, f"struct: {{name: a, complexField_{v1}: {{name: b}}}}"),
                 Apply("apply-two", v2, f"struct: {{complexField_{v2}: {{name: b}}}}"),
                 Apply("apply-one", v3, "struct: {name: a}")],
            object=f"struct: {{name: a, complexField_{v3}: {{name: b}}}}", version=v3,
            managed={"apply-one": (NS(P("struct", "name")), v3),
                     "apply-two": (NS(P("struct", f"complexField_{v2}", "name")), v2)}),
    }


@pytest.mark.parametrize("versions", list(itertools.product(("v1", "v2", "v3"), repeat=3)),
                         ids=lambda v: "-".join(v))
def test_multiple_appliers_field_unsetting(versions: tuple[str, str, str]) -> None:
    for name, case in _unsetting_cases(*versions).items():
        try:
            run_case(STRUCT_MULTIVERSION.__getitem__, converter=renaming, **case)
        except AssertionError as e:
            raise AssertionError(f"{name}: {e}") from None


def test_conflicts_message_groups_by_manager() -> None:
    c = merge.Conflicts([merge.Conflict("b", P("x")), merge.Conflict("a", P("y", KBF("name", "n"))),
                         merge.Conflict("a", P("z", V("v")))])
    assert c.describe() == 'conflicts with "a":\n- .y[name="n"]\n- .z[="v"]\nconflicts with "b":\n- .x'
    one = merge.Conflicts([merge.Conflict("m", P("spec", "replicas"))])
    assert one.describe() == 'conflict with "m": .spec.replicas'
