"""Monthly direct reporting: filing a report (hard checks refuse, soft checks ask for an
explanation), the revision history, publishing a period (figures frozen with who published
them), fixing the year's 规上工业 set, and reminding the enterprises that have not reported."""

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
from yimatong.lib.errors import ActionError
from yimatong.notifications.actions import notify_many
from yimatong.notifications.models import Notification
from yimatong.stats import checks
from yimatong.stats.models import (
    FIRST_MONTH,
    FLOWS,
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


@transaction.atomic
def fix_above_scale(*, year: int, actor: User | None = None, force: bool = False) -> int:
    """Fix the 规上工业 set of ``year`` from the previous year's December revenue (industrial
    enterprises at or above the year's threshold). Without any December report of the previous
    year, the enterprises marked 规上 in the directory are taken. Fixed once; ``force`` refixes."""
    rules = ReportingRules.for_year(year)
    if rules.pk is None:
        try:
            with transaction.atomic():
                rules.save()
        except IntegrityError:  # another worker set the year up at the same moment
            pass
    rules = ReportingRules.objects.select_for_update().get(year=year)
    if rules.above_scale_fixed_at is not None and not force:
        return AboveScaleMember.objects.filter(year=year).count()
    AboveScaleMember.objects.filter(year=year).delete()
    december = MonthlyReport.objects.filter(year=year - 1, month=12).select_related("organization__industry")
    members: list[AboveScaleMember] = []
    if december.exists():
        for report in december:
            if is_industrial(report.organization) and (report.revenue_cum or 0) >= rules.above_scale_revenue:
                members.append(
                    AboveScaleMember(
                        year=year, organization=report.organization, revenue_last_year=report.revenue_cum
                    )
                )
    else:
        members = [
            AboveScaleMember(year=year, organization=org)
            for org in Organization.objects.filter(org_type=Organization.Type.RESIDENT, is_above_scale=True)
        ]
    AboveScaleMember.objects.bulk_create(members)
    rules.above_scale_fixed_at = timezone.now()
    rules.save(update_fields=["above_scale_fixed_at", "updated_at"])
    return len(members)


# Who must report, and reminders -------------------------------------------------------------------


def expected_reporters(year: int, month: int) -> Any:
    """The enterprises a period expects a report from: this year's 规上工业 set, and every
    enterprise that reported in the year before this period (an active reporter)."""
    members = AboveScaleMember.objects.filter(year=year).values("organization_id")
    active = MonthlyReport.objects.filter(year=year, month__lt=month).values("organization_id")
    if month == FIRST_MONTH:
        active = MonthlyReport.objects.filter(year=year - 1, month=12).values("organization_id")
    return Organization.objects.filter(org_type=Organization.Type.RESIDENT).filter(
        Q(pk__in=members) | Q(pk__in=active)
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
