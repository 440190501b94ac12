"""A PKI for a benchmark's own API server, as `minik8s up` makes one (minik8s.cluster.pki).

The benchmarks start etcd, an API server and components themselves; they run secured like
everything else: the server gets its serving certificate and client CA, each component its
own kubeconfig, the benchmark's client the admin's credentials.
"""
from __future__ import annotations

import pathlib
import urllib.request
from collections.abc import Sequence

from minik8s.client import kubeconfig
from minik8s.client import rest
from minik8s.client import tls
from minik8s.cluster import pki


class BenchPKI:
    def __init__(self, directory: pathlib.Path, server: str, addresses: Sequence[str] = ("127.0.0.1",)) -> None:
        self.dir = directory
        self.server = server
        self.ca, _ = pki.ensure_master(directory, server=server, addresses=list(addresses),
                                       service_cidr="10.96.0.0/12")
        self.paths = pki.paths(directory)

    def apiserver_args(self) -> list[str]:
        p = self.paths
        return ["--tls-cert-file", str(p.apiserver_crt), "--tls-private-key-file", str(p.apiserver_key),
                "--client-ca-file", str(p.ca_crt), "--service-account-key-file", str(p.sa_pub)]

    def kubeconfig(self, component: str) -> str:
        """`admin`, `controller-manager`, `scheduler` or `dns`."""
        return str(self.paths.kubeconfig(f"{component}.conf"))

    def node_kubeconfig(self, node: str, agent: str = "kubelet") -> str:
        directory = self.dir / "nodes" / node
        pki.ensure_node(directory, self.ca, node_name=node, server=self.server)
        return str(pki.paths(directory).kubeconfig(f"{agent}.conf"))

    def admin_tls(self) -> tls.TLSConfig:
        return kubeconfig.load(self.kubeconfig("admin")).tls()

    def client(self, **kw: object) -> rest.Client:
        return rest.Client(self.server, tls=self.admin_tls(), **kw)  # type: ignore[arg-type]

    def opener(self) -> urllib.request.OpenerDirector:
        return kubeconfig.urllib_opener(self.kubeconfig("admin"))
