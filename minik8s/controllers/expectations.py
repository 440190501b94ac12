"""What a controller is still waiting to see in its cache, per controller key.

A controller acts on its informer cache, and the cache lags the API server. A
ReplicaSet that creates 3 pods and is synced again before the watch delivers
them would see 0 pods and create 3 more. So, as upstream's
UIDTrackingControllerExpectations (pkg/controller/controller_utils.go), before
asking for N creates the controller records "expect N adds"; the pod informer's
add handler lowers the count as each pod arrives, and `satisfied(key)` says
whether the next sync may act. Deletes are tracked by pod key, so a pod that
vanishes for another reason does not count as one of ours.

Expectations live only in memory: after a restart there are none, every key is
satisfied, and the first sync works from what the freshly listed informers
show, which is the API's state (nothing in flight can be lost by a killed
process, because nothing was in flight in the new one).

A record older than `timeout` (5 minutes, as upstream's ExpectationsTimeout) is
treated as satisfied, so a lost watch event delays a controller but never
wedges it.
"""
from __future__ import annotations

import dataclasses
import logging
import time
from typing import Callable, Iterable

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 300.0


@dataclasses.dataclass
class Expectation:
    """Outstanding adds and deletes for one controller key, and when they were set."""

    add: int
    delete: int
    timestamp: float

    def fulfilled(self) -> bool:
        # Counts can go negative when more events arrive than were expected
        # (e.g. a pod we did not create is added); that still means "done".
        return self.add <= 0 and self.delete <= 0


class Expectations:
    """Per-key expectations with UID-style tracking of deletions.

    Keys are the controller's work-queue keys (`namespace/name`); pod keys for
    deletions are `namespace/name` of the pod. All methods are synchronous and
    cheap, so informer handlers may call them.
    """

    def __init__(self, *, timeout: float = DEFAULT_TIMEOUT, clock: Callable[[], float] = time.monotonic) -> None:
        self.timeout = timeout
        self.clock = clock
        self._records: dict[str, Expectation] = {}
        self._pending_deletes: dict[str, set[str]] = {}

    def get(self, key: str) -> Expectation | None:
        return self._records.get(key)

    def satisfied(self, key: str) -> bool:
        """True when the controller may act on `key`: nothing outstanding, expired, or never set."""
        exp = self._records.get(key)
        if exp is None:
            # A controller that never set expectations for this key (new object,
            # or a restarted process) acts on what its cache shows.
            return True
        if exp.fulfilled():
            return True
        if self.clock() - exp.timestamp > self.timeout:
            log.info("expectations for %s expired (add=%d, delete=%d); syncing anyway", key, exp.add, exp.delete)
            return True
        return False

    def expect_creations(self, key: str, count: int) -> None:
        """Record that `count` creates were just requested for `key` (replaces any old record)."""
        self._records[key] = Expectation(add=count, delete=0, timestamp=self.clock())
        self._pending_deletes.pop(key, None)

    def expect_deletions(self, key: str, pod_keys: Iterable[str]) -> None:
        """Record that the pods `pod_keys` were just asked to be deleted for `key`."""
        pending = set(pod_keys)
        self._pending_deletes[key] = pending
        self._records[key] = Expectation(add=0, delete=len(pending), timestamp=self.clock())

    def expect(self, key: str, creations: int, pod_keys: Iterable[str]) -> None:
        """Both at once (SetExpectations): `creations` creates and the deletes of `pod_keys`."""
        pending = set(pod_keys)
        self._pending_deletes[key] = pending
        self._records[key] = Expectation(add=creations, delete=len(pending), timestamp=self.clock())

    def creation_observed(self, key: str) -> None:
        """One create for `key` was seen in the cache, or will never happen (the request failed)."""
        self._lower(key, add=1, delete=0)

    def deletion_observed(self, key: str, pod_key: str) -> None:
        """`pod_key` was seen deleted (or will not be); counts only if we were waiting for it."""
        pending = self._pending_deletes.get(key)
        if pending is None or pod_key not in pending:
            return
        pending.discard(pod_key)
        self._lower(key, add=0, delete=1)

    def delete_expectations(self, key: str) -> None:
        """Forget `key` (its controller object is gone)."""
        self._records.pop(key, None)
        self._pending_deletes.pop(key, None)

    def _lower(self, key: str, *, add: int, delete: int) -> None:
        exp = self._records.get(key)
        if exp is None:
            return
        exp.add -= add
        exp.delete -= delete
