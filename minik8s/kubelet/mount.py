"""tmpfs mounts for memory-backed volumes, behind a seam (mount(2) needs root).

Kubernetes backs emptyDir `medium: Memory` with a tmpfs (sized by sizeLimit),
and Secret, downwardAPI and projected volumes too, so their contents never
touch the node's disk. `LinuxMounter` calls mount(2)/umount2(2) through libc;
`FakeMounter` records what would have been mounted, for unit tests.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import re
from typing import Protocol

MNT_DETACH = 2


class Mounter(Protocol):
    def mount_tmpfs(self, path: str, size_bytes: int | None) -> None: ...

    def is_mounted(self, path: str) -> bool: ...

    def unmount_under(self, prefix: str) -> list[str]:
        """Unmount everything mounted at or below `prefix` (deepest first); the paths."""
        ...


def _unescape(field: str) -> str:
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def mountpoints(mountinfo: str | None = None) -> list[str]:
    """Mount points of this process's mount namespace, from /proc/self/mountinfo."""
    if mountinfo is None:
        with open("/proc/self/mountinfo", encoding="utf-8") as f:
            mountinfo = f.read()
    out = []
    for line in mountinfo.splitlines():
        fields = line.split(" ")
        if len(fields) > 4:
            out.append(_unescape(fields[4]))
    return out


def _under(path: str, prefix: str) -> bool:
    prefix = prefix.rstrip("/")
    return path == prefix or path.startswith(prefix + "/")


class LinuxMounter:
    def __init__(self) -> None:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        self._mount = libc.mount
        self._mount.argtypes = (ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p)
        self._umount2 = libc.umount2
        self._umount2.argtypes = (ctypes.c_char_p, ctypes.c_int)

    def mount_tmpfs(self, path: str, size_bytes: int | None) -> None:
        options = "mode=0777" + (f",size={size_bytes}" if size_bytes else "")
        if self._mount(b"tmpfs", os.fsencode(path), b"tmpfs", 0, options.encode()) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"mount -t tmpfs -o {options} tmpfs {path}: {os.strerror(err)}")

    def is_mounted(self, path: str) -> bool:
        real = os.path.realpath(path)
        return real in mountpoints()

    def unmount_under(self, prefix: str) -> list[str]:
        real = os.path.realpath(prefix)
        targets = sorted((m for m in mountpoints() if _under(m, real)), key=len, reverse=True)
        done = []
        for target in targets:
            if self._umount2(os.fsencode(target), MNT_DETACH) == 0:
                done.append(target)
            elif ctypes.get_errno() not in (errno.EINVAL, errno.ENOENT):
                err = ctypes.get_errno()
                raise OSError(err, f"umount {target}: {os.strerror(err)}")
        return done


class FakeMounter:
    def __init__(self) -> None:
        self.mounted: dict[str, int | None] = {}

    def mount_tmpfs(self, path: str, size_bytes: int | None) -> None:
        self.mounted[path] = size_bytes

    def is_mounted(self, path: str) -> bool:
        return path in self.mounted

    def unmount_under(self, prefix: str) -> list[str]:
        gone = [p for p in self.mounted if _under(p, prefix)]
        for p in gone:
            del self.mounted[p]
        return gone
