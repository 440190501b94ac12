"""`minik8s kubelet`: the node agent. Options only; the work is in minik8s.kubelet.

Every option can also come from MINIK8S_KUBELET_<OPTION> or the `kubelet:`
section of the --config file (see minik8s.cli.main).
"""
from __future__ import annotations

import asyncio
import ipaddress

import click

from minik8s.cli.main import cli


def _cidr(ctx: click.Context, param: click.Parameter, value: str) -> str:
    if not value:
        return ""
    try:
        return str(ipaddress.ip_network(value, strict=False))
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a CIDR like 10.244.0.0/24") from None


def _taints(ctx: click.Context, param: click.Parameter, value: str) -> str:
    from minik8s.kubelet import nodestatus

    try:
        nodestatus.parse_taints(value)
    except ValueError as e:
        raise click.BadParameter(str(e)) from None
    return value


@cli.command()
@click.option("--server", default="https://127.0.0.1:6443", help="API server URL.")
@click.option("--kubeconfig", default="", help="Kubeconfig with the API server and credentials (overrides --server).")
@click.option("--tls-cert-file", default="",
              help="The kubelet API's serving certificate (PEM) [default: a self-signed one].")
@click.option("--tls-private-key-file", default="", help="The key of --tls-cert-file.")
@click.option("--client-ca-file", default="",
              help="CA bundle the API server's client certificate must chain to [default: the kubeconfig's CA].")
@click.option("--node-name", default=None, help="Node name (default: the hostname, lower-cased).")
@click.option("--node-ip", default="", help="Node address (default: the default route interface's, else 127.0.0.1).")
@click.option("--address", default="0.0.0.0", help="Address the kubelet server listens on.")
@click.option("--port", default=10250, type=int, help="Port of the kubelet server (logs, exec).")
@click.option("--docker-host", default="unix:///var/run/docker.sock", help="The node's Docker engine.")
@click.option("--pod-cidr", default="10.244.0.0/24", callback=_cidr,
              help="This node's pod subnet, registered as spec.podCIDR ('' = allocated by the control plane).")
@click.option("--cni-conf-dir", default="/etc/cni/net.d",
              help="CNI network configurations; the first by file name networks the pods.")
@click.option("--cni-bin-dir", default="/usr/lib/cni:/usr/libexec/cni:/opt/cni/bin",
              help="Colon-separated directories of CNI plugin binaries.")
@click.option("--cni-cache-dir", default="", help="libcni's result cache ('' = <root-dir>/cni).")
@click.option("--cluster-dns", default="", help="Cluster DNS server for ClusterFirst pods (the kube-dns Service IP).")
@click.option("--cluster-domain", default="cluster.local", help="Cluster domain for pods' DNS search paths.")
@click.option("--pod-infra-image", default="minik8s/pause:3.9", help="Image of the pod sandbox (pause) container.")
@click.option("--root-dir", default="/var/lib/minik8s/kubelet", help="Directory for pod volumes (emptyDir).")
@click.option("--node-labels", default="", help="Extra node labels, k=v,k2=v2.")
@click.option("--register-with-taints", default="", callback=_taints,
              help="Taints for a newly registered node, key=value:Effect,...")
@click.option("--master/--no-master", default=False, help="Label the node node-role.kubernetes.io/control-plane.")
@click.option("--max-pods", default=110, type=int, help="Pods this node reports as capacity.")
@click.option("--lease-interval", default=10.0, type=float, help="Seconds between node Lease renewals.")
@click.option("--node-status-update-interval", default=10.0, type=float,
              help="Seconds between node status checks (written when changed).")
@click.option("--node-status-interval", default=60.0, type=float,
              help="Node status is written at least this often (s).")
@click.option("--resync-interval", default=60.0, type=float, help="Seconds between full resyncs of every pod.")
@click.option("--housekeeping-interval", default=10.0, type=float,
              help="Seconds between sweeps for containers of pods that no longer exist.")
@click.option("--backoff-base", default=10.0, type=float, help="First crash/pull back-off (s), doubling.")
@click.option("--backoff-max", default=300.0, type=float, help="Longest crash/pull back-off (s).")
@click.option("--stats-interval", default=10.0, type=click.FloatRange(min=0.5),
              help="Seconds between readings of the containers' cgroups (/metrics/resource, /stats/summary).")
@click.option("--node-cgroup", default="/", help="The cgroup whose usage is the node's ('/' = the whole machine).")
def kubelet(server: str, kubeconfig: str, tls_cert_file: str, tls_private_key_file: str, client_ca_file: str,
            node_name: str | None, node_ip: str, address: str,
            port: int, docker_host: str, pod_cidr: str, cni_conf_dir: str, cni_bin_dir: str, cni_cache_dir: str,
            cluster_dns: str, cluster_domain: str, pod_infra_image: str,
            root_dir: str, node_labels: str, register_with_taints: str, master: bool, max_pods: int,
            lease_interval: float, node_status_update_interval: float, node_status_interval: float,
            resync_interval: float, housekeeping_interval: float, backoff_base: float, backoff_max: float,
            stats_interval: float, node_cgroup: str) -> None:
    """Run the node agent: register the node and run its pods on Docker."""
    from minik8s.kubelet import config as config_mod
    from minik8s.kubelet import kubelet as kubelet_mod

    cfg = config_mod.Config(
        server=server, kubeconfig=kubeconfig, tls_cert_file=tls_cert_file,
        tls_private_key_file=tls_private_key_file, client_ca_file=client_ca_file, node_name=(node_name or config_mod.default_node_name()),
        node_ip=node_ip, address=address, port=port, docker_host=docker_host, pod_cidr=pod_cidr,
        cni_conf_dir=cni_conf_dir, cni_bin_dir=cni_bin_dir, cni_cache_dir=cni_cache_dir, cluster_dns=cluster_dns,
        cluster_domain=cluster_domain, pod_infra_image=pod_infra_image, root_dir=root_dir,
        node_labels=node_labels, register_with_taints=register_with_taints, master=master, max_pods=max_pods,
        lease_interval=lease_interval, node_status_update_interval=node_status_update_interval,
        node_status_report_interval=node_status_interval, resync_interval=resync_interval,
        housekeeping_interval=housekeeping_interval, backoff_base=backoff_base, backoff_max=backoff_max,
        stats_interval=stats_interval, node_cgroup=node_cgroup or "/")
    asyncio.run(kubelet_mod.serve(cfg))
