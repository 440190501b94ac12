"""The `kubernetes` Endpoints lists the API servers that are alive, not every one that ever started.

kube-apiserver's lease endpoint reconciler (pkg/controlplane/reconcilers/lease.go, the
default `--endpoint-reconciler-type=lease`): every API server keeps a key
`<prefix>/masterleases/<its address>` under an etcd lease of `ttl` seconds and renews it
every `interval`; each round it sets the Endpoints' addresses to the keys that still
exist. A master that is powered off or killed stops renewing, its key expires, and the
next round of any surviving server drops it, so pods stop dialling a dead address through
the `kubernetes` Service. A server that stops cleanly removes its own key and address at
once (RemoveEndpoints).

A loopback advertise address is useless to pods (it is their own loopback) and invalid in
Endpoints, so a single-host server on 127.0.0.1 leaves the Endpoints alone.
"""
from __future__ import annotations

import asyncio
import ipaddress
import logging
from typing import Any

from minik8s.api import errors
from minik8s.api import resources
from minik8s.apiserver import registry as registry_mod
from minik8s.apiserver import storage as storage_mod

log = logging.getLogger(__name__)

PREFIX = "masterleases"
# kube-apiserver's DefaultEndpointReconcilerInterval and its master lease TTL.
DEFAULT_INTERVAL = 10.0
DEFAULT_TTL = 15
SERVICE = "kubernetes"
NAMESPACE = "default"
ENDPOINTS = resources.must("", "v1", "endpoints")


def usable(address: str) -> bool:
    return not ipaddress.ip_address(address).is_loopback


class MasterLeases:
    def __init__(self, store: storage_mod.Storage, registry: registry_mod.Registry, address: str, port: int, *,
                 ttl: int = DEFAULT_TTL, interval: float = DEFAULT_INTERVAL) -> None:
        self.store, self.registry = store, registry
        self.address, self.port = address, port
        self.ttl, self.interval = ttl, interval
        self._task: asyncio.Task[None] | None = None

    @property
    def enabled(self) -> bool:
        return usable(self.address)

    def _ports(self) -> list[dict[str, Any]]:
        return [{"name": "https", "port": self.port, "protocol": "TCP"}]

    async def reconcile(self, *, include_self: bool = True) -> list[str]:
        """Renew this server's lease (when `include_self`) and make the Endpoints' addresses
        the live leases; returns those addresses."""
        if include_self:
            await self.store.put_raw(f"{PREFIX}/{self.address}", self.address.encode(), ttl=self.ttl)
        live = {a for a in await self.store.raw_keys(PREFIX) if _is_ip(a)}
        if include_self:
            live.add(self.address)  # our own write is there even if a lagging read missed it
        else:
            live.discard(self.address)
        addresses = sorted(live, key=ipaddress.ip_address)
        await self._write_endpoints(addresses)
        return addresses

    async def _write_endpoints(self, addresses: list[str]) -> None:
        def subsets() -> list[dict[str, Any]]:
            if not addresses:
                return []
            return [{"addresses": [{"ip": a} for a in addresses], "ports": self._ports()}]

        def update(ep: dict[str, Any]) -> dict[str, Any]:
            ep["subsets"] = subsets()
            return ep

        try:
            current = await self.store.get(ENDPOINTS, NAMESPACE, SERVICE)
        except errors.NotFound:
            # Masters starting together race to create it: the winner's may lack us.
            current = await self.registry.ensure(ENDPOINTS, NAMESPACE, update({
                "apiVersion": "v1", "kind": "Endpoints",
                "metadata": {"name": SERVICE, "namespace": NAMESPACE,
                             "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"}}}))
        if (current.get("subsets") or []) == subsets():
            return
        await self.store.guaranteed_update(ENDPOINTS, NAMESPACE, SERVICE, update)

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.reconcile()
            except errors.StatusError as e:
                log.warning("reconciling the %s Endpoints failed: %s", SERVICE, e.message)

    async def start(self) -> None:
        if not self.enabled:
            return
        await self.reconcile()
        self._task = asyncio.get_running_loop().create_task(self.run())

    async def stop(self) -> None:
        """Stop renewing and take this server out of the Endpoints now (best effort: a
        server that cannot reach etcd leaves it to its lease's expiry)."""
        if self._task is None:
            return
        self._task.cancel()
        self._task = None
        try:
            await self.store.delete_raw(f"{PREFIX}/{self.address}")
            await self.reconcile(include_self=False)
        except errors.StatusError as e:
            log.warning("could not remove %s from the %s Endpoints: %s", self.address, SERVICE, e.message)


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
