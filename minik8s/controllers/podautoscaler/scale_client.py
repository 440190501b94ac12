"""The scale subresource of an HPA's target (client-go's scale client, for the kinds minik8s serves).

`scaleTargetRef` names a kind and an apiVersion; the resource is found in the resource
table by group and kind (any version of the group: `apps/v1beta1` Deployments are
`apps/v1` ones here), and must have a `scale` subresource — Deployments, ReplicaSets
and ReplicationControllers do. The Scale read is the target's `spec.replicas`,
`status.replicas` and label selector (`status.selector`), with its resourceVersion: the
update is a PUT of that Scale, so a scale decided on a stale read fails with 409.
"""
from __future__ import annotations

from typing import Any, Protocol

from minik8s.api import errors
from minik8s.api import resources
from minik8s.client import rest

Obj = dict[str, Any]


class ScaleClient(Protocol):
    async def get_scale(self, namespace: str, ref: Obj) -> Obj:
        """The target's Scale (autoscaling/v1). Raises errors.StatusError."""

    async def update_scale(self, namespace: str, ref: Obj, scale: Obj) -> Obj:
        """PUT the Scale back with a new spec.replicas. Raises errors.StatusError."""


def scale_resource(ref: Obj) -> resources.Resource:
    api_version, kind = str(ref.get("apiVersion") or ""), str(ref.get("kind") or "")
    group = api_version.split("/", 1)[0] if "/" in api_version else ""
    for res in resources.preferred():
        if res.group == group and res.kind == kind and res.subresource("scale") is not None:
            return res
    raise errors.StatusError(404, "NotFound", f'no matches for kind "{kind}" in group "{group}" '
                                              "with a scale subresource")


class RestScaleClient:
    def __init__(self, client: rest.Client) -> None:
        self.client = client

    async def get_scale(self, namespace: str, ref: Obj) -> Obj:
        res = scale_resource(ref)
        body = await self.client.request("GET", res.path(namespace, str(ref.get("name") or ""), "scale"))
        if not isinstance(body, dict):
            raise errors.InternalError(f"the scale of {ref.get('kind')} {ref.get('name')} is not an object")
        return body

    async def update_scale(self, namespace: str, ref: Obj, scale: Obj) -> Obj:
        res = scale_resource(ref)
        body = await self.client.request("PUT", res.path(namespace, str(ref.get("name") or ""), "scale"),
                                         body=scale)
        if not isinstance(body, dict):
            raise errors.InternalError(f"the scale of {ref.get('kind')} {ref.get('name')} is not an object")
        return body
