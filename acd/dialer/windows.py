"""Calling windows in the lead's local time.

A lead may be dialled only while its local wall-clock time (its IANA zone, via
:mod:`zoneinfo`) lies inside one of the campaign's windows on that local weekday and the
local date is not a holiday. The check is made on the instant itself, so daylight-saving
changes need no special case for "is it open now"; finding the *next* opening does, because
a window may start at a local time that does not exist (spring forward) or exists twice
(fall back):

* a start inside a gap opens at the first instant after the gap whose local time is in
  the window (found by bisection between the two readings of the nonexistent time);
* a start inside a repeated hour opens at its first occurrence.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from .model import CallingWindow


@lru_cache(maxsize=512)
def zone(name: str) -> ZoneInfo:
    """ZoneInfo objects are cached by the stdlib too; this also memoizes bad-name errors
    out of the hot path by raising once per name at lead load time."""
    return ZoneInfo(name)


def local_time(now: float, tz: str) -> datetime:
    return datetime.fromtimestamp(now, zone(tz))


def local_iso(now: float, tz: str) -> str:
    return local_time(now, tz).isoformat(timespec="seconds")


class CallingPolicy:
    """The campaign's windows and holidays, answering "may we call this zone now?"."""

    def __init__(self, windows: Iterable[CallingWindow],
                 holidays: Iterable[date] = ()) -> None:
        self.windows = tuple(windows)
        if not self.windows:
            raise ValueError("a calling policy needs at least one window")
        self.holidays = frozenset(holidays)
        self._by_weekday: dict[int, tuple[tuple[time, time], ...]] = {
            wd: tuple(sorted((w.start, w.end) for w in self.windows if wd in w.weekdays))
            for wd in range(7)
        }

    def _open_local(self, local: datetime) -> bool:
        if local.date() in self.holidays:
            return False
        t = local.time().replace(tzinfo=None)
        return any(start <= t < end for start, end in self._by_weekday[local.weekday()])

    def is_open(self, now: float, tz: str) -> bool:
        return self._open_local(local_time(now, tz))

    def next_open(self, now: float, tz: str, *, max_days: int = 14) -> float | None:
        """The earliest instant >= ``now`` at which the zone is inside a window, or None
        when no window opens within ``max_days`` (e.g. every day is a holiday)."""
        tzinfo = zone(tz)
        local = datetime.fromtimestamp(now, tzinfo)
        if self._open_local(local):
            return now
        today = local.date()
        best: float | None = None
        for offset in range(max_days + 1):
            day = today + timedelta(days=offset)
            if day in self.holidays:
                continue
            for start, end in self._by_weekday[day.weekday()]:
                at = self._first_instant(day, start, end, tzinfo, now)
                if at is not None and (best is None or at < best):
                    best = at
            if best is not None:
                return best
        return None

    def _first_instant(self, day: date, start: time, end: time, tzinfo: ZoneInfo,
                       not_before: float) -> float | None:
        """First instant >= not_before on ``day`` whose local time is in [start, end)."""
        naive = datetime.combine(day, start)
        t0 = naive.replace(tzinfo=tzinfo, fold=0).timestamp()
        t1 = naive.replace(tzinfo=tzinfo, fold=1).timestamp()
        candidates: list[float] = []
        if t0 <= t1:
            # Normal, or an ambiguous time (t0 < t1): the first occurrence first.
            candidates = [t0, t1]
        else:
            # Nonexistent local time: t1 reads before the gap, t0 after it. The window
            # opens at the end of the gap: bisect for the first second reading >= start.
            lo, hi = t1, t0
            while hi - lo > 1.0:
                mid = (lo + hi) / 2.0
                if self._local_on_or_after(mid, tzinfo, day, start):
                    hi = mid
                else:
                    lo = mid
            candidates = [float(int(hi)) if self._local_on_or_after(float(int(hi)), tzinfo,
                                                                    day, start) else hi]
        for at in candidates:
            if at < not_before:
                # The window may already have opened today: if we are inside it, the
                # caller would have returned `now`; otherwise it is over for this day.
                continue
            local = datetime.fromtimestamp(at, tzinfo)
            if local.date() == day and start <= local.time() < end and self._open_local(local):
                return at
        return None

    @staticmethod
    def _local_on_or_after(at: float, tzinfo: ZoneInfo, day: date, start: time) -> bool:
        local = datetime.fromtimestamp(at, tzinfo)
        return (local.date(), local.time()) >= (day, start)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0,
        second: int = 0) -> float:
    """Epoch seconds of a UTC wall time (a convenience for configs and tests)."""
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC).timestamp()
