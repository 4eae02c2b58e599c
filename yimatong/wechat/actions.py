"""Every state change of the WeChat side: receiving a push, turning followers into leads,
replying, telling investors of their project's steps, creating channel codes.

The callback view only calls ``receive`` (store, claim, answer); everything slow runs in
``process_inbound`` and ``deliver`` after commit, through tasks.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from yimatong.accounts import audit
from yimatong.accounts.models import User
from yimatong.directory.models import Contact
from yimatong.investment.models import Channel, Lead, Project, SiteVisit
from yimatong.lib.errors import ActionError
from yimatong.lib.sqlite import write_turn
from yimatong.lib.tasks import enqueue_on_commit
from yimatong.notifications.actions import notify
from yimatong.notifications.models import Notification
from yimatong.wechat import protocol, push
from yimatong.wechat.client import ParkClient, WeChatError
from yimatong.wechat.models import (
    EPOCH,
    MAX_TEMPORARY_DAYS,
    PERMANENT_CODE_CAP,
    Follower,
    InboundMessage,
    KeywordReply,
    OfficialAccount,
    OutboundMessage,
    QrCode,
)

log = logging.getLogger(__name__)

USER_MESSAGE_TYPES = {"text", "image", "voice", "video", "shortvideo", "location", "link"}
# Customer-service window (WECHAT.md): a user message allows 5 sends within 48 hours; a follow,
# scan or menu click allows 3 within one minute.
MESSAGE_WINDOW = (dt.timedelta(hours=48), 5)
EVENT_WINDOW = (dt.timedelta(minutes=1), 3)
WINDOW_EVENTS = {"subscribe", "scan", "click"}
# WeChat keeps a template's client_msg_id for ten minutes: a resend after that is not checked.
CLIENT_MSG_ID_LIFETIME = dt.timedelta(minutes=10)
RETRYABLE = {-1, None}
WINDOW_ERRORS = (45015, 45047)
STEP_PURPOSES = ("visit_confirmed", "meeting_scheduled", "registered")
POLICY_PURPOSE = "policy_match"
REPORT_DUE_PURPOSE = "report_due"


# Links -------------------------------------------------------------------------------------------


def public_url(path: str) -> str:
    return settings.WECHAT_PUBLIC_URL.rstrip("/") + path


def portal_url(account: OfficialAccount, page: str = "home") -> str:
    names = {
        "home": "wechat:portal_home",
        "policies": "wechat:portal_policies",
        "consult": "wechat:portal_consult",
        "visit": "wechat:portal_visit",
        "me": "wechat:portal_me",
        "messages": "wechat:portal_messages",
    }
    return public_url(reverse(names.get(page, "wechat:portal_home"), args=[account.slug]))


# Receiving ---------------------------------------------------------------------------------------


@dataclass
class Received:
    message: InboundMessage | None  # None: a duplicate, nothing changed
    reply: str = ""  # the passive text reply ("" answers "success")


def follower_for(account: OfficialAccount, openid: str) -> Follower:
    """The follower row for an openid, created once even when pushes race."""
    follower = Follower.objects.filter(account=account, openid=openid).first()
    if follower is not None:
        return follower
    try:
        with transaction.atomic():
            return Follower.objects.create(account=account, openid=openid)
    except IntegrityError:
        return Follower.objects.get(account=account, openid=openid)


def receive(
    account: OfficialAccount,
    fields: dict[str, Any],
    *,
    now: dt.datetime | None = None,
    replies: Sequence[KeywordReply] | None = None,
) -> Received:
    """Store a verified push and claim its de-duplication key in one transaction; decide the
    passive reply (from ``replies``, the account's active keyword replies, when given); enqueue
    the rest with the commit. A duplicate changes nothing.

    Built for WeChat's redelivery storms: a copy of a push already stored costs one read of the
    unique index and no write; the reply is decided before the transaction, so the write lock
    (SQLite) or the rows' locks (PostgreSQL) are held for three statements only, and on SQLite
    the writers queue for their turn instead of polling for the lock."""
    now = now or timezone.now()
    push.check(fields)  # before any query: a push that cannot be stored as it came is refused
    openid = fields["FromUserName"]
    msg_type = fields["MsgType"].lower()
    dedup_key = protocol.dedup_key(fields)
    stored = InboundMessage.objects.filter(account=account, dedup_key=dedup_key)
    if stored.exists():
        return Received(None)
    event = str(fields.get("Event") or "").lower() if msg_type == "event" else ""
    scene = protocol.scene_of(fields) if event else ""
    code = QrCode.objects.filter(account=account, scene=scene).first() if scene else None
    if code is not None:
        code.account = account  # its welcome falls back on the account's
    sent_at = _sent_at(fields.get("CreateTime"), now)
    is_user_message = msg_type in USER_MESSAGE_TYPES
    reply = passive_reply(account, msg_type, event, fields, code, replies)
    changes: dict[str, Any] = {"updated_at": now}
    if is_user_message:
        changes["last_message_at"] = now
    if event in ("subscribe", "scan"):
        changes.update(subscribed=True, unsubscribed_at=None)
        if event == "subscribe":
            changes["subscribed_at"] = now
        if code is not None:
            changes["first_code"] = Coalesce("first_code", Value(code.pk))
    elif event == "unsubscribe":
        changes.update(subscribed=False, unsubscribed_at=now)
    if unionid := str(fields.get("UnionId") or ""):
        changes["unionid"] = unionid
    from yimatong.wechat.tasks import process_inbound_task  # tasks import this module

    with write_turn() as queued:
        if queued and stored.exists():
            # A copy that arrived with the first one waited for its turn behind it: the first
            # has committed by now, and the copy leaves without a write transaction.
            return Received(None)
        follower = Follower.objects.filter(account=account, openid=openid).only("pk").first()
        try:
            with transaction.atomic():
                if follower is None:
                    follower = follower_for(account, openid)
                # The claim: a copy stored meanwhile by another request fails here, after waiting
                # for that request's commit, and the whole transaction is rolled back.
                message = InboundMessage.objects.create(
                    account=account,
                    follower=follower,
                    dedup_key=dedup_key,
                    msg_type=msg_type
                    if msg_type in InboundMessage.Type.values
                    else InboundMessage.Type.OTHER,
                    event=event,
                    event_key=str(fields.get("EventKey") or "")[: push.EVENT_KEY_LENGTH],
                    content=_content_of(msg_type, fields),
                    data={k: v for k, v in fields.items() if isinstance(v, str)},
                    code=code,
                    is_user_message=is_user_message,
                    sent_at=sent_at,
                    received_at=now,
                )
                Follower.objects.filter(pk=follower.pk).update(**changes)
                if reply:
                    OutboundMessage.objects.create(
                        follower=follower,
                        kind=OutboundMessage.Kind.PASSIVE,
                        purpose=event or "auto_reply",
                        text=reply,
                        status=OutboundMessage.Status.SENT,
                        sent_at=now,
                    )
                enqueue_on_commit(process_inbound_task, message.pk)
        except IntegrityError:
            return Received(None)
    return Received(message, reply)


def _sent_at(create_time: str | None, now: dt.datetime) -> dt.datetime:
    """When WeChat says the push was sent; ``now`` when it says nothing plausible (a time
    before 2000 or in the future would sort the conversation wrongly, or not render at all)."""
    try:
        sent_at = dt.datetime.fromtimestamp(int(create_time or 0), tz=dt.UTC)
    except (ValueError, OverflowError, OSError):
        return now
    return sent_at if EPOCH <= sent_at <= now + dt.timedelta(days=1) else now


def _content_of(msg_type: str, fields: dict[str, Any]) -> str:
    if msg_type == "text":
        return str(fields.get("Content") or "")
    if msg_type == "location":
        return str(fields.get("Label") or f"{fields.get('Location_X')}, {fields.get('Location_Y')}")
    if msg_type == "link":
        return f"{fields.get('Title') or ''} {fields.get('Url') or ''}".strip()
    if msg_type == "voice":
        return str(fields.get("Recognition") or "")
    if msg_type == "event":
        return str(fields.get("EventKey") or "")
    return ""


def passive_reply(
    account: OfficialAccount,
    msg_type: str,
    event: str,
    fields: dict[str, Any],
    code: QrCode | None,
    replies: Sequence[KeywordReply] | None = None,
) -> str:
    """The text answered in the callback itself: the channel's welcome on a follow or scan, a
    keyword or menu reply, or the account's default reply. Never empty XML. ``replies`` are the
    account's active keyword replies in matching order (read from the database when not given)."""
    with translation.override(account.language):
        if event in ("subscribe", "scan"):
            welcome = (code.welcome() if code else account.welcome_text) or _(
                "欢迎关注%(name)s！投资咨询请直接留言，工作人员会尽快回复。"
            ) % {"name": account.name}
            return f"{welcome}\n{_('园区与政策')}: {portal_url(account)}"
        if event != "click" and msg_type != "text":
            return account.default_reply if msg_type in USER_MESSAGE_TYPES else ""
        if replies is None:
            replies = list(account.keyword_replies.filter(is_active=True))
        if event == "click":
            key = str(fields.get("EventKey") or "")
            rule = next(
                (r for r in replies if r.trigger == KeywordReply.Trigger.CLICK and r.keyword == key), None
            )
            return _with_page(account, rule) if rule else ""
        text = str(fields.get("Content") or "").strip()
        for rule in replies:
            if (rule.trigger == KeywordReply.Trigger.EXACT and text == rule.keyword) or (
                rule.trigger == KeywordReply.Trigger.KEYWORD and rule.keyword in text
            ):
                return _with_page(account, rule)
        return account.default_reply if msg_type in USER_MESSAGE_TYPES else ""


def _with_page(account: OfficialAccount, rule: KeywordReply) -> str:
    return f"{rule.reply}\n{portal_url(account, rule.portal_page)}" if rule.portal_page else rule.reply


# Processing (after commit) ---------------------------------------------------------------------


def process_inbound(message_id: int, *, now: dt.datetime | None = None, backfill: bool = True) -> bool:
    """The slow half of a push, once: a follow or scan with a scene creates or attaches the
    investor's lead; a message joins the conversation, makes a lead if there is none, and
    tells the promoter. Returns False when the message was already processed."""
    now = now or timezone.now()
    with transaction.atomic():
        claimed = InboundMessage.objects.filter(pk=message_id, processed_at__isnull=True).update(
            processed_at=now
        )
        if not claimed:
            return False
        message = InboundMessage.objects.select_related("account", "code").get(pk=message_id)
        follower = (
            Follower.objects.select_for_update(of=("self",))
            .select_related("lead", "account")
            .get(pk=message.follower_id)
        )
        if message.event in ("subscribe", "scan") and message.code is not None:
            attach_lead(follower, code=message.code, note=message.code.name, now=now)
        elif message.is_user_message and follower.lead_id is None:
            attach_lead(follower, code=follower.first_code, note=message.content, now=now)
        if message.is_user_message:
            _tell_staff_of_message(follower, message)
    if backfill and (
        message.event in ("subscribe", "scan") or (message.is_user_message and not follower.unionid)
    ):
        _backfill_from_user_info(follower.pk, message.pk)
    return True


def attach_lead(
    follower: Follower,
    *,
    code: QrCode | None,
    note: str = "",
    channel: str = Channel.WECHAT,
    data: dict[str, Any] | None = None,
    now: dt.datetime | None = None,
) -> Lead:
    """The follower's lead: a new source on the open lead they already have, or a new lead (and
    a contact carrying the openid) attributed to the code. Call inside a transaction holding
    the follower's row lock."""
    from yimatong.investment.actions import leads as lead_actions

    now = now or timezone.now()
    data = data or {}
    source = {
        "channel": channel,
        "qr_scene": code.scene if code else "",
        "event": (code.event_name or code.name) if code else "",
        "referred_by": code.promoter if code and code.promoter_id else None,
        "note": note[:200],
    }
    lead = follower.lead
    if lead is not None and lead.status != Lead.Status.DISCARDED and lead.merged_into_id is None:
        before = lead.owner_id
        lead = lead_actions.add_source(
            lead=lead,
            source=source,
            note=note,
            owner=source["referred_by"],
            chain_node=code.chain_node if code else None,
            facts=data,
            now=now,
        )
        if lead.owner_id != before and follower.assigned_to_id in (None, before):
            # The conversation goes with the lead, unless someone gave it to another colleague.
            Follower.objects.filter(pk=follower.pk).update(assigned_to=lead.owner, updated_at=now)
            follower.assigned_to = lead.owner
        follower.lead = lead
        return lead
    contact = follower.contact or _contact_for(follower, data)
    name = data.get("company_name") or _("微信访客 %(tail)s") % {"tail": follower.openid[-6:]}
    lead = lead_actions.create_lead(
        actor=None,
        data={
            "company_name": name[:120],
            "contact_name": contact.name,
            "contact_phone": data.get("contact_phone", ""),
            "interest": data.get("interest") or note,
            "chain_node": data.get("chain_node") or (code.chain_node if code else None),
        },
        source=source,
        owner=code.promoter if code and code.promoter_id else None,
        now=now,
    )
    Lead.objects.filter(pk=lead.pk).update(contact=contact)
    lead.refresh_from_db()
    Follower.objects.filter(pk=follower.pk).update(
        lead=lead, contact=contact, assigned_to=follower.assigned_to or lead.owner, updated_at=now
    )
    follower.lead, follower.contact = lead, contact
    if follower.assigned_to_id is None:
        follower.assigned_to = lead.owner
    return lead


def _contact_for(follower: Follower, data: dict[str, Any]) -> Contact:
    existing = Contact.objects.filter(wechat_openid=follower.openid).first()
    if existing is not None:
        return existing
    contact = Contact(
        name=(data.get("contact_name") or follower.label())[:60],
        mobile=data.get("contact_phone", ""),
        wechat_openid=follower.openid,
    )
    contact.refresh_search_fields()
    contact.save()
    audit.log_create(contact, actor=None)
    return contact


def _tell_staff_of_message(follower: Follower, message: InboundMessage) -> None:
    recipient = follower.assigned_to or (follower.lead.owner if follower.lead_id else None)
    if recipient is None:
        recipient = Follower.objects.select_related("assigned_to").get(pk=follower.pk).assigned_to
    if recipient is None:
        return
    notify(
        [recipient],
        kind=Notification.Kind.WECHAT_MESSAGE,
        key=f"wechat-in-{message.pk}",
        title=_("微信咨询：%(name)s") % {"name": follower.label()},
        body=(message.content or message.get_msg_type_display())[:200],
        url=follower.get_absolute_url(),
    )


def _backfill_from_user_info(follower_id: int, message_id: int) -> None:
    """Best effort after commit: the unionid, and the QR scene when the scan's push was lost."""
    follower = Follower.objects.select_related("account").get(pk=follower_id)
    try:
        info = ParkClient(follower.account).user_info(follower.openid)
    except WeChatError as exc:
        log.info("user/info for %s failed: %s", follower.openid, exc)
        return
    changes: dict[str, Any] = {}
    if info.get("unionid") and not follower.unionid:
        changes["unionid"] = str(info["unionid"])[:64]
    scene = str(info.get("qr_scene_str") or "")
    if scene and follower.first_code_id is None:
        code = QrCode.objects.filter(account=follower.account, scene=scene).first()
        if code is not None:
            changes["first_code"] = code
    if changes:
        Follower.objects.filter(pk=follower.pk).update(**changes)


# The customer-service window ------------------------------------------------------------------


@dataclass
class Window:
    open: bool
    remaining: int = 0
    closes_at: dt.datetime | None = None


def window(follower: Follower, *, now: dt.datetime | None = None) -> Window:
    """Whether a customer-service message may go out now, and how many more (WECHAT.md): each
    user action opens its own window; the most generous one that is still open counts."""
    now = now or timezone.now()
    if not follower.subscribed:
        return Window(False)
    best = Window(False)
    pushes = InboundMessage.objects.filter(follower=follower).exclude(msg_type=InboundMessage.Type.H5)
    last_message = pushes.filter(is_user_message=True).order_by("-received_at").first()
    last_event = pushes.filter(event__in=WINDOW_EVENTS).order_by("-received_at").first()
    for action, (length, quota) in ((last_message, MESSAGE_WINDOW), (last_event, EVENT_WINDOW)):
        if action is None or action.received_at + length <= now:
            continue
        since = OutboundMessage.objects.filter(
            follower=follower, kind=OutboundMessage.Kind.CUSTOM, created_at__gte=action.received_at
        )
        if since.filter(error_code__in=WINDOW_ERRORS).exists():
            continue  # WeChat said this window is shut (45015) or spent (45047): believe it
        used = since.exclude(status=OutboundMessage.Status.FAILED).count()
        remaining = quota - used
        if remaining > best.remaining:
            best = Window(True, remaining, action.received_at + length)
    return best


# Replies -------------------------------------------------------------------------------------


def mark_read(follower: Follower, *, now: dt.datetime | None = None) -> None:
    Follower.objects.filter(pk=follower.pk).update(staff_read_at=now or timezone.now())


def assign(*, actor: User, follower: Follower, assignee: User | None) -> Follower:
    with transaction.atomic():
        before = audit.snapshot(follower)
        Follower.objects.filter(pk=follower.pk).update(assigned_to=assignee, updated_at=timezone.now())
        follower.refresh_from_db()
        audit.log_change(follower, before, actor=actor)
        if assignee is not None and assignee.pk != actor.pk:
            notify(
                [assignee],
                kind=Notification.Kind.WECHAT_MESSAGE,
                key=f"wechat-assigned-{follower.pk}-{int(time.time())}",
                title=_("微信咨询已分配给您：%(name)s") % {"name": follower.label()},
                url=follower.get_absolute_url(),
            )
    return follower


def send_reply(
    *, actor: User, follower: Follower, text: str, now: dt.datetime | None = None
) -> OutboundMessage:
    """A customer-service message from the console; refused (nothing stored) when the window
    is closed or its quota spent, so the console can offer a template message instead."""
    text = text.strip()
    if not text:
        raise ActionError(_("回复内容不能为空。"), fields={"text": [_("请输入回复内容。")]})
    if len(text) > 600:
        raise ActionError(_("回复内容过长。"), fields={"text": [_("客服消息不超过 600 字。")]})
    with transaction.atomic():
        Follower.objects.select_for_update().filter(pk=follower.pk).first()
        state = window(follower, now=now)
        if not state.open:
            raise ActionError(
                _(
                    "该用户 48 小时内没有互动（或互动后的可回复条数已用完），客服消息发不出去。可改发模板消息，提醒对方查看回复。"
                ),
                code="window_closed",
                fields={"text": [_("客服消息窗口已关闭。")]},
            )
        message = OutboundMessage.objects.create(
            follower=follower, kind=OutboundMessage.Kind.CUSTOM, purpose="reply", text=text, sender=actor
        )
        Follower.objects.filter(pk=follower.pk).update(
            last_message_at=timezone.now(), staff_read_at=timezone.now(), updated_at=timezone.now()
        )
        _touch_lead(follower, actor, text)
        transaction.on_commit(lambda: _enqueue_delivery(message.pk))
    return message


def send_template_reply(*, actor: User, follower: Follower, text: str) -> OutboundMessage:
    """The fallback when the window is closed: a template message telling the investor a reply
    waits in the portal, where the text itself is shown."""
    text = text.strip()
    if not text:
        raise ActionError(_("回复内容不能为空。"), fields={"text": [_("请输入回复内容。")]})
    account = follower.account
    template_id = account.template_id("reply")
    if not template_id:
        raise ActionError(
            _("公众号“%(name)s”未配置“咨询回复”模板消息（reply），无法发送。") % {"name": account.name},
            code="no_template",
        )
    if not follower.subscribed:
        raise ActionError(_("该用户已取消关注，模板消息无法送达。"), code="not_following")
    with transaction.atomic():
        message = OutboundMessage.objects.create(
            follower=follower,
            kind=OutboundMessage.Kind.TEMPLATE,
            purpose="reply",
            text=text,
            sender=actor,
            template_id=template_id,
            url=portal_url(account, "messages"),
        )
        with translation.override(account.language):
            data = {
                "first": {"value": _("园区工作人员回复了您的咨询")},
                "keyword1": {"value": actor.get_full_name() or actor.username},
                "keyword2": {"value": timezone.localtime().strftime("%Y-%m-%d %H:%M")},
                "remark": {"value": text[:60] + ("…" if len(text) > 60 else "")},
            }
        OutboundMessage.objects.filter(pk=message.pk).update(data=data, client_msg_id=f"reply-{message.pk}")
        Follower.objects.filter(pk=follower.pk).update(
            last_message_at=timezone.now(), staff_read_at=timezone.now(), updated_at=timezone.now()
        )
        _touch_lead(follower, actor, text)
        transaction.on_commit(lambda: _enqueue_delivery(message.pk))
    message.refresh_from_db()
    return message


def _touch_lead(follower: Follower, actor: User, text: str) -> None:
    """A reply is a follow-up of the lead: it keeps the lead out of the stale sweep."""
    if follower.lead_id:
        from yimatong.investment.actions.leads import touch_lead

        touch_lead(follower.lead)


def retry_delivery(*, actor: User, message: OutboundMessage) -> OutboundMessage:
    """Send again a message whose delivery failed or is unknown (the staff member checked)."""
    if message.status not in (OutboundMessage.Status.FAILED, OutboundMessage.Status.UNKNOWN):
        raise ActionError(_("只有发送失败或结果不明的消息可以重发。"), code="not_retryable")
    if message.kind == OutboundMessage.Kind.CUSTOM and not window(message.follower).open:
        raise ActionError(_("客服消息窗口已关闭，请改发模板消息。"), code="window_closed")
    before = audit.snapshot(message)
    updated = OutboundMessage.objects.filter(pk=message.pk, status=message.status).update(
        status=OutboundMessage.Status.PENDING, updated_at=timezone.now()
    )
    if updated:
        message.refresh_from_db()
        audit.log_change(message, before, actor=actor)
        transaction.on_commit(lambda: _enqueue_delivery(message.pk))
    message.refresh_from_db()
    return message


def _enqueue_delivery(message_id: int) -> None:
    from yimatong.wechat.tasks import deliver_task

    deliver_task.enqueue(message_id)


def deliver(message_id: int, *, client: ParkClient | None = None, sleep: Any = time.sleep) -> OutboundMessage:
    """Send one outbound message, once: the row is claimed (pending → sending) first.

    Template messages carry ``client_msg_id``, so after a busy answer (-1) or a timeout the
    same body is sent again (WeChat answers a duplicate with the first msgid) — within the ten
    minutes WeChat remembers it; after that the result is recorded as unknown. A customer-service
    message that timed out may have arrived: it is recorded as unknown, never resent blindly."""
    claimed = OutboundMessage.objects.filter(pk=message_id, status=OutboundMessage.Status.PENDING).update(
        status=OutboundMessage.Status.SENDING, updated_at=timezone.now()
    )
    message = OutboundMessage.objects.select_related("follower__account", "sender").get(pk=message_id)
    if not claimed:
        return message
    client = client or ParkClient(message.follower.account)
    delays = list(settings.WECHAT_RETRY_DELAYS)
    started = timezone.now()
    attempts = list(message.attempts)
    while True:
        at = timezone.now()
        try:
            if message.kind == OutboundMessage.Kind.TEMPLATE:
                result = client.send_template(
                    message.follower.openid,
                    message.template_id,
                    message.data,
                    url=message.url,
                    client_msg_id=message.client_msg_id,
                )
            else:
                result = client.send_text(message.follower.openid, message.text)
        except WeChatError as exc:
            attempts.append({"at": at.isoformat(), "errcode": exc.code, "errmsg": exc.message[:200]})
            retry = message.kind == OutboundMessage.Kind.TEMPLATE and exc.code in RETRYABLE
            fresh = timezone.now() - started < CLIENT_MSG_ID_LIFETIME
            if retry and delays and fresh:
                sleep(delays.pop(0))
                continue
            status = OutboundMessage.Status.UNKNOWN if exc.ambiguous else OutboundMessage.Status.FAILED
            _finish(message, status=status, attempts=attempts, code=exc.code, error=exc.message)
            _tell_sender_of_failure(message, exc)
            return message
        attempts.append({"at": at.isoformat(), "errcode": 0, "msgid": str(result.get("msgid", ""))})
        _finish(
            message, status=OutboundMessage.Status.SENT, attempts=attempts, msgid=str(result.get("msgid", ""))
        )
        return message


def _finish(
    message: OutboundMessage,
    *,
    status: str,
    attempts: list[dict[str, Any]],
    code: int | None = None,
    error: str = "",
    msgid: str = "",
) -> None:
    now = timezone.now()
    OutboundMessage.objects.filter(pk=message.pk).update(
        status=status,
        attempts=attempts,
        error_code=code,
        error_message=error[:200],
        msgid=msgid,
        sent_at=now if status == OutboundMessage.Status.SENT else None,
        updated_at=now,
    )
    message.refresh_from_db()


ERROR_TEXT = {
    45015: "对方 48 小时内没有互动，客服消息发不出去，请改发模板消息。",
    45047: "对方这次互动后可接收的客服消息已用完，请改发模板消息或等待对方回复。",
    43004: "对方未关注公众号，模板消息无法送达。",
    48001: "公众号未获得该接口权限（需认证服务号）。",
}


def error_text(code: int | None) -> str:
    if code in ERROR_TEXT:
        return _(ERROR_TEXT[code])
    if code is None:
        return _("网络超时或中断：消息可能已送达，请先确认再决定是否重发。")
    return _("微信返回错误 %(code)s。") % {"code": code}


def _tell_sender_of_failure(message: OutboundMessage, exc: WeChatError) -> None:
    if message.sender is None:
        return
    notify(
        [message.sender],
        kind=Notification.Kind.WECHAT_MESSAGE,
        key=f"wechat-out-failed-{message.pk}",
        title=_("微信消息未送达：%(name)s") % {"name": message.follower.label()},
        body=error_text(exc.code),
        url=message.follower.get_absolute_url(),
    )


# Telling investors of their project's steps ----------------------------------------------------


def tell_investor(
    step: str, *, project: Project | None = None, visit: SiteVisit | None = None
) -> list[OutboundMessage]:
    """A template message to the investor's followers for a step they care about, once per
    object and state (``client_msg_id`` ``<object>-<state>``, also unique in our table)."""
    assert step in STEP_PURPOSES, step
    if visit is not None:
        project = visit.project
        contact_ids = {
            c
            for c in [
                project.contact_id if project else None,
                visit.lead.contact_id if visit.lead_id else None,
            ]
            if c
        }
        subject = visit.title
        when = timezone.localtime(visit.starts_at).strftime("%Y-%m-%d %H:%M")
        key = f"visit{visit.pk}-{step}"
    else:
        assert project is not None
        contact_ids = {project.contact_id} if project.contact_id else set()
        subject = project.name
        when = timezone.localtime().strftime("%Y-%m-%d")
        key = f"project{project.pk}-{step}"
    if not contact_ids:
        return []
    followers = Follower.objects.filter(contact_id__in=contact_ids, subscribed=True).select_related("account")
    sent = []
    for follower in followers:
        account = follower.account
        template_id = account.template_id(step)
        if not template_id:
            continue
        with translation.override(account.language):
            titles = {
                "visit_confirmed": _("您的考察预约已确认"),
                "meeting_scheduled": _("项目洽谈/签约会议已安排"),
                "registered": _("项目已完成注册落地"),
            }
            data = {
                "first": {"value": titles[step]},
                "keyword1": {"value": subject},
                "keyword2": {"value": when},
                "remark": {"value": _("点击查看项目进展。")},
            }
        url = (
            public_url(reverse("project_onecode", args=[project.qr_token]))
            if project
            else portal_url(account, "me")
        )
        try:
            with transaction.atomic():
                message = OutboundMessage.objects.create(
                    follower=follower,
                    kind=OutboundMessage.Kind.TEMPLATE,
                    purpose=step,
                    text=f"{titles[step]}：{subject}（{when}）",
                    template_id=template_id,
                    data=data,
                    url=url,
                    client_msg_id=key[:64],
                )
        except IntegrityError:
            continue  # told already
        sent.append(message)
        transaction.on_commit(lambda pk=message.pk: _enqueue_delivery(pk))
    return sent


def investor_steps_for_visit(visit: SiteVisit) -> None:
    """Called by the investment actions when a calendar entry is confirmed."""
    if visit.status != SiteVisit.Status.CONFIRMED:
        return
    step = "visit_confirmed" if visit.purpose == SiteVisit.Purpose.SITE_VISIT else "meeting_scheduled"
    tell_investor(step, visit=visit)


# Channel codes ---------------------------------------------------------------------------------


REQUIRED_FOR_PURPOSE = {
    QrCode.Purpose.EVENT: "event_name",
    QrCode.Purpose.PROMOTER: "promoter",
    QrCode.Purpose.CHAIN: "chain_node",
    QrCode.Purpose.PROJECT: "project",
}


def create_code(*, actor: User | None, data: dict[str, Any], client: ParkClient | None = None) -> QrCode:
    """A channel code through WeChat's QR API; nothing is stored when WeChat refuses."""
    account: OfficialAccount = data["account"]
    purpose = data.get("purpose") or QrCode.Purpose.CHANNEL
    errors: dict[str, list[str]] = {}
    needed = REQUIRED_FOR_PURPOSE.get(purpose)
    if needed and not data.get(needed):
        errors[needed] = [
            _("用途为“%(purpose)s”时必须填写此项。") % {"purpose": QrCode.Purpose(purpose).label}
        ]
    permanent = bool(data.get("is_permanent"))
    days = data.get("days") or MAX_TEMPORARY_DAYS
    if not permanent and not (1 <= int(days) <= MAX_TEMPORARY_DAYS):
        errors["days"] = [_("临时二维码有效期为 1–%(max)s 天。") % {"max": MAX_TEMPORARY_DAYS}]
    if permanent and QrCode.objects.filter(account=account, is_permanent=True).count() >= PERMANENT_CODE_CAP:
        errors["is_permanent"] = [
            _("永久二维码已达上限（每个公众号 %(cap)s 个），请改用临时二维码。")
            % {"cap": f"{PERMANENT_CODE_CAP:,}"}
        ]
    scene = (data.get("scene") or "").strip() or f"{purpose}-{secrets.token_hex(5)}"
    if QrCode.objects.filter(scene=scene).exists():
        errors["scene"] = [_("场景值“%(scene)s”已被使用。") % {"scene": scene}]
    if errors:
        raise ActionError(_("请更正标出的字段。"), fields=errors)
    client = client or ParkClient(account)
    try:
        answer = client.create_qr(scene=scene, permanent=permanent, expire_seconds=int(days) * 86400)
    except WeChatError as exc:
        raise ActionError(
            _("微信接口未能生成二维码（%(code)s：%(message)s），未保存。")
            % {"code": exc.code, "message": exc.message},
            code="wechat_error",
        ) from exc
    now = timezone.now()
    expires = (
        None
        if permanent
        else now + dt.timedelta(seconds=int(answer.get("expire_seconds") or int(days) * 86400))
    )
    with transaction.atomic():
        code = QrCode.objects.create(
            account=account,
            name=data["name"],
            purpose=purpose,
            scene=scene,
            event_name=data.get("event_name") or "",
            promoter=data.get("promoter"),
            chain_node=data.get("chain_node"),
            project=data.get("project"),
            is_permanent=permanent,
            expires_at=expires,
            ticket=str(answer.get("ticket", ""))[:300],
            url=str(answer.get("url", ""))[:300],
            caption=data.get("caption") or "",
            welcome_text=data.get("welcome_text") or "",
            created_by=actor,
        )
        audit.log_create(code, actor=actor)
    return code


# The investor portal -----------------------------------------------------------------------------


def portal_consult(*, follower: Follower, data: dict[str, Any], now: dt.datetime | None = None) -> Lead:
    """The H5 consult form: the message joins the conversation and the follower's lead gets the
    facts typed in (a new lead, channel H5 form, when there is none)."""
    now = now or timezone.now()
    with transaction.atomic():
        follower = Follower.objects.select_for_update(of=("self",)).select_related("lead").get(pk=follower.pk)
        if follower.contact_id and data.get("contact_name"):
            contact = follower.contact
            updates = {}
            if contact.name.startswith(("微信用户", "WeChat user")):
                updates["name"] = data["contact_name"][:60]
            if data.get("contact_phone") and not contact.mobile:
                updates["mobile"] = data["contact_phone"]
            if updates:
                for k, v in updates.items():
                    setattr(contact, k, v)
                contact.refresh_search_fields()
                contact.save()
        lead = attach_lead(
            follower,
            code=follower.first_code,
            note=data.get("interest", "")[:200],
            channel=Channel.H5_FORM if follower.lead_id is None else Channel.WECHAT,
            data=data,
            now=now,
        )
        _record_portal_message(follower, _consult_text(data), now=now)
    return lead


def _record_portal_message(follower: Follower, text: str, *, now: dt.datetime) -> InboundMessage:
    """What the investor wrote in the portal, in their conversation (and the promoter told)."""
    message = InboundMessage.objects.create(
        account=follower.account,
        follower=follower,
        dedup_key=f"h5:{secrets.token_hex(12)}",
        msg_type=InboundMessage.Type.H5,
        content=text[:2000],
        is_user_message=True,
        sent_at=now,
        received_at=now,
        processed_at=now,
    )
    Follower.objects.filter(pk=follower.pk).update(last_message_at=now, updated_at=now)
    follower.refresh_from_db()
    _tell_staff_of_message(follower, message)
    return message


def _consult_text(data: dict[str, Any]) -> str:
    parts = [
        data.get("company_name", ""),
        data.get("contact_name", ""),
        data.get("contact_phone", ""),
        str(data.get("chain_node") or ""),
        data.get("interest", ""),
    ]
    return " · ".join(p for p in parts if p)


def portal_message(*, follower: Follower, text: str, now: dt.datetime | None = None) -> InboundMessage:
    """A message typed in the portal's conversation page (no WeChat window opens from it)."""
    now = now or timezone.now()
    text = text.strip()
    if not text:
        raise ActionError(_("留言不能为空。"), fields={"text": [_("请输入留言内容。")]})
    with transaction.atomic():
        follower = Follower.objects.select_for_update(of=("self",)).select_related("lead").get(pk=follower.pk)
        if follower.lead_id is None:
            attach_lead(follower, code=follower.first_code, note=text, channel=Channel.H5_FORM, now=now)
        return _record_portal_message(follower, text, now=now)


def portal_book_visit(*, follower: Follower, data: dict[str, Any]) -> SiteVisit:
    """A visit asked for in the portal: on the investment calendar as requested, for the
    follower's project when they have one, otherwise for their lead."""
    from yimatong.investment.actions.work import schedule_visit

    with transaction.atomic():
        follower = (
            Follower.objects.select_for_update(of=("self",))
            .select_related("lead", "contact")
            .get(pk=follower.pk)
        )
        lead = follower.lead
        if lead is None:
            lead = attach_lead(
                follower, code=follower.first_code, note=data.get("notes", ""), channel=Channel.H5_FORM
            )
        # Their project: the one their lead became, or the latest one they are the contact of.
        mine = Q(lead=lead) | (Q(contact=follower.contact_id) if follower.contact_id else Q(pk__in=[]))
        project = Project.objects.filter(mine).order_by("-pk").first()
        starts = data["starts_at"]
        visit = schedule_visit(
            actor=None,
            data={
                "title": _("%(name)s 来园考察") % {"name": project.name if project else lead.company_name},
                "starts_at": starts,
                "ends_at": starts + dt.timedelta(hours=2),
                "visitors": data.get("visitors", "")[:200],
                "visitor_count": data.get("visitor_count") or 1,
                "notes": data.get("notes", ""),
            },
            project=project,
            lead=None if project else lead,
            requested_by=SiteVisit.RequestedBy.INVESTOR,
        )
    return visit


# Telling enterprises of policies they qualify for (政策直达) ------------------------------------------


def tell_enterprise_policy(*, organization_id: int, policy: Any, version: int) -> list[OutboundMessage]:
    """A template message to the enterprise's WeChat followers (their contacts who follow an
    account), once per policy version (``client_msg_id`` ``policy<pk>-v<version>``)."""

    def data() -> dict[str, Any]:
        return {
            "first": {"value": _("您的企业符合一项政策")},
            "keyword1": {"value": policy.title},
            "keyword2": {"value": policy.amount_note or policy.get_mode_display()},
            "remark": {"value": _("点击查看适用条件和申报方式。")},
        }

    return _tell_enterprise(
        organization_id,
        purpose=POLICY_PURPOSE,
        data=data,
        subject=policy.title,
        url=policy.get_absolute_url(),
        client_msg_id=f"policy{policy.pk}-v{version}",
    )


def tell_enterprise_report_due(
    *, organization_id: int, label: str, due: dt.date, rung: str
) -> list[OutboundMessage]:
    """统计报表 reminder by template, once per period and rung (three days before, on the day)."""

    def data() -> dict[str, Any]:
        return {
            "first": {"value": _("请按时报送统计报表")},
            "keyword1": {"value": label},
            "keyword2": {"value": _("%(date)s 前") % {"date": due.isoformat()}},
            "remark": {"value": _("点击进入企业服务填报。")},
        }

    return _tell_enterprise(
        organization_id,
        purpose=REPORT_DUE_PURPOSE,
        data=data,
        subject=label,
        url=reverse("stats:report_new"),
        client_msg_id=f"report-{label}-{rung}",
    )


def _tell_enterprise(
    organization_id: int, *, purpose: str, data: Any, subject: str, url: str, client_msg_id: str
) -> list[OutboundMessage]:
    """A template message for ``purpose`` to each follower of the enterprise's contacts, in the
    account's language, once per ``client_msg_id`` (the unique constraint decides)."""
    followers = Follower.objects.filter(
        contact__organization_id=organization_id, subscribed=True
    ).select_related("account")
    sent = []
    for follower in followers:
        template_id = follower.account.template_id(purpose)
        if not template_id:
            continue
        with translation.override(follower.account.language):
            values = data()
        try:
            with transaction.atomic():
                message = OutboundMessage.objects.create(
                    follower=follower,
                    kind=OutboundMessage.Kind.TEMPLATE,
                    purpose=purpose,
                    text=f"{values['first']['value']}：{subject}",
                    template_id=template_id,
                    data=values,
                    url=public_url(url),
                    client_msg_id=client_msg_id[:64],
                )
        except IntegrityError:
            continue
        sent.append(message)
        transaction.on_commit(lambda pk=message.pk: _enqueue_delivery(pk))
    return sent


# Enterprise accounts bound to followers (the H5 enterprise service) ---------------------------------


def bind_user(*, follower: Follower, user: User) -> Follower:
    """The follower acts as this enterprise account in the H5 portal from now on (the account's
    password was checked by the caller, through the console's sign-in and its lockout)."""
    with transaction.atomic():
        before = audit.snapshot(follower)
        follower.user = user
        follower.bound_at = timezone.now()
        follower.save(update_fields=["user", "bound_at", "updated_at"])
        audit.log_change(follower, before, actor=user)
    return follower


def unbind_user(*, follower: Follower) -> Follower:
    with transaction.atomic():
        before = audit.snapshot(follower)
        actor = follower.user
        follower.user = None
        follower.bound_at = None
        follower.save(update_fields=["user", "bound_at", "updated_at"])
        audit.log_change(follower, before, actor=actor)
    return follower
