"""The Node authorizer and its graph: cases after Kubernetes' node_authorizer_test.go."""
from __future__ import annotations

from typing import Any

import pytest

from minik8s.apiserver.authz import authorizer
from minik8s.apiserver.authz import graph as graph_mod
from minik8s.apiserver.authz import node
from minik8s.apiserver.authz import user as user_mod

ALLOW, NO = authorizer.Decision.ALLOW, authorizer.Decision.NO_OPINION


def pod(name: str, node_name: str, ns: str = "ns0", uid: str = "", **spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"containers": [{"name": "c", "image": "i"}], **spec}
    if node_name:
        body["nodeName"] = node_name
    return {"metadata": {"name": name, "namespace": ns, "uid": uid or f"uid-{name}"}, "spec": body}


def node_user(name: str) -> user_mod.UserInfo:
    return user_mod.UserInfo(f"system:node:{name}", groups=("system:nodes", "system:authenticated"))


def a(user: user_mod.UserInfo, verb: str, resource: str, name: str = "", namespace: str = "", group: str = "",
      sub: str = "", fields: tuple[authorizer.FieldRequirement, ...] = ()) -> authorizer.Attributes:
    return authorizer.Attributes(user, verb, True, namespace=namespace, api_group=group, resource=resource,
                                 subresource=sub, name=name, field_selector=fields)


def populated() -> graph_mod.Graph:
    g = graph_mod.Graph()
    # node0's pod references everything one way or another; node1's pod only its own secret.
    g.set_pod(pod("pod0-0", "node0",
                  serviceAccountName="svcacct0-0",
                  imagePullSecrets=[{"name": "pull0"}],
                  containers=[{"name": "c", "image": "i",
                               "env": [{"name": "A", "valueFrom": {"secretKeyRef": {"name": "envsecret0", "key": "k"}}},
                                       {"name": "B", "valueFrom": {"configMapKeyRef": {"name": "envcm0", "key": "k"}}}],
                               "envFrom": [{"secretRef": {"name": "fromsecret0"}},
                                           {"configMapRef": {"name": "fromcm0"}}]}],
                  initContainers=[{"name": "i", "image": "i",
                                   "envFrom": [{"secretRef": {"name": "initsecret0"}}]}],
                  volumes=[{"name": "s", "secret": {"secretName": "secret0-0"}},
                           {"name": "c", "configMap": {"name": "configmap0-0"}},
                           {"name": "p", "persistentVolumeClaim": {"claimName": "pvc0-0"}},
                           {"name": "pr", "projected": {"sources": [{"secret": {"name": "projsecret0"}},
                                                                     {"configMap": {"name": "projcm0"}}]}},
                           {"name": "csi", "csi": {"driver": "d", "nodePublishSecretRef": {"name": "csisecret0"}}}]))
    g.set_pod(pod("pod1-0", "node1", volumes=[{"name": "s", "secret": {"secretName": "secret1-0"}}]))
    # Unscheduled: links nothing.
    g.set_pod(pod("pending", "", volumes=[{"name": "s", "secret": {"secretName": "secret-pending"}}]))
    return g


NODE0, NODE1 = node_user("node0"), node_user("node1")


@pytest.mark.parametrize("attrs,expect", [
    # Secrets and configmaps its pods reference, by every path of reference.
    (a(NODE0, "get", "secrets", "secret0-0", "ns0"), ALLOW),
    (a(NODE0, "get", "secrets", "pull0", "ns0"), ALLOW),
    (a(NODE0, "get", "secrets", "envsecret0", "ns0"), ALLOW),
    (a(NODE0, "get", "secrets", "fromsecret0", "ns0"), ALLOW),
    (a(NODE0, "get", "secrets", "initsecret0", "ns0"), ALLOW),
    (a(NODE0, "get", "secrets", "projsecret0", "ns0"), ALLOW),
    (a(NODE0, "get", "secrets", "csisecret0", "ns0"), ALLOW),
    (a(NODE0, "get", "configmaps", "configmap0-0", "ns0"), ALLOW),
    (a(NODE0, "get", "configmaps", "envcm0", "ns0"), ALLOW),
    (a(NODE0, "get", "configmaps", "fromcm0", "ns0"), ALLOW),
    (a(NODE0, "get", "configmaps", "projcm0", "ns0"), ALLOW),
    (a(NODE0, "get", "persistentvolumeclaims", "pvc0-0", "ns0"), ALLOW),
    # A watch or list pinned to one referenced object is a read of it.
    (a(NODE0, "list", "secrets", "secret0-0", "ns0"), ALLOW),
    (a(NODE0, "watch", "configmaps", "configmap0-0", "ns0"), ALLOW),
    # ... but not other nodes' objects, the same name elsewhere, or collections.
    (a(NODE0, "get", "secrets", "secret1-0", "ns0"), NO),
    (a(NODE1, "get", "secrets", "secret0-0", "ns0"), NO),
    (a(NODE0, "get", "secrets", "secret0-0", "other"), NO),
    (a(NODE0, "get", "secrets", "secret-pending", "ns0"), NO),
    (a(NODE0, "list", "secrets", "", "ns0"), NO),
    (a(NODE0, "watch", "secrets", "", ""), NO),
    (a(NODE0, "list", "configmaps", "", "ns0"), NO),
    (a(NODE0, "get", "secrets", "secret0-0", ""), NO),
    (a(NODE0, "update", "secrets", "secret0-0", "ns0"), NO),
    (a(NODE0, "delete", "configmaps", "configmap0-0", "ns0"), NO),
    (a(NODE0, "get", "secrets", "secret0-0", "ns0", sub="x"), NO),
    (a(NODE0, "list", "persistentvolumeclaims", "pvc0-0", "ns0"), NO),
    (a(NODE0, "get", "persistentvolumes", "pv0"), NO),
    # Service account tokens only for accounts its pods run as.
    (a(NODE0, "create", "serviceaccounts", "svcacct0-0", "ns0", sub="token"), ALLOW),
    (a(NODE1, "create", "serviceaccounts", "svcacct0-0", "ns0", sub="token"), NO),
    (a(NODE0, "get", "serviceaccounts", "svcacct0-0", "ns0"), NO),
    (a(NODE0, "create", "serviceaccounts", "svcacct0-0", "ns0"), NO),
    # Its own Node only; creates and updates are NodeRestriction's to narrow.
    (a(NODE0, "get", "nodes", "node0"), ALLOW),
    (a(NODE0, "watch", "nodes", "node0"), ALLOW),
    (a(NODE0, "get", "nodes", "node1"), NO),
    (a(NODE0, "list", "nodes"), NO),
    (a(NODE0, "create", "nodes"), ALLOW),
    (a(NODE0, "patch", "nodes", "node0"), ALLOW),
    (a(NODE0, "update", "nodes", "node0", sub="status"), ALLOW),
    (a(NODE0, "delete", "nodes", "node0"), NO),
    (a(NODE0, "get", "nodes", "node0", sub="status"), NO),
    # Pods: bound ones, and lists of its own.
    (a(NODE0, "get", "pods", "pod0-0", "ns0"), ALLOW),
    (a(NODE0, "get", "pods", "pod1-0", "ns0"), NO),
    (a(NODE0, "get", "pods", "pending", "ns0"), NO),
    (a(NODE0, "list", "pods", fields=(authorizer.FieldRequirement("spec.nodeName", "=", "node0"),)), ALLOW),
    (a(NODE0, "watch", "pods", fields=(authorizer.FieldRequirement("spec.nodeName", "=", "node0"),)), ALLOW),
    (a(NODE0, "list", "pods", fields=(authorizer.FieldRequirement("spec.nodeName", "=", "node1"),)), NO),
    (a(NODE0, "list", "pods", fields=(authorizer.FieldRequirement("spec.nodeName", "!=", "node1"),)), NO),
    (a(NODE0, "list", "pods"), NO),
    (a(NODE0, "list", "pods", "pod0-0", "ns0"), ALLOW),
    (a(NODE0, "update", "pods", "pod0-0", "ns0", sub="status"), ALLOW),
    (a(NODE0, "delete", "pods", "pod0-0", "ns0"), ALLOW),
    (a(NODE0, "create", "pods", "", "ns0", sub="eviction"), ALLOW),
    (a(NODE0, "update", "pods", "pod0-0", "ns0"), NO),
    (a(NODE0, "create", "pods", "pod0-0", "ns0", sub="binding"), NO),
    (a(NODE0, "get", "pods", "pod0-0", "ns0", sub="log"), NO),
    # Its own lease, in kube-node-lease only.
    (a(NODE0, "update", "leases", "node0", "kube-node-lease", "coordination.k8s.io"), ALLOW),
    (a(NODE0, "get", "leases", "node0", "kube-node-lease", "coordination.k8s.io"), ALLOW),
    (a(NODE0, "create", "leases", "", "kube-node-lease", "coordination.k8s.io"), ALLOW),
    (a(NODE0, "update", "leases", "node1", "kube-node-lease", "coordination.k8s.io"), NO),
    (a(NODE0, "update", "leases", "node0", "kube-system", "coordination.k8s.io"), NO),
    (a(NODE0, "list", "leases", "", "kube-node-lease", "coordination.k8s.io"), NO),
    # Static node rules for the rest.
    (a(NODE0, "create", "events", "", "ns0"), ALLOW),
    (a(NODE0, "patch", "events", "e", "ns0"), ALLOW),
    (a(NODE0, "list", "services"), ALLOW),
    (a(NODE0, "get", "endpoints", "kubernetes", "default"), ALLOW),
    (a(NODE0, "create", "certificatesigningrequests", group="certificates.k8s.io"), ALLOW),
    (a(NODE0, "create", "deployments", "", "ns0", "apps"), NO),
    (a(NODE0, "list", "namespaces"), NO),
    (a(NODE0, "create", "clusterrolebindings", group="rbac.authorization.k8s.io"), NO),
])
def test_node_authorizer(attrs: authorizer.Attributes, expect: authorizer.Decision) -> None:
    assert node.NodeAuthorizer(populated()).authorize(attrs)[0] is expect


def test_not_a_node_is_no_opinion() -> None:
    az = node.NodeAuthorizer(populated())
    # The name without the group is not a node, and neither is the group without the name.
    assert az.authorize(a(user_mod.UserInfo("system:node:node0"), "get", "secrets", "secret0-0", "ns0"))[0] is NO
    assert az.authorize(a(user_mod.UserInfo("bob", groups=("system:nodes",)), "get", "nodes", "node0"))[0] is NO
    decision, reason = az.authorize(a(node_user(""), "get", "nodes", ""))
    assert decision is NO and reason == 'unknown node for user "system:node:"'


def test_denial_reasons() -> None:
    az = node.NodeAuthorizer(populated())
    assert az.authorize(a(NODE0, "get", "secrets", "secret1-0", "ns0"))[1] == \
        "no relationship found between node 'node0' and this object"
    assert az.authorize(a(NODE0, "list", "pods"))[1] == "can only list/watch pods with spec.nodeName field selector"
    assert az.authorize(a(NODE0, "list", "nodes"))[1] == "node 'node0' cannot read all nodes, only its own Node object"


def test_graph_follows_pod_lifecycle() -> None:
    g = graph_mod.Graph()
    az = node.NodeAuthorizer(g)
    read = a(NODE0, "get", "secrets", "s", "ns0")
    unbound = pod("p", "", volumes=[{"name": "v", "secret": {"secretName": "s"}}])
    g.set_pod(unbound)
    assert az.authorize(read)[0] is NO
    bound = pod("p", "node0", volumes=[{"name": "v", "secret": {"secretName": "s"}}])
    g.set_pod(bound)  # the scheduler bound it
    assert az.authorize(read)[0] is ALLOW
    # Two pods on the node share the secret: deleting one keeps the edge.
    g.set_pod(pod("q", "node0", volumes=[{"name": "v", "secret": {"secretName": "s"}}]))
    g.delete_pod("ns0", "p")
    assert az.authorize(read)[0] is ALLOW
    g.delete_pod("ns0", "q")
    assert az.authorize(read)[0] is NO
    assert g.index == {} and g.pods == {}


def test_recreated_pod_with_same_name_relinks() -> None:
    g = graph_mod.Graph()
    g.set_pod(pod("p", "node0", uid="1", volumes=[{"name": "v", "secret": {"secretName": "old"}}]))
    g.set_pod(pod("p", "node1", uid="2", volumes=[{"name": "v", "secret": {"secretName": "new"}}]))
    assert not g.has_path("node0", graph_mod.SECRET, "ns0", "old")
    assert g.has_path("node1", graph_mod.SECRET, "ns0", "new")
    assert g.has_path("node1", graph_mod.POD, "ns0", "p") and not g.has_path("node0", graph_mod.POD, "ns0", "p")


def test_status_updates_do_not_relink() -> None:
    g = graph_mod.Graph()
    p = pod("p", "node0", volumes=[{"name": "v", "secret": {"secretName": "s"}}])
    g.set_pod(p)
    before = dict(g.index)
    g.set_pod({**p, "status": {"phase": "Running"}})
    assert g.index == before


def test_malformed_pods_link_nothing() -> None:
    g = graph_mod.Graph()
    g.set_pod({"metadata": {"name": "x", "namespace": "n"}, "spec": "nope"})
    g.set_pod({"metadata": {"name": "y", "namespace": "n"},
               "spec": {"nodeName": "node0", "volumes": ["bad", {"secret": "bad"}], "containers": [{"env": "x"}]}})
    assert g.has_path("node0", graph_mod.POD, "n", "y")
    assert not any(k[0] == graph_mod.SECRET for k in g.index)


def test_rules_for_nodes_is_incomplete() -> None:
    az = node.NodeAuthorizer(graph_mod.Graph())
    rules = az.rules_for(NODE0, "ns0")
    assert rules.incomplete and "does not support" in rules.error
    assert az.rules_for(user_mod.UserInfo("bob"), "ns0") == authorizer.Rules()
