"""minik8s.util.procs without real daemons: fake binaries and sockets stand in for them."""

from __future__ import annotations

import os
import pathlib
import signal
import socket
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from minik8s.util import procs

# A stand-in dockerd: answers every request on `-H unix://PATH` like /_ping does.
FAKE_DOCKERD = """
import os, socket, sys
path = sys.argv[sys.argv.index("-H") + 1].removeprefix("unix://")
s = socket.socket(socket.AF_UNIX)
s.bind(path)
s.listen()
print("fake dockerd listening on", path, flush=True)
while True:
    conn, _ = s.accept()
    conn.recv(4096)
    conn.sendall(b"HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nOK")
    conn.close()
"""


def _script(tmp_path: pathlib.Path, name: str, body: str) -> str:
    path = tmp_path / name
    path.write_text(f"#!{sys.executable}\n{textwrap.dedent(body)}")
    path.chmod(0o755)
    return str(path)


@pytest.fixture
def children() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Processes a test started; killed afterwards whatever happened."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for p in started:
        if p.poll() is None:
            p.kill()
            p.wait()


def _sleeper(children: list[subprocess.Popen[bytes]], *, ignore_term: bool = False) -> int:
    code = "import signal, time\n"
    if ignore_term:
        code += "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    code += "print('ready', flush=True)\ntime.sleep(600)\n"
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
    children.append(p)
    assert p.stdout is not None and p.stdout.readline() == b"ready\n"  # handler installed
    return p.pid


# --- polling -------------------------------------------------------------------------


def test_wait_for_returns_the_truthy_value() -> None:
    calls = iter([0, None, "", 42])
    assert procs.wait_for(lambda: next(calls), 5, interval=0) == 42


def test_wait_for_names_what_timed_out() -> None:
    with pytest.raises(TimeoutError, match="the moon"):
        procs.wait_for(lambda: False, 0.05, interval=0.01, what="the moon")


async def test_wait_for_async_accepts_coroutine_predicates() -> None:
    calls = iter([False, False, "done"])

    async def predicate() -> object:
        return next(calls)

    assert await procs.wait_for_async(predicate, 5, interval=0) == "done"
    with pytest.raises(TimeoutError, match="never"):
        await procs.wait_for_async(lambda: 0, 0.05, interval=0.01, what="never")


def test_free_port_is_bindable() -> None:
    port = procs.free_port()
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))


# --- pids and pidfiles -----------------------------------------------------------------


def test_pidfile_roundtrip_and_stale_entries(
    tmp_path: pathlib.Path, children: list[subprocess.Popen[bytes]]
) -> None:
    pid = _sleeper(children)
    path = str(tmp_path / "run" / "x.pid")
    assert procs.read_pidfile(path) is None
    procs.write_pidfile(path, pid)
    assert procs.read_pidfile(path) == pid
    assert procs.read_pidfile(path, expect_name=os.path.basename(sys.executable)) == pid
    # A live pid that belongs to another program is as good as stale.
    assert procs.read_pidfile(path, expect_name="etcd") is None

    assert not procs.stop_pid(pid)
    assert not procs.pid_alive(pid)
    assert procs.read_pidfile(path) is None

    pathlib.Path(path).write_text("garbage\n")
    assert procs.read_pidfile(path) is None
    procs.remove_pidfile(path)
    procs.remove_pidfile(path)  # idempotent
    assert not os.path.exists(path)


def test_stop_pid_kills_what_ignores_sigterm(children: list[subprocess.Popen[bytes]]) -> None:
    pid = _sleeper(children, ignore_term=True)
    assert procs.stop_pid(pid, timeout=0.3) is True
    assert not procs.pid_alive(pid)


def test_stop_pid_continues_a_stopped_process(children: list[subprocess.Popen[bytes]]) -> None:
    pid = _sleeper(children)
    os.kill(pid, signal.SIGSTOP)
    assert procs.stop_pid(pid, timeout=10) is False  # ended by SIGTERM, not killed
    assert not procs.pid_alive(pid)


def test_all_threads_stopped_follows_every_thread(children: list[subprocess.Popen[bytes]]) -> None:
    code = (
        "import threading, time\n"
        "for _ in range(3): threading.Thread(target=time.sleep, args=(600,), daemon=True).start()\n"
        "print('ready', flush=True)\ntime.sleep(600)\n"
    )
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
    children.append(p)
    assert p.stdout is not None and p.stdout.readline() == b"ready\n"
    assert len(os.listdir(f"/proc/{p.pid}/task")) == 4
    assert not procs.all_threads_stopped(p.pid)
    os.kill(p.pid, signal.SIGSTOP)
    procs.wait_for(lambda: procs.all_threads_stopped(p.pid), 10, interval=0.01, what="group stop")
    os.kill(p.pid, signal.SIGCONT)
    procs.wait_for(lambda: not procs.all_threads_stopped(p.pid), 10, interval=0.01, what="continue")
    p.kill()
    p.wait()
    assert procs.all_threads_stopped(p.pid)  # gone counts as stopped


def test_pid_alive_of_nonsense() -> None:
    assert not procs.pid_alive(0)
    assert not procs.pid_alive(-5)
    assert procs.pid_alive(os.getpid())


# --- dockerd ---------------------------------------------------------------------------


def _serve_once(path: str, reply: bytes) -> threading.Thread:
    server = socket.socket(socket.AF_UNIX)
    server.bind(path)
    server.listen()

    def serve() -> None:
        with server:
            conn, _ = server.accept()
            with conn:
                conn.recv(4096)
                conn.sendall(reply)

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    return t


def test_docker_running_checks_the_ping_answer(tmp_path: pathlib.Path) -> None:
    assert not procs.docker_running(str(tmp_path / "nothing.sock"))

    ok = str(tmp_path / "ok.sock")
    t = _serve_once(ok, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK")
    assert procs.docker_running(ok)
    t.join(5)

    bad = str(tmp_path / "bad.sock")
    t = _serve_once(bad, b"HTTP/1.1 500 Internal Server Error\r\n\r\nnope")
    assert not procs.docker_running(bad)
    t.join(5)


def test_ensure_dockerd_starts_a_detached_daemon(tmp_path: pathlib.Path) -> None:
    sock = str(tmp_path / "docker.sock")
    log = str(tmp_path / "log" / "dockerd.log")
    binary = _script(tmp_path, "dockerd", FAKE_DOCKERD)
    proc = procs.ensure_dockerd(socket=sock, log_file=log, binary=binary, timeout=20)
    try:
        assert proc is not None
        assert procs.docker_running(sock)
        assert os.getsid(proc.pid) == proc.pid, "dockerd must not share the caller's session"
        assert "fake dockerd listening" in pathlib.Path(log).read_text()
        # Already answering: nothing new is started.
        assert procs.ensure_dockerd(socket=sock, log_file=log, binary=binary) is None
    finally:
        if proc is not None:
            procs.stop_pid(proc.pid)
    assert not procs.pid_alive(proc.pid)


def test_ensure_dockerd_reports_a_daemon_that_exits(tmp_path: pathlib.Path) -> None:
    log = str(tmp_path / "dockerd.log")
    binary = _script(
        tmp_path, "dockerd", "print('no cgroups here', flush=True)\nraise SystemExit(1)\n"
    )
    with pytest.raises(RuntimeError, match="exited with status 1") as raised:
        procs.ensure_dockerd(socket=str(tmp_path / "d.sock"), log_file=log, binary=binary)
    assert log in str(raised.value)
    assert "no cgroups here" in str(raised.value)


def test_ensure_dockerd_times_out_and_cleans_up(tmp_path: pathlib.Path) -> None:
    log = str(tmp_path / "dockerd.log")
    pidfile = tmp_path / "pid"
    binary = _script(
        tmp_path,
        "dockerd",
        f"import os, time\nopen({str(pidfile)!r}, 'w').write(str(os.getpid()))\ntime.sleep(600)\n",
    )
    with pytest.raises(RuntimeError, match="did not answer") as raised:
        procs.ensure_dockerd(
            socket=str(tmp_path / "d.sock"), log_file=log, binary=binary, timeout=1
        )
    assert log in str(raised.value)
    assert not procs.pid_alive(int(pidfile.read_text()))


def test_ensure_dockerd_names_the_package_when_missing(tmp_path: pathlib.Path) -> None:
    with pytest.raises(RuntimeError, match="docker.io"):
        procs.ensure_dockerd(
            socket=str(tmp_path / "d.sock"),
            log_file=str(tmp_path / "log"),
            binary="minik8s-no-such-dockerd",
        )


def test_ensure_dockerd_uses_systemd_when_it_manages_docker(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran: list[list[str]] = []
    answers = iter([False, False, True])

    def fake_run(cmd: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        ran.append(cmd)
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(procs, "docker_running", lambda socket=procs.DOCKER_SOCKET: next(answers))
    monkeypatch.setattr(procs, "systemd_running", lambda: True)
    monkeypatch.setattr(procs, "_systemd_has_docker", lambda: True)
    monkeypatch.setattr(subprocess, "run", fake_run)
    monkeypatch.setattr(
        procs, "spawn_detached", lambda *a: pytest.fail("spawned dockerd under systemd")
    )

    assert procs.ensure_dockerd(log_file=str(tmp_path / "log"), timeout=5) is None
    assert ran == [["systemctl", "start", "docker"]]


# --- etcd ------------------------------------------------------------------------------


def test_etcd_argv_is_a_single_member_cluster_on_loopback(tmp_path: pathlib.Path) -> None:
    etcd = procs.EtcdProcess(str(tmp_path), 23790, 23800, name="m1")
    assert etcd.endpoint == "http://127.0.0.1:23790"
    argv = etcd.argv()
    flags = dict(zip(argv[1::2], argv[2::2], strict=True))
    assert argv[0] == "etcd"
    assert flags == {
        "--name": "m1",
        "--data-dir": str(tmp_path),
        "--listen-client-urls": "http://127.0.0.1:23790",
        "--advertise-client-urls": "http://127.0.0.1:23790",
        "--listen-peer-urls": "http://127.0.0.1:23800",
        "--initial-advertise-peer-urls": "http://127.0.0.1:23800",
        "--initial-cluster": "m1=http://127.0.0.1:23800",
    }


def test_etcd_missing_binary_names_the_package(tmp_path: pathlib.Path) -> None:
    with pytest.raises(RuntimeError, match="etcd-server"):
        procs.EtcdProcess(str(tmp_path), binary="minik8s-no-such-etcd").start()
