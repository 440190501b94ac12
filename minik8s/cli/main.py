"""The `minik8s` command: one click group for every component and every user verb.

Every option of every command can come from a flag, from an environment
variable `MINIK8S_<COMMAND>_<OPTION>` (click's auto_envvar_prefix), or from a
config file given with `--config` (env `MINIK8S_CONFIG`): a YAML mapping of
command name to its options, e.g. `apiserver: {etcd-endpoints: ..., port: 6443}`.
Precedence is flag > environment > config file > default.
"""
from __future__ import annotations

import logging
import pathlib
import sys
from typing import Any

import click
import yaml

from minik8s.api import errors


def _load_config(ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    if not value:
        return value
    path = pathlib.Path(value)
    try:
        doc = yaml.safe_load(path.read_text()) or {}
    except OSError as e:
        raise click.BadParameter(f"cannot read {path}: {e.strerror}") from None
    except yaml.YAMLError as e:
        raise click.BadParameter(f"{path} is not valid YAML: {e}") from None
    if not isinstance(doc, dict):
        raise click.BadParameter(f"{path} must be a mapping of command names to options")
    ctx.default_map = _normalise(doc)
    return value


def _normalise(doc: dict[str, Any]) -> dict[str, Any]:
    """Config keys may use dashes (as flags) or underscores (as click's parameter names)."""
    out: dict[str, Any] = {}
    for key, value in doc.items():
        if isinstance(value, dict):
            out[key] = _normalise(value)
        else:
            out[str(key).replace("-", "_")] = value
    return out


def setup_logging(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # gRPC/aiohttp chatter is not ours to show at INFO.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)


class Minik8sGroup(click.Group):
    """Turns API errors into one readable line and a non-zero exit, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except errors.StatusError as e:
            prefix = f"Error from server ({e.reason})" if e.reason and e.reason != "Unknown" else "Error from server"
            click.echo(f"{prefix}: {e.message}", err=True)
            ctx.exit(1)
        except KeyboardInterrupt:
            ctx.exit(130)


@click.group(cls=Minik8sGroup, context_settings={"auto_envvar_prefix": "MINIK8S",
                                                 "help_option_names": ["-h", "--help"],
                                                 "show_default": True})
@click.option("--config", "config_file", envvar="MINIK8S_CONFIG", type=click.Path(dir_okay=False),
              callback=_load_config, is_eager=True, expose_value=False,
              help="YAML file of per-command options (command name → {option: value}).")
@click.option("--log-level", default="info", envvar="MINIK8S_LOG_LEVEL",
              type=click.Choice(["debug", "info", "warning", "error"], case_sensitive=False))
@click.version_option(package_name="minik8s")
@click.pass_context
def cli(ctx: click.Context, log_level: str) -> None:
    """minik8s: a real-container mini Kubernetes."""
    setup_logging(log_level)
    ctx.ensure_object(dict)


def _register() -> None:
    # Each module adds its commands to `cli`; imported here so that
    # `minik8s --help` lists them all.
    from minik8s.cli import cmd_cluster  # noqa: F401
    from minik8s.cli import cmd_etcd  # noqa: F401
    from minik8s.cli import cmd_kubelet  # noqa: F401
    from minik8s.cli import cmd_lb  # noqa: F401
    from minik8s.cli import cmd_network  # noqa: F401
    from minik8s.cli import cmd_proxy  # noqa: F401
    from minik8s.cli import cmd_scheduler  # noqa: F401
    from minik8s.cli import components  # noqa: F401
    from minik8s.cli import local  # noqa: F401
    from minik8s.cli.kubectl import verbs  # noqa: F401


def main() -> None:
    _register()
    cli(prog_name="minik8s")


if __name__ == "__main__":
    main()
