"""The `kube-dns` Service and Endpoints that lead pods to this server.

Pods' resolv.conf names the Service's fixed ClusterIP (10.96.0.10 by default, the
kubelet's --cluster-dns); the proxy on every node sends that address on to the
Endpoints, which list where this server really listens. The Service has no
selector, so the endpoints controller leaves its Endpoints to us, as the API
server keeps the `kubernetes` Service and its Endpoints.

`sync` is level-triggered: it creates what is missing and puts back what was
changed (ports, a selector someone added); a ClusterIP cannot be changed in
place, so a Service that holds another one is reported, not replaced.

Several masters each run a DNS server, and the Endpoints list those that are alive.
Each server renews a Lease `kube-system/kube-dns-<its address>` (labelled
`k8s-app: kube-dns`) and lists the others' Leases: the Endpoints hold the addresses
whose Lease was renewed within its duration, as the API servers keep the
`kubernetes` Endpoints with their master leases. A server that stops cleanly deletes
its Lease and takes its address out at once; a dead one drops out when its Lease
runs out. Leases rather than the Endpoints themselves carry the liveness, so the
proxies on every node see an Endpoints change only when the set of servers changes.
"""
from __future__ import annotations

import dataclasses
import ipaddress
import logging
from typing import Any, Iterable, Sequence

from minik8s.api import errors
from minik8s.api import resources
from minik8s.api import rfc3339
from minik8s.client import rest

log = logging.getLogger(__name__)

SERVICES = resources.must("", "v1", "services")
ENDPOINTS = resources.must("", "v1", "endpoints")
LEASES = resources.must("coordination.k8s.io", "v1", "leases")

NAMESPACE = "kube-system"
NAME = "kube-dns"
LABELS = {"k8s-app": "kube-dns", "kubernetes.io/cluster-service": "true", "kubernetes.io/name": "minik8s-dns"}
LEASE_SELECTOR = "k8s-app=kube-dns"
# The address a server's Lease stands for (its name is derived from it, but names are
# not addresses: IPv6 colons become dashes).
ADDRESS_ANNOTATION = "minik8s.io/dns-address"


@dataclasses.dataclass(frozen=True)
class Target:
    service_ip: str  # the Service's ClusterIP (pods' nameserver)
    address: str  # where this server listens, as other nodes reach it
    port: int  # the port it listens on


def service_ports(port: int) -> list[dict[str, Any]]:
    return [{"name": "dns", "port": 53, "protocol": "UDP", "targetPort": port},
            {"name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": port}]


def desired_service(target: Target) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": NAME, "namespace": NAMESPACE, "labels": dict(LABELS)},
            "spec": {"type": "ClusterIP", "clusterIP": target.service_ip, "ports": service_ports(target.port)}}


def desired_subsets(target: Target, addresses: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """The Endpoints' subsets: `addresses` (default: this server's alone) on the target's port."""
    addresses = [target.address] if addresses is None else list(addresses)
    if not addresses:
        return []
    return [{"addresses": [{"ip": a} for a in addresses],
             "ports": [{"name": "dns", "port": target.port, "protocol": "UDP"},
                       {"name": "dns-tcp", "port": target.port, "protocol": "TCP"}]}]


def serves_pods(address: str) -> bool:
    """Endpoints may not be loopback (and pods could not use it): a server on 127.0.0.1
    serves its host only, as the API server does in that case."""
    return not ipaddress.ip_address(address).is_loopback


def lease_name(address: str) -> str:
    return "kube-dns-" + address.replace(":", "-")


def desired_lease(address: str, identity: str, duration: int, now: float) -> dict[str, Any]:
    return {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
            "metadata": {"name": lease_name(address), "namespace": NAMESPACE, "labels": {"k8s-app": "kube-dns"},
                         "annotations": {ADDRESS_ANNOTATION: address}},
            "spec": {"holderIdentity": identity, "leaseDurationSeconds": duration,
                     "renewTime": rfc3339.format_micro(now)}}


def live_addresses(leases: Iterable[dict[str, Any]], now: float) -> list[str]:
    """The addresses of DNS servers whose Lease was renewed within its duration, sorted."""
    live = set()
    for lease in leases:
        address = ((lease.get("metadata") or {}).get("annotations") or {}).get(ADDRESS_ANNOTATION)
        spec = lease.get("spec") or {}
        renewed = rfc3339.parse_epoch(spec.get("renewTime"))
        if not address or renewed is None:
            continue
        try:
            ipaddress.ip_address(address)
        except ValueError:
            continue
        if renewed + float(spec.get("leaseDurationSeconds") or 0) > now:
            live.add(address)
    return sorted(live, key=ipaddress.ip_address)


def _ports_equal(have: list[dict[str, Any]], want: list[dict[str, Any]]) -> bool:
    def norm(ports: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
        return sorted((p.get("name"), p.get("port"), p.get("protocol", "TCP"), p.get("targetPort", p.get("port")))
                      for p in ports)
    return norm(have) == norm(want)


async def sync(client: rest.Client, service: dict[str, Any] | None, endpoints: dict[str, Any] | None,
               target: Target, addresses: Sequence[str] | None = None) -> None:
    """Bring the Service and Endpoints (as last seen: None if absent) to what `target` calls
    for, the Endpoints listing `addresses` (default: the target's own)."""
    if service is None:
        try:
            await client.create(SERVICES, desired_service(target), NAMESPACE)
            log.info("created Service %s/%s at %s", NAMESPACE, NAME, target.service_ip)
        except errors.AlreadyExists:
            pass  # the cache is behind; the next sync compares it
    else:
        spec = service.get("spec") or {}
        if spec.get("clusterIP") != target.service_ip:
            log.warning("Service %s/%s has ClusterIP %s, not %s; pods told to use %s will not reach DNS "
                        "(delete the Service to have it recreated)", NAMESPACE, NAME, spec.get("clusterIP"),
                        target.service_ip, target.service_ip)
        patch: dict[str, Any] = {}
        if not _ports_equal(spec.get("ports") or [], service_ports(target.port)):
            patch["ports"] = service_ports(target.port)
        if spec.get("selector"):
            patch["selector"] = None  # with a selector the endpoints controller would fight us
        if patch:
            await client.patch(SERVICES, NAME, {"spec": patch}, NAMESPACE)
            log.info("Service %s/%s: put back %s", NAMESPACE, NAME, sorted(patch))

    if not serves_pods(target.address):
        return
    subsets = desired_subsets(target, addresses)
    if endpoints is None:
        body = {"apiVersion": "v1", "kind": "Endpoints",
                "metadata": {"name": NAME, "namespace": NAMESPACE, "labels": dict(LABELS)}, "subsets": subsets}
        try:
            await client.create(ENDPOINTS, body, NAMESPACE)
            log.info("created Endpoints %s/%s: %s", NAMESPACE, NAME, _where(subsets))
        except errors.AlreadyExists:
            pass
    elif (endpoints.get("subsets") or []) != subsets:
        body = dict(endpoints, subsets=subsets)
        await client.update(ENDPOINTS, body)
        log.info("Endpoints %s/%s: %s", NAMESPACE, NAME, _where(subsets))


def _where(subsets: list[dict[str, Any]]) -> str:
    return ", ".join(f"{a['ip']}:{s['ports'][0]['port']}" for s in subsets for a in s["addresses"]) or "none"
