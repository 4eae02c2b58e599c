"""一企一策 (a plan per key enterprise) and financing (needs matched to bank products, referrals
tracked to their outcome)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.conftest import client_for
from tests.factories import OrganizationFactory
from yimatong.lib.errors import ActionError
from yimatong.services import care_actions as actions
from yimatong.services.models import BankProduct, FinancingNeed, PlanItem


@pytest.fixture
def centre(park):
    department = park.users["service"].department
    department.is_dispatch_center = True
    department.save()
    return park


def test_a_key_enterprise_plan_works_its_problems_to_zero_with_monthly_progress(centre):
    park = centre
    plan = actions.create_plan(
        actor=park.users["admin"], organization=park.resident, officer=park.users["service"], goals="二期投产"
    )
    problem = actions.add_item(
        actor=park.users["service"],
        plan=plan,
        data={"kind": "problem", "title": "电力增容", "owner": "区经信委", "deadline": dt.date(2026, 12, 31)},
    )
    actions.add_item(
        actor=park.users["service"],
        plan=plan,
        data={
            "kind": "action",
            "title": "对接人才公寓",
            "owner": "服务中心",
            "deadline": dt.date(2026, 12, 15),
        },
    )
    assert actions.plan_summary(plan, today=dt.date(2026, 12, 20)) == {
        "actions": 1,
        "actions_done": 0,
        "problems": 1,
        "problems_open": 1,
        "overdue": 1,
    }
    with pytest.raises(ActionError) as refused:
        actions.update_item(actor=park.users["service"], item=problem, status="done")
    assert "resolution" in refused.value.fields
    actions.update_item(
        actor=park.users["service"], item=problem, status="done", resolution="已完成双回路接入"
    )
    assert actions.plan_summary(plan)["problems_open"] == 0
    actions.record_progress(
        actor=park.users["service"], plan=plan, month=dt.date(2026, 11, 18), summary="增容完成"
    )
    actions.record_progress(
        actor=park.users["service"], plan=plan, month=dt.date(2026, 11, 2), summary="增容完成，已通电"
    )
    assert plan.progress.get().summary == "增容完成，已通电"
    assert park.users["service"].notifications.filter(title__contains="首席服务官").exists()


def test_the_enterprise_reads_its_own_plan_and_others_see_nothing(centre):
    park = centre
    plan = actions.create_plan(
        actor=park.users["admin"], organization=park.resident, officer=park.users["service"]
    )
    assert client_for(park.users["enterprise"]).get(plan.get_absolute_url()).status_code == 200
    response = client_for(park.users["enterprise"]).post(
        reverse("services:plan_change", args=[plan.pk, "item"]),
        {"kind": "action", "title": "x", "owner": "y", "deadline": "2026-12-01"},
    )
    assert response.status_code == 403
    assert PlanItem.objects.count() == 0


@pytest.fixture
def banks(park):
    bank = OrganizationFactory(name="重庆农村商业银行巴南支行", org_type="bank")
    credit = BankProduct.objects.create(
        bank=bank,
        name="科创信用贷",
        amount_min=Decimal("100"),
        amount_max=Decimal("1000"),
        max_term_months=36,
        rate=Decimal("3.45"),
        collateral="credit",
    )
    credit.target_chain.set([park.biologics])
    mortgage = BankProduct.objects.create(
        bank=bank,
        name="厂房抵押贷",
        amount_min=Decimal("500"),
        amount_max=Decimal("20000"),
        max_term_months=120,
        rate=Decimal("3.10"),
        collateral="mortgage",
    )
    devices_only = BankProduct.objects.create(
        bank=bank,
        name="器械专项贷",
        amount_min=Decimal("100"),
        amount_max=Decimal("3000"),
        max_term_months=36,
        rate=Decimal("3.20"),
        collateral="credit",
    )
    devices_only.target_chain.set([park.devices])
    return credit, mortgage, devices_only


def test_financing_needs_are_matched_by_amount_term_collateral_and_chain(centre, banks):
    park = centre
    credit, mortgage, _devices_only = banks
    need = actions.file_need(
        actor=park.users["enterprise"],
        organization=park.resident,
        data={"amount": Decimal("800"), "term_months": 24, "purpose": "流动资金", "collateral": "mortgage"},
    )
    # The resident is in antibody (within biologics): the devices product is not offered.
    assert actions.suggestions(need) == [mortgage, credit]
    small = actions.file_need(
        actor=park.users["enterprise"],
        organization=park.resident,
        data={"amount": Decimal("200"), "term_months": 12, "purpose": "x", "collateral": "credit"},
    )
    assert actions.suggestions(small) == [credit]


def test_a_referral_is_tracked_to_disbursement(centre, banks):
    park = centre
    credit, _mortgage, devices_only = banks
    need = actions.file_need(
        actor=park.users["enterprise"],
        organization=park.resident,
        data={"amount": Decimal("500"), "term_months": 24, "purpose": "设备", "collateral": "credit"},
    )
    with pytest.raises(ActionError):
        actions.refer(actor=park.users["service"], need=need, product=devices_only)
    referral = actions.refer(actor=park.users["service"], need=need, product=credit)
    with pytest.raises(ActionError):
        actions.refer(actor=park.users["service"], need=need, product=credit)
    with pytest.raises(ActionError):
        actions.record_outcome(actor=park.users["service"], referral=referral, outcome="approved")
    disbursed = timezone.localdate() + dt.timedelta(days=12)
    referral = actions.record_outcome(
        actor=park.users["service"],
        referral=referral,
        outcome="approved",
        approved_amount=Decimal("450"),
        disbursed_on=disbursed,
    )
    assert referral.days_to_disbursement() == 12
    need.refresh_from_db()
    assert need.status == FinancingNeed.Status.FUNDED
    page = client_for(park.users["leader"]).get(reverse("services:financing_list")).content.decode()
    assert "450" in page and "12.0" in page


def test_an_enterprise_files_a_need_in_the_console_and_sees_only_its_own(centre, banks):
    park = centre
    client = client_for(park.users["enterprise"])
    bad = client.post(
        reverse("services:financing_create"),
        {"amount": "0", "term_months": 12, "purpose": "x", "collateral": "credit"},
    )
    assert bad.status_code == 400 and "融资金额" in bad.content.decode()
    client.post(
        reverse("services:financing_create"),
        {"amount": "300", "term_months": 12, "purpose": "采购", "collateral": "credit"},
    )
    need = FinancingNeed.objects.get()
    other = actions.file_need(
        actor=park.users["admin"],
        organization=park.other_resident,
        data={"amount": Decimal("100"), "term_months": 6, "purpose": "y", "collateral": "credit"},
    )
    assert client.get(need.get_absolute_url()).status_code == 200
    assert client.get(other.get_absolute_url()).status_code == 404
    assert "匹配的金融产品" not in client.get(need.get_absolute_url()).content.decode()
