"""etcd operations for `minik8s etcd ...`: snapshots, members, health.

Online operations speak etcd's own gRPC API through aetcd, as etcdctl does:
a snapshot is the Maintenance.Snapshot stream (the backend database followed
by its sha256, which a restore checks), the member list is Cluster.MemberList,
health is a linearizable read (answered only with a quorum) under a deadline,
as `etcdctl endpoint health`. `https://` endpoints (an external etcd cluster) go
over TLS with the files of an etcdclient.TLS (etcdctl's --cacert/--cert/--key).

Restoring is offline by nature: it builds a new data directory (a new cluster
ID, the member's name and peer URLs) from the file, which only etcd's own tool
does: `etcdutl snapshot restore` (etcd >= 3.5) or `etcdctl snapshot restore`
(3.4, Debian 12's). The file's hash is verified by that tool.

This module sits in the apiserver package because only the API server talks
to etcd's client library (the import contracts in pyproject.toml).
"""
from __future__ import annotations

import asyncio
import dataclasses
import os
import shutil
import subprocess
import tempfile
import time
import urllib.parse
from typing import Any

import aetcd

from minik8s.apiserver import etcdclient

DEFAULT_ENDPOINT = "http://127.0.0.1:2379"


class EtcdError(Exception):
    """An operation failed; the message says what and where."""


def host_port(endpoint: str) -> tuple[str, int]:
    url = urllib.parse.urlsplit(endpoint if "://" in endpoint else f"http://{endpoint}")
    if url.scheme not in ("http", "https", ""):
        raise EtcdError(f"{endpoint}: an etcd endpoint is http://HOST:PORT or https://HOST:PORT")
    if not url.hostname:
        raise EtcdError(f"{endpoint!r} is not an etcd endpoint (http://HOST:PORT)")
    return url.hostname, url.port or 2379


def _client(endpoint: str, timeout: float, tls: etcdclient.TLS | None = None) -> aetcd.Client:
    """Plain for http://, TLS with `tls`'s files for https:// (etcdctl's --cacert/--cert/--key)."""
    host_port(endpoint)
    return etcdclient.new_client(endpoint, tls, timeout=timeout,
                                 options={"grpc.max_receive_message_length": 64 * 1024 * 1024})


def _why(e: BaseException) -> str:
    if isinstance(e, (asyncio.TimeoutError, aetcd.exceptions.ConnectionTimeoutError)):
        return "timed out"
    if isinstance(e, aetcd.exceptions.ConnectionFailedError):
        return "connection refused or lost"
    return str(e) or type(e).__name__


# -- snapshots ---------------------------------------------------------------------------------


async def snapshot_save(endpoint: str, path: str, *, timeout: float = 300.0,
                        tls: etcdclient.TLS | None = None) -> int:
    """Stream a snapshot of the member at `endpoint` into `path`; the number of bytes.

    Written to a temporary file next to `path` and renamed at the end, so a broken
    stream never leaves a truncated snapshot under the wanted name."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".snapshot-", suffix=".part", dir=directory)
    client = _client(endpoint, timeout, tls)
    try:
        with os.fdopen(fd, "wb") as out:
            await client.snapshot(out)
            out.flush()
            os.fsync(out.fileno())
        size = os.path.getsize(tmp)
        if size == 0:
            raise EtcdError(f"{endpoint} sent an empty snapshot")
        os.replace(tmp, path)
        return size
    except (aetcd.exceptions.ClientError, asyncio.TimeoutError) as e:
        raise EtcdError(f"snapshot from {endpoint}: {_why(e)}") from e
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
        await client.close()


def restore_tool() -> list[str]:
    """The command that restores snapshots here: etcdutl if installed, else etcdctl (v3 API)."""
    if shutil.which("etcdutl"):
        return ["etcdutl"]
    if shutil.which("etcdctl"):
        return ["etcdctl"]
    raise EtcdError("neither etcdutl nor etcdctl is installed (scripts/install-deps.sh installs etcd-client)")


@dataclasses.dataclass(frozen=True)
class RestorePlan:
    snapshot: str
    data_dir: str
    name: str = "default"
    initial_cluster: str = ""
    initial_advertise_peer_urls: str = "http://localhost:2380"
    initial_cluster_token: str = "etcd-cluster"

    def argv(self, tool: list[str]) -> list[str]:
        cluster = self.initial_cluster or f"{self.name}={self.initial_advertise_peer_urls}"
        return [*tool, "snapshot", "restore", self.snapshot, "--data-dir", self.data_dir, "--name", self.name,
                "--initial-cluster", cluster, "--initial-cluster-token", self.initial_cluster_token,
                "--initial-advertise-peer-urls", self.initial_advertise_peer_urls]


def snapshot_restore(plan: RestorePlan) -> str:
    """Build `plan.data_dir` from the snapshot; the tool's output. The directory must not
    exist yet (or be empty): restoring over a live member's data is never what one wants."""
    if not os.path.isfile(plan.snapshot):
        raise EtcdError(f"{plan.snapshot}: no such snapshot file")
    if os.path.isdir(plan.data_dir):
        if os.listdir(plan.data_dir):
            raise EtcdError(f"{plan.data_dir} exists and is not empty; restore into a new directory")
        os.rmdir(plan.data_dir)
    proc = subprocess.run(plan.argv(restore_tool()), capture_output=True, text=True,
                          env=dict(os.environ, ETCDCTL_API="3"), timeout=600)
    if proc.returncode != 0:
        raise EtcdError(f"restore failed: {(proc.stderr or proc.stdout).strip()}")
    return (proc.stdout + proc.stderr).strip()


def snapshot_status(path: str) -> dict[str, Any]:
    """hash, revision, totalKey, totalSize of a snapshot file (the tool's `snapshot status`)."""
    import json

    proc = subprocess.run([*restore_tool(), "snapshot", "status", path, "-w", "json"], capture_output=True,
                          text=True, env=dict(os.environ, ETCDCTL_API="3"), timeout=120)
    if proc.returncode != 0:
        raise EtcdError(f"snapshot status: {(proc.stderr or proc.stdout).strip()}")
    out: dict[str, Any] = json.loads(proc.stdout)
    return out


# -- members and health -------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Member:
    id: int
    name: str
    peer_urls: tuple[str, ...]
    client_urls: tuple[str, ...]

    @property
    def hex_id(self) -> str:
        return f"{self.id:x}"

    @property
    def started(self) -> bool:
        # A member added but not started yet has no name, as etcdctl shows "unstarted".
        return bool(self.name)


async def member_list(endpoints: list[str], *, timeout: float = 5.0,
                      tls: etcdclient.TLS | None = None) -> list[Member]:
    """The cluster's members, asked of the first endpoint that answers."""
    errs = []
    for endpoint in endpoints:
        client = _client(endpoint, timeout, tls)
        try:
            return [Member(m.id, m.name, tuple(m.peer_urls), tuple(m.client_urls))
                    async for m in client.members()]
        except (aetcd.exceptions.ClientError, aetcd.rpc.AioRpcError, asyncio.TimeoutError) as e:
            errs.append(f"{endpoint}: {_why(e)}")
        finally:
            await client.close()
    raise EtcdError("no endpoint answered: " + "; ".join(errs))


@dataclasses.dataclass(frozen=True)
class Health:
    endpoint: str
    healthy: bool
    took: float
    error: str = ""
    leader: bool = False
    raft_term: int = 0
    db_size: int = 0
    version: str = ""


async def endpoint_health(endpoint: str, *, timeout: float = 5.0, tls: etcdclient.TLS | None = None) -> Health:
    """`etcdctl endpoint health` and `status` in one: a quorum read under `timeout`, then
    the member's status (version, leader, raft term, database size)."""
    client = _client(endpoint, timeout, tls)
    start = time.monotonic()
    try:
        await asyncio.wait_for(client.get(b"health"), timeout)
        took = time.monotonic() - start
        st = await asyncio.wait_for(_status(client), timeout)
        return Health(endpoint, True, took, leader=st.leader == st.header.member_id, raft_term=int(st.raftTerm),
                      db_size=int(st.dbSize), version=str(st.version))
    except (aetcd.exceptions.ClientError, aetcd.rpc.AioRpcError, asyncio.TimeoutError) as e:
        return Health(endpoint, False, time.monotonic() - start, error=_why(e))
    finally:
        await client.close()


async def _status(client: aetcd.Client) -> Any:
    """The raw Maintenance.Status answer: aetcd's status() drops which member answered."""
    await client.connect()
    return await client.maintenancestub.Status(aetcd.rpc.StatusRequest(), timeout=client._timeout,  # noqa: SLF001
                                               metadata=client.metadata)


async def cluster_health(endpoints: list[str], *, timeout: float = 5.0,
                         tls: etcdclient.TLS | None = None) -> list[Health]:
    return list(await asyncio.gather(*(endpoint_health(e, timeout=timeout, tls=tls) for e in endpoints)))


@dataclasses.dataclass(frozen=True)
class Added:
    member: Member
    initial_cluster: str  # NAME=PEERURL,... the new member must start with (state "existing")

    def env(self, name: str) -> dict[str, str]:
        """What `etcdctl member add` prints: the new member's start-up settings."""
        return {"ETCD_NAME": name, "ETCD_INITIAL_CLUSTER": self.initial_cluster,
                "ETCD_INITIAL_ADVERTISE_PEER_URLS": ",".join(self.member.peer_urls),
                "ETCD_INITIAL_CLUSTER_STATE": "existing"}


async def member_add(endpoints: list[str], name: str, peer_urls: list[str], *, timeout: float = 5.0,
                     tls: etcdclient.TLS | None = None) -> Added:
    """Announce a new member (it must then be started with the returned settings).

    The cluster counts it in its quorum from now on, so start it promptly: adding a member
    to a 1-member cluster makes writes wait for the second one."""
    errs = []
    for endpoint in endpoints:
        client = _client(endpoint, timeout, tls)
        try:
            m = await client.add_member(peer_urls)
            current = [x async for x in client.members()]
        except aetcd.exceptions.ConnectionFailedError as e:
            errs.append(f"{endpoint}: {e or 'unavailable'}")
            continue
        except (aetcd.exceptions.ClientError, aetcd.rpc.AioRpcError, asyncio.TimeoutError) as e:
            raise EtcdError(f"member add via {endpoint}: {_why(e)}") from e
        finally:
            await client.close()
        pairs = []
        for x in current:
            member_name = x.name or (name if x.id == m.id else "")
            pairs += [f"{member_name}={url}" for url in x.peer_urls if member_name]
        return Added(Member(m.id, name, tuple(m.peer_urls), tuple(m.client_urls)), ",".join(pairs))
    raise EtcdError("member add: " + "; ".join(errs))


async def member_remove(endpoints: list[str], member_id: str, *, timeout: float = 5.0,
                        tls: etcdclient.TLS | None = None) -> None:
    """Remove the member with this (hex) ID, as `etcdctl member remove`."""
    try:
        ident = int(member_id, 16)
    except ValueError:
        raise EtcdError(f"{member_id!r} is not a member ID (hex, as `member list` prints)") from None
    errs = []
    for endpoint in endpoints:
        client = _client(endpoint, timeout, tls)
        try:
            await client.remove_member(ident)
            return
        except aetcd.exceptions.ConnectionFailedError as e:
            # Also etcd's "unhealthy cluster" (gRPC UNAVAILABLE), e.g. right after a join.
            errs.append(f"{endpoint}: {e or 'unavailable'}")
            continue
        except (aetcd.exceptions.ClientError, aetcd.rpc.AioRpcError, asyncio.TimeoutError) as e:
            raise EtcdError(f"member remove {member_id} via {endpoint}: {_why(e)}") from e
        finally:
            await client.close()
    raise EtcdError(f"member remove {member_id}: " + "; ".join(errs))
