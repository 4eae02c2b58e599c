"""From the stored reports to the indicators: the panel the formulas of
``yimatong.stats.indicators`` run on, read from the database.

Which figures count. A period that has been published counts its published figures (frozen at
publication; a correction made since waits for the next publication); a period not yet
published counts the latest revision, and the result says it is preliminary.

Scopes. Industrial output, revenue and electricity are counted over the year's 规上工业 set as
it stands for the period (``AboveScaleMember``: fixed once last December's reports are in, an
entrant counted from its month, an exit no longer from its month); fixed-asset and industrial investment
over the investment lines whose planned total is at least the year's threshold (500万元), so
an enterprise's investment figure is the sum of its projects in scope; tax over every reporter.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Q

from yimatong.stats import indicators as formulas
from yimatong.stats.models import AboveScaleMember, InvestmentLine, MonthlyReport, Period, ReportingRules

CUMULATIVE = {
    "industrial_output": "output_cum",
    "revenue": "revenue_cum",
    "tax": "tax_cum",
    "electricity": "electricity_cum",
}


@dataclass
class Computed:
    year: int
    month: int
    preliminary: bool  # the period is not published: the latest revisions count
    published_at: Any
    results: dict[str, formulas.Result]
    names: dict[str, str]  # enterprise key -> name


def _values(figures: dict[str, Any], threshold: Decimal) -> dict[str, Decimal]:
    values: dict[str, Decimal] = {}
    for code, field in CUMULATIVE.items():
        if figures.get(field) is not None:
            values[code] = Decimal(str(figures[field]))
    in_scope = [
        line for line in figures.get("lines") or [] if Decimal(str(line["planned_total"])) >= threshold
    ]
    if in_scope:
        values["fixed_asset_investment"] = sum(
            (Decimal(str(line["cumulative"])) for line in in_scope), Decimal(0)
        )
        values["industrial_investment"] = sum(
            (Decimal(str(line["industrial_cumulative"])) for line in in_scope), Decimal(0)
        )
    return values


def panel(years: list[int], months: list[int], *, published: dict[tuple[int, int], bool]) -> formulas.Panel:
    """The reports of ``years`` × ``months`` as the formulas read them, one version each."""
    thresholds = {
        year: rules.investment_project_min for year, rules in ReportingRules.for_years(years).items()
    }
    # Plain rows in no order (the panel is keyed; the default order joins the organizations to
    # sort by name), and the investment lines only of the periods read live: a published period
    # counts the lines frozen in ``published_values``.
    reports = (
        MonthlyReport.objects.filter(year__in=years, month__in=months)
        .order_by()
        .values("pk", "organization_id", "year", "month", "segment", "published_values", *CUMULATIVE.values())
    )
    live = Q(pk__in=[])
    for year in years:
        for month in months:
            if not published.get((year, month)):
                live |= Q(report__year=year, report__month=month)
    lines: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for report_id, planned_total, cumulative, industrial_cumulative in (
        InvestmentLine.objects.filter(live)
        .order_by()
        .values_list("report_id", "planned_total", "cumulative", "industrial_cumulative")
    ):
        lines[report_id].append(
            {
                "planned_total": planned_total,
                "cumulative": cumulative,
                "industrial_cumulative": industrial_cumulative,
            }
        )
    rows = []
    for report in reports:
        if published.get((report["year"], report["month"])):
            if report["published_values"] is None:
                continue  # filed after the period was published: it waits for the next publication
            figures = report["published_values"]
        else:
            figures = {field: report[field] for field in CUMULATIVE.values()}
            figures["lines"] = lines.get(report["pk"], [])
        rows.append(
            formulas.Report(
                enterprise=str(report["organization_id"]),
                segment=(
                    figures.get("segment")
                    if isinstance(figures, dict) and figures.get("segment")
                    else report["segment"]
                )
                or "other",
                year=report["year"],
                month=report["month"],
                values=_values(figures, thresholds[report["year"]]),
            )
        )
    return formulas.Panel(rows)


def _published(years: list[int], months: list[int]) -> dict[tuple[int, int], Period]:
    return {
        (p.year, p.month): p
        for p in Period.objects.filter(year__in=years, month__in=months, published_at__isnull=False)
    }


def _above_scale_by_month(year: int) -> Any:
    """``month -> frozenset`` of the year's 规上工业 set in force for January–month, from one
    read of the year's members."""
    rows = list(
        AboveScaleMember.objects.filter(year=year).values_list("organization_id", "from_month", "left_month")
    )

    def at(month: int) -> frozenset[str]:
        return frozenset(
            str(pk) for pk, joined, left in rows if joined <= month and (left is None or left > month)
        )

    return at


def _year_rules(year: int, data: formulas.Panel) -> tuple[Any, dict[str, Decimal]]:
    """``month -> Scopes`` of ``year`` (its 规上工业 set for the period; every enterprise of the
    panel for investment, whose scope is the lines already summed in) and its annual targets."""
    above = _above_scale_by_month(year)
    everyone = frozenset(r.enterprise for r in data)
    rules = ReportingRules.for_year(year)
    targets = {
        code: Decimal(str(v))
        for code, v in (rules.targets or {}).items()
        if code in formulas.INDICATORS and v
    }

    def scopes(month: int) -> formulas.Scopes:
        return formulas.Scopes(above_scale=above(month), investment=everyone)

    return scopes, targets


def compute(
    year: int, month: int, *, codes: list[str] | None = None, data: formulas.Panel | None = None
) -> Computed:
    """The park's indicators for January–``month`` of ``year``: value, comparable base, growth,
    monthly growth, two-year average, target progress, per segment and per enterprise.
    ``data`` is a panel already read that holds the periods needed (see ``trend``)."""
    formulas._check_month(month)
    years = [year, year - 1, year - 2]
    months = [month, month - 1] if month > formulas.FIRST_MONTH else [month]
    periods = _published(years, months)
    if data is None:
        data = panel(years, months, published={key: True for key in periods})
    scopes, targets = _year_rules(year, data)
    results = formulas.indicators(data, year, month, scopes(month), targets=targets, codes=codes)
    from yimatong.directory.models import Organization

    keys = {int(k) for result in results.values() for k in result.enterprises}
    names = {str(pk): name for pk, name in Organization.objects.filter(pk__in=keys).values_list("pk", "name")}
    current = periods.get((year, month))
    return Computed(
        year=year,
        month=month,
        preliminary=current is None,
        published_at=current.published_at if current else None,
        results=results,
        names=names,
    )


def latest_period() -> tuple[int, int] | None:
    """The most recent period with reports (published first)."""
    found = Period.objects.filter(published_at__isnull=False).order_by("-year", "-month").first()
    if found is not None:
        return found.year, found.month
    report = MonthlyReport.objects.order_by("-year", "-month").values("year", "month").first()
    return (report["year"], report["month"]) if report else None


def trend(year: int, codes: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Cumulative and monthly growth of indicators for each period of ``year`` so far, from one
    reading of the three years' reports (the trend charts): the figures ``compute`` gives for
    each period (value, cumulative and monthly growth over the comparable set), the year's
    scopes read once and nothing else computed (no breakdowns, no names)."""
    months = sorted(
        MonthlyReport.objects.filter(year=year).order_by().values_list("month", flat=True).distinct()
    )
    if not months:
        return {code: [] for code in codes}
    for code in codes:
        if code not in formulas.INDICATORS:
            raise ValueError(f"unknown indicator {code!r}; known: {', '.join(formulas.INDICATORS)}")
    years = [year, year - 1, year - 2]
    every = list(range(formulas.FIRST_MONTH, max(months) + 1))
    data = panel(years, every, published={key: True for key in _published(years, every)})
    scopes, _targets = _year_rules(year, data)
    rows: dict[str, list[dict[str, Any]]] = {code: [] for code in codes}
    for month in months:
        for code in codes:
            scope = scopes(month).of(formulas.INDICATORS[code])
            cumulative = formulas.cumulative_yoy(data, code, year, month, scope)
            rows[code].append(
                {
                    "month": month,
                    "value": cumulative.value,
                    "growth": cumulative.growth,
                    "monthly_growth": formulas.monthly_yoy(data, code, year, month, scope).growth,
                }
            )
    return rows
