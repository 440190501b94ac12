"""The node, graceful deletion, and a kubelet killed with SIGKILL coming back (real Docker)."""
from __future__ import annotations

import asyncio
import pathlib
import subprocess
import uuid
from typing import Any, Callable

import docker
import pytest

from minik8s.api import resources
from minik8s.client import rest
from minik8s.images import build
from minik8s.kubelet import dockerruntime, runtime
from minik8s.util import procs
from tests import conftest as root
from tests.integration.kubelet.conftest import KubeletProcess, Pods, container_state, is_ready, unused_pod_cidr

pytestmark = [pytest.mark.docker, pytest.mark.integration]

PODS = resources.must("", "v1", "pods")
NODES = resources.must("", "v1", "nodes")
LEASES = resources.must("coordination.k8s.io", "v1", "leases")


async def test_the_node_registers_ready_and_renews_its_lease(client: rest.Client, kubelet: KubeletProcess,
                                                             apiserver: root.ApiServerProcess) -> None:
    node = await client.get(NODES, kubelet.node)
    labels = node["metadata"]["labels"]
    assert labels["kubernetes.io/hostname"] == kubelet.node
    assert labels["kubernetes.io/os"] == "linux" and labels["kubernetes.io/arch"]
    status = node["status"]
    assert {"type": "InternalIP", "address": "127.0.0.1"} in status["addresses"]
    assert any(a["type"] == "Hostname" for a in status["addresses"])
    assert status["capacity"]["pods"] == "110" and int(status["capacity"]["cpu"]) >= 1
    assert status["capacity"]["memory"].endswith("Ki") and status["allocatable"]["memory"].endswith("Ki")
    assert status["nodeInfo"]["containerRuntimeVersion"].startswith("docker://")
    assert status["nodeInfo"]["kubeletVersion"] and status["nodeInfo"]["kernelVersion"]
    assert status["daemonEndpoints"]["kubeletEndpoint"]["Port"] == kubelet.port
    conditions = {c["type"]: c for c in status["conditions"]}
    assert conditions["Ready"]["status"] == "True" and conditions["Ready"]["reason"] == "KubeletReady"
    for ctype in ("MemoryPressure", "DiskPressure", "PIDPressure"):
        assert conditions[ctype]["status"] == "False"
    assert node["spec"]["podCIDR"] == kubelet.cidr

    lease = await client.get(LEASES, kubelet.node, "kube-node-lease")
    assert lease["spec"]["holderIdentity"] == kubelet.node
    first = lease["spec"]["renewTime"]

    async def renewed() -> bool:
        return (await client.get(LEASES, kubelet.node, "kube-node-lease"))["spec"]["renewTime"] != first
    await procs.wait_for_async(renewed, 10, what="a lease renewal")

    out = (await root.akubectl(apiserver, "get", "nodes", kubelet.node)).stdout
    assert kubelet.node in out and " Ready " in out


async def test_graceful_delete_terms_then_kills_and_removes_everything(
        pods: Pods, kubelet: KubeletProcess, tmp_path: pathlib.Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    pod = await pods.create("grace", [
        {"name": "polite", "image": build.BUSYBOX_IMAGE, "command": ["sh", "-c",
         "trap 'echo got TERM > /out/polite; exit 0' TERM; while true; do sleep 0.1; done"],
         "volumeMounts": [{"name": "out", "mountPath": "/out"}]},
        {"name": "stubborn", "image": build.BUSYBOX_IMAGE, "command": ["sh", "-c",
         "trap 'echo ignored > /out/stubborn' TERM; while true; do sleep 0.1; done"],
         "volumeMounts": [{"name": "out", "mountPath": "/out"}]},
    ], volumes=[{"name": "out", "hostPath": {"path": str(out)}}], terminationGracePeriodSeconds=3)
    uid = pod["metadata"]["uid"]
    await pods.wait("grace", is_ready, what="grace ready")
    rv = (await pods.client.list(PODS, pods.namespace))["metadata"]["resourceVersion"]
    seen: list[dict[str, Any]] = []

    async def watch() -> None:
        async for ev in pods.client.watch(PODS, pods.namespace, resource_version=rv):
            if (ev.get("object") or {}).get("metadata", {}).get("name") == "grace":
                seen.append(ev)
                if ev["type"] == "DELETED":
                    return

    watcher = asyncio.get_running_loop().create_task(watch())
    deleted = await pods.client.delete(PODS, "grace", pods.namespace)
    assert deleted["metadata"]["deletionTimestamp"] and deleted["metadata"]["deletionGracePeriodSeconds"] == 3
    await asyncio.wait_for(watcher, 60)

    # The pod object went last: by then no container of it was left, and the status
    # written before the final delete shows how each container ended.
    assert not kubelet.containers(uid)
    assert not (kubelet.root / "pods" / uid).exists()
    final = [ev["object"] for ev in seen if ev["type"] == "MODIFIED"][-1]
    assert container_state(final, "polite")["state"]["terminated"]["exitCode"] == 0
    assert container_state(final, "stubborn")["state"]["terminated"]["exitCode"] == 137  # SIGKILL after the grace
    assert final["status"]["phase"] in ("Failed", "Succeeded")
    assert (out / "polite").read_text() == "got TERM\n"
    assert (out / "stubborn").read_text() == "ignored\n"


async def test_kill9_restart_adopts_running_containers(
        start_kubelet: Callable[..., KubeletProcess], client: rest.Client, namespace: str,
        docker_client: docker.DockerClient) -> None:
    node = start_kubelet()
    pods = Pods(client, namespace, node)
    try:
        keep = await pods.create("keep", [
            {"name": "a", "image": build.BUSYBOX_IMAGE, "command": ["sleep", "3600"]},
            {"name": "b", "image": build.BUSYBOX_IMAGE, "command": ["sleep", "3600"]}],
            terminationGracePeriodSeconds=0)
        gone = await pods.create("gone", [{"name": "a", "image": build.WEB_IMAGE}])
        forced = await pods.create("forced", [{"name": "a", "image": build.WEB_IMAGE}])
        for name in ("keep", "gone", "forced"):
            await pods.wait(name, is_ready, what=f"{name} ready")
        before = {c["Labels"][runtime.CONTAINER_NAME]: c["Id"] for c in node.containers(keep["metadata"]["uid"])}

        node.kill9()
        # While the kubelet is down: one container's spec changes, one pod is deleted
        # gracefully (it waits for the kubelet), one is force-deleted (it is gone at once).
        await client.patch(PODS, "keep", {"spec": {"containers": [
            {"name": "b", "image": build.WEB_IMAGE}]}}, namespace, patch_type=rest.STRATEGIC_PATCH)
        await client.delete(PODS, "gone", namespace)
        await client.delete(PODS, "forced", namespace, grace_period=0)
        assert await pods.get("gone") is not None and await pods.get("forced") is None
        assert node.containers(forced["metadata"]["uid"])

        node.start()
        await procs.wait_for_async(lambda: not node.containers(forced["metadata"]["uid"]), 30,
                                   what="the force-deleted pod's containers removed")
        await procs.wait_for_async(lambda: pods.gone("gone"), 30, what="the deleted pod finally deleted")
        assert not node.containers(gone["metadata"]["uid"])

        pod = await pods.wait("keep", lambda p: container_state(p, "b").get("restartCount") == 1 and is_ready(p),
                              what="b recreated for its new spec")
        after = {c["Labels"][runtime.CONTAINER_NAME]: c["Id"] for c in node.containers(keep["metadata"]["uid"])
                 if c["State"] == "running"}
        assert after["POD"] == before["POD"]
        assert after["a"] == before["a"]  # healthy and unchanged: adopted, not restarted
        assert container_state(pod, "a")["restartCount"] == 0
        assert container_state(pod, "a")["containerID"] == f"docker://{before['a']}"
        assert after["b"] != before["b"]
        b = docker_client.api.inspect_container(after["b"])
        assert b["Config"]["Image"] == build.WEB_IMAGE
        assert b["Config"]["Labels"][runtime.RESTART_COUNT] == "1"
    finally:
        await pods.cleanup()


def nat_postrouting() -> str:
    return subprocess.run(["iptables", "-w", "5", "-t", "nat", "-S", "POSTROUTING"], capture_output=True, text=True,
                          check=True).stdout


def masquerades(cidr: str) -> bool:
    """Whether Docker's `-s <subnet> ! -o <bridge> -j MASQUERADE` rule is there for this subnet."""
    return any(line.startswith(f"-A POSTROUTING -s {cidr} ") and line.endswith("-j MASQUERADE")
               for line in nat_postrouting().splitlines())


async def test_the_pod_network_leaves_masquerading_to_the_network_agent(kubelet: KubeletProcess,
                                                                        docker_client: docker.DockerClient) -> None:
    # Docker's rule sits at the top of POSTROUTING and would hide pods' addresses from
    # pods on other nodes; the network agent masquerades only what leaves the cluster.
    info = docker_client.api.inspect_network(kubelet.network)
    assert info["Options"].get(dockerruntime.MASQUERADE_OPTION) == "false"
    assert not masquerades(kubelet.cidr), nat_postrouting()


async def test_an_unused_pod_network_with_other_masquerading_is_replaced(docker_client: docker.DockerClient) -> None:
    rt = dockerruntime.DockerRuntime("test-masq", host=f"unix://{procs.DOCKER_SOCKET}")
    name = "minik8s-masq-" + uuid.uuid4().hex[:6]
    cidr = unused_pod_cidr(docker_client)
    try:
        await rt.ensure_network(name, cidr, masquerade=True)
        assert masquerades(cidr), nat_postrouting()
        first = docker_client.api.inspect_network(name)["Id"]
        await rt.ensure_network(name, cidr, masquerade=False)
        info = docker_client.api.inspect_network(name)
        assert info["Id"] != first and info["Options"][dockerruntime.MASQUERADE_OPTION] == "false"
        assert not masquerades(cidr), nat_postrouting()
        await rt.ensure_network(name, cidr, masquerade=False)
        assert docker_client.api.inspect_network(name)["Id"] == info["Id"]
    finally:
        await rt.remove_network(name)
        await rt.close()
