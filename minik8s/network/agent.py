"""`minik8s network-agent`: one per node, flanneld's job in the minik8s way.

Its own process rather than part of the kubelet, as flanneld is: it needs to
own routes, the VXLAN device and iptables in the node's network namespace,
which the kubelet never needs, and it can be restarted (or switched to another
backend) without touching a pod.

Level-triggered: a Node informer only marks the one key "network" dirty; one
`sync()` reads this node and every other node from the cache, makes sure this
node's backend is set up and its annotations published, computes the routes,
FDB and neighbour entries the other nodes' leases call for, reads what the
kernel holds, and applies the difference; then the iptables rules. Last, it writes
the kubelet's CNI configuration from this node's pod CIDR (cniconfig.py), as
flannel does. A failed sync is retried with backoff, and a periodic resync
repairs drift (a route deleted by hand, a masquerade rule inserted above ours).
"""
from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import ipaddress
import json
import logging
import signal
from typing import Any

from minik8s.api import resources
from minik8s.client import informer as informer_mod
from minik8s.client import rest
from minik8s.client import workqueue
from minik8s.network import backend as backend_mod
from minik8s.network import cniconfig
from minik8s.network import hostgw
from minik8s.network import iptables
from minik8s.network import routes
from minik8s.network import runner as runner_mod
from minik8s.network import subnet as subnet_mod
from minik8s.network import vxlan

log = logging.getLogger(__name__)

NODES = resources.must("", "v1", "nodes")
KEY = "network"


@dataclasses.dataclass(frozen=True)
class Config:
    node_name: str
    server: str = "https://127.0.0.1:6443"
    token: str | None = None
    kubeconfig: str = ""
    backend: str = subnet_mod.VXLAN
    node_ip: str = ""  # "" = the first IPv4 address of the interface
    iface: str = ""  # "" = the interface holding node_ip, else the default route's
    cluster_cidr: str = "10.244.0.0/16"
    vni: int = 1
    vxlan_port: int = 8472
    mtu: int = 0  # VXLAN device MTU; 0 = the interface's MTU minus 50
    ip_masq: bool = True
    resync_period: float = 10.0
    # Where to write the kubelet's CNI configuration ("" = do not write one), where
    # host-local keeps its reservations, and the pods' bridge.
    cni_conf_dir: str = ""
    cni_data_dir: str = cniconfig.DEFAULT_DATA_DIR
    cni_bridge: str = cniconfig.DEFAULT_BRIDGE


class SyncFailed(Exception):
    pass


def make_backend(cfg: Config, run: runner_mod.Runner, iface: backend_mod.Interface) -> backend_mod.Backend:
    cluster = ipaddress.IPv4Network(cfg.cluster_cidr)
    if cfg.backend == subnet_mod.VXLAN:
        return vxlan.VxlanBackend(run, iface, cluster, vni=cfg.vni, port=cfg.vxlan_port, mtu=cfg.mtu)
    if cfg.backend == subnet_mod.HOST_GW:
        return hostgw.HostGwBackend(run, iface, cluster)
    raise ValueError(f"unknown backend {cfg.backend!r} (one of {', '.join(subnet_mod.BACKENDS)})")


class NetworkAgent:
    def __init__(self, cfg: Config, client: rest.Client, run: runner_mod.Runner, backend: backend_mod.Backend,
                 iface: backend_mod.Interface, nodes: informer_mod.Informer | None = None) -> None:
        self.cfg = cfg
        self.client = client
        self.run = run
        self.backend = backend
        self.iface = iface
        self.cluster_cidr = ipaddress.IPv4Network(cfg.cluster_cidr)
        self.nodes = nodes or informer_mod.Informer(client, NODES)
        self.queue = workqueue.RateLimitingQueue(base_delay=0.2, max_delay=30.0)
        self.ready = asyncio.Event()
        self.nodes.add_handlers(on_add=lambda _n: self.queue.add(KEY), on_update=self._node_updated,
                                on_delete=lambda _n: self.queue.add(KEY))

    def _node_updated(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        # Kubelet heartbeats change nodes every few seconds; only our fields matter.
        if subnet_mod.relevant(old) != subnet_mod.relevant(new):
            self.queue.add(KEY)

    async def sync(self) -> None:
        name = self.cfg.node_name
        node = self.nodes.get(name)
        if node is None:
            log.info("node %s: not registered yet; waiting", name)
            return
        own = subnet_mod.pod_cidr(node)
        if own is None:
            log.info("node %s: no spec.podCIDR yet; waiting", name)
            return
        if not own.subnet_of(self.cluster_cidr):
            raise SyncFailed(f"node {name}: pod CIDR {own} is outside the cluster CIDR {self.cluster_cidr}")
        data = await self.backend.setup(own)
        await self.publish(node, data)
        leases = subnet_mod.leases(self.nodes.list(), own_node=name, backend_type=self.backend.type,
                                   cluster_cidr=self.cluster_cidr)
        desired = self.backend.desired(leases)
        observed = await self.backend.observe()
        failed = await routes.apply(self.run, routes.plan(observed, desired))
        await iptables.sync(self.run, self.cluster_cidr, own, self.cfg.ip_masq)
        # Last: the kubelet starts networking pods once the file is there, and by then
        # the routes and the masquerade rules they need are in place.
        self.write_cni_config(own)
        if failed:
            raise SyncFailed(f"node {name}: {len(failed)} command(s) failed, first: {failed[0]}")
        if not self.ready.is_set():
            log.info("node %s: %s backend up, pod CIDR %s, routes to %d node(s)", name, self.backend.type, own,
                     len(leases))
            self.ready.set()

    def pod_mtu(self) -> int:
        """The pods' MTU: room for the VXLAN header; the link's own (bridge default) for host-gw."""
        if self.backend.type == subnet_mod.VXLAN:
            return self.cfg.mtu or self.iface.mtu - vxlan.OVERHEAD
        return 0

    def write_cni_config(self, own: ipaddress.IPv4Network) -> None:
        if not self.cfg.cni_conf_dir:
            return
        doc = cniconfig.conflist(own, bridge=self.cfg.cni_bridge, mtu=self.pod_mtu(), data_dir=self.cfg.cni_data_dir)
        cniconfig.write(self.cfg.cni_conf_dir, doc)

    async def publish(self, node: dict[str, Any], data: dict[str, Any] | None) -> None:
        """Put this node's backend data on its Node (a merge patch touches only these keys)."""
        want = subnet_mod.node_annotations(self.backend.type, self.iface.ip, data)
        have = node["metadata"].get("annotations") or {}
        if all(have.get(k) == v for k, v in want.items()):
            return
        await self.client.patch(NODES, self.cfg.node_name, {"metadata": {"annotations": want}})
        log.info("node %s: published %s", self.cfg.node_name, want)

    async def process_one(self) -> None:
        key = await self.queue.get()
        try:
            await self.sync()
            self.queue.forget(key)
        except asyncio.CancelledError:
            raise
        except Exception as e:  # noqa: BLE001 - the agent must keep converging whatever failed
            delay = self.queue.add_rate_limited(key)
            log.warning("node %s: network sync failed (%s); retry in %.1fs", self.cfg.node_name, e, delay)
        finally:
            self.queue.done(key)

    async def _resync(self) -> None:
        while True:
            await asyncio.sleep(self.cfg.resync_period)
            self.queue.add(KEY)

    async def run_forever(self) -> None:
        self.nodes.start()
        tasks = [asyncio.get_running_loop().create_task(self._resync(), name="network-resync")]
        try:
            await self.nodes.wait_synced()
            self.queue.add(KEY)
            while True:
                await self.process_one()
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self.nodes.stop()


IP_FORWARD = "/proc/sys/net/ipv4/ip_forward"


def enable_forwarding(path: str = IP_FORWARD) -> None:
    """Routing between pod bridge, eth0 and flannel.1 needs IPv4 forwarding in this namespace.

    /proc/sys/net shows the network namespace of the process that opens it, so this
    sets the node's, not the host's.
    """
    with open(path, "r+", encoding="ascii") as f:
        if f.read().strip() != "1":
            f.seek(0)
            f.write("1\n")
            log.info("enabled net.ipv4.ip_forward")


async def cleanup(cfg: Config, run: runner_mod.Runner) -> None:
    """Remove what any backend of this agent made: the VXLAN device (and with it its
    routes, FDB and neighbour entries), host-gw routes, and the tagged iptables rules.
    Needs no API server: it works from the kernel's state alone."""
    dev = vxlan.device_name(cfg.vni)
    result = await run.run(("ip", "link", "del", dev), check=False)
    if result.ok:
        log.info("deleted %s", dev)
    cluster = ipaddress.IPv4Network(cfg.cluster_cidr)
    for route in sorted(await routes.observe_routes(run, cluster)):
        await run.run(route.delete_argv(), check=False)
        log.info("deleted route %s via %s dev %s", route.dst, route.gateway, route.dev)
    await iptables.cleanup(run)
    if cfg.cni_conf_dir and cniconfig.remove(cfg.cni_conf_dir):
        log.info("removed the CNI configuration from %s", cfg.cni_conf_dir)
    # The pods' bridge, once no pod is on it (the bridge plugin made it; nothing else would remove it).
    ports = await run.run(("ip", "-j", "link", "show", "master", cfg.cni_bridge), check=False)
    if ports.ok and not json.loads(ports.stdout or "[]"):
        if (await run.run(("ip", "link", "del", cfg.cni_bridge), check=False)).ok:
            log.info("deleted %s", cfg.cni_bridge)


def make_client(cfg: Config) -> rest.Client:
    agent = f"minik8s-network-agent/{cfg.node_name}"
    if cfg.kubeconfig:
        return rest.from_kubeconfig(cfg.kubeconfig, user_agent=agent, learn_masters=rest.LEARN_MASTERS)
    return rest.Client(cfg.server, token=cfg.token, user_agent=agent, learn_masters=rest.LEARN_MASTERS)


async def serve(cfg: Config, *, run: runner_mod.Runner | None = None, stop: asyncio.Event | None = None) -> None:
    run = run or runner_mod.CommandRunner()
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    iface = await backend_mod.discover_interface(run, iface=cfg.iface, node_ip=cfg.node_ip)
    log.info("node %s: %s backend on %s (%s, MTU %d)", cfg.node_name, cfg.backend, iface.name, iface.ip, iface.mtu)
    enable_forwarding()
    client = make_client(cfg)
    agent = NetworkAgent(cfg, client, run, make_backend(cfg, run, iface), iface)
    task = loop.create_task(agent.run_forever(), name="network-agent")
    stopper = loop.create_task(stop.wait())
    try:
        await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for t in (task, stopper):
            t.cancel()
        await asyncio.gather(task, stopper, return_exceptions=True)
        await client.close()
    if task.done() and not task.cancelled() and task.exception() is not None:
        raise task.exception()  # type: ignore[misc]
