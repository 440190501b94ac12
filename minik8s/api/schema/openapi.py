"""The OpenAPI v2 and v3 documents, generated from the schema and the resource table.

kubectl reads them for four things, all of which must agree with what the server
does: client-side validation (1.27 validates against v2 when it does not trust the
server; every version validates `kind: List` files client-side), `kubectl explain`
(v2 on 1.27, v3 later), the strategic merge patches `apply` computes (patch
strategies and merge keys), and whether the server does field validation itself
(a `fieldValidation` query parameter on the PATCH operation of the kind).

Definitions are named as Kubernetes names them and carry its extensions
(x-kubernetes-group-version-kind, -patch-strategy, -patch-merge-key, -list-type,
-list-map-keys, -map-type); paths carry an operation per verb with its query
parameters. Pure functions of static data: the API server builds each document
once and caches it.
"""
from __future__ import annotations

import collections
from collections.abc import Iterable
from typing import Any

from minik8s.api import resources
from minik8s.api import schema
from minik8s.api.schema import dsl
from minik8s.api.schema import meta_v1

TITLE = "Kubernetes"

_META = "io.k8s.apimachinery.pkg.apis.meta.v1."
PATCH_DEFINITION = _META + "Patch"

# The special types' own definitions, as Kubernetes publishes them (v3 adds oneOf).
_SPECIAL_DEFINITIONS: dict[str, tuple[str, dict[str, Any], dict[str, Any]]] = {
    dsl.TIME: (_META + "Time", {
        "description": "A point in time, serialised as an RFC 3339 string in UTC with whole seconds.",
        "type": "string", "format": "date-time"}, {}),
    dsl.MICRO_TIME: (_META + "MicroTime", {
        "description": "A point in time with microsecond precision, serialised as an RFC 3339 string.",
        "type": "string", "format": "date-time"}, {}),
    dsl.DURATION: (_META + "Duration", {
        "description": "A length of time written as a Go duration string, such as 1h30m or 250ms.",
        "type": "string"}, {}),
    dsl.INT_OR_STRING: ("io.k8s.apimachinery.pkg.util.intstr.IntOrString", {
        "description": "A value that is either an integer or a string, such as a port number or name, or 25%.",
        "type": "string", "format": "int-or-string"},
        {"oneOf": [{"type": "integer"}, {"type": "string"}]}),
    dsl.QUANTITY: ("io.k8s.apimachinery.pkg.api.resource.Quantity", {
        "description": "An exact amount of a resource, written with an optional suffix: 250m (millicores), "
                       "128Mi (binary), 1G (decimal) or 1e3 (exponent).",
        "type": "string"},
        {"oneOf": [{"type": "string"}, {"type": "number"}]}),
    dsl.RAW_EXTENSION: ("io.k8s.apimachinery.pkg.runtime.RawExtension", {
        "description": "An embedded object of any kind, kept as it was written.", "type": "object"}, {}),
    dsl.FIELDS_V1: (_META + "FieldsV1", {
        "description": "A set of field paths in the structured-merge-diff format, as JSON.",
        "type": "object"}, {}),
}
_SCALAR_SCHEMAS: dict[str, dict[str, Any]] = {
    dsl.STRING: {"type": "string"},
    dsl.INT32: {"type": "integer", "format": "int32"},
    dsl.INT64: {"type": "integer", "format": "int64"},
    dsl.BOOL: {"type": "boolean"},
    dsl.DOUBLE: {"type": "number", "format": "double"},
    dsl.BYTES: {"type": "string", "format": "byte"},
}


# --------------------------------------------------------------------------- definitions


class _Style:
    """What differs between the two versions' schemas."""

    def __init__(self, v3: bool) -> None:
        self.v3 = v3
        self.prefix = "#/components/schemas/" if v3 else "#/definitions/"

    def ref(self, name: str) -> dict[str, Any]:
        return {"$ref": self.prefix + name}


def _gvks() -> dict[str, list[dict[str, str]]]:
    """Definition name → its x-kubernetes-group-version-kind entries."""
    out: dict[str, list[dict[str, str]]] = collections.defaultdict(list)
    for (group, version, kind), msg in sorted(schema.kinds().items()):
        out[msg.name].append({"group": group, "kind": kind, "version": version})
    return out


def _element(f: dsl.Field, style: _Style) -> dict[str, Any]:
    """The schema of one value of `f` (the items of a list, the values of a map)."""
    sub = f.message
    if sub is not None:
        return style.ref(sub.name)
    special = _SPECIAL_DEFINITIONS.get(f.scalar)
    if special is not None:
        return style.ref(special[0])
    return dict(_SCALAR_SCHEMAS[f.scalar])


def _property(f: dsl.Field, style: _Style) -> dict[str, Any]:
    item = _element(f, style)
    if f.enum:
        item["enum"] = list(f.enum)
    if f.repeated:
        prop: dict[str, Any] = {"type": "array", "items": item}
    elif f.map:
        prop = {"type": "object", "additionalProperties": item}
    elif "$ref" in item and style.v3:
        # OpenAPI 3.0 ignores siblings of $ref; Kubernetes wraps the reference instead.
        prop = {"allOf": [item]}
    else:
        prop = item
    if f.description:
        prop["description"] = f.description
    if f.default is not None:
        prop["default"] = f.default
    if f.patch_strategy:
        prop["x-kubernetes-patch-strategy"] = f.patch_strategy
    if f.merge_key:
        prop["x-kubernetes-patch-merge-key"] = f.merge_key
    if f.list_type:
        prop["x-kubernetes-list-type"] = f.list_type
    if f.list_map_keys:
        prop["x-kubernetes-list-map-keys"] = list(f.list_map_keys)
    if f.map_type:
        prop["x-kubernetes-map-type"] = f.map_type
    return prop


def _definition(msg: dsl.Message, style: _Style, gvks: dict[str, list[dict[str, str]]]) -> dict[str, Any]:
    out: dict[str, Any] = {"description": msg.description, "type": "object"}
    fields = msg.json_fields
    required = [name for name, f in fields.items() if f.required]
    if required:
        out["required"] = required
    if fields:
        out["properties"] = {name: _property(f, style) for name, f in sorted(fields.items())}
    if msg.name in gvks:
        out["x-kubernetes-group-version-kind"] = gvks[msg.name]
    if msg.map_type:
        out["x-kubernetes-map-type"] = msg.map_type
    return out


def _closure(roots: Iterable[dsl.Message]) -> tuple[list[dsl.Message], set[str]]:
    """The Messages reachable from `roots`, and the special types they use."""
    seen: dict[str, dsl.Message] = {}
    specials: set[str] = set()
    todo = list(roots)
    while todo:
        msg = todo.pop()
        if msg.name in seen:
            continue
        seen[msg.name] = msg
        for f in msg.fields:
            sub = f.message
            if sub is not None:
                todo.append(sub)
            elif f.scalar in _SPECIAL_DEFINITIONS:
                specials.add(f.scalar)
    return list(seen.values()), specials


def _definitions(roots: Iterable[dsl.Message], style: _Style) -> dict[str, Any]:
    messages, specials = _closure(roots)
    gvks = _gvks()
    out = {msg.name: _definition(msg, style, gvks) for msg in messages}
    for special in specials:
        name, body, v3_extra = _SPECIAL_DEFINITIONS[special]
        out[name] = {**body, **(v3_extra if style.v3 else {})}
    out[PATCH_DEFINITION] = {"description": "The body of a PATCH: a JSON patch, a merge patch or a strategic "
                                            "merge patch, as the Content-Type says.", "type": "object"}
    return dict(sorted(out.items()))


# --------------------------------------------------------------------------- paths

_PATCH_TYPES = ["application/json-patch+json", "application/merge-patch+json",
                "application/strategic-merge-patch+json"]
_PRODUCES = ["application/json", "application/yaml", "application/vnd.kubernetes.protobuf"]

# Query parameters: (name, type, description), by the operations that take them.
_PRETTY = ("pretty", "string", "If 'true', the output is indented.")
_WRITE = [
    ("dryRun", "string", ("When present (the only value is All), the request is checked and defaulted "
                          "but nothing is stored.")),
    ("fieldManager", "string", "The name of the actor making the change, recorded for field ownership."),
    ("fieldValidation", "string", ("What to do with unknown or duplicate fields in the body: Ignore drops them "
                                   "silently, Warn drops them with a Warning header (the default), Strict "
                                   "rejects the request.")),
]
_PATCH_EXTRA = [("force", "boolean", "Server-side apply only: take over fields other managers own.")]
_LIST = [
    ("allowWatchBookmarks", "boolean", "Watch only: ask for BOOKMARK events carrying the latest resourceVersion."),
    ("continue", "string", "The token from a previous page's metadata.continue, to get the next page."),
    ("fieldSelector", "string", "Return only objects whose fields match, e.g. metadata.name=web."),
    ("labelSelector", "string", "Return only objects whose labels match, e.g. app=web,tier!=db."),
    ("limit", "integer", "The most objects to return in one page."),
    ("resourceVersion", "string", "Which version of the collection to read or to watch from."),
    ("resourceVersionMatch", "string", "How resourceVersion applies to a list: Exact or NotOlderThan."),
    ("sendInitialEvents", "boolean", "Watch only: start with the current objects as ADDED events."),
    ("timeoutSeconds", "integer", "How long a list or watch call may last."),
    ("watch", "boolean", "Stream changes (ADDED, MODIFIED, DELETED) instead of returning a list."),
]
_DELETE = [
    ("dryRun", "string", "When present (the only value is All), nothing is deleted."),
    ("gracePeriodSeconds", "integer", "Seconds the object has to terminate; 0 deletes at once."),
    ("orphanDependents", "boolean", "Deprecated: use propagationPolicy=Orphan."),
    ("propagationPolicy", "string", "What happens to dependents: Orphan, Background or Foreground."),
]


def _group_camel(group: str) -> str:
    if not group:
        return "Core"
    return "".join(part[:1].upper() + part[1:] for part in group.split(".")[0].split("-"))


def _tag(res: resources.Resource) -> str:
    group = res.group.split(".")[0].replace("-", "_") if res.group else "core"
    return f"{group}_{res.version}"


class _PathBuilder:
    def __init__(self, style: _Style) -> None:
        self.style = style
        self.paths: dict[str, dict[str, Any]] = {}

    def param(self, name: str, where: str, kind: str, description: str, required: bool = False) -> dict[str, Any]:
        if self.style.v3:
            out: dict[str, Any] = {"name": name, "in": where, "description": description,
                                   "schema": {"type": kind, "uniqueItems": True}}
        else:
            out = {"name": name, "in": where, "description": description, "type": kind, "uniqueItems": True}
        if required:
            out["required"] = True
        return out

    def body(self, schema_ref: dict[str, Any]) -> dict[str, Any]:
        return {"name": "body", "in": "body", "required": True, "schema": schema_ref}

    def operation(self, op_id: str, action: str, gvk: dsl.GVK, res: resources.Resource, description: str,
                  params: list[tuple[str, str, str]], path_params: list[dict[str, Any]],
                  body: dict[str, Any] | None, responses: dict[str, dict[str, Any] | None],
                  consumes: list[str] | None = None) -> dict[str, Any]:
        query = [self.param(n, "query", t, d) for n, t, d in [_PRETTY, *params]]
        op: dict[str, Any] = {
            "description": description,
            "operationId": op_id,
            "tags": [_tag(res)],
            "x-kubernetes-action": action,
            "x-kubernetes-group-version-kind": {"group": gvk.group, "kind": gvk.kind, "version": gvk.version},
        }
        if self.style.v3:
            op["parameters"] = path_params + query
            if body is not None:
                types = consumes or ["*/*"]
                op["requestBody"] = {"required": True,
                                     "content": {t: {"schema": body} for t in types}}
            op["responses"] = {code: {"description": _REASONS[code], **(
                {"content": {t: {"schema": ref} for t in _PRODUCES}} if ref else {})}
                for code, ref in responses.items()}
        else:
            op["consumes"] = consumes or ["*/*"]
            op["produces"] = list(_PRODUCES)
            op["schemes"] = ["https"]
            op["parameters"] = path_params + query + ([self.body(body)] if body is not None else [])
            op["responses"] = {code: {"description": _REASONS[code], **({"schema": ref} if ref else {})}
                               for code, ref in responses.items()}
        return op

    def add(self, path: str, method: str, op: dict[str, Any]) -> None:
        self.paths.setdefault(path, {})[method] = op


_REASONS = {"200": "OK", "201": "Created", "202": "Accepted", "401": "Unauthorized"}


def _sub_message(res: resources.Resource, sub: resources.Subresource) -> dsl.Message | None:
    group = sub.group if sub.group else res.group
    version = sub.version or res.version
    return schema.find(group, version, sub.kind)


def _resource_paths(b: _PathBuilder, res: resources.Resource) -> None:
    msg = schema.find(res.group, res.version, res.kind)
    # Create-only kinds (the access reviews) have no List type, as in Kubernetes.
    list_msg = schema.find(res.group, res.version, res.list_kind) if "list" in res.verbs else None
    if msg is None or ("list" in res.verbs and list_msg is None):
        return
    ref = b.style.ref(msg.name)
    status_ref = b.style.ref(meta_v1.STATUS.name)
    gvk = dsl.GVK(res.group, res.version, res.kind)
    camel = f"{_group_camel(res.group)}{res.version.capitalize()}"
    scope = "Namespaced" if res.namespaced else ""
    ns_param = [b.param("namespace", "path", "string", "The object's namespace.", True)] if res.namespaced else []
    name_param = [b.param("name", "path", "string", f"The name of the {res.kind}.", True)]
    base = res.url_prefix() + ("/namespaces/{namespace}" if res.namespaced else "") + f"/{res.plural}"
    kind = res.kind
    verbs = set(res.verbs)

    if list_msg is not None:
        list_ref = b.style.ref(list_msg.name)
        b.add(base, "get", b.operation(f"list{camel}{scope}{kind}", "list", gvk, res, f"List or watch {kind} objects.",
                                       _LIST, ns_param, None, {"200": list_ref, "401": None}))
        if res.namespaced:
            b.add(f"{res.url_prefix()}/{res.plural}", "get", b.operation(
                f"list{camel}{kind}ForAllNamespaces", "list", gvk, res,
                f"List or watch {kind} objects in every namespace.", _LIST, [], None, {"200": list_ref, "401": None}))
    if "create" in verbs:
        b.add(base, "post", b.operation(f"create{camel}{scope}{kind}", "post", gvk, res, f"Create a {kind}.", _WRITE,
                                        ns_param, ref, {"200": ref, "201": ref, "202": ref, "401": None}))
    if "deletecollection" in verbs:
        b.add(base, "delete", b.operation(
            f"delete{camel}Collection{scope}{kind}", "deletecollection", gvk, res,
            f"Delete every matching {kind}.", _DELETE + _LIST, ns_param,
            b.style.ref(meta_v1.DELETE_OPTIONS.name), {"200": status_ref, "401": None}))
    item = base + "/{name}"
    params = ns_param + name_param
    if "get" in verbs:
        b.add(item, "get", b.operation(f"read{camel}{scope}{kind}", "get", gvk, res, f"Read the named {kind}.", [],
                                       params, None, {"200": ref, "401": None}))
    if "update" in verbs:
        b.add(item, "put", b.operation(f"replace{camel}{scope}{kind}", "put", gvk, res, f"Replace the named {kind}.",
                                       _WRITE, params, ref, {"200": ref, "201": ref, "401": None}))
    if "patch" in verbs:
        b.add(item, "patch", b.operation(
            f"patch{camel}{scope}{kind}", "patch", gvk, res, f"Partially update the named {kind}.",
            _WRITE + _PATCH_EXTRA, params, b.style.ref(PATCH_DEFINITION), {"200": ref, "201": ref, "401": None},
            consumes=_PATCH_TYPES))
    if "delete" in verbs:
        b.add(item, "delete", b.operation(
            f"delete{camel}{scope}{kind}", "delete", gvk, res, f"Delete the named {kind}.", _DELETE, params,
            b.style.ref(meta_v1.DELETE_OPTIONS.name), {"200": ref, "202": ref, "401": None}))

    for sub in res.subresources:
        sub_msg = _sub_message(res, sub)
        if sub_msg is None or not sub_msg.kinds:
            continue  # log, exec, ...: streams, not objects
        sub_ref = b.style.ref(sub_msg.name)
        sub_gvk = sub_msg.kinds[0] if sub_msg is not msg else gvk
        sub_camel = sub.name[:1].upper() + sub.name[1:]
        path = f"{item}/{sub.name}"
        for verb in sub.verbs:
            if verb == "get":
                b.add(path, "get", b.operation(f"read{camel}{scope}{kind}{sub_camel}", "get", sub_gvk, res,
                                               f"Read the {sub.name} of the named {kind}.", [], params, None,
                                               {"200": sub_ref, "401": None}))
            elif verb == "update":
                b.add(path, "put", b.operation(f"replace{camel}{scope}{kind}{sub_camel}", "put", sub_gvk, res,
                                               f"Replace the {sub.name} of the named {kind}.", _WRITE, params,
                                               sub_ref, {"200": sub_ref, "201": sub_ref, "401": None}))
            elif verb == "patch":
                b.add(path, "patch", b.operation(
                    f"patch{camel}{scope}{kind}{sub_camel}", "patch", sub_gvk, res,
                    f"Partially update the {sub.name} of the named {kind}.", _WRITE + _PATCH_EXTRA, params,
                    b.style.ref(PATCH_DEFINITION), {"200": sub_ref, "201": sub_ref, "401": None},
                    consumes=_PATCH_TYPES))
            elif verb == "create":
                b.add(path, "post", b.operation(f"create{camel}{scope}{kind}{sub_camel}", "post", sub_gvk, res,
                                                f"Create the {sub.name} of the named {kind}.", _WRITE, params,
                                                sub_ref, {"200": sub_ref, "201": sub_ref, "202": sub_ref,
                                                          "401": None}))


def _roots(group_versions: Iterable[tuple[str, str]]) -> list[dsl.Message]:
    """The kinds of these group/versions, their subresources' kinds and the shared meta types."""
    wanted = set(group_versions)
    roots = [msg for (g, v, _), msg in schema.kinds().items() if (g, v) in wanted]
    for res in resources.RESOURCES:
        if (res.group, res.version) in wanted:
            roots.extend(m for m in (_sub_message(res, sub) for sub in res.subresources) if m is not None)
    return roots + [meta_v1.DELETE_OPTIONS, meta_v1.STATUS, meta_v1.WATCH_EVENT]


def _info(version: str) -> dict[str, Any]:
    return {"title": TITLE, "version": version}


def served_group_versions() -> list[tuple[str, str]]:
    """(group, version) of every served API, in discovery order."""
    out = [("", "v1")]
    for group, versions in resources.GROUPS:
        out.extend((group, v) for v in versions)
    return out


def v2_document(server_version: str) -> dict[str, Any]:
    """The whole API as one Swagger 2.0 document (GET /openapi/v2)."""
    style = _Style(v3=False)
    b = _PathBuilder(style)
    for res in resources.RESOURCES:
        _resource_paths(b, res)
    return {"swagger": "2.0", "info": _info(server_version), "paths": dict(sorted(b.paths.items())),
            "definitions": _definitions(_roots(served_group_versions()), style)}


def v3_key(group: str, version: str) -> str:
    """The path of a group/version under /openapi/v3/: api/v1, apis/apps/v1."""
    return f"apis/{group}/{version}" if group else f"api/{version}"


def v3_document(group: str, version: str, server_version: str) -> dict[str, Any]:
    """One group/version as an OpenAPI 3.0 document (GET /openapi/v3/<key>)."""
    style = _Style(v3=True)
    b = _PathBuilder(style)
    for res in resources.for_group_version(group, version):
        _resource_paths(b, res)
    return {"openapi": "3.0.0", "info": _info(server_version), "paths": dict(sorted(b.paths.items())),
            "components": {"schemas": _definitions(_roots([(group, version)]), style)}}
