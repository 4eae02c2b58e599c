"""Working days of the Chinese calendar (State Council holidays and 调休 make-up days).

python ``chinese_calendar`` knows the years it ships; for a later year these helpers fall back
to Monday–Friday and say so through ``provisional``. (A park-maintained calendar table for
later years comes with the enterprise-services issue.)
"""

from __future__ import annotations

import datetime as dt

import chinese_calendar


def is_workday(day: dt.date) -> tuple[bool, bool]:
    """(is a working day, is provisional: the library does not know this year)."""
    try:
        return chinese_calendar.is_workday(day), False
    except NotImplementedError:
        return day.weekday() < 5, True


def working_days_between(start: dt.date, end: dt.date) -> int:
    """Working days after ``start`` up to and including ``end`` (0 when end <= start)."""
    count, day = 0, start
    while day < end:
        day += dt.timedelta(days=1)
        if is_workday(day)[0]:
            count += 1
    return count
