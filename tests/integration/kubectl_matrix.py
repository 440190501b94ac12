"""The kubectl matrix: everyday commands run by each installed kubectl, their results kept as a table.

A `Step` is one kubectl command line (with `{ns}`, `{tmp}`, `{node}`, ... filled in by the
`Runner`) and a check of its result, which returns why it is wrong or None. Steps run in
order, each version in its own namespace; later steps build on earlier ones. Every
result is recorded (`build/kubectl-matrix/<part>-<version>.json`), and
`python -m tests.integration.kubectl_matrix` turns the recorded results into the table of
docs/kubectl.md (between its `matrix:begin`/`matrix:end` markers); the tests do the same
when MINIK8S_KUBECTL_MATRIX_DOCS=1.

`PENDING` names the steps that still fail for a reason outside minik8s's kubectl surface
(a kind another branch brings): the tests require exactly those to fail, so a pending
step that starts to pass, or any other that fails, fails the test.
"""
from __future__ import annotations

import dataclasses
import json
import os
import pathlib
import re
import select
import shlex
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

REPO = pathlib.Path(__file__).resolve().parents[2]
SDK_BIN = pathlib.Path("/usr/lib/google-cloud-sdk/bin")
RESULTS = REPO / "build" / "kubectl-matrix"
DOC = REPO / "docs" / "kubectl.md"
BEGIN, END = "<!-- matrix:begin -->", "<!-- matrix:end -->"


def installed_versions() -> list[str]:
    found = [p.name.split(".", 1)[1] for p in SDK_BIN.glob("kubectl.1.*")]
    return sorted(found, key=lambda v: tuple(int(x) for x in v.split(".")))


@dataclasses.dataclass
class Result:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str
    seconds: float


Check = Callable[[Result], "str | None"]


@dataclasses.dataclass
class Step:
    id: str  # the row of the table: the command as people type it
    args: str | Sequence[str]  # a shell-like string (formatted) or an argv list
    check: Check
    stdin: str | None = None
    env: dict[str, str] = dataclasses.field(default_factory=dict)
    timeout: float = 60
    group: str = ""  # a heading in the table
    # Drives kubectl itself instead (a follow, a forward): returns the Result to check.
    action: Callable[[Runner], Result] | None = None


# --------------------------------------------------------------------------- checks


def ok(*needles: str) -> Check:
    """Exit 0 and every needle in stdout."""
    def check(r: Result) -> str | None:
        if r.returncode != 0:
            return f"exit {r.returncode}: {(r.stderr or r.stdout).strip()[:300]}"
        missing = [n for n in needles if n not in r.stdout]
        return f"missing {missing!r} in {r.stdout[:300]!r}" if missing else None
    return check


def matches(pattern: str) -> Check:
    def check(r: Result) -> str | None:
        if r.returncode != 0:
            return f"exit {r.returncode}: {(r.stderr or r.stdout).strip()[:300]}"
        return None if re.search(pattern, r.stdout, re.M) else f"{pattern!r} not in {r.stdout[:300]!r}"
    return check


def exits(code: int, *needles: str, stream: str = "stdout") -> Check:
    def check(r: Result) -> str | None:
        if r.returncode != code:
            return f"exit {r.returncode} (wanted {code}): {(r.stderr or r.stdout).strip()[:300]}"
        text = r.stdout if stream == "stdout" else r.stderr
        missing = [n for n in needles if n not in text]
        return f"missing {missing!r} in {text[:300]!r}" if missing else None
    return check


def both(*checks: Check) -> Check:
    def check(r: Result) -> str | None:
        for c in checks:
            why = c(r)
            if why:
                return why
        return None
    return check


def then(first: Check, after: Callable[[], str | None]) -> Check:
    """`first`, then a check of the cluster's state (through the harness)."""
    def check(r: Result) -> str | None:
        return first(r) or after()
    return check


# --------------------------------------------------------------------------- running


class Runner:
    """Runs steps with one kubectl binary, kubeconfig and namespace."""

    def __init__(self, version: str, kubeconfig: str, namespace: str, tmp: pathlib.Path,
                 values: dict[str, str] | None = None) -> None:
        self.version = version
        self.binary = str(SDK_BIN / f"kubectl.{version}")
        self.kubeconfig = kubeconfig
        self.namespace = namespace
        self.tmp = tmp
        tmp.mkdir(parents=True, exist_ok=True)
        self.values = {"ns": namespace, "tmp": str(tmp), "v": version.replace(".", ""), **(values or {})}
        self.env = dict(os.environ, KUBECONFIG=kubeconfig, KUBECACHEDIR=str(tmp / "cache"), HOME=str(tmp))
        self.env.pop("KUBECTL_EXTERNAL_DIFF", None)

    def argv(self, args: str | Sequence[str]) -> list[str]:
        parts = shlex.split(self.fill(args)) if isinstance(args, str) else [self.fill(a) for a in args]
        return [self.binary, "-n", self.namespace, *parts]

    def run(self, step: Step) -> Result:
        if step.action is not None:
            return step.action(self)
        argv = self.argv(step.args)
        env = dict(self.env, **{k: self.fill(v) for k, v in step.env.items()})
        started = time.monotonic()
        try:
            proc = subprocess.run(argv, input=step.stdin, capture_output=True, text=True, env=env,
                                  timeout=step.timeout, check=False)
            return Result(argv, proc.returncode, proc.stdout, proc.stderr, time.monotonic() - started)
        except subprocess.TimeoutExpired as e:
            out = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
            return Result(argv, -1, out, f"timed out after {step.timeout}s", time.monotonic() - started)

    def popen(self, args: str | Sequence[str]) -> subprocess.Popen[bytes]:
        return subprocess.Popen(self.argv(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=self.env)

    def fill(self, text: str) -> str:
        """`text` with {ns}, {tmp}, ... replaced (and nothing else: YAML has braces of its own)."""
        for key, value in self.values.items():
            text = text.replace("{" + key + "}", value)
        return text

    def file(self, name: str, text: str) -> str:
        path = self.tmp / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.fill(text))
        return str(path)


def read_line(proc: subprocess.Popen[bytes], timeout: float = 30) -> str:
    """One line of a running kubectl's stdout, waiting at most `timeout`."""
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    line = b""
    while not line.endswith(b"\n"):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"no line within {timeout}s (got {line!r})")
        ready, _, _ = select.select([proc.stdout], [], [], remaining)
        if ready:
            ch = os.read(proc.stdout.fileno(), 1)
            if not ch:
                raise EOFError(f"ended after {line!r}")
            line += ch
    return line.decode().rstrip("\n")


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


@dataclasses.dataclass
class Outcome:
    id: str
    group: str
    status: str  # pass, fail, pending (a known failure), xpass (a pending step that passed)
    detail: str
    seconds: float


def run_steps(runner: Runner, steps: Sequence[Step], pending: dict[str, str]) -> list[Outcome]:
    outcomes = []
    for step in steps:
        result = runner.run(step)
        try:
            why = step.check(result)
        except Exception as e:  # noqa: BLE001 - a check that blows up is a failed check
            why = f"check raised {type(e).__name__}: {e}"
        if step.id in pending:
            status, detail = ("pending", pending[step.id]) if why else ("xpass", "passes now: drop it from PENDING")
        else:
            status, detail = ("fail", why) if why else ("pass", "")
        outcomes.append(Outcome(step.id, step.group, status, detail or "", result.seconds))
    return outcomes


def record(part: str, version: str, outcomes: Sequence[Outcome]) -> pathlib.Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{part}-{version}.json"
    path.write_text(json.dumps({"part": part, "version": version,
                                "steps": [dataclasses.asdict(o) for o in outcomes]}, indent=1))
    if os.environ.get("MINIK8S_KUBECTL_MATRIX_DOCS") == "1":
        render()
    return path


def failures(outcomes: Sequence[Outcome]) -> list[str]:
    return [f"{o.id}: {o.status}: {o.detail}" for o in outcomes if o.status in ("fail", "xpass")]


# --------------------------------------------------------------------------- the table

_MARK = {"pass": "✓", "fail": "✗", "xpass": "✓"}


def render() -> str:
    """Rewrite the table in docs/kubectl.md from the recorded results; returns it."""
    by_part: dict[str, dict[str, dict[str, dict[str, Any]]]] = {}
    for path in sorted(RESULTS.glob("*.json")):
        data = json.loads(path.read_text())
        by_part.setdefault(data["part"], {})[data["version"]] = {s["id"]: s for s in data["steps"]}
    lines: list[str] = []
    notes: dict[str, int] = {}
    for part in sorted(by_part, key=lambda p: (p != "api", p)):
        versions = sorted(by_part[part], key=lambda v: tuple(int(x) for x in v.split(".")))
        title = {"api": "API server and controllers (no pods running)",
                 "up": "A `minik8s up` cluster (pods running on Docker)"}.get(part, part)
        lines += [f"**{title}**", "", "| command | " + " | ".join(versions) + " |",
                  "|---|" + "---|" * len(versions)]
        order: list[str] = []
        group_of: dict[str, str] = {}
        for v in versions:
            for sid, step in by_part[part][v].items():
                if sid not in order:
                    order.append(sid)
                    group_of[sid] = step.get("group", "")
        for sid in order:
            cells = []
            for v in versions:
                step = by_part[part][v].get(sid)
                if step is None:
                    cells.append("–")
                elif step["status"] == "pending":
                    n = notes.setdefault(step["detail"], len(notes) + 1)
                    cells.append(f"✗ ({n})")
                else:
                    cells.append(_MARK[step["status"]])
            lines.append(f"| `kubectl {sid}` | " + " | ".join(cells) + " |")
        lines.append("")
    if notes:
        lines += [f"({n}) {text}" for text, n in sorted(notes.items(), key=lambda kv: kv[1])]
        lines.append("")
    table = "\n".join(lines)
    if DOC.exists():
        text = DOC.read_text()
        if BEGIN in text and END in text:
            head, rest = text.split(BEGIN, 1)
            _, tail = rest.split(END, 1)
            DOC.write_text(f"{head}{BEGIN}\n{table}\n{END}{tail}")
    return table


if __name__ == "__main__":
    sys.stdout.write(render())
