"""The proxy's only side effects on the kernel: iptables and conntrack, behind small seams.

The proxiers get an `Iptables` and a `Conntrack` from outside; the real ones run
the iptables/conntrack binaries in the network namespace the proxy runs in (or
in `command_prefix`, e.g. `nsenter --net=...`, for benchmarks), the fakes record
what they were asked to do for unit tests. Calls are asynchronous subprocesses so
that the userspace mode's data path, which runs on the same event loop, never
stalls behind an iptables call.
"""
from __future__ import annotations

import asyncio
import logging
import re
import shlex
import shutil
from typing import Protocol, Sequence

from minik8s.proxy import rules

log = logging.getLogger(__name__)


class IptablesError(Exception):
    pass


class Iptables(Protocol):
    async def restore(self, text: str) -> None:
        """Apply `text` with one `iptables-restore --noflush`; IptablesError if it fails."""

    async def save(self, table: str) -> str:
        """`iptables-save -t table`."""

    async def missing_jumps(self, jumps: Sequence[rules.Jump]) -> list[rules.Jump]:
        """Those of `jumps` that are not in their chains."""

    async def add_jumps(self, jumps: Sequence[rules.Jump]) -> None:
        """Add `jumps` (prepended or appended as each says), in order."""

    async def delete_jump(self, jump: rules.Jump) -> bool:
        """Delete `jump` if it is there; True if it was."""


class Conntrack(Protocol):
    async def clear_udp(self, *, orig_dst: str | None = None, dst_nat: str | None = None,
                        orig_port_dst: int | None = None) -> None:
        """Forget UDP flows matching the arguments, so their next packet is NATed afresh."""


async def _run(argv: Sequence[str], stdin: bytes | None = None) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        *argv, stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await proc.communicate(stdin)
    assert proc.returncode is not None
    return proc.returncode, out.decode(errors="replace"), err.decode(errors="replace")


class Real:
    """iptables(8) in the current network namespace (or under `command_prefix`)."""

    def __init__(self, *, lock_wait: float = 5.0, command_prefix: Sequence[str] = ()) -> None:
        self.lock_wait = lock_wait
        self.prefix = list(command_prefix)

    def _wait(self) -> list[str]:
        # The xtables lock only matters to the legacy backend; nft accepts and ignores -w.
        return ["-w", str(max(1, int(self.lock_wait)))] if self.lock_wait > 0 else []

    async def restore(self, text: str) -> None:
        rc, _out, err = await _run([*self.prefix, "iptables-restore", *self._wait(), "--noflush"], text.encode())
        if rc != 0:
            raise IptablesError(f"iptables-restore failed ({rc}): {err.strip()}\n{_numbered_excerpt(text, err)}")

    async def save(self, table: str) -> str:
        rc, out, err = await _run([*self.prefix, "iptables-save", "-t", table])
        if rc != 0:
            raise IptablesError(f"iptables-save -t {table} failed ({rc}): {err.strip()}")
        return out

    async def _check(self, jump: rules.Jump) -> bool:
        rc, _out, _err = await _run([*self.prefix, "iptables", *self._wait(), "-t", jump.table, "-C", jump.chain,
                                     *jump.args])
        return rc == 0

    async def missing_jumps(self, jumps: Sequence[rules.Jump]) -> list[rules.Jump]:
        # The checks are independent and each is a process: run them side by side.
        present = await asyncio.gather(*(self._check(j) for j in jumps))
        return [j for j, there in zip(jumps, present) if not there]

    async def add_jumps(self, jumps: Sequence[rules.Jump]) -> None:
        for jump in jumps:
            where = ["-I", jump.chain, "1"] if jump.prepend else ["-A", jump.chain]
            rc, _out, err = await _run([*self.prefix, "iptables", *self._wait(), "-t", jump.table, *where,
                                        *jump.args])
            if rc != 0:
                raise IptablesError(f"cannot add {jump.table}/{jump.chain} -> {jump.target}: {err.strip()}")

    async def delete_jump(self, jump: rules.Jump) -> bool:
        found = False
        # A jump added twice (by hand, or by two racing proxies) is removed entirely.
        while await self._check(jump):
            found = True
            rc, _out, err = await _run([*self.prefix, "iptables", *self._wait(), "-t", jump.table, "-D",
                                        jump.chain, *jump.args])
            if rc != 0:
                raise IptablesError(f"cannot delete {jump.table}/{jump.chain} -> {jump.target}: {err.strip()}")
        return found


def _numbered_excerpt(text: str, err: str) -> str:
    """The input line iptables-restore complained about ("line N failed"), for the log."""
    m = re.search(r"line:? (\d+)", err)
    if not m:
        return ""
    n = int(m.group(1))
    lines = text.splitlines()
    lo, hi = max(0, n - 3), min(len(lines), n + 1)
    return "\n".join(f"{i + 1:6d}  {lines[i]}" for i in range(lo, hi))


class RealConntrack:
    """conntrack(8); without the binary, stale UDP flows simply age out (with a warning)."""

    def __init__(self, command_prefix: Sequence[str] = ()) -> None:
        self.prefix = list(command_prefix)
        self.available = shutil.which("conntrack") is not None
        if not self.available:
            log.warning("conntrack(8) not found: UDP clients may keep using a removed endpoint until "
                        "their flow times out (Debian: apt-get install conntrack)")

    async def clear_udp(self, *, orig_dst: str | None = None, dst_nat: str | None = None,
                        orig_port_dst: int | None = None) -> None:
        if not self.available:
            return
        argv = [*self.prefix, "conntrack", "-D", "-p", "udp"]
        if orig_dst:
            argv += ["--orig-dst", orig_dst]
        if orig_port_dst:
            argv += ["--orig-port-dst", str(orig_port_dst)]
        if dst_nat:
            argv += ["--dst-nat", dst_nat]
        rc, _out, err = await _run(argv)
        # Exit status 1 with "0 flow entries have been deleted" is the normal "nothing to do".
        if rc not in (0, 1):
            log.warning("%s failed (%d): %s", " ".join(argv), rc, err.strip())


class Fake:
    """Records restores and keeps the jumps as a set; tests read `restores` and `jumps`."""

    def __init__(self) -> None:
        self.restores: list[str] = []
        self.jumps: set[rules.Jump] = set()
        self.saved: dict[str, str] = {}
        self.fail_restores = 0

    async def restore(self, text: str) -> None:
        if self.fail_restores:
            self.fail_restores -= 1
            raise IptablesError("injected failure")
        # `-C` lines check a rule as iptables-restore does: one that is not there fails the restore.
        table = ""
        for n, line in enumerate(text.splitlines(), 1):
            if line.startswith("*"):
                table = line[1:]
            elif line.startswith("-C "):
                chain, *args = shlex.split(line[3:])
                if not any((j.table, j.chain, j.args) == (table, chain, tuple(args)) for j in self.jumps):
                    raise IptablesError(f"iptables-restore: line {n} failed: Bad rule")
        self.restores.append(text)

    async def save(self, table: str) -> str:
        return self.saved.get(table, f"*{table}\nCOMMIT\n")

    async def missing_jumps(self, jumps: Sequence[rules.Jump]) -> list[rules.Jump]:
        return [j for j in jumps if j not in self.jumps]

    async def add_jumps(self, jumps: Sequence[rules.Jump]) -> None:
        self.jumps.update(jumps)

    async def delete_jump(self, jump: rules.Jump) -> bool:
        if jump in self.jumps:
            self.jumps.discard(jump)
            return True
        return False


class FakeConntrack:
    def __init__(self) -> None:
        self.cleared: list[dict[str, object]] = []

    async def clear_udp(self, *, orig_dst: str | None = None, dst_nat: str | None = None,
                        orig_port_dst: int | None = None) -> None:
        self.cleared.append({k: v for k, v in (("orig_dst", orig_dst), ("dst_nat", dst_nat),
                                                ("orig_port_dst", orig_port_dst)) if v})
