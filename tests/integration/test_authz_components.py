"""Every component does its whole job under its own least-privilege identity.

The real controller manager, scheduler and DNS server run as processes, each
with its own client certificate (and so its own user and only its default role); a real
kubelet (with the recording fake runtime instead of Docker) runs in the test
process as `system:node:authz-n3`, under the Node authorizer and NodeRestriction.
A Deployment then goes all the way — ReplicaSet, pods, scheduling, running,
events, scaling down, deletion, and finally the whole namespace is removed by
the namespace controller — and no component is ever refused anything: the
roles hold what the components call. Then the same identities are shown not to
reach past their roles.
"""
from __future__ import annotations

import asyncio
import contextlib
import pathlib
import uuid
from typing import Any, AsyncIterator, Iterator

import dns.message
import dns.query
import dns.rdatatype
import pytest

from minik8s.api import errors
from minik8s.api import resources
from minik8s.client import rest
from minik8s.kubelet import config as kubelet_config
from minik8s.kubelet import fakeruntime
from minik8s.kubelet import kubelet as kubelet_mod
from minik8s.util import procs
from tests.conftest import ComponentProcess
from tests.integration.authz_harness import InProcessApiServer

pytestmark = pytest.mark.integration

Obj = dict[str, Any]
PODS = resources.must("", "v1", "pods")
NODES = resources.must("", "v1", "nodes")
SECRETS = resources.must("", "v1", "secrets")
SERVICES = resources.must("", "v1", "services")
ENDPOINTS = resources.must("", "v1", "endpoints")
EVENTS = resources.must("", "v1", "events")
NAMESPACES = resources.must("", "v1", "namespaces")
LEASES = resources.must("coordination.k8s.io", "v1", "leases")
DEPLOYMENTS = resources.must("apps", "v1", "deployments")
REPLICASETS = resources.must("apps", "v1", "replicasets")
TIMEOUT = 60.0
NODE = "authz-n3"


@pytest.fixture(scope="module")
def server(etcd: procs.EtcdProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessApiServer]:
    s = InProcessApiServer(etcd, tmp_path_factory.mktemp("authz-components"))
    try:
        yield s
    finally:
        s.stop()


@contextlib.asynccontextmanager
async def kubelet(server: InProcessApiServer, tmp: pathlib.Path) -> AsyncIterator[kubelet_mod.Kubelet]:
    cfg = kubelet_config.Config(server=server.url, node_name=NODE, node_ip="127.0.0.1", address="127.0.0.1",
                                port=procs.free_port(), pod_cidr="10.244.77.0/24", root_dir=str(tmp / "kubelet"),
                                lease_interval=1.0, node_status_update_interval=1.0, backoff_base=0.5,
                                backoff_max=2.0, housekeeping_interval=1.0)
    client = server.client("n3")
    k = kubelet_mod.Kubelet(cfg, client, fakeruntime.FakeRuntime(NODE))
    await k.start()
    try:
        yield k
    finally:
        await k.stop()
        await client.close()


def component(server: InProcessApiServer, tmp: pathlib.Path, token: str, *args: str) -> ComponentProcess:
    return ComponentProcess([*args, "--kubeconfig", server.kubeconfig(token)], tmp / f"{args[0]}.log").start()


def deployment(name: str, replicas: int) -> Obj:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "c", "image": "minik8s/busybox:1"}]}}}}


def forbidden_lines(proc: ComponentProcess) -> list[str]:
    return [line for line in proc.log().splitlines() if "forbidden" in line.lower() or " 403" in line]


async def test_components_work_with_their_own_identities(server: InProcessApiServer, tmp_path: pathlib.Path,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    admin = server.client("admin")
    dns_port = procs.free_port()
    procs_: list[ComponentProcess] = [
        component(server, tmp_path, "cm", "controller-manager", "--lease-duration", "4", "--renew-deadline", "3",
                  "--retry-period", "0.5", "--node-monitor-period", "1"),
        component(server, tmp_path, "sched", "scheduler", "--lease-duration", "4", "--renew-deadline", "3",
                  "--retry-period", "0.5"),
        component(server, tmp_path, "dns", "dns", "--bind-address", "127.0.0.1", "--port", str(dns_port)),
    ]
    ns = "authz-" + uuid.uuid4().hex[:6]
    try:
        async with kubelet(server, tmp_path):
            await admin.create(NAMESPACES, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
            await asyncio.to_thread(server.wait_for_service_account, ns)
            await admin.create(DEPLOYMENTS, deployment("web", 3), ns)

            async def running(n: int) -> list[Obj] | None:
                pods = (await admin.list(PODS, ns))["items"]
                ok = [p for p in pods if p["spec"].get("nodeName") == NODE
                      and (p.get("status") or {}).get("phase") == "Running"
                      and not p["metadata"].get("deletionTimestamp")]
                return ok if len(ok) == n and len(pods) == n else None
            await procs.wait_for_async(lambda: running(3), TIMEOUT, what="3 pods scheduled and running")

            # Leader election of both, and the kubelet's heartbeat, each in its own Lease.
            for name, ns_ in (("kube-controller-manager", "kube-system"), ("kube-scheduler", "kube-system"),
                              (NODE, "kube-node-lease")):
                assert await admin.get_or_none(LEASES, name, ns_) is not None, name
            # The node registered itself and reports Ready.
            node = await admin.get(NODES, NODE)
            assert any(c["type"] == "Ready" and c["status"] == "True" for c in node["status"]["conditions"])
            # Events from the scheduler and the kubelet, and from the controllers.
            sources = {(e.get("source") or {}).get("component") or e.get("reportingComponent")
                       for e in (await admin.list(EVENTS, ns))["items"]}
            assert {"default-scheduler", "kubelet", "replicaset-controller", "deployment-controller"} <= sources, \
                sources
            # The DNS server keeps its Service, and answers from what it may list.
            await procs.wait_for_async(lambda: admin.get_or_none(SERVICES, "kube-dns", "kube-system"), TIMEOUT,
                                       what="the kube-dns Service")

            def lookup() -> list[str]:
                q = dns.message.make_query("kubernetes.default.svc.cluster.local", dns.rdatatype.A)
                answer = dns.query.udp(q, "127.0.0.1", timeout=2, port=dns_port)
                return [r.address for rrset in answer.answer for r in rrset]
            assert await asyncio.to_thread(lookup) == ["10.96.0.1"]

            # Scaling down: the controllers delete, the kubelet finishes the deletions.
            await admin.patch(DEPLOYMENTS, "web", {"spec": {"replicas": 1}}, ns)
            await procs.wait_for_async(lambda: running(1), TIMEOUT, what="the deployment to scale down to 1")
            # Deleting the namespace: the namespace controller removes everything, the GC and kubelet help.
            await admin.delete(NAMESPACES, ns)
            await procs.wait_for_async(lambda: _gone(admin, ns), TIMEOUT, what="the namespace to be deleted")
            ns = ""
        for p in procs_:
            assert forbidden_lines(p) == [], (p.args[0], forbidden_lines(p)[:5])
            assert p.proc is not None and p.proc.poll() is None, p.log()
        # The kubelet runs in this process: its complaints are in the captured log.
        refused = [r.getMessage() for r in caplog.records if "forbidden" in r.getMessage().lower()]
        assert refused == [], refused[:5]
    finally:
        for p in procs_:
            p.stop()
        if ns:
            with contextlib.suppress(errors.StatusError):
                await admin.delete(NAMESPACES, ns)
        with contextlib.suppress(errors.StatusError):
            await admin.delete(NODES, NODE)
        await admin.close()


async def _gone(admin: rest.Client, ns: str) -> bool:
    return await admin.get_or_none(NAMESPACES, ns) is None


async def test_component_identities_reach_no_further(server: InProcessApiServer) -> None:
    """The calls each component makes are allowed; the nearest ones it does not make are refused."""
    clients = {t: server.client(t) for t in ("admin", "cm", "sched", "proxy", "dns", "net")}
    admin = clients["admin"]
    try:
        await admin.create(SECRETS, {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "top-secret"},
                                     "stringData": {"k": "v"}}, "default")
        # proxy: services and endpoints, list and watch.
        await clients["proxy"].list(SERVICES)
        await clients["proxy"].list(ENDPOINTS)
        for call in (lambda: clients["proxy"].get(SECRETS, "top-secret", "default"),
                     lambda: clients["proxy"].list(PODS),
                     lambda: clients["proxy"].create(SERVICES, {"apiVersion": "v1", "kind": "Service",
                                                                "metadata": {"name": "x"}, "spec": {
                                                                    "ports": [{"port": 80}]}}, "default")):
            await _refused(call)
        # network agent: all nodes, its node's annotations.
        await clients["net"].list(NODES)
        await _refused(lambda: clients["net"].list(PODS))
        await _refused(lambda: clients["net"].get(SECRETS, "top-secret", "default"))
        # DNS: its own Service in kube-system, no other.
        await _refused(lambda: clients["dns"].create(SERVICES, {"apiVersion": "v1", "kind": "Service",
                                                                "metadata": {"name": "kube-dns"},
                                                                "spec": {"ports": [{"port": 53}]}}, "default"))
        await _refused(lambda: clients["dns"].patch(SERVICES, "kubernetes", {"metadata": {"labels": {"x": "y"}}},
                                                    "default"))
        # scheduler: no secrets, no pod creation, not the controller manager's lease.
        await clients["sched"].list(PODS)
        await _refused(lambda: clients["sched"].get(SECRETS, "top-secret", "default"))
        await _refused(lambda: clients["sched"].create(PODS, {"apiVersion": "v1", "kind": "Pod",
                                                              "metadata": {"name": "x"}, "spec": {
                                                                  "containers": [{"name": "c", "image": "i"}]}},
                                                       "default"))
        lease = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                 "metadata": {"name": "kube-controller-manager", "namespace": "kube-system"},
                 "spec": {"holderIdentity": "sched"}}
        await _refused(lambda: clients["sched"].update(LEASES, lease))
        # controller manager: reads everything, writes no secrets and no RBAC.
        await _refused(lambda: clients["cm"].create(SECRETS, {"apiVersion": "v1", "kind": "Secret",
                                                              "metadata": {"name": "x"}}, "default"))
        await _refused(lambda: clients["cm"].request(
            "POST", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
            body={"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                  "metadata": {"name": "cm-root"}, "roleRef": {"apiGroup": "rbac.authorization.k8s.io",
                                                               "kind": "ClusterRole", "name": "cluster-admin"},
                  "subjects": [{"kind": "User", "name": "system:kube-controller-manager"}]}))
        assert await admin.get_or_none(SERVICES, "x", "default") is None
        assert await admin.get_or_none(SECRETS, "x", "default") is None
    finally:
        with contextlib.suppress(errors.StatusError):
            await admin.delete(SECRETS, "top-secret", "default")
        for c in clients.values():
            await c.close()


async def _refused(call: Any) -> None:
    with pytest.raises(errors.StatusError) as e:
        await call()
    assert e.value.code == 403, e.value
