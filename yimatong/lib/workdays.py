"""Working days of the Chinese calendar (State Council holidays and 调休 make-up days).

python ``chinese_calendar`` knows the years it ships. A park enters the days of later years (or
corrections) in its own calendar; callers pass those as ``overrides`` ({date: is_workday}). For
a day nobody knows, Monday–Friday stands in and the answer says so through ``provisional``:
a deadline is always computed, never refused.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from functools import lru_cache

import chinese_calendar

Overrides = Mapping[dt.date, bool]
# Office hours used for "working hours" (response and handling times).
DAY_START = dt.time(9, 0)
DAY_END = dt.time(17, 0)


def is_workday(day: dt.date, overrides: Overrides | None = None) -> tuple[bool, bool]:
    """(is a working day, is provisional: neither the park nor the library knows this day)."""
    if overrides and day in overrides:
        return overrides[day], False
    return _state_council(day)


@lru_cache(maxsize=4096)
def _state_council(day: dt.date) -> tuple[bool, bool]:
    """The library's answer, cached: it rescans its whole table on every call."""
    try:
        return chinese_calendar.is_workday(day), False
    except NotImplementedError:
        return day.weekday() < 5, True


def working_days_between(start: dt.date, end: dt.date, overrides: Overrides | None = None) -> int:
    """Working days after ``start`` up to and including ``end`` (0 when end <= start)."""
    count, day = 0, start
    while day < end:
        day += dt.timedelta(days=1)
        if is_workday(day, overrides)[0]:
            count += 1
    return count


def add_working_days(start: dt.date, days: int, overrides: Overrides | None = None) -> tuple[dt.date, bool]:
    """The ``days``-th working day after ``start`` (0: ``start`` itself if it is a working day,
    else the next one), and whether any day on the way was provisional."""
    provisional = False
    day = start
    working, guessed = is_workday(day, overrides)
    provisional |= guessed
    if days == 0 and working:
        return day, provisional
    left = max(days, 1) if days else 1
    while left:
        day += dt.timedelta(days=1)
        working, guessed = is_workday(day, overrides)
        provisional |= guessed
        if working:
            left -= 1
    return day, provisional


def working_hours_between(start: dt.datetime, end: dt.datetime, overrides: Overrides | None = None) -> float:
    """Office hours (09:00–17:00 on working days) between two local moments."""
    if end <= start:
        return 0.0
    total = 0.0
    day = start.date()
    while day <= end.date():
        if is_workday(day, overrides)[0]:
            opens = dt.datetime.combine(day, DAY_START, tzinfo=start.tzinfo)
            closes = dt.datetime.combine(day, DAY_END, tzinfo=start.tzinfo)
            lo, hi = max(opens, start), min(closes, end)
            if hi > lo:
                total += (hi - lo).total_seconds() / 3600
        day += dt.timedelta(days=1)
    return total
