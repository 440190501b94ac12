"""Start, find and stop the local daemons minik8s depends on (dockerd, etcd).

`minik8s up`, `make up` and the tests all need the same two things: a Docker daemon
that answers, and etcd on loopback. On a real VM systemd owns dockerd; in the
sandboxes and in CI nothing does, so we start it ourselves. Which case applies is
detected at run time, never assumed.

Processes that must outlive the CLI that started them (`minik8s up` returns while
etcd keeps running) are started in their own session and recorded in a pidfile;
`minik8s down` stops them by that pid. Everything here signals a process by its pid
only, never by name, so it cannot hit a process somebody else started.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import os
import shutil
import signal
import socket as socketlib
import subprocess
import time
import types
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Self, TypeVar, overload

import psutil

T = TypeVar("T")

DOCKER_SOCKET = "/var/run/docker.sock"

# urllib honours http_proxy from the environment; loopback must never go through it.
LOOPBACK_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


# --- polling -------------------------------------------------------------------------


def wait_for(
    predicate: Callable[[], T],
    timeout: float,
    interval: float = 0.05,
    what: str = "condition",
) -> T:
    """Poll `predicate` until it returns something truthy, and return that value.

    Raises TimeoutError(what) when `timeout` seconds pass first. Exceptions raised by
    the predicate propagate: a predicate that may fail transiently must catch itself.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise TimeoutError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(interval)


@overload
async def wait_for_async(
    predicate: Callable[[], Awaitable[T]], timeout: float, interval: float = ..., what: str = ...
) -> T: ...
@overload
async def wait_for_async(
    predicate: Callable[[], T], timeout: float, interval: float = ..., what: str = ...
) -> T: ...
async def wait_for_async(
    predicate: Callable[[], Any],
    timeout: float,
    interval: float = 0.05,
    what: str = "condition",
) -> Any:
    """`wait_for` for async code: sleeps without blocking the event loop.

    The predicate may be a plain function or a coroutine function; async tests that
    run the API server in the same loop must use this one, or the server stalls.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return result
        if time.monotonic() >= deadline:
            raise TimeoutError(f"timed out after {timeout:g}s waiting for {what}")
        await asyncio.sleep(interval)


# --- pids and pidfiles -----------------------------------------------------------------


def port_free(port: int, host: str = "0.0.0.0") -> bool:
    """Whether `port` can be bound on `host` now (nobody listens there)."""
    with socketlib.socket() as s:
        s.setsockopt(socketlib.SOL_SOCKET, socketlib.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
            return True
        except OSError:
            return False


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago.

    Another process can take it before the caller binds it; callers that start a
    server on it should retry with a new port if the server fails to bind.
    """
    with socketlib.socket(socketlib.AF_INET, socketlib.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _reap(pid: int) -> None:
    """Collect `pid`'s exit status if it is our child, so it does not linger as a zombie."""
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def pid_alive(pid: int) -> bool:
    """Whether `pid` names a running process (a zombie counts as gone)."""
    if pid <= 0:
        return False
    _reap(pid)
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        # AccessDenied cannot happen as root; if it does the process exists.
        return psutil.pid_exists(pid)


def _signal(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


_STOPPED = frozenset({psutil.STATUS_STOPPED, psutil.STATUS_TRACING_STOP, psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD})


def all_threads_stopped(pid: int) -> bool:
    """Whether every thread of `pid` is in the stopped state (T) or gone."""
    try:
        tids = [t.id for t in psutil.Process(pid).threads()]
    except psutil.NoSuchProcess:
        return True
    for tid in tids:
        try:
            if psutil.Process(tid).status() not in _STOPPED:
                return False
        except psutil.NoSuchProcess:
            continue  # the thread has exited
    return True


def stop_pid(pid: int, timeout: float = 10) -> bool:
    """SIGTERM `pid`, wait up to `timeout` s, then SIGKILL it. True if it had to be killed.

    A stopped (SIGSTOPped) process only acts on SIGTERM once continued, so it is sent
    SIGCONT as well.
    """
    if not pid_alive(pid):
        return False
    _signal(pid, signal.SIGTERM)
    _signal(pid, signal.SIGCONT)
    try:
        wait_for(lambda: not pid_alive(pid), timeout, what=f"pid {pid} to exit")
        return False
    except TimeoutError:
        _signal(pid, signal.SIGKILL)
        wait_for(lambda: not pid_alive(pid), 10, what=f"pid {pid} to die after SIGKILL")
        return True


def write_pidfile(path: str, pid: int) -> None:
    """Record `pid` in `path` atomically (a reader never sees a half-written file)."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    tmp = f"{path}.tmp.{os.getpid()}"
    with open(tmp, "w", encoding="ascii") as f:
        f.write(f"{pid}\n")
    os.replace(tmp, path)


def _pidfile_content(path: str) -> int | None:
    try:
        with open(path, encoding="ascii") as f:
            return int(f.read().strip())
    except (OSError, ValueError, UnicodeDecodeError):
        return None


def read_pidfile(path: str, expect_name: str | None = None) -> int | None:
    """The live pid recorded in `path`, or None if the file is missing, garbled or stale.

    Pids are reused after a process exits; when `expect_name` is given (e.g. "etcd"),
    a live pid whose executable has another name is treated as stale too, so a
    leftover pidfile never leads to signalling an unrelated process.
    """
    pid = _pidfile_content(path)
    if pid is None or not pid_alive(pid):
        return None
    if expect_name is not None:
        try:
            proc = psutil.Process(pid)
            names = {proc.name()}
            cmdline = proc.cmdline()
            if cmdline:
                names.add(os.path.basename(cmdline[0]))
        except psutil.Error:
            return None
        if expect_name not in names:
            return None
    return pid


def remove_pidfile(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def log_tail(path: str | None, lines: int = 20) -> str:
    if not path:
        return ""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            tail = f.readlines()[-lines:]
    except OSError:
        return ""
    return "".join(tail)


def spawn_detached(argv: Sequence[str], log_file: str | None) -> subprocess.Popen[bytes]:
    """Start `argv` in its own session with output appended to `log_file`.

    Its own session means a Ctrl-C or hangup of the caller's terminal does not reach
    it, and it survives the caller exiting.
    """
    if log_file:
        os.makedirs(os.path.dirname(os.path.abspath(log_file)), exist_ok=True)
        out: Any = open(log_file, "ab")
    else:
        out = subprocess.DEVNULL
    try:
        return subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
        )
    finally:
        if log_file:
            out.close()


# --- dockerd -----------------------------------------------------------------------------


def docker_running(socket: str = DOCKER_SOCKET) -> bool:
    """Whether a Docker daemon answers GET /_ping on the unix socket `socket`."""
    try:
        with socketlib.socket(socketlib.AF_UNIX, socketlib.SOCK_STREAM) as s:
            s.settimeout(2)
            s.connect(socket)
            s.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
            reply = b""
            while chunk := s.recv(4096):
                reply += chunk
    except OSError:
        return False
    status_line, _, rest = reply.partition(b"\r\n")
    return status_line.split(b" ")[1:2] == [b"200"] and rest.rstrip().endswith(b"OK")


def systemd_running() -> bool:
    """Whether systemd is the init system (the check sd_booted(3) documents)."""
    return os.path.isdir("/run/systemd/system")


def _systemd_has_docker() -> bool:
    if shutil.which("systemctl") is None:
        return False
    probe = subprocess.run(
        ["systemctl", "list-unit-files", "docker.service", "--no-legend"],
        capture_output=True,
        text=True,
        check=False,
    )
    return probe.returncode == 0 and "docker.service" in probe.stdout


def ensure_dockerd(
    *,
    socket: str = DOCKER_SOCKET,
    log_file: str,
    timeout: float = 60,
    binary: str = "dockerd",
    extra_args: Sequence[str] = (),
) -> subprocess.Popen[bytes] | None:
    """Make sure a Docker daemon answers on `socket`; start one if needed.

    Returns None if one was already running or systemd started it, else the Popen of
    the dockerd we started (detached: it keeps running after the caller exits; stop it
    with `stop_pid(proc.pid)`). `log_file` receives a started daemon's output.
    """
    if docker_running(socket):
        return None

    if socket == DOCKER_SOCKET and systemd_running() and _systemd_has_docker():
        started = subprocess.run(
            ["systemctl", "start", "docker"], capture_output=True, text=True, check=False
        )
        if started.returncode != 0:
            raise RuntimeError(
                f"systemctl start docker failed: {started.stderr.strip()}; "
                "see `journalctl -u docker`"
            )
        try:
            wait_for(lambda: docker_running(socket), timeout, what="dockerd (systemd) to answer")
        except TimeoutError:
            raise RuntimeError(
                f"docker.service started but {socket} did not answer within {timeout:g}s; "
                "see `journalctl -u docker`"
            ) from None
        return None

    path = shutil.which(binary) or shutil.which(binary, path="/usr/sbin:/usr/bin:/sbin:/bin")
    if path is None:
        raise RuntimeError(
            f"no Docker daemon answers on {socket} and {binary!r} is not installed "
            "(Debian: apt-get install -y docker.io)"
        )
    argv = [path, *extra_args]
    if socket != DOCKER_SOCKET:
        argv += ["-H", f"unix://{socket}"]
    proc = spawn_detached(argv, log_file)

    try:
        wait_for(
            lambda: proc.poll() is not None or docker_running(socket),
            timeout,
            interval=0.1,
            what="dockerd to answer",
        )
    except TimeoutError:
        stop_pid(proc.pid)
        raise RuntimeError(
            f"dockerd (pid {proc.pid}) did not answer on {socket} within {timeout:g}s; "
            f"log: {log_file}\n{log_tail(log_file)}"
        ) from None
    if proc.poll() is not None:
        # Someone else may have started a daemon meanwhile (ours then exits on the
        # pidfile lock): that is as good as ours.
        if docker_running(socket):
            return None
        raise RuntimeError(
            f"dockerd exited with status {proc.returncode} during startup; "
            f"log: {log_file}\n{log_tail(log_file)}"
        )
    return proc


# --- etcd --------------------------------------------------------------------------------


def etcd_healthy(endpoint: str, timeout: float = 1.0) -> bool:
    """Whether etcd at `endpoint` (http://127.0.0.1:P) reports itself healthy."""
    try:
        with LOOPBACK_OPENER.open(f"{endpoint}/health", timeout=timeout) as resp:
            body = json.loads(resp.read())
    except (OSError, ValueError):
        # URLError, connection refused, timeouts and HTTP errors are all OSErrors.
        return False
    return isinstance(body, dict) and body.get("health") == "true"


def _listening(pid: int, port: int) -> bool:
    """Whether process `pid` has a TCP socket listening on `port`."""
    try:
        conns = psutil.Process(pid).net_connections(kind="tcp")
    except psutil.Error:
        return False
    return any(c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port for c in conns)


class EtcdProcess:
    """One etcd member on loopback, for tests and for `minik8s up`.

    With `detach=True` etcd runs in its own session and its pid goes to `pidfile`
    (default `<data_dir>/etcd.pid`), so it outlives the process that started it; a
    later process stops it with `stop_pid(read_pidfile(path, "etcd"))`.
    """

    def __init__(
        self,
        data_dir: str,
        client_port: int | None = None,
        peer_port: int | None = None,
        *,
        name: str = "default",
        log_file: str | None = None,
        binary: str = "etcd",
        detach: bool = False,
        pidfile: str | None = None,
    ) -> None:
        self.data_dir = data_dir
        self._pick_ports = client_port is None or peer_port is None
        self.client_port = client_port if client_port is not None else free_port()
        self.peer_port = peer_port if peer_port is not None else free_port()
        self.name = name
        # etcd only warns about unknown files in its data dir, so the log can live there.
        self.log_file = log_file if log_file is not None else os.path.join(data_dir, "etcd.log")
        self.binary = binary
        self.detach = detach
        self.pidfile = pidfile if pidfile is not None else os.path.join(data_dir, "etcd.pid")
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.client_port}"

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def argv(self) -> list[str]:
        client = self.endpoint
        peer = f"http://127.0.0.1:{self.peer_port}"
        return [
            self.binary,
            "--name", self.name,
            "--data-dir", self.data_dir,
            "--listen-client-urls", client,
            "--advertise-client-urls", client,
            "--listen-peer-urls", peer,
            "--initial-advertise-peer-urls", peer,
            "--initial-cluster", f"{self.name}={peer}",
        ]  # fmt: skip

    def start(self, timeout: float = 30) -> Self:
        """Launch etcd and wait until /health says so. Returns self."""
        if self.proc is not None and self.proc.poll() is None:
            raise RuntimeError(f"etcd already running (pid {self.proc.pid})")
        if shutil.which(self.binary) is None:
            raise RuntimeError(
                f"{self.binary!r} not found (Debian: apt-get install -y etcd-server)"
            )
        os.makedirs(self.data_dir, mode=0o700, exist_ok=True)
        # Ports we picked ourselves may have been taken in the meantime: try fresh ones.
        attempts = 3 if self._pick_ports else 1
        for attempt in range(attempts):
            if attempt:
                self.client_port, self.peer_port = free_port(), free_port()
            if self._launch(timeout):
                return self
        raise RuntimeError(
            f"etcd exited during startup (status {self.proc.returncode if self.proc else '?'}); "
            f"log: {self.log_file}\n{log_tail(self.log_file)}"
        )

    def _launch(self, timeout: float) -> bool:
        """Start once; False if etcd exited during startup (e.g. a port was taken)."""
        if self.detach:
            self.proc = spawn_detached(self.argv(), self.log_file)
        else:
            with open(self.log_file, "ab") as out:
                self.proc = subprocess.Popen(
                    self.argv(), stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT
                )
        proc = self.proc

        def up() -> bool:
            if proc.poll() is not None:
                raise ChildProcessError
            # Another process may hold the port (a free_port race, or a stale etcd); its
            # answer must not pass for ours.
            return _listening(proc.pid, self.client_port) and etcd_healthy(self.endpoint)

        try:
            wait_for(up, timeout, interval=0.05, what="etcd to become healthy")
        except ChildProcessError:
            return False
        except TimeoutError:
            self.kill()
            raise RuntimeError(
                f"etcd (pid {proc.pid}) not healthy at {self.endpoint} within {timeout:g}s; "
                f"log: {self.log_file}\n{log_tail(self.log_file)}"
            ) from None
        if self.detach:
            write_pidfile(self.pidfile, proc.pid)
        return True

    def running(self) -> bool:
        return self.proc is not None and pid_alive(self.proc.pid)

    def healthy(self, timeout: float = 1.0) -> bool:
        return etcd_healthy(self.endpoint, timeout)

    def pause(self, timeout: float = 10) -> None:
        """Freeze etcd (SIGSTOP): clients see a server that accepts but never answers.

        Returns once every thread is stopped. kill() only queues the signal; until each
        thread has joined the group stop, a Go thread still running on another CPU can
        poll the network and answer a request sent after this call.
        """
        if self.proc is not None:
            pid = self.proc.pid
            _signal(pid, signal.SIGSTOP)
            wait_for(lambda: all_threads_stopped(pid), timeout, interval=0.01,
                     what=f"etcd (pid {pid}) to stop")

    def resume(self) -> None:
        if self.proc is not None:
            _signal(self.proc.pid, signal.SIGCONT)

    def stop(self, timeout: float = 10) -> None:
        """SIGTERM, then SIGKILL after `timeout` s; waits until the process is gone."""
        if self.proc is None:
            return
        stop_pid(self.proc.pid, timeout)
        self._collect()

    def kill(self) -> None:
        """SIGKILL at once (a crash, as far as etcd and its clients can tell)."""
        if self.proc is None:
            return
        _signal(self.proc.pid, signal.SIGKILL)
        wait_for(lambda: not pid_alive(self.proc.pid), 10, what="etcd to die")  # type: ignore[union-attr]
        self._collect()

    def _collect(self) -> None:
        assert self.proc is not None
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=1)
        if self.detach and _pidfile_content(self.pidfile) == self.proc.pid:
            remove_pidfile(self.pidfile)

    def __enter__(self) -> Self:
        if not self.running():
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: types.TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return (
            f"EtcdProcess(pid={self.pid}, endpoint={self.endpoint!r}, data_dir={self.data_dir!r})"
        )
