"""Node object building: labels, capacity, conditions, heartbeats, taints, the Lease."""
from __future__ import annotations

import pytest

from minik8s.kubelet import nodestatus

INFO = nodestatus.MachineInfo(hostname="host-a", cpus=2, memory=4 * 1024 ** 3, disk=100 * 1024 ** 3,
                              kernel="6.1.0", os_image="Debian GNU/Linux 12 (bookworm)", arch="amd64",
                              machine_id="m1", boot_id="b1")
NO_PRESSURE = nodestatus.Pressure()


def build(pressure: nodestatus.Pressure = NO_PRESSURE, not_ready: str = "", old: dict | None = None,
          now: float = 1000.0) -> dict:
    return nodestatus.build_status(info=INFO, node_ip="127.0.0.1", port=10250, max_pods=110,
                                   runtime_version="docker://20.10.24", pressure=pressure, not_ready=not_ready,
                                   old=old, images=[], now=now)


def test_status_fields() -> None:
    s = build()
    assert s["capacity"] == {"cpu": "2", "memory": "4194304Ki", "pods": "110", "ephemeral-storage": "104857600Ki"}
    assert s["allocatable"]["memory"] == f"{(4 * 1024 ** 3 - 100 * 1024 ** 2) // 1024}Ki"
    assert s["addresses"] == [{"type": "InternalIP", "address": "127.0.0.1"}, {"type": "Hostname", "address": "host-a"}]
    assert s["daemonEndpoints"] == {"kubeletEndpoint": {"Port": 10250}}
    info = s["nodeInfo"]
    assert info["containerRuntimeVersion"] == "docker://20.10.24"
    assert info["kubeletVersion"].startswith("v1.") and info["architecture"] == "amd64"
    assert info["osImage"] == INFO.os_image and info["kernelVersion"] == "6.1.0"
    conds = {c["type"]: c for c in s["conditions"]}
    assert conds["Ready"]["status"] == "True" and conds["Ready"]["reason"] == "KubeletReady"
    assert {conds[t]["status"] for t in ("MemoryPressure", "DiskPressure", "PIDPressure")} == {"False"}


def test_not_ready_and_pressure() -> None:
    s = build(nodestatus.Pressure(memory=True), not_ready="container runtime is down")
    conds = {c["type"]: c for c in s["conditions"]}
    assert conds["Ready"] == conds["Ready"] | {"status": "False", "reason": "KubeletNotReady",
                                               "message": "container runtime is down"}
    assert conds["MemoryPressure"]["status"] == "True"
    assert conds["MemoryPressure"]["reason"] == "KubeletHasInsufficientMemory"


def test_heartbeats_move_transitions_stay_and_only_changes_count() -> None:
    first = build(now=1000)
    later = build(old=first, now=1010)
    ready = [c for c in later["conditions"] if c["type"] == "Ready"][0]
    assert ready["lastHeartbeatTime"] != ready["lastTransitionTime"]
    assert not nodestatus.status_changed(first, later)
    broken = build(not_ready="container runtime is down", old=later, now=1020)
    assert nodestatus.status_changed(later, broken)
    ready = [c for c in broken["conditions"] if c["type"] == "Ready"][0]
    assert ready["lastTransitionTime"] == ready["lastHeartbeatTime"]


def test_labels() -> None:
    labels = nodestatus.node_labels("n1", INFO, {"zone": "a"}, master=True)
    assert labels["kubernetes.io/hostname"] == "n1"
    assert labels["kubernetes.io/os"] == "linux" and labels["kubernetes.io/arch"] == "amd64"
    assert labels["node-role.kubernetes.io/control-plane"] == "" and labels["zone"] == "a"
    assert "node-role.kubernetes.io/control-plane" not in nodestatus.node_labels("n1", INFO, {}, master=False)
    assert nodestatus.parse_labels("a=1, b=2,c=") == {"a": "1", "b": "2", "c": ""}


def test_taints() -> None:
    assert nodestatus.parse_taints("dedicated=gpu:NoSchedule,spot:PreferNoSchedule") == [
        {"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}, {"key": "spot", "effect": "PreferNoSchedule"}]
    with pytest.raises(ValueError):
        nodestatus.parse_taints("novalue")


def test_lease() -> None:
    lease = nodestatus.build_lease({"metadata": {"name": "n1", "uid": "u"}}, 40, 1_700_000_000.5)
    assert lease["metadata"]["namespace"] == "kube-node-lease"
    assert lease["spec"] == {"holderIdentity": "n1", "leaseDurationSeconds": 40,
                             "renewTime": "2023-11-14T22:13:20.500000Z"}
    assert lease["metadata"]["ownerReferences"][0]["kind"] == "Node"


def test_default_node_ip_is_an_address() -> None:
    ip = nodestatus.default_node_ip()
    assert ip.count(".") == 3
