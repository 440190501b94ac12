"""Malformed requests against the real API server: never a 5xx, nothing invalid stored.

Every field of a valid object of every served kind is replaced by values of the
wrong type, and the result is sent as a create (POST), a replacement (PUT) and a
merge patch of a stored object; the /status subresource and the query parameters
get the same. Each answer must be a Status with a 4xx code or a success; every
object the server accepted is read back and must pass the kind's own validation
and print as a Table; the server must log no traceback and stay healthy.
"""
from __future__ import annotations

import json
import pathlib
import urllib.parse
from typing import Any

import pytest

from minik8s.api import kinds
from minik8s.api import resources
from tests.conftest import ApiServerProcess, http
from tests.unit import test_bad_input as shapes

VALUES = ["notalist", 7, [], {"a": 1}, True]
MERGE = "application/merge-patch+json"


def collection(res: resources.Resource, namespace: str) -> str:
    return res.path(namespace if res.namespaced else None)


# The Service sample's nodePort, moved to one that no other test's Service holds on the shared
# API server (set by the test before it posts anything).
NODE_PORT: list[int] = []


def free_node_port(apiserver: ApiServerProcess) -> int:
    _, services = http(apiserver, "GET", "/api/v1/services")
    used = {p.get("nodePort") for svc in services.get("items") or [] for p in svc["spec"].get("ports") or []}
    return next(port for port in range(32700, 30000, -1) if port not in used)


def body_for(res: resources.Resource, name: str, namespace: str) -> dict[str, Any]:
    body = shapes.sample(res)
    body["metadata"]["name"] = name
    if res.kind == "Service" and NODE_PORT:
        for port in body["spec"]["ports"]:
            if "nodePort" in port:
                port["nodePort"] = NODE_PORT[0]
    if res.namespaced:
        body["metadata"]["namespace"] = namespace
    if res.kind == "Event":
        body["involvedObject"]["namespace"] = namespace
    return body


def check_answer(what: str, status: int, payload: Any) -> None:
    assert status < 500, f"{what}: {status} {payload}"
    if status >= 400:
        assert isinstance(payload, dict) and payload.get("kind") == "Status" and payload.get("code") == status, \
            f"{what}: {status} {payload}"


def check_stored(server: ApiServerProcess, res: resources.Resource, namespace: str, name: str, what: str) -> None:
    status, obj = http(server, "GET", res.path(namespace if res.namespaced else None, name), check=False)
    if status == 404:
        return
    assert status == 200, f"{what}: read back {status} {obj}"
    try:
        kinds.validate(res, obj)
        kinds.to_table(res, [obj])
    except Exception as e:
        raise AssertionError(f"{what}: stored object invalid on re-read: {e!r}\n{json.dumps(obj)[:1500]}") from e


# Over 2,000 requests, each on a new TLS connection with a client certificate (urllib keeps
# none alive): 196 s here on a loaded 2-core machine, so more than the suite's 300 s guard.
@pytest.mark.timeout(900)
def test_wrong_types_in_every_field_of_every_kind_never_5xx(apiserver: ApiServerProcess, namespace: str) -> None:
    log = pathlib.Path(apiserver.log_file)
    log_start = log.stat().st_size
    sent = 0
    cluster_scoped: list[tuple[resources.Resource, str]] = []
    NODE_PORT[:] = [free_node_port(apiserver)]
    for res in shapes.STORED:
        if res.kind == "Namespace":
            continue  # creating namespaces here would outlive the test's namespace
        base = f"{res.plural[:10]}-base"
        status, payload = http(apiserver, "POST", collection(res, namespace), body_for(res, base, namespace),
                               check=False)
        assert status == 201, f"{res.kind} sample: {status} {payload}"
        if not res.namespaced:
            cluster_scoped.append((res, base))
        for n, path in enumerate(shapes.paths(body_for(res, base, namespace))):
            for value in VALUES:
                name = f"{res.plural[:10]}-{n}-{VALUES.index(value)}"
                what = f"{res.kind} {shapes.label(path)}={value!r}"
                bad = shapes.mutated(body_for(res, name, namespace), path, value)
                status, payload = http(apiserver, "POST", collection(res, namespace), bad, check=False)
                sent += 1
                check_answer(f"POST {what}", status, payload)
                if status < 300:
                    check_stored(apiserver, res, namespace, name, f"POST {what}")
                    if not res.namespaced:
                        cluster_scoped.append((res, name))
                # The same change as a merge patch and as a PUT of the stored object.
                patch: Any = value
                for step in reversed(path):
                    patch = {step: patch} if isinstance(step, str) else None
                    if patch is None:
                        break
                item = res.path(namespace if res.namespaced else None, base)
                if patch is not None:
                    status, payload = http(apiserver, "PATCH", item, patch, content_type=MERGE, check=False)
                    sent += 1
                    check_answer(f"PATCH {what}", status, payload)
                current = http(apiserver, "GET", item)[1]
                if shapes._has(current, path):
                    status, payload = http(apiserver, "PUT", item, shapes.mutated(current, path, value), check=False)
                    sent += 1
                    check_answer(f"PUT {what}", status, payload)
                check_stored(apiserver, res, namespace, base, what)
        if res.subresource("status") is not None:
            item = res.path(namespace if res.namespaced else None, base, "status")
            for value in VALUES:
                for status_body in (value, {"replicas": value}, {"conditions": value}, {"conditions": [value]},
                                    {"phase": value}, {"containerStatuses": [{"name": "web", "restartCount": value}]}):
                    status, payload = http(apiserver, "PATCH", item, {"status": status_body}, content_type=MERGE,
                                           check=False)
                    sent += 1
                    check_answer(f"PATCH {res.kind}/status {status_body!r}", status, payload)
            check_stored(apiserver, res, namespace, base, f"{res.kind}/status")
    for res, name in cluster_scoped:
        http(apiserver, "DELETE", res.path(None, name), check=False)
    assert sent > 2000
    assert http(apiserver, "GET", "/readyz", check=False)[0] == 200
    logged = log.read_bytes()[log_start:].decode(errors="replace")
    assert "Traceback" not in logged, logged[-4000:]


def test_malformed_query_strings_never_5xx(apiserver: ApiServerProcess, namespace: str) -> None:
    values = ["", "x", "-1", "1.5", "%00", "true", "0", "99999999999999999999999", "All", "None"]
    params = ["limit", "continue", "watch", "timeoutSeconds", "resourceVersion", "resourceVersionMatch",
              "allowWatchBookmarks", "sendInitialEvents", "labelSelector", "fieldSelector", "pretty", "timeout",
              "dryRun", "fieldManager", "gracePeriodSeconds", "propagationPolicy", "orphanDependents",
              "includeObject"]
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    http(apiserver, "POST", base, {"metadata": {"name": "q"}})
    for param in params:
        for value in values:
            query = urllib.parse.urlencode({param: value, "timeoutSeconds": "1"} if param == "watch" else
                                           {param: value})
            for method, path, body in (("GET", base, None), ("GET", base + "/q", None),
                                       ("POST", base, {"metadata": {"generateName": "g-"}}),
                                       ("PATCH", base + "/q", {"data": {"k": "v"}}),
                                       ("DELETE", base + "/missing", None)):
                status, payload = http(apiserver, method, f"{path}?{query}", body, check=False,
                                       content_type=MERGE if method == "PATCH" else "application/json")
                assert status < 500, (method, path, query, status, payload)

