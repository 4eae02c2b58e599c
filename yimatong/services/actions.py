"""Every change of a demand: one function per step of its lifecycle, each a conditional
update on the status it expects (a step taken from an out-of-date page changes nothing), an
event with actor and reason, and the notices it owes.

受理 → 分派 → 签收 (the clock starts) or 退回 → 办理 (补充材料 pauses the clock) → 延期 (asked
and approved before the deadline) → 办结 → 审核 (fail: 重办) → 回访评价 (不满意: 重办) → 归档.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from yimatong.accounts import access, audit
from yimatong.accounts.models import Department, User
from yimatong.investment.actions.codes import next_code
from yimatong.lib.errors import ActionError, StaleObject
from yimatong.lib.workdays import Overrides, add_working_days, working_days_between
from yimatong.notifications.actions import notify
from yimatong.notifications.models import Notification
from yimatong.services.models import (
    Demand,
    DemandAttachment,
    DemandCategory,
    DemandEvent,
    WorkCalendarDay,
    calendar_overrides,
)

S = Demand.Status
# Overdue this many working days: the order is reported (通报).
REPORT_AFTER_DAYS = getattr(settings, "DEMAND_REPORT_AFTER_DAYS", 5)


def _event(
    demand: Demand,
    kind: str,
    *,
    actor: User | None,
    before: str = "",
    text: str = "",
    at: dt.datetime | None = None,
    **data: Any,
) -> DemandEvent:
    return DemandEvent.objects.create(
        demand=demand,
        kind=kind,
        actor=actor if actor and actor.pk else None,
        from_status=before,
        to_status=demand.status if before else "",
        text=text,
        data={k: audit.plain(v) for k, v in data.items()},
        at=at or timezone.now(),
    )


def _move(demand: Demand, expected: set[str], changes: dict[str, Any]) -> Demand:
    """The transition itself: a conditional update on the expected status, or nothing and the
    user told that someone else moved the demand first."""
    updated = Demand.objects.filter(pk=demand.pk, status__in=expected).update(
        version=F("version") + 1, updated_at=timezone.now(), **changes
    )
    if updated != 1:
        current = Demand.objects.filter(pk=demand.pk).values_list("status", flat=True).first()
        if current in expected or current is None:
            raise StaleObject(demand.code)
        raise ActionError(
            _("工单 %(code)s 当前为“%(status)s”，不能执行此操作。")
            % {"code": demand.code, "status": S(current).label},
            code="illegal_transition",
        )
    demand.refresh_from_db()
    if changes.keys() & {"dispatched_at", "signed_at", "completed_at"}:
        from yimatong.services.kpis import work_hours

        demand.response_hours, demand.handling_hours = work_hours(
            demand.dispatched_at, demand.signed_at, demand.completed_at, calendar_overrides()
        )
        Demand.objects.filter(pk=demand.pk).update(
            response_hours=demand.response_hours, handling_hours=demand.handling_hours
        )
    return demand


def calendar_changed(
    *days: dt.date, before: Overrides | None = None, actor: User | None = None
) -> CalendarReport:
    """The park entered, changed or removed days of its working calendar.

    The stored working hours of the demands whose measured spans cover a changed day are counted
    again. With ``before`` (the park's calendar as it was), the deadlines of the open demands are
    recomputed too (``recompute_deadlines``)."""
    from yimatong.services.kpis import fill_work_hours

    report = CalendarReport()
    zone = timezone.get_default_timezone()
    for day in sorted(set(days)):
        since = dt.datetime.combine(day, dt.time.min, tzinfo=zone)
        until = since + dt.timedelta(days=1)
        spans = Q(dispatched_at__lt=until, signed_at__gte=since) | Q(
            signed_at__lt=until, completed_at__gte=since
        )
        report.hours += fill_work_hours(Demand.objects.filter(spans))
    if before is not None and days:
        report.deadlines = recompute_deadlines(set(days), before=before, actor=actor)
    return report


@dataclass
class CalendarReport:
    hours: int = 0
    deadlines: int = 0


def recompute_deadlines(days: set[dt.date], *, before: Overrides, actor: User | None = None) -> int:
    """Move the deadlines of the open demands to the park's calendar as it now is.

    Each deadline keeps the number of working days it was given (promised limit, approved
    extensions, paused days) counted from when its clock started (signing, or the last redo; the
    statutory deadline from signing) on the calendar it was computed with (``before``); that count
    is laid again on the calendar as it is now. A deadline whose year had no holidays and now has
    them loses its provisional flag. Every changed demand gets a DEADLINE_MOVED event; a deadline
    moved later restarts the escalation ladder, which reads the new date.

    Set-based: one read of the candidates (open demands whose deadlines reach a changed day, or
    are provisional), computed in Python, written with one UPDATE per distinct outcome."""
    after = calendar_overrides()
    zone = timezone.get_default_timezone()
    first = min(days)
    until = dt.datetime.combine(max(days) + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    last_redo = (
        DemandEvent.objects.filter(demand=OuterRef("pk"), kind=DemandEvent.Kind.REOPENED)
        .order_by("-at")
        .values("at")[:1]
    )
    reaches = Q(signed_at__lt=until) & (Q(deadline__gte=first) | Q(statutory_deadline__gte=first))
    candidates = (
        Demand.objects.filter(status__in=[S.HANDLING, S.AWAITING_INFO], deadline__isnull=False)
        .filter(reaches | Q(deadline_provisional=True) | Q(statutory_provisional=True))
        .annotate(redone_at=Subquery(last_redo))
        .order_by("pk")
    )
    now = timezone.now()
    # Demands that get the same new dates are written by one UPDATE (bulk_update's CASE per row
    # costs seconds per thousand rows; here there are as many statements as distinct outcomes).
    moves: dict[tuple[Any, ...], list[int]] = defaultdict(list)
    events: list[DemandEvent] = []
    with transaction.atomic():
        rows = candidates.select_for_update(of=("self",)).values_list(
            "pk",
            "signed_at",
            "redone_at",
            "deadline",
            "statutory_deadline",
            "deadline_provisional",
            "statutory_provisional",
        )
        for pk, signed_at, redone_at, deadline, statutory, was_prov, was_stat_prov in rows:
            signed_on = timezone.localdate(signed_at)
            started = timezone.localdate(redone_at) if redone_at else signed_on
            new_deadline, provisional = _relay(started, deadline, before, after)
            new_statutory, statutory_provisional = (
                _relay(signed_on, statutory, before, after) if statutory else (None, False)
            )
            outcome = (new_deadline, new_statutory, provisional, statutory_provisional)
            if outcome == (deadline, statutory, was_prov, was_stat_prov):
                continue
            moves[(*outcome, new_deadline > deadline)].append(pk)
            events.append(
                DemandEvent(
                    demand_id=pk,
                    kind=DemandEvent.Kind.DEADLINE_MOVED,
                    actor=actor if actor and actor.pk else None,
                    data=audit.plain(
                        {
                            "deadline_from": deadline,
                            "deadline": new_deadline,
                            "provisional": provisional,
                            "statutory_from": statutory,
                            "statutory_deadline": new_statutory,
                            "statutory_provisional": statutory_provisional,
                        }
                    ),
                    at=now,
                )
            )
        for (deadline, statutory, provisional, statutory_provisional, later), pks in moves.items():
            # A deadline moved later starts the ladder again (its notices are keyed by the date).
            ladder = {"ladder": Demand.Ladder.NONE} if later else {}
            for chunk in range(0, len(pks), 500):
                Demand.objects.filter(pk__in=pks[chunk : chunk + 500]).update(
                    deadline=deadline,
                    statutory_deadline=statutory,
                    deadline_provisional=provisional,
                    statutory_provisional=statutory_provisional,
                    version=F("version") + 1,
                    updated_at=now,
                    **ladder,
                )
        DemandEvent.objects.bulk_create(events, batch_size=1000)
    return len(events)


def _relay(start: dt.date, deadline: dt.date, before: Overrides, after: Overrides) -> tuple[dt.date, bool]:
    """The deadline ``start`` + n working days on ``after``, n counted on ``before``."""
    if deadline <= start:  # the same day (an emergency): it stays a working day on its own
        return add_working_days(start, 0, after)
    return add_working_days(start, working_days_between(start, deadline, before), after)


def save_calendar_day(
    *, actor: User | None, day: dt.date, is_workday: bool, note: str = ""
) -> WorkCalendarDay:
    """Enter or change one day of the park's calendar, as the admin does: the working hours
    measured across it and the open demands' deadlines that reach it are recomputed."""
    with transaction.atomic():
        calendar = calendar_overrides()
        current = WorkCalendarDay.objects.select_for_update().filter(date=day).first()
        if current is None:
            current = WorkCalendarDay.objects.create(date=day, is_workday=is_workday, note=note)
            audit.log_create(current, actor=actor)
        else:
            before = audit.snapshot(current)
            current.is_workday, current.note = is_workday, note
            current.save(update_fields=["is_workday", "note", "updated_at"])
            audit.log_change(current, before, actor=actor)
        calendar_changed(day, before=calendar, actor=actor)
    return current


def delete_calendar_day(*, actor: User | None, entry: WorkCalendarDay) -> None:
    """Remove a day the park had set: the calendar library's answer holds for it again."""
    with transaction.atomic():
        calendar = calendar_overrides()
        before = audit.snapshot(entry)
        pk = entry.pk
        entry.delete()
        audit.log_delete(entry, before, object_id=pk, actor=actor)
        calendar_changed(entry.date, before=calendar, actor=actor)


def _reason(text: str, field: str = "reason") -> str:
    text = (text or "").strip()
    if not text:
        raise ActionError(_("请说明原因。"), code="reason_required", fields={field: [_("必填。")]})
    return text


def _department_staff(department: Department | None) -> list[User]:
    if department is None:
        return []
    return list(User.objects.filter(is_active=True, role=User.Role.SERVICE, department=department))


def _dispatchers() -> list[User]:
    return list(
        User.objects.filter(is_active=True, role=User.Role.SERVICE, department__is_dispatch_center=True)
    )


def _enterprise_users(demand: Demand) -> list[User]:
    return list(
        User.objects.filter(is_active=True, role=User.Role.ENTERPRISE, organization_id=demand.organization_id)
    )


def _tell(users: list[User], demand: Demand, key: str, title: str, body: str = "") -> None:
    notify(
        users,
        kind=Notification.Kind.DEMAND,
        key=f"demand-{demand.pk}-{key}",
        title=title,
        body=body,
        url=demand.get_absolute_url(),
    )


# Filing ------------------------------------------------------------------------------------------


MAX_ATTACHMENTS = 5


def check_attachments(uploads: list[Any]) -> list[Any]:
    """Up to five files at a time, each checked (type by extension and content, size) before
    anything is stored; the refusal names the file and the rule."""
    from django.core.exceptions import ValidationError

    from yimatong.investment.forms import check_upload

    if len(uploads) > MAX_ATTACHMENTS:
        raise ActionError(
            _("附件最多 %(n)s 个。") % {"n": MAX_ATTACHMENTS},
            fields={"attachments": [_("最多 %(n)s 个文件。") % {"n": MAX_ATTACHMENTS}]},
        )
    for upload in uploads:
        try:
            check_upload(upload)
        except ValidationError as exc:
            text = f"{upload.name}{_('：')}{' '.join(exc.messages)}"
            raise ActionError(text, fields={"attachments": [text]}) from exc
    return uploads


def _attach(demand: Demand, uploads: list[Any], actor: User) -> list[DemandAttachment]:
    return [
        DemandAttachment.objects.create(
            demand=demand, file=upload, original_name=upload.name[:200], uploaded_by=actor
        )
        for upload in uploads
    ]


def file_demand(*, actor: User, data: dict[str, Any]) -> Demand:
    """An enterprise (or the centre on its behalf) files a demand, with up to five files."""
    organization = data.get("organization") or actor.organization
    if organization is None:
        raise ActionError(_("请选择提出诉求的企业。"), fields={"organization": [_("必填。")]})
    if access.role_of(actor) == User.Role.ENTERPRISE and organization.pk != actor.organization_id:
        raise ActionError(_("只能为本企业提交诉求。"), code="forbidden")
    category: DemandCategory = data["category"]
    uploads = check_attachments(list(data.get("attachments") or []))
    with transaction.atomic():
        demand = Demand.objects.create(
            code=next_code("SQ", timezone.localdate().year, width=5),
            organization=organization,
            filed_by=actor,
            category=category,
            title=data["title"].strip(),
            description=data["description"].strip(),
            urgency=data.get("urgency") or Demand.Urgency.NORMAL,
        )
        _event(demand, DemandEvent.Kind.FILED, actor=actor, text=demand.title)
        audit.log_create(demand, actor=actor)
        _attach(demand, uploads, actor)
        _tell(
            _dispatchers(),
            demand,
            "filed",
            _("新诉求待受理：%(title)s") % {"title": demand.title},
            organization.name,
        )
    return demand


def withdraw(*, actor: User, demand: Demand, reason: str) -> Demand:
    with transaction.atomic():
        before = demand.status
        demand = _move(demand, {S.SUBMITTED, S.ACCEPTED}, {"status": S.WITHDRAWN})
        _event(demand, DemandEvent.Kind.WITHDRAWN, actor=actor, before=before, text=_reason(reason))
    return demand


# The centre: accept, dispatch, review, extensions ------------------------------------------------


def accept(
    *, actor: User, demand: Demand, category: DemandCategory | None = None, promised_days: int | None = None
) -> Demand:
    """Classify and set the time-limit plan: the category's statutory limit and the promised one."""
    category = category or demand.category
    promised = category.promised_days if promised_days is None else promised_days
    if promised > category.statutory_days:
        raise ActionError(
            _("承诺时限不能长于法定时限（%(days)s 个工作日）。") % {"days": category.statutory_days},
            fields={"promised_days": [_("不能大于 %(days)s。") % {"days": category.statutory_days}]},
        )
    if demand.urgency == Demand.Urgency.EMERGENCY:
        promised = 0
    with transaction.atomic():
        before = demand.status
        demand = _move(
            demand,
            {S.SUBMITTED},
            {
                "status": S.ACCEPTED,
                "category": category,
                "statutory_days": category.statutory_days,
                "promised_days": promised,
            },
        )
        _event(
            demand,
            DemandEvent.Kind.ACCEPTED,
            actor=actor,
            before=before,
            category=category.name,
            promised_days=promised,
        )
    return demand


def dispatch(
    *, actor: User, demand: Demand, lead: Department, co: list[Department] | None = None, note: str = ""
) -> Demand:
    co = [d for d in (co or []) if d.pk != lead.pk]
    with transaction.atomic():
        before = demand.status
        demand = _move(
            demand,
            {S.ACCEPTED, S.RETURNED},
            {"status": S.DISPATCHED, "lead_department": lead, "dispatched_at": timezone.now()},
        )
        demand.co_departments.set(co)
        _event(
            demand,
            DemandEvent.Kind.DISPATCHED,
            actor=actor,
            before=before,
            text=note,
            lead=lead.name,
            co=[d.name for d in co],
        )
        _tell(
            _department_staff(lead),
            demand,
            f"dispatched-{demand.version}",
            _("新工单待签收：%(title)s") % {"title": demand.title},
            demand.organization.name,
        )
    return demand


def review(*, actor: User, demand: Demand, passed: bool, note: str = "") -> Demand:
    """The centre checks the department's answer: passed → follow-up call; failed → redo."""
    with transaction.atomic():
        before = demand.status
        if passed:
            demand = _move(demand, {S.COMPLETED}, {"status": S.FOLLOW_UP})
            _event(demand, DemandEvent.Kind.REVIEWED, actor=actor, before=before, text=note, passed=True)
            _tell(
                _enterprise_users(demand),
                demand,
                "follow-up",
                _("您的诉求已办结，请评价：%(title)s") % {"title": demand.title},
            )
        else:
            demand = _reopen(
                demand, actor=actor, reason=_reason(note, "note"), expected={S.COMPLETED}, kind="review"
            )
    return demand


def decide_extension(*, actor: User, demand: Demand, approve: bool, note: str = "") -> Demand:
    if not demand.extension_requested_days:
        raise ActionError(_("该工单没有待审批的延期申请。"), code="no_extension")
    with transaction.atomic():
        current = Demand.objects.select_for_update().get(pk=demand.pk)
        days = current.extension_requested_days or 0
        changes: dict[str, Any] = {"extension_requested_days": None}
        if approve:
            deadline, provisional = add_working_days(current.deadline, days, calendar_overrides())
            changes.update(
                deadline=deadline,
                deadline_provisional=provisional,
                extension_days=current.extension_days + days,
                ladder=Demand.Ladder.NONE,
            )
        demand = _move(current, {S.HANDLING, S.AWAITING_INFO}, changes)
        _event(
            demand,
            DemandEvent.Kind.EXTENSION_DECIDED,
            actor=actor,
            text=note,
            approved=approve,
            days=days,
            deadline=demand.deadline,
        )
        _tell(
            _department_staff(demand.lead_department),
            demand,
            f"ext-{demand.version}",
            (_("延期已批准：%(title)s") if approve else _("延期未获批准：%(title)s"))
            % {"title": demand.title},
            _("办理期限：%(date)s") % {"date": demand.deadline},
        )
    return demand


# The lead department: sign, return, documents, extension, complete ---------------------------------


def sign(*, actor: User, demand: Demand, now: dt.datetime | None = None) -> Demand:
    """Signing for the order starts the handling clock: the deadline is the promised number of
    working days after today (the same day for an emergency)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    overrides = calendar_overrides()
    deadline, provisional = add_working_days(today, demand.promised_days or 0, overrides)
    statutory, provisional2 = add_working_days(today, demand.statutory_days or 0, overrides)
    with transaction.atomic():
        before = demand.status
        demand = _move(
            demand,
            {S.DISPATCHED},
            {
                "status": S.HANDLING,
                "signed_at": now,
                "signed_by": actor,
                "deadline": deadline,
                "statutory_deadline": statutory,
                "deadline_provisional": provisional,
                "statutory_provisional": provisional2,
                "ladder": Demand.Ladder.NONE,
            },
        )
        _event(
            demand,
            DemandEvent.Kind.SIGNED,
            actor=actor,
            before=before,
            at=now,
            deadline=deadline,
            provisional=demand.deadline_provisional,
            statutory_deadline=statutory,
            statutory_provisional=demand.statutory_provisional,
        )
        _tell(
            _enterprise_users(demand),
            demand,
            "signed",
            _("诉求已由%(dept)s签收办理") % {"dept": demand.lead_department.name},
        )
    return demand


def return_demand(*, actor: User, demand: Demand, reason: str) -> Demand:
    """Not ours: back to the centre with a reason, to be dispatched again."""
    reason = _reason(reason)
    with transaction.atomic():
        before = demand.status
        demand = _move(demand, {S.DISPATCHED}, {"status": S.RETURNED, "return_count": F("return_count") + 1})
        _event(
            demand,
            DemandEvent.Kind.RETURNED,
            actor=actor,
            before=before,
            text=reason,
            department=actor.department.name if actor.department_id else "",
        )
        _tell(
            _dispatchers(),
            demand,
            f"returned-{demand.version}",
            _("工单被退回：%(title)s") % {"title": demand.title},
            reason,
        )
    return demand


def request_info(*, actor: User, demand: Demand, what: str, now: dt.datetime | None = None) -> Demand:
    """Ask the enterprise for documents: the clock stops until they are supplied."""
    what = _reason(what, "what")
    with transaction.atomic():
        before = demand.status
        demand = _move(demand, {S.HANDLING}, {"status": S.AWAITING_INFO, "paused_at": now or timezone.now()})
        _event(demand, DemandEvent.Kind.INFO_REQUESTED, actor=actor, before=before, text=what)
        _tell(
            _enterprise_users(demand),
            demand,
            f"info-{demand.version}",
            _("请补充材料：%(title)s") % {"title": demand.title},
            what,
        )
    return demand


def supply_info(
    *,
    actor: User,
    demand: Demand,
    text: str,
    attachments: list[Any] | None = None,
    now: dt.datetime | None = None,
) -> Demand:
    """The enterprise answers (with files if asked for them): the clock runs again and the
    deadline moves by the working days it stood still."""
    text = _reason(text, "text")
    uploads = check_attachments(list(attachments or []))
    now = now or timezone.now()
    with transaction.atomic():
        current = Demand.objects.select_for_update().get(pk=demand.pk)
        overrides = calendar_overrides()
        paused_days = 0
        deadline, provisional = current.deadline, current.deadline_provisional
        if current.paused_at is not None and current.deadline is not None:
            paused_days = working_days_between(
                timezone.localdate(current.paused_at), timezone.localdate(now), overrides
            )
            if paused_days:
                deadline, provisional = add_working_days(current.deadline, paused_days, overrides)
        before = current.status
        demand = _move(
            current,
            {S.AWAITING_INFO},
            {
                "status": S.HANDLING,
                "paused_at": None,
                "deadline": deadline,
                "deadline_provisional": provisional,
            },
        )
        _event(
            demand,
            DemandEvent.Kind.INFO_SUPPLIED,
            actor=actor,
            before=before,
            text=text,
            paused_days=paused_days,
            deadline=deadline,
        )
        _attach(demand, uploads, actor)
        _tell(
            _department_staff(demand.lead_department),
            demand,
            f"supplied-{demand.version}",
            _("企业已补充材料：%(title)s") % {"title": demand.title},
            text[:200],
        )
    return demand


def request_extension(
    *, actor: User, demand: Demand, days: int, reason: str, today: dt.date | None = None
) -> Demand:
    """Asked before the deadline, never after."""
    reason = _reason(reason)
    today = today or timezone.localdate()
    if demand.deadline is None or today > demand.deadline:
        raise ActionError(
            _("已超过办理期限，不能再申请延期。"), code="too_late", fields={"days": [_("须在期限前申请。")]}
        )
    if not 1 <= days <= 30:
        raise ActionError(_("延期天数为 1–30 个工作日。"), fields={"days": [_("1–30 个工作日。")]})
    if demand.extension_requested_days:
        raise ActionError(_("已有一个延期申请待审批。"), code="pending_extension")
    with transaction.atomic():
        demand = _move(
            demand,
            {S.HANDLING, S.AWAITING_INFO},
            {"extension_requested_days": days, "extension_reason": reason[:200]},
        )
        _event(demand, DemandEvent.Kind.EXTENSION_REQUESTED, actor=actor, text=reason, days=days)
        _tell(
            _dispatchers(),
            demand,
            f"ext-req-{demand.version}",
            _("延期申请待审批：%(title)s") % {"title": demand.title},
            reason,
        )
    return demand


def complete(*, actor: User, demand: Demand, resolution: str, now: dt.datetime | None = None) -> Demand:
    resolution = _reason(resolution, "resolution")
    now = now or timezone.now()
    on_time = demand.deadline is None or timezone.localdate(now) <= demand.deadline
    with transaction.atomic():
        before = demand.status
        demand = _move(
            demand,
            {S.HANDLING},
            {
                "status": S.COMPLETED,
                "completed_at": now,
                "completed_on_time": on_time,
                "resolution": resolution,
            },
        )
        _event(
            demand, DemandEvent.Kind.COMPLETED, actor=actor, before=before, text=resolution, on_time=on_time
        )
        _tell(
            _dispatchers(),
            demand,
            f"completed-{demand.version}",
            _("工单已办结待审核：%(title)s") % {"title": demand.title},
        )
    return demand


# The enterprise: rate ------------------------------------------------------------------------------


def rate(
    *, actor: User, demand: Demand, rating: str, comment: str = "", now: dt.datetime | None = None
) -> Demand:
    """The follow-up: satisfied or basically satisfied archives the order; unsatisfied reopens
    it, counted as a redo."""
    if rating not in Demand.Rating.values:
        raise ActionError(_("请选择评价。"), fields={"rating": [_("请选择满意、基本满意或不满意。")]})
    now = now or timezone.now()
    with transaction.atomic():
        before = demand.status
        if rating == Demand.Rating.UNSATISFIED:
            if not comment.strip():
                raise ActionError(_("不满意时请说明原因，以便重办。"), fields={"comment": [_("必填。")]})
            demand = _reopen(
                demand,
                actor=actor,
                reason=comment.strip(),
                expected={S.FOLLOW_UP},
                kind="rating",
                extra={"rating": rating, "rating_comment": comment.strip()[:300], "rated_at": now},
            )
        else:
            demand = _move(
                demand,
                {S.FOLLOW_UP},
                {
                    "status": S.ARCHIVED,
                    "rating": rating,
                    "rating_comment": comment.strip()[:300],
                    "rated_at": now,
                },
            )
            _event(
                demand,
                DemandEvent.Kind.RATED,
                actor=actor,
                before=before,
                text=comment.strip(),
                rating=rating,
            )
    return demand


def _reopen(
    demand: Demand,
    *,
    actor: User,
    reason: str,
    expected: set[str],
    kind: str,
    extra: dict[str, Any] | None = None,
) -> Demand:
    """Back to the lead department for a redo, with a fresh promised limit from today."""
    overrides = calendar_overrides()
    deadline, provisional = add_working_days(timezone.localdate(), demand.promised_days or 0, overrides)
    before = demand.status
    demand = _move(
        demand,
        expected,
        {
            "status": S.HANDLING,
            "redo_count": F("redo_count") + 1,
            "deadline": deadline,
            "deadline_provisional": provisional,
            "completed_at": None,
            "completed_on_time": None,
            "ladder": Demand.Ladder.NONE,
            **(extra or {}),
        },
    )
    _event(
        demand, DemandEvent.Kind.REOPENED, actor=actor, before=before, text=reason, by=kind, deadline=deadline
    )
    _tell(
        _department_staff(demand.lead_department),
        demand,
        f"reopened-{demand.version}",
        _("工单需重办：%(title)s") % {"title": demand.title},
        reason,
    )
    return demand


# Leaders -------------------------------------------------------------------------------------------


def supervise(*, actor: User, demand: Demand, note: str) -> Demand:
    note = _reason(note, "note")
    with transaction.atomic():
        Demand.objects.filter(pk=demand.pk).update(
            supervised_at=timezone.now(),
            supervised_by=actor,
            supervision_note=note[:300],
            updated_at=timezone.now(),
        )
        demand.refresh_from_db()
        _event(demand, DemandEvent.Kind.SUPERVISED, actor=actor, text=note)
        department = demand.lead_department
        recipients = (
            _department_staff(department)
            + ([department.head] if department and department.head else [])
            + _dispatchers()
        )
        _tell(
            recipients,
            demand,
            f"supervised-{demand.supervised_at.timestamp():.0f}",
            _("领导督办：%(title)s") % {"title": demand.title},
            note,
        )
    return demand


# The escalation ladder ----------------------------------------------------------------------------


RUNG_COUNTERS = {1: "warned", 2: "urged", 3: "noticed", 4: "reported"}


@dataclass
class LadderReport:
    warned: int = 0
    urged: int = 0
    noticed: int = 0
    reported: int = 0

    def __str__(self) -> str:
        return f"demands: {self.warned} warned, {self.urged} urged, {self.noticed} notices, {self.reported} reported"


def climb_ladder(*, today: dt.date | None = None) -> LadderReport:
    """Warn a working day before the deadline, 催办 on it, 催办通知书 to the department head the
    next working day, 通报 when REPORT_AFTER_DAYS working days overdue. Each rung is claimed
    with a conditional update, so several workers running this at once send each notice once."""
    today = today or timezone.localdate()
    overrides = calendar_overrides()
    report = LadderReport()
    for demand in Demand.objects.on_the_clock().select_related("lead_department__head", "organization"):
        if today <= demand.deadline:
            left = working_days_between(today, demand.deadline, overrides)
            rung = (
                Demand.Ladder.URGED
                if left == 0
                else (Demand.Ladder.WARNED if left == 1 else Demand.Ladder.NONE)
            )
        else:
            late = working_days_between(demand.deadline, today, overrides)
            rung = Demand.Ladder.REPORTED if late >= REPORT_AFTER_DAYS else Demand.Ladder.NOTICE
        if rung == Demand.Ladder.NONE:
            continue
        claimed = Demand.objects.filter(pk=demand.pk, status=S.HANDLING, ladder__lt=rung).update(ladder=rung)
        if not claimed:
            continue
        demand.ladder = rung
        _event(
            demand,
            DemandEvent.Kind.ESCALATED,
            actor=None,
            text=Demand.Ladder(rung).label,
            rung=int(rung),
            deadline=demand.deadline,
        )
        staff = _department_staff(demand.lead_department)
        head = [demand.lead_department.head] if demand.lead_department and demand.lead_department.head else []
        title = {
            Demand.Ladder.WARNED: _("工单明日到期：%(title)s"),
            Demand.Ladder.URGED: _("催办：工单今日到期：%(title)s"),
            Demand.Ladder.NOTICE: _("催办通知书：工单已逾期：%(title)s"),
            Demand.Ladder.REPORTED: _("通报：工单逾期 %(days)s 个工作日以上：%(title)s"),
        }[rung] % {"title": demand.title, "days": REPORT_AFTER_DAYS}
        recipients = {
            Demand.Ladder.WARNED: staff,
            Demand.Ladder.URGED: staff + _dispatchers(),
            Demand.Ladder.NOTICE: (head or staff) + _dispatchers(),
            Demand.Ladder.REPORTED: head
            + staff
            + _dispatchers()
            + list(User.objects.filter(is_active=True, role=User.Role.LEADER)),
        }[rung]
        _tell(
            recipients,
            demand,
            f"ladder-{int(rung)}-{demand.deadline}",
            title,
            _("办理期限：%(date)s") % {"date": demand.deadline},
        )
        counter = RUNG_COUNTERS[int(rung)]
        setattr(report, counter, getattr(report, counter) + 1)
    return report
