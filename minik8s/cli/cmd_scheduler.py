"""`minik8s scheduler` and `minik8s hollow-node`: option parsing only; the work is in
minik8s.scheduler and minik8s.hollow."""
from __future__ import annotations

import asyncio

import click

from minik8s.cli import leaderelect
from minik8s.cli.main import cli


def _weights(_ctx: click.Context, _param: click.Parameter, value: str) -> dict[str, int]:
    from minik8s.scheduler import framework
    from minik8s.scheduler import plugins  # noqa: F401 - registers the plugins

    try:
        weights = framework.parse_weights(value or "")
    except ValueError as e:
        raise click.BadParameter(str(e)) from None
    for name in weights:
        plugin = framework.REGISTRY.get(name)
        if plugin is None or not plugin().is_scorer():
            known = sorted(n for n, f in framework.REGISTRY.items() if f().is_scorer())
            raise click.BadParameter(f"{name!r} is not a score plugin; known: {', '.join(known)}")
    return weights


def _labels(_ctx: click.Context, _param: click.Parameter, value: str) -> tuple[tuple[str, str], ...]:
    out = []
    for part in (value or "").split(","):
        part = part.strip()
        if not part:
            continue
        key, sep, val = part.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{part!r} is not KEY=VALUE")
        out.append((key.strip(), val.strip()))
    return tuple(out)


@cli.command()
@click.option("--server", default="https://127.0.0.1:6443", help="API server URL.")
@click.option("--token", default=None, help="Bearer token for the API server.")
@click.option("--kubeconfig", default="", help="Kubeconfig with the API server, its CA and this component's credentials (overrides --server).")
@click.option("--scheduler-name", default="default-scheduler",
              help="Schedule the pods whose spec.schedulerName is this.")
@leaderelect.options("kube-scheduler", "--lease-name")
@click.option("--score-weights", default="", callback=_weights,
              help="Score plugin weights over the defaults, e.g. "
                   "'LeastRequested=1,BalancedAllocation=1,NodeAffinity=2,SelectorSpread=2,TaintToleration=3'; "
                   "0 disables a score.")
@click.option("--pod-initial-backoff", default=1.0, type=float, help="First retry delay of a failed pod (s).")
@click.option("--pod-max-backoff", default=10.0, type=float, help="Longest retry delay of a failed pod (s).")
@click.option("--unschedulable-timeout", default=60.0, type=float,
              help="Retry an unschedulable pod after this long even if nothing changed (s).")
@click.option("--percentage-of-nodes-to-score", default=0, type=click.IntRange(0, 100),
              help="Stop filtering after this share of nodes fit (0: kube-scheduler's adaptive rule; "
                   "clusters under 100 nodes are always searched completely).")
@click.option("--seed", default=None, type=int, help="Seed of the tie-breaking random generator (tests).")
@click.option("--max-concurrent-bindings", default=32, type=click.IntRange(1),
              help="Bindings sent to the API server at once (the next decisions do not wait for them).")
@click.option("--stats-interval", default=10.0, type=click.FloatRange(min=0.1),
              help="Seconds between the summary log lines (attempts, bindings, latencies).")
def scheduler(server: str, token: str | None, kubeconfig: str, scheduler_name: str, election: leaderelect.Flags,
              score_weights: dict[str, int],
              pod_initial_backoff: float, pod_max_backoff: float, unschedulable_timeout: float,
              percentage_of_nodes_to_score: int, seed: int | None, max_concurrent_bindings: int,
              stats_interval: float) -> None:
    """Run the scheduler: filter nodes (预选), score them (优选), bind each pending pod."""
    from minik8s.scheduler import server as sched_server

    config = sched_server.Config(
        server=server, token=token, kubeconfig=kubeconfig, scheduler_name=scheduler_name,
        leader_elect=election.leader_elect,
        lease_name=election.resource_name, lease_namespace=election.resource_namespace,
        lease_duration=election.lease_duration, renew_deadline=election.renew_deadline,
        retry_period=election.retry_period, score_weights=score_weights, pod_initial_backoff=pod_initial_backoff,
        pod_max_backoff=pod_max_backoff, unschedulable_timeout=unschedulable_timeout,
        percentage_of_nodes_to_score=percentage_of_nodes_to_score, seed=seed, report_interval=stats_interval,
        max_concurrent_bindings=max_concurrent_bindings)
    asyncio.run(sched_server.serve(config))


@cli.command("hollow-node")
@click.option("--server", default="https://127.0.0.1:6443", help="API server URL.")
@click.option("--token", default=None, help="Bearer token for the API server.")
@click.option("--kubeconfig", default="", help="Kubeconfig with the API server, its CA and this component's credentials (overrides --server).")
@click.option("--count", default=1, type=click.IntRange(1), help="How many hollow nodes to run.")
@click.option("--name-prefix", default="hollow-node-", help="Node names are PREFIX0, PREFIX1, ...")
@click.option("--first-index", default=0, type=click.IntRange(0),
              help="Number of the first node (and of its fake subnet), to run several processes side by side.")
@click.option("--cpu", default="4", help="CPU capacity of each node.")
@click.option("--memory", default="16Gi", help="Memory capacity of each node.")
@click.option("--pods", default=110, type=click.IntRange(1), help="Pod capacity of each node.")
@click.option("--labels", default="", callback=_labels, help="Extra node labels, 'k=v,k2=v2'.")
@click.option("--pod-cidr", default="10.128.0.0/9", help="Fake range the pod IPs come from (a block per node).")
@click.option("--lease-interval", default=10.0, type=float, help="Seconds between Lease renewals of a node.")
@click.option("--status-interval", default=60.0, type=float, help="Seconds between Ready heartbeats of a node.")
@click.option("--workers", default=8, type=click.IntRange(1), help="Pods updated concurrently.")
def hollow_node(server: str, token: str | None, kubeconfig: str, count: int, name_prefix: str, first_index: int, cpu: str,
                memory: str, pods: int, labels: tuple[tuple[str, str], ...], pod_cidr: str,
                lease_interval: float, status_interval: float, workers: int) -> None:
    """Run COUNT fake nodes (kubemark): they register, heartbeat and run pods without containers."""
    from minik8s.api import quantity
    from minik8s.hollow import objects
    from minik8s.hollow import server as hollow_server

    for what, value in (("--cpu", cpu), ("--memory", memory)):
        try:
            quantity.parse_quantity(value)
        except ValueError as e:
            raise click.BadParameter(f"{value!r}: {e}", param_hint=what) from None
    spec = objects.NodeSpec(cpu=cpu, memory=memory, pods=pods, labels=labels, pod_cidr=pod_cidr)
    try:
        objects.pod_subnet(spec, first_index + count - 1)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="--pod-cidr") from None
    config = hollow_server.Config(server=server, token=token, kubeconfig=kubeconfig, count=count, name_prefix=name_prefix,
                                  first_index=first_index, node=spec, lease_interval=lease_interval,
                                  status_interval=status_interval, workers=workers)
    asyncio.run(hollow_server.serve(config))
