"""Namespaces: defaults, the finalize subresource, deletion that waits for the content.

The Namespace strategy (pkg/registry/core/namespace: the `kubernetes`
finalizer added on create, phase Terminating on delete, removal only once
spec.finalizers is empty, /finalize changing nothing else), its validation and
printNamespace.
"""
from __future__ import annotations

import datetime
from typing import Any, Mapping

from minik8s.api import defaults
from minik8s.api import errors
from minik8s.api import printing
from minik8s.api import resources
from minik8s.api import strategy
from minik8s.api import validation as vc

Obj = dict[str, Any]
View = Mapping[str, Any]
Cells = printing.Cells
Errors = vc.Errors

# Namespaces the API server needs and so never deletes.
UNDELETABLE = ("default", "kube-system", "kube-public")


# ---------------------------------------------------------------------------
# printer


COLUMNS = (printing.name_column(), printing.column("Status", desc="The status of the namespace"), printing.age_column())


def _namespace_cells(obj: View, now: datetime.datetime) -> Cells:
    return [printing.name(obj), (obj.get("status") or {}).get("phase", ""), printing.age(obj, now)]


# ---------------------------------------------------------------------------
# the strategy


class FinalizeStrategy(strategy.SubresourceStrategy):
    """/finalize: only spec.finalizers changes (what the namespace controller clears)."""

    def prepare_for_update(self, res: resources.Resource, new: Obj, old: Obj) -> Obj:
        result = strategy.json_copy(old)
        spec = new.get("spec")
        if spec is not None and not isinstance(spec, dict):
            result["spec"] = spec  # kept as sent, for validate_update to refuse
        else:
            result.setdefault("spec", {})["finalizers"] = (spec or {}).get("finalizers") or []
        return result

    def validate_update(self, res: resources.Resource, new: Obj, old: Obj) -> Errors:
        # ValidateNamespaceFinalizeUpdate: every finalizer name, by index.
        errs = Errors()
        spec = vc.typed_dict(errs, new.get("spec"), "spec")
        vc.validate_finalizers(errs, spec.get("finalizers"), "spec.finalizers")
        return errs


class NamespaceStrategy(strategy.Strategy):
    group, kind = "", "Namespace"
    subresources = {"status": strategy.STATUS, "finalize": FinalizeStrategy()}
    printer = printing.Printer(COLUMNS, _namespace_cells)

    def name_errors(self, name: str) -> list[str]:
        return vc.dns1123_label(name)

    def defaults(self, res: resources.Resource, obj: Obj, old: Obj | None, settings: strategy.Settings) -> None:
        meta = defaults.ensure_dict(obj, "metadata")
        name = meta.get("name")
        if name:
            defaults.ensure_dict(meta, "labels")["kubernetes.io/metadata.name"] = name
        spec = defaults.ensure_dict(obj, "spec")
        if old is None:
            # Namespace PrepareForCreate: the kubernetes finalizer is added only at
            # creation, because namespace deletion removes it later.
            finalizers = spec.get("finalizers")
            if not isinstance(finalizers, list):
                finalizers = []
            if "kubernetes" not in finalizers:
                finalizers.append("kubernetes")
            spec["finalizers"] = finalizers
        status = defaults.ensure_dict(obj, "status")
        defaults.set_if_zero(status, "phase", "Active")

    def prepare_for_create(self, res: resources.Resource, obj: Obj) -> None:
        obj["status"] = {"phase": "Active"}

    def prepare_for_update(self, res: resources.Resource, new: Obj, old: Obj) -> None:
        # As upstream: spec.finalizers belongs to /finalize (the namespace controller's);
        # an update of the namespace itself keeps the stored ones, as it keeps status.
        super().prepare_for_update(res, new, old)
        old_spec = vc.as_dict(old.get("spec"))
        new_spec = new.get("spec")
        if new_spec is None:
            new_spec = new["spec"] = {}
        if not isinstance(new_spec, dict):
            return  # an ill-typed spec is refused by validation
        if "finalizers" in old_spec:
            new_spec["finalizers"] = old_spec["finalizers"]
        else:
            new_spec.pop("finalizers", None)

    def check(self, errs: Errors, res: resources.Resource, obj: Obj, old: Obj | None) -> None:
        spec = vc.typed_dict(errs, obj.get("spec"), "spec")
        if old is None:
            vc.validate_finalizers(errs, spec.get("finalizers"), "spec.finalizers", indexed=False)

    def check_delete(self, res: resources.Resource, name: str) -> None:
        if name in UNDELETABLE:
            raise errors.Forbidden(f'namespaces "{name}" is forbidden: this namespace may not be deleted')

    def prepare_for_delete(self, obj: Obj) -> None:
        obj.setdefault("status", {})["phase"] = "Terminating"

    def blocks_removal(self, obj: Obj) -> bool:
        # The namespace controller empties spec.finalizers once the content is gone.
        return bool(vc.as_dict(obj.get("spec")).get("finalizers"))
