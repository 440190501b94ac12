"""Nodes: defaults, validation and the printer.

The Node strategy (pkg/registry/core/node: a node registers with the status
its kubelet reports, so status is kept on create), SetDefaults_NodeStatus,
ValidateNode/ValidateNodeUpdate and printNode.
"""
from __future__ import annotations

import datetime
from typing import Any, Mapping

from minik8s.api import conditions
from minik8s.api import defaults
from minik8s.api import printing
from minik8s.api import quantity
from minik8s.api import resources
from minik8s.api import strategy
from minik8s.api import validation as vc

Obj = dict[str, Any]
View = Mapping[str, Any]
Cells = printing.Cells
Errors = vc.Errors


# ---------------------------------------------------------------------------
# validation


def _taints(errs: Errors, taints: Any) -> None:
    # Upstream reports node taints under metadata (ValidateNode's fldPath).
    seen: set[tuple[str, str]] = set()
    for i, taint in vc.typed_dicts(errs, taints, "spec.taints"):
        p = f"metadata.taints[{i}]"
        key, value, effect = (vc.typed_str(errs, taint.get(k), f"spec.taints[{i}].{k}") or ""
                              for k in ("key", "value", "effect"))
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


# ---------------------------------------------------------------------------
# printer


_ADDRESSES_DOC = ("List of addresses reachable to the node. Queried from cloud provider, if "
                  "available. More info: https://kubernetes.io/docs/concepts/nodes/node/#addresses")

COLUMNS = (
    printing.name_column(),
    printing.column("Status", desc="The status of the node"),
    printing.column("Roles", desc="The roles of the node"),
    printing.age_column(),
    printing.column("Version", desc="Kubelet Version reported by the node."),
    printing.column("Internal-IP", desc=_ADDRESSES_DOC, priority=1),
    printing.column("External-IP", desc=_ADDRESSES_DOC, priority=1),
    printing.column("OS-Image", desc="OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 "
                                     "(wheezy)).", priority=1),
    printing.column("Kernel-Version", desc="Kernel Version reported by the node from 'uname -r' (e.g. "
                                           "3.16.0-0.bpo.4-amd64).", priority=1),
    printing.column("Container-Runtime", desc="ContainerRuntime Version reported by the node through runtime remote "
                                              "API (e.g. containerd://1.4.2).", priority=1),
)

_NODE_ROLE_PREFIX = "node-role.kubernetes.io/"
_NODE_ROLE_LABEL = "kubernetes.io/role"


def node_roles(node: View) -> list[str]:
    roles: set[str] = set()
    for key, value in ((node.get("metadata") or {}).get("labels") or {}).items():
        if key.startswith(_NODE_ROLE_PREFIX):
            role = key[len(_NODE_ROLE_PREFIX):]
            if role:
                roles.add(role)
        elif key == _NODE_ROLE_LABEL and value:
            roles.add(value)
    return sorted(roles)


def _node_address(node: View, type_: str) -> str:
    for address in (node.get("status") or {}).get("addresses") or []:
        if address.get("type") == type_:
            return str(address.get("address", ""))
    return "<none>"


def _node_cells(node: View, now: datetime.datetime) -> Cells:
    status = node.get("status") or {}
    state: list[str] = []
    ready = conditions.get(node, "Ready")
    if ready is not None:
        state.append("Ready" if ready.get("status") == "True" else "NotReady")
    if not state:
        state.append("Unknown")
    if (node.get("spec") or {}).get("unschedulable"):
        state.append("SchedulingDisabled")
    info = status.get("nodeInfo") or {}
    return [
        printing.name(node), ",".join(state), ",".join(node_roles(node)) or "<none>", printing.age(node, now),
        info.get("kubeletVersion", ""),
        _node_address(node, "InternalIP"), _node_address(node, "ExternalIP"),
        info.get("osImage") or "<unknown>", info.get("kernelVersion") or "<unknown>",
        info.get("containerRuntimeVersion") or "<unknown>",
    ]


# ---------------------------------------------------------------------------
# the strategy


class NodeStrategy(strategy.Strategy):
    group, kind = "", "Node"
    subresources = {"status": strategy.STATUS}
    printer = printing.Printer(COLUMNS, _node_cells)

    def defaults(self, res: resources.Resource, obj: Obj, old: Obj | None, settings: strategy.Settings) -> None:
        status = defaults.child(obj, "status")
        if status is None:
            return
        capacity = status.get("capacity")
        if isinstance(capacity, dict) and status.get("allocatable") is None:
            status["allocatable"] = dict(capacity)
        defaults.resource_list(status.get("capacity"))
        defaults.resource_list(status.get("allocatable"))

    def validate_status(self, res: resources.Resource, obj: Obj) -> Errors:
        errs = Errors()
        if "status" not in obj:
            return errs
        status = vc.validate_status_shape(errs, obj["status"], strs=("phase",))
        for key in ("capacity", "allocatable"):
            for name, raw in sorted(vc.typed_dict(errs, status.get(key), f"status.{key}").items()):
                try:
                    if quantity.parse_quantity(raw) < 0:
                        errs.invalid(f"status.{key}.{name}", quantity.canonicalize(raw), vc.NON_NEGATIVE)
                except ValueError as e:
                    errs.invalid(f"status.{key}.{name}", vc.as_str(raw), str(e))
        for i, address in vc.typed_dicts(errs, status.get("addresses"), "status.addresses"):
            for member in ("type", "address"):
                vc.typed_str(errs, address.get(member), f"status.addresses[{i}].{member}")
        vc.typed_str_map(errs, status.get("nodeInfo"), "status.nodeInfo")
        vc.typed_dict(errs, status.get("daemonEndpoints"), "status.daemonEndpoints")
        vc.typed_dicts(errs, status.get("images"), "status.images")
        return errs

    def check(self, errs: Errors, res: resources.Resource, obj: Obj, old: Obj | None) -> None:
        spec = vc.typed_dict(errs, obj.get("spec"), "spec")
        for key in ("podCIDR", "providerID"):
            vc.typed_str(errs, spec.get(key), f"spec.{key}")
        vc.typed_bool(errs, spec.get("unschedulable"), "spec.unschedulable")
        _taints(errs, spec.get("taints"))
        for i, cidr in enumerate(vc.typed_strs(errs, spec.get("podCIDRs"), "spec.podCIDRs")):
            vc.is_valid_cidr(errs, f"spec.podCIDRs[{i}]", cidr)
        if old is None:
            return
        old_spec = vc.as_dict(old.get("spec"))
        old_cidrs = vc.as_list(old_spec.get("podCIDRs"))
        if old_cidrs and old_cidrs != vc.as_list(spec.get("podCIDRs")):
            errs.forbidden("spec.podCIDRs", 'node updates may not change podCIDR except from "" to valid')
        if old_spec.get("providerID") and old_spec.get("providerID") != spec.get("providerID"):
            errs.forbidden("spec.providerID", 'node updates may not change providerID except from "" to valid')
