"""The one seam through which the network agent changes the kernel: running commands.

The agent drives iproute2 (`ip`, `bridge`) and iptables as commands rather than
speaking netlink itself: the commands are exactly what an operator would type to
check or repair a node, the unit tests can assert on them verbatim, and the
tools are on every node already (see docs/network.md for why not pyroute2).
Everything runs in the caller's network namespace, so one agent started with
`nsenter --net=/run/netns/<node>` programs that node only.

`FakeRunner` is the recording fake for unit tests: it answers read commands
from canned outputs and records every command it was given.
"""
from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable, Sequence
from typing import Protocol

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Result:
    returncode: int
    stdout: str = ""
    stderr: str = ""

    @property
    def ok(self) -> bool:
        return self.returncode == 0


class CommandError(Exception):
    """A command the agent needed exited non-zero."""

    def __init__(self, argv: Sequence[str], result: Result) -> None:
        self.argv = tuple(argv)
        self.result = result
        super().__init__(f"`{' '.join(argv)}` exited {result.returncode}: {result.stderr.strip()}")


class Runner(Protocol):
    async def run(self, argv: Sequence[str], *, input: str | None = None, check: bool = True) -> Result: ...


class CommandRunner:
    """Runs commands as child processes of the agent (hence in its network namespace)."""

    def __init__(self, timeout: float = 30.0) -> None:
        self.timeout = timeout

    async def run(self, argv: Sequence[str], *, input: str | None = None, check: bool = True) -> Result:
        proc = await asyncio.create_subprocess_exec(
            *argv, stdin=asyncio.subprocess.PIPE if input is not None else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        try:
            out, err = await asyncio.wait_for(
                proc.communicate(input.encode() if input is not None else None), self.timeout)
        except asyncio.TimeoutError:
            proc.kill()
            await proc.wait()
            raise CommandError(argv, Result(-1, "", f"timed out after {self.timeout:g}s")) from None
        result = Result(proc.returncode or 0, out.decode(errors="replace"), err.decode(errors="replace"))
        log.debug("ran %s -> %d", " ".join(argv), result.returncode)
        if check and not result.ok:
            raise CommandError(argv, result)
        return result


Responder = Callable[[tuple[str, ...], str | None], Result | None]


class FakeRunner:
    """Records commands; answers from `outputs` (argv prefix → Result or stdout text).

    The longest matching prefix wins; an unmatched command succeeds with empty
    output. `responders` are tried first and may model state (see the unit tests).
    """

    def __init__(self, outputs: dict[tuple[str, ...], Result | str] | None = None) -> None:
        self.outputs: dict[tuple[str, ...], Result | str] = dict(outputs or {})
        self.responders: list[Responder] = []
        self.calls: list[tuple[str, ...]] = []
        self.inputs: list[str | None] = []

    async def run(self, argv: Sequence[str], *, input: str | None = None, check: bool = True) -> Result:
        key = tuple(argv)
        self.calls.append(key)
        self.inputs.append(input)
        result = None
        for responder in self.responders:
            result = responder(key, input)
            if result is not None:
                break
        if result is None:
            best: tuple[str, ...] | None = None
            for prefix in self.outputs:
                if key[:len(prefix)] == prefix and (best is None or len(prefix) > len(best)):
                    best = prefix
            answer = self.outputs[best] if best is not None else ""
            result = answer if isinstance(answer, Result) else Result(0, answer)
        if check and not result.ok:
            raise CommandError(argv, result)
        return result

    def commands(self, *, reads: bool = False) -> list[str]:
        """The commands run, as strings; without `reads`, only those that change state."""
        return [" ".join(c) for c in self.calls if reads or not is_read(c)]


def is_read(argv: Sequence[str]) -> bool:
    """Whether a command only reads state (`ip -j ... show`, `iptables -S`, ...)."""
    words = set(argv)
    return bool(words & {"show", "-S", "-C", "--check"}) or argv[-1:] == ("show",)
