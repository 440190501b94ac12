"""The ConfigMaps, Secrets and service account tokens a node's pods use.

The Node authorizer lets a kubelet read only the Secrets and ConfigMaps its
pods reference, one object at a time: a get, or a list/watch pinned to one
name (`fieldSelector=metadata.name=<name>`). So, as the real kubelet's
watch-based configmap and secret managers do (pkg/kubelet/util/manager),
`WatchingObjectSource` keeps one small informer per referenced object, counted
by the pods that reference it: it starts when the first pod using the object
is registered and stops when the last one goes. A change to the object calls
`on_change(pod uids)`, which wakes those pods' workers: their volumes are
rewritten within seconds of the update (the periodic resync is the fallback).

Each watch holds one connection of the kubelet's pool (100) for as long as the
object is used (an `immutable` object's watch stops once it is read), so at most
`max_watches` (40) objects are watched; beyond that an
object is read with a GET, cached for `poll_ttl` seconds (the real kubelet's
TTL-cache strategy): its updates then reach the pod at the next resync.

Projected service account tokens come from the TokenRequest API
(`POST .../serviceaccounts/<name>/token`), through the `TokenSource` seam:
`ApiTokenSource` asks the API server when it serves that subresource and
refreshes a token once 80% of its lifetime has passed (the kubelet's token
manager rule); until the API serves it, a pod with such a volume waits in
ContainerCreating with a FailedMount event that says so.
"""
from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from typing import Any, Callable, Iterable, Protocol

from minik8s.api import errors
from minik8s.api import resources
from minik8s.api import rfc3339
from minik8s.client import informer as informer_mod
from minik8s.client import rest

log = logging.getLogger(__name__)

Obj = dict[str, Any]
CONFIGMAP, SECRET = "configmap", "secret"
CONFIGMAPS = resources.must("", "v1", "configmaps")
SECRETS = resources.must("", "v1", "secrets")
_RESOURCES = {CONFIGMAP: CONFIGMAPS, SECRET: SECRETS}
Key = tuple[str, str, str]  # (kind, namespace, name)


class ObjectUnavailable(Exception):
    """The object could not be read (not yet synced, forbidden, API down) — not the same as absent."""


class ObjectSource(Protocol):
    """What the kubelet asks about ConfigMaps and Secrets."""

    def register_pod(self, pod: Obj) -> None: ...

    def unregister_pod(self, uid: str) -> None: ...

    async def get(self, kind: str, namespace: str, name: str) -> Obj | None:
        """The object, or None when it does not exist; ObjectUnavailable when unknown."""
        ...


def _name(ref: Any) -> str:
    return str(ref.get("name") or "") if isinstance(ref, dict) else ""


def referenced(pod: Obj) -> set[Key]:
    """Every ConfigMap and Secret the pod's volumes and environment name."""
    ns = (pod.get("metadata") or {}).get("namespace") or "default"
    spec = pod.get("spec") or {}
    out: set[tuple[str, str]] = set()
    for vol in spec.get("volumes") or []:
        if vol.get("configMap") is not None:
            out.add((CONFIGMAP, _name(vol["configMap"])))
        if vol.get("secret") is not None:
            out.add((SECRET, str(vol["secret"].get("secretName") or "")))
        for source in (vol.get("projected") or {}).get("sources") or []:
            if source.get("configMap") is not None:
                out.add((CONFIGMAP, _name(source["configMap"])))
            if source.get("secret") is not None:
                out.add((SECRET, _name(source["secret"])))
    for key in ("initContainers", "containers", "ephemeralContainers"):
        for c in spec.get(key) or []:
            for env in c.get("env") or []:
                value_from = env.get("valueFrom") or {}
                if value_from.get("configMapKeyRef") is not None:
                    out.add((CONFIGMAP, _name(value_from["configMapKeyRef"])))
                if value_from.get("secretKeyRef") is not None:
                    out.add((SECRET, _name(value_from["secretKeyRef"])))
            for env_from in c.get("envFrom") or []:
                if env_from.get("configMapRef") is not None:
                    out.add((CONFIGMAP, _name(env_from["configMapRef"])))
                if env_from.get("secretRef") is not None:
                    out.add((SECRET, _name(env_from["secretRef"])))
    return {(kind, ns, name) for kind, name in out if name}


@dataclasses.dataclass
class _Watch:
    informer: informer_mod.Informer | None  # None: polled (too many watches already)
    pods: set[str]
    fetched: float = 0.0
    value: Obj | None = None


MAX_WATCHES = 40


class WatchingObjectSource:
    """ObjectSource on one name-pinned informer per referenced object."""

    def __init__(self, client: rest.Client, on_change: Callable[[Iterable[str]], None], *,
                 sync_timeout: float = 10.0, max_watches: int = MAX_WATCHES, poll_ttl: float = 10.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.client = client
        self.on_change = on_change
        self.sync_timeout = sync_timeout
        self.max_watches = max_watches
        self.poll_ttl = poll_ttl
        self.clock = clock
        self._watches: dict[Key, _Watch] = {}
        self._pods: dict[str, set[Key]] = {}

    def watching(self) -> int:
        """How many objects are watched now (each holds a connection)."""
        return sum(1 for w in self._watches.values() if w.informer is not None)

    def register_pod(self, pod: Obj) -> None:
        uid = pod["metadata"]["uid"]
        keys = referenced(pod)
        old = self._pods.get(uid, set())
        self._pods[uid] = keys
        for key in keys - old:
            watch = self._watches.get(key)
            if watch is None:
                informer = self._informer(key) if self.watching() < self.max_watches else None
                watch = self._watches[key] = _Watch(informer, set())
                if informer is not None:
                    informer.start()
            watch.pods.add(uid)
        for key in old - keys:
            self._release(key, uid)

    def unregister_pod(self, uid: str) -> None:
        for key in self._pods.pop(uid, set()):
            self._release(key, uid)

    def _release(self, key: Key, uid: str) -> None:
        watch = self._watches.get(key)
        if watch is None:
            return
        watch.pods.discard(uid)
        if not watch.pods:
            del self._watches[key]
            if watch.informer is not None:
                asyncio.get_running_loop().create_task(watch.informer.stop())

    def _informer(self, key: Key) -> informer_mod.Informer:
        kind, namespace, name = key
        inf = informer_mod.Informer(self.client, _RESOURCES[kind], namespace=namespace,
                                    field_selector=f"metadata.name={name}")

        def changed(obj: Obj, deleted: bool = False) -> None:
            watch = self._watches.get(key)
            if watch is None:
                return
            if not deleted and obj.get("immutable") is True and watch.informer is inf:
                # An immutable object never changes again: keep it, free the connection
                # (as the real kubelet stops watching immutable ConfigMaps and Secrets).
                watch.value, watch.fetched, watch.informer = obj, float("inf"), None
                asyncio.get_running_loop().create_task(inf.stop())
            self.on_change(set(watch.pods))

        inf.add_handlers(on_add=changed, on_update=lambda old, new: changed(new),
                         on_delete=lambda obj: changed(obj, deleted=True))
        return inf

    async def _read(self, kind: str, namespace: str, name: str) -> Obj | None:
        try:
            return await self.client.get(_RESOURCES[kind], name, namespace)
        except errors.NotFound:
            return None
        except errors.StatusError as e:
            raise ObjectUnavailable(e.message) from e

    async def get(self, kind: str, namespace: str, name: str) -> Obj | None:
        watch = self._watches.get((kind, namespace, name))
        if watch is None:
            # Not referenced by a registered pod: one read (the authorizer decides).
            return await self._read(kind, namespace, name)
        if watch.informer is None:
            if not watch.fetched or self.clock() - watch.fetched >= self.poll_ttl:
                watch.value = await self._read(kind, namespace, name)
                watch.fetched = self.clock()
            return watch.value
        informer = watch.informer
        try:
            await informer.wait_synced(self.sync_timeout)
        except asyncio.TimeoutError:
            raise ObjectUnavailable(f"failed to sync {kind} cache: timed out waiting for the condition") from None
        if watch.informer is None:  # it turned out immutable while syncing
            return watch.value
        return informer.get_by(namespace, name)

    async def stop(self) -> None:
        watches = list(self._watches.values())
        self._watches.clear()
        self._pods.clear()
        await asyncio.gather(*(w.informer.stop() for w in watches if w.informer is not None),
                             return_exceptions=True)


class StaticObjectSource:
    """An ObjectSource over a dict, for unit tests: objects[(kind, namespace, name)]."""

    def __init__(self, objects: dict[Key, Obj] | None = None) -> None:
        self.objects: dict[Key, Obj] = dict(objects or {})
        self.registered: dict[str, set[Key]] = {}
        self.unavailable: set[Key] = set()

    def register_pod(self, pod: Obj) -> None:
        self.registered[pod["metadata"]["uid"]] = referenced(pod)

    def unregister_pod(self, uid: str) -> None:
        self.registered.pop(uid, None)

    async def get(self, kind: str, namespace: str, name: str) -> Obj | None:
        if (kind, namespace, name) in self.unavailable:
            raise ObjectUnavailable(f"failed to sync {kind} cache: timed out waiting for the condition")
        return self.objects.get((kind, namespace, name))


# -- service account tokens ----------------------------------------------------------------------


class TokenSource(Protocol):
    async def token(self, pod: Obj, service_account: str, audience: str, expiration_seconds: int) -> str:
        """A token for the pod's service account; raises ObjectUnavailable when none can be had."""
        ...


@dataclasses.dataclass
class _Token:
    value: str
    issued: float
    expires: float


class ApiTokenSource:
    """TokenRequest through the API server, cached until 80% of its lifetime."""

    def __init__(self, client: rest.Client, *, clock: Callable[[], float] = time.time) -> None:
        self.client = client
        self.clock = clock
        self._cache: dict[tuple[str, str, str, str, int], _Token] = {}

    @staticmethod
    def served() -> bool:
        accounts = resources.lookup("", "v1", "serviceaccounts")
        return accounts is not None and accounts.subresource("token") is not None

    async def token(self, pod: Obj, service_account: str, audience: str, expiration_seconds: int) -> str:
        meta = pod["metadata"]
        key = (meta.get("namespace") or "default", service_account, audience, meta["uid"], expiration_seconds)
        cached = self._cache.get(key)
        now = self.clock()
        if cached is not None and now < cached.issued + 0.8 * (cached.expires - cached.issued):
            return cached.value
        accounts = resources.lookup("", "v1", "serviceaccounts")
        if accounts is None or accounts.subresource("token") is None:
            raise ObjectUnavailable("the API server does not serve serviceaccounts/token (TokenRequest)")
        body = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
                "spec": {"audiences": [audience] if audience else [], "expirationSeconds": expiration_seconds,
                         "boundObjectRef": {"kind": "Pod", "apiVersion": "v1", "name": meta["name"],
                                            "uid": meta["uid"]}}}
        try:
            answer = await self.client.request("POST", accounts.path(key[0], service_account, "token"), body=body)
        except errors.StatusError as e:
            raise ObjectUnavailable(f"failed to fetch token: {e.message}") from e
        status = (answer or {}).get("status") or {}
        value = str(status.get("token") or "")
        expires = rfc3339.parse_epoch(status.get("expirationTimestamp")) or now + expiration_seconds
        self._cache[key] = _Token(value, now, expires)
        return value

    def forget_pod(self, uid: str) -> None:
        for key in [k for k in self._cache if k[3] == uid]:
            del self._cache[key]
