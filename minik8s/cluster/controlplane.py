"""`minik8s join --control-plane`: another master for a cluster that `minik8s init` started.

As kubeadm's control-plane join, in this order, so that a refusal leaves nothing behind:
1. discovery as for a node (minik8s.cluster.join.discover): the cluster's CA, trusted
   only if its hash is the one given and cluster-info is signed with the token;
2. with the bootstrap token, Secret kube-system/minik8s-certs, decrypted with the
   certificate key (minik8s.cluster.copycerts); a wrong key or an expired upload is one
   error and nothing is written;
3. the shared PKI written (cluster CA, ServiceAccount keys, etcd CA); this master's own
   certificates issued with them as `minik8s init` does (its API server's serving
   certificate for its address, a kubeconfig per component, etcd peer/server/client);
4. its etcd member added with `etcdctl member add` over the TLS client port of the master
   the join was pointed at (https://<master>:2379, a client certificate of the etcd CA),
   or found already added by an earlier attempt;
5. its configs rendered like init's, with the etcd member's `initial-cluster` (every
   member) and `initial-cluster-state: existing`, and kubeconfigs listing every master's
   API server (its own first) for minik8s's client failover.

etcdctl, not the API server's etcd client library: the cluster package may not import
it (pyproject's import contracts) and etcdctl speaks TLS; masters have it installed
(deploy/install.sh: etcd-client, or the release tarball's etcdctl).
"""
from __future__ import annotations

import dataclasses
import json
import os
import pathlib
import shutil
import subprocess
import time
import urllib.parse
from collections.abc import Sequence
from typing import Any

import yaml

from minik8s.api import errors
from minik8s.client import rest
from minik8s.client import tls as tls_mod
from minik8s.cluster import bootstrap
from minik8s.cluster import config
from minik8s.cluster import copycerts
from minik8s.cluster import join as join_mod
from minik8s.cluster import pki as cluster_pki
from minik8s.util import pki

JoinError = bootstrap.BootstrapError


@dataclasses.dataclass(frozen=True)
class Fetched:
    server: str  # the API server the join was pointed at (its etcd adds the member)
    ca_pem: bytes
    files: dict[str, bytes]  # pki file name → content (copycerts.SHARED_FILES)
    settings: copycerts.ClusterSettings


async def fetch(url: str, token: str, ca_hashes: Sequence[str], certificate_key: str, *,
                timeout: float = 60) -> Fetched:
    """Steps 1 and 2: nothing is written."""
    key = _key(certificate_key)
    found = await join_mod.discover(url, token, ca_hashes, timeout=timeout)
    # The master asked, not cluster-info's server (the first master's): any running master
    # can take a join, and its certificate is checked against the CA just trusted.
    server = url.rstrip("/")
    async with rest.Client(server, token=token, tls=tls_mod.TLSConfig(ca=found.ca_pem), timeout=10,
                           user_agent="minik8s-join") as client:
        try:
            files = await copycerts.download(client, key)
        except copycerts.CertsError as e:
            raise JoinError(str(e)) from None
        except errors.Unauthorized:
            raise JoinError("the API server refused the bootstrap token (expired or deleted?)") from None
        except (errors.ServiceUnavailable, errors.Timeout) as e:
            raise JoinError(str(e)) from None
    try:
        uploaded = pki.load_cert(files["ca.crt"])
    except pki.PKIError as e:
        raise JoinError(f"the uploaded ca.crt is unreadable: {e}") from None
    if pki.spki_sha256(uploaded) not in {pki.spki_sha256(c) for c in pki.load_certs(found.ca_pem)}:
        raise JoinError("the uploaded certificates are not for the CA this cluster serves with")
    try:
        settings = copycerts.ClusterSettings.from_yaml(files.pop(copycerts.CLUSTER_FILE))
    except copycerts.CertsError as e:
        raise JoinError(str(e)) from None
    return Fetched(server, found.ca_pem, files, settings)


def _key(text: str) -> bytes:
    try:
        return copycerts.parse_key(text)
    except copycerts.CertsError as e:
        raise JoinError(str(e)) from None


# --- etcd ---------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class EtcdTLS:
    """etcdctl's TLS options: the etcd CA and a client certificate it signed."""

    cacert: str
    cert: str
    key: str

    @classmethod
    def of(cls, config_dir: str | pathlib.Path) -> EtcdTLS:
        d = cluster_pki.paths(config_dir).pki
        return cls(str(d / cluster_pki.ETCD_CA_CRT), str(d / cluster_pki.ETCD_CLIENT_CRT),
                   str(d / cluster_pki.ETCD_CLIENT_KEY))


def etcdctl(endpoints: Sequence[str], tls: EtcdTLS, *args: str, timeout: float = 10) -> dict[str, Any]:
    """`etcdctl -w json ARGS` against `endpoints`; its JSON answer."""
    binary = shutil.which("etcdctl")
    if binary is None:
        raise JoinError("etcdctl is not installed (Debian: apt-get install etcd-client; deploy/install.sh "
                        "installs it on masters)")
    argv = [binary, "--endpoints", ",".join(endpoints), "--cacert", tls.cacert, "--cert", tls.cert,
            "--key", tls.key, "--dial-timeout", "5s", "--command-timeout", f"{max(timeout, 1):g}s", "-w", "json",
            *args]
    env = {**os.environ, "ETCDCTL_API": "3"}
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout + 10, env=env, check=False)
    except subprocess.TimeoutExpired:
        raise JoinError(f"etcdctl {' '.join(args)} via {', '.join(endpoints)}: no answer") from None
    if done.returncode != 0:
        raise JoinError(f"etcdctl {' '.join(args)} via {', '.join(endpoints)}: "
                        f"{(done.stderr or done.stdout).strip().splitlines()[-1:] or ['failed']}")
    try:
        answer = json.loads(done.stdout)
    except ValueError:
        raise JoinError(f"etcdctl {' '.join(args)}: not JSON: {done.stdout[:200]!r}") from None
    return answer if isinstance(answer, dict) else {}


def _host(url: str) -> str:
    return urllib.parse.urlsplit(url).hostname or ""


def initial_cluster(members: Sequence[dict[str, Any]], me: int, name: str) -> list[tuple[str, str]]:
    """(name, address) of every member, this one (id `me`, not started yet so nameless) named `name`."""
    out = []
    for m in members:
        member_name = m.get("name") or (name if int(m.get("ID", 0)) == me else "")
        peers = m.get("peerURLs") or []
        if not member_name or not peers:
            raise JoinError(f"etcd member {int(m.get('ID', 0)):x} ({', '.join(peers)}) was added but never "
                            "started: remove it (`minik8s etcd member remove`) or start it first")
        out.append((str(member_name), _host(str(peers[0]))))
    return out


def add_member(endpoints: Sequence[str], tls: EtcdTLS, name: str, peer_url: str, *,
               timeout: float = 60) -> list[tuple[str, str]]:
    """Add this master's member (unless an earlier attempt did); every member as (name, address).

    etcd refuses a new voting member until every member has been connected for a few
    seconds ("unhealthy cluster", e.g. right after the previous master joined): retried
    until `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        listed = etcdctl(endpoints, tls, "member", "list").get("members") or []
        for m in listed:
            if peer_url in (m.get("peerURLs") or []):
                return initial_cluster(listed, int(m.get("ID", 0)), name)
        try:
            added = etcdctl(endpoints, tls, "member", "add", name, f"--peer-urls={peer_url}")
        except JoinError as e:
            if "unhealthy" not in str(e) or time.monotonic() > deadline:
                raise
            time.sleep(1)
            continue
        me = int((added.get("member") or {}).get("ID", 0))
        return initial_cluster(added.get("members") or [], me, name)


# --- files --------------------------------------------------------------------------------


def master_config(settings: copycerts.ClusterSettings, *, address: str, etcd_name: str, etcd_data_dir: str,
                  members: Sequence[tuple[str, str]], config_dir: str,
                  overrides: config.Overrides) -> config.MasterConfig:
    return config.MasterConfig(
        advertise_address=address, api_port=settings.api_port, etcd_name=etcd_name, etcd_data_dir=etcd_data_dir,
        etcd_client_port=settings.etcd_client_port, etcd_peer_port=settings.etcd_peer_port,
        service_cluster_ip_range=settings.service_cidr, cluster_cidr=settings.cluster_cidr,
        node_cidr_mask_size=settings.node_cidr_mask_size, dns_service_ip=settings.dns_service_ip,
        cluster_domain=settings.cluster_domain, config_dir=config_dir, overrides=overrides,
        etcd_members=tuple(members), etcd_initial_cluster_state="existing", etcd_client_tls=True)


def settings_of(config_dir: str | pathlib.Path) -> copycerts.ClusterSettings:
    """A master's shared settings, read from the configs its `minik8s init` wrote."""
    d = pathlib.Path(config_dir)

    def section(command: str) -> dict[str, Any]:
        try:
            return config.read_options(d / f"{command}.yaml", command)
        except FileNotFoundError:
            return {}

    api, cm, dns = section("apiserver"), section("controller-manager"), section("dns")
    try:
        etcd = yaml.safe_load((d / "etcd.yaml").read_text()) or {}
    except FileNotFoundError:
        etcd = {}
    defaults = config.MasterConfig(advertise_address="")

    def port(url_key: str, default: int) -> int:
        first = str(etcd.get(url_key) or "").split(",")[0]
        return urllib.parse.urlsplit(first).port or default

    return copycerts.ClusterSettings(
        api_port=int(api.get("port") or defaults.api_port),
        service_cidr=str(api.get("service-cluster-ip-range") or defaults.service_cluster_ip_range),
        cluster_cidr=str(cm.get("cluster-cidr") or defaults.cluster_cidr),
        node_cidr_mask_size=int(cm.get("node-cidr-mask-size") or defaults.node_cidr_mask_size),
        cluster_domain=str(dns.get("cluster-domain") or defaults.cluster_domain),
        dns_service_ip=str(dns.get("service-ip") or defaults.dns_service_ip),
        etcd_client_port=port("listen-client-urls", defaults.etcd_client_port),
        etcd_peer_port=port("listen-peer-urls", defaults.etcd_peer_port))


@dataclasses.dataclass(frozen=True)
class Joined:
    server: str  # this master's API server
    servers: tuple[str, ...]  # every master's, this one first
    members: tuple[tuple[str, str], ...]
    written: tuple[pathlib.Path, ...]
    actions: tuple[str, ...]


def join(fetched: Fetched, config_dir: str, *, address: str, etcd_name: str, etcd_data_dir: str,
         overrides: config.Overrides, timeout: float = 60) -> Joined:
    """Steps 3 to 5."""
    s = fetched.settings
    written = copycerts.write_shared(config_dir, fetched.files)
    actions = cluster_pki.ensure_etcd_member_certs(config_dir, address)
    endpoint = config.etcd_tls_endpoint(_host(fetched.server), s.etcd_client_port)
    peer_url = f"https://{address}:{s.etcd_peer_port}"
    members = add_member([endpoint], EtcdTLS.of(config_dir), etcd_name, peer_url, timeout=timeout)
    own = f"https://{address}:{s.api_port}"
    servers = (own, *dict.fromkeys(f"https://{ip}:{s.api_port}" for _, ip in members if ip != address))
    _, made = cluster_pki.ensure_master(config_dir, server=own, addresses=[address], service_cidr=s.service_cidr,
                                        cluster_domain=s.cluster_domain, servers=servers)
    actions += made
    m = master_config(s, address=address, etcd_name=etcd_name, etcd_data_dir=etcd_data_dir, members=members,
                      config_dir=config_dir, overrides=overrides)
    written += config.write_files(config_dir, config.master_files(m))
    return Joined(own, servers, tuple(members), tuple(written), tuple(actions))


async def upload(client: rest.Client, config_dir: str, key: bytes, *, ttl: int) -> None:
    files = copycerts.read_shared(config_dir)
    files[copycerts.CLUSTER_FILE] = settings_of(config_dir).to_yaml()
    await copycerts.upload(client, files, key, ttl=ttl)
