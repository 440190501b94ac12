"""Events leave the scheduler through a bounded queue, a few at a time.

Every binding produces a Scheduled event and every failed attempt a
FailedScheduling one: at hundreds of pods a second, one concurrent POST per
event would compete with the bindings for the API server. client-go's event
broadcaster sends from a bounded buffer in the background, dropping events
when it is full; this does the same in front of minik8s's EventRecorder
(which also aggregates repeats). Events are best effort: late is fine, a
lost one is logged.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any

from minik8s.client import events

log = logging.getLogger(__name__)

Obj = dict[str, Any]


class QueuedRecorder:
    def __init__(self, recorder: events.EventRecorder, *, workers: int = 2, max_queued: int = 1000) -> None:
        self.recorder = recorder
        self.workers = workers
        self.queue: asyncio.Queue[tuple[Obj, str, str, str, str]] = asyncio.Queue(maxsize=max_queued)
        self.dropped = 0

    def event(self, obj: Obj, type_: str, reason: str, message: str, *, field_path: str = "") -> None:
        try:
            self.queue.put_nowait((obj, type_, reason, message, field_path))
        except asyncio.QueueFull:
            self.dropped += 1
            if self.dropped % 100 == 1:
                log.warning("event queue full; dropped %d events so far (latest: %s %s)", self.dropped, reason,
                            (obj.get("metadata") or {}).get("name"))

    async def _worker(self) -> None:
        while True:
            obj, type_, reason, message, field_path = await self.queue.get()
            self.recorder.event(obj, type_, reason, message, field_path=field_path)
            await self.recorder.flush()

    async def run(self) -> None:
        """Send queued events until cancelled."""
        await asyncio.gather(*(self._worker() for _ in range(self.workers)))

    async def flush(self, timeout: float = 5.0) -> None:
        """Wait (bounded) until the queue is empty and the last events were written."""
        deadline = asyncio.get_running_loop().time() + timeout
        while not self.queue.empty() and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)
        await asyncio.wait_for(self.recorder.flush(), max(deadline - asyncio.get_running_loop().time(), 0.1))
