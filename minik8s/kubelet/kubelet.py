"""The node agent: wires the pieces together and runs the loops.

Pods arrive from an informer on `spec.nodeName=<node>` (so a pod bound by the
scheduler and a pod created with nodeName set are the same thing). Handlers
only hand the newest object to the pod's worker; status-only changes (our own
writes coming back) wake nobody. Each sync ends in one of three paths:

 - the pod is gone from the API: kill and remove everything it had here;
 - the pod is being deleted: stop its containers within the grace period,
   report the final status, remove the containers and the sandbox, then
   delete the pod object for good (gracePeriodSeconds=0, uid precondition);
 - otherwise: sync_pod, then the prober and the status manager get the result.

Housekeeping removes what belongs to no pod (a pod deleted while the kubelet
was down); a resync timer wakes every worker; engine events (a container
died) wake the worker of that pod at once.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import time
from typing import Any, Callable, Iterable

from minik8s.api import errors
from minik8s.api import resources
from minik8s.api import rfc3339
from minik8s.client import events as events_mod
from minik8s.client import informer as informer_mod
from minik8s.client import rest
from minik8s.kubelet import backoff as backoff_mod
from minik8s.kubelet import cgroupstats
from minik8s.kubelet import cni
from minik8s.kubelet import config as config_mod
from minik8s.kubelet import dockerruntime
from minik8s.kubelet import kuberuntime
from minik8s.kubelet import mount as mount_mod
from minik8s.kubelet import nodestatus
from minik8s.kubelet import objects as objects_mod
from minik8s.kubelet import pod_workers as pod_workers_mod
from minik8s.kubelet import prober as prober_mod
from minik8s.kubelet import runtime
from minik8s.kubelet import server as server_mod
from minik8s.kubelet import servertls
from minik8s.kubelet import stats as stats_mod
from minik8s.kubelet import status as status_mod
from minik8s.kubelet import volumes as volumes_mod

log = logging.getLogger(__name__)

# Longest an event waits for pod syncs to finish before it is sent anyway.
EVENT_DELAY = 2.0

PODS = resources.must("", "v1", "pods")
NODES = resources.must("", "v1", "nodes")
SERVICES = resources.must("", "v1", "services")

Obj = dict[str, Any]


def semantically_equal(old: Obj, new: Obj) -> bool:
    """Whether two versions of a pod differ only in status and bookkeeping (podsDifferSemantically)."""
    def view(p: Obj) -> Obj:
        meta = {k: v for k, v in (p.get("metadata") or {}).items() if k not in ("resourceVersion", "managedFields")}
        return {"metadata": meta, "spec": p.get("spec")}
    return status_mod.same(view(old), view(new))


class Kubelet:
    def __init__(self, cfg: config_mod.Config, client: rest.Client, rt: runtime.Runtime, *,
                 clock: Callable[[], float] = time.time, kubeconfig_ca: bytes | None = None) -> None:
        self.cfg = cfg
        self.client = client
        self.runtime = rt
        self.clock = clock
        self.node_ip = cfg.node_ip or nodestatus.default_node_ip()
        self.recorder = events_mod.EventRecorder(client, "kubelet", cfg.node_name)
        self.pod_workers = pod_workers_mod.PodWorkers(self.sync)
        # ConfigMaps and Secrets through name-pinned watches (what the Node authorizer
        # allows); a change wakes the pods using the object, which rewrites their volumes.
        self.objects = objects_mod.WatchingObjectSource(client, self._objects_changed)
        self.tokens = objects_mod.ApiTokenSource(client, clock=clock)
        # tmpfs-backed volumes need mount(2): a root kubelet on a real engine mounts them.
        mounter = mount_mod.LinuxMounter() if os.geteuid() == 0 and \
            isinstance(rt, dockerruntime.DockerRuntime) else None
        self.volumes = volumes_mod.VolumeManager(cfg.root_dir, objects=self.objects, tokens=self.tokens,
                                                 mounter=mounter)
        self.prober = prober_mod.ProberManager(rt, self.pod_workers.wake, self.record)
        self.status_manager = status_mod.StatusManager(client)
        self.pod_cidr = cfg.pod_cidr
        self.manager = kuberuntime.RuntimeManager(
            rt, node_name=cfg.node_name, host_ip=self.node_ip, volumes=self.volumes,
            probes=self.prober, record=self.record,
            crash_backoff=backoff_mod.Backoff(cfg.backoff_base, cfg.backoff_max, clock),
            image_backoff=backoff_mod.Backoff(cfg.backoff_base, cfg.backoff_max, clock),
            cluster_dns=cfg.cluster_dns, cluster_domain=cfg.cluster_domain, clock=clock,
            services=lambda: list(self.services.store.values()))
        self.node_status = nodestatus.NodeStatusManager(client, rt, nodestatus.NodeSettings(
            name=cfg.node_name, node_ip=self.node_ip, port=cfg.port, root_dir=cfg.root_dir, pod_cidr=cfg.pod_cidr,
            labels=nodestatus.parse_labels(cfg.node_labels), taints=nodestatus.parse_taints(cfg.register_with_taints),
            master=cfg.master, max_pods=cfg.max_pods, lease_interval=cfg.lease_interval,
            status_update_interval=cfg.node_status_update_interval,
            status_report_interval=cfg.node_status_report_interval), self.not_ready, clock=clock)
        self.informer = informer_mod.Informer(client, PODS, field_selector=f"spec.nodeName={cfg.node_name}")
        # Every Service, for the containers' service environment variables (KUBERNETES_SERVICE_HOST...).
        self.services = informer_mod.Informer(client, SERVICES)
        self.informer.add_handlers(self._on_add, self._on_update, self._on_delete)
        self.stats = stats_mod.StatsProvider(
            cfg.node_name, rt.list_containers, cgroupstats.CgroupFs(cfg.cgroup_root), node_cgroup=cfg.node_cgroup,
            interval=cfg.stats_interval, pods=lambda: list(self.informer.store.values()), clock=clock)
        self.server = server_mod.KubeletServer(rt, find_pod=self._find_pod, pod_status=self._api_status,
                                               list_pods=lambda: list(self.informer.store.values()),
                                               tls=servertls.load(
                                                   cert_file=cfg.tls_cert_file, key_file=cfg.tls_private_key_file,
                                                   client_ca_file=cfg.client_ca_file, kubeconfig_ca=kubeconfig_ca,
                                                   node_name=cfg.node_name, node_ip=self.node_ip),
                                               bind=cfg.address, port=cfg.port,
                                               stats=self.stats)
        self._runtime_ok = True
        self._network_error = ""
        self._last_known: dict[str, Obj] = {}  # uid -> the last object seen (its grace period once deleted)
        # Pods this kubelet finished deleting: late events about them must not start them again.
        self._finished: set[str] = set()
        # Pods to evict (uid -> message), found by housekeeping, carried out by their worker.
        self._evictions: dict[str, str] = {}
        self._tasks: list[asyncio.Task[Any]] = []
        self._events: asyncio.Queue[tuple[float, tuple[Obj, str, str, str, str]]] = asyncio.Queue(maxsize=10000)
        self._syncing = 0  # pod syncs in flight
        self._idle = asyncio.Event()

    # -- events and readiness -------------------------------------------------------------------

    def record(self, pod: Obj, type_: str, reason: str, message: str, field_path: str) -> None:
        obj = dict(pod)
        obj.setdefault("kind", "Pod")
        obj.setdefault("apiVersion", "v1")
        try:
            self._events.put_nowait((asyncio.get_running_loop().time(), (obj, type_, reason, message, field_path)))
        except asyncio.QueueFull:
            log.debug("event %s for %s dropped: too many pending", reason, pod["metadata"].get("name"))

    async def _send_events(self) -> None:
        """Events go out one at a time, as Kubernetes' event broadcaster sends them, and give way
        to pod syncs for up to EVENT_DELAY seconds: a burst of pod starts must not become a burst
        of API writes competing with the starts (and their status writes) for the API server."""
        loop = asyncio.get_running_loop()
        while True:
            queued_at, (obj, type_, reason, message, field_path) = await self._events.get()
            while self._syncing and loop.time() - queued_at < EVENT_DELAY:
                self._idle.clear()
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._idle.wait(), EVENT_DELAY - (loop.time() - queued_at))
            self.recorder.event(obj, type_, reason, message, field_path=field_path)
            await self.recorder.flush()

    async def not_ready(self) -> str:
        self._runtime_ok = await self.runtime.ping()
        if not self._runtime_ok:
            return "container runtime is down"
        if self._network_error:
            return f"network not ready: {self._network_error}"
        return ""

    # -- informer handlers: bookkeeping only ------------------------------------------------------

    def _objects_changed(self, uids: Iterable[str]) -> None:
        for uid in uids:
            if uid in self.pod_workers:
                self.pod_workers.wake(uid)

    def _on_add(self, pod: Obj) -> None:
        uid = pod["metadata"]["uid"]
        if uid in self._finished:
            return
        self._last_known[uid] = pod
        self.objects.register_pod(pod)
        self.pod_workers.update_pod(uid, pod)

    def _on_update(self, old: Obj, new: Obj) -> None:
        old_uid, uid = old["metadata"]["uid"], new["metadata"]["uid"]
        if old_uid != uid:
            self._on_delete(old)
            self._on_add(new)
            return
        if uid in self._finished:
            return
        self._last_known[uid] = new
        self.objects.register_pod(new)
        if uid in self.pod_workers and semantically_equal(old, new):
            self.pod_workers.update_pod(uid, new, wake=False)
        else:
            self.pod_workers.update_pod(uid, new)

    def _on_delete(self, pod: Obj) -> None:
        uid = pod["metadata"]["uid"]
        self.objects.unregister_pod(uid)
        self.tokens.forget_pod(uid)
        if uid in self._finished:
            self._finished.discard(uid)
            self._last_known.pop(uid, None)
            return
        self.pod_workers.update_pod(uid, None)

    def _find_pod(self, namespace: str, name: str) -> Obj | None:
        return self.informer.get_by(namespace, name)

    def _api_status(self, pod: Obj) -> Obj:
        return self.status_manager.get(pod["metadata"]["uid"]) or pod.get("status") or {}

    # -- the sync paths -----------------------------------------------------------------------------

    async def sync(self, uid: str, pod: Obj | None) -> pod_workers_mod.SyncOutcome:
        self._syncing += 1
        try:
            return await self._sync(uid, pod)
        finally:
            self._syncing -= 1
            if not self._syncing:
                self._idle.set()

    async def _sync(self, uid: str, pod: Obj | None) -> pod_workers_mod.SyncOutcome:
        if uid in self._finished:
            return pod_workers_mod.SyncOutcome(done=True)
        if pod is None:
            return await self._remove_pod(uid)
        if pod["metadata"].get("deletionTimestamp"):
            return await self._terminate_pod(pod)
        api_status = pod.get("status") or {}
        old = self.status_manager.get(uid) or api_status
        if api_status.get("phase") in status_mod.TERMINAL_PHASES:
            old = api_status
        if uid in self._evictions:
            return await self._evict(pod, self._evictions.pop(uid))
        if old.get("phase") in status_mod.TERMINAL_PHASES:
            # A finished pod stays finished: nothing restarts, its containers stay for logs.
            rs = await self.manager.kill_pod(pod, uid, remove=False)
            self.prober.remove_pod(uid)
            self._set_status(pod, rs, old)
            return pod_workers_mod.SyncOutcome()
        result = await self.manager.sync_pod(pod)
        self.prober.update_pod(pod, result.status)
        self._set_status(pod, result.status, old)
        return pod_workers_mod.SyncOutcome(requeue_after=result.requeue_after)

    def _set_status(self, pod: Obj, rs: runtime.PodRuntimeStatus, old: Obj, terminal: bool = False) -> Obj:
        uid = pod["metadata"]["uid"]
        status = status_mod.generate_api_pod_status(
            pod, rs, old=old, reasons=self.manager.reasons_for(uid),
            ready=lambda name, cid: self.prober.ready(uid, name, cid),
            started=lambda name, cid: self.prober.started(uid, name, cid),
            host_ip=self.node_ip, terminal=terminal, now=self.clock())
        self.status_manager.set_pod_status(pod, status)
        return status

    async def _evict(self, pod: Obj, message: str) -> pod_workers_mod.SyncOutcome:
        """Evict a pod that outgrew its local storage: stop it and report it Failed/Evicted."""
        uid = pod["metadata"]["uid"]
        meta = pod["metadata"]
        log.info("pod %s/%s: evicting: %s", meta.get("namespace"), meta["name"], message)
        self.record(pod, "Warning", "Evicted", message, "")
        self.prober.remove_pod(uid)
        rs = await self.manager.kill_pod(pod, uid, kuberuntime.MIN_GRACE, remove=False)
        old = dict(self.status_manager.get(uid) or pod.get("status") or {})
        old.update(phase="Failed", reason="Evicted", message=message)
        # DisruptionTarget, as the kubelet marks the pods it evicts (pod failure policies match it).
        old["conditions"] = [*(c for c in old.get("conditions") or [] if c.get("type") != "DisruptionTarget"),
                             {"type": "DisruptionTarget", "status": "True", "reason": "TerminationByKubelet",
                              "message": message, "lastProbeTime": None,
                              "lastTransitionTime": rfc3339.format(self.clock())}]
        self._set_status(pod, rs, old)
        return pod_workers_mod.SyncOutcome()

    async def _terminate_pod(self, pod: Obj) -> pod_workers_mod.SyncOutcome:
        meta = pod["metadata"]
        uid = meta["uid"]
        grace = kuberuntime.grace_period(pod)
        log.info("pod %s/%s: deleting (grace %ds)", meta.get("namespace"), meta["name"], grace)
        self.prober.remove_pod(uid)
        rs = await self.manager.kill_pod(pod, uid, grace, remove=False)
        old = self.status_manager.get(uid) or pod.get("status") or {}
        self._set_status(pod, rs, old, terminal=True)
        await self.status_manager.flush(uid)
        await self.manager.kill_pod(pod, uid, grace, remove=True)
        try:
            await self.client.delete(PODS, meta["name"], meta.get("namespace"), grace_period=0,
                                     preconditions={"uid": uid})
            log.info("pod %s/%s: deleted", meta.get("namespace"), meta["name"])
        except (errors.NotFound, errors.Conflict):
            pass
        except errors.StatusError as e:
            log.warning("pod %s/%s: final delete failed: %s; retrying", meta.get("namespace"), meta["name"], e.message)
            return pod_workers_mod.SyncOutcome(requeue_after=self.cfg.backoff_base)
        self.status_manager.forget(uid)
        self._finished.add(uid)
        return pod_workers_mod.SyncOutcome(done=True)

    async def _remove_pod(self, uid: str) -> pod_workers_mod.SyncOutcome:
        """The pod is gone from the API (or never was): nothing of it may stay on the node."""
        last = self._last_known.pop(uid, None)
        self.prober.remove_pod(uid)
        rs = await self.runtime.pod_status(uid)
        if rs.containers or rs.sandboxes:
            log.info("pod %s (%s): removing its containers", rs.name or (last or {}).get("metadata", {}).get("name"), uid)
        await self.manager.kill_pod(last, uid, remove=True)
        self.status_manager.forget(uid)
        return pod_workers_mod.SyncOutcome(done=True)

    # -- housekeeping -------------------------------------------------------------------------------

    async def housekeeping(self) -> None:
        """Remove containers and volume dirs of pods this node no longer has."""
        if not self.informer.synced.is_set():
            return
        await self._check_network()
        desired = {p["metadata"]["uid"] for p in self.informer.store.values()}
        busy = set(self.pod_workers.uids())
        for c in await self.runtime.list_containers():
            if c.pod_uid and c.pod_uid not in desired and c.pod_uid not in busy:
                busy.add(c.pod_uid)
                self.pod_workers.update_pod(c.pod_uid, None)
        for uid in await asyncio.to_thread(self.volumes.known_pod_dirs):
            if uid not in desired and uid not in busy:
                await asyncio.to_thread(self.volumes.cleanup, uid)
        self.manager.crash_backoff.gc()
        self.manager.image_backoff.gc()
        # Addresses of sandboxes that died without a DEL (a crash, a failed DEL).
        with contextlib.suppress(runtime.RuntimeFailure):
            await self.runtime.gc_network()
        await self._check_local_storage()

    async def _check_local_storage(self) -> None:
        for pod in list(self.informer.store.values()):
            uid = pod["metadata"]["uid"]
            phase = (self.status_manager.get(uid) or pod.get("status") or {}).get("phase")
            if pod["metadata"].get("deletionTimestamp") or phase in status_mod.TERMINAL_PHASES or \
                    uid in self._evictions:
                continue
            message = await asyncio.to_thread(self.volumes.empty_dir_overuse, pod)
            if message is not None:
                self._evictions[uid] = message
                self.pod_workers.wake(uid)

    def resync_all(self) -> None:
        for pod in list(self.informer.store.values()):
            self.pod_workers.update_pod(pod["metadata"]["uid"], pod)

    async def _housekeeping_loop(self) -> None:
        last_resync = self.clock()
        while True:
            await asyncio.sleep(self.cfg.housekeeping_interval)
            try:
                await self.housekeeping()
                if self.clock() - last_resync >= self.cfg.resync_interval:
                    last_resync = self.clock()
                    self.resync_all()
            except asyncio.CancelledError:
                raise
            except Exception as e:  # noqa: BLE001 - the loop must survive an engine outage
                log.warning("housekeeping failed: %r", e)

    def _on_engine_event(self, action: str, attrs: dict[str, str]) -> None:
        uid = attrs.get(runtime.POD_UID, "")
        if uid:
            self.pod_workers.wake(uid)

    async def _engine_events_loop(self) -> None:
        delay = 0.5
        while True:
            started = self.clock()
            try:
                await self.runtime.watch_events(self._on_engine_event)
            except asyncio.CancelledError:
                raise
            except Exception as e:  # noqa: BLE001
                log.warning("engine events: %r; reconnecting in %.1fs", e, delay)
            # Whatever happened while the feed was down is found by syncing everyone.
            self.resync_all()
            delay = 0.5 if self.clock() - started > 30 else min(delay * 2, 10.0)
            await asyncio.sleep(delay)

    # -- start-up -------------------------------------------------------------------------------------

    async def _check_network(self) -> None:
        """Whether pods can be networked (a CNI configuration is there): the node is
        NotReady until they can, and pods waiting for it are woken once they can."""
        error = await self.runtime.network_status()
        if error != self._network_error:
            if error:
                log.warning("pod network not ready: %s", error)
            else:
                log.info("pod network ready")
                if self._network_error and self.informer.synced.is_set():
                    self.resync_all()
        self._network_error = error

    async def _network_loop(self) -> None:
        while True:
            await asyncio.sleep(1.0 if self._network_error else self.cfg.housekeeping_interval)
            try:
                await self._check_network()
            except asyncio.CancelledError:
                raise
            except Exception as e:  # noqa: BLE001
                log.warning("checking the pod network: %r", e)

    async def _wait_for_runtime(self) -> None:
        delay = 0.2
        while not await self.runtime.ping():
            log.warning("container runtime at %s does not answer; retrying in %.1fs", self.cfg.docker_host, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)

    async def start(self) -> None:
        await self._wait_for_runtime()
        await self.node_status.register()
        await self._check_network()
        await self.server.start()
        loop = asyncio.get_running_loop()
        # As the kubelet: no container starts before the Services were read once (its variables).
        self.services.start()
        await self.services.wait_synced()
        self.informer.start()
        self._tasks = [
            loop.create_task(self.node_status.run_lease_loop(), name="node-lease"),
            loop.create_task(self.node_status.run_status_loop(), name="node-status"),
            loop.create_task(self._housekeeping_loop(), name="housekeeping"),
            loop.create_task(self._engine_events_loop(), name="engine-events"),
            loop.create_task(self._send_events(), name="events"),
            loop.create_task(self._network_loop(), name="network"),
            loop.create_task(self.stats.run(), name="stats"),
        ]
        await self.informer.wait_synced()
        # CNI CHECK of the sandboxes that run, release of those that are gone (a crash,
        # a power-off), before any pod is synced: no address is held by a dead sandbox.
        try:
            await self.runtime.gc_network(check=True)
        except runtime.RuntimeFailure as e:
            log.warning("pod network garbage collection: %s", e.message)
        await self.housekeeping()
        log.info("kubelet %s ready: node IP %s, pod network %s", self.cfg.node_name, self.node_ip,
                 self._network_error or "ready")

    async def stop(self) -> None:
        """Stop the agent; the pods' containers keep running for the next kubelet to adopt."""
        for t in self._tasks:
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.informer.stop()
        await self.services.stop()
        await self.objects.stop()
        await self.pod_workers.stop()
        await self.prober.stop()
        await self.status_manager.stop()
        await self.server.stop()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.recorder.flush(), 2)


def pod_network(cfg: config_mod.Config) -> cni.PodNetwork:
    bin_dirs = [d for d in cfg.cni_bin_dir.split(":") if d]
    cache = cfg.cni_cache_dir or f"{cfg.root_dir}/cni"
    return cni.PodNetwork(cni.CNI(cni.ExecPlugins(), bin_dirs, cache), cfg.cni_conf_dir)


def make_client(cfg: config_mod.Config) -> rest.Client:
    if cfg.kubeconfig:
        return rest.from_kubeconfig(cfg.kubeconfig, user_agent=f"minik8s-kubelet/{cfg.node_name}",
                                    learn_masters=rest.LEARN_MASTERS)
    return rest.Client(cfg.server, user_agent=f"minik8s-kubelet/{cfg.node_name}", learn_masters=rest.LEARN_MASTERS)


async def serve(cfg: config_mod.Config, *, stop: asyncio.Event | None = None,
                runtime_factory: Callable[[config_mod.Config], runtime.Runtime] | None = None) -> None:
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    rt = runtime_factory(cfg) if runtime_factory else dockerruntime.DockerRuntime(
        cfg.node_name, host=cfg.docker_host, pause_image=cfg.pod_infra_image, network=pod_network(cfg))
    client = make_client(cfg)
    kubelet = Kubelet(cfg, client, rt, kubeconfig_ca=client.tls.ca if client.tls else None)
    starting = loop.create_task(kubelet.start())
    stopping = loop.create_task(stop.wait())
    try:
        await asyncio.wait({starting, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if starting.done():
            starting.result()  # a failed start-up ends the process with its error
            await stop.wait()
        else:
            starting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await starting
    finally:
        stopping.cancel()
        log.info("kubelet shutting down (containers keep running)")
        await kubelet.stop()
        await client.close()
        await rt.close()

