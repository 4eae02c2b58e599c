"""Park statistics: the computation core, with no models and no database.

The input is a panel of monthly enterprise reports (企业直报). Every figure in a report is
cumulative from January (1–n月累计), in 万元 unless the indicator says otherwise. January is
exempt: the first reporting period of a year is month 2 (January–February), so a report or a
query for month 1 is refused with ``ValueError``. The identity between periods is
previous month's cumulative + this month = this month's cumulative.

Notation. ``X_i(y, n)`` is enterprise i's cumulative value of one indicator for year y up to
month n. A report that does not carry an indicator's code has not reported that indicator
(an explicit zero has). For a query (year Y, month n) and a scope (the 规上工业 set of year
Y, the fixed-asset investment projects of 500万元 and above, or everyone):

    S = {i in scope : i reported the indicator for (Y, n)}       the comparable set (同口径)

Cumulative year on year on a comparable basis (累计同比, 同口径)::

    value   V = Σ_{i∈S} X_i(Y, n)
    base    B = Σ_{i∈S} X_i(Y−1, n)        last year's same period re-aggregated over S
    growth  g = (V − B) / B × 100          None when B = 0

An entrant (in S, no report for (Y−1, n)) counts 0 in the base; an exit (reported (Y−1, n),
not in S: closed, moved away, out of scope) is left out of the base. This is not last year's
published total.

Monthly year on year (本月同比), over the same set S::

    x_i(y, n) = X_i(y, n) − X_i(y, n−1)    for n ≥ 3 (a missing X_i(y, n−1) counts 0)
    x_i(y, 2) = X_i(y, 2)                  January–February is one period: its month value is
                                           the two-month cumulative itself
    g_month = (Σ_{i∈S} x_i(Y, n) − Σ_{i∈S} x_i(Y−1, n)) / Σ_{i∈S} x_i(Y−1, n) × 100

For a part P of S (a chain segment, or one enterprise; the segment is the one carried by the
report for (Y, n), and the part's base follows its enterprises)::

    growth of P            (V_P − B_P) / B_P × 100              None when B_P = 0
    pull (拉动, points)     (V_P − B_P) / B × 100                Σ_P pull_P = g
    contribution (贡献率)   (V_P − B_P) / (V − B) × 100          None when V = B; Σ_P = 100

A segment whose base is zero has no growth but still a pull: its whole value is new.

Two-year average growth (两年平均增长), on the comparable basis over S::

    B₂ = Σ_{i∈S} X_i(Y−2, n)
    a  = (√(V / B₂) − 1) × 100             None when B₂ = 0

and, from two published growth rates g₁ then g₂ (in %): (√((1 + g₁/100)(1 + g₂/100)) − 1) × 100.

Progress against an annual target T (目标进度 against 时间进度)::

    progress = V / T × 100,   time progress = n / 12 × 100,   gap = progress − time progress

Arithmetic is ``Decimal`` at 28 significant digits whatever the caller's decimal context. Every
rate is kept unrounded (``*_exact``) and shown rounded to 0.01 with ROUND_HALF_UP.

Output value growth (产值增速) at current prices is not value-added growth (增加值增速, which the
bureau computes at comparable prices and enterprises do not report); labels say so.

Revisions: a panel may hold several versions of one (enterprise, year, month). Pass only the
versions to count: ``latest(reports)`` keeps the highest ``revision`` of each; a caller that
publishes figures frozen at a date filters by its own rule first. Two versions of one period
in the input are refused with ``ValueError`` rather than guessed between.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext
from operator import attrgetter

CENT = Decimal("0.01")
HUNDRED = Decimal(100)
FIRST_MONTH = 2  # January is exempt: January–February is the first reporting period
ABOVE_SCALE_THRESHOLD = Decimal("2000")  # 万元 of annual main business revenue
INVESTMENT_THRESHOLD = Decimal("500")  # 万元 of planned total investment

_CONTEXT = Context(prec=28)

# Scope names an indicator can be computed over.
ABOVE_SCALE = "above_scale"  # 规上工业: industrial enterprises above designated size
INVESTMENT = "investment"  # 固定资产投资项目: projects with planned investment ≥ 500万元


@dataclass(frozen=True)
class Indicator:
    code: str
    name: str  # Chinese label, as the bureau words it
    english: str
    unit: str
    scope: str | None  # ABOVE_SCALE, INVESTMENT, or None: every enterprise reporting it
    note: str = ""


INDICATORS: dict[str, Indicator] = {
    indicator.code: indicator
    for indicator in [
        Indicator(
            "industrial_output",
            "规上工业总产值（现价）",
            "Industrial output value above designated size (current prices)",
            "万元",
            ABOVE_SCALE,
            "产值增速按现价计算，不是工业增加值增速。",
        ),
        Indicator(
            "revenue",
            "规上工业主营业务收入",
            "Main business revenue above designated size",
            "万元",
            ABOVE_SCALE,
        ),
        Indicator(
            "fixed_asset_investment",
            "固定资产投资",
            "Fixed-asset investment",
            "万元",
            INVESTMENT,
            "计划总投资 500 万元及以上项目。",
        ),
        Indicator(
            "industrial_investment",
            "工业投资",
            "Industrial investment",
            "万元",
            INVESTMENT,
            "固定资产投资中的工业部分，不大于固定资产投资。",
        ),
        Indicator("tax", "税收", "Tax paid", "万元", None),
        Indicator("electricity", "规上工业用电量", "Industrial electricity use", "万千瓦时", ABOVE_SCALE),
    ]
}


# Reports and the panel --------------------------------------------------------------------------


@dataclass(frozen=True)
class Report:
    """One enterprise's report for one period: cumulative values from January to ``month``."""

    enterprise: str
    segment: str  # the 1+3+N chain segment the enterprise reports under
    year: int
    month: int
    values: Mapping[str, Decimal]  # indicator code -> cumulative value (1–n月累计)
    revision: int = 0

    def __post_init__(self) -> None:
        _check_month(self.month)
        if self.revision < 0:
            raise ValueError(f"revision must be 0 or more, got {self.revision}")
        for code, value in self.values.items():
            if not isinstance(value, Decimal):
                raise TypeError(f"{code} of {self.enterprise} {self.year}-{self.month:02d} must be a Decimal")

    @property
    def key(self) -> tuple[str, int, int]:
        return (self.enterprise, self.year, self.month)


def _check_month(month: int) -> None:
    if month == 1:
        raise ValueError(
            "January is exempt: the first reporting period is January–February, asked for as month 2"
        )
    if not FIRST_MONTH <= month <= 12:
        raise ValueError(f"month must be between {FIRST_MONTH} and 12, got {month}")


def latest(reports: Iterable[Report]) -> list[Report]:
    """Keep the highest revision of each (enterprise, year, month); two versions with the same
    revision number are refused, as nothing says which one counts."""
    best: dict[tuple[str, int, int], Report] = {}
    for report in reports:
        current = best.get(report.key)
        if current is None or report.revision > current.revision:
            best[report.key] = report
        elif report.revision == current.revision:
            raise ValueError(f"two reports for {report.key} carry the same revision {report.revision}")
    return list(best.values())


class Panel:
    """Reports indexed by enterprise and period, one version per period."""

    def __init__(self, reports: Iterable[Report]) -> None:
        self._by_key: dict[tuple[str, int, int], Report] = {}
        self._by_period: dict[tuple[int, int], list[Report]] = defaultdict(list)
        for report in reports:
            if report.key in self._by_key:
                raise ValueError(
                    f"several versions of {report.key} in the panel: pass latest(reports) or the published ones"
                )
            self._by_key[report.key] = report
            self._by_period[(report.year, report.month)].append(report)

    def __iter__(self) -> Iterator[Report]:
        return iter(self._by_key.values())

    def __len__(self) -> int:
        return len(self._by_key)

    def get(self, enterprise: str, year: int, month: int) -> Report | None:
        return self._by_key.get((enterprise, year, month))

    def period(self, year: int, month: int) -> list[Report]:
        return self._by_period.get((year, month), [])

    def cumulative(self, enterprise: str, code: str, year: int, month: int) -> Decimal | None:
        """``X_i(year, month)``, or None when the enterprise did not report the indicator then."""
        report = self._by_key.get((enterprise, year, month))
        return None if report is None else report.values.get(code)


def as_panel(reports: Panel | Iterable[Report]) -> Panel:
    return reports if isinstance(reports, Panel) else Panel(reports)


def problems(reports: Panel | Iterable[Report]) -> list[str]:
    """What breaks the reporting rules: a cumulative below the previous month's (a negative month)
    and industrial investment above fixed-asset investment."""
    panel = as_panel(reports)
    found = []
    for report in sorted(panel, key=lambda r: r.key):
        previous = panel.get(report.enterprise, report.year, report.month - 1)
        for code, value in report.values.items():
            before = None if previous is None else previous.values.get(code)
            if before is not None and value < before:
                found.append(f"{report.key} {code}: cumulative {value} below the previous month's {before}")
        industrial = report.values.get("industrial_investment")
        total = report.values.get("fixed_asset_investment")
        if industrial is not None and industrial > (total or Decimal(0)):
            found.append(
                f"{report.key}: industrial investment {industrial} above fixed-asset investment {total}"
            )
    return found


# Scopes -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scopes:
    """The enterprises each scope covers for the year being computed."""

    above_scale: frozenset[str]  # 规上工业 of the current year
    investment: frozenset[str]  # fixed-asset investment projects of 500万元 and above

    def of(self, indicator: Indicator) -> frozenset[str] | None:
        if indicator.scope is None:
            return None
        return {ABOVE_SCALE: self.above_scale, INVESTMENT: self.investment}[indicator.scope]


def above_scale(
    reports: Panel | Iterable[Report],
    year: int,
    *,
    threshold: Decimal = ABOVE_SCALE_THRESHOLD,
    candidates: Collection[str] | None = None,
) -> frozenset[str]:
    """The 规上工业 set of ``year``: enterprises whose main business revenue of ``year − 1``
    (the December cumulative) is at least ``threshold``.

    ``candidates`` restricts the set to industrial enterprises: a service enterprise with the
    same revenue is not 规上工业 (services have their own thresholds).
    """
    panel = as_panel(reports)
    return frozenset(
        report.enterprise
        for report in panel.period(year - 1, 12)
        if report.values.get("revenue", Decimal(0)) >= threshold
        and (candidates is None or report.enterprise in candidates)
    )


def investment_scope(
    planned: Mapping[str, Decimal], *, threshold: Decimal = INVESTMENT_THRESHOLD
) -> frozenset[str]:
    """Projects (keyed as in the reports) whose planned total investment is at least ``threshold``."""
    return frozenset(key for key, amount in planned.items() if amount >= threshold)


# Results ----------------------------------------------------------------------------------------


def _percent_of_positive(numerator: Decimal, denominator: Decimal) -> Decimal:
    with localcontext(_CONTEXT):
        return numerator * HUNDRED / denominator


def _percent(numerator: Decimal, denominator: Decimal) -> Decimal | None:
    return None if denominator == 0 else _percent_of_positive(numerator, denominator)


def _round(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Comparison:
    """A value against its comparable base."""

    value: Decimal
    base: Decimal

    @property
    def delta(self) -> Decimal:
        return self.value - self.base

    @property
    def growth_exact(self) -> Decimal | None:
        return _percent(self.delta, self.base)

    @property
    def growth(self) -> Decimal | None:
        """Growth in %, rounded to 0.01 (ROUND_HALF_UP)."""
        return _round(self.growth_exact)


@dataclass(frozen=True)
class Part(Comparison):
    """A segment or an enterprise inside the comparable set, with its share of the total change."""

    key: str
    total_base: Decimal
    total_delta: Decimal

    @property
    def pull_exact(self) -> Decimal | None:
        return _percent(self.delta, self.total_base)

    @property
    def pull(self) -> Decimal | None:
        """拉动, in percentage points of the total's growth."""
        return _round(self.pull_exact)

    @property
    def contribution_exact(self) -> Decimal | None:
        return _percent(self.delta, self.total_delta)

    @property
    def contribution(self) -> Decimal | None:
        """贡献率, in % of the total change."""
        return _round(self.contribution_exact)


@dataclass(frozen=True)
class TwoYear:
    value: Decimal
    base: Decimal  # B₂: the same set's values two years earlier

    @property
    def average_exact(self) -> Decimal | None:
        if self.base <= 0 or self.value < 0:
            return None
        with localcontext(_CONTEXT):
            return ((self.value / self.base).sqrt() - 1) * HUNDRED

    @property
    def average(self) -> Decimal | None:
        return _round(self.average_exact)


@dataclass(frozen=True)
class Progress:
    value: Decimal
    target: Decimal
    month: int

    @property
    def progress_exact(self) -> Decimal:
        return _percent_of_positive(self.value, self.target)

    @property
    def time_progress_exact(self) -> Decimal:
        return _percent_of_positive(Decimal(self.month), Decimal(12))

    @property
    def gap_exact(self) -> Decimal:
        """Progress minus time progress, in points: negative is behind schedule."""
        return self.progress_exact - self.time_progress_exact

    @property
    def progress(self) -> Decimal:
        return self.progress_exact.quantize(CENT, rounding=ROUND_HALF_UP)

    @property
    def time_progress(self) -> Decimal:
        return self.time_progress_exact.quantize(CENT, rounding=ROUND_HALF_UP)

    @property
    def gap(self) -> Decimal:
        return self.gap_exact.quantize(CENT, rounding=ROUND_HALF_UP)

    @property
    def on_schedule(self) -> bool:
        return self.progress_exact >= self.time_progress_exact


@dataclass(frozen=True)
class Result(Comparison):
    """One indicator for the park, year to date, on a comparable basis."""

    code: str
    year: int
    month: int
    monthly: Comparison
    two_year: TwoYear
    progress: Progress | None
    segments: dict[str, Part]
    enterprises: dict[str, Part]
    members: frozenset[str]  # S
    # in S without a report of the indicator for the same period last year: 0 in the base
    entrants: frozenset[str]
    # reported the same period last year, not in S (closed, moved away, out of this year's scope,
    # or not reporting this year): left out of the base
    exits: frozenset[str]
    # in this year's scope but without a report of the indicator for the period (None: no scope)
    missing: frozenset[str] = field(default_factory=frozenset)


# Formulas ---------------------------------------------------------------------------------------


def reporting_set(
    reports: Panel | Iterable[Report], code: str, year: int, month: int, scope: Collection[str] | None
) -> frozenset[str]:
    """S: the enterprises of ``scope`` (everyone when None) that reported ``code`` for the period."""
    _check_month(month)
    panel = as_panel(reports)
    return frozenset(
        report.enterprise
        for report in panel.period(year, month)
        if code in report.values and (scope is None or report.enterprise in scope)
    )


def _sum(values: Iterable[Decimal | None]) -> Decimal:
    with localcontext(_CONTEXT):
        return sum((value for value in values if value is not None), Decimal(0))


def _month_value(panel: Panel, enterprise: str, code: str, year: int, month: int) -> Decimal:
    current = panel.cumulative(enterprise, code, year, month)
    if current is None:
        return Decimal(0)
    if month == FIRST_MONTH:
        return current
    return current - (panel.cumulative(enterprise, code, year, month - 1) or Decimal(0))


def cumulative_yoy(
    reports: Panel | Iterable[Report], code: str, year: int, month: int, scope: Collection[str] | None
) -> Comparison:
    """累计同比 on a comparable basis: V and B over this year's set S."""
    panel = as_panel(reports)
    members = reporting_set(panel, code, year, month, scope)
    return Comparison(
        value=_sum(panel.cumulative(i, code, year, month) for i in members),
        base=_sum(panel.cumulative(i, code, year - 1, month) for i in members),
    )


def monthly_yoy(
    reports: Panel | Iterable[Report], code: str, year: int, month: int, scope: Collection[str] | None
) -> Comparison:
    """本月同比 over the same set S; the month value of month 2 is the January–February cumulative."""
    panel = as_panel(reports)
    members = reporting_set(panel, code, year, month, scope)
    return Comparison(
        value=_sum(_month_value(panel, i, code, year, month) for i in members),
        base=_sum(_month_value(panel, i, code, year - 1, month) for i in members),
    )


def two_year_average(
    reports: Panel | Iterable[Report], code: str, year: int, month: int, scope: Collection[str] | None
) -> TwoYear:
    """两年平均增长 over this year's set S against the same enterprises two years earlier."""
    panel = as_panel(reports)
    members = reporting_set(panel, code, year, month, scope)
    return TwoYear(
        value=_sum(panel.cumulative(i, code, year, month) for i in members),
        base=_sum(panel.cumulative(i, code, year - 2, month) for i in members),
    )


def two_year_average_from_growths(first: Decimal, second: Decimal) -> Decimal:
    """The two-year average of two yearly growth rates in %, unrounded: −5 then +12 gives 3.1504…"""
    with localcontext(_CONTEXT):
        product = (1 + first / HUNDRED) * (1 + second / HUNDRED)
        return (product.sqrt() - 1) * HUNDRED


def target_progress(value: Decimal, target: Decimal, month: int) -> Progress:
    """目标进度 of a year-to-date value against an annual target, beside time progress n / 12."""
    _check_month(month)
    if target <= 0:
        raise ValueError(f"an annual target must be positive, got {target}")
    return Progress(value=value, target=target, month=month)


def breakdown(
    reports: Panel | Iterable[Report],
    code: str,
    year: int,
    month: int,
    scope: Collection[str] | None,
    by: str | Callable[[Report], str] = "segment",
) -> dict[str, Part]:
    """Value, base, growth, pull and contribution of each part of S, parts being the segments
    (``by="segment"``), the enterprises (``by="enterprise"``), or any grouping of this year's reports."""
    panel = as_panel(reports)
    if by in ("segment", "enterprise"):
        group: Callable[[Report], str] = attrgetter(by)
    elif callable(by):
        group = by
    else:
        raise ValueError(f"unknown grouping {by!r}: use 'segment', 'enterprise' or a function")
    members = reporting_set(panel, code, year, month, scope)
    values: dict[str, list[Decimal]] = defaultdict(list)
    bases: dict[str, list[Decimal | None]] = defaultdict(list)
    for enterprise in members:
        report = panel.get(enterprise, year, month)
        key = group(report)
        values[key].append(report.values[code])
        bases[key].append(panel.cumulative(enterprise, code, year - 1, month))
    parts = {key: (_sum(values[key]), _sum(bases[key])) for key in values}
    total_value = _sum(value for value, _ in parts.values())
    total_base = _sum(base for _, base in parts.values())
    return {
        key: Part(
            value=value, base=base, key=key, total_base=total_base, total_delta=total_value - total_base
        )
        for key, (value, base) in sorted(parts.items())
    }


def indicator(
    reports: Panel | Iterable[Report],
    code: str,
    year: int,
    month: int,
    scope: Collection[str] | None,
    target: Decimal | None = None,
) -> Result:
    """Everything about one indicator for (year, month) over ``scope`` (everyone when None)."""
    panel = as_panel(reports)
    members = reporting_set(panel, code, year, month, scope)
    cumulative = cumulative_yoy(panel, code, year, month, scope)
    last_year = {r.enterprise for r in panel.period(year - 1, month) if code in r.values}
    return Result(
        value=cumulative.value,
        base=cumulative.base,
        code=code,
        year=year,
        month=month,
        monthly=monthly_yoy(panel, code, year, month, scope),
        two_year=two_year_average(panel, code, year, month, scope),
        progress=None if target is None else target_progress(cumulative.value, target, month),
        segments=breakdown(panel, code, year, month, scope, "segment"),
        enterprises=breakdown(panel, code, year, month, scope, "enterprise"),
        members=members,
        entrants=frozenset(members - last_year),
        exits=frozenset(last_year - members),
        missing=frozenset() if scope is None else frozenset(scope) - members,
    )


def indicators(
    reports: Panel | Iterable[Report],
    year: int,
    month: int,
    scopes: Scopes,
    targets: Mapping[str, Decimal] | None = None,
    codes: Iterable[str] | None = None,
) -> dict[str, Result]:
    """The park's indicators for January–``month`` of ``year``, each over its own scope.

    ``targets`` maps indicator codes to annual targets (万元) for the progress figures; ``codes``
    picks indicators (all of ``INDICATORS`` by default).
    """
    _check_month(month)
    panel = as_panel(reports)
    targets = targets or {}
    results = {}
    for code in INDICATORS if codes is None else codes:
        if code not in INDICATORS:
            raise ValueError(f"unknown indicator {code!r}; known: {', '.join(INDICATORS)}")
        results[code] = indicator(panel, code, year, month, scopes.of(INDICATORS[code]), targets.get(code))
    return results
