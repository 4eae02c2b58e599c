from decimal import Decimal
from typing import Any

from django import template
from django.template.defaultfilters import floatformat

register = template.Library()


@register.filter
def cell(value: Any) -> str:
    """A table cell: a number with at most two decimals (3750.0 as 3750, 65.6 as 65.60), text as
    it is, nothing as a dash."""
    if value is None:
        return "—"
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return floatformat(value, "-2")
    return str(value)


@register.filter
def period_month(month: int | None) -> str:
    """A reporting period by its month: 1–2 月 for the first, 1–n 月 after it."""
    from yimatong.stats.forms import period_choices

    return str(dict(period_choices()).get(month, "—"))
