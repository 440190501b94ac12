"""Autoscaling on the 3-node cluster: load from this host scales Deployments up, its end scales them down.

The workload is minik8s/hpa-example (busybox httpd with CGIs that burn CPU, hold memory
and count requests). Load goes from this host to the NodePort of every node (addresses
inside the cluster's own network namespaces), each request on a new connection, in
bounded loops. Each test checks that the HPA scales the Deployment up to its maximum
while loaded, back to its minimum once the load stops (after the shortened scale-down
window), and that the replica count never left [min, max] meanwhile.

The session cluster runs with FAST_AUTOSCALING (conftest): HPA sync every 5 s, kubelet
readings and API server scrapes every 5 s, a 20 s default scale-down window.
"""
from __future__ import annotations

import json
import re
import threading
import time
import urllib.request
import uuid
from typing import Any, Iterator

import pytest

from tests.e2e.conftest import Cluster, live, pod_ready, wait_until

IMAGE = "minik8s/hpa-example:1"
NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class Load:
    """Requests from this host, each on a new connection, until stopped (at most `limit` seconds)."""

    def __init__(self, urls: list[str], *, workers: int, rate: float | None = None, limit: float = 420) -> None:
        self.urls = urls
        self.workers = workers
        self.interval = workers / rate if rate else 0.0
        self.limit = limit
        self.stopped = threading.Event()
        self.sent = 0
        self._threads: list[threading.Thread] = []

    def _work(self, offset: int) -> None:
        deadline = time.monotonic() + self.limit
        i = offset
        while not self.stopped.is_set() and time.monotonic() < deadline:
            started = time.monotonic()
            try:
                with NO_PROXY.open(self.urls[i % len(self.urls)], timeout=10) as resp:
                    resp.read()
            except OSError:
                pass
            self.sent += 1
            i += 1
            if self.interval:
                self.stopped.wait(max(self.interval - (time.monotonic() - started), 0))

    def __enter__(self) -> "Load":
        self._threads = [threading.Thread(target=self._work, args=(i,), daemon=True) for i in range(self.workers)]
        for t in self._threads:
            t.start()
        return self

    def stop(self) -> None:
        self.stopped.set()
        for t in self._threads:
            t.join(timeout=15)

    def __exit__(self, *exc: Any) -> None:
        self.stop()


class ReplicaWatch:
    """Polls the Deployment's spec.replicas every second, to check it never left [min, max]."""

    def __init__(self, cluster: Cluster, namespace: str, name: str) -> None:
        self.cluster, self.namespace, self.name = cluster, namespace, name
        self.seen: list[int] = []
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stopped.wait(1.0):
            proc = self.cluster.kubectl("get", "deployment", self.name, "-n", self.namespace, "-o", "json",
                                        check=False)
            if proc.returncode == 0:
                self.seen.append(int(json.loads(proc.stdout)["spec"].get("replicas", 1)))

    def __enter__(self) -> "ReplicaWatch":
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stopped.set()
        self.thread.join(timeout=10)


def web(name: str, *, cpu: str = "100m", cpu_limit: str = "300m", memory: str = "32Mi", memory_limit: str = "256Mi",
        annotations: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """A Deployment of hpa-example (1 replica) and its NodePort Service."""
    pod_meta: dict[str, Any] = {"labels": {"app": name}}
    if annotations:
        pod_meta["annotations"] = annotations
    deploy = {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}}, "template": {
            "metadata": pod_meta,
            "spec": {"terminationGracePeriodSeconds": 2, "containers": [{
                "name": "web", "image": IMAGE, "imagePullPolicy": "IfNotPresent", "ports": [{"containerPort": 80}],
                "resources": {"requests": {"cpu": cpu, "memory": memory},
                              "limits": {"cpu": cpu_limit, "memory": memory_limit}},
                "readinessProbe": {"httpGet": {"path": "/healthz", "port": 80}, "periodSeconds": 2}}]}}}}
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
               "spec": {"type": "NodePort", "selector": {"app": name}, "ports": [{"port": 80, "targetPort": 80}]}}
    return [deploy, service]


def hpa(name: str, metrics: list[dict[str, Any]], *, max_replicas: int = 3, down_window: int = 20) -> dict[str, Any]:
    return {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": name},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
                     "minReplicas": 1, "maxReplicas": max_replicas, "metrics": metrics,
                     "behavior": {"scaleDown": {"stabilizationWindowSeconds": down_window}}}}


def apply(cluster: Cluster, namespace: str, *objects: dict[str, Any]) -> None:
    for obj in objects:
        cluster.kubectl("apply", "-n", namespace, "-f", "-", input=json.dumps(obj))


def node_port(cluster: Cluster, namespace: str, name: str) -> int:
    return int(cluster.get_json("service", name, "-n", namespace)["spec"]["ports"][0]["nodePort"])


def urls(cluster: Cluster, namespace: str, name: str, path: str) -> list[str]:
    port = node_port(cluster, namespace, name)
    return [f"http://{ip}:{port}{path}" for ip in sorted(cluster.nodes.values())]


def ready_replicas(cluster: Cluster, namespace: str, app: str) -> int:
    return sum(1 for p in live(cluster.pods(namespace, f"app={app}")) if pod_ready(p))


def hpa_status(cluster: Cluster, namespace: str, name: str) -> dict[str, Any]:
    return dict(cluster.get_json("hpa", name, "-n", namespace).get("status") or {})


def wait_scaled(cluster: Cluster, namespace: str, name: str, replicas: int, timeout: float) -> None:
    """Until the HPA wants `replicas`, the Deployment has them, and that many pods are Ready."""
    def done() -> bool:
        spec = cluster.get_json("deployment", name, "-n", namespace)["spec"].get("replicas")
        return (hpa_status(cluster, namespace, name).get("desiredReplicas") == replicas and spec == replicas
                and ready_replicas(cluster, namespace, name) == replicas)

    wait_until(done, timeout, f"{name} at {replicas} Ready replicas")


def wait_metrics(cluster: Cluster, namespace: str, name: str, count: int, timeout: float = 120) -> None:
    """Until the HPA reports a current value for each of its `count` metrics (the pipeline is flowing)."""
    def flowing() -> bool:
        current = hpa_status(cluster, namespace, name).get("currentMetrics") or []
        return len(current) == count and all(m.get("type") for m in current)

    wait_until(flowing, timeout, f"current metrics for {name}")


def rescale_events(cluster: Cluster, namespace: str, name: str) -> list[str]:
    items = cluster.get_json("events", "-n", namespace, "--field-selector",
                             f"involvedObject.name={name},reason=SuccessfulRescale")["items"]
    return [e["message"] for e in items]


@pytest.fixture
def ns(cluster: Cluster) -> Iterator[str]:
    name = "hpa-" + uuid.uuid4().hex[:8]
    cluster.kubectl("create", "namespace", name)
    yield name
    cluster.kubectl("delete", "namespace", name, "--wait=false", check=False)


def test_cpu_load_scales_up_and_down_with_kubectl_autoscale(cluster: Cluster, ns: str) -> None:
    apply(cluster, ns, *web("cpu"))
    wait_until(lambda: ready_replicas(cluster, ns, "cpu") == 1, 120, "the first cpu pod")
    # autoscaling/v1, as kubectl autoscale writes it; the v2 object has no behavior, so the
    # controller's own scale-down window applies (shortened to 20 s for this cluster).
    cluster.kubectl("autoscale", "deployment", "cpu", "-n", ns, "--cpu-percent=50", "--min=1", "--max=3")
    wait_metrics(cluster, ns, "cpu", 1)
    assert hpa_status(cluster, ns, "cpu")["desiredReplicas"] == 1
    targets = cluster.kubectl("get", "hpa", "cpu", "-n", ns).stdout
    assert re.search(r"cpu\s+Deployment/cpu\s+cpu: \d+%/50%\s+1\s+3\s+1\s", targets), targets

    with ReplicaWatch(cluster, ns, "cpu") as watch:
        with Load(urls(cluster, ns, "cpu", "/cgi-bin/burn?40000"), workers=6):
            wait_scaled(cluster, ns, "cpu", 3, 240)
            out = cluster.kubectl("get", "hpa", "cpu", "-n", ns).stdout
            assert re.search(r"cpu: \d{2,3}%/50%", out), out
        described = cluster.kubectl("describe", "hpa", "cpu", "-n", ns).stdout
        wait_scaled(cluster, ns, "cpu", 1, 240)
    assert "SuccessfulRescale" in described and "resource cpu on pods  (as a percentage of request)" in described
    assert re.search(r"ScalingActive\s+True\s+ValidMetricFound", described), described
    assert all(1 <= n <= 3 for n in watch.seen) and 3 in watch.seen, watch.seen
    messages = rescale_events(cluster, ns, "cpu")
    assert any(m.startswith("New size: ") and "cpu resource utilization (percentage of request) above target" in m
               for m in messages), messages
    assert any(m.endswith("reason: All metrics below target") for m in messages), messages
    # Read back through autoscaling/v1 too (what kubectl autoscale wrote).
    v1 = json.loads(cluster.kubectl("get", "--raw",
                                    f"/apis/autoscaling/v1/namespaces/{ns}/horizontalpodautoscalers/cpu").stdout)
    assert v1["apiVersion"] == "autoscaling/v1" and v1["spec"]["targetCPUUtilizationPercentage"] == 50


def test_memory_load_scales_up_and_down(cluster: Cluster, ns: str) -> None:
    apply(cluster, ns, *web("mem", cpu="50m", cpu_limit="500m"),
          hpa("mem", [{"type": "Resource", "resource": {"name": "memory", "target": {
              "type": "AverageValue", "averageValue": "40Mi"}}}]))
    wait_until(lambda: ready_replicas(cluster, ns, "mem") == 1, 120, "the first mem pod")
    wait_metrics(cluster, ns, "mem", 1)
    with ReplicaWatch(cluster, ns, "mem") as watch:
        # Every request holds 12 MiB for 25 s in the pod that served it.
        with Load(urls(cluster, ns, "mem", "/cgi-bin/alloc?12,25"), workers=2, rate=0.6):
            wait_scaled(cluster, ns, "mem", 3, 240)
            current = hpa_status(cluster, ns, "mem")["currentMetrics"][0]["resource"]["current"]["averageValue"]
            assert current.endswith(("Mi", "Ki", "k", "M")) or current.isdigit(), current
        wait_scaled(cluster, ns, "mem", 1, 240)
    assert all(1 <= n <= 3 for n in watch.seen) and 3 in watch.seen, watch.seen
    assert any("memory resource above target" in m for m in rescale_events(cluster, ns, "mem"))


def test_requests_per_second_through_the_proxies_scale_up_and_down(cluster: Cluster, ns: str) -> None:
    rps = "http_requests_per_second"
    apply(cluster, ns, *web("qps", cpu="50m"), hpa("qps", [
        {"type": "Pods", "pods": {"metric": {"name": rps}, "target": {"type": "AverageValue", "averageValue": "4"}}},
        {"type": "Object", "object": {"describedObject": {"apiVersion": "v1", "kind": "Service", "name": "qps"},
                                      "metric": {"name": rps}, "target": {"type": "Value", "value": "8"}}}]))
    wait_until(lambda: ready_replicas(cluster, ns, "qps") == 1, 120, "the first qps pod")
    with ReplicaWatch(cluster, ns, "qps") as watch:
        with Load(urls(cluster, ns, "qps", "/"), workers=4, rate=16):
            wait_metrics(cluster, ns, "qps", 2)
            wait_scaled(cluster, ns, "qps", 3, 240)
            status = hpa_status(cluster, ns, "qps")
            kinds = [m["type"] for m in status["currentMetrics"]]
            assert kinds == ["Pods", "Object"], status
            listed = cluster.kubectl("get", "--raw", f"/apis/custom.metrics.k8s.io/v1beta2/namespaces/{ns}/"
                                                     f"services/qps/{rps}").stdout
            assert json.loads(listed)["items"][0]["describedObject"]["name"] == "qps"
            out = cluster.kubectl("get", "hpa", "qps", "-n", ns).stdout
            assert re.search(r"\S+/4, \S+/8\s", out), out
        wait_scaled(cluster, ns, "qps", 1, 240)
    assert all(1 <= n <= 3 for n in watch.seen) and 3 in watch.seen, watch.seen


def test_a_pods_own_request_counter_scales_it(cluster: Cluster, ns: str) -> None:
    """A pod that declares its /metrics (prometheus.io annotations) is scaled on what it counts itself."""
    annotations = {"prometheus.io/scrape": "true", "prometheus.io/port": "80", "prometheus.io/path": "/cgi-bin/metrics"}
    apply(cluster, ns, *web("own", cpu="50m", annotations=annotations), hpa("own", [
        {"type": "Pods", "pods": {"metric": {"name": "http_requests_per_second"},
                                  "target": {"type": "AverageValue", "averageValue": "3"}}}]))
    wait_until(lambda: ready_replicas(cluster, ns, "own") == 1, 120, "the first own pod")
    # The pod's gauge reaches the custom metrics API only through its own endpoint.
    wait_until(lambda: "pods/memory_holders" in cluster.kubectl(
        "get", "--raw", "/apis/custom.metrics.k8s.io/v1beta2").stdout, 60, "the pod's own metrics listed")
    with ReplicaWatch(cluster, ns, "own") as watch:
        with Load(urls(cluster, ns, "own", "/cgi-bin/hit"), workers=4, rate=12):
            wait_scaled(cluster, ns, "own", 3, 240)
        wait_scaled(cluster, ns, "own", 1, 240)
    assert all(1 <= n <= 3 for n in watch.seen) and 3 in watch.seen, watch.seen


def test_kubectl_top_on_the_cluster(cluster: Cluster, ns: str) -> None:
    apply(cluster, ns, *web("top"))
    wait_until(lambda: ready_replicas(cluster, ns, "top") == 1, 120, "the top pod")

    def top() -> str | None:
        proc = cluster.kubectl("top", "pods", "-n", ns, "--containers", check=False)
        return proc.stdout if proc.returncode == 0 and "top-" in proc.stdout else None

    out = wait_until(top, 90, "kubectl top pods")
    row = out.splitlines()[1].split()
    assert row[1] == "web" and row[2].endswith("m") and row[3].endswith("Mi"), out
    nodes = cluster.kubectl("top", "nodes").stdout
    assert all(name in nodes for name in cluster.nodes), nodes
