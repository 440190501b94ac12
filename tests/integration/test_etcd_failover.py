"""An API server listing several etcd members (external etcd) keeps serving, watches
included, when the member it uses goes away: its store moves to the next endpoint and the
watch caches follow it. Before the caches treated the store's closing of the old channel
as their own cancellation, every watch cache of the API server stopped for good there:
writes worked, but watchers (the kubelet's pods) never saw another event (seen in the
external-etcd e2e test, etcd1 powered off: a scaled Deployment's new pod stayed Pending)."""
from __future__ import annotations

import json
import pathlib
import urllib.error
import urllib.request
import uuid

import pytest

from minik8s.util import procs
from tests import conftest
from tests.conftest import start_apiserver
from tests.integration.test_etcd_ops import start_cluster

pytestmark = pytest.mark.integration


def _create(url: str, name: str) -> str | None:
    body = json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}}).encode()
    req = urllib.request.Request(url + "/api/v1/namespaces/default/configmaps", data=body, method="POST",
                                          headers={"Content-Type": "application/json"})
    try:
        with conftest.opener().open(req, timeout=15) as resp:
            return str(json.loads(resp.read())["metadata"]["resourceVersion"])
    except urllib.error.HTTPError as e:
        if e.code == 409:  # an earlier attempt that timed out was applied after all
            return None
        if e.code in (503, 504):
            return None
        raise


def _watched(url: str, rv: str) -> list[str]:
    """Names of the ConfigMaps the watch cache delivers after `rv` within a few seconds."""
    path = f"/api/v1/namespaces/default/configmaps?watch=1&resourceVersion={rv}&timeoutSeconds=3"
    with conftest.opener().open(url + path, timeout=15) as resp:
        return [json.loads(line)["object"]["metadata"]["name"] for line in resp.read().splitlines() if line.strip()]


def test_watches_follow_the_store_to_another_member(tmp_path: pathlib.Path) -> None:
    members = start_cluster(tmp_path)
    server = None
    try:
        server = start_apiserver(tmp_path, members[0], service_accounts=False, extra=[
            "--etcd-endpoints", ",".join(m.endpoint for m in members), "--etcd-timeout", "2"])
        first = procs.wait_for(lambda: _create(server.url, "before"), 30, what="a first write")
        assert "before" in _watched(server.url, str(int(first) - 1))

        # The member the API server uses stops answering without closing anything, as one
        # whose machine vanished: calls time out, and the store moves on (closing the old
        # channel under the watch streams still waiting on it).
        members[0].pause()
        a = "after-" + uuid.uuid4().hex[:6]
        rv = procs.wait_for(lambda: _create(server.url, a) or _create(server.url, a + "x"), 60,
                            what="a write through the other members")
        b = "later-" + uuid.uuid4().hex[:6]
        procs.wait_for(lambda: _create(server.url, b), 30, what="another write")
        got = procs.wait_for(lambda: (lambda names: names if b in names else None)(_watched(server.url, rv)), 30,
                             what="the watch cache to deliver a write made after the failover")
        assert b in got
    finally:
        if server is not None:
            server.stop()
        members[0].resume()
        for m in members:
            m.stop()
