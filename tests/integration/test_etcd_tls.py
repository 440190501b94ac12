"""etcd over TLS with client certificates (an external etcd cluster's client port): the API
server's --etcd-cafile/--etcd-certfile/--etcd-keyfile and `minik8s etcd ... --cacert/--cert/--key`
against a real etcd that trusts only its own CA's client certificates."""
from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import pytest

from minik8s.util import pki
from minik8s.util import procs
from tests import conftest
from tests.conftest import REPO, start_apiserver

pytestmark = pytest.mark.integration


class TLSEtcd(procs.EtcdProcess):
    """One member serving plain HTTP (for the start-up health check) and, on a second port,
    TLS that requires a client certificate from `ca`."""

    def __init__(self, data_dir: str, files: dict[str, str]) -> None:
        super().__init__(data_dir)
        self.tls_port = procs.free_port()
        self.files = files

    @property
    def tls_endpoint(self) -> str:
        return f"https://127.0.0.1:{self.tls_port}"

    def argv(self) -> list[str]:
        argv = super().argv()
        i = argv.index("--listen-client-urls")
        argv[i + 1] = f"{self.endpoint},{self.tls_endpoint}"
        return [*argv, "--cert-file", self.files["server.crt"], "--key-file", self.files["server.key"],
                "--trusted-ca-file", self.files["ca.crt"], "--client-cert-auth"]


def _write(d: pathlib.Path, name: str, data: bytes) -> str:
    path = d / name
    path.write_bytes(data)
    return str(path)


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    d = tmp_path_factory.mktemp("etcd-pki")
    ca_key, ca = pki.make_ca("test-etcd-ca")
    other_key, other = pki.make_ca("another-ca")
    out = {"ca.crt": _write(d, "ca.crt", pki.cert_pem(ca)), "other-ca.crt": _write(d, "other-ca.crt", pki.cert_pem(other))}
    for name, (key, cert), spec in (
            ("server", (ca_key, ca), pki.CertSpec("etcd", ip_addresses=("127.0.0.1",), client=False, server=True)),
            ("client", (ca_key, ca), pki.CertSpec("apiserver-etcd-client")),
            ("stranger", (other_key, other), pki.CertSpec("apiserver-etcd-client"))):
        k = pki.new_key()
        out[f"{name}.key"] = _write(d, f"{name}.key", pki.key_pem(k))
        out[f"{name}.crt"] = _write(d, f"{name}.crt", pki.cert_pem(pki.issue(key, cert, k.public_key(), spec)))
    return out


@pytest.fixture(scope="module")
def etcd(tmp_path_factory: pytest.TempPathFactory, certs: dict[str, str]):  # type: ignore[no-untyped-def]
    member = TLSEtcd(str(tmp_path_factory.mktemp("etcd-tls") / "data"), certs)
    member.start(timeout=60)
    yield member
    member.stop()


def _etcd_cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ETCDCTL_")}
    return subprocess.run([sys.executable, "-m", "minik8s", "etcd", *args], capture_output=True, text=True,
                          env=env, cwd=str(REPO), timeout=120)


def test_etcd_cli_speaks_tls_with_a_client_certificate(etcd: TLSEtcd, certs: dict[str, str],
                                                       tmp_path: pathlib.Path) -> None:
    tls = ["--cacert", certs["ca.crt"], "--cert", certs["client.crt"], "--key", certs["client.key"]]
    out = _etcd_cli("member", "list", "--endpoints", etcd.tls_endpoint, *tls)
    assert out.returncode == 0, out.stderr
    assert "started" in out.stdout
    health = _etcd_cli("endpoint", "health", "--endpoints", etcd.tls_endpoint, *tls)
    assert health.returncode == 0 and "true" in health.stdout, health.stdout + health.stderr
    snap = tmp_path / "snap.db"
    saved = _etcd_cli("snapshot", "save", str(snap), "--endpoints", etcd.tls_endpoint,
                      "--etcd-cafile", certs["ca.crt"], "--etcd-certfile", certs["client.crt"],
                      "--etcd-keyfile", certs["client.key"])
    assert saved.returncode == 0 and snap.stat().st_size > 0, saved.stderr


def test_etcd_refuses_clients_without_its_certificate(etcd: TLSEtcd, certs: dict[str, str]) -> None:
    no_cert = _etcd_cli("health", "--endpoints", etcd.tls_endpoint, "--cacert", certs["ca.crt"],
                        "--command-timeout", "3")
    assert no_cert.returncode == 1 and "false" in no_cert.stdout, no_cert.stdout
    stranger = _etcd_cli("health", "--endpoints", etcd.tls_endpoint, "--cacert", certs["ca.crt"],
                         "--cert", certs["stranger.crt"], "--key", certs["stranger.key"], "--command-timeout", "3")
    assert stranger.returncode == 1 and "false" in stranger.stdout, stranger.stdout
    wrong_ca = _etcd_cli("health", "--endpoints", etcd.tls_endpoint, "--cacert", certs["other-ca.crt"],
                         "--cert", certs["client.crt"], "--key", certs["client.key"], "--command-timeout", "3")
    assert wrong_ca.returncode == 1 and "false" in wrong_ca.stdout, "the member's certificate must be checked"


def test_apiserver_stores_through_tls_etcd(etcd: TLSEtcd, certs: dict[str, str], tmp_path: pathlib.Path) -> None:
    server = start_apiserver(tmp_path, etcd, prefix="/tls-test", service_accounts=False,
                             extra=["--etcd-endpoints", etcd.tls_endpoint, "--etcd-cafile", certs["ca.crt"],
                                    "--etcd-certfile", certs["client.crt"], "--etcd-keyfile", certs["client.key"]])
    try:
        # The bootstrap namespaces were written, and are read, through the TLS client.
        with conftest.opener().open(server.url + "/api/v1/namespaces/kube-system", timeout=15) as resp:
            assert resp.status == 200
            assert json.loads(resp.read())["metadata"]["name"] == "kube-system"
    finally:
        server.stop()


def test_apiserver_refuses_https_etcd_without_a_ca(etcd: TLSEtcd, certs: dict[str, str]) -> None:
    for extra, why in ((["--etcd-certfile", certs["client.crt"], "--etcd-keyfile", certs["client.key"]],
                        "need --etcd-cafile"),
                       (["--etcd-cafile", "/nonexistent/ca.crt"], "no such file"),
                       (["--etcd-cafile", certs["ca.crt"], "--etcd-certfile", certs["client.crt"]],
                        "go together")):
        out = subprocess.run([sys.executable, "-m", "minik8s", "apiserver", "--etcd-endpoints", etcd.tls_endpoint,
                              *extra], capture_output=True, text=True, cwd=str(REPO), timeout=60)
        assert out.returncode != 0 and why in out.stderr, out.stderr
