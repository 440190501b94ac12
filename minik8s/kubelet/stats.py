"""The kubelet's resource statistics: sampled from cgroups, served as the real kubelet serves them.

Every `interval` (10 s, `--stats-interval`) the provider lists this node's running
containers on the engine, reads each one's cgroup (cgroupstats.CgroupReader) and the
node's cgroup (`--node-cgroup`, "/" for the whole machine), and keeps, per container,
the newest two readings. That is all the state there is: bounded by the containers that
run now, gone with them.

Served (minik8s/kubelet/server.py routes them here):
- `/metrics/resource`: Prometheus text with the real kubelet's names and labels —
  `container_cpu_usage_seconds_total`, `container_memory_working_set_bytes`,
  `container_start_time_seconds`, `pod_*`, `node_*`, `resource_scrape_error` — each
  sample with the time it was read (milliseconds), so a scraper computes CPU rates from
  two scrapes over the kubelet's own clock, as metrics-server does.
- `/stats/summary`: the Summary API (node, pods, containers: cpu `usageNanoCores` from
  the last two readings, `usageCoreNanoSeconds`, memory `workingSetBytes`,
  `usageBytes`, `rssBytes`, with their times).
- `/metrics/pods` (minik8s's own): what pods say about themselves. A pod annotated
  `prometheus.io/scrape: "true"` (with `prometheus.io/port`, and `prometheus.io/path`,
  default `/metrics`) is scraped over its pod IP on the same beat, and its counters and
  gauges are served again with `namespace` and `pod` labels added (a pod's own labels of
  those names become `exported_namespace`/`exported_pod`, as Prometheus renames them).
  At most MAX_POD_SERIES series and MAX_POD_BODY bytes per pod are taken. The kubelet
  reaches its pods anyway (probes), so the control plane needs no route to pod networks.

A pod's CPU and memory are the sums over its containers, the sandbox included; the
node's are its cgroup's. Times are the kubelet's clock.
"""
from __future__ import annotations

import asyncio
import dataclasses
import datetime
import logging
import time
from typing import Any, Awaitable, Callable, Iterable, Sequence

import aiohttp
from aiohttp import web
from prometheus_client import exposition
from prometheus_client import metrics_core
from prometheus_client import parser as prom_parser

from minik8s.kubelet import cgroupstats
from minik8s.kubelet import runtime

log = logging.getLogger(__name__)

Obj = dict[str, Any]

SCRAPE_ANNOTATION = "prometheus.io/scrape"
PORT_ANNOTATION = "prometheus.io/port"
PATH_ANNOTATION = "prometheus.io/path"
MAX_POD_SERIES = 200
MAX_POD_BODY = 256 * 1024
POD_SCRAPE_TIMEOUT = 3.0
# The classic text format, as the kubelet serves it (prometheus_client now defaults to 1.0.0).
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@dataclasses.dataclass(frozen=True)
class Reading:
    time: float  # epoch seconds, when the files were read
    sample: cgroupstats.CgroupSample


@dataclasses.dataclass(frozen=True)
class ContainerStats:
    name: str
    container_id: str
    start_time: float
    reading: Reading
    usage_nano_cores: int | None  # from the previous reading; None until there are two


@dataclasses.dataclass(frozen=True)
class PodStats:
    namespace: str
    name: str
    uid: str
    start_time: float
    containers: tuple[ContainerStats, ...]  # app containers only
    time: float
    cpu_usage_ns: int  # containers and sandbox
    memory_working_set_bytes: int
    memory_usage_bytes: int
    memory_rss_bytes: int
    usage_nano_cores: int | None


@dataclasses.dataclass(frozen=True)
class NodeStats:
    name: str
    start_time: float
    reading: Reading
    usage_nano_cores: int | None


@dataclasses.dataclass(frozen=True)
class Snapshot:
    node: NodeStats | None
    pods: tuple[PodStats, ...]
    errors: int  # containers that could not be read in the last round


@dataclasses.dataclass(frozen=True)
class PodScrape:
    namespace: str
    name: str
    time: float
    families: tuple[metrics_core.Metric, ...]


def nano_cores(prev: Reading | None, cur: Reading) -> int | None:
    """CPU rate between two readings in nanocores (CPU-nanoseconds per second); None if not computable."""
    if prev is None or cur.time <= prev.time or cur.sample.cpu_usage_ns < prev.sample.cpu_usage_ns:
        return None
    return int((cur.sample.cpu_usage_ns - prev.sample.cpu_usage_ns) / (cur.time - prev.time))


Lister = Callable[[], Awaitable[list[runtime.ContainerStatus]]]
Fetcher = Callable[[str, float], Awaitable[str]]


async def http_fetch(url: str, timeout: float) -> str:
    """GET `url` (a pod's metrics endpoint), at most MAX_POD_BODY bytes of it."""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session:
        async with session.get(url) as resp:
            if resp.status != 200:
                raise OSError(f"HTTP {resp.status}")
            body = await resp.content.read(MAX_POD_BODY + 1)
            if len(body) > MAX_POD_BODY:
                raise OSError(f"more than {MAX_POD_BODY} bytes")
            return body.decode(errors="replace")


class StatsProvider:
    def __init__(self, node_name: str, lister: Lister, reader: cgroupstats.CgroupReader, *,
                 node_cgroup: str = "/", interval: float = 10.0, pods: Callable[[], Iterable[Obj]] = lambda: (),
                 fetch: Fetcher = http_fetch, clock: Callable[[], float] = time.time) -> None:
        self.node_name = node_name
        self.lister = lister
        self.reader = reader
        self.node_cgroup = node_cgroup
        self.interval = interval
        self.pods = pods
        self.fetch = fetch
        self.clock = clock
        self.started = clock()
        self._containers: dict[str, tuple[Reading | None, Reading]] = {}  # id -> (previous, newest)
        self._node: tuple[Reading | None, Reading] | None = None
        self._snapshot = Snapshot(None, (), 0)
        self._pod_scrapes: dict[tuple[str, str], PodScrape] = {}

    # -- sampling ------------------------------------------------------------------------------------

    def _read_all(self, targets: Sequence[runtime.ContainerStatus]) -> tuple[dict[str, Reading], Reading | None, int]:
        """Blocking: read every target's cgroup and the node's (run in a thread)."""
        out: dict[str, Reading] = {}
        errors = 0
        for c in targets:
            path = self.reader.locate(c.id)
            sample = self.reader.read(path) if path is not None else None
            if sample is None:
                errors += 1
                continue
            out[c.id] = Reading(self.clock(), sample)
        node_sample = self.reader.read(self.node_cgroup)
        node = Reading(self.clock(), node_sample) if node_sample is not None else None
        return out, node, errors

    async def sample(self) -> Snapshot:
        """One round: read everything, derive rates from the previous round, keep the result."""
        listed = await self.lister()
        running = [c for c in listed if c.state == runtime.RUNNING and c.pod_uid]
        readings, node_reading, errors = await asyncio.to_thread(self._read_all, running)
        live = {c.id for c in running}
        for cid in list(self._containers):
            if cid not in live:
                del self._containers[cid]
                self.reader.forget(cid)
        for cid, reading in readings.items():
            previous = self._containers.get(cid)
            self._containers[cid] = (previous[1] if previous else None, reading)
        by_pod: dict[str, list[runtime.ContainerStatus]] = {}
        for c in running:
            if c.id in readings:
                by_pod.setdefault(c.pod_uid, []).append(c)
        pods = tuple(self._pod_stats(uid, members) for uid, members in sorted(by_pod.items()))
        node = None
        if node_reading is not None:
            prev = self._node[1] if self._node else None
            self._node = (prev, node_reading)
            node = NodeStats(self.node_name, self.started, node_reading, nano_cores(prev, node_reading))
        self._snapshot = Snapshot(node, pods, errors)
        return self._snapshot

    def _pod_stats(self, uid: str, members: list[runtime.ContainerStatus]) -> PodStats:
        containers: list[ContainerStats] = []
        cpu = ws = usage = rss = 0
        rate: int | None = 0
        newest = 0.0
        start: float | None = None
        for c in sorted(members, key=lambda c: (c.is_sandbox, c.name)):
            prev, cur = self._containers[c.id]
            r = nano_cores(prev, cur)
            cpu += cur.sample.cpu_usage_ns
            ws += cur.sample.memory_working_set_bytes
            usage += cur.sample.memory_usage_bytes
            rss += cur.sample.memory_rss_bytes
            rate = None if rate is None or r is None else rate + r
            newest = max(newest, cur.time)
            started = c.started_at or c.created_at
            start = started if start is None else min(start, started)
            if not c.is_sandbox:
                containers.append(ContainerStats(c.name, c.id, started, cur, r))
        first = members[0]
        return PodStats(first.pod_namespace, first.pod_name, uid, start or 0.0, tuple(containers), newest, cpu, ws,
                        usage, rss, rate)

    def latest(self) -> Snapshot:
        return self._snapshot

    async def scrape_pods(self) -> None:
        """Scrape the pods that declare a metrics endpoint (annotations), keep what they said."""
        wanted: dict[tuple[str, str], str] = {}
        for pod in self.pods():
            url = pod_metrics_url(pod)
            if url is not None:
                wanted[(pod["metadata"].get("namespace", ""), pod["metadata"]["name"])] = url
        for key in list(self._pod_scrapes):
            if key not in wanted:
                del self._pod_scrapes[key]

        async def one(key: tuple[str, str], url: str) -> None:
            try:
                text = await self.fetch(url, POD_SCRAPE_TIMEOUT)
                families = parse_pod_metrics(text)
            except (OSError, asyncio.TimeoutError, aiohttp.ClientError, ValueError) as e:
                log.debug("pod %s/%s: scraping %s failed: %r", key[0], key[1], url, e)
                self._pod_scrapes.pop(key, None)
                return
            self._pod_scrapes[key] = PodScrape(key[0], key[1], self.clock(), families)

        await asyncio.gather(*(one(k, u) for k, u in wanted.items()))

    def pod_scrapes(self) -> list[PodScrape]:
        return [self._pod_scrapes[k] for k in sorted(self._pod_scrapes)]

    async def run(self) -> None:
        """Sample every `interval` until cancelled; a failed round is logged and retried next beat."""
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            try:
                await self.sample()
                await self.scrape_pods()
            except asyncio.CancelledError:
                raise
            except Exception as e:  # noqa: BLE001 - an engine outage must not end sampling
                log.warning("stats: sampling failed: %r", e)
            await asyncio.sleep(max(self.interval - (loop.time() - started), 0.1))


# -- pods' own metrics ---------------------------------------------------------------------------------


def pod_metrics_url(pod: Obj) -> str | None:
    """Where a pod says its metrics are (prometheus.io/* annotations), if it says so and runs."""
    annotations = (pod.get("metadata") or {}).get("annotations") or {}
    if str(annotations.get(SCRAPE_ANNOTATION, "")).lower() != "true":
        return None
    status = pod.get("status") or {}
    ip = status.get("podIP")
    if not ip or status.get("phase") != "Running" or (pod.get("metadata") or {}).get("deletionTimestamp"):
        return None
    try:
        port = int(annotations.get(PORT_ANNOTATION, ""))
    except ValueError:
        return None
    if not 0 < port < 65536:
        return None
    path = str(annotations.get(PATH_ANNOTATION) or "/metrics")
    if not path.startswith("/"):
        path = "/" + path
    host = f"[{ip}]" if ":" in ip else ip
    return f"http://{host}:{port}{path}"


def parse_pod_metrics(text: str) -> tuple[metrics_core.Metric, ...]:
    """Counters, gauges and untyped families of a Prometheus text body, at most MAX_POD_SERIES samples."""
    # The parser makes a family per untyped line; samples are merged back by family name.
    out: dict[str, metrics_core.Metric] = {}
    left = MAX_POD_SERIES
    for family in prom_parser.text_string_to_metric_families(text):
        if family.type not in ("counter", "gauge", "unknown", "untyped"):
            continue
        kept = out.get(family.name)
        if kept is None:
            kept = metrics_core.Metric(family.name, family.documentation, family.type)
        elif kept.type != family.type:
            continue
        for s in family.samples:
            if left <= 0:
                break
            if s.name.endswith("_created") or (family.type == "counter" and not s.name.endswith("_total")):
                continue  # creation times are not values
            kept.add_sample(s.name, dict(s.labels), s.value)
            left -= 1
        if kept.samples:
            out[family.name] = kept
    return tuple(out.values())


# -- rendering -----------------------------------------------------------------------------------------


class _Families:
    """What prometheus_client's exposition needs of a registry: collect()."""

    def __init__(self, families: list[metrics_core.Metric]) -> None:
        self.families = families

    def collect(self) -> list[metrics_core.Metric]:
        return self.families


def _family(name: str, doc: str, typ: str) -> metrics_core.Metric:
    return metrics_core.Metric(name, doc, typ)


def resource_metrics(snapshot: Snapshot) -> bytes:
    """The text of the kubelet's /metrics/resource."""
    c_cpu = _family("container_cpu_usage_seconds", "[STABLE] Cumulative cpu time consumed by the container "
                    "in core-seconds", "counter")
    c_mem = _family("container_memory_working_set_bytes", "[STABLE] Current working set of the container in bytes",
                    "gauge")
    c_start = _family("container_start_time_seconds", "[STABLE] Start time of the container since unix epoch "
                      "in seconds", "gauge")
    n_cpu = _family("node_cpu_usage_seconds", "[STABLE] Cumulative cpu time consumed by the node in core-seconds",
                    "counter")
    n_mem = _family("node_memory_working_set_bytes", "[STABLE] Current working set of the node in bytes", "gauge")
    p_cpu = _family("pod_cpu_usage_seconds", "[STABLE] Cumulative cpu time consumed by the pod in core-seconds",
                    "counter")
    p_mem = _family("pod_memory_working_set_bytes", "[STABLE] Current working set of the pod in bytes", "gauge")
    err = _family("resource_scrape_error", "[STABLE] 1 if there was an error while getting container metrics, "
                  "0 otherwise", "gauge")
    for pod in snapshot.pods:
        for c in pod.containers:
            labels = {"container": c.name, "namespace": pod.namespace, "pod": pod.name}
            s = c.reading.sample
            c_cpu.add_sample("container_cpu_usage_seconds_total", labels, s.cpu_usage_ns / 1e9, c.reading.time)
            c_mem.add_sample("container_memory_working_set_bytes", labels, s.memory_working_set_bytes, c.reading.time)
            c_start.add_sample("container_start_time_seconds", labels, c.start_time, c.reading.time)
        labels = {"namespace": pod.namespace, "pod": pod.name}
        p_cpu.add_sample("pod_cpu_usage_seconds_total", labels, pod.cpu_usage_ns / 1e9, pod.time)
        p_mem.add_sample("pod_memory_working_set_bytes", labels, pod.memory_working_set_bytes, pod.time)
    if snapshot.node is not None:
        r = snapshot.node.reading
        n_cpu.add_sample("node_cpu_usage_seconds_total", {}, r.sample.cpu_usage_ns / 1e9, r.time)
        n_mem.add_sample("node_memory_working_set_bytes", {}, r.sample.memory_working_set_bytes, r.time)
    err.add_sample("resource_scrape_error", {}, 1 if snapshot.errors else 0)
    families = [c_cpu, c_mem, c_start, n_cpu, n_mem, p_cpu, p_mem, err]
    return exposition.generate_latest(_Families(families))


def pod_metrics(scrapes: Iterable[PodScrape]) -> bytes:
    """The text of /metrics/pods: every scraped pod's samples, labelled with the pod, at its scrape time."""
    merged: dict[str, metrics_core.Metric] = {}
    for scrape in scrapes:
        for family in scrape.families:
            target = merged.get(family.name)
            if target is None:
                target = merged[family.name] = metrics_core.Metric(family.name, family.documentation, family.type)
            elif target.type != family.type:
                continue  # two pods disagree on the type: the first one seen wins
            for s in family.samples:
                labels = {("exported_" + k if k in ("namespace", "pod") else k): v for k, v in s.labels.items()}
                labels.update(namespace=scrape.namespace, pod=scrape.name)
                target.add_sample(s.name, labels, s.value, scrape.time)
    return exposition.generate_latest(_Families(list(merged.values())))


def _rfc3339(t: float) -> str:
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _cpu(reading: Reading, nano: int | None) -> Obj:
    out: Obj = {"time": _rfc3339(reading.time), "usageCoreNanoSeconds": reading.sample.cpu_usage_ns}
    if nano is not None:
        out["usageNanoCores"] = nano
    return out


def _memory(t: float, s: cgroupstats.CgroupSample) -> Obj:
    return {"time": _rfc3339(t), "usageBytes": s.memory_usage_bytes, "workingSetBytes": s.memory_working_set_bytes,
            "rssBytes": s.memory_rss_bytes}


def summary(snapshot: Snapshot, node_name: str) -> Obj:
    """The Summary API document (/stats/summary), the fields minik8s measures."""
    node: Obj = {"nodeName": node_name}
    if snapshot.node is not None:
        n = snapshot.node
        node.update(startTime=_rfc3339(n.start_time), cpu=_cpu(n.reading, n.usage_nano_cores),
                    memory=_memory(n.reading.time, n.reading.sample))
    pods = []
    for p in snapshot.pods:
        pod_cpu: Obj = {"time": _rfc3339(p.time), "usageCoreNanoSeconds": p.cpu_usage_ns}
        if p.usage_nano_cores is not None:
            pod_cpu["usageNanoCores"] = p.usage_nano_cores
        pods.append({
            "podRef": {"name": p.name, "namespace": p.namespace, "uid": p.uid},
            "startTime": _rfc3339(p.start_time),
            "containers": [{"name": c.name, "startTime": _rfc3339(c.start_time),
                            "cpu": _cpu(c.reading, c.usage_nano_cores),
                            "memory": _memory(c.reading.time, c.reading.sample)} for c in p.containers],
            "cpu": pod_cpu,
            "memory": {"time": _rfc3339(p.time), "usageBytes": p.memory_usage_bytes,
                       "workingSetBytes": p.memory_working_set_bytes, "rssBytes": p.memory_rss_bytes},
        })
    return {"node": node, "pods": pods}


def add_routes(app: web.Application, provider: StatsProvider) -> None:
    """/metrics/resource, /stats/summary and /metrics/pods on the kubelet's server."""

    async def resource(_request: web.Request) -> web.Response:
        return web.Response(body=resource_metrics(provider.latest()), headers={"Content-Type": CONTENT_TYPE})

    async def stats_summary(_request: web.Request) -> web.Response:
        return web.json_response(summary(provider.latest(), provider.node_name))

    async def pods(_request: web.Request) -> web.Response:
        return web.Response(body=pod_metrics(provider.pod_scrapes()), headers={"Content-Type": CONTENT_TYPE})

    app.router.add_get("/metrics/resource", resource)
    app.router.add_get("/stats/summary", stats_summary)
    app.router.add_get("/metrics/pods", pods)
