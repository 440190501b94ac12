"""Pod networking through CNI: the kubelet's side of the Container Network Interface.

The sandbox (pause) container starts with Docker's network `none`; its network
namespace is then handed to the plugins of a CNI network configuration list
(spec 1.0: https://www.cni.dev/docs/spec/), as containerd's CRI plugin and
dockershim's cni plugin do. Which plugins run is the configuration's business:
by default the network agent writes bridge + host-local + portmap (see
minik8s/network/cniconfig.py), and any CNI plugin a user prefers can replace
them by writing another file into the configuration directory.

Layers, as libcni's:
 - `PluginExec` runs one plugin binary (the seam: `FakeExec` records calls in
   unit tests and answers like bridge/host-local would);
 - `CNI` runs a whole list: ADD in order, each plugin getting the previous one's
   result, DEL in reverse order with the cached result, CHECK in order, GC; and
   keeps libcni's result cache on disk (`<cache dir>/results/<net>-<id>-<if>`),
   which is how a restarted kubelet knows each sandbox's IP and which
   attachments it must release;
 - `PodNetwork` is what the runtime calls: set up / tear down one sandbox's
   network, its IP, and garbage collection of attachments whose sandbox is gone.

Crash safety: an attachment's cache entry is written *before* its ADD runs (as
a record without a result), so a kubelet killed half way through an ADD leaves
a record that the next garbage collection DELs, and host-local's reservation
is released; an address is never handed out twice, because host-local keeps
its reservations on disk (its dataDir, under the node's state directory).
"""
from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import logging
import os
import pathlib
from typing import Any, Iterable, Mapping, Protocol, Sequence

log = logging.getLogger(__name__)

DEFAULT_CONF_DIR = "/etc/cni/net.d"
# Debian's and Fedora's containernetworking-plugins, then the upstream tarball's place.
DEFAULT_BIN_DIRS = ("/usr/lib/cni", "/usr/libexec/cni", "/opt/cni/bin")
DEFAULT_CACHE_DIR = "/var/lib/cni"
DEFAULT_IFNAME = "eth0"
CACHE_KIND = "cniCacheV1"
# The loopback network every sandbox gets first (containerd's `loNetwork`).
LOOPBACK_CONFIG = {"cniVersion": "1.0.0", "name": "cni-loopback", "plugins": [{"type": "loopback"}]}
EXEC_TIMEOUT = 60.0

Obj = dict[str, Any]


class CNIError(Exception):
    """A plugin failed (its error result), or the configuration is unusable."""

    def __init__(self, msg: str, code: int = 999, details: str = "") -> None:
        super().__init__(f"{msg}: {details}" if details else msg)
        self.code = code
        self.msg = msg
        self.details = details


class NotReady(CNIError):
    """No usable network configuration yet (the kubelet's `cni config uninitialized`)."""


# -- configuration --------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class NetworkConfigList:
    name: str
    cni_version: str
    plugins: tuple[Obj, ...]
    disable_check: bool = False
    disable_gc: bool = False
    path: str = ""

    @classmethod
    def from_obj(cls, obj: Obj, path: str = "") -> NetworkConfigList:
        if "plugins" not in obj:  # a single-plugin .conf file
            plugin = {k: v for k, v in obj.items() if k not in ("cniVersion", "name")}
            obj = {"cniVersion": obj.get("cniVersion", ""), "name": obj.get("name", ""), "plugins": [plugin]}
        name, plugins = obj.get("name"), obj.get("plugins")
        if not isinstance(name, str) or not name:
            raise CNIError(f"{path or 'network configuration'}: no network name")
        if not isinstance(plugins, list) or not plugins or not all(
                isinstance(p, dict) and isinstance(p.get("type"), str) for p in plugins):
            raise CNIError(f"{path or name}: `plugins` must be a non-empty list of objects with a `type`")
        return cls(name, str(obj.get("cniVersion") or "1.0.0"), tuple(plugins),
                   bool(obj.get("disableCheck")), bool(obj.get("disableGC")), path)


def _version_tuple(v: str) -> tuple[int, ...]:
    try:
        return tuple(int(x) for x in v.split("."))
    except ValueError:
        return (0,)


def find_conf_list(conf_dir: str) -> NetworkConfigList | None:
    """The first configuration in `conf_dir` by file name (.conflist, .conf, .json), as the
    kubelet's CNI plugin picks it; files that do not parse are skipped with a warning."""
    try:
        names = sorted(os.listdir(conf_dir))
    except FileNotFoundError:
        return None
    for name in names:
        if not name.endswith((".conflist", ".conf", ".json")) or name.startswith("."):
            continue
        path = os.path.join(conf_dir, name)
        try:
            with open(path, "rb") as f:
                obj = json.loads(f.read())
            return NetworkConfigList.from_obj(obj, path)
        except (OSError, ValueError, CNIError) as e:
            log.warning("CNI config %s skipped: %s", path, e)
    return None


# -- running one plugin ----------------------------------------------------------------------


class PluginExec(Protocol):
    def find(self, plugin: str, paths: Sequence[str]) -> str | None: ...

    async def run(self, path: str, env: Mapping[str, str], stdin: bytes) -> bytes:
        """Run the plugin; its stdout on success, CNIError (its error result) on failure."""
        ...


class ExecPlugins:
    """Plugins as child processes of the kubelet (so in the kubelet's network namespace)."""

    def __init__(self, timeout: float = EXEC_TIMEOUT) -> None:
        self.timeout = timeout

    def find(self, plugin: str, paths: Sequence[str]) -> str | None:
        for d in paths:
            candidate = os.path.join(d, plugin)
            if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
                return candidate
        return None

    async def run(self, path: str, env: Mapping[str, str], stdin: bytes) -> bytes:
        proc = await asyncio.create_subprocess_exec(
            path, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            env=dict(env))
        try:
            out, err = await asyncio.wait_for(proc.communicate(stdin), self.timeout)
        except asyncio.TimeoutError:
            proc.kill()
            await proc.wait()
            raise CNIError(f"plugin {os.path.basename(path)} timed out after {self.timeout:g}s") from None
        if proc.returncode != 0:
            raise _plugin_error(os.path.basename(path), out, err, proc.returncode or 0)
        return out


def _plugin_error(plugin: str, out: bytes, err: bytes, code: int) -> CNIError:
    try:
        obj = json.loads(out)
        return CNIError(f"plugin {plugin} failed: {obj.get('msg', '')}", int(obj.get("code") or 999),
                        str(obj.get("details") or ""))
    except (ValueError, AttributeError):
        text = (out or err).decode(errors="replace").strip()
        return CNIError(f"plugin {plugin} exited {code}", 999, text[-500:])


# -- running a list (libcni) -------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class RuntimeConf:
    container_id: str
    netns: str  # "" when the namespace is gone (DEL must still release what it can)
    ifname: str = DEFAULT_IFNAME
    args: tuple[tuple[str, str], ...] = ()
    capability_args: Mapping[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Attachment:
    """One entry of the result cache: a (network, container, interface) that ADD ran for."""

    network: str
    container_id: str
    ifname: str
    config: bytes  # the list's configuration as it was at ADD: DEL must see the same
    args: tuple[tuple[str, str], ...]
    capability_args: Mapping[str, Any]
    result: Obj | None  # None while (or if) the ADD did not finish


class CNI:
    """libcni's CNIConfig: runs lists of plugins and keeps the result cache."""

    def __init__(self, exec_: PluginExec, bin_dirs: Sequence[str] = DEFAULT_BIN_DIRS,
                 cache_dir: str = DEFAULT_CACHE_DIR) -> None:
        self.exec = exec_
        self.bin_dirs = tuple(bin_dirs)
        self.cache_dir = pathlib.Path(cache_dir)

    # -- the cache --

    def _cache_path(self, network: str, container_id: str, ifname: str) -> pathlib.Path:
        return self.cache_dir / "results" / f"{network}-{container_id}-{ifname}"

    def _write_cache(self, net: NetworkConfigList, raw: bytes, rt: RuntimeConf, result: Obj | None) -> None:
        path = self._cache_path(net.name, rt.container_id, rt.ifname)
        path.parent.mkdir(parents=True, exist_ok=True)
        doc = {"kind": CACHE_KIND, "containerId": rt.container_id, "ifName": rt.ifname, "networkName": net.name,
               "config": base64.b64encode(raw).decode(), "cniArgs": [list(a) for a in rt.args],
               "capabilityArgs": dict(rt.capability_args), "result": result}
        tmp = path.with_name("." + path.name + ".tmp")
        # Atomic (rename), not synced: as durable as host-local's own reservations, which
        # it does not fsync either; an fsync per record cost more than the plugins' execs.
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(doc, f)
        os.replace(tmp, path)

    def _read_cache(self, path: pathlib.Path) -> Attachment | None:
        try:
            doc = json.loads(path.read_bytes())
            return Attachment(doc["networkName"], doc["containerId"], doc["ifName"],
                              base64.b64decode(doc.get("config") or ""),
                              tuple((str(k), str(v)) for k, v in doc.get("cniArgs") or ()),
                              doc.get("capabilityArgs") or {}, doc.get("result"))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def cached(self, network: str, container_id: str, ifname: str = DEFAULT_IFNAME) -> Attachment | None:
        return self._read_cache(self._cache_path(network, container_id, ifname))

    def attachments(self, network: str | None = None, container_id: str | None = None) -> list[Attachment]:
        """Cache entries, all or those of one network and/or one container (found by file
        name, `<network>-<container id>-<ifname>`, before any file is read)."""
        out = []
        results = self.cache_dir / "results"
        try:
            paths = sorted(results.iterdir())
        except FileNotFoundError:
            return []
        for path in paths:
            if path.name.startswith(".") or (container_id is not None and f"-{container_id}-" not in path.name):
                continue
            att = self._read_cache(path)
            if att is not None and (network is None or att.network == network) and (
                    container_id is None or att.container_id == container_id):
                out.append(att)
        return out

    def _drop_cache(self, network: str, container_id: str, ifname: str) -> None:
        try:
            self._cache_path(network, container_id, ifname).unlink()
        except FileNotFoundError:
            pass

    # -- invoking --

    def _env(self, command: str, rt: RuntimeConf) -> dict[str, str]:
        env = {"CNI_COMMAND": command, "CNI_CONTAINERID": rt.container_id, "CNI_NETNS": rt.netns,
               "CNI_IFNAME": rt.ifname, "CNI_PATH": os.pathsep.join(self.bin_dirs),
               "PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")}
        if rt.args:
            env["CNI_ARGS"] = ";".join(f"{k}={v}" for k, v in rt.args)
        return env

    @staticmethod
    def _plugin_config(net: NetworkConfigList, plugin: Obj, rt: RuntimeConf, prev: Obj | None) -> bytes:
        conf = dict(plugin)
        conf["name"] = net.name
        conf["cniVersion"] = net.cni_version
        caps = plugin.get("capabilities") or {}
        runtime_config = {k: v for k, v in rt.capability_args.items() if caps.get(k)}
        if runtime_config:
            conf["runtimeConfig"] = runtime_config
        if prev is not None:
            conf["prevResult"] = prev
        return json.dumps(conf).encode()

    async def _invoke(self, command: str, net: NetworkConfigList, plugin: Obj, rt: RuntimeConf,
                      prev: Obj | None) -> bytes:
        path = self.exec.find(plugin["type"], self.bin_dirs)
        if path is None:
            raise CNIError(f"failed to find plugin {plugin['type']!r} in path {list(self.bin_dirs)}")
        return await self.exec.run(path, self._env(command, rt), self._plugin_config(net, plugin, rt, prev))

    async def add(self, net: NetworkConfigList, rt: RuntimeConf, raw: bytes | None = None) -> Obj:
        raw = raw if raw is not None else _raw(net)
        # The intent first: a crash during the ADD leaves something to DEL.
        await asyncio.to_thread(self._write_cache, net, raw, rt, None)
        prev: Obj | None = None
        for plugin in net.plugins:
            out = await self._invoke("ADD", net, plugin, rt, prev)
            try:
                prev = json.loads(out)
            except ValueError:
                raise CNIError(f"plugin {plugin['type']} returned no result", details=out[:200].decode(
                    errors="replace")) from None
        result = prev or {}
        await asyncio.to_thread(self._write_cache, net, raw, rt, result)
        return result

    async def delete(self, net: NetworkConfigList, rt: RuntimeConf) -> None:
        cached = self.cached(net.name, rt.container_id, rt.ifname)
        prev = cached.result if cached is not None else None
        for plugin in reversed(net.plugins):
            await self._invoke("DEL", net, plugin, rt, prev)
        self._drop_cache(net.name, rt.container_id, rt.ifname)

    async def check(self, net: NetworkConfigList, rt: RuntimeConf) -> None:
        if net.disable_check:
            return
        cached = self.cached(net.name, rt.container_id, rt.ifname)
        if cached is None or cached.result is None:
            raise CNIError(f"no cached result for {rt.container_id[:12]} on {net.name}")
        for plugin in net.plugins:
            await self._invoke("CHECK", net, plugin, rt, cached.result)

    async def gc(self, net: NetworkConfigList, valid: Iterable[tuple[str, str]]) -> None:
        """Spec 1.1's GC: only for lists that declare 1.1 or later (older plugins do not know it)."""
        if net.disable_gc or _version_tuple(net.cni_version) < (1, 1):
            return
        conf = {"cni.dev/valid-attachments": [{"containerID": c, "ifname": i} for c, i in valid]}
        for plugin in net.plugins:
            body = dict(plugin)
            body.update(name=net.name, cniVersion=net.cni_version, **conf)
            path = self.exec.find(plugin["type"], self.bin_dirs)
            if path is None:
                raise CNIError(f"failed to find plugin {plugin['type']!r} in path {list(self.bin_dirs)}")
            env = {"CNI_COMMAND": "GC", "CNI_PATH": os.pathsep.join(self.bin_dirs),
                   "PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")}
            await self.exec.run(path, env, json.dumps(body).encode())


def _raw(net: NetworkConfigList) -> bytes:
    return json.dumps({"cniVersion": net.cni_version, "name": net.name, "plugins": list(net.plugins)}).encode()


def result_ip(result: Obj | None, ifname: str = DEFAULT_IFNAME) -> str:
    """The pod's IPv4 address from a 1.0 result: the first `ips` entry on the
    sandbox's interface (or on no interface in particular)."""
    if not result:
        return ""
    interfaces = result.get("interfaces") or []
    for entry in result.get("ips") or []:
        if entry.get("version") not in (None, "4") and ":" in str(entry.get("address", "")):
            continue
        idx = entry.get("interface")
        if idx is not None and 0 <= idx < len(interfaces) and interfaces[idx].get("name") != ifname:
            continue
        address = str(entry.get("address") or "")
        if address and ":" not in address:
            return address.split("/", 1)[0]
    return ""


# -- the kubelet's view --------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class PodRef:
    namespace: str
    name: str
    uid: str


@dataclasses.dataclass(frozen=True)
class PortMapping:
    host_port: int
    container_port: int
    protocol: str  # tcp, udp, sctp
    host_ip: str = ""


class PodNetwork:
    """Sets up and tears down sandboxes' networks through the first configuration in
    `conf_dir`, plus the loopback network; remembers each sandbox's IP (in the cache)."""

    def __init__(self, cni: CNI, conf_dir: str = DEFAULT_CONF_DIR, *, loopback: bool = True,
                 ifname: str = DEFAULT_IFNAME) -> None:
        self.cni = cni
        self.conf_dir = conf_dir
        self.loopback = NetworkConfigList.from_obj(LOOPBACK_CONFIG) if loopback else None
        self.ifname = ifname
        self._conf: tuple[object, NetworkConfigList] | None = None
        self._ips: dict[str, str] = {}  # sandbox id -> IP (also in the cache; this saves a read)
        self._broken: set[str] = set()  # sandboxes whose CHECK failed: they must be recreated
        self._adding: set[str] = set()  # sandboxes in the middle of an ADD: GC must not touch them

    def network(self) -> NetworkConfigList:
        """The configuration to use now; NotReady if there is none (yet)."""
        try:
            names = sorted(n for n in os.listdir(self.conf_dir) if n.endswith((".conflist", ".conf", ".json")))
            key: object = tuple((n, os.stat(os.path.join(self.conf_dir, n)).st_mtime_ns) for n in names)
        except FileNotFoundError:
            key = ()
        if self._conf is not None and self._conf[0] == key:
            return self._conf[1]
        net = find_conf_list(self.conf_dir)
        if net is None:
            raise NotReady(f"cni config uninitialized: no network configuration in {self.conf_dir}")
        self._conf = (key, net)
        return net

    def status(self) -> str:
        """"" when pods can be networked, else why not."""
        try:
            net = self.network()
        except NotReady as e:
            return str(e)
        missing = [p["type"] for p in net.plugins if self.cni.exec.find(p["type"], self.cni.bin_dirs) is None]
        if self.loopback is not None and self.cni.exec.find("loopback", self.cni.bin_dirs) is None:
            missing.append("loopback")
        if missing:
            return f"CNI plugins not found in {list(self.cni.bin_dirs)}: {', '.join(missing)}"
        return ""

    def _rt(self, sandbox_id: str, netns: str, pod: PodRef | None, ports: Sequence[PortMapping] = (),
            ifname: str | None = None) -> RuntimeConf:
        args: tuple[tuple[str, str], ...] = ()
        if pod is not None:
            args = (("IgnoreUnknown", "1"), ("K8S_POD_NAMESPACE", pod.namespace), ("K8S_POD_NAME", pod.name),
                    ("K8S_POD_INFRA_CONTAINER_ID", sandbox_id), ("K8S_POD_UID", pod.uid))
        caps: dict[str, Any] = {}
        if ports:
            caps["portMappings"] = [{"hostPort": p.host_port, "containerPort": p.container_port,
                                     "protocol": p.protocol.lower(), "hostIP": p.host_ip} for p in ports]
        return RuntimeConf(sandbox_id, netns, ifname or self.ifname, args, caps)

    async def setup(self, sandbox_id: str, netns: str, pod: PodRef, ports: Sequence[PortMapping] = ()) -> str:
        """ADD the sandbox to loopback and the pod network; its IP."""
        net = self.network()
        self._adding.add(sandbox_id)
        try:
            rt = self._rt(sandbox_id, netns, pod, ports)
            steps = [self.cni.add(net, rt)]
            if self.loopback is not None:
                steps.append(self.cni.add(self.loopback, self._rt(sandbox_id, netns, pod, ifname="lo")))
            results = await asyncio.gather(*steps, return_exceptions=True)
            for r in results:
                if isinstance(r, BaseException):
                    raise r
            result = results[0]
            assert isinstance(result, dict)
            ip = result_ip(result, self.ifname)
            if not ip:
                raise CNIError(f"network {net.name} gave sandbox {sandbox_id[:12]} no IPv4 address",
                               details=json.dumps(result)[:300])
            self._ips[sandbox_id] = ip
            self._broken.discard(sandbox_id)
            return ip
        finally:
            self._adding.discard(sandbox_id)

    async def teardown(self, sandbox_id: str, netns: str) -> None:
        """DEL the sandbox from every network it was ADDed to (its cache says how)."""
        self._ips.pop(sandbox_id, None)
        self._broken.discard(sandbox_id)
        errors: list[BaseException] = []
        for att in self.cni.attachments(container_id=sandbox_id):
            try:
                await self._delete(att, netns)
            except CNIError as e:
                errors.append(e)
        if errors:
            raise errors[0]

    async def _delete(self, att: Attachment, netns: str) -> None:
        try:
            net = NetworkConfigList.from_obj(json.loads(att.config)) if att.config else self.network()
        except (ValueError, CNIError):
            net = self.network()
        rt = RuntimeConf(att.container_id, netns, att.ifname, att.args, att.capability_args)
        await self.cni.delete(net, rt)

    def ip(self, sandbox_id: str) -> str:
        """The sandbox's IP ("" if it has none, or its network failed CHECK)."""
        if sandbox_id in self._broken:
            return ""
        ip = self._ips.get(sandbox_id)
        if ip is None:
            ip = ""
            for att in self.cni.attachments(container_id=sandbox_id):
                if att.ifname == self.ifname:
                    ip = result_ip(att.result, self.ifname)
                    break
            if ip:
                self._ips[sandbox_id] = ip
        return ip

    async def check(self, sandbox_id: str, netns: str) -> bool:
        """CHECK the sandbox's attachment to the pod network; a failure marks it broken
        (its IP reads "", so the kubelet recreates the sandbox)."""
        att = next((a for a in self.cni.attachments(container_id=sandbox_id) if a.ifname == self.ifname), None)
        if att is None:
            return True  # host-network sandboxes have nothing to check
        try:
            net = NetworkConfigList.from_obj(json.loads(att.config))
            await self.cni.check(net, RuntimeConf(att.container_id, netns, att.ifname, att.args,
                                                  att.capability_args))
            return True
        except (CNIError, ValueError) as e:
            log.warning("sandbox %s: CNI CHECK failed: %s; it will be recreated", sandbox_id[:12], e)
            self._broken.add(sandbox_id)
            return False

    def attached(self) -> set[str]:
        """Sandbox ids with a cache entry (snapshot this *before* listing the engine)."""
        return {a.container_id for a in self.cni.attachments()}

    def is_attached(self, sandbox_id: str) -> bool:
        return bool(self.cni.attachments(container_id=sandbox_id))

    async def gc(self, candidates: set[str], live: set[str]) -> list[str]:
        """DEL the attachments of `candidates` (a snapshot of `attached()`) whose sandbox is
        not in `live`; then spec 1.1's GC for lists that know it. The ids released."""
        released = []
        for att in self.cni.attachments():
            cid = att.container_id
            if cid not in candidates or cid in live or cid in self._adding:
                continue
            try:
                await self._delete(att, "")
                released.append(cid)
                self._ips.pop(cid, None)
            except CNIError as e:
                log.warning("releasing the network of gone sandbox %s failed: %s", cid[:12], e)
        try:
            net = self.network()
            valid = {(a.container_id, a.ifname) for a in self.cni.attachments(net.name)}
            await self.cni.gc(net, valid)
        except CNIError as e:
            log.debug("CNI GC: %s", e)
        return sorted(set(released))


# -- a recording fake ------------------------------------------------------------------------------


class FakeExec:
    """Records every plugin call and answers as the reference plugins would: an IPAM
    plugin (or a main plugin with an `ipam` section) hands out addresses of its
    `subnet` in order and releases them on DEL; chained plugins pass `prevResult` on."""

    def __init__(self, plugins: Iterable[str] = ("bridge", "host-local", "portmap", "loopback"),
                 bin_dir: str = "/fake/cni") -> None:
        self.plugins = set(plugins)
        self.bin_dir = bin_dir
        self.calls: list[tuple[str, str, str, Obj]] = []  # (plugin, command, container id, config)
        self.envs: list[dict[str, str]] = []
        self.fail: dict[tuple[str, str], CNIError] = {}  # (plugin, command) -> error, once
        self.allocated: dict[str, str] = {}  # container id -> address
        self._next = 2

    def find(self, plugin: str, paths: Sequence[str]) -> str | None:
        return f"{self.bin_dir}/{plugin}" if plugin in self.plugins else None

    def commands(self) -> list[tuple[str, str, str]]:
        return [(p, c, cid) for p, c, cid, _ in self.calls]

    async def run(self, path: str, env: Mapping[str, str], stdin: bytes) -> bytes:
        plugin = os.path.basename(path)
        command = env.get("CNI_COMMAND", "")
        cid = env.get("CNI_CONTAINERID", "")
        conf = json.loads(stdin)
        self.calls.append((plugin, command, cid, conf))
        self.envs.append(dict(env))
        err = self.fail.pop((plugin, command), None)
        if err is not None:
            raise err
        if command != "ADD":
            if command == "DEL" and (plugin == "host-local" or "ipam" in conf):
                self.allocated.pop(cid, None)
            return b""
        prev = conf.get("prevResult")
        if plugin == "loopback":
            return json.dumps({"cniVersion": conf["cniVersion"],
                               "interfaces": [{"name": "lo"}],
                               "ips": [{"address": "127.0.0.1/8", "interface": 0}]}).encode()
        if "ipam" in conf or plugin == "host-local":
            subnet = ((conf.get("ipam") or conf).get("subnet")
                      or (((conf.get("ipam") or conf).get("ranges") or [[{}]])[0][0]).get("subnet") or "10.244.0.0/24")
            base = subnet.split("/")[0].rsplit(".", 1)[0]
            if cid not in self.allocated:
                self.allocated[cid] = f"{base}.{self._next}"
                self._next += 1
            return json.dumps({"cniVersion": conf["cniVersion"],
                               "interfaces": [{"name": "cni0"}, {"name": "veth0"},
                                              {"name": env.get("CNI_IFNAME", "eth0"),
                                               "sandbox": env.get("CNI_NETNS", "")}],
                               "ips": [{"address": f"{self.allocated[cid]}/24", "gateway": f"{base}.1",
                                        "interface": 2}]}).encode()
        return json.dumps(prev or {"cniVersion": conf["cniVersion"]}).encode()
