"""An API server whose etcd cannot be reached (a stacked master whose member died) says
whether the request was carried out: a call that never got a connection is answered 503
with retryAfterSeconds (and a Retry-After header), so clients send it to another master;
one that broke after it was sent may have been applied and says so, without it."""
from __future__ import annotations

import aetcd.exceptions
import pytest

from minik8s.api import errors
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
