"""Services and Endpoints: defaults, validation, update rules and printers.

The Service strategy (pkg/registry/core/service/strategy.go: a NodePort that
becomes a ClusterIP drops its node ports), its defaults (SetDefaults_Service
plus the IP families the service REST fills), ValidateService and
ValidateEndpoints, and printService/printEndpoints. Cluster IPs and node ports
are allocated by the API server (apiserver/allocators.py) in the same etcd
transaction as the write, not here.
"""
from __future__ import annotations

import datetime
from typing import Any, Iterable, Mapping

from minik8s.api import defaults
from minik8s.api import printing
from minik8s.api import resources
from minik8s.api import strategy
from minik8s.api import validation as vc

Obj = dict[str, Any]
View = Mapping[str, Any]
Cells = printing.Cells
Errors = vc.Errors

NODE_PORT_RANGE = (30000, 32767)  # kube-apiserver --service-node-port-range default
_SERVICE_TYPES = ("ClusterIP", "ExternalName", "LoadBalancer", "NodePort")
_MAX_CLIENT_IP_AFFINITY_SECONDS = 86400


# ---------------------------------------------------------------------------
# defaults


def _externally_accessible(spec: Obj) -> bool:
    kind = spec.get("type")
    return kind in ("LoadBalancer", "NodePort") or (kind == "ClusterIP" and bool(spec.get("externalIPs")))


# ---------------------------------------------------------------------------
# validation


def _cluster_ips(spec: Obj) -> list[str]:
    ips = [vc.as_str(ip) for ip in vc.as_list(spec.get("clusterIPs"))]
    if not ips and spec.get("clusterIP"):
        ips = [vc.as_str(spec["clusterIP"])]
    return ips


def _service_port(errs: Errors, port: Obj, require_name: bool, names: set[str], path: str) -> None:
    name = vc.typed_str(errs, port.get("name"), f"{path}.name") or ""
    if require_name and not name:
        errs.required(f"{path}.name")
    elif name:
        errs.invalid_each(f"{path}.name", name, vc.dns1123_label(name))
        if name in names:
            errs.duplicate(f"{path}.name", name)
        names.add(name)
    number = vc.typed_int(errs, port.get("port"), f"{path}.port")
    if number is not None or port.get("port") is None:
        errs.invalid_each(f"{path}.port", number if number is not None else 0, vc.port_num(number or 0))
    vc.validate_protocol(errs, vc.typed_str(errs, port.get("protocol"), f"{path}.protocol") or "", f"{path}.protocol")
    vc.typed_int(errs, port.get("nodePort"), f"{path}.nodePort")
    target = port.get("targetPort")
    if isinstance(target, str):
        errs.invalid_each(f"{path}.targetPort", target, vc.port_name(target))
    elif target is not None and vc.as_int(target) is None:
        vc.wrong_type(errs, f"{path}.targetPort", target, "integer or string")
    else:
        n = vc.as_int(target) or 0
        errs.invalid_each(f"{path}.targetPort", n, vc.port_num(n))
    app_protocol = vc.typed_str(errs, port.get("appProtocol"), f"{path}.appProtocol")
    if app_protocol is not None:
        errs.invalid_each(f"{path}.appProtocol", app_protocol, vc.qualified_name(app_protocol))


def _service_port_repr(port: Obj) -> vc.GoRepr:
    """%#v of the (protocol, port) key upstream reports duplicates with."""
    return vc.GoRepr(f'core.ServicePort{{Name:"", Protocol:{vc.go_quote(vc.as_str(port.get("protocol")))}, '
                     f'AppProtocol:(*string)(nil), Port:{vc.as_int(port.get("port")) or 0}, '
                     'TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}')


def _service_ports(errs: Errors, spec: Obj, kind: str) -> None:
    ports = [p for _, p in vc.typed_dicts(errs, spec.get("ports"), "spec.ports")]
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
    families = vc.typed_strs(errs, spec.get("ipFamilies"), "spec.ipFamilies")
    for i, family in enumerate(families):
        if family not in ("IPv4", "IPv6"):
            errs.not_supported(f"spec.ipFamilies[{i}]", family, ("IPv4", "IPv6"))
        if family in families[:i]:
            errs.duplicate(f"spec.ipFamilies[{i}]", family)
    policy = spec.get("ipFamilyPolicy")
    policies = ("PreferDualStack", "RequireDualStack", "SingleStack")
    if policy is not None and policy not in policies:
        errs.not_supported("spec.ipFamilyPolicy", policy, policies)
    for i, ip in enumerate(vc.typed_strs(errs, spec.get("externalIPs"), "spec.externalIPs")):
        vc.is_valid_ip(errs, f"spec.externalIPs[{i}]", ip)


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
    health = vc.typed_int(errs, spec.get("healthCheckNodePort"), "spec.healthCheckNodePort") or 0
    if health and not (kind == "LoadBalancer" and policy == "Local"):
        errs.invalid("spec.healthCheckNodePort", health,
                     "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'")
    internal = spec.get("internalTrafficPolicy")
    if internal is None and kind in ("ClusterIP", "NodePort", "LoadBalancer"):
        errs.required("spec.internalTrafficPolicy")
    elif internal is not None and internal not in ("Cluster", "Local"):
        errs.not_supported("spec.internalTrafficPolicy", internal, ("Cluster", "Local"))


def _service_update(errs: Errors, spec: Obj, old_spec: Obj) -> None:
    """validateUpgradeDowngradeClusterIPs: the primary cluster IP never changes."""
    if "ExternalName" in (spec.get("type"), old_spec.get("type")):
        return
    new_ips, old_ips = _cluster_ips(spec), _cluster_ips(old_spec)
    if old_ips and (not new_ips or new_ips[0] != old_ips[0]):
        errs.invalid("spec.clusterIPs[0]", vc.go_string_slice(new_ips or None), "may not change once set")


def _endpoint_address(errs: Errors, address: Obj, path: str) -> None:
    ip = vc.typed_str(errs, address.get("ip"), f"{path}.ip") or ""
    valid = vc.is_valid_ip(errs, f"{path}.ip", ip)
    vc.typed_dict(errs, address.get("targetRef"), f"{path}.targetRef")
    vc.typed_str(errs, address.get("nodeName"), f"{path}.nodeName")
    hostname = vc.typed_str(errs, address.get("hostname"), f"{path}.hostname")
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


def _endpoint_port(errs: Errors, port: Obj, require_name: bool, path: str) -> None:
    name = vc.typed_str(errs, port.get("name"), f"{path}.name") or ""
    if require_name and not name:
        errs.required(f"{path}.name")
    elif name:
        errs.invalid_each(f"{path}.name", name, vc.dns1123_label(name))
    number = vc.typed_int(errs, port.get("port"), f"{path}.port") or 0
    errs.invalid_each(f"{path}.port", number, vc.port_num(number))
    vc.validate_protocol(errs, vc.typed_str(errs, port.get("protocol"), f"{path}.protocol") or "", f"{path}.protocol")


# ---------------------------------------------------------------------------
# updates


def _drop_type_dependent_fields(new: Obj, old: Obj) -> None:
    """A Service leaving NodePort/LoadBalancer loses the fields only those types allow,
    unless the user changed them on purpose (Kubernetes' dropTypeDependentFields)."""
    spec, old_spec = vc.as_dict(new.get("spec")), vc.as_dict(old.get("spec"))
    if spec.get("type") == old_spec.get("type") or spec.get("type") in ("NodePort", "LoadBalancer"):
        return
    old_ports = {(p.get("port"), p.get("protocol", "TCP")): p.get("nodePort")
                 for p in defaults.dicts(old_spec.get("ports"))}
    for port in defaults.dicts(spec.get("ports")):
        if port.get("nodePort") and port["nodePort"] == old_ports.get((port.get("port"), port.get("protocol", "TCP"))):
            port.pop("nodePort")
    if spec.get("externalTrafficPolicy") == old_spec.get("externalTrafficPolicy"):
        spec.pop("externalTrafficPolicy", None)
    if spec.get("healthCheckNodePort") == old_spec.get("healthCheckNodePort"):
        spec.pop("healthCheckNodePort", None)


# ---------------------------------------------------------------------------
# printers


SERVICE_COLUMNS = (
    printing.name_column(),
    printing.column("Type", desc="type determines how the Service is exposed. Defaults to ClusterIP."),
    printing.column("Cluster-IP", desc="clusterIP is the IP address of the service and is usually assigned "
                                       "randomly."),
    printing.column("External-IP", desc="externalIPs is a list of IP addresses for which nodes in the cluster will "
                                        "also accept traffic for this service."),
    printing.column("Port(s)", desc="The list of ports that are exposed by this service."),
    printing.age_column(),
    printing.column("Selector", desc="Route service traffic to pods with label keys and values matching this "
                                     "selector.", priority=1),
)


def _service_external_ip(svc: View, svc_type: str) -> str:
    spec = svc.get("spec") or {}
    external_ips = spec.get("externalIPs") or []
    if svc_type in ("ClusterIP", "NodePort"):
        return ",".join(external_ips) if external_ips else "<none>"
    if svc_type == "LoadBalancer":
        # The server renders wide, so the load balancer list is never clipped.
        ingress = (((svc.get("status") or {}).get("loadBalancer") or {}).get("ingress")) or []
        found = sorted({i.get("ip") or i.get("hostname") for i in ingress if i.get("ip") or i.get("hostname")})
        if external_ips:
            return ",".join(found + list(external_ips))
        return ",".join(found) if found else "<pending>"
    if svc_type == "ExternalName":
        return str(spec.get("externalName", ""))
    return "<unknown>"


def _port_string(ports: Iterable[View] | None) -> str:
    pieces = []
    for port in ports or []:
        protocol = port.get("protocol") or "TCP"
        if int(port.get("nodePort") or 0) > 0:
            pieces.append(f"{port.get('port')}:{port['nodePort']}/{protocol}")
        else:
            pieces.append(f"{port.get('port')}/{protocol}")
    return ",".join(pieces)


def _service_cells(svc: View, now: datetime.datetime) -> Cells:
    spec = svc.get("spec") or {}
    svc_type = spec.get("type") or "ClusterIP"
    cluster_ips = spec.get("clusterIPs") or ([spec["clusterIP"]] if spec.get("clusterIP") else [])
    return [
        printing.name(svc), svc_type, cluster_ips[0] if cluster_ips else "<none>",
        _service_external_ip(svc, svc_type), _port_string(spec.get("ports")) or "<none>", printing.age(svc, now),
        printing.format_labels(spec.get("selector")),
    ]


ENDPOINTS_COLUMNS = (
    printing.name_column(),
    printing.column("Endpoints", desc="The set of all endpoints is the union of all subsets."),
    printing.age_column(),
)


def format_endpoints(endpoints: View) -> str:
    """formatEndpoints: the first three `ip:port`s, then "+ N more..."."""
    subsets = endpoints.get("subsets") or []
    if not subsets:
        return "<none>"
    listed: list[str] = []
    limit = 3
    more = False
    count = 0
    for subset in subsets:
        addresses = subset.get("addresses") or []
        ports = subset.get("ports") or []
        if not ports:
            # headless services may have no ports
            count += len(addresses)
            for address in addresses:
                if len(listed) == limit:
                    more = True
                    break
                listed.append(address.get("ip", ""))
            continue
        for port in ports:
            count += len(addresses)
            for address in addresses:
                if len(listed) == limit:
                    more = True
                    break
                listed.append(printing.join_host_port(address.get("ip", ""), port.get("port")))
    text = ",".join(listed)
    return f"{text} + {count - limit} more..." if more else text


def _endpoints_cells(obj: View, now: datetime.datetime) -> Cells:
    return [printing.name(obj), format_endpoints(obj), printing.age(obj, now)]


# ---------------------------------------------------------------------------
# the strategies


def _needs_node_port(spec: View) -> bool:
    kind = spec.get("type")
    return kind == "NodePort" or (kind == "LoadBalancer" and spec.get("allocateLoadBalancerNodePorts") is not False)


def _patch_allocated_values(new: Obj, old: Obj) -> None:
    """patchAllocatedValues: an update that does not send back the cluster IP or node
    ports keeps the allocated ones (`kubectl replace -f` of a manifest without them)."""
    new_spec, old_spec = vc.as_dict(new.get("spec")), vc.as_dict(old.get("spec"))
    if not isinstance(new.get("spec"), dict):
        return
    if old_spec.get("type") != "ExternalName" and new_spec.get("type") != "ExternalName":
        if not new_spec.get("clusterIP") and old_spec.get("clusterIP"):
            new_spec["clusterIP"] = old_spec["clusterIP"]
        if not new_spec.get("clusterIPs") and old_spec.get("clusterIPs"):
            new_spec["clusterIPs"] = list(old_spec["clusterIPs"])
    if _needs_node_port(old_spec) and _needs_node_port(new_spec):
        def used(spec: View) -> set[int]:
            # Read leniently: the update is type-checked after this, not before.
            return {vc.as_int(vc.as_dict(p).get("nodePort")) or 0 for p in vc.as_list(spec.get("ports"))} - {0}
        taken = used(old_spec) & used(new_spec)
        by_name = {vc.as_str(vc.as_dict(p).get("name")): vc.as_dict(p).get("nodePort")
                   for p in vc.as_list(old_spec.get("ports"))}
        for port in vc.as_list(new_spec.get("ports")):
            if isinstance(port, dict) and not port.get("nodePort"):
                known = by_name.get(vc.as_str(port.get("name")))
                if vc.as_int(known) and vc.as_int(known) not in taken:
                    port["nodePort"] = known
    if (old_spec.get("type") == new_spec.get("type") == "LoadBalancer"
            and old_spec.get("externalTrafficPolicy") == new_spec.get("externalTrafficPolicy") == "Local"
            and not new_spec.get("healthCheckNodePort") and old_spec.get("healthCheckNodePort")):
        new_spec["healthCheckNodePort"] = old_spec["healthCheckNodePort"]


class ServiceStrategy(strategy.Strategy):
    group, kind = "", "Service"
    track_generation = True
    subresources = {"status": strategy.STATUS}
    printer = printing.Printer(SERVICE_COLUMNS, _service_cells)

    def name_errors(self, name: str) -> list[str]:
        return vc.dns1035_label(name)

    def defaults(self, res: resources.Resource, obj: Obj, old: Obj | None, settings: strategy.Settings) -> None:
        spec = defaults.ensure_dict(obj, "spec")
        defaults.set_if_zero(spec, "sessionAffinity", "None")
        if spec["sessionAffinity"] == "None":
            spec.pop("sessionAffinityConfig", None)
        elif spec["sessionAffinity"] == "ClientIP":
            client_ip = defaults.child(defaults.child(spec, "sessionAffinityConfig"), "clientIP")
            if client_ip is None or client_ip.get("timeoutSeconds") is None:
                spec["sessionAffinityConfig"] = {"clientIP": {"timeoutSeconds": 10800}}
        defaults.set_if_zero(spec, "type", "ClusterIP")
        for port in defaults.dicts(spec.get("ports")):
            defaults.set_if_zero(port, "protocol", "TCP")
            if defaults.is_zero(port.get("targetPort")):
                port["targetPort"] = port.get("port")
        if _externally_accessible(spec):
            defaults.set_if_zero(spec, "externalTrafficPolicy", "Cluster")
        if spec["type"] in ("ClusterIP", "NodePort", "LoadBalancer") and spec.get("internalTrafficPolicy") is None:
            spec["internalTrafficPolicy"] = "Cluster"
        if spec["type"] == "LoadBalancer":
            if spec.get("allocateLoadBalancerNodePorts") is None:
                spec["allocateLoadBalancerNodePorts"] = True
            balancer = defaults.child(defaults.child(obj, "status"), "loadBalancer") or {}
            for ingress in defaults.dicts(balancer.get("ingress")):
                if ingress.get("ip") and ingress.get("ipMode") is None:
                    ingress["ipMode"] = "VIP"
        # The service REST layer fills these while allocating the cluster IP; this
        # single-stack cluster always picks IPv4.
        if spec["type"] != "ExternalName":
            if not spec.get("ipFamilyPolicy"):
                spec["ipFamilyPolicy"] = "SingleStack"
            if not spec.get("ipFamilies"):
                spec["ipFamilies"] = ["IPv4"]

    def prepare_for_create(self, res: resources.Resource, obj: Obj) -> None:
        obj["status"] = {"loadBalancer": {}}

    def prepare_for_update(self, res: resources.Resource, new: Obj, old: Obj) -> None:
        _patch_allocated_values(new, old)
        _drop_type_dependent_fields(new, old)
        super().prepare_for_update(res, new, old)

    def check(self, errs: Errors, res: resources.Resource, obj: Obj, old: Obj | None) -> None:
        spec = vc.typed_dict(errs, obj.get("spec"), "spec")
        kind = vc.typed_str(errs, spec.get("type"), "spec.type") or ""
        vc.typed_str(errs, spec.get("clusterIP"), "spec.clusterIP")
        vc.typed_strs(errs, spec.get("clusterIPs"), "spec.clusterIPs")
        for key in ("externalName", "sessionAffinity", "externalTrafficPolicy", "internalTrafficPolicy",
                    "ipFamilyPolicy", "loadBalancerIP", "loadBalancerClass"):
            vc.typed_str(errs, spec.get(key), f"spec.{key}")
        for key in ("publishNotReadyAddresses", "allocateLoadBalancerNodePorts"):
            vc.typed_bool(errs, spec.get(key), f"spec.{key}")
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
        ranges = vc.typed_strs(errs, spec.get("loadBalancerSourceRanges"), "spec.loadBalancerSourceRanges")
        if ranges:
            if kind != "LoadBalancer":
                errs.forbidden("spec.LoadBalancerSourceRanges", "may only be used when `type` is 'LoadBalancer'")
            for i, cidr in enumerate(ranges):
                vc.is_valid_cidr(errs, f"spec.LoadBalancerSourceRanges[{i}]", vc.as_str(cidr).strip())
        if spec.get("allocateLoadBalancerNodePorts") is not None and kind != "LoadBalancer":
            errs.forbidden("spec.allocateLoadBalancerNodePorts", "may only be used when `type` is 'LoadBalancer'")
        _traffic_policies(errs, spec, kind)


class EndpointsStrategy(strategy.Strategy):
    group, kind = "", "Endpoints"
    allow_create_on_update = True
    printer = printing.Printer(ENDPOINTS_COLUMNS, _endpoints_cells)

    def defaults(self, res: resources.Resource, obj: Obj, old: Obj | None, settings: strategy.Settings) -> None:
        for subset in defaults.dicts(obj.get("subsets")):
            for port in defaults.dicts(subset.get("ports")):
                defaults.set_if_zero(port, "protocol", "TCP")

    def check(self, errs: Errors, res: resources.Resource, obj: Obj, old: Obj | None) -> None:
        for i, subset in vc.typed_dicts(errs, obj.get("subsets"), "subsets"):
            p = f"subsets[{i}]"
            addresses = {key: vc.typed_dicts(errs, subset.get(key), f"{p}.{key}")
                         for key in ("addresses", "notReadyAddresses")}
            if not vc.as_list(subset.get("addresses")) and not vc.as_list(subset.get("notReadyAddresses")):
                errs.required(p, "must specify `addresses` or `notReadyAddresses`")
            for key, found in addresses.items():
                for j, address in found:
                    _endpoint_address(errs, address, f"{p}.{key}[{j}]")
            ports = [port for _, port in vc.typed_dicts(errs, subset.get("ports"), f"{p}.ports")]
            for j, port in enumerate(ports):
                _endpoint_port(errs, port, len(ports) > 1, f"{p}.ports[{j}]")
