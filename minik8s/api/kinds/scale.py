"""The scale subresource's Scale (autoscaling/v1): not stored, only validated.

Deployments, ReplicaSets and ReplicationControllers serve /scale; the
registry builds the Scale from the object (with the kind's
Strategy.scale_selector) and writes spec.replicas back.
"""
from __future__ import annotations

from typing import Any

from minik8s.api import validation as vc

Obj = dict[str, Any]
Errors = vc.Errors


def validate_scale(obj: Obj) -> None:
    """ValidateScale for the scale subresource (autoscaling/v1 Scale)."""
    errs = Errors()
    meta = vc.as_dict(obj.get("metadata"))
    name = vc.as_str(meta.get("name"))
    if not name:
        errs.required("metadata.name", "name or generateName is required")
    else:
        errs.invalid_each("metadata.name", name, vc.dns1123_subdomain(name))
    replicas = vc.typed_int(errs, vc.typed_dict(errs, obj.get("spec"), "spec").get("replicas"), "spec.replicas")
    if replicas is not None and replicas < 0:
        errs.invalid("spec.replicas", replicas, vc.NON_NEGATIVE)
    errs.raise_invalid("Scale", name, "autoscaling")
