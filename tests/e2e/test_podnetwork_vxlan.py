"""The pod network on the session's cluster (backend vxlan, the default): pod to pod across
every pair of nodes, pods seeing each other's real addresses, a node reaching pods on the
others, and pods reaching the master (masqueraded, it has no route to pod CIDRs).

The helpers here are shared with test_podnetwork_hostgw.py and test_podnetwork_dns.py.
Pods are pinned with spec.nodeName so every node pair is covered whatever the scheduler
would do; commands run in pods through `kubectl exec` (busybox: nc, nslookup, netstat).
"""
from __future__ import annotations

import ipaddress
import json
import struct
import subprocess
from typing import Any

import yaml

from tests.e2e.conftest import WEB_IMAGE, Cluster, run, wait_until

BUSYBOX = "minik8s/busybox:1"
BACKEND_TYPE = "flannel.alpha.coreos.com/backend-type"
# A server that answers each connection with the pod's TCP connections: the peer address
# it shows is the client's address as this pod sees it (masqueraded or not).
PEER_SERVER = "while true; do nc -l -p 9000 -e netstat -tn; done"


def pod_manifest(name: str, node: str, image: str = BUSYBOX, command: list[str] | None = None,
                 labels: dict[str, str] | None = None) -> dict[str, Any]:
    container: dict[str, Any] = {"name": "main", "image": image, "imagePullPolicy": "IfNotPresent"}
    if command:
        container["command"] = command
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": labels or {}},
            "spec": {"nodeName": node, "terminationGracePeriodSeconds": 1, "containers": [container]}}


def start_pods(cluster: Cluster, namespace: str, manifests: list[dict[str, Any]],
               timeout: float = 90) -> dict[str, dict[str, Any]]:
    """Create the pods and wait until all are Ready; name → pod (with its IP)."""
    # Separate documents, not a v1 List: kubectl validates a List client-side,
    # which needs the OpenAPI v2 schemas minik8s does not serve (docs/apiserver.md).
    cluster.kubectl("apply", "-n", namespace, "-f", "-", input="---\n".join(yaml.safe_dump(m) for m in manifests))
    names = {m["metadata"]["name"] for m in manifests}

    def ready() -> dict[str, dict[str, Any]] | None:
        pods = {p["metadata"]["name"]: p for p in cluster.pods(namespace) if p["metadata"]["name"] in names}
        ok = all(any(c.get("type") == "Ready" and c.get("status") == "True"
                     for c in (p.get("status") or {}).get("conditions") or []) and p["status"].get("podIP")
                 for p in pods.values())
        return pods if ok and len(pods) == len(names) else None

    return wait_until(ready, timeout, f"pods {sorted(names)} Ready")


def sh(cluster: Cluster, namespace: str, pod: str, script: str, check: bool = False,
       timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return cluster.kubectl("exec", "-n", namespace, pod, "--", "sh", "-c", script, check=check, timeout=timeout)


def http_get(cluster: Cluster, namespace: str, pod: str, host: str, port: int = 80, path: str = "/") -> str:
    """The body of GET http://host:port/path from inside `pod` (busybox nc; "" on failure)."""
    request = f"GET {path} HTTP/1.0\\r\\nHost: {host}\\r\\n\\r\\n"
    out = sh(cluster, namespace, pod, f'(printf "{request}"; sleep 1) | nc -w 3 {host} {port}').stdout
    _, _, body = out.replace("\r\n", "\n").partition("\n\n")
    return body.strip()


def tls_client_hello() -> bytes:
    """A minimal TLS 1.2 ClientHello a current OpenSSL server answers: ECDHE-ECDSA/RSA-AES128-GCM,
    x25519/P-256, ECDSA-SHA256/RSA-PSS signatures. busybox's own TLS client (wget https://)
    cannot be the probe: it sends no signature_algorithms, which leaves a TLS 1.2 server only
    SHA-1 handshake signatures, refused by OpenSSL 3 at its default security level (the API
    server answers it with "no shared cipher")."""
    def ext(kind: int, data: bytes) -> bytes:
        return struct.pack("!HH", kind, len(data)) + data
    extensions = (ext(0x000a, bytes.fromhex("0004001d0017")) + ext(0x000b, bytes.fromhex("0100"))
                  + ext(0x000d, bytes.fromhex("000404030804")))
    body = (bytes.fromhex("0303") + bytes(32) + b"\x00" + bytes.fromhex("0004c02bc02f") + bytes.fromhex("0100")
            + struct.pack("!H", len(extensions)) + extensions)
    handshake = b"\x01" + struct.pack("!I", len(body))[1:] + body
    return b"\x16\x03\x01" + struct.pack("!H", len(handshake)) + handshake


def tls_server_hello(cluster: Cluster, namespace: str, pod: str, host: str, port: str) -> str:
    """The first bytes (hex) a TLS server at host:port answers a ClientHello from `pod` with:
    "16 03 03" is a TLS 1.2 handshake record, the ServerHello ("" when nothing answered)."""
    hello = "".join(f"\\{b:03o}" for b in tls_client_hello())
    script = f"(printf '{hello}'; sleep 1) | nc -w 3 {host} {port} | head -c 3 | od -An -tx1"
    return sh(cluster, namespace, pod, script).stdout.strip()


def node_pods(cluster: Cluster, namespace: str) -> dict[str, dict[str, Any]]:
    """On every node: `web-<node>` (answers with its name) and `bb-<node>` (a busybox client)."""
    manifests = []
    for node in sorted(cluster.nodes):
        manifests.append(pod_manifest(f"web-{node}", node, WEB_IMAGE, labels={"app": "web"}))
        manifests.append(pod_manifest(f"bb-{node}", node, command=["sleep", "3600"]))
        manifests.append(pod_manifest(f"peer-{node}", node, command=["sh", "-c", PEER_SERVER]))
    return start_pods(cluster, namespace, manifests)


def backends(cluster: Cluster) -> dict[str, str]:
    items = cluster.get_json("nodes")["items"]
    return {n["metadata"]["name"]: (n["metadata"].get("annotations") or {}).get(BACKEND_TYPE, "") for n in items}


def node_routes(cluster: Cluster, node: str) -> dict[str, dict[str, Any]]:
    """`ip route` of a local cluster node's namespace, by destination."""
    ns = f"/run/netns/mk8s-{cluster.name}-{node}"
    out = run(["nsenter", f"--net={ns}", "--", "ip", "-j", "route", "show"]).stdout
    return {r["dst"]: r for r in json.loads(out or "[]")}


def check_pod_network(cluster: Cluster, namespace: str) -> None:
    """Every pod-network promise, between every pair of nodes."""
    pods = node_pods(cluster, namespace)
    nodes = sorted(cluster.nodes)
    assert len(nodes) >= 2, "needs at least two nodes"
    ip = {name: p["status"]["podIP"] for name, p in pods.items()}
    for a in nodes:
        for b in nodes:
            if a == b:
                continue
            # Pod to pod across nodes (TCP through the backend); the first may wait for routes.
            wait_until(lambda a=a, b=b: http_get(cluster, namespace, f"bb-{a}", ip[f"web-{b}"]) == f"web-{b}",
                       30, f"bb-{a} to reach web-{b} at {ip[f'web-{b}']}")
            # No masquerading between pods: the server sees the client pod's own address.
            seen = sh(cluster, namespace, f"bb-{a}", f"nc -w 3 {ip[f'peer-{b}']} 9000").stdout
            assert f"{ip[f'bb-{a}']}:" in seen, f"peer-{b} saw {seen!r}, not bb-{a} ({ip[f'bb-{a}']})"
            # A node reaches pods on the other nodes.
            assert cluster.ops.http_from(a, f"http://{ip[f'web-{b}']}/").strip() == f"web-{b}"
    # Pods reach the master, outside the cluster CIDR: only possible masqueraded.
    host, port = cluster.server.split("//", 1)[1].rsplit(":", 1)
    try:
        if ipaddress.ip_address(host).is_loopback:
            return  # a tunnelled API server: not an address pods can reach
    except ValueError:
        return  # a host name: pods resolve only cluster names
    for a in nodes:
        # The API port speaks only TLS: the API server's ServerHello is the answer (reachability
        # is the point here, not trust).
        assert tls_server_hello(cluster, namespace, f"bb-{a}", host, port) == "16 03 03", f"bb-{a} to the master"


def test_vxlan_is_the_default_backend_with_a_tunnel_route_per_node(healthy: Cluster) -> None:
    wait_until(lambda: set(backends(healthy).values()) == {"vxlan"}, 60, "every node to publish backend vxlan")
    if not healthy.ops.local:
        return
    cidrs = {n["metadata"]["name"]: n["spec"]["podCIDR"] for n in healthy.get_json("nodes")["items"]}
    for node in healthy.nodes:
        routes = node_routes(healthy, node)
        for other, cidr in cidrs.items():
            if other != node:
                assert routes[cidr]["dev"] == "flannel.1", routes[cidr]
                assert routes[cidr]["gateway"] == cidr.split("/")[0]


def test_pod_to_pod_across_nodes_vxlan(healthy: Cluster, namespace: str) -> None:
    wait_until(lambda: set(backends(healthy).values()) == {"vxlan"}, 60, "every node on backend vxlan")
    check_pod_network(healthy, namespace)
