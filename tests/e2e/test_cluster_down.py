"""`cluster down` leaves nothing behind, also after a crash; `up` over a crashed cluster's leftovers works.

A cluster of its own (one node, another name and subnet) so the session's cluster is untouched.
"""
from __future__ import annotations

import os
import pathlib
import shutil
import uuid
from collections.abc import Iterator

import pytest

from minik8s.cluster import cgroups
from tests.e2e.conftest import (E2E_BASE, MINIK8S, deployment, down_local, host_leftovers, run,
                                up_local, wait_ready_replicas)


@pytest.fixture
def scratch(local_host: None) -> Iterator[pathlib.Path]:
    name = "e2ed" + uuid.uuid4().hex[:5]
    base = E2E_BASE / name
    base.mkdir(parents=True)
    (base / "owner.pid").write_text(str(os.getpid()))
    yield base
    run([*MINIK8S, "cluster", "down", "--name", name, "--state-dir", str(base / "cluster")], check=False)
    shutil.rmtree(base, ignore_errors=True)


def _mounts_under(path: str) -> list[str]:
    with open("/proc/self/mountinfo", encoding="utf-8") as f:
        return [line.split(" ")[4] for line in f if line.split(" ")[4].startswith(path)]


def test_up_over_a_crashed_cluster_then_down_leaves_nothing(scratch: pathlib.Path) -> None:
    name = scratch.name
    c = up_local(name, scratch, nodes=1)
    ns = "crash"
    c.kubectl("create", "namespace", ns)
    c.apply(deployment("crash", 2), ns)
    wait_ready_replicas(c, ns, "crash", 2)

    # A crash: every process of the cluster dies at once, nothing is cleaned up.
    assert cgroups.kill_all(cgroups.cluster_path(name)) > 0
    assert _mounts_under(c.state_dir), "a crash leaves the engine's mounts behind"

    c = up_local(name, scratch, nodes=1)
    c.wait_nodes_ready()
    assert c.kubectl("get", "namespace", ns, check=False).returncode != 0, "a fresh cluster after a crash"

    c.apply(deployment("again", 2), "default")
    wait_ready_replicas(c, "default", "again", 2)
    left = down_local(c)
    assert not left, left


def test_down_without_a_record_finds_everything_by_name(scratch: pathlib.Path) -> None:
    """The state directory's cluster.json is lost (or garbled): down still finds the
    processes (cgroup), mounts, namespaces, links and rules by the cluster's name."""
    name = scratch.name
    c = up_local(name, scratch, nodes=1)
    c.apply(deployment("orphan", 1), "default")
    wait_ready_replicas(c, "default", "orphan", 1)
    (pathlib.Path(c.state_dir) / "cluster.json").write_text("{garbled")
    left = down_local(c)
    assert not left, left
    assert host_leftovers(name, c.state_dir) == []
