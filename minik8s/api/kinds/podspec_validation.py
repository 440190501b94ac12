"""Pod spec validation: ValidatePodSpec, ValidatePodTemplateSpec and ValidatePodUpdate.

A port of the pod half of pkg/apis/core/validation/validation.go, on JSON dicts
that have already been defaulted (validation relies on the defaults: a missing
restartPolicy is an error here, as it is upstream). The order of checks follows
upstream so the causes come out in the same order. Pods (kinds/pod.py) and the
templates of workloads (kinds/workloads.py) share it.
"""
from __future__ import annotations

import copy
import json
from fractions import Fraction
from typing import Any

from minik8s.api import quantity
from minik8s.api import validation as vc

Obj = dict[str, Any]
Errors = vc.Errors

_MAX_INT32 = 2 ** 31 - 1
_PULL_POLICIES = ("Always", "IfNotPresent", "Never")
_RESTART_POLICIES = ("Always", "OnFailure", "Never")
_DNS_POLICIES = ("ClusterFirstWithHostNet", "ClusterFirst", "Default", "None")
_TERMINATION_MESSAGE_POLICIES = ("File", "FallbackToLogsOnError")
_HOST_PATH_TYPES = ("", "BlockDevice", "CharDevice", "Directory", "DirectoryOrCreate", "File",
                    "FileOrCreate", "Socket")
_MOUNT_PROPAGATIONS = ("Bidirectional", "HostToContainer", "None")
_TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
_HTTP_SCHEMES = ("HTTP", "HTTPS")
_FILE_MODE_ERROR = "must be a number between 0 and 0777 (octal), both inclusive"
_INIT_ONLY_ALWAYS = "may not be set for init containers without restartPolicy=Always"
# validateVolumeSource checks the sources in this order.
_VOLUME_ORDER = (
    "emptyDir", "hostPath", "gitRepo", "gcePersistentDisk", "awsElasticBlockStore", "secret", "nfs",
    "iscsi", "glusterfs", "flocker", "persistentVolumeClaim", "rbd", "cinder", "cephfs", "quobyte",
    "downwardAPI", "fc", "flexVolume", "configMap", "azureFile", "vsphereVolume",
    "photonPersistentDisk", "portworxVolume", "azureDisk", "storageos", "projected", "scaleIO", "csi",
    "ephemeral", "image",
)
# Fields a downward-API env var may read, and those ConvertDownwardAPIFieldLabel knows at all.
_ENV_FIELD_PATHS = ("metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName",
                    "spec.serviceAccountName", "status.hostIP", "status.hostIPs", "status.podIP",
                    "status.podIPs")
_VOLUME_FIELD_PATHS = ("metadata.annotations", "metadata.labels", "metadata.name", "metadata.namespace",
                       "metadata.uid")
_KNOWN_FIELD_PATHS = set(_ENV_FIELD_PATHS) | set(_VOLUME_FIELD_PATHS) | {
    "spec.restartPolicy", "spec.schedulerName", "status.phase"}
_RESOURCE_FIELD_PATHS = ("limits.cpu", "limits.ephemeral-storage", "limits.memory", "requests.cpu",
                         "requests.ephemeral-storage", "requests.memory")
_STANDARD_CONTAINER_RESOURCES = ("cpu", "memory", "ephemeral-storage")
# helper.IsStandardResourceName: container resources plus the quota names.
_STANDARD_RESOURCES = frozenset(_STANDARD_CONTAINER_RESOURCES + (
    "pods", "services", "replicationcontrollers", "resourcequotas", "secrets", "configmaps",
    "persistentvolumeclaims", "storage", "services.nodeports", "services.loadbalancers", "requests.cpu",
    "requests.memory", "requests.storage", "requests.ephemeral-storage", "limits.cpu", "limits.memory",
    "limits.ephemeral-storage"))
_STANDARD_PREFIXES = ("hugepages-", "requests.hugepages-", "limits.hugepages-")
UPDATABLE_POD_SPEC_FIELDS = ",".join((
    "`spec.containers[*].image`",
    "`spec.initContainers[*].image`",
    "`spec.activeDeadlineSeconds`",
    "`spec.tolerations` (only additions to existing tolerations)",
    "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)",
))


# ---------------------------------------------------------------------------
# volumes


def _path_no_backsteps(errs: Errors, path: str, value: str) -> None:
    if ".." in value.replace("\\", "/").split("/"):
        errs.invalid(path, value, "must not contain '..'")


def _local_descending_path(errs: Errors, path: str, value: str) -> None:
    if value.startswith("/"):
        errs.invalid(path, value, "must be a relative path")
    _path_no_backsteps(errs, path, value)


def _local_non_reserved_path(errs: Errors, path: str, value: str) -> None:
    _local_descending_path(errs, path, value)
    if value.startswith("..") and not value.startswith("../"):
        errs.invalid(path, value, "must not start with '..'")


def _file_mode(errs: Errors, path: str, value: Any) -> None:
    mode = vc.as_int(value)
    if mode is not None and not 0 <= mode <= 0o777:
        errs.invalid(path, mode, _FILE_MODE_ERROR)


def _key_to_paths(errs: Errors, items: Any, path: str) -> None:
    for i, item in vc.typed_dicts(errs, items, f"{path}.items"):
        p = f"{path}.items[{i}]"
        if not item.get("key"):
            errs.required(f"{p}.key")
        if not item.get("path"):
            errs.required(f"{p}.path")
        _local_non_reserved_path(errs, f"{p}.path", vc.as_str(item.get("path")))
        _file_mode(errs, f"{p}.mode", item.get("mode"))


def _host_path(errs: Errors, src: Obj, path: str) -> None:
    host = vc.as_str(src.get("path"))
    if not host:
        errs.required(f"{path}.path")
        return
    _path_no_backsteps(errs, f"{path}.path", host)
    kind = src.get("type")
    if kind is not None and kind not in _HOST_PATH_TYPES:
        errs.not_supported(f"{path}.type", kind, _HOST_PATH_TYPES)


def _volume_source(errs: Errors, kind: str, src: Obj, path: str) -> None:
    if kind == "emptyDir" and src.get("sizeLimit") is not None:
        try:
            negative = quantity.parse_quantity(src["sizeLimit"]) < 0
        except ValueError as e:
            errs.invalid(f"{path}.sizeLimit", src["sizeLimit"], str(e))
            return
        if negative:
            errs.forbidden(f"{path}.sizeLimit", "SizeLimit field must be a valid resource quantity")
    elif kind == "hostPath":
        _host_path(errs, src, path)
    elif kind in ("secret", "configMap"):
        name_key = "secretName" if kind == "secret" else "name"
        if not src.get(name_key):
            errs.required(f"{path}.{name_key}")
        _file_mode(errs, f"{path}.defaultMode", src.get("defaultMode"))
        _key_to_paths(errs, src.get("items"), path)
    elif kind == "persistentVolumeClaim" and not src.get("claimName"):
        errs.required(f"{path}.claimName")
    elif kind == "nfs":
        for key in ("server", "path"):
            if not src.get(key):
                errs.required(f"{path}.{key}")
        if not vc.as_str(src.get("path")).startswith("/"):
            errs.invalid(f"{path}.path", vc.as_str(src.get("path")), "must be an absolute path")
    elif kind == "gitRepo":
        if not src.get("repository"):
            errs.required(f"{path}.repository")
        _local_descending_path(errs, f"{path}.directory", vc.as_str(src.get("directory")))
    elif kind in ("downwardAPI", "projected"):
        _file_mode(errs, f"{path}.defaultMode", src.get("defaultMode"))
    elif kind == "csi" and not src.get("driver"):
        errs.required(f"{path}.driver")


def validate_volumes(errs: Errors, volumes: Any, path: str) -> dict[str, Obj]:
    """ValidateVolumes; returns the volumes that passed, by name (mounts may use only those)."""
    good: dict[str, Obj] = {}
    names: set[str] = set()
    for i, vol in vc.typed_dicts(errs, volumes, f"{path}"):
        p = f"{path}[{i}]"
        el = Errors()
        count = 0
        for kind in _VOLUME_ORDER:
            if vol.get(kind) is None:
                continue
            if count:
                el.forbidden(f"{p}.{kind}", "may not specify more than 1 volume type")
                continue
            count += 1
            _volume_source(el, kind, vc.as_dict(vol[kind]), f"{p}.{kind}")
        if not count:
            el.required(p, "must specify a volume type")
        name = vc.as_str(vol.get("name"))
        if not name:
            el.required(f"{p}.name")
        else:
            el.invalid_each(f"{p}.name", name, vc.dns1123_label(name))
        if name in names:
            el.duplicate(f"{p}.name", name)
        if el:
            errs.causes.extend(el.causes)
        else:
            names.add(name)
            good[name] = vol
    return good


# ---------------------------------------------------------------------------
# containers


def _container_ports(errs: Errors, ports: Any, path: str) -> None:
    names: set[str] = set()
    for i, port in vc.typed_dicts(errs, ports, f"{path}"):
        p = f"{path}[{i}]"
        name = vc.typed_str(errs, port.get("name"), f"{p}.name")
        if name:
            msgs = vc.port_name(name)
            if msgs:
                errs.invalid_each(f"{p}.name", name, msgs)
            elif name in names:
                errs.duplicate(f"{p}.name", name)
            else:
                names.add(name)
        container_port = vc.typed_int(errs, port.get("containerPort"), f"{p}.containerPort") or 0
        if container_port == 0:
            errs.required(f"{p}.containerPort")
        else:
            errs.invalid_each(f"{p}.containerPort", container_port, vc.port_num(container_port))
        host_port = vc.typed_int(errs, port.get("hostPort"), f"{p}.hostPort") or 0
        if host_port:
            errs.invalid_each(f"{p}.hostPort", host_port, vc.port_num(host_port))
        vc.typed_str(errs, port.get("hostIP"), f"{p}.hostIP")
        vc.validate_protocol(errs, vc.typed_str(errs, port.get("protocol"), f"{p}.protocol") or "", f"{p}.protocol")


def _field_ref(errs: Errors, ref: Obj, allowed: tuple[str, ...], path: str) -> None:
    if not ref.get("apiVersion"):
        errs.required(f"{path}.apiVersion")
        return
    field_path = vc.as_str(ref.get("fieldPath"))
    if not field_path:
        errs.required(f"{path}.fieldPath")
        return
    base, _, subscript = field_path.partition("[")
    if base not in _KNOWN_FIELD_PATHS:
        errs.invalid(f"{path}.fieldPath", field_path,
                     f"error converting fieldPath: field label not supported: {field_path}")
    elif subscript:
        key = subscript.rstrip("]").strip("'\"")
        if base == "metadata.annotations":
            errs.invalid_each(path, key.lower(), vc.qualified_name(key.lower()))
        elif base == "metadata.labels":
            errs.invalid_each(path, key, vc.qualified_name(key))
        else:
            errs.invalid(path, base, "does not support subscript")
    elif base not in allowed:
        errs.not_supported(f"{path}.fieldPath", base, sorted(allowed))


def _key_selector(errs: Errors, sel: Obj, path: str) -> None:
    name = vc.as_str(sel.get("name"))
    errs.invalid_each(f"{path}.name", name, vc.dns1123_subdomain(name))
    key = vc.as_str(sel.get("key"))
    if not key:
        errs.required(f"{path}.key")
    else:
        errs.invalid_each(f"{path}.key", key, vc.config_map_key(key))


def _env_value_from(errs: Errors, env: Obj, path: str) -> None:
    source = env.get("valueFrom")
    if source is None:
        return
    source = vc.as_dict(source)
    count = 0
    if isinstance(source.get("fieldRef"), dict):
        count += 1
        _field_ref(errs, source["fieldRef"], _ENV_FIELD_PATHS, f"{path}.fieldRef")
    if isinstance(source.get("resourceFieldRef"), dict):
        count += 1
        ref = source["resourceFieldRef"]
        resource = vc.typed_str(errs, ref.get("resource"), f"{path}.resourceFieldRef.resource") or ""
        vc.typed_str(errs, ref.get("containerName"), f"{path}.resourceFieldRef.containerName")
        if not resource:
            errs.required(f"{path}.resourceFieldRef.resource")
        elif resource not in _RESOURCE_FIELD_PATHS and not resource.startswith(
                ("requests.hugepages-", "limits.hugepages-")):
            errs.not_supported(f"{path}.resourceFieldRef.resource", resource, _RESOURCE_FIELD_PATHS)
        else:
            _divisor(errs, resource, ref.get("divisor"), f"{path}.resourceFieldRef.divisor")
    for key in ("configMapKeyRef", "secretKeyRef"):
        if isinstance(source.get(key), dict):
            count += 1
            _key_selector(errs, source[key], f"{path}.{key}")
    if count == 0:
        errs.invalid(path, "", "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or "
                               "`secretKeyRef`")
    elif env.get("value"):
        errs.invalid(path, "", "may not be specified when `value` is not empty")
    elif count > 1:
        errs.invalid(path, "", "may not have more than one field specified at a time")


_CPU_DIVISORS = (Fraction(1, 1000), Fraction(1))
_MEMORY_DIVISORS = tuple(Fraction(b ** e) for b, e in ((1000, 0), (1000, 1), (1000, 2), (1000, 3), (1000, 4),
                                                         (1000, 5), (1000, 6), (1024, 1), (1024, 2), (1024, 3),
                                                         (1024, 4), (1024, 5), (1024, 6)))


def _divisor(errs: Errors, resource: str, raw: Any, path: str) -> None:
    """validateContainerResourceDivisor: a quantity, and one of the supported units."""
    if raw is None:
        return
    try:
        q = quantity.parse(raw)
    except ValueError as e:
        errs.invalid(path, raw if isinstance(raw, str) else vc.GoRepr(str(raw)), str(e))
        return
    if q.value == 0:
        return  # unset: defaults to 1
    if resource.endswith(".cpu") and q.value not in _CPU_DIVISORS:
        errs.invalid(path, q.text, "only divisor's values 1m and 1 are supported with the cpu resource")
    elif resource.endswith((".memory", ".ephemeral-storage")) and q.value not in _MEMORY_DIVISORS:
        errs.invalid(path, q.text, "only divisor's values 1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, 1Mi, 1Gi, 1Ti, 1Pi, "
                                   "1Ei are supported with the memory resource")


def _env(errs: Errors, env_list: Any, path: str) -> None:
    for i, env in vc.typed_dicts(errs, env_list, f"{path}"):
        p = f"{path}[{i}]"
        name = vc.as_str(env.get("name"))
        if not name:
            errs.required(f"{p}.name")
        else:
            errs.invalid_each(f"{p}.name", name, vc.relaxed_env_var_name(name))
        if "value" in env and env["value"] is not None and not isinstance(env["value"], str):
            # YAML's `value: no` arrives as a boolean; Kubernetes refuses anything but a string.
            errs.invalid(f"{p}.value", env["value"], "must be a string (quote it in YAML)")
        _env_value_from(errs, env, f"{p}.valueFrom")


def _env_from(errs: Errors, sources: Any, path: str) -> None:
    for i, src in vc.typed_dicts(errs, sources, f"{path}"):
        p = f"{path}[{i}]"
        prefix = vc.as_str(src.get("prefix"))
        if prefix:
            errs.invalid_each(f"{p}.prefix", prefix, vc.relaxed_env_var_name(prefix))
        count = 0
        for key in ("configMapRef", "secretRef"):
            if isinstance(src.get(key), dict):
                count += 1
                name = vc.as_str(src[key].get("name"))
                if not name:
                    errs.required(f"{p}.{key}.name")
                else:
                    errs.invalid_each(f"{p}.{key}.name", name, vc.dns1123_subdomain(vc.mask_trailing_dash(name)))
        if count == 0:
            errs.invalid(path, "", "must specify one of: `configMapRef` or `secretRef`")
        elif count > 1:
            errs.invalid(path, "", "may not have more than one field specified at a time")


def _volume_mounts(errs: Errors, container: Obj, volumes: dict[str, Obj], path: str) -> None:
    mount_paths: set[str] = set()
    for i, mount in vc.typed_dicts(errs, container.get("volumeMounts"), f"{path}"):
        p = f"{path}[{i}]"
        name = vc.as_str(mount.get("name"))
        if not name:
            errs.required(f"{p}.name")
        if name not in volumes:
            errs.not_found(f"{p}.name", name)
        mount_path = vc.as_str(mount.get("mountPath"))
        if not mount_path:
            errs.required(f"{p}.mountPath")
        if mount_path in mount_paths:
            errs.invalid(f"{p}.mountPath", mount_path, "must be unique")
        mount_paths.add(mount_path)
        # Upstream reports sub-path errors without the mount's index.
        sub_path = vc.as_str(mount.get("subPath"))
        if sub_path:
            _local_descending_path(errs, f"{path}.subPath", sub_path)
        sub_path_expr = vc.as_str(mount.get("subPathExpr"))
        if sub_path_expr:
            if sub_path:
                errs.invalid(f"{p}.subPathExpr", sub_path_expr, "subPathExpr and subPath are mutually exclusive")
            _local_descending_path(errs, f"{path}.subPathExpr", sub_path_expr)
        propagation = mount.get("mountPropagation")
        if propagation is not None:
            if propagation not in _MOUNT_PROPAGATIONS:
                errs.not_supported(f"{path}.mountPropagation", propagation, _MOUNT_PROPAGATIONS)
            privileged = vc.as_dict(container.get("securityContext")).get("privileged") is True
            if propagation == "Bidirectional" and not privileged:
                errs.forbidden(f"{path}.mountPropagation",
                               "Bidirectional mount propagation is available only to privileged containers")


def _native(name: str) -> bool:
    """helper.IsNativeResource: unprefixed, or under a kubernetes.io/ prefix."""
    return "/" not in name or "kubernetes.io/" in name


def _extended(name: str) -> bool:
    """helper.IsExtendedResourceName: a vendor-prefixed integer resource like example.com/gpu."""
    return not _native(name) and not name.startswith("requests.") and not vc.qualified_name("requests." + name)


def _overcommit_allowed(name: str) -> bool:
    return _native(name) and not name.startswith("hugepages-")


def _resource_name(errs: Errors, name: str, path: str) -> None:
    """validateContainerResourceName."""
    msgs = vc.qualified_name(name)
    if msgs:
        errs.invalid_each(path, name, msgs)
    elif "/" not in name and name not in _STANDARD_RESOURCES and not name.startswith(_STANDARD_PREFIXES):
        errs.invalid(path, name, "must be a standard resource type or fully qualified")
    if "/" not in name:
        if name not in _STANDARD_CONTAINER_RESOURCES and not name.startswith("hugepages-"):
            errs.invalid(path, name, "must be a standard resource for containers")
    elif not _native(name) and not _extended(name):
        errs.invalid(path, name, "doesn't follow extended resource name standard")


def _quantities(errs: Errors, resources: Obj, key: str, path: str) -> dict[str, tuple[Fraction, str]]:
    """Parse one ResourceList, reporting bad names and values; returns the parsed ones.

    Upstream a quantity that does not parse fails decoding (400) before
    validation; here it is one more cause of the 422.
    """
    good: dict[str, tuple[Fraction, str]] = {}
    for name, raw in sorted(vc.typed_dict(errs, resources.get(key), f"{path}.{key}").items()):
        p = f"{path}.{key}[{name}]"
        _resource_name(errs, name, p)
        try:
            q = quantity.parse(raw)
        except ValueError as e:
            errs.invalid(p, raw if isinstance(raw, str) else vc.GoRepr(str(raw)), str(e))
            continue
        if q.value < 0:
            errs.invalid(p, q.text, vc.NON_NEGATIVE)
        if _extended(name) and q.value.denominator != 1:
            errs.invalid(p, q.text, "must be an integer")
        good[name] = (q.value, q.text)
    return good


def validate_resources(errs: Errors, resources: Any, path: str) -> None:
    """validateResourceRequirements for a container."""
    resources = vc.typed_dict(errs, resources, path)
    limits = _quantities(errs, resources, "limits", path)
    requests = _quantities(errs, resources, "requests", path)
    for name, (value, text) in requests.items():
        if name in limits:
            limit_value, limit_text = limits[name]
            if value != limit_value and not _overcommit_allowed(name):
                errs.invalid(f"{path}.requests", text, f"must be equal to {name} limit of {limit_text}")
            elif value > limit_value:
                errs.invalid(f"{path}.requests", text, f"must be less than or equal to {name} limit of {limit_text}")
        elif not _overcommit_allowed(name):
            errs.required(f"{path}.limits", "Limit must be set for non overcommitable resources")


def _port_num_or_name(errs: Errors, port: Any, path: str) -> None:
    if isinstance(port, str):
        errs.invalid_each(path, port, vc.port_name(port))
    else:
        n = vc.typed_int(errs, port, path)
        if n is not None or port is None:
            errs.invalid_each(path, n if n is not None else port, vc.port_num(n if n is not None else 0))


def _handler(errs: Errors, handler: Obj, kinds: tuple[str, ...], grace: int | None, path: str) -> None:
    count = 0
    for kind in kinds:
        if handler.get(kind) is None:
            continue
        p = f"{path}.{kind}"
        if count:
            errs.forbidden(p, "may not specify more than 1 handler type")
            continue
        count += 1
        action = vc.typed_dict(errs, handler[kind], p)
        if kind == "exec":
            if not vc.typed_strs(errs, action.get("command"), f"{p}.command"):
                errs.required(f"{p}.command")
        elif kind == "httpGet":
            if not action.get("path"):
                errs.required(f"{p}.path")
            _port_num_or_name(errs, action.get("port"), f"{p}.port")
            scheme = vc.as_str(action.get("scheme"))
            if scheme not in _HTTP_SCHEMES:
                errs.not_supported(f"{p}.scheme", scheme, _HTTP_SCHEMES)
        elif kind in ("tcpSocket", "grpc"):
            _port_num_or_name(errs, action.get("port"), f"{p}.port")
        elif kind == "sleep":
            seconds = vc.typed_int(errs, action.get("seconds"), f"{p}.seconds") or 0
            if grace is not None and not 0 < seconds <= grace:
                errs.invalid(p, seconds, f"must be greater than 0 and less than terminationGracePeriodSeconds "
                                         f"({grace}). Enable AllowPodLifecycleSleepActionZeroValue feature gate "
                                         "for zero sleep.")
    if count == 0:
        errs.required(path, "must specify a handler type")


def _probe(errs: Errors, probe: Any, kind: str, grace: int | None, path: str) -> None:
    if probe is None:
        return
    probe = vc.typed_dict(errs, probe, path)
    _handler(errs, probe, ("exec", "httpGet", "tcpSocket", "grpc"), grace, path)
    for key in ("initialDelaySeconds", "timeoutSeconds", "periodSeconds", "successThreshold", "failureThreshold"):
        vc.nonnegative(errs, probe.get(key), f"{path}.{key}")
    probe_grace = vc.typed_int(errs, probe.get("terminationGracePeriodSeconds"), f"{path}.terminationGracePeriodSeconds")
    if probe_grace is not None and probe_grace <= 0:
        errs.invalid(f"{path}.terminationGracePeriodSeconds", probe_grace, "must be greater than 0")
    if kind in ("livenessProbe", "startupProbe"):
        success = vc.as_int(probe.get("successThreshold"))
        if success != 1:
            errs.invalid(f"{path}.successThreshold", success if success is not None else 0, "must be 1")
    elif probe.get("terminationGracePeriodSeconds") is not None:
        errs.invalid(f"{path}.terminationGracePeriodSeconds", probe_grace, "must not be set for readinessProbes")


def _lifecycle_and_probes(errs: Errors, c: Obj, grace: int | None, path: str) -> None:
    lifecycle = c.get("lifecycle")
    if lifecycle is not None:
        lifecycle = vc.typed_dict(errs, lifecycle, f"{path}.lifecycle")
        for hook in ("postStart", "preStop"):
            handler = lifecycle.get(hook)
            if handler is not None:
                _handler(errs, vc.typed_dict(errs, handler, f"{path}.lifecycle.{hook}"),
                         ("exec", "httpGet", "tcpSocket", "sleep"), grace, f"{path}.lifecycle.{hook}")
    for kind in ("livenessProbe", "readinessProbe", "startupProbe"):
        _probe(errs, c.get(kind), kind, grace, f"{path}.{kind}")


def _security_context(errs: Errors, sc: Any, path: str) -> None:
    sc = vc.typed_dict(errs, sc, path)
    for key in ("privileged", "allowPrivilegeEscalation", "readOnlyRootFilesystem", "runAsNonRoot"):
        vc.typed_bool(errs, sc.get(key), f"{path}.{key}")
    for key in ("runAsUser", "runAsGroup"):
        n = vc.typed_int(errs, sc.get(key), f"{path}.{key}")
        if n is not None and not 0 <= n <= 0xFFFFFFFF:
            errs.invalid(f"{path}.{key}", n, vc.inclusive_range_error(0, 0xFFFFFFFF))


def _container_common(errs: Errors, c: Obj, volumes: dict[str, Obj], path: str) -> None:
    name = vc.typed_str(errs, c.get("name"), f"{path}.name")
    if not name:
        if name is not None or c.get("name") is None:
            errs.required(f"{path}.name")
    else:
        errs.invalid_each(f"{path}.name", name, vc.dns1123_label(name))
    image = vc.typed_str(errs, c.get("image"), f"{path}.image")
    if not image and (image is not None or c.get("image") is None):
        errs.required(f"{path}.image")
    for key in ("command", "args"):
        vc.typed_strs(errs, c.get(key), f"{path}.{key}")
    for key in ("workingDir", "terminationMessagePath"):
        vc.typed_str(errs, c.get(key), f"{path}.{key}")
    for key in ("stdin", "stdinOnce", "tty"):
        vc.typed_bool(errs, c.get(key), f"{path}.{key}")
    policy = vc.as_str(c.get("terminationMessagePolicy"))
    if not policy:
        errs.required(f"{path}.terminationMessagePolicy")
    elif policy not in _TERMINATION_MESSAGE_POLICIES:
        errs.not_supported(f"{path}.terminationMessagePolicy", policy, _TERMINATION_MESSAGE_POLICIES)
    _container_ports(errs, c.get("ports"), f"{path}.ports")
    _env(errs, c.get("env"), f"{path}.env")
    _env_from(errs, c.get("envFrom"), f"{path}.envFrom")
    _volume_mounts(errs, c, volumes, f"{path}.volumeMounts")
    pull = vc.as_str(c.get("imagePullPolicy"))
    if not pull:
        errs.required(f"{path}.imagePullPolicy")
    elif pull not in _PULL_POLICIES:
        errs.not_supported(f"{path}.imagePullPolicy", pull, _PULL_POLICIES)
    validate_resources(errs, c.get("resources"), f"{path}.resources")
    _security_context(errs, c.get("securityContext"), f"{path}.securityContext")


def _host_port_conflicts(errs: Errors, containers: list[Any], path: str) -> None:
    seen: set[str] = set()
    for ci, c in enumerate(containers):
        for pi, port in enumerate(vc.as_list(vc.as_dict(c).get("ports"))):
            if not isinstance(port, dict):
                continue
            host_port = vc.as_int(port.get("hostPort")) or 0
            if not host_port:
                continue
            key = f"{vc.as_str(port.get('protocol'))}/{vc.as_str(port.get('hostIP'))}/{host_port}"
            if key in seen:
                errs.duplicate(f"{path}[{ci}].ports[{pi}].hostPort", key)
            seen.add(key)


def _containers(errs: Errors, spec: Obj, volumes: dict[str, Obj], grace: int | None, path: str) -> None:
    raw = spec.get("containers")
    containers = vc.typed_list(errs, raw, path)
    if not containers:
        if raw is None or isinstance(raw, list):
            errs.required(path)
        return
    names: set[str] = set()
    for i, c in vc.typed_dicts(errs, containers, path):
        p = f"{path}[{i}]"
        _container_common(errs, c, volumes, p)
        name = vc.as_str(c.get("name"))
        if name in names:
            errs.duplicate(f"{p}.name", name)
        names.add(name)
        _lifecycle_and_probes(errs, c, grace, p)
        if c.get("restartPolicy") is not None:
            errs.forbidden(f"{p}.restartPolicy", "may not be set for non-init containers")
    _host_port_conflicts(errs, containers, path)


def _init_containers(errs: Errors, spec: Obj, volumes: dict[str, Obj], grace: int | None, path: str) -> None:
    names = {vc.as_str(vc.as_dict(c).get("name")) for c in vc.as_list(spec.get("containers"))}
    for i, c in vc.typed_dicts(errs, spec.get("initContainers"), f"{path}"):
        p = f"{path}[{i}]"
        _container_common(errs, c, volumes, p)
        restart = c.get("restartPolicy")
        if restart is not None and restart != "Always":
            errs.not_supported(f"{p}.restartPolicy", restart, ("Always",))
        name = vc.as_str(c.get("name"))
        if name in names:
            errs.duplicate(f"{p}.name", name)
        elif name:
            names.add(name)
        _host_port_conflicts(errs, [c], path)
        if restart == "Always":
            _lifecycle_and_probes(errs, c, grace, p)
        else:
            for key in ("lifecycle", "livenessProbe", "readinessProbe", "startupProbe"):
                if c.get(key) is not None:
                    errs.forbidden(f"{p}.{key}", _INIT_ONLY_ALWAYS)


# ---------------------------------------------------------------------------
# scheduling


def validate_tolerations(errs: Errors, tolerations: Any, path: str) -> None:
    for i, t in vc.typed_dicts(errs, tolerations, f"{path}"):
        p = f"{path}[{i}]"
        key = vc.as_str(t.get("key"))
        operator = vc.as_str(t.get("operator"))
        value = vc.as_str(t.get("value"))
        effect = vc.as_str(t.get("effect"))
        if key:
            errs.invalid_each(f"{p}.key", key, vc.qualified_name(key))
        if not key and operator != "Exists":
            errs.invalid(f"{p}.operator", operator,
                         "operator must be Exists when `key` is empty, which means \"match all values and all keys\"")
        if t.get("tolerationSeconds") is not None and effect != "NoExecute":
            errs.invalid(f"{p}.effect", effect, "effect must be 'NoExecute' when `tolerationSeconds` is set")
        if operator in ("Equal", ""):
            msgs = vc.label_value(value)
            if msgs:
                errs.invalid(f"{p}.operator", value, ";".join(msgs))
        elif operator == "Exists":
            if value:
                errs.invalid(f"{p}.operator", value, "value must be empty when `operator` is 'Exists'")
        else:
            errs.not_supported(f"{p}.operator", operator, ("Equal", "Exists"))
        if effect and effect not in _TAINT_EFFECTS:
            errs.not_supported(f"{p}.effect", effect, _TAINT_EFFECTS)


def _node_selector_term(errs: Errors, term: Obj, path: str) -> None:
    for j, req in vc.typed_dicts(errs, term.get("matchExpressions"), f"{path}.matchExpressions"):
        p = f"{path}.matchExpressions[{j}]"
        operator = vc.as_str(req.get("operator"))
        values = vc.as_list(req.get("values"))
        if operator in ("In", "NotIn"):
            if not values:
                errs.required(f"{p}.values", "must be specified when `operator` is 'In' or 'NotIn'")
        elif operator in ("Exists", "DoesNotExist"):
            if values:
                errs.forbidden(f"{p}.values", "may not be specified when `operator` is 'Exists' or 'DoesNotExist'")
        elif operator in ("Gt", "Lt"):
            if len(values) != 1:
                errs.required(f"{p}.values", "must be specified single value when `operator` is 'Lt' or 'Gt'")
        else:
            errs.invalid(f"{p}.operator", operator, "not a valid selector operator")
        key = vc.as_str(req.get("key"))
        errs.invalid_each(f"{p}.key", key, vc.qualified_name(key))
    for j, req in vc.typed_dicts(errs, term.get("matchFields"), f"{path}.matchFields"):
        p = f"{path}.matchFields[{j}]"
        operator = vc.as_str(req.get("operator"))
        values = vc.as_list(req.get("values"))
        if operator in ("In", "NotIn"):
            if len(values) != 1:
                errs.required(f"{p}.values", "must be only one value when `operator` is 'In' or 'NotIn' "
                                             "for node field selector")
        else:
            errs.invalid(f"{p}.operator", operator, "not a valid selector operator")
        if req.get("key") != "metadata.name":
            errs.invalid(f"{p}.key", vc.as_str(req.get("key")), "not a valid field selector key")
        else:
            for k, v in enumerate(values):
                errs.invalid_each(f"{p}.values[{k}]", v, vc.dns1123_subdomain(vc.as_str(v)))


def _weight(errs: Errors, term: Obj, path: str) -> None:
    weight = vc.as_int(term.get("weight")) or 0
    if not 0 < weight <= 100:
        errs.invalid(f"{path}.weight", weight, "must be in the range 1-100")


def _node_affinity(errs: Errors, na: Obj, path: str) -> None:
    required = na.get("requiredDuringSchedulingIgnoredDuringExecution")
    if required is not None:
        terms = vc.as_list(vc.as_dict(required).get("nodeSelectorTerms"))
        p = f"{path}.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms"
        if not terms:
            errs.required(p, "must have at least one node selector term")
        for i, term in enumerate(terms):
            _node_selector_term(errs, vc.as_dict(term), f"{p}[{i}]")
    p = f"{path}.preferredDuringSchedulingIgnoredDuringExecution"
    for i, term in enumerate(vc.as_list(na.get("preferredDuringSchedulingIgnoredDuringExecution"))):
        term = vc.as_dict(term)
        _weight(errs, term, f"{p}[{i}]")
        _node_selector_term(errs, vc.as_dict(term.get("preference")), f"{p}[{i}].preference")


def _pod_affinity_term(errs: Errors, term: Obj, path: str) -> None:
    vc.validate_label_selector(errs, term.get("labelSelector"), f"{path}.labelSelector")
    vc.validate_label_selector(errs, term.get("namespaceSelector"), f"{path}.namespaceSelector")
    for ns in vc.as_list(term.get("namespaces")):
        errs.invalid_each(f"{path}.namespace", ns, vc.dns1123_label(vc.as_str(ns)))
    topology_key = vc.as_str(term.get("topologyKey"))
    if not topology_key:
        errs.required(f"{path}.topologyKey", "can not be empty")
    errs.invalid_each(f"{path}.topologyKey", topology_key, vc.qualified_name(topology_key))


def _pod_affinity(errs: Errors, pa: Obj, path: str) -> None:
    p = f"{path}.requiredDuringSchedulingIgnoredDuringExecution"
    for i, term in enumerate(vc.as_list(pa.get("requiredDuringSchedulingIgnoredDuringExecution"))):
        _pod_affinity_term(errs, vc.as_dict(term), f"{p}[{i}]")
    p = f"{path}.preferredDuringSchedulingIgnoredDuringExecution"
    for i, term in enumerate(vc.as_list(pa.get("preferredDuringSchedulingIgnoredDuringExecution"))):
        term = vc.as_dict(term)
        _weight(errs, term, f"{p}[{i}]")
        _pod_affinity_term(errs, vc.as_dict(term.get("podAffinityTerm")), f"{p}[{i}].podAffinityTerm")


def _affinity(errs: Errors, affinity: Any, path: str) -> None:
    affinity = vc.as_dict(affinity)
    if affinity.get("nodeAffinity") is not None:
        _node_affinity(errs, vc.as_dict(affinity["nodeAffinity"]), f"{path}.nodeAffinity")
    for key in ("podAffinity", "podAntiAffinity"):
        if affinity.get(key) is not None:
            _pod_affinity(errs, vc.as_dict(affinity[key]), f"{path}.{key}")


def _dns_config(errs: Errors, spec: Obj, path: str) -> None:
    config = spec.get("dnsConfig")
    if spec.get("dnsPolicy") == "None":
        if config is None:
            errs.required(path, "must provide `dnsConfig` when `dnsPolicy` is None")
            return
        if not vc.as_list(vc.as_dict(config).get("nameservers")):
            errs.required(f"{path}.nameservers", "must provide at least one DNS nameserver when `dnsPolicy` is None")
            return
    if config is None:
        return
    config = vc.as_dict(config)
    nameservers = vc.as_list(config.get("nameservers"))
    if len(nameservers) > 3:
        errs.invalid(f"{path}.nameservers", vc.go_string_slice(nameservers), "must not have more than 3 nameservers")
    for i, ns in enumerate(nameservers):
        vc.is_valid_ip(errs, f"{path}.nameservers[{i}]", vc.as_str(ns))
    searches = [vc.as_str(s) for s in vc.as_list(config.get("searches"))]
    if len(searches) > 32:
        errs.invalid(f"{path}.searches", vc.go_string_slice(searches), "must not have more than 32 search paths")
    if len(" ".join(searches)) > 2048:
        errs.invalid(f"{path}.searches", vc.go_string_slice(searches),
                     "must not have more than 2048 characters (including spaces) in the search list")
    for i, search in enumerate(searches):
        search = search[:-1] if search.endswith(".") else search
        errs.invalid_each(f"{path}.searches[{i}]", search, vc.dns1123_subdomain(search))
    for i, option in enumerate(vc.as_list(config.get("options"))):
        if not vc.as_dict(option).get("name"):
            errs.required(f"{path}.options[{i}]", "must not be empty")


def _host_network_ports(errs: Errors, spec: Obj, path: str, is_pod: bool) -> None:
    if spec.get("hostNetwork") is not True:
        return
    for i, c in enumerate(vc.as_list(spec.get("containers"))):
        for j, port in enumerate(vc.as_list(vc.as_dict(c).get("ports"))):
            port = vc.as_dict(port)
            host_port = vc.as_int(port.get("hostPort")) or 0
            if (is_pod or host_port != 0) and host_port != vc.as_int(port.get("containerPort")):
                errs.invalid(f"{path}.containers[{i}].ports[{j}].hostPort", host_port,
                             "must match `containerPort` when `hostNetwork` is true")


# ---------------------------------------------------------------------------
# the pod spec


def _name_field(errs: Errors, spec: Obj, key: str, path: str, check: Any) -> None:
    value = vc.typed_str(errs, spec.get(key), f"{path}.{key}")
    if value:
        errs.invalid_each(f"{path}.{key}", value, check(value))


def validate_pod_spec(errs: Errors, spec: Any, path: str, is_pod: bool) -> None:
    """ValidatePodSpec (plus the pod-only container checks when `is_pod`)."""
    spec = vc.typed_dict(errs, spec, path)
    grace_raw = spec.get("terminationGracePeriodSeconds")
    grace = vc.typed_int(errs, grace_raw, f"{path}.terminationGracePeriodSeconds")
    if grace_raw is None:
        errs.required(f"{path}.terminationGracePeriodSeconds")
    elif grace is not None and grace < 0:
        errs.invalid(f"{path}.terminationGracePeriodSeconds", grace, vc.NON_NEGATIVE)
    volumes = validate_volumes(errs, spec.get("volumes"), f"{path}.volumes")
    _containers(errs, spec, volumes, grace, f"{path}.containers")
    _init_containers(errs, spec, volumes, grace, f"{path}.initContainers")
    _host_network_ports(errs, spec, path, is_pod)
    for key in ("hostNetwork", "hostPID", "hostIPC", "shareProcessNamespace", "automountServiceAccountToken",
                "enableServiceLinks", "setHostnameAsFQDN", "hostUsers"):
        vc.typed_bool(errs, spec.get(key), f"{path}.{key}")
    for key in ("schedulerName", "runtimeClassName"):
        vc.typed_str(errs, spec.get(key), f"{path}.{key}")
    vc.typed_int(errs, spec.get("priority"), f"{path}.priority")
    restart = vc.typed_str(errs, spec.get("restartPolicy"), f"{path}.restartPolicy")
    if not restart:
        errs.required(f"{path}.restartPolicy")
    elif restart not in _RESTART_POLICIES:
        errs.not_supported(f"{path}.restartPolicy", restart, _RESTART_POLICIES)
    dns = vc.typed_str(errs, spec.get("dnsPolicy"), f"{path}.dnsPolicy")
    if not dns:
        errs.required(f"{path}.dnsPolicy")
    elif dns not in _DNS_POLICIES:
        errs.not_supported(f"{path}.dnsPolicy", dns, _DNS_POLICIES)
    vc.validate_labels(errs, spec.get("nodeSelector"), f"{path}.nodeSelector")
    _security_context(errs, spec.get("securityContext"), f"{path}.securityContext")
    _affinity(errs, spec.get("affinity"), f"{path}.affinity")
    _dns_config(errs, spec, f"{path}.dnsConfig")
    for i, gate in vc.typed_dicts(errs, spec.get("readinessGates"), f"{path}.readinessGates"):
        condition = vc.typed_str(errs, gate.get("conditionType"), f"{path}.readinessGates[{i}].conditionType") or ""
        errs.invalid_each(f"{path}.readinessGates[{i}].conditionType", condition, vc.qualified_name(condition))
    _name_field(errs, spec, "serviceAccountName", path, vc.dns1123_subdomain)
    _name_field(errs, spec, "nodeName", path, vc.dns1123_subdomain)
    deadline = vc.typed_int(errs, spec.get("activeDeadlineSeconds"), f"{path}.activeDeadlineSeconds")
    if deadline is not None and not 1 <= deadline <= _MAX_INT32:
        errs.invalid(f"{path}.activeDeadlineSeconds", deadline, vc.inclusive_range_error(1, _MAX_INT32))
    _name_field(errs, spec, "hostname", path, vc.dns1123_label)
    _name_field(errs, spec, "subdomain", path, vc.dns1123_label)
    validate_tolerations(errs, spec.get("tolerations"), f"{path}.tolerations")
    for i, alias in vc.typed_dicts(errs, spec.get("hostAliases"), f"{path}.hostAliases"):
        vc.is_valid_ip(errs, f"{path}.hostAliases[{i}].ip", vc.as_str(alias.get("ip")))
        for j, host in enumerate(vc.typed_strs(errs, alias.get("hostnames"), f"{path}.hostAliases[{i}].hostnames")):
            errs.invalid_each(f"{path}.hostAliases[{i}].hostnames[{j}]", host, vc.dns1123_subdomain(host))
    _name_field(errs, spec, "priorityClassName", path, vc.dns1123_subdomain)
    preemption = spec.get("preemptionPolicy")
    if preemption is not None:
        if not preemption:
            errs.required(f"{path}.preemptionPolicy")
        elif preemption not in ("PreemptLowerPriority", "Never"):
            errs.not_supported(f"{path}.preemptionPolicy", preemption, ("PreemptLowerPriority", "Never"))
    if spec.get("overhead") is not None:
        validate_resources(errs, {"limits": spec["overhead"]}, f"{path}.overhead")
    if is_pod:
        for key in ("containers", "initContainers"):
            for i, c in enumerate(vc.as_list(spec.get(key))):
                image = vc.as_str(vc.as_dict(c).get("image"))
                if image != image.strip():
                    errs.invalid(f"{path}.{key}[{i}].image", image, "must not have leading or trailing whitespace")


def validate_pod_template(errs: Errors, template: Any, path: str) -> None:
    """ValidatePodTemplateSpec (labels are reported at `<path>.labels`, as upstream does)."""
    template = vc.typed_dict(errs, template, path)
    meta = vc.typed_dict(errs, template.get("metadata"), f"{path}.metadata")
    vc.validate_labels(errs, meta.get("labels"), f"{path}.labels")
    vc.validate_annotations(errs, meta.get("annotations"), f"{path}.annotations")
    validate_pod_spec(errs, template.get("spec"), f"{path}.spec", is_pod=False)
    if vc.as_list(vc.as_dict(template.get("spec")).get("ephemeralContainers")):
        errs.forbidden(f"{path}.spec.ephemeralContainers", "ephemeral containers not allowed in pod template")


# ---------------------------------------------------------------------------
# pod updates


def _container_updates(errs: Errors, new: list[Any], old: list[Any], path: str) -> bool:
    """ValidateContainerUpdates; False means stop (containers added or removed)."""
    if len(new) != len(old):
        errs.forbidden(path, "pod updates may not add or remove containers")
        return False
    for i, c in enumerate(new):
        image = vc.as_str(vc.as_dict(c).get("image"))
        if not image:
            errs.required(f"{path}[{i}].image")
        if image != image.strip():
            errs.invalid(f"{path}[{i}].image", image, "must not have leading or trailing whitespace")
    return True


def _active_deadline_update(errs: Errors, new: Obj, old: Obj) -> bool:
    new_value, old_value = vc.as_int(new.get("activeDeadlineSeconds")), vc.as_int(old.get("activeDeadlineSeconds"))
    path = "spec.activeDeadlineSeconds"
    if new_value is not None:
        if not 0 <= new_value <= _MAX_INT32:
            errs.invalid(path, new_value, vc.inclusive_range_error(0, _MAX_INT32))
            return False
        if old_value is not None and old_value < new_value:
            errs.invalid(path, new_value, "must be less than or equal to previous value")
            return False
    elif old_value is not None:
        errs.invalid(path, None, "must not update from a positive integer to nil value")
    return True


def _only_added_tolerations(errs: Errors, new: list[Any], old: list[Any]) -> None:
    for old_t in old:
        old_t = vc.as_dict(old_t)
        found = False
        for new_t in new:
            candidate = dict(old_t)
            seconds = vc.as_dict(new_t).get("tolerationSeconds")
            candidate.pop("tolerationSeconds", None)
            if seconds is not None:
                candidate["tolerationSeconds"] = seconds
            if vc.json_equal(candidate, new_t):
                found = True
                break
        if not found:
            errs.forbidden("spec.tolerations", "existing toleration can not be modified except its tolerationSeconds")
            return


def _spec_diff(old: Obj, new: Obj) -> str:
    """A short description of what differs, in the spirit of cmp.Diff."""
    lines = ["  core.PodSpec{"]
    for key in sorted(set(old) | set(new)):
        if not vc.json_equal(old.get(key), new.get(key)):
            if key in old:
                lines.append(f"- \t{key}: {json.dumps(old[key], sort_keys=True)},")
            if key in new:
                lines.append(f"+ \t{key}: {json.dumps(new[key], sort_keys=True)},")
    lines.append("  }")
    return "\n".join(lines) + "\n"


def validate_pod_update(errs: Errors, new: Obj, old: Obj) -> None:
    """The spec part of ValidatePodUpdate: only images, activeDeadlineSeconds,
    added tolerations and a first nodeName may change."""
    new_spec, old_spec = vc.as_dict(new.get("spec")), vc.as_dict(old.get("spec"))
    for key in ("containers", "initContainers"):
        if not _container_updates(errs, vc.as_list(new_spec.get(key)), vc.as_list(old_spec.get(key)), f"spec.{key}"):
            return
    if not _active_deadline_update(errs, new_spec, old_spec):
        return
    _only_added_tolerations(errs, vc.as_list(new_spec.get("tolerations")), vc.as_list(old_spec.get("tolerations")))
    if vc.json_equal(new_spec, old_spec):
        return
    munged = copy.deepcopy(new_spec)
    for key in ("containers", "initContainers"):
        for c, old_c in zip(vc.as_list(munged.get(key)), vc.as_list(old_spec.get(key))):
            if isinstance(c, dict):
                c["image"] = vc.as_dict(old_c).get("image")
    for key in ("activeDeadlineSeconds", "tolerations", "schedulingGates"):
        munged.pop(key, None)
        if key in old_spec:
            munged[key] = old_spec[key]
    old_grace = vc.as_int(old_spec.get("terminationGracePeriodSeconds"))
    if old_grace is not None and old_grace < 0 and vc.as_int(munged.get("terminationGracePeriodSeconds")) == 1:
        munged["terminationGracePeriodSeconds"] = old_grace
    if not old_spec.get("nodeName"):
        # The first binding may set nodeName; once set it is fixed.
        munged.pop("nodeName", None)
        if "nodeName" in old_spec:
            munged["nodeName"] = old_spec["nodeName"]
    if not vc.json_equal(munged, old_spec):
        errs.forbidden("spec", f"pod updates may not change fields other than {UPDATABLE_POD_SPEC_FIELDS}\n"
                               + _spec_diff(old_spec, munged))


# ---------------------------------------------------------------------------
# ephemeral containers (the pods/ephemeralcontainers subresource)

# What an ephemeral container may not have (validateEphemeralContainers).
_EPHEMERAL_FORBIDDEN = ("lifecycle", "livenessProbe", "ports", "readinessProbe", "resizePolicy", "resources",
                        "restartPolicy", "startupProbe")


def validate_ephemeral_containers(errs: Errors, spec: Obj, path: str) -> None:
    """validateEphemeralContainers: each one a container of its own name, without
    ports, probes, lifecycle or resources, targeting an existing container."""
    volumes = validate_volumes(Errors(), spec.get("volumes"), f"{path}.volumes")
    others = {vc.as_str(vc.as_dict(c).get("name")) for key in ("containers", "initContainers")
              for c in vc.as_list(spec.get(key))}
    regular = {vc.as_str(vc.as_dict(c).get("name")) for c in vc.as_list(spec.get("containers"))}
    names: set[str] = set()
    for i, c in enumerate(vc.as_list(spec.get("ephemeralContainers"))):
        c, p = vc.as_dict(c), f"{path}.ephemeralContainers[{i}]"
        _container_common(errs, c, volumes, p)
        name = vc.as_str(c.get("name"))
        if name in names or name in others:
            errs.duplicate(f"{p}.name", name)
        names.add(name)
        for key in _EPHEMERAL_FORBIDDEN:
            value = c.get(key)
            if value not in (None, {}, []):
                errs.forbidden(f"{p}.{key}", "cannot be set for an Ephemeral Container")
        target = vc.as_str(c.get("targetContainerName"))
        if target and target not in regular:
            errs.not_found(f"{p}.targetContainerName", target)


def validate_ephemeral_containers_update(errs: Errors, new: Obj, old: Obj) -> None:
    """ValidatePodEphemeralContainersUpdate: new ones may be added, none changed or removed."""
    new_spec, old_spec = vc.as_dict(new.get("spec")), vc.as_dict(old.get("spec"))
    validate_ephemeral_containers(errs, new_spec, "spec")
    current = {vc.as_str(vc.as_dict(c).get("name")): c for c in vc.as_list(new_spec.get("ephemeralContainers"))}
    for i, c in enumerate(vc.as_list(old_spec.get("ephemeralContainers"))):
        name = vc.as_str(vc.as_dict(c).get("name"))
        if name not in current:
            errs.forbidden(f"spec.ephemeralContainers[{i}]",
                           f'existing ephemeral containers "{name}" may not be removed')
        elif not vc.json_equal(current[name], c):
            errs.forbidden(f"spec.ephemeralContainers[{i}]",
                           f'existing ephemeral containers "{name}" may not be changed')
