"""What the user typed, turned into resources and objects, before anything talks to the server.

Two inputs name objects in kubectl: positional arguments (`pods,svc web`, `deploy/web`,
`all`) and manifests (`-f FILE|DIR|-`, multi-document YAML, JSON, `kind: List`). Both
are pure functions here so they can be tested without a server; errors are
`ArgumentError` carrying the one line kubectl prints after `error: `.
"""
from __future__ import annotations

import dataclasses
import json
import pathlib
import sys
from typing import Any, Iterable, Sequence, TextIO

import yaml

from minik8s.api import resources
from minik8s.api import selectors

# kubectl's FileExtensions: what a directory walk picks up.
MANIFEST_EXTENSIONS = (".json", ".yaml", ".yml")
STDIN_SOURCE = "STDIN"


class ArgumentError(Exception):
    """A problem with the command line or a manifest; printed as `error: <message>`."""


# ---------------------------------------------------------------------------
# Positional arguments
# ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Target:
    """One resource type and the names asked for (none: the whole collection)."""

    res: resources.Resource
    names: tuple[str, ...] = ()


def resolve_type(text: str) -> resources.Resource:
    res = resources.resolve(text)
    if res is None or not text:
        raise ArgumentError(f'the server doesn\'t have a resource type "{text}"')
    return res


def category(name: str) -> list[resources.Resource]:
    """Every served resource in a category, in discovery order (`all` → pods, services, ...)."""
    return [r for r in resources.preferred() if name in r.categories]


def _expand_types(text: str) -> list[resources.Resource]:
    out: list[resources.Resource] = []
    for part in text.split(","):
        if not part:
            continue
        found = category(part.lower()) or [resolve_type(part)]
        for res in found:
            if res not in out:
                out.append(res)
    if not out:
        raise ArgumentError(f'the server doesn\'t have a resource type "{text}"')
    return out


def parse_targets(args: Sequence[str]) -> list[Target]:
    """kubectl's ResourceTypeOrNameArgs: `TYPE[,TYPE...] [NAME...]` or `TYPE/NAME ...`.

    Consecutive TYPE/NAME arguments of one type share a Target, so that `get` prints
    them in one table as kubectl does."""
    if not args:
        return []
    if any("/" in a for a in args):
        if not all("/" in a for a in args):
            raise ArgumentError(
                "there is no need to specify a resource type as a separate argument when passing "
                "arguments in resource/name form (e.g. 'kubectl get resource/<resource_name>' instead "
                "of 'kubectl get resource resource/<resource_name>'")
        targets: list[Target] = []
        for arg in args:
            kind, _, name = arg.partition("/")
            if not kind or not name or "/" in name:
                raise ArgumentError(f"arguments in resource/name form must have a single resource and name: {arg!r}")
            res = resolve_type(kind)
            if targets and targets[-1].res == res:
                targets[-1] = Target(res, targets[-1].names + (name,))
            else:
                targets.append(Target(res, (name,)))
        return targets
    names = tuple(args[1:])
    return [Target(res, names) for res in _expand_types(args[0])]


def split_label_args(args: Sequence[str]) -> tuple[list[str], list[str]]:
    """cmdutil.GetResourcesAndPairs: resources first, then `k=v` / `k-` changes."""
    resources_: list[str] = []
    pairs: list[str] = []
    for arg in args:
        is_pair = ("=" in arg and not arg.startswith("=")) or (arg.endswith("-") and arg != "-")
        if is_pair:
            pairs.append(arg)
        elif pairs:
            raise ArgumentError(f"all resources must be specified before label changes: {arg}")
        else:
            resources_.append(arg)
    return resources_, pairs


def parse_label_changes(specs: Iterable[str]) -> tuple[dict[str, str], list[str]]:
    """`k=v` sets, `k-` removes (label.go parseLabels)."""
    add: dict[str, str] = {}
    remove: list[str] = []
    for spec in specs:
        if "=" in spec:
            parts = spec.split("=")
            if len(parts) != 2:
                raise ArgumentError(f"invalid label spec: {spec}")
            key, value = parts
            problem = selectors.label_value_error(value)
            if problem:
                raise ArgumentError(f'invalid label value: "{spec}": {problem}')
            add[key] = value
        elif spec.endswith("-"):
            remove.append(spec[:-1])
        else:
            raise ArgumentError(f"unknown label spec: {spec}")
    if any(key in add for key in remove):
        raise ArgumentError("can not both modify and remove a label in the same command")
    return add, remove


# ---------------------------------------------------------------------------
# Manifests
# ---------------------------------------------------------------------------


@dataclasses.dataclass
class Manifest:
    """One object from a file, with where it came from (for error messages)."""

    obj: dict[str, Any]
    source: str

    @property
    def name(self) -> str:
        return str((self.obj.get("metadata") or {}).get("name") or "")

    @property
    def namespace(self) -> str:
        return str((self.obj.get("metadata") or {}).get("namespace") or "")


def load_manifests(paths: Sequence[str], *, recursive: bool = False, stdin: TextIO | None = None
                   ) -> list[Manifest]:
    """Every object named by `-f` arguments, in order; raises ArgumentError on the first bad one."""
    out: list[Manifest] = []
    for path in paths:
        if path == "-":
            text = (stdin or sys.stdin).read()
            out += [Manifest(o, STDIN_SOURCE) for o in parse_documents(text, STDIN_SOURCE)]
            continue
        if path.startswith(("http://", "https://")):
            raise ArgumentError(f'the path "{path}" is a URL; minik8s reads manifests from files only')
        for file in _files(pathlib.Path(path), recursive, top=True):
            try:
                text = file.read_text()
            except OSError as e:
                raise ArgumentError(f"error reading {file}: {e.strerror}") from None
            except UnicodeDecodeError:
                raise ArgumentError(f"error parsing {file}: not a text file") from None
            out += [Manifest(o, str(file)) for o in parse_documents(text, str(file))]
    return out


def _files(path: pathlib.Path, recursive: bool, *, top: bool) -> list[pathlib.Path]:
    if not path.exists():
        raise ArgumentError(f'the path "{path}" does not exist')
    if not path.is_dir():
        return [path]
    files: list[pathlib.Path] = []
    for child in sorted(path.iterdir()):
        if child.is_dir():
            if recursive:
                files += _files(child, recursive, top=False)
        elif child.suffix in MANIFEST_EXTENSIONS:
            files.append(child)
    return files


def parse_documents(text: str, source: str) -> list[dict[str, Any]]:
    """The objects in one file: YAML documents or concatenated JSON values, Lists flattened."""
    docs = _json_documents(text, source) if text.lstrip().startswith(("{", "[")) else _yaml_documents(text, source)
    out: list[dict[str, Any]] = []
    for doc in docs:
        out += _flatten(doc, source)
    return out


def _json_documents(text: str, source: str) -> list[Any]:
    decoder = json.JSONDecoder()
    docs: list[Any] = []
    pos = 0
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            return docs
        try:
            doc, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as e:
            raise ArgumentError(f"error parsing {source}: {e.msg} at line {e.lineno} column {e.colno}") from None
        docs.append(doc)


def _yaml_documents(text: str, source: str) -> list[Any]:
    try:
        return [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        where = f"line {mark.line + 1}: " if mark is not None else ""
        raise ArgumentError(f"error parsing {source}: error converting YAML to JSON: yaml: {where}{problem}") from None


def _flatten(doc: Any, source: str) -> list[dict[str, Any]]:
    if not isinstance(doc, dict):
        raise ArgumentError(f'error validating "{source}": error validating data: the document is a '
                            f"{_json_type(doc)}, not an object")
    kind = doc.get("kind")
    if isinstance(kind, str) and kind.endswith("List") and isinstance(doc.get("items"), list):
        out: list[dict[str, Any]] = []
        for item in doc["items"]:
            out += _flatten(item, source)
        return out
    missing = [field for field in ("apiVersion", "kind") if not doc.get(field)]
    if missing:
        problems = [f"{m} not set" for m in missing]
        text = problems[0] if len(problems) == 1 else f"[{', '.join(problems)}]"
        raise ArgumentError(f'error validating "{source}": error validating data: {text}')
    return [doc]


def _json_type(value: Any) -> str:
    if isinstance(value, list):
        return "list"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return "null"


def manifest_resource(m: Manifest) -> resources.Resource:
    """The resource a manifest's apiVersion/kind is served as, or kubectl's mapping error."""
    kind, api_version = str(m.obj["kind"]), str(m.obj["apiVersion"])
    res = resources.by_kind(kind, api_version)
    if res is None:
        raise ArgumentError(
            f'resource mapping not found for name: "{m.name}" namespace: "{m.namespace}" from "{m.source}": '
            f'no matches for kind "{kind}" in version "{api_version}"')
    return res
