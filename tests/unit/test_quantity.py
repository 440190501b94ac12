"""resource.Quantity parsing, rounding and spelling, against Kubernetes' own results."""
from __future__ import annotations

import decimal
from fractions import Fraction

import pytest

from minik8s.api import quantity

F = Fraction


@pytest.mark.parametrize("raw, value, text", [
    # the seed's values, as YAML hands them over (0.3 is a float)
    (0.3, F(3, 10), "300m"),
    ("0.3", F(3, 10), "300m"),
    ("300m", F(3, 10), "300m"),
    ("400Mi", 400 * 2 ** 20, "400Mi"),
    ("300Mi", 300 * 2 ** 20, "300Mi"),
    # decimal suffixes
    ("1", 1, "1"),
    (1, 1, "1"),
    (2, 2, "2"),
    ("5n", F(5, 10 ** 9), "5n"),
    ("7u", F(7, 10 ** 6), "7u"),
    ("100k", 100_000, "100k"),
    ("1M", 10 ** 6, "1M"),
    ("3G", 3 * 10 ** 9, "3G"),
    ("1T", 10 ** 12, "1T"),
    ("1P", 10 ** 15, "1P"),
    ("1E", 10 ** 18, "1E"),  # a lone E is exa, not an exponent
    # binary suffixes, re-spelt to the largest exact unit
    ("1Ki", 1024, "1Ki"),
    ("1Gi", 2 ** 30, "1Gi"),
    ("1024Mi", 2 ** 30, "1Gi"),
    ("1.5Gi", 3 * 2 ** 29, "1536Mi"),
    ("0.5Gi", 2 ** 29, "512Mi"),
    ("1536Ki", 1536 * 1024, "1536Ki"),
    ("1000Mi", 1000 * 2 ** 20, "1000Mi"),
    ("512", 512, "512"),
    ("1Ti", 2 ** 40, "1Ti"),
    ("1Pi", 2 ** 50, "1Pi"),
    ("1Ei", 2 ** 60, "1Ei"),
    # exponent forms keep the exponent format
    ("2e3", 2000, "2e3"),
    ("1E3", 1000, "1E3"),
    ("1e-3", F(1, 1000), "1e-3"),
    ("1e+3", 1000, "1e+3"),
    (1e16, 10 ** 16, "10e15"),
    # fractions and signs
    (".5", F(1, 2), "500m"),
    ("1.", 1, "1."),
    ("1.5", F(3, 2), "1500m"),
    (2.5, F(5, 2), "2500m"),
    ("1500m", F(3, 2), "1500m"),
    ("-1.5", F(-3, 2), "-1500m"),
    ("+1", 1, "+1"),  # canonical already, so Go keeps the caller's spelling
    ("010", 10, "010"),
    ("0", 0, "0"),
    ("000", 0, "0"),
    ("-0", 0, "0"),
    ("0Mi", 0, "0"),
    (" 100m ", F(1, 10), "100m"),
    (decimal.Decimal("1E+3"), 1000, "1E+3"),
    # below 1n rounds up, away from zero
    ("0.0000000001", F(1, 10 ** 9), "1n"),
    ("-0.0000000001", F(-1, 10 ** 9), "-1n"),
])
def test_parse(raw: object, value: object, text: str) -> None:
    q = quantity.parse(raw)  # type: ignore[arg-type]
    assert q.value == value
    assert isinstance(q.value, Fraction)
    assert q.text == text
    assert quantity.parse_quantity(raw) == value  # type: ignore[arg-type]


def test_floats_are_exact() -> None:
    assert quantity.parse_quantity(0.1) + quantity.parse_quantity(0.2) == quantity.parse_quantity(0.3)


@pytest.mark.parametrize("raw, message", [
    ("abc", quantity.FORMAT_ERROR),
    ("", quantity.FORMAT_ERROR),
    ("   ", quantity.FORMAT_ERROR),
    ("1.2.3", quantity.FORMAT_ERROR),
    ("1 m", quantity.FORMAT_ERROR),
    ("nan", quantity.FORMAT_ERROR),
    (float("inf"), quantity.FORMAT_ERROR),
    (True, quantity.FORMAT_ERROR),
    (None, quantity.FORMAT_ERROR),
    ("1e", quantity.SUFFIX_ERROR),
    ("1K", quantity.SUFFIX_ERROR),
    ("1ki", quantity.SUFFIX_ERROR),
    ("1MiB", quantity.FORMAT_ERROR),
    ("--1", quantity.SUFFIX_ERROR),
    ("1e99999", quantity.NUMERIC_ERROR),
])
def test_parse_errors(raw: object, message: str) -> None:
    with pytest.raises(ValueError) as exc:
        quantity.parse(raw)  # type: ignore[arg-type]
    assert str(exc.value) == message


def test_error_message_is_kubernetes_wording() -> None:
    assert quantity.FORMAT_ERROR == ("quantities must match the regular expression "
                                     "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")


@pytest.mark.parametrize("raw, plain, milli", [
    ("100m", "100m", "100m"),
    (0.3, "300m", "300m"),
    ("1u", "1u", "1m"),  # SetDefaults_ResourceList rounds up to 1m
    ("5n", "5n", "1m"),
    ("0.0001", "100u", "1m"),
    ("1.0005", "1000500u", "1001m"),
    ("-1u", "-1u", "-1m"),
    ("+1", "+1", "+1"),  # no rounding needed: the spelling survives
    ("1Gi", "1Gi", "1Gi"),
    ("2e3", "2e3", "2e3"),
])
def test_canonicalize(raw: object, plain: str, milli: str) -> None:
    assert quantity.canonicalize(raw) == plain  # type: ignore[arg-type]
    assert quantity.canonicalize(raw, round_to_milli=True) == milli  # type: ignore[arg-type]


@pytest.mark.parametrize("raw, millis", [
    ("0.3", 300), (0.3, 300), ("300m", 300), ("1", 1000), (2, 2000), ("1n", 1), ("1.0001", 1001),
    ("-1n", -1), ("0", 0), (F(1, 3), 334),
])
def test_cpu_millis(raw: object, millis: int) -> None:
    assert quantity.cpu_millis(raw) == millis  # type: ignore[arg-type]


@pytest.mark.parametrize("raw, n", [
    ("400Mi", 400 * 2 ** 20), ("1Gi", 2 ** 30), ("1k", 1000), ("1.5", 2), ("100m", 1), ("-1.5", -2),
    ("128974848", 128974848), ("129e6", 129_000_000), (F(5, 2), 3),
])
def test_to_bytes(raw: object, n: int) -> None:
    assert quantity.to_bytes(raw) == n  # type: ignore[arg-type]


@pytest.mark.parametrize("value, binary, text", [
    (F(3, 10), False, "300m"),
    (F(1), False, "1"),
    (F(3, 2), False, "1500m"),
    (F(1500), False, "1500"),
    (F(2000), False, "2k"),
    (F(0), False, "0"),
    (F(-1, 2), False, "-500m"),
    (F(1, 3), False, "333333334n"),  # rounded up to 1n first
    (400 * 2 ** 20, True, "400Mi"),
    (2 ** 30, True, "1Gi"),
    (1000, True, "1k"),  # below 1024 a binary value is spelt with decimal suffixes
    (F(1, 2), True, "500m"),
    (1025, True, "1025"),
    (10 ** 21, False, "1e21"),  # beyond exa there is no suffix
])
def test_format_quantity(value: object, binary: bool, text: str) -> None:
    assert quantity.format_quantity(value, binary=binary) == text  # type: ignore[arg-type]


def test_format_quantity_exponent() -> None:
    assert quantity.format_quantity(2000, exponent=True) == "2e3"


@pytest.mark.parametrize("millis, text", [
    (0, "0"), (1, "1m"), (250, "250m"), (1000, "1"), (1500, "1500m"), (2000, "2"), (12000, "12"), (100, "100m"),
])
def test_format_cpu_millis(millis: int, text: str) -> None:
    assert quantity.format_cpu_millis(millis) == text


@pytest.mark.parametrize("raw", ["300m", "400Mi", "1536Mi", "2e3", "1500m", "12", "5n", "-7k"])
def test_canonical_text_round_trips(raw: str) -> None:
    q = quantity.parse(raw)
    again = quantity.parse(q.text)
    assert again.value == q.value
    assert again.text == q.text


def test_binary_values_cap_at_int64() -> None:
    assert quantity.parse_quantity("9Ei") == 2 ** 63 - 1
