"""What every benchmark shares: the --smoke switch that `make bench-smoke` uses.

A benchmark that no test runs rots: a refactor renames what it imports and nobody
notices until the next measurement (bench/proxy.py once died at start that way).
`--smoke` runs the same code at a tiny size, seconds in all, so CI runs every
benchmark on every change; its figures mean nothing.
"""
from __future__ import annotations

import argparse
import ipaddress
import subprocess
from typing import Any, Sequence


def parse_args(parser: argparse.ArgumentParser, smoke: dict[str, Any],
               argv: Sequence[str] | None = None) -> argparse.Namespace:
    """`parser`'s arguments, plus --smoke: with it, the defaults become `smoke`
    (flags given on the command line still win)."""
    parser.add_argument("--smoke", action="store_true",
                        help="tiny sizes, seconds in all: only shows that the benchmark runs (make bench-smoke)")
    args = parser.parse_args(argv)
    if args.smoke:
        parser.set_defaults(**smoke)
        args = parser.parse_args(argv)
    return args


async def default_service_account(client: Any, namespace: str) -> None:
    """What the controller manager's ServiceAccount controller would make, for benchmarks that
    run none: pods are admitted only once their namespace's `default` ServiceAccount exists."""
    from minik8s.api import errors
    from minik8s.api import resources

    try:
        await client.create(resources.must("", "v1", "serviceaccounts"),
                            {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default"}},
                            namespace)
    except errors.AlreadyExists:
        pass


def docker_engine() -> Any:
    """A docker-py client of the local engine, started first if none answers (as
    `minik8s cluster up` does; like the host engine there, it is left running)."""
    import docker

    from minik8s.util import procs

    procs.ensure_dockerd(log_file=HOST_DOCKERD_LOG)
    return docker.from_env(max_pool_size=64)


# The host engine's log when a benchmark starts it: the file `minik8s cluster up` uses.
HOST_DOCKERD_LOG = "/var/log/minik8s-host-dockerd.log"


def free_subnet(first: int = 150, last: int = 199) -> str:
    """A /24 172.31.<first..last>.0 that no route of this host overlaps, for a bench's own
    local cluster (`minik8s cluster up --subnet`)."""
    used = []
    for line in subprocess.run(["ip", "-4", "route"], capture_output=True, text=True, check=True).stdout.splitlines():
        dest = line.split(" ", 1)[0]
        if dest != "default":
            used.append(ipaddress.ip_network(dest, strict=False))
    for third in range(first, last + 1):
        net = ipaddress.ip_network(f"172.31.{third}.0/24")
        if not any(net.overlaps(u) for u in used):
            return str(net)
    raise SystemExit(f"no free /24 in 172.31.{first}-{last}")
