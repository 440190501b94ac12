"""The Docker runtime's pure parts and its inspect cache, with a stub engine API."""
from __future__ import annotations

import asyncio
from typing import Any

from minik8s.kubelet import dockerruntime
from minik8s.kubelet import runtime

LABELS = {runtime.POD_UID: "u1", runtime.POD_NAME: "p", runtime.POD_NAMESPACE: "ns", runtime.NODE: "n1",
          runtime.CONTAINER_NAME: "app", runtime.CONTAINER_TYPE: runtime.TYPE_CONTAINER,
          runtime.RESTART_COUNT: "2", runtime.CONTAINER_HASH: "h"}


def inspect_doc(state: str, exit_code: int = 0, oom: bool = False) -> dict[str, Any]:
    return {"Id": "c1", "Image": "sha256:abc", "Created": "2026-01-01T00:00:00.5Z",
            "Config": {"Labels": LABELS, "Image": "minik8s/busybox:1", "Tty": False},
            "State": {"Status": state, "ExitCode": exit_code, "OOMKilled": oom,
                      "StartedAt": "2026-01-01T00:00:01.123456789Z",
                      "FinishedAt": "2026-01-01T00:00:02Z" if state == "exited" else "0001-01-01T00:00:00Z"},
            "NetworkSettings": {"Networks": {}}}


def test_status_from_inspect() -> None:
    running = dockerruntime.status_from_inspect(inspect_doc("running"))
    assert (running.state, running.attempt, running.name, running.pod_uid) == (runtime.RUNNING, 2, "app", "u1")
    assert running.started_at == dockerruntime.parse_time("2026-01-01T00:00:01.123456789Z")
    assert running.finished_at == 0 and running.image == "minik8s/busybox:1" and running.image_id == "sha256:abc"
    exited = dockerruntime.status_from_inspect(inspect_doc("exited", 3))
    assert (exited.state, exited.exit_code, exited.reason) == (runtime.EXITED, 3, "Error")
    assert dockerruntime.status_from_inspect(inspect_doc("exited", 137, oom=True)).reason == "OOMKilled"
    assert dockerruntime.status_from_inspect(inspect_doc("exited", 0)).reason == "Completed"
    assert dockerruntime.status_from_inspect(inspect_doc("created")).state == runtime.CREATED
    assert dockerruntime.parse_time("0001-01-01T00:00:00Z") == 0.0


class StubEngine:
    """Answers the engine API requests the runtime makes on the event loop."""

    def __init__(self) -> None:
        self.listed_state = "running"
        self.real_state = "running"
        self.inspects = 0
        self.image_inspects = 0
        self.lists = 0

    async def __call__(self, method: str, path: str, *, params: Any = None, body: Any = None) -> tuple[int, Any]:
        if path == "/containers/json":
            self.lists += 1
            return 200, [{"Id": "c1", "State": self.listed_state, "Labels": LABELS, "Created": 1}]
        if path.startswith("/containers/"):
            self.inspects += 1
            return 200, inspect_doc(self.real_state, 1 if self.real_state == "exited" else 0)
        if path.startswith("/images/"):
            self.image_inspects += 1
            await asyncio.sleep(0.05)  # slow enough for concurrent callers to overlap
            return 200, {"Id": "sha256:img", "RepoDigests": [], "Size": 5}
        return 404, {"message": "not found"}


def stub_runtime() -> tuple[dockerruntime.DockerRuntime, StubEngine]:
    rt = dockerruntime.DockerRuntime.__new__(dockerruntime.DockerRuntime)
    engine = StubEngine()
    rt.node = "n1"
    rt._engine = engine  # type: ignore[method-assign]
    rt._inspect_cache, rt._tty, rt._events_seen = {}, {}, {}
    rt._listed_all, rt._pods_with_containers, rt._image_cache, rt._image_inflight = False, set(), {}, {}
    return rt, engine


async def test_an_unchanged_container_is_not_inspected_again() -> None:
    rt, api = stub_runtime()
    assert (await rt.pod_status("u1")).containers[0].state == runtime.RUNNING
    assert (await rt.pod_status("u1")).containers[0].state == runtime.RUNNING
    assert api.inspects == 1
    api.listed_state = api.real_state = "exited"
    assert (await rt.pod_status("u1")).containers[0].state == runtime.EXITED
    assert api.inspects == 2


async def test_a_die_event_beats_a_stale_listing() -> None:
    rt, api = stub_runtime()
    await rt.pod_status("u1")
    # The container died; the engine's listing has not caught up yet, its event has.
    api.real_state = "exited"
    seen: list[str] = []
    rt._engine_event(lambda action, attrs: seen.append(action), "die", "c1", LABELS)
    status = await rt.pod_status("u1")
    assert seen == ["die"]
    assert status.containers[0].state == runtime.EXITED and status.containers[0].exit_code == 1


async def test_after_a_full_listing_unknown_pods_cost_no_engine_call() -> None:
    rt, api = stub_runtime()
    assert [c.pod_uid for c in await rt.list_containers()] == ["u1"]
    lists = api.lists
    assert (await rt.pod_status("new-pod")).containers == ()
    assert api.lists == lists  # known to have nothing: no call
    assert (await rt.pod_status("u1")).containers  # known to have containers: asked
    assert api.lists == lists + 1


async def test_concurrent_image_inspects_share_one_call() -> None:
    rt, api = stub_runtime()
    infos = await asyncio.gather(*(rt.inspect_image("minik8s/web:1") for _ in range(10)))
    assert {i.id for i in infos if i} == {"sha256:img"} and api.image_inspects == 1
    await rt.inspect_image("minik8s/web:1")
    assert api.image_inspects == 1  # and a present image is remembered a little while
