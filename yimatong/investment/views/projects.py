from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import segno
from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Sum
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from yimatong.accounts import access
from yimatong.accounts.models import Team, User
from yimatong.directory.forms import chain_choices
from yimatong.investment import events
from yimatong.investment.actions import projects as actions
from yimatong.investment.filters import PROJECT_FILTER_KEYS, projects_for
from yimatong.investment.forms import (
    ActivityForm,
    CapitalForm,
    ContractForm,
    DocumentForm,
    GateForm,
    MilestoneForm,
    ProblemForm,
    ProjectForm,
    SavedFilterForm,
    VisitForm,
)
from yimatong.investment.models import (
    EXITS,
    PIPELINE,
    Channel,
    InvestmentSettings,
    Light,
    Project,
    SavedFilter,
    Stage,
)
from yimatong.lib.errors import ActionError
from yimatong.lib.http import htmx_target, is_htmx, query_without_page, redirect_after_post

PAGE_SIZE = 20


def _project_queryset() -> Any:
    return Project.objects.select_related(
        "organization", "owner", "team", "chain_node", "supervised_by", "lead"
    )


def project_or_404(request: HttpRequest, code: str) -> Project:
    return access.get_visible_or_404(_project_queryset(), request.user, code=code)


def editable_project(request: HttpRequest, code: str) -> Project:
    project = project_or_404(request, code)
    access.deny_unless(access.can_change_project(request.user, project))
    return project


def _list_context(request: HttpRequest) -> dict[str, Any]:
    return {
        "stages": Stage.choices,
        "pipeline": PIPELINE,
        "chain_nodes": chain_choices(),
        "channels": Channel.choices,
        "lights": [(v, label) for v, label in Light.choices if v != Light.NONE],
        "teams": Team.objects.all(),
        "owners": User.objects.filter(is_active=True, role__in=[User.Role.PROMOTER, User.Role.TEAM_LEAD]),
        "saved_filters": SavedFilter.objects.filter(owner=request.user),
        "can_create": access.can_create_project(request.user),
        "query": query_without_page(request),
    }


@access.staff_view
def project_list(request: HttpRequest) -> HttpResponse:
    config = InvestmentSettings.current()
    qs, filters = projects_for(request.user, request.GET, config)
    qs = qs.select_related("organization", "owner", "chain_node").prefetch_related("insiders")
    by_stage = _board_totals(request.user, qs, filters).values()
    totals = {
        "count": sum(n for n, _planned, _contracted in by_stage),
        "planned": sum((planned for _n, planned, _contracted in by_stage), Decimal(0)),
        "contracted": sum((contracted for _n, _planned, contracted in by_stage), Decimal(0)),
    }
    paginator = Paginator(qs.order_by("-updated_at", "-pk"), PAGE_SIZE)
    paginator.count = totals["count"]  # counted above (a cached property of the paginator)
    page = paginator.get_page(request.GET.get("page"))
    rows = [(p, p.investor_label(request.user)) for p in page.object_list]
    context = {
        **_list_context(request),
        "page": page,
        "rows": rows,
        "filters": filters,
        "totals": totals,
        "save_form": SavedFilterForm(initial={"query": query_without_page(request)}),
    }
    template = "investment/project_list.html"
    if htmx_target(request) == "results":
        template += "#results"
    return render(request, template, context)


BOARD_CARDS = 12  # per column (a screen's height); "more" loads the next ones


@access.staff_view
def project_board(request: HttpRequest) -> HttpResponse:
    """Kanban by stage: each column's count and amounts for the filter, its latest cards and a
    "more" that loads the next ones. Cards are dragged between columns; the gate form opens
    when facts are missing."""
    config = InvestmentSettings.current()
    qs, filters = projects_for(request.user, request.GET, config)
    column = request.GET.get("column", "")
    if column:
        if column not in Stage.values:
            raise Http404
        ids, more = _board_column(qs, column, request.GET.get("after", ""))
        return render(
            request,
            "investment/project_board.html#more-cards",
            {
                "stage": Stage(column),
                "cards": _board_cards(request, [ids])[0],
                "more": more,
                "board_query": _board_query(request),
            },
        )
    totals = _board_totals(request.user, qs, filters)
    stages = [*PIPELINE, *EXITS]
    found = _board_first_columns(qs, stages)
    cards = _board_cards(request, [ids for ids, _more in found])
    columns = []
    for stage, column_cards, (_ids, more) in zip(stages, cards, found, strict=True):
        count, planned, contracted = totals.get(stage, (0, Decimal(0), Decimal(0)))
        columns.append((Stage(stage), column_cards, count, planned, contracted, more))
    context = {
        **_list_context(request),
        "filters": filters,
        "columns": columns,
        "signed_stages": SIGNED_AND_AFTER,
        "board_query": _board_query(request),
    }
    template = "investment/project_board.html"
    if htmx_target(request) == "board":
        template += "#board"
    return render(request, template, context)


SIGNED_AND_AFTER = [s.value for s in PIPELINE[PIPELINE.index(Stage.SIGNED) :]]


def _board_query(request: HttpRequest) -> str:
    query = request.GET.copy()
    for key in ("column", "after", "page"):
        query.pop(key, None)
    return query.urlencode()


def _board_totals(user: Any, qs: Any, filters: dict[str, Any]) -> dict[str, tuple[int, Decimal, Decimal]]:
    """Per stage: projects, planned and contracted investment (万元) for the filter — from the
    read aggregates when the filter is one they are kept by, else counted."""
    from yimatong.investment import rollups
    from yimatong.investment.filters import tally_scope

    scope = tally_scope(user, filters)
    if scope is not None:
        totals = rollups.stage_totals(scope)
        return {k: v for k, v in totals.items() if k in filters["stage"]} if filters["stage"] else totals
    rows = (
        Project.objects.filter(pk__in=qs.values("pk"))
        .order_by()
        .values_list("stage")
        .annotate(Count("pk"), Sum("planned_investment"), Sum("contracted_investment"))
    )
    return {
        stage: (n, planned or Decimal(0), contracted or Decimal(0)) for stage, n, planned, contracted in rows
    }


def _board_column(qs: Any, stage: str, after: str) -> tuple[list[int], str]:
    """A column's next cards (newest first) after the cursor "<updated_at>|<pk>", as project
    ids, and the cursor of the last one when more follow ("" otherwise). Only the ids and the
    order are read here: the cards of every column are read together (``_board_cards``)."""
    from django.db.models import Q
    from django.utils.dateparse import parse_datetime

    column = qs.filter(stage=stage)
    if after:
        when, _sep, pk = after.partition("|")
        moment = parse_datetime(when) if when else None
        if moment is None or not pk.isdigit():
            raise Http404
        column = column.filter(Q(updated_at__lt=moment) | Q(updated_at=moment, pk__lt=int(pk)))
    found = list(column.order_by("-updated_at", "-pk").values_list("pk", "updated_at")[: BOARD_CARDS + 1])
    shown = found[:BOARD_CARDS]
    more = f"{shown[-1][1].isoformat()}|{shown[-1][0]}" if len(found) > BOARD_CARDS else ""
    return [pk for pk, _at in shown], more


def _board_first_columns(qs: Any, stages: list[str]) -> list[tuple[list[int], str]]:
    """``_board_column(qs, stage, "")`` of every stage in one query: each column's first cards
    read by its own index-bounded query, the columns glued with UNION ALL."""
    from django.core.exceptions import EmptyResultSet

    parts, params = [], []
    for n, stage in enumerate(stages):
        column = (
            qs.filter(stage=stage).order_by("-updated_at", "-pk").values_list("pk", "updated_at", "stage")
        )
        try:
            sql, column_params = column[: BOARD_CARDS + 1].query.sql_with_params()
        except EmptyResultSet:  # a filter that matches nothing (an unknown chain code)
            return [([], "") for _stage in stages]
        parts.append(f"SELECT * FROM ({sql}) AS column{n}")
        params.extend(column_params)
    by_stage: dict[str, list[Project]] = {stage: [] for stage in stages}
    for project in Project.objects.raw(" UNION ALL ".join(parts), params, translations={"pk": "id"}):
        by_stage[project.stage].append(project)
    found = []
    for stage in stages:
        rows = sorted(by_stage[stage], key=lambda p: (p.updated_at, p.pk), reverse=True)
        shown = rows[:BOARD_CARDS]
        more = f"{shown[-1].updated_at.isoformat()}|{shown[-1].pk}" if len(rows) > BOARD_CARDS else ""
        found.append(([p.pk for p in shown], more))
    return found


@dataclass(frozen=True)
class Card:
    """A board card with what it prints already worked out (a column holds a dozen of them and
    the board eleven columns: cheaper here than in template filters)."""

    project: Project
    investor: str
    editable: bool
    url: str
    move_url: str
    amount: str


def _board_cards(request: HttpRequest, columns: list[list[int]]) -> list[list[Card]]:
    """The cards of every column, read in one query: the project, its investor as the user may
    see it, whether the user may move it."""
    ids = [pk for column in columns for pk in column]
    if not ids:
        return [[] for _column in columns]
    projects = {
        p.pk: p
        for p in Project.objects.filter(pk__in=ids)
        .with_light(InvestmentSettings.current())
        .select_related("organization", "owner")
        .only(*BOARD_CARD_FIELDS)
        .prefetch_related("insiders")
    }
    editable = set(Project.objects.editable_by(request.user).filter(pk__in=ids).values_list("pk", flat=True))
    user = request.user
    detail = reverse("investment:project_detail", args=["CODE"])
    move = reverse("investment:project_move", args=["CODE"])

    def card(p: Project) -> Card:
        return Card(
            project=p,
            investor=p.investor_label(user),
            editable=p.pk in editable,
            url=detail.replace("CODE", p.code),
            move_url=move.replace("CODE", p.code) if p.pk in editable else "",
            amount=f"{p.planned_investment:,.0f}" if p.planned_investment else "",
        )

    return [[card(projects[pk]) for pk in column if pk in projects] for column in columns]


# What a card shows (and what deciding who sees the investor needs).
BOARD_CARD_FIELDS = (
    "code",
    "name",
    "stage",
    "planned_investment",
    "is_major",
    "supervised_at",
    "last_progress_at",
    "updated_at",
    "codename",
    "owner__name",
    "owner__username",
    "organization__name",
)


@access.staff_view
@require_http_methods(["GET", "POST"])
def project_create(request: HttpRequest) -> HttpResponse:
    access.deny_unless(access.can_create_project(request.user))
    initial = {}
    org_code = request.GET.get("org")
    if org_code:
        from yimatong.directory.models import Organization

        org = Organization.objects.editable_by(request.user).filter(code=org_code).first()
        if org is not None:
            initial = {"organization": org.pk, "name": org.name, "chain_node": org.chain_node_id}
    form = ProjectForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST":
        if form.is_valid():
            try:
                project = actions.create_project(actor=request.user, data=form.action_data())
            except ActionError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("已创建项目 %(code)s。") % {"code": project.code})
                return redirect_after_post(request, project.get_absolute_url())
        return _project_form(request, form, None, status=400)
    return _project_form(request, form, None)


def _project_form(
    request: HttpRequest, form: ProjectForm, project: Project | None, status: int = 200
) -> HttpResponse:
    template = "investment/project_form.html"
    if is_htmx(request):
        template += "#form"
    return render(request, template, {"form": form, "project": project}, status=status)


@access.staff_view
@require_http_methods(["GET", "POST"])
def project_edit(request: HttpRequest, code: str) -> HttpResponse:
    project = editable_project(request, code)
    form = ProjectForm(request.POST or None, user=request.user, instance=project)
    if request.method == "POST":
        if form.is_valid():
            try:
                project = actions.update_project(
                    actor=request.user,
                    project=project,
                    data=form.action_data(),
                    version=form.cleaned_data.get("version"),
                )
            except ActionError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("已保存项目 %(code)s。") % {"code": project.code})
                return redirect_after_post(request, project.get_absolute_url())
        return _project_form(request, form, project, status=400)
    return _project_form(request, form, project)


@access.staff_view
def project_detail(request: HttpRequest, code: str) -> HttpResponse:
    from yimatong.investment.actions.work import score

    project = project_or_404(request, code)
    user = request.user
    can_change = access.can_change_project(user, project)
    config = InvestmentSettings.current()
    documents = [
        (doc, doc.latest())
        for doc in project.documents.prefetch_related("versions")
        if access.can_open_document(user, doc)
    ]
    capital = project.capital_in_place()
    reviews = list(project.admission_reviews.select_related("decided_by"))
    next_stage = None
    if project.stage not in EXITS and project.stage != Stage.FULL_CAPACITY:
        next_stage = PIPELINE[PIPELINE.index(project.stage) + 1]
    context = {
        "project": project,
        "investor": project.investor_label(user),
        "shows_investor": project.shows_investor_to(user),
        "can_change": can_change,
        "light": project.light_at(config),
        "config": config,
        "pipeline": PIPELINE,
        "stage_index": PIPELINE.index(project.stage) if project.stage in PIPELINE else -1,
        "next_stage": next_stage,
        "exits": EXITS,
        "back_stages": PIPELINE[: PIPELINE.index(project.stage)]
        if project.stage in PIPELINE
        else PIPELINE[:4],
        "timeline": events.timeline_for(project, user, limit=300),
        "activities": project.activities.select_related("created_by", "leader").prefetch_related(
            "participants"
        )[:50],
        "visits": project.site_visits.all()[:20],
        "documents": documents,
        "capital": capital,
        "capital_rows": project.capital_arrivals.all(),
        "capital_rate": (capital / project.contracted_investment * 100).quantize(Decimal("0.1"))
        if project.contracted_investment
        else None,
        "milestones": project.milestones.select_related("department"),
        "problems": project.problems.select_related("department"),
        "reviews": reviews,
        "can_supervise": access.can_supervise(user),
        "can_mark_major": access.can_mark_major(user),
        "activity_form": ActivityForm(),
        "visit_form": VisitForm(),
        "document_form": DocumentForm(),
        "upload_limit_mb": settings.DOCUMENT_MAX_MB,
        "capital_form": CapitalForm(),
        "milestone_form": MilestoneForm(),
        "problem_form": ProblemForm(),
        "contract_form": ContractForm(
            initial={
                "agreement_type": "formal",
                "signed_on": project.signed_on,
                "contracted_investment": project.contracted_investment,
            }
        ),
        "score_preview": score(project, judged={}, vetoes={}) if not reviews else None,
        "collaborators": project.collaborators.all(),
        "qr_url": request.build_absolute_uri(reverse("project_onecode", args=[project.qr_token])),
        "is_dispatched_department": access.role_of(user) == access.Role.SERVICE,
    }
    return render(request, "investment/project_detail.html", context)


# Stage moves ---------------------------------------------------------------------------------


@access.staff_view
@require_http_methods(["GET", "POST"])
def project_move(request: HttpRequest, code: str) -> HttpResponse:
    """GET: the gate form for ``?to=``. POST: move, or answer the form with what is missing.

    From the board (htmx), a move that needs nothing happens at once and the board reloads."""
    project = editable_project(request, code)
    to = request.POST.get("to") or request.GET.get("to", "")
    if to not in Stage.values:
        raise Http404
    form = GateForm(request.POST or None, project=project, to=to)
    if (
        request.method == "POST"
        and request.POST.get("probe")
        and not (form.is_empty and not form.needs_reason)
    ):
        # A card dropped on the board: facts or a reason are needed, so show the empty form first.
        form = GateForm(project=project, to=to)
        return _gate(request, project, to, form)
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                actions.move_stage(
                    actor=request.user,
                    project=project,
                    to=to,
                    facts=form.facts(),
                    reason=form.cleaned_data.get("reason", ""),
                    expected_stage=form.cleaned_data["expected_stage"],
                )
            except ActionError as exc:
                status = exc.status
                for field, errors in exc.fields.items():
                    for error in errors:
                        form.add_error(field if field in form.fields else None, error)
                if not exc.fields or not any(field in form.fields for field in exc.fields):
                    form.add_error(None, exc.message)
            else:
                messages.success(
                    request,
                    _("%(code)s 已推进到“%(stage)s”。") % {"code": project.code, "stage": Stage(to).label},
                )
                if is_htmx(request) and request.POST.get("from") == "board":
                    response = HttpResponse(status=204)
                    response["HX-Refresh"] = "true"
                    return response
                return redirect_after_post(request, project.get_absolute_url())
        return _gate(request, project, to, form, status=status)
    return _gate(request, project, to, form)


def _gate(request: HttpRequest, project: Project, to: str, form: GateForm, status: int = 200) -> HttpResponse:
    template = "investment/gate_form.html"
    if is_htmx(request):
        template += "#gate"
    return render(
        request,
        template,
        {
            "project": project,
            "to": Stage(to),
            "form": form,
            "from_board": request.GET.get("from") == "board" or request.POST.get("from") == "board",
        },
        status=status,
    )


@access.staff_view
@require_POST
def project_contract(request: HttpRequest, code: str) -> HttpResponse:
    project = editable_project(request, code)
    form = ContractForm(request.POST)
    if form.is_valid():
        try:
            actions.record_contract(actor=request.user, project=project, **form.cleaned_data)
        except ActionError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("已登记协议变更。"))
    else:
        messages.error(request, _("协议变更未保存：%(errors)s") % {"errors": _errors_text(form)})
    return redirect_after_post(request, project.get_absolute_url())


def _errors_text(form: Any) -> str:
    parts = []
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        parts.append(f"{label}：{errors[0]}" if label else errors[0])
    return "；".join(parts)


@access.staff_view
@require_POST
def project_supervise(request: HttpRequest, code: str) -> HttpResponse:
    project = project_or_404(request, code)
    access.deny_unless(access.can_supervise(request.user))
    if request.POST.get("lift") == "1":
        actions.lift_supervision(actor=request.user, project=project, note=request.POST.get("note", ""))
        messages.success(request, _("已解除督办。"))
    else:
        try:
            actions.supervise(actor=request.user, project=project, note=request.POST.get("note", ""))
        except ActionError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("已督办，项目负责人和团队负责人会在首页看到。"))
    return redirect_after_post(request, project.get_absolute_url())


@access.staff_view
@require_POST
def project_major(request: HttpRequest, code: str) -> HttpResponse:
    project = project_or_404(request, code)
    access.deny_unless(access.can_mark_major(request.user))
    actions.set_major(actor=request.user, project=project, is_major=request.POST.get("is_major") == "1")
    return redirect_after_post(request, project.get_absolute_url())


# Saved filters -------------------------------------------------------------------------------


@access.staff_view
@require_POST
def filter_save(request: HttpRequest) -> HttpResponse:
    form = SavedFilterForm(request.POST)
    if form.is_valid():
        from django.http import QueryDict

        query = QueryDict(form.cleaned_data["query"] or "")
        kept = urlencode(
            [(key, value) for key in PROJECT_FILTER_KEYS for value in query.getlist(key) if value]
        )
        SavedFilter.objects.update_or_create(
            owner=request.user, name=form.cleaned_data["name"], defaults={"query": kept}
        )
        messages.success(request, _("已保存常用筛选“%(name)s”。") % {"name": form.cleaned_data["name"]})
        return redirect(f"{reverse('investment:project_list')}?{kept}")
    messages.error(request, _("请填写常用筛选的名称。"))
    return redirect("investment:project_list")


@access.staff_view
@require_POST
def filter_delete(request: HttpRequest, pk: int) -> HttpResponse:
    saved = get_object_or_404(SavedFilter, pk=pk, owner=request.user)
    saved.delete()
    messages.success(request, _("已删除常用筛选“%(name)s”。") % {"name": saved.name})
    return redirect("investment:project_list")


# The project one-code ------------------------------------------------------------------------


@access.staff_view
def project_qr(request: HttpRequest, code: str, kind: str) -> HttpResponse:
    """The project's QR code for print (SVG) or screens (PNG), pointing at its one-code page."""
    project = project_or_404(request, code)
    target = request.build_absolute_uri(reverse("project_onecode", args=[project.qr_token]))
    qr = segno.make(target, error="m")
    import io

    buffer = io.BytesIO()
    if kind == "svg":
        qr.save(buffer, kind="svg", scale=6, border=2, dark="#0b3b38")
        content_type = "image/svg+xml"
    else:
        qr.save(buffer, kind="png", scale=8, border=2)
        content_type = "image/png"
    response = HttpResponse(buffer.getvalue(), content_type=content_type)
    response["Content-Disposition"] = f'inline; filename="{project.code}.{kind}"'
    return response


def project_onecode(request: HttpRequest, token: str) -> HttpResponse:
    """What scanning a project's code opens: staff who may see the project get its record; the
    investor's own contact (identified through WeChat, see the portal) and the registered
    enterprise's users get the progress view; anyone else learns nothing (404)."""
    project = (
        Project.objects.filter(qr_token=token).select_related("organization", "owner", "contact").first()
    )
    if project is None:
        raise Http404
    user = request.user
    if access.is_staff_member(user):
        if Project.objects.visible_to(user).filter(pk=project.pk).exists():
            return redirect(project.get_absolute_url())
        raise Http404
    if access.can_view_progress(request, project):
        return _progress(request, project)
    raise Http404


# What the investor (or the registered enterprise) sees: stage, next step, whom to call, shared files.
NEXT_STEP = {
    Stage.LEAD: gettext_lazy("招商专员将与您联系，了解项目需求。"),
    Stage.CONTACT: gettext_lazy("预约来园考察：实地了解园区、厂房与配套。"),
    Stage.VISIT: gettext_lazy("洽谈投资协议：落地条件、用地/厂房与支持政策。"),
    Stage.NEGOTIATION: gettext_lazy("确定协议文本，安排签约。"),
    Stage.SIGNED: gettext_lazy("办理企业注册登记（园区提供代办服务）。"),
    Stage.REGISTERED: gettext_lazy("办理规划、施工许可，开工建设。"),
    Stage.CONSTRUCTION: gettext_lazy("建设完成后设备调试、试生产。"),
    Stage.PRODUCTION: gettext_lazy("逐步达产；园区企业服务中心随时受理诉求。"),
    Stage.FULL_CAPACITY: gettext_lazy("项目已达产。园区企业服务中心随时为您服务。"),
    Stage.ON_HOLD: gettext_lazy("项目暂时搁置，请与招商专员联系。"),
    Stage.LOST: gettext_lazy("项目已终止。如有新的意向，欢迎随时咨询。"),
}


def _progress(request: HttpRequest, project: Project) -> HttpResponse:
    from yimatong.investment.models import Document, SiteVisit

    documents = []
    for document in project.documents.filter(visibility=Document.Visibility.INVESTOR):
        latest = document.latest()
        if latest is not None:
            documents.append((document, latest))
    return render(
        request,
        "investment/project_progress.html",
        {
            "project": project,
            "pipeline": PIPELINE,
            "stage_index": PIPELINE.index(project.stage) if project.stage in PIPELINE else -1,
            "next_step": NEXT_STEP.get(project.stage, ""),
            "documents": documents,
            "visits": project.site_visits.exclude(status=SiteVisit.Status.CANCELLED).order_by("-starts_at")[
                :5
            ],
        },
    )


def project_onecode_document(request: HttpRequest, token: str, doc: str) -> HttpResponse:
    """A file the team shared with the investor, downloaded from the progress page."""
    from yimatong.investment.models import Document

    project = Project.objects.filter(qr_token=token).first()
    if project is None or not access.can_view_progress(request, project):
        raise Http404
    document = get_object_or_404(project.documents, code=doc, visibility=Document.Visibility.INVESTOR)
    version = document.latest()
    if version is None:
        raise Http404
    return FileResponse(version.file.open("rb"), as_attachment=True, filename=version.original_name)
