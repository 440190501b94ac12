"""An API server whose etcd cannot be reached (a stacked master whose member died) says
whether the request was carried out: a call that never got a connection is answered 503
with retryAfterSeconds (and a Retry-After header), so clients send it to another master;
one that broke after it was sent may have been applied and says so, without it. A create
that waited through an etcd leader election is asked again, and recognised as ours if the
old leader had committed it."""
from __future__ import annotations

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
        assert timeout is not None and timeout <= store.timeout * storage.CREATE_TRY
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
