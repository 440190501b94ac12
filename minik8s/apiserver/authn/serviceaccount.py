"""ServiceAccount tokens: RS256 JWTs signed with the cluster's ServiceAccount key.

As Kubernetes' bound tokens: issuer, audience, expiry and signature are checked on
every request (PyJWT), and a token bound to a pod stops working when that pod is
gone. The user is system:serviceaccount:<ns>:<name> in system:serviceaccounts and
system:serviceaccounts:<ns>.

`issue` makes such a token; the API server's TokenRequest (when it serves one) and
the tests use it. Tokens without an expiry (Kubernetes' legacy Secret-based ones)
are not accepted.
"""
from __future__ import annotations

import base64
import datetime
import hashlib
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization

from minik8s.api import errors
from minik8s.api import identities
from minik8s.apiserver.authn import user as user_mod
from minik8s.util import pki

log = logging.getLogger(__name__)

DEFAULT_ISSUER = "https://kubernetes.default.svc.cluster.local"
ALGORITHM = "RS256"
CLAIMS = "kubernetes.io"
EXTRA_POD_NAME = "authentication.kubernetes.io/pod-name"
EXTRA_POD_UID = "authentication.kubernetes.io/pod-uid"
EXTRA_CREDENTIAL_ID = "authentication.kubernetes.io/credential-id"

# (namespace, name) → the object, or None.
Lookup = Callable[[str, str], Awaitable[dict[str, Any] | None]]


def key_id(public_key: pki.PublicKey) -> str:
    """Kubernetes' `kid`: the unpadded base64url SHA-256 of the key's DER SubjectPublicKeyInfo."""
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.urlsafe_b64encode(hashlib.sha256(der).digest()).decode().rstrip("=")


def issue(signing_key: pki.PrivateKey, *, namespace: str, name: str, uid: str, audiences: Sequence[str],
          issuer: str = DEFAULT_ISSUER, expiration_seconds: int = 3600,
          pod: tuple[str, str] | None = None, now: datetime.datetime | None = None) -> str:
    """A token for ServiceAccount `namespace/name`, optionally bound to pod (name, uid)."""
    now = now or pki.utcnow()
    private: dict[str, Any] = {"namespace": namespace, "serviceaccount": {"name": name, "uid": uid}}
    if pod is not None:
        private["pod"] = {"name": pod[0], "uid": pod[1]}
    claims = {
        "iss": issuer,
        "sub": identities.service_account_user(namespace, name),
        "aud": list(audiences),
        "iat": int(now.timestamp()),
        "nbf": int(now.timestamp()),
        "exp": int(now.timestamp()) + expiration_seconds,
        "jti": str(uuid.uuid4()),
        CLAIMS: private,
    }
    return jwt.encode(claims, signing_key, algorithm=ALGORITHM,
                      headers={"kid": key_id(signing_key.public_key())})


def looks_like_jwt(token: str) -> bool:
    return token.count(".") == 2 and token.startswith("eyJ")


class ServiceAccountAuthenticator:
    def __init__(self, public_keys: Sequence[pki.PublicKey], *, issuer: str = DEFAULT_ISSUER,
                 audiences: Sequence[str] = (), get_pod: Lookup | None = None,
                 get_service_account: Lookup | None = None) -> None:
        if not public_keys:
            raise ValueError("ServiceAccount token authentication needs at least one public key")
        self.keys = {key_id(k): k for k in public_keys}
        self.issuer = issuer
        self.audiences = list(audiences) or [issuer]
        self.get_pod = get_pod
        self.get_service_account = get_service_account

    @classmethod
    def from_files(cls, paths: Sequence[str], **kw: Any) -> "ServiceAccountAuthenticator":
        keys = []
        for path in paths:
            with open(path, "rb") as f:
                data = f.read()
            # A private key file is accepted too (its public half is used), as kube-apiserver does.
            keys.append(pki.load_key(data).public_key() if b"PRIVATE KEY" in data else pki.load_public_key(data))
        return cls(keys, **kw)

    async def authenticate(self, token: str) -> user_mod.UserInfo | None:
        """None for a token that is not a JWT; errors.Unauthorized for one that does not verify."""
        if not looks_like_jwt(token):
            return None
        try:
            claims = self._verify(token)
            return await self._user(claims)
        except _Rejected as e:
            log.info("ServiceAccount token rejected: %s", e)
            raise errors.Unauthorized() from None

    def _verify(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as e:
            raise _Rejected(f"unreadable header: {e}") from None
        if header.get("alg") != ALGORITHM:
            raise _Rejected(f"algorithm {header.get('alg')!r} is not {ALGORITHM}")
        kid = header.get("kid")
        candidates = [self.keys[kid]] if kid in self.keys else list(self.keys.values())
        last: Exception | None = None
        for key in candidates:
            try:
                claims: dict[str, Any] = jwt.decode(
                    token, key, algorithms=[ALGORITHM], audience=self.audiences, issuer=self.issuer,
                    options={"require": ["exp", "iat", "iss", "sub", "aud"]})
                return claims
            except jwt.InvalidSignatureError as e:
                last = e
            except jwt.PyJWTError as e:
                raise _Rejected(str(e)) from None
        raise _Rejected(f"signature: {last}")

    async def _user(self, claims: dict[str, Any]) -> user_mod.UserInfo:
        private = claims.get(CLAIMS)
        if not isinstance(private, dict):
            raise _Rejected(f"no {CLAIMS} claims")
        namespace = private.get("namespace")
        sa = private.get("serviceaccount") or {}
        if not isinstance(namespace, str) or not namespace or not isinstance(sa, dict) or not sa.get("name"):
            raise _Rejected("the kubernetes.io claims name no ServiceAccount")
        name, uid = str(sa["name"]), str(sa.get("uid") or "")
        if claims.get("sub") != identities.service_account_user(namespace, name):
            raise _Rejected(f"subject {claims.get('sub')!r} does not match the kubernetes.io claims")
        extra: dict[str, tuple[str, ...]] = {}
        if claims.get("jti"):
            extra[EXTRA_CREDENTIAL_ID] = (f"JTI={claims['jti']}",)
        pod = private.get("pod")
        if pod is not None:
            if not isinstance(pod, dict) or not pod.get("name"):
                raise _Rejected("unreadable pod claim")
            if self.get_pod is not None:
                found = await self.get_pod(namespace, str(pod["name"]))
                if found is None or found["metadata"].get("uid") != pod.get("uid"):
                    raise _Rejected(f"pod {namespace}/{pod['name']} the token is bound to no longer exists")
            extra[EXTRA_POD_NAME] = (str(pod["name"]),)
            extra[EXTRA_POD_UID] = (str(pod.get("uid") or ""),)
        if self.get_service_account is not None:
            found = await self.get_service_account(namespace, name)
            if found is None or (uid and found["metadata"].get("uid") != uid):
                raise _Rejected(f"ServiceAccount {namespace}/{name} no longer exists")
        return user_mod.authenticated(identities.service_account_user(namespace, name), uid=uid,
                                      groups=identities.service_account_groups(namespace), extra=extra)


class _Rejected(Exception):
    pass
