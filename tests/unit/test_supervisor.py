"""The supervisor's logic on a fake process table: restarts with back-off, adoption, status, stop order."""
from __future__ import annotations

import json
import os
import pathlib
import signal

from minik8s.util import supervisor


class FakeOs:
    """A process table: spawned pids live until `die` (with a wait status) or a signal."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.next_pid = 100
        self.live: dict[int, tuple[str, ...]] = {}
        self.children: set[int] = set()
        self.dead: list[tuple[int, int]] = []
        self.spawned: list[tuple[str, ...]] = []
        self.signals: list[tuple[int, int]] = []
        self.fail_spawn = False
        self.ignores_term: set[int] = set()

    def spawn(self, argv: tuple[str, ...], log_file: str) -> int:
        if self.fail_spawn:
            raise OSError("no such file")
        pid = self.next_pid
        self.next_pid += 1
        self.live[pid] = argv
        self.children.add(pid)
        self.spawned.append(argv)
        return pid

    def die(self, pid: int, status: int) -> None:
        del self.live[pid]
        if pid in self.children:
            self.dead.append((pid, status))

    def reap(self) -> list[tuple[int, int]]:
        out, self.dead = self.dead, []
        return out

    def alive(self, pid: int) -> bool:
        return pid in self.live

    def cmdline(self, pid: int) -> tuple[str, ...] | None:
        return self.live.get(pid)

    def kill(self, pid: int, sig: int) -> None:
        self.signals.append((pid, sig))
        if pid in self.live and not (sig == signal.SIGTERM and pid in self.ignores_term):
            self.die(pid, sig)  # a wait status of "killed by sig"

    def monotonic(self) -> float:
        return self.now

    def wall(self) -> float:
        return self.now + 1_700_000_000


def program(tmp: pathlib.Path, name: str) -> supervisor.Program:
    return supervisor.Program(name, ("minik8s", name), str(tmp / f"{name}.log"), str(tmp / f"{name}.pid"))


def make(tmp: pathlib.Path, *names: str) -> tuple[supervisor.Supervisor, FakeOs]:
    fake = FakeOs()
    for name in names:
        supervisor.add_to_plan(tmp, program(tmp, name))
    return supervisor.Supervisor(tmp, os_=fake), fake


def status_of(tmp: pathlib.Path, name: str) -> dict[str, object]:
    doc = json.loads((tmp / supervisor.STATUS_FILE).read_text())
    return next(p for p in doc["programs"] if p["name"] == name)


def test_starts_the_plan_in_order_and_writes_pidfiles(tmp_path: pathlib.Path) -> None:
    sup, fake = make(tmp_path, "etcd", "apiserver")
    sup.tick()
    assert fake.spawned == [("minik8s", "etcd"), ("minik8s", "apiserver")]
    assert (tmp_path / "etcd.pid").read_text().strip() == "100"
    assert status_of(tmp_path, "apiserver") == {
        "name": "apiserver", "pid": 101, "state": "running", "restarts": 0, "startedAt": fake.wall(),
        "lastExit": None, "lastError": None, "nextStart": None, "log": str(tmp_path / "apiserver.log")}


def test_programs_added_later_are_started_on_the_next_tick(tmp_path: pathlib.Path) -> None:
    sup, fake = make(tmp_path, "etcd")
    sup.tick()
    supervisor.add_to_plan(tmp_path, program(tmp_path, "scheduler"))
    os.utime(tmp_path / supervisor.PLAN_FILE, (1, 1))  # a different stamp even within the same second
    sup.tick()
    assert fake.spawned == [("minik8s", "etcd"), ("minik8s", "scheduler")]


def test_a_crash_is_restarted_with_exponential_back_off(tmp_path: pathlib.Path) -> None:
    sup, fake = make(tmp_path, "kubelet")
    (tmp_path / "kubelet.log").write_text("starting\nTraceback: boom\n")
    sup.tick()
    delays = []
    for _ in range(8):
        pid = status_of(tmp_path, "kubelet")["pid"]
        assert isinstance(pid, int)
        fake.now += 1  # it crashes a second after each start
        fake.die(pid, 9)  # SIGKILL
        sup.tick()
        st = status_of(tmp_path, "kubelet")
        assert st["state"] == "backoff" and st["lastExit"] == "killed by signal 9 (SIGKILL)"
        assert st["lastError"] == "starting\nTraceback: boom"
        waited = 0.0
        while status_of(tmp_path, "kubelet")["state"] == "backoff":
            fake.now += 0.5
            waited += 0.5
            sup.tick()
        delays.append(waited)
    assert delays == [1, 2, 4, 8, 16, 32, 60, 60]
    assert status_of(tmp_path, "kubelet")["restarts"] == 8


def test_a_long_run_resets_the_back_off(tmp_path: pathlib.Path) -> None:
    sup, fake = make(tmp_path, "proxy")
    sup.tick()
    for _ in range(3):  # back-off grows to 8 s
        fake.now += 1
        fake.die(status_of(tmp_path, "proxy")["pid"], 1 << 8)  # type: ignore[arg-type]
        sup.tick()
        fake.now += 100
        sup.tick()
    fake.now += supervisor.HEALTHY_AFTER + 1
    fake.die(status_of(tmp_path, "proxy")["pid"], 1 << 8)  # type: ignore[arg-type]
    sup.tick()
    st = status_of(tmp_path, "proxy")
    assert st["lastExit"] == "exit status 1"
    assert st["nextStart"] == fake.wall() + 1


def test_adopts_a_running_program_and_notices_when_it_goes(tmp_path: pathlib.Path) -> None:
    fake = FakeOs()
    prog = program(tmp_path, "dns")
    fake.live[4242] = prog.argv  # started by an earlier supervisor
    (tmp_path / "dns.pid").write_text("4242\n")
    supervisor.add_to_plan(tmp_path, prog)
    sup = supervisor.Supervisor(tmp_path, os_=fake)
    sup.tick()
    assert fake.spawned == [] and status_of(tmp_path, "dns")["pid"] == 4242
    fake.die(4242, 0)
    sup.tick()
    st = status_of(tmp_path, "dns")
    assert st["state"] == "backoff" and "status unknown" in str(st["lastExit"])
    fake.now += 1
    sup.tick()
    assert fake.spawned == [prog.argv]


def test_a_stale_pidfile_naming_another_process_is_not_adopted(tmp_path: pathlib.Path) -> None:
    fake = FakeOs()
    prog = program(tmp_path, "dns")
    fake.live[4242] = ("bash",)
    (tmp_path / "dns.pid").write_text("4242\n")
    supervisor.add_to_plan(tmp_path, prog)
    sup = supervisor.Supervisor(tmp_path, os_=fake)
    sup.tick()
    assert fake.spawned == [prog.argv] and status_of(tmp_path, "dns")["pid"] != 4242


def test_a_program_that_cannot_start_backs_off(tmp_path: pathlib.Path) -> None:
    sup, fake = make(tmp_path, "etcd")
    fake.fail_spawn = True
    sup.tick()
    st = status_of(tmp_path, "etcd")
    assert st["state"] == "backoff" and st["lastExit"] == "could not start" and st["lastError"] == "no such file"
    fake.fail_spawn = False
    fake.now += 1
    sup.tick()
    assert status_of(tmp_path, "etcd")["state"] == "running"


def test_stop_all_goes_in_reverse_order_and_kills_what_ignores_sigterm(tmp_path: pathlib.Path) -> None:
    sup, fake = make(tmp_path, "etcd", "apiserver", "kubelet")
    sup.tick()
    stubborn = status_of(tmp_path, "apiserver")["pid"]
    assert isinstance(stubborn, int)
    fake.ignores_term.add(stubborn)

    def sleep(seconds: float) -> None:
        fake.now += seconds

    sup.stop_all(sleep=sleep)
    order = [(pid, sig) for pid, sig in fake.signals]
    assert order == [(102, signal.SIGTERM), (101, signal.SIGTERM), (101, signal.SIGKILL), (100, signal.SIGTERM)]
    assert not fake.live
    assert not list(tmp_path.glob("*.pid"))
    assert all(status_of(tmp_path, n)["state"] == "stopped" for n in ("etcd", "apiserver", "kubelet"))
    # Nothing is restarted while stopping.
    sup.tick()
    assert len(fake.spawned) == 3


def test_describe_exit() -> None:
    assert supervisor.describe_exit(0) == "exit status 0"
    assert supervisor.describe_exit(3 << 8) == "exit status 3"
    assert supervisor.describe_exit(signal.SIGTERM) == "killed by signal 15 (SIGTERM)"
