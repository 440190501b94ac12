"""Request attributes from method + path + query: Kubernetes' requestinfo_test.go tables."""
from __future__ import annotations

import urllib.parse

import pytest

from minik8s.apiserver.authz import requestinfo
from minik8s.apiserver.authz import user as user_mod


def info(method: str, url: str) -> requestinfo.RequestInfo:
    parsed = urllib.parse.urlsplit(url)
    return requestinfo.new_request_info(method, parsed.path, urllib.parse.parse_qs(parsed.query,
                                                                                   keep_blank_values=True))


# method, url, verb, prefix, group, version, namespace, resource, subresource, name, parts
SUCCESS = [
    ("GET", "/api/v1/namespaces", "list", "api", "", "v1", "", "namespaces", "", "", ["namespaces"]),
    ("GET", "/api/v1/namespaces/other", "get", "api", "", "v1", "other", "namespaces", "", "other",
     ["namespaces", "other"]),
    ("GET", "/api/v1/namespaces/other/pods", "list", "api", "", "v1", "other", "pods", "", "", ["pods"]),
    ("GET", "/api/v1/namespaces/other/pods/foo", "get", "api", "", "v1", "other", "pods", "", "foo", ["pods", "foo"]),
    ("HEAD", "/api/v1/namespaces/other/pods/foo", "get", "api", "", "v1", "other", "pods", "", "foo",
     ["pods", "foo"]),
    ("GET", "/api/v1/pods", "list", "api", "", "v1", "", "pods", "", "", ["pods"]),
    ("HEAD", "/api/v1/pods", "list", "api", "", "v1", "", "pods", "", "", ["pods"]),
    # A namespace is in itself (so a RoleBinding there can grant reading it).
    ("PATCH", "/api/v1/namespaces/new-namespace", "patch", "api", "", "v1", "new-namespace", "namespaces", "",
     "new-namespace", ["namespaces", "new-namespace"]),
    # special verbs
    ("GET", "/api/v1/proxy/namespaces/other/pods/foo", "proxy", "api", "", "v1", "other", "pods", "", "foo",
     ["pods", "foo"]),
    ("GET", "/api/v1/proxy/namespaces/other/pods/foo/subpath/not/a/subresource", "proxy", "api", "", "v1", "other",
     "pods", "", "foo", ["pods", "foo", "subpath", "not", "a", "subresource"]),
    ("GET", "/api/v1/watch/pods", "watch", "api", "", "v1", "", "pods", "", "", ["pods"]),
    ("GET", "/api/v1/pods?watch=true", "watch", "api", "", "v1", "", "pods", "", "", ["pods"]),
    ("GET", "/api/v1/pods?watch=false", "list", "api", "", "v1", "", "pods", "", "", ["pods"]),
    ("GET", "/api/v1/watch/namespaces/other/pods", "watch", "api", "", "v1", "other", "pods", "", "", ["pods"]),
    ("GET", "/api/v1/namespaces/other/pods?watch=1", "watch", "api", "", "v1", "other", "pods", "", "", ["pods"]),
    ("GET", "/api/v1/namespaces/other/pods?watch=0", "list", "api", "", "v1", "other", "pods", "", "", ["pods"]),
    # subresources
    ("GET", "/api/v1/namespaces/other/pods/foo/status", "get", "api", "", "v1", "other", "pods", "status", "foo",
     ["pods", "foo", "status"]),
    ("GET", "/api/v1/namespaces/other/pods/foo/proxy/subpath", "get", "api", "", "v1", "other", "pods", "proxy",
     "foo", ["pods", "foo", "proxy", "subpath"]),
    ("PUT", "/api/v1/namespaces/other/finalize", "update", "api", "", "v1", "other", "namespaces", "finalize",
     "other", ["namespaces", "other", "finalize"]),
    ("PUT", "/api/v1/namespaces/other/status", "update", "api", "", "v1", "other", "namespaces", "status", "other",
     ["namespaces", "other", "status"]),
    ("GET", "/api/v1/namespaces/other/pods/foo/log", "get", "api", "", "v1", "other", "pods", "log", "foo",
     ["pods", "foo", "log"]),
    ("POST", "/api/v1/namespaces/other/pods/foo/exec", "create", "api", "", "v1", "other", "pods", "exec", "foo",
     ["pods", "foo", "exec"]),
    # verbs
    ("PATCH", "/api/v1/namespaces/other/pods/foo", "patch", "api", "", "v1", "other", "pods", "", "foo",
     ["pods", "foo"]),
    ("DELETE", "/api/v1/namespaces/other/pods/foo", "delete", "api", "", "v1", "other", "pods", "", "foo",
     ["pods", "foo"]),
    ("POST", "/api/v1/namespaces/other/pods", "create", "api", "", "v1", "other", "pods", "", "", ["pods"]),
    # deletecollection
    ("DELETE", "/api/v1/nodes", "deletecollection", "api", "", "v1", "", "nodes", "", "", ["nodes"]),
    ("DELETE", "/api/v1/namespaces", "deletecollection", "api", "", "v1", "", "namespaces", "", "", ["namespaces"]),
    ("DELETE", "/api/v1/namespaces/other/pods", "deletecollection", "api", "", "v1", "other", "pods", "", "",
     ["pods"]),
    ("DELETE", "/apis/extensions/v1/namespaces/other/pods", "deletecollection", "apis", "extensions", "v1", "other",
     "pods", "", "", ["pods"]),
    # groups and versions
    ("POST", "/apis/extensions/v1/namespaces/other/pods", "create", "apis", "extensions", "v1", "other", "pods", "",
     "", ["pods"]),
    ("POST", "/apis/extensions/v1beta3/namespaces/other/pods", "create", "apis", "extensions", "v1beta3", "other",
     "pods", "", "", ["pods"]),
    ("PUT", "/apis/apps/v1/namespaces/d/deployments/web/scale", "update", "apis", "apps", "v1", "d", "deployments",
     "scale", "web", ["deployments", "web", "scale"]),
    # minik8s serves GET <object>?watch as a watch of that object: judged as one.
    ("GET", "/api/v1/namespaces/other/pods/foo?watch=true", "watch", "api", "", "v1", "other", "pods", "", "foo",
     ["pods", "foo"]),
]


@pytest.mark.parametrize("method,url,verb,prefix,group,version,namespace,resource,subresource,name,parts", SUCCESS,
                         ids=[f"{c[0]} {c[1]}" for c in SUCCESS])
def test_resource_requests(method: str, url: str, verb: str, prefix: str, group: str, version: str, namespace: str,
                           resource: str, subresource: str, name: str, parts: list[str]) -> None:
    got = info(method, url)
    assert got.resource_request
    assert (got.verb, got.api_prefix, got.api_group, got.api_version, got.namespace, got.resource, got.subresource,
            got.name, list(got.parts)) == (verb, prefix, group, version, namespace, resource, subresource, name, parts)


@pytest.mark.parametrize("url", ["/", "/api/version/", "/apis/group/version/", "/badprefix/version/resource",
                                 "/apis/version/resource", "/not-api/version/resource", "/apis/extensions/v1beta1",
                                 "/apis/extensions/v1beta1/", "/api/version", "/api", "", "/healthz", "/version",
                                 "/openapi/v3/apis/apps/v1"])
def test_non_resource_requests(url: str) -> None:
    got = info("GET", url)
    assert not got.resource_request
    assert got.verb == "get"
    assert got.path == url


@pytest.mark.parametrize("url", ["/api/version/resource", "/apis/group/version/resource/name/subresource",
                                 "/api/version/resource/name/subresource", "/apis/batch/v1/job",
                                 "/apis/batch/v1/job/foo", "/apis/batch/v1/job/foo/scale"])
def test_resource_shaped_paths(url: str) -> None:
    assert info("GET", url).resource_request


def test_non_resource_verb_is_the_lowercased_method() -> None:
    assert info("POST", "/healthz").verb == "post"
    assert info("PUT", "/apis").verb == "put"


@pytest.mark.parametrize("url,name,verb", [
    ("/apis/group/version/resource", "", "list"),
    ("/apis/group/version/resource?fieldSelector=metadata.name=name1", "name1", "list"),
    ("/apis/group/version/resource?watch=true&fieldSelector=metadata.name=name1", "name1", "watch"),
    ("/apis/group/version/resource?fieldSelector=foo=bar", "", "list"),
    ("/apis/group/version/resource?fieldSelector=metadata.name=name1,foo", "", "list"),
    ("/apis/group/version/resource?fieldSelector=metadata.name=name1,foo&watch=true", "", "watch"),
    ("/apis/group/version/resource?fieldSelector=metadata.name=name1,foo&watch=false", "", "list"),
    # A name that could not be a path segment is not taken as the object's name.
    ("/api/v1/namespaces/a/secrets?fieldSelector=metadata.name=..", "", "list"),
])
def test_field_selector_pins_name(url: str, name: str, verb: str) -> None:
    got = info("GET", url)
    assert (got.name, got.verb) == (name, verb)


def test_attributes_carry_field_selector_for_collections_only() -> None:
    user = user_mod.UserInfo("system:node:n1", groups=("system:nodes",))
    query = {"fieldSelector": ["spec.nodeName=n1"], "labelSelector": ["app=x"]}
    attrs = requestinfo.attributes(user, requestinfo.new_request_info("GET", "/api/v1/pods", query), query)
    assert attrs.verb == "list" and attrs.field_equals("spec.nodeName") == "n1" and attrs.label_selector == "app=x"
    one = requestinfo.attributes(user, requestinfo.new_request_info("GET", "/api/v1/namespaces/a/pods/p", query),
                                 query)
    assert one.field_selector == () and one.verb == "get"
    # A selector the handler will reject limits nothing here (and the handler answers 400).
    bad = {"fieldSelector": ["spec.bogus=1"]}
    assert requestinfo.attributes(user, requestinfo.new_request_info("GET", "/api/v1/pods", bad),
                                  bad).field_selector == ()


def test_non_resource_attributes() -> None:
    attrs = requestinfo.attributes(user_mod.anonymous(), info("GET", "/healthz"))
    assert (attrs.resource_request, attrs.verb, attrs.path) == (False, "get", "/healthz")
