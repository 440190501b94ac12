"""The nftables mode's seam to the kernel: `nft -f -` transactions and counter reads.

As iptables.py for the other modes: the real one runs nft(8) in the proxy's
network namespace (or under `command_prefix`, e.g. `nsenter --net=...`, for
benchmarks); the fake records the transactions for unit tests. One `nft -f`
call is one netlink batch, applied atomically or not at all.
"""
from __future__ import annotations

import asyncio
import json
import logging
import shutil
from typing import Protocol, Sequence

from minik8s.proxy import nftables

log = logging.getLogger(__name__)


class NftError(Exception):
    pass


class Nft(Protocol):
    async def apply(self, text: str) -> None:
        """Run `text` as one `nft -f` transaction; NftError if it fails (nothing applied)."""

    async def counters(self) -> dict[str, tuple[int, int]]:
        """The table's named counters: name -> (packets, bytes). {} when there is no table."""

    async def table_exists(self) -> bool:
        """Whether the proxy's table is in the kernel (cheap: tables only, no chains)."""


class Real:
    def __init__(self, *, command_prefix: Sequence[str] = (), binary: str = "nft") -> None:
        self.prefix = list(command_prefix)
        self.binary = binary

    @staticmethod
    def available() -> bool:
        return shutil.which("nft") is not None

    async def _run(self, *args: str, stdin: bytes | None = None) -> tuple[int, str, str]:
        proc = await asyncio.create_subprocess_exec(
            *self.prefix, self.binary, *args,
            stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await proc.communicate(stdin)
        return proc.returncode or 0, out.decode(errors="replace"), err.decode(errors="replace")

    async def apply(self, text: str) -> None:
        rc, _out, err = await self._run("-f", "-", stdin=text.encode())
        if rc != 0:
            raise NftError(f"nft -f failed ({rc}): {err.strip()[:2000]}")

    async def table_exists(self) -> bool:
        # One small map of the table, its elements omitted (-t): `list tables` would have
        # nft read every chain and rule first (70 ms at 1,000 Services, 1.2 s at 10,000),
        # this reads one map (5 ms).
        rc, _out, err = await self._run("-t", "list", "map", nftables.FAMILY, nftables.TABLE,
                                        nftables.NO_ENDPOINT_NODEPORTS)
        if rc == 0:
            return True
        if "No such file or directory" in err:
            return False
        raise NftError(f"nft list map failed ({rc}): {err.strip()}")

    async def counters(self) -> dict[str, tuple[int, int]]:
        rc, out, err = await self._run("-j", "list", "counters", "table", nftables.FAMILY, nftables.TABLE)
        if rc != 0:
            if "No such file or directory" in err:
                return {}
            raise NftError(f"nft list counters failed ({rc}): {err.strip()}")
        found: dict[str, tuple[int, int]] = {}
        for item in json.loads(out or "{}").get("nftables", []):
            counter = item.get("counter")
            if counter and counter.get("table") == nftables.TABLE:
                found[counter["name"]] = (int(counter.get("packets", 0)), int(counter.get("bytes", 0)))
        return found


class Fake:
    """Records every transaction; `fail_next` makes the next apply fail."""

    def __init__(self) -> None:
        self.applied: list[str] = []
        self.fail_next: NftError | None = None
        self.counter_values: dict[str, tuple[int, int]] = {}
        self.table = False  # set False by a test to play someone's `nft flush ruleset`
        self.table_checks = 0

    async def apply(self, text: str) -> None:
        if self.fail_next is not None:
            err, self.fail_next = self.fail_next, None
            raise err
        self.applied.append(text)
        self.table = text != nftables.build_cleanup()

    async def counters(self) -> dict[str, tuple[int, int]]:
        return dict(self.counter_values)

    async def table_exists(self) -> bool:
        self.table_checks += 1
        return self.table
