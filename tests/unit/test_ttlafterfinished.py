"""TTL after finished: expiry from the finished condition, a fresh read before the
delete, Foreground propagation with a uid precondition."""
from __future__ import annotations

from typing import Any

import pytest

from minik8s.api import resources
from minik8s.api import rfc3339
from minik8s.controllers.ttlafterfinished import controller as ttl_mod
from tests.unit import controller_fakes

Obj = dict[str, Any]
JOBS = resources.must("batch", "v1", "jobs")
T0 = 1_700_000_000.0


def job(ttl: int | None, finished: str | None = "Complete", at: float = T0) -> Obj:
    spec: Obj = {} if ttl is None else {"ttlSecondsAfterFinished": ttl}
    conds = [] if finished is None else [{"type": finished, "status": "True",
                                          "lastTransitionTime": rfc3339.format(at)}]
    return {"metadata": {"name": "pi", "namespace": "default", "uid": "uid-pi"}, "spec": spec,
            "status": {"conditions": conds}}


class Recording(controller_fakes.FakeApi):
    def __init__(self, clock: Any) -> None:
        super().__init__(clock)
        self.deletes: list[tuple[str, str | None, dict[str, str] | None]] = []

    async def delete(self, res: resources.Resource, name: str, namespace: str | None = None, *,
                     propagation: str | None = None, preconditions: dict[str, str] | None = None,
                     **kw: Any) -> Obj:
        self.deletes.append((name, propagation, preconditions))
        return await super().delete(res, name, namespace, propagation=propagation, preconditions=preconditions)


@pytest.mark.parametrize("body,now,deleted,requeue", [
    (job(60), T0 + 10, False, 50.0),
    (job(60, "Failed"), T0 + 61, True, None),
    (job(0), T0, True, None),
    (job(None), T0 + 1000, False, None),
    (job(60, None), T0 + 1000, False, None),
])
async def test_ttl(body: Obj, now: float, deleted: bool, requeue: float | None) -> None:
    api = Recording(lambda: now)
    ctrl = ttl_mod.TTLAfterFinishedController(api, api.informer(JOBS), clock=lambda: now)
    requeued: list[float] = []
    ctrl.enqueue_after = lambda key, delay: requeued.append(delay)  # type: ignore[method-assign]
    api.add(JOBS, body)
    await ctrl.sync("default/pi")
    assert (api.deletes == [("pi", "Foreground", {"uid": "uid-pi"})]) == deleted
    assert requeued == ([pytest.approx(requeue)] if requeue is not None else [])


async def test_fresh_read_wins_over_a_stale_cache() -> None:
    now = T0 + 100
    api = Recording(lambda: now)
    ctrl = ttl_mod.TTLAfterFinishedController(api, api.informer(JOBS), clock=lambda: now)
    ctrl.enqueue_after = lambda key, delay: None  # type: ignore[method-assign]
    api.add(JOBS, job(60))
    stored = api.get_obj(JOBS, "pi")
    assert stored is not None
    stored["spec"]["ttlSecondsAfterFinished"] = 600  # someone extended it; the cache is behind
    cached = dict(stored, spec={"ttlSecondsAfterFinished": 60})
    api.informer(JOBS).store["default/pi"] = cached
    api.informer(JOBS).store["default/pi"] = cached
    real_get = api.get_or_none

    async def fresh(res: resources.Resource, name: str, namespace: str | None = None) -> Obj | None:
        return job(600)

    api.get_or_none = fresh  # type: ignore[method-assign]
    await ctrl.sync("default/pi")
    assert api.deletes == []
    del real_get
