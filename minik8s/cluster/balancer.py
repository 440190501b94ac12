"""The API servers' load balancer of a local cluster with several masters (`minik8s lb`).

kubectl reads one `server` from its kubeconfig; with the masters each in its own
namespace, that one master's loss would leave the user to find another with --server.
So, as a k3s agent runs its load balancer on 127.0.0.1:6444, `cluster up --masters N`
runs `minik8s --config <state>/etc/lb.yaml lb` on the host's loopback (the masters'
addresses are reachable from the host over the cluster bridge), and the kubeconfig
it writes for the user names the balancer, keeping every master in the
`minik8s.io/servers` extension for minik8s's own client. The balancer's config names
the admin's kubeconfig (etc/admin.conf, which names the masters themselves): its CA for
the /readyz health checks, its credentials to learn the masters.

It lives in cgroup `/minik8s-cluster/<c>/lb` (so `cluster down`'s sweep finds it),
pidfile `<state>/run/lb.pid`, log `<state>/logs/lb.log`. Powering off masters does not
touch it: it is the user's machine's process, not a master's.
"""
from __future__ import annotations

import socket
import sys
import time

from minik8s.cluster import cgroups
from minik8s.cluster import config
from minik8s.cluster import host
from minik8s.cluster import spec as spec_mod
from minik8s.util import procs

DEFAULT_PORT = 6444  # k3s's


def pick_port() -> int:
    """6444 when it is free on loopback, else any free port."""
    return DEFAULT_PORT if procs.port_free(DEFAULT_PORT, "127.0.0.1") else procs.free_port()


class LocalBalancer:
    def __init__(self, spec: spec_mod.ClusterSpec) -> None:
        self.spec = spec
        self.cgroup = cgroups.cluster_path(spec.name, "lb")
        self.pidfile = str(spec.run_dir / "lb.pid")
        self.log = str(spec.log_dir / "lb.log")

    def config_files(self) -> dict[str, dict[str, object]]:
        return dict(config.lb_files(self.spec.servers, port=self.spec.lb_port, bind_address="127.0.0.1",
                                    kubeconfig=str(self.spec.admin_kubeconfig), overrides=self.spec.overrides))

    def pid(self) -> int | None:
        return cgroups.live_pid(self.cgroup, self.pidfile)

    def _listening(self) -> bool:
        try:
            socket.create_connection(("127.0.0.1", self.spec.lb_port), timeout=1).close()
        except OSError:
            return False
        return True

    def start(self, timeout: float = 30) -> int:
        """Started (unless running) and listening; its pid."""
        if not self.spec.lb_port:
            raise host.ClusterError(f"cluster {self.spec.name!r} has no load balancer (one master)")
        pid = self.pid()
        if pid:
            return pid
        for d in (self.spec.run_dir, self.spec.log_dir):
            d.mkdir(parents=True, exist_ok=True)
        config.write_files(self.spec.etc_dir, self.config_files())
        argv = [sys.executable, "-m", "minik8s", "--config", str(self.spec.etc_dir / "lb.yaml"), "lb"]
        pid = cgroups.spawn(self.cgroup, argv, self.log)
        procs.write_pidfile(self.pidfile, pid)
        deadline = time.monotonic() + timeout
        while not self._listening():
            if self.pid() is None:
                raise host.ClusterError(f"the load balancer exited; see {self.log}:\n{procs.log_tail(self.log)}")
            if time.monotonic() > deadline:
                raise host.ClusterError(f"the load balancer did not listen on 127.0.0.1:{self.spec.lb_port} "
                                        f"within {timeout:g}s; see {self.log}")
            time.sleep(0.05)
        return pid

    def stop(self, timeout: float = 10) -> bool:
        """Stopped (SIGTERM, then whatever is left in its cgroup); whether it was running."""
        pid = self.pid()
        if pid:
            procs.stop_pid(pid, timeout=timeout)
        procs.remove_pidfile(self.pidfile)
        cgroups.kill_all(self.cgroup)
        cgroups.remove(self.cgroup)
        return pid is not None

    def status(self) -> dict[str, object]:
        return {"server": self.spec.lb_server, "pid": self.pid()}
