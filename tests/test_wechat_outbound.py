"""Outbound calls with the real wechatpy client against the fake WeChat server: the shared
token, the customer-service window and its fallbacks, template idempotency, retries."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import textwrap
import time

import pytest
from django.utils import timezone

from yimatong.lib.errors import ActionError
from yimatong.notifications.models import Notification
from yimatong.wechat import actions
from yimatong.wechat.client import (
    DatabaseTokenStore,
    ParkClient,
    RedisTokenStore,
    WeChatError,
    access_token,
)
from yimatong.wechat.models import AccessToken, Follower, OutboundMessage

pytestmark = pytest.mark.django_db(transaction=True)

REDIS_URL = os.environ.get("YIMATONG_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _redis_available() -> bool:
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping()
        return True
    except Exception:
        return False


def _follower(live_wechat, account, openid: str, *, write: str | None = "你好") -> Follower:
    """An investor who followed (and wrote), through real pushes to the live callback."""
    live_wechat.user_subscribe(account.appid, openid)
    if write:
        live_wechat.user_text(account.appid, openid, write)
    return Follower.objects.get(account=account, openid=openid)


def test_the_token_is_fetched_once_and_shared_through_the_database(fake_wechat, wechat_accounts):
    safe, _ = wechat_accounts
    fake_wechat.add_account(_fake(safe))
    first = access_token(safe, store=DatabaseTokenStore())
    second = access_token(safe, store=DatabaseTokenStore())
    assert first == second
    assert fake_wechat.count("/cgi-bin/stable_token") == 1
    assert AccessToken.objects.get(account=safe).fetched_count == 1


@pytest.mark.skipif(not _redis_available(), reason="no Redis at YIMATONG_TEST_REDIS_URL")
def test_two_worker_processes_share_one_token_fetch_through_redis(fake_wechat, wechat_accounts, tmp_path):
    safe, _ = wechat_accounts
    fake_wechat.add_account(_fake(safe))
    prefix = f"ymt-test-{os.getpid()}-{time.time_ns()}"
    RedisTokenStore(REDIS_URL, prefix).clear(safe)
    start_at = time.time() + 2.0
    script = textwrap.dedent(
        f"""
        import os, sys, time
        os.environ["DJANGO_SETTINGS_MODULE"] = "yimatong.settings_test"
        import django
        django.setup()
        from django.conf import settings
        settings.WECHAT_API_BASE_URL = {fake_wechat.base_url!r}
        from yimatong.wechat.client import RedisTokenStore, access_token
        from yimatong.wechat.models import OfficialAccount
        account = OfficialAccount(appid={safe.appid!r}, secret={safe.secret!r})
        store = RedisTokenStore({REDIS_URL!r}, {prefix!r})
        time.sleep(max(0, {start_at} - time.time()))
        print(access_token(account, store=store))
        """
    )
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outputs = [w.communicate(timeout=60) for w in workers]
    tokens = [out.strip().splitlines()[-1] for out, _err in outputs]
    assert all(w.returncode == 0 for w in workers), [err for _out, err in outputs]
    assert tokens[0] == tokens[1]
    assert fake_wechat.count("/cgi-bin/stable_token") == 1
    RedisTokenStore(REDIS_URL, prefix).clear(safe)


def test_an_invalidated_token_is_refreshed_once_and_the_call_retried(fake_wechat, wechat_accounts):
    safe, _ = wechat_accounts
    fake_wechat.add_account(_fake(safe))
    client = ParkClient(safe)
    client.create_qr(scene="a", permanent=True)
    fake_wechat.invalidate_tokens(safe.appid)
    answer = client.create_qr(scene="b", permanent=True)
    assert answer["ticket"]
    assert fake_wechat.count("/cgi-bin/stable_token") == 2


def test_a_token_error_after_the_refresh_is_not_retried_forever(fake_wechat, wechat_accounts):
    safe, _ = wechat_accounts
    fake_wechat.add_account(_fake(safe))
    fake_wechat.fail_next("/cgi-bin/qrcode/create", 40001, times=5)
    with pytest.raises(WeChatError) as raised:
        ParkClient(safe).create_qr(scene="c", permanent=True)
    assert raised.value.code == 40001
    assert fake_wechat.count("/cgi-bin/qrcode/create") == 2


def test_every_call_has_a_timeout(fake_wechat, wechat_accounts, settings):
    safe, _ = wechat_accounts
    fake_wechat.add_account(_fake(safe))
    settings.WECHAT_TIMEOUT = 0.3
    access_token(safe)
    fake_wechat.delay_next("/cgi-bin/user/info", 2.0)
    started = time.monotonic()
    with pytest.raises(WeChatError) as raised:
        ParkClient(safe).user_info("o-1")
    assert raised.value.ambiguous and time.monotonic() - started < 1.5


def test_a_reply_inside_the_window_reaches_the_investor(live_wechat, wechat_accounts, park):
    safe, _ = wechat_accounts
    follower = _follower(live_wechat, safe, "o-reply-1")
    message = actions.send_reply(actor=park.users["owner"], follower=follower, text="您好，欢迎来园考察。")
    message.refresh_from_db()
    assert message.status == "sent"
    assert [m["text"] for m in live_wechat.inbox(safe.appid, "o-reply-1") if m["kind"] == "custom"] == [
        "您好，欢迎来园考察。"
    ]


def test_the_console_refuses_a_sixth_reply_to_one_message_and_offers_the_template(
    live_wechat, wechat_accounts, park
):
    safe, _ = wechat_accounts
    follower = _follower(live_wechat, safe, "o-quota")
    # The follow gave 3 sends within a minute and the message 5 within 48 hours: 5 in all.
    for n in range(5):
        actions.send_reply(actor=park.users["owner"], follower=follower, text=f"第 {n + 1} 条")
    assert actions.window(follower).open is False
    with pytest.raises(ActionError) as refused:
        actions.send_reply(actor=park.users["owner"], follower=follower, text="第 6 条")
    assert refused.value.code == "window_closed"
    assert OutboundMessage.objects.filter(follower=follower, kind="custom").count() == 5
    fallback = actions.send_template_reply(actor=park.users["owner"], follower=follower, text="第 6 条")
    fallback.refresh_from_db()
    assert fallback.status == "sent" and fallback.client_msg_id == f"reply-{fallback.pk}"
    assert [m["kind"] for m in live_wechat.inbox(safe.appid, "o-quota")].count("template") == 1


def test_the_window_closes_48_hours_after_the_investors_last_message(live_wechat, wechat_accounts, park):
    safe, _ = wechat_accounts
    follower = _follower(live_wechat, safe, "o-late")
    later = timezone.now() + dt.timedelta(hours=49)
    assert actions.window(follower, now=later).open is False
    with pytest.raises(ActionError):
        actions.send_reply(actor=park.users["owner"], follower=follower, text="迟到的回复", now=later)


def test_a_45015_answer_is_recorded_with_its_code_and_the_sender_told(live_wechat, wechat_accounts, park):
    safe, _ = wechat_accounts
    follower = _follower(live_wechat, safe, "o-45015")
    real_clock = live_wechat.clock
    live_wechat.clock = lambda: real_clock() + 49 * 3600  # WeChat's side has moved on: window shut
    message = actions.send_reply(actor=park.users["owner"], follower=follower, text="您好")
    message.refresh_from_db()
    assert message.status == "failed" and message.error_code == 45015
    notice = Notification.objects.get(
        recipient=park.users["owner"], kind="wechat_message", key__startswith="wechat-out-failed"
    )
    assert "模板消息" in notice.body


def test_a_45047_answer_is_handled_like_the_closed_window(live_wechat, wechat_accounts, park):
    safe, _ = wechat_accounts
    follower = _follower(live_wechat, safe, "o-45047")
    live_wechat.fail_next("/cgi-bin/message/custom/send", 45047, "out of response count limit")
    message = actions.send_reply(actor=park.users["owner"], follower=follower, text="您好")
    message.refresh_from_db()
    assert message.status == "failed" and message.error_code == 45047
    assert message.attempts[0]["errcode"] == 45047
    # The console believes WeChat: no more customer-service messages until the investor writes.
    assert actions.window(follower).open is False


def test_a_template_resent_after_an_ambiguous_timeout_is_delivered_once(
    live_wechat, wechat_accounts, park, settings
):
    safe, _ = wechat_accounts
    follower = _follower(live_wechat, safe, "o-timeout", write=None)
    settings.WECHAT_TIMEOUT = 0.5
    access_token(safe)
    live_wechat.delay_next("/cgi-bin/message/template/send", 1.5, then_process=True)
    message = actions.send_template_reply(actor=park.users["owner"], follower=follower, text="请查看回复")
    message.refresh_from_db()
    assert message.status == "sent" and len(message.attempts) == 2
    assert message.attempts[0]["errcode"] is None  # the timeout
    templates = [m for m in live_wechat.inbox(safe.appid, "o-timeout") if m["kind"] == "template"]
    assert len(templates) == 1 and str(templates[0]["msgid"]) == message.msgid


def test_a_custom_message_that_timed_out_is_marked_unknown_and_not_resent(
    live_wechat, wechat_accounts, park, settings
):
    safe, _ = wechat_accounts
    follower = _follower(live_wechat, safe, "o-unknown")
    settings.WECHAT_TIMEOUT = 0.5
    access_token(safe)
    live_wechat.delay_next("/cgi-bin/message/custom/send", 1.5, then_process=True)
    message = actions.send_reply(actor=park.users["owner"], follower=follower, text="您好")
    message.refresh_from_db()
    assert message.status == "unknown"
    assert live_wechat.count("/cgi-bin/message/custom/send") == 1


def test_a_busy_answer_to_a_template_is_retried_with_the_same_client_msg_id(
    live_wechat, wechat_accounts, park
):
    safe, _ = wechat_accounts
    follower = _follower(live_wechat, safe, "o-busy", write=None)
    live_wechat.fail_next("/cgi-bin/message/template/send", -1, "system busy")
    message = actions.send_template_reply(actor=park.users["owner"], follower=follower, text="请查看回复")
    message.refresh_from_db()
    assert message.status == "sent"
    assert [a["errcode"] for a in message.attempts] == [-1, 0]
    ids = [
        payload.get("client_msg_id")
        for path, payload in live_wechat.calls
        if path == "/cgi-bin/message/template/send"
    ]
    assert ids == [message.client_msg_id, message.client_msg_id]


def test_a_template_to_someone_who_unfollowed_fails_with_43004(live_wechat, wechat_accounts, park):
    safe, _ = wechat_accounts
    follower = _follower(live_wechat, safe, "o-gone", write=None)
    live_wechat.user_unsubscribe(safe.appid, "o-gone")
    follower.refresh_from_db()
    with pytest.raises(ActionError):
        actions.send_template_reply(actor=park.users["owner"], follower=follower, text="x")


def test_a_failed_message_can_be_retried_by_staff(live_wechat, wechat_accounts, park):
    safe, _ = wechat_accounts
    follower = _follower(live_wechat, safe, "o-retry")
    live_wechat.fail_next("/cgi-bin/message/custom/send", -1, "system busy")
    message = actions.send_reply(actor=park.users["owner"], follower=follower, text="您好")
    message.refresh_from_db()
    assert message.status == "failed"
    actions.retry_delivery(actor=park.users["owner"], message=message)
    message.refresh_from_db()
    assert message.status == "sent" and len(message.attempts) == 2


def _fake(account):
    from yimatong.wechat.provider import fake_account

    return fake_account(account, base_url="http://127.0.0.1:9")
