"""One valid object per served kind: the seeds the fuzz suite mutates.

Each seed sets many of its kind's fields (probes, volumes, affinity, selectors
with expressions, HPA behaviour, RBAC subjects...), so that a mutation at almost
any schema path lands next to values that pass validation and reaches the code
that reads that field, instead of stopping at the first missing required field.
`tests/fuzz/test_fuzz_samples.py` checks that every seed is accepted as it is.
"""
from __future__ import annotations

import base64
import copy
from typing import Any

from minik8s.api import resources
from minik8s.util import pki

Obj = dict[str, Any]

POD_SPEC: Obj = {
    "restartPolicy": "Always", "terminationGracePeriodSeconds": 5, "activeDeadlineSeconds": 100,
    "dnsPolicy": "ClusterFirst", "nodeSelector": {"disk": "ssd"}, "hostname": "h", "subdomain": "s",
    "schedulerName": "default-scheduler", "priority": 0, "enableServiceLinks": True,
    "securityContext": {"runAsUser": 1000, "fsGroup": 2000, "sysctls": [{"name": "net.core.somaxconn", "value": "1"}]},
    "tolerations": [{"key": "k", "operator": "Equal", "value": "v", "effect": "NoExecute", "tolerationSeconds": 30}],
    "affinity": {
        "nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
            {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}]},
            "preferredDuringSchedulingIgnoredDuringExecution": [
                {"weight": 10, "preference": {"matchExpressions": [{"key": "disk", "operator": "Exists"}]}}]},
        "podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 50, "podAffinityTerm": {
            "labelSelector": {"matchLabels": {"app": "web"}}, "topologyKey": "kubernetes.io/hostname"}}]}},
    "hostAliases": [{"ip": "10.1.2.3", "hostnames": ["db.local"]}],
    "dnsConfig": {"nameservers": ["10.0.0.10"], "searches": ["svc.local"], "options": [{"name": "ndots", "value": "2"}]},
    "volumes": [
        {"name": "data", "emptyDir": {"sizeLimit": "1Gi"}},
        {"name": "cfg", "configMap": {"name": "c", "items": [{"key": "k", "path": "p", "mode": 420}]}},
        {"name": "sec", "secret": {"secretName": "s", "defaultMode": 256, "optional": True}},
        {"name": "host", "hostPath": {"path": "/tmp", "type": "Directory"}},
        {"name": "down", "downwardAPI": {"items": [{"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}}]}},
    ],
    "initContainers": [{"name": "init", "image": "minik8s/busybox:1", "command": ["true"]}],
    "containers": [{
        "name": "web", "image": "minik8s/web:1", "imagePullPolicy": "IfNotPresent",
        "command": ["httpd"], "args": ["-f"], "workingDir": "/",
        "ports": [{"name": "http", "containerPort": 80, "protocol": "TCP", "hostPort": 8080}],
        "env": [{"name": "A", "value": "1"},
                {"name": "B", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                {"name": "C", "valueFrom": {"resourceFieldRef": {"resource": "limits.memory", "divisor": "1Mi"}}},
                {"name": "D", "valueFrom": {"configMapKeyRef": {"name": "c", "key": "k"}}}],
        "envFrom": [{"configMapRef": {"name": "c"}, "prefix": "P_"}],
        "resources": {"limits": {"cpu": "500m", "memory": "128Mi"}, "requests": {"cpu": "100m", "memory": "64Mi"}},
        "volumeMounts": [{"name": "data", "mountPath": "/data", "readOnly": False},
                         {"name": "cfg", "mountPath": "/etc/cfg", "subPath": "p"}],
        "livenessProbe": {"httpGet": {"path": "/", "port": 80, "httpHeaders": [{"name": "X", "value": "y"}]},
                          "initialDelaySeconds": 1, "periodSeconds": 5, "timeoutSeconds": 1,
                          "failureThreshold": 3, "successThreshold": 1},
        "readinessProbe": {"tcpSocket": {"port": "http"}, "periodSeconds": 2},
        "startupProbe": {"exec": {"command": ["true"]}, "failureThreshold": 30},
        "lifecycle": {"preStop": {"exec": {"command": ["sleep", "1"]}},
                      "postStart": {"httpGet": {"path": "/", "port": "http"}}},
        "securityContext": {"privileged": False, "capabilities": {"add": ["NET_ADMIN"], "drop": ["ALL"]},
                            "runAsNonRoot": True, "readOnlyRootFilesystem": True},
        "stdin": False, "tty": False, "terminationMessagePolicy": "File",
    }],
}
# Workload templates may not set activeDeadlineSeconds.
TEMPLATE_SPEC: Obj = {k: v for k, v in POD_SPEC.items() if k != "activeDeadlineSeconds"}
SELECTOR: Obj = {"matchLabels": {"app": "web"},
                 "matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["db"]}]}
TEMPLATE: Obj = {"metadata": {"labels": {"app": "web", "tier": "front"}}, "spec": TEMPLATE_SPEC}

_SAMPLES: dict[tuple[str, str, str], Obj] = {
    ("", "v1", "Pod"): {"metadata": {"labels": {"app": "web"}, "annotations": {"a": "b"}}, "spec": POD_SPEC},
    ("", "v1", "Service"): {"spec": {
        "type": "NodePort", "selector": {"app": "web"}, "sessionAffinity": "ClientIP",
        "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 600}},
        "externalTrafficPolicy": "Cluster", "ipFamilyPolicy": "SingleStack",
        "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"},
                  {"name": "metrics", "port": 9090, "targetPort": 9090, "protocol": "UDP"}]}},
    ("", "v1", "Endpoints"): {"subsets": [{
        "addresses": [{"ip": "10.244.1.2", "nodeName": "n1", "targetRef": {"kind": "Pod", "name": "p"}}],
        "notReadyAddresses": [{"ip": "10.244.1.3"}],
        "ports": [{"name": "http", "port": 80, "protocol": "TCP"}]}]},
    ("", "v1", "ReplicationController"): {"spec": {
        "replicas": 2, "minReadySeconds": 1, "selector": {"app": "web", "tier": "front"}, "template": TEMPLATE}},
    ("apps", "v1", "Deployment"): {"spec": {
        "replicas": 3, "minReadySeconds": 1, "revisionHistoryLimit": 5, "progressDeadlineSeconds": 60,
        "selector": SELECTOR, "paused": False,
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 1}},
        "template": TEMPLATE}},
    ("apps", "v1", "ReplicaSet"): {"spec": {"replicas": 2, "minReadySeconds": 2, "selector": SELECTOR,
                                            "template": TEMPLATE}},
    ("", "v1", "Namespace"): {"metadata": {"labels": {"team": "a"}}, "spec": {"finalizers": ["kubernetes"]}},
    ("apps", "v1", "DaemonSet"): {"spec": {
        "selector": SELECTOR, "minReadySeconds": 1, "revisionHistoryLimit": 5, "template": TEMPLATE,
        "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}}}},
    ("apps", "v1", "ControllerRevision"): {"revision": 3, "data": {"spec": {"template": {"$patch": "replace"}}}},
    ("batch", "v1", "Job"): {"spec": {
        "completions": 3, "parallelism": 2, "backoffLimit": 4, "activeDeadlineSeconds": 600,
        "ttlSecondsAfterFinished": 60, "completionMode": "NonIndexed", "suspend": True,
        "template": {"metadata": {"labels": {"app": "job"}}, "spec": {**TEMPLATE_SPEC, "restartPolicy": "Never"}}}},
    ("batch", "v1", "CronJob"): {"spec": {
        "schedule": "*/5 * * * *", "concurrencyPolicy": "Forbid", "successfulJobsHistoryLimit": 2,
        "failedJobsHistoryLimit": 1, "suspend": True, "startingDeadlineSeconds": 30,
        "jobTemplate": {"spec": {"backoffLimit": 1, "template": {
            "metadata": {"labels": {"app": "cron"}}, "spec": {**TEMPLATE_SPEC, "restartPolicy": "OnFailure"}}}}}},
    ("", "v1", "Node"): {
        "metadata": {"labels": {"kubernetes.io/hostname": "n"}},
        "spec": {"podCIDR": "10.244.1.0/24", "podCIDRs": ["10.244.1.0/24"], "unschedulable": False,
                 "taints": [{"key": "k", "value": "v", "effect": "NoSchedule"}]},
        "status": {"capacity": {"cpu": "2", "memory": "4Gi", "pods": "110"},
                   "allocatable": {"cpu": "1900m", "memory": "3Gi", "pods": "110"},
                   "addresses": [{"type": "InternalIP", "address": "10.0.0.1"}],
                   "conditions": [{"type": "Ready", "status": "True",
                                   "lastHeartbeatTime": "2024-05-01T12:00:00Z"}],
                   "nodeInfo": {"kubeletVersion": "v1.32.0", "osImage": "Debian", "architecture": "amd64",
                                "operatingSystem": "linux", "containerRuntimeVersion": "docker://20.10",
                                "kernelVersion": "6.1", "kubeProxyVersion": "v1.32.0", "machineID": "m",
                                "systemUUID": "s", "bootID": "b"}}},
    ("", "v1", "Event"): {"involvedObject": {"kind": "Pod", "name": "p", "uid": "u", "apiVersion": "v1"},
                          "reason": "Started", "message": "m", "type": "Normal", "count": 2,
                          "source": {"component": "kubelet", "host": "n1"},
                          "firstTimestamp": "2024-05-01T12:00:00Z", "lastTimestamp": "2024-05-01T12:00:01Z"},
    ("events.k8s.io", "v1", "Event"): {
        "regarding": {"kind": "Pod", "name": "p", "uid": "u", "apiVersion": "v1"}, "reason": "Started",
        "note": "m", "type": "Normal", "action": "Start", "eventTime": "2024-05-01T12:00:00.000000Z",
        "reportingController": "example.com/kubelet", "reportingInstance": "n1",
        "series": {"count": 2, "lastObservedTime": "2024-05-01T12:00:01.000000Z"}},
    ("", "v1", "ConfigMap"): {"data": {"a": "1", "b.txt": "two"}, "binaryData": {"bin": "AAE="}},
    ("", "v1", "Secret"): {"type": "Opaque", "data": {"p": "cGFzcw=="}, "stringData": {"u": "me"}},
    ("autoscaling", "v2", "HorizontalPodAutoscaler"): {"spec": {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
        "minReplicas": 1, "maxReplicas": 5,
        "metrics": [
            {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization",
                                                                        "averageUtilization": 60}}},
            {"type": "Resource", "resource": {"name": "memory", "target": {"type": "AverageValue",
                                                                           "averageValue": "100Mi"}}},
            {"type": "Pods", "pods": {"metric": {"name": "rps", "selector": {"matchLabels": {"a": "b"}}},
                                      "target": {"type": "AverageValue", "averageValue": "10"}}},
            {"type": "Object", "object": {
                "describedObject": {"apiVersion": "v1", "kind": "Service", "name": "web"},
                "metric": {"name": "hits"}, "target": {"type": "Value", "value": "1k"}}}],
        "behavior": {"scaleDown": {"stabilizationWindowSeconds": 60, "selectPolicy": "Min",
                                   "policies": [{"type": "Pods", "value": 1, "periodSeconds": 30}]},
                     "scaleUp": {"policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}]}}}},
    ("autoscaling", "v1", "HorizontalPodAutoscaler"): {"spec": {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
        "minReplicas": 1, "maxReplicas": 4, "targetCPUUtilizationPercentage": 70}},
    ("certificates.k8s.io", "v1", "CertificateSigningRequest"): {"spec": {
        "request": base64.b64encode(pki.make_csr(pki.new_key(), "alice", ["devs"])).decode(),
        "signerName": "example.com/signer", "usages": ["digital signature", "key encipherment", "client auth"],
        "expirationSeconds": 3600}},
    ("", "v1", "ServiceAccount"): {
        "secrets": [{"name": "s"}], "imagePullSecrets": [{"name": "regcred"}], "automountServiceAccountToken": False},
    ("coordination.k8s.io", "v1", "Lease"): {"spec": {
        "holderIdentity": "n1", "leaseDurationSeconds": 40, "renewTime": "2024-05-01T12:00:00.000000Z",
        "acquireTime": "2024-05-01T11:00:00.000000Z", "leaseTransitions": 1}},
    ("rbac.authorization.k8s.io", "v1", "Role"): {"rules": [
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"], "resourceNames": ["p"]}]},
    ("rbac.authorization.k8s.io", "v1", "ClusterRole"): {"rules": [
        {"nonResourceURLs": ["/healthz"], "verbs": ["get"]},
        {"apiGroups": ["apps"], "resources": ["deployments", "deployments/scale"], "verbs": ["*"]}]},
    ("rbac.authorization.k8s.io", "v1", "RoleBinding"): {
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "r"},
        "subjects": [{"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "alice"},
                     {"kind": "ServiceAccount", "name": "default", "namespace": "ns"}]},
    ("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding"): {
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
        "subjects": [{"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "devs"}]},
    ("authorization.k8s.io", "v1", "SelfSubjectAccessReview"): {"spec": {
        "resourceAttributes": {"verb": "get", "resource": "pods", "namespace": "default"}}},
    ("authorization.k8s.io", "v1", "SelfSubjectRulesReview"): {"spec": {"namespace": "default"}},
    ("authorization.k8s.io", "v1", "SubjectAccessReview"): {"spec": {
        "user": "alice", "groups": ["devs"], "resourceAttributes": {"verb": "list", "group": "apps",
                                                                    "resource": "deployments"}}},
    ("authorization.k8s.io", "v1", "LocalSubjectAccessReview"): {"spec": {
        "user": "alice", "resourceAttributes": {"verb": "get", "resource": "configmaps"}}},
}

# Create-only kinds: answered, never stored.
REVIEWS = frozenset(k for g, _, k in _SAMPLES if g == "authorization.k8s.io")


def kinds() -> list[resources.Resource]:
    """Every served resource, in the resource table's order."""
    return list(resources.RESOURCES)


def stored() -> list[resources.Resource]:
    """The resources whose objects are stored (everything but the reviews)."""
    return [r for r in resources.RESOURCES if r.kind not in REVIEWS]


def sample(res: resources.Resource, name: str, namespace: str | None) -> Obj:
    """A valid `res` object named `name` (in `namespace` for namespaced kinds)."""
    body = copy.deepcopy(_SAMPLES[(res.group, res.version, res.kind)])
    body = {"apiVersion": res.api_version, "kind": res.kind, **body}
    meta = body.setdefault("metadata", {})
    if res.kind in REVIEWS:
        if res.kind == "LocalSubjectAccessReview":
            body["spec"]["resourceAttributes"]["namespace"] = namespace
        return body  # a review's metadata is empty (it is a question, not an object)
    meta["name"] = name
    if res.namespaced and namespace:
        meta["namespace"] = namespace
    if res.kind == "Event":
        body["involvedObject" if res.group == "" else "regarding"]["namespace"] = namespace
    if res.kind == "Node":
        meta["labels"]["kubernetes.io/hostname"] = name
    return body
