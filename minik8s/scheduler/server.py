"""`minik8s scheduler`: the scheduling loop fed by shared informers, behind leader election.

As the controller manager: only the holder of the Lease kube-system/kube-scheduler
schedules; on losing it the process exits, and a restart rebuilds everything
from a fresh list of nodes and pods. Nothing the scheduler knows lives only in
its memory: pending pods are the pods without spec.nodeName, and a binding is
either in the API or not.
"""
from __future__ import annotations

import asyncio
import dataclasses
import logging
import random

from minik8s.client import events
from minik8s.client import informer as informer_mod
from minik8s.client import leaderelection
from minik8s.client import rest
from minik8s.scheduler import plugins
from minik8s.scheduler import queue as queue_mod
from minik8s.scheduler import recording
from minik8s.scheduler import scheduler as scheduler_mod

log = logging.getLogger(__name__)

PODS = scheduler_mod.PODS
NODES = scheduler_mod.NODES


@dataclasses.dataclass
class Config:
    server: str = "https://127.0.0.1:6443"
    token: str | None = None
    kubeconfig: str = ""
    scheduler_name: str = scheduler_mod.DEFAULT_SCHEDULER_NAME
    leader_elect: bool = True
    lease_name: str = "kube-scheduler"
    lease_namespace: str = "kube-system"
    lease_duration: float = 15.0
    renew_deadline: float = 10.0
    retry_period: float = 2.0
    score_weights: dict[str, int] = dataclasses.field(default_factory=dict)
    pod_initial_backoff: float = 1.0
    pod_max_backoff: float = 10.0
    unschedulable_timeout: float = 60.0
    percentage_of_nodes_to_score: int = 0
    seed: int | None = None
    report_interval: float = 10.0
    max_concurrent_bindings: int = 32
    event_workers: int = 2


def build(client: rest.Client, config: Config, recorder: scheduler_mod.Recorder) -> scheduler_mod.Scheduler:
    fwk = plugins.default_framework(config.score_weights, rng=random.Random(config.seed),
                                    percentage_of_nodes_to_score=config.percentage_of_nodes_to_score)
    queue = queue_mod.SchedulingQueue(initial_backoff=config.pod_initial_backoff,
                                      max_backoff=config.pod_max_backoff,
                                      unschedulable_timeout=config.unschedulable_timeout)
    return scheduler_mod.Scheduler(fwk, scheduler_mod.APIPodControl(client), recorder,
                                   scheduler_name=config.scheduler_name, queue=queue,
                                   max_concurrent_bindings=config.max_concurrent_bindings)


async def run_scheduler(client: rest.Client, config: Config) -> None:
    recorder = recording.QueuedRecorder(events.EventRecorder(client, config.scheduler_name),
                                        workers=config.event_workers)
    sched = build(client, config, recorder)
    factory = informer_mod.InformerFactory(client)
    nodes = factory.informer(NODES)
    pods = factory.informer(PODS)
    nodes.add_handlers(sched.on_node_add, sched.on_node_update, sched.on_node_delete)
    pods.add_handlers(sched.on_pod_add, sched.on_pod_update, sched.on_pod_delete)
    # Nodes first, so that the first pods popped see every node.
    nodes.start()
    await nodes.wait_synced()
    pods.start()
    await pods.wait_synced()
    log.info("scheduler %s: caches synced: %d nodes, %d pods counted, %d pending", config.scheduler_name,
             len(sched.cache.node_list()), sched.cache.pod_count(), len(sched.queue))
    loop = asyncio.get_running_loop()
    helpers = [loop.create_task(sched.report(config.report_interval)), loop.create_task(recorder.run())]
    try:
        await sched.run()
    finally:
        try:
            await asyncio.wait_for(sched.wait_for_bindings(), 5)
        except asyncio.TimeoutError:
            pass
        for task in helpers:
            task.cancel()
        await asyncio.gather(*helpers, return_exceptions=True)
        await factory.stop()
        try:
            await recorder.flush()
        except asyncio.TimeoutError:
            pass


def connect(config: Config) -> rest.Client:
    """The scheduler's client; as the controller manager's, it learns the live masters from
    the `kubernetes` Endpoints, so masters that joined later are failed over to."""
    return rest.connect(config.server, config.kubeconfig, config.token, user_agent="minik8s-scheduler",
                        learn_masters=rest.LEARN_MASTERS)


async def serve(config: Config) -> None:
    client = connect(config)
    elector = None
    if config.leader_elect:
        elector = leaderelection.LeaderElector(
            client, config.lease_name, namespace=config.lease_namespace,
            timing=leaderelection.Timing(config.lease_duration, config.renew_deadline, config.retry_period))
        leaderelection.fence(client, elector)
    await leaderelection.run_until_signalled(client, "scheduler", lambda: run_scheduler(client, config),
                                             elector=elector)
