"""sync_pod and kill_pod: making one pod real on the engine (kuberuntime_manager.go).

`compute_pod_actions` is pure: from the pod's spec and what the engine holds
for it, it decides whether the sandbox must be (re)created, which containers
to kill and which to start. `RuntimeManager.sync_pod` then carries those
actions out as a transaction script whose every step is safe to repeat:

 1. compute the actions;
 2. kill the whole pod if its sandbox changed (died, lost its IP, duplicated),
    otherwise kill the containers that must go (spec changed, liveness or
    startup probe failed);
 3. create the sandbox if needed: the pause container owning the network and
    IPC namespaces, its network set up by the CNI plugins; their address is
    the pod IP;
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
from minik8s.kubelet import downward
from minik8s.kubelet import ephemeral
from minik8s.kubelet import lifecycle
from minik8s.kubelet import objects as objects_mod
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
NETWORK_RETRY = 1.0


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


def init_containers(pod: Obj) -> list[Obj]:
    return list((pod.get("spec") or {}).get("initContainers") or [])


def is_sidecar(container: Obj) -> bool:
    """A restartable init container (restartPolicy: Always): it keeps running beside the pod."""
    return container.get("restartPolicy") == "Always"


def _init_failed(status: runtime.ContainerStatus) -> bool:
    """isInitContainerFailed: exited non-zero, or in an unknown state."""
    return (status.state == runtime.EXITED and status.exit_code != 0) or status.state == runtime.UNKNOWN


def any_regular_started(pod: Obj, rs: runtime.PodRuntimeStatus) -> bool:
    return any(rs.latest(c["name"]) is not None for c in (pod.get("spec") or {}).get("containers") or [])


def find_next_init_container(pod: Obj, rs: runtime.PodRuntimeStatus
                             ) -> tuple[runtime.ContainerStatus | None, Obj | None, bool]:
    """findNextInitContainerToRun: (the last failed init container's status, the next
    init container to start, whether initialization is done)."""
    inits = init_containers(pod)
    if not inits:
        return None, None, True
    for c in (pod.get("spec") or {}).get("containers") or []:
        status = rs.latest(c["name"])
        if status is not None and status.state == runtime.RUNNING:
            # Init containers ran at some point, even if the engine forgot them since.
            return None, None, True
    for c in reversed(inits):
        status = rs.latest(c["name"])
        if status is not None and _init_failed(status):
            return status, c, False
    for i in range(len(inits) - 1, -1, -1):
        status = rs.latest(inits[i]["name"])
        if status is None:
            continue
        if status.state == runtime.RUNNING:
            return None, None, False
        if status.state == runtime.EXITED:
            if i == len(inits) - 1:
                return None, None, True
            return None, inits[i + 1], False
    return None, inits[0], False


def _sidecar_init_actions(pod: Obj, rs: runtime.PodRuntimeStatus, actions: PodActions,
                          probes: ProbeResults) -> bool:
    """computeInitContainerActions for pods with sidecars: walk the init containers in
    order, starting the first one not done (a sidecar is done once it runs, and is
    restarted whenever it stops); True once the pod is initialized."""
    initialized_before = any_regular_started(pod, rs)
    for c in init_containers(pod):
        status = rs.latest(c["name"])
        if is_sidecar(c):
            if status is not None and status.state == runtime.RUNNING:
                failed = probes.failed(pod["metadata"]["uid"], c["name"], status.id)
                if status.hash and status.hash != runtime.hash_container(c):
                    why = f"Init container {c['name']} definition changed, will be restarted"
                elif failed is not None:
                    why = f"Init container {c['name']} failed {failed} probe, will be restarted"
                else:
                    continue
                actions.containers_to_kill[status.id] = (c["name"], why)
                actions.containers_to_start.append(c["name"])
                if not initialized_before:
                    return False
                continue
            if status is not None and status.state == runtime.UNKNOWN:
                actions.containers_to_kill[status.id] = (c["name"], f"Init container {c['name']} is in an "
                                                                    "unknown state")
            if (pod.get("metadata") or {}).get("deletionTimestamp"):
                continue
            actions.containers_to_start.append(c["name"])
            if not initialized_before:
                return False
            continue
        if initialized_before:
            continue
        if status is None:
            actions.containers_to_start.append(c["name"])
            return False
        if status.state == runtime.RUNNING:
            return False
        if status.state == runtime.EXITED and status.exit_code == 0:
            continue
        if not should_restart_on_failure(pod):
            actions.kill_pod = True
            return False
        if status.state == runtime.UNKNOWN:
            actions.containers_to_kill[status.id] = (c["name"], f"Init container {c['name']} is in an unknown state")
        actions.containers_to_start.append(c["name"])
        return False
    return True


def compute_pod_actions(pod: Obj, rs: runtime.PodRuntimeStatus, probes: ProbeResults) -> PodActions:
    """What sync_pod must do to bring the engine in line with the pod (computePodActions)."""
    uid = pod["metadata"]["uid"]
    spec_containers = (pod.get("spec") or {}).get("containers") or []
    inits = init_containers(pod)
    has_sidecars = any(is_sidecar(c) for c in inits)
    create, attempt, sandbox_id = sandbox_changed(pod, rs)
    actions = PodActions(kill_pod=create, create_sandbox=create, sandbox_id=sandbox_id, attempt=attempt)
    if create:
        if not should_restart_on_failure(pod) and attempt != 0 and rs.containers:
            # A Never pod whose containers already ran is done: no new sandbox.
            actions.create_sandbox = False
            return actions
        to_start = [c["name"] for c in spec_containers
                    if not (restart_policy(pod) == "OnFailure" and _succeeded(c, rs))]
        if not to_start:
            initialized = any_regular_started(pod, rs) if has_sidecars else find_next_init_container(pod, rs)[2]
            if initialized:
                actions.create_sandbox = False
                return actions
        if inits:
            # A new sandbox starts over from the first init container.
            actions.containers_to_start = [inits[0]["name"]]
            return actions
        actions.containers_to_start = to_start
        return actions

    if has_sidecars:
        if not _sidecar_init_actions(pod, rs, actions, probes) or actions.kill_pod:
            return actions
    elif inits:
        last, nxt, done = find_next_init_container(pod, rs)
        if not done:
            if nxt is not None:
                if last is not None and _init_failed(last) and not should_restart_on_failure(pod):
                    actions.kill_pod = True
                else:
                    if last is not None and last.state == runtime.UNKNOWN:
                        actions.containers_to_kill[last.id] = (nxt["name"], "Init container is in \"unknown\" "
                                                                            "state, try killing it before restart")
                    if not (pod.get("metadata") or {}).get("deletionTimestamp"):
                        actions.containers_to_start.append(nxt["name"])
            # Initialization failed or is in progress: the app containers wait.
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
    # container, or containers no longer in the spec (sidecars are explained).
    newest_running: dict[str, str] = {}
    names = {c["name"] for c in spec_containers} | {c["name"] for c in inits if is_sidecar(c)} | ephemeral.names(pod)
    for status in rs.containers:  # newest first
        if status.state != runtime.RUNNING or status.id in actions.containers_to_kill:
            continue
        if status.name not in names:
            actions.containers_to_kill[status.id] = (status.name, f"Container {status.name} is not in the pod spec")
        elif status.name in newest_running:
            actions.containers_to_kill[status.id] = (status.name, f"Container {status.name} has a newer instance")
        else:
            newest_running[status.name] = status.id

    regular_to_start = [n for n in actions.containers_to_start if n in {c["name"] for c in spec_containers}]
    if keep == 0 and not regular_to_start:
        # Every app container is done: so is the pod (its sidecars stop with it).
        actions.kill_pod = True
        actions.containers_to_start = []
        return actions
    actions.containers_to_start += ephemeral.to_start(pod, rs)
    return actions


def _field_path(name: str, pod: Obj | None = None) -> str:
    """The event's fieldPath: spec.containers{name}, spec.initContainers{name} or
    spec.ephemeralContainers{name}."""
    if pod is not None and any(c.get("name") == name for c in init_containers(pod)):
        return f"spec.initContainers{{{name}}}"
    if pod is not None and name in ephemeral.names(pod):
        return f"spec.ephemeralContainers{{{name}}}"
    return f"spec.containers{{{name}}}"


def container_spec(pod: Obj | None, name: str) -> Obj | None:
    """The spec of an app, init or ephemeral container of the pod."""
    if pod is None:
        return None
    spec = pod.get("spec") or {}
    for key in ("containers", "initContainers", "ephemeralContainers"):
        for c in spec.get(key) or []:
            if isinstance(c, dict) and c.get("name") == name:
                return dict(c)
    return None


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


def env_references(containers: list[Obj]) -> set[tuple[str, str]]:
    """("configmap" | "secret", name) of every object the containers' environment names."""
    out: set[tuple[str, str]] = set()
    for c in containers:
        for env in c.get("env") or []:
            value_from = env.get("valueFrom") or {}
            if value_from.get("configMapKeyRef"):
                out.add((objects_mod.CONFIGMAP, str(value_from["configMapKeyRef"].get("name") or "")))
            if value_from.get("secretKeyRef"):
                out.add((objects_mod.SECRET, str(value_from["secretKeyRef"].get("name") or "")))
        for env_from in c.get("envFrom") or []:
            if env_from.get("configMapRef"):
                out.add((objects_mod.CONFIGMAP, str(env_from["configMapRef"].get("name") or "")))
            if env_from.get("secretRef"):
                out.add((objects_mod.SECRET, str(env_from["secretRef"].get("name") or "")))
    return out


class RuntimeManager:
    """Carries out sync_pod / kill_pod on one engine for one node."""

    def __init__(self, rt: runtime.Runtime, *, node_name: str, host_ip: str, network: str = "",
                 volumes: volumes_mod.VolumeManager, probes: ProbeResults, record: RecordFn,
                 crash_backoff: backoff_mod.Backoff, image_backoff: backoff_mod.Backoff,
                 node_allocatable: Mapping[str, str] | None = None,
                 cluster_dns: str = "", cluster_domain: str = "cluster.local",
                 clock: Callable[[], float] = time.time, hooks: lifecycle.HandlerRunner | None = None,
                 services: Callable[[], list[Obj]] = list) -> None:
        self.runtime = rt
        # The Services the kubelet knows of (its informer): the containers' service variables.
        self.services = services
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
        self.hooks = hooks or lifecycle.HandlerRunner(rt)
        # pod uid -> container name -> (waiting reason, message) of the last failed start
        self.reasons: dict[str, dict[str, tuple[str, str]]] = {}
        # pod uid/image -> when its last pull failed (the image back-off's event time)
        self._pull_failed_at: dict[str, float] = {}
        # pod uid -> its sandbox IP (for hooks run while the pod is being killed)
        self._pod_ips: dict[str, str] = {}

    def reasons_for(self, uid: str) -> dict[str, tuple[str, str]]:
        return self.reasons.get(uid, {})

    def _pod_ip(self, pod: Obj, sandbox: runtime.ContainerStatus | None) -> str:
        if (pod.get("spec") or {}).get("hostNetwork"):
            return self.host_ip
        if sandbox is not None and sandbox.ip:
            self._pod_ips[pod["metadata"]["uid"]] = sandbox.ip
            return sandbox.ip
        return self._pod_ips.get(pod["metadata"]["uid"], "")

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
            if actions.create_sandbox:
                # purgeInitContainers: a new sandbox runs every init container again, so
                # the old instances must not read as already done.
                inits = {c["name"] for c in init_containers(pod)}
                for c in rs.containers:
                    if c.name in inits:
                        await self.runtime.remove_container(c.id)
                if inits:
                    rs = dataclasses.replace(rs, containers=tuple(c for c in rs.containers if c.name not in inits))
        elif actions.containers_to_kill:
            await asyncio.gather(*(self._kill_container(pod, cid, name, why)
                                   for cid, (name, why) in actions.containers_to_kill.items()))

        # Step 3: volumes are set up, and refreshed on every sync of a pod that runs
        # (a changed ConfigMap or Secret reaches its files this way).
        sandbox = rs.running_sandbox()
        volume_paths: dict[str, str] = {}
        if actions.containers_to_start or not actions.kill_pod:
            facts = downward.PodFacts(self.node_name, self.host_ip, self._pod_ip(pod, sandbox),
                                      self.node_allocatable)
            try:
                volume_paths = await self.volumes.prepare(pod, facts)
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
                # A network that is not ready yet (no CNI configuration) is worth a quick retry.
                retry = NETWORK_RETRY if e.reason == "NetworkNotReady" else self.crash_backoff.initial
                return SyncResult(await self.runtime.pod_status(uid), retry, message)
            for old in rs.sandboxes:
                if old.id != sandbox.id and old.state != runtime.RUNNING:
                    await self.runtime.remove_sandbox(old.id)

        # Step 4
        if actions.containers_to_start and sandbox is not None:
            pod_ip = self._pod_ip(pod, sandbox)
            specs = {n: s for n in actions.containers_to_start if (s := container_spec(pod, n)) is not None}
            objects, unavailable = await self._env_objects(pod, list(specs.values()))
            ctx = containers_mod.PodContext(self.node_name, self.host_ip, pod_ip, volume_paths,
                                            self.node_allocatable, objects,
                                            warn=lambda reason, msg: self.record(pod, "Warning", reason, msg, ""),
                                            services=self.services())
            names = list(specs)
            results = await asyncio.gather(*(self._start_container(pod, specs[n], sandbox, rs, ctx, unavailable)
                                             for n in names))
            for name, outcome in zip(names, results):
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

    async def _env_objects(self, pod: Obj, containers: list[Obj]) -> tuple[dict[tuple[str, str], Any], str]:
        """The ConfigMaps and Secrets the containers' environment names (None: absent), and
        why some could not be read."""
        namespace = pod["metadata"].get("namespace") or "default"
        found: dict[tuple[str, str], Any] = {}
        problem = ""
        for kind, name in sorted(env_references(containers)):
            try:
                found[(kind, name)] = await self.volumes.objects.get(kind, namespace, name)
            except objects_mod.ObjectUnavailable as e:
                problem = problem or f"couldn't get {kind} {namespace}/{name}: {e}"
        return found, problem

    async def _kill_container(self, pod: Obj | None, cid: str, name: str, why: str,
                              grace: int | None = None) -> None:
        """killContainer: the Killing event, the preStop hook within the grace period, then
        SIGTERM and, after what is left of the grace period (at least 2 s), SIGKILL."""
        seconds = grace if grace is not None else grace_period(pod)
        if pod is not None:
            self.record(pod, "Normal", "Killing", why, _field_path(name, pod))
        spec = container_spec(pod, name)
        pre_stop = ((spec or {}).get("lifecycle") or {}).get("preStop")
        if pod is not None and spec is not None and pre_stop and seconds > 0:
            started = asyncio.get_running_loop().time()
            try:
                await asyncio.wait_for(self.hooks.run(pre_stop, spec, cid, self._pod_ip(pod, None), float(seconds)),
                                       timeout=seconds)
            except lifecycle.HookError as e:
                log.info("pod %s: preStop hook of %s failed: %s", _pod_id(pod), name, e)
                self.record(pod, "Warning", "FailedPreStopHook", "PreStopHook failed", _field_path(name, pod))
            except asyncio.TimeoutError:
                log.info("pod %s: preStop hook of %s did not complete in %ds", _pod_id(pod), name, seconds)
            seconds -= int(asyncio.get_running_loop().time() - started)
            seconds = max(seconds, MIN_GRACE)
        log.info("killing container %s (%s): %s", name, cid[:12], why)
        try:
            await self.runtime.stop_container(cid, seconds)
        except runtime.RuntimeFailure as e:
            log.warning("stopping container %s (%s) failed: %s", name, cid[:12], e.message)

    async def _start_container(self, pod: Obj, container: Obj, sandbox: runtime.ContainerStatus,
                               rs: runtime.PodRuntimeStatus, ctx: containers_mod.PodContext,
                               unavailable: str = "") -> tuple[str, str, float] | None:
        """Start one container; None on success, else (waiting reason, message, retry after)."""
        uid = pod["metadata"]["uid"]
        name = container["name"]
        field = _field_path(name, pod)
        latest = rs.latest(name)
        key = f"{uid}/{name}"
        if latest is not None and latest.state == runtime.EXITED:
            finished = latest.finished_at or self.clock()
            if self.crash_backoff.in_backoff_since(key, finished):
                delay = self.crash_backoff.get(key)
                self.record(pod, "Warning", "BackOff",
                            f"Back-off restarting failed container {name} in pod {_pod_id(pod)}", field)
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
            if unavailable and env_references([container]):
                raise containers_mod.ConfigError(unavailable)
            config = containers_mod.container_config(pod, container, sandbox_id=sandbox.id,
                                                     restart_count=restart_count, ctx=ctx)
            mounts = await asyncio.to_thread(self.volumes.ensure_sub_paths, list(config.mounts),
                                             dict(ctx.volume_paths))
            config = dataclasses.replace(config, mounts=tuple(mounts))
            if ephemeral.pid_target(container, rs):
                config = dataclasses.replace(config, pid_target=ephemeral.pid_target(container, rs))
        except runtime.RuntimeFailure as e:
            reason = "CreateContainerConfigError" if isinstance(e, volumes_mod.MountError) else e.reason
            self.record(pod, "Warning", "Failed", f"Error: {e.message}", field)
            return reason, e.message, self.crash_backoff.initial
        except OSError as e:
            message = f"failed to prepare subPath for a volumeMount of container {name!r}: {e}"
            self.record(pod, "Warning", "Failed", f"Error: {message}", field)
            return "CreateContainerConfigError", message, self.crash_backoff.initial
        # Keep the newest exited instance (lastState, logs --previous); older ones go.
        exited = [c for c in rs.instances(name) if c.state != runtime.RUNNING]
        for old in exited[1:]:
            await self.runtime.remove_container(old.id)
        try:
            cid = await self.runtime.create_container(config)
        except runtime.RuntimeFailure as e:
            self.record(pod, "Warning", "Failed", f"Error: {e.message}", field)
            return "CreateContainerError", e.message, self.crash_backoff.initial
        self.record(pod, "Normal", "Created", f"Created container {name}", field)
        try:
            await self.runtime.start_container(cid)
        except runtime.RuntimeFailure as e:
            self.record(pod, "Warning", "Failed", f"Error: {e.message}", field)
            return "RunContainerError", e.message, self.crash_backoff.initial
        self.record(pod, "Normal", "Started", f"Started container {name}", field)
        post_start = (container.get("lifecycle") or {}).get("postStart")
        if post_start:
            try:
                await self.hooks.run(post_start, container, cid, ctx.pod_ip)
            except lifecycle.HookError as e:
                # As the kubelet: the message stays out of the event (it may hold secrets).
                log.info("pod %s: postStart hook of %s failed: %s", _pod_id(pod), name, e)
                self.record(pod, "Warning", "FailedPostStartHook", "PostStartHook failed", field)
                await self._kill_container(pod, cid, name, "FailedPostStartHook")
                return "PostStartHookError", str(e), self.crash_backoff.initial
        return None

    async def ensure_image(self, pod: Obj, container: Obj) -> None:
        """Make the container's image present according to its pull policy (EnsureImageExists)."""
        image = container.get("image", "")
        name = container["name"]
        policy = container.get("imagePullPolicy") or ("Always" if _is_latest(image) else "IfNotPresent")
        present = await self.runtime.inspect_image(image)
        field = _field_path(name, pod)
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
        sidecars = {c["name"] for c in init_containers(pod or {}) if is_sidecar(c)}
        # App containers first; sidecars stop after them, as they serve them.
        await asyncio.gather(*(self._kill_container(pod, c.id, c.name, f"Stopping container {c.name}", grace)
                               for c in running if c.name not in sidecars))
        await asyncio.gather(*(self._kill_container(pod, c.id, c.name, f"Stopping container {c.name}", grace)
                               for c in running if c.name in sidecars))
        # A dead sandbox is stopped too: its network (its address) is released with the stop.
        sandboxes = [s for s in rs.sandboxes if s.state != runtime.EXITED or s.ip]
        await asyncio.gather(*(self.runtime.stop_sandbox(s.id, SANDBOX_STOP_GRACE) for s in sandboxes),
                             return_exceptions=True)
        if remove:
            # App containers first: a sandbox goes only once nothing uses its namespaces.
            await asyncio.gather(*(self.runtime.remove_container(c.id) for c in rs.containers),
                                 return_exceptions=True)
            await asyncio.gather(*(self.runtime.remove_sandbox(s.id) for s in rs.sandboxes),
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
        self._pod_ips.pop(uid, None)
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
