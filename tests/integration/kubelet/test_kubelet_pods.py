"""Pods made real on Docker: the sandbox, joined containers, the spec in docker inspect,
restart policies with back-off, and image pull failures."""
from __future__ import annotations

import pathlib
from typing import Any

import ipaddress

import docker
import pytest

from minik8s.api import resources
from minik8s.images import build
from minik8s.kubelet import runtime
from minik8s.util import procs
from tests.integration.kubelet.conftest import KubeletProcess, Pods, container_state, is_ready
from tests import conftest as root

pytestmark = [pytest.mark.docker, pytest.mark.integration]

BUSYBOX, WEB = build.BUSYBOX_IMAGE, build.WEB_IMAGE
PODS = resources.must("", "v1", "pods")


def by_name(node: KubeletProcess, uid: str) -> dict[str, dict[str, Any]]:
    return {c["Labels"][runtime.CONTAINER_NAME]: c for c in node.containers(uid) if c["State"] == "running"}


async def test_two_containers_share_localhost_and_the_pod_ip(pods: Pods, kubelet: KubeletProcess,
                                                              docker_client: docker.DockerClient) -> None:
    pod = await pods.create("duo", [
        {"name": "web", "image": WEB, "ports": [{"containerPort": 80}]},
        {"name": "client", "image": BUSYBOX, "command": ["sh", "-c",
         "until wget -qO /tmp/page http://localhost:80/ 2>/dev/null; do sleep 0.2; done; "
         "cat /tmp/page; hostname; sleep 3600"]},
    ])
    uid = pod["metadata"]["uid"]
    pod = await pods.wait("duo", lambda p: p["status"].get("phase") == "Running" and is_ready(p), what="duo ready")

    running = by_name(kubelet, uid)
    assert set(running) == {"POD", "web", "client"}
    pause = docker_client.api.inspect_container(running["POD"]["Id"])
    # The pod IP is the one the CNI plugins gave the sandbox (host-local holds it for it).
    assert kubelet.reserved()[pod["status"]["podIP"]] == running["POD"]["Id"]
    assert ipaddress.ip_address(pod["status"]["podIP"]) in ipaddress.ip_network(kubelet.cidr)
    assert pause["Config"]["Hostname"] == "duo"
    for name in ("web", "client"):
        info = docker_client.api.inspect_container(running[name]["Id"])
        assert info["HostConfig"]["NetworkMode"] == f"container:{running['POD']['Id']}"
        assert info["HostConfig"]["IpcMode"] == f"container:{running['POD']['Id']}"

    # The client reached the web server over localhost, and its hostname is the pod's name.
    def client_output() -> str:
        return docker_client.api.logs(running["client"]["Id"]).decode()
    out = await procs.wait_for_async(lambda: "duo\nduo" in client_output() and client_output(), 30,
                                     what="the client's output")
    assert out.split() == ["duo", "duo"]  # web answers / with its hostname; then `hostname`

    cs = container_state(pod, "web")
    assert cs["containerID"] == f"docker://{running['web']['Id']}"
    assert cs["ready"] and cs["started"] and cs["restartCount"] == 0 and "running" in cs["state"]
    assert cs["imageID"].startswith("docker://sha256:")
    assert pod["status"]["hostIP"] == "127.0.0.1" and pod["status"]["startTime"]
    assert {c["type"] for c in pod["status"]["conditions"]} >= {"PodScheduled", "Initialized", "ContainersReady",
                                                               "Ready"}
    assert pod["status"]["qosClass"] == "BestEffort"


async def test_env_limits_and_volumes_show_in_docker_inspect(pods: Pods, kubelet: KubeletProcess,
                                                             docker_client: docker.DockerClient,
                                                             tmp_path: pathlib.Path) -> None:
    host_dir = tmp_path / "hostdir"
    host_dir.mkdir()
    (host_dir / "hello").write_text("from the host\n")
    host_port = procs.free_port()
    pod = await pods.create("inspect", [{
        "name": "app", "image": WEB, "workingDir": "/tmp",
        "ports": [{"containerPort": 80, "hostPort": host_port, "hostIP": "127.0.0.1"}],
        "env": [{"name": "GREETING", "value": "hi"},
                {"name": "MY_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                {"name": "MY_NS", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
                {"name": "MY_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
                {"name": "MY_NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}],
        "resources": {"limits": {"cpu": 0.3, "memory": "400Mi"}, "requests": {"cpu": 0.3, "memory": "300Mi"}},
        "volumeMounts": [{"name": "scratch", "mountPath": "/scratch"},
                         {"name": "host", "mountPath": "/host", "readOnly": True}]}],
        volumes=[{"name": "scratch", "emptyDir": {}},
                 {"name": "host", "hostPath": {"path": str(host_dir), "type": "Directory"}}])
    uid = pod["metadata"]["uid"]
    pod = await pods.wait("inspect", is_ready, what="inspect ready")
    app = by_name(kubelet, uid)["app"]
    info = docker_client.api.inspect_container(app["Id"])
    hc = info["HostConfig"]
    assert (hc["CpuQuota"], hc["CpuPeriod"], hc["CpuShares"], hc["Memory"]) == (30000, 100000, 307, 400 * 2 ** 20)
    env = dict(e.split("=", 1) for e in info["Config"]["Env"])
    assert env["GREETING"] == "hi" and env["MY_NAME"] == "inspect" and env["MY_NS"] == pods.namespace
    assert env["MY_IP"] == pod["status"]["podIP"] and env["MY_NODE"] == kubelet.node
    assert info["Config"]["WorkingDir"] == "/tmp"
    empty_dir = kubelet.root / "pods" / uid / "volumes" / "kubernetes.io~empty-dir" / "scratch"
    # ServiceAccount admission's token volume, written by the kubelet, read-only where clients look.
    token_volume = next(v["name"] for v in pod["spec"]["volumes"] if v["name"].startswith("kube-api-access-"))
    projected = kubelet.root / "pods" / uid / "volumes" / "kubernetes.io~projected" / token_volume
    assert sorted(hc["Binds"]) == sorted([f"{empty_dir}:/scratch:rw", f"{host_dir}:/host:ro",
                                          f"{projected}:/var/run/secrets/kubernetes.io/serviceaccount:ro"])
    assert sorted(p.name for p in projected.iterdir() if not p.name.startswith("..")) == ["ca.crt", "namespace", "token"]
    assert (projected / "namespace").read_text() == pods.namespace
    assert (projected / "ca.crt").read_text() == root.test_pki().ca.cert_pem.decode()
    # The API server's Service, in every container's environment.
    assert env["KUBERNETES_SERVICE_HOST"] == "10.96.0.1" and env["KUBERNETES_SERVICE_PORT"] == "443"
    assert env["KUBERNETES_PORT_443_TCP"] == "tcp://10.96.0.1:443"
    labels = info["Config"]["Labels"]
    assert labels[runtime.POD_NAME] == "inspect" and labels[runtime.POD_NAMESPACE] == pods.namespace
    assert labels[runtime.POD_UID] == uid and labels[runtime.CONTAINER_NAME] == "app"
    assert labels[runtime.RESTART_COUNT] == "0" and labels[runtime.CONTAINER_HASH]
    assert pod["status"]["qosClass"] == "Burstable"

    # readOnly is honoured, the emptyDir is writable and shared with the host directory tree.
    exec_id = docker_client.api.exec_create(app["Id"], ["sh", "-c", "cat /host/hello; touch /host/x || echo ro; "
                                                         "echo data > /scratch/f"])
    out = docker_client.api.exec_start(exec_id).decode()
    assert "from the host" in out and "ro" in out
    assert (empty_dir / "f").read_text() == "data\n"
    # The hostPort is published on the sandbox (CNI's portmap).
    with procs.LOOPBACK_OPENER.open(f"http://127.0.0.1:{host_port}/", timeout=5) as resp:
        assert resp.read().decode().strip() == "inspect"

    # Deleting the pod removes its containers and its emptyDir.
    await pods.client.delete(PODS, "inspect", pods.namespace)
    await procs.wait_for_async(lambda: not kubelet.containers(uid), 30, what="containers removed")
    # Then the volumes (the token's tmpfs unmounted first).
    await procs.wait_for_async(lambda: not (kubelet.root / "pods" / uid).exists(), 30, what="volumes removed")


async def test_crash_loop_backs_off_and_counts_restarts(pods: Pods) -> None:
    await pods.create("crash", [{"name": "c", "image": BUSYBOX, "command": ["sh", "-c", "echo run; exit 3"]}])
    pod = await pods.wait("crash", lambda p: container_state(p, "c").get("restartCount", 0) >= 2 and
                          (container_state(p, "c").get("state") or {}).get("waiting", {}).get("reason")
                          == "CrashLoopBackOff", what="CrashLoopBackOff after restarts")
    cs = container_state(pod, "c")
    assert cs["lastState"]["terminated"]["exitCode"] == 3
    assert cs["lastState"]["terminated"]["reason"] == "Error"
    assert "back-off" in cs["state"]["waiting"]["message"]
    assert pod["status"]["phase"] == "Running"
    # Restarts keep coming (the back-off is short in tests) and the count keeps growing.
    seen = cs["restartCount"]
    await pods.wait("crash", lambda p: container_state(p, "c")["restartCount"] > seen, what="one more restart")


@pytest.mark.parametrize("policy, command, phase", [
    ("Never", "exit 0", "Succeeded"),
    ("Never", "exit 1", "Failed"),
    ("OnFailure", "exit 0", "Succeeded"),
])
async def test_restart_policies_end_the_pod(pods: Pods, kubelet: KubeletProcess, policy: str, command: str,
                                            phase: str) -> None:
    pod = await pods.create("once", [{"name": "c", "image": BUSYBOX, "command": ["sh", "-c", command]}],
                            restartPolicy=policy)
    pod = await pods.wait("once", lambda p: p["status"].get("phase") == phase, what=f"phase {phase}")
    cs = container_state(pod, "c")
    assert cs["restartCount"] == 0 and "terminated" in cs["state"]
    # The sandbox is stopped; the exited container stays for its logs.
    uid = pod["metadata"]["uid"]
    await procs.wait_for_async(lambda: all(c["State"] != "running" for c in kubelet.containers(uid)), 30,
                               what="the sandbox to stop")


async def test_on_failure_restarts_a_failed_container(pods: Pods) -> None:
    await pods.create("retry", [{"name": "c", "image": BUSYBOX, "command": ["sh", "-c", "exit 1"]}],
                      restartPolicy="OnFailure")
    await pods.wait("retry", lambda p: container_state(p, "c").get("restartCount", 0) >= 1, what="a restart")


async def test_failed_pulls_and_pull_policies(pods: Pods) -> None:
    await pods.create("pulls", [
        {"name": "remote", "image": "127.0.0.1:5999/nope:1"},
        {"name": "never", "image": "minik8s/not-built:1", "imagePullPolicy": "Never"},
    ])
    reasons: set[str] = set()

    def collect(p: dict[str, Any]) -> bool:
        reasons.add((container_state(p, "remote").get("state") or {}).get("waiting", {}).get("reason", ""))
        return {"ErrImagePull", "ImagePullBackOff"} <= reasons
    pod = await pods.wait("pulls", collect, what="ErrImagePull and then ImagePullBackOff")
    never = container_state(pod, "never")["state"]["waiting"]
    assert never == {"reason": "ErrImageNeverPull",
                     "message": 'Container image "minik8s/not-built:1" is not present with pull policy of Never'}
    remote = container_state(pod, "remote")
    assert remote["restartCount"] == 0 and not remote["ready"]
    assert pod["status"]["phase"] == "Pending"
