"""A stateful fake of the WeChat Official Account platform, served on loopback.

One ``FakeWeChat`` plays WeChat's side of the protocol for tests, benchmarks and the demo:

* the API our server calls: ``/cgi-bin/token`` and ``/cgi-bin/stable_token``, QR codes, user info,
  customer-service and template messages, web OAuth. WeChat's rules are modelled: a new token supersedes
  the previous one (which lives five more minutes), the 48-hour window with its per-action quotas,
  ``client_msg_id`` idempotency, single-use OAuth codes that live five minutes;
* the pushes WeChat makes to our callback: signed, encrypted in safe mode, re-sent when our answer takes
  more than five seconds, and the passive reply read back the way the user would see it;
* a phone-like simulator page (``/simulator/``) on which a person plays an investor, and a development
  stand-in for WeChat's web sign-in page.

It imports neither Django nor the project's models (stdlib, requests and wechatpy only), so it runs inside
tests, a management command or a benchmark. Time comes from ``fake.clock``, which tests may replace.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import html
import itertools
import json
import secrets
import string
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.cookies import CookieError, SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit
from xml.parsers.expat import ExpatError

import requests
import xmltodict
from wechatpy.crypto import WeChatCrypto

# WeChat's numbers ---------------------------------------------------------------------------------------

TOKEN_TTL = 7200  # seconds an access token lives
TOKEN_GRACE = 300  # a superseded token keeps working this long
QR_DEFAULT_EXPIRY = 60  # a temporary code without expire_seconds
QR_MAX_EXPIRY = 2_592_000  # 30 days
PERMANENT_SCENE_ID_MAX = 100_000
TEMPORARY_SCENE_ID_MAX = 2**32 - 1
SCENE_STR_MAX = 64
OAUTH_CODE_TTL = 300
OAUTH_STATE_MAX_BYTES = 128
CLIENT_MSG_ID_TTL = 600
MESSAGE_WINDOW = (48 * 3600, 5)  # a user message: 5 sends within 48 h
EVENT_WINDOW = (60, 3)  # a follow, scan or menu click: 3 sends within 1 minute
PUSH_TIMEOUT = 5.0
PUSH_RETRIES = 3
USER_MESSAGE_TYPES = {"text", "image", "voice", "video", "shortvideo", "location", "link"}
SERVICE_UNAVAILABLE = "该公众号暂时无法提供服务，请稍后再试"
SNAPSHOT_COOKIE = "fake_wechat_openid"

ERRMSG = {
    -1: "system error",
    40001: "invalid credential",
    40002: "invalid grant_type",
    40003: "invalid openid",
    40008: "invalid message type",
    40013: "invalid appid",
    40029: "invalid code",
    40037: "invalid template_id",
    40097: "invalid args",
    40125: "invalid appsecret",
    40163: "code been used",
    41001: "access_token missing",
    42001: "access_token expired",
    43001: "require GET method",
    43002: "require POST method",
    43004: "require subscribe",
    44004: "empty content",
    45009: "reach max api daily quota limit",
    45015: "response out of time limit or subscription is canceled",
    45029: "qrcode count out of limit",
    45047: "out of response count limit",
    47001: "data format error",
    48001: "api unauthorized",
}

SIMULATOR_DIR = Path(__file__).resolve().parent


class ApiError(Exception):
    """An answer with a WeChat error code."""

    def __init__(self, errcode: int, errmsg: str | None = None):
        self.errcode = errcode
        self.errmsg = errmsg or ERRMSG.get(errcode, "error")
        super().__init__(f"{self.errcode} {self.errmsg}")

    def as_dict(self) -> dict[str, Any]:
        return {"errcode": self.errcode, "errmsg": self.errmsg}


# Public data ---------------------------------------------------------------------------------------------


@dataclass
class FakeAccount:
    """An official account known to the fake."""

    appid: str
    secret: str
    token: str  # callback token
    encoding_aes_key: str = ""  # 43 characters
    mode: str = "plain"  # "plain" | "compatible" | "safe"
    callback_url: str = ""  # our callback, e.g. http://127.0.0.1:8000/wechat/park-cn/callback
    name: str = ""

    @property
    def original_id(self) -> str:
        """The account's original id (``gh_`` + 12 characters), the ToUserName of every push."""
        return "gh_" + self.appid[-12:]

    def crypto(self) -> WeChatCrypto:
        return WeChatCrypto(self.token, self.encoding_aes_key, self.appid)


@dataclass
class PushResult:
    """One delivery of a push to our callback, as WeChat saw it."""

    status: int  # HTTP status of our answer; 0 when there was none (timeout, connection refused)
    body: str  # the raw answer
    reply: dict | None  # the passive reply (decrypted), None for "success" or an empty answer
    elapsed: float  # seconds
    error: str = ""  # why WeChat would not accept this answer; "" when it would

    @property
    def accepted(self) -> bool:
        return self.status == 200 and not self.error


# Tickets: stateless, so a code created by an earlier fake still scans in a new one ---------------------


def encode_ticket(appid: str, scene: int | str, expires_at: int | None) -> str:
    payload: dict[str, Any] = {"appid": appid, "scene": scene, "exp": expires_at}
    if expires_at is not None:
        payload["n"] = secrets.token_hex(4)  # two temporary codes for one scene differ, as on WeChat
    raw = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_ticket(ticket: str) -> dict[str, Any] | None:
    """``{appid, scene, exp}`` of a ticket this fake issued, or None."""
    try:
        raw = base64.urlsafe_b64decode(ticket + "=" * (-len(ticket) % 4))
        payload = json.loads(raw)
    except (binascii.Error, ValueError):
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("appid"), str):
        return None
    if not isinstance(payload.get("scene"), int | str):
        return None
    return payload


# XML --------------------------------------------------------------------------------------------------


def to_xml(fields: Mapping[str, Any]) -> str:
    """WeChat's XML: strings in CDATA, numbers bare."""
    return "<xml>" + "".join(_xml_element(key, value) for key, value in fields.items()) + "</xml>"


def _xml_element(key: str, value: Any) -> str:
    if isinstance(value, Mapping):
        inner = "".join(_xml_element(k, v) for k, v in value.items())
    elif isinstance(value, bool):
        inner = str(int(value))
    elif isinstance(value, int | float):
        inner = str(value)
    else:
        inner = "<![CDATA[" + str(value).replace("]]>", "]]]]><![CDATA[>") + "]]>"
    return f"<{key}>{inner}</{key}>"


def parse_xml(text: str | bytes) -> dict[str, Any]:
    """The children of the ``<xml>`` root; ValueError when it is not such a document."""
    try:
        document = xmltodict.parse(text, disable_entities=True)
    except (ExpatError, ValueError) as exc:
        raise ValueError(f"not XML: {exc}") from exc
    root = document.get("xml") if isinstance(document, dict) else None
    if not isinstance(root, dict):
        raise ValueError("no <xml> root")
    return dict(root)


def sign(*parts: str) -> str:
    """WeChat's signature: sha1 of the sorted parts joined."""
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


# State -------------------------------------------------------------------------------------------------


@dataclass
class _Token:
    value: str
    appid: str
    lineage: str  # "token" (/cgi-bin/token) or "stable" (/cgi-bin/stable_token): independent, as on WeChat
    expires_at: float
    superseded_at: float | None = None
    revoked: bool = False

    def problem(self, now: float) -> int | None:
        if self.revoked:
            return 40001
        if now >= self.expires_at:
            return 42001
        if self.superseded_at is not None and now >= self.superseded_at + TOKEN_GRACE:
            return 40001
        return None

    def is_current(self, now: float) -> bool:
        return not self.revoked and self.superseded_at is None and now < self.expires_at


@dataclass
class _Window:
    """What one user action allows: ``quota`` customer-service sends within ``seconds``."""

    opened_at: float
    seconds: float
    quota: int
    used: int = 0

    def is_open(self, now: float) -> bool:
        return now < self.opened_at + self.seconds


@dataclass
class _User:
    appid: str
    openid: str
    subscribed: bool = False
    subscribe_time: int = 0
    subscribe_scene: str = ""
    qr_scene: int = 0
    qr_scene_str: str = ""
    unionid: str | None = None
    windows: list[_Window] = field(default_factory=list)
    timeline: list[dict[str, Any]] = field(default_factory=list)

    def info(self) -> dict[str, Any]:
        if not self.subscribed:
            answer: dict[str, Any] = {"subscribe": 0, "openid": self.openid}
        else:
            answer = {
                "subscribe": 1,
                "openid": self.openid,
                "language": "zh_CN",
                "subscribe_time": self.subscribe_time,
                "remark": "",
                "groupid": 0,
                "tagid_list": [],
                "subscribe_scene": self.subscribe_scene,
                "qr_scene": self.qr_scene,
                "qr_scene_str": self.qr_scene_str,
            }
        if self.unionid:
            answer["unionid"] = self.unionid
        return answer

    def open_window(self, message: bool, now: float) -> None:
        seconds, quota = MESSAGE_WINDOW if message else EVENT_WINDOW
        self.windows = [w for w in self.windows if w.is_open(now)]
        self.windows.append(_Window(now, seconds, quota))

    def consume_window(self, now: float) -> None:
        self.windows = [w for w in self.windows if w.is_open(now)]
        if not self.subscribed or not self.windows:
            raise ApiError(45015)
        for window in reversed(self.windows):
            if window.used < window.quota:
                window.used += 1
                return
        raise ApiError(45047)


@dataclass
class _OAuthCode:
    appid: str
    openid: str
    scope: str
    snapshot: bool
    issued_at: float
    used: bool = False


class _State:
    """Accounts, tokens, users and messages under WeChat's rules.

    Not thread-safe by itself: the owning ``FakeWeChat`` holds its lock around every call and passes ``now``.
    """

    def __init__(self, permanent_qr_cap: int):
        self.permanent_qr_cap = permanent_qr_cap
        self.accounts: dict[str, FakeAccount] = {}
        self.tokens: dict[str, _Token] = {}
        self.latest: dict[tuple[str, str], str] = {}
        self.users: dict[tuple[str, str], _User] = {}
        self.permanent_scenes: dict[str, set[int | str]] = {}
        self.issued_codes: list[dict[str, Any]] = []
        self.templates_sent: dict[tuple[str, str, str], tuple[int, float]] = {}
        self.oauth_codes: dict[str, _OAuthCode] = {}
        self.menus: dict[str, list[dict[str, str]]] = {}
        self._seq = itertools.count(1)
        # Real time, so that a restarted demo never re-uses a MsgId already stored by our server.
        self._msgid = itertools.count(int(time.time() * 1000) * 1000)

    # accounts and tokens

    def account(self, appid: str) -> FakeAccount:
        try:
            return self.accounts[appid]
        except KeyError:
            raise ApiError(40013) from None

    def authenticate(self, appid: str, secret: str) -> FakeAccount:
        account = self.account(appid)
        if not hmac.compare_digest(str(secret).encode(), account.secret.encode()):
            raise ApiError(40125)
        return account

    def issue_token(self, appid: str, lineage: str, now: float) -> _Token:
        previous = self.tokens.get(self.latest.get((appid, lineage), ""))
        if previous is not None and previous.superseded_at is None:
            previous.superseded_at = now
        token = _Token(secrets.token_urlsafe(96), appid, lineage, now + TOKEN_TTL)
        self.tokens[token.value] = token
        self.latest[(appid, lineage)] = token.value
        return token

    def stable_token(self, appid: str, force_refresh: bool, now: float) -> _Token:
        current = self.tokens.get(self.latest.get((appid, "stable"), ""))
        if current is not None and current.is_current(now) and not force_refresh:
            return current
        return self.issue_token(appid, "stable", now)

    def check_token(self, value: str, now: float) -> str:
        if not value:
            raise ApiError(41001)
        token = self.tokens.get(value)
        if token is None:
            raise ApiError(40001)
        problem = token.problem(now)
        if problem:
            raise ApiError(problem)
        return token.appid

    def revoke_tokens(self, appid: str) -> None:
        for token in self.tokens.values():
            if token.appid == appid:
                token.revoked = True

    # QR codes

    def create_qrcode(self, appid: str, body: dict[str, Any], now: float, url_base: str) -> dict[str, Any]:
        action = body.get("action_name")
        scene_info = body.get("action_info") or {}
        scene = scene_info.get("scene") if isinstance(scene_info, dict) else None
        scene = scene if isinstance(scene, dict) else {}
        if action == "QR_SCENE":
            value: int | str = _scene_id(scene.get("scene_id"), TEMPORARY_SCENE_ID_MAX)
        elif action == "QR_LIMIT_SCENE":
            value = _scene_id(scene.get("scene_id"), PERMANENT_SCENE_ID_MAX)
        elif action in ("QR_STR_SCENE", "QR_LIMIT_STR_SCENE"):
            value = _scene_str(scene.get("scene_str"))
        else:
            raise ApiError(40097, "invalid action name")
        if action.startswith("QR_LIMIT"):
            self._claim_permanent_scene(appid, value)
            ticket = encode_ticket(appid, value, None)
            answer: dict[str, Any] = {"ticket": ticket, "url": f"{url_base}/q/{ticket}"}
            expires_at = None
        else:
            seconds = _expire_seconds(body.get("expire_seconds"))
            expires_at = int(now) + seconds
            ticket = encode_ticket(appid, value, expires_at)
            answer = {"ticket": ticket, "expire_seconds": seconds, "url": f"{url_base}/q/{ticket}"}
        self.issued_codes.append(
            {"appid": appid, "scene": value, "ticket": ticket, "expires_at": expires_at, "created_at": now}
        )
        return answer

    def _claim_permanent_scene(self, appid: str, scene: int | str) -> None:
        scenes = self.permanent_scenes.setdefault(appid, set())
        if scene in scenes:
            return
        if len(scenes) >= self.permanent_qr_cap:
            raise ApiError(45029)
        scenes.add(scene)

    # users

    def user(self, appid: str, openid: str) -> _User:
        key = (appid, openid)
        if key not in self.users:
            self.users[key] = _User(appid, openid)
        return self.users[key]

    def known_user(self, appid: str, openid: Any) -> _User:
        if not isinstance(openid, str) or (appid, openid) not in self.users:
            raise ApiError(40003)
        return self.users[(appid, openid)]

    def subscribe(
        self, appid: str, openid: str, scene: int | str | None, unionid: str | None, now: float
    ) -> None:
        user = self.user(appid, openid)
        user.subscribed = True
        user.subscribe_time = int(now)
        user.subscribe_scene = "ADD_SCENE_SEARCH" if scene is None else "ADD_SCENE_QR_CODE"
        user.qr_scene = scene if isinstance(scene, int) else 0
        user.qr_scene_str = scene if isinstance(scene, str) else ""
        if unionid:
            user.unionid = unionid
        user.open_window(False, now)

    def unsubscribe(self, appid: str, openid: str) -> None:
        user = self.user(appid, openid)
        user.subscribed = False
        user.windows.clear()

    def note(self, appid: str, openid: str, side: str, now: float, **entry: Any) -> dict[str, Any]:
        """Append to the user's timeline: ``side`` is "user", "account" (received) or "system"."""
        record = {"side": side, "seq": next(self._seq), "at": now, **entry}
        self.user(appid, openid).timeline.append(record)
        return record

    def deliver(self, appid: str, openid: str, kind: str, now: float, **entry: Any) -> dict[str, Any]:
        """What the user receives: kind "custom", "template" or "passive"."""
        fields = {"msgid": None, "text": None, "template_id": None, "data": None, "url": None, **entry}
        return self.note(appid, openid, "account", now, kind=kind, **fields)

    def next_msgid(self) -> int:
        return next(self._msgid)

    # sending

    def custom_send(self, appid: str, body: dict[str, Any], now: float) -> dict[str, Any]:
        content = _custom_content(body)
        user = self.known_user(appid, body.get("touser"))
        user.consume_window(now)
        self.deliver(appid, user.openid, "custom", now, msgid=self.next_msgid(), **content)
        return {"errcode": 0, "errmsg": "ok"}

    def template_send(self, appid: str, body: dict[str, Any], now: float) -> dict[str, Any]:
        template_id = body.get("template_id")
        if not isinstance(template_id, str) or not template_id:
            raise ApiError(40037)
        data = body.get("data") or {}
        if not isinstance(data, dict):
            raise ApiError(47001)
        user = self.known_user(appid, body.get("touser"))
        if not user.subscribed:
            raise ApiError(43004)
        client_msg_id = body.get("client_msg_id")
        key = (appid, user.openid, str(client_msg_id))
        earlier = self.templates_sent.get(key) if client_msg_id else None
        if earlier is not None and now < earlier[1] + CLIENT_MSG_ID_TTL:
            return {"errcode": 0, "errmsg": "ok", "msgid": earlier[0]}
        msgid = self.next_msgid()
        url = body.get("url") if isinstance(body.get("url"), str) else None
        self.deliver(
            appid, user.openid, "template", now, msgid=msgid, template_id=template_id, data=data, url=url
        )
        if client_msg_id:
            self.templates_sent[key] = (msgid, now)
        return {"errcode": 0, "errmsg": "ok", "msgid": msgid}

    # web OAuth

    def issue_oauth_code(self, appid: str, openid: str, scope: str, snapshot: bool, now: float) -> str:
        code = secrets.token_urlsafe(24)
        self.oauth_codes[code] = _OAuthCode(appid, openid, scope, snapshot, now)
        if not snapshot:
            self.user(appid, openid)
        return code

    def exchange_oauth_code(self, query: dict[str, str], now: float) -> dict[str, Any]:
        appid = query.get("appid", "")
        self.authenticate(appid, query.get("secret", ""))
        if query.get("grant_type") != "authorization_code":
            raise ApiError(40002)
        record = self.oauth_codes.get(query.get("code", ""))
        if record is None or record.appid != appid:
            raise ApiError(40029)
        if record.used:
            raise ApiError(40163)
        if now >= record.issued_at + OAUTH_CODE_TTL:
            raise ApiError(40029)
        record.used = True
        answer: dict[str, Any] = {
            "access_token": secrets.token_urlsafe(64),
            "expires_in": TOKEN_TTL,
            "refresh_token": secrets.token_urlsafe(64),
            "openid": record.openid,
            "scope": record.scope,
        }
        if record.snapshot:
            answer["is_snapshotuser"] = 1
        return answer


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _scene_id(value: Any, maximum: int) -> int:
    scene = _as_int(value)
    if scene is None or not 1 <= scene <= maximum:
        raise ApiError(40097)
    return scene


def _scene_str(value: Any) -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= SCENE_STR_MAX:
        raise ApiError(40097)
    return value


def _expire_seconds(value: Any) -> int:
    if value is None:
        return QR_DEFAULT_EXPIRY
    seconds = _as_int(value)
    if seconds is None or seconds <= 0:
        raise ApiError(40097)
    return min(seconds, QR_MAX_EXPIRY)


def _custom_content(body: dict[str, Any]) -> dict[str, Any]:
    """The inbox fields of a customer-service message; 40008 / 44004 when it is not sendable."""
    msgtype = body.get("msgtype")
    payload = body.get(msgtype) if isinstance(msgtype, str) else None
    if not isinstance(payload, dict):
        raise ApiError(40008)
    if msgtype == "text":
        content = payload.get("content")
        if not isinstance(content, str) or not content.strip():
            raise ApiError(44004)
        return {"msgtype": "text", "text": content}
    if msgtype == "news":
        articles = payload.get("articles")
        if not isinstance(articles, list) or not articles or not isinstance(articles[0], dict):
            raise ApiError(44004, "empty news data")
        first = articles[0]
        return {"msgtype": "news", "text": first.get("title"), "url": first.get("url"), "data": first}
    if msgtype == "link":
        return {"msgtype": "link", "text": payload.get("title"), "url": payload.get("url"), "data": payload}
    return {"msgtype": msgtype, "text": f"[{msgtype}]", "data": payload}


# HTTP plumbing -----------------------------------------------------------------------------------------


@dataclass
class _Request:
    method: str
    path: str
    query: dict[str, str]
    body: bytes
    cookies: dict[str, str]

    def json(self) -> dict[str, Any]:
        try:
            data = json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise ApiError(47001) from None
        if not isinstance(data, dict):
            raise ApiError(47001)
        return data

    def form(self) -> dict[str, str]:
        fields = dict(self.query)
        if self.method == "POST":
            parsed = parse_qs(self.body.decode("utf-8", "replace"), keep_blank_values=True)
            fields.update({key: values[0] for key, values in parsed.items()})
        return fields

    def recorded_payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = dict(self.query)
        if self.body:
            try:
                payload.update(self.json())
            except ApiError:
                payload["_body"] = self.body.decode("utf-8", "replace")
        return payload


@dataclass
class _Response:
    status: int
    body: bytes
    content_type: str
    headers: dict[str, str] = field(default_factory=dict)


def _json(data: Any, status: int = 200) -> _Response:
    return _Response(status, json.dumps(data, ensure_ascii=False).encode(), "application/json")


def _html(text: str, status: int = 200) -> _Response:
    return _Response(status, text.encode(), "text/html; charset=utf-8", {"Cache-Control": "no-store"})


def _redirect(location: str) -> _Response:
    return _Response(302, b"", "text/plain", {"Location": location})


def _not_found(path: str) -> _Response:
    return _json({"errcode": 404, "errmsg": f"not found: {path}"}, 404)


@dataclass
class _Injection:
    kind: str  # "fail" or "delay"
    errcode: int = 0
    errmsg: str = ""
    seconds: float = 0.0
    then_process: bool = True


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], fake: FakeWeChat):
        self.fake = fake
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so benchmarks do not pay a connection per call
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms delayed-ACK stall
    server: _Server

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        query = {key: values[0] for key, values in parse_qs(url.query, keep_blank_values=True).items()}
        request = _Request(method, url.path, query, body, _cookies(self.headers.get("Cookie", "")))
        try:
            response = self.server.fake._handle(request)
        except Exception:
            traceback.print_exc()
            response = _json({"errcode": -1, "errmsg": "system error (fake)"}, 500)
        self._send(response)

    def _send(self, response: _Response) -> None:
        try:
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
            for key, value in response.headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(response.body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (a simulated timeout)


def _cookies(header: str) -> dict[str, str]:
    cookie = SimpleCookie()
    try:
        cookie.load(header)
    except CookieError:
        return {}
    return {key: morsel.value for key, morsel in cookie.items()}


def _with_query(url: str, params: Mapping[str, str]) -> str:
    parts = urlsplit(url)
    query = parts.query + ("&" if parts.query else "") + urlencode(params)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


def _random_openid(prefix: str) -> str:
    alphabet = string.ascii_lowercase + string.digits
    return prefix + "".join(secrets.choice(alphabet) for _ in range(8))


# The fake ----------------------------------------------------------------------------------------------

# path -> (method, handler name)
API_ROUTES: dict[str, tuple[str, str]] = {
    "/cgi-bin/token": ("GET", "_api_token"),
    "/cgi-bin/stable_token": ("POST", "_api_stable_token"),
    "/cgi-bin/qrcode/create": ("POST", "_api_qrcode_create"),
    "/cgi-bin/user/info": ("GET", "_api_user_info"),
    "/cgi-bin/message/custom/send": ("POST", "_api_custom_send"),
    "/cgi-bin/message/template/send": ("POST", "_api_template_send"),
    "/cgi-bin/menu/create": ("POST", "_api_menu_create"),
    "/sns/oauth2/access_token": ("GET", "_api_oauth_access_token"),
}

PAGE_ROUTES: dict[str, str] = {
    "/connect/oauth2/authorize": "_page_authorize",
    "/connect/oauth2/confirm": "_page_confirm",
    "/simulator": "_page_simulator_redirect",
    "/simulator/": "_page_simulator",
    "/simulator/simulator.js": "_page_simulator_script",
    "/simulator/api/state": "_sim_state",
    "/simulator/api/inbox": "_sim_inbox",
    "/simulator/api/act": "_sim_act",
}


class FakeWeChat:
    """A fake WeChat on loopback: the API, the pushes to our callback, the simulator.

    ``provider`` (optional, duck-typed; an object or a mapping of callables) feeds the simulator:
    ``accounts() -> list[FakeAccount]``, ``codes(appid) -> list[dict(name, scene, caption)]``,
    ``portal_url(appid) -> str``, ``menu(appid) -> list[dict(name, key)]``.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        permanent_qr_cap: int = 100_000,
        clock: Callable[[], float] = time.time,
        public_url: str | None = None,
        provider: Any = None,
    ):
        self.host = host
        self.port = port
        self.clock = clock
        self.public_url = public_url.rstrip("/") if public_url else None
        self.provider = provider
        self.push_timeout = PUSH_TIMEOUT  # tests may shorten it to exercise re-delivery quickly
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self._lock = threading.RLock()
        self._state = _State(permanent_qr_cap)
        self._injections: dict[str, deque[_Injection]] = {}
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # lifecycle

    def start(self) -> FakeWeChat:
        self._stopping.clear()
        self._server = _Server((self.host, self.port), self)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-wechat", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeWeChat:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def url_base(self) -> str:
        """Where the QR ``url`` and pages point: ``public_url`` when given."""
        return self.public_url or self.base_url

    def now(self) -> float:
        return float(self.clock())

    # accounts

    def add_account(self, account: FakeAccount) -> None:
        if account.mode not in ("plain", "compatible", "safe"):
            raise ValueError(f"unknown mode {account.mode!r}")
        if account.mode != "plain" and len(account.encoding_aes_key) != 43:
            raise ValueError("the EncodingAESKey has 43 characters")
        with self._lock:
            self._state.accounts[account.appid] = account

    def account(self, appid: str) -> FakeAccount:
        """The account, asking the provider when it is not known yet; KeyError when unknown."""
        self._ensure_account(appid)
        with self._lock:
            try:
                return self._state.accounts[appid]
            except KeyError:
                raise KeyError(f"unknown appid {appid!r}") from None

    def accounts(self) -> list[FakeAccount]:
        with self._lock:
            return list(self._state.accounts.values())

    def _ensure_account(self, appid: str) -> None:
        with self._lock:
            known = appid in self._state.accounts
        if not known and self.provider is not None:
            self._refresh_accounts()

    def _refresh_accounts(self) -> str | None:
        """Take the provider's accounts; the error text when the provider failed."""
        try:
            accounts = self._ask_provider("accounts", default=[])
            for account in accounts or []:
                self.add_account(account if isinstance(account, FakeAccount) else FakeAccount(**account))
        except Exception as exc:
            return f"provider.accounts(): {exc!r}"
        return None

    def _ask_provider(self, name: str, *args: Any, default: Any = None) -> Any:
        provider = self.provider
        if provider is None:
            return default
        function = provider.get(name) if isinstance(provider, Mapping) else getattr(provider, name, None)
        if function is None:
            return default
        return function(*args)

    # control

    def count(self, path: str) -> int:
        with self._lock:
            return sum(1 for called, _ in self.calls if called == path)

    def fail_next(self, path: str, errcode: int, errmsg: str = "", times: int = 1) -> None:
        injection = _Injection(
            "fail", errcode=errcode, errmsg=errmsg or ERRMSG.get(errcode, "injected error")
        )
        with self._lock:
            self._injections.setdefault(path, deque()).extend([injection] * times)

    def delay_next(self, path: str, seconds: float, times: int = 1, *, then_process: bool = True) -> None:
        """Hold the next answers on ``path`` for ``seconds``.

        With ``then_process`` the request takes effect at once and only the answer is late (the ambiguous
        timeout: the client gave up, yet the message went out); without it the late answer is ``-1`` and
        nothing happened.
        """
        injection = _Injection("delay", seconds=seconds, then_process=then_process)
        with self._lock:
            self._injections.setdefault(path, deque()).extend([injection] * times)

    def invalidate_tokens(self, appid: str) -> None:
        with self._lock:
            self._state.revoke_tokens(appid)

    def inbox(self, appid: str, openid: str) -> list[dict[str, Any]]:
        """What the user received, in order: kind "custom", "template" or "passive"."""
        with self._lock:
            user = self._state.users.get((appid, openid))
            entries = user.timeline if user else []
            return [_public_entry(e) for e in entries if e["side"] == "account"]

    def timeline(self, appid: str, openid: str) -> list[dict[str, Any]]:
        """The whole conversation: what the user did ("user"), received ("account") and saw ("system")."""
        with self._lock:
            user = self._state.users.get((appid, openid))
            return [json.loads(json.dumps(e)) for e in (user.timeline if user else [])]

    def follower(self, appid: str, openid: str) -> dict[str, Any] | None:
        with self._lock:
            user = self._state.users.get((appid, openid))
            if user is None:
                return None
            state = {
                "openid": user.openid,
                "subscribe": int(user.subscribed),
                "subscribe_time": user.subscribe_time,
                "subscribe_scene": user.subscribe_scene,
                "qr_scene": user.qr_scene,
                "qr_scene_str": user.qr_scene_str,
                "unionid": user.unionid,
            }
            return state

    def openids(self, appid: str) -> list[str]:
        with self._lock:
            return [openid for (app, openid) in self._state.users if app == appid]

    def issued_codes(self, appid: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(c) for c in self._state.issued_codes if appid in (None, c["appid"])]

    # users acting

    def user_subscribe(
        self,
        appid: str,
        openid: str,
        scene: int | str | None = None,
        *,
        unionid: str | None = None,
        ticket: str | None = None,
        **push: Any,
    ) -> list[PushResult]:
        """Follow, through a code when ``scene`` is given. ``push`` options: times, concurrent,
        redeliver_on_timeout (as for ``push``)."""
        self.account(appid)
        now = self.now()
        with self._lock:
            self._state.subscribe(appid, openid, scene, unionid, now)
            label = "关注 / Follow" if scene is None else f"扫码关注 / Scan and follow · {scene}"
            self._state.note(appid, openid, "user", now, kind="event", text=label)
        fields: dict[str, Any] = {"FromUserName": openid, "MsgType": "event", "Event": "subscribe"}
        if scene is not None:
            fields["EventKey"] = f"qrscene_{scene}"
            fields["Ticket"] = ticket or encode_ticket(appid, scene, None)
        return self.push(appid, fields, **push)

    def user_scan(
        self, appid: str, openid: str, scene: int | str, *, ticket: str | None = None, **push: Any
    ) -> list[PushResult]:
        """A follower scanning gives SCAN; anyone else follows through the code (subscribe + qrscene_)."""
        self.account(appid)
        with self._lock:
            user = self._state.users.get((appid, openid))
            following = user is not None and user.subscribed
        if not following:
            return self.user_subscribe(appid, openid, scene, ticket=ticket, **push)
        now = self.now()
        with self._lock:
            self._state.user(appid, openid).open_window(False, now)
            self._state.note(appid, openid, "user", now, kind="event", text=f"扫码 / Scan · {scene}")
        fields = {
            "FromUserName": openid,
            "MsgType": "event",
            "Event": "SCAN",
            "EventKey": str(scene),
            "Ticket": ticket or encode_ticket(appid, scene, None),
        }
        return self.push(appid, fields, **push)

    def scan_ticket(self, openid: str, ticket: str) -> list[PushResult]:
        """Scan a code by its ticket (as the simulator does); ValueError when unknown or expired."""
        payload = decode_ticket(ticket)
        if payload is None:
            raise ValueError("二维码无效 / unknown QR code")
        if payload.get("exp") is not None and self.now() >= payload["exp"]:
            raise ValueError("二维码已过期 / the QR code has expired")
        return self.user_scan(payload["appid"], openid, payload["scene"], ticket=ticket)

    def user_unsubscribe(self, appid: str, openid: str, **push: Any) -> list[PushResult]:
        self.account(appid)
        now = self.now()
        with self._lock:
            self._state.unsubscribe(appid, openid)
            self._state.note(appid, openid, "user", now, kind="event", text="取消关注 / Unfollow")
        return self.push(appid, {"FromUserName": openid, "MsgType": "event", "Event": "unsubscribe"}, **push)

    def user_text(self, appid: str, openid: str, text: str, **push: Any) -> list[PushResult]:
        fields = {"FromUserName": openid, "MsgType": "text", "Content": text}
        return self._user_message(appid, openid, fields, text, **push)

    def user_image(
        self, appid: str, openid: str, pic_url: str, media_id: str | None = None, **push: Any
    ) -> list[PushResult]:
        media_id = media_id or secrets.token_urlsafe(32)
        fields = {"FromUserName": openid, "MsgType": "image", "PicUrl": pic_url, "MediaId": media_id}
        return self._user_message(appid, openid, fields, "[图片 / image]", **push)

    def user_location(
        self,
        appid: str,
        openid: str,
        latitude: float,
        longitude: float,
        scale: int = 15,
        label: str = "",
        **push: Any,
    ) -> list[PushResult]:
        fields = {
            "FromUserName": openid,
            "MsgType": "location",
            "Location_X": latitude,
            "Location_Y": longitude,
            "Scale": scale,
            "Label": label,
        }
        return self._user_message(appid, openid, fields, f"[位置 / location] {label}", **push)

    def user_link(
        self, appid: str, openid: str, title: str, description: str, url: str, **push: Any
    ) -> list[PushResult]:
        fields = {
            "FromUserName": openid,
            "MsgType": "link",
            "Title": title,
            "Description": description,
            "Url": url,
        }
        return self._user_message(appid, openid, fields, f"[链接 / link] {title}", **push)

    def user_click(self, appid: str, openid: str, key: str, **push: Any) -> list[PushResult]:
        self.account(appid)
        now = self.now()
        with self._lock:
            self._state.user(appid, openid).open_window(False, now)
            self._state.note(appid, openid, "user", now, kind="event", text=f"菜单 / Menu · {key}")
        fields = {"FromUserName": openid, "MsgType": "event", "Event": "CLICK", "EventKey": key}
        return self.push(appid, fields, **push)

    def user_view(self, appid: str, openid: str, url: str, **push: Any) -> list[PushResult]:
        self.account(appid)
        with self._lock:
            self._state.note(appid, openid, "user", self.now(), kind="event", text=f"打开 / Open · {url}")
        fields = {"FromUserName": openid, "MsgType": "event", "Event": "VIEW", "EventKey": url}
        return self.push(appid, fields, **push)

    def _user_message(
        self, appid: str, openid: str, fields: dict[str, Any], label: str, **push: Any
    ) -> list[PushResult]:
        self.account(appid)
        now = self.now()
        with self._lock:
            self._state.user(appid, openid).open_window(True, now)
            self._state.note(appid, openid, "user", now, kind=fields["MsgType"], text=label)
        return self.push(appid, fields, **push)

    # pushing to our callback

    def build_push(self, appid: str, fields: Mapping[str, Any]) -> tuple[dict[str, str], bytes]:
        """(query parameters, body) of a push, exactly as ``push`` sends them."""
        account = self.account(appid)
        message = self._complete(account, fields)
        xml = to_xml(message)
        timestamp = str(int(self.now()))
        nonce = str(secrets.randbelow(9 * 10**9) + 10**9)
        query = {
            "signature": sign(account.token, timestamp, nonce),
            "timestamp": timestamp,
            "nonce": nonce,
            "openid": str(message["FromUserName"]),
        }
        if account.mode == "plain":
            return query, xml.encode()
        envelope = parse_xml(account.crypto().encrypt_message(xml, nonce, timestamp))
        query.update(encrypt_type="aes", msg_signature=envelope["MsgSignature"])
        if account.mode == "safe":
            body = to_xml({"ToUserName": message["ToUserName"], "Encrypt": envelope["Encrypt"]})
        else:
            body = to_xml({**message, "Encrypt": envelope["Encrypt"]})
        return query, body.encode()

    def _complete(self, account: FakeAccount, fields: Mapping[str, Any]) -> dict[str, Any]:
        if "FromUserName" not in fields or "MsgType" not in fields:
            raise ValueError("a push needs FromUserName and MsgType")
        message: dict[str, Any] = {
            "ToUserName": fields.get("ToUserName", account.original_id),
            "FromUserName": fields["FromUserName"],
            "CreateTime": fields.get("CreateTime", int(self.now())),
            "MsgType": fields["MsgType"],
        }
        message.update({k: v for k, v in fields.items() if k not in message and k != "MsgId"})
        if fields["MsgType"] != "event":
            with self._lock:
                message["MsgId"] = fields.get("MsgId") or self._state.next_msgid()
        return message

    def push(
        self,
        appid: str,
        fields: Mapping[str, Any],
        *,
        times: int = 1,
        concurrent: bool = False,
        redeliver_on_timeout: bool = True,
    ) -> list[PushResult]:
        """POST one payload to the account's callback ``times`` times; every delivery's result, in order.

        Without a callback URL nothing is sent (the user's action still changed the fake's state).
        """
        account = self.account(appid)
        if not account.callback_url:
            return []
        query, body = self.build_push(appid, fields)

        def deliver() -> list[PushResult]:
            return self._deliver(account, str(fields["FromUserName"]), query, body, redeliver_on_timeout)

        if concurrent and times > 1:
            batches = _run_concurrently(deliver, times)
        else:
            batches = [deliver() for _ in range(times)]
        results = [result for batch in batches for result in batch]
        self._record_outcome(account, fields, results)
        return results

    def _deliver(
        self, account: FakeAccount, openid: str, query: dict[str, str], body: bytes, redeliver: bool
    ) -> list[PushResult]:
        results: list[PushResult] = []
        with requests.Session() as session:
            session.trust_env = False  # loopback: no proxy
            for _ in range(1 + (PUSH_RETRIES if redeliver else 0)):
                result = self._post_once(session, account, openid, query, body)
                results.append(result)
                if result.status != 0:
                    break
        return results

    def _post_once(
        self,
        session: requests.Session,
        account: FakeAccount,
        openid: str,
        query: dict[str, str],
        body: bytes,
    ) -> PushResult:
        started = time.monotonic()
        try:
            response = session.post(
                account.callback_url,
                params=query,
                data=body,
                headers={"Content-Type": "text/xml", "User-Agent": "Mozilla/4.0 (fake WeChat)"},
                timeout=self.push_timeout,
            )
        except requests.Timeout:
            return PushResult(0, "", None, time.monotonic() - started, "no answer in time")
        except requests.RequestException as exc:
            return PushResult(0, "", None, time.monotonic() - started, f"no answer: {exc}")
        elapsed = time.monotonic() - started
        text = response.content.decode("utf-8", "replace")
        if response.status_code != 200:
            return PushResult(response.status_code, text, None, elapsed, f"HTTP {response.status_code}")
        reply, error = read_reply(account, openid, text)
        return PushResult(200, text, reply, elapsed, error)

    def _record_outcome(
        self, account: FakeAccount, fields: Mapping[str, Any], results: list[PushResult]
    ) -> None:
        """The passive reply the user sees (once per push), or WeChat's apology when none was accepted."""
        openid = str(fields["FromUserName"])
        accepted = [result for result in results if result.accepted]
        now = self.now()
        with self._lock:
            if accepted:
                reply = next((result.reply for result in accepted if result.reply), None)
                if reply:
                    self._state.deliver(account.appid, openid, "passive", now, **_passive_entry(reply))
            elif results and fields.get("Event") != "unsubscribe":
                self._state.note(account.appid, openid, "system", now, kind="error", text=SERVICE_UNAVAILABLE)

    # HTTP: dispatch

    def _handle(self, request: _Request) -> _Response:
        if request.path.startswith(("/cgi-bin/", "/sns/", "/connect/")):
            with self._lock:
                self.calls.append((request.path, request.recorded_payload()))
        if request.path in API_ROUTES:
            method, handler = API_ROUTES[request.path]
            return self._serve_api(request, method, getattr(self, handler))
        if request.path in PAGE_ROUTES:
            return getattr(self, PAGE_ROUTES[request.path])(request)
        if request.path == "/favicon.ico":
            return _Response(204, b"", "image/x-icon")
        if request.path.startswith("/q/"):
            return self._page_qr(request.path.removeprefix("/q/"))
        return _not_found(request.path)

    def _serve_api(
        self, request: _Request, method: str, handler: Callable[[_Request, float], dict[str, Any]]
    ) -> _Response:
        if request.method != method:
            return _json(ApiError(43001 if method == "GET" else 43002).as_dict())
        with self._lock:
            queue = self._injections.get(request.path)
            injection = queue.popleft() if queue else None
        if injection is not None and injection.kind == "fail":
            return _json({"errcode": injection.errcode, "errmsg": injection.errmsg})
        if injection is not None and not injection.then_process:
            self._stopping.wait(injection.seconds)
            return _json(ApiError(-1).as_dict())
        try:
            answer = handler(request, self.now())
        except ApiError as exc:
            answer = exc.as_dict()
        if injection is not None:
            self._stopping.wait(injection.seconds)
        return _json(answer)

    # HTTP: the API

    def _api_token(self, request: _Request, now: float) -> dict[str, Any]:
        query = request.query
        if query.get("grant_type") != "client_credential":
            raise ApiError(40002)
        appid = query.get("appid", "")
        self._ensure_account(appid)
        with self._lock:
            self._state.authenticate(appid, query.get("secret", ""))
            token = self._state.issue_token(appid, "token", now)
        return {"access_token": token.value, "expires_in": TOKEN_TTL}

    def _api_stable_token(self, request: _Request, now: float) -> dict[str, Any]:
        body = request.json()
        if body.get("grant_type") != "client_credential":
            raise ApiError(40002)
        appid = str(body.get("appid", ""))
        self._ensure_account(appid)
        force = body.get("force_refresh") in (True, 1, "true", "1")
        with self._lock:
            self._state.authenticate(appid, str(body.get("secret", "")))
            token = self._state.stable_token(appid, force, now)
        return {"access_token": token.value, "expires_in": max(0, int(token.expires_at - now))}

    def _authorized(self, request: _Request, now: float) -> str:
        with self._lock:
            return self._state.check_token(request.query.get("access_token", ""), now)

    def _api_qrcode_create(self, request: _Request, now: float) -> dict[str, Any]:
        appid = self._authorized(request, now)
        body = request.json()
        with self._lock:
            return self._state.create_qrcode(appid, body, now, self.url_base)

    def _api_user_info(self, request: _Request, now: float) -> dict[str, Any]:
        appid = self._authorized(request, now)
        openid = request.query.get("openid", "")
        if not openid:
            raise ApiError(40003)
        with self._lock:
            user = self._state.users.get((appid, openid))
            return user.info() if user else {"subscribe": 0, "openid": openid}

    def _api_custom_send(self, request: _Request, now: float) -> dict[str, Any]:
        appid = self._authorized(request, now)
        body = request.json()
        with self._lock:
            return self._state.custom_send(appid, body, now)

    def _api_template_send(self, request: _Request, now: float) -> dict[str, Any]:
        appid = self._authorized(request, now)
        body = request.json()
        with self._lock:
            return self._state.template_send(appid, body, now)

    def _api_menu_create(self, request: _Request, now: float) -> dict[str, Any]:
        appid = self._authorized(request, now)
        buttons = request.json().get("button")
        if not isinstance(buttons, list) or not buttons:
            raise ApiError(40097)
        with self._lock:
            self._state.menus[appid] = list(_click_buttons(buttons))
        return {"errcode": 0, "errmsg": "ok"}

    def _api_oauth_access_token(self, request: _Request, now: float) -> dict[str, Any]:
        self._ensure_account(request.query.get("appid", ""))
        with self._lock:
            return self._state.exchange_oauth_code(request.query, now)

    # HTTP: web OAuth (a development stand-in for WeChat's sign-in)

    def _oauth_request(self, fields: dict[str, str]) -> tuple[FakeAccount, dict[str, str]]:
        """The account and the checked parameters of an authorize request; ValueError when malformed."""
        appid = fields.get("appid", "")
        try:
            account = self.account(appid)
        except KeyError:
            raise ValueError(f"未知的 appid / unknown appid: {appid}") from None
        redirect_uri = fields.get("redirect_uri", "")
        if not redirect_uri.startswith(("http://", "https://")):
            raise ValueError("redirect_uri 参数错误 / bad redirect_uri")
        if fields.get("response_type", "code") != "code":
            raise ValueError("response_type 参数错误 / response_type must be code")
        scope = fields.get("scope") or "snsapi_base"
        if scope not in ("snsapi_base", "snsapi_userinfo"):
            raise ValueError("scope 参数错误 / bad scope")
        state = fields.get("state", "")
        if len(state.encode()) > OAUTH_STATE_MAX_BYTES:
            raise ValueError("state 参数过长 / state is longer than 128 bytes")
        return account, {"appid": appid, "redirect_uri": redirect_uri, "scope": scope, "state": state}

    def _sign_in(self, params: dict[str, str], openid: str, snapshot: bool) -> _Response:
        if snapshot and not openid:
            openid = _random_openid("o_snapshot_")
        with self._lock:
            code = self._state.issue_oauth_code(
                params["appid"], openid, params["scope"], snapshot, self.now()
            )
        return _redirect(_with_query(params["redirect_uri"], {"code": code, "state": params["state"]}))

    def _page_authorize(self, request: _Request) -> _Response:
        try:
            account, params = self._oauth_request(request.query)
        except ValueError as exc:
            return _html(_error_page(str(exc)), 400)
        openid = request.query.get("fake_openid", "")
        snapshot = request.query.get("fake_snapshot", "") in ("1", "true")
        if openid or snapshot:
            return self._sign_in(params, openid, snapshot)
        hint = request.query.get("fake_hint") or request.cookies.get(SNAPSHOT_COOKIE, "")
        return _html(self._sign_in_page(account, params, hint))

    def _page_confirm(self, request: _Request) -> _Response:
        fields = request.form()
        try:
            account, params = self._oauth_request(fields)
        except ValueError as exc:
            return _html(_error_page(str(exc)), 400)
        snapshot = fields.get("snapshot", "") in ("1", "on", "true")
        # A snapshot user is a virtual identity: a known user's openid is not lent to it.
        openid = fields.get("openid", "").strip() or (
            "" if snapshot else fields.get("openid_choice", "").strip()
        )
        if not openid and not snapshot:
            return _html(
                self._sign_in_page(account, params, "", "请选择或输入 openid / choose or type an openid"), 400
            )
        return self._sign_in(params, openid, snapshot)

    def _sign_in_page(self, account: FakeAccount, params: dict[str, str], hint: str, error: str = "") -> str:
        known = self.openids(account.appid)
        if hint and hint not in known:
            known.insert(0, hint)
        choices = "".join(
            f'<label class="choice"><input type="radio" name="openid_choice" value="{html.escape(o)}"'
            f"{' checked' if o == hint else ''}> <code>{html.escape(o)}</code>{_follow_badge(self, account.appid, o)}"
            "</label>"
            for o in known
        )
        hidden = "".join(
            f'<input type="hidden" name="{key}" value="{html.escape(value)}">'
            for key, value in params.items()
        )
        choices = choices or '<p class="muted">还没有已知用户 / no known users yet</p>'
        return _page("开发环境 · 模拟微信网页授权", _sign_in_body(account, hidden, choices, error))

    # HTTP: QR landing page

    def _page_qr(self, ticket: str) -> _Response:
        payload = decode_ticket(ticket)
        if payload is None:
            return _html(_error_page("二维码无效 / unknown QR code"), 404)
        with self._lock:
            account = self._state.accounts.get(payload["appid"])
        name = account.name if account and account.name else payload["appid"]
        expiry = payload.get("exp")
        if expiry is None:
            lifetime = "永久二维码 / permanent code"
        elif self.now() >= expiry:
            lifetime = "已过期 / expired"
        else:
            lifetime = f"临时二维码，{int(expiry - self.now())} 秒后过期 / temporary, expires in {int(expiry - self.now())} s"
        link = "/simulator/?" + urlencode({"appid": payload["appid"], "ticket": ticket})
        body = (
            f"<h1>二维码 / QR code</h1><p>公众号 / Account: <b>{html.escape(name)}</b></p>"
            f"<p>场景 / Scene: <code>{html.escape(str(payload['scene']))}</code></p><p>{lifetime}</p>"
            f'<p><a href="{html.escape(link)}">在模拟器中扫码 / Scan it in the simulator</a></p>'
        )
        return _html(_page("二维码 / QR code", body))

    # HTTP: the simulator

    def _page_simulator_redirect(self, request: _Request) -> _Response:
        return _redirect("/simulator/")

    def _page_simulator(self, request: _Request) -> _Response:
        return _html((SIMULATOR_DIR / "simulator.html").read_text(encoding="utf-8"))

    def _page_simulator_script(self, request: _Request) -> _Response:
        script = (SIMULATOR_DIR / "simulator.js").read_bytes()
        return _Response(200, script, "text/javascript; charset=utf-8", {"Cache-Control": "no-store"})

    def _sim_state(self, request: _Request) -> _Response:
        errors = [e for e in [self._refresh_accounts()] if e]
        accounts = [
            {"appid": a.appid, "name": a.name or a.appid, "mode": a.mode, "callback_url": a.callback_url}
            for a in self.accounts()
        ]
        appid = request.query.get("appid") or (accounts[0]["appid"] if accounts else "")
        state: dict[str, Any] = {"accounts": accounts, "appid": appid, "now": self.now()}
        if any(a["appid"] == appid for a in accounts):
            state.update(self._sim_account_state(appid, errors))
            state.update(self._sim_conversation(appid, request.query.get("openid", "")))
        state["errors"] = errors
        return _json(state)

    def _sim_account_state(self, appid: str, errors: list[str]) -> dict[str, Any]:
        def ask(name: str, default: Any) -> Any:
            try:
                return self._ask_provider(name, appid, default=default)
            except Exception as exc:
                errors.append(f"provider.{name}(): {exc!r}")
                return default

        codes = [{**_plain(code), "source": "provider"} for code in ask("codes", None) or []]
        now = self.now()
        for issued in reversed(self.issued_codes(appid)):
            expired = issued["expires_at"] is not None and now >= issued["expires_at"]
            codes.append(
                {
                    "name": "接口生成的二维码 / issued code",
                    "scene": issued["scene"],
                    "caption": "永久 / permanent" if issued["expires_at"] is None else "临时 / temporary",
                    "ticket": issued["ticket"],
                    "expired": expired,
                    "source": "issued",
                }
            )
        with self._lock:
            fallback_menu = list(self._state.menus.get(appid, []))
        return {
            "codes": codes,
            "menu": [_plain(item) for item in ask("menu", None) or fallback_menu],
            "portal_url": ask("portal_url", "") or "",
            "users": self.openids(appid),
        }

    def _sim_conversation(self, appid: str, openid: str) -> dict[str, Any]:
        if not openid:
            return {"follower": None, "conversation": []}
        return {"follower": self.follower(appid, openid), "conversation": self.timeline(appid, openid)}

    def _sim_inbox(self, request: _Request) -> _Response:
        appid, openid = request.query.get("appid", ""), request.query.get("openid", "")
        return _json({"now": self.now(), **self._sim_conversation(appid, openid)})

    def _sim_act(self, request: _Request) -> _Response:
        if request.method != "POST":
            return _json({"ok": False, "error": "POST only"}, 405)
        try:
            body = request.json()
            appid, openid = str(body.get("appid", "")), str(body.get("openid", "")).strip()
            if not openid:
                raise ValueError("请先选择身份 / choose an identity first")
            results = self._sim_perform(appid, openid, body)
        except ApiError:
            return _json({"ok": False, "error": "bad JSON"}, 400)
        except (KeyError, ValueError) as exc:
            return _json({"ok": False, "error": str(exc).strip("'\"")})
        summary = [{"status": r.status, "error": r.error, "reply": r.reply} for r in results]
        return _json({"ok": True, "results": summary, **self._sim_conversation(appid, openid)})

    def _sim_perform(self, appid: str, openid: str, body: dict[str, Any]) -> list[PushResult]:
        action = body.get("action")
        self.account(appid)
        if action == "scan":
            if body.get("ticket"):
                return self.scan_ticket(openid, str(body["ticket"]))
            if body.get("scene") in (None, ""):
                raise ValueError("缺少场景 / no scene")
            return self.user_scan(appid, openid, body["scene"])
        if action == "follow":
            following = (self.follower(appid, openid) or {}).get("subscribe")
            return [] if following else self.user_subscribe(appid, openid)
        if action == "unfollow":
            return self.user_unsubscribe(appid, openid)
        if action == "text":
            text = str(body.get("text", ""))
            if not text.strip():
                raise ValueError("消息为空 / empty message")
            return self.user_text(appid, openid, text)
        if action == "click":
            return self.user_click(appid, openid, str(body.get("key", "")))
        if action == "view":
            return self.user_view(appid, openid, str(body.get("url", "")))
        raise ValueError(f"未知操作 / unknown action: {action}")


def _run_concurrently(function: Callable[[], list[PushResult]], times: int) -> list[list[PushResult]]:
    """Run ``function`` from ``times`` threads released at the same instant."""
    barrier = threading.Barrier(times)
    batches: list[list[PushResult]] = [[] for _ in range(times)]

    def run(index: int) -> None:
        barrier.wait()
        batches[index] = function()

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return batches


def read_reply(account: FakeAccount, openid: str, text: str) -> tuple[dict[str, Any] | None, str]:
    """Our callback's answer as WeChat reads it: (the passive reply or None, why it is refused or "")."""
    stripped = text.strip()
    if stripped in ("", "success"):
        return None, ""
    try:
        outer = parse_xml(stripped)
    except ValueError:
        return None, "the answer is neither 'success' nor XML"
    if "Encrypt" in outer:
        if account.mode == "plain":
            return outer, "an encrypted reply from an account in plain mode"
        try:
            inner = account.crypto().decrypt_message(
                outer, outer.get("MsgSignature", ""), outer.get("TimeStamp", ""), outer.get("Nonce", "")
            )
            reply = parse_xml(inner)
        except Exception as exc:
            return outer, f"the encrypted reply was rejected: {type(exc).__name__}"
    elif account.mode == "safe":
        return outer, "a plaintext reply from an account in safe mode"
    else:
        reply = outer
    return reply, _reply_problem(account, openid, reply)


def _reply_problem(account: FakeAccount, openid: str, reply: dict[str, Any]) -> str:
    if reply.get("ToUserName") != openid:
        return "the reply's ToUserName is not the user"
    if reply.get("FromUserName") != account.original_id:
        return "the reply's FromUserName is not the account"
    msgtype = reply.get("MsgType")
    if not msgtype:
        return "the reply has no MsgType"
    if msgtype == "text" and not (reply.get("Content") or "").strip():
        return "a text reply with empty Content"
    if msgtype == "news" and str(reply.get("ArticleCount", "1")) != "1":
        return "a news reply with more than one article"
    return ""


def _passive_entry(reply: dict[str, Any]) -> dict[str, Any]:
    msgtype = reply.get("MsgType")
    if msgtype == "text":
        return {"msgtype": "text", "text": reply.get("Content")}
    if msgtype == "news":
        articles = (reply.get("Articles") or {}).get("item") or {}
        article = articles[0] if isinstance(articles, list) else articles
        return {"msgtype": "news", "text": article.get("Title"), "url": article.get("Url"), "data": article}
    return {"msgtype": msgtype, "text": f"[{msgtype}]", "data": reply}


def _public_entry(entry: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in json.loads(json.dumps(entry)).items() if key != "side"}


def _plain(item: Any) -> dict[str, Any]:
    """A provider item (mapping or object) as a JSON-able dict."""
    if isinstance(item, Mapping):
        return json.loads(json.dumps(dict(item), default=str))
    return json.loads(json.dumps(vars(item), default=str))


def _click_buttons(buttons: list[Any]) -> list[dict[str, str]]:
    """The CLICK buttons of a menu, flattened, as the simulator shows them."""
    found = []
    for button in buttons:
        if not isinstance(button, dict):
            continue
        found.extend(_click_buttons(button.get("sub_button") or []))
        if button.get("type") == "click" and button.get("key"):
            found.append({"name": str(button.get("name", button["key"])), "key": str(button["key"])})
    return found


def _follow_badge(fake: FakeWeChat, appid: str, openid: str) -> str:
    state = fake.follower(appid, openid)
    return " · 已关注 / following" if state and state["subscribe"] else ""


def _error_page(message: str) -> str:
    return _page("错误 / Error", f'<h1>出错了 / Error</h1><p class="error">{html.escape(message)}</p>')


_STYLE = """
body{font-family:-apple-system,"PingFang SC","Microsoft YaHei",sans-serif;margin:0;background:#ededed;color:#111}
main{max-width:420px;margin:0 auto;background:#fff;min-height:100vh;padding:16px;box-sizing:border-box}
.banner{background:#fff3cd;border:2px dashed #d39e00;padding:10px;margin-bottom:14px;font-weight:600}
.banner small{display:block;font-weight:400}
.choice{display:block;padding:8px;border-bottom:1px solid #eee}
.error{color:#b00020}.muted{color:#888}
input[type=text]{width:100%;padding:8px;box-sizing:border-box;margin:6px 0}
button{background:#07c160;color:#fff;border:0;border-radius:4px;padding:10px 16px;font-size:16px;width:100%}
code{font-size:13px}
"""


def _page(title: str, body: str) -> str:
    """A small page of the fake, marked as a development stand-in."""
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body><main>"
        '<div class="banner">开发环境 · 模拟微信 <small>Development stand-in — not WeChat</small></div>'
        f"{body}</main></body></html>"
    )


def _sign_in_body(account: FakeAccount, hidden: str, choices: str, error: str) -> str:
    return f"""
<h1>模拟微信网页授权</h1>
<p class="muted">开发环境 · 模拟微信网页授权 / Development sign-in — not WeChat</p>
<p>公众号 / Account: <b>{html.escape(account.name or account.appid)}</b> <code>{html.escape(account.appid)}</code></p>
{f'<p class="error">{html.escape(error)}</p>' if error else ""}
<form method="post" action="/connect/oauth2/confirm">
{hidden}
<h2>选择身份 / Choose an identity</h2>
{choices}
<label>或输入 openid / or type an openid
<input type="text" name="openid" placeholder="o_demo_xxxxxxxx" autocomplete="off"></label>
<label class="choice"><input type="checkbox" name="snapshot" value="1">
快照页模式（虚拟身份）/ snapshot-mode user (virtual identity)</label>
<p><button type="submit">确认登录 / Sign in</button></p>
</form>
"""
