"""`minik8s lb`: option parsing only; the work is in minik8s.lb."""
from __future__ import annotations

import asyncio

import click

from minik8s.cli.main import cli


def _servers(_ctx: click.Context, _param: click.Parameter, value: str | list[str] | None) -> list[str]:
    from minik8s.lb import balancer

    parts = value.split(",") if isinstance(value, str) else list(value or [])
    servers = [s.strip() for s in parts if s and s.strip()]
    for s in servers:
        try:
            balancer.parse_server(s)
        except ValueError as e:
            raise click.BadParameter(str(e)) from None
    return servers


@cli.command()
@click.option("--servers", default="", callback=_servers,
              help="Comma-separated API servers (https://HOST:PORT or HOST:PORT) [default: the kubeconfig's masters].")
@click.option("--bind-address", default="127.0.0.1", help="Address to listen on.")
@click.option("--port", default=6444, type=click.IntRange(1, 65535), help="Port to listen on.")
@click.option("--kubeconfig", default="",
              help="Kubeconfig of the cluster: its CA makes the health checks GET /readyz over TLS, its "
                   "credentials read the `kubernetes` Endpoints to learn the live masters.")
@click.option("--ca-file", default="", help="The cluster's CA without a kubeconfig (health checks over TLS).")
@click.option("--connect-timeout", default=3.0, type=click.FloatRange(min=0.1),
              help="Seconds a server has to accept a connection before the next is dialled.")
@click.option("--down-for", default=15.0, type=click.FloatRange(min=0),
              help="Seconds a server that refused a connection stays out of rotation (unless healthy sooner).")
@click.option("--health-interval", default=5.0, type=click.FloatRange(min=0.1),
              help="Seconds between health checks of every server.")
@click.option("--learn-interval", default=30.0, type=click.FloatRange(min=1),
              help="Seconds between readings of the `kubernetes` Endpoints (with --kubeconfig).")
def lb(servers: list[str], bind_address: str, port: int, kubeconfig: str, ca_file: str, connect_timeout: float,
       down_for: float, health_interval: float, learn_interval: float) -> None:
    """Run a TCP load balancer for the API servers (TLS passed through) for kubectl."""
    from minik8s.lb import server

    if not servers and not kubeconfig:
        raise click.UsageError("give --servers, or --kubeconfig listing the masters")
    config = server.Config(servers=servers, bind_address=bind_address, port=port, kubeconfig=kubeconfig,
                           ca_file=ca_file, connect_timeout=connect_timeout, down_for=down_for,
                           health_interval=health_interval, learn_interval=learn_interval)
    try:
        asyncio.run(server.serve(config))
    except ValueError as e:
        raise click.UsageError(str(e)) from None
