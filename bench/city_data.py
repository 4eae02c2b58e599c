"""A city's data for bench/city.py: the demo park, then the existing generators at the issue's
sizes, then what none of them writes yet (contacts, the lead pool, WeChat codes and followers,
a policy library), all with bulk_create into an EXISTING migrated database (the one Django's
settings point to).

In order:

1. the demo park (``yimatong.demo.loader.load_demo``: chain, teams, departments, personas);
2. bench/cockpit.py's ``generate``: --projects (100,000) projects over five years with ~10
   events each (bench/investment_data.py), their activities, site visits and milestones, and
   --enterprises (500) resident enterprises x --years (5) of published monthly reports with
   their 规上 sets, periods and targets;
3. bench/demand_queue.py's ``generate``: --demands (100,000) demands with their history, filed
   by 500 more enterprises, and an officer for each department;
4. here:
   - contacts: one person at --contacts (20,000) of the investors (the primary contact), with
     pinyin, mobile, owner as the organization's;
   - WeChat: --qr-codes (300) channel codes on the demo's two official accounts (channels,
     events, promoters, chain segments; most permanent) and --followers (30,000) followers,
     ~85% subscribed, most having scanned a code first; their subscribe and scan pushes and,
     for about a third, a conversation of 1-6 messages (inbound rows, as the callback stores
     them);
   - leads: --leads (40,000) over the last three years: ~45% qualified (each linked to one of
     the generated projects, the project's investor, owner and channel, created days before
     it), ~35% assigned and followed up lately, ~8% in the shared pool (new, or returned
     untouched), ~9% discarded, ~3% merged into another; one source each (a tenth two), the
     WeChat ones on a channel code with their follower; their events (created, assigned or
     claimed, notes, returned, qualified, discarded, merged); codes ``L-<year>-<n>``
     continuing the sequence;
   - policies: --policies (500) published policies with condition trees, from
     bench/policy_matching.py's ``policy_row`` (no matching run: bench-matching measures it).

On PostgreSQL everything is ANALYZEd at the end (what autovacuum does within a minute).

    .venv/bin/python bench/city_data.py [--quick] [--stats-out stats.json]

(bench/city.py runs this in a subprocess to build its cached database.) Running it twice adds
a second batch.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DAY = dt.timedelta(days=1)
BATCH = 5000


@dataclass(frozen=True)
class Sizes:
    projects: int = 100_000
    events_per_project: float = 10  # bench/cockpit.py's EVENTS_PER_PROJECT
    enterprises: int = 500  # reporting enterprises (monthly reports)
    years: int = 5  # of monthly reports
    demands: int = 100_000
    demand_enterprises: int = 500
    contacts: int = 20_000
    leads: int = 40_000
    qr_codes: int = 300
    followers: int = 30_000
    policies: int = 500
    seed: int = 2026


FULL = Sizes()
QUICK = Sizes(
    projects=10_000,
    enterprises=100,
    years=3,
    demands=20_000,
    contacts=3_000,
    leads=5_000,
    qr_codes=60,
    followers=4_000,
    policies=100,
)
# For the test that keeps bench/city.py working: seconds, not minutes.
TINY = Sizes(
    projects=60,
    enterprises=4,
    years=2,
    demands=60,
    demand_enterprises=5,
    contacts=20,
    leads=60,
    qr_codes=6,
    followers=40,
    policies=5,
)


@dataclass
class CityStats:
    counts: dict[str, int] = field(default_factory=dict)
    phases: list[tuple[str, float]] = field(default_factory=list)
    seconds: float = 0.0

    def lines(self) -> list[str]:
        return [
            ", ".join(f"{v:,} {k}" for k, v in self.counts.items()),
            f"generated in {self.seconds:.0f} s ("
            + ", ".join(f"{name} {s:.0f} s" for name, s in self.phases)
            + ")",
        ]


def generate(sizes: Sizes = FULL, *, verbose: bool = True) -> CityStats:
    """The whole city on top of an empty migrated database."""
    from django.db import connection

    from bench import cockpit, demand_queue, investment_data
    from yimatong.demo.loader import load_demo

    stats = CityStats()
    started = time.perf_counter()

    def phase(name: str, fn: Callable[[], Any]) -> Any:
        at = time.perf_counter()
        result = fn()
        seconds = time.perf_counter() - at
        stats.phases.append((name, seconds))
        if verbose:
            print(f"[{time.perf_counter() - started:7.1f} s] {name}: {seconds:.1f} s", flush=True)
        return result

    phase("demo park", load_demo)
    history_days = investment_data.HISTORY_DAYS  # cockpit.investment stretches it to five years
    try:
        cockpit_stats = cockpit.Stats()
        args = SimpleNamespace(
            projects=sizes.projects, enterprises=sizes.enterprises, years=sizes.years, seed=sizes.seed
        )
        phase(
            "projects, events, work, monthly reports (bench/cockpit.py)",
            lambda: cockpit.generate(args, cockpit_stats),
        )
    finally:
        investment_data.HISTORY_DAYS = history_days
    demand_stats = phase(
        "demands (bench/demand_queue.py)",
        lambda: demand_queue.generate(sizes.demands, enterprises=sizes.demand_enterprises, verbose=verbose),
    )
    rng = random.Random(sizes.seed + 11)
    contacts = phase("contacts", lambda: make_contacts(rng, sizes.contacts))
    codes = phase("WeChat codes", lambda: make_codes(rng, sizes.qr_codes))
    leads = phase("leads", lambda: make_leads(rng, sizes.leads, codes))
    followers, inbound = phase("WeChat followers", lambda: make_followers(rng, sizes.followers, codes))
    policies = phase("policies", lambda: make_policies(rng, sizes.policies))
    if connection.vendor == "postgresql":
        phase("ANALYZE", analyze)
    stats.counts = {
        "projects": cockpit_stats.projects,
        "project events": cockpit_stats.events,
        "activities": cockpit_stats.activities,
        "site visits": cockpit_stats.site_visits,
        "milestones": cockpit_stats.milestones,
        "reporting enterprises": cockpit_stats.enterprises,
        "monthly reports": cockpit_stats.reports,
        "demands": demand_stats.demands,
        "demand events": demand_stats.events,
        "contacts": contacts,
        "leads": leads,
        "QR codes": len(codes.scenes),
        "followers": followers,
        "inbound messages": inbound,
        "policies": policies,
    }
    stats.seconds = time.perf_counter() - started
    return stats


def analyze() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


# Names ------------------------------------------------------------------------------------------

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = [
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超",
    "秀英", "霞", "平", "刚", "桂英", "建华", "文", "华", "红", "志强", "海燕", "晓东", "雪梅", "建国",
    "丹", "鹏", "宇", "浩", "凯", "婷", "琳", "晨", "欣怡", "子涵", "博文", "思远", "一鸣", "立新",
]  # fmt: skip
POSITIONS = [
    "总经理",
    "董事长",
    "投资总监",
    "副总经理",
    "项目经理",
    "战略发展部总监",
    "董事会秘书",
    "行政总监",
]
DISCARD_REASONS = ["联系方式无效", "非生物医药项目", "重复录入", "投资方无实际意向", "已在其他园区落地"]
NOTES = ["电话沟通，对方有意向来园考察", "发送园区政策资料", "约定下周再联系", "对方在比较几个园区"]


class Names:
    """Pinyin computed once per distinct part (pypinyin is the slow part of bulk names)."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, str], str] = {}

    def initials(self, text: str) -> str:
        from yimatong.lib.text import pinyin_initials

        return self._get("i", text, pinyin_initials)

    def full(self, text: str) -> str:
        from yimatong.lib.text import pinyin_full

        return self._get("f", text, pinyin_full)

    def _get(self, kind: str, text: str, fn: Callable[[str], str]) -> str:
        key = (kind, text)
        if key not in self._cache:
            self._cache[key] = fn(text)
        return self._cache[key]


NAMES = Names()


def person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def mobile(rng: random.Random) -> str:
    return f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"


def staff() -> dict[str, Any]:
    from bench.investment_data import OWNERS
    from yimatong.accounts.models import User

    return {u.username: u for u in User.objects.filter(username__in=[o for o, _ in OWNERS])}


# Contacts ---------------------------------------------------------------------------------------


def make_contacts(rng: random.Random, n: int) -> int:
    """The primary contact of ``n`` of the generated investors (those without one yet)."""
    from django.db import transaction

    from bench.investment_data import USCC_PREFIX, historical_timestamps
    from yimatong.directory.models import Contact, Organization

    orgs = list(
        Organization.objects.filter(uscc__startswith=USCC_PREFIX, contacts__isnull=True)
        .order_by("pk")
        .values_list("pk", "owner_id", "created_at")
    )
    chosen = sorted(rng.sample(orgs, min(n, len(orgs))))
    rows = []
    for pk, owner, created in chosen:
        name = person(rng)
        rows.append(
            Contact(
                organization_id=pk,
                name=name,
                name_initials=NAMES.initials(name),
                name_pinyin=NAMES.full(name),
                position=rng.choice(POSITIONS),
                mobile=mobile(rng),
                email=f"{NAMES.full(name)}{pk}@example.cn" if rng.random() < 0.4 else "",
                is_primary=True,
                owner_id=owner,
                created_at=created,
                updated_at=created,
            )
        )
    with historical_timestamps(Contact), transaction.atomic():
        Contact.objects.bulk_create(rows, batch_size=BATCH)
    return len(rows)


# WeChat channel codes ---------------------------------------------------------------------------


@dataclass
class Codes:
    scenes: list[str]
    by_account: dict[int, list[tuple[int, str]]]  # account pk -> (code pk, scene)
    accounts: list[tuple[int, float]]  # (account pk, share of followers)


EVENTS = [
    "西部生物医药大会",
    "中国国际医药原料药博览会",
    "生物城招商推介会",
    "粤港澳大湾区投资对接会",
    "成渝双城招商周",
]
CHANNELS = ["园区官网", "宣传册", "地铁广告", "展位海报", "招商手册", "公众号推文", "合作机构"]


def make_codes(rng: random.Random, n: int) -> Codes:
    from django.db import transaction
    from django.utils import timezone

    from bench.investment_data import historical_timestamps
    from yimatong.directory.models import ChainNode
    from yimatong.wechat.models import OfficialAccount, QrCode

    now = timezone.now()
    accounts = list(OfficialAccount.objects.order_by("pk"))
    if not accounts:
        raise SystemExit("no official account: load the demo park first")
    users = list(staff().values())
    nodes = list(ChainNode.objects.values_list("pk", flat=True))
    rows = []
    for i in range(n):
        account = accounts[0] if rng.random() < 0.85 or len(accounts) == 1 else rng.choice(accounts[1:])
        purpose = rng.choices(
            [QrCode.Purpose.CHANNEL, QrCode.Purpose.EVENT, QrCode.Purpose.PROMOTER, QrCode.Purpose.BROCHURE, QrCode.Purpose.CHAIN],
            weights=[3, 3, 2, 1, 1],
        )[0]  # fmt: skip
        created = now - dt.timedelta(days=rng.uniform(1, 1000))
        permanent = purpose != QrCode.Purpose.EVENT or rng.random() < 0.3
        event = rng.choice(EVENTS) if purpose == QrCode.Purpose.EVENT else ""
        promoter = rng.choice(users) if purpose == QrCode.Purpose.PROMOTER else None
        name = {
            QrCode.Purpose.CHANNEL: f"{rng.choice(CHANNELS)} {i}",
            QrCode.Purpose.EVENT: f"{event} {i}",
            QrCode.Purpose.PROMOTER: f"招商专员 {promoter.name if promoter else ''} {i}",
            QrCode.Purpose.BROCHURE: f"宣传册第 {i} 版",
            QrCode.Purpose.CHAIN: f"产业链推介 {i}",
        }[purpose]
        scene = f"city-{i:05d}"
        rows.append(
            QrCode(
                account=account,
                name=name[:80],
                purpose=purpose,
                scene=scene,
                event_name=event,
                promoter=promoter,
                chain_node_id=rng.choice(nodes) if purpose == QrCode.Purpose.CHAIN and nodes else None,
                is_permanent=permanent,
                expires_at=None if permanent else created + dt.timedelta(days=30),
                url=f"http://weixin.qq.com/q/city{i:05d}",
                created_by=rng.choice(users),
                created_at=created,
                updated_at=created,
            )
        )
    with historical_timestamps(QrCode), transaction.atomic():
        created_rows = QrCode.objects.bulk_create(rows, batch_size=BATCH)
    if any(c.pk is None for c in created_rows):
        ids = dict(QrCode.objects.filter(scene__startswith="city-").values_list("scene", "pk"))
        for c in created_rows:
            c.pk = ids[c.scene]
    by_account: dict[int, list[tuple[int, str]]] = {}
    for c in created_rows:
        by_account.setdefault(c.account_id, []).append((c.pk, c.scene))
    shares = [(a.pk, 0.85 if i == 0 else 0.15 / max(1, len(accounts) - 1)) for i, a in enumerate(accounts)]
    return Codes([c.scene for c in created_rows], by_account, shares)


# Leads --------------------------------------------------------------------------------------------

LEAD_STATUSES = [
    ("qualified", 0.45),
    ("assigned", 0.35),
    ("pool", 0.08),
    ("discarded", 0.09),
    ("merged", 0.03),
]
LEAD_CHANNELS = [
    ("staff", 0.30),
    ("wechat", 0.22),
    ("referral", 0.15),
    ("expo", 0.13),
    ("h5_form", 0.08),
    ("leader_visit", 0.07),
    ("import", 0.05),
]
LEAD_USCC_PREFIX = "9150016"  # the other generators use 9150017-9150019
INTERESTS = [
    "拟在西部布局生产基地",
    "寻找 GMP 厂房",
    "了解园区人才政策",
    "考虑设立区域总部",
    "洽谈研发中心落地",
]


def pick(rng: random.Random, table: list[tuple[str, float]]) -> str:
    x, acc = rng.random(), 0.0
    for value, share in table:
        acc += share
        if x < acc:
            return value
    return table[-1][0]


@dataclass
class _Lead:
    status: str
    created: dt.datetime
    channel: str
    owner: Any = None
    project: tuple[Any, ...] | None = None  # pk, org pk, org name, owner pk, created_at, channel
    name: str = ""
    events: list[tuple[str, dt.datetime, int | None, dict[str, Any]]] = field(default_factory=list)
    scene: str = ""


# The followers of WeChat leads, made with the leads and written with the other followers.
_LEAD_FOLLOWERS: list[tuple[int, str, dt.datetime, int | None]] = []  # lead pk, scene, at, owner pk


def make_leads(rng: random.Random, n: int, codes: Codes) -> int:
    from django.db import transaction
    from django.utils import timezone

    from bench.investment_data import BRANDS, CITIES, KINDS, OWNERS, historical_timestamps
    from yimatong.accounts.models import User
    from yimatong.directory.models import ChainNode
    from yimatong.investment.models import CodeSequence, Lead, LeadEvent, LeadSource, Project
    from yimatong.lib.identifiers import uscc_with_check_digit
    from yimatong.lib.text import normalize_org_name

    now = timezone.now()
    users = staff()
    owner_table = [(users[name], share) for name, share in OWNERS]
    nodes = list(ChainNode.objects.values_list("pk", flat=True))
    plans = [pick(rng, LEAD_STATUSES) for _ in range(n)]
    wanted = sum(1 for s in plans if s == "qualified")
    projects = list(
        Project.objects.filter(lead__isnull=True)
        .order_by("pk")
        .values_list(
            "pk", "organization_id", "organization__name", "owner_id", "created_at", "source_channel"
        )
    )
    projects = rng.sample(projects, min(wanted, len(projects)))
    by_pk = User.objects.in_bulk({p[3] for p in projects})
    leads: list[_Lead] = []
    serial = Lead.objects.filter(uscc__startswith=LEAD_USCC_PREFIX).count()
    for status in plans:
        if status == "qualified":
            if not projects:
                status = "assigned"
            else:
                project = projects.pop()
                created = project[4] - dt.timedelta(days=rng.uniform(1, 30))
                lead = _Lead(status, created, project[5], by_pk.get(project[3]), project, project[2])
                leads.append(lead)
                continue
        age = {"pool": rng.expovariate(1 / 40), "assigned": rng.uniform(3, 365)}.get(
            status, rng.uniform(30, 1000)
        )
        created = now - dt.timedelta(days=min(age, 1090), seconds=rng.randrange(3600 * 10))
        owner = None if status == "pool" else pick(rng, owner_table)
        city, brand, kind = rng.choice(CITIES), rng.choice(BRANDS), rng.choice(KINDS)
        leads.append(
            _Lead(
                status, created, pick(rng, LEAD_CHANNELS), owner, None, f"{city}{brand}{kind}{serial}有限公司"
            )
        )
        serial += 1
    leads.sort(key=lambda x: x.created)

    # Codes continue each year's L sequence.
    counters = dict(CodeSequence.objects.filter(prefix="L").values_list("year", "last"))
    scenes = codes.scenes
    rows, sources = [], []
    for lead in leads:
        year = timezone.localtime(lead.created).year
        counters[year] = counters.get(year, 0) + 1
        code = f"L-{year}-{counters[year]:05d}"
        owner = lead.owner
        assigned_at = touched = None
        created_by = owner.pk if owner is not None and lead.channel == "staff" else None
        events: list[tuple[str, dt.datetime, int | None, dict[str, Any]]] = [
            ("created", lead.created, created_by, {"channel": lead.channel})
        ]
        if lead.status == "pool":
            touched = lead.created
            if rng.random() < 0.3:  # claimed once, returned untouched
                claimed = lead.created + dt.timedelta(days=rng.uniform(0.5, 3))
                back = claimed + dt.timedelta(days=15)
                if back < now:
                    who = pick(rng, owner_table)
                    events.append(("claimed", claimed, who.pk, {}))
                    events.append(("returned", back, None, {"days": 15}))
                    touched = back
        else:
            assigned_at = lead.created + dt.timedelta(hours=rng.uniform(1, 72))
            kind = "claimed" if rng.random() < 0.4 else "assigned"
            events.append(
                (kind, assigned_at, owner.pk if kind == "claimed" else None, {"owner": owner.username})
            )
            touched = assigned_at
            if lead.status == "assigned":
                touched = max(assigned_at, now - dt.timedelta(days=rng.uniform(0, 14)))
            for _ in range(rng.choice([0, 0, 1, 1, 2, 3])):
                at = (
                    assigned_at + (touched - assigned_at) * rng.random() if touched > assigned_at else touched
                )
                events.append(("note", at, owner.pk, {"text": rng.choice(NOTES)}))
            if lead.status == "qualified":
                touched = max(touched, lead.project[4])
                events.append(("qualified", lead.project[4], owner.pk, {"project": lead.project[0]}))
            elif lead.status == "discarded":
                touched = assigned_at + dt.timedelta(days=rng.uniform(1, 20))
                events.append(("discarded", touched, owner.pk, {"reason": rng.choice(DISCARD_REASONS)}))
        events.sort(key=lambda e: e[1])
        lead.events = events
        name = lead.name
        uscc = ""
        if lead.project is None and rng.random() < 0.3:
            uscc = uscc_with_check_digit(f"{LEAD_USCC_PREFIX}{len(rows):010d}")
        stem = name.removesuffix("有限公司").rstrip("0123456789")
        status = "assigned" if lead.status == "merged" else lead.status  # merged once its target exists
        rows.append(
            Lead(
                code=code,
                company_name=name,
                normalized_name=normalize_org_name(name),
                name_initials=(NAMES.initials(stem) + name[len(stem) :].removesuffix("有限公司") + "yxgs")[
                    :120
                ],
                uscc=uscc,
                contact_name=person(rng),
                contact_phone=mobile(rng),
                interest=rng.choice(INTERESTS),
                chain_node_id=rng.choice(nodes) if nodes and rng.random() < 0.9 else None,
                planned_investment=rng.choice([None, 1000, 3000, 5000, 10000, 20000, 50000]),
                organization_id=lead.project[1] if lead.project else None,
                status=status,
                owner=owner if status != "pool" else None,
                team_id=owner.team_id if owner is not None and status != "pool" else None,
                assigned_at=assigned_at,
                touched_at=touched or lead.created,
                discard_reason=next((e[3]["reason"] for e in events if e[0] == "discarded"), ""),
                created_by_id=created_by,
                created_at=lead.created,
                updated_at=max(e[1] for e in events),
            )
        )
        if lead.channel == "wechat" and scenes:
            lead.scene = rng.choice(scenes)
    with historical_timestamps(Lead, LeadSource), transaction.atomic():
        saved = Lead.objects.bulk_create(rows, batch_size=BATCH)
        if any(x.pk is None for x in saved):
            ids = dict(Lead.objects.filter(code__in=[x.code for x in rows]).values_list("code", "pk"))
            for x in saved:
                x.pk = ids[x.code]
        for lead, row in zip(leads, saved, strict=True):
            channel = lead.channel
            sources.append(
                LeadSource(
                    lead_id=row.pk,
                    channel=channel,
                    event=rng.choice(EVENTS) if channel == "expo" else "",
                    qr_scene=lead.scene,
                    referrer_name=person(rng) if channel == "referral" else "",
                    received_at=lead.created,
                    created_at=lead.created,
                    updated_at=lead.created,
                )
            )
            if rng.random() < 0.1:  # reached the park a second way
                at = lead.created + dt.timedelta(days=rng.uniform(1, 60))
                sources.append(
                    LeadSource(
                        lead_id=row.pk,
                        channel=pick(rng, LEAD_CHANNELS[:1] + LEAD_CHANNELS[2:]),
                        received_at=at,
                        created_at=at,
                        updated_at=at,
                    )
                )
            if lead.scene:
                _LEAD_FOLLOWERS.append((row.pk, lead.scene, lead.created, row.owner_id))
        LeadSource.objects.bulk_create(sources, batch_size=BATCH)
        # Merged leads point at an earlier open or qualified lead.
        targets = [r.pk for r in saved if r.status in ("assigned", "qualified")]
        merged = []
        for lead, row in zip(leads, saved, strict=True):
            if lead.status == "merged" and targets:
                target = rng.choice(targets)
                if target == row.pk:
                    continue
                row.status, row.merged_into_id = "merged", target
                lead.events.append(("merged", row.updated_at, row.owner_id, {"into": target}))
                merged.append(row)
        Lead.objects.bulk_update(merged, ["status", "merged_into"], batch_size=1000)
        LeadEvent.objects.bulk_create(
            [
                LeadEvent(lead_id=row.pk, kind=kind, actor_id=actor, data=data, at=at)
                for lead, row in zip(leads, saved, strict=True)
                for kind, at, actor, data in lead.events
            ],
            batch_size=BATCH,
        )
        linked = []
        for lead, row in zip(leads, saved, strict=True):
            if lead.project is not None:
                linked.append(Project(pk=lead.project[0], lead_id=row.pk))
        Project.objects.bulk_update(linked, ["lead"], batch_size=1000)
    for year, last in counters.items():
        if not CodeSequence.objects.filter(prefix="L", year=year).update(last=last):
            CodeSequence.objects.create(prefix="L", year=year, last=last)
    return len(saved)


# Followers ----------------------------------------------------------------------------------------

MESSAGES = ["你好，想了解园区的厂房租金", "有没有针对生物药企业的补贴政策？", "可以预约下周来考察吗", "谢谢", "请问联系人电话是多少", "我们计划投资一个制剂项目"]  # fmt: skip


def make_followers(rng: random.Random, n: int, codes: Codes) -> tuple[int, int]:
    """Followers (those of the WeChat leads first), their subscribe and scan pushes and some
    conversations, as the callback stores them."""
    from django.db import transaction
    from django.utils import timezone

    from bench.investment_data import historical_timestamps
    from yimatong.wechat.models import Follower, InboundMessage

    now = timezone.now()
    users = list(staff().values())
    accounts = codes.accounts
    followers, pushes = [], []
    start = Follower.objects.count()
    lead_followers = list(_LEAD_FOLLOWERS)
    _LEAD_FOLLOWERS.clear()
    scene_code = {scene: (account, pk) for account, rows in codes.by_account.items() for pk, scene in rows}
    for i in range(max(n, len(lead_followers))):
        lead_pk = owner = None
        if i < len(lead_followers):
            lead_pk, scene, at, owner = lead_followers[i]
            account, code = scene_code[scene]
            code_scene = scene
            subscribed_at = at - dt.timedelta(minutes=rng.uniform(1, 30))
        else:
            account = (
                accounts[0][0]
                if rng.random() < accounts[0][1] or len(accounts) == 1
                else rng.choice(accounts[1:])[0]
            )
            choices = codes.by_account.get(account) or []
            code, code_scene = rng.choice(choices) if choices and rng.random() < 0.75 else (None, "")
            subscribed_at = now - dt.timedelta(days=rng.uniform(0, 1000))
        openid = f"o_city_{start + i:08d}"
        subscribed = rng.random() < 0.85
        talks = rng.random() < (0.8 if lead_pk else 0.3)
        messages = rng.randint(1, 6) if talks else 0
        last = subscribed_at + dt.timedelta(days=rng.uniform(0, 60)) if messages else None
        if last is not None and last > now:
            last = now - dt.timedelta(minutes=rng.uniform(1, 600))
        assigned = owner or (rng.choice(users).pk if users and rng.random() < 0.2 else None)
        followers.append(
            Follower(
                account_id=account,
                openid=openid,
                display_name=person(rng) if rng.random() < 0.5 else "",
                subscribed=subscribed,
                subscribed_at=subscribed_at,
                unsubscribed_at=None
                if subscribed
                else subscribed_at + dt.timedelta(days=rng.uniform(1, 200)),
                first_code_id=code,
                lead_id=lead_pk,
                assigned_to_id=assigned,
                last_message_at=last,
                staff_read_at=last if last is not None and rng.random() < 0.8 else None,
                created_at=subscribed_at,
                updated_at=last or subscribed_at,
            )
        )
        pushes.append((account, openid, subscribed_at, code, code_scene, messages, last))
    with historical_timestamps(Follower), transaction.atomic():
        saved = Follower.objects.bulk_create(followers, batch_size=BATCH)
        if any(f.pk is None for f in saved):
            ids = dict(Follower.objects.filter(openid__startswith="o_city_").values_list("openid", "pk"))
            for f in saved:
                f.pk = ids[f.openid]
        rows = []
        for f, (account, openid, at, code, scene, messages, last) in zip(saved, pushes, strict=True):
            stamp = int(at.timestamp())
            rows.append(
                InboundMessage(
                    account_id=account,
                    follower_id=f.pk,
                    dedup_key=f"{openid}:{stamp}:subscribe",
                    msg_type="event",
                    event="subscribe",
                    event_key=f"qrscene_{scene}" if code else "",
                    code_id=code,
                    sent_at=at,
                    received_at=at,
                    processed_at=at,
                )
            )
            if code and rng.random() < 0.2:
                again = at + dt.timedelta(days=rng.uniform(1, 90))
                if again < now:
                    rows.append(
                        InboundMessage(
                            account_id=account,
                            follower_id=f.pk,
                            dedup_key=f"{openid}:{int(again.timestamp())}:scan",
                            msg_type="event",
                            event="scan",
                            event_key=scene,
                            code_id=code,
                            sent_at=again,
                            received_at=again,
                            processed_at=again,
                        )
                    )
            for k in range(messages):
                when = at + (last - at) * ((k + 1) / messages)
                rows.append(
                    InboundMessage(
                        account_id=account,
                        follower_id=f.pk,
                        dedup_key=f"msg-{openid}-{k}",
                        msg_type="text",
                        content=rng.choice(MESSAGES),
                        is_user_message=True,
                        sent_at=when,
                        received_at=when,
                        processed_at=when,
                    )
                )
        InboundMessage.objects.bulk_create(rows, batch_size=BATCH)
    return len(saved), len(rows)


# Policies -----------------------------------------------------------------------------------------


def make_policies(rng: random.Random, n: int) -> int:
    from django.utils import timezone

    from bench.policy_matching import policy_row
    from yimatong.directory.models import ChainNode, District
    from yimatong.services import matching
    from yimatong.services.models import Policy

    today = timezone.localdate()
    nodes = {node.code: node for node in ChainNode.objects.all()}
    districts = list(District.objects.all())
    park = [d for d in districts if d.code in ("500113", "500112", "500108", "500105")] or districts
    start = Policy.objects.filter(code__startswith="bench-").count()
    rows = []
    for i in range(start, start + n):
        policy = policy_row(i, rng, nodes, park, today)
        assert not matching.validate(policy.conditions), policy.conditions
        rows.append(policy)
    Policy.objects.bulk_create(rows, batch_size=500)
    return len(rows)


# Command line -------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="the quick sizes (10,000 projects)")
    parser.add_argument("--sizes", default="", help="the sizes as JSON (bench/city.py passes them)")
    parser.add_argument("--stats-out", default="", help="write the counts and timings here (JSON)")
    parser.add_argument("--migrate", action="store_true", help="migrate the database first")
    args = parser.parse_args()
    sizes = Sizes(**json.loads(args.sizes)) if args.sizes else (QUICK if args.quick else FULL)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yimatong.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    if args.migrate:
        call_command("migrate", verbosity=0)
    print(
        f"database: {connection.vendor} {connection.settings_dict['NAME']}; sizes {dataclasses.asdict(sizes)}",
        flush=True,
    )
    stats = generate(sizes)
    for line in stats.lines():
        print(line, flush=True)
    if args.stats_out:
        Path(args.stats_out).write_text(json.dumps(dataclasses.asdict(stats), ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
