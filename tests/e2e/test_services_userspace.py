"""The same Services through the userspace mode (the seed's first mode) on every node.

Each node's proxy is replaced for the duration of a test by `minik8s proxy --mode
userspace` with the node's own configuration; afterwards the cluster's proxy
(iptables mode) is started again and removes the userspace chains itself.
"""
from __future__ import annotations

import os
import pathlib
import signal
import subprocess
import sys
from typing import Iterator

import pytest

from tests.e2e.conftest import Cluster, LocalOps, wait_until
from tests.e2e.test_podnetwork_vxlan import http_get, pod_manifest, start_pods
from tests.e2e.test_services_iptables import answers, fetch, node_rules, running_pods, service, web_deployment


def _proxy_pid(ops: LocalOps, node: str) -> int | None:
    return next(n for n in ops.status()["nodes"] if n["name"] == node)["pids"]["proxy"]


@pytest.fixture
def userspace(local_cluster: Cluster) -> Iterator[Cluster]:
    cluster = local_cluster
    ops = cluster.ops
    assert isinstance(ops, LocalOps)
    started: list[subprocess.Popen[bytes]] = []
    try:
        for node in sorted(cluster.nodes):
            pid = _proxy_pid(ops, node)
            if pid:
                os.kill(pid, signal.SIGTERM)
                wait_until(lambda node=node: not _proxy_pid(ops, node), 15, f"{node}'s proxy to stop")
            etc = pathlib.Path(ops.state_dir) / "nodes" / node / "etc"
            with open(etc.parent / "userspace-proxy.log", "ab") as log:
                started.append(subprocess.Popen(
                    ["nsenter", f"--net=/run/netns/mk8s-{cluster.name}-{node}", sys.executable, "-m", "minik8s",
                     "--config", str(etc / "proxy.yaml"), "proxy", "--mode", "userspace"],
                    stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL))
        for node in cluster.nodes:
            wait_until(lambda node=node: "KUBE-PORTALS-CONTAINER" in node_rules(cluster, node), 30,
                       f"the userspace proxy on {node} to write its rules")
        yield cluster
    finally:
        for proc in started:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for node in cluster.nodes:
            ops.start_node(node)
        for node in cluster.nodes:
            wait_until(lambda node=node: "KUBE-PORTALS" not in node_rules(cluster, node), 30,
                       f"the iptables proxy on {node} to replace the userspace rules")


def test_userspace_nodeport_clusterip_and_endpoint_changes(userspace: Cluster, namespace: str) -> None:
    cluster = userspace
    nodes = sorted(cluster.nodes)
    cluster.apply(web_deployment("us", len(nodes)), namespace)
    cluster.apply(service("us", "us", node_port=0), namespace)
    start_pods(cluster, namespace, [pod_manifest(f"bb-{node}", node, command=["sleep", "3600"]) for node in nodes])
    pods = running_pods(cluster, namespace, "us", len(nodes))
    svc = cluster.get_json("service", "us", "-n", namespace)["spec"]
    cluster_ip, node_port = svc["clusterIP"], svc["ports"][0]["nodePort"]

    for node, ip in sorted(cluster.nodes.items()):
        url = f"http://{ip}:{node_port}/"
        wait_until(lambda url=url: fetch(url) in pods, 30, f"{url} to answer")
        # Round robin: consecutive connections go to different pods.
        seen = answers(lambda url=url: fetch(url), 3 * len(pods))
        assert set(seen) == set(pods), f"NodePort through {node}: {dict(seen)}"
        assert {pods[p] for p in seen} == set(cluster.nodes)
        seen = answers(lambda node=node: http_get(cluster, namespace, f"bb-{node}", cluster_ip), 2 * len(pods))
        assert set(seen) == set(pods), f"ClusterIP from a pod on {node}: {dict(seen)}"
        seen = answers(lambda node=node: cluster.ops.http_from(node, f"http://{cluster_ip}/").strip(),
                       2 * len(pods))
        assert set(seen) == set(pods), f"ClusterIP from node {node}: {dict(seen)}"

    cluster.kubectl("scale", "deployment", "us", "-n", namespace, "--replicas=1")
    remaining = running_pods(cluster, namespace, "us", 1)
    url = f"http://{cluster.nodes[nodes[0]]}:{node_port}/"
    wait_until(lambda: set(answers(lambda: fetch(url), 4)) == set(remaining), 30,
               "the userspace proxy to follow the scale-down")
