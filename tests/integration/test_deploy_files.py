"""The real-deployment files: systemd units, install.sh, the Vagrantfile.

No VM boots here, so these check what can be checked offline: `systemd-analyze
verify` on the units, shellcheck on the scripts, `vagrant validate` on the
Vagrantfile, install.sh's --dry-run for both roles and both package managers, and
that the units read exactly the files `minik8s init`/`join` write. A missing tool
is a failure that says how to install it, never a skip.

systemd-analyze verify insists that ExecStart binaries exist; the units name the
installed paths (/opt/minik8s/venv/bin/minik8s, /usr/local/bin/etcd), so the test
verifies copies whose ExecStart points at this checkout's minik8s and the host's etcd.
"""
from __future__ import annotations

import configparser
import os
import pathlib
import shutil
import subprocess
import sys

import pytest
import yaml

from minik8s.cluster import config

REPO = pathlib.Path(__file__).resolve().parents[2]
UNITS = REPO / "deploy" / "systemd"
INSTALL = REPO / "deploy" / "install.sh"
MINIK8S = [sys.executable, "-m", "minik8s"]
HASH = "sha256:" + "ab" * 32

EXPECTED_UNITS = {"etcd", "minik8s-apiserver", "minik8s-controller-manager", "minik8s-scheduler", "minik8s-dns",
                  "minik8s-kubelet", "minik8s-network-agent", "minik8s-proxy", "minik8s-lb"}


def tool(name: str) -> str:
    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin:/sbin:/bin")
    if path is None:
        pytest.fail(f"{name} is not installed: run `make test-deps` (scripts/install-deps.sh --test)")
    return path


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(UNITS / f"{name}.service")
    return parser


def test_one_unit_per_component() -> None:
    assert {p.stem for p in UNITS.glob("*.service")} == EXPECTED_UNITS


@pytest.mark.parametrize("name", sorted(EXPECTED_UNITS))
def test_unit_restarts_logs_to_the_journal_and_reads_etc_minik8s(name: str) -> None:
    u = unit(name)
    service = u["Service"]
    assert service["Restart"] == "on-failure"
    assert service["StandardOutput"] == "journal" and service["StandardError"] == "journal"
    assert u["Install"]["WantedBy"] == "multi-user.target"
    exec_start = service["ExecStart"]
    if name == "etcd":
        assert exec_start == "/usr/local/bin/etcd --config-file /etc/minik8s/etcd.yaml"
    else:
        component = name.removeprefix("minik8s-")
        assert exec_start == f"/opt/minik8s/venv/bin/minik8s --config /etc/minik8s/{component}.yaml {component}"
        assert service["EnvironmentFile"] == "-/etc/minik8s/minik8s.env"


def test_unit_dependencies() -> None:
    assert "etcd.service" in unit("minik8s-apiserver")["Unit"]["After"]
    for name in ("minik8s-controller-manager", "minik8s-scheduler", "minik8s-dns"):
        assert "minik8s-apiserver.service" in unit(name)["Unit"]["After"]
    assert "docker.service" in unit("minik8s-kubelet")["Unit"]["After"]
    assert "docker.service" in unit("minik8s-kubelet")["Unit"]["Wants"]


def test_units_read_the_files_init_and_join_write() -> None:
    """Every config file a unit reads is one the shared renderer writes, and vice versa (the
    load balancer's is written by the admin, in the shape config.lb_files renders)."""
    read = set()
    for path in UNITS.glob("*.service"):
        for word in unit(path.stem)["Service"]["ExecStart"].split():
            if word.startswith("/etc/minik8s/") and word.endswith(".yaml"):
                read.add(word.removeprefix("/etc/minik8s/"))
    master = config.master_files(config.MasterConfig(advertise_address="192.168.56.10"))
    node = config.node_files(config.NodeConfig(name="n", ip="192.168.56.11", server="http://192.168.56.10:6443"))
    lb = config.lb_files(["https://192.168.56.10:6443"], port=6444)
    assert read == set(master) | set(node) | set(lb)


def test_lb_unit_waits_for_its_file() -> None:
    """Installed on a machine without /etc/minik8s/lb.yaml, the balancer's unit is skipped, not failed."""
    assert unit("minik8s-lb")["Unit"]["ConditionPathExists"] == "/etc/minik8s/lb.yaml"


def test_systemd_analyze_verify(tmp_path: pathlib.Path) -> None:
    analyze = tool("systemd-analyze")
    etcd = tool("etcd")
    minik8s = pathlib.Path(sys.executable).parent / "minik8s"
    assert minik8s.exists(), f"{minik8s} missing: `pip install -e .` into the venv"
    for path in UNITS.glob("*.service"):
        text = path.read_text().replace("/opt/minik8s/venv/bin/minik8s", str(minik8s))
        text = text.replace("/usr/local/bin/etcd", etcd)
        (tmp_path / path.name).write_text(text)
    done = subprocess.run([analyze, "verify", *sorted(str(p) for p in tmp_path.glob("*.service"))],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    problems = [line for line in done.stderr.splitlines() if "minik8s" in line or "etcd" in line]
    assert not problems, problems


def test_shellcheck() -> None:
    shellcheck = tool("shellcheck")
    scripts = sorted(str(p) for p in [*REPO.glob("deploy/*.sh"), *REPO.glob("deploy/vagrant/*.sh"),
                                      *REPO.glob("scripts/*.sh")])
    assert str(INSTALL) in scripts
    done = subprocess.run([shellcheck, *scripts], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def _vagrant_env(tmp_path: pathlib.Path, **extra: str) -> dict[str, str]:
    return dict(os.environ, VAGRANT_HOME=str(tmp_path / "vagrant-home"), VAGRANT_CHECKPOINT_DISABLE="1",
                VAGRANT_CWD=str(tmp_path), VAGRANT_DEFAULT_PROVIDER="libvirt", **extra)


@pytest.mark.parametrize(("masters", "nodes"), [("1", "2"), ("1", "1"), ("3", "0")])
def test_vagrant_validate(tmp_path: pathlib.Path, masters: str, nodes: str) -> None:
    """With the libvirt provider (vagrant-libvirt) and a box cache laid out as
    deploy/vagrant/build-box.sh leaves it; in a copy, so nothing lands in the checkout's .vagrant/."""
    vagrant = tool("vagrant")
    plugins = subprocess.run([vagrant, "plugin", "list"], capture_output=True, text=True, timeout=120,
                             env=_vagrant_env(tmp_path))
    assert "vagrant-libvirt" in plugins.stdout, "no vagrant-libvirt: run `make test-deps`"
    shutil.copy(REPO / "Vagrantfile", tmp_path / "Vagrantfile")
    shutil.copytree(REPO / "deploy", tmp_path / "deploy")
    cache = tmp_path / "cache"
    box = cache / "0123456789abcdef"
    box.mkdir(parents=True)
    for name in ("vmlinuz", "initrd.img", "minik8s-debian12.box"):
        (box / name).write_bytes(b"")
    (box / "driver").write_text("qemu\n")
    (cache / "current").symlink_to(box.name)
    env = _vagrant_env(tmp_path, MINIK8S_VAGRANT_CACHE=str(cache), MINIK8S_VAGRANT_NODES=nodes,
                       MINIK8S_VAGRANT_MASTERS=masters)
    done = subprocess.run([vagrant, "validate"], capture_output=True, text=True, env=env, timeout=180, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "validated successfully" in done.stdout
    status = subprocess.run([vagrant, "status"], capture_output=True, text=True, env=env, timeout=180,
                            cwd=tmp_path)
    machines = [line.split()[0] for line in status.stdout.splitlines() if "(libvirt)" in line]
    assert machines == ["master", *[f"master{i}" for i in range(2, int(masters) + 1)],
                        *[f"node{i}" for i in range(1, int(nodes) + 1)]], status.stdout


def test_box_key_follows_the_recipe_and_the_dependencies(tmp_path: pathlib.Path) -> None:
    """`make vagrant-box` rebuilds exactly when its recipe or minik8s's dependency list changes."""
    def key(repo: pathlib.Path) -> str:
        done = subprocess.run([tool("bash"), str(repo / "deploy" / "vagrant" / "build-box.sh"), "--key"],
                              capture_output=True, text=True, timeout=60, env=dict(os.environ, PYTHON=sys.executable))
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    copy = tmp_path / "repo"
    (copy / "deploy").mkdir(parents=True)
    shutil.copytree(REPO / "deploy" / "vagrant", copy / "deploy" / "vagrant")
    pyproject = (REPO / "pyproject.toml").read_text()
    (copy / "pyproject.toml").write_text(pyproject)
    first = key(copy)
    assert len(first) == 16 and first == key(REPO)
    (copy / "pyproject.toml").write_text(pyproject.replace('description = "', 'description = "x'))
    assert key(copy) == first, "a change outside the dependencies keeps the box"
    (copy / "pyproject.toml").write_text(pyproject.replace('"pyyaml>=6",', '"pyyaml>=6.0.1",'))
    assert key(copy) != first
    (copy / "pyproject.toml").write_text(pyproject)
    recipe = copy / "deploy" / "vagrant" / "build-box.sh"
    recipe.write_text(recipe.read_text().replace("DISK_GB=8", "DISK_GB=9"))
    assert key(copy) != first


def test_vagrant_cluster_runs_with_the_e2e_suites_settings() -> None:
    """`make vagrant-test` runs tests/e2e against the VMs: they shorten the same node-failure
    timeouts as the suite (longer values for emulated VMs, leader election left alone), and
    the script hands their grace period to the suite."""
    import re

    from tests.e2e import conftest

    text = (REPO / "Vagrantfile").read_text()
    block = re.search(r"TEST_SETTINGS = %W\[(.*?)\]", text, re.S)
    assert block, "TEST_SETTINGS not found in the Vagrantfile"
    grace = re.search(r"^NODE_GRACE = (\d+)$", text, re.M)
    assert grace, "NODE_GRACE not found in the Vagrantfile"
    vm = dict(s.replace("#{NODE_GRACE}", grace.group(1)).split("=", 1) for s in block.group(1).split())
    suite = dict(s.split("=", 1) for s in conftest.FAST_FAILOVER)
    election = {k for k in suite if k.split(".", 1)[1] in ("lease-duration", "renew-deadline", "retry-period")}
    assert set(vm) == set(suite) - election
    assert vm["apiserver.default-toleration-seconds"] == "0"
    assert int(vm["controller-manager.node-monitor-grace-period"]) > int(vm["kubelet.node-status-update-interval"]) * 2
    script = (REPO / "deploy" / "vagrant-test.sh").read_text()
    assert "MINIK8S_E2E_NODE_GRACE" in script and "NODE_GRACE" in script


def _dry_run(*args: str) -> str:
    bash = tool("bash")
    done = subprocess.run([bash, str(INSTALL), *args, "--dry-run"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.mark.parametrize("pkg", ["apt", "dnf"])
def test_install_master_dry_run(pkg: str, tmp_path: pathlib.Path) -> None:
    join_file = tmp_path / "join"
    out = _dry_run("--role", "master", "--master-ip", "192.168.56.10", "--token", "abcdef.0123456789abcdef",
                   "--join-file", str(join_file), "--os", pkg)
    assert not join_file.exists(), "--dry-run printed the file instead of writing it"
    assert f"+ write {join_file}" in out
    assert "/opt/minik8s/venv/bin/minik8s init --advertise-address 192.168.56.10 --port 6443" in out
    assert "minik8s token create --config-dir /etc/minik8s --token abcdef.0123456789abcdef --ttl 0" in out
    assert "systemctl enable etcd.service minik8s-apiserver.service minik8s-controller-manager.service " \
           "minik8s-scheduler.service minik8s-dns.service" in out
    assert ("minik8s join https://192.168.56.10:6443 --token abcdef.0123456789abcdef "
            "--discovery-token-ca-cert-hash") in out
    assert "curl -fsS --cacert /etc/minik8s/pki/ca.crt https://192.168.56.10:6443/readyz" in out
    assert "install -D -m 0600 /etc/minik8s/admin.conf /root/.kube/config" in out
    # The balancer's unit is installed, not enabled: it waits for lb.yaml and the admin.
    assert "install -m 0644 " in out and "/deploy/systemd/minik8s-lb.service /etc/systemd/system/minik8s-lb.service" in out
    assert "minik8s-lb.service" not in out.split("systemctl enable ", 1)[1].splitlines()[0]
    if pkg == "apt":
        assert "etcd-server" in out and "ln -sf /usr/bin/etcd /usr/local/bin/etcd" in out
    else:
        assert "https://github.com/etcd-io/etcd/releases/download/v3.4." in out
    assert "docker" not in out.split("==> installing minik8s")[0], "the master needs no Docker"


@pytest.mark.parametrize("pkg", ["apt", "dnf"])
def test_install_node_dry_run(pkg: str) -> None:
    out = _dry_run("--role", "node", "--master-ip", "192.168.56.10", "--token", "abcdef.0123456789abcdef",
                   "--ca-cert-hash", HASH, "--node-ip", "192.168.56.11", "--node-name", "node1", "--os", pkg)
    assert (f"minik8s join https://192.168.56.10:6443 --token abcdef.0123456789abcdef --discovery-token-ca-cert-hash "
            f"{HASH} --config-dir /etc/minik8s --no-start --timeout 300 --node-ip 192.168.56.11 --node-name node1") in out
    assert "systemctl enable --now docker.service" in out
    assert "minik8s.images.build" in out
    assert "systemctl enable minik8s-kubelet.service minik8s-network-agent.service minik8s-proxy.service\n" in out
    assert "/deploy/systemd/minik8s-lb.service /etc/systemd/system/minik8s-lb.service" in out
    assert ("docker.io" if pkg == "apt" else "docker-ce") in out


def test_node_reads_token_and_hash_from_the_join_file(tmp_path: pathlib.Path) -> None:
    join_file = tmp_path / "join"
    join_file.write_text(f"minik8s join https://192.168.56.10:6443 --token abcdef.0123456789abcdef "
                         f"--discovery-token-ca-cert-hash {HASH}\n")
    out = _dry_run("--role", "node", "--master-ip", "192.168.56.10", "--join-file", str(join_file), "--os", "apt")
    assert f"--token abcdef.0123456789abcdef --discovery-token-ca-cert-hash {HASH}" in out


KEY = "0123456789abcdef" * 4


@pytest.mark.parametrize("pkg", ["apt", "dnf"])
def test_install_first_master_uploads_certs_and_prints_the_control_plane_join(pkg: str, tmp_path: pathlib.Path) -> None:
    join_file = tmp_path / "join"
    out = _dry_run("--role", "master", "--master-ip", "192.168.56.10", "--token", "abcdef.0123456789abcdef",
                   "--certificate-key", KEY, "--join-file", str(join_file), "--os", pkg)
    # The upload needs the API server: after it answers, before the token that names the key.
    ready = out.index("https://192.168.56.10:6443/readyz")
    upload = out.index(f"minik8s certs upload --config-dir /etc/minik8s --certificate-key {KEY}")
    token = out.index(f"minik8s token create --config-dir /etc/minik8s --token abcdef.0123456789abcdef --ttl 0 "
                      f"--certificate-key {KEY}")
    assert ready < upload < token
    assert f"--discovery-token-ca-cert-hash <hash> --control-plane --certificate-key {KEY}" in out
    assert (f"deploy/install.sh --role master --join --master-ip 192.168.56.10 --token abcdef.0123456789abcdef "
            f"--ca-cert-hash <hash> --certificate-key {KEY}") in out
    # Nodes are shown the node command, without the key.
    node_lines = [line for line in out.splitlines() if "--role node" in line]
    assert node_lines and all(KEY not in line for line in node_lines)
    # Without --upload-certs (or a key) nothing is uploaded.
    plain = _dry_run("--role", "master", "--master-ip", "192.168.56.10", "--os", pkg)
    assert "certs upload" not in plain and "--control-plane" not in plain


@pytest.mark.parametrize("pkg", ["apt", "dnf"])
def test_install_joining_master_dry_run(pkg: str) -> None:
    out = _dry_run("--role", "master", "--join", "--master-ip", "192.168.56.10", "--token", "abcdef.0123456789abcdef",
                   "--ca-cert-hash", HASH, "--certificate-key", KEY, "--advertise-address", "192.168.56.11",
                   "--node-name", "master2", "--os", pkg)
    assert (f"minik8s join https://192.168.56.10:6443 --token abcdef.0123456789abcdef --discovery-token-ca-cert-hash "
            f"{HASH} --control-plane --certificate-key {KEY} --config-dir /etc/minik8s --no-start --timeout 300 "
            f"--advertise-address 192.168.56.11 --etcd-name master2") in out
    assert "minik8s init" not in out and "token create" not in out and "certs upload" not in out
    # The same units as the first master, and its own API server waited for.
    assert "systemctl enable etcd.service minik8s-apiserver.service minik8s-controller-manager.service " \
           "minik8s-scheduler.service minik8s-dns.service" in out
    assert "curl -fsS --cacert /etc/minik8s/pki/ca.crt https://192.168.56.11:6443/readyz" in out
    assert ("etcd-client" if pkg == "apt" else "etcdctl") in out  # join adds the member with etcdctl
    assert "docker" not in out.split("==> installing minik8s")[0]


def test_joining_master_reads_token_hash_and_key_from_the_join_file(tmp_path: pathlib.Path) -> None:
    join_file = tmp_path / "join"
    join_file.write_text(f"minik8s join https://192.168.56.10:6443 --token abcdef.0123456789abcdef "
                         f"--discovery-token-ca-cert-hash {HASH} --control-plane --certificate-key {KEY}\n")
    out = _dry_run("--role", "master", "--join", "--master-ip", "192.168.56.10", "--join-file", str(join_file),
                   "--os", "apt")
    assert (f"--token abcdef.0123456789abcdef --discovery-token-ca-cert-hash {HASH} --control-plane "
            f"--certificate-key {KEY}") in out
    # A node reads the same file and ignores the key.
    out = _dry_run("--role", "node", "--master-ip", "192.168.56.10", "--join-file", str(join_file), "--os", "apt")
    assert f"--token abcdef.0123456789abcdef --discovery-token-ca-cert-hash {HASH} --config-dir" in out
    assert KEY not in out


def test_install_requires_role_and_master() -> None:
    bash = tool("bash")
    for args in ([], ["--role", "master"], ["--role", "nope", "--master-ip", "1.2.3.4"],
                 ["--role", "node", "--master-ip", "1.2.3.4"],
                 # a node without the CA hash would trust whichever server answers
                 ["--role", "node", "--master-ip", "1.2.3.4", "--token", "abcdef.0123456789abcdef"],
                 # a joining master needs the token, the CA hash and the certificate key
                 ["--role", "master", "--join", "--master-ip", "1.2.3.4", "--token", "abcdef.0123456789abcdef",
                  "--ca-cert-hash", HASH],
                 ["--role", "master", "--join", "--master-ip", "1.2.3.4", "--token", "abcdef.0123456789abcdef",
                  "--certificate-key", KEY],
                 ["--role", "node", "--join", "--master-ip", "1.2.3.4", "--token", "abcdef.0123456789abcdef",
                  "--ca-cert-hash", HASH],
                 ["--role", "master", "--join", "--upload-certs", "--master-ip", "1.2.3.4"]):
        done = subprocess.run([bash, str(INSTALL), *args, "--dry-run", "--os", "apt"], capture_output=True,
                              text=True, timeout=60)
        assert done.returncode != 0, args


def test_init_writes_the_master_files(tmp_path: pathlib.Path) -> None:
    """`minik8s init` (what install.sh runs) writes what the shared renderer renders, and a
    second run keeps the CA so joined nodes keep working."""
    etc = tmp_path / "etc"
    subprocess.run([*MINIK8S, "init", "--advertise-address", "192.168.56.10", "--config-dir", str(etc),
                    "--set", "controller-manager.node-monitor-grace-period=20"], check=True, capture_output=True)
    api = config.read_options(etc / "apiserver.yaml", "apiserver")
    # init's etcd is a stacked cluster of one on the master's address, so that masters can join it.
    expected = config.master_files(config.growable(config.MasterConfig(
        advertise_address="192.168.56.10", config_dir=str(etc),
        overrides={"controller-manager": {"node-monitor-grace-period": 20}})))
    for name, doc in expected.items():
        assert yaml.safe_load((etc / name).read_text()) == doc, name
    # ...and the PKI those files name, keys and kubeconfigs for their owner only.
    for option in ("tls-cert-file", "tls-private-key-file", "client-ca-file", "kubelet-client-certificate",
                   "kubelet-client-key", "kubelet-certificate-authority"):
        assert pathlib.Path(api[option]).exists(), option
    etcd = yaml.safe_load((etc / "etcd.yaml").read_text())
    for section, option in (("peer-transport-security", "cert-file"), ("client-transport-security", "cert-file"),
                            ("client-transport-security", "trusted-ca-file")):
        assert pathlib.Path(etcd[section][option]).exists(), (section, option)
    for private in ("pki/ca.key", "pki/apiserver.key", "pki/apiserver-kubelet-client.key", "pki/sa.key",
                    "pki/etcd-ca.key", "pki/etcd-peer.key", "pki/etcd-server.key", "pki/apiserver-etcd-client.key",
                    "admin.conf", "controller-manager.conf", "scheduler.conf", "dns.conf"):
        assert os.stat(etc / private).st_mode & 0o777 == 0o600, private
    ca = (etc / "pki" / "ca.crt").read_bytes()
    subprocess.run([*MINIK8S, "init", "--advertise-address", "192.168.56.10", "--config-dir", str(etc)],
                   check=True, capture_output=True)
    assert (etc / "pki" / "ca.crt").read_bytes() == ca, "a second init must keep the CA nodes trust"
