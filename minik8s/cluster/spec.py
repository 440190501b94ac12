"""What a local cluster is made of, and the name of every host object it creates.

One record (saved as `<state-dir>/cluster.json` when `up` starts) holds the
cluster's name, subnet, ports, nodes and tokens. Every later command (`down`,
`stop-node`, `status`...) reads it back, so all of them agree on the names; and
names are derived from the cluster name alone, so `down` can find the leftovers of
a run whose state directory is gone.

Names (`<c>` is the cluster name, at most 9 characters so link names fit Linux's
15): bridge `mk8s-<c>`, node namespace `mk8s-<c>-<node>`, host end of a node's
veth `mk-<c>-<i>`, cgroups under `/minik8s-cluster/<c>`, iptables comment
`minik8s-cluster-<c>`, kubeconfig context `minik8s-<c>`.

With several masters (`cluster up --masters N`, N > 1), or with an external etcd, each
master is a namespace too, `mk8s-<c>-master<i>` at the subnet's host .(1 + i) behind
veth `mk-<c>-m<i>`, with its files under `<state>/masters/master<i>/`; a single master
with its own etcd stays on the host (the bridge address), as before.

With `--etcd external` (kubeadm's external etcd topology) etcd is a cluster of its
own (`--etcd-members`, 3 by default): member i is namespace `mk8s-<c>-etcd<i>` at
the subnet's host counted down from the top (.254, .253, ... in a /24) behind veth
`mk-<c>-e<i>`, with its files under `<state>/etcd-members/etcd<i>/`; the masters
then run no etcd.
"""
from __future__ import annotations

import dataclasses
import ipaddress
import json
import os
import pathlib
import re
from typing import Any

from minik8s.cluster import config
from minik8s.cluster import host

NAME_RE = re.compile(r"^[a-z][a-z0-9]{0,8}$")
DEFAULT_NAME = "local"
DEFAULT_SUBNET = "172.31.0.0/24"
FIRST_NODE_HOST = 10  # node i gets the subnet's host .(10 + i)
FIRST_MASTER_HOST = 1  # master i (of several) gets the subnet's host .(1 + i)
MAX_MASTERS = 7
ETCD_TOPOLOGIES = ("stacked", "external")
DEFAULT_ETCD_MEMBERS = 3  # with --etcd external: a quorum survives one member's loss
MAX_ETCD_MEMBERS = 7
# Inside a master's own namespace the ports are its own: the well-known ones.
MASTER_ETCD_CLIENT_PORT = 2379
MASTER_ETCD_PEER_PORT = 2380
LINK_NAME_MAX = 15
SPEC_FILE = "cluster.json"


def validate_name(name: str) -> str:
    if not NAME_RE.match(name):
        raise host.Refused(f"cluster name {name!r} must be 1-9 characters of a-z and 0-9, "
                                "starting with a letter (it is part of link names)")
    return name


def default_state_dir(name: str) -> str:
    base = "/var/lib/minik8s" if os.geteuid() == 0 else str(pathlib.Path.home() / ".minik8s")
    return os.path.join(base, f"cluster-{name}")


def bridge_name(cluster: str) -> str:
    return f"mk8s-{cluster}"


def netns_prefix(cluster: str) -> str:
    return f"mk8s-{cluster}-"


def netns_name(cluster: str, node: str) -> str:
    return f"{netns_prefix(cluster)}{node}"


def veth_name(cluster: str, index: int) -> str:
    return f"mk-{cluster}-{index}"


def iptables_tag(cluster: str) -> str:
    return f"minik8s-cluster-{cluster}"


def context_name(cluster: str) -> str:
    return f"minik8s-{cluster}"


def node_name(index: int) -> str:
    return f"node{index}"


def master_name(index: int) -> str:
    return f"master{index}"


def master_veth_name(cluster: str, index: int) -> str:
    return f"mk-{cluster}-m{index}"


def etcd_member_name(index: int) -> str:
    return f"etcd{index}"


def etcd_veth_name(cluster: str, index: int) -> str:
    return f"mk-{cluster}-e{index}"


@dataclasses.dataclass(frozen=True)
class NodeSpec:
    name: str
    index: int
    ip: str
    pod_cidr: str


@dataclasses.dataclass(frozen=True)
class MasterSpec:
    """One master of a multi-master cluster (its own namespace, etcd member, API server...)."""

    name: str
    index: int
    ip: str


@dataclasses.dataclass(frozen=True)
class EtcdMemberSpec:
    """One member of an external etcd cluster (its own namespace, nothing else in it)."""

    name: str
    index: int
    ip: str


@dataclasses.dataclass(frozen=True)
class ClusterSpec:
    name: str
    state_dir: str
    subnet: str
    api_port: int
    etcd_client_port: int
    etcd_peer_port: int
    nodes: tuple[NodeSpec, ...]
    cluster_cidr: str = config.DEFAULT_CLUSTER_CIDR
    # {component: {option: value}} merged over the rendered configs.
    overrides: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    kubeconfig: str = ""
    # Empty: the one master on the host (the bridge address). Otherwise every master
    # runs in its own namespace and `etcd` says where etcd runs ("stacked": a member
    # in each master's namespace).
    masters: tuple[MasterSpec, ...] = ()
    etcd: str = "stacked"
    # etcd "external": its members (each in its own namespace); empty otherwise.
    etcd_members: tuple[EtcdMemberSpec, ...] = ()
    # With several masters: the port of the API servers' load balancer on the host's
    # loopback (`minik8s lb`), which the user's kubeconfig names; 0 with one master.
    lb_port: int = 0

    # --- derived names and paths ---
    @property
    def master_ip(self) -> str:
        """The bridge address: the host's, the nodes' gateway (and the master, if there is one)."""
        return str(next(ipaddress.ip_network(self.subnet).hosts()))

    @property
    def multi_master(self) -> bool:
        return bool(self.masters)

    @property
    def servers(self) -> list[str]:
        """Every API server's URL, the first master's first."""
        if not self.masters:
            return [self.server]
        return [f"https://{m.ip}:{self.api_port}" for m in self.masters]

    @property
    def external_etcd(self) -> bool:
        return bool(self.etcd_members)

    @property
    def etcd_endpoints(self) -> list[str]:
        """The external etcd cluster's client URLs (TLS with client certificates); [] if stacked."""
        return [f"https://{e.ip}:{MASTER_ETCD_CLIENT_PORT}" for e in self.etcd_members]

    def etcd_member(self, name: str) -> EtcdMemberSpec:
        for e in self.etcd_members:
            if e.name == name:
                return e
        raise host.ClusterError(f"cluster {self.name!r} has no etcd member {name!r}"
                                + (f" (members: {', '.join(e.name for e in self.etcd_members)})"
                                   if self.etcd_members else " (its etcd is not external)"))

    def master(self, name: str) -> MasterSpec:
        for m in self.masters:
            if m.name == name:
                return m
        raise host.ClusterError(f"cluster {self.name!r} has no master {name!r}"
                                + (f" (masters: {', '.join(m.name for m in self.masters)})" if self.masters
                                   else " (it has a single master on the host: no NAME)"))

    @property
    def prefixlen(self) -> int:
        return ipaddress.ip_network(self.subnet).prefixlen

    @property
    def server(self) -> str:
        """The API server clients try first (kubectl's `server`)."""
        ip = self.masters[0].ip if self.masters else self.master_ip
        return f"https://{ip}:{self.api_port}"

    @property
    def lb_server(self) -> str:
        """The load balancer's URL (kubectl's `server` with several masters), or ""."""
        return f"https://127.0.0.1:{self.lb_port}" if self.lb_port else ""

    @property
    def bridge(self) -> str:
        return bridge_name(self.name)

    @property
    def tag(self) -> str:
        return iptables_tag(self.name)

    @property
    def context(self) -> str:
        return context_name(self.name)

    @property
    def state(self) -> pathlib.Path:
        return pathlib.Path(self.state_dir)

    @property
    def etc_dir(self) -> pathlib.Path:
        """The master's /etc/minik8s."""
        return self.state / "etc"

    @property
    def run_dir(self) -> pathlib.Path:
        return self.state / "run"

    @property
    def log_dir(self) -> pathlib.Path:
        return self.state / "logs"

    @property
    def etcd_dir(self) -> pathlib.Path:
        return self.state / "etcd"

    @property
    def kubeconfig_path(self) -> str:
        return self.kubeconfig or str(self.state / "kubeconfig")

    @property
    def admin_kubeconfig(self) -> pathlib.Path:
        """The master's admin.conf (kubernetes-admin): what the cluster tools talk to the API with."""
        return self.etc_dir / "admin.conf"

    def node(self, name: str) -> NodeSpec:
        for n in self.nodes:
            if n.name == name:
                return n
        raise host.ClusterError(f"cluster {self.name!r} has no node {name!r} "
                                f"(nodes: {', '.join(n.name for n in self.nodes)})")

    def master_config(self) -> config.MasterConfig:
        return config.MasterConfig(
            advertise_address=self.master_ip, api_port=self.api_port, bind_address=self.master_ip,
            etcd_name=f"minik8s-{self.name}", etcd_data_dir=str(self.etcd_dir),
            etcd_client_port=self.etcd_client_port, etcd_peer_port=self.etcd_peer_port,
            cluster_cidr=self.cluster_cidr, config_dir=str(self.etc_dir),
            overrides=self.overrides)

    # --- persistence ---
    def save(self) -> None:
        self.state.mkdir(parents=True, exist_ok=True)
        path = self.state / SPEC_FILE
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(dataclasses.asdict(self), f, indent=2)
        os.replace(tmp, path)

    @classmethod
    def load(cls, state_dir: str) -> ClusterSpec | None:
        path = pathlib.Path(state_dir) / SPEC_FILE
        try:
            doc = json.loads(path.read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as e:
            raise host.ClusterError(f"{path} is unreadable ({e}); `minik8s cluster down` removes "
                                    "what it can find by name") from None
        doc["nodes"] = tuple(NodeSpec(**n) for n in doc.get("nodes", []))
        doc.pop("kubelet_token", None)  # written by versions before the kubelet took client certificates
        doc["masters"] = tuple(MasterSpec(**m) for m in doc.get("masters", []))
        doc["etcd_members"] = tuple(EtcdMemberSpec(**e) for e in doc.get("etcd_members", []))
        return cls(**doc)


@dataclasses.dataclass(frozen=True)
class NodePaths:
    """Where one node's files live: its "disk" (`dir`) and its "/run" (`exec_root`)."""

    dir: pathlib.Path

    @property
    def etc(self) -> pathlib.Path:
        return self.dir / "etc"

    @property
    def docker_root(self) -> pathlib.Path:
        return self.dir / "docker"

    @property
    def containerd_root(self) -> pathlib.Path:
        return self.dir / "containerd"

    @property
    def kubelet_root(self) -> pathlib.Path:
        return self.dir / "kubelet"

    @property
    def exec_root(self) -> pathlib.Path:
        # Volatile like a VM's /run: wiped when the node is powered off.
        return self.dir / "run"

    @property
    def docker_sock(self) -> pathlib.Path:
        return self.dir / "docker.sock"

    @property
    def containerd_sock(self) -> pathlib.Path:
        return self.dir / "containerd.sock"

    @property
    def containerd_config(self) -> pathlib.Path:
        return self.etc / "containerd.toml"

    def pidfile(self, process: str) -> pathlib.Path:
        return self.dir / f"{process}.pid"

    def log(self, process: str) -> pathlib.Path:
        return self.dir / "logs" / f"{process}.log"


def node_paths(spec: ClusterSpec, node: str) -> NodePaths:
    return NodePaths(spec.state / "nodes" / node)


@dataclasses.dataclass(frozen=True)
class MasterPaths:
    """One master's files (of several): its /etc/minik8s, pidfiles, logs, etcd data."""

    dir: pathlib.Path

    @property
    def etc(self) -> pathlib.Path:
        return self.dir / "etc"

    @property
    def run(self) -> pathlib.Path:
        return self.dir / "run"

    @property
    def logs(self) -> pathlib.Path:
        return self.dir / "logs"

    @property
    def etcd(self) -> pathlib.Path:
        return self.dir / "etcd"


def master_paths(spec: ClusterSpec, master: str) -> MasterPaths:
    return MasterPaths(spec.state / "masters" / master)


def etcd_member_paths(spec: ClusterSpec, member: str) -> MasterPaths:
    """An external etcd member's files: laid out as a master's (etc, run, logs, etcd data)."""
    return MasterPaths(spec.state / "etcd-members" / member)


def plan(name: str, state_dir: str, *, nodes: int, subnet: str, api_port: int, etcd_client_port: int,
         etcd_peer_port: int, cluster_cidr: str = config.DEFAULT_CLUSTER_CIDR,
         overrides: dict[str, dict[str, Any]] | None = None, kubeconfig: str = "", masters: int = 1,
         etcd: str = "stacked", etcd_members: int | None = None, lb_port: int = 0) -> ClusterSpec:
    """The spec of a new cluster: master and node addresses and pod CIDRs follow from the subnet."""
    validate_name(name)
    try:
        net = ipaddress.ip_network(subnet)
    except ValueError as e:
        raise host.Refused(f"--subnet {subnet!r}: {e}") from None
    if net.version != 4:
        raise host.Refused("--subnet must be an IPv4 network")
    if nodes < 1:
        raise host.Refused("a cluster needs at least one node")
    if net.num_addresses < FIRST_NODE_HOST + nodes + 2:
        raise host.Refused(f"subnet {subnet} is too small for {nodes} nodes")
    if not 1 <= masters <= MAX_MASTERS:
        raise host.Refused(f"--masters must be 1 to {MAX_MASTERS}")
    if etcd not in ETCD_TOPOLOGIES:
        raise host.Refused(f"--etcd must be one of {', '.join(ETCD_TOPOLOGIES)}")
    etcd_specs = []
    if etcd == "external":
        count = DEFAULT_ETCD_MEMBERS if etcd_members is None else etcd_members
        if not 1 <= count <= MAX_ETCD_MEMBERS:
            raise host.Refused(f"--etcd-members must be 1 to {MAX_ETCD_MEMBERS}")
        # From the top of the subnet down, clear of the nodes counted up from .(10 + 1).
        if net.num_addresses < FIRST_NODE_HOST + nodes + count + 2:
            raise host.Refused(f"subnet {subnet} is too small for {nodes} nodes and {count} etcd members")
        for i in range(1, count + 1):
            etcd_specs.append(EtcdMemberSpec(etcd_member_name(i), i, str(net.broadcast_address - i)))
            if len(etcd_veth_name(name, i)) > LINK_NAME_MAX:
                raise host.Refused(f"too many etcd members for cluster name {name!r} "
                                   "(link names exceed 15 characters)")
    elif etcd_members is not None:
        raise host.Refused("--etcd-members goes with --etcd external (stacked etcd has one member per master)")
    master_specs = []
    # A master on the host runs its own etcd; with an external etcd cluster even a single
    # master (kubeadm's one control-plane node over external etcd) is a namespace of its
    # own, as each of several masters is.
    if masters > 1 or etcd == "external":
        for i in range(1, masters + 1):
            master_specs.append(MasterSpec(master_name(i), i, str(net.network_address + FIRST_MASTER_HOST + i)))
            if len(master_veth_name(name, i)) > LINK_NAME_MAX:
                raise host.Refused(f"too many masters for cluster name {name!r} (link names exceed 15 characters)")
    pods = ipaddress.ip_network(cluster_cidr)
    if pods.prefixlen > 24 or 2 ** (24 - pods.prefixlen) <= nodes:
        raise host.Refused(f"cluster CIDR {cluster_cidr} has too few /24s for {nodes} nodes")
    node_specs = []
    for i in range(1, nodes + 1):
        ip = str(net.network_address + FIRST_NODE_HOST + i)
        pod_cidr = str(ipaddress.ip_network(f"{pods.network_address + i * 256}/24"))
        node_specs.append(NodeSpec(node_name(i), i, ip, pod_cidr))
        if len(veth_name(name, i)) > LINK_NAME_MAX:
            raise host.Refused(f"too many nodes for cluster name {name!r} (link names exceed 15 characters)")
    return ClusterSpec(name=name, state_dir=os.path.abspath(state_dir), subnet=str(net), api_port=api_port,
                       etcd_client_port=etcd_client_port, etcd_peer_port=etcd_peer_port,
                       nodes=tuple(node_specs), cluster_cidr=cluster_cidr,
                       overrides=overrides or {}, kubeconfig=kubeconfig, masters=tuple(master_specs), etcd=etcd,
                       etcd_members=tuple(etcd_specs), lb_port=lb_port if master_specs else 0)
