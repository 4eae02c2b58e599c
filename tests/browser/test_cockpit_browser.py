"""The leaders' cockpit and the monthly statistics report in a real browser.

A leader opens the cockpit (领导驾驶舱) over two years of reports of two industrial enterprises
and reads the headline growth the formulas give (computed by hand below), every chart drawn by
ECharts, a chart's 数据表, another period through the filters, a chart's Excel (the same rows as
its table) and its PNG, with no JavaScript error. An enterprise files a monthly report in the
console whose cumulative revenue is far above the same period last year: the soft checks ask for
a word of explanation (the figures stay in the form), an empty one is asked again, a written one
is accepted and kept in the revision history; a cumulative that is not last month's cumulative
plus this month is refused beside the field. Promoters and enterprises may not open the cockpit.

Fixtures (tests/browser/conftest.py): ``live_park`` is the suite's park committed for the live
server, ``page`` a chromium tab, ``sign_in(user)`` a session cookie. ``figures_filed`` below
files the cockpit's reports through ``actions.submit_report`` as the statistics office would
(an after-deadline filing explained by ``auto_explanation``). Screenshots for people to look at
go to /tmp/shots/ (cockpit.png, report-soft-check.png).
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from playwright.sync_api import expect

from tests.conftest import Park
from tests.factories import DepartmentFactory, UserFactory
from yimatong.accounts.models import User
from yimatong.directory.models import IndustryCode, Organization
from yimatong.stats import actions
from yimatong.stats.models import MonthlyReport

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots")
COCKPIT = "/stats/cockpit/"
REPORT_NEW = "/stats/reports/new/"
REPORT_URL = re.compile(r"/stats/reports/\d+/$")
YEAR, LAST = 2025, 2024
D = Decimal

# Cumulative industrial output (万元) of the two enterprises, 1–3 月 and 1–6 月:
#   智翔金泰 2024: 1000, 2000   2025: 1200, 2600
#   宏冠     2024:  500, 1000   2025:  550, 1150
# Both are 规上 in 2025 (December 2024 revenue ≥ 2000), so the comparable set is both:
#   1–6 月: (2600 + 1150 − 2000 − 1000) / 3000 × 100 = 750 / 3000 × 100 = 25.00
#   1–3 月: (1200 + 550 − 1000 − 500) / 1500 × 100 = 250 / 1500 × 100 = 16.666… → 16.67
# Fixed-asset investment: one project of 智翔金泰 (planned 8000 ≥ 500), cumulative (industrial):
#   2024: 1–3 月 100 (80), 1–6 月 300 (200)   2025: 1–3 月 120 (100), 1–6 月 450 (260)
#   固定资产投资 1–6 月: (450 − 300) / 300 = 50.00; 1–3 月: (120 − 100) / 100 = 20.00
#   工业投资     1–6 月: (260 − 200) / 200 = 30.00; 1–3 月: (100 − 80) / 80 = 25.00
OUTPUT = {
    "zhixiang": {
        (LAST, 3): "1000",
        (LAST, 6): "2000",
        (LAST, 12): "4000",
        (YEAR, 3): "1200",
        (YEAR, 6): "2600",
    },
    "hongguan": {
        (LAST, 3): "500",
        (LAST, 6): "1000",
        (LAST, 12): "2200",
        (YEAR, 3): "550",
        (YEAR, 6): "1150",
    },
}
PROJECT = {
    (LAST, 3): ("100", "80"),
    (LAST, 6): ("300", "200"),
    (YEAR, 3): ("120", "100"),
    (YEAR, 6): ("450", "260"),
}
HEADLINE = {
    6: {"规上工业产值": "+25.00%", "固定资产投资": "+50.00%", "工业投资": "+30.00%"},
    3: {"规上工业产值": "+16.67%", "固定资产投资": "+20.00%", "工业投资": "+25.00%"},
}


@dataclass
class Figures:
    park: Park
    officer: User  # the statistics office (经济运行局统计科)
    zhixiang: Organization  # the enterprise persona's company: 生物药品制造 (2761), biologics
    hongguan: Organization  # the other resident: 医疗诊断设备制造 (3581), devices


def industrial(org: Organization, code: str, name: str) -> Organization:
    # The live server's tests flush the tables after each test, the migration's codes with them.
    industry, _created = IndustryCode.objects.get_or_create(
        code=code, defaults={"name": name, "level": IndustryCode.Level.CLASS}
    )
    Organization.objects.filter(pk=org.pk).update(industry=industry)
    org.refresh_from_db()
    return org


def report_data(output_cum: str, *, lines: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """An industrial report's figures: revenue 1.1 × output, tax 5%, electricity 3%; 本月 a third
    of the cumulative (the month before is not filed, so only 累计 ≥ 本月 is checked)."""
    output = D(output_cum)
    cum = {
        "output": output,
        "revenue": output * D("1.1"),
        "tax": output / 20,
        "electricity": output * D("0.03"),
    }
    data: dict[str, Any] = {"employees": 120, "lines": lines or []}
    for prefix, value in cum.items():
        data[f"{prefix}_cum"] = value.quantize(D("0.01"))
        data[f"{prefix}_month"] = (value / 3).quantize(D("0.01"))
    return data


def file(figures: Figures, org: Organization, year: int, month: int, data: dict[str, Any]) -> MonthlyReport:
    return actions.submit_report(
        actor=figures.officer,
        organization=org,
        year=year,
        month=month,
        data=data,
        auto_explanation="统计部门补录历史数据",
    )


@pytest.fixture
def statistics_office(live_park: Park) -> Figures:
    office = DepartmentFactory(code="statistics", name="经济运行局统计科", is_statistics_office=True)
    officer = UserFactory(username="statistician", name="钱统计", role=User.Role.SERVICE, department=office)
    return Figures(
        live_park,
        officer,
        industrial(live_park.resident, "2761", "生物药品制造"),
        industrial(live_park.other_resident, "3581", "医疗诊断设备制造"),
    )


@pytest.fixture
def figures_filed(statistics_office: Figures) -> Figures:
    """Two years of reports of both enterprises, and 2025's 规上工业 set fixed from December 2024."""
    figures = statistics_office
    for key, periods in OUTPUT.items():
        org = getattr(figures, key)
        for (year, month), output_cum in periods.items():
            lines = []
            if key == "zhixiang" and (year, month) in PROJECT:
                cumulative, industrial_cumulative = PROJECT[(year, month)]
                lines = [
                    {
                        "name": "智翔金泰抗体产业化基地",
                        "planned_total": D("8000"),
                        "month_amount": D(cumulative) / 2,
                        "cumulative": D(cumulative),
                        "industrial_month": D(industrial_cumulative) / 2,
                        "industrial_cumulative": D(industrial_cumulative),
                    }
                ]
            file(figures, org, year, month, report_data(output_cum, lines=lines))
    assert actions.fix_above_scale(year=YEAR, force=True) == 2
    return figures


def url(live_server: Any, path: str) -> str:
    return live_server.url + path


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def js_errors(page: Any) -> list[str]:
    """Every console error and uncaught exception of ``page`` from now on."""
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(f"pageerror: {error}"))
    return errors


def kpi(page: Any, label: str) -> Any:
    return page.locator(".kpi", has=page.locator(".kpi-label", has_text=label)).locator(".kpi-value")


def table_rows(table: Any) -> list[list[str]]:
    return [
        [cell.strip() for cell in row]
        for row in table.locator("tbody tr").evaluate_all(
            "rows => rows.map(r => Array.from(r.cells, c => c.textContent))"
        )
    ]


def figure(value: Any) -> Any:
    """A cell of the 数据表 (text) or of the Excel sheet, to compare them: a number as a float
    (the table shows 1750.0, the sheet holds 1750), no figure (— in the table) as None."""
    if value is None or value == "—":
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(value)
    except ValueError:
        return value


def check_charts_drawn(page: Any) -> None:
    """Every chart with figures is drawn by ECharts (a chart without any says 本期没有数据)."""
    canvases = page.locator(".chart-canvas")
    drawn = canvases.evaluate_all("els => els.map(e => e.id.replace('chart-canvas-', ''))")
    assert {"indicators", "segments", "trend", "enterprises", "chain"} <= set(drawn)
    empty = page.locator(".chart-card p.empty").count()
    assert len(drawn) + empty == page.locator(".chart-card").count()
    for index in range(canvases.count()):
        chart = canvases.nth(index)
        expect(chart).to_have_attribute("data-ready", "1")
        expect(chart.locator("canvas")).to_have_count(1)


def test_a_leader_reads_the_growth_in_the_cockpit_opens_a_charts_table_changes_period_and_exports_it(
    page, live_server, sign_in, figures_filed
):
    errors = js_errors(page)
    sign_in(figures_filed.park.users["leader"])
    page.goto(url(live_server, COCKPIT))

    # The latest period with reports: 2025 1–6 月, preliminary (not published).
    expect(page.get_by_role("heading", name="领导驾驶舱")).to_be_visible()
    expect(page.locator(".page-head .muted")).to_contain_text("统计数据为初步数")
    for label, growth in HEADLINE[6].items():
        expect(kpi(page, label)).to_have_text(growth)
    expect(page.locator(".kpi", has_text="规上工业产值")).to_contain_text("累计 3750.00 万元")
    check_charts_drawn(page)
    shot(page, "cockpit")

    # 数据表 shows the figures behind the indicators chart.
    card = page.locator("#chart-indicators")
    table = card.locator(".chart-table")
    expect(table).to_be_hidden()
    card.get_by_role("button", name="数据表").click()
    expect(table).to_be_visible()
    expect(card.get_by_role("button", name="数据表")).to_have_attribute("aria-expanded", "true")
    output_row = table.locator("tbody tr", has_text="规上工业总产值")
    expect(output_row.locator("td").nth(2)).to_have_text("3750")  # 1–n月累计
    expect(output_row.locator("td").nth(3)).to_have_text("3000")  # 上年同期（同口径）
    expect(output_row.locator("td").nth(4)).to_have_text("25")  # 累计增速（%）

    # Another period: 2025 1–3 月.
    page.locator("form.filters select[name=year]").select_option(str(YEAR))
    page.locator("form.filters select[name=month]").select_option(label="1–3 月")
    page.locator("form.filters").get_by_role("button", name="查看").click()
    page.wait_for_url(re.compile(rf"year={YEAR}&month=3"))
    expect(page.locator("form.filters select[name=month]")).to_have_value("3")
    for label, growth in HEADLINE[3].items():
        expect(kpi(page, label)).to_have_text(growth)
    check_charts_drawn(page)
    card = page.locator("#chart-indicators")
    expect(card.get_by_role("heading")).to_have_text(f"{YEAR}年1–3月主要指标（同口径累计增速）")
    card.get_by_role("button", name="数据表").click()
    table = card.locator(".chart-table")
    expect(table).to_be_visible()
    output_row = table.locator("tbody tr", has_text="规上工业总产值")
    expect(output_row.locator("td").nth(2)).to_have_text("1750")
    expect(output_row.locator("td").nth(3)).to_have_text("1500")
    expect(output_row.locator("td").nth(4)).to_have_text("16.67")
    shown = table_rows(table)
    headers = [h.strip() for h in table.locator("thead th").all_text_contents()]

    # 导出 Excel: the first sheet holds the table's header and rows, for the period on screen.
    with page.expect_download() as download:
        card.get_by_role("link", name="导出 Excel").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    assert "1–3月" in download.value.suggested_filename
    content = Path(download.value.path()).read_bytes()
    sheet = openpyxl.load_workbook(io.BytesIO(content), read_only=True).worksheets[0]
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert [str(c) for c in rows[0]] == headers
    assert [[figure(v) for v in row] for row in rows[1:]] == [[figure(v) for v in row] for row in shown]
    assert len(shown) == 6  # every indicator

    # 导出图片: a PNG of the chart, made in the browser.
    with page.expect_download() as picture:
        card.get_by_role("button", name="导出图片").click()
    assert picture.value.suggested_filename == f"{YEAR}年1–3月主要指标（同口径累计增速）.png"
    assert Path(picture.value.path()).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    assert errors == []


# The monthly report in the console -----------------------------------------------------------

# 智翔金泰's figures before the report of 2025 1–6 月: 1–5 月 2025 and 1–6 月 2024 (万元).
MAY = {"output": "1100", "revenue": "1200", "tax": "50", "electricity": "80"}
LAST_JUNE = {"output": "1200", "revenue": "1300", "tax": "55", "electricity": "90"}
# The June report: revenue 1200 + 900 = 2100, +61.5% on last year's 1300 (beyond ±30%).
JUNE = {
    "output_month": "220",
    "output_cum": "1320",
    "revenue_month": "900",
    "revenue_cum": "2100",
    "tax_month": "10",
    "tax_cum": "60",
    "electricity_month": "16",
    "electricity_cum": "96",
    "employees": "120",
}
YOY = "营业收入累计同比 +61.5%，超出 ±30% 的提示范围。"
LATE = "已过本期报送截止日（2025-07-08），请说明逾期报送或修改的原因。"


def cumulative_only(values: dict[str, str], month: int) -> dict[str, Any]:
    data: dict[str, Any] = {"employees": 120, "lines": []}
    for prefix, cum in values.items():
        data[f"{prefix}_cum"] = D(cum)
        data[f"{prefix}_month"] = (D(cum) / month).quantize(D("0.01"))
    return data


@pytest.fixture
def enterprise_history(statistics_office: Figures) -> Figures:
    figures = statistics_office
    file(figures, figures.zhixiang, LAST, 6, cumulative_only(LAST_JUNE, 6))
    file(figures, figures.zhixiang, YEAR, 5, cumulative_only(MAY, 5))
    return figures


def open_report_form(page: Any, live_server: Any) -> None:
    page.goto(url(live_server, REPORT_NEW))
    expect(page.get_by_role("heading", name="报送统计报表")).to_be_visible()
    page.locator("#id_year").fill(str(YEAR))
    page.locator("#id_month").select_option(label="1–6 月")
    for name in JUNE:  # every figure the checks require has its field, 期末从业人数 included
        expect(page.locator(f"#id_{name}"), f"the report form has no field {name!r}").to_be_visible()


def fill_figures(page: Any, values: dict[str, str]) -> None:
    for name, value in values.items():
        page.locator(f"#id_{name}").fill(value)


def submit(page: Any, button: str) -> Any:
    with page.expect_response(lambda r: r.request.method == "POST" and REPORT_NEW in r.url) as answer:
        page.get_by_role("button", name=button, exact=True).click()
    page.wait_for_load_state()
    return answer.value


def test_an_enterprise_explains_a_revenue_far_above_last_year_before_its_report_is_accepted(
    page, live_server, sign_in, enterprise_history
):
    errors = js_errors(page)
    enterprise = enterprise_history.park.users["enterprise"]
    sign_in(enterprise)
    open_report_form(page, live_server)
    fill_figures(page, JUNE)

    # The soft checks: revenue +61.5% on last year, and a filing after 8 July 2025.
    assert submit(page, "报送").status == 400
    checks = page.locator("section.soft-checks")
    expect(checks.locator(".alert-warning")).to_contain_text("以下 2 项数据需要说明情况后才能报送")
    yoy = checks.locator("textarea[name='explain_yoy:revenue']")
    late = checks.locator("textarea[name='explain_late']")
    expect(checks.get_by_label(YOY)).to_have_count(1)
    expect(checks.get_by_label(LATE)).to_have_count(1)
    expect(yoy).to_have_value("")
    expect(late).to_have_value("")
    for name, value in JUNE.items():  # the figures are kept in the form
        expect(page.locator(f"#id_{name}")).to_have_value(value)
    expect(page.locator("#id_year")).to_have_value(str(YEAR))
    expect(page.locator("#id_month")).to_have_value("6")
    shot(page, "report-soft-check")
    assert not MonthlyReport.objects.filter(organization=enterprise.organization, year=YEAR, month=6).exists()

    # Left empty (or a single character): asked again, nothing stored.
    late.fill("晚")
    assert submit(page, "说明情况并报送").status == 400
    checks = page.locator("section.soft-checks")
    expect(checks.locator("textarea[name='explain_yoy:revenue']")).to_have_value("")
    expect(checks.get_by_label(YOY)).to_have_count(1)
    expect(checks.get_by_label(LATE)).to_have_count(1)
    expect(page.locator("#id_revenue_cum")).to_have_value("2100")
    assert not MonthlyReport.objects.filter(organization=enterprise.organization, year=YEAR, month=6).exists()

    # Explained: accepted, and the report says so.
    explanation = "二季度新产品上市，订单集中交付"
    checks.locator("textarea[name='explain_yoy:revenue']").fill(explanation)
    checks.locator("textarea[name='explain_late']").fill("财务结账延后，补报")
    submit(page, "说明情况并报送")
    expect(page).to_have_url(REPORT_URL)
    expect(page.locator(".messages, .alert-success").first).to_contain_text(
        "2025年1–6月报表已报送（第 1 版）"
    )
    expect(page.locator(".page-head .muted")).to_contain_text("已报送")
    history = page.locator("ol.timeline li")
    expect(history).to_have_count(1)
    expect(history).to_contain_text("第 1 版")
    expect(history).to_contain_text(f"⚠ {YOY}")
    expect(history).to_contain_text(f"说明：{explanation}")
    expect(history).to_contain_text("截止后")
    expect(history).to_contain_text("营业收入累计 2100")

    report = MonthlyReport.objects.get(organization=enterprise.organization, year=YEAR, month=6)
    assert report.status == MonthlyReport.Status.SUBMITTED
    assert report.revenue_cum == D("2100")
    assert report.submitted_by == enterprise
    assert report.explanations == {"yoy:revenue": explanation, "late": "财务结账延后，补报"}
    # The refusals answer 400 (the browser logs each as a failed load); nothing else went wrong.
    assert [e for e in errors if "status of 400" not in e] == []


def test_a_cumulative_that_is_not_last_months_plus_this_month_is_refused_beside_the_field(
    page, live_server, sign_in, enterprise_history
):
    enterprise = enterprise_history.park.users["enterprise"]
    sign_in(enterprise)
    open_report_form(page, live_server)
    fill_figures(page, {**JUNE, "revenue_cum": "2000"})  # 1200 + 900 is 2100

    assert submit(page, "报送").status == 400
    expect(page.locator(".alert-error")).to_contain_text("报表有误，未保存：请按提示修改。")
    field = page.locator("#field-revenue_cum")
    expect(field).to_have_class(re.compile(r"\bhas-error\b"))
    expect(field.locator(".error")).to_have_text(
        re.compile(r"^营业收入：上月累计 1200\.00 \+ 本月 900 ≠ 本月累计 2000（容差 0\.50? 万元）。$")
    )
    expect(page.locator(".field.has-error")).to_have_count(1)  # only that field
    expect(page.locator("section.soft-checks")).to_have_count(0)  # refused, not asked
    expect(page.locator("#id_revenue_cum")).to_have_value("2000")
    assert not MonthlyReport.objects.filter(organization=enterprise.organization, year=YEAR, month=6).exists()


@pytest.mark.parametrize("persona", ["owner", "enterprise"])
def test_a_promoter_or_an_enterprise_opening_the_cockpit_is_refused(
    page, live_server, sign_in, live_park, persona
):
    sign_in(live_park.users[persona])
    response = page.goto(url(live_server, COCKPIT))
    assert response.status == 403
    expect(page.locator(".chart-canvas")).to_have_count(0)
    expect(page.locator(".kpi")).to_have_count(0)
