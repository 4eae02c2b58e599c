"""The demo park's monthly direct reports for 2020–2022, stored as enterprises would have filed
them (本月 and 累计, investment by project, two reports revised after their first filing), the
periods published by the statistics office, and each year's 规上工业 set fixed from the previous
year's revenue. The figures come from ``yimatong.stats.demo_panel``; the cockpit computes the
park's growth from them with the statistics bureau's formulas."""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils import timezone

from yimatong.accounts.models import User
from yimatong.directory.models import ChainNode, IndustryCode, Organization
from yimatong.stats import actions, checks
from yimatong.stats.demo_panel import DEMO_ENTERPRISES, YEARS, demo_panel
from yimatong.stats.indicators import CENT, Report, latest
from yimatong.stats.models import (
    FLOWS,
    InvestmentLine,
    MonthlyReport,
    Period,
    ReportingRules,
    ReportRevision,
)

# Industry class for the demo enterprises the park's directory does not have yet.
INDUSTRY_BY_CHAIN = {
    "tcm-patent": "2740",
    "chemical-formulation": "2720",
    "packaging": "2780",
    "rehab": "3586",
}
CODES = {code: prefix for prefix, code, _label, _unit in FLOWS}


# The bureau's targets for some chain nodes (enterprises to gather, annual output in 万元); the
# nodes left without one show up on the chain map as "no target".
CHAIN_TARGETS = {
    "antibody": (6, 60000),
    "vaccine-protein": (3, 15000),
    "adc": (4, None),
    "cgt": (3, None),
    "diagnostics": (5, 20000),
    "consumables": (6, 250000),
    "packaging": (5, None),
    "tcm-patent": (3, 20000),
    "cro-cdmo": (4, None),
}


def load_statistics(*, users: dict[str, User], nodes: dict[str, ChainNode], report: Any) -> None:
    for code, (enterprises, output) in CHAIN_TARGETS.items():
        if code in nodes:
            ChainNode.objects.filter(pk=nodes[code].pk).update(
                target_enterprises=enterprises, target_output=Decimal(output) if output else None
            )
    if MonthlyReport.objects.filter(year__in=YEARS).exists():
        report.count("unchanged")
        return
    officer = users["stats"]
    orgs = _enterprises(nodes, report)
    reports = demo_panel()
    final = {r.key: r for r in latest(reports)}
    first_versions = {r.key: r for r in reports if r.revision == 0 and final[r.key].revision > 0}
    today = timezone.localdate()
    collecting = _collecting(today)
    final.update(_later_years(final, collecting))
    # The period being collected now: most enterprises have reported, some (the demo's
    # enterprise user among them) not yet; it is not published.
    late = {uscc for i, uscc in enumerate(sorted(orgs)) if i % 6 == 0} | {
        e.uscc for e in DEMO_ENTERPRISES if e.name == "重庆智翔金泰生物制药股份有限公司"
    }
    rows: dict[tuple[str, int, int], MonthlyReport] = {}
    for key in sorted(final, key=lambda k: (k[1], k[2], k[0])):
        if collecting and key[1:] == collecting and key[0] in late:
            continue
        rows[key] = _report(final[key], orgs[key[0]], final, officer, published=key[1:] != collecting)
    MonthlyReport.objects.bulk_create(rows.values())
    lines, revisions = [], []
    for key, row in rows.items():
        lines += _lines(final[key], row, final)
    InvestmentLine.objects.bulk_create(lines)
    line_map = defaultdict(list)
    for line in lines:
        line_map[line.report_id].append(line)
    for key, row in rows.items():
        values = actions.snapshot(row, line_map[row.pk])
        if key in first_versions:
            preliminary = dict(values)
            for code, prefix in CODES.items():
                if code in first_versions[key].values:
                    preliminary[f"{prefix}_cum"] = str(first_versions[key].values[code])
            revisions.append(
                ReportRevision(
                    report=row,
                    number=1,
                    values=preliminary,
                    submitted_by=row.submitted_by,
                    submitted_at=row.submitted_at,
                )
            )
            revisions.append(
                ReportRevision(
                    report=row,
                    number=2,
                    values=values,
                    explanations={"revision": "财务结账后更正"},
                    submitted_by=row.submitted_by,
                    submitted_at=row.submitted_at + dt.timedelta(days=3),
                )
            )
        else:
            revisions.append(
                ReportRevision(
                    report=row,
                    number=1,
                    values=values,
                    submitted_by=row.submitted_by,
                    submitted_at=row.submitted_at,
                )
            )
        if row.status == MonthlyReport.Status.PUBLISHED:
            row.published_values = values
    MonthlyReport.objects.bulk_update(rows.values(), ["published_values"])
    ReportRevision.objects.bulk_create(revisions)
    last_year = collecting[0] if collecting else today.year - 1
    for year in range(YEARS[0], last_year + 1):
        rules, _created = ReportingRules.objects.get_or_create(year=year)
        actions.fix_above_scale(year=year, actor=officer, force=True)
        for month in range(2, 13):
            if collecting and (year, month) >= collecting:
                break
            published_at = timezone.make_aware(
                dt.datetime.combine(checks.deadline(year, month, rules), dt.time(17))
            )
            Period.objects.update_or_create(
                year=year, month=month, defaults={"published_at": published_at, "published_by": officer}
            )
    _targets(last_year)
    report.count("created")


def _enterprises(nodes: dict[str, ChainNode], report: Any) -> dict[str, Organization]:
    industries = {i.code: i for i in IndustryCode.objects.all()}
    orgs = {}
    for enterprise in DEMO_ENTERPRISES:
        org = Organization.objects.filter(uscc=enterprise.uscc).first()
        if org is None:
            org = Organization.objects.filter(name=enterprise.name).first()
        if org is None:
            org = Organization.objects.create(
                name=enterprise.name,
                uscc=enterprise.uscc,
                org_type=Organization.Type.RESIDENT,
                chain_node=nodes[enterprise.chain],
                industry=industries.get(INDUSTRY_BY_CHAIN.get(enterprise.chain, ""))
                if enterprise.industrial
                else None,
                district=None,
            )
            report.count("created")
        orgs[enterprise.uscc] = org
    return orgs


def _collecting(today: dt.date) -> tuple[int, int] | None:
    """The period enterprises are reporting now (last month's), or None in January and February
    (January is exempt: the last period, December, is closed and published)."""
    if today.month <= 2:
        return None
    return today.year, today.month - 1


def _later_years(final: dict, collecting: tuple[int, int] | None) -> dict:
    """2023 up to the period being collected: each enterprise's 2022 reports grown by a yearly
    factor of its own (−8% to +28%), so the cockpit opens on recent figures too. An investment
    project goes on at its 2022 pace until its planned total is spent."""
    rng = random.Random(2023)
    end_year, end_month = collecting or (dt.date.today().year - 1, 12)
    by_enterprise: dict[str, dict[int, Report]] = defaultdict(dict)
    spent: dict[str, Decimal] = defaultdict(Decimal)
    for (uscc, year, month), report in final.items():
        if year == YEARS[-1]:
            by_enterprise[uscc][month] = report
        if month == 12:
            spent[uscc] += report.values.get("fixed_asset_investment", Decimal(0))
    planned = {e.uscc: Decimal(e.project.planned) for e in DEMO_ENTERPRISES if e.project is not None}
    later: dict = {}
    for uscc in sorted(by_enterprise):
        months = by_enterprise[uscc]
        factor = Decimal(1)
        for year in range(YEARS[-1] + 1, end_year + 1):
            factor *= Decimal(str(round(rng.uniform(0.92, 1.28), 3)))
            remaining = planned.get(uscc, Decimal(0)) - spent[uscc]
            for month, base in sorted(months.items()):
                if year == end_year and month > end_month:
                    break
                values = {
                    code: (value * factor).quantize(CENT, ROUND_HALF_UP)
                    for code, value in base.values.items()
                    if code not in ("fixed_asset_investment", "industrial_investment")
                }
                total = base.values.get("fixed_asset_investment")
                if total and remaining > 0:
                    amount = min((total * factor).quantize(CENT, ROUND_HALF_UP), remaining)
                    share = base.values["industrial_investment"] / total
                    values["fixed_asset_investment"] = amount
                    values["industrial_investment"] = min(
                        amount, (amount * share).quantize(CENT, ROUND_HALF_UP)
                    )
                later[(uscc, year, month)] = Report(uscc, base.segment, year, month, values)
            december = later.get((uscc, year, 12))
            if december is not None:
                spent[uscc] += december.values.get("fixed_asset_investment", Decimal(0))
    return later


def _report(
    r: Any, org: Organization, final: dict, officer: User, *, published: bool = True
) -> MonthlyReport:
    before = final.get((r.enterprise, r.year, r.month - 1)) if r.month > 2 else None
    fields: dict[str, Any] = {}
    for code, prefix in CODES.items():
        if code in r.values:
            cumulative = r.values[code]
            previous = before.values.get(code) if before is not None else None
            fields[f"{prefix}_cum"] = cumulative
            fields[f"{prefix}_month"] = cumulative - previous if previous is not None else cumulative
    revenue = r.values.get("revenue") or Decimal(0)
    fields["employees"] = max(
        12, int((revenue / r.month * 12 / Decimal(90)).to_integral_value(ROUND_HALF_UP))
    )
    rules_deadline = checks.deadline(r.year, r.month, ReportingRules(year=r.year))
    filed = timezone.make_aware(dt.datetime.combine(rules_deadline - dt.timedelta(days=2), dt.time(10)))
    if not published:  # the period being collected: filed in the last days
        filed = timezone.now() - dt.timedelta(days=1 + (sum(map(ord, r.enterprise)) % 5), hours=3)
    return MonthlyReport(
        organization=org,
        year=r.year,
        month=r.month,
        segment=r.segment,
        status=MonthlyReport.Status.PUBLISHED if published else MonthlyReport.Status.SUBMITTED,
        revision=r.revision + 1,
        submitted_at=filed,
        published_at=filed + dt.timedelta(days=2, hours=7) if published else None,
        published_by=officer if published else None,
        **fields,
    )


def _lines(r: Any, row: MonthlyReport, final: dict) -> list[InvestmentLine]:
    if "fixed_asset_investment" not in r.values:
        return []
    spec = next(e for e in DEMO_ENTERPRISES if e.uscc == r.enterprise)
    before = final.get((r.enterprise, r.year, r.month - 1)) if r.month > 2 else None
    total, industrial = r.values["fixed_asset_investment"], r.values["industrial_investment"]
    had = before is not None and "fixed_asset_investment" in before.values
    return [
        InvestmentLine(
            report=row,
            name=spec.project.name,
            planned_total=Decimal(spec.project.planned),
            cumulative=total,
            month_amount=total - before.values["fixed_asset_investment"] if had else total,
            industrial_cumulative=industrial,
            industrial_month=industrial - before.values["industrial_investment"] if had else industrial,
        )
    ]


def _targets(last_year: int) -> None:
    """Each year's annual targets: a fifth above what the same enterprises did the year before."""
    from yimatong.stats.compute import compute

    for year in range(YEARS[0] + 1, last_year + 1):
        if not MonthlyReport.objects.filter(year=year - 1, month=12).exists():
            continue
        last = compute(year - 1, 12)
        rules, _created = ReportingRules.objects.get_or_create(year=year)
        rules.targets = {
            code: str((last.results[code].value * Decimal("1.2")).quantize(Decimal("1"), ROUND_HALF_UP))
            for code in ("industrial_output", "fixed_asset_investment", "industrial_investment", "tax")
            if last.results[code].value
        }
        rules.save(update_fields=["targets", "updated_at"])
