"""`minik8s proxy` in every mode, with real iptables and nftables, in network namespaces of its own.

No cluster is needed: the test builds a small world of network namespaces
(`Lab`), runs etcd and an API server inside one of them, the proxy inside the
"node", and tiny TCP/UDP servers inside "pods" behind a bridge on the node:

    host ──veth── C (client + master: etcd, API server) ──veth── N (node: proxy) ──br0── P1 P2 P3
    10.197.X.1     10.197.X.2 / 10.198.X.2                10.198.X.1 / 10.199.X.1       10.199.X.11..

Services and Endpoints are written through the API by hand (no controller
manager). Traffic is sent from a pod, from the node itself and from outside
(C, through the node's NodePort). The node's FORWARD policy is DROP with
Docker's bridge rules, as on a real node, so NodePort traffic only passes
because of the proxy's KUBE-FORWARD rules. Every namespace and process is
removed in teardown, also on failure. bench/proxy.py reuses `Lab`.
"""
from __future__ import annotations

import contextlib
import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import urllib.error
import urllib.request
from typing import Any, Iterator, Sequence

import pytest
from prometheus_client.parser import text_string_to_metric_families

from minik8s.api import identities
from minik8s.util import procs
from tests import conftest

pytestmark = pytest.mark.integration

NS_PREFIX = "mk8s-proxytest-"
REPO = pathlib.Path(__file__).resolve().parents[2]
NO_PROXY_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))

BACKEND = textwrap.dedent('''
    """A pod's server: answers every TCP connection and UDP datagram with its name."""
    import socket, sys, threading
    name, port = sys.argv[1].encode(), int(sys.argv[2])

    def tcp():
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("0.0.0.0", port))
        s.listen(512)
        while True:
            c, _ = s.accept()
            try:
                c.sendall(name + b"\\n")
            except OSError:
                pass
            c.close()

    def udp():
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("0.0.0.0", port))
        while True:
            _, addr = s.recvfrom(2048)
            s.sendto(name, addr)

    threading.Thread(target=tcp, daemon=True).start()
    udp()
''')

CLIENT = textwrap.dedent('''
    """Ask ip:port n times; print the answers (or the error names) as JSON."""
    import json, os, socket, ssl, sys
    proto, ip, port, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    sport = int(sys.argv[5]) if len(sys.argv) > 5 else 0
    out = []
    for _ in range(n):
        try:
            if proto == "tcp":
                with socket.create_connection((ip, port), timeout=2) as s:
                    data = b""
                    while True:
                        chunk = s.recv(4096)
                        if not chunk:
                            break
                        data += chunk
                    out.append(data.decode().strip() or "EMPTY")
            elif proto == "https":
                # The cluster CA beside this script; the name a pod would use for the API server.
                ctx = ssl.create_default_context(cafile=os.path.join(os.path.dirname(__file__), "ca.crt"))
                with socket.create_connection((ip, port), timeout=2) as raw:
                    with ctx.wrap_socket(raw, server_hostname="kubernetes.default.svc") as s:
                        s.sendall(b"GET /readyz HTTP/1.0\\r\\nHost: x\\r\\n\\r\\n")
                        out.append(s.recv(4096).decode().split("\\r\\n")[0])
            else:
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                    s.bind(("0.0.0.0", sport))
                    s.settimeout(1)
                    s.sendto(b"q", (ip, port))
                    out.append(s.recv(2048).decode())
        except OSError as e:
            out.append("ERR:" + type(e).__name__)
    print(json.dumps(out))
''')


def sh(*argv: str, check: bool = True, input: str | None = None) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(list(argv), capture_output=True, text=True, input=input, timeout=60)
    if check and proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc


class Lab:
    """The namespaces, links and processes of one test world; `down()` removes all of it."""

    def __init__(self, tmp: pathlib.Path, pods: int = 3, *, salt: int = 0) -> None:
        self.tmp = tmp
        # Names and subnets derive from the pid, so two runs on one machine do not collide.
        tag = f"{(os.getpid() + salt) % 100000}"
        x = (os.getpid() + salt) % 200 + 20
        self.c, self.n = f"{NS_PREFIX}{tag}-c", f"{NS_PREFIX}{tag}-n"
        self.pods = [f"{NS_PREFIX}{tag}-p{i + 1}" for i in range(pods)]
        self.host_link = f"mk8pt{tag}h"
        self.host_ip, self.master_ip = f"10.197.{x}.1", f"10.197.{x}.2"
        self.client_ip, self.node_ip = f"10.198.{x}.2", f"10.198.{x}.1"
        self.pod_gw = f"10.199.{x}.1"
        self.pod_ips = [f"10.199.{x}.{11 + i}" for i in range(pods)]
        self.cluster_cidr = f"10.199.{x}.0/24"
        self.procs: list[subprocess.Popen[bytes]] = []
        self.backend = tmp / "backend.py"
        self.client = tmp / "client.py"
        self.apiserver_url = ""

    # -- plumbing ------------------------------------------------------------------------------

    @staticmethod
    def ns(name: str) -> list[str]:
        return ["nsenter", f"--net=/run/netns/{name}"]

    def run(self, ns: str, *argv: str, check: bool = True, input: str | None = None
            ) -> subprocess.CompletedProcess[str]:
        return sh(*self.ns(ns), *argv, check=check, input=input)

    def spawn(self, ns: str, argv: Sequence[str], log: str) -> subprocess.Popen[bytes]:
        with open(self.tmp / log, "ab") as out:
            proc = subprocess.Popen([*self.ns(ns), *argv], stdout=out, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, cwd=str(REPO))
        self.procs.append(proc)
        return proc

    def stop(self, proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
        if proc.poll() is None:
            proc.send_signal(sig)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        if proc in self.procs:
            self.procs.remove(proc)

    # -- up and down -----------------------------------------------------------------------------

    def up(self) -> None:
        self.backend.write_text(BACKEND)
        self.client.write_text(CLIENT)
        shutil.copy(conftest.test_pki().ca_file, self.client.parent / "ca.crt")
        for name in (self.c, self.n, *self.pods):
            sh("ip", "netns", "add", name)
            self.run(name, "ip", "link", "set", "lo", "up")
        # host <-> C: how this test process reaches the API server inside C.
        sh("ip", "link", "add", self.host_link, "type", "veth", "peer", "name", "vc-host", "netns", self.c)
        sh("ip", "addr", "add", f"{self.host_ip}/30", "dev", self.host_link)
        sh("ip", "link", "set", self.host_link, "up")
        self.run(self.c, "ip", "addr", "add", f"{self.master_ip}/30", "dev", "vc-host")
        self.run(self.c, "ip", "link", "set", "vc-host", "up")
        # C <-> N: the node's IP, where NodePorts are reached from outside.
        sh("ip", "link", "add", "vc-node", "netns", self.c, "type", "veth", "peer", "name", "vn-client",
           "netns", self.n)
        self.run(self.c, "ip", "addr", "add", f"{self.client_ip}/24", "dev", "vc-node")
        self.run(self.c, "ip", "link", "set", "vc-node", "up")
        self.run(self.n, "ip", "addr", "add", f"{self.node_ip}/24", "dev", "vn-client")
        self.run(self.n, "ip", "link", "set", "vn-client", "up")
        # The node's default route lets its own traffic to cluster IPs leave routing before NAT.
        self.run(self.n, "ip", "route", "add", "default", "via", self.client_ip)
        self.run(self.n, "sysctl", "-qw", "net.ipv4.ip_forward=1")
        # N's pod bridge, as Docker's, with pods P1..Pk on it.
        self.run(self.n, "ip", "link", "add", "br0", "type", "bridge")
        self.run(self.n, "ip", "addr", "add", f"{self.pod_gw}/24", "dev", "br0")
        self.run(self.n, "ip", "link", "set", "br0", "up")
        for i, (pod, ip) in enumerate(zip(self.pods, self.pod_ips)):
            sh("ip", "link", "add", f"vn-p{i + 1}", "netns", self.n, "type", "veth", "peer", "name", "eth0",
               "netns", pod)
            self.run(self.n, "ip", "link", "set", f"vn-p{i + 1}", "master", "br0", "up")
            # Hairpin mode, as Docker sets it with --userland-proxy=false: a pod's packet
            # DNATed back to the pod itself leaves through the port it came in by.
            self.run(self.n, "ip", "link", "set", f"vn-p{i + 1}", "type", "bridge_slave", "hairpin", "on")
            self.run(pod, "ip", "addr", "add", f"{ip}/24", "dev", "eth0")
            self.run(pod, "ip", "link", "set", "eth0", "up")
            self.run(pod, "ip", "route", "add", "default", "via", self.pod_gw)
        # Docker's FORWARD policy and bridge rules: only replies and bridge-originated traffic pass.
        self.run(self.n, "iptables-restore", "--noflush", input=(
            "*filter\n:FORWARD DROP [0:0]\n"
            "-A FORWARD -o br0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n"
            "-A FORWARD -i br0 -j ACCEPT\nCOMMIT\n"))

    def down(self) -> None:
        for proc in list(self.procs):
            with contextlib.suppress(Exception):
                self.stop(proc, signal.SIGKILL)
        for name in (*self.pods, self.n, self.c):
            sh("ip", "netns", "del", name, check=False)
        sh("ip", "link", "del", self.host_link, check=False)

    # -- services ----------------------------------------------------------------------------------

    def start_backends(self, port: int = 8080) -> None:
        for i, pod in enumerate(self.pods):
            self.spawn(pod, [sys.executable, str(self.backend), f"p{i + 1}", str(port)], f"backend-p{i + 1}.log")

    def start_apiserver(self) -> str:
        etcd_dir = self.tmp / "etcd"
        self.spawn(self.c, ["etcd", "--data-dir", str(etcd_dir), "--listen-client-urls", "http://127.0.0.1:2379",
                            "--advertise-client-urls", "http://127.0.0.1:2379",
                            "--listen-peer-urls", "http://127.0.0.1:2380"], "etcd.log")
        self.spawn(self.c, [sys.executable, "-m", "minik8s", "apiserver", "--etcd-endpoints",
                            "http://127.0.0.1:2379", "--bind-address", "0.0.0.0", "--port", "6443",
                            "--advertise-address", self.client_ip, "--etcd-timeout", "2",
                            *conftest.test_pki().apiserver_args(self.master_ip, self.client_ip)], "apiserver.log")
        self.apiserver_url = f"https://{self.master_ip}:6443"
        admin = conftest.opener()

        def ready() -> bool:
            try:
                with admin.open(self.apiserver_url + "/readyz", timeout=1) as resp:
                    return resp.status == 200
            except OSError:
                return False
        procs.wait_for(ready, 60, interval=0.2, what="the lab's API server")
        return self.apiserver_url

    def start_proxy(self, mode: str, *extra: str) -> subprocess.Popen[bytes]:
        return self.spawn(self.n, [
            sys.executable, "-m", "minik8s", "--log-level", "debug", "proxy", "--mode", mode,
            "--kubeconfig", self.proxy_kubeconfig(), "--node-name", "lab-node", "--node-ip", self.node_ip,
            "--cluster-cidr", self.cluster_cidr, "--min-sync-period", "0.05", *extra], f"proxy-{mode}.log")

    def proxy_kubeconfig(self) -> str:
        """The node's view of the API server (its own address for it), as kube-proxy."""
        return conftest.test_pki().write_kubeconfig(self.tmp / "proxy.conf", f"https://{self.client_ip}:6443",
                                                    identities.PROXY, ())

    def api(self, method: str, path: str, body: Any = None) -> Any:
        req = urllib.request.Request(self.apiserver_url + path, method=method,
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Content-Type": "application/json"})
        with conftest.opener().open(req, timeout=30) as resp:
            return json.loads(resp.read() or b"null")

    def ask(self, ns: str, proto: str, ip: str, port: int, n: int = 1, sport: int = 0) -> list[str]:
        argv = [sys.executable, str(self.client), proto, ip, str(port), str(n)] + ([str(sport)] if sport else [])
        return list(json.loads(self.run(ns, *argv).stdout))

    def iptables_save(self, ns: str | None = None) -> str:
        return self.run(ns or self.n, "iptables-save").stdout


def proxy_log(lab: Lab, mode: str) -> str:
    path = lab.tmp / f"proxy-{mode}.log"
    return path.read_text()[-4000:] if path.exists() else ""


def eventually(predicate: Any, what: str, timeout: float = 20) -> Any:
    return procs.wait_for(predicate, timeout, interval=0.1, what=what)


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    for tool in ("iptables-restore", "nsenter", "ip", "etcd"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    if os.geteuid() != 0:
        pytest.skip("network namespaces need root")
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="minik8s-proxytest-"))
    world = Lab(tmp)
    try:
        world.up()
        world.start_backends()
        world.start_apiserver()
        yield world
    finally:
        world.down()
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture
def ns(lab: Lab) -> Iterator[str]:
    name = f"t-{os.urandom(3).hex()}"
    lab.api("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    yield name
    with contextlib.suppress(Exception):
        lab.api("DELETE", f"/api/v1/namespaces/{name}")


def create_service(lab: Lab, ns: str, name: str, ports: list[dict[str, Any]], type_: str = "ClusterIP"
                   ) -> dict[str, Any]:
    return lab.api("POST", f"/api/v1/namespaces/{ns}/services", {
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
        "spec": {"type": type_, "ports": ports}})


# The node each pod address is on, as the endpoints controller writes it (nodeName): p1 is
# on the lab's node; p2 and p3 are said to be elsewhere, so the proxy translates traffic to
# them without hairpin rules (on a real node only its own pods can be their own clients).
NODES = {0: "lab-node", 1: "elsewhere", 2: "elsewhere"}


def set_endpoints(lab: Lab, ns: str, name: str, ready: list[str], ports: list[dict[str, Any]],
                  not_ready: Sequence[str] = ()) -> None:
    subset: dict[str, Any] = {"ports": ports}
    if ready:
        subset["addresses"] = [{"ip": ip, "nodeName": NODES[lab.pod_ips.index(ip)]} for ip in ready]
    if not_ready:
        subset["notReadyAddresses"] = [{"ip": ip} for ip in not_ready]
    body: dict[str, Any] = {"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": name, "namespace": ns},
                            "subsets": [subset] if ready or not_ready else []}
    try:
        current = lab.api("GET", f"/api/v1/namespaces/{ns}/endpoints/{name}")
    except urllib.error.HTTPError as e:
        if e.code != 404:
            raise
        lab.api("POST", f"/api/v1/namespaces/{ns}/endpoints", body)
        return
    body["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
    lab.api("PUT", f"/api/v1/namespaces/{ns}/endpoints/{name}", body)


HTTP = [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP", "nodePort": 30001}]
HTTP_EP = [{"name": "http", "port": 8080, "protocol": "TCP"}]
DNS = [{"name": "dns", "port": 53, "targetPort": 8080, "protocol": "UDP"}]
DNS_EP = [{"name": "dns", "port": 8080, "protocol": "UDP"}]


def exercise(lab: Lab, ns: str, mode: str) -> None:
    """What both modes must do: the same checks, run against whichever proxy is up."""
    p1, p2, p3 = lab.pod_ips
    web = create_service(lab, ns, "web", HTTP, "NodePort")
    cip = web["spec"]["clusterIP"]
    set_endpoints(lab, ns, "web", [p1, p2], HTTP_EP)

    # From a pod, from the node, from outside through the node's NodePort: both endpoints answer.
    eventually(lambda: set(lab.ask(lab.pods[2], "tcp", cip, 80, 12)) == {"p1", "p2"},
               f"{mode}: ClusterIP from a pod reaching p1 and p2")
    assert set(lab.ask(lab.n, "tcp", cip, 80, 12)) == {"p1", "p2"}
    assert set(lab.ask(lab.c, "tcp", lab.node_ip, 30001, 12)) == {"p1", "p2"}
    # A pod reaching a Service it is an endpoint of: hairpin traffic is masqueraded.
    assert set(lab.ask(lab.pods[0], "tcp", cip, 80, 12)) == {"p1", "p2"}

    # Endpoint changes are followed: p3 replaces p1 and p2.
    set_endpoints(lab, ns, "web", [p3], HTTP_EP)
    eventually(lambda: set(lab.ask(lab.c, "tcp", lab.node_ip, 30001, 6)) == {"p3"},
               f"{mode}: NodePort following the endpoint change")
    assert set(lab.ask(lab.pods[0], "tcp", cip, 80, 4)) == {"p3"}

    # Readiness: a not-ready address takes no traffic; clients are refused, not hung.
    set_endpoints(lab, ns, "web", [], HTTP_EP, not_ready=[p3])
    refused = ({"ERR:ConnectionRefusedError"} if mode in ("iptables", "nftables")
               else {"EMPTY", "ERR:ConnectionResetError"})
    eventually(lambda: set(lab.ask(lab.pods[0], "tcp", cip, 80, 2)) <= refused,
               f"{mode}: a Service without ready endpoints refusing")
    set_endpoints(lab, ns, "web", [p2], HTTP_EP, not_ready=[p3])
    eventually(lambda: set(lab.ask(lab.n, "tcp", cip, 80, 4)) == {"p2"}, f"{mode}: p2 back in rotation")

    # UDP (the cluster DNS's protocol): a client keeping its source port follows a change too.
    dns = create_service(lab, ns, "dns", DNS)
    dns_ip = dns["spec"]["clusterIP"]
    set_endpoints(lab, ns, "dns", [p1], DNS_EP)
    eventually(lambda: lab.ask(lab.pods[2], "udp", dns_ip, 53, 1, sport=40053) == ["p1"],
               f"{mode}: UDP ClusterIP from a pod")
    assert lab.ask(lab.n, "udp", dns_ip, 53, 1) == ["p1"]
    set_endpoints(lab, ns, "dns", [p2], DNS_EP)
    eventually(lambda: lab.ask(lab.pods[2], "udp", dns_ip, 53, 1, sport=40053) == ["p2"],
               f"{mode}: UDP client with a fixed source port following the change")

    # The API server's own Service, 10.96.0.1:443 -> its advertised address, over TLS that
    # checks the serving certificate against the name pods use.
    assert lab.ask(lab.n, "https", "10.96.0.1", 443)[0].split()[1] == "200"


def test_iptables_mode(lab: Lab, ns: str) -> None:
    port = procs.free_port()
    proxy = lab.start_proxy("iptables", "--metrics-bind-address", f"127.0.0.1:{port}")
    try:
        try:
            exercise(lab, ns, "iptables")
        except (AssertionError, TimeoutError):
            print(lab.iptables_save())
            print(proxy_log(lab, "iptables"))
            raise
        saved = lab.iptables_save()
        assert "-A KUBE-FORWARD -m comment --comment \"kubernetes forwarding rules\" -m mark --mark " \
               "0x4000/0x4000 -j ACCEPT" in saved
        # web's one endpoint now, p2, is on another node: its Service chain DNATs to it, no
        # KUBE-SEP chain of its own (and no hairpin mark).
        p1, p2 = lab.pod_ips[0], lab.pod_ips[1]
        assert f"-j DNAT --to-destination {p2}:8080" in saved and f"-s {p2}/32" not in saved, saved

        # Connections are counted per endpoint, by the DNAT rule's counter, and /metrics shows them.
        web_ip = lab.api("GET", f"/api/v1/namespaces/{ns}/services/web")["spec"]["clusterIP"]
        labels = {"namespace": ns, "service": "web", "port": "http", "protocol": "TCP", "endpoint": f"{p2}:8080"}
        before = endpoint_count(lab, port, labels)
        assert before >= 0, metrics(lab, port)
        assert lab.ask(lab.pods[2], "tcp", web_ip, 80, 7) == ["p2"] * 7
        assert lab.ask(lab.c, "tcp", lab.node_ip, 30001, 3) == ["p2"] * 3
        assert endpoint_count(lab, port, labels) == before + 10

        # A deleted Service's chains go away in the next sync.
        web_chain = next(line.split()[-1] for line in saved.splitlines()
                         if f"{ns}/web:http cluster IP" in line and line.startswith("-A KUBE-SERVICES"))
        lab.api("DELETE", f"/api/v1/namespaces/{ns}/services/web")
        lab.api("DELETE", f"/api/v1/namespaces/{ns}/endpoints/web")
        eventually(lambda: web_chain not in lab.iptables_save(), "the deleted Service's chain to go")

        # Rules outlive the proxy: traffic is served while it restarts, and after.
        dns_ip = lab.api("GET", f"/api/v1/namespaces/{ns}/services/dns")["spec"]["clusterIP"]
        lab.stop(proxy)
        assert lab.ask(lab.pods[2], "udp", dns_ip, 53, 1) == ["p2"]
        log_path = lab.tmp / "proxy-iptables.log"
        log_start = log_path.stat().st_size
        proxy = lab.start_proxy("iptables", "--sync-period", "1")
        set_endpoints(lab, ns, "dns", [lab.pod_ips[0]], DNS_EP)
        eventually(lambda: lab.ask(lab.pods[2], "udp", dns_ip, 53, 1) == ["p1"], "the restarted proxy to sync")

        # Periodic (full) syncs check the jumps from the built-in chains inside their restore:
        # the kernel takes that text as it is.
        def new_log() -> str:
            return log_path.read_bytes()[log_start:].decode(errors="replace")
        eventually(lambda: new_log().count("(full)") >= 4, "periodic full syncs")
        assert "jump checks failed" not in new_log(), new_log()
        # Someone deletes a jump: the next one's checked restore fails, the jump is put back.
        lab.run(lab.n, "iptables", "-t", "nat", "-D", "PREROUTING", "-m", "comment", "--comment",
                "kubernetes service portals", "-j", "KUBE-SERVICES")
        eventually(lambda: "added jump nat/PREROUTING -> KUBE-SERVICES" in new_log(), "the jump to be put back")
        assert "jump checks failed" in new_log()
        assert lab.ask(lab.pods[2], "udp", dns_ip, 53, 1) == ["p1"]
        # p1 is on this node: a KUBE-SEP chain that marks its hairpin traffic.
        assert lab.ask(lab.pods[0], "udp", dns_ip, 53, 1) == ["p1"]
        saved = lab.iptables_save()
        assert any(f"-s {p1}/32" in line and "-j MARK" in line for line in saved.splitlines()), saved
    finally:
        lab.stop(proxy)
        cleanup = lab.run(lab.n, sys.executable, "-m", "minik8s", "proxy", "--cleanup")
    assert "removed" in cleanup.stdout
    leftovers = [line for line in lab.iptables_save().splitlines() if "KUBE-" in line]
    assert leftovers == []


def nft_list(lab: Lab) -> str:
    return lab.run(lab.n, "nft", "list", "table", "ip", "minik8s-proxy", check=False).stdout


def metrics(lab: Lab, port: int) -> str:
    return lab.run(lab.n, sys.executable, "-c", "import urllib.request as u; print(u.build_opener("
                   f"u.ProxyHandler({{}})).open('http://127.0.0.1:{port}/metrics', timeout=5).read().decode())").stdout


def endpoint_count(lab: Lab, port: int, labels: dict[str, str]) -> float:
    """minik8s_proxy_endpoint_connections_total of one endpoint from the proxy's /metrics; -1 if absent."""
    for family in text_string_to_metric_families(metrics(lab, port)):
        for sample in family.samples:
            if sample.name == "minik8s_proxy_endpoint_connections_total" and sample.labels == labels:
                return sample.value
    return -1


def test_nftables_mode(lab: Lab, ns: str) -> None:
    if shutil.which("nft") is None:
        pytest.skip("nft is not installed")
    # The nftables mode writes nothing into iptables' FORWARD, whose DROP policy (Docker's)
    # its own table cannot override: on a node the network agent accepts the cluster CIDR
    # there (DOCKER-USER), and so does the lab here.
    accept = f"-A FORWARD -d {lab.cluster_cidr} -j ACCEPT"
    lab.run(lab.n, "iptables-restore", "--noflush", input=f"*filter\n{accept}\nCOMMIT\n")
    # Leftovers of the iptables mode, e.g. after switching modes: they would catch traffic first.
    lab.run(lab.n, "iptables-restore", "--noflush", input=(
        "*nat\n:KUBE-SERVICES - [0:0]\n-A KUBE-SERVICES -d 10.96.255.254/32 -j RETURN\n"
        "-A PREROUTING -j KUBE-SERVICES\n-A OUTPUT -j KUBE-SERVICES\nCOMMIT\n"))
    port = procs.free_port()
    proxy = lab.start_proxy("nftables", "--metrics-bind-address", f"127.0.0.1:{port}")
    try:
        try:
            exercise(lab, ns, "nftables")
        except (AssertionError, TimeoutError):
            print(nft_list(lab))
            print(proxy_log(lab, "nftables"))
            raise
        assert "KUBE-" not in lab.iptables_save(), "the iptables mode's leftovers are removed"
        table = nft_list(lab)
        # A Service without session affinity is map elements only: no chain of its own.
        assert "map service-ips" in table and "map cluster-ip-endpoints-tcp" in table
        assert f"{ns}/web" not in table and "chain spread-1" in table, table

        # Connections are counted per endpoint, and /metrics shows them.
        web_ip = lab.api("GET", f"/api/v1/namespaces/{ns}/services/web")["spec"]["clusterIP"]
        labels = {"namespace": ns, "service": "web", "port": "http", "protocol": "TCP",
                  "endpoint": f"{lab.pod_ips[1]}:8080"}

        def count(want: dict[str, str] = labels) -> float:
            return endpoint_count(lab, port, want)
        before = count()
        assert before >= 0, metrics(lab, port)
        assert lab.ask(lab.pods[2], "tcp", web_ip, 80, 7) == ["p2"] * 7
        assert count() == before + 7
        # Through the NodePort too (a counter of its own, summed).
        assert lab.ask(lab.c, "tcp", lab.node_ip, 30001, 3) == ["p2"] * 3
        assert count() == before + 10

        # ClientIP affinity: such a Service keeps chains of its own (kube-proxy's shape) in the
        # same table; a client sticks to one endpoint, counted by its endpoint chain's counter.
        sticky = lab.api("POST", f"/api/v1/namespaces/{ns}/services", {
            "apiVersion": "v1", "kind": "Service", "metadata": {"name": "sticky"},
            "spec": {"ports": [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}],
                     "sessionAffinity": "ClientIP"}})
        set_endpoints(lab, ns, "sticky", [lab.pod_ips[0], lab.pod_ips[1]], HTTP_EP)
        sticky_ip = sticky["spec"]["clusterIP"]
        eventually(lambda: lab.ask(lab.pods[2], "tcp", sticky_ip, 80, 1)[0] in ("p1", "p2"),
                   "the affinity Service to answer")
        answers = lab.ask(lab.pods[2], "tcp", sticky_ip, 80, 8)
        assert len(set(answers)) == 1 and answers[0] in ("p1", "p2"), answers
        assert "chain service-" in nft_list(lab) and f"{ns}/sticky/tcp/http" in nft_list(lab)
        chosen = lab.pod_ips[0] if answers[0] == "p1" else lab.pod_ips[1]
        sticky_labels = dict(labels, service="sticky", endpoint=f"{chosen}:8080")
        assert count(sticky_labels) >= 8

        # A deleted Service's chains and map elements go away in the next sync.
        lab.api("DELETE", f"/api/v1/namespaces/{ns}/services/web")
        lab.api("DELETE", f"/api/v1/namespaces/{ns}/endpoints/web")
        eventually(lambda: f"{ns}/web/" not in nft_list(lab), "the deleted Service's chains to go")
        assert web_ip not in nft_list(lab)

        # Rules outlive the proxy: traffic is served while it restarts, and after.
        dns_ip = lab.api("GET", f"/api/v1/namespaces/{ns}/services/dns")["spec"]["clusterIP"]
        lab.stop(proxy)
        assert lab.ask(lab.pods[2], "udp", dns_ip, 53, 1) == ["p2"]
        proxy = lab.start_proxy("nftables", "--metrics-bind-address", f"127.0.0.1:{port}", "--sync-period", "1")
        set_endpoints(lab, ns, "dns", [lab.pod_ips[0]], DNS_EP)
        eventually(lambda: lab.ask(lab.pods[2], "udp", dns_ip, 53, 1) == ["p1"], "the restarted proxy to sync")

        # Someone removes the table by hand: the next periodic sync (a cheap check between
        # the hourly full ones) builds it again, with nothing changed in the API.
        lab.run(lab.n, "nft", "delete", "table", "ip", "minik8s-proxy")
        assert "minik8s-proxy" not in lab.run(lab.n, "nft", "list", "tables").stdout
        eventually(lambda: lab.ask(lab.pods[2], "udp", dns_ip, 53, 1) == ["p1"], "the table rebuilt by a periodic sync")
    finally:
        lab.stop(proxy)
        lab.run(lab.n, sys.executable, "-m", "minik8s", "proxy", "--cleanup")
        lab.run(lab.n, "iptables", "-D", "FORWARD", "-d", lab.cluster_cidr, "-j", "ACCEPT", check=False)
    assert nft_list(lab) == "", "--cleanup removes the table"


def test_userspace_mode(lab: Lab, ns: str) -> None:
    # Leftovers of the other mode, e.g. after switching modes: they would catch traffic first.
    lab.run(lab.n, "iptables-restore", "--noflush", input=(
        "*nat\n:KUBE-SERVICES - [0:0]\n-A KUBE-SERVICES -d 10.96.255.254/32 -j RETURN\n"
        "-A PREROUTING -j KUBE-SERVICES\n-A OUTPUT -j KUBE-SERVICES\nCOMMIT\n"))
    proxy = lab.start_proxy("userspace", "--udp-timeout", "1")
    try:
        try:
            exercise(lab, ns, "userspace")
        except (AssertionError, TimeoutError):
            print(lab.iptables_save())
            print(proxy_log(lab, "userspace"))
            raise
        saved = lab.iptables_save()
        assert "KUBE-SERVICES" not in saved
        assert "-j KUBE-PORTALS-CONTAINER" in saved and "-j KUBE-NODEPORT-HOST" in saved
        # A restarted proxy listens on new ports and rewrites the rules to match.
        lab.stop(proxy)
        proxy = lab.start_proxy("userspace")
        web_ip = lab.api("GET", f"/api/v1/namespaces/{ns}/services/web")["spec"]["clusterIP"]
        eventually(lambda: set(lab.ask(lab.pods[2], "tcp", web_ip, 80, 3)) == {"p2"},
                   "the restarted userspace proxy to serve")
    finally:
        lab.stop(proxy)
        cleanup = lab.run(lab.n, sys.executable, "-m", "minik8s", "proxy", "--cleanup")
    assert "removed" in cleanup.stdout
    assert [line for line in lab.iptables_save().splitlines() if "KUBE-" in line] == []


def test_cleanup_without_rules_is_a_no_op(lab: Lab) -> None:
    out = lab.run(lab.n, sys.executable, "-m", "minik8s", "proxy", "--cleanup")
    assert "no proxy rules to remove" in out.stdout
    # The lab's own rules are untouched.
    assert "-A FORWARD -i br0 -j ACCEPT" in lab.iptables_save()


def test_lab_tears_down_everything(tmp_path: pathlib.Path) -> None:
    world = Lab(tmp_path, pods=1, salt=1)
    try:
        world.up()
    finally:
        world.down()
    names = sh("ip", "netns", "list").stdout
    assert world.n not in names and world.c not in names
    assert sh("ip", "link", "show", world.host_link, check=False).returncode != 0
