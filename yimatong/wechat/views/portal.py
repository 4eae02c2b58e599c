"""The investor's H5 portal, opened in WeChat's browser: the park and its chain, policies, a
consult form, visit booking and "my projects".

Investors are identified through web OAuth ``snsapi_base`` (the openid, silently): ``state``
is a one-time CSRF token kept in the session, codes are exchanged once, and snapshot-mode users
(a virtual identity) stay anonymous. The demo's fake WeChat server answers the same OAuth URLs
with a clearly marked development sign-in, so the demo runs this very code path.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from yimatong.directory.models import ChainNode, Organization
from yimatong.investment.models import PIPELINE, Project, SiteVisit, Stage
from yimatong.lib.errors import ActionError
from yimatong.wechat import actions
from yimatong.wechat.client import WeChatError, oauth_openid
from yimatong.wechat.forms import ConsultForm, PortalMessageForm, VisitBookingForm
from yimatong.wechat.models import Follower, InboundMessage, OfficialAccount, OutboundMessage, PortalArticle

log = logging.getLogger(__name__)

SESSION_FOLLOWER = "wechat_follower_id"
SESSION_STATE = "wechat_oauth_state"
LANGUAGES = {code for code, _name in settings.LANGUAGES}

PortalView = Callable[..., HttpResponse]


def portal_view(view: PortalView) -> PortalView:
    """Find the account, speak its language (or the one the investor chose), and hand the view
    the identified follower (or None)."""

    @wraps(view)
    def wrapper(request: HttpRequest, slug: str, *args: Any, **kwargs: Any) -> HttpResponse:
        account = OfficialAccount.objects.filter(slug=slug, is_active=True).first()
        if account is None:
            raise Http404
        chosen = request.GET.get("lang") or request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        language = chosen if chosen in LANGUAGES else account.language
        follower = _follower(request, account)
        with translation.override(language):
            request.LANGUAGE_CODE = language
            response = view(request, account, follower, *args, **kwargs)
        if request.GET.get("lang") in LANGUAGES:
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME,
                request.GET["lang"],
                max_age=settings.LANGUAGE_COOKIE_AGE,
                samesite=settings.LANGUAGE_COOKIE_SAMESITE,
            )
        response.headers["Content-Language"] = language
        return response

    return wrapper


def _follower(request: HttpRequest, account: OfficialAccount) -> Follower | None:
    pk = request.session.get(SESSION_FOLLOWER)
    if not pk:
        return None
    follower = Follower.objects.filter(pk=pk, account=account).select_related("contact", "lead").first()
    # The project one-code page reads this to show the investor their project's progress.
    if (
        follower is not None
        and follower.contact_id
        and request.session.get("investor_contact_id") != follower.contact_id
    ):
        request.session["investor_contact_id"] = follower.contact_id
    return follower


def _sign_in(request: HttpRequest, account: OfficialAccount, next_url: str) -> HttpResponse:
    """Off to WeChat's OAuth page (the fake's development sign-in in the demo)."""
    state = secrets.token_urlsafe(24)
    request.session[SESSION_STATE] = {"state": state, "next": next_url, "account": account.pk}
    redirect_uri = request.build_absolute_uri(reverse("wechat:portal_oauth", args=[account.slug]))
    query = urlencode(
        {
            "appid": account.appid,
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "scope": "snsapi_base",
            "state": state,
        }
    )
    return redirect(
        f"{settings.WECHAT_OPEN_BASE_URL.rstrip('/')}/connect/oauth2/authorize?{query}#wechat_redirect"
    )


def identified(view: PortalView) -> PortalView:
    """Pages that need to know who the investor is: sign in through OAuth first."""

    @wraps(view)
    def wrapper(
        request: HttpRequest, account: OfficialAccount, follower: Follower | None, *args: Any, **kwargs: Any
    ) -> HttpResponse:
        if follower is None:
            return _sign_in(request, account, request.get_full_path())
        return view(request, account, follower, *args, **kwargs)

    return wrapper


@portal_view
def portal_oauth(request: HttpRequest, account: OfficialAccount, follower: Follower | None) -> HttpResponse:
    """OAuth's redirect back: check ``state`` (once), exchange the code (once), bind the openid."""
    pending = request.session.pop(SESSION_STATE, None)
    state = request.GET.get("state", "")
    if (
        not pending
        or pending.get("account") != account.pk
        or not hmac.compare_digest(str(pending.get("state", "")), state)
    ):
        return _portal_error(
            request, account, _("登录链接已失效或不是从本页面发起的，请重新进入。"), status=400
        )
    code = request.GET.get("code", "")
    if not code:
        return _portal_error(request, account, _("您取消了授权。浏览园区介绍和政策无需登录。"), status=400)
    try:
        answer = oauth_openid(account, code)
    except WeChatError as exc:
        log.info("OAuth code exchange failed for %s: %s", account.slug, exc)
        reason = {40029: _("授权码无效或已过期。"), 40163: _("授权码已被使用。")}.get(
            exc.code or 0, _("微信授权暂时不可用。")
        )
        return _portal_error(request, account, reason + _("请重新进入。"), status=400)
    if str(answer.get("is_snapshotuser", "0")) == "1":
        # A virtual identity (snapshot page): never bound to a record.
        return _portal_error(
            request,
            account,
            _("当前为朋友圈快照页，无法识别身份。请点击“使用完整服务”后再操作。"),
            status=403,
        )
    openid = str(answer.get("openid") or "")
    if not openid:
        return _portal_error(request, account, _("微信授权未返回用户标识，请重新进入。"), status=400)
    found = actions.follower_for(account, openid)
    request.session.cycle_key()
    request.session[SESSION_FOLLOWER] = found.pk
    if found.contact_id:
        request.session["investor_contact_id"] = found.contact_id
    next_url = str(pending.get("next") or "")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = reverse("wechat:portal_me", args=[account.slug])
    return redirect(next_url)


def _portal_error(
    request: HttpRequest, account: OfficialAccount, message: str, *, status: int
) -> HttpResponse:
    return render(
        request,
        "wechat/portal/error.html",
        {"account": account, "message": message, "nav": "me"},
        status=status,
    )


@portal_view
def portal_sign_out(
    request: HttpRequest, account: OfficialAccount, follower: Follower | None
) -> HttpResponse:
    request.session.pop(SESSION_FOLLOWER, None)
    request.session.pop("investor_contact_id", None)
    return redirect("wechat:portal_home", account.slug)


@portal_view
def portal_home(request: HttpRequest, account: OfficialAccount, follower: Follower | None) -> HttpResponse:
    """The park and its 1+3+N chain, with how many resident enterprises each segment has."""
    english = translation.get_language() == "en"
    nodes = list(
        ChainNode.objects.annotate(
            residents=Count(
                "organizations", filter=Q(organizations__org_type=Organization.Type.RESIDENT), distinct=True
            )
        ).order_by("position", "pk")
    )
    tree = _tree(nodes, english)
    return render(
        request,
        "wechat/portal/home.html",
        {
            "account": account,
            "follower": follower,
            "nav": "home",
            "tree": tree,
            "park": PortalArticle.objects.filter(kind=PortalArticle.Kind.PARK, is_published=True).first(),
            "policies": PortalArticle.objects.filter(kind=PortalArticle.Kind.POLICY, is_published=True)[:3],
            "english": english,
        },
    )


def _tree(nodes: list[ChainNode], english: bool) -> list[dict[str, Any]]:
    by_parent: dict[int | None, list[ChainNode]] = {}
    for node in nodes:
        by_parent.setdefault(node.parent_id, []).append(node)

    def build(node: ChainNode) -> dict[str, Any]:
        return {
            "name": (node.name_en if english and node.name_en else node.name),
            "kind": node.get_kind_display() if hasattr(node, "get_kind_display") else "",
            "residents": node.residents,
            "children": [build(child) for child in by_parent.get(node.pk, [])],
        }

    return [build(root) for root in by_parent.get(None, [])]


@portal_view
def portal_policies(
    request: HttpRequest, account: OfficialAccount, follower: Follower | None
) -> HttpResponse:
    language = translation.get_language()
    articles = [
        (article, article.localized(language))
        for article in PortalArticle.objects.filter(kind=PortalArticle.Kind.POLICY, is_published=True)
    ]
    return render(
        request,
        "wechat/portal/policies.html",
        {"account": account, "follower": follower, "nav": "policies", "articles": articles},
    )


@portal_view
def portal_article(
    request: HttpRequest, account: OfficialAccount, follower: Follower | None, article: str
) -> HttpResponse:
    item = get_object_or_404(PortalArticle, slug=article, is_published=True)
    return render(
        request,
        "wechat/portal/article.html",
        {
            "account": account,
            "follower": follower,
            "nav": "policies" if item.kind == PortalArticle.Kind.POLICY else "home",
            "article": item,
            "text": item.localized(translation.get_language()),
        },
    )


@portal_view
@identified
@require_http_methods(["GET", "POST"])
def portal_consult(request: HttpRequest, account: OfficialAccount, follower: Follower) -> HttpResponse:
    initial = {}
    if follower.lead_id and not follower.lead.company_name.startswith(("微信访客", "WeChat visitor")):
        initial["company_name"] = follower.lead.company_name
    if follower.contact_id:
        initial.update(contact_name=follower.contact.name, contact_phone=follower.contact.mobile)
    form = ConsultForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        actions.portal_consult(follower=follower, data=form.cleaned_data)
        follower.refresh_from_db()
        if follower.contact_id:
            request.session["investor_contact_id"] = follower.contact_id
        messages.success(request, _("已收到您的咨询，招商专员会尽快与您联系。"))
        return redirect("wechat:portal_messages", account.slug)
    return render(
        request,
        "wechat/portal/consult.html",
        {"account": account, "follower": follower, "nav": "consult", "form": form},
        status=400 if request.method == "POST" else 200,
    )


@portal_view
@identified
@require_http_methods(["GET", "POST"])
def portal_visit(request: HttpRequest, account: OfficialAccount, follower: Follower) -> HttpResponse:
    form = VisitBookingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        actions.portal_book_visit(
            follower=follower,
            data={
                "starts_at": form.starts_at(),
                "visitor_count": form.cleaned_data["visitor_count"],
                "visitors": form.cleaned_data.get("visitors", ""),
                "notes": form.cleaned_data.get("notes", ""),
            },
        )
        follower.refresh_from_db()
        if follower.contact_id:
            request.session["investor_contact_id"] = follower.contact_id
        messages.success(request, _("预约已提交，确认后会通过公众号通知您。"))
        return redirect("wechat:portal_me", account.slug)
    return render(
        request,
        "wechat/portal/visit.html",
        {"account": account, "follower": follower, "nav": "visit", "form": form},
        status=400 if request.method == "POST" else 200,
    )


@portal_view
@identified
def portal_me(request: HttpRequest, account: OfficialAccount, follower: Follower) -> HttpResponse:
    """My projects (each opens its one-code page in the investor view) and my visit requests."""
    projects = (
        list(Project.objects.filter(contact_id=follower.contact_id).select_related("owner").order_by("-pk"))
        if follower.contact_id
        else []
    )
    visit_filter = Q(lead_id=follower.lead_id) if follower.lead_id else Q(pk__in=[])
    if projects:
        visit_filter |= Q(project__in=projects)
    visits = SiteVisit.objects.filter(visit_filter).order_by("-starts_at")[:10]
    rows = [
        {
            "project": project,
            "stage_index": PIPELINE.index(project.stage) + 1 if project.stage in PIPELINE else 0,
            "url": reverse("project_onecode", args=[project.qr_token]),
        }
        for project in projects
    ]
    return render(
        request,
        "wechat/portal/me.html",
        {
            "account": account,
            "follower": follower,
            "nav": "me",
            "rows": rows,
            "pipeline_length": len(PIPELINE),
            "visits": visits,
            "lead": follower.lead,
            "stage_labels": dict(Stage.choices),
        },
    )


@portal_view
@identified
@require_http_methods(["GET", "POST"])
def portal_messages(request: HttpRequest, account: OfficialAccount, follower: Follower) -> HttpResponse:
    """The conversation with the park: what the investor wrote (in WeChat or here) and every
    reply, including those announced by a template message."""
    form = PortalMessageForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            actions.portal_message(follower=follower, text=form.cleaned_data["text"])
        except ActionError as exc:
            form.add_error("text", exc.message)
        else:
            return redirect("wechat:portal_messages", account.slug)
    return render(
        request,
        "wechat/portal/messages.html",
        {
            "account": account,
            "follower": follower,
            "nav": "messages",
            "thread": thread(follower),
            "form": form,
        },
    )


def thread(follower: Follower, *, limit: int = 200) -> list[dict[str, Any]]:
    """The conversation in time order: inbound user messages and events, outbound messages."""
    items: list[dict[str, Any]] = []
    for message in InboundMessage.objects.filter(follower=follower).order_by("-received_at")[:limit]:
        items.append({"direction": "in", "at": message.received_at, "message": message})
    for message in (
        OutboundMessage.objects.filter(follower=follower)
        .select_related("sender")
        .order_by("-created_at")[:limit]
    ):
        items.append({"direction": "out", "at": message.created_at, "message": message})
    items.sort(key=lambda item: (item["at"], item["direction"] == "out"))
    return items[-limit:]
