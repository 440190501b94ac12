"""CronJob schedules: robfig/cron's `ParseStandard`, on top of croniter.

Kubernetes parses `spec.schedule` with github.com/robfig/cron/v3's standard
parser: five fields (minute, hour, day of month, month, day of week, names
allowed), the descriptors `@yearly` / `@annually` / `@monthly` / `@weekly` /
`@daily` / `@midnight` / `@hourly`, `@every <duration>`, and an optional
`TZ=<zone>` / `CRON_TZ=<zone>` prefix. croniter (a maintained library) does
the field arithmetic, including time zones and daylight saving; this module
only keeps to what robfig accepts (croniter also takes seconds and year
fields, and Jenkins' `H`), and implements `@every`, which croniter lacks.

Used by the CronJob strategy (validation) and the CronJob controller (when the
next Job is due). No I/O.
"""
from __future__ import annotations

import dataclasses
import datetime
import re
import zoneinfo

import croniter

_DESCRIPTORS = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_WORD = re.compile(r"[A-Za-z]+")
_NAMES = frozenset(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
                    "sun", "mon", "tue", "wed", "thu", "fri", "sat"))
_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


class ScheduleError(ValueError):
    """The schedule does not parse; the message is what kubectl shows."""


def _go_duration(text: str) -> float:
    """time.ParseDuration for the positive durations `@every` takes ("1h30m", "90s")."""
    if not text:
        raise ScheduleError(f'time: invalid duration "{text}"')
    pos, total = 0, 0.0
    while pos < len(text):
        m = _DURATION_PART.match(text, pos)
        if m is None:
            raise ScheduleError(f'time: invalid duration "{text}"')
        total += float(m.group(1)) * _UNIT_SECONDS[m.group(2)]
        pos = m.end()
    return total


def load_zone(name: str) -> datetime.tzinfo:
    """time.LoadLocation: "" and "UTC" are UTC; otherwise an IANA zone name."""
    if name in ("", "UTC"):
        return datetime.timezone.utc
    if name == "Local":
        raise ScheduleError('unknown time zone Local')
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        raise ScheduleError(f"unknown time zone {name}") from None


@dataclasses.dataclass(frozen=True)
class Schedule:
    """A parsed schedule: `next(t)` is the first activation strictly after `t`."""

    expression: str  # five fields or a descriptor (croniter's input); "" for @every
    every: float = 0.0  # seconds, for `@every`
    zone: datetime.tzinfo | None = None  # from a TZ= prefix

    def next(self, t: datetime.datetime) -> datetime.datetime:
        """robfig's Schedule.Next: activations are computed in the schedule's zone
        (the TZ= prefix, else the zone `t` carries)."""
        if self.every:
            # ConstantDelaySchedule.Next: whole seconds, counted from t without its fraction.
            return t.replace(microsecond=0) + datetime.timedelta(seconds=self.every)
        local = t.astimezone(self.zone) if self.zone is not None else t
        try:
            result: datetime.datetime = croniter.croniter(self.expression, local).get_next(datetime.datetime)
        except croniter.CroniterBadDateError:
            # robfig gives the zero time for a schedule that never fires (31 February).
            return datetime.datetime.max.replace(tzinfo=datetime.timezone.utc)
        return result


def parse_standard(spec: str) -> Schedule:
    """cron.ParseStandard; raises ScheduleError with robfig's wording."""
    text = spec.strip()
    zone: datetime.tzinfo | None = None
    if text.startswith(("TZ=", "CRON_TZ=")):
        prefix, _, rest = text.partition(" ")
        zone = load_zone(prefix.split("=", 1)[1])
        text = rest.strip()
    if not text:
        raise ScheduleError("empty spec string")
    if text.startswith("@"):
        if text.startswith("@every "):
            seconds = _go_duration(text[len("@every "):].strip())
            # robfig rounds up to a second at least.
            return Schedule("", every=max(float(int(seconds)), 1.0), zone=zone)
        if text not in _DESCRIPTORS:
            raise ScheduleError(f"unrecognized descriptor: {text}")
        return Schedule(text, zone=zone)
    fields = text.split()
    if len(fields) != 5:
        raise ScheduleError(f"expected exactly 5 fields, found {len(fields)}: {text}")
    for field in fields:
        for word in _WORD.findall(field):
            # Month and weekday names only: croniter's hashed `H` and random `R`
            # are not cron syntax robfig knows.
            if word.lower() not in _NAMES:
                raise ScheduleError(f"failed to parse int from {word}: strconv.Atoi: parsing "
                                    f'"{word}": invalid syntax')
    if not croniter.croniter.is_valid(text):
        raise ScheduleError(f"failed to parse schedule: {text}")
    return Schedule(text, zone=zone)
