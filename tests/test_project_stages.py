import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from yimatong.directory.models import Organization
from yimatong.investment.actions import projects as actions
from yimatong.investment.actions.work import record_capital, review_admission
from yimatong.investment.models import InvestmentSettings, Project, ProjectEvent, ScoreItem
from yimatong.lib.errors import ActionError, StaleObject

SIGNING = {
    "agreement_type": "framework",
    "signed_on": dt.date(2026, 3, 1),
    "contracted_investment": Decimal("50000"),
}


def test_a_project_gets_a_readable_yearly_code(new_project):
    first, second = new_project(), new_project(name="第二个项目")
    year = timezone.now().year
    assert (first.code, second.code) == (f"YMT-{year}-0001", f"YMT-{year}-0002")


def test_moving_forward_needs_the_facts_of_every_gate_up_to_the_target(new_project):
    project = new_project()
    with pytest.raises(ActionError) as exc:
        actions.move_stage(actor=project.owner, project=project, to="construction")
    assert set(exc.value.fields) == {
        "agreement_type",
        "signed_on",
        "contracted_investment",
        "registered_organization",
        "registered_on",
        "construction_started_on",
        "fixed_asset_investment",
    }
    assert exc.value.fields["signed_on"] == ["进入“签约”须填写签约日期。"]
    assert Project.objects.get(pk=project.pk).stage == "contact"


def test_signing_counts_the_contract_once_and_an_upgrade_only_its_increment(new_project):
    project = new_project()
    project = actions.move_stage(actor=project.owner, project=project, to="signed", facts=SIGNING)
    assert project.stage == "signed"
    back = actions.move_stage(actor=project.owner, project=project, to="negotiation", reason="条款重谈")
    again = actions.move_stage(actor=back.owner, project=back, to="signed")
    actions.record_contract(
        actor=again.owner,
        project=again,
        agreement_type="formal",
        signed_on=dt.date(2026, 5, 1),
        contracted_investment=Decimal("80000"),
    )
    counted = list(
        ProjectEvent.objects.filter(project=project, signed_amount__gt=0)
        .order_by("at")
        .values_list("kind", "signed_amount")
    )
    assert counted == [("stage", Decimal("50000.00")), ("investment", Decimal("30000.00"))]


def test_a_backward_move_or_an_exit_needs_a_reason(new_project):
    project = new_project(stage="negotiation")
    for to in ("contact", "on_hold", "lost"):
        with pytest.raises(ActionError) as exc:
            actions.move_stage(actor=project.owner, project=project, to=to)
        assert exc.value.code == "reason_required"
    lost = actions.move_stage(actor=project.owner, project=project, to="lost", reason="投资方转投成都")
    assert (lost.stage, lost.exit_reason) == ("lost", "投资方转投成都")


def test_registration_links_the_registered_company_and_makes_it_a_resident(new_project, investment):
    project = actions.move_stage(
        actor=investment.users["owner"], project=new_project(), to="signed", facts=SIGNING
    )
    from yimatong.lib.identifiers import uscc_with_check_digit

    uscc = uscc_with_check_digit("91500113MA5U0X9X1")
    registered = actions.move_stage(
        actor=project.owner,
        project=project,
        to="registered",
        facts={
            "registered_uscc": uscc,
            "registered_name": "启明生物（重庆）有限公司",
            "registered_on": dt.date(2026, 6, 1),
        },
    )
    company = registered.registered_organization
    assert (company.name, company.uscc, company.org_type) == ("启明生物（重庆）有限公司", uscc, "resident")
    event = registered.events.filter(kind="stage", to_stage="registered").get()
    assert event.landed_amount == Decimal("50000.00")


def test_a_refused_registration_leaves_no_company_behind(new_project, investment):
    project = actions.move_stage(
        actor=investment.users["owner"], project=new_project(), to="signed", facts=SIGNING
    )
    from yimatong.lib.identifiers import uscc_with_check_digit

    uscc = uscc_with_check_digit("91500113MA5U0X9X2")
    with pytest.raises(StaleObject):
        actions.move_stage(
            actor=project.owner,
            project=project,
            to="registered",
            expected_stage="negotiation",
            facts={
                "registered_uscc": uscc,
                "registered_name": "某公司",
                "registered_on": dt.date(2026, 6, 1),
            },
        )
    assert not Organization.objects.filter(uscc=uscc).exists()


def test_someone_who_saw_an_old_stage_is_told_and_nothing_changes(new_project):
    project = new_project()
    actions.move_stage(actor=project.owner, project=project, to="visit")
    with pytest.raises(StaleObject, match="已被移到“考察”"):
        actions.move_stage(actor=project.owner, project=project, to="negotiation", expected_stage="contact")
    assert Project.objects.get(pk=project.pk).stage == "visit"


def test_signing_requires_an_admitting_review_when_the_park_says_so(new_project, investment):
    config = InvestmentSettings.current()
    config.require_admission = True
    config.save()
    ScoreItem.objects.create(
        name="投资强度",
        kind="measured",
        metric="investment_intensity",
        thresholds=[[100, 5], [300, 17]],
        max_points=17,
    )
    veto = ScoreItem.objects.create(name="属于淘汰类产业", kind="veto")
    project = new_project(land_mu=Decimal("200"))
    with pytest.raises(ActionError) as exc:
        actions.move_stage(actor=project.owner, project=project, to="signed", facts=SIGNING)
    assert exc.value.code == "admission_required"
    with pytest.raises(ActionError):
        review_admission(
            actor=project.owner, project=project, judged={}, vetoes={veto.pk: True}, decision="approved"
        )
    review = review_admission(actor=project.owner, project=project, judged={}, vetoes={}, decision="approved")
    # 80,000 万元 over 200 亩 = 400 万元/亩: the 300 threshold is reached, 17 points.
    assert (review.total, review.max_total, review.breakdown[0]["value"]) == (
        Decimal("17"),
        Decimal("17"),
        "400.00",
    )
    assert (
        actions.move_stage(actor=project.owner, project=project, to="signed", facts=SIGNING).stage == "signed"
    )


def test_the_database_refuses_a_signed_project_without_its_facts(new_project):
    project = new_project()
    with pytest.raises(IntegrityError), transaction.atomic():
        Project.objects.filter(pk=project.pk).update(stage="signed")


def test_lights_follow_the_days_without_progress(new_project):
    project = new_project()
    now = timezone.now()
    assert project.light_at(now=now) == "green"
    assert project.light_at(now=now + dt.timedelta(days=61)) == "yellow"
    assert project.light_at(now=now + dt.timedelta(days=91)) == "red"
    annotated = Project.objects.with_light(now=now + dt.timedelta(days=91)).get(pk=project.pk)
    assert annotated.light == "red"


def test_a_project_without_progress_for_six_months_is_archived_once(new_project):
    project = new_project()
    later = timezone.now() + dt.timedelta(days=181)
    assert actions.archive_stale_projects(now=later) == 1
    assert actions.archive_stale_projects(now=later) == 0
    project.refresh_from_db()
    assert project.stage == "on_hold"
    assert "180 天无进展" in project.exit_reason


def test_capital_in_place_is_progress(new_project):
    project = new_project()
    record_capital(
        actor=project.owner, project=project, arrived_on=dt.date(2026, 7, 1), amount=Decimal("1200")
    )
    assert project.capital_in_place() == Decimal("1200")
    assert project.events.filter(kind="capital").count() == 1


def test_a_codename_hides_the_investor_from_everyone_but_the_owner_and_insiders(new_project, investment):
    project = new_project(codename="项目 K")
    project.insiders.set([investment.users["teamlead"]])
    assert project.investor_label(investment.users["owner"]) == "苏州启明抗体药物有限公司"
    assert project.investor_label(investment.users["teamlead"]) == "苏州启明抗体药物有限公司"
    assert project.investor_label(investment.users["leader"]) == "项目 K"
    assert project.investor_label(investment.users["admin"]) == "苏州启明抗体药物有限公司"


def test_project_events_are_append_only(new_project):
    event = new_project().events.first()
    with pytest.raises(TypeError):
        event.save()
