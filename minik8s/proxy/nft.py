"""The nftables mode's seam to the kernel: `nft -f` transactions and counter reads.

As iptables.py for the other modes. Two real ones:

- `Lib` (the default when libnftables.so.1 loads, which nft(8) itself is built on):
  nft's own library called in-process through ctypes, on a thread of its own that
  keeps one nft context (and so one netlink socket) open. It saves the fork/exec of
  nft (~4 ms) and, more, the wait in the kernel when an nft process exits: closing a
  netfilter netlink socket flushes the kernel's deferred release of the last
  transaction (an RCU grace period, 10-20 ms on this machine whenever a transaction
  deleted anything). With `netns` the thread enters that network namespace first.
- `Real`: runs nft(8) (`command_prefix`, e.g. `nsenter --net=...`, for benchmarks).

The fake records the transactions for unit tests. One transaction is one netlink
batch, applied atomically or not at all.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import ctypes
import json
import logging
import os
import shutil
from typing import Any, Protocol, Sequence

from minik8s.proxy import nftables

log = logging.getLogger(__name__)


class NftError(Exception):
    pass


class Nft(Protocol):
    async def apply(self, text: str) -> None:
        """Run `text` as one `nft -f` transaction; NftError if it fails (nothing applied)."""

    async def counters(self, named: bool = True) -> dict[Any, tuple[int, int]]:
        """The table's counters -> (packets, bytes): named counters by name (unless not
        `named`), and the counters of the elements of its endpoints maps by (map, key
        text), e.g. ("cluster-ip-endpoints-tcp", "10.96.0.20 . 80 . 0"). {} when there is
        no table."""

    async def table_exists(self) -> bool:
        """Whether the proxy's table is in the kernel (cheap: tables only, no chains)."""


def _listed(rc: int, err: str) -> bool:
    """The answer to `list map` of the table's probe map: there, not there, or an error."""
    if rc == 0:
        return True
    if "No such file or directory" in err:
        return False
    raise NftError(f"nft list map failed ({rc}): {err.strip()}")


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
        return _listed(rc, err)

    async def counters(self, named: bool = True) -> dict[Any, tuple[int, int]]:
        rc, out, err = await self._run("-j", "list", "table", nftables.FAMILY, nftables.TABLE)
        if rc != 0:
            if "No such file or directory" in err:
                return {}
            raise NftError(f"nft list table failed ({rc}): {err.strip()}")
        return parse_counters(out)


def _key_text(value: Any) -> str:
    if isinstance(value, dict) and "concat" in value:
        return " . ".join(str(v) for v in value["concat"])
    return str(value)


def parse_counters(out: str) -> dict[Any, tuple[int, int]]:
    """Named counters and map element counters from `nft -j list table` output."""
    found: dict[Any, tuple[int, int]] = {}
    for item in json.loads(out or "{}").get("nftables", []):
        counter = item.get("counter")
        if counter and counter.get("table") == nftables.TABLE:
            found[counter["name"]] = (int(counter.get("packets", 0)), int(counter.get("bytes", 0)))
        m = item.get("map")
        if m and m.get("table") == nftables.TABLE and m.get("name") in nftables.COUNTED_MAPS:
            for pair in m.get("elem", ()):
                elem = pair[0].get("elem") if isinstance(pair, list) and isinstance(pair[0], dict) else None
                if elem and "counter" in elem:
                    c = elem["counter"]
                    found[(m["name"], _key_text(elem.get("val")))] = (int(c.get("packets", 0)),
                                                                     int(c.get("bytes", 0)))
    return found


_CLONE_NEWNET = 0x40000000
_OUTPUT_JSON = 1 << 4


def _load_library() -> Any:
    lib = ctypes.CDLL("libnftables.so.1")
    lib.nft_ctx_new.restype = ctypes.c_void_p
    lib.nft_ctx_new.argtypes = [ctypes.c_uint32]
    lib.nft_ctx_free.argtypes = [ctypes.c_void_p]
    lib.nft_ctx_output_set_flags.argtypes = [ctypes.c_void_p, ctypes.c_uint]
    for name in ("nft_ctx_buffer_output", "nft_ctx_buffer_error"):
        getattr(lib, name).argtypes = [ctypes.c_void_p]
    for name in ("nft_ctx_get_output_buffer", "nft_ctx_get_error_buffer"):
        getattr(lib, name).argtypes = [ctypes.c_void_p]
        getattr(lib, name).restype = ctypes.c_char_p
    lib.nft_run_cmd_from_buffer.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    lib.nft_run_cmd_from_buffer.restype = ctypes.c_int
    return lib


class Lib:
    """libnftables in-process: two nft contexts kept open for the life of the object,
    each on a thread of its own: one for transactions and table checks, one (JSON
    output) for counter reads, so a /metrics scrape never delays a sync."""

    _lib: Any = None

    def __init__(self, *, netns: str | None = None) -> None:
        self.netns = netns
        self._pools = {as_json: concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="nft-read" if as_json else "nft", initializer=self._enter_netns)
            for as_json in (False, True)}
        self._ctx: dict[bool, int] = {}

    @classmethod
    def available(cls) -> bool:
        if cls._lib is None:
            try:
                cls._lib = _load_library()
            except (OSError, AttributeError):
                return False
        return True

    def _enter_netns(self) -> None:
        if self.netns is None:
            return
        fd = os.open(self.netns, os.O_RDONLY)
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.setns(fd, _CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), f"setns {self.netns}")
        finally:
            os.close(fd)

    def _context(self, as_json: bool) -> int:
        ctx = self._ctx.get(as_json)
        if ctx is None:
            if not self.available():
                raise NftError("libnftables.so.1 is not available")
            ctx = self._lib.nft_ctx_new(0)
            if not ctx:
                raise NftError("nft_ctx_new failed")
            if as_json:
                self._lib.nft_ctx_output_set_flags(ctx, _OUTPUT_JSON)
            self._lib.nft_ctx_buffer_output(ctx)
            self._lib.nft_ctx_buffer_error(ctx)
            self._ctx[as_json] = ctx
        return ctx

    def _call(self, text: str, as_json: bool) -> tuple[int, str, str]:
        # On the pool's thread (in the netns); ctypes lets go of the GIL meanwhile.
        ctx = self._context(as_json)
        rc = self._lib.nft_run_cmd_from_buffer(ctx, text.encode())
        # Reading a buffer also rewinds it for the next command.
        out = (self._lib.nft_ctx_get_output_buffer(ctx) or b"").decode(errors="replace")
        err = (self._lib.nft_ctx_get_error_buffer(ctx) or b"").decode(errors="replace")
        return rc, out, err

    async def _run(self, text: str, as_json: bool = False) -> tuple[int, str, str]:
        return await asyncio.get_running_loop().run_in_executor(self._pools[as_json], self._call, text, as_json)

    async def apply(self, text: str) -> None:
        rc, _out, err = await self._run(text)
        if rc != 0:
            raise NftError(f"nft transaction failed ({rc}): {err.strip()[:2000]}")

    async def table_exists(self) -> bool:
        rc, _out, err = await self._run(f"list map {nftables.FAMILY} {nftables.TABLE} {nftables.NO_ENDPOINT_NODEPORTS}")
        return _listed(rc, err)

    async def counters(self, named: bool = True) -> dict[Any, tuple[int, int]]:
        # The counted maps (and the named counters, when asked: listing them costs 0.3 s at
        # 10,000 Services even when there are none) rather than the whole table: 0.7 s
        # against 1.35 s at 10,000 Services, on the reading thread.
        t = f"{nftables.FAMILY} {nftables.TABLE}"
        found: dict[Any, tuple[int, int]] = {}
        commands = [f"list counters table {t}"] if named else []
        for command in commands + [f"list map {t} {m}" for m in nftables.COUNTED_MAPS]:
            rc, out, err = await self._run(command, as_json=True)
            if rc != 0:
                if "No such file or directory" in err:
                    return {}
                raise NftError(f"nft {command} failed ({rc}): {err.strip()}")
            found.update(parse_counters(out))
        return found

    def close(self) -> None:
        for as_json, pool in self._pools.items():
            ctx = self._ctx.pop(as_json, None)
            if ctx is not None:
                pool.submit(self._lib.nft_ctx_free, ctx).result()
            pool.shutdown(wait=True)


def default() -> Nft | None:
    """The proxy's seam to nftables: the library in-process, else nft(8), else None."""
    if Lib.available():
        return Lib()
    return Real() if Real.available() else None


class Fake:
    """Records every transaction; `fail_next` makes the next apply fail."""

    def __init__(self) -> None:
        self.applied: list[str] = []
        self.fail_next: NftError | None = None
        self.counter_values: dict[Any, tuple[int, int]] = {}
        self.table = False  # set False by a test to play someone's `nft flush ruleset`
        self.table_checks = 0

    async def apply(self, text: str) -> None:
        if self.fail_next is not None:
            err, self.fail_next = self.fail_next, None
            raise err
        self.applied.append(text)
        self.table = text != nftables.build_cleanup()

    async def counters(self, named: bool = True) -> dict[Any, tuple[int, int]]:
        return dict(self.counter_values)

    async def table_exists(self) -> bool:
        self.table_checks += 1
        return self.table
