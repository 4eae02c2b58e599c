"""Schema fields that hold what their column holds.

An API schema declares ``planned_investment: Decimal | None = column(Project, "planned_investment", None)``
and the field takes the column's limits: a decimal's digits and places (and so its largest value), an
integer column's range, a text column's length. A value beyond them answers 400 naming the field,
instead of reaching the database (where PostgreSQL refuses it with a server error).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Annotated, Any

from django.db import models
from django.db.backends.base.operations import BaseDatabaseOperations
from pydantic import BeforeValidator, Field
from pydantic_core import PydanticCustomError


def column_limits(model: type[models.Model], name: str) -> dict[str, Any]:
    """The pydantic constraints of ``model``'s column ``name``."""
    field = model._meta.get_field(name)
    if isinstance(field, models.DecimalField):
        places = field.decimal_places
        largest = Decimal(10) ** (field.max_digits - places) - Decimal(10) ** -places
        return {"max_digits": field.max_digits, "decimal_places": places, "ge": -largest, "le": largest}
    if isinstance(field, models.IntegerField):
        low, high = BaseDatabaseOperations.integer_field_ranges[field.get_internal_type()]
        return {"ge": low, "le": high}
    if isinstance(field, models.CharField) and field.max_length:
        return {"max_length": field.max_length}
    return {}


def column(model: type[models.Model], name: str, default: Any = ..., **constraints: Any) -> Any:
    """A schema field limited as ``model.name`` is; ``constraints`` narrow it further (``ge=0``)."""
    limits = column_limits(model, name)
    for bound in ("ge", "le"):
        if bound in constraints and bound in limits:
            narrower = max if bound == "ge" else min
            constraints[bound] = narrower(constraints[bound], limits[bound])
    return Field(default, **{**limits, **constraints})


def _iso_date(value: Any) -> Any:
    # pydantic's lax mode reads a number (or a string of digits) as a Unix timestamp: "0" would be
    # 1970-01-01. The API documents dates as YYYY-MM-DD and takes nothing else.
    if isinstance(value, bool | int | float | Decimal):
        raise PydanticCustomError("date_type", "Input should be a valid date")
    if isinstance(value, str) and not _ISO_DATE.fullmatch(value):
        raise PydanticCustomError("date_parsing", "Input should be a valid date in the format YYYY-MM-DD")
    return value


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

# A date in the API: YYYY-MM-DD only.
IsoDate = Annotated[dt.date, BeforeValidator(_iso_date)]
