"""The fake WeChat server: its API keeps WeChat's rules, and its pushes pass wechatpy's own checks.

No database: the fake is pure stdlib + requests + wechatpy. A tiny callback server in this file plays
our side, verifying every push with wechatpy before it answers.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.utils import check_signature

from yimatong.wechat.fake import FakeAccount, FakeWeChat, decode_ticket, encode_ticket, to_xml
from yimatong.wechat.fake.server import parse_xml

APPID = "wx0123456789abcdef"
SECRET = "app-secret"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
START = 1_750_000_000.0


class Clock:
    """A fake clock tests move by hand."""

    def __init__(self, now: float = START):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def fake(clock: Clock) -> Iterator[FakeWeChat]:
    server = FakeWeChat(permanent_qr_cap=3, clock=clock).start()
    server.add_account(FakeAccount(APPID, SECRET, "callback-token", name="生物城"))
    yield server
    server.stop()


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        session.trust_env = False
        yield session


def get(http: requests.Session, fake: FakeWeChat, path: str, **params: Any) -> dict[str, Any]:
    response = http.get(fake.base_url + path, params=params, timeout=5)
    assert response.headers["Content-Type"].startswith("application/json")
    return response.json()


def post(http: requests.Session, fake: FakeWeChat, path: str, body: Any, **params: Any) -> dict[str, Any]:
    response = http.post(fake.base_url + path, params=params, json=body, timeout=5)
    assert response.headers["Content-Type"].startswith("application/json")
    return response.json()


def plain_token(http: requests.Session, fake: FakeWeChat) -> str:
    answer = get(http, fake, "/cgi-bin/token", grant_type="client_credential", appid=APPID, secret=SECRET)
    return answer["access_token"]


def stable_token(http: requests.Session, fake: FakeWeChat, force: bool = False) -> dict[str, Any]:
    body = {"grant_type": "client_credential", "appid": APPID, "secret": SECRET, "force_refresh": force}
    return post(http, fake, "/cgi-bin/stable_token", body)


def user_info(http: requests.Session, fake: FakeWeChat, token: str, openid: str) -> dict[str, Any]:
    return get(http, fake, "/cgi-bin/user/info", access_token=token, openid=openid, lang="zh_CN")


def send_text(http: requests.Session, fake: FakeWeChat, openid: str, text: str = "您好") -> int:
    """Send through a valid token (the stable token renews itself as the clock moves)."""
    token = stable_token(http, fake)["access_token"]
    body = {"touser": openid, "msgtype": "text", "text": {"content": text}}
    return post(http, fake, "/cgi-bin/message/custom/send", body, access_token=token)["errcode"]


def create_qr(http: requests.Session, fake: FakeWeChat, token: str, body: dict[str, Any]) -> dict[str, Any]:
    return post(http, fake, "/cgi-bin/qrcode/create", body, access_token=token)


# Tokens -------------------------------------------------------------------------------------------------


def test_a_second_token_call_invalidates_the_first_after_five_minutes(fake, http, clock):
    first = plain_token(http, fake)
    second = plain_token(http, fake)
    assert first != second and len(first) >= 80
    assert user_info(http, fake, first, "o_nobody")["subscribe"] == 0
    clock.advance(299)
    assert "errcode" not in user_info(http, fake, first, "o_nobody")
    clock.advance(1)
    assert user_info(http, fake, first, "o_nobody") == {"errcode": 40001, "errmsg": "invalid credential"}
    assert user_info(http, fake, second, "o_nobody")["subscribe"] == 0


def test_a_wrong_secret_or_an_unknown_app_gets_no_token(fake, http):
    wrong = get(http, fake, "/cgi-bin/token", grant_type="client_credential", appid=APPID, secret="nope")
    assert wrong["errcode"] == 40125 and "access_token" not in wrong
    unknown = get(http, fake, "/cgi-bin/token", grant_type="client_credential", appid="wxunknown", secret="x")
    assert unknown["errcode"] == 40013


def test_stable_token_returns_the_same_token_until_forced_to_refresh(fake, http, clock):
    first = stable_token(http, fake)
    clock.advance(1000)
    again = stable_token(http, fake)
    assert again["access_token"] == first["access_token"]
    assert (first["expires_in"], again["expires_in"]) == (7200, 6200)
    forced = stable_token(http, fake, force=True)
    assert forced["access_token"] != first["access_token"] and forced["expires_in"] == 7200
    assert stable_token(http, fake)["access_token"] == forced["access_token"]


def test_stable_and_plain_tokens_do_not_supersede_each_other(fake, http, clock):
    stable = stable_token(http, fake)["access_token"]
    plain_token(http, fake)
    plain_token(http, fake)
    clock.advance(600)
    assert user_info(http, fake, stable, "o_nobody")["subscribe"] == 0


def test_a_stale_or_unknown_token_is_rejected_with_40001_and_an_expired_one_with_42001(fake, http, clock):
    assert user_info(http, fake, "made-up", "o_x")["errcode"] == 40001
    assert get(http, fake, "/cgi-bin/user/info", openid="o_x")["errcode"] == 41001
    token = stable_token(http, fake)["access_token"]
    fake.invalidate_tokens(APPID)
    assert user_info(http, fake, token, "o_x")["errcode"] == 40001
    fresh = stable_token(http, fake)["access_token"]
    assert fresh != token
    clock.advance(7200)
    assert user_info(http, fake, fresh, "o_x")["errcode"] == 42001


# QR codes -----------------------------------------------------------------------------------------------


def test_a_temporary_code_lives_at_most_thirty_days_and_sixty_seconds_by_default(fake, http):
    token = stable_token(http, fake)["access_token"]
    scene = {"action_info": {"scene": {"scene_str": "event-2026"}}}
    long = create_qr(http, fake, token, {"action_name": "QR_STR_SCENE", "expire_seconds": 9_999_999, **scene})
    assert long["expire_seconds"] == 2_592_000
    default = create_qr(http, fake, token, {"action_name": "QR_STR_SCENE", **scene})
    assert default["expire_seconds"] == 60
    assert default["ticket"] != long["ticket"]
    assert default["url"] == f"{fake.base_url}/q/{default['ticket']}"
    assert decode_ticket(default["ticket"]) | {"n": None} == {
        "appid": APPID,
        "scene": "event-2026",
        "exp": int(START) + 60,
        "n": None,
    }


def test_a_scene_string_has_one_to_sixty_four_characters_and_a_scene_id_stays_in_range(fake, http):
    token = stable_token(http, fake)["access_token"]

    def create(action: str, scene: dict[str, Any]) -> dict[str, Any]:
        return create_qr(http, fake, token, {"action_name": action, "action_info": {"scene": scene}})

    assert "ticket" in create("QR_LIMIT_STR_SCENE", {"scene_str": "x" * 64})
    assert create("QR_LIMIT_STR_SCENE", {"scene_str": "x" * 65})["errcode"] == 40097
    assert create("QR_STR_SCENE", {"scene_str": ""})["errcode"] == 40097
    assert create("QR_LIMIT_SCENE", {"scene_id": 100_001})["errcode"] == 40097
    assert create("QR_LIMIT_SCENE", {"scene_id": 0})["errcode"] == 40097
    assert "ticket" in create("QR_SCENE", {"scene_id": 4_000_000_000})
    assert create("QR_NO_SUCH", {"scene_id": 1})["errcode"] == 40097


def test_permanent_codes_stop_at_the_cap_and_the_same_scene_does_not_count_twice(fake, http):
    token = stable_token(http, fake)["access_token"]

    def permanent(scene: str) -> dict[str, Any]:
        body = {"action_name": "QR_LIMIT_STR_SCENE", "action_info": {"scene": {"scene_str": scene}}}
        return create_qr(http, fake, token, body)

    tickets = [permanent(scene)["ticket"] for scene in ("a", "b", "c")]
    assert permanent("a")["ticket"] == tickets[0]
    assert "expire_seconds" not in permanent("b")
    assert permanent("d") == {"errcode": 45029, "errmsg": "qrcode count out of limit"}
    temporary = {"action_name": "QR_STR_SCENE", "action_info": {"scene": {"scene_str": "d"}}}
    assert "ticket" in create_qr(http, fake, token, temporary)


def test_a_ticket_from_an_earlier_fake_still_scans_in_a_new_one(fake, http):
    ticket = encode_ticket(APPID, "promoter-7", None)
    fake.scan_ticket("o_investor", ticket)
    follower = fake.follower(APPID, "o_investor")
    assert follower["subscribe_scene"] == "ADD_SCENE_QR_CODE" and follower["qr_scene_str"] == "promoter-7"
    page = http.get(f"{fake.base_url}/q/{ticket}", timeout=5)
    assert page.status_code == 200 and "promoter-7" in page.text


def test_an_expired_temporary_code_does_not_scan(fake, clock):
    ticket = encode_ticket(APPID, "stand-3", int(START) + 60)
    clock.advance(61)
    with pytest.raises(ValueError, match="expired"):
        fake.scan_ticket("o_late", ticket)
    assert fake.follower(APPID, "o_late") is None


def test_user_info_reports_how_the_user_followed(fake, http):
    token = stable_token(http, fake)["access_token"]
    fake.user_scan(APPID, "o_scanner", 42, times=1)
    fake.user_subscribe(APPID, "o_searcher", unionid="u_1")
    scanner = user_info(http, fake, token, "o_scanner")
    assert (scanner["subscribe"], scanner["subscribe_scene"], scanner["qr_scene"]) == (
        1,
        "ADD_SCENE_QR_CODE",
        42,
    )
    assert "nickname" not in scanner and "headimgurl" not in scanner
    searcher = user_info(http, fake, token, "o_searcher")
    assert (searcher["subscribe_scene"], searcher["qr_scene_str"], searcher["unionid"]) == (
        "ADD_SCENE_SEARCH",
        "",
        "u_1",
    )
    fake.user_unsubscribe(APPID, "o_searcher")
    assert user_info(http, fake, token, "o_searcher")["subscribe"] == 0


# Customer-service messages: the 48-hour window and its quotas --------------------------------------


def test_a_user_message_opens_forty_eight_hours_for_five_sends(fake, http, clock):
    fake.user_subscribe(APPID, "o_a")
    clock.advance(120)  # the follow's minute is over
    assert send_text(http, fake, "o_a") == 45015
    fake.user_text(APPID, "o_a", "请介绍园区政策")
    clock.advance(47 * 3600)
    assert [send_text(http, fake, "o_a", f"#{i}") for i in range(6)] == [0, 0, 0, 0, 0, 45047]
    assert [entry["text"] for entry in fake.inbox(APPID, "o_a")] == ["#0", "#1", "#2", "#3", "#4"]
    fake.user_text(APPID, "o_a", "还有问题")
    assert send_text(http, fake, "o_a") == 0
    clock.advance(48 * 3600)
    assert send_text(http, fake, "o_a") == 45015


def test_a_follow_scan_or_click_allows_three_sends_within_a_minute(fake, http, clock):
    fake.user_subscribe(APPID, "o_b")
    assert [send_text(http, fake, "o_b") for _ in range(4)] == [0, 0, 0, 45047]
    fake.user_click(APPID, "o_b", "政策")
    clock.advance(59)
    assert send_text(http, fake, "o_b") == 0
    clock.advance(1)
    assert send_text(http, fake, "o_b") == 45015
    fake.user_scan(APPID, "o_b", "stand-1")
    assert fake.follower(APPID, "o_b")["qr_scene_str"] == ""  # a follower's scan is no new follow
    assert send_text(http, fake, "o_b") == 0


def test_nothing_reaches_a_user_who_unfollowed_or_never_came(fake, http):
    fake.user_text(APPID, "o_c", "hello")
    fake.user_unsubscribe(APPID, "o_c")
    assert send_text(http, fake, "o_c") == 45015
    assert send_text(http, fake, "o_stranger") == 40003
    assert send_text(http, fake, "o_c", text=" ") == 44004
    assert fake.inbox(APPID, "o_c") == []


# Template messages --------------------------------------------------------------------------------------


def template(openid: str, client_msg_id: str | None = None) -> dict[str, Any]:
    body = {
        "touser": openid,
        "template_id": "tpl-visit",
        "url": "http://127.0.0.1:8000/h5/projects/1",
        "data": {"thing1": {"value": "园区考察"}, "time2": {"value": "2026-05-06 10:00"}},
    }
    if client_msg_id:
        body["client_msg_id"] = client_msg_id
    return body


def test_a_template_message_with_the_same_client_msg_id_is_delivered_once_for_ten_minutes(fake, http, clock):
    token = stable_token(http, fake)["access_token"]
    fake.user_subscribe(APPID, "o_d")
    path = "/cgi-bin/message/template/send"
    first = post(http, fake, path, template("o_d", "visit-9-confirmed"), access_token=token)
    clock.advance(599)
    again = post(http, fake, path, template("o_d", "visit-9-confirmed"), access_token=token)
    assert first["errcode"] == 0 and again == first
    inbox = fake.inbox(APPID, "o_d")
    assert len(inbox) == 1
    assert inbox[0]["kind"] == "template" and inbox[0]["msgid"] == first["msgid"]
    assert (
        inbox[0]["url"] == "http://127.0.0.1:8000/h5/projects/1"
        and inbox[0]["data"]["thing1"]["value"] == "园区考察"
    )
    clock.advance(1)
    later = post(http, fake, path, template("o_d", "visit-9-confirmed"), access_token=token)
    assert later["msgid"] != first["msgid"] and len(fake.inbox(APPID, "o_d")) == 2
    without_id = [post(http, fake, path, template("o_d"), access_token=token)["msgid"] for _ in range(2)]
    assert without_id[0] != without_id[1] and len(fake.inbox(APPID, "o_d")) == 4


def test_a_template_message_needs_a_follower(fake, http):
    token = stable_token(http, fake)["access_token"]
    fake.user_subscribe(APPID, "o_e")
    fake.user_unsubscribe(APPID, "o_e")
    answer = post(http, fake, "/cgi-bin/message/template/send", template("o_e"), access_token=token)
    assert answer == {"errcode": 43004, "errmsg": "require subscribe"}
    assert fake.inbox(APPID, "o_e") == []


# Web OAuth ----------------------------------------------------------------------------------------------


def authorize(http: requests.Session, fake: FakeWeChat, **extra: str) -> requests.Response:
    params = {
        "appid": APPID,
        "redirect_uri": "http://127.0.0.1:8000/h5/oauth?next=%2Fh5%2F",
        "response_type": "code",
        "scope": "snsapi_base",
        "state": "csrf-ABC",
        **extra,
    }
    return http.get(
        fake.base_url + "/connect/oauth2/authorize", params=params, allow_redirects=False, timeout=5
    )


def code_from(response: requests.Response) -> str:
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    query = parse_qs(location.query)
    assert (location.path, query["state"], query["next"]) == ("/h5/oauth", ["csrf-ABC"], ["/h5/"])
    return query["code"][0]


def exchange(http: requests.Session, fake: FakeWeChat, code: str, secret: str = SECRET) -> dict[str, Any]:
    params = {"appid": APPID, "secret": secret, "code": code, "grant_type": "authorization_code"}
    return get(http, fake, "/sns/oauth2/access_token", **params)


def test_an_oauth_code_works_once(fake, http):
    code = code_from(authorize(http, fake, fake_openid="o_portal"))
    assert exchange(http, fake, code, secret="wrong")["errcode"] == 40125
    answer = exchange(http, fake, code)
    assert (answer["openid"], answer["scope"], answer["expires_in"]) == ("o_portal", "snsapi_base", 7200)
    assert "is_snapshotuser" not in answer
    assert exchange(http, fake, code) == {"errcode": 40163, "errmsg": "code been used"}
    assert exchange(http, fake, "made-up")["errcode"] == 40029


def test_an_oauth_code_expires_after_five_minutes(fake, http, clock):
    code = code_from(authorize(http, fake, fake_openid="o_portal"))
    clock.advance(300)
    assert exchange(http, fake, code) == {"errcode": 40029, "errmsg": "invalid code"}


def test_a_snapshot_user_is_flagged_and_never_borrows_a_known_openid(fake, http):
    answer = exchange(http, fake, code_from(authorize(http, fake, fake_snapshot="1")))
    assert answer["is_snapshotuser"] == 1 and answer["openid"]
    fake.user_subscribe(APPID, "o_known")
    form = {
        "appid": APPID,
        "redirect_uri": "http://127.0.0.1:8000/h5/oauth?next=%2Fh5%2F",
        "state": "csrf-ABC",
        "openid_choice": "o_known",
        "snapshot": "1",
    }
    confirmed = http.post(
        fake.base_url + "/connect/oauth2/confirm", data=form, allow_redirects=False, timeout=5
    )
    virtual = exchange(http, fake, code_from(confirmed))
    assert virtual["is_snapshotuser"] == 1 and virtual["openid"] not in ("o_known", answer["openid"])


def test_the_sign_in_page_says_it_is_not_wechat_and_confirming_returns_the_state(fake, http):
    fake.user_subscribe(APPID, "o_known")
    page = authorize(http, fake, fake_hint="o_hinted")
    assert page.status_code == 200
    assert "开发环境 · 模拟微信网页授权" in page.text and "Development sign-in — not WeChat" in page.text
    assert "o_known" in page.text and 'value="o_hinted" checked' in page.text
    assert "快照页模式（虚拟身份）" in page.text
    form = {
        "appid": APPID,
        "redirect_uri": "http://127.0.0.1:8000/h5/oauth?next=%2Fh5%2F",
        "scope": "snsapi_base",
        "state": "csrf-ABC",
        "openid_choice": "o_known",
    }
    confirmed = http.post(
        fake.base_url + "/connect/oauth2/confirm", data=form, allow_redirects=False, timeout=5
    )
    assert exchange(http, fake, code_from(confirmed))["openid"] == "o_known"
    assert authorize(http, fake, state="x" * 129).status_code == 400


# Plumbing: errors, injections ---------------------------------------------------------------------------


def test_malformed_json_is_a_data_format_error_and_unknown_paths_are_404(fake, http):
    token = stable_token(http, fake)["access_token"]
    response = http.post(
        f"{fake.base_url}/cgi-bin/message/custom/send",
        params={"access_token": token},
        data=b"{not json",
        timeout=5,
    )
    assert response.json() == {"errcode": 47001, "errmsg": "data format error"}
    assert http.get(fake.base_url + "/cgi-bin/no/such", timeout=5).status_code == 404
    assert fake.count("/cgi-bin/message/custom/send") == 1
    assert fake.calls[-2] == ("/cgi-bin/message/custom/send", {"access_token": token, "_body": "{not json"})


def test_injected_failures_answer_once_and_change_nothing(fake, http):
    fake.fail_next("/cgi-bin/stable_token", -1, times=2)
    assert stable_token(http, fake) == {"errcode": -1, "errmsg": "system error"}
    assert stable_token(http, fake)["errcode"] == -1
    assert "access_token" in stable_token(http, fake)
    assert fake.count("/cgi-bin/stable_token") == 3


def test_a_delayed_answer_times_out_yet_the_message_went_out(fake, http):
    token = stable_token(http, fake)["access_token"]
    fake.user_subscribe(APPID, "o_f")
    fake.delay_next("/cgi-bin/message/custom/send", 1.0)
    body = {"touser": "o_f", "msgtype": "text", "text": {"content": "ambiguous"}}
    with pytest.raises(requests.Timeout):
        http.post(
            f"{fake.base_url}/cgi-bin/message/custom/send",
            params={"access_token": token},
            json=body,
            timeout=0.2,
        )
    assert [entry["text"] for entry in fake.inbox(APPID, "o_f")] == ["ambiguous"]
    fake.delay_next("/cgi-bin/message/custom/send", 0.3, then_process=False)
    assert send_text(http, fake, "o_f", "dropped") == -1
    assert len(fake.inbox(APPID, "o_f")) == 1


# Pushes to our callback ---------------------------------------------------------------------------------


class Callback:
    """Our side, as small as can be: verifies every push with wechatpy, records it, answers."""

    def __init__(self, account: FakeAccount):
        self.account = account
        self.received: list[dict[str, Any]] = []
        self.answer: Callable[[dict[str, Any], dict[str, str]], str] = lambda fields, query: "success"
        self.slow_first = 0  # how many first requests sleep past the fake's push timeout
        self.sleep = 0.0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/wechat/park/callback"
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def verify(self, query: dict[str, str], body: bytes) -> dict[str, Any]:
        account = self.account
        check_signature(account.token, query["signature"], query["timestamp"], query["nonce"])
        if query.get("encrypt_type") != "aes":
            return parse_xml(body)
        crypto = WeChatCrypto(account.token, account.encoding_aes_key, account.appid)
        return parse_xml(
            crypto.decrypt_message(body, query["msg_signature"], query["timestamp"], query["nonce"])
        )

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        callback = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                query = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with callback._lock:
                    index = len(callback.received)
                    callback.received.append({"query": query, "body": body})
                if index < callback.slow_first:
                    time.sleep(callback.sleep)
                try:
                    fields = callback.verify(query, body)
                except InvalidSignatureException:
                    self.send_response(403)
                    self.end_headers()
                    return
                callback.received[index]["fields"] = fields
                answer = callback.answer(fields, query).encode()
                try:
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                except BrokenPipeError:
                    pass  # the fake gave up waiting, as WeChat does after five seconds

        return Handler


@pytest.fixture
def callback_for(fake: FakeWeChat) -> Iterator[Callable[..., Callback]]:
    started: list[Callback] = []

    def start(
        mode: str = "plain", appid: str = "wxfedcba9876543210", token: str = "cb-token", key: str = AES_KEY
    ):
        account = FakeAccount(appid, "s", token, key if mode != "plain" else "", mode, name=f"{mode} account")
        callback = Callback(account)
        account.callback_url = callback.url
        fake.add_account(account)
        started.append(callback)
        return callback

    yield start
    for callback in started:
        callback.stop()


def passive_text(content: str, encrypt_with: FakeAccount | None = None) -> Callable[[dict, dict], str]:
    def answer(fields: dict[str, Any], query: dict[str, str]) -> str:
        reply = to_xml(
            {
                "ToUserName": fields["FromUserName"],
                "FromUserName": fields["ToUserName"],
                "CreateTime": int(fields["CreateTime"]),
                "MsgType": "text",
                "Content": content,
            }
        )
        if encrypt_with is None:
            return reply
        crypto = WeChatCrypto(encrypt_with.token, encrypt_with.encoding_aes_key, encrypt_with.appid)
        return crypto.encrypt_message(reply, query["nonce"], query["timestamp"])

    return answer


def test_a_plain_push_is_signed_so_wechatpy_accepts_it(fake, callback_for):
    callback = callback_for("plain")
    appid = callback.account.appid
    results = fake.user_text(appid, "o_investor", "你好 <&> ]]> 政策")
    assert [(r.status, r.body, r.reply, r.error) for r in results] == [(200, "success", None, "")]
    fields = callback.received[0]["fields"]
    assert fields["Content"] == "你好 <&> ]]> 政策" and fields["MsgType"] == "text"
    assert fields["ToUserName"] == callback.account.original_id and fields["FromUserName"] == "o_investor"
    assert fields["CreateTime"] == str(int(START)) and int(fields["MsgId"]) > 0
    assert callback.received[0]["query"]["openid"] == "o_investor"
    assert "encrypt_type" not in callback.received[0]["query"]
    fake.user_text(appid, "o_investor", "second")
    assert int(callback.received[1]["fields"]["MsgId"]) > int(fields["MsgId"])


def test_a_safe_mode_push_decrypts_with_wechatpy_and_an_encrypted_reply_reaches_the_user(fake, callback_for):
    callback = callback_for("safe")
    callback.answer = passive_text("欢迎关注生物城！", encrypt_with=callback.account)
    results = fake.user_scan(callback.account.appid, "o_new", "promoter-3")
    received = callback.received[0]
    assert set(parse_xml(received["body"])) == {"ToUserName", "Encrypt"}
    assert received["query"]["encrypt_type"] == "aes"
    assert (
        received["fields"]["Event"] == "subscribe" and received["fields"]["EventKey"] == "qrscene_promoter-3"
    )
    assert decode_ticket(received["fields"]["Ticket"])["scene"] == "promoter-3"
    assert results[0].reply["Content"] == "欢迎关注生物城！" and results[0].accepted
    inbox = fake.inbox(callback.account.appid, "o_new")
    assert [(e["kind"], e["text"]) for e in inbox] == [("passive", "欢迎关注生物城！")]


def test_compatible_mode_sends_the_plain_fields_and_the_encrypted_ones(fake, callback_for):
    callback = callback_for("compatible")
    fake.user_click(callback.account.appid, "o_g", "考察")
    body = parse_xml(callback.received[0]["body"])
    assert body["Event"] == "CLICK" and body["EventKey"] == "考察" and "Encrypt" in body
    assert callback.received[0]["fields"]["EventKey"] == "考察"  # the decrypted copy agrees


def test_a_plaintext_reply_in_safe_mode_or_an_empty_text_is_refused_and_the_user_sees_the_apology(
    fake, callback_for
):
    callback = callback_for("safe")
    callback.answer = passive_text("not encrypted")
    [result] = fake.user_text(callback.account.appid, "o_h", "hi")
    assert result.status == 200 and "plaintext reply" in result.error
    callback.answer = passive_text("", encrypt_with=callback.account)
    [result] = fake.user_text(callback.account.appid, "o_h", "hi again")
    assert result.error == "a text reply with empty Content"
    assert fake.inbox(callback.account.appid, "o_h") == []
    notices = [e["text"] for e in fake.timeline(callback.account.appid, "o_h") if e["side"] == "system"]
    assert notices == ["该公众号暂时无法提供服务，请稍后再试"] * 2


def test_four_concurrent_deliveries_carry_identical_bodies(fake, callback_for):
    callback = callback_for("safe")
    results = fake.user_text(callback.account.appid, "o_i", "一次", times=4, concurrent=True)
    assert len(results) == 4 and all(r.accepted for r in results)
    assert len({(tuple(sorted(r["query"].items())), r["body"]) for r in callback.received}) == 1
    assert len({r["fields"]["MsgId"] for r in callback.received}) == 1


def test_a_slow_callback_gets_the_same_push_again_up_to_three_times(fake, callback_for):
    fake.push_timeout = 0.3
    callback = callback_for("plain")
    callback.slow_first, callback.sleep = 2, 0.6
    results = fake.user_subscribe(callback.account.appid, "o_j")
    assert [r.status for r in results] == [0, 0, 200]
    assert len({r["body"] for r in callback.received}) == 1
    callback.slow_first = 10
    results = fake.user_text(callback.account.appid, "o_j", "lost", redeliver_on_timeout=True)
    assert [r.status for r in results] == [0, 0, 0, 0]
    assert fake.timeline(callback.account.appid, "o_j")[-1]["text"] == "该公众号暂时无法提供服务，请稍后再试"
    once = fake.push(
        callback.account.appid,
        {"FromUserName": "o_j", "MsgType": "text", "Content": "x"},
        redeliver_on_timeout=False,
    )
    assert len(once) == 1


def test_the_golden_vector_round_trips_through_the_push_encryption(fake):
    account = FakeAccount("wxba5fad812f8e6fb9", "s", "AAAAA", "A" * 43, "safe")
    fake.add_account(account)
    query, body = fake.build_push(
        account.appid, {"FromUserName": "o_gold", "MsgType": "text", "Content": "golden"}
    )
    check_signature("AAAAA", query["signature"], query["timestamp"], query["nonce"])
    crypto = WeChatCrypto("AAAAA", "A" * 43, "wxba5fad812f8e6fb9")
    plain = parse_xml(
        crypto.decrypt_message(body, query["msg_signature"], query["timestamp"], query["nonce"])
    )
    assert (plain["Content"], plain["FromUserName"], plain["ToUserName"]) == (
        "golden",
        "o_gold",
        account.original_id,
    )
    with pytest.raises(InvalidSignatureException):
        crypto.decrypt_message(body, "0" * 40, query["timestamp"], query["nonce"])


# The simulator --------------------------------------------------------------------------------------------


class Provider:
    def __init__(self, account: FakeAccount):
        self.account = account

    def accounts(self) -> list[FakeAccount]:
        return [self.account]

    def codes(self, appid: str) -> list[dict[str, Any]]:
        return [{"name": "招商展台", "scene": "stand-1", "caption": "Booth code"}]

    def portal_url(self, appid: str) -> str:
        return "http://127.0.0.1:8000/h5/"

    def menu(self, appid: str) -> list[dict[str, str]]:
        return [{"name": "政策", "key": "policy"}, {"name": "联系", "key": "contact"}]


def test_the_simulator_shows_the_provider_accounts_codes_and_menu_and_acts_as_the_user(
    fake, http, callback_for
):
    callback = callback_for("plain", appid="wxsimulator000001")
    callback.answer = passive_text("欢迎！")
    fake.provider = Provider(FakeAccount("wxprovided0000001", "s", "t", name="新公众号"))
    page = http.get(fake.base_url + "/simulator/", timeout=5)
    assert page.status_code == 200 and "微信模拟器" in page.text and "max-width: 420px" in page.text
    assert http.get(fake.base_url + "/simulator/simulator.js", timeout=5).status_code == 200
    state = get(http, fake, "/simulator/api/state", appid=callback.account.appid)
    assert "wxprovided0000001" in [a["appid"] for a in state["accounts"]]
    assert state["codes"][0]["scene"] == "stand-1" and state["menu"][0]["key"] == "policy"
    assert state["portal_url"] == "http://127.0.0.1:8000/h5/"
    act = {"appid": callback.account.appid, "openid": "o_demo_abcdefgh", "action": "scan", "scene": "stand-1"}
    answer = post(http, fake, "/simulator/api/act", act)
    assert answer["ok"] and answer["follower"]["qr_scene_str"] == "stand-1"
    post(http, fake, "/simulator/api/act", {**act, "action": "text", "text": "想了解政策"})
    inbox = get(http, fake, "/simulator/api/inbox", appid=callback.account.appid, openid="o_demo_abcdefgh")
    sides = [(e["side"], e["text"]) for e in inbox["conversation"]]
    assert sides == [
        ("user", "扫码关注 / Scan and follow · stand-1"),
        ("account", "欢迎！"),
        ("user", "想了解政策"),
        ("account", "欢迎！"),
    ]
    assert [r["fields"]["MsgType"] for r in callback.received] == ["event", "text"]
    refused = post(http, fake, "/simulator/api/act", {**act, "action": "dance"})
    assert not refused["ok"] and "unknown action" in refused["error"]
