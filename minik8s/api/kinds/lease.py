"""Leases (coordination.k8s.io): validation and the printer.

The Lease strategy (pkg/registry/coordination/lease: a PUT may create, no
generation), ValidateLease and printLease. Node heartbeats and leader
election write these.
"""
from __future__ import annotations

import datetime
from typing import Any, Mapping

from minik8s.api import printing
from minik8s.api import resources
from minik8s.api import strategy
from minik8s.api import validation as vc

Obj = dict[str, Any]
View = Mapping[str, Any]
Cells = printing.Cells
Errors = vc.Errors


# ---------------------------------------------------------------------------
# printer


COLUMNS = (
    printing.name_column(),
    printing.column("Holder", desc="holderIdentity contains the identity of the holder of a current lease."),
    printing.age_column(),
)


def _lease_cells(obj: View, now: datetime.datetime) -> Cells:
    return [printing.name(obj), vc.as_dict(obj.get("spec")).get("holderIdentity") or "", printing.age(obj, now)]


class LeaseStrategy(strategy.Strategy):
    group, kind = "coordination.k8s.io", "Lease"
    allow_create_on_update = True
    printer = printing.Printer(COLUMNS, _lease_cells)

    def check(self, errs: Errors, res: resources.Resource, obj: Obj, old: Obj | None) -> None:
        spec = vc.typed_dict(errs, obj.get("spec"), "spec")
        for key in ("holderIdentity", "acquireTime", "renewTime", "preferredHolder", "strategy"):
            vc.typed_str(errs, spec.get(key), f"spec.{key}")
        duration = vc.typed_int(errs, spec.get("leaseDurationSeconds"), "spec.leaseDurationSeconds")
        if duration is not None and duration <= 0:
            errs.invalid("spec.leaseDurationSeconds", duration, "must be greater than 0")
        transitions = vc.typed_int(errs, spec.get("leaseTransitions"), "spec.leaseTransitions")
        if transitions is not None and transitions < 0:
            errs.invalid("spec.leaseTransitions", transitions, vc.NON_NEGATIVE)
        if spec.get("preferredHolder") and not spec.get("strategy"):
            errs.forbidden("spec.preferredHolder", "may only be specified if `strategy` is defined")
