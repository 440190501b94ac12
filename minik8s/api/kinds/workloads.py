"""Deployments, ReplicaSets, ReplicationControllers and DaemonSets: the workloads that keep pods running.

Their strategies (pkg/registry/apps/deployment, apps/replicaset,
apps/daemonset, core/replicationcontroller), defaults
(pkg/apis/apps/v1/defaults.go, SetDefaults_ReplicationController), validation
(pkg/apis/apps/validation, ValidateReplicationController) and printers. They
share the pod template rules (podspec.py, podspec_validation.py), the
selector-must-match-template check and the rolling-update numbers, which is
why they are one module; ControllerRevision, the DaemonSet's history, is here
with it.
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
    elif value is not None and vc.as_int(value) is None:
        vc.wrong_type(errs, path, value, "integer or string")
    else:
        vc.nonnegative(errs, value, path)


def _int_or_percent_value(value: Any) -> int:
    if isinstance(value, str):
        if vc.percent(value):
            return 0
        return int(value[:-1])
    return vc.as_int(value) or 0


def _not_more_than_100_percent(errs: Errors, value: Any, path: str) -> None:
    if isinstance(value, str) and not vc.percent(value) and int(value[:-1]) > 100:
        errs.invalid(path, vc.go_int_or_string(value), "must not be greater than 100%")


def _daemonset_update_strategy(errs: Errors, update: Any) -> None:
    """ValidateDaemonSetUpdateStrategy and ValidateRollingUpdateDaemonSet."""
    update = vc.as_dict(update)
    kind = update.get("type")
    path = "spec.updateStrategy"
    if kind == "OnDelete":
        return
    if kind != "RollingUpdate":
        rolling_repr = ("(*apps.RollingUpdateDaemonSet)(nil)" if update.get("rollingUpdate") is None
                        else "&apps.RollingUpdateDaemonSet{...}")
        errs.not_supported(path, vc.GoRepr(f"apps.DaemonSetUpdateStrategy{{Type:{vc.go_quote(vc.as_str(kind))}, "
                                           f"RollingUpdate:{rolling_repr}}}"), ("RollingUpdate", "OnDelete"))
        return
    if update.get("rollingUpdate") is None:
        errs.required(f"{path}.rollingUpdate")
        return
    rolling = vc.as_dict(update["rollingUpdate"])
    unavailable, surge = rolling.get("maxUnavailable"), rolling.get("maxSurge")
    _int_or_percent(errs, unavailable, f"{path}.rollingUpdate.maxUnavailable")
    _int_or_percent(errs, surge, f"{path}.rollingUpdate.maxSurge")
    _not_more_than_100_percent(errs, unavailable, f"{path}.rollingUpdate.maxUnavailable")
    _not_more_than_100_percent(errs, surge, f"{path}.rollingUpdate.maxSurge")
    has_unavailable = _int_or_percent_value(unavailable) != 0
    has_surge = _int_or_percent_value(surge) != 0
    if has_unavailable and has_surge:
        errs.invalid(f"{path}.rollingUpdate.maxSurge", vc.go_int_or_string(surge),
                     "may not be set when maxUnavailable is non-zero")
    elif not has_unavailable and not has_surge:
        errs.required(f"{path}.rollingUpdate.maxUnavailable", "cannot be 0 when maxSurge is 0")


def _deployment_strategy(errs: Errors, rollout: Any) -> None:
    rollout = vc.typed_dict(errs, rollout, "spec.strategy")
    kind = rollout.get("type")
    rolling = rollout.get("rollingUpdate")
    if rolling is not None and not isinstance(rolling, dict):
        vc.wrong_type(errs, "spec.strategy.rollingUpdate", rolling, "object")
        return
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
    value = vc.as_int(vc.as_dict(obj.get("spec")).get("replicas"))
    return 1 if value is None else value


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


DAEMONSET_COLUMNS = (
    printing.name_column(),
    printing.column("Desired", "integer", "The total number of nodes that should be running the daemon pod "
                                          "(including nodes correctly running the daemon pod)."),
    printing.column("Current", "integer", "The number of nodes that are running at least 1 daemon pod and are "
                                          "supposed to run the daemon pod."),
    printing.column("Ready", "integer", "numberReady is the number of nodes that should be running the daemon pod "
                                        "and have one or more of the daemon pod running with a Ready Condition."),
    printing.column("Up-to-date", "integer", "The total number of nodes that are running updated daemon pod"),
    printing.column("Available", "integer", "The number of nodes that should be running the daemon pod and have one "
                                            "or more of the daemon pod running and available (ready for at least "
                                            "spec.minReadySeconds)"),
    printing.column("Node Selector", desc="NodeSelector is a selector which must be true for the pod to fit on a "
                                          "node. Selector which must match a node's labels for the pod to be "
                                          "scheduled on that node."),
    printing.age_column(),
    printing.column("Containers", desc=printing.CONTAINERS_DOC, priority=1),
    printing.column("Images", desc=printing.IMAGES_DOC, priority=1),
    printing.column("Selector", desc="A label query over pods that are managed by the daemon set.", priority=1),
)


def _daemonset_cells(obj: View, now: datetime.datetime) -> Cells:
    status = obj.get("status") or {}
    template_spec = ((obj.get("spec") or {}).get("template") or {}).get("spec") or {}
    names, images = printing.layout_containers(printing.template_containers(obj))
    return [
        printing.name(obj), int(status.get("desiredNumberScheduled") or 0),
        int(status.get("currentNumberScheduled") or 0), int(status.get("numberReady") or 0),
        int(status.get("updatedNumberScheduled") or 0), int(status.get("numberAvailable") or 0),
        printing.format_labels(template_spec.get("nodeSelector")), printing.age(obj, now), names, images,
        printing.format_label_selector((obj.get("spec") or {}).get("selector")),
    ]


CONTROLLER_REVISION_COLUMNS = (
    printing.name_column(),
    printing.column("Controller", desc="Controller of the object"),
    printing.column("Revision", "integer", "Revision indicates the revision of the state represented by Data."),
    printing.age_column(),
)


def _controller_revision_cells(obj: View, now: datetime.datetime) -> Cells:
    controller = "<none>"
    for ref in (obj.get("metadata") or {}).get("ownerReferences") or []:
        if ref.get("controller"):
            group = vc.as_str(ref.get("apiVersion")).rpartition("/")[0]
            kind = vc.as_str(ref.get("kind")).lower()
            controller = f"{kind}.{group}/{ref.get('name', '')}" if group else f"{kind}/{ref.get('name', '')}"
            break
    return [printing.name(obj), controller, int(obj.get("revision") or 0), printing.age(obj, now)]


# ---------------------------------------------------------------------------
# the strategies


class _Workload(strategy.Strategy):
    """What the three have in common: a desired state (generation) and a status
    subresource, reset on create."""

    track_generation = True
    subresources = {"status": strategy.STATUS}

    def prepare_for_create(self, res: resources.Resource, obj: Obj) -> None:
        obj["status"] = {}

    def validate_status(self, res: resources.Resource, obj: Obj) -> Errors:
        errs = Errors()
        if "status" in obj:
            vc.validate_status_shape(errs, obj["status"], ints=(
                "replicas", "readyReplicas", "availableReplicas", "updatedReplicas", "unavailableReplicas",
                "fullyLabeledReplicas", "terminatingReplicas", "collisionCount"))
        return errs


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
        spec = vc.typed_dict(errs, obj.get("spec"), "spec")
        vc.nonnegative(errs, spec.get("replicas"), "spec.replicas")
        vc.typed_bool(errs, spec.get("paused"), "spec.paused")
        _replica_set_spec(errs, spec, "deployment", "ReplicaSet")
        _deployment_strategy(errs, spec.get("strategy"))
        vc.nonnegative(errs, spec.get("minReadySeconds"), "spec.minReadySeconds")
        vc.nonnegative(errs, spec.get("revisionHistoryLimit"), "spec.revisionHistoryLimit")
        deadline = vc.typed_int(errs, spec.get("progressDeadlineSeconds"), "spec.progressDeadlineSeconds")
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
        spec = vc.typed_dict(errs, obj.get("spec"), "spec")
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
        spec = vc.typed_dict(errs, obj.get("spec"), "spec")
        vc.nonnegative(errs, spec.get("minReadySeconds"), "spec.minReadySeconds")
        raw_selector = spec.get("selector")
        selector = vc.typed_str_map(errs, raw_selector, "spec.selector")
        if not selector and (raw_selector is None or isinstance(raw_selector, dict)):
            errs.required("spec.selector")
        vc.nonnegative(errs, spec.get("replicas"), "spec.replicas")
        template = spec.get("template")
        if template is None:
            errs.required("spec.template")
            return
        template_meta = vc.as_dict(vc.as_dict(template).get("metadata"))
        labels = {k: v for k, v in vc.as_dict(template_meta.get("labels")).items() if isinstance(v, str)}
        matches = None if not selector else all(labels.get(k) == v for k, v in selector.items())
        _template_for_replicas(errs, template, matches, "ReplicationController", "spec.template")

    def scale_selector(self, obj: Obj) -> str:
        # An RC's selector is a plain map, not a LabelSelector.
        return str(selectors.from_equality_map(vc.as_dict(vc.as_dict(obj.get("spec")).get("selector"))))


TEMPLATE_GENERATION_ANNOTATION = "deprecated.daemonset.template.generation"


class DaemonSetStrategy(_Workload):
    group, kind = "apps", "DaemonSet"
    printer = printing.Printer(DAEMONSET_COLUMNS, _daemonset_cells)

    # spec.templateGeneration of the internal type, carried in apps/v1 by this
    # annotation: 1 on create, +1 whenever the template changes. The controller
    # labels pods with it (pod-template-generation).
    def prepare_for_create(self, res: resources.Resource, obj: Obj) -> None:
        super().prepare_for_create(res, obj)
        annotations = defaults.ensure_dict(defaults.ensure_dict(obj, "metadata"), "annotations")
        annotations[TEMPLATE_GENERATION_ANNOTATION] = "1"

    def prepare_for_update(self, res: resources.Resource, new: Obj, old: Obj) -> None:
        super().prepare_for_update(res, new, old)
        old_value = ((old.get("metadata") or {}).get("annotations") or {}).get(TEMPLATE_GENERATION_ANNOTATION)
        try:
            generation = int(old_value) if old_value is not None else 0
        except ValueError:
            generation = 0
        new_template = vc.as_dict(new.get("spec")).get("template")
        old_template = vc.as_dict(old.get("spec")).get("template")
        if not vc.json_equal(new_template, old_template):
            generation += 1
        if generation:
            annotations = defaults.ensure_dict(defaults.ensure_dict(new, "metadata"), "annotations")
            annotations[TEMPLATE_GENERATION_ANNOTATION] = str(generation)

    def defaults(self, res: resources.Resource, obj: Obj, old: Obj | None, settings: strategy.Settings) -> None:
        spec = defaults.ensure_dict(obj, "spec")
        update = defaults.ensure_dict(spec, "updateStrategy")
        defaults.set_if_zero(update, "type", "RollingUpdate")
        if update["type"] == "RollingUpdate":
            rolling = defaults.ensure_dict(update, "rollingUpdate")
            if rolling.get("maxUnavailable") is None:
                rolling["maxUnavailable"] = 1
            if rolling.get("maxSurge") is None:
                rolling["maxSurge"] = 0
        if spec.get("revisionHistoryLimit") is None:
            spec["revisionHistoryLimit"] = 10
        podspec.template_defaults(spec, True)

    def check(self, errs: Errors, res: resources.Resource, obj: Obj, old: Obj | None) -> None:
        spec = vc.as_dict(obj.get("spec"))
        _replica_set_spec(errs, spec, "daemonset", "DaemonSet")
        vc.nonnegative(errs, spec.get("minReadySeconds"), "spec.minReadySeconds")
        _daemonset_update_strategy(errs, spec.get("updateStrategy"))
        vc.nonnegative(errs, spec.get("revisionHistoryLimit"), "spec.revisionHistoryLimit")
        _selector_immutable(errs, obj, old)


class ControllerRevisionStrategy(strategy.Strategy):
    """An immutable snapshot of a controller's template (apps/v1 ControllerRevision)."""

    group, kind = "apps", "ControllerRevision"
    printer = printing.Printer(CONTROLLER_REVISION_COLUMNS, _controller_revision_cells)

    def check(self, errs: Errors, res: resources.Resource, obj: Obj, old: Obj | None) -> None:
        if obj.get("data") is None:
            errs.required("data", "data is mandatory")
        vc.nonnegative(errs, obj.get("revision"), "revision")
        if old is not None:
            vc.immutable(errs, "data", obj.get("data"), old.get("data"), vc.GoRepr("runtime.RawExtension{...}"))
