#!/usr/bin/env python3
"""Deployment roll-out benchmark: minik8s vs Docker Swarm vs raw `docker run`, same run.

Starts its own etcd, API server, controller manager, scheduler and kubelet (on the
local engine, with a private pod network), then for each N (default 10 and 20) and
each round, in alternating order:

 - minik8s: create a Deployment of N replicas (minik8s/web:1, image present) and
   time until N pods are Running and Ready, observed through a watch;
 - Swarm: a service of N replicas of the same image on the local engine (swarm
   initialised for the run on 127.0.0.1 and left afterwards if it was not active),
   timed until N tasks run. The image is given by ID so Swarm never tries a pull;
 - raw floor: N pause + app pairs by parallel `docker run` (pod_startup.raw_round);
 - one container: N app containers alone by parallel `docker run`, no pause container
   (what a Swarm task is): the floor for one container per replica.

Prints medians and the ratios (goals: <= 1.0x Swarm, <= 1.15x the raw floor).

Usage: .venv/bin/python bench/rollout.py [--sizes 10,20] [--rounds 3]
"""
from __future__ import annotations

import argparse
import asyncio
import datetime
import os
import pathlib
import platform
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from typing import Any

import docker
import docker.types
import psutil

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import benchutil  # noqa: E402
import pod_startup  # noqa: E402  (the shared harness: cluster processes, raw floor)

from minik8s.api import resources  # noqa: E402
from minik8s.client import rest  # noqa: E402
from minik8s.images import build as images  # noqa: E402
from minik8s.util import procs  # noqa: E402

DEPLOYMENTS = resources.must("apps", "v1", "deployments")
PODS = resources.must("", "v1", "pods")
NAMESPACES = resources.must("", "v1", "namespaces")


class Cluster(pod_startup.Cluster):
    """pod_startup's etcd + API server + kubelet, plus the scheduler and controller manager."""

    def start(self) -> None:
        super().start()
        self.pids["controller-manager"] = self._spawn("controller-manager", [
            sys.executable, "-m", "minik8s", "controller-manager", "--kubeconfig",
            self.kubeconfig("controller-manager"), "--no-leader-elect",
            "--controllers", "deployment,replicaset,garbagecollector,namespace"]).pid
        self.pids["scheduler"] = self._spawn("scheduler", [
            sys.executable, "-m", "minik8s", "scheduler", "--kubeconfig", self.kubeconfig("scheduler"),
            "--no-leader-elect"]).pid

    def kubeconfig(self, component: str) -> str:
        assert self.pki is not None
        return self.pki.kubeconfig(component)


def deployment(name: str, replicas: int) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"terminationGracePeriodSeconds": 2,
                                           "containers": [{"name": "web", "image": images.WEB_IMAGE}]}}}}


async def minik8s_round(client: rest.Client, n: int) -> float:
    ns = "bench-" + uuid.uuid4().hex[:8]
    await client.create(NAMESPACES, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    rv = (await client.list(PODS, ns))["metadata"]["resourceVersion"]
    ready: set[str] = set()
    all_ready = asyncio.Event()

    async def watch() -> None:
        async for ev in client.watch(PODS, ns, resource_version=rv):
            obj = ev.get("object") or {}
            if ev.get("type") in ("ADDED", "MODIFIED") and pod_startup.ready(obj):
                ready.add(obj["metadata"]["name"])
                if len(ready) >= n:
                    all_ready.set()
                    return

    watcher = asyncio.get_running_loop().create_task(watch())
    await asyncio.sleep(0.2)  # let the watch connect before the clock starts
    started = time.perf_counter()
    await client.create(DEPLOYMENTS, deployment("web", n), ns)
    await asyncio.wait_for(all_ready.wait(), 180)
    elapsed = time.perf_counter() - started
    watcher.cancel()
    await client.delete(NAMESPACES, ns)  # cascades: Deployment, ReplicaSet, pods
    await procs.wait_for_async(lambda: _gone(client, ns), 180, interval=0.2, what="namespace removed")
    return elapsed


async def _gone(client: rest.Client, ns: str) -> bool:
    return await client.get_or_none(NAMESPACES, ns) is None


def swarm_round(dc: docker.DockerClient, image_id: str, n: int) -> float:
    name = "bench-" + uuid.uuid4().hex[:6]
    started = time.perf_counter()
    service = dc.services.create(image_id, name=name, mode=docker.types.ServiceMode("replicated", replicas=n),
                                 stop_grace_period=2 * 10**9)
    try:
        procs.wait_for(lambda: sum(1 for t in service.tasks() if t["Status"]["State"] == "running") >= n,
                       180, interval=0.05, what=f"{n} swarm tasks running")
        return time.perf_counter() - started
    finally:
        service.remove()
        procs.wait_for(lambda: not dc.api.containers(all=True, filters={"label": f"com.docker.swarm.service.name={name}"}),
                       120, interval=0.2, what="swarm containers removed")


async def run(args: argparse.Namespace) -> None:
    dc = benchutil.docker_engine()
    images.build_images(dc, log=lambda m: print(m, file=sys.stderr))
    image_id = dc.images.get(images.WEB_IMAGE).id  # by ID: Swarm skips its pull attempt
    swarm_was_active = dc.info().get("Swarm", {}).get("LocalNodeState") == "active"
    pod_startup.remove_labelled(dc, "bench-raw")
    network = "bench-" + uuid.uuid4().hex[:6]
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="minik8s-bench-"))
    cluster = Cluster(tmp, pod_startup.free_subnet(dc), network)
    results: dict[int, dict[str, list[float]]] = {}
    try:
        if not swarm_was_active:
            dc.swarm.init(advertise_addr="127.0.0.1", listen_addr="127.0.0.1:2377")
        cluster.start()
        assert cluster.pki is not None
        async with cluster.pki.client() as client:
            for n in args.sizes:
                res = results[n] = {"minik8s": [], "swarm": [], "raw": [], "single": []}
                # One untimed warm-up of each.
                await minik8s_round(client, n)
                await asyncio.to_thread(swarm_round, dc, image_id, n)
                await asyncio.to_thread(pod_startup.raw_round, dc, network, n)
                for r in range(args.rounds):
                    order = list(res)
                    order = order[r % len(order):] + order[:r % len(order)]
                    for which in order:
                        if which == "minik8s":
                            res[which].append(await minik8s_round(client, n))
                        elif which == "swarm":
                            res[which].append(await asyncio.to_thread(swarm_round, dc, image_id, n))
                        else:
                            res[which].append(await asyncio.to_thread(pod_startup.raw_round, dc, network, n,
                                                                      which == "raw"))
                    print(f"N={n} round {r + 1}: " + ", ".join(f"{k} {v[-1]:.2f}s" for k, v in res.items()),
                          file=sys.stderr)
    finally:
        cluster.stop()
        pod_startup.remove_labelled(dc, "bench-raw")
        pod_startup.remove_labelled(dc, cluster.node)
        try:
            dc.api.remove_network(network)
        except docker.errors.APIError:
            pass
        if not swarm_was_active:
            dc.swarm.leave(force=True)
            # Leaving keeps the bridge `swarm init` made; it was not there before.
            for net in dc.api.networks(names=["docker_gwbridge"]):
                try:
                    dc.api.remove_network(net["Id"])
                except docker.errors.APIError as e:
                    print(f"warning: could not remove docker_gwbridge: {e}", file=sys.stderr)
        shutil.rmtree(tmp, ignore_errors=True)
    machine = (f"{platform.node()}: {psutil.cpu_count()} CPUs, {psutil.virtual_memory().total // 2**30} GiB, "
               f"docker {dc.version().get('Version')}")
    print(f"\ndeployment roll-out, {datetime.date.today()}, {machine}, {args.rounds} rounds (median)")
    print(f"{'replicas':>8} {'minik8s (s)':>12} {'swarm (s)':>10} {'raw (s)':>8} {'one ctr (s)':>12} "
          f"{'vs swarm':>9} {'vs raw':>7} {'swarm vs one ctr':>17}")
    for n, res in results.items():
        m, s, r, one = (statistics.median(res[k]) for k in ("minik8s", "swarm", "raw", "single"))
        print(f"{n:>8} {m:>12.2f} {s:>10.2f} {r:>8.2f} {one:>12.2f} {m / s:>9.2f} {m / r:>7.2f} {s / one:>17.2f}")
    print(f"load average now: {os.getloadavg()[0]:.1f}")
    dc.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10,20", help="comma-separated replica counts")
    parser.add_argument("--rounds", type=int, default=3)
    args = benchutil.parse_args(parser, {"sizes": "2", "rounds": 1})
    args.sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
