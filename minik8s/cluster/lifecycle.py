"""`minik8s cluster up/down/...`: bringing a whole local cluster up, breaking it, taking it away.

`up` works in parallel where it can: the host engine checks (and builds) the
project's images while the master starts and each node boots its engine; then each
node gets the images and its kubelet, and `up` returns when every node is Ready.

`down` is written for the worst case, because it also runs after a crash or a
killed test run: first the orderly path through what cluster.json records (agents,
containers through each engine, engines, master), then a sweep by name that finds
whatever is left without any record: every process in the cluster's cgroup, every
mount under the state directory, every namespace `mk8s-<c>-*`, every link
`mk-<c>-*` and the bridge, every iptables rule tagged `minik8s-cluster-<c>`. `up`
runs the same sweep first when it finds leftovers of an earlier run.
"""
from __future__ import annotations

import concurrent.futures
import json
import os
import pathlib
import shutil
import threading
import time
import urllib.error
from collections.abc import Callable, Sequence
from typing import Any

import yaml

from minik8s.api import conditions
from minik8s.client import kubeconfig as kubeconfig_mod
from minik8s.cluster import balancer
from minik8s.cluster import cgroups
from minik8s.cluster import host
from minik8s.cluster import images as images_mod
from minik8s.cluster import master as master_mod
from minik8s.cluster import mounts
from minik8s.cluster import netns
from minik8s.cluster import node as node_mod
from minik8s.cluster import spec as spec_mod
from minik8s.util import procs

EchoFn = Callable[[str], None]

REQUIRED_TOOLS = ("ip", "iptables", "nsenter", "dockerd", "containerd", "etcd")
HOST_DOCKERD_LOG = "/var/log/minik8s-host-dockerd.log"


class Progress:
    """One line per finished step, with the time since the command started."""

    def __init__(self, echo: EchoFn) -> None:
        self.echo = echo
        self.t0 = time.monotonic()
        self._lock = threading.Lock()

    def elapsed(self) -> float:
        return time.monotonic() - self.t0

    def __call__(self, message: str) -> None:
        with self._lock:
            self.echo(f"[{self.elapsed():5.1f}s] {message}")


def check_host() -> None:
    if os.geteuid() != 0:
        raise host.Refused("the local cluster creates network namespaces, links and cgroups: run it as root")
    try:
        for tool in REQUIRED_TOOLS:
            host.which(tool)
        cgroups.hierarchy()
    except host.ClusterError as e:
        raise host.Refused(str(e)) from None


def nodes_of(spec: spec_mod.ClusterSpec) -> list[node_mod.Node]:
    return [node_mod.Node(spec, n) for n in spec.nodes]


def load_spec(state_dir: str) -> spec_mod.ClusterSpec:
    spec = spec_mod.ClusterSpec.load(state_dir)
    if spec is None:
        raise host.ClusterError(f"no cluster at {state_dir} (no {spec_mod.SPEC_FILE}); "
                                "`minik8s cluster up` creates one")
    return spec


# --- the API, as far as `up` and `status` need it -----------------------------------------


def _get_json(spec: spec_mod.ClusterSpec, path: str, timeout: float = 2.0) -> Any:
    """GET `path` as the cluster's admin (admin.conf), from the first master that answers."""
    servers = spec.servers
    for i, server in enumerate(servers):
        try:
            with kubeconfig_mod.urllib_opener(spec.admin_kubeconfig).open(server + path, timeout=timeout) as resp:
                return json.loads(resp.read())
        except (OSError, urllib.error.URLError):
            if i == len(servers) - 1:
                raise
    raise AssertionError("unreachable")


def node_ready(obj: dict[str, Any]) -> str:
    return str(conditions.status(obj, "Ready") or "Unknown")


def api_nodes(spec: spec_mod.ClusterSpec) -> dict[str, dict[str, Any]] | None:
    """The Node objects by name, or None if the API server does not answer."""
    try:
        doc = _get_json(spec, "/api/v1/nodes")
    except (OSError, ValueError, urllib.error.URLError, kubeconfig_mod.KubeconfigError):
        return None
    return {n["metadata"]["name"]: n for n in doc.get("items") or []}


def wait_nodes_ready(spec: spec_mod.ClusterSpec, names: Sequence[str], timeout: float,
                     nodes: dict[str, node_mod.Node] | None = None) -> None:
    deadline = time.monotonic() + timeout
    pending = list(names)
    while True:
        found = api_nodes(spec) or {}
        pending = [n for n in names if node_ready(found.get(n, {})) != "True"]
        if not pending:
            return
        for name in pending:
            node = (nodes or {}).get(name)
            if node is not None and node.pid("kubelet") is None:
                log = node.paths.log("kubelet")
                raise host.ClusterError(f"{name}: the kubelet exited; log {log}:\n{procs.log_tail(str(log))}")
        if time.monotonic() > deadline:
            raise host.ClusterError(f"nodes not Ready within {timeout:g}s: {', '.join(pending)}; "
                                    f"kubelet logs under {spec.state}/nodes/<node>/logs")
        time.sleep(0.1)


# --- up -------------------------------------------------------------------------------------


def up(name: str, state_dir: str, *, nodes: int, subnet: str, api_port: int | None,
       overrides: dict[str, dict[str, Any]], kubeconfig: str | None, extra_images: Sequence[str] = (),
       echo: EchoFn = print, ready_timeout: float = 90, masters: int = 1,
       etcd: str = "stacked", etcd_members: int | None = None) -> spec_mod.ClusterSpec:
    progress = Progress(echo)
    state_dir = os.path.abspath(state_dir)
    # Arguments first, before anything on the host is looked at or touched.
    spec_mod.plan(name, state_dir, nodes=nodes, subnet=subnet, api_port=0, etcd_client_port=0, etcd_peer_port=0,
                  masters=masters, etcd=etcd, etcd_members=etcd_members)
    check_host()
    if running(name, state_dir):
        raise host.Refused(f"cluster {name!r} is running; `minik8s cluster down --name {name}` first")
    found = leftovers(name, state_dir)
    if found:
        progress(f"removing leftovers of an earlier run: {'; '.join(found)}")
        sweep(name, state_dir, spec_mod.ClusterSpec.load(state_dir) if _spec_readable(state_dir) else None)
    overlap = netns.routes_overlapping(subnet)
    if overlap:
        raise host.Refused(f"subnet {subnet} overlaps host routes ({'; '.join(overlap)}); pass --subnet")
    if masters > 1:
        # Every master listens in its own namespace: the host's ports do not matter.
        api_port = api_port or spec_mod.config.DEFAULT_API_PORT
        etcd_ports = (spec_mod.MASTER_ETCD_CLIENT_PORT, spec_mod.MASTER_ETCD_PEER_PORT)
        # kubectl's way to every master: the load balancer on the host's loopback.
        lb_port = balancer.pick_port()
    else:
        if api_port is None:
            api_port = spec_mod.config.DEFAULT_API_PORT if procs.port_free(spec_mod.config.DEFAULT_API_PORT) \
                else procs.free_port()
        elif not procs.port_free(api_port):
            raise host.Refused(f"port {api_port} is taken; pass another --port")
        etcd_ports = (procs.free_port(), procs.free_port())
        lb_port = 0
    spec = spec_mod.plan(name, state_dir, nodes=nodes, subnet=subnet, api_port=api_port,
                         etcd_client_port=etcd_ports[0], etcd_peer_port=etcd_ports[1],
                         overrides=overrides,
                         kubeconfig=kubeconfig or str(kubeconfig_mod.DEFAULT_PATH), masters=masters, etcd=etcd,
                         etcd_members=etcd_members, lb_port=lb_port)
    spec.save()
    if spec.multi_master:
        topology = f"{len(spec.etcd_members)} external etcd members" if spec.external_etcd else "stacked etcd"
        behind = f" behind {spec.lb_server}" if spec.lb_server else ""
        progress(f"cluster {name}: {masters} master{'s' if masters > 1 else ''} ({topology}), {nodes} node(s) "
                 f"on {spec.subnet}, API servers {', '.join(spec.servers)}{behind}, state {spec.state}")
    else:
        progress(f"cluster {name}: {nodes} node(s) on {spec.subnet}, API server {spec.server}, state {spec.state}")
    # Before anything starts: the nodes' credentials are issued with this CA while the master boots.
    ca, _ = master_mod.ensure_pki(spec)
    progress(f"PKI in {spec.etc_dir / 'pki'}: CA {ca.hash}")

    netns.ensure_bridge(spec.bridge, f"{spec.master_ip}/{spec.prefixlen}")
    netns.ensure_rule("filter", netns.forward_rule(spec.bridge, spec.tag))
    progress(f"bridge {spec.bridge} {spec.master_ip}/{spec.prefixlen}")

    the_nodes = nodes_of(spec)
    master = master_mod.Master(spec)
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(the_nodes) + 2) as pool:
        exported_f = pool.submit(_host_images, spec, list(extra_images), progress)
        if spec.multi_master:
            master_f = pool.submit(master_mod.start_control_plane, spec, progress)
        else:
            master_f = pool.submit(master.start_all, progress)

        def boot(n: node_mod.Node) -> None:
            n.boot()
            progress(f"{n.name}: netns {n.ns} {n.node.ip}, containerd and dockerd running")
            exported = exported_f.result()
            loaded = images_mod.load(str(n.paths.docker_sock), exported)
            progress(f"{n.name}: images loaded ({', '.join(loaded) or 'already there'})")
            master_f.result()
            n.start_agents()
            started = ", ".join(f"{c} {n.pid(c)}" for c in spec_mod.config.NODE_COMPONENTS if n.pid(c))
            progress(f"{n.name}: agents started (pids: {started})")

        futures = [pool.submit(boot, n) for n in the_nodes]
        master_f.result()
        if spec.lb_port:
            pid = balancer.LocalBalancer(spec).start()
            progress(f"load balancer {spec.lb_server} over the masters' API servers (pid {pid})")
        exported_f.result()
        for f in futures:
            f.result()

    wait_nodes_ready(spec, [n.name for n in the_nodes], ready_timeout, {n.name: n for n in the_nodes})
    progress(f"{len(the_nodes)} node(s) Ready")
    progress(write_kubeconfig(spec))
    return spec


def _spec_readable(state_dir: str) -> bool:
    try:
        return spec_mod.ClusterSpec.load(state_dir) is not None
    except host.ClusterError:
        return False


def _host_images(spec: spec_mod.ClusterSpec, extra: list[str],
                 progress: EchoFn) -> dict[str, tuple[str, pathlib.Path]]:
    """The host engine running and the project's images built, then exported for loading."""
    import docker

    from minik8s.images import build

    # Not under the state directory: the host engine outlives this cluster.
    started = procs.ensure_dockerd(log_file=HOST_DOCKERD_LOG)
    if started is not None:
        progress(f"host dockerd started (pid {started.pid})")
    client = docker.DockerClient(base_url=f"unix://{procs.DOCKER_SOCKET}", timeout=300)
    try:
        try:
            built = build.build_images(client, log=lambda line: None)
        except RuntimeError as e:
            raise host.ClusterError(str(e)) from None
        if built:
            progress(f"built {', '.join(built)} on the host engine")
        exported = images_mod.export(client, [*build.IMAGES, *extra], spec.state / "images")
    finally:
        client.close()
    return exported


def write_kubeconfig(spec: spec_mod.ClusterSpec) -> str:
    """The admin's credentials (admin.conf) as context `minik8s-<c>`, in the user's kubeconfig;
    with several masters its `server` is the load balancer (kubectl reads nothing else) and
    the masters are listed for minik8s's client, which fails over by itself."""
    admin = kubeconfig_mod.load(spec.admin_kubeconfig)
    own = spec.state / "kubeconfig"
    for path in (own, spec.kubeconfig_path):
        kubeconfig_mod.write_context(path, spec.context, spec.lb_server or spec.server, ca=admin.ca, cert=admin.cert,
                                     key=admin.key, make_current=True, servers=spec.servers)
    return f"kubeconfig: context {spec.context} in {spec.kubeconfig_path} (also {own})"


def remove_context(path: str, context: str) -> bool:
    """Take context/cluster/user `context` out of kubeconfig `path` (what up merged in)."""
    p = pathlib.Path(path)
    try:
        doc = yaml.safe_load(p.read_text()) or {}
    except (OSError, yaml.YAMLError):
        return False
    changed = False
    for key in ("clusters", "users", "contexts"):
        entries = doc.get(key) or []
        kept = [e for e in entries if e.get("name") != context]
        changed |= len(kept) != len(entries)
        doc[key] = kept
    if doc.get("current-context") == context:
        doc["current-context"] = ""
        changed = True
    if changed:
        tmp = p.with_suffix(p.suffix + ".tmp")
        tmp.write_text(yaml.safe_dump(doc, sort_keys=False))
        os.chmod(tmp, 0o600)
        tmp.replace(p)
    return changed


# --- what exists --------------------------------------------------------------------------


def running(name: str, state_dir: str) -> bool:
    """Whether the cluster's API server process is alive."""
    try:
        spec = spec_mod.ClusterSpec.load(state_dir)
    except host.ClusterError:
        return False
    if spec is None or spec.name != name:
        return False
    if spec.multi_master:
        return any(m.pid("apiserver") is not None for m in master_mod.members(spec))
    return master_mod.Master(spec).pid("apiserver") is not None


def leftovers(name: str, state_dir: str) -> list[str]:
    """Everything on this host that belongs to cluster `name` (empty: nothing is left)."""
    found = []
    cg = cgroups.cluster_path(name)
    pids = cgroups.pids(cg) if _cgroups_usable() else []
    if pids:
        found.append(f"{len(pids)} process(es) in cgroup /{cg}")
    elif _cgroup_exists(cg):
        found.append(f"cgroup /{cg}")
    ms = mounts.under(state_dir)
    if ms:
        found.append(f"{len(ms)} mount(s) under {state_dir}")
    ns = netns.netns_list(spec_mod.netns_prefix(name))
    if ns:
        found.append(f"network namespace(s) {', '.join(ns)}")
    links = _cluster_links(name)
    if links:
        found.append(f"link(s) {', '.join(links)}")
    rules = netns.rules_with_tag(spec_mod.iptables_tag(name))
    if rules:
        found.append(f"{len(rules)} iptables rule(s)")
    if os.path.exists(state_dir):
        found.append(f"state directory {state_dir}")
    return found


def _cgroups_usable() -> bool:
    try:
        cgroups.hierarchy()
    except host.ClusterError:
        return False
    return True


def _cgroup_exists(rel: str) -> bool:
    try:
        return any(os.path.isdir(os.path.join(root, rel)) for root in cgroups.all_hierarchies())
    except OSError:
        return False


def _cluster_links(name: str) -> list[str]:
    try:
        links = os.listdir("/sys/class/net")
    except OSError:
        return []
    veth_prefix = f"mk-{name}-"
    return sorted(link for link in links if link == spec_mod.bridge_name(name) or link.startswith(veth_prefix))


# --- down -----------------------------------------------------------------------------------


def down(name: str, state_dir: str, echo: EchoFn = print) -> list[str]:
    """Remove everything cluster `name` made; what is still found afterwards (should be empty)."""
    progress = Progress(echo)
    spec_mod.validate_name(name)
    state_dir = os.path.abspath(state_dir)
    spec: spec_mod.ClusterSpec | None
    try:
        spec = spec_mod.ClusterSpec.load(state_dir)
    except host.ClusterError as e:
        progress(str(e))
        spec = None
    if spec is not None and spec.name != name:
        raise host.ClusterError(f"{state_dir} holds cluster {spec.name!r}, not {name!r}")
    if spec is not None:
        the_nodes = nodes_of(spec)
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, len(the_nodes))) as pool:
            for n, f in [(n, pool.submit(n.shutdown)) for n in the_nodes]:
                try:
                    f.result()
                    progress(f"{n.name}: stopped and removed")
                except (host.ClusterError, OSError) as e:
                    progress(f"{n.name}: {e} (the sweep below finishes it)")
        if spec.multi_master:
            if balancer.LocalBalancer(spec).stop():
                progress("load balancer stopped")
            boxes: list[master_mod.Box] = [*master_mod.members(spec), *master_mod.etcd_members(spec)]
            for m in boxes:
                stopped = m.shutdown()
                progress(f"{m.name} stopped ({', '.join(stopped) or 'nothing was running'})")
        else:
            stopped = master_mod.Master(spec).stop_all()
            progress(f"master stopped ({', '.join(stopped) or 'nothing was running'})")
    sweep(name, state_dir, spec)
    left = leftovers(name, state_dir)
    if left:
        progress(f"still present: {'; '.join(left)}")
    else:
        progress(f"cluster {name} removed")
    return left


def sweep(name: str, state_dir: str, spec: spec_mod.ClusterSpec | None) -> None:
    """Find and remove by name whatever of cluster `name` is left, record or not."""
    cg = cgroups.cluster_path(name)
    if _cgroups_usable():
        cgroups.kill_all(cg)
    mounts.unmount_under(state_dir)
    for ns in netns.netns_list(spec_mod.netns_prefix(name)):
        netns.delete_netns(ns)
    for link in _cluster_links(name):
        netns.delete_link(link)
    netns.remove_tagged_rules(spec_mod.iptables_tag(name))
    if _cgroups_usable():
        cgroups.remove(cg)
        cgroups.remove_if_empty(cgroups.TOP)
    if spec is not None and spec.kubeconfig:
        remove_context(spec.kubeconfig, spec.context)
    remaining = mounts.under(state_dir)
    if remaining:
        # Never rmtree across a mount point: it would delete another filesystem's files.
        raise host.ClusterError(f"mounts remain under {state_dir}: {[m.mountpoint for m in remaining]}")
    if os.path.exists(state_dir):
        shutil.rmtree(state_dir)


# --- breaking and mending nodes ----------------------------------------------------------


def stop_node(state_dir: str, name: str) -> int:
    spec = load_spec(state_dir)
    return node_mod.Node(spec, spec.node(name)).power_off()


def start_node(state_dir: str, name: str, ready_timeout: float = 60, wait: bool = True) -> node_mod.Node:
    spec = load_spec(state_dir)
    n = node_mod.Node(spec, spec.node(name))
    n.boot()
    n.start_agents()
    if wait:
        wait_nodes_ready(spec, [name], ready_timeout, {name: n})
    return n


def isolate(state_dir: str, name: str, heal: bool = False) -> None:
    spec = load_spec(state_dir)
    n = node_mod.Node(spec, spec.node(name))
    if heal:
        n.heal()
    else:
        n.isolate()


def _members(spec: spec_mod.ClusterSpec, name: str | None) -> list[master_mod.Member]:
    """Master NAME of a multi-master cluster, or all of them; NAME only where there are several."""
    if not spec.multi_master:
        if name is not None:
            spec.master(name)  # raises: a single master has no name
        return []
    if name is None:
        return master_mod.members(spec)
    return [master_mod.Member(spec, spec.master(name))]


def stop_master(state_dir: str, name: str | None = None) -> list[str]:
    """The single master's processes (SIGTERM), or with several: master NAME powered off
    (every process SIGKILLed, its namespace gone), or without NAME every master in order."""
    spec = load_spec(state_dir)
    the_members = _members(spec, name)
    if not spec.multi_master:
        return master_mod.Master(spec).stop_all()
    if name is not None:
        m = the_members[0]
        was = [c for c in m.components if m.pid(c)]
        m.power_off()
        return was
    stopped = []
    for m in the_members:
        stopped += [f"{m.name}/{c}" for c in m.shutdown()]
    return stopped


def start_master(state_dir: str, echo: EchoFn = print, name: str | None = None) -> None:
    spec = load_spec(state_dir)
    the_members = _members(spec, name)
    if not spec.multi_master:
        master_mod.Master(spec).start_all(Progress(echo))
        return
    master_mod.start_members(the_members, Progress(echo))
    if spec.lb_port:
        balancer.LocalBalancer(spec).start()  # running already, unless the host was rebooted


def _etcd_members(spec: spec_mod.ClusterSpec, name: str | None) -> list[master_mod.EtcdMember]:
    """External etcd member NAME, or all of them."""
    if not spec.external_etcd:
        raise host.ClusterError(f"cluster {spec.name!r} has no external etcd members (its etcd is "
                                f"{'stacked: stop-master/start-master MASTER' if spec.multi_master else 'on the host'})")
    if name is None:
        return master_mod.etcd_members(spec)
    return [master_mod.EtcdMember(spec, spec.etcd_member(name))]


def stop_etcd(state_dir: str, name: str | None = None) -> list[str]:
    """External etcd member NAME powered off (etcd SIGKILLed, its namespace and address gone,
    its data kept), or without NAME every member stopped in order (SIGTERM)."""
    spec = load_spec(state_dir)
    the_members = _etcd_members(spec, name)
    if name is not None:
        m = the_members[0]
        was = [f"{m.name}/{c}" for c in m.components if m.pid(c)]
        m.power_off()
        return was
    stopped = []
    for m in the_members:
        stopped += [f"{m.name}/{c}" for c in m.shutdown()]
    return stopped


def start_etcd(state_dir: str, echo: EchoFn = print, name: str | None = None) -> None:
    """Start external etcd member NAME (it rejoins with its data) or every stopped one; returns
    when each started one is healthy, which needs a quorum of the members running."""
    spec = load_spec(state_dir)
    master_mod.start_etcd_members(_etcd_members(spec, name), Progress(echo))


def load_images(state_dir: str, tags: Sequence[str], echo: EchoFn = print) -> None:
    import docker

    spec = load_spec(state_dir)
    progress = Progress(echo)
    client = docker.DockerClient(base_url=f"unix://{procs.DOCKER_SOCKET}", timeout=300)
    try:
        exported = images_mod.export(client, tags, spec.state / "images")
    finally:
        client.close()
    nodes = nodes_of(spec)
    targets = [n for n in nodes if n.pid("dockerd")]
    skipped = [n.name for n in nodes if n not in targets]
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, len(targets))) as pool:
        results = {n.name: pool.submit(images_mod.load, str(n.paths.docker_sock), exported) for n in targets}
        for name, f in results.items():
            loaded = f.result()
            progress(f"{name}: {', '.join(loaded) if loaded else 'already up to date'}")
    if skipped:
        progress(f"not running, skipped: {', '.join(skipped)} (their engines get the images at start-node)")


def status(state_dir: str) -> dict[str, Any]:
    spec = load_spec(state_dir)
    api = api_nodes(spec)
    nodes = []
    for n in nodes_of(spec):
        st = n.status()
        st["ready"] = node_ready(api.get(n.name, {})) if api is not None else "?"
        nodes.append(st)
    return {
        "name": spec.name,
        "stateDir": spec.state_dir,
        "server": spec.server,
        "context": spec.context,
        "kubeconfig": spec.kubeconfig_path,
        "bridge": spec.bridge,
        "subnet": spec.subnet,
        "apiReachable": api is not None,
        "master": master_mod.Master(spec).status(),
        "nodes": nodes,
    } | ({"etcd": spec.etcd, "masters": master_status(spec),
          "loadBalancer": balancer.LocalBalancer(spec).status()} if spec.multi_master else {}) \
      | ({"etcdMembers": etcd_status(spec)} if spec.external_etcd else {})


def master_status(spec: spec_mod.ClusterSpec) -> list[dict[str, Any]]:
    """Each master's processes, whether its API server is ready and its etcd member healthy."""
    the_members = master_mod.members(spec)
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, len(the_members))) as pool:
        health = [pool.submit(m.etcd_healthy) if "etcd" in m.components else None for m in the_members]
        ready = [pool.submit(master_mod.api_ready, m.server, spec.admin_kubeconfig) for m in the_members]
        out = []
        for m, h, r in zip(the_members, health, ready, strict=True):
            st: dict[str, Any] = dict(m.status())
            st["etcdHealthy"] = h.result() if h is not None else None
            st["apiReady"] = r.result()
            out.append(st)
    return out


def etcd_status(spec: spec_mod.ClusterSpec) -> list[dict[str, Any]]:
    """Each external etcd member's process and whether it answers a quorum read over TLS."""
    the_members = master_mod.etcd_members(spec)
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, len(the_members))) as pool:
        health = [pool.submit(m.etcd_healthy) for m in the_members]
        out = []
        for m, h in zip(the_members, health, strict=True):
            st: dict[str, Any] = dict(m.status())
            st["healthy"] = h.result()
            out.append(st)
    return out


def api_reachable(spec: spec_mod.ClusterSpec) -> bool:
    return master_mod.api_ready_any(spec.servers, spec.admin_kubeconfig)

