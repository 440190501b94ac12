"""The seed's vdata-imp Deployment and NodePort Service (examples/vdata-imp.yaml) as a user runs them.

`kubectl apply -f examples/vdata-imp.yaml` unchanged, scaled to one replica per node;
then port 30001 of every node's address answers, from pods on other nodes too (the
NodePort's rules and the pod network between machines), and `kubectl logs` and
`kubectl exec` reach the pods' containers on their nodes. On the Vagrant VMs (make
vagrant-test) this is the smoke test: boot, provision, nodes Ready, pods Running, the
NodePort answered.
"""
from __future__ import annotations

import collections
import pathlib
import urllib.error

import yaml

from minik8s.util import procs
from tests.e2e.conftest import Cluster, wait_ready_replicas, wait_until

EXAMPLE = pathlib.Path(__file__).resolve().parents[2] / "examples" / "vdata-imp.yaml"
NODE_PORT = 30001
BUSYBOX_IMAGE = "minik8s/busybox:1"
ASKS_PER_NODE = 30


def _get(url: str) -> str | None:
    try:
        with procs.LOOPBACK_OPENER.open(url, timeout=5) as resp:
            return str(resp.read().decode().strip())
    except (OSError, urllib.error.URLError):
        return None


def test_vdata_imp_nodeport_on_every_node(healthy: Cluster, namespace: str) -> None:
    cluster = healthy
    docs = list(yaml.safe_load_all(EXAMPLE.read_text()))
    assert [d["kind"] for d in docs] == ["Deployment", "Service"]
    assert docs[1]["spec"]["ports"][0]["nodePort"] == NODE_PORT
    # Another test's Service (test_services_iptables) may hold the port until its namespace is gone.
    wait_until(lambda: not _holders(cluster), 120, f"nodePort {NODE_PORT} to be free")
    cluster.kubectl("apply", "-n", namespace, "-f", str(EXAMPLE))
    try:
        _check(cluster, namespace)
    finally:
        cluster.kubectl("delete", "-n", namespace, "-f", str(EXAMPLE), "--wait=true", check=False, timeout=120)


def _holders(cluster: Cluster) -> list[str]:
    return [f"{s['metadata']['namespace']}/{s['metadata']['name']}"
            for s in cluster.get_json("services", "-A")["items"]
            if any(p.get("nodePort") == NODE_PORT for p in s["spec"].get("ports") or [])]


def _check(cluster: Cluster, namespace: str) -> None:
    replicas = len(cluster.nodes)
    cluster.kubectl("scale", "-n", namespace, "deployment/vdata-imp-deployment", f"--replicas={replicas}")
    pods = wait_ready_replicas(cluster, namespace, "vdata-imp", replicas, timeout=300)
    names = {p["metadata"]["name"]: p["spec"]["nodeName"] for p in pods}
    assert set(names.values()) == set(cluster.nodes), f"one pod per node expected: {names}"

    # The first answer may wait for the proxies to see the endpoints.
    for node, ip in cluster.nodes.items():
        wait_until(lambda ip=ip: _get(f"http://{ip}:{NODE_PORT}/") in names, 60, f"{node}:{NODE_PORT} to answer")
    for node, ip in cluster.nodes.items():
        answers = collections.Counter(_get(f"http://{ip}:{NODE_PORT}/") for _ in range(ASKS_PER_NODE))
        assert set(answers) <= set(names), f"{node}: answers {answers} are not all pod names {sorted(names)}"
        if len(cluster.nodes) > 1:
            # Random endpoint choice over one pod per node: pods on other nodes answer too
            # (missing them all in 30 tries has odds of 2^-30 or less).
            assert any(names[a] != node for a in answers), f"{node} answered only from its own pod: {answers}"

    pod, node = sorted(names.items())[0]
    # exec: a command in the pod's container on its node, with the manifest's environment.
    out = cluster.kubectl("exec", "-n", namespace, pod, "--", "sh", "-c", "hostname; echo $ENV").stdout.split()
    assert out == [pod, "env"]
    # logs: what a container wrote on its node, through that node's kubelet (busybox httpd
    # logs nothing, so a pod that does, on the other node).
    other = next((n for n in sorted(cluster.nodes) if n != node), node)
    cluster.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "talker"},
                   "spec": {"nodeName": other, "terminationGracePeriodSeconds": 1,
                            "containers": [{"name": "talk", "image": BUSYBOX_IMAGE, "imagePullPolicy": "IfNotPresent",
                                            "command": ["sh", "-c", "echo hello from $(hostname); exec sleep 3600"]}]}},
                  namespace)
    wait_until(lambda: "hello from talker" in cluster.kubectl("logs", "-n", namespace, "talker", check=False).stdout,
               120, "the talker pod's log line", interval=1)
