"""The same Services through the nftables mode on every node of the 3-node cluster.

For this module every node's proxy runs `minik8s proxy --mode nftables` with the
node's own configuration (whatever the cluster's default mode is); afterwards the
cluster's own proxies are started again. The checks are those of the iptables
mode's tests (tests/e2e/test_services_iptables.py), plus the nftables table on
every node following a scale-down and up, and the per-endpoint connection
counters on /metrics.
"""
from __future__ import annotations

import os
import pathlib
import re
import signal
import subprocess
import sys
from typing import Iterator

import pytest

from tests.e2e import test_services_iptables as iptables_tests
from tests.e2e.conftest import Cluster, LocalOps, wait_until
from tests.e2e.test_services_iptables import answers, running_pods, service, web_deployment

METRICS_PORT = 10249


def _proxy_pid(ops: LocalOps, node: str) -> int | None:
    return next(n for n in ops.status()["nodes"] if n["name"] == node)["pids"]["proxy"]


def _netns(cluster: Cluster, node: str) -> str:
    return f"/run/netns/mk8s-{cluster.name}-{node}"


def nft_table(cluster: Cluster, node: str) -> str:
    return subprocess.run(["nsenter", f"--net={_netns(cluster, node)}", "nft", "list", "table", "ip",
                           "minik8s-proxy"], capture_output=True, text=True, check=False).stdout


def node_metrics(cluster: Cluster, node: str) -> str:
    return subprocess.run(["nsenter", f"--net={_netns(cluster, node)}", "curl", "-s", "--noproxy", "*",
                           f"http://127.0.0.1:{METRICS_PORT}/metrics"], capture_output=True, text=True,
                          check=False).stdout


@pytest.fixture(scope="module")
def nftables(cluster: Cluster) -> Iterator[Cluster]:
    if not cluster.ops.local:
        pytest.skip("switches the nodes' proxies by hand; the VMs run their configured mode")
    ops = cluster.ops
    assert isinstance(ops, LocalOps)
    cluster.wait_nodes_ready()
    started: list[subprocess.Popen[bytes]] = []
    try:
        for node in sorted(cluster.nodes):
            pid = _proxy_pid(ops, node)
            if pid:
                os.kill(pid, signal.SIGTERM)
                wait_until(lambda node=node: not _proxy_pid(ops, node), 15, f"{node}'s proxy to stop")
            etc = pathlib.Path(ops.state_dir) / "nodes" / node / "etc"
            with open(etc.parent / "nftables-proxy.log", "ab") as log:
                started.append(subprocess.Popen(
                    ["nsenter", f"--net={_netns(cluster, node)}", sys.executable, "-m", "minik8s",
                     "--config", str(etc / "proxy.yaml"), "proxy", "--mode", "nftables",
                     "--metrics-bind-address", f"127.0.0.1:{METRICS_PORT}"],
                    stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL))
        for node in cluster.nodes:
            wait_until(lambda node=node: "map service-ips" in nft_table(cluster, node), 30,
                       f"the nftables proxy on {node} to write its table")
            wait_until(lambda node=node: "KUBE-SERVICES" not in iptables_tests.node_rules(cluster, node), 30,
                       f"the nftables proxy on {node} to remove the iptables mode's chains")
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


def test_seed_nodeport_service_through_every_node(nftables: Cluster, namespace: str) -> None:
    iptables_tests.test_seed_nodeport_service_through_every_node(nftables, namespace)


def test_cluster_ip_from_pods_and_from_nodes(nftables: Cluster, namespace: str) -> None:
    iptables_tests.test_cluster_ip_from_pods_and_from_nodes(nftables, namespace)


def test_readiness_takes_a_pod_out_of_rotation(nftables: Cluster, namespace: str) -> None:
    iptables_tests.test_readiness_takes_a_pod_out_of_rotation(nftables, namespace)


def endpoint_chains(table: str, namespace: str, name: str) -> int:
    return len(set(re.findall(rf"chain (endpoint-\w+-{re.escape(namespace)}/{re.escape(name)}/tcp/__\S+)", table)))


def test_scale_down_and_up_reflected_in_every_nodes_table(nftables: Cluster, namespace: str) -> None:
    cluster = nftables
    cluster.apply(web_deployment("scale", 3), namespace)
    cluster.apply(service("scale", "scale"), namespace)
    running_pods(cluster, namespace, "scale", 3)
    cluster_ip = cluster.get_json("service", "scale", "-n", namespace)["spec"]["clusterIP"]
    first = sorted(cluster.nodes)[0]
    for replicas in (1, 3):
        cluster.kubectl("scale", "deployment", "scale", "-n", namespace, f"--replicas={replicas}")
        pods = running_pods(cluster, namespace, "scale", replicas)
        for node in cluster.nodes:
            wait_until(lambda node=node: endpoint_chains(nft_table(cluster, node), namespace, "scale") == replicas,
                       30, f"{replicas} endpoint chains on {node}")
        ask = lambda: cluster.ops.http_from(first, f"http://{cluster_ip}/").strip()  # noqa: E731
        wait_until(lambda: set(answers(ask, 3 * replicas + 3)) == set(pods), 30,
                   f"traffic spread over the {replicas} pods")


def test_connections_are_counted_per_endpoint(nftables: Cluster, namespace: str) -> None:
    cluster = nftables
    cluster.apply(web_deployment("counted", 2), namespace)
    cluster.apply(service("counted", "counted", node_port=0), namespace)
    running_pods(cluster, namespace, "counted", 2)
    node = sorted(cluster.nodes)[0]
    node_port = cluster.get_json("service", "counted", "-n", namespace)["spec"]["ports"][0]["nodePort"]
    url = f"http://{cluster.nodes[node]}:{node_port}/"
    wait_until(lambda: iptables_tests.fetch(url), 30, f"{url} to answer")

    def total() -> int:
        return sum(int(line.split()[-1]) for line in node_metrics(cluster, node).splitlines()
                   if line.startswith("minik8s_proxy_endpoint_connections_total{")
                   and f'namespace="{namespace}",service="counted"' in line)
    before = total()
    answered = sum(1 for _ in range(20) if iptables_tests.fetch(url))
    assert answered == 20
    assert total() == before + 20, node_metrics(cluster, node)
