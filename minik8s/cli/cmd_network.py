"""`minik8s network-agent` and `minik8s dns`: options only; the work is in
minik8s.network and minik8s.dns.

Every option can also come from MINIK8S_NETWORK_AGENT_<OPTION> / MINIK8S_DNS_<OPTION>
or the `network-agent:` / `dns:` section of the --config file (see minik8s.cli.main).
"""
from __future__ import annotations

import asyncio
import ipaddress

import click

from minik8s.cli.main import cli


def _cidr(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
    try:
        net = ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a CIDR like 10.244.0.0/16") from None
    if not isinstance(net, ipaddress.IPv4Network):
        raise click.BadParameter("only IPv4 is supported")
    return str(net)


def _ip(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
    if not value:
        return value
    try:
        return str(ipaddress.IPv4Address(value))
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an IPv4 address") from None


@cli.command("network-agent")
@click.option("--backend", default="vxlan", type=click.Choice(["vxlan", "host-gw"]),
              help="vxlan: overlay tunnel (flannel.<VNI>); host-gw: routes via node IPs (nodes on one link).")
@click.option("--node-name", default=None, help="This node's Node name (default: the hostname, lower-cased).")
@click.option("--node-ip", default="", callback=_ip,
              help="This node's address for node-to-node traffic (default: the first IPv4 address of --iface).")
@click.option("--iface", default="",
              help="Interface for node-to-node traffic (default: the one holding --node-ip, else the default "
                   "route's).")
@click.option("--server", default="https://127.0.0.1:6443", help="API server URL.")
@click.option("--token", default=None, help="Bearer token for the API server.")
@click.option("--kubeconfig", default="", help="Kubeconfig with the API server and credentials (overrides --server).")
@click.option("--cluster-cidr", default="10.244.0.0/16", callback=_cidr,
              help="The whole pod network; every node's pod CIDR lies inside it.")
@click.option("--vni", default=1, type=click.IntRange(1, 16777215), help="VXLAN network identifier.")
@click.option("--vxlan-port", default=8472, type=click.IntRange(1, 65535), help="UDP port of the VXLAN tunnel.")
@click.option("--mtu", default=0, type=click.IntRange(0, 65535),
              help="MTU of the VXLAN device (0: the interface's MTU minus 50).")
@click.option("--ip-masq/--no-ip-masq", default=True,
              help="Masquerade pod traffic that leaves the cluster CIDR.")
@click.option("--resync-period", default=10.0, type=float, help="Seconds between full re-checks of routes and rules.")
@click.option("--cni-conf-dir", default="/etc/cni/net.d",
              help="Where to write the kubelet's CNI configuration ('' = write none).")
@click.option("--cni-data-dir", default="/var/lib/cni/networks",
              help="Where host-local IPAM keeps the pods' address reservations.")
@click.option("--cni-bridge", default="cni0", help="The pods' Linux bridge.")
@click.option("--cleanup", is_flag=True, default=False,
              help="Remove the VXLAN device, routes, FDB/neighbour entries and iptables rules, then exit.")
def network_agent(backend: str, node_name: str | None, node_ip: str, iface: str, server: str, token: str | None,
                  kubeconfig: str, cluster_cidr: str, vni: int, vxlan_port: int, mtu: int, ip_masq: bool,
                  resync_period: float, cni_conf_dir: str, cni_data_dir: str, cni_bridge: str, cleanup: bool) -> None:
    """Run the pod network agent of one node (flannel-like); run it in the node's network namespace."""
    import socket

    from minik8s.network import agent
    from minik8s.network import runner

    cfg = agent.Config(node_name=(node_name or socket.gethostname().lower()), server=server, token=token,
                       kubeconfig=kubeconfig, backend=backend, node_ip=node_ip, iface=iface,
                       cluster_cidr=cluster_cidr, vni=vni, vxlan_port=vxlan_port, mtu=mtu, ip_masq=ip_masq,
                       resync_period=resync_period, cni_conf_dir=cni_conf_dir, cni_data_dir=cni_data_dir,
                       cni_bridge=cni_bridge)
    if cleanup:
        asyncio.run(agent.cleanup(cfg, runner.CommandRunner()))
        return
    try:
        asyncio.run(agent.serve(cfg))
    except ValueError as e:  # an interface or address that does not exist
        raise click.ClickException(str(e)) from None


@cli.command("dns")
@click.option("--server", default="https://127.0.0.1:6443", help="API server URL.")
@click.option("--token", default=None, help="Bearer token for the API server.")
@click.option("--kubeconfig", default="", help="Kubeconfig with the API server and credentials (overrides --server).")
@click.option("--bind-address", default="0.0.0.0", callback=_ip, help="Address to serve DNS on (UDP and TCP).")
@click.option("--port", default=53, type=click.IntRange(1, 65535), help="Port to serve DNS on.")
@click.option("--advertise-address", default="", callback=_ip,
              help="Address the kube-dns Endpoints list (default: --bind-address).")
@click.option("--cluster-domain", default="cluster.local", help="The cluster's DNS domain.")
@click.option("--service-ip", default="10.96.0.10", callback=_ip,
              help="ClusterIP of the kube-dns Service (the kubelets' --cluster-dns).")
@click.option("--ttl", default=5, type=click.IntRange(0, 3600), help="TTL of answers (s).")
@click.option("--manage-service/--no-manage-service", default=True,
              help="Keep the kube-system/kube-dns Service and Endpoints pointing at the live DNS servers.")
@click.option("--lease-duration", default=15, type=click.IntRange(3),
              help="Seconds this server stays in the kube-dns Endpoints after its last Lease renewal "
                   "(kube-system/kube-dns-<address>; renewed every third of it).")
def dns_command(server: str, token: str | None, kubeconfig: str, bind_address: str, port: int,
                advertise_address: str, cluster_domain: str, service_ip: str, ttl: int,
                manage_service: bool, lease_duration: int) -> None:
    """Run the cluster DNS server (<svc>.<ns>.svc.<domain> → ClusterIP); it never forwards queries."""
    from minik8s.dns import server as server_mod

    if advertise_address == "" and bind_address == "0.0.0.0" and manage_service:
        raise click.BadParameter("with --bind-address 0.0.0.0 give --advertise-address (the kube-dns Endpoints "
                                 "need a real address)", param_hint="--advertise-address")
    cfg = server_mod.Config(server=server, token=token, kubeconfig=kubeconfig, bind_address=bind_address,
                            port=port, advertise_address=advertise_address, cluster_domain=cluster_domain,
                            service_ip=service_ip, ttl=ttl, manage_service=manage_service,
                            lease_duration=lease_duration)
    try:
        asyncio.run(server_mod.serve(cfg))
    except OSError as e:  # the address or port cannot be bound
        raise click.ClickException(f"cannot serve DNS on {bind_address}:{port}: {e.strerror or e}") from None
