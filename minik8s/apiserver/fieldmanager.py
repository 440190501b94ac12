"""The field manager of a write request, and the options of server-side apply.

Every create, update and patch records its manager in the object's managedFields: the
`fieldManager` query parameter, else the User-Agent up to its first `/` (kubectl/v1.32
→ kubectl), as kube-apiserver's managerOrUserAgent. Apply requires `fieldManager`;
`force` is only for apply. Both are checked as ValidatePatchOptions checks them.
"""
from __future__ import annotations

from aiohttp import web

from minik8s.api import errors
from minik8s.api import patch as patch_mod
from minik8s.api.ssa import managedfields

APPLY_MEDIA_TYPES = (patch_mod.APPLY_PATCH_YAML, "application/apply-patch+json")


def is_apply(content_type: str) -> bool:
    return content_type.split(";", 1)[0].strip().lower() in APPLY_MEDIA_TYPES


def _options_kind(request: web.Request) -> str:
    return {"POST": "CreateOptions", "PUT": "UpdateOptions", "PATCH": "PatchOptions"}.get(request.method,
                                                                                        "UpdateOptions")


def _invalid(request: web.Request, field: str, message: str, reason: str) -> errors.StatusError:
    return errors.Invalid(_options_kind(request), "", [errors.field_error(field, message, reason)],
                          group="meta.k8s.io")


def _from_user_agent(agent: str) -> str:
    """prefixFromUserAgent: the part before the first /, printable, at most 128 bytes."""
    out = ""
    for ch in agent.split("/", 1)[0]:
        if not ch.isprintable():
            continue
        if len((out + ch).encode()) > managedfields.FIELD_MANAGER_MAX_LENGTH:
            break
        out += ch
    return out


def manager_of(request: web.Request, *, apply: bool = False) -> str:
    """The request's field manager; 422 for one that is too long or unprintable, or
    missing on an apply."""
    manager = request.query.get("fieldManager", "")
    if apply and not manager:
        raise _invalid(request, "fieldManager", "Required value: is required for apply patch", "FieldValueRequired")
    if len(manager.encode()) > managedfields.FIELD_MANAGER_MAX_LENGTH:
        raise _invalid(request, "fieldManager",
                       f"Too long: may not be more than {managedfields.FIELD_MANAGER_MAX_LENGTH} bytes",
                       "FieldValueTooLong")
    if not manager.isprintable():
        raise _invalid(request, "fieldManager", f'Invalid value: "{manager}": must only contain printable '
                       "characters", "FieldValueInvalid")
    return manager or _from_user_agent(request.headers.get("User-Agent", ""))


def force_of(request: web.Request, *, apply: bool) -> bool:
    """The `force` parameter: only an apply may take it."""
    if "force" not in request.query:
        return False
    if not apply:
        raise _invalid(request, "force", "Forbidden: may not be specified for non-apply patch", "FieldValueForbidden")
    value = request.query["force"].lower()
    if value not in ("true", "false", "1", "0", ""):
        raise errors.BadRequest(f'force: invalid value "{request.query["force"]}": must be a boolean')
    return value in ("true", "1", "")
