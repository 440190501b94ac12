"""Scheduler benchmark: N pods onto M hollow nodes, on a private etcd + API server.

    .venv/bin/python bench/scheduler.py [--nodes 100] [--pods 1000] [--concurrency 32] [--precreate]
                                        [--profile scheduler|apiserver|hollow] [-- SCHEDULER OPTIONS]

First the scheduler alone, in this process, with a binder that does nothing:
its ceiling. Then the real thing: its own etcd, `minik8s apiserver`,
`minik8s hollow-node --count M` and `minik8s scheduler` processes; once the M
nodes are Ready and the scheduler has bound a warm-up pod, the N pods are
created (a fixed number of creates in flight) and watched. Reported:

  throughput  pods bound per second: overall (N over first create → last
              binding), and the per-second windows between the first and the
              last binding (mean, p50, p99), as scheduler_perf samples it;
  latency     per pod, from sending its create to the watch event that shows
              it bound (p50, p99, max), and to the event that shows it at all
              (the API server's watch delay);
  CPU         seconds each process used while the pods were created and
              scheduled: where the time goes, on cores shared by all of them
              (and by anything else running: the load average is shown).

With --precreate the pods are all created before the scheduler starts, which
measures the scheduler and the binding path without the creates competing
(the clock starts at the first binding; latency is not shown). --profile runs
one component under cProfile and prints its top functions. Everything started
is stopped and the temporary directory removed at the end (--keep keeps logs).
"""
from __future__ import annotations

import argparse
import asyncio
import math
import os
import pathlib
import platform
import shutil
import statistics
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
import benchutil  # noqa: E402

from minik8s.api import resources  # noqa: E402
from minik8s.client import rest  # noqa: E402
from minik8s.util import procs  # noqa: E402

PODS = resources.must("", "v1", "pods")
NODES = resources.must("", "v1", "nodes")
NAMESPACES = resources.must("", "v1", "namespaces")
NAMESPACE = "bench"


class Cluster:
    def __init__(self, tmp: pathlib.Path, profile: str = "") -> None:
        self.tmp = tmp
        self.profile = profile
        self.etcd = procs.EtcdProcess(str(tmp / "etcd"))
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.url = ""
        self.pki: benchpki.BenchPKI | None = None

    def start(self, name: str, *args: str, level: str = "warning") -> subprocess.Popen[bytes]:
        prefix = [sys.executable]
        if name == self.profile:
            prefix += ["-m", "cProfile", "-o", str(self.tmp / f"{name}.prof")]
        with open(self.tmp / f"{name}.log", "wb") as out:
            proc = subprocess.Popen([*prefix, "-m", "minik8s", "--log-level", level, *args],
                                    stdout=out, stderr=subprocess.STDOUT, cwd=str(REPO))
        self.procs[name] = proc
        return proc

    def start_apiserver(self) -> None:
        self.etcd.start()
        port = procs.free_port()
        self.url = f"https://127.0.0.1:{port}"
        self.pki = pki = benchpki.BenchPKI(self.tmp / "pki", self.url)
        proc = self.start("apiserver", "apiserver", "--etcd-endpoints", self.etcd.endpoint, "--port", str(port),
                          "--bind-address", "127.0.0.1", *pki.apiserver_args())
        opener = pki.opener()

        def ready() -> bool:
            if proc.poll() is not None:
                raise RuntimeError(f"apiserver exited:\n{self.log('apiserver')}")
            try:
                with opener.open(self.url + "/readyz", timeout=1) as resp:
                    return resp.status == 200
            except OSError:
                return False
        procs.wait_for(ready, 60, what="apiserver /readyz")

    def log(self, name: str) -> str:
        return procs.log_tail(str(self.tmp / f"{name}.log"), 30)

    def cpu_seconds(self) -> dict[str, float]:
        out = {}
        pids = {name: p.pid for name, p in self.procs.items()}
        if self.etcd.pid:
            pids["etcd"] = self.etcd.pid
        pids["bench"] = os.getpid()
        for name, pid in pids.items():
            try:
                t = psutil.Process(pid).cpu_times()
                out[name] = t.user + t.system
            except psutil.Error:
                out[name] = 0.0
        return out

    def stop(self) -> None:
        for proc in reversed(list(self.procs.values())):
            procs.stop_pid(proc.pid, timeout=10)
            proc.wait(timeout=5)
        self.etcd.stop()


def pod_body(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": NAMESPACE},
            "spec": {"containers": [{"name": "c", "image": "busybox", "command": ["sleep", "3600"],
                                     "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}}}]}}


class _NoopControl:
    async def bind(self, pod: dict[str, Any], node: str) -> None:
        return None

    async def set_condition(self, pod: dict[str, Any], condition: dict[str, Any]) -> None:
        return None


class _NoopRecorder:
    def event(self, obj: dict[str, Any], type_: str, reason: str, message: str, *, field_path: str = "") -> None:
        return None


async def in_process(args: argparse.Namespace) -> tuple[float, list[float]]:
    """The scheduler alone: the same decisions with a binder that does nothing (its ceiling)."""
    from minik8s.hollow import objects
    from minik8s.scheduler import plugins
    from minik8s.scheduler import scheduler as scheduler_mod

    sched = scheduler_mod.Scheduler(plugins.default_framework(), _NoopControl(), _NoopRecorder())
    spec = objects.NodeSpec()
    for i in range(args.nodes):
        sched.on_node_add(objects.node_object(spec, f"hollow-node-{i}", i))
    for i in range(args.pods):
        body = pod_body(f"pod-{i:05d}")
        body["metadata"]["uid"] = f"uid-{i}"
        body["spec"]["schedulerName"] = "default-scheduler"
        sched.on_pod_add(body)
    start = time.perf_counter()
    while (qp := sched.queue.pop_nowait()) is not None:
        sched.schedule_one(qp)
    await sched.wait_for_bindings()
    elapsed = time.perf_counter() - start
    return args.pods / elapsed, sched.stats.algorithm


def percentile(values: list[float], p: float) -> float:
    """Nearest rank: the smallest value with at least p% of the values at or below it."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


async def wait_nodes(client: rest.Client, n: int) -> None:
    async def ready() -> bool:
        items = (await client.list(NODES))["items"]
        return sum(1 for i in items if any(c["type"] == "Ready" and c["status"] == "True"
                                           for c in i["status"].get("conditions", []))) == n
    await procs.wait_for_async(ready, 120, interval=0.2, what=f"{n} Ready hollow nodes")


async def wait_bound(client: rest.Client, namespace: str, name: str, timeout: float) -> None:
    async def bound() -> bool:
        pod = await client.get_or_none(PODS, name, namespace)
        return bool(pod and pod["spec"].get("nodeName"))
    await procs.wait_for_async(bound, timeout, interval=0.1, what=f"{namespace}/{name} to be bound")


async def run(args: argparse.Namespace, cluster: Cluster) -> dict[str, Any]:
    assert cluster.pki is not None
    client = cluster.pki.client(limit=args.concurrency + 8)
    watch_client = cluster.pki.client()
    try:
        # Hollow nodes stand in for many kubelets in one process: no single node identity fits.
        cluster.start("hollow", "hollow-node", "--kubeconfig", cluster.pki.kubeconfig("admin"), "--count",
                      str(args.nodes),
                      "--workers", str(args.hollow_workers))
        await wait_nodes(client, args.nodes)
        await client.create(NAMESPACES, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}})
        for namespace in (NAMESPACE, "default"):  # no controller manager runs here
            await benchutil.default_service_account(client, namespace)
        sched_args = ("scheduler", "--kubeconfig", cluster.pki.kubeconfig("scheduler"), "--stats-interval", "1",
                      *args.scheduler_args)

        sent: dict[str, float] = {}
        bound_at: dict[str, float] = {}
        seen_at: dict[str, float] = {}
        all_bound = asyncio.Event()

        async def watch(rv: str) -> None:
            async for ev in watch_client.watch(PODS, NAMESPACE, resource_version=rv):
                obj = ev.get("object") or {}
                name = (obj.get("metadata") or {}).get("name")
                if name and name not in seen_at:
                    seen_at[name] = time.monotonic()
                if name and name not in bound_at and (obj.get("spec") or {}).get("nodeName"):
                    bound_at[name] = time.monotonic()
                    if len(bound_at) == args.pods:
                        all_bound.set()

        async def create_all() -> None:
            sem = asyncio.Semaphore(args.concurrency)

            async def one(i: int) -> None:
                name = f"pod-{i:05d}"
                async with sem:
                    sent[name] = time.monotonic()
                    await client.create(PODS, pod_body(name))
            await asyncio.gather(*(one(i) for i in range(args.pods)))

        load = os.getloadavg()[0]
        rv = (await client.list(PODS, NAMESPACE))["metadata"]["resourceVersion"]
        watcher = asyncio.ensure_future(watch(rv))
        if args.precreate:
            t0 = time.monotonic()
            await create_all()
            created = time.monotonic()
            cpu0 = cluster.cpu_seconds()
            start = time.monotonic()
            cluster.start("scheduler", *sched_args, level="info")
        else:
            cluster.start("scheduler", *sched_args, level="info")
            # Warm up: the scheduler has listed, synced and bound one pod before the clock starts.
            await client.create(PODS, {**pod_body("warmup"), "metadata": {"name": "warmup", "namespace": "default"}})
            await wait_bound(client, "default", "warmup", 60)
            cpu0 = cluster.cpu_seconds()
            start = t0 = time.monotonic()
            await create_all()
            created = time.monotonic()
        try:
            await asyncio.wait_for(all_bound.wait(), args.timeout)
        except asyncio.TimeoutError:
            raise SystemExit(f"only {len(bound_at)}/{args.pods} pods bound within {args.timeout}s\n"
                             f"{cluster.log('scheduler')}") from None
        end = time.monotonic()
        cpu1 = cluster.cpu_seconds()
        watcher.cancel()
        await asyncio.gather(watcher, return_exceptions=True)
        return {"sent": sent, "bound": bound_at, "seen": seen_at, "t0": t0, "start": start, "created": created,
                "end": end, "load": load, "cpu": {k: cpu1.get(k, 0.0) - cpu0.get(k, 0.0) for k in cpu1}}
    finally:
        await client.close()
        await watch_client.close()


def report(args: argparse.Namespace, r: dict[str, Any], alone: tuple[float, list[float]]) -> str:
    bound = sorted(r["bound"].values())
    first, last = bound[0], bound[-1]
    windows = []
    t = first
    while t < last:
        windows.append(sum(1 for b in bound if t <= b < t + 1.0))
        t += 1.0
    if len(windows) > 1:
        windows = windows[:-1]  # the last window is partial
    if not windows:
        windows = [len(bound)]
    # Precreated: the clock starts at the first binding (the scheduler's start-up is not scheduling).
    since = first if args.precreate else r["start"]
    overall = len(bound) / (last - since)
    algo = [a * 1000 for a in alone[1]]
    rows = [
        ("nodes / pods", f"{args.nodes} / {args.pods}"),
        ("scheduler alone", f"{alone[0]:.0f} pods/s in process with a no-op binder; one decision "
                            f"p50 {percentile(algo, 50):.2f} ms, p99 {percentile(algo, 99):.2f} ms"),
        ("mode", "pods created before the scheduler starts" if args.precreate
         else f"pods created while scheduling ({args.concurrency} creates in flight)"),
        ("creates", f"{args.pods / (r['created'] - r['t0']):.0f} pods/s"),
        ("throughput, overall", f"{overall:.0f} pods/s ({len(bound)} bound in {last - since:.2f}s)"),
        ("throughput, 1s windows", f"mean {statistics.mean(windows):.0f}, p50 {percentile(windows, 50):.0f}, "
                                   f"p99 {percentile(windows, 99):.0f}, min {min(windows)} pods/s "
                                   f"({len(windows)} windows)"),
    ]
    if not args.precreate:
        lat = [(r["bound"][n] - r["sent"][n]) * 1000 for n in r["bound"]]
        seen = [(r["seen"][n] - r["sent"][n]) * 1000 for n in r["bound"] if n in r["seen"]]
        rows.append(("create→watch ADDED", f"p50 {percentile(seen, 50):.0f} ms, p99 {percentile(seen, 99):.0f} ms"))
        rows.append(("e2e latency create→bound", f"p50 {percentile(lat, 50):.0f} ms, p99 {percentile(lat, 99):.0f} ms, "
                                                  f"max {max(lat):.0f} ms"))
    elapsed = r["end"] - r["start"]
    cpu = ", ".join(f"{k} {v:.1f}s" for k, v in sorted(r["cpu"].items(), key=lambda kv: -kv[1]))
    rows.append(("CPU used in that time", f"{cpu} (of {elapsed * psutil.cpu_count():.1f} core-seconds)"))
    rows.append(("load average before", f"{r['load']:.1f} (work of other processes on the machine)"))
    rows.append(("machine", f"{psutil.cpu_count()} cores, {platform.python_implementation()} "
                            f"{platform.python_version()}, {platform.system()} {platform.release()}"))
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k.ljust(width)}  {v}" for k, v in rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=100)
    parser.add_argument("--pods", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=32, help="Pod creates in flight.")
    parser.add_argument("--hollow-workers", type=int, default=8, help="Pods the hollow nodes update at once.")
    parser.add_argument("--precreate", action="store_true", help="Create every pod before the scheduler starts.")
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--keep", action="store_true", help="Keep the logs directory.")
    parser.add_argument("--profile", default="", choices=["", "apiserver", "scheduler", "hollow"],
                        help="Run this component under cProfile and print where its CPU time went.")
    parser.add_argument("--show-scheduler-log", action="store_true",
                        help="Print the scheduler's per-second summaries (algorithm and binding latency).")
    parser.add_argument("scheduler_args", nargs="*", help="Extra `minik8s scheduler` options (after --).")
    args = benchutil.parse_args(parser, {"nodes": 5, "pods": 20, "concurrency": 4, "hollow_workers": 2,
                                         "timeout": 60})
    if not any(a.startswith(("--leader-elect", "--no-leader-elect")) for a in args.scheduler_args):
        args.scheduler_args.append("--no-leader-elect")
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="minik8s-bench-"))
    cluster = Cluster(tmp, args.profile)
    try:
        try:
            alone = asyncio.run(in_process(args))
            cluster.start_apiserver()
            result = asyncio.run(run(args, cluster))
            print(report(args, result, alone))
        finally:
            cluster.stop()
        if args.show_scheduler_log:
            print((tmp / "scheduler.log").read_text())
        if args.profile:
            import pstats
            stats = pstats.Stats(str(tmp / f"{args.profile}.prof"))
            stats.sort_stats("tottime").print_stats(25)
            stats.sort_stats("cumulative").print_stats(40)
    finally:
        if args.keep:
            print(f"logs: {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)

if __name__ == "__main__":
    main()
