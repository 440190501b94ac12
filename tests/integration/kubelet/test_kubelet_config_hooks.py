"""ConfigMap and Secret volumes and env, downward API, init containers, hooks (real Docker).

The real kubelet process, the real API server and Docker: a pod reading a
ConfigMap volume sees an update without a restart, Secrets reach env and a
tmpfs volume, init containers run in order before the app, a preStop hook runs
before SIGTERM, and a failing postStart hook is reported as Kubernetes does.
"""
from __future__ import annotations

import pathlib
import subprocess

import pytest

from minik8s.api import resources
from minik8s.client import rest
from minik8s.images import build
from minik8s.util import procs
from tests.integration.kubelet.conftest import KubeletProcess, Pods, container_state, is_ready

pytestmark = [pytest.mark.docker, pytest.mark.integration]

CONFIGMAPS = resources.must("", "v1", "configmaps")
SECRETS = resources.must("", "v1", "secrets")
EVENTS = resources.must("", "v1", "events")


def docker_exec(kubelet: KubeletProcess, uid: str, container: str, *cmd: str) -> str:
    [c] = [c for c in kubelet.containers(uid) if c["Labels"].get("io.kubernetes.container.name") == container
           and c["State"] == "running"]
    out = subprocess.run(["docker", "exec", c["Id"], *cmd], capture_output=True, text=True, timeout=30)
    return out.stdout


async def reasons(client: rest.Client, namespace: str, name: str) -> list[str]:
    body = await client.list(EVENTS, namespace, field_selector=f"involvedObject.name={name}")
    return [e.get("reason", "") for e in body.get("items") or []]


async def test_config_map_volume_follows_an_update(pods: Pods, kubelet: KubeletProcess, client: rest.Client,
                                                   namespace: str) -> None:
    await client.create(CONFIGMAPS, {"metadata": {"name": "settings"}, "data": {"mode": "fast"}}, namespace)
    pod = await pods.create("reader", [{"name": "app", "image": build.BUSYBOX_IMAGE,
                                        "command": ["sh", "-c", "sleep 3600"],
                                        "volumeMounts": [{"name": "cfg", "mountPath": "/etc/cfg"}]}],
                            volumes=[{"name": "cfg", "configMap": {"name": "settings"}}])
    uid = pod["metadata"]["uid"]
    await pods.wait("reader", is_ready, what="reader ready")
    assert docker_exec(kubelet, uid, "app", "cat", "/etc/cfg/mode") == "fast"
    first = container_state(await pods.get("reader") or {}, "app")["containerID"]
    cm = await client.get(CONFIGMAPS, "settings", namespace)
    cm["data"] = {"mode": "slow", "extra": "1"}
    await client.update(CONFIGMAPS, cm)
    # The kubelet's watch on this one ConfigMap wakes the pod; well within a minute.
    await procs.wait_for_async(lambda: docker_exec(kubelet, uid, "app", "cat", "/etc/cfg/mode") == "slow", 60,
                               interval=0.5, what="the updated ConfigMap in the volume")
    assert docker_exec(kubelet, uid, "app", "cat", "/etc/cfg/extra") == "1"
    assert container_state(await pods.get("reader") or {}, "app")["containerID"] == first  # not restarted


async def test_secret_env_and_volume_downward_api(pods: Pods, kubelet: KubeletProcess, client: rest.Client,
                                                  namespace: str) -> None:
    await client.create(SECRETS, {"metadata": {"name": "creds"}, "stringData": {"password": "s3cret"}}, namespace)
    await client.create(CONFIGMAPS, {"metadata": {"name": "env"}, "data": {"LEVEL": "3", "1bad": "x"}}, namespace)
    pod = await pods.create("secretive", [{
        "name": "app", "image": build.BUSYBOX_IMAGE, "command": ["sh", "-c", "sleep 3600"],
        "resources": {"limits": {"memory": "64Mi"}},
        "env": [{"name": "PASSWORD", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "password"}}},
                {"name": "MEM_MI", "valueFrom": {"resourceFieldRef": {"resource": "limits.memory",
                                                                      "divisor": "1Mi"}}},
                {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}}],
        "envFrom": [{"configMapRef": {"name": "env"}, "prefix": "APP_"}],
        "volumeMounts": [{"name": "creds", "mountPath": "/secrets", "readOnly": True},
                         {"name": "info", "mountPath": "/info"}]}],
        volumes=[{"name": "creds", "secret": {"secretName": "creds", "defaultMode": 0o400}},
                 {"name": "info", "downwardAPI": {"items": [{"path": "labels",
                                                            "fieldRef": {"fieldPath": "metadata.labels"}}]}}])
    uid = pod["metadata"]["uid"]
    ready = await pods.wait("secretive", is_ready, what="secretive ready")
    env = docker_exec(kubelet, uid, "app", "env")
    assert "PASSWORD=s3cret" in env and "MEM_MI=64" in env and "APP_LEVEL=3" in env
    assert f"POD_IP={ready['status']['podIP']}" in env
    # Kubernetes 1.32 relaxed env var names (RelaxedEnvironmentVariableValidation): kept.
    assert "APP_1bad=x" in env
    assert docker_exec(kubelet, uid, "app", "cat", "/secrets/password") == "s3cret"
    assert docker_exec(kubelet, uid, "app", "stat", "-L", "-c", "%a", "/secrets/password").strip() == "400"
    assert "tmpfs" in docker_exec(kubelet, uid, "app", "sh", "-c", "grep ' /secrets ' /proc/mounts")
    assert docker_exec(kubelet, uid, "app", "cat", "/info/labels") == ""  # a pod without labels
    assert "InvalidEnvironmentVariableNames" not in await reasons(client, namespace, "secretive")


async def _has(client: rest.Client, namespace: str, name: str, reason: str) -> bool:
    return reason in await reasons(client, namespace, name)


async def test_missing_config_map_waits_then_starts(pods: Pods, client: rest.Client, namespace: str) -> None:
    await pods.create("waiting", [{"name": "app", "image": build.BUSYBOX_IMAGE, "command": ["sleep", "3600"],
                                   "env": [{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "late",
                                                                                           "key": "k"}}}]}])
    pod = await pods.wait("waiting", lambda p: (container_state(p, "app").get("state") or {}).get("waiting", {})
                          .get("reason") == "CreateContainerConfigError", what="CreateContainerConfigError")
    assert container_state(pod, "app")["state"]["waiting"]["message"] == 'configmap "late" not found'
    await client.create(CONFIGMAPS, {"metadata": {"name": "late"}, "data": {"k": "v"}}, namespace)
    await pods.wait("waiting", is_ready, timeout=60, what="started once the ConfigMap exists")


async def test_init_containers_run_in_order_before_the_app(pods: Pods, kubelet: KubeletProcess) -> None:
    # Each one appends its name: the file's order is the order they ran in (busybox's date has no %N).
    step = 'echo "$0" >> /work/order'
    pod = await pods.create("ordered", [
        {"name": "app", "image": build.BUSYBOX_IMAGE, "command": ["sh", "-c", f"{step}; sleep 3600", "app"],
         "volumeMounts": [{"name": "work", "mountPath": "/work"}]}],
        initContainers=[
            {"name": "first", "image": build.BUSYBOX_IMAGE, "command": ["sh", "-c", f"sleep 1; {step}", "first"],
             "volumeMounts": [{"name": "work", "mountPath": "/work"}]},
            {"name": "second", "image": build.BUSYBOX_IMAGE, "command": ["sh", "-c", step, "second"],
             "volumeMounts": [{"name": "work", "mountPath": "/work"}]}],
        volumes=[{"name": "work", "emptyDir": {}}])
    seen = set()

    def record(p: dict) -> bool:
        summary = [s.get("state", {}) for s in (p.get("status") or {}).get("initContainerStatuses") or []]
        seen.add(str([list(s)[0] if s else "" for s in summary]))
        return is_ready(p)

    ready = await pods.wait("ordered", record, what="ordered ready")
    lines = docker_exec(kubelet, pod["metadata"]["uid"], "app", "cat", "/work/order").split("\n")
    assert [line.split()[0] for line in lines if line] == ["first", "second", "app"]
    inits = ready["status"]["initContainerStatuses"]
    assert [s["state"]["terminated"]["reason"] for s in inits] == ["Completed", "Completed"]
    assert {"type": "Initialized", "status": "True"}.items() <= \
        next(c for c in ready["status"]["conditions"] if c["type"] == "Initialized").items()


async def test_pre_stop_runs_before_sigterm(pods: Pods, tmp_path: pathlib.Path) -> None:
    out = tmp_path / "hooks"
    out.mkdir()
    await pods.create("stopping", [{
        "name": "app", "image": build.BUSYBOX_IMAGE,
        "command": ["sh", "-c", "trap 'echo term >> /out/log; exit 0' TERM; while true; do sleep 0.1; done"],
        "lifecycle": {"preStop": {"exec": {"command": ["sh", "-c", "echo prestop >> /out/log"]}},
                      "postStart": {"exec": {"command": ["sh", "-c", "echo poststart >> /out/log"]}}},
        "volumeMounts": [{"name": "out", "mountPath": "/out"}]}],
        volumes=[{"name": "out", "hostPath": {"path": str(out)}}], terminationGracePeriodSeconds=10)
    await pods.wait("stopping", is_ready, what="stopping ready")
    await pods.client.delete(resources.must("", "v1", "pods"), "stopping", pods.namespace)
    await procs.wait_for_async(lambda: pods.gone("stopping"), 30, interval=0.2, what="stopping deleted")
    assert (out / "log").read_text().split() == ["poststart", "prestop", "term"]


async def test_failed_post_start_hook(pods: Pods, client: rest.Client, namespace: str) -> None:
    await pods.create("hooked", [{"name": "app", "image": build.BUSYBOX_IMAGE, "command": ["sleep", "3600"],
                                  "lifecycle": {"postStart": {"exec": {"command": ["sh", "-c", "exit 3"]}}}}])
    await procs.wait_for_async(lambda: _has(client, namespace, "hooked", "FailedPostStartHook"), 30,
                               what="the FailedPostStartHook event")
    def failed_hook(p: dict) -> bool:
        state = container_state(p, "app")
        waiting = (state.get("state") or {}).get("waiting") or {}
        return waiting.get("reason") in ("PostStartHookError", "CrashLoopBackOff") or \
            state.get("restartCount", 0) >= 1
    pod = await pods.wait("hooked", failed_hook, what="the container killed for its hook")
    assert not is_ready(pod)


async def test_memory_empty_dir_is_a_tmpfs(pods: Pods, kubelet: KubeletProcess) -> None:
    pod = await pods.create("ram", [{"name": "app", "image": build.BUSYBOX_IMAGE, "command": ["sleep", "3600"],
                                     "volumeMounts": [{"name": "scratch", "mountPath": "/scratch"}]}],
                            volumes=[{"name": "scratch", "emptyDir": {"medium": "Memory", "sizeLimit": "8Mi"}}])
    await pods.wait("ram", is_ready, what="ram ready")
    df = docker_exec(kubelet, pod["metadata"]["uid"], "app", "df", "-k", "/scratch")
    assert "tmpfs" in df and " 8192 " in df
