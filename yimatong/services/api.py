"""Demands in the JSON API: the same access rules and steps as the console."""

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Body, Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from yimatong.accounts import access
from yimatong.accounts.models import User
from yimatong.directory.models import Organization
from yimatong.lib.errors import ActionError
from yimatong.lib.limits import IsoDate, column
from yimatong.lib.pagination import LIST_ERRORS, Mapped, Pagination
from yimatong.services import actions, application_actions, care_actions, forms, policy_actions
from yimatong.services.kpis import department_kpis
from yimatong.services.models import (
    Application,
    BankProduct,
    Demand,
    DemandCategory,
    PlanItem,
    PlanProgress,
    Policy,
    PolicyMatch,
    Referral,
    ServicePlan,
    WorkCalendarDay,
    calendar_overrides,
)
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
    deadline: IsoDate | None
    deadline_provisional: bool
    statutory_deadline: dt.date | None
    statutory_provisional: bool
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
        "statutory_deadline": demand.statutory_deadline,
        "statutory_provisional": demand.statutory_provisional,
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


@router.get("/demands", response={200: list[DemandOut], **LIST_ERRORS}, summary="Demands you may see")
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
def demand_kpis(request: HttpRequest, start: IsoDate | None = None, end: IsoDate | None = None) -> Any:
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


# Policies, matches, applications, plans, financing (read) ---------------------------------------------


class PolicyOut(Schema):
    code: str
    title: str
    issuer: str
    document_number: str
    mode: str
    benefit: str
    amount: Decimal | None
    valid_from: IsoDate | None
    valid_to: IsoDate | None
    version: int
    conditions: dict
    budget: Decimal | None
    disbursed: Decimal


class MatchOut(Schema):
    policy: str
    organization: str
    status: str
    pass_rate: Decimal
    missing: list[str]
    unknown: list[str]
    estimated_amount: Decimal | None
    not_interested: bool
    payout: str


class ApplicationOut(Schema):
    code: str
    policy: str
    organization: str
    status: str
    amount_requested: Decimal | None
    amount_paid: Decimal | None
    paid_on: IsoDate | None
    updated_at: dt.datetime


class PlanOut(Schema):
    id: int
    organization: str
    officer: str
    actions: int
    actions_done: int
    problems: int
    problems_open: int
    overdue: int


class NeedOut(Schema):
    id: int
    organization: str
    amount: Decimal
    term_months: int
    collateral: str
    status: str
    referrals: list[dict]


def _policy_reader(user: Any) -> None:
    if not (access.can_read_policies(user) or access.role_of(user) == "enterprise"):
        raise PermissionDenied


def _match_out(m: PolicyMatch) -> dict[str, Any]:
    return {
        "policy": m.policy.code,
        "organization": m.organization.name,
        "status": m.status,
        "pass_rate": m.pass_rate,
        "missing": m.missing,
        "unknown": m.unknown,
        "estimated_amount": m.estimated_amount,
        "not_interested": m.not_interested,
        "payout": m.payout,
    }


@router.get(
    "/policies",
    response={200: list[PolicyOut], **LIST_ERRORS},
    summary="The policy library (published policies for enterprises)",
)
@paginate(Pagination)
def list_policies(request: HttpRequest) -> Any:
    _policy_reader(request.auth)
    qs = Policy.objects.all()
    if access.role_of(request.auth) == "enterprise":
        qs = qs.filter(is_published=True)
    return qs


@router.get(
    "/policies/{code}/matches",
    response={200: list[MatchOut], **LIST_ERRORS},
    summary="The enterprises a policy matches",
)
@paginate(Pagination)
def policy_matches(request: HttpRequest, code: str, status: str = "met") -> Any:
    if not access.can_read_policies(request.auth):
        raise PermissionDenied
    policy = Policy.objects.filter(code=code).first()
    if policy is None:
        raise Http404
    return Mapped(policy.matches.filter(status=status).select_related("policy", "organization"), _match_out)


@router.get(
    "/my/policy-matches",
    response={200: list[MatchOut], **LIST_ERRORS},
    summary="Your enterprise's policies, with what is missing",
)
@paginate(Pagination)
def my_matches(request: HttpRequest) -> Any:
    if access.role_of(request.auth) != "enterprise":
        raise PermissionDenied
    qs = PolicyMatch.objects.filter(organization_id=request.auth.organization_id, policy__is_published=True)
    return Mapped(qs.select_related("policy", "organization"), _match_out)


@router.get(
    "/applications",
    response={200: list[ApplicationOut], **LIST_ERRORS},
    summary="Policy applications you may see",
)
@paginate(Pagination)
def list_applications(request: HttpRequest) -> Any:
    _policy_reader(request.auth)
    qs = Application.objects.select_related("policy", "organization")
    if access.role_of(request.auth) == "enterprise":
        qs = qs.filter(organization_id=request.auth.organization_id)
    return Mapped(
        qs,
        lambda a: {
            "code": a.code,
            "policy": a.policy.code,
            "organization": a.organization.name,
            "status": a.status,
            "amount_requested": a.amount_requested,
            "amount_paid": a.amount_paid,
            "paid_on": a.paid_on,
            "updated_at": a.updated_at,
        },
    )


def _plan_out(p: ServicePlan) -> dict[str, Any]:
    return {
        "id": p.pk,
        "organization": p.organization.name,
        "officer": p.officer.username,
        **care_actions.plan_summary(p),
    }


@router.get(
    "/plans",
    response={200: list[PlanOut], **LIST_ERRORS},
    summary="Key enterprises' plans (一企一策) you may see",
)
@paginate(Pagination)
def list_plans(request: HttpRequest) -> Any:
    _reader(request.auth)
    return Mapped(care_actions.plans_for(request.auth), _plan_out)


@router.get(
    "/financing/needs",
    response={200: list[NeedOut], **LIST_ERRORS},
    summary="Financing needs you may see, with their referrals",
)
@paginate(Pagination)
def list_needs(request: HttpRequest) -> Any:
    _reader(request.auth)
    return Mapped(
        care_actions.needs_for(request.auth).prefetch_related("referrals__product"),
        lambda n: {
            "id": n.pk,
            "organization": n.organization.name,
            "amount": n.amount,
            "term_months": n.term_months,
            "collateral": n.collateral,
            "status": n.status,
            "referrals": [
                {
                    "id": r.pk,
                    "product": r.product.name,
                    "outcome": r.outcome,
                    "approved_amount": str(r.approved_amount) if r.approved_amount is not None else None,
                    "days_to_disbursement": r.days_to_disbursement(),
                }
                for r in n.referrals.all()
            ],
        },
    )


# Writes: policies, applications, financing needs ------------------------------------------------------


def _form_errors(form: Any) -> ActionError:
    return ActionError(
        str(next(iter(form.errors.values()))[0]),
        fields={k: [str(e) for e in v] for k, v in form.errors.items()},
    )


def _policy_out(p: Policy) -> dict[str, Any]:
    return {
        "code": p.code,
        "title": p.title,
        "issuer": p.issuer,
        "document_number": p.document_number,
        "mode": p.mode,
        "benefit": p.benefit,
        "amount": p.amount,
        "valid_from": p.valid_from,
        "valid_to": p.valid_to,
        "version": p.version,
        "conditions": p.conditions,
        "budget": p.budget,
        "disbursed": p.disbursed,
    }


@router.post(
    "/policies",
    response={201: PolicyOut},
    summary="Add a policy (its conditions validated; matching follows)",
)
def create_policy(request: HttpRequest, payload: dict = Body(...)) -> Any:  # noqa: B008
    if not access.can_edit_policies(request.auth):
        raise PermissionDenied
    form = forms.PolicyForm(payload)
    if not form.is_valid():
        raise _form_errors(form)
    return Status(201, _policy_out(policy_actions.save_policy(actor=request.auth, data=form.cleaned_data)))


@router.put(
    "/policies/{code}", response=PolicyOut, summary="Change a policy (a new conditions version re-notifies)"
)
def update_policy(request: HttpRequest, code: str, payload: dict = Body(...)) -> Any:  # noqa: B008
    if not access.can_edit_policies(request.auth):
        raise PermissionDenied
    policy = Policy.objects.filter(code=code).first()
    if policy is None:
        raise Http404
    form = forms.PolicyForm(payload, policy=policy)
    if not form.is_valid():
        raise _form_errors(form)
    return _policy_out(policy_actions.save_policy(actor=request.auth, data=form.cleaned_data, policy=policy))


def _application_out(a: Application) -> dict[str, Any]:
    return {
        "code": a.code,
        "policy": a.policy.code,
        "organization": a.organization.name,
        "status": a.status,
        "amount_requested": a.amount_requested,
        "amount_paid": a.amount_paid,
        "paid_on": a.paid_on,
        "updated_at": a.updated_at,
    }


@router.post("/policies/{code}/applications", response={201: ApplicationOut}, summary="Start an application")
def start_application(request: HttpRequest, code: str) -> Any:
    if access.role_of(request.auth) != "enterprise":
        raise PermissionDenied
    policy = Policy.objects.filter(code=code, is_published=True).first()
    if policy is None:
        raise Http404
    return Status(201, _application_out(application_actions.start(actor=request.auth, policy=policy)))


@router.post(
    "/applications/{code}/steps/{step}",
    response=ApplicationOut,
    summary="submit (the enterprise); advance, send_back, reject, pay (reviewers)",
)
def application_step(request: HttpRequest, code: str, step: str, payload: dict = Body(default=None)) -> Any:  # noqa: B008
    _policy_reader(request.auth)
    payload = payload or {}
    qs = Application.objects.select_related("policy", "organization")
    if access.role_of(request.auth) == "enterprise":
        qs = qs.filter(organization_id=request.auth.organization_id)
    app = qs.filter(code=code).first()
    if app is None:
        raise Http404
    enterprise_steps = {"submit"}
    reviewer_steps = {"advance", "send_back", "reject", "pay"}
    if step not in enterprise_steps | reviewer_steps:
        raise Http404
    if (step in enterprise_steps and access.role_of(request.auth) != "enterprise") or (
        step in reviewer_steps and not access.can_edit_policies(request.auth)
    ):
        raise PermissionDenied
    if step == "submit":
        app = application_actions.submit(actor=request.auth, app=app)
    elif step == "advance":
        app = application_actions.advance(actor=request.auth, app=app, note=str(payload.get("note", "")))
    elif step == "send_back":
        app = application_actions.send_back(
            actor=request.auth, app=app, reason=str(payload.get("reason", ""))
        )
    elif step == "reject":
        app = application_actions.reject(actor=request.auth, app=app, reason=str(payload.get("reason", "")))
    else:
        form = forms.PayForm(payload)
        if not form.is_valid():
            raise _form_errors(form)
        app = application_actions.pay(actor=request.auth, app=app, amount=form.cleaned_data["amount"])
    return _application_out(app)


@router.post("/financing/needs", response={201: NeedOut}, summary="File a financing need (an enterprise)")
def create_need(request: HttpRequest, payload: dict = Body(...)) -> Any:  # noqa: B008
    if access.role_of(request.auth) != "enterprise":
        raise PermissionDenied
    form = forms.FinancingNeedForm(payload)
    if not form.is_valid():
        raise _form_errors(form)
    need = care_actions.file_need(
        actor=request.auth, organization=request.auth.organization, data=form.cleaned_data
    )
    return Status(
        201,
        {
            "id": need.pk,
            "organization": need.organization.name,
            "amount": need.amount,
            "term_months": need.term_months,
            "collateral": need.collateral,
            "status": need.status,
            "referrals": [],
        },
    )


# Writes: plans (一企一策) and financing referrals --------------------------------------------------


class PlanItemOut(Schema):
    id: int
    kind: str
    title: str
    owner: str
    deadline: IsoDate
    status: str
    resolution: str
    closed_at: dt.datetime | None


class ProgressOut(Schema):
    month: IsoDate
    summary: str
    created_by: str | None


class ProductOut(Schema):
    id: int
    bank: str
    name: str
    amount_min: Decimal
    amount_max: Decimal
    max_term_months: int
    rate: Decimal
    collateral: str


class ReferralOut(Schema):
    id: int
    need: int
    product: str
    outcome: str
    approved_amount: Decimal | None
    disbursed_on: IsoDate | None
    days_to_disbursement: int | None
    created_at: dt.datetime


def _find(qs: Any, lookup: str, value: Any) -> Any:
    """The record a body names by its public identifier, or None (a malformed one names nothing)."""
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        return None
    try:
        return qs.filter(**{lookup: value}).first()
    except (ValueError, TypeError, ValidationError):
        return None


def _plan(request: HttpRequest, plan_id: int) -> ServicePlan:
    """A plan to work on: 404 if the user may not see it, 403 if they may only read it."""
    _reader(request.auth)
    plan = care_actions.plans_for(request.auth).filter(pk=plan_id).first()
    if plan is None:
        raise Http404
    if not care_actions.can_work_on_plan(request.auth, plan):
        raise PermissionDenied
    return plan


def _item_out(i: PlanItem) -> dict[str, Any]:
    return {
        "id": i.pk,
        "kind": i.kind,
        "title": i.title,
        "owner": i.owner,
        "deadline": i.deadline,
        "status": i.status,
        "resolution": i.resolution,
        "closed_at": i.closed_at,
    }


@router.post(
    "/plans",
    response={201: PlanOut},
    summary="Create a key enterprise's plan (the dispatch centre): organization code, officer username",
)
def create_plan(request: HttpRequest, payload: dict = Body(...)) -> Any:  # noqa: B008
    _reader(request.auth)
    if not access.is_dispatcher(request.auth):
        raise PermissionDenied
    data = dict(payload)
    message = ""
    unknown: dict[str, list[str]] = {}  # fields whose reference names nothing
    for name, qs, lookup in (
        ("organization", Organization.objects.all(), "code"),
        ("officer", User.objects.all(), "username"),
    ):
        value = data.get(name)
        if value in (None, ""):
            continue  # the form says it is required
        found = _find(qs, lookup, value)
        if found is None:
            message = message or _("找不到 %(value)s。") % {"value": value}
            unknown[name] = [_("不存在。")]
        data[name] = found.pk if found is not None else None
    form = forms.PlanForm(data)
    if not form.is_valid() or unknown:
        fields = {k: [str(e) for e in v] for k, v in form.errors.items()} | unknown
        raise ActionError(message or next(iter(fields.values()))[0], fields=fields)
    plan = care_actions.create_plan(actor=request.auth, **form.cleaned_data)
    return Status(201, _plan_out(plan))


@router.post(
    "/plans/{plan_id}/items",
    response={201: PlanItemOut},
    summary="Add an action item or a problem to a plan's ledger (the centre or the plan's officer)",
)
def add_plan_item(request: HttpRequest, plan_id: int, payload: dict = Body(...)) -> Any:  # noqa: B008
    plan = _plan(request, plan_id)
    form = forms.PlanItemForm(payload)
    if not form.is_valid():
        raise _form_errors(form)
    return Status(
        201, _item_out(care_actions.add_item(actor=request.auth, plan=plan, data=form.cleaned_data))
    )


@router.patch(
    "/plans/{plan_id}/items/{item_id}",
    response=PlanItemOut,
    summary="Change an item's status (closing a problem needs its resolution)",
)
def update_plan_item(request: HttpRequest, plan_id: int, item_id: int, payload: dict = Body(...)) -> Any:  # noqa: B008
    plan = _plan(request, plan_id)
    item = plan.items.filter(pk=item_id).first()
    if item is None:
        raise Http404
    form = forms.PlanItemStatusForm(payload)
    if not form.is_valid():
        raise _form_errors(form)
    return _item_out(care_actions.update_item(actor=request.auth, item=item, **form.cleaned_data))


@router.post(
    "/plans/{plan_id}/progress",
    response={201: ProgressOut},
    summary="Record a month's progress (month as YYYY-MM; a second report replaces the month's first)",
)
def record_plan_progress(request: HttpRequest, plan_id: int, payload: dict = Body(...)) -> Any:  # noqa: B008
    plan = _plan(request, plan_id)
    form = forms.ProgressForm(payload)
    if not form.is_valid():
        raise _form_errors(form)
    progress: PlanProgress = care_actions.record_progress(actor=request.auth, plan=plan, **form.cleaned_data)
    return Status(
        201,
        {
            "month": progress.month,
            "summary": progress.summary,
            "created_by": progress.created_by.username if progress.created_by_id else None,
        },
    )


def _brokered_need(request: HttpRequest, need_id: int) -> Any:
    """A need to broker: 404 if the user may not see it, 403 unless they are the dispatch centre."""
    _reader(request.auth)
    need = care_actions.needs_for(request.auth).filter(pk=need_id).first()
    if need is None:
        raise Http404
    if not access.is_dispatcher(request.auth):
        raise PermissionDenied
    return need


def _referral_out(r: Referral) -> dict[str, Any]:
    return {
        "id": r.pk,
        "need": r.need_id,
        "product": r.product.name,
        "outcome": r.outcome,
        "approved_amount": r.approved_amount,
        "disbursed_on": r.disbursed_on,
        "days_to_disbursement": r.days_to_disbursement(),
        "created_at": r.created_at,
    }


@router.get(
    "/financing/needs/{need_id}/suggestions",
    response=list[ProductOut],
    summary="Bank products matching a need by amount, term, collateral and chain (the dispatch centre)",
)
def need_suggestions(request: HttpRequest, need_id: int) -> Any:
    need = _brokered_need(request, need_id)
    return [
        {
            "id": p.pk,
            "bank": p.bank.name,
            "name": p.name,
            "amount_min": p.amount_min,
            "amount_max": p.amount_max,
            "max_term_months": p.max_term_months,
            "rate": p.rate,
            "collateral": p.collateral,
        }
        for p in care_actions.suggestions(need)
    ]


@router.post(
    "/financing/needs/{need_id}/referrals",
    response={201: ReferralOut},
    summary="Refer a need to a matching bank product by its id (the dispatch centre)",
)
def refer_need(request: HttpRequest, need_id: int, payload: dict = Body(...)) -> Any:  # noqa: B008
    need = _brokered_need(request, need_id)
    value = payload.get("product")
    if value in (None, ""):
        raise ActionError(
            _("输入有误：%(field)s %(message)s") % {"field": "product", "message": _("必填。")},
            fields={"product": [_("必填。")]},
        )
    product = _find(BankProduct.objects.select_related("bank"), "pk", value)
    if product is None:
        raise ActionError(_("找不到 %(value)s。") % {"value": value}, fields={"product": [_("不存在。")]})
    return Status(201, _referral_out(care_actions.refer(actor=request.auth, need=need, product=product)))


@router.post(
    "/financing/referrals/{referral_id}/outcome",
    response=ReferralOut,
    summary="Record a referral's outcome: approved amount, disbursement date (the dispatch centre)",
)
def referral_outcome(request: HttpRequest, referral_id: int, payload: dict = Body(...)) -> Any:  # noqa: B008
    _reader(request.auth)
    referral = (
        Referral.objects.filter(need__in=care_actions.needs_for(request.auth), pk=referral_id)
        .select_related("product")
        .first()
    )
    if referral is None:
        raise Http404
    if not access.is_dispatcher(request.auth):
        raise PermissionDenied
    form = forms.OutcomeForm(payload)
    if not form.is_valid():
        raise _form_errors(form)
    return _referral_out(
        care_actions.record_outcome(actor=request.auth, referral=referral, **form.cleaned_data)
    )


# The working-day calendar --------------------------------------------------------------------


class CalendarDayOut(Schema):
    date: IsoDate
    is_workday: bool = Field(..., description="true: a working day (调休 make-up day); false: a holiday")
    note: str


class CalendarDayIn(Schema):
    is_workday: bool
    note: str = column(WorkCalendarDay, "note", "")


@router.get(
    "/calendar",
    response=list[CalendarDayOut],
    summary="The days the park set in a year's calendar (holidays and make-up working days)",
    description="Days not listed follow the State Council calendar the platform ships.",
)
def calendar_days(request: HttpRequest, year: int = Query(..., ge=2000, le=2100)) -> Any:
    return list(WorkCalendarDay.objects.filter(date__year=year))


@router.put(
    "/calendar/{day}", response=CalendarDayOut, summary="Set one day of the calendar (administrators)"
)
def put_calendar_day(request: HttpRequest, day: IsoDate, payload: CalendarDayIn) -> Any:
    access.deny_unless(access.can_edit_calendar(request.auth))
    return actions.save_calendar_day(actor=request.auth, day=day, **payload.dict())


@router.delete("/calendar/{day}", response={204: None}, summary="Remove a day the park set (administrators)")
def delete_calendar_day(request: HttpRequest, day: IsoDate) -> Status:
    access.deny_unless(access.can_edit_calendar(request.auth))
    entry = WorkCalendarDay.objects.filter(date=day).first()
    if entry is None:
        raise Http404
    actions.delete_calendar_day(actor=request.auth, entry=entry)
    return Status(204, None)
