"""`minik8s up` / `minik8s down`: a single-node cluster on this host.

This host is both the master and the node. `up` renders the same config files
a VM gets from `minik8s init` and `minik8s join` (minik8s.cluster.config) into
`<state>/etc`, then has each component started the way its systemd unit does
(`minik8s --config <state>/etc/<c>.yaml <c>`), with a pidfile under
`<state>/run` and a log under `<state>/logs`: etcd, API server, controller
manager, scheduler, then the kubelet on the local Docker engine (started if
none answers), the proxy and the cluster DNS. Before that it makes (or renews)
the cluster's PKI in `<state>/etc` (minik8s.cluster.pki): the CA, the API
server's certificate, a kubeconfig per component. It writes the admin's
kubeconfig and returns once the node is Ready.

The processes belong to `minik8s supervise` (minik8s/util/supervisor.py), which
`up` starts first and which outlives it: `up` adds each component to its plan
in order and waits for it to be ready; a component that crashes later is
restarted with back-off, as systemd restarts the same units on a VM. `minik8s
status` shows each one's pid, restarts and last error. `down` stops the
supervisor, which stops them all; it then removes the pods' containers and the
proxy's rules. etcd's data survives, so `up` after `down` finds every object again.

The API server reaches the kubelet (logs, exec, attach, port-forward) at the node's
address, which is not loopback: over HTTPS, with the kubelet's serving certificate
(pki/kubelet.crt, for the node's address) checked against the cluster CA, and with its
own client certificate (pki/apiserver-kubelet-client.crt), the only one the kubelet
serves; `ensure_pki` issues both, as `minik8s cluster up` and `minik8s init`/`join` do.
"""
from __future__ import annotations

import datetime
import os
import pathlib
import socket
import subprocess
import sys
import time
import urllib.error
from typing import Any, Callable

import click

from minik8s.api import conditions
from minik8s.cli.main import cli
from minik8s.client import kubeconfig
from minik8s.util import procs
from minik8s.util import supervisor

CONTEXT = "minik8s"
EchoFn = Callable[[str], None]
# Start order after etcd; stopped in reverse.
COMPONENTS = ("apiserver", "controller-manager", "scheduler", "kubelet", "network-agent", "proxy", "dns")


def default_state_dir() -> str:
    return "/var/lib/minik8s" if os.geteuid() == 0 else str(pathlib.Path.home() / ".minik8s")


def _get(admin_kubeconfig: pathlib.Path, url: str, timeout: float = 1.0) -> bytes | None:
    try:
        with kubeconfig.urllib_opener(admin_kubeconfig).open(url, timeout=timeout) as resp:
            return resp.read() if resp.status == 200 else None
    except (OSError, urllib.error.URLError, kubeconfig.KubeconfigError):
        return None


class LocalCluster:
    """The processes of a single-host cluster, tracked by pidfiles under `state_dir/run`."""

    def __init__(self, state_dir: str, *, port: int = 6443, etcd_client_port: int = 2379,
                 etcd_peer_port: int = 2380, node_ip: str = "", node_name: str = "",
                 overrides: list[str] | None = None, renew_before_days: float = 30) -> None:
        from minik8s.cluster import config

        self.state = pathlib.Path(state_dir)
        self.run_dir = self.state / "run"
        self.log_dir = self.state / "logs"
        self.etc = self.state / "etc"
        self.port = port
        self.renew_before = datetime.timedelta(days=renew_before_days)
        sets = config.parse_set(overrides or [])
        from minik8s.kubelet import nodestatus

        self.node_ip = node_ip or nodestatus.default_node_ip()
        self.node_name = (node_name or socket.gethostname()).lower()
        # One pod CIDR for the cluster: the controller manager's (`--set
        # controller-manager.cluster-cidr=...`) is also the network agent's and the proxy's
        # unless they are set too; else the agent refuses the node's podCIDR as outside it
        # and pods never get a network.
        cidr = str(sets.get("controller-manager", {}).get("cluster-cidr") or config.DEFAULT_CLUSTER_CIDR)
        self.master = config.MasterConfig(
            advertise_address=self.node_ip, api_port=port, bind_address="0.0.0.0",
            etcd_data_dir=str(self.state / "etcd"), etcd_client_port=etcd_client_port,
            etcd_peer_port=etcd_peer_port, cluster_cidr=cidr, config_dir=str(self.etc), overrides=sets)
        self.node = config.NodeConfig(cluster_cidr=cidr,
            name=self.node_name, ip=self.node_ip, server=self.server, root_dir=str(self.state / "kubelet"),
            network_backend="host-gw", cni_conf_dir=str(self.state / "cni" / "net.d"),
            cni_data_dir=str(self.state / "cni" / "networks"), config_dir=str(self.etc), overrides=sets)

    @property
    def server(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def admin_kubeconfig(self) -> pathlib.Path:
        return self.etc / "admin.conf"

    def pidfile(self, name: str) -> str:
        return str(self.run_dir / f"{name}.pid")

    def log(self, name: str) -> str:
        return str(self.log_dir / f"{name}.log")

    def running(self, name: str) -> int | None:
        return procs.read_pidfile(self.pidfile(name), expect_name="etcd" if name == "etcd" else None)

    def ensure_pki(self, echo: EchoFn) -> None:
        """The CA, the API server's certificate and every component's kubeconfig: made if
        missing, renewed when within the renewal window of expiry."""
        from minik8s.cluster import pki

        ca, actions = pki.ensure_master(self.etc, server=self.server, addresses=[self.node_ip],
                                        service_cidr=self.master.service_cluster_ip_range,
                                        cluster_domain=self.master.cluster_domain, renew_before=self.renew_before)
        actions += pki.ensure_node(self.etc, ca, node_name=self.node_name, node_ip=self.node_ip,
                                   server=self.server, renew_before=self.renew_before)
        for action in actions:
            echo(action)

    # -- the supervisor -------------------------------------------------------------------

    def supervisor_pid(self) -> int | None:
        return procs.read_pidfile(self.pidfile("supervisor"))

    def ensure_supervisor(self, echo: EchoFn) -> None:
        """Start `minik8s supervise` unless it runs; a fresh one starts from an empty plan
        (what still runs is adopted as `up` adds it back)."""
        if self.supervisor_pid():
            return
        (self.run_dir / supervisor.PLAN_FILE).unlink(missing_ok=True)
        argv = [sys.executable, "-m", "minik8s", "supervise", "--state-dir", str(self.state)]
        proc = procs.spawn_detached(argv, self.log("supervisor"))
        procs.write_pidfile(self.pidfile("supervisor"), proc.pid)
        echo(f"supervisor started (pid {proc.pid}, log {self.log('supervisor')})")

    def supervise(self, name: str, argv: list[str]) -> int:
        """Have the supervisor run `argv` as `name`; returns its pid once started."""
        supervisor.add_to_plan(self.run_dir, supervisor.Program(name, tuple(argv), self.log(name), self.pidfile(name)))
        deadline = time.monotonic() + 30
        while True:
            entry = self.program_status(name)
            if entry and entry.get("pid") and self.running(name) == entry["pid"]:
                return int(entry["pid"])
            if self.supervisor_pid() is None:
                raise click.ClickException(f"the supervisor exited; see {self.log('supervisor')}:\n"
                                           f"{procs.log_tail(self.log('supervisor'))}")
            if time.monotonic() > deadline:
                raise click.ClickException(f"{name} was not started within 30s; see {self.log('supervisor')}")
            time.sleep(0.05)

    def program_status(self, name: str) -> dict[str, Any] | None:
        for entry in supervisor.read_status(self.run_dir).get("programs") or []:
            if entry.get("name") == name:
                found: dict[str, Any] = entry
                return found
        return None

    def write_config(self) -> None:
        from minik8s.cluster import config

        files = config.master_files(self.master)
        files.update(config.node_files(self.node))
        config.write_files(self.etc, files)
        # The shared kubelet token of earlier versions: the kubelet now takes client certificates.
        (self.state / "kubelet-token").unlink(missing_ok=True)

    def argv(self, name: str, *extra: str) -> list[str]:
        return [sys.executable, "-m", "minik8s", "--config", str(self.etc / f"{name}.yaml"), name, *extra]

    # -- start ----------------------------------------------------------------------------

    def start_etcd(self, echo: EchoFn) -> None:
        if self.running("etcd"):
            echo(f"etcd already running (pid {self.running('etcd')})")
        elif not procs.port_free(self.master.etcd_client_port):
            raise click.ClickException(f"port {self.master.etcd_client_port} is taken by another process; pass "
                                       "--etcd-client-port")
        from minik8s.cluster import master

        etcd = master.EtcdFromConfigFile(str(self.etc / "etcd.yaml"), data_dir=self.master.etcd_data_dir,
                               client_port=self.master.etcd_client_port, peer_port=self.master.etcd_peer_port,
                               log_file=self.log("etcd"), detach=True, pidfile=self.pidfile("etcd"))
        os.makedirs(self.master.etcd_data_dir, mode=0o700, exist_ok=True)
        pid = self.supervise("etcd", etcd.argv())
        self.wait("etcd", lambda: procs.etcd_healthy(etcd.endpoint), 30)
        echo(f"etcd started (pid {pid}, {etcd.endpoint}, data {self.master.etcd_data_dir})")

    def start(self, name: str, echo: EchoFn) -> int:
        pid = self.running(name)
        if pid:
            echo(f"{name} already running (pid {pid})")
        pid = self.supervise(name, self.argv(name))
        echo(f"{name} started (pid {pid}, log {self.log(name)})")
        return pid

    def wait(self, name: str, ready: Callable[[], Any], timeout: float) -> None:
        """Wait for `ready`; a component the supervisor had to restart three times is
        not coming up by itself: fail with its last error."""
        deadline = time.monotonic() + timeout
        first = self.program_status(name) or {}
        while not ready():
            entry = self.program_status(name) or {}
            if int(entry.get("restarts") or 0) - int(first.get("restarts") or 0) >= 3:
                raise click.ClickException(f"{name} keeps exiting ({entry.get('lastExit')}); see {self.log(name)}:\n"
                                           f"{procs.log_tail(self.log(name))}")
            if time.monotonic() > deadline:
                raise click.ClickException(f"{name} not ready within {timeout:g}s; see {self.log(name)}:\n"
                                           f"{procs.log_tail(self.log(name))}")
            time.sleep(0.1)

    def node_ready(self) -> bool:
        import json

        raw = _get(self.admin_kubeconfig, f"{self.server}/api/v1/nodes/{self.node_name}")
        if raw is None:
            return False
        return conditions.is_true(json.loads(raw), "Ready")

    def up(self, echo: EchoFn) -> None:
        for d in (self.run_dir, self.log_dir, self.etc):
            d.mkdir(parents=True, exist_ok=True)
        if not self.running("apiserver") and not procs.port_free(self.port):
            raise click.ClickException(f"port {self.port} is taken by another process; pass --port")
        self.ensure_pki(echo)
        self.write_config()
        self.ensure_supervisor(echo)
        self.start_etcd(echo)
        self.start("apiserver", echo)
        self.wait("apiserver", lambda: _get(self.admin_kubeconfig, self.server + "/readyz") is not None, 60)
        self.start("controller-manager", echo)
        self.start("scheduler", echo)
        self.prepare_docker(echo)
        self.start("kubelet", echo)
        # The agent writes the kubelet's CNI configuration: the node is Ready after it.
        self.start("network-agent", echo)
        self.wait("kubelet", self.node_ready, 120)
        echo(f"node {self.node_name} is Ready ({self.node_ip})")
        self.start("proxy", echo)
        self.start("dns", echo)

    def prepare_docker(self, echo: EchoFn) -> None:
        import docker

        from minik8s.images import build as images

        started = procs.ensure_dockerd(log_file=self.log("dockerd"))
        if started is not None:
            echo(f"dockerd started (pid {started.pid}, log {self.log('dockerd')})")
        client = docker.from_env()
        try:
            built = images.build_images(client, log=lambda m: echo(f"  {m}"))
        finally:
            client.close()
        if built:
            echo(f"built images: {', '.join(built)}")

    # -- stop -----------------------------------------------------------------------------

    def down(self, echo: EchoFn) -> None:
        sup = self.supervisor_pid()
        if sup:
            # The supervisor stops every component (last started first), then itself.
            before = {name: self.running(name) for name in ("etcd", *COMPONENTS)}
            procs.stop_pid(sup, timeout=len(before) * 20)
            for name, pid in before.items():
                if pid and not procs.pid_alive(pid):
                    echo(f"{name} stopped (pid {pid})")
            echo(f"supervisor stopped (pid {sup})")
        procs.remove_pidfile(self.pidfile("supervisor"))
        (self.run_dir / supervisor.PLAN_FILE).unlink(missing_ok=True)
        # Whatever is still running (no supervisor, or one that died): stopped by pidfile.
        for name in reversed(COMPONENTS):
            pid = self.running(name)
            if pid:
                procs.stop_pid(pid, timeout=15)
                echo(f"{name} stopped (pid {pid})")
            procs.remove_pidfile(self.pidfile(name))
        if (self.etc / "proxy.yaml").exists():
            # The proxy's iptables rules outlive it; take them away with it.
            subprocess.run(self.argv("proxy", "--cleanup"), capture_output=True, timeout=60, check=False)
        self.remove_pod_containers(echo)
        self.unmount_pod_volumes(echo)
        if (self.etc / "network-agent.yaml").exists():
            # Its masquerade rules, the CNI configuration and the pods' bridge go too.
            subprocess.run(self.argv("network-agent", "--cleanup"), capture_output=True, timeout=60, check=False)
        pid = self.running("etcd")
        if pid:
            procs.stop_pid(pid, timeout=15)
            echo(f"etcd stopped (pid {pid})")
        procs.remove_pidfile(self.pidfile("etcd"))

    def remove_pod_containers(self, echo: EchoFn) -> None:
        """The pods' containers stop with the node (the kubelet recreates them on `up`)."""
        from minik8s.cluster import config

        kubelet_file = self.etc / "kubelet.yaml"
        if not procs.docker_running() or not kubelet_file.exists():
            return
        options = config.read_options(kubelet_file, "kubelet")
        node_name = options.get("node-name") or self.node_name
        from minik8s.kubelet import cleanup
        from minik8s.kubelet import config as kubelet_config
        from minik8s.kubelet import kubelet

        defaults = kubelet_config.Config(node_name=node_name)
        network = kubelet.pod_network(kubelet_config.Config(
            node_name=node_name, root_dir=options.get("root-dir") or defaults.root_dir,
            cni_conf_dir=options.get("cni-conf-dir") or defaults.cni_conf_dir,
            cni_bin_dir=options.get("cni-bin-dir") or defaults.cni_bin_dir,
            cni_cache_dir=options.get("cni-cache-dir") or defaults.cni_cache_dir))
        # Their addresses are released now (CNI DEL), while the CNI configuration is still there.
        removed = cleanup.remove_node_pods(node_name, options.get("docker-host") or "", network)
        if removed.network_error:
            echo(f"warning: pod addresses not released: {removed.network_error}")
        if removed.containers:
            echo(f"removed {removed.containers} pod containers")


    def unmount_pod_volumes(self, echo: EchoFn) -> None:
        """The pods' tmpfs volumes (Secrets, ServiceAccount tokens) go with their containers,
        as on a node that powers off; the kubelet mounts them again on `up`."""
        from minik8s.cluster import config
        from minik8s.cluster import mounts
        from minik8s.kubelet import config as kubelet_config

        kubelet_file = self.etc / "kubelet.yaml"
        if os.geteuid() != 0 or not kubelet_file.exists():
            return
        options = config.read_options(kubelet_file, "kubelet")
        root = options.get("root-dir") or kubelet_config.Config(node_name=self.node_name).root_dir
        gone = mounts.unmount_under(os.path.join(root, "pods"))
        if gone:
            echo(f"unmounted {len(gone)} pod volumes")


def write_kubeconfig(server: str, explicit: str | None, state_dir: pathlib.Path) -> str:
    """Write the admin's kubeconfig (CA, certificate and key embedded; mode 0600) and say where it went."""
    admin = kubeconfig.load(state_dir / "etc" / "admin.conf")

    def write(path: str | pathlib.Path, make_current: bool = True) -> None:
        kubeconfig.write_context(path, CONTEXT, server, ca=admin.ca, cert=admin.cert, key=admin.key,
                                 make_current=make_current)

    if explicit:
        write(explicit)
        return f"kubeconfig written to {explicit} (context {CONTEXT})"
    default = kubeconfig.DEFAULT_PATH
    if not default.exists():
        write(default)
        return f"kubeconfig written to {default} (context {CONTEXT})"
    own = state_dir / "kubeconfig"
    write(own)
    write(default)
    return (f"kubeconfig written to {own}; context {CONTEXT} merged into {default} and made current "
            f"(switch back with `kubectl config use-context <name>`)")


@cli.command()
@click.option("--state-dir", default=default_state_dir, help="Where etcd data, configs, pidfiles and logs live.")
@click.option("--port", default=6443, type=int, help="API server port.")
@click.option("--etcd-client-port", default=2379, type=int, help="Client port of the etcd `up` starts.")
@click.option("--etcd-peer-port", default=2380, type=int, help="Peer port of the etcd `up` starts.")
@click.option("--node-ip", default="", help="This node's address (default: the default route interface's).")
@click.option("--node-name", default="", help="This node's name (default: the hostname).")
@click.option("--set", "overrides", multiple=True, metavar="COMPONENT.OPTION=VALUE",
              help="Override any component option in the rendered configs (repeatable).")
@click.option("--kubeconfig", "kubeconfig_path", default=None, help="Write the kubeconfig here.")
@click.option("--cert-renewal-days", default=30.0, type=click.FloatRange(min=0),
              help="Renew a certificate at start when it expires within this many days.")
def up(state_dir: str, port: int, etcd_client_port: int, etcd_peer_port: int, node_ip: str, node_name: str,
       overrides: tuple[str, ...], kubeconfig_path: str | None, cert_renewal_days: float) -> None:
    """Bring up a single-node cluster on this host and write a kubeconfig."""
    cluster = LocalCluster(state_dir, port=port, etcd_client_port=etcd_client_port, etcd_peer_port=etcd_peer_port,
                           node_ip=node_ip, node_name=node_name, overrides=list(overrides),
                           renew_before_days=cert_renewal_days)
    cluster.up(click.echo)
    click.echo(write_kubeconfig(cluster.server, kubeconfig_path, cluster.state))
    click.echo(f"logs: {cluster.log_dir}")
    click.echo(f"minik8s is up: API server {cluster.server}. Try `kubectl get nodes`.")


@cli.command()
@click.option("--state-dir", default=default_state_dir, help="The state directory `up` used.")
def down(state_dir: str) -> None:
    """Stop every process `minik8s up` started (etcd's data is kept)."""
    LocalCluster(state_dir).down(click.echo)
    click.echo(f"minik8s is down (state kept in {state_dir})")


@cli.command()
@click.option("--state-dir", default=default_state_dir, help="The state directory `up` used.")
def supervise(state_dir: str) -> None:
    """Keep the processes `minik8s up` adds running (started by `up`; not for direct use)."""
    run_dir = pathlib.Path(state_dir) / "run"
    run_dir.mkdir(parents=True, exist_ok=True)
    supervisor.Supervisor(run_dir).run()


def _age(seconds: float) -> str:
    s = max(0, int(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60}s"
    if s < 86400:
        return f"{s // 3600}h{s % 3600 // 60}m"
    return f"{s // 86400}d{s % 86400 // 3600}h"


@cli.command()
@click.option("--state-dir", default=default_state_dir, help="The state directory `up` used.")
@click.option("-o", "--output", type=click.Choice(["table", "json"]), default="table")
def status(state_dir: str, output: str) -> None:
    """Each process of the `minik8s up` cluster: pid, state, restarts and last error."""
    import json

    cluster = LocalCluster.__new__(LocalCluster)
    cluster.state = pathlib.Path(state_dir)
    cluster.run_dir = cluster.state / "run"
    cluster.log_dir = cluster.state / "logs"
    doc = supervisor.read_status(cluster.run_dir)
    sup = cluster.supervisor_pid()
    programs = doc.get("programs") or []
    for entry in programs:
        # A status written by a supervisor that has since died may name dead pids.
        if entry.get("pid") and not procs.pid_alive(int(entry["pid"])):
            entry["state"], entry["pid"] = "exited", None
    if output == "json":
        click.echo(json.dumps({"supervisor": sup, "programs": programs}, indent=2))
        return
    if not programs:
        raise click.ClickException(f"no cluster was brought up with state directory {state_dir} (`minik8s up`)")
    click.echo(f"supervisor: {'pid ' + str(sup) if sup else 'not running: crashed components are not restarted'}")
    now = time.time()
    rows = [("COMPONENT", "PID", "STATE", "RESTARTS", "UP", "LAST EXIT", "LAST ERROR")]
    for entry in programs:
        up_for = _age(now - entry["startedAt"]) if entry.get("pid") and entry.get("startedAt") else "-"
        state = entry.get("state") or "-"
        if state == "backoff" and entry.get("nextStart"):
            state = f"backoff ({max(0, int(entry['nextStart'] - now))}s)"
        last_error = (entry.get("lastError") or "").strip().splitlines()
        rows.append((entry["name"], str(entry.get("pid") or "-"), state, str(entry.get("restarts", 0)), up_for,
                     entry.get("lastExit") or "-", (last_error[-1][:80] if last_error else "-")))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        click.echo("   ".join(cell.ljust(w) for cell, w in zip(row, widths)) + "   " + row[-1])
