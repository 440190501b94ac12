"""Removing a node's pods when the node goes away (`minik8s down`, `cluster down`)."""
from __future__ import annotations

from minik8s.kubelet import cleanup
from minik8s.kubelet import fakeruntime
from minik8s.kubelet import runtime


async def _pod(rt: fakeruntime.FakeRuntime, uid: str, node: str) -> None:
    labels = {runtime.POD_UID: uid, runtime.POD_NAME: uid, runtime.POD_NAMESPACE: "default", runtime.NODE: node}
    sandbox = await rt.run_sandbox(runtime.SandboxConfig(
        uid, uid, "default", 0, uid, "",
        {**labels, runtime.CONTAINER_TYPE: runtime.TYPE_SANDBOX, runtime.CONTAINER_NAME: "POD"}))
    await rt.create_container(runtime.ContainerConfig(
        f"k8s_app_{uid}", "minik8s/busybox:1",
        {**labels, runtime.CONTAINER_TYPE: runtime.TYPE_CONTAINER, runtime.CONTAINER_NAME: "app"}, sandbox.id))


async def test_apps_go_before_their_sandboxes_and_other_nodes_stay() -> None:
    rt = fakeruntime.FakeRuntime("n1")
    await _pod(rt, "a", "n1")
    await _pod(rt, "b", "n1")
    await _pod(rt, "other", "n2")
    sandboxes = {c.id for c in rt.containers.values() if c.labels[runtime.CONTAINER_TYPE] == runtime.TYPE_SANDBOX}

    removed = await cleanup.remove_pods(rt)

    assert removed == cleanup.Removed(4)
    gone = [call[1] for call in rt.calls_of("remove_container")]
    assert ["sandbox" if cid in sandboxes else "app" for cid in gone] == ["app", "app", "sandbox", "sandbox"]
    assert {c.labels[runtime.NODE] for c in rt.containers.values()} == {"n2"}


async def test_the_sandboxes_addresses_are_released_after_they_are_gone() -> None:
    rt = fakeruntime.FakeRuntime("n1")
    await _pod(rt, "a", "n1")
    order: list[str] = []

    async def gc_network(check: bool = False) -> list[str]:
        order.append(f"gc with {len(rt.containers)} containers left")
        return ["sandbox-a"]

    rt.gc_network = gc_network  # type: ignore[method-assign]
    assert await cleanup.remove_pods(rt) == cleanup.Removed(2, released=1)
    assert order == ["gc with 0 containers left"]


async def test_a_failed_release_is_reported_not_raised() -> None:
    rt = fakeruntime.FakeRuntime("n1")

    async def refuse(check: bool = False) -> list[str]:
        raise runtime.RuntimeFailure("NetworkNotReady", "no network configuration in /etc/cni/net.d")

    rt.gc_network = refuse  # type: ignore[method-assign]
    assert await cleanup.remove_pods(rt) == cleanup.Removed(
        0, 0, "no network configuration in /etc/cni/net.d")
