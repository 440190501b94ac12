"""Leader election on a coordination.k8s.io Lease, as client-go's tools/leaderelection.

Several controller managers (or schedulers) run for HA; only the holder of the
Lease acts. The rules are client-go's:

- A candidate takes the Lease when nobody holds it, or when the record it last
  saw has not changed for `lease_duration` by its *own* clock ("observed
  time"): the renewTime written in the record is for people (`kubectl get
  lease`), not for deciding, so clock skew between masters does not matter.
- The holder renews every `retry_period`; compare-and-swap on resourceVersion
  makes every takeover race-free.
- Kubernetes' defaults: lease 15 s, renew deadline 10 s, retry 2 s, and the
  same sanity rules (lease > renew deadline > 1.2 x retry period).

Fencing (stricter than client-go): the holder is leader only until
`renew_deadline` after it *sent* its last successful renewal. Every other
candidate waits at least `lease_duration` from a moment after that renewal was
written, and renew_deadline < lease_duration, so the old leader's time is up
(lease_duration - renew_deadline earlier) before anyone can take the Lease.
A watchdog stops the leading work (controllers, scheduling loop) at that
moment, and `fence(client)` makes the work's API client refuse writes past it
too, which covers a leader that was frozen (SIGSTOP, a VM pause) and wakes up
with writes already queued: they are refused before they leave the process.
The process then exits, as Kubernetes' components do, so a restart rebuilds
its state from the API server.

The identity is Kubernetes' `<hostname>_<uuid>`.
"""
from __future__ import annotations

import asyncio
import dataclasses
import heapq
import logging
import random
import re
import signal
import socket
import uuid
from typing import Any, Callable, Coroutine, Protocol

from minik8s.api import errors
from minik8s.api import fencing
from minik8s.api import resources
from minik8s.api import rfc3339
from minik8s.client import rest

log = logging.getLogger(__name__)

LEASES = resources.must("coordination.k8s.io", "v1", "leases")
JITTER_FACTOR = 1.2  # client-go's JitterFactor: retries wait period * [1, 2.2)
MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def default_identity() -> str:
    """Kubernetes' `hostname_uid`: unique per process, readable per machine."""
    return f"{socket.gethostname()}_{uuid.uuid4()}"


_DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(h|ms|m|s|us|µs|ns)")
_UNIT = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}


def parse_duration(text: str) -> float:
    """Seconds in a Go duration ("15s", "1m30s", "500ms") or a bare number of seconds."""
    text = text.strip()
    try:
        return float(text)
    except ValueError:
        pass
    pos, total = 0, 0.0
    for m in _DURATION.finditer(text):
        if m.start() != pos:
            break
        total += float(m.group(1)) * _UNIT[m.group(2)]
        pos = m.end()
    if pos != len(text) or not text:
        raise ValueError(f"{text!r} is not a duration (e.g. 15s, 1m30s, 500ms)")
    return total


@dataclasses.dataclass(frozen=True)
class Timing:
    lease_duration: float = 15.0
    renew_deadline: float = 10.0
    retry_period: float = 2.0

    def validate(self) -> None:
        """client-go's NewLeaderElector checks."""
        if self.lease_duration <= self.renew_deadline:
            raise ValueError("leaseDuration must be greater than renewDeadline")
        if self.renew_deadline <= JITTER_FACTOR * self.retry_period:
            raise ValueError(f"renewDeadline must be greater than retryPeriod*JitterFactor ({JITTER_FACTOR})")
        if self.retry_period <= 0:
            raise ValueError("retryPeriod must be greater than zero")


class Clock(Protocol):
    def now(self) -> float:
        """Monotonic seconds."""

    def wall(self) -> str:
        """The current time as a Lease MicroTime."""

    async def sleep(self, seconds: float) -> None: ...


class RealClock:
    def now(self) -> float:
        return asyncio.get_running_loop().time()

    def wall(self) -> str:
        return rfc3339.now_micro()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


class FakeClock:
    """A clock that moves only when told (`advance`); sleepers wake in order."""

    def __init__(self, start: float = 1000.0) -> None:
        self.t = start
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = 0

    def now(self) -> float:
        return self.t

    def wall(self) -> str:
        return rfc3339.format_micro(self.t)

    async def sleep(self, seconds: float) -> None:
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._seq += 1
        heapq.heappush(self._sleepers, (self.t + max(0.0, seconds), self._seq, fut))
        await fut

    def advance(self, seconds: float) -> None:
        self.t += seconds
        while self._sleepers and self._sleepers[0][0] <= self.t:
            _, _, fut = heapq.heappop(self._sleepers)
            if not fut.done():
                fut.set_result(None)


class LeaseStore(Protocol):
    """The three calls election needs; `ApiLeases` is the API server's, tests use a fake."""

    async def get(self, namespace: str, name: str) -> dict[str, Any] | None: ...

    async def create(self, lease: dict[str, Any]) -> dict[str, Any]: ...

    async def update(self, lease: dict[str, Any]) -> dict[str, Any]: ...


class ApiLeases:
    def __init__(self, client: rest.Client) -> None:
        self.client = client

    async def get(self, namespace: str, name: str) -> dict[str, Any] | None:
        return await self.client.get_or_none(LEASES, name, namespace)

    async def create(self, lease: dict[str, Any]) -> dict[str, Any]:
        return await self.client.create(LEASES, lease, lease["metadata"]["namespace"])

    async def update(self, lease: dict[str, Any]) -> dict[str, Any]:
        return await self.client.update(LEASES, lease)


class NotLeader(errors.ServiceUnavailable):
    """A write refused because this process's leadership has run out (fencing)."""


class LeaderElector:
    def __init__(self, store: LeaseStore | rest.Client, name: str, *, namespace: str = "kube-system",
                 identity: str | None = None, timing: Timing | None = None, clock: Clock | None = None,
                 release_on_cancel: bool = True, rng: random.Random | None = None) -> None:
        self.store: LeaseStore = ApiLeases(store) if isinstance(store, rest.Client) else store
        self.name = name
        self.namespace = namespace
        self.identity = identity or default_identity()
        self.timing = timing or Timing()
        self.timing.validate()
        self.clock: Clock = clock or RealClock()
        self.release_on_cancel = release_on_cancel
        self.rng = rng or random.Random()
        # What this candidate last saw in the Lease, and when (by its own clock).
        self.observed_spec: dict[str, Any] | None = None
        self.observed_time = 0.0
        # When the last successful acquire/renew was sent; leadership ends renew_deadline later.
        self.renewed_at: float | None = None
        self.fenced = False  # leadership ran out: never lead again in this process
        self._lost: asyncio.Event | None = None

    # -- the state others may ask about ------------------------------------------------

    def is_leader(self) -> bool:
        """True while this process may act: it renewed less than renew_deadline ago."""
        return (not self.fenced and self.renewed_at is not None
                and self.clock.now() < self.renewed_at + self.timing.renew_deadline)

    def leader_until(self) -> float | None:
        return None if self.renewed_at is None else self.renewed_at + self.timing.renew_deadline

    def check(self, method: str = "", path: str = "") -> None:
        """The write guard: raise NotLeader (and stop leading) once leadership has run out."""
        if self.is_leader():
            return
        self._stop_leading()
        raise NotLeader(f"{self.identity} is no longer the leader of {self.namespace}/{self.name}; "
                        f"refusing {method} {path}".rstrip())

    def _stop_leading(self) -> None:
        if self.renewed_at is not None:
            self.fenced = True
        if self._lost is not None:
            self._lost.set()

    # -- one round ---------------------------------------------------------------------------

    async def try_acquire_or_renew(self) -> bool:
        """client-go's tryAcquireOrRenew: True when this candidate holds the Lease afterwards."""
        if self.fenced:
            return False
        sent = self.clock.now()
        wall = self.clock.wall()
        lease = await self.store.get(self.namespace, self.name)
        record = {"holderIdentity": self.identity, "leaseDurationSeconds": _whole(self.timing.lease_duration),
                  "acquireTime": wall, "renewTime": wall, "leaseTransitions": 0}
        if lease is None:
            body = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                    "metadata": {"name": self.name, "namespace": self.namespace}, "spec": record}
            try:
                await self.store.create(body)
            except errors.AlreadyExists:
                return False
            return self._won(sent, record)
        spec = dict(lease.get("spec") or {})
        if spec != self.observed_spec:
            self.observed_spec = spec
            self.observed_time = self.clock.now()
        holder = spec.get("holderIdentity") or ""
        duration = float(spec.get("leaseDurationSeconds") or self.timing.lease_duration)
        if holder and holder != self.identity and self.observed_time + duration > self.clock.now():
            if self.renewed_at is not None:
                self._stop_leading()  # somebody else holds it: whatever we thought, we lost
            return False
        if holder == self.identity:
            record["acquireTime"] = spec.get("acquireTime") or wall
            record["leaseTransitions"] = int(spec.get("leaseTransitions") or 0)
        else:
            record["leaseTransitions"] = int(spec.get("leaseTransitions") or 0) + 1
        lease = dict(lease, spec=record)
        try:
            await self.store.update(lease)
        except errors.Conflict:
            return False
        return self._won(sent, record)

    def _won(self, sent: float, record: dict[str, Any]) -> bool:
        self.observed_spec = record
        self.observed_time = self.clock.now()
        # A renewal that came back after its own deadline proves nothing: the
        # fence has already stopped the work, and we stay stopped.
        if self.renewed_at is not None and not self.is_leader():
            self._stop_leading()
            return False
        self.renewed_at = sent
        return True

    async def release(self) -> bool:
        """Give the Lease up (graceful stop), so a standby need not wait out the lease."""
        if not self.is_leader():
            return False
        lease = await self.store.get(self.namespace, self.name)
        if lease is None or (lease.get("spec") or {}).get("holderIdentity") != self.identity:
            return False
        spec = dict(lease["spec"])
        wall = self.clock.wall()
        spec.update({"holderIdentity": "", "leaseDurationSeconds": 1, "renewTime": wall, "acquireTime": wall})
        try:
            await self.store.update(dict(lease, spec=spec))
        except errors.StatusError:
            return False
        self.renewed_at = None
        return True

    # -- the loops -------------------------------------------------------------------------------

    def _jittered(self) -> float:
        return self.timing.retry_period * (1 + self.rng.random() * JITTER_FACTOR)

    async def acquire(self) -> None:
        while True:
            try:
                if await self.try_acquire_or_renew():
                    log.info("%s became leader of %s/%s", self.identity, self.namespace, self.name)
                    return
            except errors.StatusError as e:
                log.info("leader election %s/%s: %s", self.namespace, self.name, e.message)
            if self.fenced:
                raise RuntimeError("leadership ended in this process; it does not campaign again")
            await self.clock.sleep(self._next_try())

    def _next_try(self) -> float:
        """How long a candidate waits before trying again: the jittered retry period, or less
        when the holder's lease runs out sooner (by this candidate's observed time), so the
        takeover comes when the lease expires rather than up to a retry period later. Safe:
        the wait still ends at observed time + lease duration at the earliest, which is what
        the fencing argument (module docstring) rests on."""
        wait = self._jittered()
        spec = self.observed_spec or {}
        if spec.get("holderIdentity") and spec.get("holderIdentity") != self.identity:
            duration = float(spec.get("leaseDurationSeconds") or self.timing.lease_duration)
            wait = min(wait, max(0.0, self.observed_time + duration - self.clock.now()))
        return wait

    async def _renew_forever(self) -> None:
        while True:
            await self.clock.sleep(self.timing.retry_period)
            try:
                ok = await self.try_acquire_or_renew()
            except errors.StatusError as e:
                log.info("renewing %s/%s: %s", self.namespace, self.name, e.message)
                continue
            if not ok and self.fenced:
                holder = (self.observed_spec or {}).get("holderIdentity")
                log.warning("%s lost the lease %s/%s to %s", self.identity, self.namespace, self.name, holder)
                return

    async def _fence_watch(self) -> None:
        """Return at the moment leadership runs out (renew_deadline after the last renewal sent)."""
        while True:
            until = self.leader_until()
            now = self.clock.now()
            if self.fenced or until is None or now >= until:
                return
            await self.clock.sleep(until - now)

    async def run(self, lead: Callable[[], Coroutine[Any, Any, Any]]) -> None:
        """Block until leading, run `lead()` while renewing; return when leadership is lost.

        `lead()` is cancelled at the latest when the renew deadline passes without a renewal."""
        self._lost = asyncio.Event()
        await self.acquire()
        loop = asyncio.get_running_loop()
        work = loop.create_task(lead())
        helpers = [loop.create_task(self._renew_forever()), loop.create_task(self._fence_watch()),
                   loop.create_task(self._lost.wait())]
        graceful = True
        try:
            done, _ = await asyncio.wait({work, *helpers}, return_when=asyncio.FIRST_COMPLETED)
            if work not in done:
                graceful = False
                self._stop_leading()
                log.warning("%s stops leading %s/%s: not renewed within %gs", self.identity, self.namespace,
                            self.name, self.timing.renew_deadline)
        finally:
            for task in (work, *helpers):
                task.cancel()
            await asyncio.gather(work, *helpers, return_exceptions=True)
            if graceful and self.release_on_cancel:
                try:
                    await asyncio.wait_for(self.release(), self.timing.retry_period)
                except (asyncio.TimeoutError, errors.StatusError):
                    pass
        if self.fenced:
            return  # the work's errors after the fence are NotLeader refusals, not failures
        exc = work.exception() if work.done() and not work.cancelled() else None
        if exc is not None:
            raise exc


def _whole(seconds: float) -> int:
    return max(1, int(round(seconds)))


def fence(client: rest.Client, elector: LeaderElector) -> rest.Client:
    """Make `client` refuse writes (NotLeader) once `elector`'s leadership has run out, and
    send each write with the leader-lease header, so the API server refuses it too if the
    Lease has another holder by the time it arrives (minik8s/api/fencing.py).

    The election's own requests on its Lease pass unmarked: they are how leadership is won."""
    own = {LEASES.path(elector.namespace), LEASES.path(elector.namespace, elector.name)}
    header = {fencing.HEADER: fencing.token(elector.namespace, elector.name, elector.identity)}

    def guard(method: str, path: str) -> dict[str, str]:
        if method.upper() not in MUTATING or path in own:
            return {}
        elector.check(method, path)
        return header
    client.write_guard = guard
    return client


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
