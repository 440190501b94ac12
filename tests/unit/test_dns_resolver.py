"""Cluster DNS answers, table-driven: a dnspython query in, the response checked."""
from __future__ import annotations

from typing import Any

import dns.flags
import dns.message
import dns.opcode
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import pytest

from minik8s.api import resources
from minik8s.client import informer as informer_mod
from minik8s.dns import resolver as resolver_mod

SERVICES = resources.must("", "v1", "services")
ENDPOINTS = resources.must("", "v1", "endpoints")
assert SERVICES and ENDPOINTS


def service(ns: str, name: str, cluster_ip: str, ports: list[dict[str, Any]] | None = None,
            **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": ns},
            "spec": {"clusterIP": cluster_ip, "ports": ports or [], **spec}}


def endpoints(ns: str, name: str, subsets: list[dict[str, Any]]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": name, "namespace": ns},
            "subsets": subsets}


def store(res: resources.Resource, *objs: dict[str, Any]) -> informer_mod.Informer:
    inf = informer_mod.Informer(None, res)  # type: ignore[arg-type] - filled by hand, never started
    for obj in objs:
        inf.store[informer_mod.key_of(obj)] = obj
    return inf


def make_resolver() -> resolver_mod.Resolver:
    services = store(
        SERVICES,
        service("default", "web", "10.96.0.50", [{"name": "http", "port": 80, "protocol": "TCP"},
                                                  {"name": "dns", "port": 53, "protocol": "UDP"}]),
        service("default", "db", "None", [{"name": "pg", "port": 5432, "protocol": "TCP"}]),
        service("default", "ext", "", type="ExternalName", externalName="example.com"),
        service("other", "web", "10.96.0.60"),
    )
    eps = store(
        ENDPOINTS,
        endpoints("default", "web", [{"addresses": [{"ip": "10.244.1.9"}], "ports": [{"name": "http", "port": 8080}]}]),
        endpoints("default", "db", [{
            "addresses": [{"ip": "10.244.2.6"}, {"ip": "10.244.1.5", "hostname": "db-0"}],
            "notReadyAddresses": [{"ip": "10.244.3.7"}],
            "ports": [{"name": "pg", "port": 5432, "protocol": "TCP"}]}]),
    )
    return resolver_mod.Resolver(services, eps, domain="cluster.local", ttl=5, serial=42, ns_address="10.96.0.10")


RESOLVER = make_resolver()


def ask(name: str, rdtype: str = "A", **kw: Any) -> dns.message.Message:
    query = dns.message.make_query(name, rdtype, **kw)
    response = RESOLVER.respond(query)
    # Everything must survive the wire, as a client would see it.
    return dns.message.from_wire(response.to_wire())


def records(msg: dns.message.Message, section: str = "answer") -> list[str]:
    return sorted(f"{rrset.name} {dns.rdatatype.to_text(rrset.rdtype)} {rd.to_text()}"
                  for rrset in getattr(msg, section) for rd in rrset)


CASES = [
    # name, type, rcode, answer records
    ("web.default.svc.cluster.local.", "A", "NOERROR", ["web.default.svc.cluster.local. A 10.96.0.50"]),
    ("WEB.Default.SVC.cluster.local.", "A", "NOERROR", ["WEB.Default.SVC.cluster.local. A 10.96.0.50"]),
    ("web.other.svc.cluster.local.", "A", "NOERROR", ["web.other.svc.cluster.local. A 10.96.0.60"]),
    ("web.default.svc.cluster.local.", "AAAA", "NOERROR", []),
    ("web.default.svc.cluster.local.", "TXT", "NOERROR", []),
    # Headless: the ready endpoints only.
    ("db.default.svc.cluster.local.", "A", "NOERROR",
     ["db.default.svc.cluster.local. A 10.244.1.5", "db.default.svc.cluster.local. A 10.244.2.6"]),
    ("db-0.db.default.svc.cluster.local.", "A", "NOERROR", ["db-0.db.default.svc.cluster.local. A 10.244.1.5"]),
    ("10-244-2-6.db.default.svc.cluster.local.", "A", "NOERROR",
     ["10-244-2-6.db.default.svc.cluster.local. A 10.244.2.6"]),
    ("10-244-3-7.db.default.svc.cluster.local.", "A", "NXDOMAIN", []),
    ("db-0.web.default.svc.cluster.local.", "A", "NXDOMAIN", []),  # not headless: no endpoint names
    # SRV for named ports.
    ("_http._tcp.web.default.svc.cluster.local.", "SRV", "NOERROR",
     ["_http._tcp.web.default.svc.cluster.local. SRV 0 100 80 web.default.svc.cluster.local."]),
    ("_dns._udp.web.default.svc.cluster.local.", "SRV", "NOERROR",
     ["_dns._udp.web.default.svc.cluster.local. SRV 0 100 53 web.default.svc.cluster.local."]),
    ("_pg._tcp.db.default.svc.cluster.local.", "SRV", "NOERROR",
     ["_pg._tcp.db.default.svc.cluster.local. SRV 0 50 5432 10-244-2-6.db.default.svc.cluster.local.",
      "_pg._tcp.db.default.svc.cluster.local. SRV 0 50 5432 db-0.db.default.svc.cluster.local."]),
    ("_http._udp.web.default.svc.cluster.local.", "SRV", "NXDOMAIN", []),
    ("_http._tcp.nope.default.svc.cluster.local.", "SRV", "NXDOMAIN", []),
    # ExternalName: a CNAME, not chased (the target is outside; we never recurse).
    ("ext.default.svc.cluster.local.", "A", "NOERROR", ["ext.default.svc.cluster.local. CNAME example.com."]),
    # Pods.
    ("10-244-1-5.default.pod.cluster.local.", "A", "NOERROR",
     ["10-244-1-5.default.pod.cluster.local. A 10.244.1.5"]),
    ("not-an-ip.default.pod.cluster.local.", "A", "NXDOMAIN", []),
    # What a search list makes of a name that already was complete: not found, so the client moves on.
    ("web.default.svc.cluster.local.default.svc.cluster.local.", "A", "NXDOMAIN", []),
    ("web.default.default.svc.cluster.local.", "A", "NXDOMAIN", []),
    ("nope.default.svc.cluster.local.", "A", "NXDOMAIN", []),
    ("web.nope.svc.cluster.local.", "A", "NXDOMAIN", []),
    ("default.svc.cluster.local.", "A", "NOERROR", []),
    ("empty.svc.cluster.local.", "A", "NXDOMAIN", []),
    ("svc.cluster.local.", "A", "NOERROR", []),
    ("anything.cluster.local.", "A", "NXDOMAIN", []),
    # The zone itself.
    ("cluster.local.", "NS", "NOERROR", ["cluster.local. NS ns.dns.cluster.local."]),
    ("ns.dns.cluster.local.", "A", "NOERROR", ["ns.dns.cluster.local. A 10.96.0.10"]),
    # Reverse lookups of known addresses.
    ("50.0.96.10.in-addr.arpa.", "PTR", "NOERROR", ["50.0.96.10.in-addr.arpa. PTR web.default.svc.cluster.local."]),
    ("5.1.244.10.in-addr.arpa.", "PTR", "NOERROR", ["5.1.244.10.in-addr.arpa. PTR db-0.db.default.svc.cluster.local."]),
    # Not ours: refused, never forwarded.
    ("www.example.com.", "A", "REFUSED", []),
    ("cluster.local.example.com.", "A", "REFUSED", []),
    ("1.1.168.192.in-addr.arpa.", "PTR", "REFUSED", []),
]


@pytest.mark.parametrize("name,rdtype,rcode,answer", CASES, ids=[f"{c[0]}/{c[1]}" for c in CASES])
def test_answers(name: str, rdtype: str, rcode: str, answer: list[str]) -> None:
    response = ask(name, rdtype)
    assert dns.rcode.to_text(response.rcode()) == rcode
    assert records(response) == answer
    assert not response.flags & dns.flags.RA  # we never recurse
    assert response.question[0].name.to_text() == name  # the question is echoed as asked
    if rcode == "REFUSED":
        assert not response.flags & dns.flags.AA and not response.authority
    elif name.endswith("cluster.local."):
        assert response.flags & dns.flags.AA
    if not answer and name.endswith("cluster.local."):
        # Negative answers carry the zone's SOA (its minimum = our TTL bounds negative caching).
        assert records(response, "authority") == [
            "cluster.local. SOA ns.dns.cluster.local. hostmaster.cluster.local. 42 7200 1800 86400 5"]


def test_answers_have_the_configured_ttl() -> None:
    assert [rrset.ttl for rrset in ask("web.default.svc.cluster.local.").answer] == [5]


def test_srv_answers_carry_the_targets_addresses() -> None:
    response = ask("_pg._tcp.db.default.svc.cluster.local.", "SRV")
    assert records(response, "additional") == ["10-244-2-6.db.default.svc.cluster.local. A 10.244.2.6",
                                               "db-0.db.default.svc.cluster.local. A 10.244.1.5"]
    response = ask("_http._tcp.web.default.svc.cluster.local.", "SRV")
    assert records(response, "additional") == ["web.default.svc.cluster.local. A 10.96.0.50"]


def test_other_opcodes_and_classes() -> None:
    query = dns.message.make_query("web.default.svc.cluster.local.", "A")
    query.set_opcode(dns.opcode.NOTIFY)
    assert RESOLVER.respond(query).rcode() == dns.rcode.NOTIMP
    query = dns.message.make_query("web.default.svc.cluster.local.", "A", rdclass=dns.rdataclass.CH)
    assert RESOLVER.respond(query).rcode() == dns.rcode.REFUSED


def test_another_cluster_domain() -> None:
    r = resolver_mod.Resolver(RESOLVER.services, RESOLVER.endpoints, domain="corp.example")
    query = dns.message.make_query("web.default.svc.corp.example.", "A")
    assert records(r.respond(query)) == ["web.default.svc.corp.example. A 10.96.0.50"]
    query = dns.message.make_query("web.default.svc.cluster.local.", "A")
    assert r.respond(query).rcode() == dns.rcode.REFUSED


def test_answers_follow_the_cache() -> None:
    services = store(SERVICES)
    eps = store(ENDPOINTS)
    r = resolver_mod.Resolver(services, eps)
    query = dns.message.make_query("late.default.svc.cluster.local.", "A")
    assert r.respond(query).rcode() == dns.rcode.NXDOMAIN
    services.store["default/late"] = service("default", "late", "10.96.0.77")
    assert records(r.respond(query)) == ["late.default.svc.cluster.local. A 10.96.0.77"]


def test_servfail_until_the_caches_are_synced() -> None:
    r = resolver_mod.Resolver(RESOLVER.services, RESOLVER.endpoints)
    r.ready = False
    query = dns.message.make_query("web.default.svc.cluster.local.", "A")
    assert r.respond(query).rcode() == dns.rcode.SERVFAIL
    r.ready = True
    assert records(r.respond(query)) == ["web.default.svc.cluster.local. A 10.96.0.50"]
