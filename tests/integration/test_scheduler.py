"""The scheduler and hollow nodes as real processes against the real API server.

Each test runs its own `minik8s hollow-node` and `minik8s scheduler` processes;
the scheduler has a scheduler name of its own and the nodes carry a label of
their own, so tests never schedule each other's pods. Nodes other tests left
in the cluster only add to the "didn't match" count of a FailedScheduling
message, which the expected texts account for.
"""
from __future__ import annotations

import asyncio
import pathlib
import signal
import subprocess
import sys
import uuid
from typing import Any, Iterator

import pytest

from minik8s.api import identities
from minik8s.api import resources
from minik8s.client import rest
from minik8s.util import procs
from tests import conftest

pytestmark = pytest.mark.integration

Obj = dict[str, Any]
PODS = resources.must("", "v1", "pods")
NODES = resources.must("", "v1", "nodes")
EVENTS = resources.must("", "v1", "events")
LEASES = resources.must("coordination.k8s.io", "v1", "leases")
RS = resources.must("apps", "v1", "replicasets")
TEST_LABEL = "test.minik8s.io/scheduler"
AFFINITY_REASON = "node(s) didn't match Pod's node affinity/selector"


class Harness:
    """Starts component processes for one test; stops them and removes their nodes afterwards."""

    def __init__(self, apiserver: conftest.ApiServerProcess, tmp: pathlib.Path, namespace: str) -> None:
        self.apiserver = apiserver
        self.tmp = tmp
        self.namespace = namespace
        self.tag = namespace  # node label value and scheduler name suffix
        self.scheduler_name = f"sched-{namespace}"
        self.procs: list[tuple[subprocess.Popen[bytes], pathlib.Path]] = []
        self.next_index = 0

    def start(self, *args: str) -> subprocess.Popen[bytes]:
        log = self.tmp / f"{args[0]}-{self.namespace}-{uuid.uuid4().hex[:6]}.log"
        with open(log, "wb") as out:
            # Hollow nodes stand in for many kubelets in one process: no one node's identity fits.
            identity = (identities.SCHEDULER, ()) if args[0] == "scheduler" else \
                (identities.ADMIN, (identities.MASTERS,))
            proc = subprocess.Popen([sys.executable, "-m", "minik8s", *args, "--kubeconfig",
                                     self.apiserver.kubeconfig_for(*identity)],
                                    stdout=out, stderr=subprocess.STDOUT, cwd=str(conftest.REPO))
        self.procs.append((proc, log))
        return proc

    def hollow(self, prefix: str, count: int, *, labels: str = "", cpu: str = "4", memory: str = "16Gi",
               pods: int = 110) -> list[str]:
        all_labels = f"{TEST_LABEL}={self.tag}" + (f",{labels}" if labels else "")
        first = self.next_index
        self.next_index += count
        name_prefix = f"{self.tag}-{prefix}-"
        self.start("hollow-node", "--count", str(count), "--name-prefix", name_prefix, "--first-index", str(first),
                   "--labels", all_labels, "--cpu", cpu, "--memory", memory, "--pods", str(pods))
        return [f"{name_prefix}{first + i}" for i in range(count)]

    def scheduler(self, *extra: str) -> subprocess.Popen[bytes]:
        if "--leader-elect" in extra:
            self.allow_lease()
        return self.start("scheduler", "--scheduler-name", self.scheduler_name,
                          "--lease-name", self.scheduler_name, "--pod-initial-backoff", "0.2",
                          "--pod-max-backoff", "1", *extra)

    def allow_lease(self) -> None:
        """This test's scheduler elects its leader in a Lease of its own name, which the default
        policy does not give system:kube-scheduler (only `kube-scheduler`): a Role does, as an
        administrator renaming the lease would have to."""
        rbac = "/apis/rbac.authorization.k8s.io/v1/namespaces/kube-system"
        name = self.scheduler_name
        conftest.http(self.apiserver, "POST", f"{rbac}/roles", {
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": name},
            "rules": [{"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "resourceNames": [name],
                       "verbs": ["get", "update"]}]}, check=False)
        conftest.http(self.apiserver, "POST", f"{rbac}/rolebindings", {
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": name},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": identities.SCHEDULER}]},
            check=False)

    def logs(self) -> str:
        return "\n".join(f"--- {log.name}\n{procs.log_tail(str(log), 30)}" for _, log in self.procs)

    def close(self) -> None:
        for proc, _ in self.procs:
            procs.stop_pid(proc.pid, timeout=10)
            proc.wait(timeout=5)
        for kind in ("roles", "rolebindings"):
            conftest.http(self.apiserver, "DELETE", f"/apis/rbac.authorization.k8s.io/v1/namespaces/kube-system/{kind}/"
                          f"{self.scheduler_name}", check=False)
        _, body = conftest.http(self.apiserver, "GET", f"/api/v1/nodes?labelSelector={TEST_LABEL}%3D{self.tag}")
        for node in body.get("items") or []:
            name = node["metadata"]["name"]
            conftest.http(self.apiserver, "DELETE", f"/api/v1/nodes/{name}", check=False)
            conftest.http(self.apiserver, "DELETE",
                          f"/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/{name}", check=False)


@pytest.fixture
def harness(apiserver: conftest.ApiServerProcess, session_tmp: pathlib.Path, namespace: str) -> Iterator[Harness]:
    h = Harness(apiserver, session_tmp, namespace)
    try:
        yield h
    finally:
        h.close()


def pod_body(h: Harness, name: str, *, cpu: str | None = None, memory: str | None = None, **spec: Any) -> Obj:
    requests = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v}
    container: Obj = {"name": "c", "image": "busybox", "command": ["sleep", "3600"]}
    if requests:
        container["resources"] = {"requests": requests}
    owner = spec.pop("owner", None)
    body: Obj = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": h.namespace},
                 "spec": {"schedulerName": h.scheduler_name, "containers": [container],
                          "terminationGracePeriodSeconds": 30, **spec}}
    if owner:
        body["metadata"]["ownerReferences"] = [owner]
    return body


async def wait_nodes(client: rest.Client, h: Harness, n: int) -> list[Obj]:
    async def ready() -> list[Obj] | None:
        items = (await client.list(NODES, label_selector=f"{TEST_LABEL}={h.tag}"))["items"]
        ok = [i for i in items if any(c["type"] == "Ready" and c["status"] == "True"
                                      for c in i["status"].get("conditions", []))]
        return ok if len(ok) == n else None
    try:
        return await procs.wait_for_async(ready, 60, what=f"{n} hollow nodes")
    except TimeoutError:
        raise AssertionError(h.logs()) from None


async def wait_pods(client: rest.Client, h: Harness, pred: Any, what: str, timeout: float = 60) -> list[Obj]:
    async def check() -> list[Obj] | None:
        items = (await client.list(PODS, h.namespace))["items"]
        return items if pred(items) else None
    try:
        return await procs.wait_for_async(check, timeout, interval=0.1, what=what)
    except TimeoutError as e:
        raise AssertionError(f"{e}\n{h.logs()}") from None


async def other_nodes(client: rest.Client, h: Harness) -> int:
    """Nodes in the cluster that are not this test's (left by others)."""
    items = (await client.list(NODES))["items"]
    return sum(1 for n in items if (n["metadata"].get("labels") or {}).get(TEST_LABEL) != h.tag)


def message(total: int, counts: dict[str, int]) -> str:
    parts = sorted(((n, r) for r, n in counts.items() if n), key=lambda nr: (-nr[0], nr[1]))
    return f"0/{total} nodes are available: " + ", ".join(f"{n} {r}" for n, r in parts)


async def events_for(client: rest.Client, namespace: str, name: str) -> list[Obj]:
    return (await client.list(EVENTS, namespace, field_selector=f"involvedObject.name={name}"))["items"]


def by_name(items: list[Obj]) -> dict[str, Obj]:
    return {p["metadata"]["name"]: p for p in items}


def running(p: Obj) -> bool:
    return p["status"].get("phase") == "Running" and bool(p["status"].get("podIP"))


async def test_pods_land_on_nodes_matching_selector_and_affinity(client: rest.Client, harness: Harness) -> None:
    h = harness
    ssd = h.hollow("ssd", 2, labels="disk=ssd")
    hdd = h.hollow("hdd", 2, labels="disk=hdd,cores=16")
    await wait_nodes(client, h, 4)
    h.scheduler("--no-leader-elect")
    for i in range(3):
        await client.create(PODS, pod_body(h, f"sel-{i}", nodeSelector={"disk": "ssd"}))
    for i in range(3):
        await client.create(PODS, pod_body(h, f"aff-{i}", affinity={"nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchExpressions": [
                {"key": "cores", "operator": "Gt", "values": ["8"]},
                {"key": TEST_LABEL, "operator": "In", "values": [h.tag]}]}]}}}))
    for i in range(3):
        await client.create(PODS, pod_body(h, f"pref-{i}", nodeSelector={TEST_LABEL: h.tag}, affinity={
            "nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
                {"weight": 100, "preference": {"matchExpressions": [
                    {"key": "disk", "operator": "NotIn", "values": ["ssd"]}]}}]}}))
    pods = by_name(await wait_pods(client, h, lambda items: len(items) == 9 and all(map(running, items)),
                                   "9 pods Running on hollow nodes"))
    for name, pod in pods.items():
        node = pod["spec"]["nodeName"]
        assert node in (ssd if name.startswith("sel") else hdd), (name, node)
        assert pod["status"]["podIP"].startswith("10.128.")
        cond = {c["type"]: c["status"] for c in pod["status"]["conditions"]}
        assert cond["PodScheduled"] == "True" and cond["Ready"] == "True"
    # Events are recorded in the background: wait for it rather than expect it with the binding.
    async def scheduled_events() -> list[Obj]:
        return [e for e in await events_for(client, h.namespace, "sel-0") if e["reason"] == "Scheduled"]
    evs = await procs.wait_for_async(scheduled_events, 30, what="the Scheduled event of sel-0")
    assert [(e["reason"], e["message"], e["source"]["component"]) for e in evs] == [
        ("Scheduled", f"Successfully assigned {h.namespace}/sel-0 to {pods['sel-0']['spec']['nodeName']}",
         h.scheduler_name)]
    # Every hollow node heartbeats through its Lease.
    for node in ssd + hdd:
        lease = await client.get(LEASES, node, "kube-node-lease")
        assert lease["spec"]["holderIdentity"] == node and lease["spec"]["renewTime"]
        assert lease["metadata"]["ownerReferences"][0]["name"] == node
    # A graceful delete of a pod on a hollow node completes at once: the node "stops" it.
    await client.delete(PODS, "sel-0", h.namespace)
    await wait_pods(client, h, lambda items: "sel-0" not in by_name(items), "sel-0 to be deleted", timeout=30)


async def test_unschedulable_pod_reports_why_and_runs_once_a_node_fits(client: rest.Client,
                                                                      harness: Harness) -> None:
    h = harness
    h.hollow("small", 2, labels="pool=small", cpu="1")
    h.hollow("big", 1, labels="pool=big", cpu="8")
    await wait_nodes(client, h, 3)
    h.scheduler("--no-leader-elect")
    await client.create(PODS, pod_body(h, "wide", cpu="2", nodeSelector={"pool": "small", TEST_LABEL: h.tag}))
    others = await other_nodes(client, h)
    expected = message(3 + others, {"Insufficient cpu": 2, AFFINITY_REASON: 1 + others})

    async def failed_event() -> list[Obj]:
        return [e for e in await events_for(client, h.namespace, "wide") if e["reason"] == "FailedScheduling"]
    try:
        evs = await procs.wait_for_async(failed_event, 30, what="a FailedScheduling event")
    except TimeoutError:
        raise AssertionError(h.logs()) from None
    assert evs[0]["message"] == expected
    assert evs[0]["type"] == "Warning" and evs[0]["involvedObject"]["kind"] == "Pod"

    def condition_set(items: list[Obj]) -> bool:
        conds = [c for c in items[0]["status"].get("conditions", []) if c["type"] == "PodScheduled"]
        return bool(conds) and conds[0]["status"] == "False"
    pod = (await wait_pods(client, h, condition_set, "PodScheduled=False"))[0]
    cond = next(c for c in pod["status"]["conditions"] if c["type"] == "PodScheduled")
    assert (cond["reason"], cond["message"]) == ("Unschedulable", expected)
    assert not pod["spec"].get("nodeName")
    # A node that fits appears: the pending pod is scheduled there (no resubmission).
    roomy = h.hollow("roomy", 1, labels="pool=small", cpu="4")
    pod = (await wait_pods(client, h, lambda items: all(map(running, items)), "the pod to run on the new node"))[0]
    assert pod["spec"]["nodeName"] == roomy[0]
    cond = next(c for c in pod["status"]["conditions"] if c["type"] == "PodScheduled")
    assert cond["status"] == "True"


async def test_volume_conflict_keeps_writers_of_one_disk_apart(client: rest.Client, harness: Harness) -> None:
    h = harness
    nodes = h.hollow("disk", 2)
    await wait_nodes(client, h, 2)
    h.scheduler("--no-leader-elect")
    volume = [{"name": "data", "gcePersistentDisk": {"pdName": f"pd-{h.tag}", "fsType": "ext4"}}]
    for i in range(3):
        await client.create(PODS, pod_body(h, f"writer-{i}", volumes=volume, nodeSelector={TEST_LABEL: h.tag}))

    def two_bound_one_reported(items: list[Obj]) -> bool:
        bound = [p for p in items if p["spec"].get("nodeName")]
        pending = [p for p in items if not p["spec"].get("nodeName")]
        return len(bound) == 2 and len(pending) == 1 and any(
            c["type"] == "PodScheduled" and c["status"] == "False" for c in pending[0]["status"].get("conditions", []))
    items = await wait_pods(client, h, two_bound_one_reported, "two writers bound, the third refused")
    assert sorted(p["spec"]["nodeName"] for p in items if p["spec"].get("nodeName")) == sorted(nodes)
    pending = next(p for p in items if not p["spec"].get("nodeName"))
    cond = next(c for c in pending["status"]["conditions"] if c["type"] == "PodScheduled")
    others = await other_nodes(client, h)
    assert cond["message"] == message(2 + others, {"node(s) had no available disk": 2, AFFINITY_REASON: others})


async def test_spreads_one_owners_pods_across_nodes(client: rest.Client, harness: Harness) -> None:
    h = harness
    nodes = h.hollow("spread", 3)
    await wait_nodes(client, h, 3)
    # Only spreading decides: the resource scores would spread equal pods too.
    h.scheduler("--no-leader-elect", "--score-weights", "LeastRequested=0,BalancedAllocation=0,SelectorSpread=1")
    rs = await client.create(RS, {
        "apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "web", "namespace": h.namespace},
        "spec": {"replicas": 0, "selector": {"matchLabels": {"app": "web"}}, "template": {
            "metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "busybox"}]}}}})
    owner = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web", "uid": rs["metadata"]["uid"],
             "controller": True, "blockOwnerDeletion": True}
    for i in range(6):
        await client.create(PODS, pod_body(h, f"web-{i}", owner=owner, nodeSelector={TEST_LABEL: h.tag}))
    items = await wait_pods(client, h, lambda items: len(items) == 6 and all(p["spec"].get("nodeName") for p in items),
                            "6 pods bound")
    counts = dict.fromkeys(nodes, 0)
    for p in items:
        counts[p["spec"]["nodeName"]] += 1
    assert sorted(counts.values()) == [2, 2, 2], counts


async def test_scheduler_killed_mid_burst_resumes_without_double_binding(client: rest.Client,
                                                                       harness: Harness) -> None:
    h = harness
    nodes = h.hollow("burst", 10, cpu="4", memory="8Gi")
    await wait_nodes(client, h, 10)
    lease_args = ("--leader-elect", "--lease-duration", "2", "--renew-deadline", "1.5", "--retry-period", "0.3")
    first = h.scheduler(*lease_args)
    total = 200  # 200 × 200m = exactly the 40 CPUs of the ten nodes: any overcommit leaves a pod out

    # Every nodeName each pod was ever seen with, from a watch that runs through the whole test.
    seen: dict[str, list[str]] = {}
    watch_client = h.apiserver.client()

    async def watch() -> None:
        async for ev in watch_client.watch(PODS, h.namespace, resource_version="0"):
            obj = ev.get("object") or {}
            name = (obj.get("metadata") or {}).get("name")
            node = (obj.get("spec") or {}).get("nodeName")
            if name and node and (not seen.get(name) or seen[name][-1] != node):
                seen.setdefault(name, []).append(node)
    watcher = asyncio.ensure_future(watch())

    async def create(numbers: range) -> None:
        sem = asyncio.Semaphore(8)

        async def one(i: int) -> None:
            async with sem:
                await client.create(PODS, pod_body(h, f"b-{i:03d}", cpu="200m", memory="100Mi",
                                                   nodeSelector={TEST_LABEL: h.tag}))
        await asyncio.gather(*(one(i) for i in numbers))
    # The scheduler may well keep up with the creates: the second half is only
    # created once it is dead, so the restarted one always has work to resume.
    creator = asyncio.ensure_future(create(range(total // 2)))
    try:
        await wait_pods(client, h, lambda items: sum(1 for p in items if p["spec"].get("nodeName")) >= 30,
                        "30 pods bound before the kill")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        bound_at_kill = sum(1 for p in (await client.list(PODS, h.namespace))["items"] if p["spec"].get("nodeName"))
        await creator
        await create(range(total // 2, total))
        h.scheduler(*lease_args)
        items = await wait_pods(client, h, lambda items: len(items) == total and all(
            p["spec"].get("nodeName") for p in items), f"all {total} pods bound after the restart", timeout=120)
    finally:
        creator.cancel()
        await asyncio.sleep(0.5)  # let the watch deliver what is in flight
        watcher.cancel()
        await asyncio.gather(creator, watcher, return_exceptions=True)
        await watch_client.close()
    assert bound_at_kill < total, "the kill came after the burst; nothing was resumed"
    # Exactly once: each pod got one node, and kept it.
    assert {name: len(nodes_) for name, nodes_ in seen.items() if len(nodes_) != 1} == {}
    per_node: dict[str, int] = {}
    for p in items:
        assert seen.get(p["metadata"]["name"]) in (None, [p["spec"]["nodeName"]])
        per_node[p["spec"]["nodeName"]] = per_node.get(p["spec"]["nodeName"], 0) + 200
    assert set(per_node) <= set(nodes)
    assert all(m <= 4000 for m in per_node.values()), per_node
    lease = await client.get(LEASES, h.scheduler_name, "kube-system")
    assert lease["spec"]["leaseTransitions"] >= 1
