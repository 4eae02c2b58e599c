"""``yimatong wechat accounts``: what to type into each official account's developer settings."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from yimatong.wechat.actions import public_url
from yimatong.wechat.models import OfficialAccount


class Command(BaseCommand):
    help = "Show the official accounts' callback settings (wechat accounts)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("what", choices=["accounts"])

    def handle(self, *args, what: str, **options) -> None:
        accounts = list(OfficialAccount.objects.order_by("pk"))
        if not accounts:
            raise CommandError(
                "No official account is configured (add one in the admin: 微信公众号 → 公众号)."
            )
        for account in accounts:
            self.stdout.write(
                "\n".join(
                    [
                        f"{account.name} ({account.slug}){'' if account.is_active else ' [disabled]'}",
                        f"  URL (服务器地址):            {public_url(account.callback_path())}",
                        f"  AppID:                       {account.appid}",
                        f"  Token (令牌):                {account.token}",
                        f"  EncodingAESKey (消息加解密密钥): {account.encoding_aes_key or '-'}",
                        f"  Mode (消息加解密方式):        {account.mode} ({account.get_mode_display()})",
                        "",
                    ]
                )
            )
