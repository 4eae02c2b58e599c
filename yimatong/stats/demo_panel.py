"""A deterministic demo panel: monthly reports of 重庆国际生物城's enterprises, 2020–2022.

Thirty-four enterprises across the 1+3+N chain (residents of ``yimatong.demo.park`` keep
their names and unified social credit codes; a few are invented) report January–February to
December of 2020, 2021 and 2022. The panel holds the cases the formulas must handle: enterprises
that started production or construction during 2021 or 2022 (entrants of January–April 2022),
one enterprise that moved away at the end of 2021 (an exit), one that crossed the 规上 line in
2021 and one that fell below it, service enterprises whose revenue is above 2000万元 but that
are not 规上工业, projects below 500万元, and two revised reports (call ``latest()``).

Calibration. The reports are drawn at random from ``seed``; then the April 2022 month values of
the enterprises in the comparable set are scaled by one common factor per indicator (and the
cents left over by rounding go to the largest of them), so that the comparable-basis growth of
January–April 2022 computed by ``yimatong.stats.indicators`` equals ``CALIBRATION``: the figures
the park published for that period. Only April's month value moves, and the later cumulatives
move by the same amount, so every other month value is the one drawn. Industrial output is
calibrated first, then industrial investment (on industrial enterprises, whose fixed-asset
investment is all industrial), then fixed-asset investment (on the other projects).

Units: 万元, except electricity (万千瓦时).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from yimatong.demo.park import CHAIN, DemoOrg, uscc_for
from yimatong.stats.indicators import (
    CENT,
    FIRST_MONTH,
    HUNDRED,
    Panel,
    Report,
    Scopes,
    above_scale,
    cumulative_yoy,
    investment_scope,
    latest,
    reporting_set,
)

YEARS = (2020, 2021, 2022)
MONTHS = range(FIRST_MONTH, 13)

# What the park published for January–April 2022 (重庆日报, 2022-05-27, 第025版): the growth
# rates, in %, the demo panel is calibrated to reproduce through the formulas.
CALIBRATION_PERIOD = (2022, 4)
CALIBRATION: dict[str, Decimal] = {
    "industrial_output": Decimal("37.55"),
    "industrial_investment": Decimal("65.6"),
    "fixed_asset_investment": Decimal("108.58"),
}

_PARENTS = {code: parent for code, _name, _english, _kind, parent in CHAIN}
SEGMENTS: dict[str, str] = {code: name for code, name, _english, _kind, parent in CHAIN if parent is None}


def segment_of(chain: str) -> str:
    """The 1+3+N segment (a top-level chain node) a chain node belongs to."""
    while _PARENTS[chain] is not None:
        chain = _PARENTS[chain]
    return chain


@dataclass(frozen=True)
class DemoProject:
    name: str
    planned: int  # 万元 of planned total investment
    starts: tuple[int, int]  # first (year, month) of construction
    spend: Mapping[int, int]  # 万元 invested in each year


@dataclass(frozen=True)
class DemoEnterprise:
    name: str
    chain: str
    industrial: bool  # 工业 (GB/T 4754 门类 C); otherwise a service enterprise
    # 万元 per year: industrial output for industrial enterprises, revenue for services; the
    # amount of the months from ``starts`` on, in the year production started
    output: Mapping[int, int] = field(default_factory=dict)
    starts: tuple[int, int] = (2020, FIRST_MONTH)
    project: DemoProject | None = None

    @property
    def uscc(self) -> str:
        code = uscc_for(DemoOrg(self.name, "resident"))
        assert code is not None
        return code

    @property
    def segment(self) -> str:
        return segment_of(self.chain)


def _p(name: str, planned: int, starts: tuple[int, int], **spend: int) -> DemoProject:
    return DemoProject(name, planned, starts, {int(year[1:]): amount for year, amount in spend.items()})


def _o(y2020: int | None = None, y2021: int | None = None, y2022: int | None = None) -> dict[int, int]:
    return {
        year: amount for year, amount in zip(YEARS, (y2020, y2021, y2022), strict=True) if amount is not None
    }


DEMO_ENTERPRISES: list[DemoEnterprise] = [
    # 规上工业 in 2022 (main business revenue of 2021 at least 2000万元)
    DemoEnterprise(
        "重庆智翔金泰生物制药股份有限公司",
        "antibody",
        True,
        _o(8000, 12000, 30000),
        project=_p("一期改扩建项目", 120000, (2022, 6), y2022=20000),
    ),
    DemoEnterprise(
        "重庆百亚卫生用品股份有限公司",
        "consumables",
        True,
        _o(120000, 140000, 180000),
        project=_p("智能化生产线技改项目", 80000, (2020, 2), y2020=18000, y2021=24000, y2022=26000),
    ),
    DemoEnterprise("重庆渝康抗体生物科技有限公司", "antibody", True, _o(3500, 5000, 7000)),
    DemoEnterprise("重庆巴渝重组蛋白疫苗有限公司", "vaccine-protein", True, _o(6000, 9000, 11000)),
    DemoEnterprise(
        "重庆渝南制药有限公司",
        "chemical-formulation",
        True,
        _o(25000, 27000, 30000),
        project=_p("固体制剂新车间项目", 30000, (2021, 2), y2021=12000, y2022=11000),
    ),
    DemoEnterprise(
        "重庆界石化学原料药有限公司",
        "api",
        True,
        _o(18000, 19000, 21000),
        project=_p("环保安全改造项目", 9000, (2021, 2), y2021=6000, y2022=3000),
    ),
    DemoEnterprise(
        "重庆本草堂中成药有限公司",
        "tcm-patent",
        True,
        _o(15000, 16000, 18000),
        project=_p("提取车间技改项目", 1500, (2022, 2), y2022=1500),
    ),
    DemoEnterprise("重庆明析医疗诊断设备有限公司", "diagnostics", True, _o(4000, 6000, 7500)),
    DemoEnterprise("重庆安瑞医用敷料有限公司", "consumables", True, _o(5000, 5500, 6500)),
    DemoEnterprise("重庆慧康口腔器械有限公司", "devices", True, _o(3000, 3400, 4200)),
    DemoEnterprise("重庆鱼洞中药制药有限公司", "tcm-patent", True, _o(8000, 8500, 9000)),
    DemoEnterprise("重庆花溪注射液有限公司", "chemical-formulation", True, _o(12000, 12500, 14000)),
    DemoEnterprise("重庆界石医用包材有限公司", "packaging", True, _o(3000, 3300, 3800)),
    # crossed the line in 2021: 规上 in 2022, with a base in 2021
    DemoEnterprise("重庆肽达生物制药有限公司", "peptide", True, _o(1500, 2800, 4000)),
    # started production in July 2021: 规上 in 2022, nothing to compare January–April with
    DemoEnterprise("重庆联拓偶联药物有限公司", "adc", True, _o(None, 4500, 9000), starts=(2021, 7)),
    # fell below the line in 2021: 规上 in 2021, not in 2022
    DemoEnterprise("重庆巴山中药饮片有限公司", "tcm-pieces", True, _o(2600, 1700, 1800)),
    # moved away at the end of 2021: an exit
    DemoEnterprise("重庆渝新医用玻璃有限公司", "packaging", True, _o(4000, 4200)),
    # industrial, below designated size
    DemoEnterprise(
        "重庆长嘉腺病毒载体生物技术有限公司", "vaccine-adenovirus", True, _o(300, 900, 1500), starts=(2020, 9)
    ),
    DemoEnterprise(
        "重庆核睿生物科技有限公司", "vaccine-nucleic", True, _o(None, None, 600), starts=(2022, 3)
    ),
    DemoEnterprise("重庆赛维细胞治疗技术有限公司", "cgt", True, _o(400, 700, 1000)),
    DemoEnterprise("重庆骨创生物材料3D打印科技有限公司", "bio3d", True, _o(500, 800, 1100)),
    DemoEnterprise(
        "重庆康复之家辅具科技有限公司",
        "rehab",
        True,
        _o(600, 900, 1200),
        project=_p("辅具装配线项目", 300, (2022, 2), y2022=200),
    ),
    DemoEnterprise(
        "重庆爱睿眼视光科技有限公司",
        "devices",
        True,
        _o(700, 1000, 1300),
        project=_p("镜片加工设备更新", 400, (2021, 5), y2021=150, y2022=200),
    ),
    DemoEnterprise("重庆南泉康复器械有限公司", "rehab", True, _o(800, 1100, 1400)),
    # industrial projects under construction, no output yet
    DemoEnterprise(
        "重庆合兴包装有限公司",
        "packaging",
        True,
        project=_p("医药包装生产基地项目", 50000, (2021, 5), y2021=15000, y2022=18000),
    ),
    DemoEnterprise(
        "珂蓝国际生物科技（重庆）有限公司",
        "bio3d",
        True,
        project=_p("生物材料产业化项目", 60000, (2021, 2), y2021=20000, y2022=25000),
    ),
    DemoEnterprise(
        "重庆宏冠医疗器械有限公司",
        "consumables",
        True,
        project=_p("医疗器械生产基地项目", 15000, (2021, 6), y2021=5000, y2022=6000),
    ),
    DemoEnterprise(
        "重庆九彩医药包装有限公司",
        "packaging",
        True,
        project=_p("医药包装材料项目", 25000, (2022, 3), y2022=8000),
    ),
    DemoEnterprise(
        "重庆康瑞缓释制剂有限公司",
        "mah",
        True,
        project=_p("MAH 缓释制剂生产线项目", 8000, (2022, 4), y2022=3000),
    ),
    # services: not 规上工业 whatever their revenue; their investment is not industrial
    DemoEnterprise(
        "重庆智睿生物医药有限公司",
        "cro-cdmo",
        False,
        _o(1500, 2500, 3500),
        project=_p("智睿生物医药产业园项目", 200000, (2021, 9), y2021=20000, y2022=33000),
    ),
    DemoEnterprise(
        "重庆美莱德生物医药有限公司",
        "safety",
        False,
        _o(None, 800, 1500),
        starts=(2021, 7),
        project=_p("药物安全评价研究中心项目", 40000, (2021, 3), y2021=15000, y2022=18000),
    ),
    DemoEnterprise("重庆药谷生物技术服务有限公司", "cro-cdmo", False, _o(3000, 3500, 4200)),
    DemoEnterprise(
        "重庆生物城P3实验室运营有限公司",
        "p3",
        False,
        project=_p("P3 实验室建设项目", 12000, (2022, 2), y2022=8000),
    ),
    DemoEnterprise(
        "重庆渝冷医药物流有限公司",
        "cold-chain",
        False,
        _o(5000, 5500, 6000),
        project=_p("医药冷库项目", 15000, (2020, 6), y2020=3000, y2021=6000, y2022=4000),
    ),
]

_BY_USCC = {enterprise.uscc: enterprise for enterprise in DEMO_ENTERPRISES}


def enterprise_names() -> dict[str, str]:
    """USCC -> name of every demo enterprise."""
    return {code: enterprise.name for code, enterprise in _BY_USCC.items()}


def industrial_enterprises() -> frozenset[str]:
    return frozenset(code for code, enterprise in _BY_USCC.items() if enterprise.industrial)


def planned_investment() -> dict[str, Decimal]:
    """USCC -> planned total investment (万元) of its project."""
    return {
        code: Decimal(enterprise.project.planned)
        for code, enterprise in _BY_USCC.items()
        if enterprise.project is not None
    }


def demo_scopes(reports: Panel | Iterable[Report], year: int) -> Scopes:
    """The 规上工业 set of ``year`` (from the panel's revenue of ``year − 1``, industrial enterprises
    only) and the projects of 500万元 and above."""
    return Scopes(
        above_scale=above_scale(reports, year, candidates=industrial_enterprises()),
        investment=investment_scope(planned_investment()),
    )


# Drawing ----------------------------------------------------------------------------------------

Flows = dict[tuple[str, int, int], dict[str, Decimal]]  # (uscc, year, month) -> month values


def _spread(
    rng: random.Random, amount: float, first_month: int, weights: dict[int, float]
) -> dict[int, Decimal]:
    """Split an annual amount over the months from ``first_month``, seasonally, with noise."""
    months = [m for m in MONTHS if m >= first_month]
    drawn = {m: weights.get(m, 1.0) * rng.uniform(0.85, 1.15) for m in months}
    total = sum(drawn.values())
    return {m: Decimal(amount * w / total).quantize(CENT, rounding=ROUND_HALF_UP) for m, w in drawn.items()}


# January–February is two months with the Spring Festival; December closes the year.
_PRODUCTION_WEIGHTS = {2: 1.6, 12: 1.15}
_CONSTRUCTION_WEIGHTS = {2: 1.3}


def _first_month(starts: tuple[int, int], year: int) -> int | None:
    start_year, start_month = starts
    if year < start_year:
        return None
    return start_month if year == start_year else FIRST_MONTH


def _draw(rng: random.Random) -> Flows:
    flows: Flows = {}
    for enterprise in DEMO_ENTERPRISES:
        code = enterprise.uscc
        sales_ratio = rng.uniform(0.92, 1.02)  # revenue per unit of output
        tax_rate = rng.uniform(0.03, 0.07)
        intensity = rng.uniform(0.02, 0.05)  # 万千瓦时 per 万元 of output
        for year in YEARS:
            first = _first_month(enterprise.starts, year)
            if first is not None and year in enterprise.output:
                level = enterprise.output[year] * rng.uniform(0.94, 1.06)
                for month, amount in _spread(rng, level, first, _PRODUCTION_WEIGHTS).items():
                    values = flows.setdefault((code, year, month), {})
                    revenue = (
                        amount * Decimal(str(round(sales_ratio, 4))) if enterprise.industrial else amount
                    )
                    revenue = revenue.quantize(CENT, rounding=ROUND_HALF_UP)
                    if enterprise.industrial:
                        values["industrial_output"] = amount
                        values["electricity"] = (amount * Decimal(str(round(intensity, 4)))).quantize(
                            CENT, rounding=ROUND_HALF_UP
                        )
                    values["revenue"] = revenue
                    values["tax"] = (revenue * Decimal(str(round(tax_rate, 4)))).quantize(
                        CENT, rounding=ROUND_HALF_UP
                    )
            project = enterprise.project
            first = None if project is None else _first_month(project.starts, year)
            if project is not None and first is not None and project.spend.get(year):
                level = project.spend[year] * rng.uniform(0.94, 1.06)
                for month, amount in _spread(rng, level, first, _CONSTRUCTION_WEIGHTS).items():
                    values = flows.setdefault((code, year, month), {})
                    values["fixed_asset_investment"] = amount
                    values["industrial_investment"] = amount if enterprise.industrial else Decimal("0.00")
    return flows


def _build(flows: Flows) -> list[Report]:
    """Cumulate month values into reports; a report carries the codes reported that month."""
    reports = []
    running: dict[tuple[str, int], dict[str, Decimal]] = {}
    for code, year, month in sorted(flows):
        totals = running.setdefault((code, year), {})
        for indicator, amount in flows[(code, year, month)].items():
            totals[indicator] = totals.get(indicator, Decimal(0)) + amount
        values = {indicator: totals[indicator] for indicator in flows[(code, year, month)]}
        reports.append(Report(code, _BY_USCC[code].segment, year, month, values))
    return reports


def _calibrate(
    flows: Flows,
    indicator: str,
    members: frozenset[str],
    movable: frozenset[str],
    growth: Decimal,
    also: tuple[str, ...] = (),
) -> None:
    """Scale the calibration month's values of ``movable`` (a part of ``members``) so that the
    members' cumulative growth is ``growth`` to the cent; ``also`` scales with them."""
    year, month = CALIBRATION_PERIOD
    panel = Panel(_build(flows))
    base = cumulative_yoy(panel, indicator, year, month, members).base
    target = (base * (1 + growth / HUNDRED)).quantize(CENT, rounding=ROUND_HALF_UP)
    before = sum((panel.cumulative(i, indicator, year, month - 1) or Decimal(0) for i in members), Decimal(0))
    fixed = sum((flows[(i, year, month)][indicator] for i in members - movable), Decimal(0))
    drawn = {i: flows[(i, year, month)][indicator] for i in movable}
    needed = target - before - fixed
    if needed < 0 or sum(drawn.values()) <= 0:
        raise RuntimeError(f"cannot calibrate {indicator}: the drawn months before already exceed the target")
    factor = needed / sum(drawn.values())
    scaled = {i: (amount * factor).quantize(CENT, rounding=ROUND_HALF_UP) for i, amount in drawn.items()}
    largest = max(scaled, key=lambda i: (scaled[i], i))
    scaled[largest] += needed - sum(scaled.values())
    for i, amount in scaled.items():
        values = flows[(i, year, month)]
        drawn_amount = values[indicator]
        for code in set(also) & set(values):
            if values[code] == drawn_amount:  # the same figure (investment that is all industrial)
                values[code] = amount
            elif drawn_amount:
                values[code] = (values[code] * amount / drawn_amount).quantize(CENT, rounding=ROUND_HALF_UP)
        values[indicator] = amount


# Preliminary versions later revised: (name, year, month, share of the final values first reported)
_REVISED = [
    ("重庆百亚卫生用品股份有限公司", 2022, 3, Decimal("0.97")),
    ("重庆渝南制药有限公司", 2021, 12, Decimal("0.99")),
]


def demo_panel(seed: int = 2022, calibration: Mapping[str, Decimal] | None = None) -> list[Report]:
    """The demo reports, revisions included: pass them through ``latest()`` before computing.

    ``calibration`` maps output, industrial investment and fixed-asset investment to the
    January–April 2022 growth (%) to reproduce; ``CALIBRATION`` by default.
    """
    growth = CALIBRATION if calibration is None else calibration
    rng = random.Random(seed)
    flows = _draw(rng)
    year, month = CALIBRATION_PERIOD
    industrial = industrial_enterprises()

    panel = Panel(_build(flows))
    scopes = demo_scopes(panel, year)
    members = reporting_set(panel, "industrial_output", year, month, scopes.above_scale)
    _calibrate(
        flows,
        "industrial_output",
        members,
        members,
        growth["industrial_output"],
        also=("revenue", "tax", "electricity"),
    )
    members = reporting_set(panel, "industrial_investment", year, month, scopes.investment)
    _calibrate(
        flows,
        "industrial_investment",
        members,
        members & industrial,
        growth["industrial_investment"],
        also=("fixed_asset_investment",),
    )
    members = reporting_set(panel, "fixed_asset_investment", year, month, scopes.investment)
    _calibrate(
        flows, "fixed_asset_investment", members, members - industrial, growth["fixed_asset_investment"]
    )

    reports = _build(flows)
    by_key = {report.key: report for report in reports}
    for name, revised_year, revised_month, share in _REVISED:
        final = by_key[(uscc_for(DemoOrg(name, "resident")), revised_year, revised_month)]
        preliminary = {
            code: (value * share).quantize(CENT, rounding=ROUND_HALF_UP)
            for code, value in final.values.items()
        }
        reports.append(Report(final.enterprise, final.segment, final.year, final.month, preliminary, 0))
        reports[reports.index(final)] = Report(
            final.enterprise, final.segment, final.year, final.month, dict(final.values), 1
        )
    assert len(latest(reports)) == len(by_key)
    return sorted(reports, key=lambda r: (r.year, r.month, r.enterprise, r.revision))
