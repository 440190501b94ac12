"""Decode Kubernetes protobuf request bodies into the JSON form of the object.

kubectl 1.31+ typed clients (`create deployment`, `autoscale`, `create namespace`,
`create service ...`) POST `application/vnd.kubernetes.protobuf` and never fall back
to JSON, so the API server must read that body. Everything else in minik8s works on
JSON dicts, so this module turns the body into exactly the dict the same command
would have sent as JSON, and the server carries on as if it had.

The wire format is read by hand (a few dozen lines) and each message is described by
a declarative schema built from the upstream generated.proto files: field number ->
JSON name, type, repeated, and whether the Go field is a pointer. That last bit
matters because Kubernetes' generated marshallers write every non-pointer field even
when it is zero ("", 0, false), while pointer fields appear only when set. So a zero
scalar is dropped unless its Go field is a pointer, which reproduces Go's
`omitempty` JSON closely enough for defaulting and validation to behave the same.
Embedded messages are kept even when empty (`resources: {}`, `strategy: {}`), as in
kubectl's JSON. Fields not in a schema (status details, newer alpha fields) are
skipped, as protobuf requires.
"""
from __future__ import annotations

import base64
import dataclasses
import datetime
import json
from typing import Any, Final, Iterator

from minik8s.api import errors

MEDIA_TYPE: Final = "application/vnd.kubernetes.protobuf"
MAGIC: Final = b"k8s\x00"

# ---------------------------------------------------------------------------
# Wire format
# ---------------------------------------------------------------------------

_VARINT, _I64, _LEN, _I32 = 0, 1, 2, 5
_U64 = 1 << 64


def _bad(path: str, what: str) -> errors.BadRequest:
    where = f" at {path}" if path else ""
    return errors.BadRequest(f"invalid protobuf request body{where}: {what}")


def _read_varint(buf: bytes, pos: int, path: str) -> tuple[int, int]:
    result = shift = 0
    for i in range(10):
        if pos >= len(buf):
            raise _bad(path, "truncated varint")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            if i == 9 and byte > 1:
                raise _bad(path, "varint overflows 64 bits")
            return result, pos
        shift += 7
    raise _bad(path, "varint longer than 10 bytes")


def _fields(buf: bytes, path: str) -> Iterator[tuple[int, int, int | bytes]]:
    """(field number, wire type, value) for each field of one message."""
    pos, end = 0, len(buf)
    while pos < end:
        key, pos = _read_varint(buf, pos, path)
        num, wire = key >> 3, key & 7
        if num == 0:
            raise _bad(path, "field number 0")
        value: int | bytes
        if wire == _VARINT:
            value, pos = _read_varint(buf, pos, path)
        elif wire == _LEN:
            size, pos = _read_varint(buf, pos, path)
            if size > end - pos:
                raise _bad(path, f"field {num} is truncated ({size} bytes declared, {end - pos} left)")
            value = buf[pos:pos + size]
            pos += size
        elif wire in (_I64, _I32):
            size = 8 if wire == _I64 else 4
            if size > end - pos:
                raise _bad(path, f"field {num} is truncated")
            value = int.from_bytes(buf[pos:pos + size], "little")
            pos += size
        else:
            # Groups (3, 4) were never used by Kubernetes; 6 and 7 do not exist.
            raise _bad(path, f"field {num} has unsupported wire type {wire}")
        yield num, wire, value


def _signed(value: int) -> int:
    # int32/int64 negatives are sign-extended to 64 bits on the wire.
    return value - _U64 if value >= 1 << 63 else value


# ---------------------------------------------------------------------------
# Schema
# ---------------------------------------------------------------------------

STRING, BYTES, INT, BOOL = "string", "bytes", "int", "bool"
MESSAGE, INLINE, MAP = "message", "inline", "map"
TIME, MICROTIME, INTSTR, QUANTITY, RAWJSON = "time", "microtime", "intstr", "quantity", "rawjson"

_SCALARS = frozenset({STRING, BYTES, INT, BOOL, INTSTR})


@dataclasses.dataclass(frozen=True)
class Field:
    """One field of a message schema.

    `msg` is the schema of a MESSAGE/INLINE field; `value` is the value kind of a
    MAP (string, bytes or quantity). INLINE is a Go embedded struct whose JSON
    fields sit in the parent (Volume's VolumeSource, ConfigMapKeySelector's
    LocalObjectReference).
    """

    name: str
    kind: str
    msg: "Schema | None" = None
    repeated: bool = False
    pointer: bool = False
    value: str = STRING


Schema = dict[int, Field]


def _s(name: str, *, ptr: bool = False, rep: bool = False) -> Field:
    return Field(name, STRING, pointer=ptr, repeated=rep)


def _i(name: str, *, ptr: bool = False, rep: bool = False) -> Field:
    return Field(name, INT, pointer=ptr, repeated=rep)


def _b(name: str, *, ptr: bool = False) -> Field:
    return Field(name, BOOL, pointer=ptr)


def _m(name: str, msg: Schema, *, rep: bool = False) -> Field:
    return Field(name, MESSAGE, msg=msg, repeated=rep)


def _map(name: str, value: str = STRING) -> Field:
    return Field(name, MAP, value=value)


def _inline(msg: Schema) -> Field:
    return Field("", INLINE, msg=msg)


def _t(name: str, *, ptr: bool = False) -> Field:
    return Field(name, TIME, pointer=ptr)


def _ios(name: str, *, ptr: bool = False) -> Field:
    return Field(name, INTSTR, pointer=ptr)


def _q(name: str) -> Field:
    return Field(name, QUANTITY)


# --- k8s.io/apimachinery/pkg/apis/meta/v1 ----------------------------------

_OWNER_REFERENCE: Schema = {
    5: _s("apiVersion"), 1: _s("kind"), 3: _s("name"), 4: _s("uid"),
    6: _b("controller", ptr=True), 7: _b("blockOwnerDeletion", ptr=True),
}
_MANAGED_FIELDS_ENTRY: Schema = {
    1: _s("manager"), 2: _s("operation"), 3: _s("apiVersion"), 4: _t("time", ptr=True),
    6: _s("fieldsType"), 7: Field("fieldsV1", RAWJSON), 8: _s("subresource"),
}
_OBJECT_META: Schema = {
    1: _s("name"), 2: _s("generateName"), 3: _s("namespace"), 4: _s("selfLink"),
    5: _s("uid"), 6: _s("resourceVersion"), 7: _i("generation"),
    8: _t("creationTimestamp"), 9: _t("deletionTimestamp", ptr=True),
    10: _i("deletionGracePeriodSeconds", ptr=True),
    11: _map("labels"), 12: _map("annotations"),
    13: _m("ownerReferences", _OWNER_REFERENCE, rep=True),
    14: _s("finalizers", rep=True),
    17: _m("managedFields", _MANAGED_FIELDS_ENTRY, rep=True),
}
_LABEL_SELECTOR_REQUIREMENT: Schema = {1: _s("key"), 2: _s("operator"), 3: _s("values", rep=True)}
_LABEL_SELECTOR: Schema = {
    1: _map("matchLabels"), 2: _m("matchExpressions", _LABEL_SELECTOR_REQUIREMENT, rep=True),
}
_CONDITION: Schema = {
    1: _s("type"), 2: _s("status"), 3: _i("observedGeneration"), 4: _t("lastTransitionTime"),
    5: _s("reason"), 6: _s("message"),
}

# --- k8s.io/api/core/v1: containers ------------------------------------------

_LOCAL_OBJECT_REFERENCE: Schema = {1: _s("name")}
_OBJECT_REFERENCE: Schema = {
    1: _s("kind"), 2: _s("namespace"), 3: _s("name"), 4: _s("uid"), 5: _s("apiVersion"),
    6: _s("resourceVersion"), 7: _s("fieldPath"),
}
_OBJECT_FIELD_SELECTOR: Schema = {1: _s("apiVersion"), 2: _s("fieldPath")}
_RESOURCE_FIELD_SELECTOR: Schema = {1: _s("containerName"), 2: _s("resource"), 3: _q("divisor")}
_KEY_SELECTOR: Schema = {  # ConfigMapKeySelector and SecretKeySelector
    1: _inline(_LOCAL_OBJECT_REFERENCE), 2: _s("key"), 3: _b("optional", ptr=True),
}
_FILE_KEY_SELECTOR: Schema = {
    1: _s("volumeName"), 2: _s("path"), 3: _s("key"), 4: _b("optional", ptr=True),
}
_ENV_VAR_SOURCE: Schema = {
    1: _m("fieldRef", _OBJECT_FIELD_SELECTOR), 2: _m("resourceFieldRef", _RESOURCE_FIELD_SELECTOR),
    3: _m("configMapKeyRef", _KEY_SELECTOR), 4: _m("secretKeyRef", _KEY_SELECTOR),
    5: _m("fileKeyRef", _FILE_KEY_SELECTOR),
}
_ENV_VAR: Schema = {1: _s("name"), 2: _s("value"), 3: _m("valueFrom", _ENV_VAR_SOURCE)}
_ENV_SOURCE_REF: Schema = {  # ConfigMapEnvSource and SecretEnvSource
    1: _inline(_LOCAL_OBJECT_REFERENCE), 2: _b("optional", ptr=True),
}
_ENV_FROM_SOURCE: Schema = {
    1: _s("prefix"), 2: _m("configMapRef", _ENV_SOURCE_REF), 3: _m("secretRef", _ENV_SOURCE_REF),
}
_CONTAINER_PORT: Schema = {
    1: _s("name"), 2: _i("hostPort"), 3: _i("containerPort"), 4: _s("protocol"), 5: _s("hostIP"),
}
_RESOURCE_REQUIREMENTS: Schema = {
    1: _map("limits", QUANTITY), 2: _map("requests", QUANTITY),
    3: _m("claims", {1: _s("name"), 2: _s("request")}, rep=True),
}
_VOLUME_MOUNT: Schema = {
    1: _s("name"), 2: _b("readOnly"), 7: _s("recursiveReadOnly", ptr=True), 3: _s("mountPath"),
    4: _s("subPath"), 5: _s("mountPropagation", ptr=True), 6: _s("subPathExpr"),
}
_EXEC_ACTION: Schema = {1: _s("command", rep=True)}
_HTTP_GET_ACTION: Schema = {
    1: _s("path"), 2: _ios("port"), 3: _s("host"), 4: _s("scheme"),
    5: _m("httpHeaders", {1: _s("name"), 2: _s("value")}, rep=True),
}
_TCP_SOCKET_ACTION: Schema = {1: _ios("port"), 2: _s("host")}
_PROBE_HANDLER: Schema = {
    1: _m("exec", _EXEC_ACTION), 2: _m("httpGet", _HTTP_GET_ACTION),
    3: _m("tcpSocket", _TCP_SOCKET_ACTION),
    4: _m("grpc", {1: _i("port"), 2: _s("service", ptr=True)}),
}
_PROBE: Schema = {
    1: _inline(_PROBE_HANDLER), 2: _i("initialDelaySeconds"), 3: _i("timeoutSeconds"),
    4: _i("periodSeconds"), 5: _i("successThreshold"), 6: _i("failureThreshold"),
    7: _i("terminationGracePeriodSeconds", ptr=True),
}
_LIFECYCLE_HANDLER: Schema = {
    1: _m("exec", _EXEC_ACTION), 2: _m("httpGet", _HTTP_GET_ACTION),
    3: _m("tcpSocket", _TCP_SOCKET_ACTION), 4: _m("sleep", {1: _i("seconds")}),
}
_LIFECYCLE: Schema = {
    1: _m("postStart", _LIFECYCLE_HANDLER), 2: _m("preStop", _LIFECYCLE_HANDLER),
    3: _s("stopSignal", ptr=True),
}
_SE_LINUX_OPTIONS: Schema = {1: _s("user"), 2: _s("role"), 3: _s("type"), 4: _s("level")}
_WINDOWS_OPTIONS: Schema = {
    1: _s("gmsaCredentialSpecName", ptr=True), 2: _s("gmsaCredentialSpec", ptr=True),
    3: _s("runAsUserName", ptr=True), 4: _b("hostProcess", ptr=True),
}
_PROFILE: Schema = {1: _s("type"), 2: _s("localhostProfile", ptr=True)}  # seccomp, AppArmor
_SECURITY_CONTEXT: Schema = {
    1: _m("capabilities", {1: _s("add", rep=True), 2: _s("drop", rep=True)}),
    2: _b("privileged", ptr=True), 3: _m("seLinuxOptions", _SE_LINUX_OPTIONS),
    10: _m("windowsOptions", _WINDOWS_OPTIONS), 4: _i("runAsUser", ptr=True),
    8: _i("runAsGroup", ptr=True), 5: _b("runAsNonRoot", ptr=True),
    6: _b("readOnlyRootFilesystem", ptr=True), 7: _b("allowPrivilegeEscalation", ptr=True),
    9: _s("procMount", ptr=True), 11: _m("seccompProfile", _PROFILE),
    12: _m("appArmorProfile", _PROFILE),
}
_CONTAINER: Schema = {
    1: _s("name"), 2: _s("image"), 3: _s("command", rep=True), 4: _s("args", rep=True),
    5: _s("workingDir"), 6: _m("ports", _CONTAINER_PORT, rep=True),
    19: _m("envFrom", _ENV_FROM_SOURCE, rep=True), 7: _m("env", _ENV_VAR, rep=True),
    8: _m("resources", _RESOURCE_REQUIREMENTS),
    23: _m("resizePolicy", {1: _s("resourceName"), 2: _s("restartPolicy")}, rep=True),
    24: _s("restartPolicy", ptr=True),
    9: _m("volumeMounts", _VOLUME_MOUNT, rep=True),
    21: _m("volumeDevices", {1: _s("name"), 2: _s("devicePath")}, rep=True),
    10: _m("livenessProbe", _PROBE), 11: _m("readinessProbe", _PROBE),
    22: _m("startupProbe", _PROBE), 12: _m("lifecycle", _LIFECYCLE),
    13: _s("terminationMessagePath"), 20: _s("terminationMessagePolicy"),
    14: _s("imagePullPolicy"), 15: _m("securityContext", _SECURITY_CONTEXT),
    16: _b("stdin"), 17: _b("stdinOnce"), 18: _b("tty"),
}
# EphemeralContainerCommon has Container's field numbers; it is embedded inline.
_EPHEMERAL_CONTAINER: Schema = {1: _inline(_CONTAINER), 2: _s("targetContainerName")}

# --- k8s.io/api/core/v1: volumes ---------------------------------------------

_KEY_TO_PATH: Schema = {1: _s("key"), 2: _s("path"), 3: _i("mode", ptr=True)}
_CONFIG_MAP_VOLUME: Schema = {
    1: _inline(_LOCAL_OBJECT_REFERENCE), 2: _m("items", _KEY_TO_PATH, rep=True),
    3: _i("defaultMode", ptr=True), 4: _b("optional", ptr=True),
}
_SECRET_VOLUME: Schema = {
    1: _s("secretName"), 2: _m("items", _KEY_TO_PATH, rep=True),
    3: _i("defaultMode", ptr=True), 4: _b("optional", ptr=True),
}
_DOWNWARD_API_FILE: Schema = {
    1: _s("path"), 2: _m("fieldRef", _OBJECT_FIELD_SELECTOR),
    3: _m("resourceFieldRef", _RESOURCE_FIELD_SELECTOR), 4: _i("mode", ptr=True),
}
_PROJECTION_REF: Schema = {  # ConfigMapProjection and SecretProjection
    1: _inline(_LOCAL_OBJECT_REFERENCE), 2: _m("items", _KEY_TO_PATH, rep=True),
    4: _b("optional", ptr=True),
}
_VOLUME_PROJECTION: Schema = {
    1: _m("secret", _PROJECTION_REF),
    2: _m("downwardAPI", {1: _m("items", _DOWNWARD_API_FILE, rep=True)}),
    3: _m("configMap", _PROJECTION_REF),
    4: _m("serviceAccountToken", {
        1: _s("audience"), 2: _i("expirationSeconds", ptr=True), 3: _s("path")}),
}
_VOLUME_SOURCE: Schema = {
    1: _m("hostPath", {1: _s("path"), 2: _s("type", ptr=True)}),
    2: _m("emptyDir", {1: _s("medium"), 2: _q("sizeLimit")}),
    6: _m("secret", _SECRET_VOLUME),
    7: _m("nfs", {1: _s("server"), 2: _s("path"), 3: _b("readOnly")}),
    10: _m("persistentVolumeClaim", {1: _s("claimName"), 2: _b("readOnly")}),
    16: _m("downwardAPI", {
        1: _m("items", _DOWNWARD_API_FILE, rep=True), 2: _i("defaultMode", ptr=True)}),
    19: _m("configMap", _CONFIG_MAP_VOLUME),
    26: _m("projected", {
        1: _m("sources", _VOLUME_PROJECTION, rep=True), 2: _i("defaultMode", ptr=True)}),
    28: _m("csi", {
        1: _s("driver"), 2: _b("readOnly", ptr=True), 3: _s("fsType", ptr=True),
        4: _map("volumeAttributes"), 5: _m("nodePublishSecretRef", _LOCAL_OBJECT_REFERENCE)}),
    30: _m("image", {1: _s("reference"), 2: _s("pullPolicy")}),
}
_VOLUME: Schema = {1: _s("name"), 2: _inline(_VOLUME_SOURCE)}

# --- k8s.io/api/core/v1: scheduling ------------------------------------------

_NODE_SELECTOR_REQUIREMENT: Schema = {1: _s("key"), 2: _s("operator"), 3: _s("values", rep=True)}
_NODE_SELECTOR_TERM: Schema = {
    1: _m("matchExpressions", _NODE_SELECTOR_REQUIREMENT, rep=True),
    2: _m("matchFields", _NODE_SELECTOR_REQUIREMENT, rep=True),
}
_NODE_AFFINITY: Schema = {
    1: _m("requiredDuringSchedulingIgnoredDuringExecution", {
        1: _m("nodeSelectorTerms", _NODE_SELECTOR_TERM, rep=True)}),
    2: _m("preferredDuringSchedulingIgnoredDuringExecution", {
        1: _i("weight"), 2: _m("preference", _NODE_SELECTOR_TERM)}, rep=True),
}
_POD_AFFINITY_TERM: Schema = {
    1: _m("labelSelector", _LABEL_SELECTOR), 2: _s("namespaces", rep=True), 3: _s("topologyKey"),
    4: _m("namespaceSelector", _LABEL_SELECTOR), 5: _s("matchLabelKeys", rep=True),
    6: _s("mismatchLabelKeys", rep=True),
}
_POD_AFFINITY: Schema = {  # PodAffinity and PodAntiAffinity
    1: _m("requiredDuringSchedulingIgnoredDuringExecution", _POD_AFFINITY_TERM, rep=True),
    2: _m("preferredDuringSchedulingIgnoredDuringExecution", {
        1: _i("weight"), 2: _m("podAffinityTerm", _POD_AFFINITY_TERM)}, rep=True),
}
_AFFINITY: Schema = {
    1: _m("nodeAffinity", _NODE_AFFINITY), 2: _m("podAffinity", _POD_AFFINITY),
    3: _m("podAntiAffinity", _POD_AFFINITY),
}
_TOLERATION: Schema = {
    1: _s("key"), 2: _s("operator"), 3: _s("value"), 4: _s("effect"),
    5: _i("tolerationSeconds", ptr=True),
}
_TOPOLOGY_SPREAD_CONSTRAINT: Schema = {
    1: _i("maxSkew"), 2: _s("topologyKey"), 3: _s("whenUnsatisfiable"),
    4: _m("labelSelector", _LABEL_SELECTOR), 5: _i("minDomains", ptr=True),
    6: _s("nodeAffinityPolicy", ptr=True), 7: _s("nodeTaintsPolicy", ptr=True),
    8: _s("matchLabelKeys", rep=True),
}
_POD_SECURITY_CONTEXT: Schema = {
    1: _m("seLinuxOptions", _SE_LINUX_OPTIONS), 8: _m("windowsOptions", _WINDOWS_OPTIONS),
    2: _i("runAsUser", ptr=True), 6: _i("runAsGroup", ptr=True), 3: _b("runAsNonRoot", ptr=True),
    4: _i("supplementalGroups", rep=True), 12: _s("supplementalGroupsPolicy", ptr=True),
    5: _i("fsGroup", ptr=True), 7: _m("sysctls", {1: _s("name"), 2: _s("value")}, rep=True),
    9: _s("fsGroupChangePolicy", ptr=True), 10: _m("seccompProfile", _PROFILE),
    11: _m("appArmorProfile", _PROFILE), 13: _s("seLinuxChangePolicy", ptr=True),
}
_POD_SPEC: Schema = {
    1: _m("volumes", _VOLUME, rep=True), 20: _m("initContainers", _CONTAINER, rep=True),
    2: _m("containers", _CONTAINER, rep=True),
    34: _m("ephemeralContainers", _EPHEMERAL_CONTAINER, rep=True),
    3: _s("restartPolicy"), 4: _i("terminationGracePeriodSeconds", ptr=True),
    5: _i("activeDeadlineSeconds", ptr=True), 6: _s("dnsPolicy"), 7: _map("nodeSelector"),
    8: _s("serviceAccountName"), 9: _s("serviceAccount"),
    21: _b("automountServiceAccountToken", ptr=True), 10: _s("nodeName"),
    11: _b("hostNetwork"), 12: _b("hostPID"), 13: _b("hostIPC"),
    27: _b("shareProcessNamespace", ptr=True), 14: _m("securityContext", _POD_SECURITY_CONTEXT),
    15: _m("imagePullSecrets", _LOCAL_OBJECT_REFERENCE, rep=True),
    16: _s("hostname"), 17: _s("subdomain"), 18: _m("affinity", _AFFINITY),
    19: _s("schedulerName"), 22: _m("tolerations", _TOLERATION, rep=True),
    23: _m("hostAliases", {1: _s("ip"), 2: _s("hostnames", rep=True)}, rep=True),
    24: _s("priorityClassName"), 25: _i("priority", ptr=True),
    26: _m("dnsConfig", {
        1: _s("nameservers", rep=True), 2: _s("searches", rep=True),
        3: _m("options", {1: _s("name"), 2: _s("value", ptr=True)}, rep=True)}),
    28: _m("readinessGates", {1: _s("conditionType")}, rep=True),
    29: _s("runtimeClassName", ptr=True), 30: _b("enableServiceLinks", ptr=True),
    31: _s("preemptionPolicy", ptr=True), 32: _map("overhead", QUANTITY),
    33: _m("topologySpreadConstraints", _TOPOLOGY_SPREAD_CONSTRAINT, rep=True),
    35: _b("setHostnameAsFQDN", ptr=True), 36: _m("os", {1: _s("name")}),
    37: _b("hostUsers", ptr=True), 38: _m("schedulingGates", {1: _s("name")}, rep=True),
    39: _m("resourceClaims", {
        1: _s("name"), 3: _s("resourceClaimName", ptr=True),
        4: _s("resourceClaimTemplateName", ptr=True)}, rep=True),
    40: _m("resources", _RESOURCE_REQUIREMENTS), 41: _s("hostnameOverride", ptr=True),
}
_POD_TEMPLATE_SPEC: Schema = {1: _m("metadata", _OBJECT_META), 2: _m("spec", _POD_SPEC)}

# --- k8s.io/api/core/v1: status ----------------------------------------------

_CONTAINER_STATE: Schema = {
    1: _m("waiting", {1: _s("reason"), 2: _s("message")}),
    2: _m("running", {1: _t("startedAt")}),
    3: _m("terminated", {
        1: _i("exitCode"), 2: _i("signal"), 3: _s("reason"), 4: _s("message"),
        5: _t("startedAt"), 6: _t("finishedAt"), 7: _s("containerID")}),
}
_CONTAINER_STATUS: Schema = {
    1: _s("name"), 2: _m("state", _CONTAINER_STATE), 3: _m("lastState", _CONTAINER_STATE),
    4: _b("ready"), 5: _i("restartCount"), 6: _s("image"), 7: _s("imageID"),
    8: _s("containerID"), 9: _b("started", ptr=True), 10: _map("allocatedResources", QUANTITY),
    11: _m("resources", _RESOURCE_REQUIREMENTS), 15: _s("stopSignal", ptr=True),
}
_POD_STATUS: Schema = {
    17: _i("observedGeneration"), 1: _s("phase"),
    2: _m("conditions", {
        1: _s("type"), 7: _i("observedGeneration"), 2: _s("status"), 3: _t("lastProbeTime"),
        4: _t("lastTransitionTime"), 5: _s("reason"), 6: _s("message")}, rep=True),
    3: _s("message"), 4: _s("reason"), 11: _s("nominatedNodeName"), 5: _s("hostIP"),
    16: _m("hostIPs", {1: _s("ip")}, rep=True), 6: _s("podIP"),
    12: _m("podIPs", {1: _s("ip")}, rep=True), 7: _t("startTime", ptr=True),
    10: _m("initContainerStatuses", _CONTAINER_STATUS, rep=True),
    8: _m("containerStatuses", _CONTAINER_STATUS, rep=True), 9: _s("qosClass"),
    13: _m("ephemeralContainerStatuses", _CONTAINER_STATUS, rep=True),
}
_TYPED_CONDITION: Schema = {  # the per-kind condition shapes without observedGeneration
    1: _s("type"), 2: _s("status"), 3: _t("lastTransitionTime"), 4: _s("reason"), 5: _s("message"),
}

# --- k8s.io/api/core/v1: kinds -------------------------------------------------

_POD: Schema = {1: _m("metadata", _OBJECT_META), 2: _m("spec", _POD_SPEC), 3: _m("status", _POD_STATUS)}

_SERVICE_PORT: Schema = {
    1: _s("name"), 2: _s("protocol"), 6: _s("appProtocol", ptr=True), 3: _i("port"),
    4: _ios("targetPort"), 5: _i("nodePort"),
}
_SERVICE_SPEC: Schema = {
    1: _m("ports", _SERVICE_PORT, rep=True), 2: _map("selector"), 3: _s("clusterIP"),
    18: _s("clusterIPs", rep=True), 4: _s("type"), 5: _s("externalIPs", rep=True),
    7: _s("sessionAffinity"), 8: _s("loadBalancerIP"), 9: _s("loadBalancerSourceRanges", rep=True),
    10: _s("externalName"), 11: _s("externalTrafficPolicy"), 12: _i("healthCheckNodePort"),
    13: _b("publishNotReadyAddresses"),
    14: _m("sessionAffinityConfig", {1: _m("clientIP", {1: _i("timeoutSeconds", ptr=True)})}),
    19: _s("ipFamilies", rep=True), 17: _s("ipFamilyPolicy", ptr=True),
    20: _b("allocateLoadBalancerNodePorts", ptr=True), 21: _s("loadBalancerClass", ptr=True),
    22: _s("internalTrafficPolicy", ptr=True), 23: _s("trafficDistribution", ptr=True),
}
_SERVICE_STATUS: Schema = {
    1: _m("loadBalancer", {1: _m("ingress", {
        1: _s("ip"), 2: _s("hostname"), 3: _s("ipMode", ptr=True),
        4: _m("ports", {1: _i("port"), 2: _s("protocol"), 3: _s("error", ptr=True)}, rep=True),
    }, rep=True)}),
    2: _m("conditions", _CONDITION, rep=True),
}
_SERVICE: Schema = {
    1: _m("metadata", _OBJECT_META), 2: _m("spec", _SERVICE_SPEC), 3: _m("status", _SERVICE_STATUS),
}

_NAMESPACE: Schema = {
    1: _m("metadata", _OBJECT_META), 2: _m("spec", {1: _s("finalizers", rep=True)}),
    3: _m("status", {1: _s("phase"), 2: _m("conditions", {
        1: _s("type"), 2: _s("status"), 4: _t("lastTransitionTime"), 5: _s("reason"),
        6: _s("message")}, rep=True)}),
}

_REPLICATION_CONTROLLER: Schema = {
    1: _m("metadata", _OBJECT_META),
    2: _m("spec", {
        1: _i("replicas", ptr=True), 4: _i("minReadySeconds"), 2: _map("selector"),
        3: _m("template", _POD_TEMPLATE_SPEC)}),
    3: _m("status", {
        1: _i("replicas"), 2: _i("fullyLabeledReplicas"), 4: _i("readyReplicas"),
        5: _i("availableReplicas"), 3: _i("observedGeneration"),
        6: _m("conditions", _TYPED_CONDITION, rep=True)}),
}

_NODE_SPEC: Schema = {
    1: _s("podCIDR"), 7: _s("podCIDRs", rep=True), 3: _s("providerID"), 4: _b("unschedulable"),
    5: _m("taints", {
        1: _s("key"), 2: _s("value"), 3: _s("effect"), 4: _t("timeAdded", ptr=True)}, rep=True),
    2: _s("externalID"),
}
_NODE_STATUS: Schema = {
    1: _map("capacity", QUANTITY), 2: _map("allocatable", QUANTITY), 3: _s("phase"),
    4: _m("conditions", {
        1: _s("type"), 2: _s("status"), 3: _t("lastHeartbeatTime"), 4: _t("lastTransitionTime"),
        5: _s("reason"), 6: _s("message")}, rep=True),
    5: _m("addresses", {1: _s("type"), 2: _s("address")}, rep=True),
    6: _m("daemonEndpoints", {1: _m("kubeletEndpoint", {1: _i("Port")})}),
    7: _m("nodeInfo", {
        1: _s("machineID"), 2: _s("systemUUID"), 3: _s("bootID"), 4: _s("kernelVersion"),
        5: _s("osImage"), 6: _s("containerRuntimeVersion"), 7: _s("kubeletVersion"),
        8: _s("kubeProxyVersion"), 9: _s("operatingSystem"), 10: _s("architecture")}),
    8: _m("images", {1: _s("names", rep=True), 2: _i("sizeBytes")}, rep=True),
    9: _s("volumesInUse", rep=True),
}
_NODE: Schema = {1: _m("metadata", _OBJECT_META), 2: _m("spec", _NODE_SPEC), 3: _m("status", _NODE_STATUS)}

_ENDPOINT_ADDRESS: Schema = {
    1: _s("ip"), 3: _s("hostname"), 4: _s("nodeName", ptr=True), 2: _m("targetRef", _OBJECT_REFERENCE),
}
_ENDPOINTS: Schema = {
    1: _m("metadata", _OBJECT_META),
    2: _m("subsets", {
        1: _m("addresses", _ENDPOINT_ADDRESS, rep=True),
        2: _m("notReadyAddresses", _ENDPOINT_ADDRESS, rep=True),
        3: _m("ports", {
            1: _s("name"), 2: _i("port"), 3: _s("protocol"), 4: _s("appProtocol", ptr=True)},
            rep=True)}, rep=True),
}

_EVENT: Schema = {
    1: _m("metadata", _OBJECT_META), 2: _m("involvedObject", _OBJECT_REFERENCE),
    3: _s("reason"), 4: _s("message"), 5: _m("source", {1: _s("component"), 2: _s("host")}),
    6: _t("firstTimestamp"), 7: _t("lastTimestamp"), 8: _i("count"), 9: _s("type"),
    10: Field("eventTime", MICROTIME),
    11: _m("series", {1: _i("count"), 2: Field("lastObservedTime", MICROTIME)}),
    12: _s("action"), 13: _m("related", _OBJECT_REFERENCE), 14: _s("reportingComponent"),
    15: _s("reportingInstance"),
}

# --- k8s.io/api/apps/v1 ----------------------------------------------------------

_DEPLOYMENT_SPEC: Schema = {
    1: _i("replicas", ptr=True), 2: _m("selector", _LABEL_SELECTOR),
    3: _m("template", _POD_TEMPLATE_SPEC),
    4: _m("strategy", {1: _s("type"), 2: _m("rollingUpdate", {
        1: _ios("maxUnavailable", ptr=True), 2: _ios("maxSurge", ptr=True)})}),
    5: _i("minReadySeconds"), 6: _i("revisionHistoryLimit", ptr=True), 7: _b("paused"),
    9: _i("progressDeadlineSeconds", ptr=True), 10: _s("podReplacementPolicy", ptr=True),
}
_DEPLOYMENT_STATUS: Schema = {
    1: _i("observedGeneration"), 2: _i("replicas"), 3: _i("updatedReplicas"),
    7: _i("readyReplicas"), 4: _i("availableReplicas"), 5: _i("unavailableReplicas"),
    9: _i("terminatingReplicas", ptr=True),
    6: _m("conditions", {
        1: _s("type"), 2: _s("status"), 6: _t("lastUpdateTime"), 7: _t("lastTransitionTime"),
        4: _s("reason"), 5: _s("message")}, rep=True),
    8: _i("collisionCount", ptr=True),
}
_DEPLOYMENT: Schema = {
    1: _m("metadata", _OBJECT_META), 2: _m("spec", _DEPLOYMENT_SPEC),
    3: _m("status", _DEPLOYMENT_STATUS),
}
_REPLICA_SET: Schema = {
    1: _m("metadata", _OBJECT_META),
    2: _m("spec", {
        1: _i("replicas", ptr=True), 4: _i("minReadySeconds"), 2: _m("selector", _LABEL_SELECTOR),
        3: _m("template", _POD_TEMPLATE_SPEC)}),
    3: _m("status", {
        1: _i("replicas"), 2: _i("fullyLabeledReplicas"), 4: _i("readyReplicas"),
        5: _i("availableReplicas"), 7: _i("terminatingReplicas", ptr=True),
        3: _i("observedGeneration"), 6: _m("conditions", _TYPED_CONDITION, rep=True)}),
}

# --- k8s.io/api/autoscaling/v1 and v2 ----------------------------------------------

_CROSS_VERSION_OBJECT_REFERENCE: Schema = {1: _s("kind"), 2: _s("name"), 3: _s("apiVersion")}
_HPA_V1: Schema = {
    1: _m("metadata", _OBJECT_META),
    2: _m("spec", {
        1: _m("scaleTargetRef", _CROSS_VERSION_OBJECT_REFERENCE), 2: _i("minReplicas", ptr=True),
        3: _i("maxReplicas"), 4: _i("targetCPUUtilizationPercentage", ptr=True)}),
    3: _m("status", {
        1: _i("observedGeneration", ptr=True), 2: _t("lastScaleTime", ptr=True),
        3: _i("currentReplicas"), 4: _i("desiredReplicas"),
        5: _i("currentCPUUtilizationPercentage", ptr=True)}),
}

_METRIC_IDENTIFIER: Schema = {1: _s("name"), 2: _m("selector", _LABEL_SELECTOR)}
_METRIC_TARGET: Schema = {
    1: _s("type"), 2: _q("value"), 3: _q("averageValue"), 4: _i("averageUtilization", ptr=True),
}
_METRIC_VALUE_STATUS: Schema = {
    1: _q("value"), 2: _q("averageValue"), 3: _i("averageUtilization", ptr=True),
}
_METRIC_SPEC: Schema = {
    1: _s("type"),
    2: _m("object", {
        1: _m("describedObject", _CROSS_VERSION_OBJECT_REFERENCE), 2: _m("target", _METRIC_TARGET),
        3: _m("metric", _METRIC_IDENTIFIER)}),
    3: _m("pods", {1: _m("metric", _METRIC_IDENTIFIER), 2: _m("target", _METRIC_TARGET)}),
    4: _m("resource", {1: _s("name"), 2: _m("target", _METRIC_TARGET)}),
    7: _m("containerResource", {
        1: _s("name"), 2: _m("target", _METRIC_TARGET), 3: _s("container")}),
    5: _m("external", {1: _m("metric", _METRIC_IDENTIFIER), 2: _m("target", _METRIC_TARGET)}),
}
_METRIC_STATUS: Schema = {
    1: _s("type"),
    2: _m("object", {
        1: _m("metric", _METRIC_IDENTIFIER), 2: _m("current", _METRIC_VALUE_STATUS),
        3: _m("describedObject", _CROSS_VERSION_OBJECT_REFERENCE)}),
    3: _m("pods", {1: _m("metric", _METRIC_IDENTIFIER), 2: _m("current", _METRIC_VALUE_STATUS)}),
    4: _m("resource", {1: _s("name"), 2: _m("current", _METRIC_VALUE_STATUS)}),
    7: _m("containerResource", {
        1: _s("name"), 2: _m("current", _METRIC_VALUE_STATUS), 3: _s("container")}),
    5: _m("external", {1: _m("metric", _METRIC_IDENTIFIER), 2: _m("current", _METRIC_VALUE_STATUS)}),
}
_HPA_SCALING_RULES: Schema = {
    3: _i("stabilizationWindowSeconds", ptr=True), 1: _s("selectPolicy", ptr=True),
    2: _m("policies", {1: _s("type"), 2: _i("value"), 3: _i("periodSeconds")}, rep=True),
    4: _q("tolerance"),
}
_HPA_V2: Schema = {
    1: _m("metadata", _OBJECT_META),
    2: _m("spec", {
        1: _m("scaleTargetRef", _CROSS_VERSION_OBJECT_REFERENCE), 2: _i("minReplicas", ptr=True),
        3: _i("maxReplicas"), 4: _m("metrics", _METRIC_SPEC, rep=True),
        5: _m("behavior", {
            1: _m("scaleUp", _HPA_SCALING_RULES), 2: _m("scaleDown", _HPA_SCALING_RULES)})}),
    3: _m("status", {
        1: _i("observedGeneration", ptr=True), 2: _t("lastScaleTime", ptr=True),
        3: _i("currentReplicas"), 4: _i("desiredReplicas"),
        5: _m("currentMetrics", _METRIC_STATUS, rep=True),
        6: _m("conditions", _TYPED_CONDITION, rep=True)}),
}

# --- k8s.io/api/rbac/v1 -----------------------------------------------------------

_POLICY_RULE: Schema = {
    1: _s("verbs", rep=True), 2: _s("apiGroups", rep=True), 3: _s("resources", rep=True),
    4: _s("resourceNames", rep=True), 5: _s("nonResourceURLs", rep=True),
}
_SUBJECT: Schema = {1: _s("kind"), 2: _s("apiGroup"), 3: _s("name"), 4: _s("namespace")}
_ROLE_REF: Schema = {1: _s("apiGroup"), 2: _s("kind"), 3: _s("name")}
_ROLE: Schema = {1: _m("metadata", _OBJECT_META), 2: _m("rules", _POLICY_RULE, rep=True)}
_CLUSTER_ROLE: Schema = {
    1: _m("metadata", _OBJECT_META), 2: _m("rules", _POLICY_RULE, rep=True),
    3: _m("aggregationRule", {1: _m("clusterRoleSelectors", _LABEL_SELECTOR, rep=True)}),
}
_ROLE_BINDING: Schema = {
    1: _m("metadata", _OBJECT_META), 2: _m("subjects", _SUBJECT, rep=True), 3: _m("roleRef", _ROLE_REF),
}

# --- k8s.io/api/authorization/v1 (what `kubectl auth can-i` sends) -------------------------

_SELECTOR_ATTRIBUTES: Schema = {
    1: _s("rawSelector"), 2: _m("requirements", _LABEL_SELECTOR_REQUIREMENT, rep=True),
}
_RESOURCE_ATTRIBUTES: Schema = {
    1: _s("namespace"), 2: _s("verb"), 3: _s("group"), 4: _s("version"), 5: _s("resource"),
    6: _s("subresource"), 7: _s("name"), 8: _m("fieldSelector", _SELECTOR_ATTRIBUTES),
    9: _m("labelSelector", _SELECTOR_ATTRIBUTES),
}
_NON_RESOURCE_ATTRIBUTES: Schema = {1: _s("path"), 2: _s("verb")}
_ACCESS_REVIEW_STATUS: Schema = {1: _b("allowed"), 4: _b("denied"), 2: _s("reason"), 3: _s("evaluationError")}
# spec.extra (field 5, map<string, ExtraValue>) is left out: a map of messages,
# which no client of minik8s sends in protobuf; it would be skipped as unknown.
_SUBJECT_ACCESS_REVIEW: Schema = {
    1: _m("metadata", _OBJECT_META),
    2: _m("spec", {1: _m("resourceAttributes", _RESOURCE_ATTRIBUTES),
                   2: _m("nonResourceAttributes", _NON_RESOURCE_ATTRIBUTES),
                   3: _s("user"), 4: _s("groups", rep=True), 6: _s("uid")}),
    3: _m("status", _ACCESS_REVIEW_STATUS),
}
_SELF_SUBJECT_ACCESS_REVIEW: Schema = {
    1: _m("metadata", _OBJECT_META),
    2: _m("spec", {1: _m("resourceAttributes", _RESOURCE_ATTRIBUTES),
                   2: _m("nonResourceAttributes", _NON_RESOURCE_ATTRIBUTES)}),
    3: _m("status", _ACCESS_REVIEW_STATUS),
}
_SELF_SUBJECT_RULES_REVIEW: Schema = {
    1: _m("metadata", _OBJECT_META), 2: _m("spec", {1: _s("namespace")}),
}

_TYPE_META: Schema = {1: _s("apiVersion"), 2: _s("kind")}

KINDS: Final[dict[tuple[str, str], Schema]] = {
    ("v1", "Pod"): _POD,
    ("v1", "Service"): _SERVICE,
    ("v1", "Namespace"): _NAMESPACE,
    ("v1", "ReplicationController"): _REPLICATION_CONTROLLER,
    ("v1", "Node"): _NODE,
    ("v1", "Endpoints"): _ENDPOINTS,
    ("v1", "Event"): _EVENT,
    ("rbac.authorization.k8s.io/v1", "Role"): _ROLE,
    ("rbac.authorization.k8s.io/v1", "ClusterRole"): _CLUSTER_ROLE,
    ("rbac.authorization.k8s.io/v1", "RoleBinding"): _ROLE_BINDING,
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"): _ROLE_BINDING,
    ("authorization.k8s.io/v1", "SelfSubjectAccessReview"): _SELF_SUBJECT_ACCESS_REVIEW,
    ("authorization.k8s.io/v1", "SelfSubjectRulesReview"): _SELF_SUBJECT_RULES_REVIEW,
    ("authorization.k8s.io/v1", "SubjectAccessReview"): _SUBJECT_ACCESS_REVIEW,
    ("authorization.k8s.io/v1", "LocalSubjectAccessReview"): _SUBJECT_ACCESS_REVIEW,
    ("apps/v1", "Deployment"): _DEPLOYMENT,
    ("apps/v1", "ReplicaSet"): _REPLICA_SET,
    ("autoscaling/v1", "HorizontalPodAutoscaler"): _HPA_V1,
    ("autoscaling/v2", "HorizontalPodAutoscaler"): _HPA_V2,
}

# ---------------------------------------------------------------------------
# Decoding
# ---------------------------------------------------------------------------


def _expect(wire: int, want: int, path: str) -> None:
    if wire != want:
        raise _bad(path, f"wire type {wire} where {want} was expected")


_EPOCH: Final = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def _time(buf: bytes, path: str, micro: bool) -> str | None:
    # Go writes a zero metav1.Time as an empty message and JSON writes it as null.
    if not buf:
        return None
    seconds = nanos = 0
    for num, wire, value in _fields(buf, path):
        if num == 1:
            _expect(wire, _VARINT, path)
            seconds = _signed(int(value))
        elif num == 2:
            _expect(wire, _VARINT, path)
            nanos = _signed(int(value))
    try:
        moment = _EPOCH + datetime.timedelta(seconds=seconds)
    except OverflowError as e:
        raise _bad(path, f"time {seconds}s is out of range") from e
    # Spelled out because strftime does not zero-pad years before 1000 on glibc.
    text = (f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"
            f"T{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}")
    if not micro:
        # metav1.Time keeps whole seconds only, in both its JSON and protobuf readers.
        return text + "Z"
    if not 0 <= nanos < 1_000_000_000:
        raise _bad(path, f"nanos {nanos} is out of range")
    return f"{text}.{nanos // 1000:06d}Z"


def _int_or_string(buf: bytes, path: str) -> int | str:
    kind = int_val = 0
    str_val = ""
    for num, wire, value in _fields(buf, path):
        if num == 1:
            _expect(wire, _VARINT, path)
            kind = _signed(int(value))
        elif num == 2:
            _expect(wire, _VARINT, path)
            int_val = _signed(int(value))
        elif num == 3:
            _expect(wire, _LEN, path)
            str_val = _text(value, path)
    return str_val if kind == 1 else int_val


def _quantity(buf: bytes, path: str) -> str:
    text = ""
    for num, wire, value in _fields(buf, path):
        if num == 1:
            _expect(wire, _LEN, path)
            text = _text(value, path)
    return text or "0"


def _raw_json(buf: bytes, path: str) -> Any:
    raw = b""
    for num, wire, value in _fields(buf, path):
        if num == 1:
            _expect(wire, _LEN, path)
            assert isinstance(value, bytes)
            raw = value
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError as e:
        raise _bad(path, "fieldsV1 is not JSON") from e


def _text(value: int | bytes, path: str) -> str:
    assert isinstance(value, bytes)
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError as e:
        raise _bad(path, "string is not valid UTF-8") from e


def _scalar(kind: str, wire: int, value: int | bytes, path: str) -> Any:
    if kind == STRING:
        _expect(wire, _LEN, path)
        return _text(value, path)
    if kind == BYTES:
        _expect(wire, _LEN, path)
        assert isinstance(value, bytes)
        return base64.b64encode(value).decode("ascii")
    if kind == INT:
        _expect(wire, _VARINT, path)
        return _signed(int(value))
    if kind == BOOL:
        _expect(wire, _VARINT, path)
        return bool(value)
    raise AssertionError(kind)


def _value(field: Field, wire: int, value: int | bytes, path: str) -> Any:
    if field.kind in (STRING, BYTES, INT, BOOL):
        return _scalar(field.kind, wire, value, path)
    _expect(wire, _LEN, path)
    assert isinstance(value, bytes)
    if field.kind == MESSAGE:
        assert field.msg is not None
        return _message(value, field.msg, path)
    if field.kind == TIME:
        return _time(value, path, micro=False)
    if field.kind == MICROTIME:
        return _time(value, path, micro=True)
    if field.kind == INTSTR:
        return _int_or_string(value, path)
    if field.kind == QUANTITY:
        return _quantity(value, path)
    if field.kind == RAWJSON:
        return _raw_json(value, path)
    raise AssertionError(field.kind)


def _map_entry(buf: bytes, field: Field, path: str) -> tuple[str, Any]:
    key = ""
    val: Any = "0" if field.value == QUANTITY else ""
    for num, wire, value in _fields(buf, path):
        if num == 1:
            _expect(wire, _LEN, path)
            key = _text(value, path)
        elif num == 2:
            _expect(wire, _LEN, path)
            if field.value == QUANTITY:
                assert isinstance(value, bytes)
                val = _quantity(value, f"{path}[{key}]")
            else:
                val = _scalar(field.value, wire, value, f"{path}[{key}]")
    return key, val


def _is_zero(value: Any) -> bool:
    return value in ("", 0, False)


def _message(buf: bytes, schema: Schema, path: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for num, wire, value in _fields(buf, path):
        field = schema.get(num)
        if field is None:
            continue
        here = f"{path}.{field.name}" if path else field.name
        if field.kind == INLINE:
            _expect(wire, _LEN, path)
            assert field.msg is not None and isinstance(value, bytes)
            out.update(_message(value, field.msg, path))
        elif field.kind == MAP:
            _expect(wire, _LEN, here)
            assert isinstance(value, bytes)
            key, val = _map_entry(value, field, here)
            out.setdefault(field.name, {})[key] = val
        elif field.repeated:
            items = out.setdefault(field.name, [])
            if wire == _LEN and field.kind in (INT, BOOL):
                # A packed list: accepted, though Kubernetes' proto2 messages never pack.
                assert isinstance(value, bytes)
                pos = 0
                while pos < len(value):
                    item, pos = _read_varint(value, pos, here)
                    items.append(_scalar(field.kind, _VARINT, item, here))
            else:
                items.append(_value(field, wire, value, f"{here}[{len(items)}]"))
        else:
            decoded = _value(field, wire, value, here)
            if field.kind == MESSAGE and isinstance(out.get(field.name), dict):
                # A message field seen twice merges, as protobuf specifies.
                out[field.name].update(decoded)
            elif field.kind in _SCALARS and not field.pointer and _is_zero(decoded):
                out.pop(field.name, None)
            else:
                out[field.name] = decoded
    return out


def decode(body: bytes) -> dict[str, Any]:
    """The JSON form of a `k8s\\0`-prefixed protobuf body, with apiVersion and kind set.

    Raises errors.BadRequest for a malformed body and errors.UnsupportedMediaType for
    a kind or encoding minik8s cannot read; never anything else.
    """
    try:
        return _decode(bytes(body))
    except errors.StatusError:
        raise
    except Exception as e:
        # Callers turn StatusErrors into responses; anything else would be a 500 for what is
        # the client's bad body, so even an unforeseen failure is reported as a BadRequest.
        raise errors.BadRequest(f"invalid protobuf request body: {e}") from e


def _decode(body: bytes) -> dict[str, Any]:
    if not body.startswith(MAGIC):
        raise errors.BadRequest(
            "invalid protobuf request body: it does not start with the Kubernetes "
            "protobuf prefix 6b 38 73 00 (\"k8s\\x00\")")
    # runtime.Unknown: {1 typeMeta{1 apiVersion, 2 kind}, 2 raw, 3 contentEncoding, 4 contentType}
    type_meta: dict[str, Any] = {}
    raw, encoding, content_type = b"", "", ""
    for num, wire, value in _fields(body[len(MAGIC):], ""):
        if num == 1:
            _expect(wire, _LEN, "typeMeta")
            assert isinstance(value, bytes)
            type_meta = _message(value, _TYPE_META, "typeMeta")
        elif num == 2:
            _expect(wire, _LEN, "raw")
            assert isinstance(value, bytes)
            raw = value
        elif num == 3:
            _expect(wire, _LEN, "contentEncoding")
            encoding = _text(value, "contentEncoding")
        elif num == 4:
            _expect(wire, _LEN, "contentType")
            content_type = _text(value, "contentType")
    if encoding:
        raise errors.UnsupportedMediaType(f"protobuf content encoding {encoding!r} is not supported")
    if content_type and content_type != MEDIA_TYPE:
        raise errors.UnsupportedMediaType(
            f"protobuf envelope content type {content_type!r} is not supported")
    api_version, kind = type_meta.get("apiVersion", ""), type_meta.get("kind", "")
    if not api_version or not kind:
        raise errors.BadRequest("invalid protobuf request body: apiVersion and kind are required")
    schema = KINDS.get((api_version, kind))
    if schema is None:
        raise errors.UnsupportedMediaType(
            f"minik8s cannot decode {api_version} {kind} from protobuf; send it as application/json")
    obj: dict[str, Any] = {"kind": kind, "apiVersion": api_version}
    obj.update(_message(raw, schema, ""))
    return obj


def supports(api_version: str, kind: str) -> bool:
    """Whether decode() reads protobuf bodies of this kind."""
    return (api_version, kind) in KINDS
