"""The checks a monthly report passes before it is stored.

**Hard checks** refuse the report, naming the field and the rule: required figures, the unit
(万元: a figure above 1,000亿元 for one enterprise is a figure in 元), no negative flow,
previous month's cumulative + this month = this month's cumulative (within the year's
tolerance; January–February's month is its cumulative), a cumulative never below last
month's, and an investment project's industrial part within its total.

**Soft checks** ask for an explanation, then accept: a cumulative changing by more than the
year's bound against the same period last year, industrial output over revenue outside the
year's band, a zero where the enterprise was active (last month or the same period last year),
and a filing or an edit after the period's deadline. Each has a code; the explanation is kept
with the revision under that code.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from yimatong.stats.models import FIRST_MONTH, FLOWS, ReportingRules

UNIT_CEILING = Decimal("10000000")  # 万元: 1,000亿元 in one month from one enterprise is a unit slip


@dataclass(frozen=True)
class Warning:
    code: str
    field: str
    message: str


def _plain(value: Decimal) -> str:
    """30.00 as 30, 0.50 as 0.5."""
    return f"{Decimal(value).normalize():f}"


def deadline(year: int, month: int, rules: ReportingRules) -> dt.date:
    """The reports of a period are due on ``deadline_day`` of the following month."""
    if month == 12:
        return dt.date(year + 1, 1, rules.deadline_day)
    return dt.date(year, month + 1, rules.deadline_day)


def labels() -> dict[str, str]:
    names = {}
    for prefix, _code, label, unit in FLOWS:
        names[f"{prefix}_month"] = _("%(label)s本月（%(unit)s）") % {"label": label, "unit": unit}
        names[f"{prefix}_cum"] = _("%(label)s累计（%(unit)s）") % {"label": label, "unit": unit}
    names["employees"] = _("期末从业人数")
    return names


def required_fields(industrial: bool) -> list[str]:
    prefixes = ["output", "revenue", "tax", "electricity"] if industrial else ["revenue", "tax"]
    return [f"{p}_{kind}" for p in prefixes for kind in ("month", "cum")] + ["employees"]


def hard_errors(
    data: dict[str, Any],
    *,
    month: int,
    industrial: bool,
    previous: Any | None,
    previous_lines: dict[str, Any],
    rules: ReportingRules,
) -> dict[str, list[str]]:
    """Every hard error as {field: [message]}; empty when the report may be stored."""
    errors: dict[str, list[str]] = {}
    names = labels()

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    for field in required_fields(industrial):
        if data.get(field) is None:
            add(field, _("%(field)s为必填项。") % {"field": names[field]})
    tolerance = rules.tolerance
    for prefix, _code, label, _unit in FLOWS:
        this_month, cumulative = data.get(f"{prefix}_month"), data.get(f"{prefix}_cum")
        for field, value in ((f"{prefix}_month", this_month), (f"{prefix}_cum", cumulative)):
            if value is None:
                continue
            if value < 0:
                add(field, _("%(field)s不能为负数。") % {"field": names[field]})
            elif value > UNIT_CEILING:
                add(field, _("%(field)s超过 1000 亿元：单位应为万元，请核对。") % {"field": names[field]})
        if this_month is None or cumulative is None or this_month < 0 or cumulative < 0:
            continue
        if month == FIRST_MONTH:
            if abs(this_month - cumulative) > tolerance:
                add(
                    f"{prefix}_cum",
                    _("1–2 月为第一期，%(label)s本月应等于累计（本月 %(month)s，累计 %(cum)s）。")
                    % {"label": label, "month": this_month, "cum": cumulative},
                )
            continue
        before = getattr(previous, f"{prefix}_cum", None) if previous is not None else None
        if before is None:
            if cumulative + tolerance < this_month:
                add(
                    f"{prefix}_cum",
                    _("%(label)s累计 %(cum)s 小于本月 %(month)s。")
                    % {"label": label, "cum": cumulative, "month": this_month},
                )
            continue
        if cumulative < before:
            add(
                f"{prefix}_cum",
                _("%(label)s累计 %(cum)s 小于上月累计 %(before)s：累计数在年内不能减少。")
                % {"label": label, "cum": cumulative, "before": before},
            )
        elif abs(before + this_month - cumulative) > tolerance:
            add(
                f"{prefix}_cum",
                _("%(label)s：上月累计 %(before)s + 本月 %(month)s ≠ 本月累计 %(cum)s（容差 %(tol)s 万元）。")
                % {
                    "label": label,
                    "before": before,
                    "month": this_month,
                    "cum": cumulative,
                    "tol": tolerance,
                },
            )
    for index, line in enumerate(data.get("lines") or [], 1):
        where = _("投资项目 %(n)s（%(name)s）") % {"n": index, "name": line.get("name") or "—"}
        if not (line.get("name") or "").strip():
            add("lines", _("%(where)s：项目名称为必填项。") % {"where": where})
            continue
        amounts = ("planned_total", "month_amount", "cumulative", "industrial_month", "industrial_cumulative")
        if any(line.get(k) is None for k in amounts[:3]):
            add("lines", _("%(where)s：计划总投资、本月和累计完成投资为必填项。") % {"where": where})
            continue
        if any((line.get(k) or 0) < 0 for k in amounts) or line["planned_total"] <= 0:
            add("lines", _("%(where)s：投资额不能为负数，计划总投资须大于 0。") % {"where": where})
            continue
        if (line.get("industrial_cumulative") or 0) > line["cumulative"] or (
            line.get("industrial_month") or 0
        ) > line["month_amount"]:
            add("lines", _("%(where)s：其中工业投资不能大于完成投资。") % {"where": where})
        before_line = previous_lines.get(line["name"].strip())
        if month == FIRST_MONTH:
            if abs(line["month_amount"] - line["cumulative"]) > tolerance:
                add("lines", _("%(where)s：1–2 月本月完成投资应等于累计。") % {"where": where})
        elif (
            before_line is not None
            and abs(before_line.cumulative + line["month_amount"] - line["cumulative"]) > tolerance
        ):
            add(
                "lines",
                _("%(where)s：上月累计 %(before)s + 本月 %(month)s ≠ 累计 %(cum)s。")
                % {
                    "where": where,
                    "before": before_line.cumulative,
                    "month": line["month_amount"],
                    "cum": line["cumulative"],
                },
            )
    return errors


def soft_warnings(
    data: dict[str, Any],
    *,
    year: int,
    month: int,
    industrial: bool,
    previous: Any | None,
    last_year: Any | None,
    rules: ReportingRules,
    today: dt.date,
) -> list[Warning]:
    """The figures that need a word of explanation before they are accepted."""
    found: list[Warning] = []
    names = labels()
    bound = rules.yoy_bound
    for prefix, _code, label, _unit in FLOWS:
        cumulative = data.get(f"{prefix}_cum")
        base = getattr(last_year, f"{prefix}_cum", None) if last_year is not None else None
        if cumulative is not None and base:
            change = (cumulative - base) * 100 / base
            if abs(change) > bound:
                found.append(
                    Warning(
                        f"yoy:{prefix}",
                        f"{prefix}_cum",
                        _("%(label)s累计同比 %(change)s%%，超出 ±%(bound)s%% 的提示范围。")
                        % {"label": label, "change": f"{change:+.1f}", "bound": _plain(bound)},
                    )
                )
        this_month = data.get(f"{prefix}_month")
        was = getattr(previous, f"{prefix}_month", None) if previous is not None else None
        last_year_month = getattr(last_year, f"{prefix}_month", None) if last_year is not None else None
        if this_month == 0 and ((was or 0) > 0 or (last_year_month or 0) > 0):
            found.append(
                Warning(
                    f"zero:{prefix}",
                    f"{prefix}_month",
                    _("%(field)s为 0，而上月或去年同期有数（停产、搬迁还是漏填？）。")
                    % {"field": names[f"{prefix}_month"]},
                )
            )
    output, revenue = data.get("output_cum"), data.get("revenue_cum")
    if industrial and output and revenue:
        ratio = output / revenue
        if not rules.ratio_min <= ratio <= rules.ratio_max:
            found.append(
                Warning(
                    "ratio",
                    "output_cum",
                    _("工业总产值与营业收入之比为 %(ratio)s，不在 %(low)s–%(high)s 之间。")
                    % {
                        "ratio": f"{ratio:.2f}",
                        "low": _plain(rules.ratio_min),
                        "high": _plain(rules.ratio_max),
                    },
                )
            )
    due = deadline(year, month, rules)
    if today > due:
        found.append(
            Warning(
                "late",
                "",
                _("已过本期报送截止日（%(date)s），请说明逾期报送或修改的原因。") % {"date": due.isoformat()},
            )
        )
    return found
