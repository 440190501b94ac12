"""The kubectl-like verbs of `minik8s`: get, describe, apply, create, delete, label, scale.

They speak to the API server exactly as kubectl does (Tables for `get`, the
last-applied annotation and three-way strategic merge patches for `apply`, merge
patches for `label` and `scale`) and print what kubectl prints, byte for byte
where a script might parse it (tables, `-o name|yaml|json`, `pod/x created`). A
problem is one line, never a traceback: `Error from server (<Reason>): <message>`
for the API's Status errors, `error: <what>` for bad input, and exit code 1.

Every option is a flag, an environment variable `MINIK8S_<VERB>_<OPTION>` and a key
of the verb's section in the `--config` file (see minik8s.cli.main). Each verb runs
its async work with one `asyncio.run`.
"""
from __future__ import annotations

import asyncio
import copy
import time
from typing import Any, Callable

import click

from minik8s.api import errors
from minik8s.api import resources
from minik8s.cli.kubectl import apply as kubectl_apply
from minik8s.cli.kubectl import args as kubectl_args
from minik8s.cli.kubectl import cmdutil
from minik8s.cli.kubectl import describe as kubectl_describe
from minik8s.cli.kubectl import get as kubectl_get
from minik8s.cli.kubectl import printers
from minik8s.cli.main import cli
from minik8s.client import rest

FIELD_MANAGER = "kubectl-client-side-apply"
# kubectl apply's patcher: at most this many PATCHes when the object keeps changing under us.
MAX_PATCH_RETRY = 5
# kubectl delete --timeout=0 waits "a week"; so do we.
WAIT_FOREVER = 7 * 24 * 3600.0
WAIT_POLL = 0.2


# ---------------------------------------------------------------------------
# get
# ---------------------------------------------------------------------------


@cli.command("get", cls=cmdutil.KubectlCommand)
@click.argument("args", nargs=-1)
@click.option("-o", "--output", default="", help="Output format: wide, yaml, json or name.")
@click.option("-l", "--selector", default=None, help="Label selector, e.g. 'app=web,tier!=db'.")
@click.option("--field-selector", default=None, help="Field selector, e.g. 'status.phase=Running'.")
@click.option("-A", "--all-namespaces", is_flag=True, help="List across all namespaces.")
@click.option("-w", "--watch", is_flag=True, help="After listing, watch for changes.")
@click.option("--watch-only", is_flag=True, help="Watch for changes without listing first.")
@click.option("--show-labels", is_flag=True, help="Add a LABELS column.")
@click.option("--no-headers", is_flag=True, help="Leave out the header line.")
@click.option("--ignore-not-found", is_flag=True, help="Treat a missing named object as no output.")
@click.option("--show-managed-fields", is_flag=True, help="Keep metadata.managedFields in -o yaml/json.")
@cmdutil.connection_options
def get(args: tuple[str, ...], output: str, selector: str | None, field_selector: str | None,
        all_namespaces: bool, watch: bool, watch_only: bool, show_labels: bool, no_headers: bool,
        ignore_not_found: bool, show_managed_fields: bool, conn: cmdutil.Connection) -> None:
    """Display resources: `get TYPE[,TYPE...] [NAME...]`, `get TYPE/NAME`, `get all`."""
    if output not in kubectl_get.OUTPUT_FORMATS:
        raise cmdutil.KubectlError(f'unable to match a printer suitable for the output format "{output}", '
                                       "allowed formats are: json,name,wide,yaml")
    targets = cmdutil.targets(args)
    if not targets:
        raise cmdutil.KubectlError("you must specify the type of resource to get, e.g. 'get pods' or 'get all'")
    cmdutil.selector_conflict(targets, selector or field_selector)
    opts = kubectl_get.GetOptions(output, selector, field_selector, all_namespaces, show_labels, no_headers,
                                  ignore_not_found, show_managed_fields)

    async def body(client: rest.Client, namespace: str) -> int:
        if watch or watch_only:
            if len(targets) != 1:
                raise kubectl_args.ArgumentError("watch is only supported on individual resources and resource "
                                                 "collections - more than 1 resource was found")
            return await kubectl_get.run_watch(client, targets[0], namespace, opts, watch_only, cmdutil.out)
        return await kubectl_get.run_get(client, targets, namespace, opts, cmdutil.out, cmdutil.err)

    cmdutil.run(conn, body)


# ---------------------------------------------------------------------------
# describe
# ---------------------------------------------------------------------------


@cli.command("describe", cls=cmdutil.KubectlCommand)
@click.argument("args", nargs=-1)
@click.option("-l", "--selector", default=None, help="Describe every object matching this label selector.")
@click.option("-A", "--all-namespaces", is_flag=True, help="Look in every namespace.")
@click.option("--show-events/--no-show-events", default=True, help="Show the Events about each object.")
@cmdutil.connection_options
def describe(args: tuple[str, ...], selector: str | None, all_namespaces: bool, show_events: bool,
             conn: cmdutil.Connection) -> None:
    """Show details of objects: `describe TYPE [NAME_PREFIX...]` or `describe TYPE/NAME`."""
    targets = cmdutil.targets(args)
    if not targets:
        raise cmdutil.KubectlError("you must specify the type of resource to describe, e.g. 'describe pods web'")
    cmdutil.selector_conflict(targets, selector)

    async def body(client: rest.Client, namespace: str) -> int:
        texts: list[str] = []
        failures: list[errors.StatusError] = []
        for t in targets:
            ns = None if all_namespaces or not t.res.namespaced else namespace
            objects: list[dict[str, Any]] = []
            if not t.names:
                listed = await client.request("GET", t.res.path(ns), params={"labelSelector": selector})
                objects = list(listed.get("items") or [])
            for name in t.names:
                try:
                    objects.append(await client.request("GET", t.res.path(ns, name)))
                except errors.NotFound as e:
                    # kubectl describes every object whose name starts with what was typed.
                    listed = await client.request("GET", t.res.path(ns))
                    matches = [o for o in listed.get("items") or [] if o["metadata"]["name"].startswith(name)]
                    if not matches:
                        failures.append(e)
                    objects += matches
            for obj in objects:
                texts.append(await kubectl_describe.describe(client, t.res, obj, show_events=show_events))
        if not texts and not failures:
            namespaced = not all_namespaces and all(t.res.namespaced for t in targets)
            cmdutil.err(f"No resources found in {namespace} namespace.\n" if namespaced else "No resources found\n")
        cmdutil.out("\n\n".join(texts))
        for failure in failures:
            cmdutil.err(kubectl_get.error_line(failure) + "\n")
        return 1 if failures else 0

    cmdutil.run(conn, body)


# ---------------------------------------------------------------------------
# apply / create
# ---------------------------------------------------------------------------


async def apply_one(client: rest.Client, m: kubectl_args.Manifest, res: resources.Resource, ns: str | None,
                    *, field_manager: str, dry_run: str, warn: Callable[[str], None]) -> str:
    """Create or patch one object as `kubectl apply` does; returns created|configured|unchanged."""
    modified = kubectl_apply.modified_configuration(m.obj)
    name = m.name
    if not name:
        raise kubectl_args.ArgumentError(f"from {m.source}: cannot use generate name with apply")
    params = {"fieldManager": field_manager, **cmdutil.dry_run_params(dry_run)}
    try:
        current = await client.request("GET", res.path(ns, name))
    except errors.NotFound:
        try:
            await client.request("POST", res.path(ns), body=modified, params=params)
        except errors.StatusError as e:
            e.message = f"{cmdutil.context('creating', m.source)}: {e.message}"
            raise
        return "created"
    if kubectl_apply.original_configuration(current) is None:
        warn(f"Warning: resource {res.qualified}/{name} is missing the {kubectl_apply.LAST_APPLIED} annotation "
             "which is required by kubectl apply. kubectl apply should only be used on resources created "
             "declaratively by either kubectl create --save-config or kubectl apply. The missing annotation "
             "will be patched automatically.\n")
    for attempt in range(1, MAX_PATCH_RETRY + 1):
        patch = kubectl_apply.three_way_patch(kubectl_apply.original_configuration(current), modified, current,
                                              res.kind)
        if not patch:
            return "unchanged"
        try:
            await client.request("PATCH", res.path(ns, name), body=patch, params=params,
                                 content_type=rest.STRATEGIC_PATCH)
            return "configured"
        except errors.Conflict:
            if attempt == MAX_PATCH_RETRY:
                raise
            if attempt > 1:
                await asyncio.sleep(1.0)
            current = await client.request("GET", res.path(ns, name))
        except errors.StatusError as e:
            e.message = f"{cmdutil.context('patching', m.source)}: {e.message}"
            raise
    raise AssertionError("unreachable")


@cli.command("apply", cls=cmdutil.KubectlCommand)
@cmdutil.file_options
@click.option("--field-manager", default=FIELD_MANAGER, help="Name of the manager recorded for the change.")
@click.option("--dry-run", type=click.Choice(["none", "server"]), default="none",
              help="server: let the server validate without persisting.")
@cmdutil.connection_options
def apply(filenames: tuple[str, ...], recursive: bool, field_manager: str, dry_run: str,
          conn: cmdutil.Connection) -> None:
    """Create or update objects from files so that they match the files (three-way merge)."""
    if not filenames:
        raise cmdutil.KubectlError("must specify one of -f and -k")
    placed = cmdutil.placed_manifests(filenames, recursive, conn)

    async def body(client: rest.Client, namespace: str) -> int:
        failed = False
        for m, res, ns in placed:
            try:
                result = await apply_one(client, m, res, ns, field_manager=field_manager, dry_run=dry_run,
                                         warn=cmdutil.err)
            except errors.StatusError as e:
                cmdutil.err(kubectl_get.error_line(e) + "\n")
                failed = True
                continue
            except (kubectl_apply.PatchError, kubectl_args.ArgumentError) as e:
                cmdutil.err(f"error: {cmdutil.context('applying patch to', m.source)}: {e}\n"
                                if isinstance(e, kubectl_apply.PatchError) else f"error: {e}\n")
                failed = True
                continue
            cmdutil.out(f"{printers.format_name(res, m.obj)} {result}{cmdutil.dry_run_suffix(dry_run)}\n")
        return 1 if failed else 0

    cmdutil.run(conn, body)


@cli.command("create", cls=cmdutil.KubectlCommand)
@cmdutil.file_options
@click.option("--save-config", is_flag=True, help="Record the configuration for later `apply`.")
@click.option("--dry-run", type=click.Choice(["none", "server"]), default="none",
              help="server: let the server validate without persisting.")
@cmdutil.connection_options
def create(filenames: tuple[str, ...], recursive: bool, save_config: bool, dry_run: str,
           conn: cmdutil.Connection) -> None:
    """Create objects from files; an object that exists already is an error."""
    if not filenames:
        raise cmdutil.KubectlError("must specify one of -f and -k")
    placed = cmdutil.placed_manifests(filenames, recursive, conn)

    async def body(client: rest.Client, namespace: str) -> int:
        failed = False
        for m, res, ns in placed:
            obj = kubectl_apply.modified_configuration(m.obj) if save_config else m.obj
            try:
                created = await client.request("POST", res.path(ns), body=obj,
                                               params=cmdutil.dry_run_params(dry_run))
            except errors.StatusError as e:
                cmdutil.err(kubectl_get.error_line(e, cmdutil.context("creating", m.source)) + "\n")
                failed = True
                continue
            suffix = cmdutil.dry_run_suffix(dry_run)
            cmdutil.out(f"{printers.format_name(res, created or obj)} created{suffix}\n")
        return 1 if failed else 0

    cmdutil.run(conn, body)


# ---------------------------------------------------------------------------
# delete
# ---------------------------------------------------------------------------

_CASCADE = {"background": "Background", "true": "Background", "foreground": "Foreground",
            "orphan": "Orphan", "false": "Orphan"}


async def wait_deleted(client: rest.Client, deleted: list[tuple[cmdutil.Ref, str | None]], timeout: float
                       ) -> list[str]:
    """Poll until each object is gone (or replaced by one with another uid); the ones that were not."""
    deadline = time.monotonic() + (timeout or WAIT_FOREVER)
    pending = list(deleted)
    while pending:
        still = []
        for ref, uid in pending:
            obj = await client.get_or_none(ref.res, ref.name, ref.namespace)
            if obj is not None and (uid is None or (obj.get("metadata") or {}).get("uid") == uid):
                still.append((ref, uid))
        pending = still
        if not pending or time.monotonic() >= deadline:
            break
        await asyncio.sleep(WAIT_POLL)
    return [f"{r.res.qualified}/{r.name}" for r, _ in pending]


@cli.command("delete", cls=cmdutil.KubectlCommand)
@click.argument("args", nargs=-1)
@cmdutil.file_options
@click.option("-l", "--selector", default=None, help="Delete every object of the type matching this selector.")
@click.option("--field-selector", default=None, help="Delete every object of the type matching these fields.")
@click.option("--all", "all_", is_flag=True, help="Delete every object of the type in the namespace.")
@click.option("--grace-period", default=-1, type=int, help="Seconds to let the object terminate (-1: its default).")
@click.option("--now", is_flag=True, help="Terminate at once (grace period 1).")
@click.option("--force", is_flag=True, help="With --grace-period=0: remove without waiting for termination.")
@click.option("--cascade", default="background", type=click.Choice(sorted(_CASCADE), case_sensitive=False),
              help="What happens to dependents: background, foreground or orphan.")
@click.option("--wait/--no-wait", default=True, help="Wait until the objects are gone.")
@click.option("--timeout", default=0.0, type=float, help="Seconds to wait for deletion (0: a week).")
@click.option("--ignore-not-found", is_flag=True, help="A missing object is not an error.")
@click.option("-o", "--output", default="", type=click.Choice(["", "name"]), help="name: print kind/name only.")
@cmdutil.connection_options
def delete(args: tuple[str, ...], filenames: tuple[str, ...], recursive: bool, selector: str | None,
           field_selector: str | None, all_: bool, grace_period: int, now: bool, force: bool, cascade: str,
           wait: bool, timeout: float, ignore_not_found: bool, output: str, conn: cmdutil.Connection) -> None:
    """Delete objects by name (`delete TYPE NAME...`, `TYPE/NAME`), by selector, or from files."""
    if filenames and args:
        raise cmdutil.KubectlError("resources cannot be given both as arguments and with -f")
    if not filenames and not args:
        raise cmdutil.KubectlError("You must provide one or more resources by argument or filename.")
    if now:
        if grace_period != -1:
            raise cmdutil.KubectlError("--now and --grace-period cannot be specified together")
        grace_period = 1
    if grace_period == 0 and not force:
        # kubectl: without --force, 0 means "as fast as is safe", i.e. 1.
        grace_period = 1
    if force and grace_period < 0:
        grace_period = 0
    targets = cmdutil.targets(args)
    cmdutil.selector_conflict(targets, selector or field_selector, all_)
    file_refs = cmdutil.file_refs(filenames, recursive, conn)
    operation = "force deleted" if grace_period == 0 else "deleted"

    async def body(client: rest.Client, namespace: str) -> int:
        refs = file_refs or await cmdutil.refs(client, targets, namespace, selector=selector,
                                                   field_selector=field_selector, all_=all_)
        if not refs:
            cmdutil.out("No resources found\n")
            return 0
        if force and grace_period == 0:
            cmdutil.err("Warning: Immediate deletion does not wait for confirmation that the running resource "
                            "has been terminated. The resource may continue to run on the cluster indefinitely.\n")
        failed = False
        deleted: list[tuple[cmdutil.Ref, str | None]] = []
        for ref in refs:
            try:
                gone = await client.delete(ref.res, ref.name, ref.namespace,
                                           grace_period=grace_period if grace_period >= 0 else None,
                                           propagation=_CASCADE[cascade.lower()])
            except errors.NotFound as e:
                if not ignore_not_found:
                    cmdutil.err(kubectl_get.error_line(e, cmdutil.context("deleting", ref.source)) + "\n")
                    failed = True
                continue
            except errors.StatusError as e:
                cmdutil.err(kubectl_get.error_line(e, cmdutil.context("deleting", ref.source)) + "\n")
                failed = True
                continue
            kind = kubectl_get.kind_prefix(ref.res)
            cmdutil.out(f"{kind}/{ref.name}\n" if output == "name" else f'{kind} "{ref.name}" {operation}\n')
            uid = ((gone or {}).get("metadata") or {}).get("uid") if (gone or {}).get("kind") != "Status" else None
            deleted.append((ref, uid))
        if wait and deleted:
            for name in await wait_deleted(client, deleted, timeout):
                cmdutil.err(f"error: timed out waiting for the condition on {name}\n")
                failed = True
        return 1 if failed else 0

    cmdutil.run(conn, body)


# ---------------------------------------------------------------------------
# label
# ---------------------------------------------------------------------------


def label_change(obj: dict[str, Any], add: dict[str, str], remove: list[str], overwrite: bool
                 ) -> tuple[dict[str, Any] | None, str]:
    """The merge patch for a label change and kubectl's verdict (labeled, unlabeled, not labeled).

    Raises ArgumentError when a label would be overwritten without `overwrite`."""
    old_labels = (obj.get("metadata") or {}).get("labels")
    current = dict(old_labels or {})
    if not overwrite:
        clashes = [f"'{k}' already has a value ({current[k]}), and --overwrite is false"
                   for k in add if k in current]
        if clashes:
            # kubectl's aggregate error: one message, or several in brackets.
            raise kubectl_args.ArgumentError(clashes[0] if len(clashes) == 1 else f"[{', '.join(clashes)}]")
    labels = {**current, **add}
    for key in remove:
        labels.pop(key, None)
    new = copy.deepcopy(obj)
    new.setdefault("metadata", {})["labels"] = labels
    old_text, new_text = kubectl_apply.go_json(obj), kubectl_apply.go_json(new)
    verdict = "not labeled"
    if old_text != new_text:
        verdict = "unlabeled" if not overwrite and len(new_text) < len(old_text) else "labeled"
    changes: dict[str, Any] = {k: v for k, v in labels.items() if current.get(k) != v}
    changes.update({k: None for k in current if k not in labels})
    if not changes:
        return None, verdict
    return {"metadata": {"labels": changes}}, verdict


@cli.command("label", cls=cmdutil.KubectlCommand)
@click.argument("args", nargs=-1)
@cmdutil.file_options
@click.option("--overwrite", is_flag=True, help="Allow changing the value of an existing label.")
@click.option("-l", "--selector", default=None, help="Label every object of the type matching this selector.")
@click.option("--all", "all_", is_flag=True, help="Label every object of the type in the namespace.")
@cmdutil.connection_options
def label(args: tuple[str, ...], filenames: tuple[str, ...], recursive: bool, overwrite: bool,
          selector: str | None, all_: bool, conn: cmdutil.Connection) -> None:
    """Add, change (--overwrite) or remove (`key-`) labels: `label TYPE NAME k=v k2-`."""
    resource_args, pairs = cmdutil.checked(lambda: kubectl_args.split_label_args(args))
    add, remove = cmdutil.checked(lambda: kubectl_args.parse_label_changes(pairs))
    if not resource_args and not filenames:
        raise cmdutil.KubectlError("one or more resources must be specified as <resource> <name> or "
                                       "<resource>/<name>")
    if not add and not remove:
        raise cmdutil.KubectlError("at least one label update is required")
    targets = cmdutil.targets(resource_args)
    cmdutil.selector_conflict(targets, selector, all_)
    file_refs = cmdutil.file_refs(filenames, recursive, conn)

    async def body(client: rest.Client, namespace: str) -> int:
        refs = file_refs or await cmdutil.refs(client, targets, namespace, selector=selector, all_=all_)
        failed = False
        for ref in refs:
            try:
                obj = await client.get(ref.res, ref.name, ref.namespace)
                labels = (obj.get("metadata") or {}).get("labels") or {}
                for key in remove:
                    if key not in labels:
                        cmdutil.out(f'label "{key}" not found.\n')
                try:
                    patch, verdict = label_change(obj, add, remove, overwrite)
                except kubectl_args.ArgumentError as e:
                    cmdutil.err(f"error: {e}\n")
                    failed = True
                    continue
                if patch is not None:
                    await client.patch(ref.res, ref.name, patch, ref.namespace, patch_type=rest.MERGE_PATCH)
            except errors.StatusError as e:
                cmdutil.err(kubectl_get.error_line(e) + "\n")
                failed = True
                continue
            cmdutil.out(f"{printers.format_name(ref.res, obj)} {verdict}\n")
        return 1 if failed else 0

    cmdutil.run(conn, body)


# ---------------------------------------------------------------------------
# scale
# ---------------------------------------------------------------------------


@cli.command("scale", cls=cmdutil.KubectlCommand)
@click.argument("args", nargs=-1)
@cmdutil.file_options
@click.option("--replicas", default=None, type=int, help="The new number of replicas (required).")
@click.option("--current-replicas", default=-1, type=int,
              help="Only scale if the current number of replicas is this (-1: no check).")
@click.option("-l", "--selector", default=None, help="Scale every object of the type matching this selector.")
@click.option("--all", "all_", is_flag=True, help="Scale every object of the type in the namespace.")
@cmdutil.connection_options
def scale(args: tuple[str, ...], filenames: tuple[str, ...], recursive: bool, replicas: int | None,
          current_replicas: int, selector: str | None, all_: bool, conn: cmdutil.Connection) -> None:
    """Set the replicas of deployments, replicasets or replicationcontrollers: `scale deploy/web --replicas=3`."""
    if replicas is None:
        raise cmdutil.KubectlError('required flag(s) "replicas" not set')
    if replicas < 0:
        raise cmdutil.KubectlError("The --replicas=COUNT flag is required, and COUNT must be greater than or "
                                       "equal to 0")
    targets = cmdutil.targets(args)
    cmdutil.selector_conflict(targets, selector, all_)
    if not targets and not filenames:
        raise cmdutil.KubectlError("You must provide one or more resources by argument or filename.")
    file_refs = cmdutil.file_refs(filenames, recursive, conn)

    async def body(client: rest.Client, namespace: str) -> int:
        refs = file_refs or await cmdutil.refs(client, targets, namespace, selector=selector, all_=all_)
        if not refs:
            cmdutil.err("No resources found\n")
            return 0
        failed = False
        for ref in refs:
            if ref.res.subresource("scale") is None:
                cmdutil.err(f'error: cannot scale {ref.res.qualified} "{ref.name}": it has no scale subresource '
                    "(scale deployments, replicasets or replicationcontrollers)\n")
                failed = True
                continue
            try:
                if current_replicas >= 0:
                    current = await client.request("GET", ref.res.path(ref.namespace, ref.name, "scale"))
                    have = int((current.get("spec") or {}).get("replicas") or 0)
                    if have != current_replicas:
                        cmdutil.err(f"error: Expected replicas to be {current_replicas}, was {have}\n")
                        failed = True
                        continue
                await client.patch(ref.res, ref.name, {"spec": {"replicas": replicas}}, ref.namespace,
                                   patch_type=rest.MERGE_PATCH, subresource="scale")
            except errors.StatusError as e:
                cmdutil.err(kubectl_get.error_line(e) + "\n")
                failed = True
                continue
            cmdutil.out(f"{kubectl_get.kind_prefix(ref.res)}/{ref.name} scaled\n")
        return 1 if failed else 0

    cmdutil.run(conn, body)

