"""`minik8s controller-manager`: every controller in one process, behind leader election.

Controllers share informers (one list+watch per resource for the whole
process). Only the Lease holder runs them; on losing the lease the process
exits so a restart (systemd, `minik8s up`) rebuilds everything from the API.
"""
from __future__ import annotations

import asyncio
import dataclasses
import datetime
import logging
from typing import Any, Callable

from minik8s.client import events
from minik8s.client import informer as informer_mod
from minik8s.client import leaderelection
from minik8s.client import rest
from minik8s.controllers import base
from minik8s.controllers import bootstrap
from minik8s.controllers import certificates
from minik8s.controllers import endpoints
from minik8s.controllers import garbagecollector
from minik8s.controllers import namespace
from minik8s.controllers import nodeipam
from minik8s.controllers import nodelifecycle
from minik8s.controllers import replicaset
from minik8s.controllers import serviceaccounts
from minik8s.controllers.cronjob import controller as cronjob
from minik8s.controllers.daemon import controller as daemon
from minik8s.controllers.deployment import controller as deployment
from minik8s.controllers.job import controller as job
from minik8s.controllers.podautoscaler import horizontal
from minik8s.controllers.podgc import controller as podgc
from minik8s.controllers.ttlafterfinished import controller as ttlafterfinished

log = logging.getLogger(__name__)


@dataclasses.dataclass
class Config:
    server: str = "https://127.0.0.1:6443"
    token: str | None = None
    kubeconfig: str = ""
    leader_elect: bool = True
    lease_name: str = "kube-controller-manager"
    lease_namespace: str = "kube-system"
    lease_duration: float = 15.0
    renew_deadline: float = 10.0
    retry_period: float = 2.0
    controllers: tuple[str, ...] = ("*",)
    # Knobs of individual controllers, filled by the CLI.
    options: dict[str, Any] = dataclasses.field(default_factory=dict)


ControllerFactory = Callable[[rest.Client, informer_mod.InformerFactory, events.EventRecorder, Config],
                             base.Controller]

REGISTRY: dict[str, ControllerFactory] = {
    "namespace": lambda c, f, r, cfg: namespace.NamespaceController(c, f),
    "endpoints": lambda c, f, r, cfg: endpoints.EndpointsController(c, f),
    "nodeipam": lambda c, f, r, cfg: nodeipam.NodeIpamController(
        c, f, cluster_cidr=str(cfg.options.get("cluster_cidr", "10.244.0.0/16")),
        node_mask=int(cfg.options.get("node_cidr_mask_size", 24))),
    "nodelifecycle": lambda c, f, r, cfg: nodelifecycle.NodeLifecycleController(
        c, f, events.EventRecorder(c, "node-controller"),
        grace_period=float(cfg.options.get("node_monitor_grace_period", 40.0)),
        monitor_period=float(cfg.options.get("node_monitor_period", 5.0))),
    # Event sources named as Kubernetes names them (kubectl describe's "From" column).
    "replicaset": lambda c, f, r, cfg: replicaset.new_controller(
        replicaset.REPLICA_SET, c, f, events.EventRecorder(c, "replicaset-controller"), cfg.options),
    "replicationcontroller": lambda c, f, r, cfg: replicaset.new_controller(
        replicaset.REPLICATION_CONTROLLER, c, f, events.EventRecorder(c, "replication-controller"), cfg.options),
    "garbagecollector": lambda c, f, r, cfg: garbagecollector.new_controller(
        c, f, events.EventRecorder(c, "garbage-collector-controller")),
    # Its own event source, so `kubectl describe` says "deployment-controller" as Kubernetes does.
    "deployment": lambda c, f, r, cfg: deployment.DeploymentController(
        c, f, events.EventRecorder(c, "deployment-controller")),
    # The workloads of batch/v1 and DaemonSets, with Kubernetes' event sources.
    "job": lambda c, f, r, cfg: job.new_controller(c, f, events.EventRecorder(c, "job-controller"), cfg.options),
    "cronjob": lambda c, f, r, cfg: cronjob.new_controller(c, f, events.EventRecorder(c, "cronjob-controller")),
    "ttl-after-finished": lambda c, f, r, cfg: ttlafterfinished.new_controller(c, f),
    # Pods no kubelet will finish: on deleted nodes, deleted before scheduling, terminated beyond the threshold.
    "podgc": lambda c, f, r, cfg: podgc.new_controller(c, f, cfg.options),
    "daemonset": lambda c, f, r, cfg: daemon.new_controller(
        c, f, events.EventRecorder(c, "daemonset-controller"), cfg.options),
    "horizontalpodautoscaling": lambda c, f, r, cfg: horizontal.new_controller(
        c, f, events.EventRecorder(c, "horizontal-pod-autoscaler"), cfg.options),
    # Join: approve and sign the nodes' certificate requests, keep bootstrap tokens tidy.
    "csrapproving": lambda c, f, r, cfg: certificates.CSRApprovingController(c, f),
    "csrsigning": lambda c, f, r, cfg: certificates.CSRSigningController.from_files(
        c, f, str(cfg.options["cluster_signing_cert_file"]), str(cfg.options["cluster_signing_key_file"]),
        datetime.timedelta(days=float(cfg.options.get("cluster_signing_duration", 365)))),
    # A `default` ServiceAccount and the cluster CA (`kube-root-ca.crt`) in every namespace.
    "serviceaccount": lambda c, f, r, cfg: serviceaccounts.ServiceAccountsController(c, f),
    "root-ca-cert-publisher": lambda c, f, r, cfg: serviceaccounts.RootCACertPublisher.from_options(
        c, f, str(cfg.options.get("root_ca_file") or "")),
    "tokencleaner": lambda c, f, r, cfg: bootstrap.TokenCleaner(c, f),
    "bootstrapsigner": lambda c, f, r, cfg: bootstrap.BootstrapSigner(c, f),
}

# Controllers that run only when configured (the signer needs the CA's files).
NEEDS = {"csrsigning": ("cluster_signing_cert_file", "cluster_signing_key_file")}


def enabled(config: Config) -> list[str]:
    names = list(REGISTRY)
    wanted = config.controllers or ("*",)
    out = []
    for name in names:
        if f"-{name}" in wanted:
            continue
        if any(not config.options.get(option) for option in NEEDS.get(name, ())):
            if name in wanted:
                log.warning("controller %s needs --%s; not started", name,
                            " and --".join(o.replace("_", "-") for o in NEEDS[name]))
            continue
        if "*" in wanted or name in wanted:
            out.append(name)
    return out


async def run_controllers(client: rest.Client, config: Config) -> None:
    factory = informer_mod.InformerFactory(client)
    recorder = events.EventRecorder(client, "controller-manager")
    controllers = [REGISTRY[name](client, factory, recorder, config) for name in enabled(config)]
    factory.start()
    await factory.wait_synced()
    log.info("controller-manager: caches synced; running %s", ", ".join(c.name for c in controllers))
    try:
        await asyncio.gather(*(c.run() for c in controllers))
    finally:
        await factory.stop()


def connect(config: Config) -> rest.Client:
    """The controller manager's client. It learns the live masters from the `kubernetes`
    Endpoints as the node agents do: a master that joined after this one is a server to
    fail over to, not only the masters its kubeconfig listed when it was written."""
    return rest.connect(config.server, config.kubeconfig, config.token, user_agent="minik8s-controller-manager",
                        learn_masters=rest.LEARN_MASTERS)


async def serve(config: Config) -> None:
    client = connect(config)
    elector = None
    if config.leader_elect:
        elector = leaderelection.LeaderElector(
            client, config.lease_name, namespace=config.lease_namespace,
            timing=leaderelection.Timing(config.lease_duration, config.renew_deadline, config.retry_period))
        leaderelection.fence(client, elector)
    await leaderelection.run_until_signalled(client, "controller-manager", lambda: run_controllers(client, config),
                                             elector=elector)
