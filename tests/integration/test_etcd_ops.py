"""`minik8s etcd ...` against real etcd: a 3-member cluster's members and health, /readyz
following quorum, and a snapshot saved from a live cluster restored into a new one that an
API server then serves."""
from __future__ import annotations

import concurrent.futures
import json
import os
import pathlib
import subprocess
import sys
import urllib.error

from minik8s.util import procs
from tests import conftest
from tests.conftest import REPO, ApiServerProcess, start_apiserver


class Member(procs.EtcdProcess):
    """One member of a static cluster (every member's peer URL given up front)."""

    def __init__(self, data_dir: str, name: str, client_port: int, peer_port: int, cluster: str) -> None:
        super().__init__(data_dir, client_port, peer_port, name=name)
        self.cluster = cluster

    def argv(self) -> list[str]:
        argv = super().argv()
        i = argv.index("--initial-cluster")
        argv[i + 1] = self.cluster
        return [*argv, "--initial-cluster-token", "ha-test", "--heartbeat-interval", "50",
                "--election-timeout", "500"]


def start_cluster(tmp: pathlib.Path, n: int = 3) -> list[Member]:
    ports = [(procs.free_port(), procs.free_port()) for _ in range(n)]
    cluster = ",".join(f"m{i}=http://127.0.0.1:{peer}" for i, (_, peer) in enumerate(ports))
    members = [Member(str(tmp / f"m{i}"), f"m{i}", c, p, cluster) for i, (c, p) in enumerate(ports)]
    # A member is healthy only with a quorum, so they start together.
    with concurrent.futures.ThreadPoolExecutor(n) as pool:
        list(pool.map(lambda m: m.start(timeout=60), members))
    return members


def minik8s(*args: str, endpoints: list[str] | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if endpoints is not None:
        env["ETCDCTL_ENDPOINTS"] = ",".join(endpoints)
    proc = subprocess.run([sys.executable, "-m", "minik8s", "etcd", *args], capture_output=True, text=True,
                          env=env, cwd=str(REPO), timeout=120)
    if check and proc.returncode != 0:
        raise AssertionError(f"minik8s etcd {' '.join(args)} -> {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


def status(server: ApiServerProcess, path: str) -> tuple[int, str]:
    try:
        with conftest.opener().open(server.url + path, timeout=15) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def health_rows(out: str) -> dict[str, list[str]]:
    lines = out.strip().splitlines()
    return {line.split()[0]: line.split() for line in lines[1:]}


def test_members_health_and_readyz_follow_quorum(tmp_path: pathlib.Path) -> None:
    members = start_cluster(tmp_path)
    endpoints = [m.endpoint for m in members]
    server = None
    try:
        listed = json.loads(minik8s("member", "list", "-o", "json", endpoints=endpoints).stdout)
        assert sorted(m["name"] for m in listed) == ["m0", "m1", "m2"]
        assert sorted(u for m in listed for u in m["clientURLs"]) == sorted(endpoints)
        table = minik8s("member", "list", endpoints=endpoints).stdout
        assert table.splitlines()[0].split() == ["ID", "STATUS", "NAME", "PEER", "ADDRS", "CLIENT", "ADDRS"]

        rows = health_rows(minik8s("health", endpoints=endpoints).stdout)
        assert {r[1] for r in rows.values()} == {"true"}
        assert sorted(r[3] for r in rows.values()) == ["false", "false", "true"]  # exactly one leader

        server = start_apiserver(tmp_path, members[0], extra=[
            "--etcd-endpoints", ",".join(endpoints), "--etcd-readycheck-timeout", "1"])
        assert status(server, "/readyz") == (200, "ok")

        # One member down: the quorum holds, the API server stays ready.
        members[2].stop()
        bad = minik8s("endpoint", "health", endpoints=endpoints, check=False)
        assert bad.returncode == 1
        rows = health_rows(bad.stdout)
        assert rows[members[2].endpoint][1] == "false" and rows[members[0].endpoint][1] == "true"
        procs.wait_for(lambda: status(server, "/readyz") == (200, "ok"), 30, what="ready on 2 of 3")
        for _ in range(5):
            assert status(server, "/readyz") == (200, "ok")

        # Two down: the member left is alive but has no quorum; readyz says so (not a hang).
        members[1].stop()
        procs.wait_for(lambda: status(server, "/readyz")[0] == 500, 30, what="not ready without quorum")
        code, body = status(server, "/readyz?verbose")
        assert code == 500 and "[-]etcd failed" in body and "[+]ping ok" in body
        assert members[0].running()
        rows = health_rows(minik8s("health", "--command-timeout", "1", endpoints=endpoints, check=False).stdout)
        assert rows[members[0].endpoint][1] == "false"

        # Back: ready again.
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            list(pool.map(lambda m: m.start(timeout=60), members[1:]))
        procs.wait_for(lambda: status(server, "/readyz") == (200, "ok"), 60, what="ready with the quorum back")
    finally:
        if server is not None:
            server.stop()
        for m in members:
            m.stop()


def test_snapshot_save_and_restore_into_a_new_cluster(tmp_path: pathlib.Path) -> None:
    etcd = procs.EtcdProcess(str(tmp_path / "etcd")).start()
    server = start_apiserver(tmp_path, etcd)
    restored: procs.EtcdProcess | None = None
    server2: ApiServerProcess | None = None
    try:
        def configmap(name: str) -> dict[str, object]:
            return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"k": name}}
        from tests.conftest import http
        http(server, "POST", "/api/v1/namespaces/default/configmaps", configmap("before"))
        snap = tmp_path / "snap.db"
        out = minik8s("snapshot", "save", str(snap), endpoints=[etcd.endpoint]).stdout
        assert "Snapshot saved" in out and snap.stat().st_size > 0
        http(server, "POST", "/api/v1/namespaces/default/configmaps", configmap("after"))
        st = json.loads(minik8s("snapshot", "status", str(snap), "-o", "json").stdout)
        assert st["totalKey"] > 0

        # Refuses to restore over existing data.
        busy = minik8s("snapshot", "restore", str(snap), "--data-dir", etcd.data_dir, check=False)
        assert busy.returncode != 0 and "not empty" in busy.stderr

        client_port, peer_port = procs.free_port(), procs.free_port()
        data = tmp_path / "restored"
        minik8s("snapshot", "restore", str(snap), "--data-dir", str(data), "--name", "default",
                "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer_port}")
        restored = procs.EtcdProcess(str(data), client_port, peer_port).start()
        server2 = start_apiserver(tmp_path, restored)
        code, cm = http(server2, "GET", "/api/v1/namespaces/default/configmaps/before")
        assert code == 200 and cm["data"] == {"k": "before"}
        assert http(server2, "GET", "/api/v1/namespaces/default/configmaps/after", check=False)[0] == 404
        # The restored cluster is its own: writes work there.
        http(server2, "POST", "/api/v1/namespaces/default/configmaps", configmap("new"))
        assert http(server, "GET", "/api/v1/namespaces/default/configmaps/new", check=False)[0] == 404
    finally:
        for s in (server2, server):
            if s is not None:
                s.stop()
        for e in (restored, etcd):
            if e is not None:
                e.stop()


class Joining(procs.EtcdProcess):
    """A member started with the settings `minik8s etcd member add` printed."""

    def __init__(self, data_dir: str, name: str, client_port: int, peer_port: int, settings: dict[str, str]) -> None:
        super().__init__(data_dir, client_port, peer_port, name=name)
        self.settings = settings

    def argv(self) -> list[str]:
        argv = super().argv()
        i = argv.index("--initial-cluster")
        argv[i + 1] = self.settings["ETCD_INITIAL_CLUSTER"]
        return [*argv, "--initial-cluster-state", self.settings["ETCD_INITIAL_CLUSTER_STATE"]]


def test_member_add_and_remove(tmp_path: pathlib.Path) -> None:
    first = procs.EtcdProcess(str(tmp_path / "first"), name="first").start()
    joining: Joining | None = None
    try:
        client_port, peer_port = procs.free_port(), procs.free_port()
        peer = f"http://127.0.0.1:{peer_port}"
        out = minik8s("member", "add", "second", "--peer-urls", peer, endpoints=[first.endpoint]).stdout
        settings = dict(line.split("=", 1) for line in out.splitlines() if line.startswith("ETCD_"))
        settings = {k: v.strip('"') for k, v in settings.items()}
        assert settings["ETCD_INITIAL_CLUSTER_STATE"] == "existing"
        assert sorted(settings["ETCD_INITIAL_CLUSTER"].split(",")) == [
            f"first=http://127.0.0.1:{first.peer_port}", f"second={peer}"]
        joining = Joining(str(tmp_path / "second"), "second", client_port, peer_port, settings).start(timeout=60)
        endpoints = [first.endpoint, joining.endpoint]

        def started() -> list[dict[str, object]]:
            listed = json.loads(minik8s("member", "list", "-o", "json", endpoints=endpoints).stdout)
            return listed if sorted(str(m["name"]) for m in listed) == ["first", "second"] else []
        listed = procs.wait_for(started, 30, what="both members started")
        rows = health_rows(minik8s("health", endpoints=endpoints).stdout)
        assert {r[1] for r in rows.values()} == {"true"}

        second_id = next(str(m["ID"]) for m in listed if m["name"] == "second")
        # etcd may refuse a reconfiguration for a moment after a join (gRPC UNAVAILABLE): retry.
        def removed() -> bool:
            if minik8s("member", "remove", second_id, endpoints=endpoints, check=False).returncode == 0:
                return True
            # An attempt may have gone through while its answer was lost.
            return "second" not in minik8s("member", "list", endpoints=[first.endpoint]).stdout
        procs.wait_for(removed, 30, interval=0.5, what="member remove")
        listed = json.loads(minik8s("member", "list", "-o", "json", endpoints=[first.endpoint]).stdout)
        assert [m["name"] for m in listed] == ["first"]
        assert minik8s("member", "remove", "zz-not-hex", endpoints=[first.endpoint], check=False).returncode == 1
    finally:
        if joining is not None:
            joining.stop()
        first.stop()
