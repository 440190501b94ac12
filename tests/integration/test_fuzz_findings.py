"""Server bugs the fuzz suite (tests/fuzz) found whose fix lives in the handlers or the
registry, so they need the real server on real etcd to be seen. Each test names the
generated request that showed it."""
from __future__ import annotations

import urllib.parse

import pytest

from tests.conftest import ApiServerProcess, http

POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
       "spec": {"containers": [{"name": "main", "image": "minik8s/busybox:1"}]}}


def _pod(apiserver: ApiServerProcess, namespace: str) -> dict[str, object]:
    status, body = http(apiserver, "GET", f"/api/v1/namespaces/{namespace}/pods/p")
    assert status == 200, body
    return dict(body)


@pytest.mark.integration
def test_dry_run_binding_and_eviction_change_nothing(apiserver: ApiServerProcess, namespace: str) -> None:
    # Found by tests/fuzz/test_fuzz_writes.py (Pod `binding` and `eviction` with dryRun=All):
    # the query's dryRun was ignored, the pod was bound or deleted.
    status, body = http(apiserver, "POST", f"/api/v1/namespaces/{namespace}/pods", POD)
    assert status == 201, body
    before = _pod(apiserver, namespace)
    binding = {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "p"},
               "target": {"apiVersion": "v1", "kind": "Node", "name": "n1"}}
    status, body = http(apiserver, "POST", f"/api/v1/namespaces/{namespace}/pods/p/binding?dryRun=All", binding)
    assert status == 201, body
    eviction = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "p"}}
    status, body = http(apiserver, "POST", f"/api/v1/namespaces/{namespace}/pods/p/eviction?dryRun=All", eviction)
    assert status == 201, body
    # The eviction's own deleteOptions.dryRun counts too (upstream's propagateDryRun).
    eviction["deleteOptions"] = {"dryRun": ["All"], "gracePeriodSeconds": 0}
    status, body = http(apiserver, "POST", f"/api/v1/namespaces/{namespace}/pods/p/eviction", eviction)
    assert status == 201, body
    assert _pod(apiserver, namespace) == before
    # A dry-run binding still refuses what the real one refuses.
    status, body = http(apiserver, "POST", f"/api/v1/namespaces/{namespace}/pods/p/binding", binding)
    assert status == 201, body
    status, body = http(apiserver, "POST", f"/api/v1/namespaces/{namespace}/pods/p/binding?dryRun=All", binding,
                        check=False)
    assert status == 409, body
    assert _pod(apiserver, namespace)["spec"]["nodeName"] == "n1"


@pytest.mark.integration
def test_table_watch_with_unknown_include_object_is_a_400(apiserver: ApiServerProcess, namespace: str) -> None:
    # Found by tests/fuzz/test_fuzz_reads.py (test_watch_queries, Accept Table with includeObject=""):
    # the 400 was raised after the stream had started, so the client got a 200 cut short.
    http(apiserver, "POST", f"/api/v1/namespaces/{namespace}/pods", POD)
    query = urllib.parse.urlencode({"watch": "true", "timeoutSeconds": "1", "includeObject": "Bogus"})
    status, body = http(apiserver, "GET", f"/api/v1/namespaces/{namespace}/pods?{query}", check=False,
                        headers={"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io"})
    assert status == 400 and body["kind"] == "Status" and "includeObject" in body["message"], body
