"""Three masters installed by deploy/install.sh on real VMs keep the cluster when one dies.

docs/deploy.md's "Three masters" is checked in network namespaces by
tests/integration/test_join_control_plane.py; this runs the same path as a user would, on
Debian VMs under systemd (`make vagrant-ha`, deploy/vagrant-test.sh --ha): master1
installed with `--upload-certs`, master2 and master3 with `--role master --join` and the
command it printed. Then: every API server ready, etcd with three started members seen
alike from every master, an object written through master1 read through the others, and
master1 powered off: a write through master2 read through master3, and the `kubernetes`
Endpoints drop master1 (its master lease expires).

Runs only where deploy/vagrant-test.sh --ha sets MINIK8S_E2E_VM_MASTERS (the machines,
master1 first), MINIK8S_E2E_KUBECONFIG (master1's admin kubeconfig) and
MINIK8S_E2E_SSH_CONFIG; never in `make test`. The last test leaves master1 powered off.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import uuid
from typing import Any

import pytest

from tests.e2e.conftest import KUBECTL, VagrantOps, run, wait_until

MACHINES = os.environ.get("MINIK8S_E2E_VM_MASTERS", "").split()
KUBECONFIG = os.environ.get("MINIK8S_E2E_KUBECONFIG", "")
API_PORT = 6443
MASTER_UNITS = ("etcd", "minik8s-apiserver", "minik8s-controller-manager", "minik8s-scheduler")

pytestmark = pytest.mark.skipif(
    len(MACHINES) < 3 or not KUBECONFIG or not os.environ.get("MINIK8S_E2E_SSH_CONFIG"),
    reason="three-master VMs only: deploy/vagrant-test.sh --ha (make vagrant-ha)")


@pytest.fixture(scope="module")
def ops() -> VagrantOps:
    return VagrantOps()


@pytest.fixture(scope="module")
def masters(ops: VagrantOps) -> dict[str, str]:
    """Machine name -> its address on the cluster network, as the machine itself reports it
    (the Vagrantfile's numbering is not repeated here)."""
    out = {}
    for machine in MACHINES:
        text = ops.ssh(machine, f"ip -o -4 addr show to {VagrantOps.PRIVATE_NET}")
        found = re.search(r"inet (\d+\.\d+\.\d+\.\d+)/", text)
        assert found, f"{machine} has no address on {VagrantOps.PRIVATE_NET}: {text!r}"
        out[machine] = found.group(1)
    return out


@pytest.fixture(scope="module")
def cachedir(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(tmp_path_factory.mktemp("kubecache"))


def kubectl_run(address: str, cachedir: str, *args: str, check: bool = False) -> subprocess.CompletedProcess[str]:
    """kubectl as kubernetes-admin against the API server at `address` only (master1's
    kubeconfig with --server: every master's serving certificate names its address)."""
    env = dict(os.environ, KUBECONFIG=KUBECONFIG, KUBECACHEDIR=cachedir)
    argv = [KUBECTL, "--server", f"https://{address}:{API_PORT}", "--request-timeout", "20s", *args]
    return run(argv, env=env, timeout=60, check=check)


def kubectl(address: str, cachedir: str, *args: str) -> str:
    return kubectl_run(address, cachedir, *args, check=True).stdout


def ready(address: str, cachedir: str) -> bool:
    return kubectl_run(address, cachedir, "get", "--raw", "/readyz").returncode == 0


def endpoint_addresses(address: str, cachedir: str) -> set[str] | None:
    """The `kubernetes` Endpoints' addresses as the API server at `address` serves them."""
    done = kubectl_run(address, cachedir, "get", "endpoints", "kubernetes", "-n", "default", "-o", "json")
    if done.returncode != 0:
        return None
    subsets = json.loads(done.stdout).get("subsets") or []
    return {a["ip"] for s in subsets for a in s.get("addresses") or []}


@pytest.fixture
def configmap_name() -> str:
    return "vm-masters-" + uuid.uuid4().hex[:8]


def test_every_master_runs_its_units_and_api_server(ops: VagrantOps, masters: dict[str, str],
                                                     cachedir: str) -> None:
    for machine, address in masters.items():
        states = ops.ssh(machine, f"systemctl is-active {' '.join(MASTER_UNITS)}", check=False).split()
        assert states == ["active"] * len(MASTER_UNITS), f"{machine}: {dict(zip(MASTER_UNITS, states))}"
        wait_until(lambda a=address: ready(a, cachedir), 300, f"{machine}'s API server at {address} ready",
                   interval=2)


def test_etcd_has_three_started_members_seen_alike_from_every_master(ops: VagrantOps,
                                                                    masters: dict[str, str]) -> None:
    views = {}
    for machine in masters:
        out = ops.ssh(machine, "sudo env ETCDCTL_API=3 etcdctl --endpoints http://127.0.0.1:2379 "
                               "member list -w json")
        members: list[dict[str, Any]] = json.loads(out)["members"]
        # A member added but never started has no name and no client URLs.
        views[machine] = sorted((m.get("name", ""), tuple(m.get("peerURLs", ())), bool(m.get("clientURLs")))
                                for m in members)
    first = views[MACHINES[0]]
    assert all(view == first for view in views.values()), views
    assert len(first) == 3, first
    assert all(name and started for name, _, started in first), first
    peers = {url for _, urls, _ in first for url in urls}
    assert {re.sub(r"^https://([^:]+):\d+$", r"\1", url) for url in peers} == set(masters.values()), peers


def test_object_written_through_master1_is_read_through_the_others(masters: dict[str, str], cachedir: str,
                                                                   configmap_name: str) -> None:
    first, *others = masters.values()
    kubectl(first, cachedir, "create", "configmap", configmap_name, "-n", "default", "--from-literal=via=master1")
    try:
        for address in others:
            data = json.loads(kubectl(address, cachedir, "get", "configmap", configmap_name, "-n", "default",
                                      "-o", "json"))["data"]
            assert data == {"via": "master1"}, (address, data)
    finally:
        kubectl(first, cachedir, "delete", "configmap", configmap_name, "-n", "default", "--ignore-not-found")


def test_master1_powered_off_the_others_carry_on(ops: VagrantOps, masters: dict[str, str], cachedir: str,
                                                 configmap_name: str) -> None:
    first, second, third = (masters[m] for m in MACHINES[:3])
    everyone = set(masters.values())
    # Every API server has renewed its master lease by now (master3 joined last).
    wait_until(lambda: endpoint_addresses(second, cachedir) == everyone, 120,
               f"the kubernetes Endpoints to list {sorted(everyone)}", interval=2)

    ops.stop_node(MACHINES[0])  # vagrant halt --force: the power cut, no clean shutdown
    assert not ready(first, cachedir), "master1 still answers after its power-off"

    # etcd elects a leader among the two left (if master1 led); then the write goes through.
    def write() -> bool:
        done = kubectl_run(second, cachedir, "create", "configmap", configmap_name, "-n", "default",
                           "--from-literal=via=master2")
        # An attempt that timed out on its answer may have been committed all the same.
        return done.returncode == 0 or "AlreadyExists" in done.stderr
    wait_until(write, 120, "a write through master2 with master1 powered off", interval=2)
    data = json.loads(kubectl(third, cachedir, "get", "configmap", configmap_name, "-n", "default",
                              "-o", "json"))["data"]
    assert data == {"via": "master2"}, data

    # master1's lease (15 s) expires and the next round of a survivor (10 s) drops it.
    wait_until(lambda: endpoint_addresses(third, cachedir) == everyone - {first}, 180,
               f"the kubernetes Endpoints to drop master1 ({first})", interval=2)
    assert endpoint_addresses(second, cachedir) == everyone - {first}
    kubectl(second, cachedir, "delete", "configmap", configmap_name, "-n", "default")
