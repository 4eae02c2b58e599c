"""The API's page shape, shared by every app's router (kept apart from ``yimatong.api``, which
mounts those routers, so that an app's API module imports without a cycle)."""

from __future__ import annotations

import math
from typing import Any

from django.conf import settings
from ninja import Field, Schema
from ninja.pagination import PaginationBase


class Pagination(PaginationBase):
    """``?page=1&page_size=20``; the answer says how many there are in all and how many pages."""

    class Input(Schema):
        page: int = Field(1, ge=1)
        page_size: int = Field(
            settings.NINJA_PAGINATION_PER_PAGE, ge=1, le=settings.NINJA_PAGINATION_MAX_PER_PAGE_SIZE
        )

    class Output(Schema):
        items: list[Any]
        count: int
        page: int
        page_size: int
        pages: int

    items_attribute = "items"

    def paginate_queryset(self, queryset: Any, pagination: Input, **params: Any) -> dict[str, Any]:
        count = queryset.count()
        start = (pagination.page - 1) * pagination.page_size
        return {
            "items": list(queryset[start : start + pagination.page_size]),
            "count": count,
            "page": pagination.page,
            "page_size": pagination.page_size,
            "pages": max(1, math.ceil(count / pagination.page_size)),
        }


class Mapped:
    """A queryset seen through a function: what ``Pagination`` slices, each row turned into the
    answer's shape only for the page it returns."""

    def __init__(self, qs: Any, fn: Any):
        self.qs, self.fn = qs, fn

    def count(self) -> int:
        return self.qs.count()

    def __getitem__(self, item: slice) -> list[Any]:
        return [self.fn(obj) for obj in self.qs[item]]
