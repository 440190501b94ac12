"""Where the HPA reads metrics: the resource metrics API and the custom metrics API (upstream metrics/).

Values are integers in thousandths (Quantity.MilliValue), as upstream computes with
them; each pod's metric carries its timestamp and window, which the replica
calculator uses to decide whether a CPU sample was taken after the pod became ready.
"""
from __future__ import annotations

import dataclasses
import datetime
import urllib.parse
from typing import Any, Protocol

from minik8s.api import errors
from minik8s.api import quantity
from minik8s.api import resources
from minik8s.client import rest

Obj = dict[str, Any]

# metricServerDefaultMetricWindow: custom metrics without windowSeconds.
DEFAULT_WINDOW = 60.0


class MetricsError(Exception):
    """A metric could not be read (the message is what the HPA's condition and event say)."""


@dataclasses.dataclass(frozen=True)
class PodMetric:
    value: int  # thousandths
    timestamp: float = 0.0  # epoch seconds
    window: float = DEFAULT_WINDOW  # seconds


PodMetricsInfo = dict[str, PodMetric]


class MetricsClient(Protocol):
    async def get_resource_metric(self, resource: str, namespace: str, selector: str,
                                  container: str) -> tuple[PodMetricsInfo, float]:
        """Per pod, the sum over its containers (or one container's) usage of `resource`."""

    async def get_raw_metric(self, metric: str, namespace: str, selector: str,
                             metric_selector: str) -> tuple[PodMetricsInfo, float]:
        """A custom metric of every pod `selector` picks."""

    async def get_object_metric(self, metric: str, namespace: str, ref: Obj,
                                metric_selector: str) -> tuple[int, float]:
        """A custom metric of one object (a Service, a Deployment...)."""

    async def get_external_metric(self, metric: str, namespace: str, selector: str) -> tuple[list[int], float]:
        """An external metric's values."""


def parse_time(text: str | None) -> float:
    if not text:
        return 0.0
    try:
        return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0


def parse_duration(text: str | None) -> float:
    """metav1.Duration text (`15s`, `1m0s`, `500ms`) to seconds."""
    if not text:
        return 0.0
    total, number = 0.0, ""
    units = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}
    i = 0
    while i < len(text):
        ch = text[i]
        if ch.isdigit() or ch == ".":
            number += ch
            i += 1
            continue
        unit = text[i:i + 2] if text[i:i + 2] in units else ch
        if unit not in units or not number:
            return 0.0
        total += float(number) * units[unit]
        number = ""
        i += len(unit)
    return total


def milli_value(q: Any) -> int:
    return quantity.cpu_millis(str(q))


class RestMetricsClient:
    """MetricsClient over the API server (metrics.k8s.io/v1beta1, custom.metrics.k8s.io/v1beta2)."""

    def __init__(self, client: rest.Client) -> None:
        self.client = client

    async def _get(self, path: str, params: dict[str, str]) -> Obj:
        try:
            body = await self.client.request("GET", path, params={k: v for k, v in params.items() if v})
        except errors.StatusError as e:
            raise MetricsError(e.message) from e
        if not isinstance(body, dict):
            raise MetricsError(f"GET {path}: not a JSON object")
        return body

    async def get_resource_metric(self, resource: str, namespace: str, selector: str,
                                  container: str) -> tuple[PodMetricsInfo, float]:
        try:
            body = await self._get(f"/apis/metrics.k8s.io/v1beta1/namespaces/{namespace}/pods",
                                   {"labelSelector": selector})
        except MetricsError as e:
            raise MetricsError(f"unable to fetch metrics from resource metrics API: {e}") from e
        items = body.get("items") or []
        if not items:
            raise MetricsError("no metrics returned from resource metrics API")
        out: PodMetricsInfo = {}
        for m in items:
            containers = m.get("containers") or []
            total, missing = 0, not containers
            found_container = False
            for c in containers:
                if container and c.get("name") != container:
                    continue
                found_container = True
                usage = (c.get("usage") or {}).get(resource)
                if usage is None:
                    missing = True
                    break
                total += milli_value(usage)
            if container and not found_container:
                missing = True
            if not missing:
                out[m["metadata"]["name"]] = PodMetric(total, parse_time(m.get("timestamp")),
                                                       parse_duration(m.get("window")))
        return out, parse_time(items[0].get("timestamp"))

    async def get_raw_metric(self, metric: str, namespace: str, selector: str,
                             metric_selector: str) -> tuple[PodMetricsInfo, float]:
        try:
            body = await self._get(
                f"/apis/custom.metrics.k8s.io/v1beta2/namespaces/{namespace}/pods/*/{urllib.parse.quote(metric)}",
                {"labelSelector": selector, "metricLabelSelector": metric_selector})
        except MetricsError as e:
            raise MetricsError(f"unable to fetch metrics from custom metrics API: {e}") from e
        items = body.get("items") or []
        if not items:
            raise MetricsError("no metrics returned from custom metrics API")
        out: PodMetricsInfo = {}
        for m in items:
            window = m.get("windowSeconds")
            out[(m.get("describedObject") or {}).get("name", "")] = PodMetric(
                milli_value(m.get("value", "0")), parse_time(m.get("timestamp")),
                float(window) if window is not None else DEFAULT_WINDOW)
        return out, parse_time(items[0].get("timestamp"))

    async def get_object_metric(self, metric: str, namespace: str, ref: Obj,
                                metric_selector: str) -> tuple[int, float]:
        kind, api_version = ref.get("kind", ""), ref.get("apiVersion", "")
        group = api_version.split("/")[0] if "/" in api_version else ""
        res = resources.by_kind(kind, api_version) if api_version else resources.by_kind(kind)
        if res is None:
            raise MetricsError(f"unable to fetch metrics from custom metrics API: no resource for kind {kind} "
                               f"in group {group!r}")
        plural = res.qualified
        if kind == "Namespace" and not group:
            path = f"/apis/custom.metrics.k8s.io/v1beta2/namespaces/{namespace}/metrics/{metric}"
        else:
            path = (f"/apis/custom.metrics.k8s.io/v1beta2/namespaces/{namespace}/{plural}/"
                    f"{urllib.parse.quote(ref.get('name', ''))}/{urllib.parse.quote(metric)}")
        try:
            body = await self._get(path, {"metricLabelSelector": metric_selector})
        except MetricsError as e:
            raise MetricsError(f"unable to fetch metrics from custom metrics API: {e}") from e
        items = body.get("items") or []
        if len(items) != 1:
            raise MetricsError(f"unable to fetch metrics from custom metrics API: expected exactly one metric "
                               f"value for {kind} {ref.get('name')}, got {len(items)}")
        return milli_value(items[0].get("value", "0")), parse_time(items[0].get("timestamp"))

    async def get_external_metric(self, metric: str, namespace: str, selector: str) -> tuple[list[int], float]:
        raise MetricsError("unable to fetch metrics from external metrics API: minik8s serves no "
                           "external.metrics.k8s.io")
