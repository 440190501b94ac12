"""Pod status: computed from what the engine holds, written only when it changed.

`generate_api_pod_status` is a pure function (Kubernetes' generateAPIPodStatus
and convertToAPIContainerStatuses): the engine's view of the pod, the reasons
the last sync could not start a container, the probe results and the previous
status go in; the API status comes out, with lastTransitionTime kept for every
condition whose value did not change, so an unchanged pod gives an identical
status and no write.

`StatusManager` owns the writes: one background writer per pod sends the newest
status through the status subresource, coalescing updates that arrive while a
write is in flight and retrying failures with back-off. A pod sync never waits
on the API server.
"""
from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Callable, Mapping

import orjson

from minik8s.api import conditions
from minik8s.api import errors
from minik8s.api import pods
from minik8s.api import resources
from minik8s.api import rfc3339
from minik8s.client import rest
from minik8s.kubelet import runtime

log = logging.getLogger(__name__)

PODS = resources.must("", "v1", "pods")

Obj = dict[str, Any]
# Conditions the kubelet owns; any other condition on the pod is kept as it is.
KUBELET_CONDITIONS = ("Initialized", "Ready", "ContainersReady", "PodScheduled")
TERMINAL_PHASES = ("Succeeded", "Failed")


def same(a: Any, b: Any) -> bool:
    return orjson.dumps(a, option=orjson.OPT_SORT_KEYS) == orjson.dumps(b, option=orjson.OPT_SORT_KEYS)


def _terminated(c: runtime.ContainerStatus) -> Obj:
    out: Obj = {"exitCode": c.exit_code, "reason": c.reason or ("Completed" if c.exit_code == 0 else "Error"),
                "startedAt": rfc3339.format(c.started_at) if c.started_at else None,
                "finishedAt": rfc3339.format(c.finished_at) if c.finished_at else None,
                "containerID": f"docker://{c.id}"}
    if c.message:
        out["message"] = c.message
    return out


def container_statuses(pod: Obj, rs: runtime.PodRuntimeStatus, reasons: Mapping[str, tuple[str, str]],
                       ready: Callable[[str, str], bool], started: Callable[[str, str], bool],
                       key: str = "containers") -> list[Obj]:
    """One status per container of spec[key]: containers, initContainers or
    ephemeralContainers (convertToAPIContainerStatuses).

    The newest instance gives the state, the one before it the lastState. A
    container the last sync could not start (back-off, pull failure) is shown
    waiting with that reason, its last run moved to lastState. Containers not
    created yet wait in ContainerCreating, or PodInitializing when the pod has
    init containers. An init container is ready once it exited 0 (a sidecar
    while it runs), as the prober manager reports it.
    """
    spec = pod.get("spec") or {}
    waiting_reason = "PodInitializing" if spec.get("initContainers") else "ContainerCreating"
    init = key == "initContainers"
    out = []
    for spec_c in spec.get(key) or []:
        name = spec_c["name"]
        instances = rs.instances(name)
        status: Obj = {"name": name, "image": spec_c.get("image", ""), "imageID": "", "ready": False,
                       "restartCount": 0, "started": False,
                       "state": {"waiting": {"reason": waiting_reason}}, "lastState": {}}
        if instances:
            latest = instances[0]
            status["restartCount"] = latest.attempt
            status["containerID"] = f"docker://{latest.id}"
            status["imageID"] = f"docker://{latest.image_id}" if latest.image_id else ""
            if latest.state == runtime.RUNNING:
                status["state"] = {"running": {"startedAt": rfc3339.format(latest.started_at)}}
                if init:
                    sidecar = spec_c.get("restartPolicy") == "Always"
                    status["started"] = sidecar and started(name, latest.id)
                    status["ready"] = status["started"] and ready(name, latest.id)
                else:
                    status["started"] = started(name, latest.id)
                    status["ready"] = status["started"] and ready(name, latest.id)
            elif latest.state == runtime.EXITED:
                status["state"] = {"terminated": _terminated(latest)}
                if init and latest.exit_code == 0:
                    status["ready"] = True
            for prev in instances[1:]:
                if prev.state == runtime.EXITED:
                    status["lastState"] = {"terminated": _terminated(prev)}
                    break
        failure = reasons.get(name)
        if failure is not None and "running" not in status["state"]:
            reason, message = failure
            if "terminated" in status["state"]:
                status["lastState"] = status["state"]
            status["state"] = {"waiting": {"reason": reason, **({"message": message} if message else {})}}
        out.append(status)
    return out


def _init_progress(pod: Obj, init_statuses: list[Obj]) -> tuple[int, int]:
    """(pending, failed) regular init containers, as getPhase counts them."""
    by_name = {s["name"]: s for s in init_statuses}
    pending = failed = 0
    for c in (pod.get("spec") or {}).get("initContainers") or []:
        if c.get("restartPolicy") == "Always":
            s = by_name.get(c["name"])
            if s is None or not s.get("started"):
                pending += 1
            continue
        s = by_name.get(c["name"])
        state, last = (s or {}).get("state") or {}, (s or {}).get("lastState") or {}
        if s is None or "running" in state:
            pending += 1
        elif "terminated" in state:
            if state["terminated"].get("exitCode") != 0:
                failed += 1
        elif "waiting" in state:
            if "terminated" in last:
                if last["terminated"].get("exitCode") != 0:
                    failed += 1
            else:
                pending += 1
        else:
            pending += 1
    return pending, failed


def get_phase(pod: Obj, statuses: list[Obj], init_statuses: list[Obj] | None = None) -> str:
    """Kubernetes' getPhase: init containers first, then the app containers."""
    spec = pod.get("spec") or {}
    policy = spec.get("restartPolicy") or "Always"
    pending_init, failed_init = _init_progress(pod, init_statuses or [])
    if failed_init and policy == "Never":
        return "Failed"
    started_any = any((s.get("state") or {}).get("running") or (s.get("state") or {}).get("terminated")
                      or (s.get("lastState") or {}).get("terminated") for s in statuses)
    if pending_init and not started_any:
        return "Pending"
    running = waiting = stopped = succeeded = unknown = 0
    by_name = {s["name"]: s for s in statuses}
    for c in spec.get("containers") or []:
        s = by_name.get(c["name"])
        if s is None:
            unknown += 1
            continue
        state, last = s.get("state") or {}, s.get("lastState") or {}
        if "running" in state:
            running += 1
        elif "terminated" in state:
            stopped += 1
            if state["terminated"].get("exitCode") == 0:
                succeeded += 1
        elif "waiting" in state:
            if "terminated" in last:
                stopped += 1
            else:
                waiting += 1
        else:
            unknown += 1
    if waiting:
        return "Pending"
    if running and not unknown:
        return "Running"
    if not running and stopped and not unknown:
        if policy == "Always":
            return "Running"
        if policy == "OnFailure":
            return "Succeeded" if stopped == succeeded else "Running"
        return "Succeeded" if stopped == succeeded else "Failed"
    return "Pending"


def _condition(ctype: str, ok: bool, reason: str = "", message: str = "") -> Obj:
    cond: Obj = {"type": ctype, "status": "True" if ok else "False", "lastProbeTime": None}
    if not ok and reason:
        cond["reason"] = reason
        if message:
            cond["message"] = message
    return cond


def _initialized_condition(pod: Obj, statuses: list[Obj], init_statuses: list[Obj], phase: str) -> Obj:
    """GeneratePodInitializedCondition."""
    if phase == "Succeeded" or any((s.get("state") or {}).get("running") or (s.get("state") or {}).get("terminated")
                                   for s in statuses):
        return _condition("Initialized", True)
    by_name = {s["name"]: s for s in init_statuses}
    incomplete = []
    for c in (pod.get("spec") or {}).get("initContainers") or []:
        s = by_name.get(c["name"]) or {}
        if c.get("restartPolicy") == "Always":
            if not s.get("started"):
                incomplete.append(c["name"])
            continue
        terminated = (s.get("state") or {}).get("terminated")
        if terminated is None or terminated.get("exitCode") != 0:
            incomplete.append(c["name"])
    if incomplete:
        return _condition("Initialized", False, "ContainersNotInitialized",
                          f"containers with incomplete status: [{' '.join(incomplete)}]")
    return _condition("Initialized", True)


def _readiness_gates(pod: Obj, current: list[Obj]) -> tuple[bool, str, str]:
    for gate in (pod.get("spec") or {}).get("readinessGates") or []:
        ctype = gate.get("conditionType", "")
        cond = conditions.find(current, ctype)
        if cond is None:
            return False, "ReadinessGatesNotReady", f'corresponding condition of pod readiness gate "{ctype}" does not exist.'
        if cond.get("status") != "True":
            return False, "ReadinessGatesNotReady", f'the status of pod readiness gate "{ctype}" is not "True", but {cond.get("status")}'
    return True, "", ""


def generate_api_pod_status(pod: Obj, rs: runtime.PodRuntimeStatus, *, old: Obj | None,
                            reasons: Mapping[str, tuple[str, str]], ready: Callable[[str, str], bool],
                            started: Callable[[str, str], bool], host_ip: str, terminal: bool = False,
                            now: float | None = None) -> Obj:
    """The pod's status as the kubelet reports it. `terminal`: the pod was stopped
    for good (deleted), so a non-terminal phase becomes Succeeded or Failed."""
    now = time.time() if now is None else now
    old = old or {}
    statuses = container_statuses(pod, rs, reasons, ready, started)
    init_statuses = container_statuses(pod, rs, reasons, ready, started, key="initContainers")
    phase = get_phase(pod, statuses, init_statuses)
    if old.get("phase") in TERMINAL_PHASES:
        phase = old["phase"]  # a terminal phase never goes back
    elif terminal and phase not in TERMINAL_PHASES:
        all_ok = all((s.get("state") or {}).get("terminated", {}).get("exitCode") == 0 for s in statuses)
        phase = "Succeeded" if all_ok and statuses else "Failed"

    old_conditions = old.get("conditions") or []
    if phase in TERMINAL_PHASES:
        containers_ready, reason, message = False, "PodCompleted", ""
    else:
        sidecars = {c["name"] for c in (pod.get("spec") or {}).get("initContainers") or []
                    if c.get("restartPolicy") == "Always"}
        # Sidecars count for readiness too (restartable init containers, 1.29+).
        unready = [s["name"] for s in init_statuses if s["name"] in sidecars and not s["ready"]] + \
            [s["name"] for s in statuses if not s["ready"]]
        containers_ready = not unready
        reason = "ContainersNotReady" if unready else ""
        message = f"containers with unready status: [{' '.join(unready)}]" if unready else ""
    gates_ok, gate_reason, gate_message = _readiness_gates(pod, old_conditions)
    if containers_ready and not gates_ok:
        ready_cond = _condition("Ready", False, gate_reason, gate_message)
    else:
        ready_cond = _condition("Ready", containers_ready, reason, message)
    new_conditions = [_initialized_condition(pod, statuses, init_statuses, phase), ready_cond,
                      _condition("ContainersReady", containers_ready, reason, message),
                      _condition("PodScheduled", True)]
    for cond in new_conditions:
        prev = conditions.find(old_conditions, cond["type"])
        cond["lastTransitionTime"] = prev.get("lastTransitionTime") if prev and prev.get("status") == cond["status"] \
            and prev.get("lastTransitionTime") else rfc3339.format(now)
    new_conditions += [c for c in old_conditions if c.get("type") not in KUBELET_CONDITIONS]

    sandbox = rs.running_sandbox()
    pod_ip = sandbox.ip if sandbox is not None and sandbox.ip else ""
    if (pod.get("spec") or {}).get("hostNetwork") and sandbox is not None:
        pod_ip = host_ip
    if not pod_ip and (phase in TERMINAL_PHASES or terminal):
        pod_ip = old.get("podIP", "")  # a stopped pod keeps reporting the address it had
    status: Obj = {"phase": phase, "conditions": new_conditions, "hostIP": host_ip, "hostIPs": [{"ip": host_ip}]}
    if pod_ip:
        status["podIP"] = pod_ip
        status["podIPs"] = [{"ip": pod_ip}]
    status["startTime"] = old.get("startTime") or rfc3339.format(now)
    if init_statuses:
        status["initContainerStatuses"] = init_statuses
    status["containerStatuses"] = statuses
    if (pod.get("spec") or {}).get("ephemeralContainers"):
        # Shown, but never part of readiness or the phase.
        status["ephemeralContainerStatuses"] = container_statuses(pod, rs, reasons, lambda _n, _i: False,
                                                                  started, key="ephemeralContainers")
    status["qosClass"] = old.get("qosClass") or pods.qos_class(pod)
    for key in ("nominatedNodeName", "message", "reason"):
        # A terminal status is final: why the pod ended (Evicted) stays with it.
        if old.get(key) and key not in status and \
                (phase not in TERMINAL_PHASES or old.get("phase") in TERMINAL_PHASES):
            status[key] = old[key]
    return status


class StatusManager:
    """Writes each pod's newest status through pods/status, once per change."""

    def __init__(self, client: rest.Client, *, retry_base: float = 0.5, retry_max: float = 10.0) -> None:
        self.client = client
        self.retry_base = retry_base
        self.retry_max = retry_max
        self._latest: dict[str, tuple[str, str, Obj]] = {}  # uid -> (namespace, name, status)
        self._written: dict[str, Obj] = {}
        self._writers: dict[str, asyncio.Task[None]] = {}
        self._dirty: dict[str, asyncio.Event] = {}
        self.writes = 0  # for tests and the benchmark: how many PUTs went out

    def get(self, uid: str) -> Obj | None:
        entry = self._latest.get(uid)
        return entry[2] if entry else None

    def set_pod_status(self, pod: Obj, status: Obj) -> None:
        """Remember `status` as the pod's status and write it unless the API already has it."""
        meta = pod["metadata"]
        uid = meta["uid"]
        current = self._latest.get(uid)
        if current is not None and same(current[2], status):
            return
        self._latest[uid] = (meta.get("namespace", "default"), meta["name"], status)
        if uid not in self._written and same(pod.get("status") or {}, status):
            self._written[uid] = status  # a restarted kubelet finds the API up to date
            return
        if uid in self._written and same(self._written[uid], status):
            return
        event = self._dirty.setdefault(uid, asyncio.Event())
        event.set()
        if uid not in self._writers or self._writers[uid].done():
            self._writers[uid] = asyncio.get_running_loop().create_task(self._writer(uid), name=f"status-{uid}")

    async def _writer(self, uid: str) -> None:
        delay = self.retry_base
        event = self._dirty[uid]
        while event.is_set():
            event.clear()
            entry = self._latest.get(uid)
            if entry is None:
                return
            namespace, name, status = entry
            if uid in self._written and same(self._written[uid], status):
                continue
            body = {"apiVersion": "v1", "kind": "Pod",
                    "metadata": {"name": name, "namespace": namespace, "uid": uid}, "status": status}
            try:
                await self.client.update_status(PODS, body)
                self.writes += 1
                self._written[uid] = status
                delay = self.retry_base
            except (errors.NotFound, errors.Conflict) as e:
                # The pod is gone, or a new pod took its name: nothing to report to.
                log.debug("pod %s/%s (%s): status not written: %s", namespace, name, uid, e.message)
                return
            except errors.StatusError as e:
                log.warning("pod %s/%s: writing status failed: %s; retrying in %.1fs", namespace, name,
                            e.message, delay)
                event.set()
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.retry_max)

    async def flush(self, uid: str, timeout: float = 10.0) -> None:
        """Wait until the pod's latest status is written (or given up)."""
        task = self._writers.get(uid)
        if task is not None and not task.done():
            await asyncio.wait({task}, timeout=timeout)

    def forget(self, uid: str) -> None:
        self._latest.pop(uid, None)
        self._written.pop(uid, None)
        self._dirty.pop(uid, None)
        task = self._writers.pop(uid, None)
        if task is not None and not task.done():
            task.cancel()

    async def stop(self) -> None:
        tasks = [t for t in self._writers.values() if not t.done()]
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

