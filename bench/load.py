#!/usr/bin/env python3
"""Load: 1,000 pods on 50 hollow nodes with 20 watchers for 10 minutes; memory stays flat, watchers keep up.

    .venv/bin/python bench/load.py [--nodes 50] [--pods 1000] [--watchers 20] [--duration 600]
                                   [--sample 30] [--churn-every 10]
    .venv/bin/python bench/load.py --smoke        # a few nodes and pods for ~30 seconds

Starts its own etcd, `minik8s apiserver`, `controller-manager`, `scheduler` and one
`hollow-node --count N` process (kubemark-style nodes: they register, heartbeat and
run pods without containers), plus one process holding W informers on every pod of
the cluster (the code every controller uses, each with its own connection). Then:

1. D Deployments of P/D replicas: P pods created, scheduled and Running.
2. For the duration, a rolling update of one Deployment after another (a new
   template annotation every `--churn-every` seconds), so pods are replaced all
   along, and a probe pod whose annotation carries the wall-clock time is
   patched every second.

The API server runs with --event-ttl 120 and --etcd-compaction-interval 60, and etcd
with --snapshot-count 10000 (options here): with their defaults (1 hour, 5 minutes,
100,000 raft entries) memory is bounded the same way, but only over hours.

Reported:
- every component's resident memory (RSS, MiB) at each sample, and per component
  its value after the warm-up (the first sample once all P pods ran), at the end,
  the maximum and the growth per minute between those two;
- watcher lag: for every probe write, how long until each informer's handler saw
  it (p50 / p99 / max per sample window, all watchers together), how many probe
  updates each watcher missed at the end, and how many times any relisted.

Everything started is stopped and the temporary directory removed (--keep keeps logs).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import pathlib
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Any

import psutil

REPO = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import benchpki  # noqa: E402

from minik8s.api import resources  # noqa: E402
from minik8s.client import informer as informer_mod  # noqa: E402
from minik8s.client import rest  # noqa: E402
from minik8s.util import procs  # noqa: E402

PODS = resources.must("", "v1", "pods")
NODES = resources.must("", "v1", "nodes")
NAMESPACES = resources.must("", "v1", "namespaces")
DEPLOYMENTS = resources.must("apps", "v1", "deployments")
NAMESPACE = "load"
PROBE = "lag-probe"
PROBE_ANNOTATION = "bench.minik8s.io/written-at"
MIB = 1024 * 1024


# -- the watchers' process ------------------------------------------------------------------


async def watchers_main(kubeconfig: str, count: int, out: str, interval: float) -> None:
    """W informers on all pods (as the admin of `kubeconfig`); every `interval` s a JSON line of what each has seen."""
    clients = [rest.from_kubeconfig(kubeconfig, timeout=30, user_agent=f"load-watcher-{i}") for i in range(count)]
    infs = [informer_mod.Informer(c, PODS, watch_timeout=300) for c in clients]
    lags: list[list[float]] = [[] for _ in infs]
    last_probe: list[float] = [0.0] * count
    events = [0] * count

    def handlers(i: int) -> tuple[Any, Any, Any]:
        def seen(obj: dict[str, Any]) -> None:
            events[i] += 1
            if obj["metadata"]["name"] == PROBE:
                written = float(((obj["metadata"].get("annotations") or {}).get(PROBE_ANNOTATION)) or 0)
                if written > last_probe[i]:
                    last_probe[i] = written
                    lags[i].append(time.time() - written)

        return seen, lambda old, new: seen(new), seen

    for i, inf in enumerate(infs):
        inf.add_handlers(*handlers(i))
        inf.start()
    with open(out, "a", encoding="utf-8") as f:
        while True:
            await asyncio.sleep(interval)
            line = {"t": time.time(), "watchers": [
                {"events": events[i], "lastProbe": last_probe[i], "lags": lags[i], "relists": infs[i].relists,
                 "cached": len(infs[i].store)} for i in range(count)]}
            for i in range(count):
                lags[i] = []
            f.write(json.dumps(line) + "\n")
            f.flush()


# -- the cluster -------------------------------------------------------------------------------


class Etcd(procs.EtcdProcess):
    """etcd keeping `snapshot_count` raft entries in memory between snapshots (its 3.4
    default, 100,000, holds a long run's every write; kubeadm sets 10,000, 3.5's default)."""

    snapshot_count = 10000

    def argv(self) -> list[str]:
        return [*super().argv(), "--snapshot-count", str(self.snapshot_count)]


class Cluster:
    def __init__(self, tmp: pathlib.Path) -> None:
        self.tmp = tmp
        self.etcd = Etcd(str(tmp / "etcd"))
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.url = ""
        self.pki: benchpki.BenchPKI | None = None

    def spawn(self, name: str, argv: list[str]) -> None:
        with open(self.tmp / f"{name}.log", "wb") as out:
            self.procs[name] = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, cwd=str(REPO))

    def component(self, name: str, *args: str) -> None:
        self.spawn(name, [sys.executable, "-m", "minik8s", "--log-level", "warning", *args])

    def start(self, nodes: int, apiserver_args: list[str]) -> None:
        self.etcd.start()
        port = procs.free_port()
        self.url = f"https://127.0.0.1:{port}"
        self.pki = pki = benchpki.BenchPKI(self.tmp / "pki", self.url)
        self.component("apiserver", "apiserver", "--etcd-endpoints", self.etcd.endpoint, "--port", str(port),
                       "--bind-address", "127.0.0.1", *pki.apiserver_args(), *apiserver_args)
        opener = pki.opener()

        def ready() -> bool:
            if self.procs["apiserver"].poll() is not None:
                raise RuntimeError(f"apiserver exited:\n{self.log('apiserver')}")
            try:
                with opener.open(self.url + "/readyz", timeout=1) as resp:
                    return resp.status == 200
            except OSError:
                return False

        procs.wait_for(ready, 60, what="apiserver /readyz")
        self.component("controller-manager", "controller-manager", "--kubeconfig", pki.kubeconfig("controller-manager"),
                       "--no-leader-elect")
        self.component("scheduler", "scheduler", "--kubeconfig", pki.kubeconfig("scheduler"), "--no-leader-elect")
        # As bench/scheduler.py: the hollow nodes share one process, so one (admin) identity.
        self.component("hollow", "hollow-node", "--kubeconfig", pki.kubeconfig("admin"), "--count", str(nodes))

    def log(self, name: str) -> str:
        return procs.log_tail(str(self.tmp / f"{name}.log"), 30)

    def pids(self) -> dict[str, int]:
        out = {name: p.pid for name, p in self.procs.items()}
        if self.etcd.pid:
            out["etcd"] = self.etcd.pid
        return out

    def check_alive(self) -> None:
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited ({proc.returncode}):\n{self.log(name)}")

    def stop(self) -> None:
        for proc in reversed(list(self.procs.values())):
            procs.stop_pid(proc.pid, timeout=10)
            proc.wait(timeout=5)
        self.etcd.stop()


def rss_mib(pids: dict[str, int]) -> dict[str, float]:
    out = {}
    for name, pid in pids.items():
        try:
            out[name] = psutil.Process(pid).memory_info().rss / MIB
        except psutil.Error:
            out[name] = float("nan")
    return out


def deployment(name: str, replicas: int) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": NAMESPACE},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "strategy": {"type": "RollingUpdate",
                                  "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "c", "image": "minik8s/web:1",
                                                           "resources": {"requests": {"cpu": "10m",
                                                                                      "memory": "16Mi"}}}]}}}}


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, max(0, int(round(p / 100 * (len(values) - 1)))))]


async def running_pods(client: rest.Client) -> int:
    body = await client.list_all(PODS, NAMESPACE, page_size=500)
    return sum(1 for p in body["items"] if (p.get("status") or {}).get("phase") == "Running"
               and not p["metadata"].get("deletionTimestamp"))


async def drive(args: argparse.Namespace, cluster: Cluster, watchers_out: pathlib.Path) -> dict[str, Any]:
    assert cluster.pki is not None
    client = cluster.pki.client(timeout=60)
    try:
        async def nodes_ready() -> bool:
            items = (await client.list(NODES))["items"]
            return sum(1 for n in items if any(c.get("type") == "Ready" and c.get("status") == "True"
                                               for c in (n.get("status") or {}).get("conditions") or [])) >= args.nodes

        await procs.wait_for_async(nodes_ready, 120, interval=0.5, what=f"{args.nodes} Ready hollow nodes")
        await client.create(NAMESPACES, {"metadata": {"name": NAMESPACE}})
        await client.create(PODS, {"metadata": {"name": PROBE, "annotations": {PROBE_ANNOTATION: "0"}},
                                   "spec": {"nodeName": "no-such-node",
                                            "containers": [{"name": "c", "image": "minik8s/web:1"}]}}, NAMESPACE)
        per = max(1, args.pods // args.deployments)
        names = [f"app-{i}" for i in range(args.deployments)]
        t0 = time.monotonic()
        for name in names:
            await client.create(DEPLOYMENTS, deployment(name, per), NAMESPACE)

        async def all_running() -> bool:
            cluster.check_alive()
            return await running_pods(client) >= per * len(names)

        await procs.wait_for_async(all_running, max(120, args.pods / 5), interval=1,
                                   what=f"{per * len(names)} pods Running")
        warm = time.monotonic() - t0
        print(f"{per * len(names)} pods Running on {args.nodes} hollow nodes after {warm:.1f}s; "
              f"load for {args.duration:.0f}s", flush=True)

        samples: list[tuple[float, dict[str, float]]] = []
        start = time.monotonic()
        next_sample = start
        next_churn = start
        rollouts = 0
        probes = 0
        while time.monotonic() - start < args.duration:
            now = time.monotonic()
            cluster.check_alive()
            await client.patch(PODS, PROBE, {"metadata": {"annotations": {PROBE_ANNOTATION: repr(time.time())}}},
                               NAMESPACE)
            probes += 1
            if now >= next_churn:
                name = names[rollouts % len(names)]
                await client.patch(DEPLOYMENTS, name, {"spec": {"template": {"metadata": {"annotations": {
                    "bench.minik8s.io/rollout": str(rollouts)}}}}}, NAMESPACE)
                rollouts += 1
                next_churn += args.churn_every
            if now >= next_sample:
                samples.append((now - start, rss_mib(cluster.pids())))
                next_sample += args.sample
            await asyncio.sleep(1.0)
        samples.append((time.monotonic() - start, rss_mib(cluster.pids())))
        last_probe = time.time()
        await asyncio.sleep(3)  # what the watchers saw of the last probe reaches their report
        return {"samples": samples, "rollouts": rollouts, "probes": probes, "warmup": warm,
                "running": await running_pods(client), "last_probe": last_probe}
    finally:
        await client.close()


def report(args: argparse.Namespace, result: dict[str, Any], watchers_out: pathlib.Path) -> None:
    samples: list[tuple[float, dict[str, float]]] = result["samples"]
    names = list(samples[0][1])
    print(f"\nmachine: {platform.node()} {os.cpu_count()} CPUs, load average "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"API server: --event-ttl {args.event_ttl} --etcd-compaction-interval {args.etcd_compaction_interval:g}; "
          f"etcd --snapshot-count {args.etcd_snapshot_count}")
    print(f"{args.pods} pods on {args.nodes} hollow nodes, {args.watchers} watchers, {args.duration:.0f}s: "
          f"{result['rollouts']} rolling updates, {result['probes']} probe writes; "
          f"{result['running']} pods Running at the end\n")
    print("Resident memory (MiB) over time")
    print("| t (s) | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for t, rss in samples:
        print(f"| {t:.0f} | " + " | ".join(f"{rss[n]:.0f}" for n in names) + " |")
    minutes = max((samples[-1][0] - samples[0][0]) / 60, 1e-9)
    print("\n| component | after warm-up | end | max | growth |")
    print("|---|---|---|---|---|")
    for n in names:
        first, last = samples[0][1][n], samples[-1][1][n]
        top = max(s[1][n] for s in samples)
        print(f"| {n} | {first:.0f} MiB | {last:.0f} MiB | {top:.0f} MiB | {(last - first) / minutes:+.1f} MiB/min |")

    lines = [json.loads(line) for line in watchers_out.read_text().splitlines() if line.strip()]
    print("\nWatcher lag (probe write → informer handler), all watchers")
    print("| t (s) | probes seen | p50 | p99 | max |")
    print("|---|---|---|---|---|")
    t0 = lines[0]["t"] if lines else 0
    all_lags: list[float] = []
    for line in lines:
        lags = [lag for w in line["watchers"] for lag in w["lags"]]
        all_lags += lags
        if lags:
            print(f"| {line['t'] - t0:.0f} | {len(lags)} | {pct(lags, 50) * 1000:.0f} ms | "
                  f"{pct(lags, 99) * 1000:.0f} ms | {max(lags) * 1000:.0f} ms |")
    final = lines[-1]["watchers"] if lines else []
    behind = [i for i, w in enumerate(final) if w["lastProbe"] < result["last_probe"] - 5]
    print(f"\noverall: p50 {pct(all_lags, 50) * 1000:.0f} ms, p99 {pct(all_lags, 99) * 1000:.0f} ms, "
          f"max {max(all_lags, default=float('nan')) * 1000:.0f} ms over {len(all_lags)} probe deliveries; "
          f"relists {sum(w['relists'] for w in final)}; watchers behind at the end: {len(behind)} of {len(final)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, default=50)
    parser.add_argument("--pods", type=int, default=1000)
    parser.add_argument("--deployments", type=int, default=20)
    parser.add_argument("--watchers", type=int, default=20)
    parser.add_argument("--duration", type=float, default=600, help="Seconds of load after the pods run.")
    parser.add_argument("--sample", type=float, default=30, help="Seconds between memory samples.")
    parser.add_argument("--churn-every", type=float, default=10, help="Seconds between rolling updates.")
    parser.add_argument("--event-ttl", type=int, default=120,
                        help="The API server's --event-ttl (its default, 3600, outlasts a 10-minute run).")
    parser.add_argument("--etcd-compaction-interval", type=float, default=60,
                        help="The API server's --etcd-compaction-interval (default there: 300).")
    parser.add_argument("--etcd-snapshot-count", type=int, default=10000, help="etcd's --snapshot-count.")
    parser.add_argument("--smoke", action="store_true", help="A tiny run of seconds (make bench-smoke).")
    parser.add_argument("--keep", action="store_true", help="Keep the logs' temporary directory.")
    parser.add_argument("--watchers-process", nargs=3, metavar=("KUBECONFIG", "COUNT", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.watchers_process:
        kubeconfig, count, out = args.watchers_process
        asyncio.run(watchers_main(kubeconfig, int(count), out, 5.0 if not args.smoke else 1.0))
        return 0
    if args.smoke:
        args.nodes, args.pods, args.deployments, args.watchers = 5, 40, 4, 4
        args.duration, args.sample, args.churn_every = 15, 3, 3
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="minik8s-load-"))
    Etcd.snapshot_count = args.etcd_snapshot_count
    cluster = Cluster(tmp)
    watchers_out = tmp / "watchers.jsonl"
    try:
        cluster.start(args.nodes, ["--event-ttl", str(args.event_ttl),
                                   "--etcd-compaction-interval", str(args.etcd_compaction_interval)])
        assert cluster.pki is not None
        cluster.spawn("watchers", [sys.executable, str(pathlib.Path(__file__).resolve()), *(
            ["--smoke"] if args.smoke else []), "--watchers-process", cluster.pki.kubeconfig("admin"),
            str(args.watchers), str(watchers_out)])
        result = asyncio.run(drive(args, cluster, watchers_out))
        report(args, result, watchers_out)
    finally:
        cluster.stop()
        if args.keep:
            print(f"logs kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
