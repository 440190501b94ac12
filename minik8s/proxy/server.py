"""`minik8s proxy`: watch Services and Endpoints, keep one proxy mode's rules current.

Runs on every node, in the node's network namespace (next to the kubelet) on
the local cluster and on the host of a real machine. It holds no state of its
own: a restarted proxy lists Services and Endpoints again and rewrites its
rules, while the rules of the iptables mode keep serving in the meantime.
"""
from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import signal
import socket
import subprocess

from minik8s.api import resources
from minik8s.client import informer as informer_mod
from minik8s.client import rest
from minik8s.proxy import counters as counters_mod
from minik8s.proxy import iptables
from minik8s.proxy import iptables_proxier
from minik8s.proxy import metrics as metrics_mod
from minik8s.proxy import nft as nft_mod
from minik8s.proxy import nftables_proxier
from minik8s.proxy import proxier as proxier_mod
from minik8s.proxy import rules
from minik8s.proxy import userspace

log = logging.getLogger(__name__)

SERVICES = resources.must("", "v1", "services")
ENDPOINTS = resources.must("", "v1", "endpoints")

MODES = ("iptables", "nftables", "userspace")
ROUTE_LOCALNET = "/proc/sys/net/ipv4/conf/all/route_localnet"
BRIDGE_NF_CALL_IPTABLES = "/proc/sys/net/bridge/bridge-nf-call-iptables"


@dataclasses.dataclass
class Config:
    server: str = "https://127.0.0.1:6443"
    token: str | None = None
    kubeconfig: str = ""
    mode: str = "iptables"
    node_name: str = dataclasses.field(default_factory=socket.gethostname)
    node_ip: str | None = None
    cluster_cidr: str = "10.244.0.0/16"
    nodeport_addresses: tuple[str, ...] = ()
    masquerade_all: bool = False
    sync_period: float = 30.0
    min_sync_period: float = 0.1
    iptables_lock_wait: float = 5.0
    udp_timeout: float = 10.0
    bind_address: str = "0.0.0.0"
    # host:port of the per-endpoint connection counts (metrics.py); "" = not served.
    metrics_bind_address: str = metrics_mod.DEFAULT_BIND


def make_proxier(config: Config, ipt: iptables.Iptables, conntrack: iptables.Conntrack,
                 nft: nft_mod.Nft | None = None) -> proxier_mod.Proxier:
    p: proxier_mod.Proxier
    rules_config = rules.Config(cluster_cidr=config.cluster_cidr, masquerade_all=config.masquerade_all,
                                node_name=config.node_name)
    if config.mode == "iptables":
        p = iptables_proxier.IptablesProxier(
            ipt, conntrack, rules_config, nodeport_addresses=config.nodeport_addresses,
            min_sync_period=config.min_sync_period, sync_period=config.sync_period)
    elif config.mode == "nftables":
        if nft is None:
            raise ValueError("the nftables mode needs nft(8) (Debian/CentOS package nftables)")
        p = nftables_proxier.NftablesProxier(
            ipt, nft, conntrack, rules_config, nodeport_addresses=config.nodeport_addresses,
            min_sync_period=config.min_sync_period, sync_period=config.sync_period)
    elif config.mode == "userspace":
        p = userspace.UserspaceProxier(
            ipt, conntrack=conntrack, node_ip=config.node_ip, bind_address=config.bind_address,
            udp_timeout=config.udp_timeout, min_sync_period=config.min_sync_period, sync_period=config.sync_period)
    else:
        raise ValueError(f"unknown proxy mode {config.mode!r}; known: {', '.join(MODES)}")
    p.nft = nft
    return p


def endpoint_counters(proxier: proxier_mod.Proxier) -> counters_mod.EndpointCounters:
    """The mode's per-endpoint counters (counters.py), attached to the proxier that fills them."""
    if isinstance(proxier, iptables_proxier.IptablesProxier):
        proxier.counters = counters_mod.IptablesCounters(counters_mod.iptables_save_counters, proxier.state.endpoints)
        return proxier.counters
    if isinstance(proxier, userspace.UserspaceProxier):
        return proxier.tally
    if isinstance(proxier, nftables_proxier.NftablesProxier):
        return counters_mod.NftablesCounters(proxier.endpoint_counts)
    raise ValueError(f"no endpoint counters for the {proxier.mode} mode")


def _write_sysctl(path: str, value: str) -> bool:
    try:
        with open(path, encoding="ascii") as f:
            if f.read().strip() == value:
                return True
        with open(path, "w", encoding="ascii") as f:
            f.write(value)
        return True
    except OSError as e:
        log.warning("cannot set %s to %s: %s", path, value, e)
        return False


def prepare_kernel(mode: str) -> None:
    """The sysctls the kernel-NAT modes rely on, set as kube-proxy sets them."""
    if mode not in ("iptables", "nftables"):
        return
    # NodePorts on 127.0.0.1: DNAT to a pod keeps the loopback source, which may only
    # leave the host (then masqueraded) with route_localnet.
    _write_sysctl(ROUTE_LOCALNET, "1")
    # A pod reaching a Service whose endpoint sits on the same bridge: the reply is
    # bridged, and only bridge-nf-call-iptables makes conntrack undo the DNAT on it.
    if not os.path.exists(BRIDGE_NF_CALL_IPTABLES):
        subprocess.run(["modprobe", "br_netfilter"], capture_output=True, check=False)
    if os.path.exists(BRIDGE_NF_CALL_IPTABLES):
        _write_sysctl(BRIDGE_NF_CALL_IPTABLES, "1")
    else:
        log.warning("br_netfilter is not available: pods may not reach Services whose endpoints are on "
                    "their own bridge")


async def serve(config: Config) -> None:
    prepare_kernel(config.mode)
    ipt = iptables.Real(lock_wait=config.iptables_lock_wait)
    nft = nft_mod.default()
    proxier = make_proxier(config, ipt, iptables.RealConntrack(), nft)
    metrics_server = None
    if config.metrics_bind_address:
        metrics_server = metrics_mod.MetricsServer(endpoint_counters(proxier), config.metrics_bind_address, proxier)
        await metrics_server.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with rest.connect(config.server, config.kubeconfig, config.token,
                           user_agent=f"minik8s-proxy/{config.node_name}",
                           learn_masters=rest.LEARN_MASTERS) as client:
        factory = informer_mod.InformerFactory(client)
        proxier.register(factory.informer(SERVICES), factory.informer(ENDPOINTS))
        factory.start()
        log.info("proxy on node %s: mode %s, waiting for Services and Endpoints from %s",
                 config.node_name, config.mode, config.server)
        synced = loop.create_task(factory.wait_synced())
        stopping = loop.create_task(stop.wait())
        await asyncio.wait([synced, stopping], return_when=asyncio.FIRST_COMPLETED)
        task: asyncio.Task[None] | None = None
        if synced.done() and not stop.is_set():
            task = loop.create_task(proxier.run(), name="proxier")
            log.info("proxy on node %s: caches synced, syncing rules", config.node_name)
            await asyncio.wait([task, stopping], return_when=asyncio.FIRST_COMPLETED)
        for t in (synced, stopping, task):
            if t is not None and not t.done():
                t.cancel()
        failure = task.exception() if task is not None and task.done() and not task.cancelled() else None
        if failure is not None:
            raise failure
        await proxier.close()
        await factory.stop()
    if metrics_server is not None:
        await metrics_server.stop()
    log.info("proxy on node %s stopped", config.node_name)


async def cleanup(config: Config) -> bool:
    """Remove every chain, jump and table the proxy made, in any mode. True if there were chains."""
    nft = nft_mod.default()
    return await proxier_mod.cleanup(iptables.Real(lock_wait=config.iptables_lock_wait), nft)
