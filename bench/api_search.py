"""Benchmark: the API's lists and searches at city size, 50 a page.

Generates 100,000 projects (bench/investment_data.py, one event each: the lists do not read the
history), 20,000 contacts and 40,000 leads (bench/city_data.py) on top of the demo park, then
requests each list and search in-process through Django's test client, signed in as the leader
(who sees everything) and as a promoter, and prints p50/p95 of each next to the same figures for
a bare view (``/bench/floor/``, measured the same way in the same run) and the ratio to it.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/api_search.py
    .venv/bin/python bench/api_search.py --projects 10000          # SQLite, smaller

The database (PostgreSQL: ``BENCH_DB_NAME``, default h_search_api; SQLite: a file in
var/bench-api-search/) is kept with --keep and reused with --reuse (migrated forward first), so
that the same data can be measured before and after a change: run an older checkout with
--keep, then this one with --reuse.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DB_NAME = os.environ.get("BENCH_DB_NAME", "h_search_api")
BUDGET_MS = 100.0


def database(args: argparse.Namespace) -> bool:
    """Point Django at the bench database; True when it already holds the data."""
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgres"):
        import psycopg

        with psycopg.connect(url, autocommit=True) as admin:
            exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME]).fetchone()
            if exists and not args.reuse:
                admin.execute(f"DROP DATABASE {DB_NAME} WITH (FORCE)")
            if not exists or not args.reuse:
                admin.execute(f"CREATE DATABASE {DB_NAME}")
        os.environ["DATABASE_URL"] = urlunsplit(urlsplit(url)._replace(path="/" + DB_NAME))
        found = bool(exists) and args.reuse
    else:
        folder = ROOT / "var" / "bench-api-search"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{DB_NAME}.sqlite3"
        if path.exists() and not args.reuse:
            path.unlink()
        found = path.exists()
        os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    os.environ.setdefault("YIMATONG_ENV", "test")
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.bench_settings"
    return found


def drop(url: str) -> None:
    if url.startswith("postgres"):
        import psycopg
        from django.db import connections

        connections.close_all()
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")


def generate(args: argparse.Namespace) -> None:
    from django.db import connection

    from bench import city_data, investment_data
    from yimatong.demo.loader import load_demo

    started = time.perf_counter()
    load_demo()
    investment_data.generate(projects=args.projects, events_per_project=1, verbose=False)
    rng = random.Random(2026)
    city_data.make_contacts(rng, args.contacts)
    codes = city_data.make_codes(rng, 60)
    city_data.make_leads(rng, args.leads, codes)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    print(f"generated in {time.perf_counter() - started:.0f} s", flush=True)


def calls() -> list[tuple[str, str, str]]:
    """(name, username, path) of each call timed."""
    from yimatong.directory.models import Organization
    from yimatong.investment.models import Lead, Project

    code = Project.objects.order_by("pk").values_list("code", flat=True)[500]
    code_prefix = code[: len(code) - 2]  # YMT-2025-01…: a hundred projects or so
    uscc = (
        Organization.objects.filter(uscc__startswith="9150019")
        .order_by("pk")
        .values_list("uscc", flat=True)[300]
    )
    uscc_prefix = uscc[:14]
    p50 = "page_size=50"
    rows = []
    for who in ("leader", "promoter"):
        rows += [
            (f"projects 50/page ({who})", who, f"/api/v1/projects?{p50}"),
            (
                f"projects ?stage=&chain= ({who})",
                who,
                f"/api/v1/projects?stage=negotiation&chain=biologics&{p50}",
            ),
            (f"projects page 20 ({who})", who, f"/api/v1/projects?page=20&{p50}"),
        ]
    searches = {
        "Chinese 2 chars '抗体'": "抗体",
        "Chinese 1 char '康'": "康",
        "Chinese 4 chars '生物制药'": "生物制药",
        "initials 'ktyw'": "ktyw",
        "English 'CDMO'": "CDMO",
        f"code prefix '{code_prefix}'": code_prefix,
    }
    for who in ("leader", "promoter"):
        for label, q in searches.items():
            rows.append(
                (f"projects search {label} ({who})", who, f"/api/v1/projects?{urlencode({'q': q})}&{p50}")
            )
    lead_code = Lead.objects.order_by("pk").values_list("code", flat=True)[300]
    lead_searches = {
        "Chinese '康弘'": "康弘",
        "initials 'khsw'": "khsw",
        f"code prefix '{lead_code[:-2]}'": lead_code[:-2],
    }
    rows += [
        ("leads 50/page (leader)", "leader", f"/api/v1/leads?{p50}"),
        ("leads pool 50/page (promoter)", "promoter", f"/api/v1/leads?tab=pool&{p50}"),
    ]
    for label, q in lead_searches.items():
        rows.append(
            (f"leads search {label} (leader)", "leader", f"/api/v1/leads?{urlencode({'q': q})}&{p50}")
        )
    org_searches = {
        "Chinese '康弘'": "康弘",
        "initials 'khsw'": "khsw",
        f"USCC prefix '{uscc_prefix}'": uscc_prefix,
    }
    rows.append(("organizations 50/page (leader)", "leader", f"/api/v1/organizations?{p50}"))
    for label, q in org_searches.items():
        rows.append(
            (
                f"organizations search {label} (promoter)",
                "promoter",
                f"/api/v1/organizations?{urlencode({'q': q})}&{p50}",
            )
        )
    rows += [
        ("contacts 50/page (leader)", "leader", f"/api/v1/contacts?{p50}"),
        ("contacts search '张' (promoter)", "promoter", f"/api/v1/contacts?{urlencode({'q': '张'})}&{p50}"),
    ]
    return rows


def timed(client: Any, path: str, repeat: int) -> tuple[float, float, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    response = client.get(path)  # warm
    assert response.status_code == 200, (path, response.status_code, response.content[:300])
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(path)
        samples.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as queries:
        client.get(path)
    samples.sort()
    p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
    return statistics.median(samples), p95, len(queries.captured_queries)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--projects", type=int, default=100_000)
    parser.add_argument("--leads", type=int, default=40_000)
    parser.add_argument("--contacts", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--keep", action="store_true", help="keep the database for a later --reuse")
    parser.add_argument("--reuse", action="store_true", help="measure the data a --keep run left")
    parser.add_argument("--label", default="", help="printed with the figures (e.g. before / after)")
    args = parser.parse_args()
    admin_url = os.environ.get("DATABASE_URL", "")
    found = database(args)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from yimatong.accounts.models import User

    try:
        call_command("migrate", verbosity=0)
        if not found:
            generate(args)
        from yimatong.investment.models import Lead, Project

        print(
            f"{args.label or 'run'}: {connection.vendor}, {Project.objects.count():,} projects, "
            f"{Lead.objects.count():,} leads; {args.repeat} requests each, in-process",
            flush=True,
        )
        clients = {}
        for username in ("leader", "promoter"):
            clients[username] = Client()
            clients[username].force_login(User.objects.get(username=username))
        floor = timed(Client(), "/bench/floor/", args.repeat * 5)
        print(f"{'call':62} {'p50 ms':>8} {'p95 ms':>8} {'÷floor':>7} {'queries':>7}")
        print(f"{'floor: bare view /bench/floor/':62} {floor[0]:8.1f} {floor[1]:8.1f} {1:7.1f} {floor[2]:7}")
        over = []
        for name, username, path in calls():
            p50, p95, queries = timed(clients[username], path, args.repeat)
            print(f"{name:62} {p50:8.1f} {p95:8.1f} {p50 / floor[0]:7.1f} {queries:7}", flush=True)
            if p95 > BUDGET_MS:
                over.append(name)
        print(f"p95 over {BUDGET_MS:.0f} ms: {len(over)}" + (f" ({', '.join(over)})" if over else ""))
    finally:
        if not args.keep:
            drop(admin_url)


if __name__ == "__main__":
    main()
