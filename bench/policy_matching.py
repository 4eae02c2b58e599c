"""Benchmark: policy matching (政策匹配) at park scale, 20,000 enterprises x 500 policies.

Builds a throw-away database (a SQLite file in a temp dir, or, when DATABASE_URL points at
PostgreSQL, a database ``ymt_bench_matching`` on that server, or BENCH_DB_NAME, dropped at the
end), migrates it
and loads, with bulk_create:

- the demo park's 1+3+N industry chain (yimatong.demo.park.CHAIN, 27 nodes), the GB/T 4754
  industry codes and the districts of the migrations, one service-department user (the actor of
  the profile changes); no enterprise users, so a match that is met finds nobody to notify;
- --enterprises (20,000) resident organizations, each with an enterprise profile: revenue
  lognormal around 5,000万元, R&D 0–20% of revenue (mostly 2–8%), employees, patents, 科技型中小企业;
  ~20% of each fact unknown (None), 5% of the enterprises with no profile at all; ~15% 高新技术企业,
  ~6% 专精特新, 规上 mostly when revenue ≥ 2,000万;
- --policies (500) published policies with random valid condition trees (depth ≤ 3, 2–6
  leaves; ``all``/``any`` groups, a few ``not``): revenue and employee bands, R&D ratio (plain or
  tiered by revenue, as the demo's 研发投入后补助), years registered, registered capital, patents,
  chain ``within``, certifications ``has``, ``is_above_scale``, industry code prefixes, district.
  Every tree passes matching.validate.

On PostgreSQL the tables are ANALYZEd after the load (what autovacuum does within a minute).
Then it measures, in-process:

1. full recompute: ``policy_actions.rematch(Policy.objects.current(), residents())`` on an empty
   PolicyMatch table ("cold": every pair written is an insert and every met pair goes through
   政策直达), then once more ("warm": the same pairs, every row an upsert on conflict, nothing
   new to notify). Wall time, rows written, pairs evaluated per second, peak memory (the
   process's peak RSS, VmHWM, reset before the call), SQL queries and their time, the time in
   ``_tell_new_matches`` (wrapped here to time it; the app is not changed), and the share of
   pairs met / one condition short / unknown. When the evaluation alone would take longer than
   --limit-minutes (10) for the full size, only the first --sample (5,000) enterprises are
   matched against all policies and the time, rows and queries are EXTRAPOLATED linearly to the
   full size (said so in the output); --full always runs the full size.
2. one enterprise after a profile change: ``policy_actions.save_profile(...)`` (which calls
   match_enterprise: all current policies against that enterprise), --profile-runs (20)
   enterprises of the matched set, revenue and R&D changed; p50 / p95 / max and queries.
3. one policy after an edit: the tree changed (a threshold loosened, version + 1, saved), then
   ``policy_actions.match_policy(policy)`` against every resident; --policy-runs (3) policies;
   median / max and queries.

Each time is wall time, with the CPU time of the benchmark's own process beside it (on SQLite
the database's work is in it; on PostgreSQL the server's is not): on a shared host the wall time
grows with the host's load, which is printed too.

--cprofile additionally profiles a cold ``rematch`` of all policies x 1,000 enterprises (their
stored matches removed first) and prints the top functions by own time and by cumulative time.

Prints a table and each figure's ratio to bench/baseline.json (key
``policy_matching/<vendor>``; above 1 is slower); --save stores the current figures (not with
--quick, nor with other sizes than the defaults).

    .venv/bin/python bench/policy_matching.py [--enterprises 20000] [--policies 500] [--full]
        [--sample 5000] [--limit-minutes 10] [--profile-runs 20] [--policy-runs 3] [--no-warm]
        [--cprofile] [--seed 1] [--quick] [--save]

--quick: 2,000 enterprises x 100 policies, 10 profile changes, one policy edit; saves nothing.
``make bench-matching`` runs it on SQLite, then on PostgreSQL (BENCH_DATABASE_URL, default
postgres@127.0.0.1:5432).

Everything (the PostgreSQL database, the temp dir) is removed at the end, on an error or Ctrl-C
too.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import gc
import io
import json
import math
import os
import pstats
import random
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.benchenv import BASELINE, BenchEnv, _signals_ignored  # noqa: E402

BENCH_DB = os.environ.get(
    "BENCH_DB_NAME", "ymt_bench_matching"
)  # not benchenv's bench_yimatong: another benchmark may be using it
KEY = "policy_matching"
DEFAULT_ENTERPRISES, DEFAULT_POLICIES = 20_000, 500


class MatchingBenchEnv(BenchEnv):
    """BenchEnv with a PostgreSQL database of its own (``ymt_bench_matching``)."""

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

WORDS = "智翔金泰百亚宏冠九彩珂蓝渝康巴渝长嘉核睿肽达赛维联拓本草明析安瑞药谷爱睿慧康启明源峰华晟瑞康禾泰锦程楚康粤创"
KINDS = ["生物科技", "生物制药", "医疗器械", "医药包装", "药业", "诊断技术", "细胞治疗"]


def maybe(rng: random.Random, value: Any, unknown: float = 0.2) -> Any:
    """``value``, or None (unknown) with probability ``unknown``."""
    return None if rng.random() < unknown else value


def populate(n_enterprises: int, n_policies: int, seed: int) -> dict[str, Any]:
    from django.db import connection, transaction
    from django.utils import timezone

    from yimatong.accounts.models import Department, User
    from yimatong.demo import park
    from yimatong.directory.models import ChainNode, District, IndustryCode, Organization
    from yimatong.lib.identifiers import uscc_with_check_digit
    from yimatong.lib.text import normalize_org_name, pinyin_full, pinyin_initials
    from yimatong.services import matching
    from yimatong.services.models import EnterpriseProfile, Policy

    rng = random.Random(seed)
    today = timezone.localdate()
    started = time.perf_counter()
    with transaction.atomic():
        # The demo's 1+3+N chain, parents before children as park.CHAIN lists them.
        nodes: dict[str, ChainNode] = {}
        for position, (code, name, name_en, kind, parent) in enumerate(park.CHAIN):
            nodes[code] = ChainNode.objects.create(
                code=code,
                name=name,
                name_en=name_en,
                kind=kind,
                parent=nodes[parent] if parent else None,
                position=position,
            )
        centre = Department.objects.create(
            code="service-center", name="生物城企业服务中心", is_dispatch_center=True
        )
        actor = User.objects.create(
            username="bench-service", name="基准服务专员", role=User.Role.SERVICE, department=centre
        )
        # Enterprises sit on the chain's leaves mostly, on its branches sometimes.
        leaves = [n for code, n in nodes.items() if not any(p == code for *_, p in park.CHAIN)]
        branches = [n for n in nodes.values() if n not in leaves]
        industries = list(IndustryCode.objects.filter(level=IndustryCode.Level.CLASS))
        districts = list(District.objects.all())
        park_districts = [d for d in districts if d.code in ("500113", "500112", "500108", "500105")]
        orgs = []
        for i in range(n_enterprises):
            name = (
                f"{'重庆' if i % 3 else '成都'}{WORDS[i % 40]}{WORDS[(i * 7) % 40]}{KINDS[i % 7]}{i}有限公司"
            )
            revenue_hint = rng.lognormvariate(math.log(5000), 1.3)
            orgs.append(
                Organization(
                    name=name,
                    normalized_name=normalize_org_name(name),
                    name_initials=pinyin_initials(name)[:120],
                    name_pinyin=pinyin_full(name)[:400],
                    uscc=uscc_with_check_digit(f"91500113{i:09d}"),
                    org_type=Organization.Type.RESIDENT,
                    chain_node=maybe(
                        rng, rng.choice(leaves) if rng.random() < 0.8 else rng.choice(branches), 0.1
                    ),
                    industry=maybe(rng, rng.choice(industries), 0.15),
                    district=maybe(
                        rng,
                        rng.choice(park_districts) if rng.random() < 0.85 else rng.choice(districts),
                        0.05,
                    ),
                    registered_on=maybe(rng, today - dt.timedelta(days=int(rng.expovariate(1 / 2500))), 0.1),
                    registered_capital=maybe(
                        rng, Decimal(str(round(rng.lognormvariate(math.log(1000), 1.2), 2))), 0.15
                    ),
                    # 规上 (above designated size): revenue ≥ 2,000万, with some noise.
                    is_above_scale=(revenue_hint >= 2000) != (rng.random() < 0.05),
                    is_high_tech=rng.random() < 0.15,
                    is_specialized=rng.random() < 0.06,
                )
            )
            orgs[-1].revenue_hint = revenue_hint
        Organization.objects.bulk_create(orgs, batch_size=2000)
        if orgs[0].pk is None:  # backends that do not return primary keys from bulk inserts
            pks = dict(Organization.objects.filter(org_type="resident").values_list("uscc", "pk"))
            for org in orgs:
                org.pk = pks[org.uscc]
        profiles = []
        for org in orgs:
            if rng.random() < 0.05:
                continue  # no profile at all: every profile fact unknown
            revenue = maybe(rng, Decimal(str(round(min(org.revenue_hint, 5e6), 2))))
            patents_known = rng.random() >= 0.2
            invention = int(rng.expovariate(1 / 3))
            profiles.append(
                EnterpriseProfile(
                    organization=org,
                    revenue=revenue,
                    rd_ratio=maybe(rng, Decimal(str(round(min(20.0, rng.betavariate(1.6, 4.0) * 20), 2)))),
                    employees=maybe(rng, int(rng.lognormvariate(math.log(80), 1.1)) + 1),
                    patents_invention=invention if patents_known else None,
                    patents_utility=int(rng.expovariate(1 / 8)) if patents_known else None,
                    patents_design=int(rng.expovariate(1 / 2)) if patents_known else None,
                    is_tech_sme=maybe(rng, rng.random() < 0.3),
                )
            )
        EnterpriseProfile.objects.bulk_create(profiles, batch_size=2000)
        policies = [policy_row(i, rng, nodes, park_districts, today) for i in range(n_policies)]
        for policy in policies:
            errors = matching.validate(policy.conditions)
            assert not errors, (policy.conditions, errors)
        Policy.objects.bulk_create(policies, batch_size=500)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    leaves_per_policy = [count_leaves(p.conditions) for p in policies]
    return {
        "actor": actor,
        "seconds": time.perf_counter() - started,
        "profiles": len(profiles),
        "leaves": statistics.mean(leaves_per_policy),
        "depth": max(tree_depth(p.conditions) for p in policies),
        "nodes": len(nodes),
    }


# What a policy targets (who it is for) and the bars it sets, with their draw weights.
TARGETS = {"chain": 12, "cert": 5, "industry": 2, "district": 1}
BARS = {
    "revenue_min": 8,
    "revenue_max": 3,
    "rd": 5,
    "rd_tiered": 5,
    "employees_min": 3,
    "employees_max": 2,
    "years_min": 5,
    "years_max": 2,
    "capital": 3,
    "patent_score": 3,
    "invention": 3,
    "above_scale": 4,
    "cert": 3,
}


def draw(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def leaf(rng: random.Random, kind: str, nodes: dict[str, Any], districts: list[Any]) -> dict:
    """One condition of ``kind``, with a threshold drawn from what real park policies ask."""
    if kind == "revenue_min":
        return {"fact": "revenue", "op": ">=", "value": rng.choice([1000, 2000, 2000, 5000, 10000])}
    if kind == "revenue_max":
        return {"fact": "revenue", "op": "<", "value": rng.choice([5000, 10000, 20000, 40000])}
    if kind == "rd":
        return {"fact": "rd_ratio", "op": ">=", "value": rng.choice([2, 3, 3, 4, 5, 6])}
    if kind == "rd_tiered":
        top = rng.choice([4, 5, 5, 6])
        return {
            "fact": "rd_ratio",
            "op": ">=",
            "by": "revenue",
            "tiers": [[0, top], [5000, top - 1], [20000, top - 2]],
        }
    if kind == "employees_min":
        return {"fact": "employees", "op": ">=", "value": rng.choice([10, 20, 50, 100])}
    if kind == "employees_max":
        return {"fact": "employees", "op": "<=", "value": rng.choice([300, 500, 1000])}
    if kind == "years_min":
        return {"fact": "years_registered", "op": ">=", "value": rng.choice([1, 2, 3, 5])}
    if kind == "years_max":
        return {"fact": "years_registered", "op": "<=", "value": rng.choice([3, 5, 8])}
    if kind == "capital":
        return {"fact": "registered_capital", "op": ">=", "value": rng.choice([100, 200, 500, 1000])}
    if kind == "patent_score":
        return {"fact": "patent_score", "op": ">=", "value": rng.choice([10, 20, 30, 50])}
    if kind == "invention":
        return {"fact": "patents_invention", "op": ">=", "value": rng.choice([1, 1, 2, 3, 5])}
    if kind == "chain":
        # Mostly the four roots (生物药, 化学药, 现代中药, 医疗器械/平台), sometimes a branch or a leaf.
        roots = [code for code, n in nodes.items() if n.parent_id is None]
        code = rng.choice(roots) if rng.random() < 0.5 else rng.choice(list(nodes))
        return {"fact": "chain_node", "op": "within", "value": code}
    if kind == "cert":
        value = rng.choices(["high_tech", "specialized", "tech_sme"], weights=[3, 1, 3])[0]
        return {"fact": "certifications", "op": "has", "value": value}
    if kind == "above_scale":
        return {"fact": "is_above_scale", "op": "is", "value": rng.random() < 0.7}
    if kind == "industry":
        prefix = rng.choice(["27", "27", "276", "358", "734"])  # 医药制造, 生物药品, 医疗器械, 医学研究
        return {"fact": "industry_code", "op": "prefix", "value": prefix}
    # Not ``in`` with a list of districts: matching.validate raises TypeError on a list value
    # (its table of checks evaluates ``value in CERTIFICATIONS`` for every kind).
    return {"fact": "district", "op": "==", "value": rng.choice(districts).code}


def condition_tree(rng: random.Random, nodes: dict, districts: list) -> dict:
    """2–6 leaves, depth ≤ 3 (the root group is level 1). Most policies are ``all`` of a target
    (a part of the chain, a certification, an industry, a district) and bars (revenue, R&D,
    size, age, patents, 规上), sometimes with two bars as alternatives in a nested ``any`` and a
    negated bar; one in twelve is 专精特新 or another certification with bars (as the demo's 专精特新
    or 科技型中小企业 with patents)."""
    n = rng.choices([2, 3, 4, 5, 6], weights=[2, 3, 4, 3, 2])[0]
    if rng.random() < 1 / 12:
        first, second = "specialized", rng.choice(["high_tech", "tech_sme"])
        bars = [leaf(rng, draw(rng, BARS), nodes, districts) for _ in range(max(1, n - 2))]
        return {
            "any": [
                {"fact": "certifications", "op": "has", "value": first},
                {"all": [{"fact": "certifications", "op": "has", "value": second}, *bars]},
            ]
        }
    conditions = [leaf(rng, draw(rng, TARGETS), nodes, districts)]
    conditions += [leaf(rng, draw(rng, BARS), nodes, districts) for _ in range(n - 1)]
    if n >= 3 and rng.random() < 0.08:
        conditions[-1] = {"not": conditions[-1]}  # e.g. not yet 高新技术企业, not 规上
    elif n >= 3 and rng.random() < 0.35:
        size = rng.randint(2, min(3, n - 1))
        inner, conditions = conditions[-size:], conditions[:-size]
        conditions.append({"any": inner})  # e.g. R&D ≥ 5% or ≥ 3 invention patents
    return {"all": conditions}


def policy_row(i: int, rng: random.Random, nodes: dict, districts: list, today: dt.date) -> Any:
    from yimatong.services.models import Policy

    amount = Decimal(rng.choice([5, 10, 20, 30, 50, 100, 200]))
    valid = rng.random()
    return Policy(
        code=f"bench-{i:04d}",
        title=f"基准政策 {i:04d}（示例）",
        issuer="重庆国际生物城管委会（示例）",
        benefit=rng.choice(Policy.Benefit.values),
        amount=amount,
        amount_note=f"最高 {amount} 万元",
        mode=rng.choices(Policy.Mode.values, weights=[6, 3, 1])[0],
        conditions=condition_tree(rng, nodes, districts),
        valid_from=today - dt.timedelta(days=rng.randint(0, 700)) if valid < 0.7 else None,
        valid_to=today + dt.timedelta(days=rng.randint(30, 900)) if valid < 0.5 else None,
        is_published=True,
    )


def count_leaves(node: dict) -> int:
    if "all" in node or "any" in node:
        return sum(count_leaves(c) for c in node.get("all") or node.get("any"))
    if "not" in node:
        return count_leaves(node["not"])
    return 1


def tree_depth(node: dict) -> int:
    if "all" in node or "any" in node:
        return 1 + max(tree_depth(c) for c in node.get("all") or node.get("any"))
    if "not" in node:
        return 1 + tree_depth(node["not"])
    return 1


# Measuring -------------------------------------------------------------------------------------


class SqlMeter:
    """Counts the queries Django executes and the time spent in execute() (on SQLite a large
    SELECT's rows are stepped through later, as they are fetched, so that part is not counted)."""

    def __init__(self) -> None:
        self.count = 0
        self.seconds = 0.0
        self.kinds: Counter[str] = Counter()

    def __call__(self, execute: Callable, sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started
            self.count += 1
            self.kinds[sql.split(None, 1)[0].upper()] += 1


class NotifyTimer:
    """Wraps policy_actions._tell_new_matches (the module attribute rematch looks up) to time it,
    with the queries it runs (counted by ``meter``)."""

    def __init__(self, meter: SqlMeter) -> None:
        from yimatong.services import policy_actions

        self.module = policy_actions
        self.original = policy_actions._tell_new_matches
        self.meter = meter
        self.seconds = 0.0
        self.sql_seconds = 0.0
        self.queries = 0

    def __enter__(self) -> NotifyTimer:
        def timed(*args: Any, **kwargs: Any) -> Any:
            started, sql, count = time.perf_counter(), self.meter.seconds, self.meter.count
            try:
                return self.original(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started
                self.sql_seconds += self.meter.seconds - sql
                self.queries += self.meter.count - count

        self.module._tell_new_matches = timed
        return self

    def __exit__(self, *exc: Any) -> None:
        self.module._tell_new_matches = self.original


class CopyMeter:
    """Counts each COPY of rows policy_actions runs (PostgreSQL; psycopg's copy() is not seen
    by Django's execute wrappers) as a query of ``meter``, kind COPY, with its time."""

    def __init__(self, meter: SqlMeter) -> None:
        from yimatong.services import policy_actions

        self.module = policy_actions
        self.original = policy_actions.copy_rows
        self.meter = meter

    def __enter__(self) -> CopyMeter:
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return self.original(*args, **kwargs)
            finally:
                self.meter.seconds += time.perf_counter() - started
                self.meter.count += 1
                self.meter.kinds["COPY"] += 1

        self.module.copy_rows = timed
        return self

    def __exit__(self, *exc: Any) -> None:
        self.module.copy_rows = self.original


def rss_kib(field_name: str) -> int:
    """VmRSS or VmHWM (peak) of this process, in KiB (0 where /proc is not there)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def reset_peak_rss() -> bool:
    """Linux resets VmHWM to the current RSS on writing 5 to clear_refs."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


@dataclass
class Run:
    seconds: float
    rows: int
    queries: int
    sql_seconds: float
    notify_seconds: float
    notify_sql_seconds: float
    notify_queries: int
    rss_before_mib: float
    peak_mib: float
    load: tuple[float, float] = (0.0, 0.0)  # the host's 1-minute load average before and after
    cpu_seconds: float = 0.0  # CPU time of this process (not the PostgreSQL server's)
    server_cpu_seconds: float | None = None  # CPU time of this connection's PostgreSQL backend
    kinds: dict[str, int] = field(default_factory=dict)


def server_cpu() -> float | None:
    """CPU seconds of this connection's PostgreSQL backend so far, read from /proc when the
    server runs on this host (None on SQLite, whose work is in this process's CPU time)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def measured(fn: Callable[[], int]) -> Run:
    from django.db import connection

    gc.collect()
    before = rss_kib("VmRSS")
    peak_reset = reset_peak_rss()
    meter = SqlMeter()
    load_before = os.getloadavg()[0]
    server_before = server_cpu()
    with NotifyTimer(meter) as notify, CopyMeter(meter), connection.execute_wrapper(meter):
        started, cpu = time.perf_counter(), time.process_time()
        rows = fn()
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    server_after = server_cpu()
    peak = rss_kib("VmHWM") if peak_reset else 0
    return Run(
        seconds=seconds,
        rows=rows,
        queries=meter.count,
        sql_seconds=meter.seconds,
        notify_seconds=notify.seconds,
        notify_sql_seconds=notify.sql_seconds,
        notify_queries=notify.queries,
        rss_before_mib=before / 1024,
        peak_mib=peak / 1024,
        load=(load_before, os.getloadavg()[0]),
        kinds=dict(meter.kinds),
        cpu_seconds=cpu,
        server_cpu_seconds=None
        if server_before is None or server_after is None
        else server_after - server_before,
    )


def match_shares() -> dict[str, int]:
    """Stored pairs by status; an ``unmet`` row is one condition short."""
    from django.db.models import Count

    from yimatong.services.models import PolicyMatch

    counts = dict(PolicyMatch.objects.values_list("status").annotate(n=Count("pk")).order_by())
    return {
        "met": counts.get("met", 0),
        "one short": counts.get("unmet", 0),
        "unknown": counts.get("unknown", 0),
    }


def preflight(n: int) -> float:
    """Seconds per pair of the evaluation alone (nothing read from or written to the match
    table): every resident's facts read as columns (policy_actions.facts_of), then the first
    ``n`` current policies evaluated over all of them at once with the texts of every kept pair
    (matching.evaluate_columns and kept_outcomes, as rematch runs them)."""
    from yimatong.services import matching, policy_actions
    from yimatong.services.models import Policy

    policies = list(Policy.objects.current().order_by("pk")[:n])
    started = time.perf_counter()
    paths = policy_actions.chain_paths()
    _ids, facts = policy_actions.facts_of(policy_actions.residents())
    columns = matching.Columns([matching.prepare(one) for one in facts])
    for policy in policies:
        tree = matching.Compiled(policy.conditions, paths)
        matching.kept_outcomes(tree, matching.evaluate_columns(tree, columns), columns)
    return (time.perf_counter() - started) / (columns.size * len(policies))


def recompute(limit: int | None) -> Run:
    from yimatong.services import policy_actions
    from yimatong.services.models import Policy

    def run() -> int:
        residents = policy_actions.residents()
        if limit is not None:
            residents = residents.order_by("pk")[:limit]
        return policy_actions.rematch(Policy.objects.current(), residents)

    return measured(run)


def profile_changes(
    actor: Any, runs: int, pool: int, rng: random.Random
) -> tuple[list[float], list[int], int]:
    """save_profile on ``runs`` enterprises among the first ``pool`` (those with stored matches):
    revenue and R&D ratio changed, as an enterprise updating its figures for a new year."""
    from django.db import connection

    from yimatong.directory.models import Organization
    from yimatong.services import policy_actions
    from yimatong.services.models import EnterpriseProfile, PolicyMatch

    pks = list(
        Organization.objects.filter(org_type="resident").order_by("pk").values_list("pk", flat=True)[:pool]
    )
    chosen = rng.sample(pks, runs)
    times, queries, cpus = [], [], []
    before = PolicyMatch.objects.count()
    for pk in chosen:
        org = Organization.objects.get(pk=pk)
        profile = EnterpriseProfile.objects.filter(organization=org).first()
        revenue = profile.revenue if profile and profile.revenue is not None else Decimal(3000)
        data = {
            "revenue": (revenue * Decimal(str(rng.uniform(0.8, 1.6)))).quantize(Decimal("0.01")),
            "rd_ratio": Decimal(str(round(rng.uniform(1, 12), 2))),
        }
        meter = SqlMeter()
        with connection.execute_wrapper(meter):
            started, cpu = time.perf_counter(), time.process_time()
            policy_actions.save_profile(actor=actor, organization=org, data=data)
            times.append(time.perf_counter() - started)
            cpus.append(time.process_time() - cpu)
        queries.append(meter.count)
    return times, queries, PolicyMatch.objects.count() - before, cpus


def policy_edits(runs: int, rng: random.Random) -> tuple[list[Run], list[str]]:
    """A threshold loosened (or a condition dropped), version + 1, saved as save_policy saves it
    (but without the task: match_policy is called here, and timed)."""
    from yimatong.services import matching, policy_actions
    from yimatong.services.models import Policy

    results, notes = [], []
    candidates = list(Policy.objects.current().order_by("pk"))
    for policy in rng.sample(candidates, runs):
        tree = json.loads(json.dumps(policy.conditions))
        what = loosen(tree)
        assert not matching.validate(tree), tree
        policy.conditions = tree
        policy.version += 1
        policy.save()
        results.append(measured(lambda policy=policy: policy_actions.match_policy(policy)))
        notes.append(f"{policy.code}: {what}")
    return results, notes


def loosen(tree: dict) -> str:
    """Lower the first numeric ``>=`` threshold, or drop the last condition of a group."""

    def walk(node: dict) -> str | None:
        for child in node.get("all") or node.get("any") or []:
            if "value" in child and child.get("op") == ">=" and isinstance(child["value"], int):
                old = child["value"]
                child["value"] = max(0, old // 2)
                return f"{child['fact']} >= {old} → {child['value']}"
            if "all" in child or "any" in child:
                found = walk(child)
                if found:
                    return found
        return None

    found = walk(tree)
    if found:
        return found
    group = tree.get("all") or tree.get("any")
    if len(group) > 1:
        dropped = group.pop()
        return f"dropped a condition on {dropped.get('fact') or '/'.join(dropped)}"
    return "unchanged tree, version + 1"


def cprofile_run(n: int, top: int) -> str:
    """A cold rematch of every current policy x the last ``n`` residents, under cProfile."""
    from yimatong.services import policy_actions
    from yimatong.services.models import Policy, PolicyMatch

    orgs = list(policy_actions.residents().order_by("-pk")[:n])
    PolicyMatch.objects.filter(organization__in=[o.pk for o in orgs]).delete()
    policies = list(Policy.objects.current())
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    rows = policy_actions.rematch(policies, orgs)
    profiler.disable()
    seconds = time.perf_counter() - started
    out = io.StringIO()
    out.write(
        f"cProfile: rematch({len(policies)} policies, {len(orgs)} enterprises), cold: {rows} rows,"
        f" {seconds:.1f} s under the profiler\n"
    )
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    return out.getvalue()


# Report ----------------------------------------------------------------------------------------


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def show_run(label: str, run: Run, pairs: int, scale: float) -> None:
    sql = ", ".join(f"{k} {v:,}" for k, v in sorted(run.kinds.items(), key=lambda kv: -kv[1]))
    python = run.seconds - run.notify_seconds - (run.sql_seconds - run.notify_sql_seconds)
    server = (
        f", of its PostgreSQL backend {run.server_cpu_seconds:.1f} s"
        if run.server_cpu_seconds is not None
        else ""
    )
    print(
        f"  {label}: {run.seconds:.1f} s, {run.rows:,} rows written, {pairs / run.seconds:,.0f} pairs/s"
        f" (host load average {run.load[0]:.1f} → {run.load[1]:.1f}; CPU of this process {run.cpu_seconds:.1f} s{server})\n"
        f"    queries: {run.queries:,} ({sql}), {run.sql_seconds:.1f} s in execute()\n"
        f"    time: _tell_new_matches {run.notify_seconds:.1f} s ({run.notify_queries:,} of the queries,"
        f" {run.notify_sql_seconds:.1f} s of execute()); the other queries {run.sql_seconds - run.notify_sql_seconds:.1f} s;"
        f" Python around them (loading, facts, evaluation, rows, building the SQL) {python:.1f} s\n"
        f"    memory: RSS {run.rss_before_mib:,.0f} MiB before, peak {run.peak_mib:,.0f} MiB"
        f" (+{run.peak_mib - run.rss_before_mib:,.0f} MiB)"
    )
    if scale != 1:
        print(
            f"    EXTRAPOLATED x{scale:g} to the full size: {run.seconds * scale:,.0f} s"
            f" ({run.seconds * scale / 60:.1f} min), {run.rows * scale:,.0f} rows, {run.queries * scale:,.0f} queries,"
            f" _tell_new_matches {run.notify_seconds * scale:,.0f} s, peak RSS"
            f" ~{run.rss_before_mib + (run.peak_mib - run.rss_before_mib) * scale:,.0f} MiB (linear, a guess)"
        )


def compare(figures: dict[str, Any], base: dict[str, Any]) -> None:
    print(f"\n{'figure':58} {'now':>12} {'baseline':>12} {'ratio':>7}")
    for name, value in figures.items():
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            continue
        ref = base.get(name)
        ratio = f"{value / ref:7.2f}" if isinstance(ref, (int, float)) and ref else "      —"
        print(f"{name:58} {value:12,.2f} {ref if ref is not None else '—':>12} {ratio}")
    print("(ratio above 1: larger than the baseline — slower for times, faster for pairs/s)")
    if base and base.get("measured enterprises") != figures.get("measured enterprises"):
        print(
            f"note: the baseline measured {base.get('measured enterprises')} enterprises in the full recompute,"
            f" this run {figures.get('measured enterprises')}; its recompute figures are extrapolated differently"
        )


def save(key: str, figures: dict[str, Any]) -> None:
    # Re-read right before writing: other benchmarks add their own keys to the same file.
    baseline = json.loads(BASELINE.read_text()) if BASELINE.exists() else {}
    baseline[key] = figures
    BASELINE.write_text(json.dumps(baseline, indent=2, ensure_ascii=False) + "\n")
    print(f"baseline saved for {key}")


def code_version() -> str:
    """The commit, and the matching code's files changed in the working tree (figures taken on
    uncommitted code are not comparable with a baseline of the commit)."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "yimatong"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split("\n")
    except (OSError, subprocess.CalledProcessError):
        return "unknown (no git)"
    changed = [line[3:] for line in dirty if line.strip()]
    return head + (f" with uncommitted changes to {', '.join(changed)}" if changed else "")


# Main ------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--enterprises", type=int, default=DEFAULT_ENTERPRISES)
    parser.add_argument("--policies", type=int, default=DEFAULT_POLICIES)
    parser.add_argument("--full", action="store_true", help="always recompute the full size")
    parser.add_argument("--sample", type=int, default=5000, help="enterprises matched when not the full size")
    parser.add_argument(
        "--limit-minutes",
        type=float,
        default=10,
        help="recompute a --sample and extrapolate when the evaluation alone would take longer",
    )
    parser.add_argument("--profile-runs", type=int, default=20, help="profile changes timed")
    parser.add_argument("--policy-runs", type=int, default=3, help="policy edits timed")
    parser.add_argument("--no-warm", action="store_true", help="skip the second (warm) full recompute")
    parser.add_argument("--cprofile", action="store_true", help="profile a cold 1,000-enterprise rematch")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="2,000 x 100, not saved as a baseline")
    parser.add_argument("--save", action="store_true", help="store these figures as the baseline")
    args = parser.parse_args()
    if args.quick:
        args.enterprises, args.policies = min(args.enterprises, 2000), min(args.policies, 100)
        args.profile_runs, args.policy_runs = min(args.profile_runs, 10), min(args.policy_runs, 1)
    defaults = (args.enterprises, args.policies) == (DEFAULT_ENTERPRISES, DEFAULT_POLICIES)

    with MatchingBenchEnv(env="test") as bench:
        bench.setup_django()
        from django.db import connection
        from django.utils import translation

        from yimatong.services.models import Policy

        translation.activate("zh-hans")
        vendor = connection.vendor
        rng = random.Random(args.seed + 1)
        print(f"database: {vendor}" + (f" ({BENCH_DB})" if vendor == "postgresql" else f" ({bench.tmp})"))
        print(f"code: {code_version()}")
        loaded = populate(args.enterprises, args.policies, args.seed)
        n_policies = Policy.objects.current().count()
        pairs = args.enterprises * n_policies
        print(
            f"loaded in {loaded['seconds']:.1f} s: {args.enterprises:,} residents ({loaded['profiles']:,} with a"
            f" profile), {n_policies} current published policies ({loaded['leaves']:.1f} leaves on average,"
            f" depth ≤ {loaded['depth']}), a chain of {loaded['nodes']} nodes; {pairs:,} pairs"
            + ("; ANALYZEd" if vendor == "postgresql" else ""),
            flush=True,
        )

        per_pair = preflight(min(20, args.policies))
        projected = per_pair * pairs
        sample = None
        if not args.full and projected > args.limit_minutes * 60 and args.sample < args.enterprises:
            sample = args.sample
        print(
            f"pre-flight: the facts as columns + 20 trees evaluated column-wise with their texts alone {per_pair * 1e6:.2f} µs a pair → {projected:,.0f} s"
            f" ({projected / 60:.1f} min) for the full size, before any write"
            + (
                f"; over the {args.limit_minutes:g}-minute limit, so the recompute runs on {sample:,}"
                f" enterprises x {n_policies} policies and is EXTRAPOLATED x{args.enterprises / sample:g}"
                if sample
                else "; the recompute runs on the full size"
            ),
            flush=True,
        )
        measured_n = sample or args.enterprises
        measured_pairs = measured_n * n_policies
        scale = args.enterprises / measured_n

        # 1. Full recompute, cold then warm.
        print(f"\n1. full recompute: rematch({n_policies} policies, {measured_n:,} residents)", flush=True)
        cold = recompute(sample)
        shares = match_shares()
        show_run("cold (empty table, every met pair notified)", cold, measured_pairs, scale)
        stored = sum(shares.values())
        print(
            f"    pairs: {shares['met']:,} met ({shares['met'] / measured_pairs:.2%}, each would be notified;"
            f" no enterprise users here, so notify() finds nobody), {shares['one short']:,} one condition"
            f" short ({shares['one short'] / measured_pairs:.2%}), {shares['unknown']:,} unknown"
            f" ({shares['unknown'] / measured_pairs:.2%}); {measured_pairs - stored:,} plainly unmet"
            f" ({(measured_pairs - stored) / measured_pairs:.2%}, not stored)",
            flush=True,
        )
        warm = None
        if not args.no_warm:
            warm = recompute(sample)
            show_run(
                "warm (the same pairs stored, all upserts, nothing new to notify)",
                warm,
                measured_pairs,
                scale,
            )

        # 2. One enterprise after a profile change.
        runs = min(args.profile_runs, measured_n)
        print(
            f"\n2. save_profile → match_enterprise ({n_policies} policies x 1 enterprise), {runs} enterprises",
            flush=True,
        )
        times, queries, added, cpus = profile_changes(loaded["actor"], runs, measured_n, rng)
        print(
            f"  p50 {statistics.median(times) * 1000:.0f} ms, p95 {pct(times, 0.95) * 1000:.0f} ms,"
            f" max {max(times) * 1000:.0f} ms (CPU of this process: p50 {statistics.median(cpus) * 1000:.0f} ms,"
            f" p95 {pct(cpus, 0.95) * 1000:.0f} ms; host load average {os.getloadavg()[0]:.1f});"
            f" queries per change: median {statistics.median(queries):.0f},"
            f" max {max(queries)}; stored pairs changed by {added:+d}",
            flush=True,
        )

        # 3. One policy after an edit.
        print(f"\n3. policy edited → match_policy (1 policy x {args.enterprises:,} residents)", flush=True)
        edits, notes = policy_edits(min(args.policy_runs, n_policies), rng)
        for run, note in zip(edits, notes, strict=True):
            show_run(note, run, args.enterprises, 1)
        if sample:
            print(
                f"  (residents beyond the first {sample:,} had no stored pairs yet, so their pairs are"
                " inserts here, not updates)"
            )

        if args.cprofile:
            print()
            print(cprofile_run(min(1000, args.enterprises), 25))

    recompute_s = cold.seconds * scale
    figures: dict[str, Any] = {
        "enterprises": args.enterprises,
        "policies": n_policies,
        "measured enterprises": measured_n,
        "full recompute cold (s)": round(recompute_s, 1),
        "full recompute cold, CPU of this process (s)": round(cold.cpu_seconds * scale, 1),
        "full recompute cold, CPU of the PostgreSQL backend (s)": round(cold.server_cpu_seconds * scale, 1)
        if cold.server_cpu_seconds is not None
        else None,
        "full recompute cold, pairs/s": round(pairs / recompute_s),
        "full recompute cold, rows written": round(cold.rows * scale),
        "full recompute cold, queries": round(cold.queries * scale),
        "full recompute cold, _tell_new_matches (s)": round(cold.notify_seconds * scale, 1),
        "full recompute cold, peak RSS of the measured run (MiB)": round(cold.peak_mib),
        "met pairs (would be notified)": round(shares["met"] * scale),
        "one-short pairs": round(shares["one short"] * scale),
        "unknown pairs": round(shares["unknown"] * scale),
        "save_profile p50 (ms)": round(statistics.median(times) * 1000, 1),
        "save_profile p95 (ms)": round(pct(times, 0.95) * 1000, 1),
        "save_profile p95, CPU of this process (ms)": round(pct(cpus, 0.95) * 1000, 1),
        "match_policy median (s)": round(statistics.median(r.seconds for r in edits), 2),
        "match_policy median, CPU of the PostgreSQL backend (s)": round(
            statistics.median(r.server_cpu_seconds for r in edits), 2
        )
        if edits[0].server_cpu_seconds is not None
        else None,
        "match_policy median, CPU of this process (s)": round(
            statistics.median(r.cpu_seconds for r in edits), 2
        ),
        "pre-flight evaluation (µs/pair)": round(per_pair * 1e6, 2),
    }
    if warm:
        figures["full recompute warm (s)"] = round(warm.seconds * scale, 1)
        figures["full recompute warm, CPU of this process (s)"] = round(warm.cpu_seconds * scale, 1)
        figures["full recompute warm, peak RSS of the measured run (MiB)"] = round(warm.peak_mib)
    key = f"{KEY}/{vendor}"
    baseline = json.loads(BASELINE.read_text()) if BASELINE.exists() else {}
    print(
        f"\nsummary ({vendor}, {args.enterprises:,} enterprises x {n_policies} policies"
        + (f"; recompute figures EXTRAPOLATED from {measured_n:,} enterprises" if sample else "")
        + f"; host: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f})"
    )
    compare(figures, baseline.get(key, {}))
    if args.save:
        if args.quick or not defaults:
            print("not saved: --save stores only full-size runs (no --quick, default sizes)")
        else:
            save(key, figures)


if __name__ == "__main__":
    main()
