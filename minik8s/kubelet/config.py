"""The kubelet's settings, one frozen record filled by `minik8s kubelet`."""
from __future__ import annotations

import dataclasses
import socket


def default_node_name() -> str:
    return socket.gethostname().lower()


@dataclasses.dataclass(frozen=True)
class Config:
    server: str = "https://127.0.0.1:6443"
    kubeconfig: str = ""
    # The kubelet API's HTTPS (minik8s/kubelet/servertls.py): its serving certificate
    # ("" = a self-signed one, which API servers that check kubelets refuse) and the CA
    # client certificates must chain to ("" = the CA of the kubeconfig).
    tls_cert_file: str = ""
    tls_private_key_file: str = ""
    client_ca_file: str = ""
    node_name: str = dataclasses.field(default_factory=default_node_name)
    node_ip: str = ""  # "" = the address of the default route's interface
    address: str = "0.0.0.0"
    port: int = 10250
    docker_host: str = "unix:///var/run/docker.sock"
    # Registered as the Node's spec.podCIDR; "" = the control plane allocates one.
    # Pods get their addresses from the CNI configuration, which the network agent
    # writes from the node's podCIDR.
    pod_cidr: str = "10.244.0.0/24"
    # Pod networking through CNI: the first configuration (by file name) in the
    # conf dir, plugins from the bin dirs, libcni's result cache under the cache dir.
    cni_conf_dir: str = "/etc/cni/net.d"
    cni_bin_dir: str = "/usr/lib/cni:/usr/libexec/cni:/opt/cni/bin"
    cni_cache_dir: str = ""  # "" = <root_dir>/cni
    # Pods with dnsPolicy ClusterFirst resolve through this server (the kube-dns
    # Service). "" = no cluster DNS: pods get an unreachable resolver rather than
    # the node's, so nothing a pod looks up ever leaves the machine.
    cluster_dns: str = ""
    cluster_domain: str = "cluster.local"
    pod_infra_image: str = "minik8s/pause:3.9"
    root_dir: str = "/var/lib/minik8s/kubelet"
    node_labels: str = ""
    register_with_taints: str = ""
    master: bool = False
    max_pods: int = 110
    lease_interval: float = 10.0
    node_status_update_interval: float = 10.0
    node_status_report_interval: float = 60.0
    resync_interval: float = 60.0
    housekeeping_interval: float = 10.0
    backoff_base: float = 10.0
    backoff_max: float = 300.0
    # Resource statistics (minik8s/kubelet/stats.py): how often cgroups are read, and the
    # cgroup that stands for the whole node ("/": the machine; the local cluster gives
    # each node its own).
    stats_interval: float = 10.0
    node_cgroup: str = "/"
    cgroup_root: str = "/sys/fs/cgroup"
