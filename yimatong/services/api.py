"""Demands in the JSON API: the same access rules and steps as the console."""

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.utils import timezone
from ninja import Body, Query, Router, Schema, Status
from ninja.pagination import paginate

from yimatong.accounts import access
from yimatong.lib.errors import ActionError
from yimatong.lib.pagination import Mapped, Pagination
from yimatong.services import actions, forms
from yimatong.services.kpis import department_kpis
from yimatong.services.models import Demand, DemandCategory, calendar_overrides
from yimatong.services.steps import STEPS, available_steps, steps_in_any_status

router = Router(tags=["services"])


class DemandOut(Schema):
    code: str
    title: str
    description: str
    organization: str
    category: str
    urgency: str
    status: str
    lead_department: str | None
    deadline: dt.date | None
    deadline_provisional: bool
    working_days_left: int | None
    ladder: int
    redo_count: int
    rating: str
    created_at: dt.datetime
    steps: list[str]


class DemandIn(Schema):
    category: str  # the category's code
    title: str
    description: str
    urgency: str = "normal"
    organization: int | None = None  # the centre files on an enterprise's behalf


class DemandFilters(Schema):
    status: str = ""


class KpiOut(Schema):
    department: str
    dispatched: int
    completion_rate: float | None
    on_time_rate: float | None
    satisfaction_rate: float | None
    follow_up_rate: float | None
    redo_rate: float | None
    return_rate: float | None
    avg_response_hours: float | None
    avg_handling_hours: float | None


def _reader(user: Any) -> None:
    if not access.can_use_services(user):
        raise PermissionDenied


def _out(demand: Demand, user: Any, overrides: dict | None = None) -> dict[str, Any]:
    state = demand.clock(overrides=overrides)
    return {
        "code": demand.code,
        "title": demand.title,
        "description": demand.description,
        "organization": demand.organization.name,
        "category": demand.category.code,
        "urgency": demand.urgency,
        "status": demand.status,
        "lead_department": demand.lead_department.code if demand.lead_department_id else None,
        "deadline": demand.deadline,
        "deadline_provisional": demand.deadline_provisional,
        "working_days_left": state.get("left"),
        "ladder": demand.ladder,
        "redo_count": demand.redo_count,
        "rating": demand.rating,
        "created_at": demand.created_at,
        "steps": list(available_steps(user, demand)),
    }


def _demand(request: HttpRequest, code: str) -> Demand:
    demand = (
        Demand.objects.visible_to(request.auth)
        .select_related("organization", "category", "lead_department")
        .filter(code=code)
        .first()
    )
    if demand is None:
        raise Http404
    return demand


@router.get("/demands", response=list[DemandOut], summary="Demands you may see")
@paginate(Pagination)
def list_demands(request: HttpRequest, filters: Query[DemandFilters]) -> Any:
    _reader(request.auth)
    qs = Demand.objects.visible_to(request.auth).select_related("organization", "category", "lead_department")
    if filters.status:
        qs = qs.filter(status=filters.status)
    overrides = calendar_overrides()
    return Mapped(qs, lambda d: _out(d, request.auth, overrides))


@router.post("/demands", response={201: DemandOut}, summary="File a demand")
def create_demand(request: HttpRequest, payload: DemandIn) -> Any:
    _reader(request.auth)
    if not access.can_file_demand(request.auth):
        raise PermissionDenied
    category = DemandCategory.objects.filter(code=payload.category, is_active=True).first()
    data = payload.dict()
    data["category"] = category.pk if category else None
    form = forms.DemandForm(data, on_behalf=access.role_of(request.auth) != "enterprise")
    if not form.is_valid():
        raise ActionError(
            str(next(iter(form.errors.values()))[0]),
            fields={k: [str(e) for e in v] for k, v in form.errors.items()},
        )
    demand = actions.file_demand(actor=request.auth, data=form.cleaned_data)
    return Status(201, _out(demand, request.auth))


@router.get(
    "/demands/kpis", response=list[KpiOut], summary="Department KPIs for demands dispatched in a period"
)
def demand_kpis(request: HttpRequest, start: dt.date | None = None, end: dt.date | None = None) -> Any:
    if access.role_of(request.auth) not in ("admin", "leader", "service"):
        raise PermissionDenied
    today = timezone.localdate()
    rows = department_kpis(
        Demand.objects.visible_to(request.auth), start or today.replace(day=1), end or today
    )
    return [
        {
            "department": r.department.code,
            "dispatched": r.dispatched,
            "completion_rate": r.completion_rate,
            "on_time_rate": r.on_time_rate,
            "satisfaction_rate": r.satisfaction_rate,
            "follow_up_rate": r.follow_up_rate,
            "redo_rate": r.redo_rate,
            "return_rate": r.return_rate,
            "avg_response_hours": r.avg_response_hours,
            "avg_handling_hours": r.avg_handling_hours,
        }
        for r in rows
    ]


@router.get("/demands/{code}", response=DemandOut, summary="One demand, with the steps you may take now")
def get_demand(request: HttpRequest, code: str) -> Any:
    _reader(request.auth)
    return _out(_demand(request, code), request.auth)


@router.post(
    "/demands/{code}/steps/{step}", response=DemandOut, summary="Take a step of the demand's lifecycle"
)
def take_step(request: HttpRequest, code: str, step: str, payload: dict = Body(default=None)) -> Any:  # noqa: B008
    _reader(request.auth)
    if step not in STEPS:
        raise Http404
    demand = _demand(request, code)
    if step not in available_steps(request.auth, demand):
        if step in steps_in_any_status(request.auth, demand):
            raise ActionError(f"{demand.code}: {demand.get_status_display()}", code="illegal_transition")
        raise PermissionDenied
    form_class, action, arguments, _done = STEPS[step]
    cleaned: dict[str, Any] = {}
    if form_class is not None:
        form = form_class(payload or {})
        if not form.is_valid():
            raise ActionError(
                str(next(iter(form.errors.values()))[0]),
                fields={k: [str(e) for e in v] for k, v in form.errors.items()},
            )
        cleaned = form.cleaned_data
    demand = action(actor=request.auth, demand=demand, **arguments(cleaned))
    return _out(demand, request.auth)
