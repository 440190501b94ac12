"""Leader election on a coordination.k8s.io Lease, as client-go's leaderelection.

Several controller managers (or schedulers) may run for HA; only the holder of
the Lease acts. A candidate takes the Lease when it is free or expired
(renewTime + leaseDurationSeconds in the past), the holder renews it every
`retry_period`, and a holder that cannot renew within `renew_deadline` stops
leading (the process exits, as Kubernetes components do, so a restart starts
clean). Compare-and-swap on resourceVersion makes the takeover race-free.
"""
from __future__ import annotations

import asyncio
import datetime
import logging
import signal
import socket
import uuid
from typing import Any, Callable, Coroutine

from minik8s.api import errors
from minik8s.api import resources
from minik8s.api import rfc3339
from minik8s.client import rest

log = logging.getLogger(__name__)

LEASES = resources.must("coordination.k8s.io", "v1", "leases")


def default_identity() -> str:
    return f"{socket.gethostname()}_{uuid.uuid4().hex[:8]}"


class LeaderElector:
    def __init__(self, client: rest.Client, name: str, *, namespace: str = "kube-system",
                 identity: str | None = None, lease_duration: float = 15.0, renew_deadline: float = 10.0,
                 retry_period: float = 2.0) -> None:
        self.client = client
        self.name = name
        self.namespace = namespace
        self.identity = identity or default_identity()
        self.lease_duration = lease_duration
        self.renew_deadline = renew_deadline
        self.retry_period = retry_period
        self.is_leader = False

    async def try_acquire_or_renew(self) -> bool:
        now = rfc3339.now_micro()
        lease = await self.client.get_or_none(LEASES, self.name, self.namespace)
        if lease is None:
            body = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                    "metadata": {"name": self.name, "namespace": self.namespace},
                    "spec": {"holderIdentity": self.identity, "leaseDurationSeconds": int(self.lease_duration),
                             "acquireTime": now, "renewTime": now, "leaseTransitions": 0}}
            try:
                await self.client.create(LEASES, body, self.namespace)
                return True
            except errors.AlreadyExists:
                return False
        spec = lease.get("spec") or {}
        holder = spec.get("holderIdentity")
        renewed = rfc3339.parse(spec.get("renewTime"))
        duration = float(spec.get("leaseDurationSeconds") or self.lease_duration)
        expired = renewed is None or (datetime.datetime.now(datetime.timezone.utc) - renewed).total_seconds() > duration
        if holder and holder != self.identity and not expired:
            return False
        if holder != self.identity:
            spec["leaseTransitions"] = int(spec.get("leaseTransitions") or 0) + 1
            spec["acquireTime"] = now
        spec.update({"holderIdentity": self.identity, "leaseDurationSeconds": int(self.lease_duration),
                     "renewTime": now})
        lease["spec"] = spec
        try:
            await self.client.update(LEASES, lease)
            return True
        except errors.Conflict:
            return False

    async def run(self, lead: Callable[[], Coroutine[Any, Any, Any]]) -> None:
        """Block until leading, run `lead()` while renewing; return when leadership is lost."""
        while not self.is_leader:
            try:
                self.is_leader = await self.try_acquire_or_renew()
            except errors.StatusError as e:
                log.info("leader election %s: %s", self.name, e.message)
            if not self.is_leader:
                await asyncio.sleep(self.retry_period)
        log.info("%s became leader of %s/%s", self.identity, self.namespace, self.name)
        task = asyncio.get_running_loop().create_task(lead())
        try:
            last_renew = asyncio.get_running_loop().time()
            while not task.done():
                await asyncio.sleep(self.retry_period)
                try:
                    if await self.try_acquire_or_renew():
                        last_renew = asyncio.get_running_loop().time()
                    else:
                        log.warning("%s lost the lease %s", self.identity, self.name)
                        break
                except errors.StatusError as e:
                    log.info("renewing %s: %s", self.name, e.message)
                if asyncio.get_running_loop().time() - last_renew > self.renew_deadline:
                    log.warning("%s could not renew %s within %.0fs", self.identity, self.name, self.renew_deadline)
                    break
        finally:
            self.is_leader = False
            task.cancel()
            try:
                await task
            except (asyncio.CancelledError, Exception):  # noqa: BLE001
                pass


async def run_until_signalled(client: rest.Client, component: str, lead: Callable[[], Coroutine[Any, Any, Any]], *,
                              elector: LeaderElector | None) -> None:
    """Run `lead()` (behind `elector` if given) until SIGTERM/SIGINT; close `client` at the end.

    Losing the lease ends the process (SystemExit), as Kubernetes' components
    do, so a restart rebuilds its state from the API server instead of
    carrying on with state another leader may have changed.
    """
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    work = loop.create_task(elector.run(lead) if elector is not None else lead())
    stopper = loop.create_task(stop.wait())
    try:
        done, _ = await asyncio.wait({work, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if work in done and not stop.is_set():
            exc = work.exception()
            if exc:
                raise exc
            raise SystemExit(f"{component} lost its leader lease; exiting")
    finally:
        work.cancel()
        stopper.cancel()
        await asyncio.gather(work, stopper, return_exceptions=True)
        await client.close()
