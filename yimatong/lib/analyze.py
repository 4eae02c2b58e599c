"""Fresh planner statistics after a bulk rewrite."""

from __future__ import annotations

from django.db import connection, models


def analyze(*tables: type[models.Model]) -> None:
    """Have the database re-read the statistics of these models' tables now, as autovacuum would
    within a minute or so: a command that rewrote most of a table's rows should not leave the
    planner estimating from what the table held before (SQLite's embedded deployment keeps its
    default plans, as it never runs ANALYZE on its own either)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for model in tables:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
