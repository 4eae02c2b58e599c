"""The callback protocol: signatures, safe-mode crypto, safe parsing, de-duplication keys and
passive replies (see WECHAT.md). Pure functions over an account's token and keys."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from typing import Any

import xmltodict
from wechatpy.crypto import PrpCrypto
from wechatpy.exceptions import InvalidAppIdException

MESSAGE_TYPES = {"text", "image", "voice", "video", "shortvideo", "location", "link"}
MSG_KEY_PREFIX = "msg:"  # a message's de-duplication key: the prefix and its MsgId


class BadPush(Exception):
    """The request is not a well-formed push (400)."""


class BadFields(BadPush):
    """A push from WeChat whose fields cannot be stored as they came (400, whatever the account)."""


class Forbidden(Exception):
    """The request is not from WeChat for this account (403)."""


def sign(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()


def signature_ok(token: str, signature: str, timestamp: str, nonce: str) -> bool:
    if not (signature and timestamp and nonce):
        return False
    return hmac.compare_digest(sign(token, timestamp, nonce), signature)


def parse_xml(body: bytes | str) -> dict[str, Any]:
    """The ``<xml>`` element as a flat dict; entities and DTDs refused. WeChat sends UTF-8:
    a body in any other encoding (UTF-16 included) is refused."""
    try:
        text = body.decode("utf-8") if isinstance(body, bytes) else body
    except UnicodeDecodeError as exc:
        raise BadPush("the body is not UTF-8") from exc
    if "\x00" in text:  # never in XML; UTF-16 read as UTF-8 is full of them
        raise BadPush("a NUL character in the body")
    if "<!DOCTYPE" in text.upper() or "<!ENTITY" in text.upper():
        raise BadPush("DTDs and entities are not accepted")
    try:
        parsed = xmltodict.parse(text, disable_entities=True)
    except Exception as exc:  # ExpatError, ValueError from the entity guard
        raise BadPush(f"malformed XML: {exc}") from exc
    root = parsed.get("xml") if isinstance(parsed, dict) else None
    if not isinstance(root, dict):
        raise BadPush("no <xml> root element")
    return {k: ("" if v is None else v) for k, v in root.items()}


def decrypt(
    *,
    token: str,
    keys: list[str],
    appid: str,
    envelope: dict[str, Any],
    msg_signature: str,
    timestamp: str,
    nonce: str,
) -> str:
    """The plaintext XML of a safe-mode push. Checks ``msg_signature`` over the ciphertext and the
    appid at the end of the plaintext; during a key rotation both keys are tried."""
    encrypted = envelope.get("Encrypt")
    if not isinstance(encrypted, str) or not encrypted:
        raise BadPush("no <Encrypt> element")
    if not msg_signature or not hmac.compare_digest(sign(token, timestamp, nonce, encrypted), msg_signature):
        raise Forbidden("bad msg_signature")
    last_error: Exception | None = None
    for key in keys:
        if not key:
            continue
        try:
            plain = PrpCrypto(_aes_key(key)).decrypt(encrypted, appid)
            return plain.decode("utf-8") if isinstance(plain, bytes) else plain
        except InvalidAppIdException as exc:
            raise Forbidden("appid mismatch") from exc
        except Exception as exc:  # a wrong key gives bad padding or garbage
            last_error = exc
    raise BadPush(f"cannot decrypt: {last_error}")


def _aes_key(encoding_aes_key: str) -> bytes:
    import base64

    key = base64.b64decode(encoding_aes_key + "=")
    if len(key) != 32:
        raise BadPush("bad EncodingAESKey")
    return key


def encrypt(
    *, token: str, key: str, appid: str, xml: str, nonce: str | None = None, timestamp: str | None = None
) -> str:
    """A passive reply in safe mode: the encrypted envelope WeChat expects."""
    nonce = nonce or secrets.token_hex(8)
    timestamp = timestamp or str(int(time.time()))
    encrypted = PrpCrypto(_aes_key(key)).encrypt(xml, appid)
    encrypted = encrypted.decode("ascii") if isinstance(encrypted, bytes) else encrypted
    return (
        f"<xml><Encrypt><![CDATA[{encrypted}]]></Encrypt><MsgSignature><![CDATA[{sign(token, timestamp, nonce, encrypted)}]]></MsgSignature>"
        f"<TimeStamp>{timestamp}</TimeStamp><Nonce><![CDATA[{nonce}]]></Nonce></xml>"
    )


def dedup_key(fields: dict[str, Any]) -> str:
    """Messages by MsgId; events by sender, time, event and key (their MsgId is absent or 0)."""
    msg_type = str(fields.get("MsgType", "")).lower()
    msg_id = str(fields.get("MsgId", "") or "")
    if msg_type != "event" and msg_id and msg_id != "0":
        return f"{MSG_KEY_PREFIX}{msg_id}"
    return ":".join(
        [
            "evt",
            str(fields.get("FromUserName", "")),
            str(fields.get("CreateTime", "")),
            str(fields.get("Event", "")),
            str(fields.get("EventKey", "")),
        ]
    )[:200]


def scene_of(fields: dict[str, Any]) -> str:
    """The QR scene of a subscribe (``qrscene_<scene>``) or SCAN (``<scene>``) event."""
    event = str(fields.get("Event", "")).lower()
    key = str(fields.get("EventKey", "") or "")
    if event == "subscribe" and key.startswith("qrscene_"):
        return key[len("qrscene_") :]
    if event == "scan":
        return key
    return ""


def text_reply(*, to: str, sender: str, content: str, now: int | None = None) -> str:
    """One passive text reply with To/From swapped; never with empty content."""
    if not content.strip():
        raise ValueError("a passive reply must not be empty")
    return (
        f"<xml><ToUserName><![CDATA[{_cdata(to)}]]></ToUserName><FromUserName><![CDATA[{_cdata(sender)}]]></FromUserName>"
        f"<CreateTime>{now or int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{_cdata(content)}]]></Content></xml>"
    )


def _cdata(text: str) -> str:
    """Text that cannot end the CDATA section it is put in."""
    return text.replace("]]>", "]]&gt;")
