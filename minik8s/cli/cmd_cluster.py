"""Cluster set-up commands: the local N-node cluster, and init/token/join for real machines.

- `minik8s cluster ...`: a cluster on this host whose nodes are network namespaces
  with their own Docker engines (minik8s.cluster.lifecycle).
- `minik8s init` (master), `minik8s token create`, `minik8s join` (node), `minik8s certs
  upload` + `minik8s join --control-plane` (another master): write the /etc/minik8s
  config files the systemd units read (deploy/install.sh calls them).
Both render their files with minik8s.cluster.config.
"""
from __future__ import annotations

import asyncio
import datetime
import json
import os
import shutil
import subprocess
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import click

from minik8s.cli.main import cli
from minik8s.cluster import bootstrap
from minik8s.cluster import config
from minik8s.cluster import host
from minik8s.cluster import spec as spec_mod
from minik8s.util import pki as pki_util

F = TypeVar("F", bound=Callable[..., Any])


def _overrides(values: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    try:
        return config.parse_set(values)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="--set") from None


def _fail(e: Exception) -> click.ClickException:
    return click.ClickException(str(e))


# --- the local cluster ---------------------------------------------------------------------


def _cluster_options(f: F) -> F:
    f = click.option("--state-dir", default=None,
                     help="State directory [default: /var/lib/minik8s/cluster-NAME].")(f)
    f = click.option("--name", default=spec_mod.DEFAULT_NAME, show_default=True,
                     help="Cluster name (1-9 of a-z0-9); several clusters with different names can coexist.")(f)
    return f


def _state(name: str, state_dir: str | None) -> str:
    try:
        spec_mod.validate_name(name)
    except host.ClusterError as e:
        raise click.BadParameter(str(e), param_hint="--name") from None
    return os.path.abspath(state_dir or spec_mod.default_state_dir(name))


@cli.group()
def cluster() -> None:
    """A local multi-node cluster: each node a network namespace with its own Docker engine."""


@cluster.command("up")
@_cluster_options
@click.option("--nodes", default=3, show_default=True, type=click.IntRange(1, 50), help="Number of nodes.")
@click.option("--subnet", default=spec_mod.DEFAULT_SUBNET, show_default=True,
              help="Node network: the master (bridge) takes .1, node i takes .(10+i).")
@click.option("--port", default=None, type=int, help="API server port [default: 6443, or a free one if taken].")
@click.option("--kubeconfig", default=None, help="Merge the context into this file [default: ~/.kube/config].")
@click.option("--set", "sets", multiple=True, metavar="COMPONENT.OPTION=VALUE",
              help="Override a component option in the rendered configs (repeatable), "
                   "e.g. controller-manager.node-monitor-grace-period=10.")
@click.option("--image", "images", multiple=True, help="Also load this host image into every node (repeatable).")
@click.option("--wait", "wait", default=90.0, show_default=True, type=float, help="Seconds to wait for Ready nodes.")
@click.option("--masters", default=1, show_default=True, type=click.IntRange(1, spec_mod.MAX_MASTERS),
              help="Number of masters; more than one puts each in its own namespace with an etcd member.")
@click.option("--etcd", "etcd", default="stacked", show_default=True, type=click.Choice(spec_mod.ETCD_TOPOLOGIES),
              help="Where etcd runs with several masters: stacked = a member on each master; external = "
                   "a cluster of its own, each member in its own namespace, clients over TLS.")
@click.option("--etcd-members", default=None, type=click.IntRange(1, spec_mod.MAX_ETCD_MEMBERS),
              help=f"With --etcd external: number of etcd members [default: {spec_mod.DEFAULT_ETCD_MEMBERS}].")
def cluster_up(name: str, state_dir: str | None, nodes: int, subnet: str, port: int | None, kubeconfig: str | None,
               sets: tuple[str, ...], images: tuple[str, ...], wait: float, masters: int, etcd: str,
               etcd_members: int | None) -> None:
    """Create the cluster: master(s), NODES namespaces each with dockerd and a kubelet."""
    from minik8s.cluster import lifecycle

    try:
        spec = lifecycle.up(name, _state(name, state_dir), nodes=nodes, subnet=subnet, api_port=port,
                            overrides=_overrides(sets), kubeconfig=kubeconfig, extra_images=images,
                            echo=click.echo, ready_timeout=wait, masters=masters, etcd=etcd,
                            etcd_members=etcd_members)
    except host.Refused as e:
        raise _fail(e) from None
    except host.ClusterError as e:
        raise click.ClickException(f"{e}\n(logs under {_state(name, state_dir)}/logs and .../nodes/*/logs; "
                                   f"`minik8s cluster down --name {name}` removes what was made)") from None
    click.echo(f"cluster {spec.name} is up: `kubectl --context {spec.context} get nodes -o wide`")


@cluster.command("down")
@_cluster_options
def cluster_down(name: str, state_dir: str | None) -> None:
    """Remove everything the cluster made (also after a crash); exit 1 if anything is left."""
    from minik8s.cluster import lifecycle

    try:
        left = lifecycle.down(name, _state(name, state_dir), echo=click.echo)
    except host.ClusterError as e:
        raise _fail(e) from None
    if left:
        raise click.ClickException("some of the cluster is still there: " + "; ".join(left))


@cluster.command("status")
@_cluster_options
@click.option("-o", "--output", type=click.Choice(["table", "json"]), default="table", show_default=True)
def cluster_status(name: str, state_dir: str | None, output: str) -> None:
    """Nodes, addresses, processes and Ready state."""
    from minik8s.cluster import lifecycle

    try:
        st = lifecycle.status(_state(name, state_dir))
    except host.ClusterError as e:
        raise _fail(e) from None
    if output == "json":
        click.echo(json.dumps(st, indent=2))
        return
    what = f"{len(st['masters'])} masters, API" if "masters" in st else f"API server {st['server']}"
    click.echo(f"cluster {st['name']}: {what} "
               f"({'reachable' if st['apiReachable'] else 'NOT reachable'}), context {st['context']}, "
               f"state {st['stateDir']}")
    if "masters" in st:
        _master_table(st["masters"], st["etcd"])
        lb = st["loadBalancer"]
        click.echo(f"load balancer (kubectl's server): {lb['server'] or '-'}  pid={lb['pid'] or '-'}")
        if "etcdMembers" in st:
            _etcd_table(st["etcdMembers"])
    else:
        click.echo("master: " + "  ".join(f"{k}={v or '-'}" for k, v in st["master"].items()))
    agents = ("containerd", "dockerd", "kubelet", "network-agent", "proxy")
    rows = [("NODE", "IP", "POD CIDR", "READY", "LINK", *(a.upper() for a in agents))]
    for n in st["nodes"]:
        p = n["pids"]
        rows.append((n["name"], n["ip"], n["podCIDR"], n["ready"], n["link"] or "-",
                     *(str(p.get(a) or "-") for a in agents)))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        click.echo("   ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())


def _master_table(masters: list[dict[str, Any]], etcd: str) -> None:
    from minik8s.cluster import master as master_mod

    stacked = etcd == "stacked"
    components = master_mod.MEMBER_COMPONENTS if stacked else master_mod.MEMBER_COMPONENTS[1:]
    rows = [("MASTER", "IP", "API", *((f"ETCD ({etcd})",) if stacked else ()), *(c.upper() for c in components))]
    for m in masters:
        p = m["pids"]
        etcd_cell = ("healthy" if m["etcdHealthy"] else ("unhealthy" if p.get("etcd") else "-"),) if stacked else ()
        rows.append((m["name"], m["ip"], "ready" if m["apiReady"] else "-", *etcd_cell,
                     *(str(p.get(c) or "-") for c in components)))
    _echo_table(rows)


def _etcd_table(etcd_members: list[dict[str, Any]]) -> None:
    rows = [("ETCD MEMBER", "ENDPOINT", "HEALTH", "ETCD")]
    for e in etcd_members:
        pid = e["pids"].get("etcd")
        rows.append((e["name"], e["endpoint"], "healthy" if e["healthy"] else ("unhealthy" if pid else "-"),
                     str(pid or "-")))
    _echo_table(rows)


def _echo_table(rows: Sequence[tuple[str, ...]]) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        click.echo("   ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())


@cluster.command("load-image")
@_cluster_options
@click.argument("images", nargs=-1, required=True)
def cluster_load_image(name: str, state_dir: str | None, images: tuple[str, ...]) -> None:
    """Copy IMAGES from the host's Docker engine into every running node."""
    from minik8s.cluster import lifecycle

    try:
        lifecycle.load_images(_state(name, state_dir), images, echo=click.echo)
    except host.ClusterError as e:
        raise _fail(e) from None


@cluster.command("stop-node")
@_cluster_options
@click.argument("node")
def cluster_stop_node(name: str, state_dir: str | None, node: str) -> None:
    """Power NODE off: all its processes (agents, engine, containers) die at once."""
    from minik8s.cluster import lifecycle

    try:
        killed = lifecycle.stop_node(_state(name, state_dir), node)
    except host.ClusterError as e:
        raise _fail(e) from None
    click.echo(f"{node} powered off ({killed} processes killed)")


@cluster.command("start-node")
@_cluster_options
@click.argument("node")
@click.option("--wait/--no-wait", default=True, show_default=True, help="Wait until the node is Ready.")
def cluster_start_node(name: str, state_dir: str | None, node: str, wait: bool) -> None:
    """Boot NODE again (or start whichever of its agents is not running, e.g. a killed kubelet)."""
    from minik8s.cluster import lifecycle

    try:
        n = lifecycle.start_node(_state(name, state_dir), node, wait=wait)
    except host.ClusterError as e:
        raise _fail(e) from None
    click.echo(f"{node} running (kubelet pid {n.pid('kubelet')})" + (", Ready" if wait else ""))


@cluster.command("isolate")
@_cluster_options
@click.argument("node")
def cluster_isolate(name: str, state_dir: str | None, node: str) -> None:
    """Cut NODE's link: it keeps running but reaches nothing and nothing reaches it."""
    from minik8s.cluster import lifecycle

    try:
        lifecycle.isolate(_state(name, state_dir), node)
    except host.ClusterError as e:
        raise _fail(e) from None
    click.echo(f"{node} isolated")


@cluster.command("heal")
@_cluster_options
@click.argument("node")
def cluster_heal(name: str, state_dir: str | None, node: str) -> None:
    """Bring NODE's link back up."""
    from minik8s.cluster import lifecycle

    try:
        lifecycle.isolate(_state(name, state_dir), node, heal=True)
    except host.ClusterError as e:
        raise _fail(e) from None
    click.echo(f"{node} reconnected")


@cluster.command("stop-master")
@_cluster_options
@click.argument("master", required=False)
def cluster_stop_master(name: str, state_dir: str | None, master: str | None) -> None:
    """Stop etcd and every master process (a control-plane outage); nodes keep running.

    With several masters, MASTER (e.g. master2) is powered off as stop-node does to a node:
    all its processes SIGKILLed, its namespace gone; without MASTER all of them stop."""
    from minik8s.cluster import lifecycle

    try:
        stopped = lifecycle.stop_master(_state(name, state_dir), master)
    except host.ClusterError as e:
        raise _fail(e) from None
    click.echo(f"{master or 'master'} stopped: {', '.join(stopped) or 'nothing was running'}")


@cluster.command("start-master")
@_cluster_options
@click.argument("master", required=False)
def cluster_start_master(name: str, state_dir: str | None, master: str | None) -> None:
    """Start etcd and the master processes again (those not running); with several masters,
    MASTER only (it rejoins the etcd cluster), or all of them."""
    from minik8s.cluster import lifecycle

    try:
        lifecycle.start_master(_state(name, state_dir), echo=click.echo, name=master)
    except host.ClusterError as e:
        raise _fail(e) from None


@cluster.command("stop-etcd")
@_cluster_options
@click.argument("member", required=False)
def cluster_stop_etcd(name: str, state_dir: str | None, member: str | None) -> None:
    """External etcd only: power off etcd member MEMBER (e.g. etcd2) as stop-master does to a
    master (SIGKILL, its namespace gone, its data kept); without MEMBER stop all in order."""
    from minik8s.cluster import lifecycle

    try:
        stopped = lifecycle.stop_etcd(_state(name, state_dir), member)
    except host.ClusterError as e:
        raise _fail(e) from None
    click.echo(f"{member or 'etcd'} stopped: {', '.join(stopped) or 'nothing was running'}")


@cluster.command("start-etcd")
@_cluster_options
@click.argument("member", required=False)
def cluster_start_etcd(name: str, state_dir: str | None, member: str | None) -> None:
    """External etcd only: start etcd member MEMBER again (it rejoins with its data), or every
    member not running; returns when they are healthy (which needs a quorum running)."""
    from minik8s.cluster import lifecycle

    try:
        lifecycle.start_etcd(_state(name, state_dir), echo=click.echo, name=member)
    except host.ClusterError as e:
        raise _fail(e) from None


# --- real machines: init, token, join, certs -------------------------------------------------


def _read_options(config_dir: str, command: str) -> dict[str, Any]:
    path = os.path.join(config_dir, f"{command}.yaml")
    try:
        return config.read_options(path, command)
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as e:
        raise click.ClickException(f"cannot read {path}: {e}") from None


def _write_or_print(config_dir: str, files: dict[str, dict[str, Any]], show: bool) -> None:
    if show:
        for name, doc in files.items():
            click.echo(f"--- {os.path.join(config_dir, name)}")
            click.echo(config.render(name, doc, config_dir), nl=False)
        return
    for path in config.write_files(config_dir, files):
        click.echo(f"wrote {path}")


def _renewal(days: float) -> datetime.timedelta:
    return datetime.timedelta(days=days)


_RENEWAL_OPTION = click.option("--cert-renewal-days", default=30.0, show_default=True, type=click.FloatRange(min=0),
                               help="Renew a certificate when it expires within this many days.")


@cli.command("init")
@click.option("--advertise-address", required=True, help="The master's address the nodes reach it on.")
@click.option("--port", default=config.DEFAULT_API_PORT, show_default=True, type=int, help="API server port.")
@click.option("--bind-address", default="0.0.0.0", show_default=True, help="Address the API server listens on.")
@click.option("--etcd-data-dir", default="/var/lib/minik8s/etcd", show_default=True)
@click.option("--cluster-cidr", default=config.DEFAULT_CLUSTER_CIDR, show_default=True,
              help="Pod addresses; each node gets a /24 of it.")
@click.option("--service-cidr", default=config.DEFAULT_SERVICE_CIDR, show_default=True)
@click.option("--cert-extra-sans", default="",
              help="More names or addresses for the API server's certificate, comma-separated.")
@_RENEWAL_OPTION
@click.option("--config-dir", default=config.DEFAULT_CONFIG_DIR, show_default=True)
@click.option("--set", "sets", multiple=True, metavar="COMPONENT.OPTION=VALUE", help="Override an option (repeatable).")
@click.option("--print", "show", is_flag=True, help="Print the files instead of writing them (no PKI is made).")
def init(advertise_address: str, port: int, bind_address: str, etcd_data_dir: str, cluster_cidr: str,
         service_cidr: str, cert_extra_sans: str, cert_renewal_days: float, config_dir: str, sets: tuple[str, ...],
         show: bool) -> None:
    """Write the master's config files and its PKI (CA, API server certificate, a kubeconfig per component)."""
    from minik8s.cluster import pki

    config_dir = os.path.abspath(config_dir)
    # A one-member stacked etcd on the master's address, so that `join --control-plane` can grow it.
    master = config.growable(config.MasterConfig(
        advertise_address=advertise_address, api_port=port, bind_address=bind_address, etcd_data_dir=etcd_data_dir,
        service_cluster_ip_range=service_cidr, cluster_cidr=cluster_cidr, config_dir=config_dir,
        overrides=_overrides(sets)))
    _write_or_print(config_dir, config.master_files(master), show)
    if show:
        return
    try:
        ca, actions = pki.ensure_master(config_dir, server=master.server, addresses=[advertise_address],
                                        service_cidr=service_cidr, cluster_domain=master.cluster_domain,
                                        extra_sans=[s.strip() for s in cert_extra_sans.split(",") if s.strip()],
                                        renew_before=_renewal(cert_renewal_days))
        actions += pki.ensure_etcd_member_certs(config_dir, advertise_address,
                                                renew_before=_renewal(cert_renewal_days))
    except pki_util.PKIError as e:
        raise click.ClickException(f"PKI in {config_dir}/pki: {e}") from None
    for action in actions:
        click.echo(action)
    click.echo(f"cluster CA {ca.hash}; admin kubeconfig {pki.paths(config_dir).admin_conf}")
    click.echo(f"next: start the master units, then `minik8s token create --config-dir {config_dir}` "
               f"(and for more masters, first `minik8s certs upload --config-dir {config_dir}`)")


@cli.group()
def token() -> None:
    """Bootstrap tokens for `minik8s join`."""


def _master_info(config_dir: str, server: str | None) -> bootstrap.ClusterInfo:
    api = _read_options(config_dir, "apiserver")
    cm = _read_options(config_dir, "controller-manager")
    if not api and not server:
        raise click.ClickException(f"no {config_dir}/apiserver.yaml: run this on the master "
                                   "(after `minik8s init`) or pass --config-dir")
    url = server or f"https://{api.get('advertise-address', '127.0.0.1')}:{api.get('port', config.DEFAULT_API_PORT)}"
    return bootstrap.ClusterInfo(server=url, cluster_cidr=str(cm.get("cluster-cidr") or config.DEFAULT_CLUSTER_CIDR))


def _admin_client(config_dir: str, server: str) -> Any:
    """A client as the cluster's admin (the master's admin.conf), at `server`."""
    from minik8s.client import kubeconfig
    from minik8s.client import rest
    from minik8s.cluster import pki

    path = pki.paths(config_dir).admin_conf
    try:
        access = kubeconfig.load(path)
    except kubeconfig.KubeconfigError as e:
        raise click.ClickException(f"{path}: {e} (run this on the master, after `minik8s init`)") from None
    return rest.Client(server, tls=access.tls(), timeout=10)


def _token_option(f: F) -> F:
    f = click.option("--server", default=None, help="API server URL [default: from the config dir].")(f)
    f = click.option("--config-dir", default=config.DEFAULT_CONFIG_DIR, show_default=True,
                     help="The master's config directory (written by `minik8s init`).")(f)
    return f


@token.command("create")
@_token_option
@click.option("--token", "value", default=None, help="Use this token (ID.SECRET, [a-z0-9]{6}.[a-z0-9]{16}).")
@click.option("--ttl", default="24h", show_default=True, help="Lifetime (24h, 30m, ...; 0 = never expires).")
@click.option("--description", default="minik8s join", show_default=True)
@click.option("--certificate-key", default=None,
              help="Print the command that joins another master (from `minik8s certs upload`).")
def token_create(config_dir: str, server: str | None, value: str | None, ttl: str, description: str,
                 certificate_key: str | None) -> None:
    """Create a bootstrap token and print the exact join command for a node (token and CA hash),
    or with --certificate-key for another master."""
    from minik8s.cluster import pki

    info = _master_info(config_dir, server)
    try:
        seconds = bootstrap.parse_ttl(ttl)
        if value:
            bootstrap.parse_token(value)
        ca = pki.load_ca_cert(config_dir)
    except (ValueError, bootstrap.BootstrapError) as e:
        raise click.BadParameter(str(e)) from None
    except pki_util.PKIError as e:
        raise click.ClickException(str(e)) from None
    ca_pem = pki_util.cert_pem(ca)

    async def create() -> str:
        async with _admin_client(config_dir, info.server) as client:
            return await bootstrap.create_token(client, info, ca_pem, token=value, ttl=seconds,
                                                description=description)

    command = bootstrap.join_command(info.server, asyncio.run(create()), pki_util.spki_sha256(ca))
    if certificate_key:
        command += f" --control-plane --certificate-key {certificate_key}"
    click.echo(command)


@token.command("list")
@_token_option
def token_list(config_dir: str, server: str | None) -> None:
    """List bootstrap tokens (ids only; secrets are not shown)."""
    info = _master_info(config_dir, server)

    async def fetch() -> list[dict[str, str]]:
        async with _admin_client(config_dir, info.server) as client:
            return await bootstrap.list_tokens(client)

    rows = asyncio.run(fetch())
    click.echo("ID       EXPIRES                DESCRIPTION")
    for r in rows:
        click.echo(f"{r['id']:<8} {r['expires']:<22} {r['description']}")


@token.command("delete")
@_token_option
@click.argument("token_id")
def token_delete(config_dir: str, server: str | None, token_id: str) -> None:
    """Delete bootstrap token TOKEN_ID (or ID.SECRET)."""
    info = _master_info(config_dir, server)

    async def delete() -> None:
        async with _admin_client(config_dir, info.server) as client:
            await bootstrap.delete_token(client, token_id)

    asyncio.run(delete())
    click.echo(f"bootstrap token {token_id.split('.')[0]} deleted")


def _systemd_units(components: tuple[str, ...] = config.NODE_COMPONENTS) -> list[str]:
    return [f"minik8s-{c}.service" for c in components]


def _start_units(units: list[str]) -> None:
    for argv in (["systemctl", "daemon-reload"], ["systemctl", "enable", "--now", *units]):
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise click.ClickException(f"{' '.join(argv)} failed: {done.stderr.strip()}")


@cli.command("join")
@click.argument("server")
@click.option("--token", "value", required=True, help="Bootstrap token from `minik8s token create`.")
@click.option("--discovery-token-ca-cert-hash", "ca_hashes", multiple=True, required=True,
              help="sha256:<hex> of the cluster CA's public key, from `minik8s token create` (repeatable).")
@click.option("--node-name", default=None, help="[default: the hostname, lower-cased]")
@click.option("--node-ip", default=None, help="[default: this machine's address on the route to the master]")
@click.option("--pod-cidr", default="", help="This node's pod CIDR [default: allocated by the controller manager].")
@click.option("--docker-host", default="unix:///var/run/docker.sock", show_default=True)
@click.option("--root-dir", default="/var/lib/minik8s/kubelet", show_default=True)
@click.option("--config-dir", default=config.DEFAULT_CONFIG_DIR, show_default=True)
@click.option("--timeout", default=120.0, show_default=True, type=click.FloatRange(min=1),
              help="Seconds to wait for discovery and for each certificate.")
@click.option("--set", "sets", multiple=True, metavar="COMPONENT.OPTION=VALUE", help="Override an option (repeatable).")
@click.option("--start/--no-start", default=None,
              help="Enable and start the node's units [default: when systemd runs this machine].")
@click.option("--control-plane", is_flag=True,
              help="Join as another master (etcd member, API server, controller manager, scheduler, DNS).")
@click.option("--certificate-key", default=None,
              help="With --control-plane: the key `minik8s certs upload` printed (decrypts the shared PKI).")
@click.option("--advertise-address", default=None,
              help="With --control-plane: this master's address [default: the route to SERVER's].")
@click.option("--etcd-name", default=None, help="With --control-plane: its etcd member's name [default: node name].")
@click.option("--etcd-data-dir", default="/var/lib/minik8s/etcd", show_default=True,
              help="With --control-plane: its etcd member's data directory (must be empty).")
def join(server: str, value: str, ca_hashes: tuple[str, ...], node_name: str | None, node_ip: str | None,
         pod_cidr: str, docker_host: str, root_dir: str, config_dir: str, timeout: float, sets: tuple[str, ...],
         start: bool | None, control_plane: bool, certificate_key: str | None, advertise_address: str | None,
         etcd_name: str | None, etcd_data_dir: str) -> None:
    """Join this machine to the cluster at SERVER: verify the cluster's CA, get this node's certificates
    (or with --control-plane, the masters' shared PKI, and add an etcd member)."""
    import socket

    from minik8s.cluster import join as join_mod
    from minik8s.util import procs

    name = (node_name or socket.gethostname()).lower()
    config_dir = os.path.abspath(config_dir)
    if control_plane or certificate_key:
        if not (control_plane and certificate_key):
            raise click.UsageError("--control-plane and --certificate-key go together")
        _join_master(server, value, ca_hashes, certificate_key, address=advertise_address or node_ip,
                     etcd_name=etcd_name or name, etcd_data_dir=etcd_data_dir, config_dir=config_dir,
                     timeout=timeout, overrides=_overrides(sets), start=start)
        return
    try:
        joined = asyncio.run(join_mod.join(server, value, ca_hashes, name, node_ip=node_ip, timeout=timeout))
    except (bootstrap.BootstrapError, OSError) as e:
        raise click.ClickException(f"join failed: {e}") from None
    ip = joined.node_ip
    info = joined.settings
    node_cfg = config.NodeConfig(name=name, ip=ip, server=joined.server,
                                 pod_cidr=pod_cidr, docker_host=docker_host, root_dir=root_dir,
                                 cluster_cidr=info.cluster_cidr or config.DEFAULT_CLUSTER_CIDR,
                                 config_dir=config_dir, overrides=_overrides(sets))
    for path in join_mod.write_credentials(config_dir, joined.server, joined.ca_pem, joined.credentials,
                                           joined.serving):
        click.echo(f"wrote {path}")
    for path in config.write_files(config_dir, config.node_files(node_cfg)):
        click.echo(f"wrote {path}")
    units = _systemd_units()
    if start is None:
        start = procs.systemd_running() and shutil.which("systemctl") is not None
    if not start:
        click.echo(f"node {node_cfg.name} ({ip}) configured; start it with: systemctl enable --now {' '.join(units)}")
        return
    _start_units(units)
    click.echo(f"node {node_cfg.name} ({ip}) joined {joined.server}; `kubectl get nodes` shows it once Ready")


def _join_master(server: str, token_value: str, ca_hashes: tuple[str, ...], certificate_key: str, *,
                 address: str | None, etcd_name: str, etcd_data_dir: str, config_dir: str, timeout: float,
                 overrides: dict[str, dict[str, Any]], start: bool | None) -> None:
    from minik8s.cluster import controlplane
    from minik8s.util import procs

    try:
        fetched = asyncio.run(controlplane.fetch(server, token_value, ca_hashes, certificate_key, timeout=timeout))
        ip = address or bootstrap.address_towards(fetched.server)
        joined = controlplane.join(fetched, config_dir, address=ip, etcd_name=etcd_name, etcd_data_dir=etcd_data_dir,
                                   overrides=overrides, timeout=timeout)
    except (bootstrap.BootstrapError, OSError, pki_util.PKIError) as e:
        raise click.ClickException(f"join failed: {e}") from None
    for action in joined.actions:
        click.echo(action)
    for path in joined.written:
        click.echo(f"wrote {path}")
    members = ", ".join(f"{n} ({a})" for n, a in joined.members)
    click.echo(f"etcd members: {members}")
    units = ["etcd.service", *_systemd_units(config.MASTER_COMPONENTS)]
    if start is None:
        start = procs.systemd_running() and shutil.which("systemctl") is not None
    if not start:
        click.echo(f"master {ip} configured; start it with: systemctl enable --now {' '.join(units)}")
        return
    _start_units(units)
    click.echo(f"master {ip} joined; API servers {', '.join(joined.servers)}")


@cli.group()
def certs() -> None:
    """The cluster's certificates: when they expire, and renewing them."""


@certs.command("check-expiration")
@click.option("--config-dir", default=config.DEFAULT_CONFIG_DIR, show_default=True)
def certs_check_expiration(config_dir: str) -> None:
    """List every certificate of this machine (pki/*.crt, *.conf) with its expiry."""
    from minik8s.cluster import pki

    rows = pki.expirations(config_dir)
    if not rows:
        raise click.ClickException(f"no certificates under {config_dir}")
    now = pki_util.utcnow()
    click.echo(f"{'CERTIFICATE':<48} {'SUBJECT':<52} {'EXPIRES':<22} RESIDUAL")
    for path, subject, not_after in rows:
        left = f"{(not_after - now).days}d" if not_after else "-"
        when = f"{not_after:%Y-%m-%d %H:%M UTC}" if not_after else "-"
        click.echo(f"{path:<48} {subject:<52} {when:<22} {left}")


@certs.command("ca-hash")
@click.option("--config-dir", default=config.DEFAULT_CONFIG_DIR, show_default=True)
def certs_ca_hash(config_dir: str) -> None:
    """Print the CA hash a join command needs (sha256 of the CA's SubjectPublicKeyInfo)."""
    from minik8s.cluster import pki

    try:
        click.echo(pki_util.spki_sha256(pki.load_ca_cert(config_dir)))
    except pki_util.PKIError as e:
        raise click.ClickException(str(e)) from None


@certs.command("upload")
@_token_option
@click.option("--certificate-key", default=None,
              help="Encrypt with this key (64 hex digits) [default: a new one, printed].")
@click.option("--ttl", default="2h", show_default=True,
              help="How long the encrypted certificates stay on the server (they go with a token of this ttl).")
def certs_upload(config_dir: str, server: str | None, certificate_key: str | None, ttl: str) -> None:
    """Store the masters' shared PKI (CA, ServiceAccount keys, etcd CA), encrypted, for
    `minik8s join --control-plane`; print the certificate key (only here: the server never has it)."""
    from minik8s.cluster import controlplane
    from minik8s.cluster import copycerts

    info = _master_info(config_dir, server)
    try:
        seconds = bootstrap.parse_ttl(ttl)
        text = certificate_key or copycerts.new_key()
        key = copycerts.parse_key(text)
    except (ValueError, copycerts.CertsError) as e:
        raise click.BadParameter(str(e)) from None

    async def put() -> None:
        async with _admin_client(config_dir, info.server) as client:
            await controlplane.upload(client, config_dir, key, ttl=seconds)

    try:
        asyncio.run(put())
    except copycerts.CertsError as e:
        raise click.ClickException(str(e)) from None
    click.echo(f"uploaded the control-plane certificates to {copycerts.NAMESPACE}/{copycerts.SECRET_NAME} "
               f"for {ttl}; certificate key:", err=True)
    click.echo(text)


@certs.command("renew")
@click.option("--config-dir", default=config.DEFAULT_CONFIG_DIR, show_default=True)
@_RENEWAL_OPTION
@click.option("--timeout", default=60.0, show_default=True, type=click.FloatRange(min=1),
              help="On a node: seconds to wait for each certificate to be signed.")
def certs_renew(config_dir: str, cert_renewal_days: float, timeout: float) -> None:
    """Renew what expires within the window: on the master with the CA's key (the API server's
    certificate, every kubeconfig); on a node through a CertificateSigningRequest as the node."""
    from minik8s.cluster import join as join_mod
    from minik8s.cluster import pki

    p = pki.paths(config_dir)
    window = _renewal(cert_renewal_days)
    try:
        if p.ca_key.exists():
            actions = _renew_master(config_dir, window)
        else:
            node = _read_options(config_dir, "kubelet").get("node-name")
            if not node:
                raise click.ClickException(f"neither a master ({p.ca_key}) nor a node ({config_dir}/kubelet.yaml)")
            actions = asyncio.run(join_mod.renew_node(config_dir, str(node), renew_before=window,
                                                      timeout=timeout))
    except (pki_util.PKIError, bootstrap.BootstrapError) as e:
        raise click.ClickException(str(e)) from None
    for action in actions:
        click.echo(action)
    if not actions:
        click.echo(f"nothing expires within {cert_renewal_days:g} days")


def _renew_master(config_dir: str, window: datetime.timedelta) -> list[str]:
    """The master's PKI renewed in place: the serving certificate keeps every name it had."""
    from minik8s.cluster import pki

    api = _read_options(config_dir, "apiserver")
    if not api:
        raise click.ClickException(f"no {config_dir}/apiserver.yaml (run `minik8s init` first)")
    address = str(api.get("advertise-address") or "127.0.0.1")
    server = f"https://{address}:{api.get('port', config.DEFAULT_API_PORT)}"
    extra: list[str] = []
    current = pki.paths(config_dir).apiserver_crt
    if current.exists():
        dns, ips = pki_util.sans(pki_util.load_cert(current.read_bytes()))
        extra = sorted(dns | ips)
    _, actions = pki.ensure_master(config_dir, server=server, addresses=[address],
                                   service_cidr=str(api.get("service-cluster-ip-range") or config.DEFAULT_SERVICE_CIDR),
                                   extra_sans=extra, renew_before=window)
    if (pki.paths(config_dir).pki / pki.ETCD_SERVER_CRT).exists():  # a VM master's etcd (init, join)
        actions += pki.ensure_etcd_member_certs(config_dir, address, renew_before=window)
    kubelet = _read_options(config_dir, "kubelet")
    if kubelet.get("node-name"):  # a master that is also a node (`minik8s up`)
        actions += pki.ensure_node(config_dir, pki.load_ca(config_dir), node_name=str(kubelet["node-name"]),
                                   node_ip=str(kubelet.get("node-ip") or address), server=server,
                                   renew_before=window)
    return actions
