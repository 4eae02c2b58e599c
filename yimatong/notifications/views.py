from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from yimatong.accounts import access
from yimatong.lib.http import is_htmx, query_without_page
from yimatong.notifications import actions
from yimatong.notifications.models import Notification


@access.console_view
def notification_list(request: HttpRequest) -> HttpResponse:
    from django.core.paginator import Paginator

    qs = Notification.objects.visible_to(request.user)
    if request.GET.get("unread") == "1":
        qs = qs.unread()
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    return render(
        request,
        "notifications/list.html",
        {"page": page, "query": query_without_page(request), "unread_only": request.GET.get("unread") == "1"},
    )


@access.console_view
def notification_bell(request: HttpRequest) -> HttpResponse:
    """The top bar's bell with the unread count; htmx polls it."""
    return render(
        request,
        "notifications/bell.html",
        {"unread": Notification.objects.visible_to(request.user).unread().count()},
    )


@access.console_view
@require_POST
def notification_open(request: HttpRequest, pk: int) -> HttpResponse:
    notification = get_object_or_404(Notification.objects.visible_to(request.user), pk=pk)
    actions.mark_read(request.user, notification.pk)
    return redirect(notification.url or "notifications:list")


@access.console_view
@require_POST
def notification_read_all(request: HttpRequest) -> HttpResponse:
    actions.mark_read(request.user)
    if is_htmx(request):
        return notification_bell(request)
    return redirect("notifications:list")


@access.console_view
@require_http_methods(["GET", "POST"])
def notification_preferences(request: HttpRequest) -> HttpResponse:
    """Which kinds of notification a person receives (supervision orders always arrive)."""
    if request.method == "POST":
        received = set(request.POST.getlist("receive"))
        actions.set_preferences(request.user, muted=actions.MUTABLE_KINDS - received)
        messages.success(request, _("通知设置已保存。"))
        return redirect("notifications:preferences")
    muted = set(request.user.muted_notifications or [])
    kinds = [
        {
            "value": value,
            "label": label,
            "on": value not in muted,
            "locked": value not in actions.MUTABLE_KINDS,
        }
        for value, label in Notification.Kind.choices
    ]
    return render(request, "notifications/preferences.html", {"kinds": kinds})
