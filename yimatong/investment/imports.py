"""Ledger imports as background work: check (with progress), then import in one transaction."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, connections, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from yimatong.accounts import audit
from yimatong.accounts.models import AuditEntry, User
from yimatong.investment import ledger
from yimatong.investment.models import LedgerImport
from yimatong.lib.tasks import enqueue_on_commit

logger = logging.getLogger(__name__)
MAX_ERRORS_KEPT = 2000
PREVIEW_ROWS = 20


def start(*, user: User, upload) -> LedgerImport:
    from yimatong.investment.tasks import check_ledger

    with transaction.atomic():
        job = LedgerImport(
            uploaded_by=user,
            original_name=upload.name[:200],
            language=translation.get_language() or "zh-hans",
        )
        job.file.save(upload.name, upload, save=False)
        job.save()
        audit.log_create(job, actor=user)
        enqueue_on_commit(check_ledger, import_id=job.pk)
    return job


def _progress(job_id: int, field: str, *, every: float = 0.5):
    """A reporter that stores ``field`` (and the total) on the job, at most every ``every``
    seconds and always for the last row, for the page that polls it."""
    last = [0.0]

    def report(done: int, total: int | None = None) -> None:
        now = time.monotonic()
        if now - last[0] < every and done != total:
            return
        last[0] = now
        values = {field: done, "updated_at": timezone.now()}
        if total is not None:
            values["total_rows"] = total
        LedgerImport.objects.filter(pk=job_id).update(**values)

    return report


@contextmanager
def _import_progress(job_id: int) -> Iterator[Callable[[int], None] | None]:
    """A reporter of the rows written, for use inside the import's transaction, whose own
    writes nobody sees before it commits. On PostgreSQL it writes through a second connection
    (committed at once, so the page sees the count grow); the import never touches the job's
    row before its last statement, so the two never wait on each other. SQLite has one writer
    at a time: the count appears when the import commits. Inside an outer transaction (the
    tests), the count is written through the same connection."""
    if connection.in_atomic_block:
        yield _progress(job_id, "imported_rows", every=0)
        return
    if connection.vendor != "postgresql":
        yield None
        return
    side = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        side.ensure_connection()
        with side.cursor() as cursor:
            cursor.execute("SET lock_timeout = '1s'")  # progress is worth no wait

        def report(done: int) -> None:
            try:
                with side.cursor() as cursor:
                    cursor.execute(
                        f"UPDATE {LedgerImport._meta.db_table} SET imported_rows = %s, updated_at = %s WHERE id = %s",
                        [done, timezone.now(), job_id],
                    )
            except DatabaseError:
                logger.warning("ledger import %s: progress not stored", job_id, exc_info=True)

        yield report
    finally:
        side.close()


def run_check(import_id: int) -> None:
    job = LedgerImport.objects.select_related("uploaded_by").get(pk=import_id)
    if job.status != LedgerImport.Status.CHECKING:
        return
    try:
        with translation.override(job.language):
            content = job.file.read()
            rows, file_errors = ledger.check(
                content, job.original_name, job.uploaded_by, progress=_progress(job.pk, "processed_rows")
            )
    except Exception as exc:  # an unreadable file is the user's problem to fix, not a crash
        logger.warning("ledger %s unreadable: %s", job.code, exc)
        LedgerImport.objects.filter(pk=job.pk).update(
            status=LedgerImport.Status.FAILED,
            failure=_("无法读取该文件：请上传 Excel（.xlsx 或 .xls）台账。"),
            finished_at=timezone.now(),
            updated_at=timezone.now(),
        )
        return
    errors = [e.as_dict() for e in file_errors] + [e.as_dict() for row in rows for e in row.errors]
    preview = [_preview(row) for row in rows if row.ok][:PREVIEW_ROWS]
    LedgerImport.objects.filter(pk=job.pk, status=LedgerImport.Status.CHECKING).update(
        status=LedgerImport.Status.CHECKED if not file_errors else LedgerImport.Status.FAILED,
        failure=_("表头与模板不符。") if file_errors else "",
        total_rows=len(rows),
        processed_rows=len(rows),
        valid_rows=sum(1 for row in rows if row.ok),
        errors=errors[:MAX_ERRORS_KEPT],
        preview=preview,
        updated_at=timezone.now(),
    )


def _preview(row: ledger.CheckedRow) -> dict[str, str]:
    values = row.values
    return {
        "row": str(row.number),
        "name": values["name"],
        "investor": values["investor"],
        "stage": str(dict(ledger.Stage.choices).get(values["stage"], "")),
        "planned_investment": str(values.get("planned_investment") or ""),
        "contracted_investment": str(values.get("contracted_investment") or ""),
        "owner": values["owner"].display_name if values.get("owner") else "",
    }


def confirm(*, job: LedgerImport, user: User, mode: str) -> bool:
    from yimatong.investment.tasks import import_ledger

    claimed = LedgerImport.objects.filter(pk=job.pk, status=LedgerImport.Status.CHECKED).update(
        status=LedgerImport.Status.IMPORTING, mode=mode, processed_rows=0, updated_at=timezone.now()
    )
    if claimed:
        enqueue_on_commit(import_ledger, import_id=job.pk)
    return bool(claimed)


def run_import(import_id: int) -> None:
    """Check again (the directory may have changed since), then import: every row or none in
    ``all`` mode, the passing rows in ``valid`` mode; one transaction either way. The job's
    counts say how far it got (rows checked, then rows written) for the page that polls it."""
    job = LedgerImport.objects.select_related("uploaded_by").get(pk=import_id)
    if job.status != LedgerImport.Status.IMPORTING:
        return
    with translation.override(job.language):
        rows, file_errors = ledger.check(
            job.file.read(),
            job.original_name,
            job.uploaded_by,
            progress=_progress(job.pk, "processed_rows"),
        )
        errors = [e.as_dict() for row in rows for e in row.errors]
        valid = [row for row in rows if row.ok]
        if file_errors or (job.mode == LedgerImport.Mode.ALL_OR_NOTHING and errors) or not valid:
            LedgerImport.objects.filter(pk=job.pk).update(
                status=LedgerImport.Status.FAILED,
                errors=errors[:MAX_ERRORS_KEPT],
                failure=_("导入前再次检查发现错误，未写入任何数据。"),
                finished_at=timezone.now(),
                updated_at=timezone.now(),
            )
            return
        LedgerImport.objects.filter(pk=job.pk).update(
            total_rows=len(rows),
            processed_rows=len(rows),
            valid_rows=len(valid),
            imported_rows=0,
            updated_at=timezone.now(),
        )
        try:
            with _import_progress(job.pk) as progress, transaction.atomic():
                created = ledger.import_rows(valid, job.uploaded_by, progress=progress)
                # With the projects or not at all: a job marked done has its projects.
                LedgerImport.objects.filter(pk=job.pk).update(
                    status=LedgerImport.Status.DONE,
                    imported_rows=created,
                    processed_rows=len(rows),
                    errors=errors[:MAX_ERRORS_KEPT],
                    finished_at=timezone.now(),
                    updated_at=timezone.now(),
                )
                audit.log_event(AuditEntry.Action.UPDATE, job, actor=job.uploaded_by)
        except Exception:
            logger.exception("ledger import %s failed", job.code)
            LedgerImport.objects.filter(pk=job.pk).update(
                status=LedgerImport.Status.FAILED,
                imported_rows=0,
                failure=_("导入失败，未写入任何数据，请联系系统管理员。"),
                finished_at=timezone.now(),
                updated_at=timezone.now(),
            )
