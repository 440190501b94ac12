"""EtcdProcess and the pid helpers against a real etcd binary."""

from __future__ import annotations

import asyncio
import os
import pathlib
import subprocess
import sys

import aetcd
import psutil
import pytest

from minik8s.util import procs

pytestmark = pytest.mark.integration


def _client(etcd: procs.EtcdProcess) -> aetcd.Client:
    # grpc would honour http_proxy from the environment; loopback must not use it.
    return aetcd.Client(
        host="127.0.0.1", port=etcd.client_port, options={"grpc.enable_http_proxy": 0}
    )


def _state(pid: int) -> str:
    return psutil.Process(pid).status()


async def test_etcd_put_get_pause_resume_stop(tmp_path: pathlib.Path) -> None:
    etcd = procs.EtcdProcess(str(tmp_path / "etcd"))
    try:
        etcd.start()
        assert etcd.endpoint == f"http://127.0.0.1:{etcd.client_port}"
        assert etcd.client_port != etcd.peer_port
        assert etcd.healthy()

        async with _client(etcd) as client:
            await client.put(b"/minik8s/test", b"hello")
            got = await client.get(b"/minik8s/test")
            assert got is not None and got.value == b"hello"

        etcd.pause()
        pid = etcd.pid
        assert pid is not None
        # pause() returns only once every thread has stopped, not when the signal is queued.
        assert procs.all_threads_stopped(pid)
        assert _state(pid) == psutil.STATUS_STOPPED
        # A frozen etcd accepts connections (the kernel does) but never answers.
        assert not etcd.healthy(timeout=0.3)

        etcd.resume()
        procs.wait_for(etcd.healthy, 10, what="etcd healthy after resume")
        async with _client(etcd) as client:
            got = await client.get(b"/minik8s/test")
            assert got is not None and got.value == b"hello"
    finally:
        etcd.stop()
    assert not procs.pid_alive(pid)
    assert not etcd.running()


async def test_etcd_stop_while_paused(tmp_path: pathlib.Path) -> None:
    # A SIGSTOPped process ignores SIGTERM until continued; stop() must still end it
    # promptly, without waiting out the timeout and resorting to SIGKILL.
    etcd = procs.EtcdProcess(str(tmp_path / "etcd")).start()
    try:
        etcd.pause()
        pid = etcd.pid
        assert pid is not None
        killed = procs.stop_pid(pid, timeout=10)
        assert not killed
        assert not procs.pid_alive(pid)
    finally:
        etcd.stop()


def test_etcd_context_manager_and_kill(tmp_path: pathlib.Path) -> None:
    with procs.EtcdProcess(str(tmp_path / "etcd")) as etcd:
        pid = etcd.pid
        assert pid is not None and procs.pid_alive(pid)
        etcd.kill()
        assert not procs.pid_alive(pid)
        # Same data dir, same ports: a restart finds its data.
        etcd.start()
        assert etcd.healthy()
        pid = etcd.pid
    assert pid is not None and not procs.pid_alive(pid)


def test_etcd_detached_survives_its_starter(tmp_path: pathlib.Path) -> None:
    """`minik8s up` starts etcd detached and exits; `minik8s down` stops it by pidfile."""
    data_dir = tmp_path / "etcd"
    pidfile = tmp_path / "run" / "etcd.pid"
    starter = (
        "import sys; from minik8s.util import procs\n"
        "e = procs.EtcdProcess(sys.argv[1], detach=True, pidfile=sys.argv[2]).start()\n"
        "print(e.endpoint)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", starter, str(data_dir), str(pidfile)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    endpoint = done.stdout.strip()
    pid = procs.read_pidfile(str(pidfile), expect_name="etcd")
    try:
        assert pid is not None, f"no live etcd pid in {pidfile}: {done.stderr}"
        assert procs.etcd_healthy(endpoint), "etcd died with the process that started it"
        # Its own session: a signal to the starter's process group would not reach it.
        assert os.getsid(pid) == pid
        assert procs.read_pidfile(str(pidfile), expect_name="dockerd") is None
    finally:
        if pid is not None:
            procs.stop_pid(pid)
    assert not procs.pid_alive(pid)
    assert procs.read_pidfile(str(pidfile)) is None


def test_etcd_start_failure_names_the_log(tmp_path: pathlib.Path) -> None:
    with procs.EtcdProcess(str(tmp_path / "a")) as first:
        # Ports given explicitly are not retried: the clash must surface as an error.
        second = procs.EtcdProcess(
            str(tmp_path / "b"), first.client_port, procs.free_port(), name="other"
        )
        try:
            with pytest.raises(RuntimeError, match="etcd.log"):
                second.start(timeout=20)
            assert not second.running()
        finally:
            second.stop()


async def test_etcd_paused_client_times_out(tmp_path: pathlib.Path) -> None:
    """What the slow-etcd tests rely on: a paused etcd stalls clients, resume unblocks them."""
    etcd = procs.EtcdProcess(str(tmp_path / "etcd")).start()
    try:
        async with _client(etcd) as client:
            await client.put(b"k", b"1")
            etcd.pause()
            with pytest.raises((asyncio.TimeoutError, TimeoutError)):
                await asyncio.wait_for(client.get(b"k"), 0.5)
            etcd.resume()
            got = await asyncio.wait_for(client.get(b"k"), 10)
            assert got is not None and got.value == b"1"
    finally:
        etcd.stop()
