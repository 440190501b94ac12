"""Parsing what the host reports: mount tables, iptables listings, cgroup files."""
from __future__ import annotations

from minik8s.cluster import cgroups
from minik8s.cluster import mounts
from minik8s.cluster import netns

MOUNTINFO = """\
22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
100 22 8:1 /var/lib/x/nodes/n1/docker /var/lib/x/nodes/n1/docker rw - ext4 /dev/sda1 rw
101 100 0:50 / /var/lib/x/nodes/n1/docker/overlay2/abc/merged rw - overlay overlay rw,lowerdir=a
102 22 0:4 net:[4026532] /var/lib/x/nodes/n1/run/docker/netns/1f rw - nsfs nsfs rw
103 22 0:4 net:[4026533] /run/netns/mk8s-x-n1 rw - nsfs nsfs rw
104 22 0:51 / /var/lib/x-other/with\\040space rw - tmpfs tmpfs rw
105 22 0:52 / /var/lib/x rw - tmpfs tmpfs rw
"""


def test_parse_mountinfo_unescapes() -> None:
    table = mounts.parse_mountinfo(MOUNTINFO)
    assert table[5].mountpoint == "/var/lib/x-other/with space"
    assert table[2].fstype == "overlay"


def test_under_is_deepest_first_and_respects_path_boundaries() -> None:
    table = mounts.parse_mountinfo(MOUNTINFO)
    found = [m.mountpoint for m in mounts.under("/var/lib/x", table)]
    assert sorted(found) == sorted([
        "/var/lib/x/nodes/n1/docker/overlay2/abc/merged",
        "/var/lib/x/nodes/n1/run/docker/netns/1f",
        "/var/lib/x/nodes/n1/docker",
        "/var/lib/x",
    ])
    # A mount comes before every mount it sits on (unmounting the parent first would fail).
    for i, inner in enumerate(found):
        assert not any(mounts.is_under(inner, outer) for outer in found[:i]), found


IPTABLES_S = """\
-P FORWARD DROP
-A FORWARD -j DOCKER-USER
-A FORWARD -i mk8s-e2e -o mk8s-e2e -m comment --comment minik8s-cluster-e2e -j ACCEPT
-A FORWARD -i mk8s-e2e2 -o mk8s-e2e2 -m comment --comment minik8s-cluster-e2e2 -j ACCEPT
-A FORWARD -m comment --comment "minik8s-cluster-e2e extra" -j ACCEPT
"""


def test_tagged_rules_match_the_exact_tag() -> None:
    rules = netns.tagged_rules(IPTABLES_S, "minik8s-cluster-e2e")
    assert rules == [["-D", "FORWARD", "-i", "mk8s-e2e", "-o", "mk8s-e2e", "-m", "comment", "--comment",
                      "minik8s-cluster-e2e", "-j", "ACCEPT"]]


def test_forward_rule_carries_the_tag() -> None:
    rule = netns.forward_rule("mk8s-e2e", "minik8s-cluster-e2e")
    line = "-A " + " ".join(rule)
    assert netns.tagged_rules(line, "minik8s-cluster-e2e") == [["-D", *rule]]


def test_cgroup_v1_pids_line() -> None:
    assert cgroups.v1_line_matches("8:pids:/minik8s-cluster/e2e/node1/system")
    assert not cgroups.v1_line_matches("4:memory:/minik8s-cluster/e2e/node1/system")
    assert not cgroups.v1_line_matches("0::/minik8s-cluster/e2e")
    assert cgroups.cluster_path("e2e", "node1", "pods") == "minik8s-cluster/e2e/node1/pods"
