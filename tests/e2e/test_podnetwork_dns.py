"""Cluster DNS from inside pods on every node: the resolv.conf the kubelet gives a pod,
a Service by its full name and by its short name (through the search list), a name
in another namespace, and the kube-dns Service the DNS server keeps."""
from __future__ import annotations

import uuid

from tests.e2e.conftest import WEB_IMAGE, Cluster, wait_until
from tests.e2e.test_podnetwork_vxlan import http_get, pod_manifest, sh, start_pods

DNS_IP = "10.96.0.10"


def test_kube_dns_service_points_at_the_dns_server(healthy: Cluster) -> None:
    svc = healthy.get_json("service", "kube-dns", "-n", "kube-system")
    assert svc["spec"]["clusterIP"] == DNS_IP
    assert sorted((p["port"], p["protocol"]) for p in svc["spec"]["ports"]) == [(53, "TCP"), (53, "UDP")]
    ep = wait_until(lambda: healthy.get_json("endpoints", "kube-dns", "-n", "kube-system").get("subsets"), 30,
                    "kube-dns endpoints")
    assert ep[0]["addresses"], ep


def test_services_resolve_by_full_and_short_name_from_pods(healthy: Cluster, namespace: str) -> None:
    nodes = sorted(healthy.nodes)
    manifests = [pod_manifest(f"web-{nodes[0]}", nodes[0], WEB_IMAGE, labels={"app": "web"})]
    manifests += [pod_manifest(f"bb-{node}", node, command=["sleep", "3600"]) for node in nodes]
    start_pods(healthy, namespace, manifests)
    healthy.apply({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
                   "spec": {"selector": {"app": "web"}, "ports": [{"name": "http", "port": 80}]}}, namespace)
    cluster_ip = healthy.get_json("service", "web", "-n", namespace)["spec"]["clusterIP"]
    full = f"web.{namespace}.svc.cluster.local"
    answer = f"Name:\t{full}\nAddress: {cluster_ip}"

    for node in nodes:
        pod = f"bb-{node}"
        conf = sh(healthy, namespace, pod, "cat /etc/resolv.conf", check=True).stdout
        assert f"nameserver {DNS_IP}" in conf, conf
        assert f"search {namespace}.svc.cluster.local svc.cluster.local cluster.local" in conf, conf
        assert "ndots:5" in conf, conf
        # busybox nslookup: the full name, and the short one through the search list (it also
        # prints the search domains that did not match, and exits 1 for them: only the answer counts).
        wait_until(lambda pod=pod: answer in sh(healthy, namespace, pod, f"nslookup {full}").stdout, 30,
                   f"{pod} to resolve {full}")
        assert answer in sh(healthy, namespace, pod, "nslookup web").stdout
        # The short name used for real: libc's resolver (search list, ndots:5), then the proxy.
        wait_until(lambda pod=pod: http_get(healthy, namespace, pod, "web") == f"web-{nodes[0]}", 30,
                   f"{pod} to reach http://web/")
        unknown = sh(healthy, namespace, pod, f"nslookup nope.{namespace}.svc.cluster.local").stdout
        assert "NXDOMAIN" in unknown and cluster_ip not in unknown

    # Another namespace: `web.<namespace>` through the search list.
    other = "e2e-" + uuid.uuid4().hex[:8]
    healthy.kubectl("create", "namespace", other)
    try:
        start_pods(healthy, other, [pod_manifest("client", nodes[-1], command=["sleep", "3600"])])
        wait_until(lambda: http_get(healthy, other, "client", f"web.{namespace}") == f"web-{nodes[0]}", 30,
                   f"a pod in {other} to reach http://web.{namespace}/")
        assert http_get(healthy, other, "client", "web") == ""  # not in its own namespace
    finally:
        healthy.kubectl("delete", "namespace", other, "--wait=false", check=False)
