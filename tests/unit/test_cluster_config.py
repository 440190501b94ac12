"""The shared config rendering: what `minik8s init`/`join` and `minik8s cluster up` write."""
from __future__ import annotations

import importlib
import os
import pathlib

import click
import pytest
import yaml

from minik8s.cli import main
from minik8s.cluster import config

MASTER = config.MasterConfig(advertise_address="192.168.56.10",
                             etcd_data_dir="/var/lib/minik8s/etcd")
NODE = config.NodeConfig(name="node1", ip="192.168.56.11", server="https://192.168.56.10:6443",
                         pod_cidr="10.244.1.0/24")


def _command(name: str) -> click.Command:
    # The component commands only: they are what the files configure.
    module = {"apiserver": "components", "controller-manager": "components", "dns": "cmd_network",
              "network-agent": "cmd_network"}.get(name, f"cmd_{name}")
    importlib.import_module(f"minik8s.cli.{module}")
    return main.cli.commands[name]


def test_master_files_are_one_per_unit() -> None:
    files = config.master_files(MASTER)
    assert list(files) == ["etcd.yaml", "apiserver.yaml", "controller-manager.yaml", "scheduler.yaml", "dns.yaml"]
    api = files["apiserver.yaml"]["apiserver"]
    assert api["etcd-endpoints"] == "http://127.0.0.1:2379"
    assert api["advertise-address"] == "192.168.56.10"
    # Kubelets: HTTPS, the API server's own client certificate, their certificates checked.
    assert api["kubelet-client-certificate"] == "/etc/minik8s/pki/apiserver-kubelet-client.crt"
    assert api["kubelet-client-key"] == "/etc/minik8s/pki/apiserver-kubelet-client.key"
    assert api["kubelet-certificate-authority"] == "/etc/minik8s/pki/ca.crt"
    # HTTPS with the PKI of the config directory (minik8s.cluster.pki writes those files).
    assert api["tls-cert-file"] == "/etc/minik8s/pki/apiserver.crt"
    assert api["tls-private-key-file"] == "/etc/minik8s/pki/apiserver.key"
    assert api["client-ca-file"] == "/etc/minik8s/pki/ca.crt"
    assert api["service-account-key-file"] == ["/etc/minik8s/pki/sa.pub"]
    cm = files["controller-manager.yaml"]["controller-manager"]
    assert cm["kubeconfig"] == "/etc/minik8s/controller-manager.conf"
    assert cm["cluster-signing-key-file"] == "/etc/minik8s/pki/ca.key"
    assert files["scheduler.yaml"]["scheduler"] == {"kubeconfig": "/etc/minik8s/scheduler.conf"}
    assert MASTER.server == "https://192.168.56.10:6443"
    dns = files["dns.yaml"]["dns"]
    assert dns["bind-address"] == "192.168.56.10" and dns["port"] == 53 and dns["service-ip"] == "10.96.0.10"


def test_etcd_listens_on_loopback_only() -> None:
    etcd = config.master_files(MASTER)["etcd.yaml"]
    assert etcd["listen-client-urls"] == "http://127.0.0.1:2379"
    assert etcd["listen-peer-urls"] == "http://127.0.0.1:2380"
    assert etcd["initial-cluster"] == "minik8s=http://127.0.0.1:2380"
    assert etcd["data-dir"] == "/var/lib/minik8s/etcd"


def test_node_files() -> None:
    files = config.node_files(NODE)
    kubelet = files["kubelet.yaml"]["kubelet"]
    assert kubelet == {"kubeconfig": "/etc/minik8s/kubelet.conf", "tls-cert-file": "/etc/minik8s/pki/kubelet.crt",
                       "tls-private-key-file": "/etc/minik8s/pki/kubelet.key",
                       "client-ca-file": "/etc/minik8s/pki/ca.crt", "node-name": "node1",
                       "node-ip": "192.168.56.11", "port": 10250, "docker-host": "unix:///var/run/docker.sock",
                       "pod-cidr": "10.244.1.0/24", "root-dir": "/var/lib/minik8s/kubelet",
                       "cluster-dns": "10.96.0.10", "cluster-domain": "cluster.local",
                       "cni-conf-dir": "/etc/cni/net.d"}
    agent = files["network-agent.yaml"]["network-agent"]
    assert agent["node-ip"] == "192.168.56.11" and agent["backend"] == "vxlan" and agent["iface"] == ""
    # The agent writes the CNI configuration the kubelet reads: one directory for both.
    assert agent["cni-conf-dir"] == kubelet["cni-conf-dir"]
    assert agent["cni-data-dir"] == "/var/lib/cni/networks"
    proxy = files["proxy.yaml"]["proxy"]
    assert proxy["kubeconfig"] == "/etc/minik8s/proxy.conf" and proxy["node-name"] == "node1"
    assert proxy["node-ip"] == NODE.ip
    assert agent["kubeconfig"] == "/etc/minik8s/network-agent.conf"


@pytest.mark.parametrize("files", [config.master_files(MASTER), config.node_files(NODE)], ids=["master", "node"])
def test_every_rendered_key_is_an_option_of_its_command(files: dict) -> None:
    """click ignores unknown keys in a config file, so a misspelt key would silently do nothing."""
    for name, doc in files.items():
        if name == "etcd.yaml":
            continue
        (command, options), = doc.items()
        known = {p.name for p in _command(command).params}
        unknown = {k for k in options if k.replace("-", "_") not in known}
        assert not unknown, f"{name}: {unknown} are not options of `minik8s {command}`"


def test_overrides_win_and_may_add_options() -> None:
    overrides = config.parse_set(["controller-manager.node-monitor-grace-period=10",
                                  "kubelet.lease-interval=2", "kubelet.pod-cidr=''", "etcd.heartbeat-interval=50"])
    master = config.master_files(config.MasterConfig(advertise_address="10.0.0.1", overrides=overrides))
    assert master["controller-manager.yaml"]["controller-manager"]["node-monitor-grace-period"] == 10
    assert master["etcd.yaml"]["heartbeat-interval"] == 50
    node = config.node_files(config.NodeConfig(name="n", ip="10.0.0.2", server="https://10.0.0.1:6443",
                                               pod_cidr="10.244.9.0/24", overrides=overrides))
    assert node["kubelet.yaml"]["kubelet"]["lease-interval"] == 2
    assert node["kubelet.yaml"]["kubelet"]["pod-cidr"] == ""


def test_parse_set_types_and_errors() -> None:
    assert config.parse_set(["a.b=1", "a.c=true", "a.d=x,y", "b.--e=0.5"]) == \
        {"a": {"b": 1, "c": True, "d": "x,y"}, "b": {"e": 0.5}}
    for bad in ("novalue", "nodot=1", ".x=1", "x.=1"):
        with pytest.raises(ValueError):
            config.parse_set([bad])


def test_written_files_are_read_by_minik8s_config(tmp_path: pathlib.Path) -> None:
    paths = config.write_files(tmp_path, config.node_files(NODE))
    kubelet = tmp_path / "kubelet.yaml"
    assert kubelet in paths
    assert oct(os.stat(kubelet).st_mode & 0o777) == "0o600", "config files are the components' own"
    text = kubelet.read_text()
    assert text.startswith("# Written by minik8s") and f"minik8s --config {kubelet} kubelet" in text
    assert config.read_options(kubelet, "kubelet")["node-ip"] == "192.168.56.11"
    # The file drives the command exactly as `minik8s --config FILE kubelet` would.
    ctx = main.cli.make_context("minik8s", ["--config", str(kubelet), "kubelet", "--help"], resilient_parsing=True)
    sub = _command("kubelet").make_context("kubelet", [], parent=ctx, resilient_parsing=True)
    assert sub.params["node_ip"] == "192.168.56.11"
    assert sub.params["pod_cidr"] == "10.244.1.0/24"
    assert sub.params["tls_cert_file"] == "/etc/minik8s/pki/kubelet.crt"


def test_render_is_yaml_with_the_command_as_the_only_key() -> None:
    for name, doc in config.master_files(MASTER).items():
        parsed = yaml.safe_load(config.render(name, doc))
        assert parsed == doc
