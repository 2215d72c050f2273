"""Business-hours calendars for ``branch`` conditions.

A calendar is declared in a tree file (``calendars:``) and answers two questions about
an instant: is it a holiday, and is the office open (within the hours of that weekday
and not a holiday). The instant comes in as ``now`` (POSIX seconds); the calendar's
time zone turns it into a local date and time. Nothing here reads the clock.

YAML form::

    calendars:
      office:
        timezone: Europe/Berlin
        hours:
          mon-fri: "08:00-18:00"
          sat: ["09:00-12:00", "13:00-15:00"]
        holidays:
          - 2025-12-24            # one date
          - every: "12-25"        # every year
          - {date: 2026-04-03, name: Good Friday}
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SPAN = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
_EVERY = re.compile(r"^(\d{2})-(\d{2})$")


class CalendarError(ValueError):
    pass


@dataclass(frozen=True)
class Calendar:
    name: str
    timezone: str
    hours: Mapping[int, tuple[tuple[int, int], ...]]   # weekday -> (start_min, end_min) spans
    holidays: frozenset[dt.date]
    yearly: frozenset[tuple[int, int]]                  # (month, day) every year

    def local(self, now: float) -> dt.datetime:
        return dt.datetime.fromtimestamp(now, _zone(self.timezone))

    def is_holiday(self, now: float) -> bool:
        day = self.local(now).date()
        return day in self.holidays or (day.month, day.day) in self.yearly

    def in_hours(self, now: float) -> bool:
        t = self.local(now)
        minute = t.hour * 60 + t.minute
        return any(start <= minute < end for start, end in self.hours.get(t.weekday(), ()))

    def is_open(self, now: float) -> bool:
        return self.in_hours(now) and not self.is_holiday(now)


def _zone(name: str) -> dt.tzinfo:
    if name.upper() == "UTC":
        return dt.UTC
    return ZoneInfo(name)


def _day_set(spec: str) -> list[int]:
    spec = spec.strip().lower()
    if spec in ("daily", "all", "every"):
        return list(range(7))
    out: list[int] = []
    for part in spec.split(","):
        part = part.strip()
        if "-" in part:
            a, b = (p.strip() for p in part.split("-", 1))
            if a not in DAYS or b not in DAYS:
                raise CalendarError(f"unknown day range '{part}' (use mon..sun)")
            i, j = DAYS.index(a), DAYS.index(b)
            if j < i:
                raise CalendarError(f"day range '{part}' runs backwards")
            out.extend(range(i, j + 1))
        elif part in DAYS:
            out.append(DAYS.index(part))
        else:
            raise CalendarError(f"unknown day '{part}' (use mon..sun)")
    return out


def _span(text: Any) -> tuple[int, int]:
    m = _SPAN.match(str(text))
    if not m:
        raise CalendarError(f"bad hours '{text}' (use HH:MM-HH:MM)")
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    if h1 > 23 or m1 > 59 or h2 > 24 or m2 > 59 or (h2 == 24 and m2):
        raise CalendarError(f"bad time in '{text}'")
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if end <= start:
        raise CalendarError(f"hours '{text}' end before they start")
    return start, end


def _date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise CalendarError(f"bad holiday date '{value}' (use YYYY-MM-DD)") from None


def parse_calendar(name: str, raw: Any) -> Calendar:
    """Build a calendar from its YAML mapping; raises ``CalendarError`` naming the problem."""
    if not isinstance(raw, Mapping):
        raise CalendarError("must be a mapping with timezone, hours, holidays")
    unknown = set(raw) - {"timezone", "hours", "holidays"}
    if unknown:
        raise CalendarError(f"unknown field(s) {sorted(unknown)}")
    tz = str(raw.get("timezone", "UTC"))
    try:
        _zone(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise CalendarError(f"unknown timezone '{tz}'") from None
    hours: dict[int, list[tuple[int, int]]] = {}
    raw_hours = raw.get("hours", {})
    if not isinstance(raw_hours, Mapping):
        raise CalendarError("hours must map days to 'HH:MM-HH:MM' spans")
    for days, spans in raw_hours.items():
        span_list = spans if isinstance(spans, list) else [spans]
        parsed = [_span(s) for s in span_list]
        for d in _day_set(str(days)):
            hours.setdefault(d, []).extend(parsed)
    dates: set[dt.date] = set()
    yearly: set[tuple[int, int]] = set()
    raw_holidays = raw.get("holidays", []) or []
    if not isinstance(raw_holidays, list):
        raise CalendarError("holidays must be a list")
    for item in raw_holidays:
        if isinstance(item, Mapping) and "every" in item:
            m = _EVERY.match(str(item["every"]))
            if not m:
                raise CalendarError(f"bad yearly holiday '{item['every']}' (use MM-DD)")
            month, day = int(m.group(1)), int(m.group(2))
            try:
                dt.date(2000, month, day)  # a leap year accepts 02-29
            except ValueError:
                raise CalendarError(f"bad yearly holiday '{item['every']}'") from None
            yearly.add((month, day))
        elif isinstance(item, Mapping):
            if "date" not in item:
                raise CalendarError("a holiday mapping needs 'date' or 'every'")
            dates.add(_date(item["date"]))
        else:
            dates.add(_date(item))
    return Calendar(
        name=name,
        timezone=tz,
        hours={d: tuple(sorted(s)) for d, s in hours.items()},
        holidays=frozenset(dates),
        yearly=frozenset(yearly),
    )
