"""An API server whose etcd cannot be reached (a stacked master whose member died) says
whether the request was carried out: a call that never got a connection is answered 503
with retryAfterSeconds (and a Retry-After header), so clients send it to another master;
one that broke after it was sent may have been applied and says so, without it. A create,
update, delete or binding that waited through an etcd leader election is asked again, and
recognised as ours if the old leader had committed it; someone else's write in between is
the usual conflict."""
from __future__ import annotations

import asyncio
import types
from typing import Any

import aetcd.exceptions
import pytest

from minik8s.api import errors
from minik8s.api import resources
from minik8s.apiserver import handlers
from minik8s.apiserver import storage

REFUSED = ("failed to connect to all addresses; last error: UNKNOWN: ipv4:127.0.0.1:2379: "
           "Failed to connect to remote host: Connection refused")
BROKEN = "Stream removed (sendmsg: Connection reset by peer (104))"


async def _call(message: str) -> errors.StatusError:
    store = storage.Storage(["http://127.0.0.1:1"])

    async def fails() -> None:
        raise aetcd.exceptions.ConnectionFailedError(message)

    try:
        with pytest.raises(errors.StatusError) as info:
            await store._call("create", fails)
    finally:
        await store.close()
    return info.value


async def test_not_sent_is_a_503_to_retry_elsewhere() -> None:
    err = await _call(REFUSED)
    assert err.code == 503 and err.details == {"retryAfterSeconds": 1}
    assert "not sent" in err.message
    resp = handlers.status_response(err)
    assert resp.status == 503 and resp.headers["Retry-After"] == "1"


async def test_broken_after_sending_may_have_been_applied() -> None:
    err = await _call(BROKEN)
    assert err.code == 503 and "retryAfterSeconds" not in err.details
    assert "may or may not have been applied" in err.message
    assert "Retry-After" not in handlers.status_response(err).headers


def test_never_sent() -> None:
    assert storage.never_sent(aetcd.exceptions.ConnectionFailedError(REFUSED))
    assert not storage.never_sent(aetcd.exceptions.ConnectionFailedError(BROKEN))
    assert not storage.never_sent(aetcd.exceptions.ConnectionFailedError("Socket closed"))


# --- a create that waited through an etcd leader election --------------------------------

LEADER_FAIL = "etcdserver: request timed out, possibly due to previous leader failure"
CONFIGMAPS = resources.must("", "v1", "configmaps")


class _Resp:
    def __init__(self, succeeded: bool, stored: bytes | None = None, revision: int = 7) -> None:
        self.succeeded = succeeded
        kvs = [types.SimpleNamespace(value=stored, mod_revision=revision)] if stored is not None else []
        self.responses = [types.SimpleNamespace(response_range=types.SimpleNamespace(kvs=kvs))]
        self.header = types.SimpleNamespace(revision=revision)


async def _create_with(answers: list[Any], obj: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """storage.create with etcd's Txn answering `answers` in turn (an exception is raised,
    a callable gets the value being written); the result and how many Txns were sent."""
    store = storage.Storage(["http://127.0.0.1:1"])
    sent = []

    async def txn(compare: Any, success: Any, failure: Any, timeout: float | None = None) -> Any:
        assert timeout is not None and timeout <= store.timeout * storage.WRITE_TRY
        sent.append(success)
        answer = answers[len(sent) - 1]
        if isinstance(answer, BaseException):
            raise answer
        return answer(storage.encode(obj))

    store._txn = txn  # type: ignore[method-assign]
    try:
        return await store.create(CONFIGMAPS, obj), len(sent)
    finally:
        await store.close()


def _cm(uid: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "ns", "uid": uid}}


async def test_a_create_lost_in_a_leader_election_is_asked_again() -> None:
    got, sent = await _create_with([aetcd.exceptions.ConnectionFailedError(LEADER_FAIL),
                                    lambda _v: _Resp(True, revision=9)], _cm("u1"))
    assert sent == 2 and got["metadata"]["uid"] == "u1" and got["metadata"]["resourceVersion"] == "9"


async def test_a_create_the_old_leader_committed_is_ours_not_already_exists() -> None:
    # The first attempt was committed after all: the key holds our very bytes (our uid).
    got, sent = await _create_with([aetcd.exceptions.ConnectionFailedError(LEADER_FAIL),
                                    lambda v: _Resp(False, stored=v, revision=8)], _cm("u1"))
    assert sent == 2 and got["metadata"]["uid"] == "u1" and got["metadata"]["resourceVersion"] == "8"


async def test_someone_elses_object_is_still_already_exists() -> None:
    other = storage.encode(_cm("someone-else"))
    with pytest.raises(errors.AlreadyExists):
        await _create_with([aetcd.exceptions.ConnectionFailedError(LEADER_FAIL),
                            lambda _v: _Resp(False, stored=other)], _cm("u1"))


async def test_a_create_that_timed_out_is_asked_again_within_the_timeout() -> None:
    # A proposal dropped with the old leader is never answered: the try's deadline ends it.
    got, sent = await _create_with([aetcd.exceptions.ConnectionTimeoutError("deadline"),
                                    lambda v: _Resp(False, stored=v, revision=8)], _cm("u1"))
    assert sent == 2 and got["metadata"]["resourceVersion"] == "8"


async def test_a_create_etcd_never_answers_fails_after_the_timeout() -> None:
    store = storage.Storage(["http://127.0.0.1:1"], timeout=0.5)
    sent = []

    async def txn(compare: Any, success: Any, failure: Any, timeout: float | None = None) -> Any:
        sent.append(timeout)
        raise aetcd.exceptions.ConnectionTimeoutError("deadline")

    store._txn = txn  # type: ignore[method-assign]
    try:
        with pytest.raises(errors.Timeout):
            await store.create(CONFIGMAPS, _cm("u1"))
    finally:
        await store.close()
    # Tries of at most 0.2 s (40%) within the 0.5 s; the fake fails at once, so there are more.
    assert sent and all(t is not None and t <= 0.2 for t in sent)


async def test_other_failures_are_not_asked_again() -> None:
    with pytest.raises(errors.ServiceUnavailable, match="may or may not"):
        await _create_with([aetcd.exceptions.ConnectionFailedError(BROKEN)], _cm("u1"))


# --- updates, deletes and bindings that waited through an etcd leader election -------------

class FakeEtcd:
    """Just enough of etcd's Txn for the store's writes (mod/create compares; put, delete
    and get ops), with a script of what happens to the next proposals: "lost" (dropped
    with the old leader: not applied, etcd says so), "applied" (committed, but the answer
    is lost the same way), or a callable run first (another writer, between the tries)."""

    def __init__(self) -> None:
        self.kv: dict[bytes, tuple[bytes, int, int]] = {}  # key -> (value, create, mod revision)
        self.revision = 1
        self.script: list[Any] = []
        self.sent = 0

    def put(self, key: bytes, value: bytes) -> int:
        self.revision += 1
        create = self.kv[key][1] if key in self.kv else self.revision
        self.kv[key] = (value, create, self.revision)
        return self.revision

    def _kvs(self, key: bytes) -> list[Any]:
        if key not in self.kv:
            return []
        value, create, mod = self.kv[key]
        return [types.SimpleNamespace(value=value, create_revision=create, mod_revision=mod)]

    def _holds(self, cmp: Any) -> bool:
        assert cmp.op == aetcd.rpc.Compare.EQUAL
        _, create, mod = self.kv.get(cmp.key, (b"", 0, 0))
        return {"Mod": mod, "Create": create}[type(cmp).__name__] == cmp.value

    def _apply(self, compare: Any, success: Any, failure: Any) -> Any:
        succeeded = all(self._holds(c) for c in compare)
        responses = []
        changed = False
        for op in success if succeeded else failure:
            if type(op).__name__ == "Put":
                self.revision += 0 if changed else 1
                changed = True
                create = self.kv[op.key][1] if op.key in self.kv else self.revision
                self.kv[op.key] = (op.value, create, self.revision)
            elif type(op).__name__ == "Delete":
                self.revision += 0 if changed else 1
                changed = True
                self.kv.pop(op.key, None)
            responses.append(types.SimpleNamespace(response_range=types.SimpleNamespace(kvs=self._kvs(op.key))))
        return types.SimpleNamespace(succeeded=succeeded, responses=responses,
                                     header=types.SimpleNamespace(revision=self.revision))

    async def txn(self, compare: Any, success: Any, failure: Any, timeout: float | None = None) -> Any:
        self.sent += 1
        step = self.script.pop(0) if self.script else None
        if callable(step):
            step()
        elif step == "lost":
            raise aetcd.exceptions.ConnectionFailedError(LEADER_FAIL)
        resp = self._apply(compare, success, failure)
        if step == "applied":
            raise aetcd.exceptions.ConnectionFailedError(LEADER_FAIL)
        return resp


@pytest.fixture
async def etcd_store() -> Any:
    store = storage.Storage(["http://127.0.0.1:1"])
    fake = FakeEtcd()
    store._txn = fake.txn  # type: ignore[method-assign]
    store.get = _get_from(store, fake)  # type: ignore[method-assign]
    yield store, fake
    await store.close()


def _get_from(store: storage.Storage, fake: FakeEtcd) -> Any:
    async def get(res: resources.Resource, namespace: str | None, name: str) -> dict[str, Any]:
        found = fake.kv.get(store.key(res, namespace, name))
        if found is None:
            raise errors.NotFound(res.qualified, name)
        return storage.decode(found[0], found[2])
    return get


async def _stored(store: storage.Storage, fake: FakeEtcd, obj: dict[str, Any]) -> dict[str, Any]:
    rev = fake.put(store.key(CONFIGMAPS, "ns", obj["metadata"]["name"]), storage.encode(obj))
    return storage.decode(storage.encode(obj), rev)


def _changed(obj: dict[str, Any], **data: str) -> dict[str, Any]:
    return dict(storage.deepcopy(obj), data=data)


@pytest.mark.parametrize("fate", ["lost", "applied"])
async def test_an_update_lost_in_a_leader_election_is_applied_once(etcd_store: Any, fate: str) -> None:
    store, fake = etcd_store
    cm = await _stored(store, fake, _cm("u1"))
    rv = int(cm["metadata"]["resourceVersion"])
    fake.script = [fate]
    got = await store.update(CONFIGMAPS, _changed(cm, v="mine"), rv)
    assert fake.sent == 2 and got["data"] == {"v": "mine"}
    key = store.key(CONFIGMAPS, "ns", "c")
    # Written once: the revision the answer gives is the one etcd holds, one after ours.
    assert got["metadata"]["resourceVersion"] == str(fake.kv[key][2]) == str(rv + 1)


async def test_an_update_lost_while_another_writer_won_is_the_usual_conflict(etcd_store: Any) -> None:
    store, fake = etcd_store
    cm = await _stored(store, fake, _cm("u1"))
    key = store.key(CONFIGMAPS, "ns", "c")
    fake.script = ["lost", lambda: fake.put(key, storage.encode(_changed(cm, v="theirs")))]
    with pytest.raises(errors.Conflict):
        await store.update(CONFIGMAPS, _changed(cm, v="mine"), int(cm["metadata"]["resourceVersion"]))
    assert storage.decode(fake.kv[key][0], 0)["data"] == {"v": "theirs"}


async def test_an_update_of_an_object_deleted_meanwhile_is_not_found(etcd_store: Any) -> None:
    store, fake = etcd_store
    cm = await _stored(store, fake, _cm("u1"))
    fake.script = ["lost", lambda: fake.kv.clear()]
    with pytest.raises(errors.NotFound):
        await store.update(CONFIGMAPS, _changed(cm, v="mine"), int(cm["metadata"]["resourceVersion"]))


@pytest.mark.parametrize("fate", ["lost", "applied"])
async def test_a_binding_lost_in_a_leader_election_is_not_refused_as_already_bound(
        etcd_store: Any, fate: str) -> None:
    """Registry.bind is a guaranteed_update that refuses a pod already on a node: had the
    store answered an applied binding with a conflict, the re-read would find the pod bound
    (by us) and the scheduler would be told it failed."""
    store, fake = etcd_store
    await _stored(store, fake, _cm("u1"))

    def assign(obj: dict[str, Any]) -> dict[str, Any]:
        if obj.get("data"):
            raise errors.Conflict("configmaps", "c", "already assigned")
        return _changed(obj, node="n1")

    fake.script = [fate]
    _, new = await store.guaranteed_update(CONFIGMAPS, "ns", "c", assign)
    assert new["data"] == {"node": "n1"} and fake.sent == 2


@pytest.mark.parametrize("fate", ["lost", "applied"])
async def test_a_delete_lost_in_a_leader_election_is_applied_once(etcd_store: Any, fate: str) -> None:
    store, fake = etcd_store
    cm = await _stored(store, fake, _cm("u1"))
    rv = int(cm["metadata"]["resourceVersion"])
    fake.script = [fate]
    got = await store.delete(CONFIGMAPS, "ns", "c", rv)
    assert fake.sent == 2 and fake.kv == {} and got["metadata"]["uid"] == "u1"
    assert int(got["metadata"]["resourceVersion"]) >= rv + 1


async def test_a_delete_applied_before_the_name_was_taken_again_leaves_the_new_object(etcd_store: Any) -> None:
    store, fake = etcd_store
    await _stored(store, fake, _cm("u1"))
    key = store.key(CONFIGMAPS, "ns", "c")
    fake.script = ["applied", lambda: fake.put(key, storage.encode(_cm("u2")))]
    got = await store.delete(CONFIGMAPS, "ns", "c")  # no precondition: the store re-reads and retries
    assert got["metadata"]["uid"] == "u1"
    assert storage.decode(fake.kv[key][0], 0)["metadata"]["uid"] == "u2", "the new object was deleted"


async def test_a_delete_lost_while_another_writer_won_is_the_usual_conflict(etcd_store: Any) -> None:
    store, fake = etcd_store
    cm = await _stored(store, fake, _cm("u1"))
    key = store.key(CONFIGMAPS, "ns", "c")
    fake.script = ["lost", lambda: fake.put(key, storage.encode(_changed(cm, v="theirs")))]
    with pytest.raises(errors.Conflict):
        await store.delete(CONFIGMAPS, "ns", "c", int(cm["metadata"]["resourceVersion"]))
    assert key in fake.kv


# --- a call whose channel the store closed under it ----------------------------------------


async def test_a_call_cut_off_by_the_store_moving_on_is_a_503_not_a_dropped_request() -> None:
    """Another call's timeout makes the store move to the next endpoint and close the old
    channel, which cancels the gRPC calls still on it. That must not end their requests
    with the connection closed and no answer (aiohttp's way with a cancelled handler)."""
    store = storage.Storage(["http://127.0.0.1:1"])

    async def cut_off() -> None:
        raise asyncio.CancelledError()

    try:
        with pytest.raises(errors.ServiceUnavailable, match="moved to another etcd endpoint") as info:
            await store._call("get", cut_off)
        assert "retryAfterSeconds" not in info.value.details, "it may have been applied"
    finally:
        await store.close()


async def test_a_request_that_is_itself_cancelled_stays_cancelled() -> None:
    store = storage.Storage(["http://127.0.0.1:1"])
    started = asyncio.Event()

    async def slow() -> None:
        started.set()
        await asyncio.sleep(60)

    task = asyncio.ensure_future(store._call("get", slow))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await store.close()


async def test_a_write_cut_off_by_the_store_moving_on_is_asked_again(etcd_store: Any) -> None:
    store, fake = etcd_store
    cm = await _stored(store, fake, _cm("u1"))

    def cut_off() -> None:
        raise asyncio.CancelledError()

    fake.script = [cut_off]
    got = await store.update(CONFIGMAPS, _changed(cm, v="mine"), int(cm["metadata"]["resourceVersion"]))
    assert fake.sent == 2 and got["data"] == {"v": "mine"}
