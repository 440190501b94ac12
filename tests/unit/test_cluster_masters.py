"""Several masters (`cluster up --masters N --etcd stacked`): addresses, etcd members, PKI.

What a multi-master local cluster is made of, checked without starting anything: each
master's address and names, its etcd member's config (clients on loopback, peers over
TLS with client certificates), and its credentials (serving certificate for its
address, kubeconfigs listing every master, its own first).
"""
from __future__ import annotations

import pathlib

import pytest
from click.testing import CliRunner

from minik8s.cli import main as cli_main
from minik8s.client import kubeconfig
from minik8s.cluster import host
from minik8s.cluster import master
from minik8s.cluster import pki
from minik8s.cluster import spec
from minik8s.util import pki as pki_util

cli_main._register()  # the subcommands, as `minik8s` itself registers them


def _plan(state_dir: str = "/tmp/x", **kw: object) -> spec.ClusterSpec:
    args: dict = dict(name="ha", state_dir=state_dir, nodes=1, subnet="172.31.5.0/24", api_port=6443,
                      etcd_client_port=2379, etcd_peer_port=2380, masters=3)
    args.update(kw)
    return spec.plan(**args)


def test_one_master_is_the_host_master_as_before() -> None:
    s = _plan(masters=1)
    assert s.masters == () and not s.multi_master
    assert s.server == "https://172.31.5.1:6443" and s.servers == [s.server]


def test_master_addresses_names_and_servers(tmp_path: pathlib.Path) -> None:
    s = _plan()
    assert [(m.name, m.ip) for m in s.masters] == [("master1", "172.31.5.2"), ("master2", "172.31.5.3"),
                                                   ("master3", "172.31.5.4")]
    assert s.master_ip == "172.31.5.1", "the bridge stays the nodes' gateway"
    assert s.server == "https://172.31.5.2:6443"
    assert s.servers == ["https://172.31.5.2:6443", "https://172.31.5.3:6443", "https://172.31.5.4:6443"]
    m2 = master.Member(s, s.master("master2"))
    assert m2.ns == "mk8s-ha-master2" and m2.veth == "mk-ha-m2"
    assert m2.servers[0] == "https://172.31.5.3:6443" and sorted(m2.servers) == sorted(s.servers)
    assert all(master.Member(s, m).components[-1] == "dns" for m in s.masters), "a DNS server on every master"
    with pytest.raises(host.ClusterError, match="no master 'master9'"):
        s.master("master9")
    # Round trip through cluster.json.
    s = _plan(str(tmp_path))
    s.save()
    assert spec.ClusterSpec.load(str(tmp_path)) == s


@pytest.mark.parametrize(("kw", "message"), [
    (dict(masters=8), "--masters must be 1 to 7"),
    (dict(etcd="external", etcd_members=8), "--etcd-members must be 1 to 7"),
    (dict(etcd_members=3), "--etcd-members goes with --etcd external"),
    (dict(etcd="external", subnet="172.31.5.0/28", nodes=3), "too small for 3 nodes and 3 etcd members"),
    (dict(etcd="nope"), "--etcd must be one of"),
    (dict(name="abcdefghi", masters=10), "--masters must be"),
])
def test_refused_plans(kw: dict, message: str) -> None:
    with pytest.raises(host.Refused, match=message):
        _plan(**kw)


def test_stacked_member_config() -> None:
    s = _plan()
    m = master.Member(s, s.master("master2"))
    cfg = m.master_config()
    etcd = master.config.master_files(cfg)["etcd.yaml"]
    assert etcd["name"] == "master2"
    assert etcd["listen-client-urls"] == etcd["advertise-client-urls"] == "http://127.0.0.1:2379", \
        "clients (its API server) only on the namespace's loopback"
    assert etcd["listen-peer-urls"] == etcd["initial-advertise-peer-urls"] == "https://172.31.5.3:2380"
    assert etcd["initial-cluster"] == ("master1=https://172.31.5.2:2380,master2=https://172.31.5.3:2380,"
                                       "master3=https://172.31.5.4:2380")
    assert etcd["initial-cluster-token"] == "minik8s-ha"
    tls = etcd["peer-transport-security"]
    assert tls["client-cert-auth"] is True
    assert tls["cert-file"] == f"{m.paths.etc}/pki/etcd-peer.crt"
    assert tls["trusted-ca-file"] == f"{m.paths.etc}/pki/etcd-ca.crt", "not the cluster CA: it signs nodes' certs"
    api = master.config.master_files(cfg)["apiserver.yaml"]["apiserver"]
    assert api["etcd-endpoints"] == "http://127.0.0.1:2379"
    assert api["bind-address"] == api["advertise-address"] == "172.31.5.3"


def test_member_pki(tmp_path: pathlib.Path) -> None:
    s = _plan(str(tmp_path))
    ca, _ = master.ensure_pki(s)
    admin = kubeconfig.load(s.admin_kubeconfig)
    assert admin.server == s.server and list(admin.servers) == s.servers
    _, admin_sans = pki_util.sans(pki_util.load_cert(pki.paths(s.etc_dir).apiserver_crt.read_bytes()))
    assert {m.ip for m in s.masters} <= admin_sans

    m = master.Member(s, s.master("master3"))
    actions = m.ensure_pki()
    assert actions
    p = pki.paths(m.paths.etc)
    assert p.ca_crt.read_bytes() == ca.cert_pem and p.ca_key.read_bytes() == pki.paths(s.etc_dir).ca_key.read_bytes()
    assert p.sa_pub.read_bytes() == pki.paths(s.etc_dir).sa_pub.read_bytes(), "one token signing key for all masters"
    _, ips = pki_util.sans(pki_util.load_cert(p.apiserver_crt.read_bytes()))
    assert "172.31.5.4" in ips
    cm = kubeconfig.load(p.kubeconfig("controller-manager.conf"))
    assert cm.server == "https://172.31.5.4:6443" and cm.servers[0] == cm.server
    assert sorted(cm.servers) == sorted(s.servers)
    peer = pki_util.load_cert((p.pki / pki.ETCD_PEER_CRT).read_bytes())
    assert pki_util.subject(peer.subject) == (pki.ETCD_PEER_CN, ())
    assert pki_util.extended_key_usages(peer) == {"client", "server"}
    assert pki_util.sans(peer)[1] == {"172.31.5.4"}
    etcd_ca = pki_util.load_cert((p.pki / pki.ETCD_CA_CRT).read_bytes())
    assert pki_util.signed_by(peer, etcd_ca) and not pki_util.signed_by(peer, ca.cert)
    assert (p.pki / pki.ETCD_CA_CRT).read_bytes() == (pki.paths(s.etc_dir).pki / pki.ETCD_CA_CRT).read_bytes(), \
        "one etcd CA for every member"
    assert m.ensure_pki() == [], "a second run finds everything in place"


def test_node_kubeconfigs_list_every_master(tmp_path: pathlib.Path) -> None:
    s = _plan(str(tmp_path))
    ca, _ = master.ensure_pki(s)
    pki.ensure_node(tmp_path / "node", ca, node_name="node1", node_ip="172.31.0.21", server=s.server,
                    servers=s.servers)
    kubelet = kubeconfig.load(tmp_path / "node" / pki.KUBELET_KUBECONFIG)
    assert list(kubelet.servers) == s.servers
    # Renewal that does not know the masters (`certs renew`) keeps the list.
    assert pki.ensure_node(tmp_path / "node", ca, node_name="node1", node_ip="172.31.0.21", server=s.server) == []
    assert list(kubeconfig.load(tmp_path / "node" / pki.KUBELET_KUBECONFIG).servers) == s.servers
    # One server named: the list goes (the file is re-issued).
    actions = pki.ensure_node(tmp_path / "node", ca, node_name="node1", node_ip="172.31.0.21", server=s.server, servers=[s.server])
    assert actions and kubeconfig.load(tmp_path / "node" / pki.KUBELET_KUBECONFIG).servers == ()


def test_cli_refuses_etcd_members_without_external_before_touching_the_host(tmp_path: pathlib.Path) -> None:
    result = CliRunner().invoke(cli_main.cli, ["cluster", "up", "--state-dir", str(tmp_path / "st"), "--masters", "3",
                                               "--etcd-members", "3"])
    assert result.exit_code != 0
    assert "--etcd-members goes with --etcd external" in result.output
    assert not (tmp_path / "st").exists()
