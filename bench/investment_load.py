"""Load test: the investment pipeline at park scale, over HTTP on loopback.

Builds a throw-away database (SQLite in a temp dir, or PostgreSQL ``bench_yimatong`` when
DATABASE_URL points at PostgreSQL), loads the demo park and generates projects with their
history (bench/investment_data.py: 100k projects, ~1M events by default), then starts gunicorn
on 127.0.0.1 and drives it with concurrent clients:

- create projects (POST /api/v1/projects, a promoter's bearer token);
- list projects with filters, 50 a page, several pages (GET /api/v1/projects, leader and promoter);
- the bureau's numbers for this year (GET /api/v1/investment/numbers?year=…), which are cached
  until the next event: repeat requests measure the cache; the cost of computing them from the
  events (what the first request after a change pays) is timed in-process, without the cache;
- the console's project list (/investment/projects/?stage=…, a session from /accounts/login/).

It prints, per scenario, requests, req/s, p50 and p99 latency (ms) and the ratio of p50 to
bench/baseline.json (key ``investment/<vendor>/<projects>``; above 1 is slower; --save stores
the current figures). Before that it counts, in-process, the SQL queries of the list requests
after the first 1,000 projects and at full size: they must be the same (no query per row).

    .venv/bin/python bench/investment_load.py [--projects 100000] [--events-per-project 10]
        [--concurrency 8] [--requests 300] [--workers 2] [--threads 4] [--save]

Everything (the server, the PostgreSQL database, the temp dir) is removed at the end, on an
error or Ctrl-C too.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import re
import socket
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.benchenv import BASELINE, BenchEnv, login, wait_until_answers  # noqa: E402

SMALL = 1000  # projects at the first query count


# HTTP ------------------------------------------------------------------------------------------


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    expect: int = 200


class Http:
    """One keep-alive connection per client thread."""

    def __init__(self, port: int):
        self.port = port
        self.local = threading.local()

    def _conn(self) -> http.client.HTTPConnection:
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = self.local.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=300)
        return conn

    def send(self, req: Request) -> tuple[int, bytes, float, dict[str, str]]:
        headers = {"Host": "127.0.0.1", **req.headers}
        if req.body is not None:
            headers.setdefault("Content-Type", "application/json")
        for attempt in range(2):
            conn = self._conn()
            started = time.perf_counter()
            try:
                conn.request(req.method, req.path, body=req.body, headers=headers)
                response = conn.getresponse()
                body = response.read()
                elapsed = time.perf_counter() - started
                if response.getheader("Connection", "").lower() == "close":
                    conn.close()
                    self.local.conn = None
                return response.status, body, elapsed, dict(response.getheaders())
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # The server closed an idle keep-alive connection: reconnect once.
                conn.close()
                self.local.conn = None
                if attempt:
                    raise
        raise AssertionError("unreachable")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# Scenarios -------------------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    requests: int
    seconds: float
    latencies: list[float]
    errors: list[str]

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))] * 1000


def run(http_: Http, name: str, requests: list[Request], concurrency: int) -> Result:
    """Send ``requests`` with ``concurrency`` clients; a short warm-up (one per client) first."""
    errors: list[str] = []

    def one(req: Request) -> float:
        status, body, elapsed, _headers = http_.send(req)
        if status != req.expect:
            errors.append(f"{req.method} {req.path}: {status} {body[:200]!r}")
        return elapsed

    pool = ThreadPoolExecutor(concurrency, thread_name_prefix="client")
    try:
        list(pool.map(one, requests[:concurrency]))  # warm-up, not counted
        errors.clear()
        measured = requests[concurrency:]
        started = time.perf_counter()
        futures = [pool.submit(one, req) for req in measured]
        wait(futures)
        seconds = time.perf_counter() - started
        latencies = [f.result() for f in futures]
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    return Result(name, len(measured), seconds, latencies, errors)


def scenarios(
    ctx: dict[str, Any], n: int, n_numbers: int, concurrency: int
) -> list[tuple[str, list[Request]]]:
    year = dt.date.today().year
    leader = {"Authorization": f"Bearer {ctx['tokens']['leader']}"}
    promoter = {"Authorization": f"Bearer {ctx['tokens']['promoter']}"}
    orgs, chains = ctx["promoter_orgs"], ctx["promoter_chains"]

    def create(i: int) -> Request:
        body = {
            "name": f"压测项目 {i}",
            "organization": orgs[i % len(orgs)],
            "chain_node": chains[i % len(chains)],
            "stage": "contact",
            "source_channel": "staff",
            "planned_investment": str(1000 + 37 * i),
        }
        return Request("POST", "/api/v1/projects", promoter, json.dumps(body).encode(), expect=201)

    filters = [
        {"stage": "signed", "chain": "biologics", "min": "1000"},
        {"stage": "negotiation"},
        {"stage": "contact", "chain": "devices", "min": "5000"},
        {"stage": ["visit", "negotiation"], "min": "20000"},
        {"light": "red"},
    ]

    def api_list(i: int, headers: dict[str, str]) -> Request:
        params = {**filters[i % len(filters)], "page_size": 50, "page": 1 + (i // len(filters)) % 5}
        return Request("GET", "/api/v1/projects?" + urlencode(params, doseq=True), headers)

    stages = ["negotiation", "signed", "contact", "visit", "registered"]

    def console(i: int, cookie: str) -> Request:
        params = {"stage": stages[i % len(stages)], "page": 1 + (i // len(stages)) % 5}
        return Request("GET", "/investment/projects/?" + urlencode(params), {"Cookie": cookie})

    numbers = f"/api/v1/investment/numbers?year={year}"
    total, total_numbers = n + concurrency, n_numbers + concurrency
    return [
        ("API create project (promoter)", [create(i) for i in range(total)]),
        ("API list filtered 50/page (leader)", [api_list(i, leader) for i in range(total)]),
        ("API list filtered 50/page (promoter)", [api_list(i, promoter) for i in range(total)]),
        ("API numbers this year, cached (leader)", [Request("GET", numbers, leader)] * total_numbers),
        ("API numbers this year, cached (promoter)", [Request("GET", numbers, promoter)] * total_numbers),
        ("console list ?stage= (leader)", [console(i, ctx["cookies"]["leader"]) for i in range(total)]),
        ("console list ?stage= (promoter)", [console(i, ctx["cookies"]["promoter"]) for i in range(total)]),
    ]


# Query counts (in-process) ----------------------------------------------------------------------

QUERY_URLS = [
    ("API list 50/page", "/api/v1/projects?page_size=50"),
    ("API list 50/page p2 ?stage=&min=", "/api/v1/projects?page_size=50&page=2&stage=negotiation&min=100"),
    ("console list", "/investment/projects/"),
    ("console list p3 ?stage=", "/investment/projects/?stage=negotiation&page=3"),
]
_LITERALS = re.compile(r"'[^']*'|\b\d+\b")


@dataclass
class QueryCount:
    total: int
    shapes: Counter[str]  # SQL with the literals taken out -> how many times it ran
    per_row: int = 0  # of the total, queries of a shape that runs once per row of some kind

    def __str__(self) -> str:
        return f"{self.total}" + (f" ({self.per_row} per-row)" if self.per_row else "")


def mark_per_row(*measurements: dict[str, QueryCount]) -> set[str]:
    """Shapes seen more than once in one request are per-row queries (N+1); count them wherever
    they appear (a page with a single such row runs it once)."""
    per_row = {s for m in measurements for c in m.values() for s, n in c.shapes.items() if n > 1}
    for m in measurements:
        for c in m.values():
            c.per_row = sum(n for s, n in c.shapes.items() if s in per_row)
    return per_row


def count_queries(tokens: dict[str, str]) -> dict[str, QueryCount]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from yimatong.accounts.models import User

    counts: dict[str, QueryCount] = {}
    for username in ("leader", "promoter"):
        api = Client(headers={"Authorization": f"Bearer {tokens[username]}"})
        console = Client()
        console.force_login(User.objects.get(username=username))
        for label, url in QUERY_URLS:
            client = api if url.startswith("/api/") else console
            assert client.get(url).status_code == 200, url  # warm-up (token touch, settings row)
            with CaptureQueriesContext(connection) as ctx:
                response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
            counts[f"{label} ({username})"] = QueryCount(
                total=len(ctx.captured_queries),
                shapes=Counter(_LITERALS.sub("?", q["sql"]) for q in ctx.captured_queries),
            )
    return counts


# Main ------------------------------------------------------------------------------------------


def prepare(
    args: argparse.Namespace,
) -> tuple[dict[str, Any], dict[str, QueryCount], dict[str, QueryCount], float]:
    from django.db import connection

    from bench.investment_data import generate
    from yimatong.accounts.actions import create_api_token
    from yimatong.accounts.models import User
    from yimatong.demo.loader import load_demo
    from yimatong.directory.models import Organization

    started = time.perf_counter()
    load_demo()
    print(f"demo park loaded in {time.perf_counter() - started:.1f} s", flush=True)
    tokens = {
        u: create_api_token(User.objects.get(username=u), name="bench")[1] for u in ("leader", "promoter")
    }
    first = min(SMALL, args.projects)
    generated = 0.0
    stats = generate(projects=first, events_per_project=args.events_per_project, verbose=False)
    generated += stats.seconds
    small = count_queries(tokens)
    if args.projects > first:
        print(f"generating {args.projects - first} more projects ...", flush=True)
        more = generate(projects=args.projects - first, events_per_project=args.events_per_project)
        generated += more.seconds
        stats.projects += more.projects
        stats.events += more.events
        stats.organizations += more.organizations
        stats.capital_arrivals += more.capital_arrivals
        stats.activities += more.activities
        for stage, count in more.by_stage.items():
            stats.by_stage[stage] = stats.by_stage.get(stage, 0) + count
    stats.seconds = generated
    print(f"database: {connection.vendor}; generated {stats.line()}", flush=True)
    print("  final stages: " + ", ".join(f"{k} {v}" for k, v in stats.by_stage.items()), flush=True)
    full = count_queries(tokens)
    cold = time_cold_numbers()
    promoter = User.objects.get(username="promoter")
    ctx = {
        "tokens": tokens,
        "promoter_orgs": [
            str(c) for c in Organization.objects.filter(owner=promoter).values_list("code", flat=True)[:500]
        ],
        "promoter_chains": ["antibody", "vaccine", "cgt", "adc", "cro-cdmo", "packaging"],
        "vendor": connection.vendor,
        "cold": cold,
    }
    return ctx, small, full, generated


def time_cold_numbers(repeat: int = 3) -> dict[str, float]:
    """The numbers computed from the events without the cache (what the first request after a
    change pays), in-process: median of ``repeat`` runs, in ms."""
    import statistics

    from yimatong.accounts.models import User
    from yimatong.investment.models import Project
    from yimatong.investment.numbers import Period, summary

    year = dt.date.today().year
    period = Period(dt.date(year, 1, 1), dt.date(year, 12, 31))
    figures = {}
    for username in ("leader", "promoter"):
        user = User.objects.get(username=username)
        runs = []
        for _ in range(repeat):
            started = time.perf_counter()
            summary(Project.objects.visible_to(user), period=period)
            runs.append((time.perf_counter() - started) * 1000)
        figures[f"numbers computed, no cache ({username})"] = statistics.median(runs)
        print(
            f"  numbers computed without the cache ({username}): {figures[f'numbers computed, no cache ({username})']:.0f} ms",
            flush=True,
        )
    return figures


def start_server(bench: BenchEnv, args: argparse.Namespace) -> int:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "DEBUG"}
    env.update(
        YIMATONG_ENV="development",
        ALLOWED_HOSTS="127.0.0.1",
        YIMATONG_VAR_DIR=bench.tmp,
        DATABASE_URL=bench.database_url,
        DJANGO_SETTINGS_MODULE="yimatong.settings",
        LOG_LEVEL="WARNING",
    )
    log = Path(bench.tmp) / "server.log"
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "yimatong.wsgi:application",
        "--workers",
        str(args.workers),
        "--threads",
        str(args.threads),
        "--bind",
        f"127.0.0.1:{port}",
        "--timeout",
        "300",
        "--log-level",
        "warning",
    ]
    process = bench.start(command, env=env, log=log)
    wait_until_answers(process, port, "/accounts/login/", log, 90)
    print(f"gunicorn on 127.0.0.1:{port}: {args.workers} workers x {args.threads} threads", flush=True)
    return port


def report(
    results: list[Result],
    small: dict[str, QueryCount],
    full: dict[str, QueryCount],
    key: str,
    generated: float,
    save: bool,
    cold: dict[str, float],
) -> None:
    baseline = json.loads(BASELINE.read_text()) if BASELINE.exists() else {}
    base = baseline.get(key, {})
    print()
    print(
        f"{'scenario':40} {'requests':>8} {'req/s':>7} {'p50 ms':>8} {'p99 ms':>8} {'base p50':>9} {'ratio':>6}"
    )
    for r in results:
        ref = base.get(r.name, {}).get("p50_ms")
        ratio = f"{r.pct(0.5) / ref:6.2f}" if ref else "     —"
        print(
            f"{r.name:40} {r.requests:8d} {r.rps:7.1f} {r.pct(0.5):8.1f} {r.pct(0.99):8.1f} "
            f"{ref if ref else '—':>9} {ratio}"
        )
        for error in r.errors[:3]:
            print(f"    error: {error}")
        if len(r.errors) > 3:
            print(f"    ... {len(r.errors)} errors in all")
    print()
    print(f"{'in-process, median of 3':40} {'ms':>8} {'base':>9} {'ratio':>6}")
    for name, ms in cold.items():
        ref = base.get(name)
        ratio = f"{ms / ref:6.2f}" if ref else "     —"
        print(f"{name:40} {ms:8.1f} {ref if ref else '—':>9} {ratio}")
    print()
    print(f"SQL queries per request{'':24} {'at ' + str(SMALL):>22} {'at full size':>22}")
    per_row = mark_per_row(small, full)
    constant = fixed = True
    for label, count in full.items():
        before = small[label]
        same = before.total == count.total
        constant &= same
        fixed &= before.total - before.per_row == count.total - count.per_row
        print(f"  {label:44} {before!s:>22} {count!s:>22}  {'same' if same else 'DIFFERENT'}")
    if constant and not per_row:
        print("query count per list request: constant")
    elif fixed:
        print(
            "query count per list request: the same at both sizes apart from per-row queries "
            "(they follow what is on the page, not the table size):"
        )
    else:
        print("query count per list request: NOT constant")
    for shape in sorted(per_row):
        print(f"    per-row query: {shape[:300]}")
    if save:
        baseline[key] = {
            r.name: {"rps": round(r.rps, 1), "p50_ms": round(r.pct(0.5), 1), "p99_ms": round(r.pct(0.99), 1)}
            for r in results
        }
        baseline[key].update({name: round(ms, 1) for name, ms in cold.items()})
        baseline[key]["queries"] = {label: str(count) for label, count in full.items()}
        baseline[key]["generation_s"] = round(generated, 1)
        BASELINE.write_text(json.dumps(baseline, indent=2, ensure_ascii=False) + "\n")
        print(f"baseline saved for {key}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--projects", type=int, default=100_000)
    parser.add_argument("--events-per-project", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=8, help="concurrent clients")
    parser.add_argument("--requests", type=int, default=300, help="requests per scenario")
    parser.add_argument("--numbers-requests", type=int, default=40, help="requests for the numbers scenarios")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker")
    parser.add_argument("--only", default="", help="run only the scenarios whose name contains this")
    parser.add_argument("--save", action="store_true", help="store these figures as the baseline")
    args = parser.parse_args()
    with BenchEnv(env="development") as bench:
        bench.setup_django()
        ctx, small, full, generated = prepare(args)
        from django.db import connections

        connections.close_all()  # the server has the database to itself from here
        port = start_server(bench, args)
        ctx["cookies"] = {u: login(port, u, "demo") for u in ("leader", "promoter")}
        http_ = Http(port)
        results = []
        for name, requests in scenarios(ctx, args.requests, args.numbers_requests, args.concurrency):
            if args.only and args.only not in name:
                continue
            result = run(http_, name, requests, args.concurrency)
            print(
                f"  {name:40} {result.rps:7.1f} req/s  p50 {result.pct(0.5):8.1f} ms  "
                f"p99 {result.pct(0.99):8.1f} ms  errors {len(result.errors)}",
                flush=True,
            )
            results.append(result)
        key = f"investment/{ctx['vendor']}/{args.projects}"
        report(results, small, full, key, generated, args.save and not args.only, ctx["cold"])


if __name__ == "__main__":
    main()
