import time

from django.core.management.base import BaseCommand

from yimatong.accounts.middleware import Origin, reset_origin, set_origin
from yimatong.investment.actions.sweep import sweep


class Command(BaseCommand):
    help = (
        "Return untouched leads to the pool, auto-archive stale projects, remind overdue follow-ups and "
        "milestones, escalate overdue problems. Run it hourly from cron or a timer, or keep it running with "
        "--every; several copies at once are safe."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--every",
            type=int,
            default=0,
            metavar="SECONDS",
            help="keep running, sweeping every SECONDS (0: sweep once and exit)",
        )

    def handle(self, *args, every: int = 0, **options):
        while True:
            token = set_origin(Origin(channel="system"))
            try:
                report = sweep()
            finally:
                reset_origin(token)
            self.stdout.write(str(report))
            if not every:
                return
            time.sleep(every)
