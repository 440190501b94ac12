"""The kubelet's CNI layer against the recording FakeExec (and one real exec of a script plugin)."""
from __future__ import annotations

import json
import os
import pathlib
import stat

import pytest

from minik8s.kubelet import cni
from minik8s.network import cniconfig

NETNS = "/proc/4242/ns/net"
POD = cni.PodRef("ns1", "web-0", "uid-1")


def write_conf(conf_dir: pathlib.Path, doc: dict, name: str = cniconfig.FILE_NAME) -> None:
    conf_dir.mkdir(parents=True, exist_ok=True)
    (conf_dir / name).write_text(json.dumps(doc))


def make(tmp_path: pathlib.Path, *, loopback: bool = True, doc: dict | None = None
         ) -> tuple[cni.PodNetwork, cni.FakeExec]:
    exec_ = cni.FakeExec()
    conf = tmp_path / "net.d"
    write_conf(conf, doc or cniconfig.conflist("10.244.1.0/24", data_dir=str(tmp_path / "ipam")))
    net = cni.PodNetwork(cni.CNI(exec_, ["/fake/cni"], str(tmp_path / "cache")), str(conf), loopback=loopback)
    return net, exec_


def test_the_first_configuration_by_file_name_is_used_and_broken_ones_are_skipped(tmp_path: pathlib.Path) -> None:
    (tmp_path / "00-broken.conflist").write_text("{not json")
    write_conf(tmp_path, {"cniVersion": "1.0.0", "name": "single", "type": "bridge"}, "20-single.conf")
    write_conf(tmp_path, {"cniVersion": "1.0.0", "name": "second", "plugins": [{"type": "ptp"}]}, "30-x.conflist")
    (tmp_path / "05-readme.txt").write_text("not a configuration")
    net = cni.find_conf_list(str(tmp_path))
    assert net is not None and net.name == "single" and net.plugins == ({"type": "bridge"},)
    assert cni.find_conf_list(str(tmp_path / "missing")) is None


async def test_add_runs_the_list_in_order_chaining_results(tmp_path: pathlib.Path) -> None:
    net, exec_ = make(tmp_path, loopback=False)
    ports = [cni.PortMapping(8080, 80, "TCP", "")]
    ip = await net.setup("sandbox1", NETNS, POD, ports)

    assert ip == "10.244.1.2"
    assert exec_.commands() == [("bridge", "ADD", "sandbox1"), ("portmap", "ADD", "sandbox1")]
    env = exec_.envs[0]
    assert env["CNI_COMMAND"] == "ADD" and env["CNI_CONTAINERID"] == "sandbox1" and env["CNI_NETNS"] == NETNS
    assert env["CNI_IFNAME"] == "eth0" and env["CNI_PATH"] == "/fake/cni"
    assert env["CNI_ARGS"] == ("IgnoreUnknown=1;K8S_POD_NAMESPACE=ns1;K8S_POD_NAME=web-0;"
                               "K8S_POD_INFRA_CONTAINER_ID=sandbox1;K8S_POD_UID=uid-1")
    bridge_conf, portmap_conf = exec_.calls[0][3], exec_.calls[1][3]
    assert bridge_conf["name"] == "minik8s" and bridge_conf["cniVersion"] == "1.0.0"
    assert "prevResult" not in bridge_conf and "runtimeConfig" not in bridge_conf
    # The second plugin gets the first one's result, and the capability it declared.
    assert portmap_conf["prevResult"]["ips"][0]["address"] == "10.244.1.2/24"
    assert portmap_conf["runtimeConfig"] == {"portMappings": [
        {"hostPort": 8080, "containerPort": 80, "protocol": "tcp", "hostIP": ""}]}


async def test_the_ip_survives_a_restart_through_the_result_cache(tmp_path: pathlib.Path) -> None:
    net, _ = make(tmp_path)
    await net.setup("sandbox1", NETNS, POD)
    again, exec_ = make(tmp_path)  # a new kubelet process: nothing in memory
    assert again.ip("sandbox1") == "10.244.1.2"
    assert again.ip("other") == ""
    assert exec_.calls == []
    cached = again.cni.cached("minik8s", "sandbox1")
    assert cached is not None and cached.result is not None and cached.args[1] == ("K8S_POD_NAMESPACE", "ns1")


async def test_teardown_deletes_in_reverse_order_with_the_cached_result(tmp_path: pathlib.Path) -> None:
    net, exec_ = make(tmp_path)
    await net.setup("sandbox1", NETNS, POD, [cni.PortMapping(8080, 80, "tcp")])
    exec_.calls.clear()
    await net.teardown("sandbox1", NETNS)

    main = [c for c in exec_.commands() if c[0] != "loopback"]
    assert main == [("portmap", "DEL", "sandbox1"), ("bridge", "DEL", "sandbox1")]
    assert ("loopback", "DEL", "sandbox1") in exec_.commands()
    portmap_del = exec_.calls[[c[:3] for c in exec_.calls].index(("portmap", "DEL", "sandbox1"))][3]
    assert portmap_del["prevResult"]["ips"][0]["address"] == "10.244.1.2/24"
    assert portmap_del["runtimeConfig"]["portMappings"][0]["hostPort"] == 8080, "DEL sees what ADD saw"
    assert net.ip("sandbox1") == "" and net.attached() == set()
    assert exec_.allocated == {}


async def test_a_changed_configuration_does_not_change_what_del_is_given(tmp_path: pathlib.Path) -> None:
    net, exec_ = make(tmp_path, loopback=False)
    await net.setup("sandbox1", NETNS, POD)
    write_conf(tmp_path / "net.d", cniconfig.conflist("10.244.7.0/24", bridge="other0"))
    exec_.calls.clear()
    await net.teardown("sandbox1", "")
    bridge_del = [c for c in exec_.calls if c[0] == "bridge"][0][3]
    assert bridge_del["bridge"] == "cni0" and bridge_del["ipam"]["ranges"] == [[{"subnet": "10.244.1.0/24"}]]


async def test_a_failed_add_leaves_a_record_that_gc_releases(tmp_path: pathlib.Path) -> None:
    net, exec_ = make(tmp_path, loopback=False)
    exec_.fail[("portmap", "ADD")] = cni.CNIError("plugin portmap failed: boom", 7)
    with pytest.raises(cni.CNIError):
        await net.setup("sandbox1", NETNS, POD)
    # The bridge gave out an address: the record of the attempt is what lets it be released.
    assert exec_.allocated == {"sandbox1": "10.244.1.2"}
    record = net.cni.cached("minik8s", "sandbox1")
    assert record is not None and record.result is None
    snapshot = net.attached()
    released = await net.gc(snapshot, live=set())
    assert released == ["sandbox1"]
    assert exec_.allocated == {} and net.attached() == set()


async def test_gc_spares_live_sandboxes_those_being_added_and_those_not_in_the_snapshot(
        tmp_path: pathlib.Path) -> None:
    net, exec_ = make(tmp_path, loopback=False)
    await net.setup("live", NETNS, POD)
    await net.setup("dead", NETNS, POD)
    snapshot = net.attached()
    await net.setup("newer", NETNS, POD)  # set up after the snapshot: the engine listing may not show it
    net._adding.add("dead")
    assert await net.gc(snapshot, live={"live"}) == []
    net._adding.clear()
    assert await net.gc(snapshot, live={"live"}) == ["dead"]
    assert net.attached() == {"live", "newer"}
    assert set(exec_.allocated) == {"live", "newer"}


async def test_check_failure_makes_the_ip_read_empty_so_the_sandbox_is_recreated(tmp_path: pathlib.Path) -> None:
    net, exec_ = make(tmp_path, loopback=False)
    await net.setup("sandbox1", NETNS, POD)
    assert await net.check("sandbox1", NETNS)
    checks = [c for c in exec_.calls if c[1] == "CHECK"]
    assert [c[0] for c in checks] == ["bridge", "portmap"]
    assert checks[0][3]["prevResult"]["ips"][0]["address"] == "10.244.1.2/24"
    exec_.fail[("bridge", "CHECK")] = cni.CNIError("plugin bridge failed: veth gone")
    assert not await net.check("sandbox1", NETNS)
    assert net.ip("sandbox1") == ""


async def test_status_says_why_pods_cannot_be_networked(tmp_path: pathlib.Path) -> None:
    exec_ = cni.FakeExec(plugins=("bridge", "loopback"))
    net = cni.PodNetwork(cni.CNI(exec_, ["/fake/cni"], str(tmp_path / "cache")), str(tmp_path / "net.d"))
    assert net.status().startswith("cni config uninitialized")
    with pytest.raises(cni.NotReady):
        await net.setup("s", NETNS, POD)
    write_conf(tmp_path / "net.d", cniconfig.conflist("10.244.1.0/24"))
    assert net.status() == "CNI plugins not found in ['/fake/cni']: portmap"
    exec_.plugins.add("portmap")
    assert net.status() == ""


async def test_loopback_is_set_up_beside_the_pod_network(tmp_path: pathlib.Path) -> None:
    net, exec_ = make(tmp_path)
    await net.setup("sandbox1", NETNS, POD)
    lo = [c for c in exec_.calls if c[0] == "loopback"]
    assert len(lo) == 1 and lo[0][3]["name"] == "cni-loopback"
    assert exec_.envs[[c[0] for c in exec_.calls].index("loopback")]["CNI_IFNAME"] == "lo"
    assert net.ip("sandbox1") == "10.244.1.2", "the pod IP is eth0's, not loopback's"


async def test_gc_command_only_for_lists_of_spec_1_1(tmp_path: pathlib.Path) -> None:
    doc = cniconfig.conflist("10.244.1.0/24")
    doc["cniVersion"] = "1.1.0"
    net, exec_ = make(tmp_path, loopback=False, doc=doc)
    await net.setup("sandbox1", NETNS, POD)
    await net.gc(net.attached(), live={"sandbox1"})
    gcs = [c for c in exec_.calls if c[1] == "GC"]
    assert [c[0] for c in gcs] == ["bridge", "portmap"]
    assert gcs[0][3]["cni.dev/valid-attachments"] == [{"containerID": "sandbox1", "ifname": "eth0"}]
    net10, exec10 = make(tmp_path / "v10", loopback=False)
    await net10.gc(set(), live=set())
    assert not [c for c in exec10.calls if c[1] == "GC"]


def test_result_ip_picks_the_sandbox_interfaces_ipv4() -> None:
    result = {"interfaces": [{"name": "cni0"}, {"name": "vethX"}, {"name": "eth0", "sandbox": NETNS}],
              "ips": [{"address": "fd00::5/64", "interface": 2}, {"address": "10.0.0.9/24", "interface": 0},
                      {"address": "10.244.3.7/24", "interface": 2}]}
    assert cni.result_ip(result) == "10.244.3.7"
    assert cni.result_ip({"ips": [{"address": "10.1.1.1/16"}]}) == "10.1.1.1"
    assert cni.result_ip(None) == "" and cni.result_ip({}) == ""


async def test_a_real_plugin_process_and_its_error_result(tmp_path: pathlib.Path) -> None:
    """ExecPlugins runs the binary with the environment and stdin the spec names, and turns
    the plugin's error JSON into a CNIError carrying its code and message."""
    plugin = tmp_path / "echo-plugin"
    plugin.write_text('#!/bin/sh\nconf=$(cat)\n'
                      'if [ "$CNI_COMMAND" = ADD ]; then\n'
                      '  printf \'{"cniVersion":"1.0.0","ips":[{"address":"10.9.0.5/24"}],"seen":"%s %s"}\' '
                      '"$CNI_CONTAINERID" "$CNI_IFNAME"\n'
                      'else\n  printf \'{"cniVersion":"1.0.0","code":11,"msg":"try again later","details":"%s"}\' '
                      '"$CNI_COMMAND"; exit 1\nfi\n')
    plugin.chmod(plugin.stat().st_mode | stat.S_IXUSR)
    runner = cni.ExecPlugins(timeout=10)
    assert runner.find("echo-plugin", ["/nonexistent", str(tmp_path)]) == str(plugin)
    network = cni.NetworkConfigList.from_obj({"cniVersion": "1.0.0", "name": "n", "plugins": [{"type": "echo-plugin"}]})
    c = cni.CNI(runner, [str(tmp_path)], str(tmp_path / "cache"))
    result = await c.add(network, cni.RuntimeConf("abc", "/proc/1/ns/net", "eth0"))
    assert result["seen"] == "abc eth0" and cni.result_ip(result) == "10.9.0.5"
    with pytest.raises(cni.CNIError) as e:
        await c.delete(network, cni.RuntimeConf("abc", "", "eth0"))
    assert e.value.code == 11 and e.value.msg == "plugin echo-plugin failed: try again later"
    assert e.value.details == "DEL"
    assert c.cached("n", "abc") is not None, "a failed DEL keeps the record for the next GC"
    assert os.listdir(tmp_path / "cache" / "results") == ["n-abc-eth0"]
