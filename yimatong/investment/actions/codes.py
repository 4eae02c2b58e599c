"""Readable codes (YMT-2026-0001, L-2026-00001) that never repeat, even under concurrency."""

from __future__ import annotations

from django.db import IntegrityError, connection, transaction

from yimatong.investment.models import CodeSequence


def next_code(prefix: str, year: int, *, width: int = 4) -> str:
    """The next number for ``prefix`` in ``year``. The counter row is bumped (``last + 1``)
    inside the caller's transaction, so two requests never get the same number."""
    with transaction.atomic(savepoint=False):
        last = _bump(prefix, year)
        if last is None:
            try:
                with transaction.atomic():
                    CodeSequence.objects.create(prefix=prefix, year=year, last=1)
                last = 1
            except IntegrityError:  # created by a concurrent request a moment ago
                last = _bump(prefix, year)
    return f"{prefix}-{year}-{last:0{width}d}"


def _bump(prefix: str, year: int) -> int | None:
    """The counter bumped and read back in one statement (RETURNING: PostgreSQL, SQLite 3.35+)."""
    table = connection.ops.quote_name(CodeSequence._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f'UPDATE {table} SET "last" = "last" + 1 WHERE "prefix" = %s AND "year" = %s RETURNING "last"',
            [prefix, year],
        )
        row = cursor.fetchone()
    return row[0] if row else None
