"""Recompute the investment read aggregates from the projects and their events.

yimatong rebuild_rollups          # bring every project's share up to date (safe while serving)
yimatong rebuild_rollups --clear  # start the tallies from zero (one transaction)
yimatong rebuild_rollups --check  # only compare; exit 1 and list the differences if any
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from yimatong.investment import rollups
from yimatong.investment.models import rollups as tables
from yimatong.lib.analyze import analyze


class Command(BaseCommand):
    help = "Recompute the investment read aggregates (board, numbers, cockpit) from the events."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--clear", action="store_true", help="start the tallies from zero")
        parser.add_argument("--check", action="store_true", help="only compare, change nothing")

    def handle(self, *args: Any, clear: bool = False, check: bool = False, **options: Any) -> None:
        started = time.perf_counter()
        if check:
            problems = rollups.check()
            for line in problems[:50]:
                self.stdout.write(line)
            if problems:
                raise CommandError(f"{len(problems)} aggregate rows differ from the events")
            self.stdout.write(
                f"The aggregates agree with the events ({time.perf_counter() - started:.1f} s)."
            )
            return
        changed = rollups.refresh_all(clear=clear)
        analyze(
            tables.ProjectRollup,
            tables.ProjectTally,
            tables.ProjectFlow,
            tables.ProjectCohort,
            tables.ProjectStay,
        )
        self.stdout.write(f"{changed} projects refreshed in {time.perf_counter() - started:.1f} s.")
