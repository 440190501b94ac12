"""A PKI for a benchmark's own API server, as `minik8s up` makes one (minik8s.cluster.pki).

The benchmarks start etcd, an API server and components themselves; they run secured like
everything else: the server gets its serving certificate and client CA, each component its
own kubeconfig, the benchmark's client the admin's credentials.
"""
from __future__ import annotations

import json
import pathlib
import urllib.request
from collections.abc import Sequence
from typing import Any

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
                "--client-ca-file", str(p.ca_crt), "--service-account-key-file", str(p.sa_pub),
                "--service-account-signing-key-file", str(p.sa_key),
                "--kubelet-client-certificate", str(p.kubelet_client_crt),
                "--kubelet-client-key", str(p.kubelet_client_key)]

    def kubeconfig(self, component: str) -> str:
        """`admin`, `controller-manager`, `scheduler` or `dns`."""
        return str(self.paths.kubeconfig(f"{component}.conf"))

    def node_kubeconfig(self, node: str, agent: str = "kubelet") -> str:
        directory = self.dir / "nodes" / node
        pki.ensure_node(directory, self.ca, node_name=node, node_ip="127.0.0.1", server=self.server)
        return str(pki.paths(directory).kubeconfig(f"{agent}.conf"))

    def kubelet_args(self, node: str) -> list[str]:
        """The kubelet API's serving certificate (issued by node_kubeconfig) and client CA."""
        p = pki.paths(self.dir / "nodes" / node)
        return ["--tls-cert-file", str(p.kubelet_crt), "--tls-private-key-file", str(p.kubelet_key),
                "--client-ca-file", str(p.ca_crt)]

    def admin_tls(self) -> tls.TLSConfig:
        return kubeconfig.load(self.kubeconfig("admin")).tls()

    def client(self, **kw: object) -> rest.Client:
        return rest.Client(self.server, tls=self.admin_tls(), **kw)  # type: ignore[arg-type]

    def opener(self) -> urllib.request.OpenerDirector:
        return kubeconfig.urllib_opener(self.kubeconfig("admin"))

    def legacy_kubeconfig(self, path: pathlib.Path, name: str, hours: int = 12) -> tuple[str, str]:
        """A kubeconfig with only a server and a bearer token, for code older than the cluster's
        authentication (pod_startup's old kubelet): a ServiceAccount token of kube-system/`name`,
        bound to cluster-admin (an old kubelet is no node identity the Node authorizer knows).
        Returns the file and the CA it must trust (as SSL_CERT_FILE)."""
        def post(path: str, body: dict[str, Any]) -> Any:
            req = urllib.request.Request(self.server + path, data=json.dumps(body).encode(), method="POST",
                                         headers={"Content-Type": "application/json"})
            with self.opener().open(req, timeout=30) as resp:
                return json.loads(resp.read())
        # The ServiceAccount, then its token through TokenRequest (a token of no ServiceAccount is refused).
        post("/api/v1/namespaces/kube-system/serviceaccounts",
             {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name}})
        token = post(f"/api/v1/namespaces/kube-system/serviceaccounts/{name}/token",
                     {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
                      "spec": {"audiences": [], "expirationSeconds": hours * 3600}})["status"]["token"]
        binding = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                   "metadata": {"name": f"bench:{name}"},
                   "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
                   "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": "kube-system"}]}
        req = urllib.request.Request(self.server + "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
                                     data=json.dumps(binding).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
        with self.opener().open(req, timeout=30):
            pass
        kubeconfig.write_context(path, name, self.server, token=token)
        return str(path), str(self.paths.ca_crt)
