"""Substring search that an index can answer, on PostgreSQL and SQLite alike.

On PostgreSQL a ``LIKE '%…%'`` is answered by a pg_trgm GIN index, but a trigram index cannot
help a pattern shorter than three characters, and Chinese words are mostly one or two characters
(康弘, 抗体). So the indexes are built on each column with every character written three times
(抗体药 -> 抗抗抗体体体药药药) and the search looks for the pattern written the same way
(%抗抗抗体体体%): any pattern of one character or more then has trigrams, and a match in the
tripled text is exactly a match in the text (the runs line up). The tripled indexes are created
by the migrations (investment 0008, directory 0005), only on PostgreSQL, on the very expression
``tripled()`` builds, so the planner recognises it.

SQLite has no such index: the same searches run as plain ``LIKE`` over the rows (see
docs/search.md for what that costs).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connections
from django.db.models import Aggregate, Func, JSONField, Q
from django.db.models.functions import Upper
from django.db.models.lookups import Contains

# The SQL of the tripled expression; the migrations index exactly this.
TRIPLE_SQL = r"REGEXP_REPLACE(%s, '(.)', '\1\1\1', 'g')"


class Tripled(Func):
    """Each character of the text three times (PostgreSQL only)."""

    template = TRIPLE_SQL % "%(expressions)s"
    arity = 1


def triple(text: str) -> str:
    return "".join(ch * 3 for ch in text)


def vendor_of(queryset: Any) -> str:
    return connections[queryset.db].vendor


def contains(queryset: Any, field: str, text: str, *, ignore_case: bool = True) -> Q:
    """``field`` contains ``text`` (case-insensitively unless told), through the tripled trigram
    index on PostgreSQL and ``LIKE`` elsewhere."""
    if vendor_of(queryset) != "postgresql":
        return Q(**{f"{field}__{'icontains' if ignore_case else 'contains'}": text})
    column = Upper(field) if ignore_case else field
    return Q(Contains(Tripled(column), triple(text.upper() if ignore_case else text)))


def index_sql(table: str, name: str, column: str, *, ignore_case: bool = True) -> tuple[str, str]:
    """CREATE and DROP of the tripled trigram index ``contains`` reads (for a migration)."""
    expression = f'UPPER("{column}")' if ignore_case else f'"{column}"'
    create = (
        f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" USING gin '
        f"(({TRIPLE_SQL % expression}) gin_trgm_ops)"
    )
    return create, f'DROP INDEX IF EXISTS "{name}"'


class JSONList(Aggregate):
    """The rows' values as one JSON array (a list on the Python side): to-many data of a page
    read in the page's own query, so that an empty page and a full one ask as many questions."""

    function = "JSON_GROUP_ARRAY"
    output_field = JSONField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return super().as_sql(compiler, connection, function="JSONB_AGG", **extra)


def json_datetime(value: str) -> dt.datetime:
    """A datetime read back from JSON: ISO with an offset on PostgreSQL, naive UTC on SQLite."""
    parsed = dt.datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def trigram_indexes(table: str, columns: list[tuple[str, str, bool]]) -> Any:
    """A migration operation creating (on PostgreSQL only: pg_trgm first) the tripled trigram
    indexes ``contains`` reads: ``columns`` are (index name, column, ignore case)."""
    from django.db import migrations

    statements = [
        index_sql(table, name, column, ignore_case=ignore_case) for name, column, ignore_case in columns
    ]

    def create(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return  # SQLite searches with LIKE over the rows (docs/search.md)
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for sql, _drop in statements:
            schema_editor.execute(sql)
        # Statistics on the new expressions: without them the planner guesses how many rows a
        # search matches and may walk a list's sort index filtering row by row instead.
        schema_editor.execute(f'ANALYZE "{table}"')

    def drop(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        for _sql, sql in statements:
            schema_editor.execute(sql)

    return migrations.RunPython(create, drop, elidable=False)
