"""The master goes down and comes back by itself, and forgets nothing.

On the Vagrant VMs (make vagrant-test) this is a real `systemctl reboot` of the master
machine: every master unit must come back by itself (enabled, ordered after what it
needs), etcd must have kept every object, and the cluster must carry on. On the local
cluster, which has no machine to reboot, every master process stops and starts again.
"""
from __future__ import annotations

import json
from typing import Any

from tests.e2e.conftest import Cluster, deployment, wait_ready_replicas, wait_until


def _objects(cluster: Cluster, namespace: str) -> dict[str, Any]:
    """uid and resourceVersion-free identity of everything the test made, and the nodes."""
    out: dict[str, Any] = {}
    for kind in ("deployments", "replicasets", "pods", "services", "configmaps"):
        items = cluster.get_json(kind, "-n", namespace)["items"]
        out[kind] = sorted((i["metadata"]["name"], i["metadata"]["uid"]) for i in items)
    out["nodes"] = sorted((n["metadata"]["name"], n["metadata"]["uid"]) for n in cluster.get_json("nodes")["items"])
    out["namespace"] = cluster.get_json("namespace", namespace)["metadata"]["uid"]
    return out


def test_master_reboot_loses_nothing(healthy: Cluster, namespace: str) -> None:
    cluster = healthy
    replicas = len(cluster.nodes)
    cluster.apply(deployment("survivor", replicas), namespace)
    cluster.kubectl("create", "configmap", "-n", namespace, "kept", "--from-literal=k=v")
    cluster.apply({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "survivor"},
                   "spec": {"selector": {"app": "survivor"}, "ports": [{"port": 80}]}}, namespace)
    wait_ready_replicas(cluster, namespace, "survivor", replicas, timeout=180)
    before = _objects(cluster, namespace)

    cluster.ops.reboot_master()
    wait_until(cluster.api_up, 600, "the API server to answer after the reboot", interval=2)
    wait_until(lambda: not cluster.ops.master_down(), 300, "every master component to run again", interval=2)

    assert _objects(cluster, namespace) == before
    data = cluster.get_json("configmap", "-n", namespace, "kept")["data"]
    assert data == {"k": "v"}, json.dumps(data)
    cluster.wait_nodes_ready(timeout=180)
    wait_ready_replicas(cluster, namespace, "survivor", replicas, timeout=180)
    # The controllers and the scheduler are at work again: a scale-up is carried out.
    cluster.kubectl("scale", "-n", namespace, "deployment/survivor", f"--replicas={replicas + 1}")
    wait_ready_replicas(cluster, namespace, "survivor", replicas + 1, timeout=300)
