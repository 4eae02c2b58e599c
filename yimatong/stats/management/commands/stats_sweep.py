import time

from django.core.management.base import BaseCommand

from yimatong.accounts.middleware import Origin, reset_origin, set_origin
from yimatong.stats.actions import fix_above_scale_when_due, remind_missing


class Command(BaseCommand):
    help = (
        "Monthly direct reporting: fix this year's 规上工业 set once last year's December reports "
        "are in (after their deadline, from their revenue) and remind the enterprises that have not reported three days before the deadline "
        "and on the day (console and WeChat template, once each). Run it daily or keep it running "
        "with --every; several copies at once send each reminder once."
    )

    def add_arguments(self, parser):
        parser.add_argument("--every", type=int, default=0, metavar="SECONDS")

    def handle(self, *args, every: int = 0, **options):
        while True:
            token = set_origin(Origin(channel="system"))
            try:
                members = fix_above_scale_when_due()
                report = remind_missing()
            finally:
                reset_origin(token)
            self.stdout.write(
                f"above-scale set: {'not fixed yet' if members is None else members}; reminded: {report.reminded}, by WeChat: {report.wechat}"
            )
            if not every:
                return
            time.sleep(every)
