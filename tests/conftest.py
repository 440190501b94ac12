"""Shared fixtures: a real etcd and a real API server process per test session.

Integration tests talk to the API server over HTTP exactly as components and
kubectl do. Each test gets its own namespace, removed afterwards.
"""
from __future__ import annotations

import asyncio
import dataclasses
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import tempfile
import uuid
from typing import Any, Iterator

import pytest

from minik8s.client import kubeconfig
from minik8s.client import rest
from minik8s.util import procs

KUBECTL = shutil.which("kubectl") or "/usr/bin/kubectl"
REPO = pathlib.Path(__file__).resolve().parent.parent


@dataclasses.dataclass
class ApiServerProcess:
    url: str
    port: int
    etcd: procs.EtcdProcess
    proc: subprocess.Popen[bytes]
    log_file: str
    kubeconfig: str
    cache_dir: str
    prefix: str

    def stop(self) -> None:
        procs.stop_pid(self.proc.pid, timeout=10)
        self.proc.wait(timeout=5)


def start_apiserver(tmp: pathlib.Path, etcd: procs.EtcdProcess, *, prefix: str = "/registry",
                    extra: list[str] | None = None, port: int | None = None,
                    bind: str = "127.0.0.1") -> ApiServerProcess:
    """An API server process; `bind` may be an address of a test's own bridge so that
    processes in other network namespaces can reach it."""
    port = port or procs.free_port()
    log_file = str(tmp / f"apiserver-{port}.log")
    argv = [sys.executable, "-m", "minik8s", "apiserver", "--etcd-endpoints", etcd.endpoint,
            "--etcd-prefix", prefix, "--port", str(port), "--bind-address", bind,
            "--advertise-address", bind, "--etcd-timeout", "2", *(extra or [])]
    with open(log_file, "ab") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, cwd=str(REPO))
    url = f"http://{bind}:{port}"

    def ready() -> bool:
        if proc.poll() is not None:
            raise RuntimeError(f"apiserver exited ({proc.returncode}):\n{pathlib.Path(log_file).read_text()[-3000:]}")
        try:
            with procs.LOOPBACK_OPENER.open(url + "/readyz", timeout=1) as resp:
                return resp.status == 200
        except OSError:
            return False

    procs.wait_for(ready, 60, what="apiserver /readyz")
    kc = str(tmp / f"kubeconfig-{port}")
    kubeconfig.write_context(kc, "test", url)
    cache = str(tmp / f"kubecache-{port}")
    return ApiServerProcess(url, port, etcd, proc, log_file, kc, cache, prefix)


@dataclasses.dataclass
class ComponentProcess:
    """A minik8s component (`python -m minik8s <args>`) run by a test, which may kill it."""
    args: list[str]
    log_path: pathlib.Path
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> "ComponentProcess":
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "minik8s", *self.args],
                                         stdout=log, stderr=subprocess.STDOUT, cwd=str(REPO))
        return self

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            procs.stop_pid(self.proc.pid)
            self.proc.wait(timeout=10)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-6000:]


def controller_manager(server: str, log_path: pathlib.Path, controllers: str, *extra: str) -> ComponentProcess:
    return ComponentProcess(["controller-manager", "--server", server, "--no-leader-elect",
                             "--controllers", controllers, *extra], log_path)


@pytest.fixture(scope="session")
def session_tmp() -> Iterator[pathlib.Path]:
    d = pathlib.Path(tempfile.mkdtemp(prefix="minik8s-test-"))
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="session")
def etcd(session_tmp: pathlib.Path) -> Iterator[procs.EtcdProcess]:
    e = procs.EtcdProcess(str(session_tmp / "etcd"))
    e.start()
    yield e
    e.stop()


@pytest.fixture(scope="session")
def apiserver(session_tmp: pathlib.Path, etcd: procs.EtcdProcess) -> Iterator[ApiServerProcess]:
    server = start_apiserver(session_tmp, etcd)
    yield server
    server.stop()


@pytest.fixture
async def client(apiserver: ApiServerProcess) -> Any:
    c = rest.Client(apiserver.url)
    yield c
    await c.close()


def kubectl(server: ApiServerProcess, *args: str, input: str | None = None, check: bool = True,
            timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run the real kubectl against `server`, with an isolated discovery cache."""
    env = dict(os.environ, KUBECONFIG=server.kubeconfig, KUBECACHEDIR=server.cache_dir, HOME=server.cache_dir)
    proc = subprocess.run([KUBECTL, *args], input=input, capture_output=True, text=True, env=env,
                          timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"kubectl {' '.join(args)} failed ({proc.returncode}):\n"
                             f"stdout: {proc.stdout}\nstderr: {proc.stderr}")
    return proc


async def akubectl(server: ApiServerProcess, *args: str, **kw: Any) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(kubectl, server, *args, **kw)


@pytest.fixture
def namespace(apiserver: ApiServerProcess) -> Iterator[str]:
    """A fresh namespace for one test, deleted afterwards (with everything in it)."""
    name = "t-" + uuid.uuid4().hex[:8]
    http(apiserver, "POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                                    "metadata": {"name": name}})
    yield name
    http(apiserver, "DELETE", f"/api/v1/namespaces/{name}", check=False)


def http(server: ApiServerProcess, method: str, path: str, body: Any = None, *, check: bool = True,
         content_type: str = "application/json", headers: dict[str, str] | None = None) -> tuple[int, Any]:
    """A plain synchronous HTTP call (fixtures and simple checks)."""
    import json
    import urllib.error
    import urllib.request

    data = None
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
    req = urllib.request.Request(server.url + path, data=data, method=method,
                                 headers={"Content-Type": content_type, **(headers or {})})
    try:
        with procs.LOOPBACK_OPENER.open(req, timeout=30) as resp:
            raw = resp.read()
            status = resp.status
    except urllib.error.HTTPError as e:
        raw = e.read()
        status = e.code
    try:
        payload = json.loads(raw) if raw else None
    except ValueError:
        payload = raw.decode(errors="replace")
    if check and status >= 400:
        raise AssertionError(f"{method} {path} -> {status}: {payload}")
    return status, payload
