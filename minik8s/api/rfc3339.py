"""RFC 3339 timestamps as the API writes them: one parser, one formatter per precision.

Kubernetes has two time types on the wire. metav1.Time (creationTimestamp,
lastTransitionTime, ...) is whole seconds in UTC, `2024-05-01T10:00:00Z`;
metav1.MicroTime (Lease renewTime, Event eventTime) keeps microseconds,
`2024-05-01T10:00:00.123456Z`. Both are read with Go's time.RFC3339 layout,
which also accepts any fraction of a second and a numeric offset, and what
other programs write (Docker's nanosecond `StartedAt`, a user's `+02:00`) must
be read the same way. So there is one reader, strict about the date-time shape
(a bare date is not a timestamp) but not about the offset: a timestamp without
one is taken as UTC, since every writer in the API uses UTC.

Years before 1000 are spelled with four digits (Go's zero time is
`0001-01-01T00:00:00Z`), which strftime's `%Y` does not do on glibc.
"""
from __future__ import annotations

import datetime
import math
import re
import time

UTC = datetime.timezone.utc

_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})?$")

Moment = datetime.datetime | float


def parse(text: object) -> datetime.datetime | None:
    """An aware datetime for an RFC 3339 timestamp; None for an unset or unreadable one.

    Fractions beyond microseconds are truncated (Docker writes nanoseconds)."""
    if not isinstance(text, str) or not text:
        return None
    m = _RFC3339.match(text.strip())
    if m is None:
        return None
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    fraction, offset = m.group(7) or "", m.group(8) or "Z"
    micro = int((fraction + "000000")[:6])
    if offset in ("Z", "z"):
        tz = UTC
    else:
        sign = -1 if offset[0] == "-" else 1
        tz = datetime.timezone(sign * datetime.timedelta(hours=int(offset[1:3]), minutes=int(offset[4:6])))
    try:
        return datetime.datetime(year, month, day, hour, minute, second, micro, tzinfo=tz)
    except ValueError:
        return None


def parse_epoch(text: object) -> float | None:
    """`parse` as seconds since the epoch."""
    parsed = parse(text)
    return None if parsed is None else parsed.timestamp()


def _utc(moment: Moment) -> datetime.datetime:
    if isinstance(moment, datetime.datetime):
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return datetime.datetime.fromtimestamp(moment, UTC)


def _date_time(t: datetime.datetime) -> str:
    return (f"{t.year:04d}-{t.month:02d}-{t.day:02d}"
            f"T{t.hour:02d}:{t.minute:02d}:{t.second:02d}")


def format(moment: Moment) -> str:
    """metav1.Time: whole seconds in UTC, the fraction dropped (as gmtime does).

    `moment` is an epoch float or a datetime (a naive one is taken as UTC)."""
    if not isinstance(moment, datetime.datetime):
        moment = math.floor(moment)
    return _date_time(_utc(moment)) + "Z"


def format_micro(moment: Moment) -> str:
    """metav1.MicroTime: microseconds in UTC."""
    t = _utc(moment)
    return f"{_date_time(t)}.{t.microsecond:06d}Z"


def now() -> str:
    """The current time as metav1.Time."""
    return format(time.time())


def now_micro() -> str:
    """The current time as metav1.MicroTime."""
    return format_micro(time.time())
