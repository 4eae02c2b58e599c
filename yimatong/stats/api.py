"""Statistics in the JSON API: the park's indicators as the bureau computes them, the monthly
reports (an enterprise its own; the statistics office and leaders all), filing a report with
the same checks as the form, and the weekly 招商活跃指数 feed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from yimatong.accounts import access
from yimatong.accounts.models import User
from yimatong.directory.models import Organization
from yimatong.lib.errors import ActionError
from yimatong.lib.limits import IsoDate, column
from yimatong.stats import actions, compute
from yimatong.stats.cockpit import activity_rows
from yimatong.stats.indicators import INDICATORS
from yimatong.stats.models import AboveScaleMember, MonthlyReport, period_label
from yimatong.stats.panels import segments

router = Router(tags=["statistics"])


class PartOut(Schema):
    key: str
    name: str
    value: Decimal
    base: Decimal
    growth: Decimal | None
    pull: Decimal | None
    contribution: Decimal | None


class IndicatorOut(Schema):
    code: str
    name: str
    unit: str
    value: Decimal
    base: Decimal
    growth: Decimal | None
    monthly_growth: Decimal | None
    two_year_average: Decimal | None
    target_progress: Decimal | None
    time_progress: Decimal | None
    enterprises: int
    entrants: int
    segments: list[PartOut]


class IndicatorsOut(Schema):
    year: int
    month: int
    period: str
    preliminary: bool
    published_at: dt.datetime | None
    indicators: list[IndicatorOut]


@router.get(
    "/stats/indicators",
    response=IndicatorsOut,
    summary="The park's indicators for January–month of a year (comparable-basis growth, per segment)",
    description=(
        "Cumulative value (万元), comparable base (last year's same period over this year's reporting "
        "enterprises) and growth in percent, rounded half up to 0.01, for the park and each 1+3+N "
        "segment (with pull in percentage points and contribution in percent). `month` 2 is "
        "January–February; January alone is refused (exempt). A period not yet published counts "
        "the latest revisions and says `preliminary`."
    ),
)
def indicators(request: HttpRequest, year: int, month: int) -> Any:
    if not access.can_use_cockpit(request.auth):
        raise PermissionDenied
    if month == 1:
        raise ActionError(_("1 月免报：第一期为 1–2 月，请用 month=2。"), fields={"month": [_("1 月免报。")]})
    if not 2 <= month <= 12:
        raise ActionError(_("月份应为 2–12。"), fields={"month": [_("月份应为 2–12。")]})
    computed = compute.compute(year, month)

    names = {node.code: node.name for node in segments()}
    rows = []
    for code, result in computed.results.items():
        indicator = INDICATORS[code]
        rows.append(
            {
                "code": code,
                "name": indicator.name,
                "unit": indicator.unit,
                "value": result.value,
                "base": result.base,
                "growth": result.growth,
                "monthly_growth": result.monthly.growth,
                "two_year_average": result.two_year.average,
                "target_progress": result.progress.progress if result.progress else None,
                "time_progress": result.progress.time_progress if result.progress else None,
                "enterprises": len(result.members),
                "entrants": len(result.entrants),
                "segments": [
                    {
                        "key": key,
                        "name": names.get(key, key),
                        "value": part.value,
                        "base": part.base,
                        "growth": part.growth,
                        "pull": part.pull,
                        "contribution": part.contribution,
                    }
                    for key, part in result.segments.items()
                ],
            }
        )
    return {
        "year": year,
        "month": month,
        "period": period_label(year, month),
        "preliminary": computed.preliminary,
        "published_at": computed.published_at,
        "indicators": rows,
    }


class LineIO(Schema):
    name: str
    planned_total: Decimal
    month_amount: Decimal
    cumulative: Decimal
    industrial_month: Decimal = Decimal(0)
    industrial_cumulative: Decimal = Decimal(0)


class ReportOut(Schema):
    id: int
    organization: str
    uscc: str | None
    year: int
    month: int
    period: str
    status: str
    revision: int
    output_month: Decimal | None
    output_cum: Decimal | None
    revenue_month: Decimal | None
    revenue_cum: Decimal | None
    tax_month: Decimal | None
    tax_cum: Decimal | None
    electricity_month: Decimal | None
    electricity_cum: Decimal | None
    employees: int | None
    lines: list[LineIO]
    explanations: dict[str, str]
    submitted_at: dt.datetime
    published_at: dt.datetime | None


def _out(report: MonthlyReport) -> dict[str, Any]:
    return {
        "id": report.pk,
        "organization": report.organization.name,
        "uscc": report.organization.uscc,
        "year": report.year,
        "month": report.month,
        "period": report.period_label,
        "status": report.status,
        "revision": report.revision,
        **{name: getattr(report, name) for name in actions.VALUE_FIELDS},
        "lines": [
            {k: getattr(line, k) for k in ("name", *actions.LINE_FIELDS)} for line in report.lines.all()
        ],
        "explanations": report.explanations,
        "submitted_at": report.submitted_at,
        "published_at": report.published_at,
    }


@router.get("/stats/reports", response=list[ReportOut], summary="Monthly reports you may see, for a period")
def list_reports(request: HttpRequest, year: int, month: int | None = None) -> Any:
    qs = MonthlyReport.objects.visible_to(request.auth).filter(year=year)
    if month is not None:
        qs = qs.filter(month=month)
    return [
        _out(r)
        for r in qs.select_related("organization")
        .prefetch_related("lines")
        .order_by("month", "organization")[:2000]
    ]


class ReportIn(Schema):
    organization: str | None = None  # USCC; the statistics office files on an enterprise's behalf
    year: int = column(MonthlyReport, "year")
    month: int = column(MonthlyReport, "month")
    output_month: Decimal | None = column(MonthlyReport, "output_month", None)
    output_cum: Decimal | None = column(MonthlyReport, "output_cum", None)
    revenue_month: Decimal | None = column(MonthlyReport, "revenue_month", None)
    revenue_cum: Decimal | None = column(MonthlyReport, "revenue_cum", None)
    tax_month: Decimal | None = column(MonthlyReport, "tax_month", None)
    tax_cum: Decimal | None = column(MonthlyReport, "tax_cum", None)
    electricity_month: Decimal | None = column(MonthlyReport, "electricity_month", None)
    electricity_cum: Decimal | None = column(MonthlyReport, "electricity_cum", None)
    employees: int | None = column(MonthlyReport, "employees", None)
    lines: list[LineIO] = []
    explanations: dict[str, str] = {}


@router.post(
    "/stats/reports",
    response={201: ReportOut},
    summary="File or correct a monthly report",
    description=(
        "The form's checks: hard errors answer 400 with the fields named; figures that need an "
        "explanation answer 400 `needs_explanation` with the messages under `fields.explanations` "
        "and the codes to explain in `fields.codes`; send them again with `explanations` {code: text}."
    ),
)
def file_report(request: HttpRequest, payload: ReportIn) -> Any:
    user: User = request.auth
    if not access.can_file_report(user):
        raise PermissionDenied
    if access.role_of(user) == User.Role.ENTERPRISE:
        organization = user.organization
    else:
        organization = _resident(payload.organization)
    data = payload.dict(exclude={"organization", "year", "month", "explanations"})
    try:
        report = actions.submit_report(
            actor=user,
            organization=organization,
            year=payload.year,
            month=payload.month,
            data=data,
            explanations=payload.explanations,
            source="api",
        )
    except actions.NeedsExplanation as exc:
        exc.fields["codes"] = [w.code for w in exc.warnings]
        raise
    return Status(201, _out(report))


def _resident(uscc: str | None) -> Organization:
    organization = Organization.objects.filter(
        uscc=(uscc or "").upper(), org_type=Organization.Type.RESIDENT
    ).first()
    if organization is None:
        raise ActionError(
            _("请用统一社会信用代码指明企业。"),
            fields={"organization": [_("没有该统一社会信用代码的入驻企业。")]},
        )
    return organization


# The year's 规上工业 set ------------------------------------------------------------------------


class AboveScaleMemberOut(Schema):
    organization: str
    uscc: str | None
    basis: Literal["annual", "new", "grown"]
    from_month: int
    left_month: int | None
    exit_reason: Literal["", "closed", "moved", "below", "other"]
    note: str
    exit_note: str
    revenue_last_year: Decimal | None
    base_reports: int = Field(
        description="last year's periods the enterprise reported: its base there, 0 elsewhere"
    )
    in_force: bool | None = Field(None, description="counted for January–month (when month is asked)")


class AboveScaleEventOut(Schema):
    kind: Literal["fixed", "refixed", "joined", "left"]
    organization: str | None
    month: int | None
    reason: str
    actor: str | None
    at: dt.datetime


class AboveScaleOut(Schema):
    year: int
    fixed_at: dt.datetime | None
    refixable: bool = Field(
        description="the year's first period (1–2月) is unpublished: the set may be fixed again"
    )
    in_force: int | None = Field(None, description="members counted for January–month (when month is asked)")
    members: list[AboveScaleMemberOut]
    events: list[AboveScaleEventOut]


def _member_out(member: AboveScaleMember, month: int | None = None) -> dict[str, Any]:
    return {
        "organization": member.organization.name,
        "uscc": member.organization.uscc,
        **{
            name: getattr(member, name)
            for name in (
                "basis",
                "from_month",
                "left_month",
                "exit_reason",
                "note",
                "exit_note",
                "revenue_last_year",
            )
        },
        "base_reports": getattr(member, "base_reports", 0),
        "in_force": None if month is None else member.in_force(month),
    }


def above_scale_out(year: int, month: int | None = None) -> dict[str, Any]:
    overview = actions.above_scale_overview(year)
    members = overview["members"]
    return {
        "year": year,
        "fixed_at": overview["fixed_at"],
        "refixable": overview["refixable"],
        "in_force": None if month is None else sum(1 for m in members if m.in_force(month)),
        "members": [_member_out(m, month) for m in members],
        "events": [
            {
                "kind": e.kind,
                "organization": e.organization.name if e.organization_id else None,
                "month": e.month,
                "reason": e.reason,
                "actor": e.actor.display_name if e.actor_id else None,
                "at": e.created_at,
            }
            for e in overview["events"]
        ],
    }


@router.get(
    "/stats/above-scale",
    response=AboveScaleOut,
    summary="The year's 规上工业 set: its members, entrants and exits by month, and its history",
    description=(
        "Fixed once last year's December reports are in; an entrant (新增入库: `new`, founded this "
        "year, or `grown`, newly at the threshold) counts from `from_month`, an exit (退库) no "
        "longer from `left_month`. With `month`, each member says whether it counts for January–month."
    ),
)
def above_scale(request: HttpRequest, year: int, month: int | None = None) -> Any:
    if not access.can_read_statistics(request.auth):
        raise PermissionDenied
    if month is not None and not 2 <= month <= 12:
        raise ActionError(_("月份应为 2–12。"), fields={"month": [_("月份应为 2–12。")]})
    return above_scale_out(year, month)


class EntrantIn(Schema):
    organization: str = Field(description="the enterprise's USCC")
    year: int = column(AboveScaleMember, "year")
    month: int = column(
        AboveScaleMember, "from_month", description="the first period it counts in (2 is January–February)"
    )
    basis: Literal["new", "grown"] = Field(
        description="new: founded this year; grown: newly at the threshold"
    )
    note: str = Field(max_length=200)


@router.post(
    "/stats/above-scale/entrants",
    response={201: AboveScaleMemberOut},
    summary="新增入库: an enterprise joins the year's 规上工业 set from a month on (statistics office)",
)
def add_entrant(request: HttpRequest, payload: EntrantIn) -> Any:
    if not access.is_statistics_officer(request.auth):
        raise PermissionDenied
    member = actions.join_above_scale(
        actor=request.auth,
        year=payload.year,
        organization=_resident(payload.organization),
        month=payload.month,
        basis=payload.basis,
        note=payload.note,
    )
    return Status(201, _member_out(actions.above_scale_member(member.pk)))


class ExitIn(Schema):
    organization: str = Field(description="the enterprise's USCC")
    year: int = column(AboveScaleMember, "year")
    month: int = column(AboveScaleMember, "left_month", description="the first period it no longer counts in")
    reason: Literal["closed", "moved", "below", "other"]
    note: str = Field("", max_length=200)


@router.post(
    "/stats/above-scale/exits",
    response=AboveScaleMemberOut,
    summary="退库: an enterprise leaves the year's 规上工业 set from a month on (statistics office)",
)
def add_exit(request: HttpRequest, payload: ExitIn) -> Any:
    if not access.is_statistics_officer(request.auth):
        raise PermissionDenied
    member = actions.leave_above_scale(
        actor=request.auth,
        year=payload.year,
        organization=_resident(payload.organization),
        month=payload.month,
        reason=payload.reason,
        note=payload.note,
    )
    return _member_out(actions.above_scale_member(member.pk))


class RefixIn(Schema):
    year: int = column(AboveScaleMember, "year")
    reason: str = Field(max_length=200)


@router.post(
    "/stats/above-scale/refix",
    response=AboveScaleOut,
    summary="Fix the year's 规上工业 set again from last December's reports, with a reason, while 1–2月 is unpublished",
)
def refix(request: HttpRequest, payload: RefixIn) -> Any:
    if not access.is_statistics_officer(request.auth):
        raise PermissionDenied
    actions.refix_above_scale(actor=request.auth, year=payload.year, reason=payload.reason)
    return above_scale_out(payload.year)


class WeeklyActivityOut(Schema):
    week: IsoDate
    signed: int
    signed_amount: Decimal
    started: int
    started_amount: Decimal
    visits_made: int
    visits_received: int
    events: int
    publicity: int


@router.get(
    "/stats/activity",
    response=list[WeeklyActivityOut],
    summary="The weekly 招商活跃指数 feed (签约, 开工, 外出拜访, 接待来访, 招商活动, 宣传报道)",
)
def activity(request: HttpRequest, start: IsoDate, end: IsoDate) -> Any:
    if not access.can_use_cockpit(request.auth):
        raise PermissionDenied
    if start > end or (end - start).days > 3700:
        raise ActionError(
            _("日期范围无效（最长十年）。"), fields={"start": [_("应早于 end，且不超过十年。")]}
        )
    return activity_rows(start, end)
