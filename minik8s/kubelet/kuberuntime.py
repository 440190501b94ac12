"""sync_pod and kill_pod: making one pod real on the engine (kuberuntime_manager.go).

`compute_pod_actions` is pure: from the pod's spec and what the engine holds
for it, it decides whether the sandbox must be (re)created, which containers
to kill and which to start. `RuntimeManager.sync_pod` then carries those
actions out as a transaction script whose every step is safe to repeat:

 1. compute the actions;
 2. kill the whole pod if its sandbox changed (died, lost its IP, duplicated),
    otherwise kill the containers that must go (spec changed, liveness or
    startup probe failed);
 3. create the sandbox if needed: the pause container on the pod network,
    owning the network and IPC namespaces; its address is the pod IP;
 4. start each container that should run, concurrently: respect its crash
    back-off, make sure the image is there (pull policy, pull back-off),
    create it joined to the sandbox, start it;
 5. read the engine's state again and hand the prober and the status manager
    the result.

A failure in any step is recorded as the container's waiting reason (shown in
its status) and the sync is retried later; since every decision is taken from
the engine's current state, the retry picks up where this one stopped.
"""
from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from typing import Any, Callable, Mapping, Protocol

from minik8s.kubelet import backoff as backoff_mod
from minik8s.kubelet import containers as containers_mod
from minik8s.kubelet import ephemeral
from minik8s.kubelet import runtime
from minik8s.kubelet import volumes as volumes_mod

log = logging.getLogger(__name__)

Obj = dict[str, Any]
RecordFn = Callable[[Obj, str, str, str, str], None]  # pod, type, reason, message, fieldPath

# Waiting reasons that are the normal course of things (not worth a warning in the log).
EXPECTED_WAITING = ("CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull", "ErrImageNeverPull")
# Kubernetes' minimumGracePeriodInSeconds: even a forced kill gets this long.
MIN_GRACE = 2
SANDBOX_STOP_GRACE = 10


class ProbeResults(Protocol):
    def failed(self, uid: str, name: str, cid: str) -> str | None: ...


@dataclasses.dataclass
class PodActions:
    kill_pod: bool = False
    create_sandbox: bool = False
    sandbox_id: str = ""
    attempt: int = 0
    containers_to_start: list[str] = dataclasses.field(default_factory=list)
    # container id -> (container name, why)
    containers_to_kill: dict[str, tuple[str, str]] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class SyncResult:
    status: runtime.PodRuntimeStatus
    requeue_after: float | None = None
    error: str = ""


def restart_policy(pod: Obj) -> str:
    return (pod.get("spec") or {}).get("restartPolicy") or "Always"


def should_restart_on_failure(pod: Obj) -> bool:
    return restart_policy(pod) != "Never"


def should_container_be_restarted(container: Obj, pod: Obj, rs: runtime.PodRuntimeStatus) -> bool:
    if (pod.get("metadata") or {}).get("deletionTimestamp"):
        return False
    status = rs.latest(container["name"])
    if status is None:
        return True
    if status.state == runtime.RUNNING:
        return False
    if status.state in (runtime.UNKNOWN, runtime.CREATED):
        return True
    policy = restart_policy(pod)
    if policy == "Never":
        return False
    if policy == "OnFailure":
        return status.exit_code != 0
    return True


def sandbox_changed(pod: Obj, rs: runtime.PodRuntimeStatus) -> tuple[bool, int, str]:
    """(needs a new sandbox, its attempt number, the current sandbox id)."""
    if not rs.sandboxes:
        return True, 0, ""
    latest = rs.sandboxes[0]
    ready = [s for s in rs.sandboxes if s.state == runtime.RUNNING]
    if len(ready) > 1 or latest.state != runtime.RUNNING:
        return True, latest.attempt + 1, latest.id
    if not (pod.get("spec") or {}).get("hostNetwork") and not latest.ip:
        return True, latest.attempt + 1, latest.id
    return False, latest.attempt, latest.id


def _succeeded(container: Obj, rs: runtime.PodRuntimeStatus) -> bool:
    status = rs.latest(container["name"])
    return status is not None and status.state == runtime.EXITED and status.exit_code == 0


def compute_pod_actions(pod: Obj, rs: runtime.PodRuntimeStatus, probes: ProbeResults) -> PodActions:
    """What sync_pod must do to bring the engine in line with the pod (computePodActions)."""
    uid = pod["metadata"]["uid"]
    spec_containers = (pod.get("spec") or {}).get("containers") or []
    create, attempt, sandbox_id = sandbox_changed(pod, rs)
    actions = PodActions(kill_pod=create, create_sandbox=create, sandbox_id=sandbox_id, attempt=attempt)
    if create:
        if not should_restart_on_failure(pod) and attempt != 0 and rs.containers:
            # A Never pod whose containers already ran is done: no new sandbox.
            actions.create_sandbox = False
            return actions
        actions.containers_to_start = [
            c["name"] for c in spec_containers
            if not (restart_policy(pod) == "OnFailure" and _succeeded(c, rs))]
        if not actions.containers_to_start:
            actions.create_sandbox = False
        return actions

    keep = 0
    for c in spec_containers:
        name = c["name"]
        status = rs.latest(name)
        if status is None or status.state != runtime.RUNNING:
            if should_container_be_restarted(c, pod, rs):
                actions.containers_to_start.append(name)
                if status is not None and status.state == runtime.UNKNOWN:
                    actions.containers_to_kill[status.id] = (name, f"Container {name} is in an unknown state")
            continue
        restart = should_restart_on_failure(pod)
        if status.hash and status.hash != runtime.hash_container(c):
            message, restart = f"Container {name} definition changed", True
        elif (failed := probes.failed(uid, name, status.id)) is not None:
            message = f"Container {name} failed {failed} probe"
        else:
            keep += 1
            continue
        if restart:
            message += ", will be restarted"
            actions.containers_to_start.append(name)
        actions.containers_to_kill[status.id] = (name, message)

    # Running instances that the spec does not explain: older duplicates of a
    # container, or containers no longer in the spec.
    newest_running: dict[str, str] = {}
    names = {c["name"] for c in spec_containers} | ephemeral.names(pod)
    for status in rs.containers:  # newest first
        if status.state != runtime.RUNNING or status.id in actions.containers_to_kill:
            continue
        if status.name not in names:
            actions.containers_to_kill[status.id] = (status.name, f"Container {status.name} is not in the pod spec")
        elif status.name in newest_running:
            actions.containers_to_kill[status.id] = (status.name, f"Container {status.name} has a newer instance")
        else:
            newest_running[status.name] = status.id

    if keep == 0 and not actions.containers_to_start:
        actions.kill_pod = True
        return actions
    actions.containers_to_start += ephemeral.to_start(pod, rs)
    return actions


def _field_path(name: str) -> str:
    return f"spec.containers{{{name}}}"


def _pod_id(pod: Obj) -> str:
    meta = pod["metadata"]
    return f"{meta['name']}_{meta.get('namespace', 'default')}({meta['uid']})"


def grace_period(pod: Obj | None, rs: runtime.PodRuntimeStatus | None = None) -> int:
    """The seconds a pod's containers get between SIGTERM and SIGKILL."""
    grace: Any = None
    if pod is not None:
        meta, spec = pod.get("metadata") or {}, pod.get("spec") or {}
        grace = meta.get("deletionGracePeriodSeconds")
        if grace is None:
            grace = spec.get("terminationGracePeriodSeconds", 30)
    elif rs is not None:
        for c in (*rs.containers, *rs.sandboxes):
            if runtime.GRACE_PERIOD in c.labels:
                grace = c.labels[runtime.GRACE_PERIOD]
                break
    try:
        value = int(grace) if grace is not None else 30
    except ValueError:
        value = 30
    return max(value, MIN_GRACE)


class RuntimeManager:
    """Carries out sync_pod / kill_pod on one engine for one node."""

    def __init__(self, rt: runtime.Runtime, *, node_name: str, network: str, host_ip: str,
                 volumes: volumes_mod.VolumeManager, probes: ProbeResults, record: RecordFn,
                 crash_backoff: backoff_mod.Backoff, image_backoff: backoff_mod.Backoff,
                 node_allocatable: Mapping[str, str] | None = None,
                 cluster_dns: str = "", cluster_domain: str = "cluster.local",
                 clock: Callable[[], float] = time.time) -> None:
        self.runtime = rt
        self.cluster_dns = cluster_dns
        self.cluster_domain = cluster_domain
        self.node_name = node_name
        self.network = network
        self.host_ip = host_ip
        self.volumes = volumes
        self.probes = probes
        self.record = record
        self.crash_backoff = crash_backoff
        self.image_backoff = image_backoff
        self.node_allocatable = dict(node_allocatable or {})
        self.clock = clock
        # pod uid -> container name -> (waiting reason, message) of the last failed start
        self.reasons: dict[str, dict[str, tuple[str, str]]] = {}
        # pod uid/image -> when its last pull failed (the image back-off's event time)
        self._pull_failed_at: dict[str, float] = {}

    def reasons_for(self, uid: str) -> dict[str, tuple[str, str]]:
        return self.reasons.get(uid, {})

    # -- sync_pod ---------------------------------------------------------------------------------

    async def sync_pod(self, pod: Obj, rs: runtime.PodRuntimeStatus | None = None) -> SyncResult:
        uid = pod["metadata"]["uid"]
        if rs is None:
            rs = await self.runtime.pod_status(uid)
        # Step 1
        actions = compute_pod_actions(pod, rs, self.probes)
        reasons = self.reasons.setdefault(uid, {})
        requeue: list[float] = []
        error = ""

        # Step 2
        if actions.kill_pod:
            if actions.create_sandbox and rs.sandboxes:
                self.record(pod, "Normal", "SandboxChanged", "Pod sandbox changed, it will be killed and re-created.", "")
            await self.kill_pod_containers(pod, rs, grace_period(pod), remove=False)
        elif actions.containers_to_kill:
            await asyncio.gather(*(self._kill_container(pod, cid, name, why)
                                   for cid, (name, why) in actions.containers_to_kill.items()))

        # Step 3
        sandbox = rs.running_sandbox()
        volume_paths: dict[str, str] = {}
        if actions.containers_to_start:
            try:
                volume_paths = await asyncio.to_thread(self.volumes.prepare, pod)
            except volumes_mod.MountError as e:
                self.record(pod, "Warning", "FailedMount", e.message, "")
                return SyncResult(await self.runtime.pod_status(uid), self.crash_backoff.initial, e.message)
            except OSError as e:
                message = f"preparing volumes: {e}"
                self.record(pod, "Warning", "FailedMount", message, "")
                return SyncResult(await self.runtime.pod_status(uid), self.crash_backoff.initial, message)
        if actions.create_sandbox:
            try:
                sandbox = await self.runtime.run_sandbox(containers_mod.sandbox_config(
                    pod, node=self.node_name, network=self.network, attempt=actions.attempt,
                    cluster_dns=self.cluster_dns, cluster_domain=self.cluster_domain))
            except runtime.RuntimeFailure as e:
                message = f"Failed to create pod sandbox: {e.message}"
                log.warning("pod %s: %s", _pod_id(pod), message)
                self.record(pod, "Warning", "FailedCreatePodSandBox", message, "")
                return SyncResult(await self.runtime.pod_status(uid), self.crash_backoff.initial, message)
            for old in rs.sandboxes:
                if old.id != sandbox.id and old.state != runtime.RUNNING:
                    await self.runtime.remove_container(old.id)

        # Step 4
        if actions.containers_to_start and sandbox is not None:
            pod_ip = self.host_ip if (pod.get("spec") or {}).get("hostNetwork") else sandbox.ip
            ctx = containers_mod.PodContext(self.node_name, self.host_ip, pod_ip, volume_paths,
                                            self.node_allocatable)
            by_name = {c["name"]: c for c in (pod.get("spec") or {}).get("containers") or []}
            by_name.update((c["name"], c) for c in ephemeral.containers(pod))
            results = await asyncio.gather(*(
                self._start_container(pod, by_name[name], sandbox, rs, ctx)
                for name in actions.containers_to_start if name in by_name))
            for name, outcome in zip([n for n in actions.containers_to_start if n in by_name], results):
                if outcome is None:
                    reasons.pop(name, None)
                else:
                    reason, message, retry = outcome
                    reasons[name] = (reason, message)
                    if reason not in EXPECTED_WAITING:
                        log.warning("pod %s: container %s: %s: %s", _pod_id(pod), name, reason, message)
                    requeue.append(retry)
                    error = error or message
        # A container that runs or that will not be started again needs no reason.
        for name in list(reasons):
            if name not in actions.containers_to_start:
                reasons.pop(name, None)

        # Step 5
        fresh = await self.runtime.pod_status(uid)
        return SyncResult(fresh, min(requeue) if requeue else None, error)

    async def _kill_container(self, pod: Obj | None, cid: str, name: str, why: str,
                              grace: int | None = None) -> None:
        if pod is not None:
            self.record(pod, "Normal", "Killing", why, _field_path(name))
        log.info("killing container %s (%s): %s", name, cid[:12], why)
        try:
            await self.runtime.stop_container(cid, grace if grace is not None else grace_period(pod))
        except runtime.RuntimeFailure as e:
            log.warning("stopping container %s (%s) failed: %s", name, cid[:12], e.message)

    async def _start_container(self, pod: Obj, container: Obj, sandbox: runtime.ContainerStatus,
                               rs: runtime.PodRuntimeStatus, ctx: containers_mod.PodContext
                               ) -> tuple[str, str, float] | None:
        """Start one container; None on success, else (waiting reason, message, retry after)."""
        uid = pod["metadata"]["uid"]
        name = container["name"]
        latest = rs.latest(name)
        key = f"{uid}/{name}"
        if latest is not None and latest.state == runtime.EXITED:
            finished = latest.finished_at or self.clock()
            if self.crash_backoff.in_backoff_since(key, finished):
                delay = self.crash_backoff.get(key)
                self.record(pod, "Warning", "BackOff",
                            f"Back-off restarting failed container {name} in pod {_pod_id(pod)}", _field_path(name))
                return ("CrashLoopBackOff",
                        f"back-off {_duration(delay)} restarting failed container={name} pod={_pod_id(pod)}",
                        max(self.crash_backoff.remaining(key, finished), 0.05))
            self.crash_backoff.next(key, finished)
        try:
            await self.ensure_image(pod, container)
        except runtime.RuntimeFailure as e:
            image_key = f"{uid}/{container.get('image', '')}"
            remaining = self.image_backoff.remaining(image_key, self._pull_failed_at.get(image_key, self.clock()))
            if e.reason == "ErrImagePull":
                # Sync again half way, so the back-off shows as ImagePullBackOff.
                return e.reason, e.message, max(remaining / 2, 0.05)
            if e.reason == "ImagePullBackOff":
                return e.reason, e.message, max(remaining, 0.05)
            return e.reason, e.message, self.crash_backoff.initial
        restart_count = latest.attempt + 1 if latest is not None else 0
        try:
            config = containers_mod.container_config(pod, container, sandbox_id=sandbox.id,
                                                     restart_count=restart_count, ctx=ctx)
            if ephemeral.pid_target(container, rs):
                config = dataclasses.replace(config, pid_target=ephemeral.pid_target(container, rs))
        except runtime.RuntimeFailure as e:
            self.record(pod, "Warning", "Failed", f"Error: {e.message}", _field_path(name))
            return e.reason, e.message, self.crash_backoff.initial
        # Keep the newest exited instance (lastState, logs --previous); older ones go.
        exited = [c for c in rs.instances(name) if c.state != runtime.RUNNING]
        for old in exited[1:]:
            await self.runtime.remove_container(old.id)
        try:
            cid = await self.runtime.create_container(config)
        except runtime.RuntimeFailure as e:
            self.record(pod, "Warning", "Failed", f"Error: {e.message}", _field_path(name))
            return "CreateContainerError", e.message, self.crash_backoff.initial
        self.record(pod, "Normal", "Created", f"Created container {name}", _field_path(name))
        try:
            await self.runtime.start_container(cid)
        except runtime.RuntimeFailure as e:
            self.record(pod, "Warning", "Failed", f"Error: {e.message}", _field_path(name))
            return "RunContainerError", e.message, self.crash_backoff.initial
        self.record(pod, "Normal", "Started", f"Started container {name}", _field_path(name))
        return None

    async def ensure_image(self, pod: Obj, container: Obj) -> None:
        """Make the container's image present according to its pull policy (EnsureImageExists)."""
        image = container.get("image", "")
        name = container["name"]
        policy = container.get("imagePullPolicy") or ("Always" if _is_latest(image) else "IfNotPresent")
        present = await self.runtime.inspect_image(image)
        field = _field_path(name)
        if policy == "Never":
            if present is not None:
                return
            message = f'Container image "{image}" is not present with pull policy of Never'
            self.record(pod, "Warning", "ErrImageNeverPull", message, field)
            raise runtime.RuntimeFailure("ErrImageNeverPull", message)
        if policy == "IfNotPresent" and present is not None:
            self.record(pod, "Normal", "Pulled", f'Container image "{image}" already present on machine', field)
            return
        key = f"{pod['metadata']['uid']}/{image}"
        failed_at = self._pull_failed_at.get(key)
        if failed_at is not None and self.image_backoff.in_backoff_since(key, failed_at):
            message = f'Back-off pulling image "{image}"'
            self.record(pod, "Normal", "BackOff", message, field)
            self.record(pod, "Warning", "Failed", "Error: ImagePullBackOff", field)
            raise runtime.RuntimeFailure("ImagePullBackOff", message)
        self.record(pod, "Normal", "Pulling", f'Pulling image "{image}"', field)
        started = self.clock()
        try:
            await self.runtime.pull_image(image)
        except runtime.RuntimeFailure as e:
            now = self.clock()
            self._pull_failed_at[key] = now
            self.image_backoff.next(key, now)
            self.record(pod, "Warning", "Failed", f'Failed to pull image "{image}": {e.message}', field)
            self.record(pod, "Warning", "Failed", "Error: ErrImagePull", field)
            raise runtime.RuntimeFailure("ErrImagePull", e.message) from e
        self._pull_failed_at.pop(key, None)
        self.record(pod, "Normal", "Pulled",
                    f'Successfully pulled image "{image}" in {self.clock() - started:.3f}s', field)

    # -- kill_pod --------------------------------------------------------------------------------

    async def kill_pod_containers(self, pod: Obj | None, rs: runtime.PodRuntimeStatus, grace: int,
                                  *, remove: bool) -> None:
        """Stop every container (SIGTERM, `grace` seconds, SIGKILL), then the sandbox.

        `remove` also deletes them all: the pod is gone for good.
        """
        running = [c for c in rs.containers if c.state in (runtime.RUNNING, runtime.UNKNOWN, runtime.CREATED)]
        await asyncio.gather(*(self._kill_container(pod, c.id, c.name, f"Stopping container {c.name}", grace)
                               for c in running))
        sandboxes = [s for s in rs.sandboxes if s.state != runtime.EXITED]
        await asyncio.gather(*(self.runtime.stop_container(s.id, SANDBOX_STOP_GRACE) for s in sandboxes),
                             return_exceptions=True)
        if remove:
            # App containers first: a sandbox goes only once nothing uses its namespaces.
            await asyncio.gather(*(self.runtime.remove_container(c.id) for c in rs.containers),
                                 return_exceptions=True)
            await asyncio.gather(*(self.runtime.remove_container(s.id) for s in rs.sandboxes),
                                 return_exceptions=True)

    async def kill_pod(self, pod: Obj | None, uid: str, grace: int | None = None, *,
                       remove: bool) -> runtime.PodRuntimeStatus:
        """Stop (and with `remove`, delete) everything the engine holds for the pod;
        return the engine's state afterwards."""
        rs = await self.runtime.pod_status(uid)
        if rs.containers or rs.sandboxes:
            await self.kill_pod_containers(pod, rs, grace if grace is not None else grace_period(pod, rs),
                                           remove=remove)
            rs = await self.runtime.pod_status(uid)
        if remove:
            self.forget(uid)
            await asyncio.to_thread(self.volumes.cleanup, uid)
        return rs

    def forget(self, uid: str) -> None:
        self.reasons.pop(uid, None)
        self.crash_backoff.forget_prefix(f"{uid}/")
        self.image_backoff.forget_prefix(f"{uid}/")
        for key in [k for k in self._pull_failed_at if k.startswith(f"{uid}/")]:
            del self._pull_failed_at[key]


def _is_latest(image: str) -> bool:
    if "@" in image:
        return False
    last = image.rsplit("/", 1)[-1]
    return ":" not in last or last.endswith(":latest")


def _duration(seconds: float) -> str:
    """Go's time.Duration formatting for whole seconds: 10s, 1m20s, 5m0s."""
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    return f"{seconds // 60}m{seconds % 60}s"
