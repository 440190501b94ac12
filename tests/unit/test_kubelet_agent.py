"""The Kubelet's sync paths (run, terminate, remove) and housekeeping, on the fake runtime."""
from __future__ import annotations

import copy
import pathlib
from typing import Any

from minik8s.kubelet import config as config_mod
from minik8s.kubelet import fakeruntime
from minik8s.kubelet import kubelet as kubelet_mod
from minik8s.kubelet import runtime
from minik8s.util import procs

NODE = "fake-node"


class FakeClient:
    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    async def update_status(self, res: Any, body: dict[str, Any]) -> dict[str, Any]:
        self.calls.append(("status", body["metadata"]["name"], body["status"]))
        return body

    async def delete(self, res: Any, name: str, namespace: str | None = None, *, grace_period: int | None = None,
                     propagation: str | None = None, preconditions: dict[str, str] | None = None) -> dict[str, Any]:
        self.calls.append(("delete", name, namespace, grace_period, preconditions))
        return {}


def make(tmp_path: pathlib.Path, **cfg_args: Any) -> tuple[kubelet_mod.Kubelet, fakeruntime.FakeRuntime, FakeClient]:
    rt = fakeruntime.FakeRuntime(NODE)
    client = FakeClient()
    cfg = config_mod.Config(node_name=NODE, node_ip="192.0.2.5", root_dir=str(tmp_path), **cfg_args)
    return kubelet_mod.Kubelet(cfg, client, rt), rt, client  # type: ignore[arg-type]


def pod(uid: str = "u1", name: str = "p") -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "ns", "uid": uid, "resourceVersion": "1"},
            "spec": {"nodeName": NODE, "terminationGracePeriodSeconds": 30,
                     "containers": [{"name": "app", "image": "minik8s/busybox:1"}]}}


async def test_a_deleted_pod_is_stopped_reported_removed_then_deleted(tmp_path: pathlib.Path) -> None:
    k, rt, client = make(tmp_path)
    p = pod()
    await k.sync("u1", p)
    app = rt.find("u1", "app", runtime.RUNNING)[0]
    deleting = copy.deepcopy(p)
    deleting["metadata"].update(deletionTimestamp="2026-01-01T00:00:00Z", deletionGracePeriodSeconds=3)

    outcome = await k.sync("u1", deleting)

    assert outcome.done
    assert ("stop_container", app.id, 3) in rt.calls
    # The sandbox goes through stop_sandbox: its network (its address) is released first.
    assert any(c[0] == "stop_sandbox" for c in rt.calls)
    assert rt.find("u1", "app") == [] and rt.find("u1", "POD") == []
    kinds = [c[0] for c in client.calls]
    assert kinds[-1] == "delete" and "status" in kinds
    assert client.calls[-1] == ("delete", "p", "ns", 0, {"uid": "u1"})
    final = [c[2] for c in client.calls if c[0] == "status"][-1]
    assert final["phase"] == "Failed"
    assert final["containerStatuses"][0]["state"]["terminated"]["exitCode"] == 137
    # A late event about the pod does not bring it back.
    k._on_update(deleting, deleting)
    assert "u1" not in k.pod_workers
    await k.pod_workers.stop()


async def test_a_pod_gone_from_the_api_is_removed(tmp_path: pathlib.Path) -> None:
    k, rt, client = make(tmp_path)
    await k.sync("u1", pod())
    outcome = await k.sync("u1", None)
    assert outcome.done and rt.find("u1", "app") == [] and rt.find("u1", "POD") == []
    assert not any(c[0] == "delete" for c in client.calls)


async def test_housekeeping_removes_what_belongs_to_no_pod(tmp_path: pathlib.Path) -> None:
    k, rt, _ = make(tmp_path)
    await k.sync("orphan", pod("orphan", "old"))
    await k.sync("u1", pod())
    (tmp_path / "pods" / "stale-uid").mkdir(parents=True)
    k.informer.store = {"ns/p": pod()}
    k.informer.synced.set()

    await k.housekeeping()

    await procs.wait_for_async(lambda: not rt.find("orphan", "app") and not rt.find("orphan", "POD"), 5,
                               what="the orphan's containers removed")
    assert rt.find("u1", "app", runtime.RUNNING)
    assert not (tmp_path / "pods" / "stale-uid").exists()
    # Addresses of sandboxes that died without a DEL are released on every sweep.
    assert ("gc_network", False) in rt.calls
    await k.pod_workers.stop()


async def test_the_node_is_not_ready_until_pods_can_be_networked(tmp_path: pathlib.Path) -> None:
    k, rt, _ = make(tmp_path)
    rt.network_error = "cni config uninitialized: no network configuration in /etc/cni/net.d"
    await k._check_network()
    assert (await k.not_ready()).startswith("network not ready: cni config uninitialized")
    # A pod arriving meanwhile waits (a quick retry), it does not fail for good.
    outcome = await k.sync("u1", pod())
    assert outcome.requeue_after is not None and outcome.requeue_after <= 1.0
    assert rt.find("u1", "POD") == []
    rt.network_error = ""
    await k._check_network()
    assert await k.not_ready() == ""
    await k.sync("u1", pod())
    assert rt.find("u1", "app", runtime.RUNNING)
    await k.pod_workers.stop()


async def test_a_finished_pod_is_not_restarted(tmp_path: pathlib.Path) -> None:
    k, rt, client = make(tmp_path)
    p = pod()
    await k.sync("u1", p)
    rt.exit(rt.find("u1", "app", runtime.RUNNING)[0].id, 0)
    p["status"] = {"phase": "Succeeded"}
    rt.calls.clear()
    await k.sync("u1", p)
    assert rt.calls_of("create_container") == [] and rt.calls_of("run_sandbox") == []
    assert rt.find("u1", "POD", runtime.RUNNING) == []


def test_status_only_changes_are_not_semantic() -> None:
    a = pod()
    b = copy.deepcopy(a)
    b["metadata"]["resourceVersion"] = "2"
    b["status"] = {"phase": "Running"}
    assert kubelet_mod.semantically_equal(a, b)
    b["metadata"]["labels"] = {"x": "y"}
    assert not kubelet_mod.semantically_equal(a, b)
    c = copy.deepcopy(a)
    c["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    assert not kubelet_mod.semantically_equal(a, c)


async def test_an_empty_dir_over_its_size_limit_evicts_the_pod(tmp_path: pathlib.Path) -> None:
    k, rt, client = make(tmp_path)
    p = pod()
    p["spec"]["volumes"] = [{"name": "scratch", "emptyDir": {"sizeLimit": "1Mi"}}]
    await k.sync("u1", p)
    k.informer.store = {"ns/p": p}
    k.informer.synced.set()
    await k.housekeeping()
    assert k._evictions == {}
    scratch = tmp_path / "pods" / "u1" / "volumes" / "kubernetes.io~empty-dir" / "scratch"
    (scratch / "big").write_bytes(b"x" * (2 * 1024 * 1024))
    await k.housekeeping()
    assert "u1" in k._evictions
    await k.sync("u1", p)
    assert rt.find("u1", "app", runtime.RUNNING) == []
    await k.status_manager.flush("u1")
    final = [c[2] for c in client.calls if c[0] == "status"][-1]
    assert (final["phase"], final["reason"]) == ("Failed", "Evicted")
    assert final["message"] == 'Usage of EmptyDir volume "scratch" exceeds the limit "1Mi". '
    assert {"type": "DisruptionTarget", "status": "True", "reason": "TerminationByKubelet"}.items() <= \
        next(c for c in final["conditions"] if c["type"] == "DisruptionTarget").items()
    # It stays evicted: the next sync restarts nothing and keeps the reason.
    p["status"] = final
    rt.calls.clear()
    await k.sync("u1", p)
    assert rt.calls_of("create_container") == []
    assert k.status_manager.get("u1")["reason"] == "Evicted"  # type: ignore[index]
    await k.pod_workers.stop()
