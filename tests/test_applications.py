"""Applications under a policy: the checklist, submission, review steps timed and shown to the
enterprise, return and rejection, payment from the budget."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.conftest import client_for
from yimatong.lib.errors import ActionError
from yimatong.services import application_actions as actions
from yimatong.services.models import Application, Policy, PolicyMatch


@pytest.fixture
def office(park, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    centre = park.users["service"].department
    centre.is_dispatch_center = True
    centre.save()
    policy = Policy.objects.create(
        code="rd",
        title="研发投入后补助",
        issuer="管委会",
        benefit="subsidy",
        amount=Decimal("100"),
        budget=Decimal("150"),
        materials="研发费用审计报告\n营业执照",
        is_published=True,
        conditions={"fact": "rd_ratio", "op": ">=", "value": 5},
    )
    PolicyMatch.objects.create(
        policy=policy, organization=park.resident, policy_version=1, status="met", pass_rate=100
    )
    return park, policy


def pdf(name="a.pdf"):
    return SimpleUploadedFile(name, b"%PDF-1.4 x", "application/pdf")


def _ready(park, policy):
    app = actions.start(actor=park.users["enterprise"], policy=policy)
    for name in app.checklist():
        actions.upload(actor=park.users["enterprise"], app=app, name=name, upload=pdf())
    return actions.submit(actor=park.users["enterprise"], app=app)


def test_an_application_is_submitted_only_with_every_material_and_followed_to_the_money(office):
    park, policy = office
    app = actions.start(actor=park.users["enterprise"], policy=policy)
    actions.upload(actor=park.users["enterprise"], app=app, name="营业执照", upload=pdf())
    with pytest.raises(ActionError) as missing:
        actions.submit(actor=park.users["enterprise"], app=app)
    assert missing.value.fields["materials"] == ["研发费用审计报告"]
    actions.upload(actor=park.users["enterprise"], app=app, name="研发费用审计报告", upload=pdf())
    app = actions.submit(actor=park.users["enterprise"], app=app)
    for _ in range(4):
        app = actions.advance(actor=park.users["service"], app=app, note="ok")
    assert app.status == "publicized"
    app = actions.pay(actor=park.users["service"], app=app, amount=Decimal("100"))
    assert app.status == "paid" and app.paid_on is not None
    assert [e.to_status for e in app.events.all()] == [
        "draft",
        "submitted",
        "accepted",
        "first_review",
        "dept_review",
        "publicized",
        "paid",
    ]
    policy.refresh_from_db()
    assert policy.disbursed == Decimal("100")
    # The enterprise was told at every step.
    assert park.users["enterprise"].notifications.filter(kind="policy").count() == 6


def test_a_returned_application_is_fixed_and_resubmitted_and_a_rejection_needs_a_reason(office):
    park, policy = office
    app = _ready(park, policy)
    app = actions.send_back(actor=park.users["service"], app=app, reason="审计报告缺少盖章页")
    assert app.status == "returned"
    actions.upload(actor=park.users["enterprise"], app=app, name="研发费用审计报告", upload=pdf("b.pdf"))
    app = actions.submit(actor=park.users["enterprise"], app=app)
    with pytest.raises(ActionError):
        actions.reject(actor=park.users["service"], app=app, reason=" ")
    app = actions.reject(actor=park.users["service"], app=app, reason="研发投入增量不足")
    assert app.status == "rejected"
    # A new application is possible after a rejection.
    assert actions.start(actor=park.users["enterprise"], policy=policy).status == "draft"


def test_one_open_application_per_policy_and_enterprise(office):
    park, policy = office
    actions.start(actor=park.users["enterprise"], policy=policy)
    with pytest.raises(ActionError) as twice:
        actions.start(actor=park.users["enterprise"], policy=policy)
    assert twice.value.status == 409


def test_payment_never_overdraws_the_policy_budget(office):
    park, policy = office
    app = _ready(park, policy)
    for _ in range(4):
        app = actions.advance(actor=park.users["service"], app=app)
    with pytest.raises(ActionError) as refused:
        actions.pay(actor=park.users["service"], app=app, amount=Decimal("151"))
    assert refused.value.code == "budget_exceeded"
    app.refresh_from_db()
    assert app.status == "publicized"


def test_an_enterprise_that_does_not_qualify_cannot_apply(office):
    park, policy = office
    PolicyMatch.objects.all().delete()
    with pytest.raises(ActionError) as refused:
        actions.start(actor=park.users["enterprise"], policy=policy)
    assert refused.value.code == "not_eligible"


def test_the_console_walks_an_application_and_others_see_nothing(office):
    park, policy = office
    enterprise = client_for(park.users["enterprise"])
    response = enterprise.post(reverse("services:application_start", args=[policy.code]))
    app = Application.objects.get()
    assert response["Location"] == app.get_absolute_url()
    for name in app.checklist():
        enterprise.post(
            reverse("services:application_step", args=[app.code, "upload"]), {"name": name, "file": pdf()}
        )
    enterprise.post(reverse("services:application_step", args=[app.code, "submit"]))
    app.refresh_from_db()
    assert app.status == "submitted"
    centre = client_for(park.users["service"])
    board = centre.get(reverse("services:application_list")).content.decode()
    assert park.resident.name in board
    centre.post(reverse("services:application_step", args=[app.code, "advance"]), {"note": "受理"})
    app.refresh_from_db()
    assert app.status == "accepted"
    page = enterprise.get(app.get_absolute_url()).content.decode()
    assert "已受理" in page and "受理" in page
    # The enterprise cannot review its own application; a promoter sees nothing.
    assert (
        enterprise.post(reverse("services:application_step", args=[app.code, "advance"])).status_code == 403
    )
    assert client_for(park.users["owner"]).get(app.get_absolute_url()).status_code == 403


def test_a_chief_service_officer_follows_the_key_enterprises_applications_on_the_board(office):
    from yimatong.services.care_actions import create_plan

    park, policy = office
    _ready(park, policy)
    officer = client_for(park.users["service"])
    assert (
        park.resident.name
        not in officer.get(reverse("services:application_list") + "?mine=1").content.decode()
    )
    create_plan(actor=park.users["admin"], organization=park.resident, officer=park.users["service"])
    assert (
        park.resident.name in officer.get(reverse("services:application_list") + "?mine=1").content.decode()
    )


def test_the_api_takes_an_application_from_start_to_payment(office):
    import json

    park, policy = office
    enterprise = client_for(park.users["enterprise"])
    started = enterprise.post(f"/api/v1/policies/{policy.code}/applications")
    assert started.status_code == 201
    code = started.json()["code"]
    refused = enterprise.post(
        f"/api/v1/applications/{code}/steps/submit", data="{}", content_type="application/json"
    )
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "materials_missing"
    app = Application.objects.get(code=code)
    for name in app.checklist():
        actions.upload(actor=park.users["enterprise"], app=app, name=name, upload=pdf())
    assert (
        enterprise.post(
            f"/api/v1/applications/{code}/steps/submit", data="{}", content_type="application/json"
        ).json()["status"]
        == "submitted"
    )
    centre = client_for(park.users["service"])
    for _ in range(4):
        centre.post(f"/api/v1/applications/{code}/steps/advance", data="{}", content_type="application/json")
    too_much = centre.post(
        f"/api/v1/applications/{code}/steps/pay",
        data=json.dumps({"amount": "999"}),
        content_type="application/json",
    )
    assert too_much.status_code == 400 and too_much.json()["error"]["code"] == "budget_exceeded"
    paid = centre.post(
        f"/api/v1/applications/{code}/steps/pay",
        data=json.dumps({"amount": "80"}),
        content_type="application/json",
    )
    assert paid.json()["status"] == "paid" and paid.json()["amount_paid"] == "80.00"
