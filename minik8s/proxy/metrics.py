"""The proxy's /metrics (Prometheus text format), as kube-proxy serves on 127.0.0.1:10249.

Besides the sync metrics of every mode, the nftables mode exposes one counter
per endpoint: new connections this node's proxy sent to it
(`minik8s_proxy_endpoint_connections_total`, read from the kernel's named
counters at each scrape). A Service's request rate is the rate of the sum over
its endpoints and over the nodes' proxies (each node counts the connections it
translated: from its own pods and host, and to its NodePorts). This is what the
autoscaling issue's QPS metric reads.
"""
from __future__ import annotations

import logging

from aiohttp import web

from minik8s.proxy import nftables_proxier
from minik8s.proxy import proxier as proxier_mod

log = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


async def render(p: proxier_mod.Proxier) -> str:
    mode = _label(p.mode)
    lines = [
        "# HELP minik8s_proxy_sync_proxy_rules_last_duration_seconds Duration of the last rule sync.",
        "# TYPE minik8s_proxy_sync_proxy_rules_last_duration_seconds gauge",
        f'minik8s_proxy_sync_proxy_rules_last_duration_seconds{{mode="{mode}"}} {p.last_sync_seconds:.6f}',
        "# HELP minik8s_proxy_sync_proxy_rules_total Rule syncs applied since the proxy started.",
        "# TYPE minik8s_proxy_sync_proxy_rules_total counter",
        f'minik8s_proxy_sync_proxy_rules_total{{mode="{mode}"}} {p.syncs}',
    ]
    if isinstance(p, nftables_proxier.NftablesProxier):
        lines += [
            "# HELP minik8s_proxy_endpoint_connections_total New connections sent to each endpoint by this node.",
            "# TYPE minik8s_proxy_endpoint_connections_total counter",
        ]
        for spn, endpoint, packets, _bytes in await p.endpoint_counts():
            labels = (f'namespace="{_label(spn.namespace)}",service="{_label(spn.name)}",'
                      f'port="{_label(spn.port)}",protocol="{_label(spn.protocol)}",endpoint="{_label(endpoint)}"')
            lines.append(f"minik8s_proxy_endpoint_connections_total{{{labels}}} {packets}")
    return "\n".join(lines) + "\n"


class MetricsServer:
    def __init__(self, p: proxier_mod.Proxier, address: str) -> None:
        host, _, port = address.rpartition(":")
        self.proxier = p
        self.host = host or "127.0.0.1"
        self.port = int(port)
        self._runner: web.AppRunner | None = None

    async def _metrics(self, _request: web.Request) -> web.Response:
        return web.Response(text=await render(self.proxier), headers={"Content-Type": CONTENT_TYPE})

    async def _healthz(self, _request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/metrics", self._metrics)
        app.router.add_get("/healthz", self._healthz)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        log.info("proxy metrics on http://%s:%d/metrics", self.host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
