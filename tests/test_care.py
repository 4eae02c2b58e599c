"""一企一策 (a plan per key enterprise) and financing (needs matched to bank products, referrals
tracked to their outcome)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.conftest import client_for
from tests.factories import DepartmentFactory, OrganizationFactory, UserFactory
from tests.test_api import patch_json, post_json
from yimatong.accounts.models import User
from yimatong.lib.errors import ActionError
from yimatong.services import care_actions as actions
from yimatong.services.models import BankProduct, FinancingNeed, PlanItem, PlanProgress, Referral, ServicePlan


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


# The API: the same rules as the console -----------------------------------------------------------


def test_the_centre_creates_a_plan_through_the_api_and_others_may_not(centre):
    park = centre
    payload = {"organization": str(park.resident.code), "officer": "service", "goals": "二期投产"}
    for persona in ("leader", "enterprise", "owner"):
        refused = post_json(client_for(park.users[persona]), "/api/v1/plans", payload)
        assert refused.status_code == 403, persona
        assert refused.json()["error"]["code"] == "forbidden"
    assert not ServicePlan.objects.exists()

    created = post_json(client_for(park.users["service"]), "/api/v1/plans", payload)
    assert created.status_code == 201, created.json()
    assert created.json() == {
        "id": ServicePlan.objects.get().pk,
        "organization": park.resident.name,
        "officer": "service",
        "actions": 0,
        "actions_done": 0,
        "problems": 0,
        "problems_open": 0,
        "overdue": 0,
    }
    assert park.users["service"].notifications.filter(title__contains="首席服务官").exists()

    again = post_json(client_for(park.users["admin"]), "/api/v1/plans", payload)
    assert again.status_code == 409
    assert again.json()["error"]["fields"] == {"organization": ["该企业已有一企一策。"]}


def test_creating_a_plan_through_the_api_names_the_field_at_fault(centre):
    park = centre
    client = client_for(park.users["admin"])
    unknown = post_json(client, "/api/v1/plans", {"organization": "nope", "officer": "service"})
    assert unknown.status_code == 400
    assert unknown.json()["error"] == {
        "code": "invalid",
        "message": "找不到 nope。",
        "fields": {"organization": ["不存在。"]},
    }
    missing = post_json(client, "/api/v1/plans", {"organization": str(park.resident.code)})
    assert missing.status_code == 400
    assert list(missing.json()["error"]["fields"]) == ["officer"]
    # A promoter is no chief service officer; a prospect gets no plan.
    wrong = post_json(client, "/api/v1/plans", {"organization": str(park.prospect.code), "officer": "owner"})
    assert wrong.status_code == 400
    assert set(wrong.json()["error"]["fields"]) == {"organization", "officer"}
    assert not ServicePlan.objects.exists()


@pytest.fixture
def plan(centre):
    return actions.create_plan(
        actor=centre.users["admin"], organization=centre.resident, officer=centre.users["service"]
    )


def test_the_officer_works_the_ledger_to_zero_through_the_api(centre, plan):
    park = centre
    client = client_for(park.users["service"])
    added = post_json(
        client,
        f"/api/v1/plans/{plan.pk}/items",
        {"kind": "problem", "title": "电力增容", "owner": "区经信委", "deadline": "2026-12-31"},
    )
    assert added.status_code == 201, added.json()
    item = added.json()
    assert (item["kind"], item["status"], item["deadline"], item["closed_at"]) == (
        "problem",
        "open",
        "2026-12-31",
        None,
    )
    url = f"/api/v1/plans/{plan.pk}/items/{item['id']}"

    refused = patch_json(client, url, {"status": "done"})
    assert refused.status_code == 400
    assert refused.json()["error"]["message"] == "问题销号须写明办理情况。"
    assert refused.json()["error"]["fields"] == {"resolution": ["必填。"]}
    english = client_for(park.users["service"])
    english.cookies["ymt_language"] = "en"
    assert patch_json(english, url, {"status": "done"}).json()["error"]["message"] == (
        "Closing a problem requires stating what was done."
    )

    closed = patch_json(client, url, {"status": "done", "resolution": "已完成双回路接入"})
    assert closed.status_code == 200, closed.json()
    assert closed.json()["status"] == "done" and closed.json()["closed_at"] is not None
    assert actions.plan_summary(plan)["problems_open"] == 0
    listed = client.get("/api/v1/plans").json()["items"]
    assert [(p["id"], p["problems"], p["problems_open"]) for p in listed] == [(plan.pk, 1, 0)]


def test_plan_items_through_the_api_name_the_field_at_fault(centre, plan):
    client = client_for(centre.users["service"])
    bad = post_json(
        client,
        f"/api/v1/plans/{plan.pk}/items",
        {"kind": "action", "title": "对接人才公寓", "owner": "服务中心", "deadline": "12/31"},
    )
    assert bad.status_code == 400
    assert list(bad.json()["error"]["fields"]) == ["deadline"]
    item = actions.add_item(
        actor=centre.users["service"],
        plan=plan,
        data={"kind": "action", "title": "x", "owner": "y", "deadline": dt.date(2026, 12, 1)},
    )
    status = patch_json(client, f"/api/v1/plans/{plan.pk}/items/{item.pk}", {"status": "closed"})
    assert status.status_code == 400
    assert list(status.json()["error"]["fields"]) == ["status"]
    assert "closed" in status.json()["error"]["fields"]["status"][0]
    assert PlanItem.objects.get().status == "open"


def test_monthly_progress_is_recorded_through_the_api(centre, plan):
    client = client_for(centre.users["service"])
    url = f"/api/v1/plans/{plan.pk}/progress"
    first = post_json(client, url, {"month": "2026-11", "summary": "增容完成"})
    assert first.status_code == 201, first.json()
    assert first.json() == {"month": "2026-11-01", "summary": "增容完成", "created_by": "service"}
    post_json(client, url, {"month": "2026-11-20", "summary": "增容完成，已通电"})
    assert list(PlanProgress.objects.values_list("month", "summary")) == [
        (dt.date(2026, 11, 1), "增容完成，已通电")
    ]
    blank = post_json(client, url, {"month": "2026-12", "summary": "  "})
    assert blank.status_code == 400
    assert list(blank.json()["error"]["fields"]) == ["summary"]
    no_month = post_json(client, url, {"summary": "进展"})
    assert no_month.status_code == 400
    assert list(no_month.json()["error"]["fields"]) == ["month"]


def test_readers_of_a_plan_may_not_work_it_and_others_do_not_see_it(centre, plan):
    park = centre
    item = actions.add_item(
        actor=park.users["service"],
        plan=plan,
        data={"kind": "action", "title": "x", "owner": "y", "deadline": dt.date(2026, 12, 1)},
    )
    other = actions.create_plan(
        actor=park.users["admin"], organization=park.other_resident, officer=park.users["service"]
    )
    # Another department's officer: not this plan's, so it is not theirs to see.
    stranger = UserFactory(username="stranger", role=User.Role.SERVICE, department=DepartmentFactory())
    writes = [
        ("post", "/items", {"kind": "action", "title": "x", "owner": "y", "deadline": "2026-12-01"}),
        ("patch", f"/items/{item.pk}", {"status": "in_progress"}),
        ("post", "/progress", {"month": "2026-11", "summary": "进展"}),
    ]
    for method, path, payload in writes:
        send = post_json if method == "post" else patch_json
        for persona, target, status in (
            ("leader", plan, 403),
            ("enterprise", plan, 403),
            ("owner", plan, 403),
            ("enterprise", other, 404),
        ):
            response = send(client_for(park.users[persona]), f"/api/v1/plans/{target.pk}{path}", payload)
            assert response.status_code == status, (persona, method, path, response.json())
        hidden = send(client_for(stranger), f"/api/v1/plans/{plan.pk}{path}", payload)
        assert hidden.status_code == 404
        assert hidden.json()["error"]["code"] == "not_found"
    # An item is found only within its own plan.
    elsewhere = patch_json(
        client_for(park.users["service"]), f"/api/v1/plans/{other.pk}/items/{item.pk}", {"status": "done"}
    )
    assert elsewhere.status_code == 404
    assert PlanItem.objects.get().status == "open"
    assert not PlanProgress.objects.exists()


@pytest.fixture
def need(centre):
    return actions.file_need(
        actor=centre.users["enterprise"],
        organization=centre.resident,
        data={"amount": Decimal("500"), "term_months": 24, "purpose": "设备", "collateral": "credit"},
    )


def test_the_centre_reads_a_needs_suggestions_and_refers_it_through_the_api(centre, banks, need):
    park = centre
    credit, _mortgage, devices_only = banks
    client = client_for(park.users["service"])
    suggested = client.get(f"/api/v1/financing/needs/{need.pk}/suggestions")
    assert suggested.status_code == 200
    assert [(p["id"], p["bank"], p["rate"]) for p in suggested.json()] == [
        (credit.pk, "重庆农村商业银行巴南支行", "3.45")
    ]
    url = f"/api/v1/financing/needs/{need.pk}/referrals"
    unsuitable = post_json(client, url, {"product": devices_only.pk})
    assert unsuitable.status_code == 400
    assert unsuitable.json()["error"]["code"] == "not_suitable"
    assert list(unsuitable.json()["error"]["fields"]) == ["product"]
    for value in (999999, "abc"):
        unknown = post_json(client, url, {"product": value})
        assert unknown.status_code == 400
        assert unknown.json()["error"]["fields"] == {"product": ["不存在。"]}
    assert post_json(client, url, {}).json()["error"]["fields"] == {"product": ["必填。"]}

    referred = post_json(client, url, {"product": credit.pk})
    assert referred.status_code == 201, referred.json()
    body = referred.json()
    assert (body["need"], body["product"], body["outcome"], body["approved_amount"]) == (
        need.pk,
        "科创信用贷",
        "pending",
        None,
    )
    need.refresh_from_db()
    assert need.status == FinancingNeed.Status.REFERRED
    twice = post_json(client, url, {"product": credit.pk})
    assert twice.status_code == 409
    assert twice.json()["error"]["fields"] == {"product": ["已推荐过该产品。"]}
    listed = client_for(park.users["enterprise"]).get("/api/v1/financing/needs").json()["items"]
    assert listed[0]["referrals"][0]["id"] == body["id"]


def test_only_the_centre_brokers_a_need_and_other_enterprises_needs_are_hidden(centre, banks, need):
    park = centre
    credit = banks[0]
    other = actions.file_need(
        actor=park.users["admin"],
        organization=park.other_resident,
        data={"amount": Decimal("500"), "term_months": 24, "purpose": "y", "collateral": "credit"},
    )
    for persona, target, status in (
        ("leader", need, 403),
        ("enterprise", need, 403),
        ("owner", need, 403),
        ("enterprise", other, 404),
    ):
        client = client_for(park.users[persona])
        assert client.get(f"/api/v1/financing/needs/{target.pk}/suggestions").status_code == status
        response = post_json(client, f"/api/v1/financing/needs/{target.pk}/referrals", {"product": credit.pk})
        assert response.status_code == status, (persona, response.json())
    assert not Referral.objects.exists()


def test_a_referrals_outcome_is_recorded_through_the_api(centre, banks, need):
    park = centre
    referral = actions.refer(actor=park.users["service"], need=need, product=banks[0])
    url = f"/api/v1/financing/referrals/{referral.pk}/outcome"
    client = client_for(park.users["service"])

    no_amount = post_json(client, url, {"outcome": "approved"})
    assert no_amount.status_code == 400
    assert no_amount.json()["error"]["fields"] == {"approved_amount": ["必填。"]}
    early = post_json(
        client, url, {"outcome": "approved", "approved_amount": "450", "disbursed_on": "2000-01-01"}
    )
    assert early.status_code == 400
    assert list(early.json()["error"]["fields"]) == ["disbursed_on"]
    bad = post_json(client, url, {"outcome": "won"})
    assert bad.status_code == 400
    assert list(bad.json()["error"]["fields"]) == ["outcome"]
    for persona in ("leader", "enterprise", "owner"):
        refused = post_json(client_for(park.users[persona]), url, {"outcome": "declined"})
        assert refused.status_code == 403, persona
    referral.refresh_from_db()
    assert referral.outcome == Referral.Outcome.PENDING

    disbursed = timezone.localdate() + dt.timedelta(days=12)
    recorded = post_json(
        client, url, {"outcome": "approved", "approved_amount": "450", "disbursed_on": disbursed.isoformat()}
    )
    assert recorded.status_code == 200, recorded.json()
    assert (
        recorded.json()["outcome"],
        recorded.json()["approved_amount"],
        recorded.json()["days_to_disbursement"],
    ) == ("approved", "450.00", 12)
    need.refresh_from_db()
    assert need.status == FinancingNeed.Status.FUNDED


def test_another_enterprises_referral_is_hidden_from_the_api(centre, banks):
    park = centre
    other = actions.file_need(
        actor=park.users["admin"],
        organization=park.other_resident,
        data={"amount": Decimal("500"), "term_months": 24, "purpose": "y", "collateral": "mortgage"},
    )
    referral = actions.refer(actor=park.users["service"], need=other, product=banks[1])
    response = post_json(
        client_for(park.users["enterprise"]),
        f"/api/v1/financing/referrals/{referral.pk}/outcome",
        {"outcome": "declined"},
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    missing = post_json(
        client_for(park.users["service"]),
        "/api/v1/financing/referrals/999999/outcome",
        {"outcome": "declined"},
    )
    assert missing.status_code == 404
