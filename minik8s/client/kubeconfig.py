"""Reading and writing kubeconfig files, so minik8s and kubectl share one.

Only what minik8s uses: a context names a cluster (server URL) and a user (an
optional bearer token). Writing merges a context into an existing file instead
of replacing it.
"""
from __future__ import annotations

import dataclasses
import os
import pathlib
from typing import Any

import yaml

DEFAULT_PATH = pathlib.Path.home() / ".kube" / "config"


@dataclasses.dataclass(frozen=True)
class ClusterAccess:
    server: str
    token: str | None = None
    namespace: str = "default"
    context: str = ""


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
        for key in ("clusters", "users", "contexts"):
            names = {e.get("name") for e in merged[key]}
            merged[key] += [e for e in doc.get(key) or [] if e.get("name") not in names]
        if not merged["current-context"]:
            merged["current-context"] = doc.get("current-context", "")
    if not found:
        raise KubeconfigError(f"no kubeconfig found at {', '.join(str(p) for p in paths)}; "
                              "run `minik8s up` or pass --server")
    ctx_name = context or merged["current-context"]
    ctx = _named(merged["contexts"], ctx_name, "context")["context"]
    cluster = _named(merged["clusters"], ctx.get("cluster", ""), "cluster")["cluster"]
    user: dict[str, Any] = {}
    if ctx.get("user"):
        try:
            user = _named(merged["users"], ctx["user"], "user").get("user") or {}
        except KubeconfigError:
            user = {}
    return ClusterAccess(server=cluster["server"].rstrip("/"), token=user.get("token"),
                         namespace=ctx.get("namespace") or "default", context=ctx_name)


def _named(entries: list[dict[str, Any]], name: str, what: str) -> dict[str, Any]:
    for e in entries:
        if e.get("name") == name:
            return e
    raise KubeconfigError(f'{what} "{name}" not found in kubeconfig')


def write_context(path: str | os.PathLike[str], name: str, server: str, *, token: str | None = None,
                  namespace: str | None = None, make_current: bool = True) -> pathlib.Path:
    """Add or replace context/cluster/user `name` in the file at `path` (created if missing)."""
    p = pathlib.Path(path)
    doc: dict[str, Any] = {}
    if p.exists():
        doc = yaml.safe_load(p.read_text()) or {}
    doc.setdefault("apiVersion", "v1")
    doc.setdefault("kind", "Config")
    doc.setdefault("preferences", {})

    def upsert(key: str, entry: dict[str, Any]) -> None:
        entries = [e for e in doc.get(key) or [] if e.get("name") != name]
        entries.append(entry)
        doc[key] = entries

    upsert("clusters", {"name": name, "cluster": {"server": server}})
    upsert("users", {"name": name, "user": {"token": token} if token else {}})
    ctx: dict[str, Any] = {"cluster": name, "user": name}
    if namespace:
        ctx["namespace"] = namespace
    upsert("contexts", {"name": name, "context": ctx})
    if make_current or not doc.get("current-context"):
        doc["current-context"] = name
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_suffix(p.suffix + ".tmp")
    tmp.write_text(yaml.safe_dump(doc, sort_keys=False))
    os.chmod(tmp, 0o600)
    tmp.replace(p)
    return p
