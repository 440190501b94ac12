"""The local cluster's master: etcd, API server, controller manager and scheduler on the host.

Each is the command its systemd unit runs, with the config file `minik8s init`
would write on a VM (rendered by minik8s.cluster.config into `<state>/etc`):
`etcd --config-file etc/etcd.yaml`, `minik8s --config etc/apiserver.yaml apiserver`, ...
They run in the host's network namespace; the API server listens on the bridge
address, which is what the nodes' kubelets and the kubeconfig use, and etcd on
loopback. All of them live in cgroup `/minik8s-cluster/<c>/master`. Their PKI
(minik8s.cluster.pki) is made, or renewed, before anything starts.
"""
from __future__ import annotations

import datetime
import pathlib
import sys
import time
import urllib.error
from collections.abc import Callable

from minik8s.client import kubeconfig
from minik8s.cluster import cgroups
from minik8s.cluster import config
from minik8s.cluster import host
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


def ensure_pki(spec: spec_mod.ClusterSpec,
               renew_before: datetime.timedelta = pki.DEFAULT_RENEW_BEFORE) -> tuple[pki.CA, list[str]]:
    """The master's PKI in `<state>/etc`, made or renewed; the CA and what was done."""
    m = spec.master_config()
    try:
        return pki.ensure_master(spec.etc_dir, server=spec.server, addresses=[spec.master_ip],
                                 service_cidr=m.service_cluster_ip_range, cluster_domain=m.cluster_domain,
                                 renew_before=renew_before)
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
        pid = procs.read_pidfile(self.pidfile(name))
        if pid is None or not cgroups.contains(self.cgroup, pid):
            return None
        return pid

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
