"""`minik8s join` on a new machine: trust the cluster, then get the node's own certificates.

As kubeadm's token discovery and kubelet TLS bootstrap:
1. Read kube-public/cluster-info anonymously, the one request made before the CA is
   known (so it sends nothing secret): a kubeconfig with the API server's URL and
   the cluster CA, and `jws-kubeconfig-<token id>`, the controller manager's
   signature of that kubeconfig with the token. Trust the CA only if its hash is
   the one in the join command, and the kubeconfig only if the signature checks
   with the token: then it came from whoever created the token, not from a
   machine in the middle.
2. Over TLS verified with that CA, authenticated with the bootstrap token
   (system:bootstrap:<id> in system:bootstrappers): read the node settings
   (kube-system/minik8s-cluster-info) and send one CertificateSigningRequest per
   node identity (the kubelet's system:node:<name>, the proxy's, the network
   agent's), each for a key made here that never leaves the machine. The
   controller manager approves and signs them.
3. Write kubeconfigs with those certificates. The token is not written anywhere.

Renewal (`renew_node`) is the same CSR, authenticated with the node's current
certificate instead of a token.
"""
from __future__ import annotations

import asyncio
import base64
import dataclasses
import datetime
import logging
import pathlib
import ssl
import time
from collections.abc import Sequence
from typing import Any

import aiohttp
import yaml

from minik8s.api import bootstraptoken
from minik8s.api import errors
from minik8s.api import resources
from minik8s.client import kubeconfig as kubeconfig_mod
from minik8s.client import rest
from minik8s.client import tls as tls_mod
from minik8s.cluster import bootstrap
from minik8s.cluster import pki as cluster_pki
from minik8s.controllers import certificates
from minik8s.kubelet import servertls
from minik8s.util import pki

log = logging.getLogger(__name__)

CSRS = resources.must("certificates.k8s.io", "v1", "certificatesigningrequests")
CLUSTER_INFO_PATH = (f"/api/v1/namespaces/{bootstraptoken.CLUSTER_INFO_NAMESPACE}/configmaps/"
                     f"{bootstraptoken.CLUSTER_INFO}")
JoinError = bootstrap.BootstrapError


@dataclasses.dataclass(frozen=True)
class Discovery:
    server: str  # the API server URL cluster-info names
    ca_pem: bytes


def normalize_hash(value: str) -> str:
    algo, sep, digest = value.strip().lower().partition(":")
    if not sep or algo != "sha256" or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise JoinError(f"CA hash {value!r} is not of the form sha256:<64 hex digits> (`minik8s token create` "
                        "prints it)")
    return f"sha256:{digest}"


def _unverified_context() -> ssl.SSLContext:
    # Step 1 only: the CA is what this request is about to learn. Nothing secret is sent,
    # and the answer is used only after its CA hash and its signature have been checked.
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def check_cluster_info(cm: dict[str, Any], token: str, ca_hashes: Sequence[str]) -> Discovery:
    """The server and CA of a cluster-info ConfigMap, once its signature and CA hash check out."""
    token_id, token_secret = bootstrap.parse_token(token)
    data = cm.get("data") or {}
    content = data.get("kubeconfig")
    if not isinstance(content, str) or not content:
        raise JoinError("cluster-info has no kubeconfig")
    signature = data.get(bootstraptoken.JWS_PREFIX + token_id)
    if not signature:
        raise _Unsigned(token_id)
    if not bootstraptoken.verify_detached_signature(content, signature, token_id, token_secret):
        raise JoinError(f"cluster-info's signature for token {token_id} does not match the token: "
                        "someone other than the cluster answered, or the token's secret is wrong")
    try:
        doc = yaml.safe_load(content) or {}
        cluster = (doc.get("clusters") or [{}])[0].get("cluster") or {}
        server = str(cluster["server"]).rstrip("/")
        ca_pem = base64.b64decode(cluster["certificate-authority-data"], validate=True)
        cas = pki.load_certs(ca_pem)
    except (yaml.YAMLError, KeyError, IndexError, TypeError, ValueError, pki.PKIError) as e:
        raise JoinError(f"cluster-info's kubeconfig is unreadable: {e}") from None
    wanted = {normalize_hash(h) for h in ca_hashes}
    found = {pki.spki_sha256(c) for c in cas}
    if not wanted & found:
        raise JoinError(f"the cluster's CA ({', '.join(sorted(found))}) is not the one the join command names "
                        f"({', '.join(sorted(wanted))}): refusing to trust it")
    return Discovery(server, ca_pem)


class _Unsigned(JoinError):
    def __init__(self, token_id: str) -> None:
        super().__init__(f"cluster-info is not signed for token {token_id}")


async def discover(url: str, token: str, ca_hashes: Sequence[str], *, timeout: float = 60) -> Discovery:
    """Step 1: the cluster's server and CA, verified; waits for the controller manager's signature."""
    bootstrap.parse_token(token)
    if not ca_hashes:
        raise JoinError("a CA hash is required (--discovery-token-ca-cert-hash sha256:...): without it a join "
                        "would trust whichever server answers")
    for h in ca_hashes:
        normalize_hash(h)
    deadline = time.monotonic() + timeout
    last = "no answer"
    connector = aiohttp.TCPConnector(ssl=_unverified_context())
    async with aiohttp.ClientSession(connector=connector, headers={"User-Agent": "minik8s-join"}) as session:
        while True:
            try:
                async with session.get(url.rstrip("/") + CLUSTER_INFO_PATH,
                                       timeout=aiohttp.ClientTimeout(total=10)) as resp:
                    body = await resp.read()
                    if resp.status == 200:
                        return check_cluster_info(yaml.safe_load(body), token, ca_hashes)
                    last = f"HTTP {resp.status}: {body[:200].decode(errors='replace')}"
            except _Unsigned as e:
                last = f"{e} (yet: the token may not exist or have expired, or the controller manager is not up)"
            except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as e:
                last = f"cannot reach {url}: {e}"
            if time.monotonic() > deadline:
                raise JoinError(f"cluster discovery at {url} failed after {timeout:g}s: {last}")
            await asyncio.sleep(0.5)


async def request_certificate(client: rest.Client, identity: cluster_pki.Identity, signer: str,
                              ca_pem: bytes, *, timeout: float = 60, dns_names: Sequence[str] = (),
                              ip_addresses: Sequence[str] = ()) -> tuple[bytes, bytes]:
    """(certificate PEM, key PEM) for `identity`, through a CSR the controller manager approves
    and signs: a client certificate, or with names a serving one."""
    key = pki.new_key()
    request = pki.make_csr(key, identity.user, identity.groups, dns_names=dns_names, ip_addresses=ip_addresses)
    serving = bool(dns_names or ip_addresses)
    created = await client.create(CSRS, {
        "apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest",
        "metadata": {"generateName": "node-serving-csr-" if serving else "node-csr-"},
        "spec": {"request": base64.b64encode(request).decode(), "signerName": signer,
                 "usages": ["digital signature", "server auth" if serving else "client auth"]}})
    name = created["metadata"]["name"]
    deadline = time.monotonic() + timeout
    while True:
        csr = await client.get(CSRS, name)
        for kind in ("Denied", "Failed"):
            cond = certificates.condition(csr, kind)
            if cond is not None:
                raise JoinError(f"certificate request {name} for {identity.user} {kind.lower()}: "
                                f"{cond.get('reason', '')} {cond.get('message', '')}".rstrip())
        issued = (csr.get("status") or {}).get("certificate")
        if issued:
            cert_pem = base64.b64decode(issued)
            _check_issued(cert_pem, key, identity, ca_pem)
            return cert_pem, pki.key_pem(key)
        if time.monotonic() > deadline:
            approved = certificates.condition(csr, "Approved") is not None
            raise JoinError(f"certificate request {name} for {identity.user} not "
                            f"{'signed' if approved else 'approved'} within {timeout:g}s"
                            + ("" if approved else f" (approve it on the master: kubectl certificate approve {name})"))
        await asyncio.sleep(0.2)


def _check_issued(cert_pem: bytes, key: pki.PrivateKey, identity: cluster_pki.Identity, ca_pem: bytes) -> None:
    cert = pki.load_cert(cert_pem)
    if not pki.same_public_key(cert, key):
        raise JoinError("the issued certificate is not for the key this node made")
    if not any(pki.signed_by(cert, ca) for ca in pki.load_certs(ca_pem)):
        raise JoinError("the issued certificate is not signed by the cluster CA")
    if pki.subject(cert.subject) != (identity.user, identity.groups):
        raise JoinError(f"the issued certificate is for {pki.subject(cert.subject)}, not {identity.user}")


def signer_for(file_name: str) -> str:
    return certificates.KUBELET_CLIENT_SIGNER if file_name == cluster_pki.KUBELET_KUBECONFIG \
        else certificates.CLIENT_SIGNER


async def node_credentials(client: rest.Client, node_name: str, ca_pem: bytes, *, timeout: float = 60,
                           only: Sequence[str] | None = None) -> dict[str, tuple[bytes, bytes]]:
    """kubeconfig file name → (certificate, key) for each of the node's identities (or those in `only`)."""
    out = {}
    for file_name, identity in cluster_pki.node_identities(node_name).items():
        if only is not None and file_name not in only:
            continue
        out[file_name] = await request_certificate(client, identity, signer_for(file_name), ca_pem, timeout=timeout)
    return out


async def serving_certificate(client: rest.Client, node_name: str, node_ip: str, ca_pem: bytes, *,
                              timeout: float = 60) -> tuple[bytes, bytes]:
    """The kubelet's serving certificate (pki/kubelet.crt), asked for by the node itself
    (`client` authenticated as system:node:<name>): the kubelet-serving signer."""
    spec = servertls.serving_spec(node_name, [node_ip])
    return await request_certificate(client, cluster_pki.Identity(spec.common_name, spec.organizations),
                                     certificates.KUBELET_SERVING_SIGNER, ca_pem, timeout=timeout,
                                     dns_names=spec.dns_names, ip_addresses=spec.ip_addresses)


async def read_node_settings(client: rest.Client) -> bootstrap.ClusterInfo:
    try:
        secret = await client.get(bootstrap.SECRETS, bootstrap.CLUSTER_INFO, bootstrap.NAMESPACE)
    except errors.NotFound:
        raise JoinError(f"{bootstrap.NAMESPACE}/{bootstrap.CLUSTER_INFO} is missing; `minik8s token create` "
                        "writes it") from None
    return bootstrap.ClusterInfo(server=bootstraptoken.field(secret, "server"),
                                 cluster_cidr=bootstraptoken.field(secret, "cluster-cidr"))


@dataclasses.dataclass(frozen=True)
class Joined:
    server: str
    ca_pem: bytes
    settings: bootstrap.ClusterInfo
    credentials: dict[str, tuple[bytes, bytes]]
    node_ip: str
    serving: tuple[bytes, bytes]  # the kubelet's serving certificate and key


async def join(url: str, token: str, ca_hashes: Sequence[str], node_name: str, *, node_ip: str | None = None,
               timeout: float = 60) -> Joined:
    """Steps 1 and 2: everything the node's files need, nothing written yet. The client
    certificates are asked for with the bootstrap token; the kubelet's serving certificate
    then by the node itself, with the client certificate it just got."""
    found = await discover(url, token, ca_hashes, timeout=timeout)
    ip = node_ip or bootstrap.address_towards(found.server)
    async with rest.Client(found.server, token=token, tls=tls_mod.TLSConfig(ca=found.ca_pem), timeout=10,
                           user_agent="minik8s-join") as client:
        try:
            settings = await read_node_settings(client)
            creds = await node_credentials(client, node_name, found.ca_pem, timeout=timeout)
        except errors.Unauthorized:
            raise JoinError("the API server refused the bootstrap token (expired or deleted?)") from None
        except (errors.ServiceUnavailable, errors.Timeout) as e:
            raise JoinError(str(e)) from None
    cert, key = creds[cluster_pki.KUBELET_KUBECONFIG]
    async with rest.Client(found.server, tls=tls_mod.TLSConfig(ca=found.ca_pem, cert=cert, key=key), timeout=10,
                           user_agent="minik8s-join") as node:
        try:
            serving = await serving_certificate(node, node_name, ip, found.ca_pem, timeout=timeout)
        except (errors.ServiceUnavailable, errors.Timeout, errors.Unauthorized, errors.Forbidden) as e:
            raise JoinError(str(e)) from None
    return Joined(found.server, found.ca_pem, settings, creds, ip, serving)


def write_credentials(config_dir: str | pathlib.Path, server: str, ca_pem: bytes,
                      credentials: dict[str, tuple[bytes, bytes]],
                      serving: tuple[bytes, bytes] | None = None) -> list[pathlib.Path]:
    p = cluster_pki.paths(config_dir)
    written = [pki.write_public(p.ca_crt, ca_pem)]
    for file_name, (cert, key) in credentials.items():
        cluster_pki.write_kubeconfig(p.kubeconfig(file_name), server, ca_pem, cert, key)
        written.append(p.kubeconfig(file_name))
    if serving is not None:
        pki.write_private(p.kubelet_key, serving[1])
        written.append(pki.write_public(p.kubelet_crt, serving[0]))
    return written


async def renew_node(config_dir: str | pathlib.Path, node_name: str, *,
                     renew_before: datetime.timedelta = cluster_pki.DEFAULT_RENEW_BEFORE,
                     timeout: float = 60) -> list[str]:
    """Renew the node's certificates that expire within `renew_before`, asking as the node
    itself (its kubelet.conf); what was renewed."""
    p = cluster_pki.paths(config_dir)
    due = []
    for file_name in cluster_pki.node_identities(node_name):
        path = p.kubeconfig(file_name)
        if not path.exists():
            continue
        access = kubeconfig_mod.load(path)
        if access.cert is None:
            continue
        if pki.remaining(pki.load_cert(access.cert)) < renew_before:
            due.append(file_name)
    serving_ip = _serving_ip_due(p, renew_before)
    if not due and serving_ip is None:
        return []
    kubelet = kubeconfig_mod.load(p.kubeconfig(cluster_pki.KUBELET_KUBECONFIG))
    if kubelet.ca is None:
        raise JoinError(f"{p.kubeconfig(cluster_pki.KUBELET_KUBECONFIG)} has no CA")
    serving = None
    async with rest.Client(kubelet.server, tls=kubelet.tls(), timeout=10, user_agent="minik8s-certs") as client:
        creds = await node_credentials(client, node_name, kubelet.ca, timeout=timeout, only=due) if due else {}
        if serving_ip is not None:
            serving = await serving_certificate(client, node_name, serving_ip, kubelet.ca, timeout=timeout)
    write_credentials(config_dir, kubelet.server, kubelet.ca, creds, serving)
    return [f"renewed {p.kubeconfig(name)}" for name in creds] + ([f"renewed {p.kubelet_crt}"] if serving else [])


def _serving_ip_due(p: cluster_pki.Paths, renew_before: datetime.timedelta) -> str | None:
    """The address to renew the kubelet's serving certificate for, if it expires within
    `renew_before` (its first IP address: the node's)."""
    if not p.kubelet_crt.exists():
        return None
    cert = pki.load_cert(p.kubelet_crt.read_bytes())
    if pki.remaining(cert) >= renew_before:
        return None
    _, ips = pki.sans(cert)
    if not ips:
        raise JoinError(f"{p.kubelet_crt} names no address to renew it for")
    return sorted(ips)[0]
