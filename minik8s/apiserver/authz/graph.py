"""The Node authorizer's graph: which objects each node may read, through its pods.

As Kubernetes' plugin/pkg/auth/authorizer/node/graph.go, reduced to the edges
minik8s has: node ← pod ← {secret, configmap, persistentvolumeclaim,
serviceaccount}. A pod bound to a node (spec.nodeName) links that node to every
object the pod's spec names: secret and configMap volumes (also inside projected
volumes), env and envFrom references, imagePullSecrets, PVC volumes, its service
account. Kubernetes keeps a general graph and walks it; here each object keeps
a count of the pods on each node that reference it (Kubernetes'
destinationEdgeIndex, which answers the same question in O(1)), so a lookup is
one dict read on the request path.

Fed from the API server's pod watch cache (authz/mirror.py) with every pod event.
"""
from __future__ import annotations

import collections
import dataclasses
from typing import Any, Iterable, Iterator

SECRET, CONFIGMAP, PVC, SERVICE_ACCOUNT, POD = "secret", "configmap", "pvc", "serviceaccount", "pod"
_CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")
# Volume sources that name a secret (VisitPodSecretNames): source → its field holding a name or a reference.
_SECRET_VOLUME_FIELDS = {
    "azureFile": "secretName", "cephfs": "secretRef", "cinder": "secretRef", "flexVolume": "secretRef",
    "rbd": "secretRef", "scaleIO": "secretRef", "iscsi": "secretRef", "storageos": "secretRef",
    "csi": "nodePublishSecretRef",
}


@dataclasses.dataclass(frozen=True)
class PodRefs:
    """What one bound pod links its node to."""
    uid: str
    node: str
    namespace: str
    secrets: frozenset[str] = frozenset()
    configmaps: frozenset[str] = frozenset()
    pvcs: frozenset[str] = frozenset()
    service_account: str = ""

    def edges(self) -> Iterator[tuple[str, str]]:
        """(kind, name) of every object this pod links to its node, itself included."""
        for name in self.secrets:
            yield SECRET, name
        for name in self.configmaps:
            yield CONFIGMAP, name
        for name in self.pvcs:
            yield PVC, name
        if self.service_account:
            yield SERVICE_ACCOUNT, self.service_account


def _dicts(value: Any) -> Iterable[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _name(value: Any) -> str:
    if isinstance(value, dict):
        value = value.get("name")
    return value if isinstance(value, str) else ""


def _containers(spec: dict[str, Any]) -> Iterable[dict[str, Any]]:
    for key in _CONTAINER_LISTS:
        yield from _dicts(spec.get(key))


def secret_names(spec: dict[str, Any]) -> set[str]:
    """VisitPodSecretNames: every Secret a pod spec references."""
    out = {_name(ref) for ref in _dicts(spec.get("imagePullSecrets"))}
    for c in _containers(spec):
        for env_from in _dicts(c.get("envFrom")):
            out.add(_name(env_from.get("secretRef")))
        for env in _dicts(c.get("env")):
            value_from = env.get("valueFrom")
            if isinstance(value_from, dict):
                out.add(_name(value_from.get("secretKeyRef")))
    for vol in _dicts(spec.get("volumes")):
        secret = vol.get("secret")
        if isinstance(secret, dict):
            out.add(_name(secret.get("secretName")))
        projected = vol.get("projected")
        if isinstance(projected, dict):
            for source in _dicts(projected.get("sources")):
                out.add(_name(source.get("secret")))
        for key, field in _SECRET_VOLUME_FIELDS.items():
            src = vol.get(key)
            if isinstance(src, dict):
                out.add(_name(src.get(field)))
    out.discard("")
    return out


def configmap_names(spec: dict[str, Any]) -> set[str]:
    """VisitPodConfigmapNames: every ConfigMap a pod spec references."""
    out = set()
    for c in _containers(spec):
        for env_from in _dicts(c.get("envFrom")):
            out.add(_name(env_from.get("configMapRef")))
        for env in _dicts(c.get("env")):
            value_from = env.get("valueFrom")
            if isinstance(value_from, dict):
                out.add(_name(value_from.get("configMapKeyRef")))
    for vol in _dicts(spec.get("volumes")):
        out.add(_name(vol.get("configMap")))
        projected = vol.get("projected")
        if isinstance(projected, dict):
            for source in _dicts(projected.get("sources")):
                out.add(_name(source.get("configMap")))
    out.discard("")
    return out


def pvc_names(spec: dict[str, Any]) -> set[str]:
    out = set()
    for vol in _dicts(spec.get("volumes")):
        claim = vol.get("persistentVolumeClaim")
        if isinstance(claim, dict):
            out.add(_name(claim.get("claimName")))
    out.discard("")
    return out


def pod_refs(pod: dict[str, Any]) -> PodRefs | None:
    """The edges of a pod, or None for a pod not (yet) bound to a node."""
    spec = pod.get("spec")
    if not isinstance(spec, dict):
        return None
    node = spec.get("nodeName")
    if not isinstance(node, str) or not node:
        return None
    meta = pod.get("metadata") or {}
    sa = spec.get("serviceAccountName") or spec.get("serviceAccount") or ""
    return PodRefs(str(meta.get("uid") or ""), node, str(meta.get("namespace") or ""),
                   frozenset(secret_names(spec)), frozenset(configmap_names(spec)), frozenset(pvc_names(spec)),
                   sa if isinstance(sa, str) else "")


class Graph:
    def __init__(self) -> None:
        self.pods: dict[tuple[str, str], PodRefs] = {}
        # (kind, namespace, name) → node → how many of that node's pods reference it.
        self.index: dict[tuple[str, str, str], collections.Counter[str]] = {}

    def set_pod(self, pod: dict[str, Any]) -> None:
        meta = pod.get("metadata") or {}
        key = (str(meta.get("namespace") or ""), str(meta.get("name") or ""))
        refs = pod_refs(pod)
        old = self.pods.get(key)
        # What a pod references cannot change once it is bound (those spec fields
        # are immutable): status updates, the bulk of pod events, cost nothing here.
        if old is not None and refs is not None and old.uid == refs.uid and old.node == refs.node:
            return
        if old is not None:
            self._unlink(old)
            del self.pods[key]
        if refs is not None:
            self.pods[key] = refs
            self._link(refs)

    def delete_pod(self, namespace: str, name: str) -> None:
        old = self.pods.pop((namespace, name), None)
        if old is not None:
            self._unlink(old)

    def clear(self) -> None:
        self.pods.clear()
        self.index.clear()

    def _link(self, refs: PodRefs) -> None:
        for kind, name in refs.edges():
            self.index.setdefault((kind, refs.namespace, name), collections.Counter())[refs.node] += 1

    def _unlink(self, refs: PodRefs) -> None:
        for kind, name in refs.edges():
            key = (kind, refs.namespace, name)
            counts = self.index.get(key)
            if counts is None:
                continue
            counts[refs.node] -= 1
            if counts[refs.node] <= 0:
                del counts[refs.node]
            if not counts:
                del self.index[key]

    def has_path(self, node: str, kind: str, namespace: str, name: str) -> bool:
        """Whether `node` reaches the object: a pod bound to it, or an object one of those pods names."""
        if kind == POD:
            refs = self.pods.get((namespace, name))
            return refs is not None and refs.node == node
        counts = self.index.get((kind, namespace, name))
        return counts is not None and counts.get(node, 0) > 0
