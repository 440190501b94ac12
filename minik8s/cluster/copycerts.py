"""The control-plane certificates a new master needs, handed over through the API, encrypted.

As kubeadm's `init phase upload-certs` / `join --control-plane --certificate-key`
(cmd/kubeadm/app/phases/copycerts): every master must hold the same cluster CA (its key
signs the serving and component certificates each master issues itself), the same
ServiceAccount key pair (so every API server accepts every token) and the same etcd CA
(only what it signs may join the etcd cluster or use its TLS client port). A new master
gets them from Secret `kube-system/minik8s-certs`:

- each value is one file, encrypted with AES-256-GCM under a random 32-byte *certificate
  key* (a fresh 12-byte nonce before the ciphertext; the file's name is the associated
  data, so a value cannot be moved under another name). The key is printed once, as hex,
  and never stored on the server: reading the Secret without it yields nothing usable.
- a bootstrap token may read that one Secret (Role/RoleBinding `minik8s:minik8s-certs`,
  kubeadm's `kubeadm:kubeadm-certs`, in minik8s/apiserver/authz/bootstrap.py), which is
  how a joining master, holding only a token, reaches it.
- the Secret is owned (ownerReference) by a bootstrap token Secret of its own whose only
  purpose is its expiry (2 hours by default): when the tokencleaner deletes that token,
  it deletes the Secret it owns (minik8s/controllers/bootstrap.py), so uploaded
  certificates do not outlive their window.

`cluster.yaml` travels the same way: the settings every master must share (service and
pod CIDRs, ports, DNS), which the joining master renders its configs with.
"""
from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime
import os
import pathlib
import secrets
from collections.abc import Mapping
from typing import Any

import yaml
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from minik8s.api import bootstraptoken
from minik8s.api import errors
from minik8s.api import rfc3339
from minik8s.client import rest
from minik8s.cluster import bootstrap
from minik8s.cluster import pki as cluster_pki
from minik8s.util import pki

SECRET_NAME = "minik8s-certs"
NAMESPACE = bootstraptoken.NAMESPACE
KEY_BYTES = 32
NONCE_BYTES = 12
DEFAULT_TTL = 2 * 3600
CLUSTER_FILE = "cluster.yaml"
TTL_TOKEN_DESCRIPTION = f"Proxy for managing TTL for the {NAMESPACE}/{SECRET_NAME} Secret"

# pki/<file> → private (mode 0600): what every master shares, as `cluster up --masters`
# copies into each master (minik8s.cluster.pki.ensure_master_member).
SHARED_FILES: dict[str, bool] = {
    "ca.crt": False,
    "ca.key": True,
    "sa.key": True,
    "sa.pub": False,
    cluster_pki.ETCD_CA_CRT: False,
    cluster_pki.ETCD_CA_KEY: True,
}


class CertsError(Exception):
    """The certificates cannot be uploaded, found or decrypted; the message says which."""


def new_key() -> str:
    """A fresh certificate key, hex (64 characters)."""
    return secrets.token_hex(KEY_BYTES)


def parse_key(text: str) -> bytes:
    try:
        key = bytes.fromhex(text.strip())
    except ValueError:
        key = b""
    if len(key) != KEY_BYTES:
        raise CertsError(f"the certificate key must be {KEY_BYTES * 2} hex digits ({KEY_BYTES} bytes), "
                         "as `minik8s certs upload` prints it")
    return key


def encrypt(key: bytes, name: str, plaintext: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, name.encode())


def decrypt(key: bytes, name: str, blob: bytes) -> bytes:
    if len(blob) <= NONCE_BYTES:
        raise CertsError(f"{NAMESPACE}/{SECRET_NAME}: {name} is too short to be encrypted data")
    try:
        return AESGCM(key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], name.encode())
    except InvalidTag:
        raise CertsError(f"the certificate key does not decrypt {NAMESPACE}/{SECRET_NAME} (a wrong "
                         "--certificate-key, or the certificates were uploaded again with another key)") from None


@dataclasses.dataclass(frozen=True)
class ClusterSettings:
    """What every master renders identically (the first master's `minik8s init` options)."""

    api_port: int
    service_cidr: str
    cluster_cidr: str
    node_cidr_mask_size: int
    cluster_domain: str
    dns_service_ip: str
    etcd_client_port: int
    etcd_peer_port: int

    def to_yaml(self) -> bytes:
        return yaml.safe_dump(dataclasses.asdict(self), sort_keys=True).encode()

    @classmethod
    def from_yaml(cls, data: bytes) -> ClusterSettings:
        try:
            doc = yaml.safe_load(data) or {}
            return cls(**{f.name: doc[f.name] for f in dataclasses.fields(cls)})
        except (yaml.YAMLError, KeyError, TypeError) as e:
            raise CertsError(f"{SECRET_NAME}'s {CLUSTER_FILE} is unreadable: {e}") from None


def read_shared(config_dir: str | pathlib.Path) -> dict[str, bytes]:
    """The shared files of a master's pki/."""
    d = cluster_pki.paths(config_dir).pki
    out = {}
    for name in SHARED_FILES:
        try:
            out[name] = (d / name).read_bytes()
        except OSError as e:
            raise CertsError(f"cannot read {d / name}: {e.strerror} (run this on a master, after `minik8s init`)") \
                from None
    return out


def write_shared(config_dir: str | pathlib.Path, files: Mapping[str, bytes]) -> list[pathlib.Path]:
    d = cluster_pki.paths(config_dir).pki
    written = []
    for name, private in SHARED_FILES.items():
        written.append((pki.write_private if private else pki.write_public)(d / name, files[name]))
    return written


def certs_secret(files: Mapping[str, bytes], key: bytes, owner: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Secret kube-system/minik8s-certs: each file encrypted; owned by the TTL token's Secret."""
    meta: dict[str, Any] = {"name": SECRET_NAME, "namespace": NAMESPACE}
    if owner is not None:
        meta["ownerReferences"] = [{"apiVersion": "v1", "kind": "Secret", "name": owner["metadata"]["name"],
                                    "uid": owner["metadata"]["uid"]}]
    return {"apiVersion": "v1", "kind": "Secret", "type": "Opaque", "metadata": meta,
            "data": {name: base64.b64encode(encrypt(key, name, data)).decode() for name, data in files.items()}}


def open_secret(secret: Mapping[str, Any], key: bytes) -> dict[str, bytes]:
    """The files of a minik8s-certs Secret, decrypted (all of them, or a CertsError)."""
    data = secret.get("data") or {}
    out = {}
    for name, value in data.items():
        try:
            blob = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError, TypeError):
            raise CertsError(f"{NAMESPACE}/{SECRET_NAME}: {name} is not base64") from None
        out[str(name)] = decrypt(key, str(name), blob)
    missing = [n for n in (*SHARED_FILES, CLUSTER_FILE) if n not in out]
    if missing:
        raise CertsError(f"{NAMESPACE}/{SECRET_NAME} lacks {', '.join(missing)}")
    return out


def ttl_token_secret(ttl: int, now: datetime.datetime) -> dict[str, Any]:
    """A bootstrap token Secret that can neither authenticate nor sign: it exists for its expiry."""
    token_id, token_secret = bootstrap.parse_token(bootstrap.generate_token())
    data = {"token-id": token_id, "token-secret": token_secret, "description": TTL_TOKEN_DESCRIPTION,
            bootstraptoken.EXPIRATION: rfc3339.format(now + datetime.timedelta(seconds=ttl))}
    return {"apiVersion": "v1", "kind": "Secret", "type": bootstraptoken.SECRET_TYPE,
            "metadata": {"name": bootstraptoken.secret_name(token_id), "namespace": NAMESPACE},
            "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}}


async def upload(client: rest.Client, files: Mapping[str, bytes], key: bytes, *, ttl: int = DEFAULT_TTL) -> None:
    """Store `files` encrypted under `key`, replacing an earlier upload, for `ttl` seconds."""
    if ttl <= 0:
        raise CertsError("the certificates' ttl must be positive: they must not stay on the server")
    owner = await client.create(bootstrap.SECRETS, ttl_token_secret(ttl, datetime.datetime.now(datetime.timezone.utc)),
                                NAMESPACE)
    obj = certs_secret(files, key, owner)
    try:
        await client.create(bootstrap.SECRETS, obj, NAMESPACE)
    except errors.AlreadyExists:
        current = await client.get(bootstrap.SECRETS, SECRET_NAME, NAMESPACE)
        obj["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
        await client.update(bootstrap.SECRETS, obj)


async def download(client: rest.Client, key: bytes) -> dict[str, bytes]:
    try:
        secret = await client.get(bootstrap.SECRETS, SECRET_NAME, NAMESPACE)
    except errors.NotFound:
        raise CertsError(f"{NAMESPACE}/{SECRET_NAME} does not exist: it expired or was never uploaded "
                         "(`minik8s certs upload` on a master prints a new certificate key)") from None
    except errors.Forbidden as e:
        raise CertsError(f"the token may not read {NAMESPACE}/{SECRET_NAME}: {e}") from None
    return open_secret(secret, key)
