"""Finding and removing the mounts a node's Docker engine leaves behind.

A dockerd runs in the host's mount namespace (only its network namespace is the
node's), so its mounts are host mounts: an overlay per container rootfs, an nsfs
bind per container network namespace under the exec-root, shm mounts, and a bind
of the data-root onto itself. A daemon killed without cleanup (a node powered off,
a crashed test run) leaves them all; they block removing the state directory.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import dataclasses
import errno
import os
import re

MNT_DETACH = 2

_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
_libc.umount2.argtypes = (ctypes.c_char_p, ctypes.c_int)


@dataclasses.dataclass(frozen=True)
class Mount:
    mount_id: int
    mountpoint: str
    fstype: str
    source: str


def _unescape(field: str) -> str:
    # The kernel writes space, tab, newline and backslash in octal (\040 ...).
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def parse_mountinfo(text: str) -> list[Mount]:
    out = []
    for line in text.splitlines():
        left, sep, right = line.partition(" - ")
        if not sep:
            continue
        fields = left.split(" ")
        rfields = right.split(" ")
        out.append(Mount(int(fields[0]), _unescape(fields[4]), rfields[0],
                         _unescape(rfields[1]) if len(rfields) > 1 else ""))
    return out


def mounts() -> list[Mount]:
    with open("/proc/self/mountinfo", encoding="utf-8", errors="surrogateescape") as f:
        return parse_mountinfo(f.read())


def is_under(path: str, prefix: str) -> bool:
    prefix = prefix.rstrip("/") or "/"
    return path == prefix or path.startswith(prefix + "/")


def under(prefix: str, table: list[Mount] | None = None) -> list[Mount]:
    """Mounts at or below `prefix`, deepest (and, on one mount point, newest) first."""
    prefix = os.path.realpath(prefix) if os.path.exists(prefix) else os.path.abspath(prefix)
    found = [m for m in (table if table is not None else mounts()) if is_under(m.mountpoint, prefix)]
    return sorted(found, key=lambda m: (m.mountpoint.count("/"), m.mount_id), reverse=True)


def umount(path: str) -> None:
    """Unmount `path`; if it is busy, detach it lazily (the kernel finishes when unused)."""
    target = path.encode()
    if _libc.umount2(target, 0) == 0:
        return
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOENT):
        return  # not (or no longer) a mount point
    if _libc.umount2(target, MNT_DETACH) != 0:
        err = ctypes.get_errno()
        if err not in (errno.EINVAL, errno.ENOENT):
            raise OSError(err, f"umount {path}: {os.strerror(err)}")


def unmount_under(prefix: str, rounds: int = 5) -> list[str]:
    """Unmount everything at or below `prefix`; the mount points that were unmounted."""
    done: list[str] = []
    for _ in range(rounds):
        found = under(prefix)
        if not found:
            break
        for m in found:
            umount(m.mountpoint)
            done.append(m.mountpoint)
    return done
