"""The pod network with backend host-gw: a 3-node local cluster of its own (the nodes share
the cluster bridge, as host-gw requires), its agents started with `--set
network-agent.backend=host-gw`, checked with the same promises as the vxlan backend."""
from __future__ import annotations

import os
import pathlib
import shutil
import uuid
from collections.abc import Iterator

import pytest

from tests.e2e.conftest import E2E_BASE, MINIK8S, Cluster, down_local, run, up_local, wait_until
from tests.e2e.test_podnetwork_vxlan import backends, check_pod_network, node_routes


@pytest.fixture
def hostgw_cluster(local_host: None) -> Iterator[Cluster]:
    name = "e2eg" + uuid.uuid4().hex[:5]
    base = E2E_BASE / name
    base.mkdir(parents=True)
    (base / "owner.pid").write_text(str(os.getpid()))
    cluster = None
    try:
        cluster = up_local(name, base, nodes=3, extra=["network-agent.backend=host-gw"])
        cluster.wait_nodes_ready()
        yield cluster
    finally:
        if cluster is not None:
            left = down_local(cluster)
        else:
            run([*MINIK8S, "cluster", "down", "--name", name, "--state-dir", str(base / "cluster")], check=False)
            left = []
        shutil.rmtree(base, ignore_errors=True)
        assert not left, f"cluster down left things behind: {left}"


def test_pod_to_pod_across_nodes_host_gw(hostgw_cluster: Cluster) -> None:
    c = hostgw_cluster
    wait_until(lambda: set(backends(c).values()) == {"host-gw"}, 60, "every node to publish backend host-gw")
    cidrs = {n["metadata"]["name"]: n["spec"]["podCIDR"] for n in c.get_json("nodes")["items"]}

    def routed() -> bool:
        for node in c.nodes:
            routes = node_routes(c, node)
            for other, cidr in cidrs.items():
                if other != node and (routes.get(cidr, {}).get("gateway"), routes.get(cidr, {}).get("dev")) != (
                        c.nodes[other], "eth0"):
                    return False
        return True

    wait_until(routed, 60, "a route via each other node's IP on every node")
    c.kubectl("create", "namespace", "net")
    check_pod_network(c, "net")
    # No tunnel device in host-gw mode.
    ns = f"/run/netns/mk8s-{c.name}-{sorted(c.nodes)[0]}"
    assert run(["nsenter", f"--net={ns}", "--", "ip", "link", "show", "flannel.1"], check=False).returncode != 0
    assert pathlib.Path(ns).exists()
    # Docker masquerades nothing: the kubelet made its pod network with masquerading off, so
    # no rule of Docker's sits above the agent's in POSTROUTING (pods would see node IPs).
    for node in c.nodes:
        nat = run(["nsenter", f"--net=/run/netns/mk8s-{c.name}-{node}", "--", "iptables", "-w", "5", "-t", "nat",
                   "-S", "POSTROUTING"]).stdout
        assert not [line for line in nat.splitlines() if line.endswith("-j MASQUERADE")], nat
