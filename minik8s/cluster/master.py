"""The local cluster's master: etcd, API server, controller manager and scheduler on the host.

Each is the command its systemd unit runs, with the config file `minik8s init`
would write on a VM (rendered by minik8s.cluster.config into `<state>/etc`):
`etcd --config-file etc/etcd.yaml`, `minik8s --config etc/apiserver.yaml apiserver`, ...
They run in the host's network namespace; the API server listens on the bridge
address, which is what the nodes' kubelets and the kubeconfig use, and etcd on
loopback. All of them live in cgroup `/minik8s-cluster/<c>/master`. Their PKI
(minik8s.cluster.pki) is made, or renewed, before anything starts.

With several masters (`cluster up --masters N`) each is a `Member`: a network
namespace on the cluster bridge like a node's, with its own etcd member (peers over
TLS on the master's address, its API server as its one client on the namespace's
loopback), API server on the master's address, controller manager and scheduler
(which elect their leaders through Leases), in cgroup `/minik8s-cluster/<c>/<master>`.
Its files are under `<state>/masters/<master>/`; the cluster CA and the admin's
kubeconfig stay in `<state>/etc`. Stopping a member is a power-off, as for a node.
"""
from __future__ import annotations

import datetime
import pathlib
import subprocess
import sys
import time
import urllib.error
from collections.abc import Callable, Sequence

from minik8s.client import kubeconfig
from minik8s.cluster import cgroups
from minik8s.cluster import config
from minik8s.cluster import host
from minik8s.cluster import netns
from minik8s.cluster import pki
from minik8s.cluster import spec as spec_mod
from minik8s.util import pki as pki_util
from minik8s.util import procs

COMPONENTS = ("etcd", *config.MASTER_COMPONENTS)

StepFn = Callable[[str], None]


class EtcdFromConfigFile(procs.EtcdProcess):
    """procs.EtcdProcess (its start-up checks and pidfile), reading the unit's config file;
    started inside `cgroup` when one is given."""

    def __init__(self, config_file: str, cgroup: str | None = None, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.config_file = config_file
        self.cgroup = cgroup

    def argv(self) -> list[str]:
        argv = [host.which(self.binary), "--config-file", self.config_file]
        return cgroups.wrap(self.cgroup, argv) if self.cgroup else argv


def api_ready(server: str, admin_kubeconfig: str | pathlib.Path, timeout: float = 1.0) -> bool:
    try:
        with kubeconfig.urllib_opener(admin_kubeconfig).open(server + "/readyz", timeout=timeout) as resp:
            return bool(resp.status == 200)
    except (OSError, urllib.error.URLError, kubeconfig.KubeconfigError):
        return False


def api_ready_any(servers: Sequence[str], admin_kubeconfig: str | pathlib.Path, timeout: float = 1.0) -> bool:
    return any(api_ready(s, admin_kubeconfig, timeout) for s in servers)


def ensure_pki(spec: spec_mod.ClusterSpec,
               renew_before: datetime.timedelta = pki.DEFAULT_RENEW_BEFORE) -> tuple[pki.CA, list[str]]:
    """The master's PKI in `<state>/etc`, made or renewed; the CA and what was done.
    With several masters: the cluster's CA, ServiceAccount keys and the admin's
    kubeconfig listing every master (each master's own files come from Member)."""
    m = spec.master_config()
    addresses = [x.ip for x in spec.masters] or [spec.master_ip]
    try:
        return pki.ensure_master(spec.etc_dir, server=spec.server, addresses=addresses,
                                 service_cidr=m.service_cluster_ip_range, cluster_domain=m.cluster_domain,
                                 renew_before=renew_before, servers=spec.servers)
    except pki_util.PKIError as e:
        raise host.ClusterError(f"the cluster PKI in {spec.etc_dir / pki.PKI_DIR}: {e}") from None


class Master:
    def __init__(self, spec: spec_mod.ClusterSpec) -> None:
        self.spec = spec
        self.cgroup = cgroups.cluster_path(spec.name, "master")

    def write_config(self) -> None:
        config.write_files(self.spec.etc_dir, config.master_files(self.spec.master_config()))

    def pidfile(self, name: str) -> str:
        return str(self.spec.run_dir / f"{name}.pid")

    def log(self, name: str) -> str:
        return str(self.spec.log_dir / f"{name}.log")

    def pid(self, name: str) -> int | None:
        return cgroups.live_pid(self.cgroup, self.pidfile(name))

    def start_etcd(self) -> int:
        pid = self.pid("etcd")
        if pid:
            return pid
        etcd = EtcdFromConfigFile(
            str(self.spec.etc_dir / "etcd.yaml"), self.cgroup, data_dir=str(self.spec.etcd_dir),
            client_port=self.spec.etcd_client_port, peer_port=self.spec.etcd_peer_port,
            name=f"minik8s-{self.spec.name}", log_file=self.log("etcd"), detach=True, pidfile=self.pidfile("etcd"))
        try:
            etcd.start()
        except RuntimeError as e:
            raise host.ClusterError(str(e)) from None
        assert etcd.pid is not None
        return etcd.pid

    def start(self, name: str) -> int:
        pid = self.pid(name)
        if pid:
            return pid
        argv = [sys.executable, "-m", "minik8s", "--config", str(self.spec.etc_dir / f"{name}.yaml"), name]
        pid = cgroups.spawn(self.cgroup, argv, self.log(name))
        procs.write_pidfile(self.pidfile(name), pid)
        return pid

    def wait_api(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not api_ready(self.spec.server, self.spec.admin_kubeconfig):
            if self.pid("apiserver") is None:
                raise host.ClusterError(f"the API server exited; see {self.log('apiserver')}:\n"
                                        f"{procs.log_tail(self.log('apiserver'))}")
            if time.monotonic() > deadline:
                raise host.ClusterError(f"the API server did not become ready within {timeout:g}s; "
                                        f"see {self.log('apiserver')}")
            time.sleep(0.05)

    def start_all(self, step: StepFn) -> None:
        cgroups.create(self.cgroup)
        self.spec.run_dir.mkdir(parents=True, exist_ok=True)
        self.spec.log_dir.mkdir(parents=True, exist_ok=True)
        _, actions = ensure_pki(self.spec)
        for action in actions:
            step(action)
        self.write_config()
        pid = self.start_etcd()
        step(f"etcd running (pid {pid}, 127.0.0.1:{self.spec.etcd_client_port})")
        pid = self.start("apiserver")
        self.wait_api()
        step(f"apiserver ready (pid {pid}, {self.spec.server})")
        for name in config.MASTER_COMPONENTS[1:]:
            pid = self.start(name)
            step(f"{name} started (pid {pid})")

    def stop_all(self, timeout: float = 15) -> list[str]:
        """SIGTERM each component (newest first), then kill anything left in the cgroup."""
        stopped = []
        for name in reversed(COMPONENTS):
            pid = self.pid(name)
            if pid:
                procs.stop_pid(pid, timeout=timeout)
                stopped.append(name)
            procs.remove_pidfile(self.pidfile(name))
        cgroups.kill_all(self.cgroup)
        return stopped

    def status(self) -> dict[str, int | None]:
        return {name: self.pid(name) for name in COMPONENTS}


# --- one master of several -------------------------------------------------------------------

# Every master runs a DNS server; the kube-dns Endpoints list those alive
# (minik8s/dns/kubedns.py), so DNS survives any one master.
MEMBER_COMPONENTS = ("etcd", "apiserver", "controller-manager", "scheduler", "dns")

# Run inside a master's namespace: etcd's /health on that namespace's loopback (a
# linearizable check, true only while the member's cluster has a quorum).
_ETCD_HEALTH = ("import json,sys,urllib.request\n"
                "try:\n"
                "    r = urllib.request.urlopen(sys.argv[1] + '/health', timeout=float(sys.argv[2]))\n"
                "    ok = json.loads(r.read()).get('health') == 'true'\n"
                "except Exception:\n"
                "    ok = False\n"
                "sys.exit(0 if ok else 1)\n")


class Member:
    """One master of a multi-master cluster, in its own network namespace."""

    def __init__(self, spec: spec_mod.ClusterSpec, member: spec_mod.MasterSpec) -> None:
        self.spec = spec
        self.member = member
        self.name = member.name
        self.paths = spec_mod.master_paths(spec, member.name)
        self.ns = spec_mod.netns_name(spec.name, member.name)
        self.veth = spec_mod.master_veth_name(spec.name, member.index)
        self.cgroup = cgroups.cluster_path(spec.name, member.name)

    @property
    def server(self) -> str:
        return f"https://{self.member.ip}:{self.spec.api_port}"

    @property
    def servers(self) -> list[str]:
        """Every API server, this master's own first: its components prefer the one beside them."""
        return [self.server, *(s for s in self.spec.servers if s != self.server)]

    @property
    def components(self) -> tuple[str, ...]:
        return MEMBER_COMPONENTS

    def master_config(self) -> config.MasterConfig:
        return config.MasterConfig(
            advertise_address=self.member.ip, api_port=self.spec.api_port, bind_address=self.member.ip,
            etcd_name=self.name, etcd_data_dir=str(self.paths.etcd),
            etcd_client_port=spec_mod.MASTER_ETCD_CLIENT_PORT, etcd_peer_port=spec_mod.MASTER_ETCD_PEER_PORT,
            cluster_cidr=self.spec.cluster_cidr,
            config_dir=str(self.paths.etc), overrides=self.spec.overrides,
            etcd_members=tuple((m.name, m.ip) for m in self.spec.masters),
            etcd_cluster_token=f"minik8s-{self.spec.name}")

    def ensure_pki(self) -> list[str]:
        m = self.master_config()
        try:
            return pki.ensure_master_member(self.paths.etc, self.spec.etc_dir, server=self.server,
                                            address=self.member.ip, servers=self.servers,
                                            service_cidr=m.service_cluster_ip_range,
                                            cluster_domain=m.cluster_domain)
        except pki_util.PKIError as e:
            raise host.ClusterError(f"{self.name}: PKI in {self.paths.etc / pki.PKI_DIR}: {e}") from None

    def prepare(self) -> list[str]:
        """Directories, credentials, config files and the network: everything but processes."""
        for d in (self.paths.run, self.paths.logs):
            d.mkdir(parents=True, exist_ok=True)
        cgroups.create(self.cgroup)
        actions = self.ensure_pki()
        config.write_files(self.paths.etc, config.master_files(self.master_config()))
        if not (netns.netns_exists(self.ns) and netns.link_exists(self.veth)):
            netns.create_node_netns(self.ns, self.veth, self.spec.bridge, f"{self.member.ip}/{self.spec.prefixlen}",
                                    self.spec.master_ip)
        return actions

    def pidfile(self, name: str) -> str:
        return str(self.paths.run / f"{name}.pid")

    def log(self, name: str) -> str:
        return str(self.paths.logs / f"{name}.log")

    def pid(self, name: str) -> int | None:
        return cgroups.live_pid(self.cgroup, self.pidfile(name))

    def _spawn(self, name: str, argv: list[str]) -> int:
        pid = cgroups.spawn(self.cgroup, [*netns.nsenter(self.ns), *argv], self.log(name))
        procs.write_pidfile(self.pidfile(name), pid)
        return pid

    def start(self, name: str) -> int:
        pid = self.pid(name)
        if pid:
            return pid
        if name == "etcd":
            return self._spawn(name, [host.which("etcd"), "--config-file", str(self.paths.etc / "etcd.yaml")])
        return self._spawn(name, [sys.executable, "-m", "minik8s", "--config", str(self.paths.etc / f"{name}.yaml"),
                                  name])

    def etcd_healthy(self, timeout: float = 2.0) -> bool:
        """Whether this master's etcd member answers a quorum read (asked inside its namespace)."""
        if not netns.netns_exists(self.ns) or self.pid("etcd") is None:
            return False
        url = f"http://127.0.0.1:{spec_mod.MASTER_ETCD_CLIENT_PORT}"
        try:
            done = subprocess.run([*netns.nsenter(self.ns), sys.executable, "-c", _ETCD_HEALTH, url, str(timeout)],
                                  capture_output=True, timeout=timeout + 10, check=False)
        except subprocess.TimeoutExpired:
            return False
        return done.returncode == 0

    def _wait(self, name: str, ready: Callable[[], bool], timeout: float, interval: float, what: str) -> None:
        """Poll `ready` until true; fail when `name` exits (with its log's tail) or at `timeout`."""
        deadline = time.monotonic() + timeout
        while not ready():
            if self.pid(name) is None:
                raise host.ClusterError(f"{self.name}: {name} exited; see {self.log(name)}:\n"
                                        f"{procs.log_tail(self.log(name))}")
            if time.monotonic() > deadline:
                raise host.ClusterError(f"{self.name}: {what} within {timeout:g}s; see {self.log(name)}")
            time.sleep(interval)

    def wait_etcd(self, timeout: float = 60) -> None:
        self._wait("etcd", self.etcd_healthy, timeout, 0.2, "etcd not healthy (a member needs a quorum of its peers)")

    def wait_api(self, timeout: float = 60) -> None:
        self._wait("apiserver", lambda: api_ready(self.server, self.spec.admin_kubeconfig), timeout, 0.05,
                   "the API server did not become ready")

    def start_rest(self, step: StepFn) -> None:
        """With etcd up: the API server, then the controller manager and scheduler (and DNS)."""
        pid = self.start("apiserver")
        self.wait_api()
        step(f"{self.name}: apiserver ready (pid {pid}, {self.server})")
        for name in self.components[2:]:
            pid = self.start(name)
            step(f"{self.name}: {name} started (pid {pid})")

    def power_off(self) -> int:
        """As for a node: every process SIGKILLed at once, the namespace (and address) gone;
        the disk (etcd's data, the config) stays."""
        killed = cgroups.kill_all(self.cgroup)
        for name in MEMBER_COMPONENTS:
            procs.remove_pidfile(self.pidfile(name))
        netns.delete_netns(self.ns)
        netns.delete_link(self.veth)
        cgroups.remove(self.cgroup)
        return killed

    def shutdown(self, timeout: float = 15) -> list[str]:
        """An orderly stop (SIGTERM, newest first; a leader releases its Lease), then power-off."""
        stopped = []
        for name in reversed(MEMBER_COMPONENTS):
            pid = self.pid(name)
            if pid:
                procs.stop_pid(pid, timeout=timeout)
                stopped.append(name)
        self.power_off()
        return stopped

    def status(self) -> dict[str, object]:
        return {
            "name": self.name,
            "ip": self.member.ip,
            "server": self.server,
            "netns": self.ns if netns.netns_exists(self.ns) else None,
            "pids": {name: self.pid(name) for name in MEMBER_COMPONENTS},
        }


def members(spec: spec_mod.ClusterSpec) -> list[Member]:
    return [Member(spec, m) for m in spec.masters]


def start_members(the_members: Sequence[Member], step: StepFn) -> None:
    """Start (the not running parts of) `the_members`: their etcd members all at once, since
    a member is healthy only with a quorum, then each one's API server and the rest."""
    import concurrent.futures

    for m in the_members:
        for action in m.prepare():
            step(f"{m.name}: {action}")
        step(f"{m.name}: netns {m.ns} {m.member.ip}")
    for m in the_members:
        pid = m.start("etcd")
        step(f"{m.name}: etcd started (pid {pid}, peers https://{m.member.ip}:{spec_mod.MASTER_ETCD_PEER_PORT})")
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, len(the_members))) as pool:
        for f in [pool.submit(m.wait_etcd) for m in the_members]:
            f.result()
    step("etcd: " + ", ".join(m.name for m in the_members) + " healthy")
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, len(the_members))) as pool:
        for f in [pool.submit(m.start_rest, step) for m in the_members]:
            f.result()

