"""Who is asking: the authenticated user as the authenticator hands it over.

The record is Kubernetes' user.Info (name, uid, groups, extra). Authentication
(another module) builds it; everything here only reads it. The well-known names
are Kubernetes' own, so RBAC objects written for Kubernetes mean the same here.
"""
from __future__ import annotations

import dataclasses
from typing import Mapping, Sequence

# Groups every request belongs to, depending on whether it authenticated.
ALL_AUTHENTICATED = "system:authenticated"
ALL_UNAUTHENTICATED = "system:unauthenticated"
# Members may do anything (the API server's own loopback identity is one).
SYSTEM_PRIVILEGED_GROUP = "system:masters"
ANONYMOUS = "system:anonymous"
NODES_GROUP = "system:nodes"
NODE_USER_PREFIX = "system:node:"
SERVICE_ACCOUNT_PREFIX = "system:serviceaccount:"
SERVICE_ACCOUNTS_GROUP = "system:serviceaccounts"
# Component identities (certificate CNs) the bootstrap policy binds roles to.
KUBE_CONTROLLER_MANAGER = "system:kube-controller-manager"
KUBE_SCHEDULER = "system:kube-scheduler"
KUBE_PROXY = "system:kube-proxy"
KUBE_DNS = "system:kube-dns"
NETWORK_AGENT = "system:network-agent"
# Bootstrap tokens authenticate as members of this group (and of system:bootstrappers:<extra>).
BOOTSTRAPPERS_GROUP = "system:bootstrappers"
APISERVER_KUBELET_CLIENT = "kube-apiserver-kubelet-client"


@dataclasses.dataclass(frozen=True)
class UserInfo:
    name: str
    uid: str = ""
    groups: tuple[str, ...] = ()
    # Kubernetes' map[string][]string; a dict is not hashable, so the hash leaves it out.
    extra: Mapping[str, Sequence[str]] = dataclasses.field(default_factory=dict)

    def __hash__(self) -> int:
        return hash((self.name, self.uid, self.groups))


def anonymous() -> UserInfo:
    return UserInfo(ANONYMOUS, groups=(ALL_UNAUTHENTICATED,))


def service_account_username(namespace: str, name: str) -> str:
    return f"{SERVICE_ACCOUNT_PREFIX}{namespace}:{name}"


def service_account_groups(namespace: str) -> tuple[str, ...]:
    return (SERVICE_ACCOUNTS_GROUP, f"{SERVICE_ACCOUNTS_GROUP}:{namespace}")


def split_service_account(username: str) -> tuple[str, str] | None:
    """(namespace, name) of a `system:serviceaccount:<ns>:<name>` user, else None."""
    if not username.startswith(SERVICE_ACCOUNT_PREFIX):
        return None
    parts = username[len(SERVICE_ACCOUNT_PREFIX):].split(":")
    if len(parts) != 2 or not parts[0] or not parts[1]:
        return None
    return parts[0], parts[1]


def node_name(user: UserInfo) -> tuple[str, bool]:
    """(node name, is a node): a node is `system:node:<name>` in group system:nodes.

    As Kubernetes' NodeIdentifier: the name prefix without the group is not a
    node, and a node with an empty name is a node whose requests fail.
    """
    if not user.name.startswith(NODE_USER_PREFIX) or NODES_GROUP not in user.groups:
        return "", False
    return user.name[len(NODE_USER_PREFIX):], True
