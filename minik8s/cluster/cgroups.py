"""Process groups that make "everything this node ran" a thing we can find and kill.

A node's agents (containerd, dockerd, kubelet) start inside the cgroup
`/minik8s-cluster/<cluster>/<node>/system`, and its dockerd puts every container
under `/minik8s-cluster/<cluster>/<node>/pods` (`--cgroup-parent`). Children inherit
their parent's cgroup and cannot leave it on their own, so the subtree holds every
process of the node: the engine, containerd's shims, each container's processes.
Powering a node off is then "SIGKILL everything in the subtree until it is empty",
and `cluster down` after a crash finds the leftovers of a run whose pidfiles are
gone. The master's processes live in `/minik8s-cluster/<cluster>/master`.

Processes never sit in a cgroup that has children (cgroup v2 forbids it), hence the
`system` and `pods` leaves. Placement is done by the child itself before it execs
(`sh -c 'echo $$ > cgroup.procs; exec ...'`), so there is no moment when it runs,
or forks, outside the group.

On cgroup v1 the `pids` hierarchy is the one we place and scan; Docker creates its
container cgroups in every hierarchy, so removal walks all of them.
"""
from __future__ import annotations

import contextlib
import errno
import os
import signal
import time
from collections.abc import Sequence

from minik8s.cluster import host
from minik8s.util import procs

ROOT = "/sys/fs/cgroup"
TOP = "minik8s-cluster"


def cluster_path(cluster: str, *parts: str) -> str:
    """The cgroup path (relative to a hierarchy root) of a cluster, or of one of its parts."""
    return "/".join([TOP, cluster, *parts])


def hierarchy() -> str:
    """The mounted hierarchy in which we place and find processes."""
    if os.path.exists(os.path.join(ROOT, "cgroup.controllers")):
        return ROOT  # cgroup v2 only
    pids = os.path.join(ROOT, "pids")
    if os.path.exists(os.path.join(pids, "cgroup.procs")):
        return pids
    raise host.ClusterError(f"no cgroup v2 at {ROOT} and no cgroup v1 pids hierarchy at {pids}; "
                            "the local cluster needs one to track each node's processes")


def v1_line_matches(line: str) -> bool:
    """Whether a /proc/PID/cgroup line is the pids hierarchy of cgroup v1."""
    parts = line.split(":", 2)
    return len(parts) == 3 and "pids" in parts[1].split(",")


def all_hierarchies() -> list[str]:
    """Mount points of every cgroup hierarchy (v1 and v2) under /sys/fs/cgroup."""
    out = []
    with open("/proc/self/mountinfo", encoding="utf-8") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            fstype = right.split(" ", 1)[0]
            mountpoint = left.split(" ")[4]
            if fstype in ("cgroup", "cgroup2") and mountpoint.startswith(ROOT):
                out.append(mountpoint)
    return out


def directory(rel: str) -> str:
    return os.path.join(hierarchy(), rel)


def create(rel: str) -> str:
    d = directory(rel)
    os.makedirs(d, exist_ok=True)
    return d


def wrap(rel: str, argv: Sequence[str]) -> list[str]:
    """`argv` prefixed so that the process joins cgroup `rel` before it execs."""
    procs_file = os.path.join(create(rel), "cgroup.procs")
    return ["/bin/sh", "-c", 'echo $$ > "$0" && exec "$@"', procs_file, *argv]


def spawn(rel: str, argv: Sequence[str], log_file: str) -> int:
    """Start `argv` detached (procs.spawn_detached) inside cgroup `rel`; its pid, once it is in."""
    proc = procs.spawn_detached(wrap(rel, argv), log_file)
    procs.wait_for(lambda: proc.poll() is not None or contains(rel, proc.pid), 10,
                   what=f"pid {proc.pid} to join cgroup {rel}")
    return proc.pid


def pids(rel: str) -> list[int]:
    """Every process in cgroup `rel` and below (empty if it does not exist)."""
    top = directory(rel)
    found: list[int] = []
    for dirpath, _dirs, _files in os.walk(top):
        try:
            with open(os.path.join(dirpath, "cgroup.procs"), encoding="ascii") as f:
                found.extend(int(p) for p in f.read().split())
        except OSError:
            continue  # removed while we walked
    return found


def contains(rel: str, pid: int) -> bool:
    """Whether process `pid` is in cgroup `rel` or below it."""
    try:
        with open(f"/proc/{pid}/cgroup", encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError:
        return False
    v2 = hierarchy() == ROOT
    want = "/" + rel.strip("/")
    for line in lines:
        if (v2 and line.startswith("0::")) or (not v2 and v1_line_matches(line)):
            path = line.split(":", 2)[2]
            return path == want or path.startswith(want + "/")
    return False


def live_pid(rel: str, pidfile: str) -> int | None:
    """The pid `pidfile` names, if that process is (still) in cgroup `rel`: a pid the kernel
    gave to someone else since is not ours."""
    pid = procs.read_pidfile(pidfile)
    if pid is None or not contains(rel, pid):
        return None
    return pid


def kill_all(rel: str, timeout: float = 15) -> int:
    """SIGKILL every process in the subtree until none is left; how many were signalled.

    Repeated because a process may fork between our read and our kill; its child is
    in the same subtree and is caught on the next round.
    """
    deadline = time.monotonic() + timeout
    killed: set[int] = set()
    while True:
        live = pids(rel)
        if not live:
            return len(killed)
        for pid in live:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            killed.add(pid)
            _reap(pid)
        if time.monotonic() > deadline:
            raise host.ClusterError(f"processes {live} in cgroup {rel} survived SIGKILL for {timeout:g}s")
        time.sleep(0.02)


def _reap(pid: int) -> None:
    # Our own children (a dockerd this process started) would stay zombies in the cgroup.
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def remove(rel: str) -> None:
    """Remove cgroup `rel` and everything below it, in every hierarchy (all must be empty)."""
    for root in all_hierarchies():
        top = os.path.join(root, rel)
        if not os.path.isdir(top):
            continue
        for dirpath, _dirs, _files in os.walk(top, topdown=False):
            try:
                os.rmdir(dirpath)
            except OSError as e:
                if e.errno != errno.ENOENT:
                    raise host.ClusterError(f"cannot remove cgroup {dirpath}: {e.strerror}") from None


def remove_if_empty(rel: str) -> None:
    """Remove cgroup directory `rel` in every hierarchy where nothing is below it."""
    for root in all_hierarchies():
        with contextlib.suppress(OSError):
            os.rmdir(os.path.join(root, rel))
