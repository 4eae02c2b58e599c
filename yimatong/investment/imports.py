"""Ledger imports as background work: check (with progress), then import in one transaction."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from yimatong.accounts import audit
from yimatong.accounts.models import AuditEntry, User
from yimatong.investment import ledger
from yimatong.investment.models import LedgerImport

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
    transaction.on_commit(lambda: check_ledger.enqueue(import_id=job.pk))
    return job


def _progress(job_id: int, field: str):
    def report(done: int, total: int | None = None) -> None:
        values = {field: done, "updated_at": timezone.now()}
        if total is not None:
            values["total_rows"] = total
        LedgerImport.objects.filter(pk=job_id).update(**values)

    return report


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
        transaction.on_commit(lambda: import_ledger.enqueue(import_id=job.pk))
    return bool(claimed)


def run_import(import_id: int) -> None:
    """Check again (the directory may have changed since), then import: every row or none in
    ``all`` mode, the passing rows in ``valid`` mode; one transaction either way."""
    job = LedgerImport.objects.select_related("uploaded_by").get(pk=import_id)
    if job.status != LedgerImport.Status.IMPORTING:
        return
    with translation.override(job.language):
        rows, file_errors = ledger.check(job.file.read(), job.original_name, job.uploaded_by)
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
        try:
            created = ledger.import_rows(valid, job.uploaded_by)
        except Exception:
            logger.exception("ledger import %s failed", job.code)
            LedgerImport.objects.filter(pk=job.pk).update(
                status=LedgerImport.Status.FAILED,
                failure=_("导入失败，未写入任何数据，请联系系统管理员。"),
                finished_at=timezone.now(),
                updated_at=timezone.now(),
            )
            return
    LedgerImport.objects.filter(pk=job.pk).update(
        status=LedgerImport.Status.DONE,
        imported_rows=created,
        processed_rows=len(rows),
        errors=errors[:MAX_ERRORS_KEPT],
        finished_at=timezone.now(),
        updated_at=timezone.now(),
    )
    audit.log_event(AuditEntry.Action.UPDATE, job, actor=job.uploaded_by)
