"""Benchmark: the pages and calls people open first, at city size, through gunicorn over HTTP.

The data (bench/city_data.py): the demo park, 100,000 projects with ~1M events over five years,
500 enterprises x 5 years of monthly reports (bench/cockpit.py's generator), 100,000 demands with
their history (bench/demand_queue.py's), a lead pool of 40,000 leads, 20,000 contacts, 300 WeChat
channel codes with 30,000 followers, 500 policies. It is generated ONCE and kept:

- PostgreSQL: in a database ``<prefix>_cache_<key>``; each run gets ``<prefix>_run`` made with
  ``CREATE DATABASE … TEMPLATE`` (seconds), dropped at the end;
- SQLite: in ``var/bench-cache/city-<key>.sqlite3``, copied to a temp dir for each run.

``<prefix>`` is BENCH_DB_NAME (default ``ymt_city``). ``<key>`` hashes the generators' sources
(bench/city_data.py and the generators it calls, yimatong/demo/) and the sizes, so a changed
generator regenerates (a new migration does not: the copy is migrated); ``--regenerate`` forces it. Older
caches of the same prefix are removed when a new one is made. How long generation took is kept
beside the cache and printed (and stored with the baseline).

After the copy: ``migrate``, then POST_RESTORE (the steps a restored copy needs before it is
served: the investment rollups rebuilt, each demand's office hours counted), each timed.

Then, in-process through Django's test client, each page and call once after a warm-up: its SQL
queries (counted by an execute wrapper), their time, and the query shapes run more than once in
that request: ``per-row`` when with different parameters (one query per row: N+1), ``repeated``
when the same reading is done again. A request still running after --inprocess-seconds (120) is
stopped (the database's statement interrupted) and reported as an error.

Then gunicorn (sync workers, --workers 2 by default, --timeout 30 as gunicorn's default;
with production's configuration, yimatong/gunicorn_conf.py, and ``--preload``) serves bench/bench_settings.py (the app
plus ``/bench/floor/``, a bare view: the floor) on 127.0.0.1. The personas (leader, teamlead,
promoter, promoter2, service, landdept, stats, enterprise, admin; password ``demo``) sign in
through the login page; the API calls use bearer tokens made for them. Each page and call is
measured in two modes, the floor first and last in each:

- one request at a time (its own cost; after one warm-up request);
- --concurrency (8) clients at once (the issue's load).

Cached readings (the numbers, and the cockpit, bulletin and indicators "warm") get 4 x --workers
warm-up requests, 2 x --workers at once, before each mode (so that every worker, which has its
own cache, answers some; other items' events may have made them stale).

An item stops after --item-seconds (45) once it has its minimum (3 requests one at a time, one
per client at once). A request that gets no answer (gunicorn kills a worker past its timeout)
or any status but the expected one is an ERROR, printed loudly with its time. "After a new
event" items send an untimed POST of an activity (a new project event) before each timed GET.

Prints per item: requests, req/s, p50/p95/p99 (ms) in each mode, response size, queries (with
per-row ones), the ratio of p50 to the floor's p50 in the same mode, the issue's budget and
PASS/FAIL on p95 at --concurrency (console pages < 300 ms; API lists and search < 100 ms;
create and stage move < 60 ms; cockpit, bulletin and indicators warm < 150 ms; the first after
new events < 1 s), the ratio to bench/baseline.json (key ``city/<vendor>``), and the RSS of each
gunicorn worker after the load (budget 200 MiB) and the most seen during it. Exits with 1 when
a request failed.

    .venv/bin/python bench/city.py [--quick] [--only PATTERN ...] [--save] [--json out.json]
        [--regenerate] [--requests 15] [--concurrent-requests 40] [--concurrency 8]
        [--workers 2] [--timeout 30] [--item-seconds 45] [--no-http] [--generate-only]
    .venv/bin/python bench/city.py --markdown bench/results/city-before-postgresql.json [after.json]

--quick: 10,000 projects (~100k events), 100 enterprises x 3 years, 20,000 demands, 5,000
leads (its own cache; --tiny: a few dozen, a smoke run); --save is refused with them and with
--only. --generate-only makes the cache and stops. --markdown prints saved runs as a table
(before and after side by side). ``make bench-city`` runs it on SQLite, then on PostgreSQL.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import hashlib
import http.client
import json
import math
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
from bench.benchenv import BASELINE, BenchEnv, _signals_ignored, login, wait_until_answers  # noqa: E402
from bench.city_data import FULL, QUICK, TINY, Sizes  # noqa: E402

PREFIX = os.environ.get("BENCH_DB_NAME", "ymt_city")  # another checkout may be benchmarking
CACHE_DIR = ROOT / "var" / "bench-cache"
PASSWORD = "demo"
PERSONAS = [
    "leader",
    "teamlead",
    "promoter",
    "promoter2",
    "service",
    "landdept",
    "stats",
    "enterprise",
    "admin",
]
FLOOR = "floor: bare view /bench/floor/"
MIB = 1024 * 1024
RSS_BUDGET_MIB = 200

# What the generated data depends on: a change to any of these regenerates the cache. Migrations
# are not in the key: a restored copy is migrated forward (POST_RESTORE), so a new index or table
# does not cost a regeneration; a migration that changes what the generators write comes with a
# change to the generators, which are.
SOURCES = [
    "bench/city_data.py",
    "bench/investment_data.py",
    "bench/cockpit.py",
    "bench/demand_queue.py",
    "yimatong/demo/**/*.py",
]
# Modules the city borrows one generator from: only that function and the module's functions it
# calls (by name, transitively) are in the key, so the rest of that benchmark can change freely.
BORROWED = {"bench/policy_matching.py": "policy_row"}

# Steps a restored copy needs before it is served, run in order after ``migrate``: management
# commands as (name, args...). The generators bulk-insert rows without the actions, so the figures
# the actions keep (the investment rollups, each demand's office hours) are computed here, as an
# operator does after a bulk load.
POST_RESTORE: list[tuple[str, ...]] = [
    ("rebuild_rollups", "--clear"),
    ("recount_work_hours",),
]

# The budgets, on p95 under the load (--concurrency clients).
BUDGETS: dict[str, tuple[float | None, str]] = {
    "floor": (None, ""),
    "console": (300, "<300"),
    "api": (100, "<100"),
    "write": (60, "<60"),
    "cockpit": (150, "<150"),
    "fresh": (1000, "<1000"),
}


# The cache ----------------------------------------------------------------------------------------


def cache_key(sizes: Sizes) -> str:
    digest = hashlib.sha256()
    for pattern in SOURCES:
        for path in sorted(ROOT.glob(pattern)):
            digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    for name, root in BORROWED.items():
        digest.update(name.encode() + b"\0" + borrowed_source(ROOT / name, root).encode() + b"\0")
    digest.update(json.dumps(dataclasses.asdict(sizes), sort_keys=True).encode())
    return digest.hexdigest()[:12]


def borrowed_source(path: Path, root: str) -> str:
    """The source of function ``root`` of ``path`` and of the module's functions it calls."""
    import ast

    text = path.read_text(encoding="utf-8")
    functions = {
        node.name: node for node in ast.parse(text).body if isinstance(node, (ast.FunctionDef, ast.ClassDef))
    }
    seen: list[str] = []
    todo = [root]
    while todo:
        name = todo.pop()
        if name in seen or name not in functions:
            continue
        seen.append(name)
        todo += [n.id for n in ast.walk(functions[name]) if isinstance(n, ast.Name)]
    return "\n".join(ast.get_source_segment(text, functions[name]) or "" for name in sorted(seen))


class Store:
    """Where the generated city is kept, and how a run gets its own copy."""

    vendor = ""

    def __init__(self, key: str, tag: str):
        self.key, self.tag = key, tag  # the tag (full, quick, tiny) keeps each size's cache apart
        self.meta_path = CACHE_DIR / f"city-{self.vendor}-{tag}-{key}.json"

    def exists(self) -> bool:
        raise NotImplementedError

    def building_url(self) -> str:
        raise NotImplementedError

    def commit(self) -> None:
        """The building copy becomes the cache (only once generation succeeded)."""
        raise NotImplementedError

    def discard_building(self) -> None:
        raise NotImplementedError

    def restore(self, tmp: str) -> str:
        """A fresh copy for this run; returns its DATABASE_URL."""
        raise NotImplementedError

    def drop_run(self) -> None:
        pass

    def remove_stale(self) -> list[str]:
        raise NotImplementedError

    def meta(self) -> dict[str, Any]:
        return json.loads(self.meta_path.read_text()) if self.meta_path.exists() else {}


class SqliteStore(Store):
    vendor = "sqlite"

    def __init__(self, key: str, tag: str):
        super().__init__(key, tag)
        self.path = CACHE_DIR / f"city-{tag}-{key}.sqlite3"
        self.building = CACHE_DIR / f"city-{tag}-{key}.building.sqlite3"

    def exists(self) -> bool:
        return self.path.exists()

    def building_url(self) -> str:
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        self.discard_building()
        return f"sqlite:///{self.building}"

    def commit(self) -> None:
        import sqlite3

        with sqlite3.connect(self.building) as db:  # everything in the one file
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            db.execute("PRAGMA journal_mode=DELETE")
        self.building.replace(self.path)

    def discard_building(self) -> None:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{self.building}{suffix}").unlink(missing_ok=True)

    def restore(self, tmp: str) -> str:
        run = Path(tmp) / "city.sqlite3"
        shutil.copyfile(self.path, run)
        return f"sqlite:///{run}"

    def remove_stale(self) -> list[str]:
        removed = []
        for path in CACHE_DIR.glob(f"city-{self.tag}-*.sqlite3"):
            if path != self.path and ".building." not in path.name:
                path.unlink()
                removed.append(path.name)
        for path in CACHE_DIR.glob(f"city-sqlite-{self.tag}-*.json"):
            if path != self.meta_path:
                path.unlink()
        return removed


class PgStore(Store):
    vendor = "postgresql"

    def __init__(self, key: str, tag: str, admin_url: str):
        super().__init__(key, tag)
        self.admin_url = admin_url
        self.cache = f"{PREFIX}_cache_{tag}_{key}"
        self.building = f"{PREFIX}_building_{tag}_{key}"
        self.run = f"{PREFIX}_run"

    def _url(self, name: str) -> str:
        return urlunsplit(urlsplit(self.admin_url)._replace(path="/" + name))

    def _admin(self, *statements: str) -> list[Any]:
        import psycopg

        rows: list[Any] = []
        with psycopg.connect(self.admin_url, autocommit=True) as admin:
            for sql in statements:
                cursor = admin.execute(sql)
                if cursor.description:
                    rows.extend(cursor.fetchall())
        return rows

    def exists(self) -> bool:
        return bool(self._admin(f"SELECT 1 FROM pg_database WHERE datname = '{self.cache}'"))

    def building_url(self) -> str:
        self._admin(
            f"DROP DATABASE IF EXISTS {self.building} WITH (FORCE)", f"CREATE DATABASE {self.building}"
        )
        return self._url(self.building)

    def commit(self) -> None:
        self._admin(
            f"DROP DATABASE IF EXISTS {self.cache} WITH (FORCE)",
            f"ALTER DATABASE {self.building} RENAME TO {self.cache}",
        )

    def discard_building(self) -> None:
        self._admin(f"DROP DATABASE IF EXISTS {self.building} WITH (FORCE)")

    def restore(self, tmp: str) -> str:
        # The template must have no session; ours are closed, and the cache is ours alone.
        self._admin(
            f"DROP DATABASE IF EXISTS {self.run} WITH (FORCE)",
            f"CREATE DATABASE {self.run} TEMPLATE {self.cache}",
        )
        return self._url(self.run)

    def drop_run(self) -> None:
        self._admin(f"DROP DATABASE IF EXISTS {self.run} WITH (FORCE)")

    def remove_stale(self) -> list[str]:
        names = [
            name
            for (name,) in self._admin(
                f"SELECT datname FROM pg_database WHERE datname LIKE '{PREFIX}\\_cache\\_{self.tag}\\_%'"
            )
            if name != self.cache
        ]
        for name in names:
            self._admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        for path in CACHE_DIR.glob(f"city-postgresql-{self.tag}-*.json"):
            if path != self.meta_path:
                path.unlink()
        return names


class CityBenchEnv(BenchEnv):
    """BenchEnv whose database is a copy of the cached city (made in ``restore``), dropped at
    the end; the cache stays."""

    def __init__(self, store: Store, **kwargs: Any):
        super().__init__(**kwargs)
        self.store = store
        self.building = False

    def _create_database(self) -> None:
        os.environ["YIMATONG_ENV"] = self.env
        os.environ["YIMATONG_VAR_DIR"] = self.tmp
        os.environ["DJANGO_SETTINGS_MODULE"] = "bench.bench_settings"

    def restore(self) -> float:
        started = time.perf_counter()
        self.database_url = self.store.restore(self.tmp)
        os.environ["DATABASE_URL"] = self.database_url
        return time.perf_counter() - started

    def cleanup(self) -> None:
        super().cleanup()  # stops the server, closes Django's connections, removes the temp dir
        with _signals_ignored():
            try:
                if self.building:
                    self.store.discard_building()
                self.store.drop_run()
            except Exception as exc:
                print(f"could not drop the run's database: {exc}", file=sys.stderr)


def build_cache(store: Store, sizes: Sizes, bench: CityBenchEnv) -> dict[str, Any]:
    """Generate the city in a subprocess (a Django of its own on the building copy)."""
    bench.building = True
    url = store.building_url()
    stats_out = Path(bench.tmp) / "generation.json"
    env = {k: v for k, v in os.environ.items() if k != "DEBUG"}
    env.update(DATABASE_URL=url, DJANGO_SETTINGS_MODULE="yimatong.settings", PYTHONPATH=str(ROOT))
    command = [
        sys.executable,
        str(ROOT / "bench" / "city_data.py"),
        "--migrate",
        "--sizes",
        json.dumps(dataclasses.asdict(sizes)),
        "--stats-out",
        str(stats_out),
    ]
    print(f"generating the city into {store.vendor} (cache key {store.key}) ...", flush=True)
    started = time.perf_counter()
    subprocess.run(command, env=env, cwd=ROOT, check=True)
    seconds = time.perf_counter() - started
    stats = json.loads(stats_out.read_text())
    store.commit()
    bench.building = False
    meta = {
        "key": store.key,
        "sizes": dataclasses.asdict(sizes),
        "generation_s": round(seconds, 1),
        "counts": stats["counts"],
        "phases": stats["phases"],
        "generated_at": dt.datetime.now().isoformat(timespec="seconds"),
    }
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    store.meta_path.write_text(json.dumps(meta, ensure_ascii=False, indent=2))
    removed = store.remove_stale()
    if removed:
        print(f"removed older caches: {', '.join(removed)}", flush=True)
    return meta


def post_restore() -> list[tuple[str, float]]:
    from django.core.management import call_command

    timings = []
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    timings.append(("migrate", time.perf_counter() - started))
    for command in POST_RESTORE:
        started = time.perf_counter()
        call_command(*command)
        timings.append((" ".join(command), time.perf_counter() - started))
    return timings


# Pages and calls ----------------------------------------------------------------------------------


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes | None = None
    expect: int = 200


@dataclass
class Item:
    name: str
    persona: str  # username; "" for nobody signed in
    kind: str  # a key of BUDGETS
    path: str = ""
    method: str = "GET"
    expect: int = 200
    auth: str = "session"  # session (signed in through the login page), token (bearer) or none
    body: Callable[[int], dict[str, Any]] | None = None
    paths: Callable[[int], str] | None = None  # a path of its own for each request
    fresh: bool = False  # each timed request follows an untimed new project event
    capacity: int | None = None  # how many requests it can make in all (each stage move its own project)
    warm: bool = False  # a cached reading: warmed on every worker first, in both modes
    _n: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def remaining(self) -> int | None:
        return None if self.capacity is None else max(0, self.capacity - self._n)

    def next_index(self) -> int:
        with self._lock:
            self._n += 1
            return self._n - 1

    def request(self, creds: Credentials) -> Request:
        i = self.next_index()
        path = self.paths(i) if self.paths else self.path
        headers = {"Accept-Language": "zh-hans"}
        if self.auth == "session":
            headers["Cookie"] = creds.cookies.get(self.persona, "")
        elif self.auth == "token":
            headers["Authorization"] = f"Bearer {creds.tokens[self.persona]}"
        body = json.dumps(self.body(i)).encode() if self.body else None
        if body is not None:
            headers["Content-Type"] = "application/json"
        return Request(self.method, path, headers, body, self.expect)


@dataclass
class Credentials:
    tokens: dict[str, str]
    cookies: dict[str, str] = field(default_factory=dict)


@dataclass
class Context:
    """What the items refer to, looked up in the copy before the load."""

    year: int  # this year (the numbers)
    report_year: int  # the latest full year of monthly reports (the cockpit)
    long_project: str
    long_events: int
    promoter_project: str
    promoter_events: int
    event_project: str  # where the "new event" activities go (the promoter's)
    move_codes: list[str]
    promoter_orgs: list[str]
    promoter_chains: list[str]
    enterprise_home: str
    policy: str
    org_with_contacts: str
    major_project: str
    uscc_prefix: str
    code_prefix: str


def new_event(ctx: Context) -> Item:
    """The untimed request before each "after a new event" one: an activity on a promoter's project."""
    today = dt.date.today().isoformat()
    return Item(
        "new event",
        "promoter",
        "write",
        f"/api/v1/projects/{ctx.event_project}/activities",
        method="POST",
        expect=201,
        auth="token",
        body=lambda i: {"kind": "call", "occurred_on": today, "summary": f"压测跟进 {i}"},
    )


def items(ctx: Context) -> list[Item]:
    year, period = ctx.year, urlencode({"year": ctx.report_year, "month": 4})
    rows: list[Item] = []

    def page(name: str, persona: str, path: str, kind: str = "console", **kw: Any) -> None:
        rows.append(Item(f"{name} ({persona})", persona, kind, path, **kw))

    def api(name: str, persona: str, path: str, kind: str = "api", **kw: Any) -> None:
        rows.append(Item(f"API {name} ({persona})", persona, kind, "/api/v1" + path, auth="token", **kw))

    # Every role's home.
    for persona in PERSONAS:
        if persona == "enterprise":
            page("home → its organization", persona, "/", expect=302)
            page("enterprise's organization page", persona, ctx.enterprise_home)
        else:
            page("home", persona, "/")
    # Investment.
    filtered = urlencode({"stage": "negotiation", "chain": "biologics", "min": "1000"})
    board_filter = urlencode({"chain": "biologics", "min": "5000"})
    for persona in ("leader", "promoter"):
        page("project list", persona, "/investment/projects/")
        page("project list ?stage=&chain=&min=", persona, f"/investment/projects/?{filtered}")
    for persona in ("leader", "promoter"):
        page("board", persona, "/investment/projects/board/")
        page("board ?chain=&min=", persona, f"/investment/projects/board/?{board_filter}")
    for persona in ("promoter", "teamlead", "leader"):
        page("lead pool", persona, "/investment/leads/?tab=pool")
    page("my leads", "promoter", "/investment/leads/")
    page(f"project page, {ctx.long_events} events", "leader", f"/investment/projects/{ctx.long_project}/")
    page(
        f"project page, {ctx.promoter_events} events",
        "promoter",
        f"/investment/projects/{ctx.promoter_project}/",
    )
    for persona in ("leader", "promoter"):
        page("supervision", persona, "/investment/supervision/")
        page("major projects", persona, "/investment/major/")
    for persona in ("leader", "promoter"):
        page("numbers page, cached", persona, f"/investment/numbers/?year={year}", warm=True)
    page(
        "numbers page after a new event",
        "leader",
        f"/investment/numbers/?year={year}",
        kind="fresh",
        fresh=True,
    )
    # Services.
    queue = "/services/demands/"
    page("demands: centre ?tab=todo", "service", f"{queue}?tab=todo")
    page("demands: centre ?tab=all", "service", f"{queue}?tab=all")
    page("demands: department ?tab=todo", "landdept", f"{queue}?tab=todo")
    page("demands: department ?tab=handling", "landdept", f"{queue}?tab=handling")
    page("demands: enterprise (?tab=open)", "enterprise", queue)
    page("demands: enterprise ?tab=all", "enterprise", f"{queue}?tab=all")
    # The cockpit and the bulletin.
    page(f"cockpit {ctx.report_year}-04", "leader", f"/stats/cockpit/?{period}", kind="cockpit", warm=True)
    page(
        f"cockpit {ctx.report_year}-04 ?segment=biologics",
        "leader",
        f"/stats/cockpit/?{period}&segment=biologics",
        kind="cockpit",
        warm=True,
    )
    page("cockpit, latest period", "stats", "/stats/cockpit/", kind="cockpit", warm=True)
    page(f"规上名录 {ctx.report_year}-04 (above-scale set)", "stats", f"/stats/above-scale/?{period}")
    page(
        f"bulletin {ctx.report_year}-04",
        "leader",
        f"/stats/cockpit/bulletin/?{period}",
        kind="cockpit",
        warm=True,
    )
    page("cockpit after a new event", "leader", f"/stats/cockpit/?{period}", kind="fresh", fresh=True)
    page(
        "bulletin after a new event", "leader", f"/stats/cockpit/bulletin/?{period}", kind="fresh", fresh=True
    )
    api(
        f"indicators {ctx.report_year}-04", "leader", f"/stats/indicators?{period}", kind="cockpit", warm=True
    )
    # The console's top-bar search (organizations and contacts).
    searches = {
        "Chinese '康弘'": "康弘",
        "initials 'khsw'": "khsw",
        f"USCC prefix '{ctx.uscc_prefix}'": ctx.uscc_prefix,
        "English 'CDMO'": "CDMO",
    }
    for label, q in searches.items():
        page(f"top-bar search {label}", "promoter", f"/search/?{urlencode({'q': q})}")
    page("top-bar search Chinese '康弘'", "leader", f"/search/?{urlencode({'q': '康弘'})}")

    # The API: every list, 50 a page.
    p50 = "page_size=50"
    two = urlencode({"stage": "negotiation", "chain": "biologics"})
    for persona in ("leader", "promoter"):
        api("projects ?stage=&chain= 50/page", persona, f"/projects?{two}&{p50}")
    api("projects 50/page", "leader", f"/projects?{p50}")
    project_searches = {
        "Chinese '抗体'": "抗体",
        "initials 'ktyw'": "ktyw",
        f"code prefix '{ctx.code_prefix}'": ctx.code_prefix,
        "English 'CDMO'": "CDMO",
    }
    for label, q in project_searches.items():
        api(f"projects search {label}", "promoter", f"/projects?{urlencode({'q': q})}&{p50}")
    api("projects search Chinese '抗体'", "leader", f"/projects?{urlencode({'q': '抗体'})}&{p50}")
    api("leads pool 50/page", "promoter", f"/leads?tab=pool&{p50}")
    api("leads 50/page", "leader", f"/leads?{p50}")
    api("leads search Chinese '康弘'", "promoter", f"/leads?{urlencode({'q': '康弘'})}&{p50}")
    for persona in ("leader", "promoter"):
        api("organizations 50/page", persona, f"/organizations?{p50}")
    for label, q in searches.items():
        api(f"organizations search {label}", "promoter", f"/organizations?{urlencode({'q': q})}&{p50}")
    api("contacts 50/page", "leader", f"/contacts?{p50}")
    api("contacts search '张'", "promoter", f"/contacts?{urlencode({'q': '张'})}&{p50}")
    api("organization's contacts", "leader", f"/organizations/{ctx.org_with_contacts}/contacts")
    for persona in ("service", "landdept", "enterprise"):
        api("demands 50/page", persona, f"/demands?{p50}")
    api("demands ?status=handling 50/page", "service", f"/demands?status=handling&{p50}")
    api("demand KPIs", "service", "/demands/kpis")
    for persona in ("service", "enterprise"):
        api("policies 50/page", persona, f"/policies?{p50}")
    api("policy matches 50/page", "service", f"/policies/{ctx.policy}/matches?{p50}")
    api("my policy matches 50/page", "enterprise", f"/my/policy-matches?{p50}")
    api("applications 50/page", "service", f"/applications?{p50}")
    api("plans 50/page", "service", f"/plans?{p50}")
    api("financing needs 50/page", "service", f"/financing/needs?{p50}")
    api("WeChat codes 50/page", "leader", f"/wechat/codes?{p50}")
    api("WeChat conversations 50/page", "promoter", f"/wechat/conversations?{p50}")
    api(f"monthly reports {ctx.report_year}-04", "stats", f"/stats/reports?{period}")
    api(f"above-scale set {ctx.report_year}-04", "stats", f"/stats/above-scale?{period}")
    week = urlencode(
        {"start": (dt.date.today() - dt.timedelta(weeks=52)).isoformat(), "end": dt.date.today().isoformat()}
    )
    api("weekly activity feed, 52 weeks", "leader", f"/stats/activity?{week}")
    api(f"project events, {ctx.long_events}", "leader", f"/projects/{ctx.long_project}/events")
    api("project activities", "leader", f"/projects/{ctx.long_project}/activities")
    api("major project's milestones", "leader", f"/projects/{ctx.major_project}/milestones")
    api("major project's problems", "leader", f"/projects/{ctx.major_project}/problems")
    api("chain nodes", "promoter", "/chain-nodes")
    api("industry codes", "promoter", "/industry-codes")
    api("districts", "promoter", "/districts")
    for persona in ("leader", "promoter"):
        api("numbers, cached", persona, f"/investment/numbers?year={year}", warm=True)
    api("numbers after a new event", "leader", f"/investment/numbers?year={year}", kind="fresh", fresh=True)

    # Writes.
    orgs, chains = ctx.promoter_orgs, ctx.promoter_chains
    api(
        "create project",
        "promoter",
        "/projects",
        kind="write",
        method="POST",
        expect=201,
        body=lambda i: {
            "name": f"压测项目 {i}",
            "organization": orgs[i % len(orgs)],
            "chain_node": chains[i % len(chains)],
            "stage": "contact",
            "source_channel": "staff",
            "planned_investment": str(1000 + 37 * i),
        },
    )
    codes = ctx.move_codes

    def move_path(i: int) -> str:
        return f"/api/v1/projects/{codes[i]}/move"

    rows.append(
        Item(
            "API stage move 接洽→考察 (promoter)",
            "promoter",
            "write",
            method="POST",
            auth="token",
            paths=move_path,
            body=lambda i: {"to": "visit", "expected_stage": "contact"},
            capacity=len(codes),
        )
    )
    names = [r.name for r in rows]
    assert len(names) == len(set(names)), [n for n, c in Counter(names).items() if c > 1]
    return rows


def floor_item() -> Item:
    return Item(FLOOR, "", "floor", "/bench/floor/", auth="none")


MOVES = 600  # projects kept for the stage moves (one each)


def prepare(sizes: Sizes) -> tuple[Context, Credentials]:
    """Tokens for the personas and what the items refer to."""
    from django.db.models import Count
    from django.utils import timezone

    from yimatong.accounts.actions import create_api_token
    from yimatong.accounts.models import User
    from yimatong.directory.models import Contact, Organization
    from yimatong.investment.models import Project, ProjectEvent
    from yimatong.services.models import Policy, PolicyMatch

    users = {u.username: u for u in User.objects.filter(username__in=PERSONAS)}
    missing = set(PERSONAS) - set(users)
    if missing:
        raise SystemExit(f"personas missing from the data: {sorted(missing)}")
    tokens = {name: create_api_token(user, name="bench-city")[1] for name, user in users.items()}
    promoter = users["promoter"]

    def most_events(qs: Any) -> tuple[str, int]:
        row = (
            ProjectEvent.objects.filter(project__in=qs)
            .values("project")
            .annotate(n=Count("pk"))
            .order_by("-n", "project")
            .first()
        )
        code = Project.objects.values_list("code", flat=True).get(pk=row["project"])
        return code, row["n"]

    long_project, long_events = most_events(Project.objects.all())
    promoter_project, promoter_events = most_events(Project.objects.filter(owner=promoter))
    event_project = (
        Project.objects.filter(owner=promoter, stage="negotiation")
        .exclude(code__in=[long_project, promoter_project])
        .order_by("-pk")
        .values_list("code", flat=True)
        .first()
    )
    move_codes = list(
        Project.objects.filter(owner=promoter, stage="contact")
        .exclude(code=event_project)
        .order_by("-pk")
        .values_list("code", flat=True)[:MOVES]
    )
    promoter_orgs = [
        str(c)
        for c in Organization.objects.filter(owner=promoter)
        .order_by("pk")
        .values_list("code", flat=True)[:500]
    ]
    policy = (
        PolicyMatch.objects.values("policy__code").annotate(n=Count("pk")).order_by("-n").first() or {}
    ).get("policy__code") or Policy.objects.values_list("code", flat=True).order_by("pk").first()
    contact_org = (
        Contact.objects.filter(organization__isnull=False)
        .values("organization__code")
        .annotate(n=Count("pk"))
        .order_by("-n")
        .first()
    )
    major = (
        Project.objects.filter(is_major=True, milestones__isnull=False)
        .order_by("pk")
        .values_list("code", flat=True)
        .first()
    ) or long_project
    from bench.investment_data import USCC_PREFIX

    # 15 characters of a generated investor's USCC: about a hundred of them start so.
    uscc = (
        Organization.objects.filter(uscc__startswith=USCC_PREFIX)
        .order_by("pk")
        .values_list("uscc", flat=True)
    )
    sample = uscc[len(uscc) // 3] if uscc.exists() else "915001900000000"
    last_year = timezone.localdate().year - 1
    ctx = Context(
        year=timezone.localdate().year,
        report_year=last_year,
        long_project=long_project,
        long_events=long_events,
        promoter_project=promoter_project,
        promoter_events=promoter_events,
        event_project=event_project or promoter_project,
        move_codes=move_codes,
        promoter_orgs=promoter_orgs,
        promoter_chains=["antibody", "vaccine", "cgt", "adc", "peptide"],
        enterprise_home=users["enterprise"].organization.get_absolute_url(),
        policy=policy or "none",
        org_with_contacts=str(contact_org["organization__code"])
        if contact_org
        else str(Organization.objects.first().code),
        major_project=major,
        uscc_prefix=sample[:15],
        code_prefix=f"YMT-{last_year}-01",
    )
    return ctx, Credentials(tokens)


# Queries (in-process) -----------------------------------------------------------------------------

_LITERALS = re.compile(r"'[^']*'|\b\d+(\.\d+)?\b")
_LISTS = re.compile(r"\((?:\s*(?:%s|\?|NULL)\s*,)+\s*(?:%s|\?|NULL)\s*\)")


def shape(sql: str) -> str:
    """The query with its values out: literals and placeholders as ?, IN lists as (…)."""
    return _LISTS.sub("(…)", _LITERALS.sub("?", re.sub(r"\s+", " ", sql).replace("%s", "?")))


def classify(executed: list[tuple[str, str]]) -> tuple[dict[str, int], dict[str, int]]:
    """The shapes of one request's queries (SQL, parameters) run more than once: per-row (N+1)
    when with different parameters, repeated when the same reading is done again."""
    shapes = Counter(shape(sql) for sql, _params in executed)
    readings: dict[str, set[tuple[str, str]]] = {}
    for sql, params in executed:
        readings.setdefault(shape(sql), set()).add((sql, params))
    per_row, repeated = {}, {}
    for s, n in shapes.items():
        if n > 1:
            (per_row if len(readings[s]) > 1 else repeated)[s] = n
    return per_row, repeated


@dataclass
class Queries:
    total: int = 0
    sql_ms: float = 0.0
    page_ms: float = 0.0
    status: int = 0
    bytes: int = 0
    per_row: dict[str, int] = field(default_factory=dict)  # shape -> runs, with different parameters
    repeated: dict[str, int] = field(default_factory=dict)  # shape -> runs, the same reading again
    slowest: tuple[float, str] = (0.0, "")
    error: str = ""

    @property
    def per_row_total(self) -> int:
        return sum(self.per_row.values())

    def __str__(self) -> str:
        if self.error:
            return "ERR"
        return f"{self.total}" + (f" ({self.per_row_total} N+1)" if self.per_row else "")


class Deadline:
    """Stops the database's work on the current statement after ``seconds`` (a page in-process has
    no gunicorn to kill it): sqlite3's interrupt(), psycopg's cancel(), from a timer thread."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.hit = False
        self.timer: threading.Timer | None = None

    def __enter__(self) -> Deadline:
        from django.db import connection

        connection.ensure_connection()
        raw = connection.connection

        def stop() -> None:
            self.hit = True
            (raw.interrupt if hasattr(raw, "interrupt") else raw.cancel)()

        self.timer = threading.Timer(self.seconds, stop)
        self.timer.daemon = True
        self.timer.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        assert self.timer is not None
        self.timer.cancel()


def count_queries(
    rows: list[Item],
    creds: Credentials,
    event: Item,
    *,
    verbose: bool = True,
    warmup: bool = True,
    seconds: float = 120,
) -> dict[str, Queries]:
    """Each item once after a warm-up (the test skips it), through the test client: its queries
    and their time. A request still running after ``seconds`` is stopped and reported (with the
    queries it had run); when the warm-up is, the item is not requested again."""
    from django.db import connection
    from django.test import Client

    from yimatong.accounts.models import User

    executed: list[tuple[float, str, str]] = []

    def timed(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            executed.append(((time.perf_counter() - started) * 1000, sql, repr(params)))

    clients: dict[tuple[str, str], Client] = {}

    def client_for(item: Item) -> Client:
        key = (item.auth, item.persona)
        if key not in clients:
            if item.auth == "token":
                clients[key] = Client(headers={"Authorization": f"Bearer {creds.tokens[item.persona]}"})
            else:
                clients[key] = Client()
                if item.auth == "session":
                    clients[key].force_login(User.objects.get(username=item.persona))
        return clients[key]

    def send(item: Item) -> Any:
        req = item.request(creds)
        client = client_for(item)
        with Deadline(seconds) as deadline:
            try:
                response = client.generic(
                    req.method,
                    req.path,
                    data=req.body or b"",
                    content_type="application/json",
                    HTTP_ACCEPT_LANGUAGE="zh-hans",
                )
                content = response.content if not response.streaming else b"".join(response.streaming_content)
            except Exception as exc:
                if deadline.hit:
                    raise TimeoutError(f"still running after {seconds:.0f} s in-process: stopped") from exc
                raise
        if deadline.hit:  # the app caught the interrupted query (the API answers 500)
            raise TimeoutError(f"still running after {seconds:.0f} s in-process: stopped")
        return response, content

    results: dict[str, Queries] = {}
    for item in rows:
        q = Queries()
        results[item.name] = q
        started = time.perf_counter()
        executed.clear()
        try:
            if warmup:
                if item.fresh:
                    assert send(event)[0].status_code == event.expect
                send(item)
            if item.fresh:
                assert send(event)[0].status_code == event.expect
            executed.clear()
            started = time.perf_counter()
            with connection.execute_wrapper(timed):
                response, content = send(item)
            q.page_ms = (time.perf_counter() - started) * 1000
        except Exception as exc:  # a page that raises is reported, the others still counted
            q.page_ms = (time.perf_counter() - started) * 1000
            q.error = f"{type(exc).__name__}: {exc}"
            q.total = len(executed)
            print(f"  ERROR {item.name}: {q.error} ({q.total} queries before)", flush=True)
            continue
        q.status, q.bytes = response.status_code, len(content)
        if response.status_code != item.expect:
            q.error = f"{item.method} {item.path or '…'}: {response.status_code}, expected {item.expect}"
            print(f"  ERROR {item.name}: {q.error}", flush=True)
        q.total = len(executed)
        q.sql_ms = sum(ms for ms, _sql, _params in executed)
        q.per_row, q.repeated = classify([(sql, values) for _ms, sql, values in executed])
        if executed:
            ms, sql, _params = max(executed)
            q.slowest = (ms, sql)
        if verbose:
            print(
                f"  {item.name:58} {q.page_ms:9.1f} ms  queries {q!s:>10}  SQL {q.sql_ms:8.1f} ms",
                flush=True,
            )
    return results


# HTTP -----------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def gunicorn_config() -> Path | None:
    """The server configuration production runs (preload, warm-up, max-requests), if any; the
    command line's worker class, workers, timeout and bind win over it."""
    for path in (ROOT / "yimatong" / "gunicorn_conf.py", ROOT / "gunicorn.conf.py"):
        if path.exists():
            return path
    return None


def start_server(bench: BenchEnv, args: argparse.Namespace) -> tuple[int, Any, str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "REDIS_URL")}
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
    config = gunicorn_config()
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "yimatong.wsgi:application",
        "--worker-class",
        "sync",
        "--workers",
        str(args.workers),
        "--timeout",
        str(args.timeout),
        "--bind",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
    ]
    if config is not None:
        spec = "python:yimatong.gunicorn_conf" if config.name == "gunicorn_conf.py" else str(config)
        command += ["--config", spec, "--preload"]
    process = bench.start(command, env=env, log=log)
    wait_until_answers(process, port, "/bench/floor/", log, 120)
    how = f"--config {config.name} --preload" if config else "no gunicorn.conf.py: plain (no --preload)"
    return port, process, how


def send(port: int, req: Request, timeout: float) -> tuple[int | None, int, float, str]:
    """One request on a connection of its own (sync workers close every connection anyway):
    status (None: no answer), size, seconds, what went wrong."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    started = time.perf_counter()
    try:
        conn.request(req.method, req.path, body=req.body, headers={"Host": "127.0.0.1", **req.headers})
        response = conn.getresponse()
        body = response.read()
        elapsed = time.perf_counter() - started
        info = (
            "" if response.status == req.expect else re.sub(r"\s+", " ", body[:400].decode(errors="replace"))
        )
        return response.status, len(body), elapsed, info
    except (OSError, http.client.HTTPException) as exc:
        return None, 0, time.perf_counter() - started, f"no answer: {type(exc).__name__} {exc}"
    finally:
        conn.close()


@dataclass
class Load:
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    error_count: int = 0
    bytes: int = 0
    seconds: float = 0.0
    warmup_s: float | None = None

    @property
    def requests(self) -> int:
        return len(self.latencies)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies)
        if not ordered:
            return 0.0
        return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))] * 1000

    def merge(self, other: Load) -> None:
        self.latencies += other.latencies
        self.errors += other.errors
        self.error_count += other.error_count
        self.bytes = other.bytes or self.bytes
        self.seconds += other.seconds

    def figures(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "rps": round(self.rps, 2),
            "p50_ms": round(self.pct(0.5), 1),
            "p95_ms": round(self.pct(0.95), 1),
            "p99_ms": round(self.pct(0.99), 1),
            "max_ms": round(self.pct(1.0), 1),
            "errors": self.error_count,
            "error_samples": self.errors[:3],
            "bytes": self.bytes,
        }


def drive(
    port: int,
    item: Item,
    event: Item,
    creds: Credentials,
    *,
    wanted: int,
    clients: int,
    minimum: int,
    seconds: float,
    timeout: float,
    warmups: int,
    warm_clients: int = 1,
    gunicorn_timeout: float = math.inf,
) -> Load:
    load = Load()
    lock = threading.Lock()
    taken = [0]
    left = item.remaining()
    if left is not None:  # e.g. the stage moves: one project each
        wanted = min(wanted, left - warmups)
        minimum = min(minimum, wanted)
        if wanted <= 0:
            load.errors.append("nothing left to send (the data ran out)")
            return load

    def one(record: bool) -> None:
        if item.fresh:
            status, _size, _elapsed, info = send(port, event.request(creds), timeout)
            if status != event.expect:
                with lock:
                    load.error_count += 1
                    load.errors.append(f"the new event before it: {status} {info}")
                return
        req = item.request(creds)
        status, size, elapsed, info = send(port, req, timeout)
        with lock:
            if record:
                load.latencies.append(elapsed)
            if size:
                load.bytes = size
            if status != req.expect:
                if record:
                    load.error_count += 1
                killed = status in (None, 500, 502) and elapsed >= gunicorn_timeout
                load.errors.append(
                    f"{req.method} {req.path}: {status} after {elapsed * 1000:.0f} ms"
                    + (" (past gunicorn's timeout: the worker was killed)" if killed else "")
                    + (f" {info[:160]}" if info else "")
                )

    if warmups:
        # Several at once (up to two per worker) so that every worker gets some: an idle worker
        # may take every request sent one by one.
        started = time.perf_counter()
        burst = [threading.Thread(target=one, args=(False,), daemon=True) for _ in range(warmups)]
        for n in range(0, warmups, warm_clients):
            for t in burst[n : n + warm_clients]:
                t.start()
            for t in burst[n : n + warm_clients]:
                t.join()
        load.warmup_s = time.perf_counter() - started
    started = time.perf_counter()

    def client() -> None:
        while True:
            with lock:
                if taken[0] >= wanted or (taken[0] >= minimum and time.perf_counter() - started > seconds):
                    return
                taken[0] += 1
            one(True)

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    load.seconds = time.perf_counter() - started
    return load


class Workers:
    """The RSS of gunicorn's workers (the master's children), sampled every second."""

    def __init__(self, master: int):
        self.master = master
        self.peak: dict[int, int] = {}
        self.item = ""  # what the clients are requesting now
        self.by_item: dict[str, int] = {}  # the largest worker seen while each item ran
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()

    def pids(self) -> list[int]:
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[1]) == self.master:
                    found.append(int(entry.name))
        return sorted(found)

    @staticmethod
    def rss(pid: int) -> int:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        except OSError:
            pass
        return 0

    @staticmethod
    def pss(pid: int) -> int:
        """The worker's proportional set: the pages it shares with the master after the preload
        (the app, the catalogues, the pinyin dictionary) divided among the processes sharing them."""
        try:
            rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
            return int(rollup.split("Pss:")[1].split()[0]) * 1024
        except (OSError, IndexError, ValueError):
            return 0

    def _sample(self) -> None:
        while not self.stop.wait(1.0):
            for pid in self.pids():
                size = self.rss(pid)
                self.peak[pid] = max(self.peak.get(pid, 0), size)
                self.by_item[self.item] = max(self.by_item.get(self.item, 0), size)

    def finish(self) -> dict[str, Any]:
        self.stop.set()
        now = {pid: self.rss(pid) for pid in self.pids()}
        for pid, value in now.items():
            self.peak[pid] = max(self.peak.get(pid, 0), value)
        return {
            "after_load_mib": {str(pid): round(value / MIB, 1) for pid, value in now.items()},
            "after_load_pss_mib": {str(pid): round(self.pss(pid) / MIB, 1) for pid in now},
            "peak_mib": round(max(self.peak.values(), default=0) / MIB, 1),
            "workers_seen": len(self.peak),
            "largest_by_item_mib": {
                item: round(size / MIB, 1)
                for item, size in sorted(self.by_item.items(), key=lambda kv: -kv[1])[:5]
            },
        }


# Report -------------------------------------------------------------------------------------------


def verdict(item: Item, load: Load | None) -> str:
    limit = BUDGETS[item.kind][0]
    if limit is None or load is None or not load.latencies:
        return "—" if limit is None else "n/a"
    return "FAIL" if load.error_count or load.pct(0.95) >= limit else "PASS"


def report(
    rows: list[Item],
    counts: dict[str, Queries],
    loads: dict[str, dict[str, Load]],
    modes: list[str],
    base: dict[str, Any],
) -> None:
    floor = {mode: loads[mode].get(FLOOR) for mode in modes}
    head = f"{'page / call':62} {'kind':7} {'queries':>10} {'KiB':>6}"
    for mode in modes:
        head += f" | {mode[:14]:>14}: {'p50':>7} {'p95':>7} {'p99':>7} {'req/s':>6} {'÷floor':>7} {'err':>3}"
    head += f" | {'budget':>6} {'':4} {'÷base':>6}"
    print(head)
    for item in [floor_item(), *rows]:
        c = counts.get(item.name)
        size = next((loads[m][item.name].bytes for m in modes if item.name in loads[m]), c.bytes if c else 0)
        line = f"{item.name[:62]:62} {item.kind:7} {str(c) if c else '—':>10} {size / 1024:6.0f}"
        for mode in modes:
            x = loads[mode].get(item.name)
            f = floor[mode]
            if x is None:
                line += f" | {'':14}  {'—':>7} {'—':>7} {'—':>7} {'—':>6} {'—':>7} {'—':>3}"
                continue
            ratio = (
                f"{x.pct(0.5) / f.pct(0.5):7.1f}" if f and f.latencies and item.name != FLOOR else "      —"
            )
            line += (
                f" | {x.requests:>14}  {x.pct(0.5):7.0f} {x.pct(0.95):7.0f} {x.pct(0.99):7.0f}"
                f" {x.rps:6.1f} {ratio} {x.error_count:3d}"
            )
        judged = loads[modes[-1]].get(item.name) if modes else None
        ref = base.get(item.name, {}).get(f"{'conc' if len(modes) > 1 else 'seq'}_p95")
        vs = f"{judged.pct(0.95) / ref:6.2f}" if ref and judged and judged.latencies else "     —"
        line += f" | {BUDGETS[item.kind][1]:>6} {verdict(item, judged):4} {vs}"
        print(line)
    print(
        "(ms over HTTP; the first figure of each mode is the number of requests; ÷floor: p50 against the bare"
        " view's p50 in the same mode; queries in-process, '(k N+1)': k of them of a shape run more than once"
        " with different parameters; budget on p95 in the last mode; ÷base: that p95 against the baseline)"
    )
    failures = [
        (i, m, loads[m][i.name])
        for m in modes
        for i in rows
        if i.name in loads[m] and loads[m][i.name].error_count
    ]
    if failures:
        print("\n" + "!" * 100)
        print("ERRORS: requests that got no answer or an unexpected status")
        for item, mode, load in failures:
            print(f"  [{mode}] {item.name}: {load.error_count} of {load.requests}")
            for error in load.errors[:3]:
                print(f"      {error[:300]}")
        print("!" * 100)
    broken = {name: c.error for name, c in counts.items() if c.error}
    if broken:
        print("\nERRORS in-process:")
        for name, error in broken.items():
            print(f"  {name}: {error[:300]}")
    per_row = {name: c.per_row for name, c in counts.items() if c.per_row}
    if per_row:
        print(
            "\nper-row queries (N+1: a query shape run more than once in one request, with different parameters):"
        )
        for name, shapes in per_row.items():
            for s, n in sorted(shapes.items(), key=lambda kv: -kv[1])[:4]:
                print(f"  {name[:50]:50} {n:5d} x {shorten(s)[:200]}")
    repeated = {name: c.repeated for name, c in counts.items() if c.repeated}
    if repeated:
        print("\nrepeated readings (the same query again in one request):")
        for name, shapes in repeated.items():
            for s, n in sorted(shapes.items(), key=lambda kv: -kv[1])[:3]:
                print(f"  {name[:50]:50} {n:5d} x {shorten(s)[:200]}")


def shorten(sql: str) -> str:
    sql = re.sub(r"\s+", " ", sql)
    columns_end = sql.find(" FROM ")
    return "SELECT … " + sql[columns_end + 1 :] if sql.startswith("SELECT ") and columns_end > 100 else sql


def markdown(paths: list[str]) -> str:
    """A Markdown table of saved runs (--json): each item's p50/p95 one at a time and at once,
    queries, the ratio to the floor and the budget; with a second file, its figures beside."""
    runs = [json.loads(Path(p).read_text()) for p in paths]
    first = runs[0]
    modes = [m for m in first["floor"]]
    head = "| page / call | kind | queries | " + " | ".join(f"{m} p50 / p95 ms" for m in modes)
    head += " | ÷floor (p50, " + " / ".join(modes) + ") | budget p95 | verdict |"
    for run in runs[1:]:
        head += f" {run.get('commit', 'after')}: queries | p50 / p95 ms | verdict |"
    lines = [
        f"{first['vendor']}, {', '.join(f'{v:,} {k}' for k, v in first['counts'].items())}; generation"
        f" {first['generation_s']} s; floor "
        + "; ".join(f"{m} p50 {f['p50_ms']} ms p95 {f['p95_ms']} ms" for m, f in first["floor"].items())
        + f"; load average before {first['host']['load_before'][0]:.1f}; `{first['command']}`",
        "",
        head,
        "|" + "---|" * (head.count("|") - 1),
    ]
    later = [{i["name"]: i for i in run["items"]} for run in runs[1:]]

    def cell(i: dict[str, Any], mode: str) -> str:
        x = i.get(mode)
        if not x:
            return "—"
        err = f" ({x['errors']} err)" if x["errors"] else ""
        return f"{x['p50_ms']:.0f} / {x['p95_ms']:.0f}{err}"

    for i in first["items"]:
        q = i.get("queries", {})
        queries = f"{q.get('total', '—')}" + (f" ({q['per_row']} N+1)" if q.get("per_row") else "")
        ratio = " / ".join(str(i.get(m, {}).get("floor_ratio", "—")) for m in modes)
        budget = i["budget_p95_ms"]
        row = (
            f"| {i['name']} | {i['kind']} | {queries} | "
            + " | ".join(cell(i, m) for m in modes)
            + f" | {ratio} | {f'< {budget:.0f}' if budget else '—'} |"
            f" {i.get('verdict', '—')} |"
        )
        for other in later:
            j = other.get(i["name"], {})
            qj = j.get("queries", {})
            row += f" {qj.get('total', '—')} | {cell(j, modes[-1]) if j else '—'} | {j.get('verdict', '—')} |"
        lines.append(row)
    return "\n".join(lines)


def git_commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


# Main -----------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="10,000 projects and the rest to scale")
    parser.add_argument("--tiny", action="store_true", help="a few dozen of each: a smoke run in a minute")
    parser.add_argument(
        "--only", action="append", default=[], help="items whose name contains this (repeatable)"
    )
    parser.add_argument("--save", action="store_true", help="store the figures in bench/baseline.json")
    parser.add_argument("--json", default="", help="write the run's figures to this file")
    parser.add_argument("--regenerate", action="store_true", help="generate the data again")
    parser.add_argument("--requests", type=int, default=15, help="requests per item, one at a time")
    parser.add_argument("--concurrent-requests", type=int, default=40, help="requests per item, at once")
    parser.add_argument("--concurrency", type=int, default=8, help="clients at once in the second mode")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--timeout", type=int, default=30, help="gunicorn's worker timeout (s)")
    parser.add_argument(
        "--item-seconds", type=float, default=45, help="an item stops after this, once it has its minimum"
    )
    parser.add_argument(
        "--generate-only", action="store_true", help="make the cached data if missing, then stop"
    )
    parser.add_argument("--no-http", action="store_true", help="only the in-process query counts")
    parser.add_argument(
        "--inprocess-seconds",
        type=float,
        default=120,
        help="an in-process request still running after this is stopped and reported",
    )
    parser.add_argument(
        "--markdown",
        nargs="+",
        metavar="RUN.json",
        help="print saved runs (before [after]) as a table, then stop",
    )
    args = parser.parse_args()
    if args.markdown:
        print(markdown(args.markdown))
        return
    sizes = TINY if args.tiny else QUICK if args.quick else FULL
    save = args.save
    if save and (args.quick or args.tiny or args.only or args.no_http):
        print("--save ignored: a baseline is for the full sizes, every item, over HTTP", file=sys.stderr)
        save = False

    url = os.environ.get("DATABASE_URL", "")
    key = cache_key(sizes)
    tag = "tiny" if args.tiny else "quick" if args.quick else "full"
    store: Store = PgStore(key, tag, url) if url.startswith("postgres") else SqliteStore(key, tag)
    with CityBenchEnv(store, env="development", prefix="ymt-city-") as bench:
        if args.regenerate or not store.exists():
            meta = build_cache(store, sizes, bench)
        else:
            meta = store.meta()
            print(f"using the cached city ({store.vendor}, key {key})", flush=True)
        if args.generate_only:
            return
        generation_s = meta.get("generation_s")
        print(f"generation took {generation_s} s (when the cache was made, {meta.get('generated_at', '?')})")
        for name, seconds in meta.get("phases", []):
            print(f"  {name}: {seconds:.0f} s")
        copy_s = bench.restore()
        import django

        django.setup()
        from django.db import connection, connections

        vendor = connection.vendor
        steps = post_restore()
        print(
            f"copy restored in {copy_s:.1f} s; "
            + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in steps)
            + ("" if POST_RESTORE else " (POST_RESTORE is empty)"),
            flush=True,
        )
        ctx, creds = prepare(sizes)
        rows = items(ctx)
        if args.only:
            rows = [r for r in rows if any(p.lower() in r.name.lower() for p in args.only)]
            if not rows:
                raise SystemExit(f"no item matches {args.only}")
        event = new_event(ctx)
        print(f"\nqueries in-process ({len(rows)} items, each once after a warm-up):", flush=True)
        counts = count_queries(rows, creds, event, seconds=args.inprocess_seconds)
        connections.close_all()  # the server has the database to itself from here

        modes = [] if args.no_http else ["one at a time", f"{args.concurrency} at once"]
        loads: dict[str, dict[str, Load]] = {m: {} for m in modes}
        rss: dict[str, Any] = {}
        how = ""
        load_before = os.getloadavg()
        if modes:
            port, process, how = start_server(bench, args)
            workers = Workers(process.pid)
            creds.cookies = {p: login(port, p, PASSWORD, timeout=120) for p in PERSONAS}
            # Long enough to see the queue behind workers killed at gunicorn's timeout.
            client_timeout = (math.ceil(args.concurrency / args.workers) + 1) * args.timeout + 30
            for mode in modes:
                at_once = mode != "one at a time"
                print(f"\n{mode}:", flush=True)
                plan = [floor_item(), *rows, floor_item()]
                for n, item in enumerate(plan):
                    workers.item = f"{item.name} [{mode}]"
                    load = drive(
                        port,
                        item,
                        event,
                        creds,
                        wanted=args.concurrent_requests if at_once else args.requests,
                        clients=args.concurrency if at_once else 1,
                        minimum=args.concurrency if at_once else 3,
                        seconds=args.item_seconds,
                        timeout=client_timeout,
                        # One warm-up request one at a time; a cached reading is warmed on every
                        # worker (each has its own cache) in both modes, as other items' events
                        # may have made it stale.
                        warmups=4 * args.workers if item.warm else 0 if at_once else 1,
                        warm_clients=2 * args.workers if item.warm else 1,
                        gunicorn_timeout=args.timeout,
                    )
                    if item.name in loads[mode]:
                        loads[mode][item.name].merge(load)
                    else:
                        loads[mode][item.name] = load
                    flag = f"  ERRORS {load.error_count}" if load.error_count else ""
                    print(
                        f"  {item.name[:62]:62} n {load.requests:3d}  p50 {load.pct(0.5):8.0f} ms"
                        f"  p95 {load.pct(0.95):8.0f} ms  {load.rps:6.1f}/s{flag}"
                        + (" (last)" if n == len(plan) - 1 else ""),
                        flush=True,
                    )
            rss = workers.finish()
            server_log = (Path(bench.tmp) / "server.log").read_text(errors="replace")
            rss["replaced_over_limit"] = server_log.count("MiB): replaced")  # gunicorn_conf.post_request
        load_after = os.getloadavg()

        key_name = f"city/{vendor}"
        baseline = json.loads(BASELINE.read_text()) if BASELINE.exists() else {}
        base = baseline.get(key_name, {}).get("items", {})
        data = ", ".join(f"{v:,} {k}" for k, v in meta.get("counts", {}).items())
        print()
        print(
            f"city: {vendor}{' (quick sizes)' if args.quick else ''}; {data}\n"
            f"generation: {generation_s} s (cached, key {key}); copy per run {copy_s:.1f} s\n"
            f"server: gunicorn {args.workers} sync workers, timeout {args.timeout} s ({how or 'not started'});"
            f" DEBUG off; local-memory cache per worker (REDIS_URL unset)\n"
            f"host: {os.cpu_count()} CPUs; load average (1 min) {load_before[0]:.2f} before, {load_after[0]:.2f}"
            " after (other work shares the CPUs: read the ratios to the floor)"
        )
        for mode in modes:
            f = loads[mode][FLOOR]
            print(f"floor [{mode}]: p50 {f.pct(0.5):.1f} ms, p95 {f.pct(0.95):.1f} ms, {f.rps:.0f} req/s")
        print()
        report(rows, counts, loads, modes, base)
        if rss:
            over = [pid for pid, mib in rss["after_load_mib"].items() if mib > RSS_BUDGET_MIB]
            print(
                "\nRSS of each gunicorn worker after the load: "
                + ", ".join(
                    f"pid {pid} {mib:.0f} MiB (PSS {rss.get('after_load_pss_mib', {}).get(pid, 0):.0f})"
                    for pid, mib in rss["after_load_mib"].items()
                )
                + f"; the most seen during the load {rss['peak_mib']:.0f} MiB ({rss['workers_seen']} workers seen,"
                f" {rss['replaced_over_limit']} replaced after a request left them over the limit;"
                " largest while requesting: "
                + ", ".join(f"{item} {mib:.0f} MiB" for item, mib in rss["largest_by_item_mib"].items())
                + ");"
                f" budget {RSS_BUDGET_MIB} MiB: {'FAIL' if over or rss['peak_mib'] > RSS_BUDGET_MIB else 'PASS'}"
            )

        def item_json(item: Item) -> dict[str, Any]:
            c = counts.get(item.name)
            out: dict[str, Any] = {
                "name": item.name,
                "persona": item.persona,
                "kind": item.kind,
                "method": item.method,
                "path": item.path or (item.paths(0) if item.paths else ""),
                "expect": item.expect,
                "budget_p95_ms": BUDGETS[item.kind][0],
            }
            if c is not None:
                out["queries"] = {
                    "total": c.total,
                    "per_row": c.per_row_total,
                    "sql_ms": round(c.sql_ms, 1),
                    "in_process_ms": round(c.page_ms, 1),
                    "status": c.status,
                    "error": c.error,
                    "per_row_shapes": {shorten(s)[:400]: n for s, n in c.per_row.items()},
                    "repeated_shapes": {shorten(s)[:400]: n for s, n in c.repeated.items()},
                }
            for mode in modes:
                load = loads[mode].get(item.name)
                if load is not None:
                    fl = loads[mode][FLOOR]
                    out[mode] = {
                        **load.figures(),
                        "floor_ratio": round(load.pct(0.5) / fl.pct(0.5), 2) if fl.latencies else None,
                    }
            if modes:
                out["verdict"] = verdict(item, loads[modes[-1]].get(item.name))
            return out

        result = {
            "vendor": vendor,
            "command": " ".join(sys.argv),
            "commit": git_commit(),
            "at": dt.datetime.now().isoformat(timespec="seconds"),
            "sizes": dataclasses.asdict(sizes),
            "counts": meta.get("counts", {}),
            "generation_s": generation_s,
            "generation_phases": meta.get("phases", []),
            "copy_s": round(copy_s, 1),
            "post_restore": steps,
            "server": {
                "workers": args.workers,
                "worker_class": "sync",
                "timeout_s": args.timeout,
                "how": how,
                "concurrency": args.concurrency,
            },
            "host": {"cpus": os.cpu_count(), "load_before": load_before, "load_after": load_after},
            "floor": {mode: loads[mode][FLOOR].figures() for mode in modes},
            "items": [item_json(i) for i in rows],
            "rss": rss,
        }
        if args.json:
            Path(args.json).write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n")
            print(f"figures written to {args.json}")
        if save:
            baseline[key_name] = {
                "sizes": result["sizes"],
                "generation_s": generation_s,
                "floor": result["floor"],
                "rss": rss,
                "items": {
                    i["name"]: {
                        "seq_p50": i[modes[0]]["p50_ms"],
                        "seq_p95": i[modes[0]]["p95_ms"],
                        "conc_p50": i[modes[-1]]["p50_ms"],
                        "conc_p95": i[modes[-1]]["p95_ms"],
                        "conc_p99": i[modes[-1]]["p99_ms"],
                        "queries": i.get("queries", {}).get("total"),
                        "per_row": i.get("queries", {}).get("per_row"),
                        "errors": i[modes[0]]["errors"] + i[modes[-1]]["errors"],
                        "verdict": i["verdict"],
                    }
                    for i in result["items"]
                },
            }
            BASELINE.write_text(json.dumps(baseline, indent=2, ensure_ascii=False) + "\n")
            print(f"baseline saved for {key_name}")
    failed = any(c.error for c in counts.values()) or any(
        load.error_count for mode in modes for load in loads[mode].values()
    )
    if failed:
        print("FAILED: some requests failed (see ERRORS above)", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
