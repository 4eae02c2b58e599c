from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from yimatong.accounts.middleware import Origin, reset_origin, set_origin
from yimatong.demo.loader import load_demo, logins_table


class Command(BaseCommand):
    help = "Load the demo park (重庆国际生物城) or bring it up to date; running it twice changes nothing."

    def handle(self, *args, **options):
        token = set_origin(Origin(channel="cli"))
        try:
            report = load_demo()
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc
        finally:
            reset_origin(token)
        self.stdout.write(
            f"Demo park loaded: {report.created} created, {report.updated} updated, {report.unchanged} unchanged."
        )
        self.stdout.write("Demo logins / 演示账号:\n" + logins_table())
        from django.conf import settings

        if settings.WECHAT_SIMULATOR_URL:
            self.stdout.write(
                "WeChat simulator / 微信模拟器 (play an investor: scan, follow, write): "
                + settings.WECHAT_SIMULATOR_URL
            )
