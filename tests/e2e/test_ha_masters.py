"""Three stacked masters (`cluster up --masters 3`): losing the leading one costs no control plane.

A cluster of its own (3 masters, 1 node, its own name and subnet), so the session's
cluster is untouched. The master whose controller manager holds the
kube-controller-manager Lease is powered off (`cluster stop-master`, every process
SIGKILLed): the API answers through the other masters (the generated kubeconfig's
failover list for our client; for real kubectl, with no --server, the load balancer the
kubeconfig names), the Lease moves to another
master's controller manager, the master leaves the `kubernetes` and `kube-dns` Endpoints, a
Deployment created afterwards becomes available, a pod still resolves names; the master
started again rejoins (its etcd member healthy, its API server ready).
"""
from __future__ import annotations

import asyncio
import json
import pathlib
import socket
import ssl
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from minik8s.api import errors
from minik8s.api import resources
from minik8s.client import kubeconfig as kubeconfig_mod
from minik8s.client import rest
from tests.e2e.conftest import Cluster, LocalOps, deployment, down_local, own_cluster, wait_until
from tests.e2e.test_podnetwork_vxlan import pod_manifest

MASTERS = 3
LEASE = "kube-controller-manager"


@pytest.fixture
def ha(local_host: None) -> Iterator[Cluster]:
    with own_cluster("e2eha", ["--masters", str(MASTERS), "--etcd", "stacked", "--nodes", "1"]) as c:
        yield c


def _lease_holder(kubeconfig: str) -> str:
    """The Lease's holder, read through the kubeconfig's failover list (our client)."""
    async def get() -> Any:
        async with rest.from_kubeconfig(kubeconfig, timeout=5) as client:
            return await client.get(resources.must("coordination.k8s.io", "v1", "leases"), LEASE, "kube-system")

    try:
        lease = asyncio.run(get())
    except (errors.StatusError, OSError):
        return ""  # mid-failover: asked again by the caller's poll
    return str((lease.get("spec") or {}).get("holderIdentity") or "")


def _master_of(state_dir: str, identity: str) -> str | None:
    """Which master's controller manager is `identity` (it logs it when it becomes leader)."""
    if not identity:
        return None
    for log in sorted(pathlib.Path(state_dir, "masters").glob("master*/logs/controller-manager.log")):
        if identity in log.read_text(errors="replace"):
            return log.parents[1].name
    return None


def _ops(c: Cluster) -> LocalOps:
    return LocalOps(c.name, c.state_dir)


def _masters(c: Cluster) -> dict[str, dict[str, Any]]:
    return {m["name"]: m for m in _ops(c).status()["masters"]}


def _etcd_from_outside(c: Cluster, ip: str, tmp: pathlib.Path) -> None:
    """etcd's client port is not reachable from outside the master, and its peer port refuses
    a client certificate of the cluster CA (the admin's): peers trust only the etcd CA."""
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((ip, 2379), timeout=5).close()
    admin = kubeconfig_mod.load(pathlib.Path(c.state_dir) / "etc" / "admin.conf")
    assert admin.cert and admin.key
    (tmp / "admin.crt").write_bytes(admin.cert)
    (tmp / "admin.key").write_bytes(admin.key)
    # The server's identity is not what is tested: only its verdict on our certificate.
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.load_cert_chain(str(tmp / "admin.crt"), str(tmp / "admin.key"))
    with socket.create_connection((ip, 2380), timeout=5) as sock:  # the peer port is open...
        try:
            with ctx.wrap_socket(sock) as tls:
                # TLS 1.3: the server's verdict on our certificate arrives after the handshake.
                tls.sendall(b"GET /members HTTP/1.1\r\nHost: etcd\r\n\r\n")
                answer = tls.recv(1024)
        except (ssl.SSLError, OSError) as e:
            answer = repr(e).encode()
    assert not answer.startswith(b"HTTP/"), f"...but it must not answer a non-member: {answer!r}"


def _endpoint_ips(c: Cluster, server: str, service: str) -> list[str]:
    namespace = "kube-system" if service == "kube-dns" else "default"
    out = c.kubectl("--server", server, "get", "endpoints", service, "-n", namespace, "-o", "json", check=False)
    if out.returncode != 0:
        return []
    return sorted(a["ip"] for s in json.loads(out.stdout).get("subsets") or [] for a in s.get("addresses") or [])


def _available(c: Cluster, server: str, namespace: str, name: str) -> int:
    out = c.kubectl("--server", server, "get", "deployment", name, "-n", namespace, "-o", "json", check=False)
    if out.returncode != 0:
        return -1
    return int((json.loads(out.stdout).get("status") or {}).get("availableReplicas") or 0)


def test_three_masters_survive_losing_the_leader(ha: Cluster, tmp_path: pathlib.Path) -> None:
    c = ha
    access = kubeconfig_mod.load(c.kubeconfig)
    assert len(access.servers) == MASTERS, access.servers
    lb = _ops(c).status()["loadBalancer"]
    assert access.server == lb["server"] and lb["pid"], "kubectl's server is the cluster's load balancer"
    assert access.server not in access.servers
    masters = wait_until(lambda: (lambda ms: ms if all(m["etcdHealthy"] and m["apiReady"] for m in ms.values())
                                  else None)(_masters(c)), 60, "every master's etcd member and API server up")
    assert sorted(masters) == [f"master{i}" for i in range(1, MASTERS + 1)]
    assert {m["server"] for m in masters.values()} == set(access.servers)
    assert "node1" in c.kubectl("get", "nodes").stdout
    # Every master's API server and DNS server is in the `kubernetes` / `kube-dns` Endpoints.
    want = sorted(m["ip"] for m in masters.values())
    for service in ("kubernetes", "kube-dns"):
        wait_until(lambda service=service: _endpoint_ips(c, c.server, service) == want, 30,
                   f"every master in the {service} Endpoints")
    _etcd_from_outside(c, masters["master2"]["ip"], tmp_path)

    leader = wait_until(lambda: _master_of(c.state_dir, _lease_holder(c.kubeconfig)), 60,
                        "a controller manager holding the Lease")
    old_holder = _lease_holder(c.kubeconfig)
    _ops(c).cluster("stop-master", leader)
    assert _masters(c)[leader]["netns"] is None, "a powered-off master's namespace is gone"

    # The API answers through the others: kubectl with the generated kubeconfig and no
    # --server through the load balancer (TLS verified end to end: the serving certificates
    # name 127.0.0.1), kubectl pointed at a surviving master's address too.
    for what in (("get", "nodes"), ("get", "pods", "-A")):
        out = c.kubectl(*what, check=False)
        assert out.returncode == 0, f"kubectl {' '.join(what)} through the balancer: {out.stderr}"
    assert "node1" in c.kubectl("get", "nodes").stdout
    survivor = next(m["server"] for name, m in masters.items() if name != leader)
    assert "node1" in c.kubectl("--server", survivor, "get", "nodes").stdout
    new_leader = wait_until(
        lambda: (lambda h: _master_of(c.state_dir, h) if h and h != old_holder else None)(_lease_holder(c.kubeconfig)),
        60, "the controller-manager Lease to move to another master")
    assert new_leader != leader

    # The dead master leaves both Endpoints (its master lease and its DNS Lease run out),
    # so pods dialling `kubernetes` or resolving names no longer reach it.
    alive = sorted(m["ip"] for name, m in masters.items() if name != leader)
    for service in ("kubernetes", "kube-dns"):
        wait_until(lambda service=service: _endpoint_ips(c, survivor, service) == alive, 60,
                   f"the powered-off {leader} out of the {service} Endpoints")

    ns = "ha-" + uuid.uuid4().hex[:6]
    c.kubectl("--server", survivor, "create", "namespace", ns)
    c.kubectl("--server", survivor, "apply", "-n", ns, "-f", "-", input=json.dumps(deployment("after", 2)))
    wait_until(lambda: _available(c, survivor, ns, "after") == 2, 120, "the Deployment made after the loss available")
    # Cluster DNS still answers a pod, whichever master was lost.
    c.kubectl("--server", survivor, "apply", "-n", ns, "-f", "-", input=json.dumps(pod_manifest(
        "probe", "node1", command=["sleep", "3600"])))
    lookup = "nslookup kubernetes.default.svc.cluster.local"
    wait_until(lambda: "Address: 10.96.0.1" in c.kubectl(
        "--server", survivor, "exec", "-n", ns, "probe", "--", "sh", "-c", lookup, check=False).stdout, 90,
        "a pod to resolve kubernetes.default through the surviving masters' DNS servers")

    _ops(c).cluster("start-master", leader, timeout=180)
    wait_until(lambda: (lambda m: m["etcdHealthy"] and m["apiReady"])(_masters(c)[leader]), 60,
               f"{leader} to rejoin (etcd member healthy, API server ready)")
    again = masters[leader]["server"]
    assert _available(c, again, ns, "after") == 2, "the rejoined master serves what was written without it"

    # The balancer sends new connections to its first server, master1, while it answers: if
    # the leader was another master, kubectl has not yet lost its server, so master1 goes now
    # (the rejoined leader keeps etcd's quorum).
    if leader != "master1":
        _ops(c).cluster("stop-master", "master1")
        wait_until(lambda: "node1" in c.kubectl("get", "nodes", check=False).stdout, 60,
                   "kubectl without --server to answer through the balancer with master1 gone")
        assert c.kubectl("get", "pods", "-n", ns, check=False).returncode == 0

    left = down_local(c)
    assert not left, left
