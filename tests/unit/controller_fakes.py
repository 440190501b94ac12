"""A small in-memory API for controller unit tests: informer stores that writes land in.

`FakeApi` keeps objects per resource in real `Informer` stores (no server: the
stores are filled by hand, as the other controller tests do) and applies what a
controller asks for the way the API server would: creates get a name, uid,
resourceVersion and creationTimestamp; status writes check the resourceVersion;
deletes of objects with finalizers only set deletionTimestamp; strategic merge
patches go through minik8s.api.patch. Every write is recorded in `calls` and
delivered to the informer's handlers, so expectations and enqueueing run as in
production. `FakePodControl` is the PodControl seam on top of it.
"""
from __future__ import annotations

import copy
import itertools
from typing import Any, Callable

from minik8s.api import errors
from minik8s.api import patch as patch_mod
from minik8s.api import resources
from minik8s.api import rfc3339
from minik8s.api import strategicpatch
from minik8s.client import informer as informer_mod
from minik8s.controllers import podcontrol

Obj = dict[str, Any]
PODS = resources.must("", "v1", "pods")


class FakeApi:
    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.informers: dict[str, informer_mod.Informer] = {}
        self.calls: list[tuple[str, str, str]] = []  # (verb, plural, name)
        self._rv = itertools.count(100)
        self._uid = itertools.count(1)
        self.fail: dict[tuple[str, str], errors.StatusError] = {}  # (verb, plural) -> error, once

    def informer(self, res: resources.Resource) -> informer_mod.Informer:
        inf = self.informers.get(res.plural)
        if inf is None:
            inf = self.informers[res.plural] = informer_mod.Informer(None, res)  # type: ignore[arg-type]
            inf.synced.set()
        return inf

    def _maybe_fail(self, verb: str, res: resources.Resource) -> None:
        err = self.fail.pop((verb, res.plural), None)
        if err is not None:
            raise err

    def _store(self, res: resources.Resource, obj: Obj, old: Obj | None) -> Obj:
        obj["metadata"]["resourceVersion"] = str(next(self._rv))
        inf = self.informer(res)
        inf.store[informer_mod.key_of(obj)] = obj
        if old is None:
            for fn in inf._on_add:
                fn(obj)
        else:
            for fn in inf._on_update:
                fn(old, obj)
        return copy.deepcopy(obj)

    def _remove(self, res: resources.Resource, obj: Obj) -> None:
        inf = self.informer(res)
        inf.store.pop(informer_mod.key_of(obj), None)
        for fn in inf._on_delete:
            fn(obj)

    def add(self, res: resources.Resource, obj: Obj) -> Obj:
        """Put an object in place as if it had been created earlier (no call recorded)."""
        obj = copy.deepcopy(obj)
        meta = obj.setdefault("metadata", {})
        meta.setdefault("uid", f"uid-{meta['name']}")
        meta.setdefault("creationTimestamp", rfc3339.format(self.clock()))
        obj.setdefault("apiVersion", res.api_version)
        obj.setdefault("kind", res.kind)
        return self._store(res, obj, None)

    def get_obj(self, res: resources.Resource, name: str, namespace: str | None = "default") -> Obj | None:
        return self.informer(res).get_by(namespace if res.namespaced else None, name)

    def objects(self, res: resources.Resource) -> list[Obj]:
        return list(self.informer(res).store.values())

    # -- the verbs, as the API server does them --------------------------------------------------

    async def create(self, res: resources.Resource, obj: Obj, namespace: str | None = None, **_: Any) -> Obj:
        self._maybe_fail("create", res)
        obj = copy.deepcopy(obj)
        meta = obj.setdefault("metadata", {})
        if res.namespaced:
            meta["namespace"] = namespace or meta.get("namespace") or "default"
        if not meta.get("name"):
            meta["name"] = f"{meta['generateName']}{next(self._uid):05d}"
        if self.get_obj(res, meta["name"], meta.get("namespace")) is not None:
            raise errors.AlreadyExists(res.qualified, meta["name"])
        meta["uid"] = f"uid-{meta['name']}"
        meta["creationTimestamp"] = rfc3339.format(self.clock())
        obj.setdefault("apiVersion", res.api_version)
        obj.setdefault("kind", res.kind)
        self.calls.append(("create", res.plural, meta["name"]))
        return self._store(res, obj, None)

    async def get_or_none(self, res: resources.Resource, name: str, namespace: str | None = None) -> Obj | None:
        obj = self.get_obj(res, name, namespace)
        return copy.deepcopy(obj) if obj is not None else None

    async def get(self, res: resources.Resource, name: str, namespace: str | None = None) -> Obj:
        obj = await self.get_or_none(res, name, namespace)
        if obj is None:
            raise errors.NotFound(res.qualified, name)
        return obj

    async def update(self, res: resources.Resource, obj: Obj, *, subresource: str | None = None, **_: Any) -> Obj:
        self._maybe_fail("update_status" if subresource == "status" else "update", res)
        meta = obj["metadata"]
        old = self.get_obj(res, meta["name"], meta.get("namespace"))
        if old is None:
            raise errors.NotFound(res.qualified, meta["name"])
        if meta.get("resourceVersion") and meta["resourceVersion"] != old["metadata"]["resourceVersion"]:
            raise errors.Conflict(res.qualified, meta["name"])
        new = copy.deepcopy(old)
        if subresource == "status":
            new["status"] = copy.deepcopy(obj.get("status") or {})
        else:
            new = copy.deepcopy(obj)
            new["status"] = copy.deepcopy(old.get("status") or {})
            if new.get("spec") != old.get("spec"):
                new["metadata"]["generation"] = int(old["metadata"].get("generation") or 1) + 1
        self.calls.append(("update_status" if subresource == "status" else "update", res.plural, meta["name"]))
        return self._store(res, new, old)

    async def update_status(self, res: resources.Resource, obj: Obj) -> Obj:
        return await self.update(res, obj, subresource="status")

    async def patch(self, res: resources.Resource, name: str, body: Any, namespace: str | None = None, *,
                    patch_type: str = patch_mod.STRATEGIC_MERGE_PATCH, subresource: str | None = None) -> Obj:
        self._maybe_fail("patch", res)
        old = self.get_obj(res, name, namespace)
        if old is None:
            raise errors.NotFound(res.qualified, name)
        uid = (body.get("metadata") or {}).get("uid") if isinstance(body, dict) else None
        if uid and uid != old["metadata"]["uid"]:
            raise errors.Conflict(res.qualified, name)
        if patch_type == patch_mod.MERGE_PATCH or patch_type == "application/merge-patch+json":
            new = patch_mod.merge_patch(copy.deepcopy(old), body)
        else:
            new = strategicpatch.strategic_merge_patch(copy.deepcopy(old), body, res.kind)
        self.calls.append(("patch", res.plural, name))
        if new["metadata"].get("deletionTimestamp") and not new["metadata"].get("finalizers") and \
                not new["metadata"].get("deletionGracePeriodSeconds"):
            self._remove(res, new)
            return copy.deepcopy(new)
        return self._store(res, new, old)

    async def delete(self, res: resources.Resource, name: str, namespace: str | None = None, *,
                     propagation: str | None = None, preconditions: dict[str, str] | None = None,
                     **_: Any) -> Obj:
        self._maybe_fail("delete", res)
        old = self.get_obj(res, name, namespace)
        if old is None:
            raise errors.NotFound(res.qualified, name)
        if preconditions and preconditions.get("uid") and preconditions["uid"] != old["metadata"]["uid"]:
            raise errors.Conflict(res.qualified, name)
        self.calls.append(("delete", res.plural, name))
        running = res.plural == "pods" and (old.get("status") or {}).get("phase") not in ("Succeeded", "Failed")
        if old["metadata"].get("finalizers") or running:
            # Graceful: a pod that may still run stays until its kubelet's final delete.
            new = copy.deepcopy(old)
            new["metadata"].setdefault("deletionTimestamp", rfc3339.format(self.clock()))
            if running:
                new["metadata"]["deletionGracePeriodSeconds"] = 30
            return self._store(res, new, old)
        self._remove(res, old)
        return copy.deepcopy(old)

    async def final_delete(self, res: resources.Resource, name: str, namespace: str | None = "default") -> None:
        """The kubelet's delete with gracePeriodSeconds=0: gone unless finalizers remain."""
        old = self.get_obj(res, name, namespace)
        if old is None:
            return
        if old["metadata"].get("finalizers"):
            new = copy.deepcopy(old)
            new["metadata"]["deletionGracePeriodSeconds"] = 0
            self._store(res, new, old)
        else:
            self._remove(res, old)


class FakePodControl:
    """podcontrol.PodControl on a FakeApi (pods are created, deleted and patched there)."""

    def __init__(self, api: FakeApi) -> None:
        self.api = api
        self.created: list[Obj] = []

    async def create_pods(self, namespace: str, template: Obj, owner: Obj, controller_ref: Obj, *,
                          generate_name: str = "") -> Obj:
        pod = podcontrol.pod_from_template(template, owner, controller_ref, generate_name)
        created = await self.api.create(PODS, pod, namespace)
        self.created.append(created)
        return created

    async def delete_pod(self, namespace: str, name: str, owner: Obj) -> None:
        await self.api.delete(PODS, name, namespace)

    async def patch_pod(self, namespace: str, name: str, patch: Obj) -> Obj:
        return await self.api.patch(PODS, name, patch, namespace)


class Events:
    """An EventRecorder stand-in: (kind/name, type, reason, message) of every event."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str, str, str]] = []

    def event(self, obj: Obj, type_: str, reason: str, message: str, *, field_path: str = "") -> None:
        self.events.append((f"{obj.get('kind')}/{obj['metadata']['name']}", type_, reason, message))

    def reasons(self) -> list[str]:
        return [e[2] for e in self.events]
