"""Deployments, ReplicaSets and ReplicationControllers: the workloads that keep pod replicas.

Their strategies (pkg/registry/apps/deployment, apps/replicaset,
core/replicationcontroller), defaults (pkg/apis/apps/v1/defaults.go,
SetDefaults_ReplicationController), validation (pkg/apis/apps/validation,
ValidateReplicationController) and printers. The three share the pod template
rules (podspec.py, podspec_validation.py) and the selector-must-match-template
check, which is why they are one module.
"""
from __future__ import annotations

import datetime
from typing import Any, Mapping

from minik8s.api import defaults
from minik8s.api import errors
from minik8s.api import printing
from minik8s.api import resources
from minik8s.api import selectors
from minik8s.api import strategy
from minik8s.api import validation as vc
from minik8s.api.kinds import podspec
from minik8s.api.kinds import podspec_validation

Obj = dict[str, Any]
View = Mapping[str, Any]
Cells = printing.Cells
Errors = vc.Errors


# ---------------------------------------------------------------------------
# defaults


def _default_replicas(spec: Obj) -> None:
    if spec.get("replicas") is None:
        spec["replicas"] = 1


# ---------------------------------------------------------------------------
# validation


def _template_for_replicas(errs: Errors, template: Any, matches: bool | None, what: str, path: str) -> None:
    """ValidatePodTemplateSpecForReplicaSet / ...ForRC; `matches` is None for an empty selector."""
    template = vc.as_dict(template)
    labels = vc.as_dict(template.get("metadata")).get("labels")
    if matches is False:
        errs.invalid(f"{path}.metadata.labels", vc.go_string_map(labels if isinstance(labels, dict) else None),
                     "`selector` does not match template `labels`")
    podspec_validation.validate_pod_template(errs, template, path)
    spec = vc.as_dict(template.get("spec"))
    restart = vc.as_str(spec.get("restartPolicy"))
    if restart != "Always":
        errs.not_supported(f"{path}.spec.restartPolicy", restart, ("Always",))
    if spec.get("activeDeadlineSeconds") is not None:
        errs.forbidden(f"{path}.spec.activeDeadlineSeconds", f"activeDeadlineSeconds in {what} is not Supported")


def _replica_set_spec(errs: Errors, spec: Obj, what: str, template_what: str) -> None:
    """The selector and template half of ValidateDeploymentSpec / ValidateReplicaSetSpec."""
    sel = spec.get("selector")
    matches: bool | None = False  # a nil selector selects nothing
    if sel is None:
        errs.required("spec.selector")
    else:
        ok = vc.validate_label_selector(errs, sel, "spec.selector")
        sel_dict = vc.as_dict(sel)
        if not vc.as_dict(sel_dict.get("matchLabels")) and not vc.as_list(sel_dict.get("matchExpressions")):
            errs.invalid("spec.selector", vc.go_label_selector(sel), f"empty selector is invalid for {what}")
            matches = None  # selects everything: nothing to compare
        elif not ok:
            # LabelSelectorAsSelector fails, and upstream then skips the template.
            errs.invalid("spec.selector", vc.go_label_selector(sel), "invalid label selector")
            return
        else:
            labels = vc.as_dict(vc.as_dict(vc.as_dict(spec.get("template")).get("metadata")).get("labels"))
            matches = selectors.from_label_selector(sel_dict).matches({k: vc.as_str(v) for k, v in labels.items()})
    _template_for_replicas(errs, spec.get("template"), matches, template_what, "spec.template")


def _selector_immutable(errs: Errors, obj: Obj, old: Obj | None) -> None:
    if old is None:
        return
    new_sel = vc.as_dict(obj.get("spec")).get("selector")
    old_sel = vc.as_dict(old.get("spec")).get("selector")
    vc.immutable(errs, "spec.selector", new_sel, old_sel, vc.go_label_selector(new_sel))


def _int_or_percent(errs: Errors, value: Any, path: str) -> None:
    """ValidatePositiveIntOrPercent."""
    if isinstance(value, str):
        errs.invalid_each(path, vc.go_int_or_string(value), vc.percent(value))
    else:
        vc.nonnegative(errs, value, path)


def _int_or_percent_value(value: Any) -> int:
    if isinstance(value, str):
        if vc.percent(value):
            return 0
        return int(value[:-1])
    return vc.as_int(value) or 0


def _deployment_strategy(errs: Errors, rollout: Any) -> None:
    rollout = vc.as_dict(rollout)
    kind = rollout.get("type")
    rolling = rollout.get("rollingUpdate")
    path = "spec.strategy"
    if kind == "Recreate":
        if rolling is not None:
            errs.forbidden(f"{path}.rollingUpdate", "may not be specified when strategy `type` is 'Recreate'")
    elif kind == "RollingUpdate":
        if rolling is None:
            errs.required(f"{path}.rollingUpdate", "this should be defaulted and never be nil")
            return
        rolling = vc.as_dict(rolling)
        unavailable, surge = rolling.get("maxUnavailable"), rolling.get("maxSurge")
        _int_or_percent(errs, unavailable, f"{path}.rollingUpdate.maxUnavailable")
        _int_or_percent(errs, surge, f"{path}.rollingUpdate.maxSurge")
        if _int_or_percent_value(unavailable) == 0 and _int_or_percent_value(surge) == 0:
            errs.invalid(f"{path}.rollingUpdate.maxUnavailable", vc.go_int_or_string(unavailable),
                         "may not be 0 when `maxSurge` is 0")
        if isinstance(unavailable, str) and not vc.percent(unavailable) and int(unavailable[:-1]) > 100:
            errs.invalid(f"{path}.rollingUpdate.maxUnavailable", vc.go_int_or_string(unavailable),
                         "must not be greater than 100%")
    else:
        rolling_repr = ("(*apps.RollingUpdateDeployment)(nil)" if rolling is None
                        else "&apps.RollingUpdateDeployment{...}")
        errs.not_supported(path, vc.GoRepr(f"apps.DeploymentStrategy{{Type:{vc.go_quote(vc.as_str(kind))}, "
                                           f"RollingUpdate:{rolling_repr}}}"), ("Recreate", "RollingUpdate"))


# ---------------------------------------------------------------------------
# printers


DEPLOYMENT_COLUMNS = (
    printing.name_column(),
    printing.column("Ready", desc="Number of the pod with ready state"),
    printing.column("Up-to-date", desc="Total number of non-terminated pods targeted by this deployment that "
                                       "have the desired template spec."),
    printing.column("Available", desc="Total number of available pods (ready for at least minReadySeconds) "
                                      "targeted by this deployment."),
    printing.age_column(),
    printing.column("Containers", desc=printing.CONTAINERS_DOC, priority=1),
    printing.column("Images", desc=printing.IMAGES_DOC, priority=1),
    printing.column("Selector", desc="Label selector for pods. Existing ReplicaSets whose pods are selected by "
                                     "this will be the ones affected by this deployment.", priority=1),
)


def _spec_replicas(obj: View) -> int:
    # Defaulting sets spec.replicas to 1; a stored object always has it.
    value = (obj.get("spec") or {}).get("replicas")
    return 1 if value is None else int(value)


def _deployment_cells(obj: View, now: datetime.datetime) -> Cells:
    status = obj.get("status") or {}
    try:
        selector = printing.label_selector_string((obj.get("spec") or {}).get("selector"))
    except errors.StatusError:
        selector = "<invalid>"
    names, images = printing.layout_containers(printing.template_containers(obj))
    return [
        printing.name(obj), f"{int(status.get('readyReplicas') or 0)}/{_spec_replicas(obj)}",
        int(status.get("updatedReplicas") or 0), int(status.get("availableReplicas") or 0), printing.age(obj, now),
        names, images, selector,
    ]


def _replica_columns(selector_doc: str) -> tuple[dict[str, Any], ...]:
    return (
        printing.name_column(),
        printing.column("Desired", "integer", "Replicas is the number of desired replicas."),
        printing.column("Current", "integer", "Replicas is the most recently observed number of replicas."),
        printing.column("Ready", "integer", "The number of ready replicas for this replica set."),
        printing.age_column(),
        printing.column("Containers", desc=printing.CONTAINERS_DOC, priority=1),
        printing.column("Images", desc=printing.IMAGES_DOC, priority=1),
        printing.column("Selector", desc=selector_doc, priority=1),
    )


REPLICASET_COLUMNS = _replica_columns(
    "Selector is a label query over pods that should match the replica count.")
RC_COLUMNS = _replica_columns(
    "Selector is a label query over pods that should match the Replicas count. If Selector is empty, "
    "it is defaulted to the labels present on the Pod template.")


def _replicaset_cells(obj: View, now: datetime.datetime) -> Cells:
    status = obj.get("status") or {}
    names, images = printing.layout_containers(printing.template_containers(obj))
    return [
        printing.name(obj), _spec_replicas(obj), int(status.get("replicas") or 0),
        int(status.get("readyReplicas") or 0), printing.age(obj, now), names, images,
        printing.format_label_selector((obj.get("spec") or {}).get("selector")),
    ]


def _rc_cells(obj: View, now: datetime.datetime) -> Cells:
    status = obj.get("status") or {}
    names, images = printing.layout_containers(printing.template_containers(obj))
    return [
        printing.name(obj), _spec_replicas(obj), int(status.get("replicas") or 0),
        int(status.get("readyReplicas") or 0), printing.age(obj, now), names, images,
        printing.format_labels((obj.get("spec") or {}).get("selector")),
    ]


# ---------------------------------------------------------------------------
# the strategies


class _Workload(strategy.Strategy):
    """What the three have in common: a desired state (generation) and a status
    subresource, reset on create."""

    track_generation = True
    subresources = {"status": strategy.STATUS}

    def prepare_for_create(self, res: resources.Resource, obj: Obj) -> None:
        obj["status"] = {}


class DeploymentStrategy(_Workload):
    group, kind = "apps", "Deployment"
    printer = printing.Printer(DEPLOYMENT_COLUMNS, _deployment_cells)

    def defaults(self, res: resources.Resource, obj: Obj, old: Obj | None, settings: strategy.Settings) -> None:
        spec = defaults.ensure_dict(obj, "spec")
        _default_replicas(spec)
        rollout = defaults.ensure_dict(spec, "strategy")
        defaults.set_if_zero(rollout, "type", "RollingUpdate")
        if rollout["type"] == "RollingUpdate":
            rolling = defaults.ensure_dict(rollout, "rollingUpdate")
            for key in ("maxUnavailable", "maxSurge"):
                if rolling.get(key) is None:
                    rolling[key] = "25%"
        if spec.get("revisionHistoryLimit") is None:
            spec["revisionHistoryLimit"] = 10
        if spec.get("progressDeadlineSeconds") is None:
            spec["progressDeadlineSeconds"] = 600
        podspec.template_defaults(spec, True)

    def check(self, errs: Errors, res: resources.Resource, obj: Obj, old: Obj | None) -> None:
        spec = vc.as_dict(obj.get("spec"))
        vc.nonnegative(errs, spec.get("replicas"), "spec.replicas")
        _replica_set_spec(errs, spec, "deployment", "ReplicaSet")
        _deployment_strategy(errs, spec.get("strategy"))
        vc.nonnegative(errs, spec.get("minReadySeconds"), "spec.minReadySeconds")
        vc.nonnegative(errs, spec.get("revisionHistoryLimit"), "spec.revisionHistoryLimit")
        deadline = vc.as_int(spec.get("progressDeadlineSeconds"))
        if deadline is not None:
            vc.nonnegative(errs, deadline, "spec.progressDeadlineSeconds")
            if deadline <= (vc.as_int(spec.get("minReadySeconds")) or 0):
                errs.invalid("spec.progressDeadlineSeconds", deadline, "must be greater than minReadySeconds")
        _selector_immutable(errs, obj, old)


class ReplicaSetStrategy(_Workload):
    group, kind = "apps", "ReplicaSet"
    printer = printing.Printer(REPLICASET_COLUMNS, _replicaset_cells)

    def defaults(self, res: resources.Resource, obj: Obj, old: Obj | None, settings: strategy.Settings) -> None:
        spec = defaults.ensure_dict(obj, "spec")
        _default_replicas(spec)
        podspec.template_defaults(spec, True)

    def check(self, errs: Errors, res: resources.Resource, obj: Obj, old: Obj | None) -> None:
        spec = vc.as_dict(obj.get("spec"))
        vc.nonnegative(errs, spec.get("replicas"), "spec.replicas")
        vc.nonnegative(errs, spec.get("minReadySeconds"), "spec.minReadySeconds")
        # Upstream ValidateReplicaSetSpec reuses the Deployment wording.
        _replica_set_spec(errs, spec, "deployment", "ReplicaSet")
        _selector_immutable(errs, obj, old)


class ReplicationControllerStrategy(_Workload):
    group, kind = "", "ReplicationController"
    printer = printing.Printer(RC_COLUMNS, _rc_cells)

    def defaults(self, res: resources.Resource, obj: Obj, old: Obj | None, settings: strategy.Settings) -> None:
        spec = defaults.ensure_dict(obj, "spec")
        template = defaults.child(spec, "template")
        labels = defaults.child(defaults.child(template, "metadata"), "labels")
        if labels is not None:
            if not spec.get("selector"):
                spec["selector"] = dict(labels)
            meta = defaults.ensure_dict(obj, "metadata")
            if not meta.get("labels"):
                meta["labels"] = dict(labels)
        _default_replicas(spec)
        podspec.template_defaults(spec, False)

    def check(self, errs: Errors, res: resources.Resource, obj: Obj, old: Obj | None) -> None:
        spec = vc.as_dict(obj.get("spec"))
        vc.nonnegative(errs, spec.get("minReadySeconds"), "spec.minReadySeconds")
        selector = {k: vc.as_str(v) for k, v in vc.as_dict(spec.get("selector")).items()}
        if not selector:
            errs.required("spec.selector")
        vc.nonnegative(errs, spec.get("replicas"), "spec.replicas")
        template = spec.get("template")
        if template is None:
            errs.required("spec.template")
            return
        template_meta = vc.as_dict(vc.as_dict(template).get("metadata"))
        labels = {k: vc.as_str(v) for k, v in vc.as_dict(template_meta.get("labels")).items()}
        matches = None if not selector else all(labels.get(k) == v for k, v in selector.items())
        _template_for_replicas(errs, template, matches, "ReplicationController", "spec.template")

    def scale_selector(self, obj: Obj) -> str:
        # An RC's selector is a plain map, not a LabelSelector.
        return str(selectors.from_equality_map((obj.get("spec") or {}).get("selector")))
