"""Liveness restarts a container, readiness drives the pod's Ready condition (real Docker)."""
from __future__ import annotations

from typing import Any

import docker
import pytest

from minik8s.api import resources
from minik8s.client import rest
from minik8s.images import build
from minik8s.kubelet import runtime
from minik8s.util import procs
from tests.integration.kubelet.conftest import KubeletProcess, Pods, container_state, is_ready

pytestmark = [pytest.mark.docker, pytest.mark.integration]

EVENTS = resources.must("", "v1", "events")


def web_container(uid: str, kubelet: KubeletProcess) -> str:
    for c in kubelet.containers(uid):
        if c["Labels"][runtime.CONTAINER_NAME] == "web" and c["State"] == "running":
            return str(c["Id"])
    raise AssertionError("web is not running")


def docker_exec(docker_client: docker.DockerClient, cid: str, *cmd: str) -> None:
    exec_id = docker_client.api.exec_create(cid, list(cmd))
    docker_client.api.exec_start(exec_id)
    assert docker_client.api.exec_inspect(exec_id)["ExitCode"] == 0


async def events_of(client: rest.Client, namespace: str, name: str) -> list[dict[str, Any]]:
    body = await client.list(EVENTS, namespace, field_selector=f"involvedObject.name={name}")
    return body.get("items") or []


async def test_failed_liveness_probe_restarts_the_container(pods: Pods, kubelet: KubeletProcess,
                                                             docker_client: docker.DockerClient) -> None:
    pod = await pods.create("live", [{
        "name": "web", "image": build.WEB_IMAGE,
        "livenessProbe": {"httpGet": {"path": "/cgi-bin/healthz", "port": 80}, "periodSeconds": 1,
                          "failureThreshold": 2}}])
    uid = pod["metadata"]["uid"]
    pod = await pods.wait("live", is_ready, what="live ready")
    first = container_state(pod, "web")["containerID"]
    docker_exec(docker_client, web_container(uid, kubelet), "touch", "/tmp/unhealthy")

    pod = await pods.wait("live", lambda p: container_state(p, "web").get("restartCount") == 1 and
                          "running" in container_state(p, "web")["state"], what="a liveness restart")
    cs = container_state(pod, "web")
    assert cs["containerID"] != first
    assert cs["lastState"]["terminated"]["containerID"] == first

    async def recorded() -> bool:
        reasons = {(e["reason"], e["message"]) for e in await events_of(pods.client, pods.namespace, "live")}
        return ("Killing", "Container web failed liveness probe, will be restarted") in reasons and \
            ("Unhealthy", "Liveness probe failed: HTTP probe failed with statuscode: 500") in reasons
    await procs.wait_for_async(recorded, 30, what="Killing and Unhealthy events")


async def test_readiness_probe_drives_ready(pods: Pods, kubelet: KubeletProcess,
                                            docker_client: docker.DockerClient) -> None:
    pod = await pods.create("ready", [{
        "name": "web", "image": build.WEB_IMAGE,
        "readinessProbe": {"httpGet": {"path": "/cgi-bin/readyz", "port": 80}, "periodSeconds": 1,
                           "failureThreshold": 1}}])
    uid = pod["metadata"]["uid"]
    await pods.wait("ready", is_ready, what="ready")
    cid = web_container(uid, kubelet)
    docker_exec(docker_client, cid, "touch", "/tmp/unready")
    pod = await pods.wait("ready", lambda p: not is_ready(p), what="not ready")
    cs = container_state(pod, "web")
    assert not cs["ready"] and cs["restartCount"] == 0 and "running" in cs["state"]
    ready = [c for c in pod["status"]["conditions"] if c["type"] == "Ready"][0]
    assert ready["reason"] == "ContainersNotReady"
    docker_exec(docker_client, cid, "rm", "/tmp/unready")
    pod = await pods.wait("ready", is_ready, what="ready again")
    assert container_state(pod, "web")["containerID"] == f"docker://{cid}"


async def test_exec_and_tcp_probes(pods: Pods) -> None:
    await pods.create("handlers", [{
        "name": "web", "image": build.WEB_IMAGE,
        "startupProbe": {"exec": {"command": ["test", "-f", "/start.sh"]}, "periodSeconds": 1},
        "readinessProbe": {"tcpSocket": {"port": 80}, "periodSeconds": 1},
        "livenessProbe": {"exec": {"command": ["true"]}, "periodSeconds": 1}}])
    pod = await pods.wait("handlers", is_ready, what="started and ready")
    cs = container_state(pod, "web")
    assert cs["started"] and cs["ready"] and cs["restartCount"] == 0
