"""What a push costs the callback (queries pinned, so a change that adds one is seen), and the
per-process copy of the account that saves reading it on every push."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult

from tests import wechat_support as wx
from yimatong.wechat import callback_accounts
from yimatong.wechat.models import Follower, InboundMessage, KeywordReply, OfficialAccount

DATABASE_QUEUE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture
def accounts(db, settings):
    settings.WECHAT_ACCOUNT_CACHE_SECONDS = 3600
    return wx.make_accounts()


def post(client, account, fields, **kwargs):
    return wx.post(client, account, fields, **kwargs)


def test_a_new_message_from_a_known_follower_costs_two_reads_and_three_writes(client, accounts, settings):
    """Whether the push is stored already, the follower; then in one transaction the message
    (the claim), the follower's last message time and the processing task."""
    settings.TASKS = DATABASE_QUEUE
    safe, plain = accounts
    for account in (safe, plain):
        post(client, account, wx.text("o-known", "第一条"))  # the follower exists, the account is kept
        with CaptureQueriesContext(connection) as queries:
            response = post(client, account, wx.text("o-known", "第二条"))
        assert response.status_code == 200
        statements = [q["sql"].split()[0] for q in queries.captured_queries]
        # SAVEPOINT/RELEASE: the push's transaction inside the test's own. On SQLite whether the
        # push is stored is read again once the writer's turn has come.
        reads = ["SELECT", "SELECT", "SELECT"] if connection.vendor == "sqlite" else ["SELECT", "SELECT"]
        assert statements == [*reads, "SAVEPOINT", "INSERT", "UPDATE", "INSERT", "RELEASE"], statements
        message = InboundMessage.objects.get(account=account, content="第二条")
        assert DBTaskResult.objects.filter(args_kwargs__args=[message.pk]).count() == 1


def test_a_redelivered_copy_costs_one_query_and_writes_nothing(client, accounts):
    safe, _ = accounts
    fields = wx.text("o-again", "想了解厂房")
    post(client, safe, fields)
    before = Follower.objects.values_list("updated_at", flat=True).get()
    for _copy in range(3):
        with CaptureQueriesContext(connection) as queries:
            response = post(client, safe, fields)
        assert response.status_code == 200 and response.content == b"success"
        assert len(queries.captured_queries) == 1
    assert InboundMessage.objects.count() == 1
    assert Follower.objects.values_list("updated_at", flat=True).get() == before


def test_a_first_message_from_a_new_follower_creates_the_follower_in_the_same_transaction(client, accounts):
    _, plain = accounts
    with CaptureQueriesContext(connection) as queries:
        assert post(client, plain, wx.text("o-new", "hello")).status_code == 200
    statements = [q["sql"].split()[0] for q in queries.captured_queries]
    # account, replies, stored?, (SQLite: stored? again in the writer's turn), follower (none),
    # then in the transaction: follower read again, created (its own savepoint), message.
    assert statements[:3] == ["SELECT", "SELECT", "SELECT"]
    assert statements.count("INSERT") == 2 and Follower.objects.filter(openid="o-new").count() == 1


def test_the_account_and_its_replies_are_read_once_per_cache_period(client, accounts, settings):
    safe, _ = accounts
    safe.keyword_replies.create(keyword="政策", reply="政策一览")
    assert wx.reply_text(safe, post(client, safe, wx.text("o-c", "有什么政策"))) == "政策一览"
    KeywordReply.objects.filter(account=safe).update(reply="新的政策一览")
    # Kept: the edit is not seen yet...
    assert wx.reply_text(safe, post(client, safe, wx.text("o-c", "还有政策吗"))) == "政策一览"
    # ...and is once the period is over.
    settings.WECHAT_ACCOUNT_CACHE_SECONDS = 0
    assert wx.reply_text(safe, post(client, safe, wx.text("o-c", "政策更新了吗"))) == "新的政策一览"


def test_a_new_token_applies_at_once_although_the_account_is_kept(client, accounts):
    safe, _ = accounts
    assert post(client, safe, wx.text("o-t", "旧令牌")).status_code == 200
    OfficialAccount.objects.filter(pk=safe.pk).update(token="tokennew")
    safe.token = "tokennew"
    assert post(client, safe, wx.text("o-t", "新令牌")).status_code == 200
    old = OfficialAccount(
        slug=safe.slug,
        token="tokencn",
        encoding_aes_key=safe.encoding_aes_key,
        appid=safe.appid,
        mode=safe.mode,
    )
    assert post(client, old, wx.text("o-t", "旧令牌再来")).status_code == 403
    assert sorted(InboundMessage.objects.values_list("content", flat=True)) == ["新令牌", "旧令牌"]


def test_a_new_aes_key_applies_at_once_although_the_account_is_kept(client, accounts):
    safe, _ = accounts
    assert post(client, safe, wx.text("o-k", "旧密钥")).status_code == 200
    OfficialAccount.objects.filter(pk=safe.pk).update(encoding_aes_key="B" * 43)
    safe.encoding_aes_key = "B" * 43
    assert post(client, safe, wx.text("o-k", "新密钥")).status_code == 200


def test_a_forged_push_is_refused_with_the_fresh_account_too(client, accounts):
    safe, _ = accounts
    post(client, safe, wx.text("o-f", "真的"))
    query, body = wx.request_for(safe, wx.text("o-f", "假的"))
    query["signature"] = "f" * 40
    with CaptureQueriesContext(connection) as queries:
        response = client.post(
            f"{safe.callback_path()}?{urlencode(query)}", data=body, content_type="text/xml"
        )
    assert response.status_code == 403
    # The kept copy refused it; a fresh read (account, replies) agreed.
    assert len(queries.captured_queries) == 2
    assert InboundMessage.objects.count() == 1


def test_a_deactivated_account_is_refused_once_its_copy_expires(client, accounts, settings):
    _, plain = accounts
    post(client, plain, wx.text("o-d", "hi"))
    OfficialAccount.objects.filter(pk=plain.pk).update(is_active=False)
    settings.WECHAT_ACCOUNT_CACHE_SECONDS = 0
    assert post(client, plain, wx.text("o-d", "still there?")).status_code == 403
    assert callback_accounts.get(plain.slug) is None


def test_saving_the_account_in_the_admin_forgets_the_kept_copy(client, accounts, park):
    safe, _ = accounts
    post(client, safe, wx.text("o-a", "你好"))
    assert callback_accounts._kept
    admin = park.users["admin"]
    client.force_login(admin)
    data = {
        field: getattr(safe, field)
        for field in (
            "name",
            "slug",
            "appid",
            "secret",
            "token",
            "encoding_aes_key",
            "previous_aes_key",
            "mode",
            "language",
            "welcome_text",
        )
    }
    data.update(
        default_reply="您好，工作人员稍后回复。",
        templates="{}",
        is_active="on",
        **{
            "keyword_replies-TOTAL_FORMS": "0",
            "keyword_replies-INITIAL_FORMS": "0",
            "keyword_replies-MIN_NUM_FORMS": "0",
            "keyword_replies-MAX_NUM_FORMS": "1000",
        },
    )
    response = client.post(f"/admin/wechat/officialaccount/{safe.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert safe.slug not in callback_accounts._kept
    client.logout()
    assert wx.reply_text(safe, post(client, safe, wx.text("o-a", "随便问问"))) == "您好，工作人员稍后回复。"
