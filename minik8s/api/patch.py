"""The three PATCH flavours kube-apiserver applies, with its semantics and errors.

kubectl sends all three: `label`/`scale` send JSON merge patches (RFC 7386), `rollout
undo` sends a JSON patch (RFC 6902), and `apply`/`edit`/`set`/`patch` send strategic
merge patches. This module decodes a PATCH body by its Content-Type and applies the
two JSON ones; the strategic merge patch, whose list handling depends on the Go
types' struct tags, is its own module (strategicpatch.py). Server-side apply
(`application/apply-patch+yaml`) is not a patch but a merge of configurations with
field ownership: minik8s.api.ssa.

Errors follow staging/src/k8s.io/apiserver/pkg/endpoints/handlers/patch.go: a body that
does not decode, or decodes to the wrong JSON type, is 400 BadRequest; a well-formed patch
that cannot be applied is 422 Invalid; a malformed directive is 400 like upstream's
`interpretStrategicMergePatchError`. Upstream answers some semantic errors with 500 (the
errors it does not classify); here they are 422 because they are the client's fault.
"""
from __future__ import annotations

import copy
from typing import Any

import jsonpatch
import jsonpointer
import orjson

from minik8s.api import errors
from minik8s.api import strategicpatch

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH_YAML = "application/apply-patch+yaml"
APPLY_PATCH_CBOR = "application/apply-patch+cbor"
SUPPORTED_MEDIA_TYPES: tuple[str, ...] = (JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH)

# kube-apiserver's limit (handlers/patch.go maxJSONPatchOperations).
MAX_JSON_PATCH_OPERATIONS = 10000

# --------------------------------------------------------------------------- dispatch


def apply_patch(original: dict[str, Any], body: bytes, content_type: str, kind: str) -> dict[str, Any]:
    """Apply a PATCH request body of the given Content-Type to `original`.

    Returns a new object; `original` is not modified. `kind` selects the strategic
    merge metadata. Raises errors.UnsupportedMediaType (415) for media types other
    than the three patch types, errors.BadRequest (400) for bodies that do not decode,
    and a 422 Invalid StatusError for patches that cannot be applied.
    """
    try:
        return _apply(original, body, content_type, kind)
    except RecursionError:
        # A document nested deeper than Python recurses (orjson decodes up to 1024 levels).
        raise errors.BadRequest("error decoding patch: the patch is nested too deeply") from None


def _apply(original: dict[str, Any], body: bytes, content_type: str, kind: str) -> dict[str, Any]:
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type == JSON_PATCH:
        ops = _decode(body, list, "a JSON patch must be a JSON array of operations")
        return json_patch(original, ops)
    if media_type == MERGE_PATCH:
        patch = _decode(body, dict, "a merge patch must be a JSON object")
        merged: dict[str, Any] = merge_patch(original, patch)
        return merged
    if media_type == STRATEGIC_MERGE_PATCH:
        patch = _decode(body, dict, "a strategic merge patch must be a JSON object")
        return strategicpatch.strategic_merge_patch(original, patch, kind)
    accepted = ", ".join(SUPPORTED_MEDIA_TYPES)
    if media_type in (APPLY_PATCH_YAML, APPLY_PATCH_CBOR):
        # Server-side apply is not a patch of the stored object: the API server's
        # field manager (minik8s.api.ssa) merges configurations. Reaching here means
        # an endpoint without one (the scale subresource).
        raise errors.UnsupportedMediaType(
            f"server-side apply ({media_type}) is not supported on this endpoint; use a patch or "
            f"apply the object itself - accepted media types include: {accepted}")
    accepted = ", ".join((*SUPPORTED_MEDIA_TYPES, APPLY_PATCH_YAML))
    raise errors.UnsupportedMediaType(
        f"the body of the request was in an unknown format - accepted media types include: {accepted}")


def media_type(content_type: str) -> str:
    """The media type of a Content-Type header, lower-cased, without parameters."""
    return content_type.split(";", 1)[0].strip().lower()


def json_patch_touches(body: bytes, pointer: str) -> bool:
    """Whether a JSON patch body has an operation on `pointer` (its path or from)."""
    try:
        ops = orjson.loads(body)
    except orjson.JSONDecodeError:
        return False
    return isinstance(ops, list) and any(
        isinstance(op, dict) and pointer in (op.get("path"), op.get("from")) for op in ops)


def _decode(body: bytes, expected: type, wrong_type: str) -> Any:
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as e:
        raise errors.BadRequest(f"error decoding patch: {e}") from e
    if not isinstance(value, expected):
        raise errors.BadRequest(f"error decoding patch: {wrong_type}")
    return value


def _invalid(message: str) -> errors.StatusError:
    # No details: kubectl then prints "The request is invalid: <message>".
    return errors.StatusError(422, "Invalid", message)


# --------------------------------------------------------------------------- merge patch


def merge_patch(original: dict[str, Any], patch: Any) -> Any:
    """RFC 7386 JSON merge patch: null deletes, objects merge, anything else replaces.

    Like evanphx/json-patch (kube-apiserver's implementation), nulls are also dropped
    from objects the patch adds, including objects inside added arrays. Returns a new
    value; neither argument is modified.
    """
    if not isinstance(patch, dict):
        return _prune_nulls(patch)
    target = copy.deepcopy(original) if isinstance(original, dict) else {}
    _merge_into(target, patch)
    return target


def _merge_into(target: dict[str, Any], patch: dict[str, Any]) -> None:
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge_into(target[key], value)
        else:
            target[key] = _prune_nulls(value)


def _prune_nulls(value: Any) -> Any:
    """A copy of `value` without null object members (array elements stay)."""
    if isinstance(value, dict):
        return {k: _prune_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_prune_nulls(v) for v in value]
    return value


# --------------------------------------------------------------------------- JSON patch


def json_patch(original: dict[str, Any], ops: list[Any]) -> dict[str, Any]:
    """RFC 6902 JSON patch. Returns a new object; neither argument is modified.

    A non-list or an operation that is not an object is 400 (kube-apiserver fails to
    decode it); more than MAX_JSON_PATCH_OPERATIONS is 413; an operation that fails
    (test mismatch, missing path, unknown op, missing member) is 422 Invalid, naming
    the operation.
    """
    if not isinstance(ops, list):
        raise errors.BadRequest("error decoding patch: a JSON patch must be a JSON array of operations")
    for index, op in enumerate(ops):
        if not isinstance(op, dict):
            raise errors.BadRequest(f"error decoding patch: operation {index} is not a JSON object")
    if len(ops) > MAX_JSON_PATCH_OPERATIONS:
        raise errors.RequestEntityTooLarge(
            f"The allowed maximum operations in a JSON patch is {MAX_JSON_PATCH_OPERATIONS}, got {len(ops)}")
    doc: Any = copy.deepcopy(original)
    # One operation at a time, so a failure can name the operation that caused it.
    for index, op in enumerate(ops):
        try:
            doc = jsonpatch.JsonPatch([op]).apply(doc, in_place=True)
        except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException,
                KeyError, IndexError, TypeError, ValueError) as e:
            raise _invalid(f"json patch operation {index} "
                           f"({_describe_op(op)}): {_json_patch_reason(op, e)}") from e
    if not isinstance(doc, dict):
        raise _invalid("json patch result is not a JSON object")
    return doc


def _describe_op(op: dict[str, Any]) -> str:
    text = f"{op.get('op')} {op.get('path')!r}"
    return text + f" from {op['from']!r}" if "from" in op else text


def _json_patch_reason(op: dict[str, Any], e: Exception) -> str:
    if isinstance(e, jsonpatch.JsonPatchTestFailed):
        return f"testing value {op.get('path')} failed: test failed"
    if isinstance(e, jsonpatch.InvalidJsonPatch):
        return str(e)
    for pointer in (op.get("path"), op.get("from")):
        if isinstance(pointer, str) and pointer and not pointer.startswith("/"):
            return f"invalid JSON pointer {pointer!r}: it must be empty or start with /"
    if isinstance(e, (jsonpatch.JsonPatchPathNotFound, jsonpointer.JsonPointerException, KeyError)):
        # The library's own message can embed the whole document.
        return "doc is missing path"
    return str(e)
