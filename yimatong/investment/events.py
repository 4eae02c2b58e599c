"""The only writer of lead and project events (and the audit entries that go with changes).

Events are the project's timeline and the source of every statistic; nothing else inserts
into ``LeadEvent`` or ``ProjectEvent``. A project event that can change a figure refreshes the
project's share of the read aggregates (``investment.rollups``) in the same transaction.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils import timezone

from yimatong.accounts import audit
from yimatong.accounts.models import User
from yimatong.investment import rollups
from yimatong.investment.models import Lead, LeadEvent, Project, ProjectEvent
from yimatong.lib import bulk


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
    event = ProjectEvent.objects.create(
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
    if kind in rollups.RELEVANT:
        # In the action's transaction: the figures change with the event or not at all.
        rollups.refresh([project.pk], created=kind == ProjectEvent.Kind.CREATED)
    return event


def imported_projects(
    history: list[tuple[Project, list[dict[str, Any]]]], *, actor: User | None, refresh: bool = True
) -> int:
    """The events of projects just created together (a ledger import): each project's history
    as dicts of ``project``'s keyword arguments (kind, from_stage, to_stage, signed_amount,
    landed_amount, at and data), written with one insert per batch, then the projects' share of
    the read aggregates, all in the caller's transaction. Returns how many events.

    ``refresh=False`` leaves the read aggregates to the caller, who must then call
    ``rollups.refresh(ids, created=True)`` for these projects before its transaction ends (once
    for several batches: the tally rows are written once)."""
    actor_id = actor.pk if actor and actor.pk else None
    zero = Decimal("0")
    rows = (
        {
            "project_id": obj.pk,
            "kind": step["kind"],
            "actor_id": actor_id,
            "from_stage": step.get("from_stage", ""),
            "to_stage": step.get("to_stage", ""),
            "signed_amount": step.get("signed_amount", zero),
            "landed_amount": step.get("landed_amount", zero),
            "data": _plain(step.get("data", {})),
            "at": step["at"],
        }
        for obj, steps in history
        for step in steps
    )
    count = bulk.insert_values(ProjectEvent, rows)
    if refresh:
        rollups.refresh([obj.pk for obj, _steps in history], created=True)
    return count


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


def timeline_for(project: Project, user: Any, *, limit: int) -> list[ProjectEvent]:
    """The project's latest events as ``user`` may read them. A restricted document the user may
    not open is shown as such, without its title or file name; when a codename hides the investor
    from the user, the investor's and its contact's names are replaced by the codename wherever
    an event quotes them. The events are not saved back (they are append-only)."""
    from yimatong.accounts import access

    events = list(project.events.select_related("actor")[:limit])
    closed = [
        doc
        for doc in project.documents.filter(visibility="restricted")
        if not access.can_open_document(user, doc)
    ]
    closed_ids, closed_titles = {doc.pk for doc in closed}, {doc.title for doc in closed}
    secrets: dict[str, str] = {}
    if not project.shows_investor_to(user):
        # The investor now and any the project had before (an organization change quotes both).
        secrets[project.organization.name] = project.codename
        if project.contact_id:
            secrets[project.contact.name] = "—"
        for event in events:
            for row in (
                (event.data or {}).get("changes", []) if event.kind == ProjectEvent.Kind.CHANGED else []
            ):
                if isinstance(row, dict) and row.get("field") in ("organization", "contact"):
                    stand_in = project.codename if row["field"] == "organization" else "—"
                    for name in (row.get("old"), row.get("new")):
                        if name:
                            secrets.setdefault(str(name), stand_in)
    for event in events:
        data = event.data or {}
        if event.kind == ProjectEvent.Kind.DOCUMENT and (
            data.get("document_id") in closed_ids
            or (data.get("document_id") is None and data.get("document") in closed_titles)
        ):
            event.data = {"restricted": True, "version": data.get("version")}
        elif secrets:
            event.data = _replace_names(data, secrets)
    return events


def _replace_names(value: Any, secrets: dict[str, str]) -> Any:
    if isinstance(value, str):
        for name, stand_in in sorted(secrets.items(), key=lambda item: -len(item[0])):
            if name:
                value = value.replace(name, stand_in)
        return value
    if isinstance(value, dict):
        return {key: _replace_names(item, secrets) for key, item in value.items()}
    if isinstance(value, list):
        return [_replace_names(item, secrets) for item in value]
    return value
