"""The one RFC 3339 reader and writer: what Kubernetes, Docker and users write."""
from __future__ import annotations

import datetime

import pytest

from minik8s.api import rfc3339

UTC = datetime.timezone.utc
T = datetime.datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize("text,expected", [
    ("2024-05-01T12:00:00Z", T),
    ("2024-05-01t12:00:00z", T),
    ("2024-05-01T14:00:00+02:00", T),  # the offset counts; it is not dropped
    ("2024-05-01T07:30:00-04:30", T),
    ("2024-05-01T12:00:00", T),  # no offset: UTC, as every API writer uses
    ("2024-05-01T12:00:00.5Z", T.replace(microsecond=500000)),
    ("2024-05-01T12:00:00.123456789Z", T.replace(microsecond=123456)),  # Docker's nanoseconds
    ("0001-01-01T00:00:00Z", datetime.datetime(1, 1, 1, tzinfo=UTC)),  # Go's zero time
])
def test_parse(text: str, expected: datetime.datetime) -> None:
    parsed = rfc3339.parse(text)
    assert parsed == expected
    assert parsed is not None and parsed.tzinfo is not None


@pytest.mark.parametrize("text", [None, "", "not a time", "2024-05-01", "2024-13-01T00:00:00Z",
                                  "2024-05-01T25:00:00Z", 1714564800, "2024-05-01T12:00Z"])
def test_parse_rejects(text: object) -> None:
    assert rfc3339.parse(text) is None
    assert rfc3339.parse_epoch(text) is None


def test_parse_epoch() -> None:
    assert rfc3339.parse_epoch("2024-05-01T14:00:00+02:00") == T.timestamp()


def test_format_whole_seconds_in_utc() -> None:
    assert rfc3339.format(T.timestamp() + 0.999) == "2024-05-01T12:00:00Z"  # truncated, as gmtime
    assert rfc3339.format(T.astimezone(datetime.timezone(datetime.timedelta(hours=2)))) == "2024-05-01T12:00:00Z"
    assert rfc3339.format(T.replace(tzinfo=None)) == "2024-05-01T12:00:00Z"
    assert rfc3339.format(datetime.datetime(1, 1, 1, tzinfo=UTC)) == "0001-01-01T00:00:00Z"


def test_format_micro() -> None:
    assert rfc3339.format_micro(T.replace(microsecond=42)) == "2024-05-01T12:00:00.000042Z"
    assert rfc3339.format_micro(T.timestamp()) == "2024-05-01T12:00:00.000000Z"


def test_round_trip() -> None:
    for text in ("2024-05-01T12:00:00Z", "1999-12-31T23:59:59Z"):
        parsed = rfc3339.parse(text)
        assert parsed is not None and rfc3339.format(parsed) == text
    micro = "2024-05-01T12:00:00.123456Z"
    parsed = rfc3339.parse(micro)
    assert parsed is not None and rfc3339.format_micro(parsed) == micro


def test_now_is_parseable_and_current() -> None:
    before = datetime.datetime.now(UTC).replace(microsecond=0)
    now = rfc3339.parse(rfc3339.now())
    micro = rfc3339.parse(rfc3339.now_micro())
    after = datetime.datetime.now(UTC)
    assert now is not None and micro is not None
    assert before <= now <= after and before <= micro <= after
