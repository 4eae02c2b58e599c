"""Readable codes (YMT-2026-0001, L-2026-00001) that never repeat, even under concurrency."""

from __future__ import annotations

from django.db import IntegrityError, connection, transaction

from yimatong.investment.models import CodeSequence


def next_code(prefix: str, year: int, *, width: int = 4) -> str:
    """The next number for ``prefix`` in ``year``. The counter row is bumped (``last + 1``)
    inside the caller's transaction, so two requests never get the same number."""
    return next_codes(prefix, year, 1, width=width)[0]


def next_codes(prefix: str, year: int, count: int, *, width: int = 4) -> list[str]:
    """``count`` consecutive numbers for ``prefix`` in ``year`` (a ledger import's projects),
    taken with one bump of the counter (``last + count``) in the caller's transaction: a
    concurrent creation waits for it and gets the number after the batch."""
    if count < 1:
        return []
    with transaction.atomic(savepoint=False):
        last = _bump(prefix, year, count)
        if last is None:
            try:
                with transaction.atomic():
                    CodeSequence.objects.create(prefix=prefix, year=year, last=count)
                last = count
            except IntegrityError:  # created by a concurrent request a moment ago
                last = _bump(prefix, year, count)
    assert last is not None
    return [f"{prefix}-{year}-{number:0{width}d}" for number in range(last - count + 1, last + 1)]


def _bump(prefix: str, year: int, count: int = 1) -> int | None:
    """The counter bumped and read back in one statement (RETURNING: PostgreSQL, SQLite 3.35+)."""
    table = connection.ops.quote_name(CodeSequence._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f'UPDATE {table} SET "last" = "last" + %s WHERE "prefix" = %s AND "year" = %s RETURNING "last"',
            [count, prefix, year],
        )
        row = cursor.fetchone()
    return row[0] if row else None
