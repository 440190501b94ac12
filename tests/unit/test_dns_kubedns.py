"""Keeping kube-system/kube-dns: what is written for each state of the Service and Endpoints."""
from __future__ import annotations

import copy
from typing import Any

from minik8s.api import errors
from minik8s.api import resources
from minik8s.dns import kubedns

TARGET = kubedns.Target(service_ip="10.96.0.10", address="172.31.0.1", port=53)


class RecordingClient:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, Any]] = []
        self.fail_create_with: errors.StatusError | None = None

    async def create(self, res: resources.Resource, obj: dict[str, Any], namespace: str | None = None,
                     **_kw: Any) -> dict[str, Any]:
        self.calls.append(("create", res.plural, obj))
        if self.fail_create_with:
            raise self.fail_create_with
        return obj

    async def patch(self, res: resources.Resource, name: str, patch: Any, namespace: str | None = None,
                    **_kw: Any) -> dict[str, Any]:
        self.calls.append(("patch", res.plural, patch))
        return {}

    async def update(self, res: resources.Resource, obj: dict[str, Any], **_kw: Any) -> dict[str, Any]:
        self.calls.append(("update", res.plural, obj))
        return obj


def stored_service() -> dict[str, Any]:
    svc = kubedns.desired_service(TARGET)
    svc["metadata"].update(resourceVersion="5", uid="u1")
    svc["spec"]["clusterIPs"] = ["10.96.0.10"]
    svc["spec"]["sessionAffinity"] = "None"
    return svc


def stored_endpoints() -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Endpoints",
            "metadata": {"name": "kube-dns", "namespace": "kube-system", "resourceVersion": "6"},
            "subsets": kubedns.desired_subsets(TARGET)}


async def test_creates_service_and_endpoints_when_missing() -> None:
    client = RecordingClient()
    await kubedns.sync(client, None, None, TARGET)  # type: ignore[arg-type]
    assert [(verb, plural) for verb, plural, _ in client.calls] == [("create", "services"), ("create", "endpoints")]
    svc = client.calls[0][2]
    assert svc["metadata"]["namespace"] == "kube-system" and svc["metadata"]["name"] == "kube-dns"
    assert svc["spec"]["clusterIP"] == "10.96.0.10" and "selector" not in svc["spec"]
    assert svc["spec"]["ports"] == [{"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53},
                                    {"name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": 53}]
    assert client.calls[1][2]["subsets"] == [{
        "addresses": [{"ip": "172.31.0.1"}],
        "ports": [{"name": "dns", "port": 53, "protocol": "UDP"}, {"name": "dns-tcp", "port": 53, "protocol": "TCP"}]}]


async def test_converged_writes_nothing() -> None:
    client = RecordingClient()
    await kubedns.sync(client, stored_service(), stored_endpoints(), TARGET)  # type: ignore[arg-type]
    assert client.calls == []


async def test_puts_back_ports_and_removes_a_selector() -> None:
    client = RecordingClient()
    svc = stored_service()
    svc["spec"]["ports"] = [{"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 5353}]
    svc["spec"]["selector"] = {"app": "x"}
    await kubedns.sync(client, svc, stored_endpoints(), TARGET)  # type: ignore[arg-type]
    assert client.calls == [("patch", "services", {"spec": {"ports": kubedns.service_ports(53), "selector": None}})]


async def test_points_endpoints_at_a_moved_server() -> None:
    client = RecordingClient()
    moved = kubedns.Target("10.96.0.10", "172.31.0.5", 5353)
    await kubedns.sync(client, stored_service(), stored_endpoints(), moved)  # type: ignore[arg-type]
    verbs = [(verb, plural) for verb, plural, _ in client.calls]
    assert verbs == [("patch", "services"), ("update", "endpoints")]
    ep = client.calls[1][2]
    assert ep["metadata"]["resourceVersion"] == "6"  # an update of what we saw: a conflict retries
    assert ep["subsets"][0]["addresses"] == [{"ip": "172.31.0.5"}]
    assert {p["port"] for p in ep["subsets"][0]["ports"]} == {5353}


async def test_another_cluster_ip_is_reported_not_replaced() -> None:
    client = RecordingClient()
    svc = stored_service()
    svc["spec"]["clusterIP"] = "10.96.0.99"
    await kubedns.sync(client, svc, stored_endpoints(), TARGET)  # type: ignore[arg-type]
    assert client.calls == []


async def test_loopback_server_keeps_the_service_but_no_endpoints() -> None:
    client = RecordingClient()
    await kubedns.sync(client, None, None, kubedns.Target("10.96.0.10", "127.0.0.1", 5353))  # type: ignore[arg-type]
    assert [(verb, plural) for verb, plural, _ in client.calls] == [("create", "services")]


async def test_a_create_race_is_left_to_the_next_sync() -> None:
    client = RecordingClient()
    client.fail_create_with = errors.AlreadyExists("services", "kube-dns")
    await kubedns.sync(client, None, copy.deepcopy(stored_endpoints()), TARGET)  # type: ignore[arg-type]
    assert [(verb, plural) for verb, plural, _ in client.calls] == [("create", "services")]


def test_live_addresses_are_the_leases_renewed_within_their_duration() -> None:
    now = 1_000_000.0
    leases = [kubedns.desired_lease("172.31.0.3", "m3_x", 15, now - 14.0),
              kubedns.desired_lease("172.31.0.2", "m2_x", 15, now - 1.0),
              kubedns.desired_lease("172.31.0.4", "m4_x", 15, now - 15.5),  # ran out
              {"metadata": {"name": "kube-dns-x", "annotations": {kubedns.ADDRESS_ANNOTATION: "not-an-ip"}},
               "spec": {"renewTime": "2026-01-01T00:00:00.000000Z", "leaseDurationSeconds": 10 ** 9}},
              {"metadata": {"name": "kube-dns-y"}, "spec": {}}]
    assert kubedns.live_addresses(leases, now) == ["172.31.0.2", "172.31.0.3"]
    assert kubedns.live_addresses([], now) == []


def test_a_lease_is_named_and_labelled_for_its_address() -> None:
    lease = kubedns.desired_lease("fd00::a", "id", 15, 0.0)
    assert lease["metadata"]["name"] == "kube-dns-fd00--a"
    assert lease["metadata"]["namespace"] == "kube-system"
    assert lease["metadata"]["labels"] == {"k8s-app": "kube-dns"}
    assert lease["metadata"]["annotations"] == {kubedns.ADDRESS_ANNOTATION: "fd00::a"}
    assert lease["spec"] == {"holderIdentity": "id", "leaseDurationSeconds": 15,
                             "renewTime": "1970-01-01T00:00:00.000000Z"}


async def test_endpoints_list_every_live_server_and_none_when_the_last_leaves() -> None:
    client = RecordingClient()
    await kubedns.sync(client, stored_service(), stored_endpoints(), TARGET,  # type: ignore[arg-type]
                       ["172.31.0.1", "172.31.0.2"])
    [(verb, plural, body)] = client.calls
    assert (verb, plural) == ("update", "endpoints")
    assert body["subsets"][0]["addresses"] == [{"ip": "172.31.0.1"}, {"ip": "172.31.0.2"}]
    client = RecordingClient()
    await kubedns.sync(client, stored_service(), stored_endpoints(), TARGET, [])  # type: ignore[arg-type]
    assert [(c[0], c[2]["subsets"]) for c in client.calls] == [("update", [])]
