"""Bootstrap tokens in the controller manager: Kubernetes' tokencleaner and bootstrapsigner.

- tokencleaner deletes a token's Secret when its expiration passes, so an expired
  token is gone, not merely refused. It also deletes the kube-system Secrets a token
  owns (ownerReferences) once every owner is gone: the uploaded control-plane
  certificates (minik8s.cluster.copycerts) expire with their token this way, as in
  kubeadm, where the garbage collector does it (minik8s's collector does not watch
  Secrets, and this controller already does).
- bootstrapsigner keeps kube-public/cluster-info signed: one `jws-kubeconfig-<id>`
  per token that may sign (usage-bootstrap-signing, unexpired) over the ConfigMap's
  `kubeconfig`, and none for any other. A joining node checks that signature with its
  token before it trusts the CA in that kubeconfig (minik8s.cluster.join).
"""
from __future__ import annotations

import datetime
import logging
from typing import Any

from minik8s.api import bootstraptoken
from minik8s.api import errors
from minik8s.api import resources
from minik8s.client import informer as informer_mod
from minik8s.client import rest
from minik8s.controllers import base

log = logging.getLogger(__name__)

SECRETS = resources.must("", "v1", "secrets")
CONFIGMAPS = resources.must("", "v1", "configmaps")


def utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def is_token(secret: dict[str, Any]) -> bool:
    return secret.get("type") == bootstraptoken.SECRET_TYPE


class TokenCleaner(base.Controller):
    name = "tokencleaner"
    workers = 1

    def __init__(self, client: rest.Client, factory: informer_mod.InformerFactory) -> None:
        super().__init__()
        self.client = client
        self.secrets = factory.informer(SECRETS, namespace=bootstraptoken.NAMESPACE)
        self.secrets.add_handlers(on_add=self._changed, on_update=lambda _o, n: self._changed(n),
                                  on_delete=self._deleted)

    def _changed(self, secret: dict[str, Any]) -> None:
        if is_token(secret) or token_owners(secret):
            self.enqueue(informer_mod.key_of(secret))

    def _deleted(self, secret: dict[str, Any]) -> None:
        if not is_token(secret):
            return
        uid = (secret.get("metadata") or {}).get("uid")
        for other in self.secrets.list(bootstraptoken.NAMESPACE):
            if any(ref.get("uid") == uid for ref in token_owners(other)):
                self.enqueue(informer_mod.key_of(other))

    async def sync(self, key: str) -> None:
        secret = self.secrets.get(key)
        if secret is None:
            return
        if not is_token(secret):
            await self._collect(secret)
            return
        try:
            expires = bootstraptoken.expiration(secret)
        except bootstraptoken.TokenError:
            expires = utcnow()  # unreadable: treated as expired, as Kubernetes does
        if expires is None:
            return
        left = (expires - utcnow()).total_seconds()
        if left > 0:
            self.enqueue_after(key, left + 0.1)
            return
        meta = secret["metadata"]
        try:
            await self.client.delete(SECRETS, meta["name"], meta["namespace"],
                                     preconditions={"uid": meta["uid"]})
            log.info("deleted expired bootstrap token %s", meta["name"])
        except errors.NotFound:
            pass


    async def _collect(self, secret: dict[str, Any]) -> None:
        """Delete a Secret owned only by bootstrap tokens once none of them exists (confirmed
        with a live GET: the cache may not have seen a new token yet)."""
        refs = token_owners(secret)
        if not refs or len(refs) != len((secret.get("metadata") or {}).get("ownerReferences") or []):
            return
        meta = secret["metadata"]
        for ref in refs:
            cached = self.secrets.get(f"{meta['namespace']}/{ref['name']}")
            if cached is not None and cached["metadata"].get("uid") == ref.get("uid"):
                return
            try:
                live = await self.client.get(SECRETS, ref["name"], meta["namespace"])
            except errors.NotFound:
                continue
            if live["metadata"].get("uid") == ref.get("uid"):
                return
        try:
            await self.client.delete(SECRETS, meta["name"], meta["namespace"], preconditions={"uid": meta["uid"]})
            log.info("deleted %s/%s: the bootstrap token owning it is gone", meta["namespace"], meta["name"])
        except errors.NotFound:
            pass


def token_owners(secret: dict[str, Any]) -> list[dict[str, Any]]:
    """The ownerReferences of `secret` that name a bootstrap token's Secret."""
    return [ref for ref in (secret.get("metadata") or {}).get("ownerReferences") or []
            if ref.get("apiVersion") == "v1" and ref.get("kind") == "Secret"
            and str(ref.get("name", "")).startswith(bootstraptoken.SECRET_PREFIX)]


class BootstrapSigner(base.Controller):
    name = "bootstrapsigner"
    workers = 1
    KEY = f"{bootstraptoken.CLUSTER_INFO_NAMESPACE}/{bootstraptoken.CLUSTER_INFO}"

    def __init__(self, client: rest.Client, factory: informer_mod.InformerFactory) -> None:
        super().__init__()
        self.client = client
        self.secrets = factory.informer(SECRETS, namespace=bootstraptoken.NAMESPACE)
        self.configmaps = factory.informer(CONFIGMAPS, namespace=bootstraptoken.CLUSTER_INFO_NAMESPACE)
        for inf in (self.secrets, self.configmaps):
            inf.add_handlers(on_add=lambda _o: self.enqueue(self.KEY), on_update=lambda _o, _n: self.enqueue(self.KEY),
                             on_delete=lambda _o: self.enqueue(self.KEY))

    def signatures(self, content: str) -> dict[str, str]:
        now = utcnow()
        out: dict[str, str] = {}
        next_expiry: float | None = None
        for secret in self.secrets.list(bootstraptoken.NAMESPACE):
            if not is_token(secret) or (secret.get("metadata") or {}).get("deletionTimestamp"):
                continue
            if bootstraptoken.field(secret, bootstraptoken.USAGE_SIGNING) != "true":
                continue
            if bootstraptoken.is_expired(secret, now):
                continue
            token_id = bootstraptoken.field(secret, "token-id")
            token_secret = bootstraptoken.field(secret, "token-secret")
            if bootstraptoken.parse(f"{token_id}.{token_secret}") is None:
                continue
            out[bootstraptoken.JWS_PREFIX + token_id] = bootstraptoken.detached_signature(content, token_id,
                                                                                          token_secret)
            expires = bootstraptoken.expiration(secret)
            if expires is not None:
                left = (expires - now).total_seconds()
                next_expiry = left if next_expiry is None else min(next_expiry, left)
        if next_expiry is not None:
            # An expired token's signature goes when it expires, even before the cleaner deletes it.
            self.enqueue_after(self.KEY, next_expiry + 0.1)
        return out

    async def sync(self, key: str) -> None:
        cm = self.configmaps.get(self.KEY)
        if cm is None:
            return
        data = dict(cm.get("data") or {})
        content = data.get("kubeconfig")
        if not content:
            return
        unsigned = {k: v for k, v in data.items() if not k.startswith(bootstraptoken.JWS_PREFIX)}
        wanted = {**unsigned, **self.signatures(content)}
        if wanted == data:
            return
        await self.client.update(CONFIGMAPS, {**cm, "data": wanted})
        log.info("cluster-info signed for %d token(s)", len(wanted) - len(unsigned))
