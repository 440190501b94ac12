"""What the proxy knows about Services and Endpoints, reduced to what rules need.

Both modes work on the same records: one `ServicePort` per port of a Service
with a cluster IP, and for each one the ready endpoints (`ip:port`). The key
joining them is kube-proxy's ServicePortName: namespace, Service name, port name
and protocol; an Endpoints subset port with the same name and protocol feeds the
Service port. Not-ready addresses never receive traffic: that is how a failing
readiness probe takes a pod out of rotation.

Everything here is pure: informer event handlers call it to turn API objects
into records, and the rule builders and tests consume the records.
"""
from __future__ import annotations

import dataclasses
import ipaddress
from typing import Any, Mapping

Obj = dict[str, Any]


@dataclasses.dataclass(frozen=True, order=True)
class ServicePortName:
    namespace: str
    name: str
    port: str = ""
    protocol: str = "TCP"

    def __str__(self) -> str:
        # kube-proxy's ServicePortName.String(): the protocol is not part of it.
        return f"{self.namespace}/{self.name}:{self.port}" if self.port else f"{self.namespace}/{self.name}"


@dataclasses.dataclass(frozen=True)
class ServicePort:
    name: ServicePortName
    cluster_ip: str
    port: int
    node_port: int = 0
    # ClientIP affinity timeout in seconds; 0 means no affinity.
    affinity_timeout: int = 0

    @property
    def protocol(self) -> str:
        return self.name.protocol


@dataclasses.dataclass(frozen=True, order=True)
class Endpoint:
    ip: str
    port: int
    # The node the endpoint runs on (the address's `nodeName`); "" when the Endpoints
    # object does not say. Only an endpoint on the proxy's own node can be reached
    # through its Service by itself (hairpin), so only those need a hairpin rule.
    node: str = ""

    def __str__(self) -> str:
        return f"{self.ip}:{self.port}"

    def sort_key(self) -> tuple[int, int]:
        return int(ipaddress.ip_address(self.ip)), self.port


EndpointsMap = Mapping[ServicePortName, tuple[Endpoint, ...]]

SUPPORTED_PROTOCOLS = ("TCP", "UDP")
DEFAULT_AFFINITY_TIMEOUT = 10800


def service_ports(service: Obj) -> list[ServicePort]:
    """The proxied ports of one Service object; none for headless and ExternalName Services."""
    meta = service.get("metadata") or {}
    spec = service.get("spec") or {}
    cluster_ip = spec.get("clusterIP") or ""
    if spec.get("type") == "ExternalName" or not cluster_ip or cluster_ip == "None":
        return []
    affinity = 0
    if spec.get("sessionAffinity") == "ClientIP":
        cfg = ((spec.get("sessionAffinityConfig") or {}).get("clientIP") or {})
        affinity = int(cfg.get("timeoutSeconds") or DEFAULT_AFFINITY_TIMEOUT)
    out = []
    for p in spec.get("ports") or []:
        protocol = p.get("protocol") or "TCP"
        if protocol not in SUPPORTED_PROTOCOLS:
            continue
        spn = ServicePortName(meta.get("namespace", "default"), meta["name"], p.get("name") or "", protocol)
        node_port = int(p.get("nodePort") or 0) if spec.get("type") in ("NodePort", "LoadBalancer") else 0
        out.append(ServicePort(spn, cluster_ip, int(p["port"]), node_port, affinity))
    return out


def endpoints_map(endpoints: Obj) -> dict[ServicePortName, tuple[Endpoint, ...]]:
    """Ready endpoints of one Endpoints object per ServicePortName, sorted and de-duplicated."""
    meta = endpoints.get("metadata") or {}
    ns, name = meta.get("namespace", "default"), meta["name"]
    found: dict[ServicePortName, set[Endpoint]] = {}
    for subset in endpoints.get("subsets") or []:
        for port in subset.get("ports") or []:
            if not port.get("port"):
                continue
            spn = ServicePortName(ns, name, port.get("name") or "", port.get("protocol") or "TCP")
            eps = found.setdefault(spn, set())
            for addr in subset.get("addresses") or []:
                if addr.get("ip"):
                    eps.add(Endpoint(addr["ip"], int(port["port"]), addr.get("nodeName") or ""))
    return {spn: tuple(sorted(eps, key=Endpoint.sort_key)) for spn, eps in found.items()}


class State:
    """The proxy's in-memory view: Service ports and ready endpoints, keyed by object.

    Event handlers call the `set_*`/`delete_*` methods (cheap, no I/O) and mark the
    proxier dirty; the sync reads `ports()` and `endpoints()` to build its rules.
    """

    def __init__(self) -> None:
        self._services: dict[tuple[str, str], list[ServicePort]] = {}
        self._endpoints: dict[tuple[str, str], dict[ServicePortName, tuple[Endpoint, ...]]] = {}
        # (namespace, name) of Services/Endpoints changed since `take_changed` was last
        # called: an incremental sync looks at these only (kube-proxy's change trackers).
        self._changed: set[tuple[str, str]] = set()

    @staticmethod
    def _key(obj: Obj) -> tuple[str, str]:
        meta = obj.get("metadata") or {}
        return meta.get("namespace", "default"), meta["name"]

    def set_service(self, service: Obj) -> bool:
        """Record a Service; True if what the proxy does for it changed."""
        key, ports = self._key(service), service_ports(service)
        if self._services.get(key, []) == ports:
            return False
        if ports:
            self._services[key] = ports
        else:
            self._services.pop(key, None)
        self._changed.add(key)
        return True

    def delete_service(self, service: Obj) -> bool:
        key = self._key(service)
        self._changed.add(key)
        return self._services.pop(key, None) is not None

    def set_endpoints(self, endpoints: Obj) -> bool:
        key, eps = self._key(endpoints), endpoints_map(endpoints)
        if self._endpoints.get(key, {}) == eps:
            return False
        self._endpoints[key] = eps
        self._changed.add(key)
        return True

    def delete_endpoints(self, endpoints: Obj) -> bool:
        key = self._key(endpoints)
        self._changed.add(key)
        return self._endpoints.pop(key, None) is not None

    def take_changed(self) -> set[tuple[str, str]]:
        """The (namespace, name) keys changed since the last call; forgets them."""
        changed, self._changed = self._changed, set()
        return changed

    def ports_of(self, key: tuple[str, str]) -> list[ServicePort]:
        return list(self._services.get(key, []))

    def endpoints_of(self, key: tuple[str, str]) -> dict[ServicePortName, tuple[Endpoint, ...]]:
        return dict(self._endpoints.get(key, {}))

    def ports(self) -> list[ServicePort]:
        return sorted((p for ports in self._services.values() for p in ports), key=lambda p: p.name)

    def endpoints(self) -> dict[ServicePortName, tuple[Endpoint, ...]]:
        return {spn: eps for by_port in self._endpoints.values() for spn, eps in by_port.items()}

