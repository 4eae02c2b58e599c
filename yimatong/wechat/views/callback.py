"""The callback URL of an official account: WeChat's front door.

Verify, parse safely, store with the de-duplication key claimed, enqueue, answer — well inside
WeChat's five seconds. Anything not from WeChat for this account gets 403 and stores nothing;
anything malformed 400; anything unknown is stored and answered ``success``.
"""

from __future__ import annotations

import logging
import secrets
import time

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from yimatong.wechat import actions, callback_accounts, protocol
from yimatong.wechat.callback_accounts import CallbackAccount
from yimatong.wechat.models import OfficialAccount

log = logging.getLogger(__name__)


def _text(body: str, status: int = 200) -> HttpResponse:
    return HttpResponse(body, status=status, content_type="text/plain; charset=utf-8")


@csrf_exempt
@require_http_methods(["GET", "POST"])
def callback(request: HttpRequest, slug: str) -> HttpResponse:
    started = time.monotonic()
    kept = callback_accounts.get(slug)
    if kept is None:
        return HttpResponseForbidden("unknown account")
    try:
        try:
            return _answer(request, kept)
        except protocol.BadFields:
            raise  # a push read and decrypted: the account's copy played no part
        except (protocol.Forbidden, protocol.BadPush):
            # This process's copy of the account may predate a new token, key or mode.
            fresh = callback_accounts.is_stale(kept) if kept.read_at < started else None
            if fresh is None:
                raise
            return _answer(request, fresh)
    except protocol.Forbidden as exc:
        log.warning("WeChat callback %s refused: %s", slug, exc)
        return HttpResponseForbidden("forbidden")
    except protocol.BadPush as exc:
        log.warning("WeChat callback %s: bad push: %s", slug, exc)
        return HttpResponseBadRequest("bad request")


def _answer(request: HttpRequest, kept: CallbackAccount) -> HttpResponse:
    """The answer to a push for this copy of the account; refusals raise Forbidden or BadPush."""
    account = kept.account
    query = request.GET
    timestamp, nonce = query.get("timestamp", ""), query.get("nonce", "")
    if not protocol.signature_ok(account.token, query.get("signature", ""), timestamp, nonce):
        raise protocol.Forbidden("bad signature")
    if request.method == "GET":
        return _text(query.get("echostr", ""))

    length = request.META.get("CONTENT_LENGTH") or "0"
    if not length.isdigit() or int(length) > settings.WECHAT_CALLBACK_MAX_BYTES:
        raise protocol.BadPush("body too large")
    body = request.body
    if len(body) > settings.WECHAT_CALLBACK_MAX_BYTES:
        raise protocol.BadPush("body too large")
    encrypted = query.get("encrypt_type", "raw").lower() == "aes"
    if account.mode == OfficialAccount.Mode.SAFE and not encrypted:
        raise protocol.Forbidden("this account accepts encrypted pushes only")
    if account.mode == OfficialAccount.Mode.PLAIN and encrypted:
        raise protocol.Forbidden("this account is in plain mode")
    envelope = protocol.parse_xml(body)
    if encrypted:
        plain = protocol.decrypt(
            token=account.token,
            keys=[account.encoding_aes_key, account.previous_aes_key],
            appid=account.appid,
            envelope=envelope,
            msg_signature=query.get("msg_signature", ""),
            timestamp=timestamp,
            nonce=nonce,
        )
        fields = protocol.parse_xml(plain)
    else:
        fields = envelope
    received = actions.receive(account, fields, replies=kept.replies)
    if not received.reply:
        return _text("success")
    xml = protocol.text_reply(
        to=str(fields["FromUserName"]), sender=str(fields.get("ToUserName", "")), content=received.reply
    )
    if encrypted:
        xml = protocol.encrypt(
            token=account.token,
            key=account.encoding_aes_key,
            appid=account.appid,
            xml=xml,
            nonce=secrets.token_hex(8),
            timestamp=str(int(time.time())),
        )
    return HttpResponse(xml, content_type="application/xml; charset=utf-8")
