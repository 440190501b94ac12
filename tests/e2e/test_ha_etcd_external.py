"""External etcd (`cluster up --masters 3 --etcd external`): kubeadm's external etcd topology.

A cluster of its own (3 masters, 3 etcd members, 1 node). The masters run no etcd; the
members, each in its own namespace, serve their clients over TLS and only to certificates
of the etcd CA: the API works through every master, a Deployment becomes available, the
client port refuses the cluster CA's admin certificate (and a client without one), and
`minik8s etcd member list` over TLS shows the 3 members. One member powered off
(`cluster stop-etcd`) costs the API servers a failover, not the API; started again
(`cluster start-etcd`) it rejoins. Two powered off (the quorum lost): every API server
answers writes with a 5xx Status in time and fails /readyz, and recovers when they are
back. `cluster down` leaves nothing behind.
"""
from __future__ import annotations

import json
import os
import pathlib
import socket
import ssl
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from minik8s.client import kubeconfig as kubeconfig_mod
from tests.e2e.conftest import MINIK8S, Cluster, LocalOps, deployment, down_local, own_cluster, run, wait_until
from tests.e2e.test_ha_chaos import REQUEST_TIMEOUT, _raw_create, _readyz

MASTERS = 3
ETCD_MEMBERS = 3


@pytest.fixture
def ext(local_host: None) -> Iterator[Cluster]:
    with own_cluster("e2eex", ["--masters", str(MASTERS), "--etcd", "external", "--etcd-members", str(ETCD_MEMBERS),
                               "--nodes", "1"]) as c:
        yield c


def _status(c: Cluster) -> dict[str, Any]:
    return LocalOps(c.name, c.state_dir).status()


def _etcd_files(c: Cluster) -> dict[str, str]:
    pki = pathlib.Path(c.state_dir) / "etc" / "pki"
    return {"--cacert": str(pki / "etcd-ca.crt"), "--cert": str(pki / "apiserver-etcd-client.crt"),
            "--key": str(pki / "apiserver-etcd-client.key")}


def _etcdctl(c: Cluster, endpoints: list[str], *args: str, check: bool = True) -> str:
    tls = [a for kv in _etcd_files(c).items() for a in kv]
    env = {k: v for k, v in os.environ.items() if not k.startswith("ETCDCTL_")}
    return run([*MINIK8S, "etcd", *args, "--endpoints", ",".join(endpoints), *tls], env=env, check=check).stdout


def _answer(ip: str, cert: tuple[str, str] | None, ca: str) -> bytes:
    """What the member's client port answers to GET /health from a client presenting `cert`
    (or none). Its serving certificate is checked against the etcd CA: the test is about
    its verdict on ours."""
    ctx = ssl.create_default_context(cafile=ca)
    if cert is not None:
        ctx.load_cert_chain(*cert)
    with socket.create_connection((ip, 2379), timeout=5) as sock:
        try:
            with ctx.wrap_socket(sock, server_hostname=ip) as tls:
                # TLS 1.3: the server's verdict on our certificate arrives after the handshake.
                tls.sendall(f"GET /health HTTP/1.1\r\nHost: {ip}\r\nConnection: close\r\n\r\n".encode())
                return tls.recv(4096)
        except (ssl.SSLError, OSError) as e:
            return repr(e).encode()


def _available(c: Cluster, server: str, namespace: str, name: str) -> int:
    out = c.kubectl("--server", server, "get", "deployment", name, "-n", namespace, "-o", "json", check=False)
    if out.returncode != 0:
        return -1
    return int((json.loads(out.stdout).get("status") or {}).get("availableReplicas") or 0)


def test_external_etcd_cluster(ext: Cluster, tmp_path: pathlib.Path) -> None:
    c = ext
    st = wait_until(lambda: (lambda s: s if all(e["healthy"] for e in s["etcdMembers"])
                             and all(m["apiReady"] for m in s["masters"]) else None)(_status(c)),
                    60, "every etcd member healthy and every API server ready")
    assert st["etcd"] == "external"
    members = {e["name"]: e for e in st["etcdMembers"]}
    assert sorted(members) == [f"etcd{i}" for i in range(1, ETCD_MEMBERS + 1)]
    assert all(e["netns"] == f"mk8s-{c.name}-{name}" for name, e in members.items())
    for m in st["masters"]:
        assert "etcd" not in m["pids"], f"{m['name']} runs no etcd: {m['pids']}"
        assert all(m["pids"][c] for c in ("apiserver", "controller-manager", "scheduler")), m["pids"]
        assert m["etcdHealthy"] is None
    endpoints = [e["endpoint"] for e in members.values()]
    assert all(e.startswith("https://") for e in endpoints)

    # The API through every master.
    servers = [m["server"] for m in st["masters"]]
    for server in servers:
        assert "node1" in c.kubectl("--server", server, "get", "nodes").stdout, server
    want = sorted(m["ip"] for m in st["masters"])
    wait_until(lambda: sorted(a["ip"] for a in c.get_json("endpoints", "kubernetes", "-n", "default")["subsets"][0]
                              ["addresses"]) == want, 30, "every master in the kubernetes Endpoints")

    # A Deployment made through the last master, read through the first.
    ns = "ext-" + uuid.uuid4().hex[:6]
    c.kubectl("--server", servers[-1], "create", "namespace", ns)
    c.kubectl("--server", servers[-1], "apply", "-n", ns, "-f", "-", input=json.dumps(deployment("web", 2)))
    wait_until(lambda: _available(c, servers[0], ns, "web") == 2, 120, "the Deployment available")

    # The client port: only the etcd CA's client certificates.
    files = _etcd_files(c)
    ip = members["etcd2"]["ip"]
    assert _answer(ip, (files["--cert"], files["--key"]), files["--cacert"]).startswith(b"HTTP/1.1 200"), \
        "the API servers' certificate is accepted (the check below would pass for any refusal otherwise)"
    admin = kubeconfig_mod.load(pathlib.Path(c.state_dir) / "etc" / "admin.conf")
    assert admin.cert and admin.key
    (tmp_path / "admin.crt").write_bytes(admin.cert)
    (tmp_path / "admin.key").write_bytes(admin.key)
    refused = _answer(ip, (str(tmp_path / "admin.crt"), str(tmp_path / "admin.key")), files["--cacert"])
    assert not refused.startswith(b"HTTP/"), f"the cluster CA's admin must be refused: {refused!r}"
    anonymous = _answer(ip, None, files["--cacert"])
    assert not anonymous.startswith(b"HTTP/"), f"a client without a certificate must be refused: {anonymous!r}"
    with pytest.raises(OSError):
        socket.create_connection((ip, 2381), timeout=5).close()  # nothing else listens

    listed = json.loads(_etcdctl(c, endpoints, "member", "list", "-o", "json"))
    assert sorted(m["name"] for m in listed) == sorted(members)
    assert sorted(u for m in listed for u in m["clientURLs"]) == sorted(endpoints)

    # One member powered off: the API servers fail over to the others.
    LocalOps(c.name, c.state_dir).cluster("stop-etcd", "etcd1")
    after = {e["name"]: e for e in _status(c)["etcdMembers"]}
    assert after["etcd1"]["netns"] is None and not after["etcd1"]["healthy"]
    assert after["etcd2"]["healthy"] and after["etcd3"]["healthy"], "two of three keep the quorum"
    for server in servers:
        name = "after-" + uuid.uuid4().hex[:6]
        wait_until(lambda s=server, n=name: c.kubectl("--server", s, "--request-timeout=10s", "create", "configmap",
                                                      n, "-n", ns, check=False).returncode == 0
                   or c.kubectl("--server", s, "get", "configmap", n, "-n", ns, check=False).returncode == 0,
                   60, f"a write through {server} without etcd1")
    c.kubectl("--server", servers[0], "scale", "deployment", "web", "-n", ns, "--replicas=3")
    wait_until(lambda: _available(c, servers[1], ns, "web") == 3, 120, "the Deployment scaled without etcd1")

    LocalOps(c.name, c.state_dir).cluster("start-etcd", "etcd1")
    assert {e["name"]: e for e in _status(c)["etcdMembers"]}["etcd1"]["healthy"], "start-etcd waits for health"
    health = _etcdctl(c, endpoints, "endpoint", "health")
    assert [row.split()[1] for row in health.splitlines()[1:] if row.strip()] == ["true"] * ETCD_MEMBERS, health

    # Two members powered off (the quorum lost): every API server answers a write with a 5xx
    # Kubernetes Status within the request timeout and its /readyz fails; with the members
    # back, writes succeed through every master again.
    lost = ["etcd1", "etcd2"]
    for member in lost:
        LocalOps(c.name, c.state_dir).cluster("stop-etcd", member)
    try:
        for server in servers:
            def failed(s: str = server) -> tuple[int, Any, float] | None:
                code, body, took = _raw_create(c, s, ns, "q" + uuid.uuid4().hex[:6])
                return (code, body, took) if code >= 500 else None
            code, body, took = wait_until(failed, 60, f"a write through {server} to fail without a quorum")
            assert body is not None and body.get("kind") == "Status" and body.get("code") == code, (code, body)
            assert took < REQUEST_TIMEOUT, f"{server}: answered after {took:.1f}s"
            wait_until(lambda s=server: _readyz(c, s) not in (0, 200), 30, f"{server}'s /readyz to fail")
    finally:
        for member in lost:
            LocalOps(c.name, c.state_dir).cluster("start-etcd", member)
    for server in servers:
        wait_until(lambda s=server: _readyz(c, s) == 200, 90, f"{server}'s /readyz ok again")
        wait_until(lambda s=server: _raw_create(c, s, ns, "r" + uuid.uuid4().hex[:6])[0] == 201, 60,
                   f"a write through {server} to succeed again")

    left = down_local(c)
    assert not left, left


def test_one_master_over_external_etcd(local_host: None) -> None:
    """kubeadm's single control-plane node over an external etcd (`--masters 1 --etcd
    external`): the master is a namespace of its own running no etcd; the API, the
    scheduler and the controllers work through it."""
    with own_cluster("e2ex1", ["--masters", "1", "--etcd", "external", "--etcd-members", "1", "--nodes", "1"]) as c:
        st = wait_until(lambda: (lambda s: s if all(e["healthy"] for e in s["etcdMembers"])
                                 and all(m["apiReady"] for m in s["masters"]) else None)(_status(c)),
                        60, "the etcd member healthy and the API server ready")
        assert st["etcd"] == "external" and [e["name"] for e in st["etcdMembers"]] == ["etcd1"]
        (m,) = st["masters"]
        assert m["name"] == "master1" and m["netns"] == f"mk8s-{c.name}-master1"
        assert "etcd" not in m["pids"] and m["pids"]["apiserver"], m["pids"]
        ns = "ext1-" + uuid.uuid4().hex[:6]
        c.kubectl("create", "namespace", ns)
        c.kubectl("apply", "-n", ns, "-f", "-", input=json.dumps(deployment("web", 1)))
        wait_until(lambda: _available(c, m["server"], ns, "web") == 1, 120, "the Deployment available")
        left = down_local(c)
        assert not left, left
