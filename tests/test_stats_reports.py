"""Monthly direct reports (企业直报) in the database: the hard checks that refuse a report and
the soft checks that ask for a word of explanation, revisions and publication, the year's
规上工业 set, the indicators computed from stored reports, the all-or-nothing Excel import,
who sees what in the console and the API, and the reminders before the deadline.

The pure formulas are tested in tests/test_stats_indicators.py; here every figure goes through
``actions.submit_report`` (or the form, the API, the import) as it would in the park.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from dataclasses import dataclass
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import openpyxl
import pytest
from django.urls import reverse
from django.utils import timezone

from tests.conftest import Park, client_for
from tests.factories import DepartmentFactory, OrganizationFactory, UserFactory, valid_uscc
from yimatong.accounts.models import AuditEntry, User
from yimatong.directory.models import IndustryCode, Organization
from yimatong.lib.errors import ActionError
from yimatong.notifications.models import Notification
from yimatong.stats import actions, checks, compute, imports
from yimatong.stats.actions import VALUE_FIELDS
from yimatong.stats.models import (
    AboveScaleMember,
    InvestmentLine,
    MonthlyReport,
    Period,
    ReportingRules,
    ReportRevision,
)

D = Decimal
YEAR, LAST = 2024, 2023
INDUSTRIAL = ("output", "revenue", "tax", "electricity")
SERVICE = ("revenue", "tax")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass
class Stats:
    park: Park
    officer: User  # a service user of the statistics office (经济运行局统计科)
    factory: Organization  # the enterprise persona's company, 生物药品制造 (2761): industrial, biologics
    devices: Organization  # the other resident, 医疗诊断设备制造 (3581): industrial, devices
    lab: Organization  # 医学研究和试验发展 (7340): a service enterprise

    def user(self, persona: str) -> User:
        return self.officer if persona == "statistician" else self.park.users[persona]


def _with_industry(org: Organization, code: str) -> Organization:
    Organization.objects.filter(pk=org.pk).update(industry=IndustryCode.objects.get(code=code))
    org.refresh_from_db()
    return org


@pytest.fixture
def stats(park) -> Stats:
    return make_stats(park)


def make_stats(park: Park) -> Stats:
    office = DepartmentFactory(code="statistics", name="经济运行局统计科", is_statistics_office=True)
    officer = UserFactory(username="statistician", name="钱统计", role=User.Role.SERVICE, department=office)
    lab = OrganizationFactory(
        name="重庆医药研究院有限公司",
        industry=IndustryCode.objects.get(code="7340"),
        chain_node=park.antibody,
    )
    return Stats(
        park,
        officer,
        _with_industry(park.resident, "2761"),
        _with_industry(park.other_resident, "3581"),
        lab,
    )


def industrial_org(park: Park, name: str, node=None, **fields: Any) -> Organization:
    return OrganizationFactory(
        name=name, industry=IndustryCode.objects.get(code="2761"), chain_node=node or park.antibody, **fields
    )


def figures(
    month: str = "100",
    cum: str | None = None,
    *,
    flows: tuple[str, ...] = INDUSTRIAL,
    employees: int | None = 120,
    lines: list[dict[str, Any]] | tuple = (),
    **fields: Any,
) -> dict[str, Any]:
    """A report's figures: each flow of ``flows`` at ``month`` this month and ``cum`` (= ``month``
    by default) cumulative, in 万元; then ``fields`` on top (strings become Decimals)."""
    cum = month if cum is None else cum
    data: dict[str, Any] = {}
    for prefix in flows:
        data[f"{prefix}_month"] = D(month)
        data[f"{prefix}_cum"] = D(cum)
    data["employees"] = employees
    for name, value in fields.items():
        data[name] = D(value) if isinstance(value, str) else value
    data["lines"] = list(lines)
    return data


def line(
    name: str, planned: str, month: str, cum: str, industrial_month: str = "0", industrial_cum: str = "0"
) -> dict[str, Any]:
    return {
        "name": name,
        "planned_total": D(planned),
        "month_amount": D(month),
        "cumulative": D(cum),
        "industrial_month": D(industrial_month),
        "industrial_cumulative": D(industrial_cum),
    }


def on_time(year: int, month: int) -> dt.date:
    """The first day of the following month: a week before the deadline (the 8th)."""
    return dt.date(year + 1, 1, 1) if month == 12 else dt.date(year, month + 1, 1)


def file(
    stats: Stats,
    month: int,
    data: dict[str, Any],
    *,
    year: int = YEAR,
    org: Organization | None = None,
    actor: User | None = None,
    today: dt.date | None = None,
    **kwargs: Any,
) -> MonthlyReport:
    return actions.submit_report(
        actor=actor or stats.officer,
        organization=org or stats.factory,
        year=year,
        month=month,
        data=data,
        today=today or on_time(year, month),
        **kwargs,
    )


def stored() -> dict[str, Any]:
    """Everything a report filing could write."""
    return {
        "reports": list(
            MonthlyReport.objects.order_by("pk").values_list(
                "pk", "revision", "status", "explanations", "published_values", *VALUE_FIELDS
            )
        ),
        "revisions": list(ReportRevision.objects.order_by("pk").values_list("pk", "number", "values")),
        "lines": list(
            InvestmentLine.objects.order_by("pk").values_list("pk", "report_id", "name", "cumulative")
        ),
        "audit": AuditEntry.objects.count(),
        "periods": list(Period.objects.values_list("year", "month", "published_at")),
    }


def refused(stats: Stats, month: int, data: dict[str, Any], **kwargs: Any) -> ActionError:
    """File and expect a hard refusal (not a request for explanation) that stores nothing."""
    before = stored()
    with pytest.raises(ActionError) as caught:
        file(stats, month, data, **kwargs)
    assert not isinstance(caught.value, actions.NeedsExplanation), caught.value.fields
    assert stored() == before, "a refused report stored something"
    return caught.value


def asked(stats: Stats, month: int, data: dict[str, Any], **kwargs: Any) -> actions.NeedsExplanation:
    """File and expect to be asked for explanations, with nothing stored."""
    before = stored()
    with pytest.raises(actions.NeedsExplanation) as caught:
        file(stats, month, data, **kwargs)
    assert stored() == before, "a report waiting for its explanation was stored"
    return caught.value


def codes(question: actions.NeedsExplanation) -> list[str]:
    return [w.code for w in question.warnings]


@pytest.fixture
def filing_day(monkeypatch):
    """``filing_day(date)``: the console and the API file reports as if on ``date``."""

    def set_day(day: dt.date) -> None:
        monkeypatch.setattr(actions, "timezone", SimpleNamespace(now=timezone.now, localdate=lambda: day))

    return set_day


# Hard checks: refused, the field and the rule named, nothing stored -------------------------------


def test_an_industrial_enterprise_is_refused_without_output_revenue_tax_electricity_or_employees(stats):
    error = refused(stats, 2, {})
    assert set(error.fields) == {
        *(f"{prefix}_{kind}" for prefix in INDUSTRIAL for kind in ("month", "cum")),
        "employees",
    }
    assert error.fields["output_month"] == ["工业总产值（现价）本月（万元）为必填项。"]
    assert error.fields["electricity_cum"] == ["用电量累计（万千瓦时）为必填项。"]
    assert error.fields["employees"] == ["期末从业人数为必填项。"]
    assert "未保存" in error.message


def test_a_service_enterprise_is_asked_for_revenue_tax_and_employees_only(stats):
    error = refused(stats, 2, {"output_month": D("5"), "output_cum": D("5")}, org=stats.lab)
    assert set(error.fields) == {"revenue_month", "revenue_cum", "tax_month", "tax_cum", "employees"}
    assert all("必填项" in messages[0] for messages in error.fields.values())
    report = file(stats, 2, figures("80", flows=SERVICE), org=stats.lab)
    assert report.output_cum is None and report.electricity_cum is None and report.revenue_cum == D("80")


def test_a_negative_figure_is_refused_naming_the_field(stats):
    error = refused(stats, 2, figures("100", tax_month="-5", tax_cum="-5"))
    assert set(error.fields) == {"tax_month", "tax_cum"}
    assert error.fields["tax_month"] == ["税收本月（万元）不能为负数。"]
    assert error.fields["tax_cum"] == ["税收累计（万元）不能为负数。"]


def test_a_figure_over_a_thousand_yi_yuan_is_taken_for_one_in_yuan_and_refused(stats):
    error = refused(stats, 2, figures("100", revenue_month="12000000", revenue_cum="12000000"))
    assert set(error.fields) == {"revenue_month", "revenue_cum"}
    assert "超过 1000 亿元" in error.fields["revenue_cum"][0]
    assert "单位应为万元" in error.fields["revenue_cum"][0]
    # At the ceiling itself (10,000,000 万元 = 1,000亿元) the figure stands.
    report = file(stats, 2, figures(str(checks.UNIT_CEILING)))
    assert report.revenue_cum == checks.UNIT_CEILING


def test_january_february_month_must_equal_its_cumulative_within_the_tolerance(stats):
    error = refused(stats, 2, figures("100", output_cum="101"))
    assert set(error.fields) == {"output_cum"}
    (message,) = error.fields["output_cum"]
    assert "1–2 月为第一期" in message and "本月应等于累计" in message and "101" in message
    # 0.5 万元 apart is within the year's tolerance (0.5).
    report = file(stats, 2, figures("100", output_cum="100.5"))
    assert report.output_cum == D("100.5")


def test_last_months_cumulative_plus_this_month_must_make_this_months_cumulative(stats):
    file(stats, 2, figures("100"))
    # 100 + 50 = 150; 150.6 is 0.6 off, beyond the tolerance of 0.5.
    error = refused(stats, 3, figures("50", "150", output_cum="150.6"))
    assert set(error.fields) == {"output_cum"}
    (message,) = error.fields["output_cum"]
    assert "上月累计 100.00 + 本月 50 ≠ 本月累计 150.6" in message and "容差" in message
    # 0.5 off is within the tolerance and accepted.
    report = file(stats, 3, figures("50", "150", output_cum="150.5"))
    assert report.output_cum == D("150.5") and report.month == 3


def test_the_tolerance_is_the_years_own(stats):
    ReportingRules.objects.create(year=YEAR, tolerance=D("0"))
    file(stats, 2, figures("100"))
    error = refused(stats, 3, figures("50", "150", revenue_cum="150.1"))
    assert set(error.fields) == {"revenue_cum"} and "容差 0.00 万元" in error.fields["revenue_cum"][0]


def test_a_cumulative_below_last_months_is_refused(stats):
    file(stats, 2, figures("100"))
    error = refused(stats, 3, figures("50", "150", revenue_month="10", revenue_cum="90"))
    assert set(error.fields) == {"revenue_cum"}
    (message,) = error.fields["revenue_cum"]
    assert "小于上月累计 100.00" in message and "累计数在年内不能减少" in message


def test_without_last_months_report_a_cumulative_may_not_be_below_the_month(stats):
    error = refused(stats, 3, figures("50", "40", flows=SERVICE), org=stats.lab)
    assert set(error.fields) == {"revenue_cum", "tax_cum"}
    assert "营业收入累计 40 小于本月 50" in error.fields["revenue_cum"][0]


def test_an_investment_lines_industrial_part_may_not_exceed_the_line(stats):
    error = refused(stats, 2, figures("100", lines=[line("二期厂房", "800", "100", "100", "120", "120")]))
    assert set(error.fields) == {"lines"}
    assert error.fields["lines"] == ["投资项目 1（二期厂房）：其中工业投资不能大于完成投资。"]


def test_an_investment_line_with_figures_needs_a_name(stats):
    error = refused(stats, 2, figures("100", lines=[line("  ", "800", "100", "100")]))
    assert set(error.fields) == {"lines"}
    assert "项目名称为必填项" in error.fields["lines"][0]


def test_an_empty_investment_line_is_ignored(stats):
    blank = {"name": "", **dict.fromkeys(actions.LINE_FIELDS)}
    report = file(stats, 2, figures("100", lines=[blank]))
    assert report.lines.count() == 0


def test_an_investment_line_continues_last_months_line_of_the_same_name(stats):
    error = refused(stats, 2, figures("100", lines=[line("二期厂房", "800", "100", "90")]))
    assert error.fields["lines"] == ["投资项目 1（二期厂房）：1–2 月本月完成投资应等于累计。"]
    file(stats, 2, figures("100", lines=[line("二期厂房", "800", "100", "100")]))
    # 100 + 30 ≠ 150: refused, naming the line and both figures.
    error = refused(
        stats,
        3,
        figures("50", "150", lines=[line("二期厂房", "800", "30", "150"), line("质检楼", "600", "20", "20")]),
    )
    assert error.fields["lines"] == ["投资项目 1（二期厂房）：上月累计 100.00 + 本月 30 ≠ 累计 150。"]
    # A project new this month has no line to continue; the continued one adds up.
    report = file(
        stats,
        3,
        figures("50", "150", lines=[line("二期厂房", "800", "30", "130"), line("质检楼", "600", "20", "20")]),
    )
    assert sorted(report.lines.values_list("name", "cumulative")) == [
        ("二期厂房", D("130")),
        ("质检楼", D("20")),
    ]


@pytest.mark.parametrize("month", [1, 0, 13])
def test_a_period_outside_january_february_to_december_is_refused_and_january_is_exempt(stats, month):
    error = refused(stats, month, figures("100"), today=dt.date(YEAR, 3, 1))
    assert set(error.fields) == {"month"}
    if month == 1:
        assert "1 月免报" in error.message and "1–2 月" in error.message


def test_an_enterprise_files_its_own_reports_and_staff_outside_the_statistics_office_none(stats):
    park = stats.park
    error = refused(stats, 2, figures("200"), org=stats.devices, actor=park.users["enterprise"])
    assert error.code == "forbidden" and "本企业" in error.message
    for persona in ("leader", "service", "owner", "teamlead"):
        assert refused(stats, 2, figures("200"), actor=park.users[persona]).code == "forbidden"
    mine = file(stats, 2, figures("100"), actor=park.users["enterprise"])
    assert mine.submitted_by == park.users["enterprise"]
    assert file(stats, 2, figures("200"), org=stats.devices, actor=park.users["admin"]).revision == 1


# Soft checks: asked for an explanation, then accepted with it --------------------------------------


def test_a_cumulative_beyond_the_yoy_bound_needs_an_explanation_then_is_kept_with_it(stats):
    file(stats, 2, figures("100"), year=LAST)
    question = asked(stats, 2, figures("100", output_month="140", output_cum="140"))
    assert codes(question) == ["yoy:output"]
    assert question.code == "needs_explanation"
    (warning,) = question.warnings
    assert warning.field == "output_cum" and "+40.0%" in warning.message and "±30" in warning.message
    assert question.fields == {"explanations": [warning.message]}
    # One character, or spaces, is not an explanation.
    assert codes(
        asked(
            stats,
            2,
            figures("100", output_month="140", output_cum="140"),
            explanations={"yoy:output": " 好 "},
        )
    ) == ["yoy:output"]
    report = file(
        stats,
        2,
        figures("100", output_month="140", output_cum="140"),
        explanations={"yoy:output": "新生产线投产"},
    )
    assert report.explanations == {"yoy:output": "新生产线投产"}
    revision = report.revisions.get()
    assert revision.warnings == [{"code": "yoy:output", "field": "output_cum", "message": warning.message}]
    assert revision.explanations == {"yoy:output": "新生产线投产"}
    assert revision.after_deadline is False


def test_a_fall_beyond_the_bound_is_asked_about_too_and_within_the_bound_nothing_is_asked(stats):
    file(stats, 2, figures("100"), year=LAST)
    file(stats, 2, figures("100"), year=LAST, org=stats.devices)
    question = asked(stats, 2, figures("100", output_month="60", output_cum="60"))
    assert codes(question) == ["yoy:output"] and "-40.0%" in question.warnings[0].message
    # +30% is at the bound, not beyond it.
    report = file(stats, 2, figures("100", output_month="130", output_cum="130"), org=stats.devices)
    assert report.explanations == {} and report.revisions.get().warnings == []


def test_the_yoy_bound_is_the_years_own(stats):
    ReportingRules.objects.create(year=YEAR, yoy_bound=D("10"))
    file(stats, 2, figures("100"), year=LAST)
    question = asked(stats, 2, figures("100", revenue_month="115", revenue_cum="115"))
    assert codes(question) == ["yoy:revenue"] and "±10" in question.warnings[0].message


@pytest.mark.parametrize("output, ratio", [("300", "3.00"), ("40", "0.40")])
def test_output_over_revenue_outside_the_band_needs_an_explanation(stats, output, ratio):
    data = figures("100", output_month=output, output_cum=output)
    question = asked(stats, 2, data)
    assert codes(question) == ["ratio"]
    assert f"之比为 {ratio}" in question.warnings[0].message and "0.5–2" in question.warnings[0].message
    report = file(stats, 2, data, explanations={"ratio": "来料加工，营收按加工费计"})
    assert report.explanations == {"ratio": "来料加工，营收按加工费计"}
    assert report.revisions.get().explanations == {"ratio": "来料加工，营收按加工费计"}


def test_a_zero_where_the_enterprise_was_active_last_month_needs_an_explanation(stats):
    file(stats, 2, figures("100"))
    data = figures("50", "150", output_month="0", output_cum="100")
    question = asked(stats, 3, data)
    assert codes(question) == ["zero:output"]
    assert (
        question.warnings[0].field == "output_month" and "停产、搬迁还是漏填" in question.warnings[0].message
    )
    report = file(stats, 3, data, explanations={"zero:output": "3 月停产检修"})
    assert report.explanations == {"zero:output": "3 月停产检修"} and report.output_month == 0


def test_a_zero_where_the_enterprise_was_active_a_year_ago_needs_each_warning_explained(stats):
    file(stats, 2, figures("100"), year=LAST)
    data = figures("100", electricity_month="0", electricity_cum="0")
    question = asked(stats, 2, data)
    assert codes(question) == ["yoy:electricity", "zero:electricity"]
    # Explaining one leaves the other asked for.
    partly = asked(stats, 2, data, explanations={"zero:electricity": "改用园区集中供能，电费由园区代缴"})
    assert codes(partly) == ["yoy:electricity"]
    explanations = {"zero:electricity": "改用园区集中供能，电费由园区代缴", "yoy:electricity": "同上"}
    report = file(stats, 2, data, explanations=explanations)
    assert report.explanations == explanations
    assert [w["code"] for w in report.revisions.get().warnings] == ["yoy:electricity", "zero:electricity"]


def test_a_filing_after_the_deadline_needs_an_explanation_and_is_marked_late(stats):
    due = dt.date(YEAR, 3, 8)  # January–February is due on 8 March
    on_the_day = file(stats, 2, figures("80", flows=SERVICE), org=stats.lab, today=due)
    assert on_the_day.explanations == {} and on_the_day.revisions.get().after_deadline is False
    question = asked(stats, 2, figures("100"), today=due + dt.timedelta(days=1))
    assert codes(question) == ["late"] and "2024-03-08" in question.warnings[0].message
    report = file(
        stats, 2, figures("100"), today=due + dt.timedelta(days=1), explanations={"late": "财务人员休假"}
    )
    assert report.explanations == {"late": "财务人员休假"}
    assert report.revisions.get().after_deadline is True
    # A correction after the deadline is asked about as well.
    assert codes(
        asked(
            stats,
            2,
            figures("80", flows=SERVICE, tax_month="9", tax_cum="9"),
            org=stats.lab,
            today=due + dt.timedelta(days=2),
        )
    ) == ["late"]


def test_an_import_explains_every_warning_it_was_not_given_an_explanation_for(stats):
    file(stats, 2, figures("100"), year=LAST)
    report = file(
        stats,
        2,
        figures("100", output_month="300", output_cum="300"),
        source="import",
        auto_explanation="统计部门批量导入",
        explanations={"ratio": "出口订单集中交付"},
    )
    assert report.explanations == {"yoy:output": "统计部门批量导入", "ratio": "出口订单集中交付"}
    revision = report.revisions.get()
    assert revision.source == "import" and revision.explanations == report.explanations
    assert {w["code"] for w in revision.warnings} == {"yoy:output", "ratio"}


# Revisions and publication ---------------------------------------------------------------------------


def test_a_second_submission_is_revision_two_and_both_are_kept(stats):
    enterprise = stats.park.users["enterprise"]
    first = file(stats, 2, figures("100"), actor=enterprise)
    second = file(stats, 2, figures("100", tax_month="12", tax_cum="12"), actor=stats.officer)
    assert second.pk == first.pk and second.revision == 2
    assert MonthlyReport.objects.count() == 1
    one, two = second.revisions.order_by("number")
    assert (one.number, one.submitted_by, D(one.values["tax_cum"])) == (1, enterprise, D("100"))
    assert (two.number, two.submitted_by, D(two.values["tax_cum"])) == (2, stats.officer, D("12"))
    second.refresh_from_db()
    assert second.tax_cum == D("12") and second.submitted_by == stats.officer
    assert second.status == MonthlyReport.Status.SUBMITTED


def test_publishing_freezes_the_periods_figures_with_who_published_them(stats):
    factory = file(stats, 2, figures("100", lines=[line("二期厂房", "800", "100", "100", "60", "60")]))
    lab = file(stats, 2, figures("80", flows=SERVICE), org=stats.lab)
    march = file(stats, 3, figures("50", "150"))
    assert actions.publish_period(actor=stats.officer, year=YEAR, month=2) == 2
    for report in (factory, lab):
        report.refresh_from_db()
        assert report.status == MonthlyReport.Status.PUBLISHED
        assert report.published_by == stats.officer and report.published_at is not None
    assert D(factory.published_values["output_cum"]) == D("100")
    assert factory.published_values["lines"][0]["name"] == "二期厂房"
    assert D(factory.published_values["lines"][0]["industrial_cumulative"]) == D("60")
    assert factory.published_values["segment"] == "biologics"
    period = Period.objects.get(year=YEAR, month=2)
    assert period.published_by == stats.officer and period.published_at == factory.published_at
    march.refresh_from_db()
    assert march.status == MonthlyReport.Status.SUBMITTED and march.published_values is None
    # Nothing new to publish the second time.
    assert actions.publish_period(actor=stats.park.users["admin"], year=YEAR, month=2) == 0


def test_a_correction_after_publication_waits_for_the_next_publication(stats):
    file(stats, 2, figures("100"))
    actions.publish_period(actor=stats.officer, year=YEAR, month=2)
    assert compute.compute(YEAR, 2, codes=["tax"]).results["tax"].value == D("100")

    corrected = file(
        stats, 2, figures("100", tax_month="120", tax_cum="120"), actor=stats.park.users["enterprise"]
    )
    corrected.refresh_from_db()
    assert corrected.status == MonthlyReport.Status.REVISED and corrected.revision == 2
    assert corrected.tax_cum == D("120") and D(corrected.published_values["tax_cum"]) == D("100")
    assert corrected.published_by == stats.officer
    computed = compute.compute(YEAR, 2, codes=["tax"])
    assert computed.preliminary is False
    assert computed.results["tax"].value == D("100")  # the published figure, until republished

    assert actions.publish_period(actor=stats.officer, year=YEAR, month=2) == 1
    corrected.refresh_from_db()
    assert corrected.status == MonthlyReport.Status.PUBLISHED and D(
        corrected.published_values["tax_cum"]
    ) == D("120")
    assert compute.compute(YEAR, 2, codes=["tax"]).results["tax"].value == D("120")


def test_a_report_filed_after_publication_waits_for_the_next_publication_too(stats):
    file(stats, 2, figures("100"))
    actions.publish_period(actor=stats.officer, year=YEAR, month=2)
    late = file(
        stats,
        2,
        figures("80", flows=SERVICE),
        org=stats.lab,
        today=dt.date(YEAR, 3, 20),
        explanations={"late": "补报"},
    )
    assert late.status == MonthlyReport.Status.SUBMITTED and late.published_values is None
    computed = compute.compute(YEAR, 2, codes=["tax"])
    assert computed.preliminary is False
    assert computed.results["tax"].value == D("100")  # the published park figure stands
    assert computed.results["tax"].members == {str(stats.factory.pk)}
    assert actions.publish_period(actor=stats.officer, year=YEAR, month=2) == 1
    assert compute.compute(YEAR, 2, codes=["tax"]).results["tax"].value == D("180")


@pytest.mark.parametrize("persona", ["leader", "service", "enterprise", "owner", "teamlead"])
def test_only_the_statistics_office_publishes(stats, persona):
    file(stats, 2, figures("100"))
    before = stored()
    with pytest.raises(ActionError) as caught:
        actions.publish_period(actor=stats.park.users[persona], year=YEAR, month=2)
    assert caught.value.code == "forbidden" and "统计部门" in caught.value.message
    assert stored() == before and not Period.objects.exists()


# The year's 规上工业 set ---------------------------------------------------------------------------------


def december(
    stats: Stats, org: Organization, revenue: str, flows: tuple[str, ...] = INDUSTRIAL
) -> MonthlyReport:
    return file(stats, 12, figures("200", revenue, flows=flows), year=LAST, org=org)


def members(year: int) -> dict[int, Decimal | None]:
    return dict(
        AboveScaleMember.objects.filter(year=year).values_list("organization_id", "revenue_last_year")
    )


def test_the_above_scale_set_is_fixed_from_last_decembers_revenue_of_industrial_enterprises(stats):
    ReportingRules.objects.create(year=YEAR, above_scale_revenue=D("2400"))
    below = industrial_org(
        stats.park, "重庆小微制药有限公司", is_above_scale=True
    )  # the directory's mark does not count
    december(stats, stats.factory, "2500")
    december(stats, stats.devices, "2400")  # at the threshold: in
    december(stats, below, "2399.99")
    december(stats, stats.lab, "5000", SERVICE)  # a service enterprise is not 规上工业
    assert actions.fix_above_scale(year=YEAR, actor=stats.officer) == 2
    assert members(YEAR) == {stats.factory.pk: D("2500"), stats.devices.pk: D("2400")}
    assert ReportingRules.objects.get(year=YEAR).above_scale_fixed_at is not None


def test_the_set_is_fixed_once_and_refixed_only_when_forced(stats):
    late_riser = industrial_org(stats.park, "重庆后劲生物有限公司")
    december(stats, stats.factory, "2500")
    december(stats, late_riser, "1500")
    assert actions.fix_above_scale(year=YEAR) == 1  # the default threshold: 2000
    fixed_at = ReportingRules.objects.get(year=YEAR).above_scale_fixed_at
    december(stats, late_riser, "3000")  # a correction of last December after the set was fixed
    assert actions.fix_above_scale(year=YEAR) == 1
    assert members(YEAR) == {stats.factory.pk: D("2500")}
    assert ReportingRules.objects.get(year=YEAR).above_scale_fixed_at == fixed_at
    assert actions.fix_above_scale(year=YEAR, force=True) == 2
    assert members(YEAR) == {stats.factory.pk: D("2500"), late_riser.pk: D("3000")}


def test_without_any_december_report_the_directorys_above_scale_mark_is_taken(stats):
    # The park's resident is marked 规上 in the directory; the other resident is not; a
    # prospect marked 规上 is not one of the park's enterprises.
    assert stats.factory.is_above_scale and not stats.devices.is_above_scale
    OrganizationFactory(name="成都远方制药有限公司", org_type="prospect", is_above_scale=True)
    file(stats, 11, figures("200", "2500"), year=LAST)  # November is not December
    assert actions.fix_above_scale(year=YEAR) == 1
    assert members(YEAR) == {stats.factory.pk: None}


# Indicators from stored reports ----------------------------------------------------------------------


@dataclass
class Panel:
    a: Organization  # biologics, reports both years
    b: Organization  # devices, reports both years
    c: Organization  # biologics, an entrant: in the park since last autumn
    d: Organization  # devices, an exit: reported last year, closed


@pytest.fixture
def hand_panel(stats) -> Panel:
    """Industrial output (revenue, tax and electricity alike), cumulative 万元:

    ========  ==========  ==========  ==========  ==========  ============
               2023 1–2    2023 1–3    2024 1–2    2024 1–3    2023 Dec
    ========  ==========  ==========  ==========  ==========  ============
    A (bio)       100         180         120         220         3000
    B (dev)       200         300         210         330         2500
    C (bio)        —           —           20          50         2100
    D (dev)        50          90          —           —           —
    ========  ==========  ==========  ==========  ==========  ============

    The 2024 规上 set, fixed from December 2023 at 2000: {A, B, C}. D closed during 2023.
    """
    park = stats.park
    a, b = stats.factory, stats.devices
    c = industrial_org(park, "重庆新落户生物有限公司", park.antibody)
    d = industrial_org(park, "重庆已迁出器械有限公司", park.devices)
    for org, feb, mar in ((a, "100", "180"), (b, "200", "300"), (d, "50", "90")):
        file(stats, 2, figures(feb), year=LAST, org=org)
        file(stats, 3, figures(str(D(mar) - D(feb)), mar), year=LAST, org=org)
    for org, revenue in ((a, "3000"), (b, "2500"), (c, "2100")):
        december(stats, org, revenue)
    assert actions.fix_above_scale(year=YEAR) == 3
    for org, feb, mar in ((a, "120", "220"), (b, "210", "330"), (c, "20", "50")):
        file(stats, 2, figures(feb), org=org)
        file(stats, 3, figures(str(D(mar) - D(feb)), mar), org=org)
    return Panel(a, b, c, d)


def test_the_comparable_growth_of_stored_reports_is_the_one_computed_by_hand(hand_panel):
    p = hand_panel
    # S = {A, B, C} (this year's 规上 set that reported 1–3月).
    # V = 220 + 330 + 50 = 600; base = 180 + 300 + 0 (C is an entrant; D, an exit, is left out) = 480
    # growth = (600 − 480) / 480 × 100 = 25.00
    # month: (100 + 120 + 30) − (80 + 100 + 0) = 250 − 180 → 70 / 180 × 100 = 38.888… → 38.89
    # biologics {A, C}: 270 against 180 → +50.00, pull 90 / 480 = 18.75 points, contribution 75.00
    # devices {B}: 330 against 300 → +10.00, pull 30 / 480 = 6.25 points, contribution 25.00
    computed = compute.compute(YEAR, 3)
    output = computed.results["industrial_output"]
    assert (output.value, output.base, output.growth) == (D("600"), D("480"), D("25.00"))
    assert output.monthly.growth == D("38.89")
    assert output.members == {str(p.a.pk), str(p.b.pk), str(p.c.pk)}
    assert output.entrants == {str(p.c.pk)} and output.exits == {str(p.d.pk)}
    assert output.missing == frozenset()
    bio, dev = output.segments["biologics"], output.segments["devices"]
    assert (bio.value, bio.base, bio.growth, bio.pull, bio.contribution) == (
        D("270"),
        D("180"),
        D("50.00"),
        D("18.75"),
        D("75.00"),
    )
    assert (dev.value, dev.base, dev.growth, dev.pull, dev.contribution) == (
        D("330"),
        D("300"),
        D("10.00"),
        D("6.25"),
        D("25.00"),
    )
    assert computed.names[str(p.c.pk)] == p.c.name
    # January–February: (120 + 210 + 20 − 300) / 300 × 100 = 16.666… → 16.67
    assert compute.compute(YEAR, 2).results["industrial_output"].growth == D("16.67")


def test_a_period_not_yet_published_is_flagged_preliminary(hand_panel, stats):
    computed = compute.compute(YEAR, 3)
    assert computed.preliminary is True and computed.published_at is None
    actions.publish_period(actor=stats.officer, year=YEAR, month=3)
    computed = compute.compute(YEAR, 3)
    assert computed.preliminary is False and computed.published_at is not None
    assert computed.results["industrial_output"].growth == D("25.00")
    assert compute.compute(YEAR, 2).preliminary is True  # January–February is still unpublished


def test_fixed_asset_investment_counts_projects_of_five_million_yuan_and_above_only(stats):
    last = [line("二期厂房", "800", "80", "80", "80", "80"), line("办公楼装修", "300", "30", "30")]
    this = [line("二期厂房", "800", "100", "100", "60", "60"), line("办公楼装修", "300", "40", "40")]
    file(stats, 2, figures("100", lines=last), year=LAST)
    file(stats, 2, figures("100", lines=this))
    results = compute.compute(YEAR, 2).results
    # Only 二期厂房 (800 ≥ 500): 100 against 80 → +25.00; its industrial part 60 against 80 → −25.00.
    investment, industrial = results["fixed_asset_investment"], results["industrial_investment"]
    assert (investment.value, investment.base, investment.growth) == (D("100"), D("80"), D("25.00"))
    assert (industrial.value, industrial.base, industrial.growth) == (D("60"), D("80"), D("-25.00"))


# The Excel import ------------------------------------------------------------------------------------------


def workbook(reports: list[dict[str, Any]], lines: list[list[Any]] = ()) -> bytes:
    """A workbook in the shape of the import template, filled with ``reports`` and ``lines``."""
    book = openpyxl.load_workbook(io.BytesIO(imports.template()))
    sheet, line_sheet = book.worksheets
    assert [c.value for c in sheet[1]] == [title for _key, title in imports.REPORT_COLUMNS]
    assert [c.value for c in line_sheet[1]] == [title for _key, title in imports.LINE_COLUMNS]
    for values in reports:
        sheet.append([values.get(key) for key, _title in imports.REPORT_COLUMNS])
    for row in lines:
        line_sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def row(
    org: Organization | str,
    month: int,
    amount: float,
    cum: float | None = None,
    *,
    year: int = YEAR,
    flows: tuple[str, ...] = INDUSTRIAL,
    **cells: Any,
) -> dict[str, Any]:
    uscc, name = (org, "") if isinstance(org, str) else (org.uscc, org.name)
    values: dict[str, Any] = {"uscc": uscc, "name": name, "year": year, "month": month, "employees": 120}
    for prefix in flows:
        values[f"{prefix}_month"] = amount
        values[f"{prefix}_cum"] = amount if cum is None else cum
    values.update(cells)
    return values


def test_an_import_stores_every_row_with_its_investment_lines(stats, filing_day):
    filing_day(dt.date(YEAR, 3, 1))  # on time: no 逾期 warning to explain
    content = workbook(
        [
            row(stats.factory, 2, 100.5),
            row(stats.devices, 2, 300, revenue_month=100, revenue_cum=100),  # output/revenue 3.0
            row(stats.lab, 2, 80, flows=SERVICE),
        ],
        [[stats.factory.uscc, YEAR, 2, "二期厂房", 800, 100, 100, 60, 60]],
    )
    result = imports.import_reports(actor=stats.officer, content=content)
    assert result.errors == []
    assert (result.stored, result.warnings) == (3, 1)
    factory = MonthlyReport.objects.get(organization=stats.factory, year=YEAR, month=2)
    assert factory.output_cum == D("100.50") and factory.employees == 120
    assert list(factory.lines.values_list("name", "planned_total", "industrial_cumulative")) == [
        ("二期厂房", D("800"), D("60"))
    ]
    devices = MonthlyReport.objects.get(organization=stats.devices, year=YEAR, month=2)
    assert devices.explanations == {"ratio": "统计部门批量导入"}
    lab = MonthlyReport.objects.get(organization=stats.lab)
    assert lab.output_cum is None and lab.revenue_cum == D("80")
    assert set(ReportRevision.objects.values_list("source", flat=True)) == {"import"}
    assert set(MonthlyReport.objects.values_list("submitted_by", flat=True)) == {stats.officer.pk}


UNKNOWN_USCC = valid_uscc(987654321)


@pytest.mark.parametrize(
    "bad_row, column, message",
    [
        (
            lambda s: row(UNKNOWN_USCC, 2, 60),
            "统一社会信用代码",
            f"没有统一社会信用代码为“{UNKNOWN_USCC}”的入驻企业。",
        ),
        (lambda s: row(s.lab, 2, 80, flows=SERVICE, revenue_cum="八十"), "营业收入累计", "“八十”不是数字。"),
        (
            lambda s: row(s.lab, 2, 80, flows=SERVICE, tax_month=-5),
            "税收本月",
            "税收本月（万元）不能为负数。",
        ),
    ],
    ids=["unknown-uscc", "not-a-number", "hard-check"],
)
def test_an_import_with_one_bad_row_stores_nothing_and_names_the_row_and_column(
    stats, bad_row, column, message
):
    earlier = file(stats, 2, figures("100"))  # filed by the form before the import
    before = stored()
    content = workbook(
        [
            row(stats.factory, 2, 100, tax_month=150, tax_cum=150),  # a correction of the earlier report
            row(stats.devices, 2, 200),
            bad_row(stats),
        ],
        [[stats.devices.uscc, YEAR, 2, "检测中心", 600, 50, 50, 50, 50]],
    )
    result = imports.import_reports(actor=stats.officer, content=content)
    assert result.errors == [{"sheet": "企业直报", "row": 4, "column": column, "message": message}]
    assert (result.stored, result.warnings) == (0, 0)
    assert stored() == before, "the import changed the database"
    earlier.refresh_from_db()
    assert (earlier.revision, earlier.tax_cum) == (1, D("100"))


def test_an_import_lists_every_error_of_every_row(stats):
    content = workbook(
        [
            row(stats.factory, 2, 100),
            row(UNKNOWN_USCC, 2, 60),  # row 3
            row(stats.devices, 2, 200, tax_month=-5),  # row 4
            row(stats.lab, 2, 80, flows=SERVICE, revenue_month="八十"),  # row 5
            row(stats.factory, 1, 100),  # row 6: January is exempt
        ],
        [
            [
                stats.factory.uscc,
                YEAR,
                2,
                "二期厂房",
                800,
                100,
                100,
                120,
                120,
            ],  # industrial part above the line
            [stats.lab.uscc, YEAR, 3, "中试平台", 600, 50, 50, 0, 0],  # no report row for it
        ],
    )
    before = stored()
    result = imports.import_reports(actor=stats.officer, content=content)
    assert stored() == before and result.stored == 0
    found = {(e["sheet"], e["row"], e["column"]) for e in result.errors}
    assert found == {
        ("企业直报", 2, "固定资产投资"),
        ("企业直报", 3, "统一社会信用代码"),
        ("企业直报", 4, "税收本月"),
        ("企业直报", 5, "营业收入本月"),
        ("企业直报", 6, "月份"),
        ("固定资产投资", 3, "统一社会信用代码"),
    }
    messages = {(e["row"], e["sheet"]): e["message"] for e in result.errors}
    assert (
        "二期厂房" in messages[(2, "企业直报")]
        and "其中工业投资不能大于完成投资" in messages[(2, "企业直报")]
    )
    assert messages[(5, "企业直报")] == "“八十”不是数字。"


def test_an_import_without_the_templates_columns_is_refused_by_column(stats):
    book = openpyxl.Workbook()
    book.active.append(["统一社会信用代码", "年度", "月份"])
    book.active.append([stats.factory.uscc, YEAR, 2])
    out = io.BytesIO()
    book.save(out)
    result = imports.import_reports(actor=stats.officer, content=out.getvalue())
    assert result.stored == 0 and not MonthlyReport.objects.exists()
    assert {e["column"] for e in result.errors} >= {"企业名称", "工业总产值本月", "期末从业人数"}
    assert all(e["row"] == 1 for e in result.errors)
    with pytest.raises(ActionError) as caught:
        imports.import_reports(actor=stats.officer, content=b"not a workbook")
    assert set(caught.value.fields) == {"file"}


# Who sees what in the console -----------------------------------------------------------------------------


@pytest.fixture
def two_reports(stats) -> tuple[MonthlyReport, MonthlyReport]:
    """The enterprise persona's company's report and the other resident's, January–February."""
    mine = file(stats, 2, figures("100"), actor=stats.park.users["enterprise"])
    theirs = file(stats, 2, figures("200"), org=stats.devices)
    return mine, theirs


def test_an_enterprise_sees_its_own_reports_only(stats, two_reports):
    mine, theirs = two_reports
    client = client_for(stats.park.users["enterprise"])
    page = client.get(reverse("stats:report_list"))
    assert page.status_code == 200
    html = page.content.decode()
    assert mine.get_absolute_url() in html and theirs.get_absolute_url() not in html
    assert client.get(mine.get_absolute_url()).status_code == 200
    assert client.get(theirs.get_absolute_url()).status_code == 404
    listed = client.get("/api/v1/stats/reports", {"year": YEAR})
    assert listed.status_code == 200 and [r["id"] for r in listed.json()] == [mine.pk]


@pytest.mark.parametrize("persona", ["leader", "statistician", "admin"])
def test_leaders_and_the_statistics_office_see_every_report_and_the_cockpit(stats, two_reports, persona):
    mine, theirs = two_reports
    client = client_for(stats.user(persona))
    page = client.get(reverse("stats:report_list"), {"year": YEAR, "month": 2})
    assert page.status_code == 200
    html = page.content.decode()
    assert mine.get_absolute_url() in html and theirs.get_absolute_url() in html
    assert client.get(theirs.get_absolute_url()).status_code == 200
    listed = client.get("/api/v1/stats/reports", {"year": YEAR, "month": 2})
    assert sorted(r["id"] for r in listed.json()) == sorted([mine.pk, theirs.pk])
    cockpit = client.get(reverse("stats:cockpit"), {"year": YEAR, "month": 2})
    assert cockpit.status_code == 200 and "初步数" in cockpit.content.decode()
    assert client.get(reverse("stats:bulletin"), {"year": YEAR, "month": 2}).status_code == 200
    data = client.get(reverse("stats:panel_data", args=["statistics"]), {"year": YEAR, "month": 2})
    assert data.status_code == 200 and data["Content-Type"] == XLSX
    assert openpyxl.load_workbook(io.BytesIO(data.content)).sheetnames


@pytest.mark.parametrize("persona", ["enterprise", "owner", "teamlead", "service"])
def test_enterprises_promoters_and_other_staff_may_not_open_the_cockpit(stats, two_reports, persona):
    client = client_for(stats.park.users[persona])
    for name, args in (
        ("cockpit", []),
        ("bulletin", []),
        ("panel_data", ["statistics"]),
        ("activity_feed", ["csv"]),
    ):
        assert client.get(reverse(f"stats:{name}", args=args)).status_code == 403, name
    answer = client.get("/api/v1/stats/indicators", {"year": YEAR, "month": 2})
    assert answer.status_code == 403 and answer.json()["error"]["code"] == "forbidden"


def test_staff_outside_the_statistics_office_see_no_reports(stats, two_reports):
    client = client_for(stats.park.users["service"])
    assert client.get(reverse("stats:report_list")).status_code == 403
    assert client.get(two_reports[0].get_absolute_url()).status_code == 404
    assert client.get("/api/v1/stats/reports", {"year": YEAR}).json() == []
    assert client.get(reverse("stats:report_import")).status_code == 403


def form(data: dict[str, Any], year: int = YEAR, month: int = 2, **extra: Any) -> dict[str, Any]:
    post = {"year": year, "month": month, **extra}
    for name, value in data.items():
        if name != "lines" and value is not None:
            post[name] = str(value)
    return post


def test_the_report_form_names_the_field_of_a_hard_error_and_stores_nothing(stats, filing_day):
    filing_day(dt.date(YEAR, 3, 1))
    client = client_for(stats.park.users["enterprise"])
    assert client.get(reverse("stats:report_new")).status_code == 200
    answer = client.post(reverse("stats:report_new"), form(figures("100", tax_month="-5", tax_cum="-5")))
    assert answer.status_code == 400
    assert "税收本月（万元）不能为负数。" in answer.content.decode()
    assert answer.context["form"].errors["tax_month"] == ["税收本月（万元）不能为负数。"]
    assert not MonthlyReport.objects.exists()


def test_the_report_form_asks_for_each_explanation_then_files_the_report(stats, filing_day):
    filing_day(dt.date(YEAR, 3, 1))
    client = client_for(stats.park.users["enterprise"])
    post = form(figures("100", output_month="300", output_cum="300"))
    answer = client.post(reverse("stats:report_new"), post)
    assert answer.status_code == 400 and 'name="explain_ratio"' in answer.content.decode()
    assert not MonthlyReport.objects.exists()
    done = client.post(reverse("stats:report_new"), {**post, "explain_ratio": "来料加工"})
    report = MonthlyReport.objects.get()
    assert done.status_code == 302 and done["Location"] == report.get_absolute_url()
    assert report.organization == stats.factory and report.explanations == {"ratio": "来料加工"}
    detail = client.get(report.get_absolute_url()).content.decode()
    assert "来料加工" in detail and "第 1 版" in detail


def test_the_statistics_office_files_publishes_and_imports_in_the_console(stats, filing_day):
    filing_day(dt.date(YEAR, 3, 1))
    client = client_for(stats.officer)
    answer = client.post(
        reverse("stats:report_new"), form(figures("80", flows=SERVICE), organization=stats.lab.pk)
    )
    assert answer.status_code == 302
    assert MonthlyReport.objects.get().organization == stats.lab

    template = client.get(reverse("stats:import_template"))
    assert template.status_code == 200 and template["Content-Type"] == XLSX
    book = openpyxl.load_workbook(io.BytesIO(template.content))
    assert book.sheetnames == ["企业直报", "固定资产投资"]

    bad = io.BytesIO(workbook([row(stats.factory, 2, 100), row(UNKNOWN_USCC, 2, 60)]))
    bad.name = "直报.xlsx"
    answer = client.post(reverse("stats:report_import"), {"file": bad})
    assert answer.status_code == 400 and UNKNOWN_USCC in answer.content.decode()
    assert MonthlyReport.objects.count() == 1
    good = io.BytesIO(workbook([row(stats.factory, 2, 100), row(stats.devices, 2, 200)]))
    good.name = "直报.xlsx"
    answer = client.post(reverse("stats:report_import"), {"file": good})
    assert answer.status_code == 302 and answer["Location"] == reverse("stats:report_list")
    assert MonthlyReport.objects.count() == 3

    answer = client.post(reverse("stats:publish"), {"year": YEAR, "month": 2})
    assert answer.status_code == 302 and answer["Location"].endswith(f"/stats/reports/?year={YEAR}&month=2")
    assert set(MonthlyReport.objects.values_list("status", flat=True)) == {"published"}
    assert Period.objects.get(year=YEAR, month=2).published_by == stats.officer
    assert "钱统计" in client.get(reverse("stats:report_list"), {"year": YEAR, "month": 2}).content.decode()


def test_a_leader_reads_but_neither_files_nor_publishes_nor_imports(stats, two_reports):
    client = client_for(stats.park.users["leader"])
    assert client.get(reverse("stats:report_new")).status_code == 403
    assert client.post(reverse("stats:publish"), {"year": YEAR, "month": 2}).status_code == 403
    assert client.get(reverse("stats:report_import")).status_code == 403
    assert client.get(reverse("stats:import_template")).status_code == 403
    assert not Period.objects.exists()


# The API -----------------------------------------------------------------------------------------------------


def test_the_indicators_api_refuses_january_in_the_error_shape(stats):
    client = client_for(stats.park.users["leader"])
    answer = client.get("/api/v1/stats/indicators", {"year": YEAR, "month": 1})
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["code"] == "invalid" and "1 月免报" in error["message"]
    assert list(error["fields"]) == ["month"]
    assert client.get("/api/v1/stats/indicators", {"year": YEAR, "month": 13}).status_code == 400


def test_a_leader_gets_the_growth_from_the_indicators_api(hand_panel, stats):
    answer = client_for(stats.park.users["leader"]).get(
        "/api/v1/stats/indicators", {"year": YEAR, "month": 3}
    )
    assert answer.status_code == 200
    body = answer.json()
    assert (body["year"], body["month"], body["period"], body["preliminary"]) == (
        YEAR,
        3,
        "2024年1–3月",
        True,
    )
    output = next(i for i in body["indicators"] if i["code"] == "industrial_output")
    assert D(output["value"]) == D("600") and D(output["base"]) == D("480")
    assert D(output["growth"]) == D("25.00") and D(output["monthly_growth"]) == D("38.89")
    assert (output["enterprises"], output["entrants"]) == (3, 1)
    segments = {s["key"]: s for s in output["segments"]}
    assert segments["biologics"]["name"] == "生物药" and D(segments["biologics"]["pull"]) == D("18.75")
    assert D(segments["devices"]["growth"]) == D("10.00")
    denied = client_for(stats.park.users["enterprise"]).get(
        "/api/v1/stats/indicators", {"year": YEAR, "month": 3}
    )
    assert denied.status_code == 403


def post_report(client, payload: dict[str, Any]):
    return client.post("/api/v1/stats/reports", json.dumps(payload), content_type="application/json")


def api_figures(data: dict[str, Any]) -> dict[str, Any]:
    out = {k: (str(v) if isinstance(v, Decimal) else v) for k, v in data.items() if k != "lines"}
    out["lines"] = [
        {k: str(v) if isinstance(v, Decimal) else v for k, v in item.items()} for item in data["lines"]
    ]
    return out


def test_filing_through_the_api_answers_hard_errors_questions_and_acceptance(stats, filing_day):
    filing_day(dt.date(YEAR, 3, 1))
    client = client_for(stats.park.users["enterprise"])
    bad = post_report(
        client, {"year": YEAR, "month": 2, **api_figures(figures("100", tax_month="-5", tax_cum="-5"))}
    )
    assert bad.status_code == 400
    error = bad.json()["error"]
    assert error["code"] == "invalid" and error["fields"]["tax_month"] == ["税收本月（万元）不能为负数。"]

    ratio = {"year": YEAR, "month": 2, **api_figures(figures("100", output_month="300", output_cum="300"))}
    question = post_report(client, ratio)
    assert question.status_code == 400
    error = question.json()["error"]
    assert error["code"] == "needs_explanation"
    assert error["fields"]["codes"] == ["ratio"] and "之比为 3.00" in error["fields"]["explanations"][0]
    assert not MonthlyReport.objects.exists()

    # Naming another enterprise changes nothing: an enterprise files its own.
    accepted = post_report(
        client, {**ratio, "organization": stats.devices.uscc, "explanations": {"ratio": "来料加工"}}
    )
    assert accepted.status_code == 201
    body = accepted.json()
    assert body["organization"] == stats.factory.name and body["uscc"] == stats.factory.uscc
    assert body["explanations"] == {"ratio": "来料加工"}
    assert (body["revision"], body["status"], body["period"]) == (1, "submitted", "2024年1–2月")
    assert MonthlyReport.objects.get().revisions.get().source == "api"


def test_the_statistics_office_files_through_the_api_on_an_enterprises_behalf(stats, filing_day):
    filing_day(dt.date(YEAR, 4, 1))
    client = client_for(stats.officer)
    payload = {"year": YEAR, "month": 3, **api_figures(figures("50", "60", flows=SERVICE))}
    unknown = post_report(client, {**payload, "organization": UNKNOWN_USCC})
    assert unknown.status_code == 400 and list(unknown.json()["error"]["fields"]) == ["organization"]
    accepted = post_report(client, {**payload, "organization": stats.lab.uscc.lower()})
    assert accepted.status_code == 201 and accepted.json()["organization"] == stats.lab.name
    leader = post_report(client_for(stats.park.users["leader"]), {**payload, "organization": stats.lab.uscc})
    assert leader.status_code == 403
    assert MonthlyReport.objects.get().revision == 1


def test_the_activity_feed_counts_each_week(stats, new_project):
    from yimatong.investment.actions.work import add_activity

    owner = stats.park.users["owner"]
    project = new_project()
    add_activity(
        actor=owner,
        project=project,
        data={"kind": "visit", "occurred_on": dt.date(2024, 3, 6), "summary": "拜访启明"},
    )
    add_activity(
        actor=owner,
        project=project,
        data={"kind": "meeting", "occurred_on": dt.date(2024, 3, 7), "summary": "项目会谈"},
    )
    client = client_for(stats.park.users["leader"])
    answer = client.get("/api/v1/stats/activity", {"start": "2024-03-01", "end": "2024-03-31"})
    assert answer.status_code == 200
    weeks = answer.json()
    # Mondays from the week of Friday 1 March to the week of 31 March.
    assert [w["week"] for w in weeks] == [
        "2024-02-26",
        "2024-03-04",
        "2024-03-11",
        "2024-03-18",
        "2024-03-25",
    ]
    busy = weeks[1]
    assert (busy["visits_made"], busy["events"]) == (1, 1)
    assert all(w["visits_made"] == 0 and w["events"] == 0 for w in weeks if w is not busy)
    refused_range = client.get("/api/v1/stats/activity", {"start": "2024-03-31", "end": "2024-03-01"})
    assert refused_range.status_code == 400 and list(refused_range.json()["error"]["fields"]) == ["start"]
    enterprise = client_for(stats.park.users["enterprise"])
    assert (
        enterprise.get("/api/v1/stats/activity", {"start": "2024-03-01", "end": "2024-03-31"}).status_code
        == 403
    )


# Reminders -----------------------------------------------------------------------------------------------


def reminders(user: User) -> list[str]:
    return sorted(
        Notification.objects.filter(recipient=user, kind=Notification.Kind.STATISTICS).values_list(
            "key", flat=True
        )
    )


def test_reminders_go_three_days_before_and_on_the_deadline_to_those_who_have_not_reported(stats):
    # January–March 2024 is due on 8 April. Expected to report: the enterprise persona's company
    # and a straggler (both reported January–February) and the other resident (规上 in 2024).
    # The lab is not expected (it never reported and is not 规上).
    park = stats.park
    straggler = industrial_org(park, "重庆拖延制药有限公司")
    users = {
        "factory": park.users["enterprise"],
        "factory2": UserFactory(username="finance", role=User.Role.ENTERPRISE, organization=stats.factory),
        "departed": UserFactory(
            username="departed", role=User.Role.ENTERPRISE, organization=stats.factory, is_active=False
        ),
        "devices": UserFactory(username="devices", role=User.Role.ENTERPRISE, organization=stats.devices),
        "straggler": UserFactory(username="straggler", role=User.Role.ENTERPRISE, organization=straggler),
        "lab": UserFactory(username="lab", role=User.Role.ENTERPRISE, organization=stats.lab),
    }
    file(stats, 2, figures("100"))
    file(stats, 2, figures("100"), org=straggler)
    AboveScaleMember.objects.create(year=YEAR, organization=stats.devices)
    file(stats, 3, figures("50", "60"), org=stats.devices)  # reported early

    assert actions.remind_missing(today=dt.date(YEAR, 4, 4)).reminded == 0  # four days before: not yet
    assert not Notification.objects.exists()

    assert actions.remind_missing(today=dt.date(YEAR, 4, 5)).reminded == 2
    soon = f"report-{YEAR}-3-soon"
    assert reminders(users["factory"]) == [f"{soon}-{stats.factory.pk}"]
    assert reminders(users["factory2"]) == [f"{soon}-{stats.factory.pk}"]
    assert reminders(users["straggler"]) == [f"{soon}-{straggler.pk}"]
    notice = Notification.objects.get(recipient=users["straggler"])
    assert "2024-04-08" in notice.title and notice.url == f"{reverse('stats:report_new')}?year={YEAR}&month=3"
    count = Notification.objects.count()
    actions.remind_missing(today=dt.date(YEAR, 4, 5))  # run twice: nothing new
    assert Notification.objects.count() == count == 3

    file(stats, 3, figures("50", "150"), today=dt.date(YEAR, 4, 6))  # the persona's company reports
    actions.remind_missing(today=dt.date(YEAR, 4, 8))
    actions.remind_missing(today=dt.date(YEAR, 4, 8))
    assert reminders(users["straggler"]) == sorted(
        [f"{soon}-{straggler.pk}", f"report-{YEAR}-3-due-{straggler.pk}"]
    )
    assert reminders(users["factory"]) == [f"{soon}-{stats.factory.pk}"]  # reported by then
    for nobody in ("departed", "devices", "lab"):
        assert reminders(users[nobody]) == [], nobody
    assert reminders(stats.officer) == []


def test_january_february_expects_last_decembers_reporters_and_january_is_not_reminded(stats):
    december(stats, stats.devices, "2500")
    devices_user = UserFactory(username="devices", role=User.Role.ENTERPRISE, organization=stats.devices)
    assert actions.remind_missing(today=dt.date(YEAR, 2, 5)).reminded == 0  # January: exempt
    assert actions.remind_missing(today=dt.date(YEAR, 3, 5)).reminded == 1  # January–February, due 8 March
    assert reminders(devices_user) == [f"report-{YEAR}-2-soon-{stats.devices.pk}"]
    assert reminders(stats.park.users["enterprise"]) == []  # no December report, not 规上: not expected


def test_a_leader_reading_the_cockpit_in_english_sees_english_section_titles(stats, two_reports):
    client = client_for(stats.user("leader"))
    client.cookies["ymt_language"] = "en"
    html = client.get(reverse("stats:cockpit"), {"year": YEAR, "month": 2}).content.decode()
    titles = re.findall(r'<h2 class="section-title" id="panel-\w+">([^<]+)<', html)
    assert [t.strip() for t in titles] == [
        "Statistical monitoring",
        "Investment attraction",
        "Industry chain map",
        "Enterprise services",
    ]


def test_the_weekly_feed_counts_visits_received_and_articles_in_the_park_s_weeks(new_project, investment):
    from yimatong.investment.actions import work
    from yimatong.stats.cockpit import activity_rows
    from yimatong.wechat.models import PortalArticle

    owner = investment.users["owner"]
    project = new_project()
    zone = timezone.get_current_timezone()
    # Monday 2 March 2026, half past midnight in the park: still Sunday in UTC.
    early_monday = dt.datetime(2026, 3, 2, 0, 30, tzinfo=zone)
    for starts_at in (
        early_monday,
        early_monday + dt.timedelta(days=3),
        early_monday - dt.timedelta(hours=1),
    ):
        work.schedule_visit(
            actor=owner,
            project=project,
            data={"title": "来园考察", "starts_at": starts_at, "ends_at": starts_at + dt.timedelta(hours=1)},
        )
    cancelled = work.schedule_visit(
        actor=owner,
        project=project,
        data={"title": "取消", "starts_at": early_monday, "ends_at": early_monday + dt.timedelta(hours=1)},
    )
    work.set_visit_status(actor=owner, visit=cancelled, status="cancelled")
    article = PortalArticle.objects.create(kind="park", slug="feed-week", title="园区动态", body="…")
    PortalArticle.objects.filter(pk=article.pk).update(created_at=early_monday + dt.timedelta(hours=2))
    PortalArticle.objects.create(kind="park", slug="feed-draft", title="草稿", body="…", is_published=False)

    rows = {row["week"]: row for row in activity_rows(dt.date(2026, 2, 23), dt.date(2026, 3, 8))}
    assert list(rows) == [dt.date(2026, 2, 23), dt.date(2026, 3, 2)]
    assert rows[dt.date(2026, 3, 2)]["visits_received"] == 2
    assert rows[dt.date(2026, 2, 23)]["visits_received"] == 1
    assert rows[dt.date(2026, 3, 2)]["publicity"] == 1
    assert rows[dt.date(2026, 2, 23)]["publicity"] == 0
