"""The one place that writes the components' config files, for VMs and the local cluster alike.

Every component reads its settings as `minik8s --config FILE <component>`, where FILE
is YAML mapping the command name to its options (see minik8s.cli.main). On a VM the
systemd units point at /etc/minik8s/<component>.yaml, written by `minik8s init`
(master) and `minik8s join` (node); `minik8s cluster up` writes the very same files
under its state directory and starts the very same commands. So a setting that works
in the local cluster works on the VMs, because both come out of the functions below.

etcd is the exception in format only: it reads its own YAML config file
(`etcd --config-file`), whose keys are its flag names. Its plain client URL is on
loopback only, on every path: the API server beside it is its one plain client. With
several masters (stacked etcd) each member also listens for its peers on the master's
address, over TLS with client certificates from the etcd peers' own CA (pki/etcd-ca.crt).
A master made by `minik8s init` is such a member from the start (a cluster of one that
can grow: peers cannot be moved off loopback later without `etcdctl member update`),
and also serves clients on its address over TLS, certificates from the etcd CA required:
that is how `minik8s join --control-plane` adds the next member (kubeadm's layout). An
external etcd cluster's members (`cluster up --etcd external`) serve their clients, the
API servers, on their own address over TLS only, to certificates from that CA
(pki/apiserver-etcd-client.crt); the masters' API servers list every member.

Credentials are files beside the configs, made by minik8s.cluster.pki (the master's
PKI under pki/, a kubeconfig per component); the configs only point at them.

Overrides (`--set controller-manager.node-monitor-grace-period=10`) are merged last,
so tests and operators can change any option without a new code path.
"""
from __future__ import annotations

import dataclasses
import os
import pathlib
import posixpath
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import yaml

DEFAULT_CONFIG_DIR = "/etc/minik8s"
DEFAULT_API_PORT = 6443
DEFAULT_CLUSTER_CIDR = "10.244.0.0/16"
DEFAULT_SERVICE_CIDR = "10.96.0.0/12"
DEFAULT_DNS_SERVICE_IP = "10.96.0.10"

# The command each file configures, in start order. The file is named after it.
MASTER_COMPONENTS = ("apiserver", "controller-manager", "scheduler", "dns")
NODE_COMPONENTS = ("kubelet", "network-agent", "proxy")

Overrides = Mapping[str, Mapping[str, Any]]

HEADER = ("# Written by minik8s (minik8s/cluster/config.py). Read by\n"
          "#   minik8s --config {path} {command}\n"
          "# Keys are the command's flags without the leading dashes.\n")


@dataclasses.dataclass(frozen=True)
class MasterConfig:
    """What the master's components need to know about the cluster."""

    advertise_address: str
    api_port: int = DEFAULT_API_PORT
    bind_address: str = "0.0.0.0"
    etcd_name: str = "minik8s"
    etcd_data_dir: str = "/var/lib/minik8s/etcd"
    etcd_client_port: int = 2379
    etcd_peer_port: int = 2380
    service_cluster_ip_range: str = DEFAULT_SERVICE_CIDR
    cluster_cidr: str = DEFAULT_CLUSTER_CIDR
    node_cidr_mask_size: int = 24
    dns_service_ip: str = DEFAULT_DNS_SERVICE_IP
    cluster_domain: str = "cluster.local"
    # Where these files (and pki/, the kubeconfigs) live on the master.
    config_dir: str = DEFAULT_CONFIG_DIR
    overrides: Overrides = dataclasses.field(default_factory=dict)
    # Several masters (stacked etcd): every member as (etcd name, master address); this
    # member is the one named `etcd_name`. Empty: a single member on loopback.
    etcd_members: tuple[tuple[str, str], ...] = ()
    etcd_cluster_token: str = "minik8s"
    # "new" for members started together (`cluster up --masters`, `init`); "existing" for a
    # member added to a running cluster (`join --control-plane`).
    etcd_initial_cluster_state: str = "new"
    # Also serve etcd clients on the master's address over TLS with client certificates
    # from the etcd CA (VMs' masters, so that a joining master can add its member).
    etcd_client_tls: bool = False
    # An external etcd cluster's client URLs (https): this master runs no etcd and its API
    # server uses these with pki/etcd-ca.crt and pki/apiserver-etcd-client.crt.
    external_etcd: tuple[str, ...] = ()

    @property
    def server(self) -> str:
        return f"https://{self.advertise_address}:{self.api_port}"

    def path(self, *parts: str) -> str:
        return posixpath.join(self.config_dir, *parts)

    @property
    def etcd_endpoint(self) -> str:
        # etcd only ever listens on loopback: the API server is its only client.
        return f"http://127.0.0.1:{self.etcd_client_port}"


@dataclasses.dataclass(frozen=True)
class EtcdMemberConfig:
    """One member of a multi-member etcd cluster: a stacked one (beside a master's API server,
    its one client, on loopback) or an external one (clients over TLS on its address)."""

    name: str
    address: str
    data_dir: str
    members: tuple[tuple[str, str], ...]  # (name, address) of every member, this one among them
    cluster_token: str
    config_dir: str
    client_port: int = 2379
    peer_port: int = 2380
    client_tls: bool = False
    loopback_client: bool = False  # stacked: also plain on loopback for the API server beside it
    initial_cluster_state: str = "new"  # "existing": a member added to a running cluster

    def path(self, *parts: str) -> str:
        return posixpath.join(self.config_dir, *parts)

    @property
    def client_url(self) -> str:
        if self.client_tls:
            return f"https://{self.address}:{self.client_port}"
        return f"http://127.0.0.1:{self.client_port}"


@dataclasses.dataclass(frozen=True)
class NodeConfig:
    """What a node's agents need: who they are and where the master is."""

    name: str
    ip: str
    server: str
    # "" = the kubelet waits for node.spec.podCIDR from the controller manager (nodeipam).
    pod_cidr: str = ""
    docker_host: str = "unix:///var/run/docker.sock"
    root_dir: str = "/var/lib/minik8s/kubelet"
    kubelet_port: int = 10250
    cluster_cidr: str = DEFAULT_CLUSTER_CIDR
    # Interface for node-to-node traffic ("" = the one holding the node IP).
    iface: str = ""
    network_backend: str = "vxlan"
    # The node's CNI configuration (written by the network agent, read by the kubelet)
    # and host-local's address reservations; per node on the local cluster.
    cni_conf_dir: str = "/etc/cni/net.d"
    cni_data_dir: str = "/var/lib/cni/networks"
    dns_service_ip: str = DEFAULT_DNS_SERVICE_IP
    cluster_domain: str = "cluster.local"
    # Where these files (and the node's kubeconfigs) live on the node.
    config_dir: str = DEFAULT_CONFIG_DIR
    overrides: Overrides = dataclasses.field(default_factory=dict)

    def path(self, *parts: str) -> str:
        return posixpath.join(self.config_dir, *parts)


def etcd_config(m: MasterConfig) -> dict[str, Any]:
    client = m.etcd_endpoint
    if m.etcd_members:
        return etcd_member_config(m)
    peer = f"http://127.0.0.1:{m.etcd_peer_port}"
    return {
        "name": m.etcd_name,
        "data-dir": m.etcd_data_dir,
        "listen-client-urls": client,
        "advertise-client-urls": client,
        "listen-peer-urls": peer,
        "initial-advertise-peer-urls": peer,
        "initial-cluster": f"{m.etcd_name}={peer}",
        "initial-cluster-state": "new",
    }


def etcd_member_config(m: MasterConfig) -> dict[str, Any]:
    """A stacked member: clients on loopback (its API server) and, with `etcd_client_tls`,
    on the master's address over TLS too; peers as etcd_member_file."""
    return etcd_member_file(EtcdMemberConfig(
        name=m.etcd_name, address=dict(m.etcd_members)[m.etcd_name], data_dir=m.etcd_data_dir,
        members=m.etcd_members, cluster_token=m.etcd_cluster_token, config_dir=m.config_dir,
        client_port=m.etcd_client_port, peer_port=m.etcd_peer_port, client_tls=m.etcd_client_tls,
        loopback_client=True, initial_cluster_state=m.etcd_initial_cluster_state))


def etcd_member_file(e: EtcdMemberConfig) -> dict[str, Any]:
    """A member of several: peers on its address over TLS, each side presenting a certificate
    for its address (pki/etcd-peer.crt) signed by the etcd CA, the only one a member trusts;
    with `client_tls` its clients likewise, on its address, with its serving certificate
    (pki/etcd-server.crt) and only client certificates from that CA; with `loopback_client`
    (stacked) also plain on loopback for the API server beside it (etcd applies
    client-transport-security to the https URL only)."""
    peer = f"https://{e.address}:{e.peer_port}"
    loopback = f"http://127.0.0.1:{e.client_port}"
    urls = [loopback] if e.loopback_client or not e.client_tls else []
    if e.client_tls:
        urls.append(e.client_url)
    doc: dict[str, Any] = {
        "name": e.name,
        "data-dir": e.data_dir,
        "listen-client-urls": ",".join(urls),
        "advertise-client-urls": e.client_url,
        "listen-peer-urls": peer,
        "initial-advertise-peer-urls": peer,
        "initial-cluster": ",".join(f"{name}=https://{ip}:{e.peer_port}" for name, ip in e.members),
        "initial-cluster-state": e.initial_cluster_state,
        "initial-cluster-token": e.cluster_token,
    }
    if e.client_tls:
        doc["client-transport-security"] = {
            "cert-file": e.path("pki", "etcd-server.crt"),
            "key-file": e.path("pki", "etcd-server.key"),
            "trusted-ca-file": e.path("pki", "etcd-ca.crt"),
            "client-cert-auth": True,
        }
    doc["peer-transport-security"] = {
        "cert-file": e.path("pki", "etcd-peer.crt"),
        "key-file": e.path("pki", "etcd-peer.key"),
        "trusted-ca-file": e.path("pki", "etcd-ca.crt"),
        "client-cert-auth": True,
    }
    return doc


def etcd_tls_endpoint(address: str, port: int = 2379) -> str:
    """A master's etcd client URL for other masters (TLS, etcd CA client certificates)."""
    return f"https://{address}:{port}"


def growable(m: MasterConfig) -> MasterConfig:
    """`minik8s init`'s master: a one-member stacked etcd on the master's address, its client
    port open over TLS, so that more masters can join it."""
    return dataclasses.replace(m, etcd_members=((m.etcd_name, m.advertise_address),), etcd_client_tls=True)


def master_options(m: MasterConfig) -> dict[str, dict[str, Any]]:
    """Options of each master command, overrides applied."""
    options: dict[str, dict[str, Any]] = {
        "apiserver": {
            "etcd-endpoints": m.etcd_endpoint,
            "bind-address": m.bind_address,
            "port": m.api_port,
            "advertise-address": m.advertise_address,
            "service-cluster-ip-range": m.service_cluster_ip_range,
            # The kubelets: HTTPS with this client certificate, their serving certificates
            # checked against the cluster CA (docs/security.md).
            "kubelet-client-certificate": m.path("pki", "apiserver-kubelet-client.crt"),
            "kubelet-client-key": m.path("pki", "apiserver-kubelet-client.key"),
            "kubelet-certificate-authority": m.path("pki", "ca.crt"),
            "tls-cert-file": m.path("pki", "apiserver.crt"),
            "tls-private-key-file": m.path("pki", "apiserver.key"),
            "client-ca-file": m.path("pki", "ca.crt"),
            "service-account-key-file": [m.path("pki", "sa.pub")],
            "service-account-signing-key-file": m.path("pki", "sa.key"),
            "service-account-issuer": f"https://kubernetes.default.svc.{m.cluster_domain}",
            # The metrics APIs scrape the nodes at metrics-server's resolution (docs/autoscaling.md).
            "metric-resolution": 15,
            **({"etcd-endpoints": ",".join(m.external_etcd),
                "etcd-cafile": m.path("pki", "etcd-ca.crt"),
                "etcd-certfile": m.path("pki", "apiserver-etcd-client.crt"),
                "etcd-keyfile": m.path("pki", "apiserver-etcd-client.key")} if m.external_etcd else {}),
        },
        "controller-manager": {
            "kubeconfig": m.path("controller-manager.conf"),
            "cluster-cidr": m.cluster_cidr,
            "node-cidr-mask-size": m.node_cidr_mask_size,
            # The CSR signer signs node certificates with the cluster CA (it never leaves the master).
            "cluster-signing-cert-file": m.path("pki", "ca.crt"),
            "cluster-signing-key-file": m.path("pki", "ca.key"),
            # Published to every namespace as kube-root-ca.crt (pods' ca.crt).
            "root-ca-file": m.path("pki", "ca.crt"),
        },
        "scheduler": {"kubeconfig": m.path("scheduler.conf")},
        # A cluster DNS server on each master's address; pods reach one through the
        # kube-dns Service, whose Endpoints list the servers alive.
        "dns": {
            "kubeconfig": m.path("dns.conf"),
            "bind-address": m.advertise_address,
            "port": 53,
            "service-ip": m.dns_service_ip,
            "cluster-domain": m.cluster_domain,
        },
    }
    return _apply(options, m.overrides)


def node_options(n: NodeConfig) -> dict[str, dict[str, Any]]:
    options: dict[str, dict[str, Any]] = {
        "kubelet": {
            "kubeconfig": n.path("kubelet.conf"),
            "tls-cert-file": n.path("pki", "kubelet.crt"),
            "tls-private-key-file": n.path("pki", "kubelet.key"),
            "client-ca-file": n.path("pki", "ca.crt"),
            "node-name": n.name,
            "node-ip": n.ip,
            "port": n.kubelet_port,
            "docker-host": n.docker_host,
            "pod-cidr": n.pod_cidr,
            "root-dir": n.root_dir,
            "cluster-dns": n.dns_service_ip,
            "cluster-domain": n.cluster_domain,
            "cni-conf-dir": n.cni_conf_dir,
        },
        "network-agent": {
            "kubeconfig": n.path("network-agent.conf"),
            "node-name": n.name,
            "node-ip": n.ip,
            "iface": n.iface,
            "backend": n.network_backend,
            "cluster-cidr": n.cluster_cidr,
            "cni-conf-dir": n.cni_conf_dir,
            "cni-data-dir": n.cni_data_dir,
        },
        "proxy": {"kubeconfig": n.path("proxy.conf"), "node-name": n.name, "node-ip": n.ip,
                  "cluster-cidr": n.cluster_cidr},
    }
    return _apply(options, n.overrides)


def master_files(m: MasterConfig) -> dict[str, dict[str, Any]]:
    """File name → document, for everything the master's units read."""
    files: dict[str, dict[str, Any]] = {}
    if not m.external_etcd:
        files["etcd.yaml"] = _apply_flat(etcd_config(m), m.overrides.get("etcd", {}))
    for command, opts in master_options(m).items():
        files[f"{command}.yaml"] = {command: opts}
    return files


def etcd_member_files(e: EtcdMemberConfig, overrides: Overrides | None = None) -> dict[str, dict[str, Any]]:
    """An external etcd member's one file (`--set etcd.OPTION=...` applies, as to stacked ones)."""
    return {"etcd.yaml": _apply_flat(etcd_member_file(e), (overrides or {}).get("etcd", {}))}


def node_files(n: NodeConfig) -> dict[str, dict[str, Any]]:
    return {f"{command}.yaml": {command: opts} for command, opts in node_options(n).items()}


def lb_files(servers: Sequence[str], *, port: int, bind_address: str = "127.0.0.1", kubeconfig: str = "",
             overrides: Overrides | None = None) -> dict[str, dict[str, Any]]:
    """The API servers' load balancer's file (`minik8s --config lb.yaml lb`): where it
    listens, the masters, and a kubeconfig whose CA its health checks trust and whose
    credentials read the `kubernetes` Endpoints to learn masters added later."""
    opts: dict[str, Any] = {"servers": ",".join(servers), "bind-address": bind_address, "port": port}
    if kubeconfig:
        opts["kubeconfig"] = kubeconfig
    return {"lb.yaml": {"lb": _apply_flat(opts, (overrides or {}).get("lb", {}))}}


def render(name: str, doc: Mapping[str, Any], directory: str = DEFAULT_CONFIG_DIR) -> str:
    """The text of config file `name` (as it will be read from `directory`)."""
    path = os.path.join(directory, name)
    if name == "etcd.yaml":
        header = f"# Written by minik8s (minik8s/cluster/config.py). Read by\n#   etcd --config-file {path}\n"
    else:
        header = HEADER.format(path=path, command=next(iter(doc)))
    return header + yaml.safe_dump(dict(doc), sort_keys=False, default_flow_style=False)


def write_files(directory: str | os.PathLike[str], files: Mapping[str, Mapping[str, Any]]) -> list[pathlib.Path]:
    """Write each file atomically, readable by root only (they hold tokens)."""
    d = pathlib.Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    written = []
    for name, doc in files.items():
        path = d / name
        tmp = path.with_name(f".{name}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(render(name, doc, str(d)))
        os.replace(tmp, path)
        written.append(path)
    return written


def read_options(path: str | os.PathLike[str], command: str) -> dict[str, Any]:
    """The options of `command` in a file written by write_files (dashes, as written)."""
    doc = yaml.safe_load(pathlib.Path(path).read_text()) or {}
    section = doc.get(command) or {}
    if not isinstance(section, dict):
        raise ValueError(f"{path}: section {command!r} is not a mapping")
    return {str(k).replace("_", "-"): v for k, v in section.items()}


# --- overrides --------------------------------------------------------------------------


def parse_set(values: Iterable[str]) -> dict[str, dict[str, Any]]:
    """`component.option=value` strings → {component: {option: value}}.

    The value is parsed as YAML, so `10` is a number, `false` a boolean and `''` an
    empty string, as they would be in the config file itself.
    """
    out: dict[str, dict[str, Any]] = {}
    for item in values:
        key, sep, raw = item.partition("=")
        component, dot, option = key.partition(".")
        if not sep or not dot or not component or not option:
            raise ValueError(f"{item!r} is not COMPONENT.OPTION=VALUE (e.g. kubelet.lease-interval=2)")
        try:
            value = yaml.safe_load(raw) if raw else ""
        except yaml.YAMLError:
            value = raw
        out.setdefault(component.strip(), {})[option.strip().lstrip("-")] = value
    return out


def merge(*layers: Overrides) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for layer in layers:
        for component, opts in layer.items():
            out.setdefault(component, {}).update(opts)
    return out


def _apply(options: dict[str, dict[str, Any]], overrides: Overrides) -> dict[str, dict[str, Any]]:
    for command, opts in options.items():
        options[command] = _apply_flat(opts, overrides.get(command, {}))
    return options


def _apply_flat(opts: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(opts)
    for key, value in extra.items():
        merged[str(key).replace("_", "-")] = value
    return merged
