"""Jobs, CronJobs, DaemonSets and pod configuration on the real 3-node cluster.

Real containers on every node's engine: a Job with parallelism 2 and 4
completions runs to Complete; a CronJob scheduled every minute creates a Job at
the next real minute boundary; a DaemonSet puts one pod on each node and rolls
out a new template node by node; a pod sees an updated ConfigMap in its volume.
"""
from __future__ import annotations

import collections
import time
from typing import Any

from tests.e2e.conftest import Cluster, live, pod_ready, wait_until

BUSYBOX = "minik8s/busybox:1"


def condition(obj: dict[str, Any], type_: str) -> str:
    for c in (obj.get("status") or {}).get("conditions") or []:
        if c.get("type") == type_:
            return str(c.get("status"))
    return ""


def test_job_parallelism_2_completions_4(healthy: Cluster, namespace: str) -> None:
    healthy.apply({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "work"},
                   "spec": {"parallelism": 2, "completions": 4, "template": {"spec": {
                       "restartPolicy": "Never", "terminationGracePeriodSeconds": 2,
                       "containers": [{"name": "work", "image": BUSYBOX, "imagePullPolicy": "IfNotPresent",
                                       "command": ["sh", "-c", "sleep 2; echo done"]}]}}}}, namespace)
    most_running = 0

    def complete() -> dict[str, Any] | None:
        nonlocal most_running
        running = [p for p in healthy.pods(namespace, "job-name=work") if p["status"].get("phase") == "Running"]
        most_running = max(most_running, len(running))
        job = healthy.get_json("job", "work", "-n", namespace)
        return job if condition(job, "Complete") == "True" else None

    job = wait_until(complete, 180, "the Job complete")
    assert job["status"]["succeeded"] == 4
    assert most_running <= 2
    pods = healthy.pods(namespace, "job-name=work")
    assert len(pods) == 4 and {p["status"]["phase"] for p in pods} == {"Succeeded"}
    assert all(not p["metadata"].get("finalizers") for p in pods)
    assert healthy.kubectl("logs", pods[0]["metadata"]["name"], "-n", namespace).stdout.strip() == "done"
    row = healthy.kubectl("get", "job", "work", "-n", namespace).stdout.splitlines()[1].split()
    assert row[:3] == ["work", "Complete", "4/4"]


def test_cronjob_every_minute_creates_a_job(healthy: Cluster, namespace: str) -> None:
    healthy.apply({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "tick"},
                   "spec": {"schedule": "*/1 * * * *", "jobTemplate": {"spec": {"template": {"spec": {
                       "restartPolicy": "OnFailure", "terminationGracePeriodSeconds": 2,
                       "containers": [{"name": "tick", "image": BUSYBOX, "imagePullPolicy": "IfNotPresent",
                                       "command": ["date"]}]}}}}}}, namespace)

    def completed_job() -> dict[str, Any] | None:
        for job in healthy.get_json("jobs", "-n", namespace)["items"]:
            if job["metadata"]["name"].startswith("tick-") and condition(job, "Complete") == "True":
                return job
        return None

    # At most a minute to the boundary, then the Job's pod runs.
    job = wait_until(completed_job, 150, "a Job of the CronJob completed")
    minutes = int(job["metadata"]["name"].rsplit("-", 1)[1])
    assert minutes * 60 <= time.time()
    cj = healthy.get_json("cronjob", "tick", "-n", namespace)
    assert cj["status"]["lastScheduleTime"]
    row = healthy.kubectl("get", "cronjob", "tick", "-n", namespace).stdout.splitlines()[1].split()
    assert row[0] == "tick" and row[1:6] == ["*/1", "*", "*", "*", "*"]


def test_daemonset_on_every_node_and_its_rolling_update(healthy: Cluster, namespace: str) -> None:
    def manifest(version: str) -> dict[str, Any]:
        return {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent"},
                "spec": {"selector": {"matchLabels": {"app": "agent"}},
                         "template": {"metadata": {"labels": {"app": "agent"}},
                                      "spec": {"terminationGracePeriodSeconds": 2, "containers": [{
                                          "name": "agent", "image": BUSYBOX, "imagePullPolicy": "IfNotPresent",
                                          "command": ["sleep", "3600"],
                                          "env": [{"name": "VERSION", "value": version}]}]}}}}

    healthy.apply(manifest("1"), namespace)
    out = healthy.kubectl("rollout", "status", "ds/agent", "-n", namespace, "--timeout=120s", timeout=150).stdout
    assert "successfully rolled out" in out
    pods = live(healthy.pods(namespace, "app=agent"))
    per_node = collections.Counter(p["spec"]["nodeName"] for p in pods)
    assert per_node == dict.fromkeys(healthy.nodes, 1), per_node
    assert all(pod_ready(p) for p in pods)
    first = {p["metadata"]["uid"] for p in pods}

    healthy.apply(manifest("2"), namespace)
    seen_ready: list[int] = []

    def rolled() -> bool:
        pods = live(healthy.pods(namespace, "app=agent"))
        seen_ready.append(sum(1 for p in pods if pod_ready(p)))
        env = [p["spec"]["containers"][0]["env"][0]["value"] for p in pods]
        return len(pods) == 3 and env == ["2", "2", "2"] and all(pod_ready(p) for p in pods)

    wait_until(rolled, 180, "every daemon pod on the new template", interval=0.5)
    # maxUnavailable 1: never fewer than two of the three nodes served.
    assert min(seen_ready) >= 2, seen_ready
    pods = live(healthy.pods(namespace, "app=agent"))
    assert not first & {p["metadata"]["uid"] for p in pods}
    assert collections.Counter(p["spec"]["nodeName"] for p in pods) == dict.fromkeys(healthy.nodes, 1)
    history = healthy.kubectl("rollout", "history", "ds/agent", "-n", namespace).stdout
    assert [line.split()[0] for line in history.splitlines()[2:] if line.strip()] == ["1", "2"]


def test_pod_sees_config_map_updates(healthy: Cluster, namespace: str) -> None:
    # (kubectl 1.31+ sends this body as protobuf.)
    healthy.kubectl("create", "configmap", "settings", "--from-literal=mode=fast", "-n", namespace)
    healthy.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "reader"},
                   "spec": {"terminationGracePeriodSeconds": 2,
                            "volumes": [{"name": "cfg", "configMap": {"name": "settings"}}],
                            "containers": [{"name": "app", "image": BUSYBOX, "imagePullPolicy": "IfNotPresent",
                                            "command": ["sleep", "3600"],
                                            "volumeMounts": [{"name": "cfg", "mountPath": "/etc/cfg"}]}]}},
                  namespace)
    wait_until(lambda: pod_ready(healthy.get_json("pod", "reader", "-n", namespace)), 90, "reader ready")

    def read() -> str:
        return healthy.kubectl("exec", "reader", "-n", namespace, "--", "cat", "/etc/cfg/mode", check=False).stdout

    assert read() == "fast"
    healthy.kubectl("patch", "configmap", "settings", "-n", namespace, "--type=merge",
                    "-p", '{"data":{"mode":"slow"}}')
    wait_until(lambda: read() == "slow", 60, "the update inside the pod", interval=1)
