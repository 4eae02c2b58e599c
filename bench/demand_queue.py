"""Load test: the demand queues (诉求工单) at 100k demands, over HTTP on loopback.

Builds a throw-away database (a SQLite file in a temp dir, or, when DATABASE_URL points at
PostgreSQL, a database ``ymt_bench_demands`` on that server, dropped at the end), migrates it,
loads the demo park (its departments, categories and personas: ``service`` of the dispatch
centre, ``landdept`` of the land department, ``enterprise`` of a resident) and adds, with
bulk_create:

- a sixth department (区住房和城乡建设委员会) and an officer for each department;
- ~500 resident enterprises, each with an enterprise user; some file many more demands than
  others (the demo's ``enterprise`` is a busy one);
- --demands (100,000) demands in the 11 demo categories over three years (more lately), in every
  status: ~79% archived, ~10% handling with deadlines around today (about a quarter overdue,
  with their escalation ladder and some 督办), and the rest submitted, accepted, dispatched,
  returned, awaiting documents, completed, waiting for the follow-up call or withdrawn; some
  with an extension asked for, a return, a redo, a co-department; codes ``SQ-<year>-<n>``
  continuing the demo's numbering (the sequence is bumped);
- each demand's history as the actions write it (filed, accepted, dispatched, returned,
  signed, documents asked and supplied, extension, completed, reviewed, rated, reopened,
  escalated, supervised, withdrawn): ~6.7 events a demand.

On PostgreSQL the tables are ANALYZEd after the load (what autovacuum does within a minute);
SQLite gets no ANALYZE, as in the embedded deployment.

Then, in-process through Django's test client, it counts the SQL queries of every page
(CaptureQueriesContext) and flags per-row queries (a query shape run more than once in one
request: N+1), with the SQL time of each page and its slowest query (EXPLAINed with --explain
or when the page is slow). Then it serves the app with gunicorn (gthread, 2 workers x 2
threads by default) on 127.0.0.1 with bench/bench_settings.py (the project's URLs plus a bare
view, the floor), signs the three personas in through the login page and measures the pages
with --concurrency (1: one request at a time, so the figures are each page's own cost, not
queueing) client connections, --requests per page, in --rounds taking turns:

- the centre (dispatcher): ``/services/demands/?tab=todo|review|handling|follow_up|all``,
  a search ``?tab=all&q=…`` by a word of the titles and by a part of an enterprise's name,
  and the KPI page for last month (``/services/demands/kpis/?start=…&end=…``);
- the land department's officer: ``?tab=todo`` and ``?tab=handling``;
- the enterprise user: its list (``?tab=open``, the default) and ``?tab=all``.

Prints, per page, requests, p50, p95 and max latency (ms), queries, the ratio of p50 to the
floor and to bench/baseline.json (key ``demand_queue/<vendor>``; above 1 is slower; --save
stores the current figures, only at the full 100,000 demands). Exits with 1 when a page
answered anything but 200 or when a page runs per-row queries.

    .venv/bin/python bench/demand_queue.py [--demands 100000] [--requests 60] [--rounds 3]
        [--concurrency 1] [--workers 2] [--threads 2] [--explain] [--quick] [--save]

--quick loads 20,000 demands, sends 12 requests per page and saves nothing. ``make
bench-demands`` runs it on SQLite, then on PostgreSQL.

Everything (the server, the PostgreSQL database, the temp dir) is removed at the end, on an
error or Ctrl-C too.
"""

from __future__ import annotations

import argparse
import bisect
import datetime as dt
import http.client
import json
import os
import random
import re
import socket
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.benchenv import BASELINE, BenchEnv, _signals_ignored, login, wait_until_answers  # noqa: E402

BENCH_DB = os.environ.get(
    "BENCH_DB_NAME", "ymt_bench_demands"
)  # not benchenv's bench_yimatong: another benchmark may be using it
FULL = 100_000  # demands of a saved baseline
ENTERPRISES = 500
HISTORY_DAYS = 3 * 365
CHUNK = 5_000  # demands written per transaction
SLOW_MS = 300  # a page slower than this (p50) gets its slowest query explained
USCC_PREFIX = "9150018"  # 7 characters + 10-digit serial; bench/investment_data.py uses 9150019
PASSWORD = "demo"  # the demo park's accounts
FLOOR = "floor: bare JSON view"

# Where demands are today (shares sum to 1).
STATUSES = [
    ("archived", 0.790),
    ("withdrawn", 0.020),
    ("handling", 0.100),
    ("awaiting_info", 0.010),
    ("completed", 0.020),
    ("follow_up", 0.030),
    ("submitted", 0.008),
    ("accepted", 0.004),
    ("dispatched", 0.015),
    ("returned", 0.003),
]
# Categories (the demo's codes) and how often enterprises ask about them.
CATEGORY_SHARE = {
    "financing": 0.09,
    "land": 0.08,
    "utilities": 0.14,
    "labour": 0.12,
    "construction": 0.10,
    "approval": 0.12,
    "policy": 0.15,
    "amenities": 0.07,
    "talent": 0.06,
    "logistics": 0.03,
    "other": 0.04,
}
# The sixth department takes most of the construction category.
EXTRA_DEPARTMENT = ("housing", "区住房和城乡建设委员会", "023-66220006")
LEAD_OVERRIDE = {"construction": "housing"}
TITLES = {
    "financing": [
        "流动资金贷款贴息申请",
        "知识产权质押融资对接",
        "申请园区产业基金投资",
        "科技型企业信用贷款",
    ],
    "land": ["新建制剂车间用地规划调整", "二期厂房扩建用地指标", "土地使用权证办理", "厂区道路红线调整"],
    "utilities": ["双回路供电增容", "工业用水管网接入", "天然气报装", "临时停电影响生产请协调"],
    "labour": ["招聘 GMP 操作工", "外籍员工工作许可办理", "员工社保转移咨询", "对接人社局专场招聘会"],
    "construction": ["施工许可证办理", "洁净车间竣工验收", "消防设计审查", "厂房装修备案"],
    "approval": ["药品生产许可证变更", "医疗器械注册检验排期", "环评批复进度", "危化品仓库审批"],
    "policy": ["研发费用加计扣除政策咨询", "高新技术企业认定", "专精特新申报条件", "人才公寓补贴政策"],
    "amenities": ["园区通勤班车增加班次", "食堂就餐时段延长", "快递驿站设置", "停车位不足"],
    "talent": ["博士后工作站申报", "高层次人才子女入学", "人才公寓申请", "引进人才落户"],
    "logistics": ["冷链物流仓储对接", "进口原料通关协调", "危险品运输路线", "物流车辆通行证"],
    "other": ["园区路灯维修", "厂区周边绿化", "噪声扰民投诉处理", "企业宣传展位申请"],
}
SEARCH_TITLE = "供电"  # one of the four utilities titles: ~3.5% of the demands
RATINGS = [("satisfied", 0.86), ("basic", 0.14)]
URGENCIES = [("normal", 0.85), ("urgent", 0.13), ("emergency", 0.02)]


def pick(rng: random.Random, table: list[tuple[str, float]]) -> str:
    x, acc = rng.random(), 0.0
    for value, share in table:
        acc += share
        if x < acc:
            return value
    return table[-1][0]


class DemandBenchEnv(BenchEnv):
    """BenchEnv with a PostgreSQL database of its own (``ymt_bench_demands``)."""

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
        super().cleanup()  # stops the server, closes Django's connections, removes the temp dir
        if admin_url:
            with _signals_ignored():
                try:
                    import psycopg

                    with psycopg.connect(admin_url, autocommit=True) as admin:
                        admin.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
                except Exception as exc:
                    print(f"could not drop {BENCH_DB}: {exc}", file=sys.stderr)


# Data ------------------------------------------------------------------------------------------


class Calendar:
    """Working days from the app's rules (yimatong.lib.workdays), looked up in a table: the
    same answers as ``add_working_days`` without walking the calendar for every demand."""

    def __init__(self, start: dt.date, end: dt.date):
        from yimatong.lib.workdays import is_workday

        self.days: list[dt.date] = []
        self.guessed: set[dt.date] = set()
        day = start
        while day <= end:
            working, guessed = is_workday(day)
            if working:
                self.days.append(day)
            if guessed:
                self.guessed.add(day)
            day += dt.timedelta(days=1)
        self.working = set(self.days)

    def add(self, start: dt.date, n: int) -> tuple[dt.date, bool]:
        if n == 0 and start in self.working:
            end = start
        else:
            end = self.days[bisect.bisect_right(self.days, start) + max(n, 1) - 1]
        return end, end in self.guessed

    def back(self, end: dt.date, n: int) -> dt.date:
        """The working day ``n`` working days before ``end`` (``end`` itself for 0)."""
        i = bisect.bisect_right(self.days, end) - 1
        return self.days[max(0, i - n)]

    def between(self, start: dt.date, end: dt.date) -> int:
        """Working days after ``start`` up to and including ``end`` (negative when end < start)."""
        if end >= start:
            return bisect.bisect_right(self.days, end) - bisect.bisect_right(self.days, start)
        return -self.between(end, start)


@dataclass
class Stats:
    demands: int = 0
    events: int = 0
    co_links: int = 0
    enterprises: int = 0
    seconds: float = 0.0
    by_status: Counter[str] = field(default_factory=Counter)

    def line(self) -> str:
        return (
            f"{self.demands} demands, {self.events} events ({self.events / max(1, self.demands):.1f} a demand), "
            f"{self.co_links} co-department links, {self.enterprises} enterprises in {self.seconds:.1f} s"
        )


class Park:
    """What the generated demands refer to: departments, their officers, categories,
    enterprises with their users, the centre and a leader."""

    def __init__(self, rng: random.Random, enterprises: int):
        from django.db import transaction

        from yimatong.accounts.models import Department, User
        from yimatong.directory.models import Organization
        from yimatong.lib.identifiers import uscc_with_check_digit
        from yimatong.lib.text import normalize_org_name, pinyin_full, pinyin_initials
        from yimatong.services.models import DemandCategory

        with transaction.atomic():
            code, name, phone = EXTRA_DEPARTMENT
            Department.objects.get_or_create(code=code, defaults={"name": name, "phone": phone})
            self.departments = {d.code: d for d in Department.objects.all()}
            self.centre = User.objects.get(username="service")
            self.leader = User.objects.get(username="leader")
            officers = {u.department_id: u for u in User.objects.filter(role=User.Role.SERVICE)}
            new_officers = [
                User(
                    username=f"officer-{d.code}",
                    name=f"{d.name[:6]}科员",
                    role=User.Role.SERVICE,
                    department=d,
                    password="!",
                )
                for d in self.departments.values()
                if d.pk not in officers
            ]
            for user in User.objects.bulk_create(new_officers):
                officers[user.department_id] = user
            self.officers = officers
            self.categories = {c.code: c for c in DemandCategory.objects.all()}
            self.by_pk = {d.pk: d for d in self.departments.values()}
            self.handling_departments = [d for d in self.departments.values() if not d.is_dispatch_center]

            from bench.investment_data import BRANDS, CITIES

            kinds = ["生物医药", "生物科技", "医疗器械", "药业", "健康科技", "精密仪器", "新材料"]
            rows = []
            for i in range(enterprises):
                name = f"{rng.choice(CITIES)}{rng.choice(BRANDS)}{rng.choice(kinds)}{i}有限公司"
                rows.append(
                    Organization(
                        name=name,
                        normalized_name=normalize_org_name(name),
                        name_initials=pinyin_initials(name)[:120],
                        name_pinyin=pinyin_full(name)[:400],
                        uscc=uscc_with_check_digit(f"{USCC_PREFIX}{i:010d}"),
                        org_type=Organization.Type.RESIDENT,
                    )
                )
            orgs = Organization.objects.bulk_create(rows)
            if any(o.pk is None for o in orgs):  # a backend that does not return ids
                orgs = list(Organization.objects.filter(uscc__startswith=USCC_PREFIX).order_by("pk"))
            users = User.objects.bulk_create(
                User(
                    username=f"ent-{i:04d}",
                    name=f"企业联系人{i}",
                    role=User.Role.ENTERPRISE,
                    organization=o,
                    password="!",
                )
                for i, o in enumerate(orgs)
            )
            self.persona = User.objects.select_related("organization").get(username="enterprise")
            self.org_user = {u.organization_id: u.pk for u in users}
            self.org_user[self.persona.organization_id] = self.persona.pk
            # Some enterprises file far more than others (log-normal weights); the persona's
            # enterprise is among the busy ones (the 90th percentile).
            weights = sorted(rng.lognormvariate(0, 0.8) for _ in orgs)
            rng.shuffle(weights)
            self.org_ids = [o.pk for o in orgs] + [self.persona.organization_id]
            self.org_weights = [*weights, sorted(weights)[int(len(weights) * 0.9)]]


@dataclass
class Plan:
    """One demand: its final status and the moments of its history."""

    status: str
    created: dt.datetime
    category: str
    org: int
    urgency: str


def plan_demands(rng: random.Random, n: int, park: Park, now: dt.datetime) -> list[Plan]:
    categories = [(c, s) for c, s in CATEGORY_SHARE.items() if c in park.categories]
    total = sum(s for _, s in categories)
    categories = [(c, s / total) for c, s in categories]
    org_picks = rng.choices(park.org_ids, weights=park.org_weights, k=n)
    plans = []
    for i in range(n):
        status = pick(rng, STATUSES)
        if status in ("archived", "withdrawn"):
            # Three years, more lately (the park grows): density falls linearly with age.
            age = 45 + (HISTORY_DAYS - 45) * (1 - rng.random() ** 0.5)
        elif status in ("submitted", "accepted"):
            age = rng.uniform(0, 3)
        elif status in ("dispatched", "returned"):
            age = rng.uniform(1, 6)
        elif status in ("completed", "follow_up"):
            age = rng.uniform(8, 30)
        else:  # handling, awaiting_info: placed by their deadline below
            age = 0
        created = now - dt.timedelta(days=age, seconds=rng.uniform(0, 3600))
        plans.append(Plan(status, created, pick(rng, categories), org_picks[i], pick(rng, URGENCIES)))
    return plans


class Writer:
    """Turns plans into Demand rows, events and co-department links, consistent with what
    services.actions writes (and with the model's constraints)."""

    def __init__(self, rng: random.Random, park: Park, cal: Calendar, now: dt.datetime):
        from django.utils import timezone

        self.rng, self.park, self.cal, self.now = rng, park, cal, now
        self.tz = timezone.get_current_timezone()
        self.today = timezone.localdate(now)

    def at(self, day: dt.date, hour: float) -> dt.datetime:
        moment = dt.datetime.combine(day, dt.time(9), tzinfo=self.tz) + dt.timedelta(hours=hour)
        return min(moment, self.now)

    def demand(self, plan: Plan) -> tuple[Any, list[dict[str, Any]], list[int]]:
        """The demand row (without its code), its events and its co-departments."""
        from yimatong.services.models import Demand

        rng, park, cal, tz = self.rng, self.park, self.cal, self.tz
        final = plan.status
        category = park.categories[plan.category]
        lead_code = LEAD_OVERRIDE.get(plan.category)
        lead = park.departments[lead_code].pk if lead_code and rng.random() < 0.85 else None
        lead = lead or category.default_department_id
        if lead is None or rng.random() < 0.05:  # the centre sent it elsewhere
            lead = rng.choice(park.handling_departments).pk
        centre, officer = park.centre.pk, park.officers[lead].pk
        enterprise = park.org_user[plan.org]
        promised = 0 if plan.urgency == "emergency" else category.promised_days

        # Open demands on the clock are placed by the day they were signed: their deadlines
        # fall around today, about a quarter of them past it.
        signed_target = None
        if final in ("handling", "awaiting_info"):
            worked = rng.randint(0, int(promised * 1.2) + 1)  # working days since signing
            signed_target = self.at(cal.back(self.today, worked), rng.uniform(0, 7))
            plan.created = signed_target - dt.timedelta(hours=rng.uniform(44, 96))

        title = rng.choice(TITLES[plan.category])
        d = Demand(
            organization_id=plan.org,
            filed_by_id=enterprise,
            category_id=category.pk,
            title=title,
            description=f"{title}：请园区协调办理，时间要求见附件。",
            urgency=plan.urgency,
            status=final,
            created_at=plan.created,
        )
        events: list[dict[str, Any]] = []
        co: list[int] = []
        state = ["submitted"]

        def event(
            kind: str, when: dt.datetime, actor: int | None, to: str = "", text: str = "", **data: Any
        ) -> None:
            events.append(
                {
                    "kind": kind,
                    "actor_id": actor,
                    "from_status": state[0] if to else "",
                    "to_status": to,
                    "text": text,
                    "data": data,
                    "at": min(when, self.now),
                }
            )
            state[0] = to or state[0]

        def done() -> tuple[Any, list[dict[str, Any]], list[int]]:
            d.version = len(events)  # 1 when filed, one more for every change
            d.updated_at = max(e["at"] for e in events)
            return d, events, co

        event("filed", plan.created, enterprise, text=title)
        if final == "submitted" or (final == "withdrawn" and rng.random() < 0.6):
            if final == "withdrawn":
                event(
                    "withdrawn",
                    plan.created + dt.timedelta(hours=rng.uniform(1, 30)),
                    enterprise,
                    "withdrawn",
                    "已自行解决",
                )
            return done()

        accepted = plan.created + dt.timedelta(hours=rng.uniform(0.5, 6))
        d.statutory_days, d.promised_days = category.statutory_days, promised
        event("accepted", accepted, centre, "accepted", category=category.name, promised_days=promised)
        if final in ("accepted", "withdrawn"):
            if final == "withdrawn":
                event(
                    "withdrawn",
                    accepted + dt.timedelta(hours=rng.uniform(1, 30)),
                    enterprise,
                    "withdrawn",
                    "已自行解决",
                )
            return done()

        # Dispatched; a few went to the wrong department first, which returned them.
        dispatched = accepted + dt.timedelta(hours=rng.uniform(0.5, 8))
        if final == "returned" or rng.random() < 0.03:
            wrong = rng.choice([p for p in park.handling_departments if p.pk != lead])
            event("dispatched", dispatched, centre, "dispatched", lead=wrong.name, co=[])
            returned = dispatched + dt.timedelta(hours=rng.uniform(1, 20))
            event(
                "returned",
                returned,
                park.officers[wrong.pk].pk,
                "returned",
                "不属于本部门职责",
                department=wrong.name,
            )
            d.return_count = 1
            d.dispatched_at = dispatched
            if final == "returned":
                d.lead_department_id = wrong.pk  # the department that returned it, as return_demand leaves it
                return done()
            dispatched = returned + dt.timedelta(hours=rng.uniform(0.5, 8))
        d.lead_department_id, d.dispatched_at = lead, dispatched
        co_names: list[str] = []
        if rng.random() < 0.08:
            other = rng.choice([p for p in park.departments.values() if p.pk != lead])
            co, co_names = [other.pk], [other.name]
        event("dispatched", dispatched, centre, "dispatched", lead=park.by_pk[lead].name, co=co_names)
        if final == "dispatched":
            return done()

        # Signed: the clock starts.
        signed = signed_target or dispatched + dt.timedelta(hours=rng.uniform(0.5, 30))
        sign_day = signed.astimezone(tz).date()
        deadline, provisional = cal.add(sign_day, promised)
        statutory, provisional2 = cal.add(sign_day, category.statutory_days)
        d.signed_at, d.signed_by_id = signed, officer
        d.deadline, d.statutory_deadline = deadline, statutory
        d.deadline_provisional, d.statutory_provisional = provisional, provisional2
        event(
            "signed",
            signed,
            officer,
            "handling",
            deadline=deadline.isoformat(),
            provisional=d.deadline_provisional,
            statutory_deadline=statutory.isoformat(),
            statutory_provisional=provisional2,
        )
        clock = signed

        if final == "awaiting_info" or (final != "handling" and rng.random() < 0.05):
            asked = clock + dt.timedelta(hours=rng.uniform(2, 30))
            if final == "awaiting_info":
                asked = max(clock, min(asked, self.now - dt.timedelta(minutes=5)))
            event("info_requested", asked, officer, "awaiting_info", "请补充项目备案证明")
            if final == "awaiting_info":
                d.paused_at = asked
                return done()
            supplied = asked + dt.timedelta(hours=rng.uniform(4, 48))
            paused = cal.between(asked.astimezone(tz).date(), supplied.astimezone(tz).date())
            if paused:
                d.deadline, _guessed = cal.add(d.deadline, paused)
            event(
                "info_supplied",
                supplied,
                enterprise,
                "handling",
                "已上传",
                paused_days=paused,
                deadline=d.deadline.isoformat(),
            )
            clock = supplied

        if final == "handling":
            left = cal.between(self.today, d.deadline)
            if left >= 0 and rng.random() < 0.05:
                days = rng.randint(3, 10)
                d.extension_requested_days, d.extension_reason = days, "需等待第三方检测报告"
                event(
                    "ext_requested",
                    clock + dt.timedelta(hours=2),
                    officer,
                    text=d.extension_reason,
                    days=days,
                )
            if left < 0:  # overdue: the ladder climbed a rung a working day, up to 通报
                d.ladder = 4 if -left >= 5 else (3 if -left >= 3 else 2)
                for rung in range(1, d.ladder + 1):
                    when = self.at(cal.add(d.deadline, max(0, rung - 1))[0], -1 if rung == 1 else 0)
                    event("escalated", when, None, ladder=rung)
                if rng.random() < 0.2:
                    d.supervised_at = self.now - dt.timedelta(hours=rng.uniform(1, 48))
                    d.supervised_by_id = park.leader.pk
                    d.supervision_note = "请加快办理并报告进展"
                    event("supervised", d.supervised_at, park.leader.pk, text=d.supervision_note)
            elif left <= 1:
                d.ladder = 1
                event("escalated", self.at(cal.back(d.deadline, 1), 0), None, ladder=1)
            return done()

        # An extension now and then, asked and approved before the deadline.
        if rng.random() < 0.02:
            days = rng.randint(3, 8)
            event(
                "ext_requested",
                clock + dt.timedelta(hours=3),
                officer,
                text="需等待第三方检测报告",
                days=days,
            )
            d.deadline, _guessed = cal.add(d.deadline, days)
            d.extension_days = days
            event(
                "ext_decided",
                clock + dt.timedelta(hours=20),
                centre,
                text="同意",
                approved=True,
                days=days,
                deadline=d.deadline.isoformat(),
            )
            clock += dt.timedelta(hours=20)

        def complete(start: dt.datetime, cap: bool) -> dt.datetime:
            taken = (
                rng.randint(0, max(1, promised)) if cap else rng.randint(0, int(max(1, promised) * 1.25) + 1)
            )
            when = max(
                start + dt.timedelta(hours=1),
                self.at(cal.add(start.astimezone(tz).date(), taken)[0], rng.uniform(0, 8)),
            )
            if cap:  # still waiting for the centre or the enterprise: done in the last days
                when = max(
                    start + dt.timedelta(minutes=30),
                    min(when, self.now - dt.timedelta(days=rng.uniform(0, 6))),
                )
            d.completed_at, d.resolution = when, "已协调办理，详见答复。"
            d.completed_on_time = when.astimezone(tz).date() <= d.deadline
            event("completed", when, officer, "completed", d.resolution, on_time=d.completed_on_time)
            return when

        waiting = final in ("completed", "follow_up")
        completed = complete(clock, waiting)
        if final == "completed":
            return done()

        reviewed = completed + dt.timedelta(hours=rng.uniform(1, 40))
        if final == "archived" and rng.random() < 0.04:  # failed the review: redone with a fresh limit
            d.deadline, _guessed = cal.add(reviewed.astimezone(tz).date(), promised)
            d.redo_count = 1
            event(
                "reopened",
                reviewed,
                centre,
                "handling",
                "答复未解决实际问题",
                by="review",
                deadline=d.deadline.isoformat(),
            )
            completed = complete(reviewed, False)
            reviewed = completed + dt.timedelta(hours=rng.uniform(1, 40))
        if final == "follow_up":
            reviewed = max(
                completed + dt.timedelta(minutes=10), min(reviewed, self.now - dt.timedelta(minutes=10))
            )
        event("reviewed", reviewed, centre, "follow_up", passed=True)
        if final == "follow_up":
            return done()

        rated = reviewed + dt.timedelta(hours=rng.uniform(2, 120))
        d.rating, d.rated_at = pick(rng, RATINGS), min(rated, self.now)
        d.rating_comment = "答复及时。" if rng.random() < 0.3 else ""
        event("rated", rated, enterprise, "archived", d.rating_comment, rating=d.rating)
        return done()


def generate(n: int, *, seed: int = 20260, enterprises: int = ENTERPRISES, verbose: bool = True) -> Stats:
    """Bulk-load ``n`` demands with their history on top of the demo park."""
    from django.db import connection, transaction
    from django.utils import timezone

    from bench.investment_data import historical_timestamps
    from yimatong.investment.models import CodeSequence
    from yimatong.services.models import Demand, DemandEvent

    started = time.perf_counter()
    rng = random.Random(seed)
    now = timezone.now()
    stats = Stats()
    park = Park(rng, enterprises)
    stats.enterprises = len(park.org_ids)
    today = timezone.localdate(now)
    cal = Calendar(today - dt.timedelta(days=HISTORY_DAYS + 60), today + dt.timedelta(days=120))
    plans = plan_demands(rng, n, park, now)
    plans.sort(key=lambda p: p.created)
    writer = Writer(rng, park, cal, now)

    # Codes continue each year's SQ sequence (the demo filed a few this year).
    counters = dict(CodeSequence.objects.filter(prefix="SQ").values_list("year", "last"))
    through = Demand.co_departments.through
    for start in range(0, len(plans), CHUNK):
        chunk = plans[start : start + CHUNK]
        demands, histories, links = [], [], []
        for plan in chunk:
            d, events, co = writer.demand(plan)
            year = timezone.localdate(d.created_at).year
            counters[year] = counters.get(year, 0) + 1
            d.code = f"SQ-{year}-{counters[year]:05d}"
            demands.append(d)
            histories.append(events)
            links.append(co)
            stats.by_status[d.status] += 1
        with historical_timestamps(Demand), transaction.atomic():
            created = Demand.objects.bulk_create(demands)
            if any(d.pk is None for d in created):  # a backend that does not return ids
                ids = dict(
                    Demand.objects.filter(code__in=[d.code for d in demands]).values_list("code", "pk")
                )
                for d in created:
                    d.pk = ids[d.code]
            rows = [
                DemandEvent(demand_id=d.pk, **e)
                for d, events in zip(created, histories, strict=True)
                for e in events
            ]
            DemandEvent.objects.bulk_create(rows, batch_size=5000)
            co_rows = [
                through(demand_id=d.pk, department_id=dept)
                for d, co in zip(created, links, strict=True)
                for dept in co
            ]
            through.objects.bulk_create(co_rows, batch_size=5000)
        stats.demands += len(created)
        stats.events += len(rows)
        stats.co_links += len(co_rows)
        if verbose and (start // CHUNK) % 4 == 3:
            print(f"  {stats.demands} demands, {stats.events} events ...", flush=True)
    for year, last in counters.items():
        if not CodeSequence.objects.filter(prefix="SQ", year=year).update(last=last):
            CodeSequence.objects.create(prefix="SQ", year=year, last=last)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    stats.seconds = time.perf_counter() - started
    return stats


# Pages -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    name: str
    persona: str  # username
    path: str


def pages(park_persona_org: str) -> list[Page]:
    from django.utils import timezone

    today = timezone.localdate()
    last_month_end = today.replace(day=1) - dt.timedelta(days=1)
    month = {"start": last_month_end.replace(day=1).isoformat(), "end": last_month_end.isoformat()}
    queue = "/services/demands/"
    rows = [
        Page(f"centre: ?tab={tab}", "service", f"{queue}?tab={tab}")
        for tab in ("todo", "review", "handling", "follow_up", "all")
    ]
    rows += [
        Page(
            f"centre: search title '{SEARCH_TITLE}'",
            "service",
            f"{queue}?{urlencode({'tab': 'all', 'q': SEARCH_TITLE})}",
        ),
        Page(
            f"centre: search enterprise '{park_persona_org}'",
            "service",
            f"{queue}?{urlencode({'tab': 'all', 'q': park_persona_org})}",
        ),
        Page("centre: KPIs last month", "service", f"{queue}kpis/?{urlencode(month)}"),
        Page("land officer: ?tab=todo", "landdept", f"{queue}?tab=todo"),
        Page("land officer: ?tab=handling", "landdept", f"{queue}?tab=handling"),
        Page("enterprise: list (?tab=open)", "enterprise", queue),
        Page("enterprise: ?tab=all", "enterprise", f"{queue}?tab=all"),
    ]
    return rows


# Query counts and SQL time (in-process) --------------------------------------------------------

_LITERALS = re.compile(r"'[^']*'|\b\d+\b")


@dataclass
class QueryCount:
    total: int
    sql_ms: float  # time in the database, as Django's debug cursor measured it
    page_ms: float  # the whole request through the test client
    rows: int  # demands on the page
    shapes: Counter[str]
    slowest: list[tuple[float, str]]  # the three slowest queries (ms, SQL)
    per_row: int = 0

    def __str__(self) -> str:
        return f"{self.total}" + (f" ({self.per_row} per-row)" if self.per_row else "")


def count_queries(rows: list[Page]) -> dict[str, QueryCount]:
    """Each page three times through the test client (after a warm-up), keeping the fastest:
    its queries (the SQL as Django logs it) and the time of each (measured around the cursor,
    finer than the debug log's milliseconds)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from yimatong.accounts.models import User

    timings: list[float] = []

    def timed(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            timings.append((time.perf_counter() - started) * 1000)

    clients: dict[str, Client] = {}
    counts: dict[str, QueryCount] = {}
    for page in rows:
        client = clients.get(page.persona)
        if client is None:
            client = clients[page.persona] = Client()
            client.force_login(User.objects.get(username=page.persona))
        assert client.get(page.path).status_code == 200, page.path  # warm-up
        best: QueryCount | None = None
        for _ in range(3):  # the fastest of three: the cost of the page, not of the host's noise
            timings.clear()
            with CaptureQueriesContext(connection) as ctx, connection.execute_wrapper(timed):
                started = time.perf_counter()
                response = client.get(page.path)
                elapsed = (time.perf_counter() - started) * 1000
            assert response.status_code == 200, (page.path, response.status_code)
            queries = [q["sql"] for q in ctx.captured_queries]
            ms = (
                timings
                if len(timings) == len(queries)
                else [float(q["time"]) * 1000 for q in ctx.captured_queries]
            )
            count = QueryCount(
                total=len(queries),
                sql_ms=sum(ms),
                page_ms=elapsed,
                rows=response.content.decode().count('<span class="badge demand-'),
                shapes=Counter(_LITERALS.sub("?", q) for q in queries),
                slowest=sorted(zip(ms, queries, strict=True), reverse=True)[:3],
            )
            if best is None or count.page_ms < best.page_ms:
                best = count
        assert best is not None
        counts[page.name] = best
    per_row = {s for c in counts.values() for s, n in c.shapes.items() if n > 1}
    for c in counts.values():
        c.per_row = sum(n for s, n in c.shapes.items() if s in per_row)
    return counts


def shorten(sql: str) -> str:
    """The SQL on one line, a long column list elided."""
    sql = re.sub(r"\s+", " ", sql)
    columns_end = sql.find(" FROM ")
    return "SELECT … " + sql[columns_end + 1 :] if sql.startswith("SELECT ") and columns_end > 120 else sql


def explain(sql: str) -> str:
    from django.db import connection

    if connection.vendor == "sqlite":
        prefix = "EXPLAIN QUERY PLAN "
    else:  # only a SELECT is run to be explained (ANALYZE executes the statement)
        prefix = "EXPLAIN (ANALYZE, BUFFERS) " if sql.lstrip().upper().startswith("SELECT") else "EXPLAIN "
    try:
        with connection.cursor() as cursor:
            cursor.execute(prefix + sql)
            plan = cursor.fetchall()
    except Exception as exc:  # the logged SQL of some queries is not executable as it stands
        return f"(could not explain: {exc})"
    if connection.vendor == "sqlite":
        return "\n".join(f"{row[-1]}" for row in plan)
    return "\n".join(row[0] for row in plan)


# HTTP ------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(bench: BenchEnv, workers: int, threads: int) -> int:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "TASKS_BACKEND")}
    env.update(
        YIMATONG_ENV="development",  # production settings want TLS and a secret; DEBUG stays off
        ALLOWED_HOSTS="127.0.0.1",
        YIMATONG_VAR_DIR=bench.tmp,
        DATABASE_URL=bench.database_url,
        DJANGO_SETTINGS_MODULE="bench.bench_settings",
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
    )
    log = Path(bench.tmp) / "server.log"
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "yimatong.wsgi:application",
        "--worker-class",
        "gthread",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--bind",
        f"127.0.0.1:{port}",
        "--timeout",
        "120",
        "--log-level",
        "warning",
    ]
    process = bench.start(command, env=env, log=log)
    wait_until_answers(process, port, "/bench/floor/", log, 90)
    return port


class Connection:
    """One keep-alive connection; reconnects (once per request) when the server closed it."""

    def __init__(self, port: int):
        self.port = port
        self.conn: http.client.HTTPConnection | None = None

    def get(self, path: str, cookie: str) -> tuple[int, bytes, float]:
        headers = {"Host": "127.0.0.1", "Cookie": cookie, "Accept-Language": "zh-CN"}
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
            started = time.perf_counter()
            try:
                self.conn.request("GET", path, headers=headers)
                response = self.conn.getresponse()
                body = response.read()
                elapsed = time.perf_counter() - started
                if response.getheader("Connection", "").lower() == "close":
                    self.close()
                return response.status, body, elapsed
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


@dataclass
class Load:
    name: str
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    error_count: int = 0
    bytes: int = 0

    @property
    def requests(self) -> int:
        return len(self.latencies)

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))] * 1000


def drive(port: int, page: Page, cookie: str, requests: int, concurrency: int, load: Load) -> None:
    """``requests`` GETs of the page from ``concurrency`` threads (one connection each); each
    thread first sends one request that is not counted (warm-up)."""
    lock = threading.Lock()
    left = [requests]

    def client() -> None:
        conn = Connection(port)
        try:
            conn.get(page.path, cookie)
            while True:
                with lock:
                    if left[0] <= 0:
                        return
                    left[0] -= 1
                status, body, elapsed = conn.get(page.path, cookie)
                with lock:
                    load.latencies.append(elapsed)
                    load.bytes = len(body)
                    if status != 200:
                        load.error_count += 1
                        if len(load.errors) < 3:
                            load.errors.append(f"GET {page.path}: {status} {body[:200]!r}")
        except Exception as exc:
            with lock:
                load.error_count += 1
                load.errors.append(f"client failed: {exc!r}")
        finally:
            conn.close()

    threads = [threading.Thread(target=client, daemon=True) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


# Report ----------------------------------------------------------------------------------------


def report(
    loads: list[Load],
    counts: dict[str, QueryCount],
    stats: Stats,
    key: str,
    config: str,
    save: bool,
    explain_all: bool,
) -> bool:
    baseline = json.loads(BASELINE.read_text()) if BASELINE.exists() else {}
    base = baseline.get(key, {})
    floor = next((x for x in loads if x.name == FLOOR), None)
    print()
    print(config)
    print()
    print(
        f"{'page':40} {'req':>4} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'÷floor':>7} {'KiB':>5}"
        f" {'queries':>7} {'SQL ms':>7} {'rows':>4} {'base p50':>9} {'ratio':>6}"
    )
    ok = True
    for x in loads:
        c = counts.get(x.name)
        ref = base.get(x.name, {}).get("p50_ms")
        ratio = f"{x.pct(0.5) / ref:6.2f}" if ref else "     —"
        vs_floor = f"{x.pct(0.5) / floor.pct(0.5):7.1f}" if floor and x is not floor else "      —"
        print(
            f"{x.name:40} {x.requests:4d} {x.pct(0.5):8.1f} {x.pct(0.95):8.1f} {x.pct(1.0):8.1f} {vs_floor}"
            f" {x.bytes / 1024:5.0f} {str(c) if c else '—':>7} {f'{c.sql_ms:7.1f}' if c else '      —'}"
            f" {c.rows if c else '—':>4} {ref if ref else '—':>9} {ratio}"
        )
        for error in x.errors[:3]:
            print(f"    error: {error}")
        if x.error_count:
            ok = False
            print(f"    {x.error_count} failed requests")
    print(
        "(p50/p95 over HTTP; ÷floor: p50 against the bare view; queries, SQL ms (the database's share)"
        " and rows (demands on the page) in-process, the fastest of 3; ratio: p50 against the baseline,"
        " above 1 is slower)"
    )
    per_row = sorted({s for c in counts.values() for s, n in c.shapes.items() if n > 1})
    if per_row:
        ok = False
        print("\nper-row queries (the same query more than once in one request):")
        for shape in per_row:
            print(f"    {shape[:300]}")
    else:
        print("\nno per-row queries: every page runs a fixed number of queries whatever is on it")

    print(
        "\nwhere the time goes (in-process, the fastest of 3): SQL ms is the time in cursor.execute;"
        "\nother is the rest: Python, templates, and fetching the rows (on SQLite, Django's Python"
        "\nfunctions in the SQL, e.g. django_datetime_cast_date for __date, run during the fetch)"
    )
    print(f"  {'page':40} {'page ms':>8} {'SQL ms':>7} {'other':>7} {'slowest':>8}  query")
    for name, c in counts.items():
        ms, sql = c.slowest[0]
        sql = shorten(sql)
        print(
            f"  {name:40} {c.page_ms:8.1f} {c.sql_ms:7.1f} {c.page_ms - c.sql_ms:7.1f} {ms:8.1f}  {sql[:150]}"
        )
    slow = {x.name for x in loads if x.name in counts and x.pct(0.5) > SLOW_MS}
    for name, c in counts.items():
        if not (explain_all or name in slow):
            continue
        print(f"\n  '{name}': its slowest queries and the plan of each")
        for ms, sql in c.slowest:
            print(f"    {ms:.1f} ms: {shorten(sql)[:1500]}")
            for line in explain(sql).splitlines():
                print(f"        {line}")
    if slow:
        print(f"\nslower than {SLOW_MS} ms (p50): {', '.join(sorted(slow))}")

    if save:
        baseline[key] = {
            x.name: {
                "p50_ms": round(x.pct(0.5), 1),
                "p95_ms": round(x.pct(0.95), 1),
                **({"queries": counts[x.name].total} if x.name in counts else {}),
            }
            for x in loads
        }
        baseline[key]["demands"] = stats.demands
        baseline[key]["events"] = stats.events
        baseline[key]["generation_s"] = round(stats.seconds, 1)
        BASELINE.write_text(json.dumps(baseline, indent=2, ensure_ascii=False) + "\n")
        print(f"baseline saved for {key}")
    return ok


# Main ------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--demands", type=int, default=0, help=f"demands to load (default {FULL:,})")
    parser.add_argument("--requests", type=int, default=60, help="measured requests per page, in all rounds")
    parser.add_argument("--rounds", type=int, default=3, help="the pages take turns, each round a share")
    parser.add_argument("--concurrency", type=int, default=1, help="client connections")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=2, help="gunicorn threads per worker (gthread)")
    parser.add_argument("--explain", action="store_true", help="explain every page's slowest query")
    parser.add_argument("--quick", action="store_true", help="20,000 demands, 12 requests a page, not saved")
    parser.add_argument(
        "--save", "--save-baseline", action="store_true", help="store these figures as the baseline"
    )
    args = parser.parse_args()
    if args.quick:
        args.demands = args.demands or 20_000
        args.requests = min(args.requests, 12)
    args.demands = args.demands or FULL
    save = args.save and not args.quick
    if args.save and args.demands != FULL:
        print(f"--save ignored: a baseline is for {FULL:,} demands", file=sys.stderr)
        save = False

    with DemandBenchEnv(env="development") as bench:
        bench.setup_django()
        from django.db import connection, connections

        from yimatong.demo.loader import load_demo

        vendor = connection.vendor
        started = time.perf_counter()
        load_demo()
        print(f"database: {vendor}; demo park loaded in {time.perf_counter() - started:.1f} s", flush=True)
        stats = generate(args.demands)
        print(f"generated {stats.line()}", flush=True)
        print("  statuses: " + ", ".join(f"{k} {v}" for k, v in stats.by_status.most_common()), flush=True)

        from yimatong.accounts.models import User

        persona_org = User.objects.select_related("organization").get(username="enterprise").organization.name
        rows = pages(persona_org[2:6])  # a part of its name, as people type it
        counts = count_queries(rows)
        connections.close_all()  # the server has the database to itself during the load

        port = start_server(bench, args.workers, args.threads)
        cookies = {u: login(port, u, PASSWORD) for u in sorted({p.persona for p in rows})}
        floor = Page(FLOOR, "", "/bench/floor/")
        merged = {p.name: Load(p.name) for p in [floor, *rows]}
        load_before = os.getloadavg()[0]
        per_round = max(1, args.requests // args.rounds)
        for n in range(1, args.rounds + 1):
            for page in [floor, *rows]:
                load = merged[page.name]
                before = load.requests
                drive(port, page, cookies.get(page.persona, ""), per_round, args.concurrency, load)
                fresh = Load(page.name, load.latencies[before:])
                print(
                    f"  round {n}: {page.name:40} p50 {fresh.pct(0.5):8.1f} ms  p95 {fresh.pct(0.95):8.1f} ms"
                    f"  errors {load.error_count}",
                    flush=True,
                )
        config = (
            f"server: gunicorn gthread, {args.workers} workers x {args.threads} threads, on 127.0.0.1:{port};"
            f" DEBUG off; {vendor}"
            + (
                " (WAL, no ANALYZE)"
                if vendor == "sqlite"
                else f" (database {BENCH_DB}, ANALYZEd after the load)"
            )
            + f"\ndata: {stats.line()}"
            + f"\nclients: {args.concurrency} connection(s), keep-alive, on the same host ({os.cpu_count()} CPUs);"
            f" {per_round * args.rounds} requests per page in {args.rounds} rounds taking turns, each after a"
            " warm-up request"
            + f"\nhost load average (1 min) before the load {load_before:.2f}, after {os.getloadavg()[0]:.2f}"
            " (a figure well above 0 before the load means other work on the host, which shares the CPUs)"
        )
        ok = report(
            [merged[p.name] for p in [floor, *rows]],
            counts,
            stats,
            f"demand_queue/{vendor}",
            config,
            save,
            args.explain,
        )
    if not ok:
        print("FAILED: failed requests or per-row queries (see above)", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
