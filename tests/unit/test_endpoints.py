"""Endpoints computation and pod CIDR allocation (pure parts of two controllers)."""
from __future__ import annotations

from typing import Any

from minik8s.client import informer as informer_mod
from minik8s.controllers import endpoints
from minik8s.controllers import nodeipam


def svc(ports: list[dict[str, Any]], **spec: Any) -> dict[str, Any]:
    return {"metadata": {"name": "s", "namespace": "ns"}, "spec": {"selector": {"app": "a"}, "ports": ports, **spec}}


def pod(name: str, ip: str | None, ready: bool, ports: list[dict[str, Any]] | None = None, **meta: Any
        ) -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": "ns", "uid": f"u-{name}", "labels": {"app": "a"}, **meta},
            "spec": {"nodeName": "n1", "containers": [{"name": "c", "ports": ports or []}]},
            "status": {"podIP": ip, "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}}


def test_ready_and_not_ready_addresses_sorted_by_ip() -> None:
    subsets = endpoints.compute_subsets(svc([{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}]), [
        pod("b", "10.0.0.10", True), pod("a", "10.0.0.9", True), pod("c", "10.0.0.11", False),
        pod("pending", None, False), pod("gone", "10.0.0.12", True, deletionTimestamp="2024-01-01T00:00:00Z")])
    assert len(subsets) == 1
    assert [a["ip"] for a in subsets[0]["addresses"]] == ["10.0.0.9", "10.0.0.10"]
    assert [a["ip"] for a in subsets[0]["notReadyAddresses"]] == ["10.0.0.11"]
    assert subsets[0]["ports"] == [{"name": "http", "port": 8080, "protocol": "TCP"}]
    assert subsets[0]["addresses"][0]["targetRef"] == {"kind": "Pod", "namespace": "ns", "name": "a", "uid": "u-a"}


def test_named_target_port_resolved_per_pod() -> None:
    service = svc([{"port": 80, "targetPort": "web", "protocol": "TCP"}])
    subsets = endpoints.compute_subsets(service, [
        pod("x", "10.0.0.1", True, [{"name": "web", "containerPort": 8080}]),
        pod("y", "10.0.0.2", True, [{"name": "web", "containerPort": 9090}]),
        pod("z", "10.0.0.3", True, [{"name": "other", "containerPort": 1}])])
    assert sorted((s["ports"][0]["port"], [a["ip"] for a in s["addresses"]]) for s in subsets) == [
        (8080, ["10.0.0.1"]), (9090, ["10.0.0.2"])]


def test_publish_not_ready_addresses() -> None:
    subsets = endpoints.compute_subsets(svc([{"port": 80}], publishNotReadyAddresses=True),
                                        [pod("x", "10.0.0.1", False)])
    assert [a["ip"] for a in subsets[0]["addresses"]] == ["10.0.0.1"]


def test_pod_cidrs_skip_used_ranges_and_reuse_freed_ones() -> None:
    factory = informer_mod.InformerFactory(None)  # type: ignore[arg-type]
    c = nodeipam.NodeIpamController(None, factory, cluster_cidr="10.244.0.0/16")  # type: ignore[arg-type]
    c.nodes.store["a"] = {"metadata": {"name": "a"}, "spec": {"podCIDR": "10.244.0.0/24"}}
    c.nodes.store["b"] = {"metadata": {"name": "b"}, "spec": {"podCIDR": "10.244.2.0/24"}}
    assert c.next_free() == "10.244.1.0/24"
    c.assigned["c"] = "10.244.1.0/24"
    assert c.next_free() == "10.244.3.0/24"
    del c.nodes.store["a"]
    assert c.next_free() == "10.244.0.0/24"
