"""`minik8s proxy`: option parsing only; the work is in minik8s.proxy."""
from __future__ import annotations

import asyncio
import ipaddress
import socket

import click

from minik8s.cli.main import cli


def _cidr(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
    if not value:
        return value
    try:
        return str(ipaddress.ip_network(value, strict=False))
    except ValueError as e:
        raise click.BadParameter(str(e)) from None


def _ip(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    if not value:
        return None
    try:
        return str(ipaddress.ip_address(value))
    except ValueError as e:
        raise click.BadParameter(str(e)) from None


def _addresses(_ctx: click.Context, _param: click.Parameter, value: str) -> tuple[str, ...]:
    out = []
    for part in (value or "").split(","):
        part = part.strip()
        if not part:
            continue
        try:
            out.append(str(ipaddress.ip_network(part, strict=False)))
        except ValueError as e:
            raise click.BadParameter(str(e)) from None
    return tuple(out)


@cli.command()
@click.option("--server", default="https://127.0.0.1:6443", help="API server URL.")
@click.option("--token", default=None, help="Bearer token for the API server.")
@click.option("--kubeconfig", default="", help="Kubeconfig with the API server, its CA and this component's credentials (overrides --server).")
@click.option("--mode", "--proxy-mode", "mode", default="iptables",
              type=click.Choice(["iptables", "nftables", "userspace"]),
              help="iptables: the kernel DNATs to endpoints (iptables rules); nftables: the same with one "
                   "nftables table and verdict maps; userspace: the proxy relays connections itself.")
@click.option("--node-name", default=socket.gethostname(),
              help="This node's name, as the kubelet's: endpoints on it (by nodeName) get the hairpin rules; "
                   "with a wrong name a pod cannot reach itself through its own Service.")
@click.option("--node-ip", default=None, callback=_ip,
              help="This node's IP; userspace mode DNATs the node's own Service traffic to it.")
@click.option("--cluster-cidr", default="10.244.0.0/16", callback=_cidr,
              help="Pod CIDR of the cluster: Service traffic from outside it is masqueraded ('' never).")
@click.option("--nodeport-addresses", default="", callback=_addresses,
              help="Comma-separated CIDRs NodePorts answer on (default: every local address).")
@click.option("--masquerade-all", is_flag=True, default=False, help="Masquerade all Service traffic.")
@click.option("--sync-period", default=30.0, type=click.FloatRange(min=0.1),
              help="Longest time between full rule syncs (s).")
@click.option("--min-sync-period", default=0.1, type=click.FloatRange(min=0.0),
              help="Shortest time between syncs; changes arriving meanwhile are batched (s).")
@click.option("--iptables-lock-wait", default=5.0, type=click.FloatRange(min=0.0),
              help="How long iptables may wait for the xtables lock (s).")
@click.option("--udp-timeout", default=10.0, type=click.FloatRange(min=0.05),
              help="Userspace mode: close a UDP client's session after this long idle (s).")
@click.option("--bind-address", default="0.0.0.0", callback=_ip,
              help="Userspace mode: address the per-Service listeners bind.")
@click.option("--metrics-bind-address", default="0.0.0.0:10249",
              help="host:port serving /metrics: per-endpoint connection counts (autoscaling) and rule sync "
                   "times ('' = none).")
@click.option("--cleanup", is_flag=True, default=False,
              help="Remove every chain, rule and table the proxy made (any mode), then exit.")
def proxy(server: str, token: str | None, kubeconfig: str, mode: str, node_name: str, node_ip: str | None, cluster_cidr: str,
          nodeport_addresses: tuple[str, ...], masquerade_all: bool, sync_period: float, min_sync_period: float,
          iptables_lock_wait: float, udp_timeout: float, bind_address: str | None, metrics_bind_address: str,
          cleanup: bool) -> None:
    """Run the Service proxy of this node (kube-proxy): iptables, nftables or userspace mode."""
    from minik8s.proxy import iptables
    from minik8s.proxy import server as proxy_server

    if min_sync_period > sync_period:
        raise click.BadParameter("must not exceed --sync-period", param_hint="--min-sync-period")
    config = proxy_server.Config(
        server=server, token=token, kubeconfig=kubeconfig, mode=mode, node_name=node_name, node_ip=node_ip, cluster_cidr=cluster_cidr,
        nodeport_addresses=nodeport_addresses, masquerade_all=masquerade_all, sync_period=sync_period,
        min_sync_period=min_sync_period, iptables_lock_wait=iptables_lock_wait, udp_timeout=udp_timeout,
        bind_address=bind_address or "0.0.0.0", metrics_bind_address=metrics_bind_address)
    if cleanup:
        try:
            removed = asyncio.run(proxy_server.cleanup(config))
        except iptables.IptablesError as e:
            raise click.ClickException(str(e)) from None
        click.echo("removed the proxy's iptables rules" if removed else "no proxy rules to remove")
        return
    asyncio.run(proxy_server.serve(config))
