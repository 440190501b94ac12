"""Server-side defaulting, as kube-apiserver applies it before validation.

Ports pkg/apis/core/v1/defaults.go, pkg/apis/apps/v1/defaults.go,
pkg/apis/autoscaling/v{1,2}/defaults.go and the generated SetObjectDefaults_*
walks, plus the few create-time mutations whose results every `kubectl get -o
yaml` shows (namespace strategy, service IP families, and the Priority,
DefaultTolerationSeconds and ServiceAccount admission plugins for pods).
Objects are the JSON dicts of the API; defaulting mutates them in place and only
fills what is absent (or zero where Go cannot tell zero from absent).

Allocation (clusterIP, nodePort), names, uids, timestamps and namespaces are the
API server's job, not this module's.
"""
from __future__ import annotations

import base64

import re
from typing import Any, Callable

from minik8s.api import quantity
from minik8s.api import resources

Obj = dict[str, Any]

# Every VolumeSource member; a volume with none of them becomes an emptyDir.
VOLUME_SOURCES = (
    "hostPath", "emptyDir", "gcePersistentDisk", "awsElasticBlockStore", "gitRepo", "secret", "nfs",
    "iscsi", "glusterfs", "persistentVolumeClaim", "rbd", "flexVolume", "cinder", "cephfs", "flocker",
    "downwardAPI", "fc", "azureFile", "configMap", "vsphereVolume", "quobyte", "azureDisk",
    "photonPersistentDisk", "projected", "portworxVolume", "scaleIO", "storageos", "csi", "ephemeral",
    "image",
)
_DEFAULT_MODE = 0o644  # Secret/ConfigMap/DownwardAPI/Projected volume file mode (420)
_PROBES = ("livenessProbe", "readinessProbe", "startupProbe")
_CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")
# Built-in PriorityClasses the Priority admission plugin resolves without objects.
_SYSTEM_PRIORITIES = {"system-node-critical": 2000001000, "system-cluster-critical": 2000000000}
_NOT_READY_TAINT = "node.kubernetes.io/not-ready"
_UNREACHABLE_TAINT = "node.kubernetes.io/unreachable"
_DEFAULT_TOLERATION_SECONDS = 300


def apply_defaults(res: resources.Resource, obj: Obj, old: Obj | None = None, *,
                   toleration_seconds: int = _DEFAULT_TOLERATION_SECONDS) -> None:
    """Fill Kubernetes' defaults into `obj` (a `res` object as the client sent it).

    `old` is the stored object on update; create-only mutations (admission
    plugins, namespace finalizers) are skipped when it is given.
    `toleration_seconds` is the DefaultTolerationSeconds admission setting
    (kube-apiserver's --default-not-ready/unreachable-toleration-seconds).
    """
    if res.group == "" and res.kind == "Pod":
        _pod(obj, old, toleration_seconds)
        return
    fn = _BY_KIND.get((res.group, res.kind, res.version)) or _BY_KIND.get((res.group, res.kind, ""))
    if fn is not None:
        fn(obj, old)


# ---------------------------------------------------------------------------
# small helpers


def _dict(parent: Obj, key: str) -> Obj:
    """parent[key] as a dict, creating it (Go's zero struct) when absent."""
    value = parent.get(key)
    if not isinstance(value, dict):
        value = {}
        parent[key] = value
    return value


def _dicts(value: Any) -> list[Obj]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _child(parent: Any, key: str) -> Obj | None:
    value = parent.get(key) if isinstance(parent, dict) else None
    return value if isinstance(value, dict) else None


def _zero(value: Any) -> bool:
    """Go cannot tell an omitted scalar from its zero value."""
    return value is None or value == 0 or value == ""


def _set_if_zero(obj: Obj, key: str, value: Any) -> None:
    if _zero(obj.get(key)):
        obj[key] = value


# ---------------------------------------------------------------------------
# pods and pod templates


_NAME_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*"
_DOMAIN_PART = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"{_DOMAIN_PART}(?:\.{_DOMAIN_PART})*(?::[0-9]+)?"
_IMAGE_RE = re.compile(
    rf"^(?:(?:{_DOMAIN}|\[[0-9a-fA-F:]+\](?::[0-9]+)?)/)?{_NAME_COMPONENT}(?:/{_NAME_COMPONENT})*"
    r"(?::(?P<tag>[\w][\w.-]{0,127}))?"
    r"(?:@(?P<digest>[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}))?$")


def image_tag(image: str) -> str:
    """The tag parsers.ParseImageName finds: `latest` when neither tag nor digest is
    given, "" for digest-only or unparsable references."""
    m = _IMAGE_RE.match(image) if isinstance(image, str) else None
    if m is None:
        return ""
    if m.group("tag"):
        return m.group("tag")
    return "" if m.group("digest") else "latest"


def default_pull_policy(image: str) -> str:
    return "Always" if image_tag(image) == "latest" else "IfNotPresent"


def _resource_list(resources_: Any) -> None:
    """SetDefaults_ResourceList: round up to 1m and store the canonical spelling."""
    if not isinstance(resources_, dict):
        return
    for name, value in list(resources_.items()):
        try:
            resources_[name] = quantity.canonicalize(value, round_to_milli=True)
        except ValueError:
            pass  # left for validation to report


def _http_get(action: Any) -> None:
    if isinstance(action, dict):
        _set_if_zero(action, "path", "/")
        _set_if_zero(action, "scheme", "HTTP")


def _probe(probe: Obj) -> None:
    _set_if_zero(probe, "timeoutSeconds", 1)
    _set_if_zero(probe, "periodSeconds", 10)
    _set_if_zero(probe, "successThreshold", 1)
    _set_if_zero(probe, "failureThreshold", 3)
    _http_get(probe.get("httpGet"))
    grpc = _child(probe, "grpc")
    if grpc is not None and grpc.get("service") is None:
        grpc["service"] = ""


def _container(c: Obj) -> None:
    if _zero(c.get("imagePullPolicy")):
        c["imagePullPolicy"] = default_pull_policy(c.get("image", ""))
    _set_if_zero(c, "terminationMessagePath", "/dev/termination-log")
    _set_if_zero(c, "terminationMessagePolicy", "File")
    for port in _dicts(c.get("ports")):
        _set_if_zero(port, "protocol", "TCP")
    for env in _dicts(c.get("env")):
        field_ref = _child(_child(env, "valueFrom"), "fieldRef")
        if field_ref is not None:
            _set_if_zero(field_ref, "apiVersion", "v1")
    res = _child(c, "resources")
    if res is not None:
        _resource_list(res.get("limits"))
        _resource_list(res.get("requests"))
    for name in _PROBES:
        probe = _child(c, name)
        if probe is not None:
            _probe(probe)
    lifecycle = _child(c, "lifecycle")
    for hook in ("postStart", "preStop"):
        _http_get(_child(_child(lifecycle, hook), "httpGet"))


def _field_refs(items: Any) -> None:
    for item in _dicts(items):
        field_ref = _child(item, "fieldRef")
        if field_ref is not None:
            _set_if_zero(field_ref, "apiVersion", "v1")


def _volume(v: Obj) -> None:
    if not any(v.get(k) is not None for k in VOLUME_SOURCES):
        v["emptyDir"] = {}
    host_path = _child(v, "hostPath")
    if host_path is not None and host_path.get("type") is None:
        host_path["type"] = ""
    for key in ("secret", "configMap", "downwardAPI", "projected"):
        src = _child(v, key)
        if src is not None and src.get("defaultMode") is None:
            src["defaultMode"] = _DEFAULT_MODE
    _field_refs((_child(v, "downwardAPI") or {}).get("items"))
    for src in _dicts((_child(v, "projected") or {}).get("sources")):
        token = _child(src, "serviceAccountToken")
        if token is not None and token.get("expirationSeconds") is None:
            token["expirationSeconds"] = 3600
        _field_refs((_child(src, "downwardAPI") or {}).get("items"))
    iscsi = _child(v, "iscsi")
    if iscsi is not None:
        _set_if_zero(iscsi, "iscsiInterface", "default")
    claim = _child(_child(_child(v, "ephemeral"), "volumeClaimTemplate"), "spec")
    if claim is not None and claim.get("volumeMode") is None:
        claim["volumeMode"] = "Filesystem"


def pod_spec_defaults(spec: Obj) -> None:
    """SetDefaults_PodSpec and the walk over volumes and containers.

    This is all a pod *template* gets; pod-only defaults are in `_pod`.
    """
    _set_if_zero(spec, "dnsPolicy", "ClusterFirst")
    _set_if_zero(spec, "restartPolicy", "Always")
    if spec.get("securityContext") is None:
        spec["securityContext"] = {}
    if spec.get("terminationGracePeriodSeconds") is None:
        spec["terminationGracePeriodSeconds"] = 30
    _set_if_zero(spec, "schedulerName", "default-scheduler")
    for volume in _dicts(spec.get("volumes")):
        _volume(volume)
    for key in _CONTAINER_LISTS:
        for c in _dicts(spec.get(key)):
            _container(c)
    _resource_list(spec.get("overhead"))


def _requests_from_limits(c: Obj) -> None:
    """SetDefaults_Pod: a container that states only limits requests exactly those."""
    res = _child(c, "resources")
    if res is None or not isinstance(res.get("limits"), dict) or not res["limits"]:
        return
    requests = _dict(res, "requests")
    for name, value in res["limits"].items():
        requests.setdefault(name, value)


def _default_tolerations(spec: Obj, seconds: int) -> None:
    """DefaultTolerationSeconds admission: tolerate not-ready/unreachable for 5 minutes."""
    tolerations = spec.get("tolerations")
    if not isinstance(tolerations, list):
        tolerations = []
    present = {_NOT_READY_TAINT: False, _UNREACHABLE_TAINT: False}
    for t in _dicts(tolerations):
        if t.get("effect", "") in ("", "NoExecute"):
            for taint in present:
                if t.get("key", "") in ("", taint):
                    present[taint] = True
    for taint, tolerated in present.items():
        if not tolerated:
            tolerations.append({"key": taint, "operator": "Exists", "effect": "NoExecute",
                                "tolerationSeconds": seconds})
    spec["tolerations"] = tolerations


def _pod_admission(spec: Obj, toleration_seconds: int) -> None:
    """What the default-on admission plugins add to every new pod."""
    class_name = spec.get("priorityClassName") or ""
    priority = 0 if not class_name else _SYSTEM_PRIORITIES.get(class_name)
    if priority is not None and spec.get("priority") is None:
        spec["priority"] = priority
    if priority is not None and spec.get("preemptionPolicy") is None:
        spec["preemptionPolicy"] = "PreemptLowerPriority"
    _default_tolerations(spec, toleration_seconds)
    if not spec.get("serviceAccountName"):
        spec["serviceAccountName"] = spec.get("serviceAccount") or "default"
    # v1 still serialises the deprecated alias next to the real field.
    spec["serviceAccount"] = spec["serviceAccountName"]


def _pod(obj: Obj, old: Obj | None, toleration_seconds: int = _DEFAULT_TOLERATION_SECONDS) -> None:
    spec = _dict(obj, "spec")
    for key in ("containers", "initContainers"):
        for c in _dicts(spec.get(key)):
            _requests_from_limits(c)
    if spec.get("enableServiceLinks") is None:
        spec["enableServiceLinks"] = True
    if spec.get("hostNetwork") is True:
        for key in ("containers", "initContainers"):
            for c in _dicts(spec.get(key)):
                for port in _dicts(c.get("ports")):
                    if _zero(port.get("hostPort")):
                        port["hostPort"] = port.get("containerPort")
    pod_spec_defaults(spec)
    if old is None:
        _pod_admission(spec, toleration_seconds)


def _template(spec: Obj, always: bool) -> None:
    """Deployments and ReplicaSets embed the template by value (Go defaults a
    missing one); a ReplicationController points to it."""
    template = _dict(spec, "template") if always else _child(spec, "template")
    if template is not None:
        pod_spec_defaults(_dict(template, "spec"))


# ---------------------------------------------------------------------------
# workloads


def _replicas(spec: Obj) -> None:
    if spec.get("replicas") is None:
        spec["replicas"] = 1


def _deployment(obj: Obj, old: Obj | None) -> None:
    spec = _dict(obj, "spec")
    _replicas(spec)
    strategy = _dict(spec, "strategy")
    _set_if_zero(strategy, "type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        rolling = _dict(strategy, "rollingUpdate")
        for key in ("maxUnavailable", "maxSurge"):
            if rolling.get(key) is None:
                rolling[key] = "25%"
    if spec.get("revisionHistoryLimit") is None:
        spec["revisionHistoryLimit"] = 10
    if spec.get("progressDeadlineSeconds") is None:
        spec["progressDeadlineSeconds"] = 600
    _template(spec, True)


def _replica_set(obj: Obj, old: Obj | None) -> None:
    spec = _dict(obj, "spec")
    _replicas(spec)
    _template(spec, True)


def _replication_controller(obj: Obj, old: Obj | None) -> None:
    spec = _dict(obj, "spec")
    template = _child(spec, "template")
    labels = _child(_child(template, "metadata"), "labels")
    if labels is not None:
        if not spec.get("selector"):
            spec["selector"] = dict(labels)
        meta = _dict(obj, "metadata")
        if not meta.get("labels"):
            meta["labels"] = dict(labels)
    _replicas(spec)
    _template(spec, False)


# ---------------------------------------------------------------------------
# services and endpoints


def _externally_accessible(spec: Obj) -> bool:
    kind = spec.get("type")
    return kind in ("LoadBalancer", "NodePort") or (kind == "ClusterIP" and bool(spec.get("externalIPs")))


def _service(obj: Obj, old: Obj | None) -> None:
    spec = _dict(obj, "spec")
    _set_if_zero(spec, "sessionAffinity", "None")
    if spec["sessionAffinity"] == "None":
        spec.pop("sessionAffinityConfig", None)
    elif spec["sessionAffinity"] == "ClientIP":
        client_ip = _child(_child(spec, "sessionAffinityConfig"), "clientIP")
        if client_ip is None or client_ip.get("timeoutSeconds") is None:
            spec["sessionAffinityConfig"] = {"clientIP": {"timeoutSeconds": 10800}}
    _set_if_zero(spec, "type", "ClusterIP")
    for port in _dicts(spec.get("ports")):
        _set_if_zero(port, "protocol", "TCP")
        if _zero(port.get("targetPort")):
            port["targetPort"] = port.get("port")
    if _externally_accessible(spec):
        _set_if_zero(spec, "externalTrafficPolicy", "Cluster")
    if spec["type"] in ("ClusterIP", "NodePort", "LoadBalancer") and spec.get("internalTrafficPolicy") is None:
        spec["internalTrafficPolicy"] = "Cluster"
    if spec["type"] == "LoadBalancer":
        if spec.get("allocateLoadBalancerNodePorts") is None:
            spec["allocateLoadBalancerNodePorts"] = True
        for ingress in _dicts((_child(_child(obj, "status"), "loadBalancer") or {}).get("ingress")):
            if ingress.get("ip") and ingress.get("ipMode") is None:
                ingress["ipMode"] = "VIP"
    # The service REST layer fills these while allocating the cluster IP; this
    # single-stack cluster always picks IPv4.
    if spec["type"] != "ExternalName":
        if not spec.get("ipFamilyPolicy"):
            spec["ipFamilyPolicy"] = "SingleStack"
        if not spec.get("ipFamilies"):
            spec["ipFamilies"] = ["IPv4"]


def _endpoints(obj: Obj, old: Obj | None) -> None:
    for subset in _dicts(obj.get("subsets")):
        for port in _dicts(subset.get("ports")):
            _set_if_zero(port, "protocol", "TCP")


# ---------------------------------------------------------------------------
# cluster objects


def _namespace(obj: Obj, old: Obj | None) -> None:
    meta = _dict(obj, "metadata")
    name = meta.get("name")
    if name:
        _dict(meta, "labels")["kubernetes.io/metadata.name"] = name
    spec = _dict(obj, "spec")
    if old is None:
        # Namespace PrepareForCreate: the kubernetes finalizer is added only at
        # creation, because namespace deletion removes it later.
        finalizers = spec.get("finalizers")
        if not isinstance(finalizers, list):
            finalizers = []
        if "kubernetes" not in finalizers:
            finalizers.append("kubernetes")
        spec["finalizers"] = finalizers
    status = _dict(obj, "status")
    _set_if_zero(status, "phase", "Active")


def _node(obj: Obj, old: Obj | None) -> None:
    status = _child(obj, "status")
    if status is None:
        return
    capacity = status.get("capacity")
    if isinstance(capacity, dict) and status.get("allocatable") is None:
        status["allocatable"] = dict(capacity)
    _resource_list(status.get("capacity"))
    _resource_list(status.get("allocatable"))


# ---------------------------------------------------------------------------
# autoscaling


def _scale_up_rules() -> Obj:
    return {"stabilizationWindowSeconds": 0, "selectPolicy": "Max", "policies": [
        {"type": "Pods", "value": 4, "periodSeconds": 15},
        {"type": "Percent", "value": 100, "periodSeconds": 15}]}


def _scale_down_rules() -> Obj:
    return {"selectPolicy": "Max", "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}]}


def _fill_rules(given: Any, defaults: Obj) -> Obj:
    if isinstance(given, dict):
        # tolerance: the HPAConfigurableTolerance field (1.33+), kept as GenerateHPAScale*Rules keep it.
        for key in ("selectPolicy", "stabilizationWindowSeconds", "policies", "tolerance"):
            if given.get(key) is not None:
                defaults[key] = given[key]
    return defaults


def _hpa_v2(obj: Obj, old: Obj | None) -> None:
    spec = _dict(obj, "spec")
    if spec.get("minReplicas") is None:
        spec["minReplicas"] = 1
    if not spec.get("metrics"):
        spec["metrics"] = [{"type": "Resource", "resource": {
            "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}]
    behavior = _child(spec, "behavior")
    if behavior is not None:
        behavior["scaleUp"] = _fill_rules(behavior.get("scaleUp"), _scale_up_rules())
        behavior["scaleDown"] = _fill_rules(behavior.get("scaleDown"), _scale_down_rules())
    for metric in _dicts(spec.get("metrics")):
        for source in metric.values():
            target = _child(source, "target")
            if target is not None:
                for key in ("value", "averageValue"):
                    if target.get(key) is not None:
                        _canonical_in_place(target, key)


def _canonical_in_place(obj: Obj, key: str) -> None:
    try:
        obj[key] = quantity.canonicalize(obj[key])
    except ValueError:
        pass


def _hpa_v1(obj: Obj, old: Obj | None) -> None:
    spec = _dict(obj, "spec")
    if spec.get("minReplicas") is None:
        spec["minReplicas"] = 1


# (group, kind, version); version "" applies to every version of the kind.
def _secret(obj: Obj, old: Obj | None) -> None:
    """Secrets: type Opaque; write-only stringData folded into data (base64), as the v1 conversion does."""
    if not obj.get("type"):
        obj["type"] = "Opaque"
    string_data = obj.pop("stringData", None)
    if isinstance(string_data, dict) and string_data:
        data = _dict(obj, "data")
        for key, value in string_data.items():
            data[key] = base64.b64encode(str(value).encode()).decode()


_BY_KIND: dict[tuple[str, str, str], Callable[[Obj, Obj | None], None]] = {
    ("", "Secret", ""): _secret,
    ("", "Pod", ""): _pod,
    ("", "Service", ""): _service,
    ("", "ReplicationController", ""): _replication_controller,
    ("", "Namespace", ""): _namespace,
    ("", "Node", ""): _node,
    ("", "Endpoints", ""): _endpoints,
    ("apps", "Deployment", ""): _deployment,
    ("apps", "ReplicaSet", ""): _replica_set,
    ("autoscaling", "HorizontalPodAutoscaler", "v1"): _hpa_v1,
    ("autoscaling", "HorizontalPodAutoscaler", "v2"): _hpa_v2,
}
