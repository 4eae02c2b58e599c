from __future__ import annotations

import calendar
import datetime as dt
from typing import Any

from django.contrib import messages
from django.db.models import Count, F, Window
from django.db.models.functions import RowNumber, TruncDate
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from yimatong.accounts import access
from yimatong.investment.actions import work as actions
from yimatong.investment.forms import (
    ActivityForm,
    AdmissionForm,
    CapitalForm,
    DocumentForm,
    MilestoneForm,
    ProblemForm,
    VersionForm,
    VisitForm,
    VisitStatusForm,
)
from yimatong.investment.models import Document, Lead, Milestone, Problem, Project, ScoreItem, SiteVisit
from yimatong.investment.views.projects import _errors_text, editable_project, project_or_404
from yimatong.lib.errors import ActionError
from yimatong.lib.http import redirect_after_post


def _after(request: HttpRequest, project: Project, form: Any, ok: str) -> HttpResponse:
    if form is not None and form.errors:
        messages.error(request, _("未保存：%(errors)s") % {"errors": _errors_text(form)})
    else:
        messages.success(request, ok)
    return redirect_after_post(request, project.get_absolute_url() + request.POST.get("anchor", ""))


@access.staff_view
@require_POST
def activity_create(request: HttpRequest, code: str) -> HttpResponse:
    project = editable_project(request, code)
    form = ActivityForm(request.POST)
    if form.is_valid():
        actions.add_activity(actor=request.user, project=project, data=form.cleaned_data)
    return _after(request, project, form, _("已记录跟进活动。"))


@access.staff_view
@require_POST
def lead_activity_create(request: HttpRequest, code: str) -> HttpResponse:
    lead = access.get_visible_or_404(Lead.objects.all(), request.user, code=code)
    access.deny_unless(Lead.objects.filter(access.lead_edit_scope(request.user), pk=lead.pk).exists())
    form = ActivityForm(request.POST)
    if form.is_valid():
        actions.add_activity(actor=request.user, lead=lead, data=form.cleaned_data)
        messages.success(request, _("已记录跟进活动。"))
    else:
        messages.error(request, _("未保存：%(errors)s") % {"errors": _errors_text(form)})
    return redirect_after_post(request, lead.get_absolute_url())


@access.staff_view
@require_POST
def visit_create(request: HttpRequest, code: str) -> HttpResponse:
    project = editable_project(request, code)
    form = VisitForm(request.POST)
    if form.is_valid():
        actions.schedule_visit(actor=request.user, project=project, data=form.cleaned_data)
    return _after(request, project, form, _("已安排考察，已加入招商日历。"))


@access.staff_view
@require_POST
def visit_status(request: HttpRequest, pk: int) -> HttpResponse:
    visit = get_object_or_404(SiteVisit.objects.select_related("project", "lead"), pk=pk)
    target = visit.project or visit.lead
    if visit.project is not None:
        project = project_or_404(request, visit.project.code)
        access.deny_unless(access.can_change_project(request.user, project))
    else:
        lead = access.get_visible_or_404(Lead.objects.all(), request.user, pk=visit.lead_id)
        access.deny_unless(Lead.objects.filter(access.lead_edit_scope(request.user), pk=lead.pk).exists())
    form = VisitStatusForm(request.POST)
    if form.is_valid():
        actions.set_visit_status(actor=request.user, visit=visit, status=form.cleaned_data["status"])
        messages.success(request, _("考察状态已更新。"))
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = target.get_absolute_url()
    return redirect_after_post(request, next_url)


VISITS_PER_DAY = 4
PENDING_SHOWN = 20


@access.staff_view
def visit_calendar(request: HttpRequest) -> HttpResponse:
    """The investment calendar: site visits of the projects and leads the user may see, by month."""
    today = timezone.localdate()
    try:
        year, month = int(request.GET.get("year", today.year)), int(request.GET.get("month", today.month))
        first = dt.date(year, month, 1)
    except ValueError:
        first = today.replace(day=1)
    last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    start = timezone.make_aware(dt.datetime.combine(first, dt.time.min))
    end = timezone.make_aware(dt.datetime.combine(last, dt.time.max))
    visible_projects = Project.objects.visible_to(request.user).values("pk")
    visible_leads = Lead.objects.visible_to(request.user).values("pk")
    visits = SiteVisit.objects.filter(starts_at__range=(start, end))
    if access.project_scope(request.user) or access.lead_scope(request.user):  # Q() sees everything
        visits = visits.filter(_q_project_or_lead(visible_projects, visible_leads))
    # Each day shows its first few visits and how many more there are (a city books hundreds
    # a month): the counts by day, then the first ones of each day by a window.
    day = TruncDate("starts_at", tzinfo=timezone.get_current_timezone())
    counts = dict(visits.annotate(day=day).order_by().values_list("day").annotate(n=Count("pk")))
    first_of_day = (
        visits.annotate(
            day=day,
            rank=Window(RowNumber(), partition_by=[day], order_by=[F("starts_at").asc(), F("pk").asc()]),
        )
        .filter(rank__lte=VISITS_PER_DAY)
        .select_related("project", "lead")
        .order_by("starts_at", "pk")
    )
    by_day: dict[dt.date, list[SiteVisit]] = {}
    for visit in first_of_day:
        by_day.setdefault(visit.day, []).append(visit)
    weeks = [
        [
            (
                day,
                by_day.get(day, []),
                day.month == first.month,
                counts.get(day, 0) - len(by_day.get(day, [])),
            )
            for day in week
        ]
        for week in calendar.Calendar(firstweekday=0).monthdatescalendar(first.year, first.month)
    ]
    pending = visits.filter(status=SiteVisit.Status.REQUESTED).select_related("project", "lead")
    previous = (first - dt.timedelta(days=1)).replace(day=1)
    following = last + dt.timedelta(days=1)
    return render(
        request,
        "investment/calendar.html",
        {
            "weeks": weeks,
            "month": first,
            "previous": previous,
            "following": following,
            "today": today,
            "weekday_names": [WEEKDAYS_ABBR[day] for day in range(7)],
            "pending": pending.order_by("starts_at", "pk")[:PENDING_SHOWN],
            "pending_count": pending.count(),
        },
    )


def _q_project_or_lead(projects: Any, leads: Any) -> Any:
    from django.db.models import Q

    return Q(project__in=projects) | Q(lead__in=leads)


# Documents -----------------------------------------------------------------------------------


@access.staff_view
@require_POST
def document_create(request: HttpRequest, code: str) -> HttpResponse:
    project = editable_project(request, code)
    form = DocumentForm(request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        actions.upload_document(
            actor=request.user,
            project=project,
            kind=data["kind"],
            title=data["title"],
            visibility=data["visibility"],
            upload=data["file"],
            note=data["note"],
        )
    return _after(request, project, form, _("已上传文件。"))


def _document(request: HttpRequest, code: str, doc: str) -> Document:
    project = project_or_404(request, code)
    document = get_object_or_404(Document.objects.select_related("project"), code=doc, project=project)
    if not access.can_open_document(request.user, document):
        raise Http404
    return document


@access.staff_view
@require_POST
def document_version(request: HttpRequest, code: str, doc: str) -> HttpResponse:
    document = _document(request, code, doc)
    access.deny_unless(access.can_change_project(request.user, document.project))
    form = VersionForm(request.POST, request.FILES)
    if form.is_valid():
        actions.upload_document(
            actor=request.user,
            project=document.project,
            kind=document.kind,
            title=document.title,
            visibility=document.visibility,
            upload=form.cleaned_data["file"],
            note=form.cleaned_data["note"],
            document=document,
        )
    return _after(request, document.project, form, _("已上传新版本。"))


@access.staff_view
def document_download(request: HttpRequest, code: str, doc: str, number: int) -> HttpResponse:
    document = _document(request, code, doc)
    version = get_object_or_404(document.versions, number=number)
    return FileResponse(version.file.open("rb"), as_attachment=True, filename=version.original_name)


# Capital, milestones, problems -------------------------------------------------------------


@access.staff_view
@require_POST
def capital_create(request: HttpRequest, code: str) -> HttpResponse:
    project = editable_project(request, code)
    form = CapitalForm(request.POST)
    if form.is_valid():
        try:
            actions.record_capital(actor=request.user, project=project, **form.cleaned_data)
        except ActionError as exc:
            form.add_error(None, exc.message)
    return _after(request, project, form, _("已登记到位资金。"))


@access.staff_view
@require_POST
def milestone_create(request: HttpRequest, code: str) -> HttpResponse:
    project = editable_project(request, code)
    form = MilestoneForm(request.POST)
    if form.is_valid():
        actions.add_milestone(actor=request.user, project=project, data=form.cleaned_data)
    return _after(request, project, form, _("已添加计划节点。"))


def _edit_dispatched(request, item, *, form_class, save, done, title) -> HttpResponse:
    """Edit a milestone or problem in place: the project's editors change everything, the
    department it is dispatched to reports on it (see ``DispatchedItemForm``)."""
    project = project_or_404(request, item.project.code)
    access.deny_unless(access.can_update_dispatched_item(request.user, item, project))
    form = form_class(
        request.POST or None,
        initial=form_class.initial_from(item),
        reporting_only=not access.can_change_project(request.user, project),
    )
    if request.method == "POST" and form.is_valid():
        try:
            save(form.cleaned_data)
        except ActionError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, done)
            return redirect_after_post(request, project.get_absolute_url() + "#major")
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "investment/item_form.html",
        {"form": form, "project": project, "item": item, "title": title},
        status=status,
    )


@access.staff_view
@require_http_methods(["GET", "POST"])
def milestone_edit(request: HttpRequest, pk: int) -> HttpResponse:
    milestone = get_object_or_404(Milestone.objects.select_related("project"), pk=pk)
    return _edit_dispatched(
        request,
        milestone,
        form_class=MilestoneForm,
        save=lambda data: actions.update_milestone(actor=request.user, milestone=milestone, data=data),
        done=_("已更新计划节点。"),
        title=_("计划节点"),
    )


@access.staff_view
@require_POST
def problem_create(request: HttpRequest, code: str) -> HttpResponse:
    project = editable_project(request, code)
    form = ProblemForm(request.POST)
    if form.is_valid():
        actions.raise_problem(actor=request.user, project=project, data=form.cleaned_data)
    return _after(request, project, form, _("已加入问题清单。"))


@access.staff_view
@require_http_methods(["GET", "POST"])
def problem_edit(request: HttpRequest, pk: int) -> HttpResponse:
    problem = get_object_or_404(Problem.objects.select_related("project"), pk=pk)
    return _edit_dispatched(
        request,
        problem,
        form_class=ProblemForm,
        save=lambda data: actions.update_problem(
            actor=request.user, problem=problem, data=data, version=data.get("version")
        ),
        done=_("问题已更新。"),
        title=_("问题"),
    )


# Admission review ------------------------------------------------------------------------------


@access.staff_view
@require_http_methods(["GET", "POST"])
def admission_review(request: HttpRequest, code: str) -> HttpResponse:
    project = editable_project(request, code)
    form = AdmissionForm(request.POST or None)
    preview = actions.score(
        project,
        judged=form.judged() if form.is_bound and form.is_valid() else {},
        vetoes=form.vetoes() if form.is_bound and form.is_valid() else {},
    )
    if request.method == "POST" and form.is_valid():
        try:
            actions.review_admission(
                actor=request.user,
                project=project,
                judged=form.judged(),
                vetoes=form.vetoes(),
                decision=form.cleaned_data["decision"],
                opinion=form.cleaned_data["opinion"],
            )
        except ActionError as exc:
            for field, errors in exc.fields.items():
                form.add_error(field if field in form.fields else None, errors[0])
        else:
            messages.success(request, _("准入评审已保存。"))
            return redirect_after_post(request, project.get_absolute_url() + "#admission")
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "investment/admission_form.html",
        {
            "project": project,
            "form": form,
            "preview": preview,
            "has_items": ScoreItem.objects.filter(is_active=True).exists(),
            "settings_url": reverse("investment:settings"),
        },
        status=status,
    )
