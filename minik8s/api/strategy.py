"""What a kind of object does on each verb: Kubernetes' registry strategies.

kube-apiserver gives every resource a strategy (pkg/registry/<group>/<kind>/
strategy.go) that its generic store calls: PrepareForCreate, Validate and
Canonicalize on create; PrepareForUpdate and ValidateUpdate on update; a
separate strategy for /status with its own PrepareForUpdate/ValidateUpdate;
AllowCreateOnUpdate; CheckGracefulDelete; and a TableConvertor for `kubectl
get`. minik8s does the same: apiserver/registry.py holds the verb mechanics
(system metadata, resourceVersions, retries, etcd) and asks the kind's
Strategy everything that differs between kinds. Each kind's strategy lives in
one module under minik8s/api/kinds/ with its defaults, validation, printer and
version conversion, so adding a kind is that module plus its row in
resources.py (which stays the one place for names, scope and subresources:
NamespaceScoped is `Resource.namespaced`).

A strategy is stateless; the same instance serves every version of its kind
and is told which version (`res`) it is working on.
"""
from __future__ import annotations

import dataclasses
from typing import Any, ClassVar, Mapping

import orjson

from minik8s.api import printing
from minik8s.api import resources
from minik8s.api import schema as schema_mod
from minik8s.api import selectors
from minik8s.api import validation

Obj = dict[str, Any]
Errors = validation.Errors


@dataclasses.dataclass(frozen=True)
class Settings:
    """kube-apiserver settings that change what strategies do."""

    # --default-not-ready-toleration-seconds / --default-unreachable-toleration-seconds,
    # which the DefaultTolerationSeconds admission plugin adds to every new pod.
    toleration_seconds: int = 300


DEFAULT_SETTINGS = Settings()


def json_copy(obj: Obj) -> Obj:
    """A deep copy of a JSON object; several times faster than copy.deepcopy."""
    copied: Obj = orjson.loads(orjson.dumps(obj))
    return copied


class SubresourceStrategy:
    """An update through a subresource (PUT/PATCH on /status, /finalize).

    `prepare_for_update` returns the object to store: the stored `old` with
    only what this subresource may change taken from the request `new`."""

    def prepare_for_update(self, res: resources.Resource, new: Obj, old: Obj) -> Obj:
        raise NotImplementedError

    def validate_update(self, res: resources.Resource, new: Obj, old: Obj) -> Errors:
        return Errors()


class StatusStrategy(SubresourceStrategy):
    """/status: only status changes, plus annotations.

    As Kubernetes' status strategies, which keep the request's metadata but
    not its labels or spec. Status itself is not validated (as before this
    moved here): kinds that need it override `validate_update`."""

    def prepare_for_update(self, res: resources.Resource, new: Obj, old: Obj) -> Obj:
        result = json_copy(old)
        result["status"] = new.get("status") or {}
        meta = new.get("metadata") or {}
        if "annotations" in meta:
            if meta["annotations"]:
                result["metadata"]["annotations"] = meta["annotations"]
            else:
                result["metadata"].pop("annotations", None)
        return result


STATUS = StatusStrategy()


class Strategy:
    """The per-kind half of every verb; subclasses override what their kind needs.

    The defaults are those of a plain kind without status (a ConfigMap)."""

    group: ClassVar[str] = ""
    kind: ClassVar[str] = ""
    # metadata.generation counts spec changes. As in Kubernetes, where the
    # strategies of kinds with a desired state set it (Deployment, Service, ...)
    # and the others leave it unset (Pod, Node, Event, ConfigMap, ...).
    track_generation: ClassVar[bool] = False
    # A PUT of a missing object creates it (rest.RESTUpdateStrategy.AllowCreateOnUpdate).
    allow_create_on_update: ClassVar[bool] = False
    # Subresources that replace part of the object on update: "status", "finalize".
    subresources: ClassVar[Mapping[str, SubresourceStrategy]] = {}
    printer: ClassVar[printing.Printer] = printing.DEFAULT_PRINTER

    # -- create and update ------------------------------------------------------

    def schema(self, res: resources.Resource) -> schema_mod.dsl.Message:
        """The kind's declaration in minik8s/api/schema for the served version `res`:
        what its protobuf, OpenAPI, structural checks and merge directives come from."""
        return schema_mod.for_kind(res.group, res.version, res.kind)

    def name_errors(self, name: str) -> list[str]:
        """Why `name` cannot name an object of this kind (ValidateObjectMeta's nameFn)."""
        return validation.dns1123_subdomain(name)

    def defaults(self, res: resources.Resource, obj: Obj, old: Obj | None, settings: Settings) -> None:
        """Fill Kubernetes' defaults into `obj` (a `res` object as the client sent it).

        `old` is the stored object on update: create-only mutations (admission
        plugins, namespace finalizers) are skipped when it is given."""

    def prepare_for_create(self, res: resources.Resource, obj: Obj) -> None:
        """Reset what a client may not set on create (usually status)."""

    def record_requester(self, res: resources.Resource, obj: Obj, user: Obj | None) -> None:
        """On create, after prepare_for_create: record who asked, for kinds that keep it
        (a CSR's spec.username/groups). `user` is the request's authenticated user in the
        authentication.k8s.io UserInfo shape, None for the API server's own writes."""

    def prepare_for_update(self, res: resources.Resource, new: Obj, old: Obj) -> None:
        """Keep what the main resource may not change: status, when /status owns it."""
        if "status" in self.subresources:
            if "status" in old:
                new["status"] = old["status"]
            else:
                new.pop("status", None)

    def validate(self, res: resources.Resource, obj: Obj) -> Errors:
        """The kind's rules for a new object (ObjectMeta is checked by the caller)."""
        errs = Errors()
        self.check(errs, res, obj, None)
        return errs

    def validate_update(self, res: resources.Resource, obj: Obj, old: Obj) -> Errors:
        """The kind's rules for an update of `old` to `obj`."""
        errs = Errors()
        self.check(errs, res, obj, old)
        return errs

    def check(self, errs: Errors, res: resources.Resource, obj: Obj, old: Obj | None) -> None:
        """The kind's rules on create (`old` None) and on update, which most kinds
        share (upstream's ValidateX(new) plus ValidateXUpdate(new, old)); kinds
        whose update rules differ override validate/validate_update instead."""

    def validate_status(self, res: resources.Resource, obj: Obj) -> Errors:
        """The types of what the status holds (a status is written by components
        through /status and read back by printers and controllers)."""
        errs = Errors()
        if "status" in obj:
            validation.validate_status_shape(errs, obj["status"])
        return errs

    def canonicalize(self, res: resources.Resource, obj: Obj) -> None:
        """Put a validated object into its canonical form before it is stored."""

    # -- delete -------------------------------------------------------------------

    def check_delete(self, res: resources.Resource, name: str) -> None:
        """Raise when an object of this name may never be deleted."""

    def graceful_delete_seconds(self, obj: Obj, options: Mapping[str, Any]) -> int | None:
        """CheckGracefulDelete: seconds the object gets to go away; None/0 removes it at once."""
        return None

    def prepare_for_delete(self, obj: Obj) -> None:
        """What a delete that has to wait changes besides deletionTimestamp."""

    def blocks_removal(self, obj: Obj) -> bool:
        """Whether a terminating object without finalizers must still wait
        (a namespace until its content is gone: spec.finalizers)."""
        return False

    # -- scale, versions, tables ----------------------------------------------------

    def scale_selector(self, obj: Obj) -> str:
        """The label selector a Scale reports in status.selector."""
        return selectors.selector_string((obj.get("spec") or {}).get("selector"))

    def to_version(self, res: resources.Resource, obj: Obj) -> Obj:
        """The stored object in the shape of the served version `res`."""
        return obj

    def from_version(self, res: resources.Resource, obj: Any) -> Any:
        """A request body sent for the served version `res`, in the stored shape
        (anything but an object is left for the registry to reject)."""
        return obj
