"""Chaos on the local cluster: SIGKILL every component in the middle of rolling updates, and a node cut off.

For each of etcd, the API server, the controller manager, the scheduler, the DNS
server, and a node's kubelet, proxy and network agent in turn: a rolling update of
a 10-replica Deployment (maxSurge 3) is started, the process is killed with SIGKILL
once the roll-out is under way, and started again the way its supervisor would
(`minik8s cluster start-master` / `start-node`, which start what is not running).
All along, a watch of the Deployment's pods (an informer in this process, which
itself lives through the API server's and etcd's deaths) checks that never more
than replicas + maxSurge of them exist and are not terminating. Every roll-out
must converge; at the end no object of the namespace is lost (same uids) and the
Service's endpoints are the ten Ready pods. The kubelet's restart must restart no
container: the containers of pods that lived through it keep their IDs and
restart counts.

A node cut off (its link down) goes NotReady, its pods are replaced elsewhere;
when it returns, its stale containers are removed and nothing is served twice:
the Service's endpoints are exactly the live pods and every pod runs once.
"""
from __future__ import annotations

import asyncio
import collections
import json
import os
import signal
import threading
import time
import uuid
from typing import Any

import pytest

from minik8s.api import resources
from minik8s.client import informer as informer_mod
from minik8s.client import rest
from minik8s.util import procs
from tests.e2e.conftest import Cluster, LocalOps, deployment, live, pod_ready, wait_ready_replicas, wait_until

REPLICAS = 10
MAX_SURGE = 3
PODS = resources.must("", "v1", "pods")


class PodWatch:
    """An informer on the app's pods in a thread of its own; records the most pods
    that ever existed at once without a deletionTimestamp."""

    def __init__(self, cluster: Cluster, namespace: str, app: str) -> None:
        self.cluster = cluster
        self.namespace = namespace
        self.app = app
        self.most = 0
        self.when_most: list[str] = []
        self.events = 0
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.inf: informer_mod.Informer | None = None
        self.stopping: asyncio.Event | None = None

    def _count(self, *_: Any) -> None:
        assert self.inf is not None
        self.events += 1
        alive = [p["metadata"]["name"] for p in self.inf.store.values()
                 if not p["metadata"].get("deletionTimestamp")
                 and (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")]
        if len(alive) > self.most:
            self.most, self.when_most = len(alive), sorted(alive)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._main())

    async def _main(self) -> None:
        client = rest.from_kubeconfig(self.cluster.kubeconfig, timeout=10)
        self.inf = informer_mod.Informer(client, PODS, namespace=self.namespace, label_selector=f"app={self.app}",
                                         watch_timeout=60)
        self.inf.add_handlers(self._count, self._count, self._count)
        self.stopping = asyncio.Event()
        self.inf.start()
        await self.inf.wait_synced(60)
        self.ready.set()
        await self.stopping.wait()
        await self.inf.stop()
        await client.close()

    def start(self) -> "PodWatch":
        self.thread.start()
        assert self.ready.wait(60), "the pod watch did not sync"
        return self

    def stop(self) -> None:
        if self.stopping is not None:
            self.loop.call_soon_threadsafe(self.stopping.set)
        self.thread.join(30)


def rolling_deployment(name: str) -> dict[str, Any]:
    d = deployment(name, REPLICAS)
    d["spec"]["minReadySeconds"] = 2
    d["spec"]["strategy"] = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": MAX_SURGE, "maxUnavailable": 2}}
    return d


def rolled_out(cluster: Cluster, namespace: str, name: str) -> bool:
    proc = cluster.kubectl("get", "deployment", name, "-n", namespace, "-o", "json", check=False, timeout=20)
    if proc.returncode != 0:
        return False
    d = json.loads(proc.stdout)
    st = d.get("status") or {}
    return (st.get("observedGeneration", 0) >= d["metadata"]["generation"]
            and st.get("updatedReplicas") == REPLICAS and st.get("replicas") == REPLICAS
            and st.get("availableReplicas") == REPLICAS)


def start_rollout(cluster: Cluster, namespace: str, name: str, revision: str) -> None:
    patch = '{"spec":{"template":{"metadata":{"annotations":{"chaos/revision":"%s"}}}}}' % revision
    cluster.kubectl("patch", "deployment", name, "-n", namespace, "--type=merge", "-p", patch)


def under_way(cluster: Cluster, namespace: str, app: str, revision: str) -> bool:
    """Some pods of the new template exist, and some of the old are still there."""
    pods = live(cluster.pods(namespace, f"app={app}"))
    new = [p for p in pods if (p["metadata"].get("annotations") or {}).get("chaos/revision") == revision]
    return 0 < len(new) < len(pods)


def endpoint_ips(cluster: Cluster, namespace: str, name: str) -> list[str]:
    ep = cluster.get_json("endpoints", name, "-n", namespace)
    return sorted(a["ip"] for s in ep.get("subsets") or [] for a in s.get("addresses") or [])


def containers_of(cluster: Cluster, node: str, namespace: str) -> dict[str, tuple[str, str, str]]:
    """pod uid/container name → (container id, started at) of the namespace's running app containers."""
    out = {}
    for c in cluster.ops.containers(node):
        if c.labels.get("io.kubernetes.pod.namespace") == namespace and c.running and c.container_name == "web":
            out[f"{c.pod_uid}/{c.container_name}"] = (c.id, c.started_at, c.name)
    return out


def restart_counts(cluster: Cluster, namespace: str, app: str) -> dict[str, int]:
    return {p["metadata"]["uid"]: sum(int(s.get("restartCount") or 0) for s in
                                      (p.get("status") or {}).get("containerStatuses") or [])
            for p in live(cluster.pods(namespace, f"app={app}"))}


def objects(cluster: Cluster, namespace: str) -> dict[str, str]:
    out = {}
    for kind in ("deployment", "service", "configmap", "secret"):
        for obj in cluster.get_json(kind, "-n", namespace)["items"]:
            out[f"{kind}/{obj['metadata']['name']}"] = obj["metadata"]["uid"]
    return out


@pytest.fixture
def local_ops(local_cluster: Cluster) -> LocalOps:
    ops = local_cluster.ops
    assert isinstance(ops, LocalOps)
    return ops


def test_sigkill_each_component_during_rolling_updates(healthy: Cluster, local_ops: LocalOps,
                                                        namespace: str) -> None:
    cluster = healthy
    app = "chaos"
    cluster.apply(rolling_deployment(app), namespace)
    cluster.apply({"apiVersion": "v1", "kind": "Service", "metadata": {"name": app},
                   "spec": {"selector": {"app": app}, "ports": [{"port": 80, "targetPort": 80}]}}, namespace)
    for i in range(3):
        cluster.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"keep-{i}"},
                       "data": {"i": str(i)}}, namespace)
    wait_ready_replicas(cluster, namespace, app, REPLICAS, timeout=180)
    before = objects(cluster, namespace)
    watch = PodWatch(cluster, namespace, app).start()
    victim_node = sorted(cluster.nodes)[0]
    targets = [("master", "etcd"), ("master", "apiserver"), ("master", "controller-manager"),
               ("master", "scheduler"), ("master", "dns"), (victim_node, "kubelet"), (victim_node, "proxy"),
               (victim_node, "network-agent")]
    try:
        for where, component in targets:
            revision = f"{component}-{uuid.uuid4().hex[:6]}"
            start_rollout(cluster, namespace, app, revision)
            wait_until(lambda: under_way(cluster, namespace, app, revision), 90, f"the roll-out for {component}")
            status = local_ops.status()
            if where == "master":
                pid = status["master"][component]
            else:
                pid = next(n for n in status["nodes"] if n["name"] == where)["pids"][component]
            assert pid, f"{component} is not running"
            containers = containers_of(cluster, where, namespace) if component == "kubelet" else {}
            counts = restart_counts(cluster, namespace, app) if component == "kubelet" else {}
            os.kill(pid, signal.SIGKILL)
            wait_until(lambda: not procs.pid_alive(pid), 10, f"{component} to die")
            time.sleep(2)  # down for a moment, as a crash followed by a restart with back-off
            if where == "master":
                local_ops.start_master()
            else:
                local_ops.start_node(where)
            wait_until(cluster.api_up, 90, "the API server to answer")
            wait_until(lambda: rolled_out(cluster, namespace, app), 240,
                       f"the roll-out to converge after killing {component}")
            if component == "kubelet":
                # Pods that lived through the kubelet's restart kept their containers.
                after = containers_of(cluster, where, namespace)
                now = restart_counts(cluster, namespace, app)
                kept = {k: v for k, v in containers.items() if k.split("/")[0] in now}
                assert {k: after.get(k) for k in kept} == kept, "the kubelet restart replaced a container"
                assert {uid: now[uid] for uid in counts if uid in now} == \
                    {uid: counts[uid] for uid in counts if uid in now}, "a container was restarted"
            assert watch.most <= REPLICAS + MAX_SURGE, \
                f"after {component}: {watch.most} pods at once: {watch.when_most}"
    finally:
        watch.stop()
    assert watch.events > 0
    cluster.wait_nodes_ready(timeout=120)
    pods = wait_ready_replicas(cluster, namespace, app, REPLICAS, timeout=180)
    assert objects(cluster, namespace) == before, "an object was lost or replaced"
    wait_until(lambda: endpoint_ips(cluster, namespace, app) == sorted(p["status"]["podIP"] for p in pods), 60,
               "the Service's endpoints to be the ten Ready pods")
    assert watch.most <= REPLICAS + MAX_SURGE


def test_isolated_node_returns_without_duplicates(healthy: Cluster, local_ops: LocalOps, namespace: str) -> None:
    cluster = healthy
    app = "cutoff"
    replicas = 2 * len(cluster.nodes)
    cluster.apply(deployment(app, replicas), namespace)
    cluster.apply({"apiVersion": "v1", "kind": "Service", "metadata": {"name": app},
                   "spec": {"selector": {"app": app}, "ports": [{"port": 80, "targetPort": 80}]}}, namespace)
    pods = wait_ready_replicas(cluster, namespace, app, replicas)
    victim = sorted(cluster.nodes)[-1]
    victim_pods = {p["metadata"]["uid"]: p["status"]["podIP"] for p in pods if p["spec"]["nodeName"] == victim}
    assert victim_pods, f"no pod on {victim}"

    local_ops.isolate(victim)
    try:
        wait_until(lambda: cluster.node_ready(victim) != "True", 60, f"{victim} to turn NotReady")
        replacements = wait_ready_replicas(cluster, namespace, app, replicas, timeout=120, exclude_node=victim)
        assert set(victim_pods).isdisjoint(p["metadata"]["uid"] for p in replacements)
        # While it is away, the Service sends nothing to the lost node's pods.
        wait_until(lambda: endpoint_ips(cluster, namespace, app) ==
                   sorted(p["status"]["podIP"] for p in replacements), 60, "endpoints without the lost node")
    finally:
        local_ops.heal(victim)
    cluster.wait_nodes_ready(timeout=120)

    def stale_gone() -> bool:
        running = [c for c in cluster.ops.containers(victim)
                   if c.labels.get("io.kubernetes.pod.namespace") == namespace and c.running]
        return not any(c.pod_uid in victim_pods for c in running)

    wait_until(stale_gone, 120, f"{victim} to remove the evicted pods' containers")
    final = wait_ready_replicas(cluster, namespace, app, replicas, timeout=120)
    assert endpoint_ips(cluster, namespace, app) == sorted(p["status"]["podIP"] for p in final)
    # Every live pod runs exactly once, on its own node, and nothing else of the app runs anywhere.
    where: dict[str, list[str]] = collections.defaultdict(list)
    for node in cluster.nodes:
        for c in cluster.ops.containers(node):
            if c.labels.get("io.kubernetes.pod.namespace") == namespace and c.running and c.container_name == "web":
                where[c.pod_uid].append(node)
    assert dict(where) == {p["metadata"]["uid"]: [p["spec"]["nodeName"]]
                                                            for p in final}
    assert all(pod_ready(p) for p in final)
