#!/usr/bin/env python3
"""API server benchmark: pod create/get/list/update/delete against raw aetcd, same run,
and the price of TLS + authentication + authorization against the same server without them.

Starts its own etcd and, one after the other, two API servers on it:
- secured: the real `minik8s apiserver` (HTTPS only, a client certificate per request
  authenticated, the authorizer asked), with a PKI made for the run;
- plain: the same ApiServer routes served without TLS and without the authentication and
  authorization middlewares. That path exists only here, inside this benchmark's own
  server process (`--serve-plain`, not an option of minik8s): it is the yardstick.
For each: a steady 50 ops/s mix with 20 open watchers (latency p50/p99 per verb), then
full speed with C concurrent clients (throughput per verb). Before them, raw aetcd
put/get throughput from one process (the baseline of both). Prints one table with the
ratio of API writes to raw etcd puts and the cost of security per verb.

Usage: .venv/bin/python bench/api.py [--ops 2000] [--concurrency 16]
"""
from __future__ import annotations

import argparse
import asyncio
import os
import pathlib
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any, Awaitable, Callable

import aetcd
import psutil

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

import benchutil

from minik8s.api import resources
from minik8s.client import kubeconfig
from minik8s.client import rest
from minik8s.cluster import pki as cluster_pki
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


class CPU:
    """CPU seconds (user + system) of the API server process and of this one (the clients):
    unlike throughput, barely moved by whatever else the machine runs meanwhile."""

    def __init__(self, server_pid: int) -> None:
        self.procs = [psutil.Process(server_pid), psutil.Process()]

    def now(self) -> float:
        return sum(sum(p.cpu_times()[:2]) for p in self.procs)


async def full_speed(client: rest.Client, ns: str, n: int, concurrency: int,
                     cpu: CPU | None = None) -> tuple[dict[str, float], dict[str, float]]:
    """(ops/s per verb, CPU ms per op of server + client per verb)."""
    rate: dict[str, float] = {}
    cost: dict[str, float] = {}
    verbs: dict[str, tuple[int, int, Callable[[int], Awaitable[Any]]]] = {
        "create": (n, concurrency, lambda i: client.create(PODS, pod(f"fs-{i}"), ns)),
        "get": (n, concurrency, lambda i: client.get(PODS, f"fs-{i}", ns)),
        "update": (n, concurrency,
                   lambda i: client.patch(PODS, f"fs-{i}", {"metadata": {"labels": {"u": "1"}}}, ns)),
        "list": (max(20, n // 100), min(concurrency, 4), lambda i: client.list(PODS, ns, label_selector="app=bench")),
        "delete": (n, concurrency, lambda i: client.delete(PODS, f"fs-{i}", ns)),
    }
    for verb, (count, conc, op) in verbs.items():
        before = cpu.now() if cpu else 0.0
        rate[verb], _ = await run_concurrent(count, conc, op)
        cost[verb] = (cpu.now() - before) / count * 1000 if cpu else float("nan")
    return rate, cost


async def serve_plain(etcd_endpoint: str, port: int, prefix: str) -> None:
    """The yardstick: the API server's routes on plain HTTP, no authentication, no authorization."""
    import signal

    from aiohttp import web

    from minik8s.apiserver import server

    srv = server.ApiServer(server.Config(etcd_endpoints=[etcd_endpoint], etcd_prefix=prefix,
                                         bind_address="127.0.0.1", port=port))
    await srv.prepare()
    runner = web.AppRunner(srv.build_app([server.error_middleware]), access_log=None, handle_signals=False)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port, reuse_address=True).start()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()
    await srv.stop()


def start_server(mode: str, tmp: pathlib.Path, etcd: procs.EtcdProcess, port: int, log: Any,
                 pki_dir: pathlib.Path) -> subprocess.Popen[bytes]:
    prefix = f"/bench-{mode}"
    if mode == "plain":
        argv = [sys.executable, __file__, "--serve-plain", etcd.endpoint, str(port), prefix]
    else:
        p = cluster_pki.paths(pki_dir)
        argv = [sys.executable, "-m", "minik8s", "apiserver", "--etcd-endpoints", etcd.endpoint, "--etcd-prefix",
                prefix, "--port", str(port), "--bind-address", "127.0.0.1", "--tls-cert-file", str(p.apiserver_crt),
                "--tls-private-key-file", str(p.apiserver_key), "--client-ca-file", str(p.ca_crt),
                "--service-account-key-file", str(p.sa_pub)]
    return subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, cwd=str(pathlib.Path(__file__).parent.parent))


async def ready(client: rest.Client, what: str) -> None:
    async def answers() -> bool:
        try:
            await client.request("GET", "/readyz")
            return True
        except Exception:  # noqa: BLE001
            return False
    await procs.wait_for_async(answers, 60, what=what)


def median_of(rounds: list[dict[str, float]]) -> dict[str, float]:
    return {verb: statistics.median(r[verb] for r in rounds) for verb in rounds[0]}


async def main_async(args: argparse.Namespace) -> None:
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="minik8s-bench-"))
    etcd = procs.EtcdProcess(str(tmp / "etcd"))
    etcd.start()
    pki_dir = tmp / "pki"
    cluster_pki.ensure_master(pki_dir, server="https://127.0.0.1", addresses=["127.0.0.1"],
                              service_cidr="10.96.0.0/12")
    admin = kubeconfig.load(cluster_pki.paths(pki_dir).admin_conf).tls()
    servers: dict[str, subprocess.Popen[bytes]] = {}
    clients: dict[str, rest.Client] = {}
    lat: dict[str, dict[str, list[float]]] = {}
    fast: dict[str, list[dict[str, float]]] = {"plain": [], "secured": []}
    cpu: dict[str, list[dict[str, float]]] = {"plain": [], "secured": []}
    try:
        raw = await raw_etcd(etcd.endpoint, args.ops, args.concurrency)
        for mode in ("plain", "secured"):
            port = procs.free_port()
            with open(tmp / f"apiserver-{mode}.log", "wb") as log:
                servers[mode] = start_server(mode, tmp, etcd, port, log, pki_dir)
            url = f"{'http' if mode == 'plain' else 'https'}://127.0.0.1:{port}"
            clients[mode] = rest.Client(url, tls=None if mode == "plain" else admin,
                                        limit=args.concurrency * 2 + args.watchers + 4)
            await ready(clients[mode], f"the {mode} API server")
            await clients[mode].create(NAMESPACES, {"metadata": {"name": "bench"}})
            await benchutil.default_service_account(clients[mode], "bench")
        for mode in ("plain", "secured"):
            lat[mode] = await steady(clients[mode], "bench", 50.0, args.seconds, args.watchers)
        # Both servers stay up; the full-speed rounds alternate between them, so a burst of
        # load from elsewhere on the machine hits both alike, and the medians are compared.
        for i in range(args.rounds):
            for mode in (("plain", "secured") if i % 2 == 0 else ("secured", "plain")):
                rate, cost = await full_speed(clients[mode], "bench", args.ops, args.concurrency,
                                              CPU(servers[mode].pid))
                fast[mode].append(rate)
                cpu[mode].append(cost)
    finally:
        for client in clients.values():
            await client.close()
        for api in servers.values():
            procs.stop_pid(api.pid)
            api.wait()
        etcd.stop()
        subprocess.run(["rm", "-rf", str(tmp)], check=False)
    results = {mode: (lat[mode], median_of(fast[mode])) for mode in ("plain", "secured")}
    cpu_ms = {mode: median_of(cpu[mode]) for mode in ("plain", "secured")}

    print(f"minik8s API benchmark — {time.strftime('%Y-%m-%d')}, {platform.node()}, "
          f"{platform.machine()}, python {platform.python_version()}")
    print(f"steady: 50 ops/s for {args.seconds:g}s with {args.watchers} watchers; "
          f"full speed: {args.ops} ops per verb, {args.concurrency} concurrent clients, median of "
          f"{args.rounds} alternating rounds per server")
    print("secured = HTTPS + client-certificate authentication + authorization (the only way minik8s serves);")
    print("plain   = the same routes without them, served only by this benchmark, as the yardstick")
    print()
    lat, fast = results["secured"]
    plain_lat, plain = results["plain"]
    header = (f"{'verb':<8} {'p50 ms @50/s':>13} {'p99 ms @50/s':>13} {'full ops/s':>11} {'plain ops/s':>12} "
              f"{'cost':>7} {'raw etcd ops/s':>15} {'ratio':>7}")
    print(header)
    print("-" * len(header))
    for verb in ("create", "get", "list", "update", "delete"):
        baseline = raw["get"] if verb == "get" else raw["put"] if verb in ("create", "update", "delete") else None
        ratio = f"{fast[verb] / baseline:.2f}" if baseline else "-"
        base_txt = f"{baseline:.0f}" if baseline else "-"
        cost = 1 - fast[verb] / plain[verb]
        print(f"{verb:<8} {pct(lat[verb], 50):>13.1f} {pct(lat[verb], 99):>13.1f} {fast[verb]:>11.0f} "
              f"{plain[verb]:>12.0f} {cost:>7.1%} {base_txt:>15} {ratio:>7}")
    writes = statistics.mean([fast["create"], fast["update"], fast["delete"]])
    plain_writes = statistics.mean([plain["create"], plain["update"], plain["delete"]])
    print()
    print("p50 ms plain @50/s: " + ", ".join(f"{v} {pct(plain_lat[v], 50):.1f}" for v in plain_lat))
    print(f"writes: {writes:.0f}/s = {writes / raw['put']:.0%} of raw aetcd puts ({raw['put']:.0f}/s); "
          f"targets: p99 <= 50 ms writes, <= 20 ms gets at 50 ops/s; writes >= 50% of raw puts")
    print(f"security: writes {writes:.0f}/s secured vs {plain_writes:.0f}/s plain = "
          f"{1 - writes / plain_writes:.1%} slower (goal: <= 15%)")
    print("CPU ms per op (API server + clients, median of the rounds): " + ", ".join(
        f"{v} {cpu_ms['plain'][v]:.2f} -> {cpu_ms['secured'][v]:.2f} (+{cpu_ms['secured'][v] / cpu_ms['plain'][v] - 1:.0%})"
        for v in ("create", "get", "update", "delete")))
    write_cpu = {m: statistics.mean([cpu_ms[m][v] for v in ("create", "update", "delete")]) for m in cpu_ms}
    print(f"security in CPU: a write costs {write_cpu['secured']:.2f} ms secured vs {write_cpu['plain']:.2f} ms "
          f"plain = +{write_cpu['secured'] / write_cpu['plain'] - 1:.1%} (etcd's share, the same for both, "
          "not counted); load average during the run: "
          + ", ".join(f"{x:.1f}" for x in os.getloadavg()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ops", type=int, default=2000, help="operations per verb at full speed")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=20.0, help="length of the steady phase")
    parser.add_argument("--watchers", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3, help="full-speed rounds per server (alternating)")
    # Internal: this script's own unsecured server process (see the module docstring).
    parser.add_argument("--serve-plain", nargs=3, metavar=("ETCD", "PORT", "PREFIX"), help=argparse.SUPPRESS)
    args = benchutil.parse_args(parser, {"ops": 40, "concurrency": 4, "seconds": 1.0, "watchers": 2, "rounds": 1})
    if args.serve_plain:
        etcd_endpoint, port, prefix = args.serve_plain
        asyncio.run(serve_plain(etcd_endpoint, int(port), prefix))
        return
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
