"""Validation of API objects, as kube-apiserver's strategies validate them.

`validate(res, obj, old)` runs on an object that `defaults.apply_defaults` has
filled, after the server has set the namespace and generated the name, and
raises `errors.Invalid` (422) with one cause per problem, worded and pathed as
upstream (pkg/apis/core/validation, pkg/apis/apps/validation,
pkg/apis/autoscaling/validation, pkg/apis/coordination/validation and the
registry strategies' update rules). Pod specs are in validation_pod; field
errors and format checks in validation_common.
"""
from __future__ import annotations

from typing import Any, Callable

from minik8s.api import quantity
from minik8s.api import resources
from minik8s.api import selectors
from minik8s.api import validation_common as vc
from minik8s.api import validation_pod

Obj = dict[str, Any]
Errors = vc.Errors

NODE_PORT_RANGE = (30000, 32767)  # kube-apiserver --service-node-port-range default
_STANDARD_FINALIZERS = ("kubernetes", "orphan", "foregroundDeletion")
_SERVICE_TYPES = ("ClusterIP", "ExternalName", "LoadBalancer", "NodePort")
_PROTOCOLS = ("SCTP", "TCP", "UDP")
_MAX_CLIENT_IP_AFFINITY_SECONDS = 86400


def _name_check(res: resources.Resource) -> Callable[[str], list[str]]:
    if res.kind == "Namespace":
        return vc.dns1123_label
    if res.kind == "Service":
        return vc.dns1035_label
    return vc.dns1123_subdomain


def name_errors(res: resources.Resource, name: str, prefix: bool = False) -> list[str]:
    """Why `name` cannot name a `res` object (`prefix`: it is a generateName)."""
    return _name_check(res)(vc.mask_trailing_dash(name) if prefix else name)


def validate_name(res: resources.Resource, name: str, prefix: bool = False) -> str | None:
    """The first reason `name` is not a valid `res` name, or None."""
    msgs = name_errors(res, name, prefix)
    return msgs[0] if msgs else None


def validate(res: resources.Resource, obj: Obj, old: Obj | None = None) -> None:
    """Raise errors.Invalid when `obj` (with `old` on update) is not acceptable."""
    errs = Errors()
    meta = vc.as_dict(obj.get("metadata"))
    if old is None:
        _object_meta(errs, res, meta)
    else:
        _object_meta_update(errs, res, meta, vc.as_dict(old.get("metadata")))
    check = _BY_KIND.get((res.group, res.kind))
    if check is not None:
        check(errs, res, obj, old)
    errs.raise_invalid(res.kind, vc.as_str(meta.get("name")), res.group)


def validate_scale(obj: Obj) -> None:
    """ValidateScale for the scale subresource (autoscaling/v1 Scale)."""
    errs = Errors()
    meta = vc.as_dict(obj.get("metadata"))
    name = vc.as_str(meta.get("name"))
    if not name:
        errs.required("metadata.name", "name or generateName is required")
    else:
        errs.invalid_each("metadata.name", name, vc.dns1123_subdomain(name))
    replicas = vc.as_int(vc.as_dict(obj.get("spec")).get("replicas"))
    if replicas is not None and replicas < 0:
        errs.invalid("spec.replicas", replicas, vc.NON_NEGATIVE)
    errs.raise_invalid("Scale", name, "autoscaling")


# ---------------------------------------------------------------------------
# metadata


def _finalizers(errs: Errors, finalizers: Any, path: str, indexed: bool = True) -> None:
    for i, name in enumerate(vc.as_list(finalizers)):
        name, p = vc.as_str(name), f"{path}[{i}]" if indexed else path
        errs.invalid_each(p, name, vc.qualified_name(name))
        if "/" not in name and name not in _STANDARD_FINALIZERS:
            errs.invalid(p, name, "name is neither a standard finalizer name nor is it fully qualified")


def _owner_references(errs: Errors, refs: Any, path: str) -> None:
    first_controller = ""
    for ref in vc.as_list(refs):
        ref = vc.as_dict(ref)
        api_version, kind = vc.as_str(ref.get("apiVersion")), vc.as_str(ref.get("kind"))
        if not api_version.rpartition("/")[2]:
            errs.invalid(f"{path}.apiVersion", api_version, "version must not be empty")
        if not kind:
            errs.invalid(f"{path}.kind", kind, "must not be empty")
        for key in ("name", "uid"):
            if not ref.get(key):
                errs.invalid(f"{path}.{key}", vc.as_str(ref.get(key)), "must not be empty")
        if api_version == "v1" and kind == "Event":
            shown = vc.GoRepr(f'v1.OwnerReference{{Kind:"Event", Name:{vc.go_quote(vc.as_str(ref.get("name")))}}}')
            errs.invalid(path, shown, "/v1, Kind=Event is disallowed from being an owner")
        if ref.get("controller") is True:
            current = f"{kind}/{vc.as_str(ref.get('name'))}"
            if first_controller:
                errs.invalid(path, vc.GoRepr("[]v1.OwnerReference{...}"),
                             f'Only one reference can have Controller set to true. Found "true" in references '
                             f"for {first_controller} and {current}")
            else:
                first_controller = current


def _meta_common(errs: Errors, res: resources.Resource, meta: Obj) -> None:
    namespace = vc.as_str(meta.get("namespace"))
    if res.namespaced:
        if not namespace:
            errs.required("metadata.namespace")
        else:
            errs.invalid_each("metadata.namespace", namespace, vc.dns1123_label(namespace))
    elif namespace:
        errs.forbidden("metadata.namespace", "not allowed on this type")
    vc.nonnegative(errs, meta.get("generation"), "metadata.generation")
    vc.validate_labels(errs, meta.get("labels"), "metadata.labels")
    vc.validate_annotations(errs, meta.get("annotations"), "metadata.annotations")
    _owner_references(errs, meta.get("ownerReferences"), "metadata.ownerReferences")
    _finalizers(errs, meta.get("finalizers"), "metadata.finalizers")


def _object_meta(errs: Errors, res: resources.Resource, meta: Obj) -> None:
    """ValidateObjectMeta on create."""
    generate_name = vc.as_str(meta.get("generateName"))
    if generate_name:
        errs.invalid_each("metadata.generateName", generate_name, name_errors(res, generate_name, prefix=True))
    name = vc.as_str(meta.get("name"))
    if not name:
        errs.required("metadata.name", "name or generateName is required")
    else:
        errs.invalid_each("metadata.name", name, name_errors(res, name))
    _meta_common(errs, res, meta)


def _immutable(errs: Errors, path: str, new: Any, old: Any, shown: Any = None) -> None:
    if not vc.json_equal(new, old):
        errs.invalid(path, new if shown is None else shown, vc.IMMUTABLE)


def _object_meta_update(errs: Errors, res: resources.Resource, meta: Obj, old: Obj) -> None:
    """ValidateObjectMetaUpdate (rest.BeforeUpdate keeps the uid and creationTimestamp
    when the client leaves them out; resourceVersion preconditions are the server's)."""
    generation, old_generation = vc.as_int(meta.get("generation")), vc.as_int(old.get("generation"))
    if generation is not None and old_generation is not None and generation < old_generation:
        errs.invalid("metadata.generation", generation, "must not be decremented")
    _immutable(errs, "metadata.name", vc.as_str(meta.get("name")), vc.as_str(old.get("name")))
    _immutable(errs, "metadata.namespace", vc.as_str(meta.get("namespace")), vc.as_str(old.get("namespace")))
    if meta.get("uid"):
        _immutable(errs, "metadata.uid", meta.get("uid"), old.get("uid"))
    if old.get("deletionTimestamp"):
        new_finalizers = set(map(vc.as_str, vc.as_list(meta.get("finalizers"))))
        extra = sorted(new_finalizers - set(map(vc.as_str, vc.as_list(old.get("finalizers")))))
        if extra:
            errs.forbidden("metadata.finalizers", "no new finalizers can be added if the object is being deleted, "
                                                  f"found new finalizers {vc.go_string_slice(extra)}")
    vc.validate_labels(errs, meta.get("labels"), "metadata.labels")
    vc.validate_annotations(errs, meta.get("annotations"), "metadata.annotations")
    _owner_references(errs, meta.get("ownerReferences"), "metadata.ownerReferences")
    _finalizers(errs, meta.get("finalizers"), "metadata.finalizers")


# ---------------------------------------------------------------------------
# pods


def _pod(errs: Errors, res: resources.Resource, obj: Obj, old: Obj | None) -> None:
    validation_pod.validate_pod_spec(errs, obj.get("spec"), "spec", is_pod=True)
    if old is not None:
        validation_pod.validate_pod_update(errs, obj, old)


# ---------------------------------------------------------------------------
# workloads


def _template_for_replicas(errs: Errors, template: Any, matches: bool | None, what: str, path: str) -> None:
    """ValidatePodTemplateSpecForReplicaSet / ...ForRC; `matches` is None for an empty selector."""
    template = vc.as_dict(template)
    labels = vc.as_dict(template.get("metadata")).get("labels")
    if matches is False:
        errs.invalid(f"{path}.metadata.labels", vc.go_string_map(labels if isinstance(labels, dict) else None),
                     "`selector` does not match template `labels`")
    validation_pod.validate_pod_template(errs, template, path)
    spec = vc.as_dict(template.get("spec"))
    restart = vc.as_str(spec.get("restartPolicy"))
    if restart != "Always":
        errs.not_supported(f"{path}.spec.restartPolicy", restart, ("Always",))
    if spec.get("activeDeadlineSeconds") is not None:
        errs.forbidden(f"{path}.spec.activeDeadlineSeconds", f"activeDeadlineSeconds in {what} is not Supported")


def _replica_set_spec(errs: Errors, spec: Obj, what: str, template_what: str) -> None:
    """The selector and template half of ValidateDeploymentSpec / ValidateReplicaSetSpec."""
    sel = spec.get("selector")
    matches: bool | None = False  # a nil selector selects nothing
    if sel is None:
        errs.required("spec.selector")
    else:
        ok = vc.validate_label_selector(errs, sel, "spec.selector")
        sel_dict = vc.as_dict(sel)
        if not vc.as_dict(sel_dict.get("matchLabels")) and not vc.as_list(sel_dict.get("matchExpressions")):
            errs.invalid("spec.selector", vc.go_label_selector(sel), f"empty selector is invalid for {what}")
            matches = None  # selects everything: nothing to compare
        elif not ok:
            # LabelSelectorAsSelector fails, and upstream then skips the template.
            errs.invalid("spec.selector", vc.go_label_selector(sel), "invalid label selector")
            return
        else:
            labels = vc.as_dict(vc.as_dict(vc.as_dict(spec.get("template")).get("metadata")).get("labels"))
            matches = selectors.from_label_selector(sel_dict).matches({k: vc.as_str(v) for k, v in labels.items()})
    _template_for_replicas(errs, spec.get("template"), matches, template_what, "spec.template")


def _selector_immutable(errs: Errors, obj: Obj, old: Obj | None) -> None:
    if old is None:
        return
    new_sel = vc.as_dict(obj.get("spec")).get("selector")
    old_sel = vc.as_dict(old.get("spec")).get("selector")
    _immutable(errs, "spec.selector", new_sel, old_sel, vc.go_label_selector(new_sel))


def _int_or_percent(errs: Errors, value: Any, path: str) -> None:
    """ValidatePositiveIntOrPercent."""
    if isinstance(value, str):
        errs.invalid_each(path, vc.go_int_or_string(value), vc.percent(value))
    else:
        vc.nonnegative(errs, value, path)


def _int_or_percent_value(value: Any) -> int:
    if isinstance(value, str):
        if vc.percent(value):
            return 0
        return int(value[:-1])
    return vc.as_int(value) or 0


def _deployment_strategy(errs: Errors, strategy: Any) -> None:
    strategy = vc.as_dict(strategy)
    kind = strategy.get("type")
    rolling = strategy.get("rollingUpdate")
    path = "spec.strategy"
    if kind == "Recreate":
        if rolling is not None:
            errs.forbidden(f"{path}.rollingUpdate", "may not be specified when strategy `type` is 'Recreate'")
    elif kind == "RollingUpdate":
        if rolling is None:
            errs.required(f"{path}.rollingUpdate", "this should be defaulted and never be nil")
            return
        rolling = vc.as_dict(rolling)
        unavailable, surge = rolling.get("maxUnavailable"), rolling.get("maxSurge")
        _int_or_percent(errs, unavailable, f"{path}.rollingUpdate.maxUnavailable")
        _int_or_percent(errs, surge, f"{path}.rollingUpdate.maxSurge")
        if _int_or_percent_value(unavailable) == 0 and _int_or_percent_value(surge) == 0:
            errs.invalid(f"{path}.rollingUpdate.maxUnavailable", vc.go_int_or_string(unavailable),
                         "may not be 0 when `maxSurge` is 0")
        if isinstance(unavailable, str) and not vc.percent(unavailable) and int(unavailable[:-1]) > 100:
            errs.invalid(f"{path}.rollingUpdate.maxUnavailable", vc.go_int_or_string(unavailable),
                         "must not be greater than 100%")
    else:
        rolling_repr = ("(*apps.RollingUpdateDeployment)(nil)" if rolling is None
                        else "&apps.RollingUpdateDeployment{...}")
        errs.not_supported(path, vc.GoRepr(f"apps.DeploymentStrategy{{Type:{vc.go_quote(vc.as_str(kind))}, "
                                           f"RollingUpdate:{rolling_repr}}}"), ("Recreate", "RollingUpdate"))


def _deployment(errs: Errors, res: resources.Resource, obj: Obj, old: Obj | None) -> None:
    spec = vc.as_dict(obj.get("spec"))
    vc.nonnegative(errs, spec.get("replicas"), "spec.replicas")
    _replica_set_spec(errs, spec, "deployment", "ReplicaSet")
    _deployment_strategy(errs, spec.get("strategy"))
    vc.nonnegative(errs, spec.get("minReadySeconds"), "spec.minReadySeconds")
    vc.nonnegative(errs, spec.get("revisionHistoryLimit"), "spec.revisionHistoryLimit")
    deadline = vc.as_int(spec.get("progressDeadlineSeconds"))
    if deadline is not None:
        vc.nonnegative(errs, deadline, "spec.progressDeadlineSeconds")
        if deadline <= (vc.as_int(spec.get("minReadySeconds")) or 0):
            errs.invalid("spec.progressDeadlineSeconds", deadline, "must be greater than minReadySeconds")
    _selector_immutable(errs, obj, old)


def _replica_set(errs: Errors, res: resources.Resource, obj: Obj, old: Obj | None) -> None:
    spec = vc.as_dict(obj.get("spec"))
    vc.nonnegative(errs, spec.get("replicas"), "spec.replicas")
    vc.nonnegative(errs, spec.get("minReadySeconds"), "spec.minReadySeconds")
    # Upstream ValidateReplicaSetSpec reuses the Deployment wording.
    _replica_set_spec(errs, spec, "deployment", "ReplicaSet")
    _selector_immutable(errs, obj, old)


def _replication_controller(errs: Errors, res: resources.Resource, obj: Obj, old: Obj | None) -> None:
    spec = vc.as_dict(obj.get("spec"))
    vc.nonnegative(errs, spec.get("minReadySeconds"), "spec.minReadySeconds")
    selector = {k: vc.as_str(v) for k, v in vc.as_dict(spec.get("selector")).items()}
    if not selector:
        errs.required("spec.selector")
    vc.nonnegative(errs, spec.get("replicas"), "spec.replicas")
    template = spec.get("template")
    if template is None:
        errs.required("spec.template")
        return
    template_meta = vc.as_dict(vc.as_dict(template).get("metadata"))
    labels = {k: vc.as_str(v) for k, v in vc.as_dict(template_meta.get("labels")).items()}
    matches = None if not selector else all(labels.get(k) == v for k, v in selector.items())
    _template_for_replicas(errs, template, matches, "ReplicationController", "spec.template")


# ---------------------------------------------------------------------------
# services and endpoints


def _cluster_ips(spec: Obj) -> list[str]:
    ips = [vc.as_str(ip) for ip in vc.as_list(spec.get("clusterIPs"))]
    if not ips and spec.get("clusterIP"):
        ips = [vc.as_str(spec["clusterIP"])]
    return ips


def _service_port(errs: Errors, port: Obj, require_name: bool, names: set[str], path: str) -> None:
    name = vc.as_str(port.get("name"))
    if require_name and not name:
        errs.required(f"{path}.name")
    elif name:
        errs.invalid_each(f"{path}.name", name, vc.dns1123_label(name))
        if name in names:
            errs.duplicate(f"{path}.name", name)
        names.add(name)
    number = vc.as_int(port.get("port"))
    errs.invalid_each(f"{path}.port", number if number is not None else 0, vc.port_num(number or 0))
    protocol = vc.as_str(port.get("protocol"))
    if not protocol:
        errs.required(f"{path}.protocol")
    elif protocol not in _PROTOCOLS:
        errs.not_supported(f"{path}.protocol", protocol, _PROTOCOLS)
    target = port.get("targetPort")
    if isinstance(target, str):
        errs.invalid_each(f"{path}.targetPort", target, vc.port_name(target))
    else:
        n = vc.as_int(target) or 0
        errs.invalid_each(f"{path}.targetPort", n, vc.port_num(n))
    app_protocol = port.get("appProtocol")
    if app_protocol is not None:
        errs.invalid_each(f"{path}.appProtocol", app_protocol, vc.qualified_name(vc.as_str(app_protocol)))


def _service_port_repr(port: Obj) -> vc.GoRepr:
    """%#v of the (protocol, port) key upstream reports duplicates with."""
    return vc.GoRepr(f'core.ServicePort{{Name:"", Protocol:{vc.go_quote(vc.as_str(port.get("protocol")))}, '
                     f'AppProtocol:(*string)(nil), Port:{vc.as_int(port.get("port")) or 0}, '
                     'TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}')


def _service_ports(errs: Errors, spec: Obj, kind: str) -> None:
    ports = [vc.as_dict(p) for p in vc.as_list(spec.get("ports"))]
    names: set[str] = set()
    for i, port in enumerate(ports):
        _service_port(errs, port, len(ports) > 1, names, f"spec.ports[{i}]")
    node_ports: set[tuple[str, int]] = set()
    lo, hi = NODE_PORT_RANGE
    for i, port in enumerate(ports):
        node_port = vc.as_int(port.get("nodePort")) or 0
        if not node_port:
            continue
        if kind == "ClusterIP":
            errs.forbidden(f"spec.ports[{i}].nodePort", "may not be used when `type` is 'ClusterIP'")
        elif kind in ("NodePort", "LoadBalancer") and not lo <= node_port <= hi:
            errs.invalid(f"spec.ports[{i}].nodePort", node_port,
                         f"provided port is not in the valid range. The range of valid ports is {lo}-{hi}")
        key = (vc.as_str(port.get("protocol")), node_port)
        if key in node_ports:
            errs.duplicate(f"spec.ports[{i}].nodePort", node_port)
        node_ports.add(key)
    seen: set[tuple[str, int]] = set()
    for i, port in enumerate(ports):
        key = (vc.as_str(port.get("protocol")), vc.as_int(port.get("port")) or 0)
        if key in seen:
            errs.duplicate(f"spec.ports[{i}]", _service_port_repr(port))
        seen.add(key)


def _service_type_rules(errs: Errors, spec: Obj, kind: str, headless: bool) -> None:
    ips = _cluster_ips(spec)
    if kind in ("LoadBalancer", "NodePort") and headless:
        errs.invalid("spec.clusterIPs[0]", ips[0], f"may not be set to 'None' for {kind} services")
    elif kind == "ExternalName":
        if ips:
            errs.forbidden("spec.clusterIPs", "may not be set for ExternalName services")
        if spec.get("ipFamilies"):
            errs.forbidden("spec.ipFamilies", "may not be set for ExternalName services")
        if spec.get("ipFamilyPolicy") is not None:
            errs.forbidden("spec.ipFamilyPolicy", "may not be set for ExternalName services")
        cname = vc.as_str(spec.get("externalName")).removesuffix(".")
        if cname:
            errs.invalid_each("spec.externalName", cname, vc.dns1123_subdomain(cname))
        else:
            errs.required("spec.externalName")


def _session_affinity(errs: Errors, spec: Obj) -> None:
    affinity = vc.as_str(spec.get("sessionAffinity"))
    if not affinity:
        errs.required("spec.sessionAffinity")
    elif affinity not in ("ClientIP", "None"):
        errs.not_supported("spec.sessionAffinity", affinity, ("ClientIP", "None"))
    config = spec.get("sessionAffinityConfig")
    if affinity == "ClientIP":
        detail = "when session affinity type is ClientIP"
        client_ip = vc.as_dict(config).get("clientIP")
        if config is None:
            errs.required("spec.sessionAffinityConfig", detail)
        elif client_ip is None:
            errs.required("spec.sessionAffinityConfig.clientIP", detail)
        elif vc.as_dict(client_ip).get("timeoutSeconds") is None:
            errs.required("spec.sessionAffinityConfig.clientIP.timeoutSeconds", detail)
        else:
            timeout = vc.as_int(client_ip["timeoutSeconds"]) or 0
            if not 0 < timeout <= _MAX_CLIENT_IP_AFFINITY_SECONDS:
                errs.invalid("spec.sessionAffinityConfig.clientIP.timeoutSeconds", timeout,
                             f"must be greater than 0 and less than {_MAX_CLIENT_IP_AFFINITY_SECONDS}")
    elif affinity == "None" and config is not None:
        errs.forbidden("spec.sessionAffinityConfig", "must not be set when session affinity is None")


def _service_ips(errs: Errors, spec: Obj, kind: str) -> None:
    if kind == "ExternalName":
        return
    for i, ip in enumerate(_cluster_ips(spec)):
        if i == 0 and ip == "None":
            continue
        vc.is_valid_ip(errs, f"spec.clusterIPs[{i}]", ip)
    families = [vc.as_str(f) for f in vc.as_list(spec.get("ipFamilies"))]
    for i, family in enumerate(families):
        if family not in ("IPv4", "IPv6"):
            errs.not_supported(f"spec.ipFamilies[{i}]", family, ("IPv4", "IPv6"))
        if family in families[:i]:
            errs.duplicate(f"spec.ipFamilies[{i}]", family)
    policy = spec.get("ipFamilyPolicy")
    policies = ("PreferDualStack", "RequireDualStack", "SingleStack")
    if policy is not None and policy not in policies:
        errs.not_supported("spec.ipFamilyPolicy", policy, policies)
    for i, ip in enumerate(vc.as_list(spec.get("externalIPs"))):
        vc.is_valid_ip(errs, f"spec.externalIPs[{i}]", vc.as_str(ip))


def _traffic_policies(errs: Errors, spec: Obj, kind: str) -> None:
    external = kind in ("LoadBalancer", "NodePort") or (kind == "ClusterIP" and bool(spec.get("externalIPs")))
    policy = vc.as_str(spec.get("externalTrafficPolicy"))
    if not external:
        if policy:
            errs.invalid("spec.externalTrafficPolicy", policy, "may only be set for externally-accessible services")
    elif not policy:
        errs.required("spec.externalTrafficPolicy")
    elif policy not in ("Cluster", "Local"):
        errs.not_supported("spec.externalTrafficPolicy", policy, ("Cluster", "Local"))
    health = vc.as_int(spec.get("healthCheckNodePort")) or 0
    if health and not (kind == "LoadBalancer" and policy == "Local"):
        errs.invalid("spec.healthCheckNodePort", health,
                     "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'")
    internal = spec.get("internalTrafficPolicy")
    if internal is None and kind in ("ClusterIP", "NodePort", "LoadBalancer"):
        errs.required("spec.internalTrafficPolicy")
    elif internal is not None and internal not in ("Cluster", "Local"):
        errs.not_supported("spec.internalTrafficPolicy", internal, ("Cluster", "Local"))


def _service(errs: Errors, res: resources.Resource, obj: Obj, old: Obj | None) -> None:
    spec = vc.as_dict(obj.get("spec"))
    kind = vc.as_str(spec.get("type"))
    ips = _cluster_ips(spec)
    headless = bool(ips) and ips[0] == "None"
    if old is not None:
        _service_update(errs, spec, vc.as_dict(old.get("spec")))
    if not vc.as_list(spec.get("ports")) and not headless and kind != "ExternalName":
        errs.required("spec.ports")
    _service_type_rules(errs, spec, kind, headless)
    _service_ports(errs, spec, kind)
    if spec.get("selector") is not None:
        vc.validate_labels(errs, spec["selector"], "spec.selector")
    _session_affinity(errs, spec)
    _service_ips(errs, spec, kind)
    if not kind:
        errs.required("spec.type")
    elif kind not in _SERVICE_TYPES:
        errs.not_supported("spec.type", kind, _SERVICE_TYPES)
    ranges = vc.as_list(spec.get("loadBalancerSourceRanges"))
    if ranges:
        if kind != "LoadBalancer":
            errs.forbidden("spec.LoadBalancerSourceRanges", "may only be used when `type` is 'LoadBalancer'")
        for i, cidr in enumerate(ranges):
            vc.is_valid_cidr(errs, f"spec.LoadBalancerSourceRanges[{i}]", vc.as_str(cidr).strip())
    if spec.get("allocateLoadBalancerNodePorts") is not None and kind != "LoadBalancer":
        errs.forbidden("spec.allocateLoadBalancerNodePorts", "may only be used when `type` is 'LoadBalancer'")
    _traffic_policies(errs, spec, kind)


def _service_update(errs: Errors, spec: Obj, old_spec: Obj) -> None:
    """validateUpgradeDowngradeClusterIPs: the primary cluster IP never changes."""
    if "ExternalName" in (spec.get("type"), old_spec.get("type")):
        return
    new_ips, old_ips = _cluster_ips(spec), _cluster_ips(old_spec)
    if old_ips and (not new_ips or new_ips[0] != old_ips[0]):
        errs.invalid("spec.clusterIPs[0]", vc.go_string_slice(new_ips or None), "may not change once set")


def _endpoint_address(errs: Errors, address: Obj, path: str) -> None:
    ip = vc.as_str(address.get("ip"))
    valid = vc.is_valid_ip(errs, f"{path}.ip", ip)
    hostname = vc.as_str(address.get("hostname"))
    if hostname:
        errs.invalid_each(f"{path}.hostname", hostname, vc.dns1123_label(hostname))
    if address.get("nodeName") is not None:
        node = vc.as_str(address["nodeName"])
        errs.invalid_each(f"{path}.nodeName", node, vc.dns1123_subdomain(node))
    parsed = vc.parse_ip(ip)
    if not valid or parsed is None:
        errs.invalid(f"{path}.ip", ip, "must be a valid IP address")
        return
    if parsed.is_unspecified:
        errs.invalid(f"{path}.ip", ip, f"may not be unspecified ({ip})")
    if parsed.is_loopback:
        errs.invalid(f"{path}.ip", ip, "may not be in the loopback range (127.0.0.0/8, ::1/128)")
    if parsed.is_link_local and not parsed.is_multicast:
        errs.invalid(f"{path}.ip", ip, "may not be in the link-local range (169.254.0.0/16, fe80::/10)")
    if parsed.is_multicast and (str(parsed).startswith("224.0.0.") or str(parsed).lower().startswith("ff02:")):
        errs.invalid(f"{path}.ip", ip, "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)")


def _endpoints(errs: Errors, res: resources.Resource, obj: Obj, old: Obj | None) -> None:
    for i, subset in enumerate(vc.as_list(obj.get("subsets"))):
        subset, p = vc.as_dict(subset), f"subsets[{i}]"
        if not vc.as_list(subset.get("addresses")) and not vc.as_list(subset.get("notReadyAddresses")):
            errs.required(p, "must specify `addresses` or `notReadyAddresses`")
        for key in ("addresses", "notReadyAddresses"):
            for j, address in enumerate(vc.as_list(subset.get(key))):
                _endpoint_address(errs, vc.as_dict(address), f"{p}.{key}[{j}]")
        ports = [vc.as_dict(port) for port in vc.as_list(subset.get("ports"))]
        for j, port in enumerate(ports):
            _endpoint_port(errs, port, len(ports) > 1, f"{p}.ports[{j}]")


def _endpoint_port(errs: Errors, port: Obj, require_name: bool, path: str) -> None:
    name = vc.as_str(port.get("name"))
    if require_name and not name:
        errs.required(f"{path}.name")
    elif name:
        errs.invalid_each(f"{path}.name", name, vc.dns1123_label(name))
    number = vc.as_int(port.get("port")) or 0
    errs.invalid_each(f"{path}.port", number, vc.port_num(number))
    protocol = vc.as_str(port.get("protocol"))
    if not protocol:
        errs.required(f"{path}.protocol")
    elif protocol not in _PROTOCOLS:
        errs.not_supported(f"{path}.protocol", protocol, _PROTOCOLS)


# ---------------------------------------------------------------------------
# cluster objects


def _namespace(errs: Errors, res: resources.Resource, obj: Obj, old: Obj | None) -> None:
    if old is None:
        _finalizers(errs, vc.as_dict(obj.get("spec")).get("finalizers"), "spec.finalizers", indexed=False)


def _taints(errs: Errors, taints: Any) -> None:
    # Upstream reports node taints under metadata (ValidateNode's fldPath).
    seen: set[tuple[str, str]] = set()
    for i, taint in enumerate(vc.as_list(taints)):
        taint, p = vc.as_dict(taint), f"metadata.taints[{i}]"
        key, value, effect = (vc.as_str(taint.get(k)) for k in ("key", "value", "effect"))
        errs.invalid_each(f"{p}.key", key, vc.qualified_name(key))
        msgs = vc.label_value(value)
        if msgs:
            errs.invalid(f"{p}.value", value, ";".join(msgs))
        if not effect:
            errs.required(f"{p}.effect")
        elif effect not in ("NoSchedule", "PreferNoSchedule", "NoExecute"):
            errs.not_supported(f"{p}.effect", effect, ("NoSchedule", "PreferNoSchedule", "NoExecute"))
        if (effect, key) in seen:
            shown = (f"core.Taint{{Key:{vc.go_quote(key)}, Value:{vc.go_quote(value)}, Effect:{vc.go_quote(effect)}, "
                     "TimeAdded:(*v1.Time)(nil)}")
            errs.causes.append({"reason": "FieldValueDuplicate", "field": p, "message":
                                f"Duplicate value: {shown}: taints must be unique by key and effect pair"})
            continue
        seen.add((effect, key))


def _node(errs: Errors, res: resources.Resource, obj: Obj, old: Obj | None) -> None:
    spec, status = vc.as_dict(obj.get("spec")), vc.as_dict(obj.get("status"))
    _taints(errs, spec.get("taints"))
    for key in ("capacity", "allocatable"):
        for name, raw in sorted(vc.as_dict(status.get(key)).items()):
            try:
                if quantity.parse_quantity(raw) < 0:
                    errs.invalid(f"status.{key}.{name}", quantity.canonicalize(raw), vc.NON_NEGATIVE)
            except ValueError as e:
                errs.invalid(f"status.{key}.{name}", vc.as_str(raw), str(e))
    for i, cidr in enumerate(vc.as_list(spec.get("podCIDRs"))):
        vc.is_valid_cidr(errs, f"spec.podCIDRs[{i}]", vc.as_str(cidr))
    if old is None:
        return
    old_spec = vc.as_dict(old.get("spec"))
    old_cidrs = vc.as_list(old_spec.get("podCIDRs"))
    if old_cidrs and old_cidrs != vc.as_list(spec.get("podCIDRs")):
        errs.forbidden("spec.podCIDRs", 'node updates may not change podCIDR except from "" to valid')
    if old_spec.get("providerID") and old_spec.get("providerID") != spec.get("providerID"):
        errs.forbidden("spec.providerID", 'node updates may not change providerID except from "" to valid')


def _event(errs: Errors, res: resources.Resource, obj: Obj, old: Obj | None) -> None:
    """legacyValidateEvent (core/v1 events), plus a required involvedObject."""
    involved = obj.get("involvedObject")
    if not isinstance(involved, dict) or not involved:
        errs.required("involvedObject")
    involved_ns = vc.as_str(vc.as_dict(involved).get("namespace"))
    namespace = vc.as_str(vc.as_dict(obj.get("metadata")).get("namespace"))
    if not obj.get("eventTime"):
        mismatch = namespace not in ("", "default") if not involved_ns else namespace != involved_ns
    else:
        mismatch = not involved_ns and namespace not in ("default", "kube-system")
        _event_series_fields(errs, obj)
    if mismatch:
        errs.invalid("involvedObject.namespace", involved_ns, "does not match event.namespace")
    errs.invalid_each("namespace", namespace, vc.dns1123_subdomain(namespace))


def _event_series_fields(errs: Errors, obj: Obj) -> None:
    controller = vc.as_str(obj.get("reportingComponent"))
    if not controller:
        errs.required("reportingController")
    errs.invalid_each("reportingController", controller, vc.qualified_name(controller))
    for key, limit in (("reportingInstance", 128), ("action", 128), ("reason", 128)):
        value = vc.as_str(obj.get(key))
        if not value:
            errs.required(key)
        if len(value) > limit:
            errs.invalid(key, "", f"can have at most {limit} characters")
    if len(vc.as_str(obj.get("message"))) > 1024:
        errs.invalid("message", "", "can have at most 1024 characters")


def _lease(errs: Errors, res: resources.Resource, obj: Obj, old: Obj | None) -> None:
    spec = vc.as_dict(obj.get("spec"))
    duration = vc.as_int(spec.get("leaseDurationSeconds"))
    if duration is not None and duration <= 0:
        errs.invalid("spec.leaseDurationSeconds", duration, "must be greater than 0")
    transitions = vc.as_int(spec.get("leaseTransitions"))
    if transitions is not None and transitions < 0:
        errs.invalid("spec.leaseTransitions", transitions, vc.NON_NEGATIVE)
    if spec.get("preferredHolder") and not spec.get("strategy"):
        errs.forbidden("spec.preferredHolder", "may only be specified if `strategy` is defined")


# ---------------------------------------------------------------------------
# autoscaling


def _cross_version_ref(errs: Errors, ref: Any, path: str) -> None:
    ref = vc.as_dict(ref)
    for key in ("kind", "name"):
        value = vc.as_str(ref.get(key))
        if not value:
            errs.required(f"{path}.{key}")
        else:
            errs.invalid_each(f"{path}.{key}", value, vc.path_segment_name(value))


def _replica_bounds(errs: Errors, spec: Obj) -> None:
    min_replicas = vc.as_int(spec.get("minReplicas"))
    max_replicas = vc.as_int(spec.get("maxReplicas")) or 0
    if min_replicas is not None and min_replicas < 1:
        errs.invalid("spec.minReplicas", min_replicas, "must be greater than or equal to 1")
    if max_replicas < 1:
        errs.invalid("spec.maxReplicas", max_replicas, "must be greater than 0")
    if min_replicas is not None and max_replicas < min_replicas:
        errs.invalid("spec.maxReplicas", max_replicas, "must be greater than or equal to `minReplicas`")
    _cross_version_ref(errs, spec.get("scaleTargetRef"), "spec.scaleTargetRef")


def _positive_quantity(errs: Errors, target: Obj, key: str, path: str) -> None:
    if target.get(key) is None:
        return
    try:
        q = quantity.parse(target[key])
    except ValueError as e:
        errs.invalid(f"{path}.{key}", vc.as_str(target[key]), str(e))
        return
    if q.value <= 0:
        errs.invalid(f"{path}.{key}", q.text, "must be positive")


def _metric_target(errs: Errors, target: Obj, path: str) -> None:
    kind = vc.as_str(target.get("type"))
    if not kind:
        errs.required(f"{path}.type", "must specify a metric target type")
    if kind not in ("Utilization", "Value", "AverageValue"):
        errs.invalid(f"{path}.type", kind, "must be either Utilization, Value, or AverageValue")
    _positive_quantity(errs, target, "value", path)
    _positive_quantity(errs, target, "averageValue", path)
    utilization = vc.as_int(target.get("averageUtilization"))
    if utilization is not None and utilization < 1:
        errs.invalid(f"{path}.averageUtilization", utilization, "must be greater than 0")


def _metric_source(errs: Errors, kind: str, src: Obj, path: str) -> None:
    target = vc.as_dict(src.get("target"))
    _metric_target(errs, target, f"{path}.target")
    if kind in ("resource", "containerResource"):
        if not src.get("name"):
            errs.required(f"{path}.name", "must specify a resource name")
        if kind == "containerResource" and not src.get("container"):
            errs.required(f"{path}.container", "must specify a container")
        if target.get("averageUtilization") is None and target.get("averageValue") is None:
            errs.required(f"{path}.target.averageUtilization",
                          "must set either a target raw value or a target utilization")
        if target.get("averageUtilization") is not None and target.get("averageValue") is not None:
            errs.forbidden(f"{path}.target.averageValue",
                           "may not set both a target raw value and a target utilization")
        return
    if not vc.as_dict(src.get("metric")).get("name"):
        errs.required(f"{path}.metric.name", "must specify a metric name")
    if kind == "object":
        _cross_version_ref(errs, src.get("describedObject"), f"{path}.describedObject")
    if kind == "pods" and target.get("averageValue") is None:
        errs.required(f"{path}.target.averageValue", "must specify a positive target averageValue")
    if kind in ("object", "external") and target.get("value") is None and target.get("averageValue") is None:
        errs.required(f"{path}.target.averageValue", "must set either a target value or averageValue")


_METRIC_SOURCES = {"Object": "object", "Pods": "pods", "Resource": "resource", "External": "external",
                   "ContainerResource": "containerResource"}


def _metrics(errs: Errors, metrics: Any, path: str) -> None:
    for i, metric in enumerate(vc.as_list(metrics)):
        metric, p = vc.as_dict(metric), f"{path}[{i}]"
        kind = vc.as_str(metric.get("type"))
        if not kind:
            errs.required(f"{p}.type", "must specify a metric source type")
        present = [key for key in _METRIC_SOURCES.values() if metric.get(key) is not None]
        if present:
            _metric_source(errs, present[0], vc.as_dict(metric[present[0]]), f"{p}.{present[0]}")
        expected = _METRIC_SOURCES.get(kind)
        if expected is None:
            errs.not_supported(f"{p}.type", kind, sorted(_METRIC_SOURCES))
            continue
        if expected not in present:
            errs.required(f"{p}.{expected}", "must populate information for the given metric source")
        for other in present:
            if other != expected:
                errs.forbidden(f"{p}.{other}", "must populate the given metric source only")


def _scaling_rules(errs: Errors, rules: Any, path: str) -> None:
    """validateScalingRules: what the HPA controller's policy arithmetic relies on."""
    if rules is None:
        return
    rules = vc.as_dict(rules)
    select = rules.get("selectPolicy")
    if select is not None and select not in ("Max", "Min", "Disabled"):
        errs.not_supported(f"{path}.selectPolicy", select, ["Disabled", "Max", "Min"])
    window = rules.get("stabilizationWindowSeconds")
    if window is not None:
        value = vc.as_int(window)
        if value is None or value < 0:
            errs.invalid(f"{path}.stabilizationWindowSeconds", window, "must be greater than or equal to zero")
        elif value > 3600:
            errs.invalid(f"{path}.stabilizationWindowSeconds", window, "must be less than or equal to 3600")
    policies = rules.get("policies")
    if policies is not None and not vc.as_list(policies):
        errs.required(f"{path}.policies", "must specify at least one Policy")
    for i, policy in enumerate(vc.as_list(policies)):
        policy, p = vc.as_dict(policy), f"{path}.policies[{i}]"
        if policy.get("type") not in ("Pods", "Percent"):
            errs.not_supported(f"{p}.type", policy.get("type"), ["Percent", "Pods"])
        period = vc.as_int(policy.get("periodSeconds"))
        if period is None or period <= 0:
            errs.invalid(f"{p}.periodSeconds", policy.get("periodSeconds"), "must be greater than zero")
        elif period > 1800:
            errs.invalid(f"{p}.periodSeconds", period, "must be less than or equal to 1800")
        value = vc.as_int(policy.get("value"))
        if value is None or value <= 0:
            errs.invalid(f"{p}.value", policy.get("value"), "must be greater than zero")
    if rules.get("tolerance") is not None:
        try:
            if quantity.parse_quantity(rules["tolerance"]) < 0:
                errs.invalid(f"{path}.tolerance", rules["tolerance"], "must be greater than or equal to 0")
        except ValueError as e:
            errs.invalid(f"{path}.tolerance", vc.as_str(rules["tolerance"]), str(e))


def _hpa(errs: Errors, res: resources.Resource, obj: Obj, old: Obj | None) -> None:
    spec = vc.as_dict(obj.get("spec"))
    _replica_bounds(errs, spec)
    behavior = spec.get("behavior")
    if behavior is not None:
        _scaling_rules(errs, vc.as_dict(behavior).get("scaleUp"), "spec.behavior.scaleUp")
        _scaling_rules(errs, vc.as_dict(behavior).get("scaleDown"), "spec.behavior.scaleDown")
    if res.version == "v1":
        # v1 is converted to the internal (v2) shape before validation.
        target = spec.get("targetCPUUtilizationPercentage")
        if target is not None and (vc.as_int(target) or 0) < 1:
            errs.invalid("spec.metrics[0].resource.target.averageUtilization", vc.as_int(target) or 0,
                         "must be greater than 0")
        return
    _metrics(errs, spec.get("metrics"), "spec.metrics")


_BY_KIND: dict[tuple[str, str], Callable[[Errors, resources.Resource, Obj, Obj | None], None]] = {
    ("", "Pod"): _pod,
    ("", "Service"): _service,
    ("", "ReplicationController"): _replication_controller,
    ("", "Namespace"): _namespace,
    ("", "Node"): _node,
    ("", "Endpoints"): _endpoints,
    ("", "Event"): _event,
    ("apps", "Deployment"): _deployment,
    ("apps", "ReplicaSet"): _replica_set,
    ("autoscaling", "HorizontalPodAutoscaler"): _hpa,
    ("coordination.k8s.io", "Lease"): _lease,
}
