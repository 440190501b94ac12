"""sync_pod decisions, driven against the recording fake runtime."""
from __future__ import annotations

import copy
from typing import Any

import pytest

from minik8s.kubelet import backoff
from minik8s.kubelet import fakeruntime
from minik8s.kubelet import kuberuntime
from minik8s.kubelet import runtime
from minik8s.kubelet import status as status_mod
from minik8s.kubelet import volumes

NODE = "fake-node"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Probes:
    def __init__(self) -> None:
        self.failures: dict[str, str] = {}

    def failed(self, uid: str, name: str, cid: str) -> str | None:
        return self.failures.get(cid)


def make_pod(*containers: dict[str, Any], policy: str = "Always", uid: str = "uid-1", **spec: Any) -> dict[str, Any]:
    if not containers:
        containers = ({"name": "app", "image": "minik8s/busybox:1", "imagePullPolicy": "IfNotPresent"},)
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "p", "namespace": "ns", "uid": uid},
            "spec": {"nodeName": NODE, "restartPolicy": policy, "terminationGracePeriodSeconds": 5,
                     "containers": [dict(c) for c in containers], **spec}}


class Env:
    def __init__(self, tmp_path: Any) -> None:
        self.clock = Clock()
        self.rt = fakeruntime.FakeRuntime(NODE, clock=self.clock)
        self.probes = Probes()
        self.events: list[tuple[str, str, str]] = []
        self.tmp = tmp_path
        self.manager = self.new_manager()

    def new_manager(self) -> kuberuntime.RuntimeManager:
        return kuberuntime.RuntimeManager(
            self.rt, node_name=NODE, network="pods", host_ip="192.0.2.10",
            volumes=volumes.VolumeManager(str(self.tmp)), probes=self.probes,
            record=lambda pod, type_, reason, msg, fp: self.events.append((type_, reason, msg)),
            crash_backoff=backoff.Backoff(10, 300, self.clock), image_backoff=backoff.Backoff(10, 300, self.clock),
            clock=self.clock)

    def status(self, pod: dict[str, Any], rs: runtime.PodRuntimeStatus) -> dict[str, Any]:
        uid = pod["metadata"]["uid"]
        return status_mod.generate_api_pod_status(
            pod, rs, old=None, reasons=self.manager.reasons_for(uid), ready=lambda n, c: True,
            started=lambda n, c: True, host_ip="192.0.2.10", now=self.clock())

    def mutations(self) -> list[tuple[Any, ...]]:
        return [c for c in self.rt.calls if c[0] != "exec_sync"]

    def running(self, name: str, uid: str = "uid-1") -> fakeruntime.FakeContainer:
        found = self.rt.find(uid, name, runtime.RUNNING)
        assert found, f"no running {name}"
        return found[0]


@pytest.fixture
def env(tmp_path: Any) -> Env:
    return Env(tmp_path)


async def test_new_pod_gets_a_sandbox_then_its_containers(env: Env) -> None:
    pod = make_pod({"name": "a", "image": "minik8s/web:1"}, {"name": "b", "image": "minik8s/busybox:1"})
    result = await env.manager.sync_pod(pod)

    methods = [c[0] for c in env.rt.calls]
    assert methods[0] == "run_sandbox"
    assert sorted(c[1] for c in env.rt.calls_of("create_container")) == ["a", "b"]
    assert len(env.rt.calls_of("start_container")) == 2
    sandbox = env.running("POD")
    for name in ("a", "b"):
        c = env.running(name)
        assert c.labels[runtime.POD_UID] == "uid-1"
        assert c.labels[runtime.CONTAINER_NAME] == name
        assert c.labels[runtime.RESTART_COUNT] == "0"
        assert c.labels[runtime.SANDBOX_ID] == sandbox.id
        assert c.labels[runtime.NODE] == NODE
        assert c.labels[runtime.CONTAINER_HASH] == runtime.hash_container(pod["spec"]["containers"][0 if name == "a" else 1])
        assert c.config.sandbox_id == sandbox.id
    assert result.requeue_after is None
    status = env.status(pod, result.status)
    assert status["phase"] == "Running"
    assert status["podIP"] == sandbox.ip
    assert ("Normal", "Started", "Started container a") in env.events


async def test_a_healthy_pod_is_left_alone(env: Env) -> None:
    pod = make_pod()
    await env.manager.sync_pod(pod)
    env.rt.calls.clear()
    await env.manager.sync_pod(pod)
    assert env.mutations() == []


async def test_crashed_container_restarts_with_exponential_backoff(env: Env) -> None:
    pod = make_pod()
    await env.manager.sync_pod(pod)
    env.rt.exit(env.running("app").id, 1)

    # The first crash is restarted at once.
    await env.manager.sync_pod(pod)
    assert env.running("app").labels[runtime.RESTART_COUNT] == "1"

    # The second waits out the back-off.
    env.rt.exit(env.running("app").id, 1)
    env.rt.calls.clear()
    result = await env.manager.sync_pod(pod)
    assert env.rt.calls_of("create_container") == []
    assert result.requeue_after == pytest.approx(10)
    status = env.status(pod, result.status)
    cs = status["containerStatuses"][0]
    assert cs["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    assert "back-off 10s restarting failed container=app" in cs["state"]["waiting"]["message"]
    assert cs["lastState"]["terminated"]["exitCode"] == 1
    assert cs["restartCount"] == 1
    assert status["phase"] == "Running"
    assert ("Warning", "BackOff", "Back-off restarting failed container app in pod p_ns(uid-1)") in env.events

    env.clock.now += 10
    await env.manager.sync_pod(pod)
    assert env.running("app").labels[runtime.RESTART_COUNT] == "2"
    # ... and the next back-off is twice as long.
    env.rt.exit(env.running("app").id, 1)
    result = await env.manager.sync_pod(pod)
    assert result.requeue_after == pytest.approx(20)


async def test_restart_policy_never_leaves_a_finished_pod_stopped(env: Env) -> None:
    pod = make_pod(policy="Never")
    await env.manager.sync_pod(pod)
    env.rt.exit(env.running("app").id, 2)
    result = await env.manager.sync_pod(pod)
    assert env.rt.calls_of("create_container") == [("create_container", "app", 0)]
    assert env.rt.find("uid-1", "POD", runtime.RUNNING) == []  # the sandbox was stopped too
    assert env.status(pod, result.status)["phase"] == "Failed"
    env.rt.calls.clear()
    await env.manager.sync_pod(pod)
    assert env.rt.calls_of("run_sandbox") == [] and env.rt.calls_of("create_container") == []


async def test_restart_policy_on_failure(env: Env) -> None:
    pod = make_pod(policy="OnFailure")
    await env.manager.sync_pod(pod)
    env.rt.exit(env.running("app").id, 1)
    await env.manager.sync_pod(pod)
    assert env.running("app").labels[runtime.RESTART_COUNT] == "1"
    env.rt.exit(env.running("app").id, 0)
    result = await env.manager.sync_pod(pod)
    assert env.rt.find("uid-1", "app", runtime.RUNNING) == []
    assert env.status(pod, result.status)["phase"] == "Succeeded"


async def test_changed_spec_hash_recreates_the_container(env: Env) -> None:
    pod = make_pod()
    await env.manager.sync_pod(pod)
    old = env.running("app")
    changed = copy.deepcopy(pod)
    changed["spec"]["containers"][0]["image"] = "minik8s/web:1"
    await env.manager.sync_pod(changed)
    assert ("stop_container", old.id, 5) in env.rt.calls
    new = env.running("app")
    assert new.id != old.id and new.image == "minik8s/web:1"
    assert new.labels[runtime.RESTART_COUNT] == "1"
    assert ("Normal", "Killing", "Container app definition changed, will be restarted") in env.events


async def test_failed_liveness_probe_kills_and_restarts(env: Env) -> None:
    pod = make_pod()
    await env.manager.sync_pod(pod)
    old = env.running("app")
    env.probes.failures[old.id] = "liveness"
    await env.manager.sync_pod(pod)
    assert ("stop_container", old.id, 5) in env.rt.calls
    assert env.running("app").labels[runtime.RESTART_COUNT] == "1"
    assert ("Normal", "Killing", "Container app failed liveness probe, will be restarted") in env.events


async def test_failed_liveness_probe_with_policy_never_only_kills(env: Env) -> None:
    pod = make_pod(policy="Never")
    await env.manager.sync_pod(pod)
    env.probes.failures[env.running("app").id] = "liveness"
    await env.manager.sync_pod(pod)
    assert env.rt.find("uid-1", "app", runtime.RUNNING) == []
    assert len(env.rt.calls_of("create_container")) == 1


async def test_dead_sandbox_recreates_the_pod(env: Env) -> None:
    pod = make_pod()
    await env.manager.sync_pod(pod)
    old_app = env.running("app")
    old_sandbox = env.running("POD")
    env.rt.exit(old_sandbox.id, 0)
    await env.manager.sync_pod(pod)
    assert ("run_sandbox", "p", 1) in env.rt.calls
    assert ("stop_container", old_app.id, 5) in env.rt.calls
    assert env.running("app").labels[runtime.SANDBOX_ID] == env.running("POD").id
    # The dead sandbox's network is torn down (its address released), then it is removed.
    assert ("stop_sandbox", old_sandbox.id, kuberuntime.SANDBOX_STOP_GRACE) in env.rt.calls
    assert ("remove_sandbox", old_sandbox.id) in env.rt.calls
    assert ("Normal", "SandboxChanged", "Pod sandbox changed, it will be killed and re-created.") in env.events


async def test_pull_policy_never_with_a_missing_image(env: Env) -> None:
    pod = make_pod({"name": "app", "image": "minik8s/missing:1", "imagePullPolicy": "Never"})
    result = await env.manager.sync_pod(pod)
    assert env.rt.calls_of("pull_image") == []
    cs = env.status(pod, result.status)["containerStatuses"][0]
    assert cs["state"]["waiting"] == {
        "reason": "ErrImageNeverPull",
        "message": 'Container image "minik8s/missing:1" is not present with pull policy of Never'}


async def test_failed_pull_backs_off(env: Env) -> None:
    image = "127.0.0.1:5999/nope:1"
    env.rt.pull_errors[image] = "dial tcp 127.0.0.1:5999: connect: connection refused"
    pod = make_pod({"name": "app", "image": image, "imagePullPolicy": "IfNotPresent"})
    result = await env.manager.sync_pod(pod)
    assert env.rt.calls_of("pull_image") == [("pull_image", image)]
    cs = env.status(pod, result.status)["containerStatuses"][0]
    assert cs["state"]["waiting"]["reason"] == "ErrImagePull"
    assert "connection refused" in cs["state"]["waiting"]["message"]
    assert result.requeue_after == pytest.approx(5)  # half way through the back-off

    result = await env.manager.sync_pod(pod)
    assert len(env.rt.calls_of("pull_image")) == 1  # no pull during the back-off
    cs = env.status(pod, result.status)["containerStatuses"][0]
    assert cs["state"]["waiting"] == {"reason": "ImagePullBackOff", "message": f'Back-off pulling image "{image}"'}

    env.clock.now += 10
    await env.manager.sync_pod(pod)
    assert len(env.rt.calls_of("pull_image")) == 2


async def test_pull_policy_always_pulls_a_present_image(env: Env) -> None:
    env.rt.pullable.add("minik8s/busybox:1")
    await env.manager.sync_pod(make_pod({"name": "app", "image": "minik8s/busybox:1", "imagePullPolicy": "Always"}))
    assert env.rt.calls_of("pull_image") == [("pull_image", "minik8s/busybox:1")]
    env.running("app")


async def test_a_restarted_kubelet_adopts_what_runs(env: Env) -> None:
    pod = make_pod()
    await env.manager.sync_pod(pod)
    env.rt.exit(env.running("app").id, 1)
    await env.manager.sync_pod(pod)
    running = env.running("app")
    env.rt.calls.clear()
    # A new process: new manager, no memory, same engine.
    env.manager = env.new_manager()
    result = await env.manager.sync_pod(pod)
    assert env.mutations() == []
    cs = env.status(pod, result.status)["containerStatuses"][0]
    assert cs["containerID"] == f"docker://{running.id}"
    assert cs["restartCount"] == 1
    assert cs["lastState"]["terminated"]["exitCode"] == 1


async def test_only_the_newest_exited_instance_is_kept(env: Env) -> None:
    pod = make_pod()
    await env.manager.sync_pod(pod)
    for _ in range(3):
        env.rt.exit(env.running("app").id, 1)
        env.clock.now += 1000  # past any back-off
        await env.manager.sync_pod(pod)
    instances = env.rt.find("uid-1", "app")
    assert [c.state for c in instances] == [runtime.RUNNING, runtime.EXITED]
    assert instances[1].labels[runtime.RESTART_COUNT] == "2"


async def test_stray_running_instances_are_killed(env: Env) -> None:
    pod = make_pod()
    await env.manager.sync_pod(pod)
    stray_config = env.running("app").config
    extra = await env.rt.create_container(stray_config)
    await env.rt.start_container(extra)
    older = [c for c in env.rt.find("uid-1", "app", runtime.RUNNING) if c.id != extra][0]
    await env.manager.sync_pod(pod)
    assert ("stop_container", older.id, 5) in env.rt.calls
    assert [c.id for c in env.rt.find("uid-1", "app", runtime.RUNNING)] == [extra]


async def test_kill_pod_stops_with_the_grace_period_then_removes(env: Env) -> None:
    pod = make_pod()
    pod["metadata"]["deletionGracePeriodSeconds"] = 7
    await env.manager.sync_pod(pod)
    app, sandbox = env.running("app"), env.running("POD")
    rs = await env.manager.kill_pod(pod, "uid-1", remove=True)
    assert ("stop_container", app.id, 7) in env.rt.calls
    assert ("stop_sandbox", sandbox.id, kuberuntime.SANDBOX_STOP_GRACE) in env.rt.calls
    assert env.rt.calls.index(("stop_container", app.id, 7)) < \
        env.rt.calls.index(("stop_sandbox", sandbox.id, kuberuntime.SANDBOX_STOP_GRACE))
    assert env.rt.calls.index(("stop_sandbox", sandbox.id, kuberuntime.SANDBOX_STOP_GRACE)) < \
        env.rt.calls.index(("remove_sandbox", sandbox.id))
    assert rs.containers == () and rs.sandboxes == ()


async def test_a_forced_kill_still_gets_the_minimum_grace(env: Env) -> None:
    pod = make_pod()
    pod["metadata"]["deletionGracePeriodSeconds"] = 0
    assert kuberuntime.grace_period(pod) == kuberuntime.MIN_GRACE


async def test_empty_dir_is_prepared_and_mounted(env: Env) -> None:
    pod = make_pod({"name": "app", "image": "minik8s/busybox:1",
                    "volumeMounts": [{"name": "data", "mountPath": "/data", "readOnly": True}]},
                   volumes=[{"name": "data", "emptyDir": {}}])
    await env.manager.sync_pod(pod)
    mounts = env.running("app").config.mounts
    assert mounts == (runtime.Mount(str(env.tmp / "pods" / "uid-1" / "volumes" / volumes.EMPTY_DIR / "data"),
                                    "/data", True),)
    assert (env.tmp / "pods" / "uid-1" / "volumes" / volumes.EMPTY_DIR / "data").is_dir()
    await env.manager.kill_pod(pod, "uid-1", remove=True)
    assert not (env.tmp / "pods" / "uid-1").exists()


async def test_missing_host_path_directory_blocks_the_pod(env: Env) -> None:
    pod = make_pod({"name": "app", "image": "minik8s/busybox:1",
                    "volumeMounts": [{"name": "h", "mountPath": "/h"}]},
                   volumes=[{"name": "h", "hostPath": {"path": str(env.tmp / "absent"), "type": "Directory"}}])
    result = await env.manager.sync_pod(pod)
    assert env.rt.calls_of("run_sandbox") == [] and env.rt.calls_of("create_container") == []
    assert "hostPath type check failed" in result.error
    assert any(e[1] == "FailedMount" for e in env.events)


async def test_sandbox_failure_is_retried(env: Env) -> None:
    env.rt.fail_next["run_sandbox"] = runtime.RuntimeFailure("CreatePodSandboxError", "no network")
    pod = make_pod()
    result = await env.manager.sync_pod(pod)
    assert result.requeue_after == 10 and "no network" in result.error
    assert env.rt.calls_of("create_container") == []
    await env.manager.sync_pod(pod)
    env.running("app")


async def test_create_failure_is_reported_and_retried(env: Env) -> None:
    env.rt.fail_next["create_container"] = runtime.RuntimeFailure("CreateContainerError", "boom")
    pod = make_pod()
    result = await env.manager.sync_pod(pod)
    cs = env.status(pod, result.status)["containerStatuses"][0]
    assert cs["state"]["waiting"] == {"reason": "CreateContainerError", "message": "boom"}
    await env.manager.sync_pod(pod)
    env.running("app")
    assert env.manager.reasons_for("uid-1") == {}


def test_compute_pod_actions_for_a_new_pod() -> None:
    pod = make_pod()
    actions = kuberuntime.compute_pod_actions(pod, runtime.PodRuntimeStatus("uid-1"), Probes())
    assert actions.create_sandbox and actions.kill_pod
    assert actions.containers_to_start == ["app"] and actions.attempt == 0


def test_deleted_pods_are_never_restarted() -> None:
    pod = make_pod()
    pod["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    exited = runtime.ContainerStatus("c1", "app", "uid-1", "p", "ns", False, runtime.EXITED, 0, exit_code=1)
    rs = runtime.PodRuntimeStatus("uid-1", containers=(exited,))
    assert not kuberuntime.should_container_be_restarted(pod["spec"]["containers"][0], pod, rs)
