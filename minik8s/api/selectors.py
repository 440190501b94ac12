"""Label and field selectors, as Kubernetes parses and matches them.

Label selector strings (`?labelSelector=`, `kubectl -l`) follow
k8s.io/apimachinery/pkg/labels: comma-separated requirements, each one of
`key`, `!key`, `key=v`, `key==v`, `key!=v`, `key in (a,b)`, `key notin (a,b)`,
`key>N`, `key<N`. ReplicationControllers use equality maps (`{k: v}`), ReplicaSets
and Deployments the set-based `LabelSelector` (`matchLabels` + `matchExpressions`);
both compile to the same list of requirements.
"""
from __future__ import annotations

import dataclasses
import re
from typing import Any, Iterable, Mapping

from minik8s.api import errors

_NAME_RE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)$")
_DNS1123_SUBDOMAIN_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


def label_key_error(key: str) -> str | None:
    """Why `key` is not a valid label key (qualified name), or None."""
    if not key:
        return "name part must be non-empty"
    prefix, _, name = key.rpartition("/")
    if "/" in key:
        if not prefix:
            return "prefix part must be non-empty"
        if len(prefix) > 253 or not _DNS1123_SUBDOMAIN_RE.match(prefix):
            return "prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric " \
                   "characters, '-' or '.', and must start and end with an alphanumeric character"
    if not name:
        return "name part must be non-empty"
    if len(name) > 63:
        return "name part must be no more than 63 characters"
    if not _NAME_RE.match(name):
        return ("name part must consist of alphanumeric characters, '-', '_' or '.', and must start "
                "and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', "
                "regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')")
    return None


def label_value_error(value: str) -> str | None:
    """Why `value` is not a valid label value, or None."""
    if value == "":
        return None
    if len(value) > 63:
        return "must be no more than 63 characters"
    if not _NAME_RE.match(value):
        return ("a valid label must be an empty string or consist of alphanumeric characters, '-', '_' "
                "or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
                "'my_value',  or '12345', regex used for validation is "
                "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')")
    return None


@dataclasses.dataclass(frozen=True)
class Requirement:
    key: str
    op: str  # "=", "!=", "in", "notin", "exists", "!", "gt", "lt"
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        has = self.key in labels
        val = labels.get(self.key)
        if self.op in ("=", "in"):
            return has and val in self.values
        if self.op in ("!=", "notin"):
            return not has or val not in self.values
        if self.op == "exists":
            return has
        if self.op == "!":
            return not has
        if self.op in ("gt", "lt"):
            if not has:
                return False
            try:
                lhs = int(val)  # type: ignore[arg-type]
                rhs = int(self.values[0])
            except (TypeError, ValueError):
                return False
            return lhs > rhs if self.op == "gt" else lhs < rhs
        raise AssertionError(self.op)

    def __str__(self) -> str:
        if self.op == "exists":
            return self.key
        if self.op == "!":
            return "!" + self.key
        if self.op in ("=", "!="):
            return f"{self.key}{self.op}{self.values[0]}"
        if self.op == "gt":
            return f"{self.key}>{self.values[0]}"
        if self.op == "lt":
            return f"{self.key}<{self.values[0]}"
        return f"{self.key} {self.op} ({','.join(sorted(self.values))})"


@dataclasses.dataclass(frozen=True)
class LabelSelector:
    """A conjunction of requirements. The empty selector matches everything;
    `NOTHING` (from a nil selector where Kubernetes says so) matches nothing."""

    requirements: tuple[Requirement, ...] = ()
    match_nothing: bool = False

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        if self.match_nothing:
            return False
        labels = labels or {}
        return all(r.matches(labels) for r in self.requirements)

    def empty(self) -> bool:
        return not self.requirements and not self.match_nothing

    def __str__(self) -> str:
        return ",".join(str(r) for r in self.requirements)


EVERYTHING = LabelSelector()
NOTHING = LabelSelector(match_nothing=True)

_TOKEN_RE = re.compile(r"\s*(==|!=|=|\(|\)|,|!|>|<|[^\s=!(),<>]+)")


def _tokens(text: str) -> list[str]:
    out: list[str] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN_RE.match(text, pos)
        if not m or m.end() == pos:
            raise errors.BadRequest(f"unable to parse requirement: invalid label selector: {text!r}")
        out.append(m.group(1))
        pos = m.end()
    return out


def parse_label_selector(text: str | None) -> LabelSelector:
    """Parse a label selector string; bad syntax raises BadRequest (400)."""
    if text is None or not text.strip():
        return EVERYTHING
    toks = _tokens(text)
    reqs: list[Requirement] = []
    i = 0

    def bad(why: str) -> errors.BadRequest:
        return errors.BadRequest(f"unable to parse requirement: {why}")

    def take() -> str:
        nonlocal i
        if i >= len(toks):
            raise bad(f"unexpected end of selector {text!r}")
        tok = toks[i]
        i += 1
        return tok

    def check_key(key: str) -> None:
        why = label_key_error(key)
        if why:
            raise bad(f"invalid label key {key!r}: {why}")

    def check_value(val: str) -> None:
        why = label_value_error(val)
        if why:
            raise bad(f"invalid label value: {val!r}: {why}")

    while True:
        tok = take()
        if tok == "!":
            key = take()
            check_key(key)
            reqs.append(Requirement(key, "!"))
        else:
            key = tok
            if key in ("=", "==", "!=", "(", ")", ",", ">", "<"):
                raise bad(f"found '{key}', expected: !, identifier, or 'end of string'")
            check_key(key)
            nxt = toks[i] if i < len(toks) else None
            if nxt is None or nxt == ",":
                reqs.append(Requirement(key, "exists"))
            elif nxt in ("=", "==", "!="):
                i += 1
                val = toks[i] if i < len(toks) and toks[i] != "," else ""
                if val:
                    i += 1
                check_value(val)
                reqs.append(Requirement(key, "!=" if nxt == "!=" else "=", (val,)))
            elif nxt in (">", "<"):
                i += 1
                val = take()
                try:
                    int(val)
                except ValueError:
                    raise bad(f"for 'Gt', 'Lt' operators, the value must be an integer: {val!r}") from None
                reqs.append(Requirement(key, "gt" if nxt == ">" else "lt", (val,)))
            elif nxt in ("in", "notin"):
                i += 1
                if take() != "(":
                    raise bad(f"expected '(' after {nxt!r} in {text!r}")
                values: list[str] = []
                while True:
                    tok = take()
                    if tok == ")":
                        break
                    if tok == ",":
                        continue
                    check_value(tok)
                    values.append(tok)
                if not values and nxt == "in":
                    raise bad(f"for 'in', 'notin' operators, values set can't be empty: {text!r}")
                reqs.append(Requirement(key, nxt, tuple(values)))
            else:
                raise bad(f"found '{nxt}', expected: in, notin, =, ==, !=, gt, lt")
        if i >= len(toks):
            break
        if take() != ",":
            raise bad(f"found '{toks[i - 1]}', expected: ',' or 'end of string' in {text!r}")
        if i >= len(toks):
            raise bad(f"found 'end of string', expected: identifier in {text!r}")
    return LabelSelector(tuple(reqs))


def from_equality_map(selector: Mapping[str, str] | None) -> LabelSelector:
    """A ReplicationController/Service selector `{k: v}`; nil or empty selects nothing
    in Kubernetes' controllers, so callers decide what an empty map means."""
    if not selector:
        return EVERYTHING
    return LabelSelector(tuple(Requirement(k, "=", (str(v),)) for k, v in sorted(selector.items())))


_OPS = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!"}


def from_label_selector(sel: Mapping[str, Any] | None) -> LabelSelector:
    """A set-based `LabelSelector` (matchLabels + matchExpressions).

    As metav1.LabelSelectorAsSelector: nil selects nothing, {} selects everything.
    """
    if sel is None:
        return NOTHING
    reqs = [Requirement(k, "=", (str(v),)) for k, v in sorted((sel.get("matchLabels") or {}).items())]
    for expr in sel.get("matchExpressions") or []:
        op = _OPS.get(expr.get("operator", ""))
        if op is None:
            raise errors.BadRequest(f"{expr.get('operator')!r} is not a valid label selector operator")
        reqs.append(Requirement(expr.get("key", ""), op, tuple(expr.get("values") or ())))
    return LabelSelector(tuple(reqs))


def selector_string(sel: Mapping[str, Any] | None) -> str:
    """The string form of a LabelSelector dict (what Scale.status.selector carries)."""
    return str(from_label_selector(sel)) if sel is not None else ""


def labels_match(selector: Mapping[str, Any] | None, labels: Mapping[str, str] | None) -> bool:
    return from_label_selector(selector).matches(labels)


# ---------------------------------------------------------------------------
# Field selectors

_COMMON_FIELDS = ("metadata.name", "metadata.namespace")

# Fields each resource can be selected on, beyond metadata.name/namespace
# (the ones Kubernetes registers with AddFieldLabelConversionFunc).
SUPPORTED_FIELDS: dict[str, tuple[str, ...]] = {
    "pods": ("spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
             "spec.hostNetwork", "status.phase", "status.podIP", "status.nominatedNodeName"),
    "events": ("involvedObject.kind", "involvedObject.namespace", "involvedObject.name",
               "involvedObject.uid", "involvedObject.apiVersion", "involvedObject.resourceVersion",
               "involvedObject.fieldPath", "reason", "reportingComponent", "source", "type"),
    "nodes": ("spec.unschedulable",),
    "namespaces": ("status.phase",),
    "replicationcontrollers": ("status.replicas",),
    "replicasets": ("status.replicas",),
    "services": ("spec.clusterIP", "spec.type"),
}


@dataclasses.dataclass(frozen=True)
class FieldRequirement:
    field: str
    op: str  # "=" or "!="
    value: str


@dataclasses.dataclass(frozen=True)
class FieldSelector:
    requirements: tuple[FieldRequirement, ...] = ()

    def matches(self, obj: Mapping[str, Any]) -> bool:
        for req in self.requirements:
            actual = field_value(obj, req.field)
            if (actual == req.value) != (req.op == "="):
                return False
        return True

    def value_of(self, field: str) -> str | None:
        """The value a `field=value` requirement pins, if any."""
        for req in self.requirements:
            if req.field == field and req.op == "=":
                return req.value
        return None

    def empty(self) -> bool:
        return not self.requirements


def field_value(obj: Mapping[str, Any], path: str) -> str:
    cur: Any = obj
    if path == "source":  # events: source is the component
        cur = (obj.get("source") or {}).get("component", "")
        return str(cur or "")
    for part in path.split("."):
        if not isinstance(cur, Mapping):
            return ""
        cur = cur.get(part)
    if cur is None:
        return ""
    if isinstance(cur, bool):
        return "true" if cur else "false"
    return str(cur)


def parse_field_selector(text: str | None, plural: str) -> FieldSelector:
    """Parse `a=b,c!=d` for a resource; an unsupported field is a 400."""
    if text is None or not text.strip():
        return FieldSelector()
    reqs: list[FieldRequirement] = []
    allowed = _COMMON_FIELDS + SUPPORTED_FIELDS.get(plural, ())
    for part in _split_unescaped(text):
        part = part.strip()
        if not part:
            continue
        for op in ("!=", "==", "="):
            if op in part:
                field, value = part.split(op, 1)
                break
        else:
            raise errors.BadRequest(f"invalid selector: '{text}'; can't understand '{part}'")
        field = field.strip()
        if field not in allowed:
            raise errors.BadRequest(f'field label not supported: {field}')
        reqs.append(FieldRequirement(field, "!=" if op == "!=" else "=", _unescape(value.strip())))
    return FieldSelector(tuple(reqs))


def _split_unescaped(text: str) -> Iterable[str]:
    buf = []
    escaped = False
    for ch in text:
        if escaped:
            buf.append("\\" + ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == ",":
            yield "".join(buf)
            buf = []
        else:
            buf.append(ch)
    yield "".join(buf)


def _unescape(value: str) -> str:
    return re.sub(r"\\(.)", r"\1", value)
