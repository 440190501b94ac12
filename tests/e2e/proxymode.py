"""Run every node's proxy in a given mode for a while (local cluster only).

Each node's proxy is stopped and `minik8s proxy --mode MODE` started in its place
with the node's own configuration; afterwards the cluster's own proxies (their
configured mode) are started again, and each mode removes the others' rules when
it starts.
"""
from __future__ import annotations

import contextlib
import os
import pathlib
import signal
import subprocess
import sys
from typing import Callable, Iterator

from tests.e2e.conftest import Cluster, LocalOps, wait_until

METRICS_PORT = 10249


def _proxy_pid(ops: LocalOps, node: str) -> int | None:
    return next(n for n in ops.status()["nodes"] if n["name"] == node)["pids"]["proxy"]


def netns(cluster: Cluster, node: str) -> str:
    return f"/run/netns/mk8s-{cluster.name}-{node}"


@contextlib.contextmanager
def proxies_in_mode(cluster: Cluster, mode: str, ready: Callable[[str], bool]) -> Iterator[Cluster]:
    """`ready(node)` says when the node's new proxy has written its rules."""
    ops = cluster.ops
    assert isinstance(ops, LocalOps)
    started: list[subprocess.Popen[bytes]] = []
    try:
        for node in sorted(cluster.nodes):
            pid = _proxy_pid(ops, node)
            if pid:
                os.kill(pid, signal.SIGTERM)
                wait_until(lambda node=node: not _proxy_pid(ops, node), 15, f"{node}'s proxy to stop")
            etc = pathlib.Path(ops.state_dir) / "nodes" / node / "etc"
            with open(etc.parent / f"{mode}-proxy.log", "ab") as log:
                started.append(subprocess.Popen(
                    ["nsenter", f"--net={netns(cluster, node)}", sys.executable, "-m", "minik8s",
                     "--config", str(etc / "proxy.yaml"), "proxy", "--mode", mode,
                     "--metrics-bind-address", f"0.0.0.0:{METRICS_PORT}"],
                    stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL))
        for node in cluster.nodes:
            wait_until(lambda node=node: ready(node), 30, f"the {mode} proxy on {node} to write its rules")
        yield cluster
    finally:
        for proc in started:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for node in cluster.nodes:
            ops.start_node(node)
