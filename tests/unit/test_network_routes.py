"""Kernel state records: parsing iproute2's JSON, and the diff turned into commands."""
from __future__ import annotations

import ipaddress
import json

import pytest

from minik8s.network import backend
from minik8s.network import routes

CLUSTER = ipaddress.IPv4Network("10.244.0.0/16")

# Captured from `ip -j route show table main` on a vxlan node (pod bridge, flannel routes,
# a host-gw leftover, the node link, a default route, and a route outside the cluster).
ROUTES_JSON = json.dumps([
    {"dst": "default", "gateway": "172.31.0.1", "dev": "eth0", "flags": []},
    {"dst": "10.244.1.0/24", "dev": "br-1", "protocol": "kernel", "scope": "link", "prefsrc": "10.244.1.1",
     "flags": []},
    {"dst": "10.244.2.0/24", "gateway": "10.244.2.0", "dev": "flannel.1", "flags": ["onlink"]},
    {"dst": "10.244.3.0/24", "gateway": "172.31.0.13", "dev": "eth0", "flags": []},
    {"dst": "10.96.0.0/12", "gateway": "172.31.0.1", "dev": "eth0", "flags": []},
    {"dst": "172.31.0.0/24", "dev": "eth0", "protocol": "kernel", "scope": "link", "prefsrc": "172.31.0.11",
     "flags": []},
])


def test_parse_routes_keeps_only_gateway_routes_inside_the_cluster_cidr() -> None:
    assert routes.parse_routes(ROUTES_JSON, CLUSTER) == {
        routes.Route("10.244.2.0/24", "10.244.2.0", "flannel.1", onlink=True),
        routes.Route("10.244.3.0/24", "172.31.0.13", "eth0"),
    }


def test_parse_fdb_and_neigh_keep_permanent_entries() -> None:
    fdb = json.dumps([{"mac": "AA:BB:CC:00:00:02", "dst": "172.31.0.12", "flags": ["self"], "state": "permanent"},
                      {"mac": "00:00:00:00:00:00", "dst": "172.31.0.13", "flags": ["self"], "state": "permanent"},
                      {"mac": "aa:bb:cc:00:00:09", "dst": "172.31.0.19", "flags": ["self"], "state": ""}])
    neigh = json.dumps([{"dst": "10.244.2.0", "lladdr": "aa:bb:cc:00:00:02", "state": ["PERMANENT"]},
                        {"dst": "10.244.9.0", "lladdr": "aa:bb:cc:00:00:09", "state": ["STALE"]}])
    assert routes.parse_fdb(fdb, "flannel.1") == {routes.Fdb("aa:bb:cc:00:00:02", "172.31.0.12", "flannel.1")}
    assert routes.parse_neigh(neigh, "flannel.1") == {routes.Neigh("10.244.2.0", "aa:bb:cc:00:00:02", "flannel.1")}
    assert routes.parse_fdb("", "flannel.1") == set()


def _state(*entries: routes.Route | routes.Fdb | routes.Neigh) -> routes.State:
    return routes.State(frozenset(e for e in entries if isinstance(e, routes.Route)),
                        frozenset(e for e in entries if isinstance(e, routes.Fdb)),
                        frozenset(e for e in entries if isinstance(e, routes.Neigh)))


R2 = routes.Route("10.244.2.0/24", "10.244.2.0", "flannel.1", onlink=True)
F2 = routes.Fdb("aa:00:00:00:00:02", "172.31.0.12", "flannel.1")
N2 = routes.Neigh("10.244.2.0", "aa:00:00:00:00:02", "flannel.1")
R3 = routes.Route("10.244.3.0/24", "10.244.3.0", "flannel.1", onlink=True)
F3 = routes.Fdb("aa:00:00:00:00:03", "172.31.0.13", "flannel.1")
N3 = routes.Neigh("10.244.3.0", "aa:00:00:00:00:03", "flannel.1")


@pytest.mark.parametrize("observed,desired,expected", [
    pytest.param(_state(), _state(R2, F2, N2), [
        "bridge fdb replace aa:00:00:00:00:02 dev flannel.1 dst 172.31.0.12 self permanent",
        "ip neigh replace 10.244.2.0 lladdr aa:00:00:00:00:02 dev flannel.1 nud permanent",
        "ip route replace 10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink",
    ], id="add: fdb, neigh, then route"),
    pytest.param(_state(R2, F2, N2), _state(R2, F2, N2), [], id="converged: nothing"),
    pytest.param(_state(R2, F2, N2, R3, F3, N3), _state(R2, F2, N2), [
        "ip route del 10.244.3.0/24 via 10.244.3.0 dev flannel.1",
        "ip neigh del 10.244.3.0 dev flannel.1",
        "bridge fdb del aa:00:00:00:00:03 dev flannel.1 dst 172.31.0.13 self",
    ], id="remove: route, neigh, then fdb"),
    pytest.param(_state(R2, F2, N2), _state(R2, routes.Fdb("aa:00:00:00:00:22", "172.31.0.12", "flannel.1"),
                                            routes.Neigh("10.244.2.0", "aa:00:00:00:00:22", "flannel.1")), [
        "bridge fdb del aa:00:00:00:00:02 dev flannel.1 dst 172.31.0.12 self",
        "bridge fdb replace aa:00:00:00:00:22 dev flannel.1 dst 172.31.0.12 self permanent",
        "ip neigh replace 10.244.2.0 lladdr aa:00:00:00:00:22 dev flannel.1 nud permanent",
    ], id="new VTEP MAC: neigh replaced in place, old fdb entry deleted"),
    pytest.param(_state(routes.Route("10.244.2.0/24", "172.31.0.12", "eth0")), _state(R2, F2, N2), [
        "bridge fdb replace aa:00:00:00:00:02 dev flannel.1 dst 172.31.0.12 self permanent",
        "ip neigh replace 10.244.2.0 lladdr aa:00:00:00:00:02 dev flannel.1 nud permanent",
        "ip route replace 10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink",
    ], id="host-gw route taken over by vxlan: replaced, not deleted"),
])
def test_plan(observed: routes.State, desired: routes.State, expected: list[str]) -> None:
    assert [" ".join(c) for c in routes.plan(observed, desired)] == expected


ADDRS = json.dumps([
    {"ifname": "lo", "mtu": 65536, "addr_info": [{"family": "inet", "local": "127.0.0.1", "prefixlen": 8}]},
    {"ifname": "eth0", "mtu": 1500, "addr_info": [{"family": "inet", "local": "172.31.0.11", "prefixlen": 24},
                                                  {"family": "inet", "local": "172.31.0.99", "prefixlen": 24}]},
    {"ifname": "br-1", "mtu": 1500, "addr_info": [{"family": "inet", "local": "10.244.1.1", "prefixlen": 24}]},
])
DEFAULT = json.dumps([{"dst": "default", "gateway": "172.31.0.1", "dev": "eth0"}])


@pytest.mark.parametrize("iface,node_ip,expected", [
    ("eth0", "", backend.Interface("eth0", "172.31.0.11", 1500)),
    ("eth0", "172.31.0.99", backend.Interface("eth0", "172.31.0.99", 1500)),
    ("", "172.31.0.99", backend.Interface("eth0", "172.31.0.99", 1500)),
    ("", "", backend.Interface("eth0", "172.31.0.11", 1500)),
])
def test_pick_interface(iface: str, node_ip: str, expected: backend.Interface) -> None:
    assert backend.pick_interface(ADDRS, DEFAULT, iface=iface, node_ip=node_ip) == expected


@pytest.mark.parametrize("iface,node_ip,default", [
    ("eth9", "", DEFAULT), ("", "10.0.0.1", DEFAULT), ("eth0", "10.244.1.1", DEFAULT), ("", "", "[]")])
def test_pick_interface_refuses_what_does_not_exist(iface: str, node_ip: str, default: str) -> None:
    with pytest.raises(ValueError):
        backend.pick_interface(ADDRS, default, iface=iface, node_ip=node_ip)
