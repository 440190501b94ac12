"""The resource types minik8s serves: one record per (group, version, plural).

Everything that needs to know "what resources exist" (routes, discovery, storage
keys, the CLI's name resolution, the OpenAPI stub) reads this table, so adding a
resource is one entry here plus its kind's strategy in minik8s/api/kinds/ (its
defaults, validation, status rules, printer), which kinds.STRATEGIES maps by
(group, kind); tests/unit/test_strategies.py checks that every entry has one.
"""
from __future__ import annotations

import dataclasses
from typing import Iterable

VERBS_ALL = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")


@dataclasses.dataclass(frozen=True)
class Subresource:
    name: str
    kind: str
    verbs: tuple[str, ...]
    group: str = ""  # response kind's group when it differs (scale → autoscaling/v1)
    version: str = ""


@dataclasses.dataclass(frozen=True)
class Resource:
    group: str  # "" for core
    version: str
    kind: str
    plural: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    subresources: tuple[Subresource, ...] = ()
    verbs: tuple[str, ...] = VERBS_ALL
    # Another (group, version) whose storage this one shares (autoscaling/v1 HPA
    # is stored as autoscaling/v2); the storage resource is looked up by plural,
    # in `storage_group` when it is another group (events.k8s.io/v1 Events are
    # stored as core/v1 Events), else in this one.
    storage_version: str = ""
    storage_group: str | None = None

    @property
    def singular(self) -> str:
        return self.kind.lower()

    @property
    def group_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def api_version(self) -> str:
        return self.group_version

    @property
    def list_kind(self) -> str:
        return self.kind + "List"

    @property
    def qualified(self) -> str:
        """`deployments.apps`, `pods` — how kubectl names a resource in messages."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    def subresource(self, name: str) -> Subresource | None:
        for sub in self.subresources:
            if sub.name == name:
                return sub
        return None

    def url_prefix(self) -> str:
        return f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"

    def path(self, namespace: str | None = None, name: str | None = None, sub: str | None = None) -> str:
        """The REST path for a collection or an object of this resource."""
        parts = [self.url_prefix()]
        if self.namespaced and namespace:
            parts.append(f"/namespaces/{namespace}")
        parts.append(f"/{self.plural}")
        if name:
            parts.append(f"/{name}")
            if sub:
                parts.append(f"/{sub}")
        return "".join(parts)


def _status(kind: str) -> Subresource:
    return Subresource("status", kind, ("get", "patch", "update"))


_SCALE = Subresource("scale", "Scale", ("get", "patch", "update"), group="autoscaling", version="v1")

RESOURCES: tuple[Resource, ...] = (
    # Core v1. Order matters: it is discovery order, and `kubectl get all`
    # queries the "all" category in this order.
    Resource("", "v1", "Pod", "pods", True, ("po",), ("all",), (
        _status("Pod"),
        Subresource("binding", "Binding", ("create",)),
        Subresource("log", "Pod", ("get",)),
        Subresource("exec", "PodExecOptions", ("create", "get")),
        Subresource("attach", "PodAttachOptions", ("create", "get")),
        Subresource("portforward", "PodPortForwardOptions", ("create", "get")),
        Subresource("eviction", "Eviction", ("create",), group="policy", version="v1"),
        Subresource("ephemeralcontainers", "Pod", ("get", "patch", "update")),
    )),
    Resource("", "v1", "Service", "services", True, ("svc",), ("all",), (_status("Service"),)),
    Resource("", "v1", "ReplicationController", "replicationcontrollers", True, ("rc",), ("all",),
             (_status("ReplicationController"), _SCALE)),
    Resource("", "v1", "Namespace", "namespaces", False, ("ns",), (),
             (_status("Namespace"), Subresource("finalize", "Namespace", ("update",))),
             verbs=("create", "delete", "get", "list", "patch", "update", "watch")),
    Resource("", "v1", "Node", "nodes", False, ("no",), (), (_status("Node"),)),
    Resource("", "v1", "Endpoints", "endpoints", True, ("ep",)),
    Resource("", "v1", "Event", "events", True, ("ev",)),
    Resource("", "v1", "ConfigMap", "configmaps", True, ("cm",)),
    Resource("", "v1", "Secret", "secrets", True),
    # Pods run as a ServiceAccount; kubelets get its tokens through `token` (TokenRequest).
    Resource("", "v1", "ServiceAccount", "serviceaccounts", True, ("sa",), (), (
        Subresource("token", "TokenRequest", ("create",), group="authentication.k8s.io", version="v1"),)),
    Resource("apps", "v1", "DaemonSet", "daemonsets", True, ("ds",), ("all",), (_status("DaemonSet"),)),
    Resource("apps", "v1", "Deployment", "deployments", True, ("deploy",), ("all",),
             (_status("Deployment"), _SCALE)),
    Resource("apps", "v1", "ReplicaSet", "replicasets", True, ("rs",), ("all",),
             (_status("ReplicaSet"), _SCALE)),
    # DaemonSet history (StatefulSets too, upstream): one revision per template.
    Resource("apps", "v1", "ControllerRevision", "controllerrevisions", True),
    Resource("autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", True,
             ("hpa",), ("all",), (_status("HorizontalPodAutoscaler"),)),
    Resource("autoscaling", "v1", "HorizontalPodAutoscaler", "horizontalpodautoscalers", True,
             ("hpa",), ("all",), (_status("HorizontalPodAutoscaler"),), storage_version="v2"),
    Resource("batch", "v1", "CronJob", "cronjobs", True, ("cj",), ("all",), (_status("CronJob"),)),
    Resource("batch", "v1", "Job", "jobs", True, (), ("all",), (_status("Job"),)),
    Resource("coordination.k8s.io", "v1", "Lease", "leases", True),
    # Join: a node asks for its client certificate; the controller manager approves and signs.
    Resource("certificates.k8s.io", "v1", "CertificateSigningRequest", "certificatesigningrequests", False,
             ("csr",), (), (_status("CertificateSigningRequest"),
                            Subresource("approval", "CertificateSigningRequest", ("get", "patch", "update")))),
    Resource("events.k8s.io", "v1", "Event", "events", True, storage_version="v1", storage_group=""),
    # Authorization reviews: create-only questions answered by the authorizer, never stored.
    Resource("authorization.k8s.io", "v1", "SelfSubjectAccessReview", "selfsubjectaccessreviews", False,
             verbs=("create",)),
    Resource("authorization.k8s.io", "v1", "SelfSubjectRulesReview", "selfsubjectrulesreviews", False,
             verbs=("create",)),
    Resource("authorization.k8s.io", "v1", "SubjectAccessReview", "subjectaccessreviews", False,
             verbs=("create",)),
    Resource("authorization.k8s.io", "v1", "LocalSubjectAccessReview", "localsubjectaccessreviews", True,
             verbs=("create",)),
    Resource("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", False),
    Resource("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", False),
    Resource("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", True),
    Resource("rbac.authorization.k8s.io", "v1", "Role", "roles", True),
)

# API groups in discovery order, each with its versions, preferred first.
GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("apps", ("v1",)),
    ("authorization.k8s.io", ("v1",)),
    ("autoscaling", ("v2", "v1")),
    ("batch", ("v1",)),
    ("rbac.authorization.k8s.io", ("v1",)),
    ("coordination.k8s.io", ("v1",)),
    ("certificates.k8s.io", ("v1",)),
    ("events.k8s.io", ("v1",)),
)


def for_group_version(group: str, version: str) -> list[Resource]:
    return [r for r in RESOURCES if r.group == group and r.version == version]


def lookup(group: str, version: str, plural: str) -> Resource | None:
    for r in RESOURCES:
        if r.group == group and r.version == version and r.plural == plural:
            return r
    return None


def must(group: str, version: str, plural: str) -> Resource:
    """`lookup` for a resource the caller knows exists (module-level constants)."""
    res = lookup(group, version, plural)
    if res is None:
        raise KeyError(f"no resource {plural} in {group or 'core'}/{version}")
    return res


def storage_resource(res: Resource) -> Resource:
    """The resource whose shape is stored in etcd for this one."""
    if res.storage_version:
        group = res.group if res.storage_group is None else res.storage_group
        return must(group, res.storage_version, res.plural)
    return res


def by_kind(kind: str, api_version: str | None = None) -> Resource | None:
    """The preferred resource for a kind (optionally of one apiVersion)."""
    for r in RESOURCES:
        if r.kind == kind and (api_version is None or r.api_version == api_version) and not r.storage_version:
            return r
    if api_version is not None:
        for r in RESOURCES:
            if r.kind == kind and r.api_version == api_version:
                return r
    return None


def resolve(name: str) -> Resource | None:
    """Resolve what a user typed (`po`, `pods`, `pod`, `deploy`, `deployments.apps`, `Deployment`)."""
    name = name.strip()
    lowered = name.lower()
    group = None
    if "." in lowered:
        lowered, group = lowered.split(".", 1)
    for r in preferred():
        if group is not None and r.group != group:
            continue
        if lowered in (r.plural, r.singular) or lowered in r.short_names or name == r.kind:
            return r
    return None


def preferred() -> Iterable[Resource]:
    """One resource per (group, plural): the preferred version."""
    return [r for r in RESOURCES if not r.storage_version]
