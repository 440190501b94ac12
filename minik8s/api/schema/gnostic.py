"""The OpenAPI v2 document in gnostic's protobuf form, which kubectl 1.27/1.28 ask for.

kubectl fetches /openapi/v2 with `Accept: application/com.github.proto-openapi.spec.v2@v1.0+protobuf`
and parses gnostic's `openapi.v2.Document` (github.com/google/gnostic-models,
openapiv2/OpenAPIv2.proto). The messages minik8s uses are described below in the
schema language, with the proto field names as member names, so the one protobuf
encoder writes them; `to_gnostic` turns the JSON document into that shape.

Gnostic keeps JSON maps as repeated (name, value) pairs in document order, wraps
the type and items of a schema in small messages, and carries every vendor
extension (x-kubernetes-*) as YAML text, which kubectl parses back.
"""
from __future__ import annotations

from typing import Any, Final

import orjson

from minik8s.api.schema import dsl

MEDIA_TYPE: Final = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"


def _f(name: str, number: int, type_: dsl.Type, *, repeated: bool = False) -> dsl.Field:
    return dsl.Field(name, number, type_, repeated=repeated)


def _msg(name: str, *fields: dsl.Field) -> dsl.Message:
    return dsl.Message(f"openapi.v2.{name}", "", fields)


ANY = _msg("Any", _f("yaml", 2, dsl.STRING))
NAMED_ANY = _msg("NamedAny", _f("name", 1, dsl.STRING), _f("value", 2, ANY))


def _with_ext(name: str, number: int, *fields: dsl.Field) -> dsl.Message:
    return _msg(name, *fields, _f("vendor_extension", number, NAMED_ANY, repeated=True))


INFO = _with_ext("Info", 7, _f("title", 1, dsl.STRING), _f("version", 2, dsl.STRING),
                 _f("description", 3, dsl.STRING))
JSON_REFERENCE = _msg("JsonReference", _f("_ref", 1, dsl.STRING), _f("description", 2, dsl.STRING))
TYPE_ITEM = _msg("TypeItem", _f("value", 1, dsl.STRING, repeated=True))



def _schema_message() -> dsl.Message:
    return SCHEMA


# Schema refers to itself through these holders, hence the deferred references.
ITEMS_ITEM = _msg("ItemsItem", _f("schema", 1, _schema_message, repeated=True))
ADDITIONAL_PROPERTIES_ITEM = _msg("AdditionalPropertiesItem", _f("schema", 1, _schema_message),
                                  _f("boolean", 2, dsl.BOOL))
NAMED_SCHEMA = _msg("NamedSchema", _f("name", 1, dsl.STRING), _f("value", 2, _schema_message))
PROPERTIES = _msg("Properties", _f("additional_properties", 1, NAMED_SCHEMA, repeated=True))
SCHEMA: dsl.Message = _with_ext(
    "Schema", 31,
    _f("_ref", 1, dsl.STRING), _f("format", 2, dsl.STRING), _f("title", 3, dsl.STRING),
    _f("description", 4, dsl.STRING), _f("unique_items", 16, dsl.BOOL), _f("required", 19, dsl.STRING, repeated=True),
    _f("enum", 20, ANY, repeated=True), _f("additional_properties", 21, ADDITIONAL_PROPERTIES_ITEM),
    _f("type", 22, TYPE_ITEM), _f("items", 23, ITEMS_ITEM), _f("all_of", 24, _schema_message, repeated=True),
    _f("properties", 25, PROPERTIES), _f("read_only", 27, dsl.BOOL),
)
DEFINITIONS = _msg("Definitions", _f("additional_properties", 1, NAMED_SCHEMA, repeated=True))

_SUB_SCHEMA_FIELDS = (
    _f("required", 1, dsl.BOOL), _f("in", 2, dsl.STRING), _f("description", 3, dsl.STRING),
    _f("name", 4, dsl.STRING),
)
QUERY_PARAMETER = _with_ext(
    "QueryParameterSubSchema", 23, *_SUB_SCHEMA_FIELDS, _f("type", 6, dsl.STRING), _f("unique_items", 20, dsl.BOOL))
PATH_PARAMETER = _with_ext(
    "PathParameterSubSchema", 22, *_SUB_SCHEMA_FIELDS, _f("type", 5, dsl.STRING), _f("unique_items", 19, dsl.BOOL))
NON_BODY_PARAMETER = _msg("NonBodyParameter", _f("query_parameter_sub_schema", 3, QUERY_PARAMETER),
                          _f("path_parameter_sub_schema", 4, PATH_PARAMETER))
BODY_PARAMETER = _with_ext(
    "BodyParameter", 6, _f("description", 1, dsl.STRING), _f("name", 2, dsl.STRING), _f("in", 3, dsl.STRING),
    _f("required", 4, dsl.BOOL), _f("schema", 5, SCHEMA))
PARAMETER = _msg("Parameter", _f("body_parameter", 1, BODY_PARAMETER), _f("non_body_parameter", 2, NON_BODY_PARAMETER))
PARAMETERS_ITEM = _msg("ParametersItem", _f("parameter", 1, PARAMETER), _f("json_reference", 2, JSON_REFERENCE))

SCHEMA_ITEM = _msg("SchemaItem", _f("schema", 1, SCHEMA))
RESPONSE = _with_ext("Response", 5, _f("description", 1, dsl.STRING), _f("schema", 2, SCHEMA_ITEM))
RESPONSE_VALUE = _msg("ResponseValue", _f("response", 1, RESPONSE), _f("json_reference", 2, JSON_REFERENCE))
NAMED_RESPONSE_VALUE = _msg("NamedResponseValue", _f("name", 1, dsl.STRING), _f("value", 2, RESPONSE_VALUE))
RESPONSES = _with_ext("Responses", 2, _f("response_code", 1, NAMED_RESPONSE_VALUE, repeated=True))

OPERATION = _with_ext(
    "Operation", 13,
    _f("tags", 1, dsl.STRING, repeated=True), _f("summary", 2, dsl.STRING), _f("description", 3, dsl.STRING),
    _f("operation_id", 5, dsl.STRING), _f("produces", 6, dsl.STRING, repeated=True),
    _f("consumes", 7, dsl.STRING, repeated=True), _f("parameters", 8, PARAMETERS_ITEM, repeated=True),
    _f("responses", 9, RESPONSES), _f("schemes", 10, dsl.STRING, repeated=True), _f("deprecated", 11, dsl.BOOL),
)
PATH_ITEM = _with_ext(
    "PathItem", 10,
    _f("_ref", 1, dsl.STRING), _f("get", 2, OPERATION), _f("put", 3, OPERATION), _f("post", 4, OPERATION),
    _f("delete", 5, OPERATION), _f("options", 6, OPERATION), _f("head", 7, OPERATION), _f("patch", 8, OPERATION),
    _f("parameters", 9, PARAMETERS_ITEM, repeated=True),
)
NAMED_PATH_ITEM = _msg("NamedPathItem", _f("name", 1, dsl.STRING), _f("value", 2, PATH_ITEM))
PATHS = _msg("Paths", _f("vendor_extension", 1, NAMED_ANY, repeated=True),
             _f("path", 2, NAMED_PATH_ITEM, repeated=True))
DOCUMENT = _with_ext(
    "Document", 16,
    _f("swagger", 1, dsl.STRING), _f("info", 2, INFO), _f("host", 3, dsl.STRING), _f("base_path", 4, dsl.STRING),
    _f("schemes", 5, dsl.STRING, repeated=True), _f("consumes", 6, dsl.STRING, repeated=True),
    _f("produces", 7, dsl.STRING, repeated=True), _f("paths", 8, PATHS), _f("definitions", 9, DEFINITIONS),
)

_OPERATIONS = ("get", "put", "post", "delete", "options", "head", "patch")


def _extensions(obj: dict[str, Any]) -> list[dict[str, Any]]:
    # Vendor extensions travel as YAML text; JSON is YAML, and orjson keeps key order.
    return [{"name": k, "value": {"yaml": orjson.dumps(v).decode() + "\n"}}
            for k, v in obj.items() if k.startswith("x-")]


def _schema(s: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in s.items():
        if key == "$ref":
            out["_ref"] = value
        elif key in ("format", "title", "description"):
            out[key] = value
        elif key == "uniqueItems":
            out["unique_items"] = value
        elif key == "readOnly":
            out["read_only"] = value
        elif key == "required":
            out["required"] = list(value)
        elif key == "enum":
            out["enum"] = [{"yaml": orjson.dumps(v).decode() + "\n"} for v in value]
        elif key == "type":
            out["type"] = {"value": value if isinstance(value, list) else [value]}
        elif key == "items":
            out["items"] = {"schema": [_schema(i) for i in (value if isinstance(value, list) else [value])]}
        elif key == "allOf":
            out["all_of"] = [_schema(i) for i in value]
        elif key == "properties":
            out["properties"] = {"additional_properties": [
                {"name": name, "value": _schema(prop)} for name, prop in value.items()]}
        elif key == "additionalProperties":
            out["additional_properties"] = ({"boolean": value} if isinstance(value, bool)
                                            else {"schema": _schema(value)})
    ext = _extensions(s)
    if ext:
        out["vendor_extension"] = ext
    return out


def _parameter(p: dict[str, Any]) -> dict[str, Any]:
    if p.get("in") == "body":
        return {"parameter": {"body_parameter": {
            "description": p.get("description", ""), "name": p["name"], "in": "body",
            "required": bool(p.get("required")), "schema": _schema(p.get("schema") or {})}}}
    sub = {"required": bool(p.get("required")), "in": p["in"], "description": p.get("description", ""),
           "name": p["name"], "type": p.get("type", "string"), "unique_items": bool(p.get("uniqueItems"))}
    which = "path_parameter_sub_schema" if p["in"] == "path" else "query_parameter_sub_schema"
    return {"parameter": {"non_body_parameter": {which: sub}}}


def _operation(op: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "tags": op.get("tags", []), "description": op.get("description", ""),
        "operation_id": op.get("operationId", ""), "produces": op.get("produces", []),
        "consumes": op.get("consumes", []), "parameters": [_parameter(p) for p in op.get("parameters", [])],
        "responses": {"response_code": [
            {"name": code, "value": {"response": {"description": r.get("description", ""), **(
                {"schema": {"schema": _schema(r["schema"])}} if "schema" in r else {})}}}
            for code, r in op.get("responses", {}).items()]},
        "schemes": op.get("schemes", []),
    }
    ext = _extensions(op)
    if ext:
        out["vendor_extension"] = ext
    return out


def to_gnostic(doc: dict[str, Any]) -> dict[str, Any]:
    """A Swagger 2.0 document (as JSON) in the shape of gnostic's Document message."""
    paths = [{"name": path, "value": {m: _operation(item[m]) for m in _OPERATIONS if m in item}}
             for path, item in doc.get("paths", {}).items()]
    return {
        "swagger": doc.get("swagger", "2.0"),
        "info": {k: v for k, v in doc.get("info", {}).items() if k in ("title", "version", "description")},
        "paths": {"path": paths},
        "definitions": {"additional_properties": [
            {"name": name, "value": _schema(d)} for name, d in doc.get("definitions", {}).items()]},
    }
