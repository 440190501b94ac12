"""From an HTTP request to the authorization attributes, as Kubernetes' RequestInfoFactory.

The verb comes from the method and the shape of the path, not from what the
handler later does: GET on a collection is `list` (or `watch` with watch=true),
DELETE on a collection is `deletecollection`, POST is `create`, PUT `update`,
PATCH `patch`. A list or watch pinned to one object by
`fieldSelector=metadata.name=x` names that object (so a rule with resourceNames,
or the Node authorizer, can allow it). Paths outside /api and /apis, and the
discovery documents above the resources, are non-resource requests whose verb
is the lower-cased method.
"""
from __future__ import annotations

import dataclasses
from typing import Mapping

from minik8s.api import errors
from minik8s.api import selectors
from minik8s.apiserver.authz import authorizer
from minik8s.apiserver.authz import user as user_mod

API_PREFIXES = frozenset({"api", "apis"})
GROUPLESS_PREFIXES = frozenset({"api"})
# Verbs that may stand in the path itself (/api/v1/watch/pods): deprecated, still parsed.
_SPECIAL_VERBS = frozenset({"proxy", "watch"})
_SPECIAL_VERBS_NO_SUBRESOURCES = frozenset({"proxy"})
# /namespaces/<ns>/<x>: these <x> are subresources of the namespace, anything else a resource in it.
_NAMESPACE_SUBRESOURCES = frozenset({"status", "finalize"})
_METHOD_VERBS = {"POST": "create", "GET": "get", "HEAD": "get", "PUT": "update", "PATCH": "patch",
                 "DELETE": "delete"}


@dataclasses.dataclass(frozen=True)
class RequestInfo:
    resource_request: bool
    path: str
    verb: str
    api_prefix: str = ""
    api_group: str = ""
    api_version: str = ""
    namespace: str = ""
    resource: str = ""
    subresource: str = ""
    name: str = ""
    parts: tuple[str, ...] = ()


def _truthy_watch(values: list[str]) -> bool:
    # Go's strconv-ish conversion in the parameter codec: only "false"/"0" are false.
    return bool(values) and values[0].lower() not in ("false", "0")


def _valid_path_segment(name: str) -> bool:
    return name not in (".", "..") and "/" not in name and "%" not in name


def new_request_info(method: str, path: str, query: Mapping[str, list[str]]) -> RequestInfo:
    """`query` maps each parameter to all its values (as aiohttp's MultiDict.getall)."""
    non_resource = RequestInfo(False, path, method.lower())
    parts = path.strip("/").split("/") if path.strip("/") else []
    if len(parts) < 3 or parts[0] not in API_PREFIXES:
        return non_resource
    prefix, rest = parts[0], parts[1:]
    group = ""
    if prefix not in GROUPLESS_PREFIXES:
        if len(rest) < 3:
            return non_resource
        group, rest = rest[0], rest[1:]
    version, rest = rest[0], rest[1:]
    verb = _METHOD_VERBS.get(method.upper(), "")
    if rest and rest[0] in _SPECIAL_VERBS:
        if len(rest) < 2:
            # kube-apiserver fails to build the info and answers 500; here the path
            # just is not a resource (the router then says 404).
            return non_resource
        verb, rest = rest[0], rest[1:]
    namespace = ""
    if rest and rest[0] == "namespaces":
        if len(rest) > 1:
            namespace = rest[1]
            if len(rest) > 2 and rest[2] not in _NAMESPACE_SUBRESOURCES:
                rest = rest[2:]
    resource = subresource = name = ""
    if len(rest) >= 3 and verb not in _SPECIAL_VERBS_NO_SUBRESOURCES:
        subresource = rest[2]
    if len(rest) >= 2:
        name = rest[1]
    if len(rest) >= 1:
        resource = rest[0]
    if not name and verb == "get":
        verb = "watch" if _truthy_watch(query.get("watch", [])) else "list"
        pinned = _pinned_name(query.get("fieldSelector", []), resource)
        if pinned is not None and _valid_path_segment(pinned):
            name = pinned
    elif name and verb == "get" and not subresource and _truthy_watch(query.get("watch", [])):
        # minik8s serves GET <object>?watch=true as a watch of that one object
        # (kube-apiserver would answer a plain get): judge it as the watch it is.
        verb = "watch"
    if not name and verb == "delete":
        verb = "deletecollection"
    return RequestInfo(True, path, verb, prefix, group, version, namespace, resource, subresource, name,
                       tuple(rest))


def _pinned_name(values: list[str], resource: str) -> str | None:
    if not values:
        return None
    try:
        sel = selectors.parse_field_selector(values[0], resource)
    except errors.StatusError:
        return None
    return sel.value_of("metadata.name")


def field_requirements(query: Mapping[str, list[str]], resource: str) -> tuple[authorizer.FieldRequirement, ...]:
    """The request's field selector as attributes carry it; unparseable means none (the handler answers 400)."""
    values = query.get("fieldSelector", [])
    if not values:
        return ()
    try:
        sel = selectors.parse_field_selector(values[0], resource)
    except errors.StatusError:
        return ()
    return tuple(authorizer.FieldRequirement(r.field, r.op, r.value) for r in sel.requirements)


def attributes(user: user_mod.UserInfo, info: RequestInfo,
               query: Mapping[str, list[str]] | None = None) -> authorizer.Attributes:
    if not info.resource_request:
        return authorizer.Attributes(user=user, verb=info.verb, resource_request=False, path=info.path)
    fields: tuple[authorizer.FieldRequirement, ...] = ()
    labels = ""
    if query is not None and info.verb in ("list", "watch", "deletecollection"):
        fields = field_requirements(query, info.resource)
        labels = (query.get("labelSelector") or [""])[0]
    return authorizer.Attributes(
        user=user, verb=info.verb, resource_request=True, namespace=info.namespace, api_group=info.api_group,
        api_version=info.api_version, resource=info.resource, subresource=info.subresource, name=info.name,
        path=info.path, field_selector=fields, label_selector=labels)
