"""The scheduler's view of the cluster: NodeInfos fed by the informers, plus assumed pods.

The informers lag behind the scheduler's own decisions: a pod bound a moment
ago is still unassigned in the pod informer until the binding's watch event
arrives. If the next decision did not count it, a burst of pods would all see
the same free space and overcommit the node. So, as kube-scheduler's cache,
a decision is *assumed* at once: the pod counts against its node before the
binding is even sent. The informer's event for the bound pod later confirms
it (replacing the assumed copy); a failed binding *forgets* it.

Terminal pods (Succeeded, Failed) hold no resources and are not counted.
"""
from __future__ import annotations

import logging
from typing import Any

from minik8s.scheduler import nodeinfo

log = logging.getLogger(__name__)

Obj = dict[str, Any]
TERMINAL_PHASES = ("Succeeded", "Failed")


def is_terminal(pod: Obj) -> bool:
    return (pod.get("status") or {}).get("phase") in TERMINAL_PHASES


class Cache:
    def __init__(self) -> None:
        self.nodes: dict[str, nodeinfo.NodeInfo] = {}
        self._pods: dict[str, nodeinfo.PodInfo] = {}  # uid → the copy counted on a node
        self._assumed: set[str] = set()
        self._node_list: list[nodeinfo.NodeInfo] | None = None

    # -- nodes -------------------------------------------------------------------

    def add_node(self, node: Obj) -> None:
        name = node["metadata"]["name"]
        info = self.nodes.get(name)
        if info is None:
            self.nodes[name] = nodeinfo.NodeInfo(name, node)
        else:
            info.set_node(node)
        self._node_list = None

    update_node = add_node

    def remove_node(self, node: Obj) -> None:
        name = node["metadata"]["name"]
        info = self.nodes.get(name)
        if info is None:
            return
        if info.pods:
            # Pods that still name the node keep their totals until they go.
            info.node = None
        else:
            del self.nodes[name]
        self._node_list = None

    def node_list(self) -> list[nodeinfo.NodeInfo]:
        """The nodes a pod may be placed on (those the cache has a Node object for)."""
        if self._node_list is None:
            self._node_list = [n for n in self.nodes.values() if n.node is not None]
        return self._node_list

    # -- pods --------------------------------------------------------------------

    def _node_for(self, name: str) -> nodeinfo.NodeInfo:
        info = self.nodes.get(name)
        if info is None:
            info = self.nodes[name] = nodeinfo.NodeInfo(name)
        return info

    def _drop(self, uid: str) -> None:
        old = self._pods.pop(uid, None)
        self._assumed.discard(uid)
        if old is None:
            return
        info = self.nodes.get(old.node_name)
        if info is not None:
            info.remove_pod(old)
            if info.node is None and not info.pods:
                del self.nodes[old.node_name]

    def _put(self, pi: nodeinfo.PodInfo) -> None:
        self._pods[pi.uid] = pi
        self._node_for(pi.node_name).add_pod(pi)

    def assume(self, pod: Obj, node_name: str) -> nodeinfo.PodInfo:
        """Count `pod` on `node_name` now, before the binding is confirmed."""
        assumed = dict(pod)
        assumed["spec"] = dict(pod.get("spec") or {}, nodeName=node_name)
        pi = nodeinfo.PodInfo(assumed)
        self._drop(pi.uid)
        self._put(pi)
        self._assumed.add(pi.uid)
        return pi

    def forget(self, uid: str) -> None:
        """The binding failed: the assumed pod no longer counts."""
        if uid in self._assumed:
            self._drop(uid)

    def is_assumed(self, uid: str) -> bool:
        return uid in self._assumed

    def knows(self, uid: str) -> bool:
        """Whether the pod is counted on a node (bound or assumed)."""
        return uid in self._pods

    def add_pod(self, pod: Obj) -> None:
        """An assigned pod seen by the informer (confirms an assumed one)."""
        if is_terminal(pod):
            self._drop(pod["metadata"].get("uid", ""))
            return
        uid = pod["metadata"].get("uid", "")
        old = self._pods.get(uid)
        if (old is not None and uid not in self._assumed and old.node_name == pod["spec"].get("nodeName")
                and old.terminating == bool(pod["metadata"].get("deletionTimestamp"))
                and old.pod.get("spec") == pod.get("spec")):
            # A status or metadata change (the common case): nothing counted changes.
            old.pod = pod
            return
        pi = nodeinfo.PodInfo(pod)
        if not pi.node_name:
            return
        if old is not None and old.node_name != pi.node_name and pi.uid in self._assumed:
            log.info("pod %s was assumed on %s but is bound to %s", pi.key, old.node_name, pi.node_name)
        self._drop(pi.uid)
        self._put(pi)

    def update_pod(self, old: Obj, new: Obj) -> None:
        self.add_pod(new)

    def remove_pod(self, pod: Obj) -> None:
        self._drop(pod["metadata"].get("uid", ""))

    def pod_count(self) -> int:
        return len(self._pods)

    def assumed_count(self) -> int:
        return len(self._assumed)
