"""Deployments against a real API server, controller manager and kubectl.

The deployment, replicaset and garbagecollector controllers run in a real
`minik8s controller-manager` subprocess. There is no scheduler or kubelet:
`FakeKubelet` marks pods Running and Ready through pods/status as a kubelet
would, when the test lets it, which is how the tests drive rollouts.
`Observer` watches the namespace's pods and checks an invariant at every state
the watch shows (each event is one real state of the cluster, in order).
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import pathlib
import re
import time
from typing import Any, AsyncIterator, Callable, Iterator

import pytest

from minik8s.api import errors
from minik8s.api import resources
from minik8s.api import rfc3339
from minik8s.client import informer as informer_mod
from minik8s.client import rest
from minik8s.controllers.deployment import util
from minik8s.util import procs
from tests.conftest import ApiServerProcess, ComponentProcess, akubectl, controller_manager

pytestmark = pytest.mark.integration

Obj = dict[str, Any]
PODS = resources.must("", "v1", "pods")
RS = resources.must("apps", "v1", "replicasets")
DEPLOY = resources.must("apps", "v1", "deployments")
EVENTS = resources.must("", "v1", "events")

CONTROLLERS = "deployment,replicaset,garbagecollector"
TIMEOUT = 60.0
IMAGE = "minik8s/web:1"


# -- harness ------------------------------------------------------------------------------------------


ControllerManager = ComponentProcess


@pytest.fixture
def manager(apiserver: ApiServerProcess, tmp_path: pathlib.Path) -> Iterator[ControllerManager]:
    cm = controller_manager(apiserver, tmp_path / "controller-manager.log", CONTROLLERS).start()
    try:
        yield cm
    finally:
        cm.stop()


def image_of(pod: Obj) -> str:
    return str(pod["spec"]["containers"][0]["image"])


def is_ready(pod: Obj) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (pod.get("status") or {}).get("conditions") or [])


class FakeKubelet:
    """A kubelet (and scheduler) for the namespace's pods, without containers.

    Binds each pod to node `fake-node`; marks it Running and Ready `delay`
    seconds after first seeing it, if `allow(pod)` says so, Ready since
    `ready_age` seconds ago (to stand in for minReadySeconds having passed).
    Bound pods are deleted gracefully, so a deleted pod stays, terminating,
    until this kubelet removes it `terminate_delay` seconds later — as a real
    kubelet does once its containers have stopped.
    """

    def __init__(self, client: rest.Client, namespace: str, *, delay: float = 0.0,
                 allow: Callable[[Obj], bool] = lambda pod: True, ready_age: float = 0.0,
                 terminate_delay: float = 0.2) -> None:
        self.client, self.namespace = client, namespace
        self.delay, self.allow, self.ready_age = delay, allow, ready_age
        self.terminate_delay = terminate_delay
        self.first_seen: dict[str, float] = {}
        self.terminating: dict[str, float] = {}
        self.marked: set[str] = set()

    async def run(self) -> None:
        while True:
            try:
                await self.tick()
            except errors.StatusError:
                pass  # a transient API error; try again on the next tick
            await asyncio.sleep(0.05)

    async def tick(self) -> None:
        for pod in (await self.client.list(PODS, self.namespace))["items"]:
            uid = pod["metadata"]["uid"]
            if pod["metadata"].get("deletionTimestamp"):
                since = self.terminating.setdefault(uid, time.monotonic())
                if time.monotonic() - since >= self.terminate_delay:
                    with contextlib.suppress(errors.NotFound):
                        await self.client.delete(PODS, pod["metadata"]["name"], self.namespace, grace_period=0)
                continue
            if not pod["spec"].get("nodeName"):
                with contextlib.suppress(errors.NotFound, errors.Conflict):
                    await self.client.bind(pod, "fake-node")
                continue
            if uid in self.marked:
                continue
            first = self.first_seen.setdefault(uid, time.monotonic())
            if time.monotonic() - first < self.delay or not self.allow(pod):
                continue
            await self.mark(pod, self.ready_age)
            self.marked.add(uid)

    async def mark(self, pod: Obj, ready_age: float = 0.0) -> None:
        since = rfc3339.format(time.time() - ready_age)
        status = {"phase": "Running", "startTime": since, "podIP": "10.244.0.10", "conditions": [
            {"type": "PodScheduled", "status": "True", "lastTransitionTime": since},
            {"type": "Initialized", "status": "True", "lastTransitionTime": since},
            {"type": "Ready", "status": "True", "lastTransitionTime": since},
            {"type": "ContainersReady", "status": "True", "lastTransitionTime": since}],
            "containerStatuses": [{"name": c["name"], "image": c["image"], "imageID": "", "ready": True,
                                   "restartCount": 0, "started": True, "state": {"running": {"startedAt": since}}}
                                  for c in pod["spec"]["containers"]]}
        try:
            await self.client.patch(PODS, pod["metadata"]["name"], {"status": status}, self.namespace,
                                    subresource="status")
        except errors.NotFound:
            pass


@contextlib.asynccontextmanager
async def running(*runners: Any) -> AsyncIterator[None]:
    tasks = [asyncio.get_running_loop().create_task(r.run()) for r in runners]
    try:
        yield
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


class Observer:
    """Checks `check(pods)` at every state of the namespace's pods that its watch delivers.

    Terminating pods are left out unless `terminating` (they no longer count
    for a ReplicaSet, but their containers may still run)."""

    def __init__(self, client: rest.Client, namespace: str, check: Callable[[list[Obj]], str | None], *,
                 terminating: bool = False) -> None:
        self.informer = informer_mod.Informer(client, PODS, namespace=namespace)
        self.check = check
        self.terminating = terminating
        self.violations: list[str] = []
        self.states: list[list[Obj]] = []
        self.informer.add_handlers(on_add=lambda _: self._observe(), on_update=lambda _o, _n: self._observe(),
                                   on_delete=lambda _: self._observe())

    def _observe(self) -> None:
        # The initial list replays objects one by one: not states the cluster was in.
        if not self.informer.synced.is_set():
            return
        pods = [p for p in self.informer.store.values()
                if self.terminating or not p["metadata"].get("deletionTimestamp")]
        self.states.append(pods)
        problem = self.check(pods)
        if problem:
            self.violations.append(problem)

    async def __aenter__(self) -> "Observer":
        self.informer.start()
        await self.informer.wait_synced(TIMEOUT)
        self._observe()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.informer.stop()


def deployment(name: str = "web", replicas: int = 3, *, image: str = IMAGE, surge: Any = "25%",
               unavailable: Any = "25%", strategy: str = "RollingUpdate", **spec: Any) -> Obj:
    strat: Obj = {"type": strategy}
    if strategy == "RollingUpdate":
        strat["rollingUpdate"] = {"maxSurge": surge, "maxUnavailable": unavailable}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "labels": {"app": name}},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}}, "strategy": strat,
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "web", "image": image}]}}, **spec}}


async def set_image(client: rest.Client, namespace: str, image: str, name: str = "web") -> None:
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "web", "image": image}]}}}}

    async def attempt() -> bool:
        # Retried on 409 like client-go's RetryOnConflict: the controllers write the same object.
        try:
            await client.patch(DEPLOY, name, patch, namespace, patch_type=rest.STRATEGIC_PATCH)
            return True
        except errors.Conflict:
            return False
    await procs.wait_for_async(attempt, TIMEOUT, interval=0.05, what=f"patching {name} to {image}")


async def replica_sets(client: rest.Client, namespace: str) -> list[Obj]:
    return list((await client.list(RS, namespace))["items"])


async def wait_complete(client: rest.Client, namespace: str, name: str = "web",
                        timeout: float = TIMEOUT) -> Obj:
    """The Deployment's rollout done: as `kubectl rollout status` decides, plus no old pods."""
    async def done() -> Obj | None:
        d = await client.get(DEPLOY, name, namespace)
        st = d.get("status") or {}
        want = util.replicas(d)
        ok = (int(st.get("observedGeneration") or 0) >= d["metadata"]["generation"]
              and int(st.get("updatedReplicas") or 0) == want and int(st.get("replicas") or 0) == want
              and int(st.get("availableReplicas") or 0) == want)
        return d if ok else None
    return await procs.wait_for_async(done, timeout, interval=0.1, what=f"deployment {name} rollout")


async def wait_pods(client: rest.Client, namespace: str, pred: Callable[[list[Obj]], bool], what: str) -> list[Obj]:
    async def check() -> list[Obj] | None:
        pods = [p for p in (await client.list(PODS, namespace))["items"]
                if not p["metadata"].get("deletionTimestamp")]
        return pods if pred(pods) else None
    return await procs.wait_for_async(check, TIMEOUT, interval=0.1, what=what)


def owned_by(obj: Obj, owner: Obj) -> bool:
    return any(r.get("controller") and r.get("uid") == owner["metadata"]["uid"]
               for r in obj["metadata"].get("ownerReferences") or [])


def rows(output: str) -> list[list[str]]:
    return [line.split() for line in output.splitlines() if line.strip()]


# -- kubectl create deployment / get all ---------------------------------------------------------------


async def test_kubectl_create_deployment_makes_replica_set_and_pod(
        manager: ControllerManager, client: rest.Client, apiserver: ApiServerProcess, namespace: str) -> None:
    await akubectl(apiserver, "create", "deployment", "nginx", f"--image={IMAGE}", "-n", namespace)
    d = await client.get(DEPLOY, "nginx", namespace)

    async def settled() -> tuple[Obj, Obj] | None:
        rss = await replica_sets(client, namespace)
        cur = await client.get(DEPLOY, "nginx", namespace)
        st = cur.get("status") or {}
        if len(rss) == 1 and (rss[0].get("status") or {}).get("replicas") == 1 and st.get("updatedReplicas") == 1:
            return rss[0], cur
        return None
    rs, d = await procs.wait_for_async(settled, TIMEOUT, interval=0.1, what="deployment, replica set, pod")
    pod_hash = rs["metadata"]["labels"]["pod-template-hash"]
    assert rs["metadata"]["name"] == f"nginx-{pod_hash}"
    assert owned_by(rs, d)
    assert rs["metadata"]["annotations"][util.REVISION] == "1" == d["metadata"]["annotations"][util.REVISION]
    [pod] = (await client.list(PODS, namespace))["items"]
    assert re.fullmatch(rf"nginx-{pod_hash}-[a-z0-9]{{5}}", pod["metadata"]["name"])

    out = (await akubectl(apiserver, "get", "all", "-n", namespace)).stdout
    table = rows(out)
    assert ["NAME", "READY", "STATUS", "RESTARTS", "AGE"] in table
    assert ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"] in table
    assert ["NAME", "DESIRED", "CURRENT", "READY", "AGE"] in table
    [pod_row] = [r for r in table if r[0].startswith("pod/")]
    assert pod_row[0] == f"pod/{pod['metadata']['name']}" and pod_row[1:4] == ["0/1", "Pending", "0"]
    [deploy_row] = [r for r in table if r[0].startswith("deployment.apps/")]
    assert deploy_row[:4] == ["deployment.apps/nginx", "0/1", "1", "0"]
    [rs_row] = [r for r in table if r[0].startswith("replicaset.apps/")]
    assert rs_row[:4] == [f"replicaset.apps/nginx-{pod_hash}", "1", "1", "0"]

    async with running(FakeKubelet(client, namespace)):
        result = await akubectl(apiserver, "rollout", "status", "deployment/nginx", "-n", namespace,
                                "--timeout=60s")
    assert 'deployment "nginx" successfully rolled out' in result.stdout
    events = (await client.list(EVENTS, namespace, field_selector="involvedObject.name=nginx"))["items"]
    assert [(e["reason"], e["message"], e["source"]["component"]) for e in events
            if e["involvedObject"]["kind"] == "Deployment"] == [
        ("ScalingReplicaSet", f"Scaled up replica set nginx-{pod_hash} from 0 to 1", "deployment-controller")]


# -- rolling updates and Recreate -----------------------------------------------------------------------


@pytest.mark.parametrize("replicas,surge,unavailable", [(6, 2, 1), (10, "25%", "25%"), (3, 0, 1), (4, 1, 0)])
async def test_rolling_update_stays_within_surge_and_unavailability(
        manager: ControllerManager, client: rest.Client, apiserver: ApiServerProcess, namespace: str,
        replicas: int, surge: Any, unavailable: Any) -> None:
    spec = deployment(replicas=replicas, surge=surge, unavailable=unavailable)
    d = await client.create(DEPLOY, spec, namespace)
    max_pods = replicas + util.max_surge(d)
    min_ready = replicas - util.max_unavailable(d)

    def check(pods: list[Obj]) -> str | None:
        ready = sum(1 for p in pods if is_ready(p))
        if len(pods) > max_pods:
            return f"{len(pods)} pods > {max_pods}"
        if ready < min_ready:
            return f"{ready} ready < {min_ready}"
        return None

    async with running(FakeKubelet(client, namespace, delay=0.2)):
        await wait_complete(client, namespace)
        async with Observer(client, namespace, check) as observer:
            await set_image(client, namespace, "minik8s/web:2")
            result = await akubectl(apiserver, "rollout", "status", "deployment/web", "-n", namespace,
                                    "--timeout=60s")
            assert "successfully rolled out" in result.stdout
            await wait_pods(client, namespace, lambda ps: len(ps) == replicas
                            and all(image_of(p) == "minik8s/web:2" and is_ready(p) for p in ps),
                            "only new pods, all ready")
    assert not observer.violations, observer.violations[:5]
    # The rollout really went through mixed states (the invariant was tested, not skipped).
    assert any({image_of(p) for p in pods} == {IMAGE, "minik8s/web:2"} for pods in observer.states)
    rss = await replica_sets(client, namespace)
    assert sorted(util.replicas(rs) for rs in rss) == [0, replicas]
    d = await client.get(DEPLOY, "web", namespace)
    assert d["metadata"]["annotations"][util.REVISION] == "2"
    conds = {c["type"]: c["reason"] for c in d["status"]["conditions"]}
    assert conds == {"Available": "MinimumReplicasAvailable", "Progressing": "NewReplicaSetAvailable"}


async def test_recreate_removes_every_old_pod_before_creating_new_ones(
        manager: ControllerManager, client: rest.Client, namespace: str) -> None:
    await client.create(DEPLOY, deployment(replicas=3, strategy="Recreate"), namespace)

    def check(pods: list[Obj]) -> str | None:
        images = {image_of(p) for p in pods}
        return f"old and new pods together: {sorted(images)}" if len(images) > 1 else None

    async with running(FakeKubelet(client, namespace, delay=0.1)):
        await wait_complete(client, namespace)
        # Terminating old pods count: their containers may still be running.
        async with Observer(client, namespace, check, terminating=True) as observer:
            await set_image(client, namespace, "minik8s/web:2")
            await wait_complete(client, namespace)
            await wait_pods(client, namespace, lambda ps: len(ps) == 3
                            and all(image_of(p) == "minik8s/web:2" for p in ps), "3 new pods")
    assert not observer.violations, observer.violations[:5]
    assert any(not pods for pods in observer.states), "there was a moment with no pods at all"
    assert any(p["metadata"].get("deletionTimestamp") for pods in observer.states for p in pods), \
        "old pods were seen terminating (the wait for them was exercised)"


# -- history, undo, scale ----------------------------------------------------------------------------------


def history(output: str) -> dict[int, str]:
    """`kubectl rollout history` rows: revision -> change cause."""
    out = {}
    for line in output.splitlines():
        m = re.match(r"^(\d+)\s+(.*)$", line.strip())
        if m:
            out[int(m.group(1))] = m.group(2).strip()
    return out


async def test_rollout_history_undo_and_to_revision(
        manager: ControllerManager, client: rest.Client, apiserver: ApiServerProcess, namespace: str) -> None:
    async def change(image: str, cause: str) -> None:
        # Image and change-cause in one write, as `kubectl set image` + `annotate` would leave them.
        patch = json.dumps({"metadata": {"annotations": {util.CHANGE_CAUSE: cause}},
                            "spec": {"template": {"spec": {"containers": [{"name": "web", "image": image}]}}}})
        await akubectl(apiserver, "patch", "deployment/web", "-p", patch, "-n", namespace)
        await akubectl(apiserver, "rollout", "status", "deployment/web", "-n", namespace, "--timeout=60s")

    async with running(FakeKubelet(client, namespace)):
        await akubectl(apiserver, "create", "deployment", "web", f"--image={IMAGE}", "--replicas=2",
                       "-n", namespace)
        await akubectl(apiserver, "rollout", "status", "deployment/web", "-n", namespace, "--timeout=60s")
        await change("minik8s/web:2", "image two")
        await change("minik8s/web:3", "image three")
        out = (await akubectl(apiserver, "rollout", "history", "deployment/web", "-n", namespace)).stdout
        assert history(out) == {1: "<none>", 2: "image two", 3: "image three"}

        await akubectl(apiserver, "rollout", "undo", "deployment/web", "-n", namespace)
        await akubectl(apiserver, "rollout", "status", "deployment/web", "-n", namespace, "--timeout=60s")
        d = await wait_complete(client, namespace)
        assert d["spec"]["template"]["spec"]["containers"][0]["image"] == "minik8s/web:2"

        async def revision(want: str) -> bool:
            cur = await client.get(DEPLOY, "web", namespace)
            return util.annotations_of(cur).get(util.REVISION) == want
        await procs.wait_for_async(lambda: revision("4"), TIMEOUT, interval=0.1, what="revision 4")
        out = (await akubectl(apiserver, "rollout", "history", "deployment/web", "-n", namespace)).stdout
        assert history(out) == {1: "<none>", 3: "image three", 4: "image two"}

        await akubectl(apiserver, "rollout", "undo", "deployment/web", "--to-revision=1", "-n", namespace)
        await akubectl(apiserver, "rollout", "status", "deployment/web", "-n", namespace, "--timeout=60s")
        await procs.wait_for_async(lambda: revision("5"), TIMEOUT, interval=0.1, what="revision 5")
        d = await wait_complete(client, namespace)
        assert d["spec"]["template"]["spec"]["containers"][0]["image"] == IMAGE
        out = (await akubectl(apiserver, "rollout", "history", "deployment/web", "-n", namespace)).stdout
        assert sorted(history(out)) == [3, 4, 5]
        detail = (await akubectl(apiserver, "rollout", "history", "deployment/web", "--revision=5",
                                 "-n", namespace)).stdout
        assert f"Image:\t{IMAGE}" in detail or re.search(rf"Image:\s+{re.escape(IMAGE)}", detail)

    # Three templates, three ReplicaSets: going back reused them, never duplicated them.
    rss = await replica_sets(client, namespace)
    assert len(rss) == 3 and all(owned_by(rs, d) for rs in rss)
    revisions = {rs["spec"]["template"]["spec"]["containers"][0]["image"]: util.annotations_of(rs) for rs in rss}
    assert revisions[IMAGE][util.REVISION] == "5" and revisions[IMAGE][util.REVISION_HISTORY] == "1"
    assert revisions["minik8s/web:2"][util.REVISION] == "4"


async def test_kubectl_scale(manager: ControllerManager, client: rest.Client, apiserver: ApiServerProcess,
                             namespace: str) -> None:
    await client.create(DEPLOY, deployment(replicas=2), namespace)
    async with running(FakeKubelet(client, namespace)):
        await wait_complete(client, namespace)
        out = await akubectl(apiserver, "scale", "deployment/web", "--replicas=5", "-n", namespace)
        assert "deployment.apps/web scaled" in out.stdout
        await wait_complete(client, namespace)
        await wait_pods(client, namespace, lambda ps: len(ps) == 5, "5 pods")
        await akubectl(apiserver, "scale", "deployment/web", "--replicas=1", "-n", namespace)
        d = await wait_complete(client, namespace)
        await wait_pods(client, namespace, lambda ps: len(ps) == 1, "1 pod")
    [rs] = await replica_sets(client, namespace)
    assert util.replicas(rs) == 1 and util.annotations_of(rs)[util.DESIRED_REPLICAS] == "1"
    assert d["metadata"]["annotations"][util.REVISION] == "1"
    events = (await client.list(EVENTS, namespace, field_selector="involvedObject.name=web"))["items"]
    messages = {e["message"] for e in events if e["reason"] == "ScalingReplicaSet"}
    name = rs["metadata"]["name"]
    assert {f"Scaled up replica set {name} from 0 to 2", f"Scaled up replica set {name} from 2 to 5",
            f"Scaled down replica set {name} from 5 to 1"} <= messages


async def test_paused_deployment_does_not_roll_until_resumed(
        manager: ControllerManager, client: rest.Client, apiserver: ApiServerProcess, namespace: str) -> None:
    await client.create(DEPLOY, deployment(replicas=2, progressDeadlineSeconds=600), namespace)
    async with running(FakeKubelet(client, namespace)):
        await wait_complete(client, namespace)
        await akubectl(apiserver, "rollout", "pause", "deployment/web", "-n", namespace)
        await set_image(client, namespace, "minik8s/web:2")

        async def paused_seen() -> Obj | None:
            d = await client.get(DEPLOY, "web", namespace)
            cond = util.get_condition(d.get("status"), "Progressing")
            done = d["status"].get("observedGeneration") == d["metadata"]["generation"]
            return d if done and cond and cond["reason"] == "DeploymentPaused" else None
        await procs.wait_for_async(paused_seen, TIMEOUT, interval=0.1, what="paused and observed")
        assert len(await replica_sets(client, namespace)) == 1
        await akubectl(apiserver, "rollout", "resume", "deployment/web", "-n", namespace)
        await akubectl(apiserver, "rollout", "status", "deployment/web", "-n", namespace, "--timeout=60s")
    assert len(await replica_sets(client, namespace)) == 2


# -- progress deadline, history limit -------------------------------------------------------------------------


async def test_progress_deadline_exceeded_when_pods_never_become_ready(
        manager: ControllerManager, client: rest.Client, apiserver: ApiServerProcess, namespace: str) -> None:
    await client.create(DEPLOY, deployment(replicas=2, progressDeadlineSeconds=3), namespace)
    kubelet = FakeKubelet(client, namespace, allow=lambda pod: image_of(pod) != "minik8s/broken:1")
    async with running(kubelet):
        await wait_complete(client, namespace)
        await set_image(client, namespace, "minik8s/broken:1")

        async def timed_out() -> Obj | None:
            d = await client.get(DEPLOY, "web", namespace)
            cond = util.get_condition(d.get("status"), "Progressing")
            return cond if cond and cond["reason"] == "ProgressDeadlineExceeded" else None
        cond = await procs.wait_for_async(timed_out, TIMEOUT, interval=0.1, what="ProgressDeadlineExceeded")
        assert cond["status"] == "False"
        assert re.fullmatch(r'ReplicaSet "web-[a-z0-9]+" has timed out progressing\.', cond["message"])
        result = await akubectl(apiserver, "rollout", "status", "deployment/web", "-n", namespace,
                                "--timeout=30s", check=False)
        assert result.returncode != 0
        assert 'deployment "web" exceeded its progress deadline' in result.stderr
        # The old pods were kept: the broken template never took availability below the floor.
        d = await client.get(DEPLOY, "web", namespace)
        assert int(d["status"].get("availableReplicas") or 0) >= 2 - util.max_unavailable(d)


async def test_old_replica_sets_beyond_history_limit_are_deleted(
        manager: ControllerManager, client: rest.Client, namespace: str) -> None:
    await client.create(DEPLOY, deployment(replicas=1, revisionHistoryLimit=2), namespace)
    async with running(FakeKubelet(client, namespace)):
        await wait_complete(client, namespace)
        for i in range(2, 6):
            await set_image(client, namespace, f"minik8s/web:{i}")
            await wait_complete(client, namespace)

        async def trimmed() -> list[Obj] | None:
            rss = await replica_sets(client, namespace)
            return rss if len(rss) == 3 else None
        rss = await procs.wait_for_async(trimmed, TIMEOUT, interval=0.1, what="3 replica sets left")
    assert sorted(int(util.annotations_of(rs)[util.REVISION]) for rs in rss) == [3, 4, 5]


# -- adoption ---------------------------------------------------------------------------------------------


async def test_orphan_replica_set_is_adopted_and_an_unselected_one_released(
        manager: ControllerManager, client: rest.Client, namespace: str) -> None:
    # What `kubectl delete deployment --cascade=orphan` leaves behind: a ReplicaSet of the template.
    spec = deployment(replicas=2)
    orphan = {"apiVersion": "apps/v1", "kind": "ReplicaSet",
              "metadata": {"name": "web-orphan", "labels": {"app": "web", "tier": "front"}},
              "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                       "template": spec["spec"]["template"]}}
    await client.create(RS, orphan, namespace)
    d = await client.create(DEPLOY, spec, namespace)

    async def adopted() -> Obj | None:
        rs = await client.get(RS, "web-orphan", namespace)
        return rs if owned_by(rs, d) else None
    rs = await procs.wait_for_async(adopted, TIMEOUT, interval=0.1, what="the orphan adopted")
    ref = [r for r in rs["metadata"]["ownerReferences"] if r.get("controller")][0]
    assert ref == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "uid": d["metadata"]["uid"],
                   "controller": True, "blockOwnerDeletion": True}
    await procs.wait_for_async(lambda: _revision_is(client, namespace, "1"), TIMEOUT, interval=0.1,
                               what="revision 1 on the deployment")
    assert [r["metadata"]["name"] for r in await replica_sets(client, namespace)] == ["web-orphan"]

    # Relabelled so that the Deployment's selector no longer matches it: released.
    await client.patch(RS, "web-orphan", {"metadata": {"labels": {"app": "other"}}}, namespace)

    async def released() -> bool:
        cur = await client.get(RS, "web-orphan", namespace)
        return not owned_by(cur, d)
    await procs.wait_for_async(released, TIMEOUT, interval=0.1, what="the relabelled replica set released")


async def _revision_is(client: rest.Client, namespace: str, want: str) -> Obj | None:
    cur = await client.get(DEPLOY, "web", namespace)
    return cur if util.annotations_of(cur).get(util.REVISION) == want else None


# -- controller manager crash ---------------------------------------------------------------------------------


async def test_manager_killed_mid_rollout_resumes_without_duplicate_or_orphaned_replica_sets(
        manager: ControllerManager, client: rest.Client, namespace: str) -> None:
    gate = asyncio.Event()
    kubelet = FakeKubelet(client, namespace, allow=lambda pod: image_of(pod) == IMAGE or gate.is_set())
    await client.create(DEPLOY, deployment(replicas=4, surge=1, unavailable=0), namespace)
    async with running(kubelet):
        d = await wait_complete(client, namespace)
        await set_image(client, namespace, "minik8s/web:2")
        # Mid-rollout: a new pod exists but may not become ready, so the rollout is stuck here.
        await wait_pods(client, namespace, lambda ps: any(image_of(p) == "minik8s/web:2" for p in ps),
                        "a new pod")
        manager.kill9()
        manager.start()
        gate.set()
        await wait_complete(client, namespace)
        await wait_pods(client, namespace, lambda ps: len(ps) == 4
                        and all(image_of(p) == "minik8s/web:2" for p in ps), "4 new pods")
    rss = await replica_sets(client, namespace)
    assert len(rss) == 2, [rs["metadata"]["name"] for rs in rss]
    assert all(owned_by(rs, d) for rs in rss)
    assert len({rs["spec"]["template"]["spec"]["containers"][0]["image"] for rs in rss}) == 2
    for pod in (await client.list(PODS, namespace))["items"]:
        assert any(owned_by(pod, rs) for rs in rss)


# -- the seed's vdata-imp Deployment -------------------------------------------------------------------------

SEED = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: vdata-imp-deployment
  labels:
    app: vdata-imp
spec:
  replicas: 1
  selector:
    matchLabels:
      app: vdata-imp
  template:
    metadata:
      labels:
        app: vdata-imp
    spec:
      containers:
      - name: vdata-imp
        image: {image}
        imagePullPolicy: IfNotPresent
        env:
        - name: ENV
          value: "env"
        ports:
        - containerPort: 80
        resources:
          limits:
            cpu: 0.3
            memory: 400Mi
          requests:
            cpu: 0.3
            memory: 300Mi
        livenessProbe:
          httpGet:
            path: /
            port: 80
          initialDelaySeconds: 100
          periodSeconds: 3
  strategy: # 策略
    type: RollingUpdate # 也可以是Recreate
    rollingUpdate:
      maxUnavailable: 50% # 滚动更新的时候的最大不可用pod数量, 可以是绝对数字或者比例10%
      maxSurge: 50% # 动更新的时候的溢出的pod数量, 也可以是绝对数字
  progressDeadlineSeconds: 150
  minReadySeconds: 100 # 最短就绪时间, 容器创建多久以后被视为就绪
  revisionHistoryLimit: 3 # 历史修订限制, 保留的rs的数量
"""


async def test_seed_vdata_imp_deployment(manager: ControllerManager, client: rest.Client,
                                         apiserver: ApiServerProcess, namespace: str) -> None:
    name = "vdata-imp-deployment"
    await akubectl(apiserver, "apply", "-f", "-", "-n", namespace, input=SEED.format(image=IMAGE))
    d = await client.get(DEPLOY, name, namespace)
    assert (d["spec"]["progressDeadlineSeconds"], d["spec"]["minReadySeconds"], d["spec"]["revisionHistoryLimit"]) \
        == (150, 100, 3)
    # 1 replica at 50%/50%: one extra pod may be surged, none may be unavailable.
    assert (util.max_surge(d), util.max_unavailable(d)) == (1, 0)
    kubelet = FakeKubelet(client, namespace)

    async def status(**want: int) -> Obj:
        async def check() -> Obj | None:
            cur = await client.get(DEPLOY, name, namespace)
            st = cur.get("status") or {}
            return cur if all(int(st.get(k) or 0) == v for k, v in want.items()) else None
        return await procs.wait_for_async(check, TIMEOUT, interval=0.1, what=f"{name} status {want}")

    async with running(kubelet):
        # Ready just now: not available until Ready for minReadySeconds (100s).
        cur = await status(replicas=1, readyReplicas=1)
        assert int(cur["status"].get("availableReplicas") or 0) == 0
        assert util.get_condition(cur["status"], "Available")["reason"] == "MinimumReplicasUnavailable"
        [rs1] = await replica_sets(client, namespace)
        assert rs1["spec"]["minReadySeconds"] == 100
        # Stand in for the 100 seconds passing: Ready since 101s ago.
        [pod] = (await client.list(PODS, namespace))["items"]
        await kubelet.mark(pod, ready_age=101)
        cur = await status(availableReplicas=1)
        assert util.get_condition(cur["status"], "Available")["reason"] == "MinimumReplicasAvailable"

        # A rolling update: the surge pod comes, the old one stays until the new is available.
        await set_image(client, namespace, "minik8s/web:2", name=name)
        new_pod = (await wait_pods(client, namespace, lambda ps: any(image_of(p) == "minik8s/web:2" and is_ready(p)
                                                                     for p in ps), "the new pod Ready"))
        cur = await status(replicas=2, readyReplicas=2)
        assert int(cur["status"].get("availableReplicas") or 0) == 1
        assert len([p for p in new_pod if image_of(p) == IMAGE]) == 1, "the old pod is kept"
        [fresh] = [p for p in new_pod if image_of(p) == "minik8s/web:2"]
        await kubelet.mark(fresh, ready_age=101)
        await wait_complete(client, namespace, name)
        await wait_pods(client, namespace, lambda ps: len(ps) == 1 and image_of(ps[0]) == "minik8s/web:2",
                        "only the new pod")

        # revisionHistoryLimit 3: after five templates, the current one and three old ones remain.
        kubelet.ready_age = 101
        for i in range(3, 6):
            await set_image(client, namespace, f"minik8s/web:{i}", name=name)
            await wait_complete(client, namespace, name)

        async def trimmed() -> list[Obj] | None:
            rss = await replica_sets(client, namespace)
            return rss if len(rss) == 4 else None
        rss = await procs.wait_for_async(trimmed, TIMEOUT, interval=0.1, what="4 replica sets left")
    assert sorted(int(util.annotations_of(rs)[util.REVISION]) for rs in rss) == [2, 3, 4, 5]
