"""Ephemeral containers on the kubelet: started once in the pod, in the target's PID namespace."""
from __future__ import annotations

from typing import Any

import pytest

from minik8s.kubelet import runtime
from tests.unit.test_kubelet_sync import Env, make_pod


@pytest.fixture
def env(tmp_path: Any) -> Env:
    return Env(tmp_path)


DEBUGGER = {"name": "debugger", "image": "minik8s/busybox:1", "imagePullPolicy": "IfNotPresent",
            "targetContainerName": "app", "stdin": True, "tty": True}


def with_debugger(pod: dict[str, Any], **extra: Any) -> dict[str, Any]:
    pod = dict(pod)
    pod["spec"] = {**pod["spec"], "ephemeralContainers": [{**DEBUGGER, **extra}]}
    return pod


async def test_an_added_ephemeral_container_starts_in_the_target_pid_namespace(env: Env) -> None:
    pod = make_pod()
    await env.manager.sync_pod(pod)
    app = env.running("app")
    env.rt.calls.clear()
    debugged = with_debugger(pod)
    result = await env.manager.sync_pod(debugged)
    assert env.rt.calls_of("create_container") == [("create_container", "debugger", 0)]
    debugger = env.running("debugger")
    assert debugger.config.pid_target == app.id
    assert debugger.config.sandbox_id == env.running("POD").id
    assert debugger.config.stdin and debugger.config.tty
    assert env.running("app").id == app.id  # the pod's own containers are left alone
    status = env.status(debugged, result.status)
    [ec] = status["ephemeralContainerStatuses"]
    assert ec["name"] == "debugger" and "running" in ec["state"] and ec["ready"] is False
    assert [s["name"] for s in status["containerStatuses"]] == ["app"]
    assert status["phase"] == "Running"


async def test_an_ephemeral_container_runs_once_and_is_not_killed_as_unknown(env: Env) -> None:
    pod = with_debugger(make_pod(), targetContainerName=None)
    await env.manager.sync_pod(pod)  # a new sandbox starts the pod's containers first (computePodActions)
    assert env.rt.find("uid-1", "debugger", runtime.RUNNING) == []
    await env.manager.sync_pod(pod)
    debugger = env.running("debugger")
    assert debugger.config.pid_target == ""
    env.rt.calls.clear()
    await env.manager.sync_pod(pod)
    assert env.mutations() == []  # neither killed (it is in the spec) nor started again
    env.rt.exit(debugger.id, 0)
    await env.manager.sync_pod(pod)
    assert env.rt.calls_of("create_container") == []
    assert env.rt.find("uid-1", "app", runtime.RUNNING)
