"""Benchmark: the RSS of gunicorn's workers (production's configuration, ``--preload``, 2 sync
workers) when they start and after they served the city's heaviest pages (the home page of three
roles, the board, the project list, supervision, major projects, the cockpit and bulletin, the
numbers, the demand queue), two clients at a time, three rounds. The issue's budget is 200 MiB
per worker; bench/city.py reports the same after its whole run, this one takes a minute.

    DATABASE_URL=postgres://…/<copy of the city> .venv/bin/python bench/worker_memory.py

The copy: ``CREATE DATABASE x TEMPLATE ymt_city_cache_full_<key>`` (bench/city.py's cache), then
``yimatong migrate`` and ``yimatong rebuild_rollups --clear``.
"""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.benchenv import login, wait_until_answers  # noqa: E402
from bench.city import MIB, RSS_BUDGET_MIB, Workers  # noqa: E402

PORT = 8141
PAGES = [
    ("leader", "/"),
    ("promoter", "/"),
    ("service", "/"),
    ("leader", "/investment/projects/board/"),
    ("promoter", "/investment/projects/board/"),
    ("leader", "/investment/projects/"),
    ("leader", "/investment/supervision/"),
    ("leader", "/investment/major/"),
    ("leader", "/stats/cockpit/?year=2025&month=4"),
    ("leader", "/stats/cockpit/bulletin/?year=2025&month=4"),
    ("leader", "/stats/cockpit/?year=2025&month=4&segment=biologics"),
    ("leader", "/investment/numbers/"),
    ("service", "/services/demands/?tab=todo"),
]


def get(cookie: str, path: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=120)
    conn.request("GET", path, headers={"Host": "127.0.0.1", "Cookie": cookie})
    response = conn.getresponse()
    response.read()
    return response.status


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="ymt-memory-"))
    log = tmp / "server.log"
    env = dict(
        os.environ,
        ALLOWED_HOSTS="127.0.0.1",
        DJANGO_SETTINGS_MODULE="bench.bench_settings",
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
        YIMATONG_VAR_DIR=str(tmp),
    )
    command = [
        *(sys.executable, "-m", "gunicorn", "yimatong.wsgi:application"),
        *("--worker-class", "sync", "--workers", "2", "--bind", f"127.0.0.1:{PORT}"),
        *("--log-level", "warning", "--config", "python:yimatong.gunicorn_conf", "--preload"),
    ]
    with log.open("w") as out:
        server = subprocess.Popen(command, env=env, stdout=out, stderr=out)
    try:
        wait_until_answers(server, PORT, "/bench/floor/", log, 120)
        workers = Workers(server.pid)
        start = {pid: round(Workers.rss(pid) / MIB) for pid in workers.pids()}
        print(f"workers at start: {start} MiB")
        cookies = {user: login(PORT, user, "demo", timeout=120) for user in {u for u, _ in PAGES}}
        failed = []
        for _round in range(3):
            for user, path in PAGES:
                statuses: list[int] = []
                clients = [
                    threading.Thread(
                        target=lambda u=user, p=path, got=statuses: got.append(get(cookies[u], p))
                    )
                    for _ in range(2)
                ]
                for client in clients:
                    client.start()
                for client in clients:
                    client.join()
                failed += [(path, s) for s in statuses if s != 200]
        found = workers.finish()
        replaced = log.read_text(errors="replace").count("MiB): replaced")
        worst = max([*found["after_load_mib"].values(), found["peak_mib"]])
        print(
            f"after {3 * 2 * len(PAGES)} requests: {found['after_load_mib']} MiB"
            f" (PSS {found['after_load_pss_mib']}); the most seen {found['peak_mib']} MiB;"
            f" {replaced} worker(s) replaced over the limit; failed requests: {failed or 'none'}"
        )
        print(f"budget {RSS_BUDGET_MIB} MiB per worker: {'PASS' if worst <= RSS_BUDGET_MIB else 'FAIL'}")
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
