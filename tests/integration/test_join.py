"""Join on loopback: `minik8s token create`, `minik8s join` and `minik8s certs renew` against a real
API server and controller manager (CSR approval and signing, cluster-info signatures).

The same flow from a node's own network namespace is in tests/e2e/test_security.py.
"""
from __future__ import annotations

import base64
import os
import pathlib
import shutil
import stat
import subprocess
import sys
import uuid
from collections.abc import Iterator

import pytest

from minik8s.api import identities
from minik8s.client import kubeconfig
from minik8s.cluster import pki as cluster_pki
from minik8s.util import pki
from minik8s.util import procs
from tests.conftest import REPO, ApiServerProcess, ComponentProcess, http, test_pki

MINIK8S = [sys.executable, "-m", "minik8s"]
NODE_FILES = ("kubelet.conf", "proxy.conf", "network-agent.conf")


def run(*args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([*MINIK8S, *args], capture_output=True, text=True, timeout=timeout, cwd=str(REPO))
    if check and done.returncode != 0:
        raise AssertionError(f"minik8s {' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done


@pytest.fixture(scope="module")
def signer(apiserver: ApiServerProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ComponentProcess]:
    """The controller manager's join controllers, signing with the test CA."""
    log = tmp_path_factory.mktemp("join") / "controller-manager.log"
    p = test_pki().paths
    cm = ComponentProcess(["controller-manager", "--kubeconfig",
                           apiserver.kubeconfig_for(identities.CONTROLLER_MANAGER), "--no-leader-elect",
                           "--controllers", "csrapproving,csrsigning,bootstrapsigner,tokencleaner",
                           "--cluster-signing-cert-file", str(p.ca_crt), "--cluster-signing-key-file", str(p.ca_key)],
                          log).start()
    yield cm
    cm.stop()


@pytest.fixture
def master_dir(apiserver: ApiServerProcess, tmp_path: pathlib.Path) -> pathlib.Path:
    """What `token create` reads on a master: admin.conf and pki/ca.crt."""
    d = tmp_path / "master"
    (d / "pki").mkdir(parents=True)
    shutil.copy(test_pki().ca_file, d / "pki" / "ca.crt")
    test_pki().write_kubeconfig(d / "admin.conf", apiserver.url)
    return d


def create_token(apiserver: ApiServerProcess, master_dir: pathlib.Path, *extra: str) -> tuple[str, str, str]:
    words = run("token", "create", "--config-dir", str(master_dir), "--server", apiserver.url, *extra
                ).stdout.split()
    assert words[:2] == ["minik8s", "join"] and words[3] == "--token" and words[5] == "--discovery-token-ca-cert-hash"
    return words[2], words[4], words[6]


def join(server: str, token: str, ca_hash: str, out: pathlib.Path, node: str, *extra: str,
         check: bool = True) -> subprocess.CompletedProcess[str]:
    return run("join", server, "--token", token, "--discovery-token-ca-cert-hash", ca_hash, "--node-name", node,
               "--node-ip", "127.0.0.1", "--config-dir", str(out), "--no-start", *extra, check=check)


def whoami(apiserver: ApiServerProcess, conf: pathlib.Path) -> dict[str, object]:
    import asyncio

    from minik8s.client import rest

    async def ask() -> dict[str, object]:
        async with rest.from_kubeconfig(str(conf)) as client:
            review = await client.request("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews",
                                          body={"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"})
            return dict(review["status"]["userInfo"])
    return asyncio.run(ask())


def test_join_gets_the_nodes_own_certificates_and_keeps_no_token(
        apiserver: ApiServerProcess, signer: ComponentProcess, master_dir: pathlib.Path, tmp_path: pathlib.Path) -> None:
    server, token, ca_hash = create_token(apiserver, master_dir, "--ttl", "10m")
    assert server == apiserver.url and ca_hash == test_pki().ca.hash
    node = "joined-" + uuid.uuid4().hex[:5]
    out = tmp_path / "node"
    join(server, token, ca_hash, out, node)
    for name in NODE_FILES:
        assert stat.S_IMODE(os.stat(out / name).st_mode) == 0o600, name
    assert (out / "pki" / "ca.crt").read_bytes() == test_pki().ca.cert_pem
    assert whoami(apiserver, out / "kubelet.conf") == {
        "username": f"system:node:{node}", "groups": [identities.NODES, identities.AUTHENTICATED]}
    assert whoami(apiserver, out / "proxy.conf")["username"] == identities.PROXY
    assert whoami(apiserver, out / "network-agent.conf")["username"] == identities.NETWORK_AGENT
    # The kubelet's serving certificate, asked for by the node itself, for its address.
    serving = pki.load_cert((out / "pki" / "kubelet.crt").read_bytes())
    assert pki.subject(serving.subject) == (f"system:node:{node}", (identities.NODES,))
    assert pki.sans(serving) == ({node}, {"127.0.0.1"}) and pki.extended_key_usages(serving) == {"server"}
    assert pki.signed_by(serving, test_pki().ca.cert)
    assert stat.S_IMODE(os.stat(out / "pki" / "kubelet.key").st_mode) == 0o600
    kubelet_yaml = (out / "kubelet.yaml").read_text()
    assert f"tls-cert-file: {out / 'pki' / 'kubelet.crt'}" in kubelet_yaml
    # The components' configs point at those kubeconfigs, and nothing on disk holds the token.
    assert "kubeconfig: " + str(out / "kubelet.conf") in (out / "kubelet.yaml").read_text()
    secret = token.split(".")[1]
    for path in out.rglob("*"):
        if path.is_file():
            assert secret not in path.read_text(errors="replace"), f"{path} holds the bootstrap token"
    # The requests it made are on record, approved, with who asked.
    _, csrs = http(apiserver, "GET", "/apis/certificates.k8s.io/v1/certificatesigningrequests")
    mine = [c for c in csrs["items"] if base64.b64decode(c["status"].get("certificate", "")) and
            pki.subject(pki.load_cert(base64.b64decode(c["status"]["certificate"])).subject)[0].endswith(node)]
    by_signer = {c["spec"]["signerName"]: c for c in mine}
    assert len(mine) == 2 and set(by_signer) == {"kubernetes.io/kube-apiserver-client-kubelet",
                                                 "kubernetes.io/kubelet-serving"}
    assert by_signer["kubernetes.io/kube-apiserver-client-kubelet"]["spec"]["username"] == \
        f"system:bootstrap:{token.split('.')[0]}"
    assert by_signer["kubernetes.io/kubelet-serving"]["spec"]["username"] == f"system:node:{node}"
    assert all(any(c["type"] == "Approved" for c in m["status"]["conditions"]) for m in mine)
    run("token", "delete", "--config-dir", str(master_dir), "--server", apiserver.url, token)


def test_join_refuses_another_ca_a_wrong_secret_and_a_gone_token(
        apiserver: ApiServerProcess, signer: ComponentProcess, master_dir: pathlib.Path, tmp_path: pathlib.Path) -> None:
    server, token, ca_hash = create_token(apiserver, master_dir, "--ttl", "10m")
    _, other = pki.make_ca("somebody else")
    wrong_hash = join(server, token, pki.spki_sha256(other), tmp_path / "a", "n-a", check=False)
    assert wrong_hash.returncode == 1 and "refusing to trust it" in wrong_hash.stderr, wrong_hash.stderr
    token_id, _ = token.split(".")
    wrong_secret = join(server, f"{token_id}.{'0' * 16}", ca_hash, tmp_path / "b", "n-b", check=False)
    assert wrong_secret.returncode == 1 and "does not match the token" in wrong_secret.stderr, wrong_secret.stderr
    run("token", "delete", "--config-dir", str(master_dir), "--server", apiserver.url, token)
    gone = join(server, token, ca_hash, tmp_path / "c", "n-c", "--timeout", "3", check=False)
    assert gone.returncode == 1 and f"not signed for token {token_id}" in gone.stderr, gone.stderr
    for d in ("a", "b", "c"):
        assert not (tmp_path / d).exists(), f"a refused join wrote {tmp_path / d}"
    bad_hash = join(server, token, "md5:abc", tmp_path / "d", "n-d", check=False)
    assert bad_hash.returncode == 1 and "sha256:" in bad_hash.stderr


def test_node_renews_its_certificates_as_itself(
        apiserver: ApiServerProcess, signer: ComponentProcess, master_dir: pathlib.Path, tmp_path: pathlib.Path) -> None:
    server, token, ca_hash = create_token(apiserver, master_dir, "--ttl", "10m")
    node = "renew-" + uuid.uuid4().hex[:5]
    out = tmp_path / "node"
    join(server, token, ca_hash, out, node)
    run("token", "delete", "--config-dir", str(master_dir), "--server", apiserver.url, token)

    def serials() -> dict[str, int]:
        return {n: pki.load_cert(kubeconfig.load(out / n).cert or b"").serial_number for n in NODE_FILES}

    before = serials()
    assert "nothing expires" in run("certs", "renew", "--config-dir", str(out)).stdout
    serving_before = pki.load_cert((out / "pki" / "kubelet.crt").read_bytes()).serial_number
    renewed = run("certs", "renew", "--config-dir", str(out), "--cert-renewal-days", "400").stdout
    assert renewed.count("renewed") == 4, renewed
    serving = pki.load_cert((out / "pki" / "kubelet.crt").read_bytes())
    assert serving.serial_number != serving_before and pki.sans(serving) == ({node}, {"127.0.0.1"})
    after = serials()
    assert all(after[n] != before[n] for n in NODE_FILES)
    assert whoami(apiserver, out / "kubelet.conf")["username"] == f"system:node:{node}"
    checked = run("certs", "check-expiration", "--config-dir", str(out)).stdout
    assert f"CN=system:node:{node},O=system:nodes" in checked and "ca.crt" in checked


@pytest.mark.parametrize("version", ["1.29", "1.32"])
def test_a_person_approves_what_is_not_auto_approved(apiserver: ApiServerProcess, signer: ComponentProcess,
                                                      tmp_path: pathlib.Path, version: str) -> None:
    """A user's own request (kube-apiserver-client signer) waits for `kubectl certificate approve`
    (kubectl 1.29 sends JSON; 1.31+ send protobuf, decoded through the CSR's schema), then works."""
    user = "jane-" + uuid.uuid4().hex[:4]
    key = pki.new_key()
    csr = {"apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest",
           "metadata": {"name": user},
           "spec": {"request": base64.b64encode(pki.make_csr(key, user, ["dev"])).decode(),
                    "signerName": "kubernetes.io/kube-apiserver-client", "usages": ["client auth"]}}
    http(apiserver, "POST", "/apis/certificates.k8s.io/v1/certificatesigningrequests", csr)
    env = {"KUBECONFIG": apiserver.kubeconfig, "HOME": str(tmp_path), "KUBECACHEDIR": str(tmp_path / "c"),
           "PATH": "/usr/bin:/bin"}
    kubectl = f"/usr/lib/google-cloud-sdk/bin/kubectl.{version}"
    pending = subprocess.run([kubectl, "get", "csr", user, "-o", "jsonpath={.status}"], capture_output=True,
                             text=True, env=env, timeout=60)
    assert pending.returncode == 0 and "Approved" not in pending.stdout, pending
    approve = subprocess.run([kubectl, "certificate", "approve", user], capture_output=True, text=True, env=env,
                             timeout=60)
    assert approve.returncode == 0, approve.stderr

    def issued() -> bytes:
        _, obj = http(apiserver, "GET", f"/apis/certificates.k8s.io/v1/certificatesigningrequests/{user}")
        return base64.b64decode(obj["status"].get("certificate", ""))
    cert = procs.wait_for(issued, 30, what="the signer to issue the approved certificate")
    conf = tmp_path / "jane.conf"
    cluster_pki.write_kubeconfig(conf, apiserver.url, test_pki().ca.cert_pem, cert, pki.key_pem(key))
    assert whoami(apiserver, conf) == {"username": user, "groups": ["dev", identities.AUTHENTICATED]}
