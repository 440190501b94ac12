"""`minik8s hollow-node`: run N hollow nodes against an API server until stopped.

Used for scale tests and benchmarks (bench/scheduler.py): the scheduler and
the API server see N real-looking nodes, and pods that become Running, with
no container engine involved.
"""
from __future__ import annotations

import asyncio
import dataclasses
import logging
import signal

from minik8s.client import rest
from minik8s.hollow import kubelet
from minik8s.hollow import objects

log = logging.getLogger(__name__)


@dataclasses.dataclass
class Config:
    server: str = "https://127.0.0.1:6443"
    token: str | None = None
    kubeconfig: str = ""
    count: int = 1
    name_prefix: str = "hollow-node-"
    first_index: int = 0
    node: objects.NodeSpec = dataclasses.field(default_factory=objects.NodeSpec)
    lease_interval: float = 10.0
    status_interval: float = 60.0
    workers: int = 8

    def names(self) -> list[str]:
        return [f"{self.name_prefix}{self.first_index + i}" for i in range(self.count)]


async def serve(config: Config) -> None:
    client = rest.connect(config.server, config.kubeconfig, config.token, user_agent="minik8s-hollow-node")
    hollow = kubelet.HollowKubelet(client, config.node, config.names(), first_index=config.first_index,
                                   lease_interval=config.lease_interval, status_interval=config.status_interval,
                                   workers=config.workers)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    work = loop.create_task(hollow.run())
    stopper = loop.create_task(stop.wait())
    try:
        done, _ = await asyncio.wait({work, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if work in done:
            work.result()
    finally:
        work.cancel()
        stopper.cancel()
        await asyncio.gather(work, stopper, return_exceptions=True)
        await client.close()
