"""Failures the way they happen to machines: power-off, a cut link, a control-plane outage, a killed kubelet.

The session's cluster runs with a 10 s node grace period and no toleration of
unreachable nodes (conftest.FAST_FAILOVER), so pods of a lost node are evicted and
replaced about 10 s after its last heartbeat.
"""
from __future__ import annotations

import collections
import time
import uuid
from typing import Any

from tests.e2e.conftest import (Cluster, Container, deployment, live, pod_ready, wait_ready_replicas, wait_until)


def _app_containers(cluster: Cluster, namespace: str) -> dict[str, list[Container]]:
    """node → the namespace's app containers (not the pause sandboxes) on its engine."""
    out = {}
    for node in cluster.nodes:
        out[node] = [c for c in cluster.ops.containers(node)
                     if c.labels.get("io.kubernetes.pod.namespace") == namespace and c.container_name == "web"]
    return out


def _runs_once(cluster: Cluster, namespace: str, app: str) -> str | None:
    """None if every live pod of `app` has exactly one running container, on its own node, and
    no other container of the namespace runs anywhere; else what is wrong."""
    pods = {p["metadata"]["uid"]: p["spec"].get("nodeName") for p in live(cluster.pods(namespace, f"app={app}"))}
    running: dict[str, list[str]] = collections.defaultdict(list)
    for node, containers in _app_containers(cluster, namespace).items():
        for c in containers:
            if c.running:
                running[c.pod_uid].append(node)
    strays = {uid: nodes for uid, nodes in running.items() if uid not in pods}
    if strays:
        return f"containers of pods that no longer exist still run: {strays}"
    for uid, node in pods.items():
        if running.get(uid) != [node]:
            return f"pod {uid} (on {node}) runs on {running.get(uid)}"
    return None


def _wait_runs_once(cluster: Cluster, namespace: str, app: str, timeout: float = 60) -> None:
    problem: list[str | None] = [None]

    def check() -> bool:
        problem[0] = _runs_once(cluster, namespace, app)
        return problem[0] is None

    try:
        wait_until(check, timeout, "every pod to run exactly once", interval=0.5)
    except TimeoutError:
        raise AssertionError(problem[0]) from None


def _lost_node_scenario(cluster: Cluster, namespace: str, app: str, *, cut: Any, mend: Any,
                        keeps_running: bool) -> None:
    replicas = 2 * len(cluster.nodes)
    cluster.apply(deployment(app, replicas), namespace)
    pods = wait_ready_replicas(cluster, namespace, app, replicas)
    victim = sorted(cluster.nodes)[-1]
    victim_uids = {p["metadata"]["uid"] for p in pods if p["spec"]["nodeName"] == victim}
    assert victim_uids, f"no pod on {victim}"

    cut(victim)
    try:
        wait_until(lambda: cluster.node_ready(victim) != "True", cluster.node_grace + 50,
                   f"{victim} to turn NotReady/Unknown")
        replacements = wait_ready_replicas(cluster, namespace, app, replicas, timeout=120, exclude_node=victim)
        assert victim_uids.isdisjoint(p["metadata"]["uid"] for p in replacements)
        if keeps_running:
            # The isolated node cannot hear about the eviction: its containers run on meanwhile.
            still = {c.pod_uid for c in _app_containers(cluster, namespace)[victim] if c.running}
            assert victim_uids <= still
    finally:
        mend(victim)
    cluster.wait_nodes_ready(timeout=120)

    # The returning kubelet finishes the evicted pods: gone from the API, containers gone from its engine.
    wait_until(lambda: victim_uids.isdisjoint(p["metadata"]["uid"] for p in cluster.pods(namespace, f"app={app}")),
               90, "the evicted pods to be gone from the API")
    wait_until(lambda: not [c for c in _app_containers(cluster, namespace)[victim] if c.pod_uid in victim_uids],
               90, f"the evicted pods' containers to be removed from {victim}")
    _wait_runs_once(cluster, namespace, app)
    assert len(live(cluster.pods(namespace, f"app={app}"))) == replicas


def test_node_power_off(healthy: Cluster, namespace: str) -> None:
    _lost_node_scenario(healthy, namespace, "poweroff", cut=healthy.ops.stop_node, mend=healthy.ops.start_node,
                        keeps_running=False)


def test_node_isolated_then_healed(healthy: Cluster, namespace: str) -> None:
    _lost_node_scenario(healthy, namespace, "isolated", cut=healthy.ops.isolate, mend=healthy.ops.heal,
                        keeps_running=True)


def test_control_plane_outage(healthy: Cluster, namespace: str) -> None:
    """etcd and every master process stop; the nodes' pods run on untouched; when the
    master returns every object is back, nothing is evicted for the missed heartbeats,
    nothing is duplicated, and reconciliation resumes."""
    cluster = healthy
    replicas = len(cluster.nodes)
    cluster.apply(deployment("outage", replicas), namespace)
    pods = wait_ready_replicas(cluster, namespace, "outage", replicas)
    uids = {p["metadata"]["uid"] for p in pods}
    rs_before = [rs["metadata"]["uid"] for rs in cluster.get_json("rs", "-n", namespace)["items"]]
    before = {c.id: c.started_at for cs in _app_containers(cluster, namespace).values() for c in cs if c.running}
    assert len(before) == replicas

    cluster.ops.stop_master()
    try:
        assert not cluster.api_up()
        # The outage lasts longer than the node grace period: heartbeats go unanswered all along.
        deadline = time.monotonic() + cluster.node_grace + 2
        while time.monotonic() < deadline:
            now = {c.id: c.started_at for cs in _app_containers(cluster, namespace).values() for c in cs if c.running}
            assert now == before, "containers changed while the master was down"
            time.sleep(1)
    finally:
        cluster.ops.start_master()
    wait_until(cluster.api_up, 60, "the API server to answer again")

    assert {p["metadata"]["uid"] for p in cluster.pods(namespace, "app=outage")} == uids
    assert [rs["metadata"]["uid"] for rs in cluster.get_json("rs", "-n", namespace)["items"]] == rs_before
    cluster.wait_nodes_ready(timeout=60)
    wait_ready_replicas(cluster, namespace, "outage", replicas, timeout=60)
    after = {c.id: c.started_at for cs in _app_containers(cluster, namespace).values() for c in cs if c.running}
    assert after == before, "a container was restarted or replaced"
    assert {p["metadata"]["uid"] for p in cluster.pods(namespace, "app=outage")} == uids

    # Reconciliation resumes: a scale-up is carried out.
    cluster.kubectl("scale", "-n", namespace, "deployment/outage", f"--replicas={replicas + 2}")
    wait_ready_replicas(cluster, namespace, "outage", replicas + 2, timeout=90)
    assert len(cluster.get_json("rs", "-n", namespace)["items"]) == 1
    _wait_runs_once(cluster, namespace, "outage")


def test_kubelet_killed_and_restarted_restarts_no_container(healthy: Cluster, namespace: str) -> None:
    cluster = healthy
    node = sorted(cluster.nodes)[0]
    manifest = deployment("steady", 2)
    manifest["spec"]["template"]["spec"]["nodeName"] = node
    cluster.apply(manifest, namespace)
    wait_ready_replicas(cluster, namespace, "steady", 2)
    before = {c.id: c.started_at for c in cluster.ops.containers(node)
              if c.labels.get("io.kubernetes.pod.namespace") == namespace}
    assert len(before) == 4  # two pods, each a sandbox and an app container

    cluster.ops.kill_kubelet(node)
    cluster.ops.restart_kubelet(node)

    # The new kubelet is at work once it runs a new pod; by then it has seen the old ones.
    probe = f"probe-{uuid.uuid4().hex[:6]}"
    cluster.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": probe, "labels": {"app": "probe"}},
                   "spec": {"nodeName": node, "terminationGracePeriodSeconds": 1,
                            "containers": [{"name": "web", "image": "minik8s/web:1",
                                            "imagePullPolicy": "IfNotPresent"}]}}, namespace)
    wait_until(lambda: pod_ready(cluster.get_json("pod", "-n", namespace, probe)), 60, "the probe pod to be Ready")

    probe_uid = cluster.get_json("pod", "-n", namespace, probe)["metadata"]["uid"]
    after = {c.id: c.started_at for c in cluster.ops.containers(node)
             if c.labels.get("io.kubernetes.pod.namespace") == namespace and c.pod_uid != probe_uid}
    assert after == before, "a container was restarted or replaced after the kubelet restart"
    for pod in cluster.pods(namespace, "app=steady"):
        assert pod_ready(pod)
        assert [s.get("restartCount") for s in pod["status"]["containerStatuses"]] == [0]
