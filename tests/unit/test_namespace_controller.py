"""The namespace controller's waits: content that stays (a pod no kubelet confirms) is
looked at again later and later, up to a cap; finalizing resets it."""
from __future__ import annotations

from typing import Any

from minik8s.api import resources
from minik8s.client import informer as informer_mod
from minik8s.controllers import namespace as namespace_mod

Obj = dict[str, Any]
NAMESPACES = resources.must("", "v1", "namespaces")


class Api:
    """Lists answer one stuck pod until `stuck` is False; records lists and the finalize."""

    def __init__(self) -> None:
        self.stuck = True
        self.lists = 0
        self.finalized: list[Obj] = []
        self.informers: dict[str, informer_mod.Informer] = {}

    def informer(self, res: resources.Resource) -> informer_mod.Informer:
        return self.informers.setdefault(res.plural, informer_mod.Informer(None, res))  # type: ignore[arg-type]

    async def list(self, res: resources.Resource, namespace: str | None = None, **_: Any) -> Obj:
        self.lists += 1
        if res.plural == "pods" and self.stuck:
            return {"items": [{"metadata": {"name": "p", "namespace": namespace,
                                            "deletionTimestamp": "2026-01-01T00:00:00Z"}}]}
        return {"items": []}

    async def delete(self, *_: Any, **__: Any) -> Obj:
        return {}

    async def get(self, res: resources.Resource, name: str, namespace: str | None = None) -> Obj:
        return terminating(name)

    async def update(self, res: resources.Resource, obj: Obj, *, subresource: str | None = None) -> Obj:
        assert subresource == "finalize"
        self.finalized.append(obj)
        return obj


def terminating(name: str) -> Obj:
    return {"metadata": {"name": name, "deletionTimestamp": "2026-01-01T00:00:00Z"},
            "spec": {"finalizers": ["kubernetes"]}}


async def test_rechecks_back_off_to_a_cap_and_reset_when_done() -> None:
    api = Api()
    ctrl = namespace_mod.NamespaceController(api, api, recheck=0.5, max_recheck=5.0)  # type: ignore[arg-type]
    delays: list[float] = []
    ctrl.enqueue_after = lambda key, delay: delays.append(delay)  # type: ignore[method-assign]
    ctrl.namespaces.store["gone"] = terminating("gone")
    for _ in range(6):
        await ctrl.sync("gone")
    assert delays == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0]
    assert api.finalized == []
    api.stuck = False
    await ctrl.sync("gone")
    assert [o["spec"]["finalizers"] for o in api.finalized] == [[]]
    assert "gone" not in ctrl.rechecks
