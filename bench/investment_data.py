"""Investment data at park scale: organizations, projects, their event history, capital and
activities, written fast with bulk_create into an EXISTING migrated database (the one Django's
settings point to), on top of the demo park (its promoters, teams and industry chain).

    .venv/bin/python bench/investment_data.py [--projects 100000] [--events-per-project 10]

or from Python, once Django is set up::

    from bench.investment_data import generate
    stats = generate(projects=100_000, events_per_project=10)

The shape follows a real pipeline: most projects are early (线索/接洽/考察/洽谈 ~70%), ~12% signed,
~10% registered or further, ~8% on hold or lost; one investor organization per ~3 projects;
planned investment log-normal around 8,000 万元. Each project's history is consistent with what
``investment.actions`` would have written: a ``created`` event, stage moves along the pipeline
at increasing dates over three years (an occasional step back with its reason, exits with their
reason), the contracted investment counted once on the first signing (``signed_amount``) and on
the first registration (``landed_amount``), framework agreements upgraded later counting only
their increment, capital arrivals, and activity / changed / document events. The model's DB
constraints hold (signed+ stages have agreement, date and amount; registered+ a registered
company; exits a reason). Codes are ``YMT-<year>-<n>`` continuing the ``CodeSequence`` rows,
which are bumped so that the app keeps numbering after them.

Running it again adds another batch (codes, USCCs and names continue).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import math
import os
import random
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DAY = dt.timedelta(days=1)
HISTORY_DAYS = 3 * 365
USCC_PREFIX = "9150019"  # 7 characters + 10-digit serial = the 17-character body

PIPELINE = [
    "lead",
    "contact",
    "visit",
    "negotiation",
    "signed",
    "registered",
    "construction",
    "production",
    "full_capacity",
]
IDX = {stage: i for i, stage in enumerate(PIPELINE)}
SIGNED, REGISTERED = IDX["signed"], IDX["registered"]

# Where projects are today (shares sum to 1).
FINAL_STAGES = [
    ("lead", 0.08),
    ("contact", 0.25),
    ("visit", 0.20),
    ("negotiation", 0.17),
    ("signed", 0.12),
    ("registered", 0.04),
    ("construction", 0.03),
    ("production", 0.02),
    ("full_capacity", 0.01),
    ("on_hold", 0.05),
    ("lost", 0.03),
]
# The stage an exited project had reached when it was shelved or lost.
EXIT_FROM = [
    ("lead", 0.10),
    ("contact", 0.30),
    ("visit", 0.25),
    ("negotiation", 0.22),
    ("signed", 0.10),
    ("registered", 0.03),
]
START_STAGES = [("lead", 0.15), ("contact", 0.65), ("visit", 0.12), ("negotiation", 0.08)]
# Mean days spent in a stage before moving to the next one.
STAY_DAYS = {
    "lead": 20,
    "contact": 40,
    "visit": 45,
    "negotiation": 60,
    "signed": 90,
    "registered": 120,
    "construction": 270,
    "production": 270,
}
CHANNELS = [
    ("staff", 0.35),
    ("referral", 0.20),
    ("expo", 0.15),
    ("leader_visit", 0.10),
    ("wechat", 0.10),
    ("h5_form", 0.05),
    ("import", 0.05),
]
# Owners among the demo's investment staff (username, share).
OWNERS = [("promoter", 0.45), ("promoter2", 0.35), ("teamlead", 0.20)]
# History is longer for projects that got further (relative weights, normalized below).
HISTORY_WEIGHT = {"early": 0.8, "signed": 1.6, "landed": 2.4, "exit": 0.9}

CITIES = [
    "北京",
    "上海",
    "深圳",
    "苏州",
    "杭州",
    "成都",
    "武汉",
    "广州",
    "南京",
    "天津",
    "西安",
    "长沙",
    "重庆",
    "合肥",
    "济南",
    "厦门",
    "青岛",
    "无锡",
]
BRANDS = [
    "智翔",
    "金泰",
    "百亚",
    "宏冠",
    "九彩",
    "珂蓝",
    "康巴",
    "长嘉",
    "核睿",
    "肽达",
    "赛维",
    "联拓",
    "本草",
    "明析",
    "安瑞",
    "药谷",
    "爱睿",
    "慧康",
    "启明",
    "源峰",
    "华晟",
    "瑞康",
    "禾泰",
    "锦程",
    "楚康",
    "粤创",
    "博奥",
    "信诺",
    "迈瑞",
    "湘雅",
    "海正",
    "秦岭",
    "天府",
    "中科",
    "鲁抗",
    "复星",
    "恒瑞",
    "科伦",
    "华润",
    "正大",
    "东阳",
    "康弘",
    "太极",
    "桐君",
    "莱美",
    "华森",
    "智飞",
    "博唯",
    "泽润",
    "沃森",
    "艾棣",
    "维思",
    "思路",
    "天智",
    "润康",
    "嘉和",
    "百济",
    "信达",
    "君实",
]
KINDS = [
    "生物科技",
    "生物制药",
    "医疗器械",
    "药业",
    "诊断技术",
    "细胞治疗",
    "医药包装",
    "基因科技",
    "医药科技",
    "冷链物流",
]
PRODUCTS = [
    "抗体药物产业化基地",
    "疫苗生产基地",
    "多肽原料药",
    "细胞治疗中试平台",
    "ADC偶联车间",
    "化学制剂生产线",
    "MAH品种转移",
    "中药饮片加工",
    "中成药生产基地",
    "康复辅具产业园",
    "生物材料3D打印",
    "体外诊断试剂",
    "医用耗材生产线",
    "CDMO平台",
    "药物安全评价中心",
    "冷链物流中心",
    "医药包装材料",
    "研发中心",
    "区域总部",
    "创新孵化器",
]
PHASES = ["", "", "", "一期", "二期", "三期", "扩建"]
EXIT_REASONS = {
    "on_hold": ["投资方资金安排推迟", "超过 180 天无进展，自动搁置", "等待集团决策", "用地指标暂未落实"],
    "lost": ["投资方选择其他园区", "项目不符合准入条件", "投资方取消投资计划", "政策条件未谈拢"],
}
BACK_REASONS = ["投资方要求重新考察", "方案调整，重新洽谈", "投资方更换对接团队"]
ACTIVITY_KINDS = ["call", "visit", "meeting", "wechat", "site_visit"]
ACTIVITY_SUMMARIES = [
    "电话沟通用地需求",
    "拜访投资方总部",
    "洽谈优惠政策",
    "微信沟通项目进度",
    "来园考察标准厂房",
    "对接注册事宜",
    "商讨协议条款",
    "了解融资安排",
]
CHANGED_FIELDS = [("priority", "b", "a"), ("planned_investment", None, None), ("jobs", "200", "300")]
DOCUMENTS = ["商业计划书", "可行性研究报告", "投资协议", "会议纪要", "营业执照"]


def pick(rng: random.Random, table: list[tuple[str, float]]) -> str:
    x, acc = rng.random(), 0.0
    for value, share in table:
        acc += share
        if x < acc:
            return value
    return table[-1][0]


def money(value: float) -> Decimal:
    return Decimal(f"{max(value, 1.0):.2f}")


@dataclass
class Plan:
    """One project's life, decided before anything is written."""

    org: int  # index into the organizations of this run
    owner: Any
    collaborator: Any
    chain_node_id: int | None
    channel: str
    planned: Decimal
    contracted: Decimal | None
    final: str
    created_at: dt.datetime
    moves: list[tuple[str, str, dt.datetime, str]]  # from, to, at, reason
    agreement: str = "formal"
    upgrade_at: dt.datetime | None = None  # framework -> formal, counting the increment
    framework_amount: Decimal | None = None
    capital: list[tuple[dt.date, Decimal]] = field(default_factory=list)
    codename: str = ""
    priority: str = "b"
    is_major: bool = False
    supervised: bool = False
    name: str = ""
    code: str = ""


@dataclass
class Stats:
    organizations: int = 0
    projects: int = 0
    events: int = 0
    capital_arrivals: int = 0
    activities: int = 0
    seconds: float = 0.0
    by_stage: dict[str, int] = field(default_factory=dict)

    def line(self) -> str:
        return (
            f"{self.projects} projects, {self.events} events, {self.organizations} organizations, "
            f"{self.capital_arrivals} capital arrivals, {self.activities} activities "
            f"in {self.seconds:.1f} s"
        )


@contextlib.contextmanager
def historical_timestamps(*models: Any) -> Iterator[None]:
    """Let bulk_create keep the created_at / updated_at we set (auto_now would overwrite them)."""
    saved = []
    for model in models:
        for f in model._meta.concrete_fields:
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                saved.append((f, f.auto_now, f.auto_now_add))
                f.auto_now = f.auto_now_add = False
    try:
        yield
    finally:
        for f, auto_now, auto_now_add in saved:
            f.auto_now, f.auto_now_add = auto_now, auto_now_add


class Generator:
    def __init__(self, *, seed: int, events_per_project: float, now: dt.datetime):
        from yimatong.accounts.models import User
        from yimatong.directory.models import ChainNode

        self.rng = random.Random(seed)
        self.now = now
        self.epoch = now - HISTORY_DAYS * DAY
        self.events_per_project = events_per_project
        users = {u.username: u for u in User.objects.filter(username__in=[o for o, _ in OWNERS])}
        missing = [o for o, _ in OWNERS if o not in users]
        if missing:
            raise SystemExit(
                f"demo users {', '.join(missing)} are missing: load the demo park first (yimatong load_demo)"
            )
        self.users = users
        self.owner_table = [(users[name], share) for name, share in OWNERS]
        nodes = list(ChainNode.objects.all())
        if not nodes:
            raise SystemExit("the industry chain is empty: load the demo park first (yimatong load_demo)")
        by_pk = {n.pk: n for n in nodes}

        def root(n: Any) -> Any:
            while n.parent_id and n.parent_id in by_pk:
                n = by_pk[n.parent_id]
            return n

        self.nodes = [n.pk for n in nodes]
        self.team_nodes: dict[int | None, list[int]] = {}
        for user in users.values():
            roots = set(user.team.chain_nodes.values_list("pk", flat=True)) if user.team_id else set()
            self.team_nodes[user.team_id] = [n.pk for n in nodes if root(n).pk in roots] or self.nodes
        self._initials: dict[str, str] = {}
        self._pinyin: dict[str, str] = {}
        self.history_norm = self._history_norm()

    # Names ------------------------------------------------------------------------------------

    def initials(self, part: str) -> str:
        from yimatong.lib.text import pinyin_initials

        if part not in self._initials:
            self._initials[part] = pinyin_initials(part)
        return self._initials[part]

    def pinyin(self, part: str) -> str:
        from yimatong.lib.text import pinyin_full

        if part not in self._pinyin:
            self._pinyin[part] = pinyin_full(part)
        return self._pinyin[part]

    # Plans ------------------------------------------------------------------------------------

    def _history_norm(self) -> float:
        share = {"early": 0.70, "signed": 0.12, "landed": 0.10, "exit": 0.08}
        return sum(share[k] * HISTORY_WEIGHT[k] for k in share)

    def _gaps(self, path: list[str]) -> list[float]:
        rng = self.rng
        return [rng.expovariate(1 / STAY_DAYS[stage]) + 1 for stage in path[:-1]]

    def plan(self, org: int, owner: Any) -> Plan:
        rng = self.rng
        final = pick(rng, FINAL_STAGES)
        reached = pick(rng, EXIT_FROM) if final in ("on_hold", "lost") else final
        start = pick(rng, START_STAGES)
        if IDX[start] > IDX[reached]:
            start = reached
        path = PIPELINE[IDX[start] : IDX[reached] + 1]
        gaps = self._gaps(path)
        # A few projects step back once (a new visit, a renegotiation) and come forward again.
        back_at = None
        if len(path) >= 3 and rng.random() < 0.04:
            back_at = rng.randrange(2, len(path))
        exited = final in ("on_hold", "lost")
        exit_gap = rng.expovariate(1 / 150) + 10 if exited else 0.0
        total = sum(gaps) + exit_gap + (20.0 if back_at else 0.0)
        if total > HISTORY_DAYS - 5:
            scale = (HISTORY_DAYS - 5) / total
            gaps = [g * scale for g in gaps]
            exit_gap *= scale
            total = HISTORY_DAYS - 5
        if exited or final == "full_capacity":
            # Finished histories can end any time in the three years.
            start_day = rng.uniform(0, HISTORY_DAYS - total)
        else:
            # Open projects moved recently (the sweep shelves those idle for 180 days); a few are
            # overdue, which is what the red light is for.
            quiet = min(rng.expovariate(1 / 45), 200.0)
            start_day = max(0.0, HISTORY_DAYS - quiet - total)
        created = self.epoch + dt.timedelta(days=start_day, seconds=rng.randrange(8 * 3600, 18 * 3600))
        moves: list[tuple[str, str, dt.datetime, str]] = []
        at = created
        for i, gap in enumerate(gaps):
            at += dt.timedelta(days=gap)
            frm, to = path[i], path[i + 1]
            if back_at == i + 1:
                moves.append((frm, to, at, ""))
                at += dt.timedelta(days=10)
                moves.append((to, frm, at, rng.choice(BACK_REASONS)))
                at += dt.timedelta(days=10)
            moves.append((frm, to, at, ""))
        if exited:
            at += dt.timedelta(days=exit_gap)
            moves.append((reached, final, at, rng.choice(EXIT_REASONS[final])))
        moves = [(f, t, min(a, self.now - dt.timedelta(minutes=5)), r) for f, t, a, r in moves]

        planned = money(math.exp(rng.gauss(math.log(8000), 1.1)))
        plan = Plan(
            org=org,
            owner=owner,
            collaborator=None,
            chain_node_id=None,
            channel=pick(rng, CHANNELS),
            planned=min(planned, Decimal("5000000.00")),
            contracted=None,
            final=final,
            created_at=created,
            moves=moves,
        )
        if IDX[reached] >= SIGNED:
            contracted = money(float(plan.planned) * rng.uniform(0.6, 1.2))
            plan.contracted = contracted
            signed_at = next(a for f, t, a, r in moves if t == "signed")
            ends = moves[-1][2] if exited else self.now - dt.timedelta(minutes=1)
            upgrade = signed_at + dt.timedelta(days=rng.uniform(20, 200))
            x = rng.random()
            if x < 0.15 and back_at is None and upgrade < ends:
                # Signed a framework agreement first, the formal one (a larger amount) later.
                plan.framework_amount = money(float(contracted) * rng.uniform(0.5, 0.8))
                plan.upgrade_at = upgrade
            elif x < 0.30:
                plan.agreement = "framework"
            if IDX[reached] >= REGISTERED:
                registered_at = next(a for f, t, a, r in moves if t == "registered")
                share, day = rng.uniform(0.2, 1.0), registered_at
                for _ in range(rng.randint(1, 4)):
                    day += dt.timedelta(days=rng.uniform(20, 240))
                    if day >= ends:
                        break
                    plan.capital.append((day.date(), money(float(contracted) * share / 4)))
        plan.priority = "a" if rng.random() < 0.15 else ("c" if rng.random() < 0.4 else "b")
        plan.is_major = IDX[reached] >= SIGNED and rng.random() < 0.10
        plan.supervised = plan.is_major and rng.random() < 0.3
        if rng.random() < 0.02:
            plan.codename = f"项目-{rng.choice('ABCDEFGHJKLMNPQRSTUVWXYZ')}{rng.randrange(100, 999)}"
        return plan

    # Events -----------------------------------------------------------------------------------

    def events_for(self, plan: Plan) -> tuple[list[Any], dict[str, Any] | None]:
        """The project's events (project_id still to be set), and the data of its latest
        activity event (to point at the Activity row once that exists)."""
        from yimatong.investment.models import ProjectEvent

        rng = self.rng
        owner_id = plan.owner.pk
        evs: list[ProjectEvent] = []
        marker: dict[str, Any] | None = None

        def add(kind: str, at: dt.datetime, **kw: Any) -> None:
            evs.append(ProjectEvent(kind=kind, actor_id=owner_id, at=at, **kw))

        start_stage = plan.moves[0][0] if plan.moves else plan.final
        add("created", plan.created_at, to_stage=start_stage, data={"lead": ""})
        signed_counted = landed_counted = Decimal("0")
        contracted = plan.contracted
        first_amount = plan.framework_amount or contracted
        upgrade_done = False
        for frm, to, at, reason in plan.moves:
            if plan.upgrade_at and not upgrade_done and plan.upgrade_at < at:
                upgrade_done = True
                signed_now = contracted - signed_counted
                landed_now = contracted - landed_counted if landed_counted else Decimal("0")
                signed_counted += signed_now
                landed_counted += landed_now
                add(
                    "investment",
                    plan.upgrade_at,
                    signed_amount=signed_now,
                    landed_amount=landed_now,
                    data={"agreement_type": "formal", "contracted_investment": str(contracted), "note": ""},
                )
            signed_now = landed_now = Decimal("0")
            facts: dict[str, Any] = {}
            if to in IDX and IDX[to] >= SIGNED:
                amount = contracted if upgrade_done else first_amount
                signed_now = max(Decimal("0"), amount - signed_counted)
                if to == "signed" and not signed_counted:
                    facts = {
                        "agreement_type": "framework" if plan.framework_amount else "formal",
                        "signed_on": at.date().isoformat(),
                        "contracted_investment": str(amount),
                    }
                if IDX[to] >= REGISTERED:
                    landed_now = max(Decimal("0"), amount - landed_counted)
            signed_counted += signed_now
            landed_counted += landed_now
            add(
                "stage",
                at,
                from_stage=frm,
                to_stage=to,
                signed_amount=signed_now,
                landed_amount=landed_now,
                data={"reason": reason, "facts": facts},
            )
        if plan.upgrade_at and not upgrade_done:
            signed_now = contracted - signed_counted
            landed_now = contracted - landed_counted if landed_counted else Decimal("0")
            add(
                "investment",
                plan.upgrade_at,
                signed_amount=signed_now,
                landed_amount=landed_now,
                data={"agreement_type": "formal", "contracted_investment": str(contracted), "note": ""},
            )
        for day, amount in plan.capital:
            at = dt.datetime.combine(day, dt.time(10), tzinfo=dt.UTC)
            add("capital", at, data={"amount": str(amount), "arrived_on": day.isoformat(), "note": ""})

        # Work on the project: activities, changes, documents, between creation and today.
        weight = (
            HISTORY_WEIGHT["exit"]
            if plan.final in ("on_hold", "lost")
            else HISTORY_WEIGHT["landed"]
            if IDX[plan.final] >= REGISTERED
            else HISTORY_WEIGHT["signed"]
            if IDX[plan.final] >= SIGNED
            else HISTORY_WEIGHT["early"]
        )
        wanted = round(self.events_per_project * weight / self.history_norm * rng.uniform(0.5, 1.5))
        extra = max(0, wanted - len(evs))
        last = plan.moves[-1][2] if plan.moves else plan.created_at
        end = last if plan.final in ("on_hold", "lost") else self.now - dt.timedelta(hours=1)
        span = max((end - plan.created_at).total_seconds(), 3600.0)
        times = sorted(plan.created_at + dt.timedelta(seconds=rng.uniform(60, span)) for _ in range(extra))
        for at in times:
            x = rng.random()
            if x < 0.72:
                data = {
                    "kind_label": rng.choice(ACTIVITY_KINDS),
                    "summary": rng.choice(ACTIVITY_SUMMARIES),
                    "leader": "",
                    "next_follow_up_on": None,
                }
                marker = data
                add("activity", at, data=data)
            elif x < 0.92:
                name, old, new = rng.choice(CHANGED_FIELDS)
                if name == "planned_investment":
                    old, new = str(plan.planned), str(money(float(plan.planned) * 1.1))
                add("changed", at, data={"changes": [{"field": name, "old": old, "new": new}]})
            else:
                add("document", at, data={"document": rng.choice(DOCUMENTS), "version": 1, "file": "a.pdf"})
        return evs, marker


def generate(
    *,
    projects: int = 100_000,
    events_per_project: float = 10,
    seed: int = 2026,
    batch: int = 2000,
    verbose: bool = True,
) -> Stats:
    """Add ``projects`` projects (and ~``events_per_project`` events each) to the database."""
    from django.db import connection, transaction
    from django.db.models import Max
    from django.utils import timezone

    from yimatong.directory.models import Organization
    from yimatong.investment.models import Activity, CapitalArrival, CodeSequence, Project, ProjectEvent
    from yimatong.lib.identifiers import uscc_with_check_digit
    from yimatong.lib.text import normalize_org_name

    started = time.perf_counter()
    now = timezone.now()
    gen = Generator(seed=seed + Project.objects.count(), events_per_project=events_per_project, now=now)
    rng = gen.rng
    stats = Stats()

    def say(message: str) -> None:
        if verbose:
            print(f"  [{time.perf_counter() - started:6.1f} s] {message}", flush=True)

    # 1. Plans: who invests, what, and how far it got. One organization per ~3 projects.
    plans: list[Plan] = []
    org_owner: list[Any] = []
    while len(plans) < projects:
        owner = pick(rng, gen.owner_table)
        org = len(org_owner)
        org_owner.append(owner)
        for _ in range(min(rng.choice([1, 1, 2, 2, 3, 3, 4, 4, 5, 5]), projects - len(plans))):
            p_owner = owner if rng.random() < 0.9 else pick(rng, gen.owner_table)
            plan = gen.plan(org, p_owner)
            nodes = gen.team_nodes.get(p_owner.team_id) or gen.nodes
            plan.chain_node_id = (
                None if rng.random() < 0.05 else rng.choice(nodes if rng.random() < 0.85 else gen.nodes)
            )
            if rng.random() < 0.05:
                others = [u for u, _ in gen.owner_table if u.pk != p_owner.pk]
                plan.collaborator = rng.choice(others)
            plans.append(plan)
    plans.sort(key=lambda p: p.created_at)
    say(f"planned {len(plans)} projects for {len(org_owner)} organizations")

    # 2. Organizations (investors; those with a registered project are residents now).
    # Investors with a project that got registered (even if it exited since) are residents now.
    registered_orgs = {p.org for p in plans if any(t == "registered" for _, t, _, _ in p.moves)}
    first_created: dict[int, dt.datetime] = {}
    for p in plans:
        first_created.setdefault(p.org, p.created_at)
    serial0 = Organization.objects.filter(uscc__startswith=USCC_PREFIX).count()
    org_ids: list[int] = []
    with historical_timestamps(Organization), transaction.atomic():
        rows = []
        for i, owner in enumerate(org_owner):
            city, brand, kind = rng.choice(CITIES), rng.choice(BRANDS), rng.choice(KINDS)
            serial = serial0 + i
            name = f"{city}{brand}{kind}{serial}有限公司"
            created = first_created.get(i, now) - dt.timedelta(days=rng.uniform(1, 30))
            rows.append(
                Organization(
                    name=name,
                    normalized_name=normalize_org_name(name),
                    name_initials=f"{gen.initials(city + brand + kind)}{serial}yxgs",
                    name_pinyin=f"{gen.pinyin(city + brand + kind)}{serial}youxiangongsi",
                    uscc=uscc_with_check_digit(f"{USCC_PREFIX}{serial:010d}"),
                    org_type="resident" if i in registered_orgs else "prospect",
                    chain_node_id=rng.choice(gen.team_nodes.get(owner.team_id) or gen.nodes),
                    owner=owner,
                    team_id=owner.team_id,
                    created_at=created,
                    updated_at=created,
                )
            )
        for start in range(0, len(rows), batch):
            created_rows = Organization.objects.bulk_create(rows[start : start + batch])
            org_ids.extend(o.pk for o in created_rows)
    if any(pk is None for pk in org_ids):  # a backend that does not return ids
        org_ids = list(
            Organization.objects.filter(uscc__startswith=USCC_PREFIX)
            .order_by("pk")
            .values_list("pk", flat=True)[serial0:]
        )
    stats.organizations = len(org_ids)
    say(f"{stats.organizations} organizations")

    # 3. Codes continue each year's sequence.
    counters = dict(CodeSequence.objects.filter(prefix="YMT").values_list("year", "last"))
    existing = Project.objects.filter(code__startswith="YMT-").values_list("code", flat=True)
    for code in existing.iterator():
        _, year, number = code.split("-")
        counters[int(year)] = max(counters.get(int(year), 0), int(number))
    for plan in plans:
        year = timezone.localtime(plan.created_at).year
        counters[year] = counters.get(year, 0) + 1
        plan.code = f"YMT-{year}-{counters[year]:04d}"
        product, phase = rng.choice(PRODUCTS), rng.choice(PHASES)
        plan.name = f"{rng.choice(BRANDS)}{product}{phase}项目"

    # 4. Projects, their events, capital and latest activity, batch by batch.
    through_collab = Project.collaborators.through
    through_insiders = Project.insiders.through
    insider = gen.users["teamlead"]
    for start in range(0, len(plans), batch):
        chunk = plans[start : start + batch]
        with historical_timestamps(Project, Activity, CapitalArrival), transaction.atomic():
            objs, histories = [], []
            for plan in chunk:
                evs, marker = gen.events_for(plan)
                histories.append((evs, marker))
                last_move = plan.moves[-1][2] if plan.moves else plan.created_at
                forward = [a for f, t, a, r in plan.moves if t in IDX and (f not in IDX or IDX[t] > IDX[f])]
                progress = max([plan.created_at, *forward] + ([plan.upgrade_at] if plan.upgrade_at else []))
                if plan.capital:
                    capital_at = dt.datetime.combine(plan.capital[-1][0], dt.time(10), tzinfo=dt.UTC)
                    progress = max(progress, capital_at)
                reached = {t: a for f, t, a, r in plan.moves}
                org_pk = org_ids[plan.org]
                values: dict[str, Any] = {}
                if plan.contracted is not None:
                    values.update(
                        agreement_type=plan.agreement,
                        signed_on=reached["signed"].date(),
                        contracted_investment=plan.contracted,
                    )
                if "registered" in reached:
                    values.update(
                        registered_organization_id=org_pk, registered_on=reached["registered"].date()
                    )
                if "construction" in reached:
                    values.update(
                        construction_started_on=reached["construction"].date(),
                        fixed_asset_investment=money(float(plan.contracted) * rng.uniform(0.1, 0.9)),
                    )
                if "production" in reached:
                    values["production_started_on"] = reached["production"].date()
                if "full_capacity" in reached:
                    values["full_capacity_on"] = reached["full_capacity"].date()
                if plan.final in ("on_hold", "lost"):
                    values["exit_reason"] = plan.moves[-1][3]
                objs.append(
                    Project(
                        code=plan.code,
                        qr_token=uuid.UUID(int=rng.getrandbits(128), version=4),
                        name=plan.name,
                        name_initials=gen.initials(plan.name),
                        organization_id=org_pk,
                        source_channel=plan.channel,
                        chain_node_id=plan.chain_node_id,
                        planned_investment=plan.planned,
                        expected_output=money(float(plan.planned) * rng.uniform(0.5, 3)),
                        expected_tax=money(float(plan.planned) * rng.uniform(0.02, 0.1)),
                        land_mu=money(float(plan.planned) / rng.uniform(150, 500)),
                        jobs=int(float(plan.planned) / rng.uniform(20, 200)) + 5,
                        owner=plan.owner,
                        team_id=plan.owner.team_id,
                        priority=plan.priority,
                        codename=plan.codename,
                        stage=plan.final,
                        stage_entered_at=last_move,
                        is_major=plan.is_major,
                        last_progress_at=progress,
                        supervised_at=progress if plan.supervised else None,
                        supervised_by=gen.users["teamlead"] if plan.supervised else None,
                        supervision_note="请加快推进" if plan.supervised else "",
                        version=1 + len(plan.moves),
                        created_by=plan.owner,
                        created_at=plan.created_at,
                        updated_at=max(e.at for e in evs),  # saved last by its latest event
                        **values,
                    )
                )
            created = Project.objects.bulk_create(objs)
            if any(p.pk is None for p in created):
                by_code = dict(
                    Project.objects.filter(code__in=[p.code for p in objs]).values_list("code", "pk")
                )
                for p in created:
                    p.pk = p.id = by_code[p.code]
            links = [
                through_collab(project_id=p.pk, user_id=plan.collaborator.pk)
                for p, plan in zip(created, chunk, strict=True)
                if plan.collaborator is not None
            ]
            through_collab.objects.bulk_create(links)
            insiders = [
                through_insiders(project_id=p.pk, user_id=insider.pk)
                for p, plan in zip(created, chunk, strict=True)
                if plan.codename and plan.owner.pk != insider.pk
            ]
            through_insiders.objects.bulk_create(insiders)

            # The latest activity of each project is a real Activity row.
            activities = []
            for p, plan in zip(created, chunk, strict=True):
                open_project = plan.final not in ("on_hold", "lost", "full_capacity")
                day = (now - dt.timedelta(days=rng.uniform(1, 40))).date() if open_project else None
                occurred = day or (plan.moves[-1][2] if plan.moves else plan.created_at).date()
                activities.append(
                    Activity(
                        project_id=p.pk,
                        kind=rng.choice(ACTIVITY_KINDS),
                        occurred_on=occurred,
                        summary=rng.choice(ACTIVITY_SUMMARIES),
                        next_follow_up_on=occurred + dt.timedelta(days=rng.randint(3, 30))
                        if open_project and rng.random() < 0.5
                        else None,
                        created_by=plan.owner,
                        created_at=now,
                        updated_at=now,
                    )
                )
            activities = Activity.objects.bulk_create(activities)
            stats.activities += len(activities)

            arrivals = [
                CapitalArrival(
                    project_id=p.pk,
                    arrived_on=day,
                    amount=amount,
                    recorded_by=plan.owner,
                    created_at=dt.datetime.combine(day, dt.time(10), tzinfo=dt.UTC),
                    updated_at=dt.datetime.combine(day, dt.time(10), tzinfo=dt.UTC),
                )
                for p, plan in zip(created, chunk, strict=True)
                for day, amount in plan.capital
            ]
            CapitalArrival.objects.bulk_create(arrivals)
            stats.capital_arrivals += len(arrivals)

            events = []
            for p, (evs, marker), activity in zip(created, histories, activities, strict=True):
                if marker is not None:
                    marker["activity"] = activity.pk
                for e in evs:
                    e.project_id = p.pk
                events.extend(evs)
            ProjectEvent.objects.bulk_create(events, batch_size=5000)
            stats.events += len(events)
        for plan in chunk:
            stats.by_stage[plan.final] = stats.by_stage.get(plan.final, 0) + 1
        stats.projects += len(chunk)
        if verbose and (start // batch) % 10 == 9:
            say(f"{stats.projects} projects, {stats.events} events")

    for year, last in counters.items():
        bumped = CodeSequence.objects.filter(prefix="YMT", year=year, last__lt=last).update(last=last)
        if not bumped and not CodeSequence.objects.filter(prefix="YMT", year=year).exists():
            CodeSequence.objects.create(prefix="YMT", year=year, last=last)
    assert CodeSequence.objects.filter(prefix="YMT").aggregate(m=Max("last"))["m"] >= max(counters.values())
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # as autovacuum would after a bulk load
    stats.seconds = time.perf_counter() - started
    return stats


def check_invariants() -> list[str]:
    """What should hold after generation: count-once amounts and the gates' facts."""
    from django.db.models import Q, Sum

    from yimatong.investment.models import Project, ProjectEvent

    problems = []
    signed = ["signed", "registered", "construction", "production", "full_capacity"]
    totals = dict(
        ProjectEvent.objects.filter(signed_amount__gt=0)
        .values("project")
        .annotate(total=Sum("signed_amount"))
        .values_list("project", "total")
    )
    for pk, contracted in Project.objects.filter(
        Q(stage__in=signed) | Q(contracted_investment__isnull=False)
    ).values_list("pk", "contracted_investment"):
        if totals.get(pk) != contracted:
            problems.append(f"project {pk}: counted {totals.get(pk)} signed, contracted {contracted}")
            if len(problems) > 10:
                break
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--projects", type=int, default=100_000)
    parser.add_argument("--events-per-project", type=float, default=10)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--batch", type=int, default=2000, help="projects per transaction")
    parser.add_argument("--load-demo", action="store_true", help="load the demo park first")
    parser.add_argument("--check", action="store_true", help="verify count-once amounts afterwards")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yimatong.settings")
    import django

    django.setup()
    from django.db import connection

    if args.load_demo:
        from yimatong.demo.loader import load_demo

        load_demo()
    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
    stats = generate(
        projects=args.projects, events_per_project=args.events_per_project, seed=args.seed, batch=args.batch
    )
    print(f"generated {stats.line()}")
    print(
        "final stages: "
        + ", ".join(f"{k} {v}" for k, v in sorted(stats.by_stage.items(), key=lambda kv: IDX.get(kv[0], 99)))
    )
    if args.check:
        problems = check_invariants()
        print("invariants: " + ("ok" if not problems else "; ".join(problems)))


if __name__ == "__main__":
    main()
