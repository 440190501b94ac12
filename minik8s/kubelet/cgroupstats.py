"""CPU and memory of containers and of the node, read from cgroup files (v1 and v2).

What the kubelet's resource metrics are made of, read as cAdvisor reads them:
- CPU: the cumulative CPU time of the cgroup (v1 `cpuacct.usage`, nanoseconds; v2
  `cpu.stat` `usage_usec`). Rates come from two readings (minik8s/kubelet/stats.py).
- Memory working set: usage minus the inactive file cache, floored at 0 (v1
  `memory.usage_in_bytes` − `memory.stat` `total_inactive_file`; v2 `memory.current` −
  `inactive_file`). That is the number the OOM killer and the HPA look at: page cache the
  kernel can drop at once is not counted.

A container's cgroup is found by its engine id: Docker names it `<id>` (cgroupfs
driver, under `/docker` or the daemon's `--cgroup-parent`: the local cluster's nodes use
`/minik8s-cluster/<cluster>/<node>/pods`) or `docker-<id>.scope` (systemd driver). The
first container of a parent is found by walking the hierarchy; its siblings are then
looked for beside it first, so a node pays one walk, not one per container.

The reader only reads files under `root` (and `proc` for the v2 root's memory), so unit
tests give it a directory tree made in a temporary directory (tests/unit/test_kubelet_stats.py).
"""
from __future__ import annotations

import dataclasses
import logging
import os
from typing import Protocol

log = logging.getLogger(__name__)

DEFAULT_ROOT = "/sys/fs/cgroup"
DEFAULT_PROC = "/proc"
# How deep the walk for an unknown container's cgroup goes (the local cluster's are at depth 5).
MAX_WALK_DEPTH = 8


@dataclasses.dataclass(frozen=True)
class CgroupSample:
    cpu_usage_ns: int  # cumulative CPU time over all cores, nanoseconds
    memory_usage_bytes: int
    memory_working_set_bytes: int
    memory_rss_bytes: int


class CgroupReader(Protocol):
    """The seam between the stats provider and the kernel."""

    def locate(self, container_id: str) -> str | None:
        """The cgroup path (relative to a hierarchy's root) of a container, None if it has none."""

    def read(self, path: str) -> CgroupSample | None:
        """One reading of cgroup `path` ("/" is the root), None if it is gone or unreadable."""

    def forget(self, container_id: str) -> None:
        """Drop what is remembered about a container that is gone."""


def _read_int(path: str) -> int | None:
    try:
        with open(path, encoding="ascii") as f:
            text = f.read().strip()
    except OSError:
        return None
    if text == "max":
        return None
    try:
        return int(text)
    except ValueError:
        return None


def _read_keyed(path: str) -> dict[str, int] | None:
    """A `key value` per line file (memory.stat, cpu.stat)."""
    try:
        with open(path, encoding="ascii") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    out: dict[str, int] = {}
    for line in lines:
        parts = line.split()
        if len(parts) == 2:
            try:
                out[parts[0]] = int(parts[1])
            except ValueError:
                continue
    return out


def _meminfo(proc: str) -> dict[str, int] | None:
    """/proc/meminfo in bytes."""
    try:
        with open(os.path.join(proc, "meminfo"), encoding="ascii") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    out: dict[str, int] = {}
    for line in lines:
        key, _, rest = line.partition(":")
        fields = rest.split()
        if fields and fields[0].isdigit():
            out[key] = int(fields[0]) * (1024 if len(fields) > 1 and fields[1] == "kB" else 1)
    return out


def _first_dir(*candidates: str) -> str | None:
    for c in candidates:
        if os.path.isdir(c):
            return c
    return None


class CgroupFs:
    """CgroupReader over the cgroup file systems mounted at `root` (v2, or v1's cpuacct and memory)."""

    def __init__(self, root: str = DEFAULT_ROOT, proc: str = DEFAULT_PROC) -> None:
        self.root = root
        self.proc = proc
        self.v2 = os.path.exists(os.path.join(root, "cgroup.controllers"))
        if self.v2:
            self.cpu_root: str | None = root
            self.memory_root: str | None = root
        else:
            # v1 (also the "hybrid" layout: v1 controllers, an empty v2 tree at root/unified).
            self.cpu_root = _first_dir(os.path.join(root, "cpuacct"), os.path.join(root, "cpu,cpuacct"),
                                       os.path.join(root, "cpuacct,cpu"))
            self.memory_root = _first_dir(os.path.join(root, "memory"))
        self._found: dict[str, str] = {}  # container id -> cgroup path
        self._parents: list[str] = ["docker", "system.slice"]  # where containers were found, newest first

    @property
    def available(self) -> bool:
        return self.cpu_root is not None and self.memory_root is not None

    def _dir(self, base: str | None, path: str) -> str | None:
        if base is None:
            return None
        return os.path.join(base, path.strip("/"))

    # -- locating containers ----------------------------------------------------------------------

    def _names(self, container_id: str) -> tuple[str, str]:
        return container_id, f"docker-{container_id}.scope"

    def _remember(self, container_id: str, path: str) -> str:
        self._found[container_id] = path
        parent = os.path.dirname(path)
        if parent in self._parents:
            self._parents.remove(parent)
        self._parents.insert(0, parent)
        del self._parents[16:]
        return path

    def locate(self, container_id: str) -> str | None:
        if self.cpu_root is None:
            return None
        known = self._found.get(container_id)
        if known is not None:
            if os.path.isdir(os.path.join(self.cpu_root, known)):
                return known
            self._found.pop(container_id, None)
        names = self._names(container_id)
        for parent in self._parents:
            for name in names:
                candidate = f"{parent}/{name}" if parent else name
                if os.path.isdir(os.path.join(self.cpu_root, candidate)):
                    return self._remember(container_id, candidate)
        top_depth = self.cpu_root.rstrip("/").count("/")
        for dirpath, dirnames, _files in os.walk(self.cpu_root):
            for name in names:
                if name in dirnames:
                    rel = os.path.relpath(os.path.join(dirpath, name), self.cpu_root)
                    return self._remember(container_id, rel)
            if dirpath.rstrip("/").count("/") - top_depth >= MAX_WALK_DEPTH:
                dirnames[:] = []
        return None

    def forget(self, container_id: str) -> None:
        self._found.pop(container_id, None)

    # -- reading ------------------------------------------------------------------------------------

    def read(self, path: str) -> CgroupSample | None:
        return self._read_v2(path) if self.v2 else self._read_v1(path)

    def _read_v1(self, path: str) -> CgroupSample | None:
        cpu_dir, mem_dir = self._dir(self.cpu_root, path), self._dir(self.memory_root, path)
        if cpu_dir is None or mem_dir is None:
            return None
        cpu = _read_int(os.path.join(cpu_dir, "cpuacct.usage"))
        usage = _read_int(os.path.join(mem_dir, "memory.usage_in_bytes"))
        stat = _read_keyed(os.path.join(mem_dir, "memory.stat"))
        if cpu is None or usage is None or stat is None:
            return None
        inactive_file = stat.get("total_inactive_file", stat.get("inactive_file", 0))
        rss = stat.get("total_rss", stat.get("rss", 0))
        return CgroupSample(cpu, usage, max(usage - inactive_file, 0), rss)

    def _read_v2(self, path: str) -> CgroupSample | None:
        d = self._dir(self.root, path)
        assert d is not None
        cpu_stat = _read_keyed(os.path.join(d, "cpu.stat"))
        if cpu_stat is None or "usage_usec" not in cpu_stat:
            return None
        cpu = cpu_stat["usage_usec"] * 1000
        usage = _read_int(os.path.join(d, "memory.current"))
        if usage is None and path.strip("/") == "":
            # The v2 root has no memory.current: the machine's own numbers stand in.
            info = _meminfo(self.proc)
            if info is None:
                return None
            used = info.get("MemTotal", 0) - info.get("MemFree", 0)
            return CgroupSample(cpu, used, max(used - info.get("Inactive(file)", 0), 0), info.get("AnonPages", 0))
        stat = _read_keyed(os.path.join(d, "memory.stat"))
        if usage is None or stat is None:
            return None
        return CgroupSample(cpu, usage, max(usage - stat.get("inactive_file", 0), 0), stat.get("anon", 0))
