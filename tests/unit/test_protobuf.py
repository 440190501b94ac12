"""Protobuf request-body decoding: kubectl's captured bodies and hand-encoded ones."""
from __future__ import annotations

import pathlib
import random
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from minik8s.api import errors, protobuf, schema
from tests.unit import schema_strategies

# Bodies captured from kubectl 1.32.4 (shared/kubectl-captures/*.pb), inlined so the
# tests do not depend on where shared/ is laid.
CAPTURES: dict[str, bytes] = {
    "create-deployment-nginx.pb": bytes.fromhex(
        "6b3873000a150a07617070732f7631120a4465706c6f796d656e7412b9010a23"
        "0a056e67696e7812001a0022002a003200380042005a0c0a0361707012056e67"
        "696e781283010801120e0a0c0a0361707012056e67696e781a670a1e0a001200"
        "1a0022002a003200380042005a0c0a0361707012056e67696e78124512270a05"
        "6e67696e78120a6e67696e783a312e31342a0042006a00720080010088010090"
        "0100a201001a00320042004a0052005800600068008201008a01009a0100c201"
        "0022020a00280038001a0c0800100018002000280038001a002200"),
    "autoscale-web.pb": bytes.fromhex(
        "6b3873000a290a0e6175746f7363616c696e672f76311217486f72697a6f6e74"
        "616c506f644175746f7363616c6572123f0a130a0377656212001a0022002a00"
        "32003800420012220a1a0a0a4465706c6f796d656e7412037765621a07617070"
        "732f76311001180520321a04180020001a002200"),
}
SHARED_CAPTURES = pathlib.Path(__file__).resolve().parents[1] / "data" / "kubectl-captures"


def capture(name: str) -> bytes:
    return CAPTURES[name]


def test_inlined_captures_match_shared_ones() -> None:
    for name, body in CAPTURES.items():
        assert (SHARED_CAPTURES / name).read_bytes() == body


# --- a tiny encoder, enough to build bodies by hand ------------------------------

def varint(n: int) -> bytes:
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def key(num: int, wire: int) -> bytes:
    return varint(num << 3 | wire)


def vi(num: int, n: int) -> bytes:
    """A varint field (int32, int64, bool, enum)."""
    return key(num, 0) + varint(n)


def ln(num: int, data: bytes | str) -> bytes:
    """A length-delimited field (string, bytes)."""
    if isinstance(data, str):
        data = data.encode()
    return key(num, 2) + varint(len(data)) + data


def msg(num: int, *parts: bytes) -> bytes:
    """An embedded message field."""
    return ln(num, b"".join(parts))


def entry(num: int, k: str, v: str | bytes) -> bytes:
    """One map<string, ...> entry; for a message value, v is the encoded message body."""
    return msg(num, ln(1, k), ln(2, v))


def quantity(num: int, text: str) -> bytes:
    return msg(num, ln(1, text))


def intstr(num: int, value: int | str) -> bytes:
    if isinstance(value, str):
        return msg(num, vi(1, 1), vi(2, 0), ln(3, value))
    return msg(num, vi(1, 0), vi(2, value), ln(3, ""))


def meta(name: str, *extra: bytes) -> bytes:
    """ObjectMeta as kubectl writes it: every non-pointer field, zero or not."""
    return msg(1, ln(1, name), ln(2, ""), ln(3, ""), ln(4, ""), ln(5, ""), ln(6, ""),
               vi(7, 0), msg(8), *extra)


def envelope(api_version: str, kind: str, raw: bytes, encoding: str = "",
             content_type: str = "") -> bytes:
    return (protobuf.MAGIC + msg(1, ln(1, api_version), ln(2, kind)) + ln(2, raw)
            + ln(3, encoding) + ln(4, content_type))


def decode(api_version: str, kind: str, *parts: bytes) -> dict[str, Any]:
    return protobuf.decode(envelope(api_version, kind, b"".join(parts)))


# --- the captured kubectl 1.32 bodies ------------------------------------------------

def test_create_deployment_capture_is_what_kubectl_sends_as_json() -> None:
    # kubectl 1.30 sends this JSON for `create deployment nginx --image=nginx:1.14`
    # (KUBECTL_API.md section 1); 1.32 sends the capture.
    assert protobuf.decode(capture("create-deployment-nginx.pb")) == {
        "kind": "Deployment", "apiVersion": "apps/v1",
        "metadata": {"name": "nginx", "creationTimestamp": None, "labels": {"app": "nginx"}},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "nginx"}},
            "template": {
                "metadata": {"creationTimestamp": None, "labels": {"app": "nginx"}},
                "spec": {"containers": [{"name": "nginx", "image": "nginx:1.14", "resources": {}}]},
            },
            "strategy": {},
        },
        "status": {},
    }


def test_autoscale_capture() -> None:
    assert protobuf.decode(capture("autoscale-web.pb")) == {
        "kind": "HorizontalPodAutoscaler", "apiVersion": "autoscaling/v1",
        "metadata": {"name": "web", "creationTimestamp": None},
        "spec": {
            "scaleTargetRef": {"kind": "Deployment", "name": "web", "apiVersion": "apps/v1"},
            "minReplicas": 1, "maxReplicas": 5, "targetCPUUtilizationPercentage": 50,
        },
        # Not omitempty in Go, so Go's JSON of the same object shows the zeros too.
        "status": {"currentReplicas": 0, "desiredReplicas": 0},
    }


def test_supports_names_the_decodable_kinds() -> None:
    assert protobuf.supports("apps/v1", "Deployment")
    assert protobuf.supports("autoscaling/v2", "HorizontalPodAutoscaler")
    assert not protobuf.supports("apps/v1", "StatefulSet")


# --- hand-encoded kinds ----------------------------------------------------------------

def test_pod_spec_and_container_fields() -> None:
    container = msg(
        2,
        ln(1, "app"), ln(2, "busybox:1.36"), ln(3, "sh"), ln(3, "-c"), ln(4, "sleep 3600"),
        ln(5, "/work"),
        msg(6, ln(1, "http"), vi(2, 0), vi(3, 8080), ln(4, "TCP"), ln(5, "")),
        msg(7, ln(1, "PLAIN"), ln(2, "x")),
        msg(7, ln(1, "NODE"), ln(2, ""), msg(3, msg(1, ln(1, "v1"), ln(2, "spec.nodeName")))),
        msg(7, ln(1, "CPU"), msg(3, msg(2, ln(1, "app"), ln(2, "limits.cpu"), quantity(3, "1m")))),
        msg(7, ln(1, "CM"), msg(3, msg(3, msg(1, ln(1, "cfg")), ln(2, "k"), vi(3, 1)))),
        msg(7, ln(1, "SEC"), msg(3, msg(4, msg(1, ln(1, "creds")), ln(2, "password")))),
        msg(19, ln(1, "P_"), msg(2, msg(1, ln(1, "cfg")))),
        msg(8, entry(1, "cpu", ln(1, "500m")), entry(1, "memory", ln(1, "128Mi")),
            entry(2, "cpu", ln(1, "250m"))),
        msg(9, ln(1, "data"), vi(2, 1), ln(3, "/data"), ln(4, ""), ln(6, "")),
        msg(10, msg(1, msg(2, ln(1, "/healthz"), intstr(2, "http"), ln(3, ""), ln(4, "HTTP"),
                           msg(5, ln(1, "X-Probe"), ln(2, "1")))),
            vi(2, 5), vi(3, 1), vi(4, 10), vi(5, 1), vi(6, 3)),
        msg(11, msg(1, msg(3, intstr(1, 8080), ln(2, ""))), vi(2, 0), vi(4, 2)),
        msg(22, msg(1, msg(1, ln(1, "cat"), ln(1, "/tmp/ready")))),
        msg(12, msg(2, msg(1, ln(1, "sh"), ln(1, "-c"), ln(1, "sleep 1")))),
        ln(13, "/dev/termination-log"), ln(20, "File"), ln(14, "IfNotPresent"),
        msg(15, vi(2, 0), vi(4, 1000), msg(1, ln(2, "ALL"))),
        vi(16, 0), vi(17, 0), vi(18, 1),
    )
    pod = decode(
        "v1", "Pod", meta("web"),
        msg(2,
            msg(1, ln(1, "data"), msg(2, msg(2, ln(1, "Memory"), quantity(2, "64Mi")))),
            msg(1, ln(1, "host"), msg(2, msg(1, ln(1, "/var/log"), ln(2, "Directory")))),
            msg(1, ln(1, "cfg"), msg(2, msg(19, msg(1, ln(1, "app-config")),
                                             msg(2, ln(1, "a"), ln(2, "a.txt")), vi(3, 0o644)))),
            msg(1, ln(1, "sec"), msg(2, msg(6, ln(1, "creds"), vi(4, 0)))),
            container,
            ln(3, "Always"), vi(4, 0), ln(6, "ClusterFirst"),
            entry(7, "disk", "ssd"), ln(8, "default"), vi(11, 1),
            msg(18, msg(1, msg(1, msg(1, msg(1, ln(1, "zone"), ln(2, "In"), ln(3, "a"), ln(3, "b")))),
                        msg(2, vi(1, 10), msg(2, msg(1, ln(1, "gpu"), ln(2, "Exists")))))),
            ln(19, "default-scheduler"),
            msg(22, ln(1, "node.kubernetes.io/unreachable"), ln(2, "Exists"), ln(3, ""),
                ln(4, "NoExecute"), vi(5, 300)),
            msg(22, ln(1, ""), ln(2, "Exists"), ln(3, ""), ln(4, "")),
            vi(25, -1)),
    )
    assert pod["metadata"] == {"name": "web", "creationTimestamp": None}
    spec = pod["spec"]
    assert spec["volumes"] == [
        {"name": "data", "emptyDir": {"medium": "Memory", "sizeLimit": "64Mi"}},
        {"name": "host", "hostPath": {"path": "/var/log", "type": "Directory"}},
        {"name": "cfg", "configMap": {"name": "app-config", "items": [{"key": "a", "path": "a.txt"}],
                                      "defaultMode": 0o644}},
        {"name": "sec", "secret": {"secretName": "creds", "optional": False}},
    ]
    # terminationGracePeriodSeconds is a pointer: an explicit 0 means "kill now" and stays.
    assert spec["terminationGracePeriodSeconds"] == 0
    assert spec["restartPolicy"] == "Always" and spec["dnsPolicy"] == "ClusterFirst"
    assert spec["nodeSelector"] == {"disk": "ssd"}
    assert spec["serviceAccountName"] == "default"
    assert spec["hostNetwork"] is True
    assert spec["schedulerName"] == "default-scheduler"
    assert spec["priority"] == -1
    assert spec["affinity"] == {"nodeAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
            {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a", "b"]}]}]},
        "preferredDuringSchedulingIgnoredDuringExecution": [
            {"weight": 10, "preference": {"matchExpressions": [{"key": "gpu", "operator": "Exists"}]}}],
    }}
    assert spec["tolerations"] == [
        {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute",
         "tolerationSeconds": 300},
        {"operator": "Exists"},
    ]
    assert spec["containers"] == [{
        "name": "app", "image": "busybox:1.36", "command": ["sh", "-c"], "args": ["sleep 3600"],
        "workingDir": "/work",
        "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
        "env": [
            {"name": "PLAIN", "value": "x"},
            {"name": "NODE", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "spec.nodeName"}}},
            {"name": "CPU", "valueFrom": {"resourceFieldRef": {
                "containerName": "app", "resource": "limits.cpu", "divisor": "1m"}}},
            {"name": "CM", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "k", "optional": True}}},
            {"name": "SEC", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "password"}}},
        ],
        "envFrom": [{"prefix": "P_", "configMapRef": {"name": "cfg"}}],
        "resources": {"limits": {"cpu": "500m", "memory": "128Mi"}, "requests": {"cpu": "250m"}},
        "volumeMounts": [{"name": "data", "readOnly": True, "mountPath": "/data"}],
        "livenessProbe": {
            "httpGet": {"path": "/healthz", "port": "http", "scheme": "HTTP",
                        "httpHeaders": [{"name": "X-Probe", "value": "1"}]},
            "initialDelaySeconds": 5, "timeoutSeconds": 1, "periodSeconds": 10,
            "successThreshold": 1, "failureThreshold": 3,
        },
        "readinessProbe": {"tcpSocket": {"port": 8080}, "periodSeconds": 2},
        "startupProbe": {"exec": {"command": ["cat", "/tmp/ready"]}},
        "lifecycle": {"preStop": {"exec": {"command": ["sh", "-c", "sleep 1"]}}},
        "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File",
        "imagePullPolicy": "IfNotPresent",
        "securityContext": {"capabilities": {"drop": ["ALL"]}, "privileged": False, "runAsUser": 1000},
        "tty": True,
    }]


def test_service_ports_with_int_and_string_target_ports() -> None:
    svc = decode(
        "v1", "Service", meta("web", entry(11, "app", "web")),
        msg(2,
            msg(1, ln(1, "http"), ln(2, "TCP"), vi(3, 80), intstr(4, 8080), vi(5, 30080)),
            msg(1, ln(1, "metrics"), ln(2, "TCP"), vi(3, 9090), intstr(4, "metrics"), vi(5, 0)),
            msg(1, ln(1, ""), ln(2, "UDP"), vi(3, 53), intstr(4, 0), vi(5, 0)),
            entry(2, "app", "web"), ln(3, ""), ln(4, "NodePort"), ln(7, "None"),
            ln(8, ""), ln(10, ""), ln(11, "Cluster"), vi(12, 0), vi(13, 0)),
        msg(3, msg(1)),
    )
    assert svc == {
        "kind": "Service", "apiVersion": "v1",
        "metadata": {"name": "web", "creationTimestamp": None, "labels": {"app": "web"}},
        "spec": {
            "ports": [
                {"name": "http", "protocol": "TCP", "port": 80, "targetPort": 8080, "nodePort": 30080},
                {"name": "metrics", "protocol": "TCP", "port": 9090, "targetPort": "metrics"},
                # targetPort 0 is "unset" (defaulted to port), as for a plain int.
                {"protocol": "UDP", "port": 53},
            ],
            "selector": {"app": "web"}, "type": "NodePort", "sessionAffinity": "None",
            "externalTrafficPolicy": "Cluster",
        },
        "status": {"loadBalancer": {}},
    }


def test_namespace() -> None:
    ns = decode("v1", "Namespace", meta("team-a", entry(12, "owner", "me")),
                msg(2), msg(3, ln(1, "")))
    assert ns == {
        "kind": "Namespace", "apiVersion": "v1",
        "metadata": {"name": "team-a", "creationTimestamp": None, "annotations": {"owner": "me"}},
        "spec": {}, "status": {},
    }


def test_deployment_pointer_zeros_stay_and_plain_zeros_go() -> None:
    dep = decode(
        "apps/v1", "Deployment", meta("web"),
        msg(2, vi(1, 0), msg(2), msg(3),
            msg(4, ln(1, "RollingUpdate"), msg(2, intstr(1, 0), intstr(2, "25%"))),
            vi(5, 0), vi(6, 0), vi(7, 0), vi(9, 600)),
    )
    assert dep["spec"] == {
        "replicas": 0, "selector": {}, "template": {},
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": "25%"}},
        "revisionHistoryLimit": 0, "progressDeadlineSeconds": 600,
    }


def test_object_meta_fully() -> None:
    owner = msg(13, ln(5, "apps/v1"), ln(1, "ReplicaSet"), ln(3, "web-abc"), ln(4, "uid-1"),
                vi(6, 1), vi(7, 1))
    managed = msg(17, ln(1, "kubectl-create"), ln(2, "Update"), ln(3, "apps/v1"),
                  msg(4, vi(1, 1704067200), vi(2, 0)), ln(6, "FieldsV1"),
                  msg(7, ln(1, b'{"f:spec":{}}')))
    rs = decode(
        "apps/v1", "ReplicaSet",
        msg(1, ln(1, "web-abc"), ln(2, "web-"), ln(3, "default"), ln(5, "uid-2"),
            ln(6, "42"), vi(7, 3), msg(8, vi(1, 1704067200), vi(2, 5)),
            msg(9, vi(1, 1704067230), vi(2, 0)), vi(10, 30),
            entry(11, "app", "web"), entry(11, "pod-template-hash", "abc"),
            entry(12, "deployment.kubernetes.io/revision", "1"),
            entry(12, "deployment.kubernetes.io/revision", "2"),
            owner, ln(14, "foregroundDeletion"), managed),
        msg(2, vi(1, 2), msg(2, entry(1, "app", "web"),
                             msg(2, ln(1, "tier"), ln(2, "NotIn"), ln(3, "db"))), msg(3)),
    )
    assert rs["metadata"] == {
        "name": "web-abc", "generateName": "web-", "namespace": "default", "uid": "uid-2",
        "resourceVersion": "42", "generation": 3,
        "creationTimestamp": "2024-01-01T00:00:00Z",
        "deletionTimestamp": "2024-01-01T00:00:30Z", "deletionGracePeriodSeconds": 30,
        "labels": {"app": "web", "pod-template-hash": "abc"},
        # a key repeated on the wire: the last value wins, as for any protobuf map
        "annotations": {"deployment.kubernetes.io/revision": "2"},
        "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-abc",
                             "uid": "uid-1", "controller": True, "blockOwnerDeletion": True}],
        "finalizers": ["foregroundDeletion"],
        "managedFields": [{"manager": "kubectl-create", "operation": "Update",
                           "apiVersion": "apps/v1", "time": "2024-01-01T00:00:00Z",
                           "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {}}}],
    }
    assert rs["spec"] == {
        "replicas": 2,
        "selector": {"matchLabels": {"app": "web"},
                     "matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["db"]}]},
        "template": {},
    }


def test_replication_controller_selector_is_a_plain_map() -> None:
    rc = decode("v1", "ReplicationController", meta("rc"),
                msg(2, vi(1, 3), vi(4, 0), entry(2, "app", "rc"),
                    msg(3, msg(1, entry(11, "app", "rc")), msg(2, msg(2, ln(1, "c"), ln(2, "i"))))))
    assert rc["spec"] == {"replicas": 3, "selector": {"app": "rc"}, "template": {
        "metadata": {"labels": {"app": "rc"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}}


def test_hpa_v2_metrics_and_behavior() -> None:
    hpa = decode(
        "autoscaling/v2", "HorizontalPodAutoscaler", meta("web"),
        msg(2,
            msg(1, ln(1, "Deployment"), ln(2, "web"), ln(3, "apps/v1")), vi(2, 2), vi(3, 10),
            msg(4, ln(1, "Resource"), msg(4, ln(1, "cpu"), msg(2, ln(1, "Utilization"), vi(4, 60)))),
            msg(4, ln(1, "Pods"), msg(3, msg(1, ln(1, "rps")),
                                      msg(2, ln(1, "AverageValue"), quantity(3, "100")))),
            msg(5, msg(2, vi(3, 300), ln(1, "Max"),
                       msg(2, ln(1, "Percent"), vi(2, 100), vi(3, 15))))),
        msg(3, vi(3, 2), vi(4, 3),
            msg(5, ln(1, "Resource"), msg(4, ln(1, "cpu"), msg(2, quantity(2, "120m"), vi(3, 40)))),
            msg(6, ln(1, "AbleToScale"), ln(2, "True"), msg(3, vi(1, 1704067200)),
                ln(4, "ReadyForNewScale"), ln(5, ""))),
    )
    assert hpa["spec"] == {
        "scaleTargetRef": {"kind": "Deployment", "name": "web", "apiVersion": "apps/v1"},
        "minReplicas": 2, "maxReplicas": 10,
        "metrics": [
            {"type": "Resource", "resource": {"name": "cpu", "target": {
                "type": "Utilization", "averageUtilization": 60}}},
            {"type": "Pods", "pods": {"metric": {"name": "rps"}, "target": {
                "type": "AverageValue", "averageValue": "100"}}},
        ],
        "behavior": {"scaleDown": {"stabilizationWindowSeconds": 300, "selectPolicy": "Max",
                                   "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}]}},
    }
    assert hpa["status"] == {
        "currentReplicas": 2, "desiredReplicas": 3,
        "currentMetrics": [{"type": "Resource", "resource": {"name": "cpu", "current": {
            "averageValue": "120m", "averageUtilization": 40}}}],
        "conditions": [{"type": "AbleToScale", "status": "True",
                        "lastTransitionTime": "2024-01-01T00:00:00Z", "reason": "ReadyForNewScale"}],
    }


def test_node_endpoints_and_event() -> None:
    node = decode("v1", "Node", meta("n1"),
                  msg(2, ln(1, "10.244.1.0/24"), vi(4, 1),
                      msg(5, ln(1, "dedicated"), ln(2, "gpu"), ln(3, "NoSchedule"))),
                  msg(3, entry(2, "cpu", ln(1, "4")), entry(2, "memory", ln(1, "8Gi")),
                      msg(5, ln(1, "InternalIP"), ln(2, "10.0.0.1")),
                      msg(6, msg(1, vi(1, 10250)))))
    assert node["spec"] == {"podCIDR": "10.244.1.0/24", "unschedulable": True,
                            "taints": [{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]}
    assert node["status"] == {"allocatable": {"cpu": "4", "memory": "8Gi"},
                              "addresses": [{"type": "InternalIP", "address": "10.0.0.1"}],
                              "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}}}

    ep = decode("v1", "Endpoints", meta("web"),
                msg(2, msg(1, ln(1, "10.244.1.5"), ln(4, "n1"),
                           msg(2, ln(1, "Pod"), ln(2, "default"), ln(3, "web-1"))),
                    msg(3, ln(1, "http"), vi(2, 8080), ln(3, "TCP"))))
    assert ep["subsets"] == [{
        "addresses": [{"ip": "10.244.1.5", "nodeName": "n1",
                       "targetRef": {"kind": "Pod", "namespace": "default", "name": "web-1"}}],
        "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
    }]

    ev = decode("v1", "Event", meta("web.1"),
                msg(2, ln(1, "Pod"), ln(3, "web-1")), ln(3, "Scheduled"), ln(4, "assigned"),
                msg(5, ln(1, "default-scheduler")), msg(6), msg(7, vi(1, 1704067200)),
                vi(8, 1), ln(9, "Normal"), msg(10, vi(1, 1704067200), vi(2, 123_456_789)))
    assert ev["involvedObject"] == {"kind": "Pod", "name": "web-1"}
    assert ev["source"] == {"component": "default-scheduler"}
    assert ev["firstTimestamp"] is None
    assert ev["lastTimestamp"] == "2024-01-01T00:00:00Z"
    assert ev["count"] == 1 and ev["type"] == "Normal"
    assert ev["eventTime"] == "2024-01-01T00:00:00.123456Z"


# --- wire-format corner cases -------------------------------------------------------

def test_unknown_fields_of_every_wire_type_are_skipped() -> None:
    fixed64 = key(90, 1) + (7).to_bytes(8, "little")
    fixed32 = key(91, 5) + (7).to_bytes(4, "little")
    ns = decode("v1", "Namespace",
                vi(99, 12345), ln(98, "ignored"), fixed64, fixed32,
                msg(1, ln(1, "x"), vi(200, 1), msg(201, ln(1, "nested")), fixed32))
    assert ns == {"kind": "Namespace", "apiVersion": "v1", "metadata": {"name": "x"}}


def test_a_message_seen_twice_merges() -> None:
    ns = decode("v1", "Namespace", msg(1, ln(1, "x")), msg(1, entry(11, "a", "b")))
    assert ns["metadata"] == {"name": "x", "labels": {"a": "b"}}


def test_packed_repeated_ints_are_accepted() -> None:
    pod = decode("v1", "Pod", msg(2, msg(14, ln(4, varint(1000) + varint(2000)), vi(4, 3000))))
    assert pod["spec"]["securityContext"] == {"supplementalGroups": [1000, 2000, 3000]}


def test_time_before_the_epoch_and_year_padding() -> None:
    ns = decode("v1", "Namespace", msg(1, msg(8, vi(1, -62135596800))))
    assert ns["metadata"]["creationTimestamp"] == "0001-01-01T00:00:00Z"


@pytest.mark.parametrize("body, reason", [
    (b"", "BadRequest"),
    (b'{"kind":"Pod"}', "BadRequest"),
    (protobuf.MAGIC + b"\x0a", "BadRequest"),                        # truncated length
    (protobuf.MAGIC + b"\x0a\x05\x0a\x01", "BadRequest"),            # length past the end
    (protobuf.MAGIC + b"\x08" + b"\xff" * 11, "BadRequest"),         # varint too long
    (protobuf.MAGIC + b"\x0b", "BadRequest"),                        # group wire type
    (protobuf.MAGIC + b"\x00\x00", "BadRequest"),                    # field number 0
    (envelope("", "", b""), "BadRequest"),                           # no type
    (envelope("apps/v1", "StatefulSet", b""), "UnsupportedMediaType"),
    (envelope("v1", "Pod", b"", encoding="gzip"), "UnsupportedMediaType"),
    (envelope("v1", "Pod", b"", content_type="application/json"), "UnsupportedMediaType"),
    (envelope("v1", "Pod", msg(1, ln(1, b"\xff\xfe"))), "BadRequest"),  # name not UTF-8
    (envelope("v1", "Pod", msg(1, vi(1, 5))), "BadRequest"),         # name as a varint
    (envelope("v1", "Pod", msg(1, msg(8, vi(1, 1 << 60)))), "BadRequest"),  # time out of range
    (envelope("v1", "Pod", msg(1, msg(17, msg(7, ln(1, "{nope"))))), "BadRequest"),
])
def test_malformed_bodies_are_status_errors(body: bytes, reason: str) -> None:
    with pytest.raises(errors.StatusError) as info:
        protobuf.decode(body)
    assert info.value.reason == reason
    assert info.value.code == (400 if reason == "BadRequest" else 415)


def test_truncated_capture_is_bad_request() -> None:
    body = capture("create-deployment-nginx.pb")
    # Cut inside the raw Deployment: its declared length runs past the end.
    with pytest.raises(errors.BadRequest, match="truncated"):
        protobuf.decode(body[:100])


def test_every_prefix_and_mutation_gives_a_dict_or_a_status_error() -> None:
    rng = random.Random(1)
    for name in ("create-deployment-nginx.pb", "autoscale-web.pb"):
        body = capture(name)
        candidates = [body[:n] for n in range(len(body))]
        for _ in range(2000):
            mutated = bytearray(body)
            for _ in range(rng.randint(1, 4)):
                mutated[rng.randrange(4, len(mutated))] = rng.randrange(256)
            candidates.append(bytes(mutated))
        for candidate in candidates:
            try:
                assert isinstance(protobuf.decode(candidate), dict)
            except errors.StatusError as e:
                assert e.reason in ("BadRequest", "UnsupportedMediaType")


# --- encoding, from the same schema -------------------------------------------------------

ALL_KINDS = sorted(schema.kinds().items())


@settings(max_examples=300, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_every_kind_round_trips_through_protobuf(data: st.DataObject) -> None:
    (group, version, kind), msg = data.draw(st.sampled_from(ALL_KINDS), label="kind")
    obj = data.draw(schema_strategies.objects(msg))
    api_version = f"{group}/{version}" if group else version
    wrapped = {"apiVersion": api_version, "kind": kind, **obj}
    body = protobuf.encode(wrapped)
    assert body.startswith(protobuf.MAGIC)
    assert protobuf.decode(body) == wrapped


def test_captures_decode_encode_decode_to_the_same_object() -> None:
    for name in CAPTURES:
        obj = protobuf.decode(capture(name))
        assert protobuf.decode(protobuf.encode(obj)) == obj


def test_encoding_writes_what_go_writes_for_the_capture() -> None:
    # The autoscale capture re-encoded: the same fields, the same bytes for the spec
    # (Go writes pointer fields when set and keeps field-number order).
    obj = protobuf.decode(capture("autoscale-web.pb"))
    spec = schema.for_kind("autoscaling", "v1", "HorizontalPodAutoscaler").field("spec").message
    assert spec is not None
    ours = protobuf.encode_message(obj["spec"], spec)
    assert ours.hex() == "0a1a0a0a4465706c6f796d656e7412037765621a07617070732f7631100118052032"


def test_lists_status_and_envelopes() -> None:
    pods = {"kind": "PodList", "apiVersion": "v1", "metadata": {"resourceVersion": "42", "continue": "c"},
            "items": [{"metadata": {"name": "a"}, "spec": {"containers": [{"name": "c", "image": "i"}]}},
                      {"metadata": {"name": "b"}}]}
    assert protobuf.decode(protobuf.encode(pods)) == pods
    status = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": "nope",
              "reason": "NotFound", "details": {"name": "x", "kind": "pods", "causes": [
                  {"reason": "FieldValueInvalid", "message": "bad", "field": "spec.x"}]}, "code": 404}
    assert protobuf.decode(protobuf.encode(status)) == status
    body = protobuf.encode({"kind": "Namespace", "apiVersion": "v1", "metadata": {"name": "n"}})
    # runtime.Unknown: typeMeta {apiVersion, kind}, raw, then Go's empty contentEncoding and contentType.
    assert body == (protobuf.MAGIC + bytes.fromhex("0a0f0a0276311209") + b"Namespace"
                    + bytes.fromhex("12050a030a016e") + b"\x1a\x00\x22\x00")
    assert protobuf.encodable({"kind": "Pod", "apiVersion": "v1"})
    assert not protobuf.encodable({"kind": "Table", "apiVersion": "meta.k8s.io/v1"})
    with pytest.raises(KeyError):
        protobuf.encode({"kind": "Table", "apiVersion": "meta.k8s.io/v1"})


def test_watch_frames_are_length_prefixed_watch_events() -> None:
    pod = {"kind": "Pod", "apiVersion": "v1", "metadata": {"name": "p", "resourceVersion": "7"}}
    frame = protobuf.encode_watch_event("MODIFIED", pod)
    size = int.from_bytes(frame[:4], "big")
    assert size == len(frame) - 4
    # WatchEvent{1: type, 2: RawExtension{1: raw}}, no magic on the event itself.
    assert frame[4:6] == b"\x0a\x08" and frame[6:14] == b"MODIFIED"
    assert protobuf.decode_watch_frames(frame + protobuf.encode_watch_event("DELETED", pod)) == [
        ("MODIFIED", pod), ("DELETED", pod)]


def test_special_types_encode_as_kubernetes_does() -> None:
    pod_spec = schema.definitions()["io.k8s.api.core.v1.ServicePort"]
    # IntOrString{type, intVal, strVal}, all three written as Go does; 8080 is the varint 90 3f.
    assert protobuf.encode_message({"targetPort": 8080}, pod_spec) == bytes.fromhex("2207080010903f1a00")
    assert protobuf.encode_message({"targetPort": "http"}, pod_spec) == bytes.fromhex("220a08011000") + \
        bytes.fromhex("1a0468747470")
    meta = schema.definitions()["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"]
    encoded = protobuf.encode_message({"creationTimestamp": "2024-01-02T03:04:05Z"}, meta)
    assert protobuf.decode_message(encoded, meta) == {"creationTimestamp": "2024-01-02T03:04:05Z"}
    # Offsets are normalised to UTC, as Go's time does.
    encoded = protobuf.encode_message({"creationTimestamp": "2024-01-02T05:04:05+02:00"}, meta)
    assert protobuf.decode_message(encoded, meta) == {"creationTimestamp": "2024-01-02T03:04:05Z"}
    # A JSON number quantity (YAML `cpu: 1`) travels as its text.
    reqs = schema.definitions()["io.k8s.api.core.v1.ResourceRequirements"]
    assert protobuf.decode_message(protobuf.encode_message({"limits": {"cpu": 1}}, reqs), reqs) == {
        "limits": {"cpu": "1"}}


@pytest.mark.parametrize("ns, text", [
    (0, "0s"), (1, "1ns"), (1500, "1.5µs"), (1_500_000, "1.5ms"), (10**9, "1s"), (90 * 10**9, "1m30s"),
    (3600 * 10**9, "1h0m0s"), (3723_500_000_000, "1h2m3.5s"), (-2 * 10**9, "-2s"),
])
def test_durations_in_gos_format(ns: int, text: str) -> None:
    assert protobuf._format_duration(ns) == text
    assert protobuf._parse_duration(text) == ns
