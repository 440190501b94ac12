"""The metrics APIs' HTTP side: metrics.k8s.io and custom.metrics.k8s.io shapes, selectors, errors, discovery."""
from __future__ import annotations

from typing import Any, AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from minik8s.api import resources
from minik8s.apiserver import discovery
from minik8s.apiserver import server as server_mod
from minik8s.apiserver.metrics import api as api_mod
from minik8s.apiserver.metrics import custom_store
from minik8s.apiserver.metrics import resource_store
from minik8s.util import procs

P = resource_store.Point


def pod(name: str, ns: str = "ns", labels: dict[str, str] | None = None, ip: str = "") -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": ns, "labels": labels or {"app": "web"}},
            "spec": {"containers": [{"name": "side"}, {"name": "app"}]}, "status": {"podIP": ip}}


OBJECTS: dict[str, list[dict[str, Any]]] = {
    "nodes": [{"metadata": {"name": "n1", "labels": {"zone": "a"}}}, {"metadata": {"name": "n2"}},
              {"metadata": {"name": "n3"}}],
    "pods": [pod("web-1", ip="10.244.1.5"), pod("web-2", ip="10.244.2.5"), pod("db", labels={"app": "db"}),
             pod("web-1", ns="other")],
    "services": [{"metadata": {"name": "web", "namespace": "ns", "labels": {"tier": "front"}}},
                 {"metadata": {"name": "quiet", "namespace": "ns"}}],
}


class Clock:
    now = 2000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def api() -> AsyncIterator[str]:
    clock = Clock()
    res = resource_store.ResourceStore()
    reading = {("ns", "web-1", "app"): (P(100, 10.0, 50 << 20), P(110, 15.0, 60 << 20)),
               ("ns", "web-1", "side"): (P(100, 1.0, 5 << 20), P(110, 1.1, 5 << 20)),
               ("ns", "web-2", "app"): (P(100, 1.0, 1 << 20), P(110, 2.0, 1 << 20)),
               ("ns", "db", "app"): (P(100, 1.0, 1 << 20), P(110, 2.0, 1 << 20)),
               ("other", "web-1", "app"): (P(100, 1.0, 1 << 20), P(110, 1.0, 1 << 20))}
    for when in (0, 1):
        res.update("n1", resource_store.NodeReport(P(100 + 10 * when, 1000.0 + 20 * when, 4 << 30),
                                                   {k: v[when] for k, v in reading.items()}))
    res.update("n2", resource_store.NodeReport(P(100, 1.0, 1 << 30), {}))  # one reading: not reported yet
    custom = custom_store.CustomStore(clock=clock)
    for t, a, b in ((1990.0, 0, 0), (2000.0, 100, 30)):
        custom.update_proxy("n1", {custom_store.EndpointKey("ns", "web", "http", "TCP", "10.244.1.5"): a,
                                   custom_store.EndpointKey("ns", "web", "http", "TCP", "10.244.2.5"): b}, t)

    async def lister(res_: resources.Resource, namespace: str | None) -> list[dict[str, Any]]:
        return [o for o in OBJECTS[res_.plural] if namespace is None or o["metadata"].get("namespace") == namespace]

    metrics_api = api_mod.MetricsApi(res, custom, lister, clock=clock)
    app = web.Application(middlewares=[server_mod.error_middleware])
    metrics_api.add_routes(app.router)
    runner = web.AppRunner(app)
    await runner.setup()
    port = procs.free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def get(url: str, **headers: str) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as s, s.get(url, headers=headers) as resp:
        return resp.status, await resp.json(content_type=None)


async def test_pod_metrics_as_metrics_server_serves_them(api: str) -> None:
    status, doc = await get(api + "/apis/metrics.k8s.io/v1beta1/namespaces/ns/pods")
    assert status == 200 and doc["kind"] == "PodMetricsList" and doc["apiVersion"] == "metrics.k8s.io/v1beta1"
    assert [i["metadata"]["name"] for i in doc["items"]] == ["db", "web-1", "web-2"]
    web1 = doc["items"][1]
    assert web1["metadata"]["namespace"] == "ns" and web1["metadata"]["labels"] == {"app": "web"}
    assert web1["timestamp"] == "1970-01-01T00:01:50Z" and web1["window"] == "10s"
    # Containers in the pod spec's order, cpu in nanocores, memory in Ki.
    assert web1["containers"] == [{"name": "side", "usage": {"cpu": "10000000n", "memory": "5120Ki"}},
                                  {"name": "app", "usage": {"cpu": "500000000n", "memory": "61440Ki"}}]
    _, doc = await get(api + "/apis/metrics.k8s.io/v1beta1/namespaces/ns/pods?labelSelector=app%3Dweb")
    assert [i["metadata"]["name"] for i in doc["items"]] == ["web-1", "web-2"]
    _, doc = await get(api + "/apis/metrics.k8s.io/v1beta1/pods")
    assert [(i["metadata"]["namespace"], i["metadata"]["name"]) for i in doc["items"]] == [
        ("ns", "db"), ("ns", "web-1"), ("ns", "web-2"), ("other", "web-1")]
    _, doc = await get(api + "/apis/metrics.k8s.io/v1beta1/pods?fieldSelector=metadata.namespace%3Dother")
    assert [i["metadata"]["namespace"] for i in doc["items"]] == ["other"]
    status, one = await get(api + "/apis/metrics.k8s.io/v1beta1/namespaces/ns/pods/web-2")
    assert status == 200 and one["kind"] == "PodMetrics" and one["containers"][0]["usage"]["cpu"] == "100000000n"


async def test_node_metrics(api: str) -> None:
    status, doc = await get(api + "/apis/metrics.k8s.io/v1beta1/nodes")
    assert status == 200 and doc["kind"] == "NodeMetricsList"
    (n1,) = doc["items"]  # n2 has one reading only, n3 none
    assert n1["metadata"]["name"] == "n1" and n1["usage"] == {"cpu": "2000000000n", "memory": "4194304Ki"}
    _, doc = await get(api + "/apis/metrics.k8s.io/v1beta1/nodes?labelSelector=zone%3Db")
    assert doc["items"] == []
    status, err = await get(api + "/apis/metrics.k8s.io/v1beta1/nodes/n3")
    assert status == 404 and err["kind"] == "Status" and err["reason"] == "NotFound"
    assert err["message"] == 'nodes.metrics.k8s.io "n3" not found'


async def test_errors_are_status_objects(api: str) -> None:
    for path in ("/apis/metrics.k8s.io/v1beta2/nodes", "/apis/metrics.k8s.io/v1beta1/namespaces/ns/nodes",
                 "/apis/metrics.k8s.io/v1beta1/services", "/apis/custom.metrics.k8s.io/v1beta2/pods/x/y"):
        status, err = await get(api + path)
        assert status == 404 and err["kind"] == "Status", path
    async with aiohttp.ClientSession() as s, s.post(api + "/apis/metrics.k8s.io/v1beta1/nodes", json={}) as resp:
        assert resp.status == 405 and (await resp.json())["reason"] == "MethodNotAllowed"
    status, err = await get(api + "/apis/metrics.k8s.io/v1beta1/namespaces/ns/pods?labelSelector=%3D%3D")
    assert status == 400 and err["kind"] == "Status"


async def test_table_for_kubectl_get(api: str) -> None:
    accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
    status, table = await get(api + "/apis/metrics.k8s.io/v1beta1/namespaces/ns/pods/web-1", Accept=accept)
    assert status == 200 and table["kind"] == "Table"
    assert table["rows"][0]["cells"] == ["web-1", "510m", "65Mi", "10s"]


async def test_custom_metrics_for_pods_and_services(api: str) -> None:
    base = api + "/apis/custom.metrics.k8s.io/v1beta2/namespaces/ns"
    status, doc = await get(base + "/pods/*/http_requests_per_second?labelSelector=app%3Dweb")
    assert status == 200 and doc["kind"] == "MetricValueList" and doc["apiVersion"] == "custom.metrics.k8s.io/v1beta2"
    values = {i["describedObject"]["name"]: i for i in doc["items"]}
    assert set(values) == {"web-1", "web-2"}
    assert values["web-1"]["value"] == "10" and values["web-2"]["value"] == "3"
    assert values["web-1"]["describedObject"] == {"kind": "Pod", "namespace": "ns", "name": "web-1",
                                                  "apiVersion": "/v1"}
    assert values["web-1"]["windowSeconds"] == 10 and values["web-1"]["metric"] == {"name": "http_requests_per_second"}
    status, doc = await get(base + "/services/web/http_requests_per_second")
    assert status == 200 and doc["items"][0]["value"] == "13"
    assert doc["items"][0]["describedObject"]["kind"] == "Service"
    status, err = await get(base + "/services/quiet/http_requests_per_second")
    assert status == 404 and err["kind"] == "Status"
    status, err = await get(base + "/pods/db/http_requests_per_second")  # not behind any Service
    assert status == 404


async def test_discovery_documents(api: str) -> None:
    status, group = await get(api + "/apis/metrics.k8s.io")
    assert status == 200 and group["preferredVersion"]["groupVersion"] == "metrics.k8s.io/v1beta1"
    _, rl = await get(api + "/apis/metrics.k8s.io/v1beta1")
    assert {(r["name"], r["kind"], r["namespaced"]) for r in rl["resources"]} == {
        ("nodes", "NodeMetrics", False), ("pods", "PodMetrics", True)}
    _, rl = await get(api + "/apis/custom.metrics.k8s.io/v1beta2")
    assert {"name": "pods/http_requests_per_second", "singularName": "", "namespaced": True,
            "kind": "MetricValueList", "verbs": ["get"]} in rl["resources"]
    # /apis lists both groups once the API server's metrics service registered them.
    for item in api_mod.aggregated_groups():
        discovery.register_group(item)
    names = [g["name"] for g in discovery.api_group_list()["groups"]]
    assert names[-2:] == ["metrics.k8s.io", "custom.metrics.k8s.io"]
    agg = discovery.aggregated(False, discovery.AGGREGATED_CONTENT_TYPE)
    metrics_group = next(i for i in agg["items"] if i["metadata"]["name"] == "metrics.k8s.io")
    assert [r["resource"] for r in metrics_group["versions"][0]["resources"]] == ["nodes", "pods"]
    discovery.register_group(api_mod.aggregated_groups()[0])  # registering again does not duplicate
    assert [g["name"] for g in discovery.api_group_list()["groups"]].count("metrics.k8s.io") == 1
