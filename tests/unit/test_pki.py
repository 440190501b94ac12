"""The PKI primitives (minik8s.util.pki) and the cluster layout with its renewal (minik8s.cluster.pki)."""
from __future__ import annotations

import datetime
import hashlib
import os
import pathlib
import stat

import pytest
from cryptography.hazmat.primitives import serialization

from minik8s.api import identities
from minik8s.client import kubeconfig
from minik8s.cluster import pki as cluster_pki
from minik8s.util import pki

DAY = datetime.timedelta(days=1)


def test_issue_leaf_client_certificate_says_who_and_chains_to_the_ca() -> None:
    ca_key, ca_cert = pki.make_ca()
    key = pki.new_key()
    cert = pki.issue(ca_key, ca_cert, key.public_key(), pki.CertSpec("system:node:n1", ("system:nodes",)))
    assert pki.subject(cert.subject) == ("system:node:n1", ("system:nodes",))
    assert pki.signed_by(cert, ca_cert)
    assert pki.extended_key_usages(cert) == {"client"}
    other_key, other_ca = pki.make_ca("other")
    assert not pki.signed_by(cert, other_ca)
    assert pki.same_public_key(cert, key) and not pki.same_public_key(cert, other_key)


def test_a_leaf_never_outlives_its_ca() -> None:
    now = pki.utcnow()
    ca_key, ca_cert = pki.make_ca(days=10, now=now)
    cert = pki.issue(ca_key, ca_cert, pki.new_key().public_key(), pki.CertSpec("u", days=365), now)
    assert cert.not_valid_after_utc == ca_cert.not_valid_after_utc


def test_serving_certificate_carries_every_name() -> None:
    spec = cluster_pki.serving_spec(["172.31.0.1", "master.example"], "10.96.0.1", extra_sans=["10.0.0.5"])
    ca_key, ca_cert = pki.make_ca()
    cert = pki.issue(ca_key, ca_cert, pki.new_key().public_key(), spec)
    dns, ips = pki.sans(cert)
    assert ips == {"127.0.0.1", "172.31.0.1", "10.96.0.1", "10.0.0.5"}
    assert dns == {"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
                   "kubernetes.default.svc.cluster.local", "master.example"}
    assert pki.extended_key_usages(cert) == {"server"}


def test_ca_hash_is_kubeadms_sha256_of_the_subject_public_key_info() -> None:
    _, ca_cert = pki.make_ca()
    der = ca_cert.public_key().public_bytes(serialization.Encoding.DER,
                                            serialization.PublicFormat.SubjectPublicKeyInfo)
    assert pki.spki_sha256(ca_cert) == "sha256:" + hashlib.sha256(der).hexdigest()


def test_csr_round_trip_and_a_tampered_request_is_refused() -> None:
    key = pki.new_key()
    pem = pki.make_csr(key, "system:node:n2", ["system:nodes"])
    csr = pki.load_csr(pem)
    assert pki.subject(csr.subject) == ("system:node:n2", ("system:nodes",))
    with pytest.raises(pki.PKIError):
        pki.load_csr(b"-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n")


def test_private_files_are_0600_from_the_start(tmp_path: pathlib.Path) -> None:
    p = pki.write_private(tmp_path / "a" / "k.key", b"secret")
    assert stat.S_IMODE(os.stat(p).st_mode) == 0o600
    assert p.read_bytes() == b"secret"
    assert stat.S_IMODE(os.stat(pki.write_public(tmp_path / "c.crt", b"x")).st_mode) == 0o644


def _master(tmp_path: pathlib.Path, **kw: object) -> tuple[cluster_pki.CA, list[str]]:
    return cluster_pki.ensure_master(tmp_path, server="https://10.0.0.1:6443", addresses=["10.0.0.1"],
                                     service_cidr="10.96.0.0/12", **kw)  # type: ignore[arg-type]


def test_ensure_master_makes_everything_once(tmp_path: pathlib.Path) -> None:
    ca, actions = _master(tmp_path)
    p = cluster_pki.paths(tmp_path)
    for f in (p.ca_crt, p.ca_key, p.apiserver_crt, p.apiserver_key, p.sa_key, p.sa_pub, p.kubelet_client_crt):
        assert f.exists(), f
    for f in (p.ca_key, p.apiserver_key, p.sa_key, p.kubelet_client_key,
              *(p.kubeconfig(n) for n in cluster_pki.MASTER_KUBECONFIGS)):
        assert stat.S_IMODE(os.stat(f).st_mode) == 0o600, f
    admin = kubeconfig.load(p.admin_conf)
    assert admin.server == "https://10.0.0.1:6443" and admin.ca == ca.cert_pem
    assert admin.cert is not None
    assert pki.subject(pki.load_cert(admin.cert).subject) == (identities.ADMIN, (identities.MASTERS,))
    cm = kubeconfig.load(p.kubeconfig("controller-manager.conf"))
    assert cm.cert is not None
    assert pki.subject(pki.load_cert(cm.cert).subject) == (identities.CONTROLLER_MANAGER, ())
    again_ca, again = _master(tmp_path)
    assert again == [] and again_ca.cert == ca.cert


def test_renewal_reissues_what_is_close_to_expiry_and_keeps_the_ca(tmp_path: pathlib.Path) -> None:
    ca, _ = _master(tmp_path)
    p = cluster_pki.paths(tmp_path)
    # Re-issue the serving certificate and the scheduler's as if made 350 days ago (15 days left).
    past = pki.utcnow() - 350 * DAY
    p.apiserver_crt.unlink()
    cluster_pki.ensure_cert(p.apiserver_crt, p.apiserver_key, ca,
                            cluster_pki.serving_spec(["10.0.0.1"], "10.96.0.1"), [], now=past)
    old_serial = pki.load_cert(p.apiserver_crt.read_bytes()).serial_number
    p.kubeconfig("scheduler.conf").unlink()
    cluster_pki.ensure_kubeconfig(p.kubeconfig("scheduler.conf"), ca, "https://10.0.0.1:6443",
                                  cluster_pki.MASTER_KUBECONFIGS["scheduler.conf"], [], now=past)
    # 30 days (the default) catches both; a 10-day window catches neither.
    _, none = _master(tmp_path, renew_before=datetime.timedelta(days=10))
    assert none == []
    ca2, actions = _master(tmp_path)
    assert ca2.cert == ca.cert
    assert any("renewed" in a and "apiserver.crt" in a for a in actions), actions
    assert any("renewed" in a and "scheduler.conf" in a for a in actions), actions
    assert pki.load_cert(p.apiserver_crt.read_bytes()).serial_number != old_serial
    assert pki.remaining(pki.load_cert(p.apiserver_crt.read_bytes())) > 300 * DAY


def test_a_new_advertise_address_reissues_the_serving_certificate(tmp_path: pathlib.Path) -> None:
    _master(tmp_path)
    _, actions = cluster_pki.ensure_master(tmp_path, server="https://10.0.0.1:6443",
                                           addresses=["10.0.0.1", "10.0.0.2"], service_cidr="10.96.0.0/12")
    assert any("missing the names 10.0.0.2" in a for a in actions), actions
    _, ips = pki.sans(pki.load_cert(cluster_pki.paths(tmp_path).apiserver_crt.read_bytes()))
    assert "10.0.0.2" in ips


def test_node_credentials_per_agent(tmp_path: pathlib.Path) -> None:
    ca, _ = _master(tmp_path / "master")
    node_dir = tmp_path / "node"
    cluster_pki.ensure_node(node_dir, ca, node_name="node7", node_ip="10.0.0.7", server="https://10.0.0.1:6443")
    users = {}
    for name in (cluster_pki.KUBELET_KUBECONFIG, cluster_pki.PROXY_KUBECONFIG, cluster_pki.NETWORK_AGENT_KUBECONFIG):
        access = kubeconfig.load(node_dir / name)
        assert access.cert is not None
        users[name] = pki.subject(pki.load_cert(access.cert).subject)
    assert users == {"kubelet.conf": ("system:node:node7", ("system:nodes",)),
                     "proxy.conf": ("system:kube-proxy", ()),
                     "network-agent.conf": ("system:network-agent", ())}
    assert (node_dir / "pki" / "ca.crt").read_bytes() == ca.cert_pem
    assert not (node_dir / "pki" / "ca.key").exists()
    # The kubelet's serving certificate: the node's name and address, for servers only.
    serving = pki.load_cert((node_dir / "pki" / "kubelet.crt").read_bytes())
    assert pki.subject(serving.subject) == ("system:node:node7", ("system:nodes",))
    assert pki.sans(serving) == ({"node7"}, {"10.0.0.7"})
    assert pki.extended_key_usages(serving) == {"server"} and pki.signed_by(serving, ca.cert)
    assert stat.S_IMODE((node_dir / "pki" / "kubelet.key").stat().st_mode) == 0o600
    # A new address is a new certificate; the same one keeps it.
    cluster_pki.ensure_node(node_dir, ca, node_name="node7", node_ip="10.0.0.7", server="https://10.0.0.1:6443")
    assert pki.load_cert((node_dir / "pki" / "kubelet.crt").read_bytes()).serial_number == serving.serial_number
    actions = cluster_pki.ensure_node(node_dir, ca, node_name="node7", node_ip="10.0.0.8",
                                      server="https://10.0.0.1:6443")
    assert any("kubelet.crt" in a and "10.0.0.8" in a for a in actions), actions


def test_a_kubeconfig_from_another_ca_is_replaced(tmp_path: pathlib.Path) -> None:
    ca, _ = _master(tmp_path / "a")
    other, _ = _master(tmp_path / "b")
    conf = tmp_path / "x.conf"
    ident = cluster_pki.MASTER_KUBECONFIGS["dns.conf"]
    cluster_pki.ensure_kubeconfig(conf, other, "https://10.0.0.1:6443", ident, [])
    actions: list[str] = []
    cluster_pki.ensure_kubeconfig(conf, ca, "https://10.0.0.1:6443", ident, actions)
    assert actions and kubeconfig.load(conf).ca == ca.cert_pem
