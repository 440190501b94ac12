"""Client-side `apply`: the last-applied annotation and kubectl's three-way strategic merge patch.

`kubectl apply` keeps the configuration it applied last in the annotation
kubectl.kubernetes.io/last-applied-configuration. On the next apply it sends the
patch CreateThreeWayMergePatch computes (k8s.io/apimachinery strategicpatch,
patch.go) from three documents: *original* (that annotation), *modified* (the new
file, annotation included) and *current* (the live object):

- `delta`: what changed or was added from current to modified, deletions ignored;
- `deletions`: what was removed from original to modified, changes ignored;
- the patch is `deletions` merged with `delta` (client side: directives kept).

Fields other writers set (controllers, defaults) are in current but in neither
original nor modified, so they survive; fields the user dropped from the file are
in original only, so they are deleted. This module ports those functions over the
merge-key table of minik8s.api.strategicpatch (the Go struct tags), so the body it sends
is the one kubectl would send, and `{}` means "unchanged".
"""
from __future__ import annotations

import copy
import dataclasses
import json
import re
from typing import Any, Callable

from minik8s.api import strategicpatch as smp

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"

_DIRECTIVE = "$patch"
_DELETE = "delete"
_REPLACE = "replace"
_RETAIN_KEYS = "$retainKeys"
_SET_ELEMENT_ORDER = "$setElementOrder"
_DELETE_FROM_PRIMITIVE_LIST = "$deleteFromPrimitiveList"


class PatchError(Exception):
    """The three documents cannot be diffed (e.g. a merge-list element without its key)."""


# ---------------------------------------------------------------------------
# The annotation
# ---------------------------------------------------------------------------

_GO_HTML_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
_GO_HTML_RE = re.compile("[<>&\u2028\u2029]")


def go_json(obj: Any) -> str:
    """encoding/json.Marshal of a decoded object: sorted keys, compact, HTML-safe."""
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return _GO_HTML_RE.sub(lambda m: _GO_HTML_ESCAPES[m.group()], text)


def modified_configuration(obj: dict[str, Any]) -> dict[str, Any]:
    """GetModifiedConfiguration(obj, annotate=true): the object with the annotation set
    to its own JSON (taken without the annotation, hence the `"annotations":{}` that real
    last-applied values carry) plus the newline json.Encoder writes."""
    out = copy.deepcopy(obj)
    meta = out.setdefault("metadata", {})
    annotations = dict(meta.get("annotations") or {})
    annotations.pop(LAST_APPLIED, None)
    meta["annotations"] = annotations
    encoded = go_json(out) + "\n"
    meta["annotations"] = {**annotations, LAST_APPLIED: encoded}
    return out


def original_configuration(live: dict[str, Any]) -> dict[str, Any] | None:
    """The configuration last applied to `live`, or None when it was never applied."""
    text = ((live.get("metadata") or {}).get("annotations") or {}).get(LAST_APPLIED)
    if not text:
        return None
    try:
        doc = json.loads(text)
    except ValueError:
        return None
    return doc if isinstance(doc, dict) else None


# ---------------------------------------------------------------------------
# Type metadata (the Go struct tags, from minik8s.api.strategicpatch)
# ---------------------------------------------------------------------------


def _field(type_name: str | None, key: str) -> smp.Field:
    if type_name is None:
        return smp.Field()
    return smp.TYPES.get(type_name, {}).get(key, smp.Field())


def root_type(kind: str) -> str:
    return smp.KINDS.get(kind, "Object")


# ---------------------------------------------------------------------------
# Go value semantics
# ---------------------------------------------------------------------------


def _kind(value: Any) -> str:
    """reflect.TypeOf of a value decoded by encoding/json (all numbers are float64)."""
    if isinstance(value, dict):
        return "map"
    if isinstance(value, list):
        return "slice"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "nil"


def _equal(a: Any, b: Any) -> bool:
    """reflect.DeepEqual on decoded JSON: like ==, but true is not 1."""
    if _kind(a) != _kind(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    return bool(a == b)


def _go_str(value: Any) -> str:
    """fmt.Sprintf("%v", value) for a decoded JSON scalar."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    return str(value)


def _sort_scalars(items: list[Any]) -> list[Any]:
    return sorted(items, key=_go_str)


def _dedup_scalars(items: list[Any]) -> list[Any]:
    """deduplicateScalars, including its order: a duplicate is overwritten by the last item."""
    s = list(items)
    length = len(s) - 1
    i = 0
    while i < length:
        j = i + 1
        while j <= length:
            if _equal(s[i], s[j]):
                s[j] = s[length]
                s = s[:length]
                length -= 1
                j -= 1
            j += 1
        i += 1
    return s


def _element_kind(*lists: list[Any]) -> str:
    """sliceElementType: the one kind of every element, or an error."""
    found: str | None = None
    for items in lists:
        for item in items:
            kind = _kind(item)
            if found is None:
                if kind == "slice":
                    raise PatchError("lists of lists are not supported")
                found = kind
            elif kind != found:
                raise PatchError(f"list element types are not identical: {lists}")
    if found is None:
        raise PatchError("no elements in any of the given slices")
    return found


def _merge_key_value(item: Any, merge_key: str) -> Any:
    if not isinstance(item, dict):
        raise PatchError(f"expected a map, got {_kind(item)}: {item!r}")
    if merge_key not in item:
        raise PatchError(f"map: {item} does not contain declared merge key: {merge_key}")
    return item[merge_key]


def _index(items: list[Any], value: Any, merge_key: str, kind: str) -> int:
    def get(item: Any) -> Any:
        if kind == "map":
            return item.get(merge_key) if isinstance(item, dict) else None
        return item

    wanted = get(value)
    for i, item in enumerate(items):
        if _equal(get(item), wanted):
            return i
    return -1


def _insertion_sort(items: list[Any], less: Callable[[Any, Any], bool]) -> list[Any]:
    """sort.SliceStable on the short lists these are (Go uses insertion sort up to 20
    elements); kept literal because its comparator is not a strict order."""
    s = list(items)
    for i in range(1, len(s)):
        j = i
        while j > 0 and less(s[j], s[j - 1]):
            s[j], s[j - 1] = s[j - 1], s[j]
            j -= 1
    return s


def _normalize_slice_order(to_sort: list[Any], order: list[Any], merge_key: str, kind: str) -> list[Any]:
    to_delete: list[Any] = []
    if kind == "map":
        for item in to_sort + order:
            _merge_key_value(item, merge_key)
        keep = [v for v in to_sort if v.get(_DIRECTIVE) != _DELETE]
        to_delete = [v for v in to_sort if v.get(_DIRECTIVE) == _DELETE]
        to_sort = keep

    def less(a: Any, b: Any) -> bool:
        ia = _index(order, a, merge_key, kind)
        if ia >= 0:
            ib = _index(order, b, merge_key, kind)
            if ib >= 0:
                return ia < ib
        return True

    return _insertion_sort(to_sort, less) + to_delete


# ---------------------------------------------------------------------------
# diffMaps
# ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _DiffOptions:
    set_element_order: bool = True
    ignore_changes_and_additions: bool = False
    ignore_deletions: bool = False
    build_retain_keys: bool = False


def _diff_maps(original: dict[str, Any], modified: dict[str, Any], type_name: str | None,
               opts: _DiffOptions) -> dict[str, Any]:
    patch: dict[str, Any] = {}
    retain: list[Any] = []
    for key, mod in modified.items():
        if opts.build_retain_keys and mod is not None:
            retain.append(key)
        if key not in original:
            if not opts.ignore_changes_and_additions:
                patch[key] = mod
            continue
        orig = original[key]
        if key == _DIRECTIVE:
            if not isinstance(orig, str) or not isinstance(mod, str):
                raise PatchError(f"invalid value for special key: {_DIRECTIVE}")
            if orig != mod:
                patch[key] = mod
            continue
        if _kind(orig) != _kind(mod):
            if not opts.ignore_changes_and_additions:
                patch[key] = mod
            continue
        if isinstance(orig, dict):
            _map_diff(key, orig, mod, patch, type_name, opts)
        elif isinstance(orig, list):
            _slice_diff(key, orig, mod, patch, type_name, opts)
        elif not opts.ignore_changes_and_additions and not _equal(orig, mod):
            patch[key] = mod
    if not opts.ignore_deletions:
        for key in original:
            if key not in modified:
                patch[key] = None
    if retain and (patch or any(v is not None and k not in modified for k, v in original.items())):
        patch[_RETAIN_KEYS] = _sort_scalars(retain)
    return patch


def _map_diff(key: str, orig: dict[str, Any], mod: dict[str, Any], patch: dict[str, Any],
              type_name: str | None, opts: _DiffOptions) -> None:
    meta = _field(type_name, key)
    opts = dataclasses.replace(opts, build_retain_keys=meta.retain_keys)
    if meta.strategy == _REPLACE:
        if not opts.ignore_changes_and_additions:
            patch[key] = mod
        return
    value = _diff_maps(orig, mod, meta.type, opts)
    if value:
        patch[key] = value


def _slice_diff(key: str, orig: list[Any], mod: list[Any], patch: dict[str, Any],
                type_name: str | None, opts: _DiffOptions) -> None:
    meta = _field(type_name, key)
    if meta.strategy != smp.MERGE:
        if not opts.ignore_changes_and_additions and not _equal(orig, mod):
            patch[key] = mod
        return
    opts = dataclasses.replace(opts, build_retain_keys=meta.retain_keys)
    add, deletions, order = _diff_lists(orig, mod, meta.type, meta.merge_key, opts)
    if add:
        patch[key] = add
    if deletions:
        patch[f"{_DELETE_FROM_PRIMITIVE_LIST}/{key}"] = deletions
    if order:
        patch[f"{_SET_ELEMENT_ORDER}/{key}"] = order


def _diff_lists(original: list[Any], modified: list[Any], elem_type: str | None, merge_key: str,
                opts: _DiffOptions) -> tuple[list[Any], list[Any], list[Any]]:
    if not original:
        if not modified or opts.ignore_changes_and_additions:
            return [], [], []
        return modified, [], []
    kind = _element_kind(original, modified)
    order: list[Any] = []
    if kind == "map":
        patch_list, deletions = _diff_lists_of_maps(original, modified, elem_type, merge_key, opts)
        patch_list = _normalize_slice_order(patch_list, modified, merge_key, kind)
        order_same = len(original) == len(modified) and all(
            _equal(_merge_key_value(o, merge_key), _merge_key_value(m, merge_key))
            for o, m in zip(original, modified))
        patch_list = patch_list + deletions
        deletions = []
        if opts.set_element_order and (
                (not opts.ignore_changes_and_additions and (patch_list or not order_same))
                or (not opts.ignore_deletions and patch_list)):
            order = [{merge_key: m[merge_key]} for m in modified]
        return patch_list, deletions, order
    patch_list, deletions = _diff_lists_of_scalars(original, modified, opts)
    patch_list = _normalize_slice_order(patch_list, modified, merge_key, kind)
    # Upstream compares against `original` after sorting it in place, so an unsorted
    # but unchanged list still yields an order directive; kept for identical bodies.
    if opts.set_element_order and ((not opts.ignore_deletions and deletions) or (
            not opts.ignore_changes_and_additions and not _equal(_sort_scalars(original), modified))):
        order = modified
    return patch_list, deletions, order


def _diff_lists_of_scalars(original: list[Any], modified: list[Any], opts: _DiffOptions
                           ) -> tuple[list[Any], list[Any]]:
    orig = _sort_scalars(original)
    mod = _sort_scalars(modified)
    i = j = 0
    add: list[Any] = []
    deletions: list[Any] = []
    while i < len(orig) or j < len(mod):
        o = _go_str(orig[i]) if i < len(orig) else None
        m = _go_str(mod[j]) if j < len(mod) else None
        if o is not None and m is not None and o == m:
            i += 1
            j += 1
        elif o is None or (m is not None and o > m):
            if not opts.ignore_changes_and_additions:
                add.append(mod[j])
            j += 1
        else:
            if not opts.ignore_deletions:
                deletions.append(orig[i])
            i += 1
    return add, _dedup_scalars(deletions)


def _diff_lists_of_maps(original: list[Any], modified: list[Any], elem_type: str | None, merge_key: str,
                        opts: _DiffOptions) -> tuple[list[Any], list[Any]]:
    def key_text(item: Any) -> str:
        return _go_str(_merge_key_value(item, merge_key))

    orig = sorted(original, key=key_text)
    mod = sorted(modified, key=key_text)
    patch: list[Any] = []
    deletions: list[Any] = []
    i = j = 0
    while i < len(orig) or j < len(mod):
        o = key_text(orig[i]) if i < len(orig) else None
        m = key_text(mod[j]) if j < len(mod) else None
        if o is not None and m is not None and o == m:
            value = _diff_maps(orig[i], mod[j], elem_type, opts)
            if value:
                value[merge_key] = mod[j][merge_key]
                patch.append(value)
            i += 1
            j += 1
        elif o is None or (m is not None and o > m):
            if not opts.ignore_changes_and_additions:
                patch.append(mod[j])
            j += 1
        else:
            if not opts.ignore_deletions:
                deletions.append({merge_key: orig[i][merge_key], _DIRECTIVE: _DELETE})
            i += 1
    return patch, deletions


# ---------------------------------------------------------------------------
# mergeMap, client side (MergeParallelList=false, IgnoreUnmatchedNulls=false)
# ---------------------------------------------------------------------------


def _merge_map(original: dict[str, Any] | None, patch: dict[str, Any], type_name: str | None
               ) -> dict[str, Any]:
    if _DIRECTIVE in patch:
        directive = patch[_DIRECTIVE]
        if directive == _REPLACE:
            return {k: v for k, v in patch.items() if k != _DIRECTIVE}
        if directive == _DELETE:
            return {}
        raise PatchError(f"Unknown patch type: {directive} in map: {patch}")
    original = {} if original is None else original
    if _RETAIN_KEYS in patch:
        retain = patch.pop(_RETAIN_KEYS)
        if _RETAIN_KEYS in original and not _equal(original[_RETAIN_KEYS], retain):
            raise PatchError(f"{original[_RETAIN_KEYS]} and {retain} are not deep equal: this may happen "
                             "when calculating the 3-way diff patch")
        original.setdefault(_RETAIN_KEYS, retain)
    _merge_element_orders(original, patch, type_name)
    for key, value in patch.items():
        if key.startswith(_DELETE_FROM_PRIMITIVE_LIST):
            original[key] = value
            continue
        if value is None:
            original.pop(key, None)
        if key not in original:
            original[key] = value
            continue
        current = original[key]
        if _kind(current) != _kind(value):
            original[key] = value
            continue
        meta = _field(type_name, key)
        if isinstance(current, dict):
            original[key] = value if meta.strategy == _REPLACE else _merge_map(current, value, meta.type)
        elif isinstance(current, list):
            original[key] = (_merge_slice(current, value, meta.merge_key, meta.type)
                             if meta.strategy == smp.MERGE else value)
        else:
            original[key] = value
    return original


def _merge_element_orders(original: dict[str, Any], patch: dict[str, Any], type_name: str | None) -> None:
    """mergePatchIntoOriginal: each `$setElementOrder/<list>` moves to `original`, and the
    list it orders is merged there now, in that order."""
    for key in [k for k in patch if k.startswith(_SET_ELEMENT_ORDER)]:
        order = patch.pop(key)
        if key in original:
            if not _equal(original[key], order):
                raise PatchError("invalid patch format of setElementOrder list")
        else:
            original[key] = order
        if not isinstance(order, list):
            raise PatchError("invalid patch format of setElementOrder list")
        list_key = key.split("/", 1)[1] if "/" in key else ""
        if not list_key:
            raise PatchError("invalid patch format of setElementOrder list")
        orig_list = original.get(list_key)
        patch_list = patch.get(list_key)
        meta = _field(type_name, list_key)
        if list_key in original and list_key in patch:
            merged = _merge_slice(list(orig_list or []), list(patch_list or []), meta.merge_key, meta.type) \
                if meta.strategy == smp.MERGE else list(patch_list or [])
        elif list_key in patch:
            merged = list(patch_list or [])
        elif list_key in original:
            merged = list(orig_list or [])
        else:
            continue
        if not merged and not order:
            continue
        patch_items, server_only = _partition(merged, order, meta.merge_key)
        kind = _element_kind(list(orig_list or []), list(patch_list or []), merged)
        original[list_key] = _normalize_element_order(patch_items, server_only, order, list(orig_list or []),
                                                      meta.merge_key, kind)
        patch.pop(list_key, None)


def _partition(items: list[Any], by: list[Any], merge_key: str) -> tuple[list[Any], list[Any]]:
    inside: list[Any] = []
    outside: list[Any] = []
    for item in items:
        if merge_key:
            value = _merge_key_value(item, merge_key)
            found = any(isinstance(b, dict) and _equal(b.get(merge_key), value) for b in by)
        else:
            found = any(_equal(b, item) for b in by)
        (inside if found else outside).append(item)
    return inside, outside


def _merge_slice(original: list[Any], patch: list[Any], merge_key: str, elem_type: str | None) -> list[Any]:
    if not original and not patch:
        return original
    kind = _element_kind(original, patch)
    if kind != "map":
        merged = _dedup_scalars(original + patch)
    else:
        if not merge_key:
            raise PatchError("cannot merge lists without merge key")
        original, patch = _merge_special_elements(original, patch, merge_key)
        merged = list(original)
        for item in patch:
            value = _merge_key_value(item, merge_key)
            at = next((i for i, o in enumerate(merged)
                       if isinstance(o, dict) and merge_key in o and _equal(o[merge_key], value)), None)
            if at is None:
                merged.append(item)
            else:
                merged[at] = _merge_map(merged[at], item, elem_type)
    patch_items, server_only = _partition(merged, patch, merge_key if kind == "map" else "")
    return _normalize_element_order(patch_items, server_only, patch, original, merge_key, kind)


def _merge_special_elements(original: list[Any], patch: list[Any], merge_key: str
                            ) -> tuple[list[Any], list[Any]]:
    plain: list[Any] = []
    replace = False
    for item in patch:
        directive = item.get(_DIRECTIVE) if isinstance(item, dict) else None
        if directive is None:
            plain.append(item)
        elif directive == _DELETE:
            value = _merge_key_value(item, merge_key)
            original = [o for o in original if not (isinstance(o, dict) and _equal(o.get(merge_key), value))]
        elif directive == _REPLACE:
            replace = True
        else:
            raise PatchError(f"Unknown patch type: {directive} in map: {item}")
    if replace:
        return plain, []
    return original, plain


def _normalize_element_order(patch_items: list[Any], server_only: list[Any], patch_order: list[Any],
                             server_order: list[Any], merge_key: str, kind: str) -> list[Any]:
    patch_items = _normalize_slice_order(patch_items, patch_order, merge_key, kind)
    server_only = _normalize_slice_order(server_only, server_order, merge_key, kind)
    # mergeSortedSlice: interleave, keeping each list's order; a server-only item goes
    # first only when both are in the live list and it comes earlier there.
    out: list[Any] = []
    i = j = 0
    while i < len(server_only) or j < len(patch_items):
        if i >= len(server_only):
            out.append(patch_items[j])
            j += 1
        elif j >= len(patch_items):
            out.append(server_only[i])
            i += 1
        else:
            li = _index(server_order, server_only[i], merge_key, kind)
            ri = _index(server_order, patch_items[j], merge_key, kind)
            if li >= 0 and ri >= 0 and li < ri:
                out.append(server_only[i])
                i += 1
            else:
                out.append(patch_items[j])
                j += 1
    return out


# ---------------------------------------------------------------------------
# CreateThreeWayMergePatch
# ---------------------------------------------------------------------------


def three_way_patch(original: dict[str, Any] | None, modified: dict[str, Any], current: dict[str, Any],
                    kind: str) -> dict[str, Any]:
    """The strategic merge patch `kubectl apply` sends (overwrite=true); {} when nothing changed."""
    type_name = root_type(kind)
    original = copy.deepcopy(original or {})
    modified = copy.deepcopy(modified)
    current = copy.deepcopy(current)
    delta = _diff_maps(current, modified, type_name, _DiffOptions(ignore_deletions=True))
    deletions = _diff_maps(original, modified, type_name, _DiffOptions(ignore_changes_and_additions=True))
    return _merge_map(deletions, delta, type_name)
