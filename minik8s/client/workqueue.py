"""A rate-limited work queue of keys, with client-go's semantics.

- A key is never processed by two workers at once: adding a key that is being
  processed marks it dirty, and it is queued again when `done` is called.
- Adding a key that is already waiting is a no-op (coalescing bursts).
- `add_rate_limited` delays by a per-key exponential backoff; `forget` resets it.
"""
from __future__ import annotations

import asyncio
import collections
from typing import AsyncIterator, Callable


class ShutDown(Exception):
    pass


class RateLimitingQueue:
    def __init__(self, *, base_delay: float = 0.005, max_delay: float = 300.0,
                 clock: Callable[[], float] | None = None) -> None:
        self.base_delay = base_delay
        self.max_delay = max_delay
        self._queue: collections.deque[str] = collections.deque()
        self._dirty: set[str] = set()
        self._processing: set[str] = set()
        self._failures: dict[str, int] = {}
        self._delayed: dict[str, asyncio.TimerHandle] = {}
        self._wakeup = asyncio.Event()
        self._shutdown = False
        self._clock = clock

    def __len__(self) -> int:
        return len(self._queue)

    def add(self, key: str) -> None:
        if self._shutdown or key in self._dirty:
            return
        self._dirty.add(key)
        if key in self._processing:
            return
        self._queue.append(key)
        self._wakeup.set()

    def add_after(self, key: str, delay: float) -> None:
        if self._shutdown:
            return
        if delay <= 0:
            self.add(key)
            return
        loop = asyncio.get_running_loop()
        existing = self._delayed.get(key)
        if existing is not None:
            # Keep the earlier of the two deadlines.
            if existing.when() <= loop.time() + delay:
                return
            existing.cancel()

        def fire() -> None:
            self._delayed.pop(key, None)
            self.add(key)
        self._delayed[key] = loop.call_later(delay, fire)

    def add_rate_limited(self, key: str) -> float:
        n = self._failures.get(key, 0)
        self._failures[key] = n + 1
        delay = min(self.base_delay * (2.0 ** n), self.max_delay)
        self.add_after(key, delay)
        return delay

    def forget(self, key: str) -> None:
        self._failures.pop(key, None)

    def num_requeues(self, key: str) -> int:
        return self._failures.get(key, 0)

    async def get(self) -> str:
        while not self._queue:
            if self._shutdown:
                raise ShutDown()
            self._wakeup.clear()
            await self._wakeup.wait()
        key = self._queue.popleft()
        self._processing.add(key)
        self._dirty.discard(key)
        return key

    async def keys(self) -> AsyncIterator[str]:
        """Each key as `get` hands it out, until the queue is shut down: a worker's loop is
        `async for key in queue.keys()`, then its sync, then `done(key)`."""
        while True:
            try:
                yield await self.get()
            except ShutDown:
                return

    def done(self, key: str) -> None:
        self._processing.discard(key)
        if key in self._dirty:
            self._queue.append(key)
            self._wakeup.set()

    async def shutdown(self) -> None:
        self._shutdown = True
        for handle in self._delayed.values():
            handle.cancel()
        self._delayed.clear()
        self._wakeup.set()
