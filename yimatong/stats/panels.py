"""The leaders' cockpit as data: every chart is a table (columns and rows, the figures the page
shows under 数据表 and the Excel export writes) and an ECharts option drawn from that table.
Nothing here is typed in: statistics come from ``compute`` (the reports), investment from the
project events (``investment.numbers``), channels from the QR codes' funnels, services from
the demands, matches and applications.
"""

from __future__ import annotations

import datetime as dt
from calendar import monthrange
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, Sum
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yimatong.directory.models import ChainNode, Organization
from yimatong.investment import numbers, rollups
from yimatong.investment.models import EXITS, InvestmentSettings, Light, Milestone, Project, Stage
from yimatong.stats import compute
from yimatong.stats.indicators import INDICATORS
from yimatong.stats.models import period_label

HEADLINE = ("industrial_output", "fixed_asset_investment", "industrial_investment")
GREEN, YELLOW, RED, GREY = "#2e7d5b", "#e0a100", "#c62828", "#9aa5a3"


@dataclass
class Chart:
    key: str
    panel: str
    title: str
    columns: list[str]
    rows: list[list[Any]]
    option: dict[str, Any] = field(default_factory=dict)
    note: str = ""


@dataclass
class Filters:
    year: int
    month: int
    segment: str = ""  # a top-level chain node code, or everything
    marker: str = field(default="", repr=False, compare=False)
    _computed: compute.Computed | None = field(default=None, repr=False, compare=False)

    def computed(self) -> compute.Computed:
        """The period's indicators, computed once for every panel of a page, and kept while
        the reports stand (``marker``: the statistics tables' marker, when known)."""
        if self._computed is None:
            if self.marker:
                from django.core.cache import cache

                key = f"cockpit:computed:{self.marker}:{self.year}:{self.month}"
                self._computed = cache.get(key)
                if self._computed is None:
                    self._computed = compute.compute(self.year, self.month)
                    cache.set(key, self._computed, 600)
            else:
                self._computed = compute.compute(self.year, self.month)
        return self._computed

    @property
    def label(self) -> str:
        return period_label(self.year, self.month)

    @property
    def period(self) -> numbers.Period:
        """January 1st to the end of the reporting month: the same months as the statistics."""
        return numbers.Period(
            dt.date(self.year, 1, 1), dt.date(self.year, self.month, monthrange(self.year, self.month)[1])
        )


def indicator_name(code: str) -> str:
    """The indicator's name as the bureau words it, or its English name on an English page."""
    indicator = INDICATORS[code]
    return indicator.english if (translation.get_language() or "").startswith("en") else indicator.name


def _num(value: Any) -> float | None:
    return None if value is None else float(value)


def _pct(value: Any) -> str:
    return "—" if value is None else f"{value}"


def segments() -> list[ChainNode]:
    return list(ChainNode.objects.filter(parent__isnull=True).order_by("position", "pk"))


def _bar(
    categories: list[str], series: list[tuple[str, list[Any]]], *, unit: str = "", horizontal: bool = False
) -> dict:
    axis_cat = {"type": "category", "data": categories, "axisLabel": {"interval": 0, "hideOverlap": True}}
    axis_val = {"type": "value", "name": unit}
    return {
        "tooltip": {"trigger": "axis"},
        "legend": {"show": len(series) > 1, "top": 0},
        "grid": {"left": 8, "right": 16, "bottom": 8, "top": 36, "containLabel": True},
        "xAxis": axis_val if horizontal else axis_cat,
        "yAxis": axis_cat if horizontal else axis_val,
        "series": [
            {
                "type": "bar",
                "name": name,
                "data": data,
                "label": {"show": len(categories) <= 12, "position": "right" if horizontal else "top"},
            }
            for name, data in series
        ],
    }


# Statistics ------------------------------------------------------------------------------------


def statistics(filters: Filters) -> list[Chart]:
    computed = filters.computed()
    results = computed.results
    note = _("初步数（本期尚未发布）") if computed.preliminary else _("已发布数")
    rows = []
    for code, result in results.items():
        indicator = INDICATORS[code]
        part = result.segments.get(filters.segment) if filters.segment else None
        shown = part or result
        rows.append(
            [
                indicator_name(code),
                _(indicator.unit),
                _num(shown.value),
                _num(shown.base),
                _num(shown.growth),
                _num(result.monthly.growth) if part is None else None,
                _num(result.two_year.average) if part is None else None,
                _num(result.progress.progress) if result.progress and part is None else None,
                _num(result.progress.time_progress) if result.progress and part is None else None,
                _num(part.pull) if part is not None else None,
            ]
        )
    indicators_chart = Chart(
        "indicators",
        "statistics",
        _("%(period)s主要指标（同口径累计增速）") % {"period": filters.label},
        [
            _("指标"),
            _("单位"),
            _("1–n月累计"),
            _("上年同期（同口径）"),
            _("累计增速（%）"),
            _("本月增速（%）"),
            _("两年平均增长（%）"),
            _("目标进度（%）"),
            _("时间进度（%）"),
            _("拉动（百分点）"),
        ],
        rows,
        _bar([r[0] for r in rows], [(_("累计增速（%）"), [r[4] for r in rows])], unit="%"),
        note=note + " · " + _("产值增速按现价计算，不是工业增加值增速。"),
    )
    charts = [indicators_chart]
    output = results["industrial_output"]
    seg_names = {n.code: n.name for n in segments()}
    seg_rows = [
        [
            seg_names.get(key, key),
            _num(p.value),
            _num(p.base),
            _num(p.growth),
            _num(p.pull),
            _num(p.contribution),
        ]
        for key, p in output.segments.items()
    ]
    charts.append(
        Chart(
            "segments",
            "statistics",
            _("规上工业产值：各板块拉动"),
            [
                _("板块"),
                _("1–n月累计（万元）"),
                _("上年同期（万元）"),
                _("增速（%）"),
                _("拉动（百分点）"),
                _("贡献率（%）"),
            ],
            seg_rows,
            _bar(
                [r[0] for r in seg_rows], [(_("拉动（百分点）"), [r[4] for r in seg_rows])], unit=_("百分点")
            ),
        )
    )
    trend = compute.trend(filters.year, list(HEADLINE))
    months = sorted({row["month"] for rows_ in trend.values() for row in rows_})
    month_labels = [period_label(filters.year, m) for m in months]
    series = []
    trend_rows = []
    for code in HEADLINE:
        by_month = {row["month"]: row for row in trend[code]}
        series.append(
            {
                "type": "line",
                "name": indicator_name(code),
                "data": [_num(by_month.get(m, {}).get("growth")) for m in months],
            }
        )
    for i in range(len(months)):
        trend_rows.append([month_labels[i], *[series[j]["data"][i] for j in range(len(HEADLINE))]])
    charts.append(
        Chart(
            "trend",
            "statistics",
            _("%(year)s年累计增速走势") % {"year": filters.year},
            [_("报告期"), *[indicator_name(c) + _("（%）") for c in HEADLINE]],
            trend_rows,
            {
                "tooltip": {"trigger": "axis"},
                "legend": {"top": 0},
                "grid": {"left": 8, "right": 16, "bottom": 8, "top": 36, "containLabel": True},
                "xAxis": {"type": "category", "data": month_labels},
                "yAxis": {"type": "value", "name": "%"},
                "series": series,
            },
        )
    )
    top = sorted(output.enterprises.values(), key=lambda p: p.delta, reverse=True)[:10]
    ent_rows = [
        [computed.names.get(p.key, p.key), _num(p.value), _num(p.base), _num(p.pull), _num(p.contribution)]
        for p in top
    ]
    charts.append(
        Chart(
            "enterprises",
            "statistics",
            _("规上工业产值：拉动最大的企业"),
            [_("企业"), _("1–n月累计（万元）"), _("上年同期（万元）"), _("拉动（百分点）"), _("贡献率（%）")],
            ent_rows,
            _bar(
                [r[0] for r in ent_rows][::-1],
                [(_("拉动（百分点）"), [r[3] for r in ent_rows][::-1])],
                horizontal=True,
            ),
        )
    )
    return charts


# Investment ------------------------------------------------------------------------------------


def _projects(user: Any, segment: str) -> Any:
    projects = Project.objects.visible_to(user)
    chain_ids = _segment_ids(segment)
    return projects if chain_ids is None else projects.filter(chain_node__in=chain_ids)


def _segment_ids(segment: str) -> set[int] | None:
    """The chain nodes of a segment (itself and below), None for every segment."""
    if not segment:
        return None
    root = ChainNode.objects.filter(code=segment).first()
    return root.descendant_ids() if root else set()


def _scope(user: Any, segment: str) -> rollups.Scope:
    return rollups.Scope.for_user(user, _segment_ids(segment))


def investment(filters: Filters, user: Any) -> list[Chart]:
    scope = _scope(user, filters.segment)
    projects = _projects(user, filters.segment)
    # The figures the panel draws (not the median times in stage, which no chart shows), read
    # from the aggregates the project actions keep.
    data = numbers.scoped_summary(scope, period=filters.period, stays=False)
    funnel = data["funnel"]
    charts = [
        Chart(
            "funnel",
            "investment",
            _("招商漏斗与转化"),
            [_("阶段"), _("到达项目数"), _("转入下一阶段（%）")],
            [[row["label"], row["reached"], _num(row["conversion"])] for row in funnel],
            {
                "tooltip": {"trigger": "item", "formatter": "{b}: {c}"},
                "series": [
                    {
                        "type": "funnel",
                        "sort": "none",
                        "left": "10%",
                        "width": "80%",
                        "label": {"show": True, "position": "inside", "formatter": "{b} {c}"},
                        "data": [{"name": row["label"], "value": row["reached"]} for row in funnel],
                    }
                ],
            },
        )
    ]
    by_month = data["by_month"]
    charts.append(
        Chart(
            "investment_by_month",
            "investment",
            _("签约额与落地额（按月，万元）"),
            [_("月份"), _("签约额"), _("落地额")],
            [[r["label"], _num(r["signed"]), _num(r["landed"])] for r in by_month],
            _bar(
                [r["label"] for r in by_month],
                [
                    (_("签约额"), [_num(r["signed"]) for r in by_month]),
                    (_("落地额"), [_num(r["landed"]) for r in by_month]),
                ],
                unit=_("万元"),
            ),
        )
    )
    charts.append(_stages_by_month(scope, filters))
    for key, group, title in (
        ("investment_by_chain", "by_chain", _("签约额（按产业链板块，万元）")),
        ("investment_by_source", "by_source", _("签约额（按来源渠道，万元）")),
        ("investment_by_owner", "by_owner", _("签约额（按招商专员，万元）")),
    ):
        rows = data[group]
        charts.append(
            Chart(
                key,
                "investment",
                title,
                [_("分组"), _("签约额"), _("落地额")],
                [[str(r["label"]), _num(r["signed"]), _num(r["landed"])] for r in rows],
                _bar(
                    [str(r["label"]) for r in rows],
                    [(_("签约额"), [_num(r["signed"]) for r in rows])],
                    unit=_("万元"),
                ),
            )
        )
    rates = data["rates"]
    rate_rows = [
        [str(label), _num(rates.get(key))]
        for key, label in (
            ("performance_rate", _("履约率")),
            ("construction_rate", _("开工率")),
            ("production_rate", _("投产率")),
            ("capital_rate", _("资金到位率")),
        )
    ]
    charts.append(
        Chart(
            "rates",
            "investment",
            _("签约项目履约"),
            [_("指标"), _("比例（%）")],
            rate_rows,
            _bar([r[0] for r in rate_rows], [(_("比例（%）"), [r[1] for r in rate_rows])], unit="%"),
        )
    )
    charts.append(_major(projects))
    charts.append(_channels(user, filters))
    return charts


def _stages_by_month(scope: rollups.Scope, filters: Filters) -> Chart:
    """Signed, registered, started and producing projects by month, with the investment they
    carry (万元): the contract for signing, the planned investment for the later steps; a
    project counts in the month it first reached the stage."""

    stages = [
        (Stage.SIGNED, _("签约")),
        (Stage.REGISTERED, _("注册落地")),
        (Stage.CONSTRUCTION, _("开工")),
        (Stage.PRODUCTION, _("投产")),
    ]
    sums = rollups.cohorts(
        scope, [s.value for s, _l in stages], filters.period.start, filters.period.end, by_day=True
    )
    table: dict[tuple[str, str], list[Any]] = {}
    for (stage, day), (n, planned_c, contracted_c, _capital) in sums.items():
        if not n:
            continue
        cell = table.setdefault((day.strftime("%Y-%m"), stage), [0, Decimal(0)])
        cell[0] += n
        cell[1] += rollups.amount(contracted_c if stage == Stage.SIGNED else planned_c)
    months = sorted({month for month, _stage in table})
    rows = [
        [
            month,
            *[
                v
                for stage, _l in stages
                for v in (
                    table.get((month, stage), [0, 0])[0],
                    _num(table.get((month, stage), [0, Decimal(0)])[1]),
                )
            ],
        ]
        for month in months
    ]
    columns = [_("月份")] + [
        c
        for _s, label in stages
        for c in (_("%(stage)s项目数") % {"stage": label}, _("%(stage)s投资（万元）") % {"stage": label})
    ]
    return Chart(
        "stages_by_month",
        "investment",
        _("签约、注册、开工、投产（按月）"),
        columns,
        rows,
        _bar(
            months,
            [(str(label), [table.get((m, stage), [0, 0])[0] for m in months]) for stage, label in stages],
            unit=_("个"),
        ),
        note=_("项目首次到达该阶段的月份；签约计合同投资，其余计计划投资。"),
    )


MAJOR_ROWS = 20  # the table lists the projects needing attention first; the schedule has them all


def _major(projects: Any) -> Chart:
    """Major projects' lights: how many are green, yellow and red, and the table of the ones
    needing attention most (red, then yellow, longest without progress first)."""
    config = InvestmentSettings.current()
    now = timezone.now()
    major = projects.filter(is_major=True).exclude(stage__in=EXITS)
    counts = {
        light: major.with_light_of(light, config, now).count()
        for light in (Light.GREEN, Light.YELLOW, Light.RED)
    }
    listed = (
        major.exclude(stage=Stage.FULL_CAPACITY)
        .with_light(config, now)
        .select_related("owner")
        .only("code", "name", "stage", "last_progress_at", "owner__name", "owner__username")
        .order_by("last_progress_at", "code")[:MAJOR_ROWS]
    )
    listed = list(listed)
    late = dict(
        Milestone.objects.filter(
            project__in=[p.pk for p in listed], actual_on__isnull=True, planned_on__lt=timezone.localdate()
        )
        .order_by()
        .values_list("project")
        .annotate(n=Count("pk"))
    )
    names = {Light.GREEN: _("绿灯"), Light.YELLOW: _("黄灯"), Light.RED: _("红灯"), Light.NONE: _("不适用")}
    rows = [
        [
            p.code,
            p.name,
            p.get_stage_display(),
            str(names.get(p.light, p.light)),
            p.owner.display_name if p.owner else "",
            late.get(p.pk, 0),
        ]
        for p in listed
    ]
    colours = {Light.GREEN: GREEN, Light.YELLOW: YELLOW, Light.RED: RED}
    return Chart(
        "major",
        "investment",
        _("重大项目调度（督办灯）"),
        [_("编号"), _("项目"), _("阶段"), _("督办灯"), _("负责人"), _("逾期节点")],
        rows,
        {
            "tooltip": {"trigger": "item"},
            "legend": {"top": 0},
            "series": [
                {
                    "type": "pie",
                    "radius": ["40%", "70%"],
                    "data": [
                        {"name": str(names[light]), "value": n, "itemStyle": {"color": colours[light]}}
                        for light, n in counts.items()
                    ],
                }
            ],
        },
        note=_("表中为最久没有进展的 %(n)d 个在建重大项目；全部项目见“重大项目调度”。") % {"n": MAJOR_ROWS},
    )


def _channels(user: Any, filters: Filters) -> Chart:
    from yimatong.wechat.models import InboundMessage, QrCode

    # The 15 codes scanned most, found by counting scans alone; the funnel is worked out for
    # those only (every subquery of it per code is dearer than a count).
    visible = QrCode.objects.visible_to(user)
    top = list(
        InboundMessage.objects.filter(code__in=visible.values("pk"), event__in=["subscribe", "scan"])
        .order_by()
        .values_list("code")
        .annotate(n=Count("pk"))
        .order_by("-n", "code")
        .values_list("code", flat=True)[:15]
    )
    if len(top) < 15:
        top += list(visible.exclude(pk__in=top).order_by("pk").values_list("pk", flat=True)[: 15 - len(top)])
    codes = sorted(QrCode.objects.filter(pk__in=top).with_funnel(), key=lambda c: (-c.scans, top.index(c.pk)))
    rows = [
        [c.name, c.scans, c.new_followers, c.leads, c.visits, c.signed_projects, _num(c.signed_investment)]
        for c in codes
    ]
    return Chart(
        "channels",
        "investment",
        _("渠道二维码归因：扫码到签约额"),
        [_("二维码"), _("扫码"), _("新关注"), _("线索"), _("考察"), _("签约项目"), _("签约额（万元）")],
        rows,
        _bar(
            [r[0] for r in rows][::-1],
            [
                (_("扫码"), [r[1] for r in rows][::-1]),
                (_("线索"), [r[3] for r in rows][::-1]),
                (_("签约项目"), [r[5] for r in rows][::-1]),
            ],
            horizontal=True,
        ),
        note=_("全部时间累计。"),
    )


# The chain map ---------------------------------------------------------------------------------


def chain(filters: Filters) -> list[Chart]:
    nodes = list(ChainNode.objects.order_by("position", "pk"))
    residents = dict(
        Organization.objects.filter(org_type=Organization.Type.RESIDENT, chain_node__isnull=False)
        .values_list("chain_node")
        .annotate(n=Count("pk"))
    )
    computed = filters.computed()
    output_by_org = {int(k): p.value for k, p in computed.results["industrial_output"].enterprises.items()}
    org_node = dict(Organization.objects.filter(pk__in=output_by_org).values_list("pk", "chain_node"))
    output: dict[int, Decimal] = {}
    for org, value in output_by_org.items():
        if org_node.get(org):
            output[org_node[org]] = output.get(org_node[org], Decimal(0)) + value
    children: dict[int | None, list[ChainNode]] = {}
    for node in nodes:
        children.setdefault(node.parent_id, []).append(node)

    def total(node: ChainNode, table: dict[int, Any]) -> Any:
        return table.get(node.pk, 0) + sum(total(child, table) for child in children.get(node.pk, []))

    rows = []

    def tree(node: ChainNode, depth: int) -> dict[str, Any]:
        count = total(node, residents)
        value = total(node, output)
        gap = (node.target_enterprises - count) if node.target_enterprises is not None else None
        rows.append(
            [
                "　" * depth + node.name,
                count,
                node.target_enterprises,
                gap if gap is not None and gap > 0 else (0 if gap is not None else None),
                _num(value),
                _num(node.target_output),
                _("无企业") if count == 0 else (_("未设目标") if node.target_enterprises is None else ""),
            ]
        )
        colour = (
            RED
            if count == 0
            else (GREY if node.target_enterprises is None else (YELLOW if gap and gap > 0 else GREEN))
        )
        return {
            "name": f"{node.name} {count}",
            "value": count,
            "itemStyle": {"color": colour, "borderColor": colour},
            "children": [tree(child, depth + 1) for child in children.get(node.pk, [])],
        }

    roots = [
        tree(root, 0)
        for root in children.get(None, [])
        if not filters.segment or root.code == filters.segment
    ]
    return [
        Chart(
            "chain",
            "chain",
            _("1+3+N 产业链图谱：企业数、目标与缺口"),
            [
                _("环节"),
                _("入驻企业"),
                _("目标企业数"),
                _("缺口"),
                _("规上产值（万元）"),
                _("产值目标（万元）"),
                _("提示"),
            ],
            rows,
            {
                "tooltip": {"trigger": "item", "formatter": "{b}"},
                "series": [
                    {
                        "type": "tree",
                        "data": [{"name": _("生物医药"), "children": roots, "itemStyle": {"color": GREEN}}],
                        "top": "2%",
                        "left": "12%",
                        "bottom": "2%",
                        "right": "22%",
                        "symbolSize": 9,
                        "initialTreeDepth": 3,
                        "label": {
                            "position": "left",
                            "verticalAlign": "middle",
                            "align": "right",
                            "fontSize": 12,
                        },
                        "leaves": {"label": {"position": "right", "align": "left"}},
                    }
                ],
            },
            note=_("红：无企业；灰：未设目标；黄：未达目标；绿：已达目标。产值为本期规上工业产值累计。"),
        )
    ]


# Services --------------------------------------------------------------------------------------


def services(filters: Filters, user: Any) -> list[Chart]:
    from yimatong.services.kpis import department_kpis
    from yimatong.services.models import Application, Demand, Policy, PolicyMatch

    start, end = filters.period.start, filters.period.end
    kpis = department_kpis(Demand.objects.visible_to(user), start, end)
    kpi_rows = [
        [
            r.department.name,
            r.dispatched,
            r.completion_rate,
            r.on_time_rate,
            r.satisfaction_rate,
            r.redo_rate,
            r.avg_handling_hours,
        ]
        for r in kpis
    ]
    charts = [
        Chart(
            "demands",
            "services",
            _("诉求办理：各部门考核"),
            [
                _("部门"),
                _("分派"),
                _("办结率（%）"),
                _("按时办结率（%）"),
                _("满意率（%）"),
                _("重办率（%）"),
                _("平均办理（工作小时）"),
            ],
            kpi_rows,
            _bar(
                [r[0] for r in kpi_rows],
                [
                    (_("办结率（%）"), [r[2] for r in kpi_rows]),
                    (_("按时办结率（%）"), [r[3] for r in kpi_rows]),
                    (_("满意率（%）"), [r[4] for r in kpi_rows]),
                ],
                unit="%",
            ),
            note=_("按分派日期计入本期。"),
        )
    ]
    policies = (
        Policy.objects.filter(is_published=True)
        .annotate(
            met=Count("matches", filter=Q(matches__status=PolicyMatch.Status.MET)),
            near=Count("matches", filter=Q(matches__status=PolicyMatch.Status.UNMET)),
        )
        .order_by("-met")[:15]
    )
    # Policy.disbursed is debited by every payment (an application's 兑付 and 免申即享 alike).
    policy_rows = [[p.title, p.met, p.near, _num(p.disbursed or Decimal(0))] for p in policies]
    charts.append(
        Chart(
            "policies",
            "services",
            _("政策直达：符合企业与兑付金额"),
            [_("政策"), _("符合企业"), _("差一项"), _("已兑付（万元）")],
            policy_rows,
            _bar(
                [r[0] for r in policy_rows][::-1],
                [
                    (_("符合企业"), [r[1] for r in policy_rows][::-1]),
                    (_("差一项"), [r[2] for r in policy_rows][::-1]),
                ],
                horizontal=True,
            ),
        )
    )
    in_flight = (
        Application.objects.exclude(
            status__in=[Application.Status.DRAFT, Application.Status.PAID, Application.Status.REJECTED]
        )
        .values("status")
        .annotate(n=Count("pk"), amount=Sum("amount_requested"))
        .order_by("status")
    )
    labels = dict(Application.Status.choices)
    app_rows = [[str(labels[r["status"]]), r["n"], _num(r["amount"])] for r in in_flight]
    charts.append(
        Chart(
            "applications",
            "services",
            _("在办政策申报"),
            [_("环节"), _("件数"), _("申请金额（万元）")],
            app_rows,
            _bar([r[0] for r in app_rows], [(_("件数"), [r[1] for r in app_rows])]),
        )
    )
    return charts


# Titles translated when shown (this table is built once, at import, in whatever language is active).
PANELS = {
    "statistics": (gettext_lazy("统计监测"), lambda f, u: statistics(f)),
    "investment": (gettext_lazy("招商引资"), investment),
    "chain": (gettext_lazy("产业链图谱"), lambda f, u: chain(f)),
    "services": (gettext_lazy("企业服务"), services),
}


def all_charts(filters: Filters, user: Any, only: str | None = None) -> list[Chart]:
    return fresh_charts(filters, user, only)[0]


def fresh_charts(filters: Filters, user: Any, only: str | None = None) -> tuple[list[Chart], dt.datetime]:
    """The charts of every panel (or of ``only``), each panel recomputed only when what it reads
    changed (``stats.freshness``); with the time the oldest of them was computed."""
    from yimatong.stats import freshness

    keys = [key for key in PANELS if only is None or key == only]
    marks = freshness.markers(sorted({*keys, "statistics"}))
    filters.marker = marks["statistics"]
    charts: list[Chart] = []
    oldest = timezone.now()
    for key in keys:
        build = PANELS[key][1]
        found, computed_at = freshness.cached(
            key,
            marks[key],
            (filters.year, filters.month, filters.segment),
            user,
            lambda build=build: build(filters, user),
        )
        charts += found
        oldest = min(oldest, computed_at)
    return charts, oldest
