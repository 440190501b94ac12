"""The same Services through the nftables mode on every node of the 3-node cluster.

For this module every node's proxy runs `minik8s proxy --mode nftables` with the
node's own configuration (whatever the cluster's configured mode is; see
proxymode.py); afterwards the cluster's own proxies are started again. The checks are those of the iptables
mode's tests (tests/e2e/test_services_iptables.py), plus the nftables table on
every node following a scale-down and up, the per-endpoint connection
counters on /metrics, and the request rate they give in the custom metrics API
(what the autoscaler reads).
"""
from __future__ import annotations

import json
import re
import subprocess
import threading
from typing import Iterator

import pytest
from prometheus_client import parser as prom_parser

from tests.e2e import proxymode
from tests.e2e import test_services_iptables as iptables_tests
from tests.e2e.conftest import Cluster, wait_until
from tests.e2e.test_services_iptables import answers, running_pods, service, web_deployment

def nft_table(cluster: Cluster, node: str) -> str:
    return subprocess.run(["nsenter", f"--net={proxymode.netns(cluster, node)}", "nft", "list", "table", "ip",
                           "minik8s-proxy"], capture_output=True, text=True, check=False).stdout


def node_metrics(cluster: Cluster, node: str) -> str:
    return subprocess.run(["nsenter", f"--net={proxymode.netns(cluster, node)}", "curl", "-s", "--noproxy", "*",
                           f"http://127.0.0.1:{proxymode.METRICS_PORT}/metrics"], capture_output=True, text=True,
                          check=False).stdout


@pytest.fixture(scope="module")
def nftables(cluster: Cluster) -> Iterator[Cluster]:
    if not cluster.ops.local:
        pytest.skip("switches the nodes' proxies by hand; the VMs run their configured mode")
    cluster.wait_nodes_ready()

    def ready(node: str) -> bool:
        return ("map service-ips" in nft_table(cluster, node)
                and "KUBE-SERVICES" not in iptables_tests.node_rules(cluster, node))
    with proxymode.proxies_in_mode(cluster, "nftables", ready) as c:
        yield c


def test_seed_nodeport_service_through_every_node(nftables: Cluster, namespace: str) -> None:
    iptables_tests.test_seed_nodeport_service_through_every_node(nftables, namespace)


def test_cluster_ip_from_pods_and_from_nodes(nftables: Cluster, namespace: str) -> None:
    iptables_tests.test_cluster_ip_from_pods_and_from_nodes(nftables, namespace)


def test_readiness_takes_a_pod_out_of_rotation(nftables: Cluster, namespace: str) -> None:
    iptables_tests.test_readiness_takes_a_pod_out_of_rotation(nftables, namespace)


def test_a_pod_reaches_itself_through_its_service(nftables: Cluster, namespace: str) -> None:
    # The hairpin set holds the addresses of endpoints on each node only.
    iptables_tests.test_a_pod_reaches_itself_through_its_service(nftables, namespace)


def endpoint_slots(table: str, cluster_ip: str) -> int:
    """The Service's endpoints in the table: its elements of cluster-ip-endpoints-tcp,
    `<cluster IP> . <port> . <slot> counter ... : <endpoint> . <port>` (docs/proxy.md)."""
    return len(set(re.findall(rf"{re.escape(cluster_ip)} \. \d+ \. (\d+) counter", table)))


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
            wait_until(lambda node=node: endpoint_slots(nft_table(cluster, node), cluster_ip) == replicas,
                       30, f"{replicas} endpoint elements on {node}")
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

    def total() -> float:
        return sum(sample.value for family in prom_parser.text_string_to_metric_families(node_metrics(cluster, node))
                   for sample in family.samples
                   if sample.name == "minik8s_proxy_endpoint_connections_total"
                   and sample.labels["namespace"] == namespace and sample.labels["service"] == "counted")
    before = total()
    answered = sum(1 for _ in range(20) if iptables_tests.fetch(url))
    assert answered == 20
    assert total() == before + 20, node_metrics(cluster, node)


def test_the_request_rate_reaches_the_custom_metrics_api(nftables: Cluster, namespace: str) -> None:
    """The API server scrapes every node's proxy; in this mode too, a Service's rate is non-zero under load."""
    cluster = nftables
    cluster.apply(web_deployment("rated", 2), namespace)
    cluster.apply(service("rated", "rated", node_port=0), namespace)
    running_pods(cluster, namespace, "rated", 2)
    node_port = cluster.get_json("service", "rated", "-n", namespace)["spec"]["ports"][0]["nodePort"]
    urls = [f"http://{ip}:{node_port}/" for ip in sorted(cluster.nodes.values())]
    stop = threading.Event()

    def load() -> None:
        i = 0
        while not stop.is_set():
            iptables_tests.fetch(urls[i % len(urls)])
            i += 1
            stop.wait(0.1)

    def rate() -> str:
        out = cluster.kubectl("get", "--raw", f"/apis/custom.metrics.k8s.io/v1beta2/namespaces/{namespace}/"
                                              "services/rated/http_requests_per_second", check=False).stdout
        items = json.loads(out or "{}").get("items") or [{}]
        return str(items[0].get("value", ""))

    loader = threading.Thread(target=load, daemon=True)
    loader.start()
    try:
        wait_until(lambda: rate() not in ("", "0"), 90, "a non-zero request rate for Service rated")
    finally:
        stop.set()
        loader.join(15)
