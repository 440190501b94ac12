"""Pods: defaults, validation, status on create, graceful deletion and the printer.

The Pod strategy of kube-apiserver (pkg/registry/core/pod/strategy.go), its
defaults (pkg/apis/core/v1/defaults.go's SetDefaults_Pod plus the Priority,
DefaultTolerationSeconds and ServiceAccount admission plugins every new pod
passes), and printPod from pkg/printers/internalversion/printers.go. The pod
spec itself, which workloads' templates share, is in podspec.py and
podspec_validation.py.
"""
from __future__ import annotations

import dataclasses
import datetime
from typing import Any, Mapping

from minik8s.api import conditions
from minik8s.api import defaults
from minik8s.api import pods
from minik8s.api import printing
from minik8s.api import resources
from minik8s.api import rfc3339
from minik8s.api import strategy
from minik8s.api import validation as vc
from minik8s.api.kinds import podspec
from minik8s.api.kinds import podspec_validation

Obj = dict[str, Any]
View = Mapping[str, Any]
Cells = printing.Cells

# Built-in PriorityClasses the Priority admission plugin resolves without objects.
_SYSTEM_PRIORITIES = {"system-node-critical": 2000001000, "system-cluster-critical": 2000000000}
_NOT_READY_TAINT = "node.kubernetes.io/not-ready"
_UNREACHABLE_TAINT = "node.kubernetes.io/unreachable"
_TERMINAL_PHASES = ("Succeeded", "Failed")


# ---------------------------------------------------------------------------
# defaults


def _requests_from_limits(c: Obj) -> None:
    """SetDefaults_Pod: a container that states only limits requests exactly those."""
    res = defaults.child(c, "resources")
    if res is None or not isinstance(res.get("limits"), dict) or not res["limits"]:
        return
    requests = defaults.ensure_dict(res, "requests")
    for name, value in res["limits"].items():
        requests.setdefault(name, value)


def _default_tolerations(spec: Obj, seconds: int) -> None:
    """DefaultTolerationSeconds admission: tolerate not-ready/unreachable for 5 minutes."""
    tolerations = spec.get("tolerations")
    if not isinstance(tolerations, list):
        tolerations = []
    present = {_NOT_READY_TAINT: False, _UNREACHABLE_TAINT: False}
    for t in defaults.dicts(tolerations):
        if t.get("effect", "") in ("", "NoExecute"):
            for taint in present:
                if t.get("key", "") in ("", taint):
                    present[taint] = True
    for taint, tolerated in present.items():
        if not tolerated:
            tolerations.append({"key": taint, "operator": "Exists", "effect": "NoExecute",
                                "tolerationSeconds": seconds})
    spec["tolerations"] = tolerations


def _pod_admission(spec: Obj, toleration_seconds: int) -> None:
    """What the default-on admission plugins add to every new pod."""
    class_name = spec.get("priorityClassName") or ""
    priority = 0 if not class_name else _SYSTEM_PRIORITIES.get(class_name)
    if priority is not None and spec.get("priority") is None:
        spec["priority"] = priority
    if priority is not None and spec.get("preemptionPolicy") is None:
        spec["preemptionPolicy"] = "PreemptLowerPriority"
    _default_tolerations(spec, toleration_seconds)
    if not spec.get("serviceAccountName"):
        spec["serviceAccountName"] = spec.get("serviceAccount") or "default"
    # v1 still serialises the deprecated alias next to the real field.
    spec["serviceAccount"] = spec["serviceAccountName"]


# ---------------------------------------------------------------------------
# printer (printPod)


COLUMNS = (
    printing.name_column(),
    printing.column("Ready", desc="The aggregate readiness state of this pod for accepting traffic."),
    printing.column("Status", desc="The aggregate status of the containers in this pod."),
    printing.column("Restarts", desc="The number of times the containers in this pod have been restarted and "
                                     "when the last container in this pod has restarted."),
    printing.age_column(),
    printing.column("IP", desc="IP address allocated to the pod. Routable at least within the cluster. "
                               "Empty if not yet allocated.", priority=1),
    printing.column("Node", desc="NodeName indicates in which node this pod is scheduled.", priority=1),
    printing.column("Nominated Node", desc="nominatedNodeName is set only when this pod preempts other pods "
                                           "on the node.", priority=1),
    printing.column("Readiness Gates", desc="If specified, all readiness gates will be evaluated for pod "
                                            "readiness.", priority=1),
)


def _is_restartable_init(container: View | None) -> bool:
    """A sidecar: an init container with restartPolicy Always."""
    return container is not None and container.get("restartPolicy") == "Always"


def _later(current: datetime.datetime | None, candidate: datetime.datetime | None) -> datetime.datetime | None:
    # metav1.Time.Before with the zero time standing for "unset".
    if candidate is None:
        return current
    if current is None or current < candidate:
        return candidate
    return current


def _last_termination(status: View) -> datetime.datetime | None:
    terminated = (status.get("lastState") or {}).get("terminated")
    if terminated is None:
        return None
    return rfc3339.parse(terminated.get("finishedAt"))


@dataclasses.dataclass(frozen=True)
class PodSummary:
    ready: str  # "1/2"
    status: str  # "Running", "Init:0/1", "CrashLoopBackOff", "Terminating", ...
    restarts: str  # "3 (5m ago)"


def pod_summary(pod: View, now: datetime.datetime | None = None) -> PodSummary:
    """The READY, STATUS and RESTARTS cells of `kubectl get pods` (printPod)."""
    now = printing.now_or(now)
    spec = pod.get("spec") or {}
    status = pod.get("status") or {}
    metadata = pod.get("metadata") or {}
    conds = status.get("conditions") or []

    restarts = 0
    sidecar_restarts = 0
    total = len(spec.get("containers") or [])
    ready = 0
    last_restart: datetime.datetime | None = None
    last_sidecar_restart: datetime.datetime | None = None

    phase = status.get("phase") or ""
    reason = status.get("reason") or phase
    for c in conds:
        if c.get("type") == "PodScheduled" and c.get("reason") == "SchedulingGated":
            reason = "SchedulingGated"

    init_specs: dict[str, View] = {}
    init_containers = spec.get("initContainers") or []
    for c in init_containers:
        init_specs[c.get("name", "")] = c
        if _is_restartable_init(c):
            total += 1

    initializing = False
    for i, cs in enumerate(status.get("initContainerStatuses") or []):
        restarts += int(cs.get("restartCount") or 0)
        last_restart = _later(last_restart, _last_termination(cs))
        sidecar = _is_restartable_init(init_specs.get(cs.get("name", "")))
        if sidecar:
            sidecar_restarts += int(cs.get("restartCount") or 0)
            last_sidecar_restart = _later(last_sidecar_restart, _last_termination(cs))
        state = cs.get("state") or {}
        terminated = state.get("terminated")
        waiting = state.get("waiting")
        if terminated is not None and int(terminated.get("exitCode") or 0) == 0:
            continue
        if sidecar and cs.get("started") is True:
            if cs.get("ready"):
                ready += 1
            continue
        if terminated is not None:
            # initialization failed
            if not terminated.get("reason"):
                if terminated.get("signal"):
                    reason = f"Init:Signal:{terminated['signal']}"
                else:
                    reason = f"Init:ExitCode:{int(terminated.get('exitCode') or 0)}"
            else:
                reason = "Init:" + terminated["reason"]
        elif waiting is not None and waiting.get("reason") and waiting["reason"] != "PodInitializing":
            reason = "Init:" + waiting["reason"]
        else:
            reason = f"Init:{i}/{len(init_containers)}"
        initializing = True
        break

    if not initializing or conditions.is_true(pod, "Initialized"):
        restarts = sidecar_restarts
        last_restart = last_sidecar_restart
        has_running = False
        for cs in reversed(status.get("containerStatuses") or []):
            restarts += int(cs.get("restartCount") or 0)
            last_restart = _later(last_restart, _last_termination(cs))
            state = cs.get("state") or {}
            waiting = state.get("waiting")
            terminated = state.get("terminated")
            if waiting is not None and waiting.get("reason"):
                reason = waiting["reason"]
            elif terminated is not None and terminated.get("reason"):
                reason = terminated["reason"]
            elif terminated is not None:
                if terminated.get("signal"):
                    reason = f"Signal:{terminated['signal']}"
                else:
                    reason = f"ExitCode:{int(terminated.get('exitCode') or 0)}"
            elif cs.get("ready") and state.get("running") is not None:
                has_running = True
                ready += 1
        # A pod whose other containers still run is not "Completed".
        if reason == "Completed" and has_running:
            reason = "Running" if conditions.is_true(pod, "Ready") else "NotReady"

    if metadata.get("deletionTimestamp") and status.get("reason") == "NodeLost":
        reason = "Unknown"
    elif metadata.get("deletionTimestamp") and phase not in ("Succeeded", "Failed"):
        reason = "Terminating"

    restarts_text = str(restarts)
    if restarts != 0 and last_restart is not None:
        restarts_text = f"{restarts} ({printing.since(last_restart, now)} ago)"
    return PodSummary(f"{ready}/{total}", reason, restarts_text)


def _pod_cells(pod: View, now: datetime.datetime) -> Cells:
    spec = pod.get("spec") or {}
    status = pod.get("status") or {}
    summary = pod_summary(pod, now)
    pod_ips = status.get("podIPs") or []
    # v1→internal conversion fills podIPs from a lone podIP.
    pod_ip = (pod_ips[0].get("ip") if pod_ips else status.get("podIP")) or "<none>"
    gates = pods.readiness_gates(dict(pod))
    readiness = "<none>"
    if gates:
        true_count = sum(1 for _, cond in gates if cond is not None and cond.get("status") == "True")
        readiness = f"{true_count}/{len(gates)}"
    return [
        printing.name(pod), summary.ready, summary.status, summary.restarts, printing.age(pod, now),
        pod_ip, spec.get("nodeName") or "<none>", status.get("nominatedNodeName") or "<none>", readiness,
    ]


def _pod_conditions(pod: View) -> list[dict[str, str]] | None:
    phase = (pod.get("status") or {}).get("phase")
    if phase == "Succeeded":
        return [{"type": "Completed", "status": "True", "reason": "Succeeded",
                 "message": "The pod has completed successfully."}]
    if phase == "Failed":
        return [{"type": "Completed", "status": "True", "reason": "Failed", "message": "The pod failed."}]
    return None


# ---------------------------------------------------------------------------
# the strategy


class EphemeralContainersStrategy(strategy.SubresourceStrategy):
    """pods/ephemeralcontainers (`kubectl debug`): only spec.ephemeralContainers
    changes, and only by additions (podEphemeralContainersStrategy)."""

    def prepare_for_update(self, res: resources.Resource, new: Obj, old: Obj) -> Obj:
        result = strategy.json_copy(old)
        added = [dict(c) for c in ((new.get("spec") or {}).get("ephemeralContainers") or []) if isinstance(c, dict)]
        spec = result.setdefault("spec", {})
        if added:
            spec["ephemeralContainers"] = added
            for c in added:
                podspec.container_defaults(c)
        else:
            spec.pop("ephemeralContainers", None)
        return result

    def validate_update(self, res: resources.Resource, new: Obj, old: Obj) -> strategy.Errors:
        errs = strategy.Errors()
        podspec_validation.validate_ephemeral_containers_update(errs, new, old)
        return errs


class PodStrategy(strategy.Strategy):
    group, kind = "", "Pod"
    subresources = {"status": strategy.STATUS, "ephemeralcontainers": EphemeralContainersStrategy()}
    printer = printing.Printer(COLUMNS, _pod_cells, _pod_conditions)

    def defaults(self, res: resources.Resource, obj: Obj, old: Obj | None, settings: strategy.Settings) -> None:
        spec = defaults.ensure_dict(obj, "spec")
        for key in ("containers", "initContainers"):
            for c in defaults.dicts(spec.get(key)):
                _requests_from_limits(c)
        if spec.get("enableServiceLinks") is None:
            spec["enableServiceLinks"] = True
        if spec.get("hostNetwork") is True:
            for key in ("containers", "initContainers"):
                for c in defaults.dicts(spec.get(key)):
                    for port in defaults.dicts(c.get("ports")):
                        if defaults.is_zero(port.get("hostPort")):
                            port["hostPort"] = port.get("containerPort")
        podspec.pod_spec_defaults(spec)
        if old is None:
            _pod_admission(spec, settings.toleration_seconds)

    def prepare_for_create(self, res: resources.Resource, obj: Obj) -> None:
        status = vc.as_dict(obj.get("status"))
        # A pod arrives Pending; only its nominated node may be carried over.
        obj["status"] = {"phase": "Pending", "qosClass": pods.qos_class(obj)}
        if isinstance(status.get("nominatedNodeName"), str) and status["nominatedNodeName"]:
            obj["status"]["nominatedNodeName"] = status["nominatedNodeName"]

    def validate_status(self, res: resources.Resource, obj: Obj) -> strategy.Errors:
        errs = strategy.Errors()
        if "status" not in obj:
            return errs
        status = vc.validate_status_shape(errs, obj["status"], strs=(
            "phase", "reason", "message", "hostIP", "podIP", "nominatedNodeName", "qosClass", "startTime"))
        for key in ("podIPs", "hostIPs"):
            for i, ip in vc.typed_dicts(errs, status.get(key), f"status.{key}"):
                vc.typed_str(errs, ip.get("ip"), f"status.{key}[{i}].ip")
        for key in ("containerStatuses", "initContainerStatuses", "ephemeralContainerStatuses"):
            for i, cs in vc.typed_dicts(errs, status.get(key), f"status.{key}"):
                p = f"status.{key}[{i}]"
                for field in ("name", "image", "imageID", "containerID"):
                    vc.typed_str(errs, cs.get(field), f"{p}.{field}")
                for field in ("ready", "started"):
                    vc.typed_bool(errs, cs.get(field), f"{p}.{field}")
                vc.typed_int(errs, cs.get("restartCount"), f"{p}.restartCount")
                for field in ("state", "lastState"):
                    for state_name, state in vc.typed_dict(errs, cs.get(field), f"{p}.{field}").items():
                        state = vc.typed_dict(errs, state, f"{p}.{field}.{state_name}")
                        for member in ("reason", "message", "startedAt", "finishedAt", "containerID"):
                            vc.typed_str(errs, state.get(member), f"{p}.{field}.{state_name}.{member}")
                        for member in ("exitCode", "signal"):
                            vc.typed_int(errs, state.get(member), f"{p}.{field}.{state_name}.{member}")
        return errs

    def check(self, errs: strategy.Errors, res: resources.Resource, obj: Obj, old: Obj | None) -> None:
        podspec_validation.validate_pod_spec(errs, obj.get("spec"), "spec", is_pod=True)
        if old is not None:
            podspec_validation.validate_pod_update(errs, obj, old)

    def graceful_delete_seconds(self, obj: Obj, options: Mapping[str, Any]) -> int | None:
        """The pod's terminationGracePeriodSeconds, or the delete's gracePeriodSeconds."""
        spec, status = vc.as_dict(obj.get("spec")), vc.as_dict(obj.get("status"))
        grace = vc.as_int(options.get("gracePeriodSeconds"))
        if grace is None:
            grace = vc.as_int(spec.get("terminationGracePeriodSeconds", 30))
        grace = max(grace or 0, 0)
        # Nothing runs an unscheduled or finished pod: delete it at once.
        if not spec.get("nodeName") or status.get("phase") in _TERMINAL_PHASES:
            return 0
        return grace
