"""The consultation inbox in the console: conversations, unread counts, assignment, replies
and what the console says when the window is closed."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests import wechat_support as wx
from tests.conftest import client_for
from yimatong.notifications.actions import notify
from yimatong.notifications.models import Notification
from yimatong.wechat.models import Follower, OutboundMessage, QrCode

pytestmark = pytest.mark.usefixtures("on_commit_runs")


@pytest.fixture
def conversation(wechat_accounts, park):
    """An investor who scanned the owner's card and wrote twice."""
    safe, _ = wechat_accounts
    QrCode.objects.create(
        account=safe,
        name="张专员名片",
        purpose="promoter",
        promoter=park.users["owner"],
        scene="card",
        is_permanent=True,
        url="u",
    )
    client = Client()
    wx.post(client, safe, wx.event("o-inbox", "subscribe", "qrscene_card"))
    wx.post(client, safe, wx.text("o-inbox", "您好，想了解用地"))
    wx.post(client, safe, wx.text("o-inbox", "还有人才政策"))
    return Follower.objects.get(openid="o-inbox")


def test_the_assigned_promoter_is_told_of_each_new_message(conversation, park):
    notices = Notification.objects.filter(recipient=park.users["owner"], kind="wechat_message")
    assert notices.count() == 2
    assert notices.first().url == conversation.get_absolute_url()


def test_the_inbox_shows_unread_counts_until_the_conversation_is_opened(conversation, park):
    owner = client_for(park.users["owner"])
    page = owner.get(reverse("wechat:inbox")).content.decode()
    assert conversation.label() in page and 'badge badge-delete">2<' in page
    assert owner.get(reverse("wechat:inbox_unread")).content == b"2"
    owner.get(conversation.get_absolute_url())
    assert owner.get(reverse("wechat:inbox_unread")).content == b""


def test_a_leader_reads_conversations_but_cannot_reply_or_mark_them_read(conversation, park):
    leader = client_for(park.users["leader"])
    page = leader.get(conversation.get_absolute_url()).content.decode()
    assert "您好，想了解用地" in page and "发送客服消息" not in page
    conversation.refresh_from_db()
    assert conversation.staff_read_at is None
    assert (
        leader.post(reverse("wechat:conversation_reply", args=[conversation.code]), {"text": "x"}).status_code
        == 403
    )


def test_another_teams_promoter_does_not_see_the_conversation(conversation, park):
    assert client_for(park.users["other_team"]).get(conversation.get_absolute_url()).status_code == 404
    page = client_for(park.users["other_team"]).get(reverse("wechat:inbox") + "?show=all").content.decode()
    assert conversation.label() not in page


def test_the_console_says_the_window_is_closed_before_sending(conversation, park):
    OutboundMessage.objects.bulk_create(
        OutboundMessage(follower=conversation, kind="custom", text=f"回复 {n}", status="sent")
        for n in range(5)
    )
    owner = client_for(park.users["owner"])
    page = owner.get(conversation.get_absolute_url()).content.decode()
    assert "客服消息窗口已关闭" in page and "以模板消息提醒" in page and "发送客服消息" not in page
    refused = owner.post(reverse("wechat:conversation_reply", args=[conversation.code]), {"text": "第六条"})
    assert refused.status_code == 400 and "模板消息" in refused.content.decode()
    assert OutboundMessage.objects.filter(follower=conversation, kind="custom").count() == 5


def test_an_empty_reply_is_refused_naming_the_field(conversation, park):
    owner = client_for(park.users["owner"])
    response = owner.post(reverse("wechat:conversation_reply", args=[conversation.code]), {"text": "  "})
    assert response.status_code == 400 and "回复内容" in response.content.decode()
    assert not OutboundMessage.objects.filter(kind="custom").exists()


def test_a_promoter_takes_an_unassigned_conversation_and_a_team_lead_reassigns_it(wechat_accounts, park):
    _, plain = wechat_accounts
    wx.post(Client(), plain, wx.text("o-free", "Hello"))
    follower = Follower.objects.get(openid="o-free")
    if follower.assigned_to_id:  # the lead went to a team by round robin: free it for the test
        Follower.objects.filter(pk=follower.pk).update(assigned_to=None)
    colleague = client_for(park.users["colleague"])
    assert (
        colleague.post(
            reverse("wechat:conversation_assign", args=[follower.code]),
            {"assignee": park.users["colleague"].pk},
        ).status_code
        == 302
    )
    follower.refresh_from_db()
    assert follower.assigned_to == park.users["colleague"]
    # Once taken, a promoter cannot hand it over; the team lead can.
    assert (
        colleague.post(
            reverse("wechat:conversation_assign", args=[follower.code]), {"assignee": park.users["owner"].pk}
        ).status_code
        == 403
    )
    client_for(park.users["teamlead"]).post(
        reverse("wechat:conversation_assign", args=[follower.code]), {"assignee": park.users["owner"].pk}
    )
    follower.refresh_from_db()
    assert follower.assigned_to == park.users["owner"]
    assert Notification.objects.filter(recipient=park.users["owner"], title__contains="已分配给您").exists()


def test_a_person_who_muted_wechat_notices_gets_none_but_supervision_always_arrives(park):
    owner = park.users["owner"]
    client_for(owner).post(reverse("notifications:preferences"), {"receive": ["lead_assigned"]})
    owner.refresh_from_db()
    assert "wechat_message" in owner.muted_notifications and "supervision" not in owner.muted_notifications
    assert notify([owner], kind="wechat_message", key="k1", title="微信咨询") == 0
    assert notify([owner], kind="supervision", key="k2", title="督办") == 1
    assert notify([owner], kind="lead_assigned", key="k3", title="线索") == 1
