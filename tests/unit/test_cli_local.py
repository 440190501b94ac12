"""`minik8s up`'s kubelet token: one secret for the API server and the kubelet, kept across `up`s."""
from __future__ import annotations

import pathlib
import stat

from minik8s.cli import local
from minik8s.cluster import config


def test_up_writes_one_token_for_both_and_reuses_it(tmp_path: pathlib.Path) -> None:
    cluster = local.LocalCluster(str(tmp_path / "state"), node_ip="127.0.0.1", node_name="n1")
    cluster.etc.mkdir(parents=True)
    cluster.write_config()
    token_file = tmp_path / "state" / local.KUBELET_TOKEN_FILE
    token = token_file.read_text().strip()
    assert len(token) == 32 and stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert config.read_options(cluster.etc / "apiserver.yaml", "apiserver")["kubelet-token"] == token
    assert config.read_options(cluster.etc / "kubelet.yaml", "kubelet")["token"] == token
    # A later `up` (a new LocalCluster on the same state) keeps the secret, and its mode.
    token_file.chmod(0o644)
    again = local.LocalCluster(str(tmp_path / "state"), node_ip="127.0.0.1", node_name="n1")
    again.write_config()
    assert token_file.read_text().strip() == token
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert config.read_options(again.etc / "kubelet.yaml", "kubelet")["token"] == token


def test_an_empty_token_file_gets_a_new_secret(tmp_path: pathlib.Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    (state / local.KUBELET_TOKEN_FILE).write_text("\n")
    token = local.LocalCluster(str(state), node_ip="127.0.0.1", node_name="n1").kubelet_token()
    assert len(token) == 32 and (state / local.KUBELET_TOKEN_FILE).read_text().strip() == token


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
