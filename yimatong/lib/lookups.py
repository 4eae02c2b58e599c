"""Looking a record up by what a request named."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet


def first_or_none(queryset: QuerySet[Any], **lookup: Any) -> Any:
    """The first row matching ``lookup``, or None; a value the column cannot hold (``"abc"`` for a
    UUID, a number for a date) matches nothing instead of failing the query."""
    try:
        return queryset.filter(**lookup).first()
    except (ValidationError, ValueError, TypeError, OverflowError):
        return None
