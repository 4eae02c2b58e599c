"""Benchmark: the leaders' cockpit (领导驾驶舱) over 100k projects, ~1M project events and 5 years x
500 enterprises of monthly reports — p50/p95 of each panel, in-process, on SQLite and PostgreSQL.

Builds a throw-away database (a SQLite file in a temp dir, or, when DATABASE_URL points at
PostgreSQL, a database ``ymt_bench_cockpit`` on that server, dropped at the end), migrates it,
loads the demo park (its chain, teams, departments and personas; ``leader`` is the one measured)
and adds, with bulk_create:

- investment: --projects (100,000) projects over five years with ~10 events each (~1M:
  creation, stage moves counting signed/landed amounts on signing and registration, framework
  upgrades, capital, activities, changes, documents), from bench/investment_data.py (its
  history stretched from three to five years), spread over the chain, the stages and the demo's
  three promoters; one Activity row per activity event (the latest one of each project is
  investment_data's), a SiteVisit for every move to 考察 (some cancelled) and every signing
  ceremony, a few visits booked ahead, and 4–6 milestones for each major project (重大项目, ~10%
  of the signed ones), some late, each owned by a department;
- statistics: --enterprises (500) resident enterprises (~85% industrial: GB/T 4754 2761, 2720,
  3581; the others 7340), each on a chain node, with their monthly direct reports (企业直报) for
  --years (5) full years up to last year, months 2–12 (2 is January–February): 本月 and 累计
  consistent (累计 is the running sum of the 本月 figures, rounded to the cent), output, revenue,
  tax and electricity (output and electricity only for industrial ones), some entrants and exits,
  and ~40% with one to three fixed-asset investment lines (planned totals around 2,500万元,
  ~20% below the 500万元 threshold, industrial part within the total); every report published
  (its figures frozen in ``published_values`` as ``actions.snapshot`` writes them), each year's
  periods published, each year's 规上工业 set fixed by ``stats.actions.fix_above_scale`` from the
  previous December (the first year's from its own revenue), and last year's targets set 10%
  above the year before (computed by ``stats.compute``).

On PostgreSQL the tables are ANALYZEd after the load (what autovacuum does within a minute);
SQLite gets no ANALYZE, as in the embedded deployment.

Then, as the leader (``leader`` of the demo) through django.test.Client (force_login),
in-process, for the latest full year's month 4 (January–April of last year), --requests (20)
times each after a warm-up request (an item stops early, after at least 3, when it has taken
--budget seconds):

- each panel on its own, through its Excel export ``/stats/cockpit/data/<panel>.xlsx`` (which
  builds exactly that panel's charts): statistics, investment, chain, services;
- the whole cockpit page ``/stats/cockpit/``, the printable bulletin, the indicators API
  ``/api/v1/stats/indicators``;
- the city's exports: the weekly 招商活跃指数 feed over the last 52 weeks
  (``/stats/exports/activity.csv``) and the project list (``/stats/exports/projects.csv``).

Prints, per item, requests, p50, p95 and max (ms), the response size, its SQL queries (one more
request, captured), their time, per-row queries (a query shape run --per-row (10) times or more
in one request with as many different parameters: one query per row, period or chunk of
something that grows, N+1) and the readings repeated with the same parameters, and the ratio of p50 to bench/baseline.json (key ``cockpit/<vendor>``; above 1 is
slower; --save stores the current figures, only at the default sizes). The slowest queries of
an item slower than 2 s (p50), or of every item with --explain, are EXPLAINed; --cprofile
profiles one request of those items. Exits with 1 when an item answered anything but 200 or
ran per-row queries.

    .venv/bin/python bench/cockpit.py [--projects 100000] [--enterprises 500] [--years 5]
        [--requests 20] [--budget 240] [--per-row 10] [--explain] [--cprofile] [--quick] [--save]

--quick: 10,000 projects (~100k events), 100 enterprises x 3 years, 5 requests an item; saves
nothing. ``make bench-cockpit`` runs it on SQLite, then on PostgreSQL.

Everything (the PostgreSQL database, the temp dir) is removed at the end, on an error or
Ctrl-C too.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import json
import math
import os
import pstats
import random
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.benchenv import BASELINE, BenchEnv, _signals_ignored  # noqa: E402

BENCH_DB = os.environ.get(
    "BENCH_DB_NAME", "ymt_bench_cockpit"
)  # not benchenv's bench_yimatong: another benchmark may be using it
FULL = {"projects": 100_000, "enterprises": 500, "years": 5}  # the sizes of a saved baseline
QUICK = {"projects": 10_000, "enterprises": 100, "years": 3}
EVENTS_PER_PROJECT = 10
MONTH = 4  # the cockpit is measured for January–April of the latest full year
SLOW_MS = 2000  # an item slower than this (p50) gets its slowest queries explained
USCC_PREFIX = "9150017"  # 7 + 10-digit serial; investment_data uses 9150019, demand_queue 9150018
CHUNK = 50  # enterprises whose reports are written per transaction
BATCH = 5000  # rows per INSERT
CENT = Decimal("0.01")

INDUSTRIAL_CODES = [("2761", 0.45), ("2720", 0.30), ("3581", 0.25)]  # 生物药品, 化学制剂, 医疗设备
SERVICE_CODE = "7340"  # 医学研究和试验发展: not 工业
KINDS = ["生物科技", "生物制药", "医疗器械", "药业", "诊断技术", "医药科技"]
CITIES = ["渝北", "两江", "北碚", "巴南", "江北", "沙坪坝", "九龙坡", "南岸"]
BRANDS = ["康瑞", "华翔", "博恩", "天衡", "安泰", "润禾", "科睿", "泰和", "信康", "齐力", "宏远", "维康"]
LINE_NAMES = ["新建生产车间项目", "研发中心建设项目", "二期厂房扩建项目", "智能化改造项目"]
MILESTONES = ["土地摘牌", "施工许可", "开工建设", "主体封顶", "设备安装调试", "竣工投产"]
VISIT_TITLES = ["来园考察标准厂房", "考察园区配套", "实地踏勘地块", "考察公共服务平台"]


def pick(rng: random.Random, table: list[tuple[str, float]]) -> str:
    x, acc = rng.random(), 0.0
    for value, share in table:
        acc += share
        if x < acc:
            return value
    return table[-1][0]


def cents(value: float | Decimal) -> Decimal:
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


class CockpitBenchEnv(BenchEnv):
    """BenchEnv with a PostgreSQL database of its own (``ymt_bench_cockpit``)."""

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.pg_admin_url = ""

    def _create_database(self) -> None:
        url = os.environ.get("DATABASE_URL", "")
        if not url.startswith("postgres"):
            super()._create_database()
            return
        import psycopg

        os.environ["YIMATONG_ENV"] = self.env
        os.environ["YIMATONG_VAR_DIR"] = self.tmp
        self.pg_admin_url = url
        self.database_url = urlunsplit(urlsplit(url)._replace(path="/" + BENCH_DB))
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
            admin.execute(f"CREATE DATABASE {BENCH_DB}")
        os.environ["DATABASE_URL"] = self.database_url
        os.environ["DJANGO_SETTINGS_MODULE"] = "yimatong.settings"

    def cleanup(self) -> None:
        admin_url, self.pg_admin_url = self.pg_admin_url, ""
        super().cleanup()  # closes Django's connections, removes the temp dir
        if admin_url:
            with _signals_ignored():
                try:
                    import psycopg

                    with psycopg.connect(admin_url, autocommit=True) as admin:
                        admin.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
                except Exception as exc:
                    print(f"could not drop {BENCH_DB}: {exc}", file=sys.stderr)


# Data ------------------------------------------------------------------------------------------


@dataclass
class Stats:
    projects: int = 0
    events: int = 0
    organizations: int = 0  # the investors of the projects
    activities: int = 0
    site_visits: int = 0
    milestones: int = 0
    major: int = 0
    enterprises: int = 0
    reports: int = 0
    lines: int = 0
    above_scale: dict[int, int] = field(default_factory=dict)
    years: list[int] = field(default_factory=list)
    phases: list[tuple[str, float]] = field(default_factory=list)
    seconds: float = 0.0

    def lines_out(self) -> list[str]:
        return [
            f"{self.projects:,} projects, {self.events:,} events, {self.organizations:,} investor organizations,"
            f" {self.activities:,} activities, {self.site_visits:,} site visits, {self.major:,} major projects"
            f" with {self.milestones:,} milestones",
            f"{self.enterprises:,} reporting enterprises x {len(self.years)} years"
            f" ({self.years[0]}–{self.years[-1]}, months 2–12): {self.reports:,} monthly reports,"
            f" {self.lines:,} investment lines; 规上工业 per year: "
            + ", ".join(f"{y} {n}" for y, n in sorted(self.above_scale.items())),
            f"generated in {self.seconds:.1f} s ("
            + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in self.phases)
            + ")",
        ]


def generate(args: argparse.Namespace, stats: Stats) -> None:
    started = time.perf_counter()

    def phase(name: str, since: float) -> float:
        now = time.perf_counter()
        stats.phases.append((name, now - since))
        print(f"  [{now - started:6.1f} s] {name} done in {now - since:.1f} s", flush=True)
        return now

    at = time.perf_counter()
    investment(args, stats)
    at = phase("projects and events", at)
    work(args, stats)
    at = phase("activities, site visits, milestones", at)
    reports(args, stats)
    at = phase("enterprises and monthly reports", at)
    scopes_and_periods(stats)
    at = phase("规上 sets, periods, targets", at)
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # as autovacuum would after a bulk load
        phase("ANALYZE", at)
    stats.seconds = time.perf_counter() - started


def investment(args: argparse.Namespace, stats: Stats) -> None:
    """Projects and their events, by bench/investment_data.py over five years instead of three."""
    from bench import investment_data

    investment_data.HISTORY_DAYS = 5 * 365  # read by its Generator at run time
    found = investment_data.generate(
        projects=args.projects, events_per_project=EVENTS_PER_PROJECT, seed=args.seed, verbose=True
    )
    stats.projects, stats.events, stats.organizations = found.projects, found.events, found.organizations
    stats.activities = found.activities
    print(f"  investment_data: {found.line()}", flush=True)


def work(args: argparse.Namespace, stats: Stats) -> None:
    """Activity rows for the activity events, site visits for the moves to 考察 and the signings,
    milestones for the major projects."""
    from django.db import transaction
    from django.utils import timezone

    from bench.investment_data import historical_timestamps
    from yimatong.accounts.models import Department
    from yimatong.investment.models import EXITS, Activity, Milestone, Project, ProjectEvent, SiteVisit

    rng = random.Random(args.seed + 1)
    now = timezone.now()
    today = timezone.localdate(now)
    owners = dict(Project.objects.values_list("pk", "owner_id"))

    # One Activity per activity event (investment_data wrote the latest of each project, which its
    # event points at with data["activity"]).
    rows: list[Any] = []

    def flush(model: Any) -> int:
        with historical_timestamps(model), transaction.atomic():
            model.objects.bulk_create(rows, batch_size=BATCH)
        n = len(rows)
        rows.clear()
        return n

    events = (
        ProjectEvent.objects.filter(kind=ProjectEvent.Kind.ACTIVITY)
        .values_list("project_id", "at", "data")
        .order_by()
    )
    for project, at, data in events.iterator(chunk_size=20_000):
        if isinstance(data, str):  # a backend that hands JSON back as text
            data = json.loads(data)
        if "activity" in data:
            continue
        rows.append(
            Activity(
                project_id=project,
                kind=data.get("kind_label") or Activity.Kind.CALL,
                occurred_on=timezone.localdate(at),
                summary=data.get("summary") or "跟进",
                created_by_id=owners[project],
                created_at=at,
                updated_at=at,
            )
        )
        if len(rows) >= 50_000:
            stats.activities += flush(Activity)
    stats.activities += flush(Activity)

    # Site visits: every move to 考察 (10% cancelled), every signing (a ceremony), and visits booked
    # in the coming weeks for a few projects now at 考察 or 洽谈.
    moves = ProjectEvent.objects.filter(
        kind=ProjectEvent.Kind.STAGE,
        to_stage__in=["visit", "signed"],
        from_stage__in=["contact", "negotiation"],
    ).values_list("project_id", "to_stage", "at")
    for project, to_stage, at in moves.order_by("pk").iterator(
        chunk_size=20_000
    ):  # the same on every database
        signing = to_stage == "signed"
        starts = at - dt.timedelta(hours=rng.uniform(1, 48))
        rows.append(
            SiteVisit(
                project_id=project,
                title="项目签约仪式" if signing else rng.choice(VISIT_TITLES),
                purpose=SiteVisit.Purpose.SIGNING if signing else SiteVisit.Purpose.SITE_VISIT,
                starts_at=starts,
                ends_at=starts + dt.timedelta(hours=rng.choice([1, 2, 3])),
                visitors="投资方考察团",
                visitor_count=rng.randint(2, 8),
                requested_by=SiteVisit.RequestedBy.INVESTOR
                if rng.random() < 0.4
                else SiteVisit.RequestedBy.STAFF,
                status=SiteVisit.Status.CANCELLED
                if not signing and rng.random() < 0.1
                else SiteVisit.Status.DONE,
                created_by_id=owners[project],
                created_at=starts - dt.timedelta(days=rng.uniform(2, 14)),
                updated_at=min(now, starts + dt.timedelta(hours=4)),
            )
        )
    upcoming = Project.objects.filter(stage__in=["visit", "negotiation"]).values_list("pk", flat=True)
    for project in upcoming.order_by("pk").iterator(chunk_size=20_000):
        if rng.random() < 0.08:
            starts = now + dt.timedelta(days=rng.uniform(1, 30), hours=rng.uniform(0, 6))
            rows.append(
                SiteVisit(
                    project_id=project,
                    title=rng.choice(VISIT_TITLES),
                    starts_at=starts,
                    ends_at=starts + dt.timedelta(hours=2),
                    requested_by=SiteVisit.RequestedBy.INVESTOR,
                    status=SiteVisit.Status.REQUESTED if rng.random() < 0.5 else SiteVisit.Status.CONFIRMED,
                    created_by_id=owners[project],
                    created_at=now,
                    updated_at=now,
                )
            )
    stats.site_visits = flush(SiteVisit)

    # Milestones of the major projects still going: from the signing, every ~two months.
    departments = list(Department.objects.filter(is_dispatch_center=False).values_list("pk", flat=True))
    major = Project.objects.filter(is_major=True).exclude(stage__in=EXITS).values_list("pk", "signed_on")
    for project, signed_on in major.order_by("pk").iterator(chunk_size=20_000):
        stats.major += 1
        day = signed_on or today - dt.timedelta(days=rng.randint(30, 400))
        for position, name in enumerate(MILESTONES[: rng.randint(4, 6)]):
            day += dt.timedelta(days=rng.randint(30, 90))
            actual = None
            if day < today and rng.random() < 0.75:
                actual = min(today, day + dt.timedelta(days=rng.randint(-10, 30)))
            rows.append(
                Milestone(
                    project_id=project,
                    name=name,
                    planned_on=day,
                    actual_on=actual,
                    department_id=rng.choice(departments) if departments else None,
                    position=position,
                    created_at=now,
                    updated_at=now,
                )
            )
    stats.milestones = flush(Milestone)


@dataclass
class Enterprise:
    pk: int
    industrial: bool
    segment: str
    start: int  # first year reported
    end: int  # last year reported
    scale: float  # annual output (or revenue) of the first year, 万元
    growth: dict[int, float]
    projects: list[
        tuple[str, Decimal, dict[int, float], float]
    ]  # name, planned, spend by year, industrial share


def reports(args: argparse.Namespace, stats: Stats) -> None:
    """The resident enterprises and their monthly reports, published."""
    from django.db import transaction
    from django.utils import timezone

    from bench.investment_data import historical_timestamps
    from yimatong.accounts.models import User
    from yimatong.directory.models import ChainNode, IndustryCode, Organization
    from yimatong.lib.identifiers import uscc_with_check_digit
    from yimatong.lib.text import normalize_org_name, pinyin_full, pinyin_initials
    from yimatong.stats import checks
    from yimatong.stats.actions import LINE_FIELDS, VALUE_FIELDS
    from yimatong.stats.models import InvestmentLine, MonthlyReport, ReportingRules

    rng = random.Random(args.seed + 2)
    last = timezone.localdate().year - 1
    years = list(range(last - args.years + 1, last + 1))
    stats.years = years
    officer = User.objects.get(username="stats")
    industries = dict(
        IndustryCode.objects.filter(code__in=[c for c, _ in INDUSTRIAL_CODES] + [SERVICE_CODE]).values_list(
            "code", "pk"
        )
    )
    nodes = list(ChainNode.objects.all())
    by_pk = {n.pk: n for n in nodes}

    def root(node: Any) -> Any:
        while node.parent_id and node.parent_id in by_pk:
            node = by_pk[node.parent_id]
        return node

    # The enterprises.
    serial0 = Organization.objects.filter(uscc__startswith=USCC_PREFIX).count()
    orgs, plans = [], []
    for i in range(args.enterprises):
        industrial = rng.random() < 0.85
        node = rng.choice(nodes)
        city, brand, kind = rng.choice(CITIES), rng.choice(BRANDS), rng.choice(KINDS)
        name = f"重庆{city}{brand}{kind}{serial0 + i}有限公司"
        code = pick(rng, INDUSTRIAL_CODES) if industrial else SERVICE_CODE
        orgs.append(
            Organization(
                name=name,
                normalized_name=normalize_org_name(name),
                name_initials=pinyin_initials(name),
                name_pinyin=pinyin_full(name),
                uscc=uscc_with_check_digit(f"{USCC_PREFIX}{serial0 + i:010d}"),
                org_type=Organization.Type.RESIDENT,
                industry_id=industries.get(code),
                chain_node=node,
            )
        )
        start = years[0] if rng.random() < 0.8 or len(years) == 1 else rng.choice(years[1:])
        end = years[-1]
        if rng.random() < 0.05 and start < years[-1]:  # closed or moved away before last year
            end = rng.choice([y for y in years if start <= y < years[-1]])
        growth = {y: rng.gauss(0.07, 0.12) for y in years}
        projects = []
        if rng.random() < 0.4:
            for k in range(rng.randint(1, 3)):
                planned = cents(min(math.exp(rng.gauss(math.log(2500), 1.0)), 200_000.0))
                first = rng.randint(start, end)
                spend = {}
                for y in range(first, min(end, first + rng.randint(0, 2)) + 1):
                    spend[y] = float(planned) / rng.uniform(1.5, 3.5)
                projects.append((LINE_NAMES[k], planned, spend, rng.uniform(0.5, 1.0) if industrial else 0.0))
        plans.append(
            Enterprise(
                pk=0,
                industrial=industrial,
                segment=root(node).code,
                start=start,
                end=end,
                scale=math.exp(rng.gauss(math.log(6000), 1.0)),
                growth=growth,
                projects=projects,
            )
        )
    with transaction.atomic():
        created = Organization.objects.bulk_create(orgs, batch_size=BATCH)
    if any(o.pk is None for o in created):
        ids = dict(Organization.objects.filter(uscc__startswith=USCC_PREFIX).values_list("uscc", "pk"))
        for o in created:
            o.pk = ids[o.uscc]
    for org, plan in zip(created, plans, strict=True):
        plan.pk = org.pk
    stats.enterprises = len(created)

    rules = {y: ReportingRules(year=y) for y in years}  # the defaults (deadline on the 8th)
    published_by = officer.pk
    for start in range(0, len(plans), CHUNK):
        chunk = plans[start : start + CHUNK]
        rows: list[Any] = []
        line_rows: list[list[dict[str, Decimal]]] = []
        for plan in chunk:
            for report, lines in enterprise_reports(rng, plan, years):
                deadline = checks.deadline(report["year"], report["month"], rules[report["year"]])
                filed = timezone.make_aware(dt.datetime.combine(deadline - dt.timedelta(days=2), dt.time(10)))
                published = filed + dt.timedelta(days=2, hours=7)
                values = {k: None if report.get(k) is None else str(report[k]) for k in VALUE_FIELDS}
                values["lines"] = [
                    {"name": line["name"], "project": None, **{k: str(line[k]) for k in LINE_FIELDS}}
                    for line in lines
                ]
                values["segment"] = plan.segment
                rows.append(
                    MonthlyReport(
                        organization_id=plan.pk,
                        segment=plan.segment,
                        status=MonthlyReport.Status.PUBLISHED,
                        revision=1,
                        submitted_at=filed,
                        published_values=values,
                        published_at=published,
                        published_by_id=published_by,
                        created_at=filed,
                        updated_at=published,
                        **report,
                    )
                )
                line_rows.append(lines)
        with historical_timestamps(MonthlyReport), transaction.atomic():
            saved = MonthlyReport.objects.bulk_create(rows, batch_size=BATCH)
            if any(r.pk is None for r in saved):
                ids = {
                    (o, y, m): pk
                    for pk, o, y, m in MonthlyReport.objects.filter(
                        organization_id__in=[p.pk for p in chunk]
                    ).values_list("pk", "organization_id", "year", "month")
                }
                for r in saved:
                    r.pk = ids[(r.organization_id, r.year, r.month)]
            InvestmentLine.objects.bulk_create(
                [
                    InvestmentLine(report_id=r.pk, **line)
                    for r, lines in zip(saved, line_rows, strict=True)
                    for line in lines
                ],
                batch_size=BATCH,
            )
        stats.reports += len(saved)
        stats.lines += sum(len(lines) for lines in line_rows)


def enterprise_reports(
    rng: random.Random, plan: Enterprise, years: list[int]
) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """(report fields, investment lines) of each period the enterprise reported: 本月 rounded to
    the cent, 累计 their running sum within the year (month 2 is January–February)."""
    out = []
    scale = plan.scale
    for year in years:
        scale *= 1 + plan.growth[year]
        if not plan.start <= year <= plan.end:
            continue
        # Twelve months with a seasonal swing; the first period is January and February together.
        weights = [
            (1 + 0.15 * math.sin(2 * math.pi * (m - 4) / 12)) * rng.uniform(0.9, 1.1) for m in range(1, 13)
        ]
        total = sum(weights)
        months = [scale * w / total for w in weights]
        periods = [months[0] + months[1], *months[2:]]  # index 0 is month 2
        ratio = rng.uniform(0.85, 1.05)  # revenue / output
        tax_rate = rng.uniform(0.03, 0.07)
        power = rng.uniform(0.01, 0.03)  # 万千瓦时 per 万元 of output
        cum: dict[str, Decimal] = {}
        line_cum: dict[str, tuple[Decimal, Decimal]] = {}
        for i, value in enumerate(periods):
            month = i + 2
            flows = {
                "revenue": cents(value * ratio),
                "tax": cents(value * ratio * tax_rate),
            }
            if plan.industrial:
                flows["output"] = cents(value)
                flows["electricity"] = cents(value * power)
            report: dict[str, Any] = {"year": year, "month": month}
            for prefix in ("output", "revenue", "tax", "electricity"):
                if prefix in flows:
                    cum[prefix] = cum.get(prefix, Decimal(0)) + flows[prefix]
                    report[f"{prefix}_month"] = flows[prefix]
                    report[f"{prefix}_cum"] = cum[prefix]
            report["employees"] = max(12, int(scale / 90))
            lines = []
            for name, planned, spend, share in plan.projects:
                if year not in spend:
                    continue
                amount = cents(spend[year] / 12 * (2 if month == 2 else 1) * rng.uniform(0.5, 1.5))
                industrial = (amount * Decimal(str(share))).quantize(CENT, rounding=ROUND_DOWN)
                total, industrial_total = line_cum.get(name, (Decimal(0), Decimal(0)))
                total, industrial_total = total + amount, industrial_total + industrial
                line_cum[name] = (total, industrial_total)
                lines.append(
                    {
                        "name": name,
                        "planned_total": planned,
                        "month_amount": amount,
                        "cumulative": total,
                        "industrial_month": industrial,
                        "industrial_cumulative": industrial_total,
                    }
                )
            out.append((report, lines))
    return out


def scopes_and_periods(stats: Stats) -> None:
    """Each year's 规上工业 set, the periods published, last year's targets."""
    from django.utils import timezone

    from yimatong.accounts.models import User
    from yimatong.directory.models import Organization
    from yimatong.stats import checks, compute
    from yimatong.stats.actions import fix_above_scale, is_industrial
    from yimatong.stats.models import AboveScaleMember, MonthlyReport, Period, ReportingRules

    officer = User.objects.get(username="stats")
    years = stats.years
    for year in years:
        stats.above_scale[year] = fix_above_scale(year=year, actor=officer, force=True)
    # The first year has no December before it for the new enterprises: their own revenue decides.
    first = years[0]
    rules = ReportingRules.for_year(first)
    known = set(AboveScaleMember.objects.filter(year=first).values_list("organization_id", flat=True))
    december = (
        MonthlyReport.objects.filter(year=first, month=12, organization__uscc__startswith=USCC_PREFIX)
        .exclude(organization_id__in=known)
        .select_related("organization__industry")
    )
    extra = [
        AboveScaleMember(year=first, organization_id=r.organization_id, revenue_last_year=r.revenue_cum)
        for r in december
        if is_industrial(r.organization) and (r.revenue_cum or 0) >= rules.above_scale_revenue
    ]
    AboveScaleMember.objects.bulk_create(extra)
    stats.above_scale[first] += len(extra)
    latest = AboveScaleMember.objects.filter(year=years[-1]).values("organization_id")
    Organization.objects.filter(pk__in=latest).update(is_above_scale=True)

    for year in years:
        rules = ReportingRules.for_year(year)
        for month in range(2, 13):
            published_at = timezone.make_aware(
                dt.datetime.combine(checks.deadline(year, month, rules), dt.time(17))
            )
            Period.objects.update_or_create(
                year=year, month=month, defaults={"published_at": published_at, "published_by": officer}
            )
    if len(years) >= 2:
        before = compute.compute(years[-2], 12)
        targets = {
            code: str((before.results[code].value * Decimal("1.1")).quantize(Decimal("1"), ROUND_HALF_UP))
            for code in ("industrial_output", "fixed_asset_investment", "industrial_investment", "tax")
            if before.results[code].value
        }
        ReportingRules.objects.filter(year=years[-1]).update(targets=targets)


# Items -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    name: str
    path: str


def items(year: int) -> list[Item]:
    from django.utils import timezone

    period = urlencode({"year": year, "month": MONTH})
    today = timezone.localdate()
    week = urlencode({"start": (today - dt.timedelta(weeks=52)).isoformat(), "end": today.isoformat()})
    return [
        *[
            Item(f"panel: {panel} (.xlsx)", f"/stats/cockpit/data/{panel}.xlsx?{period}")
            for panel in ("statistics", "investment", "chain", "services")
        ],
        Item("cockpit page", f"/stats/cockpit/?{period}"),
        Item("bulletin", f"/stats/cockpit/bulletin/?{period}"),
        Item("API /stats/indicators", f"/api/v1/stats/indicators?{period}"),
        Item("weekly feed, 52 weeks (.csv)", f"/stats/exports/activity.csv?{week}"),
        Item("project list (.csv)", "/stats/exports/projects.csv"),
    ]


# Measuring (in-process) ------------------------------------------------------------------------

_LITERALS = re.compile(r"'[^']*'|\b\d+(\.\d+)?\b")
_LISTS = re.compile(r"\((?:\s*(?:%s|\?|NULL)\s*,)+\s*(?:%s|\?|NULL)\s*\)")


def shape(sql: str) -> str:
    """The query with its values out: literals and placeholders as ?, IN lists as (…)."""
    return _LISTS.sub("(…)", _LITERALS.sub("?", re.sub(r"\s+", " ", sql).replace("%s", "?")))


@dataclass
class Measure:
    name: str
    path: str
    latencies: list[float] = field(default_factory=list)
    status: int = 0
    bytes: int = 0
    errors: list[str] = field(default_factory=list)
    queries: int = 0
    logged: int = 0  # what CaptureQueriesContext saw (at most 9,000)
    sql_ms: float = 0.0
    shapes: Counter[str] = field(default_factory=Counter)
    distinct: dict[str, int] = field(default_factory=dict)  # shape -> distinct parameter sets
    slowest: list[tuple[float, str, Any]] = field(default_factory=list)  # ms, SQL, params
    profile: str = ""

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies)
        if not ordered:
            return 0.0
        return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))] * 1000

    def per_row(self, threshold: int) -> dict[str, int]:
        """Shapes run ``threshold`` times or more with as many different parameters: one query
        per row (or per period, per chunk) of something that grows."""
        return {s: n for s, n in self.shapes.items() if n >= threshold and self.distinct[s] >= threshold}

    def repeated(self, threshold: int) -> dict[str, int]:
        """Shapes run more than once that are not per-row: the same reading done again."""
        per_row = self.per_row(threshold)
        return {s: n for s, n in self.shapes.items() if n > 1 and s not in per_row}


def measure(rows: list[Item], requests: int, budget: float) -> list[Measure]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from yimatong.accounts.models import User

    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(User.objects.get(username="leader"))
    executed: list[tuple[float, str, Any]] = []

    def timed(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            executed.append(((time.perf_counter() - started) * 1000, sql, None if many else params))

    results = []
    for item in rows:
        m = Measure(item.name, item.path)
        results.append(m)
        started = time.perf_counter()
        response = client.get(item.path)  # warm-up
        warm = time.perf_counter() - started
        m.status, m.bytes = response.status_code, len(response.content)
        if response.status_code != 200:
            m.errors.append(f"GET {item.path}: {response.status_code} {response.content[:300]!r}")
            print(f"  {item.name:32} FAILED: {m.errors[-1]}", flush=True)
            continue
        # The queries of one request (the debug cursor and the timer cost a little: not timed).
        executed.clear()
        with CaptureQueriesContext(connection) as ctx, connection.execute_wrapper(timed):
            client.get(item.path)
        m.queries, m.logged = len(executed), len(ctx.captured_queries)
        m.sql_ms = sum(ms for ms, _sql, _params in executed)
        m.shapes = Counter(shape(sql) for _ms, sql, _params in executed)
        params: dict[str, set[str]] = {}
        for _ms, sql, values in executed:
            params.setdefault(shape(sql), set()).add(repr(values))
        m.distinct = {s: len(v) for s, v in params.items()}
        m.slowest = sorted(executed, key=lambda q: q[0], reverse=True)[:3]
        executed.clear()
        # The timed requests.
        spent = warm
        for n in range(requests):
            if n >= 3 and spent > budget:
                break
            started = time.perf_counter()
            response = client.get(item.path)
            _content = response.content
            elapsed = time.perf_counter() - started
            spent += elapsed
            m.latencies.append(elapsed)
            if response.status_code != 200:
                m.status = response.status_code
                m.errors.append(f"GET {item.path}: {response.status_code}")
        print(
            f"  {item.name:32} n {len(m.latencies):3d}  p50 {m.pct(0.5):9.1f} ms  p95 {m.pct(0.95):9.1f} ms"
            f"  queries {m.queries}",
            flush=True,
        )
    return results


def profile(m: Measure) -> None:
    """One request under cProfile: the functions of the app and of Django's ORM by cumulative time."""
    from django.test import Client

    from yimatong.accounts.models import User

    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(User.objects.get(username="leader"))
    profiler = cProfile.Profile()
    profiler.enable()
    client.get(m.path)
    profiler.disable()
    out = io.StringIO()
    table = pstats.Stats(profiler, stream=out).sort_stats("cumulative")
    table.print_stats(r"yimatong/|django/db/models/(query|sql/compiler)|sqlite3|psycopg", 22)
    text = out.getvalue()
    m.profile = text[text.find("   ncalls") :] if "   ncalls" in text else text


def explain(sql: str, params: Any) -> str:
    from django.db import connection

    if connection.vendor == "sqlite":
        prefix = "EXPLAIN QUERY PLAN "
    else:  # only a SELECT is run to be explained (ANALYZE executes the statement)
        prefix = "EXPLAIN (ANALYZE, BUFFERS) " if sql.lstrip().upper().startswith("SELECT") else "EXPLAIN "
    try:
        with connection.cursor() as cursor:
            cursor.execute(prefix + sql, params)
            plan = cursor.fetchall()
    except Exception as exc:
        return f"(could not explain: {exc})"
    if connection.vendor == "sqlite":
        return "\n".join(f"{row[-1]}" for row in plan)
    return "\n".join(row[0] for row in plan)


def shorten(sql: str) -> str:
    """The SQL on one line, a long column list elided."""
    sql = re.sub(r"\s+", " ", sql)
    columns_end = sql.find(" FROM ")
    return "SELECT … " + sql[columns_end + 1 :] if sql.startswith("SELECT ") and columns_end > 120 else sql


# Report ----------------------------------------------------------------------------------------


def report(
    results: list[Measure], stats: Stats, args: argparse.Namespace, key: str, config: str, save: bool
) -> bool:
    baseline = json.loads(BASELINE.read_text()) if BASELINE.exists() else {}
    base = baseline.get(key, {})
    print()
    print(config)
    print()
    print(
        f"{'item':32} {'req':>4} {'p50 ms':>9} {'p95 ms':>9} {'max ms':>9} {'KiB':>6} {'queries':>7}"
        f" {'SQL ms':>8} {'per-row':>7} {'base p50':>9} {'ratio':>6}"
    )
    ok = True
    for m in results:
        ref = base.get(m.name, {}).get("p50_ms")
        ratio = f"{m.pct(0.5) / ref:6.2f}" if ref and m.latencies else "     —"
        per_row = sum(m.per_row(args.per_row).values())
        print(
            f"{m.name:32} {len(m.latencies):4d} {m.pct(0.5):9.1f} {m.pct(0.95):9.1f} {m.pct(1.0):9.1f}"
            f" {m.bytes / 1024:6.0f} {m.queries:7d} {m.sql_ms:8.1f} {per_row or '—':>7} {ref or '—':>9} {ratio}"
        )
        for error in m.errors[:3]:
            print(f"    error: {error}")
        if m.errors:
            ok = False
    print(
        "(in-process through django.test.Client as the leader; p50/p95/max over the timed requests after"
        " a warm-up; queries and SQL ms (time in cursor.execute) of one more request; per-row: queries"
        f" of a shape run {args.per_row} times or more with as many different parameters in one request;"
        " ratio: p50 against the baseline,"
        " above 1 is slower)"
    )
    per_row = {m.name: m.per_row(args.per_row) for m in results if m.per_row(args.per_row)}
    if per_row:
        ok = False
        print(
            f"\nper-row queries (a query shape run {args.per_row} times or more in one request, with as"
            " many different parameters):"
        )
        for name, shapes in per_row.items():
            m = next(x for x in results if x.name == name)
            for s, n in sorted(shapes.items(), key=lambda kv: -kv[1]):
                print(f"  {name}: {n} x ({m.distinct[s]} different) {shorten(s)[:260]}")
    else:
        print(
            f"\nno per-row queries: no query shape runs {args.per_row} times or more with different"
            " parameters in one request"
        )
    repeated = {m.name: m.repeated(args.per_row) for m in results if m.repeated(args.per_row)}
    if repeated:
        print("repeated readings (a query shape run again, mostly with the same parameters; a fixed number):")
        for name, shapes in repeated.items():
            m = next(x for x in results if x.name == name)
            for s, n in sorted(shapes.items(), key=lambda kv: -kv[1])[:6]:
                print(f"  {name}: {n} x ({m.distinct[s]} different) {shorten(s)[:200]}")
    truncated = [m.name for m in results if m.logged < m.queries]
    if truncated:
        print(f"(CaptureQueriesContext keeps 9,000 queries: counted by an execute wrapper for {truncated})")

    print(
        "\nwhere the time goes (one request): SQL ms is the time in cursor.execute; the rest is Python and"
        "\nfetching the rows (a query read with .iterator() fetches after execute: its time is in the rest)"
    )
    print(f"  {'item':32} {'p50 ms':>9} {'SQL ms':>8} {'slowest':>8}  query")
    for m in results:
        if not m.slowest:
            continue
        ms, sql, _params = m.slowest[0]
        print(f"  {m.name:32} {m.pct(0.5):9.1f} {m.sql_ms:8.1f} {ms:8.1f}  {shorten(sql)[:140]}")
    slow = [m for m in results if m.latencies and (args.explain or m.pct(0.5) > SLOW_MS)]
    for m in slow:
        print(f"\n  '{m.name}' (p50 {m.pct(0.5):.0f} ms): its slowest queries and the plan of each")
        for ms, sql, params in m.slowest:
            print(f"    {ms:.1f} ms: {shorten(sql)[:1500]}")
            for line in explain(sql, params).splitlines():
                print(f"        {line}")
        if m.profile:
            print(f"  '{m.name}': one request under cProfile (cumulative)")
            for line in m.profile.rstrip().splitlines():
                print(f"    {line}")
    over = [m.name for m in results if m.pct(0.5) > SLOW_MS]
    if over:
        print(f"\nslower than {SLOW_MS} ms (p50): {', '.join(over)}")

    if save:
        baseline[key] = {
            m.name: {"p50_ms": round(m.pct(0.5), 1), "p95_ms": round(m.pct(0.95), 1), "queries": m.queries}
            for m in results
        }
        baseline[key].update(
            projects=stats.projects,
            events=stats.events,
            enterprises=stats.enterprises,
            reports=stats.reports,
            generation_s=round(stats.seconds, 1),
        )
        BASELINE.write_text(json.dumps(baseline, indent=2, ensure_ascii=False) + "\n")
        print(f"baseline saved for {key}")
    return ok


# Main ------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--projects", type=int, default=0, help=f"projects (default {FULL['projects']:,})")
    parser.add_argument(
        "--enterprises", type=int, default=0, help=f"reporting enterprises (default {FULL['enterprises']})"
    )
    parser.add_argument("--years", type=int, default=0, help=f"years of reports (default {FULL['years']})")
    parser.add_argument("--requests", type=int, default=20, help="timed requests per item")
    parser.add_argument(
        "--budget",
        type=float,
        default=240,
        help="seconds an item may take (it stops after 3 requests or more)",
    )
    parser.add_argument(
        "--per-row",
        type=int,
        default=10,
        help="a query shape run this often, with as many different parameters, is per-row",
    )
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--explain", action="store_true", help="explain every item's slowest queries")
    parser.add_argument("--cprofile", action="store_true", help="profile one request of the slow items")
    parser.add_argument("--quick", action="store_true", help="10,000 projects, 100 enterprises x 3 years")
    parser.add_argument(
        "--save", "--save-baseline", action="store_true", help="store these figures as the baseline"
    )
    args = parser.parse_args()
    sizes = QUICK if args.quick else FULL
    for name, default in sizes.items():
        setattr(args, name, getattr(args, name) or default)
    if args.quick:
        args.requests = min(args.requests, 5)
    save = args.save and not args.quick
    if args.save and any(getattr(args, k) != v for k, v in FULL.items()):
        print("--save ignored: a baseline is for the default sizes", file=sys.stderr)
        save = False

    with CockpitBenchEnv(env="development") as bench:
        bench.setup_django()
        from django.db import connection

        from yimatong.demo.loader import load_demo

        vendor = connection.vendor
        started = time.perf_counter()
        load_demo()
        print(f"database: {vendor}; demo park loaded in {time.perf_counter() - started:.1f} s", flush=True)
        stats = Stats()
        generate(args, stats)
        for line in stats.lines_out():
            print(line, flush=True)

        year = stats.years[-1]
        load_before = os.getloadavg()[0]
        results = measure(items(year), args.requests, args.budget)
        if args.cprofile:
            for m in results:
                if m.latencies and (args.explain or m.pct(0.5) > SLOW_MS):
                    profile(m)
        config = (
            f"in-process (django.test.Client, DEBUG off) as the leader, {vendor}"
            + (" (no ANALYZE)" if vendor == "sqlite" else f" (database {BENCH_DB}, ANALYZEd after the load)")
            + f"; period {year} January–{['', '', 'February', 'March', 'April'][MONTH] if MONTH <= 4 else MONTH}"
            + "\ndata: "
            + "\n      ".join(stats.lines_out())
            + f"\nrequests: up to {args.requests} per item after a warm-up, an item stopping after {args.budget:.0f} s"
            + f"\nhost: {os.cpu_count()} CPUs, load average (1 min) before the measures {load_before:.2f},"
            f" after {os.getloadavg()[0]:.2f} (well above 0 before: other work shares the CPUs)"
        )
        ok = report(results, stats, args, f"cockpit/{vendor}", config, save)
    if not ok:
        print("FAILED: failed requests or per-row queries (see above)", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
