"""The only writer of lead and project events (and the audit entries that go with changes).

Events are the project's timeline and the source of every statistic; nothing else inserts
into ``LeadEvent`` or ``ProjectEvent``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils import timezone

from yimatong.accounts import audit
from yimatong.accounts.models import User
from yimatong.investment.models import Lead, LeadEvent, Project, ProjectEvent


def _plain(data: dict[str, Any]) -> dict[str, Any]:
    return {key: audit.plain(value) for key, value in data.items()}


def lead(lead: Lead, kind: str, *, actor: User | None, **data: Any) -> LeadEvent:
    return LeadEvent.objects.create(
        lead=lead, kind=kind, actor=actor if actor and actor.pk else None, data=_plain(data)
    )


def project(
    project: Project,
    kind: str,
    *,
    actor: User | None,
    from_stage: str = "",
    to_stage: str = "",
    signed_amount: Decimal = Decimal("0"),
    landed_amount: Decimal = Decimal("0"),
    at: Any = None,
    **data: Any,
) -> ProjectEvent:
    return ProjectEvent.objects.create(
        project=project,
        kind=kind,
        actor=actor if actor and actor.pk else None,
        from_stage=from_stage,
        to_stage=to_stage,
        signed_amount=signed_amount,
        landed_amount=landed_amount,
        data=_plain(data),
        at=at or timezone.now(),
    )


def project_changed(
    project_obj: Project, before: audit.Snapshot, *, actor: User | None
) -> ProjectEvent | None:
    """A field change: one timeline event listing old -> new, and the same in the audit log."""
    entry = audit.log_change(project_obj, before, actor=actor)
    if entry is None:
        return None
    rows = audit.change_rows(entry, reveal=True)
    return project(
        project_obj,
        ProjectEvent.Kind.CHANGED,
        actor=actor,
        changes=[{"field": row.field, "old": row.old, "new": row.new} for row in rows],
    )
