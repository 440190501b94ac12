"""What every kubectl-like verb shares: connection flags, running the async body,
kubectl's error lines, and turning arguments or files into the objects to act on.

A problem with the input is a KubectlError (`error: <what>`, exit code 1); the API's
Status errors reach minik8s.cli.main's handler, or are printed per object by the
verbs that, like kubectl, go on with the next one.
"""
from __future__ import annotations

import asyncio
import dataclasses
import functools
from typing import Any, Awaitable, Callable, Sequence

import click

from minik8s.api import resources
from minik8s.cli.kubectl import args as kubectl_args
from minik8s.client import kubeconfig
from minik8s.client import rest
from minik8s.client import tls as tls_mod


class KubectlError(click.ClickException):
    """Bad input or a failed precondition: `error: <message>` on stderr, exit code 1."""

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {self.message}", err=True)


class KubectlCommand(click.Command):
    """Accepts kubectl's `--flag=false` / `--flag=true` for boolean flags."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        flags: dict[str, tuple[str, str | None]] = {}
        for param in self.params:
            if isinstance(param, click.Option) and param.is_flag and param.is_bool_flag:
                for opt in param.opts:
                    flags[opt] = (param.opts[0], param.secondary_opts[0] if param.secondary_opts else None)
        rewritten: list[str] = []
        for arg in args:
            name, eq, value = arg.partition("=")
            if eq and name in flags and value.lower() in ("true", "false", "1", "0", "t", "f"):
                on, off = flags[name]
                if value.lower() in ("true", "1", "t"):
                    rewritten.append(on)
                elif off is not None:
                    rewritten.append(off)
                continue
            rewritten.append(arg)
        return super().parse_args(ctx, rewritten)


def out(text: str) -> None:
    click.echo(text, nl=False)


def err(text: str) -> None:
    click.echo(text, nl=False, err=True)


# ---------------------------------------------------------------------------
# Connection options, shared by every verb
# ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Connection:
    kubeconfig: str | None = None
    context: str | None = None
    server: str | None = None
    token: str | None = None
    namespace: str | None = None
    request_timeout: float = 30.0

    def resolve(self) -> tuple[str, str | None, str]:
        """(server URL, token, namespace): flags first, then the kubeconfig context."""
        access: kubeconfig.ClusterAccess | None = None
        try:
            access = kubeconfig.load(self.kubeconfig, self.context)
        except kubeconfig.KubeconfigError as e:
            if not self.server:
                raise KubectlError(str(e)) from None
        except OSError as e:
            raise KubectlError(f"cannot read kubeconfig: {e}") from None
        server = self.server or (access.server if access else "")
        token = self.token if self.token is not None else (access.token if access else None)
        namespace = self.namespace or (access.namespace if access else "") or "default"
        return server, token, namespace

    def tls(self) -> tls_mod.TLSConfig | None:
        """The kubeconfig's CA and client certificate; only its CA when --token says who we are."""
        try:
            access = kubeconfig.load(self.kubeconfig, self.context)
        except (kubeconfig.KubeconfigError, OSError):
            return None
        found = access.tls()
        return dataclasses.replace(found, cert=None, key=None) if self.token is not None else found


_CONNECTION_OPTIONS = (
    click.option("--kubeconfig", default=None,
                 help="Kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)."),
    click.option("--context", "context_name", default=None, help="Kubeconfig context to use."),
    click.option("-s", "--server", default=None, help="API server URL; overrides the kubeconfig."),
    click.option("--token", default=None, help="Bearer token for the API server."),
    click.option("-n", "--namespace", default=None,
                 help="Namespace (default: the context's namespace, else \"default\")."),
    click.option("--request-timeout", default=30.0, type=float, help="Seconds to wait for one API request."),
)


def connection_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """Adds the connection flags and hands the command one `conn: Connection`."""

    @functools.wraps(f)
    def wrapper(*args: Any, kubeconfig: str | None, context_name: str | None, server: str | None,
                token: str | None, namespace: str | None, request_timeout: float, **kwargs: Any) -> Any:
        conn = Connection(kubeconfig, context_name, server, token, namespace, request_timeout)
        return f(*args, conn=conn, **kwargs)

    for option in reversed(_CONNECTION_OPTIONS):
        wrapper = option(wrapper)
    return wrapper


Body = Callable[[rest.Client, str], Awaitable[int]]


def run(conn: Connection, body: Body) -> None:
    """Run one verb's async body against the server; its result is the exit code."""
    server, token, namespace = conn.resolve()
    tls = conn.tls()

    async def main() -> int:
        client = rest.Client(server, token=token, timeout=conn.request_timeout, user_agent="minik8s-kubectl",
                             tls=tls)
        try:
            return await body(client, namespace)
        finally:
            await client.close()

    try:
        code = asyncio.run(main())
    except (kubectl_args.ArgumentError, tls_mod.TLSError) as e:
        raise KubectlError(str(e)) from None
    if code:
        raise click.exceptions.Exit(code)


def checked(fn: Callable[[], Any]) -> Any:
    """Parse input before any request, turning ArgumentError into `error: ...`."""
    try:
        return fn()
    except kubectl_args.ArgumentError as e:
        raise KubectlError(str(e)) from None


# ---------------------------------------------------------------------------
# From arguments and files to objects
# ---------------------------------------------------------------------------


def targets(args: Sequence[str]) -> list[kubectl_args.Target]:
    return checked(lambda: kubectl_args.parse_targets(args))


def selector_conflict(targets_: list[kubectl_args.Target], selector: str | None, all_: bool = False) -> None:
    if any(t.names for t in targets_) and (selector or all_):
        raise KubectlError("name cannot be provided when a selector is specified")


def load_manifests(filenames: Sequence[str], recursive: bool) -> list[kubectl_args.Manifest]:
    """Every object in the `-f` files, each of a kind minik8s serves; any problem is an error."""
    loaded = checked(lambda: kubectl_args.load_manifests(filenames, recursive=recursive))
    for m in loaded:
        checked(functools.partial(kubectl_args.manifest_resource, m))
    return loaded


def place(m: kubectl_args.Manifest, res: resources.Resource, namespace: str, explicit: bool) -> str | None:
    """The namespace an object from a file goes to; it is written into the object as kubectl does."""
    if not res.namespaced:
        return None
    if m.namespace and explicit and m.namespace != namespace:
        raise kubectl_args.ArgumentError(
            f'the namespace from the provided object "{m.namespace}" does not match the namespace '
            f'"{namespace}". You must pass \'--namespace={m.namespace}\' to perform this operation.')
    if not m.namespace:
        m.obj.setdefault("metadata", {})["namespace"] = namespace
    return m.namespace


def placed_manifests(filenames: Sequence[str], recursive: bool, conn: Connection
                     ) -> list[tuple[kubectl_args.Manifest, resources.Resource, str | None]]:
    """Each object from `-f`, its resource, and the namespace it goes to (None: cluster-scoped)."""
    loaded = load_manifests(filenames, recursive)
    _, _, default_ns = conn.resolve()
    placed: list[tuple[kubectl_args.Manifest, resources.Resource, str | None]] = []
    for m in loaded:
        res = kubectl_args.manifest_resource(m)
        placed.append((m, res, checked(functools.partial(place, m, res, default_ns, conn.namespace is not None))))
    return placed


@dataclasses.dataclass(frozen=True)
class Ref:
    """One object a verb acts on: its resource, namespace, name and where it came from."""

    res: resources.Resource
    namespace: str | None
    name: str
    source: str = ""


async def refs(client: rest.Client, targets_: list[kubectl_args.Target], namespace: str, *,
               selector: str | None = None, field_selector: str | None = None, all_: bool = False) -> list[Ref]:
    """Named objects as given; for a bare type with -l/--all, every object that matches."""
    found: list[Ref] = []
    for t in targets_:
        ns = namespace if t.res.namespaced else None
        if t.names:
            found += [Ref(t.res, ns, name) for name in t.names]
            continue
        if not (selector or field_selector or all_):
            raise kubectl_args.ArgumentError("resource(s) were provided, but no name was specified")
        listed = await client.request("GET", t.res.path(ns),
                                      params={"labelSelector": selector, "fieldSelector": field_selector})
        found += [Ref(t.res, (o.get("metadata") or {}).get("namespace") or ns, o["metadata"]["name"])
                  for o in listed.get("items") or []]
    return found


def file_refs(filenames: Sequence[str], recursive: bool, conn: Connection) -> list[Ref]:
    """The objects named by `-f` files (their names only; the rest of each file is ignored)."""
    if not filenames:
        return []
    return [Ref(res, ns, m.name, m.source) for m, res, ns in placed_manifests(filenames, recursive, conn)]


def context(verb: str, source: str) -> str:
    """kubectl's `error when creating "f.yaml"` prefix for an object that came from a file."""
    return f'error when {verb} "{source}"' if source else ""


_FILE_OPTIONS = (
    click.option("-f", "--filename", "filenames", multiple=True,
                 help="File, directory or - (stdin) with YAML or JSON manifests; repeatable."),
    click.option("-R", "--recursive", is_flag=True, help="Walk directories given with -f recursively."),
)


def file_options(f: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(_FILE_OPTIONS):
        f = option(f)
    return f


def dry_run_params(dry_run: str) -> dict[str, Any]:
    return {"dryRun": "All"} if dry_run == "server" else {}


def dry_run_suffix(dry_run: str) -> str:
    return " (server dry run)" if dry_run == "server" else ""
