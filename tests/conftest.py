"""Shared fixtures: a real etcd and a real API server process per test session.

Integration tests talk to the API server over HTTPS exactly as components and
kubectl do, with certificates from a test PKI made once per test process
(`test_pki()`, minik8s.cluster.pki underneath): the API server gets a serving
certificate for its address, clients get kubeconfigs with their own identity
(`ApiServerProcess.kubeconfig_for`). There is no insecure way in. Each test gets
its own namespace, removed afterwards.
"""
from __future__ import annotations

import asyncio
import atexit
import dataclasses
import os
import pathlib
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import urllib.request
import uuid
from typing import Any, Iterator

import pytest

from minik8s.api import identities
from minik8s.client import kubeconfig
from minik8s.client import rest
from minik8s.client import tls as tls_mod
from minik8s.cluster import pki as cluster_pki
from minik8s.kubelet import servertls
from minik8s.util import pki as pki_util
from minik8s.util import procs

KUBECTL = shutil.which("kubectl") or "/usr/bin/kubectl"
REPO = pathlib.Path(__file__).resolve().parent.parent


class TestPKI:
    """A cluster CA and the ServiceAccount key pair for this test process, with
    serving certificates and client credentials made on demand."""

    def __init__(self, directory: pathlib.Path) -> None:
        self.dir = directory
        actions: list[str] = []
        self.ca = cluster_pki.ensure_ca(directory, actions)
        cluster_pki.ensure_sa_keys(directory, actions)
        self.paths = cluster_pki.paths(directory)
        self._lock = threading.Lock()
        self._credentials: dict[tuple[str, tuple[str, ...]], tuple[bytes, bytes]] = {}
        self._serving: dict[tuple[str, ...], tuple[str, str]] = {}
        self._contexts: dict[tuple[str | None, tuple[str, ...]], ssl.SSLContext] = {}

    @property
    def ca_file(self) -> str:
        return str(self.paths.ca_crt)

    def serving(self, *addresses: str) -> tuple[str, str]:
        """(certificate file, key file) of an API server reachable at `addresses`."""
        key_ = tuple(sorted(set(addresses)))
        with self._lock:
            if key_ not in self._serving:
                stem = self.dir / f"apiserver-{'-'.join(key_) or 'loopback'}"
                cert, key = pathlib.Path(f"{stem}.crt"), pathlib.Path(f"{stem}.key")
                cluster_pki.ensure_cert(cert, key, self.ca, cluster_pki.serving_spec(key_, "10.96.0.1"), [])
                self._serving[key_] = (str(cert), str(key))
            return self._serving[key_]

    def apiserver_args(self, *addresses: str) -> list[str]:
        cert, key = self.serving(*addresses)
        kubelet_cert, kubelet_key = self.file_credentials("apiserver-kubelet-client",
                                                         identities.APISERVER_KUBELET_CLIENT)
        return ["--tls-cert-file", cert, "--tls-private-key-file", key, "--client-ca-file", self.ca_file,
                "--service-account-key-file", str(self.paths.sa_pub),
                "--service-account-signing-key-file", str(self.paths.sa_key),
                "--kubelet-client-certificate", kubelet_cert, "--kubelet-client-key", kubelet_key]

    def file_credentials(self, stem: str, user: str, groups: tuple[str, ...] = ()) -> tuple[str, str]:
        """(certificate file, key file) of a client identity, for a process's flags."""
        cert, key = pathlib.Path(self.dir / f"{stem}.crt"), pathlib.Path(self.dir / f"{stem}.key")
        with self._lock:
            cluster_pki.ensure_cert(cert, key, self.ca, pki_util.CertSpec(user, groups), [])
        return str(cert), str(key)

    def kubelet_serving(self, node_name: str, node_ip: str) -> tuple[str, str]:
        """(certificate file, key file) of a kubelet's serving certificate, as `minik8s up` issues it."""
        stem = self.dir / f"kubelet-{node_name}-{node_ip}"
        cert, key = pathlib.Path(f"{stem}.crt"), pathlib.Path(f"{stem}.key")
        with self._lock:
            cluster_pki.ensure_cert(cert, key, self.ca, servertls.serving_spec(node_name, [node_ip]), [])
        return str(cert), str(key)

    def kubelet_args(self, node_name: str, node_ip: str) -> list[str]:
        cert, key = self.kubelet_serving(node_name, node_ip)
        return ["--tls-cert-file", cert, "--tls-private-key-file", key, "--client-ca-file", self.ca_file]

    def kubelet_server_tls(self, node_name: str, node_ip: str) -> ssl.SSLContext:
        """The server context of an in-process kubelet API (fake-runtime tests)."""
        cert, key = self.kubelet_serving(node_name, node_ip)
        return servertls.load(cert_file=cert, key_file=key, client_ca_file=self.ca_file, kubeconfig_ca=None,
                              node_name=node_name, node_ip=node_ip)

    def credentials(self, user: str, groups: tuple[str, ...] = ()) -> tuple[bytes, bytes]:
        """(certificate, key) of `user` in `groups`, issued once per session."""
        with self._lock:
            if (user, groups) not in self._credentials:
                self._credentials[(user, groups)] = self.ca.issue(cluster_pki.Identity(user, groups))
            return self._credentials[(user, groups)]

    def tls(self, user: str = identities.ADMIN, groups: tuple[str, ...] = (identities.MASTERS,)) -> tls_mod.TLSConfig:
        cert, key = self.credentials(user, groups)
        return tls_mod.TLSConfig(ca=self.ca.cert_pem, cert=cert, key=key)

    def write_kubeconfig(self, path: str | os.PathLike[str], server: str, user: str = identities.ADMIN,
                         groups: tuple[str, ...] = (identities.MASTERS,), context: str = "test") -> str:
        cert, key = self.credentials(user, groups)
        kubeconfig.write_context(path, context, server, ca=self.ca.cert_pem, cert=cert, key=key)
        return str(path)

    def ssl_context(self, user: str | None = identities.ADMIN,
                    groups: tuple[str, ...] = (identities.MASTERS,)) -> ssl.SSLContext:
        """For urllib: trusts the cluster CA; presents `user`'s certificate (None: anonymous).
        One context per identity, shared: tests send thousands of requests through http()."""
        key_ = (user, groups if user is not None else ())
        with self._lock:
            found = self._contexts.get(key_)
        if found is not None:
            return found
        ctx = tls_mod.client_context(tls_mod.TLSConfig(ca=self.ca.cert_pem) if user is None
                                     else self.tls(user, groups))
        with self._lock:
            return self._contexts.setdefault(key_, ctx)


_PKI: TestPKI | None = None
_PKI_LOCK = threading.Lock()


def test_pki() -> TestPKI:
    """The test process's PKI (made on first use, removed when the process exits)."""
    global _PKI
    with _PKI_LOCK:
        if _PKI is None:
            directory = pathlib.Path(tempfile.mkdtemp(prefix="minik8s-test-pki-"))
            atexit.register(shutil.rmtree, directory, True)
            _PKI = TestPKI(directory)
        return _PKI


test_pki.__test__ = False  # type: ignore[attr-defined]  # not a test, despite the name
TestPKI.__test__ = False  # type: ignore[attr-defined]


def opener(user: str | None = identities.ADMIN,
           groups: tuple[str, ...] = (identities.MASTERS,)) -> urllib.request.OpenerDirector:
    """A urllib opener for the test API servers (no proxies; the test CA; `user`'s certificate)."""
    return urllib.request.build_opener(urllib.request.ProxyHandler({}),
                                       urllib.request.HTTPSHandler(context=test_pki().ssl_context(user, groups)))


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
    # The controller manager's ServiceAccount controllers (start_apiserver's service_accounts).
    accounts: "ComponentProcess | None" = None

    def stop(self) -> None:
        if self.accounts is not None:
            self.accounts.stop()
        procs.stop_pid(self.proc.pid, timeout=10)
        self.proc.wait(timeout=5)

    @property
    def tls(self) -> tls_mod.TLSConfig:
        """The admin's credentials (kubernetes-admin, system:masters)."""
        return test_pki().tls()

    def client(self, **kw: Any) -> rest.Client:
        return rest.Client(self.url, tls=self.tls, **kw)

    def kubeconfig_for(self, user: str, groups: tuple[str, ...] = ()) -> str:
        """A kubeconfig for this server with a certificate for `user` in `groups`."""
        directory = pathlib.Path(self.cache_dir).parent / f"kubeconfigs-{self.port}"
        path = directory / f"{user.replace(':', '_')}-{'_'.join(groups).replace(':', '_')}.conf"
        if not path.exists():
            test_pki().write_kubeconfig(path, self.url, user, groups)
        return str(path)


def start_apiserver(tmp: pathlib.Path, etcd: procs.EtcdProcess, *, prefix: str = "/registry",
                    extra: list[str] | None = None, port: int | None = None,
                    bind: str = "127.0.0.1", service_accounts: bool = True) -> ApiServerProcess:
    """An API server process; `bind` may be an address of a test's own bridge so that
    processes in other network namespaces can reach it. With `service_accounts`, the
    controller manager's ServiceAccount controllers run beside it, as in every cluster
    (pods are admitted once their namespace's `default` ServiceAccount exists, and their
    token volume needs `kube-root-ca.crt`); stop() stops them."""
    port = port or procs.free_port()
    log_file = str(tmp / f"apiserver-{port}.log")
    argv = [sys.executable, "-m", "minik8s", "apiserver", "--etcd-endpoints", etcd.endpoint,
            "--etcd-prefix", prefix, "--port", str(port), "--bind-address", bind,
            "--advertise-address", bind, "--etcd-timeout", "2", *test_pki().apiserver_args(bind),
            *(extra or [])]
    with open(log_file, "ab") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, cwd=str(REPO))
    url = f"https://{bind}:{port}"
    anonymous = opener(None)

    def ready() -> bool:
        if proc.poll() is not None:
            raise RuntimeError(f"apiserver exited ({proc.returncode}):\n{pathlib.Path(log_file).read_text()[-3000:]}")
        try:
            with anonymous.open(url + "/readyz", timeout=1) as resp:
                return resp.status == 200
        except OSError:
            return False

    procs.wait_for(ready, 60, what="apiserver /readyz")
    kc = test_pki().write_kubeconfig(tmp / f"kubeconfig-{port}", url)
    cache = str(tmp / f"kubecache-{port}")
    server = ApiServerProcess(url, port, etcd, proc, log_file, kc, cache, prefix)
    if service_accounts:
        server.accounts = controller_manager(server, tmp / f"serviceaccount-controllers-{port}.log",
                                             ",".join(SERVICE_ACCOUNT_CONTROLLERS)).start()
        try:
            wait_for_service_account(server, "default")
        except BaseException:
            server.stop()
            raise
    return server


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


# What every cluster's controller manager runs, whichever controllers a test wants: pods are
# admitted only once their namespace's `default` ServiceAccount exists, and the kubelet mounts
# the `kube-root-ca.crt` ConfigMap into them (minik8s/controllers/serviceaccounts.py).
SERVICE_ACCOUNT_CONTROLLERS = ("serviceaccount", "root-ca-cert-publisher")


def controller_manager(apiserver: ApiServerProcess, log_path: pathlib.Path, controllers: str,
                       *extra: str) -> ComponentProcess:
    wanted = controllers.split(",")
    if "*" not in wanted:
        wanted += [c for c in SERVICE_ACCOUNT_CONTROLLERS if c not in wanted and f"-{c}" not in wanted]
    return ComponentProcess(["controller-manager", "--kubeconfig",
                             apiserver.kubeconfig_for(identities.CONTROLLER_MANAGER), "--no-leader-elect",
                             "--controllers", ",".join(wanted), *extra], log_path)


def wait_for_service_account(server: ApiServerProcess, namespace: str, name: str = "default",
                             timeout: float = 60) -> None:
    """Until the ServiceAccount controller has made `namespace`'s ServiceAccount."""
    procs.wait_for(lambda: http(server, "GET", f"/api/v1/namespaces/{namespace}/serviceaccounts/{name}",
                                check=False)[0] == 200, timeout, what=f"ServiceAccount {namespace}/{name}")


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
    c = apiserver.client()
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
    # As Kubernetes' controllers leave a new namespace: its default ServiceAccount and kube-root-ca.crt.
    wait_for_service_account(apiserver, name)
    procs.wait_for(lambda: http(apiserver, "GET", f"/api/v1/namespaces/{name}/configmaps/kube-root-ca.crt",
                                check=False)[0] == 200, 60, what=f"{name}/kube-root-ca.crt")
    yield name
    http(apiserver, "DELETE", f"/api/v1/namespaces/{name}", check=False)


def http(server: ApiServerProcess, method: str, path: str, body: Any = None, *, check: bool = True,
         content_type: str = "application/json", headers: dict[str, str] | None = None,
         user: str | None = identities.ADMIN, groups: tuple[str, ...] = (identities.MASTERS,)) -> tuple[int, Any]:
    """A plain synchronous HTTPS call (fixtures and simple checks), as the admin unless
    `user` says otherwise (None: anonymous)."""
    import json
    import urllib.error
    import urllib.request

    data = None
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
    req = urllib.request.Request(server.url + path, data=data, method=method,
                                 headers={"Content-Type": content_type, **(headers or {})})
    try:
        with opener(user, groups).open(req, timeout=30) as resp:
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
