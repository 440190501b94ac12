"""Namespace lifecycle: deleting a namespace deletes everything in it.

The API server marks a deleted namespace Terminating (deletionTimestamp, the
`kubernetes` finalizer in spec.finalizers keeps it). This controller deletes
every namespaced object in it, waits until none is left (pods terminate
gracefully on their nodes), then removes the `kubernetes` finalizer through
namespaces/finalize, after which the API server removes the namespace.
"""
from __future__ import annotations

import logging
from typing import Any

from minik8s.api import errors
from minik8s.api import resources
from minik8s.client import informer as informer_mod
from minik8s.client import rest
from minik8s.controllers import base

log = logging.getLogger(__name__)

NAMESPACES = resources.must("", "v1", "namespaces")
FINALIZER = "kubernetes"


def namespaced_resources() -> list[resources.Resource]:
    # Events last, so that what deleting the others records is cleaned up too.
    # Only what can be listed and deleted: create-only kinds (LocalSubjectAccessReview) hold nothing.
    deletable = [r for r in resources.preferred() if r.namespaced and "list" in r.verbs and "delete" in r.verbs]
    return [r for r in deletable if r.plural != "events"] + [r for r in deletable if r.plural == "events"]


class NamespaceController(base.Controller):
    name = "namespace"
    workers = 2

    def __init__(self, client: rest.Client, factory: informer_mod.InformerFactory, *,
                 recheck: float = 0.5) -> None:
        super().__init__()
        self.client = client
        self.namespaces = factory.informer(NAMESPACES)
        self.recheck = recheck
        self.namespaces.add_handlers(
            on_add=lambda ns: self._maybe_enqueue(ns),
            on_update=lambda _old, ns: self._maybe_enqueue(ns))

    def _maybe_enqueue(self, ns: dict[str, Any]) -> None:
        if ns["metadata"].get("deletionTimestamp"):
            self.enqueue(ns["metadata"]["name"])

    async def sync(self, key: str) -> None:
        ns = self.namespaces.get(key)
        if ns is None or not ns["metadata"].get("deletionTimestamp"):
            return
        if FINALIZER not in ((ns.get("spec") or {}).get("finalizers") or []):
            return
        remaining = await self.delete_content(key)
        if remaining:
            log.info("namespace %s: waiting for %d objects to go", key, remaining)
            self.enqueue_after(key, self.recheck)
            return
        ns = await self.client.get(NAMESPACES, key)
        ns["spec"]["finalizers"] = [f for f in ns["spec"].get("finalizers") or [] if f != FINALIZER]
        try:
            await self.client.update(NAMESPACES, ns, subresource="finalize")
            log.info("namespace %s: content deleted, finalized", key)
        except errors.NotFound:
            pass

    async def delete_content(self, namespace: str) -> int:
        """Delete every object in the namespace; return how many still exist."""
        remaining = 0
        for res in namespaced_resources():
            items = (await self.client.list(res, namespace)).get("items") or []
            for obj in items:
                remaining += 1
                if obj["metadata"].get("deletionTimestamp") and res.plural != "pods":
                    continue
                try:
                    await self.client.delete(res, obj["metadata"]["name"], namespace, propagation="Background")
                except errors.NotFound:
                    remaining -= 1
        return remaining
