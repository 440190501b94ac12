"""The field manager of a served resource: its schema, versions and reset fields.

What Kubernetes' registry gives each resource's FieldManager, from minik8s's own
tables: the kind's type in each served version (minik8s.api.schema), conversion
between versions that share storage (the kind's strategy: HPA autoscaling/v1 and v2),
and the fields an endpoint resets, which nobody can own through it (GetResetFields):
the main resource of a kind with /status cannot set status; /status and /scale set
nothing but status (and annotations) or the replica count.
"""
from __future__ import annotations

import functools
from typing import Any

from minik8s.api import kinds
from minik8s.api import resources
from minik8s.api import rfc3339
from minik8s.api import schema
from minik8s.api.ssa import fieldpath
from minik8s.api.ssa import managedfields
from minik8s.api.ssa import merge
from minik8s.api.ssa import typed


def _resource_in(group: str, version: str, plural: str) -> resources.Resource:
    res = resources.lookup(group, version, plural)
    if res is None:
        raise merge.MissingVersion(f"{plural} are not served in {group}/{version}")
    return res


def _split(api_version: str) -> tuple[str, str]:
    group, _, version = api_version.rpartition("/")
    return group, version


def _reset_fields(res: resources.Resource, subresource: str) -> fieldpath.Set:
    if subresource == "status":
        # Everything but status and metadata (of which only annotations may change),
        # as the status strategies reset spec and labels.
        return fieldpath.Set.of(("f:spec",), ("f:metadata", "f:labels"), ("f:metadata", "f:finalizers"),
                                ("f:metadata", "f:ownerReferences"))
    if subresource == "scale":
        return fieldpath.Set.of(("f:status",), ("f:metadata", "f:labels"), ("f:metadata", "f:annotations"))
    if "status" in kinds.for_resource(res).subresources:
        return fieldpath.Set.of(("f:status",))
    return fieldpath.Set()


@functools.cache
def field_manager(res: resources.Resource, subresource: str = "") -> managedfields.FieldManager:
    """The field manager of `res` (the served version requests use) and a subresource."""
    storage = resources.storage_resource(res)

    @functools.cache
    def type_for(api_version: str) -> typed.Type:
        group, version = _split(api_version)
        msg = schema.find(group, version, res.kind)
        if msg is None:
            raise merge.MissingVersion(f"no schema for {res.kind} in {api_version}")
        return typed.for_message(msg)

    def convert(obj: Any, from_version: str, to_version: str) -> Any:
        source = _resource_in(*_split(from_version), res.plural)
        target = _resource_in(*_split(to_version), res.plural)
        if resources.storage_resource(source) != resources.storage_resource(target):
            raise merge.MissingVersion(f"{from_version} and {to_version} do not share storage")
        return kinds.to_version(target, kinds.from_version(source, obj))

    ignored = _reset_fields(storage, subresource)
    versions = [r.api_version for r in resources.RESOURCES if r.plural == res.plural and r.group == res.group]
    spec = managedfields.Schema(res.api_version, res.kind, type_for, convert,
                                dict.fromkeys(versions, ignored) if not ignored.empty() else {})
    return managedfields.FieldManager(spec, subresource, now=rfc3339.now)


def track_update(res: resources.Resource, subresource: str | None, live: dict[str, Any] | None,
                 new: dict[str, Any], manager: str, requested: Any = None) -> dict[str, Any]:
    """`new` (stored shape) with managedFields after `manager` wrote it through `res`
    (the served version of the request) over `live` (None on create).

    `requested` is the managedFields the request itself carried, if any: a client may
    set them directly (kubectl's migration from client-side apply does)."""
    fm = field_manager(res, subresource or "")
    view_new = kinds.to_version(res, new) if res.storage_version else new
    view_live = kinds.to_version(res, live) if res.storage_version and live is not None else live
    if requested is not None:
        view_new = {**view_new, "metadata": {**(view_new.get("metadata") or {}), "managedFields": requested}}
    tracked = fm.update(view_live, view_new, manager)
    entries = (tracked.get("metadata") or {}).get("managedFields")
    meta = {k: v for k, v in (new.get("metadata") or {}).items() if k != "managedFields"}
    if entries:
        meta["managedFields"] = entries
    return {**new, "metadata": meta}


def managed_fields_of(obj: dict[str, Any]) -> Any:
    return (obj.get("metadata") or {}).get("managedFields")
