"""What keeps etcd from growing forever: Events expire (--event-ttl) and history is compacted."""
from __future__ import annotations

import pathlib
import urllib.parse
import uuid

from minik8s.util import procs
from tests.conftest import ApiServerProcess, http, start_apiserver


def test_events_expire_and_history_is_compacted(session_tmp: pathlib.Path, etcd: procs.EtcdProcess,
                                                 apiserver: ApiServerProcess) -> None:
    server = start_apiserver(session_tmp, etcd, prefix=f"/housekeeping-{uuid.uuid4().hex[:6]}",
                             extra=["--event-ttl", "2", "--etcd-compaction-interval", "1"])
    try:
        base = "/api/v1/namespaces/default"
        event = {"apiVersion": "v1", "kind": "Event", "metadata": {"name": "short-lived"},
                 "involvedObject": {"kind": "Pod", "name": "p", "namespace": "default"},
                 "reason": "Testing", "message": "gone soon", "type": "Normal"}
        http(server, "POST", f"{base}/events", event)
        http(server, "POST", f"{base}/configmaps", {"metadata": {"name": "kept"}})
        _, listed = http(server, "GET", f"{base}/configmaps")
        old_rv = listed["metadata"]["resourceVersion"]
        assert http(server, "GET", f"{base}/events/short-lived")[0] == 200

        # The Event's lease expires: etcd deletes it; the ConfigMap has no time to live.
        procs.wait_for(lambda: http(server, "GET", f"{base}/events/short-lived", check=False)[0] == 404, 30,
                       interval=0.2, what="the Event to expire")
        assert http(server, "GET", f"{base}/configmaps/kept")[0] == 200

        # Compaction every second, to the revision seen a round earlier: the old
        # revision becomes unreadable (410) while the objects stay.
        def compacted() -> bool:
            query = urllib.parse.urlencode({"resourceVersion": old_rv, "resourceVersionMatch": "Exact"})
            return http(server, "GET", f"{base}/configmaps?{query}", check=False)[0] == 410

        for i in range(3):  # new revisions for the compactor to move to
            http(server, "POST", f"{base}/configmaps", {"metadata": {"name": f"later-{i}"}})
        procs.wait_for(compacted, 30, interval=0.3, what="etcd to be compacted past the old revision")
        assert http(server, "GET", f"{base}/configmaps/kept")[0] == 200
    finally:
        server.stop()
