"""Projects: creation, field changes, stage moves through their gates, supervision.

Count-once: the first move into 签约 counts the contracted investment on that event; a later
increase (an upgrade from a framework to a formal agreement, a capital increase) counts only
its increment; moving back and forth never counts twice. The same holds for 注册落地.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from yimatong.accounts import audit
from yimatong.accounts.models import User
from yimatong.directory import actions as directory_actions
from yimatong.directory.models import Contact, Organization
from yimatong.investment import events, rollups
from yimatong.investment.actions.codes import next_code, next_codes
from yimatong.investment.models import (
    EXITS,
    STAGE_INDEX,
    InvestmentSettings,
    Lead,
    Project,
    ProjectEvent,
    Stage,
)
from yimatong.lib import bulk
from yimatong.lib.errors import ActionError, StaleObject
from yimatong.lib.identifiers import clean_uscc
from yimatong.lib.text import normalize_org_name
from yimatong.notifications.actions import notify
from yimatong.notifications.models import Notification

PROJECT_FIELDS = (
    "name",
    "organization",
    "contact",
    "chain_node",
    "planned_investment",
    "expected_output",
    "expected_tax",
    "land_mu",
    "floor_area",
    "jobs",
    "description",
    "priority",
    "codename",
    "source_channel",
)
# The facts each gate needs, in pipeline order. Moving to a stage needs the facts of every gate
# up to it (jumping from 洽谈 to 开工 still needs the signing and the registration).
GATES: dict[str, tuple[str, ...]] = {
    Stage.SIGNED: ("agreement_type", "signed_on", "contracted_investment"),
    Stage.REGISTERED: ("registered_organization", "registered_on"),
    Stage.CONSTRUCTION: ("construction_started_on", "fixed_asset_investment"),
    Stage.PRODUCTION: ("production_started_on",),
    Stage.FULL_CAPACITY: ("full_capacity_on",),
}
FACT_FIELDS = tuple(name for names in GATES.values() for name in names)
SIGNED_INDEX = STAGE_INDEX[Stage.SIGNED]
REGISTERED_INDEX = STAGE_INDEX[Stage.REGISTERED]


def create_project(
    *, actor: User | None, data: dict[str, Any], lead: Lead | None = None, now: dt.datetime | None = None
) -> Project:
    now = now or timezone.now()
    owner = data.get("owner") or actor
    if owner is None:
        raise ActionError(_("项目必须有负责人。"), fields={"owner": [_("请选择负责人。")]})
    stage = data.get("stage") or Stage.CONTACT
    if stage not in (Stage.LEAD, Stage.CONTACT, Stage.VISIT, Stage.NEGOTIATION):
        raise ActionError(
            _("新项目从洽谈及以前的阶段开始，签约等阶段请通过阶段推进填写必要信息。"),
            fields={"stage": [_("请选择线索、接洽、考察或洽谈。")]},
        )
    values = {k: data[k] for k in PROJECT_FIELDS if k in data and data[k] is not None}
    with transaction.atomic():
        project = Project(
            code=next_code("YMT", now.year),
            owner=owner,
            team_id=data["team"].pk if data.get("team") else owner.team_id,
            stage=stage,
            stage_entered_at=now,
            last_progress_at=now,
            lead=lead,
            created_by=actor,
            **values,
        )
        project.refresh_search_fields()
        project.save()
        if data.get("collaborators"):
            project.collaborators.set(data["collaborators"])
        if data.get("insiders"):
            project.insiders.set(data["insiders"])
        events.project(
            project,
            ProjectEvent.Kind.CREATED,
            actor=actor,
            to_stage=stage,
            at=now,
            lead=lead.code if lead else "",
        )
        audit.log_create(project, actor=actor, m2m=bool(data.get("collaborators") or data.get("insiders")))
    return project


def update_project(
    *, actor: User | None, project: Project, data: dict[str, Any], version: int | None = None
) -> Project:
    """Change the descriptive fields (and, for leads and admins, owner and team)."""
    expected = project.version if version is None else version
    with transaction.atomic():
        current = _locked(project.pk)
        if current.version != expected:
            raise StaleObject(current.name)
        before = audit.snapshot(current)
        for key in PROJECT_FIELDS:
            if key in data:
                nullable = Project._meta.get_field(key).null
                setattr(current, key, data[key] if data[key] is not None or nullable else "")
        owner_changed = "owner" in data and data["owner"] is not None and data["owner"].pk != current.owner_id
        if owner_changed:
            current.owner = data["owner"]
        if "team" in data:
            current.team = data["team"] or current.owner.team
        current.refresh_search_fields()
        current.version += 1  # the row is locked
        current.save()
        if "collaborators" in data:
            current.collaborators.set(data["collaborators"] or [])
        if "insiders" in data:
            current.insiders.set(data["insiders"] or [])
        events.project_changed(current, before, actor=actor)
        if owner_changed:
            events.project(current, ProjectEvent.Kind.ASSIGNED, actor=actor, owner=current.owner.display_name)
    return current


# What the audit snapshot displays: read with the locked row, so that the snapshots before and
# after a change cost no query per relation.
AUDITED_RELATIONS = (
    "organization",
    "contact",
    "lead",
    "chain_node",
    "owner",
    "team",
    "registered_organization",
    "supervised_by",
    "created_by",
)


def _locked(pk: int) -> Project:
    return (
        Project.objects.select_for_update(of=("self",))
        .select_related(*AUDITED_RELATIONS)
        .prefetch_related("collaborators", "insiders")
        .get(pk=pk)
    )


# Stage moves -----------------------------------------------------------------------------------


def missing_facts(project: Project, to: str, facts: dict[str, Any]) -> dict[str, list[str]]:
    """The facts the gates up to ``to`` still need, as field -> message."""
    if to in EXITS:
        return {}
    target = STAGE_INDEX[to]
    missing: dict[str, list[str]] = {}
    for gate, names in GATES.items():
        if STAGE_INDEX[gate] > target:
            continue
        for name in names:
            value = facts.get(name, getattr(project, name))
            if value in (None, ""):
                label = Project._meta.get_field(name).verbose_name
                missing[name] = [
                    _("进入“%(stage)s”须填写%(field)s。") % {"stage": Stage(gate).label, "field": label}
                ]
    return missing


def _is_backward(current: str, to: str) -> bool:
    if to in EXITS or current in EXITS:
        return False
    return STAGE_INDEX[to] < STAGE_INDEX[current]


def needs_reason(current: str, to: str) -> bool:
    """Exits, returns from an exit, and backward moves must say why."""
    return to in EXITS or current in EXITS or _is_backward(current, to)


def resolve_registered_company(
    *, uscc: str, name: str, actor: User | None, owner: User | None
) -> Organization:
    """The company registered in the park: found by its USCC (a prospect becomes a resident) or
    created as a resident enterprise."""
    try:
        code = clean_uscc(uscc)
    except ValidationError as exc:
        raise ActionError(exc.messages[0], fields={"registered_uscc": exc.messages}) from None
    org = Organization.objects.filter(uscc=code).first()
    if org is None:
        if not name.strip():
            raise ActionError(
                _("系统中没有该统一社会信用代码的企业，请填写注册企业名称。"),
                fields={"registered_name": [_("请填写注册企业名称。")]},
            )
        return directory_actions.create_organization(
            actor=actor,
            data={
                "name": name.strip(),
                "uscc": code,
                "org_type": Organization.Type.RESIDENT,
                "owner": owner,
                "team": owner.team if owner else None,
            },
        )
    if org.org_type == Organization.Type.PROSPECT:
        org = directory_actions.update_organization(
            actor=actor, org=org, data={"org_type": Organization.Type.RESIDENT}
        )
    return org


def counted_so_far(project: Project) -> tuple[Decimal, Decimal]:
    totals = ProjectEvent.objects.filter(project=project).aggregate(
        signed=Sum("signed_amount"), landed=Sum("landed_amount")
    )
    return totals["signed"] or Decimal("0"), totals["landed"] or Decimal("0")


def move_stage(
    *,
    actor: User | None,
    project: Project,
    to: str,
    facts: dict[str, Any] | None = None,
    reason: str = "",
    expected_stage: str | None = None,
    now: dt.datetime | None = None,
) -> Project:
    """Move ``project`` to ``to`` if its gates are met. ``expected_stage`` is the stage the mover
    saw: if someone moved the project meanwhile, nothing is written and the mover is told."""
    now = now or timezone.now()
    raw = facts or {}
    facts = {k: v for k, v in raw.items() if k in FACT_FIELDS and v not in (None, "")}
    seen = expected_stage or project.stage
    if to not in Stage.values:
        raise ActionError(_("没有“%(stage)s”这个阶段。") % {"stage": to}, fields={"stage": [_("阶段无效。")]})
    with transaction.atomic():
        current = _locked(project.pk)
        if current.stage != seen:
            raise StaleObject(
                _("%(name)s 已被移到“%(stage)s”")
                % {"name": current.name, "stage": current.get_stage_display()}
            )
        if to == current.stage:
            raise ActionError(_("项目已处于“%(stage)s”阶段。") % {"stage": current.get_stage_display()})
        if needs_reason(current.stage, to) and not reason.strip():
            raise ActionError(
                _("搁置、流失、恢复和退回之前的阶段都须说明原因。"),
                code="reason_required",
                fields={"reason": [_("请填写原因。")]},
            )
        if raw.get("registered_uscc"):
            # Found or created here, inside the move: a refused move leaves no company behind.
            facts["registered_organization"] = resolve_registered_company(
                uscc=raw["registered_uscc"],
                name=raw.get("registered_name", ""),
                actor=actor,
                owner=current.owner,
            )
        missing = missing_facts(current, to, facts)
        if missing:
            raise ActionError(_("还缺少进入该阶段所需的信息。"), code="gate", fields=missing)
        forward = to not in EXITS and (current.stage in EXITS or STAGE_INDEX[to] > STAGE_INDEX[current.stage])
        needs_admission = (
            forward and STAGE_INDEX[to] >= SIGNED_INDEX and InvestmentSettings.current().require_admission
        )
        if needs_admission and not any(review.admits for review in current.admission_reviews.all()):
            raise ActionError(
                _("签约前须完成准入评审并获得“通过”或“有条件通过”。"),
                code="admission_required",
                fields={"admission": [_("请先完成准入评审。")]},
            )
        before = audit.snapshot(current)
        from_stage = current.stage
        for name, value in facts.items():
            setattr(current, name, value)
        current.stage = to
        current.stage_entered_at = now
        current.exit_reason = reason.strip()[:200] if to in EXITS else ""
        if forward:
            current.last_progress_at = now
        # The row is locked (on SQLite the transaction holds the write lock): no one else can
        # bump the version between this read and the write.
        current.version += 1
        current.save()
        signed_now = landed_now = Decimal("0")
        if to not in EXITS and STAGE_INDEX[to] >= SIGNED_INDEX:
            signed, landed = counted_so_far(current)
            signed_now = max(Decimal("0"), (current.contracted_investment or 0) - signed)
            if STAGE_INDEX[to] >= REGISTERED_INDEX:
                landed_now = max(Decimal("0"), (current.contracted_investment or 0) - landed)
        events.project(
            current,
            ProjectEvent.Kind.STAGE,
            actor=actor,
            from_stage=from_stage,
            to_stage=to,
            at=now,
            signed_amount=signed_now,
            landed_amount=landed_now,
            reason=reason.strip(),
            facts={
                name: audit.plain(value.pk if hasattr(value, "pk") else value)
                for name, value in facts.items()
            },
        )
        audit.log_change(current, before, actor=actor)
        if to == Stage.REGISTERED and forward:
            from yimatong.wechat.actions import tell_investor

            tell_investor("registered", project=current)
    return current


def record_contract(
    *,
    actor: User | None,
    project: Project,
    agreement_type: str,
    signed_on: dt.date,
    contracted_investment: Decimal,
    note: str = "",
    now: dt.datetime | None = None,
) -> Project:
    """An upgrade (framework -> formal) or a change of the contracted investment of a signed
    project: only an increase over what was counted before is counted, on this event."""
    now = now or timezone.now()
    with transaction.atomic():
        current = _locked(project.pk)
        if current.stage in EXITS or STAGE_INDEX[current.stage] < SIGNED_INDEX:
            raise ActionError(_("只有已签约的项目才能登记协议变更；未签约的项目请推进到签约阶段。"))
        before = audit.snapshot(current)
        current.agreement_type, current.signed_on = agreement_type, signed_on
        current.contracted_investment = contracted_investment
        current.last_progress_at = now
        current.version += 1  # the row is locked
        current.save()
        signed, landed = counted_so_far(current)
        signed_now = max(Decimal("0"), contracted_investment - signed)
        landed_now = (
            max(Decimal("0"), contracted_investment - landed)
            if STAGE_INDEX[current.stage] >= REGISTERED_INDEX
            else Decimal("0")
        )
        events.project(
            current,
            ProjectEvent.Kind.INVESTMENT,
            actor=actor,
            at=now,
            signed_amount=signed_now,
            landed_amount=landed_now,
            agreement_type=agreement_type,
            contracted_investment=contracted_investment,
            note=note,
        )
        audit.log_change(current, before, actor=actor)
    return current


def update_facts(*, actor: User | None, project: Project, facts: dict[str, Any]) -> Project:
    """Correct dates and figures of gates already passed (not the contracted investment, which
    goes through ``record_contract`` so that it is counted right)."""
    allowed = set(FACT_FIELDS) - {"agreement_type", "signed_on", "contracted_investment"}
    with transaction.atomic():
        current = _locked(project.pk)
        before = audit.snapshot(current)
        for name, value in facts.items():
            if name in allowed:
                setattr(current, name, value)
        current.version += 1  # the row is locked
        current.save()
        events.project_changed(current, before, actor=actor)
    return current


# Supervision -----------------------------------------------------------------------------------


def set_major(*, actor: User, project: Project, is_major: bool) -> Project:
    with transaction.atomic():
        changed = (
            Project.objects.filter(pk=project.pk)
            .exclude(is_major=is_major)
            .update(is_major=is_major, updated_at=timezone.now())
        )
        if changed:
            events.project(project, ProjectEvent.Kind.MAJOR, actor=actor, is_major=is_major)
    project.refresh_from_db()
    return project


def supervise(*, actor: User, project: Project, note: str) -> Project:
    """A leader's 督办: the project goes on its owner's and their lead's screens."""
    if not note.strip():
        raise ActionError(_("督办须写明督办事项。"), fields={"note": [_("请填写督办事项。")]})
    now = timezone.now()
    with transaction.atomic():
        Project.objects.filter(pk=project.pk).update(
            supervised_at=now, supervised_by=actor, supervision_note=note.strip()[:300], updated_at=now
        )
        project.refresh_from_db()
        events.project(project, ProjectEvent.Kind.SUPERVISION, actor=actor, raised=True, note=note.strip())
        leads = User.objects.filter(role=User.Role.TEAM_LEAD, team_id=project.team_id, is_active=True)
        notify(
            [project.owner, *leads],
            kind=Notification.Kind.SUPERVISION,
            key=f"supervision-{project.pk}-{now.timestamp():.0f}",
            title=_("督办：%(name)s") % {"name": project.name},
            body=_("%(leader)s 督办：%(note)s") % {"leader": actor.display_name, "note": note.strip()},
            url=project.get_absolute_url(),
        )
    return project


def lift_supervision(*, actor: User, project: Project, note: str = "") -> Project:
    with transaction.atomic():
        lifted = Project.objects.filter(pk=project.pk, supervised_at__isnull=False).update(
            supervised_at=None, supervised_by=None, supervision_note="", updated_at=timezone.now()
        )
        if lifted:
            events.project(
                project, ProjectEvent.Kind.SUPERVISION, actor=actor, raised=False, note=note.strip()
            )
    project.refresh_from_db()
    return project


def archive_stale_projects(*, now: dt.datetime | None = None) -> int:
    """Projects without progress for ``archive_after_days`` move to 搁置 (sweep; safe in parallel)."""
    now = now or timezone.now()
    days = InvestmentSettings.current().archive_after_days
    cutoff = now - dt.timedelta(days=days)
    archived = 0
    stale = Project.objects.active().filter(last_progress_at__lt=cutoff).select_related("owner")
    for project in stale:
        reason = _("超过 %(days)d 天无进展，系统自动搁置") % {"days": days}
        with transaction.atomic():
            moved = Project.objects.filter(
                pk=project.pk, stage=project.stage, last_progress_at__lt=cutoff
            ).update(
                stage=Stage.ON_HOLD,
                stage_entered_at=now,
                exit_reason=reason,
                version=F("version") + 1,
                updated_at=now,
            )
            if not moved:
                continue
            events.project(
                project,
                ProjectEvent.Kind.STAGE,
                actor=None,
                from_stage=project.stage,
                to_stage=Stage.ON_HOLD,
                at=now,
                reason=reason,
                automatic=True,
            )
            notify(
                [project.owner],
                kind=Notification.Kind.PROJECT_ARCHIVED,
                key=f"archived-{project.pk}-{now:%Y%m%d}",
                title=_("项目已自动搁置：%(name)s") % {"name": project.name},
                body=reason,
                url=project.get_absolute_url(),
            )
            archived += 1
    return archived


def mark_progress(project: Project, *, now: dt.datetime | None = None) -> None:
    Project.objects.filter(pk=project.pk).update(last_progress_at=now or timezone.now())


IMPORT_BATCH = 2000  # projects per insert (with their events, rollups and audit entries)


def import_projects(
    *,
    actor: User,
    rows: list[dict[str, Any]],
    now: dt.datetime | None = None,
    progress: Callable[[int], None] | None = None,
    batch_size: int | None = None,
) -> list[Project]:
    """Projects from checked ledger rows (``ledger.LedgerChecker``), with their history as the
    ledger tells it: created when first signed (or now), registered, started and so on at the
    dates given, so that count-once statistics and times in stage are right. Counts as progress
    now.

    Set-based, in one transaction (all rows or none): the investors new to the directory, the
    registered companies and the contacts are created first, one insert per kind; the codes
    are taken with one bump of the counter; then each batch of projects is inserted with its
    events and audit entries, and at the end the projects' share of the read aggregates. ``progress`` is told how
    many projects are written after each batch."""
    now = now or timezone.now()
    batch_size = batch_size or IMPORT_BATCH
    if not rows:
        return []
    created: list[Project] = []
    known: dict[int, dict[str, Any]] = {}  # each project's share of the read aggregates
    with transaction.atomic():
        investors, registered = _import_organizations(actor, rows)
        contacts = _import_contacts(actor, rows, investors)
        codes = next_codes("YMT", now.year, len(rows))
        for start in range(0, len(rows), batch_size):
            batch = [
                _imported_project(
                    actor,
                    rows[i],
                    code=codes[i],
                    organization=investors[i],
                    contact=contacts[i],
                    registered=registered[i],
                    now=now,
                )
                for i in range(start, min(start + batch_size, len(rows)))
            ]
            bulk.insert(Project, batch)
            history = [(p, _imported_history(p, now)) for p in batch]
            events.imported_projects(history, actor=actor, refresh=False)
            known.update((p.pk, rollups.created_contribution(p, steps)) for p, steps in history)
            audit.log_creates(batch, actor=actor)
            created += batch
            if progress is not None:
                progress(len(created))
        # The figures of every batch at once (the board, the numbers and the cockpit read them).
        rollups.refresh([p.pk for p in created], created=True, known=known)
        bulk.replan_foreign_key_checks()
    return created


def _by_uscc(codes: set[str]) -> dict[str, Organization]:
    found: dict[str, Organization] = {}
    ordered = sorted(codes)
    for start in range(0, len(ordered), 2000):
        found.update(
            (org.uscc, org) for org in Organization.objects.filter(uscc__in=ordered[start : start + 2000])
        )
    return found


def _import_organizations(
    actor: User, rows: list[dict[str, Any]]
) -> tuple[list[Organization], list[Organization | None]]:
    """Each row's investor and registered company (or None): those already in the directory
    read in a few queries, the new ones created (investors as prospects, registered companies
    as residents) with one insert each, and the prospects that registered a company in the park
    made residents. Two rows of the same new investor (same USCC, or same name without one)
    share it; the first row names it."""
    known_ids = sorted({v["organization_id"] for v in rows if v.get("organization_id")})
    known: dict[int, Organization] = {}
    for start in range(0, len(known_ids), 2000):
        known.update(Organization.objects.in_bulk(known_ids[start : start + 2000]))
    wanted = {v["uscc"] for v in rows if v.get("uscc") and not v.get("organization_id")}
    wanted |= {v["registered_uscc"] for v in rows if v.get("registered_uscc")}
    by_uscc = _by_uscc(wanted)
    new: dict[str, dict[str, Any]] = {}
    for values in rows:
        if values.get("organization_id") or values.get("uscc") in by_uscc:
            continue
        key = values.get("uscc") or normalize_org_name(values["investor"])
        owner = values["owner"]
        new.setdefault(
            key,
            {
                "name": values["investor"],
                "uscc": values.get("uscc") or None,
                "org_type": Organization.Type.PROSPECT,
                "chain_node": values.get("chain_node"),
                "owner": owner,
                "team": owner.team,
            },
        )
    made = dict(
        zip(new, directory_actions.create_organizations(actor=actor, rows=list(new.values())), strict=True)
    )
    by_uscc.update((org.uscc, org) for org in made.values() if org.uscc)
    investors = [
        known.get(values["organization_id"])
        if values.get("organization_id")
        else by_uscc.get(values.get("uscc") or "")
        or made[values.get("uscc") or normalize_org_name(values["investor"])]
        for values in rows
    ]
    companies: dict[str, dict[str, Any]] = {}
    for values in rows:
        code = values.get("registered_uscc")
        if code and code not in by_uscc:
            owner = values["owner"]
            companies.setdefault(
                code,
                {
                    "name": values.get("registered_name", "").strip(),
                    "uscc": code,
                    "org_type": Organization.Type.RESIDENT,
                    "owner": owner,
                    "team": owner.team,
                },
            )
    by_uscc.update(
        (org.uscc, org)
        for org in directory_actions.create_organizations(actor=actor, rows=list(companies.values()))
    )
    registered = [by_uscc[v["registered_uscc"]] if v.get("registered_uscc") else None for v in rows]
    prospects = {
        org.pk: org for org in registered if org is not None and org.org_type == Organization.Type.PROSPECT
    }
    for org in directory_actions.make_residents(actor=actor, orgs=list(prospects.values())):
        prospects[org.pk].org_type = org.org_type
    return investors, registered


def _import_contacts(
    actor: User, rows: list[dict[str, Any]], investors: list[Organization]
) -> list[Contact | None]:
    """Each row's contact: the investor's contact with that mobile number, or a new one."""
    wanted = [(investors[i], v) for i, v in enumerate(rows) if v.get("contact_phone")]
    if not wanted:
        return [None] * len(rows)
    existing: dict[tuple[int, str], Contact] = {}
    org_ids = sorted({org.pk for org, _values in wanted})
    phones = sorted({values["contact_phone"] for _org, values in wanted})
    for start in range(0, len(org_ids), 2000):
        for contact in Contact.objects.filter(
            organization_id__in=org_ids[start : start + 2000], mobile__in=phones
        ).order_by("name_pinyin", "pk"):
            existing.setdefault((contact.organization_id, contact.mobile), contact)
    new: dict[tuple[int, str], dict[str, Any]] = {}
    for org, values in wanted:
        key = (org.pk, values["contact_phone"])
        if key not in existing:
            new.setdefault(
                key,
                {
                    "organization": org,
                    "name": values.get("contact_name") or values["investor"],
                    "mobile": values["contact_phone"],
                    "owner": values["owner"],
                },
            )
    existing.update(
        zip(new, directory_actions.create_contacts(actor=actor, rows=list(new.values())), strict=True)
    )
    return [
        existing[(investors[i].pk, v["contact_phone"])] if v.get("contact_phone") else None
        for i, v in enumerate(rows)
    ]


def _imported_project(
    actor: User,
    values: dict[str, Any],
    *,
    code: str,
    organization: Organization,
    contact: Contact | None,
    registered: Organization | None,
    now: dt.datetime,
) -> Project:
    owner = values["owner"]
    stage = values["stage"]
    facts = {name: values.get(name) for name in FACT_FIELDS if name != "registered_organization"}
    project = Project(
        code=code,
        name=values["name"],
        organization=organization,
        contact=contact,
        chain_node=values.get("chain_node"),
        owner=owner,
        team=owner.team,
        stage=stage,
        stage_entered_at=now,
        source_channel=values.get("source_channel") or "import",
        priority=values.get("priority") or "b",
        is_major=bool(values.get("is_major")),
        description=values.get("description", ""),
        exit_reason=values.get("exit_reason", "") if stage in EXITS else "",
        last_progress_at=now,
        registered_organization=registered,
        created_by=actor,
        **{
            k: values.get(k)
            for k in (
                "planned_investment",
                "expected_output",
                "expected_tax",
                "land_mu",
                "floor_area",
                "jobs",
            )
        },
        **{k: (v if v is not None else ("" if k == "agreement_type" else None)) for k, v in facts.items()},
    )
    project.refresh_search_fields()
    return project


def _imported_history(project: Project, now: dt.datetime) -> list[dict[str, Any]]:
    """The events the ledger implies, each at its own date (noon, local time)."""
    zone = timezone.get_current_timezone()

    def at(day: dt.date | None) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(12), tzinfo=zone) if day else now

    stage = project.stage
    contracted = project.contracted_investment or Decimal("0")
    steps: list[tuple[str, dt.datetime, Decimal, Decimal]] = []
    if project.signed_on:
        steps.append((Stage.SIGNED, at(project.signed_on), contracted, Decimal("0")))
    if project.registered_on:
        steps.append((Stage.REGISTERED, at(project.registered_on), Decimal("0"), contracted))
    for name, day in (
        (Stage.CONSTRUCTION, project.construction_started_on),
        (Stage.PRODUCTION, project.production_started_on),
        (Stage.FULL_CAPACITY, project.full_capacity_on),
    ):
        if day:
            steps.append((name, at(day), Decimal("0"), Decimal("0")))
    if stage not in EXITS:  # facts beyond the ledger's stage are kept but make no history
        steps = [step for step in steps if STAGE_INDEX[step[0]] <= STAGE_INDEX[stage]]
    if stage not in EXITS and (not steps or steps[-1][0] != stage):
        steps.append((stage, now if not steps else max(steps[-1][1], now), Decimal("0"), Decimal("0")))
    # A project that left the pipeline without dates started (as far as the ledger says) at first contact.
    first, *rest = steps or [(Stage.CONTACT if stage in EXITS else stage, now, Decimal("0"), Decimal("0"))]
    history: list[dict[str, Any]] = [
        {
            "kind": ProjectEvent.Kind.CREATED,
            "to_stage": first[0],
            "at": first[1],
            "signed_amount": first[2],
            "landed_amount": first[3],
            "data": {"imported": True},
        }
    ]
    previous = first[0]
    for step_stage, when, signed, landed in rest:
        history.append(
            {
                "kind": ProjectEvent.Kind.STAGE,
                "from_stage": previous,
                "to_stage": step_stage,
                "at": when,
                "signed_amount": signed,
                "landed_amount": landed,
                "data": {"imported": True},
            }
        )
        previous = step_stage
    if stage in EXITS:
        history.append(
            {
                "kind": ProjectEvent.Kind.STAGE,
                "from_stage": previous,
                "to_stage": stage,
                "at": now,
                "data": {"reason": project.exit_reason, "imported": True},
            }
        )
    return history
