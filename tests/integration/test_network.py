"""The network agent on real kernels: three "nodes" as network namespaces, no Docker.

Topology (every name carries this run's id, so parallel runs cannot collide):

    host (root netns): API server on 10.197.R.1 ── veth ──┐
    mk8s-nettest-<id>-sw: bridge br0 (+ 10.197.R.2, an "outside" HTTP server)
         ├── veth ── mk8s-nettest-<id>-n1: eth0 10.197.R.11, bridge cni0 10.196.1.1/24 ── veth ── pod p1 10.196.1.2
         ├── veth ── mk8s-nettest-<id>-n2: eth0 10.197.R.12, cni0 10.196.2.1/24 ── pod p2 10.196.2.2
         └── veth ── mk8s-nettest-<id>-n3: eth0 10.197.R.13, cni0 10.196.3.1/24 ── pod p3 10.196.3.2

The switch lives in its own namespace rather than on the host so that frames
between nodes are never bridged through the host's netfilter (where Docker's
FORWARD policy is DROP). No namespace has a default route, so nothing here can
send a packet off the machine. One `minik8s network-agent` runs in each node's
namespace, against an API server of this test bound to the host end.
"""
from __future__ import annotations

import contextlib
import dataclasses
import json
import pathlib
import random
import subprocess
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from minik8s.api import identities
from minik8s.util import procs
from tests.conftest import REPO, ApiServerProcess, http, start_apiserver

pytestmark = pytest.mark.integration

CLUSTER_CIDR = "10.196.0.0/16"
NODES = (1, 2, 3)


def _run(*argv: str, check: bool = True, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"`{' '.join(argv)}` failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc


def _free_octet() -> int:
    used = _run("ip", "-4", "route", "show").stdout + _run("ip", "-4", "addr", "show").stdout
    candidates = [r for r in range(2, 254) if f"10.197.{r}." not in used]
    return random.choice(candidates)


@dataclasses.dataclass
class Lab:
    tid: str
    octet: int
    tmp: pathlib.Path
    namespaces: list[str] = dataclasses.field(default_factory=list)
    host_links: list[str] = dataclasses.field(default_factory=list)
    processes: list[subprocess.Popen[bytes]] = dataclasses.field(default_factory=list)
    api: ApiServerProcess | None = None

    def ns(self, short: str) -> str:
        return f"mk8s-nettest-{self.tid}-{short}"

    def ip(self, host: int) -> str:
        return f"10.197.{self.octet}.{host}"

    def node_ip(self, i: int) -> str:
        return self.ip(10 + i)

    @staticmethod
    def pod_ip(i: int) -> str:
        return f"10.196.{i}.2"

    def in_ns(self, short: str, *argv: str, check: bool = True, timeout: float = 30) -> subprocess.CompletedProcess[str]:
        return _run("nsenter", f"--net=/run/netns/{self.ns(short)}", *argv, check=check, timeout=timeout)

    def add_ns(self, short: str) -> None:
        _run("ip", "netns", "add", self.ns(short))
        self.namespaces.append(self.ns(short))
        self.in_ns(short, "ip", "link", "set", "lo", "up")

    def spawn(self, short: str, argv: list[str], log: pathlib.Path) -> subprocess.Popen[bytes]:
        with open(log, "ab") as out:
            proc = subprocess.Popen(["nsenter", f"--net=/run/netns/{self.ns(short)}", *argv], stdout=out,
                                    stderr=subprocess.STDOUT, cwd=str(REPO))
        self.processes.append(proc)
        return proc

    def build(self) -> None:
        sw = "sw"
        self.add_ns(sw)
        self.in_ns(sw, "ip", "link", "add", "br0", "type", "bridge")
        self.in_ns(sw, "ip", "addr", "add", f"{self.ip(2)}/24", "dev", "br0")
        self.in_ns(sw, "ip", "link", "set", "br0", "up")
        host_link = f"mnt{self.tid}h"
        _run("ip", "link", "add", host_link, "type", "veth", "peer", "name", "uplink", "netns", self.ns(sw))
        self.host_links.append(host_link)
        _run("ip", "addr", "add", f"{self.ip(1)}/24", "dev", host_link)
        _run("ip", "link", "set", host_link, "up")
        self.in_ns(sw, "ip", "link", "set", "uplink", "master", "br0", "up")
        for i in NODES:
            node, pod = f"n{i}", f"p{i}"
            self.add_ns(node)
            self.add_ns(pod)
            self.in_ns(sw, "ip", "link", "add", node, "type", "veth", "peer", "name", "eth0", "netns", self.ns(node))
            self.in_ns(sw, "ip", "link", "set", node, "master", "br0", "up")
            self.in_ns(node, "ip", "addr", "add", f"{self.node_ip(i)}/24", "dev", "eth0")
            self.in_ns(node, "ip", "link", "set", "eth0", "up")
            # The node's pod bridge, as Docker's would be: gateway .1 of the pod CIDR.
            self.in_ns(node, "ip", "link", "add", "cni0", "type", "bridge")
            self.in_ns(node, "ip", "addr", "add", f"10.196.{i}.1/24", "dev", "cni0")
            self.in_ns(node, "ip", "link", "set", "cni0", "up")
            self.in_ns(node, "ip", "link", "add", "veth0", "type", "veth", "peer", "name", "eth0", "netns",
                       self.ns(pod))
            self.in_ns(node, "ip", "link", "set", "veth0", "master", "cni0", "up")
            self.in_ns(pod, "ip", "addr", "add", f"{self.pod_ip(i)}/24", "dev", "eth0")
            self.in_ns(pod, "ip", "link", "set", "eth0", "up")
            self.in_ns(pod, "ip", "route", "add", "default", "via", f"10.196.{i}.1")
            # Docker's FORWARD policy: only what the agent's rules accept crosses nodes.
            self.in_ns(node, "iptables", "-P", "FORWARD", "DROP")
            # Forwarding off: the agent must turn it on in its namespace.
            self.in_ns(node, "sh", "-c", "echo 0 > /proc/sys/net/ipv4/ip_forward")

    def teardown(self) -> None:
        for proc in reversed(self.processes):
            with contextlib.suppress(Exception):
                procs.stop_pid(proc.pid, timeout=10)
                proc.wait(timeout=5)
        if self.api is not None:
            with contextlib.suppress(Exception):
                self.api.stop()
        for name in reversed(self.namespaces):
            _run("ip", "netns", "del", name, check=False)
        for link in self.host_links:
            _run("ip", "link", "del", link, check=False)  # gone with its peer's namespace already


@pytest.fixture
def lab(tmp_path: pathlib.Path, etcd: procs.EtcdProcess) -> Iterator[Lab]:
    lab = Lab(uuid.uuid4().hex[:6], _free_octet(), tmp_path)
    try:
        lab.build()
        lab.api = start_apiserver(tmp_path, etcd, prefix=f"/nettest-{lab.tid}", bind=lab.ip(1))
        for i in NODES:
            http(lab.api, "POST", "/api/v1/nodes", {
                "apiVersion": "v1", "kind": "Node", "metadata": {"name": f"n{i}"},
                "spec": {"podCIDR": f"10.196.{i}.0/24", "podCIDRs": [f"10.196.{i}.0/24"]}})
        yield lab
    finally:
        lab.teardown()
    assert not [n for n in _run("ip", "netns", "list").stdout.split() if n.startswith(f"mk8s-nettest-{lab.tid}")]


def start_agent(lab: Lab, i: int, backend: str) -> subprocess.Popen[bytes]:
    assert lab.api is not None
    argv = [sys.executable, "-m", "minik8s", "--log-level", "debug", "network-agent", "--backend", backend,
            "--node-name", f"n{i}", "--node-ip", lab.node_ip(i), "--iface", "eth0",
            "--kubeconfig", lab.api.kubeconfig_for(identities.NETWORK_AGENT), "--cluster-cidr", CLUSTER_CIDR,
            "--resync-period", "2"]
    return lab.spawn(f"n{i}", argv, lab.tmp / f"agent-n{i}.log")


def routes_of(lab: Lab, i: int) -> dict[str, dict[str, Any]]:
    out = lab.in_ns(f"n{i}", "ip", "-j", "route", "show").stdout
    return {r["dst"]: r for r in json.loads(out or "[]")}


def reaches(lab: Lab, src: str, dst_ip: str) -> bool:
    return lab.in_ns(src, "busybox", "ping", "-c", "1", "-W", "1", dst_ip, check=False).returncode == 0


def agents_log(lab: Lab) -> str:
    return "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in sorted(lab.tmp.glob("agent-*.log")))


def wait(lab: Lab, predicate: Any, what: str, timeout: float = 30) -> Any:
    try:
        return procs.wait_for(predicate, timeout, interval=0.2, what=what)
    except TimeoutError as e:
        raise AssertionError(f"{e}\n{agents_log(lab)}") from None


def http_server(lab: Lab, short: str, bind: str, name: str) -> pathlib.Path:
    """A Python HTTP server in a namespace serving a 200 kB file; returns its log (client addresses)."""
    root = lab.tmp / f"www-{name}"
    root.mkdir()
    (root / "big").write_bytes(bytes(range(256)) * 800)
    log = lab.tmp / f"http-{name}.log"
    lab.spawn(short, [sys.executable, "-m", "http.server", "8080", "--bind", bind, "--directory", str(root)], log)
    wait(lab, lambda: lab.in_ns(short, "curl", "-s", "-o", "/dev/null", f"http://{bind}:8080/",
                                check=False).returncode == 0, f"http server on {bind}")
    return log


def fetch(lab: Lab, src: str, url: str) -> int:
    """Bytes of `url` fetched from namespace `src` (0 on failure)."""
    out = lab.in_ns(src, "curl", "-s", "--max-time", "5", "-o", "/dev/null", "-w", "%{size_download}", url,
                    check=False)
    return int(out.stdout or 0) if out.returncode == 0 else 0


@pytest.mark.parametrize("backend", ["vxlan", "host-gw"])
def test_pod_to_pod_across_nodes(lab: Lab, backend: str) -> None:
    assert lab.api is not None
    for i in NODES:
        start_agent(lab, i, backend)

    def published() -> bool:
        _, nodes = http(lab.api, "GET", "/api/v1/nodes")  # type: ignore[arg-type]
        notes = [(n["metadata"].get("annotations") or {}) for n in nodes["items"]]
        return all(a.get("flannel.alpha.coreos.com/backend-type") == backend for a in notes)

    wait(lab, published, "every node to publish its backend data")
    for i in NODES:
        wait(lab, lambda i=i: {f"10.196.{j}.0/24" for j in NODES if j != i} <= set(routes_of(lab, i)),
             f"node n{i} to route to the other pod CIDRs")
    # Docker inserts `-s <bridge subnet> ! -o <bridge> -j MASQUERADE` at the top of POSTROUTING when
    # the kubelet creates its network, possibly after the agent started: the agent's next resync
    # must put its jump back above it, or pod-to-pod traffic would be masqueraded.
    for i in NODES:
        lab.in_ns(f"n{i}", "iptables", "-t", "nat", "-I", "POSTROUTING", "1", "-s", f"10.196.{i}.0/24",
                  "!", "-o", "cni0", "-j", "MASQUERADE")
    for i in NODES:
        wait(lab, lambda i=i: "MINIK8S-POSTRTG" in lab.in_ns(f"n{i}", "iptables", "-t", "nat", "-S",
                                                              "POSTROUTING").stdout.splitlines()[1],
             f"n{i}'s resync to move its masquerade jump back to the top")
    r = routes_of(lab, 1)["10.196.2.0/24"]
    if backend == "vxlan":
        assert (r["gateway"], r["dev"]) == ("10.196.2.0", "flannel.1")
        link = json.loads(lab.in_ns("n1", "ip", "-j", "-d", "link", "show", "flannel.1").stdout)[0]
        assert link["linkinfo"]["info_data"]["local"] == lab.node_ip(1)
        assert link["mtu"] == 1450
    else:
        assert (r["gateway"], r["dev"]) == (lab.node_ip(2), "eth0")
        assert lab.in_ns("n1", "ip", "link", "show", "flannel.1", check=False).returncode != 0

    # Pod to pod, across nodes, both ways, ICMP and TCP (200 kB: more than one MTU).
    for src, dst in [(1, 2), (2, 3), (3, 1)]:
        wait(lab, lambda: reaches(lab, f"p{src}", lab.pod_ip(dst)), f"p{src} to ping p{dst}")
    server_log = http_server(lab, "p2", lab.pod_ip(2), "p2")
    assert fetch(lab, "p1", f"http://{lab.pod_ip(2)}:8080/big") == 204800
    # Pods see each other's real address: no masquerading between pod CIDRs.
    assert lab.pod_ip(1) in server_log.read_text()

    # A node reaches pods on other nodes.
    assert reaches(lab, "n1", lab.pod_ip(3))
    assert fetch(lab, "n3", f"http://{lab.pod_ip(2)}:8080/big") == 204800

    # Leaving the cluster CIDR, pod traffic is masqueraded to the node address.
    outside_log = http_server(lab, "sw", lab.ip(2), "outside")
    assert fetch(lab, "p1", f"http://{lab.ip(2)}:8080/big") == 204800
    clients = outside_log.read_text()
    assert lab.node_ip(1) in clients and lab.pod_ip(1) not in clients

    # A deleted node's paths are withdrawn everywhere.
    http(lab.api, "DELETE", "/api/v1/nodes/n3")
    wait(lab, lambda: "10.196.3.0/24" not in routes_of(lab, 1), "n1 to drop its route to n3's pod CIDR")
    if backend == "vxlan":
        neigh = lab.in_ns("n1", "ip", "-j", "neigh", "show", "dev", "flannel.1").stdout
        fdb = lab.in_ns("n1", "bridge", "-j", "fdb", "show", "dev", "flannel.1").stdout
        assert "10.196.3.0" not in neigh and lab.node_ip(3) not in fdb
        assert "10.196.2.0" in neigh and lab.node_ip(2) in fdb
    assert not reaches(lab, "p1", lab.pod_ip(3))
    assert reaches(lab, "p1", lab.pod_ip(2))

    # A route removed by hand comes back with the periodic resync.
    lab.in_ns("n1", "ip", "route", "del", "10.196.2.0/24")
    wait(lab, lambda: "10.196.2.0/24" in routes_of(lab, 1), "the resync to restore a deleted route")

    # --cleanup (agent stopped first) leaves nothing of ours behind.
    agent = lab.processes[0]
    procs.stop_pid(agent.pid)
    agent.wait(timeout=5)
    lab.in_ns("n1", sys.executable, "-m", "minik8s", "network-agent", "--cleanup", "--backend", backend,
              "--cluster-cidr", CLUSTER_CIDR, "--node-name", "n1")
    assert lab.in_ns("n1", "ip", "link", "show", "flannel.1", check=False).returncode != 0
    assert [d for d, r in routes_of(lab, 1).items() if d.startswith("10.196.") and r.get("gateway")] == []
    rules = lab.in_ns("n1", "iptables", "-S").stdout + lab.in_ns("n1", "iptables", "-t", "nat", "-S").stdout
    assert "minik8s-network" not in rules and "MINIK8S-POSTRTG" not in rules and "DOCKER-USER" not in rules
    # The node's own pod bridge is untouched.
    assert "10.196.1.0/24" in routes_of(lab, 1)
