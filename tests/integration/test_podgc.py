"""The pod garbage collector on a real API server: a pod bound to a node that does not
exist is force-deleted after the quarantine, a pod on a registered node is left alone, and
a namespace holding such an orphan finishes deleting (no kubelet will ever confirm it)."""
from __future__ import annotations

import pathlib
import time
import uuid
from typing import Any, Callable, Iterator

import pytest

from tests.conftest import ApiServerProcess, ComponentProcess, controller_manager, http, wait_for_service_account

pytestmark = pytest.mark.integration


@pytest.fixture
def manager(apiserver: ApiServerProcess, tmp_path: pathlib.Path) -> Iterator[ComponentProcess]:
    cm = controller_manager(apiserver, tmp_path / "controller-manager.log", "podgc,namespace",
                            "--pod-gc-period", "0.5", "--pod-gc-quarantine", "2").start()
    try:
        yield cm
    finally:
        cm.stop()


def eventually(check: Callable[[], bool], what: str, cm: ComponentProcess, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"{what} within {timeout}s; controller manager log:\n{cm.log()}")


def pod(name: str, node: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"nodeName": node, "containers": [{"name": "c", "image": "minik8s/busybox:1"}]}}


def exists(apiserver: ApiServerProcess, path: str) -> bool:
    status, _ = http(apiserver, "GET", path, check=False)
    return status == 200


def test_orphans_go_and_their_namespace_with_them(apiserver: ApiServerProcess, manager: ComponentProcess) -> None:
    ns = "gc-" + uuid.uuid4().hex[:8]
    real, ghost = f"real-{ns}", f"ghost-{ns}"
    http(apiserver, "POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    wait_for_service_account(apiserver, ns)
    http(apiserver, "POST", "/api/v1/nodes", {"apiVersion": "v1", "kind": "Node", "metadata": {"name": real}})
    try:
        http(apiserver, "POST", f"/api/v1/namespaces/{ns}/pods", pod("orphan", ghost))
        http(apiserver, "POST", f"/api/v1/namespaces/{ns}/pods", pod("kept", real))
        eventually(lambda: not exists(apiserver, f"/api/v1/namespaces/{ns}/pods/orphan"),
                   "the pod on a node that does not exist was not deleted", manager)
        assert exists(apiserver, f"/api/v1/namespaces/{ns}/pods/kept"), "a pod on a registered node was deleted"

        # A namespace whose last pod is on a vanished node: deleting it completes once the pod's node goes.
        http(apiserver, "DELETE", f"/api/v1/namespaces/{ns}")
        eventually(lambda: bool(http(apiserver, "GET", f"/api/v1/namespaces/{ns}/pods/kept")[1]
                                .get("metadata", {}).get("deletionTimestamp")),
                   "the namespace controller did not delete the pod", manager)
        assert exists(apiserver, f"/api/v1/namespaces/{ns}"), "the namespace went while a pod was terminating"
        http(apiserver, "DELETE", f"/api/v1/nodes/{real}")
        eventually(lambda: not exists(apiserver, f"/api/v1/namespaces/{ns}"),
                   "the namespace was not finalized after its pod's node was deleted", manager)
    finally:
        http(apiserver, "DELETE", f"/api/v1/nodes/{real}", check=False)
        http(apiserver, "DELETE", f"/api/v1/namespaces/{ns}", check=False)
