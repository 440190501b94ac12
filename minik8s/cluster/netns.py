"""The local cluster's wiring: one host bridge, a network namespace per node, iptables.

    host: bridge mk8s-<cluster> 172.31.0.1/24 ─┬─ veth mk-<cluster>-1 ══ eth0 172.31.0.11 (netns mk8s-<cluster>-node1)
                                               ├─ veth mk-<cluster>-2 ══ eth0 172.31.0.12 (netns mk8s-<cluster>-node2)
                                               └─ ...

Inside a namespace eth0 carries the node address, the default route points at the
bridge address (where the master listens), and lo is up. Namespaces are created and
entered with `ip -n` and `nsenter --net`, never `ip netns exec`: that one also
remounts /sys, which hides the cgroup mounts a dockerd needs.

The only host iptables rule is an ACCEPT for traffic between the bridge's ports:
Docker sets the host's FORWARD policy to DROP, and with br_netfilter loaded bridged
frames pass through FORWARD too. Rules carry the comment `minik8s-cluster-<cluster>`,
by which `cluster down` finds them again, even after a crash.
"""
from __future__ import annotations

import contextlib
import os
import shlex

from minik8s.cluster import host

NETNS_DIR = "/run/netns"
IFF_UP = 0x1


def netns_path(name: str) -> str:
    return os.path.join(NETNS_DIR, name)


def netns_exists(name: str) -> bool:
    return os.path.exists(netns_path(name))


def netns_list(prefix: str = "") -> list[str]:
    try:
        names = os.listdir(NETNS_DIR)
    except FileNotFoundError:
        return []
    return sorted(n for n in names if n.startswith(prefix))


def link_exists(name: str) -> bool:
    return os.path.exists(f"/sys/class/net/{name}")


def link_is_up(name: str) -> bool:
    try:
        with open(f"/sys/class/net/{name}/flags", encoding="ascii") as f:
            return bool(int(f.read().strip(), 16) & IFF_UP)
    except (OSError, ValueError):
        return False


def nsenter(ns: str) -> list[str]:
    """The prefix that runs a command in namespace `ns`'s network (and nothing else)."""
    return [host.which("nsenter"), f"--net={netns_path(ns)}", "--"]


def ensure_bridge(name: str, address: str) -> None:
    """Bridge `name` with `address` (CIDR form, e.g. 172.31.0.1/24), up."""
    if not link_exists(name):
        host.run(["ip", "link", "add", name, "type", "bridge"])
    addrs = host.run(["ip", "-o", "-4", "addr", "show", "dev", name]).stdout
    if f" {address} " not in addrs:
        host.run(["ip", "addr", "add", address, "dev", name])
    host.run(["ip", "link", "set", name, "up"])


def create_node_netns(ns: str, veth: str, bridge: str, address: str, gateway: str) -> None:
    """Namespace `ns` whose eth0 (the peer of host link `veth`, a port of `bridge`)
    has `address` (CIDR form) and a default route via `gateway`."""
    if netns_exists(ns):
        host.run(["ip", "netns", "del", ns])
    if link_exists(veth):
        host.run(["ip", "link", "del", veth])
    host.run(["ip", "netns", "add", ns])
    host.run(["ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns])
    host.run(["ip", "link", "set", veth, "master", bridge, "up"])
    host.run(["ip", "-n", ns, "link", "set", "lo", "up"])
    host.run(["ip", "-n", ns, "addr", "add", address, "dev", "eth0"])
    host.run(["ip", "-n", ns, "link", "set", "eth0", "up"])
    host.run(["ip", "-n", ns, "route", "add", "default", "via", gateway])


def delete_netns(ns: str) -> None:
    """Remove namespace `ns`; its eth0, and so the veth pair, goes with it."""
    if netns_exists(ns):
        host.run(["ip", "netns", "del", ns])
    # A namespace file whose mount is already gone (a half-finished delete) is left behind.
    with contextlib.suppress(FileNotFoundError, IsADirectoryError, PermissionError):
        os.unlink(netns_path(ns))


def delete_link(name: str) -> None:
    if not link_exists(name):
        return
    done = host.run(["ip", "link", "del", name], check=False)
    # A veth vanishes by itself once its peer's namespace is gone, possibly meanwhile.
    if done.returncode != 0 and link_exists(name):
        raise host.ClusterError(f"`ip link del {name}` failed: {done.stderr.strip()}")


def set_link(name: str, up: bool) -> None:
    host.run(["ip", "link", "set", name, "up" if up else "down"])


def routes_overlapping(cidr: str) -> list[str]:
    """Host IPv4 routes that overlap `cidr` (another network already using the range)."""
    import ipaddress

    want = ipaddress.ip_network(cidr, strict=False)
    out = []
    for line in host.run(["ip", "-4", "route", "show"]).stdout.splitlines():
        dest = line.split(" ", 1)[0]
        if dest == "default":
            continue
        try:
            net = ipaddress.ip_network(dest, strict=False)
        except ValueError:
            continue
        if net.overlaps(want):
            out.append(line.strip())
    return out


# --- iptables -----------------------------------------------------------------------------

TABLES = ("filter", "nat", "mangle", "raw")


def forward_rule(bridge: str, tag: str) -> list[str]:
    return ["FORWARD", "-i", bridge, "-o", bridge, "-m", "comment", "--comment", tag, "-j", "ACCEPT"]


def ensure_rule(table: str, rule: list[str]) -> None:
    """Insert `rule` (chain first) at the top of its chain unless it is there already."""
    chain, spec = rule[0], rule[1:]
    check = host.run(["iptables", "-w", "-t", table, "-C", chain, *spec], check=False)
    if check.returncode != 0:
        host.run(["iptables", "-w", "-t", table, "-I", chain, "1", *spec])


def tagged_rules(listing: str, tag: str) -> list[list[str]]:
    """From `iptables -S` output, the rules (as -D arguments) whose comment is `tag`."""
    out = []
    for line in listing.splitlines():
        if not line.startswith("-A "):
            continue
        words = shlex.split(line)
        if any(w == "--comment" and i + 1 < len(words) and words[i + 1] == tag for i, w in enumerate(words)):
            out.append(["-D", *words[1:]])
    return out


def remove_tagged_rules(tag: str) -> int:
    """Delete every host rule carrying comment `tag`, in every table; how many."""
    if not _have_iptables():
        return 0
    removed = 0
    for table in TABLES:
        listing = host.run(["iptables", "-w", "-t", table, "-S"], check=False)
        if listing.returncode != 0:
            continue  # table not available in this kernel
        for rule in tagged_rules(listing.stdout, tag):
            host.run(["iptables", "-w", "-t", table, *rule])
            removed += 1
    return removed


def rules_with_tag(tag: str) -> list[str]:
    """The host's rules (as `iptables -S` lines, with table) that carry `tag`."""
    if not _have_iptables():
        return []
    found = []
    for table in TABLES:
        listing = host.run(["iptables", "-w", "-t", table, "-S"], check=False)
        found += [f"{table}: {' '.join(rule[1:])}" for rule in tagged_rules(listing.stdout, tag)]
    return found


def _have_iptables() -> bool:
    try:
        host.which("iptables")
    except host.ClusterError:
        return False
    return True
