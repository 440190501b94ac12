"""PATCH application: merge patch, JSON patch and strategic merge patch, as kube-apiserver does them.

The kubectl-shaped cases use the bodies kubectl 1.32 sends (see shared/KUBECTL_API.md);
the MergeItem cases are ported from k8s.io/apimachinery/pkg/util/strategicpatch/patch_test.go
(mainline), applying each expected two-way patch to `original` and three-way patch to `current`.
"""
from __future__ import annotations

import copy
import json
from typing import Any

import pytest
import yaml

from minik8s.api import errors, patch, strategicpatch

SMP = "application/strategic-merge-patch+json"
MERGE = "application/merge-patch+json"
JSONPATCH = "application/json-patch+json"


def body(value: Any) -> bytes:
    return json.dumps(value).encode()


def smp(original: dict[str, Any], patch_: dict[str, Any], kind: str) -> dict[str, Any]:
    """Apply through the public entry point, checking neither input is modified."""
    before_original, before_patch = copy.deepcopy(original), copy.deepcopy(patch_)
    result = strategicpatch.strategic_merge_patch(original, patch_, kind)
    assert original == before_original
    assert patch_ == before_patch
    return result


def deployment(containers: list[dict[str, Any]] | None = None, **spec: Any) -> dict[str, Any]:
    template_spec: dict[str, Any] = {
        "containers": containers if containers is not None else [{
            "name": "nginx", "image": "nginx:1.14", "ports": [{"containerPort": 80, "protocol": "TCP"}],
            "resources": {}, "terminationMessagePath": "/dev/termination-log", "imagePullPolicy": "IfNotPresent",
        }],
        "restartPolicy": "Always",
    }
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default", "uid": "u-1", "resourceVersion": "7",
                     "labels": {"app": "web"},
                     "annotations": {"deployment.kubernetes.io/revision": "1"}},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}}, "spec": template_spec},
                 "strategy": {"type": "RollingUpdate",
                              "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}},
                 **spec},
        "status": {"replicas": 1},
    }


def containers_of(obj: dict[str, Any]) -> list[dict[str, Any]]:
    return obj["spec"]["template"]["spec"]["containers"]


# ------------------------------------------------------------------ dispatch and decoding


def test_dispatch_on_media_type_ignores_parameters_and_case() -> None:
    obj = {"metadata": {"name": "x", "labels": {"a": "1"}}}
    out = patch.apply_patch(obj, b'{"metadata":{"labels":{"b":"2"}}}', "Application/Merge-Patch+JSON; charset=utf-8",
                            "Pod")
    assert out["metadata"]["labels"] == {"a": "1", "b": "2"}


def test_apply_patch_returns_new_object_for_every_type() -> None:
    original = deployment()
    snapshot = copy.deepcopy(original)
    bodies = {
        MERGE: body({"spec": {"replicas": 5}}),
        JSONPATCH: body([{"op": "replace", "path": "/spec/replicas", "value": 5}]),
        SMP: body({"spec": {"replicas": 5, "template": {"spec": {"containers": [{"name": "nginx", "image": "x"}]}}}}),
    }
    for content_type, raw in bodies.items():
        out = patch.apply_patch(original, raw, content_type, "Deployment")
        assert out["spec"]["replicas"] == 5
        assert original == snapshot, content_type
        out["metadata"]["labels"]["mutated"] = "yes"  # results share nothing with the input
        assert original == snapshot, content_type


@pytest.mark.parametrize("content_type", ["application/apply-patch+yaml", "application/apply-patch+cbor"])
def test_server_side_apply_is_not_a_patch(content_type: str) -> None:
    # The field manager handles apply (minik8s.api.ssa); as a plain patch it is a 415.
    with pytest.raises(errors.UnsupportedMediaType) as e:
        patch.apply_patch({}, b"apiVersion: v1\nkind: Pod\n", content_type, "Pod")
    assert e.value.code == 415
    assert "server-side apply" in e.value.message


@pytest.mark.parametrize("content_type", ["application/json", "text/plain", ""])
def test_unknown_media_type_lists_accepted_types(content_type: str) -> None:
    with pytest.raises(errors.UnsupportedMediaType) as e:
        patch.apply_patch({}, b"{}", content_type, "Pod")
    assert e.value.code == 415
    assert e.value.message == ("the body of the request was in an unknown format - accepted media types include: "
                               "application/json-patch+json, application/merge-patch+json, "
                               "application/strategic-merge-patch+json, application/apply-patch+yaml")


@pytest.mark.parametrize("content_type", [MERGE, JSONPATCH, SMP])
@pytest.mark.parametrize("raw", [b"", b"{not json", b'{"a": NaN}', b"\xff\xfe"])
def test_undecodable_body_is_bad_request(content_type: str, raw: bytes) -> None:
    with pytest.raises(errors.BadRequest) as e:
        patch.apply_patch({"a": 1}, raw, content_type, "Pod")
    assert e.value.code == 400
    assert e.value.reason == "BadRequest"


@pytest.mark.parametrize("content_type", [MERGE, JSONPATCH, SMP])
def test_deeply_nested_patch_is_bad_request(content_type: str) -> None:
    # Found by the fuzz suite (tests/fuzz/test_fuzz_writes.py, a "huge" mutation 600 levels deep
    # sent as a patch): orjson decodes it, the patch code then recursed past Python's limit (500).
    value: Any = "x"
    for i in range(700):
        value = [value] if i % 2 else {"n": value}
    doc = [{"op": "add", "path": "/spec", "value": value}] if content_type == JSONPATCH else {"spec": value}
    with pytest.raises(errors.BadRequest, match="nested too deeply"):
        patch.apply_patch({"metadata": {"name": "a"}}, json.dumps(doc).encode(), content_type, "Pod")


@pytest.mark.parametrize("content_type,raw", [
    (MERGE, b'["a"]'), (MERGE, b'"x"'), (MERGE, b"null"), (MERGE, b"3"),
    (SMP, b"[]"), (SMP, b"null"),
    (JSONPATCH, b"{}"), (JSONPATCH, b'"x"'), (JSONPATCH, b"[1]"), (JSONPATCH, b'[{"op":"add"}, "x"]'),
])
def test_wrong_json_type_is_bad_request(content_type: str, raw: bytes) -> None:
    with pytest.raises(errors.BadRequest):
        patch.apply_patch({"a": 1}, raw, content_type, "Pod")


# ------------------------------------------------------------------ JSON merge patch (RFC 7386)

# RFC 7386 appendix A, verbatim.
RFC7386_CASES = [
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
    (["a", "b"], ["c", "d"], ["c", "d"]),
    ({"a": "b"}, ["c"], ["c"]),
    ({"a": "foo"}, None, None),
    ({"a": "foo"}, "bar", "bar"),
    ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
    ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
]


@pytest.mark.parametrize("original,patch_,expected", RFC7386_CASES)
def test_merge_patch_rfc7386_examples(original: Any, patch_: Any, expected: Any) -> None:
    before = copy.deepcopy(original)
    assert patch.merge_patch(original, patch_) == expected
    assert original == before


def test_merge_patch_drops_nulls_inside_added_arrays_of_objects() -> None:
    # evanphx/json-patch (kube-apiserver) prunes null members of objects it adds.
    assert patch.merge_patch({}, {"l": [{"a": 1, "b": None}, None]}) == {"l": [{"a": 1}, None]}


def test_merge_patch_kubectl_label_add_and_remove() -> None:
    pod = {"kind": "Pod", "metadata": {"name": "x", "labels": {"app": "web", "env": "dev"}}, "spec": {}}
    added = patch.apply_patch(pod, b'{"metadata":{"labels":{"tier":"fe","env":"prod"}}}', MERGE, "Pod")
    assert added["metadata"]["labels"] == {"app": "web", "env": "prod", "tier": "fe"}
    removed = patch.apply_patch(added, b'{"metadata":{"labels":{"env":null}}}', MERGE, "Pod")
    assert removed["metadata"]["labels"] == {"app": "web", "tier": "fe"}
    # Removing a label that is not there is not an error.
    assert patch.apply_patch(pod, b'{"metadata":{"labels":{"nope":null}}}', MERGE, "Pod") == pod


def test_merge_patch_kubectl_scale() -> None:
    scale = {"kind": "Scale", "apiVersion": "autoscaling/v1", "metadata": {"name": "web"},
             "spec": {"replicas": 1}, "status": {"replicas": 1, "selector": "app=web"}}
    out = patch.apply_patch(scale, b'{"spec":{"replicas":3}}', MERGE, "Scale")
    assert out["spec"] == {"replicas": 3}
    assert out["status"] == scale["status"]


def test_merge_patch_replaces_lists_even_where_strategic_merge_would_merge() -> None:
    dep = deployment()
    out = patch.apply_patch(dep, body({"spec": {"template": {"spec": {"containers": [{"name": "side"}]}}}}),
                            MERGE, "Deployment")
    assert containers_of(out) == [{"name": "side"}]


# ------------------------------------------------------------------ JSON patch (RFC 6902)


def test_json_patch_kubectl_rollout_undo() -> None:
    dep = deployment()
    dep["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"] = "{}"
    old_template = {"metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "nginx", "image": "nginx:1.12"}]}}
    ops = [{"op": "replace", "path": "/spec/template", "value": old_template},
           {"op": "replace", "path": "/metadata/annotations",
            "value": {"deployment.kubernetes.io/revision": "2",
                      "kubectl.kubernetes.io/last-applied-configuration": "{}"}}]
    out = patch.apply_patch(dep, body(ops), JSONPATCH, "Deployment")
    assert out["spec"]["template"] == old_template
    assert out["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"
    assert out["spec"]["strategy"] == dep["spec"]["strategy"]
    assert dep["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.14"


def test_json_patch_all_operations() -> None:
    doc = {"metadata": {"labels": {"a": "1"}}, "l": [1, 2, 3], "x": {"y": True}}
    ops = [
        {"op": "test", "path": "/x/y", "value": True},
        {"op": "add", "path": "/metadata/labels/b~1c", "value": "2"},
        {"op": "add", "path": "/l/1", "value": 9},
        {"op": "add", "path": "/l/-", "value": 4},
        {"op": "remove", "path": "/l/0"},
        {"op": "replace", "path": "/x/y", "value": False},
        {"op": "copy", "from": "/metadata/labels", "path": "/copied"},
        {"op": "move", "from": "/x", "path": "/moved"},
    ]
    assert patch.json_patch(doc, ops) == {
        "metadata": {"labels": {"a": "1", "b/c": "2"}}, "l": [9, 2, 3, 4],
        "copied": {"a": "1", "b/c": "2"}, "moved": {"y": False},
    }
    assert doc == {"metadata": {"labels": {"a": "1"}}, "l": [1, 2, 3], "x": {"y": True}}


def test_json_patch_result_does_not_alias_operation_values() -> None:
    value = {"k": ["v"]}
    out = patch.json_patch({}, [{"op": "add", "path": "/a", "value": value}])
    out["a"]["k"].append("w")
    assert value == {"k": ["v"]}


def test_json_patch_empty_list_is_a_copy() -> None:
    doc = {"a": {"b": 1}}
    out = patch.json_patch(doc, [])
    assert out == doc and out is not doc


@pytest.mark.parametrize("ops,fragment", [
    ([{"op": "test", "path": "/spec/replicas", "value": 2}], "testing value /spec/replicas failed"),
    # RFC 6902: true is not 1.
    ([{"op": "test", "path": "/spec/replicas", "value": True}], "testing value /spec/replicas failed"),
    ([{"op": "test", "path": "/nope", "value": 1}], "testing value /nope failed"),
    ([{"op": "remove", "path": "/metadata/nope"}], "doc is missing path"),
    ([{"op": "replace", "path": "/metadata/nope", "value": 1}], "doc is missing path"),
    ([{"op": "add", "path": "/metadata/annotations/a", "value": "1"}], "doc is missing path"),
    ([{"op": "move", "from": "/nope", "path": "/x"}], "doc is missing path"),
    ([{"op": "add", "path": "/spec/replicas/x", "value": 1}], "json patch operation 0"),
    ([{"op": "add", "path": "spec", "value": 1}], "must be empty or start with /"),
    ([{"op": "bogus", "path": "/a"}], "Unknown operation 'bogus'"),
    ([{"path": "/a"}], "'op'"),
    ([{"op": "add", "path": "/a"}], "'value'"),
    ([{"op": "replace", "path": "", "value": [1]}], "not a JSON object"),
])
def test_json_patch_failures_are_invalid(ops: list[Any], fragment: str) -> None:
    obj = {"metadata": {"name": "x"}, "spec": {"replicas": 1}}
    with pytest.raises(errors.StatusError) as e:
        patch.apply_patch(obj, body(ops), JSONPATCH, "Deployment")
    assert (e.value.code, e.value.reason) == (422, "Invalid")
    assert fragment in e.value.message
    assert e.value.status()["status"] == "Failure"
    assert "details" not in e.value.status()  # kubectl prints "The request is invalid: <message>"


def test_json_patch_failure_names_the_operation() -> None:
    ops = [{"op": "add", "path": "/a", "value": 1}, {"op": "remove", "path": "/b"}]
    with pytest.raises(errors.StatusError) as e:
        patch.json_patch({}, ops)
    assert e.value.message.startswith("json patch operation 1 (remove '/b')")


def test_json_patch_operation_limit() -> None:
    ops = [{"op": "test", "path": "/a", "value": 1}] * (patch.MAX_JSON_PATCH_OPERATIONS + 1)
    with pytest.raises(errors.RequestEntityTooLarge) as e:
        patch.json_patch({"a": 1}, ops)
    assert e.value.code == 413
    assert patch.json_patch({"a": 1}, ops[:patch.MAX_JSON_PATCH_OPERATIONS]) == {"a": 1}


# ------------------------------------------------------------------ strategic merge: what kubectl sends


def test_kubectl_apply_updates_deployment_image() -> None:
    dep = deployment()
    last_applied = json.dumps({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}})
    # The body kubectl 1.32 sent for `apply` (shared/KUBECTL_API.md section 1).
    raw = ('{"metadata":{"annotations":{"kubectl.kubernetes.io/last-applied-configuration":'
           + json.dumps(last_applied) + '}},'
           '"spec":{"replicas":3,"template":{"spec":{"$setElementOrder/containers":[{"name":"nginx"}],'
           '"containers":[{"image":"nginx:1.16","name":"nginx"}]}}}}').encode()
    out = patch.apply_patch(dep, raw, SMP, "Deployment")

    expected = copy.deepcopy(dep)
    expected["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"] = last_applied
    expected["spec"]["replicas"] = 3
    containers_of(expected)[0]["image"] = "nginx:1.16"
    assert out == expected
    assert "$setElementOrder/containers" not in out["spec"]["template"]["spec"]


def test_kubectl_apply_adds_a_container_in_the_applied_order() -> None:
    dep = deployment()
    out = smp(dep, {"spec": {"template": {"spec": {
        "$setElementOrder/containers": [{"name": "nginx"}, {"name": "sidecar"}],
        "containers": [{"name": "sidecar", "image": "busybox"}]}}}}, "Deployment")
    assert [c["name"] for c in containers_of(out)] == ["nginx", "sidecar"]
    assert containers_of(out)[0] == containers_of(dep)[0]
    assert containers_of(out)[1] == {"name": "sidecar", "image": "busybox"}


def test_kubectl_patch_without_order_puts_new_container_first() -> None:
    # As upstream does: kubectl's "patch a Deployment" docs show the new container first.
    out = smp(deployment(), {"spec": {"template": {"spec": {
        "containers": [{"name": "patch-demo-ctr-2", "image": "redis"}]}}}}, "Deployment")
    assert [c["name"] for c in containers_of(out)] == ["patch-demo-ctr-2", "nginx"]


def test_kubectl_apply_removes_a_container_keeping_a_server_only_one() -> None:
    dep = deployment(containers=[{"name": "a", "image": "a"}, {"name": "injected", "image": "i"},
                                 {"name": "b", "image": "b"}])
    out = smp(dep, {"spec": {"template": {"spec": {
        "$setElementOrder/containers": [{"name": "b"}],
        "containers": [{"$patch": "delete", "name": "a"}]}}}}, "Deployment")
    assert [c["name"] for c in containers_of(out)] == ["injected", "b"]


def container_with_env(env: list[dict[str, Any]]) -> dict[str, Any]:
    return deployment(containers=[{"name": "app", "image": "app:1", "env": env}])


def env_of(obj: dict[str, Any]) -> list[dict[str, Any]]:
    return containers_of(obj)[0]["env"]


def test_env_var_added_by_name_keeps_the_others() -> None:
    dep = container_with_env([{"name": "A", "value": "1"}, {"name": "B", "value": "2"}])
    out = smp(dep, {"spec": {"template": {"spec": {"containers": [{
        "name": "app", "$setElementOrder/env": [{"name": "A"}, {"name": "B"}, {"name": "C"}],
        "env": [{"name": "C", "value": "3"}]}]}}}}, "Deployment")
    assert env_of(out) == [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}, {"name": "C", "value": "3"}]


def test_env_var_changed_by_name() -> None:
    dep = container_with_env([{"name": "A", "value": "1"}, {"name": "B", "value": "2"}])
    out = smp(dep, {"spec": {"template": {"spec": {"containers": [{
        "name": "app", "env": [{"name": "B", "value": "20"}]}]}}}}, "Deployment")
    assert env_of(out) == [{"name": "A", "value": "1"}, {"name": "B", "value": "20"}]


def test_env_var_switched_from_value_to_value_from() -> None:
    dep = container_with_env([{"name": "A", "value": "1"}])
    out = smp(dep, {"spec": {"template": {"spec": {"containers": [{"name": "app", "env": [
        {"name": "A", "value": None, "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}]}]}}}},
        "Deployment")
    assert env_of(out) == [{"name": "A", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}]


def test_env_var_removed_by_name_with_patch_delete() -> None:
    # What `kubectl edit`/`kubectl apply` send when an env var is dropped.
    dep = container_with_env([{"name": "A", "value": "1"}, {"name": "B", "value": "2"},
                              {"name": "C", "value": "3"}])
    out = smp(dep, {"spec": {"template": {"spec": {
        "$setElementOrder/containers": [{"name": "app"}],
        "containers": [{"name": "app", "$setElementOrder/env": [{"name": "A"}, {"name": "C"}],
                        "env": [{"$patch": "delete", "name": "B"}]}]}}}}, "Deployment")
    assert env_of(out) == [{"name": "A", "value": "1"}, {"name": "C", "value": "3"}]


def test_patch_delete_on_list_element_removes_every_match() -> None:
    dep = container_with_env([{"name": "A", "value": "1"}, {"name": "B"}, {"name": "A", "value": "dup"}])
    out = smp(dep, {"spec": {"template": {"spec": {"containers": [{
        "name": "app", "env": [{"name": "A", "$patch": "delete"}]}]}}}}, "Deployment")
    assert env_of(out) == [{"name": "B"}]


def test_patch_delete_of_missing_element_is_a_no_op() -> None:
    dep = container_with_env([{"name": "A", "value": "1"}])
    out = smp(dep, {"spec": {"template": {"spec": {"containers": [{
        "name": "app", "env": [{"name": "Z", "$patch": "delete"}]}]}}}}, "Deployment")
    assert out == dep


def test_patch_delete_a_whole_container() -> None:
    dep = deployment(containers=[{"name": "a"}, {"name": "b"}])
    out = smp(dep, {"spec": {"template": {"spec": {"containers": [{"name": "a", "$patch": "delete"}]}}}},
              "Deployment")
    assert containers_of(out) == [{"name": "b"}]


def test_patch_replace_on_list() -> None:
    dep = container_with_env([{"name": "A", "value": "1"}, {"name": "B", "value": "2"}])
    out = smp(dep, {"spec": {"template": {"spec": {"containers": [{
        "name": "app", "env": [{"$patch": "replace"}, {"name": "Z", "value": "26"}]}]}}}}, "Deployment")
    assert env_of(out) == [{"name": "Z", "value": "26"}]


def test_patch_replace_and_delete_on_maps() -> None:
    pod = {"metadata": {"name": "p", "labels": {"a": "1", "b": "2"}, "annotations": {"x": "y"}}}
    out = smp(pod, {"metadata": {"labels": {"$patch": "replace", "c": "3"}, "annotations": {"$patch": "delete"}}},
              "Pod")
    assert out["metadata"] == {"name": "p", "labels": {"c": "3"}, "annotations": {}}


def test_retain_keys_strategy_rolling_update_to_recreate() -> None:
    # kubectl apply computes $retainKeys for DeploymentStrategy (patchStrategy:"retainKeys");
    # rollingUpdate must go, or validation rejects a Recreate strategy.
    for strategy_patch in ({"$retainKeys": ["type"], "type": "Recreate"},
                           {"$retainKeys": ["type"], "type": "Recreate", "rollingUpdate": None}):
        out = smp(deployment(), {"spec": {"strategy": strategy_patch}}, "Deployment")
        assert out["spec"]["strategy"] == {"type": "Recreate"}
    # Without the directive, the defaulted rollingUpdate would survive.
    out = smp(deployment(), {"spec": {"strategy": {"type": "Recreate"}}}, "Deployment")
    assert out["spec"]["strategy"]["rollingUpdate"] == {"maxUnavailable": "25%", "maxSurge": "25%"}


def test_retain_keys_strategy_recreate_to_rolling_update() -> None:
    dep = deployment(strategy={"type": "Recreate"})
    out = smp(dep, {"spec": {"strategy": {"$retainKeys": ["rollingUpdate", "type"],
                                          "rollingUpdate": {"maxSurge": 1}, "type": "RollingUpdate"}}},
              "Deployment")
    assert out["spec"]["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}


def test_retain_keys_volume_source_change() -> None:
    # volumes are patchStrategy:"merge,retainKeys": switching a volume's source drops the old one.
    dep = deployment()
    dep["spec"]["template"]["spec"]["volumes"] = [{"name": "data", "emptyDir": {}},
                                                   {"name": "cfg", "configMap": {"name": "old"}}]
    out = smp(dep, {"spec": {"template": {"spec": {
        "$setElementOrder/volumes": [{"name": "data"}, {"name": "cfg"}],
        "volumes": [{"$retainKeys": ["configMap", "name"], "configMap": {"name": "new"}, "name": "data"}]}}}},
        "Deployment")
    assert out["spec"]["template"]["spec"]["volumes"] == [
        {"name": "data", "configMap": {"name": "new"}}, {"name": "cfg", "configMap": {"name": "old"}}]


def test_finalizers_merge_as_a_set_and_delete_from_primitive_list() -> None:
    obj = {"metadata": {"name": "x", "finalizers": ["a", "b"]}}
    added = smp(obj, {"metadata": {"finalizers": ["b", "c"]}}, "Pod")
    assert added["metadata"]["finalizers"] == ["a", "b", "c"]
    removed = smp(added, {"metadata": {"$deleteFromPrimitiveList/finalizers": ["a", "zzz"]}}, "Pod")
    assert removed["metadata"]["finalizers"] == ["b", "c"]
    ordered = smp(added, {"metadata": {"$setElementOrder/finalizers": ["c", "a"],
                                       "$deleteFromPrimitiveList/finalizers": ["b"]}}, "Pod")
    assert ordered["metadata"]["finalizers"] == ["c", "a"]
    # Deleting from a list the object does not have deletes nothing.
    assert smp({"metadata": {}}, {"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}}, "Pod") == {
        "metadata": {}}


def test_owner_references_merge_by_uid() -> None:
    obj = {"metadata": {"ownerReferences": [{"uid": "1", "kind": "ReplicaSet", "name": "a"}]}}
    out = smp(obj, {"metadata": {"ownerReferences": [{"uid": "1", "controller": True},
                                                     {"uid": "2", "kind": "Deployment", "name": "b"}]}},
              "ReplicaSet")
    assert out["metadata"]["ownerReferences"] == [
        {"uid": "1", "kind": "ReplicaSet", "name": "a", "controller": True},
        {"uid": "2", "kind": "Deployment", "name": "b"}]


def test_service_ports_merge_by_port() -> None:
    svc = {"kind": "Service", "spec": {"type": "NodePort", "ports": [
        {"port": 80, "targetPort": 8080, "protocol": "TCP", "nodePort": 30080},
        {"port": 443, "targetPort": 8443, "protocol": "TCP", "nodePort": 30443}]}}
    out = smp(svc, {"spec": {"$setElementOrder/ports": [{"port": 80}, {"port": 443}],
                             "ports": [{"port": 80, "targetPort": 9090}]}}, "Service")
    assert out["spec"]["ports"] == [
        {"port": 80, "targetPort": 9090, "protocol": "TCP", "nodePort": 30080},
        {"port": 443, "targetPort": 8443, "protocol": "TCP", "nodePort": 30443}]


def test_container_ports_merge_by_container_port() -> None:
    dep = deployment()
    out = smp(dep, {"spec": {"template": {"spec": {"containers": [{"name": "nginx", "ports": [
        {"containerPort": 80, "name": "http"}]}]}}}}, "Deployment")
    assert containers_of(out)[0]["ports"] == [{"containerPort": 80, "protocol": "TCP", "name": "http"}]


def test_pod_spec_lists_merge_at_pod_and_in_every_template() -> None:
    spec_patch = {"containers": [{"name": "c", "volumeMounts": [{"mountPath": "/b", "name": "b"}]}],
                  "volumes": [{"name": "b", "emptyDir": {}}]}
    live_spec = {"containers": [{"name": "c", "volumeMounts": [{"mountPath": "/a", "name": "a"}]}],
                 "volumes": [{"name": "a", "emptyDir": {}}]}
    objects = {
        "Pod": ({"spec": live_spec}, {"spec": spec_patch}, ("spec",)),
        **{kind: ({"spec": {"template": {"spec": live_spec}}}, {"spec": {"template": {"spec": spec_patch}}},
                  ("spec", "template", "spec"))
           # Every served kind with a pod template (the directives come from each kind's schema).
           for kind in ("Deployment", "ReplicaSet", "ReplicationController")},
    }
    for kind, (live, patch_, path) in objects.items():
        spec = smp(live, patch_, kind)
        for key in path:
            spec = spec[key]
        assert [v["name"] for v in spec["volumes"]] == ["b", "a"], kind
        assert [m["mountPath"] for m in spec["containers"][0]["volumeMounts"]] == ["/b", "/a"], kind


def test_pod_status_conditions_merge_by_type() -> None:
    pod = {"status": {"phase": "Pending", "conditions": [
        {"type": "PodScheduled", "status": "True"}, {"type": "Ready", "status": "False"}]}}
    out = smp(pod, {"status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}}, "Pod")
    assert out["status"] == {"phase": "Running", "conditions": [
        {"type": "PodScheduled", "status": "True"}, {"type": "Ready", "status": "True"}]}


def test_pod_status_container_statuses_are_replaced() -> None:
    pod = {"status": {"containerStatuses": [{"name": "a", "ready": False}, {"name": "b", "ready": False}]}}
    out = smp(pod, {"status": {"containerStatuses": [{"name": "a", "ready": True}]}}, "Pod")
    assert out["status"]["containerStatuses"] == [{"name": "a", "ready": True}]


def test_node_status_conditions_and_addresses_merge_by_type() -> None:
    node = {"kind": "Node", "spec": {"taints": [{"key": "a", "effect": "NoSchedule"}]},
            "status": {"conditions": [{"type": "Ready", "status": "False"}, {"type": "MemoryPressure",
                                                                              "status": "False"}],
                       "addresses": [{"type": "InternalIP", "address": "10.0.0.1"}]}}
    out = smp(node, {"status": {"conditions": [{"type": "Ready", "status": "True"}],
                                "addresses": [{"type": "Hostname", "address": "n1"}]},
                     "spec": {"taints": [{"key": "b", "effect": "NoExecute"}]}}, "Node")
    assert out["status"]["conditions"] == [{"type": "Ready", "status": "True"},
                                           {"type": "MemoryPressure", "status": "False"}]
    assert out["status"]["addresses"] == [{"type": "Hostname", "address": "n1"},
                                          {"type": "InternalIP", "address": "10.0.0.1"}]
    assert out["spec"]["taints"] == [{"key": "b", "effect": "NoExecute"}]  # taints: no strategy


def test_workload_status_conditions_merge_by_type() -> None:
    for kind in ("Deployment", "ReplicaSet", "HorizontalPodAutoscaler", "Namespace"):
        obj = {"status": {"conditions": [{"type": "Available", "status": "True"},
                                         {"type": "Progressing", "status": "True"}]}}
        out = smp(obj, {"status": {"conditions": [{"type": "Progressing", "status": "False"}]}}, kind)
        assert out["status"]["conditions"] == [{"type": "Available", "status": "True"},
                                               {"type": "Progressing", "status": "False"}], kind


def test_lists_without_strategy_are_replaced() -> None:
    pod = {"spec": {"tolerations": [{"key": "a"}], "containers": [{"name": "c", "args": ["x", "y"]}]}}
    out = smp(pod, {"spec": {"tolerations": [{"key": "b"}], "containers": [{"name": "c", "args": ["z"]}]}}, "Pod")
    assert out["spec"]["tolerations"] == [{"key": "b"}]
    assert out["spec"]["containers"] == [{"name": "c", "args": ["z"]}]
    endpoints = {"subsets": [{"addresses": [{"ip": "1.1.1.1"}]}]}
    assert smp(endpoints, {"subsets": [{"addresses": [{"ip": "2.2.2.2"}]}]}, "Endpoints") == {
        "subsets": [{"addresses": [{"ip": "2.2.2.2"}]}]}


def test_unknown_kind_merges_maps_replaces_lists_and_keeps_metadata_rules() -> None:
    obj = {"metadata": {"finalizers": ["a"]}, "spec": {"m": {"a": 1}, "containers": [{"name": "x"}]}}
    out = smp(obj, {"metadata": {"finalizers": ["b"]}, "spec": {"m": {"b": 2}, "containers": [{"name": "y"}]}},
              "Widget")
    # New set members go first without $setElementOrder, as upstream orders them.
    assert out == {"metadata": {"finalizers": ["b", "a"]}, "spec": {"m": {"a": 1, "b": 2},
                                                                   "containers": [{"name": "y"}]}}


def test_null_deletes_and_unmatched_null_is_ignored() -> None:
    obj = {"metadata": {"labels": {"a": "1"}}, "spec": {"paused": True}}
    out = smp(obj, {"spec": {"paused": None, "nope": None}, "metadata": {"labels": None}}, "Deployment")
    assert out == {"metadata": {}, "spec": {}}


def test_directives_never_leak_into_new_values() -> None:
    # Values the object does not have yet are stored as the patch gives them, minus
    # directives and nulls (kube-apiserver's Go decoding drops them the same way).
    out = smp({"spec": {}}, {"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate", "x": None},
                                      "template": {"spec": {
                                          "$setElementOrder/containers": [{"name": "a"}],
                                          "containers": [{"name": "a", "$setElementOrder/env": [{"name": "E"}],
                                                          "env": [{"name": "E", "value": "1"},
                                                                  {"name": "F", "$patch": "delete"}]}]}}}},
              "Deployment")
    assert out == {"spec": {"strategy": {"type": "Recreate"},
                            "template": {"spec": {"containers": [{"name": "a", "env": [{"name": "E",
                                                                                        "value": "1"}]}]}}}}
    assert "$" not in json.dumps(out)


def test_type_change_replaces_the_value() -> None:
    assert smp({"spec": {"x": [1]}}, {"spec": {"x": {"a": 1}}}, "Pod") == {"spec": {"x": {"a": 1}}}
    assert smp({"spec": {"x": "s"}}, {"spec": {"x": [1]}}, "Pod") == {"spec": {"x": [1]}}


def test_patch_with_dollar_keys_that_are_not_directives_keeps_them() -> None:
    # e.g. JSON schema "$ref": upstream treats unknown $-keys as ordinary fields.
    assert smp({}, {"schema": {"$ref": "#/x"}}, "Widget") == {"schema": {"$ref": "#/x"}}


# ------------------------------------------------------------------ strategic merge: errors


@pytest.mark.parametrize("patch_,fragment", [
    ({"metadata": {"labels": {"$patch": "bogus"}}}, "unknown patch type: bogus"),
    ({"metadata": {"labels": {"$patch": "merge"}}}, "unknown patch type: merge"),
    ({"spec": {"containers": [{"name": "c", "$patch": "merge"}]}}, "merging lists cannot yet be specified"),
    ({"spec": {"containers": [{"name": "c", "$patch": "bogus"}]}}, "unknown patch type: bogus"),
    ({"spec": {"containers": [{"image": "no-name"}]}}, "does not contain declared merge key: name"),
    ({"spec": {"containers": [{"$patch": "delete"}]}}, "does not contain declared merge key: name"),
    ({"spec": {"containers": ["c"]}}, "list element types are not identical"),
    ({"spec": {"containers": [["c"]]}}, "lists of lists are not supported"),
    ({"spec": {"$setElementOrder/containers": [{"name": "b"}, {"name": "a"}],
               "containers": [{"name": "a"}, {"name": "b"}]}}, "doesn't match $setElementOrder list"),
    ({"spec": {"$setElementOrder/containers": [{"image": "x"}]}}, "does not contain declared merge key"),
])
def test_strategic_merge_patch_that_cannot_apply_is_invalid(patch_: dict[str, Any], fragment: str) -> None:
    pod = {"metadata": {"labels": {"a": "1"}}, "spec": {"containers": [{"name": "a"}, {"name": "b"}]}}
    with pytest.raises(errors.StatusError) as e:
        patch.apply_patch(pod, body(patch_), SMP, "Pod")
    assert (e.value.code, e.value.reason) == (422, "Invalid")
    assert fragment in e.value.message


def test_invalid_message_names_the_path() -> None:
    with pytest.raises(errors.StatusError) as e:
        smp(deployment(), {"spec": {"template": {"spec": {"containers": [{"image": "x"}]}}}}, "Deployment")
    assert e.value.message.startswith("spec.template.spec.containers: map: ")


@pytest.mark.parametrize("patch_,fragment", [
    ({"spec": {"strategy": {"$retainKeys": "type", "type": "Recreate"}}}, "invalid patch format of retainKeys"),
    ({"spec": {"strategy": {"$retainKeys": [1], "type": "Recreate"}}}, "invalid patch format of retainKeys"),
    ({"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate", "rollingUpdate": {}}}},
     "invalid patch format of retainKeys"),
    ({"spec": {"$setElementOrder/template": {"a": 1}}}, "invalid patch format of setElementOrder list"),
    ({"spec": {"$setElementOrder": []}}, "invalid patch format of setElementOrder list"),
    ({"metadata": {"$deleteFromPrimitiveList/finalizers": "a"}}, "invalid patch format of primitive list"),
    ({"metadata": {"$deleteFromPrimitiveListfinalizers": ["a"]}}, "invalid patch format of primitive list"),
])
def test_malformed_directive_is_bad_request(patch_: dict[str, Any], fragment: str) -> None:
    with pytest.raises(errors.BadRequest) as e:
        patch.apply_patch(deployment(), body(patch_), SMP, "Deployment")
    assert e.value.code == 400
    assert fragment in e.value.message


# ------------------------------------------------------------------ the merge-key table


def test_merge_key_table_for_deployment() -> None:
    table = strategicpatch.merge_key_table("Deployment")
    assert table["metadata.finalizers"] == ""
    assert table["metadata.ownerReferences"] == "uid"
    assert table["status.conditions"] == "type"
    pod = "spec.template.spec."
    assert {k[len(pod):]: v for k, v in table.items() if k.startswith(pod)} == {
        "volumes": "name", "initContainers": "name", "containers": "name", "ephemeralContainers": "name",
        "imagePullSecrets": "name", "hostAliases": "ip", "topologySpreadConstraints": "topologyKey",
        "schedulingGates": "name", "resourceClaims": "name", "evictionResponders": "name",
        # An ephemeral volume's claim template has an ObjectMeta of its own.
        "volumes[*].ephemeral.volumeClaimTemplate.metadata.finalizers": "",
        "volumes[*].ephemeral.volumeClaimTemplate.metadata.ownerReferences": "uid",
        **{f"{c}[*].{f}": k for c in ("initContainers", "containers", "ephemeralContainers")
           for f, k in (("ports", "containerPort"), ("env", "name"), ("volumeMounts", "mountPath"),
                        ("volumeDevices", "devicePath"))},
    }
    assert "spec.template.spec.tolerations" not in table


def test_merge_key_table_for_other_kinds() -> None:
    assert strategicpatch.merge_key_table("Service") == {
        "metadata.finalizers": "", "metadata.ownerReferences": "uid", "spec.ports": "port",
        "status.conditions": "type"}
    assert strategicpatch.merge_key_table("Node") == {
        "metadata.finalizers": "", "metadata.ownerReferences": "uid", "spec.podCIDRs": "",
        "status.conditions": "type", "status.addresses": "type"}
    pod = strategicpatch.merge_key_table("Pod")
    assert pod["spec.containers"] == "name"
    assert pod["status.conditions"] == "type"
    assert pod["status.podIPs"] == "ip"
    assert "status.containerStatuses" not in pod
    assert strategicpatch.merge_key_table("Endpoints") == {"metadata.finalizers": "", "metadata.ownerReferences": "uid"}
    assert strategicpatch.merge_key_table("Scale") == strategicpatch.merge_key_table("Endpoints")


def test_schema_types_are_all_defined() -> None:
    for kind, root in strategicpatch.KINDS.items():
        assert root in strategicpatch.TYPES, kind
    for name, fields in strategicpatch.TYPES.items():
        for field_name, meta in fields.items():
            assert meta.type is None or meta.type in strategicpatch.TYPES, f"{name}.{field_name}"
            assert meta.strategy in ("", strategicpatch.MERGE, strategicpatch.REPLACE), f"{name}.{field_name}"
            assert not meta.merge_key or meta.strategy == strategicpatch.MERGE, f"{name}.{field_name}"


# ------------------------------------------------------------------ ported upstream cases (MergeItem)

# The upstream test struct, as this module's schema table.
MERGE_ITEM_TYPES = {
    "MergeItem": {
        "mergingList": strategicpatch.Field(strategicpatch.MERGE, "name", type="MergeItem"),
        "nonMergingList": strategicpatch.Field(type="MergeItem"),
        "mergingIntList": strategicpatch.Field(strategicpatch.MERGE),
        "nonMergingIntList": strategicpatch.Field(),
        "mergeItemPtr": strategicpatch.Field(strategicpatch.MERGE, "name", type="MergeItem"),
        "simpleMap": strategicpatch.Field(),
        "replacingItem": strategicpatch.Field(strategicpatch.REPLACE),
        "retainKeysMap": strategicpatch.Field(retain_keys=True, type="RetainKeysMergeItem"),
        "retainKeysMergingList": strategicpatch.Field(strategicpatch.MERGE, "name", retain_keys=True, type="MergeItem"),
    },
    "RetainKeysMergeItem": {
        "simpleMap": strategicpatch.Field(),
        "mergingIntList": strategicpatch.Field(strategicpatch.MERGE),
        "mergingList": strategicpatch.Field(strategicpatch.MERGE, "name", type="MergeItem"),
        "nonMergingList": strategicpatch.Field(type="MergeItem"),
    },
}


@pytest.fixture
def merge_item_kind(monkeypatch: pytest.MonkeyPatch) -> str:
    for name, fields in MERGE_ITEM_TYPES.items():
        monkeypatch.setitem(strategicpatch.TYPES, name, fields)
    monkeypatch.setitem(strategicpatch.KINDS, "MergeItem", "MergeItem")
    return "MergeItem"


# Each case: the two-way patch applied to `original` gives `twoWayResult` (else `modified`);
# the three-way patch applied to `current` gives `result`. List order is significant.
UPSTREAM_CASES = yaml.safe_load(r"""
# customStrategicMergePatchTestCaseData
- description: unique scalars when merging lists
  original: {mergingIntList: [1, 2]}
  twoWay: {mergingIntList: [2, 3]}
  modified: {mergingIntList: [1, 2, 3]}
- description: delete map from nested map
  original: {simpleMap: {key1: 1, key2: 1}}
  twoWay: {simpleMap: {$patch: delete}}
  modified: {simpleMap: {}}
- description: delete all items from merging list
  original: {mergingList: [{name: 1}, {name: 2}]}
  twoWay: {mergingList: [{$patch: replace}]}
  modified: {mergingList: []}
- description: merge empty merging lists
  original: {mergingList: []}
  twoWay: {mergingList: []}
  modified: {mergingList: []}
- description: delete all keys from map
  original: {name: 1, value: 1}
  twoWay: {$patch: replace}
  modified: {}
- description: add key and delete all keys from map
  original: {name: 1, value: 1}
  twoWay: {other: a, $patch: replace}
  modified: {other: a}
- description: delete all duplicate entries in a merging list
  original: {mergingList: [{name: 1}, {name: 1}, {name: 2, value: a}, {name: 3}, {name: 3}]}
  twoWay: {mergingList: [{name: 1, $patch: delete}, {name: 3, $patch: delete}]}
  modified: {mergingList: [{name: 2, value: a}]}
- description: retainKeys map can add a field when no retainKeys directive present
  original: {retainKeysMap: {name: foo}}
  twoWay: {retainKeysMap: {value: bar}}
  modified: {retainKeysMap: {name: foo, value: bar}}
- description: retainKeys map can change a field when no retainKeys directive present
  original: {retainKeysMap: {name: foo, value: a}}
  twoWay: {retainKeysMap: {value: b}}
  modified: {retainKeysMap: {name: foo, value: b}}
- description: retainKeys map can delete a field when no retainKeys directive present
  original: {retainKeysMap: {name: foo, value: a}}
  twoWay: {retainKeysMap: {value: null}}
  modified: {retainKeysMap: {name: foo}}
- description: retainKeys map merge an empty map
  original: {retainKeysMap: {name: foo, value: a}}
  twoWay: {retainKeysMap: {}}
  modified: {retainKeysMap: {name: foo, value: a}}
- description: retainKeys list can add a field when no retainKeys directive present
  original: {retainKeysMergingList: [{name: bar}, {name: foo}]}
  twoWay: {retainKeysMergingList: [{name: foo, value: a}]}
  modified: {retainKeysMergingList: [{name: bar}, {name: foo, value: a}]}
- description: retainKeys list can change a field when no retainKeys directive present
  original: {retainKeysMergingList: [{name: bar}, {name: foo, value: a}]}
  twoWay: {retainKeysMergingList: [{name: foo, value: b}]}
  modified: {retainKeysMergingList: [{name: bar}, {name: foo, value: b}]}
- description: retainKeys list can delete a field when no retainKeys directive present
  original: {retainKeysMergingList: [{name: bar}, {name: foo, value: a}]}
  twoWay: {retainKeysMergingList: [{name: foo, value: null}]}
  modified: {retainKeysMergingList: [{name: bar}, {name: foo}]}
- description: preserve the order from the patch in a merging list
  original: {mergingList: [{name: 1}, {name: 2, value: b}, {name: 3}]}
  twoWay: {mergingList: [{name: 3, value: c}, {name: 1, value: a}, {name: 2, other: x}]}
  modified: {mergingList: [{name: 3, value: c}, {name: 1, value: a}, {name: 2, value: b, other: x}]}
- description: preserve the order from the patch in a merging list 2
  original: {mergingList: [{name: 1}, {name: 2, value: b}, {name: 3}]}
  twoWay: {mergingList: [{name: 3, value: c}, {name: 1, value: a}]}
  modified: {mergingList: [{name: 2, value: b}, {name: 3, value: c}, {name: 1, value: a}]}
- description: preserve the order from the patch in a merging int list
  original: {mergingIntList: [1, 2, 3]}
  twoWay: {mergingIntList: [3, 1, 2]}
  modified: {mergingIntList: [3, 1, 2]}
- description: preserve the order from the patch in a merging int list 2
  original: {mergingIntList: [1, 2, 3]}
  twoWay: {mergingIntList: [3, 1]}
  modified: {mergingIntList: [2, 3, 1]}

# customStrategicMergePatchRawTestCases
- description: $setElementOrder contains item that is not present in the list to be merged
  original: {mergingList: [{name: 1}, {name: 3}]}
  twoWay:
    $setElementOrder/mergingList: [{name: 3}, {name: 2}, {name: 1}]
    mergingList: [{name: 3, value: 3}, {name: 1, value: 1}]
  modified: {mergingList: [{name: 3, value: 3}, {name: 1, value: 1}]}
- description: $setElementOrder contains item that is not present in the int list to be merged
  original: {mergingIntList: [1, 3]}
  twoWay: {$setElementOrder/mergingIntList: [3, 2, 1]}
  modified: {mergingIntList: [3, 1]}
- description: should check if order in $setElementOrder and patch list match
  original: {mergingList: [{name: 1}, {name: 3}, {name: 2}]}
  twoWay:
    $setElementOrder/mergingList: [{name: 1}, {name: 2}, {name: 3}]
    mergingList: [{name: 3, value: 3}, {name: 1, value: 1}]
  expectedError: doesn't match
- description: should check if order in $setElementOrder and patch int list match
  original: {mergingIntList: [1, 3, 2]}
  twoWay: {$setElementOrder/mergingIntList: [1, 2, 3], mergingIntList: [3, 1]}
  expectedError: doesn't match
- description: missing merge key should error out
  original: {mergingList: [{name: 1, value: a}]}
  twoWay: {mergingList: [{value: b}]}
  expectedError: does not contain declared merge key

# createStrategicMergePatchTestCaseData
- description: nil original
  twoWay: {name: 1, value: 1}
  modified: {name: 1, value: 1}
  current: {name: 1, other: a}
  threeWay: {value: 1}
  result: {name: 1, value: 1, other: a}
- description: nil patch
  original: {name: 1}
  twoWay: {}
  modified: {name: 1}
  current: {name: 1}
  threeWay: {}
  result: {name: 1}
- description: add field and delete field from map with conflict
  original: {name: 1}
  twoWay: {name: null, value: 1}
  modified: {value: 1}
  current: {name: a, other: a}
  threeWay: {name: null, value: 1}
  result: {value: 1, other: a}
- description: delete field from nested map with conflict
  original: {simpleMap: {key1: 1, key2: 1}}
  twoWay: {simpleMap: {key2: null}}
  modified: {simpleMap: {key1: 1}}
  current: {simpleMap: {key1: a, key2: 1, other: a}}
  threeWay: {simpleMap: {key1: 1, key2: null}}
  result: {simpleMap: {key1: 1, other: a}}
- description: add field and delete all fields from map with conflict
  original: {name: 1, value: 1}
  twoWay: {name: null, value: null, other: a}
  modified: {other: a}
  current: {name: 1, value: 1, other: b}
  threeWay: {name: null, value: null, other: a}
  result: {other: a}
- description: replace list of scalars with conflict
  original: {nonMergingIntList: [1, 2]}
  twoWay: {nonMergingIntList: [2, 3]}
  modified: {nonMergingIntList: [2, 3]}
  current: {nonMergingIntList: [1, 4]}
  threeWay: {nonMergingIntList: [2, 3]}
  result: {nonMergingIntList: [2, 3]}
- description: delete all maps from merging list with conflict
  original: {mergingList: [{name: 1}, {name: 2}]}
  twoWay: {mergingList: [{name: 1, $patch: delete}, {name: 2, $patch: delete}]}
  modified: {mergingList: []}
  current: {mergingList: [{name: 1, other: a}, {name: 2, other: b}]}
  threeWay: {mergingList: [{name: 1, $patch: delete}, {name: 2, $patch: delete}]}
  result: {mergingList: []}
- description: delete all maps from empty merging list
  original: {mergingList: [{name: 1}, {name: 2}]}
  twoWay: {mergingList: [{name: 1, $patch: delete}, {name: 2, $patch: delete}]}
  modified: {mergingList: []}
  current: {mergingList: []}
  threeWay: {mergingList: [{name: 1, $patch: delete}, {name: 2, $patch: delete}]}
  result: {mergingList: []}
- description: merge empty merging lists (three-way)
  original: {mergingList: []}
  twoWay: {}
  modified: {mergingList: []}
  current: {mergingList: []}
  threeWay: {}
  result: {mergingList: []}
- description: defined null values should propagate overwrite current fields (with conflict)
  original: {name: 2}
  twoWay: {name: 1, value: 1, other: null}
  twoWayResult: {name: 1, value: 1}
  modified: {name: 1, value: 1, other: null}
  current: {name: a, other: a}
  threeWay: {name: 1, value: 1, other: null}
  result: {name: 1, value: 1}
- description: defined null values should propagate removing original fields
  original: {name: original-name, value: original-value}
  current: {name: original-name, value: original-value, other: current-other}
  modified: {name: modified-name, value: null}
  twoWay: {name: modified-name, value: null}
  twoWayResult: {name: modified-name}
  threeWay: {name: modified-name, value: null}
  result: {name: modified-name, other: current-other}
- description: retainKeys map with no change should not be present
  original: {name: a, retainKeysMap: {name: foo}}
  current: {name: a, other: c, retainKeysMap: {name: foo}}
  modified: {name: a, value: b, retainKeysMap: {name: foo}}
  twoWay: {value: b}
  threeWay: {value: b}
  result: {name: a, value: b, other: c, retainKeysMap: {name: foo}}

# strategicMergePatchRawTestCases
- description: delete items in lists of scalars
  original: {mergingIntList: [1, 2, 3]}
  twoWay: {$setElementOrder/mergingIntList: [1, 2], $deleteFromPrimitiveList/mergingIntList: [3]}
  modified: {mergingIntList: [1, 2]}
  current: {mergingIntList: [1, 2, 3, 4]}
  threeWay: {$setElementOrder/mergingIntList: [1, 2], $deleteFromPrimitiveList/mergingIntList: [3]}
  result: {mergingIntList: [1, 2, 4]}
- description: delete all duplicate items in lists of scalars
  original: {mergingIntList: [1, 2, 3, 3]}
  twoWay: {$setElementOrder/mergingIntList: [1, 2], $deleteFromPrimitiveList/mergingIntList: [3]}
  modified: {mergingIntList: [1, 2]}
  current: {mergingIntList: [1, 2, 3, 3, 4]}
  threeWay: {$setElementOrder/mergingIntList: [1, 2], $deleteFromPrimitiveList/mergingIntList: [3]}
  result: {mergingIntList: [1, 2, 4]}
- description: add and delete items in lists of scalars
  original: {mergingIntList: [1, 2, 3]}
  twoWay:
    $setElementOrder/mergingIntList: [1, 2, 4]
    $deleteFromPrimitiveList/mergingIntList: [3]
    mergingIntList: [4]
  modified: {mergingIntList: [1, 2, 4]}
  current: {mergingIntList: [1, 2, 3, 4]}
  threeWay: {$setElementOrder/mergingIntList: [1, 2, 4], $deleteFromPrimitiveList/mergingIntList: [3]}
  result: {mergingIntList: [1, 2, 4]}
- description: merge lists of maps
  original: {mergingList: [{name: 1}, {name: 2, value: 2}]}
  twoWay:
    $setElementOrder/mergingList: [{name: 4}, {name: 1}, {name: 2}, {name: 3}]
    mergingList: [{name: 4, value: 4}, {name: 3, value: 3}]
  modified: {mergingList: [{name: 4, value: 4}, {name: 1}, {name: 2, value: 2}, {name: 3, value: 3}]}
  current: {mergingList: [{name: 1, other: a}, {name: 2, value: 2, other: b}]}
  threeWay:
    $setElementOrder/mergingList: [{name: 4}, {name: 1}, {name: 2}, {name: 3}]
    mergingList: [{name: 4, value: 4}, {name: 3, value: 3}]
  result:
    mergingList: [{name: 4, value: 4}, {name: 1, other: a}, {name: 2, value: 2, other: b}, {name: 3, value: 3}]
- description: merge lists of maps with conflict
  original: {mergingList: [{name: 1}, {name: 2, value: 2}]}
  twoWay:
    $setElementOrder/mergingList: [{name: 1}, {name: 2}, {name: 3}]
    mergingList: [{name: 3, value: 3}]
  modified: {mergingList: [{name: 1}, {name: 2, value: 2}, {name: 3, value: 3}]}
  current: {mergingList: [{name: 1, other: a}, {name: 2, value: 3, other: b}]}
  threeWay:
    $setElementOrder/mergingList: [{name: 1}, {name: 2}, {name: 3}]
    mergingList: [{name: 2, value: 2}, {name: 3, value: 3}]
  result: {mergingList: [{name: 1, other: a}, {name: 2, value: 2, other: b}, {name: 3, value: 3}]}
- description: add field to map in merging list with conflict
  original: {mergingList: [{name: 1}, {name: 2, value: 2}]}
  twoWay:
    $setElementOrder/mergingList: [{name: 1}, {name: 2}]
    mergingList: [{name: 1, value: 1}]
  modified: {mergingList: [{name: 1, value: 1}, {name: 2, value: 2}]}
  current: {mergingList: [{name: 1, other: a}, {name: 3, value: 2, other: b}]}
  threeWay:
    $setElementOrder/mergingList: [{name: 1}, {name: 2}]
    mergingList: [{name: 1, value: 1}, {name: 2, value: 2}]
  result: {mergingList: [{name: 1, value: 1, other: a}, {name: 2, value: 2}, {name: 3, value: 2, other: b}]}
- description: add duplicate field to map in merging list
  original: {mergingList: [{name: 1}, {name: 2, value: 2}]}
  twoWay:
    $setElementOrder/mergingList: [{name: 1}, {name: 2}]
    mergingList: [{name: 1, value: 1}]
  modified: {mergingList: [{name: 1, value: 1}, {name: 2, value: 2}]}
  current: {mergingList: [{name: 1, value: 1, other: a}, {name: 2, value: 2, other: b}]}
  threeWay: {}
  result: {mergingList: [{name: 1, value: 1, other: a}, {name: 2, value: 2, other: b}]}
- description: delete duplicate field in merging list by replacing it with a map
  original: {mergingList: [{name: 1}, {name: 1}]}
  twoWay: {mergingList: {}}
  modified: {mergingList: {}}
  current: {mergingList: [{name: 1}, {name: 1}]}
  threeWay: {mergingList: {}}
  result: {mergingList: {}}
- description: add an item that already exists in current object in merging list
  original: {mergingList: [{name: 1, value: a}, {name: 2}]}
  twoWay:
    $setElementOrder/mergingList: [{name: 1}, {name: 2}, {name: 3}]
    mergingList: [{name: 3}]
  modified: {mergingList: [{name: 1, value: a}, {name: 2}, {name: 3}]}
  current: {mergingList: [{name: 1, value: a, other: x}, {name: 2}, {name: 3}]}
  threeWay: {}
  result: {mergingList: [{name: 1, value: a, other: x}, {name: 2}, {name: 3}]}
- description: replace map field value in merging list with conflict
  original: {mergingList: [{name: 1, value: 1}, {name: 2, value: 2}]}
  twoWay:
    $setElementOrder/mergingList: [{name: 1}, {name: 2}]
    mergingList: [{name: 1, value: a}]
  modified: {mergingList: [{name: 1, value: a}, {name: 2, value: 2}]}
  current: {mergingList: [{name: 1, value: 3, other: a}, {name: 2, value: 2, other: b}]}
  threeWay:
    $setElementOrder/mergingList: [{name: 1}, {name: 2}]
    mergingList: [{name: 1, value: a}]
  result: {mergingList: [{name: 1, value: a, other: a}, {name: 2, value: 2, other: b}]}
- description: delete map from merging list with conflict
  original: {mergingList: [{name: 1}, {name: 2}]}
  twoWay:
    $setElementOrder/mergingList: [{name: 2}]
    mergingList: [{name: 1, $patch: delete}]
  modified: {mergingList: [{name: 2}]}
  current: {mergingList: [{name: 1, other: a}, {name: 2, other: b}]}
  threeWay:
    $setElementOrder/mergingList: [{name: 2}]
    mergingList: [{name: 1, $patch: delete}]
  result: {mergingList: [{name: 2, other: b}]}
- description: delete missing map from merging list with conflict
  original: {mergingList: [{name: 1}, {name: 2}]}
  twoWay:
    $setElementOrder/mergingList: [{name: 2}]
    mergingList: [{name: 1, $patch: delete}]
  modified: {mergingList: [{name: 2}]}
  current: {mergingList: [{name: 3, other: a}]}
  threeWay:
    $setElementOrder/mergingList: [{name: 2}]
    mergingList: [{name: 2}, {name: 1, $patch: delete}]
  result: {mergingList: [{name: 2}, {name: 3, other: a}]}
- description: add map and delete map from merging list
  original: {mergingList: [{name: 1}, {name: 2}]}
  twoWay:
    $setElementOrder/mergingList: [{name: 2}, {name: 3}]
    mergingList: [{name: 3}, {name: 1, $patch: delete}]
  modified: {mergingList: [{name: 2}, {name: 3}]}
  current: {mergingList: [{name: 1}, {name: 2, other: b}, {name: 4, other: c}]}
  threeWay:
    $setElementOrder/mergingList: [{name: 2}, {name: 3}]
    mergingList: [{name: 3}, {name: 1, $patch: delete}]
  result: {mergingList: [{name: 2, other: b}, {name: 4, other: c}, {name: 3}]}
- description: add map and delete map from merging list with conflict
  original: {mergingList: [{name: 1}, {name: 2}]}
  twoWay:
    $setElementOrder/mergingList: [{name: 2}, {name: 3}]
    mergingList: [{name: 3}, {name: 1, $patch: delete}]
  modified: {mergingList: [{name: 2}, {name: 3}]}
  current: {mergingList: [{name: 1, other: a}, {name: 4, other: c}]}
  threeWay:
    $setElementOrder/mergingList: [{name: 2}, {name: 3}]
    mergingList: [{name: 2}, {name: 3}, {name: 1, $patch: delete}]
  result: {mergingList: [{name: 4, other: c}, {name: 2}, {name: 3}]}
- description: delete missing field from map in merging list with conflict
  original: {mergingList: [{name: 1, value: 1}, {name: 2, value: 2}]}
  twoWay:
    $setElementOrder/mergingList: [{name: 1}, {name: 2}]
    mergingList: [{name: 1, value: null}]
  modified: {mergingList: [{name: 1}, {name: 2, value: 2}]}
  current: {mergingList: [{name: 1, other: a}, {name: 2, other: b}]}
  threeWay:
    $setElementOrder/mergingList: [{name: 1}, {name: 2}]
    mergingList: [{name: 1, value: null}, {name: 2, value: 2}]
  result: {mergingList: [{name: 1, other: a}, {name: 2, value: 2, other: b}]}
- description: replace non merging list nested in merging list with deletion conflict
  original: {mergingList: [{name: 1, nonMergingList: [{name: 1}, {name: 2, value: 2}]}, {name: 2}]}
  twoWay:
    $setElementOrder/mergingList: [{name: 1}, {name: 2}]
    mergingList: [{name: 1, nonMergingList: [{name: 1, value: 1}]}]
  modified: {mergingList: [{name: 1, nonMergingList: [{name: 1, value: 1}]}, {name: 2}]}
  current: {mergingList: [{name: 1, other: a, nonMergingList: [{name: 2, value: 2}]}, {name: 2, other: b}]}
  threeWay:
    $setElementOrder/mergingList: [{name: 1}, {name: 2}]
    mergingList: [{name: 1, nonMergingList: [{name: 1, value: 1}]}]
  result: {mergingList: [{name: 1, other: a, nonMergingList: [{name: 1, value: 1}]}, {name: 2, other: b}]}
- description: add field to map in merging list nested in merging list with value conflict
  original: {mergingList: [{name: 1, mergingList: [{name: 1}, {name: 2, value: 2}]}, {name: 2}]}
  twoWay:
    $setElementOrder/mergingList: [{name: 1}, {name: 2}]
    mergingList:
      - {$setElementOrder/mergingList: [{name: 1}, {name: 2}], name: 1, mergingList: [{name: 1, value: 1}]}
  modified: {mergingList: [{name: 1, mergingList: [{name: 1, value: 1}, {name: 2, value: 2}]}, {name: 2}]}
  current:
    mergingList:
      - {name: 1, other: a, mergingList: [{name: 1, value: a, other: c}, {name: 2, value: b, other: d}]}
      - {name: 2, other: b}
  threeWay:
    $setElementOrder/mergingList: [{name: 1}, {name: 2}]
    mergingList:
      - $setElementOrder/mergingList: [{name: 1}, {name: 2}]
        name: 1
        mergingList: [{name: 1, value: 1}, {name: 2, value: 2}]
  result:
    mergingList:
      - {name: 1, other: a, mergingList: [{name: 1, value: 1, other: c}, {name: 2, value: 2, other: d}]}
      - {name: 2, other: b}
- description: add field to map in merging list nested in merging list with deletion conflict (reordered)
  original: {mergingList: [{name: 1, mergingList: [{name: 1}, {name: 2, value: 2}]}, {name: 2}]}
  twoWay:
    $setElementOrder/mergingList: [{name: 1}, {name: 2}]
    mergingList:
      - {$setElementOrder/mergingList: [{name: 2}, {name: 1}], name: 1, mergingList: [{name: 1, value: 1}]}
  modified: {mergingList: [{name: 1, mergingList: [{name: 2, value: 2}, {name: 1, value: 1}]}, {name: 2}]}
  current: {mergingList: [{name: 1, other: a, mergingList: [{name: 2, value: 2, other: d}]}, {name: 2, other: b}]}
  threeWay:
    $setElementOrder/mergingList: [{name: 1}, {name: 2}]
    mergingList:
      - {$setElementOrder/mergingList: [{name: 2}, {name: 1}], name: 1, mergingList: [{name: 1, value: 1}]}
  result:
    mergingList:
      - {name: 1, other: a, mergingList: [{name: 2, value: 2, other: d}, {name: 1, value: 1}]}
      - {name: 2, other: b}
- description: add map to merging list by pointer
  original: {mergeItemPtr: [{name: 1}]}
  twoWay: {$setElementOrder/mergeItemPtr: [{name: 1}, {name: 2}], mergeItemPtr: [{name: 2}]}
  modified: {mergeItemPtr: [{name: 1}, {name: 2}]}
  current: {mergeItemPtr: [{name: 1, other: a}, {name: 3}]}
  threeWay: {$setElementOrder/mergeItemPtr: [{name: 1}, {name: 2}], mergeItemPtr: [{name: 2}]}
  result: {mergeItemPtr: [{name: 1, other: a}, {name: 2}, {name: 3}]}
- description: add map to merging list by pointer with conflict
  original: {mergeItemPtr: [{name: 1}]}
  twoWay: {$setElementOrder/mergeItemPtr: [{name: 1}, {name: 2}], mergeItemPtr: [{name: 2}]}
  modified: {mergeItemPtr: [{name: 1}, {name: 2}]}
  current: {mergeItemPtr: [{name: 3}]}
  threeWay: {$setElementOrder/mergeItemPtr: [{name: 1}, {name: 2}], mergeItemPtr: [{name: 1}, {name: 2}]}
  result: {mergeItemPtr: [{name: 1}, {name: 2}, {name: 3}]}
- description: merge lists of scalars
  original: {mergingIntList: [1, 2]}
  twoWay: {$setElementOrder/mergingIntList: [1, 2, 3], mergingIntList: [3]}
  modified: {mergingIntList: [1, 2, 3]}
  current: {mergingIntList: [1, 2, 4]}
  threeWay: {$setElementOrder/mergingIntList: [1, 2, 3], mergingIntList: [3]}
  result: {mergingIntList: [1, 2, 3, 4]}
- description: add an item in a list of primitives and preserve order
  original: {mergingIntList: [1, 2]}
  twoWay: {$setElementOrder/mergingIntList: [3, 1, 2], mergingIntList: [3]}
  modified: {mergingIntList: [3, 1, 2]}
  current: {mergingIntList: [1, 4, 2]}
  threeWay: {$setElementOrder/mergingIntList: [3, 1, 2], mergingIntList: [3]}
  result: {mergingIntList: [3, 1, 4, 2]}
- description: delete an item in a list of primitives and preserve order
  original: {mergingIntList: [1, 2, 3]}
  twoWay: {$setElementOrder/mergingIntList: [2, 1], $deleteFromPrimitiveList/mergingIntList: [3]}
  modified: {mergingIntList: [2, 1]}
  current: {mergingIntList: [1, 2, 3]}
  threeWay: {$setElementOrder/mergingIntList: [2, 1], $deleteFromPrimitiveList/mergingIntList: [3]}
  result: {mergingIntList: [2, 1]}
- description: add multiple items in a list and preserve order
  original: {mergingList: [{name: 1}, {name: 2, value: 2}]}
  twoWay:
    $setElementOrder/mergingList: [{name: 1}, {name: 4}, {name: 2}, {name: 3}]
    mergingList: [{name: 4, value: 4}, {name: 3, value: 3}]
  modified: {mergingList: [{name: 1}, {name: 4, value: 4}, {name: 2, value: 2}, {name: 3, value: 3}]}
  current: {mergingList: [{name: 1, other: a}, {name: 2, value: 2, other: b}]}
  threeWay:
    $setElementOrder/mergingList: [{name: 1}, {name: 4}, {name: 2}, {name: 3}]
    mergingList: [{name: 4, value: 4}, {name: 3, value: 3}]
  result:
    mergingList: [{name: 1, other: a}, {name: 4, value: 4}, {name: 2, value: 2, other: b}, {name: 3, value: 3}]
- description: delete an item in a list and preserve order
  original: {mergingList: [{name: 1}, {name: 3, value: 3}, {name: 2, value: 2}]}
  twoWay:
    $setElementOrder/mergingList: [{name: 2}, {name: 1}]
    mergingList: [{name: 3, $patch: delete}]
  modified: {mergingList: [{name: 2, value: 2}, {name: 1}]}
  current: {mergingList: [{name: 1, other: a}, {name: 2, value: 2, other: b}, {name: 3, value: 3}]}
  threeWay:
    $setElementOrder/mergingList: [{name: 2}, {name: 1}]
    mergingList: [{name: 3, $patch: delete}]
  result: {mergingList: [{name: 2, value: 2, other: b}, {name: 1, other: a}]}
- description: add and delete an item in a list and preserve order
  original: {mergingList: [{name: 1}, {name: 3, value: 3}, {name: 2, value: 2}]}
  twoWay:
    $setElementOrder/mergingList: [{name: 4}, {name: 2}, {name: 1}]
    mergingList: [{name: 4, value: 4}, {name: 3, $patch: delete}]
  modified: {mergingList: [{name: 4, value: 4}, {name: 2, value: 2}, {name: 1}]}
  current: {mergingList: [{name: 1, other: a}, {name: 2, value: 2, other: b}, {name: 3, value: 3}]}
  threeWay:
    $setElementOrder/mergingList: [{name: 4}, {name: 2}, {name: 1}]
    mergingList: [{name: 4, value: 4}, {name: 3, $patch: delete}]
  result: {mergingList: [{name: 4, value: 4}, {name: 2, value: 2, other: b}, {name: 1, other: a}]}
- description: set elements order in a list with server-only items
  original: {mergingList: [{name: 1}, {name: 3, value: 3}, {name: 4, value: 4}, {name: 2, value: 2}]}
  twoWay: {$setElementOrder/mergingList: [{name: 4}, {name: 2}, {name: 3}, {name: 1}]}
  modified: {mergingList: [{name: 4, value: 4}, {name: 2, value: 2}, {name: 3, value: 3}, {name: 1}]}
  current:
    mergingList: [{name: 1, other: a}, {name: 3, value: 3}, {name: 4, value: 4}, {name: 2, value: 2}, {name: 9}]
  threeWay: {$setElementOrder/mergingList: [{name: 4}, {name: 2}, {name: 3}, {name: 1}]}
  result:
    mergingList: [{name: 4, value: 4}, {name: 2, value: 2}, {name: 3, value: 3}, {name: 1, other: a}, {name: 9}]
- description: set elements order in a list with server-only items 3
  original: {mergingList: [{name: 1}, {name: 2, value: 2}, {name: 3, value: 3}, {name: 4, value: 4}]}
  twoWay: {$setElementOrder/mergingList: [{name: 2}, {name: 1}, {name: 4}, {name: 3}]}
  modified: {mergingList: [{name: 2, value: 2}, {name: 1}, {name: 4, value: 4}, {name: 3, value: 3}]}
  current:
    mergingList:
      [{name: 1, other: a}, {name: 2, value: 2}, {name: 7}, {name: 9}, {name: 8}, {name: 3, value: 3},
       {name: 4, value: 4}]
  threeWay: {$setElementOrder/mergingList: [{name: 2}, {name: 1}, {name: 4}, {name: 3}]}
  result:
    mergingList:
      [{name: 2, value: 2}, {name: 1, other: a}, {name: 7}, {name: 9}, {name: 8}, {name: 4, value: 4},
       {name: 3, value: 3}]
- description: add and delete an item in a int list and preserve order
  original: {mergingIntList: [1, 3, 2]}
  twoWay:
    $setElementOrder/mergingIntList: [4, 2, 1]
    mergingIntList: [4]
    $deleteFromPrimitiveList/mergingIntList: [3]
  modified: {mergingIntList: [4, 2, 1]}
  current: {mergingIntList: [1, 2, 3]}
  threeWay:
    $setElementOrder/mergingIntList: [4, 2, 1]
    mergingIntList: [4]
    $deleteFromPrimitiveList/mergingIntList: [3]
  result: {mergingIntList: [4, 2, 1]}
- description: set elements order in a int list with server-only items 2
  original: {mergingIntList: [1, 2, 3, 4]}
  twoWay: {$setElementOrder/mergingIntList: [2, 1, 4, 3]}
  modified: {mergingIntList: [2, 1, 4, 3]}
  current: {mergingIntList: [1, 2, 9, 3, 4]}
  threeWay: {$setElementOrder/mergingIntList: [2, 1, 4, 3]}
  result: {mergingIntList: [2, 1, 9, 4, 3]}
- description: behavior of set element order for a merging list with duplicate
  original: &dup {mergingList: [{name: 1}, {name: 2, value: dup1}, {name: 3}, {name: 2, value: dup2}, {name: 4}]}
  current: *dup
  modified: {mergingList: [{name: 2, value: dup1}, {name: 1}, {name: 4}, {name: 3}, {name: 2, value: dup2}]}
  twoWay: &duporder {$setElementOrder/mergingList: [{name: 2}, {name: 1}, {name: 4}, {name: 3}, {name: 2}]}
  twoWayResult: &dupresult
    mergingList: [{name: 2, value: dup1}, {name: 2, value: dup2}, {name: 1}, {name: 4}, {name: 3}]
  threeWay: *duporder
  result: *dupresult
- description: retainKeys map should clear defaulted field with conflict (discriminated union)
  original: {}
  current: {retainKeysMap: {name: type1, value: foo}}
  modified: {retainKeysMap: {name: type2, other: bar}}
  twoWay: {retainKeysMap: {name: type2, other: bar}}
  threeWay: {retainKeysMap: {$retainKeys: [name, other], name: type2, other: bar}}
  result: {retainKeysMap: {name: type2, other: bar}}
- description: retainKeys map adds a field and clear a field
  original: {retainKeysMap: {name: foo}}
  current: {retainKeysMap: {name: foo, other: a}}
  modified: {retainKeysMap: {name: foo, value: bar}}
  twoWay: {retainKeysMap: {$retainKeys: [name, value], value: bar}}
  threeWay: {retainKeysMap: {$retainKeys: [name, value], value: bar}}
  result: {retainKeysMap: {name: foo, value: bar}}
- description: retainKeys map deletes a field and clears a field
  original: {retainKeysMap: {name: foo, value: bar}}
  current: {retainKeysMap: {name: foo, value: bar, other: a}}
  modified: {retainKeysMap: {name: foo}}
  twoWay: {retainKeysMap: {$retainKeys: [name], value: null}}
  threeWay: {retainKeysMap: {$retainKeys: [name], value: null}}
  result: {retainKeysMap: {name: foo}}
- description: retainKeys map clears a field
  original: {retainKeysMap: {name: foo, value: bar}}
  current: {retainKeysMap: {name: foo, value: bar, other: a}}
  modified: {retainKeysMap: {name: foo, value: bar}}
  twoWay: {}
  threeWay: {retainKeysMap: {$retainKeys: [name, value]}}
  result: {retainKeysMap: {name: foo, value: bar}}
- description: retainKeys map changes a field in a nested map
  original: {retainKeysMap: {name: foo, value: bar, simpleMap: {key1: a, key2: b}}}
  current: {retainKeysMap: {name: foo, value: bar, simpleMap: {key1: a, key2: b, key3: c}}}
  modified: {retainKeysMap: {name: foo, value: bar, simpleMap: {key1: x, key2: b}}}
  twoWay: {retainKeysMap: {$retainKeys: [name, simpleMap, value], simpleMap: {key1: x}}}
  threeWay: {retainKeysMap: {$retainKeys: [name, simpleMap, value], simpleMap: {key1: x}}}
  result: {retainKeysMap: {name: foo, value: bar, simpleMap: {key1: x, key2: b, key3: c}}}
- description: retainKeys map delete nested non-merging list with conflict
  original: {retainKeysMap: {name: foo, nonMergingList: [{name: a}, {name: b}]}}
  current: {retainKeysMap: {name: foo, nonMergingList: [{name: a}, {name: b}, {name: c}]}}
  modified: {retainKeysMap: {name: foo, value: bar}}
  twoWay: {retainKeysMap: {$retainKeys: [name, value], value: bar, nonMergingList: null}}
  threeWay: {retainKeysMap: {$retainKeys: [name, value], value: bar, nonMergingList: null}}
  result: {retainKeysMap: {name: foo, value: bar}}
- description: retainKeys map nested merging int list with no change
  original: {retainKeysMap: {name: foo, mergingIntList: [1, 2]}}
  current: {retainKeysMap: {name: foo, mergingIntList: [1, 2, 3]}}
  modified: {retainKeysMap: {name: foo, value: bar, mergingIntList: [1, 2]}}
  twoWay: {retainKeysMap: {$retainKeys: [mergingIntList, name, value], value: bar}}
  threeWay:
    retainKeysMap: {$retainKeys: [mergingIntList, name, value], $setElementOrder/mergingIntList: [1, 2], value: bar}
  result: {retainKeysMap: {name: foo, value: bar, mergingIntList: [1, 2, 3]}}
- description: retainKeys map adds an item in nested merging int list
  original: {retainKeysMap: {name: foo, mergingIntList: [1, 2]}}
  current: {retainKeysMap: {name: foo, mergingIntList: [1, 2, 3]}}
  modified: {retainKeysMap: {name: foo, mergingIntList: [1, 2, 4]}}
  twoWay: &addint
    retainKeysMap: {$setElementOrder/mergingIntList: [1, 2, 4], $retainKeys: [mergingIntList, name],
                    mergingIntList: [4]}
  threeWay: *addint
  result: {retainKeysMap: {name: foo, mergingIntList: [1, 2, 4, 3]}}
- description: retainKeys map adds an item and deletes an item in nested merging int list
  original: {retainKeysMap: {name: foo, mergingIntList: [1, 2, 3]}}
  current: {retainKeysMap: {name: foo, mergingIntList: [1, 2, 3, 4]}}
  modified: {retainKeysMap: {name: foo, mergingIntList: [1, 3, 5]}}
  twoWay: &adddelint
    retainKeysMap:
      $retainKeys: [mergingIntList, name]
      mergingIntList: [5]
      $deleteFromPrimitiveList/mergingIntList: [2]
      $setElementOrder/mergingIntList: [1, 3, 5]
  threeWay: *adddelint
  result: {retainKeysMap: {name: foo, mergingIntList: [1, 3, 5, 4]}}
- description: retainKeys map adds an item in nested merging list
  original: {retainKeysMap: {name: foo, mergingList: [{name: a}, {name: b}]}}
  current: {retainKeysMap: {name: foo, mergingList: [{name: a}, {name: b}, {name: x}]}}
  modified: {retainKeysMap: {name: foo, mergingList: [{name: a}, {name: b}, {name: c}]}}
  twoWay: &addlist
    retainKeysMap:
      $retainKeys: [mergingList, name]
      $setElementOrder/mergingList: [{name: a}, {name: b}, {name: c}]
      mergingList: [{name: c}]
  threeWay: *addlist
  result: {retainKeysMap: {name: foo, mergingList: [{name: a}, {name: b}, {name: c}, {name: x}]}}
- description: retainKeys map deletes an item in nested merging list
  original: {retainKeysMap: {name: foo, mergingList: [{name: a}, {name: b}]}}
  current: {retainKeysMap: {name: foo, mergingList: [{name: a}, {name: b}, {name: x}]}}
  modified: {retainKeysMap: {name: foo, mergingList: [{name: a}]}}
  twoWay: &dellist
    retainKeysMap:
      $retainKeys: [mergingList, name]
      $setElementOrder/mergingList: [{name: a}]
      mergingList: [{name: b, $patch: delete}]
  threeWay: *dellist
  result: {retainKeysMap: {name: foo, mergingList: [{name: a}, {name: x}]}}
- description: retainKeys list of maps clears a field
  original: {retainKeysMergingList: [{name: bar}, {name: foo, value: a}]}
  current: {retainKeysMergingList: [{name: bar}, {name: foo, value: a, other: x}]}
  modified: {retainKeysMergingList: [{name: bar}, {name: foo, value: a}]}
  twoWay: {}
  threeWay:
    $setElementOrder/retainKeysMergingList: [{name: bar}, {name: foo}]
    retainKeysMergingList: [{$retainKeys: [name, value], name: foo}]
  result: {retainKeysMergingList: [{name: bar}, {name: foo, value: a}]}
- description: retainKeys list of maps deletes a field and clear a field
  original: {retainKeysMergingList: [{name: bar}, {name: foo, value: a}]}
  current: {retainKeysMergingList: [{name: bar}, {name: foo, value: a, other: x}]}
  modified: {retainKeysMergingList: [{name: bar}, {name: foo}]}
  twoWay: &rklist
    $setElementOrder/retainKeysMergingList: [{name: bar}, {name: foo}]
    retainKeysMergingList: [{$retainKeys: [name], name: foo, value: null}]
  threeWay: *rklist
  result: {retainKeysMergingList: [{name: bar}, {name: foo}]}
- description: delete and reorder in one list, reorder in another
  original: &two {mergingList: [{name: a, value: a}, {name: b, value: b}],
                  mergeItemPtr: [{name: c, value: c}, {name: d, value: d}]}
  current: *two
  modified: &tworesult {mergingList: [{name: b, value: b}], mergeItemPtr: [{name: d, value: d}, {name: c, value: c}]}
  twoWay: &twopatch
    $setElementOrder/mergingList: [{name: b}]
    $setElementOrder/mergeItemPtr: [{name: d}, {name: c}]
    mergingList: [{$patch: delete, name: a}]
  threeWay: *twopatch
  result: *tworesult

# replaceRawExtensionPatchTestCases
- description: replace RawExtension field and merge list
  original:
    name: my-object
    mergingList: [{name: 1}]
    replacingItem: {Some: Generic, Yaml: Inside, The: RawExtension, Field: Period}
  current:
    name: my-object
    mergingList: [{name: 1}, {name: 3}]
    replacingItem: {Some: Generic, Yaml: Inside, The: RawExtension, Field: Period}
  modified:
    name: my-object
    mergingList: [{name: 1}, {name: 2}]
    replacingItem: {Newly: Modified, Yaml: Inside, The: RawExtension}
  twoWay: &raw
    $setElementOrder/mergingList: [{name: 1}, {name: 2}]
    mergingList: [{name: 2}]
    replacingItem: {Newly: Modified, Yaml: Inside, The: RawExtension}
  threeWay: *raw
  result:
    name: my-object
    mergingList: [{name: 1}, {name: 2}, {name: 3}]
    replacingItem: {Newly: Modified, Yaml: Inside, The: RawExtension}
""")


def _upstream_applications() -> list[Any]:
    params = []
    for case in UPSTREAM_CASES:
        name = case["description"]
        if "twoWay" in case:
            expected = case.get("twoWayResult", case.get("modified"))
            params.append(pytest.param(case.get("original", {}), case["twoWay"], expected,
                                       case.get("expectedError"), id=f"{name} [two-way]"))
        if "threeWay" in case:
            params.append(pytest.param(case["current"], case["threeWay"], case["result"], None,
                                       id=f"{name} [three-way]"))
    return params


@pytest.mark.parametrize("original,patch_,expected,expected_error", _upstream_applications())
def test_upstream_strategic_merge_cases(merge_item_kind: str, original: dict[str, Any], patch_: dict[str, Any],
                                        expected: dict[str, Any] | None, expected_error: str | None) -> None:
    if expected_error:
        with pytest.raises(errors.StatusError) as e:
            smp(original, patch_, merge_item_kind)
        assert expected_error in e.value.message
        return
    result = smp(original, patch_, merge_item_kind)
    # Compare as JSON text so list order and int-vs-bool differences count.
    assert json.dumps(result, sort_keys=True) == json.dumps(expected, sort_keys=True)


def test_upstream_cases_all_ported(merge_item_kind: str) -> None:
    assert len(_upstream_applications()) > 100
