"""`minik8s etcd ...`: snapshot save/restore/status, member list, endpoint health.

Option parsing and printing only; the work is in minik8s.apiserver.etcdops. The
endpoints come from --endpoints or ETCDCTL_ENDPOINTS, as etcdctl takes them; for
https:// endpoints (an external etcd cluster) the CA and client certificate from
--cacert/--cert/--key or ETCDCTL_CACERT/ETCDCTL_CERT/ETCDCTL_KEY, as etcdctl, also
spelled as the API server's --etcd-cafile/--etcd-certfile/--etcd-keyfile.
"""
from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import Callable
from typing import Any

import click

from minik8s.cli.main import cli

ENDPOINTS = click.option("--endpoints", envvar="ETCDCTL_ENDPOINTS", default="http://127.0.0.1:2379",
                         show_default=True, help="Comma-separated etcd client URLs (or ETCDCTL_ENDPOINTS).")
TIMEOUT = click.option("--command-timeout", "timeout", default=5.0, type=click.FloatRange(min=0.1),
                       show_default=True, help="Seconds each endpoint has to answer.")


TLS_NAMES = ("--cacert", "--cert", "--key")


def tls_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """--cacert/--cert/--key (etcdctl's names and variables, and the API server's), handed to
    the command as one `tls` triple of paths ("" when not given)."""
    @click.option("--key", "--etcd-keyfile", "tls_key", envvar="ETCDCTL_KEY", default="",
                  help="The key of --cert (or ETCDCTL_KEY).")
    @click.option("--cert", "--etcd-certfile", "tls_cert", envvar="ETCDCTL_CERT", default="",
                  help="Client certificate for https:// endpoints (or ETCDCTL_CERT).")
    @click.option("--cacert", "--etcd-cafile", "tls_ca", envvar="ETCDCTL_CACERT", default="",
                  help="CA the members' serving certificates chain to; required for https:// endpoints "
                       "(or ETCDCTL_CACERT).")
    @functools.wraps(f)
    def wrapper(*args: Any, tls_ca: str, tls_cert: str, tls_key: str, **kw: Any) -> Any:
        return f(*args, tls=(tls_ca, tls_cert, tls_key), **kw)
    return wrapper


def _tls(endpoints: list[str], files: tuple[str, str, str]) -> Any:
    """The etcdclient.TLS for `files`, checked against `endpoints` (a usage error if unfit)."""
    from minik8s.apiserver import etcdclient

    tls = etcdclient.TLS(*files)
    try:
        tls.check(endpoints, names=TLS_NAMES)
    except etcdclient.ConfigError as e:
        raise click.UsageError(str(e)) from None
    return tls


def _endpoints(value: str) -> list[str]:
    out = [e.strip() for e in value.split(",") if e.strip()]
    if not out:
        raise click.BadParameter("no endpoint given", param_hint="--endpoints")
    return out


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("   ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in rows)


@cli.group()
def etcd() -> None:
    """Operate the cluster's etcd: snapshots, members, health."""


@etcd.group()
def snapshot() -> None:
    """Save etcd's data to a file, inspect such a file, or build a data directory from one."""


@snapshot.command("save")
@click.argument("file", type=click.Path(dir_okay=False, writable=True))
@ENDPOINTS
@tls_options
def snapshot_save(file: str, endpoints: str, tls: tuple[str, str, str]) -> None:
    """Save a snapshot of the member at the (single) endpoint into FILE."""
    from minik8s.apiserver import etcdops

    eps = _endpoints(endpoints)
    if len(eps) != 1:
        raise click.UsageError("snapshot save needs exactly one endpoint (a member's own data is saved)")
    try:
        size = asyncio.run(etcdops.snapshot_save(eps[0], file, tls=_tls(eps, tls)))
    except etcdops.EtcdError as e:
        raise click.ClickException(str(e)) from None
    click.echo(f"Snapshot saved at {file} ({size} bytes)")


@snapshot.command("status")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("-o", "--output", type=click.Choice(["table", "json"]), default="table")
def snapshot_status(file: str, output: str) -> None:
    """Hash, revision, keys and size of the snapshot FILE."""
    from minik8s.apiserver import etcdops

    try:
        st = etcdops.snapshot_status(file)
    except etcdops.EtcdError as e:
        raise click.ClickException(str(e)) from None
    if output == "json":
        click.echo(json.dumps(st))
        return
    click.echo(_table([["HASH", "REVISION", "TOTAL KEYS", "TOTAL SIZE"],
                       [f"{st.get('hash', 0):x}", str(st.get("revision")), str(st.get("totalKey")),
                        str(st.get("totalSize"))]]))


@snapshot.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--data-dir", required=True, type=click.Path(file_okay=False),
              help="The new member's data directory (must not exist yet, or be empty).")
@click.option("--name", default="default", show_default=True, help="The member's name.")
@click.option("--initial-cluster", default="", help="NAME=PEERURL,... of the restored cluster (default: this one).")
@click.option("--initial-advertise-peer-urls", default="http://localhost:2380", show_default=True,
              help="This member's peer URL.")
@click.option("--initial-cluster-token", default="etcd-cluster", show_default=True,
              help="A token unique to the restored cluster.")
def snapshot_restore(file: str, data_dir: str, name: str, initial_cluster: str, initial_advertise_peer_urls: str,
                     initial_cluster_token: str) -> None:
    """Build a member's data directory from FILE (offline; start etcd on DATA_DIR afterwards)."""
    from minik8s.apiserver import etcdops

    plan = etcdops.RestorePlan(file, data_dir, name=name, initial_cluster=initial_cluster,
                               initial_advertise_peer_urls=initial_advertise_peer_urls,
                               initial_cluster_token=initial_cluster_token)
    try:
        out = etcdops.snapshot_restore(plan)
    except etcdops.EtcdError as e:
        raise click.ClickException(str(e)) from None
    if out:
        click.echo(out, err=True)
    click.echo(f"Restored {file} into {data_dir} (member {name}); start etcd with --data-dir {data_dir} "
               f"--name {name}")


@etcd.group()
def member() -> None:
    """The cluster's members."""


@member.command("list")
@ENDPOINTS
@TIMEOUT
@tls_options
@click.option("-o", "--output", type=click.Choice(["table", "json"]), default="table")
def member_list(endpoints: str, timeout: float, output: str, tls: tuple[str, str, str]) -> None:
    """List the members (asked of the first endpoint that answers)."""
    from minik8s.apiserver import etcdops

    eps = _endpoints(endpoints)
    try:
        members = asyncio.run(etcdops.member_list(eps, timeout=timeout, tls=_tls(eps, tls)))
    except etcdops.EtcdError as e:
        raise click.ClickException(str(e)) from None
    if output == "json":
        click.echo(json.dumps([{"ID": m.hex_id, "name": m.name, "peerURLs": list(m.peer_urls),
                                "clientURLs": list(m.client_urls)} for m in members]))
        return
    rows = [["ID", "STATUS", "NAME", "PEER ADDRS", "CLIENT ADDRS"]]
    rows += [[m.hex_id, "started" if m.started else "unstarted", m.name, ",".join(m.peer_urls),
              ",".join(m.client_urls)] for m in members]
    click.echo(_table(rows))


@member.command("add")
@click.argument("name")
@click.option("--peer-urls", required=True, help="Comma-separated peer URLs of the new member.")
@ENDPOINTS
@TIMEOUT
@tls_options
def member_add(name: str, peer_urls: str, endpoints: str, timeout: float, tls: tuple[str, str, str]) -> None:
    """Announce member NAME; prints the settings to start it with (as etcdctl does)."""
    from minik8s.apiserver import etcdops

    urls = _endpoints(peer_urls)
    eps = _endpoints(endpoints)
    try:
        added = asyncio.run(etcdops.member_add(eps, name, urls, timeout=timeout, tls=_tls(eps, tls)))
    except etcdops.EtcdError as e:
        raise click.ClickException(str(e)) from None
    click.echo(f"Member {added.member.hex_id} added to cluster\n")
    for key, value in added.env(name).items():
        click.echo(f'{key}="{value}"')


@member.command("remove")
@click.argument("member_id")
@ENDPOINTS
@TIMEOUT
@tls_options
def member_remove(member_id: str, endpoints: str, timeout: float, tls: tuple[str, str, str]) -> None:
    """Remove the member with MEMBER_ID (hex, as `member list` prints it)."""
    from minik8s.apiserver import etcdops

    eps = _endpoints(endpoints)
    try:
        asyncio.run(etcdops.member_remove(eps, member_id, timeout=timeout, tls=_tls(eps, tls)))
    except etcdops.EtcdError as e:
        raise click.ClickException(str(e)) from None
    click.echo(f"Member {member_id} removed from cluster")


def _health(endpoints: str, timeout: float, tls: tuple[str, str, str]) -> None:
    from minik8s.apiserver import etcdops

    eps = _endpoints(endpoints)
    results = asyncio.run(etcdops.cluster_health(eps, timeout=timeout, tls=_tls(eps, tls)))
    rows = [["ENDPOINT", "HEALTH", "TOOK", "LEADER", "RAFT TERM", "DB SIZE", "VERSION", "ERROR"]]
    for h in results:
        rows.append([h.endpoint, str(h.healthy).lower(), f"{h.took * 1000:.1f}ms",
                     str(h.leader).lower() if h.healthy else "", str(h.raft_term) if h.healthy else "",
                     str(h.db_size) if h.healthy else "", h.version, h.error])
    click.echo(_table(rows))
    if not all(h.healthy for h in results):
        raise SystemExit(1)


@etcd.group()
def endpoint() -> None:
    """Each endpoint's health and status."""


@endpoint.command("health")
@ENDPOINTS
@TIMEOUT
@tls_options
def endpoint_health(endpoints: str, timeout: float, tls: tuple[str, str, str]) -> None:
    """A quorum read on each endpoint within the timeout, and its status; exit 1 if any fails."""
    _health(endpoints, timeout, tls)


@etcd.command("health")
@ENDPOINTS
@TIMEOUT
@tls_options
def health(endpoints: str, timeout: float, tls: tuple[str, str, str]) -> None:
    """Same as `etcd endpoint health`."""
    _health(endpoints, timeout, tls)
