"""Bootstrap tokens: how a new machine learns enough about the cluster to join it.

As kubeadm: `minik8s token create` (on the master) stores a token as a Secret
`kube-system/bootstrap-token-<id>` of type `bootstrap.kubernetes.io/token`, with its
expiry, and prints the exact `minik8s join` command. Beside it a Secret
`kube-system/minik8s-cluster-info` carries what a node must be configured with:
the API server's advertised URL, the shared kubelet token (the API server presents
it to kubelets for logs/exec) and the cluster CIDR.

`minik8s join SERVER --token ID.SECRET` reads the token's Secret, checks the secret
and expiry, reads the cluster info and renders the node's config files with
minik8s.cluster.config, the same code `minik8s cluster up` renders its nodes' files
with.

The API server does not authenticate clients yet; the token is then proof of an
invitation rather than a credential, and becomes one the day it does.
"""
from __future__ import annotations

import base64
import dataclasses
import datetime
import hmac
import re
import secrets
import socket
import string
from typing import Any
from urllib.parse import urlsplit

from minik8s.api import errors
from minik8s.api import resources
from minik8s.api import rfc3339
from minik8s.client import rest

SECRETS = resources.must("", "v1", "secrets")

NAMESPACE = "kube-system"
TOKEN_TYPE = "bootstrap.kubernetes.io/token"
TOKEN_PREFIX = "bootstrap-token-"
CLUSTER_INFO = "minik8s-cluster-info"
TOKEN_RE = re.compile(r"^([a-z0-9]{6})\.([a-z0-9]{16})$")
_ALPHABET = string.ascii_lowercase + string.digits


class BootstrapError(Exception):
    """The token or the cluster info is missing, wrong or expired; the message says which."""


@dataclasses.dataclass(frozen=True)
class ClusterInfo:
    server: str
    kubelet_token: str
    cluster_cidr: str


def generate_token() -> str:
    pick = lambda n: "".join(secrets.choice(_ALPHABET) for _ in range(n))  # noqa: E731
    return f"{pick(6)}.{pick(16)}"


def parse_token(token: str) -> tuple[str, str]:
    m = TOKEN_RE.match(token)
    if not m:
        raise BootstrapError(f"token {token!r} is not of the form [a-z0-9]{{6}}.[a-z0-9]{{16}}")
    return m.group(1), m.group(2)


def parse_ttl(text: str) -> int:
    """'24h', '30m', '90s', '1h30m' or a number of seconds → seconds (0: never expires)."""
    text = text.strip()
    if text.isdigit():
        return int(text)
    parts = re.findall(r"(\d+)([hms])", text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"{text!r} is not a duration like 24h, 30m or 0")
    return sum(int(n) * {"h": 3600, "m": 60, "s": 1}[u] for n, u in parts)


def _b64(value: str) -> str:
    return base64.b64encode(value.encode()).decode()


def _unb64(data: dict[str, str], key: str) -> str:
    try:
        return base64.b64decode(data.get(key, "")).decode()
    except (ValueError, UnicodeDecodeError):
        return ""


def token_secret(token: str, ttl: int, description: str, now: datetime.datetime) -> dict[str, Any]:
    token_id, token_secret_ = parse_token(token)
    data = {
        "token-id": token_id,
        "token-secret": token_secret_,
        "usage-bootstrap-authentication": "true",
        "usage-bootstrap-signing": "true",
        "description": description,
    }
    if ttl > 0:
        data["expiration"] = rfc3339.format(now + datetime.timedelta(seconds=ttl))
    return {
        "apiVersion": "v1", "kind": "Secret", "type": TOKEN_TYPE,
        "metadata": {"name": TOKEN_PREFIX + token_id, "namespace": NAMESPACE},
        "data": {k: _b64(v) for k, v in data.items()},
    }


def cluster_info_secret(info: ClusterInfo) -> dict[str, Any]:
    return {
        "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
        "metadata": {"name": CLUSTER_INFO, "namespace": NAMESPACE},
        "data": {"server": _b64(info.server), "kubelet-token": _b64(info.kubelet_token),
                 "cluster-cidr": _b64(info.cluster_cidr)},
    }


def check_token(secret: dict[str, Any], token: str, now: datetime.datetime) -> None:
    """Raise BootstrapError unless `secret` is a valid, unexpired bootstrap token for `token`."""
    _, want = parse_token(token)
    data = secret.get("data") or {}
    if secret.get("type") != TOKEN_TYPE or _unb64(data, "usage-bootstrap-authentication") != "true":
        raise BootstrapError("the token's Secret is not a bootstrap token for authentication")
    if not hmac.compare_digest(_unb64(data, "token-secret"), want):
        raise BootstrapError("wrong token secret")
    expiration = _unb64(data, "expiration")
    if expiration:
        expires = rfc3339.parse(expiration)
        if expires is None:
            raise BootstrapError(f"the token's expiration {expiration!r} is unreadable")
        if now >= expires:
            raise BootstrapError(f"the token expired at {expiration}; create a new one with "
                                 "`minik8s token create` on the master")


async def create_token(client: rest.Client, info: ClusterInfo, *, token: str | None = None, ttl: int = 86400,
                       description: str = "minik8s join") -> str:
    """Store the cluster info and a new token (or `token`, replacing one with its id); the token."""
    token = token or generate_token()
    now = datetime.datetime.now(datetime.timezone.utc)
    await _put(client, cluster_info_secret(info))
    await _put(client, token_secret(token, ttl, description, now))
    return token


async def _put(client: rest.Client, obj: dict[str, Any]) -> None:
    meta = obj["metadata"]
    try:
        await client.create(SECRETS, obj, NAMESPACE)
    except errors.AlreadyExists:
        current = await client.get(SECRETS, meta["name"], NAMESPACE)
        obj = {**obj, "metadata": {**meta, "resourceVersion": current["metadata"]["resourceVersion"]}}
        await client.update(SECRETS, obj)


async def list_tokens(client: rest.Client) -> list[dict[str, str]]:
    items = (await client.list(SECRETS, NAMESPACE)).get("items") or []
    out = []
    for s in items:
        if s.get("type") != TOKEN_TYPE:
            continue
        data = s.get("data") or {}
        out.append({"id": _unb64(data, "token-id"), "expires": _unb64(data, "expiration") or "never",
                    "description": _unb64(data, "description")})
    return out


async def delete_token(client: rest.Client, token_id: str) -> None:
    await client.delete(SECRETS, TOKEN_PREFIX + token_id.split(".")[0], NAMESPACE)


async def discover(server: str, token: str) -> ClusterInfo:
    """Check `token` against the API server at `server` and return the cluster info."""
    token_id, _ = parse_token(token)
    async with rest.Client(server, timeout=10, user_agent="minik8s-join") as client:
        try:
            secret = await client.get(SECRETS, TOKEN_PREFIX + token_id, NAMESPACE)
        except errors.NotFound:
            raise BootstrapError(f"no bootstrap token {token_id} on {server} (expired and deleted, or never "
                                 "created: `minik8s token create` on the master)") from None
        except (errors.ServiceUnavailable, errors.Timeout) as e:
            raise BootstrapError(str(e)) from None
        check_token(secret, token, datetime.datetime.now(datetime.timezone.utc))
        try:
            info = await client.get(SECRETS, CLUSTER_INFO, NAMESPACE)
        except errors.NotFound:
            raise BootstrapError(f"{NAMESPACE}/{CLUSTER_INFO} is missing; `minik8s token create` writes it") from None
    data = info.get("data") or {}
    return ClusterInfo(server=_unb64(data, "server") or server, kubelet_token=_unb64(data, "kubelet-token"),
                       cluster_cidr=_unb64(data, "cluster-cidr"))


def join_command(server: str, token: str) -> str:
    return f"minik8s join {server} --token {token}"


def address_towards(server: str) -> str:
    """This machine's source address for traffic to `server`: the node IP to advertise.

    A VM with a NAT interface (the default route) and a private network (Vagrant)
    must advertise the address the master reaches it on, not the default route's.
    Connecting a UDP socket only selects the route; it sends nothing.
    """
    parts = urlsplit(server)
    host = parts.hostname or server
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect((host, parts.port or 6443))
        return str(s.getsockname()[0])
