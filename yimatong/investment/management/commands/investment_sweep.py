from django.core.management.base import BaseCommand

from yimatong.accounts.middleware import Origin, reset_origin, set_origin
from yimatong.investment.actions.sweep import sweep


class Command(BaseCommand):
    help = (
        "Return untouched leads to the pool, auto-archive stale projects, remind overdue follow-ups and "
        "milestones, escalate overdue problems. Run it every hour (several workers at once are safe)."
    )

    def handle(self, *args, **options):
        token = set_origin(Origin(channel="system"))
        try:
            report = sweep()
        finally:
            reset_origin(token)
        self.stdout.write(str(report))
