"""N hollow nodes in one process: the kubemark idea.

A hollow node does everything a kubelet shows to the API and nothing on the
machine: it registers its Node (Ready, with capacity), renews its Lease in
kube-node-lease, refreshes its Ready condition's heartbeat, reports each pod
bound to it Running and Ready with an IP from its fake pod subnet, and deletes
a pod marked for deletion at once (gracePeriodSeconds=0), as a kubelet does
after its containers stopped. No container ever starts, so hundreds of nodes
fit in one process: enough to load the scheduler and the API server.

One pod informer (every assigned pod) serves all the nodes; its handlers only
do bookkeeping and enqueue keys; `sync_pod(key)` does the work, as a
controller's sync does, so a restarted process converges from a fresh list.
"""
from __future__ import annotations

import asyncio
import logging
import random
from typing import Any

from minik8s.api import errors
from minik8s.api import resources
from minik8s.api import rfc3339
from minik8s.client import informer as informer_mod
from minik8s.client import rest
from minik8s.client import workqueue
from minik8s.hollow import objects

log = logging.getLogger(__name__)

Obj = dict[str, Any]


PODS = resources.must("", "v1", "pods")
NODES = resources.must("", "v1", "nodes")
LEASES = resources.must("coordination.k8s.io", "v1", "leases")


class HollowNode:
    """One fake node's identity and pod IPs."""

    def __init__(self, spec: objects.NodeSpec, name: str, index: int) -> None:
        self.spec = spec
        self.name = name
        self.index = index
        self.ip = objects.node_ip(spec, index)
        self.ips = objects.IPAllocator(objects.pod_subnet(spec, index))
        self.uid: str | None = None
        self.lease: Obj | None = None
        self.ready_since = rfc3339.now()
        self.last_status = 0.0


class HollowKubelet:
    def __init__(self, client: rest.Client, spec: objects.NodeSpec, names: list[str], *,
                 first_index: int = 0, lease_interval: float = 10.0, status_interval: float = 60.0,
                 workers: int = 8) -> None:
        self.client = client
        self.spec = spec
        self.nodes = {name: HollowNode(spec, name, first_index + i) for i, name in enumerate(names)}
        self.lease_interval = lease_interval
        self.status_interval = status_interval
        self.workers = workers
        self.queue = workqueue.RateLimitingQueue(base_delay=0.05, max_delay=10.0)
        self.pods = informer_mod.Informer(client, PODS, field_selector="spec.nodeName!=")
        self.pods.add_handlers(self._on_pod, lambda _old, new: self._on_pod(new), self._on_pod_delete)

    # -- registration and heartbeats ---------------------------------------------------

    async def register(self, concurrency: int = 16) -> None:
        sem = asyncio.Semaphore(concurrency)

        async def one(node: HollowNode) -> None:
            async with sem:
                await self._register(node)
        await asyncio.gather(*(one(n) for n in self.nodes.values()))
        log.info("registered %d hollow nodes", len(self.nodes))

    async def _register(self, node: HollowNode) -> None:
        obj = objects.node_object(self.spec, node.name, node.index)
        try:
            created = await self.client.create(NODES, obj)
        except errors.AlreadyExists:
            # A restart: take the Node over, with this process's capacity, labels and status.
            current = await self.client.get(NODES, node.name)
            current["metadata"].setdefault("labels", {}).update(obj["metadata"]["labels"])
            current["spec"].update(obj["spec"])
            current = await self.client.update(NODES, current)
            current["status"] = obj["status"]
            created = await self.client.update_status(NODES, current)
        node.uid = created["metadata"].get("uid")
        node.last_status = asyncio.get_running_loop().time()
        await self._renew_lease(node)

    async def _renew_lease(self, node: HollowNode) -> None:
        now = rfc3339.now_micro()
        if node.lease is not None:
            node.lease["spec"]["renewTime"] = now
            try:
                node.lease = await self.client.update(LEASES, node.lease)
                return
            except (errors.Conflict, errors.NotFound):
                node.lease = None
        current = await self.client.get_or_none(LEASES, node.name, objects.LEASE_NAMESPACE)
        if current is None:
            node.lease = await self.client.create(LEASES, objects.lease_object(node.name, node.uid, now=now))
            return
        current["spec"].update({"holderIdentity": node.name, "renewTime": now,
                                "leaseDurationSeconds": objects.LEASE_DURATION})
        node.lease = await self.client.update(LEASES, current)

    async def _post_status(self, node: HollowNode) -> None:
        status = objects.node_status(self.spec, node.index, now=rfc3339.now(), since=node.ready_since)
        status["addresses"][1]["address"] = node.name
        # Strategic merge: conditions merge by type.
        await self.client.patch(NODES, node.name, {"status": {"conditions": status["conditions"]}},
                                patch_type=rest.STRATEGIC_PATCH, subresource="status")

    async def heartbeat(self) -> None:
        """Renew every Lease each `lease_interval`, spread evenly; post node status each `status_interval`."""
        loop = asyncio.get_running_loop()
        nodes = list(self.nodes.values())
        random.shuffle(nodes)
        gap = self.lease_interval / max(len(nodes), 1)
        while True:
            for node in nodes:
                await asyncio.sleep(gap)
                try:
                    await self._renew_lease(node)
                    if loop.time() - node.last_status >= self.status_interval:
                        await self._post_status(node)
                        node.last_status = loop.time()
                except errors.NotFound:
                    log.warning("hollow node %s is gone from the API; registering it again", node.name)
                    await self._safe_register(node)
                except errors.StatusError as e:
                    log.info("hollow node %s: heartbeat failed: %s", node.name, e.message)

    async def _safe_register(self, node: HollowNode) -> None:
        try:
            node.lease = None
            await self._register(node)
        except errors.StatusError as e:
            log.info("hollow node %s: registration failed: %s", node.name, e.message)

    # -- pods --------------------------------------------------------------------------

    def _on_pod(self, pod: Obj) -> None:
        node = self.nodes.get((pod.get("spec") or {}).get("nodeName") or "")
        if node is None:
            return
        ip = (pod.get("status") or {}).get("podIP")
        if ip and not (pod.get("spec") or {}).get("hostNetwork"):
            node.ips.claim(pod["metadata"].get("uid", ""), ip)
        self.queue.add(informer_mod.key_of(pod))

    def _on_pod_delete(self, pod: Obj) -> None:
        node = self.nodes.get((pod.get("spec") or {}).get("nodeName") or "")
        if node is not None:
            node.ips.release(pod["metadata"].get("uid", ""))

    async def sync_pod(self, key: str) -> None:
        pod = self.pods.get(key)
        if pod is None:
            return
        node = self.nodes.get(pod["spec"].get("nodeName") or "")
        if node is None:
            return
        meta = pod["metadata"]
        if meta.get("deletionTimestamp"):
            try:
                await self.client.delete(PODS, meta["name"], meta["namespace"], grace_period=0,
                                         preconditions={"uid": meta["uid"]})
            except (errors.NotFound, errors.Conflict):
                pass  # gone already, or replaced by a new pod of the same name
            return
        if not objects.needs_running_status(pod):
            return
        pod_ip = node.ip if pod["spec"].get("hostNetwork") else node.ips.allocate(meta["uid"])
        status = objects.running_status(pod, pod_ip=pod_ip, host_ip=node.ip)
        try:
            await self.client.patch(PODS, meta["name"], {"status": status}, meta["namespace"],
                                    subresource="status")
        except errors.NotFound:
            return

    async def _worker(self) -> None:
        async for key in self.queue.keys():
            try:
                await self.sync_pod(key)
                self.queue.forget(key)
            except asyncio.CancelledError:
                raise
            except Exception as e:  # noqa: BLE001 - retry this pod, keep the others going
                delay = self.queue.add_rate_limited(key)
                message = e.message if isinstance(e, errors.StatusError) else repr(e)
                log.info("hollow pod %s: %s; retry in %.2fs", key, message, delay)
            finally:
                self.queue.done(key)

    async def run(self) -> None:
        await self.register()
        self.pods.start()
        tasks = [asyncio.get_running_loop().create_task(self.heartbeat(), name="hollow-heartbeat")]
        tasks += [asyncio.get_running_loop().create_task(self._worker(), name=f"hollow-pods-{i}")
                  for i in range(self.workers)]
        try:
            await asyncio.gather(*tasks)
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self.pods.stop()
            await self.queue.shutdown()
