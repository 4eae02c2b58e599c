"""Investment endpoints: leads, projects, stage moves, activities, milestones, problems and the
bureau's numbers. Same forms, same actions and the same access rules as the console."""

import datetime as dt
from decimal import Decimal
from typing import Any, Literal
from uuid import UUID

from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, Subquery
from django.db.models.functions import JSONObject
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from yimatong.accounts import access
from yimatong.accounts.models import Department, User
from yimatong.directory.models import ChainNode, Contact, Organization
from yimatong.investment import events, numbers
from yimatong.investment.actions import leads as lead_actions
from yimatong.investment.actions import projects as project_actions
from yimatong.investment.actions import work as work_actions
from yimatong.investment.filters import leads_for, projects_for
from yimatong.investment.forms import (
    ActivityForm,
    GateForm,
    LeadForm,
    MilestoneForm,
    ProblemForm,
    ProjectForm,
)
from yimatong.investment.models import InvestmentSettings, Lead, Milestone, Problem, Project
from yimatong.lib.errors import ActionError
from yimatong.lib.limits import IsoDate, column
from yimatong.lib.lookups import first_or_none
from yimatong.lib.pagination import LIST_ERRORS, Pagination
from yimatong.lib.pagination import Mapped as _Mapped
from yimatong.lib.search import JSONList, json_datetime

router = Router(tags=["investment"])

StageName = Literal[
    "lead",
    "contact",
    "visit",
    "negotiation",
    "signed",
    "registered",
    "construction",
    "production",
    "full_capacity",
    "on_hold",
    "lost",
]
ChannelName = Literal["wechat", "h5_form", "staff", "expo", "referral", "leader_visit", "import"]


class Ref(Schema):
    code: str
    name: str


class SourceOut(Schema):
    channel: str
    event: str
    qr_scene: str
    received_at: dt.datetime


class LeadOut(Schema):
    code: str
    company_name: str
    uscc: str
    contact_name: str
    contact_phone: str
    interest: str
    chain_node: str | None
    planned_investment: Decimal | None
    status: str
    owner: str | None
    team: str | None
    touched_at: dt.datetime
    sources: list[SourceOut]
    project: str | None


class LeadIn(Schema):
    company_name: str = Field(..., max_length=120)
    uscc: str = ""
    contact_name: str = ""
    contact_phone: str = ""
    chain_node: str | None = Field(None, description="chain node code")
    planned_investment: Decimal | None = column(Lead, "planned_investment", None, ge=0)
    interest: str = ""
    channel: ChannelName = "staff"
    event: str = ""
    referrer_name: str = ""
    confirm_duplicates: bool = Field(False, description="record it although it may duplicate another (撞单)")


class AssignIn(Schema):
    owner: str = Field(..., description="username")


class QualifyIn(Schema):
    name: str | None = None
    stage: Literal["contact", "visit", "negotiation"] = "contact"
    planned_investment: Decimal | None = column(Project, "planned_investment", None, ge=0)


class ProjectOut(Schema):
    code: str
    name: str
    investor: str = Field(..., description="the investor's name, or the codename for people not in the know")
    stage: str
    stage_label: str
    light: str
    chain_node: str | None
    planned_investment: Decimal | None
    contracted_investment: Decimal | None
    capital_in_place: Decimal
    owner: str
    team: str | None
    priority: str
    source_channel: str
    is_major: bool
    supervised: bool
    signed_on: IsoDate | None
    registered_organization: str | None
    version: int
    updated_at: dt.datetime


class ProjectFilters(Schema):
    q: str = ""
    stage: list[StageName] = Field(default_factory=list)
    chain: str = Field("", description="chain node code or id; nodes below included")
    owner: str = Field("", description="username or id")
    team: str = Field("", description="team code or id")
    min: Decimal | None = Field(None, description="minimum planned investment (万元)")
    max: Decimal | None = None
    source: str = ""
    light: Literal["", "green", "yellow", "red", "none"] = ""
    major: bool = False
    supervised: bool = False
    mine: bool = False


class ProjectIn(Schema):
    name: str = Field(..., max_length=150)
    organization: UUID = Field(..., description="the investor organization's code")
    contact: UUID | None = Field(None, description="contact code")
    chain_node: str | None = None
    stage: Literal["lead", "contact", "visit", "negotiation"] = "contact"
    source_channel: ChannelName = "staff"
    planned_investment: Decimal | None = column(Project, "planned_investment", None, ge=0)
    expected_output: Decimal | None = column(Project, "expected_output", None, ge=0)
    expected_tax: Decimal | None = column(Project, "expected_tax", None, ge=0)
    land_mu: Decimal | None = column(Project, "land_mu", None, ge=0)
    floor_area: Decimal | None = column(Project, "floor_area", None, ge=0)
    jobs: int | None = column(Project, "jobs", None, ge=0)
    priority: Literal["a", "b", "c"] = "b"
    description: str = ""
    owner: str | None = Field(None, description="username; team leads and admins only")
    codename: str = ""


class ProjectPatch(Schema):
    name: str | None = Field(None, max_length=150)
    chain_node: str | None = None
    planned_investment: Decimal | None = column(Project, "planned_investment", None, ge=0)
    expected_output: Decimal | None = column(Project, "expected_output", None, ge=0)
    expected_tax: Decimal | None = column(Project, "expected_tax", None, ge=0)
    land_mu: Decimal | None = column(Project, "land_mu", None, ge=0)
    floor_area: Decimal | None = column(Project, "floor_area", None, ge=0)
    jobs: int | None = column(Project, "jobs", None, ge=0)
    priority: Literal["a", "b", "c"] | None = None
    description: str | None = None
    version: int | None = Field(None, description="the version you read; a newer one answers 409")


class MoveIn(Schema):
    to: StageName
    expected_stage: StageName = Field(
        ..., description="the stage you saw; if it moved meanwhile the answer is 409"
    )
    reason: str = ""
    agreement_type: Literal["", "framework", "formal"] = ""
    signed_on: IsoDate | None = None
    contracted_investment: Decimal | None = column(Project, "contracted_investment", None, ge=0)
    registered_uscc: str = ""
    registered_name: str = ""
    registered_on: IsoDate | None = None
    construction_started_on: IsoDate | None = None
    fixed_asset_investment: Decimal | None = column(Project, "fixed_asset_investment", None, ge=0)
    production_started_on: IsoDate | None = None
    full_capacity_on: IsoDate | None = None


class EventOut(Schema):
    kind: str
    kind_label: str
    at: dt.datetime
    actor: str
    from_stage: str
    to_stage: str
    signed_amount: Decimal
    landed_amount: Decimal
    data: dict[str, Any]


class ActivityIn(Schema):
    kind: Literal["call", "visit", "meeting", "wechat", "site_visit", "leader_visit"]
    occurred_on: IsoDate
    summary: str = Field(..., max_length=200)
    notes: str = ""
    external_participants: str = ""
    leader: str | None = Field(None, description="username of the leader who led it")
    leader_name: str = ""
    next_follow_up_on: IsoDate | None = None


class ActivityOut(Schema):
    id: int
    kind: str
    occurred_on: IsoDate
    summary: str
    notes: str
    leader: str
    next_follow_up_on: IsoDate | None
    follow_up_done: bool
    created_by: str


class MilestoneIn(Schema):
    name: str = Field(..., max_length=120)
    planned_on: IsoDate
    actual_on: IsoDate | None = None
    department: str | None = Field(None, description="department code")
    note: str = ""


class MilestoneOut(Schema):
    id: int
    name: str
    planned_on: IsoDate
    actual_on: IsoDate | None
    department: str | None
    overdue: bool


class ProblemIn(Schema):
    description: str
    department: str = Field(..., description="department code")
    deadline: IsoDate
    status: Literal["open", "in_progress", "resolved"] = "open"
    resolution: str = ""
    version: int | None = None


class ProblemOut(Schema):
    id: int
    description: str
    department: str
    deadline: IsoDate
    status: str
    resolution: str
    resolved_on: IsoDate | None
    overdue: bool
    version: int


# Helpers -------------------------------------------------------------------------------------------


def _form_error(form: Any) -> ActionError:
    fields = {name: [str(e) for e in errors] for name, errors in form.errors.items()}
    first = next((errors[0] for errors in fields.values()), _("输入有误。"))
    code = (
        "duplicates" if any(e.code == "duplicates" for e in form.non_field_errors().as_data()) else "invalid"
    )
    if code == "duplicates":
        found = form.duplicates
        fields["duplicates"] = [o.name for o in found.organizations] + [
            f"{lead.code} {lead.company_name}" for lead in found.leads
        ]
    return ActionError(first, code=code, fields=fields)


def _pk(model: Any, field: str, value: Any, name: str) -> Any:
    if value in (None, ""):
        return None
    obj = first_or_none(model.objects.all(), **{field: value})
    if obj is None:
        raise ActionError(_("找不到 %(value)s。") % {"value": value}, fields={name: [_("不存在。")]})
    return obj.pk


def _lead_out(lead: Lead) -> dict[str, Any]:
    project = getattr(lead, "project", None) if lead.status == Lead.Status.QUALIFIED else None
    return {
        "code": lead.code,
        "company_name": lead.company_name,
        "uscc": lead.uscc,
        "contact_name": lead.contact_name,
        "contact_phone": lead.contact_phone,
        "interest": lead.interest,
        "chain_node": lead.chain_node.code if lead.chain_node else None,
        "planned_investment": lead.planned_investment,
        "status": lead.status,
        "owner": lead.owner.username if lead.owner else None,
        "team": lead.team.code if lead.team else None,
        "touched_at": lead.touched_at,
        "sources": _sources(lead),
        "project": project.code if project else None,
    }


def _sources(lead: Lead) -> list[dict[str, Any]]:
    if hasattr(lead, "sources_json"):  # a list page read them with the leads (``_with_sources``)
        rows = [{**s, "received_at": json_datetime(s["received_at"])} for s in lead.sources_json or []]
        rows.sort(key=lambda s: (s["received_at"], s["id"]))  # the model's ordering
        return [{key: s[key] for key in ("channel", "event", "qr_scene", "received_at")} for s in rows]
    return [
        {"channel": s.channel, "event": s.event, "qr_scene": s.qr_scene, "received_at": s.received_at}
        for s in lead.sources.all()
    ]


def _with_sources(qs: Any) -> Any:
    """The leads with their sources as one JSON list each, read in the same query: a page asks
    as many questions whether it has leads or not."""
    from yimatong.investment.models import LeadSource

    sources = (
        LeadSource.objects.filter(lead=OuterRef("pk"))
        .order_by()
        .values("lead")
        .annotate(
            rows=JSONList(
                JSONObject(
                    id="id", channel="channel", event="event", qr_scene="qr_scene", received_at="received_at"
                )
            )
        )
        .values("rows")
    )
    return qs.annotate(sources_json=Subquery(sources))


def _project_out(project: Project, user: User, capital: Decimal | None = None) -> dict[str, Any]:
    return {
        "code": project.code,
        "name": project.name,
        "investor": project.investor_label(user),
        "stage": project.stage,
        "stage_label": str(project.get_stage_display()),
        "light": getattr(project, "light", None) or project.light_at(),  # annotated in lists
        "chain_node": project.chain_node.code if project.chain_node else None,
        "planned_investment": project.planned_investment,
        "contracted_investment": project.contracted_investment,
        "capital_in_place": capital if capital is not None else project.capital_in_place(),
        "owner": project.owner.username,
        "team": project.team.code if project.team else None,
        "priority": project.priority,
        "source_channel": project.source_channel,
        "is_major": project.is_major,
        "supervised": project.supervised_at is not None,
        "signed_on": project.signed_on,
        "registered_organization": project.registered_organization.name
        if project.registered_organization
        else None,
        "version": project.version,
        "updated_at": project.updated_at,
    }


def _project(request: HttpRequest, code: str) -> Project:
    return access.get_visible_or_404(
        Project.objects.select_related(
            "organization", "owner", "team", "chain_node", "registered_organization"
        ),
        request.auth,
        code=code,
    )


def _editable(request: HttpRequest, code: str) -> Project:
    project = _project(request, code)
    if not access.can_change_project(request.auth, project):
        raise PermissionDenied
    return project


def _investment_staff(user: User) -> None:
    if access.role_of(user) not in (*access.INVESTMENT_STAFF, access.Role.LEADER):
        raise PermissionDenied


# Leads -----------------------------------------------------------------------------------------------


class LeadFilters(Schema):
    q: str = ""
    tab: Literal["mine", "pool", "team", "all"] = "all"
    status: str = ""
    channel: str = ""
    chain: str = ""


@router.get(
    "/leads",
    response={200: list[LeadOut], **LIST_ERRORS},
    summary="Leads you may see (the pool, yours, your team's)",
)
@paginate(Pagination)
def list_leads(request: HttpRequest, filters: Query[LeadFilters]) -> Any:
    _investment_staff(request.auth)
    qs, _applied = leads_for(request.auth, filters.dict())
    return _Mapped(_with_sources(qs.select_related("owner", "team", "chain_node", "project")), _lead_out)


@router.post(
    "/leads", response={201: LeadOut}, summary="Record a lead (duplicates answer 400 code=duplicates)"
)
def create_lead(request: HttpRequest, payload: LeadIn) -> Status:
    if not access.can_create_lead(request.auth):
        raise PermissionDenied
    data = payload.dict()
    data["chain_node"] = _pk(ChainNode, "code", data.get("chain_node"), "chain_node")
    form = LeadForm(data, user=request.auth)
    if not form.is_valid():
        raise _form_error(form)
    lead = lead_actions.create_lead(actor=request.auth, data=form.lead_data(), source=form.source_data())
    return Status(201, _lead_out(lead))


def _lead(request: HttpRequest, code: str) -> Lead:
    return access.get_visible_or_404(
        Lead.objects.select_related("owner", "team", "chain_node"), request.auth, code=code
    )


@router.get("/leads/{code}", response=LeadOut)
def get_lead(request: HttpRequest, code: str) -> dict[str, Any]:
    return _lead_out(_lead(request, code))


@router.post("/leads/{code}/claim", response=LeadOut, summary="Take a lead from the shared pool")
def claim_lead(request: HttpRequest, code: str) -> dict[str, Any]:
    lead = _lead(request, code)
    if not access.can_claim_lead(request.auth):
        raise PermissionDenied
    return _lead_out(lead_actions.claim_lead(lead=lead, actor=request.auth))


@router.post("/leads/{code}/assign", response=LeadOut, summary="Give a lead to a promoter (leads and admins)")
def assign_lead(request: HttpRequest, code: str, payload: AssignIn) -> dict[str, Any]:
    lead = _lead(request, code)
    if not (
        access.can_assign_lead(request.auth)
        and Lead.objects.filter(access.lead_edit_scope(request.auth), pk=lead.pk).exists()
    ):
        raise PermissionDenied
    owner = User.objects.filter(username=payload.owner).first()
    if owner is None:
        raise ActionError(
            _("没有用户 %(value)s。") % {"value": payload.owner}, fields={"owner": [_("不存在。")]}
        )
    lead_actions.assign_lead(lead=lead, actor=request.auth, owner=owner)
    return _lead_out(_lead(request, code))


@router.post("/leads/{code}/qualify", response={201: ProjectOut}, summary="Turn a lead into a project")
def qualify_lead(request: HttpRequest, code: str, payload: QualifyIn) -> Status:
    lead = _lead(request, code)
    if not Lead.objects.filter(access.lead_edit_scope(request.auth), pk=lead.pk).exists():
        raise PermissionDenied
    project = lead_actions.qualify_lead(lead=lead, actor=request.auth, data=payload.dict())
    return Status(201, _project_out(project, request.auth))


# Projects -------------------------------------------------------------------------------------------


def _project_rows(user: User) -> Any:
    """One page of projects in the answer's shape, with a single query for capital in place."""

    def rows(projects: list[Project]) -> list[dict[str, Any]]:
        from django.db.models import Sum

        from yimatong.investment.models import CapitalArrival

        capital = dict(
            CapitalArrival.objects.filter(project__in=[p.pk for p in projects])
            .values("project")
            .annotate(total=Sum("amount"))
            .values_list("project", "total")
        )
        return [_project_out(p, user, capital.get(p.pk, Decimal("0"))) for p in projects]

    return rows


@router.get(
    "/projects",
    response={200: list[ProjectOut], **LIST_ERRORS},
    summary="Projects you may see, filtered (q: Chinese, pinyin initials, English, code prefix)",
)
@paginate(Pagination)
def list_projects(request: HttpRequest, filters: Query[ProjectFilters]) -> Any:
    if not access.is_staff_member(request.auth):
        raise PermissionDenied
    params = {k: v for k, v in filters.dict().items() if v not in (None, "", [], False)}
    params = {k: ("1" if v is True else v) for k, v in params.items()}
    qs, _applied = projects_for(request.auth, params, InvestmentSettings.current())
    qs = (
        qs.select_related("organization", "owner", "team", "chain_node", "registered_organization")
        .prefetch_related("insiders")
        .order_by("-updated_at", "-pk")
    )
    return _Mapped(qs, rows=_project_rows(request.auth))


@router.post("/projects", response={201: ProjectOut}, summary="Create a project")
def create_project(request: HttpRequest, payload: ProjectIn) -> Status:
    user = request.auth
    if not access.can_create_project(user):
        raise PermissionDenied
    data = payload.dict()
    data["organization"] = _pk(Organization, "code", data["organization"], "organization")
    data["contact"] = _pk(Contact, "code", data.get("contact"), "contact")
    data["chain_node"] = _pk(ChainNode, "code", data.get("chain_node"), "chain_node")
    data["owner"] = _pk(User, "username", data.get("owner"), "owner")
    form = ProjectForm(data, user=user)
    if not form.is_valid():
        raise _form_error(form)
    project = project_actions.create_project(actor=user, data=form.action_data())
    return Status(201, _project_out(project, user, capital=Decimal("0")))  # no arrival yet


@router.get("/projects/{code}", response=ProjectOut)
def get_project(request: HttpRequest, code: str) -> dict[str, Any]:
    return _project_out(_project(request, code), request.auth)


@router.patch("/projects/{code}", response=ProjectOut, summary="Change some descriptive fields")
def patch_project(request: HttpRequest, code: str, payload: ProjectPatch) -> dict[str, Any]:
    project = _editable(request, code)
    changes = payload.dict(exclude_unset=True)
    version = changes.pop("version", None)
    if "chain_node" in changes:
        changes["chain_node"] = ChainNode.objects.filter(
            pk=_pk(ChainNode, "code", changes["chain_node"], "chain_node")
        ).first()
    project = project_actions.update_project(
        actor=request.auth, project=project, data=changes, version=version
    )
    return _project_out(project, request.auth)


@router.post(
    "/projects/{code}/move", response=ProjectOut, summary="Move to a stage (its gate's facts included)"
)
def move_project(request: HttpRequest, code: str, payload: MoveIn) -> dict[str, Any]:
    project = _editable(request, code)
    data = {k: v for k, v in payload.dict().items() if v not in (None, "")}
    form = GateForm({**data, "expected_stage": payload.expected_stage}, project=project, to=payload.to)
    if not form.is_valid():
        raise _form_error(form)
    moved = project_actions.move_stage(
        actor=request.auth,
        project=project,
        to=payload.to,
        facts=form.facts(),
        reason=payload.reason,
        expected_stage=payload.expected_stage,
    )
    return _project_out(moved, request.auth)


@router.get("/projects/{code}/events", response=list[EventOut], summary="The project's timeline")
def project_events(request: HttpRequest, code: str) -> list[dict[str, Any]]:
    project = _project(request, code)
    return [
        {
            "kind": e.kind,
            "kind_label": str(e.get_kind_display()),
            "at": e.at,
            "actor": e.actor.display_name if e.actor else "",
            "from_stage": e.from_stage,
            "to_stage": e.to_stage,
            "signed_amount": e.signed_amount,
            "landed_amount": e.landed_amount,
            "data": e.data,
        }
        for e in events.timeline_for(project, request.auth, limit=500)
    ]


def _activity_out(a: Any) -> dict[str, Any]:
    return {
        "id": a.pk,
        "kind": a.kind,
        "occurred_on": a.occurred_on,
        "summary": a.summary,
        "notes": a.notes,
        "leader": a.leader.display_name if a.leader else a.leader_name,
        "next_follow_up_on": a.next_follow_up_on,
        "follow_up_done": a.follow_up_done,
        "created_by": a.created_by.display_name if a.created_by else "",
    }


@router.get("/projects/{code}/activities", response=list[ActivityOut])
def project_activities(request: HttpRequest, code: str) -> list[dict[str, Any]]:
    project = _project(request, code)
    return [_activity_out(a) for a in project.activities.select_related("created_by", "leader")]


@router.post("/projects/{code}/activities", response={201: ActivityOut})
def add_activity(request: HttpRequest, code: str, payload: ActivityIn) -> Status:
    project = _editable(request, code)
    data = payload.dict()
    data["leader"] = _pk(User, "username", data.get("leader"), "leader")
    form = ActivityForm(data)
    if not form.is_valid():
        raise _form_error(form)
    activity = work_actions.add_activity(actor=request.auth, project=project, data=form.cleaned_data)
    return Status(201, _activity_out(activity))


def _dispatched_form(form_class: type, payload: Schema, *, item: Any = None, user: Any = None) -> Any:
    """Validate a milestone or problem payload; the department is given by its code. On an
    update by the department it is dispatched to, what it was asked keeps its stored values."""
    data = payload.dict()
    data["department"] = _pk(Department, "code", data.get("department"), "department")
    if item is None:
        form = form_class(data)
    else:
        form = form_class(
            data,
            initial=form_class.initial_from(item),
            reporting_only=not access.can_change_project(user, item.project),
        )
    if not form.is_valid():
        raise _form_error(form)
    return form


def _milestone_out(m: Milestone) -> dict[str, Any]:
    return {
        "id": m.pk,
        "name": m.name,
        "planned_on": m.planned_on,
        "actual_on": m.actual_on,
        "department": m.department.code if m.department else None,
        "overdue": m.is_overdue(),
    }


@router.get("/projects/{code}/milestones", response=list[MilestoneOut])
def project_milestones(request: HttpRequest, code: str) -> list[dict[str, Any]]:
    return [_milestone_out(m) for m in _project(request, code).milestones.select_related("department")]


@router.post("/projects/{code}/milestones", response={201: MilestoneOut})
def add_milestone(request: HttpRequest, code: str, payload: MilestoneIn) -> Status:
    project = _editable(request, code)
    form = _dispatched_form(MilestoneForm, payload)
    milestone = work_actions.add_milestone(actor=request.auth, project=project, data=form.cleaned_data)
    return Status(201, _milestone_out(milestone))


@router.patch(
    "/milestones/{milestone_id}", response=MilestoneOut, summary="Update a milestone (e.g. its actual date)"
)
def patch_milestone(request: HttpRequest, milestone_id: int, payload: MilestoneIn) -> dict[str, Any]:
    milestone = get_object_or_404(Milestone.objects.select_related("project"), pk=milestone_id)
    project = _project(request, milestone.project.code)
    if not access.can_update_dispatched_item(request.auth, milestone, project):
        raise PermissionDenied
    form = _dispatched_form(MilestoneForm, payload, item=milestone, user=request.auth)
    return _milestone_out(
        work_actions.update_milestone(actor=request.auth, milestone=milestone, data=form.cleaned_data)
    )


def _problem_out(p: Problem) -> dict[str, Any]:
    return {
        "id": p.pk,
        "description": p.description,
        "department": p.department.code,
        "deadline": p.deadline,
        "status": p.status,
        "resolution": p.resolution,
        "resolved_on": p.resolved_on,
        "overdue": p.is_overdue(),
        "version": p.version,
    }


@router.get("/projects/{code}/problems", response=list[ProblemOut])
def project_problems(request: HttpRequest, code: str) -> list[dict[str, Any]]:
    return [_problem_out(p) for p in _project(request, code).problems.select_related("department")]


@router.post("/projects/{code}/problems", response={201: ProblemOut})
def add_problem(request: HttpRequest, code: str, payload: ProblemIn) -> Status:
    project = _editable(request, code)
    form = _dispatched_form(ProblemForm, payload)
    problem = work_actions.raise_problem(actor=request.auth, project=project, data=form.cleaned_data)
    return Status(201, _problem_out(problem))


@router.patch("/problems/{problem_id}", response=ProblemOut, summary="Update a problem (status, resolution)")
def patch_problem(request: HttpRequest, problem_id: int, payload: ProblemIn) -> dict[str, Any]:
    problem = get_object_or_404(Problem.objects.select_related("project", "department"), pk=problem_id)
    project = _project(request, problem.project.code)
    if not access.can_update_dispatched_item(request.auth, problem, project):
        raise PermissionDenied
    form = _dispatched_form(ProblemForm, payload, item=problem, user=request.auth)
    updated = work_actions.update_problem(
        actor=request.auth, problem=problem, data=form.cleaned_data, version=payload.version
    )
    return _problem_out(updated)


# Numbers ---------------------------------------------------------------------------------------------


class NumbersQuery(Schema):
    year: int | None = Field(None, ge=2000, le=2100)
    start: IsoDate | None = None
    end: IsoDate | None = None


@router.get("/investment/numbers", summary="Funnel, signed/landed investment, rates, time in stage")
def investment_numbers(request: HttpRequest, query: Query[NumbersQuery]) -> dict[str, Any]:
    if not access.is_staff_member(request.auth):
        raise PermissionDenied
    period = numbers.Period.from_params(
        {
            k: (v.isoformat() if isinstance(v, dt.date) else str(v))
            for k, v in query.dict().items()
            if v is not None
        }
    )
    return numbers.summary_for(request.auth, period=period)
