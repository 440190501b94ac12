"""Translating a pod's spec into engine configuration (pure functions)."""
from __future__ import annotations

from typing import Any

import pytest

from minik8s.kubelet import containers
from minik8s.kubelet import runtime


def pod(*cs: dict[str, Any], **spec: Any) -> dict[str, Any]:
    return {"metadata": {"name": "web-1", "namespace": "shop", "uid": "u-1", "labels": {"app": "web"},
                         "annotations": {"team": "a"}},
            "spec": {"nodeName": "n1", "serviceAccountName": "default", "containers": list(cs), **spec}}


CTX = containers.PodContext(node_name="n1", host_ip="192.0.2.1", pod_ip="10.244.0.7",
                            volume_paths={"data": "/var/lib/x/data", "host": "/srv"},
                            node_allocatable={"cpu": "2", "memory": "1Gi"})


def test_seed_resources_become_quota_shares_and_memory_limit() -> None:
    c = {"name": "app", "resources": {"limits": {"cpu": 0.3, "memory": "400Mi"},
                                      "requests": {"cpu": 0.3, "memory": "300Mi"}}}
    assert containers.cpu_and_memory(c) == (307, 30000, 100000, 400 * 1024 * 1024)


@pytest.mark.parametrize("resources, expected", [
    ({}, (2, 0, 0, 0)),  # BestEffort: minimum shares, no quota
    ({"limits": {"cpu": "1"}}, (1024, 100000, 100000, 0)),  # shares from the limit when no request
    ({"requests": {"cpu": "250m"}}, (256, 0, 0, 0)),
    ({"requests": {"cpu": "1m"}}, (2, 0, 0, 0)),
    ({"limits": {"cpu": "5m"}}, (5, 1000, 100000, 0)),  # quota floor of 1 ms
    ({"limits": {"memory": "1Gi"}}, (2, 0, 0, 1024 ** 3)),
])
def test_cpu_and_memory(resources: dict[str, Any], expected: tuple[int, int, int, int]) -> None:
    assert containers.cpu_and_memory({"name": "c", "resources": resources}) == expected


@pytest.mark.parametrize("text, expected", [
    ("$(A)-$(B)", "1-$(B)"),
    ("$$(A)", "$(A)"),
    ("cost $5", "cost $5"),
    ("$(A", "$(A"),
    ("x$", "x$"),
])
def test_expand(text: str, expected: str) -> None:
    assert containers.expand(text, {"A": "1"}.get) == expected


def test_env_values_field_refs_and_expansion() -> None:
    c = {"name": "app", "env": [
        {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        {"name": "NS", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
        {"name": "IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
        {"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
        {"name": "HOST", "valueFrom": {"fieldRef": {"fieldPath": "status.hostIP"}}},
        {"name": "APP", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['app']"}}},
        {"name": "TEAM", "valueFrom": {"fieldRef": {"fieldPath": "metadata.annotations['team']"}}},
        {"name": "URL", "value": "http://$(IP):80/$(POD)"},
        {"name": "MEM", "valueFrom": {"resourceFieldRef": {"resource": "limits.memory", "divisor": "1Mi"}}},
    ]}
    env = dict(containers.container_env(pod(c), c, CTX))
    assert env == {"POD": "web-1", "NS": "shop", "IP": "10.244.0.7", "NODE": "n1", "HOST": "192.0.2.1",
                   "APP": "web", "TEAM": "a", "URL": "http://10.244.0.7:80/web-1", "MEM": "1024"}


def _svc(namespace: str, name: str, ip: str, *ports: dict[str, Any]) -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": namespace}, "spec": {"clusterIP": ip, "ports": list(ports)}}


SERVICES = (
    _svc("default", "kubernetes", "10.96.0.1", {"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}),
    _svc("shop", "redis-primary", "10.96.0.11", {"port": 6379}, {"name": "metrics", "port": 9121, "protocol": "UDP"}),
    _svc("shop", "headless", "None", {"port": 80}),
    _svc("other", "db", "10.96.0.12", {"port": 5432}),
)


def test_service_environment_variables() -> None:
    """As the kubelet's FromServices: the master Service always, the namespace's with enableServiceLinks."""
    env = containers.service_env(SERVICES, "shop", True)
    assert env == {
        "KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443",
        "KUBERNETES_SERVICE_PORT_HTTPS": "443", "KUBERNETES_PORT": "tcp://10.96.0.1:443",
        "KUBERNETES_PORT_443_TCP": "tcp://10.96.0.1:443", "KUBERNETES_PORT_443_TCP_PROTO": "tcp",
        "KUBERNETES_PORT_443_TCP_PORT": "443", "KUBERNETES_PORT_443_TCP_ADDR": "10.96.0.1",
        "REDIS_PRIMARY_SERVICE_HOST": "10.96.0.11", "REDIS_PRIMARY_SERVICE_PORT": "6379",
        "REDIS_PRIMARY_SERVICE_PORT_METRICS": "9121", "REDIS_PRIMARY_PORT": "tcp://10.96.0.11:6379",
        "REDIS_PRIMARY_PORT_6379_TCP": "tcp://10.96.0.11:6379", "REDIS_PRIMARY_PORT_6379_TCP_PROTO": "tcp",
        "REDIS_PRIMARY_PORT_6379_TCP_PORT": "6379", "REDIS_PRIMARY_PORT_6379_TCP_ADDR": "10.96.0.11",
        "REDIS_PRIMARY_PORT_9121_UDP": "udp://10.96.0.11:9121", "REDIS_PRIMARY_PORT_9121_UDP_PROTO": "udp",
        "REDIS_PRIMARY_PORT_9121_UDP_PORT": "9121", "REDIS_PRIMARY_PORT_9121_UDP_ADDR": "10.96.0.11",
    }
    without = containers.service_env(SERVICES, "shop", False)
    assert set(without) == {k for k in env if k.startswith("KUBERNETES_")}
    # The pod's own namespace's `kubernetes` Service wins over the master's.
    own = containers.service_env((*SERVICES, _svc("shop", "kubernetes", "10.96.0.99", {"port": 80})), "shop", False)
    assert own["KUBERNETES_SERVICE_HOST"] == "10.96.0.1"
    own = containers.service_env((*SERVICES, _svc("shop", "kubernetes", "10.96.0.99", {"port": 80})), "shop", True)
    assert own["KUBERNETES_SERVICE_HOST"] == "10.96.0.99"


def test_container_env_has_the_service_variables_under_its_own() -> None:
    import dataclasses

    ctx = dataclasses.replace(CTX, services=SERVICES)
    c = {"name": "app", "env": [{"name": "API", "value": "https://$(KUBERNETES_SERVICE_HOST):$(KUBERNETES_SERVICE_PORT)"},
                                {"name": "REDIS_PRIMARY_SERVICE_PORT", "value": "1"}]}
    env = dict(containers.container_env(pod(c), c, ctx))
    assert env["API"] == "https://10.96.0.1:443"
    assert env["REDIS_PRIMARY_SERVICE_PORT"] == "1"  # the container's own value wins
    assert env["KUBERNETES_SERVICE_PORT_HTTPS"] == "443"
    off = dict(containers.container_env(pod(c, enableServiceLinks=False), c, ctx))
    assert "REDIS_PRIMARY_SERVICE_HOST" not in off and off["KUBERNETES_SERVICE_HOST"] == "10.96.0.1"


def test_missing_config_map_is_a_config_error() -> None:
    c = {"name": "app", "env": [{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "cm", "key": "k"}}}]}
    with pytest.raises(containers.ConfigError) as e:
        containers.container_env(pod(c), c, CTX)
    assert e.value.reason == "CreateContainerConfigError"


def test_container_config() -> None:
    c = {"name": "app", "image": "minik8s/busybox:1", "command": ["sh", "-c"], "args": ["echo $(MSG)"],
         "workingDir": "/w", "env": [{"name": "MSG", "value": "hi"}],
         "volumeMounts": [{"name": "data", "mountPath": "/data"},
                          {"name": "host", "mountPath": "/h", "readOnly": True, "subPath": "sub"}],
         "securityContext": {"privileged": True, "runAsUser": 1000, "capabilities": {"add": ["NET_ADMIN"]}}}
    cfg = containers.container_config(pod(c), c, sandbox_id="sb1", restart_count=3, ctx=CTX)
    assert cfg.name == "k8s_app_web-1_shop_u-1_3"
    assert cfg.command == ("sh", "-c") and cfg.args == ("echo hi",)
    assert cfg.working_dir == "/w" and cfg.env == (("MSG", "hi"),)
    assert cfg.mounts == (runtime.Mount("/var/lib/x/data", "/data", False), runtime.Mount("/srv/sub", "/h", True))
    assert cfg.privileged and cfg.user == "1000" and cfg.cap_add == ("NET_ADMIN",)
    assert cfg.labels[runtime.RESTART_COUNT] == "3" and cfg.labels[runtime.SANDBOX_ID] == "sb1"
    assert cfg.labels[runtime.POD_NAME] == "web-1" and cfg.labels[runtime.POD_NAMESPACE] == "shop"
    assert cfg.labels[runtime.NODE] == "n1"


def test_args_alone_keep_the_image_entrypoint() -> None:
    c = {"name": "app", "image": "x", "args": ["--port", "80"]}
    cfg = containers.container_config(pod(c), c, sandbox_id="s", restart_count=0, ctx=CTX)
    assert cfg.command is None and cfg.args == ("--port", "80")


def test_host_ports_are_published_on_the_sandbox() -> None:
    p = pod({"name": "a", "ports": [{"containerPort": 80, "hostPort": 8080, "protocol": "TCP"},
                                    {"containerPort": 81}]},
            {"name": "b", "ports": [{"containerPort": 53, "hostPort": 5353, "protocol": "UDP", "hostIP": "127.0.0.1"}]})
    sb = containers.sandbox_config(p, node="n1", network="pods", attempt=2)
    assert sb.ports == (runtime.PortBinding(80, "TCP", 8080), runtime.PortBinding(53, "UDP", 5353, "127.0.0.1"))
    assert sb.hostname == "web-1" and sb.network == "pods" and sb.attempt == 2
    assert sb.labels[runtime.CONTAINER_TYPE] == runtime.TYPE_SANDBOX
    assert sb.labels[runtime.CONTAINER_NAME] == "POD"


def test_host_network_pods_use_the_host_network() -> None:
    sb = containers.sandbox_config(pod({"name": "a"}, hostNetwork=True), node="n1", network="pods", attempt=0)
    assert sb.network == "host" and sb.ports == ()


def test_long_pod_names_are_cut_to_a_hostname() -> None:
    p = pod({"name": "a"})
    p["metadata"]["name"] = "x" * 62 + "-yz"
    assert containers.pod_hostname(p) == "x" * 62


def test_container_hash_ignores_key_order_but_not_values() -> None:
    a = {"name": "c", "image": "i:1", "env": [{"name": "A", "value": "1"}]}
    b = {"env": [{"value": "1", "name": "A"}], "image": "i:1", "name": "c"}
    assert runtime.hash_container(a) == runtime.hash_container(b)
    assert runtime.hash_container(a) != runtime.hash_container({**a, "image": "i:2"})


def _dns_pod(**spec: object) -> dict:
    return {"metadata": {"name": "p", "namespace": "team", "uid": "u"}, "spec": dict(spec)}


def test_cluster_first_dns() -> None:
    from minik8s.kubelet import containers as c
    servers, search, options = c.pod_dns(_dns_pod(), "10.96.0.10", "cluster.local")
    assert servers == ["10.96.0.10"]
    assert search == ["team.svc.cluster.local", "svc.cluster.local", "cluster.local"]
    assert options == ["ndots:5"]


def test_dns_config_merges_and_none_policy_uses_only_it() -> None:
    from minik8s.kubelet import containers as c
    extra = {"nameservers": ["10.0.0.2"], "searches": ["corp"], "options": [{"name": "ndots", "value": "2"},
                                                                          {"name": "edns0"}]}
    servers, search, options = c.pod_dns(_dns_pod(dnsConfig=extra), "10.96.0.10", "cluster.local")
    assert servers == ["10.96.0.10", "10.0.0.2"] and search[-1] == "corp" and options == ["ndots:2", "edns0"]
    servers, search, options = c.pod_dns(_dns_pod(dnsPolicy="None", dnsConfig=extra), "10.96.0.10", "x")
    assert servers == ["10.0.0.2"] and search == ["corp"]


def test_no_cluster_dns_never_falls_back_to_the_nodes_resolver() -> None:
    from minik8s.kubelet import containers as c
    for pod in (_dns_pod(), _dns_pod(dnsPolicy="Default"), _dns_pod(hostNetwork=True)):
        servers, _, _ = c.pod_dns(pod, "", "cluster.local")
        assert servers == [c.NO_DNS]
    servers, _, _ = c.pod_dns(_dns_pod(dnsPolicy="ClusterFirstWithHostNet", hostNetwork=True), "10.96.0.10", "d")
    assert servers == ["10.96.0.10"]
