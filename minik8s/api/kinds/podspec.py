"""Defaults of a pod spec, shared by Pods and by the templates of workloads.

Ports SetDefaults_PodSpec, _Container, _Probe, _Volume and friends from
pkg/apis/core/v1/defaults.go and the generated walk over a PodSpec. This is
all a pod *template* gets; what only a Pod gets (admission plugins, requests
from limits) is in kinds/pod.py. The validation of a pod spec is in
kinds/podspec_validation.py.
"""
from __future__ import annotations

import re
from typing import Any

from minik8s.api import defaults

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


def _http_get(action: Any) -> None:
    if isinstance(action, dict):
        defaults.set_if_zero(action, "path", "/")
        defaults.set_if_zero(action, "scheme", "HTTP")


def _probe(probe: Obj) -> None:
    defaults.set_if_zero(probe, "timeoutSeconds", 1)
    defaults.set_if_zero(probe, "periodSeconds", 10)
    defaults.set_if_zero(probe, "successThreshold", 1)
    defaults.set_if_zero(probe, "failureThreshold", 3)
    _http_get(probe.get("httpGet"))
    grpc = defaults.child(probe, "grpc")
    if grpc is not None and grpc.get("service") is None:
        grpc["service"] = ""


def container_defaults(c: Obj) -> None:
    """SetDefaults_Container (and of what it holds), for one container."""
    _container(c)


def _container(c: Obj) -> None:
    if defaults.is_zero(c.get("imagePullPolicy")):
        c["imagePullPolicy"] = default_pull_policy(c.get("image", ""))
    defaults.set_if_zero(c, "terminationMessagePath", "/dev/termination-log")
    defaults.set_if_zero(c, "terminationMessagePolicy", "File")
    for port in defaults.dicts(c.get("ports")):
        defaults.set_if_zero(port, "protocol", "TCP")
    for env in defaults.dicts(c.get("env")):
        field_ref = defaults.child(defaults.child(env, "valueFrom"), "fieldRef")
        if field_ref is not None:
            defaults.set_if_zero(field_ref, "apiVersion", "v1")
    res = defaults.child(c, "resources")
    if res is not None:
        defaults.resource_list(res.get("limits"))
        defaults.resource_list(res.get("requests"))
    for name in _PROBES:
        probe = defaults.child(c, name)
        if probe is not None:
            _probe(probe)
    lifecycle = defaults.child(c, "lifecycle")
    for hook in ("postStart", "preStop"):
        _http_get(defaults.child(defaults.child(lifecycle, hook), "httpGet"))


def _field_refs(items: Any) -> None:
    for item in defaults.dicts(items):
        field_ref = defaults.child(item, "fieldRef")
        if field_ref is not None:
            defaults.set_if_zero(field_ref, "apiVersion", "v1")


def _volume(v: Obj) -> None:
    if not any(v.get(k) is not None for k in VOLUME_SOURCES):
        v["emptyDir"] = {}
    host_path = defaults.child(v, "hostPath")
    if host_path is not None and host_path.get("type") is None:
        host_path["type"] = ""
    for key in ("secret", "configMap", "downwardAPI", "projected"):
        src = defaults.child(v, key)
        if src is not None and src.get("defaultMode") is None:
            src["defaultMode"] = _DEFAULT_MODE
    _field_refs((defaults.child(v, "downwardAPI") or {}).get("items"))
    for src in defaults.dicts((defaults.child(v, "projected") or {}).get("sources")):
        token = defaults.child(src, "serviceAccountToken")
        if token is not None and token.get("expirationSeconds") is None:
            token["expirationSeconds"] = 3600
        _field_refs((defaults.child(src, "downwardAPI") or {}).get("items"))
    iscsi = defaults.child(v, "iscsi")
    if iscsi is not None:
        defaults.set_if_zero(iscsi, "iscsiInterface", "default")
    claim = defaults.child(defaults.child(defaults.child(v, "ephemeral"), "volumeClaimTemplate"), "spec")
    if claim is not None and claim.get("volumeMode") is None:
        claim["volumeMode"] = "Filesystem"


def pod_spec_defaults(spec: Obj) -> None:
    """SetDefaults_PodSpec and the walk over volumes and containers."""
    defaults.set_if_zero(spec, "dnsPolicy", "ClusterFirst")
    defaults.set_if_zero(spec, "restartPolicy", "Always")
    if spec.get("securityContext") is None:
        spec["securityContext"] = {}
    if spec.get("terminationGracePeriodSeconds") is None:
        spec["terminationGracePeriodSeconds"] = 30
    defaults.set_if_zero(spec, "schedulerName", "default-scheduler")
    for volume in defaults.dicts(spec.get("volumes")):
        _volume(volume)
    for key in _CONTAINER_LISTS:
        for c in defaults.dicts(spec.get(key)):
            _container(c)
    defaults.resource_list(spec.get("overhead"))


def template_defaults(spec: Obj, always: bool) -> None:
    """The pod template of a workload's spec. Deployments and ReplicaSets embed the
    template by value (Go defaults a missing one); a ReplicationController points to it."""
    template = defaults.ensure_dict(spec, "template") if always else defaults.child(spec, "template")
    if template is not None:
        pod_spec_defaults(defaults.ensure_dict(template, "spec"))
