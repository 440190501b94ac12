"""The leader-lease header: server-side fencing of a deposed leader's writes.

A component behind leader election (controller manager, scheduler) sends every
write with `X-Minik8s-Leader-Lease: <namespace>/<lease name>/<identity>`. The
API server refuses the write (409) unless that Lease's holder is that identity
at the moment the write is handled. The client-side fence (the elector's
renew deadline) stops a leader before its time is up; this catches what it
cannot: a request the leader had already started sending (its headers on the
wire, its body not yet) when it was frozen, and which arrives after another
candidate has taken the Lease.

Not a Kubernetes header: Kubernetes relies on the renew deadline alone.
"""
from __future__ import annotations

HEADER = "X-Minik8s-Leader-Lease"


def token(namespace: str, name: str, identity: str) -> str:
    return f"{namespace}/{name}/{identity}"


def parse(value: str) -> tuple[str, str, str]:
    """(namespace, name, identity) of a header value; ValueError if it is not one."""
    parts = value.strip().split("/", 2)
    if len(parts) != 3 or not all(parts):
        raise ValueError(f"{HEADER} must be NAMESPACE/NAME/IDENTITY, not {value!r}")
    return parts[0], parts[1], parts[2]
