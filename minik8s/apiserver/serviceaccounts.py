"""ServiceAccounts in the API server: the token subresource and ServiceAccount admission.

- `TokenRequests` answers `POST .../serviceaccounts/<name>/token` (authentication.k8s.io/v1
  TokenRequest) as kube-apiserver's pkg/registry/core/serviceaccount/storage/token.go:
  the ServiceAccount must exist; audiences default to the API server's own; expiry
  defaults to an hour, at least ten minutes; a token may be bound to a pod running as
  that ServiceAccount (it then stops working when the pod is gone, authn/serviceaccount.py).
  A kubelet may only ask for tokens bound to pods scheduled on its node (NodeRestriction's
  admitServiceAccount). The request is answered, never stored.
- `PodAdmission` is the ServiceAccount admission plugin
  (plugin/pkg/admission/serviceaccount): a new pod runs as `default` unless it names
  another ServiceAccount, which must exist (403 otherwise); unless
  automountServiceAccountToken is false on the pod or the ServiceAccount, it gets the
  `kube-api-access-<5 random>` projected volume (a bound token, the cluster CA from the
  `kube-root-ca.crt` ConfigMap, the namespace) mounted read-only at
  /var/run/secrets/kubernetes.io/serviceaccount in every container and init container
  that does not mount something there already; the ServiceAccount's imagePullSecrets
  become the pod's when it has none. Mirror pods are left alone.

Both read objects through an injected `Get` (the server's watch caches, then etcd).
"""
from __future__ import annotations

import asyncio
import datetime
import random
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from minik8s.api import errors
from minik8s.api import resources
from minik8s.api import rfc3339
from minik8s.api import validation
from minik8s.apiserver.authn import serviceaccount as sa_tokens
from minik8s.apiserver.authz import context as authz_context
from minik8s.apiserver.authz import noderestriction
from minik8s.apiserver.authz import user as user_mod
from minik8s.util import pki

Obj = dict[str, Any]
# (resource, namespace, name) → the object, or None.
Get = Callable[[resources.Resource, str, str], Awaitable[Obj | None]]

SERVICE_ACCOUNTS = resources.must("", "v1", "serviceaccounts")
PODS = resources.must("", "v1", "pods")

GROUP = "authentication.k8s.io"
DEFAULT_EXPIRATION_SECONDS = 3600
MIN_EXPIRATION_SECONDS = 600
MAX_EXPIRATION_SECONDS = 1 << 32

DEFAULT_SERVICE_ACCOUNT = "default"
VOLUME_PREFIX = "kube-api-access-"
MOUNT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount"
ROOT_CA_CONFIGMAP = "kube-root-ca.crt"
ROOT_CA_KEY = "ca.crt"
# The kubelet renews at 80% of a token's life; 3607 s tells Kubernetes' API server the
# token came from this admission plugin (minik8s issues it for exactly that long).
TOKEN_EXPIRATION_SECONDS = 3607
MIRROR_POD_ANNOTATION = "kubernetes.io/config.mirror"
_NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def _invalid(name: str, path: str, value: Any, detail: str) -> errors.StatusError:
    errs = validation.Errors()
    errs.invalid(path, value, detail)
    return errors.Invalid("TokenRequest", name, errs.causes, group=GROUP)


class TokenRequests:
    def __init__(self, signing_key: pki.PrivateKey, get: Get, *, issuer: str, audiences: Sequence[str],
                 clock: Callable[[], datetime.datetime] = pki.utcnow) -> None:
        self.signing_key = signing_key
        self.get = get
        self.issuer = issuer
        self.audiences = list(audiences) or [issuer]
        self.clock = clock

    async def create(self, namespace: str, name: str, body: Any, user: user_mod.UserInfo | None, *,
                     dry_run: bool = False) -> Obj:
        """The TokenRequest `body` answered with its token (status), for ServiceAccount namespace/name."""
        if not isinstance(body, dict):
            raise errors.BadRequest("the body of the request must be a TokenRequest object")
        kind, api_version = body.get("kind"), body.get("apiVersion")
        if kind not in (None, "", "TokenRequest") or api_version not in (None, "", f"{GROUP}/v1"):
            raise errors.BadRequest(f"the body of the request must be a TokenRequest ({GROUP}/v1), "
                                    f"not {api_version} {kind}")
        spec = body.get("spec")
        if spec is None:
            spec = {}
        if not isinstance(spec, dict):
            raise errors.BadRequest("spec must be an object")
        audiences = spec.get("audiences") or []
        if not isinstance(audiences, list) or not all(isinstance(a, str) for a in audiences):
            raise _invalid(name, "spec.audiences", audiences, "must be a list of strings")
        expiration = spec.get("expirationSeconds")
        if expiration is None:
            expiration = DEFAULT_EXPIRATION_SECONDS
        if isinstance(expiration, bool) or not isinstance(expiration, int):
            raise _invalid(name, "spec.expirationSeconds", expiration, "must be an integer")
        if expiration < MIN_EXPIRATION_SECONDS:
            raise _invalid(name, "spec.expirationSeconds", expiration,
                           "may not specify a duration less than 10 minutes")
        if expiration > MAX_EXPIRATION_SECONDS:
            raise _invalid(name, "spec.expirationSeconds", expiration,
                           "may not specify a duration larger than 2^32 seconds")
        account = await self.get(SERVICE_ACCOUNTS, namespace, name)
        if account is None:
            raise errors.NotFound("serviceaccounts", name)
        ref = spec.get("boundObjectRef")
        pod: tuple[str, str] | None = None
        bound: Obj | None = None
        if ref is not None:
            if not isinstance(ref, dict):
                raise errors.BadRequest("spec.boundObjectRef must be an object")
            bound = await self._bound_pod(namespace, name, ref)
            pod = (bound["metadata"]["name"], bound["metadata"]["uid"])
        self._node_restriction(user, name, ref, bound)
        now = self.clock()
        token = "" if dry_run else sa_tokens.issue(
            self.signing_key, namespace=namespace, name=name, uid=str(account["metadata"].get("uid") or ""),
            audiences=audiences or self.audiences, issuer=self.issuer, expiration_seconds=expiration,
            pod=pod, now=now)
        out_spec: Obj = {"audiences": audiences or list(self.audiences), "expirationSeconds": expiration}
        if ref is not None:
            out_spec["boundObjectRef"] = {**ref, "uid": pod[1] if pod else ref.get("uid")}
        expires = now + datetime.timedelta(seconds=expiration)
        return {"kind": "TokenRequest", "apiVersion": f"{GROUP}/v1",
                "metadata": {"name": name, "namespace": namespace,
                             "creationTimestamp": rfc3339.format(now)},
                "spec": out_spec,
                "status": {"token": token, "expirationTimestamp": rfc3339.format(expires)}}

    async def answer(self, namespace: str, name: str, body: Any, dry_run: bool) -> Obj:
        """handlers.TokenRequestHandler: `create` for the user of the request being served."""
        return await self.create(namespace, name, body, authz_context.current_user.get(), dry_run=dry_run)

    async def _bound_pod(self, namespace: str, account: str, ref: Obj) -> Obj:
        kind, api_version = ref.get("kind"), ref.get("apiVersion") or ""
        group = api_version.rpartition("/")[0] if isinstance(api_version, str) else ""
        if kind != "Pod" or group != "":
            raise errors.BadRequest(f"cannot bind token to object of type {group}/"
                                    f"{api_version.rpartition('/')[2] if isinstance(api_version, str) else ''}, "
                                    f"Kind={kind}")
        ref_name = ref.get("name")
        if not isinstance(ref_name, str) or not ref_name:
            raise errors.BadRequest("spec.boundObjectRef.name is required")
        found = await self.get(PODS, namespace, ref_name)
        if found is None:
            raise errors.NotFound("pods", ref_name)
        if (found.get("spec") or {}).get("serviceAccountName") != account:
            raise errors.BadRequest(f'cannot bind token for serviceaccount "{account}" to pod running with '
                                    "different serviceaccount name.")
        uid = ref.get("uid")
        if uid and uid != found["metadata"].get("uid"):
            raise errors.Conflict("Pod", ref_name, f"the UID in the bound object reference ({uid}) does not match "
                                  "the UID in record. The object might have been deleted and then recreated")
        return found

    @staticmethod
    def _node_restriction(user: user_mod.UserInfo | None, name: str, ref: Obj | None, pod: Obj | None) -> None:
        """NodeRestriction's admitServiceAccount: a kubelet's tokens are bound to its own pods."""
        if user is None:
            return
        node, is_node = user_mod.node_name(user)
        if not is_node:
            return
        def refuse(why: str) -> errors.StatusError:
            return noderestriction.forbidden(SERVICE_ACCOUNTS, name, why)
        if ref is None or pod is None:
            raise refuse("node requested token not bound to a pod")
        if not ref.get("uid"):
            raise refuse("node requested token with a pod binding without a uid")
        if (pod.get("spec") or {}).get("nodeName") != node:
            raise refuse("node requested token bound to a pod scheduled on a different node")


def _random_suffix() -> str:
    return "".join(random.choice(_NAME_ALPHABET) for _ in range(5))


def token_volume(name: str) -> Obj:
    """The projected volume Kubernetes' admission adds (TokenVolumeSource)."""
    return {"name": name, "projected": {"defaultMode": 0o644, "sources": [
        {"serviceAccountToken": {"expirationSeconds": TOKEN_EXPIRATION_SECONDS, "path": "token"}},
        {"configMap": {"name": ROOT_CA_CONFIGMAP, "items": [{"key": ROOT_CA_KEY, "path": ROOT_CA_KEY}]}},
        {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"apiVersion": "v1",
                                                                      "fieldPath": "metadata.namespace"}}]}},
    ]}}


def should_automount(account: Obj, spec: Obj) -> bool:
    """The pod's preference wins, then the ServiceAccount's, else true."""
    if isinstance(spec.get("automountServiceAccountToken"), bool):
        return bool(spec["automountServiceAccountToken"])
    if isinstance(account.get("automountServiceAccountToken"), bool):
        return bool(account["automountServiceAccountToken"])
    return True


def mount_token(spec: Obj, suffix: Callable[[], str] = _random_suffix) -> bool:
    """Mount the token volume into every (init) container that has nothing at MOUNT_PATH
    (True: a mount was added)."""
    found = spec.get("volumes")
    volumes: list[Any] = found if isinstance(found, list) else []
    existing = next((v.get("name") for v in volumes
                     if isinstance(v, dict) and str(v.get("name") or "").startswith(VOLUME_PREFIX)), None)
    names = {v.get("name") for v in volumes if isinstance(v, dict)}
    volume_name = existing
    while volume_name is None or (existing is None and volume_name in names):
        volume_name = VOLUME_PREFIX + suffix()
    needed = False
    for key in ("initContainers", "containers"):
        for container in spec.get(key) or []:
            if not isinstance(container, dict):
                continue
            mounts = container.get("volumeMounts")
            if not isinstance(mounts, list):
                mounts = []
            if any(isinstance(m, dict) and m.get("mountPath") == MOUNT_PATH for m in mounts):
                continue
            mounts.append({"name": volume_name, "readOnly": True, "mountPath": MOUNT_PATH})
            container["volumeMounts"] = mounts
            needed = True
    if needed and existing is None:
        spec["volumes"] = [*volumes, token_volume(volume_name)]
    return needed


class PodAdmission:
    def __init__(self, get: Get, *, retries: int = 10,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.get = get
        self.retries = retries
        self.sleep = sleep

    async def service_account(self, namespace: str, name: str) -> Obj | None:
        """As the plugin's getServiceAccount: `default` is looked for several times over a second
        or two, since the ServiceAccount controller makes it just after its namespace."""
        attempts = self.retries if name == DEFAULT_SERVICE_ACCOUNT else 1
        for attempt in range(attempts):
            if attempt:
                await self.sleep(0.1 + random.random() * 0.1)
            found = await self.get(SERVICE_ACCOUNTS, namespace, name)
            if found is not None:
                return found
        return None

    async def admit(self, pod: Obj) -> bool:
        """Mutate a new pod as the ServiceAccount admission plugin does (True: it changed);
        errors.Forbidden when its ServiceAccount does not exist."""
        meta = pod.get("metadata") or {}
        if MIRROR_POD_ANNOTATION in (meta.get("annotations") or {}):
            return False
        spec = pod.get("spec")
        if not isinstance(spec, dict):
            return False
        namespace = str(meta.get("namespace") or "")
        name = str(spec.get("serviceAccountName") or DEFAULT_SERVICE_ACCOUNT)
        spec["serviceAccountName"] = spec["serviceAccount"] = name
        account = await self.service_account(namespace, name)
        if account is None:
            err = errors.Forbidden(f'pods "{meta.get("name") or ""}" is forbidden: error looking up service account '
                                   f'{namespace}/{name}: serviceaccount "{name}" not found')
            err.details = {"name": str(meta.get("name") or ""), "kind": "pods"}
            raise err
        changed = False
        if should_automount(account, spec):
            changed = mount_token(spec)
        pull = account.get("imagePullSecrets")
        if not spec.get("imagePullSecrets") and isinstance(pull, list) and pull:
            spec["imagePullSecrets"] = [{"name": p.get("name")} for p in pull if isinstance(p, dict)]
            changed = True
        return changed

