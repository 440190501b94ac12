"""Removing a node's pods when the node goes away (`minik8s down`, `cluster down`)."""
from __future__ import annotations

from minik8s.kubelet import cleanup
from minik8s.kubelet import fakeruntime
from minik8s.kubelet import runtime


async def _pod(rt: fakeruntime.FakeRuntime, uid: str, node: str) -> None:
    labels = {runtime.POD_UID: uid, runtime.POD_NAME: uid, runtime.POD_NAMESPACE: "default", runtime.NODE: node}
    sandbox = await rt.run_sandbox(runtime.SandboxConfig(
        uid, uid, "default", 0, uid, "minik8s-pods",
        {**labels, runtime.CONTAINER_TYPE: runtime.TYPE_SANDBOX, runtime.CONTAINER_NAME: "POD"}))
    await rt.create_container(runtime.ContainerConfig(
        f"k8s_app_{uid}", "minik8s/busybox:1",
        {**labels, runtime.CONTAINER_TYPE: runtime.TYPE_CONTAINER, runtime.CONTAINER_NAME: "app"}, sandbox.id))


async def test_apps_go_before_their_sandboxes_and_other_nodes_stay() -> None:
    rt = fakeruntime.FakeRuntime("n1")
    await rt.ensure_network("minik8s-pods", "10.244.0.0/24")
    await _pod(rt, "a", "n1")
    await _pod(rt, "b", "n1")
    await _pod(rt, "other", "n2")
    sandboxes = {c.id for c in rt.containers.values() if c.labels[runtime.CONTAINER_TYPE] == runtime.TYPE_SANDBOX}

    removed = await cleanup.remove_pods(rt, "minik8s-pods")

    assert removed == cleanup.Removed(4)
    gone = [call[1] for call in rt.calls_of("remove_container")]
    assert ["sandbox" if cid in sandboxes else "app" for cid in gone] == ["app", "app", "sandbox", "sandbox"]
    assert {c.labels[runtime.NODE] for c in rt.containers.values()} == {"n2"}
    assert "minik8s-pods" not in rt.networks


async def test_the_network_stays_when_none_is_named() -> None:
    rt = fakeruntime.FakeRuntime("n1")
    await rt.ensure_network("minik8s-pods", "10.244.0.0/24")
    await _pod(rt, "a", "n1")
    assert await cleanup.remove_pods(rt) == cleanup.Removed(2)
    assert rt.networks == {"minik8s-pods": "10.244.0.0/24"}


async def test_a_network_still_in_use_is_reported_not_raised() -> None:
    rt = fakeruntime.FakeRuntime("n1")

    async def refuse(name: str) -> None:
        raise runtime.RuntimeFailure("NetworkNotReady", f"network {name} has active endpoints")

    rt.remove_network = refuse  # type: ignore[method-assign]
    assert await cleanup.remove_pods(rt, "minik8s-pods") == cleanup.Removed(
        0, "network minik8s-pods has active endpoints")
