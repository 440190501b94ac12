"""ClusterIP and NodePort allocation, atomic with the Service write.

Each allocated address or port is one etcd key (`<prefix>/ipallocations/<ip>`,
`<prefix>/portallocations/<port>`), created in the *same* transaction as the
Service itself with a `create_revision == 0` guard. So two concurrent creates can
never get the same IP or port, a failed create leaks nothing, a delete releases
its keys in the same transaction, and all of it survives restarts because it
lives in etcd (the approach of Kubernetes' IPAddress-object allocator).
"""
from __future__ import annotations

import dataclasses
import ipaddress
import random
from typing import Any

from minik8s.api import errors
from minik8s.apiserver import storage as storage_mod

IP_PREFIX = "ipallocations"
PORT_PREFIX = "portallocations"


def node_port_types(svc: dict[str, Any]) -> bool:
    return (svc.get("spec") or {}).get("type") in ("NodePort", "LoadBalancer")


def wants_cluster_ip(svc: dict[str, Any]) -> bool:
    spec = svc.get("spec") or {}
    return spec.get("type", "ClusterIP") != "ExternalName" and spec.get("clusterIP") != "None"


@dataclasses.dataclass
class Plan:
    """What a Service write allocates and releases."""
    new_ip: str | None = None
    ip_requested: bool = False
    new_ports: list[tuple[int, int, bool]] = dataclasses.field(default_factory=list)  # (index, port, requested)
    release_ip: str | None = None
    release_ports: list[int] = dataclasses.field(default_factory=list)


class ServiceAllocator:
    def __init__(self, store: storage_mod.Storage, service_cidr: str = "10.96.0.0/12",
                 node_port_range: tuple[int, int] = (30000, 32767)) -> None:
        self.store = store
        self.network = ipaddress.ip_network(service_cidr)
        self.port_lo, self.port_hi = node_port_range

    @property
    def first_ip(self) -> str:
        """The `kubernetes` Service's address: the range's first usable one."""
        return str(self.network.network_address + 1)

    # -- planning -------------------------------------------------------------

    def plan(self, new: dict[str, Any] | None, old: dict[str, Any] | None) -> Plan:
        """Which IPs/ports to take and give back for old → new (None = absent)."""
        plan = Plan()
        old_ip = _cluster_ip(old) if old else None
        if new is not None and wants_cluster_ip(new):
            spec = new.setdefault("spec", {})
            requested = spec.get("clusterIP")
            if old_ip and (not requested or requested == old_ip):
                spec["clusterIP"] = old_ip
            elif requested:
                self._check_ip(requested)
                plan.new_ip, plan.ip_requested = requested, True
            else:
                plan.new_ip = "?"
        if old_ip and (new is None or _cluster_ip(new) != old_ip):
            plan.release_ip = old_ip
        elif old_ip and plan.new_ip == "?":
            plan.new_ip = None

        old_ports = set(_node_ports(old)) if old else set()
        kept: set[int] = set()
        if new is not None:
            ports = (new.get("spec") or {}).get("ports") or []
            if node_port_types(new):
                old_by_key = _old_node_ports_by_key(old) if old and node_port_types(old) else {}
                for i, p in enumerate(ports):
                    np = p.get("nodePort")
                    if not np:
                        reuse = old_by_key.get((p.get("port"), p.get("protocol", "TCP")))
                        if reuse:
                            p["nodePort"] = reuse
                            np = reuse
                    if np:
                        np = int(np)
                        if np in old_ports and np not in kept:
                            kept.add(np)
                            continue
                        self._check_port(i, np)
                        plan.new_ports.append((i, np, True))
                    else:
                        plan.new_ports.append((i, 0, False))
            else:
                for p in ports:
                    p.pop("nodePort", None)
        plan.release_ports = sorted(old_ports - kept)
        return plan

    def _check_ip(self, ip: str) -> None:
        try:
            addr = ipaddress.ip_address(ip)
        except ValueError:
            raise errors.Invalid("Service", "", [errors.field_error(
                "spec.clusterIP", f'Invalid value: "{ip}": must be a valid IP address')]) from None
        if addr not in self.network or addr in (self.network.network_address, self.network.broadcast_address):
            raise errors.Invalid("Service", "", [errors.field_error(
                "spec.clusterIP", f'Invalid value: "{ip}": provided IP is not in the valid range. '
                f'The range of valid IPs is {self.network}')])

    def _check_port(self, index: int, port: int) -> None:
        if not self.port_lo <= port <= self.port_hi:
            raise errors.Invalid("Service", "", [errors.field_error(
                f"spec.ports[{index}].nodePort",
                f"Invalid value: {port}: provided port is not in the valid range. "
                f"The range of valid ports is {self.port_lo}-{self.port_hi}")])

    # -- choosing ---------------------------------------------------------------

    async def resolve(self, svc: dict[str, Any], plan: Plan) -> storage_mod.Extra:
        """Pick concrete free values for "any" slots and build the txn ops."""
        tx = self.store.client.transactions
        extra = storage_mod.Extra()
        owner = f'{svc["metadata"].get("namespace", "")}/{svc["metadata"]["name"]}'.encode()
        spec = svc["spec"]
        if plan.new_ip:
            ip = plan.new_ip
            if ip == "?":
                used = set(await self.store.raw_keys(IP_PREFIX))
                ip = self._random_free_ip(used)
                spec["clusterIP"] = ip
            else:
                spec["clusterIP"] = ip
            spec["clusterIPs"] = [ip]
            key = self.store.raw_key(f"{IP_PREFIX}/{ip}")
            extra.compare.append(tx.create(key) == 0)
            extra.success.append(tx.put(key, owner))
        if any(not requested for _, _, requested in plan.new_ports):
            used_ports = {int(p) for p in await self.store.raw_keys(PORT_PREFIX)}
        else:
            used_ports = set()
        taken_now: set[int] = set()
        for index, port, requested in plan.new_ports:
            if not requested:
                port = self._random_free_port(used_ports | taken_now)
                spec["ports"][index]["nodePort"] = port
            if port in taken_now:
                raise errors.Invalid("Service", svc["metadata"]["name"], [errors.field_error(
                    f"spec.ports[{index}].nodePort", f"Duplicate value: {port}", "FieldValueDuplicate")])
            taken_now.add(port)
            key = self.store.raw_key(f"{PORT_PREFIX}/{port}")
            extra.compare.append(tx.create(key) == 0)
            extra.success.append(tx.put(key, owner))
        if plan.release_ip:
            extra.success.append(tx.delete(self.store.raw_key(f"{IP_PREFIX}/{plan.release_ip}")))
        for port in plan.release_ports:
            extra.success.append(tx.delete(self.store.raw_key(f"{PORT_PREFIX}/{port}")))
        return extra

    def release_all(self, svc: dict[str, Any]) -> storage_mod.Extra:
        tx = self.store.client.transactions
        extra = storage_mod.Extra()
        ip = _cluster_ip(svc)
        if ip:
            extra.success.append(tx.delete(self.store.raw_key(f"{IP_PREFIX}/{ip}")))
        for port in _node_ports(svc):
            extra.success.append(tx.delete(self.store.raw_key(f"{PORT_PREFIX}/{port}")))
        return extra

    async def explain_conflict(self, svc: dict[str, Any], plan: Plan) -> errors.StatusError | None:
        """After a failed txn: the 422 for a *requested* value that is taken, else None (retry)."""
        name = svc["metadata"]["name"]
        if plan.new_ip and plan.ip_requested:
            value, _ = await self.store.get_raw(f"{IP_PREFIX}/{plan.new_ip}")
            if value is not None:
                return errors.Invalid("Service", name, [errors.field_error(
                    "spec.clusterIP", f'Invalid value: "{plan.new_ip}": provided IP is already allocated')])
        for index, port, requested in plan.new_ports:
            if requested:
                value, _ = await self.store.get_raw(f"{PORT_PREFIX}/{port}")
                if value is not None:
                    return errors.Invalid("Service", name, [errors.field_error(
                        f"spec.ports[{index}].nodePort",
                        f"Invalid value: {port}: provided port is already allocated")])
        return None

    def _random_free_ip(self, used: set[str]) -> str:
        size = self.network.num_addresses
        # Skip the network address, the first address (reserved for `kubernetes`
        # unless asked for explicitly) and the broadcast address.
        lo, hi = 2, size - 2
        if hi < lo:
            raise errors.StatusError(500, "InternalError", "service IP range is too small")
        for _ in range(64):
            ip = str(self.network.network_address + random.randint(lo, hi))
            if ip not in used:
                return ip
        for offset in range(lo, hi + 1):
            ip = str(self.network.network_address + offset)
            if ip not in used:
                return ip
        raise errors.StatusError(500, "InternalError", f"range {self.network} is full: no ClusterIP left")

    def _random_free_port(self, used: set[int]) -> int:
        for _ in range(64):
            port = random.randint(self.port_lo, self.port_hi)
            if port not in used:
                return port
        for port in range(self.port_lo, self.port_hi + 1):
            if port not in used:
                return port
        raise errors.StatusError(500, "InternalError", "NodePort range is full")


def _cluster_ip(svc: dict[str, Any] | None) -> str | None:
    if not svc:
        return None
    ip = (svc.get("spec") or {}).get("clusterIP")
    return ip if ip and ip != "None" else None


def _node_ports(svc: dict[str, Any] | None) -> list[int]:
    if not svc or not node_port_types(svc):
        return []
    return [int(p["nodePort"]) for p in (svc.get("spec") or {}).get("ports") or [] if p.get("nodePort")]


def _old_node_ports_by_key(svc: dict[str, Any] | None) -> dict[tuple[Any, str], int]:
    out: dict[tuple[Any, str], int] = {}
    for p in (svc or {}).get("spec", {}).get("ports") or []:
        if p.get("nodePort"):
            out[(p.get("port"), p.get("protocol", "TCP"))] = int(p["nodePort"])
    return out
