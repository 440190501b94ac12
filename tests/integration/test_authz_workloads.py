"""The new workloads and the kubelet's ConfigMap/Secret reads under least-privilege identities.

The controller manager and scheduler run as processes with their own client
certificates (their default roles only); a kubelet with the fake runtime runs in the test
process as `system:node:authz-n3`, under the Node authorizer. A Job runs to
Complete, a DaemonSet puts its pod on the node through the scheduler, and a
pod's ConfigMap volume and Secret env are read by the kubelet through
name-pinned watches — and nobody is refused anything.
"""
from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import pathlib
import uuid
from typing import Any, AsyncIterator, Iterator

import pytest

from minik8s.api import errors
from minik8s.api import resources
from minik8s.kubelet import config as kubelet_config
from minik8s.kubelet import fakeruntime
from minik8s.kubelet import kubelet as kubelet_mod
from minik8s.kubelet import runtime
from minik8s.util import procs
from tests.conftest import ComponentProcess
from tests.integration.authz_harness import InProcessApiServer

pytestmark = pytest.mark.integration

Obj = dict[str, Any]
PODS = resources.must("", "v1", "pods")
NODES = resources.must("", "v1", "nodes")
NAMESPACES = resources.must("", "v1", "namespaces")
CONFIGMAPS = resources.must("", "v1", "configmaps")
SECRETS = resources.must("", "v1", "secrets")
JOBS = resources.must("batch", "v1", "jobs")
DAEMONSETS = resources.must("apps", "v1", "daemonsets")
NODE = "authz-n3"
TIMEOUT = 60.0


@pytest.fixture(scope="module")
def server(etcd: procs.EtcdProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessApiServer]:
    s = InProcessApiServer(etcd, tmp_path_factory.mktemp("authz-workloads"))
    try:
        yield s
    finally:
        s.stop()


@contextlib.asynccontextmanager
async def kubelet(server: InProcessApiServer, tmp: pathlib.Path
                  ) -> AsyncIterator[tuple[kubelet_mod.Kubelet, fakeruntime.FakeRuntime]]:
    cfg = kubelet_config.Config(server=server.url, node_name=NODE, node_ip="127.0.0.1", address="127.0.0.1",
                                port=procs.free_port(), pod_cidr="10.244.78.0/24", root_dir=str(tmp / "kubelet"),
                                lease_interval=1.0, node_status_update_interval=1.0, backoff_base=0.5,
                                backoff_max=2.0, housekeeping_interval=1.0)
    client = server.client("n3")
    rt = fakeruntime.FakeRuntime(NODE)
    k = kubelet_mod.Kubelet(cfg, client, rt)
    await k.start()
    try:
        yield k, rt
    finally:
        await k.stop()
        await client.close()


def component(server: InProcessApiServer, tmp: pathlib.Path, token: str, *args: str) -> ComponentProcess:
    return ComponentProcess([*args, "--kubeconfig", server.kubeconfig(token)], tmp / f"{args[0]}.log").start()


def forbidden_lines(proc: ComponentProcess) -> list[str]:
    return [line for line in proc.log().splitlines() if "forbidden" in line.lower() or " 403" in line]


async def test_workloads_and_pod_config_under_their_identities(server: InProcessApiServer, tmp_path: pathlib.Path,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    admin = server.client("admin")
    components = [
        component(server, tmp_path, "cm", "controller-manager", "--lease-duration", "4", "--renew-deadline", "3",
                  "--retry-period", "0.5", "--controllers", "job,ttl-after-finished,daemonset,garbagecollector,namespace"),
        component(server, tmp_path, "sched", "scheduler", "--lease-duration", "4", "--renew-deadline", "3",
                  "--retry-period", "0.5"),
    ]
    ns = "authz-" + uuid.uuid4().hex[:6]
    try:
        async with kubelet(server, tmp_path) as (k, rt):
            await admin.create(NAMESPACES, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
            await asyncio.to_thread(server.wait_for_service_account, ns)
            # A pod using a ConfigMap volume and a Secret env var: the kubelet reads just those two.
            await admin.create(CONFIGMAPS, {"metadata": {"name": "settings"}, "data": {"mode": "fast"}}, ns)
            await admin.create(SECRETS, {"metadata": {"name": "creds"},
                                         "data": {"password": base64.b64encode(b"s3cret").decode()}}, ns)
            pod = await admin.create(PODS, {"metadata": {"name": "configured"}, "spec": {
                "nodeName": NODE, "volumes": [{"name": "cfg", "configMap": {"name": "settings"}}],
                "containers": [{"name": "app", "image": "minik8s/busybox:1",
                                "volumeMounts": [{"name": "cfg", "mountPath": "/etc/cfg"}],
                                "env": [{"name": "PASSWORD", "valueFrom": {"secretKeyRef": {
                                    "name": "creds", "key": "password"}}}]}]}}, ns)
            uid = pod["metadata"]["uid"]

            def app_running() -> fakeruntime.FakeContainer | None:
                found = rt.find(uid, "app", runtime.RUNNING)
                return found[0] if found else None
            app = await procs.wait_for_async(app_running, TIMEOUT, what="the configured pod's container")
            assert ("PASSWORD", "s3cret") in app.config.env
            host = app.config.mounts[0].host_path
            assert open(os.path.join(host, "mode"), encoding="utf-8").read() == "fast"
            cm = await admin.get(CONFIGMAPS, "settings", ns)
            cm["data"] = {"mode": "slow"}
            await admin.update(CONFIGMAPS, cm)

            def updated() -> bool:
                return open(os.path.join(host, "mode"), encoding="utf-8").read() == "slow"
            await procs.wait_for_async(updated, TIMEOUT, what="the ConfigMap update in the volume")

            # A Job, created and counted by the job controller as the controller manager.
            await admin.create(JOBS, {"metadata": {"name": "once"}, "spec": {"ttlSecondsAfterFinished": 1,
                                                                  "template": {"spec": {
                "restartPolicy": "Never", "containers": [{"name": "work", "image": "minik8s/busybox:1"}]}}}}, ns)

            async def job_pod() -> Obj | None:
                pods = (await admin.list(PODS, ns, label_selector="job-name=once"))["items"]
                return pods[0] if pods and (pods[0].get("status") or {}).get("phase") == "Running" else None
            running = await procs.wait_for_async(job_pod, TIMEOUT, what="the Job's pod running")
            [work] = rt.find(running["metadata"]["uid"], "work", runtime.RUNNING)
            rt.exit(work.id, 0)
            k.pod_workers.wake(running["metadata"]["uid"])

            async def complete() -> bool:
                job = await admin.get(JOBS, "once", ns)
                return any(c["type"] == "Complete" and c["status"] == "True"
                           for c in (job.get("status") or {}).get("conditions") or [])
            await procs.wait_for_async(complete, TIMEOUT, what="the Job complete")
            # Its TTL: deleted in the foreground, the pod first (the GC, as the controller manager).
            await procs.wait_for_async(lambda: _job_gone(admin, ns), TIMEOUT, what="the Job deleted by its TTL")
            assert (await admin.list(PODS, ns, label_selector="job-name=once"))["items"] == []

            # A DaemonSet: its pod pinned to the node by affinity, bound by the scheduler.
            await admin.create(DAEMONSETS, {"metadata": {"name": "agent"}, "spec": {
                "selector": {"matchLabels": {"app": "agent"}},
                "template": {"metadata": {"labels": {"app": "agent"}},
                             "spec": {"containers": [{"name": "agent", "image": "minik8s/busybox:1"}]}}}}, ns)

            async def daemon_running() -> bool:
                ds = await admin.get(DAEMONSETS, "agent", ns)
                return (ds.get("status") or {}).get("numberReady", 0) >= 1
            await procs.wait_for_async(daemon_running, TIMEOUT, what="the daemon pod ready on the node")
            await admin.delete(NAMESPACES, ns)
            await procs.wait_for_async(lambda: _gone(admin, ns), TIMEOUT, what="the namespace deleted")
            ns = ""
        for p in components:
            assert forbidden_lines(p) == [], (p.args[0], forbidden_lines(p)[:5])
        refused = [r.getMessage() for r in caplog.records if "forbidden" in r.getMessage().lower()]
        assert refused == [], refused[:5]
    finally:
        for p in components:
            p.stop()
        if ns:
            with contextlib.suppress(errors.StatusError):
                await admin.delete(NAMESPACES, ns)
        with contextlib.suppress(errors.StatusError):
            await admin.delete(NODES, NODE)
        await admin.close()


async def _job_gone(admin: Any, ns: str) -> bool:
    return await admin.get_or_none(JOBS, "once", ns) is None


async def _gone(admin: Any, ns: str) -> bool:
    return await admin.get_or_none(NAMESPACES, ns) is None
