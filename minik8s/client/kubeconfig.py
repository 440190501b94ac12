"""Reading and writing kubeconfig files, so minik8s and kubectl share one.

A context names a cluster (server URL, the CA that server's certificate must
chain to) and a user (a client certificate and key, or a bearer token). The
files minik8s writes embed every certificate and key (`*-data`), so each is one
self-contained file, and are written mode 0600 because they hold keys. Writing
merges a context into an existing file instead of replacing it.
"""
from __future__ import annotations

import base64
import binascii
import dataclasses
import os
import pathlib
import urllib.request
from typing import Any, Sequence

import yaml

from minik8s.client import tls

DEFAULT_PATH = pathlib.Path.home() / ".kube" / "config"


@dataclasses.dataclass(frozen=True)
class ClusterAccess:
    server: str
    token: str | None = None
    namespace: str = "default"
    context: str = ""
    ca: bytes | None = None
    cert: bytes | None = None
    key: bytes | None = None
    server_name: str | None = None
    # Every master's URL, when the cluster entry lists them (SERVERS_EXTENSION): our
    # components fail over between them; kubectl, which ignores the extension, uses `server`.
    servers: tuple[str, ...] = ()

    def tls(self) -> tls.TLSConfig:
        return tls.TLSConfig(ca=self.ca, cert=self.cert, key=self.key, server_name=self.server_name)


class KubeconfigError(Exception):
    pass


def default_paths() -> list[pathlib.Path]:
    env = os.environ.get("KUBECONFIG")
    if env:
        return [pathlib.Path(p) for p in env.split(os.pathsep) if p]
    return [DEFAULT_PATH]


def load(path: str | os.PathLike[str] | None = None, context: str | None = None) -> ClusterAccess:
    paths = [pathlib.Path(path)] if path else default_paths()
    merged: dict[str, Any] = {"clusters": [], "users": [], "contexts": [], "current-context": ""}
    found = False
    for p in paths:
        if not p.exists():
            continue
        found = True
        try:
            doc = yaml.safe_load(p.read_text()) or {}
        except yaml.YAMLError as e:
            raise KubeconfigError(f"{p}: not valid YAML: {e}") from None
        base = p.resolve().parent
        for key in ("clusters", "users", "contexts"):
            names = {e.get("name") for e in merged[key]}
            # Relative file references are relative to the file that holds them (as kubectl).
            merged[key] += [{**e, "_base": base} for e in doc.get(key) or [] if e.get("name") not in names]
        if not merged["current-context"]:
            merged["current-context"] = doc.get("current-context", "")
    if not found:
        raise KubeconfigError(f"no kubeconfig found at {', '.join(str(p) for p in paths)}; "
                              "run `minik8s up` or pass --server")
    ctx_name = context or merged["current-context"]
    ctx = _named(merged["contexts"], ctx_name, "context")["context"]
    cluster_entry = _named(merged["clusters"], ctx.get("cluster", ""), "cluster")
    cluster = cluster_entry["cluster"]
    user: dict[str, Any] = {}
    user_base = cluster_entry["_base"]
    if ctx.get("user"):
        try:
            user_entry = _named(merged["users"], ctx["user"], "user")
            user, user_base = user_entry.get("user") or {}, user_entry["_base"]
        except KubeconfigError:
            user = {}
    if cluster.get("insecure-skip-tls-verify"):
        raise KubeconfigError(f'cluster "{ctx.get("cluster")}": insecure-skip-tls-verify is not supported; '
                              "give certificate-authority-data")
    token = user.get("token")
    if not token and user.get("tokenFile"):
        token = _read(user_base, user["tokenFile"], "tokenFile").decode().strip()
    return ClusterAccess(
        server=cluster["server"].rstrip("/"), token=token, namespace=ctx.get("namespace") or "default",
        context=ctx_name,
        ca=_data(cluster, "certificate-authority", cluster_entry["_base"]),
        cert=_data(user, "client-certificate", user_base),
        key=_data(user, "client-key", user_base),
        server_name=cluster.get("tls-server-name") or None, servers=_servers(cluster))


SERVERS_EXTENSION = "minik8s.io/servers"


def _servers(cluster: dict[str, Any]) -> tuple[str, ...]:
    """The masters listed in the cluster's `minik8s.io/servers` extension ({servers: [url...]}),
    the `server` first if it is among them."""
    for ext in cluster.get("extensions") or []:
        if not isinstance(ext, dict) or ext.get("name") != SERVERS_EXTENSION:
            continue
        listed = (ext.get("extension") or {}).get("servers")
        if not isinstance(listed, list) or not all(isinstance(u, str) and u for u in listed):
            raise KubeconfigError(f"extension {SERVERS_EXTENSION}: servers must be a list of URLs")
        urls = [u.rstrip("/") for u in listed]
        first = str(cluster.get("server") or "").rstrip("/")
        return tuple(([first] if first in urls else []) + [u for u in urls if u != first])
    return ()


def _data(entry: dict[str, Any], field: str, base: pathlib.Path) -> bytes | None:
    """`<field>-data` (base64 PEM) or `<field>` (a file), as kubectl reads them."""
    inline = entry.get(f"{field}-data")
    if inline:
        try:
            return base64.b64decode(inline, validate=True)
        except (binascii.Error, ValueError):
            raise KubeconfigError(f"{field}-data is not valid base64") from None
    if entry.get(field):
        return _read(base, entry[field], field)
    return None


def _read(base: pathlib.Path, name: str, field: str) -> bytes:
    path = base / os.path.expanduser(name)
    try:
        return path.read_bytes()
    except OSError as e:
        raise KubeconfigError(f"{field} {path}: {e.strerror}") from None


def _named(entries: list[dict[str, Any]], name: str, what: str) -> dict[str, Any]:
    for e in entries:
        if e.get("name") == name:
            return e
    raise KubeconfigError(f'{what} "{name}" not found in kubeconfig')


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def write_context(path: str | os.PathLike[str], name: str, server: str, *, token: str | None = None,
                  namespace: str | None = None, make_current: bool = True, ca: bytes | None = None,
                  cert: bytes | None = None, key: bytes | None = None,
                  user: str | None = None, servers: Sequence[str] = ()) -> pathlib.Path:
    """Add or replace context/cluster `name` and its user in the file at `path` (created if missing).

    The user entry is named `user` (default: `name`), so one file can hold several
    identities for the same cluster.
    """
    p = pathlib.Path(path)
    doc: dict[str, Any] = {}
    if p.exists():
        doc = yaml.safe_load(p.read_text()) or {}
    doc.setdefault("apiVersion", "v1")
    doc.setdefault("kind", "Config")
    doc.setdefault("preferences", {})
    user_name = user or name

    def upsert(key: str, entry: dict[str, Any]) -> None:
        entries = [e for e in doc.get(key) or [] if e.get("name") != entry["name"]]
        entries.append(entry)
        doc[key] = entries

    cluster: dict[str, Any] = {"server": server}
    if len(servers) > 1:
        cluster["extensions"] = [{"name": SERVERS_EXTENSION, "extension": {"servers": list(servers)}}]
    if ca is not None:
        cluster["certificate-authority-data"] = _b64(ca)
    credentials: dict[str, Any] = {}
    if cert is not None and key is not None:
        credentials["client-certificate-data"] = _b64(cert)
        credentials["client-key-data"] = _b64(key)
    if token:
        credentials["token"] = token
    upsert("clusters", {"name": name, "cluster": cluster})
    upsert("users", {"name": user_name, "user": credentials})
    ctx: dict[str, Any] = {"cluster": name, "user": user_name}
    if namespace:
        ctx["namespace"] = namespace
    upsert("contexts", {"name": name, "context": ctx})
    if make_current or not doc.get("current-context"):
        doc["current-context"] = name
    save(p, doc)
    return p


def save(path: str | os.PathLike[str], doc: dict[str, Any]) -> pathlib.Path:
    """Write a kubeconfig document atomically, readable by its owner only (it holds keys)."""
    p = pathlib.Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(f".{p.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(yaml.safe_dump(doc, sort_keys=False))
    os.replace(tmp, p)
    return p


def urllib_opener(path: str | os.PathLike[str], context: str | None = None) -> urllib.request.OpenerDirector:
    """A synchronous opener with the kubeconfig's CA and client certificate, for the few
    blocking checks (readiness, node status) of the cluster tools. Never through a proxy:
    these talk to the cluster's own addresses."""
    access = load(path, context)
    return urllib.request.build_opener(urllib.request.ProxyHandler({}),
                                       urllib.request.HTTPSHandler(context=tls.client_context(access.tls())))
