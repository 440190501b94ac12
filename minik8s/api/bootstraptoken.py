"""Bootstrap tokens as Kubernetes stores them (k8s.io/cluster-bootstrap): format and checks.

A token `<id>.<secret>` ([a-z0-9]{6}.[a-z0-9]{16}) lives as Secret
`kube-system/bootstrap-token-<id>` of type `bootstrap.kubernetes.io/token`, its
fields base64 in `data`: token-id, token-secret, expiration (RFC 3339),
usage-bootstrap-authentication / usage-bootstrap-signing ("true"), auth-extra-groups,
description. The API server authenticates with it, the controller manager signs
cluster-info with it and deletes it when expired, `minik8s token` writes it: all
read it through here. No I/O.

cluster-info (kube-public) carries, for each signing token, `jws-kubeconfig-<id>`:
kubeadm's detached JWS (HS256, key = the token's secret, kid = its id) of the
ConfigMap's `kubeconfig`, so a joining node can check that whoever published the
CA it is about to trust also knows its token, without sending the token anywhere.
"""
from __future__ import annotations

import base64
import binascii
import datetime
import hmac
import re
import warnings
from typing import Any

import jwt

from minik8s.api import identities

NAMESPACE = "kube-system"
SECRET_TYPE = "bootstrap.kubernetes.io/token"
SECRET_PREFIX = "bootstrap-token-"
TOKEN_RE = re.compile(r"^([a-z0-9]{6})\.([a-z0-9]{16})$")
ID_RE = re.compile(r"^[a-z0-9]{6}$")
EXTRA_GROUP_RE = re.compile(r"^system:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]$")

USAGE_AUTHENTICATION = "usage-bootstrap-authentication"
USAGE_SIGNING = "usage-bootstrap-signing"
EXPIRATION = "expiration"


class TokenError(ValueError):
    """The token, or its Secret, is not a valid bootstrap token (the message says why)."""


def parse(token: str) -> tuple[str, str] | None:
    """(id, secret) of a token in the bootstrap format, else None."""
    m = TOKEN_RE.match(token)
    return (m.group(1), m.group(2)) if m else None


def secret_name(token_id: str) -> str:
    return SECRET_PREFIX + token_id


def field(secret: dict[str, Any], key: str) -> str:
    """A Secret's `data` field decoded ('' if missing or not base64 text)."""
    raw = (secret.get("data") or {}).get(key)
    if not isinstance(raw, str):
        return ""
    try:
        return base64.b64decode(raw, validate=True).decode()
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return ""


def expiration(secret: dict[str, Any]) -> datetime.datetime | None:
    text = field(secret, EXPIRATION)
    if not text:
        return None
    try:
        t = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise TokenError(f"the token's expiration {text!r} is unreadable") from None
    return t if t.tzinfo else t.replace(tzinfo=datetime.timezone.utc)


def is_expired(secret: dict[str, Any], now: datetime.datetime) -> bool:
    try:
        expires = expiration(secret)
    except TokenError:
        return True  # an unreadable expiration is treated as passed, as Kubernetes does
    return expires is not None and now >= expires


def groups(secret: dict[str, Any]) -> tuple[str, ...]:
    """system:bootstrappers plus the token's valid auth-extra-groups."""
    out = [identities.BOOTSTRAPPERS]
    for g in field(secret, "auth-extra-groups").split(","):
        g = g.strip()
        if not g:
            continue
        if not EXTRA_GROUP_RE.match(g):
            raise TokenError(f"auth-extra-groups: {g!r} is not of the form system:bootstrappers:<name>")
        if g not in out:
            out.append(g)
    return tuple(out)


def check(secret: dict[str, Any] | None, token: str, now: datetime.datetime, *,
          usage: str = USAGE_AUTHENTICATION) -> tuple[str, ...]:
    """The groups of `token` if `secret` makes it a valid, unexpired token for `usage`; else TokenError."""
    parsed = parse(token)
    if parsed is None:
        raise TokenError("not of the form [a-z0-9]{6}.[a-z0-9]{16}")
    token_id, token_secret = parsed
    if secret is None:
        raise TokenError(f"no bootstrap token {token_id} (expired and deleted, or never created)")
    if secret.get("type") != SECRET_TYPE:
        raise TokenError(f"Secret {secret_name(token_id)} is not of type {SECRET_TYPE}")
    if (secret.get("metadata") or {}).get("deletionTimestamp"):
        raise TokenError(f"bootstrap token {token_id} is being deleted")
    if field(secret, "token-id") != token_id:
        raise TokenError(f"Secret {secret_name(token_id)} is for another token id")
    if not hmac.compare_digest(field(secret, "token-secret").encode(), token_secret.encode()):
        raise TokenError(f"wrong secret for bootstrap token {token_id}")
    if is_expired(secret, now):
        raise TokenError(f"bootstrap token {token_id} expired at {field(secret, EXPIRATION)}")
    if field(secret, usage) != "true":
        raise TokenError(f"bootstrap token {token_id} is not for {usage.removeprefix('usage-bootstrap-')}")
    return groups(secret)


def rfc3339(t: datetime.datetime) -> str:
    return t.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


JWS_PREFIX = "jws-kubeconfig-"
CLUSTER_INFO = "cluster-info"
CLUSTER_INFO_NAMESPACE = "kube-public"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def detached_signature(content: str, token_id: str, token_secret: str) -> str:
    """`<header>..<signature>`: a compact JWS of `content` with its payload left out (as kubeadm)."""
    with warnings.catch_warnings():
        # The key is the token's 16-character secret: the bootstrap token format, not ours to lengthen.
        warnings.simplefilter("ignore", jwt.warnings.InsecureKeyLengthWarning)
        full = jwt.api_jws.PyJWS().encode(content.encode(), token_secret, algorithm="HS256",
                                           headers={"kid": token_id, "typ": None})
    header, _, signature = full.split(".")
    return f"{header}..{signature}"


def verify_detached_signature(content: str, detached: str, token_id: str, token_secret: str) -> bool:
    header, sep, signature = detached.partition("..")
    if not sep or not header or not signature:
        return False
    compact = f"{header}.{_b64url(content.encode())}.{signature}"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", jwt.warnings.InsecureKeyLengthWarning)
            found = jwt.api_jws.PyJWS().decode_complete(compact, token_secret, algorithms=["HS256"])
    except jwt.PyJWTError:
        return False
    return bool(found["header"].get("kid") == token_id and found["payload"] == content.encode())
