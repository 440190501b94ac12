"""Authorization as the API server runs it: the authorizer chain, its caches, its hooks.

The chain is kube-apiserver's default (`--authorization-mode=Node,RBAC`, with
system:masters always allowed first): members of system:masters → the Node
authorizer (kubelets) → RBAC. The RBAC objects and the pods are mirrored from
the API server's own watch caches into `Policy` and `Graph`; the registry's
write hook runs NodeRestriction and the escalation checks; the review resources
answer from the same chain.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web

from minik8s.api import resources
from minik8s.apiserver import watchcache
from minik8s.apiserver.authz import admission
from minik8s.apiserver.authz import authorizer
from minik8s.apiserver.authz import bootstrap
from minik8s.apiserver.authz import filters
from minik8s.apiserver.authz import graph as graph_mod
from minik8s.apiserver.authz import mirror
from minik8s.apiserver.authz import node
from minik8s.apiserver.authz import rbac
from minik8s.apiserver.authz import reviews
from minik8s.apiserver.authz import user as user_mod

log = logging.getLogger(__name__)

Obj = dict[str, Any]


def _key(obj: Obj) -> tuple[str, str]:
    meta = obj.get("metadata") or {}
    return str(meta.get("namespace") or ""), str(meta.get("name") or "")


class _PolicyFeed:
    """Applies one RBAC kind's events to the Policy."""

    def __init__(self, policy: rbac.Policy, kind: str) -> None:
        self.policy, self.kind = policy, kind

    def reset(self, items: list[Obj]) -> None:
        p = self.policy
        if self.kind == "Role":
            p.roles.clear()
        elif self.kind == "ClusterRole":
            p.cluster_roles.clear()
        elif self.kind == "RoleBinding":
            p.role_bindings.clear()
        else:
            p.cluster_role_bindings.clear()
        for obj in items:
            self.upsert(obj)

    def upsert(self, obj: Obj) -> None:
        {"Role": self.policy.set_role, "ClusterRole": self.policy.set_cluster_role,
         "RoleBinding": self.policy.set_role_binding,
         "ClusterRoleBinding": self.policy.set_cluster_role_binding}[self.kind](obj)

    def remove(self, obj: Obj) -> None:
        namespace, name = _key(obj)
        if self.kind == "Role":
            self.policy.delete_role(namespace, name)
        elif self.kind == "ClusterRole":
            self.policy.delete_cluster_role(name)
        elif self.kind == "RoleBinding":
            self.policy.delete_role_binding(namespace, name)
        else:
            self.policy.delete_cluster_role_binding(name)


class _GraphFeed:
    """Applies pod events to the Node authorizer's graph."""

    def __init__(self, graph: graph_mod.Graph) -> None:
        self.graph = graph

    def reset(self, items: list[Obj]) -> None:
        self.graph.clear()
        for pod in items:
            self.graph.set_pod(pod)

    def upsert(self, obj: Obj) -> None:
        self.graph.set_pod(obj)

    def remove(self, obj: Obj) -> None:
        self.graph.delete_pod(*_key(obj))


class AuthorizationService:
    def __init__(self, caches: watchcache.WatchCaches) -> None:
        self.policy = rbac.Policy()
        self.graph = graph_mod.Graph()
        self.authorizer = authorizer.Union([
            authorizer.PrivilegedGroups(user_mod.SYSTEM_PRIVILEGED_GROUP),
            node.NodeAuthorizer(self.graph),
            rbac.RBACAuthorizer(self.policy),
        ])
        self.admission = admission.WriteAdmission(self.authorizer, self.policy)
        self.reviews = reviews.Reviews(self.authorizer)
        self.middleware = filters.middleware(self.authorizer)
        feeds: list[tuple[resources.Resource, mirror.Handler]] = [
            (resources.must(rbac.GROUP, "v1", plural), _PolicyFeed(self.policy, kind))
            for plural, kind in (("roles", "Role"), ("clusterroles", "ClusterRole"),
                                 ("rolebindings", "RoleBinding"), ("clusterrolebindings", "ClusterRoleBinding"))]
        feeds.append((resources.must("", "v1", "pods"), _GraphFeed(self.graph)))
        self.mirrors = [mirror.Mirror(caches, res, feed) for res, feed in feeds]

    def add_routes(self, router: web.UrlDispatcher) -> None:
        self.reviews.add_routes(router)

    async def start(self, registry: Any, timeout: float = 60.0) -> None:
        """Reconcile the default policy, then wait until the mirrors hold it (before the port opens)."""
        await bootstrap.reconcile(registry)
        for m in self.mirrors:
            m.start()
        await asyncio.wait_for(asyncio.gather(*(m.synced.wait() for m in self.mirrors)), timeout)

    async def stop(self) -> None:
        for m in self.mirrors:
            await m.stop()
