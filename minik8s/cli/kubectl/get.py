"""`get`: tables from the server, yaml/json/name from plain objects, and `--watch`.

Human-readable output asks the server for meta.k8s.io Tables with kubectl's Accept
header and lays them out with minik8s.cli.kubectl.printers; objects of several kinds get
`kind/` prefixed names and one table per kind, separated by a blank line
(kubectl's get.go). `-o yaml|json` of anything but one named object is a
`kind: List`. A watch prints the first table, then one row per event, padding
cells to the widths the first table set, as kubectl's tabwriter does with
RememberWidths.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Callable

from minik8s.api import errors
from minik8s.api import printing
from minik8s.api import resources
from minik8s.cli.kubectl import args as kubectl_args
from minik8s.cli.kubectl import printers
from minik8s.client import rest

TABLE_ACCEPT = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
OUTPUT_FORMATS = ("", "wide", "yaml", "json", "name")

Echo = Callable[[str], None]


@dataclasses.dataclass(frozen=True)
class GetOptions:
    output: str = ""
    label_selector: str | None = None
    field_selector: str | None = None
    all_namespaces: bool = False
    show_labels: bool = False
    no_headers: bool = False
    ignore_not_found: bool = False
    show_managed_fields: bool = False

    @property
    def human(self) -> bool:
        return self.output in ("", "wide")


def kind_prefix(res: resources.Resource) -> str:
    """`deployment.apps`, `pod`: what `get` puts before names of mixed kinds."""
    return res.kind.lower() + (f".{res.group}" if res.group else "")


def with_type(res: resources.Resource, obj: dict[str, Any]) -> dict[str, Any]:
    """List items come without apiVersion/kind; kubectl shows them with."""
    if obj.get("apiVersion") and obj.get("kind"):
        return obj
    return {"apiVersion": res.api_version, "kind": res.kind, **obj}


def as_list(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"apiVersion": "v1", "items": items, "kind": "List", "metadata": {"resourceVersion": ""}}


def without_managed_fields(obj: dict[str, Any]) -> dict[str, Any]:
    """What kubectl prints by default (since 1.21): the object without metadata.managedFields."""
    meta = obj.get("metadata")
    if not isinstance(meta, dict) or "managedFields" not in meta:
        return obj
    return {**obj, "metadata": {k: v for k, v in meta.items() if k != "managedFields"}}


def render_objects(output: str, items: list[tuple[resources.Resource, dict[str, Any]]], *, single: bool,
                   show_managed_fields: bool = False) -> str:
    """-o yaml|json|name of what `get` fetched: the object itself only for one named object."""
    if output == "name":
        return "".join(printers.format_name(res, obj) + "\n" for res, obj in items)
    objects = [with_type(res, obj if show_managed_fields else without_managed_fields(obj)) for res, obj in items]
    doc = objects[0] if single and len(objects) == 1 else as_list(objects)
    return printers.format_yaml(doc) if output == "yaml" else printers.format_json(doc)


def namespace_for(res: resources.Resource, namespace: str, all_namespaces: bool) -> str | None:
    if not res.namespaced or all_namespaces:
        return None
    return namespace


async def run_get(client: rest.Client, targets: list[kubectl_args.Target], namespace: str, opts: GetOptions,
                  out: Echo, err: Echo) -> int:
    """Print what `kubectl get` prints; returns the exit code."""
    failures: list[errors.StatusError] = []
    params = {"labelSelector": opts.label_selector, "fieldSelector": opts.field_selector}
    headers = {"Accept": TABLE_ACCEPT} if opts.human else None
    fetched: list[tuple[resources.Resource, list[dict[str, Any]]]] = []
    for target in targets:
        res = target.res
        ns = namespace_for(res, namespace, opts.all_namespaces)
        if target.names:
            found: list[dict[str, Any]] = []
            for name in target.names:
                try:
                    found.append(await client.request("GET", res.path(ns, name), headers=headers))
                except errors.NotFound as e:
                    if not opts.ignore_not_found:
                        failures.append(e)
                except errors.StatusError as e:
                    failures.append(e)
            if found:
                fetched.append((res, found))
        else:
            fetched.append((res, [await client.request("GET", res.path(ns), params=params, headers=headers)]))

    single = len(targets) == 1 and len(targets[0].names) == 1
    if not opts.human:
        if single and failures:
            _report(failures, err)
            return 1
        items = [(res, obj) for res, bodies in fetched for body in bodies
                 for obj in ((body.get("items") or []) if "items" in body else [body])]
        # kubectl prints an empty List, except when told to ignore what is not found.
        if items or (opts.output != "name" and not opts.ignore_not_found):
            out(render_objects(opts.output, items, single=single, show_managed_fields=opts.show_managed_fields))
        _report(failures, err)
        return 1 if failures else 0

    with_kind = len({res for res, _ in fetched}) > 1
    written = False
    for res, bodies in fetched:
        table = merge_tables(bodies)
        text = printers.format_table(
            table, wide=opts.output == "wide", no_headers=opts.no_headers,
            namespace_column=opts.all_namespaces and res.namespaced, show_labels=opts.show_labels,
            kind_prefix=kind_prefix(res) if with_kind else None)
        if text:
            out(("\n" if written and not opts.no_headers else "") + text)
            written = True
    if not written and not failures and not opts.ignore_not_found:
        if not opts.all_namespaces and all(res.namespaced for res, _ in fetched):
            err(f"No resources found in {namespace} namespace.\n")
        else:
            err("No resources found\n")
    _report(failures, err)
    return 1 if failures else 0


def merge_tables(bodies: list[dict[str, Any]]) -> dict[str, Any]:
    """Several one-row Tables of one kind (`get pod a b`) as one table, as kubectl aligns them."""
    table = dict(bodies[0])
    table["rows"] = [row for body in bodies for row in body.get("rows") or []]
    return table


def error_line(e: errors.StatusError, context: str = "") -> str:
    """kubectl's line for an API error (the same as minik8s.cli.main's handler)."""
    prefix = f"Error from server ({e.reason})" if e.reason and e.reason != "Unknown" else "Error from server"
    return f"{prefix}: {context + ': ' if context else ''}{e.message}"


def _report(failures: list[errors.StatusError], err: Echo) -> None:
    for e in failures:
        err(error_line(e) + "\n")


# ---------------------------------------------------------------------------
# Watch
# ---------------------------------------------------------------------------


def table_lines(table: dict[str, Any], *, wide: bool, no_headers: bool, namespace_column: bool,
                show_labels: bool) -> list[list[str]]:
    """The cells printers.format_table lays out, header first unless `no_headers`."""
    columns = list(table.get("columnDefinitions") or [])
    shown = [i for i, c in enumerate(columns) if wide or not c.get("priority")]
    lines: list[list[str]] = []
    if not no_headers:
        header = [str(columns[i].get("name", "")).upper() for i in shown]
        lines.append((["NAMESPACE"] if namespace_column else []) + header + (["LABELS"] if show_labels else []))
    for row in table.get("rows") or []:
        cells = list(row.get("cells") or [])
        line = [printers._cell_text(cells[i]) if i < len(cells) else "" for i in shown]  # noqa: SLF001
        obj = row.get("object")
        metadata = obj.get("metadata") if isinstance(obj, dict) else None
        if namespace_column:
            line.insert(0, (metadata or {}).get("namespace", "") if metadata is not None else "")
        if show_labels:
            line.append(printing.format_labels((metadata or {}).get("labels")) if metadata is not None else "")
        lines.append(line)
    return lines


class RememberingTabWriter:
    """Go's tabwriter (min width 6, padding 3) with cli-runtime's RememberWidths: a column
    never gets narrower than it was in an earlier flush, so watch rows line up under the
    first table. Lines of one table all have the same number of cells."""

    MIN_WIDTH = 6
    PADDING = 3

    def __init__(self) -> None:
        self.widths: list[int] = []

    def flush(self, lines: list[list[str]]) -> str:
        if not lines:
            return ""
        columns = max(len(line) for line in lines) - 1
        for c in range(columns):
            width = max([self.MIN_WIDTH] + [len(line[c]) + self.PADDING for line in lines if c < len(line) - 1])
            if c < len(self.widths):
                width = max(width, self.widths[c])
                self.widths[c] = width
            else:
                self.widths.append(width)
        out = []
        for line in lines:
            cells = [cell.ljust(self.widths[c]) if c < len(line) - 1 else cell for c, cell in enumerate(line)]
            out.append("".join(cells) + "\n")
        return "".join(out)


class TablePrinter:
    """cli-runtime's HumanReadablePrinter fed one Table after another (a watch)."""

    def __init__(self, *, wide: bool, no_headers: bool, namespace_column: bool, show_labels: bool) -> None:
        self.wide = wide
        self.no_headers = no_headers
        self.namespace_column = namespace_column
        self.show_labels = show_labels
        self.columns: list[dict[str, Any]] = []
        self.printed_headers = False
        self.writer = RememberingTabWriter()

    def render(self, table: dict[str, Any]) -> str:
        defs = list(table.get("columnDefinitions") or [])
        no_headers = self.no_headers or (self.printed_headers and (not defs or defs == self.columns))
        if not defs:
            defs = self.columns
        elif defs != self.columns:
            self.columns = defs
            self.printed_headers = False
        rows = table.get("rows") or []
        if rows:
            self.printed_headers = True
        else:
            return ""
        lines = table_lines({**table, "columnDefinitions": defs}, wide=self.wide, no_headers=no_headers,
                            namespace_column=self.namespace_column, show_labels=self.show_labels)
        return self.writer.flush(lines)


async def run_watch(client: rest.Client, target: kubectl_args.Target, namespace: str, opts: GetOptions,
                    watch_only: bool, out: Echo) -> int:
    """`get -w`: the current state (unless --watch-only), then every change until interrupted."""
    if len(target.names) > 1:
        raise kubectl_args.ArgumentError("watch is only supported on individual resources and resource "
                                         "collections - more than 1 resource was found")
    res = target.res
    ns = namespace_for(res, namespace, opts.all_namespaces)
    headers = {"Accept": TABLE_ACCEPT} if opts.human else None
    params: dict[str, Any] = {"labelSelector": opts.label_selector, "fieldSelector": opts.field_selector}
    printer = TablePrinter(wide=opts.output == "wide", no_headers=opts.no_headers,
                           namespace_column=opts.all_namespaces and res.namespaced, show_labels=opts.show_labels)
    printed = 0

    def emit(obj: dict[str, Any]) -> None:
        nonlocal printed
        if opts.human:
            out(printer.render(obj))
            return
        obj = with_type(res, obj)
        if opts.output == "name":
            out(printers.format_name(res, obj) + "\n")
        elif opts.output == "json":
            out(printers.format_json(obj))
        else:
            out(("---\n" if printed else "") + printers.format_yaml(obj))
        printed += 1

    if target.names:
        name = target.names[0]
        current = await client.request("GET", res.path(ns, name), headers=headers)
        # A watch on one object from resourceVersion 0 starts with a synthetic ADDED of it.
        skip_first, rv = True, "0"
        name_selector = f"metadata.name={name}"
        params["fieldSelector"] = f"{opts.field_selector},{name_selector}" if opts.field_selector else name_selector
        initial = [current]
    else:
        listed = await client.request("GET", res.path(ns), params=params, headers=headers)
        skip_first, rv = False, str((listed.get("metadata") or {}).get("resourceVersion") or "0")
        initial = [listed] if opts.human else list(listed.get("items") or [])
    if not watch_only:
        for obj in initial:
            emit(obj)
    params.update(resourceVersion=rv, allowWatchBookmarks="true")
    async for event in client.watch_path(res.path(ns), params, headers=headers):
        kind = event.get("type")
        if kind == "BOOKMARK":
            continue
        if kind == "ERROR":
            raise errors.StatusError.from_status(event.get("object") or {})
        if skip_first:
            skip_first = False
            continue
        emit(event.get("object") or {})
    return 0
