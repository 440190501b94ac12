"""Field sets as FieldsV1, managedFields entries, and Kubernetes' field manager on real kinds.

The FieldsV1 documents below are what kube-apiserver stores for the same writes
(`kubectl create deployment`, `kubectl apply --server-side`); the field manager's
steps (before-first-apply, stripping metadata, capping update managers, the
client-side apply migration) follow apimachinery's managedfields/internal tests.
"""
from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from minik8s.api import errors
from minik8s.api import kinds
from minik8s.api import resources
from minik8s.api.ssa import fieldpath
from minik8s.api.ssa import kube
from minik8s.api.ssa import managedfields
from minik8s.api.ssa import merge
from minik8s.api.ssa import typed

DEPLOYMENTS = resources.must("apps", "v1", "deployments")
CONFIGMAPS = resources.must("", "v1", "configmaps")
SERVICES = resources.must("", "v1", "services")


# --------------------------------------------------------------------------- fieldpath


def test_fields_v1_round_trip_and_order() -> None:
    doc = {"f:metadata": {"f:labels": {".": {}, "f:app": {}}},
           "f:spec": {"f:ports": {".": {}, 'k:{"port":80,"protocol":"TCP"}': {".": {}, "f:port": {}}},
                      "f:finalizers": {'v:"b"': {}, 'v:"a"': {}}}}
    s = fieldpath.Set.from_fields(doc)
    out = s.to_fields()
    assert out == doc
    # Sorted as structured-merge-diff sorts elements: fields by name, set values by value.
    assert list(out["f:spec"]) == ["f:finalizers", "f:ports"]
    assert list(out["f:spec"]["f:finalizers"]) == ['v:"a"', 'v:"b"']
    assert list(out["f:spec"]["f:ports"]) == [".", 'k:{"port":80,"protocol":"TCP"}']
    assert s.has(("f:metadata", "f:labels")) and s.has(("f:metadata", "f:labels", "f:app"))
    assert not s.has(("f:metadata",)) and not s.has(("f:spec", "f:ports", 'k:{"port":80,"protocol":"TCP"}', "f:x"))


def test_keys_are_canonical_whatever_their_spelling() -> None:
    s = fieldpath.Set.from_fields({'k:{ "protocol": "TCP", "containerPort": 80 }': {}})
    assert s.members == {'k:{"containerPort":80,"protocol":"TCP"}'}
    assert fieldpath.key({"b": "<x>", "a": 1}) == 'k:{"a":1,"b":"\\u003cx\\u003e"}'  # Go's HTML escaping
    assert fieldpath.Set.from_fields({"x:unknown": {}, "f:a": {}}).members == {"f:a"}
    with pytest.raises(fieldpath.FieldsError):
        fieldpath.Set.from_fields({"k:not json": {}})
    with pytest.raises(fieldpath.FieldsError):
        fieldpath.Set.from_fields({"f:a": []})


def test_path_strings() -> None:
    path = ("f:spec", "f:containers", fieldpath.key({"name": "web"}), "f:ports",
            fieldpath.key({"containerPort": 80, "protocol": "TCP"}), "f:name")
    assert fieldpath.path_string(path) == '.spec.containers[name="web"].ports[containerPort=80,protocol="TCP"].name'
    assert fieldpath.path_string(("f:finalizers", fieldpath.value("a"))) == '.finalizers[="a"]'
    assert fieldpath.path_string(("f:args", fieldpath.index(2))) == ".args[2]"


def test_set_operations() -> None:
    a = fieldpath.Set.of(("f:a",), ("f:b", "f:c"), ("f:b", "f:d"))
    b = fieldpath.Set.of(("f:b",), ("f:b", "f:c"))
    assert a.union(b) == fieldpath.Set.of(("f:a",), ("f:b",), ("f:b", "f:c"), ("f:b", "f:d"))
    assert a.intersection(b) == fieldpath.Set.of(("f:b", "f:c"))
    assert a.difference(b) == fieldpath.Set.of(("f:a",), ("f:b", "f:d"))
    # A member removes everything below it only in the recursive difference.
    assert a.recursive_difference(b) == fieldpath.Set.of(("f:a",))
    assert fieldpath.Set.of(("f:b", "f:c")).leaves() == fieldpath.Set.of(("f:b", "f:c"))
    assert b.leaves() == fieldpath.Set.of(("f:b", "f:c"))
    assert [fieldpath.path_string(p) for p in a.paths()] == [".a", ".b.c", ".b.d"]


# --------------------------------------------------------------------------- typed, on the API schema


def _deployment(image: str = "nginx:1.14", replicas: int = 1) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "nginx", "namespace": "default", "labels": {"app": "nginx"}},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "nginx"}},
                 "template": {"metadata": {"labels": {"app": "nginx"}},
                              "spec": {"containers": [{"name": "nginx", "image": image, "resources": {},
                                                       "ports": [{"containerPort": 80}]}]}},
                 "strategy": {}}}
    kinds.apply_defaults(DEPLOYMENTS, obj)
    return obj


def test_types_follow_list_type_map_type_and_patch_strategy() -> None:
    from minik8s.api import schema
    pod_spec = typed.for_message(schema.for_kind("", "v1", "Pod")).member("spec")
    containers = pod_spec.member("containers")
    assert containers.associative and containers.keys == ("name",)
    ports = containers.elem.member("ports")
    assert ports.keys == ("containerPort", "protocol") and ports.key_defaults == {"protocol": "TCP"}
    assert containers.elem.member("command").atomic  # +listType=atomic
    selector = typed.for_message(schema.for_kind("apps", "v1", "Deployment")).member("spec").member("selector")
    assert selector.atomic  # LabelSelector is +structType=atomic
    assert not typed.for_message(schema.for_kind("", "v1", "ConfigMap")).member("data").atomic
    assert typed.for_message(schema.for_kind("", "v1", "Node")).member("spec").member("podCIDRs").associative


def test_create_records_what_kubernetes_records() -> None:
    out = kube.track_update(DEPLOYMENTS, None, None, _deployment(), "kubectl-create")
    [entry] = out["metadata"]["managedFields"]
    assert {k: entry[k] for k in ("manager", "operation", "apiVersion", "fieldsType")} == {
        "manager": "kubectl-create", "operation": "Update", "apiVersion": "apps/v1", "fieldsType": "FieldsV1"}
    spec = entry["fieldsV1"]["f:spec"]
    # Non-pointer structs exist in Go's empty object: no "." for strategy, one for rollingUpdate.
    assert spec["f:strategy"] == {"f:rollingUpdate": {".": {}, "f:maxSurge": {}, "f:maxUnavailable": {}},
                                  "f:type": {}}
    assert spec["f:selector"] == {}  # atomic
    container = spec["f:template"]["f:spec"]["f:containers"]['k:{"name":"nginx"}']
    assert container["f:ports"] == {".": {}, 'k:{"containerPort":80,"protocol":"TCP"}': {
        ".": {}, "f:containerPort": {}, "f:protocol": {}}}
    assert container["f:resources"] == {}
    assert entry["fieldsV1"]["f:metadata"] == {"f:labels": {".": {}, "f:app": {}}}


def test_updates_of_an_untracked_object_stay_untracked_until_the_first_apply() -> None:
    live = _deployment()
    live["metadata"]["uid"] = "u"
    new = copy.deepcopy(live)
    new["spec"]["replicas"] = 3
    assert "managedFields" not in kube.track_update(DEPLOYMENTS, None, live, new, "someone")["metadata"]
    fm = kube.field_manager(DEPLOYMENTS)
    config = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "nginx"}, "spec": {"replicas": 3}}
    # What was there belongs to before-first-apply, so changing it is a conflict...
    with pytest.raises(errors.StatusError, match='conflict with "before-first-apply" using apps/v1: .spec.replicas'):
        fm.apply(live, config, "applier", False)
    applied = fm.apply(live, config, "applier", True)
    managers = {(e["manager"], e["operation"]) for e in applied["metadata"]["managedFields"]}
    assert managers == {("applier", "Apply"), ("before-first-apply", "Update")}
    assert applied["spec"]["replicas"] == 3
    # ... and nothing the applier never applied is removed.
    assert applied["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.14"


def test_update_takes_changed_fields_and_merges_into_the_manager_entry() -> None:
    created = kube.track_update(DEPLOYMENTS, None, None, _deployment(), "creator")
    new = copy.deepcopy(created)
    new["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:2"
    updated = kube.track_update(DEPLOYMENTS, None, created, new, "updater")
    by_manager = {e["manager"]: fieldpath.Set.from_fields(e["fieldsV1"]) for e in updated["metadata"]["managedFields"]}
    image = ("f:spec", "f:template", "f:spec", "f:containers", 'k:{"name":"nginx"}', "f:image")
    assert by_manager["updater"] == fieldpath.Set.of(image)
    assert not by_manager["creator"].has(image)
    # No change: the entries are kept as they are.
    again = kube.track_update(DEPLOYMENTS, None, updated, copy.deepcopy(updated), "third")
    assert again["metadata"]["managedFields"] == updated["metadata"]["managedFields"]


def test_status_writes_are_owned_through_the_status_subresource() -> None:
    created = kube.track_update(DEPLOYMENTS, None, None, _deployment(), "creator")
    new = copy.deepcopy(created)
    new["status"] = {"replicas": 1, "observedGeneration": 1}
    out = kube.track_update(DEPLOYMENTS, "status", created, new, "controller")
    entry = next(e for e in out["metadata"]["managedFields"] if e["manager"] == "controller")
    assert entry["subresource"] == "status"
    assert entry["fieldsV1"] == {"f:status": {"f:observedGeneration": {}, "f:replicas": {}}}


def test_apply_conflicts_are_a_409_naming_each_field_and_its_manager() -> None:
    created = kube.track_update(DEPLOYMENTS, None, None, _deployment(), "kubectl-create")
    fm = kube.field_manager(DEPLOYMENTS)
    config = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "nginx"},
              "spec": {"replicas": 3, "template": {"spec": {"containers": [{"name": "nginx", "image": "nginx:2"}]}}}}
    with pytest.raises(errors.StatusError) as e:
        fm.apply(created, config, "kubectl", False)
    status = e.value.status()
    assert status["code"] == 409 and status["reason"] == "Conflict"
    assert status["message"] == (
        'Apply failed with 2 conflicts: conflicts with "kubectl-create" using apps/v1:\n'
        '- .spec.replicas\n- .spec.template.spec.containers[name="nginx"].image')
    assert status["details"]["causes"] == [
        {"type": "FieldManagerConflict", "message": 'conflict with "kubectl-create" using apps/v1',
         "field": ".spec.replicas"},
        {"type": "FieldManagerConflict", "message": 'conflict with "kubectl-create" using apps/v1',
         "field": '.spec.template.spec.containers[name="nginx"].image'}]
    # Forced: the applier takes both fields; the creator keeps the rest.
    forced = fm.apply(created, config, "kubectl", True)
    assert forced["spec"]["replicas"] == 3
    assert forced["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:2"
    owners = {e["manager"]: fieldpath.Set.from_fields(e["fieldsV1"]) for e in forced["metadata"]["managedFields"]}
    assert not owners["kubectl-create"].has(("f:spec", "f:replicas"))
    assert owners["kubectl"].has(("f:spec", "f:replicas"))
    # Dropping a field from the configuration removes it: nobody else owns it now.
    del config["spec"]["replicas"]
    pruned = fm.apply(forced, config, "kubectl", False)
    assert "replicas" not in pruned["spec"]


def test_one_conflict_message() -> None:
    status = managedfields.conflict_error(merge.Conflicts([merge.Conflict(
        managedfields.identifier("kube-controller-manager", "Update", "apps/v1", "status"),
        ("f:status", "f:replicas"))])).status()
    assert status["message"] == ('Apply failed with 1 conflict: conflict with "kube-controller-manager" with '
                                 'subresource "status" using apps/v1: .status.replicas')


def test_shared_ownership_when_the_value_matches() -> None:
    fm = kube.field_manager(CONFIGMAPS)
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "1", "b": "2"}}
    one = fm.apply(None, cm, "one", False)
    two = fm.apply(one, {**cm, "data": {"a": "1"}}, "two", False)
    owners = {e["manager"]: fieldpath.Set.from_fields(e["fieldsV1"]) for e in two["metadata"]["managedFields"]}
    assert owners["one"].has(("f:data", "f:a")) and owners["two"].has(("f:data", "f:a"))
    # "one" stops applying a: "two" still owns it, so it stays; b goes with "one"'s claim.
    three = fm.apply(two, {**cm, "data": {}}, "one", False)
    assert three["data"] == {"a": "1"}


def test_apply_checks_the_configuration() -> None:
    fm = kube.field_manager(CONFIGMAPS)
    with pytest.raises(errors.BadRequest, match="invalid object type: apps/v1, Kind=ConfigMap"):
        fm.apply(None, {"apiVersion": "apps/v1", "kind": "ConfigMap"}, "m", False)
    with pytest.raises(errors.BadRequest, match="metadata.managedFields must be nil"):
        fm.apply(None, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"managedFields": []}}, "m", False)
    svc = kube.field_manager(SERVICES)
    dup = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
           "spec": {"ports": [{"port": 80}, {"port": 80, "protocol": "TCP"}]}}
    with pytest.raises(errors.BadRequest, match=r'\.spec\.ports: duplicate entries for key \[port=80,protocol="TCP"\]'):
        svc.apply(None, dup, "m", False)


def test_update_managers_are_capped_at_ten() -> None:
    fm = kube.field_manager(CONFIGMAPS)
    obj = fm.update(None, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {}}, "m0")
    for i in range(1, 14):
        new = copy.deepcopy(obj)
        new["data"][f"k{i}"] = "v"
        obj = fm.update(obj, new, f"m{i}")
    entries = obj["metadata"]["managedFields"]
    assert len(entries) == 10
    ancient = [e for e in entries if e["manager"] == "ancient-changes"]
    # Same timestamps: the oldest are taken in identifier order (m0, m1, m10, m11, m12).
    assert len(ancient) == 1 and set(ancient[0]["fieldsV1"]["f:data"]) == {".", "f:k1", "f:k10", "f:k11", "f:k12"}


def test_kubectl_takes_over_from_client_side_apply_without_conflicts() -> None:
    """The migration: fields whose values match last-applied are not conflicts for `kubectl`."""
    fm = kube.field_manager(CONFIGMAPS)
    last = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "1", "b": "2"}}
    csa = {**copy.deepcopy(last), "metadata": {"name": "c", "annotations": {
        managedfields.LAST_APPLIED: json.dumps(last)}}}
    live = fm.update(None, csa, "kubectl-client-side-apply")
    live["data"]["b"] = "changed-by-hand"
    live = fm.update(live, live, "kubectl-edit")
    config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "10", "b": "20"}}
    with pytest.raises(errors.StatusError) as e:
        fm.apply(live, config, "kubectl", False)
    # a matches last-applied (forced); b was edited by someone else: still a conflict.
    assert [c["field"] for c in e.value.details["causes"]] == [".data.b"]
    applied = fm.apply(live, {**config, "data": {"a": "10"}}, "kubectl", False)
    assert applied["data"]["a"] == "10"
    assert json.loads(applied["metadata"]["annotations"][managedfields.LAST_APPLIED]) == {
        **config, "data": {"a": "10"}}
    # Another manager gets no such leniency.
    with pytest.raises(errors.StatusError):
        fm.apply(live, {**config, "data": {"a": "10"}}, "other", False)


def test_managed_fields_set_by_a_request_are_kept_and_an_empty_list_resets() -> None:
    fm = kube.field_manager(CONFIGMAPS)
    live = fm.update(None, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "1"}},
                     "creator")
    mine = [{"manager": "mine", "operation": "Apply", "apiVersion": "v1", "fieldsType": "FieldsV1",
             "fieldsV1": {"f:data": {"f:a": {}}}}]
    new = {**live, "metadata": {**live["metadata"], "managedFields": mine}}
    assert [e["manager"] for e in fm.update(live, new, "x")["metadata"]["managedFields"]] == ["mine"]
    reset = {**live, "metadata": {**live["metadata"], "managedFields": []}}
    assert "managedFields" not in fm.update({**live, "metadata": {**live["metadata"], "uid": "u"}}, reset,
                                            "x")["metadata"]
    # Entries that do not decode fall back to the stored ones.
    bad = {**live, "metadata": {**live["metadata"], "managedFields": [{"manager": "x", "operation": "Bogus"}]}}
    assert [e["manager"] for e in fm.update(live, bad, "x")["metadata"]["managedFields"]] == ["creator"]
