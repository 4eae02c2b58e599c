"""Asking for an export and building it."""

from __future__ import annotations

import logging
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone, translation
from django.utils.module_loading import import_string

from yimatong.accounts import audit
from yimatong.accounts.models import AuditEntry, User
from yimatong.exports.models import Export

logger = logging.getLogger(__name__)

# Each kind's builder: ``builder(user, params) -> (xlsx bytes, row count)``. Builders live with
# the data they export and apply the requester's visibility themselves.
BUILDERS = {
    Export.Kind.ORGANIZATIONS: "yimatong.directory.exports.organizations_workbook",
    Export.Kind.PROJECTS: "yimatong.investment.ledger.projects_workbook",
    Export.Kind.MAJOR_WEEKLY: "yimatong.investment.ledger.major_weekly_workbook",
}


def request_export(*, user: User, kind: str, params: dict[str, Any]) -> Export:
    from yimatong.exports.tasks import build_export

    with transaction.atomic():
        export = Export.objects.create(
            kind=kind, params=params, requested_by=user, language=translation.get_language() or "zh-hans"
        )
        audit.log_event(AuditEntry.Action.EXPORT_REQUESTED, export, actor=user)
    transaction.on_commit(lambda: build_export.enqueue(export_id=export.pk))
    return export


def record_download(export: Export, *, user: User) -> None:
    audit.log_event(AuditEntry.Action.EXPORT_DOWNLOADED, export, actor=user)


def build(export_id: int) -> None:
    """Build one export. Safe to run twice or in two workers: only one claims the row."""
    claimed = Export.objects.filter(pk=export_id, status=Export.Status.PENDING).update(
        status=Export.Status.RUNNING, updated_at=timezone.now()
    )
    if not claimed:
        return
    export = Export.objects.select_related("requested_by").get(pk=export_id)
    try:
        with translation.override(export.language):
            builder = import_string(BUILDERS[export.kind])
            content, rows = builder(export.requested_by, export.params)
            export.file.save(export.filename(), ContentFile(content), save=False)
    except Exception as exc:
        logger.exception("export %s failed", export.code)
        Export.objects.filter(pk=export.pk).update(
            status=Export.Status.FAILED,
            error=str(exc)[:2000],
            finished_at=timezone.now(),
            updated_at=timezone.now(),
        )
        return
    Export.objects.filter(pk=export.pk).update(
        status=Export.Status.DONE,
        file=export.file.name,
        row_count=rows,
        finished_at=timezone.now(),
        updated_at=timezone.now(),
    )
