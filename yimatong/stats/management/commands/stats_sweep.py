import time

from django.core.management.base import BaseCommand
from django.utils import timezone

from yimatong.accounts.middleware import Origin, reset_origin, set_origin
from yimatong.stats.actions import fix_above_scale, remind_missing


class Command(BaseCommand):
    help = (
        "Monthly direct reporting: fix this year's 规上工业 set once (from last year's December "
        "revenue) and remind the enterprises that have not reported three days before the deadline "
        "and on the day (console and WeChat template, once each). Run it daily or keep it running "
        "with --every; several copies at once send each reminder once."
    )

    def add_arguments(self, parser):
        parser.add_argument("--every", type=int, default=0, metavar="SECONDS")

    def handle(self, *args, every: int = 0, **options):
        while True:
            token = set_origin(Origin(channel="system"))
            try:
                members = fix_above_scale(year=timezone.localdate().year)
                report = remind_missing()
            finally:
                reset_origin(token)
            self.stdout.write(
                f"above-scale set: {members}; reminded: {report.reminded}, by WeChat: {report.wechat}"
            )
            if not every:
                return
            time.sleep(every)
