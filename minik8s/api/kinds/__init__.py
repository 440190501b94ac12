"""Every kind minik8s serves, one strategy each: the one place a kind's rules live.

`STRATEGIES` maps (group, kind) to its Strategy (see minik8s/api/strategy.py);
the resource table (minik8s/api/resources.py) names what is served, and a unit
test checks that every served resource has a strategy with all its pieces. The
functions below are what the API server, the CLI and the tests call: they look
the strategy up and run the generic part (ObjectMeta) around the kind's part.
"""
from __future__ import annotations

import copy
import datetime
from typing import Any

import orjson

from minik8s.api import errors
from minik8s.api import printing
from minik8s.api import resources
from minik8s.api import strategy
from minik8s.api import validation
from minik8s.api.kinds import batch
from minik8s.api.kinds import certificates
from minik8s.api.kinds import config
from minik8s.api.kinds import event
from minik8s.api.kinds import hpa
from minik8s.api.kinds import lease
from minik8s.api.kinds import namespace
from minik8s.api.kinds import node
from minik8s.api.kinds import pod
from minik8s.api.kinds import rbac
from minik8s.api.kinds import service
from minik8s.api.kinds import serviceaccount
from minik8s.api.kinds import workloads
from minik8s.api.schema import structural

Obj = dict[str, Any]

_ALL: tuple[strategy.Strategy, ...] = (
    pod.PodStrategy(),
    service.ServiceStrategy(),
    service.EndpointsStrategy(),
    workloads.ReplicationControllerStrategy(),
    workloads.DeploymentStrategy(),
    workloads.ReplicaSetStrategy(),
    workloads.DaemonSetStrategy(),
    workloads.ControllerRevisionStrategy(),
    batch.JobStrategy(),
    batch.CronJobStrategy(),
    namespace.NamespaceStrategy(),
    node.NodeStrategy(),
    event.EventStrategy(),
    event.EventsV1Strategy(),
    config.ConfigMapStrategy(),
    config.SecretStrategy(),
    serviceaccount.ServiceAccountStrategy(),
    hpa.HorizontalPodAutoscalerStrategy(),
    lease.LeaseStrategy(),
    certificates.CertificateSigningRequestStrategy(),
    *rbac.STRATEGIES,
)

STRATEGIES: dict[tuple[str, str], strategy.Strategy] = {(s.group, s.kind): s for s in _ALL}


def lookup(res: resources.Resource) -> strategy.Strategy | None:
    return STRATEGIES.get((res.group, res.kind))


def for_resource(res: resources.Resource) -> strategy.Strategy:
    """The strategy of a served resource (every served one has one: see the unit test)."""
    found = lookup(res)
    if found is None:
        raise KeyError(f"no strategy for {res.kind} in {res.group or 'core'}")
    return found


def apply_defaults(res: resources.Resource, obj: Obj, old: Obj | None = None, *,
                   settings: strategy.Settings = strategy.DEFAULT_SETTINGS) -> None:
    """Fill Kubernetes' defaults into `obj`, a `res` object as the client sent it
    (`old`: the stored object, on update)."""
    for_resource(res).defaults(res, obj, old, settings)


def check_types(res: resources.Resource, obj: Obj) -> None:
    """Raise errors.Invalid (422) unless every member of `obj` has the type its kind's
    schema declares: the last check of what is stored, run on the object as it will
    be written (after defaulting, after any patch or apply), so no path can store
    what Go's decoder would refuse. Unknown members are left to the handlers
    (fieldValidation decides about them); a copy is checked, as the check prunes.
    Kinds without a schema (test kinds) are not checked."""
    try:
        msg = for_resource(res).schema(res)
    except KeyError:
        return
    try:
        copied = orjson.loads(orjson.dumps(obj))
    except TypeError:  # what orjson cannot write (an integer beyond 64 bits) is judged as it is
        copied = copy.deepcopy(obj)
    try:
        structural.check(msg, copied)
    except structural.StructuralError as e:
        name = validation.as_str(validation.as_dict(obj.get("metadata")).get("name"))
        raise errors.Invalid(res.kind, name, [errors.field_error(e.path, str(e), "FieldValueTypeInvalid")],
                             group=res.group) from None


def validate(res: resources.Resource, obj: Obj, old: Obj | None = None) -> None:
    """Raise errors.Invalid (422) unless `obj` (an update of `old`) is acceptable:
    ObjectMeta, then the kind's own rules, as rest.BeforeCreate/BeforeUpdate (every
    problem they find, worded as Kubernetes' validation), then, when they pass, the
    schema's types (check_types: what no rule reads is checked too)."""
    kind = for_resource(res)
    errs = validation.Errors()
    meta = validation.as_dict(obj.get("metadata"))
    if old is None:
        validation.validate_object_meta(errs, meta, res.namespaced, kind.name_errors)
        errs.extend(kind.validate(res, obj))
    else:
        validation.validate_object_meta_update(errs, meta, validation.as_dict(old.get("metadata")), kind.name_errors)
        errs.extend(kind.validate_update(res, obj, old))
    errs.extend(kind.validate_status(res, obj))
    errs.raise_invalid(res.kind, validation.as_str(meta.get("name")), res.group)
    check_types(res, obj)


def validate_status(res: resources.Resource, obj: Obj) -> None:
    """Raise errors.Invalid (422) unless `obj`, written through /status, has the status
    its kind reads and its schema's types."""
    errs = for_resource(res).validate_status(res, obj)
    errs.raise_invalid(res.kind, validation.as_str(validation.as_dict(obj.get("metadata")).get("name")), res.group)
    check_types(res, obj)


def name_errors(res: resources.Resource, name: str, prefix: bool = False) -> list[str]:
    """Why `name` cannot name a `res` object (`prefix`: it is a generateName)."""
    return validation.name_errors(for_resource(res).name_errors, name, prefix)


def validate_name(res: resources.Resource, name: str, prefix: bool = False) -> str | None:
    """The first reason `name` is not a valid `res` name, or None."""
    msgs = name_errors(res, name, prefix)
    return msgs[0] if msgs else None


def to_version(res: resources.Resource, obj: Obj) -> Obj:
    """A stored object in the shape of the served version `res` (autoscaling/v1 HPA)."""
    found = lookup(res)
    return found.to_version(res, obj) if found is not None else obj


def from_version(res: resources.Resource, obj: Any) -> Any:
    """A request body for the served version `res` in the stored shape."""
    found = lookup(res)
    return found.from_version(res, obj) if found is not None else obj


def printer_for(res: resources.Resource) -> printing.Printer:
    """The kind's Table printer; Name and Age for a kind without a strategy."""
    found = lookup(res)
    return found.printer if found is not None else printing.DEFAULT_PRINTER


def to_table(res: resources.Resource, objects: list[dict[str, Any]], *,
             list_meta: dict[str, Any] | None = None, include_object: str = "Metadata",
             now: datetime.datetime | None = None, with_definitions: bool = True) -> dict[str, Any]:
    """A `meta.k8s.io/v1` Table of `objects` (already in `res`'s served shape); see printing.render."""
    return printing.render(printer_for(res), objects, list_meta=list_meta, include_object=include_object,
                           now=now, with_definitions=with_definitions)
