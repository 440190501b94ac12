"""HA: several controller managers, one leader through a Lease; the standby takes over."""
from __future__ import annotations

import pathlib

from minik8s.api import identities
from minik8s.api import resources
from minik8s.client import rest
from minik8s.util import procs
from tests.conftest import ApiServerProcess, ComponentProcess

LEASES = resources.must("coordination.k8s.io", "v1", "leases")
RS = resources.must("apps", "v1", "replicasets")
PODS = resources.must("", "v1", "pods")
LEASE_ARGS = ["--lease-duration", "3", "--renew-deadline", "2", "--retry-period", "0.5"]


def replica_set(name: str, replicas: int) -> dict:
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "c", "image": "minik8s/web:1"}]}}}}


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
