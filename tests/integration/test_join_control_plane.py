"""Masters join the first as on VMs: `minik8s init`, `certs upload`, `token create
--certificate-key`, `join --control-plane` twice (docs/deploy.md's three masters), each
master's etcd, API server and controller manager started from the files those commands
rendered (no systemd).

Each master is a network namespace, since etcd checks that a peer's certificate names the
address it connects from (two loopback addresses would both dial from 127.0.0.1):

    host: 10.198.R.1 ── veth ──┐
    mk8s-cpjoin-<id>-sw: bridge br0
         ├── veth ── mk8s-cpjoin-<id>-m1: eth0 10.198.R.11   etcd, apiserver, controller-manager
         ├── veth ── mk8s-cpjoin-<id>-m2: eth0 10.198.R.12   (the same, after the join)
         └── veth ── mk8s-cpjoin-<id>-m3: eth0 10.198.R.13   (the same, joined through master2)

The switch is a namespace of its own so that frames between the masters never meet the
host's netfilter; no namespace has a default route. Needs root; run it under the heavy lock
(docs/HELPERS.md).
"""
from __future__ import annotations

import base64
import contextlib
import dataclasses
import json
import os
import pathlib
import random
import subprocess
import sys
import uuid
from collections.abc import Iterator

import pytest
import yaml

from minik8s.util import procs
from tests.conftest import KUBECTL, REPO

pytestmark = pytest.mark.integration

MINIK8S = [sys.executable, "-m", "minik8s"]


def _run(*argv: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout, cwd=str(REPO))
    if check and done.returncode != 0:
        raise AssertionError(f"`{' '.join(argv)}` failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done


def _free_octet() -> int:
    used = _run("ip", "-4", "route", "show").stdout + _run("ip", "-4", "addr", "show").stdout
    return random.choice([r for r in range(2, 254) if f"10.198.{r}." not in used])


@dataclasses.dataclass
class Lab:
    tid: str
    octet: int
    tmp: pathlib.Path
    namespaces: list[str] = dataclasses.field(default_factory=list)
    host_links: list[str] = dataclasses.field(default_factory=list)
    processes: list[tuple[str, subprocess.Popen[bytes], pathlib.Path]] = dataclasses.field(default_factory=list)

    def ns(self, short: str) -> str:
        return f"mk8s-cpjoin-{self.tid}-{short}"

    def ip(self, host: int) -> str:
        return f"10.198.{self.octet}.{host}"

    def in_ns(self, short: str, *argv: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return _run("nsenter", f"--net=/run/netns/{self.ns(short)}", *argv, check=check, timeout=timeout)

    def add_ns(self, short: str) -> None:
        _run("ip", "netns", "add", self.ns(short))
        self.namespaces.append(self.ns(short))
        self.in_ns(short, "ip", "link", "set", "lo", "up")

    def spawn(self, short: str, name: str, argv: list[str]) -> subprocess.Popen[bytes]:
        log = self.tmp / f"{short}-{name}.log"
        with open(log, "ab") as out:
            proc = subprocess.Popen(["nsenter", f"--net=/run/netns/{self.ns(short)}", *argv], stdout=out,
                                    stderr=subprocess.STDOUT, cwd=str(REPO))
        self.processes.append((f"{short}/{name}", proc, log))
        return proc

    def build(self) -> None:
        self.add_ns("sw")
        self.in_ns("sw", "ip", "link", "add", "br0", "type", "bridge")
        self.in_ns("sw", "ip", "link", "set", "br0", "up")
        host_link = f"mkcp{self.tid}"
        _run("ip", "link", "add", host_link, "type", "veth", "peer", "name", "uplink", "netns", self.ns("sw"))
        self.host_links.append(host_link)
        _run("ip", "addr", "add", f"{self.ip(1)}/24", "dev", host_link)
        _run("ip", "link", "set", host_link, "up")
        self.in_ns("sw", "ip", "link", "set", "uplink", "master", "br0", "up")
        for i in (1, 2, 3):
            m = f"m{i}"
            self.add_ns(m)
            self.in_ns("sw", "ip", "link", "add", m, "type", "veth", "peer", "name", "eth0", "netns", self.ns(m))
            self.in_ns("sw", "ip", "link", "set", m, "master", "br0", "up")
            self.in_ns(m, "ip", "addr", "add", f"{self.master_ip(i)}/24", "dev", "eth0")
            self.in_ns(m, "ip", "link", "set", "eth0", "up")

    def master_ip(self, i: int) -> str:
        return self.ip(10 + i)

    def etc(self, i: int) -> pathlib.Path:
        return self.tmp / f"master{i}" / "etc"

    def start_master(self, i: int) -> None:
        """etcd, the API server and the controller manager, as the units start them."""
        etc, m = self.etc(i), f"m{i}"
        self.spawn(m, "etcd", ["etcd", "--config-file", str(etc / "etcd.yaml")])
        self.spawn(m, "apiserver", [*MINIK8S, "--config", str(etc / "apiserver.yaml"), "apiserver"])
        self.spawn(m, "controller-manager", [*MINIK8S, "--config", str(etc / "controller-manager.yaml"),
                                             "controller-manager"])
        url = f"https://{self.master_ip(i)}:6443/readyz"

        def ready() -> bool:
            self.check_alive()
            return _run("curl", "-fsS", "-o", "/dev/null", "--max-time", "2", "--noproxy", "*", "--cacert",
                        str(etc / "pki" / "ca.crt"), url, check=False).returncode == 0

        procs.wait_for(ready, 90, interval=0.5, what=f"master{i}'s API server")

    def stop_master(self, i: int) -> None:
        """Power-off: every process of master `i` killed."""
        for name, proc, _ in self.processes:
            if name.startswith(f"m{i}/"):
                proc.kill()
                proc.wait(timeout=10)
        self.processes = [p for p in self.processes if not p[0].startswith(f"m{i}/")]

    def check_alive(self) -> None:
        for name, proc, log in self.processes:
            if proc.poll() is not None:
                raise AssertionError(f"{name} exited ({proc.returncode}):\n{log.read_text(errors='replace')[-3000:]}")

    def logs(self) -> str:
        return "\n".join(f"--- {name}\n{log.read_text(errors='replace')[-2000:]}" for name, _, log in self.processes)

    def teardown(self) -> None:
        for _, proc, _ in reversed(self.processes):
            with contextlib.suppress(Exception):
                procs.stop_pid(proc.pid, timeout=10)
                proc.wait(timeout=5)
        for name in reversed(self.namespaces):
            _run("ip", "netns", "del", name, check=False)
        for link in self.host_links:
            _run("ip", "link", "del", link, check=False)  # gone with its peer's namespace already


@pytest.fixture
def lab(tmp_path: pathlib.Path) -> Iterator[Lab]:
    lab = Lab(uuid.uuid4().hex[:6], _free_octet(), tmp_path)
    try:
        lab.build()
        yield lab
    finally:
        lab.teardown()
    assert not [n for n in _run("ip", "netns", "list").stdout.split() if n.startswith(f"mk8s-cpjoin-{lab.tid}")]
    assert not any(proc.poll() is None for _, proc, _ in lab.processes)


def kubectl(lab: Lab, i: int, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """The real kubectl as the admin of master `i`'s admin.conf, at master `i`'s API server."""
    home = lab.tmp / f"kubectl-home-{i}"
    home.mkdir(exist_ok=True)
    done = subprocess.run([KUBECTL, "--kubeconfig", str(lab.etc(i) / "admin.conf"), *args], capture_output=True,
                          text=True, timeout=60, env=dict(os.environ, HOME=str(home), KUBECACHEDIR=str(home)))
    if check and done.returncode != 0:
        raise AssertionError(f"kubectl {' '.join(args)} at master{i} failed:\n{done.stdout}\n{done.stderr}")
    return done


def configmap(lab: Lab, i: int, name: str, value: str) -> None:
    manifest = lab.tmp / f"{name}.json"
    manifest.write_text(json.dumps({"apiVersion": "v1", "kind": "ConfigMap",
                                    "metadata": {"name": name, "namespace": "default"}, "data": {"v": value}}))
    kubectl(lab, i, "create", "-f", str(manifest))


def read_configmap(lab: Lab, i: int, name: str) -> str:
    out = kubectl(lab, i, "get", "configmap", name, "-n", "default", "-o", "json").stdout
    return str(json.loads(out)["data"]["v"])


def test_masters_join_with_the_uploaded_certificates(lab: Lab) -> None:
    ip1, ip2 = lab.master_ip(1), lab.master_ip(2)
    m1, m2 = lab.etc(1), lab.etc(2)
    _run(*MINIK8S, "init", "--advertise-address", ip1, "--config-dir", str(m1),
         "--etcd-data-dir", str(lab.tmp / "master1" / "etcd"))
    lab.start_master(1)

    key = _run(*MINIK8S, "certs", "upload", "--config-dir", str(m1)).stdout.strip()
    assert len(key) == 64 and int(key, 16) >= 0
    secret = json.loads(kubectl(lab, 1, "get", "secret", "minik8s-certs", "-n", "kube-system", "-o", "json").stdout)
    owner = secret["metadata"]["ownerReferences"][0]
    assert owner["kind"] == "Secret" and owner["name"].startswith("bootstrap-token-")
    ca_key = (m1 / "pki" / "ca.key").read_bytes()
    for value in secret["data"].values():  # encrypted: nothing of the CA's key is readable there
        assert b"PRIVATE KEY" not in base64.b64decode(value)
    words = _run(*MINIK8S, "token", "create", "--config-dir", str(m1), "--ttl", "10m",
                 "--certificate-key", key).stdout.split()
    assert words[:2] == ["minik8s", "join"] and words[-3:] == ["--control-plane", "--certificate-key", key], words
    join = [*MINIK8S, *words[1:-2], "--config-dir", str(m2), "--advertise-address", ip2,
            "--etcd-name", "master2", "--etcd-data-dir", str(lab.tmp / "master2" / "etcd"), "--no-start",
            "--timeout", "60"]

    # A wrong certificate key: one readable line, nothing written, no etcd member added.
    wrong = lab.in_ns("m2", *join, "--certificate-key", "00" * 32, check=False)
    assert wrong.returncode == 1, wrong.stdout + wrong.stderr
    assert "does not decrypt" in wrong.stderr and len(wrong.stderr.strip().splitlines()) == 1, wrong.stderr
    assert not m2.exists()

    lab.in_ns("m2", *join, "--certificate-key", key)
    for shared in ("ca.crt", "ca.key", "sa.key", "sa.pub", "etcd-ca.crt", "etcd-ca.key"):
        assert (m2 / "pki" / shared).read_bytes() == (m1 / "pki" / shared).read_bytes(), shared
    assert (m2 / "pki" / "ca.key").read_bytes() == ca_key
    assert (m2 / "pki" / "apiserver.crt").read_bytes() != (m1 / "pki" / "apiserver.crt").read_bytes()
    etcd_yaml = (m2 / "etcd.yaml").read_text()
    assert "initial-cluster-state: existing" in etcd_yaml
    assert f"minik8s=https://{ip1}:2380" in etcd_yaml and f"master2=https://{ip2}:2380" in etcd_yaml
    lab.start_master(2)

    listed = json.loads(lab.in_ns("m1", *MINIK8S, "etcd", "member", "list", "-o", "json").stdout)
    names = sorted(m["name"] for m in (listed if isinstance(listed, list) else listed["members"]))
    assert names == ["master2", "minik8s"], listed

    # etcd's client port on a master's address takes client certificates of the etcd CA only.
    def etcd_health(*cert: str) -> subprocess.CompletedProcess[str]:
        return lab.in_ns("m2", "curl", "-fsS", "--max-time", "5", "--noproxy", "*", "--cacert",
                         str(m2 / "pki" / "etcd-ca.crt"), *cert, f"https://{ip1}:2379/health", check=False)

    pki2 = m2 / "pki"
    assert '"health":"true"' in etcd_health("--cert", str(pki2 / "apiserver-etcd-client.crt"), "--key",
                                            str(pki2 / "apiserver-etcd-client.key")).stdout
    cluster_ca_cert = ("--cert", str(pki2 / "apiserver-kubelet-client.crt"), "--key",
                       str(pki2 / "apiserver-kubelet-client.key"))
    assert (pki2 / "apiserver-kubelet-client.crt").exists()
    assert etcd_health(*cluster_ca_cert).returncode != 0
    assert etcd_health().returncode != 0
    # Each API server serves what was written through the other.
    configmap(lab, 1, "from-master1", "one")
    assert read_configmap(lab, 2, "from-master1") == "one"
    configmap(lab, 2, "from-master2", "two")
    assert read_configmap(lab, 1, "from-master2") == "two"
    # master2's components list both API servers (their own first) for failover.
    conf = (m2 / "controller-manager.conf").read_text()
    assert f"https://{ip2}:6443" in conf and f"https://{ip1}:6443" in conf

    # A third master, joined through master2 (any running master takes a join), right after
    # master2: etcd calls the cluster unhealthy for a few seconds, and the join waits.
    ip3, m3 = lab.master_ip(3), lab.etc(3)
    join3 = [*MINIK8S, "join", f"https://{ip2}:6443", *words[3:-2], "--certificate-key", key, "--config-dir",
             str(m3), "--advertise-address", ip3, "--etcd-name", "master3", "--etcd-data-dir",
             str(lab.tmp / "master3" / "etcd"), "--no-start", "--timeout", "60"]
    assert words[3] == "--token", words
    lab.in_ns("m3", *join3)
    etcd_yaml = yaml.safe_load((m3 / "etcd.yaml").read_text())
    assert sorted(etcd_yaml["initial-cluster"].split(",")) == [
        f"master2=https://{ip2}:2380", f"master3=https://{ip3}:2380", f"minik8s=https://{ip1}:2380"]
    lab.start_master(3)
    conf = (m3 / "controller-manager.conf").read_text()
    assert all(f"https://{ip}:6443" in conf for ip in (ip1, ip2, ip3))
    listed = json.loads(lab.in_ns("m2", *MINIK8S, "etcd", "member", "list", "-o", "json").stdout)
    assert sorted(m["name"] for m in (listed if isinstance(listed, list) else listed["members"])) == \
        ["master2", "master3", "minik8s"], listed
    # Three masters survive one: master1 powered off, master2 and master3 still agree.
    lab.stop_master(1)
    manifest = lab.tmp / "without-master1.json"
    manifest.write_text(json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "data": {"v": "three"},
                                    "metadata": {"name": "without-master1", "namespace": "default"}}))

    def written() -> bool:  # a request during etcd's leader election may time out: asked again
        lab.check_alive()
        done = kubectl(lab, 2, "apply", "-f", str(manifest), check=False)
        return done.returncode == 0

    procs.wait_for(written, 60, interval=0.5, what="a write through master2 with master1 powered off")
    assert read_configmap(lab, 3, "without-master1") == "three"
    assert read_configmap(lab, 3, "from-master1") == "one"

    # An upload expires with its token: the tokencleaner deletes both.
    _run(*MINIK8S, "certs", "upload", "--config-dir", str(m2), "--certificate-key", key, "--ttl", "3s")

    def gone() -> bool:
        lab.check_alive()
        return kubectl(lab, 2, "get", "secret", "minik8s-certs", "-n", "kube-system", check=False).returncode != 0

    procs.wait_for(gone, 60, interval=0.5, what="minik8s-certs deleted with its token")
