"""Init containers, sidecars, lifecycle hooks and grace periods in sync_pod, on the fake runtime."""
from __future__ import annotations

import asyncio
from typing import Any

import pytest

from minik8s.api.kinds import pod as pod_kind
from minik8s.kubelet import kuberuntime
from minik8s.kubelet import objects
from minik8s.kubelet import runtime
from minik8s.kubelet import volumes
from tests.unit.test_kubelet_sync import Env, make_pod

Obj = dict[str, Any]
APP = {"name": "app", "image": "minik8s/busybox:1", "imagePullPolicy": "IfNotPresent"}


def init(name: str, **extra: Any) -> Obj:
    return {"name": name, "image": "minik8s/busybox:1", "imagePullPolicy": "IfNotPresent", **extra}


@pytest.fixture
def env(tmp_path: Any) -> Env:
    return Env(tmp_path)


def started(env: Env) -> list[str]:
    return [c[1] for c in env.rt.calls_of("create_container")]


async def test_init_containers_run_one_after_another(env: Env) -> None:
    pod = make_pod(APP, initContainers=[init("first"), init("second")])
    result = await env.manager.sync_pod(pod)
    assert started(env) == ["first"]
    status = env.status(pod, result.status)
    assert status["phase"] == "Pending"
    assert status["conditions"][0] == {"type": "Initialized", "status": "False", "lastProbeTime": None,
                                       "reason": "ContainersNotInitialized",
                                       "message": "containers with incomplete status: [first second]",
                                       "lastTransitionTime": status["conditions"][0]["lastTransitionTime"]}
    assert [s["state"] for s in status["containerStatuses"]] == [{"waiting": {"reason": "PodInitializing"}}]
    assert pod_kind.pod_summary({**pod, "status": status}).status == "Init:0/2"
    await env.manager.sync_pod(pod)  # still running: nothing new
    assert started(env) == ["first"]
    env.rt.exit(env.running("first").id, 0)
    await env.manager.sync_pod(pod)
    assert started(env) == ["first", "second"]
    env.rt.exit(env.running("second").id, 0)
    result = await env.manager.sync_pod(pod)
    assert started(env) == ["first", "second", "app"]
    status = env.status(pod, result.status)
    assert status["phase"] == "Running" and status["conditions"][0]["status"] == "True"
    assert [s["ready"] for s in status["initContainerStatuses"]] == [True, True]
    assert status["initContainerStatuses"][0]["state"]["terminated"]["reason"] == "Completed"
    assert ("Normal", "Created", "Created container first") in env.events


async def test_failed_init_container_with_restart_never_fails_the_pod(env: Env) -> None:
    pod = make_pod(APP, policy="Never", initContainers=[init("setup")])
    await env.manager.sync_pod(pod)
    env.rt.exit(env.running("setup").id, 3)
    result = await env.manager.sync_pod(pod)
    assert started(env) == ["setup"]
    status = env.status(pod, result.status)
    assert status["phase"] == "Failed"
    assert pod_kind.pod_summary({**pod, "status": status}).status == "Init:Error"


async def test_failed_init_container_restarts_with_back_off(env: Env) -> None:
    pod = make_pod(APP, policy="OnFailure", initContainers=[init("setup")])
    await env.manager.sync_pod(pod)
    env.rt.exit(env.running("setup").id, 1)
    await env.manager.sync_pod(pod)
    assert started(env) == ["setup", "setup"]  # the first crash restarts at once
    env.rt.exit(env.running("setup").id, 1)
    result = await env.manager.sync_pod(pod)
    assert started(env) == ["setup", "setup"] and result.requeue_after is not None
    status = env.status(pod, result.status)
    assert status["initContainerStatuses"][0]["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    assert status["phase"] == "Pending"
    assert pod_kind.pod_summary({**pod, "status": status}).status == "Init:CrashLoopBackOff"
    env.clock.now += 11
    await env.manager.sync_pod(pod)
    assert started(env) == ["setup", "setup", "setup"]


async def test_a_new_sandbox_starts_over_from_the_first_init_container(env: Env) -> None:
    pod = make_pod(APP, initContainers=[init("setup"), init("migrate")])
    await env.manager.sync_pod(pod)
    env.rt.exit(env.running("setup").id, 0)
    await env.manager.sync_pod(pod)
    env.rt.exit(env.running("migrate").id, 0)
    await env.manager.sync_pod(pod)
    env.rt.exit(env.running("POD").id, 0)  # the sandbox died
    await env.manager.sync_pod(pod)
    assert started(env) == ["setup", "migrate", "app", "setup"]
    env.rt.exit(env.running("setup").id, 0)
    await env.manager.sync_pod(pod)  # the old instances were purged: every init container runs again
    assert started(env)[-1] == "migrate"


async def test_sidecar_runs_beside_the_app_and_is_restarted(env: Env) -> None:
    pod = make_pod(APP, initContainers=[init("proxy", restartPolicy="Always"), init("migrate")])
    await env.manager.sync_pod(pod)
    assert started(env) == ["proxy"]
    await env.manager.sync_pod(pod)  # the sidecar runs: the next init container
    assert started(env) == ["proxy", "migrate"]
    env.rt.exit(env.running("migrate").id, 0)
    result = await env.manager.sync_pod(pod)
    assert started(env) == ["proxy", "migrate", "app"]
    status = env.status(pod, result.status)
    assert status["initContainerStatuses"][0]["started"] is True and status["phase"] == "Running"
    env.rt.exit(env.running("proxy").id, 1)
    await env.manager.sync_pod(pod)
    assert started(env)[-1] == "proxy"
    assert env.rt.find("uid-1", "app", runtime.RUNNING)  # the app kept running


async def test_pod_with_finished_app_stops_its_sidecars(env: Env) -> None:
    pod = make_pod(APP, policy="Never", initContainers=[init("proxy", restartPolicy="Always")])
    await env.manager.sync_pod(pod)
    await env.manager.sync_pod(pod)
    env.rt.exit(env.running("app").id, 0)
    result = await env.manager.sync_pod(pod)
    assert not env.rt.find("uid-1", "proxy", runtime.RUNNING)
    assert env.status(pod, result.status)["phase"] == "Succeeded"


async def test_post_start_hook(env: Env) -> None:
    hooked = dict(APP, lifecycle={"postStart": {"exec": {"command": ["sh", "-c", "touch /ready"]}}})
    await env.manager.sync_pod(make_pod(hooked))
    assert ("exec_sync", env.running("app").id, ("sh", "-c", "touch /ready")) in env.rt.calls


async def test_failed_post_start_hook_kills_the_container(env: Env) -> None:
    env.rt.exec_results[("false",)] = runtime.ExecResult(1, b"nope")
    hooked = dict(APP, lifecycle={"postStart": {"exec": {"command": ["false"]}}})
    pod = make_pod(hooked)
    result = await env.manager.sync_pod(pod)
    assert ("Warning", "FailedPostStartHook", "PostStartHook failed") in env.events
    assert not env.rt.find("uid-1", "app", runtime.RUNNING)
    status = env.status(pod, result.status)
    waiting = status["containerStatuses"][0]["state"]["waiting"]
    assert waiting["reason"] == "PostStartHookError" and "exited with 1" in waiting["message"]


async def test_pre_stop_runs_before_sigterm_and_counts_against_the_grace_period(env: Env) -> None:
    hooked = dict(APP, lifecycle={"preStop": {"sleep": {"seconds": 1}}})
    pod = make_pod(hooked)
    pod["spec"]["terminationGracePeriodSeconds"] = 10
    await env.manager.sync_pod(pod)
    cid = env.running("app").id
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    await env.manager.kill_pod(pod, "uid-1", remove=False)
    assert loop.time() - t0 >= 1.0  # the hook ran to its end first
    stops = [c for c in env.rt.calls_of("stop_container") if c[1] == cid]
    assert stops == [("stop_container", cid, 9)]  # 10 s grace, 1 s of it used by the hook


async def test_failed_pre_stop_is_reported_and_the_container_still_stops(env: Env) -> None:
    env.rt.exec_results[("fail",)] = runtime.ExecResult(2, b"")
    hooked = dict(APP, lifecycle={"preStop": {"exec": {"command": ["fail"]}}})
    pod = make_pod(hooked)
    await env.manager.sync_pod(pod)
    await env.manager.kill_pod(pod, "uid-1", remove=False)
    assert ("Warning", "FailedPreStopHook", "PreStopHook failed") in env.events
    assert not env.rt.find("uid-1", "app", runtime.RUNNING)


async def test_pre_stop_longer_than_the_grace_period_is_cut(env: Env) -> None:
    hooked = dict(APP, lifecycle={"preStop": {"sleep": {"seconds": 60}}})
    pod = make_pod(hooked)
    pod["spec"]["terminationGracePeriodSeconds"] = 1
    await env.manager.sync_pod(pod)
    cid = env.running("app").id
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    await env.manager.kill_pod(pod, "uid-1", 1, remove=False)
    assert loop.time() - t0 < 10
    assert [c for c in env.rt.calls_of("stop_container") if c[1] == cid] == \
        [("stop_container", cid, kuberuntime.MIN_GRACE)]


async def test_env_from_a_missing_config_map_waits_with_a_config_error(env: Env) -> None:
    objs = objects.StaticObjectSource()
    env.manager.volumes = volumes.VolumeManager(str(env.tmp), objects=objs)
    c = dict(APP, env=[{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "k"}}}])
    pod = make_pod(c)
    result = await env.manager.sync_pod(pod)
    status = env.status(pod, result.status)
    assert status["containerStatuses"][0]["state"]["waiting"] == {
        "reason": "CreateContainerConfigError", "message": 'configmap "settings" not found'}
    objs.objects[("configmap", "ns", "settings")] = {"data": {"k": "v"}}
    await env.manager.sync_pod(pod)
    assert ("X", "v") in env.running("app").config.env


async def test_config_map_volume_follows_updates_without_restarting(env: Env) -> None:
    objs = objects.StaticObjectSource({("configmap", "ns", "settings"): {"data": {"mode": "fast"}}})
    env.manager.volumes = volumes.VolumeManager(str(env.tmp), objects=objs)
    c = dict(APP, volumeMounts=[{"name": "cfg", "mountPath": "/etc/cfg"}])
    pod = make_pod(c, volumes=[{"name": "cfg", "configMap": {"name": "settings"}}])
    await env.manager.sync_pod(pod)
    first = env.running("app").id
    host = env.running("app").config.mounts[0].host_path
    objs.objects[("configmap", "ns", "settings")] = {"data": {"mode": "slow"}}
    await env.manager.sync_pod(pod)
    assert env.running("app").id == first
    with open(f"{host}/mode", encoding="utf-8") as f:
        assert f.read() == "slow"


async def test_a_sidecar_failing_its_liveness_probe_is_restarted(env: Env) -> None:
    pod = make_pod(APP, initContainers=[init("proxy", restartPolicy="Always",
                                             livenessProbe={"exec": {"command": ["true"]}})])
    await env.manager.sync_pod(pod)
    await env.manager.sync_pod(pod)
    proxy = env.running("proxy")
    env.probes.failures[proxy.id] = "liveness"
    await env.manager.sync_pod(pod)
    assert ("Normal", "Killing", "Init container proxy failed liveness probe, will be restarted") in env.events
    assert env.running("proxy").id != proxy.id and env.rt.find("uid-1", "app", runtime.RUNNING)
