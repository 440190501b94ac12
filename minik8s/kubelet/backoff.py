"""Per-key exponential back-off, as client-go's flowcontrol.Backoff.

The kubelet keys it by pod uid + container name (crash loops) or pod uid +
image (failed pulls). The first failure is retried at once; each further one
waits twice as long as the last, up to a maximum; a key left alone for twice
the maximum starts over. Times are the caller's (a container's finish time),
so the decision is the same no matter how late the sync that asks comes.
"""
from __future__ import annotations

import dataclasses
import time
from typing import Callable


@dataclasses.dataclass
class _Entry:
    backoff: float
    last_update: float


class Backoff:
    def __init__(self, initial: float = 10.0, maximum: float = 300.0,
                 clock: Callable[[], float] = time.time) -> None:
        self.initial = initial
        self.maximum = maximum
        self.clock = clock
        self._entries: dict[str, _Entry] = {}

    def _expired(self, entry: _Entry, event_time: float) -> bool:
        return event_time - entry.last_update > 2 * self.maximum

    def get(self, key: str) -> float:
        entry = self._entries.get(key)
        return entry.backoff if entry else 0.0

    def next(self, key: str, event_time: float) -> None:
        """Record a failure at `event_time`: the next retry waits longer."""
        entry = self._entries.get(key)
        if entry is None or self._expired(entry, event_time):
            self._entries[key] = _Entry(self.initial, event_time)
        else:
            entry.backoff = min(entry.backoff * 2, self.maximum)
            entry.last_update = event_time

    def in_backoff_since(self, key: str, event_time: float) -> bool:
        """Whether a retry for a failure at `event_time` must still wait."""
        entry = self._entries.get(key)
        if entry is None or self._expired(entry, event_time):
            return False
        return self.clock() - event_time < entry.backoff

    def remaining(self, key: str, event_time: float) -> float:
        """Seconds until `in_backoff_since(key, event_time)` turns false (0 if it is)."""
        entry = self._entries.get(key)
        if entry is None:
            return 0.0
        return max(0.0, event_time + entry.backoff - self.clock())

    def reset(self, key: str) -> None:
        self._entries.pop(key, None)

    def forget_prefix(self, prefix: str) -> None:
        for key in [k for k in self._entries if k.startswith(prefix)]:
            del self._entries[key]

    def gc(self) -> None:
        now = self.clock()
        for key in [k for k, e in self._entries.items() if self._expired(e, now)]:
            del self._entries[key]
