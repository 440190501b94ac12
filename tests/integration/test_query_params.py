"""Strict query parameters, path segments and paged lists on the real API server and etcd."""
from __future__ import annotations

import asyncio
import json
import urllib.parse
from typing import Any

import aetcd
import pytest

from minik8s.api import resources
from minik8s.apiserver import params
from minik8s.apiserver import storage as storage_mod
from tests.conftest import ApiServerProcess, http, kubectl

CONFIGMAPS = resources.lookup("", "v1", "configmaps")
TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io"
# Every namespace holds this ConfigMap (root-ca-cert-publisher; the `namespace` fixture waits
# for it); it sorts after the tests' cm-NNN.
ROOT_CA = "kube-root-ca.crt"


def cm(name: str, **labels: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "labels": labels},
            "data": {"k": name}}


def fill(server: ApiServerProcess, namespace: str, count: int) -> list[str]:
    names = [f"cm-{i:03d}" for i in range(count)]
    for i, name in enumerate(names):
        http(server, "POST", f"/api/v1/namespaces/{namespace}/configmaps", cm(name, parity=str(i % 2)))
    return names


def get(server: ApiServerProcess, path: str, **query: str) -> tuple[int, Any]:
    qs = urllib.parse.urlencode(query)
    return http(server, "GET", path + ("?" + qs if qs else ""), check=False)


@pytest.mark.parametrize("query, param", [
    ("limit=abc", "limit"), ("limit=1.5", "limit"), ("continue=garbage", "continue"),
    ("watch=maybe", "watch"), ("timeoutSeconds=abc", "timeoutSeconds"),
    ("resourceVersion=abc", "resourceVersion"), ("resourceVersion=-1", "resourceVersion"),
    ("allowWatchBookmarks=perhaps", "allowWatchBookmarks"), ("pretty=very", "pretty"),
    ("timeout=forever", "timeout"),
])
def test_malformed_list_parameters_are_400_naming_the_parameter(apiserver: ApiServerProcess, namespace: str,
                                                                 query: str, param: str) -> None:
    status, body = http(apiserver, "GET", f"/api/v1/namespaces/{namespace}/configmaps?{query}", check=False)
    assert status == 400, body
    assert body["kind"] == "Status" and body["reason"] == "BadRequest"
    assert param in body["message"]


@pytest.mark.parametrize("query, fragment", [
    ("resourceVersionMatch=Bogus", "resourceVersionMatch"),
    ("resourceVersion=1&resourceVersionMatch=Bogus", 'Unsupported value: "Bogus"'),
    ("resourceVersion=0&resourceVersionMatch=Exact", "forbidden for resourceVersion"),
    ("sendInitialEvents=true", "sendInitialEvents is forbidden for list"),
    ("watch=true&resourceVersionMatch=NotOlderThan", "unless sendInitialEvents"),
])
def test_invalid_list_options_are_422(apiserver: ApiServerProcess, namespace: str, query: str,
                                      fragment: str) -> None:
    status, body = http(apiserver, "GET", f"/api/v1/namespaces/{namespace}/configmaps?{query}", check=False)
    assert status == 422, body
    assert body["details"]["kind"] == "ListOptions" and body["details"]["group"] == "meta.k8s.io"
    assert fragment in body["message"]


def test_unknown_parameters_are_ignored(apiserver: ApiServerProcess, namespace: str) -> None:
    status, body = get(apiserver, f"/api/v1/namespaces/{namespace}/configmaps", timeout="32s", whatever="x")
    assert status == 200 and body["kind"] == "ConfigMapList"


@pytest.mark.parametrize("segment", ["%2e%2e", "%2E", "..%2F..", "a%2Fb", "%25", "a%25b"])
def test_namespaces_that_are_no_path_segment_are_400(apiserver: ApiServerProcess, segment: str) -> None:
    for path in (f"/api/v1/namespaces/{segment}/pods", f"/apis/apps/v1/namespaces/{segment}/deployments",
                 f"/api/v1/namespaces/{segment}/pods/x"):
        status, body = http(apiserver, "GET", path, check=False)
        assert status == 400, (path, body)
        assert body["kind"] == "Status" and "Namespace parameter invalid" in body["message"]


@pytest.mark.parametrize("segment", ["%2e%2e", "%2e", "a%2Fb", "%25"])
def test_names_that_are_no_path_segment_are_400_on_every_verb(apiserver: ApiServerProcess, namespace: str,
                                                              segment: str) -> None:
    path = f"/api/v1/namespaces/{namespace}/configmaps/{segment}"
    for method, body in (("GET", None), ("PUT", cm("x")), ("PATCH", {}), ("DELETE", None)):
        status, answer = http(apiserver, method, path, body, check=False,
                              content_type="application/merge-patch+json" if method == "PATCH" else "application/json")
        assert status == 400, (method, answer)
        assert "Name parameter invalid" in answer["message"]


def test_write_options(apiserver: ApiServerProcess, namespace: str) -> None:
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    status, body = http(apiserver, "POST", base + "?dryRun=Some", cm("dry"), check=False)
    assert status == 422 and body["details"]["kind"] == "CreateOptions"
    status, body = http(apiserver, "POST", base + "?fieldManager=" + "m" * 129, cm("fm"), check=False)
    assert status == 422 and "fieldManager" in body["message"]
    status, body = http(apiserver, "POST", base + "?dryRun=All", cm("dry"), check=False)
    assert status == 201
    assert http(apiserver, "GET", base + "/dry", check=False)[0] == 404, "a dry run stored the object"


def test_delete_options_and_dry_run_in_the_body(apiserver: ApiServerProcess, namespace: str) -> None:
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    http(apiserver, "POST", base, cm("keep"))
    status, body = http(apiserver, "DELETE", base + "/keep?gracePeriodSeconds=soon", check=False)
    assert status == 400 and "gracePeriodSeconds" in body["message"]
    status, body = http(apiserver, "DELETE", base + "/keep?propagationPolicy=Sideways", check=False)
    assert status == 422 and body["details"]["kind"] == "DeleteOptions"
    status, body = http(apiserver, "DELETE", base + "/keep", {"kind": "DeleteOptions", "gracePeriodSeconds": "x"},
                        check=False)
    assert status == 400
    # kubectl delete --dry-run=server sends the dry run in the body: nothing may be deleted.
    status, _ = http(apiserver, "DELETE", base + "/keep", {"kind": "DeleteOptions", "apiVersion": "v1",
                                                           "propagationPolicy": "Background", "dryRun": ["All"]})
    assert status == 200
    assert http(apiserver, "GET", base + "/keep")[0] == 200


def test_pretty_output(apiserver: ApiServerProcess, namespace: str) -> None:
    import urllib.request

    from tests import conftest

    url = f"{apiserver.url}/api/v1/namespaces/{namespace}?pretty=true"
    with conftest.opener().open(urllib.request.Request(url), timeout=10) as r:
        text = r.read().decode()
    assert text.startswith("{\n  ") and json.loads(text)["metadata"]["name"] == namespace


# -- pagination -----------------------------------------------------------------------------------


def test_pages_cover_the_list_once_in_order_with_remaining_counts(apiserver: ApiServerProcess,
                                                                  namespace: str) -> None:
    names = fill(apiserver, namespace, 23)
    path = f"/api/v1/namespaces/{namespace}/configmaps"
    seen: list[str] = []
    token = ""
    revisions = set()
    remaining = []
    while True:
        query = {"limit": "5", **({"continue": token} if token else {})}
        status, body = get(apiserver, path, **query)
        assert status == 200, body
        seen += [o["metadata"]["name"] for o in body["items"]]
        revisions.add(body["metadata"]["resourceVersion"])
        token = body["metadata"].get("continue", "")
        if not token:
            assert "remainingItemCount" not in body["metadata"]
            break
        assert len(body["items"]) == 5
        remaining.append(body["metadata"]["remainingItemCount"])
    assert seen == [*names, ROOT_CA]
    assert remaining == [19, 14, 9, 4]
    assert len(revisions) == 1, "every page is read at the first page's revision"


def test_later_pages_are_the_first_pages_snapshot(apiserver: ApiServerProcess, namespace: str) -> None:
    fill(apiserver, namespace, 6)
    path = f"/api/v1/namespaces/{namespace}/configmaps"
    _, first = get(apiserver, path, limit="3")
    # Changes after the first page: a new object, a deleted one, an updated one.
    http(apiserver, "POST", path, cm("cm-999"))
    http(apiserver, "DELETE", path + "/cm-004")
    http(apiserver, "PATCH", path + "/cm-005", {"data": {"k": "changed"}},
         content_type="application/merge-patch+json")
    _, second = get(apiserver, path, limit="10", **{"continue": first["metadata"]["continue"]})
    assert [o["metadata"]["name"] for o in second["items"]] == ["cm-003", "cm-004", "cm-005", ROOT_CA]
    assert second["items"][2]["data"]["k"] == "cm-005"
    assert second["metadata"]["resourceVersion"] == first["metadata"]["resourceVersion"]


def test_selectors_filter_within_pages_that_are_still_filled(apiserver: ApiServerProcess, namespace: str) -> None:
    fill(apiserver, namespace, 20)
    path = f"/api/v1/namespaces/{namespace}/configmaps"
    seen: list[str] = []
    token = ""
    while True:
        _, body = get(apiserver, path, limit="3", labelSelector="parity=1", **({"continue": token} if token else {}))
        seen += [o["metadata"]["name"] for o in body["items"]]
        assert "remainingItemCount" not in body["metadata"], "unknown with a selector"
        token = body["metadata"].get("continue", "")
        if not token:
            break
        assert len(body["items"]) == 3
    assert seen == [f"cm-{i:03d}" for i in range(1, 20, 2)]


def test_table_pages(apiserver: ApiServerProcess, namespace: str) -> None:
    fill(apiserver, namespace, 4)
    status, table = http(apiserver, "GET", f"/api/v1/namespaces/{namespace}/configmaps?limit=3",
                         headers={"Accept": TABLE}, check=False)
    assert status == 200 and table["kind"] == "Table" and len(table["rows"]) == 3
    assert table["metadata"]["continue"] and table["metadata"]["remainingItemCount"] == 2


def test_continue_with_a_resource_version_is_400(apiserver: ApiServerProcess, namespace: str) -> None:
    fill(apiserver, namespace, 3)
    path = f"/api/v1/namespaces/{namespace}/configmaps"
    _, first = get(apiserver, path, limit="1")
    status, body = get(apiserver, path, limit="1", resourceVersion="5", **{"continue": first["metadata"]["continue"]})
    assert status == 400 and "specifying resource version is not allowed when using continue" in body["message"]


def test_resource_version_semantics(apiserver: ApiServerProcess, namespace: str) -> None:
    fill(apiserver, namespace, 2)
    path = f"/api/v1/namespaces/{namespace}/configmaps"
    _, now = get(apiserver, path)
    rv = int(now["metadata"]["resourceVersion"])
    http(apiserver, "DELETE", path + "/cm-000")
    # Exact: the state at that revision, deleted object included.
    _, exact = get(apiserver, path, resourceVersion=str(rv), resourceVersionMatch="Exact")
    assert [o["metadata"]["name"] for o in exact["items"]] == ["cm-000", "cm-001", ROOT_CA]
    assert exact["metadata"]["resourceVersion"] == str(rv)
    # NotOlderThan: the newest state.
    _, newer = get(apiserver, path, resourceVersion=str(rv), resourceVersionMatch="NotOlderThan")
    assert [o["metadata"]["name"] for o in newer["items"]] == ["cm-001", ROOT_CA]
    # A revision from the future is 504 Too large resource version.
    status, body = get(apiserver, path, resourceVersion=str(rv + 10 ** 6))
    assert status == 504 and body["details"]["causes"][0]["reason"] == "ResourceVersionTooLarge"
    status, body = get(apiserver, path, resourceVersion=str(rv + 10 ** 6), resourceVersionMatch="Exact")
    assert status == 504


async def _compact(endpoint: str) -> int:
    host, port = storage_mod._host_port(endpoint)
    async with aetcd.Client(host=host, port=port) as etcd:
        resp = await etcd.get_prefix(b"/registry/namespaces/", keys_only=True)
        revision = int(resp.header.revision)
        await etcd.compact(revision)
        return revision


def test_compacted_pages_answer_410_with_a_token_to_go_on(apiserver: ApiServerProcess, namespace: str) -> None:
    names = fill(apiserver, namespace, 6)
    path = f"/api/v1/namespaces/{namespace}/configmaps"
    _, first = get(apiserver, path, limit="2")
    http(apiserver, "POST", path, cm("cm-100"))  # the first page's revision is no longer the newest
    asyncio.run(_compact(apiserver.etcd.endpoint))
    status, body = get(apiserver, path, limit="2", **{"continue": first["metadata"]["continue"]})
    assert status == 410 and body["reason"] == "Expired", body
    assert "inconsistent list" in body["message"]
    fresh = body["metadata"]["continue"]
    assert params.decode_continue(fresh).revision == -1
    # The fresh token goes on at the newest revision, where the first page left off.
    seen = [o["metadata"]["name"] for o in first["items"]]
    token = fresh
    while token:
        status, page = get(apiserver, path, limit="2", **{"continue": token})
        assert status == 200, page
        seen += [o["metadata"]["name"] for o in page["items"]]
        token = page["metadata"].get("continue", "")
    assert seen == [*names, "cm-100", ROOT_CA]
    # An exact read of a compacted revision is 410 too.
    status, body = get(apiserver, path, resourceVersion=first["metadata"]["resourceVersion"],
                       resourceVersionMatch="Exact")
    assert status == 410 and body["message"] == "The resourceVersion for the provided list is too old."


def test_kubectl_lists_in_chunks(apiserver: ApiServerProcess, namespace: str) -> None:
    names = fill(apiserver, namespace, 7)
    out = kubectl(apiserver, "get", "configmaps", "-n", namespace, "--chunk-size=2", "-o",
                  "jsonpath={.items[*].metadata.name}").stdout.split()
    assert [n for n in out if n.startswith("cm-")] == names
    table = kubectl(apiserver, "get", "configmaps", "-n", namespace, "--chunk-size=3", "--no-headers").stdout
    assert [line.split()[0] for line in table.splitlines() if line.startswith("cm-")] == names


def test_watch_with_send_initial_events_ends_them_with_a_bookmark(apiserver: ApiServerProcess,
                                                                  namespace: str) -> None:
    import urllib.request

    from tests import conftest

    fill(apiserver, namespace, 3)
    url = (f"{apiserver.url}/api/v1/namespaces/{namespace}/configmaps?watch=true&sendInitialEvents=true"
           f"&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&timeoutSeconds=1")
    with conftest.opener().open(urllib.request.Request(url), timeout=30) as resp:
        events = [json.loads(line) for line in resp.read().splitlines() if line.strip()]
    assert [e["type"] for e in events[:5]] == ["ADDED", "ADDED", "ADDED", "ADDED", "BOOKMARK"]
    assert events[4]["object"]["metadata"]["annotations"] == {params.INITIAL_EVENTS_END: "true"}
