"""`minik8s up` / `minik8s down`: a single-node cluster on this host.

`up` starts each component as its own detached process (the same commands the
systemd units run), records its pid under the state directory, writes a
kubeconfig, and returns once the API server answers. `down` stops exactly those
pids. The state directory (etcd's data included) survives, so `up` after
`down` finds every object again.
"""
from __future__ import annotations

import dataclasses
import os
import pathlib
import socket
import sys
import time
import urllib.error
from typing import Callable

import click

from minik8s.cli.main import cli
from minik8s.client import kubeconfig
from minik8s.util import procs

CONTEXT = "minik8s"


EchoFn = Callable[[str], None]


def default_state_dir() -> str:
    return "/var/lib/minik8s" if os.geteuid() == 0 else str(pathlib.Path.home() / ".minik8s")


@dataclasses.dataclass(frozen=True)
class Component:
    name: str
    argv: list[str]


def _python_component(name: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "minik8s", name, *args]


def _healthy(url: str, timeout: float = 1.0) -> bool:
    try:
        with procs.LOOPBACK_OPENER.open(url, timeout=timeout) as resp:  # noqa: SLF001
            return resp.status == 200
    except (OSError, urllib.error.URLError):
        return False


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("0.0.0.0", port))
            return True
        except OSError:
            return False


class LocalCluster:
    """The processes of a single-host cluster, tracked by pidfiles under `state_dir/run`."""

    def __init__(self, state_dir: str, *, port: int = 6443, etcd_endpoints: str | None = None,
                 etcd_client_port: int = 2379, etcd_peer_port: int = 2380) -> None:
        self.state = pathlib.Path(state_dir)
        self.run_dir = self.state / "run"
        self.log_dir = self.state / "logs"
        self.port = port
        self.external_etcd = etcd_endpoints
        self.etcd_client_port = etcd_client_port
        self.etcd_peer_port = etcd_peer_port

    @property
    def server(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def etcd_endpoints(self) -> str:
        return self.external_etcd or f"http://127.0.0.1:{self.etcd_client_port}"

    def pidfile(self, name: str) -> str:
        return str(self.run_dir / f"{name}.pid")

    def log(self, name: str) -> str:
        return str(self.log_dir / f"{name}.log")

    def running(self, name: str) -> int | None:
        return procs.read_pidfile(self.pidfile(name), expect_name="etcd" if name == "etcd" else None)

    def components(self) -> list[Component]:
        """The master components in start order (later issues append theirs)."""
        return [
            Component("apiserver", _python_component(
                "apiserver", "--etcd-endpoints", self.etcd_endpoints, "--port", str(self.port),
                "--advertise-address", "127.0.0.1")),
        ]

    def start_etcd(self, echo: EchoFn) -> None:
        if self.external_etcd:
            return
        if self.running("etcd"):
            echo(f"etcd already running (pid {self.running('etcd')})")
            return
        if not _port_free(self.etcd_client_port):
            raise click.ClickException(
                f"port {self.etcd_client_port} is taken by another process; stop it or pass "
                "--etcd-endpoints to use that etcd")
        etcd = procs.EtcdProcess(str(self.state / "etcd"), self.etcd_client_port, self.etcd_peer_port,
                                 name="minik8s", log_file=self.log("etcd"), detach=True,
                                 pidfile=self.pidfile("etcd"))
        etcd.start()
        echo(f"etcd started (pid {etcd.pid}, {etcd.endpoint}, data {self.state / 'etcd'})")

    def start(self, component: Component, echo: EchoFn) -> None:
        pid = self.running(component.name)
        if pid:
            echo(f"{component.name} already running (pid {pid})")
            return
        proc = procs.spawn_detached(component.argv, self.log(component.name))
        procs.write_pidfile(self.pidfile(component.name), proc.pid)
        echo(f"{component.name} started (pid {proc.pid}, log {self.log(component.name)})")

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while not _healthy(self.server + "/readyz"):
            pid = self.running("apiserver")
            if pid is None:
                raise click.ClickException(
                    f"the API server exited; see {self.log('apiserver')}:\n{procs.log_tail(self.log('apiserver'))}")
            if time.monotonic() > deadline:
                raise click.ClickException(f"the API server did not become ready within {timeout:g}s; "
                                           f"see {self.log('apiserver')}")
            time.sleep(0.1)

    def stop_all(self, echo: EchoFn) -> None:
        names = [c.name for c in reversed(self.components())] + ["etcd"]
        for name in names:
            pid = self.running(name)
            if pid:
                procs.stop_pid(pid, timeout=15)
                echo(f"{name} stopped (pid {pid})")
            procs.remove_pidfile(self.pidfile(name))


def write_kubeconfig(server: str, explicit: str | None, state_dir: pathlib.Path) -> str:
    """Write the kubeconfig the issue asks for and say where it went."""
    if explicit:
        kubeconfig.write_context(explicit, CONTEXT, server)
        return f"kubeconfig written to {explicit} (context {CONTEXT})"
    default = kubeconfig.DEFAULT_PATH
    if not default.exists():
        kubeconfig.write_context(default, CONTEXT, server)
        return f"kubeconfig written to {default} (context {CONTEXT})"
    own = state_dir / "kubeconfig"
    kubeconfig.write_context(own, CONTEXT, server)
    kubeconfig.write_context(default, CONTEXT, server, make_current=True)
    return (f"kubeconfig written to {own}; context {CONTEXT} merged into {default} and made current "
            f"(switch back with `kubectl config use-context <name>`)")


@cli.command()
@click.option("--state-dir", default=default_state_dir, help="Where etcd data, pidfiles and logs live.")
@click.option("--port", default=6443, type=int, help="API server port.")
@click.option("--etcd-endpoints", default=None, help="Use this etcd instead of starting one.")
@click.option("--etcd-client-port", default=2379, type=int, help="Client port of the etcd `up` starts.")
@click.option("--etcd-peer-port", default=2380, type=int, help="Peer port of the etcd `up` starts.")
@click.option("--kubeconfig", "kubeconfig_path", default=None, help="Write the kubeconfig here.")
def up(state_dir: str, port: int, etcd_endpoints: str | None, etcd_client_port: int, etcd_peer_port: int,
       kubeconfig_path: str | None) -> None:
    """Bring up a single-node cluster on this host and write a kubeconfig."""
    cluster = LocalCluster(state_dir, port=port, etcd_endpoints=etcd_endpoints,
                           etcd_client_port=etcd_client_port, etcd_peer_port=etcd_peer_port)
    cluster.run_dir.mkdir(parents=True, exist_ok=True)
    cluster.log_dir.mkdir(parents=True, exist_ok=True)
    if not cluster.running("apiserver") and not _port_free(port):
        raise click.ClickException(f"port {port} is taken by another process; pass --port")
    cluster.start_etcd(click.echo)
    for component in cluster.components():
        cluster.start(component, click.echo)
        if component.name == "apiserver":
            cluster.wait_ready()
    click.echo(write_kubeconfig(cluster.server, kubeconfig_path, cluster.state))
    click.echo(f"logs: {cluster.log_dir}")
    click.echo(f"minik8s is up: API server {cluster.server}. Try `kubectl get ns`.")


@cli.command()
@click.option("--state-dir", default=default_state_dir, help="The state directory `up` used.")
def down(state_dir: str) -> None:
    """Stop every process `minik8s up` started (state is kept)."""
    cluster = LocalCluster(state_dir)
    cluster.stop_all(click.echo)
    click.echo("minik8s is down (state kept in %s)" % state_dir)
