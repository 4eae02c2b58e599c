"""The API's page shape, shared by every app's router (kept apart from ``yimatong.api``, which
mounts those routers, so that an app's API module imports without a cycle).

A page never counts the whole table: the rows are counted up to ``API_COUNT_LIMIT`` (or to the
end of the page asked for, when that is further) and the answer says when there are more
(``count_capped``). A page beyond the last one answers 404 naming ``page``; a page number too
large to be real (above ``API_MAX_PAGE``) answers 400.
"""

from __future__ import annotations

import math
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from ninja import Field, Schema
from ninja.pagination import PaginationBase

from yimatong.lib.errors import ActionError


class PageNotFound(ActionError):
    status = 404
    code = "not_found"


class ErrorDetail(Schema):
    code: str = Field(..., description="invalid, not_found, forbidden, …")
    message: str
    fields: dict[str, list[str]] = Field(default_factory=dict, description="the fields at fault")


class ErrorOut(Schema):
    """The one error shape of the API."""

    error: ErrorDetail


# The statuses a list answers besides 200, for the OpenAPI schema.
LIST_ERRORS: dict[int, Any] = {400: ErrorOut, 404: ErrorOut}


def counted(queryset: Any, limit: int) -> int:
    """How many rows ``queryset`` has, counting no further than ``limit + 1``."""
    if hasattr(queryset, "values") and hasattr(queryset, "order_by"):
        # Only the keys, unordered: the annotations and the sort cost nothing when counting.
        queryset = queryset.order_by().values("pk")
    return queryset[: limit + 1].count()


class Pagination(PaginationBase):
    """``?page=1&page_size=20``; the answer says how many there are (up to a limit) and how many
    pages that makes."""

    class Input(Schema):
        page: int = Field(1, ge=1, le=settings.API_MAX_PAGE)
        page_size: int = Field(
            settings.NINJA_PAGINATION_PER_PAGE, ge=1, le=settings.NINJA_PAGINATION_MAX_PER_PAGE_SIZE
        )

    class Output(Schema):
        items: list[Any]
        count: int = Field(..., description="how many rows match, counted up to a limit (see count_capped)")
        count_capped: bool = Field(
            ..., description="true when there are more than `count` rows (the count stopped there)"
        )
        page: int
        page_size: int
        pages: int = Field(..., description="the pages `count` fills (more when count_capped)")
        has_next: bool

    items_attribute = "items"

    def paginate_queryset(self, queryset: Any, pagination: Input, **params: Any) -> dict[str, Any]:
        size = pagination.page_size
        start = (pagination.page - 1) * size
        limit = max(settings.API_COUNT_LIMIT, start + size)
        count = queryset.count(limit) if isinstance(queryset, Mapped) else counted(queryset, limit)
        capped = count > limit
        count = min(count, limit)
        if start and start >= count:
            last = max(1, math.ceil(count / size))
            message = _("第 %(page)s 页不存在：共 %(pages)s 页。") % {"page": pagination.page, "pages": last}
            raise PageNotFound(message, fields={"page": [message]})
        return {
            "items": list(queryset[start : start + size]),
            "count": count,
            "count_capped": capped,
            "page": pagination.page,
            "page_size": size,
            "pages": max(1, math.ceil(count / size)),
            "has_next": capped or start + size < count,
        }


class Mapped:
    """A queryset seen through a function: what ``Pagination`` slices, each row turned into the
    answer's shape only for the page it returns (with ``rows``, one query for the whole page)."""

    def __init__(self, qs: Any, fn: Any = None, *, rows: Any = None):
        self.qs, self.fn, self.rows = qs, fn, rows

    def count(self, limit: int) -> int:
        return counted(self.qs, limit)

    def __getitem__(self, item: slice) -> list[Any]:
        rows = list(self.qs[item])
        if self.rows is not None:
            return self.rows(rows)
        return [self.fn(obj) for obj in rows]
