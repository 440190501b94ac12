"""One real multi-node cluster per test session, a namespace per test.

By default the session brings up a local cluster (`minik8s cluster up`: 3 nodes,
each a network namespace with its own Docker engine and kubelet) under a unique
name, subnet and ports, and removes it with `minik8s cluster down` at the end,
asserting that nothing is left on the host.

With MINIK8S_E2E_KUBECONFIG set (`make vagrant-test`, deploy/vagrant-test.sh) the
same tests run against the Vagrant VMs instead; failures are then injected with
`vagrant halt`, `ip link set ... down` and `systemctl`, and tests that only make
sense for the local cluster are skipped with a reason.

Timeouts are shortened through the rendered config (`--set`), as an operator would:
node grace period 10 s, no toleration of unreachable nodes, 2 s kubelet heartbeats.
"""
from __future__ import annotations

import contextlib
import dataclasses
import ipaddress
import json
import os
import pathlib
import random
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any, Protocol

import pytest

from minik8s.util import procs

KUBECTL = shutil.which("kubectl") or "/usr/bin/kubectl"
REPO = pathlib.Path(__file__).resolve().parents[2]
MINIK8S = [sys.executable, "-m", "minik8s"]
WEB_IMAGE = "minik8s/web:1"
E2E_BASE = pathlib.Path("/var/lib/minik8s/e2e")

# What the tests shorten; the same keys an operator would put in /etc/minik8s/*.yaml.
FAST_FAILOVER = [
    "controller-manager.node-monitor-grace-period=10",
    "controller-manager.node-monitor-period=1",
    "apiserver.default-toleration-seconds=0",
    "kubelet.lease-interval=2",
    "kubelet.node-status-update-interval=2",
    "kubelet.housekeeping-interval=2",
    "controller-manager.lease-duration=4",
    "controller-manager.renew-deadline=3",
    "controller-manager.retry-period=1",
    "scheduler.lease-duration=4",
    "scheduler.renew-deadline=3",
    "scheduler.retry-period=1",
]
# Autoscaling reacts in seconds instead of tens of seconds (tests/e2e/test_autoscaling.py).
FAST_AUTOSCALING = [
    "controller-manager.horizontal-pod-autoscaler-sync-period=5",
    "controller-manager.horizontal-pod-autoscaler-downscale-stabilization=20",
    "kubelet.stats-interval=5",
    "apiserver.metric-resolution=5",
]


def run(argv: list[str], *, check: bool = True, timeout: float = 300, input: str | None = None,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, input=input, env=env,
                          cwd=str(REPO))
    if check and proc.returncode != 0:
        raise AssertionError(f"{shlex.join(argv)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


# Every wait_until bound multiplied by this: the VMs of `make vagrant-test` run under plain
# emulation (no usable KVM here), where a pod starts several times slower than on the local
# cluster (deploy/vagrant-test.sh sets 4 under TCG). The bounds stay bounds.
TIMEOUT_SCALE = float(os.environ.get("MINIK8S_E2E_TIMEOUT_SCALE", "1"))


def wait_until(predicate: Callable[[], Any], timeout: float, what: str, interval: float = 0.25) -> Any:
    return procs.wait_for(predicate, timeout * TIMEOUT_SCALE, interval=interval, what=what)


# --- failure injection ---------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Container:
    id: str
    name: str
    running: bool
    started_at: str
    labels: dict[str, str]

    @property
    def pod_uid(self) -> str:
        return self.labels.get("io.kubernetes.pod.uid", "")

    @property
    def container_name(self) -> str:
        return self.labels.get("io.kubernetes.container.name", "")


class Ops(Protocol):
    local: bool

    def stop_node(self, node: str) -> None: ...
    def start_node(self, node: str) -> None: ...
    def isolate(self, node: str) -> None: ...
    def heal(self, node: str) -> None: ...
    def stop_master(self) -> None: ...
    def start_master(self) -> None: ...
    def reboot_master(self) -> None: ...
    def master_down(self) -> list[str]: ...
    def kill_kubelet(self, node: str) -> int: ...
    def restart_kubelet(self, node: str) -> None: ...
    def containers(self, node: str) -> list[Container]: ...
    def http_from(self, node: str, url: str) -> str: ...


class LocalOps:
    """Failures through `minik8s cluster ...`; containers through each node's engine."""

    local = True

    def __init__(self, name: str, state_dir: str) -> None:
        self.name = name
        self.state_dir = state_dir

    def cluster(self, *args: str, timeout: float = 180) -> str:
        return run([*MINIK8S, "cluster", *args, "--name", self.name, "--state-dir", self.state_dir],
                   timeout=timeout).stdout

    def status(self) -> dict[str, Any]:
        return json.loads(self.cluster("status", "-o", "json"))

    def stop_node(self, node: str) -> None:
        self.cluster("stop-node", node)

    def start_node(self, node: str) -> None:
        self.cluster("start-node", node)

    def isolate(self, node: str) -> None:
        self.cluster("isolate", node)

    def heal(self, node: str) -> None:
        self.cluster("heal", node)

    def stop_master(self) -> None:
        self.cluster("stop-master")

    def start_master(self) -> None:
        self.cluster("start-master")

    def reboot_master(self) -> None:
        # No machine to reboot: every master process stops, then starts again.
        self.cluster("stop-master")
        self.cluster("start-master")

    def master_down(self) -> list[str]:
        return sorted(name for name, pid in self.status()["master"].items() if not pid)

    def kill_kubelet(self, node: str) -> int:
        pid = next(n for n in self.status()["nodes"] if n["name"] == node)["pids"]["kubelet"]
        assert pid, f"{node} has no kubelet"
        os.kill(pid, 9)
        wait_until(lambda: not procs.pid_alive(pid), 10, f"kubelet {pid} to die")
        return int(pid)

    def restart_kubelet(self, node: str) -> None:
        self.cluster("start-node", node)

    def containers(self, node: str) -> list[Container]:
        import docker

        sock = pathlib.Path(self.state_dir) / "nodes" / node / "docker.sock"
        client = docker.DockerClient(base_url=f"unix://{sock}", timeout=30)
        try:
            out = []
            for c in client.containers.list(all=True):
                state = c.attrs.get("State") or {}
                out.append(Container(c.id, c.name, bool(state.get("Running")), str(state.get("StartedAt")),
                                     dict(c.labels or {})))
            return out
        finally:
            client.close()

    def http_from(self, node: str, url: str) -> str:
        ns = f"/run/netns/mk8s-{self.name}-{node}"
        return run(["nsenter", f"--net={ns}", "--", "curl", "-sS", "-m", "5", url], timeout=30).stdout


class VagrantOps:
    """The same failures on the Vagrant VMs (deploy/vagrant-test.sh).

    Commands go over plain ssh with the settings `vagrant ssh-config` printed
    (MINIK8S_E2E_SSH_CONFIG): a `vagrant ssh` costs seconds of Ruby start-up, and the
    tests poll the VMs' engines often. Without that file, `vagrant ssh`.
    """

    local = False
    PRIVATE_NET = "192.168.56.0/24"
    MASTER_UNITS = ("etcd", "minik8s-apiserver", "minik8s-controller-manager", "minik8s-scheduler", "minik8s-dns")

    def __init__(self) -> None:
        self.ssh_config = os.environ.get("MINIK8S_E2E_SSH_CONFIG", "")

    def ssh(self, machine: str, command: str, timeout: float = 300, check: bool = True) -> str:
        if self.ssh_config:
            argv = ["ssh", "-F", self.ssh_config, "-o", "BatchMode=yes", "-o", "ConnectTimeout=10", machine, command]
        else:
            argv = ["vagrant", "ssh", machine, "-c", command]
        return run(argv, timeout=timeout, check=check).stdout

    def _refresh_ssh_config(self) -> None:
        """A machine that booted again may have a new management address."""
        if self.ssh_config:
            out = run(["vagrant", "ssh-config"], timeout=120).stdout
            pathlib.Path(self.ssh_config).write_text(out)

    def _link(self, node: str, state: str) -> None:
        self.ssh(node, f"sudo ip link set \"$(ip -o -4 addr show to {self.PRIVATE_NET} | awk '{{print $2}}')\" {state}")

    def stop_node(self, node: str) -> None:
        run(["vagrant", "halt", "--force", node])

    def start_node(self, node: str) -> None:
        run(["vagrant", "up", node, "--no-provision"], timeout=1200)
        self._refresh_ssh_config()

    def isolate(self, node: str) -> None:
        self._link(node, "down")

    def heal(self, node: str) -> None:
        self._link(node, "up")

    def stop_master(self) -> None:
        self.ssh("master", "sudo systemctl stop minik8s-scheduler minik8s-controller-manager minik8s-apiserver etcd")

    def start_master(self) -> None:
        self.ssh("master", "sudo systemctl start etcd minik8s-apiserver minik8s-controller-manager minik8s-scheduler")

    def _boot_id(self) -> str | None:
        try:
            out = self.ssh("master", "cat /proc/sys/kernel/random/boot_id", timeout=30, check=False)
        except subprocess.TimeoutExpired:
            return None
        return out.strip() or None

    def reboot_master(self) -> None:
        """`systemctl reboot` on the master; returns once it runs a new boot and answers ssh."""
        before = self._boot_id()
        assert before, "the master does not answer ssh"
        # ssh may lose its connection as sshd stops: its status says nothing.
        self.ssh("master", "sudo systemctl reboot", check=False, timeout=60)
        wait_until(lambda: self._boot_id() not in (None, before), 900, "the master to boot again", interval=5)
        self._refresh_ssh_config()

    def master_down(self) -> list[str]:
        """Master units not active (systemd started them at boot, or not)."""
        out = self.ssh("master", "systemctl is-active " + " ".join(self.MASTER_UNITS), check=False)
        return [unit for unit, state in zip(self.MASTER_UNITS, out.split()) if state != "active"]

    def kill_kubelet(self, node: str) -> int:
        pid = int(self.ssh(node, "systemctl show -p MainPID --value minik8s-kubelet").strip())
        self.ssh(node, "sudo systemctl kill -s KILL minik8s-kubelet")
        return pid

    def restart_kubelet(self, node: str) -> None:
        # Restart=on-failure brings it back by itself; start is a no-op once it has.
        self.ssh(node, "sudo systemctl start minik8s-kubelet")

    def containers(self, node: str) -> list[Container]:
        raw = self.ssh(node, "ids=$(sudo docker ps -aq); [ -z \"$ids\" ] || sudo docker inspect $ids").strip()
        out = []
        for c in json.loads(raw) if raw else []:
            state = c.get("State") or {}
            out.append(Container(c["Id"], c["Name"].lstrip("/"), bool(state.get("Running")),
                                 str(state.get("StartedAt")), dict((c.get("Config") or {}).get("Labels") or {})))
        return out

    def http_from(self, node: str, url: str) -> str:
        return self.ssh(node, f"curl -sS -m 5 {shlex.quote(url)}")


# --- the cluster handle ------------------------------------------------------------------------


@dataclasses.dataclass
class Cluster:
    name: str
    kubeconfig: str
    server: str
    nodes: dict[str, str]  # name → InternalIP
    ops: Ops
    cache_dir: str
    state_dir: str = ""
    # The controller manager's node-monitor-grace-period: how long a silent node stays Ready.
    node_grace: float = 10

    def kubectl(self, *args: str, input: str | None = None, check: bool = True,
                timeout: float = 60) -> subprocess.CompletedProcess[str]:
        env = dict(os.environ, KUBECONFIG=self.kubeconfig, KUBECACHEDIR=self.cache_dir)
        return run([KUBECTL, *args], input=input, check=check, timeout=timeout, env=env)

    def get_json(self, *args: str) -> Any:
        return json.loads(self.kubectl("get", *args, "-o", "json").stdout)

    def apply(self, manifest: dict[str, Any], namespace: str) -> None:
        self.kubectl("apply", "-n", namespace, "-f", "-", input=json.dumps(manifest))

    def node_ready(self, node: str) -> str:
        obj = self.get_json("node", node)
        for cond in obj.get("status", {}).get("conditions") or []:
            if cond.get("type") == "Ready":
                return str(cond.get("status"))
        return "Unknown"

    def wait_nodes_ready(self, timeout: float = 90) -> None:
        def ready() -> bool:
            proc = self.kubectl("get", "nodes", "-o", "json", check=False)
            if proc.returncode != 0:
                return False
            items = json.loads(proc.stdout)["items"]
            ok = {n["metadata"]["name"] for n in items
                  if any(c["type"] == "Ready" and c["status"] == "True" for c in n["status"].get("conditions", []))}
            return ok >= set(self.nodes)

        wait_until(ready, timeout, "every node Ready")

    def pods(self, namespace: str, selector: str = "") -> list[dict[str, Any]]:
        args = ["pods", "-n", namespace] + (["-l", selector] if selector else [])
        return list(self.get_json(*args)["items"])

    def api_up(self) -> bool:
        from minik8s.client import kubeconfig as kc

        try:
            with kc.urllib_opener(self.kubeconfig).open(self.server + "/readyz", timeout=2) as resp:
                return resp.status == 200
        except OSError:
            return False


def pod_ready(pod: dict[str, Any]) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (pod.get("status") or {}).get("conditions") or [])


def live(pods: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Pods not being deleted (what a ReplicaSet counts)."""
    return [p for p in pods if not p["metadata"].get("deletionTimestamp")]


def deployment(name: str, replicas: int, image: str = WEB_IMAGE) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "terminationGracePeriodSeconds": 2,
                    "containers": [{"name": "web", "image": image, "imagePullPolicy": "IfNotPresent",
                                    "ports": [{"containerPort": 80}]}],
                },
            },
        },
    }


def wait_ready_replicas(cluster: Cluster, namespace: str, app: str, count: int, timeout: float = 90,
                        exclude_node: str | None = None) -> list[dict[str, Any]]:
    """Wait until exactly `count` live pods of `app` are Ready (none on `exclude_node`); return them."""
    def check() -> list[dict[str, Any]] | None:
        pods = live(cluster.pods(namespace, f"app={app}"))
        ready = [p for p in pods if pod_ready(p) and p["spec"].get("nodeName") != exclude_node]
        return ready if len(ready) == count and len(pods) == count else None

    return wait_until(check, timeout, f"{count} Ready pods of {app}" +
                      (f" off {exclude_node}" if exclude_node else ""))


# --- leftovers ------------------------------------------------------------------------------


def host_leftovers(name: str, state_dir: str) -> list[str]:
    """Everything of cluster `name` still on the host, checked independently of the code under test."""
    found = []
    with open("/proc/self/mountinfo", encoding="utf-8") as f:
        for line in f:
            mountpoint = line.split(" ")[4]
            if mountpoint.startswith(state_dir) or f"/mk8s-{name}-" in mountpoint:
                found.append(f"mount {mountpoint}")
    for ns in os.listdir("/run/netns") if os.path.isdir("/run/netns") else []:
        if ns.startswith(f"mk8s-{name}-"):
            found.append(f"netns {ns}")
    for link in os.listdir("/sys/class/net"):
        if link == f"mk8s-{name}" or link.startswith(f"mk-{name}-"):
            found.append(f"link {link}")
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmdline = pathlib.Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if state_dir in cmdline:
            found.append(f"process {pid}: {cmdline[:120]}")
    for table in ("filter", "nat", "mangle", "raw"):
        listing = run(["iptables", "-w", "-t", table, "-S"], check=False).stdout
        found += [f"iptables {table}: {line}" for line in listing.splitlines()
                  if f"minik8s-cluster-{name} " in line + " "]
    for root in ("/sys/fs/cgroup/pids", "/sys/fs/cgroup"):
        if os.path.isdir(os.path.join(root, "minik8s-cluster", name)):
            found.append(f"cgroup {root}/minik8s-cluster/{name}")
    if os.path.exists(state_dir):
        found.append(f"state dir {state_dir}")
    return found


def free_subnet() -> str:
    """A /24 in 172.31.0.0/16 that no host route overlaps."""
    routes = run(["ip", "-4", "route", "show"]).stdout.splitlines()
    used = []
    for line in routes:
        dest = line.split(" ", 1)[0]
        if dest != "default":
            try:
                used.append(ipaddress.ip_network(dest, strict=False))
            except ValueError:
                pass
    candidates = list(range(100, 250))
    random.shuffle(candidates)
    for third in candidates:
        net = ipaddress.ip_network(f"172.31.{third}.0/24")
        if not any(net.overlaps(u) for u in used):
            return str(net)
    raise RuntimeError("no free /24 in 172.31.0.0/16")


def sweep_dead_sessions() -> None:
    """Remove clusters of earlier test sessions whose pytest process is gone (a killed run)."""
    if not E2E_BASE.is_dir():
        return
    for state in E2E_BASE.iterdir():
        owner = state / "owner.pid"
        try:
            pid = int(owner.read_text())
        except (OSError, ValueError):
            pid = 0
        if pid and procs.pid_alive(pid):
            continue
        name = state.name
        run([*MINIK8S, "cluster", "down", "--name", name, "--state-dir", str(state / "cluster")], check=False)
        shutil.rmtree(state, ignore_errors=True)


def _cluster_up(name: str, base: pathlib.Path, args: list[str], timeout: float) -> Cluster:
    """`minik8s cluster up` with its state and kubeconfig under `base`, and the Cluster it made."""
    state = str(base / "cluster")
    kubeconfig = str(base / "kubeconfig")
    run([*MINIK8S, "cluster", "up", "--name", name, "--state-dir", state, "--subnet", free_subnet(),
         "--kubeconfig", kubeconfig, *args], timeout=timeout)
    ops = LocalOps(name, state)
    st = ops.status()
    return Cluster(name=name, kubeconfig=kubeconfig, server=st["server"],
                   nodes={n["name"]: n["ip"] for n in st["nodes"]}, ops=ops, cache_dir=str(base / "kubecache"),
                   state_dir=state)


def up_local(name: str, base: pathlib.Path, nodes: int, extra: list[str] | None = None) -> Cluster:
    sets = [a for s in [*FAST_FAILOVER, *FAST_AUTOSCALING, *(extra or [])] for a in ("--set", s)]
    return _cluster_up(name, base, ["--nodes", str(nodes), "--port", str(procs.free_port()), *sets], timeout=240)


@contextlib.contextmanager
def own_cluster(prefix: str, args: list[str], *, check_leftovers: bool = False) -> Iterator[Cluster]:
    """A local cluster of a test's own (`cluster up` with `args` and FAST_FAILOVER, its own
    name, subnet and state under E2E_BASE), the session's untouched; always taken down after,
    and with `check_leftovers` the host checked for anything `down` left."""
    name = prefix + uuid.uuid4().hex[:4]
    base = E2E_BASE / name
    base.mkdir(parents=True)
    (base / "owner.pid").write_text(str(os.getpid()))
    state = str(base / "cluster")
    try:
        sets = [a for s in FAST_FAILOVER for a in ("--set", s)]
        yield _cluster_up(name, base, [*args, *sets], timeout=300)
    finally:
        run([*MINIK8S, "cluster", "down", "--name", name, "--state-dir", state], check=False)
        left = host_leftovers(name, state) if check_leftovers else []
        shutil.rmtree(base, ignore_errors=True)
        with contextlib.suppress(OSError):
            E2E_BASE.rmdir()  # only if nothing else lives there
        assert not left, f"cluster down left things behind: {left}"


def down_local(cluster: Cluster) -> list[str]:
    run([*MINIK8S, "cluster", "down", "--name", cluster.name, "--state-dir", cluster.state_dir], check=False)
    return host_leftovers(cluster.name, cluster.state_dir)


def require_root() -> None:
    if os.geteuid() != 0:
        pytest.fail("the e2e suite builds a local cluster (network namespaces, cgroups): run it as root")


@pytest.fixture(scope="session")
def cluster() -> Iterator[Cluster]:
    kubeconfig = os.environ.get("MINIK8S_E2E_KUBECONFIG")
    if kubeconfig:
        yield _vagrant_cluster(kubeconfig)
        return
    require_root()
    sweep_dead_sessions()
    name = "e2e" + uuid.uuid4().hex[:5]
    base = E2E_BASE / name
    base.mkdir(parents=True)
    (base / "owner.pid").write_text(str(os.getpid()))
    c = None
    try:
        c = up_local(name, base, nodes=3)
        yield c
    finally:
        if c is not None:
            left = down_local(c)
        else:
            run([*MINIK8S, "cluster", "down", "--name", name, "--state-dir", str(base / "cluster")], check=False)
            left = host_leftovers(name, str(base / "cluster"))
        shutil.rmtree(base, ignore_errors=True)
        for empty in (E2E_BASE, E2E_BASE.parent):
            with contextlib.suppress(OSError):
                empty.rmdir()  # only if nothing else lives there
        assert not left, f"cluster down left things behind: {left}"


def _vagrant_cluster(kubeconfig: str) -> Cluster:
    from minik8s.client import kubeconfig as kc

    access = kc.load(kubeconfig)
    cache = pathlib.Path(kubeconfig).parent / "kubecache"
    env = dict(os.environ, KUBECONFIG=kubeconfig, KUBECACHEDIR=str(cache))
    items = json.loads(run([KUBECTL, "get", "nodes", "-o", "json"], env=env).stdout)["items"]
    nodes = {n["metadata"]["name"]: next(a["address"] for a in n["status"]["addresses"] if a["type"] == "InternalIP")
             for n in items}
    # The VMs run under emulation with a longer grace period (the Vagrantfile's VM_SETTINGS).
    grace = float(os.environ.get("MINIK8S_E2E_NODE_GRACE", "10"))
    return Cluster(name="vagrant", kubeconfig=kubeconfig, server=access.server, nodes=nodes, ops=VagrantOps(),
                   cache_dir=str(cache), node_grace=grace)


@pytest.fixture
def local_host() -> None:
    """For tests that make their own local clusters (not the session's)."""
    if os.environ.get("MINIK8S_E2E_KUBECONFIG"):
        pytest.skip("exercises `minik8s cluster` itself; not applicable to the Vagrant VMs")
    require_root()


@pytest.fixture
def local_cluster(cluster: Cluster) -> Cluster:
    if not cluster.ops.local:
        pytest.skip("exercises `minik8s cluster` itself; not applicable to the Vagrant VMs")
    return cluster


@pytest.fixture
def namespace(cluster: Cluster) -> Iterator[str]:
    name = "e2e-" + uuid.uuid4().hex[:8]
    cluster.kubectl("create", "namespace", name)
    yield name
    cluster.kubectl("delete", "namespace", name, "--wait=false", check=False)


@pytest.fixture
def healthy(cluster: Cluster) -> Iterator[Cluster]:
    """The cluster with every node Ready and the master up, before and after the test."""
    cluster.wait_nodes_ready()
    yield cluster
    # A failed test may leave a node off or isolated: mend it for the next one.
    if cluster.ops.local:
        ops = cluster.ops
        assert isinstance(ops, LocalOps)
        st = ops.status()
        if not all(st["master"].values()):
            ops.start_master()
        for n in st["nodes"]:
            if n["link"] == "down":
                ops.heal(n["name"])
            if not all(n["pids"][a] for a in ("containerd", "dockerd", "kubelet")):
                ops.start_node(n["name"])
    cluster.wait_nodes_ready(timeout=120)


def elapsed(t0: float) -> str:
    return f"{time.monotonic() - t0:.1f}s"
