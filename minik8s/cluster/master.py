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

With external etcd (`--etcd external`) each etcd member is an `EtcdMember`: a namespace
of its own running only etcd, clients over TLS on its address; the masters run no etcd
and their API servers list every member. Both are a `Box`, the one place that runs
processes (etcd among them) in a namespace on the cluster bridge.
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


# --- one master of several, and external etcd members ---------------------------------------

# Every master runs a DNS server; the kube-dns Endpoints list those alive
# (minik8s/dns/kubedns.py), so DNS survives any one master.
MEMBER_COMPONENTS = ("etcd", "apiserver", "controller-manager", "scheduler", "dns")
ETCD_MEMBER_COMPONENTS = ("etcd",)

# Run inside a member's namespace: etcd's /health at argv[1] (a linearizable check, true
# only while the member's cluster has a quorum); over TLS with a client certificate
# when argv[3:6] name the CA, certificate and key.
_ETCD_HEALTH = ("import json,ssl,sys,urllib.request\n"
                "ctx = None\n"
                "if len(sys.argv) > 3:\n"
                "    ctx = ssl.create_default_context(cafile=sys.argv[3])\n"
                "    ctx.load_cert_chain(sys.argv[4], sys.argv[5])\n"
                "try:\n"
                "    r = urllib.request.urlopen(sys.argv[1] + '/health', timeout=float(sys.argv[2]), context=ctx)\n"
                "    ok = json.loads(r.read()).get('health') == 'true'\n"
                "except Exception:\n"
                "    ok = False\n"
                "sys.exit(0 if ok else 1)\n")


class Box:
    """A machine of the cluster that is a network namespace on the cluster bridge: its own
    address, cgroup `/minik8s-cluster/<c>/<name>`, files (a MasterPaths), and processes
    spawned inside it, among them (except for an external-etcd master) an etcd member.
    The one place that runs an etcd member in a namespace, for masters and etcd members."""

    components: tuple[str, ...] = ()

    def __init__(self, spec: spec_mod.ClusterSpec, name: str, ip: str, paths: spec_mod.MasterPaths,
                 veth: str) -> None:
        self.spec = spec
        self.name = name
        self.ip = ip
        self.paths = paths
        self.veth = veth
        self.ns = spec_mod.netns_name(spec.name, name)
        self.cgroup = cgroups.cluster_path(spec.name, name)

    def ensure_pki(self) -> list[str]:
        raise NotImplementedError

    def config_files(self) -> dict[str, dict[str, object]]:
        raise NotImplementedError

    def prepare(self) -> list[str]:
        """Directories, credentials, config files and the network: everything but processes."""
        for d in (self.paths.run, self.paths.logs):
            d.mkdir(parents=True, exist_ok=True)
        cgroups.create(self.cgroup)
        actions = self.ensure_pki()
        config.write_files(self.paths.etc, self.config_files())
        if not (netns.netns_exists(self.ns) and netns.link_exists(self.veth)):
            netns.create_node_netns(self.ns, self.veth, self.spec.bridge, f"{self.ip}/{self.spec.prefixlen}",
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

    @property
    def etcd_url(self) -> str:
        """Where this box's etcd member answers clients, seen from inside its namespace."""
        return f"http://127.0.0.1:{spec_mod.MASTER_ETCD_CLIENT_PORT}"

    @property
    def etcd_client_tls(self) -> tuple[str, ...]:
        """CA, certificate and key to ask etcd_url with (empty: plain HTTP)."""
        return ()

    def etcd_healthy(self, timeout: float = 2.0) -> bool:
        """Whether this box's etcd member answers a quorum read (asked inside its namespace)."""
        if not netns.netns_exists(self.ns) or self.pid("etcd") is None:
            return False
        try:
            done = subprocess.run([*netns.nsenter(self.ns), sys.executable, "-c", _ETCD_HEALTH, self.etcd_url,
                                   str(timeout), *self.etcd_client_tls],
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

    def power_off(self) -> int:
        """As for a node: every process SIGKILLed at once, the namespace (and address) gone;
        the disk (etcd's data, the config) stays."""
        killed = cgroups.kill_all(self.cgroup)
        for name in self.components:
            procs.remove_pidfile(self.pidfile(name))
        netns.delete_netns(self.ns)
        netns.delete_link(self.veth)
        cgroups.remove(self.cgroup)
        return killed

    def shutdown(self, timeout: float = 15) -> list[str]:
        """An orderly stop (SIGTERM, newest first; a leader releases its Lease), then power-off."""
        stopped = []
        for name in reversed(self.components):
            pid = self.pid(name)
            if pid:
                procs.stop_pid(pid, timeout=timeout)
                stopped.append(name)
        self.power_off()
        return stopped

    def status(self) -> dict[str, object]:
        return {
            "name": self.name,
            "ip": self.ip,
            "netns": self.ns if netns.netns_exists(self.ns) else None,
            "pids": {name: self.pid(name) for name in self.components},
        }


class Member(Box):
    """One master of a multi-master cluster, in its own network namespace."""

    def __init__(self, spec: spec_mod.ClusterSpec, member: spec_mod.MasterSpec) -> None:
        super().__init__(spec, member.name, member.ip, spec_mod.master_paths(spec, member.name),
                         spec_mod.master_veth_name(spec.name, member.index))
        self.member = member
        # With external etcd a master runs no etcd member.
        self.components = MEMBER_COMPONENTS[1:] if spec.external_etcd else MEMBER_COMPONENTS

    @property
    def server(self) -> str:
        return f"https://{self.member.ip}:{self.spec.api_port}"

    @property
    def servers(self) -> list[str]:
        """Every API server, this master's own first: its components prefer the one beside them."""
        return [self.server, *(s for s in self.spec.servers if s != self.server)]

    def master_config(self) -> config.MasterConfig:
        return config.MasterConfig(
            advertise_address=self.member.ip, api_port=self.spec.api_port, bind_address=self.member.ip,
            etcd_name=self.name, etcd_data_dir=str(self.paths.etcd),
            etcd_client_port=spec_mod.MASTER_ETCD_CLIENT_PORT, etcd_peer_port=spec_mod.MASTER_ETCD_PEER_PORT,
            cluster_cidr=self.spec.cluster_cidr,
            config_dir=str(self.paths.etc), overrides=self.spec.overrides,
            etcd_members=() if self.spec.external_etcd else tuple((m.name, m.ip) for m in self.spec.masters),
            etcd_cluster_token=f"minik8s-{self.spec.name}", external_etcd=tuple(self.etcd_endpoints))

    @property
    def etcd_endpoints(self) -> list[str]:
        """The external etcd members, starting from a different one on each master: the API
        servers spread over the members, and losing one member costs the fewest of them a
        failover."""
        eps = self.spec.etcd_endpoints
        if not eps:
            return []
        k = (self.member.index - 1) % len(eps)
        return [*eps[k:], *eps[:k]]

    def ensure_pki(self) -> list[str]:
        m = self.master_config()
        try:
            return pki.ensure_master_member(self.paths.etc, self.spec.etc_dir, server=self.server,
                                            address=self.member.ip, servers=self.servers,
                                            service_cidr=m.service_cluster_ip_range,
                                            cluster_domain=m.cluster_domain,
                                            external_etcd=self.spec.external_etcd)
        except pki_util.PKIError as e:
            raise host.ClusterError(f"{self.name}: PKI in {self.paths.etc / pki.PKI_DIR}: {e}") from None

    def config_files(self) -> dict[str, dict[str, object]]:
        return dict(config.master_files(self.master_config()))

    def wait_api(self, timeout: float = 60) -> None:
        self._wait("apiserver", lambda: api_ready(self.server, self.spec.admin_kubeconfig), timeout, 0.05,
                   "the API server did not become ready")

    def start_rest(self, step: StepFn) -> None:
        """With etcd up: the API server, then the controller manager and scheduler (and DNS)."""
        pid = self.start("apiserver")
        self.wait_api()
        step(f"{self.name}: apiserver ready (pid {pid}, {self.server})")
        for name in self.components[self.components.index("apiserver") + 1:]:
            pid = self.start(name)
            step(f"{self.name}: {name} started (pid {pid})")

    def status(self) -> dict[str, object]:
        return {**super().status(), "server": self.server}


def etcd_client_files(spec: spec_mod.ClusterSpec) -> tuple[str, str, str]:
    """The etcd CA, and the client certificate and key the host's tools present to an external
    etcd cluster (`minik8s etcd --cacert ... --cert ... --key ...`)."""
    p = pki.paths(spec.etc_dir).pki
    return str(p / pki.ETCD_CA_CRT), str(p / pki.ETCD_CLIENT_CRT), str(p / pki.ETCD_CLIENT_KEY)


def ensure_etcd_client(spec: spec_mod.ClusterSpec) -> list[str]:
    actions: list[str] = []
    try:
        pki.ensure_etcd_client(spec.etc_dir, actions)
    except pki_util.PKIError as e:
        raise host.ClusterError(f"the etcd client certificate in {spec.etc_dir / pki.PKI_DIR}: {e}") from None
    return actions


class EtcdMember(Box):
    """One member of an external etcd cluster: a namespace with nothing but etcd, serving its
    clients over TLS on its address to certificates of the etcd CA only."""

    components = ETCD_MEMBER_COMPONENTS

    def __init__(self, spec: spec_mod.ClusterSpec, member: spec_mod.EtcdMemberSpec) -> None:
        super().__init__(spec, member.name, member.ip, spec_mod.etcd_member_paths(spec, member.name),
                         spec_mod.etcd_veth_name(spec.name, member.index))
        self.member = member

    @property
    def endpoint(self) -> str:
        return f"https://{self.ip}:{spec_mod.MASTER_ETCD_CLIENT_PORT}"

    @property
    def etcd_url(self) -> str:
        return self.endpoint

    @property
    def etcd_client_tls(self) -> tuple[str, ...]:
        return etcd_client_files(self.spec)

    def member_config(self) -> config.EtcdMemberConfig:
        return config.EtcdMemberConfig(
            name=self.name, address=self.ip, data_dir=str(self.paths.etcd),
            members=tuple((e.name, e.ip) for e in self.spec.etcd_members),
            cluster_token=f"minik8s-{self.spec.name}-etcd", config_dir=str(self.paths.etc),
            client_port=spec_mod.MASTER_ETCD_CLIENT_PORT, peer_port=spec_mod.MASTER_ETCD_PEER_PORT,
            client_tls=True)

    def ensure_pki(self) -> list[str]:
        try:
            return [*ensure_etcd_client(self.spec),
                    *pki.ensure_etcd_member(self.paths.etc, self.spec.etc_dir, name=self.name, address=self.ip)]
        except pki_util.PKIError as e:
            raise host.ClusterError(f"{self.name}: PKI in {self.paths.etc / pki.PKI_DIR}: {e}") from None

    def config_files(self) -> dict[str, dict[str, object]]:
        return dict(config.etcd_member_files(self.member_config(), self.spec.overrides))

    def status(self) -> dict[str, object]:
        return {**super().status(), "endpoint": self.endpoint}


def members(spec: spec_mod.ClusterSpec) -> list[Member]:
    return [Member(spec, m) for m in spec.masters]


def etcd_members(spec: spec_mod.ClusterSpec) -> list[EtcdMember]:
    return [EtcdMember(spec, e) for e in spec.etcd_members]


def start_etcd(boxes: Sequence[Box], step: StepFn) -> None:
    """Start the etcd members of `boxes` (prepared) all at once, since a member is healthy only
    with a quorum, and wait until each one is."""
    import concurrent.futures

    for b in boxes:
        pid = b.start("etcd")
        step(f"{b.name}: etcd started (pid {pid}, peers https://{b.ip}:{spec_mod.MASTER_ETCD_PEER_PORT})")
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, len(boxes))) as pool:
        for f in [pool.submit(b.wait_etcd) for b in boxes]:
            f.result()
    step("etcd: " + ", ".join(b.name for b in boxes) + " healthy")


def _prepare(boxes: Sequence[Box], step: StepFn) -> None:
    for b in boxes:
        for action in b.prepare():
            step(f"{b.name}: {action}")
        step(f"{b.name}: netns {b.ns} {b.ip}")


def start_etcd_members(the_members: Sequence[EtcdMember], step: StepFn) -> None:
    """Start (the not running ones of) an external etcd cluster's members."""
    _prepare(the_members, step)
    start_etcd(the_members, step)


def start_members(the_members: Sequence[Member], step: StepFn) -> None:
    """Start (the not running parts of) `the_members`: their etcd members all at once (stacked
    etcd), then each one's API server and the rest."""
    import concurrent.futures

    _prepare(the_members, step)
    stacked = [m for m in the_members if "etcd" in m.components]
    if stacked:
        start_etcd(stacked, step)
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, len(the_members))) as pool:
        for f in [pool.submit(m.start_rest, step) for m in the_members]:
            f.result()


def start_control_plane(spec: spec_mod.ClusterSpec, step: StepFn) -> None:
    """Every master of a multi-master cluster, after its external etcd cluster if it has one."""
    if spec.external_etcd:
        start_etcd_members(etcd_members(spec), step)
    start_members(members(spec), step)
