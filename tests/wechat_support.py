"""Building WeChat pushes the way WeChat does, with wechatpy's own primitives, for the
callback tests; and the official accounts the tests use."""

from __future__ import annotations

import itertools
import time
from typing import Any

from wechatpy.crypto import WeChatCrypto
from wechatpy.utils import WeChatSigner

from yimatong.wechat.models import OfficialAccount

AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
_msg_ids = itertools.count(int(time.time() * 1000))


def make_accounts() -> tuple[OfficialAccount, OfficialAccount]:
    """A Chinese account in safe mode and an English one in plain mode."""
    safe = OfficialAccount.objects.create(
        slug="park-cn",
        name="重庆国际生物城",
        appid="wx0000000000safe1",
        secret="secret-cn",
        token="tokencn",
        encoding_aes_key=AES_KEY,
        mode=OfficialAccount.Mode.SAFE,
        welcome_text="欢迎关注重庆国际生物城！",
        templates={
            "visit_confirmed": "TPL-VISIT",
            "meeting_scheduled": "TPL-MEET",
            "registered": "TPL-REG",
            "reply": "TPL-REPLY",
        },
    )
    plain = OfficialAccount.objects.create(
        slug="park-en",
        name="Chongqing International Bio-City",
        appid="wx00000000plain01",
        secret="secret-en",
        token="tokenen",
        mode=OfficialAccount.Mode.PLAIN,
        language=OfficialAccount.Language.EN,
        welcome_text="Welcome to Chongqing International Bio-City!",
        templates={"reply": "TPL-REPLY-EN"},
    )
    return safe, plain


def sign(token: str, *parts: str) -> str:
    signer = WeChatSigner()
    signer.add_data(token, *parts)
    return signer.signature


def xml_of(fields: dict[str, Any]) -> str:
    inner = "".join(
        f"<{k}>{v}</{k}>" if isinstance(v, int) else f"<{k}><![CDATA[{v}]]></{k}>" for k, v in fields.items()
    )
    return f"<xml>{inner}</xml>"


def message(openid: str, msg_type: str = "text", **extra: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "ToUserName": "gh_park",
        "FromUserName": openid,
        "CreateTime": int(time.time()),
        "MsgType": msg_type,
    }
    if msg_type != "event":
        fields["MsgId"] = next(_msg_ids)
    fields.update(extra)
    return fields


def text(openid: str, content: str) -> dict[str, Any]:
    return message(openid, "text", Content=content)


def event(openid: str, name: str, key: str = "", **extra: Any) -> dict[str, Any]:
    fields = message(openid, "event", Event=name, **extra)
    if key or name in ("subscribe", "SCAN", "CLICK", "VIEW"):
        fields["EventKey"] = key
    return fields


def request_for(
    account: OfficialAccount, fields: dict[str, Any] | str, *, encrypt: bool | None = None
) -> tuple[dict[str, str], bytes]:
    """(query, body) as WeChat would send them to ``account``'s callback."""
    encrypt = account.mode != OfficialAccount.Mode.PLAIN if encrypt is None else encrypt
    timestamp, nonce = str(int(time.time())), f"n{next(_msg_ids)}"
    plain = fields if isinstance(fields, str) else xml_of(fields)
    query = {"signature": sign(account.token, timestamp, nonce), "timestamp": timestamp, "nonce": nonce}
    if isinstance(fields, dict):
        query["openid"] = str(fields.get("FromUserName", ""))
    if not encrypt:
        return query, plain.encode("utf-8")
    envelope = WeChatCrypto(account.token, account.encoding_aes_key, account.appid).encrypt_message(
        plain, nonce, timestamp
    )
    from yimatong.wechat.protocol import parse_xml

    parsed = parse_xml(envelope)
    query.update(encrypt_type="aes", msg_signature=parsed["MsgSignature"])
    body = f"<xml><ToUserName><![CDATA[gh_park]]></ToUserName><Encrypt><![CDATA[{parsed['Encrypt']}]]></Encrypt></xml>"
    return query, body.encode("utf-8")


def post(client, account: OfficialAccount, fields: dict[str, Any] | str, **kwargs: Any):
    query, body = request_for(account, fields, **kwargs)
    from urllib.parse import urlencode

    return client.post(f"{account.callback_path()}?{urlencode(query)}", data=body, content_type="text/xml")


def reply_text(account: OfficialAccount, response) -> str | None:
    """The passive reply's text (decrypted in safe mode), or None for ``success``."""
    from yimatong.wechat.protocol import decrypt, parse_xml

    body = response.content.decode("utf-8")
    if body in ("success", ""):
        return None
    fields = parse_xml(body)
    if "Encrypt" in fields:
        fields = parse_xml(
            decrypt(
                token=account.token,
                keys=[account.encoding_aes_key],
                appid=account.appid,
                envelope=fields,
                msg_signature=fields["MsgSignature"],
                timestamp=str(fields["TimeStamp"]),
                nonce=fields["Nonce"],
            )
        )
    return fields["Content"]
