"""Validation, rule by rule: each case breaks one rule of a valid object and names
the exact cause (field path, reason, message) kube-apiserver 1.32 reports."""
from __future__ import annotations

import copy
import re
from typing import Any, Callable

import pytest
import yaml

from minik8s.api import errors
from minik8s.api import kinds
from minik8s.api import resources
from minik8s.api.kinds import scale as scale_kind

Obj = dict[str, Any]

POD = resources.must("", "v1", "pods")
SVC = resources.must("", "v1", "services")
RC = resources.must("", "v1", "replicationcontrollers")
NS = resources.must("", "v1", "namespaces")
NODE = resources.must("", "v1", "nodes")
EP = resources.must("", "v1", "endpoints")
EVENT = resources.must("", "v1", "events")
DEPLOY = resources.must("apps", "v1", "deployments")
RS = resources.must("apps", "v1", "replicasets")
HPA2 = resources.must("autoscaling", "v2", "horizontalpodautoscalers")
HPA1 = resources.must("autoscaling", "v1", "horizontalpodautoscalers")
LEASE = resources.must("coordination.k8s.io", "v1", "leases")

SUBDOMAIN_MSG = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
                 "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for "
                 "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")
LABEL_MSG = ("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must "
             "start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for "
             "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')")
DNS1035_MSG = ("a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
               "alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', "
               "regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')")
QUANTITY_MSG = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
LABEL_KEY_MSG = ("name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end "
                 "with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
                 "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')")
PERCENT_MSG = ("a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or "
               "'93%', regex used for validation is '[0-9]+%')")
IP_MSG = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"
PORT_RANGE = "must be between 1 and 65535, inclusive"
NONNEG = "must be greater than or equal to 0"

REASONS = {
    "Required": "FieldValueRequired", "Invalid": "FieldValueInvalid", "Unsupported": "FieldValueNotSupported",
    "Duplicate": "FieldValueDuplicate", "Forbidden": "FieldValueForbidden", "NotFound": "FieldValueNotFound",
    "TooLong": "FieldValueTooLong",
}

SEED = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: vdata-imp-deployment, labels: {app: vdata-imp}}
spec:
  replicas: 1
  selector: {matchLabels: {app: vdata-imp}}
  template:
    metadata: {labels: {app: vdata-imp}}
    spec:
      containers:
      - name: vdata-imp
        image: vdata-imp:98
        imagePullPolicy: IfNotPresent
        env: [{name: ENV, value: "env"}]
        ports: [{containerPort: 80}]
        resources: {limits: {cpu: 0.3, memory: 400Mi}, requests: {cpu: 0.3, memory: 300Mi}}
        livenessProbe: {httpGet: {path: /swagger-ui/, port: 80}, initialDelaySeconds: 100, periodSeconds: 3}
  strategy: {type: RollingUpdate, rollingUpdate: {maxUnavailable: 50%, maxSurge: 50%}}
  progressDeadlineSeconds: 150
  minReadySeconds: 100
  revisionHistoryLimit: 3
"""


# ---------------------------------------------------------------------------
# helpers


def ready(res: resources.Resource, obj: Obj, namespace: str | None = "default") -> Obj:
    """What the server hands to validate(): namespace set, defaults applied."""
    obj = copy.deepcopy(obj)
    if namespace and res.namespaced:
        obj.setdefault("metadata", {})["namespace"] = namespace
    kinds.apply_defaults(res, obj)
    return obj


def causes(res: resources.Resource, obj: Obj, old: Obj | None = None) -> list[dict[str, str]]:
    with pytest.raises(errors.Invalid) as exc:
        kinds.validate(res, obj, old)
    err = exc.value
    assert err.code == 422 and err.reason == "Invalid"
    assert err.details["kind"] == res.kind and err.details["group"] == res.group
    return err.causes


def C(field: str, kind: str, message: str) -> dict[str, str]:
    return {"field": field, "reason": REASONS[kind], "message": message}


_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")
DELETE = object()


def setp(obj: Obj, path: str, value: Any) -> None:
    """Set (or with DELETE remove) a dotted path like `spec.containers[0].image`."""
    steps = [int(i) if i else k for k, i in _STEP.findall(path)]
    cur: Any = obj
    for step in steps[:-1]:
        cur = cur[step]
    if value is DELETE:
        del cur[steps[-1]]
    else:
        cur[steps[-1]] = value


def mut(*pairs: Any) -> Callable[[Obj], None]:
    def apply(obj: Obj) -> None:
        for path, value in zip(pairs[::2], pairs[1::2]):
            setp(obj, path, value if value is DELETE else copy.deepcopy(value))
    return apply


def base_pod() -> Obj:
    return ready(POD, {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "labels": {"app": "web"}},
                       "spec": {"containers": [{"name": "web", "image": "nginx:1.25",
                                                "ports": [{"containerPort": 80, "name": "http"}]}]}})


def base_deployment() -> Obj:
    return ready(DEPLOY, yaml.safe_load(SEED))


def base_rs() -> Obj:
    d = yaml.safe_load(SEED)
    spec = {k: d["spec"][k] for k in ("replicas", "selector", "template")}
    return ready(RS, {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "rs"}, "spec": spec})


def base_rc() -> Obj:
    return ready(RC, {"metadata": {"name": "rc"}, "spec": {"template": {
        "metadata": {"labels": {"app": "rc"}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}})


def base_service() -> Obj:
    return ready(SVC, {"metadata": {"name": "web"}, "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}})


def base_hpa() -> Obj:
    return ready(HPA2, {"apiVersion": "autoscaling/v2", "metadata": {"name": "h"}, "spec": {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}, "maxReplicas": 5}})


# ---------------------------------------------------------------------------
# the seed and other valid objects


def test_seed_deployment_is_valid_after_defaults() -> None:
    kinds.validate(DEPLOY, base_deployment())


@pytest.mark.parametrize("res, make", [
    (POD, base_pod), (DEPLOY, base_deployment), (RS, base_rs), (RC, base_rc), (SVC, base_service),
    (HPA2, base_hpa),
    (NS, lambda: ready(NS, {"metadata": {"name": "team-a"}})),
    (NODE, lambda: ready(NODE, {"metadata": {"name": "node-1"}, "status": {"capacity": {"cpu": "4", "memory": "8Gi"}}})),
    (EP, lambda: ready(EP, {"metadata": {"name": "web"}, "subsets": [
        {"addresses": [{"ip": "10.244.1.5"}], "ports": [{"port": 80}]}]})),
    (EVENT, lambda: ready(EVENT, {"metadata": {"name": "web.1"}, "involvedObject": {
        "kind": "Pod", "name": "web", "namespace": "default"}, "reason": "Started", "type": "Normal"})),
    (LEASE, lambda: ready(LEASE, {"metadata": {"name": "node-1"}, "spec": {
        "holderIdentity": "node-1", "leaseDurationSeconds": 40}})),
    (HPA1, lambda: ready(HPA1, {"apiVersion": "autoscaling/v1", "metadata": {"name": "h"}, "spec": {
        "scaleTargetRef": {"kind": "Deployment", "name": "web"}, "maxReplicas": 3,
        "targetCPUUtilizationPercentage": 50}})),
    (SVC, lambda: ready(SVC, {"metadata": {"name": "db"}, "spec": {"clusterIP": "None", "selector": {"a": "b"}}})),
    (SVC, lambda: ready(SVC, {"metadata": {"name": "ext"}, "spec": {"type": "ExternalName",
                                                                    "externalName": "db.example.com."}})),
    (SVC, lambda: ready(SVC, {"metadata": {"name": "np"}, "spec": {"type": "NodePort", "ports": [
        {"name": "http", "port": 80, "nodePort": 30080}, {"name": "https", "port": 443, "targetPort": "https"}]}})),
])
def test_valid(res: resources.Resource, make: Callable[[], Obj]) -> None:
    kinds.validate(res, make())


def test_message_names_kind_group_and_name() -> None:
    d = base_deployment()
    d["spec"]["replicas"] = -1
    with pytest.raises(errors.Invalid) as exc:
        kinds.validate(DEPLOY, d)
    assert exc.value.message == ('Deployment.apps "vdata-imp-deployment" is invalid: '
                                 'spec.replicas: Invalid value: -1: must be greater than or equal to 0')
    assert exc.value.details["name"] == "vdata-imp-deployment"


def test_one_cause_per_problem() -> None:
    d = base_deployment()
    d["metadata"]["name"] = "Bad_Name"
    c = d["spec"]["template"]["spec"]["containers"][0]
    c["image"] = ""
    c["resources"]["limits"]["cpu"] = "abc"
    d["spec"]["template"]["spec"]["restartPolicy"] = "Sometimes"
    assert causes(DEPLOY, d) == [
        C("metadata.name", "Invalid", f'Invalid value: "Bad_Name": {SUBDOMAIN_MSG}'),
        C("spec.template.spec.containers[0].image", "Required", "Required value"),
        C("spec.template.spec.containers[0].resources.limits[cpu]", "Invalid", f'Invalid value: "abc": {QUANTITY_MSG}'),
        C("spec.template.spec.restartPolicy", "Unsupported",
          'Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"'),
        C("spec.template.spec.restartPolicy", "Unsupported", 'Unsupported value: "Sometimes": supported values: "Always"'),
    ]


# ---------------------------------------------------------------------------
# metadata

LONG = "a" * 254

META_CASES = [
    ("name missing", DEPLOY, mut("metadata.name", DELETE),
     C("metadata.name", "Required", "Required value: name or generateName is required")),
    ("bad subdomain name", DEPLOY, mut("metadata.name", "Bad_Name"),
     C("metadata.name", "Invalid", f'Invalid value: "Bad_Name": {SUBDOMAIN_MSG}')),
    ("name too long", POD, mut("metadata.name", LONG),
     C("metadata.name", "Invalid", f'Invalid value: "{LONG}": must be no more than 253 characters')),
    ("bad generateName", POD, mut("metadata.generateName", "Web-"),
     C("metadata.generateName", "Invalid", f'Invalid value: "Web-": {SUBDOMAIN_MSG}')),
    ("bad label key", POD, mut("metadata.labels", {"bad key": "x"}),
     C("metadata.labels", "Invalid", f'Invalid value: "bad key": {LABEL_KEY_MSG}')),
    ("label value too long", POD, mut("metadata.labels", {"app": "v" * 64}),
     C("metadata.labels", "Invalid", f'Invalid value: "{"v" * 64}": must be no more than 63 characters')),
    ("bad annotation key", POD, mut("metadata.annotations", {"bad key": "x"}),
     C("metadata.annotations", "Invalid", f'Invalid value: "bad key": {LABEL_KEY_MSG}')),
    ("annotations too big", POD, mut("metadata.annotations", {"a": "x" * (256 * 1024)}),
     C("metadata.annotations", "TooLong", "Too long: may not be more than 262144 bytes")),
    ("owner without uid", POD,
     mut("metadata.ownerReferences", [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs"}]),
     C("metadata.ownerReferences.uid", "Invalid", 'Invalid value: "": must not be empty')),
    ("owner without apiVersion", POD, mut("metadata.ownerReferences", [{"kind": "ReplicaSet", "name": "rs", "uid": "1"}]),
     C("metadata.ownerReferences.apiVersion", "Invalid", 'Invalid value: "": version must not be empty')),
    ("owner without kind", POD, mut("metadata.ownerReferences", [{"apiVersion": "v1", "name": "rs", "uid": "1"}]),
     C("metadata.ownerReferences.kind", "Invalid", 'Invalid value: "": must not be empty')),
    ("owner without name", POD, mut("metadata.ownerReferences", [{"apiVersion": "v1", "kind": "ReplicaSet", "uid": "1"}]),
     C("metadata.ownerReferences.name", "Invalid", 'Invalid value: "": must not be empty')),
    ("two controllers", POD, mut("metadata.ownerReferences", [
        {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "a", "uid": "1", "controller": True},
        {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "b", "uid": "2", "controller": True}]),
     C("metadata.ownerReferences", "Invalid", 'Invalid value: []v1.OwnerReference{...}: Only one reference can have '
       'Controller set to true. Found "true" in references for ReplicaSet/a and ReplicaSet/b')),
    ("namespace missing", POD, mut("metadata.namespace", DELETE), C("metadata.namespace", "Required", "Required value")),
    ("bad namespace", POD, mut("metadata.namespace", "Team_A"),
     C("metadata.namespace", "Invalid", f'Invalid value: "Team_A": {LABEL_MSG}')),
    ("bad finalizer", POD, mut("metadata.finalizers", ["foo"]),
     C("metadata.finalizers[0]", "Invalid",
       'Invalid value: "foo": name is neither a standard finalizer name nor is it fully qualified')),
    ("negative generation", POD, mut("metadata.generation", -1),
     C("metadata.generation", "Invalid", f"Invalid value: -1: {NONNEG}")),
]


@pytest.mark.parametrize("res, change, expected", [c[1:] for c in META_CASES], ids=[c[0] for c in META_CASES])
def test_metadata(res: resources.Resource, change: Callable[[Obj], None], expected: dict[str, str]) -> None:
    obj = base_pod() if res is POD else base_deployment()
    change(obj)
    assert expected in causes(res, obj)


@pytest.mark.parametrize("name", ["ok", "a-b", "a.b", "a" * 253, "0abc"])
def test_subdomain_names_accepted(name: str) -> None:
    obj = base_pod()
    obj["metadata"]["name"] = name
    kinds.validate(POD, obj)


@pytest.mark.parametrize("res, name, message", [
    (SVC, "1web", DNS1035_MSG),
    (SVC, "my.svc", DNS1035_MSG),
    (SVC, "a" * 64, "must be no more than 63 characters"),
    (NS, "a.b", "must not contain dots"),
    (NS, "Team", LABEL_MSG),
    (NODE, "Node_1", SUBDOMAIN_MSG),
    (LEASE, "Lease!", SUBDOMAIN_MSG),
    (EP, "EP", SUBDOMAIN_MSG),
    (HPA2, "H", SUBDOMAIN_MSG),
])
def test_name_rules_per_resource(res: resources.Resource, name: str, message: str) -> None:
    obj = ready(res, {"metadata": {"name": name}, "spec": {"ports": [{"port": 80}], "maxReplicas": 1,
                                                           "scaleTargetRef": {"kind": "D", "name": "d"}}})
    assert C("metadata.name", "Invalid", f'Invalid value: "{name}": {message}') in causes(res, obj)


def test_cluster_scoped_objects_have_no_namespace() -> None:
    node = ready(NODE, {"metadata": {"name": "n", "namespace": "default"}}, namespace=None)
    assert causes(NODE, node) == [C("metadata.namespace", "Forbidden", "Forbidden: not allowed on this type")]


@pytest.mark.parametrize("name, prefix, result", [
    ("web", False, None),
    ("web-", True, None),
    ("web-", False, SUBDOMAIN_MSG),
    ("Web", False, SUBDOMAIN_MSG),
    ("-", True, SUBDOMAIN_MSG),
])
def test_validate_name(name: str, prefix: bool, result: str | None) -> None:
    assert kinds.validate_name(POD, name, prefix) == result
    assert kinds.name_errors(POD, name, prefix) == ([result] if result else [])


def test_validate_name_uses_resource_rule() -> None:
    assert kinds.validate_name(SVC, "1abc") == DNS1035_MSG
    assert kinds.validate_name(NS, "a.b") == "must not contain dots"
    assert kinds.validate_name(POD, "a.b") is None  # type: ignore[arg-type]


@pytest.mark.parametrize("path, value", [
    ("metadata.name", "other"), ("metadata.namespace", "other"), ("metadata.uid", "u2"),
])
def test_metadata_immutable_on_update(path: str, value: str) -> None:
    old = base_deployment()
    old["metadata"]["uid"] = "u1"
    new = copy.deepcopy(old)
    setp(new, path, value)
    assert C(path, "Invalid", f'Invalid value: "{value}": field is immutable') in causes(DEPLOY, new, old)


def test_generate_name_changed_by_an_update_is_held_to_the_create_rule() -> None:
    # Found by the fuzz suite (tests/fuzz/test_fuzz_writes.py, `update` with metadata.generateName=" "):
    # an update stored a generateName that a create refuses.
    old = base_deployment()
    new = copy.deepcopy(old)
    new["metadata"]["generateName"] = " "
    assert C("metadata.generateName", "Invalid", f'Invalid value: " ": {SUBDOMAIN_MSG}') in causes(DEPLOY, new, old)
    new["metadata"]["generateName"] = "web-"
    kinds.validate(DEPLOY, new, old)
    # One stored before the rule (unchanged by the update) does not lock the object.
    old["metadata"]["generateName"] = new["metadata"]["generateName"] = "Bad Name"
    kinds.validate(DEPLOY, new, old)


def test_update_without_uid_keeps_stored_one() -> None:
    old = base_deployment()
    old["metadata"]["uid"] = "u1"
    new = base_deployment()
    kinds.validate(DEPLOY, new, old)


def test_no_new_finalizers_while_deleting() -> None:
    old = base_pod()
    old["metadata"]["deletionTimestamp"] = "2024-01-01T00:00:00Z"
    new = copy.deepcopy(old)
    new["metadata"]["finalizers"] = ["example.com/x"]
    assert C("metadata.finalizers", "Forbidden", 'Forbidden: no new finalizers can be added if the object is being '
             'deleted, found new finalizers []string{"example.com/x"}') in causes(POD, new, old)


# ---------------------------------------------------------------------------
# pod spec (as a Pod: path prefix "spec")

S = "spec"
C0 = "spec.containers[0]"

POD_CASES = [
    ("no containers", mut("spec.containers", []), C("spec.containers", "Required", "Required value")),
    ("container name missing", mut(f"{C0}.name", DELETE), C(f"{C0}.name", "Required", "Required value")),
    ("container name not a label", mut(f"{C0}.name", "Web_1"),
     C(f"{C0}.name", "Invalid", f'Invalid value: "Web_1": {LABEL_MSG}')),
    ("container name with dots", mut(f"{C0}.name", "web.1"),
     C(f"{C0}.name", "Invalid", 'Invalid value: "web.1": must not contain dots')),
    ("image missing", mut(f"{C0}.image", ""), C(f"{C0}.image", "Required", "Required value")),
    ("image with spaces", mut(f"{C0}.image", " nginx"),
     C(f"{C0}.image", "Invalid", 'Invalid value: " nginx": must not have leading or trailing whitespace')),
    ("duplicate container", lambda p: p["spec"]["containers"].append(dict(p["spec"]["containers"][0], ports=[])),
     C("spec.containers[1].name", "Duplicate", 'Duplicate value: "web"')),
    ("init container reuses name", mut("spec.initContainers", [{"name": "web", "image": "busybox",
                                                                 "imagePullPolicy": "Always",
                                                                 "terminationMessagePolicy": "File"}]),
     C("spec.initContainers[0].name", "Duplicate", 'Duplicate value: "web"')),
    ("containerPort missing", mut(f"{C0}.ports", [{"protocol": "TCP"}]),
     C(f"{C0}.ports[0].containerPort", "Required", "Required value")),
    ("containerPort too big", mut(f"{C0}.ports[0].containerPort", 70000),
     C(f"{C0}.ports[0].containerPort", "Invalid", f"Invalid value: 70000: {PORT_RANGE}")),
    ("hostPort too big", mut(f"{C0}.ports[0].hostPort", 70000),
     C(f"{C0}.ports[0].hostPort", "Invalid", f"Invalid value: 70000: {PORT_RANGE}")),
    ("bad protocol", mut(f"{C0}.ports[0].protocol", "ICMP"),
     C(f"{C0}.ports[0].protocol", "Unsupported", 'Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"')),
    ("protocol missing", mut(f"{C0}.ports[0].protocol", ""), C(f"{C0}.ports[0].protocol", "Required", "Required value")),
    ("port name uppercase", mut(f"{C0}.ports[0].name", "HTTP"),
     C(f"{C0}.ports[0].name", "Invalid",
       'Invalid value: "HTTP": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)')),
    ("port name digits only", mut(f"{C0}.ports[0].name", "8080"),
     C(f"{C0}.ports[0].name", "Invalid", 'Invalid value: "8080": must contain at least one letter (a-z)')),
    ("port name too long", mut(f"{C0}.ports[0].name", "a" * 16),
     C(f"{C0}.ports[0].name", "Invalid", f'Invalid value: "{"a" * 16}": must be no more than 15 characters')),
    ("port name double hyphen", mut(f"{C0}.ports[0].name", "a--b"),
     C(f"{C0}.ports[0].name", "Invalid", 'Invalid value: "a--b": must not contain consecutive hyphens')),
    ("duplicate port names", mut(f"{C0}.ports", [{"containerPort": 80, "name": "http", "protocol": "TCP"},
                                                 {"containerPort": 81, "name": "http", "protocol": "TCP"}]),
     C(f"{C0}.ports[1].name", "Duplicate", 'Duplicate value: "http"')),
    ("host port conflict", lambda p: p["spec"]["containers"].extend([
        {"name": "a", "image": "i", "imagePullPolicy": "Always", "terminationMessagePolicy": "File",
         "ports": [{"containerPort": 1, "hostPort": 8080, "protocol": "TCP"}]},
        {"name": "b", "image": "i", "imagePullPolicy": "Always", "terminationMessagePolicy": "File",
         "ports": [{"containerPort": 2, "hostPort": 8080, "protocol": "TCP"}]}]),
     C("spec.containers[2].ports[0].hostPort", "Duplicate", 'Duplicate value: "TCP//8080"')),
    ("env name missing", mut(f"{C0}.env", [{"value": "x"}]), C(f"{C0}.env[0].name", "Required", "Required value")),
    ("env name with =", mut(f"{C0}.env", [{"name": "A=B"}]),
     C(f"{C0}.env[0].name", "Invalid", 'Invalid value: "A=B": a valid environment variable name must consist only '
       "of printable ASCII characters other than '='")),
    ("env valueFrom empty", mut(f"{C0}.env", [{"name": "A", "valueFrom": {}}]),
     C(f"{C0}.env[0].valueFrom", "Invalid", 'Invalid value: "": must specify one of: `fieldRef`, `resourceFieldRef`, '
       "`configMapKeyRef` or `secretKeyRef`")),
    ("env value and valueFrom", mut(f"{C0}.env", [{"name": "A", "value": "x", "valueFrom": {
        "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}}}]),
     C(f"{C0}.env[0].valueFrom", "Invalid", 'Invalid value: "": may not be specified when `value` is not empty')),
    ("env fieldRef unsupported", mut(f"{C0}.env", [{"name": "A", "valueFrom": {
        "fieldRef": {"apiVersion": "v1", "fieldPath": "status.phase"}}}]),
     C(f"{C0}.env[0].valueFrom.fieldRef.fieldPath", "Unsupported", 'Unsupported value: "status.phase": supported '
       'values: "metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName", "spec.serviceAccountName", '
       '"status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs"')),
    ("env fieldRef unknown", mut(f"{C0}.env", [{"name": "A", "valueFrom": {
        "fieldRef": {"apiVersion": "v1", "fieldPath": "spec.foo"}}}]),
     C(f"{C0}.env[0].valueFrom.fieldRef.fieldPath", "Invalid",
       'Invalid value: "spec.foo": error converting fieldPath: field label not supported: spec.foo')),
    ("env configMapKeyRef without key", mut(f"{C0}.env", [{"name": "A", "valueFrom": {"configMapKeyRef": {"name": "c"}}}]),
     C(f"{C0}.env[0].valueFrom.configMapKeyRef.key", "Required", "Required value")),
    ("envFrom empty", mut(f"{C0}.envFrom", [{}]),
     C(f"{C0}.envFrom", "Invalid", 'Invalid value: "": must specify one of: `configMapRef` or `secretRef`')),
    ("quantity unparsable", mut(f"{C0}.resources", {"limits": {"cpu": "abc"}}),
     C(f"{C0}.resources.limits[cpu]", "Invalid", f'Invalid value: "abc": {QUANTITY_MSG}')),
    ("quantity unparsable number", mut(f"{C0}.resources", {"requests": {"memory": "12 Mi"}}),
     C(f"{C0}.resources.requests[memory]", "Invalid", f'Invalid value: "12 Mi": {QUANTITY_MSG}')),
    ("quantity negative", mut(f"{C0}.resources", {"requests": {"cpu": "-1"}}),
     C(f"{C0}.resources.requests[cpu]", "Invalid", f'Invalid value: "-1": {NONNEG}')),
    ("request above limit", mut(f"{C0}.resources", {"limits": {"cpu": "300m"}, "requests": {"cpu": 0.5}}),
     C(f"{C0}.resources.requests", "Invalid", 'Invalid value: "500m": must be less than or equal to cpu limit of 300m')),
    ("memory request above limit", mut(f"{C0}.resources", {"limits": {"memory": "400Mi"}, "requests": {"memory": "1Gi"}}),
     C(f"{C0}.resources.requests", "Invalid",
       'Invalid value: "1Gi": must be less than or equal to memory limit of 400Mi')),
    ("unknown resource", mut(f"{C0}.resources", {"limits": {"gpu": "1"}}),
     C(f"{C0}.resources.limits[gpu]", "Invalid", 'Invalid value: "gpu": must be a standard resource for containers')),
    ("extended resource fraction", mut(f"{C0}.resources", {"limits": {"example.com/gpu": "500m"},
                                                           "requests": {"example.com/gpu": "500m"}}),
     C(f"{C0}.resources.limits[example.com/gpu]", "Invalid", 'Invalid value: "500m": must be an integer')),
    ("extended resource without limit", mut(f"{C0}.resources", {"requests": {"example.com/gpu": "1"}}),
     C(f"{C0}.resources.limits", "Required", "Required value: Limit must be set for non overcommitable resources")),
    ("volume name duplicate", mut("spec.volumes", [{"name": "v", "emptyDir": {}}, {"name": "v", "emptyDir": {}}]),
     C("spec.volumes[1].name", "Duplicate", 'Duplicate value: "v"')),
    ("volume name invalid", mut("spec.volumes", [{"name": "V", "emptyDir": {}}]),
     C("spec.volumes[0].name", "Invalid", f'Invalid value: "V": {LABEL_MSG}')),
    ("volume name missing", mut("spec.volumes", [{"emptyDir": {}}]),
     C("spec.volumes[0].name", "Required", "Required value")),
    ("volume with two sources", mut("spec.volumes", [{"name": "v", "emptyDir": {}, "hostPath": {"path": "/x", "type": ""}}]),
     C("spec.volumes[0].hostPath", "Forbidden", "Forbidden: may not specify more than 1 volume type")),
    ("volume without source", mut("spec.volumes", [{"name": "v"}]),
     C("spec.volumes[0]", "Required", "Required value: must specify a volume type")),
    ("hostPath without path", mut("spec.volumes", [{"name": "v", "hostPath": {"type": ""}}]),
     C("spec.volumes[0].hostPath.path", "Required", "Required value")),
    ("hostPath with backsteps", mut("spec.volumes", [{"name": "v", "hostPath": {"path": "/a/../b", "type": ""}}]),
     C("spec.volumes[0].hostPath.path", "Invalid", "Invalid value: \"/a/../b\": must not contain '..'")),
    ("hostPath bad type", mut("spec.volumes", [{"name": "v", "hostPath": {"path": "/a", "type": "Dir"}}]),
     C("spec.volumes[0].hostPath.type", "Unsupported", 'Unsupported value: "Dir": supported values: "", "BlockDevice", '
       '"CharDevice", "Directory", "DirectoryOrCreate", "File", "FileOrCreate", "Socket"')),
    ("configMap without name", mut("spec.volumes", [{"name": "v", "configMap": {"defaultMode": 420}}]),
     C("spec.volumes[0].configMap.name", "Required", "Required value")),
    ("secret without name", mut("spec.volumes", [{"name": "v", "secret": {"defaultMode": 420}}]),
     C("spec.volumes[0].secret.secretName", "Required", "Required value")),
    ("secret bad mode", mut("spec.volumes", [{"name": "v", "secret": {"secretName": "s", "defaultMode": 512}}]),
     C("spec.volumes[0].secret.defaultMode", "Invalid",
       "Invalid value: 512: must be a number between 0 and 0777 (octal), both inclusive")),
    ("pvc without claim", mut("spec.volumes", [{"name": "v", "persistentVolumeClaim": {}}]),
     C("spec.volumes[0].persistentVolumeClaim.claimName", "Required", "Required value")),
    ("mount of unknown volume", mut(f"{C0}.volumeMounts", [{"name": "data", "mountPath": "/data"}]),
     C(f"{C0}.volumeMounts[0].name", "NotFound", 'Not found: "data"')),
    ("mount of invalid volume", mut("spec.volumes", [{"name": "data", "hostPath": {"type": ""}}],
                                    f"{C0}.volumeMounts", [{"name": "data", "mountPath": "/data"}]),
     C(f"{C0}.volumeMounts[0].name", "NotFound", 'Not found: "data"')),
    ("mountPath missing", mut("spec.volumes", [{"name": "v", "emptyDir": {}}], f"{C0}.volumeMounts", [{"name": "v"}]),
     C(f"{C0}.volumeMounts[0].mountPath", "Required", "Required value")),
    ("mountPath duplicate", mut("spec.volumes", [{"name": "v", "emptyDir": {}}, {"name": "w", "emptyDir": {}}],
                                f"{C0}.volumeMounts", [{"name": "v", "mountPath": "/d"}, {"name": "w", "mountPath": "/d"}]),
     C(f"{C0}.volumeMounts[1].mountPath", "Invalid", 'Invalid value: "/d": must be unique')),
    ("subPath with backsteps", mut("spec.volumes", [{"name": "v", "emptyDir": {}}],
                                   f"{C0}.volumeMounts", [{"name": "v", "mountPath": "/d", "subPath": "../x"}]),
     C(f"{C0}.volumeMounts.subPath", "Invalid", "Invalid value: \"../x\": must not contain '..'")),
    ("probe without handler", mut(f"{C0}.livenessProbe", {"periodSeconds": 10, "successThreshold": 1}),
     C(f"{C0}.livenessProbe", "Required", "Required value: must specify a handler type")),
    ("probe with two handlers", mut(f"{C0}.readinessProbe", {"exec": {"command": ["true"]}, "tcpSocket": {"port": 80}}),
     C(f"{C0}.readinessProbe.tcpSocket", "Forbidden", "Forbidden: may not specify more than 1 handler type")),
    ("probe exec without command", mut(f"{C0}.readinessProbe", {"exec": {}}),
     C(f"{C0}.readinessProbe.exec.command", "Required", "Required value")),
    ("probe port zero", mut(f"{C0}.readinessProbe", {"tcpSocket": {"port": 0}}),
     C(f"{C0}.readinessProbe.tcpSocket.port", "Invalid", f"Invalid value: 0: {PORT_RANGE}")),
    ("probe port name invalid", mut(f"{C0}.readinessProbe", {"httpGet": {"port": "HTTP", "path": "/", "scheme": "HTTP"}}),
     C(f"{C0}.readinessProbe.httpGet.port", "Invalid",
       'Invalid value: "HTTP": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)')),
    ("probe bad scheme", mut(f"{C0}.readinessProbe", {"httpGet": {"port": 80, "path": "/", "scheme": "FTP"}}),
     C(f"{C0}.readinessProbe.httpGet.scheme", "Unsupported", 'Unsupported value: "FTP": supported values: "HTTP", "HTTPS"')),
    ("probe negative period", mut(f"{C0}.readinessProbe", {"tcpSocket": {"port": 80}, "periodSeconds": -1}),
     C(f"{C0}.readinessProbe.periodSeconds", "Invalid", f"Invalid value: -1: {NONNEG}")),
    ("probe negative failureThreshold", mut(f"{C0}.readinessProbe", {"tcpSocket": {"port": 80}, "failureThreshold": -1}),
     C(f"{C0}.readinessProbe.failureThreshold", "Invalid", f"Invalid value: -1: {NONNEG}")),
    ("liveness successThreshold", mut(f"{C0}.livenessProbe", {"tcpSocket": {"port": 80}, "successThreshold": 2}),
     C(f"{C0}.livenessProbe.successThreshold", "Invalid", "Invalid value: 2: must be 1")),
    ("startup successThreshold", mut(f"{C0}.startupProbe", {"tcpSocket": {"port": 80}, "successThreshold": 3}),
     C(f"{C0}.startupProbe.successThreshold", "Invalid", "Invalid value: 3: must be 1")),
    ("init container probe", mut("spec.initContainers", [{"name": "init", "image": "i", "imagePullPolicy": "Always",
                                                           "terminationMessagePolicy": "File",
                                                           "livenessProbe": {"exec": {"command": ["x"]}}}]),
     C("spec.initContainers[0].livenessProbe", "Forbidden",
       "Forbidden: may not be set for init containers without restartPolicy=Always")),
    ("init container restartPolicy", mut("spec.initContainers", [{"name": "init", "image": "i", "restartPolicy": "Never",
                                                                  "imagePullPolicy": "Always",
                                                                  "terminationMessagePolicy": "File"}]),
     C("spec.initContainers[0].restartPolicy", "Unsupported", 'Unsupported value: "Never": supported values: "Always"')),
    ("container restartPolicy", mut(f"{C0}.restartPolicy", "Always"),
     C(f"{C0}.restartPolicy", "Forbidden", "Forbidden: may not be set for non-init containers")),
    ("restartPolicy", mut("spec.restartPolicy", "Sometimes"),
     C("spec.restartPolicy", "Unsupported",
       'Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"')),
    ("dnsPolicy", mut("spec.dnsPolicy", "Foo"),
     C("spec.dnsPolicy", "Unsupported", 'Unsupported value: "Foo": supported values: "ClusterFirstWithHostNet", '
       '"ClusterFirst", "Default", "None"')),
    ("dnsPolicy None needs config", mut("spec.dnsPolicy", "None"),
     C("spec.dnsConfig", "Required", "Required value: must provide `dnsConfig` when `dnsPolicy` is None")),
    ("imagePullPolicy", mut(f"{C0}.imagePullPolicy", "Sometimes"),
     C(f"{C0}.imagePullPolicy", "Unsupported",
       'Unsupported value: "Sometimes": supported values: "Always", "IfNotPresent", "Never"')),
    ("imagePullPolicy missing", mut(f"{C0}.imagePullPolicy", ""), C(f"{C0}.imagePullPolicy", "Required", "Required value")),
    ("terminationMessagePolicy", mut(f"{C0}.terminationMessagePolicy", "Log"),
     C(f"{C0}.terminationMessagePolicy", "Unsupported",
       'Unsupported value: "Log": supported values: "File", "FallbackToLogsOnError"')),
    ("nodeSelector bad key", mut("spec.nodeSelector", {"disk type": "ssd"}),
     C("spec.nodeSelector", "Invalid", f'Invalid value: "disk type": {LABEL_KEY_MSG}')),
    ("toleration empty key needs Exists", mut("spec.tolerations", [{"operator": "Equal", "value": "x"}]),
     C("spec.tolerations[0].operator", "Invalid", 'Invalid value: "Equal": operator must be Exists when `key` is empty, '
       'which means "match all values and all keys"')),
    ("toleration bad operator", mut("spec.tolerations", [{"key": "k", "operator": "In"}]),
     C("spec.tolerations[0].operator", "Unsupported", 'Unsupported value: "In": supported values: "Equal", "Exists"')),
    ("toleration Exists with value", mut("spec.tolerations", [{"key": "k", "operator": "Exists", "value": "v"}]),
     C("spec.tolerations[0].operator", "Invalid", "Invalid value: \"v\": value must be empty when `operator` is 'Exists'")),
    ("toleration bad effect", mut("spec.tolerations", [{"key": "k", "operator": "Exists", "effect": "Evict"}]),
     C("spec.tolerations[0].effect", "Unsupported",
       'Unsupported value: "Evict": supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"')),
    ("tolerationSeconds needs NoExecute", mut("spec.tolerations", [{"key": "k", "operator": "Exists",
                                                                    "effect": "NoSchedule", "tolerationSeconds": 5}]),
     C("spec.tolerations[0].effect", "Invalid",
       "Invalid value: \"NoSchedule\": effect must be 'NoExecute' when `tolerationSeconds` is set")),
    ("affinity bad operator", mut("spec.affinity", {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchExpressions": [{"key": "zone", "operator": "Foo"}]}]}}}),
     C("spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0]"
       ".matchExpressions[0].operator", "Invalid", 'Invalid value: "Foo": not a valid selector operator')),
    ("affinity In without values", mut("spec.affinity", {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchExpressions": [{"key": "zone", "operator": "In"}]}]}}}),
     C("spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0]"
       ".matchExpressions[0].values", "Required",
       "Required value: must be specified when `operator` is 'In' or 'NotIn'")),
    ("affinity Exists with values", mut("spec.affinity", {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchExpressions": [{"key": "zone", "operator": "Exists", "values": ["a"]}]}]}}}),
     C("spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0]"
       ".matchExpressions[0].values", "Forbidden",
       "Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'")),
    ("affinity Gt with two values", mut("spec.affinity", {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchExpressions": [{"key": "cpus", "operator": "Gt", "values": ["1", "2"]}]}]}}}),
     C("spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0]"
       ".matchExpressions[0].values", "Required",
       "Required value: must be specified single value when `operator` is 'Lt' or 'Gt'")),
    ("affinity no terms", mut("spec.affinity", {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": []}}}),
     C("spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms", "Required",
       "Required value: must have at least one node selector term")),
    ("affinity weight", mut("spec.affinity", {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": 0, "preference": {"matchExpressions": [{"key": "zone", "operator": "Exists"}]}}]}}),
     C("spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight", "Invalid",
       "Invalid value: 0: must be in the range 1-100")),
    ("pod affinity topologyKey", mut("spec.affinity", {"podAntiAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": [{"labelSelector": {"matchLabels": {"app": "web"}}}]}}),
     C("spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey", "Required",
       "Required value: can not be empty")),
    ("terminationGracePeriodSeconds negative", mut("spec.terminationGracePeriodSeconds", -1),
     C("spec.terminationGracePeriodSeconds", "Invalid", f"Invalid value: -1: {NONNEG}")),
    ("terminationGracePeriodSeconds missing", mut("spec.terminationGracePeriodSeconds", DELETE),
     C("spec.terminationGracePeriodSeconds", "Required", "Required value")),
    ("activeDeadlineSeconds zero", mut("spec.activeDeadlineSeconds", 0),
     C("spec.activeDeadlineSeconds", "Invalid", "Invalid value: 0: must be between 1 and 2147483647, inclusive")),
    ("hostNetwork port mismatch", mut("spec.hostNetwork", True, f"{C0}.ports[0].hostPort", 8080),
     C(f"{C0}.ports[0].hostPort", "Invalid", "Invalid value: 8080: must match `containerPort` when `hostNetwork` is true")),
    ("serviceAccountName", mut("spec.serviceAccountName", "Default"),
     C("spec.serviceAccountName", "Invalid", f'Invalid value: "Default": {SUBDOMAIN_MSG}')),
    ("nodeName", mut("spec.nodeName", "Node_1"),
     C("spec.nodeName", "Invalid", f'Invalid value: "Node_1": {SUBDOMAIN_MSG}')),
    ("hostname", mut("spec.hostname", "a.b"), C("spec.hostname", "Invalid", 'Invalid value: "a.b": must not contain dots')),
    ("preemptionPolicy", mut("spec.preemptionPolicy", "Always"),
     C("spec.preemptionPolicy", "Unsupported",
       'Unsupported value: "Always": supported values: "PreemptLowerPriority", "Never"')),
    ("runAsUser", mut(f"{C0}.securityContext", {"runAsUser": -1}),
     C(f"{C0}.securityContext.runAsUser", "Invalid", "Invalid value: -1: must be between 0 and 4294967295, inclusive")),
]


@pytest.mark.parametrize("change, expected", [c[1:] for c in POD_CASES], ids=[c[0] for c in POD_CASES])
def test_pod_spec(change: Callable[[Obj], None], expected: dict[str, str]) -> None:
    obj = base_pod()
    change(obj)
    assert expected in causes(POD, obj)


POD_ONLY = {"image with spaces"}  # validateContainersOnlyForPod
TEMPLATE_CASES = [c for c in POD_CASES if c[0] not in POD_ONLY]


@pytest.mark.parametrize("change, expected", [c[1:] for c in TEMPLATE_CASES], ids=[c[0] for c in TEMPLATE_CASES])
def test_pod_template_spec(change: Callable[[Obj], None], expected: dict[str, str]) -> None:
    """The same rules inside a Deployment's template, under spec.template.spec."""
    pod = base_pod()
    change(pod)
    d = base_deployment()
    d["spec"]["template"]["spec"] = pod["spec"]
    want = dict(expected, field="spec.template." + expected["field"])
    assert want in causes(DEPLOY, d)


def test_template_image_whitespace_allowed() -> None:
    d = base_deployment()
    d["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx "
    kinds.validate(DEPLOY, d)


def test_template_host_network_allows_unset_host_port() -> None:
    d = base_deployment()
    d["spec"]["template"]["spec"]["hostNetwork"] = True
    kinds.validate(DEPLOY, d)
    pod = base_pod()
    pod["spec"]["hostNetwork"] = True
    assert causes(POD, pod) == [C(f"{C0}.ports[0].hostPort", "Invalid",
                                  "Invalid value: 0: must match `containerPort` when `hostNetwork` is true")]


@pytest.mark.parametrize("resources_", [
    {"limits": {"cpu": 0.3, "memory": "400Mi"}, "requests": {"cpu": "300m", "memory": "300Mi"}},
    {"limits": {"cpu": "1"}, "requests": {"cpu": "1000m"}},
    {"limits": {"ephemeral-storage": "1Gi", "hugepages-2Mi": "2Mi", "memory": "1Gi"},
     "requests": {"hugepages-2Mi": "2Mi"}},
    {"limits": {"example.com/gpu": 2}, "requests": {"example.com/gpu": "2"}},
    {"requests": {"cpu": "2e3"}},
])
def test_valid_resources(resources_: Obj) -> None:
    pod = base_pod()
    pod["spec"]["containers"][0]["resources"] = resources_
    kinds.validate(POD, ready(POD, pod))


def test_valid_probes_and_volumes() -> None:
    pod = base_pod()
    c = pod["spec"]["containers"][0]
    c["livenessProbe"] = {"httpGet": {"port": "http"}}
    c["readinessProbe"] = {"exec": {"command": ["cat", "/tmp/ready"]}, "successThreshold": 3}
    c["startupProbe"] = {"grpc": {"port": 9000}}
    c["volumeMounts"] = [{"name": "data", "mountPath": "/data"}, {"name": "cfg", "mountPath": "/etc/cfg"}]
    pod["spec"]["volumes"] = [{"name": "data", "hostPath": {"path": "/srv"}}, {"name": "cfg", "configMap": {"name": "c"}}]
    pod["spec"]["initContainers"] = [{"name": "sidecar", "image": "envoy", "restartPolicy": "Always",
                                      "readinessProbe": {"tcpSocket": {"port": 9901}}}]
    kinds.validate(POD, ready(POD, pod))


# ---------------------------------------------------------------------------
# pod updates


def pod_update(change: Callable[[Obj], None], old: Obj | None = None) -> tuple[Obj, Obj]:
    old = old or base_pod()
    new = copy.deepcopy(old)
    change(new)
    return new, old


FORBIDDEN_PREFIX = ("Forbidden: pod updates may not change fields other than `spec.containers[*].image`,"
                    "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions "
                    "to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was "
                    "previously negative)\n")


@pytest.mark.parametrize("change", [
    mut(f"{C0}.image", "nginx:1.26"),
    mut("spec.activeDeadlineSeconds", 30),
    lambda p: p["spec"]["tolerations"].append({"key": "gpu", "operator": "Exists"}),
    lambda p: p["spec"]["tolerations"][0].__setitem__("tolerationSeconds", 60),
    mut("metadata.labels", {"app": "web", "tier": "front"}),
    mut("spec.nodeName", "node-1"),  # the first binding
])
def test_pod_update_allowed(change: Callable[[Obj], None]) -> None:
    kinds.validate(POD, *pod_update(change))


@pytest.mark.parametrize("change, field", [
    (mut("spec.dnsPolicy", "Default"), "spec"),
    (mut(f"{C0}.ports[0].containerPort", 8080), "spec"),
    (mut("spec.terminationGracePeriodSeconds", 5), "spec"),
    (mut("spec.restartPolicy", "Never"), "spec"),
    (mut(f"{C0}.env", [{"name": "A", "value": "b"}]), "spec"),
])
def test_pod_update_forbidden(change: Callable[[Obj], None], field: str) -> None:
    found = causes(POD, *pod_update(change))
    assert [c["field"] for c in found] == [field]
    assert found[0]["reason"] == "FieldValueForbidden"
    assert found[0]["message"].startswith(FORBIDDEN_PREFIX)


def test_pod_update_diff_names_the_field() -> None:
    found = causes(POD, *pod_update(mut("spec.dnsPolicy", "Default")))
    assert '- \tdnsPolicy: "ClusterFirst",\n+ \tdnsPolicy: "Default",' in found[0]["message"]


def test_pod_node_name_fixed_once_set() -> None:
    bound = base_pod()
    bound["spec"]["nodeName"] = "node-1"
    found = causes(POD, *pod_update(mut("spec.nodeName", "node-2"), old=bound))
    assert found[0]["field"] == "spec" and found[0]["message"].startswith(FORBIDDEN_PREFIX)


@pytest.mark.parametrize("change, expected", [
    (lambda p: p["spec"]["containers"].append({"name": "b", "image": "i", "imagePullPolicy": "Always",
                                               "terminationMessagePolicy": "File"}),
     C("spec.containers", "Forbidden", "Forbidden: pod updates may not add or remove containers")),
    (mut(f"{C0}.image", ""), C(f"{C0}.image", "Required", "Required value")),
    (lambda p: p["spec"]["tolerations"].pop(0),
     C("spec.tolerations", "Forbidden", "Forbidden: existing toleration can not be modified except its tolerationSeconds")),
])
def test_pod_update_rules(change: Callable[[Obj], None], expected: dict[str, str]) -> None:
    assert expected in causes(POD, *pod_update(change))


def test_active_deadline_may_only_shrink() -> None:
    old = base_pod()
    old["spec"]["activeDeadlineSeconds"] = 30
    assert causes(POD, *pod_update(mut("spec.activeDeadlineSeconds", 60), old=old)) == [
        C("spec.activeDeadlineSeconds", "Invalid", "Invalid value: 60: must be less than or equal to previous value")]
    kinds.validate(POD, *pod_update(mut("spec.activeDeadlineSeconds", 10), old=old))
    assert C("spec.activeDeadlineSeconds", "Invalid",
             "Invalid value: null: must not update from a positive integer to nil value") in causes(
        POD, *pod_update(mut("spec.activeDeadlineSeconds", DELETE), old=old))


def test_grace_period_negative_may_become_one() -> None:
    old = base_pod()
    old["spec"]["terminationGracePeriodSeconds"] = -1
    new, _ = pod_update(mut("spec.terminationGracePeriodSeconds", 1), old=old)
    kinds.validate(POD, new, old)


# ---------------------------------------------------------------------------
# Deployments and ReplicaSets

T = "spec.template"
SEED_LABELS = 'map[string]string{"app":"vdata-imp"}'

DEPLOY_CASES = [
    ("replicas negative", mut("spec.replicas", -1), C("spec.replicas", "Invalid", f"Invalid value: -1: {NONNEG}")),
    ("selector missing", mut("spec.selector", DELETE), C("spec.selector", "Required", "Required value")),
    ("selector missing also mismatches", mut("spec.selector", DELETE),
     C(f"{T}.metadata.labels", "Invalid", f"Invalid value: {SEED_LABELS}: `selector` does not match template `labels`")),
    ("selector empty", mut("spec.selector", {}),
     C("spec.selector", "Invalid", "Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), "
       "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for deployment")),
    ("selector mismatch", mut("spec.selector.matchLabels", {"app": "other"}),
     C(f"{T}.metadata.labels", "Invalid", f"Invalid value: {SEED_LABELS}: `selector` does not match template `labels`")),
    ("selector expression mismatch", mut("spec.selector", {"matchExpressions": [
        {"key": "app", "operator": "NotIn", "values": ["vdata-imp"]}]}),
     C(f"{T}.metadata.labels", "Invalid", f"Invalid value: {SEED_LABELS}: `selector` does not match template `labels`")),
    ("selector bad operator", mut("spec.selector", {"matchExpressions": [{"key": "app", "operator": "Has"}]}),
     C("spec.selector.matchExpressions[0].operator", "Invalid", 'Invalid value: "Has": not a valid selector operator')),
    ("selector In without values", mut("spec.selector", {"matchLabels": {"app": "vdata-imp"}, "matchExpressions": [
        {"key": "tier", "operator": "In"}]}),
     C("spec.selector.matchExpressions[0].values", "Required",
       "Required value: must be specified when `operator` is 'In' or 'NotIn'")),
    ("selector bad label value", mut("spec.selector.matchLabels", {"app": "bad value"}),
     C("spec.selector.matchLabels", "Invalid", 'Invalid value: "bad value": a valid label must be an empty string or '
       "consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character "
       "(e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is "
       "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')")),
    ("template labels invalid", mut(f"{T}.metadata.labels", {"app": "vdata-imp", "bad key": "x"}),
     C(f"{T}.labels", "Invalid", f'Invalid value: "bad key": {LABEL_KEY_MSG}')),
    ("template restartPolicy", mut(f"{T}.spec.restartPolicy", "Never"),
     C(f"{T}.spec.restartPolicy", "Unsupported", 'Unsupported value: "Never": supported values: "Always"')),
    ("template activeDeadlineSeconds", mut(f"{T}.spec.activeDeadlineSeconds", 10),
     C(f"{T}.spec.activeDeadlineSeconds", "Forbidden", "Forbidden: activeDeadlineSeconds in ReplicaSet is not Supported")),
    ("template ephemeral containers", mut(f"{T}.spec.ephemeralContainers", [{"name": "dbg", "image": "busybox"}]),
     C(f"{T}.spec.ephemeralContainers", "Forbidden", "Forbidden: ephemeral containers not allowed in pod template")),
    ("strategy type", mut("spec.strategy", {"type": "Foo"}),
     C("spec.strategy", "Unsupported", 'Unsupported value: apps.DeploymentStrategy{Type:"Foo", '
       'RollingUpdate:(*apps.RollingUpdateDeployment)(nil)}: supported values: "Recreate", "RollingUpdate"')),
    ("Recreate with rollingUpdate", mut("spec.strategy.type", "Recreate"),
     C("spec.strategy.rollingUpdate", "Forbidden", "Forbidden: may not be specified when strategy `type` is 'Recreate'")),
    ("RollingUpdate without parameters", mut("spec.strategy.rollingUpdate", DELETE),
     C("spec.strategy.rollingUpdate", "Required", "Required value: this should be defaulted and never be nil")),
    ("maxSurge not a percent", mut("spec.strategy.rollingUpdate.maxSurge", "abc"),
     C("spec.strategy.rollingUpdate.maxSurge", "Invalid",
       f'Invalid value: intstr.IntOrString{{Type:1, IntVal:0, StrVal:"abc"}}: {PERCENT_MSG}')),
    ("maxUnavailable negative", mut("spec.strategy.rollingUpdate.maxUnavailable", -1),
     C("spec.strategy.rollingUpdate.maxUnavailable", "Invalid", f"Invalid value: -1: {NONNEG}")),
    ("both zero", mut("spec.strategy.rollingUpdate", {"maxSurge": 0, "maxUnavailable": "0%"}),
     C("spec.strategy.rollingUpdate.maxUnavailable", "Invalid",
       'Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:"0%"}: may not be 0 when `maxSurge` is 0')),
    ("maxUnavailable over 100%", mut("spec.strategy.rollingUpdate.maxUnavailable", "150%"),
     C("spec.strategy.rollingUpdate.maxUnavailable", "Invalid",
       'Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:"150%"}: must not be greater than 100%')),
    ("minReadySeconds negative", mut("spec.minReadySeconds", -1),
     C("spec.minReadySeconds", "Invalid", f"Invalid value: -1: {NONNEG}")),
    ("revisionHistoryLimit negative", mut("spec.revisionHistoryLimit", -1),
     C("spec.revisionHistoryLimit", "Invalid", f"Invalid value: -1: {NONNEG}")),
    ("progressDeadline not above minReady", mut("spec.progressDeadlineSeconds", 100),
     C("spec.progressDeadlineSeconds", "Invalid", "Invalid value: 100: must be greater than minReadySeconds")),
    ("container image in template", mut(f"{T}.spec.containers[0].image", ""),
     C(f"{T}.spec.containers[0].image", "Required", "Required value")),
]


@pytest.mark.parametrize("change, expected", [c[1:] for c in DEPLOY_CASES], ids=[c[0] for c in DEPLOY_CASES])
def test_deployment(change: Callable[[Obj], None], expected: dict[str, str]) -> None:
    obj = base_deployment()
    change(obj)
    assert expected in causes(DEPLOY, obj)


@pytest.mark.parametrize("strategy", [
    {"type": "Recreate"},
    {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
    {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "0%", "maxUnavailable": "100%"}},
])
def test_valid_strategies(strategy: Obj) -> None:
    d = base_deployment()
    d["spec"]["strategy"] = strategy
    kinds.validate(DEPLOY, d)


def test_invalid_selector_skips_template_checks() -> None:
    d = base_deployment()
    d["spec"]["selector"] = {"matchExpressions": [{"key": "app", "operator": "Has"}]}
    d["spec"]["template"]["spec"]["containers"][0]["image"] = ""
    assert causes(DEPLOY, d) == [
        C("spec.selector.matchExpressions[0].operator", "Invalid", 'Invalid value: "Has": not a valid selector operator'),
        C("spec.selector", "Invalid", 'Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), '
          'MatchExpressions:[]v1.LabelSelectorRequirement{v1.LabelSelectorRequirement{Key:"app", Operator:"Has", '
          'Values:[]string(nil)}}}: invalid label selector'),
    ]


@pytest.mark.parametrize("res, make", [(DEPLOY, base_deployment), (RS, base_rs)])
def test_selector_immutable_on_update(res: resources.Resource, make: Callable[[], Obj]) -> None:
    old = make()
    new = copy.deepcopy(old)
    new["spec"]["selector"]["matchLabels"]["tier"] = "web"
    new["spec"]["template"]["metadata"]["labels"]["tier"] = "web"
    assert causes(res, new, old) == [C("spec.selector", "Invalid", 'Invalid value: v1.LabelSelector{MatchLabels:'
                                       'map[string]string{"app":"vdata-imp", "tier":"web"}, MatchExpressions:'
                                       '[]v1.LabelSelectorRequirement(nil)}: field is immutable')]


def test_deployment_update_of_template_allowed() -> None:
    old = base_deployment()
    new = copy.deepcopy(old)
    new["spec"]["template"]["spec"]["containers"][0]["image"] = "vdata-imp:99"
    new["spec"]["replicas"] = 3
    kinds.validate(DEPLOY, new, old)


RS_CASES = [
    ("replicas negative", mut("spec.replicas", -1), C("spec.replicas", "Invalid", f"Invalid value: -1: {NONNEG}")),
    ("minReadySeconds negative", mut("spec.minReadySeconds", -5),
     C("spec.minReadySeconds", "Invalid", f"Invalid value: -5: {NONNEG}")),
    ("selector empty", mut("spec.selector", {"matchLabels": {}}),
     C("spec.selector", "Invalid", "Invalid value: v1.LabelSelector{MatchLabels:map[string]string{}, "
       "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for deployment")),
    ("selector mismatch", mut("spec.selector.matchLabels.app", "x"),
     C(f"{T}.metadata.labels", "Invalid", f"Invalid value: {SEED_LABELS}: `selector` does not match template `labels`")),
    ("template restartPolicy", mut(f"{T}.spec.restartPolicy", "OnFailure"),
     C(f"{T}.spec.restartPolicy", "Unsupported", 'Unsupported value: "OnFailure": supported values: "Always"')),
]


@pytest.mark.parametrize("change, expected", [c[1:] for c in RS_CASES], ids=[c[0] for c in RS_CASES])
def test_replica_set(change: Callable[[Obj], None], expected: dict[str, str]) -> None:
    obj = base_rs()
    change(obj)
    assert expected in causes(RS, obj)


RC_CASES = [
    ("replicas negative", mut("spec.replicas", -1), C("spec.replicas", "Invalid", f"Invalid value: -1: {NONNEG}")),
    ("selector empty", mut("spec.selector", {}), C("spec.selector", "Required", "Required value")),
    ("selector mismatch", mut("spec.selector", {"app": "x"}),
     C(f"{T}.metadata.labels", "Invalid",
       'Invalid value: map[string]string{"app":"rc"}: `selector` does not match template `labels`')),
    ("template missing", mut("spec.template", DELETE), C(f"{T}", "Required", "Required value")),
    ("template restartPolicy", mut(f"{T}.spec.restartPolicy", "Never"),
     C(f"{T}.spec.restartPolicy", "Unsupported", 'Unsupported value: "Never": supported values: "Always"')),
    ("template activeDeadlineSeconds", mut(f"{T}.spec.activeDeadlineSeconds", 5),
     C(f"{T}.spec.activeDeadlineSeconds", "Forbidden",
       "Forbidden: activeDeadlineSeconds in ReplicationController is not Supported")),
    ("minReadySeconds negative", mut("spec.minReadySeconds", -1),
     C("spec.minReadySeconds", "Invalid", f"Invalid value: -1: {NONNEG}")),
]


@pytest.mark.parametrize("change, expected", [c[1:] for c in RC_CASES], ids=[c[0] for c in RC_CASES])
def test_replication_controller(change: Callable[[Obj], None], expected: dict[str, str]) -> None:
    obj = base_rc()
    change(obj)
    assert expected in causes(RC, obj)


def test_replication_controller_selector_may_change() -> None:
    old = base_rc()
    new = copy.deepcopy(old)
    new["spec"]["selector"] = {"app": "rc", "v": "2"}
    new["spec"]["template"]["metadata"]["labels"]["v"] = "2"
    kinds.validate(RC, new, old)


# ---------------------------------------------------------------------------
# Services

SVC_CASES = [
    ("ports missing", mut("spec.ports", []), C("spec.ports", "Required", "Required value")),
    ("port zero", mut("spec.ports[0].port", 0), C("spec.ports[0].port", "Invalid", f"Invalid value: 0: {PORT_RANGE}")),
    ("port too big", mut("spec.ports[0].port", 70000),
     C("spec.ports[0].port", "Invalid", f"Invalid value: 70000: {PORT_RANGE}")),
    ("second port unnamed", lambda s: s["spec"]["ports"].append({"name": "b", "port": 81, "protocol": "TCP",
                                                                 "targetPort": 81}),
     C("spec.ports[0].name", "Required", "Required value")),
    ("port names duplicate", mut("spec.ports", [{"name": "a", "port": 80, "protocol": "TCP", "targetPort": 80},
                                                {"name": "a", "port": 81, "protocol": "TCP", "targetPort": 81}]),
     C("spec.ports[1].name", "Duplicate", 'Duplicate value: "a"')),
    ("port name not a label", mut("spec.ports[0].name", "Web"),
     C("spec.ports[0].name", "Invalid", f'Invalid value: "Web": {LABEL_MSG}')),
    ("same port twice", mut("spec.ports", [{"name": "a", "port": 80, "protocol": "TCP", "targetPort": 80},
                                           {"name": "b", "port": 80, "protocol": "TCP", "targetPort": 81}]),
     C("spec.ports[1]", "Duplicate", 'Duplicate value: core.ServicePort{Name:"", Protocol:"TCP", AppProtocol:'
       '(*string)(nil), Port:80, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}')),
    ("protocol", mut("spec.ports[0].protocol", "HTTP"),
     C("spec.ports[0].protocol", "Unsupported", 'Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"')),
    ("targetPort too big", mut("spec.ports[0].targetPort", 70000),
     C("spec.ports[0].targetPort", "Invalid", f"Invalid value: 70000: {PORT_RANGE}")),
    ("targetPort bad name", mut("spec.ports[0].targetPort", "web_port"),
     C("spec.ports[0].targetPort", "Invalid",
       'Invalid value: "web_port": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)')),
    ("nodePort on ClusterIP", mut("spec.ports[0].nodePort", 30080),
     C("spec.ports[0].nodePort", "Forbidden", "Forbidden: may not be used when `type` is 'ClusterIP'")),
    ("nodePort out of range", mut("spec.type", "NodePort", "spec.externalTrafficPolicy", "Cluster",
                                  "spec.ports[0].nodePort", 80),
     C("spec.ports[0].nodePort", "Invalid",
       "Invalid value: 80: provided port is not in the valid range. The range of valid ports is 30000-32767")),
    ("nodePort duplicate", mut("spec.type", "NodePort", "spec.externalTrafficPolicy", "Cluster", "spec.ports", [
        {"name": "a", "port": 80, "protocol": "TCP", "targetPort": 80, "nodePort": 30080},
        {"name": "b", "port": 81, "protocol": "TCP", "targetPort": 81, "nodePort": 30080}]),
     C("spec.ports[1].nodePort", "Duplicate", "Duplicate value: 30080")),
    ("type", mut("spec.type", "Internal"),
     C("spec.type", "Unsupported",
       'Unsupported value: "Internal": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"')),
    ("type missing", mut("spec.type", ""), C("spec.type", "Required", "Required value")),
    ("externalName missing", mut("spec.type", "ExternalName", "spec.internalTrafficPolicy", DELETE,
                                 "spec.ipFamilies", DELETE, "spec.ipFamilyPolicy", DELETE),
     C("spec.externalName", "Required", "Required value")),
    ("externalName invalid", mut("spec.type", "ExternalName", "spec.externalName", "Bad_Host",
                                 "spec.ipFamilies", DELETE, "spec.ipFamilyPolicy", DELETE),
     C("spec.externalName", "Invalid", f'Invalid value: "Bad_Host": {SUBDOMAIN_MSG}')),
    ("ExternalName with ipFamilies", mut("spec.type", "ExternalName", "spec.externalName", "db.example.com"),
     C("spec.ipFamilies", "Forbidden", "Forbidden: may not be set for ExternalName services")),
    ("clusterIP invalid", mut("spec.clusterIP", "10.0.0.300"),
     C("spec.clusterIPs[0]", "Invalid", f'Invalid value: "10.0.0.300": {IP_MSG}')),
    ("headless NodePort", mut("spec.type", "NodePort", "spec.externalTrafficPolicy", "Cluster", "spec.clusterIP", "None"),
     C("spec.clusterIPs[0]", "Invalid", "Invalid value: \"None\": may not be set to 'None' for NodePort services")),
    ("sessionAffinity", mut("spec.sessionAffinity", "Sticky"),
     C("spec.sessionAffinity", "Unsupported", 'Unsupported value: "Sticky": supported values: "ClientIP", "None"')),
    ("sessionAffinity timeout", mut("spec.sessionAffinity", "ClientIP",
                                    "spec.sessionAffinityConfig", {"clientIP": {"timeoutSeconds": 0}}),
     C("spec.sessionAffinityConfig.clientIP.timeoutSeconds", "Invalid",
       "Invalid value: 0: must be greater than 0 and less than 86400")),
    ("sessionAffinityConfig with None", mut("spec.sessionAffinityConfig", {"clientIP": {"timeoutSeconds": 5}}),
     C("spec.sessionAffinityConfig", "Forbidden", "Forbidden: must not be set when session affinity is None")),
    ("selector bad value", mut("spec.selector", {"app": "a b"}),
     C("spec.selector", "Invalid", 'Invalid value: "a b": a valid label must be an empty string or consist of '
       "alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. "
       "'MyValue',  or 'my_value',  or '12345', regex used for validation is "
       "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')")),
    ("externalTrafficPolicy on ClusterIP", mut("spec.externalTrafficPolicy", "Local"),
     C("spec.externalTrafficPolicy", "Invalid",
       'Invalid value: "Local": may only be set for externally-accessible services')),
    ("externalTrafficPolicy value", mut("spec.type", "NodePort", "spec.externalTrafficPolicy", "Everywhere"),
     C("spec.externalTrafficPolicy", "Unsupported", 'Unsupported value: "Everywhere": supported values: "Cluster", "Local"')),
    ("internalTrafficPolicy missing", mut("spec.internalTrafficPolicy", DELETE),
     C("spec.internalTrafficPolicy", "Required", "Required value")),
    ("ipFamilies", mut("spec.ipFamilies", ["IPv5"]),
     C("spec.ipFamilies[0]", "Unsupported", 'Unsupported value: "IPv5": supported values: "IPv4", "IPv6"')),
    ("externalIPs", mut("spec.externalIPs", ["nope"]), C("spec.externalIPs[0]", "Invalid", f'Invalid value: "nope": {IP_MSG}')),
    ("loadBalancerSourceRanges on ClusterIP", mut("spec.loadBalancerSourceRanges", ["10.0.0.0/8"]),
     C("spec.LoadBalancerSourceRanges", "Forbidden", "Forbidden: may only be used when `type` is 'LoadBalancer'")),
]


@pytest.mark.parametrize("change, expected", [c[1:] for c in SVC_CASES], ids=[c[0] for c in SVC_CASES])
def test_service(change: Callable[[Obj], None], expected: dict[str, str]) -> None:
    obj = base_service()
    change(obj)
    assert expected in causes(SVC, obj)


def test_service_cluster_ip_immutable() -> None:
    old = base_service()
    old["spec"]["clusterIP"], old["spec"]["clusterIPs"] = "10.96.0.10", ["10.96.0.10"]
    new = copy.deepcopy(old)
    new["spec"]["clusterIP"], new["spec"]["clusterIPs"] = "10.96.0.11", ["10.96.0.11"]
    assert causes(SVC, new, old) == [C("spec.clusterIPs[0]", "Invalid",
                                       'Invalid value: []string{"10.96.0.11"}: may not change once set')]
    same = copy.deepcopy(old)
    same["spec"]["selector"] = {"app": "other"}
    kinds.validate(SVC, same, old)


def test_service_cluster_ip_may_be_allocated_on_update() -> None:
    old = base_service()
    new = copy.deepcopy(old)
    new["spec"]["clusterIP"], new["spec"]["clusterIPs"] = "10.96.0.12", ["10.96.0.12"]
    kinds.validate(SVC, new, old)


# ---------------------------------------------------------------------------
# Namespaces, Nodes, Endpoints, Events, Leases


def test_namespace_finalizers() -> None:
    ns = ready(NS, {"metadata": {"name": "team"}, "spec": {"finalizers": ["foo"]}})
    assert causes(NS, ns) == [C("spec.finalizers", "Invalid",
                                'Invalid value: "foo": name is neither a standard finalizer name nor is it fully qualified')]


def test_namespace_update_checks_metadata_only() -> None:
    old = ready(NS, {"metadata": {"name": "team"}})
    new = copy.deepcopy(old)
    new["status"]["phase"] = "Terminating"
    kinds.validate(NS, new, old)
    new["metadata"]["name"] = "other"
    assert C("metadata.name", "Invalid", 'Invalid value: "other": field is immutable') in causes(NS, new, old)


def base_node() -> Obj:
    return ready(NODE, {"metadata": {"name": "node-1"}, "spec": {"podCIDR": "10.244.1.0/24", "podCIDRs": ["10.244.1.0/24"]},
                        "status": {"capacity": {"cpu": "4", "memory": "8Gi"}}})


NODE_CASES = [
    ("taint effect missing", mut("spec.taints", [{"key": "k", "value": "v"}]),
     C("metadata.taints[0].effect", "Required", "Required value")),
    ("taint effect unknown", mut("spec.taints", [{"key": "k", "effect": "Evict"}]),
     C("metadata.taints[0].effect", "Unsupported",
       'Unsupported value: "Evict": supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"')),
    ("taint key invalid", mut("spec.taints", [{"key": "bad key", "effect": "NoSchedule"}]),
     C("metadata.taints[0].key", "Invalid", f'Invalid value: "bad key": {LABEL_KEY_MSG}')),
    ("taint duplicate", mut("spec.taints", [{"key": "k", "effect": "NoSchedule"}, {"key": "k", "effect": "NoSchedule"}]),
     C("metadata.taints[1]", "Duplicate",
       'Duplicate value: core.Taint{Key:"k", Value:"", Effect:"NoSchedule", TimeAdded:(*v1.Time)(nil)}: '
       'taints must be unique by key and effect pair')),
    ("podCIDR invalid", mut("spec.podCIDRs", ["10.244.1.0"]),
     C("spec.podCIDRs[0]", "Invalid", 'Invalid value: "10.244.1.0": must be a valid CIDR value, '
       "(e.g. 10.9.8.0/24 or 2001:db8::/64)")),
    ("capacity negative", mut("status.capacity.cpu", "-1"),
     C("status.capacity.cpu", "Invalid", f'Invalid value: "-1": {NONNEG}')),
    ("capacity unparsable", mut("status.allocatable", {"memory": "lots"}),
     C("status.allocatable.memory", "Invalid", f'Invalid value: "lots": {QUANTITY_MSG}')),
]


@pytest.mark.parametrize("change, expected", [c[1:] for c in NODE_CASES], ids=[c[0] for c in NODE_CASES])
def test_node(change: Callable[[Obj], None], expected: dict[str, str]) -> None:
    obj = base_node()
    change(obj)
    assert expected in causes(NODE, obj)


@pytest.mark.parametrize("path, value, expected", [
    ("spec.podCIDRs", ["10.244.2.0/24"], C("spec.podCIDRs", "Forbidden",
                                           'Forbidden: node updates may not change podCIDR except from "" to valid')),
    ("spec.providerID", "aws://b", C("spec.providerID", "Forbidden",
                                     'Forbidden: node updates may not change providerID except from "" to valid')),
])
def test_node_update(path: str, value: Any, expected: dict[str, str]) -> None:
    old = base_node()
    old["spec"]["providerID"] = "aws://a"
    new = copy.deepcopy(old)
    setp(new, path, value)
    assert causes(NODE, new, old) == [expected]


def test_node_update_may_set_pod_cidr_and_unschedulable() -> None:
    old = ready(NODE, {"metadata": {"name": "node-1"}})
    new = copy.deepcopy(old)
    new["spec"] = {"podCIDRs": ["10.244.1.0/24"], "unschedulable": True}
    kinds.validate(NODE, new, old)


def base_endpoints() -> Obj:
    return ready(EP, {"metadata": {"name": "web"}, "subsets": [{"addresses": [{"ip": "10.244.1.5"}],
                                                                "ports": [{"port": 80}]}]})


EP_CASES = [
    ("no addresses", mut("subsets[0].addresses", []),
     C("subsets[0]", "Required", "Required value: must specify `addresses` or `notReadyAddresses`")),
    ("bad ip", mut("subsets[0].addresses[0].ip", "10.1"),
     C("subsets[0].addresses[0].ip", "Invalid", f'Invalid value: "10.1": {IP_MSG}')),
    ("loopback ip", mut("subsets[0].addresses[0].ip", "127.0.0.1"),
     C("subsets[0].addresses[0].ip", "Invalid",
       'Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)')),
    ("unspecified ip", mut("subsets[0].notReadyAddresses", [{"ip": "0.0.0.0"}]),
     C("subsets[0].notReadyAddresses[0].ip", "Invalid", 'Invalid value: "0.0.0.0": may not be unspecified (0.0.0.0)')),
    ("link-local ip", mut("subsets[0].addresses[0].ip", "169.254.1.1"),
     C("subsets[0].addresses[0].ip", "Invalid",
       'Invalid value: "169.254.1.1": may not be in the link-local range (169.254.0.0/16, fe80::/10)')),
    ("hostname", mut("subsets[0].addresses[0].hostname", "a.b"),
     C("subsets[0].addresses[0].hostname", "Invalid", 'Invalid value: "a.b": must not contain dots')),
    ("port zero", mut("subsets[0].ports[0].port", 0), C("subsets[0].ports[0].port", "Invalid", f"Invalid value: 0: {PORT_RANGE}")),
    ("protocol", mut("subsets[0].ports[0].protocol", "ICMP"),
     C("subsets[0].ports[0].protocol", "Unsupported", 'Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"')),
    ("two ports need names", lambda e: e["subsets"][0]["ports"].append({"name": "b", "port": 81, "protocol": "TCP"}),
     C("subsets[0].ports[0].name", "Required", "Required value")),
]


@pytest.mark.parametrize("change, expected", [c[1:] for c in EP_CASES], ids=[c[0] for c in EP_CASES])
def test_endpoints(change: Callable[[Obj], None], expected: dict[str, str]) -> None:
    obj = base_endpoints()
    change(obj)
    assert expected in causes(EP, obj)


def test_event_rules() -> None:
    ev = ready(EVENT, {"metadata": {"name": "web.1"}, "reason": "Started"})
    assert causes(EVENT, ev) == [C("involvedObject", "Required", "Required value")]
    ev = ready(EVENT, {"metadata": {"name": "web.1"}, "involvedObject": {"kind": "Pod", "name": "p", "namespace": "other"}})
    assert causes(EVENT, ev) == [C("involvedObject.namespace", "Invalid",
                                   'Invalid value: "other": does not match event.namespace')]
    node_event = ready(EVENT, {"metadata": {"name": "n.1"}, "involvedObject": {"kind": "Node", "name": "n"}})
    kinds.validate(EVENT, node_event)


@pytest.mark.parametrize("spec, expected", [
    ({"leaseDurationSeconds": 0}, C("spec.leaseDurationSeconds", "Invalid", "Invalid value: 0: must be greater than 0")),
    ({"leaseTransitions": -1}, C("spec.leaseTransitions", "Invalid", f"Invalid value: -1: {NONNEG}")),
    ({"preferredHolder": "a"}, C("spec.preferredHolder", "Forbidden",
                                 "Forbidden: may only be specified if `strategy` is defined")),
])
def test_lease(spec: Obj, expected: dict[str, str]) -> None:
    lease = ready(LEASE, {"metadata": {"name": "l"}, "spec": spec})
    assert causes(LEASE, lease) == [expected]


# ---------------------------------------------------------------------------
# HorizontalPodAutoscalers and Scale

HPA_CASES = [
    ("scaleTargetRef kind missing", mut("spec.scaleTargetRef.kind", ""),
     C("spec.scaleTargetRef.kind", "Required", "Required value")),
    ("scaleTargetRef name missing", mut("spec.scaleTargetRef", {"kind": "Deployment"}),
     C("spec.scaleTargetRef.name", "Required", "Required value")),
    ("scaleTargetRef name with slash", mut("spec.scaleTargetRef.name", "a/b"),
     C("spec.scaleTargetRef.name", "Invalid", "Invalid value: \"a/b\": may not contain '/'")),
    ("minReplicas zero", mut("spec.minReplicas", 0),
     C("spec.minReplicas", "Invalid", "Invalid value: 0: must be greater than or equal to 1")),
    ("maxReplicas zero", mut("spec.maxReplicas", 0), C("spec.maxReplicas", "Invalid", "Invalid value: 0: must be greater than 0")),
    ("maxReplicas below min", mut("spec.minReplicas", 4, "spec.maxReplicas", 3),
     C("spec.maxReplicas", "Invalid", "Invalid value: 3: must be greater than or equal to `minReplicas`")),
    ("metric type", mut("spec.metrics[0].type", "Magic"),
     C("spec.metrics[0].type", "Unsupported", 'Unsupported value: "Magic": supported values: "ContainerResource", '
       '"External", "Object", "Pods", "Resource"')),
    ("metric source missing", mut("spec.metrics", [{"type": "Pods"}]),
     C("spec.metrics[0].pods", "Required", "Required value: must populate information for the given metric source")),
    ("metric two sources", lambda h: h["spec"]["metrics"][0].__setitem__("pods", {
        "metric": {"name": "qps"}, "target": {"type": "AverageValue", "averageValue": "10"}}),
     C("spec.metrics[0].pods", "Forbidden", "Forbidden: must populate the given metric source only")),
    ("utilization zero", mut("spec.metrics[0].resource.target.averageUtilization", 0),
     C("spec.metrics[0].resource.target.averageUtilization", "Invalid", "Invalid value: 0: must be greater than 0")),
    ("target type", mut("spec.metrics[0].resource.target.type", "Percent"),
     C("spec.metrics[0].resource.target.type", "Invalid",
       'Invalid value: "Percent": must be either Utilization, Value, or AverageValue')),
    ("resource target empty", mut("spec.metrics[0].resource.target", {"type": "Utilization"}),
     C("spec.metrics[0].resource.target.averageUtilization", "Required",
       "Required value: must set either a target raw value or a target utilization")),
    ("resource name missing", mut("spec.metrics[0].resource.name", ""),
     C("spec.metrics[0].resource.name", "Required", "Required value: must specify a resource name")),
    ("average value not positive", mut("spec.metrics[0].resource.target", {"type": "AverageValue", "averageValue": "0"}),
     C("spec.metrics[0].resource.target.averageValue", "Invalid", 'Invalid value: "0": must be positive')),
    ("pods metric without averageValue", mut("spec.metrics", [{"type": "Pods", "pods": {
        "metric": {"name": "qps"}, "target": {"type": "Value", "value": "1"}}}]),
     C("spec.metrics[0].pods.target.averageValue", "Required",
       "Required value: must specify a positive target averageValue")),
]


@pytest.mark.parametrize("change, expected", [c[1:] for c in HPA_CASES], ids=[c[0] for c in HPA_CASES])
def test_hpa_v2(change: Callable[[Obj], None], expected: dict[str, str]) -> None:
    obj = base_hpa()
    change(obj)
    assert expected in causes(HPA2, obj)


def test_hpa_v1() -> None:
    hpa = ready(HPA1, {"apiVersion": "autoscaling/v1", "metadata": {"name": "h"}, "spec": {
        "scaleTargetRef": {"kind": "Deployment", "name": "web"}, "minReplicas": 2, "maxReplicas": 1,
        "targetCPUUtilizationPercentage": 0}})
    assert causes(HPA1, hpa) == [
        C("spec.maxReplicas", "Invalid", "Invalid value: 1: must be greater than or equal to `minReplicas`"),
        C("spec.metrics[0].resource.target.averageUtilization", "Invalid", "Invalid value: 0: must be greater than 0"),
    ]


def test_scale() -> None:
    scale = {"apiVersion": "autoscaling/v1", "kind": "Scale",
             "metadata": {"name": "web", "namespace": "default"}, "spec": {"replicas": -1}}
    with pytest.raises(errors.Invalid) as exc:
        scale_kind.validate_scale(scale)
    assert exc.value.message == ('Scale.autoscaling "web" is invalid: spec.replicas: Invalid value: -1: '
                                 'must be greater than or equal to 0')
    assert exc.value.causes == [C("spec.replicas", "Invalid", f"Invalid value: -1: {NONNEG}")]
    scale["spec"]["replicas"] = 0
    scale_kind.validate_scale(scale)
    scale_kind.validate_scale(dict(scale, spec={}))


# ---------------------------------------------------------------------------
# robustness


def test_causes_are_not_repeated() -> None:
    pod = base_pod()
    pod["spec"]["containers"][0]["resources"] = {"limits": {"gpu": "1"}, "requests": {"gpu": "1"}}
    found = causes(POD, pod)
    assert len(found) == len({(c["field"], c["message"]) for c in found})


@pytest.mark.parametrize("res", [POD, DEPLOY, RS, RC, SVC, NS, NODE, EP, EVENT, LEASE, HPA2, HPA1])
@pytest.mark.parametrize("junk", [
    {}, {"metadata": "x", "spec": "x"}, {"spec": {"containers": [None, 3, {"ports": "x"}], "template": []}},
    {"spec": {"ports": [None, {"port": "x", "targetPort": None}], "selector": [], "replicas": "3"}},
    {"spec": {"template": {"spec": {"containers": [{"resources": {"limits": {"cpu": None}}}]}}}},
    {"subsets": [None, {"addresses": "x"}], "spec": {"metrics": [None, {"resource": 3}]}},
])
def test_junk_is_invalid_not_a_crash(res: resources.Resource, junk: Obj) -> None:
    obj = copy.deepcopy(junk)
    kinds.apply_defaults(res, obj)
    try:
        kinds.validate(res, obj)
    except errors.Invalid:
        pass
