"""What the fake WeChat server needs to know about this deployment's accounts: their keys and
callback URLs, their channel codes, portal and menu (for the demo's simulator)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.db import connections

from yimatong.wechat.actions import portal_url, public_url
from yimatong.wechat.fake import FakeAccount
from yimatong.wechat.models import KeywordReply, OfficialAccount, QrCode


@contextlib.contextmanager
def _thread_connection() -> Iterator[None]:
    """The fake server answers each request in a new thread: close that thread's database
    connection when done, so the simulator's polling does not pile connections up."""
    try:
        yield
    finally:
        if threading.current_thread() is not threading.main_thread():
            connections.close_all()


class DatabaseProvider:
    """Reads the accounts and codes from the database on every simulator request, so accounts
    and codes created in the console appear in the simulator at once."""

    def accounts(self) -> list[FakeAccount]:
        with _thread_connection():
            return [fake_account(a) for a in OfficialAccount.objects.filter(is_active=True)]

    def codes(self, appid: str) -> list[dict[str, Any]]:
        with _thread_connection():
            return [
                {"name": code.name, "scene": code.scene, "caption": code.caption}
                for code in QrCode.objects.filter(account__appid=appid).order_by("-is_permanent", "name")
            ]

    def portal_url(self, appid: str) -> str:
        with _thread_connection():
            account = OfficialAccount.objects.filter(appid=appid).first()
            return portal_url(account) if account else settings.WECHAT_PUBLIC_URL

    def menu(self, appid: str) -> list[dict[str, str]]:
        with _thread_connection():
            replies = KeywordReply.objects.filter(
                account__appid=appid, trigger=KeywordReply.Trigger.CLICK, is_active=True
            ).order_by("priority", "pk")
            return [{"name": r.keyword, "key": r.keyword} for r in replies]


def fake_account(account: OfficialAccount, *, base_url: str | None = None) -> FakeAccount:
    return FakeAccount(
        appid=account.appid,
        secret=account.secret,
        token=account.token,
        encoding_aes_key=account.encoding_aes_key,
        mode=account.mode,
        callback_url=(base_url.rstrip("/") + account.callback_path())
        if base_url
        else public_url(account.callback_path()),
        name=account.name,
    )
