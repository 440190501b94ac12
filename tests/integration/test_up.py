"""`minik8s up` / `down`: a single-host cluster from the CLI, as `make up` runs it."""
from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import psutil

from minik8s.util import procs
from tests.conftest import KUBECTL


def run(*args: str, env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(list(args), capture_output=True, text=True, env=env, timeout=180)
    if check and proc.returncode != 0:
        raise AssertionError(f"{args} failed: {proc.stdout}\n{proc.stderr}")
    return proc


def test_up_down_up_keeps_state(tmp_path: pathlib.Path) -> None:
    state = tmp_path / "state"
    home = tmp_path / "home"
    home.mkdir()
    port, etcd_client, etcd_peer = procs.free_port(), procs.free_port(), procs.free_port()
    env = dict(os.environ, HOME=str(home), KUBECACHEDIR=str(tmp_path / "cache"))
    env.pop("KUBECONFIG", None)
    minik8s = [sys.executable, "-m", "minik8s"]
    up = [*minik8s, "up", "--state-dir", str(state), "--port", str(port), "--etcd-client-port", str(etcd_client),
          "--etcd-peer-port", str(etcd_peer)]
    try:
        out = run(*up, env=env).stdout
        assert "minik8s is up" in out and "logs:" in out
        kubeconfig = home / ".kube" / "config"
        assert kubeconfig.exists(), "with no kubeconfig, up writes ~/.kube/config"
        ns = run(KUBECTL, "get", "ns", env=env).stdout
        for name in ("default", "kube-system", "kube-public", "kube-node-lease"):
            assert name in ns
        assert "service/kubernetes" in run(KUBECTL, "get", "all", env=env).stdout
        run(KUBECTL, "create", "namespace", "survivor", env=env)
        pids = [procs.read_pidfile(str(state / "run" / f"{name}.pid")) for name in ("etcd", "apiserver")]
        assert all(pids)
        run(*minik8s, "down", "--state-dir", str(state), env=env)
        for pid in pids:
            assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
        run(*up, env=env)
        assert "survivor" in run(KUBECTL, "get", "ns", env=env).stdout, "state survives down/up"
    finally:
        run(*minik8s, "down", "--state-dir", str(state), env=env, check=False)
