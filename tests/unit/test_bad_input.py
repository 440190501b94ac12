"""Bad input never escapes the registry as anything but a Status error, and never gets stored.

Every served kind gets a realistic valid object; every field of it (at every depth)
is then replaced by values of the wrong type or shape, or removed, and the result
goes through what the API server does with a body: the create path (defaults,
prepare, validation, the Service allocator's plan), the update path against the
valid object, the status path, and the Table printer. Whatever is accepted must
be valid when read back: it passes validation again and can be written back
unchanged. The only exception allowed out is errors.StatusError (a 4xx).

Plus the cases that reached etcd or answered 500 before (issue 17), by name.
"""
from __future__ import annotations

import base64
import copy
from typing import Any, Iterator

import orjson
import pytest

from minik8s.api import errors
from minik8s.api import kinds
from minik8s.api import resources
from minik8s.apiserver import allocators
from minik8s.apiserver import registry as registry_mod
from minik8s.util import pki

Obj = dict[str, Any]

# Values of every JSON type, and strings that look like numbers or quantities.
WRONG = ["notalist", "Mi", "", 7, -1, 1.5, True, None, [], {}, [1], {"a": 1}]

POD_SPEC: Obj = {
    "restartPolicy": "Always", "terminationGracePeriodSeconds": 5, "activeDeadlineSeconds": 100,
    "dnsPolicy": "ClusterFirst", "nodeSelector": {"disk": "ssd"}, "hostname": "h", "subdomain": "s",
    "schedulerName": "default-scheduler", "priority": 0,
    "securityContext": {"runAsUser": 1000, "fsGroup": 2000},
    "tolerations": [{"key": "k", "operator": "Equal", "value": "v", "effect": "NoExecute", "tolerationSeconds": 30}],
    "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}]}}},
    "volumes": [{"name": "data", "emptyDir": {"sizeLimit": "1Gi"}},
                {"name": "cfg", "configMap": {"name": "c", "items": [{"key": "k", "path": "p", "mode": 420}]}},
                {"name": "host", "hostPath": {"path": "/tmp", "type": "Directory"}}],
    "initContainers": [{"name": "init", "image": "minik8s/busybox:1", "command": ["true"]}],
    "containers": [{
        "name": "web", "image": "minik8s/web:1", "imagePullPolicy": "IfNotPresent",
        "command": ["httpd"], "args": ["-f"], "workingDir": "/",
        "ports": [{"name": "http", "containerPort": 80, "protocol": "TCP", "hostPort": 8080}],
        "env": [{"name": "A", "value": "1"},
                {"name": "B", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                {"name": "C", "valueFrom": {"resourceFieldRef": {"resource": "limits.memory", "divisor": "1Mi"}}}],
        "envFrom": [{"configMapRef": {"name": "c"}}],
        "resources": {"limits": {"cpu": "500m", "memory": "128Mi"}, "requests": {"cpu": "100m", "memory": "64Mi"}},
        "volumeMounts": [{"name": "data", "mountPath": "/data", "readOnly": False}],
        "livenessProbe": {"httpGet": {"path": "/", "port": 80}, "initialDelaySeconds": 1, "periodSeconds": 5,
                          "timeoutSeconds": 1, "failureThreshold": 3, "successThreshold": 1},
        "readinessProbe": {"tcpSocket": {"port": "http"}, "periodSeconds": 2},
        "startupProbe": {"exec": {"command": ["true"]}, "failureThreshold": 30},
        "lifecycle": {"preStop": {"exec": {"command": ["sleep", "1"]}}},
        "securityContext": {"privileged": False, "capabilities": {"add": ["NET_ADMIN"]}},
    }],
}
# Workload templates may not set activeDeadlineSeconds.
TEMPLATE_SPEC: Obj = {k: v for k, v in POD_SPEC.items() if k != "activeDeadlineSeconds"}
TEMPLATE: Obj = {"metadata": {"labels": {"app": "web"}}, "spec": TEMPLATE_SPEC}
SELECTOR: Obj = {"matchLabels": {"app": "web"}, "matchExpressions": [
    {"key": "tier", "operator": "NotIn", "values": ["db"]}]}

SAMPLES: dict[tuple[str, str], Obj] = {
    ("", "Pod"): {"metadata": {"labels": {"app": "web"}, "annotations": {"a": "b"}}, "spec": POD_SPEC},
    ("", "Service"): {"spec": {
        "type": "NodePort", "selector": {"app": "web"}, "sessionAffinity": "ClientIP",
        "externalTrafficPolicy": "Cluster",
        "ports": [{"name": "http", "port": 80, "targetPort": "http", "nodePort": 30080, "protocol": "TCP"},
                  {"name": "metrics", "port": 9090, "targetPort": 9090, "protocol": "UDP"}]}},
    ("", "Endpoints"): {"subsets": [{"addresses": [{"ip": "10.244.1.2", "nodeName": "n1",
                                                     "targetRef": {"kind": "Pod", "name": "p", "namespace": "ns"}}],
                                     "notReadyAddresses": [{"ip": "10.244.1.3"}],
                                     "ports": [{"name": "http", "port": 80, "protocol": "TCP"}]}]},
    ("", "ReplicationController"): {"spec": {"replicas": 2, "minReadySeconds": 1, "selector": {"app": "web"},
                                             "template": TEMPLATE}},
    ("apps", "Deployment"): {"spec": {
        "replicas": 3, "minReadySeconds": 1, "revisionHistoryLimit": 5, "progressDeadlineSeconds": 60,
        "selector": SELECTOR, "paused": False,
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 1}},
        "template": {"metadata": {"labels": {"app": "web", "tier": "front"}}, "spec": TEMPLATE_SPEC}}},
    ("apps", "ReplicaSet"): {"spec": {"replicas": 2, "selector": SELECTOR,
                                      "template": {"metadata": {"labels": {"app": "web", "tier": "front"}},
                                                   "spec": TEMPLATE_SPEC}}},
    ("", "Namespace"): {"metadata": {"labels": {"team": "a"}}, "spec": {"finalizers": ["kubernetes"]}},
    ("", "Node"): {"spec": {"podCIDR": "10.244.1.0/24", "podCIDRs": ["10.244.1.0/24"], "unschedulable": False,
                            "taints": [{"key": "k", "value": "v", "effect": "NoSchedule"}]},
                   "status": {"capacity": {"cpu": "2", "memory": "4Gi", "pods": "110"},
                              "allocatable": {"cpu": "1900m", "memory": "3Gi", "pods": "110"},
                              "addresses": [{"type": "InternalIP", "address": "10.0.0.1"}],
                              "conditions": [{"type": "Ready", "status": "True"}]}},
    ("", "Event"): {"involvedObject": {"kind": "Pod", "name": "p", "namespace": "ns", "uid": "u"},
                    "reason": "Started", "message": "m", "type": "Normal", "count": 2,
                    "source": {"component": "kubelet", "host": "n1"},
                    "firstTimestamp": "2024-05-01T12:00:00Z", "lastTimestamp": "2024-05-01T12:00:01Z"},
    ("", "ConfigMap"): {"data": {"a": "1", "b.txt": "two"}, "binaryData": {"bin": "AAE="}},
    ("", "Secret"): {"type": "Opaque", "data": {"p": "cGFzcw=="}, "stringData": {"u": "me"}},
    ("autoscaling", "HorizontalPodAutoscaler"): {"spec": {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
        "minReplicas": 1, "maxReplicas": 5,
        "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization",
                                                                               "averageUtilization": 60}}},
                    {"type": "Resource", "resource": {"name": "memory", "target": {"type": "AverageValue",
                                                                                  "averageValue": "100Mi"}}}],
        "behavior": {"scaleDown": {"stabilizationWindowSeconds": 60, "selectPolicy": "Min",
                                   "policies": [{"type": "Pods", "value": 1, "periodSeconds": 30}]}}}},
    ("certificates.k8s.io", "CertificateSigningRequest"): {"spec": {
        "request": base64.b64encode(pki.make_csr(pki.new_key(), "alice", ["devs"])).decode(),
        "signerName": "example.com/signer", "usages": ["digital signature", "client auth"],
        "expirationSeconds": 3600}},
    ("coordination.k8s.io", "Lease"): {"spec": {"holderIdentity": "n1", "leaseDurationSeconds": 40,
                                                "renewTime": "2024-05-01T12:00:00.000000Z", "leaseTransitions": 1}},
    ("rbac.authorization.k8s.io", "Role"): {"rules": [{"apiGroups": [""], "resources": ["pods"],
                                                       "verbs": ["get", "list"], "resourceNames": ["p"]}]},
    ("rbac.authorization.k8s.io", "ClusterRole"): {"rules": [{"nonResourceURLs": ["/healthz"], "verbs": ["get"]}]},
    ("rbac.authorization.k8s.io", "RoleBinding"): {
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "r"},
        "subjects": [{"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "alice"},
                     {"kind": "ServiceAccount", "name": "default", "namespace": "ns"}]},
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"): {
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "r"},
        "subjects": [{"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "g"}]},
    ("apps", "DaemonSet"): {"spec": {
        "selector": SELECTOR, "minReadySeconds": 1, "revisionHistoryLimit": 5,
        "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}},
        "template": {"metadata": {"labels": {"app": "web", "tier": "front"}}, "spec": TEMPLATE_SPEC}}},
    ("apps", "ControllerRevision"): {"revision": 3, "data": {"spec": {"template": {"$patch": "replace"}}}},
    ("batch", "Job"): {"spec": {
        "completions": 3, "parallelism": 2, "backoffLimit": 4, "activeDeadlineSeconds": 600,
        "ttlSecondsAfterFinished": 60,
        "template": {"metadata": {"labels": {"app": "job"}}, "spec": {**TEMPLATE_SPEC, "restartPolicy": "Never"}}}},
    ("batch", "CronJob"): {"spec": {
        "schedule": "*/5 * * * *", "concurrencyPolicy": "Forbid", "successfulJobsHistoryLimit": 2,
        "jobTemplate": {"spec": {"backoffLimit": 1, "template": {
            "metadata": {"labels": {"app": "cron"}}, "spec": {**TEMPLATE_SPEC, "restartPolicy": "OnFailure"}}}}}},
}

STORED = [r for r in resources.RESOURCES if not r.storage_version and "create" in r.verbs and "get" in r.verbs]


def registry() -> registry_mod.Registry:
    return registry_mod.Registry(None, allocators.ServiceAllocator(None))  # type: ignore[arg-type]


def sample(res: resources.Resource) -> Obj:
    body = copy.deepcopy(SAMPLES.get((res.group, res.kind), {}))
    body = {"apiVersion": res.api_version, "kind": res.kind, **body}
    body["metadata"] = {"name": "sample", **body.get("metadata", {})}
    if res.namespaced:
        body["metadata"]["namespace"] = "ns"
    return body


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every path into a JSON value, parents before children (metadata.name excepted)."""
    if isinstance(value, dict):
        for k, v in value.items():
            if prefix + (k,) in (("metadata", "name"), ("metadata", "namespace"), ("apiVersion",), ("kind",)):
                continue
            yield prefix + (k,)
            yield from paths(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield prefix + (i,)
            yield from paths(v, prefix + (i,))


def mutated(obj: Obj, path: tuple[Any, ...], value: Any, remove: bool = False) -> Obj:
    out = copy.deepcopy(obj)
    node: Any = out
    for step in path[:-1]:
        node = node[step]
    if remove:
        del node[path[-1]]
    else:
        node[path[-1]] = copy.deepcopy(value)
    return out


def label(path: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in path)


def create(reg: registry_mod.Registry, res: resources.Resource, body: Obj) -> Obj:
    obj = reg.prepare_create(res, "ns" if res.namespaced else None, body)
    allocator = reg.allocators.get(res.qualified)
    if allocator is not None:
        allocator.plan(storage_copy(obj), None)
    return obj


def storage_copy(obj: Obj) -> Obj:
    copied: Obj = orjson.loads(orjson.dumps(obj))
    return copied


def check_stored(reg: registry_mod.Registry, res: resources.Resource, obj: Obj, what: str) -> None:
    """What is accepted is valid on re-read: JSON, valid again, printable, writable back unchanged."""
    stored = storage_copy(obj)
    stored["metadata"]["resourceVersion"] = "5"
    kinds.validate(res, storage_copy(stored), None if True else None)
    kinds.to_table(res, [storage_copy(stored)])
    again = reg.prepare_update(res, stored, storage_copy(stored), None)
    allocator = reg.allocators.get(res.qualified)
    if allocator is not None:
        allocator.plan(storage_copy(again), stored)


def run_case(reg: registry_mod.Registry, res: resources.Resource, body: Obj, old: Obj | None, what: str) -> None:
    try:
        if old is None:
            obj = create(reg, res, storage_copy(body))
        else:
            obj = reg.prepare_update(res, old, storage_copy(body), None)
            allocator = reg.allocators.get(res.qualified)
            if allocator is not None:
                allocator.plan(storage_copy(obj), old)
    except errors.StatusError as e:
        assert 400 <= e.code < 500, f"{what}: {e!r}"
        return
    except Exception as e:
        raise AssertionError(f"{what}: {type(e).__name__}: {e}") from e
    try:
        check_stored(reg, res, obj, what)
    except Exception as e:
        raise AssertionError(f"{what}: accepted, but invalid on re-read: {type(e).__name__}: {e}\n"
                             f"{orjson.dumps(obj).decode()[:2000]}") from e


@pytest.mark.parametrize("res", STORED, ids=lambda r: f"{r.group or 'core'}.{r.kind}")
def test_samples_are_valid(res: resources.Resource) -> None:
    reg = registry()
    obj = create(reg, res, sample(res))
    check_stored(reg, res, obj, "sample")


@pytest.mark.parametrize("res", STORED, ids=lambda r: f"{r.group or 'core'}.{r.kind}")
def test_wrong_types_everywhere_on_create_and_update(res: resources.Resource) -> None:
    reg = registry()
    body = sample(res)
    old = storage_copy(create(reg, res, sample(res)))
    old["metadata"]["resourceVersion"] = "5"
    for path in paths(body):
        for value in WRONG:
            bad = mutated(body, path, value)
            run_case(reg, res, bad, None, f"create {res.kind} {label(path)}={value!r}")
            update = mutated(old, path, value) if _has(old, path) else bad
            run_case(reg, res, update, old, f"update {res.kind} {label(path)}={value!r}")
        run_case(reg, res, mutated(body, path, None, remove=True), None, f"create {res.kind} without {label(path)}")


@pytest.mark.parametrize("res", [r for r in STORED if r.subresource("status") is not None],
                         ids=lambda r: f"{r.group or 'core'}.{r.kind}")
def test_wrong_status_types(res: resources.Resource) -> None:
    reg = registry()
    old = storage_copy(create(reg, res, sample(res)))
    old["metadata"]["resourceVersion"] = "5"
    for value in WRONG:
        for status in (value, {"replicas": value}, {"conditions": value}, {"conditions": [value]},
                       {"phase": value}, {"containerStatuses": [{"name": "web", "restartCount": value}]}):
            body = {**storage_copy(old), "status": status}
            try:
                obj = reg.prepare_update(res, old, body, "status")
            except errors.StatusError as e:
                assert 400 <= e.code < 500
                continue
            except Exception as e:
                raise AssertionError(f"status {status!r}: {type(e).__name__}: {e}") from e
            kinds.to_table(res, [storage_copy(obj)])


def _has(obj: Any, path: tuple[Any, ...]) -> bool:
    for step in path:
        if isinstance(obj, dict) and step in obj:
            obj = obj[step]
        elif isinstance(obj, list) and isinstance(step, int) and step < len(obj):
            obj = obj[step]
        else:
            return False
    return True


# -- the cases of issue 17, by name -------------------------------------------------------------


def invalid(res_args: tuple[str, str, str], body: Obj, old: Obj | None = None) -> errors.StatusError:
    res = resources.must(*res_args)
    reg = registry()
    with pytest.raises(errors.StatusError) as info:
        if old is None:
            create(reg, res, body)
        else:
            reg.prepare_update(res, old, body, None)
    assert info.value.code in (400, 422), info.value
    return info.value


def test_containers_not_a_list() -> None:
    body = sample(resources.must("", "v1", "pods"))
    body["spec"]["containers"] = "notalist"
    assert "spec.containers" in invalid(("", "v1", "pods"), body).message


def test_node_port_not_a_number() -> None:
    body = sample(resources.must("", "v1", "services"))
    body["spec"]["ports"][0]["nodePort"] = "x"
    assert "nodePort" in invalid(("", "v1", "services"), body).message


def test_deployment_replicas_many_on_update() -> None:
    res = resources.must("apps", "v1", "deployments")
    old = storage_copy(create(registry(), res, sample(res)))
    old["metadata"]["resourceVersion"] = "5"
    new = storage_copy(old)
    new["spec"]["replicas"] = "many"
    assert "spec.replicas" in invalid(("apps", "v1", "deployments"), new, old).message


@pytest.mark.parametrize("text", ["Mi", "Gi", "m", "k", ".", "+", "-Mi", "e3", ".Mi", " ", "1 Mi", "1Mx"])
def test_quantities_without_a_number_are_rejected_on_every_kind_that_holds_them(text: str) -> None:
    pod = sample(resources.must("", "v1", "pods"))
    pod["spec"]["containers"][0]["resources"]["limits"]["memory"] = text
    assert "memory" in invalid(("", "v1", "pods"), pod).message
    pod = sample(resources.must("", "v1", "pods"))
    pod["spec"]["volumes"][0]["emptyDir"]["sizeLimit"] = text
    assert "sizeLimit" in invalid(("", "v1", "pods"), pod).message
    pod = sample(resources.must("", "v1", "pods"))
    pod["spec"]["containers"][0]["env"][2]["valueFrom"]["resourceFieldRef"]["divisor"] = text
    assert "divisor" in invalid(("", "v1", "pods"), pod).message
    for plural, group in (("deployments", "apps"), ("replicasets", "apps"), ("replicationcontrollers", "")):
        res = resources.must(group, "v1", plural)
        body = sample(res)
        body["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["cpu"] = text
        assert "cpu" in invalid((group, "v1", plural), body).message
    node = sample(resources.must("", "v1", "nodes"))
    node["status"]["capacity"]["memory"] = text
    assert "memory" in invalid(("", "v1", "nodes"), node).message
    hpa = sample(resources.must("autoscaling", "v2", "horizontalpodautoscalers"))
    hpa["spec"]["metrics"][1]["resource"]["target"]["averageValue"] = text
    assert "averageValue" in invalid(("autoscaling", "v2", "horizontalpodautoscalers"), hpa).message


# -- one type check: the schema's, on what is about to be stored --------------------------------------


def test_the_schema_checks_the_object_as_stored_with_the_field_named() -> None:
    """After the kind's rules, kinds.validate runs the schema's structural check on any
    path (a patch or apply result, an internal write): what no rule reads is checked
    too (these were stored before), and the cause names the field with Go's message."""
    res = resources.must("", "v1", "pods")
    stored = storage_copy(create(registry(), res, sample(res)))
    for path, value, go in ((("spec", "tolerations", 0, "key"), 7, "Toleration.spec.tolerations.key of type string"),
                            (("spec", "securityContext", "fsGroup"), "x",
                             "PodSecurityContext.spec.securityContext.fsGroup of type int64")):
        with pytest.raises(errors.StatusError) as info:
            kinds.validate(res, mutated(stored, path, value))
        assert info.value.code == 422
        cause = info.value.details["causes"][0]
        assert cause["reason"] == "FieldValueTypeInvalid"
        assert cause["field"] == label(path).replace(".0.", "[0].")
        assert f"into Go struct field {go}" in info.value.message


def test_metadata_types_are_checked_before_anything_reads_them() -> None:
    res = resources.must("", "v1", "pods")
    body = sample(res)
    body["metadata"]["generateName"] = 5
    with pytest.raises(errors.StatusError) as info:
        create(registry(), res, body)
    assert info.value.code == 400
    assert info.value.message.endswith("json: cannot unmarshal number into Go struct field "
                                       "ObjectMeta.metadata.generateName of type string")
