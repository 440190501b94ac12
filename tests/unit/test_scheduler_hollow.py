"""The objects hollow nodes write (no API server)."""
from __future__ import annotations

import ipaddress

import pytest

from minik8s.hollow import objects
from minik8s.scheduler import nodeinfo
from tests.unit.test_scheduler_plugins import make_pod


def test_pod_subnets_are_disjoint_blocks() -> None:
    spec = objects.NodeSpec()
    subnets = [objects.pod_subnet(spec, i) for i in range(300)]
    assert str(subnets[0]) == "10.128.0.0/24" and str(subnets[1]) == "10.128.1.0/24"
    assert all(not a.overlaps(b) for a, b in zip(subnets, subnets[1:]))
    big = objects.NodeSpec(pods=300)
    assert objects.pod_subnet(big, 1).prefixlen == 23
    with pytest.raises(ValueError):
        objects.pod_subnet(objects.NodeSpec(pod_cidr="10.0.0.0/23"), 2)


def test_node_object_shape() -> None:
    spec = objects.NodeSpec(cpu="8", memory="32Gi", pods=50, labels=(("zone", "a"),))
    node = objects.node_object(spec, "hollow-3", 3)
    assert node["metadata"]["labels"]["zone"] == "a"
    assert node["metadata"]["labels"]["kubernetes.io/hostname"] == "hollow-3"
    assert node["spec"]["podCIDR"] == "10.128.3.0/24"
    assert node["status"]["addresses"] == [{"type": "InternalIP", "address": "10.127.0.4"},
                                           {"type": "Hostname", "address": "hollow-3"}]
    info = nodeinfo.NodeInfo("hollow-3", node)  # what the scheduler makes of it
    assert (info.ready, info.alloc_milli_cpu, info.alloc_memory, info.alloc_pods) == (True, 8000, 32 * 2 ** 30, 50)


def test_ip_allocator_reuses_released_addresses_and_adopts_existing_ones() -> None:
    alloc = objects.IPAllocator(ipaddress.IPv4Network("10.1.0.0/29"))  # offsets 2..6 usable
    ips = [alloc.allocate(f"u{i}") for i in range(5)]
    assert ips == [f"10.1.0.{i}" for i in range(2, 7)]
    assert alloc.allocate("u0") == "10.1.0.2"  # same pod, same IP
    with pytest.raises(RuntimeError):
        alloc.allocate("u5")
    alloc.release("u2")
    assert alloc.allocate("u5") == "10.1.0.4"
    fresh = objects.IPAllocator(ipaddress.IPv4Network("10.1.0.0/29"))
    fresh.claim("old", "10.1.0.2")
    fresh.claim("elsewhere", "192.168.0.1")  # not ours: ignored
    assert fresh.allocate("new") == "10.1.0.3"


def test_running_status() -> None:
    pod = make_pod("p", node="n", initContainers=[{"name": "init", "image": "busybox"},
                                                  {"name": "side", "image": "busybox", "restartPolicy": "Always"}])
    pod["status"]["conditions"] = [{"type": "PodScheduled", "status": "True",
                                    "lastTransitionTime": "2024-01-01T00:00:00Z"}]
    assert objects.needs_running_status(pod)
    status = objects.running_status(pod, pod_ip="10.128.0.2", host_ip="10.127.0.1", now="2024-01-01T00:00:05Z")
    assert status["phase"] == "Running" and status["podIP"] == "10.128.0.2"
    conds = {c["type"]: c for c in status["conditions"]}
    assert {t: c["status"] for t, c in conds.items()} == {
        "PodReadyToStartContainers": "True", "Initialized": "True", "Ready": "True", "ContainersReady": "True",
        "PodScheduled": "True"}
    assert conds["PodScheduled"]["lastTransitionTime"] == "2024-01-01T00:00:00Z"  # kept
    assert [c["state"] for c in status["containerStatuses"]] == [{"running": {"startedAt": "2024-01-01T00:00:05Z"}}]
    assert [list(c["state"]) for c in status["initContainerStatuses"]] == [["terminated"], ["running"]]
    assert not objects.needs_running_status({**pod, "status": status})
    assert not objects.needs_running_status({**pod, "status": {"phase": "Succeeded"}})
