"""The shape every controller has: informers feed a key queue, workers call sync(key).

Event handlers only work out which key is affected and enqueue it; `sync(key)`
does all the work, reading fresh state from the informer caches, and must be
idempotent. A failing sync is retried with per-key exponential backoff; a
successful one forgets the key's failures (docs/style.md, sample-controller).
"""
from __future__ import annotations

import asyncio
import logging

from minik8s.api import errors
from minik8s.client import workqueue

log = logging.getLogger(__name__)


class Controller:
    name = "controller"
    workers = 2

    def __init__(self, *, base_delay: float = 0.05, max_delay: float = 60.0) -> None:
        self.queue = workqueue.RateLimitingQueue(base_delay=base_delay, max_delay=max_delay)
        self._tasks: list[asyncio.Task[None]] = []

    async def sync(self, key: str) -> None:
        raise NotImplementedError

    def enqueue(self, key: str) -> None:
        self.queue.add(key)

    def enqueue_after(self, key: str, delay: float) -> None:
        self.queue.add_after(key, delay)

    async def run(self) -> None:
        """Process keys until cancelled."""
        self._tasks = [asyncio.get_running_loop().create_task(self._worker(), name=f"{self.name}-worker-{i}")
                       for i in range(self.workers)]
        try:
            await asyncio.gather(*self._tasks)
        finally:
            for t in self._tasks:
                t.cancel()

    async def process_one(self, key: str) -> None:
        try:
            await self.sync(key)
            self.queue.forget(key)
        except asyncio.CancelledError:
            raise
        except errors.StatusError as e:
            delay = self.queue.add_rate_limited(key)
            level = logging.DEBUG if e.code == 409 else logging.INFO
            log.log(level, "%s: sync %s failed (%s); retry in %.2fs", self.name, key, e.message, delay)
        except Exception:
            delay = self.queue.add_rate_limited(key)
            log.exception("%s: sync %s failed; retry in %.2fs", self.name, key, delay)
        finally:
            self.queue.done(key)

    async def _worker(self) -> None:
        async for key in self.queue.keys():
            await self.process_one(key)

    async def drain(self, timeout: float = 10.0) -> None:
        """Test helper: process queued keys until the queue is empty."""
        deadline = asyncio.get_running_loop().time() + timeout
        while len(self.queue):
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"{self.name}: queue not drained")
            key = await self.queue.get()
            await self.process_one(key)
