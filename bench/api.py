#!/usr/bin/env python3
"""API server benchmark: pod create/get/list/update/delete against raw aetcd, same run.

Starts its own etcd and API server (nothing else may be using them), then:
1. raw aetcd put/get throughput from one process (the baseline),
2. a steady 50 ops/s mix with 20 open watchers (latency p50/p99 per verb),
3. full speed with C concurrent clients (throughput per verb).
Prints one table with the ratio of API writes to raw etcd puts.

Usage: .venv/bin/python bench/api.py [--ops 2000] [--concurrency 16]
"""
from __future__ import annotations

import argparse
import asyncio
import pathlib
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any, Awaitable, Callable

import aetcd

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

import benchutil

from minik8s.api import resources
from minik8s.client import rest
from minik8s.util import procs

PODS = resources.must("", "v1", "pods")
NAMESPACES = resources.must("", "v1", "namespaces")


def pod(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"app": "bench"}},
            "spec": {"containers": [{"name": "main", "image": "minik8s/busybox:1", "command": ["sleep", "1"]}]}}


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    k = min(len(values) - 1, max(0, int(round(p / 100 * (len(values) - 1)))))
    return values[k]


async def run_concurrent(n: int, concurrency: int, op: Callable[[int], Awaitable[Any]]) -> tuple[float, list[float]]:
    """Run op(0..n-1) with `concurrency` workers; return (ops/s, latencies in ms)."""
    latencies: list[float] = []
    counter = iter(range(n))

    async def worker() -> None:
        for i in counter:
            t = time.perf_counter()
            await op(i)
            latencies.append((time.perf_counter() - t) * 1000)
    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return n / (time.perf_counter() - started), latencies


async def raw_etcd(endpoint: str, n: int, concurrency: int) -> dict[str, float]:
    host, port = endpoint.replace("http://", "").split(":")
    value = b"x" * 600  # about the size of a stored pod
    async with aetcd.Client(host=host, port=int(port)) as c:
        put_rate, _ = await run_concurrent(n, concurrency, lambda i: c.put(f"/bench/raw/{i}".encode(), value))
        get_rate, _ = await run_concurrent(n, concurrency, lambda i: c.get(f"/bench/raw/{i}".encode()))
        await c.delete_prefix(b"/bench/raw/")
    return {"put": put_rate, "get": get_rate}


async def steady(client: rest.Client, ns: str, rate: float, seconds: float, watchers: int) -> dict[str, list[float]]:
    """A steady mix at `rate` ops/s: create, get, list, update, delete cycling over pods."""
    stop = asyncio.Event()
    received = [0]

    async def watch() -> None:
        try:
            async for _ in client.watch(PODS, ns, resource_version="0", bookmarks=False):
                received[0] += 1
                if stop.is_set():
                    return
        except Exception:  # noqa: BLE001 - the stream ends when we stop
            pass
    watch_tasks = [asyncio.create_task(watch()) for _ in range(watchers)]
    lat: dict[str, list[float]] = {"create": [], "get": [], "list": [], "update": [], "delete": []}
    verbs = list(lat)
    interval = 1.0 / rate
    total = int(rate * seconds)
    started = time.perf_counter()
    pending: set[asyncio.Task[None]] = set()

    async def one(i: int) -> None:
        verb = verbs[i % len(verbs)]
        name = f"steady-{i // len(verbs)}"
        t = time.perf_counter()
        if verb == "create":
            await client.create(PODS, pod(name), ns)
        elif verb == "get":
            await client.get(PODS, name, ns)
        elif verb == "list":
            await client.list(PODS, ns, label_selector="app=bench")
        elif verb == "update":
            await client.patch(PODS, name, {"metadata": {"labels": {"step": str(i)}}}, ns)
        else:
            await client.delete(PODS, name, ns)
        lat[verb].append((time.perf_counter() - t) * 1000)

    for i in range(total):
        target = started + i * interval
        delay = target - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        # Verbs on one pod run in order: wait for the previous op of this cycle.
        if pending and i % len(verbs) != 0:
            await asyncio.gather(*pending)
            pending.clear()
        task = asyncio.create_task(one(i))
        pending.add(task)
    await asyncio.gather(*pending)
    stop.set()
    for t in watch_tasks:
        t.cancel()
    await asyncio.gather(*watch_tasks, return_exceptions=True)
    return lat


async def full_speed(client: rest.Client, ns: str, n: int, concurrency: int) -> dict[str, float]:
    out: dict[str, float] = {}
    out["create"], _ = await run_concurrent(n, concurrency, lambda i: client.create(PODS, pod(f"fs-{i}"), ns))
    out["get"], _ = await run_concurrent(n, concurrency, lambda i: client.get(PODS, f"fs-{i}", ns))
    out["update"], _ = await run_concurrent(
        n, concurrency, lambda i: client.patch(PODS, f"fs-{i}", {"metadata": {"labels": {"u": "1"}}}, ns))
    out["list"], _ = await run_concurrent(max(20, n // 100), min(concurrency, 4),
                                          lambda i: client.list(PODS, ns, label_selector="app=bench"))
    out["delete"], _ = await run_concurrent(n, concurrency, lambda i: client.delete(PODS, f"fs-{i}", ns))
    return out


async def main_async(args: argparse.Namespace) -> None:
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="minik8s-bench-"))
    etcd = procs.EtcdProcess(str(tmp / "etcd"))
    etcd.start()
    port = procs.free_port()
    log = open(tmp / "apiserver.log", "wb")
    api = subprocess.Popen([sys.executable, "-m", "minik8s", "apiserver", "--etcd-endpoints", etcd.endpoint,
                            "--port", str(port), "--bind-address", "127.0.0.1"], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        async with rest.Client(url, limit=args.concurrency * 2 + args.watchers + 4) as client:
            async def ready() -> bool:
                try:
                    await client.request("GET", "/readyz")
                    return True
                except Exception:  # noqa: BLE001
                    return False
            await procs.wait_for_async(ready, 60, what="apiserver")
            raw = await raw_etcd(etcd.endpoint, args.ops, args.concurrency)
            await client.create(NAMESPACES, {"metadata": {"name": "bench"}})
            lat = await steady(client, "bench", 50.0, args.seconds, args.watchers)
            fast = await full_speed(client, "bench", args.ops, args.concurrency)
    finally:
        procs.stop_pid(api.pid)
        api.wait()
        log.close()
        etcd.stop()
        subprocess.run(["rm", "-rf", str(tmp)], check=False)

    print(f"minik8s API benchmark — {time.strftime('%Y-%m-%d')}, {platform.node()}, "
          f"{platform.machine()}, python {platform.python_version()}")
    print(f"steady: 50 ops/s for {args.seconds:g}s with {args.watchers} watchers; "
          f"full speed: {args.ops} ops per verb, {args.concurrency} concurrent clients")
    print()
    header = f"{'verb':<8} {'p50 ms @50/s':>13} {'p99 ms @50/s':>13} {'full ops/s':>11} {'raw etcd ops/s':>15} {'ratio':>7}"
    print(header)
    print("-" * len(header))
    for verb in ("create", "get", "list", "update", "delete"):
        baseline = raw["get"] if verb == "get" else raw["put"] if verb in ("create", "update", "delete") else None
        ratio = f"{fast[verb] / baseline:.2f}" if baseline else "-"
        base_txt = f"{baseline:.0f}" if baseline else "-"
        print(f"{verb:<8} {pct(lat[verb], 50):>13.1f} {pct(lat[verb], 99):>13.1f} {fast[verb]:>11.0f} "
              f"{base_txt:>15} {ratio:>7}")
    writes = statistics.mean([fast["create"], fast["update"], fast["delete"]])
    print()
    print(f"writes: {writes:.0f}/s = {writes / raw['put']:.0%} of raw aetcd puts ({raw['put']:.0f}/s); "
          f"targets: p99 <= 50 ms writes, <= 20 ms gets at 50 ops/s; writes >= 50% of raw puts")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ops", type=int, default=2000, help="operations per verb at full speed")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=20.0, help="length of the steady phase")
    parser.add_argument("--watchers", type=int, default=20)
    args = benchutil.parse_args(parser, {"ops": 40, "concurrency": 4, "seconds": 1.0, "watchers": 2})
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
