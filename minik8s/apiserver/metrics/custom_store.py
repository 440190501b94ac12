"""Custom metrics (custom.metrics.k8s.io) from counters: requests per second per pod and per Service.

Two sources, both counters turned into per-second rates over two scrapes:

- **The proxies** (each node's `/metrics`, minik8s/proxy/counters.py): new connections
  sent to each Service endpoint. One node's proxy sees only the traffic entering the
  cluster through that node (its NodePort, its pods' cluster-IP traffic), so a pod's
  rate is the sum over every node's proxy, and a Service's the sum over its endpoints.
  Served as `http_requests_per_second`.
- **The pods themselves**, when they declare a metrics endpoint (prometheus.io/scrape,
  prometheus.io/port, prometheus.io/path annotations; the kubelet scrapes them and
  relays what they say at `/metrics/pods`). As prometheus-adapter's usual rule has it, a
  counter `X_total` is served as the rate `X_per_second` and a gauge `X` as its value;
  the series of one pod and name are added up, after the request's metric label
  selector picks among them. A pod's own `http_requests_per_second` (from its
  `http_requests_total`) counts real requests, keep-alive or not, so it wins over the
  proxies' connection count for that pod.

A counter that went down was reset (a restarted proxy or pod): as in Prometheus, the
new value is taken as the increase since the reset. A series last seen more than
`stale_after` seconds ago gives no value (a node whose proxy stopped answering must not
keep its last rate forever), and is dropped when its source drops it.
"""
from __future__ import annotations

import dataclasses
import time
from typing import Callable, Iterable, Mapping

from prometheus_client import parser as prom_parser

from minik8s.api import selectors

HTTP_RPS = "http_requests_per_second"
PROXY_FAMILY = "minik8s_proxy_endpoint_connections_total"
RATE_SUFFIX = "_per_second"

Labels = tuple[tuple[str, str], ...]


@dataclasses.dataclass(frozen=True, slots=True)
class Point:
    time: float
    value: float


@dataclasses.dataclass(frozen=True, slots=True)
class Value:
    time: float
    window: float
    value: float


@dataclasses.dataclass(frozen=True)
class EndpointKey:
    namespace: str
    service: str
    port: str
    protocol: str
    ip: str


def _advance(pair: tuple[Point | None, Point] | None, new: Point) -> tuple[Point | None, Point]:
    if pair is None:
        return None, new
    if new.time <= pair[1].time:
        return pair
    return pair[1], new


def _rate(pair: tuple[Point | None, Point]) -> Value | None:
    prev, last = pair
    if prev is None or last.time <= prev.time:
        return None
    window = last.time - prev.time
    increase = last.value - prev.value
    if increase < 0:
        increase = last.value  # reset: counted from zero again
    return Value(last.time, window, increase / window)


def parse_proxy_counters(text: str) -> dict[EndpointKey, float]:
    out: dict[EndpointKey, float] = {}
    for family in prom_parser.text_string_to_metric_families(text):
        for s in family.samples:
            if s.name != PROXY_FAMILY:
                continue
            ip = s.labels.get("endpoint", "").rsplit(":", 1)[0].strip("[]")
            key = EndpointKey(s.labels.get("namespace", ""), s.labels.get("service", ""), s.labels.get("port", ""),
                              s.labels.get("protocol", ""), ip)
            out[key] = out.get(key, 0.0) + float(s.value)
    return out


@dataclasses.dataclass(frozen=True)
class PodSeries:
    namespace: str
    pod: str
    metric: str  # the name it is served under (X_per_second for a counter X_total)
    labels: Labels
    counter: bool


def parse_pod_metrics(text: str, scrape_time: float) -> dict[PodSeries, Point]:
    """A kubelet's /metrics/pods text: each pod's samples, at the time the kubelet scraped the pod."""
    out: dict[PodSeries, Point] = {}
    for family in prom_parser.text_string_to_metric_families(text):
        for s in family.samples:
            labels = dict(s.labels)
            namespace, pod = labels.pop("namespace", ""), labels.pop("pod", "")
            if not namespace or not pod:
                continue
            counter = s.name.endswith("_total") and family.type in ("counter", "unknown", "untyped")
            metric = s.name[:-len("_total")] + RATE_SUFFIX if counter else s.name
            key = PodSeries(namespace, pod, metric, tuple(sorted(labels.items())), counter)
            out[key] = Point(float(s.timestamp) if s.timestamp is not None else scrape_time, float(s.value))
    return out


class CustomStore:
    def __init__(self, *, stale_after: float = 60.0, clock: Callable[[], float] = time.time) -> None:
        self.stale_after = stale_after
        self.clock = clock
        self._proxy: dict[str, dict[EndpointKey, tuple[Point | None, Point]]] = {}  # node -> series
        self._pods: dict[str, dict[PodSeries, tuple[Point | None, Point]]] = {}  # node -> series

    # -- updates from the scraper ---------------------------------------------------------------------

    def update_proxy(self, node: str, counts: Mapping[EndpointKey, float], scrape_time: float) -> None:
        old = self._proxy.get(node, {})
        self._proxy[node] = {k: _advance(old.get(k), Point(scrape_time, v)) for k, v in counts.items()}

    def update_pods(self, node: str, series: Mapping[PodSeries, Point]) -> None:
        old = self._pods.get(node, {})
        self._pods[node] = {k: _advance(old.get(k), p) for k, p in series.items()}

    def retain(self, nodes: Iterable[str]) -> None:
        keep = set(nodes)
        for store in (self._proxy, self._pods):
            for name in [n for n in store if n not in keep]:
                del store[name]

    def series(self) -> int:
        return sum(len(s) for s in self._proxy.values()) + sum(len(s) for s in self._pods.values())

    def _fresh(self, pair: tuple[Point | None, Point]) -> Value | None:
        if self.clock() - pair[1].time > self.stale_after:
            return None
        return _rate(pair)

    # -- queries -----------------------------------------------------------------------------------------

    def metric_names(self) -> set[str]:
        names = {HTTP_RPS}
        for series in self._pods.values():
            names.update(k.metric for k in series)
        return names

    def _pod_declared(self, namespace: str, pod: str, metric: str,
                      selector: selectors.LabelSelector) -> Value | None:
        found: list[Value] = []
        for series in self._pods.values():
            for key, pair in series.items():
                if key.namespace != namespace or key.pod != pod or key.metric != metric:
                    continue
                if not selector.matches(dict(key.labels)):
                    continue
                if key.counter:
                    v = self._fresh(pair)
                elif self.clock() - pair[1].time <= self.stale_after:
                    v = Value(pair[1].time, 0.0, pair[1].value)
                else:
                    v = None
                if v is not None:
                    found.append(v)
        return _sum(found)

    def _proxied(self, match: Callable[[EndpointKey], bool]) -> Value | None:
        found = [v for series in self._proxy.values() for key, pair in series.items() if match(key)
                 if (v := self._fresh(pair)) is not None]
        return _sum(found)

    def pod_value(self, namespace: str, pod: str, pod_ip: str, metric: str,
                  selector: selectors.LabelSelector = selectors.EVERYTHING) -> Value | None:
        """The metric of one pod; None when nothing measures it."""
        own = self._pod_declared(namespace, pod, metric, selector)
        if own is not None or metric != HTTP_RPS or not pod_ip:
            return own
        return self._proxied(lambda k: k.namespace == namespace and k.ip == pod_ip)

    def service_value(self, namespace: str, service: str, metric: str) -> Value | None:
        if metric != HTTP_RPS:
            return None
        return self._proxied(lambda k: k.namespace == namespace and k.service == service)


def _sum(values: list[Value]) -> Value | None:
    if not values:
        return None
    return Value(max(v.time for v in values), max(v.window for v in values), sum(v.value for v in values))
