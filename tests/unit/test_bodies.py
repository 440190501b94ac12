"""Request-body decoding with fieldValidation, patch result checks, and content negotiation."""
from __future__ import annotations

from typing import Any

import orjson
import pytest
from aiohttp.test_utils import make_mocked_request

from minik8s.api import errors, protobuf, schema
from minik8s.apiserver import bodies

JSON = "application/json"
DEPLOYMENT = schema.for_kind("apps", "v1", "Deployment")
POD = schema.for_kind("", "v1", "Pod")


def request(query: str = "", accept: str = "") -> Any:
    headers = {"Accept": accept} if accept else {}
    return make_mocked_request("POST", "/api/v1/namespaces/d/pods" + (f"?{query}" if query else ""),
                               headers=headers)


@pytest.mark.parametrize("query, directive", [
    ("", "Warn"), ("fieldValidation=", "Warn"), ("fieldValidation=Ignore", "Ignore"), ("fieldValidation=Warn", "Warn"),
    ("fieldValidation=Strict", "Strict"),
])
def test_field_validation_directive(query: str, directive: str) -> None:
    assert bodies.field_validation(request(query)) == directive


@pytest.mark.parametrize("value", ["strict", "Bogus", "true"])
def test_field_validation_is_parsed_strictly(value: str) -> None:
    with pytest.raises(errors.BadRequest) as info:
        bodies.field_validation(request(f"fieldValidation={value}"))
    assert info.value.message == (f'fieldValidation: Unsupported value: "{value}": supported values: '
                                  '"Ignore", "Strict", "Warn"')


POD_BODY = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "bogus": 1},
            "spec": {"containers": [{"name": "c", "image": "i", "imagePullPolicyX": "x"}]}}


def test_strict_refuses_unknown_and_duplicate_fields() -> None:
    raw = b'{"metadata":{"name":"p","name":"q","bogus":1},"spec":{"containers":[{"name":"c","x":1}]}}'
    with pytest.raises(errors.BadRequest) as info:
        bodies.decode_object(raw, JSON, bodies.STRICT, POD)
    assert info.value.message == ('strict decoding error: duplicate field "metadata.name", '
                                  'unknown field "metadata.bogus", unknown field "spec.containers[0].x"')


def test_warn_drops_and_reports_and_ignore_only_drops() -> None:
    raw = orjson.dumps(POD_BODY)
    warned = bodies.decode_object(raw, JSON, bodies.WARN, POD)
    assert warned.warnings == ['unknown field "metadata.bogus"', 'unknown field "spec.containers[0].imagePullPolicyX"']
    ignored = bodies.decode_object(raw, JSON, bodies.IGNORE, POD)
    assert ignored.warnings == []
    for decoded in (warned, ignored):
        assert decoded.obj == {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                               "spec": {"containers": [{"name": "c", "image": "i"}]}}


def test_duplicates_are_searched_only_in_non_canonical_bodies() -> None:
    canonical = orjson.dumps({"metadata": {"name": "p"}})
    assert bodies.duplicates(canonical, orjson.loads(canonical), JSON) == []
    spaced = b'{"metadata": {"name": "p", "name": "q"}}'
    assert bodies.duplicates(spaced, orjson.loads(spaced), JSON) == ["metadata.name"]
    yaml_body = b"metadata:\n  name: p\n  name: q\n"
    assert bodies.duplicates(yaml_body, {}, "application/yaml") == ["metadata.name"]
    decoded = bodies.decode_object(yaml_body, "application/yaml", bodies.WARN, POD)
    assert decoded.warnings == ['duplicate field "metadata.name"'] and decoded.obj["metadata"]["name"] == "q"


def test_deeply_nested_bodies_are_400s_not_recursion_errors() -> None:
    # Found by the fuzz suite (tests/fuzz/test_fuzz_writes.py, a "huge" mutation sent as YAML):
    # PyYAML recursed past Python's limit and the create answered 500.
    deep_yaml = b"metadata:\n  name: p\nspec: " + b"[" * 2000 + b"]" * 2000
    with pytest.raises(errors.BadRequest, match="nested too deeply"):
        bodies.decode_object(deep_yaml, "application/yaml", bodies.WARN, POD)
    # JSON that orjson takes (up to 1024 levels) but Python's parser, which looks for
    # duplicate members, does not: the body is judged without that search.
    deep_json = b'{"metadata": {"name": "p"}, "fuzz": ' + b"[" * 1000 + b"]" * 1000 + b"}"
    decoded = bodies.decode_object(deep_json, JSON, bodies.WARN, POD)
    assert decoded.warnings == ['unknown field "fuzz"'] and "fuzz" not in decoded.obj


def test_an_ill_typed_patch_result_too_deep_to_print_is_still_a_422() -> None:
    # Found by the fuzz suite (tests/fuzz/test_fuzz_writes.py, a patch adding a member 300
    # levels deep beside an ill-typed one): quoting the patched object in the 422 raised (500).
    deep: Any = "x"
    for i in range(300):
        deep = [deep] if i % 2 else {"n": deep}
    check = bodies.PatchCheck(DEPLOYMENT, bodies.WARN, [])
    with pytest.raises(errors.StatusError) as info:
        check.from_view({"spec": {"zz": deep, "replicas": "x"}})
    assert info.value.code == 422 and "cannot unmarshal string" in info.value.message


def test_type_errors_are_400s_naming_the_kind() -> None:
    with pytest.raises(errors.BadRequest) as info:
        bodies.decode_object(b'{"spec":{"replicas":"many"}}', JSON, bodies.IGNORE, DEPLOYMENT)
    assert info.value.message == ('Deployment in version "v1" cannot be handled as a Deployment: json: cannot '
                                  'unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32')


def test_a_body_of_another_kind_is_left_to_the_registry() -> None:
    raw = orjson.dumps({"apiVersion": "v1", "kind": "Service", "spec": {"ports": [{"port": 80}]}})
    assert bodies.decode_object(raw, JSON, bodies.STRICT, POD).obj["kind"] == "Service"


def test_protobuf_bodies_are_checked_too() -> None:
    body = protobuf.encode({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                            "spec": {"containers": [{"name": "c", "resources": {"limits": {"cpu": "Mi"}}}]}})
    with pytest.raises(errors.BadRequest, match="quantities must match"):
        bodies.decode_object(body, protobuf.MEDIA_TYPE, bodies.STRICT, POD)


def test_patch_results_are_checked_after_patching() -> None:
    stored = {"metadata": {"name": "d", "legacy": 1}, "spec": {"replicas": 1}}
    check = bodies.PatchCheck(DEPLOYMENT, bodies.STRICT, [])
    current = check.to_view(dict(stored, metadata=dict(stored["metadata"])))
    assert current == {"metadata": {"name": "d"}, "spec": {"replicas": 1}}
    # A member the stored object carried is dropped without failing the patch.
    assert check.from_view({"metadata": {"name": "d", "legacy": 1}, "spec": {"replicas": 2}}) == {
        "metadata": {"name": "d"}, "spec": {"replicas": 2}}
    with pytest.raises(errors.StatusError) as info:
        check.from_view({"metadata": {"name": "d"}, "spec": {"replicas": 2, "foo": 1}})
    assert info.value.code == 422 and info.value.reason == "Invalid"
    assert info.value.message.endswith('strict decoding error: unknown field "spec.foo"')
    with pytest.raises(errors.StatusError) as info:
        check.from_view({"spec": {"replicas": "many"}})
    assert info.value.code == 422
    assert info.value.message.endswith("json: cannot unmarshal string into Go struct field "
                                       "DeploymentSpec.spec.replicas of type int32")
    assert info.value.details["causes"][0]["field"] == "patch"


def test_strategic_patch_errors_quote_the_patch_as_go_prints_it() -> None:
    smp = {"spec": {"replicas": "many", "paused": True}}
    check = bodies.PatchCheck(DEPLOYMENT, bodies.WARN, [], smp_patch=smp)
    with pytest.raises(errors.StatusError) as info:
        check.from_view({"spec": {"replicas": "many"}})
    assert 'patch: Invalid value: "map[spec:map[paused:true replicas:many]]": json: cannot' in info.value.message


def test_warn_collects_patch_warnings() -> None:
    check = bodies.PatchCheck(DEPLOYMENT, bodies.WARN, ["spec.replicas"])
    assert check.from_view({"spec": {"replicas": 2, "foo": 1}}) == {"spec": {"replicas": 2}}
    assert check.warnings == ['duplicate field "spec.replicas"', 'unknown field "spec.foo"']
    assert bodies.patch_duplicates(b'[{"op":"add","op":"add"}]', "application/json-patch+json", bodies.WARN) == [
        "json patch [0].op"]


@pytest.mark.parametrize("accept, protobuf_wanted", [
    ("application/vnd.kubernetes.protobuf,application/json", True),
    ("application/vnd.kubernetes.protobuf, */*", True),
    ("application/json, application/vnd.kubernetes.protobuf", False),
    ("application/json;q=0.5, application/vnd.kubernetes.protobuf", True),
    ("application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io, application/json", False),
    ("application/json", False), ("*/*", False), ("", False),
])
def test_content_negotiation(accept: str, protobuf_wanted: bool) -> None:
    assert bodies.wants_protobuf(request(accept=accept)) is protobuf_wanted


def test_warning_headers_quote_as_kubernetes_does() -> None:
    assert bodies.warning_headers(['unknown field "spec.foo"']) == [
        ("Warning", '299 - "unknown field \\"spec.foo\\""')]
