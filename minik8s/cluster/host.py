"""Running the host's own tools (ip, iptables, nsenter) with errors that say what failed.

The local cluster changes the host: network namespaces, links, iptables rules,
cgroups, mounts. Every such change goes through `run`, so a failure names the
command and carries its stderr instead of a bare CalledProcessError.
"""
from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence


class ClusterError(Exception):
    """Something the local cluster needed from the host failed; the message says what."""


class Refused(ClusterError):
    """A command refused to start (bad arguments, a conflict); it changed nothing."""


# Where root's tools live when the caller's PATH lacks the sbin directories.
SBIN_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

PACKAGES = {"ip": "iproute2", "iptables": "iptables", "nsenter": "util-linux", "dockerd": "docker.io",
            "containerd": "containerd", "etcd": "etcd-server"}


def which(tool: str) -> str:
    path = shutil.which(tool) or shutil.which(tool, path=SBIN_PATH)
    if path is None:
        package = PACKAGES.get(tool, tool)
        raise ClusterError(f"{tool!r} is not installed (Debian: apt-get install -y {package}; "
                           "or run `make deps`)")
    return path


def run(argv: Sequence[str], *, check: bool = True, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    """Run a host tool; with `check`, a non-zero exit raises ClusterError with its stderr."""
    argv = [which(argv[0]), *argv[1:]]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise ClusterError(f"`{' '.join(argv)}` did not finish within {timeout:g}s") from None
    if check and done.returncode != 0:
        raise ClusterError(f"`{' '.join(argv)}` failed ({done.returncode}): "
                           f"{(done.stderr or done.stdout).strip()}")
    return done
