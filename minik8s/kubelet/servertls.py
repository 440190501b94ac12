"""The kubelet API's TLS: its serving certificate, and who may call it.

As the kubelet's `--tls-cert-file`, `--tls-private-key-file` and `--client-ca-file`:
 - the serving certificate is the one the cluster tooling issued for this node from the
   cluster CA (`minik8s init`/`up`/`cluster up` directly, `minik8s join` through a
   kubernetes.io/kubelet-serving CertificateSigningRequest), naming the node's address, so
   the API server checks it against the cluster CA and the address it dials. Without one
   the kubelet makes a self-signed certificate in memory, as the kubelet does; an API
   server that verifies kubelets (minik8s' always do) then refuses to talk to it.
 - clients must present a certificate from the client CA (default: the CA of the
   kubelet's kubeconfig, the cluster CA). Only the API server's kubelet client identity
   (kube-apiserver-kubelet-client) and system:masters are authorized; every path but
   /healthz needs them. A missing certificate is 401, another identity 403. This is
   Kubernetes' x509 authentication with an authorizer narrowed to the one caller it
   serves, instead of a SubjectAccessReview per request.
"""
from __future__ import annotations

import dataclasses
import logging
import ssl
from typing import Any

from minik8s.api import identities
from minik8s.client import tls as tls_mod
from minik8s.util import pki

log = logging.getLogger(__name__)

ALLOWED_USERS = frozenset({identities.APISERVER_KUBELET_CLIENT})
ALLOWED_GROUPS = frozenset({identities.MASTERS})


@dataclasses.dataclass(frozen=True)
class Caller:
    user: str
    groups: tuple[str, ...]

    @property
    def allowed(self) -> bool:
        return self.user in ALLOWED_USERS or bool(ALLOWED_GROUPS & set(self.groups))


def caller(peercert: dict[str, Any] | None) -> Caller | None:
    """Who a verified client certificate (ssl's getpeercert() form) names; None without one."""
    if not peercert:
        return None
    user = ""
    groups: list[str] = []
    for rdn in peercert.get("subject") or ():
        for key, value in rdn:
            if key == "commonName":
                user = value
            elif key == "organizationName":
                groups.append(value)
    return Caller(user, tuple(groups))


def self_signed(node_name: str, addresses: list[str]) -> tuple[bytes, bytes]:
    """(certificate chain PEM, key PEM) signed by a throwaway CA, as the kubelet's
    GenerateSelfSignedCertKey: for a kubelet that was given no certificate."""
    ca_key, ca_cert = pki.make_ca(common_name=f"{node_name}-ca", days=365)
    key = pki.new_key()
    cert = pki.issue(ca_key, ca_cert, key.public_key(), serving_spec(node_name, addresses))
    return pki.cert_pem(cert) + pki.cert_pem(ca_cert), pki.key_pem(key)


def serving_spec(node_name: str, addresses: list[str], days: float = pki.LEAF_DAYS) -> pki.CertSpec:
    """The kubelet serving certificate's subject and names (the kubelet-serving signer's
    shape: CN system:node:<name>, O system:nodes, the node's names and addresses)."""
    dns, ips = pki.split_names([*addresses, node_name])
    return pki.CertSpec(identities.node_user(node_name), (identities.NODES,), dns_names=dns, ip_addresses=ips, client=False, server=True, days=days)


def server_context(*, cert: bytes, key: bytes, client_ca: bytes | None) -> ssl.SSLContext:
    """The kubelet server's context: its certificate, and client certificates checked
    against `client_ca` when presented (CERT_OPTIONAL: /healthz stays open; everything
    else is refused without one by the server's middleware)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    tls_mod.load_cert_chain(ctx, cert, key)
    if client_ca:
        try:
            ctx.load_verify_locations(cadata=client_ca.decode("ascii"))
        except (ssl.SSLError, UnicodeDecodeError, ValueError) as e:
            raise tls_mod.TLSError(f"the client CA is not a usable PEM certificate: {e}") from None
        ctx.verify_mode = ssl.CERT_OPTIONAL
    return ctx


def load(*, cert_file: str, key_file: str, client_ca_file: str, kubeconfig_ca: bytes | None, node_name: str,
         node_ip: str) -> ssl.SSLContext:
    """The server context the kubelet's flags describe; tls_mod.TLSError or OSError when a file is unusable."""
    if bool(cert_file) != bool(key_file):
        raise tls_mod.TLSError("--tls-cert-file and --tls-private-key-file go together")
    if cert_file:
        with open(cert_file, "rb") as f:
            cert = f.read()
        with open(key_file, "rb") as f:
            key = f.read()
    else:
        log.warning("no --tls-cert-file: serving a self-signed certificate, which the API server will not trust "
                    "(minik8s init/join/up issue one from the cluster CA)")
        cert, key = self_signed(node_name, [node_ip])
    client_ca = kubeconfig_ca
    if client_ca_file:
        with open(client_ca_file, "rb") as f:
            client_ca = f.read()
    if not client_ca:
        log.warning("no --client-ca-file and no CA in the kubeconfig: no client can authenticate to the "
                    "kubelet API (logs, exec and metrics will be refused)")
    return server_context(cert=cert, key=key, client_ca=client_ca)
