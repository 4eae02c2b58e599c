"""Monthly direct reporting: filing a report (hard checks refuse, soft checks ask for an
explanation), the revision history, publishing a period (figures frozen with who published
them), the year's 规上工业 set (fixed once last December's reports are in, then entrants and
exits from a month on), and reminding the enterprises that have not reported."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from yimatong.accounts import access, audit
from yimatong.accounts.models import User
from yimatong.directory.models import Organization
from yimatong.lib.errors import ActionError, Conflict, StaleObject
from yimatong.notifications.actions import notify_many
from yimatong.notifications.models import Notification
from yimatong.stats import checks
from yimatong.stats.models import (
    FIRST_MONTH,
    FLOWS,
    AboveScaleEvent,
    AboveScaleMember,
    InvestmentLine,
    MonthlyReport,
    Period,
    ReportingRules,
    ReportRevision,
    period_label,
)

VALUE_FIELDS = [f"{prefix}_{kind}" for prefix, *_rest in FLOWS for kind in ("month", "cum")] + ["employees"]
LINE_FIELDS = ("planned_total", "month_amount", "cumulative", "industrial_month", "industrial_cumulative")


class NeedsExplanation(ActionError):
    """Soft checks tripped without an explanation: nothing was stored; ``warnings`` says which."""

    code = "needs_explanation"

    def __init__(self, warnings: list[checks.Warning]):
        super().__init__(
            _("有 %(n)s 项数据需要说明情况后才能报送。") % {"n": len(warnings)},
            fields={"explanations": [w.message for w in warnings]},
        )
        self.warnings = warnings


def is_industrial(org: Organization) -> bool:
    """工业 (GB/T 4754 门类 B–D: codes 06–46): mining, manufacturing, utilities."""
    code = org.industry.code if org.industry_id else ""
    return len(code) >= 2 and code[:2].isdigit() and 6 <= int(code[:2]) <= 46


def segment_of(org: Organization) -> str:
    """The 1+3+N segment (top-level chain node) the enterprise reports under."""
    node = org.chain_node if org.chain_node_id else None
    while node is not None and node.parent_id:
        node = node.parent
    return node.code if node is not None else ""


def _check_period(year: int, month: int) -> None:
    if month == 1:
        raise ActionError(
            _("1 月免报：第一期为 1–2 月，请选择 2 月。"),
            fields={"month": [_("1 月免报，第一期为 1–2 月。")]},
        )
    if not FIRST_MONTH <= month <= 12 or not 2000 <= year <= 2100:
        raise ActionError(_("报告期无效。"), fields={"month": [_("月份应为 2–12（2 表示 1–2 月）。")]})


def _line_values(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "name": line["name"].strip(),
            "project": line.get("project").pk if line.get("project") else None,
            **{k: str(line.get(k) if line.get(k) is not None else Decimal(0)) for k in LINE_FIELDS},
        }
        for line in lines
    ]


def snapshot(report: MonthlyReport, lines: list[InvestmentLine] | None = None) -> dict[str, Any]:
    """A report's figures as JSON (the revision history and the published figures); ``lines``
    when the caller holds them already (a bulk load), else the report's own."""
    values = {
        name: (None if getattr(report, name) is None else str(getattr(report, name))) for name in VALUE_FIELDS
    }
    values["lines"] = [
        {"name": line.name, "project": line.project_id, **{k: str(getattr(line, k)) for k in LINE_FIELDS}}
        for line in (report.lines.all() if lines is None else lines)
    ]
    values["segment"] = report.segment
    return values


@transaction.atomic
def submit_report(
    *,
    actor: User,
    organization: Organization,
    year: int,
    month: int,
    data: dict[str, Any],
    explanations: dict[str, str] | None = None,
    source: str = "form",
    auto_explanation: str = "",
    today: dt.date | None = None,
) -> MonthlyReport:
    """File or correct a report. Hard errors refuse it (ActionError naming the fields); soft
    warnings without an explanation refuse it too (NeedsExplanation); otherwise it is stored
    as a new revision with its warnings and explanations. ``auto_explanation`` explains every
    warning not explained otherwise (a bulk import by the statistics office)."""
    _check_period(year, month)
    if access.role_of(actor) == User.Role.ENTERPRISE and actor.organization_id != organization.pk:
        raise ActionError(_("只能报送本企业的报表。"), code="forbidden")
    if not access.can_file_report(actor):
        raise ActionError(_("您没有报送统计报表的权限。"), code="forbidden")
    explanations = {k: v.strip() for k, v in (explanations or {}).items() if v and v.strip()}
    today = today or timezone.localdate()
    rules = ReportingRules.for_year(year)
    industrial = is_industrial(organization)
    report = (
        MonthlyReport.objects.select_for_update()
        .filter(organization=organization, year=year, month=month)
        .first()
    )
    previous = (
        MonthlyReport.objects.filter(organization=organization, year=year, month=month - 1).first()
        if month > FIRST_MONTH
        else None
    )
    previous_lines = {line.name: line for line in previous.lines.all()} if previous is not None else {}
    lines = [
        line
        for line in data.get("lines") or []
        if (line.get("name") or "").strip() or any(line.get(k) for k in LINE_FIELDS)
    ]
    errors = checks.hard_errors(
        {**data, "lines": lines},
        month=month,
        industrial=industrial,
        previous=previous,
        previous_lines=previous_lines,
        rules=rules,
    )
    if errors:
        raise ActionError(_("报表有误，未保存：请按提示修改。"), fields=errors)
    last_year = MonthlyReport.objects.filter(organization=organization, year=year - 1, month=month).first()
    warnings = checks.soft_warnings(
        data,
        year=year,
        month=month,
        industrial=industrial,
        previous=previous,
        last_year=last_year,
        rules=rules,
        today=today,
    )
    if auto_explanation:
        explanations = {w.code: explanations.get(w.code) or auto_explanation for w in warnings}
    unexplained = [w for w in warnings if len(explanations.get(w.code, "")) < 2]
    if unexplained:
        raise NeedsExplanation(unexplained)
    after_deadline = any(w.code == "late" for w in warnings)
    if report is None:
        report = MonthlyReport(organization=organization, year=year, month=month, revision=0)
        before = None
    else:
        before = audit.snapshot(report)
    for name in VALUE_FIELDS:
        setattr(report, name, data.get(name))
    report.segment = segment_of(organization)
    report.revision += 1
    report.explanations = {w.code: explanations[w.code] for w in warnings}
    report.submitted_by = actor
    report.submitted_at = timezone.now()
    if report.status == MonthlyReport.Status.PUBLISHED:
        report.status = MonthlyReport.Status.REVISED  # the published figure stays until republished
    report.save()
    report.lines.all().delete()
    InvestmentLine.objects.bulk_create(
        [
            InvestmentLine(
                report=report,
                project=line.get("project"),
                name=line["name"].strip(),
                **{k: line.get(k) if line.get(k) is not None else Decimal(0) for k in LINE_FIELDS},
            )
            for line in lines
        ]
    )
    ReportRevision.objects.create(
        report=report,
        number=report.revision,
        values=snapshot(report),
        warnings=[{"code": w.code, "field": w.field, "message": w.message} for w in warnings],
        explanations=report.explanations,
        after_deadline=after_deadline,
        source=source,
        submitted_by=actor,
    )
    if before is None:
        audit.log_create(report, actor=actor)
    else:
        audit.log_change(report, before, actor=actor)
    return report


@transaction.atomic
def publish_period(*, actor: User, year: int, month: int) -> int:
    """Freeze each report of the period as published, with who published it; returns how many.
    Reports corrected after an earlier publication are published again with their new figures."""
    if not access.is_statistics_officer(actor):
        raise ActionError(_("只有统计部门可以发布数据。"), code="forbidden")
    _check_period(year, month)
    _rules_for_update(year)  # one at a time with the changes of the year's 规上 set
    period, _created = Period.objects.select_for_update().get_or_create(year=year, month=month)
    now = timezone.now()
    published = 0
    reports = (
        MonthlyReport.objects.select_for_update()
        .filter(year=year, month=month)
        .exclude(status=MonthlyReport.Status.PUBLISHED)
        .prefetch_related("lines")
    )
    for report in reports:
        report.published_values = snapshot(report)
        report.published_at = now
        report.published_by = actor
        report.status = MonthlyReport.Status.PUBLISHED
        report.save(
            update_fields=["published_values", "published_at", "published_by", "status", "updated_at"]
        )
        published += 1
    before = audit.snapshot(period)
    period.published_at, period.published_by = now, actor
    period.save()
    audit.log_change(period, before, actor=actor)
    return published


# The year's 规上工业 set ----------------------------------------------------------------------------


def _rules_for_update(year: int) -> ReportingRules:
    """The year's rules row, created with the inherited rules when nobody set the year up, and
    locked: publication and every change of the year's set take it, so that they run one at a
    time (a set change never slips in beside a period being published)."""
    rules = ReportingRules.for_year(year)
    if rules.pk is None:
        try:
            with transaction.atomic():
                rules.save()
        except IntegrityError:  # another worker set the year up at the same moment
            pass
    return ReportingRules.objects.select_for_update().get(year=year)


def set_is_due(year: int, today: dt.date) -> bool:
    """Last year's December reports are in once their deadline (the year's ``deadline_day`` of
    January) has passed: the year's set is fixed then, not on the first sweep of January."""
    return today > checks.deadline(year - 1, 12, ReportingRules.for_year(year - 1))


def _annual_list(year: int, rules: ReportingRules) -> dict[int, Decimal | None]:
    """Industrial residents whose last December 营业收入 (1–12月) reached the year's threshold,
    with that revenue; without any December report, the enterprises marked 规上 in the directory."""
    december = MonthlyReport.objects.filter(year=year - 1, month=12).select_related("organization__industry")
    if december.exists():
        return {
            report.organization_id: report.revenue_cum
            for report in december
            if is_industrial(report.organization) and (report.revenue_cum or 0) >= rules.above_scale_revenue
        }
    return dict.fromkeys(
        Organization.objects.filter(org_type=Organization.Type.RESIDENT, is_above_scale=True).values_list(
            "pk", flat=True
        )
    )


def _apply_annual_list(year: int, listed: dict[int, Decimal | None]) -> dict[str, list[int]]:
    """Make the year's annual members exactly ``listed``: an annual member no longer listed is
    taken out, a listed entrant becomes an annual member from the first period (the list comes
    first), and the entrants not listed stay as they were entered."""
    existing = {m.organization_id: m for m in AboveScaleMember.objects.select_for_update().filter(year=year)}
    added, removed = [], []
    for org_id, member in existing.items():
        if member.basis == AboveScaleMember.Basis.ANNUAL and org_id not in listed:
            member.delete()
            removed.append(org_id)
    new = []
    for org_id, revenue in listed.items():
        member = existing.get(org_id)
        if member is None:
            new.append(AboveScaleMember(year=year, organization_id=org_id, revenue_last_year=revenue))
            added.append(org_id)
        elif (member.basis, member.from_month, member.revenue_last_year) != (
            AboveScaleMember.Basis.ANNUAL,
            FIRST_MONTH,
            revenue,
        ):
            member.basis, member.from_month, member.revenue_last_year = (
                AboveScaleMember.Basis.ANNUAL,
                FIRST_MONTH,
                revenue,
            )
            member.save()
    AboveScaleMember.objects.bulk_create(new)
    return {"added": sorted(added), "removed": sorted(removed)}


def _set_event(
    kind: str,
    *,
    year: int,
    actor: User | None,
    organization: Organization | None = None,
    month: int | None = None,
    reason: str = "",
    **data: Any,
) -> AboveScaleEvent:
    return AboveScaleEvent.objects.create(
        year=year,
        kind=kind,
        organization=organization,
        month=month,
        reason=reason[:200],
        data=data,
        actor=actor if actor is not None and actor.pk else None,
    )


@transaction.atomic
def fix_above_scale(*, year: int, actor: User | None = None, force: bool = False, reason: str = "") -> int:
    """Fix the 规上工业 set of ``year`` from the previous year's December revenue (industrial
    enterprises at or above the year's threshold); returns the set's size. Fixed once; ``force``
    fixes it again (``refix_above_scale`` is the statistics office's way, with its checks)."""
    rules = _rules_for_update(year)
    if rules.above_scale_fixed_at is not None and not force:
        return AboveScaleMember.objects.filter(year=year).count()
    kind = AboveScaleEvent.Kind.REFIXED if rules.above_scale_fixed_at else AboveScaleEvent.Kind.FIXED
    listed = _annual_list(year, rules)
    changes = _apply_annual_list(year, listed)
    before = audit.snapshot(rules)
    rules.above_scale_fixed_at = timezone.now()
    rules.save(update_fields=["above_scale_fixed_at", "updated_at"])
    audit.log_change(rules, before, actor=actor)
    count = AboveScaleMember.objects.filter(year=year).count()
    _set_event(kind, year=year, actor=actor, reason=reason, members=count, **changes)
    return count


def fix_above_scale_when_due(*, today: dt.date | None = None) -> int | None:
    """The sweep's step: fix this year's set once last December's deadline has passed; None
    before that (the set is not fixed on the first sweep of January)."""
    today = today or timezone.localdate()
    if not set_is_due(today.year, today):
        return None
    return fix_above_scale(year=today.year)


def _refuse_unless_officer(actor: User) -> None:
    if not access.is_statistics_officer(actor):
        raise ActionError(_("只有统计部门可以调整规上工业名录。"), code="forbidden")


def _refuse_published_from(year: int, month: int) -> None:
    """A published period's figures were counted over its set: the set changes only from a
    period not yet published."""
    published = (
        Period.objects.filter(year=year, month__gte=month, published_at__isnull=False)
        .order_by("month")
        .values_list("month", flat=True)
        .first()
    )
    if published is not None:
        message = _("%(period)s数据已发布，名录只能从未发布的报告期起变动。") % {
            "period": period_label(year, published)
        }
        raise ActionError(message, fields={"month": [message]})


def _reason(text: str, field: str = "reason") -> str:
    text = (text or "").strip()
    if len(text) < 2:
        raise ActionError(_("请说明原因。"), fields={field: [_("请填写原因（至少 2 个字）。")]})
    return text[:200]


def refix_above_scale(*, actor: User, year: int, reason: str) -> int:
    """The statistics office fixes the year's set again (a late or corrected December report),
    with a reason, while the year's first period (1–2月) is unpublished; entrants stay."""
    _refuse_unless_officer(actor)
    reason = _reason(reason)
    with transaction.atomic():
        _rules_for_update(year)
        if Period.objects.filter(year=year, month=FIRST_MONTH, published_at__isnull=False).exists():
            raise ActionError(
                _("%(period)s数据已发布，年度名录不能再重新确定；年内变动请用新增入库或退库。")
                % {"period": period_label(year, FIRST_MONTH)},
                code="published",
            )
        return fix_above_scale(year=year, actor=actor, force=True, reason=reason)


def join_above_scale(
    *,
    actor: User,
    year: int,
    organization: Organization,
    month: int,
    basis: str,
    note: str,
) -> AboveScaleMember:
    """新增入库: an enterprise founded this year (``NEW``) or newly at the threshold (``GROWN``)
    counts in the set from ``month`` on. Its comparable base is its own last-year reports where
    it filed them and 0 where it did not exist (the formulas read the reports)."""
    _refuse_unless_officer(actor)
    _check_period(year, month)
    if basis not in (AboveScaleMember.Basis.NEW, AboveScaleMember.Basis.GROWN):
        raise ActionError(_("请选择入库方式。"), fields={"basis": [_("新建投产或达到规模标准。")]})
    note = _reason(note, "note")
    if organization.org_type != Organization.Type.RESIDENT or not is_industrial(organization):
        message = _("只有入驻的工业企业（国民经济行业代码 06–46）可以进入规上工业名录。")
        raise ActionError(message, fields={"organization": [message]})
    founded = organization.registered_on
    if basis == AboveScaleMember.Basis.NEW and founded is not None and founded.year != year:
        message = _("该企业成立于 %(date)s，不是本年新建；已有的企业达到标准请选“达到规模标准入库”。") % {
            "date": founded.isoformat()
        }
        raise ActionError(message, fields={"basis": [message]})
    with transaction.atomic():
        rules = _rules_for_update(year)
        if rules.above_scale_fixed_at is None:
            raise ActionError(_("%(year)s年规上工业名录尚未确定。") % {"year": year}, code="not_fixed")
        current = AboveScaleMember.objects.filter(year=year, organization=organization).first()
        if current is not None:
            message = (
                _("该企业已在%(year)s年名录中。") % {"year": year}
                if current.left_month is None
                else _("该企业已于 %(month)s 月退库，本年不能再次入库。") % {"month": current.left_month}
            )
            raise ActionError(message, fields={"organization": [message]})
        _refuse_published_from(year, month)
        december = MonthlyReport.objects.filter(organization=organization, year=year - 1, month=12).first()
        try:
            with transaction.atomic():
                member = AboveScaleMember.objects.create(
                    year=year,
                    organization=organization,
                    basis=basis,
                    from_month=month,
                    note=note,
                    revenue_last_year=december.revenue_cum if december is not None else None,
                )
        except IntegrityError as exc:  # entered by someone else at the same moment
            raise Conflict(_("该企业刚被他人加入名录。")) from exc
        audit.log_create(member, actor=actor)
        _set_event(
            AboveScaleEvent.Kind.JOINED,
            year=year,
            actor=actor,
            organization=organization,
            month=month,
            reason=note,
            basis=basis,
        )
    return member


def leave_above_scale(
    *, actor: User, year: int, organization: Organization, month: int, reason: str, note: str = ""
) -> AboveScaleMember:
    """退库: the enterprise is out of the set, and so out of the comparable base, from ``month``
    on; the periods before it still count it."""
    _refuse_unless_officer(actor)
    _check_period(year, month)
    if reason not in AboveScaleMember.Exit.values:
        raise ActionError(_("请选择退库原因。"), fields={"reason": [_("请选择退库原因。")]})
    note = (note or "").strip()[:200]
    if reason == AboveScaleMember.Exit.OTHER:
        note = _reason(note, "note")
    with transaction.atomic():
        _rules_for_update(year)
        member = AboveScaleMember.objects.filter(year=year, organization=organization).first()
        if member is None:
            message = _("该企业不在%(year)s年规上工业名录中。") % {"year": year}
            raise ActionError(message, fields={"organization": [message]})
        if member.left_month is not None:
            message = _("该企业已于 %(month)s 月退库。") % {"month": member.left_month}
            raise ActionError(message, fields={"organization": [message]})
        if month <= member.from_month:
            message = _("退库月份应晚于入库月份（%(month)s 月）。") % {"month": member.from_month}
            raise ActionError(message, fields={"month": [message]})
        _refuse_published_from(year, month)
        before = audit.snapshot(member)
        updated = AboveScaleMember.objects.filter(pk=member.pk, left_month__isnull=True).update(
            left_month=month, exit_reason=reason, exit_note=note, updated_at=timezone.now()
        )
        if updated != 1:
            raise StaleObject(str(organization))
        member.refresh_from_db()
        audit.log_change(member, before, actor=actor)
        _set_event(
            AboveScaleEvent.Kind.LEFT,
            year=year,
            actor=actor,
            organization=organization,
            month=month,
            reason=note,
            exit_reason=reason,
        )
    return member


def above_scale_member(pk: int) -> AboveScaleMember:
    return AboveScaleMember.objects.with_base_reports().select_related("organization").get(pk=pk)


def above_scale_overview(year: int) -> dict[str, Any]:
    """The year's set for the console and the API: when it was fixed, whether it may be fixed
    again, its members (entrants and exits with their months) and its history."""
    rules = ReportingRules.objects.filter(year=year).first()
    return {
        "fixed_at": rules.above_scale_fixed_at if rules is not None else None,
        "refixable": not Period.objects.filter(
            year=year, month=FIRST_MONTH, published_at__isnull=False
        ).exists(),
        "members": list(
            AboveScaleMember.objects.filter(year=year)
            .with_base_reports()
            .select_related("organization")
            .order_by("from_month", "organization__name")
        ),
        "events": list(
            AboveScaleEvent.objects.filter(year=year).select_related("organization", "actor")[:200]
        ),
    }


# Who must report, and reminders -------------------------------------------------------------------


def expected_reporters(year: int, month: int) -> Any:
    """The enterprises a period expects a report from: this year's 规上工业 set, and every
    enterprise that reported in the year before this period (an active reporter)."""
    members = AboveScaleMember.objects.filter(year=year).in_force(month).values("organization_id")
    # Closed or moved away: no longer asked for reports.
    gone = AboveScaleMember.objects.filter(
        year=year,
        left_month__lte=month,
        exit_reason__in=[AboveScaleMember.Exit.CLOSED, AboveScaleMember.Exit.MOVED],
    ).values("organization_id")
    active = MonthlyReport.objects.filter(year=year, month__lt=month).values("organization_id")
    if month == FIRST_MONTH:
        active = MonthlyReport.objects.filter(year=year - 1, month=12).values("organization_id")
    return (
        Organization.objects.filter(org_type=Organization.Type.RESIDENT)
        .filter(Q(pk__in=members) | Q(pk__in=active))
        .exclude(pk__in=gone)
    )


def completeness(year: int, month: int) -> list[dict[str, Any]]:
    """Each expected enterprise with its report (or none) for the statistics officer."""
    reports = {r.organization_id: r for r in MonthlyReport.objects.filter(year=year, month=month)}
    rows = []
    for org in expected_reporters(year, month).select_related("chain_node").order_by("name"):
        rows.append({"organization": org, "report": reports.pop(org.pk, None)})
    for report in reports.values():  # reported without being expected (a new reporter)
        rows.append({"organization": report.organization, "report": report})
    return rows


@dataclass
class ReminderReport:
    reminded: int = 0
    wechat: int = 0


def remind_missing(*, today: dt.date | None = None) -> ReminderReport:
    """Three days before a period's deadline and on the day: the enterprises expected to report
    that have not are told in the console and by WeChat template — once per period and rung."""
    from yimatong.wechat.actions import tell_enterprise_report_due
    from yimatong.wechat.models import Follower

    today = today or timezone.localdate()
    done = ReminderReport()
    for year, month in _open_periods(today):
        rules = ReportingRules.for_year(year)
        due = checks.deadline(year, month, rules)
        if (due - today).days not in (3, 0):
            continue
        rung = "due" if due == today else "soon"
        filed = MonthlyReport.objects.filter(year=year, month=month).values("organization_id")
        missing = list(expected_reporters(year, month).exclude(pk__in=filed))
        users: dict[int, list[User]] = {}
        for user in User.objects.filter(is_active=True, role=User.Role.ENTERPRISE, organization__in=missing):
            users.setdefault(user.organization_id, []).append(user)
        label = period_label(year, month)
        notify_many(
            [
                (
                    users.get(org.pk, []),
                    {
                        "key": f"report-{year}-{month}-{rung}-{org.pk}",
                        "title": _("请于 %(date)s 前报送%(period)s统计报表")
                        % {"date": due.isoformat(), "period": label},
                        "url": f"{reverse('stats:report_new')}?year={year}&month={month}",
                    },
                )
                for org in missing
            ],
            kind=Notification.Kind.STATISTICS,
        )
        done.reminded += len(missing)
        # By template only where a contact of the enterprise follows an account (read once).
        following = set(
            Follower.objects.filter(subscribed=True, contact__organization__in=missing).values_list(
                "contact__organization_id", flat=True
            )
        )
        for org in missing:
            if org.pk in following:
                done.wechat += len(
                    tell_enterprise_report_due(organization_id=org.pk, label=label, due=due, rung=rung)
                )
    return done


def _open_periods(today: dt.date) -> list[tuple[int, int]]:
    """The period that ended last month (the one being reported now)."""
    year, month = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
    if month == 1:  # January is exempt: its figures come with February's
        return []
    return [(year, month)]
