"""Pure translation of a pod's spec into what the engine is asked to create.

Nothing here does I/O, so every rule (environment resolution and `$(VAR)`
expansion, CPU shares and quota, memory limit, mounts, published ports,
labels) is unit-tested on plain dicts. The formulas are Kubernetes':
pkg/kubelet/cm/helpers_linux.go (MilliCPUToShares, MilliCPUToQuota) and
third_party/forked/golang/expansion.
"""
from __future__ import annotations

import base64
import binascii
import dataclasses
import os
from typing import Any, Callable, Iterable, Mapping, Sequence

from minik8s.api import quantity
from minik8s.api import validation
from minik8s.kubelet import downward
from minik8s.kubelet import runtime

Obj = dict[str, Any]

# helpers_linux.go
MIN_SHARES = 2
MAX_SHARES = 262144
SHARES_PER_CPU = 1024
QUOTA_PERIOD = 100000  # 100 ms, the CFS default period
MIN_QUOTA_PERIOD = 1000


class ConfigError(runtime.RuntimeFailure):
    """The container cannot be configured (CreateContainerConfigError)."""

    def __init__(self, message: str) -> None:
        super().__init__("CreateContainerConfigError", message)


@dataclasses.dataclass(frozen=True)
class PodContext:
    """What a container's configuration depends on besides its spec."""

    node_name: str
    host_ip: str
    pod_ip: str
    volume_paths: Mapping[str, str]  # volume name -> host directory or file
    node_allocatable: Mapping[str, str] = dataclasses.field(default_factory=dict)
    # ConfigMaps and Secrets the pod's environment names, read before this pure step:
    # ("configmap" | "secret", name) -> the object, or None when it does not exist.
    objects: Mapping[tuple[str, str], Any] = dataclasses.field(default_factory=dict)
    # Where warnings go (reason, message), e.g. skipped envFrom keys; they become Events.
    warn: Callable[[str, str], None] | None = None
    # Every Service the kubelet knows of (its informer), for the service environment variables.
    services: Sequence[Obj] = ()

    def facts(self) -> downward.PodFacts:
        return downward.PodFacts(self.node_name, self.host_ip, self.pod_ip, self.node_allocatable)


# -- resources ------------------------------------------------------------------------------


def milli_cpu_to_shares(milli: int) -> int:
    if milli == 0:
        return MIN_SHARES
    shares = milli * SHARES_PER_CPU // 1000
    return max(MIN_SHARES, min(shares, MAX_SHARES))


def milli_cpu_to_quota(milli: int, period: int = QUOTA_PERIOD) -> int:
    if milli == 0:
        return 0
    quota = milli * period // 1000
    return max(quota, MIN_QUOTA_PERIOD)


def cpu_and_memory(container: Obj) -> tuple[int, int, int, int]:
    """(cpu_shares, cpu_quota, cpu_period, memory_limit) for one container.

    limits.cpu becomes a CFS quota over a 100 ms period, requests.cpu the CPU
    shares (a container with a limit but no request gets shares from the limit,
    one with neither the minimum, 2), limits.memory a hard memory limit.
    """
    res = container.get("resources") or {}
    limits, requests = res.get("limits") or {}, res.get("requests") or {}
    cpu_limit = quantity.cpu_millis(limits["cpu"]) if "cpu" in limits else 0
    cpu_request = quantity.cpu_millis(requests["cpu"]) if "cpu" in requests else 0
    shares = milli_cpu_to_shares(cpu_request if cpu_request or not cpu_limit else cpu_limit)
    quota = milli_cpu_to_quota(cpu_limit)
    memory = quantity.to_bytes(limits["memory"]) if "memory" in limits else 0
    return shares, quota, QUOTA_PERIOD if quota else 0, memory


# -- environment ----------------------------------------------------------------------------


def expand(text: str, lookup: Callable[[str], str | None]) -> str:
    """Kubernetes' `$(VAR)` expansion: defined variables are replaced, undefined
    references stay as written, `$$` escapes a dollar."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch != "$" or i + 1 >= n:
            out.append(ch)
            i += 1
            continue
        nxt = text[i + 1]
        if nxt == "$":
            out.append("$")
            i += 2
        elif nxt == "(":
            end = text.find(")", i + 2)
            if end == -1:
                out.append(text[i:])
                break
            name = text[i + 2:end]
            value = lookup(name)
            out.append(value if value is not None else text[i:end + 1])
            i = end + 1
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def field_ref_value(pod: Obj, path: str, ctx: PodContext) -> str:
    try:
        return downward.field_value(pod, path, ctx.facts())
    except downward.DownwardError as e:
        raise ConfigError(str(e)) from None


def resource_field_ref_value(container: Obj, ref: Obj, ctx: PodContext) -> str:
    """limits.cpu / requests.memory ... divided by the divisor, rounded up; an
    unset limit falls back to the node's allocatable, as Kubernetes does."""
    try:
        return downward.resource_value(container, ref, ctx.facts())
    except downward.DownwardError as e:
        raise ConfigError(str(e)) from None


def _decoded(kind: str, value: Any) -> str:
    if kind == "secret":
        try:
            return base64.b64decode(str(value)).decode(errors="replace")
        except (binascii.Error, ValueError):
            return ""
    return str(value)


def _object(ctx: PodContext, kind: str, name: str, optional: bool, namespace: str) -> Obj | None:
    """The ConfigMap/Secret named by a reference: None when absent and optional."""
    if (kind, name) not in ctx.objects:
        raise ConfigError(f"couldn't get {kind} {namespace}/{name}")
    obj: Obj | None = ctx.objects[(kind, name)]
    if obj is None and not optional:
        raise ConfigError(f'{kind} "{name}" not found')
    return obj


# Services whose variables every pod gets, from this namespace, whatever enableServiceLinks
# says: the API server's, so in-cluster clients find it (KUBERNETES_SERVICE_HOST/PORT).
MASTER_SERVICE_NAMESPACE = "default"
MASTER_SERVICES = frozenset({"kubernetes"})


def _env_name(name: str) -> str:
    return name.replace("-", "_").upper()


def service_env(services: Iterable[Obj], namespace: str, enable_links: bool) -> dict[str, str]:
    """The kubelet's getServiceEnvVarMap and envvars.FromServices: for the master Services and,
    with enableServiceLinks, each Service of the pod's namespace that has a cluster IP,
    `<NAME>_SERVICE_HOST`, `<NAME>_SERVICE_PORT[_<PORT NAME>]` and Docker's link variables
    (`<NAME>_PORT`, `<NAME>_PORT_<port>_<PROTO>[_PROTO|_PORT|_ADDR]`)."""
    chosen: dict[str, Obj] = {}
    for svc in services:
        meta, spec = svc.get("metadata") or {}, svc.get("spec") or {}
        if spec.get("clusterIP") in (None, "", "None"):
            continue
        name = str(meta.get("name") or "")
        if meta.get("namespace") == MASTER_SERVICE_NAMESPACE and name in MASTER_SERVICES:
            chosen.setdefault(name, svc)
        elif meta.get("namespace") == namespace and enable_links:
            chosen[name] = svc  # the pod's own namespace wins over the master's
    env: dict[str, str] = {}
    for name in sorted(chosen):
        spec = chosen[name].get("spec") or {}
        ip, ports = str(spec["clusterIP"]), [p for p in spec.get("ports") or [] if isinstance(p, dict)]
        prefix = _env_name(name)
        env[f"{prefix}_SERVICE_HOST"] = ip
        if ports:
            env[f"{prefix}_SERVICE_PORT"] = str(ports[0].get("port"))
        for port in ports:
            if port.get("name"):
                env[f"{prefix}_SERVICE_PORT_{_env_name(str(port['name']))}"] = str(port.get("port"))
        host = f"[{ip}]" if ":" in ip else ip
        for i, port in enumerate(ports):
            proto = str(port.get("protocol") or "TCP")
            url = f"{proto.lower()}://{host}:{port.get('port')}"
            if i == 0:
                env[f"{prefix}_PORT"] = url
            port_prefix = f"{prefix}_PORT_{port.get('port')}_{proto.upper()}"
            env[port_prefix] = url
            env[f"{port_prefix}_PROTO"] = proto.lower()
            env[f"{port_prefix}_PORT"] = str(port.get("port"))
            env[f"{port_prefix}_ADDR"] = ip
    return env


def container_env(pod: Obj, container: Obj, ctx: PodContext) -> list[tuple[str, str]]:
    """The container's environment (makeEnvironmentVariables): envFrom first, then env in
    order, each env value expanded against what came before it and the service variables,
    then the service variables the container does not set itself."""
    namespace = (pod.get("metadata") or {}).get("namespace") or "default"
    links = (pod.get("spec") or {}).get("enableServiceLinks")
    services = service_env(ctx.services, namespace, links is not False)
    env: dict[str, str] = {}

    def lookup(key: str) -> str | None:
        return env[key] if key in env else services.get(key)
    for env_from in container.get("envFrom") or []:
        for kind, ref_key, label in (("configmap", "configMapRef", "configMap"), ("secret", "secretRef", "secret")):
            ref = env_from.get(ref_key)
            if ref is None:
                continue
            name = str(ref.get("name") or "")
            obj = _object(ctx, kind, name, bool(ref.get("optional")), namespace)
            if obj is None:
                continue
            prefix = str(env_from.get("prefix") or "")
            invalid = []
            for key, value in (obj.get("data") or {}).items():
                key = prefix + key
                if validation.relaxed_env_var_name(key):
                    invalid.append(key)
                    continue
                env[key] = _decoded(kind, value)
            if invalid and ctx.warn is not None:
                ctx.warn("InvalidEnvironmentVariableNames",
                         f"Keys [{', '.join(sorted(invalid))}] from the EnvFrom {label} {namespace}/{name} were "
                         "skipped since they are considered invalid environment variable names.")
    for item in container.get("env") or []:
        name = item.get("name", "")
        if "value" in item and item.get("value") is not None:
            env[name] = expand(str(item["value"]), lookup)
            continue
        source = item.get("valueFrom") or {}
        if source.get("fieldRef"):
            env[name] = field_ref_value(pod, source["fieldRef"].get("fieldPath", ""), ctx)
        elif source.get("resourceFieldRef"):
            env[name] = resource_field_ref_value(container, source["resourceFieldRef"], ctx)
        elif source.get("configMapKeyRef") or source.get("secretKeyRef"):
            kind = "configmap" if source.get("configMapKeyRef") else "secret"
            ref = source.get("configMapKeyRef") or source.get("secretKeyRef") or {}
            optional = bool(ref.get("optional"))
            obj = _object(ctx, kind, str(ref.get("name") or ""), optional, namespace)
            if obj is None:
                continue
            key = str(ref.get("key") or "")
            data = obj.get("data") or {}
            if key not in data:
                if optional:
                    continue
                what = "ConfigMap" if kind == "configmap" else "Secret"
                raise ConfigError(f"couldn't find key {key} in {what} {namespace}/{ref.get('name', '')}")
            env[name] = _decoded(kind, data[key])
        else:
            env[name] = ""
    return list(env.items()) + [(k, v) for k, v in services.items() if k not in env]


# -- mounts and ports -----------------------------------------------------------------------


def sub_path(vm: Obj, env: Mapping[str, str]) -> str:
    """A volume mount's subPath, or its subPathExpr expanded against the container's
    environment; refused if absolute or stepping out with `..` (makeMounts)."""
    sub = str(vm.get("subPath") or "")
    if vm.get("subPathExpr"):
        sub = expand(str(vm["subPathExpr"]), env.get)
    if not sub:
        return ""
    if os.path.isabs(sub):
        raise ConfigError(f"error SubPath `{sub}` must not be an absolute path")
    if ".." in sub.split("/"):
        raise ConfigError(f"unable to provision SubPath `{sub}`: must not contain '..'")
    return sub


def container_mounts(container: Obj, volume_paths: Mapping[str, str],
                     env: Mapping[str, str] | None = None) -> list[runtime.Mount]:
    """Bind mounts of the container's volumeMounts. A subPath mount points into the
    volume (the kubelet creates a missing subPath directory before the container)."""
    mounts = []
    for vm in container.get("volumeMounts") or []:
        name = vm.get("name", "")
        host = volume_paths.get(name)
        if host is None:
            raise ConfigError(f"volume {name!r} is not available")
        sub = sub_path(vm, env or {})
        if sub:
            host = os.path.join(host, sub)
        mounts.append(runtime.Mount(host, vm.get("mountPath", ""), bool(vm.get("readOnly"))))
    return mounts


def port_bindings(pod: Obj) -> list[runtime.PortBinding]:
    """hostPorts of every container; they are published on the sandbox, which owns the network."""
    spec = pod.get("spec") or {}
    if spec.get("hostNetwork"):
        return []
    out = []
    for c in spec.get("containers") or []:
        for p in c.get("ports") or []:
            if p.get("hostPort"):
                out.append(runtime.PortBinding(int(p["containerPort"]), str(p.get("protocol") or "TCP"),
                                               int(p["hostPort"]), str(p.get("hostIP") or "")))
    return out


def pod_hostname(pod: Obj) -> str:
    """spec.hostname, else the pod's name cut to a DNS label (as GeneratePodHostNameAndDomain)."""
    spec, meta = pod.get("spec") or {}, pod.get("metadata") or {}
    name = spec.get("hostname") or meta.get("name", "")
    return name[:63].rstrip("-.") if len(name) > 63 else name


# -- the records ----------------------------------------------------------------------------


# Used when no cluster DNS is configured: a resolver that does not exist. Docker's
# default would forward a pod's lookups to the node's upstream servers.
NO_DNS = "127.0.0.1"


def pod_dns(pod: Obj, cluster_dns: str, cluster_domain: str) -> tuple[list[str], list[str], list[str]]:
    """(nameservers, searches, options) for the pod, as the kubelet's dnsPolicy rules.

    ClusterFirst (the default; ClusterFirstWithHostNet for host-network pods):
    the cluster DNS with `<ns>.svc.<domain> svc.<domain> <domain>` and ndots:5,
    then dnsConfig merged in. None: dnsConfig only. Default (the node's
    resolver) is served as ClusterFirst's fallback here, for the traffic reason
    given at NO_DNS.
    """
    spec = pod.get("spec") or {}
    policy = spec.get("dnsPolicy") or "ClusterFirst"
    if policy == "ClusterFirst" and spec.get("hostNetwork"):
        policy = "Default"
    extra = spec.get("dnsConfig") or {}
    options: dict[str, str | None] = {}
    if policy == "None":
        servers: list[str] = []
        searches: list[str] = []
    elif policy in ("ClusterFirst", "ClusterFirstWithHostNet") and cluster_dns:
        ns = pod["metadata"].get("namespace") or "default"
        servers = [cluster_dns]
        searches = [f"{ns}.svc.{cluster_domain}", f"svc.{cluster_domain}", cluster_domain]
        options["ndots"] = "5"
    else:
        servers, searches = [NO_DNS], []
    servers += [s for s in extra.get("nameservers") or [] if s not in servers]
    searches += [s for s in extra.get("searches") or [] if s not in searches]
    for o in extra.get("options") or []:
        if o.get("name"):
            options[o["name"]] = o.get("value")
    return (servers[:3], searches[:6],
            [f"{k}:{v}" if v is not None else k for k, v in options.items()])


def sandbox_config(pod: Obj, *, node: str, network: str, attempt: int, cluster_dns: str = "",
                   cluster_domain: str = "cluster.local") -> runtime.SandboxConfig:
    meta, spec = pod["metadata"], pod.get("spec") or {}
    labels = runtime.pod_labels(pod, node)
    labels.update({runtime.CONTAINER_NAME: runtime.SANDBOX_CONTAINER_NAME,
                   runtime.CONTAINER_TYPE: runtime.TYPE_SANDBOX, runtime.ATTEMPT: str(attempt)})
    hosts = []
    for alias in spec.get("hostAliases") or []:
        for hostname in alias.get("hostnames") or []:
            hosts.append((hostname, alias.get("ip", "")))
    dns_servers, dns_search, dns_options = pod_dns(pod, cluster_dns, cluster_domain)
    sysctls = {s["name"]: str(s.get("value", "")) for s in (spec.get("securityContext") or {}).get("sysctls") or []
               if s.get("name")}
    return runtime.SandboxConfig(
        pod_uid=meta["uid"], pod_name=meta["name"], pod_namespace=meta.get("namespace", "default"),
        attempt=attempt, hostname=pod_hostname(pod),
        network="host" if spec.get("hostNetwork") else network, labels=labels,
        ports=tuple(port_bindings(pod)), extra_hosts=tuple(hosts),
        dns=tuple(dns_servers), dns_search=tuple(dns_search), dns_options=tuple(dns_options),
        sysctls=sysctls)


def container_config(pod: Obj, container: Obj, *, sandbox_id: str, restart_count: int,
                     ctx: PodContext) -> runtime.ContainerConfig:
    meta, spec = pod["metadata"], pod.get("spec") or {}
    labels = runtime.pod_labels(pod, ctx.node_name)
    labels.update({
        runtime.CONTAINER_NAME: container["name"], runtime.CONTAINER_TYPE: runtime.TYPE_CONTAINER,
        runtime.CONTAINER_HASH: runtime.hash_container(container),
        runtime.RESTART_COUNT: str(restart_count), runtime.SANDBOX_ID: sandbox_id,
    })
    env = container_env(pod, container, ctx)
    lookup = dict(env).get
    command = container.get("command")
    args = container.get("args")
    shares, quota, period, memory = cpu_and_memory(container)
    sc = container.get("securityContext") or {}
    pod_sc = spec.get("securityContext") or {}
    user = sc.get("runAsUser", pod_sc.get("runAsUser"))
    group = sc.get("runAsGroup", pod_sc.get("runAsGroup"))
    user_text = "" if user is None else str(user) + ("" if group is None else f":{group}")
    caps = sc.get("capabilities") or {}
    return runtime.ContainerConfig(
        name=runtime.container_name(container["name"], meta["name"], meta.get("namespace", "default"),
                                    meta["uid"], restart_count),
        image=container.get("image", ""), labels=labels, sandbox_id=sandbox_id,
        command=tuple(expand(str(c), lookup) for c in command) if command else None,
        args=tuple(expand(str(a), lookup) for a in args) if args else None,
        working_dir=container.get("workingDir") or "",
        env=tuple(env),
        mounts=tuple(container_mounts(container, ctx.volume_paths, dict(env))),
        cpu_shares=shares, cpu_quota=quota, cpu_period=period, memory_limit=memory,
        stdin=bool(container.get("stdin")), stdin_once=bool(container.get("stdinOnce")),
        tty=bool(container.get("tty")), privileged=bool(sc.get("privileged")), user=user_text,
        cap_add=tuple(caps.get("add") or ()), cap_drop=tuple(caps.get("drop") or ()),
        read_only_rootfs=bool(sc.get("readOnlyRootFilesystem")),
        share_pid=bool(spec.get("shareProcessNamespace")),
    )
