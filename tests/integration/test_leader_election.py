"""HA: several controller managers, one leader through a Lease; the standby takes over,
and a leader frozen past its renew deadline (SIGSTOP) stops acting when it wakes."""
from __future__ import annotations

import asyncio
import pathlib
import signal
import socket

from minik8s.api import identities
from minik8s.api import resources
from minik8s.client import rest
from minik8s.util import procs
from tests.conftest import ApiServerProcess, ComponentProcess, akubectl, http

LEASES = resources.must("coordination.k8s.io", "v1", "leases")
RS = resources.must("apps", "v1", "replicasets")
PODS = resources.must("", "v1", "pods")
LEASE_ARGS = ["--lease-duration", "3", "--renew-deadline", "2", "--retry-period", "0.5"]
# Kubernetes' flag names and Go durations; short so the test is quick.
LEASE, RENEW, RETRY = 3.0, 2.0, 0.5
K8S_LEASE_ARGS = ["--leader-elect-lease-duration", "3s", "--leader-elect-renew-deadline", "2s",
                  "--leader-elect-retry-period", "500ms"]


def replica_set(name: str, replicas: int) -> dict:
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "c", "image": "minik8s/web:1"}]}}}}


def allow_lease(apiserver: ApiServerProcess, name: str, user: str) -> None:
    """A Lease of another name than the default policy's (`kube-controller-manager`) needs a
    Role for it, as an administrator renaming the lock would have to give."""
    rbac = "/apis/rbac.authorization.k8s.io/v1/namespaces/kube-system"
    http(apiserver, "POST", f"{rbac}/roles", {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": name},
        "rules": [{"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "resourceNames": [name],
                   "verbs": ["get", "update"]}]})
    http(apiserver, "POST", f"{rbac}/rolebindings", {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": name},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}]})


async def test_standby_controller_manager_takes_over(apiserver: ApiServerProcess, client: rest.Client,
                                                     namespace: str, tmp_path: pathlib.Path) -> None:
    kc = apiserver.kubeconfig_for(identities.CONTROLLER_MANAGER)
    managers = [ComponentProcess(["controller-manager", "--kubeconfig", kc, "--controllers",
                                  "replicaset", *LEASE_ARGS], tmp_path / f"cm{i}.log").start() for i in range(2)]
    try:
        async def holder() -> str:
            lease = await client.get_or_none(LEASES, "kube-controller-manager", "kube-system")
            return ((lease or {}).get("spec") or {}).get("holderIdentity") or ""
        first = await procs.wait_for_async(holder, 30, what="a leader")
        await client.create(RS, replica_set("ha", 2), namespace)

        async def pods(n: int) -> bool:
            return len((await client.list(PODS, namespace, label_selector="app=ha"))["items"]) == n
        await procs.wait_for_async(lambda: pods(2), 30, what="2 pods from the leader")
        # Exactly one manager leads: kill it; the other takes the lease and works.
        logs = [m.log() for m in managers]
        leader = next(i for i, text in enumerate(logs) if "became leader" in text)
        assert sum("became leader" in text for text in logs) == 1, logs
        managers[leader].kill9()

        async def new_holder() -> str:
            h = await holder()
            return h if h and h != first else ""
        await procs.wait_for_async(new_holder, 30, what="the standby to take the lease")
        await client.patch(RS, "ha", {"spec": {"replicas": 4}}, namespace, subresource="scale")
        await procs.wait_for_async(lambda: pods(4), 30, what="4 pods from the new leader")
        assert "became leader" in managers[1 - leader].log()
    finally:
        for m in managers:
            m.stop()


async def test_frozen_leader_is_deposed_and_stops_writing(apiserver: ApiServerProcess, client: rest.Client,
                                                        namespace: str, tmp_path: pathlib.Path) -> None:
    """SIGSTOP the leading controller manager in the middle of a burst of pod creations: the
    standby takes the Lease within lease + retry (jittered) and finishes the work; woken with
    SIGCONT, the old leader sends none of the creations it had queued (they would make more pods
    than replicas) and exits."""
    name = "cm-" + namespace
    replicas = 40
    allow_lease(apiserver, name, identities.CONTROLLER_MANAGER)
    kc = apiserver.kubeconfig_for(identities.CONTROLLER_MANAGER)
    managers = [ComponentProcess(["controller-manager", "--kubeconfig", kc, "--controllers", "replicaset",
                                  "--leader-elect-resource-name", name, *K8S_LEASE_ARGS],
                                 tmp_path / f"cm{i}.log").start() for i in range(2)]
    watcher: asyncio.Task[None] | None = None
    try:
        async def holder() -> str:
            lease = await client.get_or_none(LEASES, name, "kube-system")
            return ((lease or {}).get("spec") or {}).get("holderIdentity") or ""
        first = await procs.wait_for_async(holder, 30, what="a leader")
        assert first.startswith(socket.gethostname() + "_")
        table = (await akubectl(apiserver, "get", "lease", "-n", "kube-system", name)).stdout
        assert first in table and "HOLDER" in table, table
        await procs.wait_for_async(lambda: any(f"{first} became leader" in m.log() for m in managers), 10,
                                   what="the leader's log line")
        leader = next(i for i, m in enumerate(managers) if f"{first} became leader" in m.log())
        old, standby = managers[leader], managers[1 - leader]
        assert old.proc is not None and standby.proc is not None

        # Every pod change in the namespace, in order, from before the ReplicaSet exists.
        rv = (await client.list(PODS, namespace))["metadata"]["resourceVersion"]
        changes: list[str] = []
        most = 0

        async def watch() -> None:
            nonlocal most
            live: set[str] = set()
            async for event in client.watch(PODS, namespace, resource_version=rv):
                pod = event["object"]["metadata"]["name"]
                if event["type"] in ("ADDED", "DELETED"):
                    changes.append(f"{event['type']} {pod}")
                    (live.add if event["type"] == "ADDED" else live.discard)(pod)
                    most = max(most, len({p for p in live if p != "marker"}))
        watcher = asyncio.get_running_loop().create_task(watch())

        await client.create(RS, replica_set("web", replicas), namespace)
        await procs.wait_for_async(lambda: len(changes) >= 3, 30, interval=0.01, what="the burst to begin")
        old.proc.send_signal(signal.SIGSTOP)

        async def new_holder() -> str:
            h = await holder()
            return h if h and h != first else ""
        await procs.wait_for_async(new_holder, LEASE + 2.2 * RETRY + 5, interval=0.1,
                                   what="the standby to take the lease within lease + retry")
        added = lambda: sum(c.startswith("ADDED") for c in changes)  # noqa: E731
        await procs.wait_for_async(lambda: added() >= replicas, 60, what="all pods from the new leader")

        old.proc.send_signal(signal.SIGCONT)
        await procs.wait_for_async(lambda: old.proc is not None and old.proc.poll() is not None, 30,
                                   what="the deposed leader to exit")
        assert old.proc.returncode != 0
        log = old.log()
        assert "stops leading" in log or "lost the lease" in log, log
        # A marker written after the exit: once the watch shows it, it has shown every earlier write.
        await client.create(PODS, {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "marker"},
                                   "spec": {"containers": [{"name": "c", "image": "minik8s/web:1"}]}}, namespace)
        await procs.wait_for_async(lambda: "ADDED marker" in changes, 10, what="the marker on the watch")
        assert most <= replicas, f"{most} pods at once for {replicas} replicas"
        assert added() == replicas + 1 and not any(c.startswith("DELETED") for c in changes), changes
        assert standby.proc.poll() is None
        assert await holder() != first
    finally:
        if watcher is not None:
            watcher.cancel()
            await asyncio.gather(watcher, return_exceptions=True)
        for m in managers:
            m.stop()
        for kind in ("rolebindings", "roles"):
            http(apiserver, "DELETE", f"/apis/rbac.authorization.k8s.io/v1/namespaces/kube-system/{kind}/{name}",
                 check=False)


async def test_api_server_refuses_writes_of_a_deposed_leader(apiserver: ApiServerProcess, client: rest.Client,
                                                             namespace: str) -> None:
    """The server-side fence: a write carrying the leader-lease header goes through only while
    that Lease's holder is the identity named; otherwise 409 and nothing is written."""
    lease = "fence-" + namespace
    await client.create(LEASES, {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                                 "metadata": {"name": lease, "namespace": "kube-system"},
                                 "spec": {"holderIdentity": "host_new", "leaseDurationSeconds": 15}}, "kube-system")
    path = f"/api/v1/namespaces/{namespace}/configmaps"

    def cm(name: str) -> dict:
        return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}}
    try:
        code, body = http(apiserver, "POST", path, cm("from-old"), check=False,
                          headers={"X-Minik8s-Leader-Lease": f"kube-system/{lease}/host_old"})
        assert code == 409 and body["kind"] == "Status" and body["reason"] == "Conflict", body
        assert 'held by "host_new"' in body["message"]
        assert http(apiserver, "GET", f"{path}/from-old", check=False)[0] == 404
        code, _ = http(apiserver, "POST", path, cm("from-new"), check=False,
                       headers={"X-Minik8s-Leader-Lease": f"kube-system/{lease}/host_new"})
        assert code == 201
        code, body = http(apiserver, "POST", path, cm("bad"), check=False,
                          headers={"X-Minik8s-Leader-Lease": "nonsense"})
        assert code == 400 and body["reason"] == "BadRequest"
        assert http(apiserver, "GET", f"{path}/bad", check=False)[0] == 404
        # A missing Lease has no holder: refused as well. Reads are never fenced.
        code, _ = http(apiserver, "POST", path, cm("gone"), check=False,
                       headers={"X-Minik8s-Leader-Lease": "kube-system/no-such-lease/host_new"})
        assert code == 409
        assert http(apiserver, "GET", path, headers={"X-Minik8s-Leader-Lease": "kube-system/x/y"})[0] == 200
    finally:
        await client.delete(LEASES, lease, "kube-system")
