"""The node, graceful deletion, and a kubelet killed with SIGKILL coming back (real Docker)."""
from __future__ import annotations

import asyncio
import pathlib
from typing import Any, Callable

import docker
import pytest

from minik8s.api import resources
from minik8s.client import rest
from minik8s.images import build
from minik8s.kubelet import runtime
from minik8s.util import procs
from tests import conftest as root
from tests.integration.kubelet.conftest import KubeletProcess, Pods, container_state, is_ready, remove_containers

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


async def test_pod_addresses_come_from_cni_and_are_released_with_the_pod(
        pods: Pods, kubelet: KubeletProcess, docker_client: docker.DockerClient) -> None:
    pod = await pods.create("addr", [{"name": "app", "image": build.BUSYBOX_IMAGE, "command": ["sleep", "3600"]}])
    uid = pod["metadata"]["uid"]
    pod = await pods.wait("addr", is_ready, what="addr ready")
    ip = pod["status"]["podIP"]
    sandbox = next(c for c in kubelet.containers(uid) if c["Labels"][runtime.CONTAINER_NAME] == "POD")
    # Docker gives the sandbox no network of its own; the address is host-local's, held for it.
    assert docker_client.api.inspect_container(sandbox["Id"])["HostConfig"]["NetworkMode"] == "none"
    assert kubelet.reserved().get(ip) == sandbox["Id"]
    # Inside the pod: the address on eth0, and the kubelet's hosts file naming it.
    app = next(c for c in kubelet.containers(uid) if c["Labels"][runtime.CONTAINER_NAME] == "app")
    out = docker_client.api.exec_start(docker_client.api.exec_create(
        app["Id"], ["sh", "-c", "ip -4 -o addr show eth0; cat /etc/hosts"])).decode()
    assert f"inet {ip}/24" in out and f"{ip}\taddr" in out

    await client_delete(pods, "addr")
    await procs.wait_for_async(lambda: not kubelet.containers(uid), 30, what="containers removed")
    assert ip not in kubelet.reserved(), "the address is released with the pod"


async def client_delete(pods: Pods, name: str) -> None:
    await pods.client.delete(PODS, name, pods.namespace)


async def test_addresses_of_sandboxes_gone_while_the_kubelet_was_down_are_released(
        start_kubelet: Callable[..., KubeletProcess], client: rest.Client, namespace: str,
        docker_client: docker.DockerClient) -> None:
    """A crash (the kubelet SIGKILLed, a pod's containers removed behind its back, as a
    power-off would) leaks no address: the restarted kubelet's garbage collection releases
    it, and no address still held by a live sandbox is handed out again."""
    node = start_kubelet()
    pods = Pods(client, namespace, node)
    try:
        await pods.create("lost", [{"name": "a", "image": build.BUSYBOX_IMAGE, "command": ["sleep", "3600"]}],
                          terminationGracePeriodSeconds=0)
        await pods.create("kept", [{"name": "a", "image": build.BUSYBOX_IMAGE, "command": ["sleep", "3600"]}],
                          terminationGracePeriodSeconds=0)
        lost = await pods.wait("lost", is_ready, what="lost ready")
        kept = await pods.wait("kept", is_ready, what="kept ready")
        lost_ip, kept_ip = lost["status"]["podIP"], kept["status"]["podIP"]
        node.kill9()
        old = node.containers(lost["metadata"]["uid"])
        remove_containers(docker_client, old)
        assert node.reserved().get(lost_ip) in {c["Id"] for c in old}, "still held by the gone sandbox"

        node.start()
        relaunched = await pods.wait("lost", lambda p: is_ready(p) and p["status"].get("podIP")
                                     and p["status"]["podIP"] != lost_ip, what="lost recreated")
        new_ip = relaunched["status"]["podIP"]
        await procs.wait_for_async(lambda: lost_ip not in node.reserved(), 30, what="the gone sandbox's address freed")
        reserved = node.reserved()
        assert new_ip != kept_ip and reserved[kept_ip] != reserved[new_ip]
        assert (await pods.get("kept"))["status"]["podIP"] == kept_ip, "the live pod kept its address"
    finally:
        await pods.cleanup()
