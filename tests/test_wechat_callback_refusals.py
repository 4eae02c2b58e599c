"""A correctly signed push the callback cannot store as it came is refused with 400 before
anything is written: a body that is not UTF-8, a field longer than its column, an element
nested in a field read as text. Fields the callback does not read may be nested."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from wechatpy.crypto import PrpCrypto

from tests import wechat_support as wx
from yimatong.investment.models import Lead
from yimatong.wechat import protocol
from yimatong.wechat.models import Follower, InboundMessage, OutboundMessage

pytestmark = pytest.mark.usefixtures("on_commit_runs")


@pytest.fixture
def accounts(wechat_offline, wechat_accounts):
    return wechat_accounts


def post_body(client, account, body: bytes, *, content_type: str = "text/xml"):
    query, _ = wx.request_for(account, "<xml/>", encrypt=False)
    return client.post(f"{account.callback_path()}?{urlencode(query)}", data=body, content_type=content_type)


def post_encrypted_plaintext(client, account, plaintext: bytes):
    """A safe-mode push whose decrypted plaintext is exactly ``plaintext`` (any bytes)."""
    timestamp, nonce = "1700000000", "nonce-raw"
    key = protocol._aes_key(account.encoding_aes_key)
    encrypted = PrpCrypto(key).encrypt(plaintext, account.appid).decode("ascii")
    query = {
        "signature": wx.sign(account.token, timestamp, nonce),
        "timestamp": timestamp,
        "nonce": nonce,
        "encrypt_type": "aes",
        "msg_signature": wx.sign(account.token, timestamp, nonce, encrypted),
    }
    body = (
        f"<xml><ToUserName><![CDATA[gh_park]]></ToUserName><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
    )
    return client.post(f"{account.callback_path()}?{urlencode(query)}", data=body, content_type="text/xml")


def assert_nothing_stored() -> None:
    assert not InboundMessage.objects.exists()
    assert not Follower.objects.exists()
    assert not OutboundMessage.objects.exists()
    assert not Lead.objects.exists()


@pytest.mark.parametrize(
    "encoding", [pytest.param("gbk", id="gbk"), pytest.param("utf-16", id="utf-16-with-bom")]
)
def test_a_signed_push_that_is_not_utf8_gets_400_and_stores_nothing(client, accounts, encoding):
    _, plain = accounts
    xml = wx.xml_of(wx.text("o-gbk", "想了解园区的厂房"))
    if encoding == "utf-16":
        xml = '<?xml version="1.0" encoding="UTF-16"?>' + xml
    response = post_body(client, plain, xml.encode(encoding))
    assert response.status_code == 400
    assert_nothing_stored()


def test_utf16_without_a_byte_order_mark_gets_400_too(client, accounts):
    _, plain = accounts
    response = post_body(client, plain, wx.xml_of(wx.text("o-16", "hello")).encode("utf-16-le"))
    assert response.status_code == 400
    assert_nothing_stored()


def test_a_safe_mode_push_whose_plaintext_is_not_utf8_gets_400(client, accounts):
    safe, _ = accounts
    response = post_encrypted_plaintext(client, safe, wx.xml_of(wx.text("o-enc", "厂房")).encode("gbk"))
    assert response.status_code == 400
    assert_nothing_stored()


def test_an_openid_as_long_as_its_column_is_accepted_and_one_longer_refused(client, accounts):
    _, plain = accounts
    longest = Follower._meta.get_field("openid").max_length
    response = wx.post(client, plain, wx.text("o" * (longest + 1), "hi"))
    assert response.status_code == 400
    assert_nothing_stored()
    assert wx.post(client, plain, wx.text("o" * longest, "hi")).status_code == 200
    assert Follower.objects.get().openid == "o" * longest


def test_an_event_longer_than_its_column_is_refused(client, accounts):
    _, plain = accounts
    longest = InboundMessage._meta.get_field("event").max_length
    response = wx.post(client, plain, wx.event("o-evt", "E" * (longest + 1)))
    assert response.status_code == 400
    assert_nothing_stored()


def test_an_event_that_grows_when_lowercased_past_its_column_is_refused(client, accounts):
    _, plain = accounts
    longest = InboundMessage._meta.get_field("event").max_length
    # "İ" is one character, and two once lowercased: the stored event is the lowercased one.
    response = wx.post(client, plain, wx.event("o-evt", "İ" * longest))
    assert response.status_code == 400
    assert_nothing_stored()


def test_a_message_id_or_unionid_longer_than_its_column_is_refused(client, accounts):
    _, plain = accounts
    fields = wx.text("o-id", "hi")
    fields["MsgId"] = "9" * 300
    assert wx.post(client, plain, fields).status_code == 400
    longest = Follower._meta.get_field("unionid").max_length
    assert wx.post(client, plain, wx.message("o-id", "text", UnionId="u" * (longest + 1))).status_code == 400
    assert_nothing_stored()


@pytest.mark.parametrize(
    "field_xml",
    [
        pytest.param("<FromUserName><a>b</a></FromUserName>", id="nested-openid"),
        pytest.param('<FromUserName kind="x">o-attr</FromUserName>', id="openid-with-attribute"),
        pytest.param("<FromUserName>o-1</FromUserName><FromUserName>o-2</FromUserName>", id="two-openids"),
    ],
)
def test_an_openid_that_is_not_text_is_refused_and_no_follower_made(client, accounts, field_xml):
    _, plain = accounts
    body = f"<xml><ToUserName>gh_park</ToUserName>{field_xml}<CreateTime>1700000000</CreateTime><MsgType>text</MsgType><Content>hi</Content><MsgId>42</MsgId></xml>"
    response = post_body(client, plain, body.encode("utf-8"))
    assert response.status_code == 400
    assert_nothing_stored()


@pytest.mark.parametrize(
    "name", ["MsgType", "Content", "Event", "EventKey", "MsgId", "CreateTime", "ToUserName"]
)
def test_any_field_the_callback_reads_refused_when_nested(client, accounts, name):
    safe, _ = accounts
    fields = wx.event("o-nest", "CLICK", "CONTACT") if name.startswith("Event") else wx.text("o-nest", "hi")
    xml = wx.xml_of(fields)
    xml = xml.replace(f"<{name}>", f"<{name}><inner>", 1).replace(f"</{name}>", f"</inner></{name}>", 1)
    response = wx.post(client, safe, xml)
    assert response.status_code == 400
    assert_nothing_stored()


def test_a_safe_mode_push_with_a_nested_openid_is_refused(client, accounts):
    safe, _ = accounts
    plaintext = "<xml><FromUserName><a>b</a></FromUserName><MsgType>text</MsgType><Content>hi</Content><MsgId>7</MsgId></xml>"
    response = post_encrypted_plaintext(client, safe, plaintext.encode("utf-8"))
    assert response.status_code == 400
    assert_nothing_stored()


def test_an_event_with_nested_elements_the_callback_does_not_read_is_still_stored(client, accounts):
    """WeChat's scancode and photo events nest their details: refusing them would make WeChat
    retry for nothing."""
    _, plain = accounts
    body = (
        "<xml><ToUserName><![CDATA[gh_park]]></ToUserName><FromUserName><![CDATA[o-scan]]></FromUserName>"
        "<CreateTime>1700000000</CreateTime><MsgType><![CDATA[event]]></MsgType>"
        "<Event><![CDATA[scancode_push]]></Event><EventKey><![CDATA[rselfmenu_0_1]]></EventKey>"
        "<ScanCodeInfo><ScanType><![CDATA[qrcode]]></ScanType><ScanResult><![CDATA[1]]></ScanResult></ScanCodeInfo>"
        "</xml>"
    )
    response = post_body(client, plain, body.encode("utf-8"))
    assert response.status_code == 200 and response.content == b"success"
    stored = InboundMessage.objects.get()
    assert stored.event == "scancode_push" and "ScanCodeInfo" not in stored.data


def test_a_refused_push_costs_no_query_once_the_account_is_kept(client, accounts):
    _, plain = accounts
    assert wx.post(client, plain, wx.text("o-cost", "hi")).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        response = post_body(
            client,
            plain,
            b"<xml><FromUserName><a>b</a></FromUserName><MsgType>text</MsgType><MsgId>1</MsgId></xml>",
        )
    assert response.status_code == 400
    assert len(queries.captured_queries) == 0


def test_a_send_time_in_the_far_future_is_taken_as_the_time_received(client, accounts):
    _, plain = accounts
    fields = wx.text("o-time", "hi")
    fields["CreateTime"] = 253402300799  # 9999-12-31 23:59:59 UTC: past the end of time in Shanghai
    before = timezone.now()
    assert wx.post(client, plain, fields).status_code == 200
    stored = InboundMessage.objects.get()
    assert before <= stored.sent_at <= timezone.now() + dt.timedelta(seconds=1)
