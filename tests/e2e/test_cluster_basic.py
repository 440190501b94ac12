"""The local cluster as a cluster: real nodes with their own addresses and engines, pods spread over them."""
from __future__ import annotations

import collections
import pathlib
import uuid

import pytest

from tests.e2e.conftest import WEB_IMAGE, Cluster, LocalOps, deployment, wait_ready_replicas


def test_nodes_ready_with_their_own_addresses(healthy: Cluster) -> None:
    out = healthy.kubectl("get", "nodes", "-o", "wide").stdout
    lines = [line.split() for line in out.splitlines()[1:]]
    assert {row[0] for row in lines} == set(healthy.nodes), out
    for row in lines:
        name, status, ip = row[0], row[1], row[5]
        assert status == "Ready", out
        assert ip == healthy.nodes[name], out
    assert len(set(healthy.nodes.values())) == len(healthy.nodes), "every node has its own InternalIP"


def test_deployment_spreads_over_the_nodes(healthy: Cluster, namespace: str) -> None:
    """6 replicas on 3 nodes: 2 each (the spreading score with real nodes), each pod's
    containers on its own node's engine only, and each pod answering from its node."""
    n_nodes = len(healthy.nodes)
    replicas = 2 * n_nodes
    healthy.apply(deployment("spread", replicas), namespace)
    pods = wait_ready_replicas(healthy, namespace, "spread", replicas)

    per_node = collections.Counter(p["spec"]["nodeName"] for p in pods)
    assert set(per_node) == set(healthy.nodes), per_node
    assert set(per_node.values()) == {2}, per_node

    by_node = {node: healthy.ops.containers(node) for node in healthy.nodes}
    for pod in pods:
        uid, node = pod["metadata"]["uid"], pod["spec"]["nodeName"]
        for other, containers in by_node.items():
            mine = [c for c in containers if c.pod_uid == uid and c.running]
            if other == node:
                assert {c.container_name for c in mine} >= {"web"}, f"{pod['metadata']['name']} not on {node}"
            else:
                assert not mine, f"{pod['metadata']['name']} also has containers on {other}"
        # The web image answers with its hostname, the pod's name; asked from the pod's node.
        body = healthy.ops.http_from(node, f"http://{pod['status']['podIP']}/")
        assert body.strip() == pod["metadata"]["name"]


def test_load_image_copies_into_every_node(local_cluster: Cluster) -> None:
    import docker

    ops = local_cluster.ops
    assert isinstance(ops, LocalOps)
    tag = f"minik8s/e2e-load:{uuid.uuid4().hex[:8]}"
    host = docker.DockerClient(base_url="unix:///var/run/docker.sock")
    host.images.get(WEB_IMAGE).tag(tag)
    try:
        ops.cluster("load-image", tag)
        for node in local_cluster.nodes:
            sock = pathlib.Path(ops.state_dir) / "nodes" / node / "docker.sock"
            engine = docker.DockerClient(base_url=f"unix://{sock}")
            try:
                assert engine.images.get(tag).id == host.images.get(tag).id
                engine.images.remove(tag)
            finally:
                engine.close()
    finally:
        host.images.remove(tag)
        host.close()


# The VM path (`token create` + `join`) from a node: tests/e2e/test_security.py.


@pytest.mark.parametrize("component", ["apiserver", "controller-manager", "scheduler"])
def test_master_runs_from_the_rendered_config(local_cluster: Cluster, component: str) -> None:
    """Each master process is `minik8s --config <state>/etc/<component>.yaml <component>`,
    the command line of its systemd unit with the state directory standing for /etc/minik8s."""
    import psutil

    ops = local_cluster.ops
    assert isinstance(ops, LocalOps)
    pid = ops.status()["master"][component]
    cmdline = psutil.Process(pid).cmdline()
    assert cmdline[-3:] == ["--config", str(pathlib.Path(ops.state_dir) / "etc" / f"{component}.yaml"), component]
    unit = (pathlib.Path(__file__).resolve().parents[2] / "deploy" / "systemd" / f"minik8s-{component}.service")
    exec_start = next(line for line in unit.read_text().splitlines() if line.startswith("ExecStart="))
    assert exec_start.endswith(f"--config /etc/minik8s/{component}.yaml {component}")
