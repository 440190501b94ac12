#!/usr/bin/env python3
"""Deployment roll-out benchmark: minik8s vs Docker Swarm vs raw `docker run`, same run.

Starts its own etcd, API server, controller manager, scheduler and kubelet (on the
local engine, pods networked by CNI on a private bridge), and (unless --no-up) a
second cluster exactly as `make up` starts it (`minik8s up` in a temporary state
directory: the same components from their rendered configs, plus the network
agent, the proxy and the cluster DNS), then for each N (default 10 and 20) and
each round, in rotating order:

 - minik8s (bench cluster) and minik8s (`make up` cluster): create a Deployment of N
   replicas (minik8s/web:1, image present) and time until N pods are Running and
   Ready, observed through a watch;
 - Swarm: a service of N replicas of the same image on the local engine (swarm
   initialised for the run on 127.0.0.1 and left afterwards if it was not active),
   timed until N tasks run. The image is given by ID so Swarm never tries a pull;
 - raw floor: N pause + app pairs by parallel `docker run` (pod_startup.raw_round);
 - one container: N app containers alone by parallel `docker run`, no pause container
   (what a Swarm task is): the floor for one container per replica.

Prints medians and the ratios (goals: <= 1.0x Swarm, <= 1.05x the raw floor).

Usage: .venv/bin/python bench/rollout.py [--sizes 10,20] [--rounds 3] [--no-up] [--smoke]
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
import subprocess
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
from minik8s.client import kubeconfig  # noqa: E402
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
            "--controllers", "deployment,replicaset,garbagecollector,namespace,serviceaccount,root-ca-cert-publisher"]).pid
        self.pids["scheduler"] = self._spawn("scheduler", [
            sys.executable, "-m", "minik8s", "scheduler", "--kubeconfig", self.kubeconfig("scheduler"),
            "--no-leader-elect"]).pid

    def kubeconfig(self, component: str) -> str:
        assert self.pki is not None
        return self.pki.kubeconfig(component)


class UpCluster:
    """The cluster `make up` starts (`minik8s up`), in a temporary state directory, on free
    ports, with a node name, pod CIDR and bridge of its own so nothing else is touched."""

    def __init__(self, tmp: pathlib.Path, cluster_cidr: str) -> None:
        self.state = tmp / "up"
        self.node = "bench-up-" + uuid.uuid4().hex[:6]
        self.port = procs.free_port()
        self.url = f"https://127.0.0.1:{self.port}"
        self.cluster_cidr = cluster_cidr
        self.minik8s = [sys.executable, "-m", "minik8s"]

    def start(self) -> None:
        sets = [f"kubelet.port={procs.free_port()}", f"dns.port={procs.free_port()}",
                f"controller-manager.cluster-cidr={self.cluster_cidr}",
                f"network-agent.cluster-cidr={self.cluster_cidr}", f"proxy.cluster-cidr={self.cluster_cidr}",
                f"network-agent.cni-bridge=mk8sbu{self.node[-6:]}",
                f"proxy.metrics-bind-address=127.0.0.1:{procs.free_port()}"]
        argv = [*self.minik8s, "up", "--state-dir", str(self.state), "--port", str(self.port),
                "--etcd-client-port", str(procs.free_port()), "--etcd-peer-port", str(procs.free_port()),
                "--node-ip", "127.0.0.1", "--node-name", self.node, "--kubeconfig", str(self.state / "kubeconfig")]
        for item in sets:
            argv += ["--set", item]
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=300)
        if proc.returncode != 0:
            raise RuntimeError(f"minik8s up failed: {proc.stdout}\n{proc.stderr}")

    def client(self) -> rest.Client:
        """As the admin `minik8s up` wrote the kubeconfig for (its CA, certificate and key)."""
        return rest.Client(self.url, tls=kubeconfig.load(self.state / "kubeconfig").tls())

    def pids(self) -> dict[str, int]:
        out = {}
        for name in ("apiserver", "controller-manager", "scheduler", "kubelet", "etcd"):
            pid = procs.read_pidfile(str(self.state / "run" / f"{name}.pid"))
            if pid:
                out[name] = pid
        return out

    def stop(self) -> None:
        subprocess.run([*self.minik8s, "down", "--state-dir", str(self.state)], capture_output=True, timeout=300,
                       check=False)


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
    cidr = pod_startup.free_subnet(dc)
    raw_cidr = pod_startup.free_subnet(dc, [cidr])
    pod_startup.docker_network(dc, network, raw_cidr)
    cluster = Cluster(tmp, cidr, network)
    up = None if args.no_up else UpCluster(tmp, "10.242.0.0/16")
    results: dict[int, dict[str, list[float]]] = {}
    clients: dict[str, rest.Client] = {}
    try:
        if not swarm_was_active:
            dc.swarm.init(advertise_addr="127.0.0.1", listen_addr="127.0.0.1:2377")
        cluster.start()
        assert cluster.pki is not None
        clients["minik8s"] = cluster.pki.client()
        if up is not None:
            try:
                up.start()
                clients["make up"] = up.client()
            except RuntimeError as e:  # the bench cluster's figures are still worth having
                print(f"warning: the `make up` cluster did not start, measuring without it: {e}", file=sys.stderr)
        for n in args.sizes:
            res = results[n] = {k: [] for k in (*clients, "swarm", "raw", "single")}

            async def one(which: str) -> float:
                if which in clients:
                    return await minik8s_round(clients[which], n)
                if which == "swarm":
                    return await asyncio.to_thread(swarm_round, dc, image_id, n)
                return await asyncio.to_thread(pod_startup.raw_round, dc, network, n, which == "raw")

            for which in res:  # one untimed warm-up of each
                await one(which)
            for r in range(args.rounds):
                order = list(res)
                order = order[r % len(order):] + order[:r % len(order)]
                for which in order:
                    res[which].append(await one(which))
                print(f"N={n} round {r + 1}: " + ", ".join(f"{k} {v[-1]:.2f}s" for k, v in res.items()),
                      file=sys.stderr)
    finally:
        for c in clients.values():
            await c.close()
        cluster.stop()
        if up is not None:
            up.stop()
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
    names = [k for k in ("minik8s", "make up") if k in clients]
    print("| replicas | " + " | ".join(f"minik8s ({'bench' if k == 'minik8s' else k} cluster)" for k in names) +
          " | Swarm | raw pause + app | raw one container | " +
          " | ".join(f"{'bench' if k == 'minik8s' else k}: vs Swarm | vs raw" for k in names) + " | Swarm vs one ctr |")
    print("|---" * (1 + len(names) + 3 + 2 * len(names) + 1) + "|")
    for n, res in results.items():
        med = {k: statistics.median(v) for k, v in res.items()}
        cells = [f"{med[k]:.2f} s" for k in names] + [f"{med['swarm']:.2f} s", f"{med['raw']:.2f} s",
                                                       f"{med['single']:.2f} s"]
        for k in names:
            cells += [f"**{med[k] / med['swarm']:.2f}**", f"**{med[k] / med['raw']:.2f}**"]
        cells.append(f"{med['swarm'] / med['single']:.2f}")
        print(f"| {n} | " + " | ".join(cells) + " |")
    print(f"load average now: {os.getloadavg()[0]:.1f}")
    dc.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10,20", help="comma-separated replica counts")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-up", action="store_true", help="Leave out the `make up` cluster.")
    # --smoke leaves out the `make up` cluster too: its start-up is most of a smoke run.
    args = benchutil.parse_args(parser, {"sizes": "2", "rounds": 1, "no_up": True})
    args.sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
