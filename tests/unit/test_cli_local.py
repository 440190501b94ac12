"""`minik8s up`'s configuration: what the API server and the kubelet are told about each other."""
from __future__ import annotations

import pathlib

from minik8s.cli import local
from minik8s.cluster import config


def test_up_points_the_api_server_and_the_kubelet_at_their_certificates(tmp_path: pathlib.Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    (state / "kubelet-token").write_text("left by an older version\n")
    cluster = local.LocalCluster(str(state), node_ip="127.0.0.1", node_name="n1")
    cluster.etc.mkdir(parents=True)
    cluster.write_config()
    api = config.read_options(cluster.etc / "apiserver.yaml", "apiserver")
    kubelet = config.read_options(cluster.etc / "kubelet.yaml", "kubelet")
    assert "kubelet-token" not in api and "token" not in kubelet
    assert api["kubelet-client-certificate"] == str(cluster.etc / "pki" / "apiserver-kubelet-client.crt")
    assert kubelet["tls-cert-file"] == str(cluster.etc / "pki" / "kubelet.crt")
    assert kubelet["client-ca-file"] == api["kubelet-certificate-authority"] == str(cluster.etc / "pki" / "ca.crt")
    assert not (state / "kubelet-token").exists()


def test_one_cluster_cidr_set_on_the_controller_manager_is_everyones(tmp_path: pathlib.Path) -> None:
    """The network agent refuses a podCIDR outside its cluster CIDR: one --set must do for all."""
    cluster = local.LocalCluster(str(tmp_path / "state"), node_ip="127.0.0.1", node_name="n1",
                                 overrides=["controller-manager.cluster-cidr=10.242.0.0/16"])
    node = config.node_options(cluster.node)
    assert config.master_options(cluster.master)["controller-manager"]["cluster-cidr"] == "10.242.0.0/16"
    assert node["network-agent"]["cluster-cidr"] == node["proxy"]["cluster-cidr"] == "10.242.0.0/16"
    # Set explicitly, a component's own value still wins.
    cluster = local.LocalCluster(str(tmp_path / "state"), node_ip="127.0.0.1", node_name="n1",
                                 overrides=["controller-manager.cluster-cidr=10.242.0.0/16",
                                            "proxy.cluster-cidr=10.0.0.0/8"])
    assert config.node_options(cluster.node)["proxy"]["cluster-cidr"] == "10.0.0.0/8"
