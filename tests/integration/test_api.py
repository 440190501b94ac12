"""The API server against a real etcd: storage semantics, verbs, selectors, admission."""
from __future__ import annotations

import asyncio
import json
import pathlib
from typing import Any

import pytest

from minik8s.api import errors
from minik8s.api import resources
from minik8s.client import rest
from tests import conftest
from tests.conftest import ApiServerProcess, http

PODS = resources.must("", "v1", "pods")
DEPLOYMENTS = resources.must("apps", "v1", "deployments")
SERVICES = resources.must("", "v1", "services")
NAMESPACES = resources.must("", "v1", "namespaces")
RCS = resources.must("", "v1", "replicationcontrollers")
EVENTS = resources.must("", "v1", "events")
HPA_V1 = resources.must("autoscaling", "v1", "horizontalpodautoscalers")
HPA_V2 = resources.must("autoscaling", "v2", "horizontalpodautoscalers")
LEASES = resources.must("coordination.k8s.io", "v1", "leases")
# Request bodies captured from kubectl 1.32 (copied from the project's shared captures).
CAPTURES = pathlib.Path(__file__).resolve().parent.parent / "data" / "kubectl-captures"


def pod(name: str, labels: dict[str, str] | None = None, **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": labels or {}},
            "spec": {"containers": [{"name": "main", "image": "minik8s/busybox:1"}], **spec}}


def deployment(name: str, replicas: int = 1, image: str = "minik8s/web:1") -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "web", "image": image}]}}}}


async def test_system_namespaces_and_kubernetes_service(client: rest.Client) -> None:
    names = {n["metadata"]["name"] for n in (await client.list(NAMESPACES))["items"]}
    assert {"default", "kube-system", "kube-public", "kube-node-lease"} <= names
    svc = await client.get(SERVICES, "kubernetes", "default")
    assert svc["spec"]["clusterIP"] == "10.96.0.1"
    assert svc["spec"]["ports"][0]["port"] == 443


async def test_create_get_sets_system_metadata(client: rest.Client, namespace: str) -> None:
    created = await client.create(PODS, pod("a"), namespace)
    meta = created["metadata"]
    assert meta["namespace"] == namespace and meta["uid"] and meta["creationTimestamp"]
    assert int(meta["resourceVersion"]) > 0
    got = await client.get(PODS, "a", namespace)
    assert got["metadata"]["resourceVersion"] == meta["resourceVersion"]
    # Defaults were applied on the way in.
    assert got["spec"]["restartPolicy"] == "Always"
    assert got["spec"]["terminationGracePeriodSeconds"] == 30
    assert got["spec"]["containers"][0]["imagePullPolicy"] == "IfNotPresent"
    assert got["status"]["phase"] == "Pending"
    with pytest.raises(errors.AlreadyExists):
        await client.create(PODS, pod("a"), namespace)


async def test_stale_resource_version_conflicts(client: rest.Client, namespace: str) -> None:
    created = await client.create(PODS, pod("b"), namespace)
    first = json.loads(json.dumps(created))
    first["metadata"]["labels"] = {"x": "1"}
    updated = await client.update(PODS, first)
    assert int(updated["metadata"]["resourceVersion"]) > int(created["metadata"]["resourceVersion"])
    stale = json.loads(json.dumps(created))
    stale["metadata"]["labels"] = {"x": "2"}
    with pytest.raises(errors.Conflict):
        await client.update(PODS, stale)
    assert (await client.get(PODS, "b", namespace))["metadata"]["labels"] == {"x": "1"}


async def test_concurrent_writers_never_both_win(client: rest.Client, namespace: str) -> None:
    created = await client.create(PODS, pod("c"), namespace)

    async def write(value: str) -> str:
        obj = json.loads(json.dumps(created))
        obj["metadata"]["labels"] = {"w": value}
        try:
            await client.update(PODS, obj)
            return value
        except errors.Conflict:
            return ""
    results = await asyncio.gather(*(write(str(i)) for i in range(8)))
    winners = [r for r in results if r]
    assert len(winners) == 1
    assert (await client.get(PODS, "c", namespace))["metadata"]["labels"] == {"w": winners[0]}


async def test_generation_follows_spec_and_status_is_separate(client: rest.Client, namespace: str) -> None:
    d = await client.create(DEPLOYMENTS, deployment("gen"), namespace)
    assert d["metadata"]["generation"] == 1
    d["metadata"]["labels"] = {"only": "meta"}
    d["status"] = {"replicas": 99}
    d = await client.update(DEPLOYMENTS, d)
    assert d["metadata"]["generation"] == 1, "metadata-only change must not bump generation"
    assert d.get("status", {}).get("replicas") is None, "status must not be writable through the main resource"
    d["spec"]["replicas"] = 3
    d = await client.update(DEPLOYMENTS, d)
    assert d["metadata"]["generation"] == 2
    d["status"] = {"replicas": 3, "observedGeneration": 2}
    d["spec"]["replicas"] = 7
    d = await client.update_status(DEPLOYMENTS, d)
    assert d["status"]["replicas"] == 3
    assert d["spec"]["replicas"] == 3, "spec must not be writable through /status"


async def test_finalizers_hold_deletion(client: rest.Client, namespace: str) -> None:
    obj = pod("fin")
    obj["metadata"]["finalizers"] = ["example.com/hold"]
    await client.create(PODS, obj, namespace)
    await client.delete(PODS, "fin", namespace)
    held = await client.get(PODS, "fin", namespace)
    assert held["metadata"]["deletionTimestamp"]
    await client.patch(PODS, "fin", {"metadata": {"finalizers": None}}, namespace)
    assert await client.get_or_none(PODS, "fin", namespace) is None


async def test_graceful_delete_of_a_bound_pod(client: rest.Client, namespace: str) -> None:
    await client.create(PODS, pod("bound", nodeName="nowhere"), namespace)
    await client.delete(PODS, "bound", namespace)
    p = await client.get(PODS, "bound", namespace)
    assert p["metadata"]["deletionGracePeriodSeconds"] == 30
    await client.delete(PODS, "bound", namespace, grace_period=0)
    assert await client.get_or_none(PODS, "bound", namespace) is None


async def test_delete_collection_by_label(client: rest.Client, namespace: str) -> None:
    for i, app in enumerate(["a", "a", "b"]):
        await client.create(PODS, pod(f"dc{i}", {"app": app}), namespace)
    await client.request("DELETE", PODS.path(namespace), params={"labelSelector": "app=a"})
    left = [p["metadata"]["name"] for p in (await client.list(PODS, namespace))["items"]]
    assert left == ["dc2"]


@pytest.mark.parametrize("selector,expected", [
    ("app=a", {"s0", "s1"}),
    ("app==a", {"s0", "s1"}),
    ("app!=a", {"s2", "s3"}),
    ("app in (a,b)", {"s0", "s1", "s2"}),
    ("app notin (a,b)", {"s3"}),
    ("tier", {"s1"}),
    ("!tier", {"s0", "s2", "s3"}),
    ("app=a,tier=web", {"s1"}),
])
async def test_label_selectors(client: rest.Client, namespace: str, selector: str, expected: set[str]) -> None:
    for i, labels in enumerate([{"app": "a"}, {"app": "a", "tier": "web"}, {"app": "b"}, {}]):
        await client.create(PODS, pod(f"s{i}", labels), namespace)
    items = (await client.list(PODS, namespace, label_selector=selector))["items"]
    assert {p["metadata"]["name"] for p in items} == expected


async def test_field_selectors_and_bad_selectors(client: rest.Client, namespace: str) -> None:
    await client.create(PODS, pod("f1", nodeName="n1"), namespace)
    await client.create(PODS, pod("f2"), namespace)
    items = (await client.list(PODS, namespace, field_selector="spec.nodeName=n1"))["items"]
    assert [p["metadata"]["name"] for p in items] == ["f1"]
    items = (await client.list(PODS, namespace, field_selector="metadata.name!=f1,status.phase=Pending"))["items"]
    assert [p["metadata"]["name"] for p in items] == ["f2"]
    with pytest.raises(errors.BadRequest):
        await client.list(PODS, namespace, field_selector="spec.bogus=1")
    with pytest.raises(errors.BadRequest):
        await client.list(PODS, namespace, label_selector="app in (")
    # involvedObject.* on events
    await client.create(EVENTS, {"apiVersion": "v1", "kind": "Event", "metadata": {"name": "e1"},
                                 "involvedObject": {"kind": "Pod", "name": "f1", "namespace": namespace},
                                 "reason": "Test", "message": "m", "type": "Normal"}, namespace)
    evs = (await client.list(EVENTS, namespace, field_selector="involvedObject.name=f1,involvedObject.kind=Pod"))
    assert len(evs["items"]) == 1


async def test_lists_carry_resource_version(client: rest.Client, namespace: str) -> None:
    body = await client.list(PODS, namespace)
    assert int(body["metadata"]["resourceVersion"]) > 0
    assert body["kind"] == "PodList"


async def collect(client: rest.Client, res: resources.Resource, namespace: str, n: int, **kw: Any
                  ) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []

    async def run() -> None:
        async for ev in client.watch(res, namespace, **kw):
            if ev["type"] == "BOOKMARK":
                continue
            out.append(ev)
            if len(out) >= n:
                return
    await asyncio.wait_for(run(), 20)
    return out


async def test_watch_from_resource_version_sees_only_later_changes(client: rest.Client, namespace: str) -> None:
    await client.create(PODS, pod("w1"), namespace)
    rv = (await client.list(PODS, namespace))["metadata"]["resourceVersion"]
    task = asyncio.create_task(collect(client, PODS, namespace, 3, resource_version=rv))
    await client.create(PODS, pod("w2"), namespace)
    await client.patch(PODS, "w2", {"metadata": {"labels": {"x": "y"}}}, namespace)
    await client.delete(PODS, "w2", namespace)
    events = await task
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [
        ("ADDED", "w2"), ("MODIFIED", "w2"), ("DELETED", "w2")]
    rvs = [int(e["object"]["metadata"]["resourceVersion"]) for e in events]
    assert rvs == sorted(rvs) and rvs[0] > int(rv)


async def test_watch_from_zero_lists_current_objects_first(client: rest.Client, namespace: str) -> None:
    await client.create(PODS, pod("z1"), namespace)
    await client.create(PODS, pod("z2"), namespace)
    events = await collect(client, PODS, namespace, 2, resource_version="0")
    assert {(e["type"], e["object"]["metadata"]["name"]) for e in events} == {("ADDED", "z1"), ("ADDED", "z2")}


async def test_watch_label_selector_turns_relabel_into_delete(client: rest.Client, namespace: str) -> None:
    await client.create(PODS, pod("l1", {"app": "a"}), namespace)
    rv = (await client.list(PODS, namespace))["metadata"]["resourceVersion"]
    task = asyncio.create_task(collect(client, PODS, namespace, 2, resource_version=rv, label_selector="app=a"))
    await client.patch(PODS, "l1", {"metadata": {"labels": {"app": "b"}}}, namespace)
    await client.patch(PODS, "l1", {"metadata": {"labels": {"app": "a"}}}, namespace)
    events = await task
    assert [e["type"] for e in events] == ["DELETED", "ADDED"]


async def test_watch_timeout_ends_stream(client: rest.Client, namespace: str) -> None:
    async def drain() -> int:
        n = 0
        async for _ in client.watch(PODS, namespace, timeout_seconds=1, bookmarks=False):
            n += 1
        return n
    assert await asyncio.wait_for(drain(), 15) == 0


async def test_scale_subresource(client: rest.Client, namespace: str) -> None:
    await client.create(DEPLOYMENTS, deployment("sc"), namespace)
    scale = await client.request("GET", DEPLOYMENTS.path(namespace, "sc", "scale"))
    assert scale["kind"] == "Scale" and scale["spec"]["replicas"] == 1
    assert scale["status"]["selector"] == "app=sc"
    scale = await client.patch(DEPLOYMENTS, "sc", {"spec": {"replicas": 4}}, namespace, subresource="scale")
    assert scale["spec"]["replicas"] == 4
    assert (await client.get(DEPLOYMENTS, "sc", namespace))["spec"]["replicas"] == 4
    with pytest.raises(errors.Invalid):
        await client.patch(DEPLOYMENTS, "sc", {"spec": {"replicas": -1}}, namespace, subresource="scale")


async def test_three_patch_types(client: rest.Client, namespace: str) -> None:
    d = deployment("p")
    d["spec"]["template"]["spec"]["containers"][0]["env"] = [{"name": "A", "value": "1"}]
    await client.create(DEPLOYMENTS, d, namespace)
    # strategic merge: containers merge by name, env by name
    await client.patch(DEPLOYMENTS, "p", {"spec": {"template": {"spec": {"containers": [
        {"name": "web", "env": [{"name": "B", "value": "2"}]}]}}}}, namespace, patch_type=rest.STRATEGIC_PATCH)
    c = (await client.get(DEPLOYMENTS, "p", namespace))["spec"]["template"]["spec"]["containers"]
    assert len(c) == 1 and c[0]["image"] == "minik8s/web:1"
    assert {e["name"] for e in c[0]["env"]} == {"A", "B"}
    # json patch
    await client.patch(DEPLOYMENTS, "p", [{"op": "replace", "path": "/spec/replicas", "value": 2}], namespace,
                       patch_type=rest.JSON_PATCH)
    assert (await client.get(DEPLOYMENTS, "p", namespace))["spec"]["replicas"] == 2
    # merge patch replaces lists wholesale
    await client.patch(DEPLOYMENTS, "p", {"spec": {"template": {"spec": {"containers": [
        {"name": "other", "image": "minik8s/busybox:1"}]}}}}, namespace)
    c = (await client.get(DEPLOYMENTS, "p", namespace))["spec"]["template"]["spec"]["containers"]
    assert [x["name"] for x in c] == ["other"]
    with pytest.raises(errors.StatusError) as info:
        await client.patch(DEPLOYMENTS, "p", [{"op": "test", "path": "/spec/replicas", "value": 9}], namespace,
                           patch_type=rest.JSON_PATCH)
    assert info.value.code == 422


async def test_invalid_objects_are_rejected_and_nothing_is_stored(client: rest.Client, namespace: str) -> None:
    bad_name = pod("Bad_Name")
    with pytest.raises(errors.Invalid) as info:
        await client.create(PODS, bad_name, namespace)
    assert info.value.code == 422
    assert "metadata.name" in info.value.message
    bad_qty = pod("badqty")
    bad_qty["spec"]["containers"][0]["resources"] = {"limits": {"cpu": "lots"}}
    # As kube-apiserver: a malformed quantity fails decoding (400), before validation.
    with pytest.raises(errors.BadRequest) as bad:
        await client.create(PODS, bad_qty, namespace)
    assert bad.value.message.startswith('Pod in version "v1" cannot be handled as a Pod: quantities must match')
    bad_sel = deployment("badsel")
    bad_sel["spec"]["selector"] = {"matchLabels": {"app": "other"}}
    with pytest.raises(errors.Invalid):
        await client.create(DEPLOYMENTS, bad_sel, namespace)
    names = [p["metadata"]["name"] for p in (await client.list(PODS, namespace))["items"]]
    assert names == []
    assert await client.get_or_none(DEPLOYMENTS, "badsel", namespace) is None


def test_bad_bodies_get_status_errors(apiserver: ApiServerProcess, namespace: str) -> None:
    status, body = http(apiserver, "POST", f"/api/v1/namespaces/{namespace}/pods", b"{not json", check=False)
    assert status == 400 and body["kind"] == "Status" and body["status"] == "Failure"
    status, body = http(apiserver, "POST", f"/api/v1/namespaces/{namespace}/pods",
                        b'{"metadata":{"name":"x"},"spec":{"containers":[{"name":"m","image":"i","env":[{"name":"E","value":"' + b"x" * (4 * 1024 * 1024) + b'"}]}]}}',
                        check=False)
    assert status == 413 and body["reason"] == "RequestEntityTooLarge"
    status, body = http(apiserver, "GET", "/api/v1/namespaces/nope-404/pods/x", check=False)
    assert status == 404 and body["reason"] == "NotFound"
    status, body = http(apiserver, "POST", "/api/v1/namespaces/missing-ns/pods", pod("x"), check=False)
    assert status == 404 and "namespaces" in body["message"]
    status, body = http(apiserver, "GET", "/apis/apps/v1/nonsense", check=False)
    assert status == 404 and body["kind"] == "Status"


def test_protobuf_create_deployment(apiserver: ApiServerProcess, namespace: str) -> None:
    body = (CAPTURES / "create-deployment-nginx.pb").read_bytes()
    status, created = http(apiserver, "POST", f"/apis/apps/v1/namespaces/{namespace}/deployments", body,
                           content_type="application/vnd.kubernetes.protobuf")
    assert status == 201
    assert created["metadata"]["name"] == "nginx"
    assert created["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.14"
    assert created["spec"]["strategy"]["rollingUpdate"] == {"maxSurge": "25%", "maxUnavailable": "25%"}


def test_hpa_served_as_v1_and_v2(apiserver: ApiServerProcess, namespace: str) -> None:
    body = (CAPTURES / "autoscale-web.pb").read_bytes()
    status, created = http(apiserver, "POST", f"/apis/autoscaling/v1/namespaces/{namespace}/horizontalpodautoscalers",
                           body, content_type="application/vnd.kubernetes.protobuf")
    assert status == 201 and created["apiVersion"] == "autoscaling/v1"
    name = created["metadata"]["name"]
    assert created["spec"]["targetCPUUtilizationPercentage"] == 50
    _, v2 = http(apiserver, "GET", f"/apis/autoscaling/v2/namespaces/{namespace}/horizontalpodautoscalers/{name}")
    assert v2["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"] == 50


def test_discovery(apiserver: ApiServerProcess) -> None:
    _, version = http(apiserver, "GET", "/version")
    assert version["major"] == "1" and version["minor"] == "32"
    _, legacy = http(apiserver, "GET", "/api/v1")
    pods = next(r for r in legacy["resources"] if r["name"] == "pods")
    assert pods["shortNames"] == ["po"] and "all" in pods["categories"]
    import urllib.request
    req = urllib.request.Request(apiserver.url + "/apis", headers={
        "Accept": "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"})
    with conftest.opener().open(req) as resp:
        assert resp.headers["Content-Type"] == "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
        doc = json.loads(resp.read())
    assert {g["metadata"]["name"] for g in doc["items"]} >= {"apps", "autoscaling", "coordination.k8s.io"}


async def test_patch_is_retried_on_a_race_unless_it_pins_the_resource_version(client: rest.Client,
                                                                             namespace: str) -> None:
    await client.create(DEPLOYMENTS, deployment("race"), namespace)

    async def bump(i: int) -> None:
        await client.patch(DEPLOYMENTS, "race", {"metadata": {"annotations": {f"a{i}": "x"}}}, namespace)
    # Concurrent patches without a resourceVersion all land (each retried on conflict).
    await asyncio.gather(*(bump(i) for i in range(10)))
    d = await client.get(DEPLOYMENTS, "race", namespace)
    assert {f"a{i}" for i in range(10)} <= set(d["metadata"]["annotations"])
    await asyncio.gather(*(client.patch(DEPLOYMENTS, "race", {"spec": {"replicas": i}}, namespace,
                                        subresource="scale") for i in range(5)))
    # A patch that pins an old resourceVersion is a precondition: 409.
    stale = d["metadata"]["resourceVersion"]
    await client.patch(DEPLOYMENTS, "race", {"metadata": {"labels": {"x": "1"}}}, namespace)
    with pytest.raises(errors.Conflict):
        await client.patch(DEPLOYMENTS, "race", {"metadata": {"resourceVersion": stale, "labels": {"x": "2"}}},
                           namespace)


async def test_status_update_keeps_annotations_but_not_labels(client: rest.Client, namespace: str) -> None:
    d = await client.create(DEPLOYMENTS, deployment("st"), namespace)
    d["metadata"]["annotations"] = {"deployment.kubernetes.io/revision": "1"}
    d["metadata"]["labels"] = {"sneaky": "yes"}
    d["status"] = {"observedGeneration": 1}
    d = await client.update_status(DEPLOYMENTS, d)
    assert d["metadata"]["annotations"] == {"deployment.kubernetes.io/revision": "1"}
    assert "sneaky" not in (d["metadata"].get("labels") or {})


async def test_service_type_change_drops_node_ports(client: rest.Client, namespace: str) -> None:
    svc = await client.create(SERVICES, {"metadata": {"name": "np"}, "spec": {
        "type": "NodePort", "selector": {"app": "x"}, "ports": [{"port": 80}]}}, namespace)
    node_port = svc["spec"]["ports"][0]["nodePort"]
    assert 30000 <= node_port <= 32767
    svc["spec"]["type"] = "ClusterIP"
    svc = await client.update(SERVICES, svc)
    assert "nodePort" not in svc["spec"]["ports"][0]
    assert "externalTrafficPolicy" not in svc["spec"]
    # The port went back to the pool: another Service can ask for it.
    again = await client.create(SERVICES, {"metadata": {"name": "np2"}, "spec": {
        "type": "NodePort", "selector": {"app": "x"}, "ports": [{"port": 80, "nodePort": node_port}]}}, namespace)
    assert again["spec"]["ports"][0]["nodePort"] == node_port


async def test_secret_string_data_and_type(client: rest.Client, namespace: str) -> None:
    secrets = resources.must("", "v1", "secrets")
    s = await client.create(secrets, {"metadata": {"name": "s"}, "stringData": {"k": "v"}}, namespace)
    assert s["type"] == "Opaque" and s["data"] == {"k": "dg=="} and "stringData" not in s
    assert "generation" not in s["metadata"]


async def test_non_string_env_value_is_rejected(client: rest.Client, namespace: str) -> None:
    p = pod("envbool")
    p["spec"]["containers"][0]["env"] = [{"name": "N", "value": False}]
    # As kube-apiserver: Go's decoder refuses the bool before validation sees it.
    with pytest.raises(errors.BadRequest) as info:
        await client.create(PODS, p, namespace)
    assert info.value.message == ('Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal bool '
                                  'into Go struct field EnvVar.spec.containers.env.value of type string')
