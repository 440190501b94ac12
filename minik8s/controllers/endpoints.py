"""Endpoints: each Service's Endpoints lists the pods its selector matches.

As Kubernetes' endpoints controller: ready pods go to `addresses`, pods that
are not ready (yet) to `notReadyAddresses` (unless the Service publishes not-ready
addresses), terminating pods are dropped. A named targetPort is resolved per pod
from its container ports, so pods that name the port differently land in
different subsets. Services without a selector are left alone (their Endpoints
are the user's). A pod change enqueues every Service in its namespace that
selects it, so readiness is reflected within one sync.
"""
from __future__ import annotations

import logging
from typing import Any

from minik8s.api import errors
from minik8s.api import pods as podutil
from minik8s.api import resources
from minik8s.api import selectors
from minik8s.client import informer as informer_mod
from minik8s.client import rest
from minik8s.controllers import base

log = logging.getLogger(__name__)

SERVICES = resources.must("", "v1", "services")
ENDPOINTS = resources.must("", "v1", "endpoints")
PODS = resources.must("", "v1", "pods")
assert SERVICES and ENDPOINTS and PODS


def resolve_port(pod: dict[str, Any], service_port: dict[str, Any]) -> int | None:
    """The pod's port for a Service port (podutil.FindPort)."""
    target = service_port.get("targetPort", service_port.get("port"))
    if isinstance(target, int) or (isinstance(target, str) and target.isdigit()):
        return int(target)
    protocol = service_port.get("protocol", "TCP")
    for c in (pod.get("spec") or {}).get("containers") or []:
        for p in c.get("ports") or []:
            if p.get("name") == target and p.get("protocol", "TCP") == protocol:
                return int(p["containerPort"])
    return None


def compute_subsets(service: dict[str, Any], pods: list[dict[str, Any]]) -> list[dict[str, Any]]:
    spec = service.get("spec") or {}
    publish_not_ready = bool(spec.get("publishNotReadyAddresses"))
    groups: dict[tuple[tuple[str, int, str], ...], dict[str, list[dict[str, Any]]]] = {}
    for pod in pods:
        ip = (pod.get("status") or {}).get("podIP")
        if not ip or pod["metadata"].get("deletionTimestamp"):
            continue
        ports = []
        for sp in spec.get("ports") or []:
            port = resolve_port(pod, sp)
            if port is None:
                continue
            ports.append((sp.get("name", ""), port, sp.get("protocol", "TCP")))
        if not ports and spec.get("ports"):
            continue
        address = {"ip": ip, "targetRef": {"kind": "Pod", "namespace": pod["metadata"]["namespace"],
                                           "name": pod["metadata"]["name"], "uid": pod["metadata"].get("uid")}}
        node = (pod.get("spec") or {}).get("nodeName")
        if node:
            address["nodeName"] = node
        group = groups.setdefault(tuple(ports), {"addresses": [], "notReadyAddresses": []})
        if publish_not_ready or podutil.is_ready(pod):
            group["addresses"].append(address)
        else:
            group["notReadyAddresses"].append(address)
    subsets = []
    for group_ports, group in sorted(groups.items()):
        subset: dict[str, Any] = {}
        for key in ("addresses", "notReadyAddresses"):
            if group[key]:
                subset[key] = sorted(group[key], key=lambda a: tuple(int(x) for x in a["ip"].split(".")))
        if group_ports:
            subset["ports"] = [{**({"name": name} if name else {}), "port": port, "protocol": proto}
                               for name, port, proto in group_ports]
        subsets.append(subset)
    return subsets


class EndpointsController(base.Controller):
    name = "endpoints"
    workers = 4

    def __init__(self, client: rest.Client, factory: informer_mod.InformerFactory) -> None:
        super().__init__(base_delay=0.05, max_delay=10)
        self.client = client
        self.services = factory.informer(SERVICES)
        self.endpoints = factory.informer(ENDPOINTS)
        self.pods = factory.informer(PODS)
        self.services.add_handlers(on_add=self._service, on_update=lambda _o, s: self._service(s),
                                   on_delete=self._service)
        self.pods.add_handlers(on_add=self._pod, on_update=self._pod_update, on_delete=self._pod)
        self.endpoints.add_handlers(on_delete=self._service)

    def _service(self, obj: dict[str, Any]) -> None:
        self.enqueue(informer_mod.key_of(obj))

    def _services_for(self, pod: dict[str, Any]) -> list[str]:
        ns = pod["metadata"].get("namespace")
        labels = pod["metadata"].get("labels") or {}
        out = []
        for svc in self.services.list(ns):
            selector = (svc.get("spec") or {}).get("selector")
            if selector and selectors.from_equality_map(selector).matches(labels):
                out.append(informer_mod.key_of(svc))
        return out

    def _pod(self, pod: dict[str, Any]) -> None:
        for key in self._services_for(pod):
            self.enqueue(key)

    def _pod_update(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        # A relabelled pod may leave services: look at both sides.
        for key in set(self._services_for(old)) | set(self._services_for(new)):
            self.enqueue(key)

    async def sync(self, key: str) -> None:
        namespace, name = informer_mod.split_key(key)
        service = self.services.get(key)
        if service is None:
            # The Service is gone: its Endpoints go too.
            if self.endpoints.get(key) is not None:
                try:
                    await self.client.delete(ENDPOINTS, name, namespace)
                except errors.NotFound:
                    pass
            return
        selector = (service.get("spec") or {}).get("selector")
        if not selector:
            return
        sel = selectors.from_equality_map(selector)
        pods = [p for p in self.pods.list(namespace) if sel.matches(p["metadata"].get("labels"))]
        subsets = compute_subsets(service, pods)
        current = self.endpoints.get(key)
        labels = dict(service["metadata"].get("labels") or {})
        if current is not None and (current.get("subsets") or []) == subsets and \
                (current["metadata"].get("labels") or {}) == labels:
            return
        if current is None:
            body = {"apiVersion": "v1", "kind": "Endpoints",
                    "metadata": {"name": name, "namespace": namespace, "labels": labels}, "subsets": subsets}
            try:
                await self.client.create(ENDPOINTS, body, namespace)
            except errors.AlreadyExists:
                # The cache is behind: read it fresh and update on the retry.
                raise errors.Conflict("endpoints", name) from None
        else:
            body = dict(current)
            body["metadata"] = dict(current["metadata"], labels=labels)
            body["subsets"] = subsets
            await self.client.update(ENDPOINTS, body)
        log.debug("endpoints %s: %d subsets", key, len(subsets))
