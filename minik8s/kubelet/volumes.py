"""Pod volumes on the node's filesystem: emptyDir and hostPath.

An emptyDir is a directory under the kubelet's root dir, per pod uid, as in
Kubernetes (`<root>/pods/<uid>/volumes/kubernetes.io~empty-dir/<name>`): it
lives as long as the pod does on this node, survives container restarts and a
kubelet restart, and goes when the pod goes. A hostPath is the node's own path,
checked against its `type` first. Every container then bind-mounts these.

Functions here block (filesystem calls); the kubelet runs them in a thread.
"""
from __future__ import annotations

import logging
import os
import shutil
import stat
from typing import Any

from minik8s.kubelet import runtime

log = logging.getLogger(__name__)

Obj = dict[str, Any]

EMPTY_DIR = "kubernetes.io~empty-dir"


class MountError(runtime.RuntimeFailure):
    """A volume could not be set up; the pod waits in ContainerCreating (event FailedMount)."""

    def __init__(self, volume: str, message: str) -> None:
        super().__init__("ContainerCreating", f'MountVolume.SetUp failed for volume "{volume}" : {message}')
        self.volume = volume


class VolumeManager:
    def __init__(self, root_dir: str) -> None:
        self.root_dir = root_dir

    def pods_dir(self) -> str:
        return os.path.join(self.root_dir, "pods")

    def pod_dir(self, uid: str) -> str:
        return os.path.join(self.pods_dir(), uid)

    def prepare(self, pod: Obj) -> dict[str, str]:
        """Create what the pod's volumes need; return volume name -> host path."""
        uid = pod["metadata"]["uid"]
        paths: dict[str, str] = {}
        for vol in (pod.get("spec") or {}).get("volumes") or []:
            name = vol.get("name", "")
            if vol.get("emptyDir") is not None:
                path = os.path.join(self.pod_dir(uid), "volumes", EMPTY_DIR, name)
                os.makedirs(path, exist_ok=True)
                # World-writable as in Kubernetes: containers may run as any user.
                os.chmod(path, 0o777)
                paths[name] = path
            elif vol.get("hostPath") is not None:
                paths[name] = check_host_path(name, vol["hostPath"])
            else:
                kinds = [k for k in vol if k != "name"]
                raise MountError(name, f"volume type {kinds[0] if kinds else '?'} is not supported by minik8s")
        return paths

    def cleanup(self, uid: str) -> None:
        path = self.pod_dir(uid)
        if os.path.isdir(path):
            shutil.rmtree(path, ignore_errors=True)
            log.info("removed volumes of pod %s", uid)

    def known_pod_dirs(self) -> list[str]:
        try:
            return [d for d in os.listdir(self.pods_dir()) if os.path.isdir(os.path.join(self.pods_dir(), d))]
        except FileNotFoundError:
            return []


def check_host_path(volume: str, spec: Obj) -> str:
    """Kubernetes' hostPath type checks, creating the path for the *OrCreate types."""
    path = spec.get("path", "")
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
