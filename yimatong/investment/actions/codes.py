"""Readable codes (YMT-2026-0001, L-2026-00001) that never repeat, even under concurrency."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import F

from yimatong.investment.models import CodeSequence


def next_code(prefix: str, year: int, *, width: int = 4) -> str:
    """The next number for ``prefix`` in ``year``. The counter row is bumped with ``F() + 1``
    inside the caller's transaction, so two requests never get the same number."""
    with transaction.atomic():
        bumped = CodeSequence.objects.filter(prefix=prefix, year=year).update(last=F("last") + 1)
        if not bumped:
            try:
                with transaction.atomic():
                    CodeSequence.objects.create(prefix=prefix, year=year, last=1)
            except IntegrityError:  # created by a concurrent request a moment ago
                CodeSequence.objects.filter(prefix=prefix, year=year).update(last=F("last") + 1)
        last = CodeSequence.objects.values_list("last", flat=True).get(prefix=prefix, year=year)
    return f"{prefix}-{year}-{last:0{width}d}"
