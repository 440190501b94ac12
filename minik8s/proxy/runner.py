"""Batching of syncs: at most one per min interval, at least one per max interval.

kube-proxy's BoundedFrequencyRunner. Informer events only call `run()`; a burst
of a thousand endpoint changes in one instant costs one sync right away (the
first request after a quiet period is not delayed) and one more `min_interval`
later for everything that arrived meanwhile. Without any request the sync still
runs every `max_interval`, flagged `periodic`, which is when the proxier repairs
what someone else may have changed (flushed chains, deleted jumps). A failed
sync is retried after `retry_interval`, doubling up to `max_interval`.
"""
from __future__ import annotations

import asyncio
import logging
import math
import time
from typing import Awaitable, Callable

log = logging.getLogger(__name__)


class BoundedFrequencyRunner:
    def __init__(self, name: str, fn: Callable[[bool], Awaitable[None]], *, min_interval: float,
                 max_interval: float, retry_interval: float = 1.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if min_interval > max_interval:
            raise ValueError(f"min interval {min_interval}s exceeds max interval {max_interval}s")
        self.name = name
        self.fn = fn
        self.min_interval = min_interval
        self.max_interval = max_interval
        self.retry_interval = retry_interval
        self.clock = clock
        self.runs = 0
        self.failures = 0
        self._last = -math.inf
        self._pending = False
        self._retry_at: float | None = None
        self._retry_delay = retry_interval
        self._wakeup = asyncio.Event()

    def run(self) -> None:
        """Ask for a sync: now if the last one is min_interval old, else as soon as it is."""
        self._pending = True
        self._wakeup.set()

    def due_in(self, now: float) -> float:
        """Seconds until the next sync should start (<= 0: now)."""
        deadline = self._last + self.max_interval
        if self._pending:
            deadline = min(deadline, self._last + self.min_interval)
        if self._retry_at is not None:
            deadline = min(deadline, max(self._retry_at, self._last + self.min_interval))
        return deadline - now

    async def run_once(self) -> bool:
        """Run the sync now, whatever is due; True if it succeeded."""
        now = self.clock()
        periodic = now >= self._last + self.max_interval
        self._pending = False
        self._retry_at = None
        self._last = now
        self.runs += 1
        try:
            await self.fn(periodic)
        except asyncio.CancelledError:
            raise
        except Exception:
            self.failures += 1
            self._retry_at = self.clock() + self._retry_delay
            log.exception("%s: sync failed; retrying in %.1fs", self.name, self._retry_delay)
            self._retry_delay = min(self._retry_delay * 2, self.max_interval)
            return False
        self._retry_delay = self.retry_interval
        return True

    async def loop(self) -> None:
        """Run syncs as they fall due, until cancelled."""
        while True:
            self._wakeup.clear()
            delay = self.due_in(self.clock())
            if delay > 0:
                try:
                    await asyncio.wait_for(self._wakeup.wait(), delay)
                except asyncio.TimeoutError:
                    pass
                continue
            await self.run_once()
