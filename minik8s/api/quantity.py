"""Kubernetes resource quantities (k8s.io/apimachinery/pkg/api/resource), exactly.

The scheduler sums requests and compares them with node capacity, the API server
compares requests with limits; with floats `0.1 + 0.2 != 0.3` would schedule one
pod too many or reject a valid one, so every value here is a `Fraction`.

Parsing is a port of `ParseQuantity`: the same grammar, the same error messages,
the same rounding (magnitudes more precise than 1n round up, away from zero) and
the same serialisation (`Quantity.String()`), including the quirk that a value
already written canonically keeps the caller's spelling (`+1` stays `+1`).

One deliberate difference: Go reads a quantity with no digits at all (`Mi`,
`k`, `.`, `e3`) as zero, so a memory limit of `Mi` would be stored as `0` and
mean "no limit". Here a quantity needs at least one digit before its suffix,
as the documented grammar (`^([+-]?[0-9.]+)...`) says.
"""
from __future__ import annotations

import dataclasses
import decimal
import re
from fractions import Fraction

FORMAT_ERROR = ("quantities must match the regular expression "
                "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")
NUMERIC_ERROR = "unable to parse numeric part of quantity"
SUFFIX_ERROR = "unable to parse quantity's suffix"

DECIMAL_SI = "DecimalSI"
BINARY_SI = "BinarySI"
DECIMAL_EXPONENT = "DecimalExponent"

_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_BINARY = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_DECIMAL_BY_EXP = {v: k for k, v in _DECIMAL.items()}
_BINARY_BY_EXP = {0: "", **{v: k for k, v in _BINARY.items()}}
_SUFFIX_CHARS = "eEinumkKMGTP"
_NANO = 10 ** 9
_INT64_MAX = 2 ** 63 - 1
# Go reads the exponent of `1e<N>` into an int32 and then builds a big decimal;
# past this bound the number is only a way to make the server allocate memory.
_MAX_EXPONENT = 1000
# The number part must hold a digit: `1`, `.5`, `+1.`, but not `Mi`, `.`, `-`.
_HAS_DIGIT = re.compile(r"^[+-]?\.?[0-9]")

Number = str | int | float | decimal.Decimal


@dataclasses.dataclass(frozen=True)
class Quantity:
    value: Fraction
    format: str  # DECIMAL_SI, BINARY_SI or DECIMAL_EXPONENT
    text: str  # what Kubernetes would serialise (Quantity.String())
    # The scale (power of ten) of Go's int64 fast-path representation, or None
    # when Go keeps an arbitrary-precision decimal; decides whether RoundUp keeps `text`.
    scale: int | None = None


def _is_digit(ch: str) -> bool:
    return "0" <= ch <= "9"


def _split(s: str) -> tuple[bool, str, str, str]:
    """parseQuantityString: (positive, numerator, denominator, suffix)."""
    positive = True
    pos, end = 0, len(s)
    if pos < end and s[0] in "+-":
        positive = s[0] == "+"
        pos += 1
    while True:  # leading zeros
        if pos >= end:
            return positive, "0", "", ""
        if s[pos] != "0":
            break
        pos += 1
    i = pos
    while i < end and _is_digit(s[i]):
        i += 1
    num = s[pos:i] or "0"
    if i >= end:
        return positive, num, "", ""
    pos = i
    denom = ""
    if s[pos] == ".":
        pos += 1
        i = pos
        while i < end and _is_digit(s[i]):
            i += 1
        denom = s[pos:i]
        if i >= end:
            return positive, num, denom, ""
        pos = i
    suffix_start = pos
    i = pos
    while i < end and s[i] in _SUFFIX_CHARS:
        i += 1
    if i < end and s[i] in "+-":
        i += 1
    while i < end and _is_digit(s[i]):
        i += 1
    if i < end:
        raise ValueError(FORMAT_ERROR)
    return positive, num, denom, s[suffix_start:]


def _interpret(suffix: str) -> tuple[int, int, str]:
    """(base, exponent, format) of a suffix, as quantitySuffixer.interpret."""
    if suffix in _DECIMAL:
        return 10, _DECIMAL[suffix], DECIMAL_SI
    if suffix in _BINARY:
        return 2, _BINARY[suffix], BINARY_SI
    if len(suffix) > 1 and suffix[0] in "eE":
        digits = suffix[1:]
        body = digits[1:] if digits[0] in "+-" else digits
        if body and all(_is_digit(c) for c in body):
            exponent = int(digits)
            if abs(exponent) > _MAX_EXPONENT:
                raise ValueError(NUMERIC_ERROR)
            return 10, exponent, DECIMAL_EXPONENT
    raise ValueError(SUFFIX_ERROR)


def _text_of(raw: Number) -> str:
    if isinstance(raw, bool):
        raise ValueError(FORMAT_ERROR)
    if isinstance(raw, str):
        return raw.strip()
    if isinstance(raw, (int, decimal.Decimal)):
        return str(raw)
    if isinstance(raw, float):
        # repr is the shortest string that round-trips, i.e. what YAML/JSON said: 0.3 stays 3/10.
        return repr(raw)
    raise ValueError(FORMAT_ERROR)


def _round_away(value: Fraction, unit: Fraction) -> Fraction:
    """Round to a multiple of `unit`, away from zero (inf.RoundUp)."""
    steps = value / unit
    if steps.denominator == 1:
        return value
    magnitude = -(-abs(steps.numerator) // steps.denominator)
    return unit * (magnitude if value > 0 else -magnitude)


def _fast_path_keeps_text(positive: bool, num: str, denom: str, exponent: int, fmt: str) -> tuple[bool, int | None]:
    """Whether Go's int64 fast path keeps the caller's string, and the scale it uses."""
    if fmt == BINARY_SI:
        if exponent < 0 or denom:
            return False, None
        precision = 15 - len(num) - int(exponent * 3 / 10) - 1
        scale = 0
    else:
        precision = 18 - (len(num) + len(denom))
        scale = exponent
    if precision < 0:
        return False, None
    scale -= len(denom)
    if scale < -9:
        return False, None
    shifted = num + denom
    value = int(shifted)
    mantissa = 2 ** exponent if fmt == BINARY_SI else 1
    if value * mantissa > _INT64_MAX:
        return False, None
    if fmt == BINARY_SI:
        return exponent % 10 == 0 and value & 0x07 != 0, scale
    return scale % 3 == 0 and not shifted.endswith("000") and shifted[0] != "0", scale


def parse(raw: Number) -> Quantity:
    """Parse like resource.ParseQuantity; ValueError carries Kubernetes' message."""
    text = _text_of(raw)
    if not text:
        raise ValueError(FORMAT_ERROR)
    if text == "0":
        return Quantity(Fraction(0), DECIMAL_SI, "0", 0)
    positive, num, denom, suffix = _split(text)
    base, exponent, fmt = _interpret(suffix)
    if not _HAS_DIGIT.match(text):
        raise ValueError(FORMAT_ERROR)
    magnitude = Fraction(int(num + denom), 10 ** len(denom)) * Fraction(base) ** exponent
    magnitude = _round_away(magnitude, Fraction(1, _NANO))
    if fmt == BINARY_SI and magnitude > _INT64_MAX:
        magnitude = Fraction(_INT64_MAX)
    value = magnitude if positive else -magnitude
    keep, scale = _fast_path_keeps_text(positive, num, denom, exponent, fmt)
    return Quantity(value, fmt, text if keep else _canonical(value, fmt), scale)


def parse_quantity(raw: Number) -> Fraction:
    """The exact value of a quantity (`"300m"` → 3/10, `0.3` → 3/10, `"1Ki"` → 1024)."""
    return parse(raw).value


def canonicalize(raw: Number, round_to_milli: bool = False) -> str:
    """What the API server stores for a quantity written as `raw`.

    `round_to_milli` is SetDefaults_ResourceList: container requests/limits are
    rounded up to 1m, and only then re-spelt (Quantity.RoundUp clears the
    caller's spelling only when it had to round).
    """
    q = parse(raw)
    if not round_to_milli:
        return q.text
    rounded = _round_away(q.value, Fraction(1, 1000))
    if q.scale is not None and q.scale >= -3:
        return q.text
    return _canonical(rounded, q.format)


def _canonical(value: Fraction, fmt: str) -> str:
    """Quantity.CanonicalizeBytes for a value already rounded to 1n."""
    if value == 0:
        return "0"
    if fmt == BINARY_SI and not (-1024 < value < 1024) and value.denominator == 1:
        amount, exp = value.numerator, 0
        while abs(amount) >= 1024 and amount % 1024 == 0:
            amount //= 1024
            exp += 10
        if exp in _BINARY_BY_EXP:
            return f"{amount}{_BINARY_BY_EXP[exp]}"
        return f"{amount * 2 ** (exp - 60)}Ei"
    sign = "-" if value < 0 else ""
    mantissa = abs(value) * _NANO
    assert mantissa.denominator == 1, "value must be rounded to 1n first"
    amount, exp = mantissa.numerator, -9
    while amount % 10 == 0:
        amount //= 10
        exp += 1
    shift = exp % 3
    amount, exp = amount * 10 ** shift, exp - shift
    if fmt == DECIMAL_EXPONENT or exp not in _DECIMAL_BY_EXP:
        return f"{sign}{amount}" + (f"e{exp}" if exp else "")
    return f"{sign}{amount}{_DECIMAL_BY_EXP[exp]}"


def format_quantity(value: Fraction | int, binary: bool = False, exponent: bool = False) -> str:
    """The canonical spelling of a value: 3/10 → `300m`, 1 → `1`, 400·2^20 (binary) → `400Mi`."""
    fmt = BINARY_SI if binary else DECIMAL_EXPONENT if exponent else DECIMAL_SI
    return _canonical(_round_away(Fraction(value), Fraction(1, _NANO)), fmt)


def _ceil_away(value: Fraction) -> int:
    return int(_round_away(value, Fraction(1)))


def cpu_millis(q: Number | Fraction) -> int:
    """Quantity.MilliValue: the value in thousandths, rounded up away from zero."""
    value = q if isinstance(q, Fraction) else parse_quantity(q)
    return _ceil_away(value * 1000)


def to_bytes(q: Number | Fraction) -> int:
    """Quantity.Value: the value rounded up away from zero (bytes for memory)."""
    value = q if isinstance(q, Fraction) else parse_quantity(q)
    return _ceil_away(value)


def format_cpu_millis(m: int) -> str:
    """How Kubernetes prints a CPU amount held in millicores: 1500 → `1500m`, 2000 → `2`."""
    return format_quantity(Fraction(m, 1000))
