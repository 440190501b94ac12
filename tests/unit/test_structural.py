"""The typed structural check: Go's decoder errors, unknown-field pruning, duplicate keys."""
from __future__ import annotations

import copy
import pathlib
from typing import Any

import orjson
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from minik8s.api import schema
from minik8s.api.schema import dsl, structural
from tests.unit import schema_strategies

DEPLOYMENT = schema.for_kind("apps", "v1", "Deployment")
POD = schema.for_kind("", "v1", "Pod")
SERVICE = schema.for_kind("", "v1", "Service")
SECRET = schema.for_kind("", "v1", "Secret")
EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"


def deployment() -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"app": "web"}, "creationTimestamp": None},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                 "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 1}},
                 "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{
                     "name": "web", "image": "nginx", "ports": [{"containerPort": 80, "protocol": "TCP"}],
                     "resources": {"limits": {"cpu": "100m", "memory": 128 * 1024 * 1024}},
                     "env": [{"name": "A", "value": "1"}],
                     "readinessProbe": {"httpGet": {"path": "/", "port": "http"}}}]}}},
    }


def error_of(msg: dsl.Message, obj: dict[str, Any]) -> str:
    with pytest.raises(structural.StructuralError) as info:
        structural.check(msg, obj)
    return str(info.value)


def test_a_well_typed_object_passes_unchanged() -> None:
    obj = deployment()
    assert structural.check(DEPLOYMENT, obj) == []
    assert obj == deployment()


@pytest.mark.parametrize("path, value, message", [
    (("spec", "replicas"), "many",
     "json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32"),
    (("spec", "replicas"), 1.5,
     "json: cannot unmarshal number 1.5 into Go struct field DeploymentSpec.spec.replicas of type int32"),
    (("spec", "replicas"), 1 << 40,
     "json: cannot unmarshal number 1099511627776 into Go struct field DeploymentSpec.spec.replicas of type int32"),
    (("spec", "replicas"), True,
     "json: cannot unmarshal bool into Go struct field DeploymentSpec.spec.replicas of type int32"),
    (("spec", "paused"), "yes",
     "json: cannot unmarshal string into Go struct field DeploymentSpec.spec.paused of type bool"),
    (("spec", "template", "spec", "containers"), "notalist",
     ("json: cannot unmarshal string into Go struct field PodSpec.spec.template.spec.containers of type "
      "[]v1.Container")),
    (("spec", "template", "spec"), [],
     "json: cannot unmarshal array into Go struct field PodTemplateSpec.spec.template.spec of type v1.PodSpec"),
    (("metadata", "labels"), ["a"],
     "json: cannot unmarshal array into Go struct field ObjectMeta.metadata.labels of type map[string]string"),
    (("metadata", "labels", "app"), 7,
     "json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type string"),
    (("metadata", "name"), {},
     "json: cannot unmarshal object into Go struct field ObjectMeta.metadata.name of type string"),
    (("spec", "strategy", "rollingUpdate", "maxSurge"), False,
     ("json: cannot unmarshal bool into Go struct field RollingUpdateDeployment.spec.strategy.rollingUpdate."
      "maxSurge of type int32")),
    (("metadata", "creationTimestamp"), "yesterday",
     'parsing time "yesterday" as "2006-01-02T15:04:05Z07:00": cannot parse "yesterday" as "2006"'),
    (("metadata", "creationTimestamp"), 5,
     "json: cannot unmarshal number into Go struct field ObjectMeta.metadata.creationTimestamp of type string"),
])
def test_type_errors_read_as_gos(path: tuple[str, ...], value: Any, message: str) -> None:
    obj = deployment()
    target = obj
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    assert error_of(DEPLOYMENT, obj) == message


def test_errors_inside_lists_name_the_struct_and_path_without_indexes() -> None:
    obj = deployment()
    obj["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = "80"
    assert error_of(DEPLOYMENT, obj) == ("json: cannot unmarshal string into Go struct field ContainerPort."
                                         "spec.template.spec.containers.ports.containerPort of type int32")
    obj = deployment()
    obj["spec"]["template"]["spec"]["containers"][0]["env"] = [{"name": "N", "value": False}]
    assert error_of(DEPLOYMENT, obj) == ("json: cannot unmarshal bool into Go struct field EnvVar."
                                         "spec.template.spec.containers.env.value of type string")
    svc = {"spec": {"type": "NodePort", "ports": [{"port": 80, "nodePort": "x"}]}}
    assert error_of(SERVICE, svc) == ("json: cannot unmarshal string into Go struct field ServicePort."
                                      "spec.ports.nodePort of type int32")
    assert error_of(POD, {"spec": {"containers": ["web"]}}) == (
        "json: cannot unmarshal string into Go struct field PodSpec.spec.containers of type v1.Container")


@pytest.mark.parametrize("bad", ["Mi", "1.2.3", "12XYZ", "", True, [], {"a": 1}])
def test_malformed_quantities(bad: Any) -> None:
    obj = deployment()
    obj["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"] = bad
    assert error_of(DEPLOYMENT, obj) == ("quantities must match the regular expression "
                                         "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")


@pytest.mark.parametrize("good", ["1", "100m", "1.5Gi", "2e3", "+1", ".5", 1, 0.5])
def test_quantities_may_be_strings_or_numbers(good: Any) -> None:
    obj = deployment()
    obj["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"] = {"cpu": good}
    assert structural.check(DEPLOYMENT, obj) == []


def test_bytes_must_be_base64() -> None:
    assert structural.check(SECRET, {"data": {"a": "aGk=", "b": ""}, "stringData": {"c": "plain"}}) == []
    assert error_of(SECRET, {"data": {"a": "not base64!"}}).startswith("illegal base64 data at input byte")
    assert error_of(SECRET, {"data": {"a": 5}}) == (
        "json: cannot unmarshal number into Go struct field Secret.data of type []uint8")


def test_nulls_are_accepted_anywhere() -> None:
    obj = {"metadata": {"name": None, "labels": None, "creationTimestamp": None},
           "spec": {"replicas": None, "template": None, "selector": {"matchLabels": {"a": None}}}}
    assert structural.check(DEPLOYMENT, obj) == []


def test_unknown_members_are_removed_and_reported_with_their_paths() -> None:
    obj = deployment()
    obj["spec"]["foo"] = 1
    obj["spec"]["template"]["spec"]["containers"][0]["imagePullPolicyX"] = "Always"
    obj["spec"]["template"]["spec"]["containers"][0]["ports"][0]["bar"] = {"deep": 1}
    obj["metadata"]["Name"] = "case matters"
    obj["status"] = {"weird": True}
    unknown = structural.check(DEPLOYMENT, obj)
    assert sorted(unknown) == sorted([
        "spec.foo", "spec.template.spec.containers[0].imagePullPolicyX",
        "spec.template.spec.containers[0].ports[0].bar", "metadata.Name", "status.weird"])
    assert obj == {**deployment(), "status": {}}


def test_inline_members_are_known() -> None:
    pod = {"spec": {"containers": [{"name": "c", "env": [{"name": "E", "valueFrom": {"configMapKeyRef": {
        "name": "cm", "key": "k", "optional": True}}}]}],
        "volumes": [{"name": "v", "configMap": {"name": "cm", "defaultMode": 420}}, {"name": "e", "emptyDir": {}}],
        "ephemeralContainers": [{"name": "dbg", "image": "busybox", "targetContainerName": "c"}]}}
    assert structural.check(POD, pod) == []


def test_plans_are_compiled_once() -> None:
    assert structural.plan_of(DEPLOYMENT) is structural.plan_of(DEPLOYMENT)


def test_the_examples_are_well_typed_and_fully_known() -> None:
    for path in sorted(EXAMPLES.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if not doc:
                continue
            group, _, version = doc["apiVersion"].rpartition("/")
            assert structural.check(schema.for_kind(group, version, doc["kind"]), doc) == [], path.name


# --------------------------------------------------------------------------- duplicates


def test_duplicate_json_members_with_their_paths() -> None:
    raw = (b'{"metadata":{"name":"a","name":"b"},"spec":{"replicas":1,"template":{"spec":{"containers":'
           b'[{"name":"x","image":"i","image":"j"}]}},"replicas":2}}')
    assert structural.duplicate_json_paths(raw) == [
        "metadata.name", "spec.template.spec.containers[0].image", "spec.replicas"]
    assert structural.duplicate_json_paths(orjson.dumps(deployment())) == []
    assert structural.duplicate_json_paths(b"[{}, {\"a\": 1, \"a\": 2}]") == ["[1].a"]
    assert structural.duplicate_json_paths(b"{not json") == []


def test_duplicate_yaml_members_with_their_paths() -> None:
    raw = b"metadata:\n  name: a\n  name: b\nspec:\n  containers:\n  - name: x\n    name: y\n"
    assert structural.duplicate_yaml_paths(raw) == ["metadata.name", "spec.containers[0].name"]
    assert structural.duplicate_yaml_paths(b"a: [\n") == []


# --------------------------------------------------------------------------- properties


KINDS = sorted(schema.kinds().items())


@settings(max_examples=150, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_any_well_typed_object_passes(data: st.DataObject) -> None:
    _, msg = data.draw(st.sampled_from(KINDS), label="kind")
    obj = data.draw(schema_strategies.objects(msg))
    before = copy.deepcopy(obj)
    assert structural.check(msg, obj) == []
    assert obj == before


def _leaves(obj: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(obj, dict):
        return [p for k, v in obj.items() for p in _leaves(v, path + (k,))]
    if isinstance(obj, list):
        return [p for i, v in enumerate(obj) for p in _leaves(v, path + (i,))]
    return [path]


@settings(max_examples=150, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_a_wrongly_typed_leaf_is_always_refused(data: st.DataObject) -> None:
    _, msg = data.draw(st.sampled_from(KINDS), label="kind")
    obj = data.draw(schema_strategies.objects(msg))
    leaves = [p for p in _leaves(obj) if p and not _under_any_json(msg, p)]
    if not leaves:
        return
    path = data.draw(st.sampled_from(leaves), label="leaf")
    target = obj
    for key in path[:-1]:
        target = target[key]
    # An object is never a valid value for a scalar member.
    target[path[-1]] = {"unexpected": "object"}
    with pytest.raises(structural.StructuralError):
        structural.check(msg, obj)


def _under_any_json(msg: dsl.Message, path: tuple[Any, ...]) -> bool:
    """Whether `path` ends inside a member that holds arbitrary JSON (RawExtension, FieldsV1)."""
    current: dsl.Message | None = msg
    for key in path:
        if isinstance(key, int):
            continue
        if current is None:
            return False
        f = current.json_fields.get(key)
        if f is None:
            return False
        if f.scalar in (dsl.RAW_EXTENSION, dsl.FIELDS_V1):
            return True
        current = f.message
    return False
