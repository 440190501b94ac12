"""The updater: who owns which field after an update or an apply (merge/update.go).

Managers are identified by opaque strings (the managedfields layer builds them from a
manager name, an operation and a version). Each owns a VersionedSet: its fields, the
API version it spoke, and whether they came from an apply. On an update, the updating
manager takes every field it changed from everyone else. On an apply, the configuration
is merged onto the live object; fields the applier changes that others own are
conflicts (unless forced, which takes them); fields the applier applied last time and
not this time are removed, unless another manager still owns them.

Objects are plain JSON values of a given API version; `Converter` turns one into
another version (identity for a kind served in one version). `ignored` holds, per
version, the fields nobody can own through this endpoint (a kind's status on the main
resource: Kubernetes' reset fields).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Protocol

from minik8s.api.ssa import fieldpath
from minik8s.api.ssa import typed


@dataclasses.dataclass(frozen=True)
class VersionedSet:
    set: fieldpath.Set
    api_version: str
    applied: bool


ManagedFields = dict[str, VersionedSet]


class MissingVersion(Exception):
    """The object cannot be shown in a version (a manager's version no longer served)."""


class Converter(Protocol):
    def __call__(self, obj: Any, from_version: str, to_version: str) -> Any:
        """`obj` (of from_version) as to_version; MissingVersion if it cannot be."""


def same_version(obj: Any, from_version: str, to_version: str) -> Any:
    """The converter of a kind served in one version (and of the tests' fixtures)."""
    return obj


@dataclasses.dataclass(frozen=True)
class Conflict:
    manager: str
    path: fieldpath.Path


class Conflicts(Exception):
    """Fields an apply would change that other managers own (merge.Conflicts)."""

    def __init__(self, conflicts: list[Conflict]) -> None:
        self.conflicts = conflicts
        super().__init__(self.describe())

    def describe(self) -> str:
        if len(self.conflicts) == 1:
            c = self.conflicts[0]
            return f'conflict with "{c.manager}": {fieldpath.path_string(c.path)}'
        by_manager: dict[str, list[fieldpath.Path]] = {}
        for c in self.conflicts:
            by_manager.setdefault(c.manager, []).append(c.path)
        lines = []
        for manager in sorted(by_manager):
            lines.append(f'conflicts with "{manager}":')
            lines.extend(f"- {fieldpath.path_string(p)}" for p in by_manager[manager])
        return "\n".join(lines)

    def to_set(self) -> fieldpath.Set:
        return fieldpath.Set.of(*(c.path for c in self.conflicts))

    @classmethod
    def from_managers(cls, sets: Mapping[str, VersionedSet]) -> Conflicts:
        return cls([Conflict(manager, p) for manager in sorted(sets) for p in sets[manager].set.paths()])


class Updater:
    def __init__(self, type_for: Callable[[str], typed.Type], converter: Converter = same_version,
                 ignored: Mapping[str, fieldpath.Set] | None = None) -> None:
        self.type_for = type_for
        self.converter = converter
        self.ignored = dict(ignored or {})

    def _convert(self, obj: Any, from_version: str, to_version: str) -> Any:
        return obj if from_version == to_version else self.converter(obj, from_version, to_version)

    def _compare(self, old: Any, new: Any, version: str) -> typed.Comparison:
        return typed.compare(old, new, self.type_for(version)).exclude(self.ignored.get(version))

    def _update(self, old: Any, new: Any, version: str, managers: ManagedFields, workflow: str,
                force: bool) -> tuple[ManagedFields, typed.Comparison]:
        """Take what `workflow` changed from every other manager (conflicts unless forced)."""
        compare = self._compare(old, new, version)
        versions = {version: compare}
        conflicts: ManagedFields = {}
        removed: ManagedFields = {}
        for manager, vs in list(managers.items()):
            if manager == workflow:
                continue
            cmp = versions.get(vs.api_version)
            if cmp is None:
                try:
                    cmp = self._compare(self._convert(old, version, vs.api_version),
                                        self._convert(new, version, vs.api_version), vs.api_version)
                except MissingVersion:
                    del managers[manager]
                    continue
                versions[vs.api_version] = cmp
            conflict = vs.set.intersection(cmp.modified.union(cmp.added))
            if not conflict.empty():
                conflicts[manager] = VersionedSet(conflict, vs.api_version, False)
            if not cmp.removed.empty():
                removed[manager] = VersionedSet(cmp.removed, vs.api_version, False)
        if not force and conflicts:
            raise Conflicts.from_managers(conflicts)
        for manager, c in conflicts.items():
            vs = managers[manager]
            managers[manager] = VersionedSet(vs.set.difference(c.set), vs.api_version, vs.applied)
        for manager, r in removed.items():
            vs = managers[manager]
            managers[manager] = VersionedSet(vs.set.difference(r.set), vs.api_version, vs.applied)
        for manager in [m for m, vs in managers.items() if vs.set.empty()]:
            del managers[manager]
        return managers, compare

    def update(self, live: Any, new: Any, version: str, managers: ManagedFields,
               manager: str) -> tuple[Any, ManagedFields]:
        """Ownership after `manager` stored `new` over `live` (Updater.Update): it takes
        every field it changed, and loses the fields it removed."""
        managers = dict(managers)
        managers, compare = self._update(live, new, version, managers, manager, True)
        previous = managers.get(manager)
        s = previous.set if previous is not None else fieldpath.Set()
        s = s.difference(compare.removed).union(compare.modified).union(compare.added)
        ignored = self.ignored.get(version)
        if ignored is not None:
            s = s.recursive_difference(ignored)
        if s.empty():
            managers.pop(manager, None)
        else:
            managers[manager] = VersionedSet(s, version, False)
        return new, managers

    def apply(self, live: Any, config: Any, version: str, managers: ManagedFields, manager: str,
              force: bool) -> tuple[Any, ManagedFields]:
        """The object after `manager` applied `config` to `live`, and its owners
        (Updater.Apply; the object equals `live` when the apply changes nothing).
        Raises Conflicts unless forced."""
        managers = dict(managers)
        t = self.type_for(version)
        new = typed.merge(live, config, t)
        last = managers.get(manager)
        s = typed.to_field_set(config, t)
        ignored = self.ignored.get(version)
        if ignored is not None:
            s = s.recursive_difference(ignored)
        managers[manager] = VersionedSet(s, version, True)
        new = self._prune(new, version, managers, manager, last)
        managers, _ = self._update(live, new, version, managers, manager, force)
        return new, managers

    # -- pruning ----------------------------------------------------------------------

    def _prune(self, merged: Any, version: str, managers: ManagedFields, manager: str,
               last: VersionedSet | None) -> Any:
        """Remove what `manager` applied last time and not now, unless someone owns it."""
        if last is None or last.set.empty():
            return merged
        try:
            converted = self._convert(merged, version, last.api_version)
        except MissingVersion:
            return merged
        t = self.type_for(last.api_version)
        last_set = typed.ensure_named_fields_are_members(last.set, t)
        pruned = typed.remove_items(converted, last_set, t)
        pruned = self._add_back_owned(converted, pruned, last.api_version, managers)
        pruned = self._add_back_dangling(converted, pruned, last, t)
        return self._convert(pruned, last.api_version, version)

    def _add_back_owned(self, merged: Any, pruned: Any, pruned_version: str, managers: ManagedFields) -> Any:
        """Put back what other managers (or this apply) own (addBackOwnedItems)."""
        by_version: dict[str, fieldpath.Set] = {}
        for vs in managers.values():
            by_version[vs.api_version] = by_version.get(vs.api_version, fieldpath.Set()).union(vs.set)
        versions = [pruned_version] if pruned_version in by_version else []
        versions += [v for v in by_version if v != pruned_version]
        current = pruned_version
        for version in versions:
            try:
                merged = self._convert(merged, current, version)
                pruned = self._convert(pruned, current, version)
            except MissingVersion:
                continue
            current = version
            t = self.type_for(version)
            merged_set = typed.ensure_named_fields_are_members(typed.to_field_set(merged, t), t)
            pruned_set = typed.ensure_named_fields_are_members(typed.to_field_set(pruned, t), t)
            managed = typed.ensure_named_fields_are_members(by_version[version], t)
            pruned = typed.remove_items(merged, merged_set.difference(pruned_set.union(managed)), t)
        return self._convert(pruned, current, pruned_version)

    def _add_back_dangling(self, merged: Any, pruned: Any, last: VersionedSet, t: typed.Type) -> Any:
        """Put back what was removed but never owned by the applier (addBackDanglingItems)."""
        pruned_set = typed.ensure_named_fields_are_members(typed.to_field_set(pruned, t), t)
        merged_set = typed.ensure_named_fields_are_members(typed.to_field_set(merged, t), t)
        last_set = typed.ensure_named_fields_are_members(last.set, t)
        return typed.remove_items(merged, merged_set.difference(pruned_set).intersection(last_set), t)


def iter_conflicts(conflicts: Conflicts) -> Iterator[tuple[str, str]]:
    """(manager, printed path) of each conflict."""
    for c in conflicts.conflicts:
        yield c.manager, fieldpath.path_string(c.path)
