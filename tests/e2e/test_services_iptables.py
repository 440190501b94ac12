"""Services on the 3-node cluster through the proxy every node runs (iptables mode, the default).

The seed's NodePort Service reached through every node's IP with answers from
pods on other nodes; a ClusterIP from pods and from nodes; readiness and scaling
reflected in the rules; a killed proxy not interrupting traffic. The web image
answers GET / with its hostname, which is the pod's name.
"""
from __future__ import annotations

import collections
import json
import os
import signal
import subprocess
import urllib.request
from typing import Any

from tests.e2e.conftest import Cluster, LocalOps, deployment, live, pod_ready, wait_until
from tests.e2e.test_podnetwork_vxlan import http_get, pod_manifest, start_pods

NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def fetch(url: str) -> str:
    """GET url from this host (outside the cluster); "" when it fails."""
    try:
        with NO_PROXY.open(url, timeout=5) as resp:
            return resp.read().decode().strip()
    except OSError:
        return ""


def web_deployment(name: str, replicas: int, readiness: bool = False) -> dict[str, Any]:
    d = deployment(name, replicas)
    if readiness:
        d["spec"]["template"]["spec"]["containers"][0]["readinessProbe"] = {
            "httpGet": {"path": "/cgi-bin/readyz", "port": 80}, "periodSeconds": 1, "failureThreshold": 1}
    return d


def service(name: str, app: str, *, node_port: int | None = None) -> dict[str, Any]:
    port: dict[str, Any] = {"port": 80, "targetPort": 80}
    spec: dict[str, Any] = {"selector": {"app": app}, "ports": [port]}
    if node_port is not None:
        spec["type"] = "NodePort"
        if node_port:
            port["nodePort"] = node_port
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name}, "spec": spec}


def running_pods(cluster: Cluster, namespace: str, app: str, count: int, timeout: float = 120,
                 service_name: str | None = None) -> dict[str, str]:
    """Wait for exactly `count` Ready pods of `app`, and for the Endpoints to list them; name → node."""
    def check() -> dict[str, str] | None:
        pods = live(cluster.pods(namespace, f"app={app}"))
        ready = {p["metadata"]["name"]: p["spec"]["nodeName"] for p in pods if pod_ready(p)}
        if len(ready) != count or len(pods) != count:
            return None
        proc = cluster.kubectl("get", "endpoints", service_name or app, "-n", namespace, "-o", "json",
                               check=False)
        if proc.returncode != 0:
            return None
        ep = json.loads(proc.stdout)
        addresses = [a for s in ep.get("subsets") or [] for a in s.get("addresses") or []]
        return ready if len(addresses) == count else None

    return wait_until(check, timeout, f"{count} Ready pods of {app} in its Endpoints")


def answers(ask: Any, n: int) -> collections.Counter[str]:
    return collections.Counter(ask() for _ in range(n))


def test_seed_nodeport_service_through_every_node(healthy: Cluster, namespace: str) -> None:
    """The seed's Service: type NodePort, port 80, targetPort 80, nodePort 30001."""
    replicas = len(healthy.nodes)
    healthy.apply(web_deployment("vdata-imp", replicas), namespace)
    healthy.apply(service("vdata-imp-service", "vdata-imp", node_port=30001), namespace)
    pods = running_pods(healthy, namespace, "vdata-imp", replicas, service_name="vdata-imp-service")
    assert len(set(pods.values())) == replicas, f"one pod per node expected: {pods}"

    for node, ip in sorted(healthy.nodes.items()):
        url = f"http://{ip}:30001/"
        wait_until(lambda url=url: fetch(url) in pods, 30, f"{url} to answer")
        # Random balancing over 3 pods: 30 requests miss a given pod with probability (2/3)^30 < 1e-5.
        seen = answers(lambda url=url: fetch(url), 30)
        assert set(seen) == set(pods), f"through {node}: {dict(seen)}"
        assert {pods[p] for p in seen} == set(healthy.nodes), "answers come from pods on every node"


def test_cluster_ip_from_pods_and_from_nodes(healthy: Cluster, namespace: str) -> None:
    nodes = sorted(healthy.nodes)
    healthy.apply(web_deployment("web", len(nodes)), namespace)
    healthy.apply(service("web", "web"), namespace)
    start_pods(healthy, namespace, [pod_manifest(f"bb-{node}", node, command=["sleep", "3600"]) for node in nodes])
    pods = running_pods(healthy, namespace, "web", len(nodes))
    cluster_ip = healthy.get_json("service", "web", "-n", namespace)["spec"]["clusterIP"]

    for node in nodes:
        wait_until(lambda node=node: http_get(healthy, namespace, f"bb-{node}", cluster_ip) in pods, 30,
                   f"bb-{node} to reach {cluster_ip}")
        seen = answers(lambda node=node: http_get(healthy, namespace, f"bb-{node}", cluster_ip), 15)
        assert set(seen) <= set(pods) and len(seen) >= 2, f"from a pod on {node}: {dict(seen)}"
        if healthy.ops.local:
            seen = answers(lambda node=node: healthy.ops.http_from(node, f"http://{cluster_ip}/").strip(), 15)
            assert set(seen) <= set(pods) and len(seen) >= 2, f"from node {node}: {dict(seen)}"


def test_a_pod_reaches_itself_through_its_service(healthy: Cluster, namespace: str) -> None:
    # Hairpin: the only endpoint asks its own cluster IP and is DNATed back to itself; the
    # reply comes back only because its node's proxy masquerades it, which it does for
    # endpoints whose nodeName is that node (the proxy's --node-name, the kubelet's).
    healthy.apply(web_deployment("self", 1), namespace)
    healthy.apply(service("self", "self"), namespace)
    [(pod, _node)] = running_pods(healthy, namespace, "self", 1).items()
    cluster_ip = healthy.get_json("service", "self", "-n", namespace)["spec"]["clusterIP"]
    wait_until(lambda: http_get(healthy, namespace, pod, cluster_ip) == pod, 30, f"{pod} to reach itself via {cluster_ip}")


def _set_ready(cluster: Cluster, namespace: str, pod: str, node: str, ready: bool) -> None:
    ip = cluster.get_json("pod", pod, "-n", namespace)["status"]["podIP"]
    what = "clear" if ready else "set"
    assert cluster.ops.http_from(node, f"http://{ip}/cgi-bin/{what}?unready").strip().endswith("unready")


def test_readiness_takes_a_pod_out_of_rotation(healthy: Cluster, namespace: str) -> None:
    nodes = sorted(healthy.nodes)
    healthy.apply(web_deployment("ready", 2, readiness=True), namespace)
    healthy.apply(service("ready", "ready", node_port=0), namespace)
    pods = running_pods(healthy, namespace, "ready", 2)
    node_port = healthy.get_json("service", "ready", "-n", namespace)["spec"]["ports"][0]["nodePort"]
    url = f"http://{healthy.nodes[nodes[0]]}:{node_port}/"
    wait_until(lambda: set(answers(lambda: fetch(url), 10)) == set(pods), 30, "both pods answering")

    victim, victim_node = sorted(pods.items())[0]
    _set_ready(healthy, namespace, victim, victim_node, False)
    wait_until(lambda: any(a.get("targetRef", {}).get("name") == victim
                           for s in healthy.get_json("endpoints", "ready", "-n", namespace).get("subsets") or []
                           for a in s.get("notReadyAddresses") or []), 30, f"{victim} in notReadyAddresses")
    wait_until(lambda: set(answers(lambda: fetch(url), 3)) == set(pods) - {victim}, 10,
               f"{victim} out of rotation")
    assert victim not in answers(lambda: fetch(url), 20)
    _set_ready(healthy, namespace, victim, victim_node, True)
    wait_until(lambda: set(answers(lambda: fetch(url), 10)) == set(pods), 30, f"{victim} back in rotation")


def node_rules(cluster: Cluster, node: str) -> str:
    ns = f"/run/netns/mk8s-{cluster.name}-{node}"
    return subprocess.run(["nsenter", f"--net={ns}", "iptables-save", "-t", "nat"], capture_output=True,
                          text=True, check=True).stdout


def service_endpoint_rules(rules: str, namespace: str, name: str) -> int:
    """How many endpoints the Service's chain picks from in a node's nat table: jumps to a
    KUBE-SEP chain (an endpoint on this node) and DNATs (one on another node)."""
    return sum(1 for line in rules.splitlines()
               if line.startswith("-A KUBE-SVC-") and f"{namespace}/{name} ->" in line
               and ("KUBE-SEP-" in line or "-j DNAT" in line))


def local_endpoint_chains(rules: str, namespace: str, name: str) -> int:
    """How many of them have a KUBE-SEP chain (with the hairpin mark)."""
    return sum(1 for line in rules.splitlines()
               if line.startswith("-A KUBE-SVC-") and f"{namespace}/{name} ->" in line and "KUBE-SEP-" in line)


def test_scale_down_and_up_reflected_in_rules(healthy: Cluster, namespace: str) -> None:
    healthy.apply(web_deployment("scale", 3), namespace)
    healthy.apply(service("scale", "scale"), namespace)
    running_pods(healthy, namespace, "scale", 3)
    cluster_ip = healthy.get_json("service", "scale", "-n", namespace)["spec"]["clusterIP"]
    first = sorted(healthy.nodes)[0]

    for replicas in (1, 3):
        healthy.kubectl("scale", "deployment", "scale", "-n", namespace, f"--replicas={replicas}")
        pods = running_pods(healthy, namespace, "scale", replicas)
        if healthy.ops.local:
            for node in healthy.nodes:
                wait_until(lambda node=node: service_endpoint_rules(node_rules(healthy, node), namespace,
                                                                    "scale") == replicas,
                           30, f"{replicas} endpoint rules on {node}")
            # Only the endpoints on a node have a KUBE-SEP chain (hairpin) there.
            on_node = collections.Counter(pods.values())
            for node in healthy.nodes:
                assert local_endpoint_chains(node_rules(healthy, node), namespace, "scale") == on_node[node]
            ask = lambda: healthy.ops.http_from(first, f"http://{cluster_ip}/").strip()  # noqa: E731
        else:
            ask = lambda: fetch(f"http://{cluster_ip}/")  # noqa: E731
        wait_until(lambda: set(answers(ask, 3 * replicas + 3)) == set(pods), 30,
                   f"traffic spread over the {replicas} pods")


def test_proxy_restart_keeps_serving(local_cluster: Cluster, namespace: str) -> None:
    cluster = local_cluster
    ops = cluster.ops
    assert isinstance(ops, LocalOps)
    node = sorted(cluster.nodes)[1]
    cluster.apply(web_deployment("restart", 2), namespace)
    cluster.apply(service("restart", "restart", node_port=0), namespace)
    pods = running_pods(cluster, namespace, "restart", 2)
    node_port = cluster.get_json("service", "restart", "-n", namespace)["spec"]["ports"][0]["nodePort"]
    url = f"http://{cluster.nodes[node]}:{node_port}/"
    wait_until(lambda: fetch(url) in pods, 30, f"{url} to answer")

    pid = next(n for n in ops.status()["nodes"] if n["name"] == node)["pids"]["proxy"]
    assert pid, f"{node} runs no proxy"
    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: not next(n for n in ops.status()["nodes"] if n["name"] == node)["pids"]["proxy"], 10,
               "the proxy to be gone")
    # The kernel's rules keep serving while the proxy is down.
    assert set(answers(lambda: fetch(url), 10)) <= set(pods)
    assert fetch(url) in pods

    ops.start_node(node)  # brings back the missing agent
    cluster.kubectl("scale", "deployment", "restart", "-n", namespace, "--replicas=1")
    remaining = running_pods(cluster, namespace, "restart", 1)
    wait_until(lambda: set(answers(lambda: fetch(url), 5)) == set(remaining), 30,
               "the restarted proxy to follow the scale-down")
    status = json.dumps(ops.status())
    assert '"proxy": null' not in status
