"""OpenAPI v2 and v3 generated from the schema: what kubectl's explain, validation and apply read."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from minik8s.api import protobuf, resources
from minik8s.api.schema import gnostic, openapi

VERSION = "v1.32.0-minik8s"


@pytest.fixture(scope="module")
def v2() -> dict[str, Any]:
    return openapi.v2_document(VERSION)


def refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from refs(item)


def test_v2_has_a_definition_per_served_kind_with_its_gvk(v2: dict[str, Any]) -> None:
    assert v2["swagger"] == "2.0" and v2["info"] == {"title": "Kubernetes", "version": VERSION}
    by_gvk = {}
    for name, definition in v2["definitions"].items():
        for gvk in definition.get("x-kubernetes-group-version-kind", []):
            by_gvk[(gvk["group"], gvk["version"], gvk["kind"])] = name
    for res in resources.RESOURCES:
        assert (res.group, res.version, res.kind) in by_gvk, res.kind
        if "list" in res.verbs:  # the create-only reviews have no List type, as in Kubernetes
            assert (res.group, res.version, res.list_kind) in by_gvk, res.list_kind
    assert by_gvk[("autoscaling", "v1", "Scale")] == "io.k8s.api.autoscaling.v1.Scale"
    assert by_gvk[("apps", "v1", "DeleteOptions")] == "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions"


def test_v2_references_all_resolve(v2: dict[str, Any]) -> None:
    found = set(refs(v2))
    assert found and all(r.startswith("#/definitions/") for r in found)
    assert {r[len("#/definitions/"):] for r in found} <= set(v2["definitions"])


def test_v2_definitions_carry_types_and_kubernetes_extensions(v2: dict[str, Any]) -> None:
    defs = v2["definitions"]
    spec = defs["io.k8s.api.core.v1.PodSpec"]
    assert spec["required"] == ["containers"]
    containers = spec["properties"]["containers"]
    assert containers == {
        "type": "array", "items": {"$ref": "#/definitions/io.k8s.api.core.v1.Container"},
        "description": containers["description"], "x-kubernetes-patch-strategy": "merge",
        "x-kubernetes-patch-merge-key": "name", "x-kubernetes-list-type": "map",
        "x-kubernetes-list-map-keys": ["name"]}
    assert spec["properties"]["restartPolicy"]["enum"] == ["Always", "OnFailure", "Never"]
    assert spec["properties"]["nodeSelector"]["additionalProperties"] == {"type": "string"}
    assert spec["properties"]["terminationGracePeriodSeconds"]["format"] == "int64"
    deployment_spec = defs["io.k8s.api.apps.v1.DeploymentSpec"]["properties"]
    assert deployment_spec["strategy"]["x-kubernetes-patch-strategy"] == "retainKeys"
    assert deployment_spec["replicas"] == {"type": "integer", "format": "int32",
                                           "description": deployment_spec["replicas"]["description"]}
    assert defs["io.k8s.apimachinery.pkg.util.intstr.IntOrString"]["format"] == "int-or-string"
    assert defs["io.k8s.apimachinery.pkg.apis.meta.v1.Time"]["format"] == "date-time"
    assert defs["io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector"]["x-kubernetes-map-type"] == "atomic"
    assert defs["io.k8s.api.core.v1.Secret"]["properties"]["data"]["additionalProperties"]["format"] == "byte"
    for name, definition in defs.items():
        assert definition.get("description"), name
        for prop_name, prop in definition.get("properties", {}).items():
            assert prop.get("description"), f"{name}.{prop_name}"


def test_v2_paths_declare_field_validation_on_every_patch(v2: dict[str, Any]) -> None:
    paths = v2["paths"]
    item = paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]
    assert set(item) == {"get", "put", "patch", "delete"}
    patch = item["patch"]
    assert patch["x-kubernetes-group-version-kind"] == {"group": "apps", "kind": "Deployment", "version": "v1"}
    assert patch["x-kubernetes-action"] == "patch"
    assert "application/strategic-merge-patch+json" in patch["consumes"]
    names = {p["name"] for p in patch["parameters"] if p["in"] == "query"}
    assert {"fieldValidation", "fieldManager", "dryRun"} <= names
    scale = paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale"]["patch"]
    assert scale["x-kubernetes-group-version-kind"]["kind"] == "Scale"
    assert "get" in paths["/api/v1/pods"] and "/api/v1/nodes/{name}/status" in paths
    patches = [op for item in paths.values() for method, op in item.items() if method == "patch"]
    assert patches and all(any(p["name"] == "fieldValidation" for p in op["parameters"]) for op in patches)


def test_v3_documents_one_per_group_version() -> None:
    keys = [openapi.v3_key(g, v) for g, v in openapi.served_group_versions()]
    assert keys[0] == "api/v1" and "apis/apps/v1" in keys and "apis/autoscaling/v1" in keys
    for group, version in openapi.served_group_versions():
        doc = openapi.v3_document(group, version, VERSION)
        assert doc["openapi"] == "3.0.0"
        schemas = doc["components"]["schemas"]
        assert {r[len("#/components/schemas/"):] for r in refs(doc)} <= set(schemas)
        prefix = f"/apis/{group}/{version}/" if group else f"/api/{version}/"
        assert doc["paths"] and all(p.startswith(prefix) for p in doc["paths"])


def test_v3_wraps_references_and_uses_one_of_for_mixed_types() -> None:
    doc = openapi.v3_document("apps", "v1", VERSION)
    schemas = doc["components"]["schemas"]
    spec = schemas["io.k8s.api.apps.v1.DeploymentSpec"]["properties"]
    assert spec["template"]["allOf"] == [{"$ref": "#/components/schemas/io.k8s.api.core.v1.PodTemplateSpec"}]
    assert spec["template"]["description"]
    assert schemas["io.k8s.apimachinery.pkg.util.intstr.IntOrString"]["oneOf"] == [
        {"type": "integer"}, {"type": "string"}]
    patch = doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"]
    assert {"name": "fieldValidation", "in": "query"}.items() <= next(
        p for p in patch["parameters"] if p["name"] == "fieldValidation").items()
    assert set(patch["requestBody"]["content"]) == {
        "application/json-patch+json", "application/merge-patch+json", "application/strategic-merge-patch+json"}


def _strip_zeros(node: Any) -> Any:
    """gnostic is proto3: empty strings, false and empty lists are not on the wire."""
    if isinstance(node, dict):
        out = {k: _strip_zeros(v) for k, v in node.items() if v not in ("", False, [], None)}
        return out
    if isinstance(node, list):
        return [_strip_zeros(v) for v in node]
    return node


def test_gnostic_form_round_trips_and_keeps_extensions(v2: dict[str, Any]) -> None:
    doc = gnostic.to_gnostic(v2)
    body = protobuf.encode_message(doc, gnostic.DOCUMENT)
    assert protobuf.decode_message(body, gnostic.DOCUMENT) == _strip_zeros(doc)
    definitions = {d["name"]: d["value"] for d in doc["definitions"]["additional_properties"]}
    deployment = definitions["io.k8s.api.apps.v1.Deployment"]
    assert deployment["vendor_extension"] == [{"name": "x-kubernetes-group-version-kind", "value": {
        "yaml": '[{"group":"apps","kind":"Deployment","version":"v1"}]\n'}}]
    containers = next(p["value"] for p in definitions["io.k8s.api.core.v1.PodSpec"]["properties"][
        "additional_properties"] if p["name"] == "containers")
    assert containers["type"] == {"value": ["array"]}
    assert containers["items"] == {"schema": [{"_ref": "#/definitions/io.k8s.api.core.v1.Container"}]}
    path = next(p["value"] for p in doc["paths"]["path"]
                if p["name"] == "/apis/apps/v1/namespaces/{namespace}/deployments/{name}")
    params = [p["parameter"]["non_body_parameter"]["query_parameter_sub_schema"]["name"]
              for p in path["patch"]["parameters"] if "non_body_parameter" in p["parameter"]
              and "query_parameter_sub_schema" in p["parameter"]["non_body_parameter"]]
    assert "fieldValidation" in params
