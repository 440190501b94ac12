"""Server-side Table rendering: the rows `kubectl get` prints.

kubectl asks for `application/json;as=Table;v=v1;g=meta.k8s.io` and prints the
server's columns verbatim; a plain list gets only NAME and AGE. So the columns
and cell text here follow Kubernetes' own printers
(pkg/printers/internalversion/printers.go) cell for cell, including the pod
status rules users read every day ("Init:0/1", "CrashLoopBackOff",
"Terminating", "3 (5m ago)").

Like the real API server, every column is always rendered (the server's
printer runs with Wide=true); kubectl hides `priority: 1` columns unless
`-o wide`. Ages are `duration.HumanDuration` from k8s.io/apimachinery.
"""
from __future__ import annotations

import dataclasses
import datetime
from typing import Any, Callable, Iterable, Mapping

from minik8s.api import errors
from minik8s.api import resources
from minik8s.api import selectors

Obj = Mapping[str, Any]
Cells = list[Any]

INCLUDE_OBJECT_VALUES = ("None", "Metadata", "Object")

# ---------------------------------------------------------------------------
# Time
# ---------------------------------------------------------------------------

_NS_PER_SECOND = 1_000_000_000
_NS_PER_MINUTE = 60 * _NS_PER_SECOND
_NS_PER_HOUR = 60 * _NS_PER_MINUTE


def human_duration(seconds: float) -> str:
    """k8s.io/apimachinery/pkg/util/duration.HumanDuration, ~2-3 significant figures."""
    return _human_duration_ns(int(seconds * _NS_PER_SECOND))


def _human_duration_ns(d: int) -> str:
    # Go's int(d.Seconds()) truncates toward zero; a clock skew of up to
    # (but excluding) 2s still reads as "0s" rather than "<invalid>".
    seconds = int(d / _NS_PER_SECOND)
    if seconds < -1:
        return "<invalid>"
    if seconds < 0:
        return "0s"
    if seconds < 60 * 2:
        return f"{seconds}s"
    minutes = d // _NS_PER_MINUTE
    if minutes < 10:
        s = (d // _NS_PER_SECOND) % 60
        return f"{minutes}m" if s == 0 else f"{minutes}m{s}s"
    if minutes < 60 * 3:
        return f"{minutes}m"
    hours = d // _NS_PER_HOUR
    if hours < 8:
        m = (d // _NS_PER_MINUTE) % 60
        return f"{hours}h" if m == 0 else f"{hours}h{m}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        h = hours % 24
        return f"{hours // 24}d" if h == 0 else f"{hours // 24}d{h}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        dy = (hours // 24) % 365
        return f"{hours // 24 // 365}y" if dy == 0 else f"{hours // 24 // 365}y{dy}d"
    return f"{hours // 24 // 365}y"


def parse_time(value: Any) -> datetime.datetime | None:
    """An RFC 3339 timestamp (metav1.Time or MicroTime) as an aware datetime; None when unset."""
    if not value or not isinstance(value, str):
        return None
    try:
        parsed = datetime.datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.timezone.utc)
    return parsed


def _now(now: datetime.datetime | None) -> datetime.datetime:
    return now if now is not None else datetime.datetime.now(datetime.timezone.utc)


def _since(then: datetime.datetime | None, now: datetime.datetime) -> str:
    if then is None:
        return "<unknown>"
    delta = now - then
    ns = (delta.days * 86_400 + delta.seconds) * _NS_PER_SECOND + delta.microseconds * 1_000
    return _human_duration_ns(ns)


def human_age(timestamp: Any, now: datetime.datetime | None = None) -> str:
    """translateTimestampSince: "5m", "2d9h"; "<unknown>" for an unset timestamp."""
    return _since(parse_time(timestamp), _now(now))


# ---------------------------------------------------------------------------
# Small formatting helpers shared by several printers
# ---------------------------------------------------------------------------


def format_labels(labels: Mapping[str, Any] | None) -> str:
    """labels.FormatLabels: sorted `k=v` joined by commas, "<none>" when empty."""
    if not labels:
        return "<none>"
    return ",".join(f"{k}={labels[k]}" for k in sorted(labels))


def label_selector_string(selector: Mapping[str, Any] | None) -> str:
    """metav1.LabelSelectorAsSelector(sel).String(): requirements sorted by key.

    Raises BadRequest for an invalid operator, as the Go conversion errors."""
    parsed = selectors.from_label_selector(selector)
    reqs = sorted(parsed.requirements, key=lambda r: r.key)
    return ",".join(str(r) for r in reqs)


def _format_label_selector(selector: Mapping[str, Any] | None) -> str:
    """metav1.FormatLabelSelector: like the above but "<none>" when empty, "<error>" when bad."""
    try:
        text = label_selector_string(selector)
    except errors.StatusError:
        return "<error>"
    return text or "<none>"


def _layout_containers(containers: Iterable[Obj] | None) -> tuple[str, str]:
    items = list(containers or [])
    return (",".join(c.get("name", "") for c in items), ",".join(c.get("image", "") for c in items))


def _template_containers(obj: Obj) -> list[Obj]:
    template = (obj.get("spec") or {}).get("template") or {}
    return (template.get("spec") or {}).get("containers") or []


def _name(obj: Obj) -> str:
    return (obj.get("metadata") or {}).get("name", "")


def _age(obj: Obj, now: datetime.datetime) -> str:
    return _since(parse_time((obj.get("metadata") or {}).get("creationTimestamp")), now)


def _join_host_port(host: str, port: Any) -> str:
    """net.JoinHostPort: brackets around IPv6 literals."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _quantity(value: Any) -> str:
    # Quantities arrive as their canonical strings; a bare number is what a
    # hand-written object may carry.
    if value is None:
        return "<nil>"
    return str(value)


# ---------------------------------------------------------------------------
# Column definitions
# ---------------------------------------------------------------------------

_NAME_DOC = ("Name must be unique within a namespace. Is required when creating resources, although "
             "some resources may allow a client to request the generation of an appropriate name "
             "automatically. Name is primarily intended for creation idempotence and configuration "
             "definition. Cannot be updated. More info: "
             "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names")
_AGE_DOC = ("CreationTimestamp is a timestamp representing the server time when this object was "
            "created. It is not guaranteed to be set in happens-before order across separate "
            "operations. Clients may not set this value. It is represented in RFC3339 form and is in "
            "UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: "
            "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata")
_NODE_ADDRESSES_DOC = ("List of addresses reachable to the node. Queried from cloud provider, if "
                       "available. More info: https://kubernetes.io/docs/concepts/nodes/node/#addresses")
_CONTAINERS_DOC = "Names of each container in the template."
_IMAGES_DOC = "Images referenced by each container in the template."


def _col(name: str, type_: str = "string", desc: str = "", *, priority: int = 0, fmt: str = "") -> dict[str, Any]:
    return {"name": name, "type": type_, "format": fmt, "description": desc, "priority": priority}


def _name_col(priority: int = 0) -> dict[str, Any]:
    return _col("Name", "string", _NAME_DOC, priority=priority, fmt="name")


def _age_col() -> dict[str, Any]:
    return _col("Age", "string", _AGE_DOC)


# ---------------------------------------------------------------------------
# Pods
# ---------------------------------------------------------------------------

_POD_COLUMNS = (
    _name_col(),
    _col("Ready", desc="The aggregate readiness state of this pod for accepting traffic."),
    _col("Status", desc="The aggregate status of the containers in this pod."),
    _col("Restarts", desc="The number of times the containers in this pod have been restarted and "
                          "when the last container in this pod has restarted."),
    _age_col(),
    _col("IP", desc="IP address allocated to the pod. Routable at least within the cluster. "
                    "Empty if not yet allocated.", priority=1),
    _col("Node", desc="NodeName indicates in which node this pod is scheduled.", priority=1),
    _col("Nominated Node", desc="nominatedNodeName is set only when this pod preempts other pods "
                                "on the node.", priority=1),
    _col("Readiness Gates", desc="If specified, all readiness gates will be evaluated for pod "
                                 "readiness.", priority=1),
)


def _condition_true(conditions: Iterable[Obj] | None, type_: str) -> bool:
    """First condition of this type decides (isPodInitializedConditionTrue)."""
    for c in conditions or []:
        if c.get("type") == type_:
            return c.get("status") == "True"
    return False


def _has_ready_condition(conditions: Iterable[Obj] | None) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions or [])


def _is_restartable_init(container: Obj | None) -> bool:
    """A sidecar: an init container with restartPolicy Always."""
    return container is not None and container.get("restartPolicy") == "Always"


def _later(current: datetime.datetime | None, candidate: datetime.datetime | None) -> datetime.datetime | None:
    # metav1.Time.Before with the zero time standing for "unset".
    if candidate is None:
        return current
    if current is None or current < candidate:
        return candidate
    return current


def _last_termination(status: Obj) -> datetime.datetime | None:
    terminated = (status.get("lastState") or {}).get("terminated")
    if terminated is None:
        return None
    return parse_time(terminated.get("finishedAt"))


@dataclasses.dataclass(frozen=True)
class PodSummary:
    ready: str  # "1/2"
    status: str  # "Running", "Init:0/1", "CrashLoopBackOff", "Terminating", ...
    restarts: str  # "3 (5m ago)"


def pod_summary(pod: Obj, now: datetime.datetime | None = None) -> PodSummary:
    """The READY, STATUS and RESTARTS cells of `kubectl get pods` (printPod)."""
    now = _now(now)
    spec = pod.get("spec") or {}
    status = pod.get("status") or {}
    metadata = pod.get("metadata") or {}
    conditions = status.get("conditions") or []

    restarts = 0
    sidecar_restarts = 0
    total = len(spec.get("containers") or [])
    ready = 0
    last_restart: datetime.datetime | None = None
    last_sidecar_restart: datetime.datetime | None = None

    phase = status.get("phase") or ""
    reason = status.get("reason") or phase
    for c in conditions:
        if c.get("type") == "PodScheduled" and c.get("reason") == "SchedulingGated":
            reason = "SchedulingGated"

    init_specs: dict[str, Obj] = {}
    init_containers = spec.get("initContainers") or []
    for c in init_containers:
        init_specs[c.get("name", "")] = c
        if _is_restartable_init(c):
            total += 1

    initializing = False
    for i, cs in enumerate(status.get("initContainerStatuses") or []):
        restarts += int(cs.get("restartCount") or 0)
        last_restart = _later(last_restart, _last_termination(cs))
        sidecar = _is_restartable_init(init_specs.get(cs.get("name", "")))
        if sidecar:
            sidecar_restarts += int(cs.get("restartCount") or 0)
            last_sidecar_restart = _later(last_sidecar_restart, _last_termination(cs))
        state = cs.get("state") or {}
        terminated = state.get("terminated")
        waiting = state.get("waiting")
        if terminated is not None and int(terminated.get("exitCode") or 0) == 0:
            continue
        if sidecar and cs.get("started") is True:
            if cs.get("ready"):
                ready += 1
            continue
        if terminated is not None:
            # initialization failed
            if not terminated.get("reason"):
                if terminated.get("signal"):
                    reason = f"Init:Signal:{terminated['signal']}"
                else:
                    reason = f"Init:ExitCode:{int(terminated.get('exitCode') or 0)}"
            else:
                reason = "Init:" + terminated["reason"]
        elif waiting is not None and waiting.get("reason") and waiting["reason"] != "PodInitializing":
            reason = "Init:" + waiting["reason"]
        else:
            reason = f"Init:{i}/{len(init_containers)}"
        initializing = True
        break

    if not initializing or _condition_true(conditions, "Initialized"):
        restarts = sidecar_restarts
        last_restart = last_sidecar_restart
        has_running = False
        for cs in reversed(status.get("containerStatuses") or []):
            restarts += int(cs.get("restartCount") or 0)
            last_restart = _later(last_restart, _last_termination(cs))
            state = cs.get("state") or {}
            waiting = state.get("waiting")
            terminated = state.get("terminated")
            if waiting is not None and waiting.get("reason"):
                reason = waiting["reason"]
            elif terminated is not None and terminated.get("reason"):
                reason = terminated["reason"]
            elif terminated is not None:
                if terminated.get("signal"):
                    reason = f"Signal:{terminated['signal']}"
                else:
                    reason = f"ExitCode:{int(terminated.get('exitCode') or 0)}"
            elif cs.get("ready") and state.get("running") is not None:
                has_running = True
                ready += 1
        # A pod whose other containers still run is not "Completed".
        if reason == "Completed" and has_running:
            reason = "Running" if _has_ready_condition(conditions) else "NotReady"

    if metadata.get("deletionTimestamp") and status.get("reason") == "NodeLost":
        reason = "Unknown"
    elif metadata.get("deletionTimestamp") and phase not in ("Succeeded", "Failed"):
        reason = "Terminating"

    restarts_text = str(restarts)
    if restarts != 0 and last_restart is not None:
        restarts_text = f"{restarts} ({_since(last_restart, now)} ago)"
    return PodSummary(f"{ready}/{total}", reason, restarts_text)


def _pod_cells(pod: Obj, now: datetime.datetime) -> Cells:
    spec = pod.get("spec") or {}
    status = pod.get("status") or {}
    summary = pod_summary(pod, now)
    pod_ips = status.get("podIPs") or []
    # v1→internal conversion fills podIPs from a lone podIP.
    pod_ip = (pod_ips[0].get("ip") if pod_ips else status.get("podIP")) or "<none>"
    gates = spec.get("readinessGates") or []
    readiness = "<none>"
    if gates:
        true_count = 0
        for gate in gates:
            for c in status.get("conditions") or []:
                if c.get("type") == gate.get("conditionType"):
                    if c.get("status") == "True":
                        true_count += 1
                    break
        readiness = f"{true_count}/{len(gates)}"
    return [
        _name(pod), summary.ready, summary.status, summary.restarts, _age(pod, now),
        pod_ip, spec.get("nodeName") or "<none>", status.get("nominatedNodeName") or "<none>", readiness,
    ]


def _pod_conditions(pod: Obj) -> list[dict[str, str]] | None:
    phase = (pod.get("status") or {}).get("phase")
    if phase == "Succeeded":
        return [{"type": "Completed", "status": "True", "reason": "Succeeded",
                 "message": "The pod has completed successfully."}]
    if phase == "Failed":
        return [{"type": "Completed", "status": "True", "reason": "Failed", "message": "The pod failed."}]
    return None


# ---------------------------------------------------------------------------
# Nodes
# ---------------------------------------------------------------------------

_NODE_COLUMNS = (
    _name_col(),
    _col("Status", desc="The status of the node"),
    _col("Roles", desc="The roles of the node"),
    _age_col(),
    _col("Version", desc="Kubelet Version reported by the node."),
    _col("Internal-IP", desc=_NODE_ADDRESSES_DOC, priority=1),
    _col("External-IP", desc=_NODE_ADDRESSES_DOC, priority=1),
    _col("OS-Image", desc="OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 "
                          "(wheezy)).", priority=1),
    _col("Kernel-Version", desc="Kernel Version reported by the node from 'uname -r' (e.g. "
                                "3.16.0-0.bpo.4-amd64).", priority=1),
    _col("Container-Runtime", desc="ContainerRuntime Version reported by the node through runtime remote "
                                   "API (e.g. containerd://1.4.2).", priority=1),
)

_NODE_ROLE_PREFIX = "node-role.kubernetes.io/"
_NODE_ROLE_LABEL = "kubernetes.io/role"


def node_roles(node: Obj) -> list[str]:
    roles: set[str] = set()
    for key, value in ((node.get("metadata") or {}).get("labels") or {}).items():
        if key.startswith(_NODE_ROLE_PREFIX):
            role = key[len(_NODE_ROLE_PREFIX):]
            if role:
                roles.add(role)
        elif key == _NODE_ROLE_LABEL and value:
            roles.add(value)
    return sorted(roles)


def _node_address(node: Obj, type_: str) -> str:
    for address in (node.get("status") or {}).get("addresses") or []:
        if address.get("type") == type_:
            return address.get("address", "")
    return "<none>"


def _node_cells(node: Obj, now: datetime.datetime) -> Cells:
    status = node.get("status") or {}
    by_type = {c.get("type"): c for c in status.get("conditions") or []}
    state: list[str] = []
    ready = by_type.get("Ready")
    if ready is not None:
        state.append("Ready" if ready.get("status") == "True" else "NotReady")
    if not state:
        state.append("Unknown")
    if (node.get("spec") or {}).get("unschedulable"):
        state.append("SchedulingDisabled")
    info = status.get("nodeInfo") or {}
    return [
        _name(node), ",".join(state), ",".join(node_roles(node)) or "<none>", _age(node, now),
        info.get("kubeletVersion", ""),
        _node_address(node, "InternalIP"), _node_address(node, "ExternalIP"),
        info.get("osImage") or "<unknown>", info.get("kernelVersion") or "<unknown>",
        info.get("containerRuntimeVersion") or "<unknown>",
    ]


# ---------------------------------------------------------------------------
# Workloads
# ---------------------------------------------------------------------------

_DEPLOYMENT_COLUMNS = (
    _name_col(),
    _col("Ready", desc="Number of the pod with ready state"),
    _col("Up-to-date", desc="Total number of non-terminated pods targeted by this deployment that "
                            "have the desired template spec."),
    _col("Available", desc="Total number of available pods (ready for at least minReadySeconds) "
                           "targeted by this deployment."),
    _age_col(),
    _col("Containers", desc=_CONTAINERS_DOC, priority=1),
    _col("Images", desc=_IMAGES_DOC, priority=1),
    _col("Selector", desc="Label selector for pods. Existing ReplicaSets whose pods are selected by "
                          "this will be the ones affected by this deployment.", priority=1),
)


def _replicas(obj: Obj) -> int:
    # Defaulting sets spec.replicas to 1; a stored object always has it.
    value = (obj.get("spec") or {}).get("replicas")
    return 1 if value is None else int(value)


def _deployment_cells(obj: Obj, now: datetime.datetime) -> Cells:
    status = obj.get("status") or {}
    try:
        selector = label_selector_string((obj.get("spec") or {}).get("selector"))
    except errors.StatusError:
        selector = "<invalid>"
    names, images = _layout_containers(_template_containers(obj))
    return [
        _name(obj), f"{int(status.get('readyReplicas') or 0)}/{_replicas(obj)}",
        int(status.get("updatedReplicas") or 0), int(status.get("availableReplicas") or 0), _age(obj, now),
        names, images, selector,
    ]


def _replica_columns(selector_doc: str) -> tuple[dict[str, Any], ...]:
    return (
        _name_col(),
        _col("Desired", "integer", "Replicas is the number of desired replicas."),
        _col("Current", "integer", "Replicas is the most recently observed number of replicas."),
        _col("Ready", "integer", "The number of ready replicas for this replica set."),
        _age_col(),
        _col("Containers", desc=_CONTAINERS_DOC, priority=1),
        _col("Images", desc=_IMAGES_DOC, priority=1),
        _col("Selector", desc=selector_doc, priority=1),
    )


_REPLICASET_COLUMNS = _replica_columns(
    "Selector is a label query over pods that should match the replica count.")
_RC_COLUMNS = _replica_columns(
    "Selector is a label query over pods that should match the Replicas count. If Selector is empty, "
    "it is defaulted to the labels present on the Pod template.")


def _replicaset_cells(obj: Obj, now: datetime.datetime) -> Cells:
    status = obj.get("status") or {}
    names, images = _layout_containers(_template_containers(obj))
    return [
        _name(obj), _replicas(obj), int(status.get("replicas") or 0), int(status.get("readyReplicas") or 0),
        _age(obj, now), names, images, _format_label_selector((obj.get("spec") or {}).get("selector")),
    ]


def _rc_cells(obj: Obj, now: datetime.datetime) -> Cells:
    status = obj.get("status") or {}
    names, images = _layout_containers(_template_containers(obj))
    return [
        _name(obj), _replicas(obj), int(status.get("replicas") or 0), int(status.get("readyReplicas") or 0),
        _age(obj, now), names, images, format_labels((obj.get("spec") or {}).get("selector")),
    ]


# ---------------------------------------------------------------------------
# Services and endpoints
# ---------------------------------------------------------------------------

_SERVICE_COLUMNS = (
    _name_col(),
    _col("Type", desc="type determines how the Service is exposed. Defaults to ClusterIP."),
    _col("Cluster-IP", desc="clusterIP is the IP address of the service and is usually assigned "
                            "randomly."),
    _col("External-IP", desc="externalIPs is a list of IP addresses for which nodes in the cluster will "
                             "also accept traffic for this service."),
    _col("Port(s)", desc="The list of ports that are exposed by this service."),
    _age_col(),
    _col("Selector", desc="Route service traffic to pods with label keys and values matching this "
                          "selector.", priority=1),
)


def _service_external_ip(svc: Obj, svc_type: str) -> str:
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
        return spec.get("externalName", "")
    return "<unknown>"


def _port_string(ports: Iterable[Obj] | None) -> str:
    pieces = []
    for port in ports or []:
        protocol = port.get("protocol") or "TCP"
        if int(port.get("nodePort") or 0) > 0:
            pieces.append(f"{port.get('port')}:{port['nodePort']}/{protocol}")
        else:
            pieces.append(f"{port.get('port')}/{protocol}")
    return ",".join(pieces)


def _service_cells(svc: Obj, now: datetime.datetime) -> Cells:
    spec = svc.get("spec") or {}
    svc_type = spec.get("type") or "ClusterIP"
    cluster_ips = spec.get("clusterIPs") or ([spec["clusterIP"]] if spec.get("clusterIP") else [])
    return [
        _name(svc), svc_type, cluster_ips[0] if cluster_ips else "<none>", _service_external_ip(svc, svc_type),
        _port_string(spec.get("ports")) or "<none>", _age(svc, now), format_labels(spec.get("selector")),
    ]


_ENDPOINTS_COLUMNS = (
    _name_col(),
    _col("Endpoints", desc="The set of all endpoints is the union of all subsets."),
    _age_col(),
)


def format_endpoints(endpoints: Obj) -> str:
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
                listed.append(_join_host_port(address.get("ip", ""), port.get("port")))
    text = ",".join(listed)
    return f"{text} + {count - limit} more..." if more else text


def _endpoints_cells(obj: Obj, now: datetime.datetime) -> Cells:
    return [_name(obj), format_endpoints(obj), _age(obj, now)]


# ---------------------------------------------------------------------------
# Events, namespaces, leases
# ---------------------------------------------------------------------------

_EVENT_COLUMNS = (
    _col("Last Seen", desc="The time at which the most recent occurrence of this event was recorded."),
    _col("Type", desc="Type of this event (Normal, Warning), new types could be added in the future"),
    _col("Reason", desc="This should be a short, machine understandable string that gives the reason "
                        "for the transition into the object's current status."),
    _col("Object", desc="The object that this event is about."),
    _col("Subobject", desc="If referring to a piece of an object instead of an entire object, this "
                           "string should contain a valid JSON/Go field access statement.", priority=1),
    _col("Source", desc="The component reporting this event. Should be a short machine understandable "
                        "string.", priority=1),
    _col("Message", desc="A human-readable description of the status of this operation."),
    _col("First Seen", desc="The time at which the event was first recorded. (Time of server receipt "
                            "is in TypeMeta.)", priority=1),
    _col("Count", desc="The number of times this event has occurred.", priority=1),
    _name_col(priority=1),
)


def _event_cells(ev: Obj, now: datetime.datetime) -> Cells:
    first = parse_time(ev.get("firstTimestamp"))
    first_text = _since(first, now) if first is not None else _since(parse_time(ev.get("eventTime")), now)
    last = parse_time(ev.get("lastTimestamp"))
    last_text = _since(last, now) if last is not None else first_text
    count = int(ev.get("count") or 0)
    series = ev.get("series")
    if series:
        last_text = _since(parse_time(series.get("lastObservedTime")), now)
        count = int(series.get("count") or 0)
    elif count == 0:
        count = 1  # singleton events carry no count in the events.k8s.io API
    involved = ev.get("involvedObject") or {}
    kind = (involved.get("kind") or "").lower()
    target = f"{kind}/{involved['name']}" if involved.get("name") else kind
    source = ev.get("source") or {}
    component = source.get("component") or ev.get("reportingComponent") or ""
    host = source.get("host") or ev.get("reportingInstance") or ""
    return [
        last_text, ev.get("type", ""), ev.get("reason", ""), target, involved.get("fieldPath", ""),
        f"{component}, {host}" if host else component, (ev.get("message") or "").strip(),
        first_text, count, _name(ev),
    ]


_NAMESPACE_COLUMNS = (_name_col(), _col("Status", desc="The status of the namespace"), _age_col())


def _namespace_cells(obj: Obj, now: datetime.datetime) -> Cells:
    return [_name(obj), (obj.get("status") or {}).get("phase", ""), _age(obj, now)]


_LEASE_COLUMNS = (
    _name_col(),
    _col("Holder", desc="holderIdentity contains the identity of the holder of a current lease."),
    _age_col(),
)


def _lease_cells(obj: Obj, now: datetime.datetime) -> Cells:
    return [_name(obj), (obj.get("spec") or {}).get("holderIdentity") or "", _age(obj, now)]


_CONFIGMAP_COLUMNS = (
    _name_col(),
    _col("Data", "integer", desc="Data contains the configuration data."),
    _age_col(),
)


def _configmap_cells(obj: Obj, now: datetime.datetime) -> Cells:
    return [_name(obj), len(obj.get("data") or {}) + len(obj.get("binaryData") or {}), _age(obj, now)]


_SECRET_COLUMNS = (
    _name_col(),
    _col("Type", desc="Used to facilitate programmatic handling of secret data."),
    _col("Data", "integer", desc="Data contains the secret data."),
    _age_col(),
)


def _secret_cells(obj: Obj, now: datetime.datetime) -> Cells:
    return [_name(obj), obj.get("type") or "", len(obj.get("data") or {}), _age(obj, now)]


# ---------------------------------------------------------------------------
# HorizontalPodAutoscalers
# ---------------------------------------------------------------------------

_HPA_COLUMNS = (
    _name_col(),
    _col("Reference", desc="scaleTargetRef points to the target resource to scale, and is used to the "
                           "pods for which metrics should be collected, as well as to actually change "
                           "the replica count."),
    _col("Targets", desc="metrics contains the specifications for which to use to calculate the desired "
                         "replica count."),
    _col("MinPods", desc="minReplicas is the lower limit for the number of replicas to which the "
                         "autoscaler can scale down."),
    _col("MaxPods", desc="maxReplicas is the upper limit for the number of replicas to which the "
                         "autoscaler can scale up."),
    _col("Replicas", desc="currentReplicas is current number of replicas of pods managed by this "
                          "autoscaler, as last seen by the autoscaler."),
    _age_col(),
)


def _hpa_v2_shape(hpa: Obj) -> tuple[list[Obj], list[Obj]]:
    """(spec.metrics, status.currentMetrics), converting an autoscaling/v1 object if given one."""
    spec = hpa.get("spec") or {}
    status = hpa.get("status") or {}
    metrics = spec.get("metrics")
    current = status.get("currentMetrics")
    if metrics is None and spec.get("targetCPUUtilizationPercentage") is not None:
        metrics = [{"type": "Resource", "resource": {"name": "cpu", "target": {
            "type": "Utilization", "averageUtilization": spec["targetCPUUtilizationPercentage"]}}}]
    if current is None and status.get("currentCPUUtilizationPercentage") is not None:
        current = [{"type": "Resource", "resource": {"name": "cpu", "current": {
            "averageUtilization": status["currentCPUUtilizationPercentage"]}}}]
    return list(metrics or []), list(current or [])


def format_hpa_metrics(specs: list[Obj], statuses: list[Obj]) -> str:
    """formatHPAMetrics: "cpu: 30%/50%", at most two, then "+ N more..."."""
    if not specs:
        return "<none>"
    listed: list[str] = []
    for i, spec in enumerate(specs):
        status = (statuses[i] if i < len(statuses) else None) or {}
        kind = spec.get("type")
        if kind == "External":
            source = spec.get("external") or {}
            listed.append(_value_or_average(source.get("target") or {}, status.get("external")))
        elif kind == "Pods":
            target = (spec.get("pods") or {}).get("target") or {}
            current = "<unknown>"
            if status.get("pods") is not None:
                current = _quantity((status["pods"].get("current") or {}).get("averageValue"))
            listed.append(f"{current}/{_quantity(target.get('averageValue'))}")
        elif kind == "Object":
            source = spec.get("object") or {}
            listed.append(_value_or_average(source.get("target") or {}, status.get("object")))
        elif kind in ("Resource", "ContainerResource"):
            field = "resource" if kind == "Resource" else "containerResource"
            source = spec.get(field) or {}
            target_text = _resource_target(source.get("target") or {}, status.get(field))
            listed.append(f"{source.get('name', '')}: {target_text}")
        else:
            listed.append("<unknown type>")
    limit = 2
    if len(listed) > limit:
        return f"{', '.join(listed[:limit])} + {len(listed) - limit} more..."
    return ", ".join(listed)


def _value_or_average(target: Obj, status: Obj | None) -> str:
    """External and Object metrics: "current/target", "(avg)" for per-pod averages."""
    current = "<unknown>"
    if target.get("averageValue") is not None:
        if status is not None and (status.get("current") or {}).get("averageValue") is not None:
            current = _quantity(status["current"]["averageValue"])
        return f"{current}/{_quantity(target['averageValue'])} (avg)"
    if status is not None:
        current = _quantity((status.get("current") or {}).get("value"))
    return f"{current}/{_quantity(target.get('value'))}"


def _resource_target(target: Obj, status: Obj | None) -> str:
    current = "<unknown>"
    if target.get("averageValue") is not None:
        if status is not None:
            current = _quantity((status.get("current") or {}).get("averageValue"))
        return f"{current}/{_quantity(target['averageValue'])}"
    if status is not None and (status.get("current") or {}).get("averageUtilization") is not None:
        current = f"{status['current']['averageUtilization']}%"
    wanted = "<auto>"
    if target.get("averageUtilization") is not None:
        wanted = f"{target['averageUtilization']}%"
    return f"{current}/{wanted}"


def _hpa_cells(hpa: Obj, now: datetime.datetime) -> Cells:
    spec = hpa.get("spec") or {}
    ref = spec.get("scaleTargetRef") or {}
    metrics, current = _hpa_v2_shape(hpa)
    min_pods = "<unset>" if spec.get("minReplicas") is None else str(spec["minReplicas"])
    return [
        _name(hpa), f"{ref.get('kind', '')}/{ref.get('name', '')}", format_hpa_metrics(metrics, current),
        min_pods, int(spec.get("maxReplicas") or 0), int((hpa.get("status") or {}).get("currentReplicas") or 0),
        _age(hpa, now),
    ]


# ---------------------------------------------------------------------------
# Anything else
# ---------------------------------------------------------------------------

# ---------------------------------------------------------------------------
# RBAC
# ---------------------------------------------------------------------------

_ROLE_COLUMNS = (
    _name_col(),
    _col("Created At", "date", "CreationTimestamp is a timestamp representing the server time when this object "
                               "was created."),
)


def _role_cells(obj: Obj, now: datetime.datetime) -> Cells:
    created = parse_time((obj.get("metadata") or {}).get("creationTimestamp"))
    return [_name(obj), created.strftime("%Y-%m-%dT%H:%M:%SZ") if created else ""]


_BINDING_COLUMNS = (
    _name_col(),
    _col("Role", desc="RoleRef is the Role to bind to."),
    _age_col(),
    _col("Users", desc="Users in the binding", priority=1),
    _col("Groups", desc="Groups in the binding", priority=1),
    _col("ServiceAccounts", desc="ServiceAccounts in the binding", priority=1),
)


def _binding_cells(obj: Obj, now: datetime.datetime) -> Cells:
    ref = obj.get("roleRef") or {}
    by_kind: dict[str, list[str]] = {"User": [], "Group": [], "ServiceAccount": []}
    for s in obj.get("subjects") or []:
        if s.get("kind") == "ServiceAccount":
            by_kind["ServiceAccount"].append(f"{s.get('namespace') or ''}/{s.get('name') or ''}")
        elif s.get("kind") in by_kind:
            by_kind[s["kind"]].append(s.get("name") or "")
    return [_name(obj), f"{ref.get('kind') or ''}/{ref.get('name') or ''}", _age(obj, now),
            ", ".join(by_kind["User"]), ", ".join(by_kind["Group"]), ", ".join(by_kind["ServiceAccount"])]


_DEFAULT_COLUMNS = (_name_col(), _age_col())


def _default_cells(obj: Obj, now: datetime.datetime) -> Cells:
    return [_name(obj), _age(obj, now)]


# ---------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Printer:
    columns: tuple[dict[str, Any], ...]
    cells: Callable[[Obj, datetime.datetime], Cells]
    conditions: Callable[[Obj], list[dict[str, str]] | None] = lambda obj: None


_PRINTERS: dict[tuple[str, str], _Printer] = {
    ("", "Pod"): _Printer(_POD_COLUMNS, _pod_cells, _pod_conditions),
    ("", "Node"): _Printer(_NODE_COLUMNS, _node_cells),
    ("", "Service"): _Printer(_SERVICE_COLUMNS, _service_cells),
    ("", "Endpoints"): _Printer(_ENDPOINTS_COLUMNS, _endpoints_cells),
    ("", "Event"): _Printer(_EVENT_COLUMNS, _event_cells),
    ("", "Namespace"): _Printer(_NAMESPACE_COLUMNS, _namespace_cells),
    ("", "ConfigMap"): _Printer(_CONFIGMAP_COLUMNS, _configmap_cells),
    ("", "Secret"): _Printer(_SECRET_COLUMNS, _secret_cells),
    ("", "ReplicationController"): _Printer(_RC_COLUMNS, _rc_cells),
    ("apps", "Deployment"): _Printer(_DEPLOYMENT_COLUMNS, _deployment_cells),
    ("apps", "ReplicaSet"): _Printer(_REPLICASET_COLUMNS, _replicaset_cells),
    ("autoscaling", "HorizontalPodAutoscaler"): _Printer(_HPA_COLUMNS, _hpa_cells),
    ("coordination.k8s.io", "Lease"): _Printer(_LEASE_COLUMNS, _lease_cells),
    ("rbac.authorization.k8s.io", "Role"): _Printer(_ROLE_COLUMNS, _role_cells),
    ("rbac.authorization.k8s.io", "ClusterRole"): _Printer(_ROLE_COLUMNS, _role_cells),
    ("rbac.authorization.k8s.io", "RoleBinding"): _Printer(_BINDING_COLUMNS, _binding_cells),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"): _Printer(_BINDING_COLUMNS, _binding_cells),
}
_DEFAULT_PRINTER = _Printer(_DEFAULT_COLUMNS, _default_cells)


def column_definitions(res: resources.Resource) -> list[dict[str, Any]]:
    return [dict(c) for c in _PRINTERS.get((res.group, res.kind), _DEFAULT_PRINTER).columns]


def _row_object(obj: Obj, include_object: str) -> Any:
    if include_object == "Object":
        return obj
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
            "metadata": dict(obj.get("metadata") or {})}


def to_table(
    res: resources.Resource,
    objects: list[dict[str, Any]],
    *,
    list_meta: dict[str, Any] | None = None,
    include_object: str = "Metadata",
    now: datetime.datetime | None = None,
    with_definitions: bool = True,
) -> dict[str, Any]:
    """A `meta.k8s.io/v1` Table of `objects` (already in `res`'s served shape).

    `list_meta` is the list's metadata (resourceVersion, continue); for a single
    object without it the object's resourceVersion is used, as the real server
    does. `with_definitions=False` leaves columnDefinitions empty, which is what
    watch events after the first carry. Raises BadRequest for an unknown
    `include_object` (the `?includeObject=` query parameter)."""
    if include_object not in INCLUDE_OBJECT_VALUES:
        raise errors.BadRequest(f'unrecognized includeObject value: "{include_object}"')
    now = _now(now)
    printer = _PRINTERS.get((res.group, res.kind), _DEFAULT_PRINTER)
    rows = []
    for obj in objects:
        row: dict[str, Any] = {"cells": printer.cells(obj, now)}
        conditions = printer.conditions(obj)
        if conditions:
            row["conditions"] = conditions
        if include_object != "None":
            row["object"] = _row_object(obj, include_object)
        rows.append(row)
    metadata: dict[str, Any] = {}
    if list_meta is not None:
        for key in ("resourceVersion", "continue", "remainingItemCount"):
            if list_meta.get(key) not in (None, ""):
                metadata[key] = list_meta[key]
    elif len(objects) == 1:
        rv = (objects[0].get("metadata") or {}).get("resourceVersion")
        if rv:
            metadata["resourceVersion"] = rv
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": metadata,
        "columnDefinitions": [dict(c) for c in printer.columns] if with_definitions else [],
        "rows": rows,
    }
