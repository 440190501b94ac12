"""`minik8s etcd ...`: snapshot save/restore/status, member list, endpoint health.

Option parsing and printing only; the work is in minik8s.apiserver.etcdops. The
endpoints come from --endpoints or ETCDCTL_ENDPOINTS, as etcdctl takes them.
"""
from __future__ import annotations

import asyncio
import json

import click

from minik8s.cli.main import cli

ENDPOINTS = click.option("--endpoints", envvar="ETCDCTL_ENDPOINTS", default="http://127.0.0.1:2379",
                         show_default=True, help="Comma-separated etcd client URLs (or ETCDCTL_ENDPOINTS).")
TIMEOUT = click.option("--command-timeout", "timeout", default=5.0, type=click.FloatRange(min=0.1),
                       show_default=True, help="Seconds each endpoint has to answer.")


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
def snapshot_save(file: str, endpoints: str) -> None:
    """Save a snapshot of the member at the (single) endpoint into FILE."""
    from minik8s.apiserver import etcdops

    eps = _endpoints(endpoints)
    if len(eps) != 1:
        raise click.UsageError("snapshot save needs exactly one endpoint (a member's own data is saved)")
    try:
        size = asyncio.run(etcdops.snapshot_save(eps[0], file))
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
@click.option("-o", "--output", type=click.Choice(["table", "json"]), default="table")
def member_list(endpoints: str, timeout: float, output: str) -> None:
    """List the members (asked of the first endpoint that answers)."""
    from minik8s.apiserver import etcdops

    try:
        members = asyncio.run(etcdops.member_list(_endpoints(endpoints), timeout=timeout))
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
def member_add(name: str, peer_urls: str, endpoints: str, timeout: float) -> None:
    """Announce member NAME; prints the settings to start it with (as etcdctl does)."""
    from minik8s.apiserver import etcdops

    urls = _endpoints(peer_urls)
    try:
        added = asyncio.run(etcdops.member_add(_endpoints(endpoints), name, urls, timeout=timeout))
    except etcdops.EtcdError as e:
        raise click.ClickException(str(e)) from None
    click.echo(f"Member {added.member.hex_id} added to cluster\n")
    for key, value in added.env(name).items():
        click.echo(f'{key}="{value}"')


@member.command("remove")
@click.argument("member_id")
@ENDPOINTS
@TIMEOUT
def member_remove(member_id: str, endpoints: str, timeout: float) -> None:
    """Remove the member with MEMBER_ID (hex, as `member list` prints it)."""
    from minik8s.apiserver import etcdops

    try:
        asyncio.run(etcdops.member_remove(_endpoints(endpoints), member_id, timeout=timeout))
    except etcdops.EtcdError as e:
        raise click.ClickException(str(e)) from None
    click.echo(f"Member {member_id} removed from cluster")


def _health(endpoints: str, timeout: float) -> None:
    from minik8s.apiserver import etcdops

    results = asyncio.run(etcdops.cluster_health(_endpoints(endpoints), timeout=timeout))
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
def endpoint_health(endpoints: str, timeout: float) -> None:
    """A quorum read on each endpoint within the timeout, and its status; exit 1 if any fails."""
    _health(endpoints, timeout)


@etcd.command("health")
@ENDPOINTS
@TIMEOUT
def health(endpoints: str, timeout: float) -> None:
    """Same as `etcd endpoint health`."""
    _health(endpoints, timeout)
