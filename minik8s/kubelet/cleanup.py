"""Removing every pod a node's kubelet made, when the node itself goes away.

A running kubelet never does this: its containers outlive it on purpose, so that a
restarted kubelet adopts them (runtime.py). Only when the node stops for good
(`minik8s down`, `minik8s cluster down`) do the pods' containers and the pod
network go too. That is done here, through the Runtime seam, so the labels that
say which containers are this node's pods, and the order they are removed in,
stay the kubelet's knowledge instead of being copied into the CLI.
"""
from __future__ import annotations

import asyncio
import dataclasses

import docker.errors

from minik8s.kubelet import dockerruntime
from minik8s.kubelet import runtime


@dataclasses.dataclass(frozen=True)
class Removed:
    containers: int
    network_error: str = ""  # why the pod network stayed, if it did


async def remove_pods(rt: runtime.Runtime, network: str = "") -> Removed:
    """Force-remove every sandbox and container the node owns (apps before their
    sandboxes, as kill_pod does), then the pod network `network` if one is named."""
    found = await rt.list_containers()
    await asyncio.gather(*(rt.remove_container(c.id) for c in found if not c.is_sandbox),
                         return_exceptions=True)
    await asyncio.gather(*(rt.remove_container(c.id) for c in found if c.is_sandbox),
                         return_exceptions=True)
    error = ""
    if network:
        try:
            await rt.remove_network(network)
        except runtime.RuntimeFailure as e:
            error = e.message
    return Removed(len(found), error)


def remove_node_pods(node: str, docker_host: str = "", network: str = "") -> Removed:
    """remove_pods on the Docker engine at `docker_host` (default: the local one), for
    callers outside an event loop. An engine that does not answer is a RuntimeFailure."""

    async def run() -> Removed:
        try:
            rt = dockerruntime.DockerRuntime(node, host=docker_host or dockerruntime.DEFAULT_HOST)
        except docker.errors.DockerException as e:
            raise runtime.RuntimeFailure("RuntimeUnavailable", f"{docker_host}: {e}") from e
        try:
            return await remove_pods(rt, network)
        finally:
            await rt.close()

    return asyncio.run(run())
