"""Names and addresses of a local cluster, derived from its name and subnet alone."""
from __future__ import annotations

import pathlib

import pytest

from minik8s.cluster import host
from minik8s.cluster import spec


def _plan(**kw: object) -> spec.ClusterSpec:
    args: dict = dict(name="local", state_dir="/tmp/x", nodes=3, subnet="172.31.0.0/24", api_port=6443,
                      etcd_client_port=2379, etcd_peer_port=2380)
    args.update(kw)
    return spec.plan(**args)


def test_addresses_and_pod_cidrs() -> None:
    s = _plan()
    assert s.master_ip == "172.31.0.1"
    assert s.server == "https://172.31.0.1:6443"
    assert [(n.name, n.ip, n.pod_cidr) for n in s.nodes] == [
        ("node1", "172.31.0.11", "10.244.1.0/24"),
        ("node2", "172.31.0.12", "10.244.2.0/24"),
        ("node3", "172.31.0.13", "10.244.3.0/24"),
    ]
    master = s.master_config()
    assert master.bind_address == "172.31.0.1" and master.advertise_address == "172.31.0.1"
    assert master.etcd_data_dir == "/tmp/x/etcd"


def test_names_fit_linux_link_names() -> None:
    s = _plan(name="abcdefghi", nodes=50, subnet="172.31.0.0/24")
    assert len(s.bridge) <= 15
    assert all(len(spec.veth_name(s.name, n.index)) <= 15 for n in s.nodes)
    assert spec.netns_name("e2e", "node1") == "mk8s-e2e-node1"
    assert spec.iptables_tag("e2e") == "minik8s-cluster-e2e"


@pytest.mark.parametrize("name", ["", "Local", "1abc", "has-dash", "abcdefghij", "a b"])
def test_bad_names(name: str) -> None:
    with pytest.raises(host.ClusterError):
        spec.validate_name(name)


def test_rejects_what_does_not_fit() -> None:
    with pytest.raises(host.ClusterError, match="too small"):
        _plan(subnet="172.31.0.0/28", nodes=5)
    with pytest.raises(host.ClusterError, match="IPv4"):
        _plan(subnet="fd00::/64")
    with pytest.raises(host.ClusterError):
        _plan(subnet="not-a-subnet")


def test_save_and_load(tmp_path: pathlib.Path) -> None:
    s = _plan(state_dir=str(tmp_path / "state"), overrides={"kubelet": {"lease-interval": 2}})
    s.save()
    assert spec.ClusterSpec.load(str(tmp_path / "state")) == s
    assert spec.ClusterSpec.load(str(tmp_path / "missing")) is None
    (tmp_path / "state" / "cluster.json").write_text("{garbled")
    with pytest.raises(host.ClusterError):
        spec.ClusterSpec.load(str(tmp_path / "state"))


def test_node_lookup() -> None:
    s = _plan()
    assert s.node("node2").ip == "172.31.0.12"
    with pytest.raises(host.ClusterError, match="no node"):
        s.node("node9")
    paths = spec.node_paths(s, "node2")
    assert paths.docker_sock == pathlib.Path("/tmp/x/nodes/node2/docker.sock")
    assert paths.exec_root == pathlib.Path("/tmp/x/nodes/node2/run")
