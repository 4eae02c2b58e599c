from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

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
