"""Validation every kind shares: field errors, format checks, ObjectMeta.

Each kind's own rules live with its strategy (minik8s/api/kinds/); this module
is what they have in common, as k8s.io/apimachinery's validation packages are.

kubectl shows a 422's causes verbatim, so each cause is rendered as
k8s.io/apimachinery's field.Error.ErrorBody() renders it: the error type
("Required value", "Invalid value: ..."), the bad value printed the way Go's fmt
prints it (`%q` for strings, `%v` for numbers, `%#v` for maps and structs), then
the detail. The format checks return the detail strings of
k8s.io/apimachinery/pkg/util/validation, one per failed rule.
"""
from __future__ import annotations

import ipaddress
import json
import re
from typing import Any, Callable, Iterable, Mapping, Sequence

from minik8s.api import errors
from minik8s.api import selectors

Obj = dict[str, Any]

NON_NEGATIVE = "must be greater than or equal to 0"
IMMUTABLE = "field is immutable"


class GoRepr(str):
    """A bad value already spelt as Go would print it (a struct, a map, a slice)."""


def go_quote(s: str) -> str:
    """strconv.Quote."""
    out = ['"']
    for ch in s:
        code = ord(ch)
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch in "\a\b\f\n\r\t\v":
            out.append({"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r",
                        "\t": "\\t", "\v": "\\v"}[ch])
        elif ch.isprintable():
            out.append(ch)
        elif code < 0x80:
            out.append(f"\\x{code:02x}")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


def go_value(value: Any) -> str:
    """How ErrorBody prints a bad value."""
    if isinstance(value, GoRepr):
        return str(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return go_quote(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, Mapping) and all(isinstance(v, str) for v in value.values()):
        return go_string_map(value)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return go_string_slice(value)
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def go_string_map(m: Mapping[str, Any] | None) -> GoRepr:
    """%#v of a map[string]string (keys sorted, as fmt prints maps)."""
    if m is None:
        return GoRepr("map[string]string(nil)")
    body = ", ".join(f"{go_quote(str(k))}:{go_quote(str(v))}" for k, v in sorted(m.items()))
    return GoRepr("map[string]string{" + body + "}")


def go_string_slice(xs: Sequence[Any] | None) -> GoRepr:
    if xs is None:
        return GoRepr("[]string(nil)")
    return GoRepr("[]string{" + ", ".join(go_quote(str(x)) for x in xs) + "}")


def go_int_or_string(v: Any) -> GoRepr:
    """%#v of an intstr.IntOrString."""
    if isinstance(v, str):
        return GoRepr(f'intstr.IntOrString{{Type:1, IntVal:0, StrVal:{go_quote(v)}}}')
    n = v if isinstance(v, int) and not isinstance(v, bool) else 0
    return GoRepr(f'intstr.IntOrString{{Type:0, IntVal:{n}, StrVal:""}}')


def go_label_selector(sel: Any) -> GoRepr:
    """%#v of a metav1.LabelSelector."""
    sel = sel if isinstance(sel, dict) else {}
    labels = sel.get("matchLabels")
    exprs = sel.get("matchExpressions")
    labels_repr = go_string_map(labels if isinstance(labels, dict) else None)
    if not isinstance(exprs, list):
        exprs_repr = "[]v1.LabelSelectorRequirement(nil)"
    else:
        items = []
        for e in exprs:
            e = e if isinstance(e, dict) else {}
            values = e.get("values")
            items.append(f"v1.LabelSelectorRequirement{{Key:{go_quote(str(e.get('key', '')))}, "
                         f"Operator:{go_quote(str(e.get('operator', '')))}, "
                         f"Values:{go_string_slice(values if isinstance(values, list) else None)}}}")
        exprs_repr = "[]v1.LabelSelectorRequirement{" + ", ".join(items) + "}"
    return GoRepr(f"v1.LabelSelector{{MatchLabels:{labels_repr}, MatchExpressions:{exprs_repr}}}")


class Errors:
    """A field.ErrorList being built; `raise_invalid` turns it into the 422."""

    def __init__(self) -> None:
        self.causes: list[dict[str, str]] = []

    def __bool__(self) -> bool:
        return bool(self.causes)

    def __len__(self) -> int:
        return len(self.causes)

    def _add(self, reason: str, path: str, body: str, detail: str = "") -> None:
        message = f"{body}: {detail}" if detail else body
        self.causes.append(errors.field_error(path, message, reason))

    def required(self, path: str, detail: str = "") -> None:
        self._add("FieldValueRequired", path, "Required value", detail)

    def type_invalid(self, path: str, got: str, want: str) -> None:
        self._add("FieldValueTypeInvalid", path, f'Invalid value: "{got}"', f'{path} in body must be of type {want}: "{got}"')

    def forbidden(self, path: str, detail: str) -> None:
        self._add("FieldValueForbidden", path, "Forbidden", detail)

    def invalid(self, path: str, value: Any, detail: str) -> None:
        self._add("FieldValueInvalid", path, f"Invalid value: {go_value(value)}", detail)

    def duplicate(self, path: str, value: Any) -> None:
        self._add("FieldValueDuplicate", path, f"Duplicate value: {go_value(value)}")

    def not_found(self, path: str, value: Any) -> None:
        self._add("FieldValueNotFound", path, f"Not found: {go_value(value)}")

    def not_supported(self, path: str, value: Any, supported: Iterable[str]) -> None:
        detail = "supported values: " + ", ".join(go_quote(s) for s in supported)
        self._add("FieldValueNotSupported", path, f"Unsupported value: {go_value(value)}", detail)

    def too_long(self, path: str, max_bytes: int) -> None:
        self._add("FieldValueTooLong", path, "Too long", f"may not be more than {max_bytes} bytes")

    def invalid_each(self, path: str, value: Any, messages: Iterable[str]) -> None:
        for msg in messages:
            self.invalid(path, value, msg)

    def extend(self, other: "Errors") -> None:
        self.causes.extend(other.causes)

    def raise_invalid(self, kind: str, name: str, group: str = "") -> None:
        if not self.causes:
            return
        unique: list[dict[str, str]] = []
        seen: set[tuple[str, str]] = set()
        for cause in self.causes:  # errs.ToAggregate() drops exact repeats
            key = (cause["field"], cause["message"])
            if key not in seen:
                seen.add(key)
                unique.append(cause)
        raise errors.Invalid(kind, name, unique, group=group)


# ---------------------------------------------------------------------------
# JSON access that tolerates the wrong types a client may send


def as_dict(value: Any) -> Obj:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def as_str(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


# ---------------------------------------------------------------------------
# Typed readers for the kinds' rules: they report a member of the wrong type the
# way a structural schema does and read it as absent, so a rule never crashes on
# one. kinds.validate then runs the schema's structural check (kinds.check_types)
# on the whole object, which catches what no rule reads (tolerations[0].key: 7,
# securityContext.fsGroup: "x"); the rules' own reports come first, worded as
# Kubernetes' validation words them.


def json_type(value: Any) -> str:
    """The JSON type of a value, as OpenAPI names it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def wrong_type(errs: Errors, path: str, value: Any, want: str) -> None:
    """`path in body must be of type integer: "string"` (kube-openapi's type error)."""
    got = json_type(value)
    errs.type_invalid(path, got, want)


def typed_dict(errs: Errors, value: Any, path: str) -> Obj:
    """An object (None: empty); any other type is reported and read as empty."""
    if isinstance(value, dict):
        return value
    if value is not None:
        wrong_type(errs, path, value, "object")
    return {}


def typed_list(errs: Errors, value: Any, path: str) -> list[Any]:
    if isinstance(value, list):
        return value
    if value is not None:
        wrong_type(errs, path, value, "array")
    return []


def typed_dicts(errs: Errors, value: Any, path: str) -> list[tuple[int, Obj]]:
    """The objects of an array of objects with their indexes; other members are reported and skipped."""
    out = []
    for i, item in enumerate(typed_list(errs, value, path)):
        if isinstance(item, dict):
            out.append((i, item))
        else:
            wrong_type(errs, f"{path}[{i}]", item, "object")
    return out


def typed_str(errs: Errors, value: Any, path: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    wrong_type(errs, path, value, "string")
    return None


def typed_int(errs: Errors, value: Any, path: str) -> int | None:
    """An integer (a float with an integral value too, as YAML may write one)."""
    if value is None:
        return None
    n = as_int(value)
    if n is None:
        wrong_type(errs, path, value, "integer")
    return n


def typed_bool(errs: Errors, value: Any, path: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    wrong_type(errs, path, value, "boolean")
    return None


def typed_strs(errs: Errors, value: Any, path: str) -> list[str]:
    """An array of strings; other members are reported and skipped."""
    out = []
    for i, item in enumerate(typed_list(errs, value, path)):
        if isinstance(item, str):
            out.append(item)
        else:
            wrong_type(errs, f"{path}[{i}]", item, "string")
    return out


def typed_str_map(errs: Errors, value: Any, path: str) -> dict[str, str]:
    """A map of strings to strings (labels, selectors, data); other values are reported and skipped."""
    out = {}
    for key, item in typed_dict(errs, value, path).items():
        if isinstance(item, str):
            out[key] = item
        else:
            wrong_type(errs, f"{path}.{key}", item, "string")
    return out


# ---------------------------------------------------------------------------
# k8s.io/apimachinery/pkg/util/validation


def max_len_error(n: int) -> str:
    return f"must be no more than {n} characters"


def regex_error(msg: str, fmt: str, *examples: str) -> str:
    if not examples:
        return f"{msg} (regex used for validation is '{fmt}')"
    shown = " or ".join(f"'{e}', " for e in examples)
    return f"{msg} (e.g. {shown}regex used for validation is '{fmt}')"


def inclusive_range_error(lo: int, hi: int) -> str:
    return f"must be between {lo} and {hi}, inclusive"


_DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_SUBDOMAIN_FMT = _DNS1123_LABEL_FMT + "(\\." + _DNS1123_LABEL_FMT + ")*"
_DNS1035_LABEL_FMT = "[a-z]([-a-z0-9]*[a-z0-9])?"
_DNS1123_LABEL_RE = re.compile(f"^{_DNS1123_LABEL_FMT}$")
_DNS1123_SUBDOMAIN_RE = re.compile(f"^{_DNS1123_SUBDOMAIN_FMT}$")
_DNS1035_LABEL_RE = re.compile(f"^{_DNS1035_LABEL_FMT}$")


def dns1123_label(value: str) -> list[str]:
    errs = []
    if len(value) > 63:
        errs.append(max_len_error(63))
    if not _DNS1123_LABEL_RE.match(value):
        if _DNS1123_SUBDOMAIN_RE.match(value):
            errs.append("must not contain dots")
        else:
            errs.append(regex_error("a lowercase RFC 1123 label must consist of lower case alphanumeric "
                                    "characters or '-', and must start and end with an alphanumeric character",
                                    _DNS1123_LABEL_FMT, "my-name", "123-abc"))
    return errs


def dns1123_subdomain(value: str) -> list[str]:
    errs = []
    if len(value) > 253:
        errs.append(max_len_error(253))
    if not _DNS1123_SUBDOMAIN_RE.match(value):
        errs.append(regex_error("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
                                "characters, '-' or '.', and must start and end with an alphanumeric character",
                                _DNS1123_SUBDOMAIN_FMT, "example.com"))
    return errs


def dns1035_label(value: str) -> list[str]:
    errs = []
    if len(value) > 63:
        errs.append(max_len_error(63))
    if not _DNS1035_LABEL_RE.match(value):
        errs.append(regex_error("a DNS-1035 label must consist of lower case alphanumeric characters or '-', "
                                "start with an alphabetic character, and end with an alphanumeric character",
                                _DNS1035_LABEL_FMT, "my-name", "abc-123"))
    return errs


def mask_trailing_dash(name: str) -> str:
    """A generateName prefix may end in '-': the random suffix follows it."""
    return name[:-1] + "a" if len(name) > 1 and name.endswith("-") else name


def qualified_name(value: str) -> list[str]:
    why = selectors.label_key_error(value)
    return [why] if why else []


def label_value(value: str) -> list[str]:
    why = selectors.label_value_error(value)
    return [why] if why else []


_PORT_NAME_CHARSET = re.compile(r"^[-a-z0-9]+$")


def port_name(port: str) -> list[str]:
    """IsValidPortName: an IANA_SVC_NAME."""
    errs = []
    if len(port) > 15:
        errs.append(max_len_error(15))
    if not _PORT_NAME_CHARSET.match(port):
        errs.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
    if not re.search("[a-z]", port):
        errs.append("must contain at least one letter (a-z)")
    if "--" in port:
        errs.append("must not contain consecutive hyphens")
    if port and (port[0] == "-" or port[-1] == "-"):
        errs.append("must not begin or end with a hyphen")
    return errs


def port_num(port: int) -> list[str]:
    return [] if 1 <= port <= 65535 else [inclusive_range_error(1, 65535)]


_PERCENT_RE = re.compile(r"^[0-9]+%$")


def percent(value: str) -> list[str]:
    if _PERCENT_RE.match(value):
        return []
    return [regex_error("a valid percent string must be a numeric string followed by an ending '%'",
                        "[0-9]+%", "1%", "93%")]


def relaxed_env_var_name(value: str) -> list[str]:
    """IsRelaxedEnvVarName (RelaxedEnvironmentVariableValidation is on in 1.32)."""
    errs = []
    if not value:
        errs.append("environment variable name must be non-empty")
    if any(ord(ch) > 127 or not ch.isprintable() or ch == "=" for ch in value):
        errs.append("a valid environment variable name must consist only of printable ASCII characters "
                    "other than '='")
    return errs


_CONFIG_MAP_KEY_RE = re.compile(r"^[-._a-zA-Z0-9]+$")


def config_map_key(value: str) -> list[str]:
    errs = []
    if len(value) > 253:
        errs.append(max_len_error(253))
    if not _CONFIG_MAP_KEY_RE.match(value):
        errs.append(regex_error("a valid config key must consist of alphanumeric characters, '-', '_' or '.'",
                                "[-._a-zA-Z0-9]+", "key.name", "KEY_NAME", "key-name"))
    if value == ".":
        errs.append("must not be '.'")
    elif value == "..":
        errs.append("must not be '..'")
    elif value.startswith(".."):
        errs.append("must not start with '..'")
    return errs


def path_segment_name(value: str) -> list[str]:
    """pathvalidation.IsValidPathSegmentName."""
    if value in (".", ".."):
        return [f"may not be '{value}'"]
    return [f"may not contain '{c}'" for c in ("/", "%") if c in value]


_SLOPPY_V4 = re.compile(r"^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$")


def parse_ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """netutils.ParseIPSloppy: IPv4 octets may carry leading zeros."""
    m = _SLOPPY_V4.match(value)
    if m:
        octets = [int(g) for g in m.groups()]
        return ipaddress.IPv4Address(".".join(map(str, octets))) if max(octets) <= 255 else None
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def is_valid_ip(errs: Errors, path: str, value: str) -> bool:
    if parse_ip(value) is None:
        errs.invalid(path, value, "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)")
        return False
    return True


def is_valid_cidr(errs: Errors, path: str, value: str) -> None:
    ip, sep, bits = value.partition("/")
    ok = bool(sep) and parse_ip(ip) is not None and bits.isdigit()
    if ok:
        ok = int(bits) <= (32 if "." in ip else 128)
    if not ok:
        errs.invalid(path, value, "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)")


# ---------------------------------------------------------------------------
# metav1 validation


TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024


def validate_labels(errs: Errors, labels: Any, path: str) -> None:
    for key, value in sorted(typed_str_map(errs, labels, path).items()):
        errs.invalid_each(path, key, qualified_name(key))
        errs.invalid_each(path, value, label_value(value))


def validate_annotations(errs: Errors, annotations: Any, path: str) -> None:
    annotations = typed_str_map(errs, annotations, path)
    for key in sorted(annotations):
        errs.invalid_each(path, key, qualified_name(key.lower()))
    size = sum(len(k.encode()) + len(as_str(v).encode()) for k, v in annotations.items())
    if size > TOTAL_ANNOTATION_SIZE_LIMIT:
        errs.too_long(path, TOTAL_ANNOTATION_SIZE_LIMIT)


_SELECTOR_OPS = ("In", "NotIn", "Exists", "DoesNotExist")


def validate_label_selector(errs: Errors, sel: Any, path: str) -> bool:
    """ValidateLabelSelector; returns whether LabelSelectorAsSelector would accept it."""
    if sel is None:
        return True
    before = len(errs)
    sel = typed_dict(errs, sel, path)
    validate_labels(errs, sel.get("matchLabels"), f"{path}.matchLabels")
    ok = True
    for i, expr in typed_dicts(errs, sel.get("matchExpressions"), f"{path}.matchExpressions"):
        ok = validate_selector_requirement(errs, expr, f"{path}.matchExpressions[{i}]") and ok
    # A selector with a member of the wrong type cannot be turned into a selector.
    return ok and not any(c["reason"] == "FieldValueTypeInvalid" for c in errs.causes[before:])


def validate_selector_requirement(errs: Errors, expr: Obj, path: str) -> bool:
    op = typed_str(errs, expr.get("operator"), f"{path}.operator")
    typed_str(errs, expr.get("key"), f"{path}.key")
    values = typed_strs(errs, expr.get("values"), f"{path}.values")
    ok = True
    if op in ("In", "NotIn"):
        if not values:
            errs.required(f"{path}.values", "must be specified when `operator` is 'In' or 'NotIn'")
    elif op in ("Exists", "DoesNotExist"):
        if values:
            errs.forbidden(f"{path}.values", "may not be specified when `operator` is 'Exists' or 'DoesNotExist'")
    else:
        errs.invalid(f"{path}.operator", as_str(op), "not a valid selector operator")
        ok = False
    errs.invalid_each(f"{path}.key", as_str(expr.get("key")), qualified_name(as_str(expr.get("key"))))
    for i, value in enumerate(values):
        errs.invalid_each(f"{path}.values[{i}]", value, label_value(as_str(value)))
    return ok


PROTOCOLS = ("SCTP", "TCP", "UDP")


def validate_protocol(errs: Errors, protocol: str, path: str) -> None:
    """A port's protocol: required, and one of TCP, UDP, SCTP."""
    if not protocol:
        errs.required(path)
    elif protocol not in PROTOCOLS:
        errs.not_supported(path, protocol, PROTOCOLS)


def nonnegative(errs: Errors, value: Any, path: str) -> None:
    n = typed_int(errs, value, path)
    if n is not None and n < 0:
        errs.invalid(path, n, NON_NEGATIVE)


def json_equal(a: Any, b: Any) -> bool:
    """apiequality.Semantic.DeepEqual on JSON: nil and empty lists compare equal."""
    return bool(_normalise(a) == _normalise(b))


def _normalise(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _normalise(v) for k, v in value.items() if v is not None and v != []}
    if isinstance(value, list):
        return [_normalise(v) for v in value]
    return value


# ---------------------------------------------------------------------------
# ObjectMeta (k8s.io/apimachinery/pkg/api/validation/objectmeta.go)


NameCheck = Callable[[str], list[str]]
STANDARD_FINALIZERS = ("kubernetes", "orphan", "foregroundDeletion")


def name_errors(check: NameCheck, name: str, prefix: bool = False) -> list[str]:
    """Why `name` fails the kind's name rule `check` (`prefix`: it is a generateName)."""
    return check(mask_trailing_dash(name) if prefix else name)


def validate_finalizers(errs: Errors, finalizers: Any, path: str, indexed: bool = True) -> None:
    for i, name in enumerate(typed_strs(errs, finalizers, path)):
        p = f"{path}[{i}]" if indexed else path
        errs.invalid_each(p, name, qualified_name(name))
        if "/" not in name and name not in STANDARD_FINALIZERS:
            errs.invalid(p, name, "name is neither a standard finalizer name nor is it fully qualified")


def _owner_references(errs: Errors, refs: Any, path: str) -> None:
    first_controller = ""
    for i, ref in typed_dicts(errs, refs, path):
        for key in ("apiVersion", "kind", "name", "uid"):
            typed_str(errs, ref.get(key), f"{path}[{i}].{key}")
        for key in ("controller", "blockOwnerDeletion"):
            typed_bool(errs, ref.get(key), f"{path}[{i}].{key}")
        api_version, kind = as_str(ref.get("apiVersion")), as_str(ref.get("kind"))
        if not api_version.rpartition("/")[2]:
            errs.invalid(f"{path}.apiVersion", api_version, "version must not be empty")
        if not kind:
            errs.invalid(f"{path}.kind", kind, "must not be empty")
        for key in ("name", "uid"):
            if not ref.get(key):
                errs.invalid(f"{path}.{key}", as_str(ref.get(key)), "must not be empty")
        if api_version == "v1" and kind == "Event":
            shown = GoRepr(f'v1.OwnerReference{{Kind:"Event", Name:{go_quote(as_str(ref.get("name")))}}}')
            errs.invalid(path, shown, "/v1, Kind=Event is disallowed from being an owner")
        if ref.get("controller") is True:
            current = f"{kind}/{as_str(ref.get('name'))}"
            if first_controller:
                errs.invalid(path, GoRepr("[]v1.OwnerReference{...}"),
                             f'Only one reference can have Controller set to true. Found "true" in references '
                             f"for {first_controller} and {current}")
            else:
                first_controller = current


def _meta_common(errs: Errors, namespaced: bool, meta: Obj) -> None:
    namespace = as_str(meta.get("namespace"))
    if namespaced:
        if not namespace:
            errs.required("metadata.namespace")
        else:
            errs.invalid_each("metadata.namespace", namespace, dns1123_label(namespace))
    elif namespace:
        errs.forbidden("metadata.namespace", "not allowed on this type")
    nonnegative(errs, meta.get("generation"), "metadata.generation")
    validate_labels(errs, meta.get("labels"), "metadata.labels")
    validate_annotations(errs, meta.get("annotations"), "metadata.annotations")
    _owner_references(errs, meta.get("ownerReferences"), "metadata.ownerReferences")
    validate_finalizers(errs, meta.get("finalizers"), "metadata.finalizers")


def validate_object_meta(errs: Errors, meta: Obj, namespaced: bool, check: NameCheck) -> None:
    """ValidateObjectMeta on create; `check` is the kind's name rule."""
    generate_name = as_str(meta.get("generateName"))
    if generate_name:
        errs.invalid_each("metadata.generateName", generate_name, name_errors(check, generate_name, prefix=True))
    name = as_str(meta.get("name"))
    if not name:
        errs.required("metadata.name", "name or generateName is required")
    else:
        errs.invalid_each("metadata.name", name, name_errors(check, name))
    _meta_common(errs, namespaced, meta)


def immutable(errs: Errors, path: str, new: Any, old: Any, shown: Any = None) -> None:
    if not json_equal(new, old):
        errs.invalid(path, new if shown is None else shown, IMMUTABLE)


def validate_object_meta_update(errs: Errors, meta: Obj, old: Obj, check: NameCheck | None = None) -> None:
    """ValidateObjectMetaUpdate (rest.BeforeUpdate keeps the uid and creationTimestamp
    when the client leaves them out; resourceVersion preconditions are the server's).

    A generateName an update changes is held to the create rule (`check`, the kind's name
    rule), which upstream skips: no write may store what a create would refuse."""
    generate_name = as_str(meta.get("generateName"))
    if check is not None and generate_name and generate_name != as_str(old.get("generateName")):
        errs.invalid_each("metadata.generateName", generate_name, name_errors(check, generate_name, prefix=True))
    generation, old_generation = as_int(meta.get("generation")), as_int(old.get("generation"))
    if generation is not None and old_generation is not None and generation < old_generation:
        errs.invalid("metadata.generation", generation, "must not be decremented")
    immutable(errs, "metadata.name", as_str(meta.get("name")), as_str(old.get("name")))
    immutable(errs, "metadata.namespace", as_str(meta.get("namespace")), as_str(old.get("namespace")))
    if meta.get("uid"):
        immutable(errs, "metadata.uid", meta.get("uid"), old.get("uid"))
    if old.get("deletionTimestamp"):
        new_finalizers = set(map(as_str, as_list(meta.get("finalizers"))))
        extra = sorted(new_finalizers - set(map(as_str, as_list(old.get("finalizers")))))
        if extra:
            errs.forbidden("metadata.finalizers", "no new finalizers can be added if the object is being deleted, "
                                                  f"found new finalizers {go_string_slice(extra)}")
    validate_labels(errs, meta.get("labels"), "metadata.labels")
    validate_annotations(errs, meta.get("annotations"), "metadata.annotations")
    _owner_references(errs, meta.get("ownerReferences"), "metadata.ownerReferences")
    validate_finalizers(errs, meta.get("finalizers"), "metadata.finalizers")


# ---------------------------------------------------------------------------
# status: what components and printers read back must have its types


def validate_status_shape(errs: Errors, status: Any, *, ints: tuple[str, ...] = (), strs: tuple[str, ...] = (),
                          path: str = "status") -> Obj:
    """The members every status shares (an object; conditions as objects with string
    members) and the kind's own scalar members `ints` and `strs`. Returns the status."""
    found = typed_dict(errs, status, path)
    for i, cond in typed_dicts(errs, found.get("conditions"), f"{path}.conditions"):
        for key in ("type", "status", "reason", "message", "lastTransitionTime", "lastUpdateTime",
                    "lastProbeTime", "lastHeartbeatTime"):
            typed_str(errs, cond.get(key), f"{path}.conditions[{i}].{key}")
    typed_int(errs, found.get("observedGeneration"), f"{path}.observedGeneration")
    for key in ints:
        typed_int(errs, found.get(key), f"{path}.{key}")
    for key in strs:
        typed_str(errs, found.get(key), f"{path}.{key}")
    return found
