"""Count again the working hours stored on the demands (response and handling), e.g. after a
bulk load of demands; the actions and a change of the park's calendar keep them otherwise."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand

from yimatong.lib.analyze import analyze
from yimatong.services.kpis import fill_work_hours
from yimatong.services.models import Demand


class Command(BaseCommand):
    help = "Count again the working hours stored on the demands (the KPIs sum them)."

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        changed = fill_work_hours(Demand.objects.filter(dispatched_at__isnull=False))
        analyze(Demand)
        self.stdout.write(f"{changed} demands updated in {time.perf_counter() - started:.1f} s.")
