#!/usr/bin/env python3
"""Pod start-up benchmark: N pods through the API and the kubelet vs. raw `docker run`.

Starts its own etcd, API server and kubelet (its pods networked by CNI on a private
bridge and CIDR, as the network agent would configure it, so nothing else on the
engine is touched), builds the images if needed, then for each N (default 10 and
20) and each round, in rotating order:

 - kubelet: create N pods (minik8s/web:1, image present) at once through the API
   and time from the first create to every pod Running and Ready, observed
   through a watch opened before the creates; each pod's own create -> Ready too
   (p50/p99 over all pods of all rounds);
 - old kubelet (unless --no-old): the same through a second kubelet running the
   code of the commit before pods were networked by CNI (`--old-commit`, checked
   out into a temporary directory): sandboxes on a Docker bridge network;
 - raw floor: N pause + app pairs started directly on the engine, in parallel
   (one thread per pod: create+start the pause container on a Docker bridge
   network, then create+start the app container joined to its network and IPC
   namespaces);

Everything is removed between rounds. Prints the medians and the ratios.

Usage: .venv/bin/python bench/pod_startup.py [--sizes 10,20] [--rounds 5] [--no-old] [--smoke]
"""
from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import datetime
import ipaddress
import json
import os
import pathlib
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from typing import Any

import docker
import docker.errors
import docker.types
import psutil

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import benchpki
import benchutil

from minik8s.api import resources
from minik8s.client import rest
from minik8s.images import build as images
from minik8s.network import cniconfig
from minik8s.util import procs

REPO = pathlib.Path(__file__).resolve().parent.parent
# The last commit whose kubelet put sandboxes on a Docker bridge network.
OLD_COMMIT = "247f515"

PODS = resources.must("", "v1", "pods")
NAMESPACES = resources.must("", "v1", "namespaces")
NODE_LABEL = "io.minik8s.node"


def pod(name: str, node: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"app": "bench"}},
            "spec": {"nodeName": node, "terminationGracePeriodSeconds": 2,
                     # No token volume: the older kubelet compared against cannot write one.
                     "automountServiceAccountToken": False,
                     "containers": [{"name": "web", "image": images.WEB_IMAGE}]}}


def ready(p: dict[str, Any]) -> bool:
    status = p.get("status") or {}
    return status.get("phase") == "Running" and any(
        c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or [])


def free_subnet(client: docker.DockerClient, taken: list[str] | None = None) -> str:
    used = [ipaddress.ip_network(t) for t in taken or []]
    for net in client.api.networks():
        for cfg in (net.get("IPAM") or {}).get("Config") or []:
            if cfg.get("Subnet"):
                used.append(ipaddress.ip_network(cfg["Subnet"], strict=False))
    routes = subprocess.run(["ip", "-j", "route", "show"], capture_output=True, text=True, check=False).stdout
    for route in json.loads(routes or "[]"):
        if route.get("dst") not in (None, "default"):
            used.append(ipaddress.ip_network(route["dst"], strict=False))
    for _ in range(200):
        candidate = ipaddress.ip_network(f"10.251.{random.randint(0, 255)}.0/24")
        if not any(candidate.overlaps(u) for u in used):
            return str(candidate)
    raise RuntimeError("no free /24 under 10.251.0.0/16 for the benchmark's pod network")


def cpu_seconds(pids: dict[str, int]) -> dict[str, float]:
    out = {}
    for name, pid in pids.items():
        try:
            t = psutil.Process(pid).cpu_times()
            out[name] = t.user + t.system
        except psutil.Error:
            out[name] = 0.0
    return out


def dockerd_pid() -> int:
    """The daemon behind /var/run/docker.sock (other dockerds may run for other nodes)."""
    try:
        with open("/var/run/docker.pid", encoding="ascii") as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return 0


def old_tree(tmp: pathlib.Path, commit: str) -> pathlib.Path:
    """The source of `commit` in tmp/old (only to run its kubelet beside the current one)."""
    dest = tmp / "old"
    dest.mkdir()
    archive = subprocess.run(["git", "-C", str(REPO), "archive", commit, "minik8s"], capture_output=True,
                             check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return dest


class Cluster:
    """etcd + API server + kubelet as subprocesses, all on loopback; the kubelet's pods
    networked by CNI on a bridge of its own (the configuration the network agent would
    write). With `old`, a second kubelet runs the code of that tree (pods on a Docker
    network) on a node of its own."""

    def __init__(self, tmp: pathlib.Path, cidr: str, network: str, old: pathlib.Path | None = None,
                 old_cidr: str = "") -> None:
        self.tmp = tmp
        self.cidr = cidr
        self.network = network  # the raw floor's Docker network (and the old kubelet's)
        self.node = "bench-" + uuid.uuid4().hex[:6]
        self.bridge = "mk8sb" + self.node[-6:]
        self.old = old
        self.old_cidr = old_cidr
        self.old_node = "bench-old-" + uuid.uuid4().hex[:6]
        self.etcd = procs.EtcdProcess(str(tmp / "etcd"))
        self.procs: list[subprocess.Popen[bytes]] = []
        self.pids: dict[str, int] = {}
        self.old_pids: dict[str, int] = {}
        self.url = ""
        self.pki: benchpki.BenchPKI | None = None

    def _spawn(self, name: str, argv: list[str], env: dict[str, str] | None = None,
               cwd: pathlib.Path | None = None) -> subprocess.Popen[bytes]:
        out = open(self.tmp / f"{name}.log", "ab")
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd)
        out.close()
        self.procs.append(proc)
        return proc

    def _kubelet(self, name: str, node: str, args: list[str], env: dict[str, str] | None = None,
                 cwd: pathlib.Path | None = None, healthz: Any = None) -> int:
        """`healthz`: an opener for the kubelet's HTTPS /healthz (None: the old kubelet's plain HTTP)."""
        kport = procs.free_port()
        kubelet = self._spawn(name, [
            sys.executable, "-m", "minik8s", "kubelet", "--node-name", node,
            "--node-ip", "127.0.0.1", "--port", str(kport), "--root-dir", str(self.tmp / name), *args], env, cwd)
        log_file = self.tmp / f"{name}.log"
        try:
            url = f"{'https' if healthz else 'http'}://127.0.0.1:{kport}/healthz"
            procs.wait_for(lambda: kubelet.poll() is None and _ok(url, healthz or procs.LOOPBACK_OPENER), 60,
                           what=name)
        except TimeoutError:
            print(f"{name} log:\n{log_file.read_text(errors='replace')[-3000:]}", file=sys.stderr)
            raise
        return kubelet.pid

    def start(self) -> None:
        self.etcd.start()
        port = procs.free_port()
        self.url = f"https://127.0.0.1:{port}"
        self.pki = pki = benchpki.BenchPKI(self.tmp / "pki", self.url)
        api = self._spawn("apiserver", [sys.executable, "-m", "minik8s", "apiserver", "--etcd-endpoints",
                                        self.etcd.endpoint, "--port", str(port), "--bind-address", "127.0.0.1",
                                        *pki.apiserver_args()])
        procs.wait_for(lambda: api.poll() is None and _ok(self.url + "/readyz", pki.opener()), 60,
                       what="apiserver")
        conf = self.tmp / "net.d"
        cniconfig.write(str(conf), cniconfig.conflist(self.cidr, bridge=self.bridge,
                                                      data_dir=str(self.tmp / "ipam")))
        kubelet = self._kubelet("kubelet", self.node, ["--kubeconfig", pki.node_kubeconfig(self.node),
                                                       *pki.kubelet_args(self.node),
                                                       "--pod-cidr", self.cidr, "--cni-conf-dir", str(conf)],
                                healthz=pki.opener())
        assert self.etcd.pid is not None
        self.pids = {"kubelet": kubelet, "apiserver": api.pid, "etcd": self.etcd.pid, "dockerd": dockerd_pid()}
        if self.old is not None:
            # Run from the old tree: `python -m` puts the working directory first on the path. That
            # code predates authentication: its kubeconfig holds a server and a bearer token only,
            # and its client trusts the system's CAs (SSL_CERT_FILE: the cluster CA).
            conf_path, ca = pki.legacy_kubeconfig(self.tmp / "kubelet-old.conf", "bench-old-kubelet")
            env = dict(os.environ, PYTHONPATH=str(self.old), SSL_CERT_FILE=ca)
            old = self._kubelet("kubelet-old", self.old_node, ["--kubeconfig", conf_path, "--pod-cidr", self.old_cidr,
                                                               "--pod-network-name", self.network], env, cwd=self.old)
            self.old_pids = dict(self.pids, kubelet=old)

    def stop(self) -> None:
        for proc in reversed(self.procs):
            procs.stop_pid(proc.pid, timeout=10)
            proc.wait(timeout=5)
        self.etcd.stop()
        subprocess.run(["ip", "link", "del", self.bridge], capture_output=True, check=False)


def _ok(url: str, opener: Any = procs.LOOPBACK_OPENER) -> bool:
    try:
        with opener.open(url, timeout=1) as resp:
            return resp.status == 200
    except OSError:
        return False


async def kubelet_round(client: rest.Client, node: str, n: int, pids: dict[str, int] | None = None,
                        per_pod: list[float] | None = None) -> tuple[float, dict[str, float]]:
    """Seconds from the first create to all Ready, and CPU seconds each process used meanwhile;
    each pod's own create -> Ready is appended to `per_pod`."""
    ns = "bench-" + uuid.uuid4().hex[:8]
    await client.create(NAMESPACES, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    await benchutil.default_service_account(client, ns)  # no controller manager runs here
    listed = await client.list(PODS, ns)
    rv = listed["metadata"]["resourceVersion"]
    names = {f"p{i}" for i in range(n)}
    done: set[str] = set()
    ready_at: list[float] = []
    ready_by_name: dict[str, float] = {}
    sent: dict[str, float] = {}
    all_ready = asyncio.Event()

    async def watch() -> None:
        async for ev in client.watch(PODS, ns, resource_version=rv):
            obj = ev.get("object") or {}
            name = (obj.get("metadata") or {}).get("name")
            if name in names and ready(obj) and name not in done:
                done.add(name)
                ready_at.append(time.perf_counter())
                ready_by_name[name] = ready_at[-1]
                if done == names:
                    all_ready.set()
                    return

    watcher = asyncio.get_running_loop().create_task(watch())
    await asyncio.sleep(0.2)  # let the watch connect before the clock starts
    cpu_before = cpu_seconds(pids or {})
    started = time.perf_counter()
    async def create(name: str) -> None:
        sent[name] = time.perf_counter()
        await client.create(PODS, pod(name, node), ns)

    await asyncio.gather(*(create(name) for name in sorted(names)))
    await asyncio.wait_for(all_ready.wait(), 120)
    elapsed = time.perf_counter() - started
    if per_pod is not None:
        per_pod.extend(ready_by_name[name] - sent[name] for name in names)
    cpu_after = cpu_seconds(pids or {})
    half = statistics.median(t - started for t in ready_at)
    if elapsed > 2 * half + 1:
        print(f"  (straggler: half the pods were Ready after {half:.2f}s, the last after {elapsed:.2f}s)",
              file=sys.stderr)
    watcher.cancel()
    # Tear down and wait until the kubelet removed every container of the round.
    await asyncio.gather(*(client.delete(PODS, name, ns) for name in names), return_exceptions=True)
    await procs.wait_for_async(lambda: _pods_gone(client, ns), 120, interval=0.2, what="pods deleted")
    await client.delete(NAMESPACES, ns)
    return elapsed, {k: cpu_after[k] - cpu_before[k] for k in cpu_after}


async def _pods_gone(client: rest.Client, ns: str) -> bool:
    return not (await client.list(PODS, ns)).get("items")


def raw_round(dc: docker.DockerClient, network: str, n: int, sandbox: bool = True) -> float:
    """N pause + app pairs started in parallel; `sandbox=False`: N app containers alone."""
    api = dc.api
    label = {NODE_LABEL: "bench-raw"}

    def one(i: int) -> list[str]:
        if not sandbox:
            app = api.create_container(images.WEB_IMAGE, name=f"bench-raw-web-{i}", labels=label, detach=True,
                                       host_config=api.create_host_config(network_mode=network))
            api.start(app["Id"])
            return [app["Id"]]
        pause = api.create_container(images.PAUSE_IMAGE, name=f"bench-raw-pause-{i}", labels=label, detach=True,
                                     host_config=api.create_host_config(network_mode=network, ipc_mode="shareable"))
        api.start(pause["Id"])
        mode = f"container:{pause['Id']}"
        app = api.create_container(images.WEB_IMAGE, name=f"bench-raw-web-{i}", labels=label, detach=True,
                                   host_config=api.create_host_config(network_mode=mode, ipc_mode=mode))
        api.start(app["Id"])
        return [app["Id"], pause["Id"]]

    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(max_workers=n) as pool:
        pairs = list(pool.map(one, range(n)))
    elapsed = time.perf_counter() - started
    # Stop, then remove the apps before their sandboxes (as the kubelet does): removing
    # a sandbox whose namespaces are still in use can leave a stale network endpoint.
    with concurrent.futures.ThreadPoolExecutor(max_workers=n) as pool:
        for phase in range(len(pairs[0])):
            list(pool.map(lambda pair: api.stop(pair[phase], timeout=2), pairs))
            list(pool.map(lambda pair: api.remove_container(pair[phase], force=True), pairs))
    return elapsed


def remove_labelled(dc: docker.DockerClient, node: str) -> None:
    found = dc.api.containers(all=True, filters={"label": f"{NODE_LABEL}={node}"})
    # Sandboxes (pause) last, for the reason given in raw_round.
    found.sort(key=lambda c: "pause" in (c.get("Image") or ""))
    for c in found:
        dc.api.remove_container(c["Id"], force=True)


def docker_network(dc: docker.DockerClient, name: str, cidr: str) -> None:
    """The raw floor's (and the old kubelet's) Docker bridge network, as the old kubelet made it."""
    net = ipaddress.ip_network(cidr)
    ipam = docker.types.IPAMConfig(pool_configs=[docker.types.IPAMPool(subnet=cidr,
                                                                       gateway=str(next(net.hosts())))])
    dc.api.create_network(name, driver="bridge", ipam=ipam,
                          options={"com.docker.network.bridge.enable_ip_masquerade": "false"})


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


async def run(args: argparse.Namespace) -> None:
    dc = benchutil.docker_engine()
    images.build_images(dc, log=lambda m: print(m, file=sys.stderr))
    remove_labelled(dc, "bench-raw")
    cidr = free_subnet(dc)
    old_cidr = free_subnet(dc, [cidr])
    network = "bench-" + uuid.uuid4().hex[:6]
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="minik8s-bench-"))
    docker_network(dc, network, old_cidr)
    old = None
    if not args.no_old:
        if subprocess.run(["git", "-C", str(REPO), "cat-file", "-e", f"{args.old_commit}^{{commit}}"],
                          capture_output=True, check=False).returncode == 0:
            old = old_tree(tmp, args.old_commit)
        else:  # a shallow clone: the new path's figures are still worth having
            print(f"warning: commit {args.old_commit} is not in this clone; measuring without the old kubelet",
                  file=sys.stderr)
    cluster = Cluster(tmp, cidr, network, old, old_cidr)
    kinds = ["kubelet", "raw"] + ([] if old is None else ["old"])
    results: dict[int, dict[str, list[float]]] = {}
    per_pod: dict[int, dict[str, list[float]]] = {}
    cpu: dict[int, list[dict[str, float]]] = {}
    loads: list[float] = []
    try:
        cluster.start()
        assert cluster.pki is not None
        async with cluster.pki.client() as client:
            async def one(which: str, n: int, record: bool) -> None:
                if which == "raw":
                    elapsed = await asyncio.to_thread(raw_round, dc, network, n)
                else:
                    node, pids = (cluster.node, cluster.pids) if which == "kubelet" else (cluster.old_node,
                                                                                        cluster.old_pids)
                    elapsed, used = await kubelet_round(client, node, n, pids,
                                                        per_pod[n][which] if record else None)
                    if record and which == "kubelet":
                        cpu[n].append(used)
                if record:
                    results[n][which].append(elapsed)

            for n in args.sizes:
                results[n] = {k: [] for k in kinds}
                per_pod[n] = {k: [] for k in kinds if k != "raw"}
                cpu[n] = []
                for which in kinds:  # one untimed warm-up of each (page cache, first network endpoint)
                    await one(which, n, False)
                for r in range(args.rounds):
                    order = kinds[r % len(kinds):] + kinds[:r % len(kinds)]
                    loads.append(os.getloadavg()[0])
                    for which in order:
                        await one(which, n, True)
                    print(f"N={n} round {r + 1}: " + ", ".join(f"{k} {v[-1]:.2f}s" for k, v in results[n].items()),
                          file=sys.stderr)
    finally:
        cluster.stop()
        for node in ("bench-raw", cluster.node, cluster.old_node):
            remove_labelled(dc, node)
        try:
            dc.api.remove_network(network)
        except docker.errors.NotFound:
            pass
        except docker.errors.APIError as e:
            print(f"warning: could not remove docker network {network}: {e}", file=sys.stderr)
        for name in ("kubelet", "kubelet-old", "apiserver"):
            log_file = tmp / f"{name}.log"
            problems = [line for line in (log_file.read_text(errors="replace").splitlines()
                                          if log_file.exists() else []) if " WARNING " in line or " ERROR " in line]
            if problems:
                print(f"{name} reported {len(problems)} problems, the last ones:", *problems[-10:], sep="\n  ",
                      file=sys.stderr)
        shutil.rmtree(tmp, ignore_errors=True)
    machine = (f"{platform.node()}: {psutil.cpu_count()} CPUs, {psutil.virtual_memory().total // 2**30} GiB, "
               f"{platform.system()} {platform.release()}, docker {dc.version().get('Version')}")
    print(f"\npod startup, {datetime.date.today()}, {machine}, {args.rounds} rounds (median)")
    print("| pods | kubelet (CNI), all Ready | per pod p50 / p99 | " +
          ("old kubelet (Docker network), all Ready | per pod p50 / p99 | " if old is not None else "") +
          "raw floor | kubelet / raw |" + (" kubelet / old |" if old is not None else ""))
    print("|---|---|---|" + ("---|---|" if old is not None else "") + "---|---|" + ("---|" if old is not None else ""))
    for n, res in results.items():
        k, r = statistics.median(res["kubelet"]), statistics.median(res["raw"])
        pk = per_pod[n]["kubelet"]
        row = f"| {n} | {k:.2f} s | {percentile(pk, 0.5):.2f} / {percentile(pk, 0.99):.2f} s | "
        if old is not None:
            o, po = statistics.median(res["old"]), per_pod[n]["old"]
            row += f"{o:.2f} s | {percentile(po, 0.5):.2f} / {percentile(po, 0.99):.2f} s | "
        row += f"{r:.2f} s | {k / r:.2f} |"
        if old is not None:
            row += f" {k / o:.2f} |"
        print(row)
    for n, rounds in cpu.items():
        if rounds:
            per = {name: statistics.median(r[name] for r in rounds) for name in rounds[0]}
            print(f"CPU used from create to all Ready, {n} pods, CNI kubelet (median s): " +
                  ", ".join(f"{name} {v:.2f}" for name, v in per.items()))
    if loads:
        print(f"load average before the rounds: median {statistics.median(loads):.1f}, "
              f"range {min(loads):.1f}-{max(loads):.1f}")
    dc.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10,20", help="comma-separated pod counts")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-old", action="store_true", help="Leave out the old (Docker network) kubelet.")
    parser.add_argument("--old-commit", default=OLD_COMMIT,
                        help="Commit whose kubelet is the old network path (default: the last before CNI).")
    args = benchutil.parse_args(parser, {"sizes": "2", "rounds": 1})
    args.sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    if os.geteuid() != 0 and not os.access(procs.DOCKER_SOCKET, os.W_OK):
        sys.exit("needs access to the Docker socket")
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
