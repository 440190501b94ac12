"""Jobs, CronJobs and DaemonSets against a real API server, controller manager and kubectl.

The job, cronjob, ttl-after-finished, daemonset and garbagecollector
controllers run in a real `minik8s controller-manager` subprocess. There is
no scheduler and no kubelet: `FakeNodes` registers Ready Nodes and plays both,
binding each pod to the node its affinity names, marking it Running and Ready,
and finishing the pods of Jobs (Succeeded, or Failed for pods labelled
`outcome=fail`). The real kubectl of several versions is the client: `create
job/cronjob` (JSON bodies up to 1.30; 1.31+ send protobuf), `get`, `describe`,
`rollout status/history/undo/restart` and `get all`.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import os
import pathlib
import subprocess
from typing import Any, AsyncIterator, Iterator

import pytest

from minik8s.api import errors
from minik8s.api import resources
from minik8s.api import rfc3339
from minik8s.client import rest
from minik8s.util import procs
from tests.conftest import ApiServerProcess, ComponentProcess, controller_manager

pytestmark = pytest.mark.integration

Obj = dict[str, Any]
PODS = resources.must("", "v1", "pods")
NODES = resources.must("", "v1", "nodes")
JOBS = resources.must("batch", "v1", "jobs")
CRONJOBS = resources.must("batch", "v1", "cronjobs")
DAEMONSETS = resources.must("apps", "v1", "daemonsets")
REVISIONS = resources.must("apps", "v1", "controllerrevisions")
EVENTS = resources.must("", "v1", "events")
CONTROLLERS = "job,cronjob,ttl-after-finished,daemonset,garbagecollector"
IMAGE = "minik8s/busybox:1"
KUBECTL_DIR = pathlib.Path("/usr/lib/google-cloud-sdk/bin")
VERSIONS = [v for v in ("1.27", "1.29", "1.32") if (KUBECTL_DIR / f"kubectl.{v}").exists()]


def kubectl(server: ApiServerProcess, version: str, *args: str, input: str | None = None,
            check: bool = True) -> subprocess.CompletedProcess[str]:
    binary = KUBECTL_DIR / f"kubectl.{version}"
    cache = f"{server.cache_dir}-{version}"
    env = dict(os.environ, KUBECONFIG=server.kubeconfig, KUBECACHEDIR=cache, HOME=cache)
    proc = subprocess.run([str(binary), *args], input=input, capture_output=True, text=True, env=env, timeout=60)
    if check and proc.returncode != 0:
        raise AssertionError(f"kubectl {version} {' '.join(args)} failed ({proc.returncode}):\n"
                             f"stdout: {proc.stdout}\nstderr: {proc.stderr}")
    return proc


async def akubectl(server: ApiServerProcess, version: str, *args: str, **kw: Any) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(kubectl, server, version, *args, **kw)


@pytest.fixture
def manager(apiserver: ApiServerProcess, tmp_path: pathlib.Path) -> Iterator[ComponentProcess]:
    cm = controller_manager(apiserver, tmp_path / "controller-manager.log", CONTROLLERS).start()
    try:
        yield cm
    finally:
        cm.stop()


def target_node(pod: Obj) -> str:
    required = (((pod["spec"].get("affinity") or {}).get("nodeAffinity") or {})
                .get("requiredDuringSchedulingIgnoredDuringExecution") or {})
    for term in required.get("nodeSelectorTerms") or []:
        for req in term.get("matchFields") or []:
            return str(req["values"][0])
    return "fake-node"


class FakeNodes:
    """Nodes that are Ready, and the scheduler and kubelets of one namespace's pods."""

    def __init__(self, client: rest.Client, namespace: str, nodes: list[str]) -> None:
        self.client, self.namespace, self.nodes = client, namespace, nodes
        self.max_active: dict[str, int] = {}  # job name -> most pods seen running at once

    async def register(self) -> None:
        for name in self.nodes:
            now = rfc3339.now()
            node = {"apiVersion": "v1", "kind": "Node",
                    "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
                    "status": {"conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                                               "lastHeartbeatTime": now, "lastTransitionTime": now}]}}
            with contextlib.suppress(errors.AlreadyExists):
                await self.client.create(NODES, node)

    async def remove(self) -> None:
        for name in self.nodes:
            with contextlib.suppress(errors.NotFound):
                await self.client.delete(NODES, name)

    async def run(self) -> None:
        while True:
            with contextlib.suppress(errors.StatusError):
                await self.tick()
            await asyncio.sleep(0.1)

    async def tick(self) -> None:
        pods = (await self.client.list(PODS, self.namespace))["items"]
        running: dict[str, int] = {}
        for pod in pods:
            job = (pod["metadata"].get("labels") or {}).get("batch.kubernetes.io/job-name")
            if job and (pod.get("status") or {}).get("phase") == "Running":
                running[job] = running.get(job, 0) + 1
        for job, count in running.items():
            self.max_active[job] = max(self.max_active.get(job, 0), count)
        for pod in pods:
            meta = pod["metadata"]
            phase = (pod.get("status") or {}).get("phase")
            if meta.get("deletionTimestamp"):
                if phase not in ("Succeeded", "Failed"):
                    await self.set_status(pod, "Failed", exit_code=137)
                with contextlib.suppress(errors.NotFound):
                    await self.client.delete(PODS, meta["name"], self.namespace, grace_period=0)
                continue
            if not pod["spec"].get("nodeName"):
                with contextlib.suppress(errors.NotFound, errors.Conflict):
                    await self.client.bind(pod, target_node(pod))
                continue
            if phase in ("Succeeded", "Failed"):
                continue
            if phase != "Running":
                await self.set_status(pod, "Running")
            elif (meta.get("labels") or {}).get("batch.kubernetes.io/job-name"):
                # A Job's pod runs for one tick, then ends as its label says.
                fail = (meta.get("labels") or {}).get("outcome") == "fail"
                await self.set_status(pod, "Failed" if fail else "Succeeded", exit_code=1 if fail else 0)

    async def set_status(self, pod: Obj, phase: str, exit_code: int = 0) -> None:
        now = rfc3339.now()
        running = phase == "Running"
        state = {"running": {"startedAt": now}} if running else \
            {"terminated": {"exitCode": exit_code, "reason": "Completed" if exit_code == 0 else "Error",
                            "startedAt": now, "finishedAt": now}}
        status = {"phase": phase, "startTime": now, "podIP": "10.244.0.10", "conditions": [
            {"type": "Ready", "status": "True" if running else "False", "lastTransitionTime": now}],
            "containerStatuses": [{"name": c["name"], "image": c["image"], "imageID": "", "ready": running,
                                   "restartCount": 0, "started": running, "state": state}
                                  for c in pod["spec"]["containers"]]}
        with contextlib.suppress(errors.NotFound, errors.Conflict):
            await self.client.patch(PODS, pod["metadata"]["name"], {"status": status}, self.namespace,
                                    subresource="status")


@contextlib.asynccontextmanager
async def fake_nodes(client: rest.Client, namespace: str, count: int = 3) -> AsyncIterator[FakeNodes]:
    nodes = FakeNodes(client, namespace, [f"{namespace}-n{i}" for i in range(1, count + 1)])
    await nodes.register()
    task = asyncio.get_running_loop().create_task(nodes.run())
    try:
        yield nodes
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await nodes.remove()


async def wait_for(fn: Any, timeout: float = 60, what: str = "") -> Any:
    return await procs.wait_for_async(fn, timeout, interval=0.2, what=what)


def job_manifest(name: str, namespace: str, **spec: Any) -> str:
    labels = spec.pop("labels", {})
    return json.dumps({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name, "namespace": namespace},
                       "spec": {"template": {"metadata": {"labels": labels}, "spec": {
                           "restartPolicy": "Never",
                           "containers": [{"name": "work", "image": IMAGE, "command": ["true"]}]}}, **spec}})


def condition(obj: Obj, type_: str) -> Obj | None:
    return next((c for c in (obj.get("status") or {}).get("conditions") or [] if c.get("type") == type_), None)


# -- Jobs -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
async def test_job_with_parallelism_2_completions_4(apiserver: ApiServerProcess, client: rest.Client,
                                                    namespace: str, manager: ComponentProcess, version: str) -> None:
    async with fake_nodes(client, namespace) as nodes:
        await akubectl(apiserver, version, "apply", "-f", "-",
                       input=job_manifest("work", namespace, parallelism=2, completions=4))

        async def complete() -> Obj | None:
            job = await client.get(JOBS, "work", namespace)
            return job if (condition(job, "Complete") or {}).get("status") == "True" else None

        job = await wait_for(complete, what="job work complete")
        status = job["status"]
        assert status["succeeded"] == 4 and status.get("active", 0) == 0 and status["completionTime"]
        assert (condition(job, "SuccessCriteriaMet") or {}).get("status") == "True"
        assert nodes.max_active["work"] <= 2
        out = (await akubectl(apiserver, version, "get", "jobs", "-n", namespace)).stdout
        header, row = out.splitlines()[:2]
        assert header.split()[:5] == ["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"]
        assert row.split()[:3] == ["work", "Complete", "4/4"]
        described = (await akubectl(apiserver, version, "describe", "job", "work", "-n", namespace)).stdout
        assert "Completions:      4" in described and "Parallelism:      2" in described
        assert "0 Active (0 Ready) / 4 Succeeded / 0 Failed" in described or \
            "0 Running / 4 Succeeded / 0 Failed" in described
        assert "SuccessfulCreate" in described and "Completed" in described
        pods = (await client.list(PODS, namespace))["items"]
        assert len(pods) == 4 and all(not p["metadata"].get("finalizers") for p in pods)


async def test_job_backoff_limit_and_ttl(apiserver: ApiServerProcess, client: rest.Client, namespace: str,
                                         manager: ComponentProcess) -> None:
    async with fake_nodes(client, namespace):
        await akubectl(apiserver, "1.29", "apply", "-f", "-",
                       input=job_manifest("doomed", namespace, backoffLimit=0, labels={"outcome": "fail"}))

        async def failed() -> Obj | None:
            job = await client.get(JOBS, "doomed", namespace)
            return job if (condition(job, "Failed") or {}).get("status") == "True" else None

        job = await wait_for(failed, what="job doomed failed")
        assert condition(job, "Failed")["reason"] == "BackoffLimitExceeded"  # type: ignore[index]
        assert job["status"]["failed"] == 1
        row = (await akubectl(apiserver, "1.32", "get", "job", "doomed", "-n", namespace)).stdout.splitlines()[1]
        assert row.split()[:3] == ["doomed", "Failed", "0/1"]

        await akubectl(apiserver, "1.29", "apply", "-f", "-",
                       input=job_manifest("brief", namespace, ttlSecondsAfterFinished=2))
        await wait_for(lambda: _gone(client, JOBS, "brief", namespace), 60, what="job brief deleted by its TTL")
        await wait_for(lambda: _no_pods(client, namespace, "brief"), 30, what="job brief's pods deleted")


async def _gone(client: rest.Client, res: resources.Resource, name: str, namespace: str) -> bool:
    return await client.get_or_none(res, name, namespace) is None


async def _no_pods(client: rest.Client, namespace: str, job: str) -> bool:
    pods = (await client.list(PODS, namespace, label_selector=f"batch.kubernetes.io/job-name={job}"))["items"]
    return not pods


async def test_kubectl_create_job_and_suspend(apiserver: ApiServerProcess, client: rest.Client, namespace: str,
                                              manager: ComponentProcess) -> None:
    async with fake_nodes(client, namespace):
        await akubectl(apiserver, "1.29", "create", "job", "once", "--image", IMAGE, "-n", namespace, "--", "true")
        job = await client.get(JOBS, "once", namespace)
        uid = job["metadata"]["uid"]
        assert job["spec"]["selector"] == {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}
        assert job["spec"]["template"]["metadata"]["labels"]["job-name"] == "once"
        await wait_for(lambda: _complete(client, "once", namespace), what="job once complete")
        # A suspended Job runs nothing until resumed.
        manifest = json.loads(job_manifest("later", namespace, suspend=True))
        await client.create(JOBS, manifest, namespace)
        await wait_for(lambda: _condition_is(client, "later", namespace, "Suspended", "True"), what="suspended")
        assert (await client.list(PODS, namespace, label_selector="job-name=later"))["items"] == []
        await akubectl(apiserver, "1.32", "patch", "job", "later", "-n", namespace, "--type=merge",
                       "-p", '{"spec":{"suspend":false}}')
        await wait_for(lambda: _complete(client, "later", namespace), what="job later complete after resume")
        assert "Resumed" in (await akubectl(apiserver, "1.32", "describe", "job", "later", "-n", namespace)).stdout


async def _complete(client: rest.Client, name: str, namespace: str) -> bool:
    return (condition(await client.get(JOBS, name, namespace), "Complete") or {}).get("status") == "True"


async def _condition_is(client: rest.Client, name: str, namespace: str, type_: str, status: str) -> bool:
    return (condition(await client.get(JOBS, name, namespace), type_) or {}).get("status") == status


# -- CronJobs ---------------------------------------------------------------------------------------


async def test_cronjob_every_minute_creates_a_job(apiserver: ApiServerProcess, client: rest.Client,
                                                  namespace: str, manager: ComponentProcess) -> None:
    async with fake_nodes(client, namespace):
        await akubectl(apiserver, "1.29", "create", "cronjob", "tick", "--image", IMAGE, "--schedule", "*/1 * * * *",
                       "-n", namespace, "--", "true")
        cj = await client.get(CRONJOBS, "tick", namespace)
        assert cj["spec"]["concurrencyPolicy"] == "Allow" and cj["spec"]["successfulJobsHistoryLimit"] == 3
        out = (await akubectl(apiserver, "1.32", "get", "cronjobs", "-n", namespace)).stdout
        header, row = out.splitlines()[:2]
        assert header.split()[:8] == ["NAME", "SCHEDULE", "TIMEZONE", "SUSPEND", "ACTIVE", "LAST", "SCHEDULE",
                                      "AGE"]
        assert row.split()[:7] == ["tick", "*/1", "*", "*", "*", "*", "<none>"]

        async def scheduled() -> list[Obj] | None:
            jobs = [j for j in (await client.list(JOBS, namespace))["items"]
                    if (j["metadata"].get("ownerReferences") or [{}])[0].get("name") == "tick"]
            return jobs or None

        # The next minute boundary is at most 60 s away.
        [job] = await wait_for(scheduled, 75, what="the CronJob's first Job")
        minutes = int(job["metadata"]["name"].rsplit("-", 1)[1])
        stamp = job["metadata"]["annotations"]["batch.kubernetes.io/cronjob-scheduled-timestamp"]
        assert rfc3339.parse_epoch(stamp) == minutes * 60
        await wait_for(lambda: _complete(client, job["metadata"]["name"], namespace), what="the scheduled Job done")
        cj = await client.get(CRONJOBS, "tick", namespace)
        assert cj["status"]["lastScheduleTime"] == stamp
        described = (await akubectl(apiserver, "1.32", "describe", "cronjob", "tick", "-n", namespace)).stdout
        assert "Schedule:" in described and "*/1 * * * *" in described and "SuccessfulCreate" in described
        # kubectl create job --from=cronjob: a Job from the template, owned by the CronJob.
        await akubectl(apiserver, "1.29", "create", "job", "manual", "--from=cronjob/tick", "-n", namespace)
        manual = await client.get(JOBS, "manual", namespace)
        assert manual["metadata"]["annotations"]["cronjob.kubernetes.io/instantiate"] == "manual"
        assert manual["metadata"]["ownerReferences"][0]["kind"] == "CronJob"


# -- DaemonSets ---------------------------------------------------------------------------------------


def daemonset_manifest(namespace: str, image: str = IMAGE) -> str:
    return json.dumps({"apiVersion": "apps/v1", "kind": "DaemonSet",
                       "metadata": {"name": "agent", "namespace": namespace},
                       "spec": {"selector": {"matchLabels": {"app": "agent"}},
                                "template": {"metadata": {"labels": {"app": "agent"}},
                                             "spec": {"containers": [{"name": "agent", "image": image}]}}}})


async def _ds_pods(client: rest.Client, namespace: str) -> list[Obj]:
    return [p for p in (await client.list(PODS, namespace, label_selector="app=agent"))["items"]
            if not p["metadata"].get("deletionTimestamp")]


async def test_daemonset_one_pod_per_node_and_rollout(apiserver: ApiServerProcess, client: rest.Client,
                                                      namespace: str, manager: ComponentProcess) -> None:
    async with fake_nodes(client, namespace) as nodes:
        await akubectl(apiserver, "1.32", "apply", "-f", "-", input=daemonset_manifest(namespace))
        out = (await akubectl(apiserver, "1.32", "rollout", "status", "ds/agent", "-n", namespace,
                              "--timeout=60s")).stdout
        assert 'daemon set "agent" successfully rolled out' in out
        pods = await _ds_pods(client, namespace)
        assert sorted(p["spec"]["nodeName"] for p in pods) == sorted(nodes.nodes)
        header, row = (await akubectl(apiserver, "1.32", "get", "ds", "-n", namespace)).stdout.splitlines()[:2]
        assert header.split() == ["NAME", "DESIRED", "CURRENT", "READY", "UP-TO-DATE", "AVAILABLE", "NODE",
                                  "SELECTOR", "AGE"]
        assert row.split()[:7] == ["agent", "3", "3", "3", "3", "3", "<none>"]

        # A rolling update, one node at a time (maxUnavailable 1).
        await akubectl(apiserver, "1.32", "set", "image", "ds/agent", "agent=minik8s/busybox:2", "-n", namespace)
        out = (await akubectl(apiserver, "1.32", "rollout", "status", "ds/agent", "-n", namespace,
                              "--timeout=60s")).stdout
        assert "successfully rolled out" in out
        pods = await _ds_pods(client, namespace)
        assert len(pods) == 3 and {p["spec"]["containers"][0]["image"] for p in pods} == {"minik8s/busybox:2"}
        history = (await akubectl(apiserver, "1.29", "rollout", "history", "ds/agent", "-n", namespace)).stdout
        assert [line.split()[0] for line in history.splitlines()[2:] if line.strip()] == ["1", "2"]

        # Undo: back to revision 1's template, which becomes revision 3.
        await akubectl(apiserver, "1.27", "rollout", "undo", "ds/agent", "-n", namespace)
        await akubectl(apiserver, "1.32", "rollout", "status", "ds/agent", "-n", namespace, "--timeout=60s")
        ds = await client.get(DAEMONSETS, "agent", namespace)
        assert ds["spec"]["template"]["spec"]["containers"][0]["image"] == IMAGE

        async def images_back() -> bool:
            pods = await _ds_pods(client, namespace)
            return len(pods) == 3 and {p["spec"]["containers"][0]["image"] for p in pods} == {IMAGE}

        await wait_for(images_back, what="pods back on the first image")
        revisions = sorted(r["revision"] for r in (await client.list(REVISIONS, namespace))["items"])
        assert revisions == [2, 3]

        # Restart: a template annotation, hence a new revision and new pods.
        before = {p["metadata"]["uid"] for p in await _ds_pods(client, namespace)}
        await akubectl(apiserver, "1.29", "rollout", "restart", "ds/agent", "-n", namespace)
        await akubectl(apiserver, "1.32", "rollout", "status", "ds/agent", "-n", namespace, "--timeout=60s")

        async def replaced() -> bool:
            pods = await _ds_pods(client, namespace)
            return len(pods) == 3 and not before & {p["metadata"]["uid"] for p in pods}

        await wait_for(replaced, what="every daemon pod replaced by the restart")
        described = (await akubectl(apiserver, "1.27", "describe", "ds", "agent", "-n", namespace)).stdout
        assert "Desired Number of Nodes Scheduled: 3" in described and "SuccessfulCreate" in described

        # A node that goes loses its daemon pod; the DaemonSet's desired count follows.
        await client.delete(NODES, nodes.nodes[0])

        async def two() -> bool:
            ds = await client.get(DAEMONSETS, "agent", namespace)
            return ds["status"].get("desiredNumberScheduled") == 2
        await wait_for(two, what="desiredNumberScheduled 2")


@pytest.mark.parametrize("version", VERSIONS)
async def test_get_all_includes_the_new_workloads(apiserver: ApiServerProcess, client: rest.Client,
                                                  namespace: str, version: str) -> None:
    await client.create(JOBS, json.loads(job_manifest("listed", namespace, suspend=True)), namespace)
    await client.create(DAEMONSETS, json.loads(daemonset_manifest(namespace)), namespace)
    await client.create(CRONJOBS, {"metadata": {"name": "nightly"}, "spec": {
        "schedule": "0 3 * * *", "timeZone": "Europe/Paris", "jobTemplate": {"spec": {"template": {"spec": {
            "restartPolicy": "OnFailure", "containers": [{"name": "c", "image": IMAGE}]}}}}}}, namespace)
    out = (await akubectl(apiserver, version, "get", "all", "-n", namespace)).stdout
    assert "daemonset.apps/agent" in out and "job.batch/listed" in out and "cronjob.batch/nightly" in out
    described = (await akubectl(apiserver, version, "describe", "cronjob", "nightly", "-n", namespace)).stdout
    assert "0 3 * * *" in described and "Concurrency Policy:" in described
    described = (await akubectl(apiserver, version, "describe", "job", "listed", "-n", namespace)).stdout
    assert "Completions:" in described and "Pods Statuses:" in described


# -- the declared schemas at work through kubectl -------------------------------------------------


def _manifest_list(namespace: str) -> str:
    job = json.loads(job_manifest("listed-job", namespace, suspend=True))
    ds = json.loads(daemonset_manifest(namespace))
    cj = {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "listed-cj", "namespace": namespace},
          "spec": {"schedule": "@hourly", "jobTemplate": {"spec": {"template": {"spec": {
              "restartPolicy": "OnFailure", "containers": [{"name": "c", "image": IMAGE}]}}}}}}
    return json.dumps({"apiVersion": "v1", "kind": "List", "items": [job, ds, cj]})


@pytest.mark.parametrize("version", VERSIONS)
async def test_explain_validation_diff_and_server_side_apply(apiserver: ApiServerProcess, client: rest.Client,
                                                             namespace: str, version: str) -> None:
    # explain walks the declared schema (OpenAPI v2 or v3, whichever this kubectl reads).
    out = (await akubectl(apiserver, version, "explain", "job.spec.podFailurePolicy.rules")).stdout
    assert "onExitCodes" in out and "onPodConditions" in out and "action" in out
    out = (await akubectl(apiserver, version, "explain", "cronjob.spec.jobTemplate.spec")).stdout
    assert "backoffLimit" in out and "ttlSecondsAfterFinished" in out
    out = (await akubectl(apiserver, version, "explain", "daemonset.spec.updateStrategy.rollingUpdate")).stdout
    assert "maxSurge" in out and "maxUnavailable" in out
    out = (await akubectl(apiserver, version, "explain", "controllerrevisions")).stdout
    assert "revision" in out and "ControllerRevision" in out

    # A List of the three kinds at the default validation (checked against the OpenAPI document).
    await akubectl(apiserver, version, "apply", "-f", "-", input=_manifest_list(namespace))
    assert (await client.get(CRONJOBS, "listed-cj", namespace))["spec"]["schedule"] == "@hourly"
    assert (await client.get(JOBS, "listed-job", namespace))["spec"]["suspend"] is True
    bogus = json.loads(job_manifest("bogus", namespace))
    bogus["spec"]["bogusField"] = 1
    refused = await akubectl(apiserver, version, "apply", "--validate=strict", "-f", "-", input=json.dumps(bogus),
                             check=False)
    assert refused.returncode != 0 and "bogusField" in refused.stderr, refused.stderr
    assert await client.get_or_none(JOBS, "bogus", namespace) is None

    # diff: a changed image is shown and nothing is written.
    changed = daemonset_manifest(namespace, image="minik8s/busybox:2")
    diff = await akubectl(apiserver, version, "diff", "-f", "-", input=changed, check=False)
    assert diff.returncode == 1 and "minik8s/busybox:2" in diff.stdout, diff.stderr
    ds = await client.get(DAEMONSETS, "agent", namespace)
    assert ds["spec"]["template"]["spec"]["containers"][0]["image"] == IMAGE

    # Server-side apply: field ownership, a conflict with another manager, --force-conflicts.
    applied = json.loads(daemonset_manifest(namespace))
    applied["metadata"]["name"] = "ssa-agent"
    applied["spec"]["minReadySeconds"] = 5
    await akubectl(apiserver, version, "apply", "--server-side", "-f", "-", input=json.dumps(applied))
    ds = await client.get(DAEMONSETS, "ssa-agent", namespace)
    assert any(m["manager"] == "kubectl" and m["operation"] == "Apply" for m in ds["metadata"]["managedFields"])
    await akubectl(apiserver, version, "patch", "ds", "ssa-agent", "-n", namespace, "--type=merge",
                   "-p", '{"spec":{"minReadySeconds":9}}')
    conflict = await akubectl(apiserver, version, "apply", "--server-side", "-f", "-", input=json.dumps(applied),
                              check=False)
    assert conflict.returncode != 0 and ".spec.minReadySeconds" in conflict.stderr, conflict.stderr
    assert (await client.get(DAEMONSETS, "ssa-agent", namespace))["spec"]["minReadySeconds"] == 9
    await akubectl(apiserver, version, "apply", "--server-side", "--force-conflicts", "-f", "-",
                   input=json.dumps(applied))
    assert (await client.get(DAEMONSETS, "ssa-agent", namespace))["spec"]["minReadySeconds"] == 5
    job = json.loads(job_manifest("ssa-job", namespace, suspend=True, completions=3))
    await akubectl(apiserver, version, "apply", "--server-side", "-f", "-", input=json.dumps(job))
    job = await client.get(JOBS, "ssa-job", namespace)
    assert job["spec"]["completions"] == 3 and job["spec"]["selector"]["matchLabels"]

    # create job/cronjob: kubectl 1.31+ sends these bodies as protobuf.
    await akubectl(apiserver, version, "create", "job", "made", "--image", IMAGE, "-n", namespace, "--", "true")
    await akubectl(apiserver, version, "create", "cronjob", "made-cj", "--image", IMAGE, "--schedule", "*/5 * * * *",
                   "-n", namespace, "--", "true")
    made = await client.get(JOBS, "made", namespace)
    assert made["spec"]["template"]["spec"]["containers"][0]["command"] == ["true"]
    assert (await client.get(CRONJOBS, "made-cj", namespace))["spec"]["schedule"] == "*/5 * * * *"
