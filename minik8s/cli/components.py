"""One subcommand per long-running process: `minik8s apiserver`, and later the
controller manager, scheduler, kubelet and proxy. Each only parses options and
hands a config record to its package."""
from __future__ import annotations

import asyncio

import click

from minik8s.cli import leaderelect
from minik8s.cli.main import cli


def _split(values: str) -> list[str]:
    return [v.strip() for v in values.split(",") if v.strip()]


def _port_range(text: str) -> tuple[int, int]:
    try:
        lo, hi = (int(p) for p in text.split("-", 1))
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a port range like 30000-32767") from None
    if not 0 < lo <= hi < 65536:
        raise click.BadParameter(f"{text!r} is not a valid port range")
    return lo, hi


@cli.command()
@click.option("--etcd-endpoints", default="http://127.0.0.1:2379", help="Comma-separated etcd client URLs.")
@click.option("--etcd-prefix", default="/registry", help="Key prefix for every object in etcd.")
@click.option("--etcd-timeout", default=5.0, type=float, help="Seconds before an etcd call answers 504.")
@click.option("--etcd-readycheck-timeout", default=2.0, type=click.FloatRange(min=0.1),
              help="Seconds the /readyz etcd check waits for a quorum read.")
@click.option("--etcd-cafile", default="",
              help="CA bundle the etcd members' serving certificates must chain to (required for https:// "
                   "endpoints).")
@click.option("--etcd-certfile", default="", help="Client certificate presented to etcd (https:// endpoints).")
@click.option("--etcd-keyfile", default="", help="The key of --etcd-certfile.")
@click.option("--bind-address", default="0.0.0.0", help="Address to listen on.")
@click.option("--port", default=6443, type=int, help="Port to listen on (HTTPS).")
@click.option("--advertise-address", default="127.0.0.1",
              help="Address other components and the `kubernetes` Endpoints use to reach this server.")
@click.option("--service-cluster-ip-range", default="10.96.0.0/12", help="CIDR for Service ClusterIPs.")
@click.option("--service-node-port-range", default="30000-32767", help="Range of NodePorts.")
@click.option("--kubelet-client-certificate", default="",
              help="Client certificate presented to kubelets (logs, exec, attach, port-forward, metrics).")
@click.option("--kubelet-client-key", default="", help="The key of --kubelet-client-certificate.")
@click.option("--kubelet-certificate-authority", default="",
              help="CA bundle the kubelets' serving certificates must chain to [default: --client-ca-file].")
@click.option("--tls-cert-file", default="", help="The serving certificate (PEM); required.")
@click.option("--tls-private-key-file", default="", help="The serving certificate's key (PEM); required.")
@click.option("--client-ca-file", default="",
              help="CA bundle client certificates must chain to (CN = user, O = groups); required.")
@click.option("--service-account-key-file", multiple=True,
              help="Public (or private) key that ServiceAccount tokens are checked with (repeatable).")
@click.option("--service-account-issuer", default="https://kubernetes.default.svc.cluster.local",
              help="The `iss` of ServiceAccount tokens.")
@click.option("--service-account-signing-key-file", default="",
              help="Private key TokenRequest (serviceaccounts/token) signs ServiceAccount tokens with.")
@click.option("--api-audiences", default="", help="Comma-separated token audiences [default: the issuer].")
@click.option("--watch-window", default=5000, type=int, help="Events kept per resource for watch resumption.")
@click.option("--watch-bookmark-interval", default=10.0, type=click.FloatRange(min=0.1),
              help="Seconds between BOOKMARK events on a quiet watch that asked for them (clients take "
                   "a watch silent for a few of these for a hung or cut-off server).")
@click.option("--event-ttl", default=3600, type=click.IntRange(0),
              help="Seconds an Event lives after its last write (0: forever).")
@click.option("--etcd-compaction-interval", default=300.0, type=click.FloatRange(0),
              help="Seconds between compactions of etcd's history (0: never).")
@click.option("--default-toleration-seconds", default=300, type=click.IntRange(0),
              help="tolerationSeconds added to new pods for not-ready/unreachable nodes.")
@click.option("--metric-resolution", default=0.0, type=click.FloatRange(min=0),
              help="Seconds between scrapes of every node's kubelet and proxy for the metrics APIs (0: none; "
                   "the cluster configs set 15).")
@click.option("--proxy-metrics-port", default=10249, type=click.IntRange(0, 65535),
              help="Port of the nodes' proxy metrics (per-endpoint connection counts); 0: not scraped.")
@click.option("--endpoint-reconciler-ttl", default=15, type=click.IntRange(1),
              help="Seconds this server stays in the `kubernetes` Endpoints after its last renewal "
                   "(a master that dies drops out after this).")
@click.option("--endpoint-reconciler-interval", default=10.0, type=click.FloatRange(min=0.1),
              help="Seconds between renewals of this server's master lease.")
def apiserver(etcd_endpoints: str, etcd_prefix: str, etcd_timeout: float, etcd_readycheck_timeout: float,
              etcd_cafile: str, etcd_certfile: str, etcd_keyfile: str, bind_address: str, port: int,
              advertise_address: str, service_cluster_ip_range: str, service_node_port_range: str,
              kubelet_client_certificate: str, kubelet_client_key: str, kubelet_certificate_authority: str,
              tls_cert_file: str, tls_private_key_file: str, client_ca_file: str,
              service_account_key_file: tuple[str, ...], service_account_issuer: str,
              service_account_signing_key_file: str, api_audiences: str, watch_window: int,
              watch_bookmark_interval: float, event_ttl: int, etcd_compaction_interval: float,
              default_toleration_seconds: int, metric_resolution: float, proxy_metrics_port: int,
              endpoint_reconciler_ttl: int, endpoint_reconciler_interval: float) -> None:
    """Run the API server (the only component that talks to etcd)."""
    from minik8s.apiserver import etcdclient
    from minik8s.apiserver import server

    endpoints = _split(etcd_endpoints)
    try:
        etcdclient.TLS(etcd_cafile, etcd_certfile, etcd_keyfile).check(endpoints)
    except etcdclient.ConfigError as e:
        raise click.UsageError(str(e)) from None
    config = server.Config(
        etcd_endpoints=endpoints, etcd_prefix=etcd_prefix, etcd_timeout=etcd_timeout,
        etcd_readycheck_timeout=etcd_readycheck_timeout,
        etcd_cafile=etcd_cafile, etcd_certfile=etcd_certfile, etcd_keyfile=etcd_keyfile,
        bind_address=bind_address, port=port, advertise_address=advertise_address,
        service_cluster_ip_range=service_cluster_ip_range,
        service_node_port_range=_port_range(service_node_port_range),
        kubelet_client_certificate=kubelet_client_certificate, kubelet_client_key=kubelet_client_key,
        kubelet_certificate_authority=kubelet_certificate_authority,
        tls_cert_file=tls_cert_file, tls_private_key_file=tls_private_key_file, client_ca_file=client_ca_file,
        service_account_key_files=list(service_account_key_file), service_account_issuer=service_account_issuer,
        service_account_signing_key_file=service_account_signing_key_file, api_audiences=_split(api_audiences), watch_window=watch_window,
        watch_bookmark_interval=watch_bookmark_interval, default_toleration_seconds=default_toleration_seconds, event_ttl=event_ttl,
        etcd_compaction_interval=etcd_compaction_interval,
        metric_resolution=metric_resolution, proxy_metrics_port=proxy_metrics_port,
        endpoint_reconciler_ttl=endpoint_reconciler_ttl, endpoint_reconciler_interval=endpoint_reconciler_interval)
    if endpoint_reconciler_ttl <= endpoint_reconciler_interval:
        raise click.UsageError("--endpoint-reconciler-ttl must be longer than --endpoint-reconciler-interval")
    asyncio.run(server.serve(config))


@cli.command("controller-manager")
@click.option("--server", default="https://127.0.0.1:6443", help="API server URL.")
@click.option("--token", default=None, help="Bearer token for the API server.")
@click.option("--kubeconfig", default="", help="Kubeconfig with the API server, its CA and this component's credentials (overrides --server).")
@leaderelect.options("kube-controller-manager")
@click.option("--controllers", default="*", help="Comma-separated controllers ('*' all, '-name' to disable).")
@click.option("--node-monitor-grace-period", default=40.0, type=float,
              help="Seconds without a node heartbeat before the node is marked Unknown and tainted.")
@click.option("--node-monitor-period", default=5.0, type=float, help="How often node health is checked (s).")
@click.option("--cluster-cidr", default="10.244.0.0/16", help="CIDR from which nodes get their pod CIDRs.")
@click.option("--node-cidr-mask-size", default=24, type=click.IntRange(8, 30), help="Prefix length of a node's pod CIDR.")
@click.option("--terminated-pod-gc-threshold", default=12500, type=int,
              help="Terminated pods kept before the pod garbage collector deletes the oldest (<= 0: no limit).")
@click.option("--pod-gc-period", default=20.0, type=click.FloatRange(min=0.1),
              help="Seconds between two passes of the pod garbage collector.")
@click.option("--pod-gc-quarantine", default=40.0, type=click.FloatRange(min=0),
              help="Seconds a node must be missing before its pods are force-deleted.")
@click.option("--cluster-signing-cert-file", default="",
              help="CA certificate the CSR signer signs client certificates with ('' = no signer).")
@click.option("--cluster-signing-key-file", default="", help="Its private key.")
@click.option("--root-ca-file", default="",
              help="CA certificate published as kube-root-ca.crt in every namespace [default: the kubeconfig's CA].")
@click.option("--cluster-signing-duration", default=365.0, type=click.FloatRange(min=0.01),
              help="Lifetime of the certificates the signer issues (days).")
@click.option("--horizontal-pod-autoscaler-sync-period", default=15.0, type=click.FloatRange(min=0.1),
              help="Seconds between two looks at each HorizontalPodAutoscaler.")
@click.option("--horizontal-pod-autoscaler-downscale-stabilization", default=300.0, type=click.FloatRange(min=0),
              help="Seconds of recommendations a scale-down takes the highest of (HPAs without behavior).")
@click.option("--horizontal-pod-autoscaler-tolerance", default=0.1, type=click.FloatRange(min=0),
              help="Metric-to-target ratio distance from 1 within which HPAs do not scale.")
@click.option("--horizontal-pod-autoscaler-cpu-initialization-period", default=300.0, type=click.FloatRange(min=0),
              help="Seconds after a pod starts during which its CPU samples count only from its readiness on.")
@click.option("--horizontal-pod-autoscaler-initial-readiness-delay", default=30.0, type=click.FloatRange(min=0),
              help="Seconds after a pod starts within which its readiness changes count as initial.")
def controller_manager(server: str, token: str | None, kubeconfig: str, election: leaderelect.Flags, controllers: str,
                       node_monitor_grace_period: float, node_monitor_period: float, cluster_cidr: str,
                       node_cidr_mask_size: int, cluster_signing_cert_file: str, cluster_signing_key_file: str,
                       root_ca_file: str, cluster_signing_duration: float,
                       horizontal_pod_autoscaler_sync_period: float,
                       horizontal_pod_autoscaler_downscale_stabilization: float,
                       horizontal_pod_autoscaler_tolerance: float,
                       horizontal_pod_autoscaler_cpu_initialization_period: float,
                       horizontal_pod_autoscaler_initial_readiness_delay: float,
                       terminated_pod_gc_threshold: int, pod_gc_period: float, pod_gc_quarantine: float) -> None:
    """Run the controllers (namespace, replication, deployment, garbage collection, nodes...)."""
    from minik8s.controllers import manager

    config = manager.Config(server=server, token=token, kubeconfig=kubeconfig, leader_elect=election.leader_elect,
                            lease_name=election.resource_name, lease_namespace=election.resource_namespace,
                            lease_duration=election.lease_duration, renew_deadline=election.renew_deadline,
                            retry_period=election.retry_period,
                            controllers=tuple(_split(controllers)),
                            options={"node_monitor_grace_period": node_monitor_grace_period,
                                     "node_monitor_period": node_monitor_period, "cluster_cidr": cluster_cidr,
                                     "node_cidr_mask_size": node_cidr_mask_size,
                                     "cluster_signing_cert_file": cluster_signing_cert_file,
                                     "cluster_signing_key_file": cluster_signing_key_file,
                                     "cluster_signing_duration": cluster_signing_duration,
                                     "root_ca_file": root_ca_file,
                                     "horizontal_pod_autoscaler_sync_period": horizontal_pod_autoscaler_sync_period,
                                     "horizontal_pod_autoscaler_downscale_stabilization":
                                         horizontal_pod_autoscaler_downscale_stabilization,
                                     "horizontal_pod_autoscaler_tolerance": horizontal_pod_autoscaler_tolerance,
                                     "horizontal_pod_autoscaler_cpu_initialization_period":
                                         horizontal_pod_autoscaler_cpu_initialization_period,
                                     "horizontal_pod_autoscaler_initial_readiness_delay":
                                         horizontal_pod_autoscaler_initial_readiness_delay,
                                     "terminated_pod_gc_threshold": terminated_pod_gc_threshold,
                                     "pod_gc_period": pod_gc_period, "pod_gc_quarantine": pod_gc_quarantine})
    asyncio.run(manager.serve(config))
