#!/usr/bin/env python3
"""High-availability benchmark (issue 14): leader failover time, and what 3 etcd members cost.

Brings up local clusters with 3 stacked masters (`minik8s cluster up --masters 3 --etcd
stacked --nodes 1`, their own names, subnets and state directories) and reports:

 - leader failover, once with Kubernetes' default election timing (lease 15 s, renew
   deadline 10 s, retry 2 s) and once with a short one (4 s / 3 s / 1 s, passed as an
   operator would: `--set controller-manager.lease-duration=4 ...`): the master whose
   controller manager holds the kube-controller-manager Lease is powered off (`cluster
   stop-master`: every process of the master SIGKILLed, its namespace gone) and a
   Deployment of --replicas pods is rolled at once (a new template annotation, written
   through a surviving API server), so the roll-out's first step is the new leader's work.
   Timed from the kill:
     * new leader: the Lease's acquireTime as the new holder wrote it (microseconds, the
       same host clock), checked by polling that the holder changed;
     * roll-out moving: the first pod of the new ReplicaSet (polled every 0.05 s through
       the surviving API servers).
   Goal: <= lease duration + 2 s. The master is started again and the roll-out finished
   between rounds.
 - etcd's cost on writes: ConfigMap creates/s through one API server, --writers in flight,
   on the 3-master cluster (every write a raft round among 3 members) against a 1-master
   cluster (etcd alone) brought up in the same run: the baseline.

Prints a markdown table. No figure is asserted.

Usage: .venv/bin/python bench/ha.py [--rounds 3] [--replicas 10] [--writes 2000] [--writers 16] [--smoke]
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

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

import benchutil

from minik8s.api import errors
from minik8s.api import resources
from minik8s.client import kubeconfig
from minik8s.client import rest
from minik8s.cluster import lifecycle
from minik8s.util import procs

MINIK8S = [sys.executable, "-m", "minik8s"]
PODS = resources.must("", "v1", "pods")
DEPLOYMENTS = resources.must("apps", "v1", "deployments")
REPLICASETS = resources.must("apps", "v1", "replicasets")
CONFIGMAPS = resources.must("", "v1", "configmaps")
NAMESPACES = resources.must("", "v1", "namespaces")
LEASES = resources.must("coordination.k8s.io", "v1", "leases")
LEASE = "kube-controller-manager"
TIMINGS = {"default": (15, 10, 2), "short": (4, 3, 1)}  # lease, renew deadline, retry (s)


class LocalCluster:
    def __init__(self, tmp: pathlib.Path, masters: int, timing: tuple[int, int, int] | None) -> None:
        self.name = "bha" + uuid.uuid4().hex[:5]
        self.base = tmp / self.name
        self.state = str(self.base / "cluster")
        self.kubeconfig = str(self.base / "kubeconfig")
        self.masters = masters
        self.timing = timing

    def up(self) -> float:
        sets = []
        if self.timing is not None:
            lease, renew, retry = self.timing
            for comp in ("controller-manager", "scheduler"):
                sets += [f"{comp}.lease-duration={lease}", f"{comp}.renew-deadline={renew}",
                         f"{comp}.retry-period={retry}"]
        argv = [*MINIK8S, "cluster", "up", "--name", self.name, "--state-dir", self.state, "--nodes", "1",
                "--subnet", benchutil.free_subnet(), "--kubeconfig", self.kubeconfig,
                *[a for s in sets for a in ("--set", s)]]
        argv += ["--masters", str(self.masters), "--etcd", "stacked"] if self.masters > 1 else \
            ["--port", str(procs.free_port())]
        t0 = time.monotonic()
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SystemExit(f"cluster up failed:\n{done.stdout}\n{done.stderr}")
        return time.monotonic() - t0

    def down(self) -> None:
        subprocess.run([*MINIK8S, "cluster", "down", "--name", self.name, "--state-dir", self.state],
                       capture_output=True, check=False)

    def client(self, first: str | None = None, **kw: Any) -> rest.Client:
        """Our failover client on every API server, `first` first."""
        access = kubeconfig.load(self.kubeconfig)
        servers = list(access.servers or [access.server])
        if first is not None:
            servers = [first, *(s for s in servers if s != first)]
        return rest.Client(servers, token=access.token, tls=access.tls(), timeout=15, **kw)

    def master_of(self, identity: str) -> str | None:
        for log in sorted(pathlib.Path(self.state, "masters").glob("master*/logs/controller-manager.log")):
            if identity and identity in log.read_text(errors="replace"):
                return log.parents[1].name
        return None

    def ip_of(self, master: str) -> str:
        return str(next(m["ip"] for m in lifecycle.status(self.state)["masters"] if m["name"] == master))

    def all_healthy(self) -> bool:
        st = lifecycle.status(self.state)
        return all(m["etcdHealthy"] and m["apiReady"] for m in st.get("masters", []))


async def poll(predicate: Any, timeout: float, what: str, interval: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        try:
            got = await predicate()
        except (errors.StatusError, OSError):
            got = None  # mid-failover: asked again
        if got:
            return got
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out after {timeout:g}s waiting for {what}")
        await asyncio.sleep(interval)


def deployment(replicas: int) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                     "strategy": {"type": "RollingUpdate",
                                  "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
                     "template": {"metadata": {"labels": {"app": "web"}},
                                  "spec": {"terminationGracePeriodSeconds": 2,
                                           "containers": [{"name": "web", "image": "minik8s/web:1",
                                                           "imagePullPolicy": "IfNotPresent"}]}}}}


def parse_time(value: str) -> float:
    return datetime.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


async def rolled(client: rest.Client, ns: str, replicas: int) -> bool:
    d = await client.get(DEPLOYMENTS, "web", ns)
    s = d.get("status") or {}
    return (s.get("observedGeneration") or 0) >= d["metadata"]["generation"] and \
        all(s.get(k) == replicas for k in ("updatedReplicas", "replicas", "availableReplicas"))


async def failover_round(c: LocalCluster, client: rest.Client, ns: str, replicas: int, rev: int) -> dict[str, float]:
    """Kill the controller-manager leader's master, then roll the Deployment at once: its
    first step (the new ReplicaSet and its first pods) is the new leader's work."""
    lease = await client.get(LEASES, LEASE, "kube-system")
    old = str(lease["spec"]["holderIdentity"])
    victim = c.master_of(old)
    if victim is None:
        raise SystemExit(f"no master's controller manager is {old!r}")
    old_rs = {r["metadata"]["uid"] for r in (await client.list(REPLICASETS, ns))["items"]}
    # Ask the survivors: the bench measures the control plane, not our client's connect timeout.
    first = next(s for s in client.servers if not s.startswith(f"https://{c.ip_of(victim)}:"))
    async with c.client(first) as survivors:
        return await _kill_and_roll(c, survivors, ns, replicas, rev, victim, old, old_rs)


async def _kill_and_roll(c: LocalCluster, client: rest.Client, ns: str, replicas: int, rev: int, victim: str,
                         old: str, old_rs: set[str]) -> dict[str, float]:
    killed_wall = time.time()
    t0 = time.monotonic()
    await asyncio.to_thread(lifecycle.stop_master, c.state, victim)
    marks: dict[str, float] = {"kill": time.monotonic() - t0}
    await client.patch(DEPLOYMENTS, "web", {"spec": {"template": {"metadata": {"annotations": {
        "bench/rev": str(rev)}}}}}, ns)

    async def moved() -> bool:
        now = time.monotonic() - t0
        if "holder_seen" not in marks:
            got = await client.get(LEASES, LEASE, "kube-system")
            spec = got.get("spec") or {}
            if spec.get("holderIdentity") and spec["holderIdentity"] != old:
                marks["holder_seen"] = now
                marks["new_leader"] = parse_time(spec["acquireTime"]) - killed_wall
        if "moving" not in marks and any(
                r.get("uid") not in old_rs for p in (await client.list(PODS, ns))["items"]
                for r in p["metadata"].get("ownerReferences") or []):
            marks["moving"] = now
        return "holder_seen" in marks and "moving" in marks
    await poll(moved, 120, "a new leader and the roll-out moving", interval=0.05)
    await asyncio.to_thread(lifecycle.start_master, c.state, lambda _m: None, victim)
    await poll(lambda: asyncio.to_thread(c.all_healthy), 120, "every master healthy again", interval=0.5)
    await poll(lambda: rolled(client, ns, replicas), 180, "the roll-out to finish")
    return marks


async def failover(c: LocalCluster, rounds: int, replicas: int) -> list[dict[str, float]]:
    async with c.client() as client:
        ns = "bench"
        await client.create(NAMESPACES, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
        await poll(lambda: client.get_or_none(resources.must("", "v1", "serviceaccounts"), "default", ns), 60,
                   "the default ServiceAccount")
        await client.create(DEPLOYMENTS, deployment(replicas), ns)
        await poll(lambda: rolled(client, ns, replicas), 180, "the Deployment available")
        results = []
        for r in range(rounds):
            marks = await failover_round(c, client, ns, replicas, r + 2)
            results.append(marks)
            print(f"  round {r + 1}: new leader {marks['new_leader']:.2f}s (holder seen {marks['holder_seen']:.2f}s), "
                  f"roll-out moving {marks['moving']:.2f}s after the kill", flush=True)
        return results


async def writes(c: LocalCluster, count: int, writers: int) -> float:
    """ConfigMap creates/s through the first API server, `writers` in flight."""
    async with c.client(limit=writers) as client:
        ns = "w" + uuid.uuid4().hex[:6]
        await client.create(NAMESPACES, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
        todo = iter(range(count))

        async def writer() -> None:
            for i in todo:
                await client.create(CONFIGMAPS, {"apiVersion": "v1", "kind": "ConfigMap",
                                                 "metadata": {"name": f"c{i}"}, "data": {"k": "v" * 64}}, ns)
        t0 = time.monotonic()
        await asyncio.gather(*(writer() for _ in range(writers)))
        took = time.monotonic() - t0
        await client.delete(NAMESPACES, ns)
        return count / took


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="leader kills per election timing")
    parser.add_argument("--replicas", type=int, default=10, help="replicas of the rolled Deployment")
    parser.add_argument("--writes", type=int, default=2000, help="ConfigMaps created per throughput run")
    parser.add_argument("--writers", type=int, default=16, help="creates in flight")
    parser.add_argument("--timings", default="default,short", help="election timings to measure: default,short")
    args = benchutil.parse_args(parser, {"rounds": 1, "replicas": 2, "writes": 100, "writers": 4,
                                         "timings": "short"})
    if os.geteuid() != 0:
        raise SystemExit("run as root: the local cluster creates namespaces, links and cgroups")
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="minik8s-bench-ha-"))
    failovers: dict[str, list[dict[str, float]]] = {}
    rates: dict[int, float] = {}
    ups: dict[str, float] = {}
    try:
        for which in [t for t in args.timings.split(",") if t]:
            c = LocalCluster(tmp, 3, TIMINGS[which])
            try:
                ups[f"3 masters ({which} lease)"] = c.up()
                print(f"3 masters, {which} election timing {TIMINGS[which]}: up in {ups[f'3 masters ({which} lease)']:.1f}s",
                      flush=True)
                failovers[which] = asyncio.run(failover(c, args.rounds, args.replicas))
                if 3 not in rates:
                    rates[3] = asyncio.run(writes(c, args.writes, args.writers))
                    print(f"  writes through one API server, 3 etcd members: {rates[3]:.0f}/s", flush=True)
            finally:
                c.down()
        one = LocalCluster(tmp, 1, None)
        try:
            ups["1 master"] = one.up()
            rates[1] = asyncio.run(writes(one, args.writes, args.writers))
            print(f"1 master: writes {rates[1]:.0f}/s", flush=True)
        finally:
            one.down()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print(f"\nleader failover and etcd write cost, {datetime.date.today()}, {platform.machine()}, "
          f"{os.cpu_count()} CPUs, {args.rounds} rounds per timing, Deployment of {args.replicas}")
    print("| election timing (lease / renew / retry) | kill → new leader (acquireTime) | kill → Lease seen moved "
          "| kill → roll-out moving | goal (lease + 2 s) |")
    print("|---|---|---|---|---|")
    for which, res in failovers.items():
        lease, renew, retry = TIMINGS[which]

        def cell(key: str, res: list[dict[str, float]] = res) -> str:
            vals = [r[key] for r in res]
            return f"{statistics.median(vals):.1f} s ({min(vals):.1f} – {max(vals):.1f})"
        print(f"| {which}: {lease} / {renew} / {retry} s | {cell('new_leader')} | {cell('holder_seen')} | "
              f"{cell('moving')} | ≤ {lease + 2} s |")
    print()
    print(f"| ConfigMap creates through one API server, {args.writers} in flight | writes/s | vs 1 master |")
    print("|---|---|---|")
    for n in sorted(rates):
        print(f"| {n} master{'s' if n > 1 else ''} ({n} etcd member{'s' if n > 1 else ''}) | {rates[n]:.0f} | "
              f"{rates[n] / rates[1]:.2f} |" if 1 in rates else f"| {n} | {rates[n]:.0f} | - |")
    print("cluster up: " + ", ".join(f"{k} {v:.1f}s" for k, v in ups.items()))
    print(f"load average now: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
