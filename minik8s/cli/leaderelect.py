"""The leader election flags of the controller manager and the scheduler, named as
kube-controller-manager's and kube-scheduler's (--leader-elect-lease-duration=15s, ...).

The older spellings (--lease-duration, --renew-deadline, --retry-period, the
scheduler's --lease-name) stay as aliases so existing configs keep working.
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
            flags = Flags(kw.pop("leader_elect"), kw.pop("leader_elect_lease_duration"),
                          kw.pop("leader_elect_renew_deadline"), kw.pop("leader_elect_retry_period"),
                          kw.pop("leader_elect_resource_name"), kw.pop("leader_elect_resource_namespace"))
            from minik8s.client import leaderelection

            try:
                leaderelection.Timing(flags.lease_duration, flags.renew_deadline, flags.retry_period).validate()
            except ValueError as e:
                raise click.UsageError(f"leader election: {e}") from None
            return f(*args, election=flags, **kw)

        decorators = [
            click.option("--leader-elect/--no-leader-elect", default=True,
                         help="Run only while holding the leader Lease (for several replicas)."),
            click.option("--leader-elect-lease-duration", "--lease-duration", callback=duration, default="15s",
                         show_default=True,
                         help="How long standbys wait after the last renewal they saw before taking the Lease."),
            click.option("--leader-elect-renew-deadline", "--renew-deadline", callback=duration, default="10s",
                         show_default=True,
                         help="The leader stops acting if it could not renew within this; below the lease "
                              "duration, so it stops before anyone can take over."),
            click.option("--leader-elect-retry-period", "--retry-period", callback=duration, default="2s",
                         show_default=True, help="Between two renewals or acquisition attempts."),
            click.option("--leader-elect-resource-name", *name_aliases, default=default_name, show_default=True,
                         help="Name of the leader Lease."),
            click.option("--leader-elect-resource-namespace", default="kube-system", show_default=True,
                         help="Namespace of the leader Lease."),
        ]
        for decorator in reversed(decorators):
            command = decorator(command)
        return command
    return decorate
