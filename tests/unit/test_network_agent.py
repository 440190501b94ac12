"""The network agent's sync: nodes in the cache → exact commands, against a fake kernel.

The fake kernel understands the few iproute2/iptables commands the agent runs and
answers its read commands from what those commands did, so a test can sync,
change the nodes, sync again, and check both the commands and that a second
sync of an unchanged world runs nothing at all.
"""
from __future__ import annotations

import copy
import ipaddress
import json
import shlex
from typing import Any

import pytest

from minik8s.api import resources
from minik8s.client import informer as informer_mod
from minik8s.network import agent as agent_mod
from minik8s.network import backend as backend_mod
from minik8s.network import cniconfig
from minik8s.network import iptables
from minik8s.network import runner as runner_mod
from minik8s.network import subnet

NODES = resources.must("", "v1", "nodes")
IFACE = backend_mod.Interface("eth0", "172.31.0.11", 1500)


class FakeKernel:
    """Links, routes, FDB, neighbours and iptables of one network namespace, in memory."""

    def __init__(self) -> None:
        self.links: dict[str, dict[str, Any]] = {}
        self.routes: dict[str, dict[str, Any]] = {
            "10.244.1.0/24": {"dst": "10.244.1.0/24", "dev": "br-1", "protocol": "kernel", "flags": []}}
        self.fdb: set[tuple[str, str, str]] = set()
        self.neigh: dict[tuple[str, str], str] = {}
        self.tables: dict[str, list[str]] = {"filter": ["-P FORWARD ACCEPT"], "nat": ["-P POSTROUTING ACCEPT"]}
        self.macs = iter(f"0e:00:00:00:00:{i:02x}" for i in range(1, 255))

    def __call__(self, argv: tuple[str, ...], input: str | None) -> runner_mod.Result | None:
        a = list(argv)
        if a[:1] == ["iptables"] or a[:1] == ["iptables-restore"]:
            return self._iptables(a, input)
        if a[:4] == ["ip", "-j", "-d", "addr"]:
            link = self.links.get(a[-1])
            if link is None:
                return runner_mod.Result(1, "", f'Device "{a[-1]}" does not exist.')
            return runner_mod.Result(0, json.dumps([self._link_json(a[-1], link)]))
        if a[:3] == ["ip", "link", "add"]:
            name, opts = a[3], dict(zip(a[6::2], a[7::2]))
            self.links[name] = {"mac": next(self.macs), "mtu": 1500, "up": False, "addrs": [],
                                "info": {"id": int(opts["id"]), "local": opts["local"], "link": opts["dev"],
                                         "port": int(opts["dstport"]), "learning": False}}
        elif a[:3] == ["ip", "link", "del"]:
            if a[3] not in self.links:
                return runner_mod.Result(1, "", f'Cannot find device "{a[3]}"')
            self.links.pop(a[3])
            self.routes = {k: r for k, r in self.routes.items() if r["dev"] != a[3]}
            self.fdb = {e for e in self.fdb if e[2] != a[3]}
            self.neigh = {k: v for k, v in self.neigh.items() if k[1] != a[3]}
        elif a[:3] == ["ip", "link", "set"]:
            link = self.links[a[4]]
            if a[5] == "mtu":
                link["mtu"] = int(a[6])
            else:
                link["up"] = True
        elif a[:3] == ["ip", "addr", "add"]:
            self.links[a[5]]["addrs"].append(a[3])
        elif a[:3] == ["ip", "addr", "del"]:
            self.links[a[5]]["addrs"].remove(a[3])
        elif a[:5] == ["ip", "-j", "link", "show", "master"]:
            return runner_mod.Result(0, json.dumps([{"ifname": n} for n, link in self.links.items()
                                                    if link.get("master") == a[5]]))
        elif a[:4] == ["ip", "-j", "route", "show"]:
            return runner_mod.Result(0, json.dumps(list(self.routes.values())))
        elif a[:3] == ["ip", "route", "replace"]:
            self.routes[a[3]] = {"dst": a[3], "gateway": a[5], "dev": a[7], "flags": a[8:]}
        elif a[:3] == ["ip", "route", "del"]:
            del self.routes[a[3]]
        elif a[:4] == ["bridge", "-j", "fdb", "show"]:
            return runner_mod.Result(0, json.dumps([{"mac": m, "dst": d, "flags": ["self"], "state": "permanent"}
                                                    for m, d, dev in sorted(self.fdb) if dev == a[-1]]))
        elif a[:3] == ["bridge", "fdb", "replace"]:
            self.fdb = {e for e in self.fdb if e[0] != a[3] or e[2] != a[5]} | {(a[3], a[7], a[5])}
        elif a[:3] == ["bridge", "fdb", "del"]:
            self.fdb.remove((a[3], a[7], a[5]))
        elif a[:4] == ["ip", "-j", "neigh", "show"]:
            return runner_mod.Result(0, json.dumps([{"dst": ip, "lladdr": mac, "state": ["PERMANENT"]}
                                                    for (ip, dev), mac in sorted(self.neigh.items())
                                                    if dev == a[-1]]))
        elif a[:3] == ["ip", "neigh", "replace"]:
            self.neigh[(a[3], a[7])] = a[5]
        elif a[:3] == ["ip", "neigh", "del"]:
            del self.neigh[(a[3], a[5])]
        else:
            raise AssertionError(f"the fake kernel does not know {' '.join(a)}")
        return runner_mod.Result(0)

    def _link_json(self, name: str, link: dict[str, Any]) -> dict[str, Any]:
        return {"ifname": name, "mtu": link["mtu"], "address": link["mac"],
                "flags": ["BROADCAST", "MULTICAST"] + (["UP"] if link["up"] else []),
                "linkinfo": {"info_kind": "vxlan", "info_data": link["info"]},
                "addr_info": [{"family": "inet", "local": addr.split("/")[0], "prefixlen": int(addr.split("/")[1])}
                              for addr in link["addrs"]]}

    def _iptables(self, a: list[str], input: str | None) -> runner_mod.Result:
        if a[0] == "iptables-restore":
            assert input is not None
            lines = input.splitlines()
            chain = lines[1][1:].split()[0]
            nat = [line for line in self.tables["nat"] if not line.startswith(f"-A {chain} ")]
            if f"-N {chain}" not in nat:
                nat.append(f"-N {chain}")
            self.tables["nat"] = nat + [line for line in lines if line.startswith("-A ")]
            return runner_mod.Result(0)
        table, verb = a[4], a[5]
        lines = self.tables[table]
        if verb == "-S":
            return runner_mod.Result(0, "\n".join(lines) + "\n")
        chain, rest = a[6], a[7:]
        if verb == "-N":
            lines.append(f"-N {chain}")
        elif verb == "-X":
            lines.remove(f"-N {chain}")
        elif verb == "-F":
            self.tables[table] = [line for line in lines if not line.startswith(f"-A {chain} ")]
        elif verb == "-I":
            rule = f"-A {chain} " + shlex.join(rest[1:])
            first = next((i for i, line in enumerate(lines) if line.startswith(f"-A {chain} ")), len(lines))
            lines.insert(first, rule)
        elif verb == "-D":
            lines.remove(f"-A {chain} " + shlex.join(rest))
        return runner_mod.Result(0)


class FakeClient:
    def __init__(self, nodes: informer_mod.Informer) -> None:
        self.nodes = nodes
        self.patches: list[tuple[str, dict[str, Any]]] = []

    async def patch(self, res: resources.Resource, name: str, patch: dict[str, Any], namespace: str | None = None,
                    **_kw: Any) -> dict[str, Any]:
        self.patches.append((name, patch))
        node = copy.deepcopy(self.nodes.store[name])
        node["metadata"].setdefault("annotations", {}).update(patch["metadata"]["annotations"])
        self.nodes.store[name] = node
        return node


def node(name: str, cidr: str | None = None, *, backend: str | None = None, ip: str = "",
         mac: str = "") -> dict[str, Any]:
    obj: dict[str, Any] = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name}, "spec": {}}
    if cidr:
        obj["spec"]["podCIDR"] = cidr
    if backend:
        data = {"VNI": 1, "VtepMAC": mac} if backend == "vxlan" else None
        obj["metadata"]["annotations"] = subnet.node_annotations(backend, ip, data)
    return obj


class World:
    def __init__(self, backend: str = "vxlan", cni_conf_dir: str = "") -> None:
        self.kernel = FakeKernel()
        self.run = runner_mod.FakeRunner()
        self.run.responders.append(self.kernel)
        self.nodes = informer_mod.Informer(None, NODES)  # type: ignore[arg-type] - never started
        self.client = FakeClient(self.nodes)
        cfg = agent_mod.Config(node_name="n1", backend=backend, cni_conf_dir=cni_conf_dir,
                               cni_data_dir="/state/n1/cni/networks")
        self.agent = agent_mod.NetworkAgent(cfg, self.client, self.run,  # type: ignore[arg-type]
                                            agent_mod.make_backend(cfg, self.run, IFACE), IFACE, self.nodes)

    def put(self, *objs: dict[str, Any]) -> None:
        for obj in objs:
            self.nodes.store[obj["metadata"]["name"]] = obj

    async def sync(self) -> list[str]:
        self.run.calls.clear()
        await self.agent.sync()
        return self.run.commands()


def _path_commands(cmds: list[str]) -> list[str]:
    """The commands about paths to other nodes (not device setup, not iptables)."""
    return [c for c in cmds if c.split()[:2] in (["ip", "route"], ["ip", "neigh"], ["bridge", "fdb"])]


MAC2, MAC3 = "aa:00:00:00:00:02", "aa:00:00:00:00:03"


async def test_vxlan_first_sync_sets_up_the_device_publishes_and_programs_every_ready_peer() -> None:
    w = World()
    w.put(node("n1", "10.244.1.0/24"),
          node("n2", "10.244.2.0/24", backend="vxlan", ip="172.31.0.12", mac=MAC2),
          node("n3", "10.244.3.0/24", backend="vxlan", ip="172.31.0.13", mac=MAC3),
          node("n4", "10.244.4.0/24"),  # its agent has not published yet
          node("n5", "10.244.5.0/24", backend="host-gw", ip="172.31.0.15"),  # another backend
          node("n6", "10.99.0.0/24", backend="vxlan", ip="172.31.0.16", mac="aa:00:00:00:00:06"))  # outside
    cmds = await w.sync()
    assert cmds[:4] == [
        "ip link add flannel.1 type vxlan id 1 local 172.31.0.11 dev eth0 dstport 8472 nolearning",
        "ip link set dev flannel.1 mtu 1450",
        "ip addr add 10.244.1.0/32 dev flannel.1",
        "ip link set dev flannel.1 up",
    ]
    assert _path_commands(cmds) == [
        f"bridge fdb replace {MAC2} dev flannel.1 dst 172.31.0.12 self permanent",
        f"bridge fdb replace {MAC3} dev flannel.1 dst 172.31.0.13 self permanent",
        f"ip neigh replace 10.244.2.0 lladdr {MAC2} dev flannel.1 nud permanent",
        f"ip neigh replace 10.244.3.0 lladdr {MAC3} dev flannel.1 nud permanent",
        "ip route replace 10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink",
        "ip route replace 10.244.3.0/24 via 10.244.3.0 dev flannel.1 onlink",
    ]
    assert w.client.patches == [("n1", {"metadata": {"annotations": {
        "flannel.alpha.coreos.com/backend-type": "vxlan",
        "flannel.alpha.coreos.com/backend-data": '{"VNI":1,"VtepMAC":"0e:00:00:00:00:01"}',
        "flannel.alpha.coreos.com/public-ip": "172.31.0.11",
        "flannel.alpha.coreos.com/kube-subnet-manager": "true"}}})]
    assert any(c.startswith("iptables-restore") for c in cmds)
    assert w.agent.ready.is_set()
    # Level-triggered and converged: the same world again needs no command and no write.
    assert await w.sync() == []
    assert len(w.client.patches) == 1


async def test_vxlan_follows_node_add_change_and_delete() -> None:
    w = World()
    w.put(node("n1", "10.244.1.0/24"), node("n2", "10.244.2.0/24", backend="vxlan", ip="172.31.0.12", mac=MAC2))
    await w.sync()
    # n3 joins.
    w.put(node("n3", "10.244.3.0/24", backend="vxlan", ip="172.31.0.13", mac=MAC3))
    assert await w.sync() == [
        f"bridge fdb replace {MAC3} dev flannel.1 dst 172.31.0.13 self permanent",
        f"ip neigh replace 10.244.3.0 lladdr {MAC3} dev flannel.1 nud permanent",
        "ip route replace 10.244.3.0/24 via 10.244.3.0 dev flannel.1 onlink",
    ]
    # n2's agent restarted and recreated its device: a new VTEP MAC.
    w.put(node("n2", "10.244.2.0/24", backend="vxlan", ip="172.31.0.12", mac="aa:00:00:00:00:22"))
    assert await w.sync() == [
        f"bridge fdb del {MAC2} dev flannel.1 dst 172.31.0.12 self",
        "bridge fdb replace aa:00:00:00:00:22 dev flannel.1 dst 172.31.0.12 self permanent",
        "ip neigh replace 10.244.2.0 lladdr aa:00:00:00:00:22 dev flannel.1 nud permanent",
    ]
    # n3 is deleted.
    del w.nodes.store["n3"]
    assert await w.sync() == [
        "ip route del 10.244.3.0/24 via 10.244.3.0 dev flannel.1",
        "ip neigh del 10.244.3.0 dev flannel.1",
        f"bridge fdb del {MAC3} dev flannel.1 dst 172.31.0.13 self",
    ]
    assert set(w.kernel.routes) == {"10.244.1.0/24", "10.244.2.0/24"}


async def test_host_gw_routes_via_node_ips_and_follows_changes() -> None:
    w = World("host-gw")
    w.put(node("n1", "10.244.1.0/24"),
          node("n2", "10.244.2.0/24", backend="host-gw", ip="172.31.0.12"),
          node("n3", "10.244.3.0/24", backend="host-gw", ip="172.31.0.13"),
          node("n4", "10.244.4.0/24", backend="vxlan", ip="172.31.0.14", mac="aa:00:00:00:00:04"))
    cmds = await w.sync()
    assert not any("flannel" in c for c in cmds)
    assert _path_commands(cmds) == ["ip route replace 10.244.2.0/24 via 172.31.0.12 dev eth0",
                                    "ip route replace 10.244.3.0/24 via 172.31.0.13 dev eth0"]
    assert w.client.patches[0][1]["metadata"]["annotations"]["flannel.alpha.coreos.com/backend-data"] == "null"
    assert await w.sync() == []
    # n3 moves to another address; n2 goes away.
    w.put(node("n3", "10.244.3.0/24", backend="host-gw", ip="172.31.0.23"))
    del w.nodes.store["n2"]
    assert await w.sync() == ["ip route del 10.244.2.0/24 via 172.31.0.12 dev eth0",
                              "ip route replace 10.244.3.0/24 via 172.31.0.23 dev eth0"]


async def test_waits_for_its_pod_cidr_and_does_nothing_meanwhile() -> None:
    w = World()
    assert await w.sync() == []  # not registered
    w.put(node("n1"), node("n2", "10.244.2.0/24", backend="vxlan", ip="172.31.0.12", mac=MAC2))
    assert await w.sync() == []
    assert w.client.patches == [] and not w.agent.ready.is_set()


async def test_a_pod_cidr_outside_the_cluster_cidr_fails_the_sync() -> None:
    w = World()
    w.put(node("n1", "10.99.1.0/24"))
    with pytest.raises(agent_mod.SyncFailed):
        await w.sync()


async def test_a_device_with_other_settings_is_recreated_and_a_stale_address_replaced() -> None:
    w = World()
    w.put(node("n1", "10.244.1.0/24"))
    await w.sync()
    w.kernel.links["flannel.1"]["info"]["local"] = "172.31.0.99"
    cmds = await w.sync()
    assert cmds[:2] == ["ip link del flannel.1",
                        "ip link add flannel.1 type vxlan id 1 local 172.31.0.11 dev eth0 dstport 8472 nolearning"]
    # A new MAC: published again.
    assert w.client.patches[-1][1]["metadata"]["annotations"][subnet.BACKEND_DATA] == \
        '{"VNI":1,"VtepMAC":"0e:00:00:00:00:02"}'
    moved = copy.deepcopy(w.nodes.store["n1"])
    moved["spec"]["podCIDR"] = "10.244.7.0/24"
    w.put(moved)
    cmds = await w.sync()
    assert "ip addr del 10.244.1.0/32 dev flannel.1" in cmds and "ip addr add 10.244.7.0/32 dev flannel.1" in cmds


async def test_one_failing_route_does_not_stop_the_others_and_fails_the_sync() -> None:
    w = World("host-gw")
    w.put(node("n1", "10.244.1.0/24"), node("n2", "10.244.2.0/24", backend="host-gw", ip="192.168.9.9"),
          node("n3", "10.244.3.0/24", backend="host-gw", ip="172.31.0.13"))

    def unreachable(argv: tuple[str, ...], _input: str | None) -> runner_mod.Result | None:
        if "192.168.9.9" in argv and "replace" in argv:
            return runner_mod.Result(2, "", "Error: Nexthop has invalid gateway.")
        return None

    w.run.responders.insert(0, unreachable)
    with pytest.raises(agent_mod.SyncFailed):
        await w.sync()
    assert "10.244.3.0/24" in w.kernel.routes


async def test_node_updates_enqueue_only_when_network_fields_change() -> None:
    w = World()
    old = node("n2", "10.244.2.0/24", backend="vxlan", ip="172.31.0.12", mac=MAC2)
    heartbeat = copy.deepcopy(old)
    heartbeat["status"] = {"conditions": [{"type": "Ready", "status": "True"}]}
    w.agent._node_updated(old, heartbeat)
    assert len(w.agent.queue) == 0
    w.agent._node_updated(old, node("n2", "10.244.2.0/24", backend="vxlan", ip="172.31.0.12", mac=MAC3))
    assert len(w.agent.queue) == 1


async def test_cleanup_removes_device_routes_and_rules_from_both_backends() -> None:
    w = World()
    w.put(node("n1", "10.244.1.0/24"), node("n2", "10.244.2.0/24", backend="vxlan", ip="172.31.0.12", mac=MAC2))
    await w.sync()
    w.kernel.routes["10.244.9.0/24"] = {"dst": "10.244.9.0/24", "gateway": "172.31.0.19", "dev": "eth0",
                                        "flags": []}  # a host-gw leftover
    await agent_mod.cleanup(agent_mod.Config(node_name="n1"), w.run)
    assert w.kernel.links == {} and w.kernel.fdb == set() and w.kernel.neigh == {}
    assert list(w.kernel.routes) == ["10.244.1.0/24"]  # the pod bridge's own route stays
    assert not any(iptables.COMMENT in line or iptables.NAT_CHAIN in line
                   for lines in w.kernel.tables.values() for line in lines)
    assert "-N DOCKER-USER" not in w.kernel.tables["filter"]  # we made it, we removed it


async def test_cleanup_removes_the_cni_configuration_and_an_empty_pod_bridge(tmp_path: Any) -> None:
    w = World(cni_conf_dir=str(tmp_path))
    w.put(node("n1", "10.244.1.0/24"))
    await w.sync()
    assert (tmp_path / cniconfig.FILE_NAME).exists()
    w.kernel.links["cni0"] = {"mac": "0e:00:00:00:00:99", "mtu": 1500, "up": True, "addrs": [], "info": {}}
    w.kernel.links["veth1"] = {"mac": "0e:00:00:00:00:98", "mtu": 1500, "up": True, "addrs": [], "info": {},
                               "master": "cni0"}
    cfg = agent_mod.Config(node_name="n1", cni_conf_dir=str(tmp_path))
    await agent_mod.cleanup(cfg, w.run)
    assert not (tmp_path / cniconfig.FILE_NAME).exists()
    assert "cni0" in w.kernel.links, "a bridge with a pod on it stays"
    del w.kernel.links["veth1"]
    await agent_mod.cleanup(cfg, w.run)
    assert "cni0" not in w.kernel.links


@pytest.mark.parametrize("backend,mtu", [("vxlan", 1450), ("host-gw", None)])
async def test_the_kubelets_cni_configuration_is_written_from_the_pod_cidr(tmp_path: Any, backend: str,
                                                                           mtu: int | None) -> None:
    w = World(backend, cni_conf_dir=str(tmp_path))
    w.put(node("n1", None))
    await w.sync()
    assert not (tmp_path / cniconfig.FILE_NAME).exists(), "no pod CIDR yet, no configuration"
    w.put(node("n1", "10.244.1.0/24"))
    await w.sync()
    doc = json.loads((tmp_path / cniconfig.FILE_NAME).read_text())
    assert doc["cniVersion"] == "1.0.0" and doc["name"] == "minik8s"
    bridge, portmap = doc["plugins"]
    assert bridge["type"] == "bridge" and bridge["bridge"] == "cni0" and bridge["isGateway"]
    assert bridge["hairpinMode"] is True
    assert bridge["ipMasq"] is False, "the agent masquerades what leaves the cluster; the bridge must not"
    assert bridge.get("mtu") == mtu
    assert bridge["ipam"] == {"type": "host-local", "ranges": [[{"subnet": "10.244.1.0/24"}]],
                              "routes": [{"dst": "0.0.0.0/0"}], "dataDir": "/state/n1/cni/networks"}
    assert portmap == {"type": "portmap", "capabilities": {"portMappings": True}, "snat": True}
    # The masquerade rules the pods need are in place before the kubelet may use the file.
    assert any(iptables.NAT_CHAIN in line for line in w.kernel.tables["nat"])
    # A resync of an unchanged world does not rewrite it.
    before = (tmp_path / cniconfig.FILE_NAME).stat().st_mtime_ns
    await w.sync()
    assert (tmp_path / cniconfig.FILE_NAME).stat().st_mtime_ns == before


def test_leases_skip_self_incomplete_and_foreign_nodes() -> None:
    nodes = [node("n1", "10.244.1.0/24", backend="vxlan", ip="172.31.0.11", mac="aa:00:00:00:00:01"),
             node("n2", "10.244.2.0/24", backend="vxlan", ip="172.31.0.12", mac=MAC2.upper()),
             node("n3", "10.244.3.0/24", backend="vxlan", ip="not-an-ip", mac=MAC3),
             node("n4", None, backend="vxlan", ip="172.31.0.14", mac="aa:00:00:00:00:04")]
    leases = subnet.leases(nodes, own_node="n1", backend_type="vxlan",
                           cluster_cidr=ipaddress.IPv4Network("10.244.0.0/16"))
    assert leases == [subnet.Lease("n2", ipaddress.IPv4Network("10.244.2.0/24"), "172.31.0.12", "vxlan",
                                   vtep_mac=MAC2, vni=1)]


def test_enable_forwarding_writes_1_only_when_needed(tmp_path: Any) -> None:
    path = tmp_path / "ip_forward"
    path.write_text("0\n")
    agent_mod.enable_forwarding(str(path))
    assert path.read_text() == "1\n"
    path.write_text("1\n")
    mtime = path.stat().st_mtime_ns
    agent_mod.enable_forwarding(str(path))
    assert path.stat().st_mtime_ns == mtime
