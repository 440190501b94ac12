"""Removing every pod a node's kubelet made, when the node itself goes away.

A running kubelet never does this: its containers outlive it on purpose, so that a
restarted kubelet adopts them (runtime.py). Only when the node stops for good
(`minik8s down`, `minik8s cluster down`) do the pods' containers go too, and,
given the node's CNI configuration, their addresses are released (CNI DEL of the
sandboxes now gone, the kubelet's own garbage collection); otherwise the next
kubelet's start-up garbage collection releases them. That is done here, through the Runtime seam, so the labels that
say which containers are this node's pods, and the order they are removed in,
stay the kubelet's knowledge instead of being copied into the CLI.
"""
from __future__ import annotations

import asyncio
import dataclasses

import docker.errors

from minik8s.kubelet import cni
from minik8s.kubelet import dockerruntime
from minik8s.kubelet import runtime


@dataclasses.dataclass(frozen=True)
class Removed:
    containers: int
    released: int = 0  # sandboxes whose pod network (address) was released
    network_error: str = ""  # why addresses were not released, if they were not


async def remove_pods(rt: runtime.Runtime) -> Removed:
    """Force-remove every sandbox and container the node owns (apps before their
    sandboxes, as kill_pod does), then release the networks of the sandboxes gone."""
    found = await rt.list_containers()
    await asyncio.gather(*(rt.remove_container(c.id) for c in found if not c.is_sandbox),
                         return_exceptions=True)
    await asyncio.gather(*(rt.remove_container(c.id) for c in found if c.is_sandbox),
                         return_exceptions=True)
    try:
        released = await rt.gc_network()
    except runtime.RuntimeFailure as e:
        return Removed(len(found), 0, e.message)
    return Removed(len(found), len(released))


def remove_node_pods(node: str, docker_host: str = "", network: cni.PodNetwork | None = None) -> Removed:
    """remove_pods on the Docker engine at `docker_host` (default: the local one), for
    callers outside an event loop; `network` is the kubelet's (kubelet.pod_network), to
    release the addresses. An engine that does not answer is a RuntimeFailure."""

    async def run() -> Removed:
        try:
            rt = dockerruntime.DockerRuntime(node, host=docker_host or dockerruntime.DEFAULT_HOST, network=network)
        except docker.errors.DockerException as e:
            raise runtime.RuntimeFailure("RuntimeUnavailable", f"{docker_host}: {e}") from e
        try:
            return await remove_pods(rt)
        finally:
            await rt.close()

    return asyncio.run(run())
