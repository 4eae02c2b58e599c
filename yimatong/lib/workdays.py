"""Working days of the Chinese calendar (State Council holidays and 调休 make-up days).

python ``chinese_calendar`` knows the years it ships. A park enters the days of later years (or
corrections) in its own calendar; callers pass those as ``overrides`` ({date: is_workday}). A
day the park did not enter is a working day from Monday to Friday. A year has a calendar when
the library ships it or the park entered days of it; a date in a year without one is
*provisional* (its own year, not the days on the way to it): a deadline is always computed,
never refused, and said to be provisional until its year's holidays are known.
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
    """(is a working day, is provisional: the day's year has no holiday calendar)."""
    return _works(day, overrides), not year_known(day.year, overrides)


def year_known(year: int, overrides: Overrides | None = None) -> bool:
    """Whether the holidays of ``year`` are known: shipped by the library or entered by the park."""
    return _library_knows(year) or any(day.year == year for day in overrides or ())


def _works(day: dt.date, overrides: Overrides | None) -> bool:
    if overrides and day in overrides:
        return overrides[day]
    return _state_council(day)


@lru_cache(maxsize=4096)
def _state_council(day: dt.date) -> bool:
    """The library's answer, cached: it rescans its whole table on every call."""
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return day.weekday() < 5


@lru_cache(maxsize=256)
def _library_knows(year: int) -> bool:
    try:
        chinese_calendar.is_workday(dt.date(year, 6, 30))
    except NotImplementedError:
        return False
    return True


def working_days_between(start: dt.date, end: dt.date, overrides: Overrides | None = None) -> int:
    """Working days after ``start`` up to and including ``end`` (0 when end <= start)."""
    count, day = 0, start
    while day < end:
        day += dt.timedelta(days=1)
        if _works(day, overrides):
            count += 1
    return count


def add_working_days(start: dt.date, days: int, overrides: Overrides | None = None) -> tuple[dt.date, bool]:
    """The ``days``-th working day after ``start`` (0: ``start`` itself if it is a working day,
    else the next one), and whether that day is provisional (its year has no holiday calendar)."""
    day = start
    if not (days == 0 and _works(day, overrides)):
        left = max(days, 1)
        while left:
            day += dt.timedelta(days=1)
            if _works(day, overrides):
                left -= 1
    return day, not year_known(day.year, overrides)


def working_hours_between(start: dt.datetime, end: dt.datetime, overrides: Overrides | None = None) -> float:
    """Office hours (09:00–17:00 on working days) between two local moments."""
    if end <= start:
        return 0.0
    total = 0.0
    day = start.date()
    while day <= end.date():
        if _works(day, overrides):
            opens = dt.datetime.combine(day, DAY_START, tzinfo=start.tzinfo)
            closes = dt.datetime.combine(day, DAY_END, tzinfo=start.tzinfo)
            lo, hi = max(opens, start), min(closes, end)
            if hi > lo:
                total += (hi - lo).total_seconds() / 3600
        day += dt.timedelta(days=1)
    return total
