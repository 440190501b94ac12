"""Kubernetes' field manager: managedFields on every write and the server-side apply of a request.

After k8s.io/apimachinery/pkg/util/managedfields/internal, whose managers wrap each
other; the same steps run here in the same order:

- decode the object's `metadata.managedFields` (a request may set them directly; an
  empty list resets them; a subresource request's are ignored);
- before-first-apply (skipnonapplied.go): an update of an object nobody tracks yet is
  not tracked; the first apply to such an object first records its current fields for a
  manager `before-first-apply`;
- manager identities (buildmanagerinfo.go): a manager is its name, the operation
  (Apply or Update), for updates the API version, and the subresource;
- the structured merge (merge.Updater), with the fields nobody may own through this
  endpoint ignored (a kind's status on the main resource);
- strip metadata (stripmeta.go): apiVersion, kind, name, uid, resourceVersion, ... are
  never owned;
- timestamps (managedfieldsupdater.go): an update merges into the manager's earlier
  entry and stamps it when it changed something;
- at most 10 update managers (capmanagers.go): the oldest merge into `ancient-changes`;
- the client-side apply migration (lastappliedmanager.go, lastappliedupdater.go): for
  manager `kubectl`, conflicts on fields whose values match the
  `kubectl.kubernetes.io/last-applied-configuration` annotation are forced, and an
  object carrying that annotation gets it rewritten from the applied configuration.

Conflicts become a 409 Status with one cause per field (conflict.go).
"""
from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Callable
from typing import Any

import orjson

from minik8s.api import errors
from minik8s.api.ssa import fieldpath
from minik8s.api.ssa import merge
from minik8s.api.ssa import typed

APPLY, UPDATE = "Apply", "Update"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
MAX_UPDATE_MANAGERS = 10
ANCIENT_CHANGES = "ancient-changes"
BEFORE_FIRST_APPLY = "before-first-apply"
CURRENT_OPERATION = "current-operation"
FIELD_MANAGER_MAX_LENGTH = 128

# Fields that are never part of a manager's set (stripmeta.go).
STRIP = fieldpath.Set.of(
    ("f:apiVersion",), ("f:kind",), ("f:metadata",), *(("f:metadata", "f:" + name) for name in (
        "name", "namespace", "creationTimestamp", "selfLink", "uid", "clusterName", "generation",
        "managedFields", "resourceVersion")))

Times = dict[str, "str | None"]


# --------------------------------------------------------------------------- entries


@functools.lru_cache(maxsize=4096)
def identifier(manager: str, operation: str, api_version: str = "", subresource: str = "") -> str:
    """The manager identity (BuildManagerIdentifier): ManagedFieldsEntry's JSON without
    fieldsType, fieldsV1 and time, and without apiVersion for appliers."""
    entry: dict[str, str] = {"manager": manager, "operation": operation}
    if operation != APPLY and api_version:
        entry["apiVersion"] = api_version
    if subresource:
        entry["subresource"] = subresource
    return json.dumps(entry, separators=(",", ":"), ensure_ascii=False)


def print_manager(ident: str) -> str:
    """How a conflict names a manager: `"kubectl-client-side-apply" using apps/v1`."""
    try:
        entry = json.loads(ident)
        name = entry["manager"]
    except (ValueError, KeyError, TypeError):
        return json.dumps(ident, ensure_ascii=False)
    out = json.dumps(name, ensure_ascii=False)
    if entry.get("subresource"):
        out += f" with subresource {json.dumps(entry['subresource'], ensure_ascii=False)}"
    if entry.get("operation") == UPDATE:
        out += f" using {entry.get('apiVersion', '')}"
        if entry.get("time"):
            out += f" at {entry['time']}"
    return out


def decode(entries: Any) -> tuple[merge.ManagedFields, Times]:
    """The managers of a managedFields list; ValueError if it is not a valid one."""
    managed: merge.ManagedFields = {}
    times: Times = {}
    if entries is None:
        return managed, times
    if not isinstance(entries, list):
        raise ValueError("managedFields must be a list")
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise ValueError(f"managed fields entry {i} must be an object")
        operation = entry.get("operation")
        if operation not in (APPLY, UPDATE):
            raise ValueError("operation must be `Apply` or `Update`")
        if not entry.get("apiVersion"):
            raise ValueError("apiVersion must not be empty")
        fields_type = entry.get("fieldsType")
        if not fields_type:
            raise ValueError(f"missing fieldsType in managed fields entry {i}")
        if fields_type != "FieldsV1":
            raise ValueError(f'invalid fieldsType "{fields_type}" in managed fields entry {i}')
        ident = identifier(str(entry.get("manager", "")), operation, entry["apiVersion"],
                           str(entry.get("subresource") or ""))
        s = _decode_set(entry.get("fieldsV1") or {})
        managed[ident] = merge.VersionedSet(s, entry["apiVersion"], operation == APPLY)
        times[ident] = entry.get("time")
    return managed, times


_DECODED: dict[bytes, fieldpath.Set] = {}


def _decode_set(doc: Any) -> fieldpath.Set:
    """A FieldsV1 document's set. Sets are never modified once built, so one decoded
    set serves every later write of the same document (most writes repeat them)."""
    try:
        raw = orjson.dumps(doc)
    except TypeError:
        raw = b""
    s = _DECODED.get(raw) if raw else None
    if s is None:
        try:
            s = fieldpath.Set.from_fields(doc)
        except fieldpath.FieldsError as e:
            raise ValueError(f"error decoding set: {e}") from None
        if raw:
            if len(_DECODED) >= 4096:
                _DECODED.clear()
            _DECODED[raw] = s
    return s


@functools.lru_cache(maxsize=4096)
def _who(ident: str) -> dict[str, str]:
    parsed: dict[str, str] = json.loads(ident)
    return parsed


def encode(managed: merge.ManagedFields, times: Times) -> list[dict[str, Any]] | None:
    """The managedFields list of these managers, sorted as Kubernetes sorts it (None if none)."""
    if not managed:
        return None
    out = []
    for ident, vs in managed.items():
        who = _who(ident)
        entry: dict[str, Any] = {"manager": who.get("manager", ""),
                                 "operation": APPLY if vs.applied else UPDATE,
                                 "apiVersion": vs.api_version}
        if times.get(ident):
            entry["time"] = times[ident]
        entry["fieldsType"] = "FieldsV1"
        entry["fieldsV1"] = vs.set.to_fields()
        if who.get("subresource"):
            entry["subresource"] = who["subresource"]
        out.append(entry)
    out.sort(key=lambda e: (e["operation"], e.get("time") or "", e["manager"], e["apiVersion"],
                            e.get("subresource", "")))
    return out


def _strip(managed: merge.ManagedFields, manager: str) -> None:
    vs = managed.get(manager)
    if vs is None:
        return
    s = vs.set.difference(STRIP)
    if s.empty():
        del managed[manager]
    else:
        managed[manager] = merge.VersionedSet(s, vs.api_version, vs.applied)


def _cap(managed: merge.ManagedFields, times: Times) -> None:
    """Merge the oldest update entries by version until at most MAX_UPDATE_MANAGERS remain."""
    updaters = [m for m, vs in managed.items() if not vs.applied]
    if len(updaters) <= MAX_UPDATE_MANAGERS:
        return
    updaters.sort(key=lambda m: (times.get(m) or "", m))
    first_of_version: dict[str, str] = {}
    length = len(updaters)
    for manager in updaters:
        if length <= MAX_UPDATE_MANAGERS:
            break
        vs = managed[manager]
        bucket = identifier(ANCIENT_CHANGES, UPDATE, vs.api_version)
        first = first_of_version.get(vs.api_version)
        if first is None:
            first_of_version[vs.api_version] = manager
            continue
        if bucket not in managed:
            managed[bucket] = managed.pop(first)
        managed[bucket] = merge.VersionedSet(vs.set.union(managed[bucket].set), vs.api_version, vs.applied)
        del managed[manager]
        times[bucket] = times.get(manager)
        length -= 1


def conflict_error(conflicts: merge.Conflicts) -> errors.StatusError:
    """The 409 Kubernetes answers an apply with (NewConflictError)."""
    causes = [{"type": "FieldManagerConflict", "message": f"conflict with {print_manager(c.manager)}",
               "field": fieldpath.path_string(c.path)} for c in conflicts.conflicts]
    if len(conflicts.conflicts) == 1:
        c = conflicts.conflicts[0]
        message = (f"Apply failed with 1 conflict: conflict with {print_manager(c.manager)}: "
                   f"{fieldpath.path_string(c.path)}")
    else:
        by_manager: dict[str, list[str]] = {}
        for c in conflicts.conflicts:
            by_manager.setdefault(c.manager, []).append(fieldpath.path_string(c.path))
        lines = []
        for manager in sorted(by_manager):
            lines.append(f"conflicts with {print_manager(manager)}:")
            lines.extend(f"- {p}" for p in by_manager[manager])
        message = f"Apply failed with {len(conflicts.conflicts)} conflicts: " + "\n".join(lines)
    return errors.StatusError(409, "Conflict", message, details={"causes": causes})


# --------------------------------------------------------------------------- the field manager


@dataclasses.dataclass
class Schema:
    """What the field manager needs to know of the kind it manages."""

    api_version: str  # the version requests are made in ("apps/v1")
    kind: str
    type_for: Callable[[str], typed.Type]  # the root type of the kind in a version
    converter: merge.Converter = merge.same_version
    # Per version, fields nobody owns through this endpoint (Kubernetes' reset fields).
    ignored: dict[str, fieldpath.Set] = dataclasses.field(default_factory=dict)


def _meta(obj: dict[str, Any]) -> dict[str, Any]:
    meta = obj.get("metadata")
    return meta if isinstance(meta, dict) else {}


def _without_managed_fields(obj: dict[str, Any]) -> dict[str, Any]:
    meta = obj.get("metadata")
    if not isinstance(meta, dict) or "managedFields" not in meta:
        return obj
    out = dict(obj)
    out["metadata"] = {k: v for k, v in meta.items() if k != "managedFields"}
    return out


def _same_but_version(live: dict[str, Any], new: dict[str, Any]) -> bool:
    """Whether `new` is `live` with at most another resourceVersion and the same (or
    no) managedFields: an update that changes nothing, and owns nothing new."""
    lm, nm = _meta(live), _meta(new)
    if "managedFields" in nm and nm["managedFields"] != lm.get("managedFields"):
        return False
    if live.keys() != new.keys():
        return False
    for k, v in new.items():
        if k != "metadata" and live[k] != v:
            return False
    skip = ("resourceVersion", "managedFields")
    return {k: v for k, v in lm.items() if k not in skip} == {k: v for k, v in nm.items() if k not in skip}


def _is_reset(entries: Any) -> bool:
    """An empty list, or one empty entry, clears managedFields (isResetManagedFields)."""
    if isinstance(entries, list):
        return not entries or (len(entries) == 1 and entries[0] == {})
    return False


class FieldManager:
    """The field manager of one resource (or subresource) in one served version."""

    def __init__(self, schema: Schema, subresource: str = "", *, now: Callable[[], str]) -> None:
        self.schema = schema
        self.subresource = subresource
        self.now = now
        self.updater = merge.Updater(schema.type_for, schema.converter, schema.ignored)

    @property
    def version(self) -> str:
        return self.schema.api_version

    def _typed(self, obj: dict[str, Any]) -> Any:
        """The object as the typed walks see it: without managedFields. (The members Go
        always writes, which decide between "added" and "modified", are taken into
        account by the comparison itself: typed.Type.zero_map.)"""
        return _without_managed_fields(obj)

    def empty(self) -> dict[str, Any]:
        """A new object of the kind, as Go's zero value writes it."""
        out = typed.zero_object(self.schema.type_for(self.version))
        out["apiVersion"], out["kind"] = self.version, self.schema.kind
        return out

    # -- update ---------------------------------------------------------------------

    def update(self, live: dict[str, Any] | None, new: dict[str, Any], manager: str) -> dict[str, Any]:
        """`new` with its managedFields after `manager` wrote it over `live` (None on create).

        As UpdateNoErrors: should the update of ownership fail, the object keeps the
        stored managedFields."""
        try:
            return self._update(live, new, manager)
        except (ValueError, merge.MissingVersion, typed.TypedError):
            out = _without_managed_fields(new)
            entries = _meta(live or {}).get("managedFields")
            if entries:
                out["metadata"] = {**_meta(out), "managedFields": entries}
            return out

    def _decode_live_or_new(self, live: dict[str, Any] | None, new: dict[str, Any]) -> tuple[merge.ManagedFields,
                                                                                           Times]:
        def safe(entries: Any) -> tuple[merge.ManagedFields, Times]:
            try:
                return decode(entries)
            except ValueError:
                return {}, {}
        live_entries = _meta(live or {}).get("managedFields")
        if self.subresource:
            return safe(live_entries)
        new_entries = _meta(new).get("managedFields")
        if _is_reset(new_entries):
            return {}, {}
        try:
            managed, times = decode(new_entries)
        except ValueError:
            managed, times = {}, {}
        if not managed:
            return safe(live_entries)
        return managed, times

    def _update(self, live: dict[str, Any] | None, new: dict[str, Any], manager: str) -> dict[str, Any]:
        if live is not None and _same_but_version(live, new):
            # Nothing changed, and nobody asked for other managedFields: keep them.
            out = dict(_without_managed_fields(new))
            entries = _meta(live).get("managedFields")
            if entries:
                out["metadata"] = {**_meta(out), "managedFields": entries}
            return out
        managed, times = self._decode_live_or_new(live, new)
        out = _without_managed_fields(new)
        if not managed and live is not None and _meta(live).get("uid"):
            return out  # nobody tracks this object yet: skip until its first apply
        managed, times = self._track_update(live if live is not None else self.empty(), out, manager,
                                            managed, times)
        return self._encoded(out, managed, times)

    def _track_update(self, live: dict[str, Any], new: dict[str, Any], manager: str,
                      managed: merge.ManagedFields, times: Times) -> tuple[merge.ManagedFields, Times]:
        ident = identifier(manager or "unknown", UPDATE, self.version, self.subresource)
        _, managed = self.updater.update(self._typed(live), self._typed(new), self.version, managed,
                                         CURRENT_OPERATION)
        _strip(managed, CURRENT_OPERATION)
        times = dict(times)
        current = managed.pop(CURRENT_OPERATION, None)
        if current is not None:
            previous = managed.get(ident)
            s = current.set.union(previous.set) if previous is not None else current.set
            managed[ident] = merge.VersionedSet(s, current.api_version, current.applied)
            times[ident] = self.now()
        _cap(managed, times)
        return managed, times

    def _encoded(self, obj: dict[str, Any], managed: merge.ManagedFields, times: Times) -> dict[str, Any]:
        entries = encode(managed, times)
        out = dict(_without_managed_fields(obj))
        if entries:
            out["metadata"] = {**_meta(out), "managedFields": entries}
        return out

    # -- apply ----------------------------------------------------------------------

    def apply(self, live: dict[str, Any] | None, config: Any, manager: str, force: bool) -> dict[str, Any]:
        """The object after `manager` applied `config` to `live` (None: the object does not
        exist yet), with its managedFields. Raises a 409 StatusError on conflicts, 400 on a
        configuration that cannot be applied."""
        if not isinstance(config, dict):
            raise errors.BadRequest("error decoding YAML: the applied configuration must be an object")
        api_version, kind = config.get("apiVersion"), config.get("kind")
        if api_version != self.version or kind != self.schema.kind:
            group, _, version = str(api_version or "").rpartition("/")
            raise errors.BadRequest(f"invalid object type: {group}/{version}, Kind={kind or ''}")
        if _meta(config).get("managedFields") is not None:
            raise errors.BadRequest("metadata.managedFields must be nil")
        t = self.schema.type_for(self.version)
        try:
            typed.validate(config, t)
        except typed.TypedError as e:
            raise errors.BadRequest(f"failed to create typed patch object: {e}") from None
        if live is None:
            live = self.empty()
        try:
            managed, times = decode(_meta(live).get("managedFields"))
        except ValueError as e:
            raise errors.BadRequest(f"failed to decode managed fields: {e}") from None
        try:
            try:
                result, managed, times = self._apply_tracked(live, config, manager, force, managed, times)
            except merge.Conflicts as e:
                if manager != "kubectl":
                    raise
                allowed = self._allowed_by_last_applied(live)
                if allowed is None:
                    raise
                remaining = [c for c in e.conflicts if not allowed.has(c.path)]
                if remaining:
                    raise merge.Conflicts(remaining) from None
                result, managed, times = self._apply_tracked(live, config, manager, True, managed, times)
        except merge.Conflicts as e:
            raise conflict_error(e) from None
        except typed.TypedError as e:
            raise errors.BadRequest(str(e)) from None
        except merge.MissingVersion as e:
            raise errors.BadRequest(str(e)) from None
        if manager == "kubectl" and _meta(live).get("annotations", {}).get(LAST_APPLIED):
            result = _set_last_applied(result, config)
        return self._encoded(result, managed, times)

    def _apply_tracked(self, live: dict[str, Any], config: dict[str, Any], manager: str, force: bool,
                       managed: merge.ManagedFields, times: Times
                       ) -> tuple[dict[str, Any], merge.ManagedFields, Times]:
        if not managed:
            # Nobody tracked this object before: its current fields belong to
            # before-first-apply, so that this apply removes none of them.
            managed, times = self._track_update(self.empty(), _without_managed_fields(live), BEFORE_FIRST_APPLY,
                                                {}, {})
        ident = identifier(manager, APPLY, self.version, self.subresource)
        live_typed = self._typed(live)
        new, managed = self.updater.apply(live_typed, config, self.version, managed, ident, force)
        _strip(managed, ident)
        times = dict(times)
        if new == live_typed:
            return _without_managed_fields(live), managed, times
        times[ident] = self.now()
        new = typed.prune_nulls(new) if new is not None else {}
        return new, managed, times

    def _allowed_by_last_applied(self, live: dict[str, Any]) -> fieldpath.Set | None:
        """The fields whose live value is the one kubectl's last-applied annotation records:
        conflicts on them are the client-side apply's own, and are forced."""
        text = _meta(live).get("annotations", {}).get(LAST_APPLIED)
        if not text:
            return None
        try:
            last = json.loads(text)
        except ValueError:
            return None
        if not isinstance(last, dict) or last.get("apiVersion") != self.version:
            return None
        t = self.schema.type_for(self.version)
        try:
            last_set = typed.to_field_set(last, t)
            cmp = typed.compare(last, _without_managed_fields(live), t)
        except typed.TypedError:
            return None
        return last_set.difference(cmp.modified).difference(cmp.added).difference(cmp.removed)


def _set_last_applied(obj: dict[str, Any], config: dict[str, Any]) -> dict[str, Any]:
    """obj with kubectl's last-applied annotation rewritten from the applied config."""
    applied = json.loads(json.dumps(config))
    annotations = _meta(applied).get("annotations")
    if isinstance(annotations, dict):
        annotations.pop(LAST_APPLIED, None)
        if not annotations:
            applied["metadata"].pop("annotations")
    text = json.dumps(applied, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    out = dict(obj)
    meta = dict(_meta(out))
    meta["annotations"] = {**(meta.get("annotations") or {}), LAST_APPLIED: text + "\n"}
    out["metadata"] = meta
    return out
