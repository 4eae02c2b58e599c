"""WeChat in the JSON API: channel codes with their funnel, and conversations (read-only)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from ninja import Router, Schema
from ninja.pagination import paginate

from yimatong.accounts import access
from yimatong.lib.pagination import LIST_ERRORS, Mapped, Pagination
from yimatong.wechat.models import Follower, QrCode

router = Router(tags=["wechat"])


class CodeOut(Schema):
    id: int
    name: str
    account: str
    purpose: str
    scene: str
    permanent: bool
    expires_at: dt.datetime | None
    url: str
    promoter: str | None
    scans: int
    new_followers: int
    leads: int
    visits: int
    signed_projects: int
    signed_investment: Decimal


class ConversationOut(Schema):
    code: str
    account: str
    name: str
    subscribed: bool
    lead: str | None
    assigned_to: str | None
    last_message_at: dt.datetime | None
    unread: int


def _readers(user: Any) -> None:
    if not access.can_use_inbox(user):
        raise PermissionDenied


@router.get(
    "/wechat/codes",
    response={200: list[CodeOut], **LIST_ERRORS},
    summary="Channel QR codes you may see, with their funnel",
)
@paginate(Pagination)
def list_codes(request: HttpRequest) -> Any:
    _readers(request.auth)
    codes = QrCode.objects.visible_to(request.auth).select_related("account", "promoter").with_funnel()
    return Mapped(codes, _code_out)


def _code_out(c: QrCode) -> dict[str, Any]:
    return {
        "id": c.pk,
        "name": c.name,
        "account": c.account.slug,
        "purpose": c.purpose,
        "scene": c.scene,
        "permanent": c.is_permanent,
        "expires_at": c.expires_at,
        "url": c.url,
        "promoter": c.promoter.username if c.promoter_id else None,
        "scans": c.scans,
        "new_followers": c.new_followers,
        "leads": c.leads,
        "visits": c.visits,
        "signed_projects": c.signed_projects,
        "signed_investment": c.signed_investment,
    }


@router.get(
    "/wechat/conversations",
    response={200: list[ConversationOut], **LIST_ERRORS},
    summary="WeChat conversations you may see",
)
@paginate(Pagination)
def list_conversations(request: HttpRequest) -> Any:
    _readers(request.auth)
    rows = (
        Follower.objects.visible_to(request.auth)
        .filter(last_message_at__isnull=False)
        .select_related("account", "contact", "lead", "assigned_to")
        .with_unread()
    )
    return Mapped(rows, _conversation_out)


def _conversation_out(f: Follower) -> dict[str, Any]:
    return {
        "code": str(f.code),
        "account": f.account.slug,
        "name": f.label(),
        "subscribed": f.subscribed,
        "lead": f.lead.code if f.lead_id else None,
        "assigned_to": f.assigned_to.username if f.assigned_to_id else None,
        "last_message_at": f.last_message_at,
        "unread": f.unread,
    }
