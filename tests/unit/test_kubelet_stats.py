"""Kubelet resource statistics: cgroup files (v1 and v2) in a temporary tree, rates, the served formats."""
from __future__ import annotations

import json
import pathlib
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from minik8s.kubelet import cgroupstats
from minik8s.kubelet import runtime
from minik8s.kubelet import server as server_mod
from minik8s.kubelet import fakeruntime
from minik8s.kubelet import stats
from minik8s.util import procs
from tests.unit import test_kubelet_server


class V1Tree:
    """A cgroup v1 layout: one directory per controller, containers under a parent."""

    def __init__(self, root: pathlib.Path) -> None:
        self.root = root
        for d in ("cpuacct", "memory", "pids", "unified"):
            (root / d).mkdir(parents=True, exist_ok=True)
        self.set("", cpu_ns=10**12, usage=8 << 30, inactive_file=2 << 30, rss=3 << 30)

    def set(self, path: str, *, cpu_ns: int, usage: int, inactive_file: int, rss: int = 0) -> None:
        cpu, mem = self.root / "cpuacct" / path, self.root / "memory" / path
        cpu.mkdir(parents=True, exist_ok=True)
        mem.mkdir(parents=True, exist_ok=True)
        (cpu / "cpuacct.usage").write_text(f"{cpu_ns}\n")
        (mem / "memory.usage_in_bytes").write_text(f"{usage}\n")
        (mem / "memory.stat").write_text(f"cache 5\nrss {rss}\ninactive_file 1\ntotal_rss {rss}\n"
                                         f"total_inactive_file {inactive_file}\n")


class V2Tree:
    def __init__(self, root: pathlib.Path, proc: pathlib.Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        (root / "cgroup.controllers").write_text("cpu memory pids\n")
        (root / "cpu.stat").write_text("usage_usec 5000000\nuser_usec 1\nsystem_usec 2\n")
        proc.mkdir(parents=True, exist_ok=True)
        (proc / "meminfo").write_text("MemTotal:       1000 kB\nMemFree:         200 kB\n"
                                      "Inactive(file):  100 kB\nAnonPages:       300 kB\n")

    def set(self, path: str, *, cpu_us: int, current: int, inactive_file: int, anon: int = 0) -> None:
        d = self.root / path
        d.mkdir(parents=True, exist_ok=True)
        (d / "cpu.stat").write_text(f"usage_usec {cpu_us}\nuser_usec 0\nsystem_usec 0\n")
        (d / "memory.current").write_text(f"{current}\n")
        (d / "memory.stat").write_text(f"anon {anon}\nfile 10\ninactive_file {inactive_file}\n")


def test_v1_reads_cpu_and_working_set_and_finds_containers_anywhere(tmp_path: pathlib.Path) -> None:
    tree = V1Tree(tmp_path)
    parent = "minik8s-cluster/c1/node1/pods"
    tree.set(f"{parent}/aaa", cpu_ns=1_500_000_000, usage=100 << 20, inactive_file=30 << 20, rss=60 << 20)
    tree.set(f"{parent}/bbb", cpu_ns=7, usage=10, inactive_file=50)
    reader = cgroupstats.CgroupFs(str(tmp_path), str(tmp_path / "proc"))
    assert not reader.v2 and reader.available
    assert reader.locate("aaa") == f"{parent}/aaa"
    # The sibling is looked for beside the first one, before any walk.
    assert reader.locate("bbb") == f"{parent}/bbb"
    assert reader.locate("nope") is None
    s = reader.read(f"{parent}/aaa")
    assert s == cgroupstats.CgroupSample(1_500_000_000, 100 << 20, 70 << 20, 60 << 20)
    # Inactive file cache larger than usage (it happens with hierarchical stats): never negative.
    assert reader.read(f"{parent}/bbb").memory_working_set_bytes == 0  # type: ignore[union-attr]
    root = reader.read("/")
    assert root is not None and root.memory_working_set_bytes == 6 << 30 and root.cpu_usage_ns == 10**12
    assert reader.read("gone/container") is None


def test_v1_systemd_driver_scope_names(tmp_path: pathlib.Path) -> None:
    tree = V1Tree(tmp_path)
    tree.set("system.slice/docker-ccc.scope", cpu_ns=1, usage=2, inactive_file=0)
    reader = cgroupstats.CgroupFs(str(tmp_path))
    assert reader.locate("ccc") == "system.slice/docker-ccc.scope"


def test_v1_combined_cpu_cpuacct_mount(tmp_path: pathlib.Path) -> None:
    (tmp_path / "memory").mkdir()
    (tmp_path / "cpu,cpuacct" / "docker" / "ddd").mkdir(parents=True)
    (tmp_path / "cpu,cpuacct" / "docker" / "ddd" / "cpuacct.usage").write_text("42\n")
    (tmp_path / "memory" / "docker" / "ddd").mkdir(parents=True)
    (tmp_path / "memory" / "docker" / "ddd" / "memory.usage_in_bytes").write_text("100\n")
    (tmp_path / "memory" / "docker" / "ddd" / "memory.stat").write_text("total_inactive_file 40\ntotal_rss 9\n")
    reader = cgroupstats.CgroupFs(str(tmp_path))
    assert reader.locate("ddd") == "docker/ddd"
    assert reader.read("docker/ddd") == cgroupstats.CgroupSample(42, 100, 60, 9)


def test_v2_reads_cpu_stat_and_memory_current(tmp_path: pathlib.Path) -> None:
    tree = V2Tree(tmp_path / "cg", tmp_path / "proc")
    tree.set("kubepods/eee", cpu_us=2_000_000, current=50 << 20, inactive_file=10 << 20, anon=30 << 20)
    reader = cgroupstats.CgroupFs(str(tmp_path / "cg"), str(tmp_path / "proc"))
    assert reader.v2
    assert reader.locate("eee") == "kubepods/eee"
    assert reader.read("kubepods/eee") == cgroupstats.CgroupSample(2_000_000_000, 50 << 20, 40 << 20, 30 << 20)
    # The root has no memory.current: /proc/meminfo stands in (used = total - free).
    assert reader.read("/") == cgroupstats.CgroupSample(5_000_000_000, 800 * 1024, 700 * 1024, 300 * 1024)


# -- the provider ------------------------------------------------------------------------------------


def container(cid: str, pod: str, name: str, *, sandbox: bool = False, state: str = runtime.RUNNING,
              uid: str = "") -> runtime.ContainerStatus:
    return runtime.ContainerStatus(id=cid, name="POD" if sandbox else name, pod_uid=uid or f"uid-{pod}",
                                   pod_name=pod, pod_namespace="ns", is_sandbox=sandbox, state=state, attempt=0,
                                   created_at=1000.0, started_at=1001.0)


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def provider(tmp_path: pathlib.Path, listed: list[runtime.ContainerStatus], clock: Clock,
             **kw: Any) -> tuple[stats.StatsProvider, V1Tree]:
    tree = V1Tree(tmp_path)

    async def lister() -> list[runtime.ContainerStatus]:
        return list(listed)

    p = stats.StatsProvider("node1", lister, cgroupstats.CgroupFs(str(tmp_path)), clock=clock, **kw)
    return p, tree


async def test_rates_come_from_two_readings_and_pods_sum_their_containers(tmp_path: pathlib.Path) -> None:
    clock = Clock()
    listed = [container("s1", "web", "", sandbox=True), container("c1", "web", "app"),
              container("c2", "web", "side"), container("x1", "old", "app", state=runtime.EXITED)]
    p, tree = provider(tmp_path, listed, clock)
    tree.set("docker/s1", cpu_ns=1_000_000, usage=1 << 20, inactive_file=0)
    tree.set("docker/c1", cpu_ns=10_000_000_000, usage=80 << 20, inactive_file=20 << 20)
    tree.set("docker/c2", cpu_ns=2_000_000_000, usage=10 << 20, inactive_file=0)
    first = await p.sample()
    assert [pod.name for pod in first.pods] == ["web"]
    assert first.pods[0].usage_nano_cores is None  # one reading: no rate yet
    assert [c.name for c in first.pods[0].containers] == ["app", "side"]  # the sandbox is not a container

    clock.now += 10
    tree.set("docker/s1", cpu_ns=1_000_000, usage=1 << 20, inactive_file=0)
    tree.set("docker/c1", cpu_ns=15_000_000_000, usage=90 << 20, inactive_file=20 << 20)  # 0.5 core
    tree.set("docker/c2", cpu_ns=2_100_000_000, usage=10 << 20, inactive_file=0)  # 10 millicores
    tree.set("", cpu_ns=10**12 + 20 * 10**9, usage=8 << 30, inactive_file=2 << 30)  # 2 cores
    snap = await p.sample()
    pod = snap.pods[0]
    app, side = pod.containers
    assert app.usage_nano_cores == 500_000_000 and side.usage_nano_cores == 10_000_000
    assert pod.usage_nano_cores == 510_000_000
    assert pod.memory_working_set_bytes == (1 << 20) + (70 << 20) + (10 << 20)
    assert snap.node is not None and snap.node.usage_nano_cores == 2_000_000_000

    # A container that is gone is forgotten; one whose counter went down has no rate.
    listed[:] = [container("s1", "web", "", sandbox=True), container("c1", "web", "app")]
    clock.now += 10
    tree.set("docker/c1", cpu_ns=1, usage=1, inactive_file=0)
    snap = await p.sample()
    assert [c.name for c in snap.pods[0].containers] == ["app"]
    assert snap.pods[0].containers[0].usage_nano_cores is None
    assert set(p._containers) == {"s1", "c1"}


async def test_resource_metrics_text_is_the_kubelets(tmp_path: pathlib.Path) -> None:
    clock = Clock()
    p, tree = provider(tmp_path, [container("s1", "web", "", sandbox=True), container("c1", "web", "app")], clock)
    tree.set("docker/s1", cpu_ns=500_000_000, usage=1 << 20, inactive_file=0)
    tree.set("docker/c1", cpu_ns=1_500_000_000, usage=80 << 20, inactive_file=20 << 20)
    await p.sample()
    text = stats.resource_metrics(p.latest()).decode()
    assert "# TYPE container_cpu_usage_seconds_total counter" in text
    families = {f.name: f for f in text_string_to_metric_families(text)}
    (cpu,) = families["container_cpu_usage_seconds"].samples
    assert cpu.labels == {"container": "app", "namespace": "ns", "pod": "web"}
    assert cpu.value == pytest.approx(1.5) and cpu.timestamp == pytest.approx(clock.now)
    (mem,) = families["container_memory_working_set_bytes"].samples
    assert mem.value == 60 << 20
    (pod_cpu,) = families["pod_cpu_usage_seconds"].samples
    assert pod_cpu.value == pytest.approx(2.0) and pod_cpu.labels == {"namespace": "ns", "pod": "web"}
    (node_mem,) = families["node_memory_working_set_bytes"].samples
    assert node_mem.value == 6 << 30
    assert families["resource_scrape_error"].samples[0].value == 0
    assert families["container_start_time_seconds"].samples[0].value == 1001.0


async def test_unreadable_container_sets_the_scrape_error(tmp_path: pathlib.Path) -> None:
    p, _tree = provider(tmp_path, [container("zzz", "web", "app")], Clock())
    snap = await p.sample()
    assert snap.errors == 1 and snap.pods == ()
    families = {f.name: f for f in text_string_to_metric_families(stats.resource_metrics(snap).decode())}
    assert families["resource_scrape_error"].samples[0].value == 1


async def test_summary_api_document(tmp_path: pathlib.Path) -> None:
    clock = Clock()
    p, tree = provider(tmp_path, [container("c1", "web", "app")], clock)
    tree.set("docker/c1", cpu_ns=1_000_000_000, usage=80 << 20, inactive_file=20 << 20, rss=50 << 20)
    await p.sample()
    clock.now += 5
    tree.set("docker/c1", cpu_ns=2_000_000_000, usage=80 << 20, inactive_file=20 << 20, rss=50 << 20)
    await p.sample()
    doc = json.loads(json.dumps(stats.summary(p.latest(), "node1")))
    assert doc["node"]["nodeName"] == "node1" and doc["node"]["memory"]["workingSetBytes"] == 6 << 30
    (pod,) = doc["pods"]
    assert pod["podRef"] == {"name": "web", "namespace": "ns", "uid": "uid-web"}
    (c,) = pod["containers"]
    assert c["cpu"]["usageNanoCores"] == 200_000_000 and c["cpu"]["usageCoreNanoSeconds"] == 2_000_000_000
    assert c["memory"] == {"time": c["memory"]["time"], "usageBytes": 80 << 20, "workingSetBytes": 60 << 20,
                           "rssBytes": 50 << 20}
    assert c["memory"]["time"].endswith("Z")


# -- pods' own metrics ---------------------------------------------------------------------------------


def annotated_pod(name: str, **annotations: str) -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": "ns", "annotations": annotations},
            "status": {"phase": "Running", "podIP": "10.244.1.5"}}


def test_pod_metrics_url_from_annotations() -> None:
    assert stats.pod_metrics_url(annotated_pod("a", **{"prometheus.io/scrape": "true", "prometheus.io/port": "8080"})) \
        == "http://10.244.1.5:8080/metrics"
    assert stats.pod_metrics_url(annotated_pod("a", **{"prometheus.io/scrape": "true", "prometheus.io/port": "80",
                                                       "prometheus.io/path": "cgi-bin/metrics"})) \
        == "http://10.244.1.5:80/cgi-bin/metrics"
    assert stats.pod_metrics_url(annotated_pod("a", **{"prometheus.io/port": "80"})) is None
    assert stats.pod_metrics_url(annotated_pod("a", **{"prometheus.io/scrape": "true"})) is None
    assert stats.pod_metrics_url(annotated_pod("a", **{"prometheus.io/scrape": "true", "prometheus.io/port": "x"})) is None
    pending = annotated_pod("a", **{"prometheus.io/scrape": "true", "prometheus.io/port": "80"})
    pending["status"] = {"phase": "Pending"}
    assert stats.pod_metrics_url(pending) is None


POD_BODY = """# HELP http_requests_total Requests served.
# TYPE http_requests_total counter
http_requests_total{code="200",pod="inner"} 120
http_requests_total{code="500"} 3
http_requests_created{code="200"} 1.7e9
# TYPE queue_depth gauge
queue_depth 7
# TYPE latency histogram
latency_bucket{le="1"} 1
latency_bucket{le="+Inf"} 1
latency_sum 0.5
latency_count 1
"""


async def test_pods_are_scraped_and_served_again_with_their_names(tmp_path: pathlib.Path) -> None:
    clock = Clock()
    asked: list[str] = []

    async def fetch(url: str, timeout: float) -> str:
        asked.append(url)
        if "10.244.1.6" in url:
            raise OSError("connection refused")
        return POD_BODY

    scraped = annotated_pod("web-1", **{"prometheus.io/scrape": "true", "prometheus.io/port": "80"})
    broken = annotated_pod("web-2", **{"prometheus.io/scrape": "true", "prometheus.io/port": "80"})
    broken["status"]["podIP"] = "10.244.1.6"
    p, _ = provider(tmp_path, [], clock, pods=lambda: [scraped, broken, annotated_pod("plain")], fetch=fetch)
    await p.scrape_pods()
    assert sorted(asked) == ["http://10.244.1.5:80/metrics", "http://10.244.1.6:80/metrics"]
    text = stats.pod_metrics(p.pod_scrapes()).decode()
    families = {f.name: f for f in text_string_to_metric_families(text)}
    assert set(families) == {"http_requests", "queue_depth"}  # histograms and _created are not kept
    by_code = {s.labels["code"]: s for s in families["http_requests"].samples}
    assert by_code["200"].labels == {"code": "200", "exported_pod": "inner", "namespace": "ns", "pod": "web-1"}
    assert by_code["200"].value == 120 and by_code["200"].timestamp == pytest.approx(clock.now)
    # A pod that stops declaring (or is gone) is dropped.
    p.pods = list
    await p.scrape_pods()
    assert p.pod_scrapes() == []


def test_pod_series_are_capped() -> None:
    body = "".join(f'many{{i="{i}"}} {i}\n' for i in range(stats.MAX_POD_SERIES + 50))
    (family,) = stats.parse_pod_metrics(body)
    assert len(family.samples) == stats.MAX_POD_SERIES


async def test_kubelet_server_serves_the_stats_to_the_api_server_only(tmp_path: pathlib.Path) -> None:
    clock = Clock()
    p, tree = provider(tmp_path, [container("c1", "web", "app")], clock)
    tree.set("docker/c1", cpu_ns=1_000_000_000, usage=80 << 20, inactive_file=20 << 20)
    await p.sample()
    server = server_mod.KubeletServer(fakeruntime.FakeRuntime(), find_pod=lambda ns, n: None,
                                      pod_status=lambda pod: {}, list_pods=list, tls=test_kubelet_server.server_tls(),
                                      bind="127.0.0.1", port=procs.free_port(), stats=p)
    await server.start()
    try:
        url = f"https://127.0.0.1:{server.port}"
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=test_kubelet_server.ANONYMOUS)) as s:
            async with s.get(url + "/metrics/resource") as resp:
                assert resp.status == 401
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=test_kubelet_server.APISERVER)) as s:
            async with s.get(url + "/metrics/resource") as resp:
                assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/plain; version=0.0.4")
                assert "container_memory_working_set_bytes" in await resp.text()
            async with s.get(url + "/stats/summary") as resp:
                assert (await resp.json())["pods"][0]["podRef"]["name"] == "web"
            async with s.get(url + "/metrics/pods") as resp:
                assert resp.status == 200
    finally:
        await server.stop()
