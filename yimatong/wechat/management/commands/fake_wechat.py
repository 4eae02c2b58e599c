"""Run the fake WeChat server (demo and development): the API our client calls, web OAuth's
development sign-in, pushes to our callback, and the investor simulator at /simulator/."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from yimatong.wechat.fake import FakeWeChat
from yimatong.wechat.provider import DatabaseProvider


class Command(BaseCommand):
    help = "Run the fake WeChat server on loopback (never in production)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8001)

    def handle(self, *args, host: str, port: int, **options) -> None:
        from django.conf import settings

        if settings.PRODUCTION:
            self.stderr.write("The fake WeChat server is for the demo and development, not production.")
            raise SystemExit(2)
        fake = FakeWeChat(host, port, provider=DatabaseProvider()).start()
        self.stdout.write(f"Fake WeChat on {fake.base_url} · simulator: {fake.base_url}/simulator/")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
        finally:
            fake.stop()
