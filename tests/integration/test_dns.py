"""`minik8s dns` against a real API server: answers follow Services and Endpoints, over UDP
and TCP; it keeps kube-system/kube-dns; and a real stub resolver (glibc's, busybox's)
finds a Service by its short name through a pod-style resolv.conf.

The server listens on a random 127.x.y.z, on port 53 when that is free (a stub
resolver cannot be told another port), so every query stays on loopback.
"""
from __future__ import annotations

import dataclasses
import pathlib
import random
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import pytest

from minik8s.api import identities
from minik8s.util import procs
from tests.conftest import REPO, ApiServerProcess, http

pytestmark = pytest.mark.integration

ADVERTISE = "198.51.100.53"  # a documentation address: only written into Endpoints, never contacted
SECOND_ADVERTISE = "198.51.100.54"


@dataclasses.dataclass
class DnsProcess:
    address: str
    port: int
    service_ip: str
    proc: subprocess.Popen[bytes]
    log: pathlib.Path

    def ask(self, name: str, rdtype: str = "A", *, tcp: bool = False) -> dns.message.Message:
        query = dns.message.make_query(name, rdtype)
        if tcp:
            return dns.query.tcp(query, self.address, port=self.port, timeout=3)
        return dns.query.udp(query, self.address, port=self.port, timeout=3)

    def addresses(self, name: str) -> list[str]:
        reply = self.ask(name)
        return sorted(rd.address for rrset in reply.answer if rrset.rdtype == dns.rdatatype.A for rd in rrset)


def _start(apiserver: ApiServerProcess, tmp: pathlib.Path, address: str, port: int,
           service_ip: str, advertise: str = ADVERTISE, extra: tuple[str, ...] = ()) -> DnsProcess | None:
    log = tmp / f"dns-{address}-{port}.log"
    argv = [sys.executable, "-m", "minik8s", "dns", "--kubeconfig", apiserver.kubeconfig_for(identities.DNS),
            "--bind-address", address,
            "--port", str(port), "--advertise-address", advertise, "--service-ip", service_ip, *extra]
    with open(log, "ab") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, cwd=str(REPO))
    server = DnsProcess(address, port, service_ip, proc, log)

    def answering() -> bool:
        if proc.poll() is not None:
            return True
        try:
            return server.ask("cluster.local.", "SOA").rcode() == dns.rcode.NOERROR
        except (dns.exception.Timeout, OSError):
            return False

    procs.wait_for(answering, 30, interval=0.1, what="the DNS server to answer")
    if proc.poll() is not None:
        if "address already in use" in log.read_text().lower():
            return None
        raise AssertionError(f"minik8s dns exited ({proc.returncode}):\n{log.read_text()[-3000:]}")
    return server


@pytest.fixture(scope="module")
def dns_server(apiserver: ApiServerProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DnsProcess]:
    tmp = tmp_path_factory.mktemp("dns")
    address = f"127.{random.randint(1, 254)}.{random.randint(1, 254)}.{random.randint(2, 254)}"
    service_ip = f"10.{random.randint(100, 110)}.{random.randint(1, 254)}.{random.randint(1, 254)}"
    server = _start(apiserver, tmp, address, 53, service_ip) or _start(
        apiserver, tmp, address, procs.free_port(), service_ip)
    assert server is not None
    try:
        yield server
    finally:
        procs.stop_pid(server.proc.pid)
        server.proc.wait(timeout=5)
        http(apiserver, "DELETE", "/api/v1/namespaces/kube-system/services/kube-dns", check=False)
        http(apiserver, "DELETE", "/api/v1/namespaces/kube-system/endpoints/kube-dns", check=False)
        http(apiserver, "DELETE", f"/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-dns-{ADVERTISE}",
             check=False)


def _service(name: str, cluster_ip: str | None = None, ports: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"ports": ports or [{"name": "http", "port": 80, "protocol": "TCP"}]}
    if cluster_ip:
        spec["clusterIP"] = cluster_ip
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name}, "spec": spec}


def _wait_answer(server: DnsProcess, name: str, want: list[str]) -> None:
    try:
        procs.wait_for(lambda: server.addresses(name) == want, 15, interval=0.1, what=f"{name} → {want}")
    except TimeoutError:
        raise AssertionError(f"{name}: {server.ask(name)}\n{server.log.read_text()[-2000:]}") from None


def test_services_resolve_over_udp_and_tcp_and_follow_changes(apiserver: ApiServerProcess, namespace: str,
                                                                dns_server: DnsProcess) -> None:
    _, svc = http(apiserver, "POST", f"/api/v1/namespaces/{namespace}/services", _service(
        "web", ports=[{"name": "http", "port": 80, "protocol": "TCP"}, {"name": "metrics", "port": 9100}]))
    ip = svc["spec"]["clusterIP"]
    full = f"web.{namespace}.svc.cluster.local."
    _wait_answer(dns_server, full, [ip])
    reply = dns_server.ask(full, tcp=True)
    assert [rd.address for rd in reply.answer[0]] == [ip] and reply.flags & dns.flags.AA

    srv = dns_server.ask(f"_http._tcp.{full}", "SRV")
    assert [rd.to_text() for rd in srv.answer[0]] == [f"0 100 80 {full}"]
    assert [rd.address for rrset in srv.additional for rd in rrset] == [ip]

    assert dns_server.ask(f"nope.{namespace}.svc.cluster.local.").rcode() == dns.rcode.NXDOMAIN
    refused = dns_server.ask("www.example.com.")
    assert refused.rcode() == dns.rcode.REFUSED and not refused.answer

    # A headless Service resolves to its ready endpoints, and follows them.
    http(apiserver, "POST", f"/api/v1/namespaces/{namespace}/services", _service("db", "None"))
    http(apiserver, "POST", f"/api/v1/namespaces/{namespace}/endpoints", {
        "apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "db"},
        "subsets": [{"addresses": [{"ip": "10.244.1.5", "hostname": "db-0"}, {"ip": "10.244.2.6"}],
                     "notReadyAddresses": [{"ip": "10.244.3.7"}], "ports": [{"name": "http", "port": 80}]}]})
    _wait_answer(dns_server, f"db.{namespace}.svc.cluster.local.", ["10.244.1.5", "10.244.2.6"])
    assert dns_server.addresses(f"db-0.db.{namespace}.svc.cluster.local.") == ["10.244.1.5"]

    # A deleted Service is gone from DNS.
    http(apiserver, "DELETE", f"/api/v1/namespaces/{namespace}/services/web")
    procs.wait_for(lambda: dns_server.ask(full).rcode() == dns.rcode.NXDOMAIN, 15, interval=0.1,
                   what=f"{full} to go away")


def test_keeps_the_kube_dns_service_and_endpoints(apiserver: ApiServerProcess, dns_server: DnsProcess) -> None:
    def get(kind: str) -> dict[str, Any] | None:
        status, body = http(apiserver, "GET", f"/api/v1/namespaces/kube-system/{kind}/kube-dns", check=False)
        return body if status == 200 else None

    svc = procs.wait_for(lambda: get("services"), 15, what="the kube-dns Service")
    assert svc["spec"]["clusterIP"] == dns_server.service_ip
    assert sorted((p["name"], p["port"], p["protocol"], p["targetPort"]) for p in svc["spec"]["ports"]) == [
        ("dns", 53, "UDP", dns_server.port), ("dns-tcp", 53, "TCP", dns_server.port)]
    assert not svc["spec"].get("selector")
    ep = procs.wait_for(lambda: get("endpoints"), 15, what="the kube-dns Endpoints")
    assert ep["subsets"][0]["addresses"] == [{"ip": ADVERTISE}]
    status, lease = http(apiserver, "GET", f"/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/"
                         f"kube-dns-{ADVERTISE}")
    assert lease["spec"]["leaseDurationSeconds"] == 15 and lease["spec"]["renewTime"]
    assert {p["port"] for p in ep["subsets"][0]["ports"]} == {dns_server.port}
    # Itself a Service: it resolves.
    assert dns_server.addresses("kube-dns.kube-system.svc.cluster.local.") == [dns_server.service_ip]

    # Deleted (or broken) by someone: put back.
    http(apiserver, "DELETE", "/api/v1/namespaces/kube-system/endpoints/kube-dns")
    procs.wait_for(lambda: get("endpoints"), 15, what="the kube-dns Endpoints to be recreated")
    http(apiserver, "PATCH", "/api/v1/namespaces/kube-system/services/kube-dns",
         {"spec": {"ports": [{"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 9}]}},
         content_type="application/merge-patch+json")
    procs.wait_for(lambda: len((get("services") or {}).get("spec", {}).get("ports", [])) == 2, 15,
                   what="the kube-dns ports to be put back")


def test_several_dns_servers_share_the_kube_dns_endpoints(
        apiserver: ApiServerProcess, dns_server: DnsProcess, tmp_path: pathlib.Path) -> None:
    """Every master runs a DNS server: the Endpoints list the live ones. A second server
    (same port, another address) joins; killed, it drops out when its 3 s Lease runs
    out; one stopped cleanly leaves at once although its Lease had a minute to run."""
    second_address = dns_server.address.rsplit(".", 1)[0] + f".{(int(dns_server.address.rsplit('.', 1)[1]) % 250) + 2}"

    def addresses() -> list[str]:
        status, ep = http(apiserver, "GET", "/api/v1/namespaces/kube-system/endpoints/kube-dns", check=False)
        return [a["ip"] for s in (ep or {}).get("subsets") or [] for a in s.get("addresses") or []] \
            if status == 200 else []

    def start_second(lease: int) -> DnsProcess:
        server = _start(apiserver, tmp_path, second_address, dns_server.port, dns_server.service_ip,
                        advertise=SECOND_ADVERTISE, extra=("--lease-duration", str(lease)))
        assert server is not None, f"{second_address}:{dns_server.port} is taken"
        return server

    both, first_only = [ADVERTISE, SECOND_ADVERTISE], [ADVERTISE]
    second = start_second(lease=3)
    try:
        procs.wait_for(lambda: addresses() == both, 20, what=f"both DNS servers listed (have {addresses()})")
        second.proc.kill()
        second.proc.wait(timeout=10)
        procs.wait_for(lambda: addresses() == first_only, 30,
                       what=f"the killed server dropped when its Lease ran out (have {addresses()})")

        second = start_second(lease=60)
        procs.wait_for(lambda: addresses() == both, 20, what=f"the restarted server listed (have {addresses()})")
        procs.stop_pid(second.proc.pid)
        second.proc.wait(timeout=10)
        procs.wait_for(lambda: addresses() == first_only, 20,
                       what=f"a cleanly stopped server taken out at once (have {addresses()})")
        status, _ = http(apiserver, "GET", "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/"
                         f"kube-dns-{SECOND_ADVERTISE}", check=False)
        assert status == 404, "a cleanly stopped server deletes its Lease"
    finally:
        if second.proc.poll() is None:
            second.proc.kill()
            second.proc.wait(timeout=10)
        http(apiserver, "DELETE", "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/"
             f"kube-dns-{SECOND_ADVERTISE}", check=False)


def _in_pod_resolv_conf(tmp: pathlib.Path, server: DnsProcess, namespace: str, *argv: str) -> str:
    """Run `argv` with /etc/resolv.conf replaced (in a private mount namespace) by a pod's."""
    conf = tmp / "resolv.conf"
    conf.write_text(f"nameserver {server.address}\nsearch {namespace}.svc.cluster.local svc.cluster.local "
                    "cluster.local\noptions ndots:5\n")
    script = f'mount --bind "{conf}" /etc/resolv.conf && exec "$@"'
    proc = subprocess.run(["unshare", "-m", "sh", "-c", script, "sh", *argv], capture_output=True, text=True,
                          timeout=30)
    return proc.stdout + proc.stderr


def test_a_real_stub_resolver_finds_services_by_short_name(apiserver: ApiServerProcess, namespace: str,
                                                           dns_server: DnsProcess, tmp_path: pathlib.Path) -> None:
    if dns_server.port != 53:
        pytest.skip("port 53 is taken on this machine; stub resolvers only ask port 53")
    _, svc = http(apiserver, "POST", f"/api/v1/namespaces/{namespace}/services", _service("web"))
    ip = svc["spec"]["clusterIP"]
    _wait_answer(dns_server, f"web.{namespace}.svc.cluster.local.", [ip])
    for name in ("web", f"web.{namespace}", f"web.{namespace}.svc", f"web.{namespace}.svc.cluster.local"):
        out = _in_pod_resolv_conf(tmp_path, dns_server, namespace, "getent", "ahostsv4", name)
        assert out.split()[:1] == [ip], f"getent ahostsv4 {name}: {out}"
    # busybox's nslookup (what the e2e tests run in pods) walks the search list for dotless names.
    for name in ("web", f"web.{namespace}.svc.cluster.local"):
        out = _in_pod_resolv_conf(tmp_path, dns_server, namespace, "busybox", "nslookup", name)
        assert f"Name:\tweb.{namespace}.svc.cluster.local\nAddress: {ip}" in out, out
    out = _in_pod_resolv_conf(tmp_path, dns_server, namespace, "getent", "ahostsv4", "nope")
    assert ip not in out
