"""Pod volumes on the node's filesystem (the kubelet's volume plugins).

Every volume is a directory under the pod's dir, as in Kubernetes
(`<root>/pods/<uid>/volumes/<plugin>/<name>`), bind-mounted into containers:

- `emptyDir` (kubernetes.io~empty-dir): lives as long as the pod on this node;
  `medium: Memory` is a tmpfs, sized by `sizeLimit`;
- `hostPath`: the node's path, checked against its `type` first
  (DirectoryOrCreate and FileOrCreate create it);
- `configMap` (kubernetes.io~configmap), `secret` (kubernetes.io~secret),
  `downwardAPI` (kubernetes.io~downward-api) and `projected`
  (kubernetes.io~projected: configMap, secret, downwardAPI and
  serviceAccountToken sources): the object's keys (or `items`) as files with
  `defaultMode`/per-item modes, written by the AtomicWriter so an update
  appears at once. A missing object or key is an error (the pod waits in
  ContainerCreating with a FailedMount event) unless `optional`. Secret,
  downwardAPI and projected volumes are tmpfs-backed, as upstream's.

`prepare` runs on every pod sync: unchanged contents write nothing, and a
changed ConfigMap or Secret (its watch wakes the pod) is published within
seconds. Reading the objects is async (ObjectSource, TokenSource); the
filesystem work runs in a thread.
"""
from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import os
import shutil
import stat
from typing import Any

from minik8s.api import quantity
from minik8s.kubelet import atomic_writer
from minik8s.kubelet import downward
from minik8s.kubelet import mount as mount_mod
from minik8s.kubelet import objects as objects_mod
from minik8s.kubelet import runtime

log = logging.getLogger(__name__)

Obj = dict[str, Any]
Payload = dict[str, atomic_writer.FileProjection]

EMPTY_DIR = "kubernetes.io~empty-dir"
CONFIG_MAP = "kubernetes.io~configmap"
SECRET = "kubernetes.io~secret"
DOWNWARD_API = "kubernetes.io~downward-api"
PROJECTED = "kubernetes.io~projected"
DEFAULT_MODE = 0o644
# Sources this kubelet can set up; anything else (PVCs, cloud disks) is refused with FailedMount.
SUPPORTED = ("emptyDir", "hostPath", "configMap", "secret", "downwardAPI", "projected")


class MountError(runtime.RuntimeFailure):
    """A volume could not be set up; the pod waits in ContainerCreating (event FailedMount)."""

    def __init__(self, volume: str, message: str) -> None:
        super().__init__("ContainerCreating", f'MountVolume.SetUp failed for volume "{volume}" : {message}')
        self.volume = volume


def _mode(value: Any, default: int) -> int:
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else default


def _bytes(kind: str, value: Any) -> bytes:
    if kind == "secret":
        try:
            return base64.b64decode(str(value))
        except (binascii.Error, ValueError):
            return b""
    return str(value).encode()


def object_payload(kind: str, obj: Obj | None, items: list[Obj] | None, default_mode: int,
                   optional: bool, name: str) -> Payload:
    """MakePayload of the configMap/secret volume plugins: every key, or the listed items."""
    word = "configmap" if kind == objects_mod.CONFIGMAP else "secret"
    if obj is None:
        if optional:
            return {}
        raise ValueError(f'{word} "{name}" not found')
    values: dict[str, bytes] = {k: _bytes(kind, v) for k, v in (obj.get("data") or {}).items()}
    if kind == objects_mod.CONFIGMAP:
        for k, v in (obj.get("binaryData") or {}).items():
            values[k] = _bytes("secret", v)
    payload: Payload = {}
    if not items:
        for key, data in values.items():
            payload[key] = atomic_writer.FileProjection(data, default_mode)
        return payload
    for item in items:
        key = str(item.get("key") or "")
        if key not in values:
            if optional:
                continue
            what = "configmap references non-existent config key" if word == "configmap" else \
                "secret references non-existent secret key"
            raise ValueError(f"{what}: {key}")
        payload[os.path.normpath(str(item.get("path") or key))] = \
            atomic_writer.FileProjection(values[key], _mode(item.get("mode"), default_mode))
    return payload


def downward_payload(pod: Obj, items: list[Obj] | None, default_mode: int, facts: downward.PodFacts) -> Payload:
    """CollectData of the downwardAPI plugin."""
    payload: Payload = {}
    for item in items or []:
        path = os.path.normpath(str(item.get("path") or ""))
        mode = _mode(item.get("mode"), default_mode)
        if item.get("fieldRef"):
            value = downward.field_value(pod, str(item["fieldRef"].get("fieldPath") or ""), facts, whole_maps=True)
        elif item.get("resourceFieldRef"):
            ref = item["resourceFieldRef"]
            container = downward.container_named(pod, str(ref.get("containerName") or ""))
            value = downward.resource_value(container, ref, facts)
        else:
            continue
        payload[path] = atomic_writer.FileProjection(value.encode(), mode)
    return payload


def _size_limit(source: Obj) -> int | None:
    limit = source.get("sizeLimit")
    if limit in (None, "", 0):
        return None
    try:
        return quantity.to_bytes(limit)
    except ValueError:
        return None


class VolumeManager:
    def __init__(self, root_dir: str, *, objects: objects_mod.ObjectSource | None = None,
                 tokens: objects_mod.TokenSource | None = None, mounter: mount_mod.Mounter | None = None) -> None:
        self.root_dir = root_dir
        self.objects = objects or objects_mod.StaticObjectSource()
        self.tokens = tokens
        self.mounter = mounter
        self._tmpfs_warned = False

    def pods_dir(self) -> str:
        return os.path.join(self.root_dir, "pods")

    def pod_dir(self, uid: str) -> str:
        return os.path.join(self.pods_dir(), uid)

    def volume_dir(self, uid: str, plugin: str, name: str) -> str:
        return os.path.join(self.pod_dir(uid), "volumes", plugin, name)

    # -- collecting what to write (async: objects and tokens) ------------------------------------

    async def _object(self, volume: str, kind: str, namespace: str, name: str) -> Obj | None:
        try:
            return await self.objects.get(kind, namespace, name)
        except objects_mod.ObjectUnavailable as e:
            word = "configmap" if kind == objects_mod.CONFIGMAP else "secret"
            raise MountError(volume, f"couldn't get {word} {namespace}/{name}: {e}") from None

    async def _projected(self, pod: Obj, volume: str, source: Obj, facts: downward.PodFacts) -> Payload:
        namespace = pod["metadata"].get("namespace") or "default"
        default_mode = _mode(source.get("defaultMode"), DEFAULT_MODE)
        payload: Payload = {}
        for part in source.get("sources") or []:
            try:
                if part.get("configMap") is not None:
                    ref = part["configMap"]
                    obj = await self._object(volume, objects_mod.CONFIGMAP, namespace, str(ref.get("name") or ""))
                    payload.update(object_payload(objects_mod.CONFIGMAP, obj, ref.get("items"), default_mode,
                                                  bool(ref.get("optional")), str(ref.get("name") or "")))
                elif part.get("secret") is not None:
                    ref = part["secret"]
                    obj = await self._object(volume, objects_mod.SECRET, namespace, str(ref.get("name") or ""))
                    payload.update(object_payload(objects_mod.SECRET, obj, ref.get("items"), default_mode,
                                                  bool(ref.get("optional")), str(ref.get("name") or "")))
                elif part.get("downwardAPI") is not None:
                    payload.update(downward_payload(pod, part["downwardAPI"].get("items"), default_mode, facts))
                elif part.get("serviceAccountToken") is not None:
                    token = part["serviceAccountToken"]
                    payload[os.path.normpath(str(token.get("path") or "token"))] = atomic_writer.FileProjection(
                        (await self._token(pod, token)).encode(), default_mode)
            except (ValueError, downward.DownwardError) as e:
                raise MountError(volume, str(e)) from None
        return payload

    async def _token(self, pod: Obj, source: Obj) -> str:
        # The seam for service account tokens (TokenRequest); see objects.ApiTokenSource.
        if self.tokens is None:
            raise ValueError("no service account token source: the API server does not serve TokenRequest")
        account = (pod.get("spec") or {}).get("serviceAccountName") or "default"
        try:
            return await self.tokens.token(pod, str(account), str(source.get("audience") or ""),
                                           int(source.get("expirationSeconds") or 3600))
        except objects_mod.ObjectUnavailable as e:
            raise ValueError(str(e)) from None

    async def _plan(self, pod: Obj, facts: downward.PodFacts) -> list[tuple[str, str, Obj, Payload | None]]:
        """(name, kind, source, payload for the writer-backed kinds) for each volume."""
        namespace = pod["metadata"].get("namespace") or "default"
        plan: list[tuple[str, str, Obj, Payload | None]] = []
        for vol in (pod.get("spec") or {}).get("volumes") or []:
            name = str(vol.get("name") or "")
            kind = next((k for k in SUPPORTED if vol.get(k) is not None), None)
            if kind is None:
                kinds = [k for k in vol if k != "name"]
                raise MountError(name, f"volume type {kinds[0] if kinds else '?'} is not supported by minik8s")
            source = vol[kind]
            payload: Payload | None = None
            try:
                if kind == "configMap":
                    obj = await self._object(name, objects_mod.CONFIGMAP, namespace, str(source.get("name") or ""))
                    payload = object_payload(objects_mod.CONFIGMAP, obj, source.get("items"),
                                             _mode(source.get("defaultMode"), DEFAULT_MODE),
                                             bool(source.get("optional")), str(source.get("name") or ""))
                elif kind == "secret":
                    obj = await self._object(name, objects_mod.SECRET, namespace,
                                             str(source.get("secretName") or ""))
                    payload = object_payload(objects_mod.SECRET, obj, source.get("items"),
                                             _mode(source.get("defaultMode"), DEFAULT_MODE),
                                             bool(source.get("optional")), str(source.get("secretName") or ""))
                elif kind == "downwardAPI":
                    payload = downward_payload(pod, source.get("items"),
                                               _mode(source.get("defaultMode"), DEFAULT_MODE), facts)
                elif kind == "projected":
                    payload = await self._projected(pod, name, source, facts)
            except (ValueError, downward.DownwardError) as e:
                raise MountError(name, str(e)) from None
            plan.append((name, kind, source, payload))
        return plan

    async def prepare(self, pod: Obj, facts: downward.PodFacts | None = None) -> dict[str, str]:
        """Set up (or refresh) the pod's volumes; return volume name -> host path."""
        if not (pod.get("spec") or {}).get("volumes"):
            return {}
        facts = facts or downward.PodFacts("", "", "")
        plan = await self._plan(pod, facts)
        return await asyncio.to_thread(self._apply, pod["metadata"]["uid"], plan)

    # -- the filesystem (in a thread) ------------------------------------------------------------

    def _tmpfs(self, path: str, size: int | None) -> None:
        """Back `path` with a tmpfs (once); without a mounter (or the right to mount), a directory."""
        if self.mounter is None:
            return
        try:
            if not self.mounter.is_mounted(path):
                self.mounter.mount_tmpfs(path, size)
        except OSError as e:
            if not self._tmpfs_warned:
                log.warning("tmpfs volumes are plain directories on this node: %s", e)
                self._tmpfs_warned = True

    def _apply(self, uid: str, plan: list[tuple[str, str, Obj, Payload | None]]) -> dict[str, str]:
        paths: dict[str, str] = {}
        for name, kind, source, payload in plan:
            if kind == "hostPath":
                paths[name] = check_host_path(name, source)
                continue
            plugin = {"emptyDir": EMPTY_DIR, "configMap": CONFIG_MAP, "secret": SECRET,
                      "downwardAPI": DOWNWARD_API, "projected": PROJECTED}[kind]
            path = self.volume_dir(uid, plugin, name)
            fresh = not os.path.isdir(path)
            os.makedirs(path, exist_ok=True)
            if kind == "emptyDir":
                if source.get("medium") == "Memory":
                    self._tmpfs(path, _size_limit(source))
                # World-writable as in Kubernetes: containers may run as any user.
                os.chmod(path, 0o777)
            else:
                if kind != "configMap" and fresh:
                    self._tmpfs(path, None)
                if fresh:
                    os.chmod(path, 0o755)
                assert payload is not None
                try:
                    if atomic_writer.AtomicWriter(path, log_context=f"pod {uid} volume {name}").write(payload) \
                            and not fresh:
                        log.info("pod %s: volume %s updated", uid, name)
                except atomic_writer.PayloadError as e:
                    raise MountError(name, str(e)) from None
            paths[name] = path
        return paths

    def ensure_sub_paths(self, mounts: list[runtime.Mount], volume_paths: dict[str, str]) -> list[runtime.Mount]:
        """A subPath that does not exist yet becomes a directory, as the kubelet does;
        one that resolves (through symlinks) outside its volume is refused."""
        out = []
        roots = [os.path.realpath(p) for p in volume_paths.values()]
        for m in mounts:
            root = next((r for p, r in zip(volume_paths.values(), roots) if m.host_path.startswith(p + "/")), None)
            if root is None:
                out.append(m)
                continue
            if not os.path.lexists(m.host_path):
                os.makedirs(m.host_path, mode=0o777, exist_ok=True)
            real = os.path.realpath(m.host_path)
            if not (real == root or real.startswith(root + "/")):
                raise MountError("", f"subpath {m.host_path!r} resolves outside its volume")
            out.append(runtime.Mount(real, m.container_path, m.read_only))
        return out

    def empty_dir_overuse(self, pod: Obj) -> str | None:
        """Why the pod must be evicted: a disk-backed emptyDir past its sizeLimit (the
        eviction manager's localStorageEviction); None when all are within bounds."""
        uid = pod["metadata"]["uid"]
        for vol in (pod.get("spec") or {}).get("volumes") or []:
            source = vol.get("emptyDir")
            if source is None or source.get("medium") == "Memory":
                continue  # a tmpfs cannot outgrow its size
            limit = _size_limit(source)
            if limit is None:
                continue
            used = disk_usage(self.volume_dir(uid, EMPTY_DIR, str(vol.get("name") or "")))
            if used > limit:
                return f'Usage of EmptyDir volume "{vol.get("name")}" exceeds the limit "{source.get("sizeLimit")}". '
        return None

    def cleanup(self, uid: str) -> None:
        path = self.pod_dir(uid)
        if os.path.isdir(path):
            if self.mounter is not None:
                try:
                    self.mounter.unmount_under(path)
                except OSError as e:
                    log.warning("pod %s: unmounting its volumes failed: %s", uid, e)
            shutil.rmtree(path, ignore_errors=True)
            log.info("removed volumes of pod %s", uid)

    def known_pod_dirs(self) -> list[str]:
        try:
            return [d for d in os.listdir(self.pods_dir()) if os.path.isdir(os.path.join(self.pods_dir(), d))]
        except FileNotFoundError:
            return []


def disk_usage(path: str) -> int:
    """Bytes the files under `path` occupy on disk (what `du` counts)."""
    total = 0
    for root, _dirs, names in os.walk(path):
        for name in names:
            try:
                total += os.lstat(os.path.join(root, name)).st_blocks * 512
            except OSError:
                continue
    return total


def check_host_path(volume: str, spec: Obj) -> str:
    """Kubernetes' hostPath type checks, creating the path for the *OrCreate types."""
    path = str(spec.get("path", ""))
    kind = spec.get("type") or ""
    if kind == "DirectoryOrCreate":
        os.makedirs(path, mode=0o755, exist_ok=True)
    elif kind == "FileOrCreate":
        if not os.path.exists(path):
            os.makedirs(os.path.dirname(path) or "/", exist_ok=True)
            with open(path, "a", encoding="utf-8"):
                pass
            os.chmod(path, 0o644)
    checks = {
        "Directory": (stat.S_ISDIR, "is not a directory"),
        "DirectoryOrCreate": (stat.S_ISDIR, "is not a directory"),
        "File": (stat.S_ISREG, "is not a file"),
        "FileOrCreate": (stat.S_ISREG, "is not a file"),
        "Socket": (stat.S_ISSOCK, "is not a socket file"),
        "CharDevice": (stat.S_ISCHR, "is not a character device"),
        "BlockDevice": (stat.S_ISBLK, "is not a block device"),
    }
    if kind in checks:
        test, what = checks[kind]
        try:
            mode = os.stat(path).st_mode
        except FileNotFoundError:
            raise MountError(volume, f"hostPath type check failed: {path} {what}") from None
        if not test(mode):
            raise MountError(volume, f"hostPath type check failed: {path} {what}")
    return path
