"""One enterprise, one plan (一企一策) and financing (金融服务): the changes and their rules."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from yimatong.accounts import access, audit
from yimatong.accounts.models import User
from yimatong.directory.models import Organization
from yimatong.lib.errors import ActionError, Conflict
from yimatong.notifications.actions import notify
from yimatong.notifications.models import Notification
from yimatong.services.models import BankProduct, FinancingNeed, PlanItem, PlanProgress, Referral, ServicePlan

COLLATERAL_ACCEPTED = {
    # what a product asks for: the collaterals an enterprise may offer that satisfy it
    "credit": {"credit", "mortgage", "guarantee", "ip_pledge"},
    "ip_pledge": {"ip_pledge", "mortgage", "guarantee"},
    "guarantee": {"guarantee", "mortgage"},
    "mortgage": {"mortgage"},
}


# Who sees what ------------------------------------------------------------------------------------


def plans_for(user: User) -> Any:
    """The plans a user may see: all for the centre and leaders, a service officer's own, an
    enterprise's own."""
    qs = ServicePlan.objects.select_related("organization", "officer")
    if access.role_of(user) == User.Role.ENTERPRISE:
        return qs.filter(organization_id=user.organization_id)
    if access.role_of(user) in (User.Role.ADMIN, User.Role.LEADER) or access.is_dispatcher(user):
        return qs
    if access.role_of(user) == User.Role.SERVICE:
        return qs.filter(officer=user)
    return qs.none()


def needs_for(user: User) -> Any:
    """Financing needs: all for the centre and leaders, an enterprise's own."""
    qs = FinancingNeed.objects.select_related("organization")
    if access.role_of(user) == User.Role.ENTERPRISE:
        return qs.filter(organization_id=user.organization_id)
    if access.role_of(user) in (User.Role.ADMIN, User.Role.LEADER) or access.is_dispatcher(user):
        return qs
    return qs.none()


def can_work_on_plan(user: User, plan: ServicePlan) -> bool:
    """Who works a plan (adds items, closes them, reports progress): the dispatch centre and the
    plan's own chief service officer. Others who may see it only read it."""
    return access.is_dispatcher(user) or plan.officer_id == user.pk


# 一企一策 ---------------------------------------------------------------------------------------


def create_plan(*, actor: User, organization: Organization, officer: User, goals: str = "") -> ServicePlan:
    if officer.role not in (User.Role.SERVICE, User.Role.ADMIN):
        raise ActionError(_("首席服务官须为服务部门人员。"), fields={"officer": [_("请选择服务部门人员。")]})
    try:
        with transaction.atomic():
            plan = ServicePlan.objects.create(organization=organization, officer=officer, goals=goals)
            audit.log_create(plan, actor=actor)
    except IntegrityError as exc:
        raise Conflict(
            _("该企业已有一企一策。"), fields={"organization": [_("该企业已有一企一策。")]}
        ) from exc
    notify(
        [officer],
        kind=Notification.Kind.DEMAND,
        key=f"plan-{plan.pk}-officer-{officer.pk}",
        title=_("您已被指定为“%(name)s”的首席服务官") % {"name": organization.name},
        url=plan.get_absolute_url(),
    )
    return plan


def add_item(*, actor: User, plan: ServicePlan, data: dict[str, Any]) -> PlanItem:
    item = PlanItem.objects.create(
        plan=plan,
        kind=data["kind"],
        title=data["title"].strip(),
        owner=data["owner"].strip(),
        deadline=data["deadline"],
    )
    audit.log_create(item, actor=actor)
    return item


def update_item(*, actor: User, item: PlanItem, status: str, resolution: str = "") -> PlanItem:
    if status == PlanItem.Status.DONE and item.kind == PlanItem.Kind.PROBLEM and not resolution.strip():
        raise ActionError(_("问题销号须写明办理情况。"), fields={"resolution": [_("必填。")]})
    before = audit.snapshot(item)
    PlanItem.objects.filter(pk=item.pk).update(
        status=status,
        resolution=resolution.strip()[:300] or item.resolution,
        closed_at=timezone.now() if status == PlanItem.Status.DONE else None,
        updated_at=timezone.now(),
    )
    item.refresh_from_db()
    audit.log_change(item, before, actor=actor)
    return item


def record_progress(*, actor: User, plan: ServicePlan, month: dt.date, summary: str) -> PlanProgress:
    if not summary.strip():
        raise ActionError(_("请填写本月进展。"), fields={"summary": [_("必填。")]})
    progress, _created = PlanProgress.objects.update_or_create(
        plan=plan, month=month.replace(day=1), defaults={"summary": summary.strip(), "created_by": actor}
    )
    return progress


def plan_summary(plan: ServicePlan, today: dt.date | None = None) -> dict[str, int]:
    today = today or timezone.localdate()
    items = list(plan.items.all())
    problems = [i for i in items if i.kind == PlanItem.Kind.PROBLEM]
    return {
        "actions": sum(1 for i in items if i.kind == PlanItem.Kind.ACTION),
        "actions_done": sum(
            1 for i in items if i.kind == PlanItem.Kind.ACTION and i.status == PlanItem.Status.DONE
        ),
        "problems": len(problems),
        "problems_open": sum(1 for i in problems if i.status != PlanItem.Status.DONE),
        "overdue": sum(1 for i in items if i.status != PlanItem.Status.DONE and i.deadline < today),
    }


# Financing ---------------------------------------------------------------------------------------


def file_need(*, actor: User, organization: Organization, data: dict[str, Any]) -> FinancingNeed:
    need = FinancingNeed.objects.create(
        organization=organization,
        amount=data["amount"],
        term_months=data["term_months"],
        purpose=data["purpose"].strip(),
        collateral=data["collateral"],
        created_by=actor,
    )
    audit.log_create(need, actor=actor)
    return need


def suggestions(need: FinancingNeed) -> list[BankProduct]:
    """Products whose amount range holds the need, whose term is long enough, whose collateral
    the enterprise can meet, and that target its chain segment (or every segment)."""
    chain = need.organization.chain_node
    chain_ids = {chain.pk, *(a.pk for a in chain.ancestors())} if chain else set()
    accepted = {k for k, offers in COLLATERAL_ACCEPTED.items() if need.collateral in offers}
    products = (
        BankProduct.objects.filter(
            is_active=True,
            amount_min__lte=need.amount,
            amount_max__gte=need.amount,
            max_term_months__gte=need.term_months,
            collateral__in=accepted,
        )
        .filter(Q(target_chain__isnull=True) | Q(target_chain__in=chain_ids))
        .select_related("bank")
        .distinct()
        .order_by("rate", "pk")
    )
    return list(products)


def refer(*, actor: User, need: FinancingNeed, product: BankProduct) -> Referral:
    if product not in suggestions(need):
        message = _("该产品与需求不匹配（额度、期限、担保方式或产业方向）。")
        raise ActionError(message, code="not_suitable", fields={"product": [message]})
    try:
        with transaction.atomic():
            referral = Referral.objects.create(need=need, product=product, referred_by=actor)
            FinancingNeed.objects.filter(pk=need.pk, status=FinancingNeed.Status.OPEN).update(
                status=FinancingNeed.Status.REFERRED, updated_at=timezone.now()
            )
            audit.log_create(referral, actor=actor)
    except IntegrityError as exc:
        raise Conflict(_("已推荐过该产品。"), fields={"product": [_("已推荐过该产品。")]}) from exc
    return referral


def record_outcome(
    *,
    actor: User,
    referral: Referral,
    outcome: str,
    approved_amount: Decimal | None = None,
    disbursed_on: dt.date | None = None,
) -> Referral:
    if outcome == Referral.Outcome.APPROVED and not approved_amount:
        raise ActionError(_("已批准须填写批准金额。"), fields={"approved_amount": [_("必填。")]})
    if disbursed_on and disbursed_on < timezone.localtime(referral.created_at).date():
        raise ActionError(_("放款日期不能早于推荐日期。"), fields={"disbursed_on": [_("不能早于推荐日期。")]})
    with transaction.atomic():
        before = audit.snapshot(referral)
        Referral.objects.filter(pk=referral.pk).update(
            outcome=outcome,
            approved_amount=approved_amount,
            disbursed_on=disbursed_on,
            updated_at=timezone.now(),
        )
        referral.refresh_from_db()
        audit.log_change(referral, before, actor=actor)
        if outcome == Referral.Outcome.APPROVED and disbursed_on:
            FinancingNeed.objects.filter(pk=referral.need_id).update(
                status=FinancingNeed.Status.FUNDED, updated_at=timezone.now()
            )
    return referral
