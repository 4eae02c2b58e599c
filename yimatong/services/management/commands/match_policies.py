"""Match every current policy against every resident again and bring the stored matches up to
date (only the changed rows are written; new matches are told as saving a policy tells them).
Run it after a bulk load of enterprises or policies, and once a day: an enterprise's years
since registration grow with the date, not with an edit."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from yimatong.services import policy_actions
from yimatong.services.models import Policy


class Command(BaseCommand):
    help = "Match the current policies (or the ones named) against every resident enterprise."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("codes", nargs="*", help="policy codes (default: every current policy)")

    def handle(self, *args: Any, **options: Any) -> None:
        policies = list(Policy.objects.current().order_by("pk"))
        if options["codes"]:
            policies = list(Policy.objects.filter(code__in=options["codes"]).order_by("pk"))
            unknown = set(options["codes"]) - {policy.code for policy in policies}
            if unknown:
                raise CommandError(f"No policy with the code {', '.join(sorted(unknown))}.")
        started = time.perf_counter()
        written = policy_actions.rematch(policies, policy_actions.residents())
        self.stdout.write(
            f"{len(policies)} policies matched; {written} matches written in {time.perf_counter() - started:.1f} s."
        )
