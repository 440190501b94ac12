"""`minik8s supervise`: keep the single-host cluster's processes running.

`minik8s up` starts etcd and every component as detached processes; a process
that crashed used to stay down until the next `up`. The supervisor is one small
process, started by `up` and outliving it, that owns them instead: it starts
each program of its plan (a JSON file `up` writes into the state's run
directory, adding programs in start order), notices when one exits and starts
it again after an exponential back-off (1 s, 2 s, 4 s ... at most 60 s; back to
1 s once a run has lasted a minute), as systemd's `Restart=on-failure` does for
the same programs on a VM. It records every program's pid, restarts, last exit
status and the last lines of its log in `status.json`, which `minik8s status`
prints. SIGTERM stops the programs in reverse order (SIGTERM, then SIGKILL after
a grace period) and then the supervisor.

Programs run in their own sessions, so a supervisor that dies leaves the cluster
running; a new one adopts what its pidfiles name (a process whose command line
is the program's), though it cannot learn an adopted process's exit status.
The operating system calls (spawn, wait, signal, liveness, clock) go through a
small interface, so the unit tests drive the logic with a fake process table.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import os
import pathlib
import signal
import time
from typing import Any, Callable, Protocol

log = logging.getLogger(__name__)

PLAN_FILE = "supervise.json"
STATUS_FILE = "status.json"
INITIAL_BACKOFF = 1.0
MAX_BACKOFF = 60.0
# A run at least this long counts as healthy: the next crash starts the back-off over.
HEALTHY_AFTER = 60.0
STOP_GRACE = 15.0


@dataclasses.dataclass(frozen=True)
class Program:
    """One supervised process: its command line, its log and its pidfile."""

    name: str
    argv: tuple[str, ...]
    log: str
    pidfile: str

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "argv": list(self.argv), "log": self.log, "pidfile": self.pidfile}

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> "Program":
        return cls(str(doc["name"]), tuple(str(a) for a in doc["argv"]), str(doc["log"]), str(doc["pidfile"]))


@dataclasses.dataclass
class State:
    """What the supervisor knows of one program (status.json holds these)."""

    pid: int | None = None
    state: str = "stopped"  # running, backoff, stopped
    restarts: int = 0
    started_at: float | None = None  # wall-clock time of the current run's start
    last_exit: str | None = None
    last_error: str | None = None
    next_start: float | None = None  # wall-clock time of the next start (in back-off)
    backoff: float = INITIAL_BACKOFF
    adopted: bool = False  # not our child: started by an earlier supervisor or by `up`
    started_mono: float = 0.0
    next_start_mono: float = 0.0


class Os(Protocol):
    """The process-table operations the supervisor needs."""

    def spawn(self, argv: tuple[str, ...], log_file: str) -> int: ...
    def reap(self) -> list[tuple[int, int]]: ...
    def alive(self, pid: int) -> bool: ...
    def cmdline(self, pid: int) -> tuple[str, ...] | None: ...
    def kill(self, pid: int, sig: int) -> None: ...
    def monotonic(self) -> float: ...
    def wall(self) -> float: ...


class RealOs:
    """The real process table."""

    def spawn(self, argv: tuple[str, ...], log_file: str) -> int:
        from minik8s.util import procs

        return procs.spawn_detached(list(argv), log_file).pid

    def reap(self) -> list[tuple[int, int]]:
        done: list[tuple[int, int]] = []
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return done
            if pid == 0:
                return done
            done.append((pid, status))

    def alive(self, pid: int) -> bool:
        from minik8s.util import procs

        return procs.pid_alive(pid)

    def cmdline(self, pid: int) -> tuple[str, ...] | None:
        try:
            raw = pathlib.Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return None
        return tuple(part.decode(errors="replace") for part in raw.split(b"\0") if part)

    def kill(self, pid: int, sig: int) -> None:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass

    def monotonic(self) -> float:
        return time.monotonic()

    def wall(self) -> float:
        return time.time()


def describe_exit(status: int) -> str:
    """A wait status as a person reads it."""
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = str(sig)
        return f"killed by signal {sig} ({name})"
    if os.WIFEXITED(status):
        return f"exit status {os.WEXITSTATUS(status)}"
    return f"wait status {status}"


def log_tail(path: str, lines: int = 5, limit: int = 16384) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - limit))
            text = f.read().decode(errors="replace")
    except OSError:
        return ""
    return "\n".join(line for line in text.splitlines()[-lines:])


def write_json(path: pathlib.Path, doc: Any) -> None:
    """Replace `path` atomically (readers never see half a file)."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(doc, indent=2, sort_keys=True))
    os.replace(tmp, path)


def read_plan(run_dir: pathlib.Path) -> list[Program]:
    try:
        doc = json.loads((run_dir / PLAN_FILE).read_text())
    except (OSError, ValueError):
        return []
    return [Program.from_json(p) for p in doc.get("programs") or []]


def add_to_plan(run_dir: pathlib.Path, program: Program) -> None:
    """Add (or replace) a program in the plan; the supervisor picks it up within a tick."""
    programs = [p for p in read_plan(run_dir) if p.name != program.name] + [program]
    write_json(run_dir / PLAN_FILE, {"programs": [p.to_json() for p in programs]})


def read_status(run_dir: pathlib.Path) -> dict[str, Any]:
    try:
        doc: dict[str, Any] = json.loads((run_dir / STATUS_FILE).read_text())
        return doc
    except (OSError, ValueError):
        return {}


class Supervisor:
    def __init__(self, run_dir: pathlib.Path, *, os_: Os | None = None,
                 initial_backoff: float = INITIAL_BACKOFF, max_backoff: float = MAX_BACKOFF,
                 healthy_after: float = HEALTHY_AFTER, stop_grace: float = STOP_GRACE) -> None:
        self.run_dir = run_dir
        self.os = os_ or RealOs()
        self.initial_backoff = initial_backoff
        self.max_backoff = max_backoff
        self.healthy_after = healthy_after
        self.stop_grace = stop_grace
        self.programs: list[Program] = []
        self.states: dict[str, State] = {}
        self._plan_stamp: tuple[float, int] | None = None
        self._by_pid: dict[int, str] = {}
        self._last_status: dict[str, Any] | None = None
        self.stopping = False

    # -- the plan ---------------------------------------------------------------------

    def reload_plan(self) -> None:
        path = self.run_dir / PLAN_FILE
        try:
            st = path.stat()
        except OSError:
            return
        stamp = (st.st_mtime, st.st_size)
        if stamp == self._plan_stamp:
            return
        self._plan_stamp = stamp
        self.programs = read_plan(self.run_dir)
        for program in self.programs:
            if program.name not in self.states:
                self.states[program.name] = State(backoff=self.initial_backoff)
                self._adopt(program)

    def _adopt(self, program: Program) -> None:
        """A live process the program's pidfile names, running the program's command line."""
        try:
            pid = int(pathlib.Path(program.pidfile).read_text().strip())
        except (OSError, ValueError):
            return
        if not self.os.alive(pid) or self.os.cmdline(pid) != program.argv:
            return
        st = self.states[program.name]
        st.pid, st.state, st.adopted = pid, "running", True
        st.started_at, st.started_mono = self.os.wall(), self.os.monotonic()
        self._by_pid[pid] = program.name
        log.info("%s: adopted running pid %d", program.name, pid)

    # -- one round ------------------------------------------------------------------------

    def tick(self) -> None:
        """Reap what exited, notice adopted processes that are gone, start what is due."""
        self.reload_plan()
        for pid, status in self.os.reap():
            name = self._by_pid.pop(pid, None)
            if name is not None:
                self._exited(name, describe_exit(status))
        for name, st in self.states.items():
            if st.state == "running" and st.adopted and st.pid is not None and not self.os.alive(st.pid):
                self._by_pid.pop(st.pid, None)
                self._exited(name, "exited (status unknown: not started by this supervisor)")
        if not self.stopping:
            now = self.os.monotonic()
            for program in self.programs:
                st = self.states[program.name]
                if st.state == "stopped" or (st.state == "backoff" and now >= st.next_start_mono):
                    self._start(program)
        self.write_status()

    def _exited(self, name: str, how: str) -> None:
        st = self.states[name]
        program = next(p for p in self.programs if p.name == name)
        ran = self.os.monotonic() - st.started_mono
        st.last_exit = how
        st.last_error = log_tail(program.log) or None
        st.pid = None
        st.adopted = False
        if self.stopping:
            st.state = "stopped"
            return
        if ran >= self.healthy_after:
            st.backoff = self.initial_backoff
        delay = st.backoff
        st.backoff = min(st.backoff * 2, self.max_backoff)
        st.state = "backoff"
        st.next_start_mono = self.os.monotonic() + delay
        st.next_start = self.os.wall() + delay
        log.warning("%s %s after %.1fs; restarting in %.0fs", name, how, ran, delay)

    def _start(self, program: Program) -> None:
        st = self.states[program.name]
        restarting = st.state == "backoff"
        try:
            pid = self.os.spawn(program.argv, program.log)
        except OSError as e:
            st.last_exit, st.last_error = "could not start", str(e)
            delay = st.backoff
            st.backoff = min(st.backoff * 2, self.max_backoff)
            st.state, st.next_start_mono, st.next_start = "backoff", self.os.monotonic() + delay, self.os.wall() + delay
            log.warning("%s could not start: %s; retrying in %.0fs", program.name, e, delay)
            return
        if restarting:
            st.restarts += 1
        st.pid, st.state, st.adopted = pid, "running", False
        st.started_at, st.started_mono, st.next_start = self.os.wall(), self.os.monotonic(), None
        self._by_pid[pid] = program.name
        _write_pidfile(program.pidfile, pid)
        log.info("%s started (pid %d)%s", program.name, pid, f", restart {st.restarts}" if restarting else "")

    # -- status -----------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        programs = []
        for program in self.programs:
            st = self.states[program.name]
            programs.append({"name": program.name, "pid": st.pid, "state": st.state, "restarts": st.restarts,
                             "startedAt": st.started_at, "lastExit": st.last_exit, "lastError": st.last_error,
                             "nextStart": st.next_start, "log": program.log})
        return {"supervisor": os.getpid(), "updatedAt": self.os.wall(), "programs": programs}

    def write_status(self) -> None:
        doc = self.status()
        unchanged = {**doc, "updatedAt": None}
        if self._last_status == unchanged:
            return
        self._last_status = unchanged
        write_json(self.run_dir / STATUS_FILE, doc)

    # -- stopping -----------------------------------------------------------------------------

    def stop_all(self, sleep: Callable[[float], None] = time.sleep) -> None:
        """Stop every program, the last started first: SIGTERM, then SIGKILL after the grace."""
        self.stopping = True
        for program in reversed(self.programs):
            st = self.states[program.name]
            if st.pid is None:
                st.state = "stopped"
                continue
            pid = st.pid
            self.os.kill(pid, signal.SIGTERM)
            deadline = self.os.monotonic() + self.stop_grace
            while self.os.alive(pid) and self.os.monotonic() < deadline:
                self._reap_quietly()
                sleep(0.05)
            if self.os.alive(pid):
                self.os.kill(pid, signal.SIGKILL)
                while self.os.alive(pid):
                    self._reap_quietly()
                    sleep(0.05)
            self._reap_quietly()
            st.pid, st.state, st.last_exit = None, "stopped", "stopped by the supervisor"
            _remove(program.pidfile)
            log.info("%s stopped (pid %d)", program.name, pid)
        self.write_status()

    def _reap_quietly(self) -> None:
        for pid, _status in self.os.reap():
            self._by_pid.pop(pid, None)

    def run(self, interval: float = 0.2) -> None:
        """Supervise until SIGTERM/SIGINT, then stop everything."""
        stop = False

        def on_signal(_sig: int, _frame: Any) -> None:
            nonlocal stop
            stop = True

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        log.info("supervising %s (pid %d)", self.run_dir, os.getpid())
        while not stop:
            try:
                self.tick()
            except Exception:
                log.exception("supervisor round failed")
            time.sleep(interval)
        log.info("stopping every program")
        self.stop_all()


def _write_pidfile(path: str, pid: int) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(f"{pid}\n")
    os.replace(tmp, path)


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
