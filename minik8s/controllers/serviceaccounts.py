"""Per-namespace ServiceAccount objects, as kube-controller-manager makes them.

- `serviceaccount` (Kubernetes' serviceaccounts-controller): a `default` ServiceAccount
  in every namespace that is not being deleted, made again if it is deleted. Namespaces
  that existed before the controller ran get theirs at its first sync.
- `root-ca-cert-publisher`: the `kube-root-ca.crt` ConfigMap in every namespace, holding
  the cluster CA (`ca.crt`) that pods verify the API server with (the ServiceAccount
  admission's projected volume mounts it); edits are put back.

Both are level-triggered: namespace and object events enqueue the namespace's name, and
`sync(namespace)` compares the informers' state with what should exist.
"""
from __future__ import annotations

import logging
from typing import Any

from minik8s.api import errors
from minik8s.api import resources
from minik8s.client import informer as informer_mod
from minik8s.client import rest
from minik8s.controllers import base

log = logging.getLogger(__name__)

NAMESPACES = resources.must("", "v1", "namespaces")
SERVICE_ACCOUNTS = resources.must("", "v1", "serviceaccounts")
CONFIGMAPS = resources.must("", "v1", "configmaps")

DEFAULT_SERVICE_ACCOUNT = "default"
ROOT_CA_CONFIGMAP = "kube-root-ca.crt"
ROOT_CA_KEY = "ca.crt"
DESCRIPTION_ANNOTATION = "kubernetes.io/description"
DESCRIPTION = ("Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints "
               "such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across "
               "distributions of Kubernetes clusters.")

Obj = dict[str, Any]


def _active(ns: Obj | None) -> bool:
    if ns is None:
        return False
    return not ns["metadata"].get("deletionTimestamp") and (ns.get("status") or {}).get("phase") != "Terminating"


def _ignorable(e: errors.StatusError) -> bool:
    """The namespace went away or began terminating between the look and the write."""
    if e.code == 403:
        return "being terminated" in e.message
    return e.code == 404 or (e.code == 409 and e.reason == "AlreadyExists")


class _PerNamespace(base.Controller):
    workers = 1
    NAME = ""
    RESOURCE = SERVICE_ACCOUNTS

    def __init__(self, client: rest.Client, factory: informer_mod.InformerFactory) -> None:
        super().__init__()
        self.client = client
        self.namespaces = factory.informer(NAMESPACES)
        self.objects = factory.informer(self.RESOURCE, field_selector=f"metadata.name={self.NAME}")
        self.namespaces.add_handlers(on_add=self._namespace, on_update=lambda _o, n: self._namespace(n))
        self.objects.add_handlers(on_update=lambda _o, n: self._object(n), on_delete=self._object)

    def _namespace(self, ns: Obj) -> None:
        self.enqueue(ns["metadata"]["name"])

    def _object(self, obj: Obj) -> None:
        meta = obj.get("metadata") or {}
        if meta.get("name") == self.NAME and meta.get("namespace"):
            self.enqueue(meta["namespace"])

    def current(self, namespace: str) -> Obj | None:
        return self.objects.get(f"{namespace}/{self.NAME}")


class ServiceAccountsController(_PerNamespace):
    name = "serviceaccount"
    NAME = DEFAULT_SERVICE_ACCOUNT
    RESOURCE = SERVICE_ACCOUNTS

    async def sync(self, key: str) -> None:
        if not _active(self.namespaces.get(key)) or self.current(key) is not None:
            return
        try:
            await self.client.create(SERVICE_ACCOUNTS, {"apiVersion": "v1", "kind": "ServiceAccount",
                                                        "metadata": {"name": self.NAME}}, key)
            log.info("created ServiceAccount %s/%s", key, self.NAME)
        except errors.StatusError as e:
            if not _ignorable(e):
                raise


class RootCACertPublisher(_PerNamespace):
    name = "root-ca-cert-publisher"
    NAME = ROOT_CA_CONFIGMAP
    RESOURCE = CONFIGMAPS

    def __init__(self, client: rest.Client, factory: informer_mod.InformerFactory, root_ca: str) -> None:
        super().__init__(client, factory)
        if not root_ca.strip():
            raise ValueError("root-ca-cert-publisher needs the cluster CA certificate")
        self.root_ca = root_ca

    @classmethod
    def from_options(cls, client: rest.Client, factory: informer_mod.InformerFactory,
                     root_ca_file: str) -> "RootCACertPublisher":
        """The CA of --root-ca-file, else the one the controller manager trusts the API server with
        (as kube-controller-manager falls back to its kubeconfig's CA)."""
        if root_ca_file:
            with open(root_ca_file, encoding="utf-8") as f:
                return cls(client, factory, f.read())
        ca = client.tls.ca if client.tls is not None else None
        if not ca:
            raise ValueError("root-ca-cert-publisher: no --root-ca-file and no CA in the kubeconfig")
        return cls(client, factory, ca.decode() if isinstance(ca, bytes) else str(ca))

    async def sync(self, key: str) -> None:
        if not _active(self.namespaces.get(key)):
            return
        data = {ROOT_CA_KEY: self.root_ca}
        cm = self.current(key)
        try:
            if cm is None:
                await self.client.create(CONFIGMAPS, {
                    "apiVersion": "v1", "kind": "ConfigMap",
                    "metadata": {"name": self.NAME, "annotations": {DESCRIPTION_ANNOTATION: DESCRIPTION}},
                    "data": data}, key)
                log.info("published %s/%s", key, self.NAME)
                return
            annotations = dict(cm["metadata"].get("annotations") or {})
            if cm.get("data") == data and annotations.get(DESCRIPTION_ANNOTATION):
                return
            annotations[DESCRIPTION_ANNOTATION] = DESCRIPTION
            updated = {**cm, "metadata": {**cm["metadata"], "annotations": annotations}, "data": data}
            updated.pop("binaryData", None)
            await self.client.update(CONFIGMAPS, updated)
        except errors.StatusError as e:
            if not _ignorable(e):
                raise
