"""The leader election flags of the controller manager and the scheduler, named as
kube-controller-manager's and kube-scheduler's (--leader-elect-lease-duration=15s, ...).

The older spellings (--lease-duration, --renew-deadline, --retry-period, the
scheduler's --lease-name) stay as aliases, and the parameters keep their old
names, so config files (`--config`, `--set controller-manager.lease-duration=4`)
and MINIK8S_* environment variables keep working: their keys are parameter
names (lease-duration, renew-deadline, retry-period, lease-name, lease-namespace).
"""
from __future__ import annotations

import dataclasses
import functools
from typing import Any, Callable

import click


def duration(_ctx: click.Context, param: click.Parameter, value: str) -> float:
    """A Go duration (15s, 1m30s, 500ms) or a number of seconds, as Kubernetes' flags take."""
    from minik8s.client import leaderelection

    try:
        seconds = leaderelection.parse_duration(str(value))
    except ValueError as e:
        raise click.BadParameter(str(e), param=param) from None
    if seconds <= 0:
        raise click.BadParameter(f"{value!r} must be positive", param=param)
    return seconds


@dataclasses.dataclass(frozen=True)
class Flags:
    leader_elect: bool
    lease_duration: float
    renew_deadline: float
    retry_period: float
    resource_name: str
    resource_namespace: str


def options(default_name: str, *name_aliases: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Add the flags to a command; the command gets them as one `election: Flags` argument."""
    def decorate(f: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(f)
        def command(*args: Any, **kw: Any) -> Any:
            flags = Flags(kw.pop("leader_elect"), kw.pop("lease_duration"), kw.pop("renew_deadline"),
                          kw.pop("retry_period"), kw.pop("lease_name"), kw.pop("lease_namespace"))
            from minik8s.client import leaderelection

            try:
                leaderelection.Timing(flags.lease_duration, flags.renew_deadline, flags.retry_period).validate()
            except ValueError as e:
                raise click.UsageError(f"leader election: {e}") from None
            return f(*args, election=flags, **kw)

        decorators = [
            click.option("--leader-elect/--no-leader-elect", default=True,
                         help="Run only while holding the leader Lease (for several replicas)."),
            click.option("--leader-elect-lease-duration", "--lease-duration", "lease_duration", callback=duration,
                         default="15s", show_default=True,
                         help="How long standbys wait after the last renewal they saw before taking the Lease."),
            click.option("--leader-elect-renew-deadline", "--renew-deadline", "renew_deadline", callback=duration,
                         default="10s", show_default=True,
                         help="The leader stops acting if it could not renew within this; below the lease "
                              "duration, so it stops before anyone can take over."),
            click.option("--leader-elect-retry-period", "--retry-period", "retry_period", callback=duration,
                         default="2s", show_default=True, help="Between two renewals or acquisition attempts."),
            click.option("--leader-elect-resource-name", *name_aliases, "lease_name", default=default_name,
                         show_default=True, help="Name of the leader Lease."),
            click.option("--leader-elect-resource-namespace", "lease_namespace", default="kube-system",
                         show_default=True, help="Namespace of the leader Lease."),
        ]
        for decorator in reversed(decorators):
            command = decorator(command)
        return command
    return decorate
