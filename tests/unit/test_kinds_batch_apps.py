"""The new kinds' strategies: Job, CronJob, DaemonSet, ControllerRevision, and the
complete ConfigMap and Secret rules. Expected messages are Kubernetes' own
(pkg/apis/batch/validation, apps/validation, core/validation)."""
from __future__ import annotations

import base64
import copy
import datetime
from typing import Any

import pytest

from minik8s.api import cron
from minik8s.api import errors
from minik8s.api import kinds
from minik8s.api import resources
from minik8s.api.kinds import batch

Obj = dict[str, Any]
NOW = datetime.datetime(2024, 5, 1, 12, 0, 0, tzinfo=datetime.timezone.utc)
JOBS = resources.must("batch", "v1", "jobs")
CRONJOBS = resources.must("batch", "v1", "cronjobs")
DS = resources.must("apps", "v1", "daemonsets")
CR = resources.must("apps", "v1", "controllerrevisions")
CM = resources.must("", "v1", "configmaps")
SECRETS = resources.must("", "v1", "secrets")


def create(res: resources.Resource, body: Obj, uid: str = "uid-1") -> Obj:
    """What the registry does on create, minus etcd."""
    obj = copy.deepcopy(body)
    obj.setdefault("metadata", {}).setdefault("namespace", "default")
    obj["metadata"]["uid"] = uid
    s = kinds.for_resource(res)
    s.defaults(res, obj, None, kinds.strategy.DEFAULT_SETTINGS)
    s.prepare_for_create(res, obj)
    kinds.validate(res, obj)
    return obj


def update(res: resources.Resource, old: Obj, new: Obj) -> Obj:
    s = kinds.for_resource(res)
    s.defaults(res, new, old, kinds.strategy.DEFAULT_SETTINGS)
    s.prepare_for_update(res, new, old)
    kinds.validate(res, new, old)
    return new


def causes(exc: pytest.ExceptionInfo[errors.Invalid]) -> list[tuple[str, str]]:
    return [(c["field"], c["message"]) for c in exc.value.status()["details"]["causes"]]


def job(**spec: Any) -> Obj:
    template = {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "minik8s/busybox:1"}]}}
    return {"metadata": {"name": "pi"}, "spec": {"template": template, **spec}}


# -- Job ------------------------------------------------------------------------------


def test_job_defaults_and_generated_selector() -> None:
    obj = create(JOBS, job())
    spec = obj["spec"]
    assert (spec["completions"], spec["parallelism"], spec["backoffLimit"]) == (1, 1, 6)
    assert spec["completionMode"] == "NonIndexed" and spec["suspend"] is False
    assert spec["manualSelector"] is False and spec["podReplacementPolicy"] == "TerminatingOrFailed"
    assert spec["selector"] == {"matchLabels": {"batch.kubernetes.io/controller-uid": "uid-1"}}
    assert spec["template"]["metadata"]["labels"] == {
        "batch.kubernetes.io/controller-uid": "uid-1", "controller-uid": "uid-1",
        "batch.kubernetes.io/job-name": "pi", "job-name": "pi"}
    assert obj["metadata"]["labels"] == spec["template"]["metadata"]["labels"]
    assert obj["status"] == {} and obj["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] == 30
    # parallelism alone: completions stay unset (a work queue).
    assert "completions" not in create(JOBS, job(parallelism=3))["spec"]


def test_job_restart_policy_and_selector_rules() -> None:
    body = job()
    body["spec"]["template"]["spec"]["restartPolicy"] = "Always"
    with pytest.raises(errors.Invalid) as exc:
        create(JOBS, body)
    assert ("spec.template.spec.restartPolicy", 'Required value: valid values: "OnFailure", "Never"') in causes(exc)
    with pytest.raises(errors.Invalid) as exc:
        create(JOBS, job(selector={"matchLabels": {"a": "b"}}))
    assert any(f == "spec.selector" and "`selector` not auto-generated" in m for f, m in causes(exc))
    manual = job(manualSelector=True, selector={"matchLabels": {"a": "b"}})
    manual["spec"]["template"]["metadata"] = {"labels": {"a": "b"}}
    assert create(JOBS, manual)["spec"]["selector"] == {"matchLabels": {"a": "b"}}
    manual["spec"]["template"]["metadata"] = {"labels": {"a": "c"}}
    with pytest.raises(errors.Invalid) as exc:
        create(JOBS, manual)
    assert any(m.endswith("`selector` does not match template `labels`") for _, m in causes(exc))


def test_job_indexed_and_counts() -> None:
    with pytest.raises(errors.Invalid) as exc:
        create(JOBS, job(completionMode="Indexed", parallelism=2))
    assert ("spec.completions", "Required value: when completion mode is Indexed") in causes(exc)
    with pytest.raises(errors.Invalid) as exc:
        create(JOBS, job(completions=-1, backoffLimit=-2, completionMode="Sometimes"))
    got = causes(exc)
    assert ("spec.completions", "Invalid value: -1: must be greater than or equal to 0") in got
    assert ("spec.backoffLimit", "Invalid value: -2: must be greater than or equal to 0") in got
    assert ("spec.completionMode", 'Unsupported value: "Sometimes": supported values: "NonIndexed", "Indexed"') \
        in got


def test_pod_failure_policy_rules() -> None:
    rules = [{"action": "FailJob", "onExitCodes": {"operator": "In", "values": [0, 3, 2]}},
             {"action": "Ignore"},
             {"action": "Explode", "onPodConditions": [{"type": "DisruptionTarget"}]}]
    with pytest.raises(errors.Invalid) as exc:
        create(JOBS, job(podFailurePolicy={"rules": rules}))
    got = causes(exc)
    assert ("spec.podFailurePolicy.rules[0].onExitCodes.values[0]",
            "Invalid value: 0: must not be 0 for the In operator") in got
    assert ("spec.podFailurePolicy.rules[0].onExitCodes.values", "Invalid value: []int32{0, 3, 2}: must be ordered") \
        in got
    assert ("spec.podFailurePolicy.rules[1]",
            "Invalid value: specifying one of OnExitCodes and OnPodConditions is required") in got
    assert any(f == "spec.podFailurePolicy.rules[2].action" and m.startswith('Unsupported value: "Explode"')
               for f, m in got)
    ok = create(JOBS, job(podFailurePolicy={"rules": [{"action": "Ignore",
                                                       "onPodConditions": [{"type": "DisruptionTarget"}]}]}))
    assert ok["spec"]["podFailurePolicy"]["rules"][0]["onPodConditions"][0]["status"] == "True"
    assert ok["spec"]["podReplacementPolicy"] == "Failed"
    body = job(podFailurePolicy={"rules": [{"action": "Ignore", "onPodConditions": [{"type": "X"}]}]})
    body["spec"]["template"]["spec"]["restartPolicy"] = "OnFailure"
    with pytest.raises(errors.Invalid) as exc:
        create(JOBS, body)
    assert ("spec.template.spec.restartPolicy",
            'Invalid value: "OnFailure": only "Never" is supported when podFailurePolicy is specified') in causes(exc)


def test_job_update_rules() -> None:
    old = create(JOBS, job(completions=4, parallelism=2))
    scaled = copy.deepcopy(old)
    scaled["spec"]["parallelism"] = 3
    assert update(JOBS, old, scaled)["spec"]["parallelism"] == 3
    for path, value in ((("completions",), 5), (("template", "spec", "containers", 0, "image"), "other")):
        changed = copy.deepcopy(old)
        target: Any = changed["spec"]
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        with pytest.raises(errors.Invalid) as exc:
            update(JOBS, old, changed)
        assert any("field is immutable" in m for _, m in causes(exc)), path
    # A suspended Job that never started may change its scheduling directives.
    suspended = create(JOBS, job(suspend=True))
    moved = copy.deepcopy(suspended)
    moved["spec"]["template"]["spec"]["nodeSelector"] = {"disk": "ssd"}
    assert update(JOBS, suspended, moved)["spec"]["template"]["spec"]["nodeSelector"] == {"disk": "ssd"}
    # status is the status subresource's.
    sneaky = copy.deepcopy(old)
    sneaky["status"] = {"succeeded": 9}
    assert update(JOBS, old, sneaky)["status"] == {}


def test_job_printer() -> None:
    printer = kinds.for_resource(JOBS).printer
    obj = create(JOBS, job(completions=4, parallelism=2))
    obj["metadata"]["creationTimestamp"] = "2024-05-01T11:00:00Z"
    obj["status"] = {"succeeded": 1, "startTime": "2024-05-01T11:58:00Z"}
    cells = printer.cells(obj, NOW)
    assert [c["name"] for c in printer.columns][:5] == ["Name", "Status", "Completions", "Duration", "Age"]
    assert cells[:5] == ["pi", "Running", "1/4", "2m", "60m"]
    obj["status"].update(completionTime="2024-05-01T11:59:00Z",
                         conditions=[{"type": "Complete", "status": "True"}], succeeded=4)
    assert printer.cells(obj, NOW)[1:4] == ["Complete", "4/4", "60s"]
    queue = create(JOBS, job(parallelism=3))
    assert printer.cells(queue, NOW)[1:4] == ["Running", "0/1 of 3", ""]
    queue["status"] = {"conditions": [{"type": "Suspended", "status": "True"}]}
    assert batch.job_status_word(queue) == "Suspended"


# -- CronJob --------------------------------------------------------------------------


def cronjob(**spec: Any) -> Obj:
    template = {"spec": {"template": {"spec": {"restartPolicy": "OnFailure",
                                               "containers": [{"name": "c", "image": "minik8s/busybox:1"}]}}}}
    return {"metadata": {"name": "tick"}, "spec": {"schedule": "*/1 * * * *", "jobTemplate": template, **spec}}


def test_cronjob_defaults_and_printer() -> None:
    obj = create(CRONJOBS, cronjob())
    spec = obj["spec"]
    assert (spec["concurrencyPolicy"], spec["suspend"], spec["successfulJobsHistoryLimit"],
            spec["failedJobsHistoryLimit"]) == ("Allow", False, 3, 1)
    assert "selector" not in spec["jobTemplate"]["spec"]  # each Job generates its own
    assert "backoffLimit" not in spec["jobTemplate"]["spec"]
    obj["metadata"]["creationTimestamp"] = "2024-05-01T11:00:00Z"
    obj["status"] = {"active": [{"name": "tick-1"}], "lastScheduleTime": "2024-05-01T11:59:00Z"}
    printer = kinds.for_resource(CRONJOBS).printer
    assert [c["name"] for c in printer.columns][:7] == ["Name", "Schedule", "Timezone", "Suspend", "Active",
                                                         "Last Schedule", "Age"]
    assert printer.cells(obj, NOW)[:7] == ["tick", "*/1 * * * *", "<none>", "False", 1, "60s", "60m"]


@pytest.mark.parametrize("spec,field,message", [
    ({"schedule": "61 * * * *"}, "spec.schedule", "failed to parse schedule"),
    ({"schedule": "* * * * * *"}, "spec.schedule", "expected exactly 5 fields, found 6"),
    ({"schedule": "TZ=UTC * * * * *"}, "spec.schedule", "use timeZone field instead"),
    ({"timeZone": "Mars/Olympus"}, "spec.timeZone", "unknown time zone Mars/Olympus"),
    ({"timeZone": "Local"}, "spec.timeZone", "must be an explicit time zone"),
    ({"concurrencyPolicy": "Sometimes"}, "spec.concurrencyPolicy", "Unsupported value"),
    ({"startingDeadlineSeconds": -1}, "spec.startingDeadlineSeconds", "must be greater than or equal to 0"),
])
def test_cronjob_validation(spec: Obj, field: str, message: str) -> None:
    with pytest.raises(errors.Invalid) as exc:
        create(CRONJOBS, cronjob(**spec))
    assert any(f == field and message in m for f, m in causes(exc)), causes(exc)


def test_cronjob_name_and_template_rules() -> None:
    long = cronjob()
    long["metadata"]["name"] = "x" * 53
    with pytest.raises(errors.Invalid) as exc:
        create(CRONJOBS, long)
    assert ("metadata.name", f'Invalid value: "{"x" * 53}": must be no more than 52 characters') in causes(exc)
    selecting = cronjob()
    selecting["spec"]["jobTemplate"]["spec"]["selector"] = {"matchLabels": {"a": "b"}}
    with pytest.raises(errors.Invalid) as exc:
        create(CRONJOBS, selecting)
    assert any(f == "spec.jobTemplate.spec.selector" and "will be auto-generated" in m for f, m in causes(exc))
    assert create(CRONJOBS, cronjob(timeZone="Europe/Paris", schedule="@hourly"))["spec"]["timeZone"] == \
        "Europe/Paris"


def test_cron_schedules() -> None:
    t = datetime.datetime(2024, 5, 1, 12, 0, 30, tzinfo=datetime.timezone.utc)
    assert cron.parse_standard("*/5 * * * *").next(t) == t.replace(minute=5, second=0)
    assert cron.parse_standard("@hourly").next(t) == t.replace(hour=13, minute=0, second=0)
    assert cron.parse_standard("@every 90s").next(t) == t + datetime.timedelta(seconds=90)
    paris = cron.parse_standard("TZ=Europe/Paris 0 9 * * *").next(t)
    assert paris.astimezone(datetime.timezone.utc) == datetime.datetime(2024, 5, 2, 7, 0,
                                                                       tzinfo=datetime.timezone.utc)
    assert cron.parse_standard("0 0 * * MON-FRI").next(t).weekday() == 3  # Thursday 2 May
    for bad in ("", "H * * * *", "@fortnightly", "1 2 3", "@every banana"):
        with pytest.raises(cron.ScheduleError):
            cron.parse_standard(bad)


# -- DaemonSet and ControllerRevision -------------------------------------------------------


def daemonset(**spec: Any) -> Obj:
    return {"metadata": {"name": "agent"}, "spec": {
        "selector": {"matchLabels": {"app": "agent"}},
        "template": {"metadata": {"labels": {"app": "agent"}},
                     "spec": {"containers": [{"name": "c", "image": "minik8s/busybox:1"}]}}, **spec}}


def test_daemonset_defaults_and_rules() -> None:
    obj = create(DS, daemonset())
    assert obj["spec"]["updateStrategy"] == {"type": "RollingUpdate",
                                             "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}}
    assert obj["spec"]["revisionHistoryLimit"] == 10 and obj["metadata"].get("generation") is None
    assert kinds.for_resource(DS).track_generation
    both = daemonset(updateStrategy={"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1,
                                                                                "maxSurge": 1}})
    with pytest.raises(errors.Invalid) as exc:
        create(DS, both)
    assert any(f == "spec.updateStrategy.rollingUpdate.maxSurge" and "may not be set when maxUnavailable is non-zero"
               in m for f, m in causes(exc))
    neither = daemonset(updateStrategy={"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "0%",
                                                                                   "maxSurge": 0}})
    with pytest.raises(errors.Invalid) as exc:
        create(DS, neither)
    assert ("spec.updateStrategy.rollingUpdate.maxUnavailable", "Required value: cannot be 0 when maxSurge is 0") \
        in causes(exc)
    assert create(DS, daemonset(updateStrategy={"type": "OnDelete"}))["spec"]["updateStrategy"] == {"type": "OnDelete"}
    never = daemonset()
    never["spec"]["template"]["spec"]["restartPolicy"] = "Never"
    with pytest.raises(errors.Invalid) as exc:
        create(DS, never)
    assert any(f == "spec.template.spec.restartPolicy" for f, _ in causes(exc))
    moved = copy.deepcopy(obj)
    moved["spec"]["selector"] = {"matchLabels": {"app": "other"}}
    moved["spec"]["template"]["metadata"]["labels"] = {"app": "other"}
    with pytest.raises(errors.Invalid) as exc:
        update(DS, obj, moved)
    assert any(f == "spec.selector" and "field is immutable" in m for f, m in causes(exc))


def test_daemonset_and_revision_printers() -> None:
    obj = create(DS, daemonset())
    obj["spec"]["template"]["spec"]["nodeSelector"] = {"disk": "ssd"}
    obj["metadata"]["creationTimestamp"] = "2024-05-01T11:00:00Z"
    obj["status"] = {"desiredNumberScheduled": 3, "currentNumberScheduled": 3, "numberReady": 2,
                     "updatedNumberScheduled": 1, "numberAvailable": 2}
    printer = kinds.for_resource(DS).printer
    assert [c["name"] for c in printer.columns][:8] == ["Name", "Desired", "Current", "Ready", "Up-to-date",
                                                         "Available", "Node Selector", "Age"]
    assert printer.cells(obj, NOW)[:8] == ["agent", 3, 3, 2, 1, 2, "disk=ssd", "60m"]
    rev = {"metadata": {"name": "agent-5d8f", "creationTimestamp": "2024-05-01T11:00:00Z", "ownerReferences": [
        {"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "agent", "uid": "u", "controller": True}]},
        "revision": 2, "data": {}}
    assert kinds.for_resource(CR).printer.cells(rev, NOW) == ["agent-5d8f", "daemonset.apps/agent", 2, "60m"]


def test_controller_revision_data_is_immutable() -> None:
    old = create(CR, {"metadata": {"name": "r1"}, "data": {"spec": {"template": {}}}, "revision": 1})
    relabeled = copy.deepcopy(old)
    relabeled["revision"] = 3  # a template coming back gets a new revision number
    update(CR, old, relabeled)
    changed = copy.deepcopy(old)
    changed["data"] = {"spec": {}}
    with pytest.raises(errors.Invalid):
        update(CR, old, changed)
    with pytest.raises(errors.Invalid) as exc:
        create(CR, {"metadata": {"name": "r2"}})
    assert ("data", "Required value: data is mandatory") in causes(exc)


# -- ConfigMap and Secret ----------------------------------------------------------------


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_config_map_rules() -> None:
    with pytest.raises(errors.Invalid) as exc:
        create(CM, {"metadata": {"name": "c"}, "data": {"a b": "1", "k": "v"}, "binaryData": {"k": b64("x")}})
    got = causes(exc)
    assert any(f == "data[a b]" and "a valid config key" in m for f, m in got)
    assert ("data[k]", 'Invalid value: "k": duplicate of key present in binaryData') in got
    with pytest.raises(errors.Invalid) as exc:
        create(CM, {"metadata": {"name": "big"}, "data": {"k": "x" * (1024 * 1024 + 1)}})
    assert ("", "Too long: may not be more than 1048576 bytes") in causes(exc)
    with pytest.raises(errors.BadRequest):
        create(CM, {"metadata": {"name": "c"}, "binaryData": {"k": "not base64!"}})
    frozen = create(CM, {"metadata": {"name": "c"}, "data": {"k": "v"}, "immutable": True})
    for change in ({"data": {"k": "w"}}, {"immutable": False}):
        new = {**copy.deepcopy(frozen), **change}
        with pytest.raises(errors.Invalid) as exc:
            update(CM, frozen, new)
        assert any("field is immutable when `immutable` is set" in m for _, m in causes(exc))
    labeled = copy.deepcopy(frozen)
    labeled["metadata"]["labels"] = {"a": "b"}
    update(CM, frozen, labeled)


@pytest.mark.parametrize("type_,data,expected", [
    ("kubernetes.io/tls", {"tls.crt": "Y3J0"}, ("data[tls.key]", "Required value")),
    ("kubernetes.io/ssh-auth", {}, ("data[ssh-privatekey]", "Required value")),
    ("kubernetes.io/basic-auth", {}, ("data[username]", "Required value")),
    ("kubernetes.io/dockerconfigjson", {}, ("data[.dockerconfigjson]", "Required value")),
    ("kubernetes.io/service-account-token", {},
     ("metadata.annotations[kubernetes.io/service-account.name]", "Required value")),
])
def test_secret_types(type_: str, data: Obj, expected: tuple[str, str]) -> None:
    with pytest.raises(errors.Invalid) as exc:
        create(SECRETS, {"metadata": {"name": "s"}, "type": type_, "data": data})
    assert expected in causes(exc)


def test_secret_string_data_type_and_immutable() -> None:
    secret = create(SECRETS, {"metadata": {"name": "s"}, "stringData": {"password": "hunter2"}})
    assert secret["type"] == "Opaque" and secret["data"] == {"password": b64("hunter2")}
    assert "stringData" not in secret
    retyped = {**copy.deepcopy(secret), "type": "kubernetes.io/tls"}
    with pytest.raises(errors.Invalid) as exc:
        update(SECRETS, secret, retyped)
    assert any(f == "type" and "field is immutable" in m for f, m in causes(exc))
    with pytest.raises(errors.BadRequest):
        create(SECRETS, {"metadata": {"name": "s"}, "data": {"k": "%%%"}})
    with pytest.raises(errors.Invalid) as exc:
        create(SECRETS, {"metadata": {"name": "s"}, "data": {"k": b64("x" * (1024 * 1024 + 1))}})
    assert ("data", "Too long: may not be more than 1048576 bytes") in causes(exc)
    tls = create(SECRETS, {"metadata": {"name": "t"}, "type": "kubernetes.io/tls",
                           "stringData": {"tls.crt": "c", "tls.key": "k"}})
    assert set(tls["data"]) == {"tls.crt", "tls.key"}
