"""Discovery documents: /version, legacy and aggregated discovery (OpenAPI: openapi.py).

kubectl learns every resource name, short name, verb and category from these,
so they are generated from the one resource table. The aggregated form must go
out with its exact Content-Type or kubectl silently misparses it
(../shared/KUBECTL_API.md gotcha 5).
"""
from __future__ import annotations

import platform
from typing import Any

from minik8s.api import resources

AGGREGATED_CONTENT_TYPE = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
AGGREGATED_CONTENT_TYPE_V2BETA1 = "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"

KUBE_MAJOR, KUBE_MINOR = "1", "32"

# Groups served by handlers of their own rather than the resource table (the metrics
# APIs, minik8s/apiserver/metrics): their aggregated discovery items (APIGroupDiscovery),
# listed after the table's groups in both discovery forms.
EXTRA_GROUPS: list[dict[str, Any]] = []


def register_group(item: dict[str, Any]) -> None:
    """Add (or replace, by name) a group of EXTRA_GROUPS."""
    EXTRA_GROUPS[:] = [g for g in EXTRA_GROUPS if g["metadata"]["name"] != item["metadata"]["name"]] + [item]


def version_info() -> dict[str, str]:
    # kubectl's gcloud dispatcher picks its kubectl from "minor" (gotcha 2).
    return {
        "major": KUBE_MAJOR,
        "minor": KUBE_MINOR,
        "gitVersion": f"v{KUBE_MAJOR}.{KUBE_MINOR}.0-minik8s",
        "gitCommit": "minik8s",
        "gitTreeState": "clean",
        "buildDate": "2026-01-01T00:00:00Z",
        "goVersion": f"python{platform.python_version()}",
        "compiler": "cpython",
        "platform": f"linux/{_arch()}",
    }


def _arch() -> str:
    machine = platform.machine()
    return {"x86_64": "amd64", "aarch64": "arm64"}.get(machine, machine)


def wants_aggregated(accept: str) -> str | None:
    """The aggregated Content-Type to answer with, if the client asked for it."""
    if "as=APIGroupDiscoveryList" not in accept:
        return None
    for part in accept.split(","):
        if "as=APIGroupDiscoveryList" in part:
            if "v=v2beta1" in part:
                return AGGREGATED_CONTENT_TYPE_V2BETA1
            if "v=v2" in part:
                return AGGREGATED_CONTENT_TYPE
    return None


def api_versions(server_address: str) -> dict[str, Any]:
    return {"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}]}


def _group_doc(name: str, versions: tuple[str, ...]) -> dict[str, Any]:
    vs = [{"groupVersion": f"{name}/{v}", "version": v} for v in versions]
    return {"name": name, "versions": vs, "preferredVersion": vs[0]}


def api_group_list() -> dict[str, Any]:
    extra = [_group_doc(g["metadata"]["name"], tuple(v["version"] for v in g["versions"])) for g in EXTRA_GROUPS]
    return {"kind": "APIGroupList", "apiVersion": "v1",
            "groups": [_group_doc(g, vs) for g, vs in resources.GROUPS] + extra}


def api_group(group: str) -> dict[str, Any] | None:
    for g, vs in resources.GROUPS:
        if g == group:
            return {"kind": "APIGroup", "apiVersion": "v1", **_group_doc(g, vs)}
    return None


def api_resource_list(group: str, version: str) -> dict[str, Any] | None:
    items = resources.for_group_version(group, version)
    if not items:
        return None
    out = []
    for r in items:
        entry: dict[str, Any] = {"name": r.plural, "singularName": r.singular, "namespaced": r.namespaced,
                                 "kind": r.kind, "verbs": list(r.verbs)}
        if r.short_names:
            entry["shortNames"] = list(r.short_names)
        if r.categories:
            entry["categories"] = list(r.categories)
        out.append(entry)
        for sub in r.subresources:
            s: dict[str, Any] = {"name": f"{r.plural}/{sub.name}", "singularName": "", "namespaced": r.namespaced,
                                 "kind": sub.kind, "verbs": list(sub.verbs)}
            if sub.group:
                s["group"], s["version"] = sub.group, sub.version
            out.append(s)
    gv = f"{group}/{version}" if group else version
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": out}


def _aggregated_resource(r: resources.Resource) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "resource": r.plural,
        "responseKind": {"group": r.group, "version": r.version, "kind": r.kind},
        "scope": "Namespaced" if r.namespaced else "Cluster",
        "singularResource": r.singular,
        "verbs": list(r.verbs),
    }
    if r.short_names:
        entry["shortNames"] = list(r.short_names)
    if r.categories:
        entry["categories"] = list(r.categories)
    if r.subresources:
        entry["subresources"] = [
            {"subresource": s.name,
             "responseKind": {"group": s.group if s.group else r.group, "version": s.version or r.version,
                              "kind": s.kind},
             "verbs": list(s.verbs)}
            for s in r.subresources
        ]
    return entry


def aggregated(legacy: bool, content_type: str) -> dict[str, Any]:
    api_version = "apidiscovery.k8s.io/v2beta1" if "v2beta1" in content_type else "apidiscovery.k8s.io/v2"
    if legacy:
        items = [{"metadata": {"name": ""}, "versions": [
            {"version": "v1", "freshness": "Current",
             "resources": [_aggregated_resource(r) for r in resources.for_group_version("", "v1")]}]}]
    else:
        items = []
        for group, versions in resources.GROUPS:
            items.append({"metadata": {"name": group}, "versions": [
                {"version": v, "freshness": "Current",
                 "resources": [_aggregated_resource(r) for r in resources.for_group_version(group, v)]}
                for v in versions]})
        items.extend(EXTRA_GROUPS)
    return {"kind": "APIGroupDiscoveryList", "apiVersion": api_version, "metadata": {}, "items": items}
