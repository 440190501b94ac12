"""Chaos on three stacked masters (issue 14): SIGKILL where it hurts, and check what must hold.

One cluster of its own (3 masters with stacked etcd, 1 node, the shortened leases of
FAST_FAILOVER: 4 s lease, 3 s renew deadline, 1 s retry) is shared by the tests of this
module; each test leaves every master running and healthy again (the `mended` fixture
restarts what a failed test left down), and the module's teardown removes the cluster and
checks that nothing of it is left on the host.

1. master1, made to lead both the controller manager and the scheduler (the other masters'
   ones are killed until its own hold the Leases, then restarted) and the API server every
   kubeconfig lists first (the node's kubelet watches its pods there), is powered off in
   the middle of a 10-replica rolling update (`cluster stop-master`:
   `Member.power_off` SIGKILLs every process in the master's cgroup, etcd member, API
   server, controller manager, scheduler, until none is left, then removes its network
   namespace). Watched gaplessly (resuming from the last resourceVersion on another API
   server) from before the update to its end: the roll-out finishes; no pod's nodeName
   changes once set and no pod is bound twice; no ReplicaSet ever has more live pods than
   the most replicas it was ever asked for, and none is asked for more than replicas +
   maxSurge; every object listed before is still there after (by uid), except the pods
   the roll-out replaces.
2. One etcd member (the raft leader) is SIGKILLed while four workers create and read
   ConfigMaps through a failover client whose first API server is that member's master:
   no request fails, and every ConfigMap created is there afterwards.
3. Two etcd members are SIGKILLed: every API server answers a write with a 5xx
   Kubernetes Status (within the request timeout, not a hang) and /readyz turns not
   ready; once the members are started again, requests succeed, /readyz is ok on every
   master and the controllers work (a new Deployment becomes available).
"""
from __future__ import annotations

import asyncio
import json
import os
import signal
import ssl
import time
import urllib.error
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from minik8s.api import errors
from minik8s.api import resources
from minik8s.client import kubeconfig as kubeconfig_mod
from minik8s.client import rest
from minik8s.util import procs
from tests.e2e.conftest import Cluster, LocalOps, deployment, own_cluster, require_root, run, wait_until

MASTERS = 3
REPLICAS = 10
MAX_SURGE = 3  # the default 25% of 10, rounded up
CM_LEASE = "kube-controller-manager"
SCHED_LEASE = "kube-scheduler"
# The API servers' --etcd-timeout (5 s) and a margin: an answer must come within this.
REQUEST_TIMEOUT = 15.0
WORKERS = 4
MIN_READY = 3

PODS = resources.must("", "v1", "pods")
REPLICASETS = resources.must("apps", "v1", "replicasets")
DEPLOYMENTS = resources.must("apps", "v1", "deployments")
CONFIGMAPS = resources.must("", "v1", "configmaps")
NAMESPACES = resources.must("", "v1", "namespaces")
LEASES = resources.must("coordination.k8s.io", "v1", "leases")
# What "every object" means for test 1: what the cluster keeps (Events expire by design).
KEPT = [NAMESPACES, resources.must("", "v1", "nodes"), resources.must("", "v1", "services"),
        resources.must("", "v1", "endpoints"), CONFIGMAPS, resources.must("", "v1", "secrets"),
        resources.must("", "v1", "serviceaccounts"), DEPLOYMENTS, REPLICASETS, PODS, LEASES,
        resources.must("rbac.authorization.k8s.io", "v1", "clusterroles"),
        resources.must("rbac.authorization.k8s.io", "v1", "clusterrolebindings")]


@pytest.fixture(scope="module")
def ha() -> Iterator[Cluster]:
    if os.environ.get("MINIK8S_E2E_KUBECONFIG"):
        pytest.skip("exercises `minik8s cluster` itself; not applicable to the Vagrant VMs")
    require_root()
    with own_cluster("e2ehc", ["--masters", str(MASTERS), "--etcd", "stacked", "--nodes", "1"],
                     check_leftovers=True) as c:
        yield c


def _ops(c: Cluster) -> LocalOps:
    assert isinstance(c.ops, LocalOps)
    return c.ops


def _masters(c: Cluster) -> dict[str, dict[str, Any]]:
    return {m["name"]: m for m in _ops(c).status()["masters"]}


def _all_healthy(c: Cluster) -> dict[str, dict[str, Any]] | None:
    ms = _masters(c)
    ok = all(m["etcdHealthy"] and m["apiReady"] and all(m["pids"][p] for p in
                                                        ("etcd", "apiserver", "controller-manager", "scheduler"))
             for m in ms.values())
    return ms if ok else None


def _wait_healthy(c: Cluster, what: str) -> None:
    """Until every master is whole and healthy; on timeout, what was not, with its log's tail."""
    try:
        wait_until(lambda: _all_healthy(c), 90, what)
    except TimeoutError:
        import pathlib

        report = []
        for name, m in _masters(c).items():
            report.append(f"{name}: etcdHealthy={m['etcdHealthy']} apiReady={m['apiReady']} pids={m['pids']}")
            for comp, pid in m["pids"].items():
                log = pathlib.Path(c.state_dir, "masters", name, "logs", f"{comp}.log")
                if not pid and comp != "dns" and log.exists():
                    report.append(f"--- {log} (tail)\n" + "\n".join(log.read_text(errors="replace")
                                                                     .splitlines()[-15:]))
        raise AssertionError(f"{what}: not within 90s\n" + "\n".join(report)) from None


@pytest.fixture
def mended(ha: Cluster) -> Iterator[Cluster]:
    """The shared cluster with every master whole and healthy, before and after the test."""
    _wait_healthy(ha, "every master's processes up, etcd healthy, API ready")
    yield ha
    for name, m in _masters(ha).items():
        if m["netns"] is None or not all(m["pids"][p] for p in ("etcd", "apiserver", "controller-manager",
                                                                 "scheduler")):
            _ops(ha).cluster("start-master", name, timeout=180)
    _wait_healthy(ha, "every master healthy again after the test")


# --- helpers -------------------------------------------------------------------------------


def _client(c: Cluster, first: str | None = None, **kw: Any) -> rest.Client:
    """Our failover client on every master's API server (the kubeconfig's list), `first` first."""
    access = kubeconfig_mod.load(c.kubeconfig)
    servers = list(access.servers or [access.server])
    if first is not None:
        servers = [first, *(s for s in servers if s != first)]
    return rest.Client(servers, token=access.token, tls=access.tls(), **kw)


async def _holder(client: rest.Client, lease: str) -> str:
    try:
        obj = await client.get(LEASES, lease, "kube-system")
    except (errors.StatusError, OSError):
        return ""  # mid-failover: the caller polls
    return str((obj.get("spec") or {}).get("holderIdentity") or "")


def _master_of(c: Cluster, component: str, identity: str) -> str | None:
    """Which master's `component` is `identity` (it logs it when it becomes leader)."""
    if not identity:
        return None
    import pathlib

    for log in sorted(pathlib.Path(c.state_dir, "masters").glob(f"master*/logs/{component}.log")):
        if identity in log.read_text(errors="replace"):
            return log.parents[1].name
    return None


async def _poll(predicate: Any, timeout: float, what: str, interval: float = 0.2) -> Any:
    """Await `predicate()` (a coroutine function) until truthy, at most `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        got = await predicate()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
        await asyncio.sleep(interval)


async def _thread(fn: Any, *args: Any, **kw: Any) -> Any:
    return await asyncio.to_thread(fn, *args, **kw)


async def _leaders_on(c: Cluster, client: rest.Client, target: str) -> None:
    """Make `target`'s controller manager and scheduler the leaders: the other masters'
    ones are SIGKILLed until `target`'s (the only candidate left) holds each Lease, then
    started again as standbys."""
    others = [name for name in _masters(c) if name != target]
    for component, lease in (("controller-manager", CM_LEASE), ("scheduler", SCHED_LEASE)):
        async def on_target(component: str = component, lease: str = lease) -> bool:
            return _master_of(c, component, await _holder(client, lease)) == target

        if await on_target():
            continue
        for name in others:
            pid = _masters(c)[name]["pids"][component]
            if pid:
                os.kill(pid, signal.SIGKILL)
        await _poll(on_target, 60, f"the {lease} Lease to move to {target}")
    for name in others:
        await _thread(_ops(c).cluster, "start-master", name, timeout=180)


class Watch:
    """A gapless watch through the failover client: when a stream breaks (its master's
    processes were killed) or goes silent for 10 s (a master cut off with its processes
    alive would send nothing), it is opened again from the last resourceVersion on the
    next API server. A 410 (the version left the window) is a gap: recorded, and the
    test fails on it."""

    def __init__(self, client: rest.Client, res: resources.Resource, namespace: str, rv: str) -> None:
        self.client = client
        self.res = res
        self.namespace = namespace
        self.rv = rv
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.gaps: list[str] = []
        self.reopened = 0

    async def run(self) -> None:
        while True:
            try:
                stream = self.client.watch(self.res, self.namespace, resource_version=self.rv, timeout_seconds=5)
                it = stream.__aiter__()
                while True:
                    # Bookmarks or the server's end of the stream come within 5 s on a live
                    # server; silence for longer is a dead one.
                    ev = await asyncio.wait_for(it.__anext__(), 10)
                    if ev.get("type") == "ERROR":
                        code = (ev.get("object") or {}).get("code")
                        if code == 410:
                            self.gaps.append(json.dumps(ev)[:300])
                            return
                        break
                    obj = ev.get("object") or {}
                    self.rv = (obj.get("metadata") or {}).get("resourceVersion") or self.rv
                    if ev.get("type") != "BOOKMARK":
                        self.events.append((str(ev.get("type")), obj))
            except StopAsyncIteration:
                continue
            except asyncio.TimeoutError:
                self.client._fail_over(self.client.server, TimeoutError("watch silent"))
                self.reopened += 1
            except errors.StatusError as e:
                if e.code == 410:
                    self.gaps.append(str(e))
                    return
                self.reopened += 1
                await asyncio.sleep(0.2)


def _live(pod: dict[str, Any]) -> bool:
    return not pod["metadata"].get("deletionTimestamp") and \
        (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed")


def _owner(pod: dict[str, Any]) -> str:
    return next((r["uid"] for r in pod["metadata"].get("ownerReferences") or [] if r.get("controller")), "")


def _check_pod_history(events: list[tuple[str, dict[str, Any]]]) -> tuple[list[str], dict[str, int]]:
    """Violations of "bound once" on a pod watch, and the most live pods each owner had at once."""
    problems: list[str] = []
    node_of: dict[str, str] = {}
    scheduled_at: dict[str, set[str]] = {}
    current: dict[str, dict[str, Any]] = {}
    peak: dict[str, int] = {}
    for kind, pod in events:
        uid = pod["metadata"]["uid"]
        name = pod["metadata"]["name"]
        node = (pod.get("spec") or {}).get("nodeName") or ""
        if uid in node_of and node_of[uid] and node != node_of[uid]:
            problems.append(f"pod {name}: nodeName {node_of[uid]!r} -> {node!r}")
        if node:
            node_of[uid] = node
        for cond in (pod.get("status") or {}).get("conditions") or []:
            if cond.get("type") == "PodScheduled" and cond.get("status") == "True":
                scheduled_at.setdefault(uid, set()).add(str(cond.get("lastTransitionTime")))
        if kind == "DELETED":
            current.pop(uid, None)
        else:
            current[uid] = pod
        counts: dict[str, int] = {}
        for p in current.values():
            if _live(p):
                counts[_owner(p)] = counts.get(_owner(p), 0) + 1
        for owner, n in counts.items():
            peak[owner] = max(peak.get(owner, 0), n)
    problems += [f"pod {uid}: bound {len(times)} times ({sorted(times)})" for uid, times in scheduled_at.items()
                 if len(times) > 1]
    return problems, peak


async def _uids(client: rest.Client) -> dict[str, str]:
    """uid -> what, for everything the cluster keeps."""
    out = {}
    for res in KEPT:
        for obj in (await client.list_all(res))["items"]:
            meta = obj["metadata"]
            out[meta["uid"]] = f"{res.plural} {meta.get('namespace', '')}/{meta['name']}"
    return out


# --- 1: the leading master dies mid-roll-out ------------------------------------------------


def test_leader_master_sigkilled_mid_rollout(mended: Cluster) -> None:
    asyncio.run(_leader_mid_rollout(mended))


async def _leader_mid_rollout(c: Cluster) -> None:
    ns = "chaos-" + uuid.uuid4().hex[:6]
    async with _client(c, timeout=REQUEST_TIMEOUT) as client, _client(c, timeout=REQUEST_TIMEOUT) as wclient, \
            _client(c, timeout=REQUEST_TIMEOUT) as rclient:
        await client.create(NAMESPACES, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
        dep = deployment("web", REPLICAS)
        dep["spec"]["strategy"] = {"type": "RollingUpdate",
                                   "rollingUpdate": {"maxSurge": MAX_SURGE, "maxUnavailable": 2}}
        # Each batch waits this long after its pods are Ready: the roll-out takes several
        # batches of seconds, so the kill lands in its middle, not after its end.
        dep["spec"]["minReadySeconds"] = MIN_READY
        await client.create(DEPLOYMENTS, dep, ns)

        async def available() -> bool:
            d = await client.get(DEPLOYMENTS, "web", ns)
            return int((d.get("status") or {}).get("availableReplicas") or 0) == REPLICAS
        await _poll(available, 180, f"{REPLICAS} replicas available before the roll-out")
        # The harshest master to lose: the one every component and kubelet talks to first
        # (master1 heads every kubeconfig's list), leading both the controller manager and
        # the scheduler.
        leader = "master1"
        await _leaders_on(c, client, leader)
        masters = _masters(c)
        before = await _uids(client)

        pod_list = await client.list(PODS, ns)
        rs_list = await client.list(REPLICASETS, ns)
        pods_w = Watch(wclient, PODS, ns, pod_list["metadata"]["resourceVersion"])
        rs_w = Watch(rclient, REPLICASETS, ns, rs_list["metadata"]["resourceVersion"])
        pods_w.events = [("ADDED", p) for p in pod_list["items"]]
        rs_w.events = [("ADDED", r) for r in rs_list["items"]]
        tasks = [asyncio.create_task(pods_w.run()), asyncio.create_task(rs_w.run())]
        try:
            old_rs = {r["metadata"]["uid"] for r in rs_list["items"]}
            await client.patch(DEPLOYMENTS, "web", {"spec": {"template": {"metadata": {"annotations": {
                "chaos/rev": "2"}}}}}, ns)

            async def mid() -> bool:
                new = [p for p in (await client.list(PODS, ns))["items"] if _owner(p) and _owner(p) not in old_rs]
                return bool(new)
            await _poll(mid, 60, "the roll-out to start (a pod of the new ReplicaSet)", interval=0.05)
            # The roll-out's state just before the kill (a list after it would race with the
            # new leader): the rest of it is the survivors' work.
            made = [p for p in (await client.list(PODS, ns))["items"] if _owner(p) and _owner(p) not in old_rs]
            assert len(made) < REPLICAS, "the roll-out was done before the kill: nothing was tested"
            killed_at = time.monotonic()
            await _thread(_ops(c).cluster, "stop-master", leader)
            gone = [p for p, pid in masters[leader]["pids"].items() if pid and procs.pid_alive(pid)]
            assert not gone, f"{leader}: still alive after the power-off: {gone}"

            async def done() -> bool:
                d = await client.get(DEPLOYMENTS, "web", ns)
                s = d.get("status") or {}
                return (s.get("observedGeneration") or 0) >= d["metadata"]["generation"] and \
                    all(s.get(k) == REPLICAS for k in ("updatedReplicas", "replicas", "availableReplicas",
                                                        "readyReplicas"))
            await _poll(done, 180, "the roll-out to finish without the leading master")
            took = time.monotonic() - killed_at
            # The watches have seen everything up to now.
            now_rv = (await client.list(PODS, ns))["metadata"]["resourceVersion"]
            await _poll(lambda: _async_true(int(pods_w.rv) >= int(now_rv) or bool(pods_w.gaps)), 30,
                        "the pod watch to catch up")
            rs_now = await client.list(REPLICASETS, ns)
            await _poll(lambda: _async_true(int(rs_w.rv) >= int(rs_now["metadata"]["resourceVersion"]) or
                                            bool(rs_w.gaps)), 30, "the ReplicaSet watch to catch up")
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        assert not pods_w.gaps and not rs_w.gaps, f"a watch lost events: {pods_w.gaps + rs_w.gaps}"
        problems, peak = _check_pod_history(pods_w.events)
        asked: dict[str, int] = {}
        for _, rs in rs_w.events:
            uid = rs["metadata"]["uid"]
            asked[uid] = max(asked.get(uid, 0), int((rs.get("spec") or {}).get("replicas") or 0))
        for uid, n in asked.items():
            if n > REPLICAS + MAX_SURGE:
                problems.append(f"ReplicaSet {uid} asked for {n} > {REPLICAS}+{MAX_SURGE}")
        for owner, n in peak.items():
            if n > asked.get(owner, 0):
                problems.append(f"ReplicaSet {owner}: {n} live pods at once, more than its most replicas "
                                f"{asked.get(owner, 0)}")
        assert not problems, problems
        assert len(asked) == 2, f"one old and one new ReplicaSet expected: {asked}"

        after = await _uids(client)
        replaced = {uid for _, p in pods_w.events for uid in [p["metadata"]["uid"]]}
        lost = {uid: what for uid, what in before.items() if uid not in after and uid not in replaced}
        assert not lost, f"objects lost: {lost}"
        print(f"roll-out finished {took:.1f}s after {leader} was powered off ({len(made)} of {REPLICAS} new "
              f"pods made before); "
              f"watches reopened {pods_w.reopened}+{rs_w.reopened} times")


async def _async_true(value: bool) -> bool:
    return value


# --- etcd members -------------------------------------------------------------------------


def _etcd_is_leader(c: Cluster, name: str) -> bool:
    ns = f"/run/netns/mk8s-{c.name}-{name}"
    out = run(["nsenter", f"--net={ns}", "--", "curl", "-sS", "-m", "5", "http://127.0.0.1:2379/metrics"],
              check=False, timeout=30).stdout
    return any(line.strip() == "etcd_server_is_leader 1" for line in out.splitlines())


def _kill_etcd(c: Cluster, name: str, pid: int | None = None) -> float:
    """SIGKILL master `name`'s etcd member (by its pid, as `cluster status` shows it; the
    CLI powers off whole masters only); when the signal was sent."""
    pid = pid or _masters(c)[name]["pids"]["etcd"]
    assert pid, f"{name} has no etcd"
    sent = time.monotonic()
    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: not procs.pid_alive(pid), 10, f"etcd {pid} to die")
    return sent


def test_one_etcd_member_killed_no_request_fails(mended: Cluster) -> None:
    c = mended
    masters = _masters(c)
    victim = wait_until(lambda: next((n for n in masters if _etcd_is_leader(c, n)), None), 30,
                        "an etcd leader")
    asyncio.run(_stream_through_kill(c, victim, masters[victim]["server"], masters[victim]["pids"]["etcd"]))


async def _stream_through_kill(c: Cluster, victim: str, first: str, pid: int) -> None:
    ns = "etcd1-" + uuid.uuid4().hex[:6]
    failures: list[tuple[float, str, errors.StatusError | OSError]] = []  # (sent at, what, error)
    created: dict[str, str] = {}
    ok_after = [0]
    dead_at = [float("inf")]  # when the SIGKILL was sent
    stop = asyncio.Event()
    async with _client(c, first=first, timeout=REQUEST_TIMEOUT) as client:
        await client.create(NAMESPACES, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})

        async def worker(w: int) -> None:
            i = 0
            while not stop.is_set():
                name = f"w{w}-{i}"
                i += 1
                sent = time.monotonic()
                try:
                    obj = await client.create(CONFIGMAPS, {"apiVersion": "v1", "kind": "ConfigMap",
                                                           "metadata": {"name": name}, "data": {"i": str(i)}}, ns)
                    created[name] = obj["metadata"]["uid"]
                    sent = time.monotonic()
                    got = await client.get(CONFIGMAPS, name, ns)
                    assert got["metadata"]["uid"] == created[name], (got, created[name])
                except (errors.StatusError, OSError) as e:
                    failures.append((sent, f"{name} via {client.server}", e))
                    await asyncio.sleep(0.1)
                    continue
                if sent > dead_at[0]:
                    ok_after[0] += 1

        workers = [asyncio.create_task(worker(w)) for w in range(WORKERS)]
        try:
            await _poll(lambda: _async_true(len(created) >= 20), 60, "the stream to run")
            dead_at[0] = await _thread(_kill_etcd, c, victim, pid)
            await _poll(lambda: _async_true(ok_after[0] >= 100 or len(failures) > 20), 120,
                        "100 requests to succeed without the member")
            await _thread(_ops(c).cluster, "start-master", victim, timeout=180)
            back = ok_after[0]
            await _poll(lambda: _async_true(ok_after[0] >= back + 50 or len(failures) > 20), 120,
                        "50 more requests after the member returned")
        finally:
            stop.set()
            await asyncio.gather(*workers, return_exceptions=True)
        # A create on the wire to the member at the instant it died cannot be answered either
        # way (etcd may have committed it; its API server only sees the connection break):
        # 503 "may or may not have been applied", at most one per worker, and only for what
        # was sent before the API server could notice (the kill + 1 s). Nothing else fails.
        in_flight = [f for f in failures if f[0] < dead_at[0] + 1 and isinstance(f[2], errors.ServiceUnavailable)
                     and "may or may not have been applied" in f[2].message]
        others = [f"{what}: {e!r}"[:300] for sent, what, e in failures if (sent, what, e) not in in_flight]
        assert not others, f"{len(others)} requests failed: {others[:5]}"
        assert len(in_flight) <= WORKERS, in_flight
        assert client.failovers >= 1, "the stream never left the master whose etcd member died: nothing tested"
        items = (await client.list_all(CONFIGMAPS, ns))["items"]
        have = {o["metadata"]["name"]: o["metadata"]["uid"] for o in items}
        missing = {n: u for n, u in created.items() if have.get(n) != u}
        assert not missing, f"created ConfigMaps lost: {list(missing)[:10]}"
        print(f"etcd {victim} killed: {ok_after[0]} requests after it died, none failed; "
              f"{len(in_flight)} in flight at the kill answered 'may or may not have been applied'")


def _raw_create(c: Cluster, server: str, ns: str, name: str) -> tuple[int, dict[str, Any] | None, float]:
    """POST a ConfigMap to one API server (no failover): its status, JSON body and how long it took."""
    import urllib.request

    opener = kubeconfig_mod.urllib_opener(c.kubeconfig)
    body = json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}}).encode()
    req = urllib.request.Request(f"{server}/api/v1/namespaces/{ns}/configmaps", data=body, method="POST",
                                 headers={"Content-Type": "application/json"})
    t0 = time.monotonic()
    try:
        with opener.open(req, timeout=REQUEST_TIMEOUT) as resp:
            return resp.status, json.loads(resp.read()), time.monotonic() - t0
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            return e.code, json.loads(raw), time.monotonic() - t0
        except ValueError:
            return e.code, None, time.monotonic() - t0


def _readyz(c: Cluster, server: str) -> int:
    opener = kubeconfig_mod.urllib_opener(c.kubeconfig)
    try:
        with opener.open(server + "/readyz", timeout=REQUEST_TIMEOUT) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as e:
        return int(e.code)
    except (OSError, ssl.SSLError):
        return 0


def test_two_etcd_members_killed_fail_clearly_then_recover(mended: Cluster) -> None:
    c = mended
    masters = _masters(c)
    ns = "etcd2-" + uuid.uuid4().hex[:6]
    c.kubectl("create", "namespace", ns)
    victims = sorted(masters)[1:]
    for v in victims:
        _kill_etcd(c, v)
    try:
        for name, m in masters.items():
            def failed(server: str = m["server"]) -> tuple[int, dict[str, Any] | None, float] | None:
                code, body, took = _raw_create(c, server, ns, "q" + uuid.uuid4().hex[:6])
                return (code, body, took) if code >= 500 else None
            # The first write after the loss may still be in a quorum's last moment: poll.
            code, body, took = wait_until(failed, 60, f"a write through {name} to fail without a quorum")
            assert body is not None and body.get("kind") == "Status" and body.get("status") == "Failure" and \
                body.get("code") == code, f"{name}: not a Kubernetes Status: {code} {body}"
            assert took < REQUEST_TIMEOUT, f"{name}: answered after {took:.1f}s"
            wait_until(lambda s=m["server"]: _readyz(c, s) not in (0, 200), 30, f"{name}'s /readyz to fail")
    finally:
        for v in victims:
            _ops(c).cluster("start-master", v, timeout=180)
    for name, m in masters.items():
        wait_until(lambda s=m["server"]: _readyz(c, s) == 200, 90, f"{name}'s /readyz ok again")
        wait_until(lambda s=m["server"]: _raw_create(c, s, ns, "r" + uuid.uuid4().hex[:6])[0] == 201, 60,
                   f"a write through {name} to succeed again")
    c.kubectl("apply", "-n", ns, "-f", "-", input=json.dumps(deployment("after", 2)))

    def available() -> bool:
        out = c.kubectl("get", "deployment", "after", "-n", ns, "-o", "json", check=False)
        return out.returncode == 0 and \
            int((json.loads(out.stdout).get("status") or {}).get("availableReplicas") or 0) == 2
    wait_until(available, 120, "a Deployment made after the recovery to become available")

