"""One node of the local cluster: a network namespace with its own containerd, dockerd and kubelet.

What a VM would be, made of host parts:
- the network: namespace `mk8s-<c>-<node>` on the cluster bridge (see netns.py);
- the disk: `<state>/nodes/<node>/` (Docker's data-root, containerd's root, the
  kubelet's root, the rendered config under `etc/`);
- /run: `<state>/nodes/<node>/run`, the engines' exec-root and state, wiped at
  power-off as a reboot wipes a tmpfs;
- the processes: cgroup `/minik8s-cluster/<c>/<node>` (see cgroups.py).

Each node gets its own containerd rather than the one dockerd would pick: a dockerd
started without `--containerd` uses the host's system containerd whenever
/run/containerd/containerd.sock exists (any Debian host with containerd.service),
which would put every node's shims in one daemon outside the node's cgroup.

Every process runs in the host's mount namespace and only enters the node's
network namespace (`nsenter --net`), so paths are the same inside and out.
"""
from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import signal
import sys
from typing import Any

from minik8s.cluster import cgroups
from minik8s.cluster import config
from minik8s.cluster import host
from minik8s.cluster import mounts
from minik8s.cluster import netns
from minik8s.cluster import pki
from minik8s.cluster import spec as spec_mod
from minik8s.util import pki as pki_util
from minik8s.util import procs

# Agents in start order; stopped in reverse.
AGENTS = ("containerd", "dockerd", *config.NODE_COMPONENTS)

CONTAINERD_TOML = """\
# Written by minik8s (minik8s/cluster/node.py): this node's own containerd.
version = 2
root = "{root}"
state = "{state}"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
oom_score = 0

[grpc]
  address = "{sock}"

[ttrpc]
  address = "{sock}.ttrpc"

[debug]
  address = ""

[metrics]
  address = ""
"""


@dataclasses.dataclass(frozen=True)
class AgentStatus:
    name: str
    pid: int | None


class Node:
    def __init__(self, spec: spec_mod.ClusterSpec, node: spec_mod.NodeSpec) -> None:
        self.spec = spec
        self.node = node
        self.name = node.name
        self.paths = spec_mod.node_paths(spec, node.name)
        self.ns = spec_mod.netns_name(spec.name, node.name)
        self.veth = spec_mod.veth_name(spec.name, node.index)
        self.cgroup = cgroups.cluster_path(spec.name, node.name)
        self.cgroup_system = cgroups.cluster_path(spec.name, node.name, "system")
        self.cgroup_pods = "/" + cgroups.cluster_path(spec.name, node.name, "pods")

    # --- configuration ---
    def node_config(self) -> config.NodeConfig:
        return config.NodeConfig(
            name=self.name, ip=self.node.ip, server=self.spec.server,
            pod_cidr=self.node.pod_cidr, docker_host=f"unix://{self.paths.docker_sock}",
            root_dir=str(self.paths.kubelet_root), cluster_cidr=self.spec.cluster_cidr, iface="eth0",
            config_dir=str(self.paths.etc), cni_conf_dir=str(self.paths.etc / "cni" / "net.d"),
            cni_data_dir=str(self.paths.dir / "cni" / "networks"), overrides=self.spec.overrides)

    def write_credentials(self) -> list[str]:
        """The node's kubeconfigs (kubelet, proxy, network agent) and the kubelet's serving
        certificate, made or renewed at every boot.

        Issued directly with the master's CA, which is on this host: what `minik8s join`
        gets through CertificateSigningRequests on a real machine."""
        try:
            return pki.ensure_node(self.paths.etc, pki.load_ca(self.spec.etc_dir), node_name=self.name,
                                   node_ip=self.node.ip, server=self.spec.server, servers=self.spec.servers)
        except pki_util.PKIError as e:
            raise host.ClusterError(f"{self.name}: credentials: {e}") from None

    def write_config(self) -> None:
        self.write_credentials()
        config.write_files(self.paths.etc, config.node_files(self.node_config()))
        self.paths.containerd_config.write_text(CONTAINERD_TOML.format(
            root=self.paths.containerd_root, state=self.paths.exec_root / "containerd",
            sock=self.paths.containerd_sock))

    # --- processes ---
    def pid(self, agent: str) -> int | None:
        """The live pid of `agent`, if its pidfile names a process in this node's cgroup."""
        return cgroups.live_pid(self.cgroup, str(self.paths.pidfile(agent)))

    def _spawn(self, agent: str, argv: list[str]) -> int:
        log = self.paths.log(agent)
        pid = cgroups.spawn(self.cgroup_system, [*netns.nsenter(self.ns), *argv], str(log))
        procs.write_pidfile(str(self.paths.pidfile(agent)), pid)
        return pid

    def _wait(self, agent: str, pid: int, ready: Any, timeout: float) -> None:
        def check() -> bool:
            if not procs.pid_alive(pid):
                raise host.ClusterError(f"{self.name}: {agent} (pid {pid}) exited during startup; "
                                        f"log {self.paths.log(agent)}:\n{procs.log_tail(str(self.paths.log(agent)))}")
            return bool(ready())

        try:
            procs.wait_for(check, timeout, interval=0.05, what=f"{self.name}: {agent}")
        except TimeoutError:
            raise host.ClusterError(f"{self.name}: {agent} (pid {pid}) not ready within {timeout:g}s; "
                                    f"log {self.paths.log(agent)}") from None

    def start_containerd(self) -> int:
        pid = self.pid("containerd")
        if pid:
            return pid
        sock = self.paths.containerd_sock
        with contextlib.suppress(FileNotFoundError):
            sock.unlink()
        pid = self._spawn("containerd", [host.which("containerd"), "--config", str(self.paths.containerd_config)])
        self._wait("containerd", pid, sock.exists, 30)
        return pid

    def start_dockerd(self) -> int:
        pid = self.pid("dockerd")
        if pid:
            return pid
        sock = str(self.paths.docker_sock)
        argv = [host.which("dockerd"),
                "--containerd", str(self.paths.containerd_sock),
                "--data-root", str(self.paths.docker_root),
                "--exec-root", str(self.paths.exec_root / "docker"),
                "--pidfile", str(self.paths.exec_root / "docker.pid"),
                "-H", f"unix://{sock}",
                # No default docker0: pods are networked by CNI (the node's cni0 bridge on
                # the pod CIDR), so there is no second address range to pick or collide with.
                "--bridge", "none",
                "--exec-opt", "native.cgroupdriver=cgroupfs",
                "--cgroup-parent", self.cgroup_pods]
        pid = self._spawn("dockerd", argv)
        self._wait("dockerd", pid, lambda: procs.docker_running(sock), 60)
        return pid

    def start_component(self, command: str) -> int:
        """`minik8s --config <node>/etc/<command>.yaml <command>` in the node, unless running.
        Ready is the API's verdict, not checked here."""
        pid = self.pid(command)
        if pid:
            return pid
        return self._spawn(command, [sys.executable, "-m", "minik8s", "--config",
                                     str(self.paths.etc / f"{command}.yaml"), command])

    def ensure_network(self) -> None:
        if netns.netns_exists(self.ns) and netns.link_exists(self.veth):
            return
        netns.create_node_netns(self.ns, self.veth, self.spec.bridge, f"{self.node.ip}/{self.spec.prefixlen}",
                                self.spec.master_ip)

    def prepare(self) -> None:
        for d in (self.paths.dir, self.paths.etc, self.paths.exec_root, self.paths.kubelet_root,
                  self.paths.dir / "logs"):
            d.mkdir(parents=True, exist_ok=True)
        cgroups.create(self.cgroup_system)
        self.write_config()

    def boot(self) -> None:
        """Network, engine and agents, each only if not running (so it also restarts a killed kubelet)."""
        self.prepare()
        self.ensure_network()
        self.start_containerd()
        self.start_dockerd()

    def start_agents(self) -> None:
        for command in config.NODE_COMPONENTS:
            self.start_component(command)

    # --- stopping ---
    def power_off(self) -> int:
        """As pulling a VM's plug: every process of the node dies at once (SIGKILL), its
        mounts and its /run go, its network namespace (and so its address) disappears.
        The disk (data-root, containerd root) stays for the next boot. Processes killed."""
        killed = cgroups.kill_all(self.cgroup)
        self._clean_after_processes()
        return killed

    def shutdown(self, timeout: float = 15) -> None:
        """An orderly stop for `cluster down`: agents, then containers through the engine,
        then the engine; whatever is left is killed as at power-off."""
        for agent in reversed(config.NODE_COMPONENTS):
            pid = self.pid(agent)
            if pid:
                procs.stop_pid(pid, timeout=5)
        if self.pid("dockerd") and procs.docker_running(str(self.paths.docker_sock)):
            self._remove_containers()
        for agent in ("dockerd", "containerd"):
            pid = self.pid(agent)
            if pid:
                procs.stop_pid(pid, timeout=timeout)
        self.power_off()

    def _remove_containers(self) -> None:
        from minik8s.kubelet import cleanup
        from minik8s.kubelet import runtime

        try:
            cleanup.remove_node_pods(self.name, f"unix://{self.paths.docker_sock}")
        except runtime.RuntimeFailure:
            pass  # the engine went away; power_off cleans up after it

    def _clean_after_processes(self) -> None:
        mounts.unmount_under(str(self.paths.dir))
        if self.paths.exec_root.exists():
            shutil.rmtree(self.paths.exec_root, ignore_errors=True)
        for agent in AGENTS:
            procs.remove_pidfile(str(self.paths.pidfile(agent)))
        with contextlib.suppress(FileNotFoundError):
            self.paths.docker_sock.unlink()
        with contextlib.suppress(FileNotFoundError):
            self.paths.containerd_sock.unlink()
        netns.delete_netns(self.ns)
        netns.delete_link(self.veth)
        cgroups.remove(self.cgroup)

    # --- failures short of power-off ---
    def isolate(self) -> None:
        if not netns.link_exists(self.veth):
            raise host.ClusterError(f"{self.name} is not running (no link {self.veth})")
        netns.set_link(self.veth, up=False)

    def heal(self) -> None:
        if not netns.link_exists(self.veth):
            raise host.ClusterError(f"{self.name} is not running (no link {self.veth})")
        netns.set_link(self.veth, up=True)

    def kill_agent(self, agent: str, sig: int = signal.SIGKILL) -> int:
        pid = self.pid(agent)
        if pid is None:
            raise host.ClusterError(f"{self.name}: {agent} is not running")
        os.kill(pid, sig)
        procs.wait_for(lambda: not procs.pid_alive(pid), 10, what=f"{agent} pid {pid} to exit")
        return pid

    # --- status ---
    def status(self) -> dict[str, Any]:
        running = netns.netns_exists(self.ns)
        return {
            "name": self.name,
            "ip": self.node.ip,
            "podCIDR": self.node.pod_cidr,
            "netns": self.ns if running else None,
            "link": (("up" if netns.link_is_up(self.veth) else "down") if netns.link_exists(self.veth) else None),
            "dockerHost": f"unix://{self.paths.docker_sock}",
            "pids": {agent: self.pid(agent) for agent in AGENTS},
        }

