"""Object storage on etcd v3: the only place cluster state lives.

Keys follow Kubernetes: `<prefix>/<resource>/<namespace>/<name>` (cluster-scoped
resources drop the namespace). Values are the object's JSON without
`metadata.resourceVersion`; the resourceVersion a reader sees is the key's etcd
`mod_revision`, so it is always exact and every write is a compare-and-swap
transaction on it: a stale writer gets 409 Conflict, never a lost update.

Every etcd call is bounded in time: an unreachable etcd answers 503, a slow one
504, and the next request simply tries again (gRPC reconnects by itself). A 503 for
a call that never reached etcd (no connection at all) carries retryAfterSeconds: the
request was not carried out, so a client may send it again, to another API server
(a stacked master whose etcd member died: its clients move to the other masters). A
write whose proposal etcd may have lost in a raft leader election is asked again, and an
earlier try that was applied after all is recognised (Storage._write), so an election
costs a create, update, delete or binding a second, not an error.

Two things keep etcd, and the watch caches above it, from growing without
bound, as kube-apiserver does: objects of resources with a time to live
(Events, `--event-ttl`) are written under etcd leases and vanish when they
expire, and `compact_forever` compacts etcd's history every
`--etcd-compaction-interval` to the revision seen one interval before.
"""
from __future__ import annotations

import asyncio
import builtins
import dataclasses
import functools
import logging
from typing import Any, Awaitable, Callable, TypeVar

import aetcd
import aetcd.exceptions
import aetcd.rpc
import aetcd.utils
import orjson

from minik8s.api import errors
from minik8s.api import resources
from minik8s.apiserver import etcdclient

log = logging.getLogger(__name__)

T = TypeVar("T")

# A hook that receives the current object (already decoded, with its
# resourceVersion) and returns the new one, or raises a StatusError to abort.
UpdateFn = Callable[[dict[str, Any]], Awaitable[dict[str, Any]] | dict[str, Any]]


def encode(obj: dict[str, Any]) -> bytes:
    meta = obj.get("metadata") or {}
    if "resourceVersion" in meta:
        obj = dict(obj)
        obj["metadata"] = {k: v for k, v in meta.items() if k != "resourceVersion"}
    return orjson.dumps(obj)


def decode(value: bytes, revision: int) -> dict[str, Any]:
    obj = orjson.loads(value)
    obj.setdefault("metadata", {})["resourceVersion"] = str(revision)
    return obj


class Storage:
    """CRUD on etcd with optimistic concurrency. Knows nothing of HTTP."""

    def __init__(self, endpoints: list[str], *, prefix: str = "/registry", timeout: float = 5.0,
                 ttls: dict[str, int] | None = None, tls: etcdclient.TLS | None = None) -> None:
        self.endpoints = endpoints
        # --etcd-cafile/certfile/keyfile, for https:// endpoints (an external etcd cluster).
        self.tls = tls or etcdclient.TLS()
        self.prefix = prefix.rstrip("/")
        self.timeout = timeout
        self._endpoint_index = 0
        self.client = self._new_client()
        # Seconds an object of these resources (by plural) lives after its last write.
        self.ttls = dict(ttls or {})
        self._leases = _LeaseManager()

    def _new_client(self) -> aetcd.Client:
        return etcdclient.new_client(self.endpoints[self._endpoint_index % len(self.endpoints)], self.tls,
                                     timeout=self.timeout,
                                     options={"grpc.max_receive_message_length": 64 * 1024 * 1024})

    async def close(self) -> None:
        await self.client.close()

    # -- keys ---------------------------------------------------------------

    def resource_prefix(self, res: resources.Resource, namespace: str | None = None) -> bytes:
        res = resources.storage_resource(res)
        base = f"{self.prefix}/{_storage_name(res)}/"
        if res.namespaced and namespace:
            base += f"{namespace}/"
        return base.encode()

    def key(self, res: resources.Resource, namespace: str | None, name: str) -> bytes:
        res = resources.storage_resource(res)
        if res.namespaced:
            return f"{self.prefix}/{_storage_name(res)}/{namespace}/{name}".encode()
        return f"{self.prefix}/{_storage_name(res)}/{name}".encode()

    # -- guarded calls ------------------------------------------------------

    async def _call(self, what: str, coro_fn: Callable[[], Awaitable[T]]) -> T:
        """Run one etcd call with a deadline, mapping failures to 503/504."""
        # Every RPC carries a gRPC deadline of `timeout` (aetcd passes it), so
        # no extra asyncio timer is needed on this hot path.
        try:
            return await coro_fn()
        except (asyncio.TimeoutError, aetcd.exceptions.ConnectionTimeoutError, aetcd.exceptions.WatchTimeoutError) as e:
            # A member whose machine vanished (powered off, its address gone) sends no reset:
            # its calls time out instead of failing. With other members listed, the next
            # call asks one of them; a merely slow cluster loses nothing by that.
            self._rotate()
            raise errors.Timeout(f"etcd did not answer {what} within {self.timeout:g}s; "
                                 "the request may or may not have been applied") from e
        except aetcd.exceptions.ConnectionFailedError as e:
            self._rotate()
            if never_sent(e):
                raise errors.ServiceUnavailable(f"etcd is unavailable ({what}, not sent): {e}",
                                                retry_after=1) from e
            raise errors.ServiceUnavailable(f"etcd is unavailable ({what}; the request may or may not have "
                                            f"been applied): {e}") from e
        except aetcd.exceptions.ClientError as e:
            raise errors.InternalError(f"etcd {what}: {e}") from e
        except asyncio.CancelledError as e:
            task = asyncio.current_task()
            if task is None or task.cancelling():
                raise
            # Not this request being cancelled but its gRPC call: another call timed out and
            # the store moved to another endpoint, closing the channel under this one
            # (_rotate). Let through, the cancellation would end the request with no answer.
            raise errors.ServiceUnavailable(f"etcd {what} was cut off: {_MOVED}; the request may or may not "
                                            "have been applied") from e

    def _rotate(self) -> None:
        if len(self.endpoints) > 1:
            self._endpoint_index += 1
            old = self.client
            self.client = self._new_client()
            asyncio.get_running_loop().create_task(old.close())

    async def _txn(self, compare: list[Any], success: list[Any], failure: list[Any],
                   timeout: float | None = None) -> Any:
        """A raw Txn, returning the whole response (aetcd's helper drops the header revision),
        built and its errors mapped with aetcd's own private helpers so they stay aetcd's."""
        client = self.client
        await client.connect()
        request = aetcd.rpc.TxnRequest(
            compare=[c.build_message() for c in compare],
            success=client._ops_to_requests(success),  # noqa: SLF001
            failure=client._ops_to_requests(failure),  # noqa: SLF001
        )
        try:
            return await client.kvstub.Txn(request, timeout=timeout or self.timeout, metadata=client.metadata)
        except aetcd.rpc.AioRpcError as e:
            aetcd.exceptions._handle_exception(e)  # noqa: SLF001
            raise

    # -- reads --------------------------------------------------------------

    async def revision(self) -> int:
        """The store's current revision."""
        async def op() -> int:
            resp = await self.client.get_prefix(f"{self.prefix}/__revision_probe__".encode(), keys_only=True)
            return int(resp.header.revision)
        return await self._call("get revision", op)

    async def get(self, res: resources.Resource, namespace: str | None, name: str) -> dict[str, Any]:
        key = self.key(res, namespace, name)
        got = await self._call("get", lambda: self.client.get(key))
        if got is None:
            raise errors.NotFound(res.qualified, name)
        return decode(got.value, got.mod_revision)

    async def get_or_none(self, res: resources.Resource, namespace: str | None, name: str) -> dict[str, Any] | None:
        try:
            return await self.get(res, namespace, name)
        except errors.NotFound:
            return None

    async def list(self, res: resources.Resource, namespace: str | None = None) -> tuple[list[dict[str, Any]], int]:
        """All objects of a resource (in one namespace, or all), and the list's revision."""
        prefix = self.resource_prefix(res, namespace)
        resp = await self._call("list", lambda: self.client.get_prefix(prefix))
        items = [decode(kv.value, kv.mod_revision) for kv in resp.kvs]
        return items, int(resp.header.revision)

    async def list_page(self, res: resources.Resource, namespace: str | None = None, *, limit: int = 0,
                        start: str | None = None, revision: int = 0,
                        matches: Callable[[dict[str, Any]], bool] | None = None) -> "Page":
        """One page of a list, as Kubernetes' etcd3 store.GetList.

        `start` is a key relative to the list's prefix (from a continue token);
        `revision` pins the read to a snapshot (0: the newest). With a `limit`,
        objects are filtered by `matches` as they come and etcd is asked again,
        for twice as many each time, until the page is full or the range ends: a
        page is short only at the end. Raises Compacted when `revision` is gone
        and FutureRevision when it is not yet written.
        """
        prefix = self.resource_prefix(res, namespace)
        key = prefix + start.encode() if start else prefix
        end = aetcd.utils.prefix_range_end(prefix)
        fetch = limit
        items: builtins.list[dict[str, Any]] = []
        last_key = b""
        while True:
            resp = await self._range(key, end, limit=fetch, revision=revision)
            more = bool(resp.more)
            for kv in resp.kvs:
                if limit and len(items) >= limit:
                    more = True
                    break
                last_key = kv.key
                obj = decode(kv.value, kv.mod_revision)
                if matches is None or matches(obj):
                    items.append(obj)
            if revision == 0:
                # Later pages read the same snapshot as the first.
                revision = int(resp.header.revision)
            if not more or not limit or len(items) >= limit:
                break
            fetch = min(fetch * 2, MAX_PAGE_FETCH)
            key = last_key + b"\0"
        if not more:
            return Page(items, revision, None, None)
        remaining = int(resp.count) - limit if matches is None else None
        return Page(items, revision, (last_key + b"\0")[len(prefix):].decode(), remaining)

    async def _range(self, key: bytes, end: bytes, *, limit: int, revision: int) -> Any:
        """A raw Range (aetcd's helpers take neither a limit nor a revision)."""
        async def op() -> Any:
            client = self.client
            await client.connect()
            request = aetcd.rpc.RangeRequest(key=key, range_end=end, limit=max(limit, 0), revision=revision)
            try:
                return await client.kvstub.Range(request, timeout=self.timeout, metadata=client.metadata)
            except aetcd.rpc.AioRpcError as e:
                if e.code() == aetcd.rpc.StatusCode.OUT_OF_RANGE:
                    details = e.details() or ""
                    if "compacted" in details:
                        raise Compacted(revision) from None
                    if "future" in details:
                        raise FutureRevision(revision) from None
                aetcd.exceptions._handle_exception(e)  # noqa: SLF001 - aetcd's own error mapping, as its helpers use
                raise
        return await self._call("list", op)

    async def count(self, res: resources.Resource, namespace: str | None = None) -> int:
        prefix = self.resource_prefix(res, namespace)
        resp = await self._call("count", lambda: self.client.get_prefix(prefix, keys_only=True))
        return int(resp.count)

    # -- writes -------------------------------------------------------------

    async def _write(self, what: str, key: bytes, compare: builtins.list[Any], success: builtins.list[Any],
                     failure: builtins.list[Any]) -> tuple[Any, int]:
        """One conditional write, asked again when etcd may have lost it; returns etcd's answer
        and how many tries it took (more than one: an earlier try may have been applied).

        A proposal that waited through a raft leader election was dropped with the old
        leader, or etcd says so (_LEADER_LOST); or it was committed just before. The write
        is asked again (as is one whose channel was closed under it when the store moved
        to another endpoint) within the same `timeout` in all, each try given part of it, so a
        lost proposal costs a second or two instead of the whole timeout. Asking again is
        safe because every write compares: a second commit of an applied write fails its
        compare, and the caller tells from what the failure branch read (the key's value
        and revisions) whether its earlier try was the one applied."""
        deadline = asyncio.get_running_loop().time() + self.timeout
        tries = 0
        while True:
            tries += 1
            this_try = min(deadline - asyncio.get_running_loop().time(), self.timeout * WRITE_TRY)
            try:
                resp = await self._call(what, functools.partial(self._txn, compare, success, failure,
                                                                timeout=this_try))
            except (errors.ServiceUnavailable, errors.Timeout) as e:
                if not (isinstance(e, errors.Timeout) or leader_lost(e) or _MOVED in e.message) or \
                        deadline - asyncio.get_running_loop().time() < 0.2:
                    raise
                log.info("etcd may have lost %s %s (%s); asking again", what, key.decode(), e.message)
                await asyncio.sleep(0.1)
                continue
            return resp, tries

    async def create(self, res: resources.Resource, obj: dict[str, Any],
                     extra: "Extra | None" = None) -> dict[str, Any]:
        """Create `obj`; `extra` adds compares/ops that must commit atomically with it
        (allocations). A failed extra compare raises ExtraConflict."""
        meta = obj["metadata"]
        key = self.key(res, meta.get("namespace"), meta["name"])
        value = encode(obj)
        tx = self.client.transactions
        extra = extra or Extra()
        lease = await self._lease_for(res)
        resp, tries = await self._write("create", key, [tx.create(key) == 0, *extra.compare],
                                        [tx.put(key, value, lease=lease), *extra.success], [tx.get(key)])
        if not resp.succeeded:
            kvs = resp.responses[0].response_range.kvs
            # The object's bytes hold its new uid: a key holding byte for byte our object is
            # our earlier try's commit.
            if tries > 1 and kvs and kvs[0].value == value:
                return decode(value, int(kvs[0].mod_revision))
            if kvs:
                raise errors.AlreadyExists(res.qualified, meta["name"])
            raise ExtraConflict()
        return decode(value, resp.header.revision)

    async def update(self, res: resources.Resource, obj: dict[str, Any], expected_rv: int,
                     extra: "Extra | None" = None) -> dict[str, Any]:
        """Write `obj` if the stored object still has `expected_rv`, else 409 (404 if gone)."""
        meta = obj["metadata"]
        key = self.key(res, meta.get("namespace"), meta["name"])
        value = encode(obj)
        tx = self.client.transactions
        extra = extra or Extra()
        lease = await self._lease_for(res)
        resp, tries = await self._write("update", key, [tx.mod(key) == expected_rv, *extra.compare],
                                        [tx.put(key, value, lease=lease), *extra.success], [tx.get(key)])
        if not resp.succeeded:
            kvs = resp.responses[0].response_range.kvs
            if not kvs:
                raise errors.NotFound(res.qualified, meta["name"])
            # An earlier try that etcd lost the answer to was applied if the key now holds our
            # very bytes (they carry the new managedFields times, generation and so on; a
            # writer storing the same bytes from the same revision wanted this same state).
            # A revision that moved to anything else is someone else's write: 409 as ever.
            if tries > 1 and int(kvs[0].mod_revision) != expected_rv and kvs[0].value == value:
                return decode(value, int(kvs[0].mod_revision))
            if int(kvs[0].mod_revision) != expected_rv:
                raise errors.Conflict(res.qualified, meta["name"])
            raise ExtraConflict()
        return decode(value, resp.header.revision)

    async def delete(self, res: resources.Resource, namespace: str | None, name: str,
                     expected_rv: int | None = None,
                     extra_for: "Callable[[dict[str, Any]], Extra] | None" = None,
                     current: dict[str, Any] | None = None) -> dict[str, Any]:
        """Delete (optionally only at `expected_rv`); returns the last state, at the deletion revision.

        `extra_for(current)` gives ops committed with the delete (releasing
        allocations). `current`, when the caller already holds the object at
        `expected_rv`, saves a read.
        """
        key = self.key(res, namespace, name)
        tx = self.client.transactions
        while True:
            if current is None:
                current = await self.get(res, namespace, name)
            rv = int(current["metadata"]["resourceVersion"])
            if expected_rv is not None and rv != expected_rv:
                raise errors.Conflict(res.qualified, name)
            extra = extra_for(current) if extra_for else Extra()
            resp, tries = await self._write("delete", key, [tx.mod(key) == rv, *extra.compare],
                                            [tx.delete(key), *extra.success], [tx.get(key)])
            if resp.succeeded:
                current["metadata"]["resourceVersion"] = str(resp.header.revision)
                return current
            kvs = resp.responses[0].response_range.kvs
            # An earlier try that etcd lost the answer to was applied if the object we meant
            # is gone: no key, or a key created after the revision we deleted at (a new
            # object of that name, which must not be deleted in its stead). Its deletion
            # revision is not known then; the store's revision is at or after it.
            if tries > 1 and (not kvs or int(kvs[0].create_revision) > rv):
                current["metadata"]["resourceVersion"] = str(resp.header.revision)
                return current
            if expected_rv is not None:
                raise errors.Conflict(res.qualified, name)
            current = None

    async def guaranteed_update(self, res: resources.Resource, namespace: str | None, name: str,
                                fn: UpdateFn, *, attempts: int = 16,
                                first: dict[str, Any] | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
        """Read-modify-write with retries on conflict, as Kubernetes' GuaranteedUpdate.

        `fn` gets the current object and returns the desired one; returning the
        same object (equal) skips the write. Returns (old, new). `first` is a
        possibly stale copy (from the watch cache) to try before reading etcd:
        the compare-and-swap catches staleness, and the retry reads fresh.
        """
        for attempt in range(attempts):
            current = first if attempt == 0 and first is not None else await self.get(res, namespace, name)
            rv = int(current["metadata"]["resourceVersion"])
            try:
                desired = fn(deepcopy(current))
                if asyncio.iscoroutine(desired):
                    desired = await desired
            except errors.StatusError:
                if current is first:
                    first = None  # judged on a stale copy: judge again on a fresh one
                    continue
                raise
            assert isinstance(desired, dict)
            if _same(desired, current):
                if current is first:
                    first = None  # an unchanged stale copy proves nothing: confirm with etcd
                    continue
                return current, current
            try:
                return current, await self.update(res, desired, rv)
            except errors.Conflict:
                continue
        raise errors.Conflict(res.qualified, name, "too many concurrent updates; please retry")

    # -- time to live and compaction ----------------------------------------------

    async def _lease_for(self, res: resources.Resource) -> int | None:
        """The etcd lease a write of `res` is attached to (None: the object lives on)."""
        ttl = self.ttls.get(resources.storage_resource(res).plural)
        if not ttl:
            return None

        async def grant(seconds: int) -> int:
            lease = await self._call("lease", lambda: self.client.lease(seconds))
            return int(lease.id)
        return await self._leases.lease(ttl, grant)

    async def compact_once(self, known_version: int, revision: int) -> tuple[int, int]:
        """storage/etcd3's compact: claim this round through the version of COMPACT_KEY (so of
        several API servers one compacts), then compact to `revision` (0: nothing yet, on
        start). Returns the version this server now knows and the store's current revision."""
        tx = self.client.transactions
        key = COMPACT_KEY
        resp = await self._call("compact", lambda: self._txn(
            [tx.version(key) == known_version], [tx.put(key, str(revision).encode())], [tx.get(key)]))
        current = int(resp.header.revision)
        if not resp.succeeded:
            kvs = resp.responses[0].response_range.kvs
            return (int(kvs[0].version) if kvs else 0), current
        if revision:
            try:
                await self._call("compact", lambda: self.client.compact(revision))
                log.info("etcd compacted to revision %d", revision)
            except errors.StatusError as e:
                log.warning("etcd compaction to %d failed: %s", revision, e.message)
        return known_version + 1, current

    async def compact_forever(self, interval: float) -> None:
        """Every `interval`, compact to the revision seen an interval ago (kube-apiserver's
        --etcd-compaction-interval): watches and paged lists have that long to catch up."""
        version, revision = 0, 0
        while True:
            await asyncio.sleep(interval)
            try:
                version, revision = await self.compact_once(version, revision)
            except errors.StatusError as e:
                log.warning("etcd compaction round failed: %s", e.message)

    def raw_key(self, key: str) -> bytes:
        return f"{self.prefix}/{key}".encode()

    async def raw_keys(self, sub: str) -> builtins.list[str]:
        """Key names (after `<prefix>/<sub>/`) of non-object keys, e.g. allocations."""
        base = self.raw_key(sub.rstrip("/") + "/")
        resp = await self._call("list", lambda: self.client.get_prefix(base, keys_only=True))
        return [kv.key[len(base):].decode() for kv in resp.kvs]

    async def put_raw(self, key: str, value: bytes, *, ttl: int = 0) -> None:
        """Unconditional write of a non-object key (allocator bitmaps and the like); with
        `ttl`, under a new etcd lease of that many seconds, so that the key vanishes unless
        written again in time (the API servers' master leases)."""
        lease: int | None = None
        if ttl:
            granted = await self._call("lease", lambda: self.client.lease(ttl))
            lease = int(granted.id)
        await self._call("put", lambda: self.client.put(f"{self.prefix}/{key}".encode(), value, lease=lease))

    async def delete_raw(self, key: str) -> None:
        await self._call("delete", lambda: self.client.delete(f"{self.prefix}/{key}".encode()))

    async def get_raw(self, key: str) -> tuple[bytes | None, int]:
        k = f"{self.prefix}/{key}".encode()
        got = await self._call("get", lambda: self.client.get(k))
        if got is None:
            return None, 0
        return got.value, int(got.mod_revision)

    async def cas_raw(self, key: str, value: bytes, expected_mod: int) -> bool:
        """Write `value` if the key's mod_revision is `expected_mod` (0: key absent)."""
        k = f"{self.prefix}/{key}".encode()
        tx = self.client.transactions
        cmp = tx.create(k) == 0 if expected_mod == 0 else tx.mod(k) == expected_mod
        resp = await self._call("cas", lambda: self._txn([cmp], [tx.put(k, value)], []))
        return bool(resp.succeeded)


# The most keys one etcd read of a filtered page asks for (storage/etcd3's maxLimit).
MAX_PAGE_FETCH = 10000
# The key whose version counts compaction rounds (storage/etcd3's compactRevKey, no prefix).
COMPACT_KEY = b"compact_rev_key"
# Writes share a lease for up to 5% of its time to live, at most a minute
# (storage/etcd3's leaseReuseDurationPercent and leaseReuseDurationSeconds).
LEASE_REUSE_PERCENT = 0.05
LEASE_REUSE_SECONDS = 60


class _LeaseManager:
    """Writes close in time share one etcd lease, as storage/etcd3's leaseManager: a
    lease per object would be one more etcd object each. The lease is granted for
    the time to live plus the reuse window, so the last object to take it still
    gets its full time."""

    def __init__(self) -> None:
        self._id: int | None = None
        self._expires = 0.0
        self._lock = asyncio.Lock()

    async def lease(self, ttl: int, grant: Callable[[int], Awaitable[int]]) -> int:
        async with self._lock:
            now = asyncio.get_running_loop().time()
            reuse = min(int(LEASE_REUSE_PERCENT * ttl), LEASE_REUSE_SECONDS)
            if self._id is not None and now + ttl < self._expires <= now + ttl + reuse:
                return self._id
            self._id = await grant(ttl + reuse)
            self._expires = now + ttl + reuse
            return self._id


@dataclasses.dataclass
class Page:
    """One page of a list: its objects, the revision it was read at, where the next
    page starts (a key relative to the list's prefix; None on the last page) and how
    many objects follow (only known without a filter)."""
    items: list[dict[str, Any]]
    revision: int
    next_start: str | None
    remaining: int | None


class Compacted(Exception):
    """The revision a read asked for has been compacted away."""

    def __init__(self, revision: int) -> None:
        super().__init__(f"revision {revision} has been compacted")
        self.revision = revision


class FutureRevision(Exception):
    """The revision a read asked for is newer than the store's."""

    def __init__(self, revision: int) -> None:
        super().__init__(f"revision {revision} is a future revision")
        self.revision = revision


@dataclasses.dataclass
class Extra:
    """Compares and operations that commit in the same transaction as an object write."""
    compare: list[Any] = dataclasses.field(default_factory=list)
    success: list[Any] = dataclasses.field(default_factory=list)


class ExtraConflict(Exception):
    """An `Extra` compare failed (e.g. an allocation was taken meanwhile)."""


def _storage_name(res: resources.Resource) -> str:
    # Kubernetes keeps Deployments under /registry/deployments etc.; group
    # names would only matter for colliding plurals, of which we have none.
    return res.plural


# gRPC's words when a call found no connection to put it on (every address refused or
# unreachable): the call never left this process. A call that broke after it was sent
# ("Stream removed", "Socket closed", a reset) may have been applied by etcd.
_NOT_SENT = ("failed to connect to all addresses",)


# The share of the etcd timeout one try of a write gets (see Storage._write): a healthy
# etcd answers in milliseconds, an election takes about a second.
WRITE_TRY = 0.4

# etcd's answers to a proposal that waited for a raft leader that was lost or changed
# (ErrTimeoutDueToLeaderFail, ErrLeaderChanged, ErrNoLeader): not applied, unless the
# old leader had committed it just before.
_LEADER_LOST = ("possibly due to previous leader failure", "leader changed", "no leader")


# How a call whose channel the store closed under it (Storage._rotate) is answered.
_MOVED = "the store moved to another etcd endpoint"


def leader_lost(e: BaseException) -> bool:
    """Whether `e` is etcd saying a call failed because its raft leader was lost."""
    return any(words in str(e) for words in _LEADER_LOST)


def never_sent(e: BaseException) -> bool:
    """Whether etcd certainly did not get the call that failed with `e` (see _NOT_SENT)."""
    return any(words in str(e) for words in _NOT_SENT)


def _host_port(endpoint: str) -> tuple[str, int]:
    ep = endpoint.strip()
    for scheme in ("http://", "https://"):
        if ep.startswith(scheme):
            ep = ep[len(scheme):]
    ep = ep.rstrip("/")
    host, _, port = ep.rpartition(":")
    return (host or "127.0.0.1"), int(port or 2379)


def deepcopy(obj: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of a JSON object; several times faster than copy.deepcopy."""
    return orjson.loads(orjson.dumps(obj))


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return orjson.dumps(a, option=orjson.OPT_SORT_KEYS) == orjson.dumps(b, option=orjson.OPT_SORT_KEYS)
