"""Back-off arithmetic and the per-pod workers (coalescing, requeue, retry)."""
from __future__ import annotations

import asyncio
from typing import Any

from minik8s.kubelet import backoff
from minik8s.kubelet import pod_workers
from minik8s.util import procs


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_backoff_doubles_to_the_maximum_and_expires() -> None:
    clock = Clock()
    b = backoff.Backoff(10, 40, clock)
    assert not b.in_backoff_since("k", 0)
    b.next("k", 0)
    assert b.get("k") == 10 and b.in_backoff_since("k", 0)
    clock.now = 10
    assert not b.in_backoff_since("k", 0)
    for expected in (20, 40, 40):
        b.next("k", clock.now)
        assert b.get("k") == expected
    assert b.remaining("k", clock.now) == 40
    # Left alone for twice the maximum, a key starts over.
    clock.now += 81
    b.next("k", clock.now)
    assert b.get("k") == 10
    b.forget_prefix("k")
    assert b.get("k") == 0


def pod(uid: str, version: int) -> dict[str, Any]:
    return {"metadata": {"uid": uid, "name": uid, "resourceVersion": str(version)}}


async def test_updates_to_a_busy_pod_coalesce_into_the_latest() -> None:
    seen: list[str | None] = []
    gate = asyncio.Event()

    async def sync(uid: str, p: dict[str, Any] | None) -> pod_workers.SyncOutcome:
        seen.append(p["metadata"]["resourceVersion"] if p else None)
        if len(seen) == 1:
            await gate.wait()
        return pod_workers.SyncOutcome()

    workers = pod_workers.PodWorkers(sync)
    workers.update_pod("u", pod("u", 1))
    await procs.wait_for_async(lambda: seen, 5)
    for v in range(2, 7):
        workers.update_pod("u", pod("u", v))
    gate.set()
    await procs.wait_for_async(lambda: len(seen) >= 2, 5)
    # One more update: had the five been synced separately, "6" would not come right before it.
    workers.update_pod("u", pod("u", 7))
    await procs.wait_for_async(lambda: len(seen) >= 3, 5)
    assert seen == ["1", "6", "7"]
    await workers.stop()


async def test_workers_run_pods_concurrently_and_end_when_done() -> None:
    running: set[str] = set()
    peak = [0]
    release = asyncio.Event()

    async def sync(uid: str, p: dict[str, Any] | None) -> pod_workers.SyncOutcome:
        running.add(uid)
        peak[0] = max(peak[0], len(running))
        await release.wait()
        running.discard(uid)
        return pod_workers.SyncOutcome(done=p is None)

    workers = pod_workers.PodWorkers(sync)
    for i in range(5):
        workers.update_pod(f"u{i}", pod(f"u{i}", 1))
    await procs.wait_for_async(lambda: peak[0] == 5, 5)
    release.set()
    for i in range(5):
        workers.update_pod(f"u{i}", None)
    await procs.wait_for_async(lambda: not workers.uids(), 5, what="workers to end")
    await workers.stop()


async def test_a_deleted_pod_is_not_revived_by_a_late_update() -> None:
    seen: list[Any] = []
    gate = asyncio.Event()

    async def sync(uid: str, p: dict[str, Any] | None) -> pod_workers.SyncOutcome:
        seen.append(p)
        await gate.wait()
        return pod_workers.SyncOutcome(done=p is None)

    workers = pod_workers.PodWorkers(sync)
    workers.update_pod("u", pod("u", 1))
    await procs.wait_for_async(lambda: seen, 5)
    workers.update_pod("u", None)
    workers.update_pod("u", pod("u", 2))
    gate.set()
    await procs.wait_for_async(lambda: "u" not in workers, 5)
    assert seen[-1] is None
    await workers.stop()


async def test_requeue_after_and_error_retry() -> None:
    calls: list[float] = []
    loop = asyncio.get_running_loop()

    async def sync(uid: str, p: dict[str, Any] | None) -> pod_workers.SyncOutcome:
        calls.append(loop.time())
        if len(calls) == 1:
            return pod_workers.SyncOutcome(requeue_after=0.05)
        if len(calls) == 2:
            raise RuntimeError("boom")
        return pod_workers.SyncOutcome()

    workers = pod_workers.PodWorkers(sync, error_backoff=0.05)
    workers.update_pod("u", pod("u", 1))
    await procs.wait_for_async(lambda: len(calls) >= 3, 5, what="requeued and retried syncs")
    await workers.stop()


async def test_status_only_updates_do_not_wake_the_worker() -> None:
    seen: list[str] = []

    async def sync(uid: str, p: dict[str, Any] | None) -> pod_workers.SyncOutcome:
        seen.append(p["metadata"]["resourceVersion"] if p else "")
        return pod_workers.SyncOutcome()

    workers = pod_workers.PodWorkers(sync)
    workers.update_pod("u", pod("u", 1))
    await procs.wait_for_async(lambda: seen, 5)
    workers.update_pod("u", pod("u", 2), wake=False)
    assert workers.latest("u")["metadata"]["resourceVersion"] == "2"
    workers.wake("u")
    await procs.wait_for_async(lambda: len(seen) == 2, 5)
    workers.update_pod("u", pod("u", 3), wake=False)
    workers.update_pod("u", pod("u", 4))
    await procs.wait_for_async(lambda: len(seen) == 3, 5)
    assert seen == ["1", "2", "4"]
    await workers.stop()
