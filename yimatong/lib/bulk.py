"""Inserting many new rows at once: COPY on PostgreSQL, ``bulk_create`` elsewhere.

``bulk_create`` on PostgreSQL sends each column as an array parameter, which psycopg encodes
in Python value by value; COPY sends the rows in PostgreSQL's text format, encoded by psycopg's
C extension: several times faster for the 100,000s of rows of a city's ledger import.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.utils import timezone

COPY_FROM = 50  # rows: below this, COPY's set-up costs more than it saves


def insert(model: type[models.Model], objs: Sequence[models.Model], *, batch_size: int = 2000) -> None:
    """Insert ``objs`` (new instances of ``model``, without many-to-many values) and set their
    primary keys, in the caller's transaction. As with ``bulk_create``, ``save()`` is not called
    and no signals are sent; the fields' ``pre_save`` (``auto_now_add``) is applied."""
    if not objs:
        return
    if connection.vendor != "postgresql" or len(objs) < COPY_FROM:
        model.objects.bulk_create(objs, batch_size=batch_size)
        return
    meta = model._meta
    fields = list(meta.concrete_fields)
    table = connection.ops.quote_name(meta.db_table)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    db = connections[DEFAULT_DB_ALIAS]
    # psycopg adapts the attribute values themselves on PostgreSQL, except JSON (Jsonb); only
    # the auto_now fields need their pre_save.
    prepared = [
        (
            field.attname,
            field if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False) else None,
            (lambda value, field=field: field.get_db_prep_save(value, db))
            if isinstance(field, models.JSONField)
            else None,
        )
        for field in fields
    ]
    for start in range(0, len(objs), batch_size):
        batch = objs[start : start + batch_size]
        missing = [obj for obj in batch if obj.pk is None]
        with connection.cursor() as cursor:
            if missing:
                # The ids the sequence would have given, reserved in one statement (COPY returns none).
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                    [meta.db_table, meta.pk.column, len(missing)],
                )
                for obj, (pk,) in zip(missing, cursor.fetchall(), strict=True):
                    setattr(obj, meta.pk.attname, pk)
            # Every value is computed before COPY starts: a query made while it runs (a related
            # object loaded lazily) would wait on this very connection.
            rows = [_values(obj, prepared) for obj in batch]
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        for obj in batch:
            obj._state.adding = False
            obj._state.db = connection.alias


def _values(obj: models.Model, prepared: list[tuple[str, Any, Any]]) -> list[Any]:
    obj._prepare_related_fields_for_save(operation_name="insert")
    row = []
    for attname, stamped, adapt in prepared:
        value = stamped.pre_save(obj, True) if stamped is not None else getattr(obj, attname)
        row.append(adapt(value) if adapt is not None else value)
    return row


def insert_values(
    model: type[models.Model], rows: Iterable[dict[str, Any]], *, batch_size: int = 5000
) -> int:
    """Insert new rows of ``model`` given as ``{attname: value}`` dicts, in the caller's
    transaction, and return how many; for the many rows of an import that need no instance
    afterwards (events, audit entries, tallies): building a model instance per row cost more
    than writing it. A field left out takes its default (called per row when callable, as
    ``uuid4`` or ``timezone.now``), ``auto_now`` fields the time of the call; an automatic
    primary key is left to the database and not returned. COPY on PostgreSQL, ``bulk_create``
    elsewhere. No ``save()``, no signals."""
    meta = model._meta
    fields = [f for f in meta.concrete_fields if not (f.primary_key and isinstance(f, models.AutoField))]
    now = timezone.now()
    db = connections[DEFAULT_DB_ALIAS]
    makers: list[tuple[str, Callable[[], Any] | None, Any, Callable[[Any], Any] | None]] = []
    for field in fields:
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            maker, constant = None, now
        elif field.has_default() and callable(field.default):
            maker, constant = field.default, None
        else:
            maker, constant = None, field.get_default()
        adapt = (
            (lambda value, field=field: field.get_db_prep_save(value, db))
            if isinstance(field, models.JSONField) and connection.vendor == "postgresql"
            else None
        )
        makers.append((field.attname, maker, constant, adapt))
    count = 0
    batch: list[list[Any]] = []
    table = connection.ops.quote_name(meta.db_table)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)

    def flush() -> None:
        if connection.vendor == "postgresql":
            with (
                connection.cursor() as cursor,
                cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
            ):
                for values in batch:
                    copy.write_row(values)
        else:
            attnames = [attname for attname, _maker, _constant, _adapt in makers]
            model.objects.bulk_create(
                [model(**dict(zip(attnames, values, strict=True))) for values in batch], batch_size=1000
            )
        batch.clear()

    missing = object()
    for row in rows:
        values = []
        for attname, maker, constant, adapt in makers:
            value = row.get(attname, missing)
            if value is missing:
                value = maker() if maker is not None else constant
            values.append(adapt(value) if adapt is not None else value)
        batch.append(values)
        count += 1
        if len(batch) >= batch_size:
            flush()
    if batch:
        flush()
    return count


def replan_foreign_key_checks() -> None:
    """Call after inserting many rows into tables that were small when this connection last
    checked a foreign key into them, before the transaction commits.

    PostgreSQL checks each deferred foreign key at COMMIT with one cached plan per constraint
    and connection. A plan made while the referenced table was small (a fresh park, or earlier
    in a worker's life) is a sequential scan, which then reads the whole grown table once per
    inserted row: a 50,000-row ledger import spent minutes in COMMIT. ``DISCARD PLANS`` drops
    this connection's cached plans, so the checks are planned again, at COMMIT, for the tables
    as they are then (an index scan). Other connections are not affected."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("DISCARD PLANS")
