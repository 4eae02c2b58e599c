"""Demand screens: the queues (per role, with clocks and colours), filing, the detail page with
its timeline and the forms of the steps the user may take, the department KPIs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import F, Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from yimatong.accounts import access
from yimatong.accounts.models import User
from yimatong.directory.models import Organization
from yimatong.lib.errors import ActionError
from yimatong.lib.http import query_without_page, redirect_after_post
from yimatong.services import actions, forms
from yimatong.services.kpis import DEFINITIONS, department_kpis
from yimatong.services.models import Demand, calendar_overrides
from yimatong.services.steps import STEPS, available_steps, steps_in_any_status

S = Demand.Status


def services_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @access.console_view
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        access.deny_unless(access.can_use_services(request.user))
        return view(request, *args, **kwargs)

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper


def _tabs(user: User) -> list[tuple[str, str, Q]]:
    if access.is_dispatcher(user):
        return [
            ("todo", _("待受理/分派"), Q(status__in=[S.SUBMITTED, S.ACCEPTED, S.RETURNED])),
            ("review", _("待审核"), Q(status=S.COMPLETED) | Q(extension_requested_days__isnull=False)),
            ("handling", _("办理中"), Q(status__in=[S.DISPATCHED, S.HANDLING, S.AWAITING_INFO])),
            ("follow_up", _("待回访"), Q(status=S.FOLLOW_UP)),
            ("all", _("全部"), Q()),
        ]
    if access.role_of(user) == User.Role.SERVICE:
        return [
            ("todo", _("待签收"), Q(status=S.DISPATCHED, lead_department=user.department_id)),
            ("handling", _("办理中"), Q(status__in=[S.HANDLING, S.AWAITING_INFO])),
            ("all", _("全部"), Q()),
        ]
    if access.role_of(user) == User.Role.ENTERPRISE:
        return [("open", _("进行中"), ~Q(status__in=[S.ARCHIVED, S.WITHDRAWN])), ("all", _("全部"), Q())]
    return [
        ("overdue", _("逾期"), Q(status=S.HANDLING, deadline__lt=timezone.localdate())),
        ("supervised", _("已督办"), Q(supervised_at__isnull=False)),
        ("open", _("进行中"), ~Q(status__in=[S.ARCHIVED, S.WITHDRAWN])),
        ("all", _("全部"), Q()),
    ]


@services_view
def demand_list(request: HttpRequest) -> HttpResponse:
    tabs = _tabs(request.user)
    chosen = request.GET.get("tab") or tabs[0][0]
    rule = next((q for key, _label, q in tabs if key == chosen), tabs[0][2])
    rows = (
        Demand.objects.visible_to(request.user)
        .filter(rule)
        .select_related("organization", "category", "lead_department")
    )
    if q := request.GET.get("q", "").strip():
        # The enterprise through its own small table; codes by prefix; titles as typed (Chinese has no case).
        companies = Organization.objects.filter(name__icontains=q).values("pk")
        rows = rows.filter(Q(code__istartswith=q) | Q(title__contains=q) | Q(organization__in=companies))
    if request.GET.get("category"):
        rows = rows.filter(category__code=request.GET["category"])
    if chosen in ("handling", "todo", "overdue"):
        # Unsigned demands have no deadline yet: last, the same on every database.
        rows = rows.order_by(F("deadline").asc(nulls_last=True), "-created_at")
    page = Paginator(rows, 30).get_page(request.GET.get("page"))
    overrides = calendar_overrides()
    today = timezone.localdate()
    for demand in page:
        demand.state = demand.clock(today, overrides)
    return render(
        request,
        "services/demand_list.html",
        {
            "page": page,
            "tabs": [(key, label) for key, label, _q in tabs],
            "tab": chosen,
            "q": q,
            "query": query_without_page(request),
            "can_file": access.can_file_demand(request.user),
        },
    )


@services_view
@require_http_methods(["GET", "POST"])
def demand_create(request: HttpRequest) -> HttpResponse:
    access.deny_unless(access.can_file_demand(request.user))
    on_behalf = access.role_of(request.user) != User.Role.ENTERPRISE
    form = forms.DemandForm(request.POST or None, request.FILES or None, on_behalf=on_behalf)
    if request.method == "POST" and form.is_valid():
        try:
            demand = actions.file_demand(actor=request.user, data=form.cleaned_data)
        except ActionError as exc:
            exc.add_to(form)
        else:
            messages.success(request, _("诉求已提交，编号 %(code)s。") % {"code": demand.code})
            return redirect(demand.get_absolute_url())
    return render(
        request, "services/demand_form.html", {"form": form}, status=400 if request.method == "POST" else 200
    )


@services_view
def demand_attachment(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    demand = _demand_or_404(request, code)
    attachment = get_object_or_404(demand.attachments, pk=pk)
    return FileResponse(attachment.file.open("rb"), as_attachment=True, filename=attachment.original_name)


def _demand_or_404(request: HttpRequest, code: str) -> Demand:
    demand = (
        Demand.objects.visible_to(request.user)
        .select_related(
            "organization", "category", "lead_department", "signed_by", "filed_by", "supervised_by"
        )
        .filter(code=code)
        .first()
    )
    if demand is None:
        raise Http404
    return demand


@services_view
def demand_detail(request: HttpRequest, code: str) -> HttpResponse:
    demand = _demand_or_404(request, code)
    return _detail(request, demand)


def _detail(
    request: HttpRequest, demand: Demand, *, bound: tuple[str, Any] | None = None, status: int = 200
) -> HttpResponse:
    steps = available_steps(request.user, demand)
    if bound is not None and bound[0] in steps:
        steps[bound[0]] = bound[1]
    return render(
        request,
        "services/demand_detail.html",
        {
            "demand": demand,
            "state": demand.clock(overrides=calendar_overrides()),
            "events": demand.events.select_related("actor"),
            "co_departments": demand.co_departments.all(),
            "attachments": demand.attachments.all(),
            "steps": steps,
        },
        status=status,
    )


@services_view
@require_POST
def demand_step(request: HttpRequest, code: str, step: str) -> HttpResponse:
    """One step of the lifecycle; refused (403) when it is not this user's to take now."""
    if step not in STEPS:
        raise Http404
    demand = _demand_or_404(request, code)
    allowed = available_steps(request.user, demand)
    if step not in allowed:
        if step in steps_in_any_status(request.user, demand):
            messages.error(
                request,
                _("工单 %(code)s 当前为“%(status)s”，不能执行此操作。")
                % {"code": demand.code, "status": demand.get_status_display()},
            )
            return redirect_after_post(request, demand.get_absolute_url())
        access.deny_unless(False)
    form_class, action, arguments, done = STEPS[step]
    form = form_class(request.POST, request.FILES) if form_class else None
    if form is not None and not form.is_valid():
        return _detail(request, demand, bound=(step, form), status=400)
    try:
        action(actor=request.user, demand=demand, **arguments(form.cleaned_data if form else {}))
    except ActionError as exc:
        if form is None:
            messages.error(request, exc.message)
            return redirect_after_post(request, demand.get_absolute_url())
        exc.add_to(form)
        demand.refresh_from_db()
        return _detail(request, demand, bound=(step, form), status=exc.status)
    messages.success(request, str(done))
    return redirect_after_post(request, demand.get_absolute_url())


@services_view
def demand_kpis(request: HttpRequest) -> HttpResponse:
    access.deny_unless(access.role_of(request.user) in (User.Role.ADMIN, User.Role.LEADER, User.Role.SERVICE))
    today = timezone.localdate()
    try:
        start = (
            dt.date.fromisoformat(request.GET.get("start", ""))
            if request.GET.get("start")
            else today.replace(day=1)
        )
        end = dt.date.fromisoformat(request.GET.get("end", "")) if request.GET.get("end") else today
    except ValueError:
        start, end = today.replace(day=1), today
        messages.error(request, _("日期格式应为 YYYY-MM-DD，已改为本月。"))
    rows = department_kpis(Demand.objects.visible_to(request.user), start, end)
    return render(
        request, "services/kpis.html", {"rows": rows, "start": start, "end": end, "definitions": DEFINITIONS}
    )
