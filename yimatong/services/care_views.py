"""Screens of 一企一策 (key enterprises' plans) and 金融服务 (financing needs and referrals)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from yimatong.accounts import access
from yimatong.accounts.models import User
from yimatong.lib.errors import ActionError
from yimatong.lib.http import redirect_after_post
from yimatong.services import care_actions as actions
from yimatong.services import forms
from yimatong.services.models import BankProduct, FinancingNeed, PlanItem, Referral, ServicePlan
from yimatong.services.views import services_view


def _enterprise(user: User) -> bool:
    return access.role_of(user) == User.Role.ENTERPRISE


def _can_work(user: User, plan: ServicePlan) -> bool:
    return access.is_dispatcher(user) or plan.officer_id == user.pk


@services_view
def plan_list(request: HttpRequest) -> HttpResponse:
    plans = list(actions.plans_for(request.user))
    for plan in plans:
        plan.summary = actions.plan_summary(plan)
    return render(
        request, "services/plan_list.html", {"plans": plans, "can_create": access.is_dispatcher(request.user)}
    )


@services_view
@require_http_methods(["GET", "POST"])
def plan_create(request: HttpRequest) -> HttpResponse:
    access.deny_unless(access.is_dispatcher(request.user))
    form = forms.PlanForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            plan = actions.create_plan(actor=request.user, **form.cleaned_data)
        except ActionError as exc:
            form.add_error(None, exc.message)
        else:
            return redirect(plan.get_absolute_url())
    return render(
        request,
        "services/simple_form.html",
        {"form": form, "title": _("新建一企一策")},
        status=400 if request.method == "POST" else 200,
    )


def _plan_or_404(request: HttpRequest, pk: int) -> ServicePlan:
    plan = actions.plans_for(request.user).filter(pk=pk).first()
    if plan is None:
        raise Http404
    return plan


@services_view
def plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _plan_or_404(request, pk)
    return render(
        request,
        "services/plan_detail.html",
        {
            "plan": plan,
            "items": plan.items.all(),
            "progress": plan.progress.select_related("created_by"),
            "summary": actions.plan_summary(plan),
            "can_work": _can_work(request.user, plan),
            "item_form": forms.PlanItemForm(),
            "progress_form": forms.ProgressForm(initial={"month": timezone.localdate().strftime("%Y-%m")}),
            "today": timezone.localdate(),
            "statuses": PlanItem.Status.choices,
        },
    )


@services_view
@require_POST
def plan_change(request: HttpRequest, pk: int, what: str) -> HttpResponse:
    plan = _plan_or_404(request, pk)
    access.deny_unless(_can_work(request.user, plan))
    try:
        if what == "item":
            form = forms.PlanItemForm(request.POST)
            if not form.is_valid():
                raise ActionError(_("请完整填写事项、责任人和完成时限。"), fields=form.errors)
            actions.add_item(actor=request.user, plan=plan, data=form.cleaned_data)
        elif what == "status":
            item = get_object_or_404(plan.items, pk=request.POST.get("item"))
            form = forms.PlanItemStatusForm(request.POST)
            if not form.is_valid():
                raise ActionError(_("状态无效。"))
            actions.update_item(actor=request.user, item=item, **form.cleaned_data)
        elif what == "progress":
            form = forms.ProgressForm(request.POST)
            if not form.is_valid():
                raise ActionError(_("请填写月份和本月进展。"), fields=form.errors)
            actions.record_progress(actor=request.user, plan=plan, **form.cleaned_data)
        else:
            raise Http404
    except ActionError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已保存。"))
    return redirect_after_post(request, plan.get_absolute_url())


# Financing -----------------------------------------------------------------------------------------


@services_view
def financing_list(request: HttpRequest) -> HttpResponse:
    needs = actions.needs_for(request.user)
    if not _enterprise(request.user):
        access.deny_unless(
            access.role_of(request.user) in (User.Role.ADMIN, User.Role.LEADER)
            or access.is_dispatcher(request.user)
        )
    referrals = Referral.objects.filter(need__in=needs).select_related("product__bank", "need__organization")
    funded = [r for r in referrals if r.disbursed_on]
    days = [r.days_to_disbursement() for r in funded]
    stats = {
        "needs": needs.count(),
        "referred": referrals.count(),
        "approved": sum(1 for r in referrals if r.outcome == Referral.Outcome.APPROVED),
        "approved_amount": sum(
            (r.approved_amount or 0) for r in referrals if r.outcome == Referral.Outcome.APPROVED
        ),
        "avg_days": round(sum(days) / len(days), 1) if days else None,
    }
    return render(
        request,
        "services/financing_list.html",
        {
            "needs": needs,
            "stats": stats,
            "products": BankProduct.objects.filter(is_active=True).select_related("bank"),
            "enterprise": _enterprise(request.user),
        },
    )


@services_view
@require_http_methods(["GET", "POST"])
def financing_create(request: HttpRequest) -> HttpResponse:
    access.deny_unless(_enterprise(request.user))
    form = forms.FinancingNeedForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        need = actions.file_need(
            actor=request.user, organization=request.user.organization, data=form.cleaned_data
        )
        messages.success(request, _("融资需求已提交，园区将为您对接金融产品。"))
        return redirect(need.get_absolute_url())
    return render(
        request,
        "services/simple_form.html",
        {"form": form, "title": _("提交融资需求")},
        status=400 if request.method == "POST" else 200,
    )


def _need_or_404(request: HttpRequest, pk: int) -> FinancingNeed:
    need = actions.needs_for(request.user).filter(pk=pk).first()
    if need is None:
        raise Http404
    return need


@services_view
def financing_detail(request: HttpRequest, pk: int) -> HttpResponse:
    need = _need_or_404(request, pk)
    broker = access.is_dispatcher(request.user)
    return render(
        request,
        "services/financing_detail.html",
        {
            "need": need,
            "referrals": need.referrals.select_related("product__bank"),
            "suggestions": actions.suggestions(need) if broker else [],
            "broker": broker,
            "outcome_form": forms.OutcomeForm(),
        },
    )


@services_view
@require_POST
def financing_change(request: HttpRequest, pk: int, what: str) -> HttpResponse:
    need = _need_or_404(request, pk)
    access.deny_unless(access.is_dispatcher(request.user))
    try:
        if what == "refer":
            product = get_object_or_404(BankProduct, pk=request.POST.get("product"))
            actions.refer(actor=request.user, need=need, product=product)
            messages.success(request, _("已推荐给金融机构。"))
        elif what == "outcome":
            referral = get_object_or_404(need.referrals, pk=request.POST.get("referral"))
            form = forms.OutcomeForm(request.POST)
            if not form.is_valid():
                raise ActionError(_("结果无效。"), fields=form.errors)
            actions.record_outcome(actor=request.user, referral=referral, **form.cleaned_data)
            messages.success(request, _("已记录结果。"))
        else:
            raise Http404
    except ActionError as exc:
        messages.error(request, exc.message)
    return redirect_after_post(request, need.get_absolute_url())
