"""A request's authorization attributes from its method, path and query (Kubernetes' RequestInfoFactory).

    /api/v1/namespaces/ns/pods/name/status   resource pods/status, namespace ns, name, verb by method
    /apis/apps/v1/deployments?watch=1        verb watch, all namespaces
    /healthz, /api, /apis/apps               non-resource: the path, verb = the lower-cased method

GET without a name is list (or watch with watch=true), DELETE without one is
deletecollection; a list or watch narrowed by fieldSelector metadata.name=x is
about object x, as Kubernetes has it.
"""
from __future__ import annotations

from collections.abc import Mapping

from minik8s.apiserver.authn import authorizer
from minik8s.apiserver.authn import user as user_mod

API_PREFIXES = ("api", "apis")
SPECIAL_VERBS = ("proxy", "watch")
NAMESPACE_SUBRESOURCES = ("status", "finalize")
METHOD_VERBS = {"POST": "create", "GET": "get", "HEAD": "get", "PUT": "update", "PATCH": "patch",
                "DELETE": "delete"}


def _truthy(value: str | None) -> bool:
    return value is not None and value.lower() in ("true", "1", "")


def _name_from_field_selector(selector: str | None) -> str:
    """x for `metadata.name=x` (or ==) as one of the selector's terms; '' otherwise."""
    for term in (selector or "").split(","):
        for op in ("==", "="):
            key, sep, value = term.partition(op)
            if sep and key.strip() == "metadata.name" and "!" not in key:
                value = value.strip()
                return value if value and "/" not in value and value not in (".", "..") else ""
    return ""


def attributes(method: str, path: str, query: Mapping[str, str], user: user_mod.UserInfo) -> authorizer.Attributes:
    parts = [p for p in path.split("/") if p]
    non_resource = authorizer.Attributes(user=user, verb=method.lower(), resource_request=False, path=path)
    if len(parts) < 3 or parts[0] not in API_PREFIXES:
        return non_resource
    prefix, rest = parts[0], parts[1:]
    group = ""
    if prefix == "apis":
        if len(rest) < 3:
            return non_resource  # /apis/<group>/<version>: discovery
        group, rest = rest[0], rest[1:]
    version, rest = rest[0], rest[1:]
    verb = METHOD_VERBS.get(method.upper(), "")
    if rest and rest[0] in SPECIAL_VERBS:
        if len(rest) < 2:
            return non_resource
        verb, rest = rest[0], rest[1:]
    namespace = ""
    if rest and rest[0] == "namespaces":
        if len(rest) > 1:
            namespace = rest[1]
            if len(rest) > 2 and rest[2] not in NAMESPACE_SUBRESOURCES:
                rest = rest[2:]
    resource = name = subresource = ""
    if len(rest) >= 3 and verb != "proxy":
        subresource = rest[2]
    if len(rest) >= 2:
        name = rest[1]
    if rest:
        resource = rest[0]
    if not name and verb == "get":
        verb = "watch" if _truthy(query.get("watch")) else "list"
        name = _name_from_field_selector(query.get("fieldSelector"))
    elif name and verb == "get" and not subresource and _truthy(query.get("watch")):
        verb = "watch"
    if not name and verb == "delete":
        verb = "deletecollection"
    return authorizer.Attributes(user=user, verb=verb, resource_request=True, namespace=namespace, api_group=group,
                                 api_version=version, resource=resource, subresource=subresource, name=name,
                                 path=path)
