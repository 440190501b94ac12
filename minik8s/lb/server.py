"""`minik8s lb`: the balancer on a local address, its health checks, and (with a kubeconfig)
the live masters learned from the `kubernetes` Endpoints.

Learning reuses the API client's (rest.Client.learn_servers, as the node agents learn):
every `learn_interval` the Endpoints are read, through the masters directly (never
through this balancer), and the servers to balance over become the configured ones
followed by every live master, so a master added later takes connections when the
configured ones are gone, and one removed from the cluster drops out.
"""
from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import signal
import ssl

from minik8s.api import errors
from minik8s.client import kubeconfig as kubeconfig_mod
from minik8s.client import rest
from minik8s.client import tls as tls_mod
from minik8s.lb import balancer

log = logging.getLogger(__name__)


@dataclasses.dataclass
class Config:
    servers: list[str] = dataclasses.field(default_factory=list)  # URLs or host:port
    bind_address: str = "127.0.0.1"
    port: int = balancer.DEFAULT_PORT
    # Its cluster's CA (health checks are GET /readyz over TLS) and credentials that may get
    # the `kubernetes` Endpoints (learning the masters); its servers when --servers is empty.
    kubeconfig: str = ""
    # The cluster's CA without a kubeconfig: /readyz health checks, but no learning.
    ca_file: str = ""
    connect_timeout: float = 3.0
    down_for: float = 15.0
    health_interval: float = 5.0
    learn_interval: float = rest.LEARN_MASTERS


def _own(cfg: Config, server: str) -> bool:
    """Whether `server` is this balancer (a kubeconfig whose `server` points here must not
    make it dial itself)."""
    host, port = balancer.parse_server(server)
    local = {cfg.bind_address, "127.0.0.1", "localhost", "::1"} if cfg.bind_address in ("0.0.0.0", "::") \
        else {cfg.bind_address}
    return port == cfg.port and host in local


def configured_servers(cfg: Config, access: kubeconfig_mod.ClusterAccess | None) -> list[str]:
    """--servers, else the kubeconfig's masters (its minik8s.io/servers, else its `server`),
    without this balancer's own address."""
    listed = list(cfg.servers) or (list(access.servers or [access.server]) if access is not None else [])
    servers = [s for s in listed if not _own(cfg, s)]
    if not servers:
        raise ValueError("no API server to balance over: give --servers (or a kubeconfig listing the masters)")
    return servers


def health_check(cfg: Config, access: kubeconfig_mod.ClusterAccess | None) -> balancer.HealthCheck:
    """GET /readyz over TLS when the cluster's CA is known, else a TCP connect."""
    ca: bytes | None = access.ca if access is not None else None
    if cfg.ca_file:
        with open(cfg.ca_file, "rb") as f:
            ca = f.read()
    if not ca:
        return balancer.tcp_check
    context = ssl.create_default_context(cadata=ca.decode())
    return balancer.readyz_check(context, access.server_name if access is not None else None)


async def learn(lb: balancer.Balancer, client: rest.Client, configured: list[str], cfg: Config) -> None:
    """Every learn_interval: the configured servers, then every live master."""
    while True:
        try:
            learned = await client.learn_servers()
        except errors.StatusError as e:
            log.warning("could not read the kubernetes Endpoints for the masters: %s", e.message)
        else:
            lb.set_servers(list(dict.fromkeys([*configured, *(s for s in learned if not _own(cfg, s))])))
        await asyncio.sleep(cfg.learn_interval)


async def serve(cfg: Config) -> None:
    access = kubeconfig_mod.load(cfg.kubeconfig) if cfg.kubeconfig else None
    configured = configured_servers(cfg, access)
    lb = balancer.Balancer(configured, connect_timeout=cfg.connect_timeout, down_for=cfg.down_for,
                           health_interval=cfg.health_interval, health_check=health_check(cfg, access))
    server = await asyncio.start_server(lb.handle, cfg.bind_address, cfg.port)
    log.info("balancing %s:%d over %s (health: %s)", cfg.bind_address, cfg.port,
             ", ".join(b.address for b in lb.backends),
             "TCP connect" if lb.health_check is balancer.tcp_check else "GET /readyz over TLS")
    client = None
    tasks = [asyncio.ensure_future(lb.health_loop())]
    if access is not None:
        # The masters themselves, never this balancer: its own address is dropped.
        client = rest.Client([s for s in (access.servers or [access.server]) if not _own(cfg, s)] or configured,
                             token=access.token, tls=tls_mod.TLSConfig(ca=access.ca, cert=access.cert, key=access.key,
                                                                       server_name=access.server_name),
                             timeout=10, user_agent="minik8s-lb")
        tasks.append(asyncio.ensure_future(learn(lb, client, configured, cfg)))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        log.info("stopping")
        server.close()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await lb.close_connections()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(server.wait_closed(), 5)
        if client is not None:
            await client.close()
