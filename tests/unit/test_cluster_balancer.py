"""The local cluster's load balancer for kubectl (`cluster up --masters N`, issue 14), checked
without starting anything: with several masters the spec has a balancer port and the user's
kubeconfig names the balancer (every master still listed for minik8s's client); with one
master nothing changes; the balancer's config file is one `minik8s lb` reads."""
from __future__ import annotations

import pathlib

from minik8s.cli import main as cli_main
from minik8s.client import kubeconfig
from minik8s.cluster import balancer
from minik8s.cluster import config
from minik8s.cluster import lifecycle
from minik8s.cluster import master
from minik8s.cluster import spec

cli_main._register()


def _plan(state_dir: pathlib.Path, **kw: object) -> spec.ClusterSpec:
    args: dict = dict(name="ha", state_dir=str(state_dir / "state"), nodes=1, subnet="172.31.5.0/24",
                      api_port=6443, etcd_client_port=2379, etcd_peer_port=2380, masters=3, lb_port=6444,
                      kubeconfig=str(state_dir / "user.conf"))
    args.update(kw)
    return spec.plan(**args)


def test_balancer_only_with_several_masters(tmp_path: pathlib.Path) -> None:
    s = _plan(tmp_path)
    assert s.lb_server == "https://127.0.0.1:6444"
    s.save()
    assert spec.ClusterSpec.load(s.state_dir) == s
    one = _plan(tmp_path, masters=1)
    assert one.lb_port == 0 and one.lb_server == ""


def test_user_kubeconfig_names_the_balancer(tmp_path: pathlib.Path) -> None:
    s = _plan(tmp_path)
    master.ensure_pki(s)
    lifecycle.write_kubeconfig(s)
    for path in (s.kubeconfig_path, s.state / "kubeconfig"):
        access = kubeconfig.load(path)
        assert access.server == "https://127.0.0.1:6444", "kubectl's one server: the balancer"
        assert list(access.servers) == s.servers, "minik8s's client still fails over between the masters"
    admin = kubeconfig.load(s.admin_kubeconfig)
    assert admin.server == s.server, "the cluster tools and the balancer itself go to the masters directly"


def test_one_master_kubeconfig_unchanged(tmp_path: pathlib.Path) -> None:
    s = _plan(tmp_path, masters=1)
    master.ensure_pki(s)
    lifecycle.write_kubeconfig(s)
    assert kubeconfig.load(s.kubeconfig_path).server == s.server == "https://172.31.5.1:6443"


def test_balancer_config_is_what_minik8s_lb_reads(tmp_path: pathlib.Path) -> None:
    s = _plan(tmp_path, overrides={"lb": {"health-interval": 1}})
    files = balancer.LocalBalancer(s).config_files()
    opts = files["lb.yaml"]["lb"]
    assert opts == {"servers": ",".join(s.servers), "bind-address": "127.0.0.1", "port": 6444,
                    "kubeconfig": str(s.admin_kubeconfig), "health-interval": 1}
    flags = {p.name for p in cli_main.cli.commands["lb"].params}
    assert {k.replace("-", "_") for k in opts} <= flags
    written = config.write_files(tmp_path / "etc", files)
    assert config.read_options(written[0], "lb") == opts
