"""Benchmark: the project ledger (招商项目台账) in Excel at 5,000 rows (the issue: 50,000).

Builds a throw-away database (SQLite in a temp dir, or PostgreSQL ``bench_yimatong`` when
DATABASE_URL points at PostgreSQL), loads the demo park, writes a ledger of N rows the way a
promoter fills in the template (every stage with the facts its gates need, half the investors
with a USCC, some registered companies new to the directory), then times what the console's
background tasks do:

- the template download;
- the row-by-row check of the upload (median of --repeat runs; no row may fail);
- the import of every row in one transaction (once: it creates the projects), then a check
  that the read aggregates (rollups) agree with a recomputation;
- the export of the project list the import produced, and the weekly major-project schedule;
- the console's two background tasks on a second ledger of as many new rows: the check of the
  upload, then the import (which checks the file again before writing).

    .venv/bin/python bench/ledger_import.py [--rows 5000] [--repeat 3] [--save]

Prints each figure and its ratio to bench/baseline.json (key ``ledger/<vendor>/<rows>``; above 1
is slower); --save stores the current figures as the baseline.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.benchenv import BASELINE, BenchEnv  # noqa: E402

PIPELINE = ["线索", "接洽", "考察", "洽谈", "签约", "注册落地", "开工建设", "投产", "达产"]
STAGES = [*PIPELINE, "搁置", "流失"]
CHAINS = ["抗体药物", "疫苗", "细胞与基因治疗", "抗体偶联药物（ADC）", "医疗器械", ""]


def ledger_row(i: int, today: dt.date) -> dict[str, Any]:
    """Row ``i``, keyed by the ledger's column keys."""
    from yimatong.lib.identifiers import uscc_with_check_digit

    label = STAGES[i % len(STAGES)]
    level = PIPELINE.index(label) if label in PIPELINE else -1
    signed_on = today - dt.timedelta(days=400 - i % 200)
    row: dict[str, Any] = {
        "name": f"台账项目{i:05d}",
        "investor": f"基准导入{i:05d}生物科技有限公司",
        "uscc": uscc_with_check_digit(f"91320500{i:09d}") if i % 2 == 0 else "",
        "chain": CHAINS[i % len(CHAINS)],
        "planned_investment": 2000 + i,
        "expected_output": 6000 + i if i % 3 == 0 else None,
        "land_mu": 50 + i % 7,
        "jobs": 100 + i % 50,
        "stage": label,
        "owner": "promoter" if i % 2 else "李敏",  # by username and by name
        "priority": "ABC"[i % 3],
        "source": ["展会", "推荐", ""][i % 3],
        "contact_name": f"联系人{i}" if i % 10 == 0 else "",
        "contact_phone": f"139{i:08d}" if i % 10 == 0 else "",
        "is_major": "是" if i % 100 == 0 else "否",
    }
    if level >= 4:
        row.update(agreement_type="正式协议", signed_on=signed_on, contracted_investment=5000 + i)
    if level >= 5:
        row.update(
            registered_uscc=uscc_with_check_digit(f"91500112{i:09d}"),
            registered_name=f"重庆基准{i:05d}生物制药有限公司",
            registered_on=signed_on + dt.timedelta(days=20),
        )
    if level >= 6:
        row.update(construction_started_on=signed_on + dt.timedelta(days=50), fixed_asset_investment=800 + i)
    if level >= 7:
        row["production_started_on"] = signed_on + dt.timedelta(days=110)
    if level >= 8:
        row["full_capacity_on"] = signed_on + dt.timedelta(days=200)
    if label in ("搁置", "流失"):
        row["exit_reason"] = "投资方资金未落实"
    return row


def ledger_file(rows: int, start: int = 0) -> bytes:
    from django.utils import timezone
    from openpyxl import Workbook

    from yimatong.investment import ledger

    today = timezone.localdate()
    book = Workbook(write_only=True)
    sheet = book.create_sheet("招商项目台账")
    sheet.append([str(c.header) + ("*" if c.required else "") for c in ledger.COLUMNS])
    for i in range(start, start + rows):
        row = ledger_row(i, today)
        sheet.append([row.get(c.key) for c in ledger.COLUMNS])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def timed(fn, repeat: int) -> tuple[float, Any]:
    samples, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples), result


def run(rows: int, repeat: int) -> dict[str, float]:
    from django.core.files.base import ContentFile
    from django.utils import translation

    from yimatong.accounts.models import User
    from yimatong.demo.loader import load_demo
    from yimatong.investment import imports, ledger, rollups
    from yimatong.investment.models import LedgerImport, Project

    load_demo()
    translation.activate("zh-hans")
    teamlead = User.objects.get(username="teamlead")  # may assign rows to the team's promoters
    leader = User.objects.get(username="leader")
    content = ledger_file(rows)
    print(f"ledger of {rows} rows: {len(content) / 1024:.0f} KiB", flush=True)
    figures: dict[str, float] = {}

    figures["template download (s)"], _ = timed(ledger.template_workbook, repeat)
    cpu: dict[str, float] = {}
    started = time.process_time()
    figures["check (s)"], (checked, file_errors) = timed(
        lambda: ledger.check(content, "ledger.xlsx", teamlead), repeat
    )
    cpu["check"] = (time.process_time() - started) / repeat
    failing = [(row.number, e.column, e.message) for row in checked for e in row.errors]
    assert not file_errors and not failing, (file_errors, failing[:5])
    before = Project.objects.count()
    started = time.process_time()
    figures["import (s)"], created = timed(lambda: ledger.import_rows(checked, teamlead), 1)
    cpu["import"] = time.process_time() - started
    assert created == rows == Project.objects.count() - before, (created, rows)
    figures["export project list (s)"], (_, exported) = timed(
        lambda: ledger.projects_workbook(leader, {}), repeat
    )
    assert exported >= rows, exported
    figures["export weekly major schedule (s)"], _ = timed(
        lambda: ledger.major_weekly_workbook(leader, {}), repeat
    )
    figures["check + import (s)"] = figures["check (s)"] + figures["import (s)"]
    # On a shared machine the wall time says how loaded it was as much as how fast the code is:
    # the CPU time of this process (the database server's not included) for the same work.
    figures["check + import, this process's CPU (s)"] = cpu["check"] + cpu["import"]
    figures["rows per second (check + import)"] = rows / figures["check + import (s)"]
    problems = rollups.check()
    assert not problems, problems[:5]

    # What the console does with a second ledger of as many rows (new projects): the upload's
    # check task, then the import task, which checks the file again before writing.
    second = ledger_file(rows, start=rows)
    job = LedgerImport(uploaded_by=teamlead, original_name="ledger-2.xlsx", language="zh-hans")
    job.file.save("ledger-2.xlsx", ContentFile(second), save=False)
    job.save()
    started = time.perf_counter()
    imports.run_check(job.pk)
    job.refresh_from_db()
    assert (job.status, job.valid_rows) == ("checked", rows), (job.status, job.errors[:5])
    figures["console: check task (s)"] = time.perf_counter() - started
    started = time.perf_counter()
    # The bench's settings run tasks inline: confirming runs the import task (run_import is
    # then a no-op); with a worker, run_import is what the worker runs.
    assert imports.confirm(job=job, user=teamlead, mode=LedgerImport.Mode.ALL_OR_NOTHING)
    imports.run_import(job.pk)
    figures["console: import task, re-check included (s)"] = time.perf_counter() - started
    job.refresh_from_db()
    assert (job.status, job.imported_rows) == ("done", rows), (job.status, job.failure)
    assert Project.objects.count() - before == 2 * rows
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--save", action="store_true", help="store these figures as the baseline")
    args = parser.parse_args()
    with BenchEnv(env="test") as bench:
        bench.setup_django()
        from django.db import connection

        vendor = connection.vendor
        figures = run(args.rows, args.repeat)
    key = f"ledger/{vendor}/{args.rows}"
    baseline = json.loads(BASELINE.read_text()) if BASELINE.exists() else {}
    base = baseline.get(key, {})
    print(f"\ndatabase: {vendor}, {args.rows} rows; median of {args.repeat} (the import runs once)")
    print(f"{'step':40} {'figure':>10} {'baseline':>10} {'ratio':>7}")
    for name, value in figures.items():
        ref = base.get(name)
        ratio = f"{value / ref:7.2f}" if ref else "      —"
        print(f"{name:40} {value:10.2f} {ref if ref else '—':>10} {ratio}")
    print("(ratio above 1: slower, except rows per second where above 1 is faster)")
    print(f"load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())} ({os.cpu_count()} CPUs)")
    if args.rows == 50000:
        total = figures["check + import (s)"]
        print(
            f"issue budget, 50,000 rows checked and imported < 30 s: {total:.1f} s {'PASS' if total < 30 else 'FAIL'}"
        )
    if args.save:
        baseline[key] = {name: round(value, 2) for name, value in figures.items()}
        BASELINE.write_text(json.dumps(baseline, indent=2, ensure_ascii=False) + "\n")
        print(f"baseline saved for {key}")


if __name__ == "__main__":
    main()
