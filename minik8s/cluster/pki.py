"""The cluster's PKI on disk: what `minik8s init`, `up` and `cluster up` make, and renew at start.

Laid out as kubeadm lays out /etc/kubernetes, under the config directory
(/etc/minik8s on a VM, `<state>/etc` for the local clusters):

    pki/ca.crt, pki/ca.key                  the cluster CA (10 years); its key never leaves the master
    pki/apiserver.crt, .key                 the API server's serving certificate: 127.0.0.1, localhost,
                                            every advertise address, the `kubernetes` Service's
                                            ClusterIP and kubernetes.default.svc.<domain>
    pki/apiserver-kubelet-client.crt, .key  the API server's client certificate towards kubelets
    pki/sa.key, pki/sa.pub                  the ServiceAccount token signing key pair (RSA, RS256)
    pki/etcd-ca.crt, .key                   (several masters) the etcd peers' own CA, as kubeadm's
                                            etcd/ca: only what it signs may join the etcd cluster
    pki/etcd-peer.crt, .key                 (several masters) the etcd member's certificate towards its
                                            peers, client and server, for the master's address
    pki/etcd-server.crt, .key               (VM masters) etcd's serving certificate on its TLS client
                                            port: the master's address, 127.0.0.1, localhost
    pki/apiserver-etcd-client.crt, .key     (VM masters, external etcd) a client certificate of the
                                            etcd CA: what `join --control-plane` adds its member
                                            with, and the API servers' towards external members
and on each external etcd member (`<state>/etcd-members/<member>/etc`):
    pki/etcd-ca.crt                         the etcd CA's certificate (not its key)
    pki/etcd-server.crt, .key               its serving certificate for clients: its address and name,
                                            127.0.0.1 and localhost
    pki/etcd-peer.crt, .key                 as a stacked member's
    admin.conf                              kubernetes-admin in system:masters (the user's kubeconfig)
    controller-manager.conf, scheduler.conf, dns.conf
                                            one identity per master component
and on each node:
    pki/ca.crt
    pki/kubelet.crt, .key                   the kubelet's serving certificate (CN=system:node:<name>,
                                            O=system:nodes; the node's address and name), which the
                                            API server checks when it calls the kubelet
    kubelet.conf, proxy.conf, network-agent.conf

Every kubeconfig embeds its CA, certificate and key. Keys and kubeconfigs are
mode 0600. `ensure_*` make what is missing and re-issue what no longer fits: a
certificate within `renew_before` of expiry, signed by another CA, for another
subject, or (the serving certificate) missing one of the names it must carry. So
running them at every start is the renewal. Joined nodes get their certificates
through CertificateSigningRequests instead (minik8s.cluster.join), because the CA
key stays on the master.
"""
from __future__ import annotations

import dataclasses
import datetime
import ipaddress
import pathlib
from collections.abc import Iterable, Sequence

from cryptography import x509

from minik8s.api import identities
from minik8s.client import kubeconfig as kubeconfig_mod
from minik8s.kubelet import servertls
from minik8s.util import pki

PKI_DIR = "pki"
DEFAULT_RENEW_BEFORE = datetime.timedelta(days=30)
SERVICE_ACCOUNT_ISSUER = "https://kubernetes.default.svc.cluster.local"


@dataclasses.dataclass(frozen=True)
class Identity:
    """Who a client certificate says its holder is."""

    user: str
    groups: tuple[str, ...] = ()


ADMIN = Identity(identities.ADMIN, (identities.MASTERS,))
# Master components: kubeconfig file name → identity.
MASTER_KUBECONFIGS: dict[str, Identity] = {
    "admin.conf": ADMIN,
    "controller-manager.conf": Identity(identities.CONTROLLER_MANAGER),
    "scheduler.conf": Identity(identities.SCHEDULER),
    "dns.conf": Identity(identities.DNS),
}
KUBELET_KUBECONFIG = "kubelet.conf"
PROXY_KUBECONFIG = "proxy.conf"
NETWORK_AGENT_KUBECONFIG = "network-agent.conf"


def node_identities(node_name: str) -> dict[str, Identity]:
    """A node's agents: kubeconfig file name → identity."""
    return {
        KUBELET_KUBECONFIG: Identity(identities.node_user(node_name), (identities.NODES,)),
        PROXY_KUBECONFIG: Identity(identities.PROXY),
        NETWORK_AGENT_KUBECONFIG: Identity(identities.NETWORK_AGENT),
    }


@dataclasses.dataclass(frozen=True)
class Paths:
    """Where the files of one config directory live."""

    config_dir: pathlib.Path

    @property
    def pki(self) -> pathlib.Path:
        return self.config_dir / PKI_DIR

    @property
    def ca_crt(self) -> pathlib.Path:
        return self.pki / "ca.crt"

    @property
    def ca_key(self) -> pathlib.Path:
        return self.pki / "ca.key"

    @property
    def apiserver_crt(self) -> pathlib.Path:
        return self.pki / "apiserver.crt"

    @property
    def apiserver_key(self) -> pathlib.Path:
        return self.pki / "apiserver.key"

    @property
    def kubelet_client_crt(self) -> pathlib.Path:
        return self.pki / "apiserver-kubelet-client.crt"

    @property
    def kubelet_client_key(self) -> pathlib.Path:
        return self.pki / "apiserver-kubelet-client.key"

    @property
    def kubelet_crt(self) -> pathlib.Path:
        return self.pki / "kubelet.crt"

    @property
    def kubelet_key(self) -> pathlib.Path:
        return self.pki / "kubelet.key"

    @property
    def sa_key(self) -> pathlib.Path:
        return self.pki / "sa.key"

    @property
    def sa_pub(self) -> pathlib.Path:
        return self.pki / "sa.pub"

    def kubeconfig(self, name: str) -> pathlib.Path:
        return self.config_dir / name

    @property
    def admin_conf(self) -> pathlib.Path:
        return self.config_dir / "admin.conf"


def paths(config_dir: str | pathlib.Path) -> Paths:
    return Paths(pathlib.Path(config_dir))


@dataclasses.dataclass(frozen=True)
class CA:
    key: pki.PrivateKey
    cert: x509.Certificate

    @property
    def cert_pem(self) -> bytes:
        return pki.cert_pem(self.cert)

    @property
    def hash(self) -> str:
        return pki.spki_sha256(self.cert)

    def issue(self, identity: Identity, *, now: datetime.datetime | None = None,
              days: int = pki.LEAF_DAYS) -> tuple[bytes, bytes]:
        """(certificate PEM, key PEM) for a client `identity`."""
        key = pki.new_key()
        cert = pki.issue(self.key, self.cert, key.public_key(),
                         pki.CertSpec(identity.user, identity.groups, days=days), now)
        return pki.cert_pem(cert), pki.key_pem(key)


Actions = list[str]


def load_ca(config_dir: str | pathlib.Path) -> CA:
    p = paths(config_dir)
    try:
        return CA(pki.load_key(p.ca_key.read_bytes()), pki.load_cert(p.ca_crt.read_bytes()))
    except OSError as e:
        raise pki.PKIError(f"cannot read the cluster CA in {p.pki}: {e.strerror}") from None


def load_ca_cert(config_dir: str | pathlib.Path) -> x509.Certificate:
    p = paths(config_dir)
    try:
        return pki.load_cert(p.ca_crt.read_bytes())
    except OSError as e:
        raise pki.PKIError(f"cannot read {p.ca_crt}: {e.strerror}") from None


def ensure_ca(config_dir: str | pathlib.Path, actions: Actions, *,
              renew_before: datetime.timedelta = DEFAULT_RENEW_BEFORE) -> CA:
    """The cluster CA, made if there is none. It is never replaced here: a new CA
    would lock out every node that joined with the old one."""
    p = paths(config_dir)
    if p.ca_crt.exists() or p.ca_key.exists():
        ca = load_ca(config_dir)
        if not pki.same_public_key(ca.cert, ca.key):
            raise pki.PKIError(f"{p.ca_key} is not the key of {p.ca_crt}")
        left = pki.remaining(ca.cert)
        if left < renew_before:
            actions.append(f"warning: the cluster CA expires in {max(left.days, 0)} days "
                           f"({ca.cert.not_valid_after_utc:%Y-%m-%d}); a new CA means re-joining every node")
        return ca
    key, cert = pki.make_ca()
    pki.write_private(p.ca_key, pki.key_pem(key))
    pki.write_public(p.ca_crt, pki.cert_pem(cert))
    actions.append(f"made the cluster CA {p.ca_crt} ({pki.spki_sha256(cert)})")
    return CA(key, cert)


def _why_reissue(cert_path: pathlib.Path, key_path: pathlib.Path, ca: CA, spec: pki.CertSpec,
                 renew_before: datetime.timedelta, now: datetime.datetime) -> str | None:
    """Why the certificate at `cert_path` must be made again, or None if it fits."""
    if not cert_path.exists() or not key_path.exists():
        return "missing"
    try:
        cert = pki.load_cert(cert_path.read_bytes())
        key = pki.load_key(key_path.read_bytes())
    except (OSError, pki.PKIError) as e:
        return f"unreadable ({e})"
    return _why_cert(cert, key, ca, spec, renew_before, now)


def _why_cert(cert: x509.Certificate, key: pki.PrivateKey, ca: CA, spec: pki.CertSpec,
              renew_before: datetime.timedelta, now: datetime.datetime) -> str | None:
    if not pki.same_public_key(cert, key):
        return "its key does not match"
    if not pki.signed_by(cert, ca.cert):
        return "signed by another CA"
    if pki.subject(cert.subject) != (spec.common_name, spec.organizations):
        return "for another subject"
    dns, ips = pki.sans(cert)
    missing = (set(spec.dns_names) - dns) | (set(spec.ip_addresses) - ips)
    if missing:
        return f"missing the names {', '.join(sorted(missing))}"
    left = pki.remaining(cert, now)
    if left < renew_before:
        return f"expires in {max(left.days, 0)} days" if left.total_seconds() > 0 else "expired"
    return None


def ensure_cert(cert_path: pathlib.Path, key_path: pathlib.Path, ca: CA, spec: pki.CertSpec, actions: Actions, *,
                renew_before: datetime.timedelta = DEFAULT_RENEW_BEFORE,
                now: datetime.datetime | None = None) -> None:
    now = now or pki.utcnow()
    why = _why_reissue(cert_path, key_path, ca, spec, renew_before, now)
    if why is None:
        return
    key = pki.new_key()
    cert = pki.issue(ca.key, ca.cert, key.public_key(), spec, now)
    pki.write_private(key_path, pki.key_pem(key))
    pki.write_public(cert_path, pki.cert_pem(cert))
    actions.append(f"{'made' if why == 'missing' else 'renewed'} {cert_path}"
                   + ("" if why == "missing" else f" ({why})"))


def serving_spec(addresses: Iterable[str], service_ip: str, cluster_domain: str = "cluster.local",
                 extra_sans: Iterable[str] = ()) -> pki.CertSpec:
    """The API server's certificate: every name a client may reach it by."""
    dns, ips = pki.split_names(["127.0.0.1", "localhost", "kubernetes", "kubernetes.default",
                                "kubernetes.default.svc", f"kubernetes.default.svc.{cluster_domain}",
                                *addresses, service_ip, *extra_sans])
    return pki.CertSpec("kube-apiserver", dns_names=dns, ip_addresses=ips, client=False, server=True)


def first_service_ip(service_cidr: str) -> str:
    """The `kubernetes` Service's ClusterIP: the range's first address (as the API server allocates it)."""
    return str(ipaddress.ip_network(service_cidr, strict=False).network_address + 1)


def ensure_sa_keys(config_dir: str | pathlib.Path, actions: Actions) -> None:
    p = paths(config_dir)
    if p.sa_key.exists() and p.sa_pub.exists():
        try:
            key = pki.load_key(p.sa_key.read_bytes())
            pub = pki.load_public_key(p.sa_pub.read_bytes())
        except (OSError, pki.PKIError):
            pass
        else:
            if pki.public_key_pem(key.public_key()) == pki.public_key_pem(pub):
                return
    key = pki.new_rsa_key()
    pki.write_private(p.sa_key, pki.key_pem(key))
    pki.write_public(p.sa_pub, pki.public_key_pem(key.public_key()))
    actions.append(f"made the ServiceAccount signing key pair {p.sa_key}")


def ensure_kubeconfig(path: pathlib.Path, ca: CA, server: str, identity: Identity, actions: Actions, *,
                      context: str = "minik8s", renew_before: datetime.timedelta = DEFAULT_RENEW_BEFORE,
                      now: datetime.datetime | None = None, servers: Sequence[str] = ()) -> None:
    """A kubeconfig for `identity` at `server`, with the CA, certificate and key embedded;
    with several `servers` (`server` among them) it lists them all for client failover.
    Without `servers` (`certs renew`, which does not know the masters) the file's list is kept."""
    now = now or pki.utcnow()
    if not servers:
        servers = _listed_servers(path)
    spec = pki.CertSpec(identity.user, identity.groups)
    why = kubeconfig_needs(path, ca, server, spec, renew_before, now, servers)
    if why is None:
        return
    cert, key = ca.issue(identity, now=now)
    write_kubeconfig(path, server, ca.cert_pem, cert, key, context=context, servers=servers)
    actions.append(f"{'wrote' if why == 'missing' else 'renewed'} {path} ({identity.user})"
                   + ("" if why == "missing" else f": {why}"))


def _listed_servers(path: pathlib.Path) -> tuple[str, ...]:
    try:
        return kubeconfig_mod.load(path).servers
    except (kubeconfig_mod.KubeconfigError, OSError, KeyError):
        return ()


def kubeconfig_needs(path: pathlib.Path, ca: CA, server: str, spec: pki.CertSpec, renew_before: datetime.timedelta,
                     now: datetime.datetime, servers: Sequence[str] = ()) -> str | None:
    if not path.exists():
        return "missing"
    try:
        access = kubeconfig_mod.load(path)
        if access.cert is None or access.key is None:
            return "no client certificate"
        cert = pki.load_cert(access.cert)
        key = pki.load_key(access.key)
    except (kubeconfig_mod.KubeconfigError, pki.PKIError, OSError, KeyError) as e:
        return f"unreadable ({e})"
    if access.server != server.rstrip("/"):
        return f"server was {access.server}"
    if len(servers) > 1 and set(access.servers) != {s.rstrip("/") for s in servers}:
        return f"servers were {', '.join(access.servers) or access.server}"
    if len(servers) <= 1 and access.servers:
        return "listed several servers"
    if access.ca != ca.cert_pem:
        return "another CA"
    return _why_cert(cert, key, ca, spec, renew_before, now)


def write_kubeconfig(path: pathlib.Path, server: str, ca: bytes, cert: bytes, key: bytes, *,
                     context: str = "minik8s", servers: Sequence[str] = ()) -> None:
    """One self-contained kubeconfig (replacing the file: these are the components' own)."""
    if path.exists():
        path.unlink()
    kubeconfig_mod.write_context(path, context, server, ca=ca, cert=cert, key=key, servers=servers)


def ensure_master(config_dir: str | pathlib.Path, *, server: str, addresses: Sequence[str], service_cidr: str,
                  cluster_domain: str = "cluster.local", extra_sans: Sequence[str] = (),
                  renew_before: datetime.timedelta = DEFAULT_RENEW_BEFORE,
                  servers: Sequence[str] = ()) -> tuple[CA, Actions]:
    """Everything the master's components need; what was made or renewed. `servers`: every
    master's API server, listed in the kubeconfigs for failover (`server` first)."""
    actions: Actions = []
    p = paths(config_dir)
    ca = ensure_ca(config_dir, actions, renew_before=renew_before)
    ensure_cert(p.apiserver_crt, p.apiserver_key, ca,
                serving_spec(addresses, first_service_ip(service_cidr), cluster_domain, extra_sans), actions,
                renew_before=renew_before)
    ensure_cert(p.kubelet_client_crt, p.kubelet_client_key, ca,
                pki.CertSpec(identities.APISERVER_KUBELET_CLIENT), actions,
                renew_before=renew_before)
    ensure_sa_keys(config_dir, actions)
    for name, identity in MASTER_KUBECONFIGS.items():
        ensure_kubeconfig(p.kubeconfig(name), ca, server, identity, actions, renew_before=renew_before,
                          servers=servers)
    return ca, actions


def ensure_node(config_dir: str | pathlib.Path, ca: CA, *, node_name: str, node_ip: str, server: str,
                renew_before: datetime.timedelta = DEFAULT_RENEW_BEFORE, servers: Sequence[str] = ()) -> Actions:
    """A node's credentials, issued directly with the CA at hand (`up`, `cluster up`)."""
    actions: Actions = []
    p = paths(config_dir)
    if not p.ca_crt.exists() or p.ca_crt.read_bytes() != ca.cert_pem:
        pki.write_public(p.ca_crt, ca.cert_pem)
    ensure_cert(p.kubelet_crt, p.kubelet_key, ca, servertls.serving_spec(node_name, [node_ip]), actions,
                renew_before=renew_before)
    for name, identity in node_identities(node_name).items():
        ensure_kubeconfig(p.kubeconfig(name), ca, server, identity, actions, renew_before=renew_before,
                          servers=servers)
    return actions


ETCD_PEER_CN = "minik8s-etcd-peer"
ETCD_PEER_CRT = "etcd-peer.crt"
ETCD_PEER_KEY = "etcd-peer.key"
ETCD_CA_CN = "minik8s-etcd-ca"
ETCD_CA_CRT = "etcd-ca.crt"
ETCD_CA_KEY = "etcd-ca.key"


def ensure_etcd_ca(config_dir: str | pathlib.Path, actions: Actions) -> CA:
    """The etcd peers' CA, made if there is none.

    Not the cluster CA: that one signs every component's and node's client certificate
    (nodes get theirs through CSRs), and etcd 3.4 accepts any client certificate its
    trusted CA signed whose SANs do not contradict the peer's address (certificates
    without SANs pass), and cannot restrict the CN from its config file. A CA that signs
    nothing but etcd's certificates makes "signed by it" mean "a member", or, with external
    etcd, also "an API server" (apiserver-etcd-client, as kubeadm's etcd/ca signs it): a
    holder that can already read and write all of etcd's data through the client port."""
    p = paths(config_dir)
    crt, key_path = p.pki / ETCD_CA_CRT, p.pki / ETCD_CA_KEY
    if crt.exists() or key_path.exists():
        try:
            ca = CA(pki.load_key(key_path.read_bytes()), pki.load_cert(crt.read_bytes()))
        except OSError as e:
            raise pki.PKIError(f"cannot read the etcd CA in {p.pki}: {e.strerror}") from None
        if not pki.same_public_key(ca.cert, ca.key):
            raise pki.PKIError(f"{key_path} is not the key of {crt}")
        return ca
    key, cert = pki.make_ca(ETCD_CA_CN)
    pki.write_private(key_path, pki.key_pem(key))
    pki.write_public(crt, pki.cert_pem(cert))
    actions.append(f"made the etcd peers' CA {crt}")
    return CA(key, cert)


def etcd_peer_spec(address: str) -> pki.CertSpec:
    """An etcd member's peer certificate: etcd presents it both as the server of its peer
    port and as a client towards the other members, and checks that a peer's client
    certificate names the address it connects from, so it is for both and for `address`."""
    return pki.CertSpec(ETCD_PEER_CN, ip_addresses=(address,), client=True, server=True)


ETCD_SERVER_CRT = "etcd-server.crt"
ETCD_SERVER_KEY = "etcd-server.key"
ETCD_CLIENT_CN = "kube-apiserver-etcd-client"  # kubeadm's
ETCD_CLIENT_CRT = "apiserver-etcd-client.crt"
ETCD_CLIENT_KEY = "apiserver-etcd-client.key"


# A VM master's etcd serving certificate's name (an external member's is the member's name).
VM_ETCD_SERVER_CN = "minik8s-etcd-server"


def etcd_server_spec(name: str, address: str) -> pki.CertSpec:
    """An etcd member's client-port certificate (an external member's, a VM master's). Also a
    client one: etcd 3.4's gRPC gateway dials the member's own TLS port with it, hence
    127.0.0.1 and localhost too."""
    dns, ips = pki.split_names([name, "localhost", address, "127.0.0.1"])
    return pki.CertSpec(name, dns_names=dns, ip_addresses=ips, client=True, server=True)


def ensure_etcd_client(config_dir: str | pathlib.Path, actions: Actions, *,
                       renew_before: datetime.timedelta = DEFAULT_RENEW_BEFORE) -> None:
    """apiserver-etcd-client (made with the etcd CA in `config_dir`): what the API servers, and
    `minik8s etcd` and `cluster status` on the host, present to an external etcd cluster."""
    p = paths(config_dir)
    ca = ensure_etcd_ca(config_dir, actions)
    ensure_cert(p.pki / ETCD_CLIENT_CRT, p.pki / ETCD_CLIENT_KEY, ca, pki.CertSpec(ETCD_CLIENT_CN), actions,
                renew_before=renew_before)


def ensure_etcd_member(config_dir: str | pathlib.Path, cluster_dir: str | pathlib.Path, *, name: str, address: str,
                       renew_before: datetime.timedelta = DEFAULT_RENEW_BEFORE) -> Actions:
    """An external etcd member's files: the etcd CA's certificate (the CA key stays in
    `cluster_dir`, which signs), its serving and its peer certificate."""
    actions: Actions = []
    ca = ensure_etcd_ca(cluster_dir, actions)
    dst = paths(config_dir)
    dst.pki.mkdir(parents=True, exist_ok=True)
    crt = dst.pki / ETCD_CA_CRT
    if not crt.exists() or crt.read_bytes() != ca.cert_pem:
        pki.write_public(crt, ca.cert_pem)
    ensure_cert(dst.pki / ETCD_SERVER_CRT, dst.pki / ETCD_SERVER_KEY, ca, etcd_server_spec(name, address), actions,
                renew_before=renew_before)
    ensure_cert(dst.pki / ETCD_PEER_CRT, dst.pki / ETCD_PEER_KEY, ca, etcd_peer_spec(address), actions,
                renew_before=renew_before)
    return actions


def ensure_master_member(config_dir: str | pathlib.Path, cluster_dir: str | pathlib.Path, *, server: str,
                         address: str, servers: Sequence[str], service_cidr: str,
                         cluster_domain: str = "cluster.local",
                         renew_before: datetime.timedelta = DEFAULT_RENEW_BEFORE,
                         external_etcd: bool = False) -> Actions:
    """One master of several: the cluster's CA, the etcd CA and the ServiceAccount keys (made in
    `cluster_dir`) copied in, as kubeadm copies them to each control-plane machine, then its
    own serving certificate (its address), kubeconfigs (its own API server first) and etcd
    peer certificate; with `external_etcd` instead of the peer certificate its API server's
    etcd client certificate."""
    src, dst = paths(cluster_dir), paths(config_dir)
    actions: Actions = []
    ensure_etcd_ca(cluster_dir, actions)
    dst.pki.mkdir(parents=True, exist_ok=True)
    for a, b, private in ((src.ca_crt, dst.ca_crt, False), (src.ca_key, dst.ca_key, True),
                          (src.sa_key, dst.sa_key, True), (src.sa_pub, dst.sa_pub, False),
                          (src.pki / ETCD_CA_CRT, dst.pki / ETCD_CA_CRT, False),
                          (src.pki / ETCD_CA_KEY, dst.pki / ETCD_CA_KEY, True)):
        data = a.read_bytes()
        if not b.exists() or b.read_bytes() != data:
            (pki.write_private if private else pki.write_public)(b, data)
    _, made = ensure_master(config_dir, server=server, addresses=[address], service_cidr=service_cidr,
                            cluster_domain=cluster_domain, renew_before=renew_before, servers=servers)
    actions += made
    if external_etcd:
        ensure_etcd_client(config_dir, actions, renew_before=renew_before)
        return actions
    etcd_ca = ensure_etcd_ca(config_dir, actions)
    ensure_cert(dst.pki / ETCD_PEER_CRT, dst.pki / ETCD_PEER_KEY, etcd_ca, etcd_peer_spec(address), actions,
                renew_before=renew_before)
    return actions


def ensure_etcd_member_certs(config_dir: str | pathlib.Path, address: str, *,
                             renew_before: datetime.timedelta = DEFAULT_RENEW_BEFORE) -> Actions:
    """A VM master's etcd certificates (kubeadm's etcd/ca, peer, server and apiserver-etcd-client):
    the etcd CA made if missing (the first master) or used as copied (a joining one)."""
    actions: Actions = []
    d = paths(config_dir).pki
    etcd_ca = ensure_etcd_ca(config_dir, actions)
    ensure_cert(d / ETCD_PEER_CRT, d / ETCD_PEER_KEY, etcd_ca, etcd_peer_spec(address), actions,
                renew_before=renew_before)
    ensure_cert(d / ETCD_SERVER_CRT, d / ETCD_SERVER_KEY, etcd_ca, etcd_server_spec(VM_ETCD_SERVER_CN, address), actions,
                renew_before=renew_before)
    ensure_cert(d / ETCD_CLIENT_CRT, d / ETCD_CLIENT_KEY, etcd_ca, pki.CertSpec(ETCD_CLIENT_CN), actions,
                renew_before=renew_before)
    return actions


def expirations(config_dir: str | pathlib.Path) -> list[tuple[str, str, datetime.datetime | None]]:
    """(file, subject, not-after) of every certificate in a config directory, for `minik8s certs`."""
    p = paths(config_dir)
    out: list[tuple[str, str, datetime.datetime | None]] = []
    for crt in sorted(p.pki.glob("*.crt")) if p.pki.is_dir() else []:
        try:
            cert = pki.load_cert(crt.read_bytes())
        except (OSError, pki.PKIError):
            out.append((str(crt), "unreadable", None))
            continue
        out.append((str(crt), _describe(cert), cert.not_valid_after_utc))
    for conf in sorted(p.config_dir.glob("*.conf")) if p.config_dir.is_dir() else []:
        try:
            access = kubeconfig_mod.load(conf)
            client_cert = pki.load_cert(access.cert) if access.cert else None
        except (OSError, kubeconfig_mod.KubeconfigError, pki.PKIError):
            out.append((str(conf), "unreadable", None))
            continue
        if client_cert is not None:
            out.append((str(conf), _describe(client_cert), client_cert.not_valid_after_utc))
    return out


def _describe(cert: x509.Certificate) -> str:
    cn, orgs = pki.subject(cert.subject)
    return f"CN={cn}" + "".join(f",O={o}" for o in orgs)
