"""The callback URL: verification, the three modes, de-duplication, bad input, lead creation."""

from __future__ import annotations

import base64
from urllib.parse import urlencode

import pytest
from wechatpy.crypto import PrpCrypto, WeChatCrypto

from tests import wechat_support as wx
from yimatong.investment.models import Lead, LeadSource
from yimatong.wechat import protocol
from yimatong.wechat.models import Follower, InboundMessage, OfficialAccount, OutboundMessage, QrCode

pytestmark = pytest.mark.usefixtures("on_commit_runs")


@pytest.fixture
def accounts(wechat_offline, wechat_accounts):
    return wechat_accounts


@pytest.fixture
def channel(accounts, expo_channel):
    return expo_channel


def test_get_verification_answers_echostr_only_with_a_good_signature(client, accounts):
    safe, _ = accounts
    query = {
        "signature": wx.sign(safe.token, "1700000000", "abc"),
        "timestamp": "1700000000",
        "nonce": "abc",
        "echostr": "hello",
    }
    response = client.get(f"{safe.callback_path()}?{urlencode(query)}")
    assert response.status_code == 200 and response.content == b"hello"
    query["signature"] = "0" * 40
    assert client.get(f"{safe.callback_path()}?{urlencode(query)}").status_code == 403


def test_a_plain_text_message_is_stored_and_answered_success(client, accounts):
    _, plain = accounts
    response = wx.post(client, plain, wx.text("o-investor-1", "你好，想了解园区"))
    assert response.status_code == 200 and response.content == b"success"
    stored = InboundMessage.objects.get()
    assert stored.content == "你好，想了解园区" and stored.follower.openid == "o-investor-1"


def test_a_safe_mode_push_is_decrypted_and_its_reply_encrypted(client, accounts, channel):
    safe, _ = accounts
    response = wx.post(client, safe, wx.event("o-investor-2", "subscribe", "qrscene_expo-2026", Ticket="t"))
    assert response.status_code == 200
    assert b"<Encrypt>" in response.content
    reply = wx.reply_text(safe, response)
    assert reply.startswith("感谢光临生物城展台！") and "/h5/park-cn/" in reply


def test_compatible_mode_accepts_plain_and_encrypted_pushes(client, accounts):
    safe, _ = accounts
    OfficialAccount.objects.filter(pk=safe.pk).update(mode=OfficialAccount.Mode.COMPATIBLE)
    safe.refresh_from_db()
    assert wx.post(client, safe, wx.text("o-a", "明文"), encrypt=False).status_code == 200
    assert wx.post(client, safe, wx.text("o-a", "密文"), encrypt=True).status_code == 200
    assert sorted(InboundMessage.objects.values_list("content", flat=True)) == ["密文", "明文"]


def test_a_safe_mode_account_refuses_a_plain_push(client, accounts):
    safe, _ = accounts
    assert wx.post(client, safe, wx.text("o-a", "hi"), encrypt=False).status_code == 403
    assert not InboundMessage.objects.exists()


def test_the_same_push_delivered_four_times_is_stored_once_and_makes_one_lead(client, accounts, channel):
    safe, _ = accounts
    fields = wx.event("o-investor-3", "subscribe", "qrscene_expo-2026")
    responses = [wx.post(client, safe, fields) for _ in range(4)]
    assert [r.status_code for r in responses] == [200] * 4
    assert InboundMessage.objects.count() == 1
    assert Lead.objects.count() == 1
    assert Follower.objects.get().first_code == channel


def test_a_text_message_redelivered_keeps_one_message_by_msgid(client, accounts):
    _, plain = accounts
    fields = wx.text("o-investor-4", "想预约考察")
    for _ in range(4):
        wx.post(client, plain, fields)
    assert InboundMessage.objects.count() == 1


def test_a_scan_with_a_scene_creates_the_lead_attributed_to_the_code(client, accounts, channel, park):
    safe, _ = accounts
    wx.post(client, safe, wx.event("o-investor-5", "subscribe", "qrscene_expo-2026"))
    lead = Lead.objects.get()
    source = LeadSource.objects.get(lead=lead)
    assert (
        source.channel == "wechat" and source.qr_scene == "expo-2026" and source.event == "2026 生物医药大会"
    )
    assert lead.owner == park.users["owner"] and lead.chain_node == park.antibody
    follower = Follower.objects.get()
    assert follower.lead == lead and follower.contact.wechat_openid == "o-investor-5"
    assert follower.assigned_to == park.users["owner"]


def test_a_follower_scanning_a_second_code_adds_a_source_to_the_same_lead(client, accounts, channel, park):
    safe, _ = accounts
    second = QrCode.objects.create(
        account=safe, name="招商手册", purpose="brochure", scene="brochure-1", is_permanent=True, url="u"
    )
    wx.post(client, safe, wx.event("o-investor-6", "subscribe", "qrscene_expo-2026"))
    wx.post(client, safe, wx.event("o-investor-6", "SCAN", "brochure-1"))
    lead = Lead.objects.get()
    assert sorted(lead.sources.values_list("qr_scene", flat=True)) == ["brochure-1", "expo-2026"]
    assert InboundMessage.objects.filter(code=second).count() == 1


def test_a_plain_subscribe_without_a_scene_makes_no_lead_until_the_investor_writes(client, accounts):
    _, plain = accounts
    response = wx.post(client, plain, wx.event("o-investor-7", "subscribe"))
    assert "Welcome to Chongqing" in wx.reply_text(plain, response)
    assert not Lead.objects.exists()
    wx.post(client, plain, wx.text("o-investor-7", "We make ADCs and look for a site"))
    lead = Lead.objects.get()
    assert lead.interest == "We make ADCs and look for a site"


def test_keyword_and_menu_replies(client, accounts):
    safe, _ = accounts
    safe.keyword_replies.create(keyword="政策", reply="生物城支持政策一览：", portal_page="policies")
    safe.keyword_replies.create(trigger="click", keyword="CONTACT", reply="招商热线 023-00000000")
    reply = wx.reply_text(safe, wx.post(client, safe, wx.text("o-k", "请问有什么政策")))
    assert reply.startswith("生物城支持政策一览：") and reply.endswith("/h5/park-cn/policies/")
    assert (
        wx.reply_text(safe, wx.post(client, safe, wx.event("o-k", "CLICK", "CONTACT")))
        == "招商热线 023-00000000"
    )
    assert wx.reply_text(safe, wx.post(client, safe, wx.text("o-k", "随便说说"))) is None
    assert OutboundMessage.objects.filter(kind="passive").count() == 2


def test_unknown_message_types_are_stored_and_answered_success(client, accounts):
    _, plain = accounts
    response = wx.post(client, plain, wx.message("o-u", "miniprogrampage", Title="x"))
    assert response.content == b"success"
    assert InboundMessage.objects.get().msg_type == "other"
    response = wx.post(client, plain, wx.event("o-u", "TEMPLATESENDJOBFINISH", Status="success"))
    assert response.content == b"success"


def test_location_image_voice_and_link_messages_join_the_conversation(client, accounts):
    _, plain = accounts
    wx.post(
        client,
        plain,
        wx.message(
            "o-m", "location", Location_X="29.5", Location_Y="106.5", Scale="15", Label="重庆市沙坪坝区"
        ),
    )
    wx.post(client, plain, wx.message("o-m", "image", PicUrl="http://x/y.jpg", MediaId="m1"))
    wx.post(client, plain, wx.message("o-m", "voice", MediaId="m2", Format="amr", Recognition="我想考察"))
    wx.post(client, plain, wx.message("o-m", "link", Title="公司介绍", Description="d", Url="http://x"))
    follower = Follower.objects.get()
    assert follower.inbound.filter(is_user_message=True).count() == 4
    assert set(follower.inbound.values_list("content", flat=True)) >= {"重庆市沙坪坝区", "我想考察"}


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda q, b: ({**q, "signature": "f" * 40}, b), id="bad-signature"),
        pytest.param(lambda q, b: ({**q, "msg_signature": "f" * 40}, b), id="bad-msg-signature"),
        pytest.param(lambda q, b: ({k: v for k, v in q.items() if k != "timestamp"}, b), id="no-timestamp"),
    ],
)
def test_forged_pushes_are_refused_with_403_and_store_nothing(client, accounts, mutate):
    safe, _ = accounts
    query, body = wx.request_for(safe, wx.text("o-x", "hi"))
    query, body = mutate(query, body)
    response = client.post(f"{safe.callback_path()}?{urlencode(query)}", data=body, content_type="text/xml")
    assert response.status_code == 403
    assert not InboundMessage.objects.exists() and not Follower.objects.exists()


def test_a_push_encrypted_for_another_appid_is_refused(client, accounts):
    safe, _ = accounts
    other = OfficialAccount(
        token=safe.token, encoding_aes_key=safe.encoding_aes_key, appid="wxsomeoneelse0001", mode="safe"
    )
    query, body = wx.request_for(other, wx.text("o-x", "hi"))
    response = client.post(f"{safe.callback_path()}?{urlencode(query)}", data=body, content_type="text/xml")
    assert response.status_code == 403
    assert not InboundMessage.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        pytest.param("<xml><ToUserName>unclosed", id="malformed"),
        pytest.param(
            '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
            "<xml><FromUserName>&lol2;</FromUserName><MsgType>text</MsgType></xml>",
            id="entity-bomb",
        ),
        pytest.param("<notxml/>", id="no-xml-root"),
        pytest.param("<xml><Content>no sender</Content></xml>", id="no-sender"),
    ],
)
def test_malformed_bodies_get_400_and_store_nothing(client, accounts, body):
    _, plain = accounts
    response = wx.post(client, plain, body)
    assert response.status_code == 400
    assert not InboundMessage.objects.exists() and not Follower.objects.exists()


def test_a_body_over_the_size_limit_gets_400(client, accounts, settings):
    _, plain = accounts
    settings.WECHAT_CALLBACK_MAX_BYTES = 1024
    response = wx.post(client, plain, wx.text("o-big", "长" * 2000))
    assert response.status_code == 400
    assert not InboundMessage.objects.exists()


def test_an_unknown_account_is_refused(client, accounts):
    response = client.get("/wechat/callback/nobody/?signature=x&timestamp=1&nonce=2&echostr=e")
    assert response.status_code == 403


def test_a_push_encrypted_with_the_previous_key_is_accepted_during_rotation(client, accounts):
    safe, _ = accounts
    old = safe.encoding_aes_key
    query, body = wx.request_for(safe, wx.text("o-r", "旧密钥"))
    OfficialAccount.objects.filter(pk=safe.pk).update(encoding_aes_key="B" * 43, previous_aes_key=old)
    response = client.post(f"{safe.callback_path()}?{urlencode(query)}", data=body, content_type="text/xml")
    assert response.status_code == 200
    assert InboundMessage.objects.get().content == "旧密钥"


def test_the_golden_vector_of_the_encryption_doc_round_trips():
    token, key, appid = "AAAAA", "A" * 43, "wxba5fad812f8e6fb9"
    assert base64.b64decode(key + "=") == b"\x00" * 32  # AESKey = base64(EncodingAESKey + "=")
    crypto = WeChatCrypto(token, key, appid)
    envelope = crypto.encrypt_message(
        "<xml><Content><![CDATA[hello]]></Content></xml>", "nonce1", "1409304348"
    )
    fields = protocol.parse_xml(envelope)
    plain = protocol.decrypt(
        token=token,
        keys=[key],
        appid=appid,
        envelope=fields,
        msg_signature=fields["MsgSignature"],
        timestamp="1409304348",
        nonce="nonce1",
    )
    assert protocol.parse_xml(plain)["Content"] == "hello"
    ours = protocol.parse_xml(
        protocol.encrypt(token=token, key=key, appid=appid, xml="<xml/>", nonce="n", timestamp="1")
    )
    assert PrpCrypto(b"\x00" * 32).decrypt(ours["Encrypt"], appid) == "<xml/>"


def test_event_and_message_keys_follow_the_documented_rules():
    assert protocol.dedup_key({"MsgType": "text", "MsgId": "123"}) == "msg:123"
    key = protocol.dedup_key(
        {
            "MsgType": "event",
            "MsgId": "0",
            "FromUserName": "o",
            "CreateTime": "9",
            "Event": "subscribe",
            "EventKey": "qrscene_x",
        }
    )
    assert key == "evt:o:9:subscribe:qrscene_x"
