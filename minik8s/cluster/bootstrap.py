"""Bootstrap tokens on the master: what `minik8s token create/list/delete` write and read.

As kubeadm: `minik8s token create` stores a token as a Secret
`kube-system/bootstrap-token-<id>` of type `bootstrap.kubernetes.io/token` (its
expiry, usable to authenticate and to sign), publishes `kube-public/cluster-info`
(a kubeconfig with only the API server's URL and the cluster CA; the controller
manager signs it with each token) and prints the exact `minik8s join` command: the
token and the CA's hash (sha256 of its SubjectPublicKeyInfo). Beside it the Secret
`kube-system/minik8s-cluster-info` carries what a node's config needs and is not
public: the server URL and the cluster CIDR.

How a node uses all this is minik8s.cluster.join.
"""
from __future__ import annotations

import base64
import dataclasses
import datetime
import re
import secrets
import socket
import string
from typing import Any
from urllib.parse import urlsplit

import yaml

from minik8s.api import bootstraptoken
from minik8s.api import errors
from minik8s.api import resources
from minik8s.api import rfc3339
from minik8s.client import rest

SECRETS = resources.must("", "v1", "secrets")
CONFIGMAPS = resources.must("", "v1", "configmaps")

NAMESPACE = bootstraptoken.NAMESPACE
TOKEN_TYPE = bootstraptoken.SECRET_TYPE
TOKEN_PREFIX = bootstraptoken.SECRET_PREFIX
CLUSTER_INFO = "minik8s-cluster-info"
_ALPHABET = string.ascii_lowercase + string.digits


class BootstrapError(Exception):
    """The token or the cluster info is missing, wrong or expired; the message says which."""


@dataclasses.dataclass(frozen=True)
class ClusterInfo:
    server: str
    cluster_cidr: str


def generate_token() -> str:
    def pick(n: int) -> str:
        return "".join(secrets.choice(_ALPHABET) for _ in range(n))
    return f"{pick(6)}.{pick(16)}"


def parse_token(token: str) -> tuple[str, str]:
    parsed = bootstraptoken.parse(token)
    if parsed is None:
        raise BootstrapError(f"token {token!r} is not of the form [a-z0-9]{{6}}.[a-z0-9]{{16}}")
    return parsed


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


def token_secret(token: str, ttl: int, description: str, now: datetime.datetime) -> dict[str, Any]:
    token_id, token_secret_ = parse_token(token)
    data = {
        "token-id": token_id,
        "token-secret": token_secret_,
        bootstraptoken.USAGE_AUTHENTICATION: "true",
        bootstraptoken.USAGE_SIGNING: "true",
        "description": description,
    }
    if ttl > 0:
        data[bootstraptoken.EXPIRATION] = rfc3339.format(now + datetime.timedelta(seconds=ttl))
    return {
        "apiVersion": "v1", "kind": "Secret", "type": TOKEN_TYPE,
        "metadata": {"name": TOKEN_PREFIX + token_id, "namespace": NAMESPACE},
        "data": {k: _b64(v) for k, v in data.items()},
    }


def cluster_info_secret(info: ClusterInfo) -> dict[str, Any]:
    return {
        "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
        "metadata": {"name": CLUSTER_INFO, "namespace": NAMESPACE},
        "data": {"server": _b64(info.server), "cluster-cidr": _b64(info.cluster_cidr)},
    }


def public_kubeconfig(server: str, ca_pem: bytes) -> str:
    """cluster-info's `kubeconfig`: where the API server is and its CA, nothing secret (as kubeadm)."""
    return yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "preferences": {},
        "clusters": [{"name": "", "cluster": {"server": server,
                                              "certificate-authority-data": base64.b64encode(ca_pem).decode()}}],
        "contexts": [], "current-context": "", "users": []}, sort_keys=False)


async def publish_cluster_info(client: rest.Client, server: str, ca_pem: bytes) -> None:
    """kube-public/cluster-info with this kubeconfig; the signatures of a changed kubeconfig are
    dropped (the controller manager signs it again)."""
    content = public_kubeconfig(server, ca_pem)
    current = await client.get_or_none(CONFIGMAPS, bootstraptoken.CLUSTER_INFO, bootstraptoken.CLUSTER_INFO_NAMESPACE)
    if current is None:
        try:
            await client.create(CONFIGMAPS, {
                "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": bootstraptoken.CLUSTER_INFO,
                             "namespace": bootstraptoken.CLUSTER_INFO_NAMESPACE},
                "data": {"kubeconfig": content}}, bootstraptoken.CLUSTER_INFO_NAMESPACE)
            return
        except errors.AlreadyExists:
            current = await client.get(CONFIGMAPS, bootstraptoken.CLUSTER_INFO, bootstraptoken.CLUSTER_INFO_NAMESPACE)
    if (current.get("data") or {}).get("kubeconfig") == content:
        return
    await client.update(CONFIGMAPS, {**current, "data": {"kubeconfig": content}})


async def create_token(client: rest.Client, info: ClusterInfo, ca_pem: bytes, *, token: str | None = None,
                       ttl: int = 86400, description: str = "minik8s join") -> str:
    """Store the cluster info, cluster-info and a new token (or `token`, replacing one with its id); the token."""
    token = token or generate_token()
    now = datetime.datetime.now(datetime.timezone.utc)
    await _put(client, cluster_info_secret(info))
    await publish_cluster_info(client, info.server, ca_pem)
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
        out.append({"id": bootstraptoken.field(s, "token-id"),
                    "expires": bootstraptoken.field(s, bootstraptoken.EXPIRATION) or "never",
                    "description": bootstraptoken.field(s, "description")})
    return out


async def delete_token(client: rest.Client, token_id: str) -> None:
    await client.delete(SECRETS, TOKEN_PREFIX + token_id.split(".")[0], NAMESPACE)


def join_command(server: str, token: str, ca_hash: str) -> str:
    return f"minik8s join {server} --token {token} --discovery-token-ca-cert-hash {ca_hash}"


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
