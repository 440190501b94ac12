"""External etcd (`cluster up --masters N --etcd external`): the etcd members' addresses and
names, their config (clients over TLS with client certificates on their own address), their
certificates, and the masters' API servers pointed at every member with the TLS flags;
plus the API server's and `minik8s etcd`'s checks of the etcd TLS options."""
from __future__ import annotations

import pathlib

import pytest
from click.testing import CliRunner

from minik8s.apiserver import etcdclient
from minik8s.cli import main as cli_main
from minik8s.cluster import host
from minik8s.cluster import master
from minik8s.cluster import pki
from minik8s.cluster import spec
from minik8s.util import pki as pki_util

cli_main._register()


def _plan(state_dir: str = "/tmp/x", **kw: object) -> spec.ClusterSpec:
    args: dict = dict(name="ha", state_dir=state_dir, nodes=2, subnet="172.31.5.0/24", api_port=6443,
                      etcd_client_port=2379, etcd_peer_port=2380, masters=3, etcd="external")
    args.update(kw)
    return spec.plan(**args)


def test_members_addresses_names_and_endpoints(tmp_path: pathlib.Path) -> None:
    s = _plan()
    assert s.external_etcd and s.multi_master
    assert [(e.name, e.ip) for e in s.etcd_members] == [("etcd1", "172.31.5.254"), ("etcd2", "172.31.5.253"),
                                                        ("etcd3", "172.31.5.252")]
    assert not {e.ip for e in s.etcd_members} & ({m.ip for m in s.masters} | {n.ip for n in s.nodes})
    assert s.etcd_endpoints == ["https://172.31.5.254:2379", "https://172.31.5.253:2379",
                                "https://172.31.5.252:2379"]
    e2 = master.EtcdMember(s, s.etcd_member("etcd2"))
    assert e2.ns == "mk8s-ha-etcd2" and e2.veth == "mk-ha-e2"
    assert e2.ns.startswith(spec.netns_prefix("ha")) and e2.veth.startswith("mk-ha-"), "down's sweep finds them"
    assert e2.paths.dir == pathlib.Path("/tmp/x/etcd-members/etcd2")
    assert e2.components == ("etcd",)
    with pytest.raises(host.ClusterError, match="no etcd member 'etcd9'"):
        s.etcd_member("etcd9")
    assert _plan(etcd_members=5).etcd_members[-1].ip == "172.31.5.250"
    assert _plan(etcd="stacked").etcd_members == () and _plan(etcd="stacked").etcd_endpoints == []
    s = _plan(str(tmp_path))
    s.save()
    assert spec.ClusterSpec.load(str(tmp_path)) == s


def test_one_master_over_external_etcd_is_a_namespace_of_its_own() -> None:
    """kubeadm's single control-plane node with an external etcd: the master cannot be the
    host's (that one runs its own etcd), so it is master1 in its namespace, with no etcd."""
    s = _plan(masters=1, etcd_members=1)
    assert s.external_etcd and s.multi_master
    assert [(m.name, m.ip) for m in s.masters] == [("master1", "172.31.5.2")]
    assert s.servers == [s.server] == ["https://172.31.5.2:6443"]
    m = master.Member(s, s.master("master1"))
    assert "etcd" not in m.components
    api = master.config.master_files(m.master_config())["apiserver.yaml"]["apiserver"]
    assert api["etcd-endpoints"] == "https://172.31.5.254:2379"


def test_member_config_serves_clients_over_tls() -> None:
    s = _plan()
    e = master.EtcdMember(s, s.etcd_member("etcd1"))
    doc = e.config_files()["etcd.yaml"]
    assert doc["name"] == "etcd1"
    assert doc["listen-client-urls"] == doc["advertise-client-urls"] == "https://172.31.5.254:2379"
    assert doc["listen-peer-urls"] == "https://172.31.5.254:2380"
    assert doc["initial-cluster"] == ("etcd1=https://172.31.5.254:2380,etcd2=https://172.31.5.253:2380,"
                                      "etcd3=https://172.31.5.252:2380")
    client = doc["client-transport-security"]
    assert client == {"cert-file": f"{e.paths.etc}/pki/etcd-server.crt", "key-file": f"{e.paths.etc}/pki/etcd-server.key",
                      "trusted-ca-file": f"{e.paths.etc}/pki/etcd-ca.crt", "client-cert-auth": True}
    assert doc["peer-transport-security"]["client-cert-auth"] is True
    assert doc["data-dir"] == str(e.paths.etcd)
    # --set etcd.X applies to external members as to stacked ones.
    s = _plan(overrides={"etcd": {"heartbeat-interval": 50}})
    assert master.EtcdMember(s, s.etcd_member("etcd1")).config_files()["etcd.yaml"]["heartbeat-interval"] == 50


def test_masters_run_no_etcd_and_their_api_servers_list_every_member() -> None:
    s = _plan()
    m = master.Member(s, s.master("master2"))
    assert "etcd" not in m.components and m.components[0] == "apiserver"
    assert "etcd" in master.Member(_plan(etcd="stacked"), s.master("master2")).components
    files = master.config.master_files(m.master_config())
    assert "etcd.yaml" not in files
    api = files["apiserver.yaml"]["apiserver"]
    eps = s.etcd_endpoints
    assert api["etcd-endpoints"] == ",".join([eps[1], eps[2], eps[0]]), "every member, master2 starting at etcd2"
    m1 = master.Member(s, s.master("master1"))
    assert master.config.master_files(m1.master_config())["apiserver.yaml"]["apiserver"]["etcd-endpoints"] \
        == ",".join(eps)
    assert api["etcd-cafile"] == f"{m.paths.etc}/pki/etcd-ca.crt"
    assert api["etcd-certfile"] == f"{m.paths.etc}/pki/apiserver-etcd-client.crt"
    assert api["etcd-keyfile"] == f"{m.paths.etc}/pki/apiserver-etcd-client.key"
    # The rendered options are ones `minik8s apiserver` takes.
    params = {p.name for p in cli_main.cli.commands["apiserver"].params}  # type: ignore[attr-defined]
    assert {"etcd_cafile", "etcd_certfile", "etcd_keyfile"} <= params


def test_pki(tmp_path: pathlib.Path) -> None:
    s = _plan(str(tmp_path))
    ca, _ = master.ensure_pki(s)
    e = master.EtcdMember(s, s.etcd_member("etcd3"))
    assert e.ensure_pki()
    etcd_ca = pki_util.load_cert((pki.paths(s.etc_dir).pki / pki.ETCD_CA_CRT).read_bytes())
    mine = pki.paths(e.paths.etc).pki
    assert (mine / pki.ETCD_CA_CRT).read_bytes() == pki_util.cert_pem(etcd_ca)
    assert not (mine / pki.ETCD_CA_KEY).exists(), "the etcd CA's key stays with the cluster"
    server = pki_util.load_cert((mine / pki.ETCD_SERVER_CRT).read_bytes())
    assert pki_util.signed_by(server, etcd_ca) and not pki_util.signed_by(server, ca.cert)
    dns, ips = pki_util.sans(server)
    assert {"172.31.5.252", "127.0.0.1"} <= ips and {"etcd3", "localhost"} <= dns
    assert "server" in pki_util.extended_key_usages(server)
    peer = pki_util.load_cert((mine / pki.ETCD_PEER_CRT).read_bytes())
    assert pki_util.sans(peer)[1] == {"172.31.5.252"}
    assert e.ensure_pki() == [], "a second run finds everything in place"

    m = master.Member(s, s.master("master1"))
    m.ensure_pki()
    mp = pki.paths(m.paths.etc).pki
    client = pki_util.load_cert((mp / pki.ETCD_CLIENT_CRT).read_bytes())
    assert pki_util.subject(client.subject) == ("kube-apiserver-etcd-client", ())
    assert pki_util.extended_key_usages(client) == {"client"}
    assert pki_util.signed_by(client, etcd_ca), "the members trust only the etcd CA"
    assert not (mp / pki.ETCD_PEER_CRT).exists(), "a master with external etcd is no etcd peer"
    # The host's tools (cluster status, `minik8s etcd`) have one too.
    ca_file, cert_file, key_file = master.etcd_client_files(s)
    assert pki_util.signed_by(pki_util.load_cert(pathlib.Path(cert_file).read_bytes()), etcd_ca)
    assert pathlib.Path(ca_file).read_bytes() == pki_util.cert_pem(etcd_ca) and pathlib.Path(key_file).exists()


# --- the etcd client's TLS options ----------------------------------------------------------


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    d = tmp_path_factory.mktemp("tls")
    ca_key, ca = pki_util.make_ca("t")
    key = pki_util.new_key()
    cert = pki_util.issue(ca_key, ca, key.public_key(), pki_util.CertSpec("c"))
    other = pki_util.new_key()
    out = {}
    for name, data in (("ca.crt", pki_util.cert_pem(ca)), ("c.crt", pki_util.cert_pem(cert)),
                       ("c.key", pki_util.key_pem(key)), ("other.key", pki_util.key_pem(other)),
                       ("junk.crt", b"not a certificate\n")):
        (d / name).write_bytes(data)
        out[name] = str(d / name)
    return out


def test_tls_options_that_work(files: dict[str, str]) -> None:
    etcdclient.TLS().check(["http://127.0.0.1:2379", "http://10.0.0.1:2379"])
    etcdclient.TLS(files["ca.crt"]).check(["https://10.0.0.1:2379"])
    etcdclient.TLS(files["ca.crt"], files["c.crt"], files["c.key"]).check(["https://10.0.0.1:2379",
                                                                          "https://10.0.0.2:2379"])


@pytest.mark.parametrize(("endpoints", "tls", "message"), [
    (["https://10.0.0.1:2379"], ("", "c.crt", "c.key"), "https etcd endpoints need --etcd-cafile"),
    (["https://10.0.0.1:2379"], ("", "", ""), "https etcd endpoints need --etcd-cafile"),
    (["http://10.0.0.1:2379", "https://10.0.0.2:2379"], ("ca.crt", "", ""), "mix http and https"),
    (["http://10.0.0.1:2379"], ("ca.crt", "c.crt", "c.key"), "are given but the etcd endpoints are plain http"),
    (["https://10.0.0.1:2379"], ("ca.crt", "c.crt", ""), "--etcd-certfile and --etcd-keyfile go together"),
    (["https://10.0.0.1:2379"], ("ca.crt", "", "c.key"), "--etcd-certfile and --etcd-keyfile go together"),
    (["https://10.0.0.1:2379"], ("/nonexistent/ca.crt", "", ""), "--etcd-cafile /nonexistent/ca.crt: no such file"),
    (["https://10.0.0.1:2379"], ("ca.crt", "/nope.crt", "c.key"), "--etcd-certfile /nope.crt: no such file"),
    (["https://10.0.0.1:2379"], ("junk.crt", "", ""), "not a PEM CA bundle"),
    (["https://10.0.0.1:2379"], ("ca.crt", "c.crt", "other.key"), "not a PEM certificate and its key"),
])
def test_tls_options_refused(files: dict[str, str], endpoints: list[str], tls: tuple[str, str, str],
                             message: str) -> None:
    paths = tuple(files.get(t, t) for t in tls)
    with pytest.raises(etcdclient.ConfigError, match=message):
        etcdclient.TLS(*paths).check(endpoints)


def test_apiserver_command_refuses_unusable_etcd_tls(files: dict[str, str]) -> None:
    result = CliRunner().invoke(cli_main.cli, ["apiserver", "--etcd-endpoints", "https://10.0.0.1:2379",
                                               "--etcd-certfile", files["c.crt"], "--etcd-keyfile", files["c.key"]])
    assert result.exit_code == 2 and "https etcd endpoints need --etcd-cafile" in result.output


def test_apiserver_config_is_checked_too(files: dict[str, str]) -> None:
    from minik8s.apiserver import server

    with pytest.raises(RuntimeError, match="etcd client options are unusable: .*no such file"):
        server.ApiServer(server.Config(etcd_endpoints=["https://10.0.0.1:2379"], etcd_cafile="/nonexistent"))


def test_etcd_cli_uses_etcdctl_names(files: dict[str, str]) -> None:
    result = CliRunner().invoke(cli_main.cli, ["etcd", "member", "list", "--endpoints", "https://10.0.0.1:2379",
                                               "--cert", files["c.crt"], "--key", files["c.key"]],
                                env={"ETCDCTL_CACERT": ""})
    assert result.exit_code == 2 and "https etcd endpoints need --cacert" in result.output
    result = CliRunner().invoke(cli_main.cli, ["etcd", "health", "--endpoints", "https://10.0.0.1:2379"],
                                env={"ETCDCTL_CACERT": files["ca.crt"], "ETCDCTL_CERT": files["c.crt"]})
    assert result.exit_code == 2 and "--cert and --key go together" in result.output


def test_clients_by_scheme(files: dict[str, str]) -> None:
    plain = etcdclient.new_client("http://10.0.0.1:2380")
    assert plain._credentials is None and (plain._host, plain._port) == ("10.0.0.1", 2380)
    secure = etcdclient.new_client("https://10.0.0.2", etcdclient.TLS(files["ca.crt"], files["c.crt"], files["c.key"]))
    assert secure._credentials is not None and (secure._host, secure._port) == ("10.0.0.2", 2379)
