"""The HPA controller through a real API server, controller manager and kubectl, without containers.

A real `minik8s controller-manager` (deployment, replicaset, horizontalpodautoscaling)
runs against a real API server, which scrapes a fake node: the real kubelet stats
server over a cgroup file tree that the test advances, one "container" per Ready pod,
each burning `load / ready pods` cores — the load is spread evenly, as a Service would.
test_deployment.FakeKubelet binds the pods and marks them Running and Ready.
"""
from __future__ import annotations

import asyncio
import os
import pathlib
import re
import time
import uuid
from typing import Any, AsyncIterator, Iterator

import pytest

from minik8s.api import identities
from minik8s.api import resources
from minik8s.client import rest
from minik8s.kubelet import cgroupstats
from minik8s.kubelet import fakeruntime
from minik8s.kubelet import runtime
from minik8s.kubelet import server as kubelet_server
from minik8s.kubelet import stats
from minik8s.util import procs
from tests.conftest import ApiServerProcess, ComponentProcess, http, start_apiserver, test_pki
from tests.integration.test_deployment import FakeKubelet, running

pytestmark = pytest.mark.integration

PODS = resources.must("", "v1", "pods")
KUBECTL_OLD, KUBECTL_NEW = "/usr/lib/google-cloud-sdk/bin/kubectl.1.27", "/usr/lib/google-cloud-sdk/bin/kubectl.1.33"


@pytest.fixture(scope="module")
def cluster(session_tmp: pathlib.Path, etcd: procs.EtcdProcess) -> Iterator[ApiServerProcess]:
    server = start_apiserver(session_tmp, etcd, prefix="/hpa-" + uuid.uuid4().hex[:6],
                             extra=["--metric-resolution", "1",
                                    "--proxy-metrics-port", "0"])
    cm = ComponentProcess(["controller-manager", "--kubeconfig", server.kubeconfig_for(identities.CONTROLLER_MANAGER),
                           "--no-leader-elect", "--controllers", "deployment,replicaset,horizontalpodautoscaling",
                           "--horizontal-pod-autoscaler-sync-period", "1",
                           "--horizontal-pod-autoscaler-downscale-stabilization", "4"],
                          session_tmp / f"hpa-cm-{server.port}.log").start()
    try:
        yield server
    finally:
        cm.stop()
        server.stop()


def kubectl(server: ApiServerProcess, binary: str, *args: str, check: bool = True) -> str:
    import subprocess

    cache = server.cache_dir + "-" + os.path.basename(binary)
    env = dict(os.environ, KUBECONFIG=server.kubeconfig, KUBECACHEDIR=cache, HOME=cache)
    proc = subprocess.run([binary, *args], capture_output=True, text=True, env=env, timeout=60)
    if check and proc.returncode != 0:
        raise AssertionError(f"kubectl {' '.join(args)}: {proc.stderr}")
    return proc.stdout


class BurningNode:
    """The fake node's kubelet: each Ready pod of the namespace burns load / (Ready pods) cores."""

    def __init__(self, tmp: pathlib.Path, client: rest.Client, namespace: str) -> None:
        self.root = tmp / "cgroup"
        for d in ("cpuacct", "memory"):
            (self.root / d).mkdir(parents=True)
        self.client, self.namespace = client, namespace
        self.load = 0.0  # cores, spread over the Ready pods
        self.startup_burn = 0.0  # cores each bound but not yet Ready pod burns (warming up)
        self.cpu_ns: dict[str, float] = {}
        self.containers: list[runtime.ContainerStatus] = []
        self.last = time.time()

        async def lister() -> list[runtime.ContainerStatus]:
            return list(self.containers)

        self.provider = stats.StatsProvider("fake-node", lister, cgroupstats.CgroupFs(str(self.root)))
        self.server = kubelet_server.KubeletServer(
            fakeruntime.FakeRuntime(), find_pod=lambda ns, n: None, pod_status=lambda p: {}, list_pods=list,
            tls=test_pki().kubelet_server_tls("fake-node", "127.0.0.1"), bind="127.0.0.1", port=procs.free_port(),
            stats=self.provider)

    async def tick(self) -> None:
        bound = [p for p in (await self.client.list(PODS, self.namespace))["items"]
                 if not p["metadata"].get("deletionTimestamp") and p["spec"].get("nodeName")]
        ready = {p["metadata"]["uid"] for p in bound if any(
            c.get("type") == "Ready" and c.get("status") == "True"
            for c in (p.get("status") or {}).get("conditions") or [])}
        pods = [p for p in bound if p["metadata"]["uid"] in ready or self.startup_burn]
        now = time.time()
        dt, self.last = now - self.last, now
        for p in pods:
            uid = p["metadata"]["uid"]
            rate = self.load / len(ready) if uid in ready else self.startup_burn
            self.cpu_ns[uid] = self.cpu_ns.get(uid, 0.0) + rate * dt * 1e9
            for ctl, name, value in (("cpuacct", "cpuacct.usage", int(self.cpu_ns[uid])),
                                     ("memory", "memory.usage_in_bytes", 8 << 20)):
                d = self.root / ctl / "docker" / uid
                d.mkdir(parents=True, exist_ok=True)
                (d / name).write_text(f"{value}\n")
            (self.root / "memory" / "docker" / uid / "memory.stat").write_text("total_inactive_file 0\n")
        self.containers = [runtime.ContainerStatus(
            id=p["metadata"]["uid"], name="web", pod_uid=p["metadata"]["uid"], pod_name=p["metadata"]["name"],
            pod_namespace=self.namespace, is_sandbox=False, state=runtime.RUNNING, attempt=0) for p in pods]
        await self.provider.sample()

    async def run(self) -> None:
        while True:
            await self.tick()
            await asyncio.sleep(0.5)


@pytest.fixture
async def node(cluster: ApiServerProcess, tmp_path: pathlib.Path) -> AsyncIterator[tuple[str, BurningNode, Any]]:
    namespace = "h-" + uuid.uuid4().hex[:6]
    http(cluster, "POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                                 "metadata": {"name": namespace}})
    client = cluster.client()
    burning = BurningNode(tmp_path, client, namespace)
    await burning.server.start()
    status, _ = http(cluster, "POST", "/api/v1/nodes", {"apiVersion": "v1", "kind": "Node",
                                                         "metadata": {"name": "fake-node"}}, check=False)
    _, obj = http(cluster, "GET", "/api/v1/nodes/fake-node")
    obj["status"] = {"addresses": [{"type": "InternalIP", "address": "127.0.0.1"}],
                     "daemonEndpoints": {"kubeletEndpoint": {"Port": burning.server.port}},
                     "conditions": [{"type": "Ready", "status": "True"}]}
    http(cluster, "PUT", "/api/v1/nodes/fake-node/status", obj)
    try:
        yield namespace, burning, client
    finally:
        await burning.server.stop()
        await client.close()
        http(cluster, "DELETE", f"/api/v1/namespaces/{namespace}", check=False)


def deployment(name: str, replicas: int) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "strategy": {"rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
                     "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [{
                         "name": "web", "image": "minik8s/hpa-example:1",
                         "resources": {"requests": {"cpu": "100m"}}}]}}}}


async def wait_for(predicate: Any, timeout: float, what: str) -> Any:
    return await asyncio.to_thread(procs.wait_for, predicate, timeout, interval=0.3, what=what)


def spec_replicas(cluster: ApiServerProcess, namespace: str, name: str) -> int:
    return int(http(cluster, "GET", f"/apis/apps/v1/namespaces/{namespace}/deployments/{name}")[1]["spec"]["replicas"])


def hpa_status(cluster: ApiServerProcess, namespace: str, name: str) -> dict[str, Any]:
    path = f"/apis/autoscaling/v2/namespaces/{namespace}/horizontalpodautoscalers/{name}"
    return dict(http(cluster, "GET", path)[1].get("status") or {})


class Watch:
    """spec.replicas of a Deployment, polled while the test runs."""

    def __init__(self, cluster: ApiServerProcess, namespace: str, name: str) -> None:
        self.cluster, self.namespace, self.name = cluster, namespace, name
        self.seen: list[int] = []

    async def run(self) -> None:
        while True:
            self.seen.append(await asyncio.to_thread(spec_replicas, self.cluster, self.namespace, self.name))
            await asyncio.sleep(0.2)


async def test_cpu_scale_up_and_down_with_kubectl(cluster: ApiServerProcess, node: Any) -> None:
    namespace, burning, client = node
    kubelet = FakeKubelet(client, namespace)
    http(cluster, "POST", f"/apis/apps/v1/namespaces/{namespace}/deployments", deployment("web", 1))
    watch = Watch(cluster, namespace, "web")
    async with running(kubelet, burning, watch):
        kubectl(cluster, KUBECTL_NEW, "autoscale", "deployment", "web", "-n", namespace, "--cpu-percent=50",
                "--min=1", "--max=3")
        await wait_for(lambda: ((hpa_status(cluster, namespace, "web").get("currentMetrics") or [{}])[0].get(
            "resource") or {}).get("current"), 30, "a CPU reading")
        out = kubectl(cluster, KUBECTL_OLD, "get", "hpa", "-n", namespace)
        assert re.search(r"web\s+Deployment/web\s+cpu: 0%/50%\s+1\s+3\s+1\s", out), out

        burning.load = 0.3  # 300 % of one pod's request: three pods at 100 %... capped at max 3
        await wait_for(lambda: spec_replicas(cluster, namespace, "web") == 3
                       and hpa_status(cluster, namespace, "web").get("desiredReplicas") == 3, 60, "3 replicas")
        # Three pods sharing 0.3 cores: ~100 % each, in the HPA's status and in what kubectl shows.
        await wait_for(lambda: re.search(r"cpu: (9\d|10\d)%/50%", kubectl(cluster, KUBECTL_NEW, "get", "hpa", "-n",
                                                                          namespace)), 30, "~100 % over 3 pods")

        def describe() -> str | None:
            out = kubectl(cluster, KUBECTL_NEW, "describe", "hpa", "web", "-n", namespace)
            return out if re.search(r"Deployment pods:\s+3 current / 3 desired", out) else None

        described = await wait_for(describe, 30, "the HPA's status to count 3 pods")
        burning.load = 0.0
        await wait_for(lambda: spec_replicas(cluster, namespace, "web") == 1, 60, "back to 1 replica")
    assert max(watch.seen) == 3 and min(watch.seen) == 1, watch.seen
    assert re.search(r"resource cpu on pods  \(as a percentage of request\):\s+\d+% \(\d+m\) / 50%", described)
    assert re.search(r"Deployment pods:\s+3 current / 3 desired", described), described
    assert re.search(r"Min replicas:\s+1", described) and re.search(r"Max replicas:\s+3", described), described
    assert re.search(r"AbleToScale\s+True", described) and re.search(r"ScalingActive\s+True\s+ValidMetricFound",
                                                                      described), described
    assert re.search(r"SuccessfulRescale\s+.*New size: 3; reason: cpu resource utilization \(percentage of "
                     r"request\) above target", described), described
    events = http(cluster, "GET", f"/api/v1/namespaces/{namespace}/events")[1]["items"]
    rescales = [e["message"] for e in events if e["reason"] == "SuccessfulRescale"]
    assert any(m.endswith("above target") for m in rescales) and \
        any(m.endswith("All metrics below target") for m in rescales), rescales
    assert all(e["source"]["component"] == "horizontal-pod-autoscaler" for e in events
               if e["reason"] == "SuccessfulRescale")
    # Read back as autoscaling/v1, what kubectl autoscale wrote.
    v1 = http(cluster, "GET", f"/apis/autoscaling/v1/namespaces/{namespace}/horizontalpodautoscalers/web")[1]
    assert v1["spec"]["targetCPUUtilizationPercentage"] == 50 and "currentCPUUtilizationPercentage" in v1["status"]


async def test_a_rollout_under_load_does_not_scale(cluster: ApiServerProcess, node: Any) -> None:
    """Surge pods that are not Ready yet must not make the HPA scale up, however much CPU they burn warming up.

    Averaged naively, two pods at 50 m and a warming-up one at 500 m are 200 % of the
    request: six replicas. Kubernetes' rules leave the unready pod out (and count it as
    using nothing on a scale-up), and the two Ready ones are on target.
    """
    namespace, burning, client = node
    slow = {"gate": False}
    kubelet = FakeKubelet(client, namespace, allow=lambda pod: slow["gate"] or pod["spec"]["containers"][0][
        "image"].endswith(":1"))
    http(cluster, "POST", f"/apis/apps/v1/namespaces/{namespace}/deployments", deployment("roll", 2))
    http(cluster, "POST", f"/apis/autoscaling/v2/namespaces/{namespace}/horizontalpodautoscalers", {
        "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "roll"},
        "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "roll"},
                 "minReplicas": 1, "maxReplicas": 6, "metrics": [{"type": "Resource", "resource": {
                     "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}}}]}})
    watch = Watch(cluster, namespace, "roll")
    async with running(kubelet, burning, watch):
        burning.load = 0.1  # 50 m per pod over 2 pods: on target
        burning.startup_burn = 0.5
        await wait_for(lambda: (hpa_status(cluster, namespace, "roll").get("conditions") or [{}])[0].get("reason")
                       == "ReadyForNewScale", 60, "the HPA settled at 2")
        watch.seen.clear()
        # A roll-out whose new pods stay unready for a while: the old pods carry the load meanwhile.
        patch = {"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "minik8s/hpa-example:2"}]}}}}
        await client.patch(resources.must("apps", "v1", "deployments"), "roll", patch, namespace)
        await wait_for(lambda: any(p["spec"]["containers"][0]["image"].endswith(":2") for p in
                                   http(cluster, "GET", f"/api/v1/namespaces/{namespace}/pods")[1]["items"]),
                       30, "a surge pod")
        await asyncio.sleep(8)  # several HPA syncs (every 1 s) see the unready surge pod
        slow["gate"] = True
        await wait_for(lambda: all(p["spec"]["containers"][0]["image"].endswith(":2")
                                   for p in http(cluster, "GET", f"/api/v1/namespaces/{namespace}/pods")[1]["items"]
                                   if not p["metadata"].get("deletionTimestamp")), 60, "the roll-out to finish")
    assert set(watch.seen) == {2}, watch.seen
