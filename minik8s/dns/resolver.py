"""Cluster DNS answers: a query message in, a response message out, from Services and Endpoints.

What is answered follows the Kubernetes DNS specification (as CoreDNS's
kubernetes plugin serves it), for the cluster domain (default cluster.local):

  <svc>.<ns>.svc.<domain>            A     the ClusterIP; for a headless Service
                                           (clusterIP None) the ready endpoint IPs;
                                           an ExternalName Service is a CNAME
  <ep>.<svc>.<ns>.svc.<domain>       A     one endpoint of a headless Service, named
                                           by its hostname or its dashed IP
  _<port>._<proto>.<svc>.<ns>.svc.<domain>
                                     SRV   a named port: the Service name (ClusterIP)
                                           or one target per endpoint (headless),
                                           with their A records as additionals
  <a-b-c-d>.<ns>.pod.<domain>        A     a.b.c.d (CoreDNS's "pods insecure")
  <d.c.b.a>.in-addr.arpa             PTR   a ClusterIP or headless endpoint's name
  <domain>                           SOA, NS

Unknown names in the domain are NXDOMAIN; a name that exists but has no record
of the asked type (AAAA, say) gets an empty NOERROR answer, as negative answers
carry the zone's SOA. Anything outside the domain is REFUSED: this server never
recurses and never forwards (the resolv.conf of a pod lists it alone, and the
project sends no traffic off the machine).

Search domains are the client's business: `web` asked from namespace `ns`
arrives as `web.ns.svc.cluster.local.` and is answered like any full name.
"""
from __future__ import annotations

import dataclasses
import ipaddress
import logging
from collections.abc import Iterable
from typing import Any, Protocol

import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

log = logging.getLogger(__name__)

Obj = dict[str, Any]
REVERSE_ZONE = dns.name.from_text("in-addr.arpa.")


class Store(Protocol):
    """What the resolver reads: an informer, or anything that looks like one."""

    def get_by(self, namespace: str | None, name: str) -> Obj | None: ...

    def list(self, namespace: str | None = None) -> list[Obj]: ...


@dataclasses.dataclass
class Answer:
    rcode: dns.rcode.Rcode = dns.rcode.NOERROR
    answer: list[dns.rrset.RRset] = dataclasses.field(default_factory=list)
    additional: list[dns.rrset.RRset] = dataclasses.field(default_factory=list)
    authoritative: bool = True


def dashed(ip: str) -> str:
    return ip.replace(".", "-").replace(":", "-")


def undashed(label: str) -> str | None:
    """`10-244-1-5` → `10.244.1.5`, or None if it is not a dashed IPv4 address."""
    try:
        return str(ipaddress.IPv4Address(label.replace("-", ".")))
    except ValueError:
        return None


def ready_addresses(endpoints: Obj | None) -> list[tuple[Obj, list[Obj]]]:
    """(address, ports of its subset) for every ready address, in the Endpoints' order."""
    out = []
    for subset in (endpoints or {}).get("subsets") or []:
        for address in subset.get("addresses") or []:
            if address.get("ip"):
                out.append((address, subset.get("ports") or []))
    return out


def endpoint_label(address: Obj) -> str:
    return str(address.get("hostname") or dashed(address["ip"]))


class Resolver:
    def __init__(self, services: Store, endpoints: Store, *, domain: str = "cluster.local", ttl: int = 5,
                 serial: int = 1, ns_address: str = "") -> None:
        self.services = services
        self.endpoints = endpoints
        self.domain = dns.name.from_text(domain.rstrip(".") + ".")
        self.ttl = ttl
        self.serial = serial
        # The name server's own name (in NS answers) and the address it resolves to.
        self.ns_name = dns.name.from_text("ns.dns", origin=self.domain)
        self.ns_address = ns_address
        # False until the caches hold a first full list: every name would be NXDOMAIN before.
        self.ready = True

    # -- the message level --------------------------------------------------------------------

    def respond(self, query: dns.message.Message) -> dns.message.Message:
        response = dns.message.make_response(query, recursion_available=False)
        if query.opcode() != dns.opcode.QUERY:
            response.set_rcode(dns.rcode.NOTIMP)
            return response
        if len(query.question) != 1:
            response.set_rcode(dns.rcode.FORMERR)
            return response
        q = query.question[0]
        if not self.ready:
            response.set_rcode(dns.rcode.SERVFAIL)  # "try again", not "no such name"
            return response
        if q.rdclass != dns.rdataclass.IN:
            response.set_rcode(dns.rcode.REFUSED)
            return response
        result = self.lookup(q.name, q.rdtype)
        response.set_rcode(result.rcode)
        if result.rcode == dns.rcode.REFUSED:
            return response
        if result.authoritative:
            response.flags |= dns.flags.AA
        response.answer.extend(result.answer)
        response.additional.extend(result.additional)
        if not result.answer and q.name.is_subdomain(self.domain):
            # Negative answers carry the SOA, whose minimum bounds how long they are cached.
            response.authority.append(self._soa(self.domain))
        return response

    # -- names ----------------------------------------------------------------------------------

    def lookup(self, qname: dns.name.Name, qtype: int) -> Answer:
        if qname.is_subdomain(REVERSE_ZONE):
            return self._reverse(qname, qtype)
        if not qname.is_subdomain(self.domain):
            return Answer(dns.rcode.REFUSED, authoritative=False)
        labels = [label.decode(errors="replace").lower() for label in qname.relativize(self.domain).labels]
        if not labels:
            return self._apex(qname, qtype)
        if labels == ["ns", "dns"] and self.ns_address:
            return self._addresses(qname, qtype, [self.ns_address])
        if labels[-1] == "svc":
            return self._svc(qname, qtype, labels[:-1])
        if labels[-1] == "pod":
            return self._pod(qname, qtype, labels[:-1])
        return Answer(dns.rcode.NXDOMAIN)

    def _apex(self, qname: dns.name.Name, qtype: int) -> Answer:
        if qtype in (dns.rdatatype.SOA, dns.rdatatype.ANY):
            return Answer(answer=[self._soa(qname)])
        if qtype == dns.rdatatype.NS:
            additional = [self._rrset(self.ns_name, dns.rdatatype.A, [self.ns_address])] if self.ns_address else []
            return Answer(answer=[self._rrset(qname, dns.rdatatype.NS, [self.ns_name.to_text()])],
                          additional=additional)
        return Answer()

    def _svc(self, qname: dns.name.Name, qtype: int, labels: list[str]) -> Answer:
        if not labels:  # svc.<domain>
            return Answer()
        namespace = labels[-1]
        if len(labels) == 1:  # <ns>.svc.<domain>: exists while the namespace has Services
            return Answer() if self.services.list(namespace) else Answer(dns.rcode.NXDOMAIN)
        if len(labels) == 4 and labels[0].startswith("_") and labels[1].startswith("_"):
            return self._srv(qname, qtype, labels[0][1:], labels[1][1:], labels[2], namespace)
        service = self.services.get_by(namespace, labels[-2])
        if service is None:
            return Answer(dns.rcode.NXDOMAIN)
        if len(labels) == 2:
            return self._service(qname, qtype, service)
        if len(labels) == 3:
            return self._endpoint(qname, qtype, service, labels[0])
        return Answer(dns.rcode.NXDOMAIN)

    def _service(self, qname: dns.name.Name, qtype: int, service: Obj) -> Answer:
        spec = service.get("spec") or {}
        if spec.get("type") == "ExternalName":
            target = spec.get("externalName") or ""
            if not target or qtype not in (dns.rdatatype.CNAME, dns.rdatatype.A, dns.rdatatype.AAAA,
                                           dns.rdatatype.ANY):
                return Answer()
            # The target is outside the cluster: the client resolves it (we do not recurse).
            return Answer(answer=[self._rrset(qname, dns.rdatatype.CNAME, [target.rstrip(".") + "."])])
        if _headless(service):
            ips = [a["ip"] for a, _ in ready_addresses(self._endpoints_of(service))]
        else:
            ips = [spec["clusterIP"]] if spec.get("clusterIP") else []
        return self._addresses(qname, qtype, ips)

    def _endpoint(self, qname: dns.name.Name, qtype: int, service: Obj, label: str) -> Answer:
        if not _headless(service):
            return Answer(dns.rcode.NXDOMAIN)
        ips = [a["ip"] for a, _ in ready_addresses(self._endpoints_of(service)) if endpoint_label(a) == label]
        if not ips:
            return Answer(dns.rcode.NXDOMAIN)
        return self._addresses(qname, qtype, ips)

    def _srv(self, qname: dns.name.Name, qtype: int, port_name: str, proto: str, name: str,
             namespace: str) -> Answer:
        service = self.services.get_by(namespace, name)
        if service is None:
            return Answer(dns.rcode.NXDOMAIN)
        spec = service.get("spec") or {}
        owner = dns.name.from_text(f"{name}.{namespace}.svc", origin=self.domain)
        targets: list[tuple[int, dns.name.Name, str]] = []  # (port, target, its address)
        if _headless(service):
            for address, ports in ready_addresses(self._endpoints_of(service)):
                for port in ports:
                    if _port_matches(port, port_name, proto):
                        target = dns.name.from_text(endpoint_label(address), origin=owner)
                        targets.append((int(port["port"]), target, address["ip"]))
        elif spec.get("clusterIP") and spec.get("type") != "ExternalName":
            for port in spec.get("ports") or []:
                if _port_matches(port, port_name, proto):
                    targets.append((int(port["port"]), owner, spec["clusterIP"]))
        if not targets:
            return Answer(dns.rcode.NXDOMAIN)
        if qtype not in (dns.rdatatype.SRV, dns.rdatatype.ANY):
            return Answer()
        weight = max(1, 100 // len(targets))
        records = [f"0 {weight} {port} {target.to_text()}" for port, target, _ in targets]
        additional = [self._rrset(target, dns.rdatatype.A, [ip]) for _, target, ip in _unique(targets)]
        return Answer(answer=[self._rrset(qname, dns.rdatatype.SRV, records)], additional=additional)

    def _pod(self, qname: dns.name.Name, qtype: int, labels: list[str]) -> Answer:
        if len(labels) != 2:
            return Answer() if len(labels) < 2 else Answer(dns.rcode.NXDOMAIN)
        ip = undashed(labels[0])
        if ip is None:
            return Answer(dns.rcode.NXDOMAIN)
        return self._addresses(qname, qtype, [ip])

    def _reverse(self, qname: dns.name.Name, qtype: int) -> Answer:
        labels = [label.decode(errors="replace") for label in qname.relativize(REVERSE_ZONE).labels]
        try:
            ip = str(ipaddress.IPv4Address(".".join(reversed(labels)))) if len(labels) == 4 else None
        except ValueError:
            ip = None
        names = sorted(self._names_of(ip)) if ip else []
        if not names:
            # Not an address we know: not ours to answer, and we do not forward.
            return Answer(dns.rcode.REFUSED, authoritative=False)
        if qtype not in (dns.rdatatype.PTR, dns.rdatatype.ANY):
            return Answer()
        return Answer(answer=[self._rrset(qname, dns.rdatatype.PTR, names)])

    def _names_of(self, ip: str) -> Iterable[str]:
        for service in self.services.list():
            meta, spec = service["metadata"], service.get("spec") or {}
            base = f"{meta['name']}.{meta.get('namespace', 'default')}.svc.{self.domain.to_text()}"
            if _headless(service):
                for address, _ in ready_addresses(self._endpoints_of(service)):
                    if address["ip"] == ip:
                        yield f"{endpoint_label(address)}.{base}"
            elif spec.get("clusterIP") == ip:
                yield base

    # -- records --------------------------------------------------------------------------------

    def _endpoints_of(self, service: Obj) -> Obj | None:
        meta = service["metadata"]
        return self.endpoints.get_by(meta.get("namespace", "default"), meta["name"])

    def _addresses(self, qname: dns.name.Name, qtype: int, ips: list[str]) -> Answer:
        v4 = sorted({ip for ip in ips if _is_v4(ip)}, key=lambda ip: ipaddress.IPv4Address(ip))
        if qtype in (dns.rdatatype.A, dns.rdatatype.ANY) and v4:
            return Answer(answer=[self._rrset(qname, dns.rdatatype.A, v4)])
        return Answer()

    def _rrset(self, name: dns.name.Name, rdtype: dns.rdatatype.RdataType, values: list[str]) -> dns.rrset.RRset:
        return dns.rrset.from_text_list(name, self.ttl, dns.rdataclass.IN, rdtype, values)

    def _soa(self, name: dns.name.Name) -> dns.rrset.RRset:
        hostmaster = dns.name.from_text("hostmaster", origin=self.domain)
        value = f"{self.ns_name.to_text()} {hostmaster.to_text()} {self.serial} 7200 1800 86400 {self.ttl}"
        return self._rrset(name, dns.rdatatype.SOA, [value])


def _headless(service: Obj) -> bool:
    return (service.get("spec") or {}).get("clusterIP") == "None"


def _port_matches(port: Obj, name: str, proto: str) -> bool:
    return str(port.get("name") or "").lower() == name and str(port.get("protocol") or "TCP").lower() == proto


def _is_v4(ip: str) -> bool:
    try:
        ipaddress.IPv4Address(ip)
    except ValueError:
        return False
    return True


def _unique(targets: list[tuple[int, dns.name.Name, str]]) -> list[tuple[int, dns.name.Name, str]]:
    seen: set[tuple[dns.name.Name, str]] = set()
    out = []
    for port, target, ip in targets:
        if (target, ip) not in seen:
            seen.add((target, ip))
            out.append((port, target, ip))
    return out
