"""The metrics pipeline through a real API server: kubelet stats and proxy counters in, `kubectl top` out.

A real API server process scrapes a "node" made of the real kubelet server and stats
provider (over a cgroup file tree in a temporary directory, which the test advances)
and the real proxy metrics server (userspace-mode counters the test feeds). The real
kubectl 1.27, 1.29 and 1.33 then run `top`.
"""
from __future__ import annotations

import asyncio
import os
import pathlib
import re
import subprocess
import uuid
from typing import Any, AsyncIterator, Iterator

import pytest

from minik8s.kubelet import cgroupstats
from minik8s.kubelet import fakeruntime
from minik8s.kubelet import runtime
from minik8s.kubelet import server as kubelet_server
from minik8s.kubelet import stats
from minik8s.proxy import counters
from minik8s.proxy import metrics as proxy_metrics
from minik8s.proxy import servicemap as sm
from minik8s.util import procs
from tests.conftest import ApiServerProcess, http, start_apiserver, test_pki

pytestmark = pytest.mark.integration

KUBECTLS = [f"/usr/lib/google-cloud-sdk/bin/kubectl.1.{v}" for v in (27, 29, 33)]
CPU_PER_SECOND = {"web-1": 0.25, "web-2": 0.05}  # cores each pod's app container burns
MEMORY = {"web-1": 100 << 20, "web-2": 20 << 20}


@pytest.fixture(scope="module")
def metrics_apiserver(session_tmp: pathlib.Path, etcd: procs.EtcdProcess) -> Iterator[tuple[ApiServerProcess, int]]:
    proxy_port = procs.free_port()
    server = start_apiserver(session_tmp, etcd, prefix="/metrics-" + uuid.uuid4().hex[:6],
                             extra=["--metric-resolution", "1",
                                    "--proxy-metrics-port", str(proxy_port)])
    yield server, proxy_port
    server.stop()


def kubectl(server: ApiServerProcess, binary: str, *args: str) -> subprocess.CompletedProcess[str]:
    cache = server.cache_dir + "-" + os.path.basename(binary)
    env = dict(os.environ, KUBECONFIG=server.kubeconfig, KUBECACHEDIR=cache, HOME=cache)
    return subprocess.run([binary, *args], capture_output=True, text=True, env=env, timeout=60)


class FakeNode:
    """A node's kubelet (real server, real stats provider over a cgroup tree) and proxy metrics."""

    def __init__(self, tmp: pathlib.Path, namespace: str, proxy_port: int) -> None:
        self.root = tmp / "cgroup"
        for d in ("cpuacct", "memory"):
            (self.root / d).mkdir(parents=True)
        self.namespace = namespace
        self.t = 1_700_000_000.0
        self.steps = 0
        self.containers = [runtime.ContainerStatus(id=f"c-{pod}", name="app", pod_uid=f"uid-{pod}", pod_name=pod,
                                                   pod_namespace=namespace, is_sandbox=False, state=runtime.RUNNING,
                                                   attempt=0, created_at=self.t) for pod in CPU_PER_SECOND]

        async def lister() -> list[runtime.ContainerStatus]:
            return list(self.containers)

        self.provider = stats.StatsProvider("mnode", lister, cgroupstats.CgroupFs(str(self.root)),
                                            clock=lambda: self.t)
        self.kubelet = kubelet_server.KubeletServer(
            fakeruntime.FakeRuntime(), find_pod=lambda ns, n: None, pod_status=lambda p: {}, list_pods=list,
            tls=test_pki().kubelet_server_tls("mnode", "127.0.0.1"), bind="127.0.0.1", port=procs.free_port(), stats=self.provider)
        self.tally = counters.Tally()
        self.proxy = proxy_metrics.MetricsServer(self.tally, f"127.0.0.1:{proxy_port}")
        self.spn = sm.ServicePortName(namespace, "web", "http", "TCP")
        self.counting = True
        self._task: asyncio.Task[None] | None = None

    def write(self) -> None:
        """The cgroup files as the kernel would show them `steps` seconds in."""
        root_cpu = 0
        for pod, rate in CPU_PER_SECOND.items():
            cpu_ns = int(rate * self.steps * 1e9)
            root_cpu += cpu_ns
            for ctl, name, value in (("cpuacct", "cpuacct.usage", cpu_ns),
                                     ("memory", "memory.usage_in_bytes", MEMORY[pod])):
                d = self.root / ctl / "docker" / f"c-{pod}"
                d.mkdir(parents=True, exist_ok=True)
                (d / name).write_text(f"{value}\n")
            (self.root / "memory" / "docker" / f"c-{pod}" / "memory.stat").write_text("total_inactive_file 0\n")
        (self.root / "cpuacct" / "cpuacct.usage").write_text(f"{root_cpu + int(0.5 * self.steps * 1e9)}\n")
        (self.root / "memory" / "memory.usage_in_bytes").write_text(f"{3 << 30}\n")
        (self.root / "memory" / "memory.stat").write_text(f"total_inactive_file {1 << 30}\n")

    async def tick(self) -> None:
        while True:
            self.steps += 1
            self.t += 1.0
            self.write()
            await self.provider.sample()
            if self.counting:
                for _ in range(20):
                    self.tally.count(self.spn, sm.Endpoint("10.244.7.5", 80))
            await asyncio.sleep(0.3)

    async def start(self) -> None:
        self.write()
        await self.kubelet.start()
        assert await self.proxy.start()
        self._task = asyncio.get_running_loop().create_task(self.tick())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self.kubelet.stop()
        await self.proxy.stop()


@pytest.fixture
async def node(metrics_apiserver: tuple[ApiServerProcess, int], tmp_path: pathlib.Path) -> AsyncIterator[Any]:
    server, proxy_port = metrics_apiserver
    namespace = "m-" + uuid.uuid4().hex[:6]
    http(server, "POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                                "metadata": {"name": namespace}})
    fake = FakeNode(tmp_path, namespace, proxy_port)
    await fake.start()
    http(server, "POST", "/api/v1/nodes", {"apiVersion": "v1", "kind": "Node",
                                            "metadata": {"name": "mnode", "labels": {"zone": "z1"}}})
    _, obj = http(server, "GET", "/api/v1/nodes/mnode")
    obj["status"] = {"addresses": [{"type": "InternalIP", "address": "127.0.0.1"}],
                     "daemonEndpoints": {"kubeletEndpoint": {"Port": fake.kubelet.port}},
                     "capacity": {"cpu": "2", "memory": "4Gi", "pods": "110"},
                     "allocatable": {"cpu": "2", "memory": "4Gi", "pods": "110"},
                     "conditions": [{"type": "Ready", "status": "True"}]}
    http(server, "PUT", "/api/v1/nodes/mnode/status", obj)
    http(server, "POST", f"/api/v1/namespaces/{namespace}/services", {
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
        "spec": {"selector": {"app": "web"}, "ports": [{"name": "http", "port": 80}]}})
    for i, pod in enumerate(CPU_PER_SECOND):
        http(server, "POST", f"/api/v1/namespaces/{namespace}/pods", {
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": pod, "labels": {"app": "web", "n": str(i)}},
            "spec": {"nodeName": "mnode", "containers": [{"name": "app", "image": "minik8s/web:1"}]}})
        _, p = http(server, "GET", f"/api/v1/namespaces/{namespace}/pods/{pod}")
        p["status"] = {"phase": "Running", "podIP": f"10.244.7.{5 + i}"}
        http(server, "PUT", f"/api/v1/namespaces/{namespace}/pods/{pod}/status", p)
    try:
        yield server, namespace, fake
    finally:
        await fake.stop()
        http(server, "DELETE", "/api/v1/nodes/mnode", check=False)
        http(server, "DELETE", f"/api/v1/namespaces/{namespace}", check=False)


def millicores(text: str) -> int:
    assert text.endswith("m"), text
    return int(text[:-1])


async def wait_for(predicate: Any, timeout: float, what: str) -> Any:
    return await asyncio.to_thread(procs.wait_for, predicate, timeout, interval=0.5, what=what)


async def test_kubectl_top_pods_and_nodes(node: Any) -> None:
    server, namespace, _fake = node
    for binary in KUBECTLS:
        def top_pods() -> str | None:
            proc = kubectl(server, binary, "top", "pods", "-n", namespace)
            return proc.stdout if proc.returncode == 0 and "web-2" in proc.stdout else None

        out = await wait_for(top_pods, 30, f"{binary} top pods")
        rows = {line.split()[0]: line.split() for line in out.splitlines()[1:]}
        assert out.splitlines()[0].split() == ["NAME", "CPU(cores)", "MEMORY(bytes)"]
        assert millicores(rows["web-1"][1]) == 250 and rows["web-1"][2] == "100Mi"
        assert millicores(rows["web-2"][1]) == 50 and rows["web-2"][2] == "20Mi"

        proc = kubectl(server, binary, "top", "pods", "-n", namespace, "-l", "n=1", "--containers")
        assert proc.returncode == 0, proc.stderr
        lines = proc.stdout.splitlines()
        assert lines[0].split() == ["POD", "NAME", "CPU(cores)", "MEMORY(bytes)"]
        assert [line.split()[:2] for line in lines[1:]] == [["web-2", "app"]]

        proc = kubectl(server, binary, "top", "pods", "-A")
        assert proc.returncode == 0 and re.search(rf"^{namespace}\s+web-1\s", proc.stdout, re.M), proc.stdout

        proc = kubectl(server, binary, "top", "nodes")
        assert proc.returncode == 0, proc.stderr
        header, row = proc.stdout.splitlines()[0].split(), proc.stdout.splitlines()[1].split()
        assert header[0] == "NAME" and row[0] == "mnode"
        assert millicores(row[1]) == 800 and row[2] == "40%"  # 0.25 + 0.05 + 0.5 of 2 cores
        assert row[3] == "2048Mi" and row[4] == "50%"


async def test_custom_metrics_follow_the_proxy_counts(node: Any) -> None:
    server, namespace, fake = node
    path = (f"/apis/custom.metrics.k8s.io/v1beta2/namespaces/{namespace}/pods/*/http_requests_per_second"
            "?labelSelector=app%3Dweb")

    def rate() -> float | None:
        status, doc = http(server, "GET", path, check=False)
        if status != 200 or not doc["items"]:
            return None
        (item,) = doc["items"]  # only web-1 (10.244.7.5) receives connections
        assert item["describedObject"]["name"] == "web-1"
        q = item["value"]
        return float(q[:-1]) / 1000 if q.endswith("m") else float(q)

    assert await wait_for(lambda: (r := rate()) is not None and r > 0, 30, "a positive request rate")
    status, doc = http(server, "GET", f"/apis/custom.metrics.k8s.io/v1beta2/namespaces/{namespace}/services/web/"
                                      "http_requests_per_second")
    assert status == 200 and doc["items"][0]["describedObject"]["kind"] == "Service"
    fake.counting = False
    assert await wait_for(lambda: rate() == 0.0, 30, "the rate to fall to zero once traffic stops")


async def test_metrics_api_in_discovery_for_kubectl(node: Any) -> None:
    server, _namespace, _fake = node
    proc = kubectl(server, KUBECTLS[-1], "api-resources", "--api-group", "metrics.k8s.io")
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"^nodes\s+metrics.k8s.io/v1beta1\s+false\s+NodeMetrics", proc.stdout, re.M), proc.stdout
    assert re.search(r"^pods\s+metrics.k8s.io/v1beta1\s+true\s+PodMetrics", proc.stdout, re.M), proc.stdout
