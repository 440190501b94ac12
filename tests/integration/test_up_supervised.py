"""`minik8s up` supervises its processes: each one killed with SIGKILL comes back and the cluster keeps working."""
from __future__ import annotations

import json
import os
import pathlib
import signal
import subprocess
import sys
from typing import Any

import pytest

from minik8s.util import procs
from tests.conftest import KUBECTL

pytestmark = pytest.mark.docker

COMPONENTS = ("etcd", "apiserver", "controller-manager", "scheduler", "kubelet", "proxy", "dns", "network-agent")
MINIK8S = [sys.executable, "-m", "minik8s"]


def run(*args: str, env: dict[str, str], check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(list(args), capture_output=True, text=True, env=env, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"{args} failed: {proc.stdout}\n{proc.stderr}")
    return proc


def app_containers(node: str) -> dict[str, tuple[str, int]]:
    """id → (state started-at, restart count label) of the node's pod containers."""
    import docker

    client = docker.from_env()
    try:
        out = {}
        for c in client.containers.list(all=True, filters={"label": f"io.minik8s.node={node}"}):
            out[c.id] = (str(c.attrs["State"]["StartedAt"]), int(c.attrs["RestartCount"]))
        return out
    finally:
        client.close()


def test_every_component_killed_comes_back(tmp_path: pathlib.Path) -> None:
    state = tmp_path / "state"
    home = tmp_path / "home"
    home.mkdir()
    node = "sup-test-node"
    env = dict(os.environ, HOME=str(home), KUBECACHEDIR=str(tmp_path / "cache"))
    env.pop("KUBECONFIG", None)
    up = [*MINIK8S, "up", "--state-dir", str(state), "--port", str(procs.free_port()),
          "--etcd-client-port", str(procs.free_port()), "--etcd-peer-port", str(procs.free_port()),
          "--node-ip", "127.0.0.1", "--node-name", node,
          "--set", f"kubelet.port={procs.free_port()}", "--set", f"dns.port={procs.free_port()}",
          "--set", "controller-manager.cluster-cidr=10.242.0.0/16"]

    def status() -> dict[str, Any]:
        doc = json.loads(run(*MINIK8S, "status", "--state-dir", str(state), "-o", "json", env=env).stdout)
        return {p["name"]: p for p in doc["programs"]}

    def kubectl(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return run(KUBECTL, *args, env=env, check=check, timeout=120)

    def node_ready() -> bool:
        proc = kubectl("get", "node", node, "-o", "json", check=False)
        if proc.returncode != 0:
            return False
        conds = json.loads(proc.stdout)["status"].get("conditions") or []
        return any(c["type"] == "Ready" and c["status"] == "True" for c in conds)

    try:
        run(*up, env=env)
        sup = procs.read_pidfile(str(state / "run" / "supervisor.pid"))
        assert sup, "up starts the supervisor"
        first = status()
        assert set(first) == set(COMPONENTS)
        assert all(p["state"] == "running" and p["restarts"] == 0 for p in first.values()), first
        kubectl("create", "deployment", "steady", "--image=minik8s/web:1", "--replicas=2")
        kubectl("rollout", "status", "deployment/steady", "--timeout=120s")
        containers = app_containers(node)
        assert len(containers) == 4, containers  # two pods: a sandbox and an app container each

        for name in COMPONENTS:
            pid = status()[name]["pid"]
            os.kill(pid, signal.SIGKILL)

            def back() -> dict[str, Any] | None:
                entry = status()[name]
                if entry["state"] == "running" and entry["pid"] not in (None, pid) and procs.pid_alive(entry["pid"]):
                    return entry
                return None

            entry = procs.wait_for(back, 60, interval=0.2, what=f"{name} to be restarted")
            assert entry["restarts"] == 1 and entry["lastExit"] == "killed by signal 9 (SIGKILL)", entry
            procs.wait_for(node_ready, 90, interval=0.5, what=f"the node Ready again after killing {name}")

        # Status shows every component with its restart and the kill as its last exit.
        table = run(*MINIK8S, "status", "--state-dir", str(state), env=env).stdout
        for name in COMPONENTS:
            line = next(line for line in table.splitlines() if line.startswith(name + " "))
            assert "running" in line and "killed by signal 9" in line, table
        # The cluster still works: a scale-up is carried out end to end ...
        kubectl("scale", "deployment/steady", "--replicas=3")
        kubectl("rollout", "status", "deployment/steady", "--timeout=120s")
        # ... and no container of the first two pods was restarted or replaced.
        after = app_containers(node)
        assert {cid: after.get(cid) for cid in containers} == containers
        # The supervisor survives `up` and goes with `down`.
        assert procs.read_pidfile(str(state / "run" / "supervisor.pid")) == sup
        pids = [p["pid"] for p in status().values()]
        run(*MINIK8S, "down", "--state-dir", str(state), env=env)
        assert not procs.pid_alive(sup)
        assert not any(procs.pid_alive(p) for p in pids)
    finally:
        run(*MINIK8S, "down", "--state-dir", str(state), env=env, check=False)
