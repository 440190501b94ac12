"""The HTTP side of the metrics APIs: metrics.k8s.io/v1beta1 and custom.metrics.k8s.io/v1beta2.

metrics.k8s.io (what metrics-server serves, and `kubectl top` and the HPA read):

    GET /apis/metrics.k8s.io/v1beta1/nodes[/NAME]                       NodeMetrics(List)
    GET /apis/metrics.k8s.io/v1beta1/[namespaces/NS/]pods[/NAME]        PodMetrics(List)

with `labelSelector` (matched against the node's or pod's labels) and `fieldSelector`
(metadata.name, metadata.namespace). Fields as metrics-server writes them: `timestamp`,
`window`, `usage` {cpu in nanocores "123n", memory "456Ki"}, per-container `usage`;
`metadata` carries the object's name, namespace and labels.

custom.metrics.k8s.io (what an adapter such as prometheus-adapter serves to the HPA):

    GET /apis/custom.metrics.k8s.io/v1beta2/namespaces/NS/pods/{NAME|*}/METRIC
    GET /apis/custom.metrics.k8s.io/v1beta2/namespaces/NS/services/{NAME|*}/METRIC

with `labelSelector` (which pods or Services, for `*`) and `metricLabelSelector`
(which series of a pod's own metric); answers a MetricValueList. A named object
without a value is a 404, as adapters answer.

Both groups appear in discovery (`/apis`, aggregated and legacy) through
discovery.EXTRA_GROUPS; `kubectl top` looks for metrics.k8s.io there first.
Anything but GET is refused with 405; unknown paths are 404 Status errors.
"""
from __future__ import annotations

import datetime
import math
import time
from typing import Any, Awaitable, Callable

from aiohttp import web

from minik8s.api import errors
from minik8s.api import resources
from minik8s.api import selectors
from minik8s.apiserver import handlers
from minik8s.apiserver.metrics import custom_store
from minik8s.apiserver.metrics import resource_store

Obj = dict[str, Any]

METRICS_GROUP, METRICS_VERSION = "metrics.k8s.io", "v1beta1"
CUSTOM_GROUP, CUSTOM_VERSION = "custom.metrics.k8s.io", "v1beta2"
METRICS_GV = f"{METRICS_GROUP}/{METRICS_VERSION}"
CUSTOM_GV = f"{CUSTOM_GROUP}/{CUSTOM_VERSION}"

PODS = resources.must("", "v1", "pods")
NODES = resources.must("", "v1", "nodes")
SERVICES = resources.must("", "v1", "services")

# (resource, namespace or None) -> objects
Lister = Callable[[resources.Resource, str | None], Awaitable[list[Obj]]]


def rfc3339(t: float) -> str:
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def duration(seconds: float) -> str:
    """A Go duration string (`15.02s`), which metav1.Duration parses."""
    return f"{seconds:.3f}".rstrip("0").rstrip(".") + "s"


def cpu_quantity(nano_cores: int) -> str:
    return f"{nano_cores}n"


def memory_quantity(value: int) -> str:
    return f"{value // 1024}Ki" if value % 1024 == 0 else str(value)


def milli_quantity(value: float) -> str:
    milli = int(round(value * 1000))
    return f"{milli // 1000}" if milli % 1000 == 0 else f"{milli}m"


def _group_doc(group: str, version: str) -> Obj:
    gv = {"groupVersion": f"{group}/{version}", "version": version}
    return {"kind": "APIGroup", "apiVersion": "v1", "name": group, "versions": [gv], "preferredVersion": gv}


def aggregated_groups() -> list[Obj]:
    """The APIGroupDiscovery items of both groups (discovery.EXTRA_GROUPS)."""
    def res(plural: str, kind: str, scope: str) -> Obj:
        return {"resource": plural, "responseKind": {"group": METRICS_GROUP, "version": METRICS_VERSION, "kind": kind},
                "scope": scope, "singularResource": kind.lower(), "verbs": ["get", "list"]}
    return [
        {"metadata": {"name": METRICS_GROUP}, "versions": [
            {"version": METRICS_VERSION, "freshness": "Current",
             "resources": [res("nodes", "NodeMetrics", "Cluster"), res("pods", "PodMetrics", "Namespaced")]}]},
        # Adapters list their metrics as `pods/<metric>` only in legacy discovery (below); the
        # aggregated form has no way to say it, so this version lists no resources, as
        # kube-apiserver shows such adapters.
        {"metadata": {"name": CUSTOM_GROUP}, "versions": [
            {"version": CUSTOM_VERSION, "freshness": "Current", "resources": []}]},
    ]


def _label_selector(request: web.Request) -> selectors.LabelSelector:
    return selectors.parse_label_selector(request.query.get("labelSelector"))


def _field_selector(request: web.Request, plural: str) -> selectors.FieldSelector:
    return selectors.parse_field_selector(request.query.get("fieldSelector"), plural)


def _only_get(request: web.Request) -> None:
    if request.method != "GET":
        raise errors.MethodNotAllowed(f"{request.method} is not supported on the metrics APIs; use GET")


def _parts(request: web.Request) -> list[str]:
    return [p for p in request.match_info.get("tail", "").split("/") if p]


class MetricsApi:
    def __init__(self, resource_data: resource_store.ResourceStore, custom_data: custom_store.CustomStore,
                 lister: Lister, *, clock: Callable[[], float] = time.time) -> None:
        self.resources = resource_data
        self.custom = custom_data
        self.lister = lister
        self.clock = clock

    def add_routes(self, router: web.UrlDispatcher) -> None:
        """Before the API server's catch-all /apis routes (aiohttp matches in order)."""
        for group, handler in ((METRICS_GROUP, self.handle_metrics), (CUSTOM_GROUP, self.handle_custom)):
            router.add_route("*", f"/apis/{group}", handler)
            router.add_route("*", f"/apis/{group}/", handler)
            router.add_route("*", f"/apis/{group}/{{tail:.+}}", handler)

    # -- metrics.k8s.io ----------------------------------------------------------------------------------

    async def handle_metrics(self, request: web.Request) -> web.StreamResponse:
        _only_get(request)
        parts = _parts(request)
        if not parts:
            return handlers.respond(_group_doc(METRICS_GROUP, METRICS_VERSION))
        if parts[0] != METRICS_VERSION:
            raise handlers.not_found_path()
        rest = parts[1:]
        if not rest:
            return handlers.respond(self.metrics_resource_list())
        namespace: str | None = None
        if len(rest) >= 3 and rest[0] == "namespaces":
            namespace, rest = rest[1], rest[2:]
            if rest[0] != "pods":
                raise handlers.not_found_path()
        if not rest or len(rest) > 2 or rest[0] not in ("nodes", "pods"):
            raise handlers.not_found_path()
        name = rest[1] if len(rest) == 2 else None
        if rest[0] == "nodes":
            items = await self.node_metrics(request, name)
            kind = "NodeMetrics"
        else:
            items = await self.pod_metrics(request, namespace, name)
            kind = "PodMetrics"
        if name is not None:
            if not items:
                raise errors.NotFound(f"{rest[0]}.{METRICS_GROUP}", name)
            return self._render(request, kind, items[0], single=True)
        return self._render(request, kind, {"kind": kind + "List", "apiVersion": METRICS_GV, "metadata": {},
                                            "items": items})

    @staticmethod
    def metrics_resource_list() -> Obj:
        return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": METRICS_GV, "resources": [
            {"name": "nodes", "singularName": "", "namespaced": False, "kind": "NodeMetrics", "verbs": ["get", "list"]},
            {"name": "pods", "singularName": "", "namespaced": True, "kind": "PodMetrics", "verbs": ["get", "list"]}]}

    async def node_metrics(self, request: web.Request, name: str | None) -> list[Obj]:
        label = _label_selector(request)
        fields = _field_selector(request, "nodes")
        usage = self.resources.node_usage()
        out = []
        for node in await self.lister(NODES, None):
            meta = node["metadata"]
            if name is not None and meta["name"] != name:
                continue
            if not label.matches(meta.get("labels")) or not fields.matches(node):
                continue
            u = usage.get(meta["name"])
            if u is None:
                continue
            out.append({"kind": "NodeMetrics", "apiVersion": METRICS_GV,
                        "metadata": {"name": meta["name"], "creationTimestamp": rfc3339(self.clock()),
                                     **({"labels": meta["labels"]} if meta.get("labels") else {})},
                        "timestamp": rfc3339(u.time), "window": duration(u.window),
                        "usage": {"cpu": cpu_quantity(u.cpu_nano_cores), "memory": memory_quantity(u.memory_bytes)}})
        return sorted(out, key=lambda o: o["metadata"]["name"])

    async def pod_metrics(self, request: web.Request, namespace: str | None, name: str | None) -> list[Obj]:
        label = _label_selector(request)
        fields = _field_selector(request, "pods")
        if namespace is None:
            namespace = fields.value_of("metadata.namespace")
        usage = self.resources.pod_usage(namespace)
        out = []
        for pod in await self.lister(PODS, namespace):
            meta = pod["metadata"]
            if name is not None and meta["name"] != name:
                continue
            if not label.matches(meta.get("labels")) or not fields.matches(pod):
                continue
            found = usage.get((meta.get("namespace", ""), meta["name"]))
            if found is None:
                continue
            pod_level, containers = found
            spec_order = [c["name"] for c in (pod.get("spec") or {}).get("containers") or []]
            ordered = sorted(containers, key=lambda c: (spec_order.index(c) if c in spec_order else len(spec_order), c))
            out.append({"kind": "PodMetrics", "apiVersion": METRICS_GV,
                        "metadata": {"name": meta["name"], "namespace": meta.get("namespace", ""),
                                     "creationTimestamp": rfc3339(self.clock()),
                                     **({"labels": meta["labels"]} if meta.get("labels") else {})},
                        "timestamp": rfc3339(pod_level.time), "window": duration(pod_level.window),
                        "containers": [{"name": c, "usage": {"cpu": cpu_quantity(containers[c].cpu_nano_cores),
                                                             "memory": memory_quantity(containers[c].memory_bytes)}}
                                       for c in ordered]})
        return sorted(out, key=lambda o: (o["metadata"]["namespace"], o["metadata"]["name"]))

    def _render(self, request: web.Request, kind: str, doc: Obj, single: bool = False) -> web.Response:
        if not handlers.wants_table(request):
            return handlers.respond(doc)
        items = [doc] if single else doc["items"]
        pods = kind == "PodMetrics"
        columns = [{"name": "Name", "type": "string", "format": "name", "description": "", "priority": 0},
                   {"name": "CPU", "type": "string", "format": "", "description": "", "priority": 0},
                   {"name": "Memory", "type": "string", "format": "", "description": "", "priority": 0},
                   {"name": "Window", "type": "string", "format": "", "description": "", "priority": 0}]
        rows = []
        for item in items:
            if pods:
                cpu = sum(int(c["usage"]["cpu"].rstrip("n")) for c in item["containers"])
                mem = sum(_bytes(c["usage"]["memory"]) for c in item["containers"])
            else:
                cpu, mem = int(item["usage"]["cpu"].rstrip("n")), _bytes(item["usage"]["memory"])
            meta = dict(item["metadata"])
            rows.append({"cells": [meta["name"], f"{math.ceil(cpu / 1e6)}m", f"{mem // (1 << 20)}Mi", item["window"]],
                         "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                                    "metadata": meta}})
        return handlers.respond({"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": {},
                                 "columnDefinitions": columns, "rows": rows}, 200, handlers.TABLE_CONTENT_TYPE)

    # -- custom.metrics.k8s.io --------------------------------------------------------------------------

    async def handle_custom(self, request: web.Request) -> web.StreamResponse:
        _only_get(request)
        parts = _parts(request)
        if not parts:
            return handlers.respond(_group_doc(CUSTOM_GROUP, CUSTOM_VERSION))
        if parts[0] != CUSTOM_VERSION:
            raise handlers.not_found_path()
        rest = parts[1:]
        if not rest:
            return handlers.respond(self.custom_resource_list())
        if len(rest) != 5 or rest[0] != "namespaces" or rest[2] not in ("pods", "services"):
            raise handlers.not_found_path()
        namespace, kind, name, metric = rest[1], rest[2], rest[3], rest[4]
        metric_selector = selectors.parse_label_selector(request.query.get("metricLabelSelector"))
        label = _label_selector(request)
        if kind == "pods":
            items = await self._pod_values(namespace, name, metric, label, metric_selector)
        else:
            items = await self._service_values(namespace, name, metric, label)
        if name != "*" and not items:
            raise errors.NotFound(f"{kind}/{metric}", name)
        return handlers.respond({"kind": "MetricValueList", "apiVersion": CUSTOM_GV, "metadata": {}, "items": items})

    def custom_resource_list(self) -> Obj:
        out = []
        for metric in sorted(self.custom.metric_names()):
            out.append({"name": f"pods/{metric}", "singularName": "", "namespaced": True, "kind": "MetricValueList",
                        "verbs": ["get"]})
        out.append({"name": f"services/{custom_store.HTTP_RPS}", "singularName": "", "namespaced": True,
                    "kind": "MetricValueList", "verbs": ["get"]})
        return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": CUSTOM_GV, "resources": out}

    @staticmethod
    def _value(kind: str, namespace: str, name: str, metric: str, value: custom_store.Value) -> Obj:
        return {"describedObject": {"kind": kind, "namespace": namespace, "name": name, "apiVersion": "/v1"},
                "metric": {"name": metric}, "timestamp": rfc3339(value.time),
                "windowSeconds": max(1, math.ceil(value.window)), "value": milli_quantity(value.value)}

    async def _pod_values(self, namespace: str, name: str, metric: str, label: selectors.LabelSelector,
                          metric_selector: selectors.LabelSelector) -> list[Obj]:
        out = []
        for pod in await self.lister(PODS, namespace):
            meta = pod["metadata"]
            if name != "*" and meta["name"] != name:
                continue
            if name == "*" and not label.matches(meta.get("labels")):
                continue
            value = self.custom.pod_value(namespace, meta["name"], (pod.get("status") or {}).get("podIP") or "",
                                          metric, metric_selector)
            if value is not None:
                out.append(self._value("Pod", namespace, meta["name"], metric, value))
        return sorted(out, key=lambda o: o["describedObject"]["name"])

    async def _service_values(self, namespace: str, name: str, metric: str,
                              label: selectors.LabelSelector) -> list[Obj]:
        out = []
        for svc in await self.lister(SERVICES, namespace):
            meta = svc["metadata"]
            if name != "*" and meta["name"] != name:
                continue
            if name == "*" and not label.matches(meta.get("labels")):
                continue
            value = self.custom.service_value(namespace, meta["name"], metric)
            if value is not None:
                out.append(self._value("Service", namespace, meta["name"], metric, value))
        return sorted(out, key=lambda o: o["describedObject"]["name"])


def _bytes(memory: str) -> int:
    return int(memory[:-2]) * 1024 if memory.endswith("Ki") else int(memory)
