"""Pod status generation and the status manager's write-only-on-change rule."""
from __future__ import annotations

import asyncio
from typing import Any

import pytest

from minik8s.api import pods
from minik8s.api import errors
from minik8s.api import rfc3339
from minik8s.kubelet import runtime
from minik8s.kubelet import status as status_mod

T0 = 1_700_000_000.0


def pod(*names: str, policy: str = "Always", **spec: Any) -> dict[str, Any]:
    return {"metadata": {"name": "p", "namespace": "ns", "uid": "u1"},
            "spec": {"restartPolicy": policy, "containers": [{"name": n, "image": f"img-{n}"} for n in names or ("a",)],
                     **spec}}


def c(name: str, state: str, attempt: int = 0, *, exit_code: int = 0, cid: str = "", started: float = T0,
      finished: float = 0.0) -> runtime.ContainerStatus:
    return runtime.ContainerStatus(cid or f"{name}-{attempt}", name, "u1", "p", "ns", False, state, attempt,
                                   image_id="sha256:1", started_at=started, finished_at=finished or (T0 + 5 if
                                   state == runtime.EXITED else 0), exit_code=exit_code,
                                   reason=("Completed" if exit_code == 0 else "Error") if state == runtime.EXITED else "")


SANDBOX = runtime.ContainerStatus("sb", "POD", "u1", "p", "ns", True, runtime.RUNNING, 0, ip="10.244.0.9")


def gen(p: dict[str, Any], *containers: runtime.ContainerStatus, sandbox: bool = True, old: Any = None,
        reasons: Any = None, ready: Any = None, terminal: bool = False, now: float = T0 + 10) -> dict[str, Any]:
    rs = runtime.PodRuntimeStatus("u1", sandboxes=(SANDBOX,) if sandbox else (), containers=tuple(containers))
    return status_mod.generate_api_pod_status(
        p, rs, old=old, reasons=reasons or {}, ready=ready or (lambda n, i: True), started=lambda n, i: True,
        host_ip="192.0.2.1", terminal=terminal, now=now)


def cond(status: dict[str, Any], ctype: str) -> dict[str, Any]:
    return next(x for x in status["conditions"] if x["type"] == ctype)


def test_a_new_pod_is_pending_and_creating() -> None:
    s = gen(pod("a"), sandbox=False)
    assert s["phase"] == "Pending"
    assert s["containerStatuses"][0]["state"] == {"waiting": {"reason": "ContainerCreating"}}
    assert cond(s, "Ready")["status"] == "False"
    assert cond(s, "Ready")["message"] == "containers with unready status: [a]"
    assert cond(s, "PodScheduled")["status"] == "True" and cond(s, "Initialized")["status"] == "True"
    assert "podIP" not in s and s["hostIP"] == "192.0.2.1" and s["qosClass"] == "BestEffort"


def test_a_running_pod() -> None:
    s = gen(pod("a", "b"), c("a", runtime.RUNNING), c("b", runtime.RUNNING))
    assert s["phase"] == "Running"
    assert s["podIP"] == "10.244.0.9" and s["podIPs"] == [{"ip": "10.244.0.9"}]
    cs = s["containerStatuses"][0]
    assert cs["state"] == {"running": {"startedAt": rfc3339.format(T0)}}
    assert cs["containerID"] == "docker://a-0" and cs["imageID"] == "docker://sha256:1"
    assert cs["ready"] and cs["started"] and cs["restartCount"] == 0
    assert cond(s, "Ready")["status"] == "True" and cond(s, "ContainersReady")["status"] == "True"
    assert s["startTime"] == rfc3339.format(T0 + 10)


def test_readiness_drives_ready() -> None:
    s = gen(pod("a", "b"), c("a", runtime.RUNNING), c("b", runtime.RUNNING), ready=lambda n, i: n == "a")
    assert [x["ready"] for x in s["containerStatuses"]] == [True, False]
    assert cond(s, "Ready") | {"lastTransitionTime": None} == {
        "type": "Ready", "status": "False", "reason": "ContainersNotReady",
        "message": "containers with unready status: [b]", "lastProbeTime": None, "lastTransitionTime": None}


def test_crash_loop_shows_waiting_with_the_last_run() -> None:
    s = gen(pod("a"), c("a", runtime.EXITED, 2, exit_code=1),
            reasons={"a": ("CrashLoopBackOff", "back-off 20s restarting failed container=a pod=p_ns(u1)")})
    cs = s["containerStatuses"][0]
    assert cs["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    assert cs["lastState"]["terminated"]["exitCode"] == 1
    assert cs["lastState"]["terminated"]["reason"] == "Error"
    assert cs["restartCount"] == 2
    assert s["phase"] == "Running"


def test_last_state_comes_from_the_previous_instance() -> None:
    s = gen(pod("a"), c("a", runtime.RUNNING, 1, cid="new"), c("a", runtime.EXITED, 0, exit_code=137, cid="old"))
    cs = s["containerStatuses"][0]
    assert cs["restartCount"] == 1 and "running" in cs["state"]
    assert cs["lastState"]["terminated"]["exitCode"] == 137
    assert cs["lastState"]["terminated"]["containerID"] == "docker://old"


@pytest.mark.parametrize("policy, codes, phase", [
    ("Never", [0, 0], "Succeeded"),
    ("Never", [0, 1], "Failed"),
    ("OnFailure", [0, 0], "Succeeded"),
    ("OnFailure", [1, 0], "Running"),
    ("Always", [0, 0], "Running"),
])
def test_phase_of_stopped_containers(policy: str, codes: list[int], phase: str) -> None:
    names = [f"c{i}" for i in range(len(codes))]
    s = gen(pod(*names, policy=policy), *(c(n, runtime.EXITED, exit_code=code) for n, code in zip(names, codes)),
            sandbox=False)
    assert s["phase"] == phase


def test_terminal_phase_never_goes_back_and_keeps_the_ip() -> None:
    old = gen(pod("a", policy="Never"), c("a", runtime.EXITED, exit_code=0))
    assert old["phase"] == "Succeeded" and cond(old, "Ready")["reason"] == "PodCompleted"
    s = gen(pod("a", policy="Never"), c("a", runtime.RUNNING), sandbox=False, old=old)
    assert s["phase"] == "Succeeded" and s["podIP"] == "10.244.0.9"


def test_a_deleted_pod_ends_failed() -> None:
    s = gen(pod("a"), c("a", runtime.EXITED, exit_code=137), sandbox=False, terminal=True)
    assert s["phase"] == "Failed"


def test_transition_times_are_kept_while_nothing_changes() -> None:
    p = pod("a")
    first = gen(p, c("a", runtime.RUNNING), now=T0 + 10)
    again = gen(p, c("a", runtime.RUNNING), old=first, now=T0 + 99)
    assert again == first
    unready = gen(p, c("a", runtime.RUNNING), old=first, ready=lambda n, i: False, now=T0 + 120)
    assert cond(unready, "Ready")["lastTransitionTime"] == rfc3339.format(T0 + 120)
    assert cond(unready, "PodScheduled")["lastTransitionTime"] == cond(first, "PodScheduled")["lastTransitionTime"]


def test_conditions_of_others_and_readiness_gates() -> None:
    p = pod("a", readinessGates=[{"conditionType": "example.com/lb"}])
    s = gen(p, c("a", runtime.RUNNING))
    assert cond(s, "Ready")["status"] == "False" and cond(s, "Ready")["reason"] == "ReadinessGatesNotReady"
    old = dict(s)
    old["conditions"] = s["conditions"] + [{"type": "example.com/lb", "status": "True"}]
    s2 = gen(p, c("a", runtime.RUNNING), old=old)
    assert cond(s2, "Ready")["status"] == "True"
    assert cond(s2, "example.com/lb") == {"type": "example.com/lb", "status": "True"}


def test_qos_class() -> None:
    assert pods.qos_class(pod("a")) == "BestEffort"
    g = pod("a")
    g["spec"]["containers"][0]["resources"] = {"limits": {"cpu": "1", "memory": "1Gi"}}
    assert pods.qos_class(g) == "Guaranteed"
    g["spec"]["containers"][0]["resources"]["requests"] = {"cpu": "0.5"}
    assert pods.qos_class(g) == "Burstable"


class FakeClient:
    def __init__(self) -> None:
        self.puts: list[dict[str, Any]] = []
        self.fail: list[errors.StatusError] = []
        self.gate: asyncio.Event | None = None

    async def update_status(self, res: Any, body: dict[str, Any]) -> dict[str, Any]:
        if self.gate is not None:
            await self.gate.wait()
        if self.fail:
            raise self.fail.pop(0)
        self.puts.append(body)
        return body


async def test_status_is_written_once_per_change() -> None:
    client = FakeClient()
    sm = status_mod.StatusManager(client, retry_base=0.01)  # type: ignore[arg-type]
    p = pod("a")
    s1 = {"phase": "Pending"}
    sm.set_pod_status(p, s1)
    sm.set_pod_status(p, dict(s1))
    await sm.flush("u1")
    assert [b["status"] for b in client.puts] == [s1]
    assert client.puts[0]["metadata"] == {"name": "p", "namespace": "ns", "uid": "u1"}
    sm.set_pod_status(p, {"phase": "Running"})
    await sm.flush("u1")
    assert len(client.puts) == 2 and sm.writes == 2


async def test_updates_during_a_write_coalesce() -> None:
    client = FakeClient()
    client.gate = asyncio.Event()
    sm = status_mod.StatusManager(client, retry_base=0.01)  # type: ignore[arg-type]
    p = pod("a")
    sm.set_pod_status(p, {"phase": "Pending"})
    await asyncio.sleep(0)  # the first write is in flight
    for i in range(5):
        sm.set_pod_status(p, {"phase": "Running", "n": i})
    client.gate.set()
    await sm.flush("u1")
    assert [b["status"] for b in client.puts] == [{"phase": "Pending"}, {"phase": "Running", "n": 4}]


async def test_failed_writes_are_retried_and_a_gone_pod_is_dropped() -> None:
    client = FakeClient()
    client.fail = [errors.ServiceUnavailable("down")]
    sm = status_mod.StatusManager(client, retry_base=0.01)  # type: ignore[arg-type]
    sm.set_pod_status(pod("a"), {"phase": "Running"})
    await sm.flush("u1")
    assert len(client.puts) == 1
    client.fail = [errors.NotFound("pods", "p")]
    sm.set_pod_status(pod("a"), {"phase": "Failed"})
    await sm.flush("u1")
    assert len(client.puts) == 1


async def test_a_status_the_api_already_has_is_not_written() -> None:
    client = FakeClient()
    sm = status_mod.StatusManager(client)  # type: ignore[arg-type]
    p = pod("a")
    p["status"] = {"phase": "Running"}
    sm.set_pod_status(p, {"phase": "Running"})
    await sm.flush("u1")
    assert client.puts == []
