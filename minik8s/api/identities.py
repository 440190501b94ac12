"""The well-known user and group names, as Kubernetes spells them.

One place for the names that the PKI writes into certificates (minik8s.cluster.pki),
the API server's authenticators hand out (minik8s.apiserver.authn), the CSR
approver checks (minik8s.controllers.certificates) and default authorization
bindings refer to. A typo here is a component locked out, so nobody spells them
twice.
"""
from __future__ import annotations

# Groups every request is in: one of these two, added by the authenticator.
AUTHENTICATED = "system:authenticated"
UNAUTHENTICATED = "system:unauthenticated"
ANONYMOUS = "system:anonymous"

# Unrestricted (kubeadm's admin.conf, the API server's own client certificate).
MASTERS = "system:masters"
ADMIN = "kubernetes-admin"

# Control-plane components, each with its own client certificate.
CONTROLLER_MANAGER = "system:kube-controller-manager"
SCHEDULER = "system:kube-scheduler"
PROXY = "system:kube-proxy"
# Kubernetes runs DNS and the pod network as pods with ServiceAccounts; minik8s runs
# them as host processes, so they get certificates under names in the same style.
DNS = "system:kube-dns"
NETWORK_AGENT = "system:network-agent"
# The API server when it calls kubelets (logs, exec); kubeadm's name and group.
APISERVER_KUBELET_CLIENT = "kube-apiserver-kubelet-client"

# Kubelets: one user per node, all in one group (the Node authorizer keys on both).
NODES = "system:nodes"
NODE_PREFIX = "system:node:"

# Bootstrap tokens (join): user system:bootstrap:<token id>, group system:bootstrappers.
BOOTSTRAPPERS = "system:bootstrappers"
BOOTSTRAP_PREFIX = "system:bootstrap:"

# ServiceAccount tokens: user system:serviceaccount:<ns>:<name>.
SERVICE_ACCOUNT_PREFIX = "system:serviceaccount:"
SERVICE_ACCOUNTS = "system:serviceaccounts"


def node_user(node_name: str) -> str:
    return NODE_PREFIX + node_name


def node_name_of(user: str) -> str | None:
    """The node a kubelet's user name stands for, or None if it is not a node's."""
    if user.startswith(NODE_PREFIX) and len(user) > len(NODE_PREFIX):
        return user[len(NODE_PREFIX):]
    return None


def service_account_user(namespace: str, name: str) -> str:
    return f"{SERVICE_ACCOUNT_PREFIX}{namespace}:{name}"


def service_account_groups(namespace: str) -> tuple[str, str]:
    return SERVICE_ACCOUNTS, f"{SERVICE_ACCOUNTS}:{namespace}"
