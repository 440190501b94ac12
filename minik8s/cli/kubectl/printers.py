"""Output formats of the minik8s CLI, byte for byte what kubectl prints.

Tables come from the API server (the kinds' printers, minik8s/api/kinds); this module
only lays them out the way kubectl's HumanReadablePrinter does: upper-cased
headers, `priority: 1` columns only with `-o wide`, NAMESPACE/LABELS added from
each row's object, and Go's text/tabwriter alignment (minwidth 6, padding 3).
`-o json` mirrors Go's json.MarshalIndent of an unstructured object (sorted
keys, 4-space indent, HTML-safe escapes); `-o yaml` mirrors sigs.k8s.io/yaml,
i.e. go-yaml v2 (its key order, quoting and 80-column folding).
"""
from __future__ import annotations

import datetime
import decimal
import functools
import json
import re
from typing import Any, Mapping

import yaml

from minik8s.api import printing
from minik8s.api import resources

# cli-runtime/pkg/printers/tabwriter.go
_TAB_MIN_WIDTH = 6
_TAB_PADDING = 3

human_age = printing.human_age


# ---------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------


def format_table(
    table: Mapping[str, Any],
    *,
    wide: bool = False,
    no_headers: bool = False,
    namespace_column: bool = False,
    show_labels: bool = False,
    kind_prefix: str | None = None,
) -> str:
    """Render a meta.k8s.io Table as `kubectl get` does; "" when it has no rows."""
    columns = list(table.get("columnDefinitions") or [])
    rows = list(table.get("rows") or [])
    if not rows:
        return ""
    name_index = -1
    if kind_prefix:
        name_index = next((i for i, c in enumerate(columns)
                           if c.get("format") == "name" and c.get("type") == "string"), -1)
    shown = [i for i, c in enumerate(columns) if wide or not c.get("priority")]

    lines: list[list[str]] = []
    if not no_headers:
        header = [str(columns[i].get("name", "")).upper() for i in shown]
        if namespace_column:
            header.insert(0, "NAMESPACE")
        if show_labels:
            header.append("LABELS")
        lines.append(header)
    for row in rows:
        cells = list(row.get("cells") or [])
        if name_index != -1 and name_index < len(cells):
            cells[name_index] = f"{kind_prefix}/{_cell_text(cells[name_index])}"
        # Cells beyond the column definitions are dropped (issue 66379).
        line = [_cell_text(cells[i]) if i < len(cells) else "" for i in shown]
        metadata = _row_metadata(row)
        if namespace_column:
            line.insert(0, metadata.get("namespace", "") if metadata is not None else "")
        if show_labels:
            line.append(printing.format_labels(metadata.get("labels")) if metadata is not None else "")
        lines.append(line)
    return _tabwrite(lines)


def _row_metadata(row: Mapping[str, Any]) -> dict[str, Any] | None:
    obj = row.get("object")
    if not isinstance(obj, Mapping):
        return None
    metadata = obj.get("metadata")
    return metadata if isinstance(metadata, dict) else {}


def _cell_text(cell: Any) -> str:
    """How kubectl prints one cell: fmt.Sprint, strings cut at the first line break."""
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return "true" if cell else "false"
    if isinstance(cell, str):
        text = cell
        cut = re.search(r"[\f\n\r]", text)
        if cut:
            text = text[:cut.start()] + "..."
        return text.replace("\x1b", "^[")
    if isinstance(cell, float):
        return _go_float(cell, exp_low=-4, exp_high=6)
    return str(cell)


def _tabwrite(lines: list[list[str]]) -> str:
    """kubectl's table writer: tabwrite with min width 6 and padding 3, each line ended."""
    return tabwrite(lines, min_width=_TAB_MIN_WIDTH, padding=_TAB_PADDING) + "\n" if lines else ""


def tabwrite(lines: list[list[str]], *, min_width: int = 0, padding: int = 2) -> str:
    """Go's text/tabwriter (AlignLeft, space padding) over lines already split at tabs:
    every cell but a line's last is a column cell, padded to the width of its column
    block (the run of consecutive lines that have a cell in that column)."""
    out: list[str] = []
    widths: list[int] = []

    def write_lines(start: int, end: int) -> None:
        for line in lines[start:end]:
            out.append("".join(cell.ljust(widths[j]) if j < len(widths) and j < len(line) - 1 else cell
                               for j, cell in enumerate(line)))

    def format_block(line0: int, line1: int) -> None:
        column = len(widths)
        this = line0
        while this < line1:
            if column >= len(lines[this]) - 1:
                this += 1
                continue
            write_lines(line0, this)
            line0 = this
            width = min_width
            while this < line1 and column < len(lines[this]) - 1:
                width = max(width, len(lines[this][column]) + padding)
                this += 1
            widths.append(width)
            format_block(line0, this)
            widths.pop()
            line0 = this
        write_lines(line0, line1)

    format_block(0, len(lines))
    return "\n".join(out)


# ---------------------------------------------------------------------------
# -o name
# ---------------------------------------------------------------------------


def format_name(res: resources.Resource, obj: Mapping[str, Any]) -> str:
    """`pod/x`, `deployment.apps/web`: lower-cased Kind.group, then the name."""
    kind = res.kind.lower() + (f".{res.group}" if res.group else "")
    return f"{kind}/{(obj.get('metadata') or {}).get('name', '')}"


# ---------------------------------------------------------------------------
# -o json
# ---------------------------------------------------------------------------

_JSON_HTML_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026",
                      "\u2028": "\\u2028", "\u2029": "\\u2029"}
_JSON_HTML_RE = re.compile("[<>&\u2028\u2029]")


def format_json(obj: Any) -> str:
    """json.MarshalIndent(obj, "", "    ") plus a newline, as kubectl -o json."""
    return _json_value(obj, 0) + "\n"


def _json_string(text: str) -> str:
    return _JSON_HTML_RE.sub(lambda m: _JSON_HTML_ESCAPES[m.group()], json.dumps(text, ensure_ascii=False))


def _json_value(value: Any, depth: int) -> str:
    if isinstance(value, Mapping):
        if not value:
            return "{}"
        inner = "    " * (depth + 1)
        items = [f"{inner}{_json_string(str(k))}: {_json_value(value[k], depth + 1)}"
                 for k in sorted(value, key=str)]
        return "{\n" + ",\n".join(items) + "\n" + "    " * depth + "}"
    if isinstance(value, (list, tuple)):
        if not value:
            return "[]"
        inner = "    " * (depth + 1)
        items = [inner + _json_value(v, depth + 1) for v in value]
        return "[\n" + ",\n".join(items) + "\n" + "    " * depth + "]"
    if isinstance(value, str):
        return _json_string(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _go_json_float(value)
    return str(value)


# ---------------------------------------------------------------------------
# Go float formatting (strconv.FormatFloat with the shortest precision)
# ---------------------------------------------------------------------------


def _shortest_digits(value: float) -> tuple[str, str, int]:
    """(sign, significant digits, decimal exponent of the first digit)."""
    d = decimal.Decimal(repr(value))
    sign, digits, exponent = d.as_tuple()
    text = "".join(str(x) for x in digits).rstrip("0") or "0"
    assert isinstance(exponent, int)
    return ("-" if sign else ""), text, len(digits) + exponent - 1


def _fixed(sign: str, digits: str, exp: int) -> str:
    if exp < 0:
        return f"{sign}0.{'0' * (-exp - 1)}{digits}"
    if len(digits) <= exp + 1:
        return sign + digits + "0" * (exp + 1 - len(digits))
    return f"{sign}{digits[:exp + 1]}.{digits[exp + 1:]}"


def _go_float(value: float, *, exp_low: int, exp_high: int) -> str:
    """strconv 'g' with the shortest precision (fmt's %v): exponent form outside
    [10^exp_low, 10^exp_high), which Go fixes at [1e-4, 1e6)."""
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "+Inf" if value > 0 else "-Inf"
    if value == 0:
        return "0"
    sign, digits, exp = _shortest_digits(value)
    if exp < exp_low or exp >= exp_high:
        mantissa = digits[0] + (f".{digits[1:]}" if len(digits) > 1 else "")
        return f"{sign}{mantissa}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    return _fixed(sign, digits, exp)


def _go_json_float(value: float) -> str:
    # encoding/json: 'f' between 1e-6 and 1e21, else 'e' with "e-07" cleaned to "e-7".
    if value == 0:
        return "0"
    abs_value = abs(value)
    if 1e-6 <= abs_value < 1e21:
        sign, digits, exp = _shortest_digits(value)
        return _fixed(sign, digits, exp)
    text = _go_float(value, exp_low=0, exp_high=0)
    return re.sub(r"e([+-])0(\d)$", r"e\g<1>\2", text)


# ---------------------------------------------------------------------------
# -o yaml
# ---------------------------------------------------------------------------

_STR_TAG = "tag:yaml.org,2002:str"
_YAML_SPECIAL: dict[str, str] = {}
for _tag, _words in (
    ("bool", ("y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON",
              "n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF")),
    ("null", ("", "~", "null", "Null", "NULL")),
    ("float", (".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF",
               "-.inf", "-.Inf", "-.INF")),
):
    for _word in _words:
        _YAML_SPECIAL[_word] = f"tag:yaml.org,2002:{_tag}"

_YAML_FLOAT_RE = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
_YAML_BASE60_RE = re.compile(r"^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$")
_YAML_TIMESTAMP_RES = (
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})[Tt](\d{1,2}):(\d{1,2}):(\d{1,2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$"),
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2}) (\d{1,2}):(\d{1,2}):(\d{1,2})(\.\d+)?$"),
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"),
)


def _go_parse_int(text: str) -> bool:
    """strconv.ParseInt/ParseUint(text, 0, 64) succeeds (underscores already removed)."""
    m = re.fullmatch(r"[-+]?(0[xX][0-9a-fA-F]+|0[bB][01]+|0[oO][0-7]+|0[0-7]*|[1-9][0-9]*)", text)
    if not m:
        return False
    body = text.lstrip("+-")
    base = 10
    if body[:2] in ("0x", "0X"):
        base = 16
    elif body[:2] in ("0b", "0B"):
        base = 2
    elif body.startswith("0") and len(body) > 1:
        base = 8
    value = int(body[2:] if base in (16, 2) or body[:2] in ("0o", "0O") else body, base)
    if text.startswith("-"):
        return value <= 2 ** 63
    return value < 2 ** 64


def _go_timestamp(text: str) -> bool:
    """go-yaml v2 parseTimestamp: the four layouts it tries with time.Parse."""
    for pattern in _YAML_TIMESTAMP_RES:
        m = pattern.match(text)
        if not m:
            continue
        fields = [int(g) for g in m.groups()[:6] if g is not None]
        try:
            datetime.datetime(fields[0], fields[1], fields[2])
        except ValueError:
            return False
        return len(fields) == 3 or (fields[3] < 24 and fields[4] < 60 and fields[5] < 60)
    return False


def goyaml_resolve(text: str) -> str:
    """The tag go-yaml v2 resolves a plain scalar to (yaml.v2 resolve.go)."""
    if text in _YAML_SPECIAL:
        return _YAML_SPECIAL[text]
    hint = text[:1]
    if hint == ".":
        # strconv.ParseFloat: digits after the dot, no underscores
        return "tag:yaml.org,2002:float" if re.fullmatch(r"\.[0-9]+([eE][-+]?[0-9]+)?", text) else _STR_TAG
    if hint and hint in "0123456789+-":
        if _go_timestamp(text):
            return "tag:yaml.org,2002:timestamp"
        plain = text.replace("_", "")
        if _go_parse_int(plain):
            return "tag:yaml.org,2002:int"
        if _YAML_FLOAT_RE.match(plain):
            return "tag:yaml.org,2002:float"
        if re.fullmatch(r"-?0b[01]+", plain):
            return "tag:yaml.org,2002:int"
    return _STR_TAG


def _goyaml_key_less(a: str, b: str) -> bool:
    """go-yaml v2 keyList.Less: letters after non-letters, digit runs compared as numbers."""
    for i in range(min(len(a), len(b))):
        if a[i] == b[i]:
            continue
        al, bl = a[i].isalpha(), b[i].isalpha()
        if al and bl:
            return a[i] < b[i]
        if al or bl:
            return bl
        an = bn = 0
        if a[i] == "0" or b[i] == "0":
            j = i - 1
            while j >= 0 and a[j].isdigit():
                if a[j] != "0":
                    an = bn = 1
                    break
                j -= 1
        ai = i
        while ai < len(a) and a[ai].isdigit():
            an = an * 10 + int(a[ai])
            ai += 1
        bi = i
        while bi < len(b) and b[bi].isdigit():
            bn = bn * 10 + int(b[bi])
            bi += 1
        if an != bn:
            return an < bn
        if ai != bi:
            return ai < bi
        return a[i] < b[i]
    return len(a) < len(b)


def _goyaml_key_cmp(a: str, b: str) -> int:
    if _goyaml_key_less(a, b):
        return -1
    if _goyaml_key_less(b, a):
        return 1
    return 0


class _GoYamlDumper(yaml.SafeDumper):
    """PyYAML's emitter is, like go-yaml's, a port of libyaml's; only the
    scalar resolution, quoting choices and key order need go-yaml's rules."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is yaml.ScalarNode:
            return goyaml_resolve(value) if implicit[0] else _STR_TAG
        return super().resolve(kind, value, implicit)

    def ignore_aliases(self, data: Any) -> bool:
        # go-yaml never writes anchors, even for a dict shared by two fields.
        return True


def _represent_str(dumper: _GoYamlDumper, data: str) -> yaml.Node:
    if "\n" in data:
        style = "|"
    elif goyaml_resolve(data) != _STR_TAG or _YAML_BASE60_RE.match(data):
        style = '"'
    else:
        style = None
    return dumper.represent_scalar(_STR_TAG, data, style=style)


def _represent_dict(dumper: _GoYamlDumper, data: Mapping[Any, Any]) -> yaml.Node:
    keys = sorted(data, key=functools.cmp_to_key(lambda a, b: _goyaml_key_cmp(str(a), str(b))))
    return dumper.represent_mapping("tag:yaml.org,2002:map", [(k, data[k]) for k in keys])


def _represent_float(dumper: _GoYamlDumper, data: float) -> yaml.Node:
    # JSON carries integral floats as integers, which YAML then reads as ints.
    if data == data and abs(data) < 1e21 and data.is_integer():
        return dumper.represent_int(int(data))
    if data != data:
        text = ".nan"
    elif data in (float("inf"), float("-inf")):
        text = ".inf" if data > 0 else "-.inf"
    else:
        text = _go_float(data, exp_low=-4, exp_high=6)
    return dumper.represent_scalar("tag:yaml.org,2002:float", text)


_GoYamlDumper.add_representer(str, _represent_str)
_GoYamlDumper.add_representer(dict, _represent_dict)
_GoYamlDumper.add_representer(float, _represent_float)
_GoYamlDumper.add_representer(tuple, yaml.SafeDumper.represent_list)


def format_yaml(obj: Any) -> str:
    """sigs.k8s.io/yaml.Marshal(obj), as kubectl -o yaml prints it."""
    text = yaml.dump(obj, Dumper=_GoYamlDumper, default_flow_style=False, sort_keys=False,
                     allow_unicode=True, width=80, indent=2)
    # PyYAML closes an "open-ended" document (root scalar, or a final `|+`
    # block) with a "..." line; go-yaml's Marshal never does.
    if text.endswith("\n...\n"):
        text = text[:-4]
    elif text == "...\n":
        text = ""
    return text
