"""Clients fail over between masters (issue 14): two API servers on one etcd, a controller
manager whose kubeconfig lists both (the `minik8s.io/servers` extension; kubectl still
reads one `server`). Killing the API server it uses costs it a retry, not a restart: a
ReplicaSet created afterwards through the other master still gets its pods."""
from __future__ import annotations

import pathlib
import time
import uuid
from typing import Any, Iterator

import pytest

from minik8s.api import identities
from minik8s.client import kubeconfig
from minik8s.util import procs
from tests import conftest
from tests.conftest import ApiServerProcess, ComponentProcess

pytestmark = pytest.mark.integration


@pytest.fixture
def masters(tmp_path: pathlib.Path, etcd: procs.EtcdProcess) -> Iterator[list[ApiServerProcess]]:
    started: list[ApiServerProcess] = []
    try:
        # The second runs the ServiceAccount controllers (pods need their namespace's
        # `default`); the first is the one the test kills.
        started.append(conftest.start_apiserver(tmp_path, etcd, service_accounts=False))
        started.append(conftest.start_apiserver(tmp_path, etcd))
        yield started
    finally:
        for s in started:
            if s.proc.poll() is None:
                s.stop()


def get(server: ApiServerProcess, path: str) -> Any:
    status, body = conftest.http(server, "GET", path, check=False)
    return body if status == 200 else None


def test_a_dead_master_costs_the_controller_manager_a_retry(
        masters: list[ApiServerProcess], tmp_path: pathlib.Path) -> None:
    first, second = masters
    cert, key = conftest.test_pki().credentials(identities.CONTROLLER_MANAGER)
    kc = tmp_path / "controller-manager.conf"
    kubeconfig.write_context(kc, "ha", first.url, ca=conftest.test_pki().ca.cert_pem, cert=cert, key=key,
                             servers=[first.url, second.url])
    cm = ComponentProcess(["controller-manager", "--kubeconfig", str(kc), "--no-leader-elect",
                           "--controllers", "replicaset"], tmp_path / "cm.log").start()
    ns = "fo-" + uuid.uuid4().hex[:6]
    conftest.http(second, "POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                                         "metadata": {"name": ns}})
    conftest.wait_for_service_account(second, ns)

    def replica_set(name: str) -> dict[str, Any]:
        labels = {"app": name}
        return {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": name},
                "spec": {"replicas": 2, "selector": {"matchLabels": labels}, "template": {
                    "metadata": {"labels": labels},
                    "spec": {"containers": [{"name": "c", "image": "minik8s/busybox:1"}]}}}}

    def pods_of(name: str) -> int:
        body = get(second, f"/api/v1/namespaces/{ns}/pods?labelSelector=app%3D{name}")
        return len((body or {}).get("items") or [])

    def wait_pods(name: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if pods_of(name) == 2:
                return
            assert cm.proc is not None and cm.proc.poll() is None, f"the controller manager exited:\n{cm.log()}"
            time.sleep(0.2)
        raise AssertionError(f"ReplicaSet {name}: {pods_of(name)} pods, not 2, within {timeout}s:\n{cm.log()}")

    try:
        conftest.http(second, "POST", f"/apis/apps/v1/namespaces/{ns}/replicasets", replica_set("before"))
        wait_pods("before")
        first.proc.kill()
        first.proc.wait(timeout=10)
        conftest.http(second, "POST", f"/apis/apps/v1/namespaces/{ns}/replicasets", replica_set("after"))
        wait_pods("after")
        assert cm.proc is not None and cm.proc.poll() is None
        # The whole log: with other tests' ReplicaSets on the shared etcd its tail is theirs.
        logged = cm.log_path.read_text(errors="replace")
        assert f"using {second.url}" in logged, "the controller manager did not say it failed over"
    finally:
        cm.stop()
        conftest.http(second, "DELETE", f"/api/v1/namespaces/{ns}", check=False)
