"""The Deployment controller's side effects, behind two small seams.

`RSControl` is everything the controller does to ReplicaSets (create, update
— which is how it scales: spec.replicas moves together with the
desired/max-replicas annotations in one write —, patch for adoption and
release, delete); `DeploymentControl` is the live read it needs before adopting
and its status writes. Unit tests replace both with a recording fake
(docs/style.md: side effects go through a tiny injected interface).
"""
from __future__ import annotations

from typing import Any, Protocol

from minik8s.api import errors
from minik8s.api import resources
from minik8s.client import rest
from minik8s.controllers.deployment import util

Obj = dict[str, Any]

DEPLOYMENTS = resources.must("apps", "v1", "deployments")
REPLICASETS = resources.must("apps", "v1", "replicasets")


class RSControl(Protocol):
    async def create_replica_set(self, namespace: str, rs: Obj) -> Obj: ...

    async def update_replica_set(self, rs: Obj) -> Obj: ...

    async def patch_replica_set(self, namespace: str, name: str, patch: Obj) -> Obj: ...

    async def delete_replica_set(self, namespace: str, name: str, uid: str) -> None: ...

    async def get_replica_set(self, namespace: str, name: str) -> Obj | None: ...


class DeploymentControl(Protocol):
    async def get_deployment(self, namespace: str, name: str) -> Obj | None: ...

    async def update_deployment_status(self, d: Obj) -> Obj: ...


class Control(RSControl, DeploymentControl, Protocol):
    """Both seams in one object, as RealControl and the unit tests' fake provide them."""


class Recorder(Protocol):
    def event(self, obj: Obj, type_: str, reason: str, message: str, *, field_path: str = "") -> None: ...


class RealControl:
    """Both seams over the REST client."""

    def __init__(self, client: rest.Client) -> None:
        self.client = client

    async def create_replica_set(self, namespace: str, rs: Obj) -> Obj:
        return await self.client.create(REPLICASETS, rs, namespace)

    async def update_replica_set(self, rs: Obj) -> Obj:
        # A PUT carrying the cached resourceVersion: if the cache was stale the
        # write fails with 409 and the Deployment is synced again from fresh data,
        # which is what keeps scaling decisions within maxSurge/maxUnavailable.
        return await self.client.update(REPLICASETS, rs)

    async def patch_replica_set(self, namespace: str, name: str, patch: Obj) -> Obj:
        return await self.client.patch(REPLICASETS, name, patch, namespace, patch_type=rest.STRATEGIC_PATCH)

    async def delete_replica_set(self, namespace: str, name: str, uid: str) -> None:
        try:
            await self.client.delete(REPLICASETS, name, namespace, preconditions={"uid": uid} if uid else None)
        except errors.NotFound:
            pass

    async def get_replica_set(self, namespace: str, name: str) -> Obj | None:
        return await self.client.get_or_none(REPLICASETS, name, namespace)

    async def get_deployment(self, namespace: str, name: str) -> Obj | None:
        return await self.client.get_or_none(DEPLOYMENTS, name, namespace)

    async def update_deployment_status(self, d: Obj) -> Obj:
        """UpdateStatus, including the revision annotation.

        Kubernetes' deployments/status keeps metadata from the request (only
        spec and labels come from storage), which is how the controller's
        revision annotation reaches the Deployment. minik8s' status subresource
        takes only `status`, so a changed revision follows as a metadata patch.
        """
        updated = await self.client.update_status(DEPLOYMENTS, d)
        want = util.annotations_of(d).get(util.REVISION)
        if want is not None and util.annotations_of(updated).get(util.REVISION) != want:
            m = d["metadata"]
            updated = await self.client.patch(DEPLOYMENTS, m["name"],
                                              {"metadata": {"annotations": {util.REVISION: want}}},
                                              m.get("namespace"))
        return updated
