#!/usr/bin/env python3
"""Node failure benchmark: power a node off, time until its pods run Ready elsewhere.

Brings up a local cluster (`minik8s cluster up`, 3 nodes, its own name, subnet and
port) and reports:

 - cluster up: wall time of `minik8s cluster up --nodes 3` until every node is
   Ready (images already built on the host), over --up-rounds fresh clusters;
 - node failure: a Deployment of 6 replicas (2 per node); node3 is powered off
   (`cluster stop-node`: every process of the node SIGKILLed at once) and the clock
   runs from the kill until as many replacement pods are Ready on the other nodes
   as node3 held. Also when the node was seen NotReady/Unknown and when the first
   replacement was created. The node comes back and the cluster settles between rounds.

Settings (an operator's config, passed with --set): node-monitor-grace-period 10 s,
node-monitor-period 1 s, default-toleration-seconds 0 (pods do not tolerate an
unreachable node), kubelet lease/status interval 2 s. Goal: <= 20 s
(Docker Swarm marks a node down after ~15 s).

Observed by polling the API server every 0.1 s (the resolution of the numbers).

Usage: .venv/bin/python bench/node_failure.py [--rounds 5] [--up-rounds 3]
"""
from __future__ import annotations

import argparse
import functools
import json
import os
import pathlib
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from typing import Any

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

import benchutil

from minik8s.client import kubeconfig
from minik8s.cluster import lifecycle
from minik8s.util import procs

MINIK8S = [sys.executable, "-m", "minik8s"]
SETTINGS = [
    "controller-manager.node-monitor-grace-period=10",
    "controller-manager.node-monitor-period=1",
    "apiserver.default-toleration-seconds=0",
    "kubelet.lease-interval=2",
    "kubelet.node-status-update-interval=2",
]
VICTIM = "node3"
REPLICAS = 6


# The kubeconfig `cluster up` wrote (the admin's certificate): set once the cluster is up.
KUBECONFIG: list[str] = []


@functools.lru_cache(maxsize=None)
def _opener(path: str) -> urllib.request.OpenerDirector:
    return kubeconfig.urllib_opener(path)


def api(server: str, method: str, path: str, body: Any = None, content_type: str = "application/json") -> Any:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(server + path, data=data, method=method, headers={"Content-Type": content_type})
    with _opener(KUBECONFIG[0]).open(req, timeout=10) as resp:
        return json.loads(resp.read())


def ready(obj: dict[str, Any]) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (obj.get("status") or {}).get("conditions") or [])


def pods(server: str, ns: str, app: str) -> list[dict[str, Any]]:
    return api(server, "GET", f"/api/v1/namespaces/{ns}/pods?labelSelector=app%3D{app}")["items"]


def create_deployment(server: str, ns: str, app: str) -> None:
    api(server, "POST", f"/apis/apps/v1/namespaces/{ns}/deployments", {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": app},
        "spec": {"replicas": REPLICAS, "selector": {"matchLabels": {"app": app}},
                 "template": {"metadata": {"labels": {"app": app}},
                              "spec": {"terminationGracePeriodSeconds": 2,
                                       "containers": [{"name": "web", "image": "minik8s/web:1",
                                                       "imagePullPolicy": "IfNotPresent"}]}}}})


def up(name: str, state: str, kubeconfig: str) -> float:
    sets = [a for s in SETTINGS for a in ("--set", s)]
    t0 = time.monotonic()
    subprocess.run([*MINIK8S, "cluster", "up", "--name", name, "--state-dir", state, "--nodes", "3",
                    "--subnet", benchutil.free_subnet(200, 249), "--port", str(procs.free_port()), "--kubeconfig", kubeconfig,
                    *sets], check=True, capture_output=True, text=True)
    return time.monotonic() - t0


def down(name: str, state: str) -> None:
    subprocess.run([*MINIK8S, "cluster", "down", "--name", name, "--state-dir", state], check=False,
                   capture_output=True)


def settle(server: str, ns: str, app: str, timeout: float = 120) -> list[dict[str, Any]]:
    """Until exactly REPLICAS pods exist, all Ready and none terminating, every node Ready."""
    def check() -> list[dict[str, Any]] | None:
        items = pods(server, ns, app)
        nodes = api(server, "GET", "/api/v1/nodes")["items"]
        if len(items) == REPLICAS and all(ready(p) and not p["metadata"].get("deletionTimestamp") for p in items) \
                and all(ready(n) for n in nodes):
            return items
        return None

    return procs.wait_for(check, timeout, interval=0.2, what="the cluster to settle")


def failover_round(state: str, server: str, ns: str, app: str) -> dict[str, float]:
    """A fresh Deployment (so it spreads over all three nodes), node3 off, measured, node3 back."""
    create_deployment(server, ns, app)
    before = settle(server, ns, app)
    lost = {p["metadata"]["uid"] for p in before if p["spec"]["nodeName"] == VICTIM}
    if not lost:
        raise SystemExit(f"no pod on {VICTIM}; spreading failed")
    t0 = time.monotonic()
    lifecycle.stop_node(state, VICTIM)
    marks: dict[str, float] = {}
    deadline = t0 + 120
    while time.monotonic() < deadline:
        now = time.monotonic() - t0
        if "not_ready" not in marks:
            node = api(server, "GET", f"/api/v1/nodes/{VICTIM}")
            if not ready(node):
                marks["not_ready"] = now
        items = pods(server, ns, app)
        new = [p for p in items if p["metadata"]["uid"] not in lost and p["metadata"]["uid"] not in
               {q["metadata"]["uid"] for q in before}]
        if new and "first_created" not in marks:
            marks["first_created"] = now
        if len([p for p in new if ready(p) and p["spec"].get("nodeName") != VICTIM]) >= len(lost):
            marks["replaced"] = now
            break
        time.sleep(0.1)
    else:
        raise SystemExit(f"replacements not Ready within 120 s: {marks}")
    lifecycle.start_node(state, VICTIM, ready_timeout=120)
    settle(server, ns, app)
    api(server, "DELETE", f"/apis/apps/v1/namespaces/{ns}/deployments/{app}")
    procs.wait_for(lambda: not pods(server, ns, app), 60, interval=0.2, what=f"the pods of {app} to go")
    return marks


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="power-off rounds")
    parser.add_argument("--up-rounds", type=int, default=3, help="fresh clusters brought up to time `up`")
    args = benchutil.parse_args(parser, {"rounds": 1, "up_rounds": 1})
    if os.geteuid() != 0:
        raise SystemExit("run as root: the local cluster creates namespaces, links and cgroups")

    tmp = pathlib.Path(tempfile.mkdtemp(prefix="minik8s-bench-nf-"))
    name = "bnf" + uuid.uuid4().hex[:5]
    state, kubeconfig = str(tmp / "cluster"), str(tmp / "kubeconfig")
    up_times = []
    try:
        for i in range(args.up_rounds):
            if i:
                down(name, state)
            up_times.append(up(name, state, kubeconfig))
            KUBECONFIG[:] = [kubeconfig]
            _opener.cache_clear()  # every `cluster up` makes a new CA
            print(f"cluster up (3 nodes): {up_times[-1]:.1f}s", flush=True)
        server = json.loads(subprocess.run([*MINIK8S, "cluster", "status", "--name", name, "--state-dir", state,
                                            "-o", "json"], check=True, capture_output=True, text=True).stdout)["server"]
        ns = "bench"
        api(server, "POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
        results = []
        for i in range(args.rounds):
            marks = failover_round(state, server, ns, f"bench{i}")
            results.append(marks)
            print(f"round {i + 1}: NotReady at {marks['not_ready']:.1f}s, first replacement created at "
                  f"{marks['first_created']:.1f}s, all replacements Ready at {marks['replaced']:.1f}s", flush=True)
    finally:
        down(name, state)
        shutil.rmtree(tmp, ignore_errors=True)

    def med(key: str) -> float:
        return statistics.median(r[key] for r in results)

    print()
    print(f"host: {os.cpu_count()} CPUs; settings: {', '.join(SETTINGS)}")
    print(f"cluster up, 3 nodes: median {statistics.median(up_times):.1f}s "
          f"(min {min(up_times):.1f}s, max {max(up_times):.1f}s, {len(up_times)} runs; goal <= 30 s)")
    print(f"node power-off -> replacements Ready: median {med('replaced'):.1f}s "
          f"(min {min(r['replaced'] for r in results):.1f}s, max {max(r['replaced'] for r in results):.1f}s, "
          f"{len(results)} rounds; goal <= 20 s)")
    print(f"  node NotReady after median {med('not_ready'):.1f}s; first replacement created after "
          f"median {med('first_created'):.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
