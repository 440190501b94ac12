"""Every query parameter the API server reads, parsed strictly in one place.

kube-apiserver decodes the query into ListOptions / GetOptions / CreateOptions /
UpdateOptions / PatchOptions / DeleteOptions (metainternalversionscheme's
parameter codec), answers 400 when a value does not decode, and then validates
the options (k8s.io/apimachinery/pkg/apis/meta/internalversion/validation,
meta/v1/validation), answering 422 `ListOptions.meta.k8s.io "" is invalid:
...`. The handlers here do the same, with one deliberate difference: where Go's
decoder quietly reads a malformed value (any boolean that is not `false`/`0` is
true, so `watch=maybe` watches), a malformed value is a 400 naming the parameter.
Unknown parameters are ignored, as Kubernetes ignores them (kubectl sends a
few, e.g. `timeout=32s`).

Path segments are checked here too: a namespace or name that is `.`, `..` or
contains `/` or `%` (after percent-decoding) can never name an object, and
would otherwise reach etcd keys.
"""
from __future__ import annotations

import base64
import binascii
import dataclasses
import json
import re
from typing import Any, Callable, Mapping

from minik8s.api import errors
from minik8s.api import selectors
from minik8s.api import validation

META_GROUP = "meta.k8s.io"
EXACT = "Exact"
NOT_OLDER_THAN = "NotOlderThan"
DRY_RUN_ALL = "All"
PROPAGATION_POLICIES = ("Foreground", "Background", "Orphan")
INT64_MAX = 2 ** 63 - 1
UINT64_MAX = 2 ** 64 - 1
# The annotation of the bookmark that ends a watch's initial events (WatchList).
INITIAL_EVENTS_END = "k8s.io/initial-events-end"

_INT_RE = re.compile(r"^[+-]?[0-9]+$")
_UINT_RE = re.compile(r"^[0-9]+$")
# strconv.ParseBool's spellings; an empty value (`?watch`) means true, as Kubernetes reads it.
_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True", ""})
_FALSE = frozenset({"0", "f", "F", "FALSE", "false", "False"})
# time.ParseDuration: a sequence of decimal numbers, each with a unit.
_DURATION_RE = re.compile(r"^[-+]?(([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+$")


# A request's query: aiohttp's MultiDictProxy (a Mapping with getall), or a plain dict.
Query = Mapping[str, Any]


def _first(query: Query, name: str) -> str | None:
    """The first value of `name`, as Kubernetes' converters read only the first."""
    value = query.get(name)
    return None if value is None else str(value)


def _all(query: Query, name: str) -> list[str]:
    getall = getattr(query, "getall", None)
    if getall is not None:
        return [str(v) for v in getall(name, [])]
    value = query.get(name)
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def bad_parameter(name: str, value: str, why: str) -> errors.StatusError:
    """400 naming the parameter, with the parameter as the cause's field."""
    message = f"{name}: Invalid value: {validation.go_quote(value)}: {why}"
    err = errors.BadRequest(message)
    err.details = {"causes": [errors.field_error(name, message)]}
    return err


def parse_bool(query: Query, name: str) -> bool | None:
    raw = _first(query, name)
    if raw is None:
        return None
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise bad_parameter(name, raw, "must be a boolean: true or false")


def parse_int(query: Query, name: str) -> int | None:
    """An int64 (Convert_Slice_string_To_int64: surrounding spaces trimmed, empty means unset)."""
    raw = _first(query, name)
    if raw is None or not raw.strip():
        return None
    text = raw.strip()
    if not _INT_RE.match(text):
        raise bad_parameter(name, raw, f"strconv.ParseInt: parsing {validation.go_quote(text)}: invalid syntax")
    value = int(text)
    if not -INT64_MAX - 1 <= value <= INT64_MAX:
        raise bad_parameter(name, raw, f"strconv.ParseInt: parsing {validation.go_quote(text)}: value out of range")
    return value


def parse_resource_version(query: Query, name: str = "resourceVersion") -> str:
    """A resourceVersion: empty, or an unsigned 64-bit integer (APIObjectVersioner)."""
    raw = _first(query, name) or ""
    if raw and (not _UINT_RE.match(raw) or int(raw) > UINT64_MAX):
        raise bad_parameter(name, raw, f"invalid resource version: strconv.ParseUint: parsing "
                                       f"{validation.go_quote(raw)}: invalid syntax")
    return raw


def resource_version_number(rv: str) -> int:
    """An already parsed resourceVersion as a number ("" and "0" are 0)."""
    return int(rv) if rv else 0


def parse_duration(query: Query, name: str) -> None:
    """The generic `timeout` (a Go duration; kube-apiserver answers 400 when it does not parse)."""
    raw = _first(query, name)
    if raw is None or raw == "" or raw == "0":
        return
    if not _DURATION_RE.match(raw):
        raise bad_parameter(name, raw, "invalid timeout specified in the request URL: not a duration "
                                       "such as 30s or 1m")


# -- every request --------------------------------------------------------------------------


def parse_common(query: Query) -> bool:
    """What every resource request may carry: `pretty` (returned) and `timeout`."""
    parse_duration(query, "timeout")
    return bool(parse_bool(query, "pretty"))


# -- paths -----------------------------------------------------------------------------------


def path_segment_errors(value: str) -> list[str]:
    """path.IsValidPathSegmentName: why `value` cannot be one segment of a resource path."""
    if value in (".", ".."):
        return [f"may not be '{value}'"]
    return [f"may not contain '{c}'" for c in ("/", "%") if c in value]


def check_path_segment(what: str, value: str) -> None:
    """400 for a namespace or name that can never be a path segment (Kubernetes' NamespaceKeyFunc)."""
    why = path_segment_errors(value)
    if why:
        raise errors.BadRequest(f"{what} parameter invalid: {validation.go_quote(value)}: {'; '.join(why)}")


# -- lists and watches ------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ListOptions:
    label_selector: selectors.LabelSelector
    field_selector: selectors.FieldSelector
    watch: bool = False
    resource_version: str = ""
    resource_version_match: str = ""
    limit: int = 0
    continue_token: str = ""
    timeout_seconds: int | None = None
    allow_watch_bookmarks: bool = False
    send_initial_events: bool | None = None

    @property
    def paging(self) -> bool:
        return self.limit > 0


def parse_list_options(query: Query, plural: str, *, watch: bool | None = None) -> ListOptions:
    """ListOptions from the query (`watch` forces the watch flag: the deprecated /watch/ paths)."""
    watching = parse_bool(query, "watch")
    opts = ListOptions(
        label_selector=selectors.parse_label_selector(_first(query, "labelSelector")),
        field_selector=selectors.parse_field_selector(_first(query, "fieldSelector"), plural),
        watch=bool(watching) if watch is None else watch,
        resource_version=parse_resource_version(query),
        resource_version_match=_first(query, "resourceVersionMatch") or "",
        limit=parse_int(query, "limit") or 0,
        continue_token=_first(query, "continue") or "",
        timeout_seconds=parse_int(query, "timeoutSeconds"),
        allow_watch_bookmarks=bool(parse_bool(query, "allowWatchBookmarks")),
        send_initial_events=parse_bool(query, "sendInitialEvents"),
    )
    errs = validate_watch_options(opts) if opts.watch else validate_list_options(opts)
    errs.raise_invalid("ListOptions", "", META_GROUP)
    return opts


def validate_list_options(opts: ListOptions) -> validation.Errors:
    """ValidateListOptions for a list."""
    errs = validation.Errors()
    match = opts.resource_version_match
    if match:
        if not opts.resource_version:
            errs.forbidden("resourceVersionMatch", "resourceVersionMatch is forbidden unless resourceVersion "
                                                   "is provided")
        if opts.continue_token:
            errs.forbidden("resourceVersionMatch", "resourceVersionMatch is forbidden when continue is provided")
        if match not in (EXACT, NOT_OLDER_THAN):
            errs.not_supported("resourceVersionMatch", match, [EXACT, NOT_OLDER_THAN, ""])
        if match == EXACT and opts.resource_version == "0":
            errs.forbidden("resourceVersionMatch", 'resourceVersionMatch "exact" is forbidden for resourceVersion "0"')
    if opts.send_initial_events is not None:
        errs.forbidden("sendInitialEvents", "sendInitialEvents is forbidden for list")
    return errs


def validate_watch_options(opts: ListOptions) -> validation.Errors:
    """ValidateListOptions for a watch (the WatchList feature is on: sendInitialEvents is served)."""
    errs = validation.Errors()
    match = opts.resource_version_match
    if opts.send_initial_events is not None and match != NOT_OLDER_THAN:
        errs.forbidden("resourceVersionMatch", f"sendInitialEvents requires setting resourceVersionMatch to "
                                               f"{NOT_OLDER_THAN}")
    if match:
        if opts.send_initial_events is None:
            errs.forbidden("resourceVersionMatch", "resourceVersionMatch is forbidden for watch unless "
                                                   "sendInitialEvents is provided")
        if match != NOT_OLDER_THAN:
            errs.not_supported("resourceVersionMatch", match, [NOT_OLDER_THAN])
        if opts.continue_token:
            errs.forbidden("resourceVersionMatch", "resourceVersionMatch is forbidden when continue is provided")
    return errs


# -- continue tokens ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Continue:
    """A decoded continue token: where the next page starts (a key relative to the
    list's key prefix, ending in NUL) and the revision the list is read at (-1: the
    newest, after the first pages' revision was compacted)."""

    start: str
    revision: int


def encode_continue(start: str, revision: int) -> str:
    """storage.EncodeContinue: base64url (unpadded) JSON {"v", "rv", "start"}."""
    raw = json.dumps({"v": "meta.k8s.io/v1", "rv": revision, "start": start}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).rstrip(b"=").decode()


def decode_continue(token: str) -> Continue:
    """storage.DecodeContinue; a token that does not decode is a 400."""
    def invalid(why: str) -> errors.StatusError:
        err = errors.BadRequest(f"invalid continue token: {why}")
        err.details = {"causes": [errors.field_error("continue", f"invalid continue token: {why}")]}
        return err

    generic = "continue key is not valid"
    if "=" in token or not re.fullmatch(r"[A-Za-z0-9_-]*", token) or len(token) % 4 == 1:
        raise invalid(f"{generic}: illegal base64 data")
    try:
        data = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        doc = json.loads(data)
    except (binascii.Error, ValueError):
        raise invalid(f"{generic}: the token is not base64-encoded JSON") from None
    if not isinstance(doc, dict):
        raise invalid(f"{generic}: not an object")
    version, rv, start = doc.get("v"), doc.get("rv", 0), doc.get("start", "")
    if not isinstance(rv, int) or isinstance(rv, bool) or not isinstance(start, str) or \
            not isinstance(version, (str, type(None))):
        raise invalid(f"{generic}: wrong field types")
    if version != "meta.k8s.io/v1":
        raise invalid(f"continue key is not valid: server does not recognize this encoded version {version or ''}")
    if rv == 0:
        raise invalid("continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)")
    if not start:
        raise invalid("continue key is not valid: encoded start key empty (version meta.k8s.io/v1)")
    key = start if start.startswith("/") else "/" + start
    if _clean(key) != key:
        raise invalid(f"{generic}: {start}")
    return Continue(key[1:], rv)


def _clean(path: str) -> str:
    """Go's path.Clean for a rooted path: a token may not climb out of the list's prefix."""
    parts: list[str] = []
    for seg in path.split("/"):
        if seg in ("", "."):
            continue
        if seg == "..":
            if parts:
                parts.pop()
            continue
        parts.append(seg)
    return "/" + "/".join(parts)


# -- writes -------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class WriteOptions:
    dry_run: bool = False


def validate_dry_run(errs: validation.Errors, values: list[str], path: str = "dryRun") -> bool:
    """ValidateDryRun: only `All`; returns whether the request is a dry run."""
    if any(v != DRY_RUN_ALL for v in values):
        errs.not_supported(path, validation.go_string_slice(values), [DRY_RUN_ALL])
    return bool(values)


def parse_write_options(query: Query, kind: str) -> WriteOptions:
    """CreateOptions / UpdateOptions / PatchOptions (`kind`) from the query, validated.

    `fieldManager` and `force` belong to server-side apply and are read and checked
    by minik8s/apiserver/fieldmanager.py on every write."""
    errs = validation.Errors()
    dry_run = validate_dry_run(errs, _all(query, "dryRun"))
    errs.raise_invalid(kind, "", META_GROUP)
    return WriteOptions(dry_run)


# -- deletes --------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class DeleteOptions:
    options: dict[str, Any]  # gracePeriodSeconds, propagationPolicy, orphanDependents, preconditions
    dry_run: bool = False


def parse_delete_options(query: Query, body: Any) -> DeleteOptions:
    """DeleteOptions from the body when there is one, else from the query (as Kubernetes'
    delete handler, which reads the query only without a body), then validated. The
    query is parsed strictly either way, and its dryRun counts even beside a body: a
    malformed parameter is never ignored, and a dry run asked for is never a delete."""
    from_query: dict[str, Any] = {}
    grace = parse_int(query, "gracePeriodSeconds")
    if grace is not None:
        from_query["gracePeriodSeconds"] = grace
    policy = _first(query, "propagationPolicy")
    if policy is not None:
        from_query["propagationPolicy"] = policy
    orphan = parse_bool(query, "orphanDependents")
    if orphan is not None:
        from_query["orphanDependents"] = orphan
    query_dry = _all(query, "dryRun")
    errs = validation.Errors()
    query_dry_run = validate_dry_run(errs, query_dry)
    errs.raise_invalid("DeleteOptions", "", META_GROUP)
    if body is not None:
        options = _delete_options_from_body(body)
    else:
        options = from_query
        if query_dry:
            options["dryRun"] = query_dry
    errs = validation.Errors()
    policy = options.get("propagationPolicy")
    if options.get("orphanDependents") is not None and policy is not None:
        errs.invalid("propagationPolicy", policy, "orphanDependents and deletionPropagation cannot be both set")
    if policy is not None and policy not in PROPAGATION_POLICIES:
        errs.not_supported("propagationPolicy", policy, [*PROPAGATION_POLICIES, "nil"])
    dry_run = validate_dry_run(errs, list(options.pop("dryRun", None) or [])) or query_dry_run
    errs.raise_invalid("DeleteOptions", "", META_GROUP)
    # BeforeDelete: a negative grace period means one second.
    if isinstance(options.get("gracePeriodSeconds"), int) and options["gracePeriodSeconds"] < 0:
        options["gracePeriodSeconds"] = 1
    return DeleteOptions(options, dry_run)


def _delete_options_from_body(body: Any) -> dict[str, Any]:
    """A DeleteOptions body, its types checked as Go's decoder checks them (400 otherwise)."""
    if not isinstance(body, dict):
        raise errors.BadRequest("the DeleteOptions body must be an object")
    kind = body.get("kind")
    if kind not in (None, "", "DeleteOptions"):
        raise errors.BadRequest(f"decoded object cannot be converted to DeleteOptions: kind {kind!r}")

    def wrong(field: str, go_type: str) -> errors.StatusError:
        return errors.BadRequest(f"json: cannot unmarshal {_json_type(body[field])} into Go struct field "
                                 f"DeleteOptions.{field} of type {go_type}")

    checks: tuple[tuple[str, str, Callable[[Any], bool]], ...] = (
        ("gracePeriodSeconds", "int64", lambda v: isinstance(v, int) and not isinstance(v, bool)),
        ("propagationPolicy", "v1.DeletionPropagation", lambda v: isinstance(v, str)),
        ("orphanDependents", "bool", lambda v: isinstance(v, bool)),
        ("dryRun", "[]string", lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v)),
        ("preconditions", "v1.Preconditions", lambda v: isinstance(v, dict) and all(
            isinstance(v.get(k), (str, type(None))) for k in ("uid", "resourceVersion"))))
    options: dict[str, Any] = {}
    for field, go_type, ok in checks:
        if field not in body or body[field] is None:
            continue
        if not ok(body[field]):
            raise wrong(field, go_type)
        options[field] = body[field]
    return options


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return f"number {value}"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


# -- tables ---------------------------------------------------------------------------------------


def parse_include_object(query: Query) -> str:
    """TableOptions.includeObject: None, Metadata (the default) or Object; printing rejects others."""
    return _first(query, "includeObject") or "Metadata"
