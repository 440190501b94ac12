"""The default roles and bindings, reconciled at every API server start.

As Kubernetes' plugin/pkg/auth/authorizer/rbac/bootstrappolicy: the user-facing
roles (cluster-admin, admin, edit, view), the roles every client needs
(system:basic-user, system:discovery, system:public-info-viewer), and one role
per minik8s component holding exactly what that component calls, read off its
code (controllers, scheduler, proxy, DNS, network agent). Kubelets get theirs
from the Node authorizer; `system:node` exists, as in Kubernetes, but is bound
to nobody.

Reconciling (Kubernetes' `reconcile` of the bootstrap policy): a missing object
is created; an existing one whose `rbac.authorization.kubernetes.io/autoupdate`
annotation is not "false" gets back any default rule or subject it lacks (what
an administrator added is kept); a binding whose roleRef differs is replaced,
since roleRef cannot be updated.
"""
from __future__ import annotations

import copy
import dataclasses
import logging
from typing import Any

from minik8s.api import errors
from minik8s.api import resources
from minik8s.apiserver.authz import node as node_mod
from minik8s.apiserver.authz import rbac
from minik8s.apiserver.authz import rules as rules_mod
from minik8s.apiserver.authz import user as u

log = logging.getLogger(__name__)

Obj = dict[str, Any]

AUTOUPDATE = "rbac.authorization.kubernetes.io/autoupdate"
BOOTSTRAP_LABELS = {"kubernetes.io/bootstrapping": "rbac-defaults"}

READ = ("get", "list", "watch")
WRITE = ("create", "delete", "deletecollection", "patch", "update")
READ_WRITE = READ + WRITE
_r = rules_mod.rule

CORE, APPS, AUTOSCALING, BATCH, EXTENSIONS, POLICY = "", "apps", "autoscaling", "batch", "extensions", "policy"
NETWORKING, DISCOVERY, COORDINATION = "networking.k8s.io", "discovery.k8s.io", "coordination.k8s.io"
AUTHENTICATION, AUTHORIZATION, CERTIFICATES = "authentication.k8s.io", "authorization.k8s.io", "certificates.k8s.io"


@dataclasses.dataclass(frozen=True)
class Role:
    name: str
    rules: tuple[rules_mod.PolicyRule, ...]
    namespace: str = ""  # "" for a ClusterRole


@dataclasses.dataclass(frozen=True)
class Binding:
    name: str
    role: str
    subjects: tuple[rbac.Subject, ...]
    namespace: str = ""  # "" for a ClusterRoleBinding
    role_kind: str = "ClusterRole"


def _users(*names: str) -> tuple[rbac.Subject, ...]:
    return tuple(rbac.Subject(rbac.USER_KIND, n, api_group=rbac.GROUP) for n in names)


def _groups(*names: str) -> tuple[rbac.Subject, ...]:
    return tuple(rbac.Subject(rbac.GROUP_KIND, n, api_group=rbac.GROUP) for n in names)


def _events() -> rules_mod.PolicyRule:
    return _r(["create", "update", "patch"], [CORE], ["events"])


# -- user-facing roles (the aggregated admin/edit/view of Kubernetes, flattened) ------------

_VIEW = (
    _r(READ, [CORE], ["pods", "replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts",
                      "services", "services/status", "endpoints", "persistentvolumeclaims",
                      "persistentvolumeclaims/status", "configmaps"]),
    _r(READ, [CORE], ["limitranges", "resourcequotas", "bindings", "events", "pods/status", "resourcequotas/status",
                      "namespaces/status", "replicationcontrollers/status", "pods/log"]),
    # Reading namespaces at namespace scope means reading *this* namespace.
    _r(READ, [CORE], ["namespaces"]),
    _r(READ, [DISCOVERY], ["endpointslices"]),
    _r(READ, [APPS], ["controllerrevisions", "statefulsets", "statefulsets/status", "statefulsets/scale",
                      "daemonsets", "daemonsets/status", "deployments", "deployments/status", "deployments/scale",
                      "replicasets", "replicasets/status", "replicasets/scale"]),
    _r(READ, [AUTOSCALING], ["horizontalpodautoscalers", "horizontalpodautoscalers/status"]),
    _r(READ, [BATCH], ["jobs", "cronjobs", "cronjobs/status", "jobs/status"]),
    _r(READ, [EXTENSIONS], ["daemonsets", "daemonsets/status", "deployments", "deployments/scale",
                            "deployments/status", "ingresses", "ingresses/status", "replicasets", "replicasets/scale",
                            "replicasets/status", "replicationcontrollers/scale", "networkpolicies"]),
    _r(READ, [POLICY], ["poddisruptionbudgets", "poddisruptionbudgets/status"]),
    _r(READ, [NETWORKING], ["networkpolicies", "ingresses", "ingresses/status"]),
)

_EDIT_EXTRA = (
    # Reading these is as good as using them (exec, secrets).
    _r(READ, [CORE], ["pods/attach", "pods/proxy", "pods/exec", "pods/portforward", "secrets", "services/proxy"]),
    _r(["impersonate"], [CORE], ["serviceaccounts"]),
    _r(WRITE, [CORE], ["pods", "pods/attach", "pods/proxy", "pods/exec", "pods/portforward"]),
    _r(["create"], [CORE], ["pods/eviction"]),
    _r(WRITE, [CORE], ["replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts", "services",
                       "services/proxy", "persistentvolumeclaims", "configmaps", "secrets", "events"]),
    _r(["create"], [CORE], ["serviceaccounts/token"]),
    _r(WRITE, [APPS], ["statefulsets", "statefulsets/scale", "daemonsets", "deployments", "deployments/scale",
                       "deployments/rollback", "replicasets", "replicasets/scale"]),
    _r(WRITE, [AUTOSCALING], ["horizontalpodautoscalers"]),
    _r(WRITE, [BATCH], ["jobs", "cronjobs"]),
    _r(WRITE, [EXTENSIONS], ["daemonsets", "deployments", "deployments/scale", "deployments/rollback", "ingresses",
                             "replicasets", "replicasets/scale", "replicationcontrollers/scale", "networkpolicies"]),
    _r(WRITE, [POLICY], ["poddisruptionbudgets"]),
    _r(WRITE, [NETWORKING], ["networkpolicies", "ingresses"]),
)

_ADMIN_EXTRA = (
    _r(["create"], [AUTHORIZATION], ["localsubjectaccessreviews"]),
    _r(READ_WRITE, [rbac.GROUP], ["roles", "rolebindings"]),
)

# -- the roles of minik8s's components, from what each one calls ---------------------------

CONTROLLER_MANAGER_RULES = (
    _events(),
    # The namespace controller lists and deletes every namespaced object of a
    # terminating namespace; the garbage collector reads owners of any kind.
    _r(["get", "list", "watch", "delete"], ["*"], ["*"]),
    # replicaset/replicationcontroller (pods), endpoints, nodelifecycle (taints,
    # conditions, evictions), nodeipam (podCIDR), deployment, namespace (finalize).
    _r(["create", "patch"], [CORE], ["pods"]),
    _r(["patch", "update"], [CORE], ["pods/status"]),
    _r(["patch", "update"], [CORE], ["nodes", "nodes/status"]),
    _r(["update"], [CORE], ["namespaces/finalize"]),
    _r(["create", "update"], [CORE], ["endpoints"]),
    _r(["patch", "update"], [CORE], ["replicationcontrollers"]),
    _r(["update"], [CORE], ["replicationcontrollers/status"]),
    _r(["create", "patch", "update"], [APPS], ["replicasets"]),
    _r(["update"], [APPS], ["replicasets/status", "deployments/status"]),
    _r(["patch", "update"], [APPS], ["deployments"]),
    # job, cronjob, ttl-after-finished, daemonset (and its ControllerRevisions).
    _r(["create", "patch", "update"], [BATCH], ["jobs"]),
    _r(["update"], [BATCH], ["jobs/status", "cronjobs/status", "jobs/finalizers", "cronjobs/finalizers"]),
    _r(["update"], [APPS], ["daemonsets/status", "daemonsets/finalizers"]),
    _r(["create", "patch", "update"], [APPS], ["controllerrevisions"]),
    # The garbage collector removes finalizers (foreground, orphan) and owner references.
    _r(["patch", "update"], [BATCH], ["cronjobs"]),
    _r(["patch", "update"], [APPS], ["daemonsets"]),
    # A `default` ServiceAccount in every namespace (the ServiceAccount controller).
    _r(["create"], [CORE], ["serviceaccounts"]),
    # The cluster CA as `kube-root-ca.crt` in every namespace (root-ca-cert-publisher).
    _r(["create", "update"], [CORE], ["configmaps"]),
    # The HPA controller: the target's scale and the autoscaler's status (metrics are read).
    _r(["update", "patch"], ["*"], ["*/scale"]),
    _r(["update"], [AUTOSCALING], ["horizontalpodautoscalers/status"]),
    # csrapproving / csrsigning (controllers/certificates.py): the verdict, then the certificate.
    _r(["update"], [CERTIFICATES], ["certificatesigningrequests/approval", "certificatesigningrequests/status"]),
    _r(["approve", "sign"], [CERTIFICATES], ["signers"],
       names=["kubernetes.io/kube-apiserver-client-kubelet", "kubernetes.io/kube-apiserver-client"]),
)

# The clients that fail over between masters learn the live ones from the `kubernetes`
# Endpoints (rest.Client.learn_servers): the node agents, and the masters' schedulers and
# controller managers (whose role reads everything already), so that a master added after
# one of them started is failed over to as well.
LEARN_MASTERS = _r(["get"], [CORE], ["endpoints"], names=["kubernetes"])

SCHEDULER_RULES = (
    _events(),
    LEARN_MASTERS,
    _r(READ, [CORE], ["nodes", "pods"]),
    _r(["create"], [CORE], ["pods/binding", "bindings"]),
    # The PodScheduled=False condition of a pod that does not fit.
    _r(["patch", "update"], [CORE], ["pods/status"]),
)

PROXY_RULES = (
    _r(["list", "watch"], [CORE], ["services", "endpoints"]),
    LEARN_MASTERS,
)

DNS_RULES = (
    _r(["list", "watch"], [CORE], ["services", "endpoints"]),
)

# The DNS server keeps its own Service and Endpoints (kube-system/kube-dns).
# Each DNS server renews a Lease kube-dns-<its address> and reads the others' to know
# which servers are alive (minik8s/dns/kubedns.py).
DNS_SYSTEM_RULES = (
    _r(["create"], [CORE], ["services", "endpoints"]),
    _r(["get", "patch", "update"], [CORE], ["services", "endpoints"], names=["kube-dns"]),
    _r(["get", "list", "watch", "create", "update", "delete"], [COORDINATION], ["leases"]),
)

NETWORK_AGENT_RULES = (
    # Every node's subnet and VTEP address, and its own annotations (flannel's model).
    _r(READ, [CORE], ["nodes"]),
    _r(["patch"], [CORE], ["nodes"]),
    LEARN_MASTERS,
)


def _leader_lock(name: str) -> tuple[rules_mod.PolicyRule, ...]:
    """system::leader-locking-*: the component's own Lease in kube-system."""
    return (
        _r(["create"], [COORDINATION], ["leases"]),
        _r(["get", "update"], [COORDINATION], ["leases"], names=[name]),
    )


def cluster_roles() -> list[Role]:
    view = _VIEW
    edit = view + _EDIT_EXTRA
    admin = edit + _ADMIN_EXTRA
    return [
        Role("cluster-admin", (_r(["*"], ["*"], ["*"]), _r(["*"], urls=["*"]))),
        Role("admin", admin),
        Role("edit", edit),
        Role("view", view),
        Role("system:discovery", (_r(["get"], urls=[
            "/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi", "/openapi/*", "/readyz",
            "/version", "/version/"]),)),
        Role("system:basic-user", (
            _r(["create"], [AUTHORIZATION], ["selfsubjectaccessreviews", "selfsubjectrulesreviews"]),
            _r(["create"], [AUTHENTICATION], ["selfsubjectreviews"]),
        )),
        Role("system:public-info-viewer", (_r(["get"], urls=["/healthz", "/livez", "/readyz", "/version",
                                                              "/version/"]),)),
        Role("system:node", node_mod.node_rules()),
        Role("system:node-bootstrapper", (
            _r(["create", "get", "list", "watch"], [CERTIFICATES], ["certificatesigningrequests"]),)),
        # Checked (as SubjectAccessReviews) by the CSR approver: who may have a
        # node client certificate approved automatically.
        Role("system:certificates.k8s.io:certificatesigningrequests:nodeclient", (
            _r(["create"], [CERTIFICATES], ["certificatesigningrequests/nodeclient"]),)),
        Role("system:certificates.k8s.io:certificatesigningrequests:selfnodeclient", (
            _r(["create"], [CERTIFICATES], ["certificatesigningrequests/selfnodeclient"]),)),
        Role("system:kubelet-api-admin", (
            _r(["get", "list", "watch", "proxy"], [CORE], ["nodes"]),
            _r(["*"], [CORE], ["nodes/log", "nodes/metrics", "nodes/proxy", "nodes/stats"]),
        )),
        Role("system:kube-controller-manager", CONTROLLER_MANAGER_RULES),
        Role("system:kube-scheduler", SCHEDULER_RULES),
        Role("system:node-proxier", PROXY_RULES),
        Role("system:kube-dns", DNS_RULES),
        Role("system:network-agent", NETWORK_AGENT_RULES),
    ]


def cluster_role_bindings() -> list[Binding]:
    return [
        Binding("cluster-admin", "cluster-admin", _groups(u.SYSTEM_PRIVILEGED_GROUP)),
        Binding("system:discovery", "system:discovery", _groups(u.ALL_AUTHENTICATED)),
        Binding("system:basic-user", "system:basic-user", _groups(u.ALL_AUTHENTICATED)),
        Binding("system:public-info-viewer", "system:public-info-viewer",
                _groups(u.ALL_AUTHENTICATED, u.ALL_UNAUTHENTICATED)),
        # As kubeadm binds them: bootstrap tokens may ask for a node certificate
        # and have it approved; nodes may renew their own.
        Binding("system:node-bootstrapper", "system:node-bootstrapper", _groups(u.BOOTSTRAPPERS_GROUP)),
        Binding("system:node-autoapprove-bootstrap", "system:certificates.k8s.io:certificatesigningrequests:nodeclient",
                _groups(u.BOOTSTRAPPERS_GROUP)),
        Binding("system:node-autoapprove-certificate-rotation",
                "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient", _groups(u.NODES_GROUP)),
        Binding("system:kube-apiserver-kubelet-client", "system:kubelet-api-admin", _users(u.APISERVER_KUBELET_CLIENT)),
        Binding("system:kube-controller-manager", "system:kube-controller-manager", _users(u.KUBE_CONTROLLER_MANAGER)),
        Binding("system:kube-scheduler", "system:kube-scheduler", _users(u.KUBE_SCHEDULER)),
        Binding("system:node-proxier", "system:node-proxier", _users(u.KUBE_PROXY)),
        Binding("system:kube-dns", "system:kube-dns", _users(u.KUBE_DNS) + (
            rbac.Subject(rbac.SERVICE_ACCOUNT_KIND, "kube-dns", "kube-system"),)),
        Binding("system:network-agent", "system:network-agent", _users(u.NETWORK_AGENT)),
        # `system:node` is bound to nobody: the Node authorizer gives each node its part.
        Binding("system:node", "system:node", ()),
    ]


# kube-public/cluster-info: what a joining node reads before it trusts the server (the
# server URL and CA, signed with the bootstrap tokens); kubeadm's bootstrap-signer roles.
CLUSTER_INFO_READER_RULES = (_r(["get"], [CORE], ["configmaps"], names=["cluster-info"]),)
# What a joining node reads with its bootstrap token (minik8s.cluster.join): the server's
# URL, the pod CIDR and the kubelet API's token, kept in one kube-system Secret.
JOIN_INFO_RULES = (_r(["get"], [CORE], ["secrets"], names=["minik8s-cluster-info"]),)
# What a joining master reads with its bootstrap token: the control-plane certificates,
# encrypted under a key the server never sees (minik8s.cluster.copycerts); kubeadm's
# `kubeadm:kubeadm-certs`.
CERTS_RULES = (_r(["get"], [CORE], ["secrets"], names=["minik8s-certs"]),)
BOOTSTRAP_SIGNER_RULES = (
    _r(READ, [CORE], ["configmaps"]),
    _r(["update"], [CORE], ["configmaps"], names=["cluster-info"]),
)


def roles() -> list[Role]:
    return [
        Role("kubeadm:bootstrap-signer-clusterinfo", CLUSTER_INFO_READER_RULES, "kube-public"),
        Role("system:controller:bootstrap-signer", BOOTSTRAP_SIGNER_RULES, "kube-public"),
        Role("minik8s:join-info", JOIN_INFO_RULES, "kube-system"),
        Role("minik8s:minik8s-certs", CERTS_RULES, "kube-system"),
        Role("system::leader-locking-kube-controller-manager", _leader_lock("kube-controller-manager"), "kube-system"),
        Role("system::leader-locking-kube-scheduler", _leader_lock("kube-scheduler"), "kube-system"),
        Role("system:kube-dns", DNS_SYSTEM_RULES, "kube-system"),
    ]


def role_bindings() -> list[Binding]:
    return [
        Binding("kubeadm:bootstrap-signer-clusterinfo", "kubeadm:bootstrap-signer-clusterinfo",
                _users(u.ANONYMOUS), "kube-public", "Role"),
        Binding("system:controller:bootstrap-signer", "system:controller:bootstrap-signer",
                _users(u.KUBE_CONTROLLER_MANAGER), "kube-public", "Role"),
        Binding("minik8s:join-info", "minik8s:join-info", _groups(u.BOOTSTRAPPERS_GROUP), "kube-system", "Role"),
        Binding("minik8s:minik8s-certs", "minik8s:minik8s-certs", _groups(u.BOOTSTRAPPERS_GROUP), "kube-system",
                "Role"),
        Binding("system::leader-locking-kube-controller-manager", "system::leader-locking-kube-controller-manager",
                _users(u.KUBE_CONTROLLER_MANAGER), "kube-system", "Role"),
        Binding("system::leader-locking-kube-scheduler", "system::leader-locking-kube-scheduler",
                _users(u.KUBE_SCHEDULER), "kube-system", "Role"),
        Binding("system:kube-dns", "system:kube-dns",
                _users(u.KUBE_DNS) + (rbac.Subject(rbac.SERVICE_ACCOUNT_KIND, "kube-dns", "kube-system"),),
                "kube-system", "Role"),
    ]


# -- objects --------------------------------------------------------------------------------


def _meta(name: str, namespace: str) -> Obj:
    meta: Obj = {"name": name, "labels": dict(BOOTSTRAP_LABELS), "annotations": {AUTOUPDATE: "true"}}
    if namespace:
        meta["namespace"] = namespace
    return meta


def role_object(role: Role) -> Obj:
    kind = "Role" if role.namespace else "ClusterRole"
    return {"apiVersion": f"{rbac.GROUP}/v1", "kind": kind, "metadata": _meta(role.name, role.namespace),
            "rules": [r.to_dict() for r in role.rules]}


def binding_object(b: Binding) -> Obj:
    kind = "RoleBinding" if b.namespace else "ClusterRoleBinding"
    obj: Obj = {"apiVersion": f"{rbac.GROUP}/v1", "kind": kind, "metadata": _meta(b.name, b.namespace),
                "roleRef": {"apiGroup": rbac.GROUP, "kind": b.role_kind, "name": b.role}}
    if b.subjects:
        obj["subjects"] = [s.to_dict() for s in b.subjects]
    return obj


def reconcile_role(existing: Obj, wanted: Obj) -> Obj | None:
    """The role with the default rules it lacks added back, or None if it needs nothing."""
    if ((existing.get("metadata") or {}).get("annotations") or {}).get(AUTOUPDATE) == "false":
        return None
    have = list(rules_mod.from_list(existing.get("rules")))
    missing = [r for r in rules_mod.from_list(wanted.get("rules")) if not rules_mod.covers(have, [r])[0]]
    meta = existing.get("metadata") or {}
    labels = dict(meta.get("labels") or {})
    labels_missing = any(labels.get(k) != v for k, v in BOOTSTRAP_LABELS.items())
    if not missing and not labels_missing:
        return None
    out = dict(existing)
    out["rules"] = list(existing.get("rules") or []) + [r.to_dict() for r in missing]
    out["metadata"] = dict(meta, labels={**labels, **BOOTSTRAP_LABELS})
    return out


def reconcile_binding(existing: Obj, wanted: Obj) -> tuple[str, Obj | None]:
    """("ok"|"update"|"replace", object): what to do with an existing binding."""
    if ((existing.get("metadata") or {}).get("annotations") or {}).get(AUTOUPDATE) == "false":
        return "ok", None
    if rbac.role_ref_from_dict(existing.get("roleRef")) != rbac.role_ref_from_dict(wanted.get("roleRef")):
        return "replace", wanted
    have = list(existing.get("subjects") or [])
    keys = {(s.get("kind"), s.get("name"), s.get("namespace", "")) for s in have if isinstance(s, dict)}
    added = [s for s in wanted.get("subjects") or [] if (s["kind"], s["name"], s.get("namespace", "")) not in keys]
    if not added:
        return "ok", None
    out = dict(existing)
    out["subjects"] = have + added
    return "update", out


async def reconcile(registry: Any) -> None:
    """Create or repair every default role and binding (`registry` is the API server's Registry;
    its writes carry no request user, so neither escalation checks nor NodeRestriction apply)."""
    for role in cluster_roles() + roles():
        await _reconcile_object(registry, role_object(role))
    for b in cluster_role_bindings() + role_bindings():
        await _reconcile_object(registry, binding_object(b))


_PLURALS = {"ClusterRole": "clusterroles", "Role": "roles", "ClusterRoleBinding": "clusterrolebindings",
            "RoleBinding": "rolebindings"}


async def _reconcile_object(registry: Any, wanted: Obj) -> None:
    res = resources.must(rbac.GROUP, "v1", _PLURALS[wanted["kind"]])
    meta = wanted["metadata"]
    namespace, name = meta.get("namespace"), meta["name"]
    for _ in range(8):
        existing = await registry.store.get_or_none(res, namespace, name)
        try:
            if existing is None:
                await registry.create(res, namespace, copy.deepcopy(wanted))
                log.info("rbac bootstrap: created %s %s", wanted["kind"], name)
                return
            if wanted["kind"] in ("ClusterRole", "Role"):
                updated = reconcile_role(existing, wanted)
                action = "ok" if updated is None else "update"
            else:
                action, updated = reconcile_binding(existing, wanted)
            if action == "ok" or updated is None:
                return
            if action == "replace":
                await registry.store.delete(res, namespace, name, int(existing["metadata"]["resourceVersion"]))
                log.info("rbac bootstrap: replacing %s %s (its roleRef differs)", wanted["kind"], name)
                continue
            await registry.update(res, namespace, name, updated)
            log.info("rbac bootstrap: reconciled %s %s", wanted["kind"], name)
            return
        except (errors.AlreadyExists, errors.Conflict, errors.NotFound):
            continue  # raced with another API server starting: look again
    raise RuntimeError(f"rbac bootstrap: could not reconcile {wanted['kind']} {name}")
