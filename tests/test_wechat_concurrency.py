"""Redelivery under concurrency, through the live callback: WeChat sends the same push up to
four times, possibly at once. One stored message, one lead, one follower — on SQLite and on
PostgreSQL (run the suite with DATABASE_URL set)."""

from __future__ import annotations

import pytest

from yimatong.investment.models import Lead
from yimatong.wechat.models import Follower, InboundMessage, QrCode

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def expo_code(wechat_accounts, park):
    safe, _ = wechat_accounts
    return QrCode.objects.create(
        account=safe,
        name="展台",
        purpose="event",
        event_name="生物医药大会",
        scene="expo-concurrent",
        is_permanent=True,
        url="u",
        promoter=park.users["owner"],
    )


@pytest.mark.parametrize("mode", ["safe", "plain"])
def test_a_subscribe_pushed_four_times_at_once_makes_one_message_and_one_lead(
    live_wechat, wechat_accounts, expo_code, mode
):
    account = wechat_accounts[0] if mode == "safe" else wechat_accounts[1]
    if mode == "plain":
        QrCode.objects.filter(pk=expo_code.pk).update(account=account)
    results = live_wechat.user_subscribe(
        account.appid, "o-concurrent", "expo-concurrent", times=4, concurrent=True
    )
    assert len(results) == 4 and all(r.status == 200 for r in results)
    assert InboundMessage.objects.filter(account=account).count() == 1
    assert Follower.objects.filter(account=account).count() == 1
    assert Lead.objects.count() == 1
    lead = Lead.objects.get()
    assert list(lead.sources.values_list("qr_scene", flat=True)) == ["expo-concurrent"]
    # Exactly one of the four got the welcome; the others were answered "success".
    assert sum(1 for r in results if r.reply) == 1


def test_a_text_pushed_four_times_sequentially_and_concurrently_is_stored_once(live_wechat, wechat_accounts):
    safe, _ = wechat_accounts
    live_wechat.user_subscribe(safe.appid, "o-twice")
    live_wechat.user_text(safe.appid, "o-twice", "想了解用地", times=4)
    live_wechat.user_text(safe.appid, "o-twice", "还有厂房", times=4, concurrent=True)
    follower = Follower.objects.get(openid="o-twice")
    assert sorted(follower.inbound.filter(is_user_message=True).values_list("content", flat=True)) == [
        "想了解用地",
        "还有厂房",
    ]
    assert Lead.objects.count() == 1


def test_two_different_first_messages_at_once_make_one_lead(live_wechat, wechat_accounts):
    import threading

    safe, _ = wechat_accounts
    live_wechat.user_subscribe(safe.appid, "o-race")
    barrier = threading.Barrier(2)

    def say(text):
        barrier.wait()
        live_wechat.user_text(safe.appid, "o-race", text)

    threads = [threading.Thread(target=say, args=(t,)) for t in ("第一条", "第二条")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert Lead.objects.count() == 1
    assert InboundMessage.objects.filter(is_user_message=True).count() == 2
