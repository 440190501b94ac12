"""`describe`: kubectl's multi-section text for one object, with its Events.

Each `describe_*` function is pure (the object and related objects in, text out)
and follows its namesake in k8s.io/kubectl/pkg/describe; `describe` fetches what
they need, as kubectl does: Events by involvedObject, the ReplicaSets of a
Deployment, the pods of a controller or of a node, a node's Lease.
"""
from __future__ import annotations

import base64
import binascii
import copy
import re
from fractions import Fraction
from typing import Any, Iterable, Mapping

from minik8s.api import errors
from minik8s.api import owners
from minik8s.api import pods as podutil
from minik8s.api import printing
from minik8s.api import quantity
from minik8s.api import resources
from minik8s.api.kinds import node as node_kind
from minik8s.api.kinds import service as service_kind
from minik8s.cli.kubectl import describe_parts as parts
from minik8s.client import rest

Obj = Mapping[str, Any]


# ---------------------------------------------------------------------------
# Describers
# ---------------------------------------------------------------------------


def pod_qos(pod: Obj) -> str:
    """status.qosClass, else GetPodQOS over the containers' cpu/memory requests and limits."""
    if (pod.get("status") or {}).get("qosClass"):
        return str(pod["status"]["qosClass"])
    spec = pod.get("spec") or {}
    containers = list(spec.get("containers") or []) + list(spec.get("initContainers") or [])
    any_set = False
    guaranteed = True
    for c in containers:
        res_ = c.get("resources") or {}
        requests = {k: v for k, v in (res_.get("requests") or {}).items() if k in ("cpu", "memory")}
        limits = {k: v for k, v in (res_.get("limits") or {}).items() if k in ("cpu", "memory")}
        any_set = any_set or bool(requests) or bool(limits)
        if set(limits) != {"cpu", "memory"}:
            guaranteed = False
        for k, v in requests.items():
            if k not in limits or quantity.parse_quantity(v) != quantity.parse_quantity(limits[k]):
                guaranteed = False
    if not any_set:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"


def describe_pod(pod: Obj, events: list[Obj] | None) -> str:
    w = parts.PrefixWriter()
    meta, spec, status = parts.metadata(pod), pod.get("spec") or {}, pod.get("status") or {}
    w.write(0, f"Name:\t{meta.get('name', '')}\n")
    w.write(0, f"Namespace:\t{meta.get('namespace', '')}\n")
    if spec.get("priority") is not None:
        w.write(0, f"Priority:\t{spec['priority']}\n")
    if spec.get("priorityClassName"):
        w.write(0, f"Priority Class Name:\t{spec['priorityClassName']}\n")
    if spec.get("serviceAccountName"):
        w.write(0, f"Service Account:\t{spec['serviceAccountName']}\n")
    node = spec.get("nodeName")
    w.write(0, f"Node:\t{node + '/' + str(status.get('hostIP', '')) if node else '<none>'}\n")
    if status.get("startTime"):
        w.write(0, f"Start Time:\t{parts.rfc1123z(status['startTime'])}\n")
    parts.labels_multiline(w, "Labels", meta.get("labels"))
    parts.annotations_multiline(w, "Annotations", meta.get("annotations"))
    if meta.get("deletionTimestamp") and status.get("phase") not in ("Failed", "Succeeded"):
        w.write(0, f"Status:\tTerminating (lasts {parts.since(meta['deletionTimestamp'])})\n")
        w.write(0, f"Termination Grace Period:\t{meta.get('deletionGracePeriodSeconds', 0)}s\n")
    else:
        w.write(0, f"Status:\t{status.get('phase', '')}\n")
    for title, key in (("Reason", "reason"), ("Message", "message")):
        if status.get(key):
            w.write(0, f"{title}:\t{status[key]}\n")
    w.write(0, f"IP:\t{status.get('podIP', '')}\n")
    ips = status.get("podIPs") or []
    if ips:
        w.write(0, "IPs:\n")
        for ip in ips:
            w.write(1, f"IP:\t{ip.get('ip', '')}\n")
    else:
        w.write(0, "IPs:\t<none>\n")
    if parts.controller_of(pod):
        w.write(0, f"Controlled By:\t{parts.controller_of(pod)}\n")
    if status.get("nominatedNodeName"):
        w.write(0, f"NominatedNodeName:\t{status['nominatedNodeName']}\n")
    if spec.get("initContainers"):
        parts.describe_containers(w, "Init Containers", spec["initContainers"], status.get("initContainerStatuses"),
                                  pod)
    parts.describe_containers(w, "Containers", spec.get("containers") or [], status.get("containerStatuses"), pod)
    if spec.get("readinessGates"):
        w.write(0, "Readiness Gates:\n  Type\tStatus\n")
        for ctype, cond in podutil.readiness_gates(pod):
            w.write(1, f"{ctype} \t{cond.get('status') if cond is not None else '<none>'} \n")
    if status.get("conditions"):
        w.write(0, "Conditions:\n  Type\tStatus\n")
        for c in status["conditions"]:
            w.write(1, f"{c.get('type')} \t{c.get('status')} \n")
    parts.describe_volumes(w, spec.get("volumes"))
    w.write(0, f"QoS Class:\t{pod_qos(pod)}\n")
    parts.labels_multiline(w, "Node-Selectors", spec.get("nodeSelector"))
    parts.tolerations_multiline(w, "Tolerations", spec.get("tolerations"))
    parts.describe_events(w, events)
    return w.text()


def _conditions_table(w: parts.PrefixWriter, conditions: list[Obj] | None) -> None:
    if conditions:
        w.write(0, "Conditions:\n  Type\tStatus\tReason\n")
        w.write(1, "----\t------\t------\n")
        for c in conditions:
            w.write(1, f"{c.get('type')} \t{c.get('status')}\t{c.get('reason', '')}\n")


def replica_sets_text(replica_sets: Iterable[Obj]) -> str:
    parts = [f"{parts.metadata(rs).get('name')} ({(rs.get('status') or {}).get('replicas', 0)}/"
             f"{(rs.get('spec') or {}).get('replicas', 1)} replicas created)" for rs in replica_sets]
    return ", ".join(parts) or "<none>"


def describe_deployment(d: Obj, old: list[Obj], new: Obj | None, events: list[Obj] | None) -> str:
    w = parts.PrefixWriter()
    meta, spec, status = parts.metadata(d), d.get("spec") or {}, d.get("status") or {}
    w.write(0, f"Name:\t{meta.get('name', '')}\n")
    w.write(0, f"Namespace:\t{meta.get('namespace', '')}\n")
    w.write(0, f"CreationTimestamp:\t{parts.rfc1123z(meta.get('creationTimestamp'))}\n")
    parts.labels_multiline(w, "Labels", meta.get("labels"))
    parts.annotations_multiline(w, "Annotations", meta.get("annotations"))
    w.write(0, f"Selector:\t{parts.selector_text(spec.get('selector'))}\n")
    w.write(0, f"Replicas:\t{spec.get('replicas', 1)} desired | {status.get('updatedReplicas', 0)} updated | "
               f"{status.get('replicas', 0)} total | {status.get('availableReplicas', 0)} available | "
               f"{status.get('unavailableReplicas', 0)} unavailable\n")
    strategy = spec.get("strategy") or {}
    w.write(0, f"StrategyType:\t{strategy.get('type', '')}\n")
    w.write(0, f"MinReadySeconds:\t{spec.get('minReadySeconds', 0)}\n")
    if strategy.get("rollingUpdate") is not None:
        ru = strategy["rollingUpdate"]
        w.write(0, f"RollingUpdateStrategy:\t{parts.int_or_string(ru.get('maxUnavailable'))} max unavailable, "
                   f"{parts.int_or_string(ru.get('maxSurge'))} max surge\n")
    parts.describe_pod_template(w, spec.get("template"))
    _conditions_table(w, status.get("conditions"))
    if old or new is not None:
        w.write(0, f"OldReplicaSets:\t{replica_sets_text(old)}\n")
        w.write(0, f"NewReplicaSet:\t{replica_sets_text([new] if new is not None else [])}\n")
    parts.describe_events(w, events)
    return w.text()


def pod_phase_counts(pods: Iterable[Obj]) -> tuple[int, int, int, int]:
    running = waiting = succeeded = failed = 0
    for pod in pods:
        phase = (pod.get("status") or {}).get("phase")
        if phase == "Running":
            running += 1
        elif phase == "Pending":
            waiting += 1
        elif phase == "Succeeded":
            succeeded += 1
        elif phase == "Failed":
            failed += 1
    return running, waiting, succeeded, failed


def describe_replica_set(rs: Obj, pods: list[Obj], events: list[Obj] | None) -> str:
    """ReplicaSet and ReplicationController (whose selector is a plain map)."""
    w = parts.PrefixWriter()
    meta, spec, status = parts.metadata(rs), rs.get("spec") or {}, rs.get("status") or {}
    w.write(0, f"Name:\t{meta.get('name', '')}\n")
    w.write(0, f"Namespace:\t{meta.get('namespace', '')}\n")
    selector = spec.get("selector")
    if rs.get("kind") == "ReplicationController":
        w.write(0, f"Selector:\t{printing.format_labels(selector)}\n")
    else:
        w.write(0, f"Selector:\t{parts.selector_text(selector)}\n")
    parts.labels_multiline(w, "Labels", meta.get("labels"))
    parts.annotations_multiline(w, "Annotations", meta.get("annotations"))
    if parts.controller_of(rs):
        w.write(0, f"Controlled By:\t{parts.controller_of(rs)}\n")
    w.write(0, f"Replicas:\t{status.get('replicas', 0)} current / {spec.get('replicas', 1)} desired\n")
    running, waiting, succeeded, failed = pod_phase_counts(pods)
    w.write(0, f"Pods Status:\t{running} Running / {waiting} Waiting / {succeeded} Succeeded / {failed} Failed\n")
    parts.describe_pod_template(w, spec.get("template"))
    _conditions_table(w, status.get("conditions"))
    parts.describe_events(w, events)
    return w.text()


def describe_service(svc: Obj, endpoints: Obj | None, events: list[Obj] | None) -> str:
    w = parts.PrefixWriter()
    meta, spec = parts.metadata(svc), svc.get("spec") or {}
    parts.object_header(w, meta)
    w.write(0, f"Selector:\t{printing.format_labels(spec.get('selector'))}\n")
    w.write(0, f"Type:\t{spec.get('type', '')}\n")
    if spec.get("ipFamilyPolicy"):
        w.write(0, f"IP Family Policy:\t{spec['ipFamilyPolicy']}\n")
    w.write(0, f"IP Families:\t{','.join(spec.get('ipFamilies') or []) or '<none>'}\n")
    w.write(0, f"IP:\t{spec.get('clusterIP', '')}\n")
    w.write(0, f"IPs:\t{','.join(spec.get('clusterIPs') or []) or '<none>'}\n")
    if spec.get("externalIPs"):
        w.write(0, f"External IPs:\t{','.join(spec['externalIPs'])}\n")
    if spec.get("externalName"):
        w.write(0, f"External Name:\t{spec['externalName']}\n")
    for port in spec.get("ports") or []:
        name = port.get("name") or "<unset>"
        proto = port.get("protocol", "TCP")
        w.write(0, f"Port:\t{name}\t{port.get('port')}/{proto}\n")
        w.write(0, f"TargetPort:\t{parts.int_or_string(port.get('targetPort', port.get('port')))}/{proto}\n")
        if port.get("nodePort"):
            w.write(0, f"NodePort:\t{name}\t{port['nodePort']}/{proto}\n")
        w.write(0, f"Endpoints:\t{_service_endpoints(endpoints, port.get('name') or '')}\n")
    if not spec.get("ports"):
        w.write(0, f"Endpoints:\t{_service_endpoints(endpoints, None)}\n")
    w.write(0, f"Session Affinity:\t{spec.get('sessionAffinity', 'None')}\n")
    if spec.get("externalTrafficPolicy"):
        w.write(0, f"External Traffic Policy:\t{spec['externalTrafficPolicy']}\n")
    if spec.get("internalTrafficPolicy"):
        w.write(0, f"Internal Traffic Policy:\t{spec['internalTrafficPolicy']}\n")
    parts.describe_events(w, events)
    return w.text()


def _service_endpoints(endpoints: Obj | None, port_name: str | None) -> str:
    """The ready `ip:port`s behind one service port (all ports when None), "<none>" if empty."""
    if not endpoints:
        return "<none>"
    subsets = []
    for subset in endpoints.get("subsets") or []:
        ports = [p for p in subset.get("ports") or [] if port_name is None or (p.get("name") or "") == port_name]
        if ports or port_name is None:
            subsets.append({"addresses": subset.get("addresses") or [], "ports": ports})
    text = service_kind.format_endpoints({"subsets": subsets})
    return text or "<none>"


def describe_endpoints(ep: Obj, events: list[Obj] | None) -> str:
    w = parts.PrefixWriter()
    meta = parts.metadata(ep)
    parts.object_header(w, meta)
    w.write(0, "Subsets:\n")
    for subset in ep.get("subsets") or []:
        ready = ",".join(a.get("ip", "") for a in subset.get("addresses") or [])
        not_ready = ",".join(a.get("ip", "") for a in subset.get("notReadyAddresses") or [])
        w.write(1, f"Addresses:\t{parts.or_none(ready)}\n")
        w.write(1, f"NotReadyAddresses:\t{parts.or_none(not_ready)}\n")
        if subset.get("ports"):
            w.write(1, "Ports:\n")
            w.write(2, "Name\tPort\tProtocol\n")
            w.write(2, "----\t----\t--------\n")
            for p in subset["ports"]:
                w.write(2, f"{p.get('name') or '<unset>'}\t{p.get('port')}\t{p.get('protocol', 'TCP')}\n")
        w.write(0, "\n")
    parts.describe_events(w, events)
    return w.text()


def describe_namespace(ns: Obj) -> str:
    """Namespaces show no Events in kubectl (nor quotas and limit ranges, which minik8s lacks)."""
    w = parts.PrefixWriter()
    meta = parts.metadata(ns)
    parts.object_header(w, meta, namespaced=False)
    w.write(0, f"Status:\t{(ns.get('status') or {}).get('phase', '')}\n")
    conditions = (ns.get("status") or {}).get("conditions") or []
    if conditions:
        w.write(0, "Conditions:\n")
        w.write(1, "Type\tStatus\tLastTransitionTime\tReason\tMessage\n")
        w.write(1, "----\t------\t------------------\t------\t-------\n")
        for c in conditions:
            w.write(1, f"{c.get('type')}\t{c.get('status')}\t{parts.rfc1123z(c.get('lastTransitionTime'))}\t"
                       f"{c.get('reason', '')}\t{c.get('message', '')}\n")
    return w.text()


def _decoded_length(value: Any) -> int:
    try:
        return len(base64.b64decode(str(value), validate=False))
    except (ValueError, binascii.Error):
        return len(str(value))


def describe_config_map(cm: Obj, events: list[Obj] | None) -> str:
    w = parts.PrefixWriter()
    meta = parts.metadata(cm)
    parts.object_header(w, meta)
    w.write(0, "\nData\n====\n")
    data = cm.get("data") or {}
    for key in sorted(data):
        w.write(0, f"{key}:\n----\n{data[key]}\n\n")
    w.write(0, "\nBinaryData\n====\n")
    binary = cm.get("binaryData") or {}
    for key in sorted(binary):
        w.write(0, f"{key}: {_decoded_length(binary[key])} bytes\n")
    w.write(0, "\n")
    parts.describe_events(w, events)
    return w.text()


def describe_secret(secret: Obj) -> str:
    """Sizes only, never values; kubectl shows no Events for secrets."""
    w = parts.PrefixWriter()
    meta = parts.metadata(secret)
    parts.object_header(w, meta)
    w.write(0, f"\nType:\t{secret.get('type', '')}\n")
    w.write(0, "\nData\n====\n")
    data = secret.get("data") or {}
    for key in sorted(data):
        w.write(0, f"{key}:\t{_decoded_length(data[key])} bytes\n")
    return w.text()


def _sum(pods: list[Obj], kind: str, resource: str) -> Fraction:
    total = Fraction(0)
    for pod in pods:
        for c in (pod.get("spec") or {}).get("containers") or []:
            value = ((c.get("resources") or {}).get(kind) or {}).get(resource)
            if value is not None:
                total += quantity.parse_quantity(value)
    return total


def _amount(value: Fraction, resource: str) -> str:
    if resource == "cpu":
        return quantity.format_cpu_millis(quantity.cpu_millis(value))
    return quantity.format_quantity(value, binary=value >= 1024 and value.denominator == 1 and value % 1024 == 0)


# int64(x / 0.0) in Go on amd64: what kubectl prints for a pod's share of a node that
# reports no allocatable amount.
_GO_NAN_INT = "-9223372036854775808"


def _percent(value: Fraction, total: Any, zero: str = "0") -> str:
    try:
        whole = quantity.parse_quantity(total) if total is not None else Fraction(0)
    except (TypeError, ValueError):
        whole = Fraction(0)
    if resource_is_zero(whole):
        return zero
    return str(int(value * 100 / whole))


def resource_is_zero(value: Fraction) -> bool:
    return value == 0


def describe_node(node: Obj, pods: list[Obj] | None, events: list[Obj] | None, lease: Obj | None,
                  lease_error: str = "") -> str:
    w = parts.PrefixWriter()
    meta, spec, status = parts.metadata(node), node.get("spec") or {}, node.get("status") or {}
    w.write(0, f"Name:\t{meta.get('name', '')}\n")
    roles = node_kind.node_roles(node)
    w.write(0, f"Roles:\t{','.join(roles) if roles else '<none>'}\n")
    parts.labels_multiline(w, "Labels", meta.get("labels"))
    parts.annotations_multiline(w, "Annotations", meta.get("annotations"))
    w.write(0, f"CreationTimestamp:\t{parts.rfc1123z(meta.get('creationTimestamp'))}\n")
    taints = [f"{t.get('key')}{'=' + t['value'] if t.get('value') else ''}:{t.get('effect')}"
              for t in spec.get("taints") or []]
    w.write(0, f"Taints:\t{taints[0] if taints else '<none>'}\n")
    for taint in taints[1:]:
        w.write(0, f"\t{taint}\n")
    w.write(0, f"Unschedulable:\t{'true' if spec.get('unschedulable') else 'false'}\n")
    if lease is not None:
        lease_spec = lease.get("spec") or {}
        w.write(0, "Lease:\n")
        w.write(1, f"HolderIdentity:\t{lease_spec.get('holderIdentity') or '<unset>'}\n")
        for label, key in (("AcquireTime", "acquireTime"), ("RenewTime", "renewTime")):
            w.write(1, f"{label}:\t{parts.rfc1123z(lease_spec[key]) if lease_spec.get(key) else '<unset>'}\n")
    else:
        w.write(0, f"Lease:\tFailed to get lease: {lease_error}\n")
    conditions = status.get("conditions") or []
    if conditions:
        w.write(0, "Conditions:\n  Type\tStatus\tLastHeartbeatTime\tLastTransitionTime\tReason\tMessage\n")
        w.write(1, "----\t------\t-----------------\t------------------\t------\t-------\n")
        for c in conditions:
            w.write(1, f"{c.get('type')} \t{c.get('status')} \t{parts.rfc1123z(c.get('lastHeartbeatTime'))} \t"
                       f"{parts.rfc1123z(c.get('lastTransitionTime'))} \t{c.get('reason', '')} \t"
                       f"{c.get('message', '')}\n")
    w.write(0, "Addresses:\n")
    for a in status.get("addresses") or []:
        w.write(1, f"{a.get('type')}:\t{a.get('address')}\n")
    for title, key in (("Capacity", "capacity"), ("Allocatable", "allocatable")):
        amounts = status.get(key) or {}
        if amounts:
            w.write(0, f"{title}:\n")
            for name in sorted(amounts):
                w.write(1, f"{name}:\t{amounts[name]}\n")
    info = status.get("nodeInfo") or {}
    w.write(0, "System Info:\n")
    for label, key in (("Machine ID", "machineID"), ("System UUID", "systemUUID"), ("Boot ID", "bootID"),
                       ("Kernel Version", "kernelVersion"), ("OS Image", "osImage"),
                       ("Operating System", "operatingSystem"), ("Architecture", "architecture"),
                       ("Container Runtime Version", "containerRuntimeVersion"),
                       ("Kubelet Version", "kubeletVersion"), ("Kube-Proxy Version", "kubeProxyVersion")):
        w.write(1, f"{label}:\t{info.get(key, '')}\n")
    if spec.get("podCIDR"):
        w.write(0, f"PodCIDR:\t{spec['podCIDR']}\n")
    if spec.get("podCIDRs"):
        w.write(0, f"PodCIDRs:\t{','.join(spec['podCIDRs'])}\n")
    if spec.get("providerID"):
        w.write(0, f"ProviderID:\t{spec['providerID']}\n")
    if pods is not None:
        allocatable = status.get("allocatable") or status.get("capacity") or {}
        w.write(0, f"Non-terminated Pods:\t({len(pods)} in total)\n")
        w.write(1, "Namespace\tName\t\tCPU Requests\tCPU Limits\tMemory Requests\tMemory Limits\tAge\n")
        w.write(1, "---------\t----\t\t------------\t----------\t---------------\t-------------\t---\n")
        for pod in pods:
            cells = []
            for kind, resource in (("requests", "cpu"), ("limits", "cpu"), ("requests", "memory"),
                                   ("limits", "memory")):
                value = _sum([pod], kind, resource)
                cells.append(f"{_amount(value, resource)} "
                             f"({_percent(value, allocatable.get(resource), zero=_GO_NAN_INT)}%)")
            pod_meta = parts.metadata(pod)
            w.write(1, f"{pod_meta.get('namespace')}\t{pod_meta.get('name')}\t\t{cells[0]}\t{cells[1]}\t"
                       f"{cells[2]}\t{cells[3]}\t{parts.since(pod_meta.get('creationTimestamp'))}\n")
        w.write(0, "Allocated resources:\n  (Total limits may be over 100 percent, i.e., overcommitted.)\n")
        w.write(1, "Resource\tRequests\tLimits\n")
        w.write(1, "--------\t--------\t------\n")
        for resource in ("cpu", "memory", "ephemeral-storage"):
            req, lim = _sum(pods, "requests", resource), _sum(pods, "limits", resource)
            w.write(1, f"{resource}\t{_amount(req, resource)} ({_percent(req, allocatable.get(resource))}%)\t"
                       f"{_amount(lim, resource)} ({_percent(lim, allocatable.get(resource))}%)\n")
    parts.describe_events(w, events)
    return w.text()


def _smart_label(field: str) -> str:
    """smartLabelFor: `creationTimestamp` → `Creation Timestamp`, `apiVersion` → `API Version`."""
    if re.search(r"[^A-Za-z-]", field):
        return field
    parts = re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|-", field)
    out = []
    for part in parts:
        if part.upper() in ("API", "URL", "UID", "GUID"):
            out.append(part.upper())
        elif part.islower():
            out.append(part.title())
        else:
            out.append(part)
    return " ".join(out)


def _unstructured(w: parts.PrefixWriter, level: int, content: Mapping[str, Any], prefix: str, skip: set[str]) -> None:
    for field in sorted(content):
        value = content[field]
        path = f"{prefix}.{field}"
        if path in skip:
            continue
        if isinstance(value, Mapping):
            w.write(level, f"{_smart_label(field)}:\n")
            _unstructured(w, level + 1, value, path, skip)
        elif isinstance(value, list):
            w.write(level, f"{_smart_label(field)}:\n")
            for child in value:
                if isinstance(child, Mapping):
                    _unstructured(w, level + 1, child, path, skip)
                else:
                    w.write(level + 1, f"{child}\n")
        else:
            text = ("true" if value else "false") if isinstance(value, bool) else value
            w.write(level, f"{_smart_label(field)}:\t{text}\n")


def describe_generic(obj: Obj, events: list[Obj] | None) -> str:
    """genericDescriber: metadata, then every other field with a readable label."""
    w = parts.PrefixWriter()
    meta = parts.metadata(obj)
    parts.object_header(w, meta)
    _unstructured(w, 0, obj, "", {".metadata.managedFields", ".metadata.name", ".metadata.namespace",
                                  ".metadata.labels", ".metadata.annotations"})
    parts.describe_events(w, events)
    return w.text()


# ---------------------------------------------------------------------------
# Fetching what the describers need
# ---------------------------------------------------------------------------

_EVENTS = resources.must("", "v1", "events")
_PODS = resources.must("", "v1", "pods")
_REPLICA_SETS = resources.must("apps", "v1", "replicasets")
_ENDPOINTS = resources.must("", "v1", "endpoints")
_LEASES = resources.must("coordination.k8s.io", "v1", "leases")


async def search_events(client: rest.Client, res: resources.Resource, obj: Obj) -> list[Obj] | None:
    """The Events about `obj`, as kubectl's searchEvents asks; None when the server cannot say."""
    meta = parts.metadata(obj)
    fields = [f"involvedObject.name={meta.get('name', '')}", f"involvedObject.namespace={meta.get('namespace', '')}"]
    if res.kind != "Pod":  # kubectl clears the kind of a pod's reference
        fields.append(f"involvedObject.kind={res.kind}")
    fields.append(f"involvedObject.uid={meta.get('uid', '')}")
    try:
        listed = await client.request("GET", _EVENTS.path(meta.get("namespace") or None),
                                      params={"fieldSelector": ",".join(fields), "limit": 500})
    except errors.StatusError:
        return None
    return list(listed.get("items") or [])


async def _list(client: rest.Client, res: resources.Resource, namespace: str | None,
                **params: Any) -> list[Obj]:
    try:
        listed = await client.request("GET", res.path(namespace), params=params)
    except errors.StatusError:
        return []
    return list(listed.get("items") or [])


def _template_without_hash(template: Obj | None) -> Any:
    t = copy.deepcopy(dict(template or {}))
    labels = (t.get("metadata") or {}).get("labels")
    if isinstance(labels, dict):
        labels.pop("pod-template-hash", None)
    return t


async def describe(client: rest.Client, res: resources.Resource, obj: Obj, *, show_events: bool = True) -> str:
    """kubectl describe's text for one object."""
    events = (await search_events(client, res, obj)
              if show_events and res.kind not in ("Namespace", "Secret") else None)
    meta = parts.metadata(obj)
    ns = meta.get("namespace") or None
    kind = res.kind
    if kind == "Pod":
        return describe_pod(obj, events)
    if kind == "Deployment":
        selector = printing.label_selector_string((obj.get("spec") or {}).get("selector"))
        owned = [rs for rs in await _list(client, _REPLICA_SETS, ns, labelSelector=selector)
                 if owners.is_controlled_by(rs, meta.get("uid", ""))]
        wanted = _template_without_hash((obj.get("spec") or {}).get("template"))
        new = next((rs for rs in owned
                    if _template_without_hash((rs.get("spec") or {}).get("template")) == wanted), None)
        old = [rs for rs in owned if rs is not new and (rs.get("spec") or {}).get("replicas", 1)]
        return describe_deployment(obj, old, new, events)
    if kind in ("ReplicaSet", "ReplicationController"):
        spec_selector = (obj.get("spec") or {}).get("selector")
        selector = (printing.label_selector_string(spec_selector) if kind == "ReplicaSet"
                    else ",".join(f"{k}={v}" for k, v in sorted((spec_selector or {}).items())))
        pods = [p for p in await _list(client, _PODS, ns, labelSelector=selector)
                if owners.is_controlled_by(p, meta.get("uid", ""))]
        return describe_replica_set({"kind": kind, **obj}, pods, events)
    if kind == "Service":
        try:
            endpoints = await client.request("GET", _ENDPOINTS.path(ns, meta.get("name")))
        except errors.StatusError:
            endpoints = None
        return describe_service(obj, endpoints, events)
    if kind == "Endpoints":
        return describe_endpoints(obj, events)
    if kind == "Namespace":
        return describe_namespace(obj)
    if kind == "ConfigMap":
        return describe_config_map(obj, events)
    if kind == "Secret":
        return describe_secret(obj)
    if kind == "Node":
        pods = await _list(client, _PODS, None, fieldSelector=(
            f"spec.nodeName={meta.get('name')},status.phase!=Succeeded,status.phase!=Failed"))
        if show_events:
            # The kubelet names the node by its name where controllers use its uid.
            by_name = await search_events(client, res, {"metadata": {**meta, "uid": meta.get("name")}})
            events = (events or []) + (by_name or []) if events is not None or by_name is not None else None
        lease, lease_error = None, ""
        try:
            lease = await client.request("GET", _LEASES.path("kube-node-lease", meta.get("name")))
        except errors.StatusError as e:
            lease_error = e.message
        return describe_node(obj, pods, events, lease, lease_error)
    return describe_generic(obj, events)

