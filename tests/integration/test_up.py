"""`minik8s up` / `down`: a single-host cluster from the CLI, as `make up` runs it."""
from __future__ import annotations

import datetime
import json
import os
import pathlib
import subprocess
import sys

import psutil
import pytest

from minik8s.client import kubeconfig
from minik8s.cluster import pki as cluster_pki
from minik8s.util import pki
from minik8s.util import procs
from tests.conftest import KUBECTL

pytestmark = pytest.mark.docker


def run(*args: str, env: dict[str, str], check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(list(args), capture_output=True, text=True, env=env, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"{args} failed: {proc.stdout}\n{proc.stderr}")
    return proc


def kube_chains() -> int:
    out = subprocess.run(["iptables-save"], capture_output=True, text=True, check=False).stdout
    return sum(1 for line in out.splitlines() if line.startswith(":KUBE-"))


BRIDGE = "mk8supt0"  # the pods' bridge (the default cni0 may be a user's)


def link_exists(name: str) -> bool:
    return subprocess.run(["ip", "link", "show", name], capture_output=True, check=False).returncode == 0


def test_up_runs_pods_and_down_up_keeps_state(tmp_path: pathlib.Path) -> None:
    state = tmp_path / "state"
    home = tmp_path / "home"
    home.mkdir()
    node = "up-test-node"
    env = dict(os.environ, HOME=str(home), KUBECACHEDIR=str(tmp_path / "cache"))
    env.pop("KUBECONFIG", None)
    minik8s = [sys.executable, "-m", "minik8s"]
    chains_before = kube_chains()
    up = [*minik8s, "up", "--state-dir", str(state), "--port", str(procs.free_port()),
          "--etcd-client-port", str(procs.free_port()), "--etcd-peer-port", str(procs.free_port()),
          "--node-ip", "127.0.0.1", "--node-name", node,
          "--set", f"kubelet.port={procs.free_port()}", "--set", f"dns.port={procs.free_port()}",
          "--set", "controller-manager.cluster-cidr=10.243.0.0/16",
          "--set", "network-agent.cluster-cidr=10.243.0.0/16", "--set", "proxy.cluster-cidr=10.243.0.0/16",
          "--set", f"network-agent.cni-bridge={BRIDGE}"]
    try:
        out = run(*up, env=env).stdout
        assert "minik8s is up" in out and f"node {node} is Ready" in out
        assert "made the cluster CA" in out
        assert (home / ".kube" / "config").exists(), "with no kubeconfig, up writes ~/.kube/config"
        assert os.stat(home / ".kube" / "config").st_mode & 0o777 == 0o600
        assert "client-certificate-data" in (home / ".kube" / "config").read_text()
        for conf in ("admin.conf", "controller-manager.conf", "scheduler.conf", "dns.conf", "kubelet.conf",
                     "proxy.conf", "network-agent.conf", "pki/ca.key", "pki/apiserver.key", "pki/sa.key"):
            assert os.stat(state / "etc" / conf).st_mode & 0o777 == 0o600, conf
        etcd_pid = procs.read_pidfile(str(state / "run" / "etcd.pid"))
        assert etcd_pid is not None
        listening = [c.laddr.ip for c in psutil.Process(etcd_pid).net_connections(kind="inet")
                     if c.status == psutil.CONN_LISTEN]
        assert listening and set(listening) == {"127.0.0.1"}, "etcd listens on loopback only"
        ns = run(KUBECTL, "get", "ns", env=env).stdout
        for name in ("default", "kube-system", "kube-public", "kube-node-lease"):
            assert name in ns
        assert "service/kubernetes" in run(KUBECTL, "get", "all", env=env).stdout
        nodes = run(KUBECTL, "get", "nodes", env=env).stdout.splitlines()
        assert nodes[1].split()[:2] == [node, "Ready"]
        # The whole chain: Deployment → ReplicaSet → scheduled pod → containers on Docker.
        run(KUBECTL, "create", "deployment", "web", "--image=minik8s/web:1", env=env)
        run(KUBECTL, "rollout", "status", "deployment/web", "--timeout=120s", env=env, timeout=150)
        pod = json.loads(run(KUBECTL, "get", "pods", "-l", "app=web", "-o", "json", env=env).stdout)["items"][0]
        assert pod["spec"]["nodeName"] == node and pod["status"]["podIP"].startswith("10.243.")
        pids = [procs.read_pidfile(str(state / "run" / f"{name}.pid"))
                for name in ("etcd", "apiserver", "controller-manager", "scheduler", "kubelet", "network-agent",
                             "proxy", "dns")]
        # Pods are networked by CNI from the configuration the network agent wrote.
        assert (state / "cni" / "net.d" / "10-minik8s.conflist").exists() and link_exists(BRIDGE)
        assert all(pids), pids
        run(*minik8s, "down", "--state-dir", str(state), env=env)
        for pid in pids:
            assert pid is not None
            assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
        assert kube_chains() == chains_before, "down removes the proxy's iptables chains"
        # Renewal at start: a certificate 15 days from expiry is re-issued by the next `up`.
        aged = state / "etc" / "scheduler.conf"
        ca = cluster_pki.load_ca(state / "etc")
        aged.unlink()
        cluster_pki.ensure_kubeconfig(aged, ca, kubeconfig.load(state / "etc" / "admin.conf").server,
                                      cluster_pki.MASTER_KUBECONFIGS["scheduler.conf"], [],
                                      now=pki.utcnow() - datetime.timedelta(days=350))
        old_serial = pki.load_cert(kubeconfig.load(aged).cert or b"").serial_number
        # State survives: the Deployment is still there and its pod runs again.
        again = run(*up, env=env).stdout
        assert f"renewed {aged}" in again and "expires in 14 days" in again, again
        assert pki.load_cert(kubeconfig.load(aged).cert or b"").serial_number != old_serial
        assert "made the cluster CA" not in again, "the CA is kept across up/down"
        run(KUBECTL, "rollout", "status", "deployment/web", "--timeout=120s", env=env, timeout=150)
    finally:
        run(*minik8s, "down", "--state-dir", str(state), env=env, check=False)
    out = subprocess.run(["docker", "ps", "-aq", "--filter", f"label=io.minik8s.node={node}"],
                         capture_output=True, text=True, check=False).stdout
    assert out.strip() == "", "down removes the pods' containers"
    assert not link_exists(BRIDGE), "down removes the pods' bridge"
    left = [m.mountpoint for m in psutil.disk_partitions(all=True) if m.mountpoint.startswith(str(state))]
    assert left == [], f"down unmounts the pods' volumes (tokens, Secrets): {left}"
    assert not (state / "cni" / "net.d" / "10-minik8s.conflist").exists(), "and the CNI configuration"
    rules = subprocess.run(["iptables-save"], capture_output=True, text=True, check=False).stdout
    assert "minik8s-network" not in rules, "and the network agent's rules"
