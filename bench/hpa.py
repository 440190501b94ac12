#!/usr/bin/env python3
"""Autoscaling benchmark: how fast an HPA follows load, and what the metrics pipeline costs.

Brings up a local cluster (`minik8s cluster up`, 3 nodes, its own name, subnet and
port) with the Kubernetes defaults (HPA sync 15 s, kubelet readings 10 s, scrapes 15 s,
the 300 s scale-down stabilization window) and runs, per round:

 - a Deployment of minik8s/hpa-example (requests cpu 100m, limit 300m) behind a NodePort,
   autoscaled on CPU at 50 % between 1 and --max replicas;
 - load from this host (--workers threads of /cgi-bin/burn on new connections, to every
   node's NodePort): time from the load's start to the HPA's first decision, to the scale
   written, and to all --max replicas Ready;
 - load stopped: time until the Deployment is back at 1 replica (the window dominates).

Then the pipeline's own cost, measured on this cluster's real containers and on
synthetic nodes: CPU of one kubelet reading round (every container's cgroup files plus
rendering /metrics/resource), CPU of the API server parsing and storing one node's
scrape, and the API server's memory per node for its stores (tracemalloc), at 10 and
110 pods per node — to hold against metrics-server's ~1 m CPU and ~2 MB per node.
Also the processes' own CPU and RSS over the scenario (psutil).

--smoke: 1 round, max 2, sync/readings/scrapes every 5 s and a 10 s window, for
`make bench-smoke`.

Usage: .venv/bin/python bench/hpa.py [--rounds 1] [--max 4] [--workers 8] [--smoke]
"""
from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import pathlib
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
import urllib.request
import uuid
from typing import Any

import psutil

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

import benchutil

from minik8s.apiserver.metrics import custom_store
from minik8s.apiserver.metrics import resource_store
from minik8s.client import kubeconfig as kubeconfig_mod
from minik8s.kubelet import cgroupstats
from minik8s.kubelet import dockerruntime
from minik8s.kubelet import stats
from minik8s.util import procs

MINIK8S = [sys.executable, "-m", "minik8s"]
SMOKE_SETTINGS = ["controller-manager.horizontal-pod-autoscaler-sync-period=5", "kubelet.stats-interval=5",
                  "apiserver.metric-resolution=5"]
NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


# The admin's credentials from the kubeconfig `cluster up` wrote (HTTPS, client certificate):
# set once the cluster is up.
OPENER: list[urllib.request.OpenerDirector] = []


def api(server: str, method: str, path: str, body: Any = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(server + path, data=data, method=method, headers={"Content-Type": "application/json"})
    with OPENER[0].open(req, timeout=10) as resp:
        return json.loads(resp.read())


def ready(obj: dict[str, Any]) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (obj.get("status") or {}).get("conditions") or [])


class Load:
    def __init__(self, urls: list[str], workers: int) -> None:
        self.urls, self.workers = urls, workers
        self.stopped = threading.Event()
        self.threads = [threading.Thread(target=self.work, args=(i,), daemon=True) for i in range(workers)]

    def work(self, i: int) -> None:
        deadline = time.monotonic() + 900  # bounded whatever happens
        while not self.stopped.is_set() and time.monotonic() < deadline:
            try:
                with NO_PROXY.open(self.urls[i % len(self.urls)], timeout=10) as resp:
                    resp.read()
            except OSError:
                time.sleep(0.1)
            i += 1

    def start(self) -> None:
        for t in self.threads:
            t.start()

    def stop(self) -> None:
        self.stopped.set()
        for t in self.threads:
            t.join(timeout=15)


def scenario(server: str, ns: str, nodes: dict[str, str], app: str, max_replicas: int, workers: int,
             smoke: bool, state_dir: str) -> dict[str, float]:
    api(server, "POST", f"/apis/apps/v1/namespaces/{ns}/deployments", {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": app},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": app}}, "template": {
            "metadata": {"labels": {"app": app}},
            "spec": {"terminationGracePeriodSeconds": 2, "containers": [{
                "name": "web", "image": "minik8s/hpa-example:1", "imagePullPolicy": "IfNotPresent",
                "resources": {"requests": {"cpu": "100m"}, "limits": {"cpu": "300m"}},
                "readinessProbe": {"httpGet": {"path": "/healthz", "port": 80}, "periodSeconds": 1}}]}}}})
    svc = api(server, "POST", f"/api/v1/namespaces/{ns}/services", {
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": app},
        "spec": {"type": "NodePort", "selector": {"app": app}, "ports": [{"port": 80}]}})
    spec: dict[str, Any] = {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": app},
                            "minReplicas": 1, "maxReplicas": max_replicas, "metrics": [{
                                "type": "Resource", "resource": {"name": "cpu", "target": {
                                    "type": "Utilization", "averageUtilization": 50}}}]}
    if smoke:
        spec["behavior"] = {"scaleDown": {"stabilizationWindowSeconds": 10}}
    api(server, "POST", f"/apis/autoscaling/v2/namespaces/{ns}/horizontalpodautoscalers", {
        "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": app}, "spec": spec})

    def state() -> tuple[int, int, int]:
        hpa = api(server, "GET", f"/apis/autoscaling/v2/namespaces/{ns}/horizontalpodautoscalers/{app}")
        dep = api(server, "GET", f"/apis/apps/v1/namespaces/{ns}/deployments/{app}")
        pods = api(server, "GET", f"/api/v1/namespaces/{ns}/pods?labelSelector=app%3D{app}")["items"]
        live = [p for p in pods if not p["metadata"].get("deletionTimestamp")]
        return (int((hpa.get("status") or {}).get("desiredReplicas") or 0), int(dep["spec"].get("replicas") or 1),
                sum(1 for p in live if ready(p)))

    def metrics_flowing() -> bool:
        hpa = api(server, "GET", f"/apis/autoscaling/v2/namespaces/{ns}/horizontalpodautoscalers/{app}")
        return any((m.get("resource") or {}).get("current") for m in (hpa.get("status") or {}).get("currentMetrics")
                   or [])

    procs.wait_for(metrics_flowing, 180, interval=0.5, what="the HPA's first CPU reading")
    port = svc["spec"]["ports"][0]["nodePort"]
    load = Load([f"http://{ip}:{port}/cgi-bin/burn?40000" for ip in sorted(nodes.values())], workers)
    marks: dict[str, float] = {}
    t0 = time.monotonic()
    load.start()
    try:
        while time.monotonic() - t0 < 600:
            desired, spec_replicas, ready_count = state()
            now = time.monotonic() - t0
            if desired > 1:
                marks.setdefault("decided", now)
            if spec_replicas > 1:
                marks.setdefault("scaled", now)
            if ready_count >= max_replicas and spec_replicas == max_replicas:
                marks["all_ready"] = now
                # The kubelet's reading round, on the node running most containers now.
                rounds = [kubelet_round_cpu(state_dir, node) for node in sorted(nodes)]
                marks["kubelet_cpu"], marks["kubelet_containers"] = max(rounds, key=lambda r: r[1])
                break
            time.sleep(0.5)
        else:
            raise SystemExit(f"not at {max_replicas} Ready replicas within 600 s: {marks}")
    finally:
        load.stop()
    t1 = time.monotonic()
    while time.monotonic() - t1 < 900:
        desired, spec_replicas, ready_count = state()
        if spec_replicas == 1 and ready_count == 1:
            marks["down"] = time.monotonic() - t1
            break
        time.sleep(1.0)
    else:
        raise SystemExit(f"not back at 1 replica within 900 s: {marks}")
    return marks


# -- the pipeline's own cost -----------------------------------------------------------------------------


def kubelet_round_cpu(state: str, node: str, rounds: int = 20) -> tuple[float, int]:
    """CPU seconds of one kubelet reading round (and rendering) on a real node, and its container count."""
    rt = dockerruntime.DockerRuntime(node, host=f"unix://{state}/nodes/{node}/docker.sock")
    provider = stats.StatsProvider(node, rt.list_containers, cgroupstats.CgroupFs())

    async def run() -> tuple[float, int]:
        try:
            await provider.sample()
            t = time.process_time()
            for _ in range(rounds):
                snap = await provider.sample()
                stats.resource_metrics(snap)
            return (time.process_time() - t) / rounds, sum(len(p.containers) + 1 for p in snap.pods)
        finally:
            await rt.close()

    return asyncio.run(run())


def kubelet_round_cpu_synthetic(pods: int, rounds: int = 10) -> float:
    """CPU seconds of one reading round over a cgroup v1 tree of `pods` pods (sandbox + app each) in tmp."""
    from minik8s.kubelet import runtime

    root = pathlib.Path(tempfile.mkdtemp(prefix="minik8s-bench-cg-"))
    try:
        listed = []
        for i in range(pods):
            for kind in ("sandbox", "app"):
                cid = f"{kind}{i:04d}"
                for ctl, name in (("cpuacct", "cpuacct.usage"), ("memory", "memory.usage_in_bytes")):
                    d = root / ctl / "docker" / cid
                    d.mkdir(parents=True)
                    (d / name).write_text("123456789\n")
                (root / "memory" / "docker" / cid / "memory.stat").write_text("total_inactive_file 1\ntotal_rss 2\n")
                listed.append(runtime.ContainerStatus(
                    id=cid, name="POD" if kind == "sandbox" else "app", pod_uid=f"u{i}", pod_name=f"p{i}",
                    pod_namespace="ns", is_sandbox=kind == "sandbox", state=runtime.RUNNING, attempt=0))
        for ctl, name in (("cpuacct", "cpuacct.usage"), ("memory", "memory.usage_in_bytes")):
            (root / ctl / name).write_text("1\n")
        (root / "memory" / "memory.stat").write_text("total_inactive_file 0\n")

        async def lister() -> list[runtime.ContainerStatus]:
            return listed

        provider = stats.StatsProvider("n", lister, cgroupstats.CgroupFs(str(root)))

        async def run() -> float:
            await provider.sample()
            t = time.process_time()
            for _ in range(rounds):
                stats.resource_metrics(await provider.sample())
            return (time.process_time() - t) / rounds

        return asyncio.run(run())
    finally:
        shutil.rmtree(root, ignore_errors=True)


def synthetic_kubelet_text(node: int, pods: int, t: float) -> str:
    sample = cgroupstats.CgroupSample(123_456_789_000, 50 << 20, 40 << 20, 30 << 20)
    pod_stats = []
    for i in range(pods):
        containers = tuple(stats.ContainerStats(f"c{j}", f"id{j}", 1000.0, stats.Reading(t, sample), None)
                           for j in range(2))
        pod_stats.append(stats.PodStats("ns", f"pod-{node}-{i}", f"u{i}", 1000.0, containers, t, 1, 1, 1, 1, None))
    snap = stats.Snapshot(stats.NodeStats(f"n{node}", 0, stats.Reading(t, sample), None), tuple(pod_stats), 0)
    return stats.resource_metrics(snap).decode()


def apiserver_cost(pods_per_node: int, nodes: int = 20) -> tuple[float, float]:
    """(CPU seconds to parse and store one node's scrape, bytes of store per node) at this many pods.

    CPU and memory are measured in two separate passes: tracemalloc slows allocation
    several times over, so it must not be on while CPU is timed.
    """
    texts = [[synthetic_kubelet_text(n, pods_per_node, t) for n in range(nodes)] for t in (1000.0, 1010.0)]
    proxy = "".join(f'minik8s_proxy_endpoint_connections_total{{namespace="ns",service="s",port="",protocol="TCP",'
                    f'endpoint="10.244.0.{i % 250}:80"}} {i}\n' for i in range(pods_per_node))

    def fill() -> tuple[resource_store.ResourceStore, custom_store.CustomStore]:
        res, custom = resource_store.ResourceStore(), custom_store.CustomStore()
        for round_texts in texts:
            for n, text in enumerate(round_texts):
                res.update(f"n{n}", resource_store.parse_resource_metrics(text))
                custom.update_proxy(f"n{n}", custom_store.parse_proxy_counters(proxy), time.time())
        return res, custom

    t = time.process_time()
    res, _custom = fill()
    cpu = (time.process_time() - t) / (2 * nodes)
    assert len(res.pod_usage()) == nodes * pods_per_node
    del res, _custom
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    kept = fill()
    gc.collect()
    used = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    del kept
    return cpu, used / nodes


def process_usage(pids: list[int]) -> dict[int, tuple[float, int]]:
    out = {}
    for pid in pids:
        try:
            p = psutil.Process(pid)
            t = p.cpu_times()
            out[pid] = (t.user + t.system, p.memory_info().rss)
        except psutil.Error:
            continue
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--max", type=int, default=4, help="maxReplicas of the HPA")
    parser.add_argument("--workers", type=int, default=8, help="load threads")
    parser.add_argument("--smoke", action="store_true", help="1 round, max 2, 5 s periods, 10 s window")
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("run as root: the local cluster creates namespaces, links and cgroups")
    if args.smoke:
        args.rounds, args.max, args.workers = 1, 2, 4

    tmp = pathlib.Path(tempfile.mkdtemp(prefix="minik8s-bench-hpa-"))
    name = "bhpa" + uuid.uuid4().hex[:4]
    state, kubeconfig = str(tmp / "cluster"), str(tmp / "kubeconfig")
    sets = [a for s in (SMOKE_SETTINGS if args.smoke else []) for a in ("--set", s)]
    results = []
    try:
        subprocess.run([*MINIK8S, "cluster", "up", "--name", name, "--state-dir", state, "--nodes", "3",
                        "--subnet", benchutil.free_subnet(), "--port", str(procs.free_port()), "--kubeconfig", kubeconfig,
                        *sets], check=True, capture_output=True, text=True, timeout=300)
        status = json.loads(subprocess.run([*MINIK8S, "cluster", "status", "--name", name, "--state-dir", state,
                                            "-o", "json"], check=True, capture_output=True, text=True).stdout)
        server = status["server"]
        OPENER[:] = [kubeconfig_mod.urllib_opener(kubeconfig)]
        nodes = {n["name"]: n["ip"] for n in status["nodes"]}
        pids = {"apiserver": status["master"]["apiserver"],
                **{f"kubelet {n['name']}": n["pids"]["kubelet"] for n in status["nodes"]}}
        api(server, "POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                                    "metadata": {"name": "bench"}})
        start_usage, t_start = process_usage(list(pids.values())), time.monotonic()
        for i in range(args.rounds):
            marks = scenario(server, "bench", nodes, f"burn{i}", args.max, args.workers, args.smoke, state)
            results.append(marks)
            print(f"round {i + 1}: HPA decided after {marks['decided']:.1f}s, scale written after "
                  f"{marks['scaled']:.1f}s, {args.max} replicas Ready after {marks['all_ready']:.1f}s; "
                  f"after the load stopped, back at 1 after {marks['down']:.1f}s", flush=True)
        end_usage, t_end = process_usage(list(pids.values())), time.monotonic()
        kubelet_cpu, containers = results[-1]["kubelet_cpu"], int(results[-1]["kubelet_containers"])
    finally:
        subprocess.run([*MINIK8S, "cluster", "down", "--name", name, "--state-dir", state], check=False,
                       capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)

    def med(key: str) -> float:
        return statistics.median(r[key] for r in results)

    interval = 5.0 if args.smoke else 10.0
    resolution = 5.0 if args.smoke else 15.0
    print()
    print(f"host: {os.cpu_count()} CPUs; {'smoke settings: ' + ', '.join(SMOKE_SETTINGS) if args.smoke else 'Kubernetes defaults'}")
    print("| phase | median | rounds |")
    print("|---|---|---|")
    print(f"| load start → HPA decides to scale | {med('decided'):.1f} s | {len(results)} |")
    print(f"| load start → scale written | {med('scaled'):.1f} s | {len(results)} |")
    print(f"| load start → {args.max} replicas Ready | {med('all_ready'):.1f} s | {len(results)} |")
    print(f"| load stop → back at 1 replica | {med('down'):.1f} s | {len(results)} |")
    print()
    print(f"kubelet reading round on the busiest node ({containers} containers incl. sandboxes): "
          f"{kubelet_cpu * 1000:.2f} ms CPU, every {interval:g} s = {kubelet_cpu / interval * 1000:.2f} mCPU")
    for pods in (10, 110):
        round_cpu = kubelet_round_cpu_synthetic(pods)
        print(f"kubelet, {pods} pods (cgroup files in tmp): {round_cpu * 1000:.2f} ms CPU per reading round "
              f"(= {round_cpu / interval * 1000:.2f} mCPU at {interval:g} s)")
    for pods in (10, 110):
        cpu, per_node = apiserver_cost(pods)
        print(f"API server, {pods} pods/node: {cpu * 1000:.2f} ms CPU per node scrape "
              f"(= {cpu / resolution * 1000:.2f} mCPU per node at {resolution:g} s), "
              f"{per_node / 1024:.0f} KiB of stores per node")
    span = t_end - t_start
    for label, pid in pids.items():
        if pid in start_usage and pid in end_usage:
            cpu_used = end_usage[pid][0] - start_usage[pid][0]
            print(f"{label}: {cpu_used / span * 100:.1f}% of a CPU over the scenario, RSS "
                  f"{end_usage[pid][1] / (1 << 20):.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
