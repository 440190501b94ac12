"""Request bodies in, response bodies out: decoding, typed checking and content negotiation.

Every write body goes through `decode_object`, which does what kube-apiserver's
decoder does before any strategy sees the object: decode JSON, YAML or protobuf,
check every member's type against the kind's schema (400 with Go's decoder message
when one is wrong), drop the members the schema does not know, and report them, and
any duplicate members, as the request's fieldValidation says — Strict refuses the
request, Warn (the default) answers with `Warning: 299` headers, Ignore says
nothing. Unknown members are never stored, whatever the directive.

Patches are checked after they are applied (`PatchCheck`): an ill-typed result is
422 Invalid, as upstream's patch handler reports it.

Duplicate members cannot be seen once JSON is parsed into a dict, so they are
searched for in the raw body, and only when the directive cares and the body is
not in the canonical compact form orjson would write (a body that re-encodes to
itself byte for byte has no duplicates): kubectl's and minik8s's own bodies take
the fast path.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import orjson
import yaml
from aiohttp import web

from minik8s.api import errors
from minik8s.api import protobuf
from minik8s.api import resources
from minik8s.api import schema
from minik8s.api.schema import dsl
from minik8s.api.schema import structural

JSON = "application/json"
PROTOBUF = protobuf.MEDIA_TYPE
YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml")

IGNORE, WARN, STRICT = "Ignore", "Warn", "Strict"
_DIRECTIVES = (IGNORE, WARN, STRICT)


def field_validation(request: web.Request) -> str:
    """The request's fieldValidation directive; Warn when absent or empty, as Kubernetes 1.27+.

    Parsed strictly: a value other than the three is a 400 naming the parameter.
    """
    values = request.query.getall("fieldValidation", [])
    value = values[-1] if values else ""
    if value == "":
        return WARN
    if value not in _DIRECTIVES:
        raise errors.BadRequest(f'fieldValidation: Unsupported value: "{value}": supported values: '
                                '"Ignore", "Strict", "Warn"')
    return value


def decode_raw(raw: bytes, content_type: str) -> Any:
    """The parsed body (JSON, YAML or protobuf); 400 for one that does not parse."""
    if content_type == PROTOBUF:
        return protobuf.decode(raw)
    if not raw.strip():
        raise errors.BadRequest("the request body is empty")
    if content_type in YAML_TYPES:
        try:
            return yaml.safe_load(raw)
        except yaml.YAMLError as e:
            raise errors.BadRequest(f"error decoding YAML: {e}") from None
        except RecursionError:  # PyYAML parses nested collections recursively
            raise errors.BadRequest("error decoding YAML: the document is nested too deeply") from None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as e:
        raise errors.BadRequest(f"couldn't get version/kind; json parse error: {e}") from None


def duplicates(raw: bytes, parsed: Any, content_type: str) -> list[str]:
    """Paths of members repeated in the raw body (empty for protobuf, which cannot repeat them)."""
    if content_type == PROTOBUF:
        return []
    if content_type in YAML_TYPES:
        return structural.duplicate_yaml_paths(raw)
    try:
        if orjson.dumps(parsed) == raw:
            return []
    except TypeError:
        pass
    return structural.duplicate_json_paths(raw)


@dataclasses.dataclass
class Decoded:
    obj: Any
    warnings: list[str]


def _strict_messages(unknown: list[str], dups: list[str]) -> list[str]:
    return [f'duplicate field "{d}"' for d in dups] + [f'unknown field "{u}"' for u in unknown]


def expected_schema(res: resources.Resource, sub: str | None) -> dsl.Message | None:
    """The schema a body sent to this resource (or subresource) must have."""
    if sub is not None:
        s = res.subresource(sub)
        if s is None:
            return None
        return schema.find(s.group or res.group, s.version or res.version, s.kind)
    return schema.find(res.group, res.version, res.kind)


def _matches(obj: dict[str, Any], msg: dsl.Message) -> bool:
    """Whether a body's own apiVersion/kind (where set) name `msg`'s kind.

    A body naming another kind is refused later with the registry's own message, so
    its members are not judged against the wrong type here.
    """
    gvk = msg.kinds[0] if msg.kinds else None
    if gvk is None:
        return True
    kind, api_version = obj.get("kind"), obj.get("apiVersion")
    return kind in (None, "", gvk.kind) and api_version in (None, "", gvk.api_version)


def check_object(msg: dsl.Message, obj: dict[str, Any]) -> list[str]:
    """`structural.check`, with Go's decoder errors as 400s naming the kind."""
    try:
        return structural.check(msg, obj)
    except structural.StructuralError as e:
        gvk = msg.kinds[0] if msg.kinds else dsl.GVK("", "", msg.short_name)
        raise errors.BadRequest(f'{gvk.kind} in version "{gvk.version}" cannot be handled as a '
                                f"{gvk.kind}: {e}") from None


def decode_object(raw: bytes, content_type: str, directive: str, msg: dsl.Message | None) -> Decoded:
    """A write's body, decoded and checked against `msg` as fieldValidation says."""
    obj = decode_raw(raw, content_type)
    if msg is None or not isinstance(obj, dict) or not _matches(obj, msg):
        return Decoded(obj, [])
    dups = duplicates(raw, obj, content_type) if directive != IGNORE else []
    unknown = check_object(msg, obj)
    if directive == IGNORE:
        return Decoded(obj, [])
    problems = _strict_messages(unknown, dups)
    if problems and directive == STRICT:
        raise errors.BadRequest("strict decoding error: " + ", ".join(problems))
    return Decoded(obj, problems)


class PatchCheck:
    """The typed check of a patch's result, as the registry's (to_view, from_view) hooks.

    The stored object is checked first, so that members it carries from before this
    check existed are dropped without being blamed on the patch; the patched object
    is then checked, and only members the patch introduced count as its unknown
    fields. `to_view`/`from_view` convert between the stored shape and the shape the
    client patches (HPA autoscaling/v1 ↔ v2); the checks apply to the client's shape.
    """

    def __init__(self, msg: dsl.Message, directive: str, patch_dups: list[str],
                 to_view: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
                 from_view: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
                 smp_patch: Any = None) -> None:
        self.msg = msg
        # Upstream names a strategic merge patch's errors by the patch (Go's %+v of the
        # decoded map), the other types' by the patched object.
        self.smp_patch = smp_patch
        self.directive = directive
        self.patch_dups = patch_dups
        self.to_view_fn = to_view
        self.from_view_fn = from_view
        self.known_unknown: set[str] = set()
        self.warnings: list[str] = []

    def to_view(self, stored: dict[str, Any]) -> dict[str, Any]:
        current = self.to_view_fn(stored) if self.to_view_fn else stored
        try:
            self.known_unknown = set(structural.check(self.msg, current))
        except structural.StructuralError:
            self.known_unknown = set()  # a stored ill-typed value is judged on the patched object
        return current

    def from_view(self, patched: dict[str, Any]) -> dict[str, Any]:
        try:
            unknown = [u for u in structural.check(self.msg, patched) if u not in self.known_unknown]
        except structural.StructuralError as e:
            raise self._invalid(patched, str(e)) from None
        self.warnings = []
        if self.directive != IGNORE:
            problems = _strict_messages(unknown, self.patch_dups)
            if problems and self.directive == STRICT:
                raise self._invalid(patched, "strict decoding error: " + ", ".join(problems))
            self.warnings = problems
        return self.from_view_fn(patched) if self.from_view_fn else patched


    def _invalid(self, patched: Any, message: str) -> errors.StatusError:
        # Upstream: NewInvalid(GroupKind{}, "", field.Invalid("patch", <value>, err)).
        try:
            value = _go_print(self.smp_patch) if self.smp_patch is not None else orjson.dumps(patched).decode()
        except (TypeError, RecursionError):  # nested deeper than orjson writes (or Python recurses)
            value = "<a value too deeply nested to print>"
        if len(value) > 1024:
            value = value[:1024] + "..."
        return errors.Invalid("", "", [errors.field_error("patch", f'Invalid value: "{value}": {message}')])


def _go_print(value: Any) -> str:
    """Go's %+v of a decoded JSON value: map[a:1 b:[x y]]."""
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{_go_print(v)}" for k, v in sorted(value.items())) + "]"
    if isinstance(value, list):
        return "[" + " ".join(_go_print(v) for v in value) + "]"
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def smp_body(raw: bytes, content_type: str) -> Any:
    """A strategic merge patch's decoded body (for error messages), else None."""
    if content_type.split(";", 1)[0].strip().lower() != "application/strategic-merge-patch+json":
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None


def patch_duplicates(raw: bytes, content_type: str, directive: str) -> list[str]:
    """Members repeated in a patch body, for Strict/Warn (a JSON patch's are named as upstream does)."""
    if directive == IGNORE:
        return []
    media = content_type.split(";", 1)[0].strip().lower()
    try:
        parsed = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return []  # the patch code reports it
    found = duplicates(raw, parsed, JSON)
    if media == "application/json-patch+json":
        return [f"json patch {d}" for d in found]
    return found


# --------------------------------------------------------------------------- responses


def _media_ranges(accept: str) -> list[tuple[str, float, str]]:
    """(type, q, parameters) of each Accept entry, best first (stable for equal q)."""
    out = []
    for position, part in enumerate(accept.split(",")):
        part = part.strip()
        if not part:
            continue
        media, _, params = part.partition(";")
        q = 1.0
        rest = []
        for p in params.split(";"):
            name, _, value = p.strip().partition("=")
            if name == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
            elif name:
                rest.append(p.strip())
        out.append((position, media.strip().lower(), q, ";".join(rest)))
    out.sort(key=lambda e: (-e[2], e[0]))
    return [(media, q, params) for _, media, q, params in out if q > 0]


def wants_protobuf(request: web.Request) -> bool:
    """Whether the client prefers protobuf to JSON (kubectl's typed clients do).

    Only a plain protobuf entry counts: a Table or other `as=` conversion is
    answered in JSON.
    """
    accept = request.headers.get("Accept", "")
    if "protobuf" not in accept:
        return False
    for media, _, params in _media_ranges(accept):
        if media == PROTOBUF and "as=" not in params:
            return True
        if media in (JSON, "application/*", "*/*") or media in YAML_TYPES:
            return False
    return False


def warning_headers(warnings: list[str]) -> list[tuple[str, str]]:
    """HTTP Warning headers (RFC 7234 code 299, as Kubernetes sends them)."""
    out = []
    for text in warnings:
        escaped = text.replace("\\", "\\\\").replace('"', '\\"')
        out.append(("Warning", f'299 - "{escaped}"'))
    return out
