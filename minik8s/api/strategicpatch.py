"""Strategic merge patch, as kube-apiserver applies it.

kubectl's `apply`/`edit`/`set`/`patch` send strategic merge patches, whose list
handling depends on the Go struct tags `patchStrategy` and `patchMergeKey` of the
k8s.io/api types. Go finds those by reflection; here they come from the API schema
(minik8s.api.schema), the same declarations that drive protobuf and OpenAPI, as a table
(`TYPES`, `KINDS`) built once at import.

The merge follows k8s.io/apimachinery/pkg/util/strategicpatch/patch.go
(`StrategicMergeMapPatch`, i.e. the server side: parallel lists are merged and nulls that
match nothing are ignored) closely enough that its own test tables pass, including where
list order comes out of Go slice aliasing. Where upstream would store directive keys in
the object, or panic, this module strips them or reports an error instead; kube-apiserver
decodes into Go structs, which drops such keys, while minik8s stores the dicts as they are.
A well-formed patch that cannot be applied is 422 Invalid; a malformed directive is 400
(patch.py says why).
"""
from __future__ import annotations

import copy
import dataclasses
import json
from typing import Any, Callable, Hashable

from minik8s.api import errors
from minik8s.api import resources
from minik8s.api import schema

MERGE = "merge"
REPLACE = "replace"


# --------------------------------------------------------------------------- schema


@dataclasses.dataclass(frozen=True)
class Field:
    """The patch metadata of one struct field: its Go `patchStrategy`/`patchMergeKey`."""

    strategy: str = ""  # MERGE, REPLACE, or "" (objects merge, lists are replaced)
    merge_key: str = ""  # identifies elements of a MERGE list of objects
    # Tagged "retainKeys": clients send a `$retainKeys` directive for this field. The
    # server acts on the directive wherever it appears, so this only documents the tag.
    retain_keys: bool = False
    type: str | None = None  # TYPES entry for the value, or for the elements of a list


_NO_METADATA = Field()


def _from_schema() -> tuple[dict[str, dict[str, Field]], dict[str, str]]:
    """TYPES and KINDS, derived from the API schema (minik8s.api.schema).

    Every definition becomes a type named as in OpenAPI; a field's Go patchStrategy
    tag is its schema's patch_strategy ("merge", "replace", "retainKeys", or a
    combination). A kind served in several versions uses its preferred version's.
    """
    types: dict[str, dict[str, Field]] = {}
    for name, msg in schema.definitions().items():
        fields: dict[str, Field] = {}
        for json_name, f in msg.json_fields.items():
            tags = f.patch_strategy.split(",") if f.patch_strategy else []
            strategy = MERGE if MERGE in tags else REPLACE if REPLACE in tags else ""
            sub = f.message
            fields[json_name] = Field(strategy, f.merge_key, "retainKeys" in tags, sub.name if sub else None)
        types[name] = fields
    types[_DEFAULT_ROOT] = {"metadata": Field(type=schema.meta_v1.OBJECT_META.name)}
    kinds: dict[str, str] = {}
    for (group, version, kind), msg in schema.kinds().items():
        preferred = resources.by_kind(kind)
        if kind not in kinds or (preferred is not None and (preferred.group, preferred.version) == (group, version)):
            kinds[kind] = msg.name
    return types, kinds


_DEFAULT_ROOT = "Object"
# Struct types by OpenAPI name (plus "Object": metadata only), each field with its patch metadata.
TYPES: dict[str, dict[str, Field]]
# The root struct type of each kind with a schema; others are treated as "Object".
KINDS: dict[str, str]
TYPES, KINDS = _from_schema()


def merge_key_table(kind: str) -> dict[str, str]:
    """Every list a strategic merge patch merges for `kind`, as path → merge key.

    Paths are dotted, `[*]` marking list elements; the key is "" for lists of
    primitives, which merge as sets (metadata.finalizers).
    """
    table: dict[str, str] = {}

    def walk(type_name: str | None, prefix: str, seen: frozenset[str]) -> None:
        if type_name is None or type_name in seen:
            return
        for name, meta in TYPES.get(type_name, {}).items():
            path = f"{prefix}.{name}" if prefix else name
            if meta.strategy == MERGE:
                table[path] = meta.merge_key
                walk(meta.type, path + "[*]", seen | {type_name})
            else:
                walk(meta.type, path, seen | {type_name})

    walk(KINDS.get(kind, _DEFAULT_ROOT), "", frozenset())
    return table



def _invalid(message: str) -> errors.StatusError:
    # No details: kubectl then prints "The request is invalid: <message>".
    return errors.StatusError(422, "Invalid", message)


# --------------------------------------------------------------------------- strategic merge

_DIRECTIVE = "$patch"
_DELETE = "delete"
_RETAIN_KEYS = "$retainKeys"
_SET_ELEMENT_ORDER = "$setElementOrder"
_DELETE_FROM_PRIMITIVE_LIST = "$deleteFromPrimitiveList"

# Upstream's mergepatch error texts, kept so messages can be searched for.
_BAD_RETAIN_KEYS = "invalid patch format of retainKeys"
_BAD_SET_ELEMENT_ORDER = "invalid patch format of setElementOrder list"
_BAD_PRIMITIVE_LIST = "invalid patch format of primitive list"
_NO_LIST_OF_LISTS = "lists of lists are not supported"


def strategic_merge_patch(original: dict[str, Any], patch: dict[str, Any], kind: str) -> dict[str, Any]:
    """Apply a strategic merge patch to an object of `kind`, as kube-apiserver does.

    Objects merge recursively and null deletes; lists tagged merge merge by their
    merge key (lists of primitives merge as ordered sets); other lists are replaced.
    Honours `$patch: replace|delete`, `$retainKeys`, `$setElementOrder/<list>` and
    `$deleteFromPrimitiveList/<list>`. Returns a new object; neither argument is modified.
    """
    if not isinstance(patch, dict):
        raise errors.BadRequest("error decoding patch: a strategic merge patch must be a JSON object")
    result = copy.deepcopy(original) if isinstance(original, dict) else {}
    return _merge_map(result, patch, KINDS.get(kind, _DEFAULT_ROOT), "")


def _field(type_name: str | None, key: str) -> Field:
    if type_name is None:
        return _NO_METADATA
    return TYPES.get(type_name, {}).get(key, _NO_METADATA)


def _at(path: str, message: str) -> str:
    return f"{path}: {message}" if path else message


def _child(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _short(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def _is_directive_key(key: str) -> bool:
    return key in (_DIRECTIVE, _RETAIN_KEYS) or key.startswith(
        (_SET_ELEMENT_ORDER, _DELETE_FROM_PRIMITIVE_LIST))


def _strip(value: Any) -> Any:
    """A copy of a patch value taken as it is, as the object would store it.

    Upstream stores such values verbatim and lets decoding into Go structs drop
    directive keys and nulls; list elements carrying `$patch` never survive a merge.
    """
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if v is not None and not _is_directive_key(k)}
    if isinstance(value, list):
        return [_strip(v) for v in value if not (isinstance(v, dict) and _DIRECTIVE in v)]
    return value


def _merge_map(original: dict[str, Any], patch: dict[str, Any], type_name: str | None,
               path: str) -> dict[str, Any]:
    """Merge `patch` into `original` (which is modified and returned)."""
    if _DIRECTIVE in patch:
        directive = patch[_DIRECTIVE]
        if directive == REPLACE:
            replaced: dict[str, Any] = _strip({k: v for k, v in patch.items() if k != _DIRECTIVE})
            return replaced
        if directive == _DELETE:
            return {}
        raise _invalid(_at(path, f"unknown patch type: {directive} in map: {_short(patch)}"))

    patch = dict(patch)  # directives are consumed from this copy
    _apply_retain_keys(original, patch, path)
    _apply_element_orders(original, patch, type_name, path)

    for key, value in patch.items():
        if key.startswith(_DELETE_FROM_PRIMITIVE_LIST):
            target = _directive_target(key, _DELETE_FROM_PRIMITIVE_LIST, _BAD_PRIMITIVE_LIST, path)
            if not isinstance(value, list):
                raise errors.BadRequest(_at(_child(path, key), _BAD_PRIMITIVE_LIST))
            # Deleting from a list that is not there deletes nothing (upstream would
            # store the deletion list itself as the list).
            if isinstance(original.get(target), list):
                original[target] = _delete_from_slice(original[target], value)
            continue
        if value is None:
            original.pop(key, None)
            continue
        meta = _field(type_name, key)
        current = original.get(key)
        if isinstance(current, dict) and isinstance(value, dict) and meta.strategy != REPLACE:
            original[key] = _merge_map(current, value, meta.type, _child(path, key))
        elif isinstance(current, list) and isinstance(value, list) and meta.strategy == MERGE:
            original[key] = _merge_slice(current, value, meta, _child(path, key)).merged
        else:
            original[key] = _strip(value)
    return original


def _directive_target(key: str, prefix: str, bad_format: str, path: str) -> str:
    head, sep, target = key.partition("/")
    if head != prefix or not sep:
        raise errors.BadRequest(_at(_child(path, key), bad_format))
    return target


def _apply_retain_keys(original: dict[str, Any], patch: dict[str, Any], path: str) -> None:
    """`$retainKeys`: drop every key of `original` not listed (upstream applyRetainKeysDirective)."""
    if _RETAIN_KEYS not in patch:
        return
    retain = patch.pop(_RETAIN_KEYS)
    where = _child(path, _RETAIN_KEYS)
    if not isinstance(retain, list) or not all(isinstance(k, str) for k in retain):
        raise errors.BadRequest(_at(where, f"{_BAD_RETAIN_KEYS}: it must be a list of field names"))
    keep = set(retain)
    for key, value in patch.items():
        if value is None or key.startswith((_SET_ELEMENT_ORDER, _DELETE_FROM_PRIMITIVE_LIST)):
            continue
        if key not in keep:
            raise errors.BadRequest(_at(where, f"{_BAD_RETAIN_KEYS}: the patch sets {key!r}, "
                                               f"which is not in {_short(retain)}"))
    for key in [k for k in original if k not in keep]:
        del original[key]


def _apply_element_orders(original: dict[str, Any], patch: dict[str, Any], type_name: str | None,
                          path: str) -> None:
    """`$setElementOrder/<list>`: merge that list now and order it (upstream mergePatchIntoOriginal).

    Precedence: the order list, then the patch list's order, then the live list's
    order for elements only the server has.
    """
    for key in [k for k in patch if k.startswith(_SET_ELEMENT_ORDER)]:
        order = patch.pop(key)
        name = _directive_target(key, _SET_ELEMENT_ORDER, _BAD_SET_ELEMENT_ORDER, path)
        where = _child(path, name)
        if not isinstance(order, list):
            raise errors.BadRequest(_at(_child(path, key), _BAD_SET_ELEMENT_ORDER))
        meta = _field(type_name, name)
        live = original.get(name) if isinstance(original.get(name), list) else None
        # A patch value that is not a list (null deletes) is left to the main loop.
        patch_list = patch.get(name) if isinstance(patch.get(name), list) else None
        identity = _identity_fn(meta.merge_key, where)
        _validate_order(patch_list, order, meta.merge_key, identity, where)

        if live is not None and patch_list is not None:
            if meta.strategy == MERGE:
                merged_slice = _merge_slice(live, patch_list, meta, where)
                merged, server_order = merged_slice.merged, merged_slice.live_view
            else:
                merged, server_order = _strip(patch_list), live
        elif live is not None:
            merged, server_order = live, live
        elif patch_list is not None:
            merged, server_order = _strip(patch_list), []
        else:
            continue
        if patch_list is not None:
            del patch[name]
        order_index = _first_index(order, identity)
        patch_items = [item for item in merged if identity(item) in order_index]
        server_only = [item for item in merged if identity(item) not in order_index]
        original[name] = _normalize_element_order(patch_items, server_only, order_index,
                                                  _first_index(server_order, identity), identity)


def _validate_order(patch_list: list[Any] | None, order: list[Any], merge_key: str,
                    identity: Callable[[Any], Hashable], where: str) -> None:
    """The patch list's elements must appear in the order list, in the same relative order."""
    if not patch_list or not order:
        return
    if merge_key:
        for item in patch_list:
            if not isinstance(item, dict):
                raise _invalid(_at(where, f"expected a map in the merge list, got {_short(item)}"))
        items = [item for item in patch_list if item.get(_DIRECTIVE) != _DELETE]
        for item in order:
            identity(item)  # every order entry must carry the merge key
    else:
        items = patch_list
    patch_index = order_index = 0
    while patch_index < len(items) and order_index < len(order):
        item = items[patch_index]
        if isinstance(item, dict) and _DIRECTIVE in item:
            patch_index += 1
            continue
        if identity(item) == identity(order[order_index]):
            patch_index += 1
        order_index += 1
    if patch_index < len(items):
        raise _invalid(_at(where, f"The order in patch list: {_short(patch_list)} doesn't match "
                                  f"{_SET_ELEMENT_ORDER} list: {_short(order)}"))


@dataclasses.dataclass
class _MergedSlice:
    merged: list[Any]
    # The live list as Go's mergeSlice leaves the caller's slice header seeing it. Go
    # deletes in place and appends into the freed capacity, so the caller's
    # `$setElementOrder` ordering ranks appended elements after the surviving ones;
    # upstream's tests pin the resulting order.
    live_view: list[Any]


def _merge_slice(original: list[Any], patch: list[Any], meta: Field, path: str) -> _MergedSlice:
    """Merge two lists of a MERGE field (upstream mergeSlice)."""
    if not original and not patch:
        return _MergedSlice([], [])
    identity = _identity_fn(meta.merge_key, path)
    if _element_kind(original, patch, path) != "object":
        # Lists of primitives merge as ordered sets.
        identity = _identity
        merged = _dedup(original + patch)
        server_order, patch_order, view = original, patch, list(original)
    else:
        if not meta.merge_key:
            raise _invalid(_at(path, "cannot merge lists without merge key for type map"))
        view = list(original)  # Go's backing array, as the caller's slice header sees it
        live_length = len(original)
        special_free: list[Any] = []
        replace = False
        for item in patch:
            if _DIRECTIVE not in item:
                special_free.append(item)
                continue
            directive = item[_DIRECTIVE]
            if directive == _DELETE:
                target = identity(item)
                while True:
                    found = next((i for i in range(live_length) if identity(view[i]) == target), None)
                    if found is None:
                        break
                    view[found:live_length - 1] = view[found + 1:live_length]
                    live_length -= 1
            elif directive == REPLACE:
                replace = True  # keep scanning: later elements may still delete
            elif directive == MERGE:
                raise _invalid(_at(path, "merging lists cannot yet be specified in the patch"))
            else:
                raise _invalid(_at(path, f"unknown patch type: {directive} in map: {_short(item)}"))
        if replace:
            # The patch's other elements become the list, as they are: not merged together.
            replacement = [_strip(item) for item in special_free]
            _first_index(replacement, identity)  # they must still carry the merge key
            return _MergedSlice(replacement, view)
        live = view[:live_length]
        merged = list(live)
        for item in special_free:
            target = identity(item)
            found = next((i for i, m in enumerate(merged) if identity(m) == target), None)
            if found is not None:
                merged[found] = _merge_map(merged[found], item, meta.type, f"{path}[{found}]")
            else:
                if len(merged) < len(view):
                    view[len(merged)] = item
                merged.append(_strip(item))
        server_order, patch_order = live, special_free
    patch_index = _first_index(patch_order, identity)
    patch_items = [item for item in merged if identity(item) in patch_index]
    server_only = [item for item in merged if identity(item) not in patch_index]
    return _MergedSlice(_normalize_element_order(patch_items, server_only, patch_index,
                                                 _first_index(server_order, identity), identity), view)


def _normalize_element_order(patch_items: list[Any], server_only: list[Any],
                             patch_index: dict[Hashable, int], server_index: dict[Hashable, int],
                             identity: Callable[[Any], Hashable]) -> list[Any]:
    """Order each part by its reference, then interleave them (upstream normalizeElementOrder).

    At each step a server-only element goes first only if both are in the live list and
    it comes earlier there; so elements new to the live list go before the remaining
    server-only ones (a plain patch prepends new elements, as upstream does).
    """
    patch_items = sorted(patch_items, key=lambda item: patch_index.get(identity(item), len(patch_index)))
    server_only = sorted(server_only, key=lambda item: server_index.get(identity(item), len(server_index)))
    out: list[Any] = []
    i = j = 0
    while i < len(server_only) or j < len(patch_items):
        if j >= len(patch_items):
            out.append(server_only[i])
            i += 1
        elif i >= len(server_only):
            out.append(patch_items[j])
            j += 1
        else:
            left = server_index.get(identity(server_only[i]))
            right = server_index.get(identity(patch_items[j]))
            if left is not None and right is not None and left < right:
                out.append(server_only[i])
                i += 1
            else:
                out.append(patch_items[j])
                j += 1
    return out


def _element_kind(original: list[Any], patch: list[Any], path: str) -> str:
    """All elements must share one JSON type, and not be lists (upstream sliceElementType)."""
    kinds = {_json_type(item) for item in original + patch}
    if "array" in kinds:
        raise _invalid(_at(path, _NO_LIST_OF_LISTS))
    if len(kinds) > 1:
        raise _invalid(_at(path, f"list element types are not identical: {sorted(kinds)}"))
    return kinds.pop()


def _json_type(value: Any) -> str:
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "null"


def _identity(value: Any) -> Hashable:
    """A hashable stand-in for a JSON value; true and 1 stay distinct."""
    if isinstance(value, (dict, list)):
        return ("json", _short(value))
    return (_json_type(value), value)


def _identity_fn(merge_key: str, path: str) -> Callable[[Any], Hashable]:
    if not merge_key:
        return _identity

    def identity(item: Any) -> Hashable:
        if not isinstance(item, dict):
            raise _invalid(_at(path, f"expected a map in the merge list, got {_short(item)}"))
        if merge_key not in item:
            raise _invalid(_at(path, f"map: {_short(item)} does not contain declared merge key: {merge_key}"))
        return _identity(item[merge_key])

    return identity


def _first_index(items: list[Any], identity: Callable[[Any], Hashable]) -> dict[Hashable, int]:
    index: dict[Hashable, int] = {}
    for position, item in enumerate(items):
        index.setdefault(identity(item), position)
    return index


def _dedup(items: list[Any]) -> list[Any]:
    seen: set[Hashable] = set()
    out = []
    for item in items:
        key = _identity(item)
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


def _delete_from_slice(current: list[Any], to_delete: list[Any]) -> list[Any]:
    doomed = {_identity(item) for item in to_delete}
    return [item for item in current if _identity(item) not in doomed]
