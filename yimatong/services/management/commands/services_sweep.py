import time

from django.core.management.base import BaseCommand

from yimatong.accounts.middleware import Origin, reset_origin, set_origin
from yimatong.services.actions import climb_ladder


class Command(BaseCommand):
    help = (
        "Climb the demands' escalation ladder (warning, 催办, 催办通知书, 通报) by working days. Run it "
        "hourly or keep it running with --every; several copies at once send each notice once."
    )

    def add_arguments(self, parser):
        parser.add_argument("--every", type=int, default=0, metavar="SECONDS")

    def handle(self, *args, every: int = 0, **options):
        while True:
            token = set_origin(Origin(channel="system"))
            try:
                report = climb_ladder()
            finally:
                reset_origin(token)
            self.stdout.write(str(report))
            if not every:
                return
            time.sleep(every)
