"""The proxy's metrics endpoint: per-endpoint connection counts in Prometheus text, and /healthz.

kube-proxy serves its metrics on port 10249; so does this one (`--metrics-bind-address`,
default 0.0.0.0:10249 so that the API server's metrics pipeline can collect it from
every node; the counts are not secret; "" turns it off). The one family served is

    minik8s_proxy_endpoint_connections_total{namespace, service, port, protocol, endpoint="ip:port"}

from whichever mode's counters.EndpointCounters (userspace: counted as relayed; iptables:
the DNAT rules' counters; nftables: named counters per endpoint). Given the proxier, it
also serves the rule syncs' last duration and count (`minik8s_proxy_sync_proxy_rules_*`,
labelled by mode), as kube-proxy does. A port that cannot be bound is logged and the
proxy runs on without it: Service traffic matters more than its counts.
"""
from __future__ import annotations

import logging

from aiohttp import web
from prometheus_client import exposition
from prometheus_client import metrics_core

from minik8s.proxy import counters as counters_mod
from minik8s.proxy import proxier as proxier_mod

log = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
FAMILY = "minik8s_proxy_endpoint_connections"
DEFAULT_BIND = "0.0.0.0:10249"


class _Families:
    def __init__(self, families: list[metrics_core.Metric]) -> None:
        self.families = families

    def collect(self) -> list[metrics_core.Metric]:
        return self.families


def render(snapshot: dict[counters_mod.EndpointKey, int], proxier: proxier_mod.Proxier | None = None) -> bytes:
    family = metrics_core.Metric(FAMILY, "New connections this proxy sent to each Service endpoint.", "counter")
    for (spn, ep), count in sorted(snapshot.items(), key=lambda item: (item[0][0], item[0][1].sort_key())):
        family.add_sample(FAMILY + "_total", {"namespace": spn.namespace, "service": spn.name, "port": spn.port,
                                              "protocol": spn.protocol, "endpoint": str(ep)}, count)
    families = [family]
    if proxier is not None:
        last = metrics_core.GaugeMetricFamily("minik8s_proxy_sync_proxy_rules_last_duration_seconds",
                                              "Duration of the last rule sync.", labels=["mode"])
        last.add_metric([proxier.mode], proxier.last_sync_seconds)
        syncs = metrics_core.CounterMetricFamily("minik8s_proxy_sync_proxy_rules",
                                                 "Rule syncs applied since the proxy started.", labels=["mode"])
        syncs.add_metric([proxier.mode], proxier.syncs)
        families += [last, syncs]
    return exposition.generate_latest(_Families(families))


def split_bind(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host.strip("[]") or "0.0.0.0", int(port)


class MetricsServer:
    def __init__(self, counters: counters_mod.EndpointCounters, bind: str = DEFAULT_BIND,
                 proxier: proxier_mod.Proxier | None = None) -> None:
        self.counters = counters
        self.proxier = proxier
        self.host, self.port = split_bind(bind)
        self.runner: web.AppRunner | None = None

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/metrics", self.metrics)
        app.router.add_get("/healthz", self.healthz)
        return app

    async def metrics(self, _request: web.Request) -> web.Response:
        try:
            snapshot = await self.counters.snapshot()
        except OSError as e:
            return web.Response(status=500, text=f"reading the endpoint counters failed: {e}\n")
        return web.Response(body=render(snapshot, self.proxier), headers={"Content-Type": CONTENT_TYPE})

    async def healthz(self, _request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def start(self) -> bool:
        runner = web.AppRunner(self.app(), access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await runner.setup()
        try:
            await web.TCPSite(runner, self.host, self.port, reuse_address=True).start()
        except OSError as e:
            log.warning("proxy metrics: cannot listen on %s:%d (%s); serving no counts", self.host, self.port, e)
            await runner.cleanup()
            return False
        self.runner = runner
        log.info("proxy metrics on %s:%d/metrics", self.host, self.port)
        return True

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None
