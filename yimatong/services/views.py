"""Demand screens: the queues (per role, with clocks and colours), filing, the detail page with
its timeline and the forms of the steps the user may take, the department KPIs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from yimatong.accounts import access
from yimatong.accounts.models import User
from yimatong.lib.errors import ActionError
from yimatong.lib.http import query_without_page, redirect_after_post
from yimatong.services import actions, forms
from yimatong.services.kpis import DEFINITIONS, department_kpis
from yimatong.services.models import Demand, calendar_overrides

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
        rows = rows.filter(Q(code__icontains=q) | Q(title__icontains=q) | Q(organization__name__icontains=q))
    if request.GET.get("category"):
        rows = rows.filter(category__code=request.GET["category"])
    rows = rows.order_by("deadline", "-created_at") if chosen in ("handling", "todo", "overdue") else rows
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
    form = forms.DemandForm(request.POST or None, on_behalf=on_behalf)
    if request.method == "POST" and form.is_valid():
        try:
            demand = actions.file_demand(actor=request.user, data=form.cleaned_data)
        except ActionError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("诉求已提交，编号 %(code)s。") % {"code": demand.code})
            return redirect(demand.get_absolute_url())
    return render(
        request, "services/demand_form.html", {"form": form}, status=400 if request.method == "POST" else 200
    )


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


def _steps(user: User, demand: Demand) -> dict[str, Any]:
    """The forms of the steps this user may take on this demand now."""
    steps: dict[str, Any] = {}
    dispatcher = access.is_dispatcher(user)
    handler = access.can_handle_demand(user, demand)
    status = demand.status
    if dispatcher and status == S.SUBMITTED:
        steps["accept"] = forms.AcceptForm(
            initial={"category": demand.category_id, "promised_days": demand.category.promised_days}
        )
    if dispatcher and status in (S.ACCEPTED, S.RETURNED):
        steps["dispatch"] = forms.DispatchForm(initial={"lead": demand.category.default_department_id})
    if handler and status == S.DISPATCHED:
        steps["sign"] = None
        steps["return"] = forms.ReasonForm()
    if handler and status == S.HANDLING:
        steps["complete"] = forms.CompleteForm()
        steps["request_info"] = forms.InfoForm()
    if handler and status in (S.HANDLING, S.AWAITING_INFO) and not demand.extension_requested_days:
        steps["extend"] = forms.ExtensionForm()
    if dispatcher and demand.extension_requested_days and status in (S.HANDLING, S.AWAITING_INFO):
        steps["decide_extension"] = forms.DecideExtensionForm()
    if (
        status == S.AWAITING_INFO
        and access.can_rate_demand(user, demand)
        and access.role_of(user) == User.Role.ENTERPRISE
    ):
        steps["supply_info"] = forms.SupplyForm()
    if dispatcher and status == S.COMPLETED:
        steps["review"] = forms.ReviewForm()
    if status == S.FOLLOW_UP and access.can_rate_demand(user, demand):
        steps["rate"] = forms.RateForm()
    if access.can_supervise_demand(user) and status not in (S.ARCHIVED, S.WITHDRAWN):
        steps["supervise"] = forms.SuperviseForm()
    if status in (S.SUBMITTED, S.ACCEPTED) and access.role_of(user) == User.Role.ENTERPRISE:
        steps["withdraw"] = forms.ReasonForm()
    return steps


@services_view
def demand_detail(request: HttpRequest, code: str) -> HttpResponse:
    demand = _demand_or_404(request, code)
    return _detail(request, demand)


def _detail(
    request: HttpRequest, demand: Demand, *, bound: tuple[str, Any] | None = None, status: int = 200
) -> HttpResponse:
    steps = _steps(request.user, demand)
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
            "steps": steps,
        },
        status=status,
    )


STEPS: dict[str, tuple[Any, Callable[..., Demand], Callable[[Any], dict[str, Any]], str]] = {
    "accept": (
        forms.AcceptForm,
        actions.accept,
        lambda d: {"category": d["category"], "promised_days": d.get("promised_days")},
        "已受理。",
    ),
    "dispatch": (
        forms.DispatchForm,
        actions.dispatch,
        lambda d: {"lead": d["lead"], "co": list(d.get("co") or []), "note": d.get("note", "")},
        "已分派。",
    ),
    "sign": (None, actions.sign, lambda d: {}, "已签收，开始计时。"),
    "return": (
        forms.ReasonForm,
        actions.return_demand,
        lambda d: {"reason": d["reason"]},
        "已退回受理中心。",
    ),
    "request_info": (
        forms.InfoForm,
        actions.request_info,
        lambda d: {"what": d["what"]},
        "已要求企业补充材料，计时暂停。",
    ),
    "supply_info": (
        forms.SupplyForm,
        actions.supply_info,
        lambda d: {"text": d["text"]},
        "已补充材料，计时恢复。",
    ),
    "extend": (
        forms.ExtensionForm,
        actions.request_extension,
        lambda d: {"days": d["days"], "reason": d["reason"]},
        "延期申请已提交。",
    ),
    "decide_extension": (
        forms.DecideExtensionForm,
        actions.decide_extension,
        lambda d: {"approve": d["approve"], "note": d.get("note", "")},
        "延期申请已审批。",
    ),
    "complete": (
        forms.CompleteForm,
        actions.complete,
        lambda d: {"resolution": d["resolution"]},
        "已办结，待审核。",
    ),
    "review": (
        forms.ReviewForm,
        actions.review,
        lambda d: {"passed": d["passed"], "note": d.get("note", "")},
        "已审核。",
    ),
    "rate": (
        forms.RateForm,
        actions.rate,
        lambda d: {"rating": d["rating"], "comment": d.get("comment", "")},
        "感谢您的评价。",
    ),
    "supervise": (forms.SuperviseForm, actions.supervise, lambda d: {"note": d["note"]}, "已督办。"),
    "withdraw": (forms.ReasonForm, actions.withdraw, lambda d: {"reason": d["reason"]}, "诉求已撤回。"),
}


@services_view
@require_POST
def demand_step(request: HttpRequest, code: str, step: str) -> HttpResponse:
    """One step of the lifecycle; refused (403) when it is not this user's to take now."""
    if step not in STEPS:
        raise Http404
    demand = _demand_or_404(request, code)
    allowed = _steps(request.user, demand)
    if step not in allowed:
        if step in _steps_any_status(request.user, demand):
            messages.error(
                request,
                _("工单 %(code)s 当前为“%(status)s”，不能执行此操作。")
                % {"code": demand.code, "status": demand.get_status_display()},
            )
            return redirect_after_post(request, demand.get_absolute_url())
        access.deny_unless(False)
    form_class, action, arguments, done = STEPS[step]
    form = form_class(request.POST) if form_class else None
    if form is not None and not form.is_valid():
        return _detail(request, demand, bound=(step, form), status=400)
    try:
        action(actor=request.user, demand=demand, **arguments(form.cleaned_data if form else {}))
    except ActionError as exc:
        if form is None:
            messages.error(request, exc.message)
            return redirect_after_post(request, demand.get_absolute_url())
        for field, errors in exc.fields.items():
            for error in errors:
                form.add_error(field if field in form.fields else None, error)
        if not exc.fields or not any(f in form.fields for f in exc.fields):
            form.add_error(None, exc.message)
        demand.refresh_from_db()
        return _detail(request, demand, bound=(step, form), status=exc.status)
    messages.success(request, _(done))
    return redirect_after_post(request, demand.get_absolute_url())


def _steps_any_status(user: User, demand: Demand) -> set[str]:
    """The steps this user could take on this demand in some status (a stale page asks for one)."""
    names: set[str] = set()
    for status in S.values:
        probe = Demand(
            pk=demand.pk,
            status=status,
            category=demand.category,
            lead_department_id=demand.lead_department_id,
            organization_id=demand.organization_id,
            extension_requested_days=1,
        )
        names |= set(_steps(user, probe))
    return names


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
