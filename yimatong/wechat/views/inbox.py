"""The consultation inbox: conversations by investor with their lead/project, unread counts,
assignment, and replies (customer-service messages inside the window, a template otherwise)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yimatong.accounts import access
from yimatong.accounts.models import User
from yimatong.investment.models import Project
from yimatong.lib.errors import ActionError
from yimatong.lib.http import is_htmx, redirect_after_post
from yimatong.wechat import actions
from yimatong.wechat.forms import AssignForm, ReplyForm
from yimatong.wechat.models import Follower, OfficialAccount, OutboundMessage
from yimatong.wechat.views.portal import thread

FILTERS = {
    "mine": lambda user: Q(assigned_to=user),
    "unassigned": lambda user: Q(assigned_to__isnull=True),
    "all": lambda user: Q(),
}


def _inbox_user(request: HttpRequest) -> None:
    access.deny_unless(access.can_use_inbox(request.user))


def _conversations(request: HttpRequest):
    return Follower.objects.visible_to(request.user)


@access.staff_view
def inbox(request: HttpRequest) -> HttpResponse:
    _inbox_user(request)
    user = request.user
    chosen = request.GET.get("show") or ("mine" if access.role_of(user) == User.Role.PROMOTER else "all")
    if chosen not in FILTERS:
        chosen = "all"
    rows = (
        _conversations(request)
        .filter(FILTERS[chosen](user))
        .filter(Q(last_message_at__isnull=False) | Q(lead__isnull=False))
        .select_related("account", "contact", "lead", "assigned_to", "first_code")
        .with_unread()
    )
    if request.GET.get("unread"):
        rows = rows.filter(unread__gt=0)
    if account := request.GET.get("account"):
        rows = rows.filter(account__slug=account)
    if q := request.GET.get("q", "").strip():
        rows = rows.filter(
            Q(contact__name__icontains=q)
            | Q(lead__company_name__icontains=q)
            | Q(display_name__icontains=q)
            | Q(openid=q)
        )
    page = Paginator(rows, 30).get_page(request.GET.get("page"))
    projects = {
        p.lead_id: p
        for p in Project.objects.filter(lead_id__in=[f.lead_id for f in page if f.lead_id]).only(
            "code", "name", "stage", "lead_id", "codename"
        )
    }
    for follower in page:
        follower.project = projects.get(follower.lead_id)
    query = request.GET.copy()
    query["partial"] = "1"
    template = (
        "wechat/inbox.html#rows" if is_htmx(request) and request.GET.get("partial") else "wechat/inbox.html"
    )
    return render(
        request,
        template,
        {
            "page": page,
            "projects": projects,
            "show": chosen,
            "accounts": OfficialAccount.objects.filter(is_active=True),
            "q": q,
            "poll_url": f"{request.path}?{query.urlencode()}",
        },
    )


@access.staff_view
def inbox_unread(request: HttpRequest) -> HttpResponse:
    """The badge in the navigation, polled by htmx: unread messages in my conversations."""
    _inbox_user(request)
    user = request.user
    scope = Q(assigned_to=user) if access.role_of(user) == User.Role.PROMOTER else Q()
    total = sum(f.unread for f in _conversations(request).filter(scope).with_unread().filter(unread__gt=0))
    return HttpResponse(str(total) if total else "", content_type="text/plain; charset=utf-8")


def _conversation_or_404(request: HttpRequest, code: str) -> Follower:
    _inbox_user(request)
    return get_object_or_404(
        _conversations(request).select_related(
            "account", "contact", "lead__owner", "assigned_to", "first_code"
        ),
        code=code,
    )


@access.staff_view
def conversation(request: HttpRequest, code: str) -> HttpResponse:
    follower = _conversation_or_404(request, code)
    if access.can_reply(request.user):
        actions.mark_read(follower)
    return render(request, "wechat/conversation.html", _conversation_context(request, follower))


def _conversation_context(request: HttpRequest, follower: Follower, **extra) -> dict:
    project = (
        Project.objects.visible_to(request.user).filter(lead_id=follower.lead_id).first()
        if follower.lead_id
        else None
    )
    state = actions.window(follower)
    return {
        "follower": follower,
        "thread": thread(follower),
        "project": project,
        "window": state,
        "can_reply": access.can_reply(request.user),
        "can_assign": access.can_assign_conversation(request.user)
        or (access.role_of(request.user) == User.Role.PROMOTER and follower.assigned_to_id is None),
        "form": extra.pop("form", None) or ReplyForm(),
        "assign_form": AssignForm(initial={"assignee": follower.assigned_to_id}),
        "has_template": bool(follower.account.template_id("reply")),
        **extra,
    }


@access.staff_view
def conversation_thread(request: HttpRequest, code: str) -> HttpResponse:
    """The thread alone, polled every few seconds while the page is open."""
    follower = _conversation_or_404(request, code)
    if access.can_reply(request.user):
        actions.mark_read(follower)
    return render(request, "wechat/conversation.html#thread", _conversation_context(request, follower))


@access.staff_view
@require_POST
def conversation_reply(request: HttpRequest, code: str) -> HttpResponse:
    """A customer-service message (refused with the reason when the window is closed)."""
    return _reply(request, code, actions.send_reply, _("回复已发出。"))


@access.staff_view
@require_POST
def conversation_template(request: HttpRequest, code: str) -> HttpResponse:
    """The template-message fallback: the investor is told a reply waits in the portal."""
    return _reply(
        request,
        code,
        actions.send_template_reply,
        _("已发送模板消息，对方点开后可在“咨询记录”中看到回复全文。"),
    )


def _reply(request: HttpRequest, code: str, send: Any, done: str) -> HttpResponse:
    follower = _conversation_or_404(request, code)
    access.deny_unless(access.can_reply(request.user))
    form = ReplyForm(request.POST)
    if form.is_valid():
        try:
            send(actor=request.user, follower=follower, text=form.cleaned_data["text"])
        except ActionError as exc:
            for error in exc.fields.get("text", []):
                form.add_error("text", error)
            form.add_error(None, exc.message)
        else:
            messages.success(request, done)
            return redirect_after_post(request, follower.get_absolute_url())
    return render(
        request, "wechat/conversation.html", _conversation_context(request, follower, form=form), status=400
    )


@access.staff_view
@require_POST
def conversation_assign(request: HttpRequest, code: str) -> HttpResponse:
    follower = _conversation_or_404(request, code)
    user = request.user
    form = AssignForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("负责人无效。"))
        return redirect_after_post(request, follower.get_absolute_url())
    assignee = form.cleaned_data["assignee"]
    if not access.can_assign_conversation(user):
        # A promoter may take an unassigned conversation, nothing else.
        access.deny_unless(
            access.role_of(user) == User.Role.PROMOTER
            and follower.assigned_to_id is None
            and assignee is not None
            and assignee.pk == user.pk
        )
    actions.assign(actor=user, follower=follower, assignee=assignee)
    messages.success(
        request, _("已分配给 %(name)s。") % {"name": assignee.display_name} if assignee else _("已取消分配。")
    )
    return redirect_after_post(request, follower.get_absolute_url())


@access.staff_view
@require_POST
def outbound_retry(request: HttpRequest, pk: int) -> HttpResponse:
    message = get_object_or_404(OutboundMessage.objects.select_related("follower"), pk=pk)
    follower = _conversation_or_404(request, str(message.follower.code))
    access.deny_unless(access.can_reply(request.user))
    try:
        actions.retry_delivery(actor=request.user, message=message)
    except ActionError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已重新发送。"))
    return redirect_after_post(request, follower.get_absolute_url())
