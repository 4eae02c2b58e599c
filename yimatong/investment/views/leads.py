from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from yimatong.accounts import access
from yimatong.directory.forms import chain_choices
from yimatong.investment.actions import leads as actions
from yimatong.investment.filters import leads_for
from yimatong.investment.forms import (
    ActivityForm,
    AssignForm,
    LeadForm,
    MergeForm,
    NoteForm,
    QualifyForm,
    ReasonForm,
)
from yimatong.investment.models import Channel, Lead, LeadEvent
from yimatong.lib.errors import ActionError
from yimatong.lib.http import htmx_target, query_without_page, redirect_after_post


def _investment_staff(request: HttpRequest) -> None:
    access.deny_unless(access.role_of(request.user) in (*access.INVESTMENT_STAFF, access.Role.LEADER))


@access.staff_view
def lead_list(request: HttpRequest) -> HttpResponse:
    _investment_staff(request)
    qs, filters = leads_for(request.user, request.GET)
    qs = qs.select_related("owner", "chain_node", "team").prefetch_related("sources")
    page = Paginator(qs, 20).get_page(request.GET.get("page"))
    tabs = [("mine", _("我的线索")), ("pool", _("公海"))]
    if request.user.team_id:
        tabs.append(("team", _("本团队")))
    tabs.append(("all", _("全部可见")))
    context = {
        "page": page,
        "filters": filters,
        "query": query_without_page(request),
        "tabs": tabs,
        "channels": Channel.choices,
        "statuses": Lead.Status.choices,
        "chain_nodes": chain_choices(),
        "can_create": access.can_create_lead(request.user),
        "can_claim": access.can_claim_lead(request.user),
        "pool_count": Lead.objects.visible_to(request.user).in_pool().count(),
    }
    template = "investment/lead_list.html"
    if htmx_target(request) == "results":
        template += "#results"
    return render(request, template, context)


@access.staff_view
@require_http_methods(["GET", "POST"])
def lead_create(request: HttpRequest) -> HttpResponse:
    access.deny_unless(access.can_create_lead(request.user))
    form = LeadForm(request.POST or None, user=request.user)
    if request.method == "POST":
        if form.is_valid():
            lead = actions.create_lead(actor=request.user, data=form.lead_data(), source=form.source_data())
            messages.success(request, _("已录入线索 %(code)s。") % {"code": lead.code})
            return redirect_after_post(request, lead.get_absolute_url())
        return _lead_form(request, form, None, status=400)
    return _lead_form(request, form, None)


def _duplicates_for_display(form: LeadForm, user: Any) -> dict[str, Any]:
    found = form.duplicates
    if not found:
        return {}
    from yimatong.directory.models import Organization

    visible_orgs = set(
        Organization.objects.visible_to(user)
        .filter(pk__in=[o.pk for o in found.organizations])
        .values_list("pk", flat=True)
    )
    visible_leads = set(
        Lead.objects.visible_to(user)
        .filter(pk__in=[lead.pk for lead in found.leads])
        .values_list("pk", flat=True)
    )
    return {
        "orgs": [(o, found.reasons_for(o)) for o in found.organizations if o.pk in visible_orgs],
        "leads": [(lead, found.reasons_for(lead)) for lead in found.leads if lead.pk in visible_leads],
        "hidden": len(found.organizations) + len(found.leads) - len(visible_orgs) - len(visible_leads),
    }


def _lead_form(request: HttpRequest, form: LeadForm, lead: Lead | None, status: int = 200) -> HttpResponse:
    template = "investment/lead_form.html"
    if request.headers.get("HX-Request") == "true":
        template += "#form"
    return render(
        request,
        template,
        {"form": form, "lead": lead, "duplicates": _duplicates_for_display(form, request.user)},
        status=status,
    )


def _lead_or_404(request: HttpRequest, code: str) -> Lead:
    return access.get_visible_or_404(
        Lead.objects.select_related("owner", "team", "chain_node", "organization", "contact", "merged_into"),
        request.user,
        code=code,
    )


def _can_edit_lead(user: Any, lead: Lead) -> bool:
    return Lead.objects.filter(access.lead_edit_scope(user), pk=lead.pk).exists()


@access.staff_view
def lead_detail(request: HttpRequest, code: str) -> HttpResponse:
    lead = _lead_or_404(request, code)
    can_edit = _can_edit_lead(request.user, lead)
    merged_ids = [lead.pk, *lead.merged_leads.values_list("pk", flat=True)]
    timeline = LeadEvent.objects.filter(lead_id__in=merged_ids).select_related("actor", "lead")[:200]
    duplicates = actions.find_duplicates(
        company_name=lead.company_name, uscc=lead.uscc, phone=lead.contact_phone, exclude=lead
    )
    visible_dupes = Lead.objects.visible_to(request.user).filter(pk__in=[d.pk for d in duplicates.leads])
    return render(
        request,
        "investment/lead_detail.html",
        {
            "lead": lead,
            "can_edit": can_edit and lead.is_open,
            "can_claim": access.can_claim_lead(request.user) and lead.status == Lead.Status.POOL,
            "can_assign": access.can_assign_lead(request.user) and lead.is_open and can_edit,
            "timeline": timeline,
            "sources": lead.sources.select_related("referred_by"),
            "visits": lead.site_visits.order_by("-starts_at")[:20],
            "activities": lead.activities.select_related("created_by", "leader").prefetch_related(
                "participants"
            ),
            "duplicate_leads": visible_dupes,
            "assign_form": AssignForm(user=request.user) if can_edit else None,
            "note_form": NoteForm(),
            "reason_form": ReasonForm(),
            "activity_form": ActivityForm() if can_edit and lead.is_open else None,
            "project": getattr(lead, "project", None) if lead.status == Lead.Status.QUALIFIED else None,
        },
    )


def _editable_lead(request: HttpRequest, code: str) -> Lead:
    lead = _lead_or_404(request, code)
    access.deny_unless(_can_edit_lead(request.user, lead))
    return lead


@access.staff_view
@require_http_methods(["GET", "POST"])
def lead_edit(request: HttpRequest, code: str) -> HttpResponse:
    lead = _editable_lead(request, code)
    initial = {
        name: getattr(lead, name)
        for name in (
            "company_name",
            "uscc",
            "contact_name",
            "contact_phone",
            "planned_investment",
            "interest",
        )
    }
    initial["chain_node"] = lead.chain_node_id
    form = LeadForm(request.POST or None, user=request.user, instance=lead, initial=initial)
    if request.method == "POST":
        if form.is_valid():
            actions.update_lead(lead=lead, actor=request.user, data=form.lead_data())
            messages.success(request, _("已保存线索 %(code)s。") % {"code": lead.code})
            return redirect_after_post(request, lead.get_absolute_url())
        return _lead_form(request, form, lead, status=400)
    return _lead_form(request, form, lead)


def _done(request: HttpRequest, lead: Lead, message: str) -> HttpResponse:
    messages.success(request, message)
    return redirect_after_post(request, lead.get_absolute_url())


def _refused(request: HttpRequest, lead: Lead, exc: ActionError) -> HttpResponse:
    messages.error(request, exc.message)
    response = redirect_after_post(request, lead.get_absolute_url())
    return response


@access.staff_view
@require_POST
def lead_claim(request: HttpRequest, code: str) -> HttpResponse:
    lead = _lead_or_404(request, code)
    access.deny_unless(access.can_claim_lead(request.user))
    try:
        actions.claim_lead(lead=lead, actor=request.user)
    except ActionError as exc:
        return _refused(request, lead, exc)
    return _done(request, lead, _("已认领线索 %(code)s。") % {"code": lead.code})


@access.staff_view
@require_POST
def lead_assign(request: HttpRequest, code: str) -> HttpResponse:
    lead = _editable_lead(request, code)
    access.deny_unless(access.can_assign_lead(request.user))
    form = AssignForm(request.POST, user=request.user)
    if not form.is_valid():
        messages.error(request, _("请选择本团队的招商人员。"))
        return redirect_after_post(request, lead.get_absolute_url())
    try:
        actions.assign_lead(lead=lead, actor=request.user, owner=form.cleaned_data["owner"])
    except ActionError as exc:
        return _refused(request, lead, exc)
    return _done(request, lead, _("已分配给 %(name)s。") % {"name": form.cleaned_data["owner"].display_name})


@access.staff_view
@require_POST
def lead_release(request: HttpRequest, code: str) -> HttpResponse:
    lead = _editable_lead(request, code)
    try:
        actions.release_lead(lead=lead, actor=request.user, reason=request.POST.get("reason", ""))
    except ActionError as exc:
        return _refused(request, lead, exc)
    return _done(request, lead, _("线索已退回公海。"))


@access.staff_view
@require_POST
def lead_note(request: HttpRequest, code: str) -> HttpResponse:
    lead = _editable_lead(request, code)
    try:
        actions.add_note(lead=lead, actor=request.user, text=request.POST.get("text", ""))
    except ActionError as exc:
        return _refused(request, lead, exc)
    return _done(request, lead, _("已记录跟进。"))


@access.staff_view
@require_POST
def lead_discard(request: HttpRequest, code: str) -> HttpResponse:
    lead = _editable_lead(request, code)
    try:
        actions.discard_lead(lead=lead, actor=request.user, reason=request.POST.get("reason", ""))
    except ActionError as exc:
        return _refused(request, lead, exc)
    return _done(request, lead, _("线索已标记为无效。"))


@access.staff_view
@require_http_methods(["GET", "POST"])
def lead_merge(request: HttpRequest, code: str) -> HttpResponse:
    lead = _editable_lead(request, code)
    form = MergeForm(
        request.POST or None, user=request.user, keep=lead, initial={"other": request.GET.get("other", "")}
    )
    if request.method == "POST" and form.is_valid():
        try:
            actions.merge_leads(keep=lead, merge=form.cleaned_data["other"], actor=request.user)
        except ActionError as exc:
            form.add_error(None, exc.message)
        else:
            return _done(
                request,
                lead,
                _("已将 %(other)s 合并到 %(code)s。")
                % {"other": form.cleaned_data["other"].code, "code": lead.code},
            )
    status = 400 if request.method == "POST" else 200
    return render(request, "investment/lead_merge.html", {"lead": lead, "form": form}, status=status)


@access.staff_view
@require_http_methods(["GET", "POST"])
def lead_qualify(request: HttpRequest, code: str) -> HttpResponse:
    lead = _editable_lead(request, code)
    if not lead.is_open:
        messages.error(request, _("线索 %(code)s 已关闭。") % {"code": lead.code})
        return redirect_after_post(request, lead.get_absolute_url())
    form = QualifyForm(
        request.POST or None,
        initial={
            "name": lead.company_name,
            "chain_node": lead.chain_node_id,
            "planned_investment": lead.planned_investment,
            "description": lead.interest,
            "stage": "contact",
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            project = actions.qualify_lead(lead=lead, actor=request.user, data=form.cleaned_data)
        except ActionError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("已转为项目 %(code)s。") % {"code": project.code})
            return redirect_after_post(request, project.get_absolute_url())
    status = 400 if request.method == "POST" else 200
    return render(request, "investment/lead_qualify.html", {"lead": lead, "form": form}, status=status)
