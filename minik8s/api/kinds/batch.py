"""batch/v1 Jobs and CronJobs: run pods to completion, once or on a schedule.

Their strategies (pkg/registry/batch/job, batch/cronjob), defaults
(pkg/apis/batch/v1/defaults.go), validation (pkg/apis/batch/validation) and
printers (printJob, printCronJob). A Job's pod template must not restart
forever (OnFailure or Never); a Job without `manualSelector: true` gets a
selector generated from its uid, which is why that happens at create time
(`prepare_for_create`, after the uid is assigned) and not in defaulting.
A CronJob's `jobTemplate` is a Job spec without a selector: each Job made from
it generates its own.
"""
from __future__ import annotations

import datetime
from typing import Any, Mapping

from minik8s.api import conditions
from minik8s.api import cron
from minik8s.api import defaults
from minik8s.api import errors
from minik8s.api import printing
from minik8s.api import resources
from minik8s.api import rfc3339
from minik8s.api import selectors
from minik8s.api import strategy
from minik8s.api import validation as vc
from minik8s.api.kinds import podspec
from minik8s.api.kinds import podspec_validation

Obj = dict[str, Any]
View = Mapping[str, Any]
Cells = printing.Cells
Errors = vc.Errors

# Labels a generated selector and the Job's pods carry (batch/v1 types.go).
JOB_NAME_LABEL = "batch.kubernetes.io/job-name"
LEGACY_JOB_NAME_LABEL = "job-name"
CONTROLLER_UID_LABEL = "batch.kubernetes.io/controller-uid"
LEGACY_CONTROLLER_UID_LABEL = "controller-uid"
COMPLETION_INDEX_ANNOTATION = "batch.kubernetes.io/job-completion-index"
JOB_TRACKING_FINALIZER = "batch.kubernetes.io/job-tracking"
CRONJOB_SCHEDULED_TIMESTAMP = "batch.kubernetes.io/cronjob-scheduled-timestamp"

NON_INDEXED, INDEXED = "NonIndexed", "Indexed"
MAX_INDEXED_PARALLELISM = 100_000
MAX_POD_FAILURE_POLICY_RULES = 20
MAX_EXIT_CODE_VALUES = 255
POD_FAILURE_POLICY_ACTIONS = ("Count", "FailIndex", "FailJob", "Ignore")
EXIT_CODE_OPERATORS = ("In", "NotIn")
CONCURRENCY_POLICIES = ("Allow", "Forbid", "Replace")
# A CronJob's name plus `-<11 digits>` must still be a valid Job name (63).
CRONJOB_NAME_MAX = 52

# Job condition types.
COMPLETE, FAILED, SUSPENDED = "Complete", "Failed", "Suspended"
FAILURE_TARGET, SUCCESS_CRITERIA_MET = "FailureTarget", "SuccessCriteriaMet"


def job_condition_true(obj: View, type_: str) -> bool:
    return conditions.is_true(obj, type_)


def is_job_finished(obj: View) -> bool:
    """jobutil.IsJobFinished: Complete or Failed is True."""
    return job_condition_true(obj, COMPLETE) or job_condition_true(obj, FAILED)


def _omit(errs: Errors, path: str, detail: str, reason: str = "FieldValueInvalid", body: str = "Invalid value"
          ) -> None:
    """A field error whose value is not shown (field.OmitValueType)."""
    errs.causes.append(errors.field_error(path, f"{body}: {detail}", reason))


def _too_many(errs: Errors, path: str, actual: int, limit: int) -> None:
    errs.causes.append(errors.field_error(path, f"Too many: {actual}: must have at most {limit} items",
                                          "FieldValueTooMany"))


# ---------------------------------------------------------------------------
# defaults


def _job_spec_defaults(spec: Obj) -> None:
    """SetDefaults_Job's spec part."""
    if spec.get("completions") is None and spec.get("parallelism") is None:
        spec["completions"] = 1
        spec["parallelism"] = 1
    if spec.get("parallelism") is None:
        spec["parallelism"] = 1
    if spec.get("backoffLimit") is None:
        spec["backoffLimit"] = 2147483647 if spec.get("backoffLimitPerIndex") is not None else 6
    if spec.get("completionMode") is None:
        spec["completionMode"] = NON_INDEXED
    if spec.get("suspend") is None:
        spec["suspend"] = False
    policy = defaults.child(spec, "podFailurePolicy")
    if policy is not None:
        for rule in defaults.dicts(policy.get("rules")):
            for pattern in defaults.dicts(rule.get("onPodConditions")):
                defaults.set_if_zero(pattern, "status", "True")
    if spec.get("podReplacementPolicy") is None:
        spec["podReplacementPolicy"] = "Failed" if policy is not None else "TerminatingOrFailed"
    if spec.get("manualSelector") is None:
        spec["manualSelector"] = False


def generate_selector(job: Obj) -> None:
    """generateSelector: the job-name and controller-uid labels on the template,
    and a selector on the controller-uid (unique: a uid is never reused)."""
    meta = job.get("metadata") or {}
    spec = defaults.ensure_dict(job, "spec")
    template = defaults.ensure_dict(spec, "template")
    labels = defaults.ensure_dict(defaults.ensure_dict(template, "metadata"), "labels")
    for key in (LEGACY_JOB_NAME_LABEL, JOB_NAME_LABEL):
        labels.setdefault(key, meta.get("name", ""))
    for key in (LEGACY_CONTROLLER_UID_LABEL, CONTROLLER_UID_LABEL):
        labels.setdefault(key, meta.get("uid", ""))
    selector = defaults.ensure_dict(spec, "selector")
    match = defaults.ensure_dict(selector, "matchLabels")
    match.setdefault(CONTROLLER_UID_LABEL, meta.get("uid", ""))


# ---------------------------------------------------------------------------
# validation


def _exit_codes(errs: Errors, req: Obj, path: str, names: set[str]) -> None:
    operator = vc.as_str(req.get("operator"))
    if not operator:
        errs.required(f"{path}.operator", 'valid values: ["In" "NotIn"]')
    elif operator not in EXIT_CODE_OPERATORS:
        errs.not_supported(f"{path}.operator", operator, EXIT_CODE_OPERATORS)
    container = req.get("containerName")
    if container is not None and vc.as_str(container) not in names:
        errs.invalid(f"{path}.containerName", vc.as_str(container),
                     "must be one of the container or initContainer names in the pod template")
    values = vc.as_list(req.get("values"))
    if not values:
        errs.invalid(f"{path}.values", vc.GoRepr("[]int32(nil)"), "at least one value is required")
    elif len(values) > MAX_EXIT_CODE_VALUES:
        _too_many(errs, f"{path}.values", len(values), MAX_EXIT_CODE_VALUES)
    else:
        seen: set[int] = set()
        ordered = True
        for j, raw in enumerate(values):
            value = vc.as_int(raw) or 0
            if operator == "In" and value == 0:
                errs.invalid(f"{path}.values[{j}]", value, "must not be 0 for the In operator")
            if value in seen:
                errs.duplicate(f"{path}.values[{j}]", value)
            seen.add(value)
            if j > 0 and (vc.as_int(values[j - 1]) or 0) > value:
                ordered = False
        if not ordered:
            errs.invalid(f"{path}.values", vc.GoRepr("[]int32{" + ", ".join(str(v) for v in values) + "}"),
                         "must be ordered")


def _pod_failure_policy(errs: Errors, spec: Obj, path: str) -> None:
    policy = vc.as_dict(spec.get("podFailurePolicy"))
    rules = vc.as_list(policy.get("rules"))
    if len(rules) > MAX_POD_FAILURE_POLICY_RULES:
        _too_many(errs, f"{path}.rules", len(rules), MAX_POD_FAILURE_POLICY_RULES)
    pod_spec = vc.as_dict(vc.as_dict(spec.get("template")).get("spec"))
    names = {vc.as_str(vc.as_dict(c).get("name")) for key in ("containers", "initContainers")
             for c in vc.as_list(pod_spec.get(key))}
    for i, rule in enumerate(rules):
        rule = vc.as_dict(rule)
        rule_path = f"{path}.rules[{i}]"
        action = vc.as_str(rule.get("action"))
        if not action:
            errs.required(f"{rule_path}.action", 'valid values: ["Count" "FailIndex" "FailJob" "Ignore"]')
        elif action == "FailIndex":
            if spec.get("backoffLimitPerIndex") is None:
                errs.invalid(f"{rule_path}.action", action, "requires the backoffLimitPerIndex to be set")
        elif action not in POD_FAILURE_POLICY_ACTIONS:
            errs.not_supported(f"{rule_path}.action", action, POD_FAILURE_POLICY_ACTIONS)
        on_exit = rule.get("onExitCodes")
        on_conditions = vc.as_list(rule.get("onPodConditions"))
        if on_exit is not None:
            _exit_codes(errs, vc.as_dict(on_exit), f"{rule_path}.onExitCodes", names)
        for j, pattern in enumerate(on_conditions):
            pattern = vc.as_dict(pattern)
            ctype = vc.as_str(pattern.get("type"))
            if not ctype:
                errs.required(f"{rule_path}.onPodConditions[{j}].type")
            else:
                errs.invalid_each(f"{rule_path}.onPodConditions[{j}].type", ctype, vc.qualified_name(ctype))
            status = vc.as_str(pattern.get("status"))
            if status not in ("True", "False", "Unknown"):
                errs.not_supported(f"{rule_path}.onPodConditions[{j}].status", status, ("False", "True", "Unknown"))
        if on_exit is not None and on_conditions:
            _omit(errs, rule_path, "specifying both OnExitCodes and OnPodConditions is not supported")
        if on_exit is None and not on_conditions:
            _omit(errs, rule_path, "specifying one of OnExitCodes and OnPodConditions is required")


def validate_job_spec(errs: Errors, spec: Obj, path: str) -> None:
    """validateJobSpec: what a Job's spec and a CronJob's jobTemplate.spec share."""
    for key in ("parallelism", "completions", "activeDeadlineSeconds", "backoffLimit", "ttlSecondsAfterFinished"):
        vc.nonnegative(errs, spec.get(key), f"{path}.{key}")
    mode = spec.get("completionMode")
    if spec.get("backoffLimitPerIndex") is not None:
        vc.nonnegative(errs, spec.get("backoffLimitPerIndex"), f"{path}.backoffLimitPerIndex")
        if mode != INDEXED:
            errs.forbidden(f"{path}.backoffLimitPerIndex", "requires indexed completion mode")
    if mode is not None:
        if mode not in (NON_INDEXED, INDEXED):
            errs.not_supported(f"{path}.completionMode", vc.as_str(mode), (NON_INDEXED, INDEXED))
        if mode == INDEXED:
            if spec.get("completions") is None:
                errs.required(f"{path}.completions", f"when completion mode is {INDEXED}")
            parallelism = vc.as_int(spec.get("parallelism"))
            if parallelism is not None and parallelism > MAX_INDEXED_PARALLELISM:
                errs.invalid(f"{path}.parallelism", parallelism,
                             f"must be less than or equal to {MAX_INDEXED_PARALLELISM} when completion mode is "
                             f"{INDEXED}")
    if spec.get("podFailurePolicy") is not None:
        _pod_failure_policy(errs, spec, f"{path}.podFailurePolicy")
    replacement = spec.get("podReplacementPolicy")
    if replacement is not None:
        if spec.get("podFailurePolicy") is not None and replacement != "Failed":
            errs.not_supported(f"{path}.podReplacementPolicy", vc.as_str(replacement), ("Failed",))
        elif replacement not in ("Failed", "TerminatingOrFailed"):
            errs.not_supported(f"{path}.podReplacementPolicy", vc.as_str(replacement),
                               ("Failed", "TerminatingOrFailed"))
    podspec_validation.validate_pod_template(errs, spec.get("template"), f"{path}.template")
    restart = vc.as_str(vc.as_dict(vc.as_dict(spec.get("template")).get("spec")).get("restartPolicy"))
    restart_path = f"{path}.template.spec.restartPolicy"
    if restart in ("", "Always"):
        errs.required(restart_path, 'valid values: "OnFailure", "Never"')
    elif restart not in ("OnFailure", "Never"):
        errs.not_supported(restart_path, restart, ("OnFailure", "Never"))
    elif spec.get("podFailurePolicy") is not None and restart != "Never":
        errs.invalid(restart_path, restart, 'only "Never" is supported when podFailurePolicy is specified')


def _selector_matches_template(errs: Errors, spec: Obj, path: str) -> None:
    sel = spec.get("selector")
    if sel is None:
        errs.required(f"{path}.selector")
        return
    if not vc.validate_label_selector(errs, sel, f"{path}.selector"):
        return
    labels = vc.as_dict(vc.as_dict(vc.as_dict(spec.get("template")).get("metadata")).get("labels"))
    try:
        matches = selectors.from_label_selector(vc.as_dict(sel)).matches({k: vc.as_str(v) for k, v in labels.items()})
    except errors.StatusError:
        return
    if not matches:
        errs.invalid(f"{path}.template.metadata.labels", vc.go_string_map(labels or None),
                     "`selector` does not match template `labels`")


def _generated_selector(errs: Errors, job: Obj) -> None:
    """ValidateGeneratedSelector: unless manualSelector, the selector is the generated one."""
    spec = vc.as_dict(job.get("spec"))
    if spec.get("manualSelector") is True:
        return
    uid = vc.as_str(vc.as_dict(job.get("metadata")).get("uid"))
    labels = vc.as_dict(vc.as_dict(vc.as_dict(spec.get("template")).get("metadata")).get("labels"))
    for key in (CONTROLLER_UID_LABEL, LEGACY_CONTROLLER_UID_LABEL):
        if key not in labels:
            errs.required(f"spec.template.metadata.labels[{key}]")
        elif labels[key] != uid:
            errs.invalid(f"spec.template.metadata.labels[{key}]", vc.as_str(labels[key]),
                         f"must be '{uid}'")
    for key in (JOB_NAME_LABEL, LEGACY_JOB_NAME_LABEL):
        if key in labels:
            errs.invalid_each(f"spec.template.metadata.labels[{key}]", labels[key],
                              vc.label_value(vc.as_str(labels[key])))
    sel = spec.get("selector")
    if sel is not None and vc.as_dict(sel) != {"matchLabels": {CONTROLLER_UID_LABEL: uid}}:
        errs.invalid("spec.selector", vc.go_label_selector(sel), "`selector` not auto-generated")


def _without(template: Any, allowed: bool) -> Any:
    """The template with what a suspended, never-started Job may change removed
    (labels, annotations and scheduling directives: JobMutableNodeSchedulingDirectives)."""
    if not allowed or not isinstance(template, dict):
        return template
    out = strategy.json_copy(template)
    meta = out.get("metadata")
    if isinstance(meta, dict):
        meta.pop("labels", None)
        meta.pop("annotations", None)
    spec = out.get("spec")
    if isinstance(spec, dict):
        for key in ("nodeSelector", "affinity", "tolerations", "schedulingGates"):
            spec.pop(key, None)
    return out


def _job_spec_update(errs: Errors, job: Obj, old: Obj) -> None:
    spec, old_spec = vc.as_dict(job.get("spec")), vc.as_dict(old.get("spec"))
    if spec.get("completions") != old_spec.get("completions"):
        # Elastic Indexed Jobs: completions change only in tandem with parallelism.
        if spec.get("completionMode") != INDEXED or old_spec.get("completionMode") != INDEXED:
            vc.immutable(errs, "spec.completions", spec.get("completions"), old_spec.get("completions"))
        elif spec.get("completions") != spec.get("parallelism"):
            errs.invalid("spec.completions", spec.get("completions"),
                         "can only be modified in tandem with spec.parallelism")
    vc.immutable(errs, "spec.selector", spec.get("selector"), old_spec.get("selector"),
                 vc.go_label_selector(spec.get("selector")))
    for key in ("completionMode", "podFailurePolicy", "backoffLimitPerIndex", "managedBy", "successPolicy"):
        vc.immutable(errs, f"spec.{key}", spec.get(key), old_spec.get(key), vc.GoRepr("{...}") if key in (
            "podFailurePolicy", "successPolicy") else None)
    mutable = bool(old_spec.get("suspend")) and not vc.as_dict(old.get("status")).get("startTime")
    if not vc.json_equal(_without(spec.get("template"), mutable), _without(old_spec.get("template"), mutable)):
        errs.invalid("spec.template", vc.GoRepr("core.PodTemplateSpec{...}"), vc.IMMUTABLE)


# ---------------------------------------------------------------------------
# printers


_JOB_COLUMNS = (
    printing.name_column(),
    printing.column("Status", desc="Status of the job."),
    printing.column("Completions", desc="The number of pods which reached phase Succeeded. The value increases "
                                        "monotonically for a given spec."),
    printing.column("Duration", desc="Time required to complete the job."),
    printing.age_column(),
    printing.column("Containers", desc=printing.CONTAINERS_DOC, priority=1),
    printing.column("Images", desc=printing.IMAGES_DOC, priority=1),
    printing.column("Selector", desc="A label query over pods that should match the pod count.", priority=1),
)


def job_status_word(obj: View) -> str:
    """The STATUS cell of `kubectl get jobs` (printJob)."""
    if job_condition_true(obj, COMPLETE):
        return "Complete"
    if job_condition_true(obj, FAILED):
        return "Failed"
    if (obj.get("metadata") or {}).get("deletionTimestamp"):
        return "Terminating"
    if job_condition_true(obj, SUSPENDED):
        return "Suspended"
    if job_condition_true(obj, FAILURE_TARGET):
        return "FailureTarget"
    if job_condition_true(obj, SUCCESS_CRITERIA_MET):
        return "SuccessCriteriaMet"
    return "Running"


def job_completions(obj: View) -> str:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    succeeded = int(status.get("succeeded") or 0)
    if spec.get("completions") is not None:
        return f"{succeeded}/{int(spec['completions'])}"
    parallelism = int(spec.get("parallelism") or 0)
    return f"{succeeded}/1 of {parallelism}" if parallelism > 1 else f"{succeeded}/1"


def job_duration(obj: View, now: datetime.datetime) -> str:
    status = obj.get("status") or {}
    start = rfc3339.parse(status.get("startTime"))
    if start is None:
        return ""
    end = rfc3339.parse(status.get("completionTime")) or now
    return printing.human_duration((end - start).total_seconds())


def _job_cells(obj: View, now: datetime.datetime) -> Cells:
    names, images = printing.layout_containers(printing.template_containers(obj))
    return [printing.name(obj), job_status_word(obj), job_completions(obj), job_duration(obj, now),
            printing.age(obj, now), names, images,
            printing.format_label_selector((obj.get("spec") or {}).get("selector"))]


_CRONJOB_COLUMNS = (
    printing.name_column(),
    printing.column("Schedule", desc="The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron."),
    printing.column("Timezone", desc="The time zone name for the given schedule, see "
                                     "https://en.wikipedia.org/wiki/List_of_tz_database_time_zones."),
    printing.column("Suspend", "boolean", desc="This flag tells the controller to suspend subsequent executions, "
                                               "it does not apply to already started executions. Defaults to false."),
    printing.column("Active", "integer", desc="A list of pointers to currently running jobs."),
    printing.column("Last Schedule", desc="Information when was the last time the job was successfully scheduled."),
    printing.age_column(),
    printing.column("Containers", desc=printing.CONTAINERS_DOC, priority=1),
    printing.column("Images", desc=printing.IMAGES_DOC, priority=1),
    printing.column("Selector", desc="A label query over pods that should match the pod count.", priority=1),
)


def _bool_ptr(value: Any) -> str:
    if value is None:
        return "<unset>"
    return "True" if value else "False"


def _cronjob_cells(obj: View, now: datetime.datetime) -> Cells:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    job_spec = (spec.get("jobTemplate") or {}).get("spec") or {}
    last = status.get("lastScheduleTime")
    names, images = printing.layout_containers(printing.template_containers({"spec": job_spec}))
    return [printing.name(obj), spec.get("schedule", ""), spec.get("timeZone") or "<none>",
            _bool_ptr(spec.get("suspend")), len(status.get("active") or []),
            printing.human_age(last, now) if last else "<none>", printing.age(obj, now), names, images,
            printing.format_label_selector(job_spec.get("selector"))]


# ---------------------------------------------------------------------------
# the strategies


class JobStrategy(strategy.Strategy):
    group, kind = "batch", "Job"
    track_generation = True
    subresources = {"status": strategy.STATUS}
    printer = printing.Printer(_JOB_COLUMNS, _job_cells)

    def defaults(self, res: resources.Resource, obj: Obj, old: Obj | None, settings: strategy.Settings) -> None:
        spec = defaults.ensure_dict(obj, "spec")
        _job_spec_defaults(spec)
        template = defaults.ensure_dict(spec, "template")
        labels = (template.get("metadata") or {}).get("labels") if isinstance(template.get("metadata"), dict) \
            else None
        meta = defaults.ensure_dict(obj, "metadata")
        if isinstance(labels, dict) and labels and not meta.get("labels") and old is None:
            meta["labels"] = dict(labels)
        podspec.template_defaults(spec, True)

    def prepare_for_create(self, res: resources.Resource, obj: Obj) -> None:
        obj["status"] = {}
        if vc.as_dict(obj.get("spec")).get("manualSelector") is not True:
            generate_selector(obj)
            # The generated labels are the Job's own too when it had none from the template.
            meta = defaults.ensure_dict(obj, "metadata")
            # Read leniently: an ill-typed spec is validation's to report (422), not a 500 here.
            labels = vc.as_dict(vc.as_dict(vc.as_dict(vc.as_dict(obj.get("spec")).get("template")).get("metadata"))
                                .get("labels"))
            if not meta.get("labels") and labels:
                meta["labels"] = dict(labels)

    def check(self, errs: Errors, res: resources.Resource, obj: Obj, old: Obj | None) -> None:
        spec = vc.as_dict(obj.get("spec"))
        _generated_selector(errs, obj)
        validate_job_spec(errs, spec, "spec")
        _selector_matches_template(errs, spec, "spec")
        if old is not None:
            _job_spec_update(errs, obj, old)


class CronJobStrategy(strategy.Strategy):
    group, kind = "batch", "CronJob"
    track_generation = True
    subresources = {"status": strategy.STATUS}
    printer = printing.Printer(_CRONJOB_COLUMNS, _cronjob_cells)

    def name_errors(self, name: str) -> list[str]:
        out = vc.dns1123_subdomain(name)
        if len(name) > CRONJOB_NAME_MAX:
            out.append(vc.max_len_error(CRONJOB_NAME_MAX))
        return out

    def defaults(self, res: resources.Resource, obj: Obj, old: Obj | None, settings: strategy.Settings) -> None:
        spec = defaults.ensure_dict(obj, "spec")
        defaults.set_if_zero(spec, "concurrencyPolicy", "Allow")
        if spec.get("suspend") is None:
            spec["suspend"] = False
        if spec.get("successfulJobsHistoryLimit") is None:
            spec["successfulJobsHistoryLimit"] = 3
        if spec.get("failedJobsHistoryLimit") is None:
            spec["failedJobsHistoryLimit"] = 1
        job_template = defaults.ensure_dict(spec, "jobTemplate")
        podspec.template_defaults(defaults.ensure_dict(job_template, "spec"), True)

    def prepare_for_create(self, res: resources.Resource, obj: Obj) -> None:
        obj["status"] = {}

    def check(self, errs: Errors, res: resources.Resource, obj: Obj, old: Obj | None) -> None:
        spec = vc.as_dict(obj.get("spec"))
        schedule = vc.as_str(spec.get("schedule"))
        zone = spec.get("timeZone")
        if not schedule:
            errs.required("spec.schedule")
        else:
            try:
                cron.parse_standard(schedule)
            except cron.ScheduleError as e:
                errs.invalid("spec.schedule", schedule, str(e))
            if "TZ" in schedule:
                if zone is not None:
                    errs.invalid("spec.schedule", schedule,
                                 "cannot use both timeZone field and TZ or CRON_TZ in schedule")
                elif old is None or "TZ" not in vc.as_str(vc.as_dict(old.get("spec")).get("schedule")):
                    errs.invalid("spec.schedule", schedule,
                                 "cannot use TZ or CRON_TZ in schedule, use timeZone field instead")
        if zone is not None:
            zone_text = vc.as_str(zone)
            if zone_text.lower() == "local":
                errs.invalid("spec.timeZone", zone_text, "timeZone must be an explicit time zone as defined in "
                                                         "https://www.iana.org/time-zones")
            else:
                try:
                    cron.load_zone(zone_text)
                except cron.ScheduleError as e:
                    errs.invalid("spec.timeZone", zone_text, str(e))
        policy = vc.as_str(spec.get("concurrencyPolicy"))
        if not policy:
            errs.required("spec.concurrencyPolicy")
        elif policy not in CONCURRENCY_POLICIES:
            errs.not_supported("spec.concurrencyPolicy", policy, CONCURRENCY_POLICIES)
        for key in ("successfulJobsHistoryLimit", "failedJobsHistoryLimit", "startingDeadlineSeconds"):
            vc.nonnegative(errs, spec.get(key), f"spec.{key}")
        template = vc.as_dict(spec.get("jobTemplate"))
        job_spec = vc.as_dict(template.get("spec"))
        tmeta = vc.as_dict(template.get("metadata"))
        vc.validate_labels(errs, tmeta.get("labels"), "spec.jobTemplate.metadata.labels")
        vc.validate_annotations(errs, tmeta.get("annotations"), "spec.jobTemplate.metadata.annotations")
        validate_job_spec(errs, job_spec, "spec.jobTemplate.spec")
        if job_spec.get("selector") is not None:
            errs.invalid("spec.jobTemplate.spec.selector", vc.go_label_selector(job_spec["selector"]),
                         "`selector` will be auto-generated")
        if job_spec.get("manualSelector") is True:
            errs.not_supported("spec.jobTemplate.spec.manualSelector", True, ("nil", "false"))
