"""The API server's metrics stores and scraper: kubelet and proxy texts in, usages and rates out."""
from __future__ import annotations

from typing import Any

import pytest

from minik8s.api import selectors
from minik8s.apiserver.metrics import custom_store
from minik8s.apiserver.metrics import resource_store
from minik8s.apiserver.metrics import scraper as scraper_mod
from minik8s.kubelet import cgroupstats
from minik8s.kubelet import stats


def kubelet_text(t: float, containers: dict[tuple[str, str, str], tuple[float, int]], node: tuple[float, int],
                 start: float = 1000.0) -> str:
    """/metrics/resource as the real kubelet renders it (minik8s.kubelet.stats)."""
    pods: dict[tuple[str, str], list[stats.ContainerStats]] = {}
    for (ns, pod, name), (cpu_s, mem) in containers.items():
        sample = cgroupstats.CgroupSample(int(cpu_s * 1e9), mem, mem, 0)
        pods.setdefault((ns, pod), []).append(stats.ContainerStats(name, name, start, stats.Reading(t, sample), None))
    snapshot = stats.Snapshot(
        stats.NodeStats("n1", 0, stats.Reading(t, cgroupstats.CgroupSample(int(node[0] * 1e9), node[1], node[1], 0)),
                        None),
        tuple(stats.PodStats(ns, pod, "u", start, tuple(cs), t, 0, 0, 0, 0, None) for (ns, pod), cs in pods.items()),
        0)
    return stats.resource_metrics(snapshot).decode()


def test_rates_from_two_kubelet_readings_and_metrics_server_rules() -> None:
    store = resource_store.ResourceStore()
    web_app, web_side = ("ns", "web", "app"), ("ns", "web", "side")
    store.update("n1", resource_store.parse_resource_metrics(
        kubelet_text(100.0, {web_app: (10.0, 50 << 20), web_side: (1.0, 5 << 20)}, (1000.0, 4 << 30))))
    assert store.pod_usage() == {} and store.node_usage() == {}  # one reading: no rate
    store.update("n1", resource_store.parse_resource_metrics(
        kubelet_text(110.0, {web_app: (15.0, 60 << 20), web_side: (1.1, 5 << 20)}, (1020.0, 5 << 30))))
    (pod_level, containers), = store.pod_usage().values()
    assert pod_level.time == 110.0 and pod_level.window == 10.0
    assert containers["app"].cpu_nano_cores == 500_000_000 and containers["app"].memory_bytes == 60 << 20
    assert containers["side"].cpu_nano_cores == pytest.approx(10_000_000, rel=1e-6)
    node = store.node_usage()["n1"]
    assert node.cpu_nano_cores == 2_000_000_000 and node.memory_bytes == 5 << 30

    # The same kubelet reading again (the kubelet has not re-read its cgroups) changes nothing.
    store.update("n1", resource_store.parse_resource_metrics(
        kubelet_text(110.0, {web_app: (15.0, 60 << 20), web_side: (1.1, 5 << 20)}, (1020.0, 5 << 30))))
    assert store.pod_usage()[("ns", "web")][1]["app"].cpu_nano_cores == 500_000_000

    # A restarted container (new start time) starts over: the pod is incomplete, so not reported.
    store.update("n1", resource_store.parse_resource_metrics(
        kubelet_text(120.0, {web_app: (0.5, 10 << 20)}, (1040.0, 5 << 30), start=2000.0)))
    assert store.pod_usage() == {}
    # A node that is gone takes its pods with it.
    store.retain([])
    assert store.node_usage() == {} and store.series() == 0


PROXY_T1 = """# TYPE minik8s_proxy_endpoint_connections_total counter
minik8s_proxy_endpoint_connections_total{namespace="ns",service="web",port="http",protocol="TCP",endpoint="10.244.1.5:80"} 100
minik8s_proxy_endpoint_connections_total{namespace="ns",service="web",port="http",protocol="TCP",endpoint="10.244.2.5:80"} 50
"""


def proxy_text(a: int, b: int) -> str:
    return PROXY_T1.replace("} 100", f"}} {a}").replace("} 50", f"}} {b}")


class Clock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_requests_per_second_from_every_nodes_proxy() -> None:
    clock = Clock()
    store = custom_store.CustomStore(stale_after=60, clock=clock)
    store.update_proxy("n1", custom_store.parse_proxy_counters(proxy_text(100, 50)), 1000.0)
    store.update_proxy("n2", custom_store.parse_proxy_counters(proxy_text(10, 0)), 1000.0)
    assert store.pod_value("ns", "web-a", "10.244.1.5", custom_store.HTTP_RPS) is None  # one scrape: no rate
    clock.now = 1010.0
    store.update_proxy("n1", custom_store.parse_proxy_counters(proxy_text(200, 70)), 1010.0)
    store.update_proxy("n2", custom_store.parse_proxy_counters(proxy_text(60, 0)), 1010.0)
    a = store.pod_value("ns", "web-a", "10.244.1.5", custom_store.HTTP_RPS)
    assert a is not None and a.value == pytest.approx(15.0) and a.window == 10.0  # 10/s + 5/s over two nodes
    b = store.pod_value("ns", "web-b", "10.244.2.5", custom_store.HTTP_RPS)
    assert b is not None and b.value == pytest.approx(2.0)
    svc = store.service_value("ns", "web", custom_store.HTTP_RPS)
    assert svc is not None and svc.value == pytest.approx(17.0)
    assert store.pod_value("ns", "other", "10.244.9.9", custom_store.HTTP_RPS) is None
    assert store.pod_value("other-ns", "web-a", "10.244.1.5", custom_store.HTTP_RPS) is None

    # A restarted proxy's counter starts from zero: the new count is the increase.
    clock.now = 1020.0
    store.update_proxy("n1", custom_store.parse_proxy_counters(proxy_text(30, 70)), 1020.0)
    a = store.pod_value("ns", "web-a", "10.244.1.5", custom_store.HTTP_RPS)
    assert a is not None and a.value == pytest.approx(3.0 + 5.0)
    # A node whose proxy stopped answering ages out instead of repeating its last rate.
    clock.now = 1075.0
    store.update_proxy("n1", custom_store.parse_proxy_counters(proxy_text(85, 70)), 1075.0)
    a = store.pod_value("ns", "web-a", "10.244.1.5", custom_store.HTTP_RPS)
    assert a is not None and a.value == pytest.approx(1.0)  # n1 only: n2's last reading is 65 s old


POD_METRICS = """# TYPE http_requests_total counter
http_requests_total{{code="200",namespace="ns",pod="web-a"}} {ok} {t}
http_requests_total{{code="500",namespace="ns",pod="web-a"}} {err} {t}
# TYPE queue_depth gauge
queue_depth{{namespace="ns",pod="web-a"}} 7 {t}
"""


def test_a_pods_own_counters_become_rates_and_win_over_the_proxy() -> None:
    clock = Clock(2000.0)
    store = custom_store.CustomStore(clock=clock)
    store.update_proxy("n1", custom_store.parse_proxy_counters(proxy_text(0, 0)), 1990.0)
    store.update_proxy("n1", custom_store.parse_proxy_counters(proxy_text(100, 0)), 2000.0)
    store.update_pods("n1", custom_store.parse_pod_metrics(POD_METRICS.format(ok=100, err=10, t=1990000), 0))
    store.update_pods("n1", custom_store.parse_pod_metrics(POD_METRICS.format(ok=400, err=30, t=2000000), 0))
    assert {custom_store.HTTP_RPS, "queue_depth"} <= store.metric_names()
    own = store.pod_value("ns", "web-a", "10.244.1.5", custom_store.HTTP_RPS)
    assert own is not None and own.value == pytest.approx(32.0)  # (300 + 20) / 10 s, not the proxy's 10/s
    ok = store.pod_value("ns", "web-a", "10.244.1.5", custom_store.HTTP_RPS,
                         selectors.parse_label_selector("code=200"))
    assert ok is not None and ok.value == pytest.approx(30.0)
    gauge = store.pod_value("ns", "web-a", "", "queue_depth")
    assert gauge is not None and gauge.value == 7
    # A pod without its own metric falls back to the proxy's count.
    b = store.pod_value("ns", "web-b", "10.244.2.5", custom_store.HTTP_RPS)
    assert b is not None and b.value == 0.0


class FakeFetch:
    def __init__(self, answers: dict[str, str]) -> None:
        self.answers = answers
        self.asked: list[tuple[str, dict[str, str]]] = []

    async def __call__(self, url: str, headers: dict[str, str], timeout: float) -> str:
        self.asked.append((url, headers))
        if url not in self.answers:
            raise OSError(f"{url}: connection refused")
        return self.answers[url]


def node(name: str, ip: str, port: int = 10250) -> dict[str, Any]:
    return {"metadata": {"name": name}, "status": {"addresses": [{"type": "InternalIP", "address": ip}],
                                                    "daemonEndpoints": {"kubeletEndpoint": {"Port": port}}}}


async def test_scraper_asks_each_kubelet_over_https_and_survives_failures() -> None:
    clock = Clock(100.0)
    nodes = [node("n1", "172.31.0.11"), node("n2", "172.31.0.12", 10255), {"metadata": {"name": "bare"}}]

    async def list_nodes() -> list[dict[str, Any]]:
        return nodes

    fetch = FakeFetch({
        "https://172.31.0.11:10250/metrics/resource": kubelet_text(100.0, {("ns", "web", "app"): (1.0, 1 << 20)},
                                                                   (5.0, 1 << 30)),
        "https://172.31.0.11:10250/metrics/pods": "",
        "http://172.31.0.11:10249/metrics": proxy_text(1, 2),
    })
    resources, custom = resource_store.ResourceStore(), custom_store.CustomStore(clock=clock)
    s = scraper_mod.Scraper(list_nodes, resources, custom, fetch=fetch, clock=clock)
    await s.scrape_once()
    assert ("https://172.31.0.11:10250/metrics/resource", {}) in fetch.asked
    assert ("http://172.31.0.11:10249/metrics", {}) in fetch.asked  # the proxy's counts are open
    assert ("https://172.31.0.12:10255/metrics/resource", {}) in fetch.asked
    assert set(s.failures) == {"n2", "bare"} and "connection refused" in s.failures["n2"]
    assert resources.series() == 2 and custom.series() == 2
    nodes[:] = []
    await s.scrape_once()
    assert resources.series() == 0 and custom.series() == 0 and s.failures == {}
