#!/usr/bin/env python3
"""Service proxy benchmark: following endpoint changes, sync cost, data-path throughput.

Builds the integration test's world of network namespaces (tests/integration/test_proxy.py:
client C with etcd + API server, node N running `minik8s proxy`, pods behind N's bridge)
and measures, in one run:

1. follow latency: with S Services (S = 10, 100, 1000; each with an endpoint), the time
   from the PUT of a changed Endpoints to the first new connection from a pod reaching
   the new endpoint through the cluster IP (a poller in the pod connects every 2 ms);
2. sync cost of the iptables and nftables modes at 1,000 and 10,000 Services (2 endpoints
   each, 1 in 10 NodePort), in a namespace of its own: the whole periodic (full) sync,
   split into building the text and applying it (one iptables-restore / one nft -f, wall
   and CPU), idle and under load (two busy-looping processes on the 2 CPUs), and the
   incremental sync that follows one endpoint change. The endpoints carry a nodeName: 1 in
   20 on the proxy's node (a node of a 20-node cluster; those get hairpin rules), and,
   at the first scale, again with every endpoint on it (--local-shares);
3. request throughput from outside through a NodePort in both modes, beside the same
   client talking to the pod directly (routed through the node, the same hops), with a
   new TCP connection per request (the worst case for NAT: every request is a new flow),
   with 2 Services and again with the largest scale's Services in the rules.

Usage: .venv/bin/python bench/proxy.py [--scales 10,100,1000] [--sync-scales 1000,10000] [--rounds 5]
       [--seconds 3] [--modes iptables,nftables,userspace] [--local-shares 0.05,1] [--smoke]
Run as root on an otherwise idle machine; the load average is printed with the results.
--smoke runs every part at tiny sizes (a check that the bench works, not a measurement).
"""
from __future__ import annotations

import argparse
import asyncio
import os
import pathlib
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from typing import Any

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

import benchutil

from minik8s.api import errors
from minik8s.api import resources
from minik8s.client import rest
from minik8s.proxy import iptables
from minik8s.proxy import iptables_proxier
from minik8s.proxy import nft as nft_mod
from minik8s.proxy import nftables
from minik8s.proxy import nftables_proxier
from minik8s.proxy import proxier as proxier_mod
from minik8s.proxy import rules
from minik8s.proxy import server as proxy_server
from minik8s.util import procs
from tests import conftest
from tests.integration import test_proxy as netlab

SERVICES = proxy_server.SERVICES
ENDPOINTS = proxy_server.ENDPOINTS
NAMESPACES = resources.must("", "v1", "namespaces")

BUSY = "import time\nwhile True:\n    pass\n"

POLLER = textwrap.dedent('''
    """Connect to ip:port every 2 ms; print "ready" once `first` answers, then the wall
    time at which `want` first answers."""
    import socket, sys, time
    ip, port, first, want = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    ready = False
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            with socket.create_connection((ip, port), timeout=1) as s:
                name = s.recv(100).decode().strip()
        except OSError:
            name = ""
        if not ready and name == first:
            ready = True
            print("ready", flush=True)
        elif ready and name == want:
            print(repr(time.time()), flush=True)
            break
        time.sleep(0.002)
''')

HTTP_SERVER = textwrap.dedent('''
    """A minimal HTTP responder: one short response per connection, SO_REUSEPORT workers.
    It leaves closing to the client, so TIME_WAIT stays on the client's side: a server
    in TIME_WAIT with the node's masquerade address would refuse that address's reused
    ports, which measures a NAT pitfall rather than the proxy."""
    import asyncio, ctypes, os, signal, socket, sys
    port, workers = int(sys.argv[1]), int(sys.argv[2])
    BODY = b"HTTP/1.0 200 OK\\r\\nContent-Length: 3\\r\\n\\r\\nok\\n"

    class Reply(asyncio.Protocol):
        def connection_made(self, t):
            self.t = t
        def data_received(self, data):
            if b"\\r\\n\\r\\n" in data:
                self.t.write(BODY)
        def eof_received(self):
            return False

    def serve():
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        s.bind(("0.0.0.0", port))
        s.listen(4096)
        loop = asyncio.new_event_loop()
        loop.run_until_complete(loop.create_server(Reply, sock=s))
        loop.run_forever()

    for _ in range(workers - 1):
        if os.fork() == 0:
            # Die with the first process: the bench stops that one only.
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
            break
    serve()
''')

LOADGEN = textwrap.dedent('''
    """N processes, each: connect, GET, read the reply, close; for D seconds. Prints requests/s."""
    import multiprocessing, socket, sys, time
    ip, port, procs, seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    REQ = b"GET / HTTP/1.0\\r\\nHost: x\\r\\n\\r\\n"
    REPLY = len(b"HTTP/1.0 200 OK\\r\\nContent-Length: 3\\r\\n\\r\\nok\\n")

    def worker(q):
        ok = err = 0
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                with socket.create_connection((ip, port), timeout=2) as s:
                    s.sendall(REQ)
                    data = b""
                    while len(data) < REPLY:
                        chunk = s.recv(4096)
                        if not chunk:
                            break
                        data += chunk
                ok += data.startswith(b"HTTP/1.0 200")
            except OSError:
                err += 1
        q.put((ok, err))

    q = multiprocessing.Queue()
    ps = [multiprocessing.Process(target=worker, args=(q,)) for _ in range(procs)]
    t = time.monotonic()
    for p in ps:
        p.start()
    results = [q.get() for _ in ps]
    for p in ps:
        p.join()
    elapsed = time.monotonic() - t
    print(sum(r[0] for r in results) / elapsed, sum(r[1] for r in results))
''')


def loadavg() -> str:
    return " ".join(pathlib.Path("/proc/loadavg").read_text().split()[:3])


# -- API helpers ------------------------------------------------------------------------------

def endpoints_body(name: str, ns: str, ip: str, port: int = 8080) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": name, "namespace": ns},
            "subsets": [{"addresses": [{"ip": ip}], "ports": [{"name": "http", "port": port, "protocol": "TCP"}]}]}


async def create_services(client: rest.Client, ns: str, count: int, start: int, ip: str) -> None:
    """Services svc-<start>..svc-<count-1>, each with one endpoint, 16 requests at a time."""
    sem = asyncio.Semaphore(16)

    async def one(i: int) -> None:
        name = f"svc-{i}"
        async with sem:
            await client.create(SERVICES, {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
                                           "spec": {"ports": [{"name": "http", "port": 80, "targetPort": 8080}]}},
                                ns)
            await client.create(ENDPOINTS, endpoints_body(name, ns, ip), ns)
    await asyncio.gather(*(one(i) for i in range(start, count)))


async def delete_services(client: rest.Client, ns: str) -> None:
    sem = asyncio.Semaphore(16)

    async def one(name: str) -> None:
        async with sem:
            for res in (SERVICES, ENDPOINTS):
                try:
                    await client.delete(res, name, ns)
                except errors.NotFound:
                    pass
    names = [s["metadata"]["name"] for s in (await client.list(SERVICES, ns))["items"]]
    await asyncio.gather(*(one(n) for n in names))


async def set_endpoint(client: rest.Client, ns: str, name: str, ip: str) -> None:
    current = await client.get(ENDPOINTS, name, ns)
    body = endpoints_body(name, ns, ip)
    body["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
    await client.update(ENDPOINTS, body)


# -- 1. follow latency --------------------------------------------------------------------------

async def follow_latency(lab: netlab.Lab, client: rest.Client, ns: str, mode: str, scales: list[int], rounds: int
                         ) -> dict[int, list[float]]:
    poller = lab.tmp / "poller.py"
    poller.write_text(POLLER)
    p1, p2 = lab.pod_ips[0], lab.pod_ips[1]
    await client.create(SERVICES, {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "target"},
                                   "spec": {"ports": [{"name": "http", "port": 80, "targetPort": 8080}]}}, ns)
    await client.create(ENDPOINTS, endpoints_body("target", ns, p1), ns)
    cip = (await client.get(SERVICES, "target", ns))["spec"]["clusterIP"]
    out: dict[int, list[float]] = {}
    have = 0
    current = ("p1", p1)
    for scale in scales:
        await create_services(client, ns, scale - 1, have, lab.pod_ips[2])
        have = scale - 1
        last = (await client.get(SERVICES, f"svc-{scale - 2}", ns))["spec"]["clusterIP"] if scale > 1 else cip
        procs.wait_for(lambda: lab.ask(lab.pods[0], "tcp", last, 80) == ["p3"], 120, interval=0.2,
                       what=f"{mode}: the {scale}th Service to answer")
        samples = []
        for _ in range(rounds):
            nxt = ("p2", p2) if current[0] == "p1" else ("p1", p1)
            proc = subprocess.Popen([*lab.ns(lab.pods[2]), sys.executable, str(poller), cip, "80", current[0],
                                     nxt[0]], stdout=subprocess.PIPE, text=True)
            try:
                assert proc.stdout is not None
                line = await asyncio.to_thread(proc.stdout.readline)
                assert line.strip() == "ready", f"poller: {line!r}"
                t0 = time.time()
                await set_endpoint(client, ns, "target", nxt[1])
                line = await asyncio.to_thread(proc.stdout.readline)
                samples.append(float(line) - t0)
            finally:
                proc.kill()
                proc.wait()
            current = nxt
        out[scale] = samples
        print(f"  {mode} follow at {scale} Services: median {statistics.median(samples) * 1000:.0f} ms, "
              f"max {max(samples) * 1000:.0f} ms", flush=True)
    return out


# -- 2. sync cost ------------------------------------------------------------------------------------

# The node the sync-cost proxier runs on. Endpoints carry a nodeName as the endpoints
# controller writes it; one in `local_every` is on this node (hairpin rules), the rest on
# others. 20 (the default share, 0.05) is a node of a 20-node cluster; 1 puts every
# endpoint here, which is also what the rules look like when nodeName is not known.
BENCH_NODE = "bench-node"


def address(ip: str, index: int, local_every: int) -> dict[str, str]:
    return {"ip": ip, "nodeName": BENCH_NODE if index % local_every == 0 else f"node-{index % 19 + 1}"}


def fill_one(proxier: proxier_mod.Proxier, i: int, per_service: int, moved: bool, *, local_every: int) -> None:
    ips = [f"10.{244 + j}.{i // 250}.{i % 250 + 2}" for j in range(per_service)]
    if moved:
        ips[0] = "10.250.0.2"
    proxier.on_endpoints({"metadata": {"namespace": "bench", "name": f"svc-{i}"}, "subsets": [{
        "addresses": [address(ip, i * per_service + j, local_every) for j, ip in enumerate(ips)],
        "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}]}]})


def fill(proxier: proxier_mod.Proxier, services: int, per_service: int, *, local_every: int) -> None:
    for i in range(services):
        node_port = {"nodePort": 30000 + i // 10} if i % 10 == 0 else {}  # unique up to 27,670 Services
        proxier.on_service({"metadata": {"namespace": "bench", "name": f"svc-{i}"},
                            "spec": {"type": "NodePort" if node_port else "ClusterIP",
                                     "clusterIP": f"10.96.{i // 250}.{i % 250 + 2}",
                                     "ports": [{"name": "http", "port": 80, "protocol": "TCP", **node_port}]}})
        fill_one(proxier, i, per_service, moved=False, local_every=local_every)


CONFIG = rules.Config(node_name=BENCH_NODE)


def make_proxier(mode: str, prefix: list[str], netns: str) -> tuple[proxier_mod.Proxier, Any]:
    ipt = iptables.Real(command_prefix=prefix)
    if mode == "iptables":
        return iptables_proxier.IptablesProxier(ipt, iptables.FakeConntrack(), CONFIG), ipt
    # As the proxy itself: libnftables in-process (in that namespace) when it loads.
    nft: nft_mod.Lib | nft_mod.Real = nft_mod.Lib(netns=netns) if nft_mod.Lib.available() \
        else nft_mod.Real(command_prefix=prefix)
    return nftables_proxier.NftablesProxier(ipt, nft, iptables.FakeConntrack(), CONFIG), nft


def children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def apply_cpu() -> float:
    """CPU of the appliers: child processes (iptables-restore, nft) and, for libnftables
    in-process, this process (its nft thread; the event loop only waits meanwhile)."""
    return children_cpu() + time.process_time()


async def sync_cost(mode: str, services: int, per_service: int, repeats: int, *, loaded: bool, local_every: int
                    ) -> dict[str, list[float]]:
    """Full and incremental sync of one mode at `services` Services, in a namespace of its own."""
    ns_name = f"{netlab.NS_PREFIX}{os.getpid() % 100000}-sync"
    netlab.sh("ip", "netns", "add", ns_name)
    burners: list[subprocess.Popen[bytes]] = []
    applier: Any = None
    try:
        prefix = ["nsenter", f"--net=/run/netns/{ns_name}"]
        proxier, applier = make_proxier(mode, prefix, f"/run/netns/{ns_name}")
        fill(proxier, services, per_service, local_every=local_every)
        result: dict[str, list[float]] = {"build": [], "apply": [], "apply_cpu": [], "sync": [], "incremental": []}
        await proxier.sync_proxy_rules(periodic=True)  # the first creates the chains / the table
        if loaded:
            burners = [subprocess.Popen([sys.executable, "-c", BUSY]) for _ in range(os.cpu_count() or 2)]
            await asyncio.sleep(0.5)
        for r in range(repeats):
            # The state as it is now (the previous round moved an endpoint): the text applied by
            # hand must be what the proxier itself holds, or its next sync starts from a lie.
            ports, eps = proxier.state.ports(), proxier.state.endpoints()
            t = time.perf_counter()
            if isinstance(proxier, iptables_proxier.IptablesProxier):
                text = rules.build_rules(ports, eps, (), CONFIG, proxier._chains or ())  # noqa: SLF001
            else:
                assert isinstance(proxier, nftables_proxier.NftablesProxier)
                frags = proxier._fragments(ports, eps)  # noqa: SLF001
                text = nftables.build_full_fragments(frags, CONFIG, (), proxier._applied,  # noqa: SLF001
                                                     spreads_present=proxier._spreads)  # noqa: SLF001
            result["build"].append(time.perf_counter() - t)
            t, cpu = time.perf_counter(), apply_cpu()
            if isinstance(applier, iptables.Real):
                await applier.restore(text)
            else:
                await applier.apply(text)
            result["apply"].append(time.perf_counter() - t)
            result["apply_cpu"].append(apply_cpu() - cpu)
            t = time.perf_counter()
            if isinstance(proxier, nftables_proxier.NftablesProxier):
                # A full rewrite is due once an hour (kube-proxy's FullSyncPeriod); force it.
                proxier.full_sync_period = 0.0
            await proxier.sync_proxy_rules(periodic=True)
            result["sync"].append(time.perf_counter() - t)
            if isinstance(proxier, nftables_proxier.NftablesProxier):
                # The other periodic syncs: nothing changed, not due, the table checked.
                proxier.full_sync_period = nftables_proxier.FULL_SYNC_PERIOD
                t = time.perf_counter()
                await proxier.sync_proxy_rules(periodic=True)
                result.setdefault("tick", []).append(time.perf_counter() - t)
            # One endpoint of one Service moves (and back, next round): the incremental sync.
            fill_one(proxier, services // 2, per_service, moved=r % 2 == 0, local_every=local_every)
            t = time.perf_counter()
            await proxier.sync_proxy_rules()
            result["incremental"].append(time.perf_counter() - t)
        lines = text.count("\n")
        print(f"  {mode} sync at {services:,} Services x {per_service}{' under load' if loaded else ''} "
              f"({lines:,} lines): full {med_ms(result['sync'])} (build {med_ms(result['build'])} + apply "
              f"{med_ms(result['apply'])}, CPU {med_ms(result['apply_cpu'])}), incremental "
              f"{med_ms(result['incremental'])}"
              + (f", periodic tick between full syncs {med_ms(result['tick'])}" if "tick" in result else "")
              + f" (medians of {repeats})", flush=True)
        return result
    finally:
        for b in burners:
            b.kill()
            b.wait()
        if isinstance(applier, nft_mod.Lib):
            applier.close()
        netlab.sh("ip", "netns", "del", ns_name, check=False)


def med_ms(samples: list[float]) -> str:
    return f"{statistics.median(samples) * 1000:.1f} ms"


# -- 3. throughput -------------------------------------------------------------------------------------

def throughput(lab: netlab.Lab, ip: str, port: int, seconds: float, workers: int) -> float:
    # Every request is a new connection, NATed ones to one pod from one node address: their
    # conntrack entries linger in TIME_WAIT for 2 minutes and would exhaust the source ports
    # masquerading can pick across runs. Start each run from empty tables (ours only).
    for ns in (lab.n, lab.c):
        lab.run(ns, "conntrack", "-F", check=False)
    loadgen = lab.tmp / "loadgen.py"
    out = lab.run(lab.c, sys.executable, str(loadgen), ip, str(port), str(workers), str(seconds)).stdout.split()
    return float(out[0])


# -- main ------------------------------------------------------------------------------------------------

async def main_async(args: argparse.Namespace) -> None:
    scales = [int(s) for s in args.scales.split(",")]
    sync_scales = [int(s) for s in args.sync_scales.split(",")]
    modes = [m for m in args.modes.split(",") if m]
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="minik8s-bench-proxy-"))
    lab = netlab.Lab(tmp)
    report: list[str] = [f"load average at start: {loadavg()}, {os.cpu_count()} CPUs"]
    print(report[0], flush=True)
    try:
        lab.up()
        lab.start_backends()
        # The throughput server in p1 on its own port; the direct path needs the route and
        # the forwarding accept a network agent would install for the pod CIDR.
        (tmp / "http_server.py").write_text(HTTP_SERVER)
        (tmp / "loadgen.py").write_text(LOADGEN)
        lab.spawn(lab.pods[0], [sys.executable, str(tmp / "http_server.py"), "9090", "2"], "http_server.log")
        lab.run(lab.c, "ip", "route", "add", lab.cluster_cidr, "via", lab.node_ip)
        # One client address opening thousands of connections a second to one address:port
        # would run out of ports in TIME_WAIT within seconds on either path; reuse them.
        # The same holds for the userspace proxy's own connections from the node to the pod.
        for ns in (lab.c, lab.n):
            lab.run(ns, "sysctl", "-qw", "net.ipv4.tcp_tw_reuse=1", "net.ipv4.ip_local_port_range=1024 65535")
        lab.run(lab.n, "iptables", "-I", "FORWARD", "-i", "vn-client", "-o", "br0", "-d", lab.cluster_cidr,
                "-j", "ACCEPT")
        lab.start_apiserver()
        async with rest.Client(lab.apiserver_url, tls=conftest.test_pki().tls()) as client:
            shares = [float(x) for x in args.local_shares.split(",")]
            for mode in [m for m in modes if m in ("iptables", "nftables")]:
                for n in sync_scales:
                    # The first share at every scale; the others (the comparison) at the first scale only.
                    for share, loaded in [(share, loaded) for share in (shares if n == sync_scales[0] else shares[:1])
                                          for loaded in ((False, True) if n == sync_scales[0] else (False,))]:
                        # An iptables full sync at 10,000 Services takes about a minute: fewer rounds.
                        rounds = args.sync_rounds if mode == "nftables" or n <= 2000 else 1
                        res = await sync_cost(mode, n, 2, rounds, loaded=loaded, local_every=max(1, round(1 / share)))
                        report.append(
                            f"{mode} sync, {n:,} Services x 2 endpoints, {share:g} of them on this node"
                            f"{', under load' if loaded else ''}: "
                            f"full (periodic) sync {med_ms(res['sync'])} (build {med_ms(res['build'])} + apply "
                            f"{med_ms(res['apply'])}, apply CPU {med_ms(res['apply_cpu'])}); incremental sync "
                            f"after one endpoint change {med_ms(res['incremental'])} "
                            f"(max {max(res['incremental']) * 1000:.1f} ms)"
                            + (f"; periodic tick between full syncs {med_ms(res['tick'])}" if "tick" in res else "")
                            + f"; medians of {rounds}")
            follow: dict[str, dict[int, list[float]]] = {}
            # "few": only the measured Service (and `kubernetes`); "many": after the follow
            # runs, with the largest scale of Services in the rules too.
            tput: dict[str, list[float]] = {}
            for mode in modes:
                ns = f"bench-{mode}"
                await client.create(NAMESPACES, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
                proxy = lab.start_proxy(mode)
                try:
                    await client.create(SERVICES, {
                        "apiVersion": "v1", "kind": "Service", "metadata": {"name": "tput"},
                        "spec": {"type": "NodePort", "ports": [{"name": "http", "port": 80, "targetPort": 9090}]}}, ns)
                    await client.create(ENDPOINTS, {
                        "apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "tput", "namespace": ns},
                        "subsets": [{"addresses": [{"ip": lab.pod_ips[0]}],
                                     "ports": [{"name": "http", "port": 9090, "protocol": "TCP"}]}]}, ns)
                    node_port = (await client.get(SERVICES, "tput", ns))["spec"]["ports"][0]["nodePort"]
                    procs.wait_for(lambda: throughput(lab, lab.node_ip, node_port, 0.2, 1) > 0, 60, interval=0.2,
                                   what=f"{mode}: the NodePort to answer")

                    def measure(label: str) -> None:
                        for _ in range(args.tput_rounds):
                            tput.setdefault(f"direct {label}", []).append(
                                throughput(lab, lab.pod_ips[0], 9090, args.seconds, args.workers))
                            tput.setdefault(f"{mode} {label}", []).append(
                                throughput(lab, lab.node_ip, node_port, args.seconds, args.workers))
                        print(f"  throughput {mode} {label}: {tput[f'{mode} {label}']}, direct so far "
                              f"{tput[f'direct {label}']}", flush=True)

                    measure("few")
                    follow[mode] = await follow_latency(lab, client, ns, mode, scales, args.rounds)
                    measure("many")
                finally:
                    lab.stop(proxy)
                    # No controller manager here to empty a deleted namespace: delete one by one,
                    # so the next mode starts from the same number of Services.
                    await delete_services(client, ns)
            lab.run(lab.n, sys.executable, "-m", "minik8s", "proxy", "--cleanup")
        for mode, by_scale in follow.items():
            for scale, samples in by_scale.items():
                report.append(f"{mode} follow at {scale:>5} Services: median "
                              f"{statistics.median(samples) * 1000:.0f} ms, max {max(samples) * 1000:.0f} ms "
                              f"({len(samples)} changes)")
        for label, what in (("few", "2 Services"), ("many", f"{max(scales)} Services")):
            direct = statistics.median(tput[f"direct {label}"])
            for mode in modes:
                m = statistics.median(tput[f"{mode} {label}"])
                report.append(f"NodePort throughput {mode} with {what}: {m:,.0f} req/s = {m / direct:.2f} x direct "
                              f"({direct:,.0f} req/s); a new connection per request, {args.workers} client "
                              f"processes, medians of {args.tput_rounds} x {args.seconds:g} s")
        report.append(f"load average at end: {loadavg()}")
    finally:
        lab.down()
        shutil.rmtree(tmp, ignore_errors=True)
    print("\n## proxy results")
    for line in report:
        print(f"- {line}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", default="10,100,1000", help="Service counts for the follow latency.")
    parser.add_argument("--rounds", type=int, default=5, help="Endpoint changes measured per scale.")
    parser.add_argument("--seconds", type=float, default=3.0, help="Length of one throughput run.")
    parser.add_argument("--tput-rounds", type=int, default=3, help="Throughput runs per mode (and direct).")
    parser.add_argument("--workers", type=int, default=4, help="Load generator processes.")
    parser.add_argument("--sync-scales", default="1000,10000", help="Service counts for the sync cost.")
    parser.add_argument("--sync-rounds", type=int, default=10, help="Syncs measured per mode and scale.")
    parser.add_argument("--modes", default="iptables,nftables,userspace", help="Proxy modes to measure.")
    parser.add_argument("--local-shares", default="0.05,1",
                        help="Shares of the sync-cost endpoints on the proxy's node (nodeName), the first at "
                             "every scale: 0.05 is a node of a 20-node cluster; 1 writes hairpin rules for "
                             "every endpoint, as kube-proxy (and this proxy when nodeName is unknown).")
    args = benchutil.parse_args(parser, {"scales": "10", "sync_scales": "20", "rounds": 1, "sync_rounds": 1,
                                         "seconds": 0.3, "tput_rounds": 1, "workers": 1})
    if os.geteuid() != 0:
        sys.exit("bench/proxy.py needs root (network namespaces, iptables)")
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
