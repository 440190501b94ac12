"""The Node authorizer: what a kubelet (`system:node:<name>` in `system:nodes`) may do.

As Kubernetes' plugin/pkg/auth/authorizer/node (with AuthorizeNodeWithSelectors,
on by default since 1.32):
- Secrets and ConfigMaps: read only single objects that a pod bound to the node
  references (get, or a list/watch pinned to one name); never a collection.
  PersistentVolumeClaims: get those objects; ServiceAccounts: create a token
  only for one its pods run as.
- Its Node: read only its own; create/update/patch are allowed here and
  NodeRestriction admission limits them to its own object.
- Pods: get those bound to it; list/watch only with `spec.nodeName=<itself>`;
  create/delete and status updates are allowed here and NodeRestriction limits
  them to pods bound to it.
- Leases: only its own, in kube-node-lease.
- Everything else: the static node rules (what the `system:node` ClusterRole
  lists), the same for every node.
Anything else gets no opinion, so RBAC may still allow it; the `system:node`
ClusterRole is deliberately bound to nobody (as in Kubernetes since 1.8),
because it would give every node every secret.
"""
from __future__ import annotations

import logging

from minik8s.apiserver.authz import authorizer
from minik8s.apiserver.authz import graph as graph_mod
from minik8s.apiserver.authz import rules as rules_mod
from minik8s.apiserver.authz import user as user_mod

log = logging.getLogger(__name__)

NODE_LEASE_NAMESPACE = "kube-node-lease"
_READ = ("get", "list", "watch")
_r = rules_mod.rule


def node_rules() -> tuple[rules_mod.PolicyRule, ...]:
    """NodeRules(): what every node may do regardless of which node it is."""
    return (
        # Non-mutating checks of API access.
        _r(["create"], ["authentication.k8s.io"], ["tokenreviews"]),
        _r(["create"], ["authorization.k8s.io"], ["subjectaccessreviews", "localsubjectaccessreviews"]),
        # Service environment variables need the Services.
        _r(_READ, [""], ["services"]),
        # Register and report: NodeRestriction keeps a node to its own object.
        _r(["create", "get", "list", "watch"], [""], ["nodes"]),
        _r(["update", "patch"], [""], ["nodes/status"]),
        _r(["update", "patch"], [""], ["nodes"]),
        _r(["create", "update", "patch"], [""], ["events"]),
        _r(_READ, [""], ["pods"]),
        # Mirror pods; NodeRestriction keeps creates and deletes to pods bound to the node.
        _r(["create", "delete"], [""], ["pods"]),
        _r(["update", "patch"], [""], ["pods/status"]),
        _r(["create"], [""], ["pods/eviction"]),
        # The Node authorizer narrows these to what the node's pods reference.
        _r(_READ, [""], ["secrets", "configmaps"]),
        _r(["get"], [""], ["persistentvolumeclaims", "persistentvolumes"]),
        _r(["get"], [""], ["endpoints"]),
        # Its own client certificate (bootstrap, rotation).
        _r(["create", "get", "list", "watch"], ["certificates.k8s.io"], ["certificatesigningrequests"]),
        _r(["get", "create", "update", "patch", "delete"], ["coordination.k8s.io"], ["leases"]),
        _r(["get"], ["storage.k8s.io"], ["volumeattachments"]),
        _r(["create"], [""], ["serviceaccounts/token"]),
        _r(["get", "update", "patch"], [""], ["persistentvolumeclaims/status"]),
        _r(["get"], ["storage.k8s.io"], ["csidrivers"]),
        _r(["get", "create", "update", "patch", "delete"], ["storage.k8s.io"], ["csinodes"]),
        _r(_READ, ["node.k8s.io"], ["runtimeclasses"]),
    )


_NO = authorizer.Decision.NO_OPINION
_YES = authorizer.Decision.ALLOW


class NodeAuthorizer:
    def __init__(self, graph: graph_mod.Graph, rules: tuple[rules_mod.PolicyRule, ...] | None = None) -> None:
        self.graph = graph
        self.rules = node_rules() if rules is None else rules

    def rules_for(self, user: user_mod.UserInfo, namespace: str) -> authorizer.Rules:
        if user_mod.node_name(user)[1]:
            # A node's permissions depend on each object: they cannot be listed.
            return authorizer.Rules(incomplete=True, error="node authorizer does not support user rule resolution")
        return authorizer.Rules()

    def authorize(self, attrs: authorizer.Attributes) -> tuple[authorizer.Decision, str]:
        node, is_node = user_mod.node_name(attrs.user)
        if not is_node:
            return _NO, ""
        if not node:
            return _NO, f'unknown node for user "{attrs.user.name}"'
        if attrs.resource_request:
            gr = (attrs.api_group, attrs.resource)
            if gr == ("", "secrets"):
                return self._read_namespaced_object(node, graph_mod.SECRET, attrs)
            if gr == ("", "configmaps"):
                return self._read_namespaced_object(node, graph_mod.CONFIGMAP, attrs)
            if gr == ("", "persistentvolumeclaims"):
                if attrs.subresource == "status":
                    return self._status_update(node, graph_mod.PVC, attrs)
                return self._get(node, graph_mod.PVC, attrs)
            if gr == ("", "persistentvolumes"):
                # minik8s has no PersistentVolumes, so no node reaches one.
                return _NO, f"no relationship found between node '{node}' and this object"
            if gr == ("", "serviceaccounts"):
                return self._create_token(node, attrs)
            if gr == ("coordination.k8s.io", "leases"):
                return self._lease(node, attrs)
            if gr == ("", "nodes"):
                return self._node(node, attrs)
            if gr == ("", "pods"):
                return self._pod(node, attrs)
        if rules_mod.rules_allow(attrs, self.rules):
            return _YES, ""
        return _NO, ""

    # -- per resource -----------------------------------------------------------------

    def _path(self, node: str, kind: str, attrs: authorizer.Attributes) -> tuple[authorizer.Decision, str]:
        if not attrs.name:
            return _NO, "No Object name found"
        if self.graph.has_path(node, kind, attrs.namespace, attrs.name):
            return _YES, ""
        return _NO, f"no relationship found between node '{node}' and this object"

    def _read_namespaced_object(self, node: str, kind: str,
                                attrs: authorizer.Attributes) -> tuple[authorizer.Decision, str]:
        if attrs.verb not in _READ:
            return _NO, "can only read resources of this type"
        if attrs.subresource:
            return _NO, "cannot read subresource"
        if not attrs.namespace:
            return _NO, "can only read namespaced object of this type"
        return self._path(node, kind, attrs)

    def _get(self, node: str, kind: str, attrs: authorizer.Attributes) -> tuple[authorizer.Decision, str]:
        if attrs.verb != "get":
            return _NO, "can only get individual resources of this type"
        if attrs.subresource:
            return _NO, "cannot get subresource"
        return self._path(node, kind, attrs)

    def _status_update(self, node: str, kind: str, attrs: authorizer.Attributes) -> tuple[authorizer.Decision, str]:
        if attrs.verb not in ("update", "patch"):
            return _NO, "can only get/update/patch this type"
        return self._path(node, kind, attrs)

    def _create_token(self, node: str, attrs: authorizer.Attributes) -> tuple[authorizer.Decision, str]:
        if attrs.verb != "create" or not attrs.name:
            return _NO, "can only create tokens for individual service accounts"
        if attrs.subresource != "token":
            return _NO, "can only create token subresource of serviceaccount"
        return self._path(node, graph_mod.SERVICE_ACCOUNT, attrs)

    def _lease(self, node: str, attrs: authorizer.Attributes) -> tuple[authorizer.Decision, str]:
        if attrs.verb not in ("get", "create", "update", "patch", "delete"):
            return _NO, "can only get, create, update, patch, or delete a node lease"
        if attrs.namespace != NODE_LEASE_NAMESPACE:
            return _NO, f'can only access leases in the "{NODE_LEASE_NAMESPACE}" system namespace'
        # A create names no object on the path: NodeRestriction checks the body's name.
        if attrs.verb != "create" and attrs.name != node:
            return _NO, "can only access node lease with the same name as the requesting node"
        return _YES, ""

    def _node(self, node: str, attrs: authorizer.Attributes) -> tuple[authorizer.Decision, str]:
        if not attrs.subresource:
            if attrs.verb in ("create", "update", "patch"):
                return _YES, ""  # NodeRestriction: only its own Node
            if attrs.verb in _READ:
                # By name, not through the graph: a kubelet reads its Node before creating it.
                if attrs.name == node:
                    return _YES, ""
                if not attrs.name:
                    return _NO, f"node '{node}' cannot read all nodes, only its own Node object"
                return _NO, f"node '{node}' cannot read '{attrs.name}', only its own Node object"
        elif attrs.subresource == "status" and attrs.verb in ("update", "patch"):
            return _YES, ""  # NodeRestriction: only its own Node
        return _NO, ""

    def _pod(self, node: str, attrs: authorizer.Attributes) -> tuple[authorizer.Decision, str]:
        if not attrs.subresource:
            if attrs.verb == "get":
                return self._get(node, graph_mod.POD, attrs)
            if attrs.verb in ("list", "watch"):
                if attrs.field_equals("spec.nodeName") == node:
                    return _YES, ""
                if attrs.name:
                    return self._path(node, graph_mod.POD, attrs)
                return _NO, "can only list/watch pods with spec.nodeName field selector"
            if attrs.verb in ("create", "delete"):
                return _YES, ""  # NodeRestriction: only pods bound to the node
        elif attrs.subresource == "status" and attrs.verb in ("update", "patch"):
            return _YES, ""  # NodeRestriction: only pods bound to the node
        elif attrs.subresource == "eviction" and attrs.verb == "create":
            return _YES, ""  # NodeRestriction: only pods bound to the node
        return _NO, ""
